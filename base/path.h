/*
 * path.h — lexical path arithmetic for source and code files.
 */
#ifndef PIPEC_PATH_H
#define PIPEC_PATH_H

#include <stdbool.h>

#include "arena.h"

/* Drop "." and empty components, resolve "x/.." pairs; leading ".." of a
 * relative path stay. Interned in a. */
const char *path_normalize(arena *a, const char *path);
/* The directory part: "a/b.pipe" -> "a", "b.pipe" -> ".". */
const char *path_dir(arena *a, const char *path);
/* rel relative to dir (rel as is if absolute), normalised. */
const char *path_join(arena *a, const char *dir, const char *rel);
/* path (normalised) relative to dir (normalised), e.g. dir "a/b", path
 * "a/c/x" -> "../c/x". Both relative or both absolute. */
const char *path_relative(arena *a, const char *dir, const char *path);

/* Is path (absolute, or relative to the current directory) inside the
 * directory root (absolute, no trailing slash)? Lexical, after making path
 * absolute. */
bool path_inside(arena *a, const char *root, const char *path);

#endif
