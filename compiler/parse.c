/*
 * parse.c — run the scanner and the parser over one file (parse.h), and the
 * helpers both share: error reporting and string-literal decoding.
 */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "parse_ctx.h"
#include "parser.h"
#include "lexer.h"

void parse_fatal(const char *msg) {
  /* flex's only failures on an in-memory buffer are allocations */
  fprintf(stderr, "pipec: the scanner failed: %s\n", msg);
  base_oom(0);
}

pipec_diag *parse_error(parse_ctx *pc, ploc loc, const char *code,
                        const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return pipec_diag_add(pc->d, PIPEC_SEV_ERROR, code, pc->src, loc.off,
                        loc.end - loc.off, "%s", msg);
}

void parse_string(parse_ctx *pc, const char *lit, size_t len, uint32_t off,
                  bool closed, ast_str *out) {
  size_t end = closed ? len - 1 : len;
  char *buf = arena_alloc(pc->a, len + 1);
  size_t n = 0;
  for (size_t i = 1; i < end; i++) {
    if (lit[i] != '\\') {
      buf[n++] = lit[i];
      continue;
    }
    if (i + 1 >= end) /* a backslash at the end of the line */
      break;
    char e = lit[++i];
    switch (e) {
    case '"': buf[n++] = '"'; break;
    case '\\': buf[n++] = '\\'; break;
    case 'n': buf[n++] = '\n'; break;
    case 't': buf[n++] = '\t'; break;
    case 'r': buf[n++] = '\r'; break;
    default: {
      ploc at = {off + (uint32_t)i - 1, off + (uint32_t)i + 1};
      if ((unsigned char)e >= 0x20 && (unsigned char)e < 0x7f)
        parse_error(pc, at, "bad-escape", "unknown escape '\\%c' in string",
                    e);
      else
        parse_error(pc, at, "bad-escape", "unknown escape in string");
      pipec_diag_hint(&pc->d->items[pc->d->n - 1],
                      "escapes are \\\" \\\\ \\n \\t \\r; write '\\\\' for a "
                      "backslash");
      buf[n++] = e;
    }
    }
  }
  buf[n] = 0;
  if (!closed)
    parse_error(pc, (ploc){off, off + (uint32_t)len}, "syntax",
                "unterminated string");
  out->text = buf;
  out->len = (uint32_t)n;
}

bool parse_open(parse_ctx *pc, uint32_t off) {
  if (pc->n_open >= PARSE_MAX_NESTING) {
    if (!pc->too_deep)
      parse_error(pc, (ploc){off, off + 1}, "too-deep",
                  "nesting too deep (more than %d levels of brackets)",
                  PARSE_MAX_NESTING);
    pc->too_deep = true;
    return false;
  }
  if (pc->n_open < 64) {
    pc->open_off[pc->n_open] = off;
    pc->open_what[pc->n_open] = NULL;
  }
  pc->n_open++;
  return true;
}

void parse_label_open(parse_ctx *pc, uint32_t off, const char *what) {
  for (uint32_t i = pc->n_open < 64 ? pc->n_open : 64; i-- > 0;)
    if (pc->open_off[i] == off) {
      pc->open_what[i] = what;
      return;
    }
}

void parse_close(parse_ctx *pc) {
  if (pc->n_open > 0)
    pc->n_open--;
}

uint32_t ast_string_src_offset(const char *src, ast_loc lit, uint32_t index) {
  const char *p = src + lit.off;
  if (lit.len >= 6 && p[0] == '"' && p[1] == '"' && p[2] == '"')
    return lit.off + 3 + index;
  uint32_t at = lit.off + 1, end = lit.off + lit.len;
  for (uint32_t k = 0; k < index && at < end; k++)
    at += src[at] == '\\' ? 2 : 1;
  return at;
}

/* lexer.l: undo flex's NUL after the last token it matched */
void lexer_restore(yyscan_t scanner);

static ast_file *parse(arena *a, pipec_diags *d, int32_t src,
                       const char *path, char *text, size_t len,
                       bool quota_file) {
  ast_file *f = arena_alloc(a, sizeof *f);
  f->path = path;
  f->src = src;
  parse_ctx pc = {.a = a, .d = d, .src = src, .text = text,
                  .len = (uint32_t)len, .file = f, .quota_file = quota_file};
  yyscan_t scanner;
  if (yylex_init_extra(&pc, &scanner))
    parse_fatal("cannot start the scanner");
  /* scan the text in place: yy_scan_bytes would copy the whole file */
  YY_BUFFER_STATE buf = yy_scan_buffer(text, len + 2, scanner);
  if (!buf)
    parse_fatal("cannot start the scanner");
  yyparse(scanner, &pc);
  lexer_restore(scanner);
  yy_delete_buffer(buf, scanner);
  yylex_destroy(scanner);
  return f;
}

ast_file *parse_file(arena *a, pipec_diags *d, int32_t src, const char *path,
                     char *text, size_t len) {
  return parse(a, d, src, path, text, len, false);
}

ast_file *parse_quota_file(arena *a, pipec_diags *d, int32_t src,
                           const char *path, char *text, size_t len) {
  return parse(a, d, src, path, text, len, true);
}
