/*
 * qgroup.c — quota groups shared by the runs of a workspace (qgroup.h).
 *
 * Each group has a directory of its own under shares/, so a take reads the
 * entries of its group only: at most the group's limit of holds, and the
 * waiters (the scheduler keeps one waiter per group per run: the head of
 * its own queue).
 */
#define _GNU_SOURCE
#include "qgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

struct qgroup_share {
  char *dir;                 /* shares/GROUP */
  char *path;                /* shares/GROUP/H.N */
  char *tmp;                 /* shares/GROUP/.H.N */
  char *what;
  int64_t cpus, memory, gpus;
  int64_t since;             /* ns (CLOCK_REALTIME) it began waiting; 0:
                                not waiting */
  bool on_disk;              /* its file is there (wait or hold) */
  bool held;
  struct qgroup_share *prev, *next;  /* the set's */
};

struct qgroup_set {
  char *dir, *holders, *shares, *lock;
  char id[64];               /* H */
  char *label;
  int holder_fd;
  uint64_t seq;
  qgroup_share *all;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int mkdir_p1(const char *path) {
  return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Write text to tmp and rename it to path: readers see all or nothing. */
static int put_file(const char *tmp, const char *path, const char *text) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  size_t n = strlen(text);
  ssize_t w = write(fd, text, n);
  int e = w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
  if (close(fd) != 0 && !e)
    e = -errno;
  if (!e && rename(tmp, path) != 0)
    e = -errno;
  if (e)
    unlink(tmp);
  return e;
}

static bool holder_alive(const qgroup_set *s, const char *holders,
                         const char *id, bool clean);

int qgroup_open(const char *dir, const char *label, qgroup_set **out,
                char *err, size_t errlen) {
  *out = NULL;
  qgroup_set *s = xcalloc(1, sizeof *s);
  s->holder_fd = -1;
  s->dir = xstrdup(dir);
  s->holders = xprintf("%s/holders", dir);
  s->shares = xprintf("%s/shares", dir);
  s->lock = xprintf("%s/lock", dir);
  s->label = xstrdup(label ? label : "");
  for (char *p = s->label; *p; p++)
    if (*p == '\n')
      *p = ' ';
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
    r = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
  snprintf(s->id, sizeof s->id, "%ld-%016llx", (long)getpid(),
           (unsigned long long)r);
  int rc;
  if ((rc = mkdir_p1(dir)) != 0 || (rc = mkdir_p1(s->holders)) != 0 ||
      (rc = mkdir_p1(s->shares)) != 0) {
    snprintf(err, errlen, "cannot make the quota group directory %s: %s",
             dir, strerror(-rc));
    qgroup_close(s);
    return rc;
  }
  /* what killed processes left of themselves (their shares go when a
   * take scans their group) */
  DIR *d = opendir(s->holders);
  for (struct dirent *de; d && (de = readdir(d));)
    if (de->d_name[0] != '.')
      holder_alive(NULL, s->holders, de->d_name, true);
  if (d)
    closedir(d);
  /* the holder file appears locked: never seen as a dead one */
  char *tmp = xprintf("%s/.%s", s->holders, s->id);
  char *path = xprintf("%s/%s", s->holders, s->id);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  rc = fd < 0 ? -errno : 0;
  if (!rc && flock(fd, LOCK_EX | LOCK_NB) != 0)
    rc = -errno;
  if (!rc) {
    dprintf(fd, "%s\n", s->label);
    if (rename(tmp, path) != 0)
      rc = -errno;
  }
  if (rc) {
    snprintf(err, errlen, "cannot join the quota groups in %s: %s", dir,
             strerror(-rc));
    if (fd >= 0)
      close(fd);
    unlink(tmp);
    free(tmp);
    free(path);
    qgroup_close(s);
    return rc;
  }
  free(tmp);
  free(path);
  s->holder_fd = fd;
  *out = s;
  return 0;
}

void qgroup_close(qgroup_set *s) {
  if (!s)
    return;
  while (s->all)
    qgroup_give(s, s->all);
  if (s->holder_fd >= 0) {
    char *path = xprintf("%s/%s", s->holders, s->id);
    unlink(path);
    free(path);
    close(s->holder_fd);
  }
  free(s->dir);
  free(s->holders);
  free(s->shares);
  free(s->lock);
  free(s->label);
  free(s);
}

/* ---- reading a group's shares -------------------------------------------- */

/* Holders seen in one scan: alive or not. */
typedef struct seen {
  char (*ids)[64];
  bool *alive, *holds;
  uint32_t n, cap;
} seen;

/* Is holder id alive? Its file is locked by a live process (this one
 * always is). With clean, a dead one's file is removed. */
static bool holder_alive(const qgroup_set *s, const char *holders,
                         const char *id, bool clean) {
  if (s && strcmp(id, s->id) == 0)
    return true;
  char *path = xprintf("%s/%s", holders, id);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  bool alive;
  if (fd < 0) {
    alive = errno != ENOENT; /* gone: dead; unreadable: assume it lives */
  } else {
    alive = flock(fd, LOCK_SH | LOCK_NB) != 0;
    if (!alive && clean)
      unlink(path);
    close(fd);
  }
  free(path);
  return alive;
}

static uint32_t seen_find(seen *v, const qgroup_set *s, const char *holders,
                          const char *id, bool clean) {
  for (uint32_t i = 0; i < v->n; i++)
    if (strcmp(v->ids[i], id) == 0)
      return i;
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 16;
    v->ids = xrealloc(v->ids, v->cap * sizeof *v->ids);
    v->alive = xrealloc(v->alive, v->cap * sizeof *v->alive);
    v->holds = xrealloc(v->holds, v->cap * sizeof *v->holds);
  }
  snprintf(v->ids[v->n], sizeof v->ids[v->n], "%s", id);
  v->alive[v->n] = holder_alive(s, holders, id, clean);
  v->holds[v->n] = false;
  return v->n++;
}

/* The sum of a group's live holds, and whether a live waiter is ahead of
 * mine (since, name); mine itself is skipped. */
typedef struct tally {
  int64_t cpus, memory, gpus, jobs;
  uint32_t holders, waiting;
  bool ahead;
} tally;

typedef struct entry {
  bool hold;
  int64_t cpus, memory, gpus, since;
} entry;

static bool read_entry(const char *path, entry *e) {
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  char state[8] = "";
  long long c = 0, m = 0, g = 0, since = 0;
  int got = fscanf(f, "%7s %lld %lld %lld %lld", state, &c, &m, &g, &since);
  fclose(f);
  if (got != 5)
    return false;
  e->hold = strcmp(state, "hold") == 0;
  e->cpus = c, e->memory = m, e->gpus = g, e->since = since;
  return e->hold || strcmp(state, "wait") == 0;
}

/* Scan group directory gdir. s (may be NULL) is the scanning set, mine
 * (may be NULL) its share; with clean, what dead holders left is removed.
 * A missing directory holds nothing. */
static int scan(const qgroup_set *s, const char *holders, const char *gdir,
                const qgroup_share *mine, bool clean, tally *t) {
  memset(t, 0, sizeof *t);
  DIR *d = opendir(gdir);
  if (!d)
    return errno == ENOENT ? 0 : -errno;
  seen v = {0};
  const char *mine_name = mine ? strrchr(mine->path, '/') + 1 : NULL;
  for (struct dirent *de; (de = readdir(d));) {
    const char *name = de->d_name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
      continue;
    bool tmp = name[0] == '.';
    const char *base = name + tmp;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || (size_t)(dot - base) >= 64)
      continue;
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)(dot - base), base);
    uint32_t h = seen_find(&v, s, holders, id, clean);
    if (!v.alive[h]) {
      if (clean) {
        char *p = xprintf("%s/%s", gdir, name);
        unlink(p);
        free(p);
      }
      continue;
    }
    if (tmp || (mine_name && strcmp(name, mine_name) == 0))
      continue;
    char *p = xprintf("%s/%s", gdir, name);
    entry e;
    bool ok = read_entry(p, &e);
    free(p);
    if (!ok)
      continue; /* removed meanwhile */
    if (e.hold) {
      t->cpus += e.cpus;
      t->memory += e.memory;
      t->gpus += e.gpus;
      t->jobs += 1;
      if (!v.holds[h])
        t->holders++;
      v.holds[h] = true;
    } else {
      t->waiting++;
      if (mine && mine->since &&
          (e.since < mine->since ||
           (e.since == mine->since && strcmp(name, mine_name) < 0)))
        t->ahead = true;
    }
  }
  closedir(d);
  free(v.ids);
  free(v.alive);
  free(v.holds);
  return 0;
}

/* ---- taking and giving ----------------------------------------------------- */

static bool fits(const pipec_quota *g, const tally *t, const qgroup_share *sh) {
  return (g->cpus < 0 || t->cpus + sh->cpus <= g->cpus) &&
         (g->memory < 0 || t->memory + sh->memory <= g->memory) &&
         (g->gpus < 0 || t->gpus + sh->gpus <= g->gpus) &&
         (g->jobs < 0 || t->jobs + 1 <= g->jobs);
}

static int write_share(const qgroup_set *s, qgroup_share *sh, bool hold) {
  char *text = xprintf("%s %lld %lld %lld %lld\n%s: %s\n",
                       hold ? "hold" : "wait", (long long)sh->cpus,
                       (long long)sh->memory, (long long)sh->gpus,
                       (long long)sh->since, s->label, sh->what);
  int rc = put_file(sh->tmp, sh->path, text);
  free(text);
  if (rc == 0)
    sh->on_disk = true;
  return rc;
}

static qgroup_share *share_new(qgroup_set *s, const pipec_quota *g,
                               const pipec_resources *r, const char *what) {
  qgroup_share *sh = xcalloc(1, sizeof *sh);
  sh->dir = xprintf("%s/%s", s->shares, g->name);
  uint64_t n = ++s->seq;
  sh->path = xprintf("%s/%s.%llu", sh->dir, s->id, (unsigned long long)n);
  sh->tmp = xprintf("%s/.%s.%llu", sh->dir, s->id, (unsigned long long)n);
  sh->what = xstrdup(what ? what : "");
  for (char *p = sh->what; *p; p++)
    if (*p == '\n')
      *p = ' ';
  /* counted as the target quotas count them (quota.h) */
  sh->cpus = g->cpus >= 0 ? (r->cpus > 0 ? r->cpus : 1) : 0;
  sh->memory = g->memory >= 0 ? r->memory : 0;
  sh->gpus = g->gpus >= 0 ? r->gpus : 0;
  sh->next = s->all;
  if (s->all)
    s->all->prev = sh;
  s->all = sh;
  return sh;
}

int qgroup_take(qgroup_set *s, const pipec_quota *g, const pipec_resources *r,
                const char *what, qgroup_share **shp, char *err,
                size_t errlen) {
  qgroup_share *sh = *shp;
  if (!sh)
    sh = *shp = share_new(s, g, r, what);
  if (sh->held)
    return QGROUP_TAKEN;
  int lfd = open(s->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot open %s: %s", s->lock, strerror(e));
    return -e;
  }
  if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(lfd);
    if (e == EWOULDBLOCK || e == EINTR)
      return QGROUP_WAIT; /* another process is taking one: next time */
    snprintf(err, errlen, "cannot lock %s: %s", s->lock, strerror(e));
    return -e;
  }
  int rc = mkdir_p1(sh->dir);
  tally t;
  if (!sh->since) /* its place in the queue: now */
    sh->since = now_ns();
  if (rc == 0)
    rc = scan(s, s->holders, sh->dir, sh, true, &t);
  if (rc == 0) {
    if (fits(g, &t, sh) && !t.ahead) {
      rc = write_share(s, sh, true);
      if (rc == 0) {
        sh->held = true;
        rc = QGROUP_TAKEN;
      }
    } else if (!sh->on_disk) {
      rc = write_share(s, sh, false);
    }
  }
  if (rc < 0)
    snprintf(err, errlen, "quota group '%s': cannot update %s: %s", g->name,
             sh->dir, strerror(-rc));
  close(lfd); /* drops the lock */
  return rc;
}

void qgroup_withdraw(qgroup_set *s, qgroup_share *sh) {
  (void)s;
  if (!sh || sh->held)
    return;
  if (sh->on_disk)
    unlink(sh->path);
  sh->on_disk = false;
  sh->since = 0;
}

void qgroup_give(qgroup_set *s, qgroup_share *sh) {
  if (!sh)
    return;
  if (sh->on_disk)
    unlink(sh->path);
  if (sh->prev)
    sh->prev->next = sh->next;
  else
    s->all = sh->next;
  if (sh->next)
    sh->next->prev = sh->prev;
  free(sh->dir);
  free(sh->path);
  free(sh->tmp);
  free(sh->what);
  free(sh);
}

int qgroup_usage(const char *dir, const char *name, qgroup_use *u, char *err,
                 size_t errlen) {
  memset(u, 0, sizeof *u);
  char *holders = xprintf("%s/holders", dir);
  char *gdir = xprintf("%s/shares/%s", dir, name);
  tally t;
  int rc = scan(NULL, holders, gdir, NULL, false, &t);
  if (rc != 0)
    snprintf(err, errlen, "cannot read %s: %s", gdir, strerror(-rc));
  else
    *u = (qgroup_use){t.cpus, t.memory, t.gpus, t.jobs, t.holders, t.waiting};
  free(holders);
  free(gdir);
  return rc;
}
