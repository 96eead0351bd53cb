/*
 * graph.h — print a compiled pipeline: `pipec graph FILE --format F`.
 *
 *  text  a readable listing for a terminal: each node in topological order
 *        with its component, target, inputs and params
 *  dot   Graphviz (`pipec graph p.pipe --format dot | dot -Tsvg > p.svg`)
 *  json  a stable schema, documented in docs/cli.md:
 *        {"pipeline", "file", "params": [...], "targets": [...],
 *         "nodes": [...], "edges": [...]}
 */
#ifndef PIPEC_GRAPH_H
#define PIPEC_GRAPH_H

#include <stdio.h>

#include "export.h"
#include "ir.h"
#include "json.h"

typedef enum pipec_graph_format {
  PIPEC_GRAPH_TEXT,
  PIPEC_GRAPH_DOT,
  PIPEC_GRAPH_JSON,
  PIPEC_GRAPH_JSON_COMPACT,  /* the same JSON on one line (snapshots) */
} pipec_graph_format;

/* Parse "text" | "dot" | "json"; 0 on success, -1 if unknown. */
PIPEC_API int pipec_graph_format_parse(const char *s, pipec_graph_format *out);

PIPEC_API void pipec_graph_write(const pipec_pipeline *p, pipec_graph_format f,
                                 FILE *out);

/* Write a value in the language's literal syntax ("a\"b", 0.8, [1, 2]). */
PIPEC_API void pipec_value_print(const pipec_value *v, FILE *out);
/* Write a value as JSON. */
PIPEC_API void pipec_value_json(pipec_json *j, const pipec_value *v);

#endif
