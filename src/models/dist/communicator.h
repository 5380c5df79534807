// The distributed runtime the trainers run on: a group of `size` ranks that exchange data
// collectively. Three implementations:
//   - SingleCommunicator: one rank, every collective a copy or a no-op;
//   - ThreadedCommunicators: N ranks as threads of one process (tests: real concurrency, no MPI);
//   - MpiCommunicator: OpenMPI, for processes started by `mpirun` (see MakeCommunicator).
//
// Contracts shared by all of them:
//   - Collectives must be called by every rank, in the same order, with matching sizes where
//     stated; a rank that throws mid-collective leaves the group unusable (the job is over).
//   - AllreduceSum adds the ranks' contributions in rank order (0, 1, ..., size-1) on every
//     rank, so all ranks get the same bits and a rerun with the same rank count gives the same
//     bits: trainers depend on this for "same seed and rank count, same model".
//   - A communicator is used by one thread per rank; kernels inside a rank may use threads of
//     their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mltrack/error.h"

namespace mltrack::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "single", "threads", "mpi": for logs and run params.
  virtual std::string kind() const = 0;

  // Element-wise sum over ranks, in place; every rank passes the same length.
  virtual void AllreduceSum(std::span<double> values) = 0;
  virtual void AllreduceSum(std::span<int64_t> values) = 0;
  // Element-wise max / min over ranks, in place.
  virtual void AllreduceMax(std::span<double> values) = 0;
  virtual void AllreduceMin(std::span<double> values) = 0;

  // Copies `bytes` of rank `root` into every other rank's `bytes` (same length on all ranks).
  virtual void Broadcast(std::span<std::byte> bytes, int root) = 0;

  // Every rank's `mine` (lengths may differ), concatenated in rank order, on every rank.
  // `counts`, when given, receives each rank's length.
  virtual std::vector<std::byte> AllgatherV(std::span<const std::byte> mine,
                                            std::vector<size_t>* counts = nullptr) = 0;

  // Personalized exchange: `send[r]` goes to rank r; returns what each rank sent to this one,
  // indexed by source rank. send.size() == size().
  virtual std::vector<std::vector<std::byte>> AlltoallV(
      const std::vector<std::vector<std::byte>>& send) = 0;

  virtual void Barrier() = 0;

  // Typed helpers over the byte collectives (T trivially copyable).
  template <class T>
  void BroadcastValues(std::span<T> values, int root) {
    Broadcast(std::as_writable_bytes(values), root);
  }
  template <class T>
  std::vector<T> AllgatherValues(std::span<const T> mine, std::vector<size_t>* counts = nullptr) {
    std::vector<std::byte> bytes = AllgatherV(std::as_bytes(mine), counts);
    if (counts) {
      for (auto& c : *counts) c /= sizeof(T);
    }
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

// One rank.
std::unique_ptr<Communicator> MakeSingleCommunicator();

// Runs `body(comm)` on `ranks` threads, each with its own rank of one threaded group, and waits
// for all. An exception thrown by any rank aborts the group (blocked collectives on other ranks
// throw too) and the first one is rethrown here.
void RunThreaded(int ranks, const std::function<void(Communicator&)>& body);

// Whether this process was started by mpirun/mpiexec (OpenMPI's or PMIx's environment
// variables are set): only then is MPI initialised.
bool LaunchedByMpi();

// An error every rank of a group throws together (CheckEveryRank): the job ends cleanly on all
// ranks, and only one of them needs to report it.
class AgreedError : public Error {
 public:
  using Error::Error;
};

// Runs `step` on this rank, then agrees with every rank (collective): when any rank's step threw,
// every rank throws AgreedError with the code and message of the lowest such rank (prefixed
// "rank N: " on the ranks that did not fail themselves, when there are several ranks). `step`
// must not call collectives itself: a rank that throws early would leave the others waiting.
void CheckEveryRank(Communicator& comm, const std::function<void()>& step);

// Ends the whole job now, from a failure on this rank alone: under MPI, MPI_Abort (the other
// ranks may be waiting in a collective that will never complete); otherwise std::_Exit.
[[noreturn]] void AbortJob(int exit_code);

// The process's communicator: MPI (MPI_Init_thread on first call, MPI_Finalize at exit) when
// LaunchedByMpi(), else a single rank. The same object on every call.
Communicator& ProcessCommunicator();

}  // namespace mltrack::dist
