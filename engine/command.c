/*
 * command.c — a node's command line (command.h).
 */
#include "command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "literal.h"
#include "pipec/template.h"

/* Placeholders are looked up once each, but a node may have 10^4 ports:
 * the names are sorted once and searched. */
typedef struct named {
  const char *name;
  const char *path;            /* ports; NULL for a port declaration */
  bool list;                   /* a list input port */
  uint32_t seq;                /* its place: one port's items keep their
                                  order */
} named;

typedef struct lookup_ctx {
  const pipec_node *node;
  named *ports;                /* inputs (in order) and outputs, by name */
  uint32_t n_ports;
  named *decls;                /* the input ports' declarations, by name */
  uint32_t n_decls;
  arena *a;
  const char *moduledir;     /* {moduledir}: the component's directory */
} lookup_ctx;

static int named_cmp(const void *x, const void *y) {
  const named *a = x, *b = y;
  int c = strcmp(a->name, b->name);
  return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* name[0..len) against s: <0, 0, >0 as strcmp. */
static int cmp_n(const char *name, size_t len, const char *s) {
  int c = strncmp(name, s, len);
  return c ? c : s[len] ? -1 : 0;
}

/* The first entry named name[0..len) in v (sorted), or NULL. */
static const named *find_first(const named *v, uint32_t n, const char *name,
                               size_t len) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (cmp_n(name, len, v[mid].name) > 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && cmp_n(name, len, v[lo].name) == 0 ? &v[lo] : NULL;
}

static const char *lookup(void *ctx, const char *name, size_t len) {
  lookup_ctx *c = ctx;
  const named *p = find_first(c->ports, c->n_ports, name, len);
  if (p)
    return p->path;
  for (uint32_t i = 0; i < c->node->n_params; i++) {
    const pipec_param *pa = &c->node->params[i];
    if (strlen(pa->name) == len && memcmp(pa->name, name, len) == 0)
      return literal_text(c->a, &pa->value);
  }
  if (len == 9 && memcmp(name, "moduledir", 9) == 0)
    return c->moduledir ? c->moduledir : ".";
  return NULL;
}

/* {name} of a list port: the paths wired to it, in order. */
static int lookup_list(void *ctx, const char *name, size_t len,
                       const char *const **values, uint32_t *n) {
  lookup_ctx *c = ctx;
  const named *d = find_first(c->decls, c->n_decls, name, len);
  if (!d || !d->list)
    return 0;
  const named *p = find_first(c->ports, c->n_ports, name, len);
  uint32_t k = 0;
  const char **v = NULL;
  if (p) {
    uint32_t first = (uint32_t)(p - c->ports), end = first;
    while (end < c->n_ports && strcmp(c->ports[end].name, p->name) == 0)
      end++;
    v = arena_alloc(c->a, (end - first + 1) * sizeof *v);
    for (uint32_t i = first; i < end; i++)
      v[k++] = c->ports[i].path;
  }
  *values = v;
  *n = k;
  return 1;
}

/* The sorted tables of a node's ports for lookup(). */
static void lookup_init(lookup_ctx *lc, const pipec_node *n,
                        const pipec_component *c,
                        const pipec_named_path *in, uint32_t n_in,
                        const pipec_named_path *out, uint32_t n_out,
                        arena *a) {
  *lc = (lookup_ctx){.node = n, .a = a, .moduledir = c->moduledir};
  lc->ports = arena_alloc(a, ((size_t)n_in + n_out + 1) * sizeof *lc->ports);
  for (uint32_t i = 0; i < n_in; i++, lc->n_ports++)
    lc->ports[lc->n_ports] = (named){in[i].name, in[i].path, false,
                                     lc->n_ports};
  for (uint32_t i = 0; i < n_out; i++, lc->n_ports++)
    lc->ports[lc->n_ports] = (named){out[i].name, out[i].path, false,
                                     lc->n_ports};
  qsort(lc->ports, lc->n_ports, sizeof *lc->ports, named_cmp);
  const pipec_port_decl *d = c->n_inputs ? c->inputs : n->var_inputs;
  uint32_t nd = c->n_inputs ? c->n_inputs : n->n_var_inputs;
  lc->decls = arena_alloc(a, ((size_t)nd + 1) * sizeof *lc->decls);
  for (uint32_t i = 0; i < nd; i++)
    lc->decls[lc->n_decls++] = (named){d[i].name, NULL, d[i].list, i};
  qsort(lc->decls, lc->n_decls, sizeof *lc->decls, named_cmp);
}

static char **strv_new(size_t n) {
  char **v = calloc(n + 1, sizeof *v);
  if (!v)
    abort();
  return v;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d)
    abort();
  return d;
}

static char *join_arg(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 2);
  if (!s)
    abort();
  memcpy(s, a, la);
  s[la] = '=';
  memcpy(s + la + 1, b, lb + 1);
  return s;
}

void cmd_free(char **v) {
  if (!v)
    return;
  for (char **q = v; *q; q++)
    free(*q);
  free(v);
}

#define ARG_STRLEN_MAX (32 * 4096) /* MAX_ARG_STRLEN, NUL included */

extern char **environ;

int cmd_fits(char *const *argv, char *const *env, const char *node, char *err,
             size_t errlen) {
  size_t total = 0, longest = 0;
  for (char *const *a = argv; *a; a++) {
    size_t len = strlen(*a) + 1;
    total += len + sizeof(char *);
    if (len > longest)
      longest = len;
  }
  size_t words = total;
  for (char *const *e = env; e && *e; e++) {
    size_t len = strlen(*e) + 1;
    total += len + sizeof(char *);
    if (len > ARG_STRLEN_MAX) {
      const char *eq = strchr(*e, '=');
      snprintf(err, errlen,
               "node '%s': environment variable %.*s is %zu KiB; the system "
               "passes at most %d KiB in one variable: pass the value in a "
               "file",
               node, eq ? (int)(eq - *e) : 0, *e, (len + 1023) / 1024,
               ARG_STRLEN_MAX / 1024);
      return -1;
    }
  }
  for (char **e = environ; e && *e; e++)
    total += strlen(*e) + 1 + sizeof(char *);
  long arg_max = sysconf(_SC_ARG_MAX);
  bool shell = argv[0] && argv[1] && strcmp(argv[0], "/bin/sh") == 0 &&
               strcmp(argv[1], "-c") == 0;
  if (longest > ARG_STRLEN_MAX) {
    snprintf(err, errlen,
             "node '%s': %s is %zu KiB once its placeholders are filled in; "
             "the system runs at most %d KiB as one %s: pass long lists of "
             "files in a file, or split the node",
             node, shell ? "the command" : "one word of the command",
             (longest + 1023) / 1024, ARG_STRLEN_MAX / 1024,
             shell ? "shell command" : "word");
    return -1;
  }
  if (arg_max > 0 && total + 4096 > (size_t)arg_max) {
    snprintf(err, errlen,
             "node '%s': the command is %zu KiB once its placeholders are "
             "filled in (with the environment, %zu KiB); the system allows "
             "%ld KiB: pass long lists of files in a file, or split the node",
             node, (words + 1023) / 1024, (total + 1023) / 1024,
             arg_max / 1024);
    return -1;
  }
  return 0;
}

/* PIPEC exec NAME --in ... --out ... --param ... */
static char **exec_argv(const pipec_component *c, const pipec_node *n,
                        const pipec_named_path *in, uint32_t n_in,
                        const pipec_named_path *out, uint32_t n_out,
                        const char *exe, arena *a) {
  char **v = strv_new(5 + 2 * ((size_t)n_in + n_out + n->n_params));
  size_t k = 0;
  v[k++] = xstrdup(exe);
  v[k++] = xstrdup("exec");
  v[k++] = xstrdup(c->name);
  if (c->plugin) { /* relative to the working directory: the pipeline's */
    v[k++] = xstrdup("--plugin");
    v[k++] = xstrdup(c->plugin);
  }
  for (uint32_t i = 0; i < n_in; i++) {
    v[k++] = xstrdup("--in");
    v[k++] = join_arg(in[i].name, in[i].path);
  }
  for (uint32_t i = 0; i < n_out; i++) {
    v[k++] = xstrdup("--out");
    v[k++] = join_arg(out[i].name, out[i].path);
  }
  for (uint32_t i = 0; i < n->n_params; i++) {
    const pipec_value *val = &n->params[i].value;
    const char *text = val->type == PIPEC_T_LIST ? literal_source(a, val)
                                                 : literal_text(a, val);
    v[k++] = xstrdup("--param");
    v[k++] = join_arg(n->params[i].name, text);
  }
  return v;
}

int cmd_build(const pipec_pipeline *p, uint32_t node,
              const pipec_named_path *inputs, uint32_t n_in,
              const pipec_named_path *outputs, uint32_t n_out,
              const char *pipec_exe, char ***argv, char ***env, char *err,
              size_t errlen) {
  const pipec_node *n = &p->nodes[node];
  const pipec_component *c = &p->components[n->component];
  arena *a = arena_new();
  *argv = NULL;
  const char *tpl = NULL;
  if (c->kind == PIPEC_COMP_COMMAND) {
    tpl = c->command;
  } else if (c->desc && (c->desc->flags & PIPEC_COMP_COMMAND_TEMPLATE)) {
    const pipec_param *cp = pipec_node_param(n, "command");
    tpl = cp ? cp->value.u.s : "";
  }
  if (tpl) {
    lookup_ctx lc;
    lookup_init(&lc, n, c, inputs, n_in, outputs, n_out, a);
    char bad[128] = "";
    if (pipec_template_needs_shell(tpl)) {
      char *line = pipec_template_expand_lists(tpl, lookup, lookup_list, &lc,
                                               bad, sizeof bad);
      if (line) {
        *argv = strv_new(3);
        (*argv)[0] = xstrdup("/bin/sh");
        (*argv)[1] = xstrdup("-c");
        (*argv)[2] = line;
      }
    } else {
      *argv = pipec_template_argv_lists(tpl, lookup, lookup_list, &lc, bad,
                                        sizeof bad);
      if (*argv && !(*argv)[0]) {
        snprintf(err, errlen, "the command of node '%s' is empty", n->name);
        cmd_free(*argv);
        arena_free(a);
        *argv = NULL;
        return -1;
      }
    }
    if (!*argv) {
      const char *const *vs;
      uint32_t nv;
      if (lookup(&lc, bad, strlen(bad)) ||
          lookup_list(&lc, bad, strlen(bad), &vs, &nv))
        snprintf(err, errlen, "node '%s': the value of '{%s}' cannot be "
                              "placed where it is in the command (right "
                              "after '\\' or '$', or a line break in a "
                              "here-document)",
                 n->name, bad);
      else
        snprintf(err, errlen, "node '%s': unknown placeholder '{%s}'",
                 n->name, bad);
      arena_free(a);
      return -1;
    }
  } else {
    *argv = exec_argv(c, n, inputs, n_in, outputs, n_out, pipec_exe, a);
  }
  *env = strv_new(c->n_env + 1);
  size_t k = 0;
  for (uint32_t i = 0; i < c->n_env; i++)
    (*env)[k++] = join_arg(c->env[i].key, c->env[i].value);
  (*env)[k++] = join_arg("PIPEC_NODE", n->name);
  arena_free(a);
  return 0;
}
