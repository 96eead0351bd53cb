/*
 * cmd_compile.c — `pipec check` and `pipec graph`: the commands that only
 * compile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "cli.h"
#include "pipec/graph.h"
#include "pipec/stdlib.h"
#include "plugin.h"
#include "projpath.h"
#include "target.h"

static bool use_color(void) {
  const char *nc = getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(nc && *nc);
}

/* The project of a .pipe file (projpath.h), or NULL (no check) if
 * PIPEC_ALLOW_OUTSIDE is set or it cannot be resolved. */
static const char *project_root(const char *file, char *buf, size_t len) {
  const char *allow = getenv("PIPEC_ALLOW_OUTSIDE");
  if (allow && *allow && strcmp(allow, "0") != 0)
    return NULL;
  return projpath_root(file, buf, len) == 0 ? buf : NULL;
}

/* How many errors a compile prints: PIPEC_ERROR_LIMIT, else 50 (0: all). */
static uint32_t error_limit(void) {
  const char *e = getenv("PIPEC_ERROR_LIMIT");
  if (!e || !*e)
    return 50;
  char *end;
  unsigned long v = strtoul(e, &end, 10);
  return *end || v > UINT32_MAX ? 50 : (uint32_t)v;
}

pipec_pipeline *cli_compile(const char *path, const char *const *overrides,
                            unsigned n_overrides, unsigned *n_warnings) {
  char root[PATH_MAX];
  uint32_t n = 0;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_target_kinds kinds = tgt_kinds_schema(tgt_builtin_kinds());
  pipec_compile_opts opts = {.registry = &reg,
                             .target_kinds = &kinds,
                             .overrides = overrides,
                             .n_overrides = n_overrides,
                             .load_plugin = plugin_load,
                             .project_root = project_root(path, root,
                                                          sizeof root)};
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_pipeline *p = pipec_compile(path, &opts, &d);
  if (pipec_diags_print_first(&d, stderr, use_color(), error_limit()))
    fprintf(stderr, "(only the first %u errors are shown; "
                    "PIPEC_ERROR_LIMIT=0 shows them all)\n", error_limit());
  if (d.n_errors)
    fprintf(stderr, "%u error%s%s", d.n_errors, d.n_errors == 1 ? "" : "s",
            d.n_warnings ? ", " : "\n");
  if (d.n_errors && d.n_warnings)
    fprintf(stderr, "%u warning%s\n", d.n_warnings,
            d.n_warnings == 1 ? "" : "s");
  if (n_warnings)
    *n_warnings = d.n_warnings;
  pipec_diags_free(&d);
  return p;
}

/* Options shared by the compile-only commands. */
typedef struct compile_args {
  const char *file;
  const char **overrides;
  unsigned n_overrides;
  const char *format;
} compile_args;

/* Parse FILE, -p/--param, and (if allow_format) --format. Returns 0 or
 * CLI_USAGE after printing the problem. */
static int parse_args(const char *cmd, int argc, char **argv, bool allow_format,
                      compile_args *a) {
  memset(a, 0, sizeof *a);
  a->overrides = calloc((size_t)argc + 1, sizeof *a->overrides);
  if (!a->overrides)
    return CLI_USAGE;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *val = NULL;
    if (strcmp(arg, "-p") == 0 || strcmp(arg, "--param") == 0) {
      if (i + 1 >= argc)
        return cli_usage_error(cmd, "%s needs NAME=VALUE", arg);
      val = argv[++i];
    } else if (strncmp(arg, "--param=", 8) == 0) {
      val = arg + 8;
    } else if (strncmp(arg, "-p", 2) == 0 && arg[2]) {
      val = arg + 2;
    }
    if (val) {
      if (!strchr(val, '='))
        return cli_usage_error(cmd, "-p takes NAME=VALUE, got '%s'", val);
      a->overrides[a->n_overrides++] = val;
      continue;
    }
    if (allow_format && strcmp(arg, "--format") == 0) {
      if (i + 1 >= argc)
        return cli_usage_error(cmd, "--format needs text, dot or json");
      a->format = argv[++i];
      continue;
    }
    if (allow_format && strncmp(arg, "--format=", 9) == 0) {
      a->format = arg + 9;
      continue;
    }
    if (arg[0] == '-' && arg[1])
      return cli_usage_error(cmd, "unknown option '%s'", arg);
    if (a->file)
      return cli_usage_error(cmd, "one FILE only (got '%s' and '%s')", a->file,
                             arg);
    a->file = arg;
  }
  if (!a->file)
    return cli_usage_error(cmd, "missing FILE");
  return 0;
}

int cmd_check(int argc, char **argv) {
  compile_args a;
  int rc = parse_args("check", argc, argv, false, &a);
  if (rc == 0) {
    unsigned warnings = 0;
    pipec_pipeline *p = cli_compile(a.file, a.overrides, a.n_overrides,
                                    &warnings);
    if (p) {
      printf("%s: ok: pipeline '%s', %u node%s", a.file, p->name, p->n_nodes,
             p->n_nodes == 1 ? "" : "s");
      if (warnings)
        printf(", %u warning%s", warnings, warnings == 1 ? "" : "s");
      printf("\n");
      pipec_pipeline_free(p);
    } else {
      rc = CLI_USAGE;
    }
  }
  free(a.overrides);
  return rc;
}

int cmd_graph(int argc, char **argv) {
  compile_args a;
  int rc = parse_args("graph", argc, argv, true, &a);
  pipec_graph_format f = PIPEC_GRAPH_TEXT;
  if (rc == 0 && a.format && pipec_graph_format_parse(a.format, &f) != 0)
    rc = cli_usage_error("graph", "unknown format '%s' (text, dot or json)",
                         a.format);
  if (rc == 0) {
    pipec_pipeline *p = cli_compile(a.file, a.overrides, a.n_overrides, NULL);
    if (p) {
      pipec_graph_write(p, f, stdout);
      pipec_pipeline_free(p);
    } else {
      rc = CLI_USAGE;
    }
  }
  free(a.overrides);
  return rc;
}
