// The SQLite tracking schema and its numbered migrations.
//
// Tables (aliases used by the search compiler in brackets):
//   experiments [e](experiment_id INTEGER PK, name, artifact_location, lifecycle_stage,
//                   creation_time, last_update_time); name unique among active experiments
//   experiment_tags(experiment_id, key, value)
//   runs [r](id INTEGER PK -- internal, run_uuid TEXT UNIQUE, experiment_id, name, user_id,
//            status, start_time, end_time NULL, artifact_uri, lifecycle_stage, deleted_time NULL,
//            deleted_with_experiment)
//   params(run_id -> runs.id, key, value)         tags(run_id -> runs.id, key, value)
//   metric_keys(id INTEGER PK, key UNIQUE)        -- interned metric names
//   metrics(run_id, key_id, step, timestamp, value, is_nan)  -- append-only history
//   latest_metrics(run_id, key_id, step, timestamp, value)   -- one row per (run, key)
// Migration 2 adds the model registry: registered_models, model_versions,
// registered_model_tags, model_version_tags, registered_model_aliases (see
// src/registry/sqlite_registry_store.h).
// Metric values: SQLite cannot store NaN. In latest_metrics NaN is a NULL value; in metrics, whose
// key columns cannot be NULL, it is value 0 with is_nan 1. +-Inf are stored as REAL.
// Invariant: latest_metrics holds the (step, timestamp, value)-greatest row of metrics per
// (run, key), where NaN orders below every number; both tables change in one transaction.
#pragma once

namespace mltrack::sqlite {
class Database;
}

namespace mltrack::tracking {

// The schema version this build writes. A database with a newer version is refused.
inline constexpr int kSchemaVersion = 2;

// Brings the database up to kSchemaVersion, applying each missing migration in its own
// transaction, and creates the Default experiment (id 0) with `default_artifact_location`.
// Safe to call from several processes at once.
void MigrateSchema(sqlite::Database& db, const char* default_artifact_location);

}  // namespace mltrack::tracking
