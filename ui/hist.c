/*
 * hist.c — snapshots (with the roll-back button) and the diff of any two,
 * as `pipec diff` gives it.
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void page_snapshots(ui_req *r) {
  int64_t pipeline = 0, page = 0;
  if (ui_arg_int(r, "pipeline", 1, INT64_MAX, &pipeline) < 0 ||
      ui_arg_int(r, "page", 0, 100000, &page) < 0)
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
    if (one->file[0] == '/')
      snprintf(path, sizeof path, "%s", one->file);
    else
      snprintf(path, sizeof path, "%s/%s", r->srv->root, one->file);
    file = path;
  }
  uint32_t from = (uint32_t)page * UI_PAGE;
  pipec_snapshot_info *v = NULL;
  uint32_t n = 0;
  pipec_error err;
  if (pipec_snapshots(r->w, file, from + UI_PAGE + 1, &v, &n, &err) != 0) {
    ui_fail_err(r, &err);
    pipec_pipeline_infos_free(all, n_all);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "snapshots", "snapshots");
  ub_raw(b, "<h1>Snapshots");
  if (one) {
    ub_raw(b, " <small>of ");
    ub_html(b, one->name);
    ub_raw(b, "</small>");
  }
  ub_raw(b, "</h1><p>Every run records one: its .pipe and code files, its "
            "data files' hashes, its -p values. Pick two and compare them, or "
            "roll the files back to one (the files as they are now are "
            "recorded first, so a rollback can be undone).</p>");
  ub_raw(b, "<div id=\"result\" hidden></div>");
  ub_raw(b, "<form method=\"get\" action=\"/diff\"><table class=\"list\" "
            "id=\"snapshots\"><thead><tr><th>A</th><th>B</th><th>snapshot</th>"
            "<th>pipeline</th><th>created</th><th>mode</th><th>args</th>"
            "<th>run</th><th></th></tr></thead><tbody>");
  for (uint32_t i = from; i < n && i < from + UI_PAGE; i++) {
    const pipec_snapshot_info *s = &v[i];
    ub_printf(b, "<tr id=\"s%lld\" data-snapshot=\"%lld\"><td><input "
                 "type=\"radio\" name=\"a\" value=\"%lld\"%s></td><td><input "
                 "type=\"radio\" name=\"b\" value=\"%lld\"%s></td>"
                 "<td class=\"num\">%lld</td><td>",
              (long long)s->id, (long long)s->id, (long long)s->id,
              i == from + 1 ? " checked" : "", (long long)s->id,
              i == from ? " checked" : "", (long long)s->id);
    ub_html(b, s->pipeline);
    ub_raw(b, " <code>");
    ub_html(b, s->file);
    ub_raw(b, "</code></td><td>");
    ub_time(b, s->created_ms);
    ub_raw(b, "</td><td>");
    ub_html(b, s->mode);
    if (s->label) {
      ub_raw(b, " <span class=\"label\">");
      ub_html(b, s->label);
      ub_raw(b, "</span>");
    }
    ub_raw(b, "</td><td><code>");
    for (uint32_t k = 0; k < s->n_overrides; k++) {
      ub_raw(b, k ? " -p " : "-p ");
      ub_html(b, s->overrides[k].name);
      ub_char(b, '=');
      ub_html(b, s->overrides[k].value);
    }
    for (uint32_t k = 0; k < s->n_nodes && k < 3; k++) {
      ub_raw(b, " --node ");
      ub_html(b, s->nodes[k]);
    }
    if (s->n_nodes > 3)
      ub_printf(b, " (%u nodes)", s->n_nodes);
    if (s->from) {
      ub_raw(b, " --from ");
      ub_html(b, s->from);
    }
    if (s->to) {
      ub_raw(b, " --to ");
      ub_html(b, s->to);
    }
    ub_raw(b, s->force ? " --force" : "");
    ub_raw(b, "</code></td><td>");
    if (s->run)
      ub_printf(b, "<a href=\"/run?id=%lld\">%lld</a>", (long long)s->run,
                (long long)s->run);
    ub_raw(b, "</td><td>");
    if (!r->srv->o.read_only)
      ub_printf(b, "<button type=\"button\" class=\"act\" data-act=\"rollback\" "
                   "data-snapshot=\"%lld\" data-confirm=\"Roll the files back "
                   "to snapshot %lld?\">Roll back</button>",
                (long long)s->id, (long long)s->id);
    ub_raw(b, "</td></tr>");
  }
  ub_raw(b, "</tbody></table><p><button type=\"submit\">Compare A → B</button>"
            "</p></form>");
  if (n > from + UI_PAGE || page > 0) {
    ub_raw(b, "<p class=\"pager\">");
    if (page > 0) {
      ub_raw(b, "<a href=\"/snapshots?");
      if (pipeline)
        ub_printf(b, "pipeline=%lld&amp;", (long long)pipeline);
      ub_printf(b, "page=%lld\">newer</a> ", (long long)page - 1);
    }
    if (n > from + UI_PAGE) {
      ub_raw(b, "<a href=\"/snapshots?");
      if (pipeline)
        ub_printf(b, "pipeline=%lld&amp;", (long long)pipeline);
      ub_printf(b, "page=%lld\">older</a>", (long long)page + 1);
    }
    ub_raw(b, "</p>");
  }
  pipec_snapshot_infos_free(v, n);
  pipec_pipeline_infos_free(all, n_all);
  ui_page_end(r);
}

void page_diff(ui_req *r) {
  int64_t a = 0, bb = 0;
  int ka = ui_arg_int(r, "a", 1, INT64_MAX, &a);
  if (ka < 0)
    return;
  int kb = ui_arg_int(r, "b", 1, INT64_MAX, &bb);
  if (kb < 0)
    return;
  if (!ka || !kb) {
    ui_fail(r, 400, "which two snapshots? (?a=SNAP&b=SNAP)");
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) {
    ui_fail(r, 500, "out of memory");
    return;
  }
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_error err;
  int k = pipec_snapshot_diff(r->w, a, bb, f, &d, &err);
  fclose(f);
  pipec_diags_free(&d);
  if (k < 0) {
    free(text);
    ui_fail_err(r, &err);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "diff", "snapshots");
  ub_printf(b, "<h1>Snapshot %lld → %lld <small>%d difference%s</small></h1>"
               "<pre class=\"diff\">",
            (long long)a, (long long)bb, k, k == 1 ? "" : "s");
  for (char *line = text, *next; line && *line; line = next) {
    char *nl = strchr(line, '\n');
    next = nl ? nl + 1 : NULL;
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    const char *cls = strncmp(line, "+++", 3) == 0 || strncmp(line, "---", 3) == 0
                          ? "fh"
                      : line[0] == '+' ? "add"
                      : line[0] == '-' ? "del"
                      : strncmp(line, "@@", 2) == 0 ? "hunk"
                                                    : NULL;
    if (cls)
      ub_printf(b, "<span class=\"%s\">", cls);
    ub_htmln(b, line, n);
    ub_raw(b, cls ? "</span>\n" : "\n");
  }
  ub_raw(b, "</pre>");
  free(text);
  ui_page_end(r);
}

/* ---- drafts ------------------------------------------------------------------------ */

static const char *change_word(pipec_change_kind k) {
  return k == PIPEC_CHANGE_ADDED ? "added"
         : k == PIPEC_CHANGE_REMOVED ? "removed" : "changed";
}

/* The main file of pipeline ?pipeline=ID as pipec_drafts and
 * pipec_snapshots take it (absolute), in buf; NULL for every pipeline.
 * *fail set after answering a bad id. */
static const char *pipeline_file(ui_req *r, char *buf, size_t len,
                                 int64_t *id, bool *failed) {
  *failed = false;
  *id = 0;
  if (ui_arg_int(r, "pipeline", 1, INT64_MAX, id) < 0) {
    *failed = true;
    return NULL;
  }
  if (!*id)
    return NULL;
  pipec_pipeline_info *all, *one;
  uint32_t n;
  const char *file = NULL;
  if (ui_find_pipeline(r, *id, &all, &n, &one) == 1) {
    if (one->file[0] == '/')
      snprintf(buf, len, "%s", one->file);
    else
      snprintf(buf, len, "%s/%s", r->srv->root, one->file);
    file = buf;
  } else {
    *failed = true;
  }
  pipec_pipeline_infos_free(all, n);
  return file;
}

void page_drafts(ui_req *r) {
  char buf[PATH_MAX * 2];
  int64_t pipeline;
  bool failed;
  const char *file = pipeline_file(r, buf, sizeof buf, &pipeline, &failed);
  if (failed)
    return;
  pipec_draft_info *v = NULL;
  uint32_t n = 0;
  pipec_error err;
  if (pipec_drafts(r->w, file, UI_PAGE, &v, &n, &err) != 0) {
    ui_fail_err(r, &err);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "drafts", "drafts");
  ub_raw(b, "<h1>Drafts</h1><p>Every revision of a pipeline's .pipe files "
            "that pipec saw (each run records one when they changed; so do "
            "rollbacks, of the files they replace). Pick two to compare "
            "their snapshots (params, nodes, code and data files, as "
            "<code>pipec diff</code> says), or open one for what it "
            "changed.</p>");
  ub_raw(b, "<form method=\"get\" action=\"/diff\"><table class=\"list\" "
            "id=\"drafts\"><thead><tr><th>A</th><th>B</th><th>draft</th>"
            "<th>pipeline</th><th>created</th><th>changed</th>"
            "<th>snapshot</th><th>run</th></tr></thead><tbody>");
  for (uint32_t i = 0; i < n; i++) {
    const pipec_draft_info *d = &v[i];
    ub_printf(b, "<tr data-draft=\"%lld\"><td>", (long long)d->id);
    if (d->snapshot)
      ub_printf(b, "<input type=\"radio\" name=\"a\" value=\"%lld\"%s>",
                (long long)d->snapshot, i == 1 ? " checked" : "");
    ub_raw(b, "</td><td>");
    if (d->snapshot)
      ub_printf(b, "<input type=\"radio\" name=\"b\" value=\"%lld\"%s>",
                (long long)d->snapshot, i == 0 ? " checked" : "");
    ub_printf(b, "</td><td class=\"num\"><a href=\"/draft?id=%lld\">%lld</a>"
                 "</td><td>",
              (long long)d->id, (long long)d->id);
    ub_html(b, d->pipeline);
    ub_raw(b, " <code>");
    ub_html(b, d->file);
    ub_raw(b, "</code></td><td>");
    ub_time(b, d->created_ms);
    ub_raw(b, "</td><td>");
    for (uint32_t k = 0; k < d->n_changes && k < 5; k++) {
      if (k)
        ub_raw(b, ", ");
      ub_raw(b, "<code>");
      ub_html(b, d->changes[k].path);
      ub_raw(b, "</code> ");
      ub_raw(b, change_word(d->changes[k].kind));
    }
    if (d->n_changes > 5)
      ub_printf(b, " (%u files)", d->n_changes);
    ub_raw(b, "</td><td class=\"num\">");
    if (d->snapshot)
      ub_printf(b, "%lld", (long long)d->snapshot);
    ub_raw(b, "</td><td>");
    if (d->run)
      ub_printf(b, "<a href=\"/run?id=%lld\">%lld</a>", (long long)d->run,
                (long long)d->run);
    ub_raw(b, "</td></tr>");
  }
  ub_raw(b, "</tbody></table><p><button type=\"submit\">Compare A → B</button>"
            "</p></form>");
  if (n == 0)
    ub_raw(b, "<p>No drafts yet.</p>");
  pipec_draft_infos_free(v, n);
  ui_page_end(r);
}

void page_draft(ui_req *r) {
  int64_t id = 0;
  int k = ui_arg_int(r, "id", 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which draft? (?id=DRAFT)");
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
  int n = pipec_draft_diff(r->w, id, f, &err);
  fclose(f);
  if (n < 0) {
    free(text);
    ui_fail_err(r, &err);
    return;
  }
  ubuf *b = &r->body;
  ui_page_begin(r, "draft", "drafts");
  ub_printf(b, "<h1>Draft %lld <small>%d file%s changed</small></h1>"
               "<pre class=\"diff\">",
            (long long)id, n, n == 1 ? "" : "s");
  ub_html(b, text);
  ub_raw(b, "</pre>");
  free(text);
  ui_page_end(r);
}
