/*
 * target_kind.h — what a kind of compute target accepts: its name and the
 * schema of the options a `target NAME = KIND { ... }` block may set.
 *
 * The engine keeps one table of kinds (engine/targets/kinds.c: one file per
 * kind plus one entry there). The compiler knows none of them by itself: it
 * gets their schemas through pipec_compile_opts.target_kinds, the way it
 * gets the component registry, checks every target block against them and
 * names the kind in the IR by its name (pipec_target.kind).
 *
 * Everything here is static data owned by whoever made the table; the
 * compiler only reads it while it compiles.
 */
#ifndef PIPEC_TARGET_KIND_H
#define PIPEC_TARGET_KIND_H

#include <stdbool.h>
#include <stdint.h>

#include "export.h"
#include "value.h"

/* How an option's value is written, checked and stored in the IR. */
typedef enum pipec_opt_type {
  PIPEC_OPT_INT,           /* an int >= min */
  PIPEC_OPT_BOOL,
  PIPEC_OPT_STRING,
  PIPEC_OPT_SIZE,          /* "8G" or a number of bytes; stored as an int:
                              bytes */
  PIPEC_OPT_DURATION,      /* "30s", "2h" or seconds; stored as an int:
                              seconds */
  PIPEC_OPT_DURATION_TEXT, /* a duration, stored as written (a string, or
                              an int of seconds): passed on to a scheduler */
  PIPEC_OPT_GPUS,          /* a count (an int), or a list of device ids */
  PIPEC_OPT_STRINGS,       /* a string, or a list of strings */
} pipec_opt_type;

typedef struct pipec_opt_spec {
  const char *name;
  pipec_opt_type type;
  bool required;           /* a block without it is an error */
  int64_t min;             /* PIPEC_OPT_INT: the least value allowed */
  bool has_default;        /* def is the value when the block omits it */
  pipec_value def;         /* canonical, as stored (bytes, seconds) */
  const char *const *choices; /* PIPEC_OPT_STRING: the values allowed,
                              NULL-terminated; NULL: any string */
} pipec_opt_spec;

typedef struct pipec_target_kind {
  const char *name;        /* "ssh": `target box = ssh { ... }` */
  const char *article;     /* for messages: "an" (an ssh target); NULL: "a" */
  const pipec_opt_spec *opts; /* in the order messages list them */
  uint32_t n_opts;
} pipec_target_kind;

/* The kinds a compilation knows. */
typedef struct pipec_target_kinds {
  const pipec_target_kind *const *items;
  uint32_t n;
} pipec_target_kinds;

/* The spec of option `key` of kind k, or NULL. */
PIPEC_API const pipec_opt_spec *pipec_target_kind_opt(const pipec_target_kind *k,
                                                      const char *key);

#endif
