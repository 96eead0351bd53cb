/*
 * run_sources.c — the project's source files and directories as a run's
 * inputs (DESIGN §3.2, §4): `file("p")`, `dir("p")` and path params wired
 * to ports (the pipeline's datafiles).
 *
 * Each (every source of the pipeline: the plan is made after them, once
 * run-time loops are expanded) is hashed once per run through the file
 * index (an unchanged file is
 * not read again) and, for a run that executes nodes, stored in the object
 * store like an output (a copy: reflinked where the filesystem can), so a
 * node reads it through a link of its own like any other input, and a
 * snapshot can give it back. A directory becomes a tree object (tree.h):
 * the same files give the same hash wherever they are.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"
#include "tree.h"

uint32_t run_source_index(const runner *R, const char *path) {
  uint32_t lo = 0, hi = R->p->n_datafiles;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(R->p->datafiles[mid].path, path);
    if (c == 0)
      return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return PIPEC_NONE;
}

/* Hash (and with store, put) one source. */
static int one_source(runner *R, uint32_t i, bool put, char *err,
                      size_t errlen) {
  const pipec_datafile *df = &R->p->datafiles[i];
  char abs[PATH_MAX], e[512];
  snprintf(abs, sizeof abs, "%s/%s", R->abs_dir, df->path);
  hash128 h;
  int rc = df->dir ? tree_hash_dir(abs, &R->idx, &h, e, sizeof e)
                   : hash_file_cached(abs, &R->idx, &h, e, sizeof e);
  if (rc == 0 && put) {
    hash_stat sb;
    if (df->dir) {
      if (!tree_is_tree(R->objs, &h)) /* a tree names only stored objects */
        rc = tree_put(R->objs, abs, TREE_FOLLOW, &h, NULL, e, sizeof e);
      if (rc == 0)
        store_tree_add(R->st, &h);
    } else if (obj_stat(R->objs, &h, &sb) != 0) {
      obj_info info;
      rc = obj_put(R->objs, abs, NULL, &info, e, sizeof e);
      if (rc == 0) { /* the bytes stored decide (it may have just changed) */
        h = info.hash;
        run_obj *o = run_objs_get(R, &h);
        o->st = info.st;
        o->known = true;
        o->dirty = true;
      }
    }
  }
  if (rc != 0) {
    snprintf(err, errlen, "source %s '%s' cannot be read: %s",
             df->dir ? "directory" : "file", df->path, e);
    return -1;
  }
  R->src_hash[i] = h;
  return 0;
}

int run_sources(runner *R, bool put, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  R->src_hash = xcalloc(p->n_datafiles, sizeof *R->src_hash);
  if (!p->n_datafiles)
    return 0;
  /* the file index's writes in one transaction */
  bool open = store_begin(R->st) == 0;
  int rc = 0;
  for (uint32_t i = 0; i < p->n_datafiles && rc == 0; i++)
    rc = one_source(R, i, put, err, errlen);
  char e[768];
  if (open && run_commit(R, e, sizeof e) != 0 && rc == 0) {
    snprintf(err, errlen, "cannot record the source files' hashes: %s", e);
    rc = -1;
  }
  return rc;
}
