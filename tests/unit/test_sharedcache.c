/*
 * test_sharedcache.c — shared caches (engine/sharedcache.c, wsconfig.c):
 * the config file's syntax and its errors (file:line), PIPEC_CACHE,
 * locations (directories, ssh:// URLs); entries formatted and parsed, and
 * every kind of damage to one refused; a directory cache: push, pull into
 * another store (a tree among the outputs), a flipped byte and a missing
 * object make the entry unusable (the damaged object removed from a
 * writable cache, kept in a readonly one), a cache that is not there is an
 * error and is not created.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sharedcache.h"
#include "tree.h"
#include "wsconfig.h"

static char root[256];

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  fputs(text, f);
  CHECK_EQ(fclose(f), 0);
}

static void sh(const char *fmt, const char *arg) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, fmt, arg, arg, arg);
  CHECK(system(cmd) == 0);
}

/* ---- configuration ---------------------------------------------------------- */

static void expect_cfg_error(const char *text, const char *want) {
  wscfg cfg;
  char err[512] = "";
  CHECK_EQ(wscfg_parse("c", text, strlen(text), &cfg, err, sizeof err), -1);
  if (!strstr(err, want))
    fprintf(stderr, "got: %s\nwant: %s\n", err, want);
  CHECK(strstr(err, want) != NULL);
  wscfg_free(&cfg);
}

static void test_config_syntax(void) {
  const char *text = "# top\n"
                     "[cache \"team\"]   ; trailing\n"
                     "  path = /mnt/x # a comment\n"
                     "  readonly = \"true\"\n"
                     "\n"
                     "[cache \"b\"]\n"
                     "  path = \"/a b/#not a comment\"\n";
  wscfg cfg;
  char err[512];
  CHECK_EQ(wscfg_parse("c", text, strlen(text), &cfg, err, sizeof err), 0);
  CHECK_EQ(cfg.n_sections, 2);
  CHECK_STREQ(cfg.sections[0].kind, "cache");
  CHECK_STREQ(cfg.sections[0].name, "team");
  CHECK_EQ(cfg.sections[0].n_entries, 2);
  CHECK_STREQ(cfg.sections[0].entries[0].value, "/mnt/x");
  CHECK_EQ(cfg.sections[0].entries[0].line, 3);
  CHECK_STREQ(cfg.sections[0].entries[1].value, "true");
  CHECK_STREQ(cfg.sections[1].entries[0].value, "/a b/#not a comment");
  wscfg_free(&cfg);
  expect_cfg_error("path = x\n", "c:1: 'path' is outside any section");
  expect_cfg_error("[cache]\n", "c:1: expected a section header like");
  expect_cfg_error("[cache \"x\"\n", "c:1: expected ']' after the section's name");
  expect_cfg_error("[cache \"x\"]\nnonsense\n", "c:2: expected KEY = VALUE");
  expect_cfg_error("[cache \"x\"]\n a b = c\n", "c:2: 'a b' is not a key");
  expect_cfg_error("[cache \"x\"]\n p = \"open\n", "c:2: the value of 'p' has an unclosed quote");
  expect_cfg_error("[cache \"\"]\n", "c:1: a section's name must not be empty");
  bool b;
  CHECK(wscfg_bool("Yes", &b) == 0 && b);
  CHECK(wscfg_bool("off", &b) == 0 && !b);
  CHECK_EQ(wscfg_bool("maybe", &b), -1);
}

static void configure(const char *ws, const char *config, shc_list *l,
                      int want_rc, const char *want_err) {
  char path[400];
  snprintf(path, sizeof path, "%s/config", ws);
  if (config)
    write_file(path, config);
  else
    unlink(path);
  char err[512] = "";
  int rc = shc_configure(ws, l, err, sizeof err);
  if (rc != want_rc || (want_err && !strstr(err, want_err)))
    fprintf(stderr, "rc %d err: %s\nwant: %s\n", rc, err,
            want_err ? want_err : "");
  CHECK_EQ(rc, want_rc);
  if (want_err)
    CHECK(strstr(err, want_err) != NULL);
}

static void test_configure(void) {
  char ws[400];
  snprintf(ws, sizeof ws, "%s/proj/.pipec", root);
  sh("mkdir -p '%s'", ws);
  unsetenv("PIPEC_CACHE");
  shc_list l;
  configure(ws, NULL, &l, 0, NULL);
  CHECK_EQ(l.n, 0);
  shc_list_free(&l);
  configure(ws, "[cache \"team\"]\n path = ../shared\n"
                "[cache \"far\"]\n path = ssh://me@host.example:2200/srv/c\n"
                " readonly = yes\n connect_timeout = 7s\n"
                "[cache \"home\"]\n path = ssh://h/~/c/\n",
            &l, 0, NULL);
  CHECK_EQ(l.n, 3);
  char want[400];
  snprintf(want, sizeof want, "%s/proj/../shared", root);
  CHECK_STREQ(l.v[0].dir, want); /* relative to the project */
  CHECK_EQ(l.v[0].kind, SHC_DIR);
  CHECK(!l.v[0].readonly);
  CHECK_EQ(l.v[1].kind, SHC_SSH);
  CHECK_STREQ(l.v[1].host, "host.example");
  CHECK_STREQ(l.v[1].user, "me");
  CHECK_EQ(l.v[1].port, 2200);
  CHECK_STREQ(l.v[1].dir, "/srv/c");
  CHECK(l.v[1].readonly);
  CHECK_EQ(l.v[1].connect_timeout, 7);
  CHECK_STREQ(l.v[2].dir, "c"); /* relative to the remote home */
  CHECK(shc_find(&l, "far") == &l.v[1]);
  CHECK(shc_find(&l, "nope") == NULL);
  char *claims = shc_claims_dir(&l.v[0]);
  snprintf(want, sizeof want, "%s/proj/../shared/claims", root);
  CHECK_STREQ(claims, want);
  free(claims);
  CHECK(shc_claims_dir(&l.v[1]) == NULL); /* ssh, readonly */
  shc_list_free(&l);
  configure(ws, "[quota \"q\"]\n", &l, -1, "config:1: unknown section [quota \"q\"]");
  configure(ws, "[cache \"a\"]\n path = /x\n[cache \"a\"]\n path = /y\n", &l,
            -1, "config:3: a second cache named 'a'");
  configure(ws, "[cache \"a b\"]\n", &l, -1, "config:1: 'a b' is not a cache name");
  configure(ws, "[cache \"a\"]\n path = ssh://host\n", &l, -1,
            "config:2: 'ssh://host' needs a host and a path");
  configure(ws, "[cache \"a\"]\n path = ssh://h:99999/x\n", &l, -1,
            "the port must be a number from 1 to 65535");
  configure(ws, "[cache \"a\"]\n path = /x\n connect_timeout = soon\n", &l, -1,
            "config:3: connect_timeout must be a number of seconds");
  /* PIPEC_CACHE replaces the file, even empty */
  setenv("PIPEC_CACHE", "", 1);
  configure(ws, "[cache \"a\"]\n path = /x\n", &l, 0, NULL);
  CHECK_EQ(l.n, 0);
  shc_list_free(&l);
  setenv("PIPEC_CACHE", " /mnt/team-cache/ ; lab=ssh://h/srv/x?readonly;/o/team-cache", 1);
  configure(ws, NULL, &l, 0, NULL);
  CHECK_EQ(l.n, 3);
  CHECK_STREQ(l.v[0].name, "team-cache");
  CHECK_STREQ(l.v[0].dir, "/mnt/team-cache");
  CHECK_STREQ(l.v[1].name, "lab");
  CHECK(l.v[1].readonly);
  CHECK_STREQ(l.v[2].name, "team-cache2"); /* names made unique */
  CHECK_STREQ(l.v[0].origin, "PIPEC_CACHE");
  shc_list_free(&l);
  setenv("PIPEC_CACHE", "a=/x;a=/y", 1);
  configure(ws, NULL, &l, -1, "PIPEC_CACHE: two caches are named 'a'");
  unsetenv("PIPEC_CACHE");
}

/* ---- entries ------------------------------------------------------------------- */

static shc_entry sample(void) {
  shc_entry e = {0};
  hash128 k = hash_buf("key", 3);
  e.key = k;
  e.n_outs = 2;
  e.outs = calloc(2, sizeof *e.outs);
  e.outs[0] = (shc_output){.port = strdup("out"), .hash = hash_buf("a", 1),
                           .size = 1};
  e.outs[1] = (shc_output){.port = strdup("d"), .hash = hash_buf("b", 1),
                           .size = 12345678901ULL, .tree = true};
  e.n_inputs = 1;
  e.inputs = calloc(1, sizeof *e.inputs);
  e.inputs[0] = hash_buf("in", 2);
  return e;
}

static int parse(const char *text, const hash128 *want, char *err) {
  shc_entry e;
  int rc = shc_entry_parse(text, strlen(text), want, &e, err, 256);
  shc_entry_free(&e);
  return rc;
}

static void test_entries(void) {
  shc_entry e = sample();
  size_t len;
  char *text = shc_entry_format(&e, &len);
  CHECK_EQ(strlen(text), len);
  shc_entry back;
  char err[256];
  CHECK_EQ(shc_entry_parse(text, len, &e.key, &back, err, sizeof err), 0);
  CHECK_EQ(back.n_outs, 2);
  CHECK_STREQ(back.outs[1].port, "d");
  CHECK(back.outs[1].tree && !back.outs[0].tree);
  CHECK_EQ(back.outs[1].size, 12345678901ULL);
  CHECK(hash_eq(&back.outs[0].hash, &e.outs[0].hash));
  CHECK_EQ(back.n_inputs, 1);
  CHECK(hash_eq(&back.inputs[0], &e.inputs[0]));
  shc_entry_free(&back);
  /* another key */
  hash128 other = hash_buf("other", 5);
  CHECK_EQ(parse(text, &other, err), -EINVAL);
  CHECK(strstr(err, "the entry of another key") != NULL);
  /* one byte changed anywhere before the end line */
  char *bad = strdup(text);
  char *p = strstr(bad, "out f ") + 6;
  *p = *p == '0' ? '1' : '0';
  CHECK_EQ(parse(bad, NULL, err), -EINVAL);
  CHECK(strstr(err, "'end' check does not match") != NULL);
  free(bad);
  /* cut short, at every length */
  for (size_t n = 0; n < len; n++) {
    char *cut = strndup(text, n);
    CHECK_EQ(parse(cut, NULL, err), -EINVAL);
    free(cut);
  }
  /* something after the end */
  char *more = malloc(len + 8);
  snprintf(more, len + 8, "%sjunk\n", text);
  CHECK_EQ(parse(more, NULL, err), -EINVAL);
  free(more);
  CHECK_EQ(parse("hello\n", NULL, err), -EINVAL);
  CHECK(strstr(err, "not a pipec cache entry") != NULL);
  free(text);
  shc_entry_free(&e);
}

/* ---- a directory cache ---------------------------------------------------------- */

static void test_dir_cache(void) {
  char local_dir[400], other_dir[400], cache[400], src[400], path[600],
      err[1024];
  snprintf(local_dir, sizeof local_dir, "%s/local", root);
  snprintf(other_dir, sizeof other_dir, "%s/other", root);
  snprintf(cache, sizeof cache, "%s/cache", root);
  snprintf(src, sizeof src, "%s/src", root);
  sh("mkdir -p '%s/sub'", src);
  sh("mkdir -p '%s'", cache);
  obj_store *local, *other;
  CHECK_EQ(obj_open(local_dir, NULL, &local, err, sizeof err), 0);
  CHECK_EQ(obj_open(other_dir, NULL, &other, err, sizeof err), 0);
  snprintf(path, sizeof path, "%s/f.txt", root);
  write_file(path, "a file output\n");
  hash128 hf, ht;
  uint64_t sf;
  CHECK_EQ(obj_put_file(local, path, &hf, &sf, err, sizeof err), 0);
  snprintf(path, sizeof path, "%s/a.txt", src);
  write_file(path, "in the tree\n");
  snprintf(path, sizeof path, "%s/sub/b.txt", src);
  write_file(path, "deeper\n");
  CHECK_EQ(tree_put(local, src, 0, &ht, NULL, err, sizeof err), 0);
  /* the entry and every object it needs */
  shc_entry e = {0};
  e.key = hash_buf("k1", 2);
  e.n_outs = 2;
  e.outs = calloc(2, sizeof *e.outs);
  e.outs[0] = (shc_output){.port = strdup("out"), .hash = hf, .size = sf};
  e.outs[1] = (shc_output){.port = strdup("d"), .hash = ht, .size = 19,
                           .tree = true};
  hash128 objs[8];
  uint32_t n = 0;
  objs[n++] = hf;
  objs[n++] = ht;
  tree_entry *te;
  uint32_t nte;
  CHECK_EQ(tree_read(local, &ht, &te, &nte, err, sizeof err), 0);
  hash128 sub = {{0}};
  for (uint32_t i = 0; i < nte; i++) {
    objs[n++] = te[i].hash;
    if (te[i].kind == 'd')
      sub = te[i].hash;
  }
  tree_entries_free(te, nte);
  CHECK_EQ(tree_read(local, &sub, &te, &nte, err, sizeof err), 0);
  objs[n++] = te[0].hash;
  tree_entries_free(te, nte);

  shc_spec c = {.name = "t", .location = cache, .kind = SHC_DIR, .dir = cache};
  shc_push_stats ps;
  CHECK_EQ(shc_push(&c, &e, local, objs, n, root, &ps, err, sizeof err), 0);
  CHECK_EQ(ps.objects, 5);
  CHECK_EQ(shc_push(&c, &e, local, objs, n, root, &ps, err, sizeof err), 0);
  CHECK_EQ(ps.objects, 0); /* all there already */
  bool have[2];
  hash128 keys[2] = {e.key, hash_buf("none", 4)};
  CHECK_EQ(shc_have_entries(&c, keys, 2, have, root, err, sizeof err), 0);
  CHECK(have[0] && !have[1]);
  hash128 *listed;
  uint32_t n_listed;
  CHECK_EQ(shc_list_keys(&c, &listed, &n_listed, err, sizeof err), 0);
  CHECK_EQ(n_listed, 1);
  CHECK(hash_eq(&listed[0], &e.key));
  free(listed);

  /* pulled into another store: every object, re-hashed */
  shc_pull_result r;
  CHECK_EQ(shc_pull(&c, &keys[1], other, root, &r, err, sizeof err), 0);
  CHECK_EQ(shc_pull(&c, &e.key, other, root, &r, err, sizeof err), 1);
  CHECK_EQ(r.n_objs, 5);
  CHECK_EQ(r.entry.n_outs, 2);
  for (uint32_t i = 0; i < r.n_objs; i++) {
    CHECK(r.objs[i].fetched);
    CHECK_EQ(obj_verify(other, &r.objs[i].hash, err, sizeof err), 0);
  }
  CHECK(r.objs[1].tree);
  shc_pull_result_free(&r);
  /* pulled again: nothing is fetched, all was there */
  CHECK_EQ(shc_pull(&c, &e.key, other, root, &r, err, sizeof err), 1);
  for (uint32_t i = 0; i < r.n_objs; i++)
    CHECK(!r.objs[i].fetched);
  shc_pull_result_free(&r);

  /* a flipped byte in the cache's copy of a file in the tree */
  char hex[HASH_HEX_LEN + 1];
  hash_hex(&objs[n - 1], hex);
  char obj[600];
  snprintf(obj, sizeof obj, "%s/objects/%.2s/%s", cache, hex, hex + 2);
  chmod(obj, 0644);
  int fd = open(obj, O_WRONLY);
  CHECK(fd >= 0);
  CHECK_EQ(pwrite(fd, "X", 1, 0), 1);
  close(fd);
  obj_store *third;
  snprintf(path, sizeof path, "%s/third", root);
  CHECK_EQ(obj_open(path, NULL, &third, err, sizeof err), 0);
  c.readonly = true; /* a readonly cache keeps what it has */
  CHECK_EQ(shc_pull(&c, &e.key, third, root, &r, err, sizeof err), SHC_BAD);
  CHECK(strstr(err, "is damaged (its bytes hash to") != NULL);
  CHECK(!obj_exists(third, &objs[n - 1], OBJ_ANY_SIZE)); /* never stored */
  CHECK(access(obj, F_OK) == 0);
  c.readonly = false; /* a writable one loses the damaged object */
  CHECK_EQ(shc_pull(&c, &e.key, third, root, &r, err, sizeof err), SHC_BAD);
  CHECK(access(obj, F_OK) != 0);
  CHECK_EQ(shc_pull(&c, &e.key, third, root, &r, err, sizeof err), SHC_BAD);
  CHECK(strstr(err, "is missing from it") != NULL);
  /* the next push repairs it */
  CHECK_EQ(shc_push(&c, &e, local, objs, n, root, &ps, err, sizeof err), 0);
  CHECK_EQ(ps.objects, 1);
  CHECK_EQ(shc_pull(&c, &e.key, third, root, &r, err, sizeof err), 1);
  shc_pull_result_free(&r);
  obj_close(third);

  /* a readonly cache refuses a push; a cache that is not there is an
   * error, and is not created */
  c.readonly = true;
  CHECK_EQ(shc_push(&c, &e, local, objs, n, root, &ps, err, sizeof err),
           -EROFS);
  c.readonly = false;
  char gone[400];
  snprintf(gone, sizeof gone, "%s/gone", root);
  shc_spec g = {.name = "g", .location = gone, .kind = SHC_DIR, .dir = gone};
  CHECK_EQ(shc_pull(&g, &e.key, other, root, &r, err, sizeof err), -ENOENT);
  CHECK_EQ(shc_push(&g, &e, local, objs, n, root, &ps, err, sizeof err),
           -ENOENT);
  CHECK(access(gone, F_OK) != 0);
  /* a pushed object that no longer hashes to its name stops the push */
  char lobj[600];
  hash_hex(&hf, hex);
  snprintf(lobj, sizeof lobj, "%s/%.2s/%s", local_dir, hex, hex + 2);
  chmod(lobj, 0644);
  write_file(lobj, "changed in place\n");
  char cache2[400];
  snprintf(cache2, sizeof cache2, "%s/cache2", root);
  sh("mkdir -p '%s'", cache2);
  shc_spec c2 = {.name = "c2", .location = cache2, .kind = SHC_DIR,
                 .dir = cache2};
  CHECK(shc_push(&c2, &e, local, objs, n, root, &ps, err, sizeof err) < 0);
  CHECK(strstr(err, "hashes to") != NULL);
  CHECK_EQ(shc_have_entries(&c2, keys, 1, have, root, err, sizeof err), 0);
  CHECK(!have[0]); /* no entry naming a missing object */
  shc_entry_free(&e);
  obj_close(local);
  obj_close(other);
}

int main(void) {
  snprintf(root, sizeof root, "%s/pipec-shc.XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  RUN(test_config_syntax);
  RUN(test_configure);
  RUN(test_entries);
  RUN(test_dir_cache);
  sh("chmod -R u+w '%s'; rm -rf '%s'", root);
  return 0;
}
