/*
 * workspace.c — finding and creating `.pipec/` (workspace.h).
 *
 * Directories are made 0755 (files, made by SQLite and objstore, 0644),
 * both further narrowed by the umask: nothing here is world-writable.
 * Every path is absolute (realpath), so a workspace found from a
 * subdirectory names the same files as one found from its root.
 */
#include "workspace.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int ws_open(const char *start_dir, bool create, ws **out, char *err,
            size_t errlen) {
  ws *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  const char *home = getenv("PIPEC_HOME");
  char start[PATH_MAX];
  if (home && *home) {
    /* PIPEC_HOME is the .pipec directory itself; the project is the cwd */
    if (!create && !is_dir(home)) {
      snprintf(err, errlen, "PIPEC_HOME=%s does not exist", home);
      free(w);
      return -1;
    }
    if (mkdir(home, 0755) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create %s: %s", home, strerror(errno));
      free(w);
      return -1;
    }
    if (!realpath(home, w->dir) || !getcwd(w->root, sizeof w->root)) {
      snprintf(err, errlen, "cannot resolve %s: %s", home, strerror(errno));
      free(w);
      return -1;
    }
    goto found;
  }
  if (!realpath(start_dir ? start_dir : ".", start)) {
    snprintf(err, errlen, "cannot resolve %s: %s",
             start_dir ? start_dir : ".", strerror(errno));
    free(w);
    return -1;
  }
  /* start, its parent, ... up to and including "/" */
  for (char cur[PATH_MAX + 8];;) {
    bool top = strcmp(start, "/") == 0;
    snprintf(w->root, sizeof w->root, "%s", start);
    snprintf(cur, sizeof cur, "%s/.pipec", top ? "" : start);
    if (is_dir(cur)) {
      snprintf(w->dir, sizeof w->dir, "%s", cur);
      goto found;
    }
    char *slash = strrchr(start, '/');
    if (top || !slash)
      break;
    slash[slash == start] = 0; /* "/a" -> "/" */
  }
  if (!create) {
    snprintf(err, errlen, "no .pipec workspace here or in a parent "
                          "directory (pipec run creates one)");
    free(w);
    return -1;
  }
  if (!realpath(start_dir ? start_dir : ".", w->root)) {
    snprintf(err, errlen, "cannot resolve the current directory: %s",
             strerror(errno));
    free(w);
    return -1;
  }
  snprintf(w->dir, sizeof w->dir, "%s/.pipec", w->root);
found:
  if (ws_fill(w, err, errlen) != 0) {
    free(w);
    return -1;
  }
  *out = w;
  return 0;
}

void ws_close(ws *w) { free(w); }

const char *ws_root(const ws *w) { return w->root; }
const char *ws_dir(const ws *w) { return w->dir; }
const char *ws_db_path(const ws *w) { return w->db; }
const char *ws_objects_dir(const ws *w) { return w->objects; }
const char *ws_runs_dir(const ws *w) { return w->runs; }
const char *ws_logs_dir(const ws *w) { return w->logs; }
