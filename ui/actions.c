/*
 * actions.c — what the page's buttons do: run the pipeline, re-run a node
 * or a family (--node, --from), roll back to a snapshot. Each spawns the
 * pipec program itself (`pipec run FILE ...`, `pipec rollback N`), so a
 * run from the page behaves exactly as one typed in a terminal: the same
 * snapshot, lock, events and records. The child runs in its own process
 * group (Ctrl-C on the server does not stop it); its output goes to an
 * unlinked temporary file the page can read; the run it started is found
 * by its pid (pipec_run_by_pid).
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A file for the child's output, already unlinked: its fd, or -1. */
static int output_file(void) {
  const char *tmp = getenv("TMPDIR");
  char path[1024];
  snprintf(path, sizeof path, "%.900s/pipec-ui-action.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  int fd = mkostemp(path, O_CLOEXEC);
  if (fd >= 0)
    unlink(path);
  return fd;
}

/* Start argv (argv[0] is replaced by the pipec program): the action's id,
 * or -1 with err. */
static int start(ui_server *s, const char *kind, char **argv, int64_t after,
                 char *err, size_t errlen) {
  int fd = output_file();
  if (fd < 0) {
    snprintf(err, errlen, "no temporary file: %s", strerror(errno));
    return -1;
  }
  argv[0] = (char *)s->o.exe;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  posix_spawn_file_actions_addchdir_np(&fa, s->root);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none); /* the server blocks SIGINT */
  sigset_t dfl;
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  sigaddset(&dfl, SIGINT);
  sigaddset(&dfl, SIGTERM);
  posix_spawnattr_setsigdefault(&at, &dfl);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = posix_spawn(&pid, s->o.exe, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (rc != 0) {
    close(fd);
    snprintf(err, errlen, "cannot run %s: %s", s->o.exe, strerror(rc));
    return -1;
  }
  pthread_mutex_lock(&s->lock);
  /* forget the oldest finished action when the table is full */
  if (s->n_actions == UI_ACTIONS_MAX) {
    int drop = -1;
    for (int i = 0; i < s->n_actions && drop < 0; i++)
      if (s->actions[i].done)
        drop = i;
    if (drop < 0)
      drop = 0; /* all still going: forget the oldest (it goes on) */
    close(s->actions[drop].out_fd);
    memmove(&s->actions[drop], &s->actions[drop + 1],
            (size_t)(s->n_actions - drop - 1) * sizeof s->actions[0]);
    s->n_actions--;
  }
  ui_action *a = &s->actions[s->n_actions++];
  *a = (ui_action){.id = ++s->next_action, .pid = pid, .out_fd = fd,
                   .after = after};
  snprintf(a->kind, sizeof a->kind, "%s", kind);
  int id = a->id;
  pthread_mutex_unlock(&s->lock);
  return id;
}

static void reap(ui_action *a) {
  if (a->done)
    return;
  int status;
  pid_t p = waitpid(a->pid, &status, WNOHANG);
  if (p == a->pid) {
    a->done = true;
    a->exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
  } else if (p < 0 && errno == ECHILD) {
    a->done = true;
    a->exit_code = -1;
  }
}

int ui_action_get(ui_server *s, pipec_ws *w, int id, ui_action *out) {
  pthread_mutex_lock(&s->lock);
  int found = 0;
  for (int i = 0; i < s->n_actions; i++) {
    ui_action *a = &s->actions[i];
    reap(a);
    if (a->id != id)
      continue;
    found = 1;
    if (!a->run && strcmp(a->kind, "run") == 0) {
      int64_t run = 0;
      pipec_error err;
      if (pipec_run_by_pid(w, a->pid, a->after, &run, &err) == 1)
        a->run = run;
    }
    *out = *a;
  }
  pthread_mutex_unlock(&s->lock);
  return found;
}

void ui_action_output(ui_server *s, int id, size_t max, ubuf *b) {
  pthread_mutex_lock(&s->lock);
  for (int i = 0; i < s->n_actions; i++) {
    if (s->actions[i].id != id)
      continue;
    off_t end = lseek(s->actions[i].out_fd, 0, SEEK_END);
    off_t from = end > (off_t)max ? end - (off_t)max : 0;
    char buf[65536];
    ssize_t k;
    while (from < end &&
           (k = pread(s->actions[i].out_fd, buf, sizeof buf, from)) > 0) {
      ub_rawn(b, buf, (size_t)k);
      from += k;
    }
  }
  pthread_mutex_unlock(&s->lock);
}

void ui_actions_close(ui_server *s) {
  for (int i = 0; i < s->n_actions; i++) {
    reap(&s->actions[i]);
    close(s->actions[i].out_fd);
  }
  s->n_actions = 0;
}

static void answer(ui_req *r, int id) {
  r->type = "application/json";
  ub_printf(&r->body, "{\"action\":%d}\n", id);
}

void act_run(ui_req *r) {
  int64_t id = 0;
  int k = ui_arg_int(r, "pipeline", 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which pipeline? (?pipeline=ID)");
    return;
  }
  const char *node = ui_arg(r, "node"), *from = ui_arg(r, "from");
  bool force = ui_arg(r, "force") != NULL;
  if (node && from) {
    ui_fail(r, 400, "--node or --from, not both");
    return;
  }
  pipec_pipeline_info *all, *one;
  uint32_t n;
  if (ui_find_pipeline(r, id, &all, &n, &one) != 1) {
    pipec_pipeline_infos_free(all, n);
    return;
  }
  /* the newest run now: the one the child starts comes after it */
  pipec_run_info *last = NULL;
  uint32_t n_last = 0;
  pipec_error err;
  pipec_runs_page(r->w, 0, 0, 1, &last, &n_last, NULL, &err);
  int64_t after = n_last ? last[0].id : 0;
  pipec_run_infos_free(last, n_last);
  char *argv[8];
  int c = 0;
  argv[c++] = NULL;
  argv[c++] = "run";
  argv[c++] = one->file;
  if (node) {
    argv[c++] = "--node";
    argv[c++] = (char *)node;
  } else if (from) {
    argv[c++] = "--from";
    argv[c++] = (char *)from;
  }
  if (force)
    argv[c++] = "--force";
  argv[c] = NULL;
  char e[512];
  int a = start(r->srv, "run", argv, after, e, sizeof e);
  pipec_pipeline_infos_free(all, n);
  if (a < 0)
    ui_fail(r, 500, "%s", e);
  else
    answer(r, a);
}

void act_rollback(ui_req *r) {
  int64_t id = 0;
  int k = ui_arg_int(r, "snapshot", 1, INT64_MAX, &id);
  if (k <= 0) {
    if (k == 0)
      ui_fail(r, 400, "which snapshot? (?snapshot=ID)");
    return;
  }
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)id);
  char *argv[] = {NULL, "rollback", num, NULL};
  char e[512];
  int a = start(r->srv, "rollback", argv, 0, e, sizeof e);
  if (a < 0)
    ui_fail(r, 500, "%s", e);
  else
    answer(r, a);
}
