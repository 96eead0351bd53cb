/* durable.c — see durable.h. */
#define _GNU_SOURCE /* syncfs, sync_file_range */
#include "durable.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool durable_enabled(void) {
  static int enabled = -1; /* read once: a run must not change its mind */
  if (enabled < 0) {
    const char *v = getenv("PIPEC_FSYNC");
    enabled = !(v && (!strcmp(v, "0") || !strcmp(v, "no") ||
                      !strcmp(v, "off") || !strcmp(v, "false")));
  }
  return enabled;
}

int durable_sync(int fd) { return durable_enabled() ? fsync(fd) : 0; }

int durable_syncfs(int fd) { return durable_enabled() ? syncfs(fd) : 0; }

void durable_writeback(int fd) {
  if (durable_enabled())
    (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}
