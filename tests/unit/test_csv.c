/*
 * test_csv.c — the CSV layer of the table components
 * (stdlib-components/csv.c): RFC 4180 reading (quotes, doubled quotes,
 * embedded newlines, CRLF, BOM, blank lines, records larger than the read
 * buffer), the "FILE:LINE: what" errors, UTF-8 validation, the writer's
 * quoting and round trip, value parsing and type inference, and the
 * in-memory table.
 */
#define _GNU_SOURCE
#include "check.h"

#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"

static char root[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-csv-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
}

static void teardown(void) { nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Write data to ROOT/rel; the path is returned in a static buffer. */
static const char *write_file(const char *rel, const char *data, size_t n) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "wb");
  CHECK(f != NULL);
  CHECK_EQ(fwrite(data, 1, n, f), n);
  CHECK_EQ(fclose(f), 0);
  return p;
}

static const char *write_str(const char *rel, const char *data) {
  return write_file(rel, data, strlen(data));
}

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  CHECK(s != NULL);
  CHECK_EQ(fread(s, 1, (size_t)n, f), n);
  s[n] = 0;
  fclose(f);
  return s;
}

static int field_is(const csv_field *f, const char *want) {
  return !f->null && f->len == strlen(want) && memcmp(f->p, want, f->len) == 0;
}

/* The error text of reading every record of data (NULL-safe: "" if none). */
static const char *read_error(const char *data) {
  static char err[512];
  err[0] = 0;
  const char *p = write_str("bad.csv", data);
  csv_reader *r;
  if (csv_open(p, &r, err, sizeof err) != 0)
    return err;
  const csv_field *f;
  int rc;
  while ((rc = csv_next(r, &f, err, sizeof err)) == 1)
    ;
  csv_close(r);
  CHECK(rc == 0 || err[0]);
  return rc == 0 ? "" : err;
}

static void test_basic(void) {
  const char *p = write_str("a.csv", "name,age,city\n"
                                     "Ann,31,Berlin\n"
                                     "\"Smith, Bob\",,\"say \"\"hi\"\"\"\n"
                                     "\"multi\nline\",7,\"\"\n");
  char err[256];
  csv_reader *r;
  CHECK_EQ(csv_open(p, &r, err, sizeof err), 0);
  CHECK_EQ(csv_ncols(r), 3);
  CHECK_STREQ(csv_colname(r, 2), "city");
  CHECK_EQ(csv_col(r, "age"), 1);
  CHECK_EQ(csv_col(r, "nope"), -1);
  const csv_field *f;
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1);
  CHECK(field_is(&f[0], "Ann") && field_is(&f[1], "31"));
  CHECK_EQ(csv_line(r), 2);
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1);
  CHECK(field_is(&f[0], "Smith, Bob"));
  CHECK(f[1].null);                      /* empty, unquoted: null */
  CHECK(field_is(&f[2], "say \"hi\""));
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1);
  CHECK(field_is(&f[0], "multi\nline"));
  CHECK_EQ(csv_line(r), 4);
  CHECK(!f[2].null && f[2].len == 0);     /* "" is an empty string */
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 0);
  csv_close(r);
}

static void test_crlf_bom_blank(void) {
  const char *p = write_str("b.csv", "\xEF\xBB\xBFx,y\r\n1,2\r\n\r\n3,4");
  char err[256];
  csv_reader *r;
  CHECK_EQ(csv_open(p, &r, err, sizeof err), 0);
  CHECK_STREQ(csv_colname(r, 0), "x");
  const csv_field *f;
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1);
  CHECK(field_is(&f[0], "1") && field_is(&f[1], "2"));
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1); /* blank line skipped */
  CHECK(field_is(&f[0], "3") && field_is(&f[1], "4"));
  CHECK_EQ(csv_line(r), 4);
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 0);
  csv_close(r);
}

static void test_errors(void) {
  char want[600];
  snprintf(want, sizeof want, "%s/bad.csv:3: row has 3 fields, the header "
                              "has 2", root);
  CHECK_STREQ(read_error("a,b\n1,2\n1,2,3\n"), want);
  snprintf(want, sizeof want, "%s/bad.csv:2: row has 1 field, the header "
                              "has 2", root);
  CHECK_STREQ(read_error("a,b\n1\n"), want);
  CHECK(strstr(read_error("a,b\n1,x\"y\n"), "bad.csv:2: bare '\"'"));
  CHECK(strstr(read_error("a,b\n1,\"xy\"z\n"),
               "bad.csv:2: unexpected character after a closing quote"));
  CHECK(strstr(read_error("a,b\n1,2\n\"open,\n\n"),
               "bad.csv:3: quoted field never closed"));
  CHECK(strstr(read_error("a,b\n1,\xC3\x28\n"),
               "bad.csv:2: invalid UTF-8"));
  CHECK(strstr(read_error("a,b\n1,\xED\xA0\x80\n"), "invalid UTF-8"));
  CHECK(strstr(read_error("a,b\n1,\xC0\xAF\n"), "invalid UTF-8")); /* overlong */
  CHECK_STREQ(read_error("a,b\n\"caf\xC3\xA9\",\xE2\x82\xAC\n"), "");
  CHECK(strstr(read_error(""), "empty file"));
  CHECK(strstr(read_error("a,b,a\n"), "column 'a' appears twice"));
  CHECK(strstr(read_error("a,,c\n"), "bad.csv:1: column 2 has no name"));
  /* the line of a later record counts the newlines inside quotes */
  CHECK(strstr(read_error("a,b\n\"1\n2\n3\",x\n1\n"), "bad.csv:5: row has 1"));

  char err[256];
  csv_reader *r;
  CHECK_EQ(csv_open("/nonexistent/x.csv", &r, err, sizeof err), -1);
  CHECK(strstr(err, "cannot open /nonexistent/x.csv") != NULL);
}

/* Records cut by the 1 MiB buffer, and one record larger than it. */
static void test_big(void) {
  size_t cap = 8u << 20, n = 0;
  char *s = malloc(cap);
  CHECK(s != NULL);
  n += (size_t)sprintf(s, "id,text,num\n");
  long rows = 0;
  while (n < (3u << 20)) {
    n += (size_t)sprintf(s + n, "%ld,\"row \"\"%ld\"\",\nnext\",%ld.5\n", rows,
                         rows, rows * 3);
    rows++;
  }
  /* a 2.5 MiB quoted field */
  n += (size_t)sprintf(s + n, "%ld,\"", rows);
  memset(s + n, 'z', 5u << 19);
  n += 5u << 19;
  n += (size_t)sprintf(s + n, "\",1\n");
  rows++;
  const char *p = write_file("big.csv", s, n);
  char err[256];
  csv_reader *r;
  CHECK_EQ(csv_open(p, &r, err, sizeof err), 0);
  const csv_field *f;
  long got = 0;
  int rc;
  while ((rc = csv_next(r, &f, err, sizeof err)) == 1) {
    char want[64];
    if (got + 1 < rows) {
      snprintf(want, sizeof want, "row \"%ld\",\nnext", got);
      CHECK(field_is(&f[1], want));
      snprintf(want, sizeof want, "%ld.5", got * 3);
      CHECK(field_is(&f[2], want));
    } else {
      CHECK_EQ(f[1].len, 5u << 19);
      CHECK(f[1].p[0] == 'z' && f[1].p[f[1].len - 1] == 'z');
    }
    got++;
  }
  CHECK_EQ(rc, 0);
  CHECK_EQ(got, rows);
  csv_close(r);
  free(s);
}

/* Multi-byte characters cut by the end of the read buffer are whole
 * again after the refill: 11-byte rows put every offset on the boundary. */
static void test_utf8_boundary(void) {
  const char *row = "x\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n";
  size_t rows = (3u << 20) / 11, n = 0;
  char *s = malloc(rows * 11 + 16);
  CHECK(s != NULL);
  n += (size_t)sprintf(s, "col\n");
  for (size_t i = 0; i < rows; i++, n += 11)
    memcpy(s + n, row, 11);
  const char *p = write_file("utf8.csv", s, n);
  free(s);
  char err[256];
  csv_reader *r;
  CHECK_EQ(csv_open(p, &r, err, sizeof err), 0);
  const csv_field *f;
  size_t got = 0;
  int rc;
  while ((rc = csv_next(r, &f, err, sizeof err)) == 1) {
    CHECK(f[0].len == 10 && memcmp(f[0].p, row, 10) == 0);
    got++;
  }
  if (rc != 0)
    fprintf(stderr, "%s\n", err);
  CHECK_EQ(rc, 0);
  CHECK_EQ(got, rows);
  csv_close(r);
}

/* csv_open_copy: the copy is the input byte for byte (after test_big). */
static void test_copy(void) {
  char src[512], dst[512], err[256];
  snprintf(src, sizeof src, "%s/big.csv", root);
  snprintf(dst, sizeof dst, "%s/big.copy", root);
  csv_reader *r;
  CHECK_EQ(csv_open_copy(src, dst, &r, err, sizeof err), 0);
  const csv_field *f;
  while (csv_next(r, &f, err, sizeof err) == 1)
    ;
  CHECK_EQ(csv_copy_close(r, err, sizeof err), 0);
  csv_close(r);
  char *a = read_all(src), *b = read_all(dst);
  CHECK(strlen(a) > (3u << 20));
  CHECK(strcmp(a, b) == 0);
  free(a), free(b);

  /* CRLF, a BOM and no final newline come through unchanged */
  const char *odd = "\xEF\xBB\xBFx,y\r\n1,\"a\r\nb\"\r\n\r\n2,3";
  const char *p = write_str("odd.csv", odd);
  CHECK_EQ(csv_open_copy(p, dst, &r, err, sizeof err), 0);
  while (csv_next(r, &f, err, sizeof err) == 1)
    ;
  CHECK_EQ(csv_copy_close(r, err, sizeof err), 0);
  csv_close(r);
  b = read_all(dst);
  CHECK_STREQ(b, odd);
  free(b);

  /* stopping early is not a whole copy */
  CHECK_EQ(csv_open_copy(src, dst, &r, err, sizeof err), 0);
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1);
  CHECK_EQ(csv_copy_close(r, err, sizeof err), -1);
  CHECK(strstr(err, "copy stopped before the end") != NULL);
  csv_close(r);
  CHECK_EQ(csv_open_copy(src, "/nonexistent/x", &r, err, sizeof err), -1);
  CHECK(strstr(err, "cannot create /nonexistent/x") != NULL);
}

static void test_writer(void) {
  char p[512], err[256];
  snprintf(p, sizeof p, "%s/w.csv", root);
  csv_writer *w;
  CHECK_EQ(csv_wopen(p, &w, err, sizeof err), 0);
  csv_put(w, "plain", 5, false);
  csv_put(w, "a,b", 3, false);
  csv_put(w, "say \"x\"", 7, false);
  csv_put(w, "two\nlines", 9, false);
  csv_put(w, "", 0, false);
  csv_put_null(w, false);
  csv_put_int(w, -42, false);
  csv_put_double(w, 0.1, false);
  csv_put_double(w, INFINITY, false); /* not a number: null */
  csv_put_double(w, NAN, true);
  CHECK_EQ(csv_wclose(w, err, sizeof err), 0);
  char *s = read_all(p);
  CHECK_STREQ(s, "plain,\"a,b\",\"say \"\"x\"\"\",\"two\nlines\",\"\",,-42,"
                 "0.1,,\n");

  /* round trip through the reader */
  char *body = malloc(strlen(s) + 64);
  CHECK(body != NULL);
  sprintf(body, "h1,h2,h3,h4,h5,h6,h7,h8,h9,h10\n%s", s);
  free(s);
  const char *rt = write_str("rt.csv", body);
  free(body);
  csv_reader *r;
  const csv_field *f;
  CHECK_EQ(csv_open(rt, &r, err, sizeof err), 0);
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 1);
  CHECK(field_is(&f[1], "a,b") && field_is(&f[2], "say \"x\""));
  CHECK(field_is(&f[3], "two\nlines") && field_is(&f[4], ""));
  CHECK(f[5].null && f[8].null && f[9].null);
  CHECK(field_is(&f[6], "-42") && field_is(&f[7], "0.1"));
  CHECK_EQ(csv_next(r, &f, err, sizeof err), 0);
  csv_close(r);

  CHECK_EQ(csv_wopen("/nonexistent/dir/x.csv", &w, err, sizeof err), -1);
  CHECK(strstr(err, "cannot create") != NULL);
}

static void test_values(void) {
  int64_t i;
  double d;
  bool b;
  CHECK(csv_parse_int("42", 2, &i) && i == 42);
  CHECK(csv_parse_int("-7", 2, &i) && i == -7);
  CHECK(!csv_parse_int("4.2", 3, &i));
  CHECK(!csv_parse_int("-", 1, &i));
  CHECK(!csv_parse_int("99999999999999999999", 20, &i));
  CHECK(csv_parse_int("9223372036854775807", 19, &i) && i == INT64_MAX);
  CHECK(!csv_parse_int("9223372036854775808", 19, &i));
  CHECK(csv_parse_int("-9223372036854775808", 20, &i) && i == INT64_MIN);
  CHECK(!csv_parse_int("-9223372036854775809", 20, &i));
  CHECK(csv_parse_int("+12", 3, &i) && i == 12);
  CHECK(!csv_parse_int("1 ", 2, &i));
  CHECK(csv_parse_double("4.25", 4, &d) && d == 4.25);
  CHECK(csv_parse_double("-1e3", 4, &d) && d == -1000);
  CHECK(csv_parse_double("0.1", 3, &d) && d == 0.1);
  CHECK(csv_parse_double("-.5", 3, &d) && d == -0.5);
  CHECK(csv_parse_double("007.25", 6, &d) && d == 7.25);
  CHECK(csv_parse_double("1234567890123456.7", 18, &d) &&
        d == strtod("1234567890123456.7", NULL)); /* past the fast path */
  CHECK(csv_parse_double("0.1234567890123456789", 21, &d) &&
        d == strtod("0.1234567890123456789", NULL));
  CHECK(!csv_parse_double("1.2.3", 5, &d));
  CHECK(!csv_parse_double("+", 1, &d));
  CHECK(!csv_parse_double(".", 1, &d));
  CHECK(!csv_parse_double("1e", 2, &d));
  CHECK(!csv_parse_double("nan", 3, &d));
  CHECK(!csv_parse_double("inf", 3, &d));
  CHECK(!csv_parse_double("0x10", 4, &d));
  CHECK(!csv_parse_double(" 1", 2, &d));
  CHECK(!csv_parse_double("1-2", 3, &d));
  CHECK(csv_parse_bool("TRUE", 4, &b) && b);
  CHECK(csv_parse_bool("false", 5, &b) && !b);
  CHECK(!csv_parse_bool("yes", 3, &b));
  CHECK_EQ(csv_value_type("12", 2), CSV_INT);
  CHECK_EQ(csv_value_type("1.5", 3), CSV_FLOAT);
  CHECK_EQ(csv_value_type("true", 4), CSV_BOOL);
  CHECK_EQ(csv_value_type("abc", 3), CSV_STRING);
  CHECK_STREQ(csv_type_name(CSV_FLOAT), "float");
  char buf[40];
  csv_format_double(0.1, buf, sizeof buf);
  CHECK_STREQ(buf, "0.1");
  csv_format_double(1.0 / 3, buf, sizeof buf);
  CHECK(strtod(buf, NULL) == 1.0 / 3);
  csv_format_double(3, buf, sizeof buf);
  CHECK_STREQ(buf, "3");
  csv_format_double(50, buf, sizeof buf); /* not 5e+01 */
  CHECK_STREQ(buf, "50");
  csv_format_double(-1200, buf, sizeof buf);
  CHECK_STREQ(buf, "-1200");
  csv_format_double(-0.0, buf, sizeof buf);
  CHECK_STREQ(buf, "0");
  csv_format_double(1e20, buf, sizeof buf);
  CHECK_STREQ(buf, "1e+20");
  csv_format_double(2.5e-7, buf, sizeof buf);
  CHECK_STREQ(buf, "2.5e-07");
}

static void test_table(void) {
  const char *p = write_str("t.csv", "i,f,b,s,n,mix\n"
                                     "1,1.5,true,x,,1\n"
                                     "2,,false,\"y,z\",,2.5\n"
                                     ",3,,w,,abc\n");
  csv_table t;
  char err[256];
  CHECK_EQ(csv_table_load(p, &t, NULL, err, sizeof err), 0);
  CHECK_EQ(t.ncols, 6);
  CHECK_EQ(t.nrows, 3);
  CHECK_EQ(t.types[0], CSV_INT);
  CHECK_EQ(t.types[1], CSV_FLOAT);
  CHECK_EQ(t.types[2], CSV_BOOL);
  CHECK_EQ(t.types[3], CSV_STRING);
  CHECK_EQ(t.types[4], CSV_NULL);
  CHECK_EQ(t.types[5], CSV_STRING);
  CHECK_EQ(csv_table_col(&t, "s"), 3);
  CHECK_STREQ(csv_table_str(&t, 1, 3), "y,z");
  CHECK(csv_table_cell(&t, 2, 0)->null);
  CHECK(!csv_table_cell(&t, 0, 0)->null);

  char out[512];
  snprintf(out, sizeof out, "%s/t2.csv", root);
  size_t order[] = {2, 0};
  CHECK_EQ(csv_table_write(&t, order, 2, out, err, sizeof err), 0);
  char *s = read_all(out);
  CHECK_STREQ(s, "i,f,b,s,n,mix\n,3,,w,,abc\n1,1.5,true,x,,1\n");
  free(s);
  csv_table_free(&t);

  volatile int cancelled = 1;
  CHECK_EQ(csv_table_load(p, &t, &cancelled, err, sizeof err), -1);
  CHECK_STREQ(err, "cancelled");
  p = write_str("t3.csv", "a\n1\n1,2\n");
  CHECK_EQ(csv_table_load(p, &t, NULL, err, sizeof err), -1);
  CHECK(strstr(err, "t3.csv:3: row has 2 fields") != NULL);
}

int main(void) {
  setup();
  RUN(test_basic);
  RUN(test_crlf_bom_blank);
  RUN(test_errors);
  RUN(test_big);
  RUN(test_copy);
  RUN(test_utf8_boundary);
  RUN(test_writer);
  RUN(test_values);
  RUN(test_table);
  teardown();
  return 0;
}
