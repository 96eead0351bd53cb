/*
 * test_cachekey.c — cache keys (engine/cachekey.c) on a hand-built IR:
 * stable; every part of DESIGN §4 moves the key and nothing else does; the
 * encoding is unambiguous; parts render, round-trip as text, and explain
 * themselves.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachekey.h"

static char root[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void write_file(const char *rel, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "wb");
  CHECK(f != NULL);
  fputs(text, f);
  CHECK_EQ(fclose(f), 0);
}

/* ---- a small pipeline, built by hand ------------------------------------
 *   load  = table.read_csv(path = "data/x.csv", ratio = 0.8)
 *   feats = featurize(raw = load.out, min_count = 3)          (a command)
 */
typedef struct fixture {
  pipec_pipeline p;
  pipec_component comps[2];
  pipec_node nodes[2];
  pipec_param load_params[2];
  pipec_param feats_params[4];
  pipec_input feats_inputs[2];
  pipec_port_decl outs[2];
  pipec_port_decl read_out[1];
  const char *code[3];
  pipec_keyval env[2];
  pipec_target targets[2];
  hash128 inputs[2];           /* of feats */
} fixture;

static void make(fixture *f) {
  memset(f, 0, sizeof *f);
  f->targets[0] = (pipec_target){.name = "local", .kind = "local"};
  f->targets[1] = (pipec_target){.name = "box", .kind = "ssh"};

  f->read_out[0] = (pipec_port_decl){.name = "out", .type = PIPEC_PORT_TABLE};
  f->comps[0] = (pipec_component){.name = "table.read_csv",
                                  .kind = PIPEC_COMP_BUILTIN,
                                  .version = "1",
                                  .outputs = f->read_out,
                                  .n_outputs = 1};
  f->outs[0] = (pipec_port_decl){.name = "features", .type = PIPEC_PORT_TABLE};
  f->code[0] = "scripts/f.py";
  f->env[0] = (pipec_keyval){"PYTHONHASHSEED", "0"};
  f->comps[1] = (pipec_component){
      .name = "featurize",
      .kind = PIPEC_COMP_COMMAND,
      .outputs = f->outs,
      .n_outputs = 1,
      .command = "python3 scripts/f.py {raw} {features} --min {min_count}",
      .code = f->code,
      .n_code = 1,
      .env = f->env,
      .n_env = 1};

  f->load_params[0] = (pipec_param){"path", {.type = PIPEC_T_PATH,
                                             .u.s = "data/x.csv"}};
  f->load_params[1] = (pipec_param){"ratio", {.type = PIPEC_T_FLOAT,
                                              .u.f = 0.8}};
  f->nodes[0] = (pipec_node){.name = "load", .component = 0,
                             .params = f->load_params, .n_params = 2,
                             .cache = true};
  f->feats_params[0] = (pipec_param){"min_count", {.type = PIPEC_T_INT,
                                                   .u.i = 3}};
  f->feats_inputs[0] = (pipec_input){.port = "raw", .type = PIPEC_PORT_TABLE, .producer = 0, .producer_port = "out"};
  f->nodes[1] = (pipec_node){.name = "feats", .component = 1,
                             .params = f->feats_params, .n_params = 1,
                             .inputs = f->feats_inputs, .n_inputs = 1,
                             .cache = true};
  f->inputs[0] = hash_buf("load's output", 13);

  f->p = (pipec_pipeline){.name = "t", .file = "t.pipe", .dir = root,
                          .components = f->comps, .n_components = 2,
                          .targets = f->targets, .n_targets = 2,
                          .nodes = f->nodes, .n_nodes = 2};
}

/* The key of a node as a fresh run would compute it (a new memo, so edits
 * on disk are seen). parts may be NULL. */
static const char *image_id; /* of the node's image, for key_of */

static hash128 key_of(fixture *f, uint32_t node, ck_parts *parts) {
  hash_memo *m = hash_memo_new(root, NULL);
  CHECK(m != NULL);
  hash128 k;
  char err[512] = "";
  int rc = ck_compute(&f->p, node, node == 1 ? f->inputs : NULL, image_id,
                      hash_memo_cb, m, &k, parts, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "ck_compute: %s\n", err);
  CHECK_EQ(rc, 0);
  hash_memo_free(m);
  return k;
}

/* The parts of each key must tell the same story as the keys do. */
static void check_differs(const hash128 *a, const ck_parts *pa,
                          const hash128 *b, const ck_parts *pb,
                          bool differ) {
  char *why = NULL;
  int n = ck_explain(pa, pb, &why);
  CHECK(why != NULL);
  if (differ) {
    CHECK(!hash_eq(a, b));
    CHECK(n >= 1);
  } else {
    if (n != 0)
      fprintf(stderr, "unexpected differences:\n%s", why);
    CHECK(hash_eq(a, b));
    CHECK_EQ(n, 0);
    CHECK_STREQ(why, "");
  }
  free(why);
}

/* Compute node's key and parts before and after `mutate`, restore the
 * fixture, and check they differ (or not). */
#define KEY_CHANGE(node, differ, mutate)                                 \
  do {                                                                   \
    fixture f_;                                                          \
    ck_parts pa_ = {0}, pb_ = {0};                                       \
    make(&f_);                                                           \
    hash128 a_ = key_of(&f_, (node), &pa_);                              \
    {                                                                    \
      fixture *f = &f_;                                                  \
      (void)f;                                                           \
      mutate;                                                            \
    }                                                                    \
    hash128 b_ = key_of(&f_, (node), &pb_);                              \
    check_differs(&a_, &pa_, &b_, &pb_, (differ));                       \
    ck_parts_free(&pa_);                                                 \
    ck_parts_free(&pb_);                                                 \
  } while (0)

static void reset_files(void) {
  write_file("data/x.csv", "a,b\n1,2\n");
  write_file("scripts/f.py", "print('f')\n");
  write_file("scripts/g.py", "print('g')\n");
}

static void test_stable(void) {
  fixture f;
  make(&f);
  hash128 a = key_of(&f, 1, NULL), b = key_of(&f, 1, NULL);
  CHECK(hash_eq(&a, &b));
  ck_parts parts = {0};
  b = key_of(&f, 1, &parts);               /* parts do not change the key */
  CHECK(hash_eq(&a, &b));
  a = key_of(&f, 0, NULL);
  CHECK(!hash_eq(&a, &b));
  ck_parts_free(&parts);
}

static void test_every_part_counts(void) {
  /* params: value, type, string vs path */
  KEY_CHANGE(1, true, f->feats_params[0].value.u.i = 4);
  KEY_CHANGE(1, true, (f->feats_params[0].value =
                           (pipec_value){.type = PIPEC_T_FLOAT, .u.f = 3.0}));
  KEY_CHANGE(0, true, f->load_params[1].value.u.f = 0.7);
  KEY_CHANGE(0, true, f->load_params[0].value.type = PIPEC_T_STRING);
  KEY_CHANGE(0, true, f->load_params[0].value.u.s = "data/y.csv");
  KEY_CHANGE(1, true, f->nodes[1].n_params = 0);
  /* a path param's content, and its absence */
  KEY_CHANGE(0, true, write_file("data/x.csv", "a,b\n1,3\n"));
  reset_files();
  KEY_CHANGE(0, true, f->load_params[0].value.u.s = "data/none.csv");
  /* inputs */
  KEY_CHANGE(1, true, f->inputs[0] = hash_buf("other", 5));
  /* command component: code content, code list, template, version,
   * outputs, env */
  KEY_CHANGE(1, true, write_file("scripts/f.py", "print('F')\n"));
  reset_files();
  KEY_CHANGE(1, true, (f->code[1] = "scripts/g.py", f->comps[1].n_code = 2));
  KEY_CHANGE(1, true, f->comps[1].command = "python3 scripts/f.py {raw}");
  KEY_CHANGE(1, true, f->comps[1].version = "2");
  KEY_CHANGE(1, true, (f->outs[1] = (pipec_port_decl){.name = "extra",
                                                      .type = PIPEC_PORT_FILE},
                       f->comps[1].n_outputs = 2));
  KEY_CHANGE(1, true, f->outs[0].type = PIPEC_PORT_JSON);
  KEY_CHANGE(1, true, f->env[0].value = "1");
  KEY_CHANGE(1, true, (f->env[1] = (pipec_keyval){"TZ", "UTC"},
                       f->comps[1].n_env = 2));
  /* built-in component: version, name */
  KEY_CHANGE(0, true, f->comps[0].version = "2");
  KEY_CHANGE(0, true, f->comps[0].name = "table.read_tsv");
}

static void test_what_does_not_count(void) {
  KEY_CHANGE(1, false, f->nodes[1].name = "renamed");
  KEY_CHANGE(1, false, f->nodes[1].target = 1);
  KEY_CHANGE(1, false, (f->nodes[1].retries = 3, f->nodes[1].timeout_s = 60,
                        f->nodes[1].resources.cpus = 4,
                        f->nodes[1].cache = false));
  /* the producer's name is display only (the input's content counts) */
  KEY_CHANGE(1, false, f->nodes[0].name = "loader");
  /* a command component's own name */
  KEY_CHANGE(1, false, f->comps[1].name = "featurize2");
  /* the order code files are listed in */
  fixture f;
  make(&f);
  f.code[1] = "scripts/g.py";
  f.comps[1].n_code = 2;
  hash128 a = key_of(&f, 1, NULL);
  f.code[0] = "scripts/g.py";
  f.code[1] = "scripts/f.py";
  hash128 b = key_of(&f, 1, NULL);
  CHECK(hash_eq(&a, &b));
  /* touching a file without changing it */
  make(&f);
  a = key_of(&f, 0, NULL);
  write_file("data/x.csv", "a,b\n1,2\n");
  b = key_of(&f, 0, NULL);
  CHECK(hash_eq(&a, &b));
}

static void test_unambiguous(void) {
  fixture f;
  hash128 a, b;
  make(&f);
  pipec_param p1[1] = {{"a", {.type = PIPEC_T_STRING, .u.s = "bc"}}};
  pipec_param p2[1] = {{"ab", {.type = PIPEC_T_STRING, .u.s = "c"}}};
  f.nodes[1].params = p1;
  a = key_of(&f, 1, NULL);
  f.nodes[1].params = p2;
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));

  /* two params vs one holding both texts */
  pipec_param p3[2] = {{"a", {.type = PIPEC_T_STRING, .u.s = "b"}},
                       {"c", {.type = PIPEC_T_STRING, .u.s = ""}}};
  pipec_param p4[1] = {{"a", {.type = PIPEC_T_STRING, .u.s = "bc"}}};
  f.nodes[1].params = p3;
  f.nodes[1].n_params = 2;
  a = key_of(&f, 1, NULL);
  f.nodes[1].params = p4;
  f.nodes[1].n_params = 1;
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));

  /* lists: [1, 2] vs [12] vs int 12 */
  pipec_value i1[2] = {{.type = PIPEC_T_INT, .u.i = 1},
                       {.type = PIPEC_T_INT, .u.i = 2}};
  pipec_value i2[1] = {{.type = PIPEC_T_INT, .u.i = 12}};
  pipec_param l[1] = {{"cols", {.type = PIPEC_T_LIST,
                                .u.list = {i1, 2}}}};
  f.nodes[1].params = l;
  a = key_of(&f, 1, NULL);
  l[0].value.u.list.items = i2;
  l[0].value.u.list.n = 1;
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));
  l[0].value = i2[0];
  hash128 c = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&b, &c));

  /* adjacent strings with no tag between them: env a=bc vs ab=c */
  make(&f);
  f.env[0] = (pipec_keyval){"a", "bc"};
  a = key_of(&f, 1, NULL);
  f.env[0] = (pipec_keyval){"ab", "c"};
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));

  /* values with the same bytes and another type: int 0, float 0.0, "" */
  pipec_param z[1] = {{"z", {.type = PIPEC_T_INT, .u.i = 0}}};
  f.nodes[1].params = z;
  f.nodes[1].n_params = 1;
  a = key_of(&f, 1, NULL);
  z[0].value = (pipec_value){.type = PIPEC_T_FLOAT, .u.f = 0.0};
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));
  z[0].value = (pipec_value){.type = PIPEC_T_STRING, .u.s = ""};
  c = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &c));
  CHECK(!hash_eq(&b, &c));

  /* the command template vs the same text in env */
  make(&f);
  f.comps[1].command = "x";
  f.env[0] = (pipec_keyval){"K", ""};
  a = key_of(&f, 1, NULL);
  f.comps[1].command = "";
  f.env[0] = (pipec_keyval){"K", "x"};
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));
}

static const char *part(const ck_parts *ps, const char *name) {
  const ck_part *p = ck_parts_find(ps, name);
  return p ? p->value : NULL;
}

static void test_parts(void) {
  fixture f;
  ck_parts ps = {0};
  char hex[HASH_HEX_LEN + 1], want[256];
  make(&f);
  key_of(&f, 0, &ps);
  CHECK_STREQ(part(&ps, "component"), "table.read_csv@1");
  CHECK_STREQ(part(&ps, "param:ratio"), "0.8");
  hash128 h = hash_buf("a,b\n1,2\n", 8);
  hash_hex(&h, hex);
  snprintf(want, sizeof want, "path data/x.csv content %s", hex);
  CHECK_STREQ(part(&ps, "param:path"), want);

  key_of(&f, 1, &ps);                       /* reuses the list */
  CHECK(part(&ps, "component") == NULL);
  CHECK_STREQ(part(&ps, "command"), f.comps[1].command);
  CHECK_STREQ(ck_parts_find(&ps, "command")->note, "featurize");
  CHECK_STREQ(part(&ps, "outputs"), "features:table");
  CHECK_STREQ(part(&ps, "param:min_count"), "3");
  hash_hex(&f.inputs[0], hex);
  CHECK_STREQ(part(&ps, "input:raw"), hex);
  CHECK_STREQ(ck_parts_find(&ps, "input:raw")->note, "load.out");
  h = hash_buf("print('f')\n", 11);
  hash_hex(&h, hex);
  CHECK_STREQ(part(&ps, "code:scripts/f.py"), hex);
  CHECK_STREQ(part(&ps, "env:PYTHONHASHSEED"), "0");

  /* renderings keep types apart */
  pipec_value items[3] = {{.type = PIPEC_T_INT, .u.i = -1},
                          {.type = PIPEC_T_STRING, .u.s = "a \"q\"\n"},
                          {.type = PIPEC_T_BOOL, .u.b = true}};
  pipec_param pp[5] = {
      {"f1", {.type = PIPEC_T_FLOAT, .u.f = 1.0}},
      {"f2", {.type = PIPEC_T_FLOAT, .u.f = 0.1}},
      {"f3", {.type = PIPEC_T_FLOAT, .u.f = 1e300}},
      {"l", {.type = PIPEC_T_LIST, .u.list = {items, 3}}},
      {"s", {.type = PIPEC_T_STRING, .u.s = "1"}}};
  f.nodes[1].params = pp;
  f.nodes[1].n_params = 5;
  key_of(&f, 1, &ps);
  CHECK_STREQ(part(&ps, "param:f1"), "1.0");
  CHECK_STREQ(part(&ps, "param:f2"), "0.1");
  CHECK_STREQ(part(&ps, "param:f3"), "1e+300");
  CHECK_STREQ(part(&ps, "param:l"), "[-1, \"a \\\"q\\\"\\n\", true]");
  CHECK_STREQ(part(&ps, "param:s"), "\"1\"");

  /* a directory: the hash of its tree */
  make(&f);
  f.load_params[0].value.u.s = "scripts";
  key_of(&f, 0, &ps);
  CHECK(strncmp(part(&ps, "param:path"), "path scripts tree ", 18) == 0);

  /* a missing path param is a state, not an error */
  make(&f);
  f.load_params[0].value.u.s = "data/none.csv";
  key_of(&f, 0, &ps);
  CHECK_STREQ(part(&ps, "param:path"), "path data/none.csv missing");
  ck_parts_free(&ps);
}

static void test_round_trip(void) {
  ck_parts ps = {0}, back = {0};
  char err[256];
  CHECK_EQ(ck_parts_add(&ps, "param:s", "tab\there\nnew\\line\r", "n\to"), 0);
  CHECK_EQ(ck_parts_add(&ps, "env:EMPTY", "", NULL), 0);
  CHECK_EQ(ck_parts_add(&ps, "input:raw", "00ff", "load.out"), 0);
  size_t len;
  char *text = ck_parts_format(&ps, &len);
  CHECK(text != NULL);
  CHECK_EQ(strlen(text), len);
  CHECK(strchr(text, '\r') == NULL);
  CHECK_EQ(ck_parts_parse(text, len, &back, err, sizeof err), 0);
  CHECK_EQ(back.n, 3);
  for (uint32_t i = 0; i < 3; i++) {
    CHECK_STREQ(back.items[i].name, ps.items[i].name);
    CHECK_STREQ(back.items[i].value, ps.items[i].value);
    CHECK_STREQ(back.items[i].note, ps.items[i].note);
  }
  char *again = ck_parts_format(&back, NULL);
  CHECK_STREQ(again, text);
  free(again);
  free(text);

  /* real parts too */
  fixture f;
  make(&f);
  key_of(&f, 1, &ps);
  text = ck_parts_format(&ps, &len);
  ck_parts_clear(&back);
  CHECK_EQ(ck_parts_parse(text, len, &back, err, sizeof err), 0);
  char *why;
  CHECK_EQ(ck_explain(&ps, &back, &why), 0);
  free(why);
  free(text);

  /* damaged text is refused */
  ck_parts_clear(&back);
  CHECK_EQ(ck_parts_parse("nope\n", 5, &back, err, sizeof err), -EINVAL);
  const char *bad = "pipec-ck-parts 1\nonly\tone-tab\n";
  CHECK_EQ(ck_parts_parse(bad, strlen(bad), &back, err, sizeof err),
           -EINVAL);
  CHECK(strstr(err, "line 2") != NULL);
  bad = "pipec-ck-parts 1\na\tb\\x\t\n";
  CHECK_EQ(ck_parts_parse(bad, strlen(bad), &back, err, sizeof err),
           -EINVAL);
  bad = "pipec-ck-parts 1\na\tb\tc";
  CHECK_EQ(ck_parts_parse(bad, strlen(bad), &back, err, sizeof err),
           -EINVAL);
  ck_parts_free(&ps);
  ck_parts_free(&back);
}

/* Explain node's change after `mutate` and compare with the expected text. */
#define EXPLAIN(node, mutate, expected)                                  \
  do {                                                                   \
    fixture f_;                                                          \
    ck_parts pa_ = {0}, pb_ = {0};                                       \
    make(&f_);                                                           \
    key_of(&f_, (node), &pa_);                                           \
    {                                                                    \
      fixture *f = &f_;                                                  \
      (void)f;                                                           \
      mutate;                                                            \
    }                                                                    \
    key_of(&f_, (node), &pb_);                                           \
    char *why_ = NULL;                                                   \
    CHECK(ck_explain(&pa_, &pb_, &why_) >= 1);                           \
    CHECK_STREQ(why_, (expected));                                       \
    free(why_);                                                          \
    ck_parts_free(&pa_);                                                 \
    ck_parts_free(&pb_);                                                 \
  } while (0)

/* A node's image counts by its id, never by its tag; a node without one
 * keys as before. */
static void test_image(void) {
  fixture f;
  make(&f);
  hash128 plain = key_of(&f, 1, NULL);
  const char *id1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  const char *id2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  image_id = id1; /* ignored without an image */
  hash128 again = key_of(&f, 1, NULL);
  CHECK(hash_eq(&plain, &again));
  f.nodes[1].image = "localhost/tool:1";
  hash128 a = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&plain, &a));
  f.nodes[1].image = "localhost/tool:other-tag";  /* the same image */
  hash128 b = key_of(&f, 1, NULL);
  CHECK(hash_eq(&a, &b));
  image_id = id2;                                  /* the tag moved */
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));
  image_id = id1;
  f.nodes[1].network = true;                       /* what it can reach */
  b = key_of(&f, 1, NULL);
  CHECK(!hash_eq(&a, &b));
  f.nodes[1].network = false;
  ck_parts ps = {0};
  key_of(&f, 1, &ps);
  const ck_part *pt = ck_parts_find(&ps, "image");
  CHECK(pt != NULL);
  CHECK_STREQ(pt->value, id1);
  CHECK_STREQ(pt->note, "localhost/tool:other-tag");
  CHECK_STREQ(ck_parts_find(&ps, "network")->value, "off");
  ck_parts_free(&ps);
  /* an image whose id is not known has no key */
  image_id = NULL;
  hash_memo *m = hash_memo_new(root, NULL);
  hash128 k;
  char err[256];
  CHECK_EQ(ck_compute(&f.p, 1, f.inputs, NULL, hash_memo_cb, m, &k, NULL,
                      err, sizeof err), -EINVAL);
  CHECK(strstr(err, "the id of image 'localhost/tool:other-tag' is not "
                    "known") != NULL);
  hash_memo_free(m);
}

static void test_explain(void) {
  image_id = "sha256:aa";
  EXPLAIN(1, (f->nodes[1].image = "t:1"), "image added: t:1 (sha256:aa)\n"
          "network added: off\n");
  image_id = NULL;
  EXPLAIN(0, f->load_params[1].value.u.f = 0.7,
          "param 'ratio' changed: 0.8 -> 0.7\n");
  EXPLAIN(1, f->inputs[0] = hash_buf("x", 1),
          "input 'raw' changed (produced by node 'load': its output "
          "changed)\n");
  EXPLAIN(1, (f->inputs[0] = hash_buf("x", 1),
              f->feats_inputs[0].producer_port = "other"),
          "input 'raw' changed (now from 'load.other', was 'load.out')\n");
  EXPLAIN(1, write_file("scripts/f.py", "print(2)\n"),
          "code file 'scripts/f.py' changed\n");
  reset_files();
  EXPLAIN(1, (f->code[1] = "scripts/g.py", f->comps[1].n_code = 2),
          "code file 'scripts/g.py' added\n");
  EXPLAIN(0, f->comps[0].version = "2",
          "component version changed: 1 -> 2\n");
  EXPLAIN(0, f->comps[0].name = "table.read_tsv",
          "component changed: table.read_csv@1 -> table.read_tsv@1\n");
  EXPLAIN(1, f->comps[1].version = "2", "component version added: 2\n");
  EXPLAIN(1, (f->env[1] = (pipec_keyval){"X", "1"}, f->comps[1].n_env = 2),
          "env 'X' added: 1\n");
  EXPLAIN(1, f->comps[1].n_env = 0,
          "env 'PYTHONHASHSEED' removed (was 0)\n");
  EXPLAIN(1, f->env[0].value = "1", "env 'PYTHONHASHSEED' changed: 0 -> 1\n");
  EXPLAIN(1, f->comps[1].command = "python3 scripts/f.py {raw}",
          "command changed: python3 scripts/f.py {raw} {features} --min "
          "{min_count} -> python3 scripts/f.py {raw}\n");
  EXPLAIN(0, write_file("data/x.csv", "changed\n"),
          "param 'path' changed: file data/x.csv changed\n");
  reset_files();
  EXPLAIN(0, f->load_params[0].value.u.s = "data/none.csv",
          "param 'path' changed: data/x.csv -> data/none.csv (missing)\n");
  EXPLAIN(0, f->load_params[0].value.type = PIPEC_T_STRING,
          "param 'path' changed: path data/x.csv content "
          "16d51c327d7d2547a793f8d7bbc4457a -> \"data/x.csv\"\n");
  EXPLAIN(1, (f->feats_params[0].value.u.i = 9,
              f->inputs[0] = hash_buf("y", 1)),
          "param 'min_count' changed: 3 -> 9\n"
          "input 'raw' changed (produced by node 'load': its output "
          "changed)\n");
  EXPLAIN(1, (f->feats_params[0].value =
                  (pipec_value){.type = PIPEC_T_FLOAT, .u.f = 3.0}),
          "param 'min_count' changed: 3 -> 3.0\n");
  EXPLAIN(0, f->comps[0].kind = PIPEC_COMP_COMMAND,
          "component is now a command\n"
          "component version added: 1\n"
          "outputs added: out:table\n"
          "component is no longer the built-in table.read_csv@1\n");

  /* A file that disappears */
  {
    char p[512];
    snprintf(p, sizeof p, "%s/data/x.csv", root);
    EXPLAIN(0, CHECK_EQ(unlink(p), 0),
            "param 'path' changed: file data/x.csv was deleted\n");
    reset_files();
  }

  /* A file that appears */
  fixture f;
  ck_parts a = {0}, b = {0};
  char *why;
  make(&f);
  f.load_params[0].value.u.s = "data/later.csv";
  key_of(&f, 0, &a);
  write_file("data/later.csv", "x\n");
  key_of(&f, 0, &b);
  CHECK_EQ(ck_explain(&a, &b, &why), 1);
  CHECK_STREQ(why, "param 'path' changed: file data/later.csv was created\n");
  free(why);
  ck_parts_free(&a);
  ck_parts_free(&b);
}

static void test_errors(void) {
  fixture f;
  hash128 k;
  char err[512] = "";
  make(&f);
  f.code[0] = "scripts/missing.py";
  hash_memo *m = hash_memo_new(root, NULL);
  CHECK(m != NULL);
  CHECK_EQ(ck_compute(&f.p, 1, f.inputs, NULL, hash_memo_cb, m, &k, NULL, err,
                      sizeof err), -ENOENT);
  CHECK(strstr(err, "code file 'scripts/missing.py' of component "
                    "'featurize'") != NULL);
  hash_memo_free(m);
}

int main(void) {
  const char *t = getenv("TMPDIR");
  char p[512];
  snprintf(root, sizeof root, "%s/pipec-ck-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  snprintf(p, sizeof p, "%s/data", root);
  CHECK_EQ(mkdir(p, 0777), 0);
  snprintf(p, sizeof p, "%s/scripts", root);
  CHECK_EQ(mkdir(p, 0777), 0);
  reset_files();
  RUN(test_stable);
  RUN(test_every_part_counts);
  RUN(test_what_does_not_count);
  RUN(test_unambiguous);
  RUN(test_parts);
  RUN(test_round_trip);
  RUN(test_image);
  RUN(test_explain);
  RUN(test_errors);
  nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
