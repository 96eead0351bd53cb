/*
 * tree.h — directories as content: tree objects in the object store.
 *
 * A `dir` artifact (an output port of type dir, a `dir("p")` source, a
 * `path` param naming a directory) is stored as a tree object: a small
 * text object that lists the directory's entries, sorted by name (bytes):
 *
 *     pipec-tree 1
 *     f <32 hex> <name>     a regular file: the hash of its content object
 *     x <32 hex> <name>     the same, executable
 *     d <32 hex> <name>     a subdirectory: the hash of its tree object
 *
 * The directory's hash is the hash of that text (DESIGN §4), so the same
 * files (names, bytes, executable bits) give the same hash wherever they
 * were written; empty directories count, modes other than the executable
 * bit and times do not. Every file and every tree is an ordinary object:
 * written once, read-only, verified by re-hashing; a tree names only
 * objects that were stored before it.
 *
 * What a tree cannot hold is refused with a message naming the path: a
 * symlink (unless TREE_FOLLOW, for project sources), a device, FIFO or
 * socket, a name with a newline, more than TREE_MAX_DEPTH levels.
 */
#ifndef PIPEC_TREE_H
#define PIPEC_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "objstore.h"

#define TREE_MAX_DEPTH 64
#define TREE_MAGIC "pipec-tree 1\n"

enum {
  TREE_MOVE = 1u << 0,    /* move the files into the store (outputs in a
                             scratch directory) instead of copying them */
  TREE_FOLLOW = 1u << 1,  /* follow symlinks (sources in the project);
                             without it a symlink is an error */
};

typedef struct tree_stats {
  uint64_t files, dirs, bytes;
} tree_stats;

/* Store the directory at path and every file below it; *h receives the
 * root tree's hash, *stats (may be NULL) what it held. 0, or a negative
 * errno with err filled. A failure leaves only whole objects behind. */
int tree_put(obj_store *s, const char *path, unsigned flags, hash128 *h,
             tree_stats *stats, char *err, size_t errlen);

/* The hash tree_put would give, without storing anything (TREE_FOLLOW is
 * implied: sources). Files are hashed through idx (the file index, may
 * be NULL). */
int tree_hash_dir(const char *path, const hash_index *idx, hash128 *h,
                  char *err, size_t errlen);

typedef struct tree_entry {
  char kind;              /* 'f', 'x' or 'd' */
  hash128 hash;
  char *name;
} tree_entry;

/* The entries of tree object h, in order (free with tree_entries_free).
 * 0; -ENOENT if the object is missing; -EINVAL if it is not a tree. */
int tree_read(const obj_store *s, const hash128 *h, tree_entry **out,
              uint32_t *n, char *err, size_t errlen);
void tree_entries_free(tree_entry *e, uint32_t n);

/* Is object h a tree object? (Reads its first bytes.) */
bool tree_is_tree(const obj_store *s, const hash128 *h);

/* Make tree h appear at dest, which must not exist: its directories
 * created, its files hard links to their objects (copies for executable
 * files, whose mode a shared inode cannot carry, or where linking fails),
 * then every directory made read-only. 0, or a negative errno with err
 * filled (dest may then be partly made: the caller removes it). */
int tree_materialize(const obj_store *s, const hash128 *h, const char *dest,
                     char *err, size_t errlen);
/* The same as the user's own files: every file a copy (never a link into
 * the store), files 0644 (0755 executable), directories 0755. For
 * `publish`. */
int tree_copy_out(const obj_store *s, const hash128 *h, const char *dest,
                  char *err, size_t errlen);

/* Call fn for every object tree h names, recursively, and for h itself
 * (kind 'd'); a non-zero return stops the walk and is returned. Missing
 * or damaged subtrees are an error (negative errno, err filled). */
typedef int (*tree_walk_fn)(void *ctx, const hash128 *h, char kind);
int tree_walk(const obj_store *s, const hash128 *h, tree_walk_fn fn,
              void *ctx, char *err, size_t errlen);

#endif
