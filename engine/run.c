/*
 * run.c — `pipec run` (run.h): record, plan, schedule, collect, record.
 *
 * The scheduler (sched.c) decides when a node starts; this file decides
 * what starting means. Its hooks, per node:
 *
 *   prepare       hash the inputs' objects into the node's cache key; a
 *                 hit whose objects are intact (their stat as recorded, or
 *                 re-hashed) settles the node as cached; a miss builds the
 *                 job (command line, scratch directory, log file, the
 *                 inputs as links in the scratch directory) for the
 *                 node's target
 *                 and records why it ran
 *   started       record the attempt and its job id
 *   attempt_done  check that the attempt left its inputs as they were; a
 *                 zero exit with every output present moves the outputs
 *                 into the object store, then commits the cache entry and
 *                 the artifacts in one transaction (objects first: a cache
 *                 entry never names an object that is not whole on disk)
 *   settled       record the final state and print it
 *
 * Inputs. A node gets each input as a hard link to its object in its own
 * scratch directory (scratch/PORT.in.ext: no output is named so, outputs
 * being PORT.ext), so an edit that replaces
 * the file (sed -i, any rename) replaces only the link. An edit in place
 * (possible as root, or after a chmod) changes the object itself: every
 * object the run uses has an entry in `objs` with its stat as last seen
 * intact, updated for pipec's own links and unlinks (which move its
 * ctime), and after each attempt each input is compared with it (and
 * re-hashed if it differs, or always where timestamps are coarse). A
 * changed input fails the node, the object is removed and its cache
 * entries dropped; a node that was reading it at the same time fails
 * too, and a node that would read it later fails at once, never reading
 * wrong bytes. The next run recomputes it.
 */
#define _GNU_SOURCE /* vasprintf */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cachekey.h"
#include "fsutil.h"
#include "editdist.h"
#include "command.h"
#include "hash.h"
#include "integrity.h"
#include "logcap.h"
#include "objstore.h"
#include "pipec/graph.h"
#include "scheduler.h"
#include "snapshot.h"
#include "store.h"
#include "target.h"
#include "workspace.h"

/* An input as the node's attempt gets it. */
typedef struct run_input {
  char *link;               /* scratch/PORT.in.ext: what {port} names */
  hash128 hash;             /* its object */
  uint32_t damage;          /* the object's damage count when linked */
  bool linked;              /* the link is there (made by us) */
} run_input;

typedef struct run_node {
  bool known;               /* out_hash/out_size are set */
  hash128 *out_hash;        /* per component output */
  uint64_t *out_size;
  hash128 key;
  bool have_key;
  ck_parts parts;
  char *parts_text;
  int64_t node_run;         /* store id, 0 until recorded */
  char *scratch;
  char *log_path;
  char **in_paths, **out_paths;
  pipec_named_path *ins, *outs;
  char **argv, **env;
  char **files;             /* code files and plugin, absolute (staging) */
  tgt_job job;
  double t_start;
  char *reason;             /* why it runs (a cache miss), or NULL */
  bool attempt_failed;      /* reason now says why its last attempt failed */
  run_input *inputs;        /* n_inputs, while it has a job */
  char *input_msg;          /* an attempt changed an input: why it fails */
} run_node;

/* What this run knows of one object it read or wrote. */
typedef struct run_obj {
  hash128 hash;
  hash_stat st;             /* its stat as last seen intact, if known */
  bool used;                /* the slot holds an object */
  bool known;               /* st is valid; else re-hash before trusting */
  bool dirty;               /* st is newer than the store's record */
  uint32_t users;           /* attempts holding a link to it now */
  uint32_t damage;          /* times it was found changed in this run */
  char *why;                /* how, the last time ("was changed in place
                               by node 'b'"), for its readers' messages */
} run_obj;

/* Open addressing on the first 8 bytes of the hash (uniform already). */
typedef struct run_objs {
  run_obj *v;
  size_t cap, n;            /* cap: a power of two, or 0 */
} run_objs;

typedef struct runner {
  const pipec_pipeline *p;
  const run_opts *o;
  run_result *res;
  ws *w;
  store *st;
  obj_store *objs;
  hash_index idx;
  hash_memo *memo;
  uv_loop_t loop;
  tgt **targets;            /* per pipeline target, opened on first use */
  run_node *nodes;
  bool *in_plan, *upstream;
  int64_t pipeline_id, run_id, snapshot_id;
  char *abs_dir;            /* the pipeline's directory, absolute */
  char exe[PATH_MAX];       /* this pipec, for `pipec exec` */
  status_printer sp;
  run_objs objs_seen;       /* every object the run uses (run_obj) */
  bool fine_ts;             /* obj_fine_timestamps() of the store */
  uint64_t log_limit;       /* logcap.h; 0: none */
  uv_prepare_t batch_commit; /* commits the batch before the loop waits */
  bool in_batch;
  bool record_failed;
} runner;

/* ---- small helpers ----------------------------------------------------- */

static char *xstrdup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  return d;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  va_end(ap);
  return s;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  return p;
}

/* Is the filesystem holding path (or its parent) out of space? */
static bool disk_full(const char *path) {
  struct statvfs sv;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = 0;
  return statvfs(dir, &sv) == 0 && sv.f_bavail * sv.f_frsize < 64 * 1024;
}

static int output_index(const pipec_component *c, const char *port) {
  for (uint32_t i = 0; i < c->n_outputs; i++)
    if (strcmp(c->outputs[i].name, port) == 0)
      return (int)i;
  return -1;
}

static const pipec_component *comp_of(const runner *R, uint32_t node) {
  return &R->p->components[R->p->nodes[node].component];
}

/* An extension tools recognise for a port type. */
static const char *port_ext(pipec_port_type type) {
  return type == PIPEC_PORT_TABLE   ? ".csv"
         : type == PIPEC_PORT_JSON  ? ".json"
         : type == PIPEC_PORT_MODEL ? ".model"
                                    : "";
}

/* File name of an output in the scratch directory: the port, with an
 * extension tools recognise for its type. */
static char *output_file(const char *scratch, const pipec_port_decl *port) {
  return xprintf("%s/%s%s", scratch, port->name, port_ext(port->type));
}

/* ---- the file-hash index, backed by the store ---------------------------- */

static int idx_get(void *ctx, const char *path, hash_stat *st, hash128 *h) {
  return store_file_get(ctx, path, st, h);
}

static int idx_put(void *ctx, const char *path, const hash_stat *st,
                   const hash128 *h) {
  return store_file_put(ctx, path, st, h);
}

/* ---- batched writes --------------------------------------------------------
 * The hooks' writes go into one transaction per event-loop iteration, so a
 * fully cached run of 10k nodes is one commit, and no transaction stays
 * open while the loop waits for a process. Objects are fsync'd when they
 * enter the store, before the transaction that names them commits. */

static void batch_open(runner *R) {
  if (!R->in_batch && store_begin(R->st) == 0)
    R->in_batch = true;
}

static void batch_close(runner *R) {
  if (!R->in_batch)
    return;
  R->in_batch = false;
  if (store_commit(R->st) != 0 && !R->record_failed) {
    R->record_failed = true;
    status_clear(&R->sp);
    fprintf(stderr, "pipec: cannot record the run: %s\n",
            store_errmsg(R->st));
  }
}

/* A prepare callback runs right before the loop blocks for I/O, after
 * everything the iteration did (a check callback would run after the
 * poll: writes made before the first poll, or in a later phase, would
 * hold the write lock while the loop waits for a node, and every other
 * pipec on the workspace would wait behind it). */
static void on_loop_prepare(uv_prepare_t *h) { batch_close(h->data); }

/* ---- the objects the run uses ---------------------------------------------
 * Entries are never removed during a run; pointers into the table stay
 * valid only until the next objs_get() (which may grow it). */

static size_t objs_slot(const run_objs *t, const hash128 *h) {
  uint64_t k;
  memcpy(&k, h->b, sizeof k);
  return (size_t)k & (t->cap - 1);
}

static run_obj *objs_find(runner *R, const hash128 *h) {
  run_objs *t = &R->objs_seen;
  if (!t->cap)
    return NULL;
  for (size_t i = objs_slot(t, h);; i = (i + 1) & (t->cap - 1)) {
    if (!t->v[i].used)
      return NULL;
    if (hash_eq(&t->v[i].hash, h))
      return &t->v[i];
  }
}

static run_obj *objs_get(runner *R, const hash128 *h) {
  run_objs *t = &R->objs_seen;
  run_obj *o = objs_find(R, h);
  if (o)
    return o;
  if ((t->n + 1) * 2 > t->cap) {
    run_objs bigger = {xcalloc(t->cap ? t->cap * 2 : 64, sizeof(run_obj)),
                       t->cap ? t->cap * 2 : 64, t->n};
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->v[i].used)
        continue;
      size_t j = objs_slot(&bigger, &t->v[i].hash);
      while (bigger.v[j].used)
        j = (j + 1) & (bigger.cap - 1);
      bigger.v[j] = t->v[i];
    }
    free(t->v);
    *t = bigger;
  }
  size_t i = objs_slot(t, h);
  while (t->v[i].used)
    i = (i + 1) & (t->cap - 1);
  t->v[i] = (run_obj){.hash = *h, .used = true};
  t->n++;
  return &t->v[i];
}

/* The object changed under the run (its bytes no longer match its name):
 * whoever links it from now on, or linked it before, must not use it. why
 * (malloc'd; NULL keeps the last one) says how, for their messages. */
static void obj_changed(run_obj *o, char *why) {
  o->known = false;
  o->damage++;
  if (why) {
    free(o->why);
    o->why = why;
  }
}

/* May object h be used? The run's own view of it first (it moves with
 * pipec's links), else recorded (the store's row, NULL if none); a stat
 * that differs is re-hashed (integrity.h: a damaged object is removed and
 * the entries naming it dropped, with readers those computed from it too).
 * Returns
 * integ_check()'s verdict, why filled when it is not 0. */
static int obj_trust(runner *R, const hash128 *h, const hash_stat *recorded,
                     bool readers, char *why, size_t whylen) {
  run_obj *o = objs_get(R, h);
  hash_stat rec, now;
  bool had = o->known, rehashed = false;
  if (had)
    rec = o->st;
  else if (recorded)
    rec = *recorded;
  int rc = integ_check(R->st, R->objs, h, had || recorded ? &rec : NULL,
                       readers, &now, &rehashed, why, whylen);
  if (rc != 0) {
    obj_changed(o, NULL);
    return rc;
  }
  o->st = now;
  o->known = true;
  if (rehashed || !had)   /* the store's record is this stat now */
    o->dirty = false;
  return 0;
}

/* pipec itself just linked or unlinked object h, which moves its ctime
 * and nothing else: take the new stat as the one to expect, unless
 * something else moved as well (then the next use re-hashes). */
static void obj_own_change(runner *R, const hash128 *h) {
  run_obj *o = objs_find(R, h);
  hash_stat now;
  if (!o || !o->known)
    return;
  if (obj_stat(R->objs, h, &now) == 0 && now.dev == o->st.dev &&
      now.ino == o->st.ino && now.size == o->st.size &&
      now.mtime_ns == o->st.mtime_ns) {
    o->dirty = o->dirty || now.ctime_ns != o->st.ctime_ns;
    o->st = now;
  } else {
    o->known = false;
  }
}

/* Write the stats the run saw to the store, for the next run's checks. */
static void objs_flush(runner *R) {
  run_objs *t = &R->objs_seen;
  bool open = false;
  for (size_t i = 0; i < t->cap; i++) {
    run_obj *o = &t->v[i];
    if (!o->used || !o->known || !o->dirty)
      continue;
    if (!open && !(open = store_begin(R->st) == 0))
      return;
    store_object_put(R->st, &o->hash, o->st.size, &o->st);
    o->dirty = false;
  }
  if (open)
    store_commit(R->st);
}

static void objs_free(run_objs *t) {
  for (size_t i = 0; i < t->cap; i++)
    free(t->v[i].why);
  free(t->v);
  memset(t, 0, sizeof *t);
}

/* ---- cache lookups ------------------------------------------------------- */

/* The hashes of the files wired to node's inputs; all producers known. */
static hash128 *input_hashes(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  hash128 *hs = xcalloc(n->n_inputs, sizeof *hs);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *in = &n->inputs[i];
    int k = output_index(comp_of(R, in->producer), in->producer_port);
    hs[i] = R->nodes[in->producer].out_hash[k];
  }
  return hs;
}

/* The node's cache key. Its parts (readable, for `why` and the miss
 * reason) cost more than the key: only a node that runs needs them, so
 * with_parts is false on the cache-hit path. */
static int compute_key(runner *R, uint32_t node, bool with_parts, char *err,
                       size_t errlen) {
  run_node *rn = &R->nodes[node];
  hash128 *hs = input_hashes(R, node);
  ck_parts_clear(&rn->parts);
  int rc = ck_compute(R->p, node, hs, hash_memo_cb, R->memo, &rn->key,
                      with_parts ? &rn->parts : NULL, err, errlen);
  free(hs);
  if (rc != 0)
    return rc;
  rn->have_key = true;
  free(rn->parts_text);
  rn->parts_text = with_parts ? ck_parts_format(&rn->parts, NULL) : NULL;
  return 0;
}

/* Look the node's key up in the cache: 1 and its outputs known if every
 * object is there and intact (obj_trust), 0 on a miss (the entry is gone
 * then, and rn->reason says why when an object was the cause). */
static int cache_lookup(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  const pipec_component *c = comp_of(R, node);
  store_output *outs = NULL;
  uint32_t n = 0;
  if (store_cache_get(R->st, &rn->key, &outs, &n) != 1)
    return 0;
  char *why = NULL;
  for (uint32_t i = 0; i < c->n_outputs && !why; i++) {
    uint32_t k = 0;
    while (k < n && strcmp(outs[k].port, c->outputs[i].name) != 0)
      k++;
    if (k == n) {
      why = xstrdup("its cache entry lacks an output");
      break;
    }
    char e[512];
    /* readers stay: a node that read the object before it changed read
     * it intact (its attempt was checked), and one after would have seen
     * the change (only damage that leaves the stat alone, which only
     * `cache verify` finds, could have been read unseen) */
    int rc = obj_trust(R, &outs[k].hash, outs[k].has_st ? &outs[k].st : NULL,
                       false, e, sizeof e);
    if (rc == -ENOENT)
      why = xstrdup("a cached output is missing from the object store");
    else if (rc > 0)
      why = xprintf("a cached output was damaged (re-hashed: %s)", e);
    else if (rc < 0)
      why = xprintf("a cached output cannot be read (%s)", e);
    rn->out_hash[i] = outs[k].hash;
    rn->out_size[i] = outs[k].size;
  }
  store_outputs_free(outs, n);
  if (why) { /* forget the entry (a damaged object took it already) */
    store_cache_delete(R->st, &rn->key);
    free(rn->reason);
    rn->reason = why;
    return 0;
  }
  rn->known = true;
  return 1;
}

/* The lines of text joined by sep into one line (malloc'd). */
static char *join_lines(const char *text, const char *sep) {
  size_t n = 0, seps = 0;
  for (const char *q = text; *q; q++, n++)
    seps += *q == '\n';
  char *out = xcalloc(n + seps * strlen(sep) + 1, 1), *o = out;
  for (const char *q = text; *q; q++) {
    if (*q != '\n') {
      *o++ = *q;
    } else if (q[1]) {
      strcpy(o, sep);
      o += strlen(sep);
    }
  }
  *o = 0;
  return out;
}

/* Why the node must run: what changed since its last success. */
static char *miss_reason(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  if (rn->reason)
    return xstrdup(rn->reason);
  if (R->o->force && R->in_plan[node])
    return xstrdup("--force");
  if (!R->p->nodes[node].cache)
    return xstrdup("cache = false");
  char *old_text = NULL;
  if (store_last_parts(R->st, R->pipeline_id, R->p->nodes[node].name,
                       &old_text) != 1)
    return xstrdup("never ran");
  ck_parts old = {0};
  char err[256], *diff = NULL;
  char *why;
  if (ck_parts_parse(old_text, strlen(old_text), &old, err, sizeof err) != 0)
    why = xstrdup("the last run's key cannot be read");
  else if (ck_explain(&old, &rn->parts, &diff) > 0)
    why = join_lines(diff, "; ");
  else
    why = xstrdup("its last outputs are no longer in the store");
  free(diff);
  free(old_text);
  ck_parts_free(&old);
  return why;
}

/* ---- inputs: given as links, checked after each attempt ------------------ */

/* "input 'x' (from a.out)" */
static char *input_name(const runner *R, uint32_t node, uint32_t i) {
  const pipec_input *in = &R->p->nodes[node].inputs[i];
  return xprintf("input '%s' (from %s.%s)", in->port,
                 R->p->nodes[in->producer].name, in->producer_port);
}

/* Make the attempt's input links, each after checking its object. 0, or
 * -1 with err: an input that is damaged, or that an earlier node of the
 * run changed (then it is not in the store any more). */
static int inputs_link(runner *R, uint32_t node, char *err, size_t errlen) {
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    run_input *in = &rn->inputs[i];
    const char *producer = R->p->nodes[n->inputs[i].producer].name;
    char e[512];
    int rc = obj_trust(R, &in->hash, NULL, false, e, sizeof e);
    if (rc != 0) {
      run_obj *o = objs_find(R, &in->hash);
      char *what = input_name(R, node, i);
      if (o && o->why)
        snprintf(err, errlen, "its %s %s during this run, so it is not in "
                              "the store any more; the next run recomputes "
                              "'%s'", what, o->why, producer);
      else
        snprintf(err, errlen, "its %s is damaged in the store (%s) and was "
                              "removed; the next run recomputes '%s'",
                 what, e, producer);
      free(what);
      return -1;
    }
    if (obj_materialize(R->objs, &in->hash, in->link, 0, e, sizeof e) != 0) {
      char *what = input_name(R, node, i);
      snprintf(err, errlen, "cannot give the node its %s: %s", what, e);
      free(what);
      return -1;
    }
    run_obj *o = objs_find(R, &in->hash);
    o->users++;
    in->damage = o->damage;
    in->linked = true;
    obj_own_change(R, &in->hash);
  }
  return 0;
}

/* After an attempt: did it leave every input as it was? NULL, or why the
 * node fails (malloc'd). A changed object is removed and its cache
 * entries dropped; the nodes that read it at the same time fail too. */
static char *inputs_check(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; rn->inputs && i < n->n_inputs; i++) {
    run_input *in = &rn->inputs[i];
    run_obj *o = in->linked ? objs_find(R, &in->hash) : NULL;
    if (!o)
      continue;
    if (o->damage != in->damage) { /* found changed while we read it */
      char *what = input_name(R, node, i);
      char *msg = xprintf("%s %s while node '%s' read it, so its result is "
                          "not used; the next run recomputes it",
                          what, o->why ? o->why : "was changed in place",
                          n->name);
      free(what);
      return msg;
    }
    hash_stat now;
    if (o->known && R->fine_ts && obj_stat(R->objs, &in->hash, &now) == 0 &&
        hash_stat_eq(&now, &o->st))
      continue;
    /* it moved (its link was replaced, another pipec linked it...), or
     * timestamps are too coarse to tell: the bytes decide */
    char e[512];
    int rc = integ_check(R->st, R->objs, &in->hash, NULL, false, &now, NULL,
                         e, sizeof e);
    o = objs_find(R, &in->hash);
    if (rc == 0) {
      /* intact; a chmod (an owner may make it writable) is undone */
      if (obj_seal(R->objs, &in->hash, &now) != 0)
        now = (hash_stat){0};
      o->st = now;
      o->known = now.ino != 0;
      o->dirty = true;
      continue;
    }
    char *what = input_name(R, node, i);
    char *msg;
    if (o->users <= 1) {
      obj_changed(o, xprintf("was changed in place by node '%s'", n->name));
      msg = xprintf("node '%s' changed its %s in place: inputs are "
                    "read-only; write to an output instead",
                    n->name, what);
    } else {
      obj_changed(o, xprintf("was changed in place by one of the %u nodes "
                             "reading it at the same time (node '%s' is one)",
                             o->users, n->name));
      msg = xprintf("%s was changed in place while node '%s' and %u other "
                    "node%s reading it ran: inputs are read-only; write to "
                    "an output instead",
                    what, n->name, o->users - 1, o->users == 2 ? "" : "s");
    }
    in->damage = o->damage;
    free(what);
    return msg;
  }
  return NULL;
}

/* Remove the attempt's input links (pipec's own unlinks: the objects'
 * expected stats follow). */
static void inputs_release(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; rn->inputs && i < n->n_inputs; i++) {
    run_input *in = &rn->inputs[i];
    if (!in->linked)
      continue;
    run_obj *o = objs_find(R, &in->hash);
    struct stat sb;
    bool ours = o && o->known && lstat(in->link, &sb) == 0 &&
                (uint64_t)sb.st_ino == o->st.ino &&
                (uint64_t)sb.st_dev == o->st.dev;
    unlink(in->link);
    if (ours)
      obj_own_change(R, &in->hash);
    if (o && o->users)
      o->users--;
    in->linked = false;
  }
}

static void inputs_free(run_node *rn, uint32_t n_in) {
  for (uint32_t i = 0; rn->inputs && i < n_in; i++)
    free(rn->inputs[i].link);
  free(rn->inputs);
  rn->inputs = NULL;
}

/* ---- building a job ------------------------------------------------------ */

static void free_strv(char **v) {
  if (!v)
    return;
  for (char **q = v; *q; q++)
    free(*q);
  free(v);
}

static void node_release(run_node *rn, uint32_t n_in, uint32_t n_out) {
  for (uint32_t i = 0; rn->in_paths && i < n_in; i++)
    free(rn->in_paths[i]);
  for (uint32_t i = 0; rn->out_paths && i < n_out; i++)
    free(rn->out_paths[i]);
  free(rn->in_paths);
  free(rn->out_paths);
  free(rn->ins);
  free(rn->outs);
  free_strv(rn->argv);
  free_strv(rn->env);
  free_strv(rn->files);
  inputs_free(rn, n_in);
  rn->in_paths = rn->out_paths = NULL;
  rn->ins = rn->outs = NULL;
  rn->argv = rn->env = rn->files = NULL;
}

static int open_target(runner *R, uint32_t t, tgt **out, char *err,
                       size_t errlen) {
  if (!R->targets[t]) {
    int rc = tgt_open(&R->loop, R->o->kinds, &R->p->targets[t],
                      &R->targets[t], err, errlen);
    if (rc != 0)
      return rc;
  }
  *out = R->targets[t];
  return 0;
}

static sched_status build_job(runner *R, uint32_t node, tgt_job **job,
                              tgt **target, char *err, size_t errlen) {
  const pipec_node *n = &R->p->nodes[node];
  const pipec_component *c = comp_of(R, node);
  run_node *rn = &R->nodes[node];
  rn->scratch = xprintf("%s/%lld/%s", ws_runs_dir(R->w),
                        (long long)R->run_id, n->name);
  fs_rm_rf(rn->scratch); /* left by a crashed attempt: never trusted */
  /* the run's directories exist (run_schedule); a node name is one level */
  int rc = mkdir(rn->scratch, 0755) == 0 ? 0 : fs_mkdir_p(rn->scratch);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create the scratch directory %s: %s",
             rn->scratch, strerror(-rc));
    return SCHED_FAILED;
  }
  rn->log_path = xprintf("%s/%lld/%s.log", ws_logs_dir(R->w),
                         (long long)R->run_id, n->name);
  rn->in_paths = xcalloc(n->n_inputs + 1, sizeof *rn->in_paths);
  rn->ins = xcalloc(n->n_inputs + 1, sizeof *rn->ins);
  rn->inputs = xcalloc(n->n_inputs + 1, sizeof *rn->inputs);
  hash128 *hs = input_hashes(R, node);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *in = &n->inputs[i];
    /* PORT.in.ext (a mkdir per node would cost more than the links); a
     * port wired more than once (a list) numbers its items: PORT.in.K.ext */
    bool many = (i > 0 && strcmp(n->inputs[i - 1].port, in->port) == 0) ||
                (i + 1 < n->n_inputs &&
                 strcmp(n->inputs[i + 1].port, in->port) == 0);
    uint32_t k = 0;
    while (many && k < i && strcmp(n->inputs[i - k - 1].port, in->port) == 0)
      k++;
    char num[16] = "";
    if (many)
      snprintf(num, sizeof num, ".%u", k);
    rn->inputs[i] = (run_input){
        .link = xprintf("%s/%s.in%s%s", rn->scratch, in->port, num,
                        port_ext(in->type)),
        .hash = hs[i]};
    rn->in_paths[i] = xstrdup(rn->inputs[i].link);
    rn->ins[i] = (pipec_named_path){in->port, rn->in_paths[i]};
  }
  free(hs);
  if (inputs_link(R, node, err, errlen) != 0)
    return SCHED_FAILED;
  rn->out_paths = xcalloc(c->n_outputs + 1, sizeof *rn->out_paths);
  rn->outs = xcalloc(c->n_outputs + 1, sizeof *rn->outs);
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    rn->out_paths[i] = output_file(rn->scratch, &c->outputs[i]);
    rn->outs[i] = (pipec_named_path){c->outputs[i].name, rn->out_paths[i]};
  }
  if (cmd_build(R->p, node, rn->ins, n->n_inputs, rn->outs, c->n_outputs,
                R->exe, &rn->argv, &rn->env, err, errlen) != 0)
    return SCHED_FAILED;
  if (open_target(R, n->target, target, err, errlen) != 0)
    return SCHED_FAILED;
  /* exec's limits are this machine's; remote targets have their own */
  if ((*target)->kind->execs_here &&
      cmd_fits(rn->argv, rn->env, n->name, err, errlen) != 0)
    return SCHED_FAILED;
  /* what a remote target must copy besides the inputs */
  rn->files = xcalloc(c->n_code + 2, sizeof *rn->files);
  uint32_t n_files = 0;
  for (uint32_t i = 0; i < c->n_code; i++)
    rn->files[n_files++] = xprintf("%s/%s", R->abs_dir, c->code[i]);
  if (c->plugin)
    rn->files[n_files++] = xprintf("%s/%s", R->abs_dir, c->plugin);
  rn->job = (tgt_job){.node_name = n->name,
                      .argv = rn->argv,
                      .env = rn->env,
                      .cwd = R->abs_dir,
                      .log_path = rn->log_path,
                      .scratch = rn->scratch,
                      .in_paths = (const char **)rn->in_paths,
                      .n_in = n->n_inputs,
                      .out_paths = (const char **)rn->out_paths,
                      .n_out = c->n_outputs,
                      .files = (const char **)rn->files,
                      .n_files = n_files,
                      .builtin = c->kind != PIPEC_COMP_COMMAND &&
                                 !(c->desc && (c->desc->flags &
                                               PIPEC_COMP_COMMAND_TEMPLATE)),
                      .res = n->resources,
                      .node = node,
                      .data = R};
  *job = &rn->job;
  return SCHED_RUNNING;
}

/* ---- scheduler hooks ------------------------------------------------------ */

static void record_node(runner *R, uint32_t node, const char *status) {
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  store_node_run nr = {.run_id = R->run_id,
                       .node = n->name,
                       .component = comp_of(R, node)->name,
                       .status = status,
                       .target = R->p->targets[n->target].name,
                       .cache_hit = strcmp(status, "cached") == 0,
                       .miss_reason = rn->reason,
                       .log_path = rn->log_path};
  char hex[HASH_HEX_LEN + 1] = "";
  if (rn->have_key) {
    hash_hex(&rn->key, hex);
    nr.cache_key = hex;
  }
  if (store_node_run_add(R->st, &nr, &rn->node_run) != 0)
    fprintf(stderr, "pipec: cannot record node '%s': %s\n", n->name,
            store_errmsg(R->st));
}

static sched_status hook_prepare(void *ctx, uint32_t node, tgt_job **job,
                                 tgt **target, char *err, size_t errlen) {
  runner *R = ctx;
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  batch_open(R);
  if (compute_key(R, node, false, err, errlen) != 0)
    return SCHED_FAILED;
  bool use_cache = n->cache && !R->o->force;
  if (use_cache && cache_lookup(R, node)) {
    record_node(R, node, "cached");
    return SCHED_CACHED;
  }
  if (compute_key(R, node, true, err, errlen) != 0) /* with its parts */
    return SCHED_FAILED;
  char *why = miss_reason(R, node);
  free(rn->reason);
  rn->reason = why;
  sched_status st = build_job(R, node, job, target, err, errlen);
  record_node(R, node, st == SCHED_RUNNING ? "running" : "failed");
  /* commit what finished before this node starts: a node that fills the
   * disk must not take the records of earlier ones down with it */
  if (st == SCHED_RUNNING)
    batch_close(R);
  return st;
}

static void hook_started(void *ctx, uint32_t node, tgt_job *job, int attempt) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  rn->t_start = status_now();
  batch_open(R);
  store_node_run_started(R->st, rn->node_run, attempt, job->job_id);
  status_started(&R->sp, n->name, R->p->targets[n->target].name, job->job_id,
                 attempt);
}

/* An object with the bytes being stored is already there: keep it if it
 * is as this run last saw it intact (or, for one the run has not used, as
 * the store's record says); if the run used it and it moved, the bytes
 * decide (nodes of this run may hold links to it: if it changed, they
 * must fail); otherwise the fresh copy replaces it. */
static bool keep_existing(void *ctx, const hash128 *h,
                          const hash_stat *existing) {
  runner *R = ctx;
  run_obj *o = objs_find(R, h);
  hash_stat rec;
  if (o) {
    if (o->known && hash_stat_eq(existing, &o->st))
      return true;
    char e[512];
    hash_stat now;
    if (obj_check(R->objs, h, NULL, &now, NULL, e, sizeof e) == 0) {
      o->st = now;
      o->known = true;
      o->dirty = true;
      return true;
    }
    /* changed while stored: its readers of this run must not be trusted */
    obj_changed(o, xstrdup("was changed in place while it was stored"));
    store_object_damaged(R->st, h, true);
    return false;
  }
  return store_object_get(R->st, h, NULL, &rec) == 1 &&
         hash_stat_eq(existing, &rec);
}

/* Move every output into the object store. 0, or -1 with err set. */
static int collect_outputs(runner *R, uint32_t node, char *err,
                           size_t errlen) {
  const pipec_component *c = comp_of(R, node);
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    struct stat sb;
    const char *name = c->outputs[i].name;
    /* lstat: a symlink is never followed out of the scratch directory (a
     * remote command could point one at any local file) */
    if (lstat(rn->out_paths[i], &sb) != 0) {
      snprintf(err, errlen,
               "the command exited 0 but did not write output '%s' (%s)",
               name, rn->out_paths[i]);
      return -1;
    }
    if (S_ISLNK(sb.st_mode)) {
      char to[256];
      ssize_t n = readlink(rn->out_paths[i], to, sizeof to - 1);
      to[n > 0 ? n : 0] = 0;
      snprintf(err, errlen,
               "output '%s' is a symbolic link (to %s), not a file: write "
               "the file itself to {%s} (cp, not ln -s); pipec never "
               "follows a link out of the scratch directory",
               name, n > 0 ? to : "?", name);
      return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
      snprintf(err, errlen,
               "output '%s' is a directory, but a port holds one file: "
               "write an archive of it instead (tar -cf {%s} -C DIR .)",
               name, name);
      return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
      snprintf(err, errlen, "output '%s' is not a regular file (%s)", name,
               rn->out_paths[i]);
      return -1;
    }
  }
  obj_put_opts po = {.move = true, .keep = keep_existing, .keep_ctx = R};
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    char e[512];
    obj_info info;
    if (obj_put(R->objs, rn->out_paths[i], &po, &info, e, sizeof e) != 0) {
      snprintf(err, errlen, "cannot store output '%s': %s",
               c->outputs[i].name, e);
      return -1;
    }
    rn->out_hash[i] = info.hash;
    rn->out_size[i] = info.size;
    run_obj *o = objs_get(R, &info.hash);
    o->st = info.st;
    o->known = true;
    o->dirty = false; /* the cache entry records it */
  }
  return 0;
}

/* Commit the node's success: cache entry (with its outputs' stats and the
 * objects it read), artifacts, node run. */
static int commit_success(runner *R, uint32_t node, const tgt_result *r,
                          int attempt, char *err, size_t errlen) {
  const pipec_component *c = comp_of(R, node);
  run_node *rn = &R->nodes[node];
  store_output *outs = xcalloc(c->n_outputs, sizeof *outs);
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    const run_obj *o = objs_find(R, &rn->out_hash[i]);
    outs[i] = (store_output){.port = (char *)c->outputs[i].name,
                             .hash = rn->out_hash[i],
                             .size = rn->out_size[i],
                             .st = o ? o->st : (hash_stat){0},
                             .has_st = o && o->known};
  }
  hash128 *ins = input_hashes(R, node);
  batch_open(R);
  int rc = store_cache_put(R->st, &rn->key, rn->parts_text, outs,
                           c->n_outputs, ins, R->p->nodes[node].n_inputs,
                           rn->node_run);
  for (uint32_t i = 0; rc == 0 && i < c->n_outputs; i++)
    rc = store_artifact_add(R->st, rn->node_run, &outs[i]);
  if (rc == 0)
    rc = store_node_run_finish(R->st, rn->node_run, "succeeded", attempt,
                               r->exit_code, NULL);
  free(outs);
  free(ins);
  if (rc != 0)
    snprintf(err, errlen, "cannot record the outputs: %s",
             store_errmsg(R->st));
  return rc;
}

static sched_status hook_attempt_done(void *ctx, uint32_t node, tgt_job *job,
                                      const tgt_result *r, int attempt,
                                      bool timed_out) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  char msg[1024] = "";
  (void)job;
  batch_open(R);
  if (timed_out)
    snprintf(msg, sizeof msg, "timed out after %llds",
             (long long)n->timeout_s);
  else if (r->cancelled)
    snprintf(msg, sizeof msg, "cancelled");
  else if (r->message[0])
    snprintf(msg, sizeof msg, "%s", r->message);
  else if (r->term_signal)
    snprintf(msg, sizeof msg, "killed by signal %d", r->term_signal);
  else if (r->exit_code != 0)
    snprintf(msg, sizeof msg, "exit code %d", r->exit_code);
  if (rn->log_path)
    logcap_finish(rn->log_path, R->log_limit);
  /* an attempt that changed an input fails, whatever it exited with (and
   * so do its retries: the input is gone) */
  char *changed = inputs_check(R, node);
  if (changed && !rn->input_msg)
    rn->input_msg = changed;
  else
    free(changed);
  if (rn->input_msg)
    snprintf(msg, sizeof msg, "%s", rn->input_msg);
  if (!msg[0] && collect_outputs(R, node, msg, sizeof msg) == 0 &&
      commit_success(R, node, r, attempt, msg, sizeof msg) == 0) {
    rn->known = true;
    inputs_release(R, node);
    fs_rm_rf(rn->scratch);
    return SCHED_SUCCEEDED;
  }
  if (disk_full(rn->scratch))
    snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
             "%sthe disk holding the workspace is full (no space left)",
             msg[0] ? "; " : "");
  /* a failed attempt's outputs are never used: free their space now (and
   * leave an empty scratch directory, with fresh input links, for a
   * retry) */
  inputs_release(R, node);
  fs_rm_rf(rn->scratch);
  mkdir(rn->scratch, 0755);
  /* an attempt that was stopped (timeout, signal, cancel) has no exit
   * code of its own: record none, not the 0 the target left in r */
  bool exited = !timed_out && !r->cancelled && !r->term_signal;
  store_node_run_finish(R->st, rn->node_run, "failed", attempt,
                        exited ? r->exit_code : STORE_EXIT_NONE, msg);
  if (attempt <= n->retries) {
    char e[512], mark[512];
    /* fresh links for the retry; if an input cannot be given any more
     * (another node changed it), that is why the node fails */
    if (!rn->input_msg && inputs_link(R, node, e, sizeof e) != 0)
      rn->input_msg = xstrdup(e);
    if (rn->log_path) {
      snprintf(mark, sizeof mark, "==> pipec: attempt %d of %d (node %s) "
                                  "<==\n", attempt + 1, n->retries + 1,
               n->name);
      logcap_append(rn->log_path, mark);
    }
    status_retrying(&R->sp, n->name, attempt, msg);
  }
  /* the scheduler reports the final message through settled() */
  free(rn->reason);
  rn->reason = xstrdup(msg);
  rn->attempt_failed = true;
  return SCHED_FAILED;
}

static void hook_notice(void *ctx, const char *message) {
  (void)ctx;
  fprintf(stderr, "pipec: %s\n", message);
}

static const char *store_status(sched_status st) {
  switch (st) {
  case SCHED_SUCCEEDED: return "succeeded";
  case SCHED_CACHED: return "cached";
  case SCHED_FAILED: return "failed";
  case SCHED_SKIPPED: return "skipped";
  case SCHED_CANCELLED: return "cancelled";
  default: return "pending";
  }
}

static void hook_settled(void *ctx, uint32_t node, sched_status st,
                         int attempts, const char *message) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  const pipec_component *c = comp_of(R, node);
  batch_open(R);
  bool recorded = rn->node_run != 0;
  if (!recorded)
    record_node(R, node, store_status(st));
  /* a failed attempt's own account (hook_attempt_done: "timed out after
   * 1s", a full disk) says more than the scheduler's summary of it */
  const char *why = st == SCHED_FAILED && rn->attempt_failed ? rn->reason
                    : message && *message                  ? message
                                                           : rn->reason;
  if (recorded && st != SCHED_SUCCEEDED && st != SCHED_CACHED)
    store_node_run_finish(R->st, rn->node_run, store_status(st), attempts,
                          STORE_EXIT_KEEP, why);
  double secs = rn->t_start > 0 ? status_now() - rn->t_start : -1;
  const char *detail = st == SCHED_SUCCEEDED || st == SCHED_CACHED ? NULL
                                                                   : why;
  status_settled(&R->sp, n->name, sched_status_name(st), detail, secs);
  if (st == SCHED_FAILED && rn->log_path)
    status_log_tail(&R->sp, rn->log_path, 10);
  inputs_release(R, node); /* links of a retry that never came */
  if (st == SCHED_SUCCEEDED)
    R->res->ran++;
  else if (st == SCHED_CACHED)
    R->res->cached++;
  else if (st == SCHED_FAILED)
    R->res->failed++;
  else if (st == SCHED_SKIPPED)
    R->res->skipped++;
  else if (st == SCHED_CANCELLED)
    R->res->cancelled++;
  node_release(rn, n->n_inputs, c->n_outputs);
}

/* ---- what the run is: draft, snapshot, run records ------------------------ */

/* A source path as the workspace records it: relative to the workspace
 * root when inside it (so a moved project still rolls back), else absolute. */
static char *workspace_path(const runner *R, const char *path) {
  char abs[PATH_MAX];
  if (!realpath(path, abs))
    return xstrdup(path);
  const char *root = ws_root(R->w);
  size_t n = strlen(root);
  if (strncmp(abs, root, n) == 0 && abs[n] == '/')
    return xstrdup(abs + n + 1);
  return xstrdup(abs);
}

static char *json_of(void (*write)(const runner *, pipec_json *),
                     const runner *R) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return xstrdup("{}");
  pipec_json j;
  pipec_json_init(&j, f, false);
  write(R, &j);
  pipec_json_done(&j);
  fclose(f);
  return buf;
}

static void params_json(const runner *R, pipec_json *j) {
  pipec_json_obj(j);
  pipec_json_key(j, "overrides");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < R->o->n_overrides; i++)
    pipec_json_str(j, R->o->overrides[i]);
  pipec_json_end(j);
  pipec_json_key(j, "values");
  pipec_json_obj(j);
  for (uint32_t i = 0; i < R->p->n_params; i++) {
    pipec_json_key(j, R->p->params[i].name);
    pipec_value_json(j, &R->p->params[i].value);
  }
  pipec_json_end(j);
  pipec_json_end(j);
}

static void selection_json(const runner *R, pipec_json *j) {
  const plan_sel *s = &R->o->sel;
  pipec_json_obj(j);
  pipec_json_key(j, "nodes");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < s->n_nodes; i++)
    pipec_json_str(j, s->nodes[i]);
  pipec_json_end(j);
  pipec_json_key(j, "from");
  pipec_json_str(j, s->from);
  pipec_json_key(j, "to");
  pipec_json_str(j, s->to);
  pipec_json_key(j, "force");
  pipec_json_bool(j, R->o->force);
  pipec_json_end(j);
}

static int record_snapshot(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  store_runs_reap(R->st, store_pid_alive); /* runs killed before they could say */
  snap_clean_rollbacks(R->st);             /* files a killed rollback left */
  char *main_rel = workspace_path(R, p->file);
  int rc = store_pipeline_get_or_create(R->st, p->name, main_rel,
                                        &R->pipeline_id);
  free(main_rel);
  store_file *files = xcalloc(p->n_sources, sizeof *files);
  for (uint32_t i = 0; i < p->n_sources; i++)
    files[i] = (store_file){workspace_path(R, p->sources[i].path),
                            p->sources[i].text, p->sources[i].len};
  int64_t draft = 0;
  if (rc == 0)
    rc = store_draft_record(R->st, R->pipeline_id, files, p->n_sources,
                            &draft);
  for (uint32_t i = 0; i < p->n_sources; i++)
    free((char *)files[i].path);
  free(files);
  char *config = NULL, *params = json_of(params_json, R),
       *sel = json_of(selection_json, R);
  {
    size_t len = 0;
    FILE *f = open_memstream(&config, &len);
    if (f) {
      pipec_graph_write(p, PIPEC_GRAPH_JSON_COMPACT, f);
      fclose(f);
    }
  }
  /* the snapshot is the whole configuration: also the code files' bytes
   * (put into the object store first, outside the transaction), the data
   * files' hashes and the -p values; all of it with the run, or nothing */
  store_snap_file *sf = NULL;
  uint32_t n_sf = 0;
  bool said = false;
  if (rc == 0 && !R->o->dry_run && /* a dry run records the draft only */
      snap_collect_files(R->w, R->objs, R->memo, p, R->abs_dir, &sf, &n_sf,
                         err, errlen) != 0) {
    rc = -1;
    said = true;
  }
  store_override *ov = xcalloc(R->o->n_overrides + 1, sizeof *ov);
  for (uint32_t i = 0; i < R->o->n_overrides; i++) {
    const char *o = R->o->overrides[i], *eq = strchr(o, '=');
    size_t len = eq ? (size_t)(eq - o) : strlen(o);
    ov[i].name = xprintf("%.*s", (int)len, o);
    ov[i].value = xstrdup(eq ? eq + 1 : "");
  }
  if (rc == 0 && !R->o->dry_run) {
    rc = store_begin(R->st);
    if (rc == 0)
      rc = store_snapshot_add(R->st, R->pipeline_id, draft,
                              config ? config : "{}", params,
                              plan_mode_name(&R->o->sel), sel,
                              &R->snapshot_id);
    if (rc == 0)
      rc = store_snapshot_overrides_add(R->st, R->snapshot_id, ov,
                                        R->o->n_overrides);
    if (rc == 0)
      rc = store_snapshot_files_add(R->st, R->snapshot_id, sf, n_sf);
    if (rc == 0)
      rc = store_run_add(R->st, R->snapshot_id, R->pipeline_id,
                         (int64_t)getpid(), &R->run_id);
    if (rc == 0)
      rc = store_commit(R->st);
    else
      store_rollback(R->st);
  }
  store_overrides_free(ov, R->o->n_overrides);
  store_snap_files_free(sf, n_sf);
  free(config);
  free(params);
  free(sel);
  if (rc != 0 && !said)
    snprintf(err, errlen, "cannot record the run: %s", store_errmsg(R->st));
  else if (rc != 0) {
    char why[512];
    snprintf(why, sizeof why, "%s", err);
    snprintf(err, errlen, "cannot record the run: %s", why);
  }
  return rc;
}

/* ---- nodes outside the plan ---------------------------------------------- */

/* Upstream nodes give their outputs from the store: their key, from their
 * own inputs, must have a cache entry. */
static int resolve_upstream(runner *R, char *err, size_t errlen) {
  for (uint32_t i = 0; i < R->p->n_nodes; i++) {
    if (!R->upstream[i])
      continue;
    const char *name = R->p->nodes[i].name;
    char e[512];
    if (compute_key(R, i, false, e, sizeof e) != 0) {
      snprintf(err, errlen, "node '%s' (needed by the selection): %s", name,
               e);
      return -1;
    }
    if (!cache_lookup(R, i)) {
      const char *why = R->nodes[i].reason;
      if (why)
        snprintf(err, errlen,
                 "node '%s' is needed by the selection but %s%s; run it "
                 "first (e.g. pipec run FILE --to %s)",
                 name, why, strstr(why, "damaged") ? ", and was removed" : "",
                 name);
      else
        snprintf(err, errlen,
                 "node '%s' is needed by the selection but has no stored "
                 "outputs for its current inputs; run it first (e.g. pipec "
                 "run FILE --to %s)",
                 name, name);
      return -1;
    }
  }
  return 0;
}

/* --dry-run: what would run and why, in order; runs nothing. A node whose
 * input would be recomputed runs too (its key depends on that content). */
static void dry_run(runner *R) {
  FILE *out = R->o->out;
  for (uint32_t i = 0; i < R->p->n_nodes; i++) {
    if (!R->in_plan[i])
      continue;
    const pipec_node *n = &R->p->nodes[i];
    const char *pending = NULL;
    for (uint32_t k = 0; k < n->n_inputs && !pending; k++)
      if (!R->nodes[n->inputs[k].producer].known)
        pending = R->p->nodes[n->inputs[k].producer].name;
    if (pending) {
      fprintf(out, "would run  %-16s (input from '%s', which runs first)\n",
              n->name, pending);
      R->res->ran++;
      continue;
    }
    char err[512];
    if (compute_key(R, i, true, err, sizeof err) != 0) {
      fprintf(out, "would fail %-16s %s\n", n->name, err);
      R->res->failed++;
      continue;
    }
    if (n->cache && !R->o->force && cache_lookup(R, i)) {
      fprintf(out, "cached     %s\n", n->name);
      R->res->cached++;
      continue;
    }
    char *why = miss_reason(R, i);
    fprintf(out, "would run  %-16s (%s)\n", n->name, why);
    free(why);
    R->res->ran++;
  }
  fprintf(out, "%u would run, %u cached (dry run: nothing was run)\n",
          R->res->ran, R->res->cached);
}

/* ---- the run ------------------------------------------------------------- */

static void runner_free(runner *R) {
  for (uint32_t i = 0; R->nodes && i < R->p->n_nodes; i++) {
    run_node *rn = &R->nodes[i];
    node_release(rn, R->p->nodes[i].n_inputs, comp_of(R, i)->n_outputs);
    free(rn->out_hash);
    free(rn->out_size);
    ck_parts_free(&rn->parts);
    free(rn->parts_text);
    free(rn->scratch);
    free(rn->log_path);
    free(rn->reason);
    free(rn->input_msg);
  }
  free(R->nodes);
  objs_free(&R->objs_seen);
  if (R->targets) {
    for (uint32_t t = 0; t < R->p->n_targets; t++)
      if (R->targets[t])
        R->targets[t]->ops->close(R->targets[t]);
    free(R->targets);
  }
  free(R->in_plan);
  free(R->upstream);
  hash_memo_free(R->memo);
  if (R->objs)
    obj_close(R->objs);
  if (R->st)
    store_close(R->st);
  free(R->abs_dir);
}

/* Open the store and objects, build the plan: 0, RUN_WORKSPACE if the
 * workspace cannot be opened, -1 for anything else (err says what). */
static int run_setup(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  ssize_t n = readlink("/proc/self/exe", R->exe, sizeof R->exe - 1);
  if (n <= 0)
    snprintf(R->exe, sizeof R->exe, "pipec");
  else
    R->exe[n] = 0;
  char abs[PATH_MAX];
  if (!realpath(p->dir, abs)) {
    snprintf(err, errlen, "cannot resolve %s: %s", p->dir, strerror(errno));
    return -1;
  }
  R->abs_dir = xstrdup(abs);
  if (store_open(ws_db_path(R->w), &R->st, err, errlen) != 0)
    return RUN_WORKSPACE;
  if (obj_open(ws_objects_dir(R->w), NULL, &R->objs, err, errlen) != 0)
    return RUN_WORKSPACE;
  R->fine_ts = obj_fine_timestamps(R->objs);
  if (logcap_limit(&R->log_limit, err, errlen) != 0)
    return -1;
  R->idx = (hash_index){.ctx = R->st, .get = idx_get, .put = idx_put};
  R->memo = hash_memo_new(R->abs_dir, &R->idx);
  if (!R->memo) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  R->nodes = xcalloc(p->n_nodes, sizeof *R->nodes);
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    uint32_t outs = comp_of(R, i)->n_outputs;
    R->nodes[i].out_hash = xcalloc(outs, sizeof(hash128));
    R->nodes[i].out_size = xcalloc(outs, sizeof(uint64_t));
  }
  R->targets = xcalloc(p->n_targets, sizeof *R->targets);
  R->in_plan = xcalloc(p->n_nodes, sizeof(bool));
  R->upstream = xcalloc(p->n_nodes, sizeof(bool));
  if (plan_select(p, &R->o->sel, R->in_plan, err, errlen) != 0)
    return -1;
  plan_upstream(p, R->in_plan, R->upstream);
  return 0;
}

/* After a run: where the final outputs (those no node reads) are. */
static void print_results(const runner *R) {
  if (R->sp.mode != STATUS_LINES && R->sp.mode != STATUS_LIVE)
    return;
  const pipec_pipeline *p = R->p;
  bool *read = xcalloc(p->n_nodes, sizeof *read);
  for (uint32_t i = 0; i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
      read[p->nodes[i].inputs[k].producer] = true;
  int shown = 0;
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    if (read[i] || !R->in_plan[i] || !R->nodes[i].known)
      continue;
    const pipec_component *c = comp_of(R, i);
    for (uint32_t k = 0; k < c->n_outputs; k++) {
      if (shown++ == 12) {
        fprintf(R->o->out, "  ... (pipec show %lld lists every node)\n",
                (long long)R->run_id);
        free(read);
        return;
      }
      if (shown == 1)
        fprintf(R->o->out, "results (pipec cat NODE.PORT prints one):\n");
      char name[256];
      snprintf(name, sizeof name, "%s.%s", p->nodes[i].name,
               c->outputs[k].name);
      fprintf(R->o->out, "  %-24s %-6s %llu bytes\n", name,
              pipec_port_type_name(c->outputs[k].type),
              (unsigned long long)R->nodes[i].out_size[k]);
    }
  }
  free(read);
}

static int run_schedule(runner *R, char *err, size_t errlen) {
  uint32_t total = 0;
  for (uint32_t i = 0; i < R->p->n_nodes; i++)
    total += R->in_plan[i];
  status_init(&R->sp, R->o->out, R->o->mode, total);
  if (uv_loop_init(&R->loop) != 0) {
    snprintf(err, errlen, "cannot start the event loop");
    return -1;
  }
  sched_opts so = {.jobs = R->o->jobs,
                   .keep_going = R->o->keep_going,
                   .handle_signals = true,
                   .backoff_s = 1.0,
                   .kinds = R->o->kinds};
  sched_hooks hooks = {.ctx = R,
                       .prepare = hook_prepare,
                       .started = hook_started,
                       .attempt_done = hook_attempt_done,
                       .settled = hook_settled,
                       .notice = hook_notice};
  char *dirs[2] = {
      xprintf("%s/%lld", ws_runs_dir(R->w), (long long)R->run_id),
      xprintf("%s/%lld", ws_logs_dir(R->w), (long long)R->run_id)};
  for (int i = 0; i < 2; i++) {
    int mrc = fs_mkdir_p(dirs[i]);
    if (mrc != 0) {
      snprintf(err, errlen, "cannot create %s: %s", dirs[i], strerror(-mrc));
      free(dirs[0]), free(dirs[1]);
      uv_loop_close(&R->loop);
      return -1;
    }
  }
  free(dirs[0]), free(dirs[1]);
  sched_summary sum = {0};
  double t0 = status_now();
  uv_prepare_init(&R->loop, &R->batch_commit);
  R->batch_commit.data = R;
  uv_prepare_start(&R->batch_commit, on_loop_prepare);
  uv_unref((uv_handle_t *)&R->batch_commit); /* never keeps the loop alive */
  int rc = sched_run(&R->loop, R->p, R->in_plan, &so, &hooks, NULL, &sum);
  batch_close(R);
  objs_flush(R);
  uv_close((uv_handle_t *)&R->batch_commit, NULL);
  /* close the targets on the loop, then the loop */
  for (uint32_t t = 0; t < R->p->n_targets; t++)
    if (R->targets[t]) {
      R->targets[t]->ops->close(R->targets[t]);
      R->targets[t] = NULL;
    }
  uv_run(&R->loop, UV_RUN_DEFAULT);
  uv_loop_close(&R->loop);
  R->res->interrupted = sum.interrupted;
  const char *status = sum.interrupted ? "cancelled"
                       : R->res->failed ? "failed"
                                        : "succeeded";
  store_run_finish(R->st, R->run_id, status, R->res->ran, R->res->cached,
                   R->res->failed);
  status_summary(&R->sp, R->res->ran, R->res->cached, R->res->failed,
                 R->res->skipped, R->res->cancelled, status_now() - t0,
                 R->run_id);
  print_results(R);
  if (rc < 0) {
    snprintf(err, errlen, "the event loop failed: %s", uv_strerror(rc));
    return -1;
  }
  return 0;
}

int run_pipeline(ws *w, const pipec_pipeline *p, const run_opts *o,
                 run_result *res, char *err, size_t errlen) {
  runner R = {.p = p, .o = o, .res = res, .w = w};
  memset(res, 0, sizeof *res);
  int code = run_setup(&R, err, errlen);
  if (code == 0 && record_snapshot(&R, err, errlen) != 0)
    code = RUN_WORKSPACE; /* the store cannot record the run */
  if (code != 0) {
    code = code == RUN_WORKSPACE ? RUN_WORKSPACE : RUN_USAGE;
    goto out;
  }
  code = RUN_USAGE;
  res->snapshot_id = R.snapshot_id;
  res->run_id = R.run_id;
  if (resolve_upstream(&R, err, errlen) != 0) {
    if (R.run_id)
      store_run_finish(R.st, R.run_id, "failed", 0, 0, 0);
    goto out;
  }
  if (o->dry_run) {
    dry_run(&R);
    code = RUN_OK;
    goto out;
  }
  if (run_schedule(&R, err, errlen) != 0)
    goto out;
  code = res->interrupted ? RUN_INTERRUPTED
         : res->failed || res->cancelled ? RUN_NODE_FAILED
                                         : RUN_OK;
out:
  runner_free(&R);
  return code;
}

/* ---- pipec why ------------------------------------------------------------ */

int run_why(ws *w, const pipec_pipeline *p, const char *node_name, FILE *out,
            char *err, size_t errlen) {
  run_opts o = {.out = out, .dry_run = true};
  run_result res;
  runner R = {.p = p, .o = &o, .res = &res, .w = w};
  memset(&res, 0, sizeof res);
  int code = RUN_USAGE;
  uint32_t node = pipec_pipeline_node(p, node_name);
  if (node == PIPEC_NONE) {
    const char **names = xcalloc(p->n_nodes, sizeof *names);
    for (uint32_t i = 0; i < p->n_nodes; i++)
      names[i] = p->nodes[i].name;
    const char *best = editdist_suggest(node_name, names, p->n_nodes);
    snprintf(err, errlen, "pipeline '%s' has no node '%s'%s%s%s", p->name,
             node_name, best ? "; did you mean '" : "", best ? best : "",
             best ? "'?" : "");
    free(names);
    return RUN_USAGE;
  }
  if ((code = run_setup(&R, err, errlen)) != 0) {
    code = code == RUN_WORKSPACE ? RUN_WORKSPACE : RUN_USAGE;
    goto out;
  }
  code = RUN_USAGE;
  char *main_rel = workspace_path(&R, p->file);
  int rc = store_pipeline_get_or_create(R.st, p->name, main_rel,
                                        &R.pipeline_id);
  free(main_rel);
  if (rc != 0) {
    snprintf(err, errlen, "%s", store_errmsg(R.st));
    goto out;
  }
  /* the node and everything upstream, in order: the first that misses the
   * cache is the reason everything below it would run */
  bool *need = xcalloc(p->n_nodes, sizeof *need);
  need[node] = true;
  for (uint32_t i = node + 1; i-- > 0;)
    if (need[i])
      for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
        need[p->nodes[i].inputs[k].producer] = true;
  code = RUN_OK;
  for (uint32_t i = 0; i <= node; i++) {
    if (!need[i])
      continue;
    char e[512];
    if (compute_key(&R, i, true, e, sizeof e) != 0) {
      fprintf(out, "%s cannot be keyed: %s\n", p->nodes[i].name, e);
      break;
    }
    if (p->nodes[i].cache && cache_lookup(&R, i)) {
      if (i == node) {
        char hex[HASH_HEX_LEN + 1];
        hash_hex(&R.nodes[i].key, hex);
        fprintf(out, "%s is cached: it would not run (key %s)\n",
                p->nodes[i].name, hex);
      }
      continue;
    }
    char *why = miss_reason(&R, i);
    if (i == node)
      fprintf(out, "%s would run: %s\n", p->nodes[i].name, why);
    else
      fprintf(out, "%s would run: upstream node '%s' would run first (%s), "
                   "so its input may change\n",
              p->nodes[node].name, p->nodes[i].name, why);
    free(why);
    break;
  }
  free(need);
out:
  runner_free(&R);
  return code;
}
