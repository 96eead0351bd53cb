/*
 * engine.h — libpipec: the engine as a library.
 *
 * What the `pipec` command does goes through these functions: open a
 * workspace, compile a pipeline with the built-in components, run it with
 * an event callback for progress, ask why a node would run, read the
 * history, compare and restore snapshots and drafts, verify and collect
 * the cache, see what live runs hold on each target, run one built-in
 * component by itself. `pipec ui` and any other program use the same
 * calls (docs/library.md):
 *
 *     cc prog.c $(pkg-config --cflags --libs pipec)
 *
 *     pipec_diags d; pipec_diags_init(&d);
 *     pipec_pipeline *p = pipec_load("etl.pipe", NULL, &d);
 *     pipec_ws *w; pipec_error e;
 *     pipec_ws_opts wo = {.file = "etl.pipe", .create = true};
 *     pipec_ws_open(&wo, &w, &e);
 *     pipec_run_opts ro = {.jobs = 4};
 *     pipec_run_summary s;
 *     int code = pipec_run(w, p, &ro, &s, &e);     (PIPEC_EXIT_*)
 *
 * Conventions
 *   - Functions return 0 on success (lookups: 1 found, 0 not found) or a
 *     negative PIPEC_E* code, with a one-line message in *err (err may be
 *     NULL). Runs return an exit code (PIPEC_EXIT_*).
 *   - Strings passed in are borrowed. Structs handed out own their strings
 *     and arrays: free them with the matching *_free function. Out-structs
 *     are zeroed first, so freeing after a failure is safe.
 *   - A pipec_ws is one connection to one workspace, for one thread at a
 *     time. Many processes may use one workspace at once.
 */
#ifndef PIPEC_ENGINE_H
#define PIPEC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler.h"
#include "export.h"
#include "ir.h"

/* ---- errors and exit codes -------------------------------------------- */

enum {
  PIPEC_E_USAGE = -2,      /* a bad argument: no such run, node, option */
  PIPEC_E_WORKSPACE = -3,  /* the workspace cannot be used (no workspace,
                              a damaged database, a full disk) */
  PIPEC_E_IO = -4,         /* a file could not be read or written */
  PIPEC_E_BUSY = -5,       /* another pipec holds what this needs */
  PIPEC_E_FAILED = -6,     /* the operation ran and found a problem (verify
                              found damage, gc refused) */
  PIPEC_E_GONE = -7,       /* what was asked for is no longer there (an
                              object gc or verify removed) */
  PIPEC_E_DAMAGED = -8,    /* stored bytes do not match their hash: they
                              were removed (err says what was wrong) */
  PIPEC_E_AGAIN = -9,      /* it changed while it was being read: try
                              again */
};

/* Exit codes of the pipec command (DESIGN §5, docs/cli.md). */
enum {
  PIPEC_EXIT_OK = 0,
  PIPEC_EXIT_FAILED = 1,       /* a node failed */
  PIPEC_EXIT_USAGE = 2,        /* bad usage or a compile error */
  PIPEC_EXIT_WORKSPACE = 3,    /* the workspace cannot be used */
  PIPEC_EXIT_INTERRUPTED = 130,
};

typedef struct pipec_error {
  int code;                    /* the negative code returned, or 0 */
  char msg[1024];
} pipec_error;

/* Install what libpipec does when memory runs out (it must not return);
 * the default prints a message and aborts. */
PIPEC_API void pipec_set_oom_handler(void (*fn)(size_t n));

PIPEC_API const char *pipec_version(void);

/* ---- workspaces ---------------------------------------------------------- */

typedef struct pipec_ws pipec_ws;

typedef struct pipec_ws_opts {
  /* The pipeline file the command is about, or NULL: the workspace is
   * looked for from the file's directory upwards first, then from the
   * current directory; $PIPEC_HOME, when set, wins. */
  const char *file;
  bool create;                 /* create one (in the file's project, or the
                                  current directory) if none is found */
} pipec_ws_opts;

PIPEC_API int pipec_ws_open(const pipec_ws_opts *o, pipec_ws **out,
                            pipec_error *err);
PIPEC_API void pipec_ws_close(pipec_ws *w);
/* The project directory (.pipec's parent), absolute. */
PIPEC_API const char *pipec_ws_root(const pipec_ws *w);
/* The .pipec directory. */
PIPEC_API const char *pipec_ws_dir(const pipec_ws *w);
/* True if pipec_ws_open created the workspace. */
PIPEC_API bool pipec_ws_created(const pipec_ws *w);
/* Open the workspace's database now (every call that needs it opens it
 * on first use otherwise), reap runs killed before they could say so and
 * remove what a killed rollback or restore left: 0, or PIPEC_E_WORKSPACE
 * if it cannot be used (damaged, unreadable, busy), with the reason. */
PIPEC_API int pipec_ws_check(pipec_ws *w, pipec_error *err);

/* ---- compiling ------------------------------------------------------------ */

typedef struct pipec_load_opts {
  const char *const *overrides;  /* "NAME=VALUE" for pipeline params */
  uint32_t n_overrides;
  const char *quota_file;        /* the quota groups' file; NULL: the
                                    workspace's .pipec/quotas.pipe (the
                                    workspace pipec_ws_open would find for
                                    path; none if there is none or it has
                                    no such file) */
} pipec_load_opts;

/* Compile path with this pipec's built-in components, plugin loader,
 * target kinds and the workspace's quota groups, with imports and files
 * checked to be inside the project; diagnostics go to d. NULL if any
 * error was reported. o may be NULL. */
PIPEC_API pipec_pipeline *pipec_load(const char *path,
                                     const pipec_load_opts *o,
                                     pipec_diags *d);

/* ---- running ---------------------------------------------------------------- */

typedef enum pipec_event_kind {
  PIPEC_EV_RUN_START,   /* run, snapshot, total: the run is recorded */
  PIPEC_EV_NODE_START,  /* node, target, job, attempt: an attempt began */
  PIPEC_EV_NODE_RETRY,  /* node, attempt (the one that failed), detail */
  PIPEC_EV_NODE_DONE,   /* node, status, detail (why it failed; for a
                           node cached from a shared cache "shared: NAME"),
                           seconds (-1 if it did not run), log */
  PIPEC_EV_PLAN,        /* dry run: node, status ("cached", "would run",
                           "would fail"), detail (why) */
  PIPEC_EV_RESULT,      /* after the run, each final output: node, port,
                           port_type, size */
  PIPEC_EV_NOTICE,      /* detail: something the user should know
                           (-j lowered, a record that failed) */
  PIPEC_EV_RUN_END,     /* run, the counts, seconds */
  PIPEC_EV_EXPANDED,    /* a run-time loop expanded: node (the family),
                           total (its members), detail (what it says) */
  PIPEC_EV_PUBLISHED,   /* publish: node, port, detail (the path, relative
                           to the pipeline's directory), status ("written",
                           "up to date" or "failed"), size */
} pipec_event_kind;

typedef struct pipec_event {
  pipec_event_kind kind;
  int64_t run;                 /* 0 for a dry run */
  int64_t snapshot;
  const char *node;
  const char *status;          /* succeeded cached failed skipped
                                  cancelled (NODE_DONE) */
  const char *target;
  const char *job;
  const char *detail;
  const char *log;             /* the node's log file, or NULL */
  const char *port;
  const char *port_type;
  uint64_t size;
  int attempt;
  double seconds;
  uint32_t total;              /* nodes in the plan */
  const char *family;          /* NODE_START, NODE_DONE of a family's
                                  member: the family ("aligned"), else NULL */
  uint32_t family_done, family_total;  /* its members settled / in the run */
  uint32_t ran, cached, failed, skipped, cancelled;
  bool dry_run;
  const char *path;            /* PUBLISHED: the file's absolute path (detail
                                  is the path the .pipe file wrote) */
} pipec_event;

typedef void (*pipec_event_fn)(void *ctx, const pipec_event *ev);

typedef struct pipec_run_opts {
  const char *const *overrides;  /* the -p values the pipeline was compiled
                                    with, recorded in the snapshot */
  uint32_t n_overrides;
  const char *const *nodes;      /* --node / --nodes (a family name selects
                                    its members) */
  uint32_t n_nodes;
  const char *from, *to;         /* --from / --to, or NULL */
  int jobs;                      /* -j; <= 0: the number of cores */
  bool keep_going;
  bool dry_run;                  /* plan only: PIPEC_EV_PLAN events */
  bool force;                    /* ignore the cache for the plan's nodes */
  bool no_signals;               /* leave SIGINT/SIGTERM alone (default:
                                    the first cancels, the second kills) */
  pipec_event_fn on_event;       /* NULL: no events */
  void *event_ctx;
  const char *root;              /* the project paths are recorded against
                                    and published into; NULL: the
                                    workspace's (a snapshot's checkout
                                    gives its own) */
  int64_t of_snapshot;           /* the snapshot a `run --snapshot N`
                                    replays (recorded in its selection),
                                    or 0 */
} pipec_run_opts;

typedef struct pipec_run_summary {
  int64_t run, snapshot;         /* run 0 for a dry run */
  uint32_t ran, cached, failed, skipped, cancelled;
  bool interrupted;
} pipec_run_summary;

/* Run p (compiled by pipec_load) in w. Returns a PIPEC_EXIT_* code; with
 * USAGE or WORKSPACE, err says what stopped the run before it started. */
PIPEC_API int pipec_run(pipec_ws *w, const pipec_pipeline *p,
                        const pipec_run_opts *o, pipec_run_summary *res,
                        pipec_error *err);

typedef enum pipec_why_verdict {
  PIPEC_WHY_CACHED,       /* node would not run; key says which entry */
  PIPEC_WHY_RUNS,         /* node would run: reason */
  PIPEC_WHY_UPSTREAM,     /* upstream would run first: upstream, reason */
  PIPEC_WHY_UNKEYABLE,    /* a node's key cannot be computed: upstream
                             (the node), reason */
} pipec_why_verdict;

typedef struct pipec_why {
  pipec_why_verdict verdict;
  char *node, *upstream, *reason;
  char key[33];
  char *image;                 /* the node's image as named, or NULL */
  char *image_id;              /* its id on the node's target (part of the
                                  key), or NULL if it could not be found */
  /* the node's newest run that ran it, if any: what its last attempt
   * asked for and its peak (bytes, 0: none / not measured) and
   * pipec_memory_advice of them */
  int64_t memory, peak_memory, advice_memory;
} pipec_why;

/* Would node run, and why (the part of its cache key that changed since
 * its last success)? Runs and records nothing. 0, or PIPEC_E_USAGE for an
 * unknown node (with the nearest name), PIPEC_E_WORKSPACE. */
PIPEC_API int pipec_why_node(pipec_ws *w, const pipec_pipeline *p,
                             const char *node, pipec_why *out,
                             pipec_error *err);
PIPEC_API void pipec_why_free(pipec_why *y);

/* ---- history ------------------------------------------------------------------ */

typedef struct pipec_run_info {
  int64_t id, snapshot, started_ms, ended_ms;  /* ended 0: not yet */
  char *pipeline, *status;     /* running succeeded failed cancelled
                                  interrupted */
  uint32_t ran, cached, failed, nodes;
} pipec_run_info;

/* The newest runs first (limit 0: all). */
PIPEC_API int pipec_runs(pipec_ws *w, uint32_t limit, pipec_run_info **out,
                         uint32_t *n, pipec_error *err);
/* 1 found, 0 no such run. */
PIPEC_API int pipec_run_get(pipec_ws *w, int64_t id, pipec_run_info *out,
                            pipec_error *err);
PIPEC_API void pipec_run_infos_free(pipec_run_info *r, uint32_t n);
/* Free what one pipec_run_info holds (from pipec_run_get); zeroes it. */
PIPEC_API void pipec_run_info_free(pipec_run_info *r);

typedef struct pipec_node_info {
  int64_t id;                  /* the node run */
  char *name, *component, *status, *target, *job, *cache_key;
  char *reason;                /* why it ran (a cache miss) */
  char *message;               /* why it failed */
  char *log;                   /* its log file, or NULL */
  bool cache_hit;
  int attempts;
  int exit_code;               /* -1: none */
  int64_t started_ms, ended_ms;
  char *image;                 /* the image it ran in (or was cached for),
                                  as named; NULL: none */
  char *image_id;              /* that image's id ("sha256:..."), or NULL */
  char *shared;                /* cached from this shared cache (its name;
                                  docs/cache.md), or NULL */
  int64_t memory;              /* bytes its last attempt asked for, 0:
                                  none */
  int64_t peak_memory;         /* that attempt's peak (the largest resident
                                  set of its processes), bytes; 0: not
                                  measured */
  int64_t advice_memory;       /* pipec_memory_advice(memory, peak) */
} pipec_node_info;

/* What a node that asked for memory (bytes) and peaked at peak should ask
 * for: 0 if the request suits it (the peak at most an eighth over it, and
 * not far below: above a quarter of it, or less than 64 MiB apart), else a
 * quarter more than the peak, in whole MiB. 0 when either is not known. */
PIPEC_API int64_t pipec_memory_advice(int64_t memory, int64_t peak);

/* The node runs of a run, in the order they were recorded. */
PIPEC_API int pipec_run_nodes(pipec_ws *w, int64_t run, pipec_node_info **out,
                              uint32_t *n, pipec_error *err);
PIPEC_API void pipec_node_infos_free(pipec_node_info *v, uint32_t n);

/* Which node runs pipec_node_last_run considers. */
typedef enum pipec_node_want {
  PIPEC_NODE_ANY,              /* every one */
  PIPEC_NODE_RAN,              /* the node ran there: it has a log */
  PIPEC_NODE_HAS_OUTPUTS,      /* succeeded or cached: it has outputs */
} pipec_node_want;

/* The newest run, of any pipeline, with a node run of `node` that want
 * accepts (two pipelines may share a workspace: the newest run need not
 * have the node): 1 with its run id and node run id (either pointer may
 * be NULL), 0 if there is none. What `pipec cat NODE` and `pipec logs
 * NODE` mean without a run. */
PIPEC_API int pipec_node_last_run(pipec_ws *w, const char *node,
                                  pipec_node_want want, int64_t *run,
                                  int64_t *node_run, pipec_error *err);

/* Every node name any run recorded, at most limit (0: all), for "did you
 * mean". *names is the caller's: pipec_strings_free. */
PIPEC_API int pipec_node_names(pipec_ws *w, uint32_t limit, char ***names,
                               uint32_t *n, pipec_error *err);
PIPEC_API void pipec_strings_free(char **v, uint32_t n);

typedef struct pipec_output_info {
  char *port;
  char hash[33];
  uint64_t size;
} pipec_output_info;

/* The outputs a node run produced or reused. */
PIPEC_API int pipec_node_outputs(pipec_ws *w, int64_t node_run,
                                 pipec_output_info **out, uint32_t *n,
                                 pipec_error *err);
PIPEC_API void pipec_output_infos_free(pipec_output_info *v, uint32_t n);

/* Open a stored output for reading, once it is known intact (its stat as
 * recorded, or re-hashed). *fd is the caller's. Errors: PIPEC_E_USAGE
 * (not a hash), PIPEC_E_GONE (not in the store), PIPEC_E_DAMAGED (removed
 * with the cache entries naming it, so its node runs again; err says what
 * was wrong), PIPEC_E_AGAIN (it changed while it was opened), PIPEC_E_IO
 * (it cannot be read; err says why), PIPEC_E_WORKSPACE. */
PIPEC_API int pipec_output_open(pipec_ws *w, const char *hash, int *fd,
                                pipec_error *err);

/* ---- the cache -------------------------------------------------------------- */

typedef struct pipec_verify_result {
  uint32_t checked;            /* objects re-hashed */
  uint32_t damaged, odd, missing, unreadable;
  uint32_t dropped;            /* cache entries dropped */
} pipec_verify_result;

/* kind: "damaged" (its bytes do not match its name), "not a file" (a
 * link or directory under an object's name), "missing" (named by the
 * cache, absent), "unreadable"; hash: 32 hex digits. */
typedef void (*pipec_problem_fn)(void *ctx, const char *kind,
                                 const char *hash, const char *msg);

/* Re-hash every object; each problem goes to fn (may be NULL) and is
 * repaired: a damaged or odd object is removed with the cache entries
 * naming it or computed from it, so those nodes run again. 0 (look at
 * res for problems), or a negative code if the store cannot be read. */
PIPEC_API int pipec_cache_verify(pipec_ws *w, pipec_problem_fn fn, void *ctx,
                                 pipec_verify_result *res, pipec_error *err);

typedef struct pipec_gc_result {
  uint32_t objects_removed, objects_kept, logs_removed;
  uint64_t bytes_freed, bytes_kept, log_bytes_freed;
  int64_t running;             /* the run that is going, if gc refused */
} pipec_gc_result;

/* Remove what no kept run needs (docs/cli.md: the newest keep runs, the
 * newest run of every pipeline ...). PIPEC_E_BUSY while a run is going. */
PIPEC_API int pipec_cache_gc(pipec_ws *w, uint32_t keep, pipec_gc_result *res,
                             pipec_error *err);

/* What `pipec cache push` or `pull` did with one shared cache. */
typedef struct pipec_cache_sync {
  const char *cache;           /* its name */
  uint32_t copied;             /* entries pushed or pulled */
  uint32_t present;            /* entries already on the other side */
  uint32_t bad;                /* entries that could not be copied (each
                                  reported to the problem callback) */
  uint32_t objects;            /* objects copied */
  uint64_t bytes;
} pipec_cache_sync;

typedef struct pipec_cache_sync_cbs {
  void *ctx;
  /* An entry that could not be copied (key: 32 hex): what was wrong. */
  void (*problem)(void *ctx, const char *cache, const char *key,
                  const char *msg);
  /* One cache is done. */
  void (*done)(void *ctx, const pipec_cache_sync *r);
} pipec_cache_sync_cbs;

/* Copy every cache entry of the workspace that the shared cache `name`
 * (NULL: each writable one) lacks into it, objects first
 * (docs/cache.md). 0 (bad entries, if any, went to the callback);
 * PIPEC_E_USAGE (no shared cache configured, no such name, a readonly one,
 * a bad .pipec/config or $PIPEC_CACHE); PIPEC_E_IO (a cache cannot be
 * reached or written); PIPEC_E_WORKSPACE. */
PIPEC_API int pipec_cache_push(pipec_ws *w, const char *name,
                               const pipec_cache_sync_cbs *cb,
                               pipec_error *err);
/* Copy every entry the shared cache `name` (NULL: each one) has and the
 * workspace lacks into its store, each object re-hashed; an unusable entry
 * (an object missing or damaged) is reported and left. Errors as push. */
PIPEC_API int pipec_cache_pull(pipec_ws *w, const char *name,
                               const pipec_cache_sync_cbs *cb,
                               pipec_error *err);

/* ---- snapshots ------------------------------------------------------------------ */

typedef struct pipec_override {
  char *name, *value;
} pipec_override;

/* A snapshot: what one run ran (or, mode "before-rollback", the files a
 * rollback replaced). */
typedef struct pipec_snapshot_info {
  int64_t id, created_ms;
  int64_t draft;               /* its .pipe files: a draft revision */
  int64_t run;                 /* the newest run of it, 0 if none */
  char *pipeline, *file;       /* the pipeline's name and main file */
  char *mode;                  /* full node nodes from to from-to
                                  before-rollback */
  char *label;                 /* NULL if none */
  pipec_override *overrides;   /* the run's -p NAME=VALUE, in the order
                                  given (the last of a name wins) */
  uint32_t n_overrides;
  char **nodes;                /* the selection: --node / --nodes ... */
  uint32_t n_nodes;
  char *from, *to;             /* ... --from / --to (NULL if not given) */
  bool force;
  int64_t of_snapshot;         /* run --snapshot N: N, else 0 */
} pipec_snapshot_info;

/* Snapshots, newest first, at most limit (0: all); file (NULL: every
 * pipeline) picks the pipeline whose main file it is, and is
 * PIPEC_E_USAGE ("FILE has never run in this workspace") if there is
 * none. Free with pipec_snapshot_infos_free. */
PIPEC_API int pipec_snapshots(pipec_ws *w, const char *file, uint32_t limit,
                              pipec_snapshot_info **out, uint32_t *n,
                              pipec_error *err);
PIPEC_API void pipec_snapshot_infos_free(pipec_snapshot_info *s, uint32_t n);

/* Recompile snapshots a and b from their stored files and write what
 * changed from a to b to out, one line per difference ("param    x: 10.0
 * -> 20.0", "added    node c (shell)", a unified diff under each changed
 * text file; docs/cli.md), or "snapshots A and B are the same
 * configuration". Compile diagnostics go to d (may be NULL). Returns the
 * number of differences, PIPEC_E_USAGE (no such snapshot, or one no
 * longer compiles) or PIPEC_E_WORKSPACE. */
PIPEC_API int pipec_snapshot_diff(pipec_ws *w, int64_t a, int64_t b,
                                  FILE *out, pipec_diags *d,
                                  pipec_error *err);

/* Write snapshot id's .pipe and code files back into the project, byte
 * for byte, after recording the files as they are now as a new
 * "before-rollback" snapshot (*saved, may be NULL), so it can be undone.
 * Nothing is written through a symbolic link that leads out of the
 * project (the whole rollback is refused first); killed at any moment, it
 * leaves every file as it was or as the snapshot has it. out gets one line
 * per file with dry_run ("restore  p.pipe", "create   ...", "unchanged
 * ..."), else "restored N files of snapshot ..." (or that they already
 * match). Returns the files written (or, dry, that would change);
 * PIPEC_E_USAGE (no such snapshot), PIPEC_E_FAILED (refused, or a file
 * could not be written; err says which), PIPEC_E_WORKSPACE. */
PIPEC_API int pipec_rollback(pipec_ws *w, int64_t id, bool dry_run,
                             FILE *out, int64_t *saved, pipec_error *err);

enum {
  PIPEC_ROLLBACK_DRY_RUN = 1u << 0,
  PIPEC_ROLLBACK_DATA = 1u << 1,   /* also the data files the snapshot read
                                      (path params, source files and
                                      directories), from the store */
};
/* pipec_rollback with PIPEC_ROLLBACK_* flags. */
PIPEC_API int pipec_rollback_ex(pipec_ws *w, int64_t id, unsigned flags,
                                FILE *out, int64_t *saved, pipec_error *err);

/* Snapshot id's files as a project of their own, for running exactly
 * that configuration (`pipec run FILE --snapshot N`): its .pipe, code and
 * data files copied from the store into .pipec/checkout/N/. Compile
 * `main` with `overrides`, then run it with pipec_run_opts.root = dir:
 * the working files are not touched (publishes land in the checkout). */
typedef struct pipec_checkout {
  char *dir;                   /* the checkout */
  char *main;                  /* its main .pipe file */
  char *main_rec;              /* the main file's path in the project */
  char **overrides;            /* the snapshot's -p values, "NAME=VALUE" */
  uint32_t n_overrides;
} pipec_checkout;

PIPEC_API int pipec_snapshot_checkout(pipec_ws *w, int64_t id,
                                      pipec_checkout *out, pipec_error *err);
PIPEC_API void pipec_checkout_free(pipec_checkout *c);

/* ---- drafts ---------------------------------------------------------------------- */

typedef enum pipec_change_kind {
  PIPEC_CHANGE_ADDED,          /* a file the revision before did not have */
  PIPEC_CHANGE_CHANGED,        /* other bytes */
  PIPEC_CHANGE_REMOVED,        /* a file it no longer has */
} pipec_change_kind;

typedef struct pipec_file_change {
  char *path;
  pipec_change_kind kind;
} pipec_file_change;

/* A draft revision: the bytes of every .pipe file of a pipeline as pipec
 * saw them (each run, dry or not, records one when they changed; so do
 * rollback and pipec_draft_restore, of the files they replace). */
typedef struct pipec_draft_info {
  int64_t id, created_ms;
  char *pipeline, *file;       /* the pipeline's name and main file */
  int64_t previous;            /* the pipeline's revision before, 0: none */
  char **files;                /* its files, main file first */
  uint32_t n_files;
  pipec_file_change *changes;  /* what differs from previous (for the
                                  first revision: every file, added), in
                                  the order of files, then those removed */
  uint32_t n_changes;
  int64_t snapshot;            /* the newest snapshot recorded with it */
  int64_t run;                 /* the newest run of those (0: none) */
} pipec_draft_info;

/* Drafts, newest first, at most limit (0: all); file as for
 * pipec_snapshots. Free with pipec_draft_infos_free. */
PIPEC_API int pipec_drafts(pipec_ws *w, const char *file, uint32_t limit,
                           pipec_draft_info **out, uint32_t *n,
                           pipec_error *err);
/* 1 found, 0 no such draft. Free with pipec_draft_info_free. */
PIPEC_API int pipec_draft_get(pipec_ws *w, int64_t id, pipec_draft_info *out,
                              pipec_error *err);
PIPEC_API void pipec_draft_info_free(pipec_draft_info *d);
PIPEC_API void pipec_draft_infos_free(pipec_draft_info *d, uint32_t n);

/* Write what draft id changed against the pipeline's revision before it
 * (or, for the first, every file as added) to out: per file "file     P:
 * changed" (added, removed) and its unified diff ("--- a/P (draft 2)",
 * "+++ b/P (draft 3)"; "/dev/null" for the missing side). Returns the
 * number of files that differ, PIPEC_E_USAGE (no such draft) or
 * PIPEC_E_WORKSPACE. */
PIPEC_API int pipec_draft_diff(pipec_ws *w, int64_t id, FILE *out,
                               pipec_error *err);

/* Write draft id's files back into the project, as pipec_rollback does
 * (links leading out refused, safe to kill), after recording the files
 * as they are now as a new draft revision (*saved, may be NULL; the
 * newest one if they equal it), so it can be undone with another restore.
 * out and the result as for pipec_rollback ("restored N files of draft
 * ..."). */
PIPEC_API int pipec_draft_restore(pipec_ws *w, int64_t id, bool dry_run,
                                  FILE *out, int64_t *saved,
                                  pipec_error *err);

/* ---- targets -------------------------------------------------------------------- */

typedef struct pipec_target_use {
  uint32_t nodes;              /* nodes of live runs running there now */
  int64_t cpus, memory, gpus, slots;           /* in use */
  int64_t max_cpus, max_memory, max_gpus, max_slots;  /* 0: no limit */
  bool limits_gpus;            /* the target names its gpus: max_gpus is
                                  the limit even when it is 0 */
} pipec_target_use;

/* The container runtime of one target (docs/containers.md). */
typedef struct pipec_target_runtime {
  char *name;                  /* "podman" or "docker" */
  char *path;                  /* where its host has it, or NULL */
  char *version;               /* what `RUNTIME --version` says, or NULL */
  char *error;                 /* why path and version are not known */
  bool probed;                 /* the host was asked: only targets that
                                  run nodes with an image are */
} pipec_target_runtime;

/* Each of p's targets' runtime into out (p->n_targets entries), asking
 * the hosts of the targets whose nodes name an image (an ssh target's
 * host through ssh). 0, or PIPEC_E_FAILED. */
PIPEC_API int pipec_target_runtimes(const pipec_pipeline *p,
                                    pipec_target_runtime *out,
                                    pipec_error *err);
PIPEC_API void pipec_target_runtimes_free(pipec_target_runtime *v,
                                          uint32_t n);

/* Called for each image this machine's runtime cannot give: node is the
 * first node naming it, message says what is wrong and how to fix it. */
typedef void (*pipec_image_fn)(void *ctx, const pipec_node *node,
                               const char *message);

/* For `pipec check`: look up the images of p's nodes on its targets of
 * kind `local` (this machine's runtime), reporting each one missing, or
 * without a runtime, to fn. Returns how many were reported, or a negative
 * PIPEC_E_* code. */
PIPEC_API int pipec_images_check(const pipec_pipeline *p, pipec_image_fn fn,
                                 void *ctx, pipec_error *err);

/* What live runs of p in w hold on each of p's targets now; use has
 * p->n_targets entries. w may be NULL (nothing is in use). */
PIPEC_API int pipec_targets_use(pipec_ws *w, const pipec_pipeline *p,
                                pipec_target_use *use, pipec_error *err);

/* What every live run of the workspace holds of a quota group now (its
 * limits are the pipeline's pipec_quota). */
typedef struct pipec_group_use {
  int64_t cpus, memory, gpus, jobs;  /* held: jobs = nodes running */
  uint32_t runs;               /* live runs holding some of it */
  uint32_t waiting;            /* nodes waiting for a share (at most one
                                  per run: the head of its queue) */
} pipec_group_use;

/* The use of each of p's quota groups (use has p->n_quotas entries),
 * across all live runs of w, any pipeline. w may be NULL (nothing is in
 * use). */
PIPEC_API int pipec_groups_use(pipec_ws *w, const pipec_pipeline *p,
                               pipec_group_use *use, pipec_error *err);

/* ---- one built-in by itself ------------------------------------------------------- */

typedef struct pipec_exec_request {
  const char *component;         /* "table.filter" */
  const char *plugin;            /* the plugin it comes from, or NULL */
  const char *workdir;           /* NULL: "." */
  const char *const *inputs;     /* "PORT=PATH" each */
  uint32_t n_inputs;
  const char *const *outputs;    /* "PORT=PATH" each */
  uint32_t n_outputs;
  const char *const *params;     /* "NAME=VALUE", command-line literal
                                    form; missing ones take defaults */
  uint32_t n_params;
} pipec_exec_request;

/* ---- a command measured ------------------------------------------------------------ */

typedef struct pipec_measure_request {
  const char *report;            /* where the report goes ("peak=BYTES
                                    oom=0|1 enforced=0|1") */
  int64_t memory;                /* > 0: the command's memory limit, in a
                                    memory cgroup where this machine
                                    allows one (else it is said on stderr
                                    that it is not enforced) */
  char *const *argv;             /* the command (argv[0] looked up in
                                    PATH) */
} pipec_measure_request;

typedef struct pipec_measure_result {
  int exit_code;                 /* valid if !term_signal */
  int term_signal;               /* the signal that ended it, or 0 */
  int64_t peak_memory;           /* its largest resident set, bytes */
  bool out_of_memory;            /* killed for memory */
  bool enforced;                 /* the limit was a memory cgroup's */
} pipec_measure_result;

/* Run a command, wait for it (through SIGINT, SIGTERM, SIGHUP, which
 * reach it as well) and write its report: what the ssh and Slurm targets
 * run a node's command under (`pipec measure`), to learn its peak memory
 * and whether it was killed for memory. 0 with *res set (the caller then
 * ends as the command did), or PIPEC_E_USAGE / PIPEC_E_FAILED (it could
 * not start) with err. */
PIPEC_API int pipec_measure(const pipec_measure_request *rq,
                            pipec_measure_result *res, pipec_error *err);

/* Run one built-in component by itself: the receiving half of the
 * engine's protocol for running built-ins on any target (`pipec exec`).
 * SIGINT/SIGTERM ask the component to stop. Returns PIPEC_EXIT_OK, USAGE
 * (err says what is wrong with the request), FAILED (err: "NAME: why") or
 * INTERRUPTED. */
PIPEC_API int pipec_exec(const pipec_exec_request *rq, pipec_error *err);

/* ---- views: what a program showing a workspace needs (pipec ui) ------------------ */

/* A pipeline of the workspace: one per (name, main file) that ran. */
typedef struct pipec_pipeline_info {
  int64_t id;
  char *name;
  char *file;                  /* its main file, relative to the workspace
                                  root (absolute if outside it) */
  int64_t last_run;            /* its newest run, 0 if none */
  uint32_t runs;               /* how many runs it has */
} pipec_pipeline_info;

/* Every pipeline that ever ran here, by name then file. Free with
 * pipec_pipeline_infos_free. */
PIPEC_API int pipec_pipelines(pipec_ws *w, pipec_pipeline_info **out,
                              uint32_t *n, pipec_error *err);
PIPEC_API void pipec_pipeline_infos_free(pipec_pipeline_info *p, uint32_t n);

/* One page of runs, newest first: those of pipeline (a
 * pipec_pipeline_info id; 0: every pipeline) with an id below before (0:
 * from the newest), at most limit; *total (may be NULL) is how many runs
 * the pipeline has in all. Free with pipec_run_infos_free. */
PIPEC_API int pipec_runs_page(pipec_ws *w, int64_t pipeline, int64_t before,
                              uint32_t limit, pipec_run_info **out,
                              uint32_t *n, uint32_t *total, pipec_error *err);

/* The newest run with an id above after that process pid started (a
 * `pipec run` a program spawned): 1 and *run, 0 none yet. */
PIPEC_API int pipec_run_by_pid(pipec_ws *w, int64_t pid, int64_t after,
                               int64_t *run, pipec_error *err);

/* Call fn with the name and status of each node run of run, in the order
 * recorded (the strings live during the call only): what a live view
 * polls, without the rest of pipec_run_nodes. */
typedef void (*pipec_status_fn)(void *ctx, const char *node,
                                const char *status);
PIPEC_API int pipec_run_statuses(pipec_ws *w, int64_t run, pipec_status_fn fn,
                                 void *ctx, pipec_error *err);

/* One snapshot, as pipec_snapshots lists it: 1 found, 0 no such
 * snapshot. Free what it holds with pipec_snapshot_info_free. */
PIPEC_API int pipec_snapshot_get(pipec_ws *w, int64_t id,
                                 pipec_snapshot_info *out, pipec_error *err);
/* Free what one pipec_snapshot_info holds; zeroes it. */
PIPEC_API void pipec_snapshot_info_free(pipec_snapshot_info *s);

/* Compile snapshot id from its stored files and -p values, as it ran (the
 * DAG of a past run). NULL with err, or diagnostics in d (may be NULL). */
PIPEC_API pipec_pipeline *pipec_snapshot_load(pipec_ws *w, int64_t id,
                                              pipec_diags *d,
                                              pipec_error *err);

#endif
