/*
 * sema_int.h — state shared by the parts of semantic analysis:
 * sema.c (components, nodes, edges, order), sema_value.c (typed values,
 * ${} interpolation, pipeline params), sema_target.c (targets and the
 * settings of nodes) and sema_files.c (the files named by `code` and
 * `path` values).
 */
#ifndef PIPEC_SEMA_INT_H
#define PIPEC_SEMA_INT_H

#include "sema.h"

typedef struct sparam {
  const ast_param *decl;
  pipec_type type;
  bool type_ok;
  int state;                 /* 0 unresolved, 1 resolving, 2 resolved */
  bool ok;                   /* value is valid */
  bool used;
  const char *override;      /* VALUE of -p NAME=VALUE, or NULL */
  pipec_value value;
} sparam;

typedef struct scomp {
  const char *name;
  const ast_component *ast;  /* user components; NULL for built-ins */
  const ast_file *file;      /* the declaring file (user components) */
  const pipec_component_desc *desc;  /* built-ins */
  const char *plugin;        /* built-ins from a plugin: its path */
  pipec_component ir;        /* lowered */
  bool lowered, ok;
  uint32_t index;            /* in the IR's components, PIPEC_NONE if unused */
  /* interned name -> index of inputs, outputs and params; built on first
   * use when the component has many (comp_find in sema.c) */
  struct name_map *in_map, *out_map, *par_map;
} scomp;

typedef struct snode {
  const ast_node *ast;
  uint32_t comp;             /* index into sema.comps, PIPEC_NONE if unknown */
  pipec_node *ir;            /* in sema.irs; inputs and params (sorted) are
                                set by wire_node, producers are indices
                                into sema.nodes until the pipeline is built */
  bool *out_used;            /* per output of the component */
} snode;

/* Interned name -> index, open addressing (names are unique pointers). */
typedef struct name_map {
  const char **keys;
  uint32_t *vals;
  uint32_t cap, n;
} name_map;

typedef struct sema {
  arena *a;
  pipec_diags *d;
  const sema_unit *u;
  const pipec_compile_opts *opts;
  const ast_pipeline *ap;
  const char *main_dir;
  sparam *params;
  uint32_t n_params;
  VEC(scomp) comps;
  VEC(pipec_target) targets;
  VEC(const ast_target *) target_asts;  /* parallel to targets (NULL: local) */
  snode *nodes;
  pipec_node *irs;           /* parallel to nodes; becomes the pipeline's
                                nodes when they are already in order */
  uint32_t n_nodes;
  name_map node_map, param_map;  /* lookups stay O(1) for huge pipelines */
  name_map ok_paths;         /* interned path values found fine (sema_files.c) */
  char *what;                /* sema_what's buffer (malloc'd) */
  size_t what_cap;
  void *scratch;             /* wire_node's per-node arrays (malloc'd) */
  size_t scratch_cap;
  VEC(pipec_input) tmp_inputs;  /* wire_node collects a node's edges and */
  VEC(pipec_param) tmp_params;  /* params here (malloc'd), then copies them */
  VEC(const char *) tmp_broken; /* shell arguments whose value was wrong:
                                   still known to the command's template */
} sema;

void name_map_put(arena *a, name_map *m, const char *key, uint32_t val);
uint32_t name_map_get(const name_map *m, const char *key);

/* Diagnostics at an AST location. */
pipec_diag *sema_error(sema *S, const char *code, ast_loc loc,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
pipec_diag *sema_warning(sema *S, const char *code, ast_loc loc,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sema_note(sema *S, ast_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Attach "did you mean 'X'?" to g if a name in words is close to word. */
void sema_suggest(pipec_diag *g, const char *word, const char *const *words,
                  uint32_t n);

/* printf into a buffer reused by the next call: for the `what` of
 * messages, made for every argument of every node but rarely printed, so
 * not worth arena memory in a pipeline of a million nodes. */
const char *sema_what(sema *S, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The IR's location of an AST location. */
pipec_srcloc sema_srcloc(sema *S, ast_loc loc);

/* Lookups; PIPEC_NONE if absent. */
uint32_t sema_param_index(const sema *S, const char *name);
uint32_t sema_node_index(const sema *S, const char *name);

/* sema_value.c */
void sema_params(sema *S);
/* Convert an AST value to a typed value. `what` names the receiving
 * thing in messages ("param 'ratio'"). With tmpl, the string is a command
 * template: braces in interpolated values are doubled so they stay
 * literal. Returns false after reporting an error. */
bool sema_value(sema *S, const ast_value *v, pipec_type want, bool tmpl,
                const char *what, pipec_value *out);
/* A string with ${} interpolation done; NULL after an error. */
const char *sema_string(sema *S, const ast_value *v, bool tmpl);
/* Duration (seconds) or size (bytes): an int, or a string with units. */
bool sema_duration(sema *S, const ast_value *v, const char *what,
                   int64_t *out);
bool sema_size(sema *S, const ast_value *v, const char *what, int64_t *out);
/* Check the placeholders of template string v against names[0..n). */
void sema_check_template(sema *S, const ast_value *v, const char *const *names,
                         uint32_t n, const char *owner);

/* sema_files.c */
/* Lower a component's `code` setting (a string or a list; globs expanded)
 * into c->ir.code, checking every file. False after reporting. */
bool sema_code_setting(sema *S, scomp *c, const ast_value *v,
                       const char *what);
/* Check the file(s) of path value val, written as v (a list's items one by
 * one); what names the owner in messages. A reference to a pipeline param
 * of the same type is checked at the param instead. */
void sema_check_path(sema *S, const ast_value *v, const pipec_value *val,
                     const char *what);
/* The same for the default of param i of component sc, used by a node. */
void sema_check_default_path(sema *S, const scomp *sc, uint32_t i);
/* The same for every pipeline param (its default, or its -p override). */
void sema_param_paths(sema *S);

/* sema_target.c */
void sema_targets(sema *S);
uint32_t sema_target_index(const sema *S, const char *name);
void sema_node_settings(sema *S, snode *n);

#endif
