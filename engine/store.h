/*
 * store.h — the workspace database (SQLite): every SQL statement of pipec
 * is in store.c; the rest of pipec calls these typed functions.
 *
 * What it holds (DESIGN §1, §5):
 *   pipelines     one per (name, main file)
 *   drafts        revisions of a pipeline's source files, byte for byte; a
 *                 new one whenever the bytes change, so no edit is lost
 *   snapshots     what a run ran: draft, compiled config (JSON, in
 *                 configs: one row per distinct one), params, mode,
 *                 selection and an optional label
 *   snapshot_files      the code files (bytes in the object store) and data
 *                 files (content hash) a snapshot read
 *   snapshot_overrides  its -p NAME=VALUE overrides, in order
 *   project_temps temporary files a rollback is writing into the project,
 *                 removed by the next command if the writer was killed
 *   runs          PipelineRuns; node_runs: one row per node per run, but
 *                 for the cached nodes that repeat an earlier node run
 *                 exactly: run_cached holds ranges of those node runs' ids
 *   cache         cache key -> outputs (port, object hash, size)
 *   key_parts     cache key -> the key's parts as text (ck_parts_format),
 *                 kept after the cache entry goes, for `pipec why`
 *   artifacts     outputs a node run produced (lineage)
 *   objects       each stored object's stat as last known intact (hash.h's
 *                 hash_stat), checked before an object is trusted
 *   cache_inputs  cache key -> the input objects the entry was computed
 *                 from (an entry that read a damaged object goes with it)
 *   files         the file-hash index (path, stat) -> hash, as git's index
 *   shared_hits   node runs cached from a shared cache, and which one
 *
 * Conventions
 *   - Times are milliseconds since the epoch (store_now_ms), 0 for "none".
 *   - Hashes and cache keys are stored as 32 lowercase hex digits.
 *   - Functions return 0 on success (lookups: 1 found, 0 not found) and a
 *     negative value on error, with a one-line message in store_errmsg().
 *     A database another pipec keeps locked for longer than the busy
 *     timeout gives "the workspace is busy ...".
 *   - Ownership, the one rule: strings passed in are borrowed (copied if
 *     kept); strings and arrays handed out are malloc'd and belong to the
 *     caller, who frees them with the matching *_free function (or free()
 *     for a lone char *). Out-structs are zeroed first, so freeing one after
 *     a failed or "not found" lookup is safe.
 *   - A multi-statement write (a draft, a cache entry) is atomic on its own;
 *     inside store_begin/store_commit it joins the caller's transaction.
 *   - One store is one connection: not for use by two threads at once.
 *
 * Lifecycles (status strings as stored):
 *
 *   run:        running --store_run_finish--> succeeded | failed | cancelled
 *                  |
 *                  +--store_runs_reap (its pid is gone)--> interrupted
 *
 *   node run:   store_node_run_add(status):
 *                 cached | skipped | cancelled | failed   (final at once)
 *                 pending | running
 *               running --store_node_run_started--> running (attempt n)
 *               running|pending --store_node_run_finish-->
 *                 succeeded | failed | cancelled | skipped
 *               running|pending --store_runs_reap--> cancelled
 */
#ifndef PIPEC_STORE_H
#define PIPEC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

typedef struct store store;

/* Open (creating it if needed) the database at path: WAL journal, a busy
 * timeout, foreign keys on, and the schema brought up to date by the
 * migrations (each in its own transaction, so a crash leaves the old
 * version or the new one). 0, or -1 with err: "PATH: message". */
int store_open(const char *path, store **out, char *err, size_t errlen);
void store_close(store *st);          /* NULL is fine */
const char *store_errmsg(const store *st);
/* The last error was a damaged database (corrupt pages, or a file that is
 * not a SQLite database): the workspace cannot be used until it is
 * repaired or removed. */
bool store_damaged(const store *st);
int64_t store_now_ms(void);
/* The schema version (PRAGMA user_version), or -1. */
int store_schema_version(store *st);
/* How long a write waits for another pipec's lock before "busy" (default
 * 30 s). */
void store_set_busy_timeout(store *st, int ms);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. A failed commit rolls back. Not
 * nested: store_begin inside a transaction is an error. */
int store_begin(store *st);
/* BEGIN (deferred): a reader's transaction, so that many lookups share one
 * snapshot and one lock instead of one each; store_commit ends it (a
 * write inside it takes the write lock then, and may find the workspace
 * busy). */
int store_begin_read(store *st);
int store_commit(store *st);
void store_rollback(store *st);     /* no-op outside a transaction */

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

/* Record files as the pipeline's newest draft unless they equal it (same
 * paths, same bytes, same order): *draft_id is the new revision or the
 * newest one. Concurrent pipecs cannot both add the same revision. */
int store_draft_record(store *st, int64_t pipeline, const store_file *files,
                       uint32_t n, int64_t *draft_id);
/* The files of a draft (malloc'd; free with store_files_free). */
int store_draft_files(store *st, int64_t draft, store_file **files,
                      uint32_t *n);
void store_files_free(store_file *files, uint32_t n);

/* A draft revision, as `pipec drafts` lists it (draft.h). */
typedef struct store_draft {
  int64_t id, pipeline_id, created_ms;
  char *pipeline, *main_path;
  int64_t previous;          /* the pipeline's revision before it, 0 if none */
  int64_t snapshot;          /* the newest snapshot recorded with it, 0 if none */
  int64_t run;               /* the newest run of such a snapshot, 0 if none */
} store_draft;
/* 1 found, 0 not. */
int store_draft_get(store *st, int64_t id, store_draft *out);
/* Newest first; pipeline 0: every pipeline. At most limit (0: all). */
int store_draft_list(store *st, int64_t pipeline, uint32_t limit,
                     store_draft **out, uint32_t *n);
void store_draft_free(store_draft *d);
void store_drafts_free(store_draft *d, uint32_t n);

/* config, params, selection: JSON text; mode: "full", "node", ... The
 * config is stored once per distinct text (store_config_put). */
int store_snapshot_add(store *st, int64_t pipeline, int64_t draft,
                       const char *config, const char *params,
                       const char *mode, const char *selection, int64_t *id);
/* The same with a configuration already stored (its id). */
int store_snapshot_add_config(store *st, int64_t pipeline, int64_t draft,
                              int64_t config_id, const char *params,
                              const char *mode, const char *selection,
                              int64_t *id);

/* Compiled configurations, one row per distinct text, named by h: the
 * XXH3-128 hash of its bytes (hash_buf). find: 1 and its id, 0 none. put:
 * its id, inserting config unless a row with h is there. */
int store_config_find(store *st, const hash128 *h, int64_t *id);
int store_config_put(store *st, const hash128 *h, const char *config,
                     int64_t *id);
/* The configuration a compile gave, by its load id (loadid.h): 1 and its
 * id, 0 none. put: record it. */
int store_config_of_load(store *st, const hash128 *load, int64_t *id);
int store_config_load_put(store *st, const hash128 *load, int64_t id);

typedef struct store_snapshot {
  int64_t id, pipeline_id, draft_id, created_ms;
  char *pipeline, *main_path, *config, *params, *mode, *selection;
  char *label;               /* NULL if none */
  int64_t last_run;          /* newest run of it, 0 if none */
} store_snapshot;

/* Set (label NULL: clear) a snapshot's label. 1 done, 0 no such snapshot. */
int store_snapshot_set_label(store *st, int64_t id, const char *label);

/* 1 found, 0 not. */
int store_snapshot_get(store *st, int64_t id, store_snapshot *out);
/* Newest first; pipeline 0: every pipeline. */
int store_snapshot_list(store *st, int64_t pipeline, uint32_t limit,
                        store_snapshot **out, uint32_t *n);
void store_snapshot_free(store_snapshot *s);
void store_snapshots_free(store_snapshot *s, uint32_t n);

/* A snapshot's -p NAME=VALUE overrides, in the order given (the last of a
 * name wins, as when compiling). */
typedef struct store_override {
  char *name, *value;
} store_override;
int store_snapshot_overrides_add(store *st, int64_t snapshot,
                                 const store_override *ov, uint32_t n);
int store_snapshot_overrides(store *st, int64_t snapshot,
                             store_override **out, uint32_t *n);
void store_overrides_free(store_override *ov, uint32_t n);

/* A snapshot's node selection, read from its selection JSON. 1 found, 0
 * no such snapshot (or no selection: a before-rollback snapshot's is
 * empty, which is found with nothing in it). */
typedef struct store_selection {
  char **nodes;              /* --node / --nodes, in order */
  uint32_t n_nodes;
  char *from, *to;           /* NULL if not given */
  bool force;
  int64_t of_snapshot;       /* run --snapshot N: N, else 0 */
} store_selection;
int store_snapshot_selection(store *st, int64_t snapshot,
                             store_selection *out);
void store_selection_free(store_selection *sel);

/* The files a snapshot read besides its .pipe sources. A code file's bytes
 * are the object `hash` (so gc keeps it and rollback can restore it); a
 * data file (a `path` param) is recorded by its content hash (a directory:
 * its tree hash, is_dir). Paths are as the draft's: relative to the
 * workspace root when inside it, else absolute. */
typedef enum store_file_kind { STORE_FILE_CODE, STORE_FILE_DATA } store_file_kind;
typedef struct store_snap_file {
  store_file_kind kind;
  char *path;
  hash128 hash;
  uint64_t size;
  uint32_t mode;             /* permission bits when recorded (0: unknown) */
  bool is_dir;
} store_snap_file;
int store_snapshot_files_add(store *st, int64_t snapshot,
                             const store_snap_file *f, uint32_t n);
/* Ordered by kind (code first), then path. */
int store_snapshot_files(store *st, int64_t snapshot, store_snap_file **out,
                         uint32_t *n);
void store_snap_files_free(store_snap_file *f, uint32_t n);

/* ---- temporary files written into the project ----------------------------- */

/* A process records each temporary file (absolute path) before it
 * creates it and forgets it once renamed or removed; whoever finds one
 * whose pid is dead removes the file. */
/* Run `run` published object h (output node.port) at path (relative to
 * the pipeline directory); written: it had to be written (else it was
 * already there). */
int store_published_add(store *st, int64_t run, const char *path,
                        const char *node, const char *port, const hash128 *h,
                        bool written);

/* Run `run` expanded its run-time loop `fanout` (of its compiled
 * pipeline), family `family`, into the members keyed by keys (one per
 * line, in order; stored once per distinct list, in key_lists). */
int store_expansion_add(store *st, int64_t run, uint32_t fanout,
                        const char *family, const char *keys);

/* Object h is a tree object (tree.h): gc keeps the objects a live tree
 * names. store_is_tree: 1 yes, 0 no, -1 error. */
int store_tree_add(store *st, const hash128 *h);
int store_is_tree(store *st, const hash128 *h);

typedef struct store_temp {
  char *path;
  int64_t pid;
} store_temp;
int store_temp_add(store *st, const char *path, int64_t pid);
int store_temp_forget(store *st, const char *path);
int store_temps(store *st, store_temp **out, uint32_t *n);
void store_temps_free(store_temp *t, uint32_t n);

/* ---- runs and node runs ---------------------------------------------------- */

int store_run_add(store *st, int64_t snapshot, int64_t pipeline, int64_t pid,
                  int64_t *id);
int store_run_finish(store *st, int64_t run, const char *status, uint32_t ran,
                     uint32_t cached, uint32_t failed);

/* Runs still marked running whose process is gone (killed, crashed) are
 * marked "interrupted", and their unfinished node runs "cancelled". Returns
 * how many runs were fixed. */
int store_runs_reap(store *st, bool (*alive)(int64_t pid));
/* The usual `alive` for store_runs_reap: a process with that pid exists on
 * this machine. */
bool store_pid_alive(int64_t pid);

typedef struct store_run {
  int64_t id, snapshot_id, pipeline_id, started_ms, ended_ms, pid;
  char *pipeline, *status;
  uint32_t ran, cached, failed, nodes;
} store_run;

int store_run_get(store *st, int64_t id, store_run *out);   /* 1 found */
/* The newest run id, 0 if none, -1 on error. */
int64_t store_run_last(store *st);
/* The oldest run still marked running, 0 if none (reap first: then it is
 * alive), -1 on error. */
int64_t store_run_running(store *st);
int store_run_list(store *st, uint32_t limit, store_run **out, uint32_t *n);
void store_run_free(store_run *r);
void store_runs_free(store_run *r, uint32_t n);

typedef struct store_node_run {
  int64_t id, run_id;
  const char *node, *component, *status, *target, *cache_key, *miss_reason,
      *log_path, *job_id, *message;
  const char *image, *image_id; /* the node's image and its id, or NULL */
  bool cache_hit;
  int attempts, exit_code;     /* exit_code -1: none */
  int64_t started_ms, ended_ms;
  int64_t memory;              /* what its last attempt asked for, bytes
                                  (0: none) */
  int64_t peak_memory;         /* that attempt's peak, bytes (0: not
                                  known) */
  int64_t ord;                 /* the node's place in its run's pipeline */
  bool has_ord;                /* (rows of older pipecs have none) */
} store_node_run;

int store_node_run_add(store *st, const store_node_run *nr, int64_t *id);
int store_node_run_started(store *st, int64_t id, int attempt,
                           const char *job_id);
/* The same, for an attempt that started at started_ms (recorded later). */
int store_node_run_started_at(store *st, int64_t id, int attempt,
                              const char *job_id, int64_t started_ms);
/* exit_code >= 0 is recorded; STORE_EXIT_KEEP keeps the one recorded
 * before (a later attempt's, or none); STORE_EXIT_NONE records none (the
 * attempt did not exit by itself: timed out, killed by a signal,
 * cancelled). */
enum { STORE_EXIT_KEEP = -1, STORE_EXIT_NONE = -2 };
int store_node_run_finish(store *st, int64_t id, const char *status,
                          int attempts, int exit_code, const char *message);
/* The memory an attempt asked for and its peak (bytes; 0: none, not
 * known), kept for the node run's last attempt. */
int store_node_run_memory(store *st, int64_t id, int64_t memory,
                          int64_t peak);
/* The node runs of a run, in their nodes' order in the pipeline (ord; then
 * in the order they were recorded). A cached node recorded as a reference
 * (store_run_cached_add) comes as the node run it names, made a cache hit
 * of this run: status "cached", no log, job, attempts or exit code, its
 * times when it was recorded. Strings are owned by the array; free with
 * store_node_runs_free. */
int store_node_run_list(store *st, int64_t run, store_node_run **out,
                        uint32_t *n);
void store_node_runs_free(store_node_run *nr, uint32_t n);

/* Record the nodes of `run` that were cached with exactly the record of an
 * earlier node run (same node, component, target and cache key): ids are
 * those node runs (sorted here, stored as ranges, so a run that changes
 * nothing adds a row or a few, whatever its size). */
int store_run_cached_add(store *st, int64_t run, int64_t *ids, uint32_t n);

/* Which node runs store_node_last_run considers. */
typedef enum store_nr_want {
  STORE_NR_ANY,              /* every one */
  STORE_NR_LOG,              /* the node ran: it has a log */
  STORE_NR_OUTPUTS,          /* succeeded or cached: it has outputs */
} store_nr_want;
/* The newest run, of any pipeline, with a node run of `node` that `want`
 * accepts: 1 and its run id and node run id (either may be NULL), 0 if
 * there is none. For `pipec cat NODE` and `pipec logs NODE` without a run:
 * with two pipelines in a workspace, the newest run may not have NODE. */
int store_node_last_run(store *st, const char *node, store_nr_want want,
                        int64_t *run, int64_t *node_run);
/* Every node name any run recorded (malloc'd strings in a malloc'd array;
 * free each and the array), for "did you mean". At most limit. */
int store_node_names(store *st, uint32_t limit, char ***names, uint32_t *n);

/* ---- cache, artifacts --------------------------------------------------------- */

typedef struct store_output {
  char *port;
  hash128 hash;
  uint64_t size;
  hash_stat st;              /* the object's recorded stat, if has_st */
  bool has_st;
} store_output;

/* Record a cache entry: its outputs (with has_st, each object's stat row
 * is written too, in the same transaction) and the objects it read. */
int store_cache_put(store *st, const hash128 *key, const char *parts,
                    const store_output *outs, uint32_t n,
                    const hash128 *inputs, uint32_t n_inputs,
                    int64_t node_run);
/* 1 and the outputs (free with store_outputs_free), or 0 if absent. Each
 * output comes with its object's stat row when there is one (has_st). */
int store_cache_get(store *st, const hash128 *key, store_output **outs,
                    uint32_t *n);
int store_cache_delete(store *st, const hash128 *key);
void store_outputs_free(store_output *outs, uint32_t n);

/* What a pipeline's nodes were last: per node name, its newest node run
 * that succeeded or was cached, and whether that key's cache entry is there
 * with its outputs (and their objects' stat rows): one query, for a run to
 * look its nodes up in without a query each. The query's answer is kept
 * packed (statepack.h) while nothing it reads is written, so a run after
 * a run that changed nothing reads one row. */
typedef struct store_node_state {
  char *node, *component, *target;
  char *image;                 /* the image the node run names, or NULL */
  int64_t node_run;
  int64_t ord;                 /* (when has_ord) */
  hash128 key;
  bool has_key;
  bool has_ord;                /* the node run has an ord (may be named) */
  bool has_entry;              /* the cache entry of key is there */
  bool entry_is_its;           /* the node run's outputs are the entry's:
                                  it made the entry, or it has no
                                  artifacts of its own */
  store_output *outs;          /* its outputs, by port */
  uint32_t n_outs;
} store_node_state;
int store_pipeline_state(store *st, int64_t pipeline, store_node_state **out,
                         uint32_t *n);
/* Make the packed copy current (a run that wrote to the tables does, so
 * that the next run reads one row): nothing to do if it is. Outside a
 * transaction only. */
int store_pipeline_state_pack(store *st, int64_t pipeline);
void store_node_states_free(store_node_state *v, uint32_t n);


/* The node's newest successful (or cached) run in the pipeline whose key
 * parts are known (they outlive the cache entry): 1 and its node run id,
 * cache key and parts (malloc'd text, ck_parts_format), 0 if there is none.
 * Any out pointer may be NULL. For `pipec why` and miss reasons. */
int store_last_success(store *st, int64_t pipeline, const char *node,
                       int64_t *node_run, hash128 *key, char **parts);
/* store_last_success for the parts only. */
int store_last_parts(store *st, int64_t pipeline, const char *node,
                     char **parts);

int store_artifact_add(store *st, int64_t node_run, const store_output *o);
/* Outputs of a node run (through its cache key, or its artifacts), with
 * their objects' stat rows (has_st) as store_cache_get gives them. */
int store_node_run_outputs(store *st, int64_t node_run, store_output **outs,
                           uint32_t *n);
/* The node run that produced object h first: 1 found. */
int store_object_producer(store *st, const hash128 *h, int64_t *node_run);

/* Every artifact of a run's node runs, by node run then port. */
typedef struct store_artifact {
  int64_t node_run;
  char *node, *port;
  hash128 hash;
  uint64_t size;
} store_artifact;
int store_run_artifacts(store *st, int64_t run, store_artifact **out,
                        uint32_t *n);
void store_artifacts_free(store_artifact *a, uint32_t n);

/* ---- the file-hash index (hash.h callbacks) ---------------------------------- */

/* 1 and the entry, 0 none, < 0 error. path: absolute (the index key). */
int store_file_get(store *st, const char *path, hash_stat *sb, hash128 *h);
int store_file_put(store *st, const char *path, const hash_stat *sb,
                   const hash128 *h);
/* The same with hash_index's callback shapes (ctx: the store). */
int store_index_get(void *ctx, const char *path, hash_stat *sb, hash128 *h);
int store_index_put(void *ctx, const char *path, const hash_stat *sb,
                    const hash128 *h);
/* Fill idx with the two callbacks above on st (now_ns 0: the real clock). */
void store_hash_index(store *st, hash_index *idx);

/* ---- objects ------------------------------------------------------------------ */

/* Record (or refresh) an object's stat: it was stored, or re-hashed and
 * found intact. */
int store_object_put(store *st, const hash128 *h, uint64_t size,
                     const hash_stat *sb);
/* 1 and the recorded size and stat, 0 if the object has no row. */
int store_object_get(store *st, const hash128 *h, uint64_t *size,
                     hash_stat *sb);
/* The object is damaged or gone: drop every cache entry naming it as an
 * output and, with readers, every entry computed from it (cache_inputs);
 * forget its stat row. Returns how many entries were dropped, or -1. */
int store_object_damaged(store *st, const hash128 *h, bool readers);
/* Call fn once for every object a cache entry names, with its size and
 * the name of a node whose entry it is (for messages; may be NULL). */
int store_cached_objects(store *st,
                         void (*fn)(void *ctx, const hash128 *h,
                                    uint64_t size, const char *node),
                         void *ctx);

/* ---- shared caches (sharedcache.h) --------------------------------------------- */

/* Node run node_run was cached from the shared cache named cache. */
int store_shared_hit_add(store *st, int64_t node_run, const char *cache);
typedef struct store_shared_hit {
  int64_t node_run;
  char *cache;
} store_shared_hit;
/* The node runs of run that came from a shared cache, by node run id. */
int store_shared_hits(store *st, int64_t run, store_shared_hit **out,
                      uint32_t *n);
void store_shared_hits_free(store_shared_hit *h, uint32_t n);
/* Every cache key with an entry (malloc'd), oldest first. */
int store_cache_keys(store *st, hash128 **keys, uint32_t *n);
/* The input objects cache entry key was computed from (malloc'd). */
int store_cache_inputs(store *st, const hash128 *key, hash128 **inputs,
                       uint32_t *n);

/* ---- garbage collection ------------------------------------------------------- */

/* Call fn for every object hash that gc keeps (a hash may come more than
 * once). The policy: an object is live if it is an output (artifact, or
 * cache entry named by the node run's key) of a node run in
 *   1. the newest keep_runs runs;
 *   2. the newest run of every pipeline (its results stay readable with
 *      `pipec cat`, and re-running it is cached);
 *   3. the newest run of every labeled snapshot;
 *   4. every run still marked running (its outputs are being committed);
 * or it is the output of
 *   5. the newest succeeded or cached node run of every node of each
 *      pipeline's newest configuration (the config of its newest run), so
 *      a partial run (--node, --from) still finds its upstream inputs
 *      however many runs ago they were made;
 * and every code file of every snapshot (a snapshot is the configuration:
 * rollback restores those bytes).
 * Everything else may go; a cache entry naming a removed object must then
 * be dropped (store_cache_drop_object) and the node simply runs again. */
int store_live_objects(store *st, uint32_t keep_runs,
                       void (*fn)(void *ctx, const hash128 *h), void *ctx);
/* Call fn for the log of every node run the policy above does not keep
 * (with keep_runs as there): a collected run's logs go with its outputs. */
int store_dead_logs(store *st, uint32_t keep_runs,
                    void (*fn)(void *ctx, int64_t run, const char *log_path),
                    void *ctx);
/* Drop cache entries naming h as an output, and its stat row (it is not
 * in the store any more). */
int store_cache_drop_object(store *st, const hash128 *h);

/* ---- views: what `pipec ui` lists ------------------------------------------ */

typedef struct store_pipeline {
  int64_t id;
  char *name, *main_path;
  int64_t last_run;          /* its newest run, 0 if none */
  uint32_t runs;             /* how many runs it has */
} store_pipeline;
/* Every pipeline, by name then main file. */
int store_pipeline_list(store *st, store_pipeline **out, uint32_t *n);
void store_pipelines_free(store_pipeline *p, uint32_t n);
/* Runs newest first: of pipeline (0: every pipeline) with id < before (0:
 * from the newest), at most limit (0: all); *total (may be NULL): how many
 * runs the pipeline has in all. */
int store_run_page(store *st, int64_t pipeline, int64_t before,
                   uint32_t limit, store_run **out, uint32_t *n,
                   uint32_t *total);
/* The newest run with id > after made by process pid: 1 and its id, 0. */
int store_run_by_pid(store *st, int64_t pid, int64_t after, int64_t *run);
/* Call fn with each node run's node and status, in the order recorded
 * (the strings are valid during the call only): cheaper than
 * store_node_run_list for a live view of 10^5 nodes. */
int store_node_run_statuses(store *st, int64_t run,
                            void (*fn)(void *ctx, const char *node,
                                       const char *status),
                            void *ctx);
/* store_snapshot_get and store_snapshot_list without the compiled config
 * (config is NULL): what a listing needs, without megabytes per row. */
int store_snapshot_brief(store *st, int64_t id, store_snapshot *out);
int store_snapshot_list_brief(store *st, int64_t pipeline, uint32_t limit,
                              store_snapshot **out, uint32_t *n);

#endif
