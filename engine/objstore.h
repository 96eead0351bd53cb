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
 * worst a temp file, which obj_clean_tmp() removes later. An object already
 * present is not written again (dedupe), unless its size is wrong.
 *
 * Durability: by default each put fsyncs the file and its directory. A
 * caller that stores many objects at once may open with no_sync and call
 * obj_sync() once before it records (commits) references to them.
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

/* Store a copy of the file at src: hashed while copied, so src is read
 * once. *h and *size (may be NULL) receive its hash and size. */
int obj_put_file(obj_store *s, const char *src, hash128 *h, uint64_t *size,
                 char *err, size_t errlen);

/* Store the file at src by moving it in (hash in place, rename: no copy),
 * for outputs written in a scratch directory of the same filesystem. Falls
 * back to a copy when src is on another filesystem, is a symlink or has
 * other hard links (it may be someone else's file). src is gone afterwards
 * (on success). */
int obj_put_move(obj_store *s, const char *src, hash128 *h, uint64_t *size,
                 char *err, size_t errlen);

/* The object is present with the given size (OBJ_ANY_SIZE: any). Stat
 * only: cheap enough for every cache hit. */
bool obj_exists(const obj_store *s, const hash128 *h, uint64_t size);

/* Re-hash the object: 0 intact, 1 damaged (content does not match its name;
 * err says so), -ENOENT missing, other negative errno on error. */
int obj_verify(const obj_store *s, const hash128 *h, char *err,
               size_t errlen);

/* Called for each object; status as obj_verify(), msg says what is wrong
 * (empty when intact). The callback may obj_remove() the object. Return
 * non-zero to stop. */
typedef int (*obj_verify_cb)(void *ctx, const hash128 *h, int status,
                             const char *msg);

/* Verify every object. Returns the number of damaged or unreadable objects
 * (>= 0), or a negative errno if the store itself cannot be read. */
int obj_verify_all(const obj_store *s, obj_verify_cb cb, void *ctx,
                   char *err, size_t errlen);

/* Called for each object with its size; return non-zero to stop (which
 * obj_foreach then returns). */
typedef int (*obj_foreach_cb)(void *ctx, const hash128 *h, uint64_t size);

int obj_foreach(const obj_store *s, obj_foreach_cb cb, void *ctx, char *err,
                size_t errlen);

/* Delete an object (for gc and for damaged objects). 0, or -ENOENT, or
 * another negative errno. */
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

/* Flush everything written with no_sync to disk (syncfs). */
int obj_sync(obj_store *s, char *err, size_t errlen);

/* Remove temp files left by crashed processes: those whose pid is dead, and
 * any not modified for max_age_s seconds. Returns how many were removed. */
int obj_clean_tmp(obj_store *s, int64_t max_age_s, char *err, size_t errlen);

#endif
