// The MPI communicator in real processes: mpirun starts mpi_dist_check, which checks every
// collective on each rank.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_support.h"

namespace mltrack::dist {
namespace {

using ::mltrack::testing::ProcessOptions;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::RunProcess;
using ::testing::HasSubstr;
using ::testing::Not;

// Variables that would make the child believe it runs under mpirun.
const std::vector<std::string> kLauncherVariables = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                                                     "PMI_RANK"};

ProcessResult RunUnderMpirun(int ranks) {
  ProcessOptions options;
  options.unset_env = kLauncherVariables;
  // --timeout: a hung collective fails the test instead of hanging it.
  return RunProcess({"mpirun", "-np", std::to_string(ranks), "--oversubscribe",
                     "--allow-run-as-root", "--timeout", "60", MPI_DIST_CHECK_BINARY},
                    options);
}

TEST(MpiCommunicator, EveryCollectiveWorksOnTwoRanks) {
  ProcessResult result = RunUnderMpirun(2);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("ok rank 0 of 2 (mpi)"));
  EXPECT_THAT(result.out, HasSubstr("ok rank 1 of 2 (mpi)"));
  EXPECT_THAT(result.err, Not(HasSubstr("FAIL")));
}

// Three ranks: the rank-ordered sum differs from other orders of addition.
TEST(MpiCommunicator, EveryCollectiveWorksOnThreeRanks) {
  ProcessResult result = RunUnderMpirun(3);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (int r = 0; r < 3; ++r) {
    EXPECT_THAT(result.out, HasSubstr("ok rank " + std::to_string(r) + " of 3 (mpi)"));
  }
}

TEST(ProcessCommunicator, WithoutMpirunIsOneRankAndLeavesMpiAlone) {
  ProcessOptions options;
  options.unset_env = kLauncherVariables;
  ProcessResult result = RunProcess({MPI_DIST_CHECK_BINARY}, options);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out, "ok rank 0 of 1 (single)\n");
  EXPECT_EQ(result.err, "");
}

}  // namespace
}  // namespace mltrack::dist
