/*
 * cmd_history.c — the workspace's history: `pipec runs`, `pipec show`,
 * `pipec logs` and `pipec cat`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "integrity.h"
#include "objstore.h"
#include "pipec/json.h"
#include "snapshot.h"
#include "store.h"
#include "workspace.h"

int cli_open_workspace(const char *cmd, ws **w, store **st) {
  return cli_open_workspace_for(cmd, NULL, w, st);
}

int cli_open_workspace_for(const char *cmd, const char *file, ws **w,
                           store **st) {
  char err[1024];
  *w = NULL;
  *st = NULL;
  if (ws_find(file, false, w, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "pipec %s: %s\n", cmd, err);
    return CLI_USAGE;
  }
  if (store_open(ws_db_path(*w), st, err, sizeof err) != 0) {
    fprintf(stderr, "pipec %s: %s\n", cmd, err);
    ws_close(*w);
    *w = NULL;
    return CLI_WORKSPACE;
  }
  /* a killed run is not "running"; a damaged database shows here first */
  if (store_runs_reap(*st, store_pid_alive) < 0 && store_damaged(*st)) {
    int rc = cli_store_error(cmd, *st);
    cli_close_workspace(*w, *st);
    *w = NULL;
    *st = NULL;
    return rc;
  }
  snap_clean_rollbacks(*st);
  return 0;
}

void cli_close_workspace(ws *w, store *st) {
  store_close(st);
  ws_close(w);
}

int cli_store_error(const char *cmd, store *st) {
  fprintf(stderr, "pipec %s: %s\n", cmd, store_errmsg(st));
  return CLI_WORKSPACE;
}

int64_t cli_run_id(const char *cmd, store *st, const char *arg) {
  int64_t id;
  if (strcmp(arg, "last") == 0) {
    id = store_run_last(st);
    if (id < 0)
      cli_store_error(cmd, st);
    else if (!id)
      fprintf(stderr, "pipec %s: no run yet\n", cmd);
    return id;
  }
  if (cli_parse_int(arg, 1, INT64_MAX, &id) != 0) {
    fprintf(stderr, "pipec %s: '%s' is not a run (a number, or 'last')\n",
            cmd, arg);
    return 0;
  }
  store_run r;
  int found = store_run_get(st, id, &r);
  if (found == 1)
    store_run_free(&r);
  else if (found < 0)
    return cli_store_error(cmd, st), -1;
  else
    fprintf(stderr, "pipec %s: no run %lld (pipec runs lists them)\n", cmd,
            (long long)id);
  return found == 1 ? id : 0;
}

void cli_time(int64_t ms, char *buf, size_t len) {
  if (ms <= 0) {
    snprintf(buf, len, "-");
    return;
  }
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void duration(int64_t from, int64_t to, char *buf, size_t len) {
  if (from <= 0 || to <= 0) {
    snprintf(buf, len, "-");
    return;
  }
  double s = (double)(to - from) / 1000.0;
  if (s < 60)
    snprintf(buf, len, "%.1fs", s);
  else if (s < 3600)
    snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
  else
    snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

void cli_json_int_or_null(pipec_json *j, const char *key, int64_t v,
                          bool present) {
  pipec_json_key(j, key);
  if (present)
    pipec_json_int(j, v);
  else
    pipec_json_null(j);
}

/* The fields `pipec runs --json` and `pipec show --json` share. */
static void run_json_fields(pipec_json *j, const store_run *r) {
  pipec_json_key(j, "run");
  pipec_json_int(j, r->id);
  pipec_json_key(j, "pipeline");
  pipec_json_str(j, r->pipeline);
  pipec_json_key(j, "snapshot");
  pipec_json_int(j, r->snapshot_id);
  pipec_json_key(j, "status");
  pipec_json_str(j, r->status);
  pipec_json_key(j, "started");
  pipec_json_int(j, r->started_ms);
  cli_json_int_or_null(j, "finished", r->ended_ms, r->ended_ms != 0);
}

int cmd_runs(int argc, char **argv) {
  if (cli_wants_help("runs", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"json", 0, false, 1},
                                 {"limit", 'n', true, 2},
                                 {0}};
  bool json = false;
  int64_t limit = 50;
  cli_args it;
  cli_args_init(&it, "runs", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      json = true;
    else if (k == 2) {
      if (cli_number("runs", it.opt, it.value, 1, UINT32_MAX, &limit) != 0)
        return CLI_USAGE;
    } else
      return cli_usage_error("runs", "unexpected '%s'", it.value);
  }
  ws *w;
  store *st;
  int rc = cli_open_workspace("runs", &w, &st);
  if (rc != 0)
    return rc;
  store_run *runs;
  uint32_t n;
  if (store_run_list(st, (uint32_t)limit, &runs, &n) != 0) {
    rc = cli_store_error("runs", st);
    cli_close_workspace(w, st);
    return rc;
  }
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, false);
    pipec_json_arr(&j);
  } else {
    printf("%-5s %-16s %-10s %-19s %8s %5s %6s %6s %5s\n", "RUN", "PIPELINE",
           "STATUS", "STARTED", "TIME", "RAN", "CACHED", "FAILED", "SNAP");
  }
  for (uint32_t i = 0; i < n; i++) {
    store_run *r = &runs[i];
    char started[32], dur[32];
    cli_time(r->started_ms, started, sizeof started);
    duration(r->started_ms, r->ended_ms, dur, sizeof dur);
    if (!json) {
      printf("%-5lld %-16s %-10s %-19s %8s %5u %6u %6u %5lld\n",
             (long long)r->id, r->pipeline, r->status, started, dur, r->ran,
             r->cached, r->failed, (long long)r->snapshot_id);
      continue;
    }
    pipec_json_obj(&j);
    run_json_fields(&j, r);
    pipec_json_key(&j, "ran");
    pipec_json_int(&j, r->ran);
    pipec_json_key(&j, "cached");
    pipec_json_int(&j, r->cached);
    pipec_json_key(&j, "failed");
    pipec_json_int(&j, r->failed);
    pipec_json_end(&j);
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
    putchar('\n');
  } else if (n == 0) {
    printf("(no runs yet)\n");
  }
  store_runs_free(runs, n);
  cli_close_workspace(w, st);
  return CLI_OK;
}

static void node_json(pipec_json *j, const store_node_run *nr) {
  pipec_json_obj(j);
  pipec_json_key(j, "name");
  pipec_json_str(j, nr->node);
  pipec_json_key(j, "component");
  pipec_json_str(j, nr->component);
  pipec_json_key(j, "status");
  pipec_json_str(j, nr->status);
  pipec_json_key(j, "cache_key");
  pipec_json_str(j, nr->cache_key);
  pipec_json_key(j, "cache_hit");
  pipec_json_bool(j, nr->cache_hit);
  pipec_json_key(j, "reason");
  pipec_json_str(j, nr->miss_reason);
  pipec_json_key(j, "target");
  pipec_json_str(j, nr->target);
  pipec_json_key(j, "job");
  pipec_json_str(j, nr->job_id);
  pipec_json_key(j, "attempts");
  pipec_json_int(j, nr->attempts);
  cli_json_int_or_null(j, "exit_code", nr->exit_code, nr->exit_code >= 0);
  cli_json_int_or_null(j, "started", nr->started_ms, nr->started_ms != 0);
  cli_json_int_or_null(j, "finished", nr->ended_ms, nr->ended_ms != 0);
  pipec_json_key(j, "message");
  pipec_json_str(j, nr->message);
  pipec_json_key(j, "log");
  pipec_json_str(j, nr->log_path);
  pipec_json_end(j);
}

/* [RUN] [--json]: the operands and flags of show. */
static int parse_run_json(const char *cmd, int argc, char **argv,
                          const char **run, bool *json) {
  static const cli_opt opts[] = {{"json", 0, false, 1}, {0}};
  cli_args it;
  cli_args_init(&it, cmd, argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      *json = true;
    else if (!*run)
      *run = it.value;
    else
      return cli_usage_error(cmd, "unexpected '%s'", it.value);
  }
  return 0;
}

/* The operands of a command without options, in order: at least min, at
 * most max of them. */
static int parse_operands(const char *cmd, int argc, char **argv,
                          const char **out, int min, int max,
                          const char *expected) {
  static const cli_opt none[] = {{0}};
  cli_args it;
  cli_args_init(&it, cmd, argc, argv, none);
  int n = 0;
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (n == max)
      return cli_usage_error(cmd, "unexpected '%s' (expected %s)", it.value,
                             expected);
    out[n++] = it.value;
  }
  if (n < min)
    return cli_usage_error(cmd, "expected %s", expected);
  return 0;
}

int cmd_show(int argc, char **argv) {
  if (cli_wants_help("show", argc, argv))
    return CLI_OK;
  bool json = false;
  const char *run_arg = NULL;
  int rc = parse_run_json("show", argc, argv, &run_arg, &json);
  if (rc != 0)
    return rc;
  ws *w;
  store *st;
  if ((rc = cli_open_workspace("show", &w, &st)) != 0)
    return rc;
  int64_t id = cli_run_id("show", st, run_arg ? run_arg : "last");
  store_run r;
  store_node_run *nrs = NULL;
  uint32_t n = 0;
  if (id <= 0) {
    cli_close_workspace(w, st);
    return id < 0 ? CLI_WORKSPACE : CLI_USAGE;
  }
  if (store_run_get(st, id, &r) != 1 ||
      store_node_run_list(st, id, &nrs, &n) != 0) {
    rc = cli_store_error("show", st);
    cli_close_workspace(w, st);
    return rc;
  }
  if (json) {
    pipec_json j;
    pipec_json_init(&j, stdout, true);
    pipec_json_obj(&j);
    run_json_fields(&j, &r);
    pipec_json_key(&j, "nodes");
    pipec_json_arr(&j);
    for (uint32_t i = 0; i < n; i++)
      node_json(&j, &nrs[i]);
    pipec_json_end(&j);
    pipec_json_end(&j);
    pipec_json_done(&j);
    putchar('\n');
  } else {
    char started[32], dur[32];
    cli_time(r.started_ms, started, sizeof started);
    duration(r.started_ms, r.ended_ms, dur, sizeof dur);
    printf("run %lld of %s (snapshot %lld): %s, started %s, %s\n",
           (long long)r.id, r.pipeline, (long long)r.snapshot_id, r.status,
           started, dur);
    printf("%-16s %-10s %-10s %-10s %3s %4s %8s  %s\n", "NODE", "STATUS",
           "TARGET", "JOB", "TRY", "EXIT", "TIME", "WHY");
    for (uint32_t i = 0; i < n; i++) {
      const store_node_run *nr = &nrs[i];
      char ec[16] = "-";
      if (nr->exit_code >= 0)
        snprintf(ec, sizeof ec, "%d", nr->exit_code);
      duration(nr->started_ms, nr->ended_ms, dur, sizeof dur);
      const char *why = nr->message && strcmp(nr->status, "succeeded") != 0
                            ? nr->message
                            : nr->cache_hit ? "cache hit"
                            : nr->miss_reason ? nr->miss_reason : "";
      printf("%-16s %-10s %-10s %-10s %3d %4s %8s  %s\n", nr->node,
             nr->status, nr->target ? nr->target : "-",
             nr->job_id ? nr->job_id : "-", nr->attempts, ec,
             nr->cache_hit ? "-" : dur, why);
    }
  }
  store_node_runs_free(nrs, n);
  store_run_free(&r);
  cli_close_workspace(w, st);
  return CLI_OK;
}

/* The node run of `node` in run id, or NULL (message printed). */
static const store_node_run *find_node_run(const char *cmd,
                                           const store_node_run *nrs,
                                           uint32_t n, const char *node,
                                           int64_t run) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(nrs[i].node, node) == 0)
      return &nrs[i];
  fprintf(stderr, "pipec %s: run %lld has no node '%s'\n", cmd,
          (long long)run, node);
  const char **names = calloc(n + 1, sizeof *names);
  for (uint32_t i = 0; names && i < n; i++)
    names[i] = nrs[i].node;
  if (names)
    cli_suggest(node, names, n);
  free(names);
  return NULL;
}

/* The run `pipec cat NODE` / `pipec logs NODE` mean without a RUN: the
 * newest one with a node run of `node` that `want` accepts (two pipelines
 * may share a workspace: the newest run need not have the node). Says which
 * on stderr, so stdout stays the bytes. 0 after printing why there is
 * none. */
static int64_t default_run(const char *cmd, store *st, const char *node,
                           store_nr_want want) {
  int64_t id = 0;
  int found = store_node_last_run(st, node, want, &id, NULL);
  if (found < 0) {
    fprintf(stderr, "pipec %s: %s\n", cmd, store_errmsg(st));
    return 0;
  }
  if (found == 0) {
    int64_t any = 0;
    if (want != STORE_NR_ANY &&
        store_node_last_run(st, node, STORE_NR_ANY, &any, NULL) == 1) {
      fprintf(stderr, "pipec %s: node '%s' has not run in any run (in run "
                      "%lld it was cached or skipped)\n",
              cmd, node, (long long)any);
      return 0;
    }
    fprintf(stderr, "pipec %s: no run has a node '%s'\n", cmd, node);
    char **names = NULL;
    uint32_t n = 0;
    if (store_node_names(st, 100000, &names, &n) == 0)
      cli_suggest(node, (const char *const *)names, n);
    for (uint32_t i = 0; i < n; i++)
      free(names[i]);
    free(names);
    return 0;
  }
  store_run r;
  if (store_run_get(st, id, &r) == 1) {
    fprintf(stderr, "pipec: node '%s' of run %lld (pipeline %s)\n", node,
            (long long)id, r.pipeline);
    store_run_free(&r);
  }
  return id;
}

static int copy_file(FILE *in, FILE *out) {
  char buf[65536];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, got, out) != got)
      return -1;
  return ferror(in) ? -1 : 0;
}

int cmd_logs(int argc, char **argv) {
  if (cli_wants_help("logs", argc, argv))
    return CLI_OK;
  const char *ops[2] = {0};
  int rc = parse_operands("logs", argc, argv, ops, 1, 2, "[RUN] NODE");
  if (rc != 0)
    return rc;
  const char *node = ops[1] ? ops[1] : ops[0];
  ws *w;
  store *st;
  if ((rc = cli_open_workspace("logs", &w, &st)) != 0)
    return rc;
  rc = CLI_USAGE;
  int64_t id = ops[1] ? cli_run_id("logs", st, ops[0])
                      : default_run("logs", st, node, STORE_NR_LOG);
  if (id < 0)
    rc = CLI_WORKSPACE;
  store_node_run *nrs = NULL;
  uint32_t n = 0;
  if (id > 0 && store_node_run_list(st, id, &nrs, &n) != 0)
    rc = cli_store_error("logs", st);
  else if (id > 0) {
    const store_node_run *nr = find_node_run("logs", nrs, n, node, id);
    if (nr && (!nr->log_path || !*nr->log_path)) {
      fprintf(stderr, "pipec logs: node '%s' did not run in run %lld (%s)\n",
              node, (long long)id, nr->status);
    } else if (nr) {
      FILE *f = fopen(nr->log_path, "rb");
      if (!f) {
        fprintf(stderr, "pipec logs: %s: %s\n", nr->log_path,
                strerror(errno));
        rc = CLI_FAILED;
      } else {
        rc = copy_file(f, stdout) == 0 ? CLI_OK : CLI_FAILED;
        fclose(f);
      }
    }
  }
  store_node_runs_free(nrs, n);
  cli_close_workspace(w, st);
  return rc;
}

/* NODE[.PORT] split in place: the port is what follows the last '.'
 * outside a family key ("model[1,0.1].model"); NULL if there is none. */
static char *split_port(char *spec) {
  char *dot = strrchr(spec, '.');
  if (!dot || strchr(dot, ']'))
    return NULL;
  *dot = 0;
  return dot + 1;
}

/* The output `port` of a node's outputs, or NULL after saying which ports
 * there are (and the nearest one). */
static const store_output *find_port(const char *node, const char *port,
                                     const store_output *outs, uint32_t n) {
  if (!port && n == 1)
    return &outs[0];
  for (uint32_t i = 0; port && i < n; i++)
    if (strcmp(outs[i].port, port) == 0)
      return &outs[i];
  if (!port) {
    fprintf(stderr, "pipec cat: node '%s' has outputs:", node);
    for (uint32_t i = 0; i < n; i++)
      fprintf(stderr, " %s.%s", node, outs[i].port);
    fprintf(stderr, "; say which one\n");
    return NULL;
  }
  fprintf(stderr, "pipec cat: node '%s' has no output '%s'\n", node, port);
  const char **names = calloc(n + 1, sizeof *names);
  for (uint32_t i = 0; names && i < n; i++)
    names[i] = outs[i].port;
  const char *best = names ? cli_nearest(port, names, n) : NULL;
  if (best) {
    fprintf(stderr, "  did you mean '%s'?\n", best);
  } else {
    fprintf(stderr, "  its outputs:");
    for (uint32_t i = 0; i < n; i++)
      fprintf(stderr, " %s", outs[i].port);
    fputc('\n', stderr);
  }
  free(names);
  return NULL;
}

/* Print a stored output, once it is known intact (integrity.h: its stat
 * as recorded, or re-hashed; a damaged object is removed with the cache
 * entries naming it, and not printed). */
static int serve_object(store *st, obj_store *objs, const char *node,
                        const store_output *o) {
  char why[512], path[PATH_MAX];
  hash_stat now;
  int v = integ_check(st, objs, &o->hash, o->has_st ? &o->st : NULL, false,
                      &now, NULL, why, sizeof why);
  if (v == -ENOENT) {
    fprintf(stderr, "pipec cat: %s.%s is no longer in the store; run the "
                    "pipeline again\n", node, o->port);
    return CLI_FAILED;
  }
  if (v > 0) {
    fprintf(stderr, "pipec cat: %s.%s is damaged in the store (%s); it was "
                    "removed, and the node that made it runs again on the "
                    "next run\n", node, o->port, why);
    return CLI_FAILED;
  }
  if (v < 0) {
    fprintf(stderr, "pipec cat: %s.%s: %s\n", node, o->port, why);
    return CLI_FAILED;
  }
  obj_path(objs, &o->hash, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat sb;
  hash_stat got = {0};
  if (fd >= 0 && fstat(fd, &sb) == 0)
    got = hash_stat_of(&sb);
  if (fd < 0 || !hash_stat_eq(&got, &now)) {
    fprintf(stderr, "pipec cat: %s.%s changed while it was being read; try "
                    "again\n", node, o->port);
    if (fd >= 0)
      close(fd);
    return CLI_FAILED;
  }
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    close(fd);
    return CLI_FAILED;
  }
  int rc = copy_file(f, stdout) == 0 ? CLI_OK : CLI_FAILED;
  fclose(f);
  return rc;
}

int cmd_cat(int argc, char **argv) {
  if (cli_wants_help("cat", argc, argv))
    return CLI_OK;
  const char *ops[2] = {0};
  int rc = parse_operands("cat", argc, argv, ops, 1, 2, "NODE[.PORT] [RUN]");
  if (rc != 0)
    return rc;
  char *node = strdup(ops[0]);
  if (!node)
    return CLI_FAILED;
  char *port = split_port(node);
  ws *w;
  store *st;
  if ((rc = cli_open_workspace("cat", &w, &st)) != 0) {
    free(node);
    return rc;
  }
  rc = CLI_USAGE;
  int64_t id = ops[1] ? cli_run_id("cat", st, ops[1])
                      : default_run("cat", st, node, STORE_NR_ANY);
  store_node_run *nrs = NULL;
  uint32_t n = 0;
  store_output *outs = NULL;
  uint32_t n_outs = 0;
  if (id < 0)
    rc = CLI_WORKSPACE;
  if (id <= 0)
    goto out;
  if (store_node_run_list(st, id, &nrs, &n) != 0) {
    rc = cli_store_error("cat", st);
    goto out;
  }
  const store_node_run *nr = find_node_run("cat", nrs, n, node, id);
  if (!nr)
    goto out;
  if (store_node_run_outputs(st, nr->id, &outs, &n_outs) != 0) {
    rc = cli_store_error("cat", st);
    goto out;
  }
  if (!n_outs) {
    fprintf(stderr, "pipec cat: node '%s' has no outputs in run %lld (%s)\n",
            node, (long long)id, nr->status);
    int64_t had = 0;
    if (store_node_last_run(st, node, STORE_NR_OUTPUTS, &had, NULL) == 1 &&
        had != id)
      fprintf(stderr, "  its newest outputs are from run %lld: pipec cat %s "
                      "%lld\n",
              (long long)had, argv[1], (long long)had);
    goto out;
  }
  const store_output *o = find_port(node, port, outs, n_outs);
  if (!o)
    goto out;
  obj_store *objs = NULL;
  char err[512];
  if (obj_open(ws_objects_dir(w), NULL, &objs, err, sizeof err) != 0) {
    fprintf(stderr, "pipec cat: %s\n", err);
    goto out;
  }
  rc = serve_object(st, objs, node, o);
  obj_close(objs);
out:
  store_outputs_free(outs, n_outs);
  store_node_runs_free(nrs, n);
  cli_close_workspace(w, st);
  free(node);
  return rc;
}
