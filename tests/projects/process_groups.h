// Whether the processes of a process group are gone: what the tests of `mlt run`'s signal
// forwarding check, that no process of the command is left behind.
#pragma once

#include <sys/types.h>

namespace mltrack::testing {

// Whether a process of group `pgid` is alive (zombies, which only wait for whoever adopted them
// to reap them, do not count).
bool GroupHasLiveMembers(pid_t pgid);

// Whether the group is gone within 5 seconds (a SIGKILL takes effect asynchronously).
bool GroupEnds(pid_t pgid);

}  // namespace mltrack::testing
