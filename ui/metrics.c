/*
 * metrics.c — the json outputs whose values are numbers (ml.metrics'
 * accuracy, f1, ..., or any command's {"loss": 0.3}): one table per family
 * with a json output, a row per member (a sweep, compared), and one per
 * other such node, a row per run of the pipeline; sortable on the page,
 * with a bar chart (a family) or a line chart (across runs) drawn here as
 * SVG. A value that is not a number (a string, a list) is left out; keys
 * of nested objects are joined with '.'.
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRIC_MAX_BYTES (1u << 20)  /* larger json outputs are skipped */
#define METRIC_MAX_COLS 64
#define METRIC_RUNS 30               /* runs a node's table goes back */

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    abort();
  return p;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d)
    abort();
  return d;
}

/* ---- a small JSON reader: numbers of an object, flattened ------------------------ */

typedef struct jr {
  const char *p, *end;
  int depth;
  /* the (key, value) pairs found */
  char **keys;
  double *vals;
  uint32_t n, cap;
} jr;

static void ws(jr *j) {
  while (j->p < j->end && isspace((unsigned char)*j->p))
    j->p++;
}

/* A string: into out (may be NULL to skip). 0, or -1. */
static int str(jr *j, ubuf *out) {
  if (j->p >= j->end || *j->p != '"')
    return -1;
  j->p++;
  while (j->p < j->end && *j->p != '"') {
    if (*j->p == '\\') {
      j->p++;
      if (j->p >= j->end)
        return -1;
      char c = *j->p, e = c;
      switch (c) {
      case 'n': e = '\n'; break;
      case 't': e = '\t'; break;
      case 'r': e = '\r'; break;
      case 'b': e = '\b'; break;
      case 'f': e = '\f'; break;
      case 'u':
        if (j->end - j->p < 5)
          return -1;
        j->p += 4;
        e = '?';
        break;
      default: break;
      }
      if (out)
        ub_char(out, e);
      j->p++;
      continue;
    }
    if (out)
      ub_char(out, *j->p);
    j->p++;
  }
  if (j->p >= j->end)
    return -1;
  j->p++;
  return 0;
}

static int value(jr *j, const char *prefix);

static int object(jr *j, const char *prefix) {
  j->p++; /* { */
  ws(j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
    return 0;
  }
  for (;;) {
    ws(j);
    ubuf key = {0};
    if (prefix && *prefix) {
      ub_raw(&key, prefix);
      ub_char(&key, '.');
    }
    if (str(j, &key) != 0) {
      ub_free(&key);
      return -1;
    }
    ws(j);
    if (j->p >= j->end || *j->p != ':') {
      ub_free(&key);
      return -1;
    }
    j->p++;
    ws(j);
    int rc = value(j, key.s ? key.s : "");
    ub_free(&key);
    if (rc != 0)
      return -1;
    ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == '}') {
      j->p++;
      return 0;
    }
    return -1;
  }
}

/* A value; a number under a key is kept (prefix NULL: inside a list). */
static int value(jr *j, const char *prefix) {
  if (j->p >= j->end || ++j->depth > 32)
    return -1;
  int rc = 0;
  char c = *j->p;
  if (c == '{') {
    rc = object(j, prefix);
  } else if (c == '[') {
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == ']') {
      j->p++;
    } else {
      for (;;) {
        ws(j);
        if (value(j, NULL) != 0) {
          rc = -1;
          break;
        }
        ws(j);
        if (j->p < j->end && *j->p == ',') {
          j->p++;
          continue;
        }
        if (j->p < j->end && *j->p == ']') {
          j->p++;
          break;
        }
        rc = -1;
        break;
      }
    }
  } else if (c == '"') {
    rc = str(j, NULL);
  } else if (c == '-' || isdigit((unsigned char)c)) {
    char *endp;
    char tmp[64];
    size_t n = 0;
    while (j->p + n < j->end && n < sizeof tmp - 1 &&
           strchr("+-0123456789.eE", j->p[n]))
      n++;
    memcpy(tmp, j->p, n);
    tmp[n] = '\0';
    double v = strtod(tmp, &endp);
    if (endp == tmp) {
      rc = -1;
    } else {
      j->p += endp - tmp;
      if (prefix && j->n < METRIC_MAX_COLS) {
        if (j->n == j->cap) {
          j->cap = j->cap ? j->cap * 2 : 16;
          j->keys = xrealloc(j->keys, j->cap * sizeof *j->keys);
          j->vals = xrealloc(j->vals, j->cap * sizeof *j->vals);
        }
        j->keys[j->n] = xstrdup(prefix);
        j->vals[j->n++] = v;
      }
    }
  } else if (j->end - j->p >= 4 && (strncmp(j->p, "true", 4) == 0 ||
                                    strncmp(j->p, "null", 4) == 0)) {
    j->p += 4;
  } else if (j->end - j->p >= 5 && strncmp(j->p, "false", 5) == 0) {
    j->p += 5;
  } else {
    rc = -1;
  }
  j->depth--;
  return rc;
}

/* The numbers of a JSON object, flattened: 0 (maybe none), -1 if it is
 * not a JSON object. */
static int numbers(const char *text, size_t len, jr *j) {
  *j = (jr){.p = text, .end = text + len};
  ws(j);
  if (j->p >= j->end || *j->p != '{')
    return -1;
  if (value(j, "") != 0)
    return -1;
  ws(j);
  return j->p == j->end ? 0 : -1;
}

static void jr_free(jr *j) {
  for (uint32_t i = 0; i < j->n; i++)
    free(j->keys[i]);
  free(j->keys);
  free(j->vals);
}

/* ---- tables ------------------------------------------------------------------------------ */

static uint32_t col_of(ui_metric_table *t, const char *key) {
  for (uint32_t c = 0; c < t->n_cols; c++)
    if (strcmp(t->cols[c], key) == 0)
      return c;
  if (t->n_cols == METRIC_MAX_COLS)
    return PIPEC_NONE;
  t->cols = xrealloc(t->cols, (t->n_cols + 1) * sizeof *t->cols);
  t->cols[t->n_cols] = xstrdup(key);
  for (uint32_t k = 0; k < t->n_rows; k++) {
    t->rows[k].values = xrealloc(t->rows[k].values,
                                 (t->n_cols + 1) * sizeof(double));
    t->rows[k].values[t->n_cols] = NAN;
  }
  return t->n_cols++;
}

/* Add a row from a node run's json output port: true if it had numbers. */
static bool add_row(pipec_ws *w, ui_metric_table *t, const char *label,
                    const char *node, int64_t run, int64_t node_run,
                    const char *port) {
  ubuf data = {0};
  uint64_t size = 0;
  pipec_error err;
  int rc = ui_output_read(w, node_run, port, METRIC_MAX_BYTES + 1, &data,
                          &size, &err);
  jr j;
  bool ok = rc == 1 && data.len <= METRIC_MAX_BYTES &&
            numbers(data.s ? data.s : "", data.len, &j) == 0 && j.n > 0;
  if (ok) {
    t->rows = xrealloc(t->rows, (t->n_rows + 1) * sizeof *t->rows);
    ui_metric_row *row = &t->rows[t->n_rows++];
    *row = (ui_metric_row){.label = xstrdup(label), .node = xstrdup(node),
                           .run = run};
    row->values = xrealloc(NULL, (t->n_cols + 1) * sizeof(double));
    for (uint32_t c = 0; c < t->n_cols; c++)
      row->values[c] = NAN;
    for (uint32_t i = 0; i < j.n; i++) {
      uint32_t c = col_of(t, j.keys[i]);
      if (c != PIPEC_NONE)
        row->values[c] = j.vals[i];
    }
  }
  if (rc == 1 && data.len <= METRIC_MAX_BYTES)
    jr_free(&j);
  ub_free(&data);
  return ok;
}

/* The first json output port of a component, or NULL. */
static const char *json_port(const pipec_component *c) {
  for (uint32_t k = 0; k < c->n_outputs; k++)
    if (c->outputs[k].type == PIPEC_PORT_JSON && !c->outputs[k].list)
      return c->outputs[k].name;
  return NULL;
}

static ui_metric_table *new_table(ui_metric_table **v, uint32_t *n,
                                  const char *title, bool family) {
  *v = xrealloc(*v, (*n + 1) * sizeof **v);
  ui_metric_table *t = &(*v)[(*n)++];
  *t = (ui_metric_table){.title = xstrdup(title), .family = family};
  return t;
}

/* Forget the last table (it found no rows). */
static void drop_last(ui_metric_table *v, uint32_t *n) {
  ui_metric_table *t = &v[--*n];
  free(t->title);
  for (uint32_t c = 0; c < t->n_cols; c++)
    free(t->cols[c]);
  free(t->cols);
  free(t->rows);
}

int ui_metrics_collect(pipec_ws *w, const ui_pipe *u, int64_t run,
                       ui_metric_table **out, uint32_t *n_out,
                       pipec_error *err) {
  const pipec_pipeline *p = u->p;
  *out = NULL;
  *n_out = 0;
  pipec_run_info *runs = NULL;
  uint32_t n_runs = 0;
  int rc;
  if (run) {
    runs = xrealloc(NULL, sizeof *runs);
    rc = pipec_run_get(w, run, runs, err);
    n_runs = rc == 1;
  } else {
    rc = pipec_runs_page(w, u->id, 0, METRIC_RUNS, &runs, &n_runs, NULL, err);
  }
  if (rc < 0) {
    pipec_run_infos_free(runs, n_runs);
    return rc;
  }
  /* per node: its node run in each run (newest first) */
  uint32_t n_nodes = p->n_nodes;
  int64_t *nr = calloc((size_t)n_nodes * (n_runs ? n_runs : 1), sizeof *nr);
  if (!nr)
    abort();
  for (uint32_t r = 0; r < n_runs; r++) {
    pipec_node_info *v;
    uint32_t k;
    if (pipec_run_nodes(w, runs[r].id, &v, &k, err) != 0)
      continue;
    for (uint32_t i = 0; i < k; i++) {
      uint32_t node = pipec_pipeline_node(p, v[i].name);
      if (node != PIPEC_NONE && (strcmp(v[i].status, "succeeded") == 0 ||
                                 strcmp(v[i].status, "cached") == 0))
        nr[(size_t)node * n_runs + r] = v[i].id;
    }
    pipec_node_infos_free(v, k);
  }
  ui_metric_table *tables = NULL;
  uint32_t n_tables = 0;
  /* families: one row per member, from the newest run that has it */
  for (uint32_t f = 0; f < p->n_families; f++) {
    const pipec_family *fam = &p->families[f];
    const char *port = json_port(&p->components[fam->component]);
    if (!port || !fam->n_members)
      continue;
    ubuf title = {0};
    ub_printf(&title, "%s[*].%s", fam->name, port);
    ui_metric_table *t = new_table(&tables, &n_tables, title.s, true);
    ub_free(&title);
    for (uint32_t k = 0; k < fam->n_members; k++) {
      uint32_t node = fam->members[k];
      for (uint32_t r = 0; r < n_runs; r++)
        if (nr[(size_t)node * n_runs + r]) {
          add_row(w, t, fam->keys[k], p->nodes[node].name, runs[r].id,
                  nr[(size_t)node * n_runs + r], port);
          break;
        }
    }
    if (!t->n_rows)
      drop_last(tables, &n_tables);
  }
  /* other nodes: one row per run */
  for (uint32_t i = 0; i < n_nodes; i++) {
    const pipec_node *nd = &p->nodes[i];
    const char *port = json_port(&p->components[nd->component]);
    if (!port || nd->family != PIPEC_NONE)
      continue;
    ubuf title = {0};
    ub_printf(&title, "%s.%s", nd->name, port);
    ui_metric_table *t = new_table(&tables, &n_tables, title.s, false);
    ub_free(&title);
    for (uint32_t r = 0; r < n_runs; r++) {
      int64_t id = nr[(size_t)i * n_runs + r];
      if (!id)
        continue;
      char label[32];
      snprintf(label, sizeof label, "run %lld", (long long)runs[r].id);
      add_row(w, t, label, nd->name, runs[r].id, id, port);
    }
    if (!t->n_rows)
      drop_last(tables, &n_tables);
  }
  free(nr);
  pipec_run_infos_free(runs, n_runs);
  *out = tables;
  *n_out = n_tables;
  return 0;
}

void ui_metrics_free(ui_metric_table *t, uint32_t n) {
  for (uint32_t i = 0; t && i < n; i++) {
    free(t[i].title);
    for (uint32_t c = 0; c < t[i].n_cols; c++)
      free(t[i].cols[c]);
    free(t[i].cols);
    for (uint32_t k = 0; k < t[i].n_rows; k++) {
      free(t[i].rows[k].label);
      free(t[i].rows[k].node);
      free(t[i].rows[k].values);
    }
    free(t[i].rows);
  }
  free(t);
}

/* ---- HTML and SVG ------------------------------------------------------------------------- */

/* A bar chart (members) or line chart (runs, oldest on the left) of
 * column c. */
static void chart(ubuf *b, const ui_metric_table *t, uint32_t c, bool shown) {
  const double W = 560, H = 200, L = 56, R = 12, T = 12, B = 44;
  double lo = INFINITY, hi = -INFINITY;
  for (uint32_t k = 0; k < t->n_rows; k++) {
    double v = t->rows[k].values[c];
    if (isnan(v))
      continue;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (lo > hi)
    return;
  if (lo > 0 && t->family)
    lo = 0; /* bars start at zero */
  if (hi == lo)
    hi = lo + 1;
  ub_printf(b, "<svg class=\"chart\" data-col=\"%u\" xmlns=\"http://www.w3.org/"
               "2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
               "%.0f\"%s>",
            c, W, H, W, H, shown ? "" : " hidden");
  double pw = W - L - R, ph = H - T - B;
  ub_printf(b, "<line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" "
               "y2=\"%.0f\"/><line class=\"axis\" x1=\"%.0f\" y1=\"%.0f\" "
               "x2=\"%.0f\" y2=\"%.0f\"/>",
            L, T, L, T + ph, L, T + ph, L + pw, T + ph);
  for (int g = 0; g <= 4; g++) {
    double v = lo + (hi - lo) * g / 4, y = T + ph - ph * g / 4;
    ub_printf(b, "<text class=\"tick\" x=\"%.0f\" y=\"%.1f\">%.3g</text>",
              L - 4, y + 4, v);
  }
  uint32_t n = t->n_rows;
  double step = pw / (n ? n : 1);
  if (t->family) {
    for (uint32_t k = 0; k < n; k++) {
      double v = t->rows[k].values[c];
      if (isnan(v))
        continue;
      double h = ph * (v - lo) / (hi - lo);
      ub_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.1f\"><title>",
                L + k * step + step * 0.15, T + ph - h, step * 0.7, h);
      ub_html(b, t->rows[k].label);
      ub_printf(b, ": %g</title></rect>", v);
    }
  } else {
    ub_raw(b, "<polyline class=\"line\" points=\"");
    for (uint32_t k = 0; k < n; k++) {
      uint32_t row = n - 1 - k; /* oldest first */
      double v = t->rows[row].values[c];
      if (!isnan(v))
        ub_printf(b, "%.1f,%.1f ", L + k * step + step / 2,
                  T + ph - ph * (v - lo) / (hi - lo));
    }
    ub_raw(b, "\"/>");
  }
  uint32_t every = n > 12 ? (n + 11) / 12 : 1;
  for (uint32_t k = 0; k < n; k += every) {
    uint32_t row = t->family ? k : n - 1 - k;
    ub_printf(b, "<text class=\"xl\" x=\"%.1f\" y=\"%.0f\">",
              L + k * step + step / 2, T + ph + 16);
    ub_html(b, t->rows[row].label);
    ub_raw(b, "</text>");
  }
  ub_raw(b, "</svg>");
}

void ui_metrics_html(ubuf *b, const ui_metric_table *t, uint32_t index) {
  ub_printf(b, "<section class=\"metrics\" id=\"m%u\"><h2>", index);
  ub_html(b, t->title);
  ub_printf(b, " <small>%u %s</small></h2>", t->n_rows,
            t->family ? (t->n_rows == 1 ? "member" : "members")
                      : (t->n_rows == 1 ? "run" : "runs"));
  ub_raw(b, "<table class=\"list sortable metric\"><thead><tr><th data-type="
            "\"text\">");
  ub_raw(b, t->family ? "member" : "run");
  ub_raw(b, "</th>");
  for (uint32_t c = 0; c < t->n_cols; c++) {
    ub_printf(b, "<th data-col=\"%u\">", c);
    ub_html(b, t->cols[c]);
    ub_raw(b, "</th>");
  }
  ub_raw(b, "</tr></thead><tbody>");
  for (uint32_t k = 0; k < t->n_rows; k++) {
    const ui_metric_row *row = &t->rows[k];
    ub_raw(b, "<tr><td data-v=\"");
    ub_html(b, row->label);
    ub_raw(b, "\">");
    if (row->run)
      ub_printf(b, "<a href=\"/run?id=%lld\">", (long long)row->run);
    ub_html(b, row->label);
    ub_raw(b, row->run ? "</a>" : "");
    ub_raw(b, "</td>");
    for (uint32_t c = 0; c < t->n_cols; c++) {
      double v = row->values[c];
      if (isnan(v))
        ub_raw(b, "<td class=\"num\" data-v=\"\"></td>");
      else
        ub_printf(b, "<td class=\"num\" data-v=\"%.17g\">%.6g</td>", v, v);
    }
    ub_raw(b, "</tr>");
  }
  ub_raw(b, "</tbody></table>");
  if (t->n_cols) {
    ub_raw(b, "<p class=\"chartpick\">chart: <select class=\"chartsel\">");
    for (uint32_t c = 0; c < t->n_cols; c++) {
      ub_printf(b, "<option value=\"%u\">", c);
      ub_html(b, t->cols[c]);
      ub_raw(b, "</option>");
    }
    ub_raw(b, "</select></p>");
    for (uint32_t c = 0; c < t->n_cols; c++)
      chart(b, t, c, c == 0);
  }
  ub_raw(b, "</section>");
}

void page_metrics(ui_req *r) {
  int64_t id = 0, run = 0;
  int k = ui_arg_int(r, "pipeline", 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which pipeline? (?pipeline=ID)");
    return;
  }
  if (ui_arg_int(r, "run", 1, INT64_MAX, &run) < 0)
    return;
  pipec_pipeline_info *all, *one;
  uint32_t n;
  if (ui_find_pipeline(r, id, &all, &n, &one) != 1) {
    pipec_pipeline_infos_free(all, n);
    return;
  }
  ui_pipe *u = ui_pipe_get(&r->srv->pipes, r->srv->root, one);
  pipec_pipeline_infos_free(all, n);
  if (!u->p) {
    ui_pipe_put(&r->srv->pipes, u);
    ui_fail(r, 409, "the pipeline does not compile as it is now");
    return;
  }
  ui_metric_table *t;
  uint32_t n_t;
  pipec_error err;
  if (ui_metrics_collect(r->w, u, run, &t, &n_t, &err) != 0) {
    ui_pipe_put(&r->srv->pipes, u);
    ui_fail_err(r, &err);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "metrics", "workspace");
  ub_printf(b, "<h1>Metrics <small>of <a href=\"/pipeline?id=%lld\">",
            (long long)u->id);
  ub_html(b, u->name);
  ub_raw(b, "</a></small></h1><p>Every json output whose values are numbers: "
            "a family's members side by side, another node across runs. "
            "Click a column to sort.</p>");
  if (!n_t)
    ub_raw(b, "<p>No json output with numbers yet.</p>");
  for (uint32_t i = 0; i < n_t; i++)
    ui_metrics_html(b, &t[i], i);
  ui_metrics_free(t, n_t);
  ui_pipe_put(&r->srv->pipes, u);
  ui_page_end(r);
}
