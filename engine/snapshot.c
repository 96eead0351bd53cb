/*
 * snapshot.c — recompiling, comparing and restoring snapshots
 * (snapshot.h).
 */
#define _GNU_SOURCE /* asprintf */
#include "snapshot.h"

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
 * snapshot's pipeline: its stored paths are relative to the workspace
 * root, so relative paths are answered there, from the disk (a snapshot
 * records the .pipe files, not the list of the project's data files). */
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

static int root_stat(void *ctx, const char *path, pipec_fs_kind *kind,
                     char **real) {
  const root_fs *r = ctx;
  char *full = at_root(r, path);
  if (!full)
    return ENOMEM;
  int rc = pipec_fs_disk()->stat_path(NULL, full, kind, real);
  free(full);
  return rc;
}

static int root_list(void *ctx, const char *path, char ***names,
                     uint32_t *n) {
  const root_fs *r = ctx;
  char *full = at_root(r, path);
  if (!full)
    return ENOMEM;
  int rc = pipec_fs_disk()->list_dir(NULL, full, names, n);
  free(full);
  return rc;
}

/* The strings of the "overrides" array in a snapshot's params JSON (as
 * run.c writes it), malloc'd. */
static char **parse_overrides(const char *json, uint32_t *n) {
  *n = 0;
  const char *p = json ? strstr(json, "\"overrides\":[") : NULL;
  size_t cap = json ? strlen(json) / 2 + 1 : 1;
  char **out = calloc(cap, sizeof *out);
  if (!out || !p)
    return out;
  p += strlen("\"overrides\":[");
  while (*p == '"') {
    char *s = malloc(strlen(p) + 1), *o = s;
    if (!s)
      break;
    for (p++; *p && *p != '"'; p++) {
      if (*p != '\\') {
        *o++ = *p;
        continue;
      }
      p++;
      switch (*p) {
      case 'n': *o++ = '\n'; break;
      case 't': *o++ = '\t'; break;
      case 'r': *o++ = '\r'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'u': { /* \u00XX: the writer escapes control bytes this way */
        unsigned v = 0;
        for (int k = 1; k <= 4 && p[k]; k++)
          v = v * 16 + (unsigned)(p[k] <= '9' ? p[k] - '0'
                                              : (p[k] | 0x20) - 'a' + 10);
        *o++ = (char)(v < 0x100 ? v : '?');
        p += 4;
        break;
      }
      default: *o++ = *p;
      }
    }
    *o = 0;
    out[(*n)++] = s;
    if (*p == '"')
      p++;
    if (*p == ',')
      p++;
  }
  return out;
}

pipec_pipeline *snap_compile(store *st, int64_t id, const char *root,
                             const pipec_registry *registry, pipec_diags *d,
                             char *err, size_t errlen) {
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
    uint32_t n_ov;
    char **ov = parse_overrides(s.params, &n_ov);
    root_fs rfs = {{root_stat, root_list, NULL}, root};
    rfs.fs.ctx = &rfs;
    pipec_compile_opts o = {.registry = registry,
                            .overrides = (const char *const *)ov,
                            .n_overrides = n_ov,
                            .reader = read_stored,
                            .reader_ctx = &fr,
                            .load_plugin = plugin_load,
                            .fs = &rfs.fs};
    p = pipec_compile(s.main_path, &o, d);
    if (!p)
      snprintf(err, errlen, "snapshot %lld no longer compiles",
               (long long)id);
    for (uint32_t i = 0; ov && i < n_ov; i++)
      free(ov[i]);
    free(ov);
  }
  store_files_free(fr.files, fr.n);
  store_snapshot_free(&s);
  return p;
}

/* ---- comparing ---------------------------------------------------------------- */

typedef struct differ {
  FILE *out;
  int n;
  arena *a;
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
  static const char *const kinds[] = {"local", "ssh", "slurm"};
  char *s = arena_printf(df->a, "%s", kinds[t->kind]);
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
}

int snap_diff(const pipec_pipeline *a, const pipec_pipeline *b, FILE *out) {
  differ df = {out, 0, arena_new()};
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
    if (!sb)
      say(&df, "file     %s: no longer imported", a->sources[i].path);
    else if (sb->len != a->sources[i].len ||
             memcmp(sb->text, a->sources[i].text, sb->len) != 0)
      say(&df, "file     %s: changed", a->sources[i].path);
  }
  for (uint32_t k = 0; k < b->n_sources; k++) {
    bool found = false;
    for (uint32_t i = 0; i < a->n_sources && !found; i++)
      found = strcmp(a->sources[i].path, b->sources[k].path) == 0;
    if (!found)
      say(&df, "file     %s: newly imported", b->sources[k].path);
  }
  arena_free(df.a);
  return df.n;
}

/* ---- restoring ---------------------------------------------------------------- */

static char *abs_path(ws *w, const char *path) {
  char *s = NULL;
  if (path[0] == '/')
    return strdup(path);
  if (asprintf(&s, "%s/%s", ws_root(w), path) < 0)
    return NULL;
  return s;
}

/* The file's bytes now (malloc'd), or NULL if it cannot be read. */
static char *read_now(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

/* Write bytes to path atomically: a temporary file, fsync, rename. */
static int write_atomic(const char *path, const char *bytes, size_t len,
                        char *err, size_t errlen) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.pipec-rollback.%d", path, (int)getpid());
  if (fs_mkdirs_for(path) != 0) {
    snprintf(err, errlen, "cannot create the directory of %s: %s", path,
             strerror(errno));
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, bytes + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
      close(fd);
      unlink(tmp);
      return -1;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

int snap_rollback(ws *w, store *st, int64_t id, bool dry_run, FILE *out,
                  int64_t *saved, char *err, size_t errlen) {
  store_snapshot s;
  if (store_snapshot_get(st, id, &s) != 1) {
    snprintf(err, errlen, "no snapshot %lld (pipec snapshots lists them)",
             (long long)id);
    return -1;
  }
  store_file *files = NULL, *now = NULL;
  uint32_t n = 0, n_now = 0;
  int written = -1;
  if (store_draft_files(st, s.draft_id, &files, &n) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    goto out;
  }
  /* the files as they are now, for the snapshot that makes this undoable */
  now = calloc(n + 1, sizeof *now);
  if (!now)
    goto out;
  int changed = 0;
  for (uint32_t i = 0; i < n; i++) {
    char *path = abs_path(w, files[i].path);
    size_t len = 0;
    char *bytes = path ? read_now(path, &len) : NULL;
    bool same = bytes && len == files[i].len &&
                memcmp(bytes, files[i].text, len) == 0;
    if (!same)
      changed++;
    if (dry_run)
      fprintf(out, "%s %s\n",
              same ? "unchanged" : bytes ? "restore  " : "create   ",
              files[i].path);
    if (bytes)
      now[n_now++] = (store_file){strdup(files[i].path), bytes, len};
    free(path);
  }
  if (dry_run || changed == 0) {
    if (!dry_run)
      fprintf(out, "the files already match snapshot %lld\n", (long long)id);
    written = dry_run ? changed : 0;
    goto out;
  }
  int64_t draft;
  if (store_draft_record(st, s.pipeline_id, now, n_now, &draft) != 0 ||
      store_snapshot_add(st, s.pipeline_id, draft, "{}", "{}",
                         "before-rollback", "{}", saved) != 0) {
    snprintf(err, errlen, "cannot record the current files: %s",
             store_errmsg(st));
    goto out;
  }
  written = 0;
  for (uint32_t i = 0; i < n; i++) {
    char *path = abs_path(w, files[i].path);
    if (!path || write_atomic(path, files[i].text, files[i].len, err,
                              errlen) != 0) {
      free(path);
      written = -1;
      goto out;
    }
    free(path);
    written++;
  }
  fprintf(out, "restored %d file%s of snapshot %lld (the files before are "
               "snapshot %lld)\n",
          written, written == 1 ? "" : "s", (long long)id, (long long)*saved);
out:
  store_files_free(files, n);
  store_files_free(now, n_now);
  store_snapshot_free(&s);
  return written;
}

char *snap_overrides_text(const char *params_json) {
  uint32_t n;
  char **ov = parse_overrides(params_json, &n);
  size_t len = 1;
  for (uint32_t i = 0; i < n; i++)
    len += strlen(ov[i]) + 4;
  char *s = calloc(len, 1);
  for (uint32_t i = 0; s && i < n; i++) {
    if (i)
      strcat(s, " ");
    strcat(s, "-p ");
    strcat(s, ov[i]);
  }
  for (uint32_t i = 0; ov && i < n; i++)
    free(ov[i]);
  free(ov);
  return s;
}
