#include "common/sqlite.h"

#include <sqlite3.h>

#include <random>
#include <thread>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::sqlite {
namespace {

bool IsBusy(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

[[noreturn]] void Fail(sqlite3* db, int rc, std::string_view what) {
  if (IsBusy(rc)) throw Busy{};
  throw Error(ErrorCode::kInternalError,
              fmt::format("sqlite: {}: {}", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) Fail(db, rc, fmt::format("preparing '{}'", sql));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::Bind(int index, const SqlValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          BindNull(index);
        } else if constexpr (std::is_same_v<T, std::string>) {
          Bind(index, std::string_view(v));
        } else {
          Bind(index, v);
        }
      },
      value);
  return *this;
}

Statement& Statement::BindAll(const std::vector<SqlValue>& values, int first_index) {
  for (size_t i = 0; i < values.size(); ++i) Bind(first_index + static_cast<int>(i), values[i]);
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(db_, rc, "executing statement");
}

void Statement::Run() {
  while (Step()) {
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Finish() { sqlite3_reset(stmt_); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

Database::Database(const std::string& path) : path_(path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot open database '{}': {}", path, message));
  }
  sqlite3_extended_result_codes(db_, 1);
  // The busy handler waits for short lock holds inside SQLite; longer contention surfaces as
  // Busy and is retried by Transaction() with back-off.
  sqlite3_busy_timeout(db_, 2000);
  try {
    // Switching to WAL needs a moment of exclusive access; retry while another process holds it.
    RunWithRetries(nullptr, [&] { Exec("PRAGMA journal_mode=WAL"); },
                   std::chrono::seconds(30));
    // NORMAL in WAL mode: a committed transaction survives a process crash; only an OS crash or
    // power loss can lose the last transactions (never corrupting the database).
    Exec("PRAGMA synchronous=NORMAL");
    Exec("PRAGMA foreign_keys=ON");
    Exec("PRAGMA temp_store=MEMORY");
    // Searches touch a few index pages per run; a 32 MiB page cache (allocated as used) keeps a
    // 10,000-run experiment in memory.
    Exec("PRAGMA cache_size=-32768");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

void Database::Exec(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    if (IsBusy(rc)) throw Busy{};
    throw Error(ErrorCode::kInternalError, fmt::format("sqlite: {}", detail));
  }
}

Statement& Database::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  } else {
    it->second->Reset();
  }
  return *it->second;
}

Statement Database::PrepareUncached(std::string_view sql) { return Statement(db_, sql); }

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int Database::Changes() const { return sqlite3_changes(db_); }

void Database::Transaction(const std::function<void()>& body, std::chrono::milliseconds max_wait) {
  RunWithRetries("BEGIN IMMEDIATE", body, max_wait);
}

void Database::ReadTransaction(const std::function<void()>& body,
                               std::chrono::milliseconds max_wait) {
  RunWithRetries("BEGIN DEFERRED", body, max_wait);
}

void Database::RunWithRetries(const char* begin_sql, const std::function<void()>& body,
                              std::chrono::milliseconds max_wait) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + max_wait;
  thread_local std::minstd_rand jitter(std::random_device{}());
  auto backoff = std::chrono::microseconds(500);
  for (;;) {
    bool begun = false;
    try {
      if (begin_sql) {
        Exec(begin_sql);
        begun = true;
      }
      body();
      FinishStatements();
      if (begun) Exec("COMMIT");
      return;
    } catch (const Busy&) {
      FinishStatements();
      if (begun) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      if (Clock::now() >= deadline) {
        throw Error(ErrorCode::kTemporarilyUnavailable,
                    fmt::format("database '{}' stayed locked by other writers for {} ms", path_,
                                max_wait.count()));
      }
      auto sleep = backoff + std::chrono::microseconds(jitter() % (backoff.count() + 1));
      std::this_thread::sleep_for(sleep);
      backoff = std::min(backoff * 2, std::chrono::microseconds(50'000));
    } catch (...) {
      FinishStatements();
      if (begun) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

void Database::FinishStatements() {
  for (auto& [sql, stmt] : cache_) stmt->Finish();
}

}  // namespace mltrack::sqlite
