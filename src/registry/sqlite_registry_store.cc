#include "registry/sqlite_registry_store.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/page_token.h"
#include "common/sqlite_page.h"
#include "common/text.h"
#include "mltrack/error.h"
#include "registry/registry_search.h"
#include "tracking/sqlite_schema.h"
#include "tracking/validation.h"

namespace mltrack::registry {

using sqlite::Database;
using sqlite::Statement;

namespace {

// The stage of a deleted version's hidden row (MLflow's STAGE_DELETED_INTERNAL).
constexpr std::string_view kDeletedStage = "Deleted_Internal";
constexpr size_t kMaxTagKeyLength = 250;
constexpr size_t kMaxTagValueLength = 5000;
constexpr size_t kMaxAliasLength = 255;

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

void ValidateName(const std::string& name, std::string_view field = "name") {
  if (name.empty()) Invalid(fmt::format("Missing value for required parameter '{}'.", field));
}

// Python's int(): optional sign and surrounding whitespace, then digits.
int64_t ParseVersion(const std::string& version) {
  size_t begin = version.find_first_not_of(" \t\n");
  size_t end = version.find_last_not_of(" \t\n");
  bool ok = begin != std::string::npos;
  int64_t value = 0;
  bool negative = false;
  if (ok) {
    size_t i = begin;
    if (version[i] == '+' || version[i] == '-') negative = version[i++] == '-';
    ok = i <= end && end - i < 18;
    for (; ok && i <= end; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(version[i]))) ok = false;
      else value = value * 10 + (version[i] - '0');
    }
  }
  if (!ok) Invalid(fmt::format("Parameter 'version' must be an integer, got '{}'.", version));
  return negative ? -value : value;
}

void ValidateLength(std::string_view what, size_t limit, const std::string& value) {
  if (value.size() > limit) {
    Invalid(fmt::format("'{}' exceeds the maximum length of {} characters", what, limit));
  }
}

void ValidateTag(const Tag& tag) {
  tracking::ValidateTagName(tag.key);
  ValidateLength("key", kMaxTagKeyLength, tag.key);
  ValidateLength("value", kMaxTagValueLength, tag.value);
}

// MLflow's _validate_model_alias_name, in its order.
void ValidateAlias(const std::string& alias) {
  if (alias.empty()) Invalid("Registered model alias name cannot be empty.");
  for (char c : alias) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      Invalid(fmt::format("Invalid alias name: '{}'. Names may only contain alphanumerics, "
                          "underscores (_), and dashes (-).",
                          alias));
    }
  }
  ValidateLength("Registered model alias name", kMaxAliasLength, alias);
  std::string lower = AsciiLower(alias);
  if (lower == "latest") Invalid("'latest' alias name (case insensitive) is reserved.");
  if (lower.size() > 1 && lower[0] == 'v' &&
      lower.find_first_not_of("0123456789", 1) == std::string::npos) {
    Invalid(fmt::format("Version alias name '{}' is reserved.", alias));
  }
}

// The canonical spelling of a stage given in any case.
std::string CanonicalStage(const std::string& stage) {
  for (const char* canonical : kStages) {
    std::string_view c(canonical);
    if (c.size() == stage.size() &&
        std::equal(c.begin(), c.end(), stage.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return canonical;
    }
  }
  Invalid(fmt::format("Invalid Model Version stage: {}. Value must be one of None, Staging, "
                      "Production, Archived.",
                      stage));
}

[[noreturn]] void NoSuchModel(const std::string& name) {
  throw Error(ErrorCode::kResourceDoesNotExist,
              fmt::format("Registered Model with name={} not found", name));
}

[[noreturn]] void NoSuchVersion(const std::string& name, const std::string& version) {
  throw Error(ErrorCode::kResourceDoesNotExist,
              fmt::format("Model Version (name={}, version={}) not found", name, version));
}

void RequireModel(Database& db, const std::string& name) {
  ValidateName(name);
  auto& stmt = db.Prepare("SELECT 1 FROM registered_models WHERE name = ?");
  stmt.Bind(1, std::string_view(name));
  if (!stmt.Step()) NoSuchModel(name);
}

// Checks that the version exists and is not deleted; returns its number.
int64_t RequireVersion(Database& db, const std::string& name, const std::string& version) {
  ValidateName(name);
  int64_t number = ParseVersion(version);
  auto& stmt = db.Prepare(
      "SELECT 1 FROM model_versions WHERE name = ? AND version = ? AND current_stage != ?");
  stmt.Bind(1, std::string_view(name)).Bind(2, number).Bind(3, kDeletedStage);
  if (!stmt.Step()) NoSuchVersion(name, version);
  return number;
}

constexpr const char* kVersionColumns =
    "mv.name, mv.version, mv.creation_time, mv.last_updated_time, mv.user_id, mv.current_stage, "
    "mv.description, mv.source, mv.run_id, mv.run_link, mv.status, mv.status_message";

// A version row with its tags and aliases.
ModelVersion ReadVersion(Database& db, Statement& stmt) {
  ModelVersion mv;
  mv.name = stmt.Text(0);
  int64_t number = stmt.Int(1);
  mv.version = std::to_string(number);
  mv.creation_timestamp = stmt.Int(2);
  mv.last_updated_timestamp = stmt.Int(3);
  mv.user_id = stmt.Text(4);
  mv.current_stage = stmt.Text(5);
  mv.description = stmt.Text(6);
  mv.source = stmt.Text(7);
  mv.run_id = stmt.Text(8);
  mv.run_link = stmt.Text(9);
  mv.status = stmt.Text(10);
  mv.status_message = stmt.Text(11);
  auto& tags = db.Prepare(
      "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key");
  tags.Bind(1, std::string_view(mv.name)).Bind(2, number);
  while (tags.Step()) mv.tags.push_back({tags.Text(0), tags.Text(1)});
  auto& aliases = db.Prepare(
      "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias");
  aliases.Bind(1, std::string_view(mv.name)).Bind(2, number);
  while (aliases.Step()) mv.aliases.push_back(aliases.Text(0));
  return mv;
}

ModelVersion LoadVersion(Database& db, const std::string& name, int64_t number) {
  auto& stmt = db.Prepare(fmt::format(
      "SELECT {} FROM model_versions mv WHERE mv.name = ? AND mv.version = ?", kVersionColumns));
  stmt.Bind(1, std::string_view(name)).Bind(2, number);
  if (!stmt.Step()) NoSuchVersion(name, std::to_string(number));
  return ReadVersion(db, stmt);
}

// The highest-numbered version of each stage, in the order of kStages.
std::vector<ModelVersion> LatestVersions(Database& db, const std::string& name) {
  std::map<std::string, int64_t> latest;
  auto& stmt = db.Prepare(
      "SELECT current_stage, MAX(version) FROM model_versions WHERE name = ? "
      "AND current_stage != ? GROUP BY current_stage");
  stmt.Bind(1, std::string_view(name)).Bind(2, kDeletedStage);
  while (stmt.Step()) latest[stmt.Text(0)] = stmt.Int(1);
  std::vector<ModelVersion> versions;
  for (const char* stage : kStages) {
    auto it = latest.find(stage);
    if (it != latest.end()) versions.push_back(LoadVersion(db, name, it->second));
  }
  return versions;
}

RegisteredModel ReadModel(Database& db, Statement& stmt) {
  RegisteredModel rm;
  rm.name = stmt.Text(0);
  rm.creation_timestamp = stmt.Int(1);
  rm.last_updated_timestamp = stmt.Int(2);
  rm.description = stmt.Text(3);
  rm.user_id = stmt.Text(4);
  auto& tags = db.Prepare("SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key");
  tags.Bind(1, std::string_view(rm.name));
  while (tags.Step()) rm.tags.push_back({tags.Text(0), tags.Text(1)});
  auto& aliases = db.Prepare(
      "SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias");
  aliases.Bind(1, std::string_view(rm.name));
  while (aliases.Step()) rm.aliases.push_back({aliases.Text(0), std::to_string(aliases.Int(1))});
  rm.latest_versions = LatestVersions(db, rm.name);
  return rm;
}

constexpr const char* kModelColumns =
    "rm.name, rm.creation_time, rm.last_updated_time, rm.description, rm.user_id";

RegisteredModel LoadModel(Database& db, const std::string& name) {
  ValidateName(name);
  Statement stmt = db.PrepareUncached(
      fmt::format("SELECT {} FROM registered_models rm WHERE rm.name = ?", kModelColumns));
  stmt.Bind(1, std::string_view(name));
  if (!stmt.Step()) NoSuchModel(name);
  return ReadModel(db, stmt);
}

void TouchModel(Database& db, const std::string& name, int64_t now) {
  db.Prepare("UPDATE registered_models SET last_updated_time = ? WHERE name = ?")
      .Bind(1, now)
      .Bind(2, std::string_view(name))
      .Run();
}

}  // namespace

// --- connections -----------------------------------------------------------------------------

SqliteRegistryStore::SqliteRegistryStore(std::string db_path, std::string artifact_root_uri)
    : db_path_(std::move(db_path)), writer_(std::make_unique<Database>(db_path_)) {
  tracking::MigrateSchema(*writer_, (artifact_root_uri + "/0").c_str());
}

SqliteRegistryStore::~SqliteRegistryStore() = default;

void SqliteRegistryStore::Write(const std::function<void(Database&)>& body) {
  std::lock_guard lock(write_mutex_);
  writer_->Transaction([&] { body(*writer_); });
}

void SqliteRegistryStore::Read(const std::function<void(Database&)>& body) {
  std::unique_ptr<Database> db;
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      db = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!db) db = std::make_unique<Database>(db_path_);
  struct Return {
    SqliteRegistryStore& store;
    std::unique_ptr<Database>& db;
    ~Return() {
      std::lock_guard lock(store.pool_mutex_);
      store.pool_.push_back(std::move(db));
    }
  } give_back{*this, db};
  Database& connection = *db;
  connection.ReadTransaction([&] { body(connection); });
}

// --- registered models -----------------------------------------------------------------------

RegisteredModel SqliteRegistryStore::CreateRegisteredModel(const std::string& name,
                                                           const std::vector<Tag>& tags,
                                                           const std::string& description) {
  ValidateName(name);
  for (const Tag& tag : tags) ValidateTag(tag);
  RegisteredModel created;
  Write([&](Database& db) {
    auto& exists = db.Prepare("SELECT 1 FROM registered_models WHERE name = ?");
    exists.Bind(1, std::string_view(name));
    if (exists.Step()) {
      throw Error(ErrorCode::kResourceAlreadyExists,
                  fmt::format("Registered Model (name={}) already exists.", name));
    }
    int64_t now = NowMillis();
    db.Prepare(
          "INSERT INTO registered_models(name, creation_time, last_updated_time, description)"
          " VALUES (?, ?, ?, ?)")
        .Bind(1, std::string_view(name))
        .Bind(2, now)
        .Bind(3, now)
        .Bind(4, std::string_view(description))
        .Run();
    for (const Tag& tag : tags) {  // a repeated key keeps its last value, as MLflow
      db.Prepare(
            "INSERT INTO registered_model_tags(name, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(name, key) DO UPDATE SET value = excluded.value")
          .Bind(1, std::string_view(name))
          .Bind(2, std::string_view(tag.key))
          .Bind(3, std::string_view(tag.value))
          .Run();
    }
    created = LoadModel(db, name);
  });
  return created;
}

RegisteredModel SqliteRegistryStore::RenameRegisteredModel(const std::string& name,
                                                           const std::string& new_name) {
  ValidateName(new_name, "new_name");
  RegisteredModel renamed;
  Write([&](Database& db) {
    RequireModel(db, name);
    if (new_name != name) {
      auto& taken = db.Prepare("SELECT 1 FROM registered_models WHERE name = ?");
      taken.Bind(1, std::string_view(new_name));
      if (taken.Step()) {
        throw Error(ErrorCode::kResourceAlreadyExists,
                    fmt::format("Registered Model (name={}) already exists.", new_name));
      }
    }
    int64_t now = NowMillis();
    // The foreign keys carry the new name to versions, their tags and the aliases.
    db.Prepare("UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?")
        .Bind(1, std::string_view(new_name))
        .Bind(2, now)
        .Bind(3, std::string_view(name))
        .Run();
    db.Prepare("UPDATE model_versions SET last_updated_time = ? WHERE name = ?")
        .Bind(1, now)
        .Bind(2, std::string_view(new_name))
        .Run();
    renamed = LoadModel(db, new_name);
  });
  return renamed;
}

RegisteredModel SqliteRegistryStore::UpdateRegisteredModel(const std::string& name,
                                                           const std::string& description) {
  RegisteredModel updated;
  Write([&](Database& db) {
    RequireModel(db, name);
    db.Prepare("UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?")
        .Bind(1, std::string_view(description))
        .Bind(2, NowMillis())
        .Bind(3, std::string_view(name))
        .Run();
    updated = LoadModel(db, name);
  });
  return updated;
}

void SqliteRegistryStore::DeleteRegisteredModel(const std::string& name) {
  Write([&](Database& db) {
    RequireModel(db, name);
    // Cascades to versions, their tags, the model's tags and aliases.
    db.Prepare("DELETE FROM registered_models WHERE name = ?").Bind(1, std::string_view(name)).Run();
  });
}

RegisteredModel SqliteRegistryStore::GetRegisteredModel(const std::string& name) {
  RegisteredModel model;
  Read([&](Database& db) { model = LoadModel(db, name); });
  return model;
}

Page<RegisteredModel> SqliteRegistryStore::SearchRegisteredModels(const RegistrySearch& search) {
  ValidateSearchMaxResults(search.max_results, kMaxRegisteredModelResults);
  sqlite::SqlFragment where = CompileRegisteredModelFilter(search.filter);
  std::string order = CompileRegisteredModelOrder(search.order_by);
  int64_t offset = DecodePageToken(search.page_token);
  std::string sql = fmt::format("SELECT {} FROM registered_models rm WHERE {} ORDER BY {} "
                                "LIMIT ? OFFSET ?",
                                kModelColumns, where.sql, order);
  Page<RegisteredModel> page;
  Read([&](Database& db) {
    page = {};
    Statement stmt = db.PrepareUncached(sql);
    stmt.BindAll(where.binds);
    int next = static_cast<int>(where.binds.size()) + 1;
    stmt.Bind(next, int64_t{search.max_results} + 1).Bind(next + 1, offset);
    page = sqlite::ReadPage<RegisteredModel>(stmt, search.max_results, offset,
                                             [&](Statement& row) { return ReadModel(db, row); });
  });
  return page;
}

std::vector<ModelVersion> SqliteRegistryStore::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  std::vector<std::string> wanted;
  for (const std::string& stage : stages) wanted.push_back(CanonicalStage(stage));
  std::vector<ModelVersion> versions;
  Read([&](Database& db) {
    RequireModel(db, name);
    versions.clear();
    for (ModelVersion& mv : LatestVersions(db, name)) {
      if (wanted.empty() ||
          std::find(wanted.begin(), wanted.end(), mv.current_stage) != wanted.end()) {
        versions.push_back(std::move(mv));
      }
    }
  });
  return versions;
}

void SqliteRegistryStore::SetRegisteredModelTag(const std::string& name, const Tag& tag) {
  ValidateName(name);
  ValidateTag(tag);
  Write([&](Database& db) {
    RequireModel(db, name);
    db.Prepare(
          "INSERT INTO registered_model_tags(name, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT(name, key) DO UPDATE SET value = excluded.value")
        .Bind(1, std::string_view(name))
        .Bind(2, std::string_view(tag.key))
        .Bind(3, std::string_view(tag.value))
        .Run();
  });
}

void SqliteRegistryStore::DeleteRegisteredModelTag(const std::string& name,
                                                   const std::string& key) {
  ValidateName(name);
  tracking::ValidateTagName(key);
  Write([&](Database& db) {
    RequireModel(db, name);
    // A missing tag is not an error (MLflow).
    db.Prepare("DELETE FROM registered_model_tags WHERE name = ? AND key = ?")
        .Bind(1, std::string_view(name))
        .Bind(2, std::string_view(key))
        .Run();
  });
}

// --- model versions --------------------------------------------------------------------------

ModelVersion SqliteRegistryStore::CreateModelVersion(const ModelVersionCreate& create) {
  ValidateName(create.name);
  for (const Tag& tag : create.tags) ValidateTag(tag);
  ModelVersion created;
  Write([&](Database& db) {
    RequireModel(db, create.name);
    // Inside BEGIN IMMEDIATE: no other connection can insert between this read and the insert.
    auto& max = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE name = ?");
    max.Bind(1, std::string_view(create.name));
    max.Step();
    int64_t number = max.Int(0) + 1;
    max.Finish();
    int64_t now = NowMillis();
    db.Prepare(
          "INSERT INTO model_versions(name, version, creation_time, last_updated_time,"
          " description, current_stage, source, run_id, run_link, status)"
          " VALUES (?, ?, ?, ?, ?, 'None', ?, ?, ?, 'READY')")
        .Bind(1, std::string_view(create.name))
        .Bind(2, number)
        .Bind(3, now)
        .Bind(4, now)
        .Bind(5, std::string_view(create.description))
        .Bind(6, std::string_view(create.source))
        .Bind(7, std::string_view(create.run_id))
        .Bind(8, std::string_view(create.run_link))
        .Run();
    for (const Tag& tag : create.tags) {
      db.Prepare(
            "INSERT INTO model_version_tags(name, version, key, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name, version, key) DO UPDATE SET value = excluded.value")
          .Bind(1, std::string_view(create.name))
          .Bind(2, number)
          .Bind(3, std::string_view(tag.key))
          .Bind(4, std::string_view(tag.value))
          .Run();
    }
    TouchModel(db, create.name, now);
    created = LoadVersion(db, create.name, number);
  });
  return created;
}

ModelVersion SqliteRegistryStore::UpdateModelVersion(const std::string& name,
                                                     const std::string& version,
                                                     const std::string& description) {
  ModelVersion updated;
  Write([&](Database& db) {
    int64_t number = RequireVersion(db, name, version);
    db.Prepare(
          "UPDATE model_versions SET description = ?, last_updated_time = ? "
          "WHERE name = ? AND version = ?")
        .Bind(1, std::string_view(description))
        .Bind(2, NowMillis())
        .Bind(3, std::string_view(name))
        .Bind(4, number)
        .Run();
    updated = LoadVersion(db, name, number);
  });
  return updated;
}

ModelVersion SqliteRegistryStore::TransitionModelVersionStage(const std::string& name,
                                                              const std::string& version,
                                                              const std::string& stage,
                                                              bool archive_existing_versions) {
  std::string canonical = CanonicalStage(stage);
  if (archive_existing_versions && canonical != "Staging" && canonical != "Production") {
    Invalid(fmt::format("Model version transition cannot archive existing model versions "
                        "because '{}' is not an Active stage. Valid stages are ['Staging', "
                        "'Production']",
                        stage));
  }
  ModelVersion moved;
  Write([&](Database& db) {
    int64_t number = RequireVersion(db, name, version);
    int64_t now = NowMillis();
    if (archive_existing_versions) {
      db.Prepare(
            "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? "
            "WHERE name = ? AND version != ? AND current_stage = ?")
          .Bind(1, now)
          .Bind(2, std::string_view(name))
          .Bind(3, number)
          .Bind(4, std::string_view(canonical))
          .Run();
    }
    db.Prepare(
          "UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
          "WHERE name = ? AND version = ?")
        .Bind(1, std::string_view(canonical))
        .Bind(2, now)
        .Bind(3, std::string_view(name))
        .Bind(4, number)
        .Run();
    TouchModel(db, name, now);
    moved = LoadVersion(db, name, number);
  });
  return moved;
}

void SqliteRegistryStore::DeleteModelVersion(const std::string& name, const std::string& version) {
  Write([&](Database& db) {
    int64_t number = RequireVersion(db, name, version);
    int64_t now = NowMillis();
    db.Prepare("DELETE FROM registered_model_aliases WHERE name = ? AND version = ?")
        .Bind(1, std::string_view(name))
        .Bind(2, number)
        .Run();
    db.Prepare("DELETE FROM model_version_tags WHERE name = ? AND version = ?")
        .Bind(1, std::string_view(name))
        .Bind(2, number)
        .Run();
    // The row stays, redacted, so that the number is not handed out again (MLflow).
    db.Prepare(
          "UPDATE model_versions SET current_stage = ?, last_updated_time = ?, description = '',"
          " user_id = '', source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID',"
          " run_link = 'REDACTED-RUN-LINK', status_message = '' WHERE name = ? AND version = ?")
        .Bind(1, kDeletedStage)
        .Bind(2, now)
        .Bind(3, std::string_view(name))
        .Bind(4, number)
        .Run();
    TouchModel(db, name, now);
  });
}

ModelVersion SqliteRegistryStore::GetModelVersion(const std::string& name,
                                                  const std::string& version) {
  ModelVersion mv;
  Read([&](Database& db) { mv = LoadVersion(db, name, RequireVersion(db, name, version)); });
  return mv;
}

Page<ModelVersion> SqliteRegistryStore::SearchModelVersions(const RegistrySearch& search) {
  ValidateSearchMaxResults(search.max_results, kMaxModelVersionResults);
  sqlite::SqlFragment where = CompileModelVersionFilter(search.filter);
  std::string order = CompileModelVersionOrder(search.order_by);
  int64_t offset = DecodePageToken(search.page_token);
  std::string sql = fmt::format("SELECT {} FROM model_versions mv WHERE mv.current_stage != ? "
                                "AND {} ORDER BY {} LIMIT ? OFFSET ?",
                                kVersionColumns, where.sql, order);
  Page<ModelVersion> page;
  Read([&](Database& db) {
    page = {};
    Statement stmt = db.PrepareUncached(sql);
    stmt.Bind(1, kDeletedStage);
    stmt.BindAll(where.binds, 2);
    int next = static_cast<int>(where.binds.size()) + 2;
    stmt.Bind(next, int64_t{search.max_results} + 1).Bind(next + 1, offset);
    page = sqlite::ReadPage<ModelVersion>(stmt, search.max_results, offset,
                                          [&](Statement& row) { return ReadVersion(db, row); });
  });
  return page;
}

std::string SqliteRegistryStore::GetModelVersionDownloadUri(const std::string& name,
                                                            const std::string& version) {
  return GetModelVersion(name, version).source;
}

void SqliteRegistryStore::SetModelVersionTag(const std::string& name, const std::string& version,
                                             const Tag& tag) {
  ValidateName(name);
  ParseVersion(version);
  ValidateTag(tag);
  Write([&](Database& db) {
    int64_t number = RequireVersion(db, name, version);
    db.Prepare(
          "INSERT INTO model_version_tags(name, version, key, value) VALUES (?, ?, ?, ?) "
          "ON CONFLICT(name, version, key) DO UPDATE SET value = excluded.value")
        .Bind(1, std::string_view(name))
        .Bind(2, number)
        .Bind(3, std::string_view(tag.key))
        .Bind(4, std::string_view(tag.value))
        .Run();
  });
}

void SqliteRegistryStore::DeleteModelVersionTag(const std::string& name,
                                                const std::string& version,
                                                const std::string& key) {
  ValidateName(name);
  ParseVersion(version);
  tracking::ValidateTagName(key);
  Write([&](Database& db) {
    int64_t number = RequireVersion(db, name, version);
    db.Prepare("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?")
        .Bind(1, std::string_view(name))
        .Bind(2, number)
        .Bind(3, std::string_view(key))
        .Run();
  });
}

// --- aliases ---------------------------------------------------------------------------------

void SqliteRegistryStore::SetRegisteredModelAlias(const std::string& name,
                                                  const std::string& alias,
                                                  const std::string& version) {
  ValidateName(name);
  ValidateAlias(alias);
  ParseVersion(version);
  Write([&](Database& db) {
    int64_t number = RequireVersion(db, name, version);
    db.Prepare(
          "INSERT INTO registered_model_aliases(name, alias, version) VALUES (?, ?, ?) "
          "ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version")
        .Bind(1, std::string_view(name))
        .Bind(2, std::string_view(alias))
        .Bind(3, number)
        .Run();
  });
}

void SqliteRegistryStore::DeleteRegisteredModelAlias(const std::string& name,
                                                     const std::string& alias) {
  ValidateName(name);
  ValidateAlias(alias);
  Write([&](Database& db) {
    RequireModel(db, name);
    db.Prepare("DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?")
        .Bind(1, std::string_view(name))
        .Bind(2, std::string_view(alias))
        .Run();
  });
}

ModelVersion SqliteRegistryStore::GetModelVersionByAlias(const std::string& name,
                                                         const std::string& alias) {
  ValidateName(name);
  ValidateAlias(alias);
  ModelVersion mv;
  Read([&](Database& db) {
    auto& stmt =
        db.Prepare("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?");
    stmt.Bind(1, std::string_view(name)).Bind(2, std::string_view(alias));
    if (!stmt.Step()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Registered model alias {} not found.", alias));
    }
    int64_t number = stmt.Int(0);
    stmt.Finish();
    mv = LoadVersion(db, name, number);
  });
  return mv;
}

}  // namespace mltrack::registry
