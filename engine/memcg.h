/*
 * memcg.h — a memory cgroup per job on this machine, where the kernel lets
 * pipec make one: the `memory` a node asks for becomes the cgroup's limit
 * (no swap beyond it), the kernel's OOM kill inside it is seen for what it
 * is, and its peak is read when the job ends.
 *
 * Where: below this process's own memory cgroup. cgroup v1 (the `memory`
 * hierarchy: memory.limit_in_bytes, memory.memsw.limit_in_bytes when swap
 * is accounted, memory.oom_control's oom_kill, memory.max_usage_in_bytes)
 * or cgroup v2 when this process's cgroup delegates the memory controller
 * to its children (memory.max, memory.swap.max, memory.events' oom_kill,
 * memory.peak). Making one needs the right to write there: root, or a
 * delegated subtree. Elsewhere memcg_probe says why not and nothing is
 * enforced.
 *
 * A job enters its cgroup itself, before it execs the command (the local
 * target starts it through `sh -c 'echo 0 > PROCS ...; exec "$@"'`), so
 * every process it starts is inside from its first byte.
 *
 * Cgroups are named pipec-PID-N (PID: the pipec that made them); one left
 * by a pipec that died (kill -9) is removed by the next memcg_sweep.
 */
#ifndef PIPEC_MEMCG_H
#define PIPEC_MEMCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct memcg_base {
  char dir[4096];            /* where job cgroups are made */
  int version;               /* 1 or 2 */
} memcg_base;

typedef struct memcg memcg;

/* Can this process make memory cgroups, and where? 0 with *b set, or a
 * negative errno with why not in err ("no memory cgroup hierarchy",
 * "not allowed to write in ..."). */
int memcg_probe(memcg_base *b, char *err, size_t errlen);

/* Remove the job cgroups of pipecs that are no longer running (killing
 * what is left in them). */
void memcg_sweep(const memcg_base *b);

/* A new cgroup limited to limit bytes, name pipec-PID-seq. 0, or a
 * negative errno with err. */
int memcg_create(const memcg_base *b, unsigned seq, int64_t limit,
                 memcg **out, char *err, size_t errlen);
/* The file a process writes "0" to, to enter m. */
const char *memcg_procs(const memcg *m);
/* Did the kernel kill a process of m for memory (an OOM kill at its
 * limit)? */
bool memcg_oom_killed(const memcg *m);
/* The most memory m held at once (bytes, page cache included); 0 if not
 * known. */
int64_t memcg_peak(const memcg *m);
/* Kill whatever still runs in m and remove it: 0, or -EBUSY if its last
 * processes have not yet exited (call again later; m stays valid). */
int memcg_remove(memcg *m);
/* Free m (after memcg_remove succeeded, or to give up on it: the next
 * memcg_sweep removes it). */
void memcg_free(memcg *m);

#endif
