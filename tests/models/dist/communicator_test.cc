#include "models/dist/communicator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace mltrack::dist {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::IsEmpty;
using Bytes = std::vector<std::byte>;

Bytes ToBytes(const std::string& text) {
  Bytes bytes(text.size());
  if (!text.empty()) std::memcpy(bytes.data(), text.data(), text.size());
  return bytes;
}

// RunThreaded, but a hang fails the test (by aborting the process) instead of blocking ctest.
void RunThreadedWithin(std::chrono::seconds limit, int ranks,
                       const std::function<void(Communicator&)>& body) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::thread runner([&] {
    try {
      RunThreaded(ranks, body);
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  if (finished.wait_for(limit) != std::future_status::ready) {
    std::cerr << "RunThreaded did not return within " << limit.count() << " s" << std::endl;
    std::abort();
  }
  runner.join();
  finished.get();
}

void RunRanks(int ranks, const std::function<void(Communicator&)>& body) {
  RunThreadedWithin(std::chrono::seconds(20), ranks, body);
}

// --- single rank ------------------------------------------------------------------------------

TEST(SingleCommunicator, IsOneRankWhoseCollectivesAreCopies) {
  std::unique_ptr<Communicator> comm = MakeSingleCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->kind(), "single");

  std::vector<double> values = {1e16, 1, -0.0};
  comm->AllreduceSum(std::span<double>(values));
  comm->AllreduceMax(std::span<double>(values));
  comm->AllreduceMin(std::span<double>(values));
  EXPECT_THAT(values, ElementsAre(1e16, 1, 0.0));
  EXPECT_TRUE(std::signbit(values[2]));
  std::vector<int64_t> ints = {-3, 4};
  comm->AllreduceSum(std::span<int64_t>(ints));
  EXPECT_THAT(ints, ElementsAre(-3, 4));

  Bytes bytes = ToBytes("abc");
  comm->Broadcast(bytes, 0);
  EXPECT_EQ(bytes, ToBytes("abc"));
  EXPECT_ERROR(comm->Broadcast(bytes, 1), ErrorCode::kInvalidParameterValue,
               Eq("Broadcast: root 1 is not a rank (0 .. 0)"));

  std::vector<size_t> counts = {7, 7};
  EXPECT_EQ(comm->AllgatherV(bytes, &counts), ToBytes("abc"));
  EXPECT_THAT(counts, ElementsAre(3u));
  EXPECT_THAT(comm->AllgatherV({}, &counts), IsEmpty());
  EXPECT_THAT(counts, ElementsAre(0u));

  EXPECT_THAT(comm->AlltoallV({ToBytes("self")}), ElementsAre(ToBytes("self")));
  EXPECT_ERROR(comm->AlltoallV({{}, {}}), ErrorCode::kInvalidParameterValue,
               Eq("AlltoallV: send has 2 entries but the group has 1 ranks"));
  comm->Barrier();
}

TEST(ProcessCommunicator, WithoutMpirunIsTheSameSingleRank) {
  // ctest does not run this under mpirun; the variables would make it initialise MPI.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) unsetenv(name);
  EXPECT_FALSE(LaunchedByMpi());
  Communicator& comm = ProcessCommunicator();
  EXPECT_EQ(&comm, &ProcessCommunicator());
  EXPECT_EQ(comm.kind(), "single");
  EXPECT_EQ(comm.size(), 1);
}

TEST(LaunchedByMpi, ReadsTheLaunchersVariables) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    for (const char* other : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) unsetenv(other);
    EXPECT_FALSE(LaunchedByMpi());
    setenv(name, "0", 1);
    EXPECT_TRUE(LaunchedByMpi()) << name;
    unsetenv(name);
  }
}

// --- threads: every collective on 1 .. 4 ranks ------------------------------------------------

class Threaded : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Ranks, Threaded, ::testing::Values(1, 2, 3, 4));

// Rank r's element i: magnitudes chosen so that the sum depends on the order of addition.
double Term(int r, size_t i) {
  static const double kTerms[] = {1e16, 1.0, -1e16, 1.0, 0.1, 1e-3};
  return kTerms[(static_cast<size_t>(r) + i) % 6] * (1 + static_cast<double>(i % 3));
}

double RankOrderedSum(int ranks, size_t i) {
  double sum = Term(0, i);
  for (int r = 1; r < ranks; ++r) sum += Term(r, i);
  return sum;
}

TEST(ThreadedOrder, TheTestTermsDependOnTheOrderOfAddition) {
  // Rank order ((1e16 + 1) + -1e16) + 1 = 1; the reverse order gives 0.
  EXPECT_EQ(RankOrderedSum(4, 0), 1.0);
  EXPECT_EQ(((Term(3, 0) + Term(2, 0)) + Term(1, 0)) + Term(0, 0), 0.0);
}

TEST_P(Threaded, RanksAreDistinctAndKindIsThreads) {
  const int ranks = GetParam();
  std::mutex mutex;
  std::vector<int> seen;
  RunRanks(ranks, [&](Communicator& comm) {
    EXPECT_EQ(comm.size(), ranks);
    EXPECT_EQ(comm.kind(), "threads");
    std::lock_guard lock(mutex);
    seen.push_back(comm.rank());
  });
  std::sort(seen.begin(), seen.end());
  std::vector<int> expected(static_cast<size_t>(ranks));
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(seen, expected);
}

TEST_P(Threaded, AllreduceSumAddsInRankOrderWithTheSameBitsOnEveryRank) {
  const int ranks = GetParam();
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}}) {
    std::vector<std::vector<double>> results(static_cast<size_t>(ranks));
    RunRanks(ranks, [&](Communicator& comm) {
      std::vector<double> values(n);
      for (size_t i = 0; i < n; ++i) values[i] = Term(comm.rank(), i);
      comm.AllreduceSum(std::span<double>(values));
      results[static_cast<size_t>(comm.rank())] = values;
    });
    for (int r = 0; r < ranks; ++r) {
      const auto& got = results[static_cast<size_t>(r)];
      ASSERT_EQ(got.size(), n);
      for (size_t i = 0; i < n; ++i) {
        double expected = RankOrderedSum(ranks, i);
        EXPECT_EQ(std::memcmp(&got[i], &expected, sizeof expected), 0)
            << "rank " << r << " element " << i << ": " << got[i] << " vs " << expected;
      }
      if (n > 0) {
        EXPECT_EQ(std::memcmp(got.data(), results[0].data(), n * sizeof(double)), 0);
      }
    }
  }
}

TEST_P(Threaded, IntegerSumMaxAndMin) {
  const int ranks = GetParam();
  RunRanks(ranks, [&](Communicator& comm) {
    for (size_t n : {size_t{0}, size_t{3}, size_t{100}}) {
      std::vector<int64_t> ints(n);
      std::vector<double> highs(n), lows(n);
      for (size_t i = 0; i < n; ++i) {
        ints[i] = (int64_t{1} << 40) * comm.rank() - static_cast<int64_t>(i);
        highs[i] = lows[i] = static_cast<double>((comm.rank() * 7 + static_cast<int>(i)) % 5) - 2;
      }
      comm.AllreduceSum(std::span<int64_t>(ints));
      comm.AllreduceMax(std::span<double>(highs));
      comm.AllreduceMin(std::span<double>(lows));
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(ints[i],
                  (int64_t{1} << 40) * (ranks * (ranks - 1) / 2) - ranks * static_cast<int64_t>(i));
        double hi = -1e9, lo = 1e9;
        for (int r = 0; r < ranks; ++r) {
          double v = static_cast<double>((r * 7 + static_cast<int>(i)) % 5) - 2;
          hi = std::max(hi, v);
          lo = std::min(lo, v);
        }
        EXPECT_EQ(highs[i], hi);
        EXPECT_EQ(lows[i], lo);
      }
    }
  });
}

TEST_P(Threaded, BroadcastCopiesTheRootsBytesFromAnyRoot) {
  const int ranks = GetParam();
  RunRanks(ranks, [&](Communicator& comm) {
    for (int root = ranks - 1; root >= 0; --root) {  // nonzero roots first
      for (size_t n : {size_t{0}, size_t{1}, size_t{4096}}) {
        std::vector<uint32_t> values(n, 0);
        if (comm.rank() == root) {
          for (size_t i = 0; i < n; ++i) values[i] = static_cast<uint32_t>(i * 2654435761u + root);
        }
        comm.BroadcastValues(std::span<uint32_t>(values), root);
        for (size_t i = 0; i < n; ++i) {
          ASSERT_EQ(values[i], static_cast<uint32_t>(i * 2654435761u + root)) << i;
        }
      }
    }
    EXPECT_ERROR(comm.Broadcast({}, ranks), ErrorCode::kInvalidParameterValue,
                 Eq("Broadcast: root " + std::to_string(ranks) + " is not a rank (0 .. " +
                    std::to_string(ranks - 1) + ")"));
  });
}

TEST_P(Threaded, AllgatherVConcatenatesInRankOrder) {
  const int ranks = GetParam();
  RunRanks(ranks, [&](Communicator& comm) {
    // Rank r contributes 2r values (rank 0 none).
    std::vector<int32_t> mine(static_cast<size_t>(comm.rank()) * 2);
    for (size_t i = 0; i < mine.size(); ++i) mine[i] = comm.rank() * 100 + static_cast<int>(i);
    std::vector<size_t> counts;
    std::vector<int32_t> all = comm.AllgatherValues(std::span<const int32_t>(mine), &counts);
    std::vector<int32_t> expected;
    std::vector<size_t> expected_counts;
    for (int r = 0; r < ranks; ++r) {
      for (int i = 0; i < 2 * r; ++i) expected.push_back(r * 100 + i);
      expected_counts.push_back(static_cast<size_t>(2 * r));
    }
    EXPECT_EQ(all, expected);
    EXPECT_EQ(counts, expected_counts);
    // Every rank empty, without counts.
    EXPECT_THAT(comm.AllgatherV({}), IsEmpty());
  });
}

// The message rank `from` sends rank `to`; some are empty.
Bytes Message(int from, int to) {
  std::string text =
      (from + 2 * to) % 3 == 0 ? "" : std::to_string(from) + "->" + std::to_string(to);
  return ToBytes(text + std::string(static_cast<size_t>(from * to), '.'));
}

TEST_P(Threaded, AlltoallVDeliversPersonalizedPayloads) {
  const int ranks = GetParam();
  RunRanks(ranks, [&](Communicator& comm) {
    for (int round = 0; round < 3; ++round) {
      std::vector<Bytes> send;
      for (int to = 0; to < ranks; ++to) send.push_back(Message(comm.rank(), to));
      std::vector<Bytes> received = comm.AlltoallV(send);
      ASSERT_EQ(received.size(), static_cast<size_t>(ranks));
      for (int from = 0; from < ranks; ++from) {
        EXPECT_EQ(received[static_cast<size_t>(from)], Message(from, comm.rank()))
            << from << " -> " << comm.rank();
      }
    }
    EXPECT_ERROR(comm.AlltoallV(std::vector<Bytes>(static_cast<size_t>(ranks) + 1)),
                 ErrorCode::kInvalidParameterValue,
                 Eq("AlltoallV: send has " + std::to_string(ranks + 1) +
                    " entries but the group has " + std::to_string(ranks) + " ranks"));
  });
}

TEST_P(Threaded, BarrierWaitsForEveryRank) {
  const int ranks = GetParam();
  std::atomic<int> arrived{0};
  RunRanks(ranks, [&](Communicator& comm) {
    for (int round = 1; round <= 20; ++round) {
      if (comm.rank() == round % ranks) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++arrived;
      comm.Barrier();
      EXPECT_GE(arrived.load(), round * ranks);
      comm.Barrier();  // nobody starts the next round before all have checked
    }
  });
  EXPECT_EQ(arrived.load(), 20 * ranks);
}

// --- failures ---------------------------------------------------------------------------------

TEST(ThreadedAbort, AFailingRankAbortsTheOthersAndItsExceptionIsRethrown) {
  std::mutex mutex;
  std::vector<std::string> others;
  try {
    RunThreadedWithin(std::chrono::seconds(10), 4, [&](Communicator& comm) {
      comm.Barrier();
      if (comm.rank() == 2) {
        // The others are (very likely) blocked inside the AllreduceSum by now.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        throw std::runtime_error("rank 2 ran out of data");
      }
      try {
        std::vector<double> values(10, 1.0);
        comm.AllreduceSum(std::span<double>(values));
      } catch (const Error& e) {
        std::lock_guard lock(mutex);
        others.push_back(std::string(ErrorCodeName(e.code())) + ": " + e.what());
        throw;
      }
    });
    FAIL() << "RunThreaded did not rethrow";
  } catch (const Error& e) {
    FAIL() << "rethrew the abort instead of the original: " << e.what();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "rank 2 ran out of data");
  }
  EXPECT_THAT(others, ElementsAre("INTERNAL_ERROR: threaded communicator aborted: rank 2 failed",
                                  "INTERNAL_ERROR: threaded communicator aborted: rank 2 failed",
                                  "INTERNAL_ERROR: threaded communicator aborted: rank 2 failed"));
}

TEST(ThreadedAbort, AnErrorKeepsItsCodeAndLaterCollectivesThrowToo) {
  std::atomic<int> aborted{0};
  EXPECT_ERROR(RunThreadedWithin(std::chrono::seconds(10), 3,
                                 [&](Communicator& comm) {
                                   if (comm.rank() == 0) {
                                     throw Error(ErrorCode::kInvalidState, "rank 0 cannot start");
                                   }
                                   for (int i = 0; i < 2;
                                        ++i) {  // a caught abort does not heal the group
                                     try {
                                       comm.Barrier();
                                     } catch (const Error&) {
                                       ++aborted;
                                     }
                                   }
                                 }),
               ErrorCode::kInvalidState, Eq("rank 0 cannot start"));
  EXPECT_EQ(aborted.load(), 4);
}

TEST(ThreadedAbort, ARankThatReturnsEarlyFailsTheOthersCollective) {
  EXPECT_ERROR(RunThreadedWithin(std::chrono::seconds(10), 3,
                                 [&](Communicator& comm) {
                                   if (comm.rank() == 1) return;
                                   comm.Barrier();
                                 }),
               ErrorCode::kInternalError,
               Eq("threaded communicator: rank 1 returned while other ranks still call "
                  "collectives (mismatched collectives)"));
}

TEST(ThreadedAbort, MismatchedLengthsThrowOnEveryRank) {
  std::atomic<int> thrown{0};
  EXPECT_ERROR(RunThreadedWithin(std::chrono::seconds(10), 2,
                                 [&](Communicator& comm) {
                                   std::vector<double> values(comm.rank() == 0 ? 3 : 4, 1.0);
                                   try {
                                     comm.AllreduceSum(std::span<double>(values));
                                   } catch (const Error&) {
                                     ++thrown;
                                     throw;
                                   }
                                 }),
               ErrorCode::kInvalidParameterValue, ::testing::StartsWith("AllreduceSum: rank "));
  EXPECT_EQ(thrown.load(), 2);
}

TEST(RunThreaded, RejectsZeroRanks) {
  EXPECT_ERROR(RunThreaded(0, [](Communicator&) {}), ErrorCode::kInvalidParameterValue,
               Eq("RunThreaded: ranks must be >= 1, got 0"));
}

}  // namespace
}  // namespace mltrack::dist
