/*
 * report.c — `pipec report`: one run as a single HTML file to keep or
 * send, with everything inline (the stylesheet, the DAG and the charts as
 * SVG; no script, no request leaves it): the run's summary and params, its
 * DAG as its snapshot compiled it, coloured by the run, each node's
 * status, target, times and attempts, a timeline of the run (a bar per
 * node, or per family for big runs), and the metrics. The web view serves
 * the same at /report?run=N.
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dag.h"

/* Timelines with more rows than this draw one bar per family. */
#define TIMELINE_ROWS 400

typedef struct tl_row {
  const char *name;            /* a node's, or a family's NAME[*] */
  char *own;                   /* malloc'd name, for a family's */
  int64_t start, end;
  int status;
  uint32_t count;
} tl_row;

static const char *family_part(const char *name, char *buf, size_t len) {
  const char *br = strchr(name, '[');
  if (!br || br == name || (size_t)(br - name) + 4 > len)
    return NULL;
  snprintf(buf, len, "%.*s[*]", (int)(br - name), name);
  return buf;
}

static void timeline_svg(ubuf *b, const pipec_node_info *v, uint32_t n,
                         int64_t run_start, int64_t run_end) {
  bool fold = n > TIMELINE_ROWS;
  tl_row *rows = calloc(n ? n : 1, sizeof *rows);
  uint32_t k = 0;
  int64_t t0 = run_start, t1 = run_end > run_start ? run_end : run_start;
  for (uint32_t i = 0; i < n; i++) {
    if (!v[i].started_ms)
      continue;
    int64_t end = v[i].ended_ms ? v[i].ended_ms : v[i].started_ms;
    if (end > t1)
      t1 = end;
    char fam[256];
    const char *name = fold ? family_part(v[i].name, fam, sizeof fam) : NULL;
    uint32_t j = k;
    if (name)
      for (j = 0; j < k && !(rows[j].own && strcmp(rows[j].own, name) == 0); j++)
        ;
    if (j == k) {
      rows[k] = (tl_row){.name = name ? NULL : v[i].name,
                         .own = name ? strdup(name) : NULL,
                         .start = v[i].started_ms, .end = end,
                         .status = ui_status_of(v[i].status)};
      if (rows[k].own)
        rows[k].name = rows[k].own;
      k++;
    } else {
      tl_row *r = &rows[j];
      r->start = v[i].started_ms < r->start ? v[i].started_ms : r->start;
      r->end = end > r->end ? end : r->end;
      if (ui_status_of(v[i].status) == UI_ST_FAILED)
        r->status = UI_ST_FAILED;
    }
    rows[j].count++;
  }
  double span = (double)(t1 - t0);
  if (span <= 0)
    span = 1;
  const double L = 220, W = 900, rowh = 16;
  double H = 30 + k * rowh;
  ub_printf(b, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
               "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "data-rows=\"%u\">",
            W, H, W, H, k);
  double pw = W - L - 10;
  for (int g = 0; g <= 4; g++) {
    double x = L + pw * g / 4;
    ub_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" "
                 "y2=\"%.0f\"/><text class=\"tick%s\" x=\"%.1f\" y=\"10\">",
              x, x, H, g == 4 ? " last" : "", x);
    ub_duration(b, span / 1000 * g / 4);
    ub_raw(b, "</text>");
  }
  for (uint32_t i = 0; i < k; i++) {
    double y = 20 + i * rowh;
    double x = L + pw * (double)(rows[i].start - t0) / span;
    double w = pw * (double)(rows[i].end - rows[i].start) / span;
    if (w < 1.5)
      w = 1.5;
    ub_printf(b, "<g class=\"tl %s\" data-name=\"",
              ui_status_class(rows[i].status));
    ub_html(b, rows[i].name);
    ub_printf(b, "\"><text class=\"tn\" x=\"%.0f\" y=\"%.1f\">", L - 6,
              y + 11);
    ub_html(b, rows[i].name);
    if (rows[i].count > 1)
      ub_printf(b, " (%u)", rows[i].count);
    ub_printf(b, "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                 "height=\"%.1f\" rx=\"2\"><title>",
              x, y + 2, w, rowh - 4);
    ub_html(b, rows[i].name);
    ub_raw(b, ": ");
    ub_duration(b, (double)(rows[i].end - rows[i].start) / 1000);
    ub_raw(b, "</title></rect></g>");
  }
  ub_raw(b, "</svg>");
  for (uint32_t i = 0; i < k; i++)
    free(rows[i].own);
  free(rows);
}

/* The pipeline id (pipec_pipelines) of a run: its name and main file. */
static int64_t pipeline_id(pipec_ws *w, const char *name, const char *file) {
  pipec_pipeline_info *all;
  uint32_t n;
  pipec_error err;
  int64_t id = 0;
  if (pipec_pipelines(w, &all, &n, &err) == 0)
    for (uint32_t i = 0; i < n && !id; i++)
      if (strcmp(all[i].name, name) == 0 && strcmp(all[i].file, file) == 0)
        id = all[i].id;
  pipec_pipeline_infos_free(all, n);
  return id;
}

static void write_report(pipec_ws *w, const pipec_run_info *ri, ubuf *b) {
  pipec_error err;
  ub_raw(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
            "'none'; style-src 'unsafe-inline'; img-src data:\"><title>");
  ub_htmlf(b, "pipec report: run %lld of %s", (long long)ri->id, ri->pipeline);
  ub_raw(b, "</title><style>");
  ub_raw(b, ui_css);
  ub_raw(b, "</style></head><body class=\"report\"><main>");
  ub_printf(b, "<h1>Run %lld <small>of ", (long long)ri->id);
  ub_html(b, ri->pipeline);
  ub_raw(b, "</small></h1><p class=\"runline\">");
  ub_printf(b, "<span class=\"badge %s\">",
            strcmp(ri->status, "succeeded") == 0 ? "st-succeeded"
            : strcmp(ri->status, "failed") == 0  ? "st-failed"
            : strcmp(ri->status, "running") == 0 ? "st-running"
                                                 : "st-cancelled");
  ub_html(b, ri->status);
  ub_raw(b, "</span> started ");
  ub_time(b, ri->started_ms);
  ub_raw(b, " · ");
  ub_duration(b, ri->ended_ms ? (double)(ri->ended_ms - ri->started_ms) / 1000
                              : -1);
  ub_printf(b, " · %u ran, %u cached, %u failed of %u nodes · snapshot %lld",
            ri->ran, ri->cached, ri->failed, ri->nodes, (long long)ri->snapshot);
  pipec_snapshot_info sinfo, *si = &sinfo;
  if (pipec_snapshot_get(w, ri->snapshot, si, &err) == 1) {
    ub_raw(b, " · <code>");
    ub_html(b, si->file);
    for (uint32_t k = 0; k < si->n_overrides; k++) {
      ub_raw(b, " -p ");
      ub_html(b, si->overrides[k].name);
      ub_char(b, '=');
      ub_html(b, si->overrides[k].value);
    }
    ub_raw(b, "</code>");
  }
  ub_raw(b, "</p>");
  /* the DAG, as the run's snapshot compiles */
  ui_pipe u = {.id = pipeline_id(w, ri->pipeline, si->file ? si->file : "")};
  pthread_mutex_init(&u.st_lock, NULL);
  u.p = pipec_snapshot_load(w, ri->snapshot, NULL, &err);
  if (u.p) {
    ui_graph_build(u.p, NULL, 0, &u.g);
    u.layout = ui_dag_layout(u.p, &u.g);
    ui_states s;
    if (ui_states_read(w, &u, ri->id, &s, &err) == 0) {
      ub_raw(b, "<h2>DAG</h2><div class=\"dagbox\">");
      ui_dag_svg(b, u.p, &u.g, u.layout, &s);
      ub_raw(b, "</div>");
    }
    ui_states_free(&s);
  } else {
    ub_raw(b, "<p class=\"note\">The DAG is not shown: its snapshot does not "
              "compile here (");
    ub_html(b, err.msg);
    ub_raw(b, ").</p>");
  }
  pipec_node_info *v = NULL;
  uint32_t n = 0;
  if (pipec_run_nodes(w, ri->id, &v, &n, &err) == 0) {
    ub_raw(b, "<h2>Timeline</h2><div class=\"tlbox\">");
    timeline_svg(b, v, n, ri->started_ms, ri->ended_ms);
    ub_raw(b, "</div><h2>Nodes</h2><table class=\"list\" id=\"nodes\"><thead>"
              "<tr><th>node</th><th>status</th><th>why</th><th>target</th>"
              "<th>job</th><th>attempts</th><th>exit</th><th>started</th>"
              "<th>time</th><th>peak memory</th></tr></thead><tbody>");
    for (uint32_t i = 0; i < n; i++) {
      const pipec_node_info *ni = &v[i];
      ub_raw(b, "<tr data-node=\"");
      ub_html(b, ni->name);
      ub_raw(b, "\"><td>");
      ub_html(b, ni->name);
      ub_raw(b, "</td><td>");
      ui_status_badge(b, ni->status);
      ub_raw(b, "</td><td>");
      ub_html(b, ni->message ? ni->message
                 : ni->cache_hit ? "cache hit"
                                 : ni->reason ? ni->reason : "");
      ub_raw(b, "</td><td>");
      ub_html(b, ni->target);
      ub_raw(b, "</td><td>");
      ub_html(b, ni->job);
      ub_printf(b, "</td><td class=\"num\">%d</td><td class=\"num\">",
                ni->attempts);
      if (ni->exit_code >= 0)
        ub_printf(b, "%d", ni->exit_code);
      ub_raw(b, "</td><td>");
      ub_time(b, ni->started_ms);
      ub_raw(b, "</td><td class=\"num\">");
      ub_duration(b, ni->started_ms && ni->ended_ms
                         ? (double)(ni->ended_ms - ni->started_ms) / 1000
                         : -1);
      /* the last attempt's peak, "of" what it asked for when it did */
      ub_raw(b, "</td><td class=\"num\">");
      if (ni->peak_memory > 0)
        ub_size(b, (uint64_t)ni->peak_memory);
      else
        ub_raw(b, "-");
      if (ni->memory > 0) {
        ub_raw(b, " of ");
        ub_size(b, (uint64_t)ni->memory);
      }
      ub_raw(b, "</td></tr>");
    }
    ub_raw(b, "</tbody></table>");
  }
  pipec_node_infos_free(v, n);
  if (u.p) {
    ui_metric_table *t;
    uint32_t n_t;
    if (u.id && ui_metrics_collect(w, &u, ri->id, &t, &n_t, &err) == 0) {
      if (n_t)
        ub_raw(b, "<h2>Metrics</h2>");
      for (uint32_t i = 0; i < n_t; i++)
        ui_metrics_html(b, &t[i], i);
      ui_metrics_free(t, n_t);
    }
  }
  ub_printf(b, "<p class=\"foot\">pipec %s · ", pipec_version());
  ub_time(b, ri->started_ms);
  ub_raw(b, "</p></main></body></html>\n");
  ui_layout_free(u.layout);
  if (u.st_cache) {
    ui_states_free(u.st_cache);
    free(u.st_cache);
  }
  pthread_mutex_destroy(&u.st_lock);
  ui_graph_free(&u.g);
  pipec_pipeline_free(u.p);
  pipec_snapshot_info_free(si);
}

/* run 0: the newest. 1 found (in *ri), 0 none, < 0 error. */
static int report_run(pipec_ws *w, int64_t run, pipec_run_info *ri,
                      pipec_error *err) {
  if (!run) {
    pipec_run_info *v;
    uint32_t n;
    int rc = pipec_runs_page(w, 0, 0, 1, &v, &n, NULL, err);
    if (rc < 0)
      return rc;
    if (n)
      run = v[0].id;
    pipec_run_infos_free(v, n);
    if (!run)
      return 0;
  }
  return pipec_run_get(w, run, ri, err);
}

int ui_report(pipec_ws *w, int64_t run, FILE *out, char *e, size_t elen) {
  pipec_run_info ri;
  pipec_error err;
  int rc = report_run(w, run, &ri, &err);
  if (rc <= 0) {
    if (rc < 0)
      snprintf(e, elen, "%s", err.msg);
    else if (run)
      snprintf(e, elen, "no run %lld in this workspace (see pipec runs)",
               (long long)run);
    else
      snprintf(e, elen, "no run in this workspace yet");
    return -1;
  }
  ubuf b = {0};
  write_report(w, &ri, &b);
  free(ri.pipeline);
  free(ri.status);
  bool ok = fwrite(b.s, 1, b.len, out) == b.len && fflush(out) == 0;
  ub_free(&b);
  if (!ok) {
    snprintf(e, elen, "could not write the report");
    return -1;
  }
  return 0;
}

void page_report(ui_req *r) {
  int64_t run = 0;
  if (ui_arg_int(r, "run", 1, INT64_MAX, &run) < 0)
    return;
  pipec_run_info ri;
  pipec_error err;
  int rc = report_run(r->w, run, &ri, &err);
  if (rc < 0) {
    ui_fail_err(r, &err);
    return;
  }
  if (rc == 0) {
    ui_fail(r, 404, "no such run");
    return;
  }
  write_report(r->w, &ri, &r->body);
  free(ri.pipeline);
  free(ri.status);
}

/* The timeline for the run page (declared in pages.c's use). */
void ui_timeline(ubuf *b, const pipec_node_info *v, uint32_t n,
                 int64_t run_start, int64_t run_end) {
  timeline_svg(b, v, n, run_start, run_end);
}
