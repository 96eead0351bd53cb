/*
 * fsutil.h — the few directory operations the engine and the CLI share.
 */
#ifndef PIPEC_FSUTIL_H
#define PIPEC_FSUTIL_H

/* mkdir -p: 0, or a negative errno. */
int fs_mkdir_p(const char *path);
/* Create the directories above the file path (not path itself). */
int fs_mkdirs_for(const char *path);
/* rm -rf, not following symlinks; a missing path is fine. */
void fs_rm_rf(const char *path);

#endif
