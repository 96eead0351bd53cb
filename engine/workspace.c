/*
 * workspace.c — finding and creating `.pipec/` (workspace.h).
 *
 * Directories are made 0755 (files, made by SQLite and objstore, 0644),
 * both further narrowed by the umask: nothing here is world-writable.
 * Every path is absolute (realpath), so a workspace found from a
 * subdirectory names the same files as one found from its root, and one
 * found from a pipeline file's directory the same as from its project.
 */
#include "workspace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "alloc.h"

#include "projpath.h"

struct ws {
  char root[PATH_MAX], dir[PATH_MAX + 16], db[PATH_MAX + 32],
      objects[PATH_MAX + 32],
      runs[PATH_MAX + 32], logs[PATH_MAX + 32];
};

static bool is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int make_dir(const char *path, char *err, size_t errlen) {
  if (mkdir(path, 0755) == 0 || (errno == EEXIST && is_dir(path)))
    return 0;
  snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
  return -1;
}

/* Fill the paths of w from its .pipec directory and create what is
 * missing. */
static int ws_fill(ws *w, char *err, size_t errlen) {
  snprintf(w->db, sizeof w->db, "%s/pipec.db", w->dir);
  snprintf(w->objects, sizeof w->objects, "%s/objects", w->dir);
  snprintf(w->runs, sizeof w->runs, "%s/runs", w->dir);
  snprintf(w->logs, sizeof w->logs, "%s/logs", w->dir);
  if (make_dir(w->dir, err, errlen) || make_dir(w->objects, err, errlen) ||
      make_dir(w->runs, err, errlen) || make_dir(w->logs, err, errlen))
    return -1;
  return 0;
}

/* $PIPEC_HOME (the .pipec directory itself; the project is the current
 * directory), made if missing and create. 0, or -1 with err. */
static int open_home(ws *w, const char *home, bool create, bool *created,
                     char *err, size_t errlen) {
  if (!create && !is_dir(home)) {
    snprintf(err, errlen, "PIPEC_HOME=%s does not exist", home);
    return -1;
  }
  if (mkdir(home, 0755) == 0)
    *created = true;
  else if (errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", home, strerror(errno));
    return -1;
  }
  if (!realpath(home, w->dir) || !getcwd(w->root, sizeof w->root)) {
    snprintf(err, errlen, "cannot resolve %s: %s", home, strerror(errno));
    return -1;
  }
  return 0;
}

/* The nearest .pipec at or above directory start (resolved first): true
 * and w's root and dir filled, or false. */
static bool search(ws *w, const char *start_dir) {
  char start[PATH_MAX];
  if (!realpath(start_dir, start))
    return false;
  /* start, its parent, ... up to and including "/" */
  for (char cur[PATH_MAX + 8];;) {
    bool top = strcmp(start, "/") == 0;
    snprintf(cur, sizeof cur, "%s/.pipec", top ? "" : start);
    if (is_dir(cur)) {
      snprintf(w->root, sizeof w->root, "%s", start);
      snprintf(w->dir, sizeof w->dir, "%s", cur);
      return true;
    }
    char *slash = strrchr(start, '/');
    if (top || !slash)
      return false;
    slash[slash == start] = 0; /* "/a" -> "/" */
  }
}

/* A new workspace in directory root (resolved first). */
static int create_in(ws *w, const char *root, char *err, size_t errlen) {
  if (!realpath(root, w->root)) {
    snprintf(err, errlen, "cannot resolve %s: %s", root, strerror(errno));
    return -1;
  }
  bool top = strcmp(w->root, "/") == 0;
  snprintf(w->dir, sizeof w->dir, "%s/.pipec", top ? "" : w->root);
  return 0;
}

/* w filled and its directories made: *out = w, 0. Else w freed, -1. */
static int finish(ws *w, ws **out, char *err, size_t errlen) {
  if (ws_fill(w, err, errlen) != 0) {
    free(w);
    return -1;
  }
  *out = w;
  return 0;
}

int ws_find(const char *file, bool create, ws **out, bool *created,
            char *err, size_t errlen) {
  bool made = false;
  if (created)
    *created = false;
  ws *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  const char *home = getenv("PIPEC_HOME");
  char fdir[PATH_MAX];
  if (file) {
    snprintf(fdir, sizeof fdir, "%s", file);
    char *slash = strrchr(fdir, '/');
    if (slash == fdir)
      fdir[1] = 0;
    else if (slash)
      *slash = 0;
    else
      snprintf(fdir, sizeof fdir, ".");
  }
  if (home && *home) {
    if (open_home(w, home, create, &made, err, errlen) != 0) {
      free(w);
      return -1;
    }
  } else if (!(file && search(w, fdir)) && !search(w, ".")) {
    if (!create) {
      if (file)
        snprintf(err, errlen, "no .pipec workspace in %s, the current "
                              "directory or a parent of either (pipec run "
                              "creates one)", fdir);
      else
        snprintf(err, errlen, "no .pipec workspace here or in a parent "
                              "directory (pipec run creates one)");
      free(w);
      return -1;
    }
    char root[PATH_MAX];
    int rc = file ? projpath_root(file, root, sizeof root) : 0;
    if (rc < 0) {
      snprintf(err, errlen, "cannot resolve the directory of %s: %s", file,
               strerror(-rc));
      free(w);
      return -1;
    }
    if (create_in(w, file ? root : ".", err, errlen) != 0) {
      free(w);
      return -1;
    }
    made = !is_dir(w->dir);
  }
  if (finish(w, out, err, errlen) != 0)
    return -1;
  if (created)
    *created = made;
  return 0;
}

int ws_open(const char *start_dir, bool create, ws **out, char *err,
            size_t errlen) {
  ws *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  const char *home = getenv("PIPEC_HOME");
  bool made = false;
  if (home && *home) {
    if (open_home(w, home, create, &made, err, errlen) != 0) {
      free(w);
      return -1;
    }
  } else if (!search(w, start_dir ? start_dir : ".")) {
    if (!create) {
      snprintf(err, errlen, "no .pipec workspace here or in a parent "
                            "directory (pipec run creates one)");
      free(w);
      return -1;
    }
    if (create_in(w, start_dir ? start_dir : ".", err, errlen) != 0) {
      free(w);
      return -1;
    }
  }
  return finish(w, out, err, errlen);
}

void ws_close(ws *w) { free(w); }

const char *ws_root(const ws *w) { return w->root; }
const char *ws_dir(const ws *w) { return w->dir; }
const char *ws_db_path(const ws *w) { return w->db; }
const char *ws_objects_dir(const ws *w) { return w->objects; }
const char *ws_runs_dir(const ws *w) { return w->runs; }
const char *ws_logs_dir(const ws *w) { return w->logs; }
char *ws_quota_file(const ws *w) { return xprintf("%s/quotas.pipe", w->dir); }
char *ws_quota_dir(const ws *w) { return xprintf("%s/quota", w->dir); }

int ws_lock(const ws *w, bool exclusive, bool wait, void (*announce)(void),
            int *fd, char *err, size_t errlen) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/lock", w->dir);
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
    return -e;
  }
  int op = exclusive ? LOCK_EX : LOCK_SH;
  if (flock(f, op | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK && wait) {
      if (announce)
        announce();
      while (flock(f, op) != 0 && errno == EINTR)
        ;
      *fd = f;
      return 0;
    }
    close(f);
    if (e == EWOULDBLOCK)
      return -EWOULDBLOCK;
    snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
    return -e;
  }
  *fd = f;
  return 0;
}
