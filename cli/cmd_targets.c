/*
 * cmd_targets.c — `pipec targets FILE [--json]`: the pipeline's compute
 * targets, their kinds and options (quotas), how many nodes each runs and,
 * while a run of this pipeline is going, what it holds on each target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipec/graph.h"
#include "pipec/json.h"
#include "quota.h"
#include "store.h"
#include "workspace.h"

/* Reserve, in q[target], the resources of every node of p that a live run
 * of p records as running; running[t] counts them. No workspace, no run:
 * nothing is in use. */
static void in_use(const pipec_pipeline *p, quota *q, uint32_t *running) {
  ws *w = NULL;
  store *st = NULL;
  char err[512];
  if (ws_find(p->file, false, &w, NULL, err, sizeof err) != 0 ||
      store_open(ws_db_path(w), &st, err, sizeof err) != 0) {
    ws_close(w);
    return;
  }
  store_runs_reap(st, store_pid_alive);
  store_run *runs = NULL;
  uint32_t n_runs = 0;
  if (store_run_list(st, 100, &runs, &n_runs) == 0)
    for (uint32_t r = 0; r < n_runs; r++) {
      if (strcmp(runs[r].status, "running") != 0 ||
          strcmp(runs[r].pipeline, p->name) != 0)
        continue;
      store_node_run *nr = NULL;
      uint32_t n = 0;
      if (store_node_run_list(st, runs[r].id, &nr, &n) != 0)
        continue;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t node = pipec_pipeline_node(p, nr[i].node);
        if (strcmp(nr[i].status, "running") != 0 || node == PIPEC_NONE)
          continue;
        uint32_t t = p->nodes[node].target;
        char gpus[128];
        quota_take(&q[t], &p->nodes[node].resources, gpus, sizeof gpus);
        running[t]++;
      }
      store_node_runs_free(nr, n);
    }
  store_runs_free(runs, n_runs);
  store_close(st);
  ws_close(w);
}

static uint32_t gpus_used(const quota *q) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < q->n_gpus; i++)
    n += q->gpu_busy[i];
  return n;
}

/* "2 nodes, cpus 2/4, slots 2/8": what a target's running nodes hold,
 * against its quota; "-" when nothing runs there. */
static void format_use(const quota *q, uint32_t running, char *buf,
                       size_t len) {
  if (!running) {
    snprintf(buf, len, "-");
    return;
  }
  size_t w = (size_t)snprintf(buf, len, "%u node%s", running,
                              running == 1 ? "" : "s");
#define ADD(...)                                                             \
  if (w < len)                                                               \
  w += (size_t)snprintf(buf + w, len - w, __VA_ARGS__)
  if (q->cpus)
    ADD(", cpus %lld/%lld", (long long)q->used_cpus, (long long)q->cpus);
  if (q->memory)
    ADD(", memory %lld/%lld", (long long)q->used_memory,
        (long long)q->memory);
  if (q->gpus_limited)
    ADD(", gpus %u/%u", gpus_used(q), q->n_gpus);
  if (q->slots)
    ADD(", slots %lld/%lld", (long long)q->used_slots, (long long)q->slots);
#undef ADD
}

static void json_use(pipec_json *j, const quota *q, uint32_t running) {
  pipec_json_key(j, "running");
  pipec_json_int(j, running);
  pipec_json_key(j, "in_use");
  pipec_json_obj(j);
  pipec_json_key(j, "cpus");
  pipec_json_int(j, q->used_cpus);
  pipec_json_key(j, "memory");
  pipec_json_int(j, q->used_memory);
  pipec_json_key(j, "gpus");
  pipec_json_int(j, gpus_used(q));
  pipec_json_key(j, "slots");
  pipec_json_int(j, q->used_slots);
  pipec_json_end(j);
}

int cmd_targets(int argc, char **argv) {
  if (cli_wants_help("targets", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"json", 0, false, 1}, {0}};
  const char *file = NULL;
  bool json = false;
  cli_args it;
  cli_args_init(&it, "targets", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      json = true;
    else if (!file)
      file = it.value;
    else
      return cli_usage_error("targets", "one FILE only");
  }
  if (!file)
    return cli_usage_error("targets", "missing FILE");
  pipec_pipeline *p = cli_compile(file, NULL, 0, NULL);
  if (!p)
    return CLI_USAGE;
  quota *q = calloc(p->n_targets, sizeof *q);
  uint32_t *running = calloc(p->n_targets, sizeof *running);
  if (!q || !running)
    abort();
  for (uint32_t t = 0; t < p->n_targets; t++)
    quota_init(&q[t], tgt_kinds_find(tgt_builtin_kinds(), p->targets[t].kind),
               &p->targets[t]);
  in_use(p, q, running);
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, true);
    pipec_json_arr(&j);
  } else {
    printf("%-12s %-6s %5s  %-32s %s\n", "TARGET", "KIND", "NODES", "IN USE",
           "OPTIONS");
  }
  for (uint32_t t = 0; t < p->n_targets; t++) {
    const pipec_target *tg = &p->targets[t];
    uint32_t nodes = 0;
    for (uint32_t i = 0; i < p->n_nodes; i++)
      nodes += p->nodes[i].target == t;
    if (json) {
      pipec_json_obj(&j);
      pipec_json_key(&j, "name");
      pipec_json_str(&j, tg->name);
      pipec_json_key(&j, "kind");
      pipec_json_str(&j, tg->kind);
      pipec_json_key(&j, "nodes");
      pipec_json_int(&j, nodes);
      pipec_json_key(&j, "options");
      pipec_json_obj(&j);
      for (uint32_t k = 0; k < tg->n_opts; k++) {
        pipec_json_key(&j, tg->opts[k].key);
        pipec_value_json(&j, &tg->opts[k].value);
      }
      pipec_json_end(&j);
      json_use(&j, &q[t], running[t]);
      pipec_json_end(&j);
      continue;
    }
    printf("%-12s %-6s %5u  ", tg->name, tg->kind, nodes);
    char use[256];
    format_use(&q[t], running[t], use, sizeof use);
    printf("%-32s ", use);
    for (uint32_t k = 0; k < tg->n_opts; k++) {
      printf("%s%s=", k ? " " : "", tg->opts[k].key);
      pipec_value_print(&tg->opts[k].value, stdout);
    }
    printf("%s\n", tg->n_opts ? "" : "(no quota)");
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
    putchar('\n');
  }
  free(q);
  free(running);
  pipec_pipeline_free(p);
  return CLI_OK;
}
