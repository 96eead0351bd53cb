/*
 * model.c — pipelines as the web view shows them (model.h): compiled and
 * kept while their files are unchanged, folded into families, coloured by
 * their runs. Everything comes through include/pipec/engine.h.
 */
#include "model.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dag.h"

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
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

static const char *const status_names[UI_ST_N] = {
    "none", "pending", "running", "succeeded",
    "cached", "failed", "skipped", "cancelled"};

ui_status ui_status_of(const char *s) {
  for (int i = 1; s && i < UI_ST_N; i++)
    if (strcmp(s, status_names[i]) == 0)
      return (ui_status)i;
  return UI_ST_NONE;
}

const char *ui_status_name(ui_status s) {
  return s < UI_ST_N ? status_names[s] : "partial";
}

const char *ui_status_class(int st) {
  static const char *const cls[UI_ST_N + 1] = {
      "st-none",   "st-pending", "st-running", "st-succeeded", "st-cached",
      "st-failed", "st-skipped", "st-cancelled", "st-partial"};
  return st >= 0 && st <= UI_ST_N ? cls[st] : "st-none";
}

/* ---- the folded DAG -------------------------------------------------------- */

static int edge_cmp(const void *a, const void *b) {
  const uint32_t *x = a, *y = b;
  if (x[0] != y[0])
    return x[0] < y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

static bool expanded(const pipec_family *f, const char *const *expand,
                     uint32_t n) {
  if (f->runtime || f->n_members > UI_EXPAND_MAX)
    return false;
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(expand[i], f->name) == 0)
      return true;
  return false;
}

typedef struct edge_list {
  uint32_t (*v)[2];
  uint32_t n, cap;
} edge_list;

static void edge_add(edge_list *e, uint32_t from, uint32_t to) {
  if (from == to || from == PIPEC_NONE || to == PIPEC_NONE)
    return;
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 64;
    e->v = realloc(e->v, (size_t)e->cap * sizeof *e->v);
    if (!e->v)
      abort();
  }
  e->v[e->n][0] = from;
  e->v[e->n][1] = to;
  e->n++;
}

/* The group a template's outputs show up in: its run-time family's. */
static uint32_t template_group(const pipec_pipeline *p, const ui_graph *g,
                               uint32_t t) {
  if (t >= p->n_templates || p->templates[t].family == PIPEC_NONE)
    return PIPEC_NONE;
  return g->family_group[p->templates[t].family];
}

void ui_graph_build(const pipec_pipeline *p, const char *const *expand,
                    uint32_t n_expand, ui_graph *g) {
  *g = (ui_graph){0};
  g->groups = xcalloc(p->n_nodes + p->n_families, sizeof *g->groups);
  g->group_of = xcalloc(p->n_nodes, sizeof *g->group_of);
  g->family_group = xcalloc(p->n_families, sizeof *g->family_group);
  for (uint32_t f = 0; f < p->n_families; f++)
    g->family_group[f] = PIPEC_NONE;
  /* boxes in node order: a family where its first member (or, run-time,
   * where it is declared: after the nodes before it) */
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *nd = &p->nodes[i];
    uint32_t f = nd->family;
    if (f != PIPEC_NONE && !expanded(&p->families[f], expand, n_expand)) {
      if (g->family_group[f] == PIPEC_NONE) {
        g->family_group[f] = g->n_groups;
        g->groups[g->n_groups++] =
            (ui_group){p->families[f].name, PIPEC_NONE, f};
      }
      g->group_of[i] = g->family_group[f];
      continue;
    }
    g->group_of[i] = g->n_groups;
    g->groups[g->n_groups++] = (ui_group){nd->name, i, f};
  }
  for (uint32_t f = 0; f < p->n_families; f++)
    if (p->families[f].runtime && g->family_group[f] == PIPEC_NONE) {
      g->family_group[f] = g->n_groups;
      g->groups[g->n_groups++] =
          (ui_group){p->families[f].name, PIPEC_NONE, f};
    }
  edge_list e = {0};
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *nd = &p->nodes[i];
    for (uint32_t k = 0; k < nd->n_inputs; k++) {
      const pipec_input *in = &nd->inputs[k];
      if (in->kind == PIPEC_IN_NODE)
        edge_add(&e, g->group_of[in->producer], g->group_of[i]);
      else if (in->kind == PIPEC_IN_GATHER)
        edge_add(&e, template_group(p, g, in->ref), g->group_of[i]);
    }
  }
  for (uint32_t t = 0; t < p->n_templates; t++) {
    uint32_t to = template_group(p, g, t);
    const pipec_node *nd = &p->templates[t];
    for (uint32_t k = 0; k < nd->n_inputs; k++) {
      const pipec_input *in = &nd->inputs[k];
      if (in->kind == PIPEC_IN_NODE)
        edge_add(&e, g->group_of[in->producer], to);
      else if (in->kind == PIPEC_IN_TEMPLATE || in->kind == PIPEC_IN_GATHER)
        edge_add(&e, template_group(p, g, in->ref), to);
    }
  }
  /* a run-time loop's producer feeds its family */
  for (uint32_t x = 0; x < p->n_fanouts; x++) {
    const pipec_fanout *fo = &p->fanouts[x];
    for (uint32_t t = fo->first_template;
         t < fo->first_template + fo->n_templates; t++)
      edge_add(&e, g->group_of[fo->producer], template_group(p, g, t));
  }
  if (e.n)
    qsort(e.v, e.n, sizeof *e.v, edge_cmp);
  uint32_t u = 0;
  for (uint32_t i = 0; i < e.n; i++)
    if (u == 0 || edge_cmp(e.v[i], e.v[u - 1]) != 0) {
      e.v[u][0] = e.v[i][0];
      e.v[u][1] = e.v[i][1];
      u++;
    }
  g->edges = e.v;
  g->n_edges = u;
}

void ui_graph_free(ui_graph *g) {
  free(g->groups);
  free(g->group_of);
  free(g->family_group);
  free(g->edges);
  *g = (ui_graph){0};
}

/* ---- the cache of compiled pipelines ------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

static uint64_t stat_mix(uint64_t h, const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0)
    return mix(h, 1);
  h = mix(h, (uint64_t)sb.st_ino);
  h = mix(h, (uint64_t)sb.st_size);
  h = mix(h, (uint64_t)sb.st_mtim.tv_sec);
  return mix(h, (uint64_t)sb.st_mtim.tv_nsec);
}

/* What says the pipeline must be compiled again: its .pipe files, and
 * the directories its source files are in (a glob may match a new file).
 * With p NULL (it did not compile), the main file alone. */
static uint64_t files_stamp(const char *path, const pipec_pipeline *p) {
  uint64_t h = stat_mix(0, path);
  if (!p)
    return h;
  for (uint32_t i = 0; i < p->n_sources; i++)
    h = stat_mix(h, p->sources[i].path);
  /* the datafiles are sorted by path: their directories come in runs */
  char prev[PATH_MAX] = "";
  for (uint32_t i = 0; i < p->n_datafiles; i++) {
    char dir[PATH_MAX];
    const char *slash = strrchr(p->datafiles[i].path, '/');
    size_t n = slash ? (size_t)(slash - p->datafiles[i].path) : 0;
    int k = snprintf(dir, sizeof dir, "%s/%.*s", p->dir, (int)n,
                     p->datafiles[i].path);
    if (k < 0 || (size_t)k >= sizeof dir || strcmp(dir, prev) == 0)
      continue;
    memcpy(prev, dir, (size_t)k + 1);
    h = stat_mix(h, dir);
  }
  return h;
}

void ui_pipes_init(ui_pipes *ps) {
  *ps = (ui_pipes){0};
  pthread_mutex_init(&ps->lock, NULL);
}

static void pipe_free(ui_pipe *u) {
  if (!u)
    return;
  if (u->st_cache) {
    ui_states_free(u->st_cache);
    free(u->st_cache);
  }
  pthread_mutex_destroy(&u->st_lock);
  free(u->name);
  free(u->file);
  free(u->path);
  free(u->diags);
  ui_layout_free(u->layout);
  ui_graph_free(&u->g);
  pipec_pipeline_free(u->p);
  free(u);
}

void ui_pipes_free(ui_pipes *ps) {
  for (uint32_t i = 0; i < ps->n; i++)
    pipe_free(ps->v[i]);
  free(ps->v);
  pthread_mutex_destroy(&ps->lock);
}

static ui_pipe *pipe_compile(const char *root, const pipec_pipeline_info *info) {
  ui_pipe *u = xcalloc(1, sizeof *u);
  pthread_mutex_init(&u->st_lock, NULL);
  u->id = info->id;
  u->name = xstrdup(info->name);
  u->file = xstrdup(info->file);
  if (info->file[0] == '/') {
    u->path = xstrdup(info->file);
  } else {
    size_t n = strlen(root) + strlen(info->file) + 2;
    u->path = xcalloc(n, 1);
    snprintf(u->path, n, "%s/%s", root, info->file);
  }
  pipec_diags d;
  pipec_diags_init(&d);
  u->p = pipec_load(u->path, NULL, &d);
  if (!u->p) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
      pipec_diags_print(&d, f, false);
      fclose(f);
    }
    u->diags = text ? text : xstrdup("it does not compile");
  } else if (strcmp(u->p->name, info->name) != 0) {
    /* the file now holds another pipeline */
    size_t n = strlen(info->name) + strlen(u->p->name) + 64;
    u->diags = xcalloc(n, 1);
    snprintf(u->diags, n, "the file now holds pipeline '%s', not '%s'",
             u->p->name, info->name);
  }
  pipec_diags_free(&d);
  u->stamp = files_stamp(u->path, u->p);
  if (u->p) {
    ui_graph_build(u->p, NULL, 0, &u->g);
    u->layout = ui_dag_layout(u->p, &u->g);
  }
  return u;
}

ui_pipe *ui_pipe_get(ui_pipes *ps, const char *root,
                     const pipec_pipeline_info *info) {
  pthread_mutex_lock(&ps->lock);
  uint32_t i = 0;
  while (i < ps->n && ps->v[i]->id != info->id)
    i++;
  ui_pipe *u = i < ps->n ? ps->v[i] : NULL;
  if (u && files_stamp(u->path, u->p) != u->stamp) {
    /* stale: drop it from the cache (requests holding it keep it) */
    ps->v[i] = ps->v[--ps->n];
    if (--u->refs == 0)
      pipe_free(u);
    u = NULL;
  }
  if (!u) {
    u = pipe_compile(root, info);
    u->refs = 1; /* the cache's */
    if (ps->n == ps->cap) {
      ps->cap = ps->cap ? ps->cap * 2 : 8;
      ps->v = realloc(ps->v, ps->cap * sizeof *ps->v);
      if (!ps->v)
        abort();
    }
    ps->v[ps->n++] = u;
  }
  u->refs++;
  pthread_mutex_unlock(&ps->lock);
  return u;
}

void ui_pipe_put(ui_pipes *ps, ui_pipe *u) {
  if (!u)
    return;
  pthread_mutex_lock(&ps->lock);
  bool last = --u->refs == 0;
  pthread_mutex_unlock(&ps->lock);
  if (last)
    pipe_free(u);
}

/* ---- statuses ---------------------------------------------------------------- */

typedef struct state_pass {
  const pipec_pipeline *p;
  ui_states *s;
  bool first;                  /* the newest run: counts run-time members */
} state_pass;

static void on_status(void *ctx, const char *node, const char *status) {
  state_pass *sp = ctx;
  const pipec_pipeline *p = sp->p;
  ui_states *s = sp->s;
  if (sp->first)
    s->run_nodes++;
  uint32_t i = pipec_pipeline_node(p, node);
  if (i != PIPEC_NONE) {
    if (s->node[i] == UI_ST_NONE)
      s->node[i] = (uint8_t)ui_status_of(status);
    return;
  }
  /* a member of a run-time family: NAME[KEY] */
  const char *br = strchr(node, '[');
  if (!sp->first || !br || br == node)
    return;
  char name[256];
  size_t n = (size_t)(br - node);
  if (n >= sizeof name)
    return;
  memcpy(name, node, n);
  name[n] = '\0';
  uint32_t f = pipec_pipeline_family(p, name);
  if (f == PIPEC_NONE || !p->families[f].runtime)
    return;
  s->family[f][ui_status_of(status)]++;
  s->family_total[f]++;
}

static void states_copy(const ui_pipe *u, const ui_states *from,
                        ui_states *to) {
  const pipec_pipeline *p = u->p;
  *to = *from;
  to->node = xcalloc(p->n_nodes, 1);
  to->family = xcalloc(p->n_families, sizeof *to->family);
  to->family_total = xcalloc(p->n_families, sizeof *to->family_total);
  memcpy(to->node, from->node, p->n_nodes);
  memcpy(to->family, from->family, p->n_families * sizeof *to->family);
  memcpy(to->family_total, from->family_total,
         p->n_families * sizeof *to->family_total);
}

int ui_states_read(pipec_ws *w, ui_pipe *u, int64_t run, ui_states *s,
                   pipec_error *err) {
  const pipec_pipeline *p = u->p;
  *s = (ui_states){0};
  s->node = xcalloc(p->n_nodes, 1);
  s->family = xcalloc(p->n_families, sizeof *s->family);
  s->family_total = xcalloc(p->n_families, sizeof *s->family_total);
  pipec_run_info *runs = NULL;
  uint32_t n = 0;
  int rc;
  if (run) {
    runs = xcalloc(1, sizeof *runs);
    rc = pipec_run_get(w, run, runs, err);
    if (rc < 0) {
      free(runs);
      return rc;
    }
    n = (uint32_t)rc;
  } else {
    rc = pipec_runs_page(w, u->id, 0, UI_STATE_RUNS, &runs, &n, NULL, err);
    if (rc < 0)
      return rc;
  }
  /* a finished run's statuses were read before: give them again */
  int64_t key = 0;
  if (n && strcmp(runs[0].status, "running") != 0)
    key = run ? run : -runs[0].id;
  if (key) {
    pthread_mutex_lock(&u->st_lock);
    bool hit = u->st_cache && u->st_key == key;
    if (hit) {
      ui_states_free(s);
      states_copy(u, u->st_cache, s);
    }
    pthread_mutex_unlock(&u->st_lock);
    if (hit) {
      pipec_run_infos_free(runs, n);
      return 0;
    }
  }
  uint32_t covered = 0;
  for (uint32_t r = 0; r < n; r++) {
    if (r == 0) {
      s->run = runs[0].id;
      snprintf(s->run_status, sizeof s->run_status, "%s", runs[0].status);
    }
    state_pass sp = {p, s, r == 0};
    rc = pipec_run_statuses(w, runs[r].id, on_status, &sp, err);
    if (rc < 0)
      break;
    covered = 0;
    for (uint32_t i = 0; i < p->n_nodes; i++)
      covered += s->node[i] != UI_ST_NONE;
    if (covered == p->n_nodes)
      break;
  }
  pipec_run_infos_free(runs, n);
  if (rc < 0)
    return rc;
  for (uint32_t f = 0; f < p->n_families; f++) {
    const pipec_family *fam = &p->families[f];
    if (fam->runtime)
      continue;
    s->family_total[f] = fam->n_members;
    for (uint32_t k = 0; k < fam->n_members; k++)
      s->family[f][s->node[fam->members[k]]]++;
  }
  if (key) {
    ui_states *keep = xcalloc(1, sizeof *keep);
    states_copy(u, s, keep);
    pthread_mutex_lock(&u->st_lock);
    if (u->st_cache) {
      ui_states_free(u->st_cache);
      free(u->st_cache);
    }
    u->st_cache = keep;
    u->st_key = key;
    pthread_mutex_unlock(&u->st_lock);
  }
  return 0;
}

void ui_states_free(ui_states *s) {
  free(s->node);
  free(s->family);
  free(s->family_total);
  *s = (ui_states){0};
}

int ui_group_status(const ui_graph *g, const ui_states *s, uint32_t group,
                    uint32_t *done, uint32_t *total) {
  const ui_group *gr = &g->groups[group];
  if (gr->node != PIPEC_NONE) {
    int st = s->node[gr->node];
    if (done)
      *done = st == UI_ST_SUCCEEDED || st == UI_ST_CACHED;
    if (total)
      *total = 1;
    return st;
  }
  const uint32_t *c = s->family[gr->family];
  uint32_t t = s->family_total[gr->family];
  uint32_t d = c[UI_ST_SUCCEEDED] + c[UI_ST_CACHED];
  if (done)
    *done = d;
  if (total)
    *total = t;
  if (c[UI_ST_FAILED])
    return UI_ST_FAILED;
  if (c[UI_ST_RUNNING] || c[UI_ST_PENDING])
    return UI_ST_RUNNING;
  if (t && d == t)
    return c[UI_ST_SUCCEEDED] ? UI_ST_SUCCEEDED : UI_ST_CACHED;
  if (c[UI_ST_CANCELLED] && !d)
    return UI_ST_CANCELLED;
  if (c[UI_ST_SKIPPED] && !d)
    return UI_ST_SKIPPED;
  return d ? UI_ST_N : UI_ST_NONE;
}
