/*
 * cmd_exec.c — `pipec exec COMPONENT --in PORT=PATH --out PORT=PATH
 * --param NAME=VALUE`: run one built-in component by itself.
 *
 * This is how the engine runs built-ins on every target (a local process,
 * an ssh host, a Slurm job): each node is its own process, so a crash in a
 * component never takes the runner down. Param values use the command-line
 * form of literal.h (strings as they are; lists as [..] or a,b,c).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "cli.h"
#include "literal.h"
#include "pipec/stdlib.h"
#include "plugin.h"

static volatile int exec_cancelled;

static void on_signal(int sig) {
  (void)sig;
  exec_cancelled = 1;
}

static void exec_log(const pipec_run_ctx *ctx, const char *fmt, ...) {
  (void)ctx;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* Split "NAME=VALUE" into a named path; false if there is no '='. */
static bool split_arg(arena *a, const char *arg, pipec_named_path *out) {
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg)
    return false;
  out->name = arena_strndup(a, arg, (size_t)(eq - arg));
  out->path = eq + 1;
  return true;
}

static int find_port(const pipec_port_desc *ports, uint32_t n,
                     const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(ports[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int exec_fail(arena *a, int code) {
  arena_free(a);
  return code;
}

int cmd_exec(int argc, char **argv) {
  if (cli_wants_help("exec", argc, argv))
    return CLI_OK;
  if (argc < 2)
    return cli_usage_error("exec", "missing COMPONENT");
  const pipec_component_desc *d = NULL;
  if (argc >= 4 && strcmp(argv[2], "--plugin") == 0) {
    char perr[512];
    d = plugin_find(argv[3], argv[1], perr, sizeof perr);
    if (!d) {
      fprintf(stderr, "pipec exec: %s\n", perr);
      return CLI_USAGE;
    }
    argv[3] = argv[1]; /* drop "--plugin PATH" from what follows */
    argv += 2;
    argc -= 2;
  }
  if (!d)
    d = pipec_stdlib_find(argv[1]);
  if (!d) {
    uint32_t n;
    const pipec_component_desc *const *all = pipec_stdlib_components(&n);
    const char **names = calloc(n + 1, sizeof *names);
    for (uint32_t i = 0; names && i < n; i++)
      names[i] = all[i]->name;
    fprintf(stderr, "pipec exec: unknown component '%s'\n", argv[1]);
    cli_suggest(argv[1], names, n);
    free(names);
    return CLI_USAGE;
  }
  if (!d->run) {
    fprintf(stderr, "pipec exec: '%s' runs as a command in a pipeline, not "
                    "by itself\n", d->name);
    return CLI_USAGE;
  }
  arena *a = arena_new();
  uint32_t cap = (uint32_t)argc;
  pipec_named_path *ins = arena_alloc(a, cap * sizeof *ins);
  pipec_named_path *outs = arena_alloc(a, cap * sizeof *outs);
  pipec_named_value *params = arena_alloc(a, (d->n_params + 1) *
                                                 sizeof *params);
  const char **given = arena_alloc(a, (d->n_params + 1) * sizeof *given);
  uint32_t n_in = 0, n_out = 0;
  const char *workdir = ".";
  for (int i = 2; i < argc; i++) {
    const char *opt = argv[i];
    if (i + 1 >= argc) {
      cli_usage_error("exec", "%s needs a value", opt);
      return exec_fail(a, CLI_USAGE);
    }
    const char *val = argv[++i];
    pipec_named_path np;
    if (strcmp(opt, "--workdir") == 0) {
      workdir = val;
    } else if (strcmp(opt, "--in") == 0 || strcmp(opt, "--out") == 0 ||
               strcmp(opt, "--param") == 0) {
      if (!split_arg(a, val, &np)) {
        cli_usage_error("exec", "%s %s: expected NAME=VALUE", opt, val);
        return exec_fail(a, CLI_USAGE);
      }
      if (opt[2] == 'i') {
        if (find_port(d->inputs, d->n_inputs, np.name) < 0) {
          cli_usage_error("exec", "'%s' has no input '%s'", d->name, np.name);
          return exec_fail(a, CLI_USAGE);
        }
        ins[n_in++] = np;
      } else if (opt[2] == 'o') {
        if (find_port(d->outputs, d->n_outputs, np.name) < 0) {
          cli_usage_error("exec", "'%s' has no output '%s'", d->name,
                          np.name);
          return exec_fail(a, CLI_USAGE);
        }
        outs[n_out++] = np;
      } else {
        uint32_t k = 0;
        while (k < d->n_params && strcmp(d->params[k].name, np.name) != 0)
          k++;
        if (k == d->n_params) {
          cli_usage_error("exec", "'%s' has no param '%s'", d->name, np.name);
          return exec_fail(a, CLI_USAGE);
        }
        given[k] = np.path;
      }
    } else {
      cli_usage_error("exec", "unknown option '%s'", opt);
      return exec_fail(a, CLI_USAGE);
    }
  }
  for (uint32_t i = 0; i < d->n_inputs; i++)
    if (!pipec_ctx_path_(ins, n_in, d->inputs[i].name)) {
      cli_usage_error("exec", "missing --in %s=PATH", d->inputs[i].name);
      return exec_fail(a, CLI_USAGE);
    }
  for (uint32_t i = 0; i < d->n_outputs; i++)
    if (!pipec_ctx_path_(outs, n_out, d->outputs[i].name)) {
      cli_usage_error("exec", "missing --out %s=PATH", d->outputs[i].name);
      return exec_fail(a, CLI_USAGE);
    }
  for (uint32_t k = 0; k < d->n_params; k++) {
    const pipec_param_desc *pd = &d->params[k];
    char err[256];
    int r;
    if (given[k])
      r = literal_parse(a, given[k], pd->type, false, &params[k].value, err,
                        sizeof err);
    else if (pd->default_literal)
      r = literal_parse(a, pd->default_literal, pd->type, true,
                        &params[k].value, err, sizeof err);
    else {
      cli_usage_error("exec", "missing --param %s=VALUE", pd->name);
      return exec_fail(a, CLI_USAGE);
    }
    if (r != 0) {
      cli_usage_error("exec", "param '%s': %s", pd->name, err);
      return exec_fail(a, CLI_USAGE);
    }
    params[k].name = pd->name;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  pipec_run_ctx ctx = {.inputs = ins, .n_inputs = n_in,
                       .outputs = outs, .n_outputs = n_out,
                       .params = params, .n_params = d->n_params,
                       .workdir = workdir, .log = exec_log,
                       .cancelled = &exec_cancelled};
  char err[1024] = "";
  int rc = d->run(&ctx, err, sizeof err);
  arena_free(a);
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", d->name, err[0] ? err : "failed");
    return exec_cancelled ? CLI_INTERRUPTED : CLI_FAILED;
  }
  return CLI_OK;
}
