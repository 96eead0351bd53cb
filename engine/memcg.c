/*
 * memcg.c — memory cgroups for jobs (memcg.h).
 */
#define _GNU_SOURCE
#include "memcg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

struct memcg {
  char *dir;
  char *procs;
  int version;
};

/* ---- finding the hierarchy ---------------------------------------------- */

/* This process's cgroup path in the v1 hierarchy with `memory` (v1) or in
 * the v2 one ("0::"), from /proc/self/cgroup. */
static bool own_path(int version, char *buf, size_t len) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f)
    return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c1 = *c2 = 0;
    const char *ctrls = c1 + 1, *path = c2 + 1;
    if (version == 2 && strcmp(line, "0") == 0 && !*ctrls) {
      found = true;
    } else if (version == 1) {
      for (char *tok = strtok((char *)ctrls, ","); tok && !found;
           tok = strtok(NULL, ","))
        found = strcmp(tok, "memory") == 0;
    }
    if (found)
      snprintf(buf, len, "%s", path);
  }
  fclose(f);
  return found;
}

/* The mount point and root of the hierarchy, from /proc/self/mountinfo:
 * fstype cgroup with the memory option (v1), or cgroup2. */
static bool mount_of(int version, char *mnt, size_t mlen, char *root,
                     size_t rlen) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return false;
  char line[8192];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    char r[4096], m[4096];
    if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2)
      continue;
    const char *sep = strstr(line, " - ");
    if (!sep)
      continue;
    char fstype[64], source[256], opts[1024] = "";
    if (sscanf(sep + 3, "%63s %255s %1023s", fstype, source, opts) < 2)
      continue;
    if (version == 2)
      found = strcmp(fstype, "cgroup2") == 0;
    else if (strcmp(fstype, "cgroup") == 0)
      for (char *tok = strtok(opts, ","); tok && !found;
           tok = strtok(NULL, ","))
        found = strcmp(tok, "memory") == 0;
    if (found) {
      snprintf(mnt, mlen, "%s", m);
      snprintf(root, rlen, "%s", r);
    }
  }
  fclose(f);
  return found;
}

/* The directory of this process's cgroup in that hierarchy. */
static bool own_dir(int version, char *dir, size_t len) {
  char path[4096], mnt[4096], root[4096];
  if (!own_path(version, path, sizeof path) ||
      !mount_of(version, mnt, sizeof mnt, root, sizeof root))
    return false;
  /* a mount of a subtree (a container's): the path below its root */
  size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
  const char *rel = path;
  if (rl && strncmp(path, root, rl) == 0 && (!path[rl] || path[rl] == '/'))
    rel = path + rl;
  int n = snprintf(dir, len, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel);
  return n > 0 && (size_t)n < len;
}

static bool file_has_word(const char *path, const char *word) {
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  char buf[1024];
  bool found = false;
  while (!found && fscanf(f, "%1023s", buf) == 1)
    found = strcmp(buf, word) == 0;
  fclose(f);
  return found;
}

int memcg_probe(memcg_base *b, char *err, size_t errlen) {
  memset(b, 0, sizeof *b);
  char dir[4096], ctl[4200];
  if (own_dir(1, dir, sizeof dir)) {
    b->version = 1;
  } else if (own_dir(2, dir, sizeof dir)) {
    snprintf(ctl, sizeof ctl, "%s/cgroup.subtree_control", dir);
    if (!file_has_word(ctl, "memory")) {
      snprintf(err, errlen, "the memory controller is not delegated to "
               "pipec's cgroup %s (cgroup v2: memory is not in its "
               "cgroup.subtree_control)", dir);
      return -ENOTSUP;
    }
    b->version = 2;
  } else {
    snprintf(err, errlen, "no memory cgroup hierarchy is mounted");
    return -ENOENT;
  }
  if (access(dir, W_OK) != 0) {
    int e = errno;
    snprintf(err, errlen, "not allowed to make memory cgroups in %s: %s",
             dir, strerror(e));
    return -e;
  }
  snprintf(b->dir, sizeof b->dir, "%s", dir);
  return 0;
}

/* ---- one cgroup -------------------------------------------------------------- */

static int write_str(const char *dir, const char *file, const char *text) {
  char *path = xprintf("%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  free(path);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int e = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
  close(fd);
  return e;
}

/* The number after `key` in a "key value" file; -1 if absent. */
static int64_t read_key(const char *dir, const char *file, const char *key) {
  char *path = xprintf("%s/%s", dir, file);
  FILE *f = fopen(path, "re");
  free(path);
  if (!f)
    return -1;
  char k[128];
  long long v;
  int64_t got = -1;
  while (fscanf(f, "%127s %lld", k, &v) == 2)
    if (strcmp(k, key) == 0) {
      got = v;
      break;
    }
  fclose(f);
  return got;
}

static int64_t read_num(const char *dir, const char *file) {
  char *path = xprintf("%s/%s", dir, file);
  FILE *f = fopen(path, "re");
  free(path);
  if (!f)
    return -1;
  long long v;
  int64_t got = fscanf(f, "%lld", &v) == 1 ? v : -1;
  fclose(f);
  return got;
}

int memcg_create(const memcg_base *b, unsigned seq, int64_t limit,
                 memcg **out, char *err, size_t errlen) {
  *out = NULL;
  memcg *m = xcalloc(1, sizeof *m);
  m->version = b->version;
  /* a fresh directory, never one left over (a cgroup still busy with a
   * dying process, a name an earlier target of this process used): its
   * counters (oom_kill, peak) must be this job's alone */
  static unsigned again; /* (one loop thread makes cgroups) */
  int made;
  for (;;) {
    m->dir = again ? xprintf("%s/pipec-%ld-%u.%u", b->dir, (long)getpid(),
                             seq, again)
                   : xprintf("%s/pipec-%ld-%u", b->dir, (long)getpid(), seq);
    if ((made = mkdir(m->dir, 0755)) == 0 || errno != EEXIST)
      break;
    free(m->dir);
    again++;
  }
  m->procs = xprintf("%s/cgroup.procs", m->dir);
  if (made != 0) {
    int e = errno;
    snprintf(err, errlen, "cannot make the memory cgroup %s: %s", m->dir,
             strerror(e));
    memcg_free(m);
    return -e;
  }
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)limit);
  int rc;
  if (b->version == 1) {
    rc = write_str(m->dir, "memory.limit_in_bytes", num);
    /* with swap accounted, memory and swap together: no swap beyond the
     * limit (absent when swap is not accounted) */
    if (rc == 0)
      write_str(m->dir, "memory.memsw.limit_in_bytes", num);
  } else {
    rc = write_str(m->dir, "memory.max", num);
    if (rc == 0)
      write_str(m->dir, "memory.swap.max", "0");
  }
  if (rc != 0) {
    snprintf(err, errlen, "cannot set the memory limit of %s: %s", m->dir,
             strerror(-rc));
    rmdir(m->dir);
    memcg_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

const char *memcg_procs(const memcg *m) { return m->procs; }

bool memcg_oom_killed(const memcg *m) {
  return m->version == 1
             ? read_key(m->dir, "memory.oom_control", "oom_kill") > 0
             : read_key(m->dir, "memory.events", "oom_kill") > 0;
}

int64_t memcg_peak(const memcg *m) {
  int64_t v = read_num(m->dir, m->version == 1 ? "memory.max_usage_in_bytes"
                                               : "memory.peak");
  return v > 0 ? v : 0;
}

/* SIGKILL every process in the cgroup dir; how many there were. */
static int kill_all(const char *dir) {
  char *path = xprintf("%s/cgroup.procs", dir);
  FILE *f = fopen(path, "re");
  free(path);
  if (!f)
    return 0;
  int n = 0;
  long pid;
  while (fscanf(f, "%ld", &pid) == 1) {
    kill((pid_t)pid, SIGKILL);
    n++;
  }
  fclose(f);
  return n;
}

static int remove_dir(const char *dir) {
  kill_all(dir);
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  return -errno;
}

int memcg_remove(memcg *m) {
  int rc = remove_dir(m->dir);
  return rc == -EBUSY || rc == -ENOTEMPTY ? -EBUSY : rc;
}

void memcg_free(memcg *m) {
  if (!m)
    return;
  free(m->dir);
  free(m->procs);
  free(m);
}

void memcg_sweep(const memcg_base *b) {
  DIR *d = opendir(b->dir);
  if (!d)
    return;
  for (struct dirent *de; (de = readdir(d));) {
    long pid;
    int at = 0; /* pipec-PID-SEQ or pipec-PID-SEQ.N (memcg_create) */
    const char *rest;
    if (sscanf(de->d_name, "pipec-%ld-%n", &pid, &at) != 1 || at == 0 ||
        pid <= 0 || !*(rest = de->d_name + at) ||
        strspn(rest, "0123456789.") != strlen(rest))
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue; /* its pipec runs (or is not ours to judge) */
    char *dir = xprintf("%s/%s", b->dir, de->d_name);
    remove_dir(dir);
    free(dir);
  }
  closedir(d);
}
