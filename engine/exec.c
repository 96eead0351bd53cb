/*
 * exec.c — the receiving half of the protocol by which the engine runs a
 * built-in component on any target (a local process, an ssh host, a Slurm
 * job): `pipec exec COMPONENT --in PORT=PATH --out PORT=PATH --param
 * NAME=VALUE` (command.c writes it). Each node is its own process, so a
 * crash in a component never takes the runner down. Param values use the
 * command-line form of literal.h (strings as they are; lists as [..] or
 * a,b,c); missing ones take the component's defaults.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "arena.h"
#include "editdist.h"
#include "literal.h"
#include "pipec/engine.h"
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

/* A usage problem: err says what; the exit code for it. */
static int usage(pipec_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage(pipec_error *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = PIPEC_E_USAGE;
  }
  return PIPEC_EXIT_USAGE;
}

int pipec_exec(const pipec_exec_request *x, pipec_error *err) {
  if (err)
    *err = (pipec_error){0};
  const pipec_component_desc *d = NULL;
  if (x->plugin) {
    char perr[512];
    d = plugin_find(x->plugin, x->component, perr, sizeof perr);
    if (!d) {
      return usage(err, "%s", perr);
    }
  }
  if (!d)
    d = pipec_stdlib_find(x->component);
  if (!d) {
    uint32_t n;
    const pipec_component_desc *const *all = pipec_stdlib_components(&n);
    const char **names = xcalloc(n + 1, sizeof *names);
    for (uint32_t i = 0; i < n; i++)
      names[i] = all[i]->name;
    const char *best = editdist_suggest(x->component, names, n);
    int rc = usage(err, "unknown component '%s'%s%s%s", x->component,
                   best ? "; did you mean '" : "", best ? best : "",
                   best ? "'?" : "");
    free(names);
    return rc;
  }
  if (!d->run) {
    return usage(err, "'%s' runs as a command in a pipeline, not by itself",
                 d->name);
  }
  arena *a = arena_new();
  pipec_named_path *ins = arena_alloc(a, (x->n_inputs + 1) * sizeof *ins);
  pipec_named_path *outs = arena_alloc(a, (x->n_outputs + 1) * sizeof *outs);
  pipec_named_value *params = arena_alloc(a, (d->n_params + 1) *
                                                 sizeof *params);
  const char **given = arena_alloc(a, (d->n_params + 1) * sizeof *given);
  memset(given, 0, (d->n_params + 1) * sizeof *given);
  uint32_t n_in = 0, n_out = 0;
  const char *workdir = x->workdir ? x->workdir : ".";
  for (size_t i = 0; i < x->n_inputs; i++) {
    pipec_named_path np = {0};
    split_arg(a, x->inputs[i], &np);
    if (find_port(d->inputs, d->n_inputs, np.name) < 0) {
      usage(err, "'%s' has no input '%s'", d->name, np.name);
      return exec_fail(a, PIPEC_EXIT_USAGE);
    }
    ins[n_in++] = np;
  }
  for (size_t i = 0; i < x->n_outputs; i++) {
    pipec_named_path np = {0};
    split_arg(a, x->outputs[i], &np);
    if (find_port(d->outputs, d->n_outputs, np.name) < 0) {
      usage(err, "'%s' has no output '%s'", d->name, np.name);
      return exec_fail(a, PIPEC_EXIT_USAGE);
    }
    outs[n_out++] = np;
  }
  for (size_t i = 0; i < x->n_params; i++) {
    pipec_named_path np = {0};
    split_arg(a, x->params[i], &np);
    uint32_t k = 0;
    while (k < d->n_params && strcmp(d->params[k].name, np.name) != 0)
      k++;
    if (k == d->n_params) {
      usage(err, "'%s' has no param '%s'", d->name, np.name);
      return exec_fail(a, PIPEC_EXIT_USAGE);
    }
    given[k] = np.path;
  }
  for (uint32_t i = 0; i < d->n_inputs; i++)
    if (!pipec_named_path_find(ins, n_in, d->inputs[i].name)) {
      usage(err, "missing --in %s=PATH", d->inputs[i].name);
      return exec_fail(a, PIPEC_EXIT_USAGE);
    }
  for (uint32_t i = 0; i < d->n_outputs; i++)
    if (!pipec_named_path_find(outs, n_out, d->outputs[i].name)) {
      usage(err, "missing --out %s=PATH", d->outputs[i].name);
      return exec_fail(a, PIPEC_EXIT_USAGE);
    }
  for (uint32_t k = 0; k < d->n_params; k++) {
    const pipec_param_desc *pd = &d->params[k];
    char bad[256];
    int r;
    if (given[k])
      r = literal_parse(a, given[k], pd->type, false, &params[k].value, bad,
                        sizeof bad);
    else if (pd->default_literal)
      r = literal_parse(a, pd->default_literal, pd->type, true,
                        &params[k].value, bad, sizeof bad);
    else {
      usage(err, "missing --param %s=VALUE", pd->name);
      return exec_fail(a, PIPEC_EXIT_USAGE);
    }
    if (r != 0) {
      usage(err, "param '%s': %s", pd->name, bad);
      return exec_fail(a, PIPEC_EXIT_USAGE);
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
  char why[512] = ""; /* fits in err->msg after the name */
  int rc = d->run(&ctx, why, sizeof why);
  arena_free(a);
  if (rc != 0) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "%s: %s", d->name,
               why[0] ? why : "failed");
    if (err)
      err->code = PIPEC_E_FAILED;
    return exec_cancelled ? PIPEC_EXIT_INTERRUPTED : PIPEC_EXIT_FAILED;
  }
  return PIPEC_EXIT_OK;
}

