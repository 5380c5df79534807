// RAII for sqlite3 connections and prepared statements. The only file that includes <sqlite3.h>
// is sqlite.cc; everything else speaks in Database, Statement and SqlValue.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace mltrack::sqlite {

// A value bound to a statement parameter. Doubles that are NaN must not be bound: SQLite turns
// NaN into NULL, so callers encode NaN explicitly.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// A fragment of SQL text with its '?' parameters, in order. User text only ever enters SQL as a
// bound parameter, never spliced into `sql`.
struct SqlFragment {
  std::string sql;
  std::vector<SqlValue> binds;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const SqlValue& value);
  Statement& BindNull(int index);
  Statement& BindAll(const std::vector<SqlValue>& values, int first_index = 1);

  // Steps once: true when a row is available, false when done. Throws on error; a busy or locked
  // database throws sqlite::Busy so that the caller can retry the whole transaction.
  bool Step();
  // Runs to completion, ignoring rows.
  void Run();
  // Resets for another execution and clears the bindings.
  void Reset();
  // Ends an execution that stopped before its last row, releasing its read snapshot.
  void Finish();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Thrown for SQLITE_BUSY / SQLITE_LOCKED; Database::Transaction retries on it.
struct Busy {};

class Database {
 public:
  // Opens (creating if needed) the database file and applies the connection settings:
  // WAL journal, synchronous=NORMAL, foreign keys on, a busy timeout.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void Exec(std::string_view sql);
  // A cached prepared statement for this SQL text, reset and ready to bind. Valid until the
  // connection closes; not reentrant for the same SQL text.
  Statement& Prepare(const std::string& sql);
  // A statement that is not cached, for SQL text that varies from call to call (searches), so
  // that the cache stays bounded. Finalized when it goes out of scope.
  Statement PrepareUncached(std::string_view sql);
  int64_t LastInsertRowId() const;
  int Changes() const;

  // Cached statements are finished when each transaction ends, so that no half-read statement
  // pins an old snapshot of the database. Run every read inside a (Read)Transaction.
  //
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT. When another connection holds the write lock
  // (Busy), rolls back and retries with bounded, jittered back-off, up to `max_wait` in all, then
  // throws Error(kTemporarilyUnavailable). Any other exception rolls back and propagates.
  void Transaction(const std::function<void()>& body,
                   std::chrono::milliseconds max_wait = std::chrono::seconds(60));
  // Runs `body` in a read transaction (BEGIN DEFERRED) so that it sees one snapshot, with the
  // same retries.
  void ReadTransaction(const std::function<void()>& body,
                       std::chrono::milliseconds max_wait = std::chrono::seconds(60));

  const std::string& path() const { return path_; }
  // Ends every cached statement's current execution (see the note above Transaction).
  void FinishStatements();

 private:
  void RunWithRetries(const char* begin_sql, const std::function<void()>& body,
                      std::chrono::milliseconds max_wait);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

}  // namespace mltrack::sqlite
