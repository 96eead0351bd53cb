/*
 * table_read_csv.c — `table.read_csv(path)`: bring a CSV file into the
 * pipeline as a table.
 *
 * The file is checked against RFC 4180 while it is copied: a header row,
 * quoted fields that close, no bare quote inside an unquoted field, and the
 * same number of fields on every row. The first problem fails the node with
 * the file, line and what was wrong. The bytes are copied unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stdlib_components.h"

typedef struct csv_check {
  long line;          /* current line (1-based), counting quoted newlines */
  long record_line;   /* line the current record started on */
  long fields;        /* fields so far in the current record */
  long header_fields; /* fields of the header, 0 until it is complete */
  int in_quotes;
  int after_quote;    /* just saw a quote inside a quoted field */
  int field_start;    /* at the first byte of a field */
  int empty_record;   /* nothing on this record yet */
} csv_check;

static int end_record(csv_check *c, char *err, size_t errlen,
                      const char *path) {
  if (c->empty_record) /* blank line: skip */
    return 0;
  long n = c->fields + 1;
  if (c->header_fields == 0)
    c->header_fields = n;
  else if (n != c->header_fields) {
    snprintf(err, errlen, "%s:%ld: row has %ld field%s, the header has %ld",
             path, c->record_line, n, n == 1 ? "" : "s", c->header_fields);
    return -1;
  }
  return 0;
}

/* Feed one buffer to the checker. Returns 0, or -1 with err set. */
static int check_bytes(csv_check *c, const char *p, size_t n, char *err,
                       size_t errlen, const char *path) {
  for (size_t i = 0; i < n; i++) {
    char ch = p[i];
    if (c->empty_record && ch != '\n' && ch != '\r') {
      c->empty_record = 0;
      c->record_line = c->line;
    }
    if (c->in_quotes) {
      if (c->after_quote) {
        c->after_quote = 0;
        if (ch == '"')
          continue; /* "" is an escaped quote */
        c->in_quotes = 0; /* the quote closed the field; fall through */
      } else {
        if (ch == '"')
          c->after_quote = 1;
        else if (ch == '\n')
          c->line++;
        continue;
      }
      if (ch != ',' && ch != '\n' && ch != '\r') {
        snprintf(err, errlen,
                 "%s:%ld: unexpected character after a closing quote "
                 "(expected ',' or end of line)",
                 path, c->line);
        return -1;
      }
    }
    switch (ch) {
    case '"':
      if (!c->field_start) {
        snprintf(err, errlen,
                 "%s:%ld: bare '\"' inside an unquoted field (quote the "
                 "field and double the quote)",
                 path, c->line);
        return -1;
      }
      c->in_quotes = 1;
      c->field_start = 0;
      break;
    case ',':
      c->fields++;
      c->field_start = 1;
      break;
    case '\r':
      break;
    case '\n':
      if (end_record(c, err, errlen, path))
        return -1;
      c->line++;
      c->fields = 0;
      c->field_start = 1;
      c->empty_record = 1;
      break;
    default:
      c->field_start = 0;
    }
  }
  return 0;
}

static int read_csv_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const pipec_value *pv = pipec_ctx_param(ctx, "path");
  const char *out_path = pipec_ctx_output(ctx, "out");
  const char *path = pv->u.s;
  int rc = -1;
  char *buf = NULL;
  FILE *in = fopen(path, "rb");
  if (!in) {
    snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  FILE *out = fopen(out_path, "wb");
  if (!out) {
    snprintf(err, errlen, "cannot create '%s': %s", out_path, strerror(errno));
    fclose(in);
    return -1;
  }
  csv_check c = {.line = 1, .field_start = 1, .empty_record = 1};
  enum { BUF = 1 << 16 };
  buf = malloc(BUF);
  size_t got;
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  while ((got = fread(buf, 1, BUF, in)) > 0) {
    if (*ctx->cancelled) {
      snprintf(err, errlen, "cancelled");
      goto done;
    }
    if (check_bytes(&c, buf, got, err, errlen, path))
      goto done;
    if (fwrite(buf, 1, got, out) != got) {
      snprintf(err, errlen, "writing '%s': %s", out_path, strerror(errno));
      goto done;
    }
  }
  if (ferror(in)) {
    snprintf(err, errlen, "reading '%s': %s", path, strerror(errno));
    goto done;
  }
  if (c.in_quotes && !c.after_quote) {
    snprintf(err, errlen, "%s:%ld: quoted field never closed", path,
             c.record_line);
    goto done;
  }
  c.in_quotes = 0;
  if (end_record(&c, err, errlen, path))
    goto done;
  if (c.header_fields == 0) {
    snprintf(err, errlen, "%s: empty file: a CSV table needs a header row",
             path);
    goto done;
  }
  rc = 0;
done:
  free(buf);
  fclose(in);
  if (fclose(out) != 0 && rc == 0) {
    snprintf(err, errlen, "writing '%s': %s", out_path, strerror(errno));
    rc = -1;
  }
  return rc;
}

static const pipec_port_desc outputs[] = {
    {"out", PIPEC_PORT_TABLE, "the table"},
};

static const pipec_param_desc params[] = {
    {"path", PIPEC_T_PATH, NULL, "CSV file with a header row"},
};

const pipec_component_desc stdlib_table_read_csv = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.read_csv",
    .version = "1",
    .doc = "Read a CSV file (RFC 4180, header row) into a table. Malformed "
           "input fails the node with the file, line and problem.",
    .outputs = outputs,
    .n_outputs = 1,
    .params = params,
    .n_params = 1,
    .run = read_csv_run,
};
