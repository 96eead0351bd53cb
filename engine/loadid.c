/*
 * loadid.c — the hash of what a compile read (loadid.h).
 *
 * Each question goes into the hash with a tag, its path and the answer
 * (the errno too: a file that is not there is an answer). Strings are
 * hashed with their length, so no two sequences of them hash alike by
 * running into each other.
 */
#define _GNU_SOURCE /* dladdr */
#include "loadid.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin.h"

static void put_bytes(hash_stream *hs, const void *p, uint64_t n) {
  hash_stream_update(hs, &n, sizeof n);
  hash_stream_update(hs, p, (size_t)n);
}

static void put_str(hash_stream *hs, const char *s) {
  if (!s) {
    uint64_t none = UINT64_MAX;
    hash_stream_update(hs, &none, sizeof none);
    return;
  }
  put_bytes(hs, s, strlen(s));
}

static void put_int(hash_stream *hs, int64_t v) {
  hash_stream_update(hs, &v, sizeof v);
}

/* A file's identity without reading it: a rebuilt library or plugin has
 * another mtime (or inode, or size). */
static void put_file_identity(hash_stream *hs, const char *path) {
  struct stat sb;
  put_str(hs, path);
  if (!path || stat(path, &sb) != 0) {
    put_int(hs, -1);
    return;
  }
  int64_t v[5] = {(int64_t)sb.st_dev, (int64_t)sb.st_ino,
                  (int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                  (int64_t)sb.st_mtim.tv_nsec};
  hash_stream_update(hs, v, sizeof v);
}

static int id_read(void *ctx, const char *path, char **text, size_t *len) {
  hash_stream *hs = ctx;
  int rc = pipec_read_disk(NULL, path, text, len);
  hash_stream_update(hs, "r", 1);
  put_str(hs, path);
  put_int(hs, rc);
  if (rc == 0)
    put_bytes(hs, *text, *len);
  return rc;
}

static int id_stat(void *ctx, const char *path, pipec_file_kind *kind,
                   char **real) {
  hash_stream *hs = ctx;
  int rc = pipec_stat_disk(NULL, path, kind, real);
  hash_stream_update(hs, real ? "S" : "s", 1);
  put_str(hs, path);
  put_int(hs, rc);
  if (rc == 0) {
    put_int(hs, *kind);
    if (real)
      put_str(hs, *real);
  }
  return rc;
}

static int id_list(void *ctx, const char *dir, char ***names,
                   pipec_file_kind **kinds, uint32_t *n) {
  hash_stream *hs = ctx;
  int rc = pipec_list_disk(NULL, dir, names, kinds, n);
  hash_stream_update(hs, "l", 1);
  put_str(hs, dir);
  put_int(hs, rc);
  if (rc == 0) {
    put_int(hs, *n);
    for (uint32_t i = 0; i < *n; i++) {
      put_str(hs, (*names)[i]);
      put_int(hs, (*kinds)[i]);
    }
  }
  return rc;
}

static int id_plugin(void *ctx, const char *path,
                     const pipec_component_desc *const **items, uint32_t *n,
                     char *err, size_t errlen) {
  hash_stream *hs = ctx;
  int rc = plugin_load(NULL, path, items, n, err, errlen);
  hash_stream_update(hs, "p", 1);
  put_file_identity(hs, path);
  put_int(hs, rc);
  return rc;
}

void loadid_begin(loadid *l, const char *path, pipec_compile_opts *opts) {
  memset(l, 0, sizeof *l);
  l->hs = hash_stream_new();
  if (!l->hs)
    return; /* (the compile reads the disk itself, and has no id) */
  hash_stream *hs = l->hs;
  /* this libpipec: its compiler, built-ins and graph format */
  Dl_info info;
  put_file_identity(hs, dladdr((void *)loadid_begin, &info) && info.dli_fname
                            ? info.dli_fname
                            : NULL);
  put_str(hs, path);
  put_int(hs, opts->n_overrides);
  for (uint32_t i = 0; i < opts->n_overrides; i++)
    put_str(hs, opts->overrides[i]);
  put_str(hs, opts->project_root);
  put_str(hs, opts->quota_path);
  if (opts->quota_text)
    put_bytes(hs, opts->quota_text, opts->quota_len);
  else
    put_str(hs, NULL);
  put_int(hs, opts->max_nodes);
  l->fs = (pipec_fs){id_stat, id_list, hs};
  opts->reader = id_read;
  opts->reader_ctx = hs;
  opts->fs = &l->fs;
  if (opts->load_plugin) {
    opts->load_plugin = id_plugin;
    opts->plugin_ctx = hs;
  }
}

bool loadid_end(loadid *l, uint8_t id[16]) {
  if (!l->hs)
    return false;
  hash128 h = hash_stream_digest(l->hs);
  memcpy(id, h.b, 16);
  hash_stream_free(l->hs);
  l->hs = NULL;
  return true;
}
