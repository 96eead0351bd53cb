/*
 * sema_files.c — the files a pipeline names, checked when it compiles:
 * `code` settings (globs expanded) and `path` values (pipeline params,
 * -p overrides, node arguments, component defaults).
 *
 * Each must exist, be a file (a `code` entry or a `path` value may also be
 * a directory; a glob matches files only) and really be inside the project
 * (srcfs.h). A missing one is reported where it is written, with the
 * nearest name in its directory. Paths of `code` are relative to the file
 * declaring the component; `path` values to the pipeline file's directory,
 * as the engine reads them.
 */
#include <string.h>

#include "path.h"
#include "sema_int.h"
#include "srcfs.h"

static srcfs *fs_of(sema *S) { return S->u->fs; }

/* "... (relative to DIR)" when DIR is not the current directory: the usual
 * surprise of `pipec check sub/x.pipe`. */
static void hint_relative(pipec_diag *g, const char *kind, const char *dir) {
  if (!g->hint && strcmp(dir, ".") != 0)
    pipec_diag_hint(g, "%s are relative to %s (%s)", kind,
                    strcmp(kind, "code files") == 0
                        ? "the file declaring the component"
                        : "the pipeline file's directory",
                    dir);
}

/* ---- code ------------------------------------------------------------- */

typedef VEC(const char *) strvec;

static void add_code(sema *S, strvec *code, const char *full) {
  const char *p = full[0] == '/' ? full : path_relative(S->a, S->main_dir, full);
  for (uint32_t i = 0; i < code->n; i++)
    if (strcmp(code->items[i], p) == 0)
      return; /* listed and matched by a glob too */
  VEC_PUSH(S->a, *code, p);
}

/* One entry of `code`: a file (or directory), or a glob. */
static bool code_entry(sema *S, const scomp *c, const ast_value *at,
                       const char *rel, strvec *code) {
  srcfs *fs = fs_of(S);
  ast_loc l = at->loc;
  const char *dir = path_dir(S->a, c->file->path);
  const char *full = rel[0] == '/' ? path_normalize(S->a, rel)
                                   : path_join(S->a, dir, rel);
  if (!srcfs_is_glob(rel)) {
    srcfs_status st = srcfs_check(fs, S->d, l.file, l.off, l.len,
                                  "code file", full, SRCFS_FILE | SRCFS_DIR);
    if (st == SRCFS_MISSING && !srcfs_seen(fs, l.file, l.off)) {
      pipec_diag *g = sema_error(S, "no-file", l,
                                 "code file '%s' does not exist", full);
      srcfs_suggest(fs, g, full, rel);
      hint_relative(g, "code files", dir);
    }
    if (st != SRCFS_OK)
      return false;
    add_code(S, code, full);
    return true;
  }
  const char **matches = NULL;
  uint32_t n = 0;
  int err = srcfs_can_list(fs) ? srcfs_glob(fs, full, &matches, &n) : 0;
  /* where files cannot be looked up (a snapshot recompiled from its stored
   * files), nothing about them is an error: the glob matches what is
   * there to list */
  bool checked = srcfs_can_stat(fs);
  if (err && checked) {
    sema_error(S, "no-file", l, "cannot expand code pattern '%s': %s", full,
               strerror(err));
    return false;
  }
  if (n == 0 && !checked)
    return true;
  if (n == 0) {
    pipec_diag *g = sema_error(S, "no-file", l,
                               "code pattern '%s' matches no file", full);
    hint_relative(g, "code files", dir);
    return false;
  }
  bool ok = true;
  for (uint32_t i = 0; i < n; i++) {
    if (srcfs_check(fs, S->d, l.file, l.off, l.len, "code file", matches[i],
                    SRCFS_FILE) != SRCFS_OK)
      ok = false;
    else
      add_code(S, code, matches[i]);
  }
  return ok;
}

bool sema_code_setting(sema *S, scomp *c, const ast_value *lv,
                       const char *what) {
  pipec_component *ir = &c->ir;
  strvec code = {0};
  pipec_value v;
  bool ok = true;
  if (lv->kind == AST_STRING) { /* one file may be given bare */
    if (!sema_value(S, lv, PIPEC_T_STRING, false, what, &v))
      return false;
    ok = code_entry(S, c, lv, v.u.s, &code);
  } else {
    if (!sema_value(S, lv, PIPEC_T_LIST, false, what, &v))
      return false;
    for (uint32_t k = 0; k < v.u.list.n; k++) {
      if (v.u.list.items[k].type != PIPEC_T_STRING) {
        sema_error(S, "type-mismatch", lv->u.list.items[k]->loc,
                   "code files are given as strings");
        ok = false;
        continue;
      }
      ok &= code_entry(S, c, lv->u.list.items[k], v.u.list.items[k].u.s,
                       &code);
    }
  }
  VEC_PUSH(S->a, code, NULL); /* ir->code has room for one more */
  ir->code = code.items;
  ir->n_code = code.n - 1;
  return ok;
}

/* ---- path values ------------------------------------------------------ */

/* Check one path value written at (src, off, len); what names its owner
 * ("param 'data'", "-p data=x.csv"). */
static void check_path(sema *S, int32_t src, uint32_t off, uint32_t len,
                       const char *value, const char *what) {
  srcfs *fs = fs_of(S);
  /* a million nodes naming one file: checked once, for no more memory */
  const char *key = arena_intern_cstr(S->a, value);
  if (name_map_get(&S->ok_paths, key) != PIPEC_NONE)
    return;
  if (!*value) {
    if (src < 0 || !srcfs_seen(fs, src, off))
      pipec_diag_add(S->d, PIPEC_SEV_ERROR, "no-file", src, off, len,
                     "%s: the path is empty", what);
    return;
  }
  const char *full = value[0] == '/' ? path_normalize(S->a, value)
                                     : path_join(S->a, S->main_dir, value);
  const char *prefix = arena_printf(S->a, "%s: path", what);
  srcfs_status st = srcfs_check(fs, S->d, src, off, len, prefix, full,
                                SRCFS_FILE | SRCFS_DIR);
  if (st == SRCFS_OK)
    name_map_put(S->a, &S->ok_paths, key, 1);
  if (st != SRCFS_MISSING)
    return;
  if (src >= 0 && srcfs_seen(fs, src, off))
    return;
  pipec_diag *g = pipec_diag_add(S->d, PIPEC_SEV_ERROR, "no-file", src, off,
                                 len, "%s '%s' does not exist", prefix, full);
  srcfs_suggest(fs, g, full, value);
  hint_relative(g, "paths", S->main_dir);
}

void sema_check_path(sema *S, const ast_value *v, const pipec_value *val,
                     const char *what) {
  if (val->type != PIPEC_T_PATH && val->type != PIPEC_T_LIST)
    return;
  if (v->kind == AST_REF && !v->u.ref.member) {
    /* a pipeline param of this type was checked where it is written */
    uint32_t p = sema_param_index(S, v->u.ref.name);
    if (p != PIPEC_NONE && S->params[p].type == val->type)
      return;
  }
  if (val->type == PIPEC_T_PATH) {
    check_path(S, v->loc.file, v->loc.off, v->loc.len, val->u.s, what);
    return;
  }
  for (uint32_t k = 0; k < val->u.list.n; k++) {
    const ast_value *item = v->kind == AST_LIST && k < v->u.list.n
                                ? v->u.list.items[k]
                                : v;
    sema_check_path(S, item, &val->u.list.items[k], what);
  }
}

void sema_check_default_path(sema *S, const scomp *sc, uint32_t i) {
  const pipec_param_decl *d = &sc->ir.params[i];
  if (!sc->ast || (d->type != PIPEC_T_PATH && d->type != PIPEC_T_LIST))
    return; /* a built-in's defaults are its own business */
  const ast_value *def = sc->ast->params.items[i].def;
  if (def)
    sema_check_path(S, def, &d->def,
                    arena_printf(S->a, "param '%s' of component '%s'",
                                 d->name, sc->name));
}

void sema_param_paths(sema *S) {
  for (uint32_t i = 0; i < S->n_params; i++) {
    const sparam *p = &S->params[i];
    if (!p->ok || (p->type != PIPEC_T_PATH && p->type != PIPEC_T_LIST))
      continue;
    if (p->override) {
      const char *what = arena_printf(S->a, "-p %s=%s", p->decl->name,
                                      p->override);
      if (p->type == PIPEC_T_PATH)
        check_path(S, -1, 0, 0, p->value.u.s, what);
      for (uint32_t k = 0; p->type == PIPEC_T_LIST && k < p->value.u.list.n;
           k++)
        if (p->value.u.list.items[k].type == PIPEC_T_PATH)
          check_path(S, -1, 0, 0, p->value.u.list.items[k].u.s, what);
    } else if (p->decl->def) {
      sema_check_path(S, p->decl->def, &p->value,
                      arena_printf(S->a, "param '%s'", p->decl->name));
    }
  }
}
