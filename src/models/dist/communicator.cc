#include "models/dist/communicator.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "mltrack/error.h"

namespace mltrack::dist {

// Defined in mpi_communicator.cc, the only file that includes <mpi.h>. Initialises MPI.
std::unique_ptr<Communicator> MakeMpiCommunicator();

namespace {

void CheckRoot(int root, int size) {
  if (root < 0 || root >= size) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Broadcast: root {} is not a rank (0 .. {})", root, size - 1));
  }
}

void CheckSendSize(size_t got, int size) {
  if (got != static_cast<size_t>(size)) {
    throw Error(
        ErrorCode::kInvalidParameterValue,
        fmt::format("AlltoallV: send has {} entries but the group has {} ranks", got, size));
  }
}

// --- one rank ----------------------------------------------------------------------------------

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string kind() const override { return "single"; }

  void AllreduceSum(std::span<double>) override {}
  void AllreduceSum(std::span<int64_t>) override {}
  void AllreduceMax(std::span<double>) override {}
  void AllreduceMin(std::span<double>) override {}
  void Broadcast(std::span<std::byte>, int root) override { CheckRoot(root, 1); }

  std::vector<std::byte> AllgatherV(std::span<const std::byte> mine,
                                    std::vector<size_t>* counts) override {
    if (counts) *counts = {mine.size()};
    return {mine.begin(), mine.end()};
  }

  std::vector<std::vector<std::byte>> AlltoallV(
      const std::vector<std::vector<std::byte>>& send) override {
    CheckSendSize(send.size(), 1);
    return send;
  }

  void Barrier() override {}
};

// --- ranks as threads --------------------------------------------------------------------------

// What one rank contributes to the collective in progress. The pointed-to data belongs to the
// rank and stays untouched until the collective's second barrier has passed.
struct Slot {
  const void* data = nullptr;
  size_t count = 0;  // elements (bytes for the byte collectives)
};

// The state the ranks of one RunThreaded call share.
//
// Every collective is: deposit into slots[rank]; Wait (all deposited); each rank computes its
// own result from every slot, reading in rank order; Wait (all have read, slots may be reused).
// Each rank computing the whole result itself keeps the code simple and the bits identical.
class ThreadedGroup {
 public:
  explicit ThreadedGroup(int size) : size_(size), slots_(static_cast<size_t>(size)) {}

  int size() const { return size_; }
  Slot& slot(int rank) { return slots_[static_cast<size_t>(rank)]; }
  const Slot& slot(int rank) const { return slots_[static_cast<size_t>(rank)]; }

  // Blocks until all ranks have called Wait as often as this one. Throws when the group is
  // aborted or a rank has left it while this one waits (that rank will never arrive).
  void Wait() {
    std::unique_lock lock(mutex_);
    ThrowIfBroken();
    uint64_t generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
      return;
    }
    changed_.wait(lock, [&] { return generation_ != generation || aborted_ || left_ >= 0; });
    if (generation_ != generation) return;  // completed, even if the group broke just after
    ThrowIfBroken();
  }

  // Records the first failure of a rank and wakes every waiting rank. Returns whether `error`
  // was the first.
  void Fail(int rank, std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!first_error_) {
      first_error_ = std::move(error);
      failed_rank_ = rank;
    }
    aborted_ = true;
    changed_.notify_all();
  }

  // A rank's body returned: any rank waiting now, or later, waits for it in vain.
  void Leave(int rank) {
    std::lock_guard lock(mutex_);
    if (left_ < 0) left_ = rank;
    changed_.notify_all();
  }

  std::exception_ptr first_error() const { return first_error_; }

 private:
  void ThrowIfBroken() const {
    if (aborted_) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("threaded communicator aborted: rank {} failed", failed_rank_));
    }
    if (left_ >= 0) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("threaded communicator: rank {} returned while other ranks still "
                              "call collectives (mismatched collectives)",
                              left_));
    }
  }

  const int size_;
  std::vector<Slot> slots_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  bool aborted_ = false;
  int failed_rank_ = -1;
  int left_ = -1;  // the first rank whose body returned normally
  std::exception_ptr first_error_;
};

class ThreadedCommunicator final : public Communicator {
 public:
  ThreadedCommunicator(ThreadedGroup& group, int rank) : group_(group), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string kind() const override { return "threads"; }

  void AllreduceSum(std::span<double> values) override {
    Reduce(values, "AllreduceSum", [](double acc, double v) { return acc + v; });
  }
  void AllreduceSum(std::span<int64_t> values) override {
    // Wraps around on overflow like MPI's two's complement sum, without signed-overflow UB.
    Reduce(values, "AllreduceSum", [](int64_t acc, int64_t v) {
      return static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(v));
    });
  }
  void AllreduceMax(std::span<double> values) override {
    Reduce(values, "AllreduceMax", [](double acc, double v) { return v > acc ? v : acc; });
  }
  void AllreduceMin(std::span<double> values) override {
    Reduce(values, "AllreduceMin", [](double acc, double v) { return v < acc ? v : acc; });
  }

  void Broadcast(std::span<std::byte> bytes, int root) override {
    CheckRoot(root, size());
    Deposit(bytes.data(), bytes.size());
    group_.Wait();
    CheckSameCount("Broadcast", bytes.size());
    if (rank_ != root && !bytes.empty()) {
      std::memcpy(bytes.data(), group_.slot(root).data, bytes.size());
    }
    group_.Wait();
  }

  std::vector<std::byte> AllgatherV(std::span<const std::byte> mine,
                                    std::vector<size_t>* counts) override {
    Deposit(mine.data(), mine.size());
    group_.Wait();
    size_t total = 0;
    for (int r = 0; r < size(); ++r) total += group_.slot(r).count;
    std::vector<std::byte> out(total);
    if (counts) counts->assign(static_cast<size_t>(size()), 0);
    size_t at = 0;
    for (int r = 0; r < size(); ++r) {
      const Slot& s = group_.slot(r);
      if (s.count) std::memcpy(out.data() + at, s.data, s.count);
      at += s.count;
      if (counts) (*counts)[static_cast<size_t>(r)] = s.count;
    }
    group_.Wait();
    return out;
  }

  std::vector<std::vector<std::byte>> AlltoallV(
      const std::vector<std::vector<std::byte>>& send) override {
    CheckSendSize(send.size(), size());
    Deposit(&send, send.size());
    group_.Wait();
    std::vector<std::vector<std::byte>> received(static_cast<size_t>(size()));
    for (int r = 0; r < size(); ++r) {
      const auto& theirs =
          *static_cast<const std::vector<std::vector<std::byte>>*>(group_.slot(r).data);
      received[static_cast<size_t>(r)] = theirs[static_cast<size_t>(rank_)];
    }
    group_.Wait();
    return received;
  }

  void Barrier() override { group_.Wait(); }

 private:
  void Deposit(const void* data, size_t count) { group_.slot(rank_) = Slot{data, count}; }

  // After the first Wait: every rank sees every count, so all ranks throw alike on a mismatch.
  void CheckSameCount(const char* what, size_t mine) const {
    for (int r = 0; r < size(); ++r) {
      if (group_.slot(r).count != mine) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("{}: rank {} passed {} elements but rank {} passed {}", what, rank_,
                                mine, r, group_.slot(r).count));
      }
    }
  }

  // acc = v[0]; acc = op(acc, v[1]); ... in rank order, the same on every rank.
  template <class T, class Op>
  void Reduce(std::span<T> values, const char* what, Op op) {
    Deposit(values.data(), values.size());
    group_.Wait();
    CheckSameCount(what, values.size());
    std::vector<T> result(static_cast<const T*>(group_.slot(0).data),
                          static_cast<const T*>(group_.slot(0).data) + values.size());
    for (int r = 1; r < size(); ++r) {
      const T* theirs = static_cast<const T*>(group_.slot(r).data);
      for (size_t i = 0; i < result.size(); ++i) result[i] = op(result[i], theirs[i]);
    }
    group_.Wait();  // every rank has read `values`: now it may be overwritten
    std::copy(result.begin(), result.end(), values.begin());
  }

  ThreadedGroup& group_;
  const int rank_;
};

}  // namespace

std::unique_ptr<Communicator> MakeSingleCommunicator() {
  return std::make_unique<SingleCommunicator>();
}

void RunThreaded(int ranks, const std::function<void(Communicator&)>& body) {
  if (ranks < 1) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("RunThreaded: ranks must be >= 1, got {}", ranks));
  }
  ThreadedGroup group(ranks);
  auto run_rank = [&](int rank) {
    try {
      ThreadedCommunicator comm(group, rank);
      body(comm);
      group.Leave(rank);
    } catch (...) {
      group.Fail(rank, std::current_exception());
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(ranks));
  try {
    for (int rank = 0; rank < ranks; ++rank) threads.emplace_back(run_rank, rank);
  } catch (...) {
    // A thread could not start: the ranks that did would wait for it forever.
    group.Fail(static_cast<int>(threads.size()), std::current_exception());
  }
  for (auto& t : threads) t.join();
  if (group.first_error()) std::rethrow_exception(group.first_error());
}

bool LaunchedByMpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

Communicator& ProcessCommunicator() {
  static const std::unique_ptr<Communicator> comm =
      LaunchedByMpi() ? MakeMpiCommunicator() : MakeSingleCommunicator();
  return *comm;
}

void CheckEveryRank(Communicator& comm, const std::function<void()>& step) {
  std::string failure;  // the error code as one byte, then the message
  try {
    step();
  } catch (const Error& e) {
    failure = std::string(1, static_cast<char>(e.code())) + e.what();
  } catch (const std::exception& e) {
    failure = std::string(1, static_cast<char>(ErrorCode::kInternalError)) + e.what();
  }
  if (comm.size() == 1) {
    if (!failure.empty()) throw AgreedError(static_cast<ErrorCode>(failure[0]), failure.substr(1));
    return;
  }
  std::vector<size_t> lengths;
  std::vector<std::byte> all = comm.AllgatherV(std::as_bytes(std::span(failure)), &lengths);
  size_t offset = 0;
  for (size_t rank = 0; rank < lengths.size(); ++rank) {
    if (lengths[rank] > 0) {
      std::string text(reinterpret_cast<const char*>(all.data()) + offset, lengths[rank]);
      std::string message = text.substr(1);
      if (static_cast<int>(rank) != comm.rank()) {
        message = "rank " + std::to_string(rank) + ": " + message;
      }
      throw AgreedError(static_cast<ErrorCode>(text[0]), message);
    }
    offset += lengths[rank];
  }
}

}  // namespace mltrack::dist
