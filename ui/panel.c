/*
 * panel.c — a node's panel (and a family's): what the pipeline page shows
 * beside the DAG when a box is clicked, and /node as a page of its own.
 * The node as compiled (component, target, params, inputs) and its newest
 * node run (status, why it ran, job, attempts, times, outputs with a
 * preview, the end of its log).
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

/* ---- a node's panel ------------------------------------------------------------------ */

static void value_text(ubuf *b, const pipec_value *v) {
  switch (v->type) {
  case PIPEC_T_INT:
    ub_printf(b, "%lld", (long long)v->u.i);
    break;
  case PIPEC_T_FLOAT:
    ub_printf(b, "%g", v->u.f);
    break;
  case PIPEC_T_BOOL:
    ub_raw(b, v->u.b ? "true" : "false");
    break;
  case PIPEC_T_STRING:
  case PIPEC_T_PATH:
    ub_html(b, v->u.s);
    break;
  case PIPEC_T_LIST:
    ub_char(b, '[');
    for (uint32_t i = 0; i < v->u.list.n; i++) {
      if (i)
        ub_raw(b, ", ");
      value_text(b, &v->u.list.items[i]);
    }
    ub_char(b, ']');
    break;
  }
}

/* The newest node run of name among the pipeline's last runs (or in run
 * if given): 1 with a copy in *out (free with pipec_node_infos_free(out,
 * 1)) and its run, 0 none. */
static int node_run_of(pipec_ws *w, const ui_pipe *u, int64_t run,
                       const char *name, pipec_node_info **out,
                       int64_t *run_of, pipec_error *err) {
  *out = NULL;
  pipec_run_info *runs = NULL;
  uint32_t n = 0;
  int rc;
  if (run) {
    runs = calloc(1, sizeof *runs);
    rc = pipec_run_get(w, run, runs, err);
    n = rc == 1;
  } else {
    rc = pipec_runs_page(w, u->id, 0, UI_STATE_RUNS, &runs, &n, NULL, err);
  }
  if (rc < 0) {
    pipec_run_infos_free(runs, n);
    return rc;
  }
  int found = 0;
  for (uint32_t i = 0; i < n && !found && rc >= 0; i++) {
    pipec_node_info *v;
    uint32_t k;
    rc = pipec_run_nodes(w, runs[i].id, &v, &k, err);
    if (rc < 0)
      break;
    for (uint32_t j = 0; j < k; j++)
      if (strcmp(v[j].name, name) == 0) {
        *out = calloc(1, sizeof **out);
        **out = v[j];
        v[j] = (pipec_node_info){0};
        *run_of = runs[i].id;
        found = 1;
        break;
      }
    pipec_node_infos_free(v, k);
  }
  pipec_run_infos_free(runs, n);
  return rc < 0 ? rc : found;
}

int ui_output_read(pipec_ws *w, int64_t node_run, const char *port,
                   size_t max, ubuf *b, uint64_t *size, pipec_error *err) {
  pipec_output_info *outs;
  uint32_t n;
  int rc = pipec_node_outputs(w, node_run, &outs, &n, err);
  if (rc < 0)
    return rc;
  int found = 0;
  for (uint32_t i = 0; i < n && !found; i++) {
    if (strcmp(outs[i].port, port) != 0)
      continue;
    found = 1;
    *size = outs[i].size;
    int fd;
    rc = pipec_output_open(w, outs[i].hash, &fd, err);
    if (rc < 0)
      break;
    char buf[65536];
    while (b->len < max) {
      size_t want = max - b->len < sizeof buf ? max - b->len : sizeof buf;
      ssize_t k = read(fd, buf, want);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        break;
      ub_rawn(b, buf, (size_t)k);
    }
    close(fd);
  }
  pipec_output_infos_free(outs, n);
  return rc < 0 ? rc : found;
}

int ui_log_tail(const char *path, size_t max, ubuf *b, bool *cut) {
  *cut = false;
  if (!path)
    return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return -1;
  }
  off_t from = 0;
  if (max && (uint64_t)sb.st_size > max) {
    from = sb.st_size - (off_t)max;
    *cut = true;
  }
  char buf[65536];
  for (;;) {
    ssize_t k = pread(fd, buf, sizeof buf, from);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    ub_rawn(b, buf, (size_t)k);
    from += k;
  }
  close(fd);
  return 0;
}

static bool is_text(const ubuf *b) {
  return !b->s || memchr(b->s, '\0', b->len) == NULL;
}

/* A CSV's first rows as a table (fields split at commas outside quotes). */
static void csv_preview(ubuf *out, const ubuf *b, unsigned rows) {
  ub_raw(out, "<table class=\"csv\">");
  const char *p = b->s, *end = b->s + b->len;
  for (unsigned row = 0; p < end && row <= rows; row++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    if (le > p && le[-1] == '\r')
      le--;
    ub_raw(out, "<tr>");
    const char *f = p;
    bool q = false;
    for (const char *c = p;; c++) {
      if (c < le && *c == '"')
        q = !q;
      if (c == le || (*c == ',' && !q)) {
        ub_raw(out, row ? "<td>" : "<th>");
        const char *fs = f, *fe = c;
        if (fe - fs >= 2 && *fs == '"' && fe[-1] == '"') {
          fs++;
          fe--;
        }
        ub_htmln(out, fs, (size_t)(fe - fs));
        ub_raw(out, row ? "</td>" : "</th>");
        f = c + 1;
        if (c == le)
          break;
      }
    }
    ub_raw(out, "</tr>");
    p = nl ? nl + 1 : end;
  }
  ub_raw(out, "</table>");
}

static void node_outputs(ui_req *r, const pipec_pipeline *p, uint32_t node,
                         const pipec_node_info *ni, int64_t run) {
  ubuf *b = &r->body;
  pipec_output_info *outs;
  uint32_t n;
  pipec_error err;
  if (pipec_node_outputs(r->w, ni->id, &outs, &n, &err) != 0 || n == 0) {
    ub_raw(b, "<p>No outputs recorded.</p>");
    pipec_output_infos_free(outs, n);
    return;
  }
  const pipec_component *c = node != PIPEC_NONE
                                 ? &p->components[p->nodes[node].component]
                                 : NULL;
  ub_raw(b, "<table class=\"kv\"><tr><th>port</th><th>type</th><th>size</th>"
            "<th>object</th></tr>");
  for (uint32_t i = 0; i < n; i++) {
    pipec_port_type type = PIPEC_PORT_FILE;
    bool known = false;
    for (uint32_t k = 0; c && k < c->n_outputs; k++)
      if (strcmp(c->outputs[k].name, outs[i].port) == 0) {
        type = c->outputs[k].type;
        known = true;
      }
    ub_raw(b, "<tr><td>");
    ub_html(b, outs[i].port);
    ub_printf(b, "</td><td>%s</td><td class=\"num\">",
              known ? pipec_port_type_name(type) : "?");
    ub_size(b, outs[i].size);
    ub_printf(b, "</td><td><code>%.12s</code></td></tr>", outs[i].hash);
    if (type == PIPEC_PORT_DIR)
      continue;
    ubuf data = {0};
    uint64_t size = 0;
    int rc = ui_output_read(r->w, ni->id, outs[i].port, 8192, &data, &size,
                            &err);
    ub_raw(b, "<tr><td colspan=\"4\">");
    if (rc < 0) {
      ub_raw(b, "<span class=\"err\">");
      ub_html(b, err.msg);
      ub_raw(b, "</span>");
    } else if (!is_text(&data)) {
      ub_raw(b, "(binary)");
    } else if (type == PIPEC_PORT_TABLE) {
      csv_preview(b, &data, 20);
    } else {
      ub_raw(b, "<pre class=\"preview\">");
      ub_htmln(b, data.s ? data.s : "", data.len < 4096 ? data.len : 4096);
      ub_raw(b, "</pre>");
    }
    if (size > 4096 || (type == PIPEC_PORT_TABLE && size > data.len)) {
      ub_printf(b, "<a href=\"/output?run=%lld&amp;node=", (long long)run);
      ub_url(b, ni->name);
      ub_raw(b, "&amp;port=");
      ub_url(b, outs[i].port);
      ub_raw(b, "\">all of it</a>");
    }
    ub_raw(b, "</td></tr>");
    ub_free(&data);
  }
  ub_raw(b, "</table>");
  pipec_output_infos_free(outs, n);
}

static void node_buttons(ui_req *r, const ui_pipe *u, const char *name) {
  if (r->srv->o.read_only)
    return;
  ubuf *b = &r->body;
  ub_raw(b, "<div class=\"actions\">");
  static const char *const kinds[][2] = {{"node", "Re-run"},
                                         {"from", "Run from here"}};
  for (unsigned i = 0; i < 2; i++) {
    ub_printf(b, "<button class=\"act\" data-act=\"run\" data-pipeline=\"%lld\" "
                 "data-%s=\"",
              (long long)u->id, kinds[i][0]);
    ub_html(b, name);
    ub_printf(b, "\" data-confirm=\"%s ", i == 0 ? "Re-run" : "Run from");
    ub_html(b, name);
    ub_printf(b, "?\">%s</button>", kinds[i][1]);
  }
  ub_raw(b, "<label><input type=\"checkbox\" class=\"force\"> --force</label>"
            "</div>");
}

static void family_panel(ui_req *r, ui_pipe *u, uint32_t f) {
  ubuf *b = &r->body;
  const pipec_family *fam = &u->p->families[f];
  pipec_error err;
  ui_states s;
  if (ui_states_read(r->w, u, 0, &s, &err) != 0) {
    ui_states_free(&s);
    ub_html(b, err.msg);
    return;
  }
  ub_raw(b, "<h2>");
  ub_html(b, fam->name);
  ub_raw(b, "[*] <small>family</small></h2><table class=\"kv\">");
  ub_raw(b, "<tr><th>component</th><td>");
  ub_html(b, u->p->components[fam->component].name);
  ub_printf(b, "</td></tr><tr><th>members</th><td>%u", s.family_total[f]);
  if (fam->runtime)
    ub_raw(b, " (known at run time)");
  ub_raw(b, "</td></tr><tr><th>status</th><td>");
  for (int st = 1; st < UI_ST_N; st++)
    if (s.family[f][st])
      ub_printf(b, "<span class=\"badge %s\">%u %s</span> ",
                ui_status_class(st), s.family[f][st],
                ui_status_name((ui_status)st));
  if (s.family[f][UI_ST_NONE])
    ub_printf(b, "<span class=\"badge st-none\">%u not run</span>",
              s.family[f][UI_ST_NONE]);
  ub_raw(b, "</td></tr></table>");
  node_buttons(r, u, fam->name);
  if (!fam->runtime && fam->n_members <= UI_EXPAND_MAX) {
    ub_raw(b, "<p><button class=\"expand\" data-family=\"");
    ub_html(b, fam->name);
    ub_raw(b, "\">Expand / fold in the graph</button></p>");
  }
  int64_t page = ui_page_arg(r);
  uint32_t per = 100, from = (uint32_t)page * per;
  ub_raw(b, "<table class=\"list members\"><tr><th>member</th><th>status</th>"
            "</tr>");
  for (uint32_t k = from; k < fam->n_members && k < from + per; k++) {
    const pipec_node *m = &u->p->nodes[fam->members[k]];
    ub_printf(b, "<tr><td><a class=\"nodelink\" href=\"/node?pipeline=%lld&amp;"
                 "name=",
              (long long)u->id);
    ub_url(b, m->name);
    ub_raw(b, "\" data-name=\"");
    ub_html(b, m->name);
    ub_raw(b, "\">");
    ub_html(b, m->name);
    ub_raw(b, "</a></td><td>");
    ui_status_badge(b, ui_status_name((ui_status)s.node[fam->members[k]]));
    ub_raw(b, "</td></tr>");
  }
  ub_raw(b, "</table>");
  if (fam->n_members > per) {
    ub_printf(b, "<p class=\"pager\">members %u-%u of %u ", from + 1,
              from + per < fam->n_members ? from + per : fam->n_members,
              fam->n_members);
    for (int d = -1; d <= 1; d += 2) {
      int64_t to = page + d;
      if (to < 0 || (uint64_t)to * per >= fam->n_members)
        continue;
      ub_printf(b, "<a href=\"/node?pipeline=%lld&amp;name=", (long long)u->id);
      ub_url(b, fam->name);
      ub_printf(b, "&amp;page=%lld\">%s</a> ", (long long)to,
                d < 0 ? "previous" : "next");
    }
    ub_raw(b, "</p>");
  }
  ui_states_free(&s);
}

static void node_panel(ui_req *r, const ui_pipe *u, const char *name,
                       int64_t run) {
  ubuf *b = &r->body;
  const pipec_pipeline *p = u->p;
  uint32_t node = pipec_pipeline_node(p, name);
  pipec_error err;
  pipec_node_info *ni = NULL;
  int64_t run_of = 0;
  int found = node_run_of(r->w, u, run, name, &ni, &run_of, &err);
  if (node == PIPEC_NONE && found <= 0) {
    ub_raw(b, "<p class=\"err\">No node ");
    ub_html(b, name);
    ub_raw(b, " in this pipeline.</p>");
    return;
  }
  ub_raw(b, "<h2>");
  ub_html(b, name);
  ub_raw(b, "</h2><table class=\"kv\">");
  if (node != PIPEC_NONE) {
    const pipec_node *nd = &p->nodes[node];
    const pipec_component *c = &p->components[nd->component];
    ub_raw(b, "<tr><th>component</th><td>");
    ub_html(b, c->name);
    if (c->version)
      ub_htmlf(b, " %s", c->version);
    ub_raw(b, "</td></tr><tr><th>target</th><td>");
    ub_html(b, p->targets[nd->target].name);
    ub_raw(b, " (");
    ub_html(b, p->targets[nd->target].kind);
    ub_raw(b, ")</td></tr>");
    if (nd->n_params) {
      ub_raw(b, "<tr><th>params</th><td><table class=\"params\">");
      for (uint32_t i = 0; i < nd->n_params; i++) {
        ub_raw(b, "<tr><td>");
        ub_html(b, nd->params[i].name);
        ub_raw(b, "</td><td><code>");
        value_text(b, &nd->params[i].value);
        ub_raw(b, "</code></td></tr>");
      }
      ub_raw(b, "</table></td></tr>");
    }
    if (nd->n_inputs) {
      ub_raw(b, "<tr><th>inputs</th><td>");
      for (uint32_t i = 0; i < nd->n_inputs; i++) {
        const pipec_input *in = &nd->inputs[i];
        if (i)
          ub_raw(b, "<br>");
        ub_html(b, in->port);
        ub_raw(b, " ← ");
        if (in->kind == PIPEC_IN_NODE) {
          ub_html(b, p->nodes[in->producer].name);
          ub_char(b, '.');
          ub_html(b, in->producer_port);
        } else if (in->kind == PIPEC_IN_SOURCE) {
          ub_raw(b, "<code>");
          ub_html(b, in->source);
          ub_raw(b, "</code>");
        } else {
          ub_html(b, in->producer_port);
        }
      }
      ub_raw(b, "</td></tr>");
    }
  }
  if (found == 1) {
    ub_printf(b, "<tr><th>run</th><td><a href=\"/run?id=%lld\">%lld</a></td>"
                 "</tr><tr><th>status</th><td>",
              (long long)run_of, (long long)run_of);
    ui_status_badge(b, ni->status);
    ub_raw(b, "</td></tr><tr><th>why</th><td>");
    ub_html(b, ni->cache_hit ? "cached: its cache key is unchanged"
                             : ni->reason ? ni->reason : "-");
    ub_raw(b, "</td></tr>");
    if (ni->message) {
      ub_raw(b, "<tr><th>error</th><td class=\"err\">");
      ub_html(b, ni->message);
      ub_raw(b, "</td></tr>");
    }
    ub_raw(b, "<tr><th>job</th><td>");
    ub_html(b, ni->job ? ni->job : "-");
    ub_printf(b, "</td></tr><tr><th>attempts</th><td>%d</td></tr>"
                 "<tr><th>exit code</th><td>",
              ni->attempts);
    if (ni->exit_code >= 0)
      ub_printf(b, "%d", ni->exit_code);
    else
      ub_raw(b, "-");
    ub_raw(b, "</td></tr><tr><th>started</th><td>");
    ub_time(b, ni->started_ms);
    ub_raw(b, "</td></tr><tr><th>time</th><td>");
    ub_duration(b, ni->started_ms && ni->ended_ms
                       ? (double)(ni->ended_ms - ni->started_ms) / 1000
                       : -1);
    ub_raw(b, "</td></tr><tr><th>cache key</th><td><code>");
    ub_html(b, ni->cache_key ? ni->cache_key : "-");
    ub_raw(b, "</code></td></tr></table>");
  } else {
    ub_raw(b, "<tr><th>status</th><td><span class=\"badge st-none\">not run"
              "</span></td></tr></table>");
  }
  node_buttons(r, u, name);
  if (found == 1) {
    ub_raw(b, "<h3>Outputs</h3>");
    node_outputs(r, p, node, ni, run_of);
    ub_raw(b, "<h3>Log</h3>");
    ubuf log = {0};
    bool cut;
    if (ui_log_tail(ni->log, 4096, &log, &cut) != 0) {
      ub_raw(b, "<p>No log.</p>");
    } else {
      ub_raw(b, "<pre class=\"log\">");
      if (cut)
        ub_raw(b, "…\n");
      ub_htmln(b, log.s ? log.s : "", log.len);
      ub_printf(b, "</pre><a href=\"/log?run=%lld&amp;node=",
                (long long)run_of);
      ub_url(b, name);
      ub_raw(b, "\">full log</a>");
    }
    ub_free(&log);
  }
  pipec_node_infos_free(ni, found == 1 ? 1 : 0);
}

void page_node(ui_req *r) {
  ui_pipe *u = ui_pipe_arg(r, "pipeline");
  if (!u)
    return;
  const char *name = ui_arg(r, "name");
  int64_t run = 0;
  if (!name || !*name) {
    ui_fail(r, 400, "which node? (?name=NODE)");
  } else if (!u->p) {
    ui_fail(r, 409, "the pipeline does not compile");
  } else if (ui_arg_int(r, "run", 1, INT64_MAX, &run) >= 0) {
    bool fragment = ui_arg(r, "fragment") != NULL;
    if (!fragment) {
      ui_page_begin(r, name, "workspace");
      ub_printf(&r->body, "<p><a href=\"/pipeline?id=%lld\">← ", (long long)u->id);
      ub_html(&r->body, u->name);
      ub_raw(&r->body, "</a></p>");
    }
    uint32_t f = pipec_pipeline_family(u->p, name);
    if (f != PIPEC_NONE && pipec_pipeline_node(u->p, name) == PIPEC_NONE)
      family_panel(r, u, f);
    else
      node_panel(r, u, name, run);
    if (!fragment)
      ui_page_end(r);
  }
  ui_pipe_put(&r->srv->pipes, u);
}

