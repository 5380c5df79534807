// Shared test helpers: temporary folders, running a child process, matching mltrack::Error.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mltrack/error.h"

namespace mltrack::testing {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::filesystem::path cwd;                    // empty: inherit
  std::map<std::string, std::string> env;       // set on top of the inherited environment
  std::vector<std::string> unset_env;           // removed from the inherited environment
  std::string stdin_text;
};

// Runs argv[0] (searched in PATH when it has no '/') and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The built `mlt` binary with args, with MLT_/MLFLOW_ tracking variables cleared unless set
// in options.env.
ProcessResult RunMlt(const std::vector<std::string>& args, ProcessOptions options = {});

// Writes `text` to `path`, creating parent folders.
void WriteFile(const std::filesystem::path& path, const std::string& text);
std::string ReadFile(const std::filesystem::path& path);

// A TCP connection to 127.0.0.1:`port` (a blocking socket the caller closes); -1 when refused.
int ConnectLoopback(int port);

// What arrives on `fd` until the peer closes the connection or `limit` passes.
std::string ReadUntilClosed(int fd, std::chrono::milliseconds limit);

}  // namespace mltrack::testing

// Expects `statement` to throw mltrack::Error with `expected_code` and a message matching
// `message_matcher` (a gmock matcher such as HasSubstr("...") or Eq("...")).
#define EXPECT_ERROR(statement, expected_code, message_matcher)                          \
  do {                                                                                   \
    try {                                                                                \
      statement;                                                                         \
      ADD_FAILURE() << "expected mltrack::Error from: " #statement;                      \
    } catch (const ::mltrack::Error& e__) {                                              \
      EXPECT_EQ(::mltrack::ErrorCodeName(e__.code()), ::mltrack::ErrorCodeName(expected_code)) \
          << e__.what();                                                                 \
      EXPECT_THAT(std::string(e__.what()), message_matcher);                             \
    }                                                                                    \
  } while (0)
