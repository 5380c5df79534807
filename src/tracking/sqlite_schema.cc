#include "tracking/sqlite_schema.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/sqlite.h"
#include "mltrack/error.h"

namespace mltrack::tracking {
namespace {

// Migration N takes a database from version N-1 to N. Never edit a released migration: add one.
constexpr const char* kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE experiments (
  experiment_id     INTEGER PRIMARY KEY,
  name              TEXT    NOT NULL,
  artifact_location TEXT    NOT NULL,
  lifecycle_stage   TEXT    NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  creation_time     INTEGER NOT NULL,
  last_update_time  INTEGER NOT NULL
);
CREATE UNIQUE INDEX experiments_active_name ON experiments(name)
  WHERE lifecycle_stage = 'active';
CREATE INDEX experiments_name ON experiments(name);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key           TEXT    NOT NULL,
  value         TEXT    NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
  run_uuid        TEXT    NOT NULL UNIQUE,
  experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name            TEXT    NOT NULL,
  user_id         TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  start_time      INTEGER NOT NULL,
  end_time        INTEGER,
  artifact_uri    TEXT    NOT NULL,
  lifecycle_stage TEXT    NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
  deleted_time    INTEGER,
  -- 1 when the run was deleted by deleting its experiment, which restoring it undoes
  deleted_with_experiment INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_experiment_start ON runs(experiment_id, start_time);
CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key    TEXT    NOT NULL,
  value  TEXT    NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE tags (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key    TEXT    NOT NULL,
  value  TEXT    NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metric_keys (
  id  INTEGER PRIMARY KEY,
  key TEXT    NOT NULL UNIQUE
);
-- One B-tree keyed for history reads; an exact duplicate (same run, key, step, timestamp and
-- value) is stored once, as MLflow's primary key does. NaN is value 0 with is_nan 1 here, since
-- key columns cannot be NULL.
CREATE TABLE metrics (
  run_id    INTEGER NOT NULL,
  key_id    INTEGER NOT NULL,
  step      INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value     REAL    NOT NULL,
  is_nan    INTEGER NOT NULL,
  PRIMARY KEY (run_id, key_id, step, timestamp, value, is_nan)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_id    INTEGER NOT NULL,
  key_id    INTEGER NOT NULL,
  step      INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value     REAL,
  PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;
)sql",
    // 2: the model registry (see src/registry/sqlite_registry_store.h). Renaming a model
    // cascades through the foreign keys to its versions, their tags and its aliases; deleting
    // it removes them all. A deleted version stays as a 'Deleted_Internal' row, as in MLflow, so
    // that its number is never handed out again.
    R"sql(
CREATE TABLE registered_models (
  name              TEXT    NOT NULL PRIMARY KEY,
  creation_time     INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description       TEXT    NOT NULL DEFAULT '',
  user_id           TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE model_versions (
  name              TEXT    NOT NULL
                    REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  version           INTEGER NOT NULL,
  creation_time     INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description       TEXT    NOT NULL DEFAULT '',
  user_id           TEXT    NOT NULL DEFAULT '',
  current_stage     TEXT    NOT NULL,
  source            TEXT    NOT NULL,
  run_id            TEXT    NOT NULL DEFAULT '',
  run_link          TEXT    NOT NULL DEFAULT '',
  status            TEXT    NOT NULL,
  status_message    TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_run_id ON model_versions(run_id);
CREATE TABLE registered_model_tags (
  name  TEXT NOT NULL
        REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE model_version_tags (
  name    TEXT    NOT NULL,
  version INTEGER NOT NULL,
  key     TEXT    NOT NULL,
  value   TEXT    NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
    ON UPDATE CASCADE ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
  name    TEXT    NOT NULL
          REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias   TEXT    NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias)
) WITHOUT ROWID;
)sql",
};

constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == kSchemaVersion);

int CurrentVersion(sqlite::Database& db) {
  auto& stmt = db.Prepare("SELECT MAX(version) FROM schema_version");
  stmt.Step();
  return stmt.IsNull(0) ? 0 : static_cast<int>(stmt.Int(0));
}

}  // namespace

void MigrateSchema(sqlite::Database& db, const char* default_artifact_location) {
  db.Transaction([&] {
    db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  });
  for (;;) {
    bool done = false;
    db.Transaction([&] {
      int version = CurrentVersion(db);
      if (version > kSchemaVersion) {
        throw Error(ErrorCode::kInvalidState,
                    fmt::format("database '{}' has schema version {}, newer than the {} this "
                                "mlt understands; upgrade mlt",
                                db.path(), version, kSchemaVersion));
      }
      if (version == kSchemaVersion) {
        done = true;
        return;
      }
      db.Exec(kMigrations[version]);
      db.Prepare("INSERT INTO schema_version(version) VALUES (?)").Bind(1, int64_t{version + 1}).Run();
      if (version == 0) {
        int64_t now = NowMillis();
        db.Prepare(
              "INSERT INTO experiments(experiment_id, name, artifact_location, lifecycle_stage,"
              " creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)")
            .Bind(1, std::string_view(default_artifact_location))
            .Bind(2, now)
            .Bind(3, now)
            .Run();
      }
    });
    if (done) return;
  }
}

}  // namespace mltrack::tracking
