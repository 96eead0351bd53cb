/*
 * parse.h — parse one .pipe file into an AST (flex scanner + bison parser).
 *
 * Syntax errors are reported into the diagnostics list and parsing goes on
 * (error recovery), so one call reports every syntax error it can. The
 * returned file is never NULL; it holds whatever could be parsed.
 */
#ifndef PIPEC_PARSE_H
#define PIPEC_PARSE_H

#include <stddef.h>

#include "arena.h"
#include "ast.h"
#include "pipec/diag.h"

/* `src` is the id pipec_diags_add_source() gave `text`. text[len] and
 * text[len + 1] must be NUL: the scanner reads the text in place, without
 * a copy (it writes into it while parsing, and restores it before
 * returning). */
ast_file *parse_file(arena *a, pipec_diags *d, int32_t src, const char *path,
                     char *text, size_t len);

/* The same for the workspace's quota file: `quota NAME on TARGET
 * [default] { ... }` declarations only (file->quotas). */
ast_file *parse_quota_file(arena *a, pipec_diags *d, int32_t src,
                           const char *path, char *text, size_t len);

#endif
