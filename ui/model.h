/*
 * model.h — what the web view shows of a pipeline, built from the engine's
 * public API (include/pipec/engine.h) only: the pipeline compiled from its
 * file as it is now (kept while its files are unchanged), its DAG with
 * every family folded into one box (ui_graph), and the status of each box
 * in a run (ui_states).
 *
 * A 10^5-member family is one box with counts; members appear as boxes
 * of their own only when the family is expanded and small enough
 * (UI_EXPAND_MAX).
 */
#ifndef PIPEC_UI_MODEL_H
#define PIPEC_UI_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pipec/engine.h"

/* A node's status, as node runs record it, plus "never ran". */
typedef enum ui_status {
  UI_ST_NONE,                  /* no run has it */
  UI_ST_PENDING,
  UI_ST_RUNNING,
  UI_ST_SUCCEEDED,
  UI_ST_CACHED,
  UI_ST_FAILED,
  UI_ST_SKIPPED,
  UI_ST_CANCELLED,
  UI_ST_N
} ui_status;

ui_status ui_status_of(const char *s);
const char *ui_status_name(ui_status s);   /* "none", "succeeded", ... */

/* Families with more members than this stay folded. */
#define UI_EXPAND_MAX 400

/* One box of the DAG: a node outside any family, a folded family, or a
 * member of an expanded one. */
typedef struct ui_group {
  const char *name;            /* the node's or family's name (the IR's) */
  uint32_t node;               /* node index, PIPEC_NONE for a family */
  uint32_t family;             /* family index, or PIPEC_NONE */
} ui_group;

typedef struct ui_graph {
  ui_group *groups;
  uint32_t n_groups;
  uint32_t *group_of;          /* per node: its group */
  uint32_t *family_group;      /* per family: its group (PIPEC_NONE when
                                  expanded) */
  uint32_t (*edges)[2];        /* from group, to group; unique, sorted */
  uint32_t n_edges;
} ui_graph;

/* The DAG of p; expand: family names to show member by member (those
 * with more than UI_EXPAND_MAX members stay folded). */
void ui_graph_build(const pipec_pipeline *p, const char *const *expand,
                    uint32_t n_expand, ui_graph *g);
void ui_graph_free(ui_graph *g);

/* A pipeline of the workspace as compiled now. Shared between requests
 * (ui_pipe_get / ui_pipe_put count references). */
typedef struct ui_pipe {
  int64_t id;                  /* pipec_pipeline_info.id */
  char *name, *file;           /* as recorded; file relative to the root */
  char *path;                  /* the main file, absolute */
  pipec_pipeline *p;           /* NULL if it does not compile now */
  char *diags;                 /* the diagnostics, if it does not */
  ui_graph g;                  /* folded */
  struct ui_layout *layout;    /* the folded DAG's layout (dag.h) */
  uint64_t stamp;              /* its files' stat, when compiled */
  int refs;
  /* the statuses last read for a finished run (they no longer change):
   * what a page polling a 10^5-node pipeline mostly asks again */
  pthread_mutex_t st_lock;
  int64_t st_key;              /* run id asked for, or -(newest run id)
                                  for "the newest, merged"; 0: none */
  struct ui_states *st_cache;
} ui_pipe;

/* The pipelines the view knows, compiled on first use and again when a
 * file of theirs changes on disk (its .pipe files' stat, and the
 * directories its source files are in: a new glob match). */
typedef struct ui_pipes {
  pthread_mutex_t lock;
  ui_pipe **v;
  uint32_t n, cap;
} ui_pipes;

void ui_pipes_init(ui_pipes *ps);
void ui_pipes_free(ui_pipes *ps);
/* Pipeline id (info from pipec_pipelines), compiled from root/file: a
 * reference to release with ui_pipe_put. */
ui_pipe *ui_pipe_get(ui_pipes *ps, const char *root,
                     const pipec_pipeline_info *info);
void ui_pipe_put(ui_pipes *ps, ui_pipe *u);

/* Statuses for a pipeline's boxes: each node's (newest run that has it
 * first, then up to UI_STATE_RUNS older runs of the pipeline for nodes it
 * did not select), and per family the count of members in each status. */
#define UI_STATE_RUNS 8
typedef struct ui_states {
  uint8_t *node;               /* per node index: ui_status */
  uint32_t (*family)[UI_ST_N]; /* per family: members per status */
  uint32_t *family_total;      /* per family: members (a run-time family's
                                  as the newest run has them) */
  int64_t run;                 /* the run shown (0: none) */
  char run_status[16];
  uint32_t run_nodes;          /* node runs it has */
} ui_states;

/* run 0: the pipeline's newest run, merged with older ones as said; else
 * exactly that run. */
int ui_states_read(pipec_ws *w, ui_pipe *u, int64_t run, ui_states *s,
                   pipec_error *err);
void ui_states_free(ui_states *s);
/* A box's status: a node's own; a family's: failed if any member failed,
 * else running if any runs or waits, else succeeded/cached if all are
 * done, else none (or "partial" for some done: UI_ST_N). */
int ui_group_status(const ui_graph *g, const ui_states *s, uint32_t group,
                    uint32_t *done, uint32_t *total);
/* The class a box is drawn with: "st-succeeded", ..., "st-partial". */
const char *ui_status_class(int st);

#endif
