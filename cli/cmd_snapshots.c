/*
 * cmd_snapshots.c — `pipec snapshots`, `pipec diff`, `pipec rollback`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipec/json.h"
#include "pipec/stdlib.h"
#include "snapshot.h"

static int64_t parse_snap(const char *cmd, const char *arg) {
  char *end;
  errno = 0;
  long long v = strtoll(arg, &end, 10);
  if (!*arg || *end || errno || v <= 0) {
    cli_usage_error(cmd, "'%s' is not a snapshot id (see pipec snapshots)",
                    arg);
    return 0;
  }
  return v;
}

int cmd_snapshots(int argc, char **argv) {
  if (cli_wants_help("snapshots", argc, argv))
    return CLI_OK;
  bool json = false;
  const char *file = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = true;
    else if (argv[i][0] == '-')
      return cli_usage_error("snapshots", "unknown option '%s'", argv[i]);
    else if (!file)
      file = argv[i];
    else
      return cli_usage_error("snapshots", "unexpected '%s'", argv[i]);
  }
  ws *w;
  store *st;
  if (cli_open_workspace("snapshots", &w, &st) != 0)
    return CLI_USAGE;
  int64_t pipeline = 0;
  if (file) {
    char abs[PATH_MAX];
    const char *rel = file;
    size_t n = strlen(ws_root(w));
    if (realpath(file, abs) && strncmp(abs, ws_root(w), n) == 0 &&
        abs[n] == '/')
      rel = abs + n + 1;
    if (store_pipeline_find(st, rel, &pipeline) != 1) {
      fprintf(stderr, "pipec snapshots: %s has never run in this "
                      "workspace\n", file);
      cli_close_workspace(w, st);
      return CLI_USAGE;
    }
  }
  store_snapshot *snaps;
  uint32_t n;
  if (store_snapshot_list(st, pipeline, 1000, &snaps, &n) != 0) {
    fprintf(stderr, "pipec snapshots: %s\n", store_errmsg(st));
    cli_close_workspace(w, st);
    return CLI_FAILED;
  }
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, false);
    pipec_json_arr(&j);
  } else {
    printf("%-5s %-16s %-19s %-16s %-5s %s\n", "SNAP", "PIPELINE", "CREATED",
           "MODE", "RUN", "PARAMS / SELECTION");
  }
  for (uint32_t i = 0; i < n; i++) {
    store_snapshot *s = &snaps[i];
    char created[32], run[24] = "-";
    cli_time(s->created_ms, created, sizeof created);
    if (s->last_run)
      snprintf(run, sizeof run, "%lld", (long long)s->last_run);
    char *ov = snap_overrides_text(s->params);
    if (json) {
      pipec_json_obj(&j);
      pipec_json_key(&j, "snapshot");
      pipec_json_int(&j, s->id);
      pipec_json_key(&j, "pipeline");
      pipec_json_str(&j, s->pipeline);
      pipec_json_key(&j, "file");
      pipec_json_str(&j, s->main_path);
      pipec_json_key(&j, "created");
      pipec_json_int(&j, s->created_ms);
      pipec_json_key(&j, "mode");
      pipec_json_str(&j, s->mode);
      pipec_json_key(&j, "overrides");
      pipec_json_str(&j, ov);
      pipec_json_key(&j, "selection");
      pipec_json_str(&j, s->selection);
      cli_json_int_or_null(&j, "run", s->last_run, s->last_run != 0);
      pipec_json_end(&j);
    } else {
      bool full = strcmp(s->mode, "full") == 0 ||
                  strcmp(s->mode, "before-rollback") == 0;
      printf("%-5lld %-16s %-19s %-16s %-5s %s%s%s\n", (long long)s->id,
             s->pipeline, created, s->mode, run, ov ? ov : "",
             !full && ov && *ov ? " " : "", full ? "" : s->selection);
    }
    free(ov);
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
    putchar('\n');
  } else if (!n) {
    printf("(no snapshots yet: every pipec run records one)\n");
  }
  store_snapshots_free(snaps, n);
  cli_close_workspace(w, st);
  return CLI_OK;
}

int cmd_diff(int argc, char **argv) {
  if (cli_wants_help("diff", argc, argv))
    return CLI_OK;
  if (argc != 3)
    return cli_usage_error("diff", "expected SNAP_A SNAP_B");
  int64_t a = parse_snap("diff", argv[1]), b = parse_snap("diff", argv[2]);
  if (!a || !b)
    return CLI_USAGE;
  ws *w;
  store *st;
  if (cli_open_workspace("diff", &w, &st) != 0)
    return CLI_USAGE;
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_diags d;
  pipec_diags_init(&d);
  char err[512] = "";
  int rc = CLI_USAGE;
  pipec_pipeline *pa = snap_compile(st, a, ws_root(w), &reg, &d, err,
                                    sizeof err);
  pipec_pipeline *pb = pa ? snap_compile(st, b, ws_root(w), &reg, &d, err,
                                         sizeof err)
                          : NULL;
  if (!pa || !pb) {
    pipec_diags_print(&d, stderr, false);
    fprintf(stderr, "pipec diff: %s\n", err);
  } else {
    if (strcmp(pa->name, pb->name) != 0)
      printf("pipeline %s -> %s\n", pa->name, pb->name);
    int k = snap_diff(pa, pb, stdout);
    if (k == 0)
      printf("snapshots %lld and %lld run the same pipeline\n",
             (long long)a, (long long)b);
    rc = CLI_OK;
  }
  pipec_pipeline_free(pa);
  pipec_pipeline_free(pb);
  pipec_diags_free(&d);
  cli_close_workspace(w, st);
  return rc;
}

int cmd_rollback(int argc, char **argv) {
  if (cli_wants_help("rollback", argc, argv))
    return CLI_OK;
  bool dry = false;
  const char *snap = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
      dry = true;
    else if (!snap)
      snap = argv[i];
    else
      return cli_usage_error("rollback", "unexpected '%s'", argv[i]);
  }
  if (!snap)
    return cli_usage_error("rollback", "expected SNAP");
  int64_t id = parse_snap("rollback", snap);
  if (!id)
    return CLI_USAGE;
  ws *w;
  store *st;
  if (cli_open_workspace("rollback", &w, &st) != 0)
    return CLI_USAGE;
  char err[1024] = "";
  int64_t saved = 0;
  int k = snap_rollback(w, st, id, dry, stdout, &saved, err, sizeof err);
  if (k < 0)
    fprintf(stderr, "pipec rollback: %s\n", err);
  else if (dry)
    printf("%d file%s would change (dry run: nothing was written)\n", k,
           k == 1 ? "" : "s");
  cli_close_workspace(w, st);
  return k < 0 ? CLI_FAILED : CLI_OK;
}
