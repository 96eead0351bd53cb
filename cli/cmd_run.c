/*
 * cmd_run.c — `pipec run FILE [selection] [options]`: compile, then run in
 * the workspace (engine/run.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"
#include "workspace.h"

typedef struct run_args {
  const char *file;
  const char **overrides;
  unsigned n_overrides;
  const char **nodes;
  unsigned n_nodes;
  run_opts o;
} run_args;

/* "a,b,c" appended to a->nodes; a comma inside brackets belongs to a
 * family member's key ("model[1,0.1],report"). */
static void add_nodes(run_args *a, char *list) {
  int depth = 0;
  char *tok = list;
  for (char *q = list;; q++) {
    if (*q == '[')
      depth++;
    else if (*q == ']' && depth > 0)
      depth--;
    if (*q && (*q != ',' || depth > 0))
      continue;
    bool end = !*q;
    *q = 0;
    if (*tok)
      a->nodes[a->n_nodes++] = tok;
    if (end)
      break;
    tok = q + 1;
  }
}

/* The value of option argv[*i] ("--to X" or "--to=X"), or NULL. */
static const char *opt_value(const char *name, int argc, char **argv, int *i) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != 0) /* "-j2", "-pN=V": a short option with its value */
    return n == 2 && name[1] != '-' ? argv[*i] + n : NULL;
  if (*i + 1 >= argc)
    return "";
  return argv[++*i];
}

static int parse_run_args(int argc, char **argv, run_args *a) {
  a->overrides = calloc((size_t)argc + 1, sizeof *a->overrides);
  size_t names = (size_t)argc + 1; /* one per argument, one per comma */
  for (int i = 0; i < argc; i++)
    for (const char *q = argv[i]; *q; q++)
      names += *q == ',';
  a->nodes = calloc(names, sizeof *a->nodes);
  if (!a->overrides || !a->nodes)
    return CLI_USAGE;
  a->o.out = stdout;
  a->o.mode = STATUS_LIVE;
  bool single = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *v;
    if ((v = opt_value("-p", argc, argv, &i)) ||
        (v = opt_value("--param", argc, argv, &i))) {
      if (!strchr(v, '='))
        return cli_usage_error("run", "-p takes NAME=VALUE, got '%s'", v);
      a->overrides[a->n_overrides++] = v;
    } else if ((v = opt_value("--node", argc, argv, &i))) {
      if (!*v)
        return cli_usage_error("run", "--node needs a node name");
      a->nodes[a->n_nodes++] = v;
      single = true;
    } else if ((v = opt_value("--nodes", argc, argv, &i))) {
      add_nodes(a, (char *)v);
    } else if ((v = opt_value("--from", argc, argv, &i))) {
      a->o.sel.from = v;
    } else if ((v = opt_value("--to", argc, argv, &i))) {
      a->o.sel.to = v;
    } else if ((v = opt_value("-j", argc, argv, &i)) ||
               (v = opt_value("--jobs", argc, argv, &i))) {
      char *end;
      long j = strtol(v, &end, 10);
      if (!*v || *end || j < 1 || j > 4096)
        return cli_usage_error("run", "-j needs a number of jobs >= 1");
      a->o.jobs = (int)j;
    } else if (strcmp(arg, "-k") == 0 || strcmp(arg, "--keep-going") == 0) {
      a->o.keep_going = true;
    } else if (strcmp(arg, "-n") == 0 || strcmp(arg, "--dry-run") == 0) {
      a->o.dry_run = true;
    } else if (strcmp(arg, "--force") == 0) {
      a->o.force = true;
    } else if (strcmp(arg, "--json") == 0) {
      a->o.mode = STATUS_JSON;
    } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
      a->o.mode = STATUS_QUIET;
    } else if (arg[0] == '-' && arg[1]) {
      return cli_usage_error("run", "unknown option '%s'", arg);
    } else if (a->file) {
      return cli_usage_error("run", "one FILE only (got '%s' and '%s')",
                             a->file, arg);
    } else {
      a->file = arg;
    }
  }
  if (!a->file)
    return cli_usage_error("run", "missing FILE");
  if (a->n_nodes && (a->o.sel.from || a->o.sel.to))
    return cli_usage_error("run", "--node/--nodes and --from/--to do not "
                                  "combine");
  if (single && a->n_nodes > 1)
    return cli_usage_error("run", "--node takes one node; use --nodes A,B");
  a->o.sel.nodes = a->nodes;
  a->o.sel.n_nodes = a->n_nodes;
  a->o.overrides = a->overrides;
  a->o.n_overrides = a->n_overrides;
  return 0;
}

int cmd_run(int argc, char **argv) {
  if (cli_wants_help("run", argc, argv))
    return CLI_OK;
  run_args a = {0};
  int rc = parse_run_args(argc, argv, &a);
  if (rc != 0)
    goto out;
  rc = CLI_USAGE;
  pipec_pipeline *p = cli_compile(a.file, a.overrides, a.n_overrides, NULL);
  if (!p)
    goto out;
  char err[1024] = "";
  ws *w = NULL;
  if (ws_open(NULL, true, &w, err, sizeof err) != 0) {
    fprintf(stderr, "pipec run: %s\n", err);
    pipec_pipeline_free(p);
    goto out;
  }
  run_result res;
  rc = run_pipeline(w, p, &a.o, &res, err, sizeof err);
  if (rc == RUN_USAGE && err[0])
    fprintf(stderr, "pipec run: %s\n", err);
  ws_close(w);
  pipec_pipeline_free(p);
out:
  free(a.overrides);
  free(a.nodes);
  return rc;
}

int cmd_why(int argc, char **argv) {
  if (cli_wants_help("why", argc, argv))
    return CLI_OK;
  const char *file = NULL, *node = NULL;
  const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
  unsigned n_overrides = 0;
  int rc = CLI_USAGE;
  if (!overrides)
    return CLI_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = opt_value("-p", argc, argv, &i)) ||
        (v = opt_value("--param", argc, argv, &i)))
      overrides[n_overrides++] = v;
    else if (argv[i][0] == '-') {
      rc = cli_usage_error("why", "unknown option '%s'", argv[i]);
      goto out;
    } else if (!file)
      file = argv[i];
    else if (!node)
      node = argv[i];
    else {
      rc = cli_usage_error("why", "unexpected '%s'", argv[i]);
      goto out;
    }
  }
  if (!file || !node) {
    rc = cli_usage_error("why", "expected FILE NODE");
    goto out;
  }
  pipec_pipeline *p = cli_compile(file, overrides, n_overrides, NULL);
  if (!p)
    goto out;
  char err[1024] = "";
  ws *w = NULL;
  if (ws_open(NULL, false, &w, err, sizeof err) == 0) {
    rc = run_why(w, p, node, stdout, err, sizeof err);
    ws_close(w);
  }
  if (err[0])
    fprintf(stderr, "pipec why: %s\n", err);
  pipec_pipeline_free(p);
out:
  free(overrides);
  return rc;
}
