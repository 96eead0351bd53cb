/*
 * durable.h — fsync, unless the environment asks for none.
 *
 * Every write pipec must not lose to a power failure goes through
 * durable_sync. PIPEC_FSYNC=0 turns the syncs off (and SQLite's with
 * them): a crash of pipec, a kill -9 or a full disk still leaves the
 * workspace consistent, since the kernel keeps what was written; only a
 * power loss or a kernel crash may then lose recent work. The test suite
 * runs this way (as git's does with GIT_TEST_FSYNC=0): the promises it
 * checks are about processes, and on a disk whose flushes are slow the
 * syncs were most of its time. Documented in docs/reliability.md.
 */
#ifndef PIPEC_BASE_DURABLE_H
#define PIPEC_BASE_DURABLE_H

#include <stdbool.h>

/* false when PIPEC_FSYNC is "0", "no", "off" or "false" (read once). */
bool durable_enabled(void);

/* fsync(fd) when durable_enabled(), else 0; -1 with errno on failure. */
int durable_sync(int fd);
/* syncfs(fd): the whole filesystem of fd, the same way. */
int durable_syncfs(int fd);
/* Start writing fd's dirty pages back (sync_file_range), not waiting:
 * the fsync that follows finds less to do. Nothing when disabled. */
void durable_writeback(int fd);

#endif
