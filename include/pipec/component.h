/*
 * component.h — the component ABI.
 *
 * A component is described by a pipec_component_desc: its name, version,
 * typed ports and typed params, and a run function. Built-in components in
 * stdlib-components/ use this header and nothing else of pipec; a plugin is a
 * shared library exporting `pipec_components` (see PIPEC_PLUGIN_SYMBOL).
 *
 * Compatibility: a descriptor starts with abi_version and struct_size, so a
 * plugin built against an older header keeps loading; pipec reads only the
 * fields that struct_size covers. New fields are only ever appended, to
 * descriptors and to the run context alike; a field that goes stays as a
 * reserved slot, so no later field takes its place.
 *
 * Ownership: every pointer in a descriptor refers to static data of the
 * component's library; pipec never frees it. Every pointer in a run context
 * is owned by pipec and valid for the duration of the run call.
 */
#ifndef PIPEC_COMPONENT_H
#define PIPEC_COMPONENT_H

#include <string.h>

#include "value.h"

#define PIPEC_ABI_VERSION 1
#define PIPEC_PLUGIN_SYMBOL "pipec_components"

typedef struct pipec_port_desc {
  const char *name;
  pipec_port_type type;
  const char *doc;
} pipec_port_desc;

typedef struct pipec_param_desc {
  const char *name;
  pipec_type type;
  /* Default in the language's literal syntax ("0.8", "\"inner\"", "[]",
   * "true"); NULL means the param is required. */
  const char *default_literal;
  const char *doc;
} pipec_param_desc;

/* Flags of a component. */
enum {
  /* Any argument wired to a node output becomes an extra input port of that
   * name (accepting any port type); used by `shell`. */
  PIPEC_COMP_VARIADIC_INPUTS = 1u << 0,
  /* A `string` param named "command" is a command template: {name}
   * placeholders must name a port or param. Used by `shell`. */
  PIPEC_COMP_COMMAND_TEMPLATE = 1u << 1,
};

typedef struct pipec_named_path {
  const char *name;
  const char *path;
} pipec_named_path;

typedef struct pipec_named_value {
  const char *name;
  pipec_value value;
} pipec_named_value;

typedef struct pipec_run_ctx pipec_run_ctx;
struct pipec_run_ctx {
  const pipec_named_path *inputs;   /* read-only files */
  uint32_t n_inputs;
  const pipec_named_path *outputs;  /* to be written by the component */
  uint32_t n_outputs;
  const pipec_named_value *params;  /* every declared param, defaults filled */
  uint32_t n_params;
  const char *workdir;              /* the pipeline file's directory */
  /* printf-like logger into the node's log. */
  void (*log)(const pipec_run_ctx *ctx, const char *fmt, ...);
  /* Non-zero once the run is being cancelled; long loops poll it. */
  const volatile int *cancelled;
  void *reserved;                   /* always NULL (ABI 1 had a private
                                       pointer here) */
};

/* Run the component. Return 0 on success; otherwise write a one-line message
 * (NUL-terminated, at most errlen bytes) into err and return non-zero. */
typedef int (*pipec_run_fn)(const pipec_run_ctx *ctx, char *err, size_t errlen);

/* Optional compile-time check of one param's value (e.g. an expression
 * string). Return 0 if fine; otherwise write a message into err, set *offset
 * to the byte offset inside a string value where the problem is (or -1), and
 * return non-zero. */
typedef int (*pipec_check_fn)(const char *param, const pipec_value *value,
                              char *err, size_t errlen, long *offset);

typedef struct pipec_component_desc {
  uint32_t abi_version;  /* PIPEC_ABI_VERSION the component was built with */
  uint32_t struct_size;  /* sizeof(pipec_component_desc) when built */
  const char *name;      /* dotted, e.g. "table.read_csv" */
  const char *version;   /* part of the cache key: bump when output changes */
  const char *doc;
  const pipec_port_desc *inputs;
  uint32_t n_inputs;
  const pipec_port_desc *outputs;
  uint32_t n_outputs;
  const pipec_param_desc *params;
  uint32_t n_params;
  uint32_t flags;        /* PIPEC_COMP_* */
  pipec_check_fn check;  /* may be NULL */
  pipec_run_fn run;      /* NULL for components the engine runs itself
                            (a command template, like `shell`) */
} pipec_component_desc;

/* What a plugin exports under PIPEC_PLUGIN_SYMBOL. */
typedef struct pipec_component_list {
  uint32_t abi_version;
  uint32_t n;
  const pipec_component_desc *const *items;
} pipec_component_list;

/* Look up a param / input / output of a run context by name; NULL if
 * absent. Inline, so a plugin needs no symbol from pipec. */
static inline const pipec_value *pipec_ctx_param(const pipec_run_ctx *ctx,
                                                 const char *name) {
  for (uint32_t i = 0; i < ctx->n_params; i++)
    if (strcmp(ctx->params[i].name, name) == 0)
      return &ctx->params[i].value;
  return NULL;
}

/* The path named `name` in paths[0..n) (the first one, if several have
 * that name), or NULL: what pipec_ctx_input and pipec_ctx_output look
 * through, for any array of named paths. */
static inline const char *pipec_named_path_find(const pipec_named_path *paths,
                                                uint32_t n, const char *name) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(paths[i].name, name) == 0)
      return paths[i].path;
  return NULL;
}

static inline const char *pipec_ctx_input(const pipec_run_ctx *ctx,
                                          const char *name) {
  return pipec_named_path_find(ctx->inputs, ctx->n_inputs, name);
}

static inline const char *pipec_ctx_output(const pipec_run_ctx *ctx,
                                           const char *name) {
  return pipec_named_path_find(ctx->outputs, ctx->n_outputs, name);
}

#endif
