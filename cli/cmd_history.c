/*
 * cmd_history.c — the workspace's history: `pipec runs`, `pipec show`,
 * `pipec logs` and `pipec cat`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "units.h"
#include "pipec/json.h"

int cli_open_workspace(const char *cmd, const char *file, pipec_ws **w) {
  pipec_error err;
  pipec_ws_opts o = {.file = file};
  if (pipec_ws_open(&o, w, &err) != 0) {
    fprintf(stderr, "pipec %s: %s\n", cmd, err.msg);
    return CLI_USAGE;
  }
  /* a killed run is not "running"; a damaged database shows here first */
  if (pipec_ws_check(*w, &err) != 0) {
    fprintf(stderr, "pipec %s: %s\n", cmd, err.msg);
    pipec_ws_close(*w);
    *w = NULL;
    return CLI_WORKSPACE;
  }
  return 0;
}

int cli_api_error(const char *cmd, const pipec_error *err, int other) {
  fprintf(stderr, "pipec %s: %s\n", cmd, err->msg);
  return err->code == PIPEC_E_WORKSPACE ? CLI_WORKSPACE
         : err->code == PIPEC_E_USAGE   ? CLI_USAGE
                                        : other;
}

int64_t cli_run_id(const char *cmd, pipec_ws *w, const char *arg) {
  int64_t id;
  pipec_error err;
  if (strcmp(arg, "last") == 0) {
    pipec_run_info *r = NULL;
    uint32_t n = 0;
    if (pipec_runs(w, 1, &r, &n, &err) != 0)
      return cli_api_error(cmd, &err, CLI_WORKSPACE), -1;
    id = n ? r[0].id : 0;
    pipec_run_infos_free(r, n);
    if (!id)
      fprintf(stderr, "pipec %s: no run yet\n", cmd);
    return id;
  }
  if (cli_parse_int(arg, 1, INT64_MAX, &id) != 0) {
    fprintf(stderr, "pipec %s: '%s' is not a run (a number, or 'last')\n",
            cmd, arg);
    return 0;
  }
  pipec_run_info r;
  int found = pipec_run_get(w, id, &r, &err);
  pipec_run_info_free(&r);
  if (found < 0)
    return cli_api_error(cmd, &err, CLI_WORKSPACE), -1;
  if (found == 0)
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
static void run_json_fields(pipec_json *j, const pipec_run_info *r) {
  pipec_json_key(j, "run");
  pipec_json_int(j, r->id);
  pipec_json_key(j, "pipeline");
  pipec_json_str(j, r->pipeline);
  pipec_json_key(j, "snapshot");
  pipec_json_int(j, r->snapshot);
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
  pipec_ws *w;
  int rc = cli_open_workspace("runs", NULL, &w);
  if (rc != 0)
    return rc;
  pipec_run_info *runs;
  uint32_t n;
  pipec_error err;
  if (pipec_runs(w, (uint32_t)limit, &runs, &n, &err) != 0) {
    rc = cli_api_error("runs", &err, CLI_WORKSPACE);
    pipec_ws_close(w);
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
    const pipec_run_info *r = &runs[i];
    char started[32], dur[32];
    cli_time(r->started_ms, started, sizeof started);
    duration(r->started_ms, r->ended_ms, dur, sizeof dur);
    if (!json) {
      printf("%-5lld %-16s %-10s %-19s %8s %5u %6u %6u %5lld\n",
             (long long)r->id, r->pipeline, r->status, started, dur, r->ran,
             r->cached, r->failed, (long long)r->snapshot);
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
  pipec_run_infos_free(runs, n);
  pipec_ws_close(w);
  return CLI_OK;
}

static void node_json(pipec_json *j, const pipec_node_info *nr) {
  pipec_json_obj(j);
  pipec_json_key(j, "name");
  pipec_json_str(j, nr->name);
  pipec_json_key(j, "component");
  pipec_json_str(j, nr->component);
  pipec_json_key(j, "status");
  pipec_json_str(j, nr->status);
  pipec_json_key(j, "cache_key");
  pipec_json_str(j, nr->cache_key);
  pipec_json_key(j, "cache_hit");
  pipec_json_bool(j, nr->cache_hit);
  pipec_json_key(j, "shared");
  pipec_json_str(j, nr->shared);
  pipec_json_key(j, "reason");
  pipec_json_str(j, nr->reason);
  pipec_json_key(j, "target");
  pipec_json_str(j, nr->target);
  pipec_json_key(j, "job");
  pipec_json_str(j, nr->job);
  pipec_json_key(j, "attempts");
  pipec_json_int(j, nr->attempts);
  cli_json_int_or_null(j, "exit_code", nr->exit_code, nr->exit_code >= 0);
  cli_json_int_or_null(j, "started", nr->started_ms, nr->started_ms != 0);
  cli_json_int_or_null(j, "finished", nr->ended_ms, nr->ended_ms != 0);
  pipec_json_key(j, "message");
  pipec_json_str(j, nr->message);
  pipec_json_key(j, "log");
  pipec_json_str(j, nr->log);
  pipec_json_key(j, "image");
  pipec_json_str(j, nr->image);
  pipec_json_key(j, "image_id");
  pipec_json_str(j, nr->image_id);
  cli_json_int_or_null(j, "memory", nr->memory, nr->memory > 0);
  cli_json_int_or_null(j, "peak_memory", nr->peak_memory,
                       nr->peak_memory > 0);
  cli_json_int_or_null(j, "suggested_memory", nr->advice_memory,
                       nr->advice_memory > 0);
  pipec_json_end(j);
}

/* The images the run's nodes ran in, once each: "image REF  ID  (nodes)". */
static void print_images(const pipec_node_info *nrs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (!nrs[i].image)
      continue;
    bool seen = false;
    for (uint32_t k = 0; k < i && !seen; k++)
      seen = nrs[k].image && strcmp(nrs[k].image, nrs[i].image) == 0 &&
             (nrs[k].image_id ? nrs[i].image_id &&
                                    strcmp(nrs[k].image_id,
                                           nrs[i].image_id) == 0
                              : !nrs[i].image_id);
    if (seen)
      continue;
    uint32_t users = 0;
    for (uint32_t k = i; k < n; k++)
      users += nrs[k].image && strcmp(nrs[k].image, nrs[i].image) == 0;
    printf("image %s  %s  (%u node%s, first %s)\n", nrs[i].image,
           nrs[i].image_id ? nrs[i].image_id : "(not found)", users,
           users == 1 ? "" : "s", nrs[i].name);
  }
}

/* "151M/200M" (peak, of what it asked), "151M", "-". */
static void memory_text(const pipec_node_info *nr, char *buf, size_t len) {
  char peak[32] = "-", asked[32];
  if (nr->peak_memory > 0)
    units_size_text(nr->peak_memory, peak, sizeof peak);
  if (nr->memory > 0) {
    units_size_text(nr->memory, asked, sizeof asked);
    snprintf(buf, len, "%s/%s", peak, asked);
  } else {
    snprintf(buf, len, "%s", peak);
  }
}

/* After the table: the nodes whose peak was far from what they asked. */
static void print_memory_advice(const pipec_node_info *nrs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    const pipec_node_info *nr = &nrs[i];
    if (nr->advice_memory <= 0)
      continue;
    char peak[32], asked[32], want[32];
    units_size_text(nr->peak_memory, peak, sizeof peak);
    units_size_text(nr->memory, asked, sizeof asked);
    units_size_text(nr->advice_memory, want, sizeof want);
    printf("memory: %s peaked at %s %s its memory = \"%s\": ask for "
           "memory = \"%s\"\n",
           nr->name, peak, nr->peak_memory > nr->memory ? "over" : "of",
           asked, want);
  }
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

/* ---- families in `pipec show` -------------------------------------------
 * A family's members (nodes named NAME[KEY]) are one row once a run has
 * more than SHOW_GROUP_AT of them, with their counts per status; the ones
 * that failed or were cancelled still get rows of their own. --members
 * lists every member. */

#define SHOW_GROUP_AT 10

/* The family part of a member's name ("aligned" of "aligned[A]"), as a
 * length, or 0 for a plain node. */
static size_t family_len(const char *name) {
  const char *b = strchr(name, '[');
  size_t n = strlen(name);
  return b && n > 2 && name[n - 1] == ']' ? (size_t)(b - name) : 0;
}

typedef struct fam_row {
  const char *name;            /* the first member's name (its prefix) */
  size_t len;
  uint32_t count, per[6];      /* succeeded cached failed skipped cancelled
                                  other */
  bool printed;
} fam_row;

static int status_slot(const char *st) {
  static const char *const names[] = {"succeeded", "cached", "failed",
                                      "skipped", "cancelled"};
  for (int i = 0; i < 5; i++)
    if (strcmp(st, names[i]) == 0)
      return i;
  return 5;
}

/* The families of the run's nodes (linear: a family's members are
 * recorded side by side, or nearly: a small table of open rows). */
static fam_row *family_rows(const pipec_node_info *nrs, uint32_t n,
                            uint32_t *n_rows, uint32_t *row_of) {
  fam_row *rows = NULL;
  uint32_t nr = 0, cap = 0;
  for (uint32_t i = 0; i < n; i++) {
    size_t len = family_len(nrs[i].name);
    row_of[i] = UINT32_MAX;
    if (!len)
      continue;
    uint32_t r = nr;
    for (uint32_t k = nr; k-- > 0 && nr - k <= 64;)
      if (rows[k].len == len && memcmp(rows[k].name, nrs[i].name, len) == 0) {
        r = k;
        break;
      }
    if (r == nr) {
      if (nr == cap) {
        cap = cap ? cap * 2 : 16;
        rows = realloc(rows, cap * sizeof *rows);
        if (!rows)
          abort();
      }
      rows[nr++] = (fam_row){.name = nrs[i].name, .len = len};
    }
    rows[r].count++;
    rows[r].per[status_slot(nrs[i].status)]++;
    row_of[i] = r;
  }
  *n_rows = nr;
  return rows;
}

static void print_family_row(const fam_row *f) {
  static const char *const names[] = {"succeeded", "cached", "failed",
                                      "skipped", "cancelled", "other"};
  char name[64], what[256];
  snprintf(name, sizeof name, "%.*s[*]", (int)f->len, f->name);
  size_t w = (size_t)snprintf(what, sizeof what, "%u members:", f->count);
  for (int i = 0; i < 6 && w < sizeof what; i++)
    if (f->per[i])
      w += (size_t)snprintf(what + w, sizeof what - w, " %u %s", f->per[i],
                            names[i]);
  printf("%-16s %-10s %-10s %-10s %3s %4s %8s %11s  %s\n", name,
         f->per[2] || f->per[4] ? "partial" : "done", "-", "-", "-", "-", "-",
         "-", what);
}

int cmd_show(int argc, char **argv) {
  if (cli_wants_help("show", argc, argv))
    return CLI_OK;
  bool json = false, members = false;
  const char *run_arg = NULL;
  static const cli_opt opts[] = {{"json", 0, false, 1},
                                 {"members", 0, false, 2}, {0}};
  cli_args it;
  cli_args_init(&it, "show", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      json = true;
    else if (k == 2)
      members = true;
    else if (!run_arg)
      run_arg = it.value;
    else
      return cli_usage_error("show", "unexpected '%s'", it.value);
  }
  int rc;
  pipec_ws *w;
  if ((rc = cli_open_workspace("show", NULL, &w)) != 0)
    return rc;
  int64_t id = cli_run_id("show", w, run_arg ? run_arg : "last");
  pipec_run_info r = {0};
  pipec_node_info *nrs = NULL;
  uint32_t n = 0;
  pipec_error err = {0};
  if (id <= 0) {
    pipec_ws_close(w);
    return id < 0 ? CLI_WORKSPACE : CLI_USAGE;
  }
  if (pipec_run_get(w, id, &r, &err) != 1 ||
      pipec_run_nodes(w, id, &nrs, &n, &err) != 0) {
    rc = cli_api_error("show", &err, CLI_WORKSPACE);
    pipec_run_info_free(&r);
    pipec_ws_close(w);
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
           (long long)r.id, r.pipeline, (long long)r.snapshot, r.status,
           started, dur);
    printf("%-16s %-10s %-10s %-10s %3s %4s %8s %11s  %s\n", "NODE",
           "STATUS", "TARGET", "JOB", "TRY", "EXIT", "TIME", "MEMORY", "WHY");
    uint32_t *row_of = calloc(n + 1, sizeof *row_of), n_rows = 0;
    fam_row *rows = row_of && !members ? family_rows(nrs, n, &n_rows, row_of)
                                       : NULL;
    for (uint32_t i = 0; i < n; i++) {
      const pipec_node_info *nr = &nrs[i];
      fam_row *f = rows && row_of[i] != UINT32_MAX ? &rows[row_of[i]] : NULL;
      if (f && f->count > SHOW_GROUP_AT) {
        if (!f->printed)
          print_family_row(f);
        f->printed = true;
        int slot = status_slot(nr->status);
        if (slot != 2 && slot != 4) /* its failures still show */
          continue;
      }
      char ec[16] = "-";
      if (nr->exit_code >= 0)
        snprintf(ec, sizeof ec, "%d", nr->exit_code);
      duration(nr->started_ms, nr->ended_ms, dur, sizeof dur);
      char from[160];
      if (nr->shared)
        snprintf(from, sizeof from, "cached (shared: %s)", nr->shared);
      const char *why = nr->message && strcmp(nr->status, "succeeded") != 0
                            ? nr->message
                            : nr->shared    ? from
                            : nr->cache_hit ? "cache hit"
                            : nr->reason ? nr->reason : "";
      char mem[64];
      memory_text(nr, mem, sizeof mem);
      printf("%-16s %-10s %-10s %-10s %3d %4s %8s %11s  %s\n", nr->name,
             nr->status, nr->target ? nr->target : "-",
             nr->job ? nr->job : "-", nr->attempts, ec,
             nr->cache_hit ? "-" : dur, nr->cache_hit ? "-" : mem, why);
    }
    free(rows);
    free(row_of);
    print_images(nrs, n);
    print_memory_advice(nrs, n);
  }
  pipec_node_infos_free(nrs, n);
  pipec_run_info_free(&r);
  pipec_ws_close(w);
  return CLI_OK;
}

/* The node run of `node` in run id, or NULL (message printed). */
static const pipec_node_info *find_node_run(const char *cmd,
                                            const pipec_node_info *nrs,
                                            uint32_t n, const char *node,
                                            int64_t run) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(nrs[i].name, node) == 0)
      return &nrs[i];
  fprintf(stderr, "pipec %s: run %lld has no node '%s'\n", cmd,
          (long long)run, node);
  const char **names = calloc(n + 1, sizeof *names);
  for (uint32_t i = 0; names && i < n; i++)
    names[i] = nrs[i].name;
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
static int64_t default_run(const char *cmd, pipec_ws *w, const char *node,
                           pipec_node_want want) {
  int64_t id = 0;
  pipec_error err;
  int found = pipec_node_last_run(w, node, want, &id, NULL, &err);
  if (found < 0) {
    fprintf(stderr, "pipec %s: %s\n", cmd, err.msg);
    return 0;
  }
  if (found == 0) {
    int64_t any = 0;
    if (want != PIPEC_NODE_ANY &&
        pipec_node_last_run(w, node, PIPEC_NODE_ANY, &any, NULL, &err) == 1) {
      fprintf(stderr, "pipec %s: node '%s' has not run in any run (in run "
                      "%lld it was cached or skipped)\n",
              cmd, node, (long long)any);
      return 0;
    }
    fprintf(stderr, "pipec %s: no run has a node '%s'\n", cmd, node);
    char **names = NULL;
    uint32_t n = 0;
    if (pipec_node_names(w, 100000, &names, &n, &err) == 0)
      cli_suggest(node, (const char *const *)names, n);
    pipec_strings_free(names, n);
    return 0;
  }
  pipec_run_info r;
  if (pipec_run_get(w, id, &r, &err) == 1)
    fprintf(stderr, "pipec: node '%s' of run %lld (pipeline %s)\n", node,
            (long long)id, r.pipeline);
  pipec_run_info_free(&r);
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
  pipec_ws *w;
  if ((rc = cli_open_workspace("logs", NULL, &w)) != 0)
    return rc;
  rc = CLI_USAGE;
  int64_t id = ops[1] ? cli_run_id("logs", w, ops[0])
                      : default_run("logs", w, node, PIPEC_NODE_RAN);
  if (id < 0)
    rc = CLI_WORKSPACE;
  pipec_node_info *nrs = NULL;
  uint32_t n = 0;
  pipec_error err;
  if (id > 0 && pipec_run_nodes(w, id, &nrs, &n, &err) != 0)
    rc = cli_api_error("logs", &err, CLI_WORKSPACE);
  else if (id > 0) {
    const pipec_node_info *nr = find_node_run("logs", nrs, n, node, id);
    if (nr && (!nr->log || !*nr->log)) {
      fprintf(stderr, "pipec logs: node '%s' did not run in run %lld (%s)\n",
              node, (long long)id, nr->status);
    } else if (nr) {
      FILE *f = fopen(nr->log, "rb");
      if (!f && errno == ENOENT) {
        rc = CLI_OK; /* it printed nothing: no log file was made */
      } else if (!f) {
        fprintf(stderr, "pipec logs: %s: %s\n", nr->log, strerror(errno));
        rc = CLI_FAILED;
      } else {
        rc = copy_file(f, stdout) == 0 ? CLI_OK : CLI_FAILED;
        fclose(f);
      }
    }
  }
  pipec_node_infos_free(nrs, n);
  pipec_ws_close(w);
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
static const pipec_output_info *find_port(const char *node, const char *port,
                                          const pipec_output_info *outs,
                                          uint32_t n) {
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

/* Print a stored output, once it is known intact (pipec_output_open: its
 * stat as recorded, or re-hashed; a damaged object is removed with the
 * cache entries naming it, and not printed). */
static int serve_object(pipec_ws *w, const char *node,
                        const pipec_output_info *o) {
  int fd;
  pipec_error err;
  if (pipec_output_open(w, o->hash, &fd, &err) != 0) {
    switch (err.code) {
    case PIPEC_E_GONE:
      fprintf(stderr, "pipec cat: %s.%s is no longer in the store; run the "
                      "pipeline again\n", node, o->port);
      return CLI_FAILED;
    case PIPEC_E_DAMAGED:
      fprintf(stderr, "pipec cat: %s.%s is damaged in the store (%s); it "
                      "was removed, and the node that made it runs again on "
                      "the next run\n", node, o->port, err.msg);
      return CLI_FAILED;
    case PIPEC_E_AGAIN:
      fprintf(stderr, "pipec cat: %s.%s changed while it was being read; "
                      "try again\n", node, o->port);
      return CLI_FAILED;
    case PIPEC_E_WORKSPACE:
      return cli_api_error("cat", &err, CLI_WORKSPACE);
    default:
      fprintf(stderr, "pipec cat: %s.%s: %s\n", node, o->port, err.msg);
      return CLI_FAILED;
    }
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
  pipec_ws *w;
  if ((rc = cli_open_workspace("cat", NULL, &w)) != 0) {
    free(node);
    return rc;
  }
  rc = CLI_USAGE;
  int64_t id = ops[1] ? cli_run_id("cat", w, ops[1])
                      : default_run("cat", w, node, PIPEC_NODE_ANY);
  pipec_node_info *nrs = NULL;
  uint32_t n = 0;
  pipec_output_info *outs = NULL;
  uint32_t n_outs = 0;
  pipec_error err;
  if (id < 0)
    rc = CLI_WORKSPACE;
  if (id <= 0)
    goto out;
  if (pipec_run_nodes(w, id, &nrs, &n, &err) != 0) {
    rc = cli_api_error("cat", &err, CLI_WORKSPACE);
    goto out;
  }
  const pipec_node_info *nr = find_node_run("cat", nrs, n, node, id);
  if (!nr)
    goto out;
  if (pipec_node_outputs(w, nr->id, &outs, &n_outs, &err) != 0) {
    rc = cli_api_error("cat", &err, CLI_WORKSPACE);
    goto out;
  }
  if (!n_outs) {
    fprintf(stderr, "pipec cat: node '%s' has no outputs in run %lld (%s)\n",
            node, (long long)id, nr->status);
    int64_t had = 0;
    if (pipec_node_last_run(w, node, PIPEC_NODE_HAS_OUTPUTS, &had, NULL,
                            &err) == 1 &&
        had != id)
      fprintf(stderr, "  its newest outputs are from run %lld: pipec cat %s "
                      "%lld\n",
              (long long)had, argv[1], (long long)had);
    goto out;
  }
  const pipec_output_info *o = find_port(node, port, outs, n_outs);
  if (!o)
    goto out;
  rc = serve_object(w, node, o);
out:
  pipec_output_infos_free(outs, n_outs);
  pipec_node_infos_free(nrs, n);
  pipec_ws_close(w);
  free(node);
  return rc;
}
