/*
 * snapshot.c — what a snapshot records besides its draft, and
 * recompiling, comparing and restoring snapshots (snapshot.h).
 *
 * Rollback writes the files through projwrite.h: never through a link
 * that leaves the project, and killed at any moment it leaves each file as
 * it was or as the snapshot has it (the next command removes the
 * temporary files: snap_clean_rollbacks).
 */
#define _GNU_SOURCE /* asprintf */
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "fsutil.h"
#include "literal.h"
#include "plugin.h"
#include "projwrite.h"
#include "target.h"
#include "textdiff.h"
#include "tree.h"

/* ---- recompiling ------------------------------------------------------------ */

typedef struct files_reader {
  store_file *files;
  uint32_t n;
} files_reader;

static int read_stored(void *ctx, const char *path, char **text,
                       size_t *len) {
  files_reader *fr = ctx;
  for (uint32_t i = 0; i < fr->n; i++)
    if (strcmp(fr->files[i].path, path) == 0) {
      *text = malloc(fr->files[i].len + 1);
      if (!*text)
        return ENOMEM;
      memcpy(*text, fr->files[i].text, fr->files[i].len);
      (*text)[fr->files[i].len] = 0;
      *len = fr->files[i].len;
      return 0;
    }
  return ENOENT;
}

/* The compiler's file-system questions (globs, source files) for a
 * snapshot's pipeline (imports and code files, globs, source files): its
 * stored paths are relative to the workspace root, so relative paths are
 * answered there, from the disk. */
typedef struct root_fs {
  pipec_fs fs;
  const char *root;
} root_fs;

static char *at_root(const root_fs *r, const char *path) {
  char *full = NULL;
  if (path[0] == '/' || !r->root)
    return strdup(path);
  if (asprintf(&full, "%s/%s", r->root, path) < 0)
    return NULL;
  return full;
}

static int root_stat(void *ctx, const char *path, pipec_file_kind *kind,
                     char **real) {
  const root_fs *r = ctx;
  char *full = at_root(r, path);
  if (!full)
    return ENOMEM;
  int rc = pipec_fs_disk()->stat(NULL, full, kind, real);
  free(full);
  return rc;
}

static int root_list(void *ctx, const char *path, char ***names,
                     pipec_file_kind **kinds, uint32_t *n) {
  const root_fs *r = ctx;
  char *full = at_root(r, path);
  if (!full)
    return ENOMEM;
  int rc = pipec_fs_disk()->list(NULL, full, names, kinds, n);
  free(full);
  return rc;
}

pipec_pipeline *snap_compile(store *st, int64_t id, const char *root,
                             const pipec_registry *registry,
                             const char *quota_path, const char *quota_text,
                             size_t quota_len, pipec_diags *d, char *err,
                             size_t errlen) {
  store_snapshot s;
  if (store_snapshot_get(st, id, &s) != 1) {
    snprintf(err, errlen, "no snapshot %lld (pipec snapshots lists them)",
             (long long)id);
    return NULL;
  }
  files_reader fr = {0};
  pipec_pipeline *p = NULL;
  if (store_draft_files(st, s.draft_id, &fr.files, &fr.n) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
  } else {
    store_override *ov = NULL;
    uint32_t n_ov = 0;
    char **texts = NULL;
    if (store_snapshot_overrides(st, id, &ov, &n_ov) != 0) {
      snprintf(err, errlen, "%s", store_errmsg(st));
    } else if (!(texts = calloc(n_ov + 1, sizeof *texts))) {
      snprintf(err, errlen, "out of memory");
    } else {
      for (uint32_t i = 0; i < n_ov; i++)
        if (asprintf(&texts[i], "%s=%s", ov[i].name, ov[i].value) < 0)
          abort(); /* out of memory */
      root_fs rfs = {{root_stat, root_list, NULL}, root};
      rfs.fs.ctx = &rfs;
      pipec_target_kinds kinds = tgt_kinds_schema(tgt_builtin_kinds());
      pipec_compile_opts o = {.registry = registry,
                              .target_kinds = &kinds,
                              .overrides = (const char *const *)texts,
                              .n_overrides = n_ov,
                              .reader = read_stored,
                              .reader_ctx = &fr,
                              .load_plugin = plugin_load,
                              .fs = &rfs.fs,
                              .quota_path = quota_path,
                              .quota_text = quota_text,
                              .quota_len = quota_len};
      p = pipec_compile(s.main_path, &o, d);
      if (!p)
        snprintf(err, errlen, "snapshot %lld no longer compiles",
                 (long long)id);
    }
    for (uint32_t i = 0; texts && i < n_ov; i++)
      free(texts[i]);
    free(texts);
    store_overrides_free(ov, n_ov);
  }
  store_files_free(fr.files, fr.n);
  store_snapshot_free(&s);
  return p;
}

/* ---- comparing ---------------------------------------------------------------- */

/* A line diff is shown for files up to this size and this many changed
 * lines; beyond, only that the file changed (and its hashes). */
#define SNAP_DIFF_MAX_BYTES (8 << 20)
#define SNAP_DIFF_MAX_EDITS 2000

typedef struct differ {
  FILE *out;
  int n;
  arena *a;
  int64_t id_a, id_b;
} differ;

static void say(differ *df, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(differ *df, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(df->out, fmt, ap);
  va_end(ap);
  fputc('\n', df->out);
  df->n++;
}

static const char *vtext(differ *df, const pipec_value *v) {
  return literal_source(df->a, v);
}

static const pipec_param *find_param(const pipec_param *ps, uint32_t n,
                                     const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(ps[i].name, name) == 0)
      return &ps[i];
  return NULL;
}

static void diff_params(differ *df, const char *what, const pipec_param *a,
                        uint32_t na, const pipec_param *b, uint32_t nb) {
  for (uint32_t i = 0; i < na; i++) {
    const pipec_param *pb = find_param(b, nb, a[i].name);
    if (!pb) {
      say(df, "%s%s removed (was %s)", what, a[i].name, vtext(df, &a[i].value));
      continue;
    }
    const char *ta = vtext(df, &a[i].value), *tb = vtext(df, &pb->value);
    if (strcmp(ta, tb) != 0)
      say(df, "%s%s: %s -> %s", what, a[i].name, ta, tb);
  }
  for (uint32_t i = 0; i < nb; i++)
    if (!find_param(a, na, b[i].name))
      say(df, "%s%s added: %s", what, b[i].name, vtext(df, &b[i].value));
}

static const char *input_text(differ *df, const pipec_pipeline *p,
                              const pipec_input *in) {
  if (in->kind == PIPEC_IN_SOURCE)
    return arena_printf(df->a, "file(\"%s\")", in->source);
  if (in->kind == PIPEC_IN_ITEM)
    return "(the loop's item)";
  if (in->kind != PIPEC_IN_NODE) /* run-time: a template's output */
    return arena_printf(df->a, "%s.%s", p->templates[in->ref].name,
                        in->producer_port);
  return arena_printf(df->a, "%s.%s", p->nodes[in->producer].name,
                      in->producer_port);
}

static void diff_inputs(differ *df, const pipec_pipeline *pa,
                        const pipec_node *a, const pipec_pipeline *pb,
                        const pipec_node *b) {
  for (uint32_t i = 0; i < a->n_inputs; i++) {
    const pipec_input *ib = NULL;
    for (uint32_t k = 0; k < b->n_inputs; k++)
      if (strcmp(b->inputs[k].port, a->inputs[i].port) == 0)
        ib = &b->inputs[k];
    const char *ta = input_text(df, pa, &a->inputs[i]);
    if (!ib)
      say(df, "rewired  %s.%s: %s -> (nothing)", a->name, a->inputs[i].port,
          ta);
    else if (strcmp(ta, input_text(df, pb, ib)) != 0)
      say(df, "rewired  %s.%s: %s -> %s", a->name, a->inputs[i].port, ta,
          input_text(df, pb, ib));
  }
  for (uint32_t k = 0; k < b->n_inputs; k++) {
    bool found = false;
    for (uint32_t i = 0; i < a->n_inputs && !found; i++)
      found = strcmp(a->inputs[i].port, b->inputs[k].port) == 0;
    if (!found)
      say(df, "rewired  %s.%s: (nothing) -> %s", b->name, b->inputs[k].port,
          input_text(df, pb, &b->inputs[k]));
  }
}

static const char *target_text(differ *df, const pipec_target *t) {
  char *s = arena_printf(df->a, "%s", t->kind);
  for (uint32_t i = 0; i < t->n_opts; i++)
    s = arena_printf(df->a, "%s %s=%s", s, t->opts[i].key,
                     vtext(df, &t->opts[i].value));
  return s;
}

static const pipec_target *find_target(const pipec_pipeline *p,
                                       const char *name) {
  for (uint32_t i = 0; i < p->n_targets; i++)
    if (strcmp(p->targets[i].name, name) == 0)
      return &p->targets[i];
  return NULL;
}

static void diff_node(differ *df, const pipec_pipeline *pa,
                      const pipec_node *a, const pipec_pipeline *pb,
                      const pipec_node *b) {
  const pipec_component *ca = &pa->components[a->component];
  const pipec_component *cb = &pb->components[b->component];
  if (strcmp(ca->name, cb->name) != 0)
    say(df, "node     %s: component %s -> %s", a->name, ca->name, cb->name);
  else if (ca->command && cb->command && strcmp(ca->command, cb->command))
    say(df, "node     %s: the command of %s changed", a->name, ca->name);
  diff_params(df, arena_printf(df->a, "param    %s.", a->name), a->params,
              a->n_params, b->params, b->n_params);
  diff_inputs(df, pa, a, pb, b);
  const char *ta = pa->targets[a->target].name,
             *tb = pb->targets[b->target].name;
  if (strcmp(ta, tb) != 0)
    say(df, "target   %s: %s -> %s", a->name, ta, tb);
  if (memcmp(&a->resources, &b->resources, sizeof a->resources) != 0)
    say(df, "node     %s: resources changed", a->name);
  if (a->retries != b->retries)
    say(df, "node     %s: retries %d -> %d", a->name, a->retries, b->retries);
  if (a->timeout_s != b->timeout_s)
    say(df, "node     %s: timeout %llds -> %llds", a->name,
        (long long)a->timeout_s, (long long)b->timeout_s);
  if (a->cache != b->cache)
    say(df, "node     %s: cache %s -> %s", a->name, a->cache ? "true" : "false",
        b->cache ? "true" : "false");
  if ((a->image || b->image) &&
      (!a->image || !b->image || strcmp(a->image, b->image) != 0))
    say(df, "node     %s: image %s -> %s", a->name,
        a->image ? a->image : "(none)", b->image ? b->image : "(none)");
  if (a->network != b->network)
    say(df, "node     %s: network %s -> %s", a->name,
        a->network ? "true" : "false", b->network ? "true" : "false");
  const char *qa = a->quota < pa->n_quotas ? pa->quotas[a->quota].name : "none",
             *qb = b->quota < pb->n_quotas ? pb->quotas[b->quota].name : "none";
  if (strcmp(qa, qb) != 0)
    say(df, "node     %s: quota group %s -> %s", a->name, qa, qb);
  if (a->memory_growth != b->memory_growth)
    say(df, "node     %s: memory_growth %g -> %g", a->name,
        (double)a->memory_growth, (double)b->memory_growth);
}

/* The unified diff of two versions of a file, after its "changed" line;
 * a binary file or one too different to show says so instead. */
static void diff_text(differ *df, const char *path, const char *a,
                      size_t alen, const char *b, size_t blen) {
  if (!textdiff_is_text(a, alen) || !textdiff_is_text(b, blen))
    return;
  char *la = arena_printf(df->a, "a/%s (snapshot %lld)", path,
                          (long long)df->id_a);
  char *lb = arena_printf(df->a, "b/%s (snapshot %lld)", path,
                          (long long)df->id_b);
  int rc = textdiff_unified(df->out, a, alen, b, blen, la, lb, 3,
                            SNAP_DIFF_MAX_EDITS);
  if (rc == -E2BIG)
    fprintf(df->out, "(more than %d lines changed: not shown)\n",
            SNAP_DIFF_MAX_EDITS);
}

/* The -p overrides of a snapshot as the compiler applies them: the last
 * value of each name. */
static const char *override_of(const store_override *ov, uint32_t n,
                               const char *name) {
  const char *v = NULL;
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(ov[i].name, name) == 0)
      v = ov[i].value;
  return v;
}

/* True if name appears in ov[0..i). */
static bool named_before(const store_override *ov, uint32_t i,
                         const char *name) {
  for (uint32_t k = 0; k < i; k++)
    if (strcmp(ov[k].name, name) == 0)
      return true;
  return false;
}

static void diff_overrides(differ *df, const store_override *a, uint32_t na,
                           const store_override *b, uint32_t nb) {
  for (uint32_t i = 0; i < na; i++) {
    if (named_before(a, i, a[i].name))
      continue;
    const char *va = override_of(a, na, a[i].name);
    const char *vb = override_of(b, nb, a[i].name);
    if (!vb)
      say(df, "-p       %s: %s -> (not given)", a[i].name, va);
    else if (strcmp(va, vb) != 0)
      say(df, "-p       %s: %s -> %s", a[i].name, va, vb);
  }
  for (uint32_t i = 0; i < nb; i++)
    if (!named_before(b, i, b[i].name) && !override_of(a, na, b[i].name))
      say(df, "-p       %s: (not given) -> %s", b[i].name,
          override_of(b, nb, b[i].name));
}

/* The bytes of a stored object, if it is there and at most max bytes
 * (malloc'd). */
static char *object_bytes(obj_store *objs, const hash128 *h, uint64_t max,
                          size_t *len) {
  char path[PATH_MAX];
  if (!objs)
    return NULL;
  obj_path(objs, h, path, sizeof path);
  struct stat sb;
  if (stat(path, &sb) != 0 || (uint64_t)sb.st_size > max)
    return NULL;
  return fs_read_all(path, len);
}

static const store_snap_file *find_file(const store_snap_file *f, uint32_t n,
                                        store_file_kind kind,
                                        const char *path) {
  for (uint32_t i = 0; i < n; i++)
    if (f[i].kind == kind && strcmp(f[i].path, path) == 0)
      return &f[i];
  return NULL;
}

static const char *hash_text(differ *df, const store_snap_file *f) {
  char hex[HASH_HEX_LEN + 1];
  hash_hex(&f->hash, hex);
  return arena_printf(df->a, "%s%s", hex, f->is_dir ? " (tree)" : "");
}

static void diff_files(differ *df, obj_store *objs, const store_snap_file *a,
                       uint32_t na, const store_snap_file *b, uint32_t nb) {
  for (uint32_t i = 0; i < na; i++) {
    const char *label = a[i].kind == STORE_FILE_CODE ? "code" : "data";
    const store_snap_file *fb = find_file(b, nb, a[i].kind, a[i].path);
    if (!fb) {
      say(df, "%-8s %s: removed (was %s)", label, a[i].path,
          hash_text(df, &a[i]));
      continue;
    }
    if (hash_eq(&a[i].hash, &fb->hash) && a[i].is_dir == fb->is_dir)
      continue;
    size_t la = 0, lb = 0;
    char *ta = NULL, *tb = NULL;
    if (a[i].kind == STORE_FILE_CODE) {
      ta = object_bytes(objs, &a[i].hash, SNAP_DIFF_MAX_BYTES, &la);
      tb = ta ? object_bytes(objs, &fb->hash, SNAP_DIFF_MAX_BYTES, &lb)
              : NULL;
    }
    bool binary = ta && tb && (!textdiff_is_text(ta, la) ||
                               !textdiff_is_text(tb, lb));
    say(df, "%-8s %s: %s%s -> %s", label, a[i].path, binary ? "binary, " : "",
        hash_text(df, &a[i]), hash_text(df, fb));
    if (ta && tb && !binary)
      diff_text(df, a[i].path, ta, la, tb, lb);
    else if (a[i].kind == STORE_FILE_CODE && (!ta || !tb))
      fprintf(df->out, "(the bytes of one version are not in the object "
                       "store, or it is larger than %d MB: not shown)\n",
              SNAP_DIFF_MAX_BYTES >> 20);
    free(ta);
    free(tb);
  }
  for (uint32_t i = 0; i < nb; i++)
    if (!find_file(a, na, b[i].kind, b[i].path))
      say(df, "%-8s %s: added (%s)",
          b[i].kind == STORE_FILE_CODE ? "code" : "data", b[i].path,
          hash_text(df, &b[i]));
}

int snap_diff(ws *w, store *st, int64_t id_a, int64_t id_b,
              const pipec_pipeline *a, const pipec_pipeline *b, FILE *out,
              char *err, size_t errlen) {
  differ df = {out, 0, arena_new(), id_a, id_b};
  diff_params(&df, "param    ", a->params, a->n_params, b->params,
              b->n_params);
  for (uint32_t i = 0; i < a->n_nodes; i++)
    if (pipec_pipeline_node(b, a->nodes[i].name) == PIPEC_NONE)
      say(&df, "removed  node %s (%s)", a->nodes[i].name,
          a->components[a->nodes[i].component].name);
  for (uint32_t i = 0; i < b->n_nodes; i++)
    if (pipec_pipeline_node(a, b->nodes[i].name) == PIPEC_NONE)
      say(&df, "added    node %s (%s)", b->nodes[i].name,
          b->components[b->nodes[i].component].name);
  for (uint32_t i = 0; i < a->n_nodes; i++) {
    uint32_t k = pipec_pipeline_node(b, a->nodes[i].name);
    if (k != PIPEC_NONE)
      diff_node(&df, a, &a->nodes[i], b, &b->nodes[k]);
  }
  for (uint32_t i = 0; i < a->n_targets; i++) {
    const pipec_target *tb = find_target(b, a->targets[i].name);
    const char *ta = target_text(&df, &a->targets[i]);
    if (!tb)
      say(&df, "removed  target %s (%s)", a->targets[i].name, ta);
    else if (strcmp(ta, target_text(&df, tb)) != 0)
      say(&df, "target   %s: %s -> %s", a->targets[i].name, ta,
          target_text(&df, tb));
  }
  for (uint32_t i = 0; i < b->n_targets; i++)
    if (!find_target(a, b->targets[i].name))
      say(&df, "added    target %s (%s)", b->targets[i].name,
          target_text(&df, &b->targets[i]));
  for (uint32_t i = 0; i < a->n_sources; i++) {
    const pipec_source *sb = NULL;
    for (uint32_t k = 0; k < b->n_sources; k++)
      if (strcmp(a->sources[i].path, b->sources[k].path) == 0)
        sb = &b->sources[k];
    if (!sb) {
      say(&df, "file     %s: no longer imported", a->sources[i].path);
    } else if (sb->len != a->sources[i].len ||
               memcmp(sb->text, a->sources[i].text, sb->len) != 0) {
      say(&df, "file     %s: changed", a->sources[i].path);
      diff_text(&df, a->sources[i].path, a->sources[i].text,
                a->sources[i].len, sb->text, sb->len);
    }
  }
  for (uint32_t k = 0; k < b->n_sources; k++) {
    bool found = false;
    for (uint32_t i = 0; i < a->n_sources && !found; i++)
      found = strcmp(a->sources[i].path, b->sources[k].path) == 0;
    if (!found)
      say(&df, "file     %s: newly imported", b->sources[k].path);
  }
  store_override *oa = NULL, *ob = NULL;
  uint32_t noa = 0, nob = 0, nfa = 0, nfb = 0;
  store_snap_file *fa = NULL, *fb = NULL;
  obj_store *objs = NULL;
  int rc = 0;
  if (store_snapshot_overrides(st, id_a, &oa, &noa) != 0 ||
      store_snapshot_overrides(st, id_b, &ob, &nob) != 0 ||
      store_snapshot_files(st, id_a, &fa, &nfa) != 0 ||
      store_snapshot_files(st, id_b, &fb, &nfb) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    rc = -1;
  } else {
    diff_overrides(&df, oa, noa, ob, nob);
    char oerr[256];
    if (obj_open(ws_objects_dir(w), NULL, &objs, oerr, sizeof oerr) != 0)
      objs = NULL; /* hashes only */
    diff_files(&df, objs, fa, nfa, fb, nfb);
  }
  obj_close(objs);
  store_overrides_free(oa, noa);
  store_overrides_free(ob, nob);
  store_snap_files_free(fa, nfa);
  store_snap_files_free(fb, nfb);
  arena_free(df.a);
  return rc < 0 ? rc : df.n;
}

/* ---- what a run records: code and data files ----------------------------- */

typedef struct file_list {
  store_snap_file *v;
  uint32_t n, cap;
} file_list;

/* Append (kind, path, ...) unless that file is there already; takes path. */
static void list_add(file_list *l, store_snap_file f) {
  for (uint32_t i = 0; i < l->n; i++)
    if (l->v[i].kind == f.kind && strcmp(l->v[i].path, f.path) == 0) {
      free(f.path);
      return;
    }
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    if (!l->v)
      abort(); /* out of memory */
  }
  l->v[l->n++] = f;
}

/* abs as the workspace records a file: relative to its root when inside
 * it, else absolute (real paths, as run.c records the draft). */
static char *recorded_path(const char *root, const char *abs) {
  char real[PATH_MAX];
  if (!realpath(abs, real))
    return NULL;
  size_t n = strlen(root);
  return strdup(strncmp(real, root, n) == 0 && real[n] == '/' ? real + n + 1
                                                              : real);
}

typedef struct collector {
  const char *root;            /* recorded paths are relative to it */
  store *st;
  obj_store *objs;
  hash_memo *memo;
  const char *dir;             /* the pipeline's directory, absolute */
  file_list files;
  char *err;
  size_t errlen;
} collector;

/* A code file (or every file under a code directory), rel to the
 * pipeline's directory: its bytes into the object store, a row. A file
 * that is missing or unreadable is left out: its node fails on it. */
static int add_code(collector *c, const char *rel, int depth) {
  char *abs = NULL;
  if (rel[0] == '/' ? !(abs = strdup(rel))
                    : asprintf(&abs, "%s/%s", c->dir, rel) < 0)
    abort(); /* out of memory */
  struct stat sb;
  int rc = 0;
  if (stat(abs, &sb) != 0) {
    free(abs);
    return 0;
  }
  if (S_ISDIR(sb.st_mode) && depth < 64) {
    DIR *d = opendir(abs);
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      char *sub = NULL;
      if (asprintf(&sub, "%s/%s", rel, e->d_name) < 0)
        abort();
      rc = add_code(c, sub, depth + 1);
      free(sub);
    }
    if (d)
      closedir(d);
  } else if (S_ISREG(sb.st_mode)) {
    hash128 h;
    uint64_t size = (uint64_t)sb.st_size;
    char msg[256];
    bool is_dir = false;
    /* the hash the cache key uses (the memo and the file index: cheap);
     * the bytes are copied only if the store lacks them */
    if (hash_memo_path(c->memo, rel, &h, &is_dir, msg, sizeof msg) == 0) {
      if (!obj_exists(c->objs, &h, size) &&
          obj_put_file(c->objs, abs, &h, &size, msg, sizeof msg) < 0) {
        snprintf(c->err, c->errlen, "code file %s: %s", rel, msg);
        rc = -1;
      }
      char *path = rc == 0 ? recorded_path(c->root, abs) : NULL;
      if (path)
        list_add(&c->files, (store_snap_file){STORE_FILE_CODE, path, h, size,
                                              (uint32_t)sb.st_mode & 07777,
                                              false});
    }
  }
  free(abs);
  return rc;
}

/* A data file (a `path` param, a source file or directory): its content
 * hash, or a directory's tree hash, as the cache key sees it, and its
 * bytes in the object store (so `run --snapshot` and `rollback --data`
 * can give them back). Missing: not read, not recorded. */
static void add_data(collector *c, const char *rel) {
  hash128 h;
  bool is_dir = false;
  char msg[256];
  if (hash_memo_path(c->memo, rel, &h, &is_dir, msg, sizeof msg) != 0)
    return;
  char *abs = NULL;
  if (rel[0] == '/' ? !(abs = strdup(rel))
                    : asprintf(&abs, "%s/%s", c->dir, rel) < 0)
    abort();
  struct stat sb;
  hash_stat os;
  if (is_dir ? !tree_is_tree(c->objs, &h) : obj_stat(c->objs, &h, &os) != 0) {
    hash128 put = h;
    int rc = is_dir ? tree_put(c->objs, abs, TREE_FOLLOW, &put, NULL, msg,
                               sizeof msg)
                    : obj_put_file(c->objs, abs, &put, NULL, msg, sizeof msg);
    if (rc != 0 || !hash_eq(&put, &h)) { /* gone or changed meanwhile */
      free(abs);
      return;
    }
  }
  if (is_dir)
    store_tree_add(c->st, &h);
  char *path = stat(abs, &sb) == 0 ? recorded_path(c->root, abs) : NULL;
  if (path)
    list_add(&c->files,
             (store_snap_file){STORE_FILE_DATA, path, h,
                               is_dir ? 0 : (uint64_t)sb.st_size, 0, is_dir});
  free(abs);
}

static void add_value_paths(collector *c, const pipec_value *v) {
  if (v->type == PIPEC_T_PATH && v->u.s && *v->u.s)
    add_data(c, v->u.s);
  else if (v->type == PIPEC_T_LIST)
    for (uint32_t i = 0; i < v->u.list.n; i++)
      add_value_paths(c, &v->u.list.items[i]);
}

int snap_collect_files(const char *root, store *st, obj_store *objs,
                       hash_memo *memo,
                       const pipec_pipeline *p, const char *dir,
                       store_snap_file **out, uint32_t *n, char *err,
                       size_t errlen) {
  collector c = {root, st, objs, memo, dir, {0}, err, errlen};
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < p->n_components; i++)
    for (uint32_t k = 0; rc == 0 && k < p->components[i].n_code; k++)
      rc = add_code(&c, p->components[i].code[k], 0);
  for (uint32_t i = 0; rc == 0 && i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_params; k++)
      add_value_paths(&c, &p->nodes[i].params[k].value);
  for (uint32_t i = 0; rc == 0 && i < p->n_datafiles; i++)
    add_data(&c, p->datafiles[i].path);
  if (rc != 0) {
    store_snap_files_free(c.files.v, c.files.n);
    *out = NULL;
    *n = 0;
    return -1;
  }
  *out = c.files.v;
  *n = c.files.n;
  return 0;
}

/* ---- restoring ---------------------------------------------------------------- */

/* Record the files as they are now (those the rollback replaces) as a
 * before-rollback snapshot: the .pipe files as a draft, the code files'
 * bytes as objects. */
static int record_current(store *st, obj_store *objs, const store_snapshot *s,
                          pw_file *r, uint32_t n, int64_t *saved, char *err,
                          size_t errlen) {
  store_file *now = calloc(n + 1, sizeof *now);
  store_snap_file *code = calloc(n + 1, sizeof *code);
  uint32_t n_now = 0, n_code = 0;
  int rc = now && code ? 0 : -1;
  if (rc != 0)
    snprintf(err, errlen, "out of memory");
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    if (!r[i].exists)
      continue;
    if (r[i].bytes) {
      now[n_now++] = (store_file){r[i].rec, r[i].now, r[i].now_len};
      continue;
    }
    hash128 h;
    uint64_t size;
    char msg[512];
    if (obj_put_file(objs, r[i].dest, &h, &size, msg, sizeof msg) < 0) {
      snprintf(err, errlen, "cannot record the current %s: %s", r[i].rec,
               msg);
      rc = -1;
    } else {
      code[n_code++] = (store_snap_file){r[i].data ? STORE_FILE_DATA
                                                   : STORE_FILE_CODE,
                                         (char *)r[i].rec, h, size,
                                         (uint32_t)r[i].mode_now & 07777,
                                         false};
    }
  }
  int64_t draft = 0;
  if (rc == 0) {
    if (store_begin(st) != 0 ||
        store_draft_record(st, s->pipeline_id, now, n_now, &draft) != 0 ||
        store_snapshot_add(st, s->pipeline_id, draft, "{}", "{}",
                           "before-rollback", "{}", saved) != 0 ||
        store_snapshot_files_add(st, *saved, code, n_code) != 0 ||
        store_commit(st) != 0) {
      snprintf(err, errlen, "cannot record the current files: %s",
               store_errmsg(st));
      store_rollback(st);
      rc = -1;
    }
  }
  free(now);
  free(code);
  return rc;
}

/* Entries ordered by recorded path; entries named alike by kind (a .pipe
 * file's bytes, then code, then data) then by their place in the list. */
typedef struct rec_key {
  const char *rec;
  int kind;
  uint32_t at;
} rec_key;

static int rec_key_cmp(const void *a, const void *b) {
  const rec_key *x = a, *y = b;
  int c = strcmp(x->rec, y->rec);
  if (c)
    return c;
  if (x->kind != y->kind)
    return (x->kind > y->kind) - (x->kind < y->kind);
  return (x->at > y->at) - (x->at < y->at);
}

/* One file named twice (a path param inside a source directory, a .pipe
 * file also in `code`) is written once, as its first kind says; the list
 * keeps its order (the .pipe files first) and the new count is returned. */
static uint32_t dedupe_files(pw_file *r, uint32_t n) {
  rec_key *k = calloc(n + 1, sizeof *k);
  bool *drop = calloc(n + 1, sizeof *drop);
  if (!k || !drop)
    abort();
  for (uint32_t i = 0; i < n; i++)
    k[i] = (rec_key){r[i].rec, r[i].bytes ? 0 : r[i].data ? 2 : 1, i};
  qsort(k, n, sizeof *k, rec_key_cmp);
  for (uint32_t i = 1; i < n; i++)
    if (strcmp(k[i - 1].rec, k[i].rec) == 0)
      drop[k[i].at] = true;
  uint32_t m = 0;
  for (uint32_t i = 0; i < n; i++)
    if (!drop[i])
      r[m++] = r[i];
  free(k);
  free(drop);
  return m;
}

/* The files of data tree h recorded at rec, appended to *r (each file an
 * object; directories come with their files). Paths are arena'd in a. */
static int add_tree_files(arena *a, obj_store *objs, const char *rec,
                          const hash128 *h, pw_file **r, uint32_t *n,
                          uint32_t *cap, int depth, char *err,
                          size_t errlen) {
  tree_entry *e = NULL;
  uint32_t ne = 0;
  if (depth > TREE_MAX_DEPTH ||
      tree_read(objs, h, &e, &ne, err, errlen) != 0) {
    if (depth > TREE_MAX_DEPTH)
      snprintf(err, errlen, "%s: nested too deep", rec);
    return -1;
  }
  int rc = 0;
  for (uint32_t i = 0; i < ne && rc == 0; i++) {
    const char *path = arena_printf(a, "%s/%s", rec, e[i].name);
    if (e[i].kind == 'd') {
      rc = add_tree_files(a, objs, path, &e[i].hash, r, n, cap, depth + 1,
                          err, errlen);
      continue;
    }
    if (*n == *cap) {
      *cap *= 2;
      *r = realloc(*r, *cap * sizeof **r);
      if (!*r)
        abort();
    }
    hash128 *hh = arena_alloc(a, sizeof *hh);
    *hh = e[i].hash;
    hash_stat st;
    uint64_t size = obj_stat(objs, hh, &st) == 0 ? st.size : 0;
    (*r)[(*n)++] = (pw_file){.rec = path, .object = hh, .size = size,
                             .mode = e[i].kind == 'x' ? 0755 : 0644,
                             .data = true};
  }
  tree_entries_free(e, ne);
  return rc;
}

int snap_rollback(ws *w, store *st, int64_t id, unsigned flags, FILE *out,
                  int64_t *saved, char *err, size_t errlen) {
  bool dry_run = flags & SNAP_DRY_RUN;
  store_snapshot s;
  if (store_snapshot_get(st, id, &s) != 1) {
    if (store_errmsg(st)[0] && store_damaged(st))
      snprintf(err, errlen, "%s", store_errmsg(st));
    else
      snprintf(err, errlen, "no snapshot %lld (pipec snapshots lists them)",
               (long long)id);
    return -1;
  }
  store_file *files = NULL;
  store_snap_file *sf = NULL;
  uint32_t n = 0, n_sf = 0, n_r = 0;
  pw_file *r = NULL;
  obj_store *objs = NULL;
  int written = -1;
  arena *a = arena_new(); /* the paths of data trees' files */
  char root[PATH_MAX];
  if (!realpath(ws_root(w), root)) {
    snprintf(err, errlen, "cannot resolve %s: %s", ws_root(w),
             strerror(errno));
    goto out;
  }
  if (store_draft_files(st, s.draft_id, &files, &n) != 0 ||
      store_snapshot_files(st, id, &sf, &n_sf) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    goto out;
  }
  if (obj_open(ws_objects_dir(w), NULL, &objs, err, errlen) != 0)
    goto out;
  uint32_t cap_r = n + n_sf + 1;
  r = calloc(cap_r, sizeof *r);
  if (!r)
    abort();
  for (uint32_t i = 0; i < n; i++)
    r[n_r++] = (pw_file){.rec = files[i].path,
                         .bytes = files[i].text ? files[i].text : "",
                         .len = files[i].len};
  for (uint32_t i = 0; i < n_sf; i++) {
    bool dup = false; /* a code file that is also a .pipe source */
    for (uint32_t k = 0; k < n && !dup; k++)
      dup = strcmp(files[k].path, sf[i].path) == 0;
    if (sf[i].kind == STORE_FILE_CODE && !dup)
      r[n_r++] = (pw_file){.rec = sf[i].path,
                           .object = &sf[i].hash,
                           .size = sf[i].size,
                           .mode = sf[i].mode};
    else if (sf[i].kind == STORE_FILE_DATA && !dup && (flags & SNAP_DATA) &&
             !sf[i].is_dir)
      r[n_r++] = (pw_file){.rec = sf[i].path,
                           .object = &sf[i].hash,
                           .size = sf[i].size,
                           .mode = sf[i].mode,
                           .data = true};
    else if (sf[i].kind == STORE_FILE_DATA && (flags & SNAP_DATA) &&
             add_tree_files(a, objs, sf[i].path, &sf[i].hash, &r, &n_r,
                            &cap_r, 0, err, errlen) != 0)
      goto out;
  }
  n_r = dedupe_files(r, n_r);
  /* where each goes, and whether it differs; refuse before writing any */
  int changed = pw_plan(root, r, n_r, "roll back", err, errlen);
  if (changed < 0)
    goto out;
  for (uint32_t i = 0; dry_run && i < n_r; i++)
    fprintf(out, "%s %s\n",
            r[i].same ? "unchanged" : r[i].exists ? "restore  " : "create   ",
            r[i].rec);
  if (dry_run || changed == 0) {
    if (!dry_run)
      fprintf(out, "the files already match snapshot %lld\n", (long long)id);
    written = dry_run ? changed : 0;
    goto out;
  }
  if (record_current(st, objs, &s, r, n_r, saved, err, errlen) != 0)
    goto out;
  written = pw_write(st, objs, r, n_r, err, errlen);
  if (written >= 0)
    fprintf(out, "restored %d file%s of snapshot %lld (the files before are "
                 "snapshot %lld)\n",
            written, written == 1 ? "" : "s", (long long)id,
            (long long)*saved);
out:
  pw_free(r, n_r);
  free(r);
  obj_close(objs);
  store_files_free(files, n);
  store_snap_files_free(sf, n_sf);
  store_snapshot_free(&s);
  arena_free(a);
  return written;
}

void snap_clean_rollbacks(store *st) { pw_clean(st); }
