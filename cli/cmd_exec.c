/*
 * cmd_exec.c — `pipec exec COMPONENT --in PORT=PATH --out PORT=PATH
 * --param NAME=VALUE`: run one built-in component by itself.
 *
 * This is how the engine runs built-ins on every target (a local process,
 * an ssh host, a Slurm job): each node is its own process, so a crash in a
 * component never takes the runner down. Param values use the command-line
 * form of literal.h. This file parses the command line; the protocol's
 * meaning (engine/exec.c) is the engine's: pipec_exec().
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pipec/engine.h"

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

int cmd_exec(int argc, char **argv) {
  if (cli_wants_help("exec", argc, argv))
    return CLI_OK;
  exec_args x = {0};
  int rc = parse_exec_args(argc, argv, &x);
  if (rc == 0) {
    pipec_exec_request rq = {
        .component = x.component,
        .plugin = x.plugin,
        .workdir = x.workdir,
        .inputs = (const char *const *)x.in.v,
        .n_inputs = (uint32_t)x.in.n,
        .outputs = (const char *const *)x.out.v,
        .n_outputs = (uint32_t)x.out.n,
        .params = (const char *const *)x.param.v,
        .n_params = (uint32_t)x.param.n};
    pipec_error err;
    rc = pipec_exec(&rq, &err);
    if (rc == PIPEC_EXIT_USAGE)
      cli_usage_error("exec", "%s", err.msg);
    else if (rc != PIPEC_EXIT_OK)
      fprintf(stderr, "%s\n", err.msg);
  }
  exec_args_free(&x);
  return rc;
}
