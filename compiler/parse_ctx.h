/*
 * parse_ctx.h — state shared by the scanner (lexer.l), the grammar
 * (parser.y) and the driver (parse.c) while one file is parsed.
 */
#ifndef PIPEC_PARSE_CTX_H
#define PIPEC_PARSE_CTX_H

#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "pipec/diag.h"

/* Brackets ((, [, {) open at once, at most. Deeper input is an error, found
 * by the scanner: the parser's stack (YYMAXDEPTH, 10000 entries, up to 4
 * per level) never overflows, and nothing after the parser recurses that
 * deep. */
#define PARSE_MAX_NESTING 1000

/* A token's or a rule's location: the byte span [off, end). */
typedef struct ploc {
  uint32_t off, end;
} ploc;

typedef struct ast_str {
  const char *text;
  uint32_t len;
} ast_str;

typedef struct parse_ctx {
  arena *a;
  pipec_diags *d;
  int32_t src;
  const char *text;          /* the whole file */
  uint32_t len;
  uint32_t pos;              /* scanner offset */
  ast_file *file;
  ast_pipeline *pipe;        /* pipeline block being parsed, or NULL */
  ast_component *comp;       /* component being parsed, or NULL */
  /* open brackets, innermost last, to say which one EOF left open */
  uint32_t open_off[64];
  const char *open_what[64]; /* what the bracket opens ("'for' body"), if
                                the grammar said (parse_label_open) */
  uint32_t n_open;           /* may exceed 64; only the first 64 are kept */
  bool too_deep;             /* PARSE_MAX_NESTING was passed: the scanner
                                says end of file, the parser stays quiet */
  bool quota_file;           /* a quota file: `quota` and `default` are
                                keywords, and nothing else may be declared */
  bool started;              /* the scanner has given its first token (a
                                quota file's first is QUOTA_FILE) */
} parse_ctx;

/* The scanner saw an opening or a closing bracket at offset off.
 * parse_open reports nesting deeper than PARSE_MAX_NESTING and then returns
 * false: the scanner ends the input there. */
bool parse_open(parse_ctx *pc, uint32_t off);
void parse_close(parse_ctx *pc);
/* The bracket open at offset off opens `what` (a static string). */
void parse_label_open(parse_ctx *pc, uint32_t off, const char *what);

/* Report an error at loc; the diagnostic, for a hint. */
pipec_diag *parse_error(parse_ctx *pc, ploc loc, const char *code,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Decode the string literal lit[0..len) found at source offset off;
 * `closed` says whether it ends with its closing quote. */
void parse_string(parse_ctx *pc, const char *lit, size_t len, uint32_t off,
                  bool closed, ast_str *out);

/* The scanner cannot go on (out of memory): say so, then base_oom(). */
_Noreturn void parse_fatal(const char *msg);

static inline ast_loc parse_loc(const parse_ctx *pc, ploc l) {
  return (ast_loc){pc->src, l.off, l.end - l.off};
}

#endif
