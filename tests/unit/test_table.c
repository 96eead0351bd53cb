/*
 * test_table.c — the table.* built-in components, run in-process through
 * their descriptors with a fake run context (no compiler, no engine):
 * results on small tables, defaults taken from default_literal, the error
 * messages of bad params and unknown columns, table.filter's compile-time
 * check with its byte offsets, and cancellation.
 */
#define _GNU_SOURCE
#include "check.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipec/stdlib.h"

static char root[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-table-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
}

static void teardown(void) { nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static char *path_of(const char *rel) {
  char *p = malloc(strlen(root) + strlen(rel) + 2);
  CHECK(p != NULL);
  sprintf(p, "%s/%s", root, rel);
  return p;
}

static void write_str(const char *rel, const char *data) {
  char *p = path_of(rel);
  FILE *f = fopen(p, "wb");
  CHECK(f != NULL);
  fputs(data, f);
  CHECK_EQ(fclose(f), 0);
  free(p);
}

/* The content of ROOT/rel (static buffer, overwritten by the next call). */
static const char *read_rel(const char *rel) {
  static char buf[1 << 16];
  char *p = path_of(rel);
  FILE *f = fopen(p, "rb");
  free(p);
  if (!f)
    return "(missing)";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* ---- a fake run context ---------------------------------------------------- */

typedef struct job {
  const pipec_component_desc *d;
  pipec_named_path in[4], out[4];
  pipec_named_value par[8];
  uint32_t nin, nout, npar;
  pipec_value items[32];
  uint32_t nitems;
  char *owned[64];           /* strings to free */
  uint32_t nowned;
  volatile int cancelled;
  char log[1024];
  char err[1024];
} job;

static const char *own(job *j, char *s) {
  CHECK(j->nowned < 64);
  return j->owned[j->nowned++] = s;
}

/* The run context as the engine hands it out: the public part first, the
 * caller's own state after it. */
typedef struct job_ctx {
  pipec_run_ctx pub;
  job *j;
} job_ctx;

static void job_log(const pipec_run_ctx *ctx, const char *fmt, ...) {
  job *j = ((const job_ctx *)(const void *)ctx)->j;
  size_t n = strlen(j->log);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->log + n, sizeof j->log - n, fmt, ap);
  va_end(ap);
}

static job *job_new(const char *component) {
  job *j = calloc(1, sizeof *j);
  CHECK(j != NULL);
  j->d = pipec_stdlib_find(component);
  CHECK(j->d != NULL);
  return j;
}

static void job_free(job *j) {
  for (uint32_t i = 0; i < j->nowned; i++)
    free(j->owned[i]);
  free(j);
}

static void job_in(job *j, const char *name, const char *rel) {
  j->in[j->nin++] = (pipec_named_path){name, own(j, path_of(rel))};
}

static void job_out(job *j, const char *name, const char *rel) {
  j->out[j->nout++] = (pipec_named_path){name, own(j, path_of(rel))};
}

static pipec_value *job_param(job *j, const char *name, pipec_type type) {
  pipec_named_value *p = &j->par[j->npar++];
  p->name = name;
  p->value.type = type;
  return &p->value;
}

static void job_str(job *j, const char *name, const char *s) {
  job_param(j, name, PIPEC_T_STRING)->u.s = s;
}
static void job_int(job *j, const char *name, int64_t v) {
  job_param(j, name, PIPEC_T_INT)->u.i = v;
}
static void job_float(job *j, const char *name, double v) {
  job_param(j, name, PIPEC_T_FLOAT)->u.f = v;
}
static void job_bool(job *j, const char *name, bool v) {
  job_param(j, name, PIPEC_T_BOOL)->u.b = v;
}

/* A list of strings given as "a|b|c" ("" is the empty list). */
static void job_list(job *j, const char *name, const char *items) {
  pipec_value *v = job_param(j, name, PIPEC_T_LIST);
  v->u.list.items = &j->items[j->nitems];
  v->u.list.n = 0;
  char *s = (char *)own(j, strdup(items));
  for (char *tok = strtok(s, "|"); tok; tok = strtok(NULL, "|")) {
    CHECK(j->nitems < 32);
    pipec_value *it = &j->items[j->nitems++];
    it->type = PIPEC_T_STRING;
    it->u.s = tok;
    v->u.list.n++;
  }
}

/* A default literal as the engine gives it: "0.8", "\"x\"", "[]", "true". */
static void job_default(job *j, const pipec_param_desc *p) {
  const char *lit = p->default_literal;
  switch (p->type) {
  case PIPEC_T_INT:
    job_int(j, p->name, strtoll(lit, NULL, 10));
    break;
  case PIPEC_T_FLOAT:
    job_float(j, p->name, strtod(lit, NULL));
    break;
  case PIPEC_T_BOOL:
    CHECK(strcmp(lit, "true") == 0 || strcmp(lit, "false") == 0);
    job_bool(j, p->name, strcmp(lit, "true") == 0);
    break;
  case PIPEC_T_STRING:
  case PIPEC_T_PATH: {
    size_t n = strlen(lit);
    CHECK(n >= 2 && lit[0] == '"' && lit[n - 1] == '"');
    job_str(j, p->name, own(j, strndup(lit + 1, n - 2)));
    break;
  }
  case PIPEC_T_LIST:
    CHECK_STREQ(lit, "[]");
    job_list(j, p->name, "");
    break;
  }
}

static bool job_has(const job *j, const char *name) {
  for (uint32_t i = 0; i < j->npar; i++)
    if (strcmp(j->par[i].name, name) == 0)
      return true;
  return false;
}

/* Fill defaults, run; the return code of the run function. */
static int job_run(job *j) {
  for (uint32_t i = 0; i < j->d->n_params; i++) {
    const pipec_param_desc *p = &j->d->params[i];
    if (!job_has(j, p->name)) {
      CHECK(p->default_literal != NULL); /* a test forgot a required param */
      job_default(j, p);
    }
  }
  job_ctx ctx = {.pub = {
                     .inputs = j->in, .n_inputs = j->nin,
                     .outputs = j->out, .n_outputs = j->nout,
                     .params = j->par, .n_params = j->npar,
                     .workdir = root,
                     .log = job_log,
                     .cancelled = &j->cancelled,
                 },
                 .j = j};
  j->err[0] = 0;
  int rc = j->d->run(&ctx.pub, j->err, sizeof j->err);
  CHECK(rc == 0 || j->err[0]);
  return rc;
}

/* ---- one-liners for the common shape: input -> out ---------------------- */

static const char *const PEOPLE =
    "name,age,city,score\n"
    "Ann,31,Berlin,7.5\n"
    "Bob,25,Paris,\n"
    "Cid,,Berlin,9\n"
    "Dee,42,Rome,6\n"
    "Eve,25,\"Paris\",8\n";

static void run_ok(job *j) {
  int rc = job_run(j);
  if (rc != 0)
    fprintf(stderr, "%s failed: %s\n", j->d->name, j->err);
  CHECK_EQ(rc, 0);
}

/* ---- components -------------------------------------------------------------- */

static void test_registry(void) {
  uint32_t n;
  const pipec_component_desc *const *all = pipec_stdlib_components(&n);
  for (uint32_t i = 0; i < n; i++) {
    CHECK_EQ(all[i]->abi_version, PIPEC_ABI_VERSION);
    if (i)
      CHECK(strcmp(all[i - 1]->name, all[i]->name) < 0);
  }
  static const char *const names[] = {
      "table.aggregate", "table.dedupe",  "table.describe",
      "table.fill_missing", "table.filter", "table.join",
      "table.normalize", "table.one_hot", "table.read_csv",
      "table.sample",    "table.select",  "table.sort",
      "table.split",     "table.write_csv"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK(pipec_stdlib_find(names[i]) != NULL);
}

static void test_read_csv(void) {
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.read_csv");
  job_str(j, "path", own(j, path_of("people.csv")));
  job_out(j, "out", "read.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("read.csv"), PEOPLE);
  job_free(j);

  /* CRLF, BOM, no final newline: copied unchanged */
  static const char odd[] = "\xEF\xBB\xBFx,y\r\n1,\"a\r\nb\"\r\n2,3";
  write_str("odd.csv", odd);
  j = job_new("table.read_csv");
  job_str(j, "path", "odd.csv"); /* relative to the workdir */
  job_out(j, "out", "read_odd.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("read_odd.csv"), odd);
  CHECK_STREQ(j->log, "odd.csv: 2 rows");
  job_free(j);

  write_str("ragged.csv", "a,b\n1,2\n3\n");
  j = job_new("table.read_csv");
  job_str(j, "path", own(j, path_of("ragged.csv")));
  job_out(j, "out", "read2.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "ragged.csv:3: row has 1 field, the header has 2"));
  job_free(j);

  write_str("latin1.csv", "a\ncaf\xE9\n");
  j = job_new("table.read_csv");
  job_str(j, "path", own(j, path_of("latin1.csv")));
  job_out(j, "out", "read3.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "latin1.csv:2: invalid UTF-8"));
  job_free(j);
}

static void test_write_csv(void) {
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.write_csv");
  job_in(j, "input", "people.csv");
  job_str(j, "path", "copy.csv");
  job_out(j, "out", "wout.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("copy.csv"), PEOPLE);
  CHECK_STREQ(read_rel("wout.csv"), PEOPLE);
  job_free(j);

  j = job_new("table.write_csv");
  job_in(j, "input", "people.csv");
  job_str(j, "path", "no/such/dir/copy.csv");
  job_out(j, "out", "wout2.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "no/such/dir/copy.csv") != NULL);
  job_free(j);
}

static void test_select(void) {
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.select");
  job_in(j, "input", "people.csv");
  job_list(j, "columns", "city|name");
  job_out(j, "out", "sel.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("sel.csv"), "city,name\nBerlin,Ann\nParis,Bob\n"
                                   "Berlin,Cid\nRome,Dee\nParis,Eve\n");
  job_free(j);

  j = job_new("table.select");
  job_in(j, "input", "people.csv");
  job_list(j, "columns", "name|agee");
  job_out(j, "out", "sel2.csv");
  CHECK(job_run(j) != 0);
  CHECK_STREQ(j->err, "unknown column 'agee' in columns; columns are name, "
                      "age, city, score");
  job_free(j);

  j = job_new("table.select");
  job_in(j, "input", "people.csv");
  job_list(j, "columns", "name|age|name");
  job_out(j, "out", "sel2.csv");
  CHECK(job_run(j) != 0);
  CHECK_STREQ(j->err, "column 'name' is listed twice in columns");
  job_free(j);
}

/* The rows of people.csv kept by `where` (names joined by spaces), or the
 * error. */
static const char *filter_names(const char *where) {
  static char out[1100];
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.filter");
  job_in(j, "input", "people.csv");
  job_str(j, "where", where);
  job_out(j, "out", "filt.csv");
  if (job_run(j) != 0) {
    snprintf(out, sizeof out, "error: %s", j->err);
    job_free(j);
    return out;
  }
  job_free(j);
  out[0] = 0;
  const char *s = strchr(read_rel("filt.csv"), '\n') + 1;
  while (*s) {
    size_t n = strcspn(s, ",");
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s",
             out[0] ? " " : "", (int)n, s);
    s = strchr(s, '\n') + 1;
  }
  return out;
}

static void test_filter(void) {
  CHECK_STREQ(filter_names("age > 30"), "Ann Dee");
  CHECK_STREQ(filter_names("age >= 25 and city == \"Paris\""), "Bob Eve");
  CHECK_STREQ(filter_names("city != 'Paris' or score > 7.9"), "Ann Cid Dee Eve");
  CHECK_STREQ(filter_names("age is null"), "Cid");
  CHECK_STREQ(filter_names("score is not null and not (score < 7)"), "Ann Cid Eve");
  CHECK_STREQ(filter_names("(age + 5) * 2 % 7 == 3"), "Dee"); /* 94 % 7 */
  CHECK_STREQ(filter_names("age / 0 is null"), "Ann Bob Cid Dee Eve");
  CHECK_STREQ(filter_names("-age < -40"), "Dee");
  CHECK_STREQ(filter_names("`name` == \"Bob\""), "Bob");
  CHECK_STREQ(filter_names("name < \"C\""), "Ann Bob");
  CHECK_STREQ(filter_names("true"), "Ann Bob Cid Dee Eve");
  CHECK_STREQ(filter_names("name != 'it''s' and name != \"\" and name < 'B'"),
              "Ann");
  CHECK_STREQ(filter_names("'it''s' == \"it's\" and name == 'Bob'"), "Bob");
  CHECK_STREQ(filter_names("age > 1000"), "");
  /* null in comparisons is unknown; and/or are three-valued */
  CHECK_STREQ(filter_names("age > 30 or score > 8.5"), "Ann Cid Dee");
  CHECK_STREQ(filter_names("not (age > 30)"), "Bob Eve");
  CHECK_STREQ(filter_names("agee > 3"),
              "error: unknown column 'agee' in where; columns are name, "
              "age, city, score");
  CHECK(strstr(filter_names("age >"), "error: where, at 5:") != NULL);

  /* a field compared with a string uses its own text: 01234 is not 1234 */
  write_str("zips.csv", "zip,n\n01234,1\n1234,2\n\"a,b\",3\n");
  job *j = job_new("table.filter");
  job_in(j, "input", "zips.csv");
  job_str(j, "where", "zip == \"01234\" or zip == \"a,b\" or n * 1 == 2.0");
  job_out(j, "out", "zf.csv");
  run_ok(j);
  /* kept rows go out as they came in, quotes and all */
  CHECK_STREQ(read_rel("zf.csv"), "zip,n\n01234,1\n1234,2\n\"a,b\",3\n");
  CHECK_STREQ(j->log, "kept 3 of 3 rows");
  job_free(j);
  j = job_new("table.filter");
  job_in(j, "input", "zips.csv");
  job_str(j, "where", "zip > 1000 and zip < 2000"); /* numbers by value */
  job_out(j, "out", "zf.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("zf.csv"), "zip,n\n01234,1\n1234,2\n");
  job_free(j);
}

static void check_where(const char *where, const char *msg, long want_off) {
  const pipec_component_desc *d = pipec_stdlib_find("table.filter");
  CHECK(d->check != NULL);
  pipec_value v = {.type = PIPEC_T_STRING, .u.s = where};
  char err[256] = "";
  long off = -2;
  int rc = d->check("where", &v, err, sizeof err, &off);
  if (!msg) {
    CHECK_EQ(rc, 0);
    return;
  }
  CHECK(rc != 0);
  CHECK_STREQ(err, msg);
  CHECK_EQ(off, want_off);
}

static void test_filter_check(void) {
  check_where("age > 30 and country == \"DE\"", NULL, 0);
  check_where("`first name` is not null", NULL, 0);
  check_where("age > 30 and ", "expected an operand after 'and'", 13);
  check_where("age > 30 or", "expected an operand after 'or'", 11);
  check_where("(age > 30", "expected ')'", 9);
  check_where("age > ", "expected a value, found the end", 6);
  check_where("name == \"Ann", "string never closed", 8);
  check_where("name == 'Ann''", "string never closed", 8);
  check_where("`first name == 1", "column name in backticks never closed", 0);
  check_where("age is 3", "expected 'null' after 'is'", 7);
  check_where("age > 30 30", "unexpected '30' after the expression", 9);
  check_where("a == #", "unexpected '#'", 5);
  check_where("a # b", "unexpected '# b' after the expression", 2);
  check_where("not", "expected a value, found the end", 3);
  check_where("a <> 1 and a = 2", NULL, 0); /* SQL spellings */
  char *many = malloc(4 * 1100 + 8);
  CHECK(many != NULL);
  strcpy(many, "a");
  for (int i = 0; i < 1100; i++)
    strcat(many, " + a");
  check_where(many, "expression too long (at most 1000 operators)", 4002);
  free(many);
}

static const char *sort_rows(const char *by, bool desc) {
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.sort");
  job_in(j, "input", "people.csv");
  job_list(j, "by", by);
  job_bool(j, "descending", desc);
  job_out(j, "out", "sorted.csv");
  run_ok(j);
  job_free(j);
  return read_rel("sorted.csv");
}

static void test_sort(void) {
  CHECK_STREQ(sort_rows("age", false), "name,age,city,score\n"
                                       "Cid,,Berlin,9\n"
                                       "Bob,25,Paris,\n"
                                       "Eve,25,Paris,8\n"
                                       "Ann,31,Berlin,7.5\n"
                                       "Dee,42,Rome,6\n");
  CHECK_STREQ(sort_rows("city|score", true), "name,age,city,score\n"
                                             "Dee,42,Rome,6\n"
                                             "Eve,25,Paris,8\n"
                                             "Bob,25,Paris,\n"
                                             "Cid,,Berlin,9\n"
                                             "Ann,31,Berlin,7.5\n");
  /* numbers by value, not bytes: 9 < 10 */
  write_str("nums.csv", "n\n10\n9\n-1\n2.5\n");
  job *j = job_new("table.sort");
  job_in(j, "input", "nums.csv");
  job_list(j, "by", "n");
  job_out(j, "out", "nsorted.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("nsorted.csv"), "n\n-1\n2.5\n9\n10\n");
  job_free(j);
  /* strings longer than the 8-byte key prefix, negative numbers, -0 */
  write_str("long.csv", "s,x\nprefix_same_b,-0\nprefix_same_a,0\n,-2.5\n"
                        "prefix_same_a,-10\nprefix_samf,3\n");
  j = job_new("table.sort");
  job_in(j, "input", "long.csv");
  job_list(j, "by", "s");
  job_out(j, "out", "lsorted.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("lsorted.csv"), "s,x\n,-2.5\nprefix_same_a,0\n"
                                       "prefix_same_a,-10\nprefix_same_b,-0\n"
                                       "prefix_samf,3\n");
  job_free(j);
  j = job_new("table.sort");
  job_in(j, "input", "long.csv");
  job_list(j, "by", "x");
  job_bool(j, "descending", true);
  job_out(j, "out", "lsorted.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("lsorted.csv"), "s,x\nprefix_samf,3\nprefix_same_b,-0\n"
                                       "prefix_same_a,0\n,-2.5\n"
                                       "prefix_same_a,-10\n");
  job_free(j);
  /* descending is stable too: ties keep their order */
  CHECK(strstr(sort_rows("age", true), "Bob,25,Paris,\nEve,25") != NULL);

  j = job_new("table.sort");
  job_in(j, "input", "people.csv");
  job_list(j, "by", "");
  job_out(j, "out", "x.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "by is empty") != NULL);
  job_free(j);
}

static void test_join(void) {
  write_str("people.csv", PEOPLE);
  write_str("cities.csv", "city,country,name\n"
                          "Berlin,DE,Berlin city\n"
                          "Paris,FR,Paris city\n"
                          "Paris,FR2,Paris again\n");
  job *j = job_new("table.join");
  job_in(j, "left", "people.csv");
  job_in(j, "right", "cities.csv");
  job_list(j, "on", "city");
  job_out(j, "out", "joined.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("joined.csv"),
              "name,age,city,score,country,name_right\n"
              "Ann,31,Berlin,7.5,DE,Berlin city\n"
              "Bob,25,Paris,,FR,Paris city\n"
              "Bob,25,Paris,,FR2,Paris again\n"
              "Cid,,Berlin,9,DE,Berlin city\n"
              "Eve,25,Paris,8,FR,Paris city\n"
              "Eve,25,Paris,8,FR2,Paris again\n");
  job_free(j);

  j = job_new("table.join");
  job_in(j, "left", "people.csv");
  job_in(j, "right", "cities.csv");
  job_list(j, "on", "city");
  job_str(j, "how", "left");
  job_out(j, "out", "ljoined.csv");
  run_ok(j);
  CHECK(strstr(read_rel("ljoined.csv"), "\nDee,42,Rome,6,,\n") != NULL);
  job_free(j);

  j = job_new("table.join");
  job_in(j, "left", "people.csv");
  job_in(j, "right", "cities.csv");
  job_list(j, "on", "city");
  job_str(j, "how", "outer");
  job_out(j, "out", "x.csv");
  CHECK(job_run(j) != 0);
  CHECK_STREQ(j->err, "how must be \"inner\" or \"left\", not \"outer\"");
  job_free(j);

  j = job_new("table.join");
  job_in(j, "left", "people.csv");
  job_in(j, "right", "cities.csv");
  job_list(j, "on", "age");
  job_out(j, "out", "x.csv");
  CHECK(job_run(j) != 0);
  CHECK_STREQ(j->err, "unknown column 'age' in on; columns are city, "
                      "country, name");
  job_free(j);
}

static void test_aggregate(void) {
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.aggregate");
  job_in(j, "input", "people.csv");
  job_list(j, "group_by", "city");
  job_list(j, "aggregations",
           "count|sum:age|mean:score|min:age|max:name|stddev:age");
  job_out(j, "out", "agg.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("agg.csv"),
              "city,count,sum_age,mean_score,min_age,max_name,stddev_age\n"
              "Berlin,2,31,8.25,31,Cid,\n"
              "Paris,2,50,8,25,Eve,0\n"
              "Rome,1,42,6,42,Dee,\n");
  job_free(j);

  /* the whole table; sample stddev of 31, 25, 42, 25 */
  j = job_new("table.aggregate");
  job_in(j, "input", "people.csv");
  job_list(j, "aggregations", "count|stddev:age|mean:age");
  job_out(j, "out", "agg2.csv");
  run_ok(j);
  const char *s = strchr(read_rel("agg2.csv"), '\n') + 1;
  double sd, mean;
  int count;
  CHECK_EQ(sscanf(s, "%d,%lf,%lf", &count, &sd, &mean), 3);
  CHECK_EQ(count, 5);
  CHECK(mean == 30.75);
  CHECK(sd > 8.0155 && sd < 8.0157); /* sqrt(192.75 / 3) = 8.01561 */
  job_free(j);

  /* stddev stays exact far from zero (Welford, not sum of squares) */
  write_str("big.csv", "v\n1000000001\n1000000002\n1000000003\n");
  j = job_new("table.aggregate");
  job_in(j, "input", "big.csv");
  job_list(j, "aggregations", "stddev:v|mean:v|sum:v");
  job_out(j, "out", "agg3.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("agg3.csv"),
              "stddev_v,mean_v,sum_v\n1,1000000002,3000000006\n");
  job_free(j);

  j = job_new("table.aggregate");
  job_in(j, "input", "people.csv");
  job_list(j, "aggregations", "median:age");
  job_out(j, "out", "x.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "aggregation \"median:age\"") != NULL);
  job_free(j);

  j = job_new("table.aggregate");
  job_in(j, "input", "people.csv");
  job_list(j, "aggregations", "sum:city");
  job_out(j, "out", "x.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "needs numbers") != NULL);
  job_free(j);
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static void test_split(void) {
  char big[8192] = "id\n";
  for (int i = 0; i < 100; i++)
    sprintf(big + strlen(big), "%d\n", i);
  write_str("ids.csv", big);
  char train1[4096], test1[4096];
  for (int round = 0; round < 3; round++) {
    job *j = job_new("table.split");
    job_in(j, "input", "ids.csv");
    if (round == 2)
      job_int(j, "seed", 7);
    job_out(j, "train", "train.csv");
    job_out(j, "test", "test.csv");
    run_ok(j); /* ratio defaults to 0.8 */
    job_free(j);
    char tr[4096], te[4096];
    snprintf(tr, sizeof tr, "%s", read_rel("train.csv"));
    snprintf(te, sizeof te, "%s", read_rel("test.csv"));
    CHECK_EQ(count_lines(tr), 81);
    CHECK_EQ(count_lines(te), 21);
    if (round == 0) {
      strcpy(train1, tr), strcpy(test1, te);
    } else if (round == 1) { /* same seed, same split */
      CHECK_STREQ(tr, train1);
      CHECK_STREQ(te, test1);
    } else {
      CHECK(strcmp(tr, train1) != 0);
    }
    /* every row lands in exactly one part, in the original order */
    int last = -1, seen[100] = {0};
    for (const char *s = strchr(tr, '\n') + 1; *s; s = strchr(s, '\n') + 1) {
      int v = atoi(s);
      CHECK(v > last);
      last = v;
      seen[v]++;
    }
    for (const char *s = strchr(te, '\n') + 1; *s; s = strchr(s, '\n') + 1)
      seen[atoi(s)]++;
    for (int i = 0; i < 100; i++)
      CHECK_EQ(seen[i], 1);
  }
  job *j = job_new("table.split");
  job_in(j, "input", "ids.csv");
  job_float(j, "ratio", 1.5);
  job_out(j, "train", "train.csv");
  job_out(j, "test", "test.csv");
  CHECK(job_run(j) != 0);
  CHECK_STREQ(j->err, "ratio must be between 0 and 1, not 1.5");
  job_free(j);
}

static void test_sample(void) {
  char big[8192] = "id\n";
  for (int i = 0; i < 100; i++)
    sprintf(big + strlen(big), "%d\n", i);
  write_str("ids.csv", big);
  job *j = job_new("table.sample");
  job_in(j, "input", "ids.csv");
  job_int(j, "n", 10);
  job_out(j, "out", "s.csv");
  run_ok(j);
  CHECK_EQ(count_lines(read_rel("s.csv")), 11);
  job_free(j);

  j = job_new("table.sample");
  job_in(j, "input", "ids.csv");
  job_float(j, "fraction", 0.25);
  job_out(j, "out", "s.csv");
  run_ok(j);
  CHECK_EQ(count_lines(read_rel("s.csv")), 26);
  job_free(j);

  j = job_new("table.sample");
  job_in(j, "input", "ids.csv");
  job_out(j, "out", "s.csv");
  CHECK(job_run(j) != 0); /* neither n nor fraction */
  CHECK(strstr(j->err, "exactly one of n") != NULL);
  job_free(j);
}

static void test_dedupe(void) {
  write_str("dups.csv", "a,b\n1,x\n1,y\n1,x\n,x\n,x\n2,\n");
  job *j = job_new("table.dedupe");
  job_in(j, "input", "dups.csv");
  job_out(j, "out", "d.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("d.csv"), "a,b\n1,x\n1,y\n,x\n2,\n");
  job_free(j);

  j = job_new("table.dedupe");
  job_in(j, "input", "dups.csv");
  job_list(j, "columns", "a");
  job_out(j, "out", "d.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("d.csv"), "a,b\n1,x\n,x\n2,\n");
  job_free(j);
}

static const char *fill(const char *strategy, const char *value,
                        const char *columns) {
  write_str("holes.csv", "a,b,c\n1,x,\n,y,2\n4,,\n7,z,4\n");
  job *j = job_new("table.fill_missing");
  job_in(j, "input", "holes.csv");
  job_str(j, "strategy", strategy);
  if (value)
    job_str(j, "value", value);
  if (columns)
    job_list(j, "columns", columns);
  job_out(j, "out", "filled.csv");
  int rc = job_run(j);
  static char err[1100];
  snprintf(err, sizeof err, "error: %s", j->err);
  job_free(j);
  return rc ? err : read_rel("filled.csv");
}

static void test_fill_missing(void) {
  CHECK_STREQ(fill("mean", NULL, "a|c"), "a,b,c\n1,x,3\n4,y,2\n4,,3\n7,z,4\n");
  CHECK_STREQ(fill("median", NULL, "a"), "a,b,c\n1,x,\n4,y,2\n4,,\n7,z,4\n");
  CHECK_STREQ(fill("value", "?", NULL), "a,b,c\n1,x,?\n?,y,2\n4,?,?\n7,z,4\n");
  /* columns = []: mean and median skip text columns */
  CHECK_STREQ(fill("mean", NULL, NULL), "a,b,c\n1,x,3\n4,y,2\n4,,3\n7,z,4\n");
  CHECK_STREQ(fill("value", NULL, NULL),
              "error: strategy \"value\" needs the fill value: value = "
              "\"...\"");
  CHECK_STREQ(fill("mean", NULL, "b"),
              "error: row 1: column 'b' is not a number ('x')");
  CHECK_STREQ(fill("mode", NULL, NULL),
              "error: strategy must be \"mean\", \"median\" or \"value\", "
              "not \"mode\"");
}

static void test_normalize(void) {
  write_str("nums.csv", "x,y\n1,a\n2,b\n3,\n,d\n");
  job *j = job_new("table.normalize");
  job_in(j, "input", "nums.csv");
  job_list(j, "columns", "x");
  job_str(j, "method", "minmax");
  job_out(j, "out", "n.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("n.csv"), "x,y\n0,a\n0.5,b\n1,\n,d\n");
  job_free(j);

  j = job_new("table.normalize"); /* zscore, population std */
  job_in(j, "input", "nums.csv");
  job_list(j, "columns", "x");
  job_out(j, "out", "n.csv");
  run_ok(j);
  double a, b, c;
  CHECK_EQ(sscanf(read_rel("n.csv"), "x,y\n%lf,a\n%lf,b\n%lf", &a, &b, &c),
           3);
  CHECK(b == 0 && a < -1.2247 && a > -1.2248 && c == -a);
  job_free(j);

  j = job_new("table.normalize");
  job_in(j, "input", "nums.csv");
  job_list(j, "columns", "x");
  job_str(j, "method", "l2");
  job_out(j, "out", "n.csv");
  CHECK(job_run(j) != 0);
  CHECK(strstr(j->err, "method must be") != NULL);
  job_free(j);
}

static void test_one_hot(void) {
  write_str("cat.csv", "id,color,n\n1,red,5\n2,blue,6\n3,,7\n4,red,8\n");
  job *j = job_new("table.one_hot");
  job_in(j, "input", "cat.csv");
  job_list(j, "columns", "color");
  job_out(j, "out", "oh.csv");
  run_ok(j);
  CHECK_STREQ(read_rel("oh.csv"), "id,color=blue,color=red,n\n"
                                  "1,0,1,5\n2,1,0,6\n3,0,0,7\n4,0,1,8\n");
  job_free(j);
}

static void test_describe(void) {
  write_str("people.csv", PEOPLE);
  job *j = job_new("table.describe");
  job_in(j, "input", "people.csv");
  job_out(j, "out", "desc.json");
  run_ok(j);
  const char *s = read_rel("desc.json");
  CHECK(strstr(s, "\"rows\": 5") != NULL);
  CHECK(strstr(s, "{\"name\": \"age\", \"type\": \"int\", \"count\": 4, "
                  "\"nulls\": 1, \"distinct\": 3, \"mean\": 30.75") != NULL);
  CHECK(strstr(s, "\"min\": 25, \"max\": 42}") != NULL);
  CHECK(strstr(s, "{\"name\": \"city\", \"type\": \"string\", \"count\": 5, "
                  "\"nulls\": 0, \"distinct\": 3}") != NULL);
  CHECK(strstr(s, "\"name\": \"score\", \"type\": \"float\"") != NULL);
  job_free(j);

  write_str("tenths.csv", "x\n0.1\n0.1\n");
  j = job_new("table.describe");
  job_in(j, "input", "tenths.csv");
  job_out(j, "out", "desc.json");
  run_ok(j);
  CHECK(strstr(read_rel("desc.json"), "\"mean\": 0.1, \"std\": 0, "
                                      "\"min\": 0.1, \"max\": 0.1}") != NULL);
  job_free(j);
}

static void test_cancelled(void) {
  write_str("people.csv", PEOPLE);
  static const char *const comps[] = {"table.sort", "table.dedupe",
                                      "table.describe"};
  for (size_t i = 0; i < 3; i++) {
    job *j = job_new(comps[i]);
    j->cancelled = 1;
    job_in(j, "input", "people.csv");
    if (strcmp(comps[i], "table.sort") == 0)
      job_list(j, "by", "age");
    job_out(j, "out", "c.out");
    CHECK(job_run(j) != 0);
    CHECK_STREQ(j->err, "cancelled");
    job_free(j);
  }
}

int main(void) {
  setup();
  RUN(test_registry);
  RUN(test_read_csv);
  RUN(test_write_csv);
  RUN(test_select);
  RUN(test_filter);
  RUN(test_filter_check);
  RUN(test_sort);
  RUN(test_join);
  RUN(test_aggregate);
  RUN(test_split);
  RUN(test_sample);
  RUN(test_dedupe);
  RUN(test_fill_missing);
  RUN(test_normalize);
  RUN(test_one_hot);
  RUN(test_describe);
  RUN(test_cancelled);
  teardown();
  return 0;
}
