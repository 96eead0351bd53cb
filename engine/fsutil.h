/*
 * fsutil.h — the few file and directory operations engine modules share.
 */
#ifndef PIPEC_FSUTIL_H
#define PIPEC_FSUTIL_H

#include <stddef.h>

/* mkdir -p: 0, or a negative errno. */
int fs_mkdir_p(const char *path);
/* Create the directories above the file path (not path itself). */
int fs_mkdirs_for(const char *path);
/* rm -rf, not following symlinks; a missing path is fine. */
void fs_rm_rf(const char *path);
/* The whole file (malloc'd, NUL-terminated beyond *len), or NULL (errno
 * says why) if it cannot be read. */
char *fs_read_all(const char *path, size_t *len);
/* This machine's name as one file name component ('/' made '_'; "host"
 * if it has none), for names that say who wrote a file. */
void fs_hostname(char *out, size_t len);

#endif
