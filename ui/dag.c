/*
 * dag.c — laying out and drawing a pipeline's DAG (dag.h).
 */
#define _GNU_SOURCE /* pipe2 */
#include "dag.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Box sizes, in points: text is 12px sans-serif, about 7 per letter. */
#define BOX_H 40.0
#define CHAR_W 7.2
#define PAD_W 24.0
/* How long dot may take before the layout falls back to pipec's own. */
#define DOT_TIMEOUT_MS 20000

void ui_group_label(ubuf *b, const pipec_pipeline *p, const ui_group *gr) {
  if (gr->node == PIPEC_NONE) {
    ub_raw(b, p->families[gr->family].name);
    ub_raw(b, "[*]");
  } else {
    ub_raw(b, gr->name);
  }
}

static double box_width(const pipec_pipeline *p, const ui_group *gr) {
  ubuf t = {0};
  ui_group_label(&t, p, gr);
  size_t chars = 0;
  for (size_t i = 0; i < t.len; i++)
    chars += ((unsigned char)t.s[i] & 0xc0) != 0x80;
  ub_free(&t);
  if (chars < 12)
    chars = 12; /* room for "succeeded", "123/456" */
  if (chars > 60)
    chars = 60; /* longer names are cut */
  return (double)chars * CHAR_W + PAD_W;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    abort();
  return p;
}

void ui_layout_free(ui_layout *l) {
  if (!l)
    return;
  free(l->box);
  for (uint32_t i = 0; i < l->n_edges; i++)
    free(l->edges[i].xy);
  free(l->edges);
  free(l->note);
  free(l);
}

/* ---- pipec's own layered layout ---------------------------------------------- */

static void layered(const ui_graph *g, ui_layout *l) {
  uint32_t n = g->n_groups;
  uint32_t *rank = xcalloc(n, sizeof *rank);
  uint32_t *indeg = xcalloc(n, sizeof *indeg);
  uint32_t *queue = xcalloc(n, sizeof *queue);
  for (uint32_t e = 0; e < g->n_edges; e++)
    indeg[g->edges[e][1]]++;
  uint32_t head = 0, tail = 0;
  for (uint32_t i = 0; i < n; i++)
    if (!indeg[i])
      queue[tail++] = i;
  /* edges are sorted by source: the first edge of each source */
  uint32_t *first = xcalloc(n + 1, sizeof *first);
  for (uint32_t e = g->n_edges; e-- > 0;)
    first[g->edges[e][0]] = e + 1;
  while (head < tail) {
    uint32_t v = queue[head++];
    for (uint32_t e = first[v] ? first[v] - 1 : g->n_edges;
         e < g->n_edges && g->edges[e][0] == v; e++) {
      uint32_t to = g->edges[e][1];
      if (rank[to] < rank[v] + 1)
        rank[to] = rank[v] + 1;
      if (--indeg[to] == 0)
        queue[tail++] = to;
    }
  }
  uint32_t max_rank = 0;
  for (uint32_t i = 0; i < n; i++)
    if (rank[i] > max_rank)
      max_rank = rank[i];
  double *x = xcalloc(max_rank + 1, sizeof *x);
  double widest = 0;
  for (uint32_t i = 0; i < n; i++) {
    double w = l->box[i][2];
    l->box[i][0] = x[rank[i]] + 18 + w / 2;
    l->box[i][1] = 30 + rank[i] * (BOX_H + 40);
    x[rank[i]] += w + 18;
    if (x[rank[i]] > widest)
      widest = x[rank[i]];
  }
  l->width = widest + 18;
  l->height = 30 + (max_rank + 1) * (BOX_H + 40);
  l->n_edges = g->n_edges;
  l->edges = xcalloc(g->n_edges, sizeof *l->edges);
  for (uint32_t e = 0; e < g->n_edges; e++) {
    const double *a = l->box[g->edges[e][0]], *b = l->box[g->edges[e][1]];
    l->edges[e].n = 2;
    l->edges[e].xy = xcalloc(4, sizeof(double));
    l->edges[e].xy[0] = a[0];
    l->edges[e].xy[1] = a[1] + a[3] / 2;
    l->edges[e].xy[2] = b[0];
    l->edges[e].xy[3] = b[1] - b[3] / 2;
  }
  free(first);
  free(x);
  free(rank);
  free(indeg);
  free(queue);
}

/* ---- dot -------------------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run `dot -Tplain` on the graph in file in: its output (malloc'd), or
 * NULL with why in err. */
static char *run_dot(const char *in, char *err, size_t errlen) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return NULL;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  char *argv[] = {"dot", "-Tplain", (char *)in, NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    snprintf(err, errlen, "Graphviz's dot cannot be run (%s); install the "
             "graphviz package", strerror(rc));
    return NULL;
  }
  ubuf out = {0};
  int64_t deadline = now_ms() + DOT_TIMEOUT_MS;
  bool timed_out = false;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pf = {fds[0], POLLIN, 0};
    int k = poll(&pf, 1, (int)left);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      timed_out = k == 0;
      break;
    }
    char buf[65536];
    ssize_t r = read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ub_rawn(&out, buf, (size_t)r);
  }
  close(fds[0]);
  if (timed_out)
    kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      !out.len) {
    snprintf(err, errlen, timed_out ? "dot took longer than %d s"
                                    : "dot failed (exit %d)",
             timed_out ? DOT_TIMEOUT_MS / 1000 : WEXITSTATUS(status));
    ub_free(&out);
    return NULL;
  }
  return ub_take(&out, NULL);
}

/* Read dot's plain output into l: 0, or -1 if it is not what was asked. */
static int read_plain(char *text, const ui_graph *g, ui_layout *l) {
  double scale = 1, gw = 0, gh = 0;
  uint32_t nodes = 0, edges = 0;
  l->edges = xcalloc(g->n_edges, sizeof *l->edges);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "graph ", 6) == 0) {
      if (sscanf(line + 6, "%lf %lf %lf", &scale, &gw, &gh) != 3)
        return -1;
    } else if (strncmp(line, "node ", 5) == 0) {
      unsigned id;
      double x, y, w, h;
      if (sscanf(line + 5, "g%u %lf %lf %lf %lf", &id, &x, &y, &w, &h) != 5 ||
          id >= g->n_groups)
        return -1;
      l->box[id][0] = x * 72;
      l->box[id][1] = (gh - y) * 72;
      nodes++;
    } else if (strncmp(line, "edge ", 5) == 0) {
      unsigned a, b, n;
      int used;
      if (sscanf(line + 5, "g%u g%u %u%n", &a, &b, &n, &used) != 3 ||
          n > 100000 || edges >= g->n_edges)
        return -1;
      /* edges come in the order they were written: the graph's */
      ui_path *path = &l->edges[edges++];
      path->xy = xcalloc(2 * (size_t)n, sizeof(double));
      path->n = n;
      char *s = line + 5 + used;
      for (unsigned k = 0; k < n; k++) {
        char *end;
        double x = strtod(s, &end);
        double y = strtod(end, &s);
        if (s == end)
          return -1;
        path->xy[2 * k] = x * 72;
        path->xy[2 * k + 1] = (gh - y) * 72;
      }
    }
  }
  if (nodes != g->n_groups || edges != g->n_edges)
    return -1;
  l->n_edges = edges;
  l->width = gw * 72;
  l->height = gh * 72;
  return 0;
}

static int dot_layout(const ui_graph *g, ui_layout *l, char *err,
                      size_t errlen) {
  const char *tmp = getenv("TMPDIR");
  char path[1024];
  snprintf(path, sizeof path, "%.900s/pipec-ui-dot.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    snprintf(err, errlen, "no temporary file for dot: %s", strerror(errno));
    return -1;
  }
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(path);
    snprintf(err, errlen, "%s", strerror(errno));
    return -1;
  }
  fprintf(f, "digraph G {\n  graph [rankdir=TB, nodesep=0.25, ranksep=0.45];\n"
             "  node [shape=box, fixedsize=true, label=\"\"];\n"
             "  edge [arrowsize=0.6];\n");
  for (uint32_t i = 0; i < g->n_groups; i++)
    fprintf(f, "  g%u [width=%.3f, height=%.3f];\n", i, l->box[i][2] / 72,
            l->box[i][3] / 72);
  for (uint32_t e = 0; e < g->n_edges; e++)
    fprintf(f, "  g%u -> g%u;\n", g->edges[e][0], g->edges[e][1]);
  fprintf(f, "}\n");
  bool wrote = fflush(f) == 0 && !ferror(f);
  fclose(f);
  char *out = wrote ? run_dot(path, err, errlen) : NULL;
  unlink(path);
  if (!wrote)
    snprintf(err, errlen, "could not write the graph for dot");
  if (!out)
    return -1;
  int rc = read_plain(out, g, l);
  free(out);
  if (rc != 0) {
    for (uint32_t i = 0; i < l->n_edges || (l->edges && i < g->n_edges); i++)
      free(l->edges[i].xy);
    free(l->edges);
    l->edges = NULL;
    l->n_edges = 0;
    snprintf(err, errlen, "dot's output was not understood");
  }
  return rc;
}

ui_layout *ui_dag_layout(const pipec_pipeline *p, const ui_graph *g) {
  ui_layout *l = xcalloc(1, sizeof *l);
  l->n_boxes = g->n_groups;
  l->box = xcalloc(g->n_groups, sizeof *l->box);
  for (uint32_t i = 0; i < g->n_groups; i++) {
    l->box[i][2] = box_width(p, &g->groups[i]);
    l->box[i][3] = BOX_H;
  }
  char err[512] = "";
  if (g->n_groups > UI_DOT_MAX)
    snprintf(err, sizeof err, "%u boxes: more than dot is asked to lay out "
             "(%d)", g->n_groups, UI_DOT_MAX);
  else if (g->n_groups == 0 || dot_layout(g, l, err, sizeof err) == 0)
    return l;
  l->note = strdup(err);
  layered(g, l);
  return l;
}

/* ---- drawing ------------------------------------------------------------------------ */

static void box_text(ubuf *b, const ui_graph *g, const ui_states *s,
                     uint32_t i, int *st) {
  uint32_t done = 0, total = 0;
  *st = s ? ui_group_status(g, s, i, &done, &total) : UI_ST_NONE;
  if (g->groups[i].node == PIPEC_NONE) {
    if (s && total)
      ub_printf(b, "%u/%u", done, total);
    else
      ub_raw(b, s ? "0 members yet" : "family");
  } else {
    ub_raw(b, ui_status_name((ui_status)*st));
  }
}

void ui_dag_svg(ubuf *b, const pipec_pipeline *p, const ui_graph *g,
                const ui_layout *l, const ui_states *s) {
  double w = l->width + 8, h = l->height + 8;
  ub_printf(b,
            "<svg class=\"dag\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%.0f\" height=\"%.0f\" viewBox=\"-4 -4 %.0f %.0f\" "
            "data-boxes=\"%u\">"
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" "
            "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
            "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\"/>"
            "</marker></defs>",
            w, h, w, h, g->n_groups);
  ub_raw(b, "<g class=\"edges\">");
  for (uint32_t e = 0; e < l->n_edges; e++) {
    const ui_path *pa = &l->edges[e];
    if (pa->n < 2)
      continue;
    ub_printf(b, "<path d=\"M%.1f,%.1f", pa->xy[0], pa->xy[1]);
    if (pa->n == 2)
      ub_printf(b, " L%.1f,%.1f", pa->xy[2], pa->xy[3]);
    for (uint32_t k = 1; k + 2 < pa->n; k += 3)
      ub_printf(b, " C%.1f,%.1f %.1f,%.1f %.1f,%.1f", pa->xy[2 * k],
                pa->xy[2 * k + 1], pa->xy[2 * k + 2], pa->xy[2 * k + 3],
                pa->xy[2 * k + 4], pa->xy[2 * k + 5]);
    ub_raw(b, "\" marker-end=\"url(#arrow)\"/>");
  }
  ub_raw(b, "</g>");
  for (uint32_t i = 0; i < g->n_groups; i++) {
    const ui_group *gr = &g->groups[i];
    const double *bx = l->box[i];
    bool fam = gr->node == PIPEC_NONE;
    ubuf sub = {0}, label = {0};
    int st;
    box_text(&sub, g, s, i, &st);
    ui_group_label(&label, p, gr);
    ub_printf(b, "<g class=\"n %s%s\" data-kind=\"%s\" data-name=\"",
              ui_status_class(st), fam ? " fam" : "", fam ? "family" : "node");
    ub_html(b, gr->name);
    ub_printf(b, "\" transform=\"translate(%.1f,%.1f)\" tabindex=\"0\">",
              bx[0] - bx[2] / 2, bx[1] - bx[3] / 2);
    if (fam)
      ub_printf(b, "<rect class=\"back\" x=\"4\" y=\"-4\" width=\"%.1f\" "
                   "height=\"%.1f\" rx=\"5\"/>",
                bx[2], bx[3]);
    ub_printf(b, "<rect width=\"%.1f\" height=\"%.1f\" rx=\"5\"/>", bx[2],
              bx[3]);
    ub_raw(b, "<title>");
    ub_html(b, label.s);
    ub_raw(b, "</title>");
    ub_printf(b, "<text class=\"nm\" x=\"%.1f\" y=\"17\">", bx[2] / 2);
    /* a long name is cut to what the box holds */
    size_t chars = 0, cut = label.len;
    for (size_t k = 0; k < label.len; k++)
      if (((unsigned char)label.s[k] & 0xc0) != 0x80 && ++chars > 58) {
        cut = k;
        break;
      }
    ub_htmln(b, label.s ? label.s : "", cut);
    if (cut < label.len)
      ub_raw(b, "\xe2\x80\xa6");
    ub_printf(b, "</text><text class=\"sub\" x=\"%.1f\" y=\"32\">",
              bx[2] / 2);
    ub_html(b, sub.s);
    ub_raw(b, "</text></g>");
    ub_free(&sub);
    ub_free(&label);
  }
  ub_raw(b, "</svg>");
}
