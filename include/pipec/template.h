/*
 * template.h — command templates: "python3 f.py {raw} {features} --min {n}".
 *
 * `{NAME}` (NAME an identifier) is a placeholder; `{{` and `}}` are literal
 * braces; any other brace is literal too (so awk's `{ print $1 }` needs no
 * escaping). The compiler checks placeholders; the engine expands them,
 * quoting every value for the POSIX shell so that no value can inject shell
 * syntax, or builds an argv directly when the command needs no shell.
 */
#ifndef PIPEC_TEMPLATE_H
#define PIPEC_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

/* Called for each placeholder: its name (not NUL-terminated) and the byte
 * offset of the name inside the template. Return non-zero to stop. */
typedef int (*pipec_tpl_ref_fn)(void *ctx, const char *name, size_t len,
                                size_t off);

/* Visit every placeholder in order; returns what the callback returned to
 * stop, or 0. */
PIPEC_API int pipec_template_refs(const char *tpl, pipec_tpl_ref_fn fn,
                                  void *ctx);

/* Value of a placeholder, or NULL if unknown (expansion then fails). */
typedef const char *(*pipec_tpl_lookup_fn)(void *ctx, const char *name,
                                           size_t len);

/* The command line for `sh -c`: literal text as written, each placeholder
 * replaced by its value quoted for the place it lands in, so that the shell
 * reads the value back verbatim: bare ('...' unless a plain word), inside
 * '...' (a ' becomes '\''), inside "..." (\ " $ ` escaped), inside $(...)
 * and `...` (nested, each level of backquotes escaping once more), in an
 * unquoted here-document body (\ $ ` escaped), in a quoted one (as is), in
 * a # comment (line breaks become spaces). malloc'd; NULL if a placeholder
 * is unknown, or cannot be placed safely: right after an unquoted '\' or
 * '$' ("\{x}", "${x}"), or a value with a line break in a here-document
 * body. The placeholder's name is then copied into bad, if given. */
PIPEC_API char *pipec_template_expand(const char *tpl,
                                      pipec_tpl_lookup_fn lookup, void *ctx,
                                      char *bad, size_t badlen);

/* A placeholder that stands for a list (the paths of a list port, in
 * order): return non-zero and its items in *values (*n of them, borrowed),
 * or 0 if name is no list (the scalar lookup answers then). */
typedef int (*pipec_tpl_list_fn)(void *ctx, const char *name, size_t len,
                                 const char *const **values, uint32_t *n);

/* pipec_template_expand with lists: a list placeholder standing bare
 * becomes one quoted word per item (none for an empty list); inside
 * quotes, a comment or a here-document, its items joined by blanks. */
PIPEC_API char *pipec_template_expand_lists(const char *tpl,
                                            pipec_tpl_lookup_fn lookup,
                                            pipec_tpl_list_fn list, void *ctx,
                                            char *bad, size_t badlen);

/* True if the template's literal text uses shell syntax (pipes, redirects,
 * quotes, variables, globs, ...); false if it is plain words, so that
 * pipec_template_argv can exec it without a shell. */
PIPEC_API bool pipec_template_needs_shell(const char *tpl);

/* For a template that needs no shell: split the literal text on blanks;
 * every placeholder's value is inserted verbatim into its word. Returns a
 * NULL-terminated malloc'd argv (free with pipec_template_argv_free), or
 * NULL as pipec_template_expand does. */
PIPEC_API char **pipec_template_argv(const char *tpl,
                                     pipec_tpl_lookup_fn lookup, void *ctx,
                                     char *bad, size_t badlen);
/* pipec_template_argv with lists: one word per item, the text around the
 * placeholder going with the first and last item; a word that is only an
 * empty list is left out. */
PIPEC_API char **pipec_template_argv_lists(const char *tpl,
                                           pipec_tpl_lookup_fn lookup,
                                           pipec_tpl_list_fn list, void *ctx,
                                           char *bad, size_t badlen);
PIPEC_API void pipec_template_argv_free(char **argv);

/* Append s to a malloc'd buffer, quoted for the POSIX shell ('...' with
 * embedded quotes as '\''); plain words ([A-Za-z0-9_./:=@%+,-]) are left
 * bare. Returns the new length, or (size_t)-1 on out of memory. */
PIPEC_API size_t pipec_shell_quote(char **buf, size_t *cap, size_t len,
                                   const char *s);

#endif
