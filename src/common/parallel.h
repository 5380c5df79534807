// Threads inside one rank for the trainers' kernels.
#pragma once

#include <cstddef>
#include <functional>

namespace mltrack {

// The number of threads `requested` means: itself when > 0, else the cores this process may use.
int ResolveThreads(int requested);

// Calls body(task) for every task in [0, tasks) on up to `threads` threads (the caller's among
// them) and returns when all are done. Tasks are handed out dynamically; a body that writes only
// its own task's slot gives results that do not depend on the thread count or scheduling. The
// first exception a body throws is rethrown here, after the other threads stop taking tasks.
void ParallelFor(size_t tasks, int threads, const std::function<void(size_t task)>& body);

}  // namespace mltrack
