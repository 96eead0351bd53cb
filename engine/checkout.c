/*
 * checkout.c — a snapshot's files as a project of their own (checkout.h),
 * for `pipec run FILE --snapshot N`.
 */
#include "checkout.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "hash.h"
#include "tree.h"

/* A recorded path that stays inside the checkout: relative, no "..". */
static bool plain_path(const char *rec) {
  if (!*rec || rec[0] == '/' || strcmp(rec, "..") == 0 ||
      strncmp(rec, "../", 3) == 0 || strstr(rec, "/../"))
    return false;
  size_t n = strlen(rec);
  return !(n >= 3 && strcmp(rec + n - 3, "/..") == 0);
}

/* dir/rec, its directory made. */
static char *place(const char *dir, const char *rec, char *err,
                   size_t errlen) {
  if (!plain_path(rec)) {
    snprintf(err, errlen, "the snapshot reads %s, outside the project: a "
                          "run of it cannot give that file back",
             rec);
    return NULL;
  }
  char *path = xprintf("%s/%s", dir, rec);
  int rc = fs_mkdirs_for(path);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create the directory of %s: %s", path,
             strerror(-rc));
    free(path);
    return NULL;
  }
  return path;
}

static int write_bytes(const char *path, const char *bytes, size_t len,
                       char *err, size_t errlen) {
  FILE *f = fopen(path, "wb");
  if (!f || (len && fwrite(bytes, 1, len, f) != len) || fclose(f) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* The checkout's copy of a file or directory holds the bytes the snapshot
 * recorded: a damaged object is never run. */
static bool same_bytes(const char *path, const hash128 *want, char *e,
                       size_t elen) {
  hash128 got;
  if (hash_path(path, NULL, &got, NULL, e, elen) != 0)
    return false;
  if (hash_eq(&got, want))
    return true;
  snprintf(e, elen, "its stored bytes are damaged; pipec cache verify "
                    "removes them");
  return false;
}

int checkout_make(ws *w, store *st, int64_t id, checkout *out, char *err,
                  size_t errlen) {
  memset(out, 0, sizeof *out);
  store_snapshot s;
  if (store_snapshot_get(st, id, &s) != 1) {
    snprintf(err, errlen, "no snapshot %lld (pipec snapshots lists them)",
             (long long)id);
    return -1;
  }
  store_file *files = NULL;
  store_snap_file *sf = NULL;
  uint32_t n = 0, n_sf = 0;
  obj_store *objs = NULL;
  int rc = -1;
  out->dir = xprintf("%s/checkout/%lld", ws_dir(w), (long long)id);
  fs_rm_rf(out->dir); /* an earlier checkout: made again from the store */
  if (fs_mkdir_p(out->dir) != 0) {
    snprintf(err, errlen, "cannot create %s: %s", out->dir, strerror(errno));
    goto out;
  }
  if (store_draft_files(st, s.draft_id, &files, &n) != 0 ||
      store_snapshot_files(st, id, &sf, &n_sf) != 0 ||
      store_snapshot_overrides(st, id, &out->ov, &out->n_ov) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    goto out;
  }
  if (obj_open(ws_objects_dir(w), NULL, &objs, err, errlen) != 0)
    goto out;
  for (uint32_t i = 0; i < n; i++) {
    char *path = place(out->dir, files[i].path, err, errlen);
    int r = path ? write_bytes(path, files[i].text ? files[i].text : "",
                               files[i].len, err, errlen)
                 : -1;
    free(path);
    if (r != 0)
      goto out;
  }
  for (uint32_t i = 0; i < n_sf; i++) {
    char *path = place(out->dir, sf[i].path, err, errlen);
    if (!path)
      goto out;
    char e[512];
    struct stat sb;
    int r = 0;
    if (lstat(path, &sb) == 0) /* a .pipe file also in `code` */
      r = 0;
    else if (sf[i].is_dir)
      r = tree_copy_out(objs, &sf[i].hash, path, e, sizeof e);
    else if ((r = obj_materialize(objs, &sf[i].hash, path, OBJ_MAT_COPY, e,
                                  sizeof e)) == 0)
      chmod(path, sf[i].mode ? (mode_t)sf[i].mode : 0644);
    if (r == 0 && !same_bytes(path, &sf[i].hash, e, sizeof e))
      r = -1;
    free(path);
    if (r != 0) {
      snprintf(err, errlen, "%s %s of snapshot %lld cannot be checked out: "
                            "%s",
               sf[i].kind == STORE_FILE_CODE ? "code file" : "data file",
               sf[i].path, (long long)id, e);
      goto out;
    }
  }
  out->main = xprintf("%s/%s", out->dir, s.main_path);
  out->main_rec = xstrdup(s.main_path);
  rc = 0;
out:
  obj_close(objs);
  store_files_free(files, n);
  store_snap_files_free(sf, n_sf);
  store_snapshot_free(&s);
  if (rc != 0) { /* nothing half made or damaged is left to be run */
    if (out->dir)
      fs_rm_rf(out->dir);
    checkout_free(out);
  }
  return rc;
}

void checkout_free(checkout *c) {
  free(c->dir);
  free(c->main);
  free(c->main_rec);
  store_overrides_free(c->ov, c->n_ov);
  memset(c, 0, sizeof *c);
}
