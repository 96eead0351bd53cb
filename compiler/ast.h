/*
 * ast.h — the syntax tree of one .pipe file, as the parser builds it.
 *
 * The AST records what was written and where, nothing more: names are not
 * resolved and values are not typed (that is sema's job). All nodes, arrays
 * and strings live in the compilation's arena; identifiers are interned.
 * A location is a byte span in one source file (see ast_loc).
 */
#ifndef PIPEC_AST_H
#define PIPEC_AST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

typedef struct ast_loc {
  int32_t file;       /* diagnostics source id */
  uint32_t off, len;  /* byte span */
} ast_loc;

typedef struct ast_value ast_value;
typedef struct ast_kv ast_kv;

/* NAME[i, j] or NAME[i, j].member (AST_MEMBER). */
typedef struct ast_member {
  const char *name;             /* the family, interned */
  ast_loc name_loc;
  ast_value **index;            /* values or AST_STAR, as written */
  uint32_t n_index;
  ast_loc index_loc;            /* the brackets */
  const char *member;           /* interned port after '.', or NULL */
  ast_loc member_loc;
} ast_member;

typedef enum ast_value_kind {
  AST_INT,
  AST_FLOAT,
  AST_BOOL,
  AST_STRING,  /* decoded text; may contain ${name} to interpolate */
  AST_REF,     /* name or name.member */
  AST_LIST,    /* [a, b, c] */
  AST_MAP,     /* { KEY = value, ... } */
  AST_MEMBER,  /* NAME[i, j] or NAME[i, j].member: family members */
  AST_STAR,    /* `*` in an index: every member along that position */
  AST_CALL,    /* fn(args): file, dir, glob, range, lines, keys */
  AST_OP,      /* a condition: a == b, a < b, !a, a && b, (a) */
} ast_value_kind;

/* Operators of conditions (AST_OP). */
typedef enum ast_op {
  AST_OP_EQ, AST_OP_NE, AST_OP_LT, AST_OP_LE, AST_OP_GT, AST_OP_GE,
  AST_OP_AND, AST_OP_OR, AST_OP_NOT,
} ast_op;

struct ast_value {
  ast_value_kind kind;
  ast_loc loc;                  /* the whole literal, quotes included */
  union {
    int64_t i;
    double f;
    bool b;
    struct {
      const char *text;         /* decoded (escapes applied), NUL-terminated */
      uint32_t len;
    } s;
    struct {
      const char *name;         /* interned */
      const char *member;       /* interned, or NULL for a bare name */
      ast_loc name_loc, member_loc;
    } ref;
    struct {
      ast_value **items;
      uint32_t n;
    } list;
    struct {
      ast_kv *items;
      uint32_t n;
    } map;
    struct ast_member *fam;     /* (its own block: the union stays small) */
    struct {
      const char *fn;           /* interned */
      ast_loc fn_loc;
      ast_value **args;
      uint32_t n;
    } call;
    struct {
      ast_op op;
      ast_value *l, *r;         /* r is NULL for AST_OP_NOT */
    } op;
  } u;
};

/* `key = value`: arguments, block settings, map entries. */
struct ast_kv {
  const char *key;              /* interned */
  ast_loc key_loc;
  ast_value *value;
};

typedef struct ast_kvs {
  ast_kv *items;
  uint32_t n, cap;
} ast_kvs;

typedef struct ast_param {
  const char *name;             /* interned */
  ast_loc loc;                  /* the name */
  const char *type;             /* interned type name as written (the item
                                   type of a list type) */
  ast_loc type_loc;
  ast_value *def;               /* default, or NULL */
  bool list;                    /* written [TYPE] */
} ast_param;

typedef struct ast_port {
  const char *name;
  ast_loc loc;
  const char *type;             /* the item type of a list type */
  ast_loc type_loc;
  bool list;                    /* written [TYPE] */
  const char *filename;         /* `bam: file "aligned.bam"`, or NULL */
  ast_loc filename_loc;
} ast_port;

typedef struct ast_component {
  const char *name;
  ast_loc loc;                  /* the name */
  VEC(ast_port) inputs;
  VEC(ast_port) outputs;
  VEC(ast_param) params;
  ast_kvs settings;             /* command, code, env, ... as written */
  bool in_pipeline;             /* declared inside a pipeline block */
} ast_component;

typedef struct ast_target {
  const char *name;
  ast_loc loc;
  const char *kind;             /* local | ssh | slurm, as written */
  ast_loc kind_loc;
  ast_kvs settings;
} ast_target;

typedef struct ast_node {
  /* fields ordered to pack: a pipeline may declare a million nodes */
  const char *name;
  ast_loc loc;                  /* the name */
  uint32_t n_index;
  ast_value **index;            /* NAME[v1, v2]: AST_REF loop variables */
  const char *component;        /* interned, dotted: "table.read_csv" */
  ast_loc component_loc;
  ast_loc args_loc;             /* the parenthesised argument list */
  ast_kvs args;                 /* (name = value, ...) */
  const char *target;           /* `on NAME`, or NULL */
  ast_loc target_loc;
  ast_loc resources_loc;
  ast_kvs resources;            /* resources { ... } */
  ast_kvs settings;             /* retries, timeout, cache, ... */
  bool has_resources;
  bool has_index;               /* written with brackets */
} ast_node;

/* Statements: what a pipeline block, a `for` body or an `if` branch
 * declares. */
typedef struct ast_stmt ast_stmt;
typedef struct ast_stmts {
  ast_stmt **items;
  uint32_t n, cap;
} ast_stmts;

typedef enum ast_stmt_kind {
  AST_S_NODE,
  AST_S_FOR,
  AST_S_IF,
  AST_S_PUBLISH,
} ast_stmt_kind;

/* `VAR in SOURCE`, one of the bindings of a `for`. */
typedef struct ast_binding {
  const char *var;              /* interned */
  ast_loc var_loc;
  ast_value *source;
} ast_binding;

struct ast_stmt {
  ast_stmt_kind kind;
  ast_loc loc;                  /* the keyword (for, if, publish) or, for a
                                   node, its name */
  ast_stmt *next;               /* parser only: a statement that came with
                                   this one (a node, then a `for` block) */
  union {
    ast_node node;
    struct {
      ast_binding *vars;        /* for a in A, b in B: the cross product */
      uint32_t n_vars;
      ast_stmts body;
      bool one_line;            /* node N[v] = ... for v in S */
    } loop;
    struct {
      ast_value *cond;
      ast_stmts then, els;
    } cond;
    struct {
      ast_value *what;          /* AST_REF node.port or AST_MEMBER */
      ast_value *path;          /* the path string */
    } pub;
  } u;
};

typedef struct ast_pipeline {
  const char *name;
  ast_loc loc;
  VEC(ast_param) params;
  VEC(ast_target) targets;
  VEC(ast_component *) components;
  ast_stmts body;               /* nodes, fors, ifs, publishes in order */
  uint32_t n_node_decls;        /* node statements anywhere in body */
} ast_pipeline;

typedef struct ast_import {
  const char *path;             /* decoded string */
  ast_loc loc;                  /* the string literal */
} ast_import;

/* `quota NAME on TARGET [default] { KEY = value, ... }`: a quota group,
 * in the workspace's quota file only. */
typedef struct ast_quota {
  const char *name;             /* interned */
  ast_loc loc;                  /* the name */
  const char *target;           /* interned, as written after `on` */
  ast_loc target_loc;
  bool is_default;
  ast_kvs settings;
} ast_quota;

/* One parsed file. Top level holds imports, components and pipelines;
 * a quota file (parse_quota_file) holds quota groups only. */
typedef struct ast_file {
  const char *path;
  int32_t src;                  /* diagnostics source id */
  VEC(ast_import) imports;
  VEC(ast_import) plugins;          /* plugin "libx.so" */
  VEC(ast_component *) components;   /* top-level ones */
  VEC(ast_pipeline *) pipelines;
  VEC(ast_quota) quotas;             /* a quota file's groups */
} ast_file;

/* Map a byte index into a string literal's decoded text to the byte offset
 * of that character in the source, by re-reading the literal's escapes.
 * `src` is the source text the literal at `lit` came from. */
uint32_t ast_string_src_offset(const char *src, ast_loc lit, uint32_t index);

#endif
