/*
 * objstore.h — the content-addressed object store (.pipec/objects/).
 *
 * Every output file is stored once, named by its XXH3-128 content hash:
 *
 *     objects/ab/cdef0123...      (2 + 30 hex digits)  read-only (0444)
 *     objects/tmp/<pid>.XXXXXX    files being written
 *
 * Invariant: a file under its hash's name is whole. An object is written
 * under tmp/ (same filesystem), fsync'd, made read-only, and only then
 * renamed into place, and the fan-out directory fsync'd; a crash leaves at
 * worst a temp file, which obj_clean_tmp() removes later.
 *
 * Trust: read-only bits stop nobody running as root (or the owner, who may
 * chmod), so a stored object can change after it was written. Each put
 * hands back the object's stat identity (hash.h's hash_stat: device,
 * inode, size, mtime, ctime), which the caller records; obj_check()
 * compares an object with that record and re-hashes it when anything
 * differs, as git's index does for the work tree. When the same bytes are
 * stored again and an object is already there, the caller decides whether
 * the existing one is trusted (kept: dedupe) or replaced by the new copy,
 * whose bytes were just hashed.
 *
 * Durability: by default each put fsyncs the file and its directory (an
 * object that is already there and kept is never synced again). A caller
 * that stores many objects before it records (commits) references to them
 * opens with defer_sync and calls obj_sync_pending() right before each
 * such commit: one batch of fsyncs for everything stored since the last
 * one. (no_sync with obj_sync(), a syncfs, is the same for callers that
 * write the whole filesystem's worth.)
 *
 * Errors: functions returning int give 0 (or a count) on success and a
 * negative errno on failure, with a one-line message in err (errlen bytes).
 * Disk full (ENOSPC, EDQUOT) says so plainly and leaves no partial file.
 */
#ifndef PIPEC_OBJSTORE_H
#define PIPEC_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hash.h"

#define OBJ_ANY_SIZE UINT64_MAX

typedef struct obj_store obj_store;

typedef struct obj_opts {
  bool no_sync;    /* skip per-object fsyncs; the caller calls obj_sync() */
  bool defer_sync; /* per-object fsyncs wait for obj_sync_pending() */
  /* write(2) stand-in, for tests (e.g. a fake disk that fills up); NULL:
   * write(2). */
  ssize_t (*write)(int fd, const void *buf, size_t n);
} obj_opts;

/* Open (creating if needed) the store rooted at dir (".pipec/objects").
 * opts may be NULL. */
int obj_open(const char *dir, const obj_opts *opts, obj_store **out,
             char *err, size_t errlen);
void obj_close(obj_store *s);
const char *obj_dir(const obj_store *s);

/* Write the object's path into buf (PATH_MAX is plenty). Returns the length
 * it needs, like snprintf. */
int obj_path(const obj_store *s, const hash128 *h, char *buf, size_t len);

/* What a put stored: the object's name, size and stat identity (after it
 * was renamed into place, or of the existing object that was kept). */
typedef struct obj_info {
  hash128 hash;
  uint64_t size;
  hash_stat st;
} obj_info;

/* Asked when an object with the bytes being stored is already present
 * (with the same size): true keeps it (dedupe; its stat is returned),
 * false replaces it with the new copy. existing is its stat now. */
typedef bool (*obj_keep_fn)(void *ctx, const hash128 *h,
                            const hash_stat *existing);

typedef struct obj_put_opts {
  /* Move src in (hash in place, rename: no copy), for outputs written in a
   * scratch directory of the same filesystem; src is gone afterwards (on
   * success). A symlink is refused (-ELOOP: an output must be the file
   * itself, never a link to something else); a file with other hard links
   * or on another filesystem is copied (it may be someone else's file).
   * false: store a copy of src, which is read once (symlinks followed). */
  bool move;
  obj_keep_fn keep;        /* NULL: an existing object is replaced */
  void *keep_ctx;
  /* Store it only if its bytes hash to *expect (NULL: any): otherwise
   * nothing is stored and obj_put returns -EBADMSG, err saying what the
   * bytes hash to (for bytes from elsewhere that must be what their name
   * says: a shared cache's objects). */
  const hash128 *expect;
} obj_put_opts;

/* Store the file at src (opts may be NULL: a copy, replacing). */
int obj_put(obj_store *s, const char *src, const obj_put_opts *opts,
            obj_info *out, char *err, size_t errlen);

/* obj_put() shorthands: a copy, or a move; *h and *size (may be NULL)
 * receive the hash and size. */
int obj_put_file(obj_store *s, const char *src, hash128 *h, uint64_t *size,
                 char *err, size_t errlen);
int obj_put_move(obj_store *s, const char *src, hash128 *h, uint64_t *size,
                 char *err, size_t errlen);

/* The object is present with the given size (OBJ_ANY_SIZE: any). Stat
 * only. */
bool obj_exists(const obj_store *s, const hash128 *h, uint64_t size);

/* lstat the object: 0 and *st for a regular file; -ENOENT missing;
 * -ELOOP a symlink, -EISDIR a directory, -EINVAL anything else. */
int obj_stat(const obj_store *s, const hash128 *h, hash_stat *st);

/* Is the object what its name says? recorded (NULL: nothing recorded) is
 * its stat as last known intact. If the object's stat equals it, the
 * object is trusted without reading it; otherwise it is re-hashed (never
 * following a symlink), and *rehashed (may be NULL) is set. Returns 0
 * intact, with *now (may be NULL) its stat to record; OBJ_DAMAGED (its
 * bytes do not match its name, or it changed while being read) or
 * OBJ_NOT_FILE (a symlink, a directory... under its name), err saying
 * which; -ENOENT missing; another negative errno if it cannot be read. */
enum { OBJ_DAMAGED = 1, OBJ_NOT_FILE = 2 };
int obj_check(const obj_store *s, const hash128 *h, const hash_stat *recorded,
              hash_stat *now, bool *rehashed, char *err, size_t errlen);

/* Make the object read-only again if someone made it writable; *st (may
 * be NULL) is its stat afterwards. 0 or a negative errno. */
int obj_seal(obj_store *s, const hash128 *h, hash_stat *st);

/* obj_check() with nothing recorded: always re-hashes. */
int obj_verify(const obj_store *s, const hash128 *h, char *err,
               size_t errlen);

/* Called for each entry under an object's name; status as obj_check(),
 * st its stat when intact (else NULL), msg what is wrong
 * (empty when intact). The callback may obj_remove() the entry. Return
 * non-zero to stop. */
typedef int (*obj_verify_cb)(void *ctx, const hash128 *h, int status,
                             const hash_stat *st, const char *msg);

/* Verify every object. Returns the number of damaged or unreadable objects
 * (>= 0), or a negative errno if the store itself cannot be read. */
int obj_verify_all(const obj_store *s, obj_verify_cb cb, void *ctx,
                   char *err, size_t errlen);

/* Called for each object with its size; return non-zero to stop (which
 * obj_foreach then returns). */
typedef int (*obj_foreach_cb)(void *ctx, const hash128 *h, uint64_t size);

int obj_foreach(const obj_store *s, obj_foreach_cb cb, void *ctx, char *err,
                size_t errlen);

/* Delete an object (for gc and for damaged objects; whatever is under its
 * name: a file, a symlink, a directory tree). 0, or -ENOENT, or another
 * negative errno. */
int obj_remove(obj_store *s, const hash128 *h, char *err, size_t errlen);

enum {
  OBJ_MAT_COPY = 1u << 0,  /* never hard-link: the destination must not
                              share the object's inode */
};

/* Make the object appear at dest, read-only: a hard link if possible (and
 * not OBJ_MAT_COPY), else a copy (reflink where the filesystem can). An
 * existing dest is replaced atomically. */
int obj_materialize(const obj_store *s, const hash128 *h, const char *dest,
                    unsigned flags, char *err, size_t errlen);

/* Does this filesystem give a change made right after a stat a new
 * timestamp (fine-grained, "multigrain" timestamps: Linux 6.13 and later
 * on ext4, xfs, btrfs, tmpfs)? Where it does not, a write within the same
 * clock tick (a few ms) as pipec's last look at an object leaves its stat
 * unchanged, so a caller that must catch every change re-hashes instead
 * of trusting equal stats. Probed once per store (a temp file). */
bool obj_fine_timestamps(obj_store *s);

/* Flush everything written with no_sync to disk (syncfs). */
int obj_sync(obj_store *s, char *err, size_t errlen);

/* defer_sync: make every object stored since the last call durable, with
 * the fan-out directories naming them (fsyncs, files first). Call it
 * before committing anything that names them. 0 or a negative errno with
 * err. obj_pending: how many objects wait for it. */
int obj_sync_pending(obj_store *s, char *err, size_t errlen);
size_t obj_pending(const obj_store *s);

/* Remove temp files left by crashed processes: those whose pid is dead, and
 * any not modified for max_age_s seconds. Returns how many were removed. */
int obj_clean_tmp(obj_store *s, int64_t max_age_s, char *err, size_t errlen);

#endif
