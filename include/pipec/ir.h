/*
 * ir.h — the compiled pipeline: plain data the engine reads.
 *
 * The compiler (compiler/) turns .pipe source into one pipec_pipeline. The IR
 * does not depend on the AST: every name is resolved, every parameter typed
 * and filled in (defaults applied, ${} interpolation done), every input is an
 * edge to a producer node, and nodes are in topological order (a node's
 * producers always come before it).
 *
 * Ownership: everything reachable from a pipec_pipeline lives in the
 * pipeline's own arena and is freed by pipec_pipeline_free(). Indices
 * (uint32_t) refer into the arrays of the same pipeline.
 */
#ifndef PIPEC_IR_H
#define PIPEC_IR_H

#include "component.h"
#include "value.h"

#define PIPEC_NONE UINT32_MAX

/* A place in a source file, for messages. line and col are 1-based. */
typedef struct pipec_srcloc {
  const char *file;
  uint32_t line, col;
} pipec_srcloc;

typedef struct pipec_param {
  const char *name;
  pipec_value value;           /* typed; interpolation already done */
} pipec_param;

typedef struct pipec_keyval {
  const char *key;
  const char *value;
} pipec_keyval;

/* One source file of the pipeline (the main file and every import). */
typedef struct pipec_source {
  const char *path;            /* as opened (relative to the cwd or absolute) */
  const char *text;            /* the exact bytes read, NUL-terminated */
  size_t len;
} pipec_source;

typedef enum pipec_component_kind {
  PIPEC_COMP_BUILTIN,          /* from the registry; desc is set */
  PIPEC_COMP_COMMAND,          /* declared in a .pipe file with `command` */
} pipec_component_kind;

typedef struct pipec_param_decl {
  const char *name;
  pipec_type type;
  bool has_default;
  pipec_value def;
} pipec_param_decl;

typedef struct pipec_port_decl {
  const char *name;
  pipec_port_type type;
} pipec_port_decl;

typedef struct pipec_component {
  const char *name;            /* "table.read_csv", "featurize" */
  pipec_component_kind kind;
  const char *version;         /* built-ins: desc->version; commands: NULL */
  const pipec_component_desc *desc;  /* built-ins only */
  const char *plugin;          /* the plugin file it comes from, relative to
                                  the pipeline directory; NULL if built in */
  pipec_port_decl *inputs;     uint32_t n_inputs;
  pipec_port_decl *outputs;    uint32_t n_outputs;
  pipec_param_decl *params;    uint32_t n_params;
  const char *command;         /* the template, unexpanded (commands only) */
  const char **code;           /* code files, paths relative to the pipeline
                                  directory; hashed into the cache key */
  uint32_t n_code;
  pipec_keyval *env;           /* sorted by key */
  uint32_t n_env;
  pipec_srcloc loc;
} pipec_component;

typedef struct pipec_opt {
  const char *key;
  pipec_value value;
} pipec_opt;

typedef struct pipec_target {
  const char *name;
  const char *kind;            /* the kind's name ("local", "ssh", "slurm",
                                  or one the caller added): one of the
                                  kinds the compiler was given */
  pipec_opt *opts;             /* every key as written, sorted by key; the
                                  compiler has checked them against the
                                  kind's schema (defaults not filled in) */
  uint32_t n_opts;
  pipec_srcloc loc;            /* line 0 for the implicit `local` */
} pipec_target;

/* Resources a node asks for. 0 means "not given". */
typedef struct pipec_resources {
  int64_t cpus;
  int64_t memory;              /* bytes */
  int64_t gpus;
  int64_t time_s;              /* wall time limit requested from a scheduler */
} pipec_resources;

typedef struct pipec_input {
  const char *port;            /* the consuming port */
  pipec_port_type type;
  uint32_t producer;           /* node index */
  const char *producer_port;
} pipec_input;

typedef struct pipec_node {
  const char *name;
  uint32_t component;          /* index into pipeline->components */
  pipec_param *params;         /* every declared param, sorted by name */
  uint32_t n_params;
  pipec_input *inputs;         /* sorted by port name */
  uint32_t n_inputs;
  uint32_t target;             /* index into pipeline->targets */
  pipec_resources resources;
  int32_t retries;             /* extra attempts after a failure; default 0 */
  int64_t timeout_s;           /* 0 = none */
  bool cache;                  /* default true */
  pipec_srcloc loc;
} pipec_node;

typedef struct pipec_pipeline {
  const char *name;
  const char *file;            /* the main .pipe file, as given */
  const char *dir;             /* its directory: commands run here */
  pipec_param *params;         /* pipeline params, final values, in
                                  declaration order */
  uint32_t n_params;
  pipec_source *sources;       /* sources[0] is the main file */
  uint32_t n_sources;
  pipec_component *components; uint32_t n_components;
  pipec_target *targets;       uint32_t n_targets;   /* targets[0] is `local` */
  pipec_node *nodes;           uint32_t n_nodes;     /* topological order */
  void *arena;                 /* private */
} pipec_pipeline;

void pipec_pipeline_free(pipec_pipeline *p);

/* Lookups by name; PIPEC_NONE if absent. Linear in the number of items. */
uint32_t pipec_pipeline_node(const pipec_pipeline *p, const char *name);
const pipec_param *pipec_node_param(const pipec_node *n, const char *name);
const pipec_opt *pipec_target_opt(const pipec_target *t, const char *key);

#endif
