/*
 * ir.h — the compiled pipeline: plain data the engine reads.
 *
 * The compiler (compiler/) turns .pipe source into one pipec_pipeline. The IR
 * does not depend on the AST: every name is resolved, every parameter typed
 * and filled in (defaults applied, ${} interpolation done), every input is an
 * edge to a producer node, and nodes are in topological order (a node's
 * producers always come before it).
 *
 * Ownership: everything reachable from a pipec_pipeline that
 * pipec_compile (or pipec_load) returned is owned by the pipeline and
 * freed by pipec_pipeline_free(); a pipeline built by hand belongs to
 * whoever built it and must not be passed there. Indices (uint32_t) refer
 * into the arrays of the same pipeline.
 *
 * Language v2 (fan-out, lists, source files, publish; docs/language.md):
 * a `for` is expanded here, so every member of a family is an ordinary
 * node named NAME[KEY] (`aligned[A]`, `model[1,0.1]`), and the family
 * (pipec_family) lists its members so they can be handled as a group. A
 * `for` over a run-time SOURCE (a node's output: pipec_fanout) cannot be
 * expanded yet: its body stays as template nodes (pipeline->templates)
 * that the engine instantiates once per item when the producer's output
 * exists. `if` leaves no trace but the nodes it chose.
 */
#ifndef PIPEC_IR_H
#define PIPEC_IR_H

#include "component.h"
#include "export.h"
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
  pipec_type elem;             /* PIPEC_T_LIST: the item type (`[int]` ->
                                  PIPEC_T_INT; `list` and the built-ins'
                                  list params -> PIPEC_T_STRING) */
} pipec_param_decl;

typedef struct pipec_port_decl {
  const char *name;
  pipec_port_type type;
  bool list;                   /* `[file]`, `[table]` ...: the port takes
                                  (an input) a list of artifacts, each
                                  one pipec_input with its `index`; an
                                  empty list has no pipec_input at all */
  const char *filename;        /* outputs: the file name the command
                                  writes (`bam: file "aligned.bam"` ->
                                  "aligned.bam", so {bam} ends in it), or
                                  NULL (the engine picks one) */
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
  const char *moduledir;       /* the declaring file's directory, relative
                                  to the pipeline directory ("." for the
                                  main file and built-ins): the value of
                                  the built-in placeholder {moduledir},
                                  shell-quoted like every placeholder */
  const char *image;           /* `image = "REF"`: the container image its
                                  command runs in (docs/containers.md), as
                                  written and checked; NULL: none */
  bool network;                /* `network = true`: its container may use
                                  the network (off by default) */
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

/* What an input is wired to. */
typedef enum pipec_input_kind {
  PIPEC_IN_NODE,               /* output producer_port of node `producer` */
  PIPEC_IN_SOURCE,             /* a source file or directory of the
                                  project (`file("p")`, `dir("p")`, a path
                                  param): `source` */
  PIPEC_IN_ITEM,               /* templates only: the item of the
                                  template's run-time loop (an entry of a
                                  dir port: a file) */
  PIPEC_IN_TEMPLATE,           /* templates only: output producer_port of
                                  template `ref`, instantiated for the
                                  same item */
  PIPEC_IN_GATHER,             /* output producer_port of every member
                                  template `ref` expands to, in item
                                  order: a list, its members known at run
                                  time only. One entry holds the place
                                  (`index`) of all of them in a list port */
} pipec_input_kind;

typedef struct pipec_input {
  const char *port;            /* the consuming port */
  pipec_port_type type;
  uint32_t producer;           /* PIPEC_IN_NODE: node index; otherwise
                                  PIPEC_NONE */
  const char *producer_port;   /* NODE, TEMPLATE, GATHER: the port read */
  uint32_t index;              /* position in a list port, 0, 1, ... in
                                  the order written (a gather adds its
                                  members in SOURCE order); 0 for a plain
                                  port. Inputs are sorted by (port, index) */
  pipec_input_kind kind;
  union {                      /* by kind (one word: a million nodes) */
    const char *source;        /* PIPEC_IN_SOURCE: the path, relative to
                                  the pipeline directory, normalized,
                                  checked at compile time to exist (a
                                  regular file for a file-like port, a
                                  directory for a dir port) inside the
                                  project by real path */
    uint32_t ref;              /* PIPEC_IN_TEMPLATE, PIPEC_IN_GATHER: a
                                  template index */
  };
} pipec_input;

/* A param value known only at run time: in a template, it uses the
 * run-time item; anywhere, it may list the keys of a run-time family. */
typedef enum pipec_deferred_kind {
  PIPEC_DEFER_ITEM,            /* `text` with the loop variable's ${VAR}
                                  replaced by the item's text (a dir
                                  entry's name, a line, a json item) and
                                  $${ by ${, then read as the param's type
                                  (in a command template the item must be
                                  a plain word, as for ${} at compile
                                  time) */
  PIPEC_DEFER_KEYS,            /* the keys of the members template `ref`
                                  expands to; several entries for one
                                  param are concatenated in order */
} pipec_deferred_kind;

typedef struct pipec_deferred {
  uint32_t param;              /* index into the node's params (whose
                                  value holds the type, not the content) */
  pipec_deferred_kind kind;
  const char *text;            /* PIPEC_DEFER_ITEM */
  uint32_t ref;                /* PIPEC_DEFER_KEYS: a template index */
} pipec_deferred;

typedef struct pipec_node {
  const char *name;
  uint32_t component;          /* index into pipeline->components */
  uint32_t family;             /* index into families, or PIPEC_NONE */
  pipec_param *params;         /* every declared param, sorted by name */
  uint32_t n_params;
  uint32_t n_var_inputs;       /* (var_inputs, below) */
  pipec_input *inputs;         /* sorted by (port, index) */
  uint32_t n_inputs;
  uint32_t target;             /* index into pipeline->targets */
  pipec_resources resources;
  int32_t retries;             /* extra attempts after a failure; default 0 */
  uint32_t n_deferred;         /* (deferred, below) */
  int64_t timeout_s;           /* 0 = none */
  bool cache;                  /* default true */
  float memory_growth;         /* after an attempt killed for memory, the
                                  next asks for this times its memory
                                  (`memory_growth = 2.0`), up to the
                                  target's and its quota group's memory;
                                  0: it asks for the same */
  uint32_t quota;              /* the quota group it draws from: an index
                                  into pipeline->quotas, or PIPEC_NONE
                                  (as is any index >= n_quotas) */
  pipec_srcloc loc;
  const char *key;             /* a family member's key: its items' text
                                  joined by ',' ("A", "1,0.1"; the name is
                                  NAME[KEY]); templates have '*' where the
                                  run-time item goes ("*", "A,*"). NULL
                                  for a node outside any family */
  pipec_port_decl *var_inputs; /* variadic components (shell): the input
                                  ports this node's arguments declare,
                                  with their type and list flag, sorted
                                  by name (so an empty list is known) */
  pipec_deferred *deferred;    /* params known only at run time */
  const char *image;           /* the image the node runs in: its own
                                  `image`, else its component's; NULL:
                                  none (the command runs on the host) */
  bool network;                /* its container may use the network: its
                                  own `network`, else its component's */
} pipec_node;

/* The nodes one `node NAME[V1, V2] = ...` line declares inside `for`s. */
typedef struct pipec_family {
  const char *name;            /* "aligned" */
  const char *const *vars;     /* the index variables, as written in
                                  NAME[V1, V2] */
  uint32_t n_vars;
  uint32_t *members;           /* node indices, in SOURCE order (a list's
                                  own order; glob matches sorted by path;
                                  nested and cross loops: outer first) */
  const char *const *keys;     /* parallel to members: "A", "1,0.1" */
  const char *const *parts;    /* n_members * n_vars, row-major: each
                                  member's item text per variable */
  uint32_t n_members;
  uint32_t component;          /* index into components */
  bool runtime;                /* declared inside a `for` over a run-time
                                  SOURCE: no members yet, see templates */
  uint32_t *templates;         /* runtime: the template indices, one per
                                  combination of the compile-time loops
                                  around it, in SOURCE order */
  uint32_t n_templates;
  pipec_srcloc loc;
} pipec_family;

/* A `for VAR in SOURCE` whose SOURCE is known only at run time. */
typedef enum pipec_fanout_kind {
  PIPEC_FANOUT_DIR,            /* a dir port: one `file` item per entry,
                                  keyed by its name, sorted by name */
  PIPEC_FANOUT_JSON,           /* a json port holding a list: one item per
                                  element (a string, an int or a float),
                                  keyed by its text */
  PIPEC_FANOUT_LINES,          /* lines(NODE.PORT): one string item per
                                  line, keyed by the line */
} pipec_fanout_kind;

typedef struct pipec_fanout {
  pipec_fanout_kind kind;
  uint32_t producer;           /* node index of the output iterated over */
  const char *port;            /* its output port */
  const char *var;             /* the loop variable */
  uint32_t first_template;     /* templates[first_template ..
                                  first_template + n_templates) are
                                  instantiated once per item, in this
                                  order (a template reads only earlier
                                  ones) */
  uint32_t n_templates;
  pipec_srcloc loc;
} pipec_fanout;

/* `publish NODE.PORT = "path"`: after a run the output is at path. */
typedef struct pipec_publish {
  uint32_t node;               /* node index; a template index when
                                  fanout is set */
  const char *port;            /* an output port of its component */
  const char *path;            /* relative to the pipeline directory,
                                  normalized, inside the project (real
                                  path checked at compile time), unique
                                  among the publishes; a template's may
                                  hold ${VAR} of its loop variable */
  uint32_t fanout;             /* PIPEC_NONE, or the run-time loop whose
                                  items instantiate this publish */
  pipec_srcloc loc;
} pipec_publish;

/* A quota group (docs/targets.md): a share of a target that every run
 * of the workspace draws from together, declared in the workspace's quota
 * file as `quota NAME on TARGET [default] { cpus = N, memory = "S",
 * gpus = N, jobs = N }`. A target is known by its name: every pipeline's
 * target of that name draws from it. */
typedef struct pipec_quota {
  const char *name;
  const char *target_name;     /* as written after `on` */
  uint32_t target;             /* index into pipeline->targets, or
                                  PIPEC_NONE: this pipeline has no target
                                  of that name */
  int64_t cpus, memory, gpus, jobs;  /* at most this much at once in the
                                  whole workspace (memory in bytes);
                                  -1: not limited */
  bool is_default;             /* the target's nodes that name no group
                                  draw from it */
  pipec_srcloc loc;
} pipec_quota;

/* A source file or directory some input reads (PIPEC_IN_SOURCE), once. */
typedef struct pipec_datafile {
  const char *path;            /* as in pipec_input.source */
  bool dir;                    /* a directory tree (dir("p")) */
} pipec_datafile;

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
  pipec_node *nodes;           uint32_t n_nodes;     /* topological order; a
                                  node gathering a run-time family comes
                                  after the family's producers and after
                                  every node its templates read */
  pipec_family *families;      uint32_t n_families;  /* declaration order */
  pipec_publish *publishes;    uint32_t n_publishes; /* declaration order */
  pipec_fanout *fanouts;       uint32_t n_fanouts;
  pipec_node *templates;       uint32_t n_templates; /* run-time loop
                                  bodies: nodes whose inputs may be
                                  PIPEC_IN_ITEM / _TEMPLATE and whose
                                  params may be deferred; named NAME[KEY]
                                  with '*' for the item */
  pipec_datafile *datafiles;   uint32_t n_datafiles; /* sorted by path */
  pipec_quota *quotas;         uint32_t n_quotas;    /* every group of the
                                  workspace's quota file, in the order
                                  declared */
  /* What the compile read, as one hash (engine/loadid.h): pipec_load
   * fills it in, the compiler leaves it zero (unknown). Two pipelines with
   * the same non-zero id are the same pipeline; a caller that changes one
   * after loading it zeroes it. */
  uint8_t load_id[16];
  const uint32_t *name_index;  /* private: node name hash table (cap
                                  slots, node index + 1, 0 empty) */
  uint32_t name_index_cap;
} pipec_pipeline;

PIPEC_API void pipec_pipeline_free(pipec_pipeline *p);

/* Build a name index for p's nodes (p->name_index, so pipec_pipeline_node
 * is O(1)), for a pipeline the caller put together (the engine's run-time
 * fan-out makes expanded ones). Returns the index's memory, the caller's
 * to free() once p is no longer used; NULL if out of memory (lookups are
 * then linear). */
PIPEC_API uint32_t *pipec_pipeline_index(pipec_pipeline *p);

/* Lookups by name; PIPEC_NONE if absent. pipec_pipeline_node is O(1) in a
 * compiled pipeline (a hash index built once), linear in one built by
 * hand; the others are linear in the number of items. A family member is
 * found by its full name: "aligned[A]". */
PIPEC_API uint32_t pipec_pipeline_node(const pipec_pipeline *p,
                                       const char *name);
PIPEC_API uint32_t pipec_pipeline_family(const pipec_pipeline *p,
                                         const char *name);
PIPEC_API const pipec_param *pipec_node_param(const pipec_node *n,
                                              const char *name);
PIPEC_API const pipec_opt *pipec_target_opt(const pipec_target *t,
                                            const char *key);

#endif
