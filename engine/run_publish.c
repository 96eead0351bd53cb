/*
 * run_publish.c — `publish NODE.PORT = "path"` (DESIGN §3.2): after a run,
 * each published output's bytes are at its path in the project, whether
 * its node ran or was cached.
 *
 * A published file is the user's: a copy (never a link into the store,
 * whose objects must not change), mode 0644. It is written to a temporary
 * name beside it, recorded in the store first (so a killed run's leftover
 * is removed by the next command, snap_clean_rollbacks), and renamed into
 * place: a reader sees the old bytes or the new ones. A directory output
 * is copied as a tree, then swapped in. A file already holding the right
 * bytes (its hash through the file index) is left alone, so a published
 * file deleted or edited by hand comes back on the next run without its
 * node running again. Nothing is written through a symlink: the
 * destination's directory must really be inside the project, and a link
 * at the destination is replaced, not followed.
 */
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
#include "projpath.h"
#include "run_int.h"
#include "snapshot.h"
#include "tree.h"

#define PUBLISH_MARK ".pipec-publish."

/* Copy object h to the new file `to` (0644), fsync'd. */
static int copy_object(runner *R, const hash128 *h, const char *to,
                       char *err, size_t errlen) {
  char from[PATH_MAX];
  obj_path(R->objs, h, from, sizeof from);
  int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) {
    snprintf(err, errlen, "cannot read its object: %s", strerror(errno));
    return -1;
  }
  int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                 0644);
  if (out < 0) {
    snprintf(err, errlen, "cannot create %.400s: %s", to, strerror(errno));
    close(in);
    return -1;
  }
  char buf[1 << 16];
  int rc = 0;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n < 0) {
        snprintf(err, errlen, "cannot read its object: %s", strerror(errno));
        rc = -1;
      }
      break;
    }
    for (ssize_t off = 0; off < n && rc == 0;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        snprintf(err, errlen, "cannot write %.400s: %s", to,
                 strerror(w < 0 ? errno : EIO));
        rc = -1;
      }
      off += w > 0 ? w : 0;
    }
    if (rc)
      break;
  }
  if (rc == 0 && durable_sync(out) != 0) {
    snprintf(err, errlen, "cannot write %.400s: %s", to, strerror(errno));
    rc = -1;
  }
  close(in);
  close(out);
  return rc;
}

/* Is the destination already holding h? */
static bool up_to_date(runner *R, const char *dest, bool dir,
                       const hash128 *h) {
  struct stat sb;
  if (lstat(dest, &sb) != 0 || (dir ? !S_ISDIR(sb.st_mode)
                                    : !S_ISREG(sb.st_mode)))
    return false;
  hash128 have;
  char e[512];
  int rc = dir ? tree_hash_dir(dest, &R->idx, &have, e, sizeof e)
               : hash_file_cached(dest, &R->idx, &have, e, sizeof e);
  return rc == 0 && hash_eq(&have, h);
}

/* Put h at dest through the temporary name tmp (recorded). */
static int write_dest(runner *R, const hash128 *h, bool dir, const char *dest,
                      const char *tmp, char *err, size_t errlen) {
  char e[512];
  if (store_temp_add(R->st, tmp, (int64_t)getpid()) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(R->st));
    return -1;
  }
  fs_rm_rf(tmp); /* a leftover of this very pid (pids come back) */
  int rc;
  if (!dir) {
    rc = copy_object(R, h, tmp, err, errlen);
    if (rc == 0 && rename(tmp, dest) != 0) {
      snprintf(err, errlen, "cannot rename it into place: %s",
               strerror(errno));
      rc = -1;
    }
  } else {
    rc = tree_copy_out(R->objs, h, tmp, e, sizeof e);
    if (rc != 0)
      snprintf(err, errlen, "%.900s", e);
    struct stat sb;
    char old[PATH_MAX + 8];
    snprintf(old, sizeof old, "%s.old", tmp);
    bool had = rc == 0 && lstat(dest, &sb) == 0;
    if (had && store_temp_add(R->st, old, (int64_t)getpid()) != 0)
      had = false;
    /* a directory cannot be renamed over another: move the old one
     * aside first (a reader may see neither for an instant) */
    if (had && rename(dest, old) != 0) {
      snprintf(err, errlen, "cannot move the old %.400s aside: %s", dest,
               strerror(errno));
      rc = -1;
    }
    if (rc == 0 && rename(tmp, dest) != 0) {
      snprintf(err, errlen, "cannot rename it into place: %s",
               strerror(errno));
      if (had)
        rename(old, dest);
      rc = -1;
    }
    if (had) {
      fs_rm_rf(old);
      store_temp_forget(R->st, old);
    }
  }
  if (rc != 0)
    fs_rm_rf(tmp);
  store_temp_forget(R->st, tmp);
  return rc;
}

/* Publish one output: 0 (written or already there; *written says which),
 * or -1 with err. */
static int publish_one(runner *R, const pipec_publish *pb, bool *written,
                       char dest[PATH_MAX], char *err, size_t errlen) {
  const pipec_component *c = run_comp(R, pb->node);
  int k = run_output_index(c, pb->port);
  const hash128 *h = &R->nodes[pb->node].out_hash[k];
  bool dir = c->outputs[k].type == PIPEC_PORT_DIR;
  char parent[PATH_MAX], real[PATH_MAX], tmp[PATH_MAX];
  if (snprintf(dest, PATH_MAX, "%s/%s", R->abs_dir, pb->path) >=
      PATH_MAX - 32) {
    snprintf(err, errlen, "the path is too long");
    return -1;
  }
  memcpy(parent, dest, sizeof parent);
  char *slash = strrchr(parent, '/');
  *slash = '\0';
  const char *base = slash + 1;
  /* the directory it goes into, by real path (links resolved), must be in
   * the project; the name itself, if a link, is replaced */
  int in = projpath_inside(R->root, parent, real, sizeof real);
  if (in != 1) {
    snprintf(err, errlen, "%.300s is outside the project (%.300s): its "
                          "directory really is %.300s",
             pb->path, R->root, in < 0 ? "unreadable" : real);
    return -1;
  }
  if (fs_mkdir_p(parent) != 0) {
    snprintf(err, errlen, "cannot create %.400s: %s", parent,
             strerror(errno));
    return -1;
  }
  *written = false;
  if (up_to_date(R, dest, dir, h))
    return 0;
  if (snprintf(tmp, sizeof tmp, "%s/.%s" PUBLISH_MARK "%d", parent, base,
               (int)getpid()) >= (int)sizeof tmp - 8) {
    snprintf(err, errlen, "the path is too long");
    return -1;
  }
  *written = true;
  return write_dest(R, h, dir, dest, tmp, err, errlen);
}

int run_publish(runner *R) {
  const pipec_pipeline *p = R->p;
  int failed = 0;
  for (uint32_t i = 0; i < p->n_publishes; i++) {
    const pipec_publish *pb = &p->publishes[i];
    if (pb->fanout != PIPEC_NONE || !R->nodes[pb->node].known)
      continue; /* its node did not succeed: the old file stays */
    bool written = false;
    char err[1024] = "";
    char dest[PATH_MAX] = "";
    int rc = publish_one(R, pb, &written, dest, err, sizeof err);
    const pipec_component *c = run_comp(R, pb->node);
    int k = run_output_index(c, pb->port);
    pipec_event ev = {.kind = PIPEC_EV_PUBLISHED,
                      .node = p->nodes[pb->node].name,
                      .port = pb->port,
                      .status = rc != 0  ? "failed"
                                : written ? "written"
                                          : "up to date",
                      .detail = pb->path,
                      .path = dest,
                      .size = R->nodes[pb->node].out_size[k]};
    if (rc != 0) {
      char *msg = xprintf("cannot publish %s.%s to %s: %s",
                          p->nodes[pb->node].name, pb->port, pb->path, err);
      pipec_event note = {.kind = PIPEC_EV_NOTICE, .detail = msg};
      run_emit(R, &note);
      free(msg);
      failed++;
    } else {
      store_published_add(R->st, R->run_id, pb->path, p->nodes[pb->node].name,
                          pb->port, &R->nodes[pb->node].out_hash[k],
                          written);
    }
    run_emit(R, &ev);
  }
  return failed;
}
