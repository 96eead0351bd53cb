/*
 * ui_int.h — what the web view's modules share: the server's state, one
 * request as a page handler sees it, and the handlers of each module.
 *
 *   server.c   libmicrohttpd, the token and CSRF checks, the route table
 *   pages.c    workspace, pipeline (its DAG), runs, one run, a node's log
 *              and outputs
 *   panel.c    a node's or a family's panel
 *   hist.c     snapshots, the diff of two, drafts
 *   metrics.c  json outputs whose values are numbers: tables and charts
 *   api.c      the JSON endpoints (/api/...)
 *   actions.c  run, re-run, roll back: `pipec` spawned as a child
 *   report.c   `pipec report`: one self-contained HTML file
 *   assets.c   the stylesheet and the script, as C strings
 */
#ifndef PIPEC_UI_INT_H
#define PIPEC_UI_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "model.h"
#include "ui.h"

#define UI_WS_POOL 16          /* workspace handles kept open */
#define UI_ACTIONS_MAX 64      /* actions remembered */
#define UI_PAGE 50             /* rows per page of runs, snapshots */

/* A run or rollback the page started: a `pipec` child. */
typedef struct ui_action {
  int id;
  char kind[16];               /* "run", "rollback" */
  pid_t pid;
  int out_fd;                  /* its stdout and stderr (an unlinked file) */
  int64_t after;               /* the newest run id when it started */
  int64_t run;                 /* the run it started, once known */
  bool done;
  int exit_code;               /* when done: 0.., or 128+signal */
} ui_action;

typedef struct ui_server {
  ui_opts o;
  pipec_ws_opts wo;
  char root[PATH_MAX];         /* the project directory */
  char token[65];              /* required on every request */
  char csrf[65];               /* required on every action */
  char cookie[48];             /* the token cookie's name (per port) */
  int port;
  ui_pipes pipes;
  pthread_mutex_t lock;        /* the workspace pool and the actions */
  pipec_ws *pool[UI_WS_POOL];
  int n_pool;
  ui_action actions[UI_ACTIONS_MAX];
  int n_actions, next_action;
} ui_server;

/* One request. A handler fills status, type and body (or calls one of
 * the ui_fail helpers). */
typedef struct ui_req {
  ui_server *srv;
  pipec_ws *w;
  struct MHD_Connection *conn;
  const char *method, *path;
  int status;                  /* 200 unless set */
  const char *type;            /* Content-Type; NULL: text/html */
  ubuf body;
  char *location;              /* a redirect's target (malloc'd) */
  bool api;                    /* under /api/: errors as JSON */
  const char *page;            /* <body data-page>, for the script */
} ui_req;

/* A query argument, or NULL. */
const char *ui_arg(ui_req *r, const char *name);
/* A query argument as a whole number in [min, max]: 1, 0 if absent, -1
 * (after ui_fail 400) if it is not one. */
int ui_arg_int(ui_req *r, const char *name, int64_t min, int64_t max,
               int64_t *out);
/* Answer status (400, 404, 409, 500, 503) with message, as a page or as
 * {"error": message}. */
void ui_fail(ui_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answer with the API's error for err (USAGE: 400, WORKSPACE: 503 ...). */
void ui_fail_err(ui_req *r, const pipec_error *err);

/* The pipelines of the workspace (pipec_pipelines), and one by id: 1
 * found, 0 not (after ui_fail 404), -1 (after ui_fail). */
int ui_find_pipeline(ui_req *r, int64_t id, pipec_pipeline_info **all,
                     uint32_t *n, pipec_pipeline_info **one);

/* ---- HTML pages (pages.c) -------------------------------------------------- */

/* The page's head, navigation (active: "workspace", "runs", ...) and
 * its end. */
void ui_page_begin(ui_req *r, const char *title, const char *active);
void ui_page_end(ui_req *r);
/* The pipeline named by ?NAME=ID, compiled: a reference (ui_pipe_put),
 * or NULL after answering. */
ui_pipe *ui_pipe_arg(ui_req *r, const char *name);
/* ?page=N, a page of a table (a bad one is the first page). */
uint32_t ui_page_arg(ui_req *r);
/* A status word in its colour. */
void ui_status_badge(ubuf *b, const char *status);

void page_workspace(ui_req *r);
void page_pipeline(ui_req *r);
void page_dag(ui_req *r);          /* the SVG alone, for expanding */
void page_node(ui_req *r);         /* a node's panel (fragment=1: alone;
                                      panel.c) */
void page_runs(ui_req *r);
void page_run(ui_req *r);
void page_log(ui_req *r);
void page_output(ui_req *r);       /* an output's bytes, as text */

/* Read up to max bytes of a node run's output port into b, with the
 * whole size in *size: 1 read, 0 no such output, < 0 error (err). */
int ui_output_read(pipec_ws *w, int64_t node_run, const char *port,
                   size_t max, ubuf *b, uint64_t *size, pipec_error *err);
/* The last max bytes of the log file a node run records (the engine's
 * path, never one from a request), into b: 0, or -1 if unreadable. */
int ui_log_tail(const char *path, size_t max, ubuf *b, bool *cut);

/* ---- snapshots, drafts, diff (hist.c) ------------------------------------------ */

void page_snapshots(ui_req *r);
void page_diff(ui_req *r);
void page_drafts(ui_req *r);
void page_draft(ui_req *r);      /* what one draft changed */

/* ---- metrics (metrics.c) ------------------------------------------------------- */

typedef struct ui_metric_row {
  char *label;                 /* the run ("run 12") or the member key */
  char *node;
  int64_t run;
  double *values;              /* per column; NAN: none */
} ui_metric_row;

typedef struct ui_metric_table {
  char *title;                 /* "score[*]" or "eval" */
  bool family;                 /* rows are a family's members */
  char **cols;                 /* the numeric keys, in first-seen order */
  uint32_t n_cols;
  ui_metric_row *rows;
  uint32_t n_rows;
} ui_metric_table;

/* Every json output of the pipeline whose values are numbers: per family
 * one table over its members (in the newest run), per other node one
 * table over the pipeline's last runs. */
int ui_metrics_collect(pipec_ws *w, const ui_pipe *u, int64_t run,
                       ui_metric_table **out, uint32_t *n, pipec_error *err);
void ui_metrics_free(ui_metric_table *t, uint32_t n);
/* A table (sortable by the page's script) and its SVG chart. */
void ui_metrics_html(ubuf *b, const ui_metric_table *t, uint32_t index);
void page_metrics(ui_req *r);

/* ---- JSON (api.c) ---------------------------------------------------------------- */

void api_pipelines(ui_req *r);
void api_pipeline(ui_req *r);      /* the graph: boxes, edges, statuses */
void api_status(ui_req *r);        /* what the live view polls */
void api_runs(ui_req *r);
void api_run(ui_req *r);           /* as `pipec show --json` */
void api_log(ui_req *r);
void api_snapshots(ui_req *r);
void api_diff(ui_req *r);
void api_drafts(ui_req *r);       /* as `pipec drafts --json` */
void api_metrics(ui_req *r);
void api_action(ui_req *r);        /* GET: an action's state */

/* Write a box's status JSON for the live view (api.c; the run page's
 * first paint uses it too). */
void ui_states_json(ubuf *b, const ui_pipe *u, const ui_graph *g,
                    const ui_states *s);

/* ---- actions (actions.c) --------------------------------------------------------- */

void act_run(ui_req *r);           /* POST /api/actions/run */
void act_rollback(ui_req *r);      /* POST /api/actions/rollback */
/* Reap finished children; a copy of action id: 1, 0 no such action. */
int ui_action_get(ui_server *s, pipec_ws *w, int id, ui_action *out);
/* The output of an action so far (at most max bytes from its end). */
void ui_action_output(ui_server *s, int id, size_t max, ubuf *b);
void ui_actions_close(ui_server *s);

/* ---- assets (assets.c) ----------------------------------------------------------- */

extern const char ui_css[];
extern const char ui_js[];

/* ---- the report (report.c) ------------------------------------------------------- */

void page_report(ui_req *r);
/* A run's timeline: a bar per node (per family past 400 nodes). */
void ui_timeline(ubuf *b, const pipec_node_info *v, uint32_t n,
                 int64_t run_start, int64_t run_end);

#endif
