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

/* What the command line gives, before the component is known. */
typedef struct exec_args {
  const char *component, *plugin, *workdir;
  cli_strv in, out, param;       /* "NAME=VALUE" each */
} exec_args;

static void exec_args_free(exec_args *x) {
  cli_strv_free(&x->in);
  cli_strv_free(&x->out);
  cli_strv_free(&x->param);
}

static int parse_exec_args(int argc, char **argv, exec_args *x) {
  enum { X_PLUGIN = 1, X_IN, X_OUT, X_PARAM, X_WORKDIR };
  static const cli_opt opts[] = {{"plugin", 0, true, X_PLUGIN},
                                 {"in", 0, true, X_IN},
                                 {"out", 0, true, X_OUT},
                                 {"param", 0, true, X_PARAM},
                                 {"workdir", 0, true, X_WORKDIR},
                                 {0}};
  cli_args it;
  cli_args_init(&it, "exec", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    int rc = 0;
    switch (k) {
    case CLI_ARG_ERROR:
      return CLI_USAGE;
    case CLI_ARG_OPERAND:
      if (x->component)
        return cli_usage_error("exec", "unexpected '%s'", it.value);
      x->component = it.value;
      break;
    case X_PLUGIN:
      x->plugin = it.value;
      break;
    case X_WORKDIR:
      x->workdir = it.value;
      break;
    default: {
      const char *eq = strchr(it.value, '=');
      if (!eq || eq == it.value)
        return cli_usage_error("exec", "%s %s: expected NAME=VALUE", it.opt,
                               it.value);
      rc = cli_strv_add(k == X_IN ? &x->in : k == X_OUT ? &x->out : &x->param,
                        it.value);
    }
    }
    if (rc != 0)
      return CLI_USAGE;
  }
  if (!x->component)
    return cli_usage_error("exec", "missing COMPONENT");
  return 0;
}

static int exec_component(const exec_args *x) {
  const pipec_component_desc *d = NULL;
  if (x->plugin) {
    char perr[512];
    d = plugin_find(x->plugin, x->component, perr, sizeof perr);
    if (!d) {
      fprintf(stderr, "pipec exec: %s\n", perr);
      return CLI_USAGE;
    }
  }
  if (!d)
    d = pipec_stdlib_find(x->component);
  if (!d) {
    uint32_t n;
    const pipec_component_desc *const *all = pipec_stdlib_components(&n);
    const char **names = calloc(n + 1, sizeof *names);
    for (uint32_t i = 0; names && i < n; i++)
      names[i] = all[i]->name;
    fprintf(stderr, "pipec exec: unknown component '%s'\n", x->component);
    if (names)
      cli_suggest(x->component, names, n);
    free(names);
    return CLI_USAGE;
  }
  if (!d->run) {
    fprintf(stderr, "pipec exec: '%s' runs as a command in a pipeline, not "
                    "by itself\n", d->name);
    return CLI_USAGE;
  }
  arena *a = arena_new();
  pipec_named_path *ins = arena_alloc(a, (x->in.n + 1) * sizeof *ins);
  pipec_named_path *outs = arena_alloc(a, (x->out.n + 1) * sizeof *outs);
  pipec_named_value *params = arena_alloc(a, (d->n_params + 1) *
                                                 sizeof *params);
  const char **given = arena_alloc(a, (d->n_params + 1) * sizeof *given);
  memset(given, 0, (d->n_params + 1) * sizeof *given);
  uint32_t n_in = 0, n_out = 0;
  const char *workdir = x->workdir ? x->workdir : ".";
  for (size_t i = 0; i < x->in.n; i++) {
    pipec_named_path np = {0};
    split_arg(a, x->in.v[i], &np);
    if (find_port(d->inputs, d->n_inputs, np.name) < 0) {
      cli_usage_error("exec", "'%s' has no input '%s'", d->name, np.name);
      return exec_fail(a, CLI_USAGE);
    }
    ins[n_in++] = np;
  }
  for (size_t i = 0; i < x->out.n; i++) {
    pipec_named_path np = {0};
    split_arg(a, x->out.v[i], &np);
    if (find_port(d->outputs, d->n_outputs, np.name) < 0) {
      cli_usage_error("exec", "'%s' has no output '%s'", d->name, np.name);
      return exec_fail(a, CLI_USAGE);
    }
    outs[n_out++] = np;
  }
  for (size_t i = 0; i < x->param.n; i++) {
    pipec_named_path np = {0};
    split_arg(a, x->param.v[i], &np);
    uint32_t k = 0;
    while (k < d->n_params && strcmp(d->params[k].name, np.name) != 0)
      k++;
    if (k == d->n_params) {
      cli_usage_error("exec", "'%s' has no param '%s'", d->name, np.name);
      return exec_fail(a, CLI_USAGE);
    }
    given[k] = np.path;
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

int cmd_exec(int argc, char **argv) {
  if (cli_wants_help("exec", argc, argv))
    return CLI_OK;
  exec_args x = {0};
  int rc = parse_exec_args(argc, argv, &x);
  if (rc != 0) {
    exec_args_free(&x);
    return rc;
  }
  rc = exec_component(&x);
  exec_args_free(&x);
  return rc;
}
