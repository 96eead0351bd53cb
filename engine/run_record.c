/*
 * run_record.c — what a run is: its draft revision, its snapshot (the whole
 * configuration: sources, code files, data hashes, -p values, mode and
 * selection) and its run record, written together (run_int.h).
 */
#define _GNU_SOURCE /* fopencookie */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipec/graph.h"
#include "pipec/json.h"
#include "snapshot.h"
#include "run_int.h"

/* ---- what the run is: draft, snapshot, run records ------------------------ */

/* A source path as the workspace records it: relative to the workspace
 * root when inside it (so a moved project still rolls back), else absolute. */
char *run_workspace_path(const runner *R, const char *path) {
  char abs[PATH_MAX];
  if (!realpath(path, abs))
    return xstrdup(path);
  const char *root = R->root;
  size_t n = strlen(root);
  if (strncmp(abs, root, n) == 0 && abs[n] == '/')
    return xstrdup(abs + n + 1);
  return xstrdup(abs);
}

static char *json_of(void (*write)(const runner *, pipec_json *),
                     const runner *R) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return xstrdup("{}");
  pipec_json j;
  pipec_json_init(&j, f, false);
  write(R, &j);
  pipec_json_done(&j);
  fclose(f);
  return buf;
}

static void params_json(const runner *R, pipec_json *j) {
  pipec_json_obj(j);
  pipec_json_key(j, "overrides");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < R->o->n_overrides; i++)
    pipec_json_str(j, R->o->overrides[i]);
  pipec_json_end(j);
  pipec_json_key(j, "values");
  pipec_json_obj(j);
  for (uint32_t i = 0; i < R->p->n_params; i++) {
    pipec_json_key(j, R->p->params[i].name);
    pipec_value_json(j, &R->p->params[i].value);
  }
  pipec_json_end(j);
  pipec_json_end(j);
}

static void selection_json(const runner *R, pipec_json *j) {
  const plan_sel *s = &R->o->sel;
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
  pipec_json_bool(j, R->o->force);
  if (R->o->of_snapshot) {
    pipec_json_key(j, "snapshot");
    pipec_json_int(j, R->o->of_snapshot);
  }
  pipec_json_end(j);
}

/* ---- the compiled configuration, stored once per distinct one ------------ */

static ssize_t hash_write(void *cookie, const char *buf, size_t n) {
  hash_stream_update(cookie, buf, n);
  return (ssize_t)n;
}

/* The hash of the graph's compact JSON, written through a hashing stream:
 * no text is kept. 0, or -1 if out of memory. */
static int config_hash(const pipec_pipeline *p, hash128 *h) {
  hash_stream *hs = hash_stream_new();
  FILE *f = hs ? fopencookie(hs, "w", (cookie_io_functions_t){
                                          .write = hash_write})
               : NULL;
  if (!f) {
    hash_stream_free(hs);
    return -1;
  }
  setvbuf(f, NULL, _IOFBF, 1 << 16);
  pipec_graph_write(p, PIPEC_GRAPH_JSON_COMPACT, f);
  fclose(f);
  *h = hash_stream_digest(hs);
  hash_stream_free(hs);
  return 0;
}

/* The graph's compact JSON (malloc'd), or NULL if out of memory. */
static char *config_text(const pipec_pipeline *p) {
  char *config = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&config, &len);
  if (!f)
    return NULL;
  pipec_graph_write(p, PIPEC_GRAPH_JSON_COMPACT, f);
  fclose(f);
  return config;
}

/* The id of the run's configuration in the store, recording it if it is
 * new (inside the caller's transaction). A compile of unchanged files
 * (its load id seen before) costs a lookup; another configuration seen
 * before costs one pass of hashing, no text. */
static int record_config(runner *R, int64_t *id) {
  /* a compile that read what an earlier one read gave its configuration */
  hash128 load;
  memcpy(load.b, R->p->load_id, sizeof load.b);
  static const hash128 unknown;
  bool known = !hash_eq(&load, &unknown);
  int found = known ? store_config_of_load(R->st, &load, id) : 0;
  if (found != 0)
    return found < 0 ? -1 : 0;
  hash128 h;
  if (config_hash(R->p, &h) != 0)
    return -1;
  found = store_config_find(R->st, &h, id);
  int rc = found < 0 ? -1 : 0;
  if (found == 0) {
    char *config = config_text(R->p);
    rc = config ? store_config_put(R->st, &h, config, id) : -1;
    free(config);
  }
  if (rc == 0 && known)
    rc = store_config_load_put(R->st, &load, *id);
  return rc;
}

int run_record_snapshot(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  store_runs_reap(R->st, store_pid_alive); /* runs killed before they could say */
  snap_clean_rollbacks(R->st);             /* files a killed rollback left */
  char *main_rel = run_workspace_path(R, p->file);
  int rc = store_pipeline_get_or_create(R->st, p->name, main_rel,
                                        &R->pipeline_id);
  free(main_rel);
  store_file *files = xcalloc(p->n_sources, sizeof *files);
  for (uint32_t i = 0; i < p->n_sources; i++)
    files[i] = (store_file){run_workspace_path(R, p->sources[i].path),
                            p->sources[i].text, p->sources[i].len};
  int64_t draft = 0;
  if (rc == 0)
    rc = store_draft_record(R->st, R->pipeline_id, files, p->n_sources,
                            &draft);
  for (uint32_t i = 0; i < p->n_sources; i++)
    free((char *)files[i].path);
  free(files);
  bool said = false;
  if (R->o->dry_run) /* a dry run records the draft only */
    goto done;
  char *params = json_of(params_json, R), *sel = json_of(selection_json, R);
  /* the snapshot is the whole configuration: also the code files' bytes
   * (put into the object store first, outside the transaction), the data
   * files' hashes and the -p values; all of it with the run, or nothing */
  store_snap_file *sf = NULL;
  uint32_t n_sf = 0;
  if (rc == 0 &&
      snap_collect_files(R->root, R->st, R->objs, R->memo, p, R->abs_dir, &sf,
                         &n_sf, err, errlen) != 0) {
    rc = -1;
    said = true;
  }
  store_override *ov = xcalloc(R->o->n_overrides + 1, sizeof *ov);
  for (uint32_t i = 0; i < R->o->n_overrides; i++) {
    const char *o = R->o->overrides[i], *eq = strchr(o, '=');
    size_t len = eq ? (size_t)(eq - o) : strlen(o);
    ov[i].name = xprintf("%.*s", (int)len, o);
    ov[i].value = xstrdup(eq ? eq + 1 : "");
  }
  int64_t config_id = 0;
  if (rc == 0) {
    rc = store_begin(R->st);
    if (rc == 0)
      rc = record_config(R, &config_id);
    if (rc == 0)
      rc = store_snapshot_add_config(R->st, R->pipeline_id, draft, config_id,
                                     params, plan_mode_name(&R->o->sel), sel,
                                     &R->snapshot_id);
    if (rc == 0)
      rc = store_snapshot_overrides_add(R->st, R->snapshot_id, ov,
                                        R->o->n_overrides);
    if (rc == 0)
      rc = store_snapshot_files_add(R->st, R->snapshot_id, sf, n_sf);
    if (rc == 0)
      rc = store_run_add(R->st, R->snapshot_id, R->pipeline_id,
                         (int64_t)getpid(), &R->run_id);
    if (rc == 0 && run_commit(R, err, errlen) != 0) {
      rc = -1;
      said = true;
    } else if (rc != 0) {
      store_rollback(R->st);
    }
  }
  store_overrides_free(ov, R->o->n_overrides);
  store_snap_files_free(sf, n_sf);
  free(params);
  free(sel);
done:
  if (rc != 0 && !said)
    snprintf(err, errlen, "cannot record the run: %s", store_errmsg(R->st));
  else if (rc != 0) {
    char why[512];
    snprintf(why, sizeof why, "%s", err);
    snprintf(err, errlen, "cannot record the run: %s", why);
  }
  return rc;
}

