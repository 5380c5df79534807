// MpiCommunicator: the Communicator of processes started by mpirun, over MPI_COMM_WORLD.
// The only file of mltrack that includes <mpi.h>.
#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "mltrack/error.h"
#include "models/dist/communicator.h"

namespace mltrack::dist {
namespace {

// Element counts per MPI call: MPI counts are ints. AllreduceSum gathers size() chunks of this
// many doubles at a time, which also bounds its scratch memory to size() * 8 MiB.
constexpr size_t kReduceChunk = size_t{1} << 20;
constexpr size_t kMaxCount = INT_MAX;

void Check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) {
    length = std::snprintf(text, sizeof text, "error code %d", rc);
  }
  throw Error(ErrorCode::kInternalError,
              fmt::format("{} failed: {}", call, std::string(text, static_cast<size_t>(length))));
}

// Registered with std::atexit by the MpiCommunicator that initialised MPI. Runs only on a
// normal exit; a rank that dies of an exception leaves the job to mpirun, which aborts the
// others (MPI_Finalize would hang waiting for them).
void FinalizeAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

template <class T>
MPI_Datatype TypeOf();
template <>
MPI_Datatype TypeOf<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype TypeOf<int64_t>() {
  return MPI_INT64_T;
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    Check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) {
      int provided = 0;
      Check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      std::atexit(FinalizeAtExit);
      if (provided < MPI_THREAD_FUNNELED) {
        throw Error(ErrorCode::kInternalError,
                    "MPI_Init_thread: this MPI does not provide MPI_THREAD_FUNNELED");
      }
    }
    Check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    Check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    Check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kind() const override { return "mpi"; }

  // MPI_Allreduce's reduction order is unspecified; gathering every rank's values and adding
  // them in rank order here gives the same bits on every rank and on every rerun.
  void AllreduceSum(std::span<double> values) override { SumInRankOrder(values); }
  void AllreduceSum(std::span<int64_t> values) override { SumInRankOrder(values); }

  // Max and min do not depend on the order.
  void AllreduceMax(std::span<double> values) override {
    Allreduce(values, MPI_MAX, "AllreduceMax");
  }
  void AllreduceMin(std::span<double> values) override {
    Allreduce(values, MPI_MIN, "AllreduceMin");
  }

  void Broadcast(std::span<std::byte> bytes, int root) override {
    if (root < 0 || root >= size_) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Broadcast: root {} is not a rank (0 .. {})", root, size_ - 1));
    }
    CheckSameLength("Broadcast", bytes.size());
    BroadcastChunked(bytes.data(), bytes.size(), root);
  }

  std::vector<std::byte> AllgatherV(std::span<const std::byte> mine,
                                    std::vector<size_t>* counts) override {
    std::vector<uint64_t> all(static_cast<size_t>(size_));
    uint64_t count = mine.size();
    Check(MPI_Allgather(&count, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD),
          "MPI_Allgather");
    uint64_t total = 0;
    bool fits = true;
    std::vector<int> int_counts(all.size()), displs(all.size());
    for (size_t r = 0; r < all.size(); ++r) {
      fits = fits && all[r] <= kMaxCount && total <= kMaxCount;
      if (fits) {
        int_counts[r] = static_cast<int>(all[r]);
        displs[r] = static_cast<int>(total);
      }
      total += all[r];
    }
    std::vector<std::byte> out(total);
    if (fits) {
      Check(MPI_Allgatherv(mine.data(), static_cast<int>(count), MPI_BYTE, out.data(),
                           int_counts.data(), displs.data(), MPI_BYTE, MPI_COMM_WORLD),
            "MPI_Allgatherv");
    } else {
      // Counts or offsets past INT_MAX bytes: each rank broadcasts its part in chunks. Every
      // rank knows every count, so all take this branch together.
      size_t at = 0;
      for (int r = 0; r < size_; ++r) {
        if (r == rank_ && count) std::memcpy(out.data() + at, mine.data(), count);
        BroadcastChunked(out.data() + at, all[static_cast<size_t>(r)], r);
        at += all[static_cast<size_t>(r)];
      }
    }
    if (counts) counts->assign(all.begin(), all.end());
    return out;
  }

  std::vector<std::vector<std::byte>> AlltoallV(
      const std::vector<std::vector<std::byte>>& send) override {
    if (send.size() != static_cast<size_t>(size_)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("AlltoallV: send has {} entries but the group has {} ranks",
                              send.size(), size_));
    }
    std::vector<uint64_t> send_counts(send.size()), recv_counts(send.size());
    for (size_t r = 0; r < send.size(); ++r) send_counts[r] = send[r].size();
    Check(MPI_Alltoall(send_counts.data(), 1, MPI_UINT64_T, recv_counts.data(), 1, MPI_UINT64_T,
                       MPI_COMM_WORLD),
          "MPI_Alltoall");
    std::vector<int> sc(send.size()), sd(send.size()), rc(send.size()), rd(send.size());
    uint64_t send_total = 0, recv_total = 0;
    int too_big = 0;
    for (size_t r = 0; r < send.size(); ++r) {
      if (send_counts[r] > kMaxCount || recv_counts[r] > kMaxCount || send_total > kMaxCount ||
          recv_total > kMaxCount) {
        too_big = 1;
      } else {
        sc[r] = static_cast<int>(send_counts[r]);
        sd[r] = static_cast<int>(send_total);
        rc[r] = static_cast<int>(recv_counts[r]);
        rd[r] = static_cast<int>(recv_total);
      }
      send_total += send_counts[r];
      recv_total += recv_counts[r];
    }
    // A rank alone cannot refuse (the others would wait in MPI_Alltoallv): agree first.
    Check(MPI_Allreduce(MPI_IN_PLACE, &too_big, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
          "MPI_Allreduce");
    if (too_big) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "AlltoallV: a rank sends or receives more than INT_MAX (2^31 - 1) bytes, "
                  "MPI's limit for one exchange; split the exchange");
    }
    std::vector<std::byte> packed(send_total), unpacked(recv_total);
    for (size_t r = 0; r < send.size(); ++r) {
      if (!send[r].empty()) std::memcpy(packed.data() + sd[r], send[r].data(), send[r].size());
    }
    Check(MPI_Alltoallv(packed.data(), sc.data(), sd.data(), MPI_BYTE, unpacked.data(), rc.data(),
                        rd.data(), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Alltoallv");
    std::vector<std::vector<std::byte>> received(send.size());
    for (size_t r = 0; r < send.size(); ++r) {
      received[r].assign(unpacked.begin() + rd[r], unpacked.begin() + rd[r] + rc[r]);
    }
    return received;
  }

  void Barrier() override { Check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

 private:
  // Mismatched lengths are erroneous MPI programs (truncation or a hang): compare first, so
  // that every rank throws the same error.
  void CheckSameLength(const char* what, size_t length) {
    uint64_t range[2] = {length, ~uint64_t{length}};  // max of ~x is ~min of x
    Check(MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD),
          "MPI_Allreduce");
    uint64_t longest = range[0], shortest = ~range[1];
    if (longest != shortest) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("{}: ranks passed different lengths ({} .. {} elements)", what,
                              shortest, longest));
    }
  }

  void BroadcastChunked(std::byte* data, size_t length, int root) {
    for (size_t at = 0; at < length; at += kMaxCount) {
      int n = static_cast<int>(std::min(kMaxCount, length - at));
      Check(MPI_Bcast(data + at, n, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  template <class T>
  void SumInRankOrder(std::span<T> values) {
    CheckSameLength("AllreduceSum", values.size());
    std::vector<T> gathered;
    for (size_t at = 0; at < values.size(); at += kReduceChunk) {
      size_t n = std::min(kReduceChunk, values.size() - at);
      gathered.resize(n * static_cast<size_t>(size_));
      Check(MPI_Allgather(values.data() + at, static_cast<int>(n), TypeOf<T>(), gathered.data(),
                          static_cast<int>(n), TypeOf<T>(), MPI_COMM_WORLD),
            "MPI_Allgather");
      for (size_t i = 0; i < n; ++i) {
        T acc = gathered[i];
        for (size_t r = 1; r < static_cast<size_t>(size_); ++r) {
          if constexpr (std::is_same_v<T, int64_t>) {
            // Two's complement wrap-around, as MPI_SUM, without signed-overflow UB.
            acc = static_cast<int64_t>(static_cast<uint64_t>(acc) +
                                       static_cast<uint64_t>(gathered[r * n + i]));
          } else {
            acc += gathered[r * n + i];
          }
        }
        values[at + i] = acc;
      }
    }
  }

  void Allreduce(std::span<double> values, MPI_Op op, const char* what) {
    CheckSameLength(what, values.size());
    for (size_t at = 0; at < values.size(); at += kMaxCount) {
      int n = static_cast<int>(std::min(kMaxCount, values.size() - at));
      Check(MPI_Allreduce(MPI_IN_PLACE, values.data() + at, n, MPI_DOUBLE, op, MPI_COMM_WORLD),
            "MPI_Allreduce");
    }
  }

  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

void AbortJob(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

// Declared in communicator.cc, which picks it for ProcessCommunicator() under mpirun.
std::unique_ptr<Communicator> MakeMpiCommunicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace mltrack::dist
