/*
 * cmd_drafts.c — `pipec drafts [FILE]`, `pipec drafts show N`, `pipec
 * drafts restore N`: every recorded revision of a pipeline's .pipe files
 * (pipec/engine.h: pipec_drafts, pipec_draft_diff, pipec_draft_restore).
 */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipec/json.h"

/* How many changed files a listing line names. */
#define SHOWN_FILES 5

static const char *change_name(pipec_change_kind k) {
  switch (k) {
  case PIPEC_CHANGE_ADDED: return "added";
  case PIPEC_CHANGE_REMOVED: return "removed";
  default: return "changed";
  }
}

/* "main.pipe, +lib/new.pipe, -old.pipe": what a revision changed (a long
 * list is cut short). malloc'd. */
static char *changes_text(const pipec_draft_info *d) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  for (uint32_t i = 0; i < d->n_changes && i < SHOWN_FILES; i++) {
    const pipec_file_change *c = &d->changes[i];
    fprintf(f, "%s%s%s", i ? ", " : "",
            c->kind == PIPEC_CHANGE_ADDED     ? "+"
            : c->kind == PIPEC_CHANGE_REMOVED ? "-"
                                              : "",
            c->path);
  }
  if (d->n_changes > SHOWN_FILES)
    fprintf(f, ", ... (%u files)", d->n_changes);
  if (!d->n_changes)
    fprintf(f, "(no change)");
  fclose(f);
  return buf;
}

static void draft_json(pipec_json *j, const pipec_draft_info *d) {
  pipec_json_obj(j);
  pipec_json_key(j, "draft");
  pipec_json_int(j, d->id);
  pipec_json_key(j, "pipeline");
  pipec_json_str(j, d->pipeline);
  pipec_json_key(j, "file");
  pipec_json_str(j, d->file);
  pipec_json_key(j, "created");
  pipec_json_int(j, d->created_ms);
  cli_json_int_or_null(j, "previous", d->previous, d->previous != 0);
  pipec_json_key(j, "files");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < d->n_files; i++)
    pipec_json_str(j, d->files[i]);
  pipec_json_end(j);
  pipec_json_key(j, "changes");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < d->n_changes; i++) {
    pipec_json_obj(j);
    pipec_json_key(j, "path");
    pipec_json_str(j, d->changes[i].path);
    pipec_json_key(j, "change");
    pipec_json_str(j, change_name(d->changes[i].kind));
    pipec_json_end(j);
  }
  pipec_json_end(j);
  cli_json_int_or_null(j, "snapshot", d->snapshot, d->snapshot != 0);
  cli_json_int_or_null(j, "run", d->run, d->run != 0);
  pipec_json_end(j);
}

static int drafts_list(const char *file, bool json) {
  pipec_ws *w;
  int rc = cli_open_workspace("drafts", file, &w);
  if (rc != 0)
    return rc;
  pipec_draft_info *v;
  uint32_t n;
  pipec_error err;
  if (pipec_drafts(w, file, 1000, &v, &n, &err) != 0) {
    rc = cli_api_error("drafts", &err, CLI_USAGE);
    pipec_ws_close(w);
    return rc;
  }
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, false);
    pipec_json_arr(&j);
  } else {
    printf("%-5s %-16s %-19s %-5s %-5s %s\n", "DRAFT", "PIPELINE", "CREATED",
           "SNAP", "RUN", "CHANGED");
  }
  for (uint32_t i = 0; i < n; i++) {
    const pipec_draft_info *d = &v[i];
    if (json) {
      draft_json(&j, d);
      continue;
    }
    char created[32], snap[24] = "-", run[24] = "-";
    cli_time(d->created_ms, created, sizeof created);
    if (d->snapshot)
      snprintf(snap, sizeof snap, "%lld", (long long)d->snapshot);
    if (d->run)
      snprintf(run, sizeof run, "%lld", (long long)d->run);
    char *changes = changes_text(d);
    printf("%-5lld %-16s %-19s %-5s %-5s %s\n", (long long)d->id,
           d->pipeline, created, snap, run, changes ? changes : "");
    free(changes);
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
  } else if (!n) {
    printf("(no drafts yet: every pipec run records one)\n");
  }
  pipec_draft_infos_free(v, n);
  pipec_ws_close(w);
  return CLI_OK;
}

static int64_t parse_draft(const char *arg) {
  int64_t v;
  if (cli_parse_int(arg, 1, INT64_MAX, &v) != 0) {
    cli_usage_error("drafts", "'%s' is not a draft id (see pipec drafts)",
                    arg);
    return 0;
  }
  return v;
}

static int drafts_show(int64_t id) {
  pipec_ws *w;
  int rc = cli_open_workspace("drafts", NULL, &w);
  if (rc != 0)
    return rc;
  pipec_draft_info d;
  pipec_error err;
  int found = pipec_draft_get(w, id, &d, &err);
  if (found != 1) {
    if (found < 0)
      rc = cli_api_error("drafts", &err, CLI_WORKSPACE);
    else
      fprintf(stderr, "pipec drafts: no draft %lld (pipec drafts lists "
                      "them)\n", (long long)id);
    pipec_ws_close(w);
    return found < 0 ? rc : CLI_USAGE;
  }
  char created[32];
  cli_time(d.created_ms, created, sizeof created);
  printf("draft %lld of %s (%s), %s: ", (long long)d.id, d.pipeline, d.file,
         created);
  if (d.previous)
    printf("against draft %lld\n", (long long)d.previous);
  else
    printf("its first revision\n");
  rc = pipec_draft_diff(w, id, stdout, &err) < 0
           ? cli_api_error("drafts", &err, CLI_USAGE)
           : CLI_OK;
  pipec_draft_info_free(&d);
  pipec_ws_close(w);
  return rc;
}

static int drafts_restore(int64_t id, bool dry) {
  pipec_ws *w;
  int rc = cli_open_workspace("drafts", NULL, &w);
  if (rc != 0)
    return rc;
  pipec_error err;
  int k = pipec_draft_restore(w, id, dry, stdout, NULL, &err);
  if (k < 0)
    rc = cli_api_error("drafts", &err,
                       err.code == PIPEC_E_USAGE ? CLI_USAGE : CLI_FAILED);
  else if (dry)
    printf("%d file%s would change (dry run: nothing was written)\n", k,
           k == 1 ? "" : "s");
  pipec_ws_close(w);
  return k >= 0 ? CLI_OK : rc;
}

int cmd_drafts(int argc, char **argv) {
  if (cli_wants_help("drafts", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"json", 0, false, 1},
                                 {"dry-run", 'n', false, 2},
                                 {0}};
  bool json = false, dry = false;
  const char *ops[3] = {0};
  int n = 0;
  cli_args it;
  cli_args_init(&it, "drafts", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      json = true;
    else if (k == 2)
      dry = true;
    else if (n < 3)
      ops[n++] = it.value;
    else
      return cli_usage_error("drafts", "unexpected '%s'", it.value);
  }
  const char *sub = n ? ops[0] : NULL;
  bool show = sub && strcmp(sub, "show") == 0;
  bool restore = sub && strcmp(sub, "restore") == 0;
  if (!show && !restore) {
    if (n > 1)
      return cli_usage_error("drafts", "unexpected '%s'", ops[1]);
    if (dry)
      return cli_usage_error("drafts", "--dry-run is an option of restore");
    return drafts_list(sub, json);
  }
  if (n < 2)
    return cli_usage_error("drafts", "%s needs a draft id N", sub);
  if (n > 2)
    return cli_usage_error("drafts", "unexpected '%s'", ops[2]);
  if (json)
    return cli_usage_error("drafts", "--json is an option of the listing");
  if (show && dry)
    return cli_usage_error("drafts", "--dry-run is an option of restore");
  int64_t id = parse_draft(ops[1]);
  if (!id)
    return CLI_USAGE;
  return show ? drafts_show(id) : drafts_restore(id, dry);
}
