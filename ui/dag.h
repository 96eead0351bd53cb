/*
 * dag.h — a pipeline's DAG as SVG: laid out by Graphviz's `dot` (run as a
 * program, -Tplain: positions only), drawn by pipec, one <g> per box with
 * the box's name and status in data attributes and classes, so the page's
 * script can recolour it live and open a node's panel on click.
 *
 * Why the dot program and not libgvc: the server answers requests on
 * several threads and libgvc keeps global state (a context, plugins) that
 * is not safe to share; a layout that takes too long or crashes costs a
 * killed child, not the server; and Debian's graphviz package is all it
 * needs. A layout is made once per pipeline version and kept. Without
 * `dot` (or for a graph of more than UI_DOT_MAX boxes) the boxes are
 * placed in layers by pipec itself, and the page says why.
 */
#ifndef PIPEC_UI_DAG_H
#define PIPEC_UI_DAG_H

#include "buf.h"
#include "model.h"

#define UI_DOT_MAX 3000

typedef struct ui_path {
  double *xy;                  /* points: x0 y0 x1 y1 ... (cubic Bézier
                                  control points from dot, 1 + 3k of them,
                                  or a straight line: 2) */
  uint32_t n;
} ui_path;

typedef struct ui_layout {
  double width, height;        /* in SVG units (points) */
  double (*box)[4];            /* per group: centre x, centre y, w, h */
  uint32_t n_boxes;
  ui_path *edges;              /* per graph edge */
  uint32_t n_edges;
  char *note;                  /* why pipec laid it out itself, or NULL */
} ui_layout;

/* The layout of g (never NULL). */
ui_layout *ui_dag_layout(const pipec_pipeline *p, const ui_graph *g);
void ui_layout_free(ui_layout *l);

/* The <svg> of g laid out by l, coloured by s (NULL: no run). */
void ui_dag_svg(ubuf *b, const pipec_pipeline *p, const ui_graph *g,
                const ui_layout *l, const ui_states *s);

/* The text in a box: a node's name, or a family's "name[*]". */
void ui_group_label(ubuf *b, const pipec_pipeline *p, const ui_group *gr);

#endif
