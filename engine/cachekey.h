/*
 * cachekey.h — a node's cache key (DESIGN §4) and why it changed.
 *
 * The key is XXH3-128 over a canonical encoding (every field typed and
 * length-prefixed, so no two different nodes encode alike) of:
 *
 *   component   built-in: name and version; command: the template, the
 *               declared `version` if any, the output ports (name, type),
 *               and the code files (path, content hash), sorted by path
 *   params      every param of the node (the IR sorts them by name): name,
 *               type, value; a `path` param adds its file's content hash
 *               (a directory: the hash of its sorted tree; a missing file:
 *               "missing")
 *   inputs      per input port, sorted by port name: the content hash of
 *               the file wired to it (not the producer's key: early cut-off)
 *   env         the component's env, sorted by name
 *   image       for a node with an `image`: the image's id (the digest of
 *               its config, as its target's runtime resolved it), never the
 *               tag (container.h), and whether it has the network (what a
 *               command can see and fetch depends on it)
 *
 * and nothing else: not the node's name, not its target, retries, timeout or
 * resources. So renaming a node or moving it to another target keeps its
 * cache.
 *
 * Alongside the key, ck_compute() can fill the key's *parts*: one
 * (name, value) per item above, in readable text, e.g.
 *
 *   component        table.read_csv@1
 *   param:ratio      0.8
 *   param:data       path data/x.csv content 9f3c...
 *   input:raw        5d2e...                    (note: "load.out")
 *   code:scripts/f.py  77a1...
 *   env:PYTHONHASHSEED 0
 *   image            sha256:41d8...               (note: "localhost/x:1")
 *   network          off
 *
 * Two keys differ exactly when some part's value differs (the renderings
 * are as unambiguous as the encoding). The store keeps the parts of each
 * node run as text (ck_parts_format / ck_parts_parse); ck_explain() compares
 * the last successful run's parts with today's for `pipec why` and for the
 * reason of a cache miss.
 */
#ifndef PIPEC_CACHEKEY_H
#define PIPEC_CACHEKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "pipec/ir.h"

#define CK_FORMAT 1    /* bump when the encoding changes */

/* Hash a project file or directory, path relative to the pipeline's
 * directory (p->dir). Return 0, or a negative errno with err filled
 * (-ENOENT for a missing file). hash_memo_cb (hash.h) is one, memoized per
 * run. */
typedef int (*ck_file_hash_fn)(void *ctx, const char *path, hash128 *out,
                               bool *is_dir, char *err, size_t errlen);

typedef struct ck_part {
  const char *name;    /* "param:ratio" */
  const char *value;   /* compared */
  const char *note;    /* shown, never compared: an input's producer
                          "load.out", a command component's name; or "" */
} ck_part;

/* Zero-initialize ({0}) before first use; ck_parts_free() when done. The
 * strings belong to the list. */
typedef struct ck_parts {
  ck_part *items;
  uint32_t n, cap;
} ck_parts;

void ck_parts_clear(ck_parts *ps);   /* empty, keep the memory */
void ck_parts_free(ck_parts *ps);
/* Append a part (copies the strings; note may be NULL). 0 or -ENOMEM. */
int ck_parts_add(ck_parts *ps, const char *name, const char *value,
                 const char *note);
const ck_part *ck_parts_find(const ck_parts *ps, const char *name);

/* Compute the key of p->nodes[node]. input_hashes[i] is the content hash of
 * the file wired to node->inputs[i]; image_id is the id of the node's image
 * (NULL for a node without one; -EINVAL for a node with one). parts may be
 * NULL (cheaper). Returns 0, or a negative errno with err filled (a code
 * file cannot be read...). */
int ck_compute(const pipec_pipeline *p, uint32_t node,
               const hash128 *input_hashes, const char *image_id,
               ck_file_hash_fn file_hash, void *ctx, hash128 *key,
               ck_parts *parts, char *err, size_t errlen);

/* Parts as text: a header line, then one "name TAB value TAB note" line per
 * part, with backslash, tab, CR and newline escaped. Returns a malloc'd
 * NUL-terminated string (length in *len if not NULL), or NULL if out of
 * memory. */
char *ck_parts_format(const ck_parts *ps, size_t *len);

/* Parse what ck_parts_format() wrote, appending to out (zero it first).
 * 0, or -EINVAL with err filled. */
int ck_parts_parse(const char *text, size_t len, ck_parts *out, char *err,
                   size_t errlen);

/* What differs between the parts of an old key and a new one, in human
 * terms, one line each ("param 'ratio' changed: 0.8 -> 0.7"). *out gets a
 * malloc'd string ("" when nothing differs). Returns the number of
 * differences, or -ENOMEM. */
int ck_explain(const ck_parts *old_parts, const ck_parts *new_parts,
               char **out);

#endif
