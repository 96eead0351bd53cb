/*
 * hash.h — content hashes: XXH3-128 digests of buffers, files and trees.
 *
 * A hash128 holds the digest in xxHash's canonical byte order (big-endian),
 * so its hex form is what `xxh128sum` prints. Files are hashed by streaming
 * through a large buffer; xxHash does all per-byte work.
 *
 * hash_file_cached() skips re-reading unchanged source files the way git's
 * index does: it remembers (path, dev, ino, size, mtime, ctime) -> hash
 * through a small callback interface (the runner wires it to the store), and
 * refuses to trust or record an entry whose timestamps are within the last
 * HASH_RACY_NS of now (a file written in the same tick as it was hashed could
 * change again without its stat data changing: git's "racy" problem).
 *
 * hash_memo memoizes per run, so a file is hashed at most once per run
 * however many nodes read it.
 *
 * Errors: functions return 0 or a negative errno and write a one-line
 * message into err (at most errlen bytes).
 */
#ifndef PIPEC_HASH_H
#define PIPEC_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_HEX_LEN 32
#define HASH_RACY_NS (2 * 1000000000LL)

typedef struct hash128 {
  uint8_t b[16];               /* canonical (big-endian) digest bytes */
} hash128;

/* Write 32 lowercase hex digits and a NUL into out. */
void hash_hex(const hash128 *h, char out[HASH_HEX_LEN + 1]);
/* Parse exactly HASH_HEX_LEN hex digits (either case) from s (s need not be
 * NUL-terminated after them). 0, or -EINVAL. */
int hash_from_hex(const char *s, hash128 *out);
bool hash_eq(const hash128 *a, const hash128 *b);

hash128 hash_buf(const void *data, size_t len);

/* Incremental hashing, for callers that produce bytes piece by piece (the
 * object store hashes while it copies). */
typedef struct hash_stream hash_stream;
hash_stream *hash_stream_new(void);            /* NULL if out of memory */
void hash_stream_update(hash_stream *s, const void *data, size_t len);
hash128 hash_stream_digest(const hash_stream *s);
void hash_stream_free(hash_stream *s);

/* Hash everything readable from fd (from its current offset). *size, if not
 * NULL, receives the number of bytes hashed. name is for messages. */
int hash_fd(int fd, const char *name, hash128 *out, uint64_t *size, char *err,
            size_t errlen);
int hash_file(const char *path, hash128 *out, uint64_t *size, char *err,
              size_t errlen);

/* ---- the file-hash index (git's index) ---------------------------------- */

/* What identifies a file's version without reading it. */
typedef struct hash_stat {
  uint64_t dev, ino, size;
  int64_t mtime_ns, ctime_ns;
} hash_stat;

struct stat;
/* The identity fields of a stat(2) result. */
hash_stat hash_stat_of(const struct stat *st);
/* All five fields equal. */
bool hash_stat_eq(const hash_stat *a, const hash_stat *b);

/* The index, as callbacks; the runner wires them to the store. */
typedef struct hash_index {
  void *ctx;
  /* 1 and *st, *h filled if path has an entry; 0 if not; < 0 on error (then
   * treated as "no entry"). */
  int (*get)(void *ctx, const char *path, hash_stat *st, hash128 *h);
  /* Record path -> (st, h). Errors are ignored: the index only saves time. */
  int (*put)(void *ctx, const char *path, const hash_stat *st,
             const hash128 *h);
  int64_t now_ns;   /* the time raciness is judged by (ns since the epoch);
                       0: the real clock. Tests pin it. */
} hash_index;

/* Hash the regular file at path, reusing the index entry when all of st
 * match and the file is not racy; otherwise hash it and record the entry
 * (unless racy). idx may be NULL (plain hashing). path is the index key:
 * pass a stable form (absolute). */
int hash_file_cached(const char *path, const hash_index *idx, hash128 *out,
                     char *err, size_t errlen);

/* Hash a file or, for a directory, its whole tree as its tree object
 * would hash (tree.h: entries sorted by name, each with its executable bit
 * and content or subtree hash; symlinks followed; only files and
 * directories). Files go through hash_file_cached with
 * idx (may be NULL). *is_dir (may be NULL) tells which it was. */
int hash_path(const char *path, const hash_index *idx, hash128 *out,
              bool *is_dir, char *err, size_t errlen);

/* ---- per-run memo ------------------------------------------------------- */

/* Remembers path -> hash for one run. Relative paths are resolved against
 * base_dir (made absolute once, at creation). Not thread-safe. */
typedef struct hash_memo hash_memo;

/* idx may be NULL; it must outlive the memo. NULL if out of memory or
 * base_dir cannot be resolved (errno set). */
hash_memo *hash_memo_new(const char *base_dir, const hash_index *idx);
void hash_memo_free(hash_memo *m);

/* hash_path() of base_dir/path (path as is if absolute), once per run:
 * a success is remembered, a failure is not. */
int hash_memo_path(hash_memo *m, const char *path, hash128 *out, bool *is_dir,
                   char *err, size_t errlen);

/* Adapter with the shape of ck_file_hash_fn (cachekey.h); ctx is a
 * hash_memo. */
int hash_memo_cb(void *ctx, const char *path, hash128 *out, bool *is_dir,
                 char *err, size_t errlen);

#endif
