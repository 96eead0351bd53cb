/*
 * sema_sources.c — the project's files as language v2 sees them
 * (sema_int.h): source files wired to inputs (checked to exist, of the
 * right kind, inside the project by real path), glob patterns (matched
 * when the pipeline compiles, sorted), publish paths (inside the project,
 * not over a source of the pipeline) and string arguments that name a
 * project file without making its content part of the cache key.
 *
 * Every question goes to the compile's pipec_fs (the disk by default), so
 * a snapshot can be compiled against stored answers. Paths given in the
 * language are relative to the pipeline file's directory (the main
 * file's: the pipeline block is there); the IR keeps them relative to it,
 * normalized.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "sema_int.h"

/* The pipeline directory's real path (for absolute paths given), or
 * NULL if it cannot be told. */
static const char *abs_main_dir(sema *S) {
  if (!S->abs_main_dir) {
    pipec_file_kind kind;
    char *real = NULL;
    if (S->fs->stat(S->fs->ctx, S->main_dir, &kind, &real) == 0 && real) {
      S->abs_main_dir = arena_strdup(S->a, real);
    }
    free(real);
  }
  return S->abs_main_dir;
}

/* Path `rel` of the language as the compiler opens it (relative to the
 * current directory, or absolute). */
static const char *open_path(sema *S, const char *rel) {
  return rel[0] == '/' ? path_normalize(S->a, rel)
                       : path_join(S->a, S->main_dir, rel);
}

/* The IR's form of `rel`: relative to the pipeline directory. */
static const char *ir_path(sema *S, const char *rel) {
  if (rel[0] != '/')
    return path_normalize(S->a, rel);
  const char *dir = abs_main_dir(S);
  return dir ? path_relative(S->a, dir, path_normalize(S->a, rel))
             : path_normalize(S->a, rel);
}

/* real (absolute) inside the project root? */
static bool inside_root(const char *root, const char *real) {
  size_t n = strlen(root);
  if (n == 1 && root[0] == '/')
    return true;
  return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == 0);
}

const char *sema_source(sema *S, const char *path, bool dir, ast_loc at,
                        const char *what) {
  if (!*path) {
    sema_error(S, "bad-source", at, "%s: a source file needs a path", what);
    return NULL;
  }
  const char *full = open_path(S, path);
  const char *ckey = arena_intern_cstr(
      S->a, arena_printf(S->a, "%c%s", dir ? 'd' : 'f', full));
  uint32_t cached = name_map_get(&S->src_cache, ckey);
  if (cached != PIPEC_NONE)
    return cached == 0 ? NULL : S->datafiles.items[cached - 1].path;
  pipec_file_kind kind;
  char *real = NULL;
  int err = S->fs->stat(S->fs->ctx, full, &kind, &real);
  const char *bad = NULL;
  pipec_diag *g = NULL;
  if (err == ENOENT || err == ENOTDIR) {
    g = sema_error(S, "missing-source", at, "%s: %s '%s' does not exist",
                   what, dir ? "directory" : "source file", path);
    pipec_diag_hint(g, "paths are relative to the directory of '%s'",
                    S->u->main->path);
    bad = "";
  } else if (err) {
    sema_error(S, "missing-source", at, "%s: cannot read '%s': %s", what,
               path, strerror(err));
    bad = "";
  } else if (dir && kind != PIPEC_FILE_DIR) {
    g = sema_error(S, "type-mismatch", at, "%s: '%s' is not a directory",
                   what, path);
    pipec_diag_hint(g, "dir(...) takes a directory; file(\"%s\") a file",
                    path);
    bad = "";
  } else if (!dir && kind == PIPEC_FILE_DIR) {
    g = sema_error(S, "type-mismatch", at, "%s: '%s' is a directory", what,
                   path);
    pipec_diag_hint(g, "a directory is read by a dir port: dir(\"%s\")",
                    path);
    bad = "";
  } else if (!dir && kind != PIPEC_FILE_REGULAR) {
    sema_error(S, "type-mismatch", at, "%s: '%s' is not a regular file",
               what, path);
    bad = "";
  } else if (S->opts->project_root &&
             !inside_root(S->opts->project_root, real)) {
    const char *top = abs_main_dir(S);
    const char *lexical = path[0] == '/' || !top ? path_normalize(S->a, path)
                                                 : path_join(S->a, top, path);
    g = sema_error(S, "outside-project", at,
                   "%s: '%s' is outside the project", what, path);
    if (strcmp(lexical, real) != 0)
      pipec_diag_hint(g, "it is a link to %s; set PIPEC_ALLOW_OUTSIDE=1 to "
                         "allow files outside the project",
                      real);
    else
      pipec_diag_hint(g, "the project is %s; set PIPEC_ALLOW_OUTSIDE=1 to "
                         "allow files outside it",
                      S->opts->project_root);
    bad = "";
  }
  free(real);
  if (bad) {
    name_map_put(S->a, &S->src_cache, ckey, 0);
    return NULL;
  }
  const char *ir = ir_path(S, path);
  pipec_datafile df = {.path = ir, .dir = dir};
  VEC_PUSH(S->a, S->datafiles, df);
  name_map_put(S->a, &S->src_cache, ckey, S->datafiles.n);
  return ir;
}

/* ---- glob --------------------------------------------------------------- */

typedef struct gmatch {
  const char *path;          /* as the IR writes it (from the pattern) */
  const char *item;          /* the {var} part */
} gmatch;

typedef struct globber {
  sema *S;
  const char *var;
  size_t var_len;
  VEC(gmatch) out;
  int err;                   /* an error listing a directory */
  const char *err_dir;
} globber;

/* Does name match one component of a pattern? `*` any run of characters,
 * `?` one, {var} one or more (the same text as *cap if set, else the
 * shortest that lets the rest match, stored in *cap). */
static bool gmatch_part(globber *gb, const char *p, const char *s,
                        const char **cap) {
  while (*p) {
    if (*p == '*') {
      while (*p == '*')
        p++;
      for (size_t k = 0;; k++) {
        if (gmatch_part(gb, p, s + k, cap))
          return true;
        if (!s[k])
          return false;
      }
    }
    if (*p == '?') {
      if (!*s)
        return false;
      p++, s++;
      continue;
    }
    if (*p == '{' && strncmp(p + 1, gb->var, gb->var_len) == 0 &&
        p[1 + gb->var_len] == '}') {
      p += gb->var_len + 2;
      if (*cap) {
        size_t n = strlen(*cap);
        if (strncmp(s, *cap, n) != 0)
          return false;
        s += n;
        continue;
      }
      for (size_t k = 1; s[k - 1]; k++) {
        const char *c = arena_strndup(gb->S->a, s, k);
        *cap = c;
        if (gmatch_part(gb, p, s + k, cap))
          return true;
      }
      *cap = NULL;
      return false;
    }
    if (*p != *s)
      return false;
    p++, s++;
  }
  return !*s;
}

static bool has_wild(const char *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (c[i] == '*' || c[i] == '?' || c[i] == '{')
      return true;
  return false;
}

/* Match components comps[k..n) below dir (the open path so far) and rel
 * (the pattern-relative path so far). */
static void glob_walk(globber *gb, const char *const *comps, uint32_t k,
                      uint32_t n, const char *dir, const char *rel,
                      const char *cap) {
  sema *S = gb->S;
  if (k == n) {
    pipec_file_kind kind;
    if (!cap || S->fs->stat(S->fs->ctx, dir, &kind, NULL) != 0)
      return;
    gmatch m = {rel, cap};
    VEC_PUSH(S->a, gb->out, m);
    return;
  }
  const char *c = comps[k];
  if (!has_wild(c, strlen(c))) {
    glob_walk(gb, comps, k + 1, n, path_join(S->a, dir, c),
              *rel ? arena_printf(S->a, "%s/%s", rel, c) : c, cap);
    return;
  }
  char **names = NULL;
  pipec_file_kind *kinds = NULL;
  uint32_t nn = 0;
  int err = S->fs->list(S->fs->ctx, dir, &names, &kinds, &nn);
  if (err) {
    if (err != ENOENT && err != ENOTDIR && !gb->err) {
      gb->err = err;
      gb->err_dir = arena_strdup(S->a, dir);
    }
    return;
  }
  for (uint32_t i = 0; i < nn; i++) {
    const char *name = names[i];
    if (name[0] == '.' && c[0] != '.')
      continue; /* hidden files match only a pattern that says so */
    const char *ncap = cap;
    if (gmatch_part(gb, c, name, &ncap)) {
      const char *nm = arena_strdup(S->a, name);
      glob_walk(gb, comps, k + 1, n, path_join(S->a, dir, nm),
                *rel ? arena_printf(S->a, "%s/%s", rel, nm) : nm, ncap);
    }
  }
  for (uint32_t i = 0; i < nn; i++)
    free(names[i]);
  free(names);
  free(kinds);
}

static int gmatch_cmp(const void *a, const void *b) {
  return strcmp(((const gmatch *)a)->path, ((const gmatch *)b)->path);
}

bool sema_glob(sema *S, ast_loc at, const char *pattern, const char *var,
               pipec_value **items, uint32_t *n) {
  globber gb = {.S = S, .var = var, .var_len = strlen(var)};
  /* the pattern names {var} and no other {...} */
  bool has_var = false;
  for (const char *q = strchr(pattern, '{'); q; q = strchr(q + 1, '{')) {
    const char *end = strchr(q, '}');
    if (end && (size_t)(end - q - 1) == gb.var_len &&
        strncmp(q + 1, var, gb.var_len) == 0) {
      has_var = true;
      continue;
    }
    pipec_diag *g = sema_error(S, "bad-glob", at,
                               "glob pattern \"%s\": '{' starts {%s}, the "
                               "loop variable, and nothing else",
                               pattern, var);
    pipec_diag_hint(g, "one loop variable per glob; '*' and '?' match "
                       "without binding");
    return false;
  }
  if (!has_var) {
    pipec_diag *g = sema_error(S, "bad-glob", at,
                               "glob pattern \"%s\" has no {%s}: each match "
                               "needs a key",
                               pattern, var);
    pipec_diag_hint(g, "write the part that names the item as {%s}: "
                       "\"data/{%s}.csv\"",
                    var, var);
    return false;
  }
  /* split into components */
  VEC(const char *) comps = {0};
  const char *dir = pattern[0] == '/' ? "/" : S->main_dir;
  for (const char *p = pattern; *p;) {
    while (*p == '/')
      p++;
    const char *s = p;
    while (*p && *p != '/')
      p++;
    if (p > s && !(p - s == 1 && s[0] == '.')) {
      const char *c = arena_strndup(S->a, s, (size_t)(p - s));
      VEC_PUSH(S->a, comps, c);
    }
  }
  glob_walk(&gb, comps.items, 0, comps.n, dir, "", NULL);
  if (gb.err) {
    sema_error(S, "bad-glob", at, "glob \"%s\": cannot list '%s': %s",
               pattern, gb.err_dir, strerror(gb.err));
    return false;
  }
  if (gb.out.n)
    qsort(gb.out.items, gb.out.n, sizeof *gb.out.items, gmatch_cmp);
  *items = arena_alloc(S->a, ((size_t)gb.out.n + 1) * sizeof **items);
  *n = gb.out.n;
  for (uint32_t i = 0; i < gb.out.n; i++)
    (*items)[i] = (pipec_value){.type = PIPEC_T_STRING,
                                .u.s = gb.out.items[i].item};
  return true;
}

/* ---- publish paths ------------------------------------------------------ */

const char *sema_publish_path(sema *S, const char *path, ast_loc at) {
  if (!*path || path[strlen(path) - 1] == '/') {
    pipec_diag *g = sema_error(S, "bad-publish", at,
                               "a publish path names a file or directory to "
                               "write: \"%s\" does not",
                               path);
    pipec_diag_hint(g, "publish NODE.PORT = \"results/x.csv\"");
    return NULL;
  }
  const char *full = open_path(S, path);
  const char *ir = ir_path(S, path);
  if (strcmp(ir, ".") == 0) {
    sema_error(S, "bad-publish", at, "a publish cannot write the pipeline's "
               "directory itself");
    return NULL;
  }
  /* over a source of the pipeline? */
  if (strcmp(full, S->u->main->path) == 0)
    goto over_source;
  for (uint32_t i = 0; i < S->u->n_imports; i++)
    if (strcmp(full, S->u->imports[i]->path) == 0)
      goto over_source;
  const char *root = S->opts->project_root;
  if (root) {
    /* the deepest directory above it that exists, by real path, and the
     * rest: the published name itself, if a link, is replaced when
     * published, never followed, so where it points does not matter */
    const char *slash0 = strrchr(full, '/');
    const char *probe = slash0 ? (slash0 == full ? "/"
                                                 : arena_strndup(S->a, full,
                                                                 (size_t)(slash0 - full)))
                               : ".";
    const char *rest = slash0 ? slash0 + 1 : full;
    char *real = NULL;
    for (;;) {
      if (strcmp(probe, ".") == 0 || strcmp(probe, "/") == 0) {
        pipec_file_kind kind;
        S->fs->stat(S->fs->ctx, probe, &kind, &real);
        break;
      }
      pipec_file_kind kind;
      if (S->fs->stat(S->fs->ctx, probe, &kind, &real) == 0)
        break;
      free(real);
      real = NULL;
      const char *slash = strrchr(probe, '/');
      const char *base = slash ? slash + 1 : probe;
      rest = *rest ? arena_printf(S->a, "%s/%s", base, rest) : base;
      if (!slash) {
        probe = ".";
      } else if (slash == probe) {
        probe = "/";
      } else {
        probe = arena_strndup(S->a, probe, (size_t)(slash - probe));
      }
      if (strcmp(probe, ".") == 0 || strcmp(probe, "/") == 0) {
        S->fs->stat(S->fs->ctx, probe, &kind, &real);
        break;
      }
    }
    const char *where = real ? (*rest ? path_normalize(
                                            S->a, arena_printf(S->a, "%s/%s",
                                                               real, rest))
                                      : arena_strdup(S->a, real))
                             : NULL;
    free(real);
    if (where && !inside_root(root, where)) {
      pipec_diag *g = sema_error(S, "outside-project", at,
                                 "publish path '%s' is outside the project",
                                 path);
      pipec_diag_hint(g, "publish below the project's directory (the "
                         "nearest one above the pipeline file that holds "
                         ".git or .pipec), e.g. \"results/...\"");
      return NULL;
    }
  }
  return ir;
over_source:;
  pipec_diag *g = sema_error(S, "bad-publish", at,
                             "publishing to '%s' would overwrite a source of "
                             "the pipeline",
                             path);
  pipec_diag_hint(g, "publish into another file, e.g. under results/");
  return NULL;
}

/* ---- string arguments that name files ----------------------------------- */

/* Is value (a path as written, relative to the pipeline directory) an
 * existing regular file of the project? Memoized in src_cache by the text
 * as written, so a million nodes naming one file stat it once and
 * allocate nothing after the first. */
static bool project_file(sema *S, const char *value, size_t len) {
  char key[1100];
  if (len > 1024)
    return false;
  key[0] = 'w';
  memcpy(key + 1, value, len);
  const char *ckey = arena_intern(S->a, key, len + 1);
  uint32_t known = name_map_get(&S->src_cache, ckey);
  if (known != PIPEC_NONE)
    return known == 1;
  const char *full = open_path(S, ckey + 1);
  pipec_file_kind kind;
  char *real = NULL;
  bool file = S->fs->stat(S->fs->ctx, full, &kind, &real) == 0 &&
              kind == PIPEC_FILE_REGULAR &&
              (!S->opts->project_root ||
               inside_root(S->opts->project_root, real));
  free(real);
  name_map_put(S->a, &S->src_cache, ckey, file ? 1 : 2);
  return file;
}

/* rel is one of c's code files, or inside one of its code directories. */
static bool in_code(sema *S, const pipec_component *c, const char *rel) {
  const char *norm = path_normalize(S->a, rel);
  for (uint32_t i = 0; i < c->n_code; i++) {
    size_t n = strlen(c->code[i]);
    if (strncmp(norm, c->code[i], n) == 0 &&
        (norm[n] == '\0' || norm[n] == '/'))
      return true;
  }
  return false;
}

/* A word of a command that could be a path: not a placeholder, variable,
 * glob or option, and shaped like a path. */
static bool path_word(const char *w, size_t n) {
  if (n == 0 || n > 1024 || w[0] == '-' || (n == 1 && w[0] == '.') ||
      (n == 2 && w[0] == '.' && w[1] == '.'))
    return false;
  bool shaped = false;
  for (size_t i = 0; i < n; i++) {
    if (strchr("{}$*?[~\\", w[i]))
      return false;
    shaped |= w[i] == '.' || w[i] == '/';
  }
  return shaped;
}

void sema_warn_command_files(sema *S, const ast_value *command,
                             const pipec_component *c, bool is_shell) {
  if (!S->opts->project_root || command->kind != AST_STRING)
    return;
  static const char seps[] = " \t\n;|&<>()'\"`=,";
  const char *tpl = command->u.s.text;
  for (const char *p = tpl; *p;) {
    size_t n = strcspn(p, seps);
    if (n == 0) {
      p++;
      continue;
    }
    const char *word = p;
    p += n;
    if (!path_word(word, n) || !project_file(S, word, n))
      continue;
    const char *w = arena_strndup(S->a, word, n);
    if (in_code(S, c, w))
      continue;
    /* once per command as written: a loop's members share it */
    char once[64];
    int k = snprintf(once, sizeof once, "c%d:%u", command->loc.file,
                     command->loc.off);
    const char *okey = arena_intern(S->a, once, (size_t)k);
    if (name_map_get(&S->src_cache, okey) != PIPEC_NONE)
      return;
    name_map_put(S->a, &S->src_cache, okey, 1);
    pipec_diag *g = sema_warning(
        S, "file-in-command",
        sema_str_span(S, command, (uint32_t)(word - tpl), (uint32_t)n),
        "the command reads the project file '%s', but its content is not "
        "part of the cache key: editing it will not re-run the node",
        w);
    if (is_shell)
      pipec_diag_hint(g, "pass it as an input: \"... {f} ...\" with "
                         "f = file(\"%s\")",
                      w);
    else
      pipec_diag_hint(g, "list it in the component's code: code = "
                         "[\"%s\"] (a script), or take it as an input "
                         "port (data)",
                      w);
    return; /* one warning per command */
  }
}

void sema_warn_file_arg(sema *S, const char *arg, const char *value,
                        ast_loc at, bool is_shell) {
  size_t len = strlen(value);
  if (len == 0 || len > 1024 || value[0] == '-')
    return;
  for (const char *q = value; *q; q++)
    if ((unsigned char)*q <= ' ')
      return;
  if (!project_file(S, value, len))
    return;
  pipec_diag *g = sema_warning(S, "file-as-string", at,
                               "argument '%s' names the project file '%s', "
                               "but only its name is part of the cache key: "
                               "editing the file will not re-run the node",
                               arg, value);
  if (is_shell)
    pipec_diag_hint(g, "write file(\"%s\") so its content is part of the "
                       "cache key",
                    value);
  else
    pipec_diag_hint(g, "write file(\"%s\") so its content is part of the "
                       "cache key (to an input port of the component)",
                    value);
}
