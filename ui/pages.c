/*
 * pages.c — the HTML pages of the workspace, a pipeline (its DAG; the
 * node panel beside it is panel.c's), the runs, one run, a node's log and
 * outputs. Server-rendered;
 * app.js (assets.c) adds the clicks, the live updates and the actions.
 * Every workspace string is written through ub_html.
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dag.h"

/* ---- the frame ------------------------------------------------------------------ */

void ui_page_begin(ui_req *r, const char *title, const char *active) {
  ubuf *b = &r->body;
  ub_raw(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width\">"
            "<title>");
  ub_html(b, title);
  ub_raw(b, " · pipec</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
            "<script src=\"/static/app.js\" defer></script>");
  ub_raw(b, "<meta name=\"pipec-csrf\" content=\"");
  if (!r->srv->o.read_only)
    ub_raw(b, r->srv->csrf);
  ub_raw(b, "\"></head><body data-page=\"");
  ub_raw(b, r->page ? r->page : active);
  ub_raw(b, "\"><header><a class=\"brand\" href=\"/\">pipec</a>");
  static const char *const nav[][2] = {{"workspace", "/"},
                                       {"runs", "/runs"},
                                       {"snapshots", "/snapshots"},
                                       {"drafts", "/drafts"}};
  for (unsigned i = 0; i < 4; i++)
    ub_printf(b, "<a href=\"%s\"%s>%s</a>", nav[i][1],
              strcmp(active, nav[i][0]) == 0 ? " class=\"on\"" : "",
              nav[i][0]);
  ub_raw(b, "<span class=\"root\">");
  ub_html(b, r->srv->root);
  if (r->srv->o.read_only)
    ub_raw(b, " · read-only");
  ub_raw(b, "</span></header><main>");
}

void ui_page_end(ui_req *r) {
  ub_raw(&r->body, "</main><div id=\"toast\" hidden></div></body></html>\n");
}

void ui_status_badge(ubuf *b, const char *status) {
  ub_printf(b, "<span class=\"badge %s\">",
            ui_status_class(ui_status_of(status)));
  ub_html(b, status);
  ub_raw(b, "</span>");
}

static void run_badge(ubuf *b, const char *status) {
  /* a run's statuses: running succeeded failed cancelled interrupted */
  const char *cls = strcmp(status, "succeeded") == 0 ? "st-succeeded"
                    : strcmp(status, "running") == 0 ? "st-running"
                    : strcmp(status, "failed") == 0  ? "st-failed"
                                                     : "st-cancelled";
  ub_printf(b, "<span class=\"badge %s\">", cls);
  ub_html(b, status);
  ub_raw(b, "</span>");
}

static double run_seconds(const pipec_run_info *ri) {
  return ri->ended_ms ? (double)(ri->ended_ms - ri->started_ms) / 1000 : -1;
}

static void run_cells(ubuf *b, const pipec_run_info *ri) {
  ub_printf(b, "<td><a href=\"/run?id=%lld\">%lld</a></td><td>",
            (long long)ri->id, (long long)ri->id);
  run_badge(b, ri->status);
  ub_raw(b, "</td><td>");
  ub_time(b, ri->started_ms);
  ub_raw(b, "</td><td class=\"num\">");
  ub_duration(b, run_seconds(ri));
  ub_printf(b, "</td><td class=\"num\">%u</td><td class=\"num\">%u</td>"
               "<td class=\"num\">%u</td><td class=\"num\">%u</td>",
            ri->ran, ri->cached, ri->failed, ri->nodes);
}

/* "-p a=1 --node x": what a run was given, from its snapshot. */
static void snapshot_args(ubuf *b, const pipec_snapshot_info *s) {
  const char *sep = "";
  for (uint32_t i = 0; i < s->n_overrides; i++, sep = " ") {
    ub_raw(b, sep);
    ub_raw(b, "-p ");
    ub_html(b, s->overrides[i].name);
    ub_char(b, '=');
    ub_html(b, s->overrides[i].value);
  }
  for (uint32_t i = 0; i < s->n_nodes && i < 5; i++, sep = " ") {
    ub_raw(b, sep);
    ub_raw(b, strcmp(s->mode, "node") == 0 ? "--node " : "--nodes ");
    ub_html(b, s->nodes[i]);
  }
  if (s->n_nodes > 5)
    ub_printf(b, " (%u nodes)", s->n_nodes);
  if (s->from) {
    ub_raw(b, sep);
    ub_raw(b, "--from ");
    ub_html(b, s->from);
    sep = " ";
  }
  if (s->to) {
    ub_raw(b, sep);
    ub_raw(b, "--to ");
    ub_html(b, s->to);
    sep = " ";
  }
  if (s->force) {
    ub_raw(b, sep);
    ub_raw(b, "--force");
  }
}

static void run_args(ui_req *r, int64_t snapshot) {
  pipec_snapshot_info si;
  pipec_error err;
  if (pipec_snapshot_get(r->w, snapshot, &si, &err) == 1)
    snapshot_args(&r->body, &si);
  pipec_snapshot_info_free(&si);
}

/* ---- the workspace ------------------------------------------------------------------ */

void page_workspace(ui_req *r) {
  pipec_pipeline_info *ps = NULL;
  uint32_t n = 0;
  pipec_error err;
  if (pipec_pipelines(r->w, &ps, &n, &err) != 0) {
    ui_fail_err(r, &err);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "workspace", "workspace");
  ub_raw(b, "<h1>Pipelines</h1>");
  if (n == 0)
    ub_raw(b, "<p>No pipeline has run in this workspace yet: "
              "<code>pipec run FILE.pipe</code> records one.</p>");
  else
    ub_raw(b, "<table class=\"list\" id=\"pipelines\"><thead><tr>"
              "<th>pipeline</th><th>file</th><th>runs</th><th>last run</th>"
              "<th>status</th><th>started</th><th>time</th><th>ran</th>"
              "<th>cached</th><th>failed</th><th>nodes</th></tr></thead>"
              "<tbody>");
  for (uint32_t i = 0; i < n; i++) {
    ub_printf(b, "<tr><td><a href=\"/pipeline?id=%lld\">", (long long)ps[i].id);
    ub_html(b, ps[i].name);
    ub_raw(b, "</a></td><td><code>");
    ub_html(b, ps[i].file);
    ub_printf(b, "</code></td><td class=\"num\"><a href=\"/runs?pipeline=%lld\">"
                 "%u</a></td>",
              (long long)ps[i].id, ps[i].runs);
    pipec_run_info ri;
    if (ps[i].last_run && pipec_run_get(r->w, ps[i].last_run, &ri, &err) == 1)
      run_cells(b, &ri);
    else
      ub_raw(b, "<td colspan=\"8\">-</td>");
    if (ps[i].last_run) {
      free(ri.pipeline);
      free(ri.status);
    }
    ub_raw(b, "</tr>");
  }
  if (n)
    ub_raw(b, "</tbody></table>");
  pipec_pipeline_infos_free(ps, n);
  ui_page_end(r);
}

/* ---- a pipeline ------------------------------------------------------------------------- */

static const char legend[] =
    "<p class=\"legend\"><span class=\"badge st-succeeded\">succeeded</span>"
    "<span class=\"badge st-cached\">cached</span>"
    "<span class=\"badge st-running\">running</span>"
    "<span class=\"badge st-pending\">pending</span>"
    "<span class=\"badge st-failed\">failed</span>"
    "<span class=\"badge st-partial\">partly done</span>"
    "<span class=\"badge st-skipped\">skipped</span>"
    "<span class=\"badge st-cancelled\">cancelled</span>"
    "<span class=\"badge st-none\">not run</span></p>";

ui_pipe *ui_pipe_arg(ui_req *r, const char *name) {
  int64_t id = 0;
  int k = ui_arg_int(r, name, 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which pipeline? (?%s=ID)", name);
    return NULL;
  }
  pipec_pipeline_info *all, *one;
  uint32_t n;
  if (ui_find_pipeline(r, id, &all, &n, &one) != 1) {
    pipec_pipeline_infos_free(all, n);
    return NULL;
  }
  ui_pipe *u = ui_pipe_get(&r->srv->pipes, r->srv->root, one);
  pipec_pipeline_infos_free(all, n);
  return u;
}

/* The ?expand=a,b family list (malloc'd copy in *buf). */
static uint32_t expand_list(ui_req *r, char **buf, const char **v,
                            uint32_t max) {
  const char *e = ui_arg(r, "expand");
  *buf = strdup(e ? e : "");
  uint32_t n = 0;
  for (char *save, *t = strtok_r(*buf, ",", &save); t && n < max;
       t = strtok_r(NULL, ",", &save))
    v[n++] = t;
  return n;
}

static void action_bar(ui_req *r, const ui_pipe *u) {
  if (r->srv->o.read_only)
    return;
  ub_printf(&r->body,
            "<div class=\"actions\"><button class=\"act\" data-act=\"run\" "
            "data-pipeline=\"%lld\" data-confirm=\"Run pipeline ",
            (long long)u->id);
  ub_html(&r->body, u->name);
  ub_raw(&r->body, "?\">Run pipeline</button><label><input type=\"checkbox\" "
                   "class=\"force\"> --force</label></div>");
}

void page_pipeline(ui_req *r) {
  ui_pipe *u = ui_pipe_arg(r, "id");
  if (!u)
    return;
  ubuf *b = &r->body;
  r->page = "pipeline";
  ui_page_begin(r, u->name, "workspace");
  ub_raw(b, "<h1>");
  ub_html(b, u->name);
  ub_raw(b, " <small><code>");
  ub_html(b, u->file);
  ub_raw(b, "</code></small></h1>");
  ub_printf(b, "<p class=\"links\"><a href=\"/runs?pipeline=%lld\">runs</a>"
               "<a href=\"/snapshots?pipeline=%lld\">snapshots</a>"
               "<a href=\"/drafts?pipeline=%lld\">drafts</a>"
               "<a href=\"/metrics?pipeline=%lld\">metrics</a></p>",
            (long long)u->id, (long long)u->id, (long long)u->id,
            (long long)u->id);
  if (!u->p || u->diags) {
    ub_raw(b, "<p class=\"err\">The pipeline's file does not compile as it "
              "is now:</p><pre class=\"diag\">");
    ub_html(b, u->diags);
    ub_raw(b, "</pre>");
    ui_pipe_put(&r->srv->pipes, u);
    ui_page_end(r);
    return;
  }
  pipec_error err;
  ui_states s;
  if (ui_states_read(r->w, u, 0, &s, &err) != 0) {
    ui_states_free(&s);
    ui_pipe_put(&r->srv->pipes, u);
    ub_free(b);
    ui_fail_err(r, &err);
    return;
  }
  action_bar(r, u);
  ub_printf(b, "<div id=\"live\" data-pipeline=\"%lld\" data-run=\"%lld\" "
               "data-run-status=\"",
            (long long)u->id, (long long)s.run);
  ub_html(b, s.run_status);
  ub_raw(b, "\"><p class=\"runline\">");
  if (s.run) {
    ub_printf(b, "Colours: run <a href=\"/run?id=%lld\">%lld</a> ",
              (long long)s.run, (long long)s.run);
    run_badge(b, s.run_status);
    ub_raw(b, " <span class=\"counts\"></span>");
  } else {
    ub_raw(b, "No run yet.");
  }
  ub_printf(b, " · %u nodes in %u boxes", u->p->n_nodes, u->g.n_groups);
  ub_raw(b, "</p></div>");
  ub_raw(b, legend);
  if (u->layout->note) {
    ub_raw(b, "<p class=\"note\">Laid out by pipec, not Graphviz: ");
    ub_html(b, u->layout->note);
    ub_raw(b, "</p>");
  }
  ub_printf(b, "<div class=\"split\"><div class=\"dagbox\" id=\"dag\" "
               "data-pipeline=\"%lld\">",
            (long long)u->id);
  ui_dag_svg(b, u->p, &u->g, u->layout, &s);
  ub_raw(b, "</div><aside id=\"panel\"><p class=\"hint\">Click a node to see "
            "its panel; click a family to expand it.</p></aside></div>");
  ui_states_free(&s);
  ui_pipe_put(&r->srv->pipes, u);
  ui_page_end(r);
}

void page_dag(ui_req *r) {
  ui_pipe *u = ui_pipe_arg(r, "id");
  if (!u)
    return;
  if (!u->p) {
    ui_pipe_put(&r->srv->pipes, u);
    ui_fail(r, 409, "the pipeline does not compile");
    return;
  }
  const char *names[64];
  char *buf;
  uint32_t n = expand_list(r, &buf, names, 64);
  ui_graph g;
  ui_graph_build(u->p, names, n, &g);
  ui_layout *l = n ? ui_dag_layout(u->p, &g) : u->layout;
  pipec_error err;
  ui_states s;
  if (ui_states_read(r->w, u, 0, &s, &err) != 0)
    ui_fail_err(r, &err);
  else
    ui_dag_svg(&r->body, u->p, &g, l, &s);
  ui_states_free(&s);
  if (l != u->layout)
    ui_layout_free(l);
  ui_graph_free(&g);
  free(buf);
  ui_pipe_put(&r->srv->pipes, u);
}

uint32_t ui_page_arg(ui_req *r) {
  const char *v = ui_arg(r, "page");
  char *end;
  unsigned long n = v ? strtoul(v, &end, 10) : 0;
  return v && *v && !*end && n < 1000000 ? (uint32_t)n : 0;
}

/* ---- runs -------------------------------------------------------------------------------- */

void page_runs(ui_req *r) {
  int64_t pipeline = 0, before = 0;
  if (ui_arg_int(r, "pipeline", 1, INT64_MAX, &pipeline) < 0 ||
      ui_arg_int(r, "before", 1, INT64_MAX, &before) < 0)
    return;
  pipec_run_info *runs;
  uint32_t n, total;
  pipec_error err;
  if (pipec_runs_page(r->w, pipeline, before, UI_PAGE, &runs, &n, &total,
                      &err) != 0) {
    ui_fail_err(r, &err);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "runs", "runs");
  ub_printf(b, "<h1>Runs <small>%u in all</small></h1>", total);
  ub_raw(b, "<table class=\"list\" id=\"runs\"><thead><tr><th>run</th>"
            "<th>status</th><th>started</th><th>time</th><th>ran</th>"
            "<th>cached</th><th>failed</th><th>nodes</th><th>pipeline</th>"
            "<th>snapshot</th><th>params</th></tr></thead><tbody>");
  for (uint32_t i = 0; i < n; i++) {
    ub_printf(b, "<tr data-run=\"%lld\">", (long long)runs[i].id);
    run_cells(b, &runs[i]);
    ub_raw(b, "<td>");
    ub_html(b, runs[i].pipeline);
    ub_printf(b, "</td><td class=\"num\">%lld</td><td><code>",
              (long long)runs[i].snapshot);
    run_args(r, runs[i].snapshot);
    ub_raw(b, "</code></td></tr>");
  }
  ub_raw(b, "</tbody></table>");
  if (n == UI_PAGE) {
    ub_raw(b, "<p class=\"pager\"><a href=\"/runs?");
    if (pipeline)
      ub_printf(b, "pipeline=%lld&amp;", (long long)pipeline);
    ub_printf(b, "before=%lld\">older runs</a></p>", (long long)runs[n - 1].id);
  }
  pipec_run_infos_free(runs, n);
  ui_page_end(r);
}

/* The pipeline a run belongs to, compiled (NULL if it is gone). */
static ui_pipe *pipe_of_run(ui_req *r, const pipec_run_info *ri) {
  pipec_snapshot_info si;
  pipec_error err;
  if (pipec_snapshot_get(r->w, ri->snapshot, &si, &err) != 1) {
    pipec_snapshot_info_free(&si);
    return NULL;
  }
  pipec_pipeline_info *all;
  uint32_t n;
  ui_pipe *u = NULL;
  if (pipec_pipelines(r->w, &all, &n, &err) == 0)
    for (uint32_t i = 0; i < n && !u; i++)
      if (strcmp(all[i].name, ri->pipeline) == 0 &&
          strcmp(all[i].file, si.file) == 0)
        u = ui_pipe_get(&r->srv->pipes, r->srv->root, &all[i]);
  pipec_pipeline_infos_free(all, n);
  pipec_snapshot_info_free(&si);
  return u;
}

void page_run(ui_req *r) {
  int64_t id = 0;
  int k = ui_arg_int(r, "id", 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which run? (?id=RUN)");
    return;
  }
  pipec_run_info ri;
  pipec_error err;
  int found = pipec_run_get(r->w, id, &ri, &err);
  if (found != 1) {
    if (found < 0)
      ui_fail_err(r, &err);
    else
      ui_fail(r, 404, "no run %lld in this workspace", (long long)id);
    return;
  }
  ui_pipe *u = pipe_of_run(r, &ri);
  ubuf *b = &r->body;
  char title[64];
  snprintf(title, sizeof title, "run %lld", (long long)id);
  r->page = "run";
  ui_page_begin(r, title, "runs");
  ub_printf(b, "<h1>Run %lld <small>of ", (long long)id);
  if (u)
    ub_printf(b, "<a href=\"/pipeline?id=%lld\">", (long long)u->id);
  ub_html(b, ri.pipeline);
  ub_raw(b, u ? "</a>" : "");
  ub_raw(b, "</small></h1>");
  ub_printf(b, "<div id=\"live\" data-run=\"%lld\" data-pipeline=\"%lld\" "
               "data-run-status=\"",
            (long long)id, u ? (long long)u->id : 0LL);
  ub_html(b, ri.status);
  ub_raw(b, "\"><p class=\"runline\">");
  run_badge(b, ri.status);
  ub_raw(b, " started ");
  ub_time(b, ri.started_ms);
  ub_raw(b, " · ");
  ub_duration(b, run_seconds(&ri));
  ub_printf(b, " · <span class=\"counts\">%u ran, %u cached, %u failed, %u "
               "nodes</span> · snapshot <a href=\"/snapshots?pipeline=%lld#s%lld\">"
               "%lld</a> · <code>",
            ri.ran, ri.cached, ri.failed, ri.nodes, u ? (long long)u->id : 0LL,
            (long long)ri.snapshot, (long long)ri.snapshot);
  run_args(r, ri.snapshot);
  ub_printf(b, "</code> · <a href=\"/report?run=%lld\">report</a></p></div>",
            (long long)id);
  if (u && u->p) {
    ui_states s;
    if (ui_states_read(r->w, u, id, &s, &err) == 0) {
      ub_raw(b, legend);
      ub_printf(b, "<div class=\"split\"><div class=\"dagbox\" id=\"dag\" "
                   "data-pipeline=\"%lld\">",
                (long long)u->id);
      ui_dag_svg(b, u->p, &u->g, u->layout, &s);
      ub_raw(b, "</div><aside id=\"panel\"><p class=\"hint\">Click a node "
                "to see it in this run.</p></aside></div>");
    }
    ui_states_free(&s);
  }
  /* the node table, a page at a time */
  pipec_node_info *nodes;
  uint32_t n;
  if (pipec_run_nodes(r->w, id, &nodes, &n, &err) == 0) {
    ub_raw(b, "<h2>Timeline</h2><div class=\"tlbox\">");
    ui_timeline(b, nodes, n, ri.started_ms, ri.ended_ms);
    ub_raw(b, "</div>");
    int64_t page = ui_page_arg(r);
    uint32_t per = 200, from = (uint32_t)page * per;
    ub_raw(b, "<h2>Nodes</h2><table class=\"list\" id=\"nodes\"><thead><tr>"
              "<th>node</th><th>status</th><th>why</th><th>target</th>"
              "<th>job</th><th>attempts</th><th>exit</th><th>started</th>"
              "<th>time</th><th>log</th></tr></thead><tbody>");
    for (uint32_t i = from; i < n && i < from + per; i++) {
      const pipec_node_info *ni = &nodes[i];
      ub_raw(b, "<tr data-node=\"");
      ub_html(b, ni->name);
      ub_raw(b, "\"><td>");
      if (u)
        ub_printf(b, "<a href=\"/node?pipeline=%lld&amp;run=%lld&amp;name=",
                  (long long)u->id, (long long)id);
      if (u)
        ub_url(b, ni->name);
      ub_raw(b, u ? "\">" : "");
      ub_html(b, ni->name);
      ub_raw(b, u ? "</a>" : "");
      ub_raw(b, "</td><td class=\"st\">");
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
      ub_raw(b, "</td><td>");
      if (ni->log) {
        ub_printf(b, "<a href=\"/log?run=%lld&amp;node=", (long long)id);
        ub_url(b, ni->name);
        ub_raw(b, "\">log</a>");
      }
      ub_raw(b, "</td></tr>");
    }
    ub_raw(b, "</tbody></table>");
    if (n > per) {
      ub_printf(b, "<p class=\"pager\">nodes %u-%u of %u ", from + 1,
                from + per < n ? from + per : n, n);
      if (page > 0)
        ub_printf(b, "<a href=\"/run?id=%lld&amp;page=%lld\">previous</a> ",
                  (long long)id, (long long)page - 1);
      if (from + per < n)
        ub_printf(b, "<a href=\"/run?id=%lld&amp;page=%lld\">next</a>",
                  (long long)id, (long long)page + 1);
      ub_raw(b, "</p>");
    }
    pipec_node_infos_free(nodes, n);
  }
  free(ri.pipeline);
  free(ri.status);
  ui_pipe_put(&r->srv->pipes, u);
  ui_page_end(r);
}

/* ---- a node's log and outputs ---------------------------------------------------------------- */

/* The node run ?node= of run ?run=: 1 with it in *out, else answered. */
static int run_node_arg(ui_req *r, pipec_node_info **all, uint32_t *n,
                        pipec_node_info **out, int64_t *run) {
  *all = NULL;
  *n = 0;
  *out = NULL;
  const char *node = ui_arg(r, "node");
  int k = ui_arg_int(r, "run", 1, INT64_MAX, run);
  if (k <= 0 || !node) {
    if (k == 0 || !node)
      ui_fail(r, 400, "which node of which run? (?run=RUN&node=NODE)");
    return 0;
  }
  pipec_error err;
  if (pipec_run_nodes(r->w, *run, all, n, &err) != 0) {
    ui_fail_err(r, &err);
    return 0;
  }
  for (uint32_t i = 0; i < *n; i++)
    if (strcmp((*all)[i].name, node) == 0) {
      *out = &(*all)[i];
      return 1;
    }
  ui_fail(r, 404, "run %lld has no node '%s'", (long long)*run, node);
  return 0;
}

#define LOG_MAX (16u << 20)

void page_log(ui_req *r) {
  pipec_node_info *all, *ni;
  uint32_t n;
  int64_t run;
  if (run_node_arg(r, &all, &n, &ni, &run) != 1) {
    pipec_node_infos_free(all, n);
    return;
  }
  ubuf log = {0};
  bool cut;
  if (ui_log_tail(ni->log, LOG_MAX, &log, &cut) != 0) {
    ui_fail(r, 404, "node '%s' of run %lld has no log", ni->name,
            (long long)run);
  } else if (r->api || ui_arg(r, "raw")) {
    r->type = "text/plain; charset=utf-8";
    ub_rawn(&r->body, log.s ? log.s : "", log.len);
  } else {
    ubuf *b = &r->body;
    ui_page_begin(r, ni->name, "runs");
    ub_printf(b, "<h1>Log of ");
    ub_html(b, ni->name);
    ub_printf(b, " <small>run <a href=\"/run?id=%lld\">%lld</a></small></h1>",
              (long long)run, (long long)run);
    if (cut)
      ub_printf(b, "<p class=\"note\">The last %u MiB.</p>", LOG_MAX >> 20);
    ub_raw(b, "<pre class=\"log full\">");
    ub_htmln(b, log.s ? log.s : "", log.len);
    ub_raw(b, "</pre>");
    ui_page_end(r);
  }
  ub_free(&log);
  pipec_node_infos_free(all, n);
}

void page_output(ui_req *r) {
  pipec_node_info *all, *ni;
  uint32_t n;
  int64_t run;
  const char *port = ui_arg(r, "port");
  if (!port) {
    ui_fail(r, 400, "which output? (&port=PORT)");
    return;
  }
  if (run_node_arg(r, &all, &n, &ni, &run) != 1) {
    pipec_node_infos_free(all, n);
    return;
  }
  uint64_t size = 0;
  pipec_error err;
  int rc = ui_output_read(r->w, ni->id, port, LOG_MAX, &r->body, &size, &err);
  if (rc < 0)
    ui_fail_err(r, &err);
  else if (rc == 0)
    ui_fail(r, 404, "node '%s' of run %lld has no output '%s'", ni->name,
            (long long)run, port);
  else
    r->type = "text/plain; charset=utf-8";
  pipec_node_infos_free(all, n);
}
