/*
 * projwrite.c — writing recorded files back into the project (projwrite.h).
 *
 * Where a file goes (destination_in_project): the directories of its path
 * that exist are resolved (symbolic links followed) and must stay inside
 * the project root; a recorded absolute path (a file outside the
 * workspace when it was recorded) must resolve to itself, so a link
 * planted since cannot redirect it. A destination that is itself a link
 * is followed only to a file inside the same bounds.
 */
#define _GNU_SOURCE /* asprintf */
#include "projwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durable.h"
#include "fsutil.h"

/* path lies in dir or below it (both absolute, without a trailing '/'). */
static bool is_within(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/')
    return path[0] == '/';
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

/* Where recorded file rec is written back, or -1 with err if writing it
 * would leave the project (root_real: a real path). */
static int destination_in_project(const char *root_real, const char *rec,
                                  const char *retry, char **out, char *err,
                                  size_t errlen) {
  char *abs = NULL;
  bool absolute = rec[0] == '/';
  if (absolute ? !(abs = strdup(rec))
               : asprintf(&abs, "%s/%s", root_real, rec) < 0)
    abort(); /* out of memory */
  int rc = -1;
  char *slash = strrchr(abs, '/');
  const char *base = slash + 1;
  if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
      strstr(rec, "/../") || strncmp(rec, "../", 3) == 0) {
    snprintf(err, errlen, "%s: not a file path inside the project", rec);
    goto out;
  }
  /* the deepest directory of the path that exists, resolved; the rest
   * does not exist yet and will be created as plain directories */
  char dir[PATH_MAX], real[PATH_MAX];
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - abs), abs);
  if (!*dir)
    snprintf(dir, sizeof dir, "/");
  size_t keep = strlen(dir);
  for (;;) {
    if (realpath(dir, real))
      break;
    struct stat lsb;
    if (errno == ENOENT && lstat(dir, &lsb) == 0) { /* a dangling link */
      snprintf(err, errlen, "%s: its directory %s is a symbolic link to a "
                            "missing directory; not written (remove the "
                            "link, then %s again)",
               rec, dir, retry);
      goto out;
    }
    char *up = strrchr(dir, '/');
    if (errno != ENOENT || !up || up == dir) {
      snprintf(err, errlen, "%s: cannot resolve its directory: %s", rec,
               strerror(errno));
      goto out;
    }
    *up = 0;
  }
  /* a recorded absolute path is its own bound: it must resolve to itself */
  if (absolute ? strcmp(real, dir) != 0 : !is_within(real, root_real)) {
    snprintf(err, errlen, "%s: its directory %s leads to %s, outside the "
                          "project, through a symbolic link; not written "
                          "(remove the link, then %s again)",
             rec, dir, real, retry);
    goto out;
  }
  /* the resolved directory, the part not created yet, the name */
  size_t have = strlen(dir);
  char *dest = NULL;
  if (asprintf(&dest, "%s%.*s/%s", strcmp(real, "/") == 0 ? "" : real,
               (int)(keep - have), abs + have, base) < 0)
    abort();
  struct stat sb;
  if (lstat(dest, &sb) == 0 && S_ISLNK(sb.st_mode)) {
    char target[PATH_MAX];
    bool resolved = realpath(dest, target) != NULL;
    if (!resolved || absolute || !is_within(target, root_real)) {
      snprintf(err, errlen, "%s is a symbolic link to %s%s; not written "
                            "(remove the link, then %s again)",
               rec, resolved ? target : "a missing file",
               resolved && !absolute ? ", outside the project" : "", retry);
      free(dest);
      goto out;
    }
    free(dest);
    dest = strdup(target);
    if (!dest)
      abort();
  } else if (lstat(dest, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    snprintf(err, errlen, "%s is a directory now; not written", rec);
    free(dest);
    goto out;
  }
  *out = dest;
  rc = 0;
out:
  free(abs);
  return rc;
}

int pw_plan(const char *root, pw_file *f, uint32_t n, const char *retry,
            char *err, size_t errlen) {
  int changed = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (destination_in_project(root, f[i].rec, retry, &f[i].dest, err,
                               errlen) != 0)
      return -1;
    struct stat sb;
    f[i].exists = stat(f[i].dest, &sb) == 0 && S_ISREG(sb.st_mode);
    f[i].mode_now = f[i].exists ? sb.st_mode & 07777 : 0644;
    if (f[i].bytes) {
      f[i].now = f[i].exists ? fs_read_all(f[i].dest, &f[i].now_len) : NULL;
      f[i].exists = f[i].now != NULL;
      f[i].same = f[i].now && f[i].now_len == f[i].len &&
                  memcmp(f[i].now, f[i].bytes, f[i].len) == 0;
    } else {
      hash128 h;
      uint64_t size = 0;
      char msg[256];
      f[i].same = f[i].exists &&
                  hash_file(f[i].dest, &h, &size, msg, sizeof msg) == 0 &&
                  hash_eq(&h, f[i].object) && size == f[i].size;
      if (!f[i].exists && f[i].mode)
        f[i].mode_now = f[i].mode;
    }
    changed += !f[i].same;
  }
  return changed;
}

/* Write a temporary file with O_NOFOLLOW (a link planted under its name
 * is not followed), fsync'd. The bytes come from mem, or from the object
 * h, re-hashed while copied: a damaged object is never restored. */
static int write_temp(const char *tmp, mode_t mode, const char *mem,
                      size_t len, obj_store *objs, const hash128 *h,
                      const char *rec, char *err, size_t errlen) {
  char *copy = NULL;
  size_t clen = 0;
  if (!mem) {
    char obj[PATH_MAX];
    obj_path(objs, h, obj, sizeof obj);
    copy = fs_read_all(obj, &clen);
    if (!copy) {
      snprintf(err, errlen, "%s: its bytes are no longer in the object "
                            "store (%s); it cannot be restored",
               rec, strerror(errno));
      return -1;
    }
    hash128 got = hash_buf(copy, clen);
    if (!hash_eq(&got, h)) {
      snprintf(err, errlen, "%s: its stored bytes are damaged (pipec cache "
                            "verify removes them); it cannot be restored",
               rec);
      free(copy);
      return -1;
    }
    mem = copy;
    len = clen;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                mode);
  int rc = 0;
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    free(copy);
    return -1;
  }
  size_t off = 0;
  while (rc == 0 && off < len) {
    ssize_t wr = write(fd, mem + off, len - off);
    if (wr < 0 && errno == EINTR)
      continue;
    if (wr <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", tmp,
               strerror(wr < 0 ? errno : EIO));
      rc = -1;
    } else {
      off += (size_t)wr;
    }
  }
  if (rc == 0 && (fchmod(fd, mode) != 0 || durable_sync(fd) != 0)) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    rc = -1;
  }
  if (close(fd) != 0 && rc == 0) {
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    rc = -1;
  }
  free(copy);
  return rc;
}

/* Make fsync'd renames durable: fsync the directory of path. */
static void sync_dir_of(const char *path) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    return;
  *slash = slash == dir ? '/' : 0;
  if (slash == dir)
    dir[1] = 0;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    durable_sync(fd);
    close(fd);
  }
}

/* Forget (and remove, unless renamed) the temporary files of f. */
static void drop_temps(store *st, pw_file *f, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (f[i].tmp) {
      unlink(f[i].tmp); /* ENOENT once renamed */
      store_temp_forget(st, f[i].tmp);
    }
}

int pw_write(store *st, obj_store *objs, pw_file *f, uint32_t n, char *err,
             size_t errlen) {
  /* name the temporary files in the store before creating them, so a
   * kill at any point leaves nothing the next command does not remove */
  if (store_begin(st) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    return -1;
  }
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    if (f[i].same)
      continue;
    if (asprintf(&f[i].tmp, "%s" PW_TEMP_MARK "%d", f[i].dest,
                 (int)getpid()) < 0)
      abort();
    rc = store_temp_add(st, f[i].tmp, (int64_t)getpid());
  }
  if (rc != 0 || store_commit(st) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    store_rollback(st);
    for (uint32_t i = 0; i < n; i++) {
      free(f[i].tmp);
      f[i].tmp = NULL;
    }
    return -1;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (f[i].same)
      continue;
    int mk = fs_mkdirs_for(f[i].dest);
    if (mk != 0) {
      snprintf(err, errlen, "cannot create the directory of %s: %s",
               f[i].rec, strerror(-mk));
      drop_temps(st, f, n);
      return -1;
    }
    if (write_temp(f[i].tmp, f[i].mode_now, f[i].bytes, f[i].len, objs,
                   f[i].object, f[i].rec, err, errlen) != 0) {
      drop_temps(st, f, n);
      return -1;
    }
  }
  int written = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (f[i].same)
      continue;
    if (rename(f[i].tmp, f[i].dest) != 0) {
      snprintf(err, errlen, "cannot write %s: %s", f[i].rec, strerror(errno));
      written = -1;
      break;
    }
    sync_dir_of(f[i].dest);
    written++;
  }
  drop_temps(st, f, n);
  return written;
}

void pw_free(pw_file *f, uint32_t n) {
  for (uint32_t i = 0; f && i < n; i++) {
    free(f[i].dest);
    free(f[i].now);
    free(f[i].tmp);
    f[i].dest = f[i].now = f[i].tmp = NULL;
  }
}

void pw_clean(store *st) {
  store_temp *t = NULL;
  uint32_t n = 0;
  if (store_temps(st, &t, &n) != 0)
    return;
  for (uint32_t i = 0; i < n; i++) {
    if (store_pid_alive(t[i].pid))
      continue; /* still writing (or this very process) */
    const char *base = strrchr(t[i].path, '/');
    struct stat sb;
    /* rollback's and restore's files; publish's files and directories */
    bool ours = base && (strstr(base, PW_TEMP_MARK) ||
                         strstr(base, ".pipec-publish."));
    if (ours && lstat(t[i].path, &sb) == 0 && S_ISREG(sb.st_mode))
      unlink(t[i].path);
    else if (ours && lstat(t[i].path, &sb) == 0 && S_ISDIR(sb.st_mode))
      fs_rm_rf(t[i].path); /* a published directory, half copied */
    store_temp_forget(st, t[i].path);
  }
  store_temps_free(t, n);
}
