/*
 * store.c — every SQL statement of pipec (store.h).
 *
 * Statements are prepared once per connection and kept (looked up by the
 * address of their SQL text, always a static string); values are always
 * bound, never formatted into SQL. The schema is versioned with PRAGMA
 * user_version and grows only by appending to `migrations`: a released
 * migration is never edited. Each migration runs in its own BEGIN
 * IMMEDIATE transaction that re-reads the version first, so two pipecs
 * opening a new workspace at once apply it once.
 *
 * Invariants kept here:
 *   - a cache entry and its outputs are written together or not at all;
 *   - a draft revision and its files likewise;
 *   - lookups tell "not found" (0) from a failed query (< 0), so a busy or
 *     broken database is never mistaken for an empty one.
 */
#include "store.h"

#include <sqlite3.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "durable.h"
#include "statepack.h"

#define STORE_BUSY_TIMEOUT_MS 30000

typedef struct cached_stmt {
  const char *sql;             /* static text: its address is the key */
  sqlite3_stmt *stmt;
} cached_stmt;

struct store {
  sqlite3 *db;
  cached_stmt *stmts;          /* every statement prepared so far */
  int n_stmts, cap_stmts;
  char err[512];               /* the last error, for store_errmsg */
  int busy_ms;                 /* how long to wait for another writer */
  int64_t busy_since;          /* when the current wait began (monotonic) */
  bool said_waiting;           /* the wait was announced once */
  bool damaged;                /* the last error: corrupt, or not a database */
};

static const char *const migrations[] = {
    /* 1: everything */
    "CREATE TABLE pipelines("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, main_path TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, UNIQUE(name, main_path));"
    "CREATE TABLE drafts("
    "  id INTEGER PRIMARY KEY,"
    "  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),"
    "  created_at INTEGER NOT NULL, content_hash TEXT NOT NULL);"
    "CREATE TABLE draft_files("
    "  draft_id INTEGER NOT NULL REFERENCES drafts(id), seq INTEGER NOT NULL,"
    "  path TEXT NOT NULL, content BLOB NOT NULL, PRIMARY KEY(draft_id, seq));"
    "CREATE TABLE snapshots("
    "  id INTEGER PRIMARY KEY,"
    "  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),"
    "  draft_id INTEGER NOT NULL REFERENCES drafts(id),"
    "  created_at INTEGER NOT NULL, config TEXT NOT NULL,"
    "  params TEXT NOT NULL, mode TEXT NOT NULL, selection TEXT NOT NULL);"
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY,"
    "  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),"
    "  pipeline_id INTEGER NOT NULL REFERENCES pipelines(id),"
    "  status TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,"
    "  pid INTEGER, ran INTEGER NOT NULL DEFAULT 0,"
    "  cached INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE node_runs("
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  node TEXT NOT NULL, component TEXT NOT NULL, status TEXT NOT NULL,"
    "  cache_key TEXT, cache_hit INTEGER NOT NULL DEFAULT 0, miss_reason TEXT,"
    "  target TEXT, job_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER, started_at INTEGER, ended_at INTEGER,"
    "  log_path TEXT, message TEXT);"
    "CREATE INDEX node_runs_run ON node_runs(run_id);"
    "CREATE INDEX node_runs_node ON node_runs(node, status);"
    "CREATE TABLE cache("
    "  key TEXT PRIMARY KEY, parts TEXT NOT NULL, node_run_id INTEGER,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE cache_outputs("
    "  key TEXT NOT NULL REFERENCES cache(key) ON DELETE CASCADE,"
    "  port TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,"
    "  PRIMARY KEY(key, port));"
    "CREATE INDEX cache_outputs_hash ON cache_outputs(hash);"
    "CREATE TABLE artifacts("
    "  node_run_id INTEGER NOT NULL REFERENCES node_runs(id),"
    "  port TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,"
    "  PRIMARY KEY(node_run_id, port));"
    "CREATE INDEX artifacts_hash ON artifacts(hash);"
    "CREATE TABLE files("
    "  path TEXT PRIMARY KEY, dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    "  ctime_ns INTEGER NOT NULL, hash TEXT NOT NULL);",

    /* 2: snapshot labels; key parts kept apart from the cache entry so
     * `pipec why` still knows them after the entry is dropped (damage,
     * gc) — cache.parts is no longer written (''); runs by snapshot. */
    "ALTER TABLE snapshots ADD COLUMN label TEXT;"
    "CREATE TABLE key_parts("
    "  key TEXT PRIMARY KEY, parts TEXT NOT NULL);"
    "INSERT OR IGNORE INTO key_parts(key, parts)"
    "  SELECT key, parts FROM cache WHERE parts <> '';"
    "UPDATE cache SET parts = '';"
    "CREATE INDEX runs_snapshot ON runs(snapshot_id);",

    /* 3: a snapshot is the whole configuration: the code and data files
     * it read (code bytes are objects), its -p overrides as rows (taken
     * from the params JSON of earlier snapshots); temporary files a
     * rollback is writing into the project, so a killed one is cleaned. */
    "CREATE TABLE snapshot_files("
    "  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),"
    "  kind TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL,"
    "  size INTEGER NOT NULL, mode INTEGER NOT NULL DEFAULT 0,"
    "  is_dir INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(snapshot_id, kind, path));"
    "CREATE INDEX snapshot_files_hash ON snapshot_files(hash);"
    "CREATE TABLE snapshot_overrides("
    "  snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),"
    "  seq INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY(snapshot_id, seq));"
    "INSERT INTO snapshot_overrides(snapshot_id, seq, name, value)"
    "  SELECT s.id, o.key, substr(o.value, 1, instr(o.value, '=') - 1),"
    "         substr(o.value, instr(o.value, '=') + 1)"
    "  FROM snapshots s, json_each(s.params, '$.overrides') o"
    "  WHERE json_valid(s.params) AND o.type = 'text'"
    "    AND instr(o.value, '=') > 1;"
    "CREATE TABLE project_temps("
    "  path TEXT PRIMARY KEY, pid INTEGER NOT NULL);",

    /* 4: each object's stat identity as recorded when it was stored or
     * last re-hashed intact (checked on every cache hit: a mismatch
     * re-hashes), and the input objects each cache entry was computed
     * from (an entry that read a damaged object is dropped with it).
     * Objects stored before have no row: their first check re-hashes. */
    "CREATE TABLE objects("
    "  hash TEXT PRIMARY KEY, size INTEGER NOT NULL, dev INTEGER NOT NULL,"
    "  ino INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    "  ctime_ns INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE cache_inputs("
    "  key TEXT NOT NULL REFERENCES cache(key) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL, PRIMARY KEY(key, hash)) WITHOUT ROWID;"
    "CREATE INDEX cache_inputs_hash ON cache_inputs(hash);",

    /* 5: what each run published (publish NODE.PORT = "path"). */
    "CREATE TABLE published("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  path TEXT NOT NULL, node TEXT NOT NULL, port TEXT NOT NULL,"
    "  hash TEXT NOT NULL, written INTEGER NOT NULL,"
    "  PRIMARY KEY(run_id, path));"
    /* and which objects are tree objects (tree.h): gc keeps what a live
     * tree names */
    "CREATE TABLE trees(hash TEXT PRIMARY KEY) WITHOUT ROWID;"
    /* and how each run expanded its run-time loops: the items' keys */
    "CREATE TABLE expansions("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  fanout INTEGER NOT NULL, family TEXT NOT NULL, keys TEXT NOT NULL,"
    "  PRIMARY KEY(run_id, fanout));",

    /* 6: the image a node ran in (container.h): as the pipeline names it,
     * and its id as the target's runtime resolved it (NULL: none). */
    "ALTER TABLE node_runs ADD COLUMN image TEXT;"
    "ALTER TABLE node_runs ADD COLUMN image_id TEXT;",

    /* 7: node runs whose outputs came from a shared cache (sharedcache.h),
     * and which one: `show` says "cached (shared: NAME)". */
    "CREATE TABLE shared_hits("
    "  node_run_id INTEGER PRIMARY KEY REFERENCES node_runs(id),"
    "  cache TEXT NOT NULL);",

    /* 8: the memory a node run's last attempt asked for and its peak
     * (bytes; NULL: none asked, not measured) */
    "ALTER TABLE node_runs ADD COLUMN memory INTEGER;"
    "ALTER TABLE node_runs ADD COLUMN peak_memory INTEGER;",

    /* 9: a compiled configuration is stored once, named by the hash of its
     * text, and snapshots name it (snapshots.config is '' for those; the
     * snapshots of older pipecs keep their own copy in it). */
    "CREATE TABLE configs("
    "  id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    "  config TEXT NOT NULL);"
    "ALTER TABLE snapshots ADD COLUMN config_id INTEGER REFERENCES configs(id);"
    /* and a cached node whose newest record (same name, component, target
     * and key) is a node run of an earlier run is recorded as a reference
     * to it: ranges of node run ids per run, so a run that changes nothing
     * adds a row, not one per node. ord: the node's place in its run's
     * pipeline, the order node runs are listed in. */
    "ALTER TABLE node_runs ADD COLUMN ord INTEGER;"
    "CREATE TABLE run_cached("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  first INTEGER NOT NULL, last INTEGER NOT NULL, at INTEGER NOT NULL,"
    "  PRIMARY KEY(run_id, first)) WITHOUT ROWID;"
    "CREATE INDEX run_cached_first ON run_cached(first, last);"
    /* and a run-time loop's keys are stored once per distinct list (a
     * family of 10^5 chunks is a megabyte of them) */
    "CREATE TABLE key_lists("
    "  id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    "  keys TEXT NOT NULL);"
    "ALTER TABLE expansions ADD COLUMN keys_id INTEGER REFERENCES key_lists(id);",

    /* 10: each pipeline's last state (store_pipeline_state) kept packed
     * (statepack.h), valid while state_gen.n is the gen it was read at.
     * Every write to a table the state is read from moves state_gen, in
     * the statement that writes it, so no path can forget to: a state
     * that loads is exactly what the tables would give. */
    "CREATE TABLE state_gen(n INTEGER NOT NULL);"
    "INSERT INTO state_gen VALUES(0);"
    "CREATE TABLE pipeline_states("
    "  pipeline_id INTEGER PRIMARY KEY REFERENCES pipelines(id),"
    "  gen INTEGER NOT NULL, state BLOB NOT NULL);"
#define STATE_GEN_TRIGGERS(t)                                                 \
  "CREATE TRIGGER state_gen_" t "_i AFTER INSERT ON " t                        \
  " BEGIN UPDATE state_gen SET n = n + 1; END;"                               \
  "CREATE TRIGGER state_gen_" t "_u AFTER UPDATE ON " t                        \
  " BEGIN UPDATE state_gen SET n = n + 1; END;"                               \
  "CREATE TRIGGER state_gen_" t "_d AFTER DELETE ON " t                        \
  " BEGIN UPDATE state_gen SET n = n + 1; END;"
    STATE_GEN_TRIGGERS("node_runs") STATE_GEN_TRIGGERS("cache")
    STATE_GEN_TRIGGERS("cache_outputs") STATE_GEN_TRIGGERS("objects")
    STATE_GEN_TRIGGERS("artifacts"),
#undef STATE_GEN_TRIGGERS

    /* 11: the configuration each compile (named by what it read,
     * loadid.h) gave, so a run of an unchanged pipeline names it without
     * serialising the graph to hash it */
    "CREATE TABLE config_loads("
    "  load_id TEXT PRIMARY KEY,"
    "  config_id INTEGER NOT NULL REFERENCES configs(id)) WITHOUT ROWID;",
};
#define N_MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int64_t store_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record the connection's last error as "what: message"; always -1. A
 * full disk says so, whichever SQLite code it came as (SQLITE_FULL, or an
 * I/O error whose errno is ENOSPC or EDQUOT). */
static int fail(store *st, const char *what) {
  int code = st->db ? sqlite3_extended_errcode(st->db) : SQLITE_NOMEM;
  int primary = code & 0xff;
  int sys = st->db ? sqlite3_system_errno(st->db) : 0;
  st->damaged = false;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    snprintf(st->err, sizeof st->err,
             "the workspace is busy (another pipec is writing to it); try "
             "again when it is done");
  else if (primary == SQLITE_FULL ||
           (primary == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT)))
    snprintf(st->err, sizeof st->err, "%s: no space left on device (the "
             "disk holding the workspace is full)", what);
  else if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN ||
           primary == SQLITE_PERM)
    snprintf(st->err, sizeof st->err, "%s: %s (check the permissions of "
             "the .pipec directory)", what,
             st->db ? sqlite3_errmsg(st->db) : "cannot open");
  else if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    st->damaged = true;
    snprintf(st->err, sizeof st->err, "%s: the workspace database is "
             "damaged (%s); restore it from a backup, or move it away to "
             "start a new history", what, sqlite3_errmsg(st->db));
  } else if (primary == SQLITE_IOERR && sys)
    snprintf(st->err, sizeof st->err, "%s: %s (%s)", what,
             st->db ? sqlite3_errmsg(st->db) : "I/O error", strerror(sys));
  else
    snprintf(st->err, sizeof st->err, "%s: %s", what,
             st->db ? sqlite3_errmsg(st->db) : "out of memory");
  return -1;
}

const char *store_errmsg(const store *st) { return st->err; }

bool store_damaged(const store *st) { return st->damaged; }

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    abort();
  return q;
}

/* The prepared statement for sql (a static string), reset and unbound;
 * NULL with the error set if it cannot be prepared. */
static sqlite3_stmt *prep(store *st, const char *sql) {
  for (int i = 0; i < st->n_stmts; i++)
    if (st->stmts[i].sql == sql) {
      sqlite3_reset(st->stmts[i].stmt);
      sqlite3_clear_bindings(st->stmts[i].stmt);
      return st->stmts[i].stmt;
    }
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
                         NULL) != SQLITE_OK) {
    fail(st, "prepare");
    return NULL;
  }
  if (st->n_stmts == st->cap_stmts) {
    st->cap_stmts = st->cap_stmts ? st->cap_stmts * 2 : 32;
    st->stmts = xrealloc(st->stmts, (size_t)st->cap_stmts * sizeof *st->stmts);
  }
  st->stmts[st->n_stmts++] = (cached_stmt){sql, s};
  return s;
}

/* Bind by a format: i int64, t text (NULL: null), b blob (ptr, len), h
 * hash (as hex), n null. */
static int bind(store *st, sqlite3_stmt *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = SQLITE_OK;
  for (int i = 1; *fmt && rc == SQLITE_OK; fmt++, i++) {
    switch (*fmt) {
    case 'i':
      rc = sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
      break;
    case 't': {
      const char *t = va_arg(ap, const char *);
      rc = t ? sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT)
             : sqlite3_bind_null(s, i);
      break;
    }
    case 'b': {
      const void *p = va_arg(ap, const void *);
      size_t n = va_arg(ap, size_t);
      rc = sqlite3_bind_blob64(s, i, p ? p : "", p ? n : 0, SQLITE_TRANSIENT);
      break;
    }
    case 'h': {
      char hex[HASH_HEX_LEN + 1];
      hash_hex(va_arg(ap, const hash128 *), hex);
      rc = sqlite3_bind_text(s, i, hex, -1, SQLITE_TRANSIENT);
      break;
    }
    default:
      rc = sqlite3_bind_null(s, i);
    }
  }
  va_end(ap);
  return rc == SQLITE_OK ? 0 : fail(st, "bind");
}

/* Run a statement that returns no rows. */
static int exec_stmt(store *st, sqlite3_stmt *s, const char *what) {
  if (!s)
    return -1;
  int rc = sqlite3_step(s);
  int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(st, what);
  sqlite3_reset(s);
  return ret;
}

/* Step a statement that returns at most one row: 1 a row (the statement
 * is left on it; the caller resets), 0 none, -1 error (reset). */
static int step_row(store *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    return 1;
  int ret = rc == SQLITE_DONE ? 0 : fail(st, what);
  sqlite3_reset(s);
  return ret;
}

/* The array v (with room for *cap elements, n used) with room for one
 * more: the row readers below append one element per result row. */
static void *grow(void *v, uint32_t n, uint32_t *cap, size_t elem) {
  if (n < *cap)
    return v;
  *cap = *cap ? *cap * 2 : 16;
  return xrealloc(v, (size_t)*cap * elem);
}

static char *col_text(sqlite3_stmt *s, int col) {
  const unsigned char *t = sqlite3_column_text(s, col);
  if (!t)
    return NULL;
  char *d = strdup((const char *)t);
  if (!d)
    abort();
  return d;
}

static char *col_text_of(const char *t) {
  char *d = strdup(t);
  if (!d)
    abort();
  return d;
}

static int col_hash(sqlite3_stmt *s, int col, hash128 *h) {
  const unsigned char *t = sqlite3_column_text(s, col);
  return t && sqlite3_column_bytes(s, col) == HASH_HEX_LEN &&
                 hash_from_hex((const char *)t, h) == 0
             ? 0
             : -1;
}

/* ---- transactions ----------------------------------------------------------- */

/* Make a multi-statement write atomic: its own BEGIN IMMEDIATE when no
 * transaction is open (taking the write lock up front, so a read followed
 * by a write cannot fail with a stale snapshot), a savepoint inside the
 * caller's. tx_leave commits or releases on rc == 0, else undoes. */
static int tx_enter(store *st, bool *nested) {
  *nested = !sqlite3_get_autocommit(st->db);
  if (*nested)
    return sqlite3_exec(st->db, "SAVEPOINT store_tx", NULL, NULL, NULL) ==
                   SQLITE_OK
               ? 0
               : fail(st, "savepoint");
  return store_begin(st);
}

static int tx_leave(store *st, bool nested, int rc) {
  if (nested) {
    if (rc != 0)
      sqlite3_exec(st->db, "ROLLBACK TO store_tx", NULL, NULL, NULL);
    if (sqlite3_exec(st->db, "RELEASE store_tx", NULL, NULL, NULL) !=
            SQLITE_OK &&
        rc == 0)
      rc = fail(st, "release");
    return rc;
  }
  if (rc != 0) {
    store_rollback(st);
    return rc;
  }
  return store_commit(st);
}

int store_begin(store *st) {
  return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
             ? 0
             : fail(st, "begin");
}

int store_begin_read(store *st) {
  return sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
             ? 0
             : fail(st, "begin");
}

int store_commit(store *st) {
  if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  fail(st, "commit");
  store_rollback(st);
  return -1;
}

void store_rollback(store *st) {
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- opening, migrations ---------------------------------------------------- */

static int read_version(store *st, int *version) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *version = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : fail(st, "read the schema version");
}

int store_schema_version(store *st) {
  int v = -1;
  return read_version(st, &v) == 0 ? v : -1;
}

static int too_new(store *st, int version) {
  snprintf(st->err, sizeof st->err,
           "the workspace was written by a newer pipec (schema %d, this "
           "pipec knows %d)",
           version, N_MIGRATIONS);
  return -1;
}

static int migrate(store *st) {
  int version = 0;
  if (read_version(st, &version) != 0)
    return -1;
  if (version > N_MIGRATIONS)
    return too_new(st, version);
  while (version < N_MIGRATIONS) {
    if (store_begin(st) != 0)
      return -1;
    /* another pipec may have migrated while we waited for the lock */
    if (read_version(st, &version) != 0) {
      store_rollback(st);
      return -1;
    }
    if (version >= N_MIGRATIONS) {
      store_rollback(st);
      return version > N_MIGRATIONS ? too_new(st, version) : 0;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
    if (sqlite3_exec(st->db, migrations[version], NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
      char what[64];
      snprintf(what, sizeof what, "schema migration %d", version + 1);
      fail(st, what);
      store_rollback(st);
      return -1;
    }
    if (store_commit(st) != 0)
      return -1;
    version++;
  }
  return 0;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's busy handler: wait for another pipec's write lock for up to
 * busy_ms, polling at most every 50 ms, and say so once if it takes more
 * than 2 s, so a waiting command does not look hung. */
static int on_busy(void *ctx, int n) {
  store *st = ctx;
  if (n == 0)
    st->busy_since = mono_ms();
  int64_t waited = mono_ms() - st->busy_since;
  if (waited >= st->busy_ms)
    return 0;
  if (waited >= 2000 && !st->said_waiting) {
    st->said_waiting = true;
    fprintf(stderr, "pipec: waiting for another pipec that is writing to "
                    "the workspace (at most %d s)\n", st->busy_ms / 1000);
  }
  int ms = n < 6 ? 1 << n : 50;
  struct timespec pause = {0, (long)ms * 1000000};
  nanosleep(&pause, NULL);
  return 1;
}

/* The pragmas and migrations of store_open. While another pipec creates
 * the workspace (WAL set-up and recovery), SQLite can answer SQLITE_BUSY
 * without calling the busy handler: retry for the busy timeout. */
static int open_retrying(store *st) {
  struct timespec pause = {0, 20 * 1000000};
  int64_t t0 = mono_ms();
  for (;;) {
    int rc = sqlite3_exec(st->db,
                          durable_enabled()
                              ? "PRAGMA journal_mode = WAL; PRAGMA synchronous "
                                "= NORMAL; PRAGMA foreign_keys = ON; "
                                "PRAGMA temp_store = MEMORY;"
                              : "PRAGMA journal_mode = WAL; PRAGMA synchronous "
                                "= OFF; PRAGMA foreign_keys = ON; "
                                "PRAGMA temp_store = MEMORY;",
                          NULL, NULL, NULL) != SQLITE_OK
                 ? fail(st, "open")
                 : migrate(st);
    if (rc == 0 || (sqlite3_extended_errcode(st->db) & 0xff) != SQLITE_BUSY)
      return rc;
    if (mono_ms() - t0 > st->busy_ms)
      return rc;
    nanosleep(&pause, NULL);
  }
}

int store_open(const char *path, store **out, char *err, size_t errlen) {
  store *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = sqlite3_open_v2(path, &st->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_NOMUTEX,
                           NULL);
  if (rc == SQLITE_OK) {
    st->busy_ms = STORE_BUSY_TIMEOUT_MS;
    sqlite3_busy_handler(st->db, on_busy, st);
    sqlite3_extended_result_codes(st->db, 1);
    /* synchronous = NORMAL in WAL mode: a power loss may forget the last
     * commits but never leaves the database inconsistent; objects are
     * fsync'd by objstore before the transaction that names them.
     * temp_store = MEMORY: the savepoint journal of a write inside a batch
     * (store_cache_put) would otherwise be a temp file created and
     * removed per node. */
    rc = open_retrying(st);
  } else {
    fail(st, "open");
  }
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, st->err);
    store_close(st);
    return -1;
  }
  *out = st;
  return 0;
}

void store_set_busy_timeout(store *st, int ms) {
  st->busy_ms = ms;
}

void store_close(store *st) {
  if (!st)
    return;
  for (int i = 0; i < st->n_stmts; i++)
    sqlite3_finalize(st->stmts[i].stmt);
  free(st->stmts);
  sqlite3_close(st->db);
  free(st);
}

/* ---- pipelines, drafts, snapshots ----------------------------------------- */

int store_pipeline_get_or_create(store *st, const char *name,
                                 const char *main_path, int64_t *id) {
  static const char q[] =
      "SELECT id FROM pipelines WHERE name = ? AND main_path = ?";
  static const char ins[] =
      "INSERT INTO pipelines(name, main_path, created_at) VALUES (?, ?, ?) "
      "ON CONFLICT(name, main_path) DO NOTHING";
  for (int pass = 0; pass < 2; pass++) {
    sqlite3_stmt *s = prep(st, q);
    if (!s || bind(st, s, "tt", name, main_path))
      return -1;
    int found = step_row(st, s, "find pipeline");
    if (found < 0)
      return -1;
    if (found) {
      *id = sqlite3_column_int64(s, 0);
      sqlite3_reset(s);
      return 0;
    }
    /* a concurrent pipec may insert it first: then the second pass
     * finds its row */
    s = prep(st, ins);
    if (!s || bind(st, s, "tti", name, main_path, store_now_ms()) ||
        exec_stmt(st, s, "record pipeline"))
      return -1;
  }
  snprintf(st->err, sizeof st->err, "record pipeline: the row vanished");
  return -1;
}

int store_pipeline_find(store *st, const char *main_path, int64_t *id) {
  static const char q[] = "SELECT id FROM pipelines WHERE main_path = ? "
                          "ORDER BY id DESC LIMIT 1";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "t", main_path))
    return -1;
  int found = step_row(st, s, "find pipeline");
  if (found == 1) {
    *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
  }
  return found;
}

/* A hash of every (path, bytes) pair, to tell a draft from the last one:
 * lengths first, so ("ab","c") and ("a","bc") differ. */
static void files_hash(const store_file *files, uint32_t n, char *hex) {
  hash_stream *hs = hash_stream_new();
  if (!hs)
    abort();
  uint64_t count = n;
  hash_stream_update(hs, &count, sizeof count);
  for (uint32_t i = 0; i < n; i++) {
    uint64_t lens[2] = {strlen(files[i].path), files[i].len};
    hash_stream_update(hs, lens, sizeof lens);
    hash_stream_update(hs, files[i].path, lens[0]);
    hash_stream_update(hs, files[i].text, files[i].len);
  }
  hash128 h = hash_stream_digest(hs);
  hash_stream_free(hs);
  hash_hex(&h, hex);
}

int store_draft_record(store *st, int64_t pipeline, const store_file *files,
                       uint32_t n, int64_t *draft_id) {
  static const char last[] = "SELECT id, content_hash FROM drafts WHERE "
                             "pipeline_id = ? ORDER BY id DESC LIMIT 1";
  static const char ins[] = "INSERT INTO drafts(pipeline_id, created_at, "
                            "content_hash) VALUES (?, ?, ?)";
  static const char ins_file[] = "INSERT INTO draft_files(draft_id, seq, "
                                 "path, content) VALUES (?, ?, ?, ?)";
  char hex[HASH_HEX_LEN + 1];
  files_hash(files, n, hex);
  bool nested;
  if (tx_enter(st, &nested) != 0)
    return -1;
  /* the comparison and the insert are in one write transaction, so two
   * pipecs recording the same edit make one revision */
  int rc = -1;
  sqlite3_stmt *s = prep(st, last);
  if (!s || bind(st, s, "i", pipeline))
    goto out;
  int found = step_row(st, s, "read drafts");
  if (found < 0)
    goto out;
  if (found) {
    const char *h = (const char *)sqlite3_column_text(s, 1);
    if (h && strcmp(h, hex) == 0) {
      *draft_id = sqlite3_column_int64(s, 0);
      sqlite3_reset(s);
      rc = 0;
      goto out;
    }
    sqlite3_reset(s);
  }
  s = prep(st, ins);
  if (!s || bind(st, s, "iit", pipeline, store_now_ms(), hex) ||
      exec_stmt(st, s, "record draft"))
    goto out;
  int64_t id = sqlite3_last_insert_rowid(st->db);
  for (uint32_t i = 0; i < n; i++) {
    s = prep(st, ins_file);
    if (!s ||
        bind(st, s, "iitb", id, (int64_t)i, files[i].path, files[i].text,
             files[i].len) ||
        exec_stmt(st, s, "record draft file"))
      goto out;
  }
  *draft_id = id;
  rc = 0;
out:
  return tx_leave(st, nested, rc);
}

int store_draft_files(store *st, int64_t draft, store_file **files,
                      uint32_t *n) {
  static const char q[] = "SELECT path, content FROM draft_files WHERE "
                          "draft_id = ? ORDER BY seq";
  sqlite3_stmt *s = prep(st, q);
  *files = NULL;
  *n = 0;
  if (!s || bind(st, s, "i", draft))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *files = grow(*files, *n, &cap, sizeof **files);
    const void *blob = sqlite3_column_blob(s, 1);
    size_t len = (size_t)sqlite3_column_bytes(s, 1);
    char *text = xrealloc(NULL, len + 1);
    if (len)
      memcpy(text, blob, len);
    text[len] = 0;
    (*files)[(*n)++] = (store_file){col_text(s, 0), text, len};
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read draft");
  sqlite3_reset(s);
  if (ret != 0) {
    store_files_free(*files, *n);
    *files = NULL;
    *n = 0;
  }
  return ret;
}

void store_files_free(store_file *files, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    free((char *)files[i].path);
    free((char *)files[i].text);
  }
  free(files);
}

#define DRAFT_COLS                                                          \
  "SELECT d.id, d.pipeline_id, d.created_at, p.name, p.main_path, "         \
  "(SELECT max(e.id) FROM drafts e WHERE e.pipeline_id = d.pipeline_id "    \
  " AND e.id < d.id), "                                                     \
  "(SELECT max(s.id) FROM snapshots s WHERE s.draft_id = d.id), "           \
  "(SELECT max(r.id) FROM runs r JOIN snapshots s ON s.id = r.snapshot_id " \
  " WHERE s.draft_id = d.id) "                                              \
  "FROM drafts d JOIN pipelines p ON p.id = d.pipeline_id "

static void draft_row(sqlite3_stmt *s, store_draft *o) {
  o->id = sqlite3_column_int64(s, 0);
  o->pipeline_id = sqlite3_column_int64(s, 1);
  o->created_ms = sqlite3_column_int64(s, 2);
  o->pipeline = col_text(s, 3);
  o->main_path = col_text(s, 4);
  o->previous = sqlite3_column_int64(s, 5);
  o->snapshot = sqlite3_column_int64(s, 6);
  o->run = sqlite3_column_int64(s, 7);
}

int store_draft_get(store *st, int64_t id, store_draft *out) {
  static const char q[] = DRAFT_COLS "WHERE d.id = ?";
  sqlite3_stmt *s = prep(st, q);
  memset(out, 0, sizeof *out);
  if (!s || bind(st, s, "i", id))
    return -1;
  int found = step_row(st, s, "read draft");
  if (found == 1) {
    draft_row(s, out);
    sqlite3_reset(s);
  }
  return found;
}

int store_draft_list(store *st, int64_t pipeline, uint32_t limit,
                     store_draft **out, uint32_t *n) {
  static const char q[] = DRAFT_COLS
      "WHERE ?1 = 0 OR d.pipeline_id = ?1 ORDER BY d.id DESC LIMIT ?2";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "ii", pipeline, limit ? (int64_t)limit : -1))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    draft_row(s, &(*out)[(*n)++]);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list drafts");
  sqlite3_reset(s);
  if (ret != 0) {
    store_drafts_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return ret;
}

void store_draft_free(store_draft *d) {
  free(d->pipeline);
  free(d->main_path);
  memset(d, 0, sizeof *d);
}

void store_drafts_free(store_draft *d, uint32_t n) {
  for (uint32_t i = 0; d && i < n; i++)
    store_draft_free(&d[i]);
  free(d);
}

int store_config_find(store *st, const hash128 *h, int64_t *id) {
  static const char q[] = "SELECT id FROM configs WHERE hash = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "h", h))
    return -1;
  int found = step_row(st, s, "find the configuration");
  if (found == 1) {
    *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
  }
  return found;
}

int store_config_put(store *st, const hash128 *h, const char *config,
                     int64_t *id) {
  static const char ins[] = "INSERT INTO configs(hash, config) VALUES (?, ?) "
                            "ON CONFLICT(hash) DO NOTHING";
  int found = store_config_find(st, h, id);
  if (found != 0)
    return found < 0 ? -1 : 0;
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "ht", h, config) ||
      exec_stmt(st, s, "record the configuration"))
    return -1;
  return store_config_find(st, h, id) == 1 ? 0 : -1;
}

int store_config_of_load(store *st, const hash128 *load, int64_t *id) {
  static const char q[] =
      "SELECT config_id FROM config_loads WHERE load_id = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "h", load))
    return -1;
  int found = step_row(st, s, "find the compile's configuration");
  if (found == 1) {
    *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
  }
  return found;
}

int store_config_load_put(store *st, const hash128 *load, int64_t id) {
  static const char q[] =
      "INSERT OR REPLACE INTO config_loads(load_id, config_id) VALUES (?, ?)";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "hi", load, id))
    return -1;
  return exec_stmt(st, s, "record the compile's configuration");
}

int store_snapshot_add_config(store *st, int64_t pipeline, int64_t draft,
                              int64_t config_id, const char *params,
                              const char *mode, const char *selection,
                              int64_t *id) {
  static const char ins[] =
      "INSERT INTO snapshots(pipeline_id, draft_id, created_at, config, "
      "config_id, params, mode, selection) VALUES (?, ?, ?, '', ?, ?, ?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s ||
      bind(st, s, "iiiittt", pipeline, draft, store_now_ms(), config_id,
           params ? params : "{}", mode ? mode : "",
           selection ? selection : "{}") ||
      exec_stmt(st, s, "record snapshot"))
    return -1;
  *id = sqlite3_last_insert_rowid(st->db);
  return 0;
}

int store_snapshot_add(store *st, int64_t pipeline, int64_t draft,
                       const char *config, const char *params,
                       const char *mode, const char *selection, int64_t *id) {
  if (!config)
    config = "{}";
  hash128 h = hash_buf(config, strlen(config));
  bool nested;
  if (tx_enter(st, &nested) != 0)
    return -1;
  int64_t cfg = 0;
  int rc = store_config_put(st, &h, config, &cfg);
  if (rc == 0)
    rc = store_snapshot_add_config(st, pipeline, draft, cfg, params, mode,
                                   selection, id);
  return tx_leave(st, nested, rc);
}

int store_snapshot_set_label(store *st, int64_t id, const char *label) {
  static const char upd[] = "UPDATE snapshots SET label = ? WHERE id = ?";
  sqlite3_stmt *s = prep(st, upd);
  if (!s || bind(st, s, "ti", label, id) ||
      exec_stmt(st, s, "label snapshot"))
    return -1;
  return sqlite3_changes(st->db) > 0;
}

#define SNAPSHOT_COLS                                                       \
  "SELECT s.id, s.pipeline_id, s.draft_id, s.created_at, p.name, "          \
  "p.main_path, coalesce(c.config, s.config), s.params, s.mode, "          \
  "s.selection, s.label, "                                                  \
  "(SELECT max(r.id) FROM runs r WHERE r.snapshot_id = s.id) "              \
  "FROM snapshots s JOIN pipelines p ON p.id = s.pipeline_id "              \
  "LEFT JOIN configs c ON c.id = s.config_id "

static void snapshot_row(sqlite3_stmt *s, store_snapshot *o) {
  o->id = sqlite3_column_int64(s, 0);
  o->pipeline_id = sqlite3_column_int64(s, 1);
  o->draft_id = sqlite3_column_int64(s, 2);
  o->created_ms = sqlite3_column_int64(s, 3);
  o->pipeline = col_text(s, 4);
  o->main_path = col_text(s, 5);
  o->config = col_text(s, 6);
  o->params = col_text(s, 7);
  o->mode = col_text(s, 8);
  o->selection = col_text(s, 9);
  o->label = col_text(s, 10);
  o->last_run = sqlite3_column_int64(s, 11);
}

int store_snapshot_get(store *st, int64_t id, store_snapshot *out) {
  static const char q[] = SNAPSHOT_COLS "WHERE s.id = ?";
  sqlite3_stmt *s = prep(st, q);
  memset(out, 0, sizeof *out);
  if (!s || bind(st, s, "i", id))
    return -1;
  int found = step_row(st, s, "read snapshot");
  if (found == 1) {
    snapshot_row(s, out);
    sqlite3_reset(s);
  }
  return found;
}

int store_snapshot_list(store *st, int64_t pipeline, uint32_t limit,
                        store_snapshot **out, uint32_t *n) {
  static const char q[] = SNAPSHOT_COLS
      "WHERE ?1 = 0 OR s.pipeline_id = ?1 ORDER BY s.id DESC LIMIT ?2";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "ii", pipeline, limit ? (int64_t)limit : -1))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    snapshot_row(s, &(*out)[(*n)++]);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list snapshots");
  sqlite3_reset(s);
  return ret;
}

void store_snapshot_free(store_snapshot *o) {
  free(o->pipeline);
  free(o->main_path);
  free(o->config);
  free(o->params);
  free(o->mode);
  free(o->selection);
  free(o->label);
  memset(o, 0, sizeof *o);
}

void store_snapshots_free(store_snapshot *s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    store_snapshot_free(&s[i]);
  free(s);
}

/* ---- what a snapshot holds besides its draft ------------------------------ */

int store_snapshot_overrides_add(store *st, int64_t snapshot,
                                 const store_override *ov, uint32_t n) {
  static const char ins[] =
      "INSERT INTO snapshot_overrides(snapshot_id, seq, name, value) "
      "VALUES (?, ?, ?, ?)";
  bool nested;
  int rc = tx_enter(st, &nested);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    sqlite3_stmt *s = prep(st, ins);
    rc = !s || bind(st, s, "iitt", snapshot, (int64_t)i, ov[i].name,
                    ov[i].value)
             ? -1
             : exec_stmt(st, s, "record the -p values");
  }
  return tx_leave(st, nested, rc);
}

int store_snapshot_overrides(store *st, int64_t snapshot,
                             store_override **out, uint32_t *n) {
  static const char q[] = "SELECT name, value FROM snapshot_overrides "
                          "WHERE snapshot_id = ? ORDER BY seq";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "i", snapshot))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    (*out)[(*n)++] = (store_override){col_text(s, 0), col_text(s, 1)};
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read the -p values");
  sqlite3_reset(s);
  return ret;
}

void store_overrides_free(store_override *ov, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    free(ov[i].name);
    free(ov[i].value);
  }
  free(ov);
}

int store_snapshot_selection(store *st, int64_t snapshot,
                             store_selection *out) {
  static const char q[] =
      "SELECT json_extract(selection, '$.from'), "
      "json_extract(selection, '$.to'), "
      "coalesce(json_extract(selection, '$.force'), 0), "
      "coalesce(json_extract(selection, '$.snapshot'), 0) "
      "FROM snapshots WHERE id = ? AND json_valid(selection)";
  static const char qn[] =
      "SELECT j.value FROM snapshots s, json_each(s.selection, '$.nodes') j "
      "WHERE s.id = ? AND json_valid(s.selection) ORDER BY j.key";
  memset(out, 0, sizeof *out);
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", snapshot))
    return -1;
  int found = step_row(st, s, "read the selection");
  if (found != 1)
    return found;
  out->from = col_text(s, 0);
  out->to = col_text(s, 1);
  out->force = sqlite3_column_int(s, 2) != 0;
  out->of_snapshot = sqlite3_column_int64(s, 3);
  sqlite3_reset(s);
  if (!(s = prep(st, qn)) || bind(st, s, "i", snapshot))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out->nodes = grow(out->nodes, out->n_nodes, &cap, sizeof *out->nodes);
    out->nodes[out->n_nodes++] = col_text(s, 0);
  }
  int ret = rc == SQLITE_DONE ? 1 : fail(st, "read the selection");
  sqlite3_reset(s);
  return ret;
}

void store_selection_free(store_selection *sel) {
  for (uint32_t i = 0; i < sel->n_nodes; i++)
    free(sel->nodes[i]);
  free(sel->nodes);
  free(sel->from);
  free(sel->to);
  memset(sel, 0, sizeof *sel);
}

static const char *file_kind_name(store_file_kind k) {
  return k == STORE_FILE_CODE ? "code" : "data";
}

int store_snapshot_files_add(store *st, int64_t snapshot,
                             const store_snap_file *f, uint32_t n) {
  static const char ins[] =
      "INSERT OR REPLACE INTO snapshot_files(snapshot_id, kind, path, hash, "
      "size, mode, is_dir) VALUES (?, ?, ?, ?, ?, ?, ?)";
  bool nested;
  int rc = tx_enter(st, &nested);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    sqlite3_stmt *s = prep(st, ins);
    rc = !s || bind(st, s, "itthiii", snapshot, file_kind_name(f[i].kind),
                    f[i].path, &f[i].hash, (int64_t)f[i].size,
                    (int64_t)f[i].mode, (int64_t)f[i].is_dir)
             ? -1
             : exec_stmt(st, s, "record the snapshot's files");
  }
  return tx_leave(st, nested, rc);
}

int store_snapshot_files(store *st, int64_t snapshot, store_snap_file **out,
                         uint32_t *n) {
  static const char q[] =
      "SELECT kind, path, hash, size, mode, is_dir FROM snapshot_files "
      "WHERE snapshot_id = ? ORDER BY kind, path";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "i", snapshot))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    store_snap_file f = {0};
    const unsigned char *kind = sqlite3_column_text(s, 0);
    f.kind = kind && strcmp((const char *)kind, "code") == 0
                 ? STORE_FILE_CODE
                 : STORE_FILE_DATA;
    if (col_hash(s, 2, &f.hash) != 0)
      continue; /* not a hash: not ours, skip rather than misreport */
    f.path = col_text(s, 1);
    f.size = (uint64_t)sqlite3_column_int64(s, 3);
    f.mode = (uint32_t)sqlite3_column_int64(s, 4);
    f.is_dir = sqlite3_column_int(s, 5) != 0;
    *out = grow(*out, *n, &cap, sizeof **out);
    (*out)[(*n)++] = f;
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read the snapshot's files");
  sqlite3_reset(s);
  return ret;
}

void store_snap_files_free(store_snap_file *f, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    free(f[i].path);
  free(f);
}

/* ---- published outputs ------------------------------------------------------ */

int store_published_add(store *st, int64_t run, const char *path,
                        const char *node, const char *port, const hash128 *h,
                        bool written) {
  static const char ins[] =
      "INSERT OR REPLACE INTO published(run_id, path, node, port, hash, "
      "written) VALUES (?, ?, ?, ?, ?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "ittthi", run, path, node, port, h,
                 (int64_t)written))
    return -1;
  return exec_stmt(st, s, "record a published output");
}

int store_expansion_add(store *st, int64_t run, uint32_t fanout,
                        const char *family, const char *keys) {
  static const char find[] = "SELECT id FROM key_lists WHERE hash = ?";
  static const char ins_keys[] =
      "INSERT INTO key_lists(hash, keys) VALUES (?, ?) "
      "ON CONFLICT(hash) DO NOTHING";
  static const char ins[] =
      "INSERT OR REPLACE INTO expansions(run_id, fanout, family, keys, "
      "keys_id) VALUES (?, ?, ?, '', ?)";
  hash128 h = hash_buf(keys, strlen(keys));
  bool nested;
  if (tx_enter(st, &nested) != 0)
    return -1;
  int rc = -1, found = 0;
  int64_t id = 0;
  for (int pass = 0; pass < 2 && found == 0; pass++) {
    sqlite3_stmt *s = prep(st, find);
    if (!s || bind(st, s, "h", &h) ||
        (found = step_row(st, s, "record an expansion")) < 0)
      goto out;
    if (found) {
      id = sqlite3_column_int64(s, 0);
      sqlite3_reset(s);
    } else if (!(s = prep(st, ins_keys)) || bind(st, s, "ht", &h, keys) ||
               exec_stmt(st, s, "record an expansion")) {
      goto out;
    }
  }
  sqlite3_stmt *s = prep(st, ins);
  if (found == 1 && s &&
      !bind(st, s, "iiti", run, (int64_t)fanout, family, id))
    rc = exec_stmt(st, s, "record an expansion");
out:
  return tx_leave(st, nested, rc);
}

int store_tree_add(store *st, const hash128 *h) {
  static const char ins[] = "INSERT OR IGNORE INTO trees(hash) VALUES (?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "h", h))
    return -1;
  return exec_stmt(st, s, "record a tree");
}

int store_is_tree(store *st, const hash128 *h) {
  static const char q[] = "SELECT 1 FROM trees WHERE hash = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "h", h))
    return -1;
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---- temporary files in the project --------------------------------------- */

int store_temp_add(store *st, const char *path, int64_t pid) {
  static const char ins[] =
      "INSERT OR REPLACE INTO project_temps(path, pid) VALUES (?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "ti", path, pid))
    return -1;
  return exec_stmt(st, s, "record a temporary file");
}

int store_temp_forget(store *st, const char *path) {
  static const char del[] = "DELETE FROM project_temps WHERE path = ?";
  sqlite3_stmt *s = prep(st, del);
  if (!s || bind(st, s, "t", path))
    return -1;
  return exec_stmt(st, s, "forget a temporary file");
}

int store_temps(store *st, store_temp **out, uint32_t *n) {
  static const char q[] = "SELECT path, pid FROM project_temps ORDER BY path";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s)
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    (*out)[(*n)++] = (store_temp){col_text(s, 0), sqlite3_column_int64(s, 1)};
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read temporary files");
  sqlite3_reset(s);
  return ret;
}

void store_temps_free(store_temp *t, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    free(t[i].path);
  free(t);
}

/* ---- runs and node runs ----------------------------------------------------- */

int store_run_add(store *st, int64_t snapshot, int64_t pipeline, int64_t pid,
                  int64_t *id) {
  static const char ins[] =
      "INSERT INTO runs(snapshot_id, pipeline_id, status, started_at, pid) "
      "VALUES (?, ?, 'running', ?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "iiii", snapshot, pipeline, store_now_ms(), pid) ||
      exec_stmt(st, s, "record run"))
    return -1;
  *id = sqlite3_last_insert_rowid(st->db);
  return 0;
}

int store_run_finish(store *st, int64_t run, const char *status, uint32_t ran,
                     uint32_t cached, uint32_t failed) {
  static const char upd[] = "UPDATE runs SET status = ?, ended_at = ?, "
                            "ran = ?, cached = ?, failed = ? WHERE id = ?";
  sqlite3_stmt *s = prep(st, upd);
  if (!s || bind(st, s, "tiiiii", status, store_now_ms(), (int64_t)ran,
                 (int64_t)cached, (int64_t)failed, run))
    return -1;
  return exec_stmt(st, s, "finish run");
}

bool store_pid_alive(int64_t pid) {
  return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int store_runs_reap(store *st, bool (*alive)(int64_t pid)) {
  static const char q[] = "SELECT id, coalesce(pid, 0) FROM runs WHERE "
                          "status = 'running'";
  static const char fix_run[] =
      "UPDATE runs SET status = 'interrupted', "
      "ended_at = coalesce(ended_at, ?) WHERE id = ? AND status = 'running'";
  static const char fix_nodes[] =
      "UPDATE node_runs SET status = 'cancelled', ended_at = ? WHERE "
      "run_id = ? AND status IN ('running', 'pending')";
  sqlite3_stmt *s = prep(st, q);
  if (!s)
    return -1;
  int64_t *dead = NULL;
  uint32_t n = 0, cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if (!alive(sqlite3_column_int64(s, 1))) {
      dead = grow(dead, n, &cap, sizeof *dead);
      dead[n++] = sqlite3_column_int64(s, 0);
    }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "find interrupted runs");
  sqlite3_reset(s);
  if (ret != 0 || n == 0) {
    free(dead);
    return ret;
  }
  bool nested;
  if (tx_enter(st, &nested) != 0) {
    free(dead);
    return -1;
  }
  int64_t now = store_now_ms();
  for (uint32_t i = 0; i < n && ret == 0; i++) {
    sqlite3_stmt *u = prep(st, fix_run);
    if (!u || bind(st, u, "ii", now, dead[i]) || exec_stmt(st, u, "reap"))
      ret = -1;
    u = ret ? NULL : prep(st, fix_nodes);
    if (!ret && (!u || bind(st, u, "ii", now, dead[i]) ||
                 exec_stmt(st, u, "reap")))
      ret = -1;
  }
  free(dead);
  ret = tx_leave(st, nested, ret);
  return ret == 0 ? (int)n : -1;
}

#define RUN_COLS                                                            \
  "SELECT r.id, r.snapshot_id, r.pipeline_id, r.started_at, "               \
  "coalesce(r.ended_at, 0), coalesce(r.pid, 0), p.name, r.status, r.ran, "  \
  "r.cached, r.failed, "                                                    \
  "(SELECT count(*) FROM node_runs n WHERE n.run_id = r.id) + "             \
  "(SELECT coalesce(sum(c.last - c.first + 1), 0) FROM run_cached c "       \
  " WHERE c.run_id = r.id) "                                                \
  "FROM runs r JOIN pipelines p ON p.id = r.pipeline_id "

static void run_row(sqlite3_stmt *s, store_run *o) {
  o->id = sqlite3_column_int64(s, 0);
  o->snapshot_id = sqlite3_column_int64(s, 1);
  o->pipeline_id = sqlite3_column_int64(s, 2);
  o->started_ms = sqlite3_column_int64(s, 3);
  o->ended_ms = sqlite3_column_int64(s, 4);
  o->pid = sqlite3_column_int64(s, 5);
  o->pipeline = col_text(s, 6);
  o->status = col_text(s, 7);
  o->ran = (uint32_t)sqlite3_column_int64(s, 8);
  o->cached = (uint32_t)sqlite3_column_int64(s, 9);
  o->failed = (uint32_t)sqlite3_column_int64(s, 10);
  o->nodes = (uint32_t)sqlite3_column_int64(s, 11);
}

int store_run_get(store *st, int64_t id, store_run *out) {
  static const char q[] = RUN_COLS "WHERE r.id = ?";
  sqlite3_stmt *s = prep(st, q);
  memset(out, 0, sizeof *out);
  if (!s || bind(st, s, "i", id))
    return -1;
  int found = step_row(st, s, "read run");
  if (found == 1) {
    run_row(s, out);
    sqlite3_reset(s);
  }
  return found;
}

int64_t store_run_last(store *st) {
  static const char q[] = "SELECT coalesce(max(id), 0) FROM runs";
  sqlite3_stmt *s = prep(st, q);
  if (!s || step_row(st, s, "read runs") != 1)
    return -1;
  int64_t id = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return id;
}

int store_node_last_run(store *st, const char *node, store_nr_want want,
                        int64_t *run, int64_t *node_run) {
  /* a cached node recorded as a reference counts for its run */
  static const char any[] =
      "SELECT run_id, id FROM (SELECT run_id, id FROM node_runs WHERE "
      "node = ?1 UNION ALL SELECT c.run_id, n.id FROM node_runs n JOIN "
      "run_cached c ON c.first <= n.id AND c.last >= n.id WHERE n.node = ?1) "
      "ORDER BY run_id DESC, id DESC LIMIT 1";
  static const char logged[] =
      "SELECT run_id, id FROM node_runs WHERE node = ? AND "
      "coalesce(log_path, '') != '' ORDER BY run_id DESC, id DESC LIMIT 1";
  static const char outputs[] =
      "SELECT run_id, id FROM (SELECT run_id, id FROM node_runs WHERE "
      "node = ?1 AND status IN ('succeeded', 'cached') UNION ALL "
      "SELECT c.run_id, n.id FROM node_runs n JOIN run_cached c ON "
      "c.first <= n.id AND c.last >= n.id WHERE n.node = ?1) "
      "ORDER BY run_id DESC, id DESC LIMIT 1";
  sqlite3_stmt *s = prep(st, want == STORE_NR_LOG       ? logged
                             : want == STORE_NR_OUTPUTS ? outputs
                                                        : any);
  if (!s || bind(st, s, "t", node))
    return -1;
  int found = step_row(st, s, "read node runs");
  if (found == 1) {
    if (run)
      *run = sqlite3_column_int64(s, 0);
    if (node_run)
      *node_run = sqlite3_column_int64(s, 1);
  }
  sqlite3_reset(s);
  return found;
}

int store_node_names(store *st, uint32_t limit, char ***names, uint32_t *n) {
  static const char q[] = "SELECT DISTINCT node FROM node_runs LIMIT ?";
  *names = NULL;
  *n = 0;
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", (int64_t)limit))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = step_row(st, s, "read node names")) == 1) {
    *names = grow(*names, *n, &cap, sizeof **names);
    (*names)[(*n)++] = col_text(s, 0);
  }
  return rc < 0 ? -1 : 0;
}

int64_t store_run_running(store *st) {
  static const char q[] =
      "SELECT coalesce(min(id), 0) FROM runs WHERE status = 'running'";
  sqlite3_stmt *s = prep(st, q);
  if (!s || step_row(st, s, "read runs") != 1)
    return -1;
  int64_t id = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return id;
}

int store_run_list(store *st, uint32_t limit, store_run **out, uint32_t *n) {
  static const char q[] = RUN_COLS "ORDER BY r.id DESC LIMIT ?";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "i", limit ? (int64_t)limit : -1))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    run_row(s, &(*out)[(*n)++]);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list runs");
  sqlite3_reset(s);
  return ret;
}

void store_run_free(store_run *r) {
  free(r->pipeline);
  free(r->status);
  memset(r, 0, sizeof *r);
}

void store_runs_free(store_run *r, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    store_run_free(&r[i]);
  free(r);
}

int store_node_run_add(store *st, const store_node_run *nr, int64_t *id) {
  static const char ins[] =
      "INSERT INTO node_runs(run_id, node, component, status, cache_key, "
      "cache_hit, miss_reason, target, log_path, job_id, attempts, message, "
      "started_at, image, image_id, ended_at, ord) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  int64_t now = store_now_ms();
  /* a node recorded in a final state (cached, skipped, ...) started and
   * ended now; a running or pending one has not ended. exit_code is not
   * taken from nr: only store_node_run_finish records one. */
  bool open = strcmp(nr->status, "running") == 0 ||
              strcmp(nr->status, "pending") == 0;
  int64_t started = nr->started_ms ? nr->started_ms : now;
  int64_t ended = nr->ended_ms ? nr->ended_ms : open ? 0 : now;
  sqlite3_stmt *s = prep(st, ins);
  if (!s ||
      bind(st, s, "ittttittttititt", nr->run_id, nr->node, nr->component,
           nr->status, nr->cache_key, (int64_t)nr->cache_hit,
           nr->miss_reason, nr->target, nr->log_path, nr->job_id,
           (int64_t)nr->attempts, nr->message, started, nr->image,
           nr->image_id) ||
      (ended && sqlite3_bind_int64(s, 16, ended) != SQLITE_OK) ||
      (nr->has_ord && sqlite3_bind_int64(s, 17, nr->ord) != SQLITE_OK) ||
      exec_stmt(st, s, "record node run"))
    return -1;
  *id = sqlite3_last_insert_rowid(st->db);
  return 0;
}

int store_node_run_started(store *st, int64_t id, int attempt,
                           const char *job_id) {
  return store_node_run_started_at(st, id, attempt, job_id, store_now_ms());
}

int store_node_run_started_at(store *st, int64_t id, int attempt,
                              const char *job_id, int64_t started_ms) {
  static const char upd[] = "UPDATE node_runs SET status = 'running', "
                            "attempts = ?, job_id = ?, started_at = ? "
                            "WHERE id = ?";
  sqlite3_stmt *s = prep(st, upd);
  if (!s || bind(st, s, "itii", (int64_t)attempt, job_id, started_ms, id))
    return -1;
  return exec_stmt(st, s, "record attempt");
}

int store_node_run_finish(store *st, int64_t id, const char *status,
                          int attempts, int exit_code, const char *message) {
  static const char upd[] =
      "UPDATE node_runs SET status = ?, attempts = max(attempts, ?), "
      "exit_code = CASE WHEN ?3 >= 0 THEN ?3 WHEN ?3 = -2 THEN NULL "
      "ELSE exit_code END, "
      "message = coalesce(?, message), ended_at = ? WHERE id = ?";
  sqlite3_stmt *s = prep(st, upd);
  if (!s || bind(st, s, "tiitii", status, (int64_t)attempts,
                 (int64_t)exit_code, message, store_now_ms(), id))
    return -1;
  return exec_stmt(st, s, "record node result");
}

int store_node_run_memory(store *st, int64_t id, int64_t memory,
                          int64_t peak) {
  static const char upd[] = "UPDATE node_runs SET memory = ?, "
                            "peak_memory = ? WHERE id = ?";
  sqlite3_stmt *s = prep(st, upd);
  if (!s || (memory > 0 ? sqlite3_bind_int64(s, 1, memory)
                        : sqlite3_bind_null(s, 1)) != SQLITE_OK ||
      (peak > 0 ? sqlite3_bind_int64(s, 2, peak) : sqlite3_bind_null(s, 2)) !=
          SQLITE_OK ||
      sqlite3_bind_int64(s, 3, id) != SQLITE_OK) {
    if (s)
      sqlite3_reset(s);
    return fail(st, "record memory");
  }
  return exec_stmt(st, s, "record memory");
}

/* For store_node_run_list: by ord (a node's place in its pipeline), then
 * id; rows without ord (recorded by an older pipec) by id. */
static int by_ord(const void *a, const void *b) {
  const store_node_run *x = a, *y = b;
  int64_t kx = x->has_ord ? x->ord : -1, ky = y->has_ord ? y->ord : -1;
  if (kx != ky)
    return kx < ky ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

int store_node_run_list(store *st, int64_t run, store_node_run **out,
                        uint32_t *n) {
  static const char q[] =
      "SELECT id, run_id, node, component, status, target, cache_key, "
      "miss_reason, log_path, job_id, message, cache_hit, attempts, "
      "coalesce(exit_code, -1), coalesce(started_at, 0), "
      "coalesce(ended_at, 0), image, image_id, coalesce(memory, 0), "
      "coalesce(peak_memory, 0), ord FROM node_runs WHERE run_id = ? "
      "ORDER BY id";
  /* the cached nodes recorded as references: each the node run it names,
   * as a cache hit of this run */
  static const char refs[] =
      "SELECT n.id, c.run_id, n.node, n.component, n.target, n.cache_key, "
      "c.at, n.ord, n.image, n.image_id FROM run_cached c JOIN node_runs n "
      "ON n.id BETWEEN c.first AND c.last WHERE c.run_id = ? ORDER BY n.id";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "i", run))
    return -1;
  uint32_t cap = 0;
  int rc;
  bool any_ref = false;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    store_node_run *o = &(*out)[(*n)++];
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(s, 0);
    o->run_id = sqlite3_column_int64(s, 1);
    o->node = col_text(s, 2);
    o->component = col_text(s, 3);
    o->status = col_text(s, 4);
    o->target = col_text(s, 5);
    o->cache_key = col_text(s, 6);
    o->miss_reason = col_text(s, 7);
    o->log_path = col_text(s, 8);
    o->job_id = col_text(s, 9);
    o->message = col_text(s, 10);
    o->cache_hit = sqlite3_column_int(s, 11) != 0;
    o->attempts = sqlite3_column_int(s, 12);
    o->exit_code = sqlite3_column_int(s, 13);
    o->started_ms = sqlite3_column_int64(s, 14);
    o->ended_ms = sqlite3_column_int64(s, 15);
    o->image = col_text(s, 16);
    o->image_id = col_text(s, 17);
    o->memory = sqlite3_column_int64(s, 18);
    o->peak_memory = sqlite3_column_int64(s, 19);
    o->has_ord = sqlite3_column_type(s, 20) != SQLITE_NULL;
    o->ord = sqlite3_column_int64(s, 20);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list node runs");
  sqlite3_reset(s);
  if (ret == 0 && (!(s = prep(st, refs)) || bind(st, s, "i", run)))
    ret = -1;
  while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    any_ref = true;
    *out = grow(*out, *n, &cap, sizeof **out);
    store_node_run *o = &(*out)[(*n)++];
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(s, 0);
    o->run_id = sqlite3_column_int64(s, 1);
    o->node = col_text(s, 2);
    o->component = col_text(s, 3);
    o->target = col_text(s, 4);
    o->cache_key = col_text(s, 5);
    o->status = col_text_of("cached");
    o->cache_hit = true;
    o->exit_code = -1;
    o->started_ms = o->ended_ms = sqlite3_column_int64(s, 6);
    o->has_ord = sqlite3_column_type(s, 7) != SQLITE_NULL;
    o->ord = sqlite3_column_int64(s, 7);
    o->image = col_text(s, 8);
    o->image_id = col_text(s, 9);
  }
  if (ret == 0) {
    ret = rc == SQLITE_DONE ? 0 : fail(st, "list node runs");
    sqlite3_reset(s);
  }
  if (ret == 0 && any_ref)
    qsort(*out, *n, sizeof **out, by_ord);
  return ret;
}

void store_node_runs_free(store_node_run *nr, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    free((char *)nr[i].node);
    free((char *)nr[i].component);
    free((char *)nr[i].status);
    free((char *)nr[i].target);
    free((char *)nr[i].cache_key);
    free((char *)nr[i].miss_reason);
    free((char *)nr[i].log_path);
    free((char *)nr[i].job_id);
    free((char *)nr[i].message);
    free((char *)nr[i].image);
    free((char *)nr[i].image_id);
  }
  free(nr);
}

/* ---- cache, artifacts ---------------------------------------------------------- */

/* Record (or refresh) an object's stat row. */
static int object_put(store *st, const hash128 *h, uint64_t size,
                      const hash_stat *sb) {
  /* an upsert, not OR REPLACE: a REPLACE may delete, which makes SQLite
   * open a statement journal (a temp file) inside a transaction */
  static const char ins[] = "INSERT INTO objects(hash, size, dev, ino, "
                            "mtime_ns, ctime_ns) VALUES (?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT(hash) DO UPDATE SET size = "
                            "excluded.size, dev = excluded.dev, ino = "
                            "excluded.ino, mtime_ns = excluded.mtime_ns, "
                            "ctime_ns = excluded.ctime_ns";
  sqlite3_stmt *s = prep(st, ins);
  /* dev and ino are uint64 stored through int64: the casts round-trip */
  if (!s || bind(st, s, "hiiiii", h, (int64_t)size, (int64_t)sb->dev,
                 (int64_t)sb->ino, sb->mtime_ns, sb->ctime_ns))
    return -1;
  return exec_stmt(st, s, "record object");
}

int store_cache_put(store *st, const hash128 *key, const char *parts,
                    const store_output *outs, uint32_t n,
                    const hash128 *inputs, uint32_t n_inputs,
                    int64_t node_run) {
  static const char del[] = "DELETE FROM cache WHERE key = ?";
  static const char ins[] = "INSERT INTO cache(key, parts, node_run_id, "
                            "created_at) VALUES (?, '', ?, ?)";
  static const char ins_out[] = "INSERT INTO cache_outputs(key, port, hash, "
                                "size) VALUES (?, ?, ?, ?)";
  static const char ins_in[] = "INSERT INTO cache_inputs(key, hash) "
                               "VALUES (?, ?) ON CONFLICT DO NOTHING";
  static const char ins_parts[] = "INSERT OR REPLACE INTO key_parts(key, "
                                  "parts) VALUES (?, ?)";
  bool nested;
  if (tx_enter(st, &nested) != 0)
    return -1;
  int rc = -1;
  sqlite3_stmt *s = prep(st, del);
  if (!s || bind(st, s, "h", key) || exec_stmt(st, s, "cache"))
    goto out;
  s = prep(st, ins);
  if (!s || bind(st, s, "hii", key, node_run ? node_run : (int64_t)0,
                 store_now_ms()) ||
      (!node_run && sqlite3_bind_null(s, 2) != SQLITE_OK) ||
      exec_stmt(st, s, "cache"))
    goto out;
  for (uint32_t i = 0; i < n; i++) {
    s = prep(st, ins_out);
    if (!s || bind(st, s, "hthi", key, outs[i].port, &outs[i].hash,
                   (int64_t)outs[i].size) ||
        exec_stmt(st, s, "cache output"))
      goto out;
    if (outs[i].has_st &&
        object_put(st, &outs[i].hash, outs[i].size, &outs[i].st) != 0)
      goto out;
  }
  for (uint32_t i = 0; i < n_inputs; i++) {
    s = prep(st, ins_in);
    if (!s || bind(st, s, "hh", key, &inputs[i]) ||
        exec_stmt(st, s, "cache input"))
      goto out;
  }
  if (parts && *parts) {
    s = prep(st, ins_parts);
    if (!s || bind(st, s, "ht", key, parts) ||
        exec_stmt(st, s, "cache key parts"))
      goto out;
  }
  rc = 0;
out:
  return tx_leave(st, nested, rc);
}

/* Append the (port, hash, size[, object stat]) rows of s to an output
 * array: columns 0-2, and 3-6 (dev, ino, mtime_ns, ctime_ns; NULL when the
 * object has no row) when with_st. NULL rows (an entry without outputs,
 * from a LEFT JOIN) and damaged hashes are no outputs. *rows counts every
 * row seen. */
static int read_outputs(store *st, sqlite3_stmt *s, bool with_st,
                        store_output **outs, uint32_t *n, uint32_t *rows) {
  uint32_t cap = 0;
  int rc;
  *outs = NULL;
  *n = 0;
  if (rows)
    *rows = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (rows)
      (*rows)++;
    hash128 h;
    if (sqlite3_column_type(s, 0) == SQLITE_NULL || col_hash(s, 1, &h) != 0)
      continue;
    *outs = grow(*outs, *n, &cap, sizeof **outs);
    store_output *o = &(*outs)[(*n)++];
    *o = (store_output){.port = col_text(s, 0), .hash = h,
                        .size = (uint64_t)sqlite3_column_int64(s, 2)};
    if (with_st && sqlite3_column_type(s, 3) != SQLITE_NULL) {
      o->has_st = true;
      o->st = (hash_stat){(uint64_t)sqlite3_column_int64(s, 3),
                          (uint64_t)sqlite3_column_int64(s, 4), o->size,
                          sqlite3_column_int64(s, 5),
                          sqlite3_column_int64(s, 6)};
    }
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read outputs");
  sqlite3_reset(s);
  if (ret != 0) {
    store_outputs_free(*outs, *n);
    *outs = NULL;
    *n = 0;
  }
  return ret;
}

int store_cache_get(store *st, const hash128 *key, store_output **outs,
                    uint32_t *n) {
  /* the object's stat row comes with the output: a hit costs one query.
   * A row whose size differs from the output's is no record of it. */
  static const char q[] = "SELECT o.port, o.hash, o.size, b.dev, b.ino, "
                          "b.mtime_ns, b.ctime_ns FROM cache c "
                          "LEFT JOIN cache_outputs o ON o.key = c.key "
                          "LEFT JOIN objects b ON b.hash = o.hash AND "
                          "b.size = o.size "
                          "WHERE c.key = ? ORDER BY o.port";
  sqlite3_stmt *s = prep(st, q);
  *outs = NULL;
  *n = 0;
  if (!s || bind(st, s, "h", key))
    return -1;
  /* the entry exists iff there is a row (a node without outputs has one
   * row of NULLs) */
  uint32_t rows;
  if (read_outputs(st, s, true, outs, n, &rows) != 0)
    return -1;
  return rows > 0;
}

int store_cache_delete(store *st, const hash128 *key) {
  static const char del[] = "DELETE FROM cache WHERE key = ?";
  sqlite3_stmt *s = prep(st, del);
  if (!s || bind(st, s, "h", key))
    return -1;
  return exec_stmt(st, s, "drop cache entry");
}

void store_outputs_free(store_output *outs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    free(outs[i].port);
  free(outs);
}

int store_last_success(store *st, int64_t pipeline, const char *node,
                       int64_t *node_run, hash128 *key, char **parts) {
  static const char q[] =
      "SELECT n.id, n.cache_key, k.parts FROM node_runs n "
      "JOIN runs r ON r.id = n.run_id "
      "JOIN key_parts k ON k.key = n.cache_key "
      "WHERE r.pipeline_id = ? AND n.node = ? AND "
      "n.status IN ('succeeded', 'cached') ORDER BY n.id DESC LIMIT 1";
  if (parts)
    *parts = NULL;
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "it", pipeline, node))
    return -1;
  int found = step_row(st, s, "read the last success");
  if (found != 1)
    return found;
  hash128 k;
  if (col_hash(s, 1, &k) != 0) {
    sqlite3_reset(s);
    return 0; /* a damaged key reads as no success */
  }
  if (node_run)
    *node_run = sqlite3_column_int64(s, 0);
  if (key)
    *key = k;
  if (parts)
    *parts = col_text(s, 2);
  sqlite3_reset(s);
  return 1;
}

int store_last_parts(store *st, int64_t pipeline, const char *node,
                     char **parts) {
  return store_last_success(st, pipeline, node, NULL, NULL, parts);
}

int store_artifact_add(store *st, int64_t node_run, const store_output *o) {
  static const char ins[] = "INSERT OR REPLACE INTO artifacts(node_run_id, "
                            "port, hash, size) VALUES (?, ?, ?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "ithi", node_run, o->port, &o->hash, (int64_t)o->size))
    return -1;
  return exec_stmt(st, s, "record artifact");
}

int store_node_run_outputs(store *st, int64_t node_run, store_output **outs,
                           uint32_t *n) {
  static const char q[] =
      "SELECT u.port, u.hash, u.size, b.dev, b.ino, b.mtime_ns, b.ctime_ns "
      "FROM (SELECT port, hash, size FROM artifacts WHERE node_run_id = ?1 "
      "UNION SELECT o.port, o.hash, o.size FROM node_runs n JOIN "
      "cache_outputs o ON o.key = n.cache_key WHERE n.id = ?1 AND "
      "NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.node_run_id = ?1)) u "
      "LEFT JOIN objects b ON b.hash = u.hash AND b.size = u.size "
      "ORDER BY 1";
  *outs = NULL;
  *n = 0;
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", node_run))
    return -1;
  return read_outputs(st, s, true, outs, n, NULL);
}

int store_object_producer(store *st, const hash128 *h, int64_t *node_run) {
  static const char q[] = "SELECT min(node_run_id) FROM artifacts WHERE "
                          "hash = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "h", h))
    return -1;
  int found = step_row(st, s, "find the producer");
  if (found != 1)
    return found;
  found = sqlite3_column_type(s, 0) != SQLITE_NULL;
  if (found)
    *node_run = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return found;
}

int store_run_artifacts(store *st, int64_t run, store_artifact **out,
                        uint32_t *n) {
  static const char q[] =
      "SELECT a.node_run_id, n.node, a.port, a.hash, a.size FROM artifacts a "
      "JOIN node_runs n ON n.id = a.node_run_id WHERE n.run_id = ?1 "
      "OR n.id IN (SELECT r.id FROM run_cached c JOIN node_runs r "
      "ON r.id BETWEEN c.first AND c.last WHERE c.run_id = ?1) "
      "ORDER BY a.node_run_id, a.port";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "i", run))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    hash128 h;
    if (col_hash(s, 3, &h) != 0)
      continue;
    *out = grow(*out, *n, &cap, sizeof **out);
    (*out)[(*n)++] = (store_artifact){sqlite3_column_int64(s, 0),
                                      col_text(s, 1), col_text(s, 2), h,
                                      (uint64_t)sqlite3_column_int64(s, 4)};
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list artifacts");
  sqlite3_reset(s);
  if (ret != 0) {
    store_artifacts_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return ret;
}

void store_artifacts_free(store_artifact *a, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    free(a[i].node);
    free(a[i].port);
  }
  free(a);
}

/* ---- the file-hash index ---------------------------------------------------- */

int store_file_get(store *st, const char *path, hash_stat *sb, hash128 *h) {
  static const char q[] = "SELECT dev, ino, size, mtime_ns, ctime_ns, hash "
                          "FROM files WHERE path = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "t", path))
    return -1;
  int found = step_row(st, s, "read the file index");
  if (found != 1)
    return found;
  /* dev, ino and size are uint64 stored through int64: the casts
   * round-trip every value */
  sb->dev = (uint64_t)sqlite3_column_int64(s, 0);
  sb->ino = (uint64_t)sqlite3_column_int64(s, 1);
  sb->size = (uint64_t)sqlite3_column_int64(s, 2);
  sb->mtime_ns = sqlite3_column_int64(s, 3);
  sb->ctime_ns = sqlite3_column_int64(s, 4);
  found = col_hash(s, 5, h) == 0;
  sqlite3_reset(s);
  return found;
}

int store_file_put(store *st, const char *path, const hash_stat *sb,
                   const hash128 *h) {
  static const char ins[] = "INSERT OR REPLACE INTO files(path, dev, ino, "
                            "size, mtime_ns, ctime_ns, hash) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "tiiiiih", path, (int64_t)sb->dev, (int64_t)sb->ino,
                 (int64_t)sb->size, sb->mtime_ns, sb->ctime_ns, h))
    return -1;
  return exec_stmt(st, s, "record file hash");
}

int store_index_get(void *ctx, const char *path, hash_stat *sb, hash128 *h) {
  return store_file_get(ctx, path, sb, h);
}

int store_index_put(void *ctx, const char *path, const hash_stat *sb,
                    const hash128 *h) {
  return store_file_put(ctx, path, sb, h);
}

void store_hash_index(store *st, hash_index *idx) {
  *idx = (hash_index){.ctx = st, .get = store_index_get,
                      .put = store_index_put, .now_ns = 0};
}

/* ---- objects ------------------------------------------------------------------- */

int store_object_put(store *st, const hash128 *h, uint64_t size,
                     const hash_stat *sb) {
  return object_put(st, h, size, sb);
}

int store_object_get(store *st, const hash128 *h, uint64_t *size,
                     hash_stat *sb) {
  static const char q[] = "SELECT size, dev, ino, mtime_ns, ctime_ns FROM "
                          "objects WHERE hash = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "h", h))
    return -1;
  int found = step_row(st, s, "read the object record");
  if (found != 1)
    return found;
  uint64_t sz = (uint64_t)sqlite3_column_int64(s, 0);
  if (size)
    *size = sz;
  *sb = (hash_stat){(uint64_t)sqlite3_column_int64(s, 1),
                    (uint64_t)sqlite3_column_int64(s, 2), sz,
                    sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)};
  sqlite3_reset(s);
  return 1;
}

int store_object_damaged(store *st, const hash128 *h, bool readers) {
  static const char del_out[] = "DELETE FROM cache WHERE key IN (SELECT key "
                                "FROM cache_outputs WHERE hash = ?)";
  static const char del_in[] = "DELETE FROM cache WHERE key IN (SELECT key "
                               "FROM cache_inputs WHERE hash = ?)";
  static const char del_obj[] = "DELETE FROM objects WHERE hash = ?";
  bool nested;
  if (tx_enter(st, &nested) != 0)
    return -1;
  int rc = -1, dropped = 0;
  sqlite3_stmt *s = prep(st, del_out);
  if (!s || bind(st, s, "h", h) || exec_stmt(st, s, "drop cache entries"))
    goto out;
  dropped += sqlite3_changes(st->db);
  if (readers) {
    s = prep(st, del_in);
    if (!s || bind(st, s, "h", h) || exec_stmt(st, s, "drop cache entries"))
      goto out;
    dropped += sqlite3_changes(st->db);
  }
  s = prep(st, del_obj);
  if (!s || bind(st, s, "h", h) || exec_stmt(st, s, "forget object"))
    goto out;
  rc = 0;
out:
  rc = tx_leave(st, nested, rc);
  return rc == 0 ? dropped : -1;
}

int store_cached_objects(store *st,
                         void (*fn)(void *ctx, const hash128 *h,
                                    uint64_t size, const char *node),
                         void *ctx) {
  /* each object once, with the name of a node whose entry names it */
  static const char q[] =
      "SELECT g.hash, g.size, (SELECT n.node FROM cache c JOIN node_runs n "
      "ON n.id = c.node_run_id WHERE c.key = g.key) FROM (SELECT hash, "
      "max(size) AS size, min(key) AS key FROM cache_outputs GROUP BY hash) g";
  sqlite3_stmt *s = prep(st, q);
  if (!s)
    return -1;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    hash128 h;
    if (col_hash(s, 0, &h) == 0)
      fn(ctx, &h, (uint64_t)sqlite3_column_int64(s, 1),
         (const char *)sqlite3_column_text(s, 2));
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list cached objects");
  sqlite3_reset(s);
  return ret;
}

/* ---- garbage collection ------------------------------------------------------- */

/* The node runs gc keeps (the policy is in store.h, store_live_objects):
 * kept_runs are rules 1-4, cfg_nodes the nodes of each pipeline's newest
 * configuration (the compiled config of its newest run's snapshot), and
 * kept adds rule 5 to the node runs of the kept runs. ?1 is keep_runs. */
#define KEPT_NODE_RUNS                                                       \
  "WITH kept_runs(id) AS ("                                                  \
  "  SELECT id FROM (SELECT id FROM runs ORDER BY id DESC LIMIT ?1)"         \
  "  UNION SELECT max(id) FROM runs GROUP BY pipeline_id"                    \
  "  UNION SELECT max(r.id) FROM runs r JOIN snapshots s"                    \
  "    ON s.id = r.snapshot_id WHERE s.label IS NOT NULL"                    \
  "    GROUP BY r.snapshot_id"                                               \
  "  UNION SELECT id FROM runs WHERE status = 'running'),"                   \
  " newest(pipeline_id, config) AS ("                                        \
  "  SELECT r.pipeline_id, coalesce(c.config, s.config) AS config"           \
  "  FROM runs r JOIN snapshots s ON s.id = r.snapshot_id"                   \
  "  LEFT JOIN configs c ON c.id = s.config_id"                              \
  "  WHERE r.id IN (SELECT max(id) FROM runs GROUP BY pipeline_id)"          \
  "    AND json_valid(coalesce(c.config, s.config))),"                       \
  " cfg_nodes(pipeline_id, node) AS ("                                       \
  "  SELECT c.pipeline_id, json_extract(j.value, '$.name')"                  \
  "  FROM newest c, json_each(c.config, '$.nodes') j),"                      \
  " kept(id) AS ("                                                           \
  "  SELECT id FROM node_runs WHERE run_id IN (SELECT id FROM kept_runs)"    \
  "  UNION SELECT n.id FROM run_cached c JOIN node_runs n"                   \
  "   ON n.id BETWEEN c.first AND c.last"                                    \
  "   WHERE c.run_id IN (SELECT id FROM kept_runs)"                          \
  "  UNION SELECT max(n.id) FROM node_runs n"                                \
  "   JOIN runs r ON r.id = n.run_id"                                        \
  "   JOIN cfg_nodes c ON c.pipeline_id = r.pipeline_id AND c.node = n.node" \
  "   WHERE n.status IN ('succeeded', 'cached')"                             \
  "   GROUP BY r.pipeline_id, n.node) "

/* An object is live if a kept node run produced it (artifacts) or its
 * cache key names it (cache hits have no artifacts of their own). */
int store_live_objects(store *st, uint32_t keep_runs,
                       void (*fn)(void *ctx, const hash128 *h), void *ctx) {
  static const char q[] =
      KEPT_NODE_RUNS
      "SELECT hash FROM artifacts WHERE node_run_id IN (SELECT id FROM kept) "
      "UNION SELECT o.hash FROM cache_outputs o WHERE o.key IN "
      "  (SELECT cache_key FROM node_runs WHERE id IN (SELECT id FROM kept)) "
      "UNION SELECT hash FROM snapshot_files WHERE kind = 'code' "
      "UNION SELECT hash FROM snapshot_files WHERE kind = 'data' AND "
      "  snapshot_id IN (SELECT snapshot_id FROM runs WHERE id IN "
      "  (SELECT id FROM kept_runs))";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", (int64_t)keep_runs))
    return -1;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    hash128 h;
    if (col_hash(s, 0, &h) == 0)
      fn(ctx, &h);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "gc");
  sqlite3_reset(s);
  return ret;
}

int store_dead_logs(store *st, uint32_t keep_runs,
                    void (*fn)(void *ctx, int64_t run, const char *log_path),
                    void *ctx) {
  static const char q[] =
      KEPT_NODE_RUNS
      "SELECT run_id, log_path FROM node_runs WHERE log_path IS NOT NULL "
      "AND log_path <> '' AND id NOT IN (SELECT id FROM kept) ORDER BY id";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", (int64_t)keep_runs))
    return -1;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    fn(ctx, sqlite3_column_int64(s, 0),
       (const char *)sqlite3_column_text(s, 1));
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "gc logs");
  sqlite3_reset(s);
  return ret;
}

int store_cache_drop_object(store *st, const hash128 *h) {
  return store_object_damaged(st, h, false) < 0 ? -1 : 0;
}

/* ---- shared caches ------------------------------------------------------------ */

int store_shared_hit_add(store *st, int64_t node_run, const char *cache) {
  static const char ins[] = "INSERT OR REPLACE INTO shared_hits(node_run_id, "
                            "cache) VALUES (?, ?)";
  sqlite3_stmt *s = prep(st, ins);
  if (!s || bind(st, s, "it", node_run, cache))
    return -1;
  return exec_stmt(st, s, "record a shared cache hit");
}

int store_shared_hits(store *st, int64_t run, store_shared_hit **out,
                      uint32_t *n) {
  static const char q[] = "SELECT h.node_run_id, h.cache FROM shared_hits h "
                          "JOIN node_runs r ON r.id = h.node_run_id "
                          "WHERE r.run_id = ? ORDER BY h.node_run_id";
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", run))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    (*out)[(*n)++] = (store_shared_hit){.node_run = sqlite3_column_int64(s, 0),
                                        .cache = col_text(s, 1)};
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list shared cache hits");
  sqlite3_reset(s);
  return ret;
}

void store_shared_hits_free(store_shared_hit *h, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    free(h[i].cache);
  free(h);
}

int store_cache_keys(store *st, hash128 **keys, uint32_t *n) {
  static const char q[] = "SELECT key FROM cache ORDER BY created_at, key";
  *keys = NULL;
  *n = 0;
  sqlite3_stmt *s = prep(st, q);
  if (!s)
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    hash128 h;
    if (col_hash(s, 0, &h) != 0)
      continue;
    *keys = grow(*keys, *n, &cap, sizeof **keys);
    (*keys)[(*n)++] = h;
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list cache entries");
  sqlite3_reset(s);
  return ret;
}

int store_cache_inputs(store *st, const hash128 *key, hash128 **inputs,
                       uint32_t *n) {
  static const char q[] = "SELECT hash FROM cache_inputs WHERE key = ? "
                          "ORDER BY hash";
  *inputs = NULL;
  *n = 0;
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "h", key))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    hash128 h;
    if (col_hash(s, 0, &h) != 0)
      continue;
    *inputs = grow(*inputs, *n, &cap, sizeof **inputs);
    (*inputs)[(*n)++] = h;
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list a cache entry's inputs");
  sqlite3_reset(s);
  return ret;
}

/* ---- views: what `pipec ui` lists ------------------------------------------- */

int store_pipeline_list(store *st, store_pipeline **out, uint32_t *n) {
  static const char q[] =
      "SELECT p.id, p.name, p.main_path, "
      "coalesce((SELECT max(r.id) FROM runs r WHERE r.pipeline_id = p.id), 0), "
      "(SELECT count(*) FROM runs r WHERE r.pipeline_id = p.id) "
      "FROM pipelines p ORDER BY p.name, p.main_path";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s)
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    store_pipeline *o = &(*out)[(*n)++];
    o->id = sqlite3_column_int64(s, 0);
    o->name = col_text(s, 1);
    o->main_path = col_text(s, 2);
    o->last_run = sqlite3_column_int64(s, 3);
    o->runs = (uint32_t)sqlite3_column_int64(s, 4);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list pipelines");
  sqlite3_reset(s);
  if (ret != 0) {
    store_pipelines_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return ret;
}

void store_pipelines_free(store_pipeline *p, uint32_t n) {
  for (uint32_t i = 0; p && i < n; i++) {
    free(p[i].name);
    free(p[i].main_path);
  }
  free(p);
}

int store_run_page(store *st, int64_t pipeline, int64_t before,
                   uint32_t limit, store_run **out, uint32_t *n,
                   uint32_t *total) {
  static const char q[] = RUN_COLS
      "WHERE (?1 = 0 OR r.pipeline_id = ?1) AND (?2 = 0 OR r.id < ?2) "
      "ORDER BY r.id DESC LIMIT ?3";
  static const char count[] =
      "SELECT count(*) FROM runs WHERE ?1 = 0 OR pipeline_id = ?1";
  *out = NULL;
  *n = 0;
  if (total) {
    sqlite3_stmt *c = prep(st, count);
    if (!c || bind(st, c, "i", pipeline) || step_row(st, c, "count runs") != 1)
      return -1;
    *total = (uint32_t)sqlite3_column_int64(c, 0);
    sqlite3_reset(c);
  }
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "iii", pipeline, before, limit ? (int64_t)limit : -1))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    run_row(s, &(*out)[(*n)++]);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list runs");
  sqlite3_reset(s);
  if (ret != 0) {
    store_runs_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return ret;
}

int store_run_by_pid(store *st, int64_t pid, int64_t after, int64_t *run) {
  static const char q[] = "SELECT max(id) FROM runs WHERE pid = ? AND id > ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "ii", pid, after) || step_row(st, s, "find run") != 1)
    return -1;
  *run = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return *run > 0;
}

int store_node_run_statuses(store *st, int64_t run,
                            void (*fn)(void *ctx, const char *node,
                                       const char *status),
                            void *ctx) {
  static const char q[] =
      "SELECT node, status FROM (SELECT id, node, status FROM node_runs "
      "WHERE run_id = ?1 UNION ALL SELECT n.id, n.node, 'cached' "
      "FROM run_cached c JOIN node_runs n ON n.id BETWEEN c.first AND c.last "
      "WHERE c.run_id = ?1) ORDER BY id";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", run))
    return -1;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    fn(ctx, (const char *)sqlite3_column_text(s, 0),
       (const char *)sqlite3_column_text(s, 1));
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read node runs");
  sqlite3_reset(s);
  return ret;
}

/* Snapshot rows without their compiled config (config is NULL): the
 * config of a 10^5-node pipeline is megabytes, and a listing needs none. */
#define SNAPSHOT_BRIEF_COLS                                                 \
  "SELECT s.id, s.pipeline_id, s.draft_id, s.created_at, p.name, "          \
  "p.main_path, NULL, s.params, s.mode, s.selection, s.label, "             \
  "(SELECT max(r.id) FROM runs r WHERE r.snapshot_id = s.id) "              \
  "FROM snapshots s JOIN pipelines p ON p.id = s.pipeline_id "

int store_snapshot_brief(store *st, int64_t id, store_snapshot *out) {
  static const char q[] = SNAPSHOT_BRIEF_COLS "WHERE s.id = ?";
  sqlite3_stmt *s = prep(st, q);
  memset(out, 0, sizeof *out);
  if (!s || bind(st, s, "i", id))
    return -1;
  int found = step_row(st, s, "read snapshot");
  if (found == 1) {
    snapshot_row(s, out);
    sqlite3_reset(s);
  }
  return found;
}

int store_snapshot_list_brief(store *st, int64_t pipeline, uint32_t limit,
                              store_snapshot **out, uint32_t *n) {
  static const char q[] = SNAPSHOT_BRIEF_COLS
      "WHERE ?1 = 0 OR s.pipeline_id = ?1 ORDER BY s.id DESC LIMIT ?2";
  sqlite3_stmt *s = prep(st, q);
  *out = NULL;
  *n = 0;
  if (!s || bind(st, s, "ii", pipeline, limit ? (int64_t)limit : -1))
    return -1;
  uint32_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    *out = grow(*out, *n, &cap, sizeof **out);
    snapshot_row(s, &(*out)[(*n)++]);
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "list snapshots");
  sqlite3_reset(s);
  return ret;
}

/* ---- compact records of cached nodes, the state a run starts from ---------- */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int store_run_cached_add(store *st, int64_t run, int64_t *ids, uint32_t n) {
  static const char ins[] =
      "INSERT INTO run_cached(run_id, first, last, at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(run_id, first) DO UPDATE SET "
      "last = max(last, excluded.last)";
  if (n == 0)
    return 0;
  qsort(ids, n, sizeof *ids, cmp_i64);
  int64_t now = store_now_ms();
  bool nested;
  int rc = tx_enter(st, &nested);
  for (uint32_t i = 0; rc == 0 && i < n;) {
    uint32_t j = i;
    while (j + 1 < n && ids[j + 1] <= ids[j] + 1)
      j++;
    sqlite3_stmt *s = prep(st, ins);
    rc = !s || bind(st, s, "iiii", run, ids[i], ids[j], now)
             ? -1
             : exec_stmt(st, s, "record cached nodes");
    i = j + 1;
  }
  return tx_leave(st, nested, rc);
}

/* The state as the tables give it: store_pipeline_state without the
 * packed copy. */
static int state_query(store *st, int64_t pipeline, store_node_state **out,
                       uint32_t *n) {
  /* each node's newest node run with outputs in the pipeline, with its
   * cache entry's outputs and their objects' stat rows, in one query (a
   * node run's rows come together: the join is nested loops from it) */
  static const char q[] =
      "WITH last(id) AS (SELECT max(n.id) FROM node_runs n JOIN runs r "
      "  ON r.id = n.run_id WHERE r.pipeline_id = ? AND "
      "  n.status IN ('succeeded', 'cached') GROUP BY n.node) "
      "SELECT n.id, n.node, n.component, n.target, n.cache_key, "
      "n.ord IS NOT NULL, c.key IS NOT NULL, o.port, o.hash, o.size, b.dev, "
      "b.ino, b.mtime_ns, b.ctime_ns, n.image, coalesce(n.ord, -1), "
      "coalesce(c.node_run_id = n.id, 0) OR NOT EXISTS (SELECT 1 FROM "
      "artifacts a WHERE a.node_run_id = n.id) FROM last JOIN node_runs n "
      "ON n.id = last.id LEFT JOIN cache c ON c.key = n.cache_key "
      "LEFT JOIN cache_outputs o ON o.key = c.key "
      "LEFT JOIN objects b ON b.hash = o.hash AND b.size = o.size";
  *out = NULL;
  *n = 0;
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "i", pipeline))
    return -1;
  uint32_t cap = 0, ocap = 0;
  int rc;
  store_node_state *cur = NULL;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0);
    if (!cur || cur->node_run != id) {
      *out = grow(*out, *n, &cap, sizeof **out);
      cur = &(*out)[(*n)++];
      memset(cur, 0, sizeof *cur);
      ocap = 0;
      cur->node_run = id;
      cur->node = col_text(s, 1);
      cur->component = col_text(s, 2);
      cur->target = col_text(s, 3);
      cur->has_key = col_hash(s, 4, &cur->key) == 0;
      cur->has_ord = sqlite3_column_int(s, 5) != 0;
      cur->has_entry = sqlite3_column_int(s, 6) != 0;
      cur->image = col_text(s, 14);
      cur->ord = sqlite3_column_int64(s, 15);
      cur->entry_is_its = sqlite3_column_int(s, 16) != 0;
    }
    hash128 h;
    if (sqlite3_column_type(s, 7) == SQLITE_NULL || col_hash(s, 8, &h) != 0)
      continue;
    cur->outs = grow(cur->outs, cur->n_outs, &ocap, sizeof *cur->outs);
    store_output *o = &cur->outs[cur->n_outs++];
    *o = (store_output){.port = col_text(s, 7), .hash = h,
                        .size = (uint64_t)sqlite3_column_int64(s, 9)};
    if (sqlite3_column_type(s, 10) != SQLITE_NULL) {
      o->has_st = true;
      o->st = (hash_stat){(uint64_t)sqlite3_column_int64(s, 10),
                          (uint64_t)sqlite3_column_int64(s, 11), o->size,
                          sqlite3_column_int64(s, 12),
                          sqlite3_column_int64(s, 13)};
    }
  }
  int ret = rc == SQLITE_DONE ? 0 : fail(st, "read the last run's state");
  sqlite3_reset(s);
  if (ret == 0 && *n > 1) {
    /* each node run once (its rows together), or the state is not used */
    int64_t *ids = xrealloc(NULL, *n * sizeof *ids);
    for (uint32_t i = 0; i < *n; i++)
      ids[i] = (*out)[i].node_run;
    qsort(ids, *n, sizeof *ids, cmp_i64);
    for (uint32_t i = 1; i < *n && ret == 0; i++)
      if (ids[i] == ids[i - 1]) {
        snprintf(st->err, sizeof st->err, "read the last run's state: "
                                          "rows out of order");
        ret = -1;
      }
    free(ids);
  }
  if (ret != 0) {
    store_node_states_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return ret;
}

/* The packed state of the pipeline if it was packed at gen: 1 and the
 * states, 0 none (or not decodable: the tables are asked instead). */
static int state_unpack(store *st, int64_t pipeline, int64_t gen,
                        store_node_state **out, uint32_t *n) {
  static const char q[] =
      "SELECT state FROM pipeline_states WHERE pipeline_id = ? AND gen = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "ii", pipeline, gen))
    return -1;
  int rc = step_row(st, s, "read the packed state");
  if (rc == 1) {
    const void *p = sqlite3_column_blob(s, 0);
    size_t len = (size_t)sqlite3_column_bytes(s, 0);
    rc = p && statepack_decode(p, len, out, n) == 0 ? 1 : 0;
    sqlite3_reset(s);
  }
  return rc;
}

/* Is the pipeline's state packed at gen: 1 yes, 0 no. */
static int state_packed_at(store *st, int64_t pipeline, int64_t gen) {
  static const char q[] =
      "SELECT 1 FROM pipeline_states WHERE pipeline_id = ? AND gen = ?";
  sqlite3_stmt *s = prep(st, q);
  if (!s || bind(st, s, "ii", pipeline, gen))
    return -1;
  int rc = step_row(st, s, "look for the packed state");
  if (rc == 1)
    sqlite3_reset(s);
  return rc;
}

/* Keep v as the pipeline's state at gen, unless something wrote since
 * (the write is then skipped: the next run asks the tables again). An
 * accelerator only: a failure (busy, full disk) is not the caller's. */
static void state_pack(store *st, int64_t pipeline, int64_t gen,
                       const store_node_state *v, uint32_t n) {
  static const char q[] =
      "INSERT OR REPLACE INTO pipeline_states(pipeline_id, gen, state) "
      "SELECT ?1, ?2, ?3 WHERE (SELECT n FROM state_gen) = ?2";
  size_t len = 0;
  unsigned char *p = statepack_encode(v, n, &len);
  sqlite3_stmt *s = prep(st, q);
  if (s && bind(st, s, "iib", pipeline, gen, p, len) == 0)
    exec_stmt(st, s, "keep the packed state");
  free(p);
}

/* The state as store_pipeline_state gives it, or with want_none only the
 * work of keeping the packed copy current (nothing is decoded then). */
static int pipeline_state(store *st, int64_t pipeline, bool want_none,
                          store_node_state **out, uint32_t *n) {
  *out = NULL;
  *n = 0;
  /* the gen and what is read at it in one read transaction (or in the
   * caller's: then nothing is written, so that a failure to keep the
   * packed copy cannot undo the caller's work) */
  bool own = sqlite3_get_autocommit(st->db);
  if (own && store_begin_read(st) != 0)
    return -1;
  static const char q_gen[] = "SELECT n FROM state_gen";
  sqlite3_stmt *s = prep(st, q_gen);
  int64_t gen = 0;
  int rc = s ? step_row(st, s, "read the state's generation") : -1;
  if (rc == 0)
    rc = fail(st, "read the state's generation: no row");
  if (rc == 1) {
    gen = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    rc = want_none ? state_packed_at(st, pipeline, gen)
                   : state_unpack(st, pipeline, gen, out, n);
  }
  bool packed = rc == 1;
  if (rc == 0)
    rc = state_query(st, pipeline, out, n);
  if (own && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    store_rollback(st); /* (a read: nothing to lose) */
  if (rc < 0)
    return -1;
  if (own && !packed)
    state_pack(st, pipeline, gen, *out, *n);
  return 0;
}

int store_pipeline_state(store *st, int64_t pipeline, store_node_state **out,
                         uint32_t *n) {
  return pipeline_state(st, pipeline, false, out, n);
}

int store_pipeline_state_pack(store *st, int64_t pipeline) {
  store_node_state *v;
  uint32_t n;
  int rc = pipeline_state(st, pipeline, true, &v, &n);
  store_node_states_free(v, n);
  return rc;
}

void store_node_states_free(store_node_state *v, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++) {
    free(v[i].node);
    free(v[i].component);
    free(v[i].target);
    free(v[i].image);
    store_outputs_free(v[i].outs, v[i].n_outs);
  }
  free(v);
}
