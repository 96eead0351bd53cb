/*
 * projpath.h — the project of a pipeline, and whether a path really is
 * inside it.
 *
 * The project of a .pipe file is the nearest directory at or above the
 * file's own that holds `.pipec` or `.git` (a directory, or the `.git` file
 * of a git worktree or submodule), else the file's directory. Files the
 * compiler reads (imports, `code`, `path` values) and files pipec writes
 * (rollback, publish) must be inside it, judged by their *real* path: every
 * symbolic link resolved, the last component's and every directory's on the
 * way, so no link can lead out.
 *
 * A path pipec is about to create does not exist yet: its deepest existing
 * ancestor is resolved and the rest appended (a dangling link on the way is
 * followed to where it points, as writing through it would), so the answer
 * is where the bytes would really land.
 */
#ifndef PIPEC_PROJPATH_H
#define PIPEC_PROJPATH_H

#include <stdbool.h>
#include <stddef.h>

/* The project of pipeline file `file` (relative to the current directory or
 * absolute), as a real path, in out. 0, or a negative errno value. */
int projpath_root(const char *file, char *out, size_t len);

/* The real path of `path`, which need not exist (see above), in out. 0, or
 * a negative errno value (-ENOENT: a ".." below a directory that does not
 * exist; -ELOOP: too many links; -ENAMETOOLONG). */
int projpath_real(const char *path, char *out, size_t len);

/* Does `path` really lie inside `root` (a real path, as projpath_root
 * gives)? 1 inside, 0 outside, or a negative errno value if it cannot be
 * resolved. Its real path goes to real (if not NULL) either way. The root
 * itself counts as inside. */
int projpath_inside(const char *root, const char *path, char *real,
                    size_t reallen);

#endif
