/*
 * test_store.c — the workspace (engine/workspace.c) and its SQLite store
 * (engine/store.c): finding and creating .pipec, migrations (idempotent on
 * reopen, and from a schema-1 database), drafts that dedupe, snapshots,
 * runs and node runs, the cache, lineage, the file index, `why`'s last
 * success, reaping killed runs, transactions, a busy workspace, gc
 * liveness, and the pipeline's last state with its packed copy.
 */
#define _GNU_SOURCE
#include "check.h"

#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statepack.h"
#include "store.h"
#include "workspace.h"

static char root[256];
static char db_path[512];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-store-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  snprintf(db_path, sizeof db_path, "%s/test.db", root);
}

static void teardown(void) { nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static store *open_db(void) {
  store *st = NULL;
  char err[512];
  if (store_open(db_path, &st, err, sizeof err) != 0) {
    fprintf(stderr, "store_open: %s\n", err);
    CHECK(0);
  }
  return st;
}

static hash128 hash_of(const char *s) { return hash_buf(s, strlen(s)); }

/* ---- workspace ------------------------------------------------------------ */

static void test_workspace(void) {
  setup();
  char sub[512], err[512];
  snprintf(sub, sizeof sub, "%s/a/b", root);
  char a[512];
  snprintf(a, sizeof a, "%s/a", root);
  CHECK_EQ(mkdir(a, 0755), 0);
  CHECK_EQ(mkdir(sub, 0755), 0);
  unsetenv("PIPEC_HOME");

  ws *w = NULL;
  /* none yet: without create it is an error naming the way out */
  CHECK(ws_open(sub, false, &w, err, sizeof err) < 0);
  CHECK(strstr(err, "no .pipec workspace") != NULL);

  /* created in a (the start dir), with its layout and modes */
  mode_t old = umask(0);
  CHECK_EQ(ws_open(a, true, &w, err, sizeof err), 0);
  umask(old);
  char want[600];
  snprintf(want, sizeof want, "%s/.pipec", a);
  char real_want[PATH_MAX];
  CHECK(realpath(want, real_want) != NULL);
  CHECK_STREQ(ws_dir(w), real_want);
  const char *dirs[] = {ws_dir(w), ws_objects_dir(w), ws_runs_dir(w),
                        ws_logs_dir(w)};
  for (int i = 0; i < 4; i++) {
    struct stat sb;
    CHECK_EQ(stat(dirs[i], &sb), 0);
    CHECK(S_ISDIR(sb.st_mode));
    CHECK_EQ(sb.st_mode & 0777, 0755);
  }
  store *st = NULL;
  CHECK_EQ(store_open(ws_db_path(w), &st, err, sizeof err), 0);
  store_close(st);
  struct stat sb;
  CHECK_EQ(stat(ws_db_path(w), &sb), 0);
  CHECK_EQ(sb.st_mode & 0002, 0); /* never world-writable */
  ws_close(w);

  /* found again from a subdirectory, without create */
  CHECK_EQ(ws_open(sub, false, &w, err, sizeof err), 0);
  CHECK_STREQ(ws_dir(w), real_want);
  char real_a[PATH_MAX];
  CHECK(realpath(a, real_a) != NULL);
  CHECK_STREQ(ws_root(w), real_a);
  ws_close(w);

  /* PIPEC_HOME wins */
  char home[600];
  snprintf(home, sizeof home, "%s/home", root);
  setenv("PIPEC_HOME", home, 1);
  CHECK(ws_open(sub, false, &w, err, sizeof err) < 0);
  CHECK_EQ(ws_open(sub, true, &w, err, sizeof err), 0);
  CHECK(realpath(home, real_want) != NULL);
  CHECK_STREQ(ws_dir(w), real_want);
  ws_close(w);
  unsetenv("PIPEC_HOME");
  teardown();
}

/* ---- migrations ------------------------------------------------------------ */

static int count_rows(const char *sql) {
  sqlite3 *db;
  CHECK_EQ(sqlite3_open(db_path, &db), SQLITE_OK);
  sqlite3_stmt *s;
  CHECK_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  CHECK_EQ(sqlite3_step(s), SQLITE_ROW);
  int n = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

static void test_migrations(void) {
  setup();
  store *st = open_db();
  int v = store_schema_version(st);
  CHECK(v >= 2);
  int64_t p;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  store_close(st);
  /* reopening changes nothing and keeps the data */
  st = open_db();
  CHECK_EQ(store_schema_version(st), v);
  int64_t p2;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p2), 0);
  CHECK_EQ(p2, p);
  store_close(st);
  CHECK_EQ(count_rows("SELECT count(*) FROM pipelines"), 1);
  CHECK_EQ(count_rows("SELECT count(*) FROM sqlite_master WHERE "
                      "name = 'key_parts'"), 1);

  /* a newer schema is refused with a clear message */
  sqlite3 *db;
  CHECK_EQ(sqlite3_open(db_path, &db), SQLITE_OK);
  CHECK_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
           SQLITE_OK);
  sqlite3_close(db);
  char err[512];
  CHECK(store_open(db_path, &st, err, sizeof err) < 0);
  CHECK(strstr(err, "newer pipec") != NULL);
  teardown();
}

/* A schema-1 database with a cache entry migrates, keeping the entry's key
 * parts for `why`. */
static void test_migrate_from_v1(void) {
  setup();
  sqlite3 *db;
  CHECK_EQ(sqlite3_open(db_path, &db), SQLITE_OK);
  /* schema 1 as released (the first migration) */
  const char *v1 =
      "CREATE TABLE pipelines(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
      " main_path TEXT NOT NULL, created_at INTEGER NOT NULL,"
      " UNIQUE(name, main_path));"
      "CREATE TABLE drafts(id INTEGER PRIMARY KEY, pipeline_id INTEGER NOT"
      " NULL REFERENCES pipelines(id), created_at INTEGER NOT NULL,"
      " content_hash TEXT NOT NULL);"
      "CREATE TABLE draft_files(draft_id INTEGER NOT NULL REFERENCES"
      " drafts(id), seq INTEGER NOT NULL, path TEXT NOT NULL, content BLOB"
      " NOT NULL, PRIMARY KEY(draft_id, seq));"
      "CREATE TABLE snapshots(id INTEGER PRIMARY KEY, pipeline_id INTEGER"
      " NOT NULL REFERENCES pipelines(id), draft_id INTEGER NOT NULL"
      " REFERENCES drafts(id), created_at INTEGER NOT NULL, config TEXT NOT"
      " NULL, params TEXT NOT NULL, mode TEXT NOT NULL, selection TEXT NOT"
      " NULL);"
      "CREATE TABLE runs(id INTEGER PRIMARY KEY, snapshot_id INTEGER NOT NULL"
      " REFERENCES snapshots(id), pipeline_id INTEGER NOT NULL REFERENCES"
      " pipelines(id), status TEXT NOT NULL, started_at INTEGER NOT NULL,"
      " ended_at INTEGER, pid INTEGER, ran INTEGER NOT NULL DEFAULT 0,"
      " cached INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT"
      " 0);"
      "CREATE TABLE node_runs(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL"
      " REFERENCES runs(id), node TEXT NOT NULL, component TEXT NOT NULL,"
      " status TEXT NOT NULL, cache_key TEXT, cache_hit INTEGER NOT NULL"
      " DEFAULT 0, miss_reason TEXT, target TEXT, job_id TEXT, attempts"
      " INTEGER NOT NULL DEFAULT 0, exit_code INTEGER, started_at INTEGER,"
      " ended_at INTEGER, log_path TEXT, message TEXT);"
      "CREATE INDEX node_runs_run ON node_runs(run_id);"
      "CREATE INDEX node_runs_node ON node_runs(node, status);"
      "CREATE TABLE cache(key TEXT PRIMARY KEY, parts TEXT NOT NULL,"
      " node_run_id INTEGER, created_at INTEGER NOT NULL);"
      "CREATE TABLE cache_outputs(key TEXT NOT NULL REFERENCES cache(key) ON"
      " DELETE CASCADE, port TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER"
      " NOT NULL, PRIMARY KEY(key, port));"
      "CREATE INDEX cache_outputs_hash ON cache_outputs(hash);"
      "CREATE TABLE artifacts(node_run_id INTEGER NOT NULL REFERENCES"
      " node_runs(id), port TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER"
      " NOT NULL, PRIMARY KEY(node_run_id, port));"
      "CREATE INDEX artifacts_hash ON artifacts(hash);"
      "CREATE TABLE files(path TEXT PRIMARY KEY, dev INTEGER NOT NULL, ino"
      " INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
      " ctime_ns INTEGER NOT NULL, hash TEXT NOT NULL);"
      "INSERT INTO pipelines VALUES (1, 'p', 'p.pipe', 0);"
      "INSERT INTO drafts VALUES (1, 1, 0, 'x');"
      "INSERT INTO snapshots VALUES (1, 1, 1, 0, '{}', '{}', 'full', '{}');"
      "INSERT INTO runs VALUES (1, 1, 1, 'succeeded', 0, 1, 0, 1, 0, 0);"
      "INSERT INTO node_runs(id, run_id, node, component, status, cache_key)"
      " VALUES (1, 1, 'n', 'c', 'succeeded',"
      " '0123456789abcdef0123456789abcdef');"
      "INSERT INTO cache VALUES ('0123456789abcdef0123456789abcdef',"
      " 'param x = 1', 1, 0);"
      "PRAGMA user_version = 1;";
  CHECK_EQ(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);

  store *st = open_db();
  CHECK(store_schema_version(st) >= 2);
  char *parts = NULL;
  hash128 key;
  int64_t nr = 0;
  CHECK_EQ(store_last_success(st, 1, "n", &nr, &key, &parts), 1);
  CHECK_EQ(nr, 1);
  CHECK_STREQ(parts, "param x = 1");
  char hex[HASH_HEX_LEN + 1];
  hash_hex(&key, hex);
  CHECK_STREQ(hex, "0123456789abcdef0123456789abcdef");
  free(parts);
  store_snapshot snap;
  CHECK_EQ(store_snapshot_get(st, 1, &snap), 1);
  CHECK(snap.label == NULL);
  CHECK_STREQ(snap.config, "{}"); /* an old snapshot keeps its own copy */
  store_snapshot_free(&snap);
  /* an old node run has no image; a new one records its image */
  store_node_run *nrs = NULL;
  uint32_t n = 0;
  CHECK_EQ(store_node_run_list(st, 1, &nrs, &n), 0);
  CHECK_EQ(n, 1);
  CHECK(nrs[0].image == NULL && nrs[0].image_id == NULL);
  store_node_runs_free(nrs, n);
  store_node_run add = {.run_id = 1, .node = "m", .component = "c",
                        .status = "cached", .image = "localhost/t:1",
                        .image_id = "sha256:ab"};
  int64_t id = 0;
  CHECK_EQ(store_node_run_add(st, &add, &id), 0);
  CHECK_EQ(store_node_run_list(st, 1, &nrs, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_STREQ(nrs[1].image, "localhost/t:1");
  CHECK_STREQ(nrs[1].image_id, "sha256:ab");
  store_node_runs_free(nrs, n);
  store_close(st);
  teardown();
}

/* A configuration is stored once however many snapshots name it, and read
 * back through each of them; another text is another row. */
static void test_config_once(void) {
  setup();
  store *st = open_db();
  int64_t p, d, s1, s2, s3, c1 = 0, c2 = 0;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  store_file f[] = {{"p.pipe", "x", 1}};
  CHECK_EQ(store_draft_record(st, p, f, 1, &d), 0);
  const char *cfg = "{\"nodes\":[{\"name\":\"a\"}]}";
  hash128 h = hash_buf(cfg, strlen(cfg));
  CHECK_EQ(store_config_find(st, &h, &c1), 0);
  CHECK_EQ(store_snapshot_add(st, p, d, cfg, "{}", "full", "{}", &s1), 0);
  CHECK_EQ(store_config_find(st, &h, &c1), 1);
  CHECK_EQ(store_config_put(st, &h, cfg, &c2), 0);
  CHECK_EQ(c1, c2);
  CHECK_EQ(store_snapshot_add_config(st, p, d, c1, "{}", "node", "{}", &s2),
           0);
  CHECK_EQ(store_snapshot_add(st, p, d, "{}", "{}", "full", "{}", &s3), 0);
  store_snapshot sn;
  CHECK_EQ(store_snapshot_get(st, s2, &sn), 1);
  CHECK_STREQ(sn.config, cfg);
  CHECK_STREQ(sn.mode, "node");
  store_snapshot_free(&sn);
  CHECK_EQ(store_snapshot_get(st, s3, &sn), 1);
  CHECK_STREQ(sn.config, "{}");
  store_snapshot_free(&sn);
  store_close(st);
  CHECK_EQ(count_rows("SELECT count(*) FROM configs"), 2);
  CHECK_EQ(count_rows("SELECT count(*) FROM snapshots WHERE config <> ''"),
           0);
  teardown();
}

/* ---- drafts and snapshots --------------------------------------------------- */

static void test_drafts(void) {
  setup();
  store *st = open_db();
  int64_t p, q;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  CHECK_EQ(store_pipeline_get_or_create(st, "q", "q.pipe", &q), 0);
  CHECK(p != q);
  int64_t found = 0;
  CHECK_EQ(store_pipeline_find(st, "q.pipe", &found), 1);
  CHECK_EQ(found, q);
  CHECK_EQ(store_pipeline_find(st, "nope.pipe", &found), 0);

  /* bytes with a NUL in them survive */
  static const char bin[] = {'a', 0, 'b'};
  store_file v1[] = {{"p.pipe", "x = 1\n", 6}, {"lib.pipe", bin, 3}};
  store_file v2[] = {{"p.pipe", "x = 2\n", 6}, {"lib.pipe", bin, 3}};
  /* the same bytes split differently between paths are another draft */
  store_file v3[] = {{"p.pipe", "x = 2\n", 6}, {"lib.pipeX", bin, 2}};
  int64_t d1, d1b, d2, d3, d4;
  CHECK_EQ(store_draft_record(st, p, v1, 2, &d1), 0);
  CHECK_EQ(store_draft_record(st, p, v1, 2, &d1b), 0);
  CHECK_EQ(d1b, d1);                         /* unchanged: no new revision */
  CHECK_EQ(store_draft_record(st, p, v2, 2, &d2), 0);
  CHECK(d2 != d1);
  CHECK_EQ(store_draft_record(st, p, v3, 2, &d3), 0);
  CHECK(d3 != d2);
  /* back to v1: a new revision (the newest differs), no edit lost */
  CHECK_EQ(store_draft_record(st, p, v1, 2, &d4), 0);
  CHECK(d4 != d1);
  /* another pipeline's draft with the same bytes is its own */
  int64_t dq;
  CHECK_EQ(store_draft_record(st, q, v1, 2, &dq), 0);
  CHECK(dq != d4);
  /* an empty draft is fine */
  int64_t de;
  CHECK_EQ(store_draft_record(st, q, NULL, 0, &de), 0);

  store_file *files;
  uint32_t n;
  CHECK_EQ(store_draft_files(st, d2, &files, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_STREQ(files[0].path, "p.pipe");
  CHECK_EQ(files[0].len, 6);
  CHECK(memcmp(files[0].text, "x = 2\n", 6) == 0);
  CHECK_STREQ(files[1].path, "lib.pipe");
  CHECK_EQ(files[1].len, 3);
  CHECK(memcmp(files[1].text, bin, 3) == 0);
  store_files_free(files, n);
  CHECK_EQ(store_draft_files(st, de, &files, &n), 0);
  CHECK_EQ(n, 0);
  store_files_free(files, n);

  /* recording inside a caller's transaction joins it (savepoint) */
  CHECK_EQ(store_begin(st), 0);
  int64_t d5;
  CHECK_EQ(store_draft_record(st, p, v2, 2, &d5), 0);
  store_rollback(st);
  int64_t d6;
  CHECK_EQ(store_draft_record(st, p, v1, 2, &d6), 0);
  CHECK_EQ(d6, d4); /* the rolled-back revision never existed */

  /* snapshots */
  int64_t s1, s2, s3;
  CHECK_EQ(store_snapshot_add(st, p, d1, "{\"nodes\":[]}", "{\"n\":2}",
                              "full", "[]", &s1), 0);
  CHECK_EQ(store_snapshot_add(st, p, d2, "{}", "{}", "node", "[\"a\"]", &s2),
           0);
  CHECK_EQ(store_snapshot_add(st, q, dq, "{}", "{}", "full", "[]", &s3), 0);
  CHECK_EQ(store_snapshot_set_label(st, s2, "before refactor"), 1);
  CHECK_EQ(store_snapshot_set_label(st, 9999, "x"), 0);

  store_snapshot sn;
  CHECK_EQ(store_snapshot_get(st, s1, &sn), 1);
  CHECK_EQ(sn.pipeline_id, p);
  CHECK_EQ(sn.draft_id, d1);
  CHECK_STREQ(sn.pipeline, "p");
  CHECK_STREQ(sn.main_path, "p.pipe");
  CHECK_STREQ(sn.config, "{\"nodes\":[]}");
  CHECK_STREQ(sn.params, "{\"n\":2}");
  CHECK_STREQ(sn.mode, "full");
  CHECK_STREQ(sn.selection, "[]");
  CHECK(sn.label == NULL);
  CHECK_EQ(sn.last_run, 0);
  CHECK(sn.created_ms > 1600000000000LL);
  /* its files, through the draft */
  CHECK_EQ(store_draft_files(st, sn.draft_id, &files, &n), 0);
  CHECK_EQ(n, 2);
  CHECK(memcmp(files[0].text, "x = 1\n", 6) == 0);
  store_files_free(files, n);
  store_snapshot_free(&sn);
  CHECK_EQ(store_snapshot_get(st, 4242, &sn), 0);
  store_snapshot_free(&sn); /* safe after "not found" */

  store_snapshot *list;
  CHECK_EQ(store_snapshot_list(st, p, 100, &list, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_EQ(list[0].id, s2); /* newest first */
  CHECK_STREQ(list[0].label, "before refactor");
  CHECK_EQ(list[1].id, s1);
  store_snapshots_free(list, n);
  CHECK_EQ(store_snapshot_list(st, 0, 100, &list, &n), 0);
  CHECK_EQ(n, 3);
  store_snapshots_free(list, n);
  CHECK_EQ(store_snapshot_list(st, 0, 1, &list, &n), 0);
  CHECK_EQ(n, 1);
  CHECK_EQ(list[0].id, s3);
  store_snapshots_free(list, n);
  store_close(st);
  teardown();
}

/* ---- runs and node runs ------------------------------------------------------ */

static int64_t new_run(store *st, int64_t p, int64_t *snap_out) {
  int64_t d, s, r;
  store_file f = {"p.pipe", "x", 1};
  CHECK_EQ(store_draft_record(st, p, &f, 1, &d), 0);
  CHECK_EQ(store_snapshot_add(st, p, d, "{}", "{}", "full", "[]", &s), 0);
  CHECK_EQ(store_run_add(st, s, p, 4242, &r), 0);
  if (snap_out)
    *snap_out = s;
  return r;
}

static int64_t add_node(store *st, int64_t run, const char *node,
                        const char *status, const char *key) {
  store_node_run nr = {.run_id = run,
                       .node = node,
                       .component = "builtin.copy",
                       .status = status,
                       .target = "local",
                       .cache_hit = strcmp(status, "cached") == 0,
                       .cache_key = key,
                       .miss_reason = "never ran",
                       .log_path = "logs/1/a.log"};
  int64_t id;
  CHECK_EQ(store_node_run_add(st, &nr, &id), 0);
  return id;
}

static bool dead(int64_t pid) { (void)pid; return false; }
static bool alive(int64_t pid) { (void)pid; return true; }

static void test_runs(void) {
  setup();
  store *st = open_db();
  int64_t p;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  CHECK_EQ(store_run_last(st), 0);
  int64_t snap;
  int64_t r1 = new_run(st, p, &snap);
  CHECK_EQ(store_run_last(st), r1);

  int64_t a = add_node(st, r1, "a", "running", NULL);
  int64_t b = add_node(st, r1, "b", "cached", "0123456789abcdef0123456789abcdef");
  int64_t c = add_node(st, r1, "c", "running", NULL);
  CHECK_EQ(store_node_run_started(st, a, 1, "12345"), 0);
  CHECK_EQ(store_node_run_started(st, a, 2, "12346"), 0);
  CHECK_EQ(store_node_run_finish(st, a, "succeeded", 2, 0, NULL), 0);
  CHECK_EQ(store_node_run_started(st, c, 1, "777"), 0);
  CHECK_EQ(store_node_run_finish(st, c, "failed", 1, 3, "exit code 3"), 0);
  /* a later finish without an exit code keeps the first one */
  CHECK_EQ(store_node_run_finish(st, c, "failed", 1, -1, NULL), 0);
  CHECK_EQ(store_run_finish(st, r1, "failed", 1, 1, 1), 0);

  store_run r;
  CHECK_EQ(store_run_get(st, r1, &r), 1);
  CHECK_STREQ(r.status, "failed");
  CHECK_STREQ(r.pipeline, "p");
  CHECK_EQ(r.snapshot_id, snap);
  CHECK_EQ(r.pid, 4242);
  CHECK_EQ(r.ran, 1);
  CHECK_EQ(r.cached, 1);
  CHECK_EQ(r.failed, 1);
  CHECK_EQ(r.nodes, 3);
  CHECK(r.ended_ms >= r.started_ms && r.started_ms > 0);
  store_run_free(&r);
  CHECK_EQ(store_run_get(st, 999, &r), 0);

  store_node_run *nrs;
  uint32_t n;
  CHECK_EQ(store_node_run_list(st, r1, &nrs, &n), 0);
  CHECK_EQ(n, 3);
  CHECK_STREQ(nrs[0].node, "a");
  CHECK_STREQ(nrs[0].status, "succeeded");
  CHECK_STREQ(nrs[0].job_id, "12346");
  CHECK_EQ(nrs[0].attempts, 2);
  CHECK_EQ(nrs[0].exit_code, 0);
  CHECK(!nrs[0].cache_hit);
  CHECK_STREQ(nrs[0].target, "local");
  CHECK_STREQ(nrs[0].component, "builtin.copy");
  CHECK_STREQ(nrs[0].log_path, "logs/1/a.log");
  CHECK(nrs[0].ended_ms >= nrs[0].started_ms && nrs[0].started_ms > 0);
  CHECK_STREQ(nrs[1].node, "b");
  CHECK_STREQ(nrs[1].status, "cached");
  CHECK(nrs[1].cache_hit);
  CHECK_STREQ(nrs[1].cache_key, "0123456789abcdef0123456789abcdef");
  CHECK_EQ(nrs[1].exit_code, -1);          /* none: it did not run */
  CHECK(nrs[1].ended_ms > 0);
  CHECK_STREQ(nrs[2].status, "failed");
  CHECK_EQ(nrs[2].exit_code, 3);
  CHECK_STREQ(nrs[2].message, "exit code 3");
  CHECK_STREQ(nrs[2].miss_reason, "never ran");
  store_node_runs_free(nrs, n);

  /* a run whose pid is gone is reaped: interrupted, unfinished nodes
   * cancelled; one still alive is left alone */
  int64_t r2 = new_run(st, p, NULL);
  int64_t x = add_node(st, r2, "x", "running", NULL);
  add_node(st, r2, "y", "cached", NULL);
  CHECK_EQ(store_runs_reap(st, alive), 0);
  CHECK_EQ(store_runs_reap(st, dead), 1);
  CHECK_EQ(store_runs_reap(st, dead), 0);
  CHECK_EQ(store_run_get(st, r2, &r), 1);
  CHECK_STREQ(r.status, "interrupted");
  CHECK(r.ended_ms > 0);
  store_run_free(&r);
  CHECK_EQ(store_node_run_list(st, r2, &nrs, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_EQ(nrs[0].id, x);
  CHECK_STREQ(nrs[0].status, "cancelled");
  CHECK_STREQ(nrs[1].status, "cached");
  store_node_runs_free(nrs, n);
  (void)b;

  store_run *runs;
  CHECK_EQ(store_run_list(st, 10, &runs, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_EQ(runs[0].id, r2); /* newest first */
  CHECK_EQ(runs[1].id, r1);
  store_runs_free(runs, n);
  CHECK_EQ(store_run_list(st, 1, &runs, &n), 0);
  CHECK_EQ(n, 1);
  store_runs_free(runs, n);

  /* the snapshot knows its newest run */
  store_snapshot sn;
  CHECK_EQ(store_snapshot_get(st, snap, &sn), 1);
  CHECK_EQ(sn.last_run, r1);
  store_snapshot_free(&sn);
  store_close(st);
  teardown();
}

/* ---- cache, lineage, why ------------------------------------------------------ */

static void count_named(void *ctx, const hash128 *h, uint64_t size,
                        const char *node) {
  hash128 want = hash_of("o3");
  CHECK(hash_eq(h, &want));
  CHECK_EQ(size, 1);
  CHECK_STREQ(node, "a");
  (*(int *)ctx)++;
}

static void test_cache(void) {
  setup();
  store *st = open_db();
  int64_t p;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  int64_t r1 = new_run(st, p, NULL);
  hash128 key = hash_of("key-1"), nokey = hash_of("nope");
  char khex[HASH_HEX_LEN + 1];
  hash_hex(&key, khex);
  int64_t a = add_node(st, r1, "a", "running", khex);

  store_output outs[] = {
      {.port = "out", .hash = hash_of("o1"), .size = 10,
       .st = {.dev = 1, .ino = 2, .size = 10, .mtime_ns = 3, .ctime_ns = 4},
       .has_st = true},
      {.port = "model", .hash = hash_of("m"), .size = 7}};
  hash128 ins[] = {hash_of("in-1"), hash_of("in-2")};
  CHECK_EQ(store_cache_put(st, &key, "param n = 1\n", outs, 2, ins, 2, a), 0);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(store_artifact_add(st, a, &outs[i]), 0);
  CHECK_EQ(store_node_run_finish(st, a, "succeeded", 1, 0, NULL), 0);

  store_output *got;
  uint32_t n;
  CHECK_EQ(store_cache_get(st, &nokey, &got, &n), 0);
  CHECK_EQ(n, 0);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 1);
  CHECK_EQ(n, 2);
  CHECK_STREQ(got[0].port, "model"); /* by port */
  CHECK(hash_eq(&got[0].hash, &outs[1].hash));
  CHECK_EQ(got[0].size, 7);
  CHECK_STREQ(got[1].port, "out");
  CHECK(hash_eq(&got[1].hash, &outs[0].hash));
  CHECK_EQ(got[1].size, 10);
  /* the object's recorded stat comes with the hit (one query) */
  CHECK(got[1].has_st);
  CHECK_EQ(got[1].st.dev, 1);
  CHECK_EQ(got[1].st.ino, 2);
  CHECK_EQ(got[1].st.size, 10);
  CHECK_EQ(got[1].st.mtime_ns, 3);
  CHECK_EQ(got[1].st.ctime_ns, 4);
  CHECK(!got[0].has_st);
  store_outputs_free(got, n);
  hash_stat sb;
  uint64_t sz;
  CHECK_EQ(store_object_get(st, &outs[0].hash, &sz, &sb), 1);
  CHECK_EQ(sz, 10);
  CHECK_EQ(sb.ino, 2);
  CHECK_EQ(store_object_get(st, &outs[1].hash, &sz, &sb), 0);
  /* a refresh replaces the row */
  sb.ctime_ns = 99;
  CHECK_EQ(store_object_put(st, &outs[0].hash, 10, &sb), 0);
  CHECK_EQ(store_object_get(st, &outs[0].hash, &sz, &sb), 1);
  CHECK_EQ(sb.ctime_ns, 99);
  CHECK_EQ(store_node_run_outputs(st, a, &got, &n), 0);
  CHECK_EQ(n, 2);
  CHECK(got[1].has_st && got[1].st.ctime_ns == 99);
  store_outputs_free(got, n);

  /* put replaces: no stale port survives */
  store_output one[] = {{.port = "out", .hash = hash_of("o2"), .size = 11}};
  CHECK_EQ(store_cache_put(st, &key, "param n = 1\n", one, 1, NULL, 0, a), 0);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 1);
  CHECK_EQ(n, 1);
  CHECK(hash_eq(&got[0].hash, &one[0].hash));
  store_outputs_free(got, n);

  /* an entry with no outputs exists */
  hash128 k0 = hash_of("no outputs");
  CHECK_EQ(store_cache_put(st, &k0, "x", NULL, 0, NULL, 0, 0), 0);
  CHECK_EQ(store_cache_get(st, &k0, &got, &n), 1);
  CHECK_EQ(n, 0);
  store_outputs_free(got, n);

  /* lineage */
  int64_t producer = 0;
  hash128 o1 = hash_of("o1");
  CHECK_EQ(store_object_producer(st, &o1, &producer), 1);
  CHECK_EQ(producer, a);
  CHECK_EQ(store_object_producer(st, &nokey, &producer), 0);
  store_artifact *arts;
  CHECK_EQ(store_run_artifacts(st, r1, &arts, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_STREQ(arts[0].node, "a");
  CHECK_STREQ(arts[0].port, "model");
  CHECK_EQ(arts[0].node_run, a);
  CHECK_STREQ(arts[1].port, "out");
  CHECK(hash_eq(&arts[1].hash, &o1));
  store_artifacts_free(arts, n);
  CHECK_EQ(store_node_run_outputs(st, a, &got, &n), 0);
  CHECK_EQ(n, 2);
  store_outputs_free(got, n);

  /* a cached node run's outputs come through its key */
  int64_t r2 = new_run(st, p, NULL);
  int64_t a2 = add_node(st, r2, "a", "cached", khex);
  CHECK_EQ(store_node_run_outputs(st, a2, &got, &n), 0);
  CHECK_EQ(n, 1);
  CHECK(hash_eq(&got[0].hash, &one[0].hash));
  store_outputs_free(got, n);

  /* why: the newest success, its key and parts; they outlive the entry */
  char *parts = NULL;
  hash128 k;
  int64_t nr;
  CHECK_EQ(store_last_success(st, p, "a", &nr, &k, &parts), 1);
  CHECK_EQ(nr, a2);
  CHECK(hash_eq(&k, &key));
  CHECK_STREQ(parts, "param n = 1\n");
  free(parts);
  CHECK_EQ(store_last_parts(st, p, "zzz", &parts), 0);
  CHECK(parts == NULL);
  CHECK_EQ(store_last_parts(st, p + 1, "a", &parts), 0);
  CHECK_EQ(store_cache_delete(st, &key), 0);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 0);
  CHECK_EQ(store_last_parts(st, p, "a", &parts), 1);
  CHECK_STREQ(parts, "param n = 1\n");
  free(parts);

  /* dropping by object */
  CHECK_EQ(store_cache_put(st, &key, "p", one, 1, NULL, 0, a), 0);
  CHECK_EQ(store_cache_drop_object(st, &one[0].hash), 0);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 0);

  /* a damaged object takes the entries naming it; with readers, also the
   * entries computed from it, and nothing else */
  hash128 kr = hash_of("reader"), ko = hash_of("other");
  store_output made[] = {{.port = "out", .hash = hash_of("made"), .size = 1}};
  store_output other[] = {{.port = "out", .hash = hash_of("o3"), .size = 1}};
  CHECK_EQ(store_cache_put(st, &key, "p", one, 1, NULL, 0, a), 0);
  CHECK_EQ(store_cache_put(st, &kr, "p", made, 1, &one[0].hash, 1, a), 0);
  CHECK_EQ(store_cache_put(st, &ko, "p", other, 1, &ins[0], 1, a), 0);
  CHECK_EQ(store_object_damaged(st, &one[0].hash, false), 1);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 0);
  CHECK_EQ(store_cache_get(st, &kr, &got, &n), 1);
  store_outputs_free(got, n);
  CHECK_EQ(store_cache_put(st, &key, "p", one, 1, NULL, 0, a), 0);
  CHECK_EQ(store_object_damaged(st, &one[0].hash, true), 2);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 0);
  CHECK_EQ(store_cache_get(st, &kr, &got, &n), 0);
  CHECK_EQ(store_cache_get(st, &ko, &got, &n), 1);
  store_outputs_free(got, n);
  /* the objects the cache names, each once with a node */
  int seen = 0;
  CHECK_EQ(store_cached_objects(st, count_named, &seen), 0);
  CHECK_EQ(seen, 1); /* o3, of node a */

  /* a failed transaction leaves no half entry */
  CHECK_EQ(store_begin(st), 0);
  CHECK_EQ(store_cache_put(st, &key, "p", outs, 2, NULL, 0, a), 0);
  store_rollback(st);
  CHECK_EQ(store_cache_get(st, &key, &got, &n), 0);
  store_close(st);
  teardown();
}

/* ---- the file index ------------------------------------------------------------ */

static void test_file_index(void) {
  setup();
  store *st = open_db();
  hash_index idx;
  store_hash_index(st, &idx);
  hash_stat sb = {.dev = UINT64_MAX - 1, .ino = 1ULL << 63, .size = 12,
                  .mtime_ns = 1700000000123456789LL,
                  .ctime_ns = 1700000000987654321LL};
  hash128 h = hash_of("content"), got;
  hash_stat gs;
  CHECK_EQ(idx.get(idx.ctx, "/abs/x", &gs, &got), 0);
  CHECK_EQ(idx.put(idx.ctx, "/abs/x", &sb, &h), 0);
  CHECK_EQ(idx.get(idx.ctx, "/abs/x", &gs, &got), 1);
  CHECK(gs.dev == sb.dev && gs.ino == sb.ino && gs.size == sb.size);
  CHECK_EQ(gs.mtime_ns, sb.mtime_ns);
  CHECK_EQ(gs.ctime_ns, sb.ctime_ns);
  CHECK(hash_eq(&got, &h));
  sb.size = 13;
  h = hash_of("content!");
  CHECK_EQ(store_file_put(st, "/abs/x", &sb, &h), 0);
  CHECK_EQ(store_file_get(st, "/abs/x", &gs, &got), 1);
  CHECK_EQ(gs.size, 13);
  CHECK(hash_eq(&got, &h));

  /* through hash_file_cached: the second hash comes from the index */
  char path[600];
  snprintf(path, sizeof path, "%s/data.txt", root);
  FILE *f = fopen(path, "w");
  CHECK(f && fputs("hello\n", f) >= 0 && fclose(f) == 0);
  idx.now_ns = 4102444800LL * 1000000000LL; /* 2100: nothing is racy */
  hash128 h1, h2;
  char err[256];
  CHECK_EQ(hash_file_cached(path, &idx, &h1, err, sizeof err), 0);
  CHECK_EQ(store_file_get(st, path, &gs, &got), 1);
  CHECK(hash_eq(&got, &h1));
  CHECK_EQ(hash_file_cached(path, &idx, &h2, err, sizeof err), 0);
  CHECK(hash_eq(&h1, &h2));
  store_close(st);
  teardown();
}

/* ---- busy --------------------------------------------------------------------- */

static void test_busy(void) {
  setup();
  store *st = open_db();
  int64_t p;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  /* another pipec holds the write lock */
  sqlite3 *other;
  CHECK_EQ(sqlite3_open(db_path, &other), SQLITE_OK);
  CHECK_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
           SQLITE_OK);
  store_set_busy_timeout(st, 50);
  CHECK(store_begin(st) < 0);
  CHECK(strstr(store_errmsg(st), "workspace is busy") != NULL);
  int64_t q;
  CHECK(store_pipeline_get_or_create(st, "q", "q.pipe", &q) < 0);
  CHECK(strstr(store_errmsg(st), "workspace is busy") != NULL);
  /* reads still work (WAL) */
  int64_t found;
  CHECK_EQ(store_pipeline_find(st, "p.pipe", &found), 1);
  CHECK_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(other);
  CHECK_EQ(store_begin(st), 0);
  CHECK_EQ(store_pipeline_get_or_create(st, "q", "q.pipe", &q), 0);
  CHECK_EQ(store_commit(st), 0);
  store_close(st);
  teardown();
}

/* ---- gc --------------------------------------------------------------------------- */

typedef struct hset {
  hash128 v[64];
  int n;
} hset;

static void collect(void *ctx, const hash128 *h) {
  hset *s = ctx;
  for (int i = 0; i < s->n; i++)
    if (hash_eq(&s->v[i], h))
      return;
  CHECK(s->n < 64);
  s->v[s->n++] = *h;
}

static bool has(const hset *s, const char *name) {
  hash128 h = hash_of(name);
  for (int i = 0; i < s->n; i++)
    if (hash_eq(&s->v[i], &h))
      return true;
  return false;
}

/* One node run in run, producing object `obj` under key `keyname`. */
static int64_t produce(store *st, int64_t run, const char *node,
                       const char *keyname, const char *obj) {
  hash128 key = hash_of(keyname);
  char hex[HASH_HEX_LEN + 1];
  hash_hex(&key, hex);
  int64_t id = add_node(st, run, node, "running", hex);
  store_output o = {.port = "out", .hash = hash_of(obj), .size = 1};
  CHECK_EQ(store_cache_put(st, &key, "parts", &o, 1, NULL, 0, id), 0);
  CHECK_EQ(store_artifact_add(st, id, &o), 0);
  CHECK_EQ(store_node_run_finish(st, id, "succeeded", 1, 0, NULL), 0);
  return id;
}

/* A snapshot of pipeline p whose compiled config lists nodes (a JSON
 * array of names, as pipec_graph_write writes them), with a label or not. */
static int64_t snap(store *st, int64_t p, const char *nodes,
                    const char *label) {
  int64_t d, s;
  store_file f = {"p.pipe", "x", 1};
  char config[256];
  snprintf(config, sizeof config, "{\"pipeline\":\"p\",\"nodes\":[%s]}",
           nodes);
  CHECK_EQ(store_draft_record(st, p, &f, 1, &d), 0);
  CHECK_EQ(store_snapshot_add(st, p, d, config, "{}", "full", "{}", &s), 0);
  if (label)
    CHECK_EQ(store_snapshot_set_label(st, s, label), 1);
  return s;
}

static void count_log(void *ctx, int64_t run, const char *path) {
  (void)run;
  CHECK_STREQ(path, "logs/1/a.log");
  (*(int *)ctx)++;
}

static void test_gc(void) {
  setup();
  store *st = open_db();
  int64_t p, q;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  CHECK_EQ(store_pipeline_get_or_create(st, "q", "q.pipe", &q), 0);
  /* every run has a snapshot of its own, as pipec records them */
  int64_t s1 = snap(st, p, "{\"name\":\"a\"},{\"name\":\"t\"}", NULL);
  int64_t s2 = snap(st, p, "{\"name\":\"a\"},{\"name\":\"t\"}", NULL);
  int64_t s3 = snap(st, p, "{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"t\"}",
                    "baseline");
  int64_t sq = snap(st, q, "{\"name\":\"x\"}", NULL);
  int64_t s4 = snap(st, p, "{\"name\":\"a\"},{\"name\":\"b\"}", NULL);

  int64_t r1, r2, r3, rq, r4;
  CHECK_EQ(store_run_add(st, s1, p, 1, &r1), 0);
  produce(st, r1, "a", "ka-old", "obj-a-old");
  produce(st, r1, "t", "kt-old", "obj-t-old");
  CHECK_EQ(store_run_finish(st, r1, "succeeded", 2, 0, 0), 0);
  CHECK_EQ(store_run_add(st, s2, p, 1, &r2), 0);
  produce(st, r2, "a", "ka", "obj-a");
  produce(st, r2, "t", "kt-mid", "obj-t-mid");
  CHECK_EQ(store_run_finish(st, r2, "succeeded", 2, 0, 0), 0);
  CHECK_EQ(store_run_add(st, s3, p, 1, &r3), 0);   /* labeled */
  produce(st, r3, "b", "kb", "obj-b");
  produce(st, r3, "t", "kt", "obj-t");
  CHECK_EQ(store_run_finish(st, r3, "succeeded", 2, 0, 0), 0);
  CHECK_EQ(store_run_add(st, sq, q, 1, &rq), 0);   /* another pipeline */
  produce(st, rq, "x", "kx", "obj-x");
  CHECK_EQ(store_run_finish(st, rq, "succeeded", 1, 0, 0), 0);
  /* run 5 (--node b) only hit the cache for b: no artifacts */
  CHECK_EQ(store_run_add(st, s4, p, 1, &r4), 0);
  char hex[HASH_HEX_LEN + 1];
  hash128 kb = hash_of("kb");
  hash_hex(&kb, hex);
  add_node(st, r4, "b", "cached", hex);
  CHECK_EQ(store_run_finish(st, r4, "succeeded", 0, 1, 0), 0);

  /* keep 1: run r4 (b through its key); the newest run of each pipeline
   * (r4, rq); the labeled snapshot's newest run (r3: obj-b, obj-t); the
   * newest success of each node of p's newest configuration (a, b: a's
   * is r2). t's older outputs and a's oldest go: t is no longer in p. */
  hset live = {0};
  CHECK_EQ(store_live_objects(st, 1, collect, &live), 0);
  CHECK(has(&live, "obj-b"));
  CHECK(has(&live, "obj-x"));
  CHECK(has(&live, "obj-t"));
  CHECK(has(&live, "obj-a"));
  CHECK(!has(&live, "obj-t-mid"));
  CHECK(!has(&live, "obj-a-old"));
  CHECK(!has(&live, "obj-t-old"));
  CHECK_EQ(live.n, 4);
  /* the logs of the node runs not kept: r1's two, r2's t */
  int logs = 0;
  CHECK_EQ(store_dead_logs(st, 1, count_log, &logs), 0);
  CHECK_EQ(logs, 3);

  /* without the label, r3 is just an old run: only b's newest success
   * (through r4's key) keeps obj-b */
  CHECK_EQ(store_snapshot_set_label(st, s3, NULL), 1);
  hset nolabel = {0};
  CHECK_EQ(store_live_objects(st, 1, collect, &nolabel), 0);
  CHECK(has(&nolabel, "obj-b"));
  CHECK(!has(&nolabel, "obj-t"));
  CHECK_EQ(nolabel.n, 3);

  /* a running run is always kept, whatever keep_runs says */
  int64_t r5;
  CHECK_EQ(store_run_add(st, s4, p, 1, &r5), 0);
  produce(st, r5, "c", "kc", "obj-c");
  hset live0 = {0};
  CHECK_EQ(store_live_objects(st, 0, collect, &live0), 0);
  CHECK(has(&live0, "obj-c"));
  CHECK(!has(&live0, "obj-a-old"));

  /* keep everything */
  hset all = {0};
  CHECK_EQ(store_live_objects(st, 100, collect, &all), 0);
  CHECK(has(&all, "obj-a-old"));
  CHECK_EQ(all.n, 8);
  store_close(st);
  teardown();
}

/* ---- the pipeline's last state, and its packed copy ----------------------- */

/* Run sql on the test database with its own connection (what another
 * process, or a hand, would do). */
static void sql_on_db(const char *sql, const void *blob, int len) {
  sqlite3 *db = NULL;
  CHECK_EQ(sqlite3_open(db_path, &db), SQLITE_OK);
  sqlite3_stmt *s = NULL;
  CHECK_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  if (blob)
    CHECK_EQ(sqlite3_bind_blob(s, 1, blob, len, SQLITE_TRANSIENT), SQLITE_OK);
  CHECK_EQ(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

/* The state of node a: its key's entry there or not, and its output. */
static store_node_state *state_of_a(store *st, int64_t p, uint32_t *n) {
  store_node_state *v = NULL;
  CHECK_EQ(store_pipeline_state(st, p, &v, n), 0);
  CHECK_EQ(*n, 1);
  CHECK_STREQ(v[0].node, "a");
  return v;
}

static void test_pipeline_state(void) {
  setup();
  store *st = open_db();
  int64_t p;
  CHECK_EQ(store_pipeline_get_or_create(st, "p", "p.pipe", &p), 0);
  int64_t r1 = new_run(st, p, NULL);
  hash128 key = hash_of("key-s");
  char khex[HASH_HEX_LEN + 1];
  hash_hex(&key, khex);
  int64_t a = add_node(st, r1, "a", "running", khex);
  store_output outs[] = {
      {.port = "out", .hash = hash_of("s1"), .size = 10,
       .st = {.dev = 1, .ino = 2, .size = 10, .mtime_ns = 3, .ctime_ns = 4},
       .has_st = true}};
  CHECK_EQ(store_cache_put(st, &key, "p", outs, 1, NULL, 0, a), 0);
  CHECK_EQ(store_node_run_finish(st, a, "succeeded", 1, 0, NULL), 0);

  /* asked twice: the tables, then the packed copy; the same answer */
  uint32_t n;
  for (int round = 0; round < 2; round++) {
    store_node_state *v = state_of_a(st, p, &n);
    CHECK(v[0].has_key && v[0].has_entry && v[0].entry_is_its);
    CHECK(hash_eq(&v[0].key, &key));
    CHECK_EQ(v[0].node_run, a);
    CHECK_STREQ(v[0].component, "builtin.copy");
    CHECK_STREQ(v[0].target, "local");
    CHECK(v[0].image == NULL);
    CHECK_EQ(v[0].n_outs, 1);
    CHECK_STREQ(v[0].outs[0].port, "out");
    CHECK(hash_eq(&v[0].outs[0].hash, &outs[0].hash));
    CHECK(v[0].outs[0].has_st && v[0].outs[0].st.ino == 2 &&
          v[0].outs[0].st.ctime_ns == 4);
    store_node_states_free(v, n);
  }

  /* the packed copy is what is read while nothing moved: one swapped in
   * by hand (no write to the tables it stands for) is what comes back */
  store_node_state fake = {.node = "a", .component = "builtin.fake",
                           .target = "local", .node_run = a};
  size_t len = 0;
  unsigned char *blob = statepack_encode(&fake, 1, &len);
  sql_on_db("UPDATE pipeline_states SET state = ?", blob, (int)len);
  free(blob);
  store_node_state *v = state_of_a(st, p, &n);
  CHECK_STREQ(v[0].component, "builtin.fake");
  store_node_states_free(v, n);

  /* a write to a table it comes from (here, a stat row refreshed)
   * retires it: the tables answer, and a new copy is kept */
  hash_stat sb = outs[0].st;
  sb.ctime_ns = 99;
  CHECK_EQ(store_object_put(st, &outs[0].hash, 10, &sb), 0);
  v = state_of_a(st, p, &n);
  CHECK_STREQ(v[0].component, "builtin.copy");
  CHECK_EQ(v[0].outs[0].st.ctime_ns, 99);
  store_node_states_free(v, n);

  /* outputs dropped by another connection, then the entry: each is seen */
  sql_on_db("DELETE FROM cache_outputs", NULL, 0);
  v = state_of_a(st, p, &n);
  CHECK(v[0].has_entry);
  CHECK_EQ(v[0].n_outs, 0);
  store_node_states_free(v, n);
  CHECK_EQ(store_cache_delete(st, &key), 0);
  v = state_of_a(st, p, &n);
  CHECK(!v[0].has_entry);
  store_node_states_free(v, n);

  /* a damaged copy is not used: the tables answer */
  CHECK_EQ(store_cache_put(st, &key, "p", outs, 1, NULL, 0, a), 0);
  v = state_of_a(st, p, &n); /* (packs the copy again) */
  store_node_states_free(v, n);
  sql_on_db("UPDATE pipeline_states SET state = substr(state, 1, 40)", NULL,
            0);
  v = state_of_a(st, p, &n);
  CHECK(v[0].has_entry && v[0].n_outs == 1);
  store_node_states_free(v, n);

  /* inside the caller's transaction it is read, never written */
  CHECK_EQ(store_begin(st), 0);
  v = state_of_a(st, p, &n);
  store_node_states_free(v, n);
  store_rollback(st);
  store_close(st);
  teardown();
}

/* Every prefix and every one-byte change of an encoding decodes to the
 * states it came from or is refused: never read out of bounds. */
static void test_statepack(void) {
  store_output o[] = {{.port = "out", .hash = hash_of("x"), .size = 5,
                       .st = {1, 2, 5, 6, 7}, .has_st = true},
                      {.port = "log", .hash = hash_of("y"), .size = 0}};
  store_node_state v[] = {
      {.node = "a", .component = "c", .target = "local", .image = "img:1",
       .node_run = 7, .ord = 3, .has_key = true, .has_ord = true,
       .has_entry = true, .entry_is_its = true, .key = hash_of("k"),
       .outs = o, .n_outs = 2},
      {.node = "b[x]", .component = "c", .target = NULL, .node_run = 9}};
  size_t len = 0;
  unsigned char *p = statepack_encode(v, 2, &len);
  store_node_state *got = NULL;
  uint32_t n = 0;
  CHECK_EQ(statepack_decode(p, len, &got, &n), 0);
  CHECK_EQ(n, 2);
  CHECK_STREQ(got[0].image, "img:1");
  CHECK(got[0].has_ord && got[0].ord == 3 && got[0].entry_is_its);
  CHECK(hash_eq(&got[0].key, &v[0].key));
  CHECK_EQ(got[0].n_outs, 2);
  CHECK_STREQ(got[0].outs[1].port, "log");
  CHECK(got[0].outs[0].has_st && got[0].outs[0].st.ctime_ns == 7);
  CHECK(!got[0].outs[1].has_st);
  CHECK_STREQ(got[1].node, "b[x]");
  CHECK(got[1].target == NULL && !got[1].has_key && got[1].n_outs == 0);
  store_node_states_free(got, n);
  for (size_t cut = 0; cut < len; cut++) {
    CHECK_EQ(statepack_decode(p, cut, &got, &n), -1);
    CHECK(got == NULL && n == 0);
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char *q = malloc(len);
    memcpy(q, p, len);
    q[i] ^= 0xff;
    if (statepack_decode(q, len, &got, &n) == 0)
      store_node_states_free(got, n);
    free(q);
  }
  free(p);
}

int main(void) {
  RUN(test_workspace);
  RUN(test_migrations);
  RUN(test_migrate_from_v1);
  RUN(test_config_once);
  RUN(test_drafts);
  RUN(test_runs);
  RUN(test_cache);
  RUN(test_file_index);
  RUN(test_busy);
  RUN(test_gc);
  RUN(test_pipeline_state);
  RUN(test_statepack);
  return 0;
}
