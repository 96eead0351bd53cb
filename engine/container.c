/*
 * container.c — images resolved per target, and the command line that runs
 * a job in its container (container.h).
 */
#define _GNU_SOURCE
#include "container.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "hash.h"
#include "shbuf.h"
#include "target.h"

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d)
    abort();
  return d;
}

static char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s;
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  va_end(ap);
  return s;
}

const char *ctr_runtime_of(const pipec_target *decl) {
  const pipec_opt *o = pipec_target_opt(decl, "container_runtime");
  return o && o->value.type == PIPEC_T_STRING ? o->value.u.s : "podman";
}

/* ---- names ----------------------------------------------------------------- */

void ctr_job_name(ctr_job *c, int64_t run_id, const char *node,
                  const char *ws_dir) {
  hash128 h = hash_buf(ws_dir, strlen(ws_dir));
  char hex[HASH_HEX_LEN + 1];
  hash_hex(&h, hex);
  snprintf(c->ws_tag, sizeof c->ws_tag, "%.8s", hex);
  c->ws_dir = ws_dir;
  c->run_id = run_id;
  /* a container name is [A-Za-z0-9][A-Za-z0-9_.-]*: other characters of
   * a node's name (a family's "[A,1]") become '_', and a short hash of
   * the name keeps two such names apart */
  char safe[81];
  size_t k = 0;
  bool changed = false;
  for (const char *q = node; *q && k < sizeof safe - 1; q++) {
    char ch = *q;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-';
    safe[k++] = ok ? ch : '_';
    changed |= !ok;
  }
  safe[k] = 0;
  changed |= strlen(node) > k;
  if (changed) {
    hash128 nh = hash_buf(node, strlen(node));
    hash_hex(&nh, hex);
    snprintf(c->name, sizeof c->name, "pipec-%lld-%s-%.6s",
             (long long)run_id, safe, hex);
  } else {
    snprintf(c->name, sizeof c->name, "pipec-%lld-%s", (long long)run_id,
             safe);
  }
}

/* ---- the command line ------------------------------------------------------- */

/* The shim, run by /bin/sh -c with $1 the runtime, $2 the container's
 * name, then `run`'s arguments. It runs the container in the background
 * and waits, so a signal (the target's cancel) runs the trap, which kills
 * the container; the outer shell waits for all of it. A watcher in a
 * session of its own reads the exit code through a pipe; when the shim
 * dies before writing it (killed at once), the pipe's end tells the
 * watcher to kill the container. The exit code is the container's. */
static const char shim[] =
    "r=$1; n=$2; shift 2; trap : TERM INT HUP; "
    "s=; command -v setsid >/dev/null 2>&1 && s=setsid; exec 3>&1; "
    "{ trap '\"$r\" kill \"$n\" >/dev/null 2>&1' TERM INT HUP; "
    "\"$r\" run \"$@\" 9>&- & c=$!; "
    "while :; do wait \"$c\"; rc=$?; kill -0 \"$c\" 2>/dev/null || break; "
    "done; echo \"$rc\" >&9; } 9>&1 >&3 3>&- | "
    "$s sh -c 'trap \"\" TERM INT HUP; read rc; if [ -z \"$rc\" ]; then "
    "\"$0\" kill \"$1\" >/dev/null 2>&1; exit 137; fi; exit \"$rc\"' "
    "\"$r\" \"$n\" 3>&-";

typedef struct strv {
  char **v;
  size_t n, cap;
} strv;

static void add_own(strv *a, char *s) {
  if (a->n + 2 > a->cap) {
    a->cap = a->cap ? a->cap * 2 : 32;
    a->v = realloc(a->v, a->cap * sizeof *a->v);
    if (!a->v)
      abort();
  }
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
}

static void add(strv *a, const char *s) { add_own(a, xstrdup(s)); }

void ctr_argv_free(char **v) {
  for (char **q = v; q && *q; q++)
    free(*q);
  free(v);
}

/* Is path below dir (or dir itself)? */
static bool below(const char *path, const char *dir) {
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

/* -v P+path:P+path:mode, refusing what -v cannot say. */
static int add_mount(strv *a, const char *prefix, const char *path,
                     const char *mode, char *err, size_t errlen) {
  if (strchr(path, ':') || strchr(prefix, ':')) {
    snprintf(err, errlen, "cannot mount %s%s into the container: a path "
             "with ':' cannot be given to the runtime's -v", prefix, path);
    return -1;
  }
  add(a, "-v");
  add_own(a, xasprintf("%s%s:%s%s:%s", prefix, path, prefix, path, mode));
  return 0;
}

char **ctr_argv(ctr_job *c, const tgt_job *job, char *const *cmd,
                const char *prefix, char *err, size_t errlen) {
  strv a = {0};
  c->attempts++;
  char *name = xasprintf("%s-%u-%s", c->name, c->attempts, c->ws_tag);
  add(&a, "/bin/sh");
  add(&a, "-c");
  add(&a, shim);
  add(&a, "pipec-container");
  add(&a, c->runtime);
  add(&a, name);
  add(&a, "--rm");
  add(&a, "--name");
  add_own(&a, name);
  add(&a, "--pull=never");
  add_own(&a, xasprintf("--label=pipec.workspace=%s", c->ws_dir));
  add_own(&a, xasprintf("--label=pipec.run=%lld", (long long)c->run_id));
  add_own(&a, xasprintf("--label=pipec.node=%s", job->node_name));
  add_own(&a, xasprintf("--label=pipec.image=%s", c->ref));
  if (!c->network)
    add(&a, "--network=none");
  if (job->res.cpus > 0)
    add_own(&a, xasprintf("--cpus=%lld", (long long)job->res.cpus));
  if (job->res.memory > 0)
    add_own(&a, xasprintf("--memory=%lld", (long long)job->res.memory));
  /* the environment by name: the values are in the shim's own */
  for (char **e = job->env; e && *e; e++) {
    add(&a, "-e");
    add_own(&a, xasprintf("%.*s", (int)strcspn(*e, "="), *e));
  }
  if (job->gpus_set) {
    add(&a, "-e");
    add(&a, "CUDA_VISIBLE_DEVICES");
  }
  /* where the command reads and writes, at the same paths */
  int rc = add_mount(&a, prefix, job->cwd, "ro", err, errlen);
  add(&a, "-w");
  add_own(&a, xasprintf("%s%s", prefix, job->cwd));
  if (rc == 0)
    rc = add_mount(&a, prefix, job->scratch, "rw", err, errlen);
  for (uint32_t i = 0; rc == 0 && i < job->n_in; i++)
    rc = add_mount(&a, prefix, job->in_paths[i], "ro", err, errlen);
  for (uint32_t i = 0; rc == 0 && i < job->n_files; i++)
    if (!below(job->files[i], job->cwd))
      rc = add_mount(&a, prefix, job->files[i], "ro", err, errlen);
  if (rc != 0) {
    ctr_argv_free(a.v);
    return NULL;
  }
  add(&a, c->image_id);
  for (char *const *w = cmd; *w; w++)
    add(&a, w == cmd && job->builtin ? "pipec" : *w);
  return a.v;
}

void ctr_judge_memory(const tgt_job *job, tgt_result *r) {
  r->peak_memory = 0;
  if (!r->out_of_memory && !r->cancelled && job->res.memory > 0 &&
      !r->term_signal && r->exit_code == 128 + 9)
    tgt_say_out_of_memory(r, job->res.memory);
}

const char *ctr_exit_hint(int code) {
  switch (code) {
  case 125:
    return "the container runtime failed (its message is in the log)";
  case 126:
    return "the command cannot be run in the image (see the log)";
  case 127:
    return "the command is not in the image (see the log)";
  }
  return NULL;
}

/* ---- asking the hosts --------------------------------------------------------- */

/* A pass over the targets of p that matter, each opened on a loop of its
 * own, and the questions asked of their hosts. */
typedef struct asker {
  uv_loop_t loop;
  const pipec_pipeline *p;
  tgt **t;                 /* per target, opened on demand */
  char **open_err;         /* per target: why it could not be opened */
  const tgt_kinds *kinds;
} asker;

static int asker_init(asker *k, const pipec_pipeline *p,
                      const tgt_kinds *kinds, char *err, size_t errlen) {
  memset(k, 0, sizeof *k);
  k->p = p;
  k->kinds = kinds;
  if (uv_loop_init(&k->loop) != 0) {
    snprintf(err, errlen, "cannot start an event loop");
    return -1;
  }
  k->t = calloc(p->n_targets + 1, sizeof *k->t);
  k->open_err = calloc(p->n_targets + 1, sizeof *k->open_err);
  if (!k->t || !k->open_err)
    abort();
  return 0;
}

/* Start argv on target ti's host; 0, or -1 with *why set (malloc'd). */
static int ask(asker *k, uint32_t ti, char *const argv[], subproc_cb cb,
               void *data, char **why) {
  const pipec_target *decl = &k->p->targets[ti];
  char e[512];
  if (!k->t[ti] && !k->open_err[ti] &&
      tgt_open(&k->loop, k->kinds, decl, &k->t[ti], e, sizeof e) != 0)
    k->open_err[ti] = xstrdup(e);
  if (k->open_err[ti]) {
    *why = xstrdup(k->open_err[ti]);
    return -1;
  }
  tgt *t = k->t[ti];
  if (!t->ops->host_call) {
    *why = xasprintf("target '%s' (%s) cannot run containers", decl->name,
                     decl->kind);
    return -1;
  }
  if (t->ops->host_call(t, argv, 120000, cb, data, e, sizeof e) != 0) {
    *why = xasprintf("target '%s': cannot ask its host: %s", decl->name, e);
    return -1;
  }
  return 0;
}

static void asker_finish(asker *k) {
  uv_run(&k->loop, UV_RUN_DEFAULT);
  for (uint32_t i = 0; i < k->p->n_targets; i++) {
    if (k->t[i])
      k->t[i]->ops->close(k->t[i]);
    free(k->open_err[i]);
  }
  uv_run(&k->loop, UV_RUN_DEFAULT);
  uv_loop_close(&k->loop);
  free(k->t);
  free(k->open_err);
}

/* stderr's first line, trimmed, or what the status says. */
static char *first_line(const char *s) {
  while (*s == '\n' || *s == ' ')
    s++;
  return xasprintf("%.*s", (int)strcspn(s, "\n"), s);
}

/* "on this machine" is what a local user thinks of; the others by name */
static char *where(const pipec_target *decl) {
  return xasprintf("target '%s'", decl->name);
}

/* ---- images -------------------------------------------------------------------- */

/* Look up $2 with runtime $1: exit 127 if there is no runtime. */
static const char inspect_script[] =
    "command -v \"$1\" >/dev/null 2>&1 || exit 127; "
    "exec \"$1\" image inspect --format '{{.Id}}' \"$2\"";

typedef struct image_ask {
  const pipec_pipeline *p;
  ctr_image *im;
} image_ask;

static void on_inspect(const subproc_out *o, void *data) {
  image_ask *q = data;
  ctr_image *im = q->im;
  const pipec_target *decl = &q->p->targets[im->target];
  const char *rt = ctr_runtime_of(decl);
  char *at = where(decl);
  free(q);
  if (o->status == 0) {
    char *id = first_line(o->out);
    const char *hex = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
    bool ok = strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64;
    if (ok)
      im->id = xasprintf("sha256:%s", hex);
    else
      im->error = xasprintf("%s on %s gave image '%s' an id pipec cannot "
                            "read: '%.80s'", rt, at, im->ref, id);
    free(id);
  } else if (o->status == 127 || o->timed_out) {
    im->error = o->timed_out
                    ? xasprintf("%s on %s did not answer about image '%s'",
                                rt, at, im->ref)
                    : xasprintf("image '%s' needs the container runtime "
                                "'%s', which %s does not have (not in its "
                                "PATH): install %s there, or choose another "
                                "with container_runtime", im->ref, rt, at,
                                rt);
  } else {
    char *msg = first_line(o->err);
    bool missing = strcasestr(msg, "no such") || strcasestr(msg, "not known");
    if (missing) {
      im->missing = true;
      im->error = xasprintf("image '%s' is not in %s on %s: pull it (%s "
                            "pull %s) or build it (%s build -t %s DIR)",
                            im->ref, rt, at, rt, im->ref, rt, im->ref);
    } else {
      im->error = xasprintf("cannot look up image '%s' with %s on %s: %s",
                            im->ref, rt, at,
                            msg[0] ? msg : "it failed without a message");
    }
    free(msg);
  }
  free(at);
}

const ctr_image *ctr_images_find(const ctr_images *im, uint32_t target,
                                 const char *ref) {
  for (uint32_t i = 0; im && i < im->n; i++)
    if (im->v[i].target == target && strcmp(im->v[i].ref, ref) == 0)
      return &im->v[i];
  return NULL;
}

/* Add (target, ref) once. */
static void want(ctr_images *out, uint32_t *cap, uint32_t target,
                 const char *ref) {
  if (ctr_images_find(out, target, ref))
    return;
  if (out->n == *cap) {
    *cap = *cap ? *cap * 2 : 8;
    out->v = realloc(out->v, *cap * sizeof *out->v);
    if (!out->v)
      abort();
  }
  out->v[out->n++] = (ctr_image){.target = target, .ref = ref};
}

int ctr_resolve(const pipec_pipeline *p, const tgt_kinds *kinds,
                const char *only_kind, ctr_images *out, char *err,
                size_t errlen) {
  memset(out, 0, sizeof *out);
  uint32_t cap = 0;
  /* a family's members share their image: remember the last pair */
  const char *last_ref = NULL;
  uint32_t last_t = PIPEC_NONE;
  for (uint32_t pass = 0; pass < 2; pass++) {
    const pipec_node *v = pass ? p->templates : p->nodes;
    uint32_t n = pass ? p->n_templates : p->n_nodes;
    for (uint32_t i = 0; i < n; i++) {
      if (!v[i].image || (v[i].image == last_ref && v[i].target == last_t))
        continue;
      last_ref = v[i].image;
      last_t = v[i].target;
      if (only_kind && strcmp(p->targets[v[i].target].kind, only_kind) != 0)
        continue;
      want(out, &cap, v[i].target, v[i].image);
    }
  }
  if (out->n == 0)
    return 0;
  asker k;
  if (asker_init(&k, p, kinds, err, errlen) != 0)
    return -1;
  for (uint32_t i = 0; i < out->n; i++) {
    ctr_image *im = &out->v[i];
    const char *rt = ctr_runtime_of(&p->targets[im->target]);
    char *argv[] = {"sh", "-c", (char *)inspect_script, "sh", (char *)rt,
                    (char *)im->ref, NULL};
    image_ask *q = calloc(1, sizeof *q);
    if (!q)
      abort();
    *q = (image_ask){.p = p, .im = im};
    char *why = NULL;
    if (ask(&k, im->target, argv, on_inspect, q, &why) != 0) {
      free(q);
      im->error = why;
    }
  }
  asker_finish(&k);
  return 0;
}

void ctr_images_free(ctr_images *im) {
  for (uint32_t i = 0; i < im->n; i++) {
    free(im->v[i].id);
    free(im->v[i].error);
  }
  free(im->v);
  memset(im, 0, sizeof *im);
}

/* ---- runtimes ------------------------------------------------------------------- */

static const char version_script[] =
    "p=$(command -v \"$1\") || exit 127; echo \"$p\"; exec \"$1\" --version";

typedef struct version_ask {
  const pipec_target *decl;
  ctr_runtime_info *info;
} version_ask;

static void on_version(const subproc_out *o, void *data) {
  version_ask *q = data;
  ctr_runtime_info *ri = q->info;
  char *at = where(q->decl);
  free(q);
  if (o->status == 0) {
    ri->path = first_line(o->out);
    const char *nl = strchr(o->out, '\n');
    ri->version = first_line(nl ? nl + 1 : "");
  } else if (o->status == 127) {
    ri->error = xasprintf("not installed on %s", at);
  } else {
    char *msg = first_line(o->err);
    ri->error = xasprintf("%s --version failed on %s: %s", ri->name, at,
                          o->timed_out ? "no answer" : msg);
    free(msg);
  }
  free(at);
}

int ctr_runtimes(const pipec_pipeline *p, const tgt_kinds *kinds,
                 ctr_runtime_info *info, char *err, size_t errlen) {
  bool *used = calloc(p->n_targets + 1, sizeof *used);
  if (!used)
    abort();
  bool any = false;
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].image)
      any = used[p->nodes[i].target] = true;
  for (uint32_t i = 0; i < p->n_templates; i++)
    if (p->templates[i].image)
      any = used[p->templates[i].target] = true;
  for (uint32_t t = 0; t < p->n_targets; t++)
    info[t] = (ctr_runtime_info){.name = ctr_runtime_of(&p->targets[t]),
                                 .probed = used[t]};
  asker k;
  if (any && asker_init(&k, p, kinds, err, errlen) != 0) {
    free(used);
    return -1;
  }
  for (uint32_t t = 0; any && t < p->n_targets; t++) {
    if (!used[t])
      continue;
    char *argv[] = {"sh", "-c", (char *)version_script, "sh",
                    (char *)info[t].name, NULL};
    version_ask *q = calloc(1, sizeof *q);
    if (!q)
      abort();
    *q = (version_ask){.decl = &p->targets[t], .info = &info[t]};
    char *why = NULL;
    if (ask(&k, t, argv, on_version, q, &why) != 0) {
      free(q);
      info[t].error = why;
    }
  }
  if (any)
    asker_finish(&k);
  free(used);
  return 0;
}

void ctr_runtimes_free(ctr_runtime_info *info, uint32_t n) {
  for (uint32_t i = 0; info && i < n; i++) {
    free(info[i].path);
    free(info[i].version);
    free(info[i].error);
  }
}
