/*
 * sharedcache.c — shared caches: configuration, entries, and the two
 * kinds of store behind them, a directory and a directory over ssh
 * (sharedcache.h).
 *
 * Both kinds walk an entry the same way (pull_walk): its outputs, then
 * the files and subtrees of each tree output, level by level; what the
 * local store lacks is fetched in one batch per level (a directory: one
 * copy per object; ssh: one `tar` stream), every object re-hashed as it
 * enters the local store (obj_put's expect).
 *
 * Over ssh the remote side needs only a POSIX shell, tar, find, mkdir,
 * mktemp, chmod, mv and cat: no pipec.
 */
#define _GNU_SOURCE
#include "sharedcache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "durable.h"
#include "fsutil.h"
#include "shbuf.h"
#include "sshcmd.h"
#include "tree.h"
#include "wsconfig.h"

extern char **environ;

#define SHC_MAGIC "pipec shared cache 1\n"
#define ENTRY_MAGIC "pipec cache entry 1\n"
#define ENTRY_MAX (64u << 20)       /* a larger entry file is not ours */
#define SSH_TIMEOUT_DEFAULT 15

/* ---- configuration -------------------------------------------------------- */

static bool valid_name(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
      return false;
  return true;
}

/* Fill c's kind and where from location (a path, relative to base, or an
 * ssh:// URL). 0, or -1 with err. */
static int parse_location(shc_spec *c, const char *location,
                          const char *base, char *err, size_t errlen) {
  c->location = xstrdup(location);
  if (!*location) {
    snprintf(err, errlen, "the cache's path is empty");
    return -1;
  }
  if (strncmp(location, "ssh://", 6) != 0) {
    if (strstr(location, "://")) {
      snprintf(err, errlen, "'%.200s' is not a directory or an ssh:// URL "
                            "(ssh://[USER@]HOST[:PORT]/PATH)", location);
      return -1;
    }
    c->kind = SHC_DIR;
    size_t n = strlen(location);
    while (n > 1 && location[n - 1] == '/')
      n--;
    c->dir = location[0] == '/' ? xstrndup(location, n)
                                : xprintf("%s/%.*s", base, (int)n, location);
    return 0;
  }
  c->kind = SHC_SSH;
  c->connect_timeout = SSH_TIMEOUT_DEFAULT;
  const char *a = location + 6, *slash = strchr(a, '/');
  if (!slash || slash == a || !slash[1]) {
    snprintf(err, errlen, "'%.200s' needs a host and a path: "
                          "ssh://[USER@]HOST[:PORT]/PATH", location);
    return -1;
  }
  char *auth = xstrndup(a, (size_t)(slash - a));
  char *at = strrchr(auth, '@'), *host = auth;
  if (at) {
    *at = 0;
    c->user = xstrdup(auth);
    host = at + 1;
  }
  char *colon = strrchr(host, ':');
  if (colon) {
    char *end;
    long long port = strtoll(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) {
      snprintf(err, errlen, "'%.200s': the port must be a number from 1 to "
                            "65535", location);
      free(auth);
      return -1;
    }
    c->port = port;
    *colon = 0;
  }
  if (!*host || (c->user && !*c->user) || strpbrk(host, " '\"\\$`")) {
    snprintf(err, errlen, "'%.200s': expected ssh://[USER@]HOST[:PORT]/PATH",
             location);
    free(auth);
    return -1;
  }
  c->host = xstrdup(host);
  free(auth);
  /* /abs/path, or /~/path relative to the remote home */
  const char *path = slash;
  if (strncmp(path, "/~/", 3) == 0)
    path += 3;
  else if (strcmp(path, "/~") == 0)
    path = ".";
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  c->dir = xstrndup(path, n);
  if (!*c->dir || strchr(c->dir, '\n')) {
    snprintf(err, errlen, "'%.200s': the remote path is empty or has a "
                          "newline", location);
    return -1;
  }
  return 0;
}

static void spec_free(shc_spec *c) {
  free(c->name);
  free(c->location);
  free(c->origin);
  free(c->dir);
  free(c->host);
  free(c->user);
}

void shc_list_free(shc_list *l) {
  for (uint32_t i = 0; i < l->n; i++)
    spec_free(&l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

const shc_spec *shc_find(const shc_list *l, const char *name) {
  for (uint32_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].name, name) == 0)
      return &l->v[i];
  return NULL;
}

static shc_spec *list_add(shc_list *l) {
  l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
  shc_spec *c = &l->v[l->n++];
  memset(c, 0, sizeof *c);
  return c;
}

/* PIPEC_CACHE: items separated by ';', each [NAME=]LOCATION[?readonly]. */
static int from_env(const char *env, shc_list *l, char *err, size_t errlen) {
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd))
    snprintf(cwd, sizeof cwd, ".");
  char *copy = xstrdup(env);
  int rc = 0;
  for (char *next = copy; next && rc == 0;) {
    char *item = strsep(&next, ";");
    while (*item == ' ')
      item++;
    size_t n = strlen(item);
    while (n && item[n - 1] == ' ')
      item[--n] = 0;
    if (!*item)
      continue;
    bool ro = false;
    if (n > 9 && strcmp(item + n - 9, "?readonly") == 0) {
      ro = true;
      item[n - 9] = 0;
    }
    char *eq = strchr(item, '='), *name = NULL, *loc = item;
    if (eq && eq > item && !memchr(item, '/', (size_t)(eq - item))) {
      name = xstrndup(item, (size_t)(eq - item));
      loc = eq + 1;
      if (!valid_name(name)) {
        snprintf(err, errlen, "PIPEC_CACHE: '%.100s' is not a cache name "
                              "(letters, digits, '_', '-', '.')", name);
        free(name);
        rc = -1;
        break;
      }
    }
    if (!name) { /* the last part of the path */
      const char *p = loc + strlen(loc);
      while (p > loc && p[-1] == '/')
        p--;
      const char *b = p;
      while (b > loc && b[-1] != '/')
        b--;
      name = xstrndup(b, (size_t)(p - b));
      for (char *q = name; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' &&
            *q != '.')
          *q = '_';
      if (!*name || strcmp(name, "~") == 0) {
        free(name);
        name = xstrdup("shared");
      }
      char *base = name;
      for (int k = 2; shc_find(l, name); k++) {
        if (name != base)
          free(name);
        name = xprintf("%s%d", base, k);
      }
      if (name != base)
        free(base);
    }
    if (shc_find(l, name)) {
      snprintf(err, errlen, "PIPEC_CACHE: two caches are named '%s'", name);
      free(name);
      rc = -1;
      break;
    }
    shc_spec *c = list_add(l);
    c->name = name;
    c->readonly = ro;
    c->origin = xstrdup("PIPEC_CACHE");
    char e[512];
    if (parse_location(c, loc, cwd, e, sizeof e) != 0) {
      snprintf(err, errlen, "PIPEC_CACHE: %s", e);
      rc = -1;
    }
  }
  free(copy);
  return rc;
}

static int from_config(const char *ws_dir, shc_list *l, char *err,
                       size_t errlen) {
  char *path = xprintf("%s/config", ws_dir);
  /* relative paths are the project's: .pipec's parent */
  char *root = xstrdup(ws_dir);
  char *slash = strrchr(root, '/');
  if (slash && slash != root)
    *slash = 0;
  wscfg cfg;
  int rc = wscfg_load(path, &cfg, err, errlen);
  for (uint32_t i = 0; rc == 0 && i < cfg.n_sections; i++) {
    const wscfg_section *s = &cfg.sections[i];
    if (strcmp(s->kind, "cache") != 0) {
      snprintf(err, errlen, "%s:%u: unknown section [%s \"%s\"] (known: "
                            "[cache \"NAME\"])", path, s->line, s->kind,
               s->name);
      rc = -1;
      break;
    }
    if (!valid_name(s->name)) {
      snprintf(err, errlen, "%s:%u: '%s' is not a cache name (letters, "
                            "digits, '_', '-', '.')", path, s->line, s->name);
      rc = -1;
      break;
    }
    if (shc_find(l, s->name)) {
      snprintf(err, errlen, "%s:%u: a second cache named '%s'", path,
               s->line, s->name);
      rc = -1;
      break;
    }
    shc_spec *c = list_add(l);
    c->name = xstrdup(s->name);
    c->origin = xprintf("%s:%u", path, s->line);
    const wscfg_entry *loc = NULL;
    long long timeout = 0;
    for (uint32_t k = 0; rc == 0 && k < s->n_entries; k++) {
      const wscfg_entry *en = &s->entries[k];
      if (strcmp(en->key, "path") == 0) {
        loc = en;
      } else if (strcmp(en->key, "readonly") == 0) {
        if (wscfg_bool(en->value, &c->readonly) != 0) {
          snprintf(err, errlen, "%s:%u: readonly must be true or false, not "
                                "'%.100s'", path, en->line, en->value);
          rc = -1;
        }
      } else if (strcmp(en->key, "connect_timeout") == 0) {
        char *end;
        timeout = strtoll(en->value, &end, 10);
        if (end == en->value || (*end && strcmp(end, "s") != 0) ||
            timeout < 1) {
          snprintf(err, errlen, "%s:%u: connect_timeout must be a number of "
                                "seconds (\"15\" or \"15s\"), not '%.100s'",
                   path, en->line, en->value);
          rc = -1;
        }
      } else {
        snprintf(err, errlen, "%s:%u: unknown key '%.100s' in [cache \"%s\"] "
                              "(known: path, readonly, connect_timeout)",
                 path, en->line, en->key, s->name);
        rc = -1;
      }
    }
    if (rc != 0)
      break;
    if (!loc) {
      snprintf(err, errlen, "%s:%u: [cache \"%s\"] has no path (a directory "
                            "or ssh://HOST/PATH)", path, s->line, s->name);
      rc = -1;
      break;
    }
    char e[512];
    if (parse_location(c, loc->value, root, e, sizeof e) != 0) {
      snprintf(err, errlen, "%s:%u: %s", path, loc->line, e);
      rc = -1;
      break;
    }
    if (timeout && c->kind == SHC_SSH)
      c->connect_timeout = timeout;
  }
  wscfg_free(&cfg);
  free(root);
  free(path);
  return rc;
}

int shc_configure(const char *ws_dir, shc_list *out, char *err,
                  size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *env = getenv("PIPEC_CACHE");
  int rc = env ? from_env(env, out, err, errlen)
               : from_config(ws_dir, out, err, errlen);
  if (rc != 0)
    shc_list_free(out);
  return rc;
}

/* ---- entries -------------------------------------------------------------- */

char *shc_entry_format(const shc_entry *e, size_t *len) {
  shbuf b = {0};
  char hex[HASH_HEX_LEN + 1], line[512];
  shbuf_add(&b, ENTRY_MAGIC);
  hash_hex(&e->key, hex);
  snprintf(line, sizeof line, "key %s\n", hex);
  shbuf_add(&b, line);
  for (uint32_t i = 0; i < e->n_outs; i++) {
    hash_hex(&e->outs[i].hash, hex);
    snprintf(line, sizeof line, "out %c %s %llu ", e->outs[i].tree ? 'd' : 'f',
             hex, (unsigned long long)e->outs[i].size);
    shbuf_add(&b, line);
    shbuf_add(&b, e->outs[i].port);
    shbuf_add(&b, "\n");
  }
  for (uint32_t i = 0; i < e->n_inputs; i++) {
    hash_hex(&e->inputs[i], hex);
    snprintf(line, sizeof line, "in %s\n", hex);
    shbuf_add(&b, line);
  }
  hash128 sum = hash_buf(b.s, b.len);
  hash_hex(&sum, hex);
  snprintf(line, sizeof line, "end %s\n", hex);
  shbuf_add(&b, line);
  *len = b.len;
  return b.s;
}

void shc_entry_free(shc_entry *e) {
  for (uint32_t i = 0; i < e->n_outs; i++)
    free(e->outs[i].port);
  free(e->outs);
  free(e->inputs);
  memset(e, 0, sizeof *e);
}

static bool valid_port(const char *s, size_t n) {
  if (!n || n > 200)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' &&
        s[i] != '.')
      return false;
  return true;
}

int shc_entry_parse(const char *text, size_t len, const hash128 *want,
                    shc_entry *e, char *err, size_t errlen) {
  memset(e, 0, sizeof *e);
  const char *p = text, *end = text + len;
  size_t ml = strlen(ENTRY_MAGIC);
  if (len < ml || memcmp(text, ENTRY_MAGIC, ml) != 0) {
    snprintf(err, errlen, "not a pipec cache entry (no '%.*s' line)",
             (int)ml - 1, ENTRY_MAGIC);
    return -EINVAL;
  }
  p += ml;
  bool have_key = false, done = false;
  const char *why = NULL;
  uint32_t line = 1;
  while (p < end && !why) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) {
      why = "its last line is cut short";
      break;
    }
    line++;
    size_t n = (size_t)(nl - p);
    hash128 h;
    if (n == 4 + HASH_HEX_LEN && memcmp(p, "key ", 4) == 0 && !have_key &&
        hash_from_hex(p + 4, &h) == 0) {
      e->key = h;
      have_key = true;
    } else if (n > 4 && memcmp(p, "in ", 3) == 0) {
      if (n != 3 + HASH_HEX_LEN || hash_from_hex(p + 3, &h) != 0) {
        why = "an 'in' line without a hash";
        break;
      }
      e->inputs = xrealloc(e->inputs, (e->n_inputs + 1) * sizeof *e->inputs);
      e->inputs[e->n_inputs++] = h;
    } else if (n > 6 && memcmp(p, "out ", 4) == 0) {
      /* out K HASH SIZE PORT */
      const char *q = p + 4;
      char kind = *q;
      if ((kind != 'f' && kind != 'd') || q[1] != ' ' ||
          (size_t)(nl - q) < 3 + HASH_HEX_LEN ||
          hash_from_hex(q + 2, &h) != 0 || q[2 + HASH_HEX_LEN] != ' ') {
        why = "an 'out' line that does not read 'out f|d HASH SIZE PORT'";
        break;
      }
      q += 3 + HASH_HEX_LEN;
      char *se;
      errno = 0;
      unsigned long long size = strtoull(q, &se, 10);
      if (se == q || errno || *se != ' ' || !isdigit((unsigned char)*q) ||
          !valid_port(se + 1, (size_t)(nl - se - 1))) {
        why = "an 'out' line with a bad size or port name";
        break;
      }
      e->outs = xrealloc(e->outs, (e->n_outs + 1) * sizeof *e->outs);
      e->outs[e->n_outs++] =
          (shc_output){.port = xstrndup(se + 1, (size_t)(nl - se - 1)),
                       .hash = h,
                       .size = size,
                       .tree = kind == 'd'};
    } else if (n == 4 + HASH_HEX_LEN && memcmp(p, "end ", 4) == 0 &&
               hash_from_hex(p + 4, &h) == 0) {
      hash128 sum = hash_buf(text, (size_t)(p - text));
      if (!hash_eq(&sum, &h)) {
        why = "its 'end' check does not match its text (changed or cut)";
        break;
      }
      if (nl + 1 != end) {
        why = "text after its 'end' line";
        break;
      }
      done = true;
    } else {
      why = "a line it does not know";
      break;
    }
    p = nl + 1;
  }
  if (!why && !done)
    why = "no 'end' line (cut short)";
  if (!why && !have_key)
    why = "no 'key' line";
  if (!why && want && !hash_eq(want, &e->key))
    why = "it is the entry of another key";
  if (!why && !e->n_outs)
    why = "no outputs";
  if (why) {
    snprintf(err, errlen, "a malformed entry (line %u: %s)", line, why);
    shc_entry_free(e);
    return -EINVAL;
  }
  return 0;
}

void shc_pull_result_free(shc_pull_result *r) {
  shc_entry_free(&r->entry);
  free(r->objs);
  memset(r, 0, sizeof *r);
}

/* ---- paths ------------------------------------------------------------------- */

/* "ab/cdef..." of a hash (an object's path below objects/). */
static void obj_rel(const hash128 *h, char out[HASH_HEX_LEN + 2]) {
  char hex[HASH_HEX_LEN + 1];
  hash_hex(h, hex);
  snprintf(out, HASH_HEX_LEN + 2, "%.2s/%s", hex, hex + 2);
}

/* "ab/abcdef..." of a key (an entry's path below entries/). */
static void entry_rel(const hash128 *k, char out[HASH_HEX_LEN + 4]) {
  char hex[HASH_HEX_LEN + 1];
  hash_hex(k, hex);
  snprintf(out, HASH_HEX_LEN + 4, "%.2s/%s", hex, hex);
}

static bool keep_any(void *ctx, const hash128 *h, const hash_stat *st) {
  (void)ctx, (void)h, (void)st;
  return true;
}

static char *hexs(const hash128 *h, char out[HASH_HEX_LEN + 1]) {
  hash_hex(h, out);
  return out;
}

/* ---- running a shell line (ssh, tar) ------------------------------------------ */

typedef struct sh_out {
  char *out;                 /* stdout (malloc'd, NUL-terminated) */
  size_t len;
  char err[1024];            /* the first part of stderr */
  int status;                /* exit code, 128+N for signal N */
} sh_out;

/* Run `sh -c line` with stdin from in_path (NULL: /dev/null), in a process
 * group of its own, with default signal handling; wait for it. 0 and *o,
 * or a negative errno if it cannot be started. */
static int run_sh(const char *line, const char *in_path, sh_out *o) {
  memset(o, 0, sizeof *o);
  int op[2] = {-1, -1}, ep[2] = {-1, -1};
  int in = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -errno;
  if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
    int e = -errno;
    close(in);
    for (int i = 0; i < 2; i++) {
      if (op[i] >= 0)
        close(op[i]);
      if (ep[i] >= 0)
        close(ep[i]);
    }
    return e;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, op[1], 1);
  posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                    POSIX_SPAWN_SETPGROUP);
  char *argv[] = {"sh", "-c", (char *)line, NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in);
  close(op[1]);
  close(ep[1]);
  if (rc != 0) {
    close(op[0]);
    close(ep[0]);
    return -rc;
  }
  size_t cap = 4096, elen = 0;
  o->out = xmalloc(cap);
  struct pollfd pf[2] = {{.fd = op[0], .events = POLLIN},
                         {.fd = ep[0], .events = POLLIN}};
  int open_n = 2;
  char buf[8192];
  while (open_n > 0) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (pf[i].fd < 0 || !pf[i].revents)
        continue;
      ssize_t n = read(pf[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        close(pf[i].fd);
        pf[i].fd = -1;
        open_n--;
        continue;
      }
      if (i == 0) {
        if (o->len + (size_t)n + 1 > cap) {
          while (o->len + (size_t)n + 1 > cap)
            cap *= 2;
          o->out = xrealloc(o->out, cap);
        }
        memcpy(o->out + o->len, buf, (size_t)n);
        o->len += (size_t)n;
      } else if (elen + 1 < sizeof o->err) {
        size_t k = (size_t)n < sizeof o->err - 1 - elen
                       ? (size_t)n
                       : sizeof o->err - 1 - elen;
        memcpy(o->err + elen, buf, k);
        elen += k;
      }
    }
  }
  for (int i = 0; i < 2; i++)
    if (pf[i].fd >= 0)
      close(pf[i].fd);
  o->out[o->len] = 0;
  o->err[elen] = 0;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return 0;
}

/* The first line of what a failed command said (its stderr), or a plain
 * account of its exit. */
static void sh_said(const sh_out *o, char *buf, size_t len) {
  const char *e = o->err;
  /* the last non-empty line says most (ssh: "Connection refused") */
  const char *best = NULL;
  for (const char *p = e; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n && strncmp(p, "tar: ", 5) != 0)
      best = p;
    p += n + (nl ? 1 : 0);
  }
  if (best) {
    size_t n = strcspn(best, "\r\n");
    snprintf(buf, len, "%.*s", (int)(n < 300 ? n : 300), best);
  } else {
    snprintf(buf, len, "exit status %d", o->status);
  }
}

static void sh_out_free(sh_out *o) {
  free(o->out);
  o->out = NULL;
}

/* The ssh client's words for cache c, quoted, and a space. */
static int ssh_words(const shc_spec *c, shbuf *b, char *err, size_t errlen) {
  char ctl[64];
  int rc = sshcmd_ctl_dir(ctl, sizeof ctl, err, errlen);
  if (rc != 0)
    return rc;
  sshcmd_host h = {.host = c->host,
                   .user = c->user,
                   .port = c->port,
                   .connect_timeout = c->connect_timeout};
  size_t n;
  char **v = sshcmd_argv(&h, ctl, NULL, NULL, 0, &n);
  for (size_t i = 0; i < n; i++) {
    shbuf_quote(b, v[i]);
    shbuf_add(b, " ");
    free(v[i]);
  }
  free(v);
  return 0;
}

/* Run `ssh HOST 'cd DIR || exit 4; script'`, stdin from in_path; with
 * tail (a local shell command), ssh's stdout goes into tail instead of
 * being captured, and the status is ssh's unless that is 0, then tail's
 * (rcfile: a scratch file for ssh's status). 0 and *o, or a negative errno
 * (with err) if nothing could be started. */
static int ssh_run(const shc_spec *c, const char *script, const char *in_path,
                   const char *tail, const char *rcfile, sh_out *o,
                   char *err, size_t errlen) {
  shbuf line = {0};
  shbuf_add(&line, tail ? "{ " : "");
  int rc = ssh_words(c, &line, err, errlen);
  if (rc != 0) {
    free(line.s);
    return rc;
  }
  shbuf body = {0};
  shbuf_add(&body, "cd ");
  shbuf_quote(&body, c->dir);
  shbuf_add(&body, " 2>/dev/null || exit 4; ");
  shbuf_add(&body, script);
  shbuf_quote(&line, body.s);
  free(body.s);
  if (tail) {
    shbuf_add(&line, "; echo $? > ");
    shbuf_quote(&line, rcfile);
    shbuf_add(&line, "; } | ");
    shbuf_add(&line, tail);
    shbuf_add(&line, "; t=$?; r=$(cat ");
    shbuf_quote(&line, rcfile);
    shbuf_add(&line, "); if [ \"$r\" != 0 ]; then exit \"$r\"; fi; exit $t");
  }
  rc = run_sh(line.s, in_path, o);
  free(line.s);
  if (rc != 0)
    snprintf(err, errlen, "cannot start ssh: %s", strerror(-rc));
  return rc;
}

/* What the cache's scripts' exit codes mean: 4 no such directory, 255 the
 * ssh client failed. Fills why; returns the errno to report. */
static int ssh_failure(const shc_spec *c, const sh_out *o, const char *what,
                       char *why, size_t whylen) {
  char said[400];
  sh_said(o, said, sizeof said);
  if (o->status == 4) {
    snprintf(why, whylen, "%s has no directory %s", c->host, c->dir);
    return -ENOENT;
  }
  if (o->status == 255) {
    snprintf(why, whylen, "cannot reach %s through ssh: %s", c->host, said);
    return -EHOSTUNREACH;
  }
  snprintf(why, whylen, "%s on %s failed: %s", what, c->host, said);
  return -EIO;
}

/* ---- the directory kind ---------------------------------------------------------- */

static int dir_check(const shc_spec *c, char *why, size_t whylen) {
  struct stat sb;
  if (stat(c->dir, &sb) != 0) {
    int e = errno;
    snprintf(why, whylen, "cannot use %s: %s", c->dir, strerror(e));
    return -e;
  }
  if (!S_ISDIR(sb.st_mode)) {
    snprintf(why, whylen, "%s is not a directory", c->dir);
    return -ENOTDIR;
  }
  return 0;
}

/* The entry text of key in c: 1 (*text, *len), 0 none, < 0 why. */
static int read_entry(const shc_spec *c, const hash128 *key, char **text,
                      size_t *len, char *why, size_t whylen) {
  char rel[HASH_HEX_LEN + 4];
  entry_rel(key, rel);
  if (c->kind == SHC_DIR) {
    int rc = dir_check(c, why, whylen);
    if (rc != 0)
      return rc;
    char *path = xprintf("%s/entries/%s", c->dir, rel);
    struct stat sb;
    if (lstat(path, &sb) != 0) {
      int e = errno;
      free(path);
      if (e == ENOENT || e == ENOTDIR)
        return 0;
      snprintf(why, whylen, "cannot read its entry: %s", strerror(e));
      return -e;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > ENTRY_MAX) {
      free(path);
      snprintf(why, whylen, "its entry is not a small regular file");
      return SHC_BAD;
    }
    *text = fs_read_all(path, len);
    int e = errno;
    free(path);
    if (!*text) {
      if (e == ENOENT)
        return 0;
      snprintf(why, whylen, "cannot read its entry: %s", strerror(e));
      return -e;
    }
    return 1;
  }
  shbuf s = {0};
  shbuf_add(&s, "f=entries/");
  shbuf_add(&s, rel);
  shbuf_add(&s, "; [ -f \"$f\" ] || exit 3; exec cat \"$f\"");
  sh_out o;
  char err[512];
  int rc = ssh_run(c, s.s, NULL, NULL, NULL, &o, err, sizeof err);
  free(s.s);
  if (rc != 0) {
    snprintf(why, whylen, "%s", err);
    return rc;
  }
  if (o.status == 3) {
    sh_out_free(&o);
    return 0;
  }
  if (o.status != 0) {
    rc = ssh_failure(c, &o, "reading an entry", why, whylen);
    sh_out_free(&o);
    return rc;
  }
  if (o.len > ENTRY_MAX) {
    sh_out_free(&o);
    snprintf(why, whylen, "its entry is too large to be one");
    return SHC_BAD;
  }
  *text = o.out;
  *len = o.len;
  return 1;
}

/* Remove a damaged object from a writable cache (best effort). */
static void drop_object(const shc_spec *c, const hash128 *h) {
  if (c->readonly)
    return;
  char rel[HASH_HEX_LEN + 2];
  obj_rel(h, rel);
  if (c->kind == SHC_DIR) {
    char *path = xprintf("%s/objects/%s", c->dir, rel);
    unlink(path);
    free(path);
    return;
  }
  char *script = xprintf("rm -f objects/%s", rel);
  sh_out o;
  char err[256];
  if (ssh_run(c, script, NULL, NULL, NULL, &o, err, sizeof err) == 0)
    sh_out_free(&o);
  free(script);
}

/* What fetching one object gave. */
enum { GOT_OK, GOT_MISSING, GOT_DAMAGED, GOT_ERROR };

typedef struct fetch_item {
  hash128 hash;
  int got;
  obj_info info;
  char msg[400];
} fetch_item;

/* Store the file at src (from the cache) as object it->hash. */
static void take_file(obj_store *local, const char *src, bool move,
                      fetch_item *it) {
  obj_put_opts po = {.move = move, .keep = keep_any, .expect = &it->hash};
  int rc = obj_put(local, src, &po, &it->info, it->msg, sizeof it->msg);
  it->got = rc == 0                      ? GOT_OK
            : rc == -ENOENT              ? GOT_MISSING
            : rc == -EBADMSG || rc == -ELOOP || rc == -EISDIR || rc == -EINVAL
                ? GOT_DAMAGED
                : GOT_ERROR;
  if (it->got == GOT_DAMAGED && rc == -EBADMSG) {
    /* "SRC hashes to X, not Y": say it without the temporary path */
    char *p = strstr(it->msg, " hashes to ");
    char tail[sizeof it->msg];
    snprintf(tail, sizeof tail, "%s", p ? p + 11 : it->msg);
    snprintf(it->msg, sizeof it->msg, "its bytes hash to %.*s",
             (int)(sizeof it->msg - 20), tail);
  }
}

/* Fetch items (n) into the local store. 0, or < 0 with why (the cache
 * cannot be used; items say nothing then). */
static int fetch_batch(const shc_spec *c, fetch_item *items, uint32_t n,
                       obj_store *local, const char *tmpdir, char *why,
                       size_t whylen) {
  char rel[HASH_HEX_LEN + 2];
  if (c->kind == SHC_DIR) {
    for (uint32_t i = 0; i < n; i++) {
      obj_rel(&items[i].hash, rel);
      char *src = xprintf("%s/objects/%s", c->dir, rel);
      take_file(local, src, false, &items[i]);
      free(src);
    }
    return 0;
  }
  int rc = fs_mkdir_p(tmpdir);
  char tmpl[PATH_MAX];
  snprintf(tmpl, sizeof tmpl, "%s/pull.XXXXXX", tmpdir);
  if (rc != 0 || !mkdtemp(tmpl)) {
    snprintf(why, whylen, "cannot create a directory in %s: %s", tmpdir,
             strerror(rc ? -rc : errno));
    return rc ? rc : -errno;
  }
  char *list = xprintf("%s/list", tmpl), *got = xprintf("%s/got", tmpl),
       *rcf = xprintf("%s/rc", tmpl);
  FILE *f = fopen(list, "we");
  for (uint32_t i = 0; f && i < n; i++) {
    obj_rel(&items[i].hash, rel);
    fprintf(f, "%s\n", rel);
  }
  if (!f || fclose(f) != 0 || mkdir(got, 0700) != 0) {
    snprintf(why, whylen, "cannot write in %s: %s", tmpl, strerror(errno));
    fs_rm_rf(tmpl);
    free(list);
    free(got);
    free(rcf);
    return -EIO;
  }
  shbuf tail = {0};
  shbuf_add(&tail, "tar -xf - -C ");
  shbuf_quote(&tail, got);
  sh_out o;
  char err[512];
  /* objects the cache lacks are left out of the stream (tar says so on
   * stderr, which goes nowhere): each is looked for afterwards */
  rc = ssh_run(c, "cd objects 2>/dev/null || exit 0; tar -cf - -T - "
                  "2>/dev/null; exit 0",
               list, tail.s, rcf, &o, err, sizeof err);
  free(tail.s);
  if (rc != 0) {
    snprintf(why, whylen, "%s", err);
  } else if (o.status != 0) {
    rc = ssh_failure(c, &o, "fetching objects", why, whylen);
  } else {
    for (uint32_t i = 0; i < n; i++) {
      obj_rel(&items[i].hash, rel);
      char *src = xprintf("%s/%s", got, rel);
      take_file(local, src, true, &items[i]);
      free(src);
    }
  }
  if (rc == 0)
    sh_out_free(&o);
  fs_rm_rf(tmpl);
  free(list);
  free(got);
  free(rcf);
  return rc;
}

typedef struct obj_vec {
  shc_object *v;
  uint32_t n, cap;
} obj_vec;

static void vec_add(obj_vec *v, const shc_object *o) {
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 16;
    v->v = xrealloc(v->v, v->cap * sizeof *v->v);
  }
  v->v[v->n++] = *o;
}

/* Bring the objects of e into the local store, level by level. 1, SHC_BAD
 * (why), or < 0 (why). */
static int pull_walk(const shc_spec *c, const shc_entry *e, obj_store *local,
                     const char *tmpdir, shc_pull_result *r, char *why,
                     size_t whylen) {
  obj_vec all = {0}, level = {0};
  for (uint32_t i = 0; i < e->n_outs; i++)
    vec_add(&level, &(shc_object){.hash = e->outs[i].hash,
                                  .tree = e->outs[i].tree,
                                  .size = e->outs[i].size});
  int rc = 1;
  char hex[HASH_HEX_LEN + 1];
  for (int depth = 0; level.n && rc == 1; depth++) {
    if (depth > TREE_MAX_DEPTH + 1) {
      snprintf(why, whylen, "its trees are nested more than %d deep",
               TREE_MAX_DEPTH);
      rc = SHC_BAD;
      break;
    }
    /* what the local store lacks, fetched in one batch */
    fetch_item *items = xcalloc(level.n, sizeof *items);
    uint32_t n_items = 0;
    for (uint32_t i = 0; i < level.n; i++)
      if (!obj_exists(local, &level.v[i].hash, OBJ_ANY_SIZE))
        items[n_items++].hash = level.v[i].hash;
    if (n_items) {
      int frc = fetch_batch(c, items, n_items, local, tmpdir, why, whylen);
      if (frc < 0) {
        free(items);
        rc = frc;
        break;
      }
    }
    for (uint32_t k = 0; k < n_items && rc == 1; k++) {
      fetch_item *it = &items[k];
      if (it->got == GOT_OK)
        continue;
      if (it->got == GOT_MISSING) {
        snprintf(why, whylen, "object %s is missing from it",
                 hexs(&it->hash, hex));
        rc = SHC_BAD;
      } else if (it->got == GOT_DAMAGED) {
        snprintf(why, whylen, "object %s is damaged (%s)",
                 hexs(&it->hash, hex), it->msg);
        drop_object(c, &it->hash);
        rc = SHC_BAD;
      } else {
        snprintf(why, whylen, "cannot store object %s: %s",
                 hexs(&it->hash, hex), it->msg);
        rc = -EIO;
      }
    }
    obj_vec next = {0};
    for (uint32_t i = 0; i < level.n && rc == 1; i++) {
      shc_object o = level.v[i];
      for (uint32_t k = 0; k < n_items; k++)
        if (hash_eq(&items[k].hash, &o.hash)) {
          o.fetched = true;
          o.st = items[k].info.st;
          o.size = items[k].info.size;
          r->bytes += items[k].info.size;
          break;
        }
      vec_add(&all, &o);
      if (!o.tree)
        continue;
      tree_entry *te = NULL;
      uint32_t nte = 0;
      char e2[300];
      int trc = tree_read(local, &o.hash, &te, &nte, e2, sizeof e2);
      if (trc != 0) {
        snprintf(why, whylen, "tree %s cannot be read: %s",
                 hexs(&o.hash, hex), e2);
        rc = trc == -EINVAL ? SHC_BAD : -EIO;
        break;
      }
      for (uint32_t k = 0; k < nte; k++)
        vec_add(&next, &(shc_object){.hash = te[k].hash,
                                     .tree = te[k].kind == 'd',
                                     .size = OBJ_ANY_SIZE});
      tree_entries_free(te, nte);
    }
    free(items);
    free(level.v);
    level = next;
  }
  free(level.v);
  if (rc != 1) {
    free(all.v);
    return rc;
  }
  r->objs = all.v;
  r->n_objs = all.n;
  return 1;
}

int shc_pull(const shc_spec *c, const hash128 *key, obj_store *local,
             const char *tmpdir, shc_pull_result *r, char *why,
             size_t whylen) {
  memset(r, 0, sizeof *r);
  char *text = NULL;
  size_t len = 0;
  int rc = read_entry(c, key, &text, &len, why, whylen);
  if (rc != 1)
    return rc;
  char e[300];
  if (shc_entry_parse(text, len, key, &r->entry, e, sizeof e) != 0) {
    free(text);
    snprintf(why, whylen, "%s", e);
    return SHC_BAD;
  }
  free(text);
  rc = pull_walk(c, &r->entry, local, tmpdir, r, why, whylen);
  if (rc != 1)
    shc_pull_result_free(r);
  return rc;
}

/* ---- pushing ---------------------------------------------------------------------- */

/* Write text to a temporary file in dir and rename it to dest: 0, or a
 * negative errno with err. */
static int write_renamed(const char *dir, const char *dest, const char *text,
                         size_t len, char *err, size_t errlen) {
  char host[64];
  fs_hostname(host, sizeof host);
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s/%s.%ld.XXXXXX", dir, host, (long)getpid());
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(e));
    return -e;
  }
  int rc = 0;
  for (size_t off = 0; off < len && rc == 0;) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      rc = w < 0 ? -errno : -EIO;
    else
      off += (size_t)w;
  }
  if (rc == 0 && (fchmod(fd, 0444) != 0 || durable_sync(fd) != 0))
    rc = -errno;
  close(fd);
  if (rc == 0 && fs_mkdirs_for(dest) != 0 && errno != EEXIST)
    rc = -errno;
  if (rc == 0 && rename(tmp, dest) != 0)
    rc = -errno;
  if (rc != 0) {
    unlink(tmp);
    snprintf(err, errlen, "cannot write %s: %s", dest, strerror(-rc));
  }
  return rc;
}

static int dir_push(const shc_spec *c, const shc_entry *e,
                    const obj_store *local, const hash128 *objs, uint32_t n,
                    shc_push_stats *stats, char *err, size_t errlen) {
  int rc = dir_check(c, err, errlen);
  if (rc != 0)
    return rc;
  char *marker = xprintf("%s/pipec-cache", c->dir);
  char *tmp = xprintf("%s/tmp", c->dir);
  char *objdir = xprintf("%s/objects", c->dir);
  obj_store *shared = NULL;
  if ((rc = fs_mkdir_p(tmp)) != 0)
    snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(-rc));
  if (rc == 0 && access(marker, F_OK) != 0)
    rc = write_renamed(tmp, marker, SHC_MAGIC, strlen(SHC_MAGIC), err,
                       errlen);
  if (rc == 0)
    rc = obj_open(objdir, NULL, &shared, err, errlen);
  char path[PATH_MAX], rel[HASH_HEX_LEN + 2];
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    obj_path(local, &objs[i], path, sizeof path);
    struct stat ls, ss;
    obj_rel(&objs[i], rel);
    char *dest = xprintf("%s/%s", objdir, rel);
    bool there = lstat(path, &ls) == 0 && lstat(dest, &ss) == 0 &&
                 S_ISREG(ss.st_mode) && ss.st_size == ls.st_size;
    free(dest);
    if (there)
      continue;
    obj_put_opts po = {.keep = keep_any, .expect = &objs[i]};
    obj_info info;
    char e2[600];
    rc = obj_put(shared, path, &po, &info, e2, sizeof e2);
    if (rc != 0) {
      char hex[HASH_HEX_LEN + 1];
      snprintf(err, errlen, "cannot copy object %s: %s", hexs(&objs[i], hex),
               e2);
      break;
    }
    stats->objects++;
    stats->bytes += info.size;
  }
  if (rc == 0) {
    size_t len;
    char *text = shc_entry_format(e, &len);
    char erel[HASH_HEX_LEN + 4];
    entry_rel(&e->key, erel);
    char *dest = xprintf("%s/entries/%s", c->dir, erel);
    rc = write_renamed(tmp, dest, text, len, err, errlen);
    free(dest);
    free(text);
  }
  obj_close(shared);
  free(marker);
  free(tmp);
  free(objdir);
  return rc;
}

static int ssh_push(const shc_spec *c, const shc_entry *e,
                    const obj_store *local, const hash128 *objs, uint32_t n,
                    const char *tmpdir, shc_push_stats *stats, char *err,
                    size_t errlen) {
  int rc = fs_mkdir_p(tmpdir);
  char stage[PATH_MAX];
  snprintf(stage, sizeof stage, "%s/push.XXXXXX", tmpdir);
  if (rc != 0 || !mkdtemp(stage)) {
    snprintf(err, errlen, "cannot create a directory in %s: %s", tmpdir,
             strerror(rc ? -rc : errno));
    return rc ? rc : -errno;
  }
  char *list = xprintf("%s/list", stage);
  char *root = xprintf("%s/root", stage);
  char rel[HASH_HEX_LEN + 2], path[PATH_MAX];
  FILE *f = fopen(list, "we");
  for (uint32_t i = 0; f && i < n; i++) {
    obj_rel(&objs[i], rel);
    fprintf(f, "objects/%s\n", rel);
  }
  sh_out o = {0};
  if (!f || fclose(f) != 0 || mkdir(root, 0700) != 0) {
    snprintf(err, errlen, "cannot write in %s: %s", stage, strerror(errno));
    rc = -EIO;
    goto done;
  }
  /* 1. which objects the cache lacks */
  rc = ssh_run(c, "while read p; do [ -f \"$p\" ] || echo \"$p\"; done; "
                  "exit 0",
               list, NULL, NULL, &o, err, errlen);
  if (rc != 0)
    goto done;
  if (o.status != 0) {
    rc = ssh_failure(c, &o, "looking up objects", err, errlen);
    goto done;
  }
  /* 2. a stage: root/objects/ab/... (links to the local objects, each
   * re-hashed first) and root/entry */
  for (char *p = o.out, *nl; p && *p; p = nl ? nl + 1 : NULL) {
    nl = strchr(p, '\n');
    if (nl)
      *nl = 0;
    hash128 h;
    char hex[HASH_HEX_LEN + 1];
    if (strlen(p) != 8 + 2 + 1 + 30 || strncmp(p, "objects/", 8) != 0)
      continue;
    memcpy(hex, p + 8, 2);
    memcpy(hex + 2, p + 11, 30);
    hex[32] = 0;
    if (hash_from_hex(hex, &h) != 0)
      continue;
    obj_path(local, &h, path, sizeof path);
    hash128 got;
    uint64_t size;
    char e2[300];
    bool read_ok = hash_file(path, &got, &size, e2, sizeof e2) == 0;
    if (!read_ok || !hash_eq(&got, &h)) {
      snprintf(err, errlen, "object %s is not intact in the local store: %s",
               hex, read_ok ? "its bytes changed" : e2);
      rc = -EIO;
      goto done;
    }
    char *dest = xprintf("%s/%s", root, p);
    fs_mkdirs_for(dest);
    rc = obj_materialize(local, &h, dest, 0, e2, sizeof e2);
    free(dest);
    if (rc != 0) {
      snprintf(err, errlen, "cannot stage object %s: %s", hex, e2);
      goto done;
    }
    stats->objects++;
    stats->bytes += size;
  }
  {
    size_t len;
    char *text = shc_entry_format(e, &len);
    char *dest = xprintf("%s/entry", root);
    FILE *ef = fopen(dest, "we");
    bool ok = ef && fwrite(text, 1, len, ef) == len;
    if (ef && fclose(ef) != 0)
      ok = false;
    free(dest);
    free(text);
    if (!ok) {
      snprintf(err, errlen, "cannot write the entry in %s", root);
      rc = -EIO;
      goto done;
    }
  }
  /* 3. one stream: objects renamed into place first, the entry last */
  sh_out_free(&o);
  {
    char erel[HASH_HEX_LEN + 4];
    entry_rel(&e->key, erel);
    shbuf s = {0};
    shbuf_add(&s,
              "mkdir -p tmp || exit 7; t=$(mktemp -d tmp/push.XXXXXX) || "
              "exit 7; trap 'rm -rf \"$t\"' EXIT; tar -xf - -C \"$t\" || "
              "exit 6; if [ -d \"$t/objects\" ]; then for d in "
              "\"$t\"/objects/*; do [ -d \"$d\" ] || continue; b=${d##*/}; "
              "mkdir -p \"objects/$b\" || exit 7; for f in \"$d\"/*; do "
              "[ -f \"$f\" ] || continue; chmod 444 \"$f\"; mv -f \"$f\" "
              "\"objects/$b/${f##*/}\" || exit 7; done; done; fi; "
              "mkdir -p entries/");
    shbuf_add(&s, (char[]){erel[0], erel[1], 0});
    shbuf_add(&s, " || exit 7; chmod 444 \"$t/entry\"; mv -f \"$t/entry\" "
                  "entries/");
    shbuf_add(&s, erel);
    shbuf_add(&s, " || exit 7; [ -f pipec-cache ] || { printf 'pipec shared "
                  "cache 1\\n' > \"$t/m\" && mv -f \"$t/m\" pipec-cache; }; "
                  "exit 0");
    char *rcf = xprintf("%s/rc", stage);
    shbuf line = {0};
    shbuf_add(&line, "tar -cf - -C ");
    shbuf_quote(&line, root);
    shbuf_add(&line, " . | { ");
    rc = ssh_words(c, &line, err, errlen);
    if (rc == 0) {
      shbuf body = {0};
      shbuf_add(&body, "cd ");
      shbuf_quote(&body, c->dir);
      shbuf_add(&body, " 2>/dev/null || exit 4; ");
      shbuf_add(&body, s.s);
      shbuf_quote(&line, body.s);
      free(body.s);
      /* ssh's status, unless it is 0: then tar's */
      shbuf_add(&line, "; echo $? > ");
      shbuf_quote(&line, rcf);
      shbuf_add(&line, "; }; r=$(cat ");
      shbuf_quote(&line, rcf);
      shbuf_add(&line, "); [ \"$r\" = 0 ] || exit \"$r\"");
      rc = run_sh(line.s, NULL, &o);
      if (rc != 0)
        snprintf(err, errlen, "cannot start ssh: %s", strerror(-rc));
      else if (o.status != 0)
        rc = ssh_failure(c, &o, "writing the entry", err, errlen);
    }
    free(rcf);
    free(line.s);
    free(s.s);
  }
done:
  sh_out_free(&o);
  fs_rm_rf(stage);
  free(list);
  free(root);
  return rc;
}

int shc_push(const shc_spec *c, const shc_entry *e, const obj_store *local,
             const hash128 *objs, uint32_t n, const char *tmpdir,
             shc_push_stats *stats, char *err, size_t errlen) {
  memset(stats, 0, sizeof *stats);
  if (c->readonly) {
    snprintf(err, errlen, "the cache is readonly");
    return -EROFS;
  }
  return c->kind == SHC_DIR
             ? dir_push(c, e, local, objs, n, stats, err, errlen)
             : ssh_push(c, e, local, objs, n, tmpdir, stats, err, errlen);
}

/* ---- listing ---------------------------------------------------------------------- */

int shc_have_entries(const shc_spec *c, const hash128 *keys, uint32_t n,
                     bool *have, const char *tmpdir, char *err,
                     size_t errlen) {
  char rel[HASH_HEX_LEN + 4];
  memset(have, 0, n * sizeof *have);
  if (c->kind == SHC_DIR) {
    int rc = dir_check(c, err, errlen);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
      entry_rel(&keys[i], rel);
      char *path = xprintf("%s/entries/%s", c->dir, rel);
      struct stat sb;
      have[i] = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
      free(path);
    }
    return rc;
  }
  int rc = fs_mkdir_p(tmpdir);
  char *list = xprintf("%s/have.%ld", tmpdir, (long)getpid());
  FILE *f = rc == 0 ? fopen(list, "we") : NULL;
  for (uint32_t i = 0; f && i < n; i++) {
    entry_rel(&keys[i], rel);
    fprintf(f, "entries/%s\n", rel);
  }
  if (!f || fclose(f) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", list, strerror(errno));
    free(list);
    return -EIO;
  }
  sh_out o;
  rc = ssh_run(c, "while read p; do [ -f \"$p\" ] && echo \"$p\"; done; "
                  "exit 0",
               list, NULL, NULL, &o, err, errlen);
  unlink(list);
  free(list);
  if (rc != 0)
    return rc;
  if (o.status != 0) {
    rc = ssh_failure(c, &o, "looking up entries", err, errlen);
    sh_out_free(&o);
    return rc;
  }
  for (char *p = o.out, *nl; p && *p; p = nl ? nl + 1 : NULL) {
    nl = strchr(p, '\n');
    if (nl)
      *nl = 0;
    hash128 k;
    size_t len = strlen(p);
    if (len != 8 + 3 + HASH_HEX_LEN || hash_from_hex(p + 11, &k) != 0)
      continue;
    for (uint32_t i = 0; i < n; i++)
      if (hash_eq(&keys[i], &k))
        have[i] = true;
  }
  sh_out_free(&o);
  return 0;
}

static void keys_add(hash128 **keys, uint32_t *n, uint32_t *cap,
                     const char *hex) {
  hash128 k;
  if (strlen(hex) != HASH_HEX_LEN || hash_from_hex(hex, &k) != 0)
    return;
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    *keys = xrealloc(*keys, *cap * sizeof **keys);
  }
  (*keys)[(*n)++] = k;
}

int shc_list_keys(const shc_spec *c, hash128 **keys, uint32_t *n, char *err,
                  size_t errlen) {
  *keys = NULL;
  *n = 0;
  uint32_t cap = 0;
  if (c->kind == SHC_DIR) {
    int rc = dir_check(c, err, errlen);
    if (rc != 0)
      return rc;
    char *top = xprintf("%s/entries", c->dir);
    DIR *d = opendir(top);
    if (!d) {
      int e = errno;
      free(top);
      if (e == ENOENT)
        return 0;
      snprintf(err, errlen, "cannot read %s/entries: %s", c->dir,
               strerror(e));
      return -e;
    }
    for (struct dirent *de; (de = readdir(d));) {
      if (strlen(de->d_name) != 2)
        continue;
      char *sub = xprintf("%s/%s", top, de->d_name);
      DIR *s = opendir(sub);
      for (struct dirent *fe; s && (fe = readdir(s));)
        keys_add(keys, n, &cap, fe->d_name);
      if (s)
        closedir(s);
      free(sub);
    }
    closedir(d);
    free(top);
    return 0;
  }
  sh_out o;
  int rc = ssh_run(c, "[ -d entries ] || exit 0; cd entries && find . "
                      "-type f",
                   NULL, NULL, NULL, &o, err, errlen);
  if (rc != 0)
    return rc;
  if (o.status != 0) {
    rc = ssh_failure(c, &o, "listing entries", err, errlen);
    sh_out_free(&o);
    return rc;
  }
  for (char *p = o.out, *nl; p && *p; p = nl ? nl + 1 : NULL) {
    nl = strchr(p, '\n');
    if (nl)
      *nl = 0;
    const char *slash = strrchr(p, '/');
    keys_add(keys, n, &cap, slash ? slash + 1 : p);
  }
  sh_out_free(&o);
  return 0;
}

char *shc_claims_dir(const shc_spec *c) {
  if (c->kind != SHC_DIR || c->readonly)
    return NULL;
  return xprintf("%s/claims", c->dir);
}

static int clean_dir(const char *dir, int64_t max_age_s) {
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  time_t now = time(NULL);
  int removed = 0;
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_name[0] == '.')
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        (int64_t)(now - st.st_mtime) < max_age_s)
      continue;
    char *p = xprintf("%s/%s", dir, de->d_name);
    fs_rm_rf(p);
    free(p);
    removed++;
  }
  closedir(d);
  return removed;
}

int shc_clean_tmp(const shc_spec *c, int64_t max_age_s, char *err,
                  size_t errlen) {
  if (c->readonly)
    return 0;
  if (c->kind == SHC_DIR) {
    char *a = xprintf("%s/tmp", c->dir), *b = xprintf("%s/objects/tmp",
                                                      c->dir);
    int n = clean_dir(a, max_age_s) + clean_dir(b, max_age_s);
    free(a);
    free(b);
    return n;
  }
  char *script = xprintf("[ -d tmp ] || exit 0; find tmp -mindepth 1 "
                         "-maxdepth 1 -mmin +%lld -exec rm -rf {} + "
                         "2>/dev/null; exit 0",
                         (long long)(max_age_s / 60));
  sh_out o;
  int rc = ssh_run(c, script, NULL, NULL, NULL, &o, err, errlen);
  free(script);
  if (rc == 0) {
    if (o.status != 0)
      rc = ssh_failure(c, &o, "cleaning tmp/", err, errlen);
    sh_out_free(&o);
  }
  return rc;
}
