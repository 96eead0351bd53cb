/*
 * store.h — the workspace database (SQLite): every SQL statement of pipec
 * is in store.c; the rest of pipec calls these typed functions.
 *
 * What it holds (DESIGN §1, §5):
 *   pipelines     one per (name, main file)
 *   drafts        revisions of a pipeline's source files, byte for byte; a
 *                 new one whenever the bytes change, so no edit is lost
 *   snapshots     what a run ran: draft, compiled config (JSON), params,
 *                 mode and selection
 *   runs          PipelineRuns; node_runs: one row per node per run
 *   cache         cache key -> outputs (port, object hash, size) and the
 *                 key's parts (for `pipec why`)
 *   artifacts     outputs a node run produced (lineage)
 *   files         the file-hash index (path, stat) -> hash, as git's index
 *
 * Conventions: times are milliseconds since the epoch; hashes are stored as
 * hex text. Functions return 0 (or 1 for "found") on success and a
 * negative value on error, with the message in store_errmsg(). Strings a
 * function returns are malloc'd copies the caller frees (or freed by the
 * matching *_free function). A database another pipec holds locked for
 * longer than the busy timeout gives "the workspace is busy".
 */
#ifndef PIPEC_STORE_H
#define PIPEC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

typedef struct store store;

int store_open(const char *path, store **out, char *err, size_t errlen);
void store_close(store *st);
const char *store_errmsg(const store *st);
int64_t store_now_ms(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(store *st);
int store_commit(store *st);
void store_rollback(store *st);

/* ---- pipelines, drafts, snapshots ----------------------------------------- */

int store_pipeline_get_or_create(store *st, const char *name,
                                 const char *main_path, int64_t *id);
/* The id of the pipeline whose main file is main_path (any name): 1 found. */
int store_pipeline_find(store *st, const char *main_path, int64_t *id);

typedef struct store_file {
  const char *path;
  const char *text;
  size_t len;
} store_file;

/* Record files as the pipeline's newest draft unless they equal it. */
int store_draft_record(store *st, int64_t pipeline, const store_file *files,
                       uint32_t n, int64_t *draft_id);
/* The files of a draft (malloc'd; free with store_files_free). */
int store_draft_files(store *st, int64_t draft, store_file **files,
                      uint32_t *n);
void store_files_free(store_file *files, uint32_t n);

int store_snapshot_add(store *st, int64_t pipeline, int64_t draft,
                       const char *config, const char *params,
                       const char *mode, const char *selection, int64_t *id);

typedef struct store_snapshot {
  int64_t id, pipeline_id, draft_id, created_ms;
  char *pipeline, *main_path, *config, *params, *mode, *selection;
  int64_t last_run;          /* newest run of it, 0 if none */
} store_snapshot;

/* 1 found, 0 not. */
int store_snapshot_get(store *st, int64_t id, store_snapshot *out);
/* Newest first; pipeline 0: every pipeline. */
int store_snapshot_list(store *st, int64_t pipeline, uint32_t limit,
                        store_snapshot **out, uint32_t *n);
void store_snapshot_free(store_snapshot *s);
void store_snapshots_free(store_snapshot *s, uint32_t n);

/* ---- runs and node runs ---------------------------------------------------- */

int store_run_add(store *st, int64_t snapshot, int64_t pipeline, int64_t pid,
                  int64_t *id);
int store_run_finish(store *st, int64_t run, const char *status, uint32_t ran,
                     uint32_t cached, uint32_t failed);

/* Runs still marked running whose process is gone (killed, crashed) are
 * marked "interrupted", and their unfinished node runs "cancelled". Returns
 * how many runs were fixed. */
int store_runs_reap(store *st, bool (*alive)(int64_t pid));

typedef struct store_run {
  int64_t id, snapshot_id, pipeline_id, started_ms, ended_ms, pid;
  char *pipeline, *status;
  uint32_t ran, cached, failed, nodes;
} store_run;

int store_run_get(store *st, int64_t id, store_run *out);   /* 1 found */
/* The newest run id, 0 if none. */
int64_t store_run_last(store *st);
int store_run_list(store *st, uint32_t limit, store_run **out, uint32_t *n);
void store_run_free(store_run *r);
void store_runs_free(store_run *r, uint32_t n);

typedef struct store_node_run {
  int64_t id, run_id;
  const char *node, *component, *status, *target, *cache_key, *miss_reason,
      *log_path, *job_id, *message;
  bool cache_hit;
  int attempts, exit_code;     /* exit_code -1: none */
  int64_t started_ms, ended_ms;
} store_node_run;

int store_node_run_add(store *st, const store_node_run *nr, int64_t *id);
int store_node_run_started(store *st, int64_t id, int attempt,
                           const char *job_id);
int store_node_run_finish(store *st, int64_t id, const char *status,
                          int attempts, int exit_code, const char *message);
/* The node runs of a run, in the order they were recorded. Strings are
 * owned by the array; free with store_node_runs_free. */
int store_node_run_list(store *st, int64_t run, store_node_run **out,
                        uint32_t *n);
void store_node_runs_free(store_node_run *nr, uint32_t n);

/* ---- cache, artifacts --------------------------------------------------------- */

typedef struct store_output {
  char *port;
  hash128 hash;
  uint64_t size;
} store_output;

int store_cache_put(store *st, const hash128 *key, const char *parts,
                    const store_output *outs, uint32_t n, int64_t node_run);
/* 1 and the outputs (free with store_outputs_free), or 0 if absent. */
int store_cache_get(store *st, const hash128 *key, store_output **outs,
                    uint32_t *n);
int store_cache_delete(store *st, const hash128 *key);
void store_outputs_free(store_output *outs, uint32_t n);

/* The key parts of the node's newest successful (or cached) run in the
 * pipeline: 1 and a malloc'd text, 0 if it never succeeded. */
int store_last_parts(store *st, int64_t pipeline, const char *node,
                     char **parts);

int store_artifact_add(store *st, int64_t node_run, const store_output *o);
/* Outputs of a node run (through its cache key, or its artifacts). */
int store_node_run_outputs(store *st, int64_t node_run, store_output **outs,
                           uint32_t *n);
/* The node run that produced object h first: 1 found. */
int store_object_producer(store *st, const hash128 *h, int64_t *node_run);

/* ---- the file-hash index (hash.h callbacks) ---------------------------------- */

int store_file_get(store *st, const char *path, hash_stat *sb, hash128 *h);
int store_file_put(store *st, const char *path, const hash_stat *sb,
                   const hash128 *h);

/* ---- garbage collection ------------------------------------------------------- */

/* Call fn for every object hash that gc keeps: the outputs of the node
 * runs of the newest keep_runs runs, and of the newest run of every
 * snapshot. */
int store_live_objects(store *st, uint32_t keep_runs,
                       void (*fn)(void *ctx, const hash128 *h), void *ctx);
/* Drop cache entries that name an object not in the store any more. */
int store_cache_drop_object(store *st, const hash128 *h);

#endif
