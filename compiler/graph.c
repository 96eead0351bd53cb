/*
 * graph.c — text, Graphviz and JSON views of a compiled pipeline.
 */
#include "pipec/graph.h"

#include <inttypes.h>
#include <stdlib.h>
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

/* ---- text ---------------------------------------------------------------- */

static void write_text(const pipec_pipeline *p, FILE *out) {
  fprintf(out, "pipeline %s (%s): %u node%s\n", p->name, p->file, p->n_nodes,
          p->n_nodes == 1 ? "" : "s");
  for (uint32_t i = 0; i < p->n_params; i++) {
    fprintf(out, "  param %s : %s = ", p->params[i].name,
            pipec_type_name(p->params[i].value.type));
    pipec_value_print(&p->params[i].value, out);
    fputc('\n', out);
  }
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    const pipec_component *c = &p->components[n->component];
    fprintf(out, "\n%s = %s", n->name, c->name);
    if (n->target != 0 || p->n_targets > 1)
      fprintf(out, "  on %s", p->targets[n->target].name);
    fputc('\n', out);
    for (uint32_t k = 0; k < n->n_inputs; k++) {
      const pipec_input *in = &n->inputs[k];
      fprintf(out, "  <- %s = %s.%s  (%s)\n", in->port,
              p->nodes[in->producer].name, in->producer_port,
              pipec_port_type_name(in->type));
    }
    for (uint32_t k = 0; k < n->n_params; k++) {
      fprintf(out, "     %s = ", n->params[k].name);
      pipec_value_print(&n->params[k].value, out);
      fputc('\n', out);
    }
    for (uint32_t k = 0; k < c->n_outputs; k++)
      fprintf(out, "  -> %s  (%s)\n", c->outputs[k].name,
              pipec_port_type_name(c->outputs[k].type));
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
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    for (uint32_t k = 0; k < n->n_inputs; k++) {
      const pipec_input *in = &n->inputs[k];
      fprintf(out, "  \"");
      dot_escape(p->nodes[in->producer].name, out);
      fprintf(out, "\" -> \"");
      dot_escape(n->name, out);
      fprintf(out, "\" [label=\"");
      dot_escape(in->producer_port, out);
      if (strcmp(in->producer_port, in->port) != 0) {
        fprintf(out, " → ");
        dot_escape(in->port, out);
      }
      fprintf(out, "\"];\n");
    }
  }
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
  pipec_json_key(j, "params");
  pipec_json_obj(j);
  for (uint32_t k = 0; k < n->n_params; k++) {
    pipec_json_key(j, n->params[k].name);
    pipec_value_json(j, &n->params[k].value);
  }
  pipec_json_end(j);
  pipec_json_key(j, "inputs");
  pipec_json_arr(j);
  for (uint32_t k = 0; k < n->n_inputs; k++) {
    const pipec_input *in = &n->inputs[k];
    pipec_json_obj(j);
    pipec_json_key(j, "port");
    pipec_json_str(j, in->port);
    pipec_json_key(j, "type");
    pipec_json_str(j, pipec_port_type_name(in->type));
    pipec_json_key(j, "from");
    pipec_json_str(j, p->nodes[in->producer].name);
    pipec_json_key(j, "from_port");
    pipec_json_str(j, in->producer_port);
    pipec_json_end(j);
  }
  pipec_json_end(j);
  pipec_json_key(j, "outputs");
  pipec_json_arr(j);
  for (uint32_t k = 0; k < c->n_outputs; k++) {
    pipec_json_obj(j);
    pipec_json_key(j, "port");
    pipec_json_str(j, c->outputs[k].name);
    pipec_json_key(j, "type");
    pipec_json_str(j, pipec_port_type_name(c->outputs[k].type));
    pipec_json_end(j);
  }
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
  json_loc(j, &n->loc);
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
    pipec_json_obj(&j);
    pipec_json_key(&j, "name");
    pipec_json_str(&j, p->params[i].name);
    pipec_json_key(&j, "type");
    pipec_json_str(&j, pipec_type_name(p->params[i].value.type));
    pipec_json_key(&j, "value");
    pipec_value_json(&j, &p->params[i].value);
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
