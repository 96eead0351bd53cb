/*
 * sema_int.h — state shared by the parts of semantic analysis:
 * sema.c (components, nodes, edges, order), sema_value.c (typed values,
 * ${} interpolation, pipeline params), sema_target.c (targets and the
 * settings of nodes), sema_loop.c (for, if, families, keys, run-time
 * loops), sema_files.c (the files named by `code` and `path` values) and
 * sema_sources.c (source files, globs, publish paths).
 *
 * Loops are expanded: every member of a family is an snode of its own,
 * with the loop variables bound for it (senv, a chain of one frame per
 * enclosing binding, shared by all the members below it). Declaring
 * happens first, for the whole pipeline (so a node may use a family
 * declared further down); wiring then checks every node with its own
 * bindings. A run-time loop binds its variable to no value: the nodes of
 * its body are templates.
 */
#ifndef PIPEC_SEMA_INT_H
#define PIPEC_SEMA_INT_H

#include "sema.h"

typedef struct sparam {
  const ast_param *decl;
  pipec_type type;
  pipec_type elem;           /* PIPEC_T_LIST: the item type */
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
  bool command_checked;      /* its command's literal file names warned */
  uint32_t index;            /* in the IR's components, PIPEC_NONE if unused */
  /* interned name -> index of inputs, outputs and params; built on first
   * use when the component has many (comp_find in sema.c) */
  struct name_map *in_map, *out_map, *par_map;
} scomp;

typedef struct sema_u32s {  /* a malloc'd VEC (TMP_PUSH) */
  uint32_t *items;
  uint32_t n, cap;
} sema_u32s;

/* One binding of a `for` (VAR in SOURCE), as one expansion sees it. */
typedef struct sbind {
  const char *var;           /* interned */
  ast_loc loc;
  uint32_t fanout;           /* PIPEC_NONE: compile time; else the
                                run-time loop (sema.fanouts) */
} sbind;

/* The value of one loop variable for the nodes below it. */
typedef struct senv {
  const struct senv *up;     /* the enclosing binding, NULL at the top */
  const sbind *bind;
  pipec_value value;         /* the item (compile-time bindings) */
  const char *text;          /* its text: the key part */
} senv;

typedef struct snode {
  const ast_node *ast;
  uint32_t comp;             /* index into sema.comps, PIPEC_NONE if unknown */
  pipec_node *ir;            /* in sema.irs; inputs and params (sorted) are
                                set by wire_node, producers are indices
                                into sema.nodes until the pipeline is built */
  bool *out_used;            /* per output of the component */
  const senv *env;           /* loop variables bound (NULL: none) */
  const char *name;          /* interned: NAME, or NAME[KEY] */
  const char *key;           /* NULL outside a family */
  uint32_t family;           /* index into sema.fams, or PIPEC_NONE */
  uint32_t fanout;           /* a template of this run-time loop, or
                                PIPEC_NONE */
} snode;

/* Members of a family grouped by the values at some index positions, for
 * gathers like NAME[k, *] (sema_loop.c). */
typedef struct sgroups sgroups;

typedef struct sfam {
  const char *name;          /* interned */
  const ast_node *decl;
  const char *const *vars;   /* the decl's index variables */
  uint32_t n_vars;
  VEC(uint32_t) members;     /* snode indices, SOURCE order (templates for
                                a run-time family) */
  VEC(const char *) parts;   /* n_vars per member: the item texts ('*' at
                                a run-time position) */
  bool runtime;              /* declared inside a run-time loop */
  bool broken;               /* its loop's source had an error: uses of it
                                say nothing more */
  bool dup_reported;
  sgroups *groups;
  uint32_t index;            /* in the IR */
} sfam;

/* A `for` over a node's output, known at run time. */
typedef struct sfanout {
  const ast_binding *b;
  const senv *env;           /* the bindings around the loop */
  const sbind *bind;         /* its variable (in the arena) */
  pipec_fanout_kind kind;
  uint32_t producer;         /* snode index, once resolved (PIPEC_NONE) */
  const char *port;
  uint32_t first, n;         /* its templates: sema.nodes[first, first+n) */
  ast_loc loc;
} sfanout;

/* A `publish` statement, with the bindings it was declared under. */
typedef struct spub {
  const ast_stmt *st;
  const senv *env;
  uint32_t fanout;           /* PIPEC_NONE, or the run-time loop */
} spub;

/* Interned name -> index, open addressing (names are unique pointers). */
typedef struct name_map {
  const char **keys;
  uint32_t *vals;
  uint32_t cap, n;
} name_map;

/* A publish, checked, until the IR indices are known. */
typedef struct spub_ir {
  pipec_publish p;           /* node: an snode index */
  ast_loc loc;
} spub_ir;

/* Diagnostics already given, so a loop body's mistake is reported once,
 * not once per item (sema.c). */
typedef struct sdedupe {
  uint64_t *keys;            /* malloc'd; 0 is an empty slot */
  uint32_t *counts;
  uint32_t cap, n;
} sdedupe;

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
  VEC(pipec_port_decl) tmp_var;  /* a variadic node's own input ports */
  VEC(pipec_deferred) tmp_defer; /* its deferred params ... */
  VEC(const char *) tmp_defer_names; /* ... by param name until sorted */
  /* language v2 */
  const pipec_fs *fs;
  VEC(snode) decl;           /* nodes as declared (then sema.nodes) */
  VEC(sfam) fams;
  name_map fam_map;          /* family name -> index */
  VEC(sfanout) fanouts;
  VEC(spub) pubs;
  struct {                   /* malloc'd (TMP_PUSH) */
    spub_ir *items;
    uint32_t n, cap;
  } pub_ir;
  name_map skipped;          /* node names declared only in an `if` branch
                                not taken -> 1 + index into skipped_at */
  VEC(ast_loc) skipped_at;
  const char **names_cache;  /* node and family names for suggestions */
  uint32_t n_names_cache;
  const senv *env;           /* bindings of the node being checked */
  uint32_t cur_fanout;       /* its run-time loop, or PIPEC_NONE */
  bool defer_ok;             /* a run-time item may be used (and is
                                recorded in defer_*) */
  bool deferred;             /* the value just made used one */
  const char *defer_text;    /* ... and this is its text with ${VAR} */
  sema_u32s defer_keys;      /* ... or it is keys of these templates */
  bool dedupe_on;            /* inside a loop: drop repeated diagnostics */
  sdedupe seen_msg;          /* (place, message) given */
  sdedupe seen_at;           /* place -> how many messages given there */
  pipec_diag sink;           /* where dropped diagnostics go */
  name_map src_cache;        /* source path -> checked (1 ok, 2 bad) */
  uint32_t n_expanded;       /* nodes declared so far (the limit) */
  bool too_many;
  const char *abs_main_dir;  /* the pipeline directory, real path (lazily) */
  char *name_buf;            /* member_name's buffer (malloc'd) */
  size_t name_cap;
  VEC(pipec_datafile) datafiles;
  name_map datafile_map;
  VEC(pipec_quota) quotas;   /* the quota file's groups (sema_quota.c) */
  VEC(const ast_quota *) quota_asts;  /* parallel to quotas */
} sema;

/* The item type of an untyped list (`list`, and the built-ins' list
 * params): any scalar, as in language v1. Sema only: the IR says
 * PIPEC_T_STRING. */
#define SEMA_ELEM_ANY ((pipec_type)100)

/* More nodes than this (after expansion) is an error, not a hang. */
#define SEMA_MAX_NODES 20000000u

/* Push onto a malloc'd VEC (the tmp_* and sema_u32s ones): free its
 * items when done. */
#define TMP_PUSH(v, x)                                                    \
  do {                                                                    \
    if ((v).n == (v).cap)                                                 \
      sema_tmp_grow((void **)&(v).items, &(v).cap, sizeof *(v).items);    \
    (v).items[(v).n++] = (x);                                             \
  } while (0)
void sema_tmp_grow(void **items, uint32_t *cap, size_t size);

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
uint32_t sema_fam_index(const sema *S, const char *name);

/* sema_value.c */
void sema_params(sema *S);
/* Convert an AST value to a typed value. `what` names the receiving
 * thing in messages ("param 'ratio'"). With tmpl, the string is a command
 * template: braces in interpolated values are doubled so they stay
 * literal. Returns false after reporting an error. */
bool sema_value(sema *S, const ast_value *v, pipec_type want, bool tmpl,
                const char *what, pipec_value *out);
/* The same for a typed list: want PIPEC_T_LIST takes a list of elem
 * items (a list literal, a list param, keys(NAME)). */
bool sema_value_list(sema *S, const ast_value *v, pipec_type want,
                     pipec_type elem, bool tmpl, const char *what,
                     pipec_value *out);
/* The type of a declared param: NAME, or [NAME] (elem). False after
 * reporting an unknown one. */
bool sema_param_type(sema *S, const ast_param *d, pipec_type *type,
                     pipec_type *elem);
/* A string with ${} interpolation done; NULL after an error. */
const char *sema_string(sema *S, const ast_value *v, bool tmpl);
/* Duration (seconds) or size (bytes): an int, or a string with units. */
/* An int value of at least min (else an error naming what). */
bool sema_int_at_least(sema *S, const ast_value *v, const char *what,
                       int64_t min, int64_t *out);
bool sema_duration(sema *S, const ast_value *v, const char *what,
                   int64_t *out);
bool sema_size(sema *S, const ast_value *v, const char *what, int64_t *out);
/* Check the placeholders of template string v against names[0..n) and
 * the built-in {moduledir}. */
void sema_check_template(sema *S, const ast_value *v, const char *const *names,
                         uint32_t n, const char *owner);

/* sema_target.c: an `image = "REF"` setting, its reference checked
 * (imageref.h); false after reporting. */
bool sema_image(sema *S, const ast_value *v, const char *what,
                const char **out);

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

/* sema.c: the node-name suggestions (plain nodes and families) */
const char **sema_node_names(sema *S, uint32_t *n);
/* A component by name (interned), PIPEC_NONE if unknown. */
uint32_t sema_comp_index(const sema *S, const char *name);
enum { FIND_INPUT, FIND_OUTPUT, FIND_PARAM };
/* Index of input, output or param `name` of component sc, or -1. */
int sema_comp_find(sema *S, scomp *sc, int what, const char *name);
/* Resolve `node.port` (or `node` with one output) to an edge. False after
 * reporting. */
bool sema_resolve_output(sema *S, const ast_value *v, const char *what,
                         uint32_t *producer, int *port);

/* sema_input.c */
/* The port an argument is wired to: declared by the component, or (for a
 * variadic component) made by the argument, typed by what it is given. */
typedef struct sema_port {
  const char *name;
  bool declared;
  pipec_port_type type;      /* declared, or found (variadic) */
  bool list;                 /* declared, or found (variadic) */
  bool types_ok;             /* the component's ports are sound: report a
                                type mismatch */
  const char *comp;          /* the component's name, for messages */
} sema_port;
/* Wire the value of argument kv to port w of node n: its entries are
 * appended to S->tmp_inputs. False after reporting. */
bool sema_wire_input(sema *S, snode *n, sema_port *w, const ast_kv *kv);
/* Is v, given to a variadic component, an input (a node output, a family
 * member, a gather, a source file, a run-time dir entry)? */
bool sema_is_input_value(sema *S, const ast_value *v);

/* sema_loop.c */
/* Declare every node of the pipeline body: expand `for`s, decide `if`s,
 * create the families, record the publishes and run-time loops. */
void sema_expand(sema *S);
/* Resolve the producers of run-time loops (after sema_expand). */
void sema_fanouts(sema *S);
/* The binding of loop variable `name` around the node being checked
 * (S->env), or NULL. */
const senv *sema_env_find(const senv *env, const char *name);
/* Is v a family reference (AST_MEMBER, or a bare family name)? Resolve
 * it: the members it names, each an snode index, in order (into out, a
 * malloc'd VEC the caller owns); *gather says whether it is a list
 * (a '*' in it). Reports and returns false on a mistake. Run-time
 * families give templates: *runtime is set and, for a gather, out holds
 * the templates gathered. */
bool sema_members(sema *S, const ast_value *v, const char *what,
                  sema_u32s *out, bool *gather, bool *runtime);
/* keys(NAME) as a value: a [string] list. */
bool sema_keys_value(sema *S, const ast_value *v, const char *what,
                     pipec_value *out);
/* Lower families, run-time loops and publishes (newidx: snode index ->
 * IR node index; tidx: snode index -> template index). */
void sema_lower_loops(sema *S, pipec_pipeline *p, const uint32_t *newidx,
                      const uint32_t *tidx);
void sema_publishes(sema *S);

/* sema_sources.c */
/* A source file or directory named by `path` (relative to the pipeline
 * directory, or absolute) for an input: checked to exist, be of the
 * right kind and inside the project. Returns the IR's path, or NULL after
 * reporting at `at`. */
const char *sema_source(sema *S, const char *path, bool dir, ast_loc at,
                        const char *what);
/* The files matching a glob pattern (relative to the pipeline directory)
 * with one {var}; items (strings: the {var} part) in path order. */
bool sema_glob(sema *S, ast_loc at, const char *pattern, const char *var,
               pipec_value **items, uint32_t *n);
/* A publish path: checked inside the project; the IR's path or NULL. */
const char *sema_publish_path(sema *S, const char *path, ast_loc at);
/* Warn if a string argument names a project file (its content is then not
 * part of the cache key). */
void sema_warn_file_arg(sema *S, const char *arg, const char *value,
                        ast_loc at, bool is_shell);
/* Warn, once per command, if the command template names a project file
 * literally ("python3 train.py ...") that neither `code` nor an input
 * covers: editing it would not re-run the node. c: the component (its
 * code list); command: the command's literal as written. */
void sema_warn_command_files(sema *S, const ast_value *command,
                             const pipec_component *c, bool is_shell);
/* The source span of bytes [from, from+len) of string literal v's text. */
ast_loc sema_str_span(sema *S, const ast_value *v, uint32_t from,
                      uint32_t len);

/* sema_target.c */
void sema_targets(sema *S);
uint32_t sema_target_index(const sema *S, const char *name);
void sema_node_settings(sema *S, snode *n);

/* sema_quota.c */
/* Check and lower the quota file's groups (after sema_targets). */
void sema_quotas(sema *S);
/* The group node n draws from: the one `quota = NAME` (kv, or NULL)
 * names, else its target's default group; checked to fit. */
void sema_node_quota(sema *S, snode *n, const ast_kv *kv);
/* `memory_growth = F` of node n (after its resources and retries). */
void sema_node_growth(sema *S, snode *n, const ast_kv *kv);

#endif
