/*
 * value.h — typed values shared by the IR, the engine and the component ABI.
 *
 * A value is plain data: strings and list items point into memory owned by
 * whoever built the value (the compiler's arena for IR values, the engine for
 * values it hands to a component). Nothing here allocates.
 */
#ifndef PIPEC_VALUE_H
#define PIPEC_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

/* Types a parameter can have. Port types are separate (see pipec_port_type). */
typedef enum pipec_type {
  PIPEC_T_INT,     /* 64-bit signed integer */
  PIPEC_T_FLOAT,   /* double */
  PIPEC_T_BOOL,
  PIPEC_T_STRING,
  PIPEC_T_PATH,    /* a file path, relative to the pipeline's directory; its
                      file content is part of the cache key */
  PIPEC_T_LIST,    /* list of scalar values, all of one type: `[int]`,
                      `[float]`, `[string]` (also written `list`), `[path]`;
                      the item type is the list's `elem` */
} pipec_type;

/* Types a port can have. Wiring ports of different types is an error. */
typedef enum pipec_port_type {
  PIPEC_PORT_TABLE,  /* CSV with a header row */
  PIPEC_PORT_FILE,   /* any bytes */
  PIPEC_PORT_MODEL,
  PIPEC_PORT_JSON,
  PIPEC_PORT_DIR,    /* a directory tree (regular files and directories) */
} pipec_port_type;

typedef struct pipec_value pipec_value;
struct pipec_value {
  pipec_type type;
  union {
    int64_t i;                 /* PIPEC_T_INT */
    double f;                  /* PIPEC_T_FLOAT */
    bool b;                    /* PIPEC_T_BOOL */
    const char *s;             /* PIPEC_T_STRING, PIPEC_T_PATH (NUL-terminated) */
    struct {
      const pipec_value *items;
      uint32_t n;
      pipec_type elem;         /* the items' type (every item has it):
                                  PIPEC_T_STRING for `[string]` and `list`,
                                  PIPEC_T_PATH for `[path]` (each item's
                                  file content is part of the cache key,
                                  as a path param's). Fits in the union's
                                  padding: the struct's size is unchanged */
    } list;                    /* PIPEC_T_LIST */
  } u;
};

/* "int", "float", ... ; "table", "file", ... Never NULL. */
PIPEC_API const char *pipec_type_name(pipec_type t);
PIPEC_API const char *pipec_port_type_name(pipec_port_type t);
/* A type as the language writes it: "int", ... for scalars, "[int]",
 * "[string]" ... for a list of elem (elem is ignored for scalars); "[file]"
 * for a list port. Static strings; never NULL. */
PIPEC_API const char *pipec_type_text(pipec_type t, pipec_type elem);
PIPEC_API const char *pipec_port_type_text(pipec_port_type t, bool list);

/* Parse a type name; return 0 and set *out, or -1 if unknown. */
PIPEC_API int pipec_type_parse(const char *name, pipec_type *out);
PIPEC_API int pipec_port_type_parse(const char *name, pipec_port_type *out);

#endif
