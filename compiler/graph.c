/*
 * graph.c — text, Graphviz and JSON views of a compiled pipeline.
 *
 * A family (the members of one `node NAME[v] = ...` in a loop) is drawn
 * as one box with its count and listed once in text, at its first
 * member, so a 10^5-member family stays readable; JSON keeps every
 * member as a node and lists the families beside them. A run-time
 * family is one dashed box, "expands after PRODUCER".
 */
#include "pipec/graph.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

int pipec_graph_format_parse(const char *s, pipec_graph_format *out) {
  static const struct { const char *name; pipec_graph_format f; } fmts[] = {
      {"text", PIPEC_GRAPH_TEXT}, {"dot", PIPEC_GRAPH_DOT},
      {"json", PIPEC_GRAPH_JSON}};
  for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
    if (strcmp(s, fmts[i].name) == 0) {
      *out = fmts[i].f;
      return 0;
    }
  return -1;
}

static void print_double(double v, FILE *out) {
  char buf[32];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  /* keep a float looking like a float */
  fputs(buf, out);
  if (!strpbrk(buf, ".eEni"))
    fputs(".0", out);
}

static void print_quoted(const char *s, FILE *out) {
  fputc('"', out);
  for (; *s; s++) {
    switch (*s) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    default: fputc(*s, out);
    }
  }
  fputc('"', out);
}

void pipec_value_print(const pipec_value *v, FILE *out) {
  switch (v->type) {
  case PIPEC_T_INT: fprintf(out, "%" PRId64, v->u.i); break;
  case PIPEC_T_FLOAT: print_double(v->u.f, out); break;
  case PIPEC_T_BOOL: fputs(v->u.b ? "true" : "false", out); break;
  case PIPEC_T_STRING:
  case PIPEC_T_PATH: print_quoted(v->u.s, out); break;
  case PIPEC_T_LIST:
    fputc('[', out);
    for (uint32_t i = 0; i < v->u.list.n; i++) {
      if (i)
        fputs(", ", out);
      pipec_value_print(&v->u.list.items[i], out);
    }
    fputc(']', out);
    break;
  }
}

void pipec_value_json(pipec_json *j, const pipec_value *v) {
  switch (v->type) {
  case PIPEC_T_INT: pipec_json_int(j, v->u.i); break;
  case PIPEC_T_FLOAT: pipec_json_num(j, v->u.f); break;
  case PIPEC_T_BOOL: pipec_json_bool(j, v->u.b); break;
  case PIPEC_T_STRING:
  case PIPEC_T_PATH: pipec_json_str(j, v->u.s); break;
  case PIPEC_T_LIST:
    pipec_json_arr(j);
    for (uint32_t i = 0; i < v->u.list.n; i++)
      pipec_value_json(j, &v->u.list.items[i]);
    pipec_json_end(j);
    break;
  }
}

/* ---- shared ------------------------------------------------------------- */

static const char *fanout_kind_name(pipec_fanout_kind k) {
  switch (k) {
  case PIPEC_FANOUT_DIR: return "dir";
  case PIPEC_FANOUT_JSON: return "json";
  case PIPEC_FANOUT_LINES: return "lines";
  }
  return "dir";
}

static const char *input_kind_name(pipec_input_kind k) {
  switch (k) {
  case PIPEC_IN_NODE: return "node";
  case PIPEC_IN_SOURCE: return "source";
  case PIPEC_IN_ITEM: return "item";
  case PIPEC_IN_TEMPLATE: return "template";
  case PIPEC_IN_GATHER: return "gather";
  }
  return "node";
}

/* The run-time loop whose templates include template t, or PIPEC_NONE. */
static uint32_t fanout_of(const pipec_pipeline *p, uint32_t t) {
  for (uint32_t f = 0; f < p->n_fanouts; f++)
    if (t >= p->fanouts[f].first_template &&
        t < p->fanouts[f].first_template + p->fanouts[f].n_templates)
      return f;
  return PIPEC_NONE;
}

/* "split.chunks" or "lines of split.out": a run-time loop's SOURCE. */
static void print_fanout_source(const pipec_pipeline *p,
                                const pipec_fanout *fo, FILE *out) {
  const char *prod = fo->producer < p->n_nodes ? p->nodes[fo->producer].name
                                               : "?";
  if (fo->kind == PIPEC_FANOUT_LINES)
    fprintf(out, "lines(%s.%s)", prod, fo->port ? fo->port : "?");
  else
    fprintf(out, "%s.%s", prod, fo->port ? fo->port : "?");
}

/* ---- text ---------------------------------------------------------------- */

/* One run of a port's inputs that read the same port of members of one
 * family, consecutively: printed as one line. */
static uint32_t input_run(const pipec_pipeline *p, const pipec_node *n,
                          uint32_t k) {
  const pipec_input *in = &n->inputs[k];
  if (in->kind != PIPEC_IN_NODE || p->nodes[in->producer].family == PIPEC_NONE)
    return 1;
  uint32_t f = p->nodes[in->producer].family, r = 1;
  while (k + r < n->n_inputs) {
    const pipec_input *nx = &n->inputs[k + r];
    if (nx->port != in->port || nx->kind != PIPEC_IN_NODE ||
        p->nodes[nx->producer].family != f ||
        strcmp(nx->producer_port, in->producer_port) != 0)
      break;
    r++;
  }
  return r;
}

static void text_inputs(const pipec_pipeline *p, const pipec_node *n,
                        const pipec_node *pool, FILE *out) {
  for (uint32_t k = 0; k < n->n_inputs;) {
    const pipec_input *in = &n->inputs[k];
    uint32_t r = 1;
    fprintf(out, "  <- %s = ", in->port);
    switch (in->kind) {
    case PIPEC_IN_NODE:
      r = input_run(p, n, k);
      if (r == 1) {
        fprintf(out, "%s.%s", p->nodes[in->producer].name,
                in->producer_port);
      } else {
        const pipec_family *f = &p->families[p->nodes[in->producer].family];
        if (r == f->n_members)
          fprintf(out, "%s[*].%s", f->name, in->producer_port);
        else
          fprintf(out, "%s.%s ... %s.%s", p->nodes[in->producer].name,
                  in->producer_port, p->nodes[n->inputs[k + r - 1].producer].name,
                  in->producer_port);
        fprintf(out, " (%u)", r);
      }
      break;
    case PIPEC_IN_SOURCE: fprintf(out, "file %s", in->source); break;
    case PIPEC_IN_ITEM: fprintf(out, "(the loop's item)"); break;
    case PIPEC_IN_TEMPLATE:
      fprintf(out, "%s.%s", pool[in->ref].name, in->producer_port);
      break;
    case PIPEC_IN_GATHER:
      fprintf(out, "%s.%s (expands at run time)", p->templates[in->ref].name,
              in->producer_port);
      break;
    }
    const pipec_port_decl *vd = NULL;
    for (uint32_t q = 0; q < n->n_var_inputs; q++)
      if (strcmp(n->var_inputs[q].name, in->port) == 0)
        vd = &n->var_inputs[q];
    const pipec_component *c = &p->components[n->component];
    bool list = vd ? vd->list : false;
    for (uint32_t q = 0; !vd && q < c->n_inputs; q++)
      if (strcmp(c->inputs[q].name, in->port) == 0)
        list = c->inputs[q].list;
    fprintf(out, "  (%s)\n", pipec_port_type_text(in->type, list));
    k += r;
  }
  /* declared list ports with nothing wired: an empty list */
  const pipec_component *c = &p->components[n->component];
  for (uint32_t q = 0; q < c->n_inputs + n->n_var_inputs; q++) {
    const pipec_port_decl *d = q < c->n_inputs ? &c->inputs[q]
                                               : &n->var_inputs[q - c->n_inputs];
    bool any = false;
    for (uint32_t k = 0; k < n->n_inputs && !any; k++)
      any = strcmp(n->inputs[k].port, d->name) == 0;
    if (d->list && !any)
      fprintf(out, "  <- %s = []  (%s)\n", d->name,
              pipec_port_type_text(d->type, true));
  }
}

static void text_node(const pipec_pipeline *p, const pipec_node *n,
                      const pipec_node *pool, FILE *out) {
  const pipec_component *c = &p->components[n->component];
  text_inputs(p, n, pool, out);
  for (uint32_t k = 0; k < n->n_params; k++) {
    fprintf(out, "     %s = ", n->params[k].name);
    const pipec_deferred *d = NULL;
    for (uint32_t q = 0; q < n->n_deferred && !d; q++)
      if (n->deferred[q].param == k)
        d = &n->deferred[q];
    if (d && d->kind == PIPEC_DEFER_ITEM)
      fprintf(out, "\"%s\" (per item)", d->text);
    else if (d)
      fprintf(out, "keys(%s) (at run time)", p->templates[d->ref].name);
    else
      pipec_value_print(&n->params[k].value, out);
    fputc('\n', out);
  }
  for (uint32_t k = 0; k < c->n_outputs; k++) {
    fprintf(out, "  -> %s  (%s", c->outputs[k].name,
            pipec_port_type_name(c->outputs[k].type));
    if (c->outputs[k].filename)
      fprintf(out, " \"%s\"", c->outputs[k].filename);
    fputs(")\n", out);
  }
}

static void write_text(const pipec_pipeline *p, FILE *out) {
  fprintf(out, "pipeline %s (%s): %u node%s", p->name, p->file, p->n_nodes,
          p->n_nodes == 1 ? "" : "s");
  if (p->n_families)
    fprintf(out, ", %u famil%s", p->n_families,
            p->n_families == 1 ? "y" : "ies");
  fputc('\n', out);
  for (uint32_t i = 0; i < p->n_params; i++) {
    const pipec_value *v = &p->params[i].value;
    fprintf(out, "  param %s : %s = ", p->params[i].name,
            pipec_type_text(v->type, v->u.list.elem));
    pipec_value_print(v, out);
    fputc('\n', out);
  }
  /* a family is listed once, at its first member, as its first member */
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    const pipec_component *c = &p->components[n->component];
    if (n->family != PIPEC_NONE) {
      const pipec_family *f = &p->families[n->family];
      if (f->members[0] != i)
        continue;
      fprintf(out, "\n%s[*] = %s", f->name, c->name);
      if (n->target != 0 || p->n_targets > 1)
        fprintf(out, "  on %s", p->targets[n->target].name);
      fprintf(out, "  (%u member%s over ", f->n_members,
              f->n_members == 1 ? "" : "s");
      for (uint32_t v = 0; v < f->n_vars; v++)
        fprintf(out, "%s%s", v ? ", " : "", f->vars[v]);
      fputs(":", out);
      for (uint32_t m = 0; m < f->n_members && m < 8; m++)
        fprintf(out, " %s", f->keys[m]);
      fprintf(out, "%s)\n  first member %s:\n", f->n_members > 8 ? " ..." : "",
              n->name);
      text_node(p, n, p->nodes, out);
      continue;
    }
    fprintf(out, "\n%s = %s", n->name, c->name);
    if (n->target != 0 || p->n_targets > 1)
      fprintf(out, "  on %s", p->targets[n->target].name);
    fputc('\n', out);
    text_node(p, n, p->nodes, out);
  }
  /* empty families and run-time loops */
  for (uint32_t f = 0; f < p->n_families; f++) {
    const pipec_family *fam = &p->families[f];
    if (fam->runtime || fam->n_members)
      continue;
    fprintf(out, "\n%s[*] = %s  (no members: its loop has no items)\n",
            fam->name, fam->component != PIPEC_NONE
                           ? p->components[fam->component].name
                           : "?");
  }
  for (uint32_t f = 0; f < p->n_fanouts; f++) {
    const pipec_fanout *fo = &p->fanouts[f];
    for (uint32_t t = fo->first_template;
         t < fo->first_template + fo->n_templates; t++) {
      const pipec_node *n = &p->templates[t];
      fprintf(out, "\n%s = %s  (expands after %s: one per %s of ", n->name,
              p->components[n->component].name,
              fo->producer < p->n_nodes ? p->nodes[fo->producer].name : "?",
              fo->kind == PIPEC_FANOUT_DIR    ? "entry"
              : fo->kind == PIPEC_FANOUT_JSON ? "item"
                                              : "line");
      print_fanout_source(p, fo, out);
      fprintf(out, ", as %s)\n", fo->var);
      text_node(p, n, p->templates, out);
    }
  }
  if (p->n_publishes)
    fputc('\n', out);
  for (uint32_t i = 0; i < p->n_publishes;) {
    const pipec_publish *pb = &p->publishes[i];
    const pipec_node *n = pb->fanout != PIPEC_NONE ? &p->templates[pb->node]
                                                   : &p->nodes[pb->node];
    /* a family's publishes (one statement): the first, and how many */
    uint32_t r = 1;
    while (pb->fanout == PIPEC_NONE && n->family != PIPEC_NONE &&
           i + r < p->n_publishes &&
           p->publishes[i + r].fanout == PIPEC_NONE &&
           p->nodes[p->publishes[i + r].node].family == n->family &&
           p->publishes[i + r].loc.line == pb->loc.line &&
           p->publishes[i + r].loc.col == pb->loc.col)
      r++;
    fprintf(out, "publish %s.%s -> %s", n->name, pb->port, pb->path);
    if (r > 1)
      fprintf(out, " ... (%u, one per member)", r);
    else if (pb->fanout != PIPEC_NONE)
      fputs(" (per item)", out);
    fputc('\n', out);
    i += r;
  }
}

/* ---- dot ----------------------------------------------------------------- */

static void dot_escape(const char *s, FILE *out) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    if (*s == '\n')
      fputs("\\n", out);
    else
      fputc(*s, out);
  }
}

/* A box of the drawing: a node, a family (all its members; or its
 * templates, for a run-time one) or a source file. */
typedef enum { BOX_NODE, BOX_FAMILY, BOX_SOURCE } box_kind;

static void dot_box_id(const pipec_pipeline *p, box_kind k, uint32_t i,
                       const char *src, FILE *out) {
  fputc('"', out);
  if (k == BOX_NODE)
    dot_escape(p->nodes[i].name, out);
  else if (k == BOX_FAMILY) {
    dot_escape(p->families[i].name, out);
    fputs("[*]", out);
  } else {
    fputs("file:", out);
    dot_escape(src, out);
  }
  fputc('"', out);
}

/* Edges drawn once per (from box, from port, to box, to port), however
 * many members they join: a hash set of those four. */
typedef struct edge_set {
  uint64_t *keys;
  uint32_t cap, n;
} edge_set;

static bool edge_new(edge_set *s, uint64_t a, uint64_t b) {
  uint64_t key = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull);
  key = key ? key : 1;
  if ((s->n + 1) * 2 > s->cap) {
    edge_set big = {calloc(s->cap ? s->cap * 2 : 64, sizeof *big.keys),
                    s->cap ? s->cap * 2 : 64, 0};
    if (!big.keys)
      abort();
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->keys[i]) {
        uint32_t k = (uint32_t)(s->keys[i] >> 20) & (big.cap - 1);
        while (big.keys[k])
          k = (k + 1) & (big.cap - 1);
        big.keys[k] = s->keys[i];
        big.n++;
      }
    free(s->keys);
    *s = big;
  }
  uint32_t k = (uint32_t)(key >> 20) & (s->cap - 1);
  while (s->keys[k] && s->keys[k] != key)
    k = (k + 1) & (s->cap - 1);
  if (s->keys[k])
    return false;
  s->keys[k] = key;
  s->n++;
  return true;
}

static uint64_t ptr_key(const void *x) { return (uint64_t)(uintptr_t)x; }

static void dot_edge(const pipec_pipeline *p, edge_set *seen, box_kind fk,
                     uint32_t fi, const char *fsrc, const char *fport,
                     box_kind tk, uint32_t ti, const char *tport,
                     const char *note, FILE *out) {
  uint64_t a = ((uint64_t)fk << 62) ^ ((uint64_t)fi << 30) ^
               (fsrc ? ptr_key(fsrc) : 0) ^ ptr_key(fport) * 31;
  uint64_t b = ((uint64_t)tk << 62) ^ ((uint64_t)ti << 30) ^
               ptr_key(tport) * 17;
  if (!edge_new(seen, a, b))
    return;
  fputs("  ", out);
  dot_box_id(p, fk, fi, fsrc, out);
  fputs(" -> ", out);
  dot_box_id(p, tk, ti, NULL, out);
  fputs(" [label=\"", out);
  if (fport) {
    dot_escape(fport, out);
    if (strcmp(fport, tport) != 0) {
      fputs(" → ", out);
      dot_escape(tport, out);
    }
  } else {
    dot_escape(tport, out);
  }
  if (note) {
    fputc(' ', out);
    dot_escape(note, out);
  }
  fputs("\"];\n", out);
}

/* The box a node of p->nodes (templates: tmpl) is drawn in. */
static void box_of(const pipec_pipeline *p, const pipec_node *n, uint32_t i,
                   box_kind *k, uint32_t *bi) {
  if (n->family != PIPEC_NONE) {
    *k = BOX_FAMILY;
    *bi = n->family;
  } else {
    *k = BOX_NODE;
    *bi = i;
  }
  (void)p;
}

static void dot_inputs(const pipec_pipeline *p, edge_set *seen,
                       const pipec_node *n, box_kind tk, uint32_t ti,
                       FILE *out) {
  for (uint32_t k = 0; k < n->n_inputs; k++) {
    const pipec_input *in = &n->inputs[k];
    box_kind fk;
    uint32_t fi;
    switch (in->kind) {
    case PIPEC_IN_NODE:
      box_of(p, &p->nodes[in->producer], in->producer, &fk, &fi);
      dot_edge(p, seen, fk, fi, NULL, in->producer_port, tk, ti, in->port,
               NULL, out);
      break;
    case PIPEC_IN_SOURCE:
      if (tk != BOX_FAMILY) /* a family's are drawn grouped (dot_sources) */
        dot_edge(p, seen, BOX_SOURCE, 0, in->source, NULL, tk, ti, in->port,
                 NULL, out);
      break;
    case PIPEC_IN_ITEM: {
      uint32_t f = PIPEC_NONE;
      const pipec_family *fam = tk == BOX_FAMILY ? &p->families[ti] : NULL;
      for (uint32_t t = 0; fam && t < fam->n_templates && f == PIPEC_NONE;
           t++)
        f = fanout_of(p, fam->templates[t]);
      if (f != PIPEC_NONE && p->fanouts[f].producer < p->n_nodes) {
        const pipec_fanout *fo = &p->fanouts[f];
        box_of(p, &p->nodes[fo->producer], fo->producer, &fk, &fi);
        dot_edge(p, seen, fk, fi, NULL, fo->port, tk, ti, in->port,
                 "(each entry)", out);
      }
      break;
    }
    case PIPEC_IN_TEMPLATE:
      break; /* inside the family's box */
    case PIPEC_IN_GATHER: {
      const pipec_node *t = &p->templates[in->ref];
      if (t->family != PIPEC_NONE)
        dot_edge(p, seen, BOX_FAMILY, t->family, NULL, in->producer_port, tk,
                 ti, in->port, "[*]", out);
      break;
    }
    }
  }
}

/* The source files a family's members read on one port: one box ("the
 * file", or "first ... last (N files)") and one edge into the family. */
static void dot_sources(const pipec_pipeline *p, FILE *out) {
  for (uint32_t f = 0; f < p->n_families; f++) {
    const pipec_family *fam = &p->families[f];
    if (!fam->n_members)
      continue;
    const pipec_node *first = &p->nodes[fam->members[0]];
    for (uint32_t k = 0; k < first->n_inputs; k++) {
      const pipec_input *in = &first->inputs[k];
      if (in->kind != PIPEC_IN_SOURCE || in->index != 0)
        continue;
      const char *a = in->source, *b = a;
      uint32_t count = 0;
      bool same = true;
      for (uint32_t m = 0; m < fam->n_members; m++) {
        const pipec_node *n = &p->nodes[fam->members[m]];
        for (uint32_t q = 0; q < n->n_inputs; q++)
          if (n->inputs[q].kind == PIPEC_IN_SOURCE &&
              strcmp(n->inputs[q].port, in->port) == 0) {
            same = same && strcmp(n->inputs[q].source, a) == 0;
            b = n->inputs[q].source;
            count++;
          }
      }
      fputs("  \"files:", out);
      dot_escape(fam->name, out);
      fputc('.', out);
      dot_escape(in->port, out);
      fputs("\" [label=\"", out);
      dot_escape(a, out);
      if (!same) {
        fputs(" ...\\n", out);
        dot_escape(b, out);
        fprintf(out, "\\n(%u files)", count);
      }
      fprintf(out, "\", shape=%s, style=\"\"];\n",
              in->type == PIPEC_PORT_DIR ? "folder" : "note");
      fputs("  \"files:", out);
      dot_escape(fam->name, out);
      fputc('.', out);
      dot_escape(in->port, out);
      fputs("\" -> ", out);
      dot_box_id(p, BOX_FAMILY, f, NULL, out);
      fputs(" [label=\"", out);
      dot_escape(in->port, out);
      fputs("\"];\n", out);
    }
  }
}

static void write_dot(const pipec_pipeline *p, FILE *out) {
  /* a soft palette; each target gets a fill color */
  static const char *const colors[] = {"#e8f0fe", "#fce8e6", "#e6f4ea",
                                       "#fef7e0", "#f3e8fd", "#e4f7fb"};
  fprintf(out, "digraph \"");
  dot_escape(p->name, out);
  fprintf(out, "\" {\n  rankdir=LR;\n"
               "  node [shape=box, style=\"rounded,filled\", "
               "fontname=\"Helvetica\", fontsize=11];\n"
               "  edge [fontname=\"Helvetica\", fontsize=9];\n");
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    if (n->family != PIPEC_NONE)
      continue;
    fprintf(out, "  \"");
    dot_escape(n->name, out);
    fprintf(out, "\" [label=\"");
    dot_escape(n->name, out);
    fprintf(out, "\\n");
    dot_escape(p->components[n->component].name, out);
    if (n->target != 0) {
      fprintf(out, "\\non ");
      dot_escape(p->targets[n->target].name, out);
    }
    fprintf(out, "\", fillcolor=\"%s\"];\n",
            colors[n->target % (sizeof colors / sizeof colors[0])]);
  }
  /* a family: one box with its count (stacked), or, expanded at run
   * time, a dashed one that says after what */
  for (uint32_t f = 0; f < p->n_families; f++) {
    const pipec_family *fam = &p->families[f];
    const pipec_node *first =
        fam->n_members ? &p->nodes[fam->members[0]]
        : fam->n_templates ? &p->templates[fam->templates[0]]
                           : NULL;
    fputs("  ", out);
    dot_box_id(p, BOX_FAMILY, f, NULL, out);
    fputs(" [label=\"", out);
    dot_escape(fam->name, out);
    fputs("[*]\\n", out);
    if (fam->component != PIPEC_NONE)
      dot_escape(p->components[fam->component].name, out);
    if (fam->runtime) {
      uint32_t fo = fam->n_templates ? fanout_of(p, fam->templates[0])
                                     : PIPEC_NONE;
      fputs("\\nexpands after ", out);
      if (fo != PIPEC_NONE && p->fanouts[fo].producer < p->n_nodes)
        dot_escape(p->nodes[p->fanouts[fo].producer].name, out);
      else
        fputs("run time", out);
      fputs("\", style=\"rounded,filled,dashed", out);
    } else {
      fprintf(out, "\\n× %u", fam->n_members);
      fputs("\", peripheries=2, style=\"rounded,filled", out);
    }
    uint32_t tgt = first ? first->target : 0;
    fprintf(out, "\", fillcolor=\"%s\"];\n",
            colors[tgt % (sizeof colors / sizeof colors[0])]);
  }
  /* source files read by nodes outside families, one box each */
  edge_set drawn = {0};
  for (uint32_t i = 0; i < p->n_nodes + p->n_templates; i++) {
    const pipec_node *n = i < p->n_nodes ? &p->nodes[i]
                                         : &p->templates[i - p->n_nodes];
    if (n->family != PIPEC_NONE)
      continue;
    for (uint32_t k = 0; k < n->n_inputs; k++) {
      const pipec_input *in = &n->inputs[k];
      if (in->kind != PIPEC_IN_SOURCE ||
          !edge_new(&drawn, ptr_key(in->source), 0))
        continue;
      fputs("  ", out);
      dot_box_id(p, BOX_SOURCE, 0, in->source, out);
      fputs(" [label=\"", out);
      dot_escape(in->source, out);
      fprintf(out, "\", shape=%s, style=\"\"];\n",
              in->type == PIPEC_PORT_DIR ? "folder" : "note");
    }
  }
  free(drawn.keys);
  dot_sources(p, out);
  edge_set seen = {0};
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    box_kind tk;
    uint32_t ti;
    box_of(p, &p->nodes[i], i, &tk, &ti);
    dot_inputs(p, &seen, &p->nodes[i], tk, ti, out);
  }
  for (uint32_t t = 0; t < p->n_templates; t++)
    if (p->templates[t].family != PIPEC_NONE)
      dot_inputs(p, &seen, &p->templates[t], BOX_FAMILY,
                 p->templates[t].family, out);
  free(seen.keys);
  fprintf(out, "}\n");
}

/* ---- json ---------------------------------------------------------------- */

static void json_loc(pipec_json *j, const pipec_srcloc *l) {
  pipec_json_key(j, "loc");
  pipec_json_obj(j);
  pipec_json_key(j, "file");
  pipec_json_str(j, l->file);
  pipec_json_key(j, "line");
  pipec_json_int(j, l->line);
  pipec_json_key(j, "col");
  pipec_json_int(j, l->col);
  pipec_json_end(j);
}

static void json_port(pipec_json *j, const pipec_port_decl *d) {
  pipec_json_obj(j);
  pipec_json_key(j, "port");
  pipec_json_str(j, d->name);
  pipec_json_key(j, "type");
  pipec_json_str(j, pipec_port_type_name(d->type));
  if (d->list) {
    pipec_json_key(j, "list");
    pipec_json_bool(j, true);
  }
  if (d->filename) {
    pipec_json_key(j, "filename");
    pipec_json_str(j, d->filename);
  }
  pipec_json_end(j);
}

static void json_node(pipec_json *j, const pipec_pipeline *p,
                      const pipec_node *n) {
  const pipec_component *c = &p->components[n->component];
  pipec_json_obj(j);
  pipec_json_key(j, "name");
  pipec_json_str(j, n->name);
  pipec_json_key(j, "component");
  pipec_json_str(j, c->name);
  pipec_json_key(j, "kind");
  pipec_json_str(j, c->kind == PIPEC_COMP_BUILTIN ? "builtin" : "command");
  pipec_json_key(j, "target");
  pipec_json_str(j, p->targets[n->target].name);
  if (n->family != PIPEC_NONE) {
    pipec_json_key(j, "family");
    pipec_json_str(j, p->families[n->family].name);
    pipec_json_key(j, "key");
    pipec_json_str(j, n->key);
  }
  pipec_json_key(j, "params");
  pipec_json_obj(j);
  for (uint32_t k = 0; k < n->n_params; k++) {
    pipec_json_key(j, n->params[k].name);
    pipec_value_json(j, &n->params[k].value);
  }
  pipec_json_end(j);
  if (n->n_deferred) {
    pipec_json_key(j, "deferred");
    pipec_json_arr(j);
    for (uint32_t k = 0; k < n->n_deferred; k++) {
      const pipec_deferred *d = &n->deferred[k];
      pipec_json_obj(j);
      pipec_json_key(j, "param");
      pipec_json_str(j, n->params[d->param].name);
      pipec_json_key(j, "kind");
      pipec_json_str(j, d->kind == PIPEC_DEFER_ITEM ? "item" : "keys");
      if (d->kind == PIPEC_DEFER_ITEM) {
        pipec_json_key(j, "text");
        pipec_json_str(j, d->text);
      } else {
        pipec_json_key(j, "of");
        pipec_json_str(j, p->templates[d->ref].name);
      }
      pipec_json_end(j);
    }
    pipec_json_end(j);
  }
  pipec_json_key(j, "inputs");
  pipec_json_arr(j);
  for (uint32_t k = 0; k < n->n_inputs; k++) {
    const pipec_input *in = &n->inputs[k];
    pipec_json_obj(j);
    pipec_json_key(j, "port");
    pipec_json_str(j, in->port);
    pipec_json_key(j, "type");
    pipec_json_str(j, pipec_port_type_name(in->type));
    if (in->kind != PIPEC_IN_NODE) {
      pipec_json_key(j, "kind");
      pipec_json_str(j, input_kind_name(in->kind));
    }
    pipec_json_key(j, "from");
    if (in->kind == PIPEC_IN_NODE)
      pipec_json_str(j, p->nodes[in->producer].name);
    else if (in->kind == PIPEC_IN_TEMPLATE || in->kind == PIPEC_IN_GATHER)
      pipec_json_str(j, p->templates[in->ref].name);
    else
      pipec_json_null(j);
    pipec_json_key(j, "from_port");
    pipec_json_str(j, in->producer_port);
    if (in->kind == PIPEC_IN_SOURCE) {
      pipec_json_key(j, "source");
      pipec_json_str(j, in->source);
    }
    if (in->index || (k + 1 < n->n_inputs && n->inputs[k + 1].port == in->port)) {
      pipec_json_key(j, "index");
      pipec_json_int(j, in->index);
    }
    pipec_json_end(j);
  }
  pipec_json_end(j);
  if (n->n_var_inputs) {
    pipec_json_key(j, "var_inputs");
    pipec_json_arr(j);
    for (uint32_t k = 0; k < n->n_var_inputs; k++)
      json_port(j, &n->var_inputs[k]);
    pipec_json_end(j);
  }
  pipec_json_key(j, "outputs");
  pipec_json_arr(j);
  for (uint32_t k = 0; k < c->n_outputs; k++)
    json_port(j, &c->outputs[k]);
  pipec_json_end(j);
  pipec_json_key(j, "resources");
  pipec_json_obj(j);
  pipec_json_key(j, "cpus");
  pipec_json_int(j, n->resources.cpus);
  pipec_json_key(j, "memory");
  pipec_json_int(j, n->resources.memory);
  pipec_json_key(j, "gpus");
  pipec_json_int(j, n->resources.gpus);
  pipec_json_key(j, "time_s");
  pipec_json_int(j, n->resources.time_s);
  pipec_json_end(j);
  pipec_json_key(j, "retries");
  pipec_json_int(j, n->retries);
  pipec_json_key(j, "timeout_s");
  pipec_json_int(j, n->timeout_s);
  pipec_json_key(j, "cache");
  pipec_json_bool(j, n->cache);
  if (n->image) { /* (absent without: the configuration of a pipeline
                     without images reads as before) */
    pipec_json_key(j, "image");
    pipec_json_str(j, n->image);
    pipec_json_key(j, "network");
    pipec_json_bool(j, n->network);
  }
  pipec_json_key(j, "quota");
  pipec_json_str(j, n->quota < p->n_quotas ? p->quotas[n->quota].name : NULL);
  pipec_json_key(j, "memory_growth");
  pipec_json_num(j, n->memory_growth);
  json_loc(j, &n->loc);
  pipec_json_end(j);
}

static void json_families(pipec_json *j, const pipec_pipeline *p) {
  pipec_json_key(j, "families");
  pipec_json_arr(j);
  for (uint32_t f = 0; f < p->n_families; f++) {
    const pipec_family *fam = &p->families[f];
    pipec_json_obj(j);
    pipec_json_key(j, "name");
    pipec_json_str(j, fam->name);
    pipec_json_key(j, "vars");
    pipec_json_arr(j);
    for (uint32_t v = 0; v < fam->n_vars; v++)
      pipec_json_str(j, fam->vars[v]);
    pipec_json_end(j);
    pipec_json_key(j, "component");
    pipec_json_str(j, fam->component != PIPEC_NONE
                          ? p->components[fam->component].name
                          : NULL);
    pipec_json_key(j, "runtime");
    pipec_json_bool(j, fam->runtime);
    pipec_json_key(j, "count");
    pipec_json_int(j, fam->n_members);
    pipec_json_key(j, "members");
    pipec_json_arr(j);
    for (uint32_t m = 0; m < fam->n_members; m++)
      pipec_json_str(j, p->nodes[fam->members[m]].name);
    pipec_json_end(j);
    pipec_json_key(j, "keys");
    pipec_json_arr(j);
    for (uint32_t m = 0; m < fam->n_members; m++)
      pipec_json_str(j, fam->keys[m]);
    pipec_json_end(j);
    if (fam->runtime) {
      pipec_json_key(j, "templates");
      pipec_json_arr(j);
      for (uint32_t t = 0; t < fam->n_templates; t++)
        pipec_json_str(j, p->templates[fam->templates[t]].name);
      pipec_json_end(j);
      uint32_t fo = fam->n_templates ? fanout_of(p, fam->templates[0])
                                     : PIPEC_NONE;
      if (fo != PIPEC_NONE && p->fanouts[fo].producer < p->n_nodes) {
        pipec_json_key(j, "expands_after");
        pipec_json_str(j, p->nodes[p->fanouts[fo].producer].name);
      }
    }
    json_loc(j, &fam->loc);
    pipec_json_end(j);
  }
  pipec_json_end(j);
  pipec_json_key(j, "fanouts");
  pipec_json_arr(j);
  for (uint32_t f = 0; f < p->n_fanouts; f++) {
    const pipec_fanout *fo = &p->fanouts[f];
    pipec_json_obj(j);
    pipec_json_key(j, "kind");
    pipec_json_str(j, fanout_kind_name(fo->kind));
    pipec_json_key(j, "producer");
    pipec_json_str(j, fo->producer < p->n_nodes ? p->nodes[fo->producer].name
                                                : NULL);
    pipec_json_key(j, "port");
    pipec_json_str(j, fo->port);
    pipec_json_key(j, "var");
    pipec_json_str(j, fo->var);
    pipec_json_key(j, "templates");
    pipec_json_arr(j);
    for (uint32_t t = 0; t < fo->n_templates; t++)
      pipec_json_str(j, p->templates[fo->first_template + t].name);
    pipec_json_end(j);
    json_loc(j, &fo->loc);
    pipec_json_end(j);
  }
  pipec_json_end(j);
  pipec_json_key(j, "templates");
  pipec_json_arr(j);
  for (uint32_t t = 0; t < p->n_templates; t++)
    json_node(j, p, &p->templates[t]);
  pipec_json_end(j);
  pipec_json_key(j, "publishes");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < p->n_publishes; i++) {
    const pipec_publish *pb = &p->publishes[i];
    pipec_json_obj(j);
    pipec_json_key(j, "node");
    pipec_json_str(j, pb->fanout != PIPEC_NONE ? p->templates[pb->node].name
                                               : p->nodes[pb->node].name);
    pipec_json_key(j, "port");
    pipec_json_str(j, pb->port);
    pipec_json_key(j, "path");
    pipec_json_str(j, pb->path);
    pipec_json_key(j, "runtime");
    pipec_json_bool(j, pb->fanout != PIPEC_NONE);
    json_loc(j, &pb->loc);
    pipec_json_end(j);
  }
  pipec_json_end(j);
  pipec_json_key(j, "sources");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < p->n_datafiles; i++) {
    pipec_json_obj(j);
    pipec_json_key(j, "path");
    pipec_json_str(j, p->datafiles[i].path);
    pipec_json_key(j, "dir");
    pipec_json_bool(j, p->datafiles[i].dir);
    pipec_json_end(j);
  }
  pipec_json_end(j);
}

static void write_json(const pipec_pipeline *p, FILE *out, bool pretty) {
  pipec_json j;
  pipec_json_init(&j, out, pretty);
  pipec_json_obj(&j);
  pipec_json_key(&j, "pipeline");
  pipec_json_str(&j, p->name);
  pipec_json_key(&j, "file");
  pipec_json_str(&j, p->file);
  pipec_json_key(&j, "params");
  pipec_json_arr(&j);
  for (uint32_t i = 0; i < p->n_params; i++) {
    const pipec_value *v = &p->params[i].value;
    pipec_json_obj(&j);
    pipec_json_key(&j, "name");
    pipec_json_str(&j, p->params[i].name);
    pipec_json_key(&j, "type");
    pipec_json_str(&j, pipec_type_name(v->type));
    if (v->type == PIPEC_T_LIST) {
      pipec_json_key(&j, "items");
      pipec_json_str(&j, pipec_type_name(v->u.list.elem));
    }
    pipec_json_key(&j, "value");
    pipec_value_json(&j, v);
    pipec_json_end(&j);
  }
  pipec_json_end(&j);
  pipec_json_key(&j, "targets");
  pipec_json_arr(&j);
  for (uint32_t i = 0; i < p->n_targets; i++) {
    const pipec_target *t = &p->targets[i];
    pipec_json_obj(&j);
    pipec_json_key(&j, "name");
    pipec_json_str(&j, t->name);
    pipec_json_key(&j, "kind");
    pipec_json_str(&j, t->kind);
    pipec_json_key(&j, "options");
    pipec_json_obj(&j);
    for (uint32_t k = 0; k < t->n_opts; k++) {
      pipec_json_key(&j, t->opts[k].key);
      pipec_value_json(&j, &t->opts[k].value);
    }
    pipec_json_end(&j);
    pipec_json_end(&j);
  }
  pipec_json_end(&j);
  pipec_json_key(&j, "nodes");
  pipec_json_arr(&j);
  for (uint32_t i = 0; i < p->n_nodes; i++)
    json_node(&j, p, &p->nodes[i]);
  pipec_json_end(&j);
  pipec_json_key(&j, "edges");
  pipec_json_arr(&j);
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    for (uint32_t k = 0; k < n->n_inputs; k++) {
      const pipec_input *in = &n->inputs[k];
      if (in->kind != PIPEC_IN_NODE)
        continue; /* a source, a gather of a run-time family: see inputs */
      pipec_json_obj(&j);
      pipec_json_key(&j, "from");
      pipec_json_str(&j, p->nodes[in->producer].name);
      pipec_json_key(&j, "from_port");
      pipec_json_str(&j, in->producer_port);
      pipec_json_key(&j, "to");
      pipec_json_str(&j, n->name);
      pipec_json_key(&j, "to_port");
      pipec_json_str(&j, in->port);
      pipec_json_key(&j, "type");
      pipec_json_str(&j, pipec_port_type_name(in->type));
      pipec_json_end(&j);
    }
  }
  pipec_json_end(&j);
  json_families(&j, p);
  pipec_json_end(&j);
  pipec_json_done(&j);
}

void pipec_graph_write(const pipec_pipeline *p, pipec_graph_format f,
                       FILE *out) {
  switch (f) {
  case PIPEC_GRAPH_TEXT: write_text(p, out); break;
  case PIPEC_GRAPH_DOT: write_dot(p, out); break;
  case PIPEC_GRAPH_JSON: write_json(p, out, true); break;
  case PIPEC_GRAPH_JSON_COMPACT: write_json(p, out, false); break;
  }
}
