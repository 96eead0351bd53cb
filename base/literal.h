/*
 * literal.h — values written as text outside a .pipe file: the defaults of
 * built-in components ("0.8", "\"inner\"", "[\"a\", 1]"), `-p NAME=VALUE`
 * overrides and `pipec exec --param NAME=VALUE`. Also the canonical text of
 * a value, used by ${} interpolation and command templates.
 */
#ifndef PIPEC_LITERAL_H
#define PIPEC_LITERAL_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "pipec/value.h"

/* Parse `text` as a value of type `type`. With quoted_strings, a string or
 * path is written as a "..." literal (component defaults); without, the
 * text is the string itself (command-line values). Lists are always
 * `[item, ...]` with quoted string items, or, without quoted_strings, also
 * a bare comma-separated list ("a,b,c"). Returns 0, or -1 with a message
 * ("expected a float, found 'x'") in err. */
int literal_parse(arena *a, const char *text, pipec_type type,
                  bool quoted_strings, pipec_value *out, char *err,
                  size_t errlen);

/* The same for a list of elem items: each item must be an elem (an int
 * is taken for a float, a string for a path); a bare comma-separated item
 * from the command line is read as an elem ("1,2,3" for [int]). */
int literal_parse_list(arena *a, const char *text, pipec_type elem,
                       bool quoted_strings, pipec_value *out, char *err,
                       size_t errlen);

/* Canonical text: ints in decimal, floats in the shortest form that reads
 * back exactly, bools true/false, strings as they are, lists as items
 * joined by ','. Allocated in a. */
const char *literal_text(arena *a, const pipec_value *v);

/* The language literal of v ("x" quoted, lists in brackets), which
 * literal_parse(quoted_strings = true) reads back. Allocated in a. */
const char *literal_source(arena *a, const pipec_value *v);

/* Shortest "%.*g" text of d that strtod reads back exactly; buf >= 32. */
void literal_double(double d, char *buf, size_t len);

#endif
