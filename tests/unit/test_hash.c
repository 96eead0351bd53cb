/*
 * test_hash.c — content hashes (engine/hash.c): hex, buffers vs streamed
 * files, trees, git's stat index with its racy rule, and the per-run memo.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

static char root[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-hash-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
}

static void teardown(void) { nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void path_of(char *buf, const char *rel) {
  snprintf(buf, 512, "%s/%s", root, rel);
}

static void write_file(const char *rel, const void *data, size_t n) {
  char p[512];
  path_of(p, rel);
  FILE *f = fopen(p, "wb");
  CHECK(f != NULL);
  CHECK_EQ(fwrite(data, 1, n, f), n);
  CHECK_EQ(fclose(f), 0);
}

/* Set a file's mtime to t seconds since the epoch. */
static void set_mtime(const char *rel, time_t t) {
  char p[512];
  path_of(p, rel);
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  CHECK_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void test_hex(void) {
  hash128 h = hash_buf("", 0), back;
  char hex[HASH_HEX_LEN + 1];
  hash_hex(&h, hex);
  /* What `xxh128sum` prints for an empty file: canonical byte order. */
  CHECK_STREQ(hex, "99aa06d3014798d86001c324468d497f");
  CHECK_EQ(hash_from_hex(hex, &back), 0);
  CHECK(hash_eq(&h, &back));
  CHECK_EQ(hash_from_hex("99AA06D3014798D86001C324468D497F", &back), 0);
  CHECK(hash_eq(&h, &back));
  CHECK_EQ(hash_from_hex("99aa06d3014798d86001c324468d497", &back), -EINVAL);
  CHECK_EQ(hash_from_hex("g9aa06d3014798d86001c324468d497f", &back), -EINVAL);
  hash128 abc = hash_buf("abc", 3);
  CHECK(!hash_eq(&h, &abc));
}

static void test_file_matches_buffer(void) {
  /* Bigger than the 1 MiB read buffer and not a multiple of it. */
  size_t n = (3u << 20) + 12345;
  unsigned char *data = malloc(n);
  CHECK(data != NULL);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (unsigned char)(x >> 16);
  }
  write_file("big", data, n);
  char p[512], err[256];
  path_of(p, "big");
  hash128 hf, hb = hash_buf(data, n);
  uint64_t size = 0;
  CHECK_EQ(hash_file(p, &hf, &size, err, sizeof err), 0);
  CHECK(hash_eq(&hf, &hb));
  CHECK_EQ(size, n);

  hash_stream *s = hash_stream_new();
  CHECK(s != NULL);
  hash_stream_update(s, data, 1000);
  hash_stream_update(s, data + 1000, n - 1000);
  hash128 hs = hash_stream_digest(s);
  hash_stream_free(s);
  CHECK(hash_eq(&hs, &hb));

  write_file("empty", "", 0);
  path_of(p, "empty");
  CHECK_EQ(hash_file(p, &hf, &size, err, sizeof err), 0);
  hb = hash_buf("", 0);
  CHECK(hash_eq(&hf, &hb));
  CHECK_EQ(size, 0);
  free(data);
}

static void test_file_errors(void) {
  char p[512], err[256] = "";
  hash128 h;
  path_of(p, "nope");
  CHECK_EQ(hash_file(p, &h, NULL, err, sizeof err), -ENOENT);
  CHECK(strstr(err, "nope") != NULL);
  CHECK_EQ(hash_file_cached(p, NULL, &h, err, sizeof err), -ENOENT);
  CHECK_EQ(hash_file_cached(root, NULL, &h, err, sizeof err), -EISDIR);
}

/* ---- a fake index: a few entries in memory ------------------------------ */

typedef struct fake_entry {
  char path[512];
  hash_stat st;
  hash128 h;
} fake_entry;

typedef struct fake_index {
  fake_entry e[8];
  int n, gets, puts;
} fake_index;

static fake_entry *fake_find(fake_index *fi, const char *path) {
  for (int i = 0; i < fi->n; i++)
    if (strcmp(fi->e[i].path, path) == 0)
      return &fi->e[i];
  return NULL;
}

static int fake_get(void *ctx, const char *path, hash_stat *st, hash128 *h) {
  fake_index *fi = ctx;
  fi->gets++;
  fake_entry *e = fake_find(fi, path);
  if (!e)
    return 0;
  *st = e->st;
  *h = e->h;
  return 1;
}

static int fake_put(void *ctx, const char *path, const hash_stat *st,
                    const hash128 *h) {
  fake_index *fi = ctx;
  fi->puts++;
  fake_entry *e = fake_find(fi, path);
  if (!e) {
    if (fi->n == 8)
      return -ENOSPC;          /* full: the index only saves time */
    e = &fi->e[fi->n++];
    snprintf(e->path, sizeof e->path, "%s", path);
  }
  e->st = *st;
  e->h = *h;
  return 0;
}

static void test_cached(void) {
  fake_index fi = {0};
  hash_index idx = {&fi, fake_get, fake_put, 0};
  char p[512], err[256];
  hash128 h, real, bogus = hash_buf("bogus", 5);
  time_t old = time(NULL) - 3600;

  write_file("src.csv", "a,b\n1,2\n", 8);
  set_mtime("src.csv", old);
  path_of(p, "src.csv");
  real = hash_buf("a,b\n1,2\n", 8);
  /* ctime cannot be set back; judge raciness from a pinned "now". */
  idx.now_ns = now_ns() + 60 * 1000000000LL;

  /* First time: hashed and recorded. */
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &real));
  CHECK_EQ(fi.puts, 1);
  CHECK_EQ(fi.e[0].st.size, 8);

  /* Unchanged: the entry is reused without reading (the planted bogus
   * hash comes back, proving the file was not read). */
  fi.e[0].h = bogus;
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &bogus));
  CHECK_EQ(fi.puts, 1);

  /* Same size, other content, another mtime: re-hashed. */
  write_file("src.csv", "a,b\n3,4\n", 8);
  set_mtime("src.csv", old + 10);
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  real = hash_buf("a,b\n3,4\n", 8);
  CHECK(hash_eq(&h, &real));
  CHECK_EQ(fi.puts, 2);

  /* Other size, with the mtime put back as recorded: re-hashed. */
  fi.e[0].h = bogus;
  int64_t rec_mtime = fi.e[0].st.mtime_ns;
  write_file("src.csv", "a,b\n3,4\n5,6\n", 12);
  struct timespec ts[2] = {{rec_mtime / 1000000000LL, 0},
                           {rec_mtime / 1000000000LL, 0}};
  CHECK_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  real = hash_buf("a,b\n3,4\n5,6\n", 12);
  CHECK(hash_eq(&h, &real));

  /* Same mtime and size but the inode changed (replaced by rename): the
   * entry is not trusted. */
  fi.e[0].h = bogus;
  fi.e[0].st.ino ^= 1;
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &real));

  /* Same everything but a recorded mtime (a clock step, an mtime set
   * back): not trusted either. */
  fi.e[0].h = bogus;
  fi.e[0].st.mtime_ns += 1;
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &real));
  fi.e[0].h = bogus;
  fi.e[0].st.ctime_ns -= 1;
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &real));
  fi.e[0].h = bogus;            /* and back in step: reused again */
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &bogus));

  /* Racy: "now" within 2 s of the file's ctime: a matching entry is not
   * trusted and nothing is recorded. */
  int puts = fi.puts;
  fi.e[0].h = bogus;
  idx.now_ns = fi.e[0].st.ctime_ns + 1000000000LL;
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK(hash_eq(&h, &real));
  CHECK_EQ(fi.puts, puts);

  /* The real clock: a file written just now is racy too. */
  idx.now_ns = 0;
  write_file("fresh", "x", 1);
  path_of(p, "fresh");
  CHECK_EQ(hash_file_cached(p, &idx, &h, err, sizeof err), 0);
  CHECK_EQ(fi.puts, puts);
}

static void test_tree(void) {
  char p[512], err[256];
  hash128 a, b, c;
  bool is_dir = false;
  path_of(p, "tree");
  CHECK_EQ(mkdir(p, 0777), 0);
  path_of(p, "tree/sub");
  CHECK_EQ(mkdir(p, 0777), 0);
  write_file("tree/b.txt", "bee", 3);
  write_file("tree/a.txt", "ay", 2);
  write_file("tree/sub/c.txt", "sea", 3);
  path_of(p, "tree");
  CHECK_EQ(hash_path(p, NULL, &a, &is_dir, err, sizeof err), 0);
  CHECK(is_dir);
  strcat(p, "/");
  CHECK_EQ(hash_path(p, NULL, &b, NULL, err, sizeof err), 0);
  CHECK(hash_eq(&a, &b));          /* "tree/" is "tree" */

  write_file("tree/sub/c.txt", "SEA", 3);   /* deep content change */
  path_of(p, "tree");
  CHECK_EQ(hash_path(p, NULL, &b, NULL, err, sizeof err), 0);
  CHECK(!hash_eq(&a, &b));

  char q[512];                      /* a rename changes it too */
  path_of(p, "tree/a.txt");
  path_of(q, "tree/z.txt");
  CHECK_EQ(rename(p, q), 0);
  path_of(p, "tree");
  CHECK_EQ(hash_path(p, NULL, &c, NULL, err, sizeof err), 0);
  CHECK(!hash_eq(&b, &c));

  path_of(p, "tree/sub/c.txt");
  CHECK_EQ(hash_path(p, NULL, &c, &is_dir, err, sizeof err), 0);
  CHECK(!is_dir);
  a = hash_buf("SEA", 3);
  CHECK(hash_eq(&a, &c));
}

static void test_memo(void) {
  fake_index fi = {0};
  hash_index idx = {&fi, fake_get, fake_put, now_ns() + 60000000000LL};
  char err[256];
  hash128 h1, h2;
  bool is_dir = true;
  write_file("m.txt", "memo", 4);
  hash_memo *m = hash_memo_new(root, &idx);
  CHECK(m != NULL);
  CHECK_EQ(hash_memo_path(m, "m.txt", &h1, &is_dir, err, sizeof err), 0);
  CHECK(!is_dir);
  int gets = fi.gets;
  CHECK(gets >= 1);
  /* Changed on disk within the run: the memo answers as before, without
   * asking the index (once per run). */
  write_file("m.txt", "MEMO", 4);
  CHECK_EQ(hash_memo_cb(m, "m.txt", &h2, NULL, err, sizeof err), 0);
  CHECK(hash_eq(&h1, &h2));
  CHECK_EQ(fi.gets, gets);
  /* Many entries: the table grows. */
  for (int i = 0; i < 200; i++) {
    char name[32];
    snprintf(name, sizeof name, "f%d", i);
    write_file(name, name, strlen(name));
    CHECK_EQ(hash_memo_path(m, name, &h1, NULL, err, sizeof err), 0);
    h2 = hash_buf(name, strlen(name));
    CHECK(hash_eq(&h1, &h2));
  }
  CHECK_EQ(hash_memo_path(m, "f7", &h1, NULL, err, sizeof err), 0);
  h2 = hash_buf("f7", 2);
  CHECK(hash_eq(&h1, &h2));
  /* Failures are not remembered. */
  CHECK_EQ(hash_memo_path(m, "later", &h1, NULL, err, sizeof err), -ENOENT);
  write_file("later", "now", 3);
  CHECK_EQ(hash_memo_path(m, "later", &h1, NULL, err, sizeof err), 0);
  hash_memo_free(m);

  /* A new run sees the new content. */
  m = hash_memo_new(root, NULL);
  CHECK(m != NULL);
  CHECK_EQ(hash_memo_path(m, "m.txt", &h1, NULL, err, sizeof err), 0);
  h2 = hash_buf("MEMO", 4);
  CHECK(hash_eq(&h1, &h2));
  hash_memo_free(m);
}

/* Not a check: how fast a 256 MiB buffer hashes, for the record. */
static void bench_buffer(void) {
  size_t n = 256u << 20;
  char *buf = malloc(n);
  CHECK(buf != NULL);
  memset(buf, 'x', n);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  hash128 h = hash_buf(buf, n);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf(stderr, "   hash_buf: %.1f GB/s (%02x)\n", n / s / 1e9, h.b[0]);
  free(buf);
}

int main(void) {
  setup();
  RUN(test_hex);
  RUN(test_file_matches_buffer);
  RUN(test_file_errors);
  RUN(test_cached);
  RUN(test_tree);
  RUN(test_memo);
  RUN(bench_buffer);
  teardown();
  return 0;
}
