/*
 * cachesync.c — pushing and pulling cache entries by hand (cachesync.h).
 */
#include "cachesync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "tree.h"

typedef struct obj_list {
  hash128 *v;
  uint32_t n, cap;
} obj_list;

static int add_obj(void *ctx, const hash128 *h, char kind) {
  obj_list *l = ctx;
  (void)kind;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = *h;
  return 0;
}

static void say(const csync_cbs *cb, const shc_spec *c, const hash128 *key,
                const char *msg) {
  char hex[HASH_HEX_LEN + 1];
  hash_hex(key, hex);
  if (cb->problem)
    cb->problem(cb->ctx, c->name, hex, msg);
}

/* The entry of local cache entry key: 1 and *e, *objs; 0 gone; -1 (msg). */
static int local_entry(store *st, obj_store *objs, const hash128 *key,
                       shc_entry *e, obj_list *ol, char *msg, size_t len) {
  store_output *outs = NULL;
  uint32_t n = 0;
  memset(e, 0, sizeof *e);
  int rc = store_cache_get(st, key, &outs, &n);
  if (rc != 1) {
    if (rc < 0)
      snprintf(msg, len, "%s", store_errmsg(st));
    return rc < 0 ? -1 : 0;
  }
  e->key = *key;
  e->outs = xcalloc(n + 1, sizeof *e->outs);
  e->n_outs = n;
  for (uint32_t i = 0; i < n && rc == 1; i++) {
    int tree = store_is_tree(st, &outs[i].hash);
    e->outs[i] = (shc_output){.port = xstrdup(outs[i].port),
                              .hash = outs[i].hash,
                              .size = outs[i].size,
                              .tree = tree == 1};
    if (tree == 1) {
      if (tree_walk(objs, &outs[i].hash, add_obj, ol, msg, len) != 0)
        rc = -1;
    } else {
      add_obj(ol, &outs[i].hash, 'f');
    }
  }
  store_outputs_free(outs, n);
  if (rc == 1 && store_cache_inputs(st, key, &e->inputs, &e->n_inputs) != 0) {
    snprintf(msg, len, "%s", store_errmsg(st));
    rc = -1;
  }
  if (rc != 1)
    shc_entry_free(e);
  return rc;
}

static int push_one(store *st, obj_store *objs, const shc_spec *c,
                    const char *tmpdir, const csync_cbs *cb,
                    csync_result *r, char *err, size_t errlen) {
  hash128 *keys = NULL;
  uint32_t n = 0;
  if (store_cache_keys(st, &keys, &n) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    return -EIO;
  }
  bool *have = xcalloc(n + 1, sizeof *have);
  int rc = n ? shc_have_entries(c, keys, n, have, tmpdir, err, errlen) : 0;
  char e2[512];
  shc_clean_tmp(c, 24 * 3600, e2, sizeof e2);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    if (have[i]) {
      r->present++;
      continue;
    }
    shc_entry e;
    obj_list ol = {0};
    char msg[1024];
    int lrc = local_entry(st, objs, &keys[i], &e, &ol, msg, sizeof msg);
    if (lrc == 1) {
      shc_push_stats ps;
      int prc = shc_push(c, &e, objs, ol.v, ol.n, tmpdir, &ps, msg,
                         sizeof msg);
      if (prc == 0) {
        r->copied++;
        r->objects += ps.objects;
        r->bytes += ps.bytes;
      } else if (prc == -ENOENT || prc == -EHOSTUNREACH || prc == -EACCES ||
                 prc == -EROFS || prc == -ENOTDIR) {
        snprintf(err, errlen, "%s", msg);
        rc = prc;
      } else {
        r->bad++;
        say(cb, c, &keys[i], msg);
      }
      shc_entry_free(&e);
    } else if (lrc < 0) {
      r->bad++;
      say(cb, c, &keys[i], msg);
    }
    free(ol.v);
  }
  free(have);
  free(keys);
  return rc;
}

/* Record a pulled entry in the store. */
static int record(store *st, const shc_pull_result *p, char *err,
                  size_t errlen) {
  if (store_begin(st) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    return -EIO;
  }
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < p->n_objs; i++) {
    const shc_object *o = &p->objs[i];
    if (o->tree)
      rc = store_tree_add(st, &o->hash);
    if (rc == 0 && o->fetched)
      rc = store_object_put(st, &o->hash, o->size, &o->st);
  }
  const shc_entry *e = &p->entry;
  store_output *outs = xcalloc(e->n_outs + 1, sizeof *outs);
  for (uint32_t i = 0; i < e->n_outs; i++)
    outs[i] = (store_output){.port = e->outs[i].port,
                             .hash = e->outs[i].hash,
                             .size = e->outs[i].size};
  if (rc == 0)
    rc = store_cache_put(st, &e->key, NULL, outs, e->n_outs, e->inputs,
                         e->n_inputs, 0);
  free(outs);
  if (rc == 0 && store_commit(st) == 0)
    return 0;
  snprintf(err, errlen, "%s", store_errmsg(st));
  store_rollback(st);
  return -EIO;
}

static int pull_one(store *st, obj_store *objs, const shc_spec *c,
                    const char *tmpdir, const csync_cbs *cb,
                    csync_result *r, char *err, size_t errlen) {
  hash128 *keys = NULL;
  uint32_t n = 0;
  int rc = shc_list_keys(c, &keys, &n, err, errlen);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    store_output *outs = NULL;
    uint32_t no = 0;
    int have = store_cache_get(st, &keys[i], &outs, &no);
    store_outputs_free(outs, no);
    if (have == 1) {
      r->present++;
      continue;
    }
    shc_pull_result p;
    char why[1024];
    int prc = shc_pull(c, &keys[i], objs, tmpdir, &p, why, sizeof why);
    if (prc == 1) {
      rc = record(st, &p, err, errlen);
      if (rc == 0) {
        r->copied++;
        for (uint32_t k = 0; k < p.n_objs; k++)
          r->objects += p.objs[k].fetched;
        r->bytes += p.bytes;
      }
      shc_pull_result_free(&p);
    } else if (prc == SHC_BAD) {
      r->bad++;
      say(cb, c, &keys[i], why);
    } else if (prc < 0) {
      snprintf(err, errlen, "%s", why);
      rc = prc;
    }
  }
  free(keys);
  return rc;
}

int csync_run(ws *w, store *st, bool push, const char *name,
              const csync_cbs *cb, char *err, size_t errlen) {
  shc_list list;
  if (shc_configure(ws_dir(w), &list, err, errlen) != 0)
    return -EINVAL;
  int rc = 0;
  const shc_spec *only = name ? shc_find(&list, name) : NULL;
  if (!list.n) {
    snprintf(err, errlen, "this workspace has no shared cache: name one in "
                          "%s/config or $PIPEC_CACHE (docs/cache.md)",
             ws_dir(w));
    rc = -EINVAL;
  } else if (name && !only) {
    size_t len = 0;
    char names[512] = "";
    for (uint32_t i = 0; i < list.n && len < sizeof names - 80; i++)
      len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                              i ? ", " : "", list.v[i].name);
    snprintf(err, errlen, "no shared cache is named '%s' (this workspace "
                          "has: %s)", name, names);
    rc = -EINVAL;
  } else if (push && !only) {
    uint32_t writable = 0;
    for (uint32_t i = 0; i < list.n; i++)
      writable += !list.v[i].readonly;
    if (!writable) {
      snprintf(err, errlen, "every shared cache of this workspace is "
                            "readonly: nothing is pushed");
      rc = -EINVAL;
    }
  }
  if (rc == 0 && push && only && only->readonly) {
    snprintf(err, errlen, "shared cache '%s' is readonly: nothing is pushed "
                          "to it", only->name);
    rc = -EINVAL;
  }
  int fd = -1;
  if (rc == 0)
    rc = ws_lock(w, false, true, NULL, &fd, err, errlen);
  obj_store *objs = NULL;
  if (rc == 0)
    rc = obj_open(ws_objects_dir(w), NULL, &objs, err, errlen);
  char *tmpdir = xprintf("%s/shared-tmp/%ld", ws_dir(w), (long)getpid());
  for (uint32_t i = 0; rc == 0 && i < list.n; i++) {
    const shc_spec *c = &list.v[i];
    if ((only && c != only) || (push && c->readonly))
      continue;
    csync_result r = {.cache = c->name};
    char e[1024];
    int crc = push ? push_one(st, objs, c, tmpdir, cb, &r, e, sizeof e)
                   : pull_one(st, objs, c, tmpdir, cb, &r, e, sizeof e);
    if (crc != 0) {
      snprintf(err, errlen, "shared cache '%s' (%s): %s", c->name,
               c->location, e);
      rc = crc;
      break;
    }
    if (cb->done)
      cb->done(cb->ctx, &r);
  }
  fs_rm_rf(tmpdir);
  free(tmpdir);
  obj_close(objs);
  if (fd >= 0)
    close(fd);
  shc_list_free(&list);
  return rc;
}
