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
static char *run_args_text(const pipec_snapshot_info *s) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  const char *sep = "";
  if (s->of_snapshot) { /* its -p values are that snapshot's */
    fprintf(f, "--snapshot %lld", (long long)s->of_snapshot);
    sep = " ";
  }
  for (uint32_t i = 0; i < s->n_overrides; i++, sep = " ")
    fprintf(f, "%s-p %s=%s", sep, s->overrides[i].name,
            s->overrides[i].value);
  if (s->n_nodes == 1 && strcmp(s->mode, "node") == 0) {
    fprintf(f, "%s--node %s", sep, s->nodes[0]);
    sep = " ";
  } else if (s->n_nodes) {
    fprintf(f, "%s--nodes ", sep);
    for (uint32_t i = 0; i < s->n_nodes && i < SHOWN_NODES; i++)
      fprintf(f, "%s%s", i ? "," : "", s->nodes[i]);
    if (s->n_nodes > SHOWN_NODES)
      fprintf(f, ",... (%u nodes)", s->n_nodes);
    sep = " ";
  }
  if (s->from) {
    fprintf(f, "%s--from %s", sep, s->from);
    sep = " ";
  }
  if (s->to) {
    fprintf(f, "%s--to %s", sep, s->to);
    sep = " ";
  }
  if (s->force)
    fprintf(f, "%s--force", sep);
  fclose(f);
  return buf;
}

static void snapshot_json(pipec_json *j, const pipec_snapshot_info *s) {
  pipec_json_obj(j);
  pipec_json_key(j, "snapshot");
  pipec_json_int(j, s->id);
  pipec_json_key(j, "pipeline");
  pipec_json_str(j, s->pipeline);
  pipec_json_key(j, "file");
  pipec_json_str(j, s->file);
  pipec_json_key(j, "created");
  pipec_json_int(j, s->created_ms);
  pipec_json_key(j, "mode");
  pipec_json_str(j, s->mode);
  pipec_json_key(j, "overrides"); /* NAME -> VALUE as given; the last wins */
  pipec_json_obj(j);
  const pipec_override *ov = s->overrides;
  for (uint32_t i = 0; i < s->n_overrides; i++) {
    bool later = false;
    for (uint32_t k = i + 1; k < s->n_overrides && !later; k++)
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
  for (uint32_t i = 0; i < s->n_nodes; i++)
    pipec_json_str(j, s->nodes[i]);
  pipec_json_end(j);
  pipec_json_key(j, "from");
  pipec_json_str(j, s->from);
  pipec_json_key(j, "to");
  pipec_json_str(j, s->to);
  pipec_json_key(j, "force");
  pipec_json_bool(j, s->force);
  pipec_json_end(j);
  cli_json_int_or_null(j, "of_snapshot", s->of_snapshot, s->of_snapshot != 0);
  cli_json_int_or_null(j, "run", s->run, s->run != 0);
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
  pipec_ws *w;
  int rc = cli_open_workspace("snapshots", file, &w);
  if (rc != 0)
    return rc;
  pipec_snapshot_info *snaps;
  uint32_t n;
  pipec_error err;
  if (pipec_snapshots(w, file, 1000, &snaps, &n, &err) != 0) {
    rc = cli_api_error("snapshots", &err, CLI_USAGE);
    pipec_ws_close(w);
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
  for (uint32_t i = 0; i < n; i++) {
    const pipec_snapshot_info *s = &snaps[i];
    if (json) {
      snapshot_json(&j, s);
      continue;
    }
    char created[32], run[24] = "-";
    cli_time(s->created_ms, created, sizeof created);
    if (s->run)
      snprintf(run, sizeof run, "%lld", (long long)s->run);
    char *args = run_args_text(s);
    char *line = NULL;
    if (asprintf(&line, "%-5lld %-16s %-19s %-16s %-5s %s", (long long)s->id,
                 s->pipeline, created, s->mode, run, args ? args : "") >= 0) {
      size_t len = strlen(line);
      while (len && line[len - 1] == ' ') /* a full run: no args */
        line[--len] = 0;
      puts(line);
    }
    free(line);
    free(args);
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
  } else if (!n) {
    printf("(no snapshots yet: every pipec run records one)\n");
  }
  pipec_snapshot_infos_free(snaps, n);
  pipec_ws_close(w);
  return CLI_OK;
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
  pipec_ws *w;
  if ((rc = cli_open_workspace("diff", NULL, &w)) != 0)
    return rc;
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_error err;
  int k = pipec_snapshot_diff(w, a, b, stdout, &d, &err);
  if (k < 0) {
    pipec_diags_print(&d, stderr, false);
    rc = cli_api_error("diff", &err, CLI_USAGE);
  } else {
    rc = CLI_OK;
  }
  pipec_diags_free(&d);
  pipec_ws_close(w);
  return rc;
}

int cmd_rollback(int argc, char **argv) {
  if (cli_wants_help("rollback", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"dry-run", 'n', false, 1},
                                 {"data", 0, false, 2}, {0}};
  bool dry = false, data = false;
  const char *snap = NULL;
  cli_args it;
  cli_args_init(&it, "rollback", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      dry = true;
    else if (k == 2)
      data = true;
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
  pipec_ws *w;
  int rc = cli_open_workspace("rollback", NULL, &w);
  if (rc != 0)
    return rc;
  pipec_error err;
  int k = pipec_rollback_ex(w, id,
                            (dry ? PIPEC_ROLLBACK_DRY_RUN : 0) |
                                (data ? PIPEC_ROLLBACK_DATA : 0),
                            stdout, NULL, &err);
  if (k < 0)
    rc = cli_api_error("rollback", &err, CLI_FAILED);
  else if (dry)
    printf("%d file%s would change (dry run: nothing was written)\n", k,
           k == 1 ? "" : "s");
  pipec_ws_close(w);
  return k >= 0 ? CLI_OK : rc;
}
