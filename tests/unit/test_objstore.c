/*
 * test_objstore.c — the object store (engine/objstore.c): put, dedupe,
 * read-only objects, move-in, verify finding damage, clean failures (missing
 * source, disk full through a fake writer), materialize, crash leftovers.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "objstore.h"

static char root[256], objdir[300];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

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

/* The whole content of an absolute path, NUL-terminated; caller frees. */
static char *slurp(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  CHECK(f != NULL);
  char *buf = malloc(1 << 16);
  CHECK(buf != NULL);
  *n = fread(buf, 1, (1 << 16) - 1, f);
  buf[*n] = '\0';
  fclose(f);
  return buf;
}

static int count_entries(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 0", dir);
  return system(cmd) == 0 ? 0 : 1;
}

static obj_store *open_store(const obj_opts *o) {
  obj_store *s = NULL;
  char err[256];
  CHECK_EQ(obj_open(objdir, o, &s, err, sizeof err), 0);
  return s;
}

static int keep_calls;
static bool keep_yes(void *ctx, const hash128 *h, const hash_stat *st) {
  (void)ctx, (void)h, (void)st;
  keep_calls++;
  return true;
}

static void test_put_and_dedupe(void) {
  obj_store *s = open_store(NULL);
  char src[512], obj[512], err[256];
  hash128 h, h2;
  uint64_t size = 0;
  struct stat st, st2;

  write_file("out.csv", "a,b\n1,2\n", 8);
  path_of(src, "out.csv");
  CHECK_EQ(obj_put_file(s, src, &h, &size, err, sizeof err), 0);
  hash128 want = hash_buf("a,b\n1,2\n", 8);
  CHECK(hash_eq(&h, &want));
  CHECK_EQ(size, 8);

  obj_path(s, &h, obj, sizeof obj);
  char hex[HASH_HEX_LEN + 1], tail[64];
  hash_hex(&h, hex);
  snprintf(tail, sizeof tail, "/%.2s/%s", hex, hex + 2);
  CHECK(strstr(obj, tail) != NULL);
  CHECK_EQ(stat(obj, &st), 0);
  CHECK_EQ(st.st_mode & 0777, 0444);
  size_t n;
  char *got = slurp(obj, &n);
  CHECK_STREQ(got, "a,b\n1,2\n");
  free(got);
  CHECK(access(src, F_OK) == 0);            /* a copy: src stays */

  CHECK(obj_exists(s, &h, 8));
  CHECK(obj_exists(s, &h, OBJ_ANY_SIZE));
  CHECK(!obj_exists(s, &h, 9));
  hash128 other = hash_buf("nothing", 7);
  CHECK(!obj_exists(s, &other, OBJ_ANY_SIZE));

  /* The same bytes again, with no one vouching for the object there:
   * the fresh copy replaces it (the old one may have been damaged)... */
  write_file("again.csv", "a,b\n1,2\n", 8);
  path_of(src, "again.csv");
  CHECK_EQ(obj_put_file(s, src, &h2, NULL, err, sizeof err), 0);
  CHECK(hash_eq(&h, &h2));
  CHECK_EQ(stat(obj, &st2), 0);
  CHECK(st.st_ino != st2.st_ino);
  /* ...and with a keep() that trusts it, it is kept (dedupe), and the
   * info is the existing object's stat */
  keep_calls = 0;
  obj_put_opts po = {.keep = keep_yes};
  obj_info info;
  CHECK_EQ(obj_put(s, src, &po, &info, err, sizeof err), 0);
  CHECK_EQ(keep_calls, 1);
  CHECK(hash_eq(&info.hash, &h));
  CHECK_EQ(info.size, 8);
  CHECK_EQ(stat(obj, &st), 0);
  CHECK_EQ(st.st_ino, st2.st_ino);
  CHECK_EQ(info.st.ino, (uint64_t)st.st_ino);
  hash_stat now;
  CHECK_EQ(obj_stat(s, &h, &now), 0);
  CHECK(hash_stat_eq(&now, &info.st));

  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s/tmp", objdir);
  CHECK_EQ(count_entries(tmp), 0);          /* no temp left behind */

  /* An object of the wrong size (truncated by a crash of a no-sync writer)
   * is replaced, not trusted. */
  CHECK_EQ(chmod(obj, 0644), 0);
  CHECK_EQ(truncate(obj, 3), 0);
  CHECK_EQ(obj_put_file(s, src, &h2, NULL, err, sizeof err), 0);
  CHECK(obj_exists(s, &h, 8));
  obj_close(s);
}

static void test_put_errors(void) {
  obj_store *s = open_store(NULL);
  char src[512], err[256] = "", tmp[512];
  hash128 h;
  snprintf(tmp, sizeof tmp, "%s/tmp", objdir);

  path_of(src, "missing.csv");
  CHECK_EQ(obj_put_file(s, src, &h, NULL, err, sizeof err), -ENOENT);
  CHECK(strstr(err, "missing.csv") != NULL);
  CHECK_EQ(obj_put_move(s, src, &h, NULL, err, sizeof err), -ENOENT);
  CHECK_EQ(obj_put_file(s, root, &h, NULL, err, sizeof err), -EISDIR);
  CHECK_EQ(count_entries(tmp), 0);
  obj_close(s);
}

/* A disk that fills after its first 100 KiB. */
static size_t fake_written;
static ssize_t full_disk(int fd, const void *buf, size_t n) {
  if (fake_written >= 100 * 1024) {
    errno = ENOSPC;
    return -1;
  }
  ssize_t w = write(fd, buf, n < 4096 ? n : 4096);
  if (w > 0)
    fake_written += (size_t)w;
  return w;
}

static void test_disk_full(void) {
  obj_opts o = {.write = full_disk};
  obj_store *s = open_store(&o);
  char src[512], err[256] = "", tmp[512];
  hash128 h;
  size_t n = 1u << 20;
  char *data = malloc(n);
  CHECK(data != NULL);
  memset(data, 'z', n);
  write_file("huge", data, n);
  path_of(src, "huge");
  fake_written = 0;
  CHECK_EQ(obj_put_file(s, src, &h, NULL, err, sizeof err), -ENOSPC);
  CHECK(strstr(err, "disk full") != NULL);
  CHECK(strstr(err, "huge") != NULL);
  snprintf(tmp, sizeof tmp, "%s/tmp", objdir);
  CHECK_EQ(count_entries(tmp), 0);          /* the partial copy is gone */
  hash128 want = hash_buf(data, n);
  CHECK(!obj_exists(s, &want, OBJ_ANY_SIZE));
  free(data);
  obj_close(s);
}

static void test_put_move(void) {
  obj_opts o = {.no_sync = true};
  obj_store *s = open_store(&o);
  char src[512], obj[512], err[256], other[512];
  hash128 h;
  uint64_t size;
  struct stat before, after;

  write_file("moved", "move me", 7);
  path_of(src, "moved");
  CHECK_EQ(stat(src, &before), 0);
  CHECK_EQ(obj_put_move(s, src, &h, &size, err, sizeof err), 0);
  CHECK_EQ(size, 7);
  CHECK(access(src, F_OK) != 0);            /* gone from scratch */
  obj_path(s, &h, obj, sizeof obj);
  CHECK_EQ(stat(obj, &after), 0);
  CHECK_EQ(before.st_ino, after.st_ino);    /* renamed, not copied */
  CHECK_EQ(after.st_mode & 0777, 0444);

  /* Same bytes again, the object trusted: deduped, src removed, object
   * untouched; the info is what was stored, after the rename. */
  write_file("moved2", "move me", 7);
  path_of(src, "moved2");
  obj_put_opts po = {.move = true, .keep = keep_yes};
  obj_info info;
  CHECK_EQ(obj_put(s, src, &po, &info, err, sizeof err), 0);
  CHECK(hash_eq(&h, &info.hash));
  CHECK(access(src, F_OK) != 0);
  CHECK_EQ(stat(obj, &before), 0);
  CHECK_EQ(before.st_ino, after.st_ino);
  CHECK_EQ(info.st.ino, (uint64_t)before.st_ino);
  CHECK_EQ(info.st.ctime_ns, (int64_t)before.st_ctim.tv_sec * 1000000000LL +
                                 before.st_ctim.tv_nsec);

  /* A file with another name elsewhere (say, the user's): copied; the
   * other name keeps its inode to itself and its mode. */
  write_file("users.csv", "user data", 9);
  path_of(other, "users.csv");
  path_of(src, "linked-out");
  CHECK_EQ(link(other, src), 0);
  CHECK_EQ(obj_put_move(s, src, &h, NULL, err, sizeof err), 0);
  CHECK(access(src, F_OK) != 0);
  CHECK_EQ(stat(other, &before), 0);
  CHECK(before.st_mode & 0200);             /* still writable */
  obj_path(s, &h, obj, sizeof obj);
  CHECK_EQ(stat(obj, &after), 0);
  CHECK(before.st_ino != after.st_ino);

  /* A symlink output is refused: moving it in would store whatever it
   * points at (a remote command could point it at any local file). */
  write_file("target.txt", "pointed at", 10);
  path_of(other, "target.txt");
  path_of(src, "symlink-out");
  CHECK_EQ(symlink(other, src), 0);
  CHECK_EQ(obj_put_move(s, src, &h, NULL, err, sizeof err), -ELOOP);
  CHECK(strstr(err, "symbolic link") != NULL);
  hash128 want = hash_buf("pointed at", 10);
  CHECK(!obj_exists(s, &want, OBJ_ANY_SIZE));
  CHECK(access(other, F_OK) == 0);
  unlink(src);
  /* From another filesystem (tmpfs, when there is one): copied in. */
  struct stat shm, here;
  if (stat("/dev/shm", &shm) == 0 && stat(root, &here) == 0 &&
      shm.st_dev != here.st_dev && access("/dev/shm", W_OK) == 0) {
    snprintf(src, sizeof src, "/dev/shm/pipec-test-%ld", (long)getpid());
    FILE *f = fopen(src, "w");
    CHECK(f != NULL);
    fputs("elsewhere", f);
    fclose(f);
    CHECK_EQ(obj_put_move(s, src, &h, &size, err, sizeof err), 0);
    want = hash_buf("elsewhere", 9);
    CHECK(hash_eq(&h, &want));
    CHECK_EQ(size, 9);
    CHECK(access(src, F_OK) != 0);
    CHECK(obj_exists(s, &h, 9));
  } else {
    fprintf(stderr, "   (no second filesystem: no cross-device move)\n");
  }
  CHECK_EQ(obj_sync(s, err, sizeof err), 0);
  obj_close(s);
}

/* defer_sync: new objects wait for obj_sync_pending (one batch), an
 * object already there and kept is never written or synced again, and a
 * fan-out directory removed by hand is made again. */
static void test_defer_sync(void) {
  obj_opts o = {.defer_sync = true};
  obj_store *s = open_store(&o);
  char src[512], obj[512], err[256];
  hash128 h, h2;
  write_file("d1", "deferred one", 12);
  path_of(src, "d1");
  obj_put_opts po = {.move = true, .keep = keep_yes};
  obj_info info;
  CHECK_EQ(obj_put(s, src, &po, &info, err, sizeof err), 0);
  h = info.hash;
  CHECK_EQ(obj_pending(s), 1);
  obj_path(s, &h, obj, sizeof obj);
  struct stat st;
  CHECK_EQ(stat(obj, &st), 0);              /* in place at once */
  CHECK_EQ(st.st_mode & 0777, 0444);
  write_file("d2", "deferred two", 12);
  path_of(src, "d2");
  CHECK_EQ(obj_put(s, src, &po, &info, err, sizeof err), 0);
  h2 = info.hash;
  CHECK_EQ(obj_pending(s), 2);
  /* the same bytes again: kept, the source gone, nothing more to sync, the
   * object untouched (same inode and ctime) */
  write_file("d3", "deferred one", 12);
  path_of(src, "d3");
  keep_calls = 0;
  CHECK_EQ(obj_put(s, src, &po, &info, err, sizeof err), 0);
  CHECK_EQ(keep_calls, 1);
  CHECK(hash_eq(&info.hash, &h));
  CHECK(access(src, F_OK) != 0);
  CHECK_EQ(obj_pending(s), 2);
  struct stat again;
  CHECK_EQ(stat(obj, &again), 0);
  CHECK_EQ(again.st_ino, st.st_ino);
  CHECK_EQ(again.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
  /* one batch for both; a pending object removed meanwhile is skipped */
  CHECK_EQ(obj_remove(s, &h2, err, sizeof err), 0);
  CHECK_EQ(obj_sync_pending(s, err, sizeof err), 0);
  CHECK_EQ(obj_pending(s), 0);
  CHECK_EQ(obj_sync_pending(s, err, sizeof err), 0);
  /* a fan-out directory removed behind the store's back is made again */
  char fan[600];
  snprintf(fan, sizeof fan, "%.*s", (int)(strrchr(obj, '/') - obj), obj);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fan);
  CHECK_EQ(system(cmd), 0);
  write_file("d4", "deferred one", 12);
  path_of(src, "d4");
  CHECK_EQ(obj_put(s, src, &po, &info, err, sizeof err), 0);
  CHECK(hash_eq(&info.hash, &h));
  CHECK(obj_exists(s, &h, 12));
  CHECK_EQ(obj_pending(s), 1);
  CHECK_EQ(obj_sync_pending(s, err, sizeof err), 0);
  obj_close(s);
}

typedef struct seen {
  int n, bad;
  hash128 bad_hash;
  char msg[512];
} seen;

static int on_verify(void *ctx, const hash128 *h, int status,
                     const hash_stat *st, const char *msg) {
  seen *v = ctx;
  v->n++;
  CHECK((status == 0) == (st != NULL));
  if (status != 0) {
    v->bad++;
    v->bad_hash = *h;
    snprintf(v->msg, sizeof v->msg, "%s", msg);
  }
  return 0;
}

static int on_each(void *ctx, const hash128 *h, uint64_t size) {
  (void)h;
  CHECK(size > 0);
  (*(int *)ctx)++;
  return 0;
}

static void test_verify(void) {
  obj_store *s = open_store(NULL);
  char src[512], obj[512], err[512];
  hash128 h;
  int total = 0;
  CHECK_EQ(obj_foreach(s, on_each, &total, err, sizeof err), 0);
  CHECK(total > 0);

  write_file("v.txt", "verify me", 9);
  path_of(src, "v.txt");
  CHECK_EQ(obj_put_file(s, src, &h, NULL, err, sizeof err), 0);
  CHECK_EQ(obj_verify(s, &h, err, sizeof err), 0);
  seen v = {0};
  CHECK_EQ(obj_verify_all(s, on_verify, &v, err, sizeof err), 0);
  CHECK_EQ(v.n, total + 1);

  /* Damage it in place: same size, one byte different. */
  obj_path(s, &h, obj, sizeof obj);
  CHECK_EQ(chmod(obj, 0644), 0);
  int fd = open(obj, O_WRONLY);
  CHECK(fd >= 0);
  CHECK_EQ(pwrite(fd, "V", 1, 0), 1);
  close(fd);
  CHECK(obj_exists(s, &h, 9));              /* stat cannot tell... */
  CHECK_EQ(obj_verify(s, &h, err, sizeof err), 1);   /* ...a re-hash can */
  CHECK(strstr(err, "damaged") != NULL);
  memset(&v, 0, sizeof v);
  CHECK_EQ(obj_verify_all(s, on_verify, &v, err, sizeof err), 1);
  CHECK_EQ(v.bad, 1);
  CHECK(hash_eq(&v.bad_hash, &h));
  CHECK(strstr(v.msg, "damaged") != NULL);

  /* Removed, it is missing: its producer would re-run. */
  CHECK_EQ(obj_remove(s, &h, err, sizeof err), 0);
  CHECK(!obj_exists(s, &h, OBJ_ANY_SIZE));
  CHECK_EQ(obj_verify(s, &h, err, sizeof err), -ENOENT);
  CHECK(strstr(err, "missing") != NULL);
  CHECK_EQ(obj_remove(s, &h, err, sizeof err), -ENOENT);
  obj_close(s);
}

/* obj_check: an object whose stat is as recorded is trusted unread; one
 * whose stat moved is re-hashed; a write that puts the old mtime back is
 * still seen (ctime); odd entries under an object's name are named. */
static void test_check(void) {
  obj_store *s = open_store(NULL);
  char src[512], obj[512], err[512];
  obj_info info;
  hash_stat now;
  bool rehashed;
  write_file("c.txt", "check me", 8);
  path_of(src, "c.txt");
  CHECK_EQ(obj_put(s, src, NULL, &info, err, sizeof err), 0);
  obj_path(s, &info.hash, obj, sizeof obj);

  CHECK_EQ(obj_check(s, &info.hash, &info.st, &now, &rehashed, err,
                     sizeof err), 0);
  CHECK(!rehashed);
  CHECK(hash_stat_eq(&now, &info.st));
  CHECK_EQ(obj_check(s, &info.hash, NULL, &now, &rehashed, err, sizeof err),
           0);
  CHECK(rehashed);                          /* nothing recorded: read it */

  /* A same-size flip whose mtime is put back (touch -r): the stat still
   * differs (ctime), the re-hash finds it. */
  struct stat before;
  CHECK_EQ(stat(obj, &before), 0);
  CHECK_EQ(chmod(obj, 0644), 0);
  int fd = open(obj, O_WRONLY);
  CHECK(fd >= 0);
  CHECK_EQ(pwrite(fd, "C", 1, 0), 1);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  CHECK_EQ(futimens(fd, times), 0);
  close(fd);
  CHECK_EQ(chmod(obj, 0444), 0);
  CHECK_EQ(obj_check(s, &info.hash, &info.st, &now, &rehashed, err,
                     sizeof err), OBJ_DAMAGED);
  CHECK(rehashed);
  CHECK(strstr(err, "damaged") != NULL);

  /* A symlink under its name is never followed, and named as such. */
  CHECK_EQ(obj_remove(s, &info.hash, err, sizeof err), 0);
  CHECK_EQ(symlink(src, obj), 0);
  CHECK_EQ(obj_check(s, &info.hash, NULL, NULL, NULL, err, sizeof err),
           OBJ_NOT_FILE);
  CHECK(strstr(err, "symbolic link") != NULL);
  CHECK_EQ(obj_stat(s, &info.hash, &now), -ELOOP);
  CHECK(!obj_exists(s, &info.hash, OBJ_ANY_SIZE));
  seen v = {0};
  CHECK_EQ(obj_verify_all(s, on_verify, &v, err, sizeof err), 1);
  CHECK(hash_eq(&v.bad_hash, &info.hash));
  CHECK(strstr(v.msg, "symbolic link") != NULL);
  /* storing the bytes again replaces the link with the file */
  CHECK_EQ(obj_put(s, src, NULL, &info, err, sizeof err), 0);
  CHECK_EQ(obj_stat(s, &info.hash, &now), 0);
  CHECK(hash_stat_eq(&now, &info.st));
  /* a directory under its name: reported, and removable */
  CHECK_EQ(obj_remove(s, &info.hash, err, sizeof err), 0);
  CHECK_EQ(mkdir(obj, 0755), 0);
  CHECK_EQ(obj_check(s, &info.hash, NULL, NULL, NULL, err, sizeof err),
           OBJ_NOT_FILE);
  CHECK(strstr(err, "directory") != NULL);
  CHECK_EQ(obj_remove(s, &info.hash, err, sizeof err), 0);
  CHECK_EQ(obj_stat(s, &info.hash, &now), -ENOENT);
  CHECK_EQ(obj_check(s, &info.hash, NULL, NULL, NULL, err, sizeof err),
           -ENOENT);

  /* the probe answers, and answers the same twice */
  bool fine = obj_fine_timestamps(s);
  CHECK_EQ(obj_fine_timestamps(s), fine);
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s/tmp", objdir);
  CHECK_EQ(count_entries(tmp), 0);
  obj_close(s);
}

static void test_materialize(void) {
  obj_store *s = open_store(NULL);
  char src[512], obj[512], dest[512], err[256];
  hash128 h, h2;
  struct stat so, sd;
  size_t n;

  write_file("in.csv", "x\n1\n", 4);
  path_of(src, "in.csv");
  CHECK_EQ(obj_put_file(s, src, &h, NULL, err, sizeof err), 0);
  obj_path(s, &h, obj, sizeof obj);
  CHECK_EQ(stat(obj, &so), 0);

  path_of(dest, "given.csv");
  CHECK_EQ(obj_materialize(s, &h, dest, 0, err, sizeof err), 0);
  CHECK_EQ(stat(dest, &sd), 0);
  CHECK_EQ(sd.st_ino, so.st_ino);           /* hard link */
  CHECK_EQ(sd.st_mode & 0777, 0444);
  /* Again onto itself: fine, no temp left in the directory. */
  CHECK_EQ(obj_materialize(s, &h, dest, 0, err, sizeof err), 0);

  /* A copy, replacing what is there. */
  write_file("other.csv", "y\n2\n", 4);
  path_of(src, "other.csv");
  CHECK_EQ(obj_put_file(s, src, &h2, NULL, err, sizeof err), 0);
  CHECK_EQ(obj_materialize(s, &h2, dest, OBJ_MAT_COPY, err, sizeof err), 0);
  CHECK_EQ(stat(dest, &sd), 0);
  CHECK(sd.st_ino != so.st_ino);
  CHECK_EQ(sd.st_mode & 0777, 0444);
  char *got = slurp(dest, &n);
  CHECK_STREQ(got, "y\n2\n");
  free(got);

  /* Linking over an existing file replaces it. */
  CHECK_EQ(obj_materialize(s, &h, dest, 0, err, sizeof err), 0);
  got = slurp(dest, &n);
  CHECK_STREQ(got, "x\n1\n");
  free(got);

  /* Onto another filesystem: no link possible, a copy. */
  struct stat shm;
  if (stat("/dev/shm", &shm) == 0 && shm.st_dev != so.st_dev &&
      access("/dev/shm", W_OK) == 0) {
    char far[512];
    snprintf(far, sizeof far, "/dev/shm/pipec-mat-%ld", (long)getpid());
    CHECK_EQ(obj_materialize(s, &h, far, 0, err, sizeof err), 0);
    CHECK_EQ(stat(far, &sd), 0);
    CHECK_EQ(sd.st_mode & 0777, 0444);
    got = slurp(far, &n);
    CHECK_STREQ(got, "x\n1\n");
    free(got);
    CHECK_EQ(unlink(far), 0);
  }

  hash128 none = hash_buf("absent", 6);
  path_of(dest, "nothing.csv");
  CHECK_EQ(obj_materialize(s, &none, dest, 0, err, sizeof err), -ENOENT);
  CHECK(strstr(err, "missing") != NULL);
  CHECK(access(dest, F_OK) != 0);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -q pipec-", root);
  CHECK(system(cmd) != 0);                   /* no temp names left */
  obj_close(s);
}

static void test_clean_tmp(void) {
  obj_store *s = open_store(NULL);
  char p[600], err[256];
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0)
    _exit(0);
  CHECK_EQ(waitpid(child, NULL, 0), child);

  snprintf(p, sizeof p, "%s/tmp/%ld.abcdef", objdir, (long)child);
  FILE *f = fopen(p, "w");
  CHECK(f != NULL);
  fclose(f);
  char mine[600];
  snprintf(mine, sizeof mine, "%s/tmp/%ld.ghijkl", objdir, (long)getpid());
  f = fopen(mine, "w");
  CHECK(f != NULL);
  fclose(f);

  CHECK_EQ(obj_clean_tmp(s, 600, err, sizeof err), 1);   /* the dead one */
  CHECK(access(p, F_OK) != 0);
  CHECK(access(mine, F_OK) == 0);           /* alive and fresh: kept */
  CHECK_EQ(obj_clean_tmp(s, 0, err, sizeof err), 1);     /* too old */
  CHECK(access(mine, F_OK) != 0);
  obj_close(s);
}

int main(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-obj-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  snprintf(objdir, sizeof objdir, "%s/.pipec/objects", root);
  RUN(test_put_and_dedupe);
  RUN(test_put_errors);
  RUN(test_disk_full);
  RUN(test_put_move);
  RUN(test_defer_sync);
  RUN(test_verify);
  RUN(test_check);
  RUN(test_materialize);
  RUN(test_clean_tmp);
  nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
