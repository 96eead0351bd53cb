/*
 * csv.h — CSV for the table components: a streaming RFC 4180 reader, a
 * writer, and a whole table in memory for the components that need every
 * row (sort, join, split, ...).
 *
 * Reader: a header row, then records; fields may be quoted ("a,b", "say
 * ""hi""", embedded newlines); an empty unquoted field is null; every
 * record has as many fields as the header; the bytes must be UTF-8. A
 * problem is reported as "FILE:LINE: what was wrong". Fields point into the
 * reader's buffers and stay valid until the next csv_next().
 */
#ifndef PIPEC_CSV_H
#define PIPEC_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_field {
  const char *p;     /* not NUL-terminated */
  uint32_t len;
  bool null;         /* empty and unquoted */
} csv_field;

typedef struct csv_reader csv_reader;

/* Open path and read its header. 0, or -1 with err. */
int csv_open(const char *path, csv_reader **out, char *err, size_t errlen);
/* The same, and every byte read is also written to copy_path: after the
 * last record, that file is the input byte for byte (table.read_csv checks
 * and copies in one pass). csv_copy_close() then says whether the copy is
 * whole (-1 with err on a write error or if reading stopped early). */
int csv_open_copy(const char *path, const char *copy_path, csv_reader **out,
                  char *err, size_t errlen);
int csv_copy_close(csv_reader *r, char *err, size_t errlen);
void csv_close(csv_reader *r);
uint32_t csv_ncols(const csv_reader *r);
const char *csv_colname(const csv_reader *r, uint32_t i);
/* Index of a column by name, or -1. */
int csv_col(const csv_reader *r, const char *name);
/* The next record: 1 (fields set), 0 at the end, -1 with err. */
int csv_next(csv_reader *r, const csv_field **fields, char *err,
             size_t errlen);
/* Line number where the last record started. */
long csv_line(const csv_reader *r);
/* The last record's bytes as they are in the file (quotes and all),
 * without its line ending; valid until the next csv_next(). Lets a filter
 * pass a kept row on without re-encoding it. */
void csv_raw(const csv_reader *r, const char **p, size_t *len);

/* ---- writing ---------------------------------------------------------- */

typedef struct csv_writer csv_writer;

int csv_wopen(const char *path, csv_writer **out, char *err, size_t errlen);
/* One field; quoted only when it must be. last ends the record. */
void csv_put(csv_writer *w, const char *p, size_t len, bool last);
void csv_put_null(csv_writer *w, bool last);
/* The shortest text that reads back as v; NaN and infinities are null
 * (the reader takes no "nan" or "inf" for a number either). */
void csv_put_double(csv_writer *w, double v, bool last);
void csv_put_int(csv_writer *w, int64_t v, bool last);
/* Bytes as they are (the caller writes the separators and newline). */
void csv_put_raw(csv_writer *w, const char *p, size_t len);
/* Flush and close: 0, or -1 with err (e.g. no space left). */
int csv_wclose(csv_writer *w, char *err, size_t errlen);

/* ---- a table in memory -------------------------------------------------- */

typedef enum csv_type {
  CSV_NULL,    /* every value null */
  CSV_INT,
  CSV_FLOAT,
  CSV_BOOL,
  CSV_STRING,
} csv_type;

typedef struct csv_cell {
  uint64_t off;      /* into table.text */
  uint32_t len;
  bool null;
} csv_cell;

typedef struct csv_table {
  uint32_t ncols;
  char **names;
  size_t nrows;
  csv_cell *cells;   /* nrows * ncols, row-major */
  char *text;        /* every cell's bytes, each NUL-terminated */
  size_t text_len, text_cap, cap_rows;
  csv_type *types;   /* inferred per column by csv_table_infer */
} csv_table;

int csv_table_load(const char *path, csv_table *t,
                   const volatile int *cancelled, char *err, size_t errlen);
void csv_table_free(csv_table *t);
int csv_table_col(const csv_table *t, const char *name);
static inline const csv_cell *csv_table_cell(const csv_table *t, size_t row,
                                             uint32_t col) {
  return &t->cells[row * t->ncols + col];
}
static inline const char *csv_table_str(const csv_table *t, size_t row,
                                        uint32_t col) {
  return t->text + csv_table_cell(t, row, col)->off;
}
/* Infer every column's type (t->types). */
void csv_table_infer(csv_table *t);
/* Write the header and the rows order[0..n) (order NULL: all, in order). */
int csv_table_write(const csv_table *t, const size_t *order, size_t n,
                    const char *path, char *err, size_t errlen);

/* ---- values ------------------------------------------------------------- */

/* Parse a field as a number / int / bool: true if it is one. */
bool csv_parse_double(const char *p, size_t len, double *out);
bool csv_parse_int(const char *p, size_t len, int64_t *out);
bool csv_parse_bool(const char *p, size_t len, bool *out);
/* The type of one non-null value. */
csv_type csv_value_type(const char *p, size_t len);
const char *csv_type_name(csv_type t);
/* Shortest round-trip text of a double, into buf (>= 32 bytes). */
void csv_format_double(double v, char *buf, size_t len);

#endif
