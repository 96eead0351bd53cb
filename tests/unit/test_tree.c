/*
 * test_tree.c — tree objects (engine/tree.c): the same files give the same
 * hash wherever they are and whatever their times; names, bytes, the
 * executable bit and empty directories count; storing equals hashing;
 * materializing gives the files back read-only; symlinks are refused
 * unless followed; a walk names every object.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree.h"

static char root[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  chmod(path, 0755);
  return remove(path);
}

static void rm_rf(const char *p) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null", p);
  CHECK(system(cmd) >= 0);
  nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *rel, const char *text) {
  char p[600];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "wb");
  CHECK(f != NULL);
  fputs(text, f);
  CHECK_EQ(fclose(f), 0);
}

static void mk(const char *rel) {
  char p[600];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  CHECK_EQ(mkdir(p, 0755), 0);
}

static const char *at(const char *rel) {
  static char p[4][600];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", root, rel);
  return p[k];
}

static hash128 hash_of(const char *rel) {
  hash128 h;
  char err[512];
  int rc = tree_hash_dir(at(rel), NULL, &h, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "%s\n", err);
  CHECK_EQ(rc, 0);
  return h;
}

static void make_sample(const char *dir) {
  char p[300];
  mk(dir);
  snprintf(p, sizeof p, "%s/b.txt", dir);
  put(p, "bee\n");
  snprintf(p, sizeof p, "%s/a.txt", dir);
  put(p, "ay\n");
  snprintf(p, sizeof p, "%s/sub", dir);
  mk(p);
  snprintf(p, sizeof p, "%s/sub/c", dir);
  put(p, "sea");
  snprintf(p, sizeof p, "%s/empty", dir);
  mk(p);
}

static void test_same_files_same_hash(void) {
  make_sample("one");
  make_sample("two");
  hash128 a = hash_of("one"), b = hash_of("two");
  CHECK(hash_eq(&a, &b));
  /* times do not count */
  put("two/a.txt", "ay\n");
  b = hash_of("two");
  CHECK(hash_eq(&a, &b));
  /* bytes, names, the executable bit and empty directories do */
  put("two/a.txt", "AY\n");
  b = hash_of("two");
  CHECK(!hash_eq(&a, &b));
  put("two/a.txt", "ay\n");
  CHECK_EQ(rename(at("two/b.txt"), at("two/B.txt")), 0);
  b = hash_of("two");
  CHECK(!hash_eq(&a, &b));
  CHECK_EQ(rename(at("two/B.txt"), at("two/b.txt")), 0);
  CHECK_EQ(chmod(at("two/b.txt"), 0755), 0);
  b = hash_of("two");
  CHECK(!hash_eq(&a, &b));
  CHECK_EQ(chmod(at("two/b.txt"), 0644), 0);
  CHECK_EQ(rmdir(at("two/empty")), 0);
  b = hash_of("two");
  CHECK(!hash_eq(&a, &b));
  mk("two/empty");
  b = hash_of("two");
  CHECK(hash_eq(&a, &b));
}

static obj_store *open_store(void) {
  obj_store *s;
  char err[256];
  CHECK_EQ(obj_open(at("objects"), NULL, &s, err, sizeof err), 0);
  return s;
}

static int count_walk(void *ctx, const hash128 *h, char kind) {
  (void)h;
  int *c = ctx;
  c[kind == 'd' ? 0 : 1]++;
  return 0;
}

static void test_put_materialize(void) {
  obj_store *s = open_store();
  char err[512];
  hash128 h, want = hash_of("one");
  tree_stats st;
  CHECK_EQ(tree_put(s, at("one"), 0, &h, &st, err, sizeof err), 0);
  CHECK(hash_eq(&h, &want));
  CHECK_EQ(st.files, 3);
  CHECK_EQ(st.dirs, 2);
  CHECK_EQ(st.bytes, 3 + 4 + 3);
  CHECK(tree_is_tree(s, &h));
  /* copied, not moved: the source is still there */
  CHECK_EQ(access(at("one/a.txt"), F_OK), 0);

  tree_entry *e;
  uint32_t n;
  CHECK_EQ(tree_read(s, &h, &e, &n, err, sizeof err), 0);
  CHECK_EQ(n, 4);
  CHECK_STREQ(e[0].name, "a.txt");
  CHECK_EQ(e[0].kind, 'f');
  CHECK_STREQ(e[1].name, "b.txt");
  CHECK_STREQ(e[2].name, "empty");
  CHECK_EQ(e[2].kind, 'd');
  CHECK_STREQ(e[3].name, "sub");
  CHECK(!tree_is_tree(s, &e[0].hash));
  tree_entries_free(e, n);

  CHECK_EQ(tree_materialize(s, &h, at("copy"), err, sizeof err), 0);
  hash128 back = hash_of("copy");
  CHECK(hash_eq(&back, &h));
  struct stat sb;
  CHECK_EQ(stat(at("copy/sub"), &sb), 0);
  CHECK_EQ(sb.st_mode & 0777, 0555);
  CHECK_EQ(stat(at("copy/a.txt"), &sb), 0);
  CHECK_EQ(sb.st_mode & 0222, 0);
  /* an existing destination is refused */
  CHECK(tree_materialize(s, &h, at("copy"), err, sizeof err) == -EEXIST);

  int counts[2] = {0, 0};
  CHECK_EQ(tree_walk(s, &h, count_walk, counts, err, sizeof err), 0);
  CHECK_EQ(counts[0], 3); /* root, empty, sub */
  CHECK_EQ(counts[1], 3);

  /* moving empties the source directory's files */
  make_sample("three");
  CHECK_EQ(tree_put(s, at("three"), TREE_MOVE, &h, NULL, err, sizeof err), 0);
  CHECK(hash_eq(&h, &want));
  CHECK(access(at("three/a.txt"), F_OK) != 0);
  obj_close(s);
}

static void test_refused(void) {
  obj_store *s = open_store();
  char err[512];
  hash128 h;
  mk("links");
  put("links/real", "x");
  CHECK_EQ(symlink("/etc/passwd", at("links/pw")), 0);
  int rc = tree_put(s, at("links"), 0, &h, NULL, err, sizeof err);
  CHECK(rc < 0);
  CHECK(strstr(err, "symbolic link") != NULL);
  /* followed for sources: /etc/passwd's content */
  CHECK_EQ(tree_hash_dir(at("links"), NULL, &h, err, sizeof err), 0);
  /* not a tree */
  hash128 f;
  CHECK_EQ(obj_put_file(s, at("links/real"), &f, NULL, err, sizeof err), 0);
  tree_entry *e;
  uint32_t n;
  CHECK(tree_read(s, &f, &e, &n, err, sizeof err) == -EINVAL);
  obj_close(s);
}

int main(void) {
  snprintf(root, sizeof root, "%s/pipec-tree.XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  RUN(test_same_files_same_hash);
  RUN(test_put_materialize);
  RUN(test_refused);
  rm_rf(root);
  return 0;
}
