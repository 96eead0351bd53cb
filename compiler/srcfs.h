/*
 * srcfs.h — the compiler's view of the file system: the caller's read,
 * stat and list callbacks (or the disk's), and the checks every source
 * path gets before the compiler uses it.
 *
 * A path named by an import, a `code` setting or a `path` value must be
 * there, be of a kind the use allows, and (when the project is known) have
 * its *real* path inside the project: a symbolic link, or a directory on
 * the way that is one, cannot lead out. Results are remembered per path, so
 * a million nodes reading one file look it up once, and each place in the
 * source is reported once (a node line repeated by a loop says it once).
 *
 * Paths here are as the compiler opens them: relative to the current
 * directory or absolute, lexically normalised (path.h).
 */
#ifndef PIPEC_SRCFS_H
#define PIPEC_SRCFS_H

#include <stdbool.h>

#include "arena.h"
#include "pipec/compiler.h"

/* What a use accepts (a mask). */
enum {
  SRCFS_FILE = 1,          /* a regular file */
  SRCFS_DIR = 2,           /* a directory */
};

typedef enum srcfs_status {
  SRCFS_OK,                /* there, allowed, inside (or not checkable) */
  SRCFS_MISSING,           /* nothing there; not reported */
  SRCFS_REPORTED,          /* wrong kind, outside the project, unreadable:
                              reported */
} srcfs_status;

typedef struct srcfs srcfs;

/* The callbacks of opts (defaults filled in) on arena a, which holds
 * everything srcfs allocates. */
srcfs *srcfs_new(arena *a, const pipec_compile_opts *opts);

/* The reader (never NULL). */
int srcfs_read(srcfs *fs, const char *path, char **text, size_t *len);

/* Can paths be looked up / directories listed here? */
bool srcfs_can_stat(const srcfs *fs);
bool srcfs_can_list(const srcfs *fs);

/* Check `path` for a use that accepts `kinds`. A problem other than a
 * missing file is reported at (src, off, len) as "WHAT 'PATH' ...", e.g.
 * "import 'pw.pipe' is outside the project (/p): its real path is
 * /etc/passwd". A place already reported is not reported again (the
 * status stays). Without a stat callback: SRCFS_OK, after the lexical
 * project check. */
srcfs_status srcfs_check(srcfs *fs, pipec_diags *d, int32_t src, uint32_t off,
                         uint32_t len, const char *what, const char *path,
                         unsigned kinds);

/* Has (src, off) been reported as missing already? Marks it if not. For the
 * callers' own "does not exist" messages. */
bool srcfs_seen(srcfs *fs, int32_t src, uint32_t off);

/* A "did you mean 'X'?" hint on g if the directory of `path` has an entry
 * close to its last component; X is `written` (the path as the user wrote
 * it) with that component replaced. If the directory itself is missing,
 * the hint says so. */
void srcfs_suggest(srcfs *fs, pipec_diag *g, const char *path,
                   const char *written);

/* The regular files matching glob `pattern` (`*`, `?`, `[...]` in any
 * component, as fnmatch with FNM_PERIOD: a leading dot is matched only by
 * a dot), sorted, interned in the arena. Returns 0, or an errno value when
 * a directory cannot be listed (ENOSYS: no list callback). */
int srcfs_glob(srcfs *fs, const char *pattern, const char ***out,
               uint32_t *n);

/* Does s hold a glob character? */
bool srcfs_is_glob(const char *s);

#endif
