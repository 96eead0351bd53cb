/*
 * api.c — the JSON endpoints (docs/ui.md lists them): what the pages show,
 * for scripts. Where the CLI has a --json, the answer has its schema:
 * /api/runs is `pipec runs --json`, /api/run `pipec show --json`,
 * /api/snapshots `pipec snapshots --json`.
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_type(ui_req *r) { r->type = "application/json"; }

static void int_or_null(ubuf *b, int64_t v, bool present) {
  if (present)
    ub_printf(b, "%lld", (long long)v);
  else
    ub_raw(b, "null");
}

/* The fields `pipec runs --json` and `pipec show --json` share. */
static void run_fields(ubuf *b, const pipec_run_info *ri) {
  ub_printf(b, "\"run\":%lld,\"pipeline\":", (long long)ri->id);
  ub_js(b, ri->pipeline);
  ub_printf(b, ",\"snapshot\":%lld,\"status\":", (long long)ri->snapshot);
  ub_js(b, ri->status);
  ub_printf(b, ",\"started\":%lld,\"finished\":", (long long)ri->started_ms);
  int_or_null(b, ri->ended_ms, ri->ended_ms != 0);
}

static void run_list_item(ubuf *b, const pipec_run_info *ri) {
  ub_char(b, '{');
  run_fields(b, ri);
  ub_printf(b, ",\"ran\":%u,\"cached\":%u,\"failed\":%u}", ri->ran,
            ri->cached, ri->failed);
}

void api_pipelines(ui_req *r) {
  pipec_pipeline_info *ps;
  uint32_t n;
  pipec_error err;
  if (pipec_pipelines(r->w, &ps, &n, &err) != 0) {
    ui_fail_err(r, &err);
    return;
  }
  json_type(r);
  ubuf *b = &r->body;
  ub_char(b, '[');
  for (uint32_t i = 0; i < n; i++) {
    ub_printf(b, "%s{\"id\":%lld,\"pipeline\":", i ? "," : "",
              (long long)ps[i].id);
    ub_js(b, ps[i].name);
    ub_raw(b, ",\"file\":");
    ub_js(b, ps[i].file);
    ub_printf(b, ",\"runs\":%u,\"last_run\":", ps[i].runs);
    pipec_run_info ri;
    if (ps[i].last_run && pipec_run_get(r->w, ps[i].last_run, &ri, &err) == 1) {
      run_list_item(b, &ri);
      free(ri.pipeline);
      free(ri.status);
    } else {
      ub_raw(b, "null");
    }
    ub_char(b, '}');
  }
  ub_raw(b, "]\n");
  pipec_pipeline_infos_free(ps, n);
}

/* ?pipeline=ID (or ?id=), compiled. */
static ui_pipe *pipe_param(ui_req *r) {
  int64_t id = 0;
  int k = ui_arg_int(r, "pipeline", 1, INT64_MAX, &id);
  if (k == 0)
    k = ui_arg_int(r, "id", 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which pipeline? (?pipeline=ID)");
    return NULL;
  }
  pipec_pipeline_info *all, *one;
  uint32_t n;
  ui_pipe *u = NULL;
  if (ui_find_pipeline(r, id, &all, &n, &one) == 1)
    u = ui_pipe_get(&r->srv->pipes, r->srv->root, one);
  pipec_pipeline_infos_free(all, n);
  return u;
}

static void box_json(ubuf *b, const ui_pipe *u, const ui_graph *g,
                     const ui_states *s, uint32_t i) {
  uint32_t done, total;
  int st = ui_group_status(g, s, i, &done, &total);
  ub_raw(b, "{\"name\":");
  ub_js(b, g->groups[i].name);
  ub_printf(b, ",\"kind\":\"%s\",\"status\":\"%s\",\"done\":%u,\"total\":%u",
            g->groups[i].node == PIPEC_NONE ? "family" : "node",
            ui_status_name((ui_status)st), done, total);
  if (g->groups[i].node == PIPEC_NONE) {
    ub_raw(b, ",\"counts\":{");
    const char *sep = "";
    for (int k = 0; k < UI_ST_N; k++)
      if (s->family[g->groups[i].family][k]) {
        ub_printf(b, "%s\"%s\":%u", sep, ui_status_name((ui_status)k),
                  s->family[g->groups[i].family][k]);
        sep = ",";
      }
    ub_char(b, '}');
  }
  (void)u;
  ub_char(b, '}');
}

void ui_states_json(ubuf *b, const ui_pipe *u, const ui_graph *g,
                    const ui_states *s) {
  ub_printf(b, "{\"pipeline\":%lld,\"run\":", (long long)u->id);
  int_or_null(b, s->run, s->run != 0);
  ub_raw(b, ",\"run_status\":");
  ub_js(b, s->run ? s->run_status : NULL);
  uint32_t counts[UI_ST_N] = {0};
  for (uint32_t i = 0; i < u->p->n_nodes; i++)
    counts[s->node[i]]++;
  ub_raw(b, ",\"counts\":{");
  for (int k = 0; k < UI_ST_N; k++)
    ub_printf(b, "%s\"%s\":%u", k ? "," : "", ui_status_name((ui_status)k),
              counts[k]);
  ub_raw(b, "},\"boxes\":[");
  for (uint32_t i = 0; i < g->n_groups; i++) {
    if (i)
      ub_char(b, ',');
    box_json(b, u, g, s, i);
  }
  ub_raw(b, "]}\n");
}

/* ?expand=a,b as a list (in buf). */
static uint32_t expand_arg(ui_req *r, char **buf, const char **v, uint32_t max) {
  const char *e = ui_arg(r, "expand");
  *buf = strdup(e ? e : "");
  uint32_t n = 0;
  for (char *save, *t = strtok_r(*buf, ",", &save); t && n < max;
       t = strtok_r(NULL, ",", &save))
    v[n++] = t;
  return n;
}

void api_status(ui_req *r) {
  ui_pipe *u = pipe_param(r);
  if (!u)
    return;
  int64_t run = 0;
  if (!u->p) {
    ui_fail(r, 409, "the pipeline does not compile: %s", u->diags);
  } else if (ui_arg_int(r, "run", 1, INT64_MAX, &run) >= 0) {
    const char *names[64];
    char *buf;
    uint32_t n = expand_arg(r, &buf, names, 64);
    /* the folded graph is the pipeline's own; an expanded one is made */
    ui_graph own, *g = &u->g;
    if (n) {
      ui_graph_build(u->p, names, n, &own);
      g = &own;
    }
    ui_states s;
    pipec_error err;
    if (ui_states_read(r->w, u, run, &s, &err) != 0) {
      ui_fail_err(r, &err);
    } else {
      json_type(r);
      ui_states_json(&r->body, u, g, &s);
    }
    ui_states_free(&s);
    if (g == &own)
      ui_graph_free(&own);
    free(buf);
  }
  ui_pipe_put(&r->srv->pipes, u);
}

void api_pipeline(ui_req *r) {
  ui_pipe *u = pipe_param(r);
  if (!u)
    return;
  json_type(r);
  ubuf *b = &r->body;
  ub_printf(b, "{\"id\":%lld,\"pipeline\":", (long long)u->id);
  ub_js(b, u->name);
  ub_raw(b, ",\"file\":");
  ub_js(b, u->file);
  ub_raw(b, ",\"diagnostics\":");
  ub_js(b, u->diags);
  if (u->p) {
    ub_printf(b, ",\"nodes\":%u,\"families\":[", u->p->n_nodes);
    for (uint32_t f = 0; f < u->p->n_families; f++) {
      const pipec_family *fam = &u->p->families[f];
      ub_raw(b, f ? ",{\"name\":" : "{\"name\":");
      ub_js(b, fam->name);
      ub_printf(b, ",\"members\":%u,\"runtime\":%s}", fam->n_members,
                fam->runtime ? "true" : "false");
    }
    ub_raw(b, "],\"edges\":[");
    for (uint32_t e = 0; e < u->g.n_edges; e++)
      ub_printf(b, "%s[%u,%u]", e ? "," : "", u->g.edges[e][0],
                u->g.edges[e][1]);
    ub_raw(b, "],\"status\":");
    ui_states s;
    pipec_error err;
    if (ui_states_read(r->w, u, 0, &s, &err) == 0)
      ui_states_json(b, u, &u->g, &s);
    else
      ub_raw(b, "null");
    ui_states_free(&s);
    while (b->len && (b->s[b->len - 1] == '\n'))
      b->s[--b->len] = '\0';
  }
  ub_raw(b, "}\n");
  ui_pipe_put(&r->srv->pipes, u);
}

void api_runs(ui_req *r) {
  int64_t pipeline = 0, before = 0, limit = UI_PAGE;
  if (ui_arg_int(r, "pipeline", 1, INT64_MAX, &pipeline) < 0 ||
      ui_arg_int(r, "before", 1, INT64_MAX, &before) < 0 ||
      ui_arg_int(r, "limit", 1, 10000, &limit) < 0)
    return;
  pipec_run_info *runs;
  uint32_t n;
  pipec_error err;
  if (pipec_runs_page(r->w, pipeline, before, (uint32_t)limit, &runs, &n,
                      NULL, &err) != 0) {
    ui_fail_err(r, &err);
    return;
  }
  json_type(r);
  ub_char(&r->body, '[');
  for (uint32_t i = 0; i < n; i++) {
    if (i)
      ub_char(&r->body, ',');
    run_list_item(&r->body, &runs[i]);
  }
  ub_raw(&r->body, "]\n");
  pipec_run_infos_free(runs, n);
}

void api_run(ui_req *r) {
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
      ui_fail(r, 404, "no run %lld", (long long)id);
    return;
  }
  pipec_node_info *v;
  uint32_t n;
  if (pipec_run_nodes(r->w, id, &v, &n, &err) != 0) {
    ui_fail_err(r, &err);
    free(ri.pipeline);
    free(ri.status);
    return;
  }
  json_type(r);
  ubuf *b = &r->body;
  ub_char(b, '{');
  run_fields(b, &ri);
  ub_raw(b, ",\"nodes\":[");
  for (uint32_t i = 0; i < n; i++) {
    const pipec_node_info *ni = &v[i];
    ub_raw(b, i ? ",{\"name\":" : "{\"name\":");
    ub_js(b, ni->name);
    ub_raw(b, ",\"component\":");
    ub_js(b, ni->component);
    ub_raw(b, ",\"status\":");
    ub_js(b, ni->status);
    ub_raw(b, ",\"cache_key\":");
    ub_js(b, ni->cache_key);
    ub_printf(b, ",\"cache_hit\":%s,\"reason\":", ni->cache_hit ? "true" : "false");
    ub_js(b, ni->reason);
    ub_raw(b, ",\"target\":");
    ub_js(b, ni->target);
    ub_raw(b, ",\"job\":");
    ub_js(b, ni->job);
    ub_printf(b, ",\"attempts\":%d,\"exit_code\":", ni->attempts);
    int_or_null(b, ni->exit_code, ni->exit_code >= 0);
    ub_raw(b, ",\"started\":");
    int_or_null(b, ni->started_ms, ni->started_ms != 0);
    ub_raw(b, ",\"finished\":");
    int_or_null(b, ni->ended_ms, ni->ended_ms != 0);
    ub_raw(b, ",\"message\":");
    ub_js(b, ni->message);
    ub_raw(b, ",\"log\":");
    ub_js(b, ni->log);
    ub_char(b, '}');
  }
  ub_raw(b, "]}\n");
  pipec_node_infos_free(v, n);
  free(ri.pipeline);
  free(ri.status);
}

void api_log(ui_req *r) {
  page_log(r); /* under /api/ it answers the log's text as it is */
}

static void snapshot_item(ubuf *b, const pipec_snapshot_info *s) {
  ub_printf(b, "{\"snapshot\":%lld,\"pipeline\":", (long long)s->id);
  ub_js(b, s->pipeline);
  ub_raw(b, ",\"file\":");
  ub_js(b, s->file);
  ub_printf(b, ",\"created\":%lld,\"mode\":", (long long)s->created_ms);
  ub_js(b, s->mode);
  ub_raw(b, ",\"overrides\":{");
  const char *sep = "";
  for (uint32_t i = 0; i < s->n_overrides; i++) {
    bool later = false;
    for (uint32_t k = i + 1; k < s->n_overrides && !later; k++)
      later = strcmp(s->overrides[k].name, s->overrides[i].name) == 0;
    if (later)
      continue;
    ub_raw(b, sep);
    ub_js(b, s->overrides[i].name);
    ub_char(b, ':');
    ub_js(b, s->overrides[i].value);
    sep = ",";
  }
  ub_raw(b, "},\"selection\":{\"nodes\":[");
  for (uint32_t i = 0; i < s->n_nodes; i++) {
    if (i)
      ub_char(b, ',');
    ub_js(b, s->nodes[i]);
  }
  ub_raw(b, "],\"from\":");
  ub_js(b, s->from);
  ub_raw(b, ",\"to\":");
  ub_js(b, s->to);
  ub_printf(b, ",\"force\":%s},\"run\":", s->force ? "true" : "false");
  int_or_null(b, s->run, s->run != 0);
  ub_char(b, '}');
}

void api_snapshots(ui_req *r) {
  int64_t limit = 0, pipeline = 0;
  if (ui_arg_int(r, "limit", 1, 100000, &limit) < 0 ||
      ui_arg_int(r, "pipeline", 1, INT64_MAX, &pipeline) < 0)
    return;
  const char *file = NULL;
  pipec_pipeline_info *all = NULL, *one = NULL;
  uint32_t n_all = 0;
  if (pipeline) {
    if (ui_find_pipeline(r, pipeline, &all, &n_all, &one) != 1) {
      pipec_pipeline_infos_free(all, n_all);
      return;
    }
    file = one->file;
  }
  pipec_snapshot_info *v = NULL;
  uint32_t n = 0;
  pipec_error err;
  /* a pipeline's file is relative to the root: resolve it there */
  char path[PATH_MAX * 2];
  if (file && file[0] != '/') {
    snprintf(path, sizeof path, "%s/%s", r->srv->root, file);
    file = path;
  }
  if (pipec_snapshots(r->w, file, (uint32_t)limit, &v, &n, &err) != 0) {
    ui_fail_err(r, &err);
  } else {
    json_type(r);
    ub_char(&r->body, '[');
    for (uint32_t i = 0; i < n; i++) {
      if (i)
        ub_char(&r->body, ',');
      snapshot_item(&r->body, &v[i]);
    }
    ub_raw(&r->body, "]\n");
  }
  pipec_snapshot_infos_free(v, n);
  pipec_pipeline_infos_free(all, n_all);
}

void api_diff(ui_req *r) {
  int64_t a = 0, bb = 0;
  if (ui_arg_int(r, "a", 1, INT64_MAX, &a) <= 0 ||
      ui_arg_int(r, "b", 1, INT64_MAX, &bb) <= 0) {
    if (r->status == 200)
      ui_fail(r, 400, "which snapshots? (?a=SNAP&b=SNAP)");
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) {
    ui_fail(r, 500, "out of memory");
    return;
  }
  pipec_error err;
  int k = pipec_snapshot_diff(r->w, a, bb, f, NULL, &err);
  fclose(f);
  if (k < 0) {
    ui_fail_err(r, &err);
  } else {
    json_type(r);
    ub_printf(&r->body, "{\"a\":%lld,\"b\":%lld,\"differences\":%d,\"text\":",
              (long long)a, (long long)bb, k);
    ub_jsn(&r->body, text ? text : "", len);
    ub_raw(&r->body, "}\n");
  }
  free(text);
}

static void num(ubuf *b, double v) {
  if (isnan(v) || isinf(v))
    ub_raw(b, "null");
  else
    ub_printf(b, "%.17g", v);
}

void api_metrics(ui_req *r) {
  ui_pipe *u = pipe_param(r);
  if (!u)
    return;
  int64_t run = 0;
  if (!u->p) {
    ui_fail(r, 409, "the pipeline does not compile: %s", u->diags);
  } else if (ui_arg_int(r, "run", 1, INT64_MAX, &run) >= 0) {
    ui_metric_table *t;
    uint32_t n;
    pipec_error err;
    if (ui_metrics_collect(r->w, u, run, &t, &n, &err) != 0) {
      ui_fail_err(r, &err);
    } else {
      json_type(r);
      ubuf *b = &r->body;
      ub_char(b, '[');
      for (uint32_t i = 0; i < n; i++) {
        ub_raw(b, i ? ",{\"title\":" : "{\"title\":");
        ub_js(b, t[i].title);
        ub_printf(b, ",\"across\":\"%s\",\"columns\":[",
                  t[i].family ? "members" : "runs");
        for (uint32_t c = 0; c < t[i].n_cols; c++) {
          if (c)
            ub_char(b, ',');
          ub_js(b, t[i].cols[c]);
        }
        ub_raw(b, "],\"rows\":[");
        for (uint32_t k = 0; k < t[i].n_rows; k++) {
          const ui_metric_row *row = &t[i].rows[k];
          ub_raw(b, k ? ",{\"label\":" : "{\"label\":");
          ub_js(b, row->label);
          ub_raw(b, ",\"node\":");
          ub_js(b, row->node);
          ub_printf(b, ",\"run\":%lld,\"values\":[", (long long)row->run);
          for (uint32_t c = 0; c < t[i].n_cols; c++) {
            if (c)
              ub_char(b, ',');
            num(b, row->values[c]);
          }
          ub_raw(b, "]}");
        }
        ub_raw(b, "]}");
      }
      ub_raw(b, "]\n");
      ui_metrics_free(t, n);
    }
  }
  ui_pipe_put(&r->srv->pipes, u);
}

void api_action(ui_req *r) {
  int64_t id = 0;
  int k = ui_arg_int(r, "id", 1, INT32_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which action? (?id=N)");
    return;
  }
  ui_action a;
  if (ui_action_get(r->srv, r->w, (int)id, &a) != 1) {
    ui_fail(r, 404, "no action %lld", (long long)id);
    return;
  }
  ubuf out = {0};
  ui_action_output(r->srv, (int)id, 16384, &out);
  json_type(r);
  ubuf *b = &r->body;
  ub_printf(b, "{\"action\":%d,\"kind\":", a.id);
  ub_js(b, a.kind);
  ub_printf(b, ",\"pid\":%d,\"done\":%s,\"exit_code\":", (int)a.pid,
            a.done ? "true" : "false");
  int_or_null(b, a.exit_code, a.done);
  ub_raw(b, ",\"run\":");
  int_or_null(b, a.run, a.run != 0);
  ub_raw(b, ",\"output\":");
  ub_jsn(b, out.s ? out.s : "", out.len);
  ub_raw(b, "}\n");
  ub_free(&out);
}

void api_drafts(ui_req *r) {
  int64_t pipeline = 0, limit = 0;
  if (ui_arg_int(r, "pipeline", 1, INT64_MAX, &pipeline) < 0 ||
      ui_arg_int(r, "limit", 1, 100000, &limit) < 0)
    return;
  pipec_pipeline_info *all = NULL, *one = NULL;
  uint32_t n_all = 0;
  char path[PATH_MAX * 2];
  const char *file = NULL;
  if (pipeline) {
    if (ui_find_pipeline(r, pipeline, &all, &n_all, &one) != 1) {
      pipec_pipeline_infos_free(all, n_all);
      return;
    }
    snprintf(path, sizeof path, one->file[0] == '/' ? "%s%s" : "%s/%s",
             one->file[0] == '/' ? "" : r->srv->root, one->file);
    file = path;
  }
  pipec_draft_info *v = NULL;
  uint32_t n = 0;
  pipec_error err;
  if (pipec_drafts(r->w, file, (uint32_t)limit, &v, &n, &err) != 0) {
    ui_fail_err(r, &err);
  } else {
    /* `pipec drafts --json` */
    static const char *const kinds[] = {"added", "changed", "removed"};
    json_type(r);
    ubuf *b = &r->body;
    ub_char(b, '[');
    for (uint32_t i = 0; i < n; i++) {
      const pipec_draft_info *d = &v[i];
      ub_printf(b, "%s{\"draft\":%lld,\"pipeline\":", i ? "," : "",
                (long long)d->id);
      ub_js(b, d->pipeline);
      ub_raw(b, ",\"file\":");
      ub_js(b, d->file);
      ub_printf(b, ",\"created\":%lld,\"previous\":", (long long)d->created_ms);
      int_or_null(b, d->previous, d->previous != 0);
      ub_raw(b, ",\"files\":[");
      for (uint32_t k = 0; k < d->n_files; k++) {
        if (k)
          ub_char(b, ',');
        ub_js(b, d->files[k]);
      }
      ub_raw(b, "],\"changes\":[");
      for (uint32_t k = 0; k < d->n_changes; k++) {
        ub_raw(b, k ? ",{\"path\":" : "{\"path\":");
        ub_js(b, d->changes[k].path);
        ub_printf(b, ",\"change\":\"%s\"}", kinds[d->changes[k].kind]);
      }
      ub_raw(b, "],\"snapshot\":");
      int_or_null(b, d->snapshot, d->snapshot != 0);
      ub_raw(b, ",\"run\":");
      int_or_null(b, d->run, d->run != 0);
      ub_char(b, '}');
    }
    ub_raw(b, "]\n");
  }
  pipec_draft_infos_free(v, n);
  pipec_pipeline_infos_free(all, n_all);
}
