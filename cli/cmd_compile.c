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
#include "pipec/engine.h"
#include "pipec/graph.h"

static bool use_color(void) {
  const char *nc = getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(nc && *nc);
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
  return cli_compile_quotas(path, overrides, n_overrides, NULL, n_warnings);
}

pipec_pipeline *cli_compile_quotas(const char *path,
                                   const char *const *overrides,
                                   unsigned n_overrides,
                                   const char *quota_file,
                                   unsigned *n_warnings) {
  pipec_load_opts opts = {.overrides = overrides,
                          .n_overrides = n_overrides,
                          .quota_file = quota_file};
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_pipeline *p = pipec_load(path, &opts, &d);
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
  cli_strv overrides;
  const char *format;
  const char *quotas;
} compile_args;

enum { OPT_PARAM = 1, OPT_FORMAT, OPT_QUOTAS };

/* Parse FILE, -p/--param, and --format (if allow_format) or else --quotas
 * (check: the quota groups' file to check against). Returns 0 or
 * CLI_USAGE after printing the problem. */
static int parse_args(const char *cmd, int argc, char **argv, bool allow_format,
                      compile_args *a) {
  static const cli_opt with_format[] = {{"param", 'p', true, OPT_PARAM},
                                        {"format", 0, true, OPT_FORMAT},
                                        {0}};
  static const cli_opt params_only[] = {{"param", 'p', true, OPT_PARAM},
                                        {"quotas", 0, true, OPT_QUOTAS},
                                        {0}};
  memset(a, 0, sizeof *a);
  cli_args it;
  cli_args_init(&it, cmd, argc, argv,
                allow_format ? with_format : params_only);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    switch (k) {
    case CLI_ARG_ERROR:
      return CLI_USAGE;
    case OPT_PARAM:
      if (!strchr(it.value, '='))
        return cli_usage_error(cmd, "-p takes NAME=VALUE, got '%s'",
                               it.value);
      if (cli_strv_add(&a->overrides, it.value) != 0)
        return CLI_USAGE;
      break;
    case OPT_FORMAT:
      a->format = it.value;
      break;
    case OPT_QUOTAS:
      a->quotas = it.value;
      break;
    default:
      if (a->file)
        return cli_usage_error(cmd, "one FILE only (got '%s' and '%s')",
                               a->file, it.value);
      a->file = it.value;
    }
  }
  if (!a->file)
    return cli_usage_error(cmd, "missing FILE");
  return 0;
}

/* A warning of `pipec check` about an image this machine lacks. */
static void image_warning(void *ctx, const pipec_node *n, const char *msg) {
  unsigned *warnings = ctx;
  (*warnings)++;
  fprintf(stderr, "%s:%u:%u: warning: node '%s': %s\n",
          n->loc.file ? n->loc.file : "?", n->loc.line, n->loc.col, n->name,
          msg);
}

int cmd_check(int argc, char **argv) {
  compile_args a;
  int rc = parse_args("check", argc, argv, false, &a);
  if (rc == 0) {
    unsigned warnings = 0;
    pipec_pipeline *p = cli_compile_quotas(a.file, a.overrides.v,
                                           (unsigned)a.overrides.n, a.quotas,
                                           &warnings);
    if (p) {
      /* images the local runtime lacks: the run would fail those nodes */
      pipec_error err;
      if (pipec_images_check(p, image_warning, &warnings, &err) < 0)
        fprintf(stderr, "pipec check: cannot look up images: %s\n",
                err.msg);
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
  cli_strv_free(&a.overrides);
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
    pipec_pipeline *p = cli_compile(a.file, a.overrides.v,
                                    (unsigned)a.overrides.n, NULL);
    if (p) {
      pipec_graph_write(p, f, stdout);
      pipec_pipeline_free(p);
    } else {
      rc = CLI_USAGE;
    }
  }
  cli_strv_free(&a.overrides);
  return rc;
}
