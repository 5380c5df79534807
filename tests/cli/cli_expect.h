// How the `mlt` end-to-end tests check a finished command: its exact stdout, stderr and exit code
// (cli/cli_util.h states the conventions).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack::testing {

// Success: `out` on stdout, nothing on stderr.
inline void ExpectOutput(const ProcessResult& r, const std::string& out) {
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, out);
}

// A refused request (exit 1) or a failed environment (3): "mlt: error: <message>" and no output.
inline void ExpectError(const ProcessResult& r, int exit_code, const std::string& message) {
  EXPECT_EQ(r.exit_code, exit_code);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "mlt: error: " + message + "\n");
}

// A usage error (exit 2), with the pointer to --help.
inline void ExpectUsageError(const ProcessResult& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "mlt: error: " + message + "\nRun with --help for more information.\n");
}

}  // namespace mltrack::testing
