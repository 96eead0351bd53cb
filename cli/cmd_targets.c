/*
 * cmd_targets.c — `pipec targets FILE [--json]`: the pipeline's compute
 * targets, their kinds and options (quotas), how many nodes each runs,
 * while a run of this pipeline is going what it holds on each target, and
 * each target's container runtime (its version, from the hosts whose
 * nodes name an image); then the workspace's quota groups on those
 * targets and what every live run of the workspace holds of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "units.h"
#include "pipec/graph.h"
#include "pipec/json.h"

/* What live runs of p hold on each of its targets (pipec_targets_use)
 * and of each quota group (pipec_groups_use); no workspace, no run:
 * nothing is in use. */
static void in_use(const pipec_pipeline *p, pipec_target_use *use,
                   pipec_group_use *guse) {
  pipec_ws *w = NULL;
  pipec_ws_opts o = {.file = p->file};
  pipec_error err;
  if (pipec_ws_open(&o, &w, &err) != 0)
    w = NULL;
  pipec_targets_use(w, p, use, &err);
  if (pipec_groups_use(w, p, guse, &err) != 0)
    fprintf(stderr, "pipec targets: %s\n", err.msg);
  pipec_ws_close(w);
}

/* "2 nodes of 2 runs, cpus 2/2, memory 3G/8G, 1 waiting", "-". */
static void format_group_use(const pipec_quota *q, const pipec_group_use *u,
                             char *buf, size_t len) {
  if (!u->jobs && !u->waiting) {
    snprintf(buf, len, "-");
    return;
  }
  size_t w = (size_t)snprintf(buf, len, "%lld node%s of %u run%s",
                              (long long)u->jobs, u->jobs == 1 ? "" : "s",
                              u->runs, u->runs == 1 ? "" : "s");
#define ADD(...)                                                             \
  if (w < len)                                                               \
  w += (size_t)snprintf(buf + w, len - w, __VA_ARGS__)
  if (q->cpus >= 0)
    ADD(", cpus %lld/%lld", (long long)u->cpus, (long long)q->cpus);
  if (q->memory >= 0) {
    char a[32], b[32];
    units_size_text(u->memory, a, sizeof a);
    units_size_text(q->memory, b, sizeof b);
    ADD(", memory %s/%s", a, b);
  }
  if (q->gpus >= 0)
    ADD(", gpus %lld/%lld", (long long)u->gpus, (long long)q->gpus);
  if (q->jobs >= 0)
    ADD(", jobs %lld/%lld", (long long)u->jobs, (long long)q->jobs);
  if (u->waiting)
    ADD(", %u waiting", u->waiting);
#undef ADD
}

/* "cpus=2 memory=8G jobs=4", and " default" for a target's default. */
static void format_limits(const pipec_quota *q, char *buf, size_t len) {
  size_t w = 0;
  buf[0] = 0;
#define ADD(...)                                                             \
  if (w < len)                                                               \
  w += (size_t)snprintf(buf + w, len - w, __VA_ARGS__)
  if (q->cpus >= 0)
    ADD("%scpus=%lld", w ? " " : "", (long long)q->cpus);
  if (q->memory >= 0) {
    char m[32];
    units_size_text(q->memory, m, sizeof m);
    ADD("%smemory=%s", w ? " " : "", m);
  }
  if (q->gpus >= 0)
    ADD("%sgpus=%lld", w ? " " : "", (long long)q->gpus);
  if (q->jobs >= 0)
    ADD("%sjobs=%lld", w ? " " : "", (long long)q->jobs);
  if (q->is_default)
    ADD(" (default)");
#undef ADD
}

static void json_limit(pipec_json *j, const char *key, int64_t v) {
  pipec_json_key(j, key);
  if (v >= 0)
    pipec_json_int(j, v);
  else
    pipec_json_null(j);
}

/* The groups on target t, as JSON. */
static void json_groups(pipec_json *j, const pipec_pipeline *p, uint32_t t,
                        const pipec_group_use *guse) {
  pipec_json_key(j, "quota_groups");
  pipec_json_arr(j);
  for (uint32_t g = 0; g < p->n_quotas; g++) {
    const pipec_quota *q = &p->quotas[g];
    if (q->target != t)
      continue;
    const pipec_group_use *u = &guse[g];
    pipec_json_obj(j);
    pipec_json_key(j, "name");
    pipec_json_str(j, q->name);
    pipec_json_key(j, "default");
    pipec_json_bool(j, q->is_default);
    pipec_json_key(j, "limits");
    pipec_json_obj(j);
    json_limit(j, "cpus", q->cpus);
    json_limit(j, "memory", q->memory);
    json_limit(j, "gpus", q->gpus);
    json_limit(j, "jobs", q->jobs);
    pipec_json_end(j);
    pipec_json_key(j, "in_use");
    pipec_json_obj(j);
    pipec_json_key(j, "cpus");
    pipec_json_int(j, u->cpus);
    pipec_json_key(j, "memory");
    pipec_json_int(j, u->memory);
    pipec_json_key(j, "gpus");
    pipec_json_int(j, u->gpus);
    pipec_json_key(j, "jobs");
    pipec_json_int(j, u->jobs);
    pipec_json_key(j, "runs");
    pipec_json_int(j, u->runs);
    pipec_json_key(j, "waiting");
    pipec_json_int(j, u->waiting);
    pipec_json_end(j);
    pipec_json_end(j);
  }
  pipec_json_end(j);
}

/* "2 nodes, cpus 2/4, slots 2/8": what a target's running nodes hold,
 * against its quota; "-" when nothing runs there. */
static void format_use(const pipec_target_use *u, char *buf, size_t len) {
  if (!u->nodes) {
    snprintf(buf, len, "-");
    return;
  }
  size_t w = (size_t)snprintf(buf, len, "%u node%s", u->nodes,
                              u->nodes == 1 ? "" : "s");
#define ADD(...)                                                             \
  if (w < len)                                                               \
  w += (size_t)snprintf(buf + w, len - w, __VA_ARGS__)
  if (u->max_cpus)
    ADD(", cpus %lld/%lld", (long long)u->cpus, (long long)u->max_cpus);
  if (u->max_memory)
    ADD(", memory %lld/%lld", (long long)u->memory,
        (long long)u->max_memory);
  if (u->limits_gpus)
    ADD(", gpus %u/%u", (unsigned)u->gpus, (unsigned)u->max_gpus);
  if (u->max_slots)
    ADD(", slots %lld/%lld", (long long)u->slots, (long long)u->max_slots);
#undef ADD
}

/* "podman 4.3.1": the runtime and its version where a node has an image;
 * "podman (no images)" elsewhere (its host is not asked). */
static void runtime_text(const pipec_target_runtime *r, char *buf,
                         size_t len) {
  if (!r->probed) {
    snprintf(buf, len, "%s (no images)", r->name ? r->name : "-");
    return;
  }
  if (!r->version) {
    snprintf(buf, len, "%s (missing)", r->name);
    return;
  }
  /* "podman version 4.3.1", "Docker version 24.0.5, build ced0996": the
   * number */
  const char *v = strstr(r->version, "version ");
  v = v ? v + 8 : r->version;
  snprintf(buf, len, "%s %.*s", r->name, (int)strcspn(v, ", "), v);
}

static void json_use(pipec_json *j, const pipec_target_use *u) {
  pipec_json_key(j, "running");
  pipec_json_int(j, u->nodes);
  pipec_json_key(j, "in_use");
  pipec_json_obj(j);
  pipec_json_key(j, "cpus");
  pipec_json_int(j, u->cpus);
  pipec_json_key(j, "memory");
  pipec_json_int(j, u->memory);
  pipec_json_key(j, "gpus");
  pipec_json_int(j, u->gpus);
  pipec_json_key(j, "slots");
  pipec_json_int(j, u->slots);
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
  pipec_target_use *use = calloc(p->n_targets, sizeof *use);
  pipec_group_use *guse = calloc(p->n_quotas + 1, sizeof *guse);
  if (!use || !guse)
    abort();
  in_use(p, use, guse);
  pipec_target_runtime *rt = calloc(p->n_targets, sizeof *rt);
  pipec_error err;
  if (!rt)
    abort();
  if (pipec_target_runtimes(p, rt, &err) != 0)
    fprintf(stderr, "pipec targets: %s\n", err.msg);
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, true);
    pipec_json_arr(&j);
  } else {
    printf("%-12s %-6s %5s  %-32s %-28s %s\n", "TARGET", "KIND", "NODES",
           "IN USE", "RUNTIME", "OPTIONS");
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
      json_use(&j, &use[t]);
      pipec_json_key(&j, "runtime");
      pipec_json_obj(&j);
      pipec_json_key(&j, "name");
      pipec_json_str(&j, rt[t].name);
      pipec_json_key(&j, "path");
      pipec_json_str(&j, rt[t].path);
      pipec_json_key(&j, "version");
      pipec_json_str(&j, rt[t].version);
      pipec_json_key(&j, "error");
      pipec_json_str(&j, rt[t].error);
      pipec_json_key(&j, "probed");
      pipec_json_bool(&j, rt[t].probed);
      pipec_json_end(&j);
      json_groups(&j, p, t, guse);
      pipec_json_end(&j);
      continue;
    }
    printf("%-12s %-6s %5u  ", tg->name, tg->kind, nodes);
    char text[256];
    format_use(&use[t], text, sizeof text);
    printf("%-32s ", text);
    runtime_text(&rt[t], text, sizeof text);
    printf("%-28s ", text);
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
  } else {
    bool header = false;
    for (uint32_t g = 0; g < p->n_quotas; g++) {
      const pipec_quota *q = &p->quotas[g];
      if (q->target == PIPEC_NONE)
        continue; /* on a target of other pipelines */
      if (!header)
        printf("\n%-12s %-12s %-40s %s\n", "QUOTA GROUP", "TARGET",
               "IN USE (EVERY RUN)", "LIMITS");
      header = true;
      char text[256], lim[128];
      format_group_use(q, &guse[g], text, sizeof text);
      format_limits(q, lim, sizeof lim);
      printf("%-12s %-12s %-40s %s\n", q->name, q->target_name, text, lim);
    }
  }
  free(use);
  for (uint32_t t = 0; t < p->n_targets; t++)
    if (rt[t].error)
      fprintf(stderr, "pipec targets: target '%s': %s: %s\n",
              p->targets[t].name, rt[t].name, rt[t].error);
  pipec_target_runtimes_free(rt, p->n_targets);
  free(rt);
  free(guse);
  pipec_pipeline_free(p);
  return CLI_OK;
}
