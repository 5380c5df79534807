// Runs each collective on ProcessCommunicator() and checks the results: under
// `mpirun -np N` an MPI group of N, else one rank that must not have initialised MPI.
// Prints "ok rank R of N (kind)" and exits 0, or "FAIL rank R: ..." on stderr and exits 1.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "mltrack/error.h"
#include "models/dist/communicator.h"

namespace {

using mltrack::dist::Communicator;

int g_rank = -1;

// Exits without MPI_Finalize: the other ranks may be inside a collective, and mpirun ends
// the job when a rank exits unfinalized.
[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "FAIL rank " << g_rank << ": " << what << std::endl;
  std::_Exit(1);
}

void Expect(bool ok, const std::string& what) {
  if (!ok) Fail(what);
}

int ThreadCount() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Element i of rank r's contribution: values whose sum depends on the order of addition.
double Term(int r, size_t i) {
  static const double kTerms[] = {1e16, 1.0, -1e16, 1.0, 0.1, 1e-3};
  return kTerms[(static_cast<size_t>(r) + i) % 6] * (1 + static_cast<double>(i % 3));
}

void CheckAllreduce(Communicator& comm) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{3000}}) {
    std::vector<double> values(n);
    for (size_t i = 0; i < n; ++i) values[i] = Term(comm.rank(), i);
    comm.AllreduceSum(std::span<double>(values));
    for (size_t i = 0; i < n; ++i) {
      double expected = Term(0, i);
      for (int r = 1; r < comm.size(); ++r) expected += Term(r, i);
      Expect(std::memcmp(&values[i], &expected, sizeof expected) == 0,
             "AllreduceSum(double) is not the rank-ordered sum at " + std::to_string(i));
    }
    // Every rank holds the same bits.
    std::vector<double> all = comm.AllgatherValues(std::span<const double>(values));
    for (int r = 1; r < comm.size(); ++r) {
      Expect(std::memcmp(all.data() + r * n, all.data(), n * sizeof(double)) == 0,
             "AllreduceSum(double) differs between ranks");
    }

    std::vector<int64_t> ints(n), maxes(n);
    std::vector<double> highs(n), lows(n);
    for (size_t i = 0; i < n; ++i) {
      ints[i] = (int64_t{1} << 40) * comm.rank() + static_cast<int64_t>(i);
      highs[i] = lows[i] = static_cast<double>((comm.rank() * 7 + static_cast<int>(i)) % 5);
    }
    comm.AllreduceSum(std::span<int64_t>(ints));
    comm.AllreduceMax(std::span<double>(highs));
    comm.AllreduceMin(std::span<double>(lows));
    int64_t size = comm.size();
    for (size_t i = 0; i < n; ++i) {
      Expect(
          ints[i] == (int64_t{1} << 40) * (size * (size - 1) / 2) + size * static_cast<int64_t>(i),
          "AllreduceSum(int64) at " + std::to_string(i));
      double hi = -1, lo = 99;
      for (int r = 0; r < comm.size(); ++r) {
        double v = static_cast<double>((r * 7 + static_cast<int>(i)) % 5);
        hi = std::max(hi, v);
        lo = std::min(lo, v);
      }
      Expect(highs[i] == hi, "AllreduceMax at " + std::to_string(i));
      Expect(lows[i] == lo, "AllreduceMin at " + std::to_string(i));
    }
  }
}

void CheckBroadcast(Communicator& comm) {
  for (int root = 0; root < comm.size(); ++root) {
    for (size_t n : {size_t{0}, size_t{3}, size_t{10000}}) {
      std::vector<std::byte> bytes(n, std::byte{0});
      if (comm.rank() == root) {
        for (size_t i = 0; i < n; ++i) bytes[i] = std::byte(static_cast<uint8_t>(i * 31 + root));
      }
      comm.Broadcast(bytes, root);
      for (size_t i = 0; i < n; ++i) {
        Expect(bytes[i] == std::byte(static_cast<uint8_t>(i * 31 + root)),
               "Broadcast from root " + std::to_string(root));
      }
    }
  }
}

void CheckAllgather(Communicator& comm) {
  // Rank r contributes r * 2 values r, r + 1, ... (rank 0 contributes none).
  std::vector<int32_t> mine(static_cast<size_t>(comm.rank()) * 2);
  for (size_t i = 0; i < mine.size(); ++i) mine[i] = comm.rank() * 100 + static_cast<int>(i);
  std::vector<size_t> counts;
  std::vector<int32_t> all = comm.AllgatherValues(std::span<const int32_t>(mine), &counts);
  std::vector<int32_t> expected;
  for (int r = 0; r < comm.size(); ++r) {
    Expect(counts.size() == static_cast<size_t>(comm.size()) &&
               counts[static_cast<size_t>(r)] == static_cast<size_t>(r) * 2,
           "AllgatherV counts");
    for (int i = 0; i < r * 2; ++i) expected.push_back(r * 100 + i);
  }
  Expect(all == expected, "AllgatherV values");
}

std::vector<std::byte> Message(int from, int to) {
  std::string text(static_cast<size_t>((from + 2 * to) % 4) * 5, 'x');  // some are empty
  for (size_t i = 0; i < text.size(); ++i)
    text[i] = static_cast<char>('a' + (from * 3 + to + i) % 26);
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  return bytes;
}

void CheckAlltoall(Communicator& comm) {
  std::vector<std::vector<std::byte>> send;
  for (int to = 0; to < comm.size(); ++to) send.push_back(Message(comm.rank(), to));
  std::vector<std::vector<std::byte>> received = comm.AlltoallV(send);
  Expect(received.size() == static_cast<size_t>(comm.size()), "AlltoallV: one entry per rank");
  for (int from = 0; from < comm.size(); ++from) {
    Expect(received[static_cast<size_t>(from)] == Message(from, comm.rank()),
           "AlltoallV from rank " + std::to_string(from));
  }
}

void CheckMismatchIsAnErrorOnEveryRank(Communicator& comm) {
  if (comm.size() < 2) return;
  std::vector<double> values(static_cast<size_t>(comm.rank()) + 1, 1.0);
  try {
    comm.AllreduceSum(std::span<double>(values));
    Fail("AllreduceSum with different lengths did not throw");
  } catch (const mltrack::Error& e) {
    std::ostringstream expected;
    expected << "AllreduceSum: ranks passed different lengths (1 .. " << comm.size()
             << " elements)";
    Expect(e.what() == expected.str(), std::string("mismatch message: ") + e.what());
  }
  comm.Barrier();  // the group still works
}

}  // namespace

int main() {
  try {
    bool under_mpirun = mltrack::dist::LaunchedByMpi();
    Communicator& comm = mltrack::dist::ProcessCommunicator();
    g_rank = comm.rank();
    Expect(&comm == &mltrack::dist::ProcessCommunicator(), "ProcessCommunicator is one object");
    Expect(comm.kind() == (under_mpirun ? "mpi" : "single"), "kind is " + comm.kind());
    if (!under_mpirun) {
      // MPI_Init starts progress threads; a single-rank run must not have initialised MPI.
      Expect(comm.size() == 1 && comm.rank() == 0, "a run without mpirun is one rank");
      Expect(ThreadCount() == 1,
             "threads: " + std::to_string(ThreadCount()) + " (was MPI initialised?)");
    }
    CheckAllreduce(comm);
    CheckBroadcast(comm);
    CheckAllgather(comm);
    CheckAlltoall(comm);
    CheckMismatchIsAnErrorOnEveryRank(comm);
    comm.Barrier();
    if (!under_mpirun) Expect(ThreadCount() == 1, "threads after the collectives");
    std::cout << "ok rank " << comm.rank() << " of " << comm.size() << " (" << comm.kind() << ")"
              << std::endl;
    return 0;
  } catch (const std::exception& e) {
    Fail(e.what());
  }
}
