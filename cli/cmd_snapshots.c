/*
 * cmd_snapshots.c — `pipec snapshots`, `pipec diff`, `pipec rollback`.
 */
#define _GNU_SOURCE /* asprintf, open_memstream */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipec/json.h"
#include "pipec/stdlib.h"
#include "snapshot.h"

/* How many names of a --nodes selection the listing shows. */
#define SHOWN_NODES 5

static int64_t parse_snap(const char *cmd, const char *arg) {
  int64_t v;
  if (cli_parse_int(arg, 1, INT64_MAX, &v) != 0) {
    cli_usage_error(cmd, "'%s' is not a snapshot id (see pipec snapshots)",
                    arg);
    return 0;
  }
  return v;
}

/* "-p a=1 -p b=2 --nodes x,y --force": what the run was given, as it
 * would be typed (a long --nodes list is cut short). malloc'd. */
static char *run_args_text(const store_snapshot *s, const store_override *ov,
                           uint32_t n_ov, const store_selection *sel) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  const char *sep = "";
  for (uint32_t i = 0; i < n_ov; i++, sep = " ")
    fprintf(f, "%s-p %s=%s", sep, ov[i].name, ov[i].value);
  if (sel->n_nodes == 1 && strcmp(s->mode, "node") == 0) {
    fprintf(f, "%s--node %s", sep, sel->nodes[0]);
    sep = " ";
  } else if (sel->n_nodes) {
    fprintf(f, "%s--nodes ", sep);
    for (uint32_t i = 0; i < sel->n_nodes && i < SHOWN_NODES; i++)
      fprintf(f, "%s%s", i ? "," : "", sel->nodes[i]);
    if (sel->n_nodes > SHOWN_NODES)
      fprintf(f, ",... (%u nodes)", sel->n_nodes);
    sep = " ";
  }
  if (sel->from) {
    fprintf(f, "%s--from %s", sep, sel->from);
    sep = " ";
  }
  if (sel->to) {
    fprintf(f, "%s--to %s", sep, sel->to);
    sep = " ";
  }
  if (sel->force)
    fprintf(f, "%s--force", sep);
  fclose(f);
  return buf;
}

static void snapshot_json(pipec_json *j, const store_snapshot *s,
                          const store_override *ov, uint32_t n_ov,
                          const store_selection *sel) {
  pipec_json_obj(j);
  pipec_json_key(j, "snapshot");
  pipec_json_int(j, s->id);
  pipec_json_key(j, "pipeline");
  pipec_json_str(j, s->pipeline);
  pipec_json_key(j, "file");
  pipec_json_str(j, s->main_path);
  pipec_json_key(j, "created");
  pipec_json_int(j, s->created_ms);
  pipec_json_key(j, "mode");
  pipec_json_str(j, s->mode);
  pipec_json_key(j, "overrides"); /* NAME -> VALUE as given; the last wins */
  pipec_json_obj(j);
  for (uint32_t i = 0; i < n_ov; i++) {
    bool later = false;
    for (uint32_t k = i + 1; k < n_ov && !later; k++)
      later = strcmp(ov[k].name, ov[i].name) == 0;
    if (later)
      continue;
    pipec_json_key(j, ov[i].name);
    pipec_json_str(j, ov[i].value);
  }
  pipec_json_end(j);
  pipec_json_key(j, "selection");
  pipec_json_obj(j);
  pipec_json_key(j, "nodes");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < sel->n_nodes; i++)
    pipec_json_str(j, sel->nodes[i]);
  pipec_json_end(j);
  pipec_json_key(j, "from");
  pipec_json_str(j, sel->from);
  pipec_json_key(j, "to");
  pipec_json_str(j, sel->to);
  pipec_json_key(j, "force");
  pipec_json_bool(j, sel->force);
  pipec_json_end(j);
  cli_json_int_or_null(j, "run", s->last_run, s->last_run != 0);
  pipec_json_end(j);
}

int cmd_snapshots(int argc, char **argv) {
  if (cli_wants_help("snapshots", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"json", 0, false, 1}, {0}};
  bool json = false;
  const char *file = NULL;
  cli_args it;
  cli_args_init(&it, "snapshots", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      json = true;
    else if (!file)
      file = it.value;
    else
      return cli_usage_error("snapshots", "unexpected '%s'", it.value);
  }
  ws *w;
  store *st;
  int rc = cli_open_workspace_for("snapshots", file, &w, &st);
  if (rc != 0)
    return rc;
  int64_t pipeline = 0;
  if (file) {
    char abs[PATH_MAX];
    const char *rel = file;
    size_t n = strlen(ws_root(w));
    if (realpath(file, abs) && strncmp(abs, ws_root(w), n) == 0 &&
        abs[n] == '/')
      rel = abs + n + 1;
    int found = store_pipeline_find(st, rel, &pipeline);
    if (found != 1) {
      if (found < 0)
        rc = cli_store_error("snapshots", st);
      else
        fprintf(stderr, "pipec snapshots: %s has never run in this "
                        "workspace\n", file);
      cli_close_workspace(w, st);
      return found < 0 ? rc : CLI_USAGE;
    }
  }
  store_snapshot *snaps;
  uint32_t n;
  if (store_snapshot_list(st, pipeline, 1000, &snaps, &n) != 0) {
    rc = cli_store_error("snapshots", st);
    cli_close_workspace(w, st);
    return rc;
  }
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, false);
    pipec_json_arr(&j);
  } else {
    printf("%-5s %-16s %-19s %-16s %-5s %s\n", "SNAP", "PIPELINE", "CREATED",
           "MODE", "RUN", "PARAMS / SELECTION");
  }
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    store_snapshot *s = &snaps[i];
    store_override *ov = NULL;
    uint32_t n_ov = 0;
    store_selection sel;
    if (store_snapshot_overrides(st, s->id, &ov, &n_ov) != 0 ||
        store_snapshot_selection(st, s->id, &sel) < 0) {
      rc = cli_store_error("snapshots", st);
      store_overrides_free(ov, n_ov);
      break;
    }
    if (json) {
      snapshot_json(&j, s, ov, n_ov, &sel);
    } else {
      char created[32], run[24] = "-";
      cli_time(s->created_ms, created, sizeof created);
      if (s->last_run)
        snprintf(run, sizeof run, "%lld", (long long)s->last_run);
      char *args = run_args_text(s, ov, n_ov, &sel);
      char *line = NULL;
      if (asprintf(&line, "%-5lld %-16s %-19s %-16s %-5s %s",
                   (long long)s->id, s->pipeline, created, s->mode, run,
                   args ? args : "") >= 0) {
        size_t len = strlen(line);
        while (len && line[len - 1] == ' ') /* a full run: no args */
          line[--len] = 0;
        puts(line);
      }
      free(line);
      free(args);
    }
    store_selection_free(&sel);
    store_overrides_free(ov, n_ov);
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
  } else if (!n) {
    printf("(no snapshots yet: every pipec run records one)\n");
  }
  store_snapshots_free(snaps, n);
  cli_close_workspace(w, st);
  return rc;
}

/* Two operands (snapshot ids) and no options. */
static int parse_two_snaps(int argc, char **argv, int64_t *a, int64_t *b) {
  static const cli_opt none[] = {{0}};
  const char *ops[2] = {0};
  int n = 0;
  cli_args it;
  cli_args_init(&it, "diff", argc, argv, none);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (n == 2)
      return cli_usage_error("diff", "unexpected '%s' (expected SNAP_A "
                                     "SNAP_B)", it.value);
    ops[n++] = it.value;
  }
  if (n != 2)
    return cli_usage_error("diff", "expected SNAP_A SNAP_B");
  if (!(*a = parse_snap("diff", ops[0])) || !(*b = parse_snap("diff", ops[1])))
    return CLI_USAGE;
  return 0;
}

int cmd_diff(int argc, char **argv) {
  if (cli_wants_help("diff", argc, argv))
    return CLI_OK;
  int64_t a = 0, b = 0;
  int rc = parse_two_snaps(argc, argv, &a, &b);
  if (rc != 0)
    return rc;
  ws *w;
  store *st;
  if ((rc = cli_open_workspace("diff", &w, &st)) != 0)
    return rc;
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_diags d;
  pipec_diags_init(&d);
  char err[512] = "";
  rc = CLI_USAGE;
  pipec_pipeline *pa = snap_compile(st, a, ws_root(w), &reg, &d, err,
                                    sizeof err);
  pipec_pipeline *pb = pa ? snap_compile(st, b, ws_root(w), &reg, &d, err,
                                         sizeof err)
                          : NULL;
  if (!pa || !pb) {
    pipec_diags_print(&d, stderr, false);
    fprintf(stderr, "pipec diff: %s\n", err);
    if (store_damaged(st))
      rc = CLI_WORKSPACE;
  } else {
    if (strcmp(pa->name, pb->name) != 0)
      printf("pipeline %s -> %s\n", pa->name, pb->name);
    int k = snap_diff(w, st, a, b, pa, pb, stdout, err, sizeof err);
    if (k < 0) {
      fprintf(stderr, "pipec diff: %s\n", err);
      rc = CLI_WORKSPACE;
    } else {
      if (k == 0 && strcmp(pa->name, pb->name) == 0)
        printf("snapshots %lld and %lld are the same configuration\n",
               (long long)a, (long long)b);
      rc = CLI_OK;
    }
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
  static const cli_opt opts[] = {{"dry-run", 'n', false, 1}, {0}};
  bool dry = false;
  const char *snap = NULL;
  cli_args it;
  cli_args_init(&it, "rollback", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      dry = true;
    else if (!snap)
      snap = it.value;
    else
      return cli_usage_error("rollback", "unexpected '%s'", it.value);
  }
  if (!snap)
    return cli_usage_error("rollback", "expected SNAP");
  int64_t id = parse_snap("rollback", snap);
  if (!id)
    return CLI_USAGE;
  ws *w;
  store *st;
  int rc = cli_open_workspace("rollback", &w, &st);
  if (rc != 0)
    return rc;
  char err[1024] = "";
  int64_t saved = 0;
  int k = snap_rollback(w, st, id, dry, stdout, &saved, err, sizeof err);
  if (k < 0)
    fprintf(stderr, "pipec rollback: %s\n", err);
  else if (dry)
    printf("%d file%s would change (dry run: nothing was written)\n", k,
           k == 1 ? "" : "s");
  rc = k >= 0 ? CLI_OK : store_damaged(st) ? CLI_WORKSPACE : CLI_FAILED;
  cli_close_workspace(w, st);
  return rc;
}
