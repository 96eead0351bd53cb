/*
 * compile.c — the compiler driver: read the main file, follow its imports,
 * parse every file once, then hand the ASTs to sema.
 *
 * Import paths are relative to the importing file. Files are identified by
 * their lexically normalised path ("a/./b/../c.pipe" == "a/c.pipe"), which
 * also works for the engine's snapshot reader, where nothing is on disk.
 * An import cycle is an error naming the whole cycle. Before an imported
 * file is read it is looked up (srcfs.h): it must be a regular file whose
 * real path is inside the project, or the error is at the import and no
 * byte of it reaches the diagnostics.
 *
 * Ownership: the source texts are malloc'd by the reader. On success the
 * pipeline owns them (freed by pipec_pipeline_free); on failure they pass to
 * the diagnostics list, which still has to print them.
 */
#include "pipec/compiler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ir_alloc.h"
#include "parse.h"
#include "path.h"
#include "sema.h"
#include "srcfs.h"

#define MAX_IMPORT_DEPTH 256
#define MAX_FILES 4096       /* imports fan out: bound the total, not just depth */
#define MAX_PATH_LEN 4095    /* PATH_MAX less its NUL: no longer path opens */

typedef struct loaded {
  const char *path;   /* normalised, interned */
  ast_file *ast;
  char *text;
  size_t len;
  int32_t src;
  int state;          /* 0 loading (on the DFS stack), 1 done */
} loaded;

typedef struct driver {
  arena *a;
  pipec_diags *d;
  const pipec_compile_opts *opts;
  VEC(loaded) files;
  VEC(uint32_t) stack; /* files being loaded, for cycle messages */
  bool too_many;       /* MAX_FILES was reported */
  srcfs *fs;           /* reading and looking files up (srcfs.h) */
} driver;

static int find_file(driver *dv, const char *path) {
  for (uint32_t i = 0; i < dv->files.n; i++)
    if (dv->files.items[i].path == path)
      return (int)i;
  return -1;
}

static void report_cycle(driver *dv, uint32_t target, const ast_import *imp,
                         int32_t src) {
  /* the cycle is the part of the stack from `target` to the top */
  size_t cap = 256, n = 0;
  char *msg = malloc(cap);
  if (!msg)
    abort();
  msg[0] = 0;
  bool on = false;
  for (uint32_t i = 0; i <= dv->stack.n; i++) {
    uint32_t f = i < dv->stack.n ? dv->stack.items[i] : target;
    if (f == target)
      on = true;
    if (!on)
      continue;
    const char *p = dv->files.items[f].path;
    size_t need = n + strlen(p) + 5;
    if (need > cap) {
      cap = need * 2;
      msg = realloc(msg, cap);
      if (!msg)
        abort();
    }
    n += (size_t)sprintf(msg + n, "%s%s", n ? " -> " : "", p);
  }
  pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "import-cycle", src, imp->loc.off,
                 imp->loc.len, "import cycle: %s", msg);
  free(msg);
}

/* Load `path` and, depth first, everything it imports. `from` is the import
 * that asked for it (NULL for the main file). Returns the file index, or -1
 * if it could not be read. */
static int load(driver *dv, const char *path, const ast_import *from,
                int32_t from_src) {
  int idx = find_file(dv, path);
  if (idx >= 0) {
    if (dv->files.items[idx].state == 0 && from)
      report_cycle(dv, (uint32_t)idx, from, from_src);
    return idx;
  }
  if (dv->files.n >= MAX_FILES) {
    if (dv->files.n == MAX_FILES && !dv->too_many) {
      dv->too_many = true;
      pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "import-count", from_src,
                     from ? from->loc.off : 0, from ? from->loc.len : 0,
                     "more than %d files imported", MAX_FILES);
    }
    return -1;
  }
  /* relative imports nested in ever-deeper directories grow the path at
   * each level; past PATH_MAX it cannot name a file anyway */
  if (from && strlen(path) > MAX_PATH_LEN) {
    pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "import-path-long", from_src,
                   from->loc.off, from->loc.len,
                   "cannot import '%.60s...': the path is longer than %d "
                   "bytes", path, MAX_PATH_LEN);
    return -1;
  }
  if (dv->stack.n >= MAX_IMPORT_DEPTH) {
    pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "import-depth", from_src,
                   from->loc.off, from->loc.len,
                   "imports nested more than %d deep", MAX_IMPORT_DEPTH);
    return -1;
  }
  /* an import must be a regular file, really inside the project, before
   * a byte of it is read: its text would be shown in diagnostics */
  if (from && srcfs_check(dv->fs, dv->d, from_src, from->loc.off,
                          from->loc.len, "import", path,
                          SRCFS_FILE) == SRCFS_REPORTED)
    return -1;
  char *text = NULL;
  size_t len = 0;
  int err = srcfs_read(dv->fs, path, &text, &len);
  if (err) {
    if (from) {
      pipec_diag *g = pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "import-missing",
                                     from_src, from->loc.off, from->loc.len,
                                     "cannot import '%s': %s", path,
                                     strerror(err));
      if (err == ENOENT)
        srcfs_suggest(dv->fs, g, path, from->path);
    } else
      pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "no-file", -1, 0, 0,
                     "cannot read '%s': %s", path, strerror(err));
    return -1;
  }
  if (len > UINT32_MAX - 2) {
    free(text);
    pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "file-too-large", -1, 0, 0,
                   "'%s' is larger than 4 GiB", path);
    return -1;
  }
  /* the scanner reads the text in place and wants two NULs at its end */
  char *text2 = realloc(text, len + 2);
  if (!text2) {
    free(text);
    pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "no-memory", -1, 0, 0,
                   "cannot read '%s': %s", path, strerror(ENOMEM));
    return -1;
  }
  text = text2;
  text[len] = text[len + 1] = 0;
  loaded lf = {.path = path, .text = text, .len = len};
  lf.src = pipec_diags_add_source(dv->d, path, text, len);
  VEC_PUSH(dv->a, dv->files, lf);
  idx = (int)dv->files.n - 1;
  ast_file *ast = parse_file(dv->a, dv->d, lf.src, path, text, len);
  dv->files.items[idx].ast = ast;

  VEC_PUSH(dv->a, dv->stack, (uint32_t)idx);
  const char *dir = path_dir(dv->a, path);
  for (uint32_t i = 0; i < ast->imports.n; i++) {
    const ast_import *imp = &ast->imports.items[i];
    load(dv, path_join(dv->a, dir, imp->path), imp, lf.src);
  }
  dv->stack.n--;
  dv->files.items[idx].state = 1;
  return idx;
}

/* The registry plus the components of every `plugin` line of every file
 * loaded; the plugin paths are relative to the declaring file. Reported
 * problems make the compile fail. */
static pipec_registry *with_plugins(driver *dv) {
  const pipec_registry *base = dv->opts->registry;
  uint32_t nb = base ? base->n : 0;
  VEC(const pipec_component_desc *) items = {0};
  VEC(const char *) origins = {0};
  for (uint32_t i = 0; i < nb; i++) {
    VEC_PUSH(dv->a, items, base->items[i]);
    VEC_PUSH(dv->a, origins, base->origins ? base->origins[i] : NULL);
  }
  for (uint32_t f = 0; f < dv->files.n; f++) {
    const loaded *lf = &dv->files.items[f];
    for (uint32_t k = 0; lf->ast && k < lf->ast->plugins.n; k++) {
      const ast_import *pl = &lf->ast->plugins.items[k];
      const char *path = path_join(dv->a, path_dir(dv->a, lf->path), pl->path);
      if (!dv->opts->load_plugin) {
        pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "plugin", lf->src, pl->loc.off,
                       pl->loc.len, "plugins cannot be loaded here");
        continue;
      }
      const pipec_component_desc *const *got = NULL;
      uint32_t n = 0;
      char err[512] = "";
      if (dv->opts->load_plugin(dv->opts->plugin_ctx, path, &got, &n, err,
                                sizeof err) != 0) {
        pipec_diag *g = pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "plugin",
                                       lf->src, pl->loc.off, pl->loc.len,
                                       "cannot load plugin '%s': %s", path,
                                       err);
        pipec_diag_hint(g, "a plugin is a shared library exporting '%s' "
                           "(include/pipec/component.h)",
                        PIPEC_PLUGIN_SYMBOL);
        continue;
      }
      for (uint32_t i = 0; i < n; i++) {
        VEC_PUSH(dv->a, items, got[i]);
        VEC_PUSH(dv->a, origins, path);
      }
    }
  }
  pipec_registry *r = arena_alloc(dv->a, sizeof *r);
  r->items = items.items;
  r->n = items.n;
  r->origins = origins.items;
  return r;
}

/* Parse the workspace's quota file, if the caller gave one. Its text (a
 * copy) belongs to the diagnostics list: it is no source of the pipeline,
 * and a warning about it is printed after the compile. NULL if none. */
static ast_file *load_quotas(driver *dv) {
  const pipec_compile_opts *o = dv->opts;
  if (!o->quota_text)
    return NULL;
  if (o->quota_len > UINT32_MAX - 2) {
    pipec_diag_add(dv->d, PIPEC_SEV_ERROR, "file-too-large", -1, 0, 0,
                   "'%s' is larger than 4 GiB", o->quota_path);
    return NULL;
  }
  char *text = malloc(o->quota_len + 2);
  if (!text)
    abort(); /* out of memory */
  memcpy(text, o->quota_text, o->quota_len);
  text[o->quota_len] = text[o->quota_len + 1] = 0;
  const char *path = arena_intern_cstr(dv->a, o->quota_path ? o->quota_path
                                                            : "quotas.pipe");
  int32_t src = pipec_diags_add_source(dv->d, path, text, o->quota_len);
  pipec_diags_own(dv->d, src);
  return parse_quota_file(dv->a, dv->d, src, path, text, o->quota_len);
}

pipec_pipeline *pipec_compile(const char *path, const pipec_compile_opts *opts,
                              pipec_diags *d) {
  static const pipec_compile_opts no_opts;
  driver dv = {.a = arena_new(), .d = d, .opts = opts ? opts : &no_opts};
  dv.fs = srcfs_new(dv.a, dv.opts);
  uint32_t errors_before = d->n_errors;
  pipec_pipeline *p = NULL;

  const char *main_path = path_normalize(dv.a, path);
  int main_idx = load(&dv, main_path, NULL, -1);
  ast_file *quotas = main_idx >= 0 ? load_quotas(&dv) : NULL;
  if (main_idx >= 0 && d->n_errors == errors_before) {
    const char **texts = arena_alloc(dv.a, d->n_srcs * sizeof *texts);
    for (uint32_t i = 0; i < dv.files.n; i++)
      texts[dv.files.items[i].src] = dv.files.items[i].text;
    if (quotas)
      texts[quotas->src] = d->srcs[quotas->src].text;
    ast_file **imports = arena_alloc(dv.a, dv.files.n * sizeof *imports);
    uint32_t n_imports = 0;
    for (uint32_t i = 0; i < dv.files.n; i++)
      if ((int)i != main_idx)
        imports[n_imports++] = dv.files.items[i].ast;
    sema_unit unit = {.main = dv.files.items[main_idx].ast,
                      .imports = imports,
                      .n_imports = n_imports,
                      .texts = texts,
                      .n_texts = d->n_srcs,
                      .fs = dv.fs,
                      .quotas = quotas};
    pipec_compile_opts sopts = *dv.opts;
    sopts.registry = with_plugins(&dv);
    if (d->n_errors == errors_before)
      p = sema_lower(dv.a, d, &unit, &sopts);
    if (d->n_errors != errors_before)
      p = NULL;
  }

  if (!p) {
    for (uint32_t i = 0; i < dv.files.n; i++)
      pipec_diags_own(d, dv.files.items[i].src);
    arena_free(dv.a);
    return NULL;
  }
  p->file = main_path;
  p->dir = path_dir(dv.a, main_path);
  p->n_sources = dv.files.n;
  p->sources = arena_alloc(dv.a, dv.files.n * sizeof *p->sources);
  for (uint32_t i = 0; i < dv.files.n; i++) {
    p->sources[i].path = dv.files.items[i].path;
    p->sources[i].text = dv.files.items[i].text;
    p->sources[i].len = dv.files.items[i].len;
  }
  return p;
}

/* A pipeline and its arena (ir_alloc.h): the public part first, so the
 * pipeline's address is the block's. */
typedef struct ir_owned {
  pipec_pipeline p;
  arena *a;
} ir_owned;

pipec_pipeline *ir_pipeline_new(arena *a) {
  ir_owned *o = arena_alloc(a, sizeof *o);
  o->a = a;
  return &o->p;
}

void pipec_pipeline_free(pipec_pipeline *p) {
  if (!p)
    return;
  for (uint32_t i = 0; i < p->n_sources; i++)
    free((char *)p->sources[i].text);
  arena_free(((ir_owned *)(void *)p)->a);
}
