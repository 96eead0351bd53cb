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

typedef enum ast_value_kind {
  AST_INT,
  AST_FLOAT,
  AST_BOOL,
  AST_STRING,  /* decoded text; may contain ${name} to interpolate */
  AST_REF,     /* name or name.member */
  AST_LIST,    /* [a, b, c] */
  AST_MAP,     /* { KEY = value, ... } */
} ast_value_kind;

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
  const char *type;             /* interned type name as written */
  ast_loc type_loc;
  ast_value *def;               /* default, or NULL */
} ast_param;

typedef struct ast_port {
  const char *name;
  ast_loc loc;
  const char *type;
  ast_loc type_loc;
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
  const char *name;
  ast_loc loc;                  /* the name */
  const char *component;        /* interned, dotted: "table.read_csv" */
  ast_loc component_loc;
  ast_kvs args;                 /* (name = value, ...) */
  ast_loc args_loc;             /* the parenthesised argument list */
  const char *target;           /* `on NAME`, or NULL */
  ast_loc target_loc;
  ast_kvs resources;            /* resources { ... } */
  bool has_resources;
  ast_loc resources_loc;
  ast_kvs settings;             /* retries, timeout, cache, ... */
} ast_node;

typedef struct ast_pipeline {
  const char *name;
  ast_loc loc;
  VEC(ast_param) params;
  VEC(ast_target) targets;
  VEC(ast_component *) components;
  VEC(ast_node) nodes;
} ast_pipeline;

typedef struct ast_import {
  const char *path;             /* decoded string */
  ast_loc loc;                  /* the string literal */
} ast_import;

/* One parsed file. Top level holds imports, components and pipelines. */
typedef struct ast_file {
  const char *path;
  int32_t src;                  /* diagnostics source id */
  VEC(ast_import) imports;
  VEC(ast_import) plugins;          /* plugin "libx.so" */
  VEC(ast_component *) components;   /* top-level ones */
  VEC(ast_pipeline *) pipelines;
} ast_file;

/* Map a byte index into a string literal's decoded text to the byte offset
 * of that character in the source, by re-reading the literal's escapes.
 * `src` is the source text the literal at `lit` came from. */
uint32_t ast_string_src_offset(const char *src, ast_loc lit, uint32_t index);

#endif
