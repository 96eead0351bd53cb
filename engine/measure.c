/*
 * measure.c — running a command measured (pipec_measure, `pipec measure`)
 * and the targets' side of it (measure.h).
 *
 * pipec_measure starts the command (posix_spawn) and waits for it with
 * wait4: its ru_maxrss covers the command and every child it waited for.
 * With a limit, the command runs in a memory cgroup of its own where the
 * machine lets this process make one (memcg.h): it is started through
 * `sh -c 'echo 0 > PROCS; exec "$@"'`, so it enters the cgroup before it
 * execs and nothing escapes it. SIGINT, SIGTERM and SIGHUP reach the
 * command (they go to the whole process group); this process waits for it
 * through them, so the report is always written.
 */
#define _GNU_SOURCE
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "memcg.h"
#include "pipec/engine.h"
#include "units.h"

/* ---- the targets' side ------------------------------------------------------ */

void measure_sh_prefix(shbuf *b, const char *pipec, int64_t limit,
                       const char *report_word) {
  shbuf_add(b, "m=");
  shbuf_quote(b, pipec);
  shbuf_add(b, "; [ -x \"$m\" ] || m=$(command -v pipec 2>/dev/null) || m=; "
               "if [ -n \"$m\" ] && \"$m\" measure --check >/dev/null 2>&1; "
               "then set -- \"$m\" measure ");
  if (limit > 0) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)limit);
    shbuf_add(b, "--memory ");
    shbuf_add(b, num);
    shbuf_add(b, " ");
  }
  shbuf_add(b, report_word);
  shbuf_add(b, " -- \"$@\"; fi; ");
}

bool measure_read(const char *path, measure_report *r) {
  memset(r, 0, sizeof *r);
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  long long peak = 0;
  int oom = 0, enforced = 0;
  bool ok = fscanf(f, "peak=%lld oom=%d enforced=%d", &peak, &oom,
                   &enforced) == 3;
  fclose(f);
  if (ok) {
    r->peak = peak > 0 ? peak : 0;
    r->oom = oom != 0;
    r->enforced = enforced != 0;
  }
  return ok;
}

/* ---- pipec measure ---------------------------------------------------------- */

static void on_signal(int sig) { (void)sig; /* the command gets it too */ }

static int write_report(const char *path, const pipec_measure_result *m) {
  char *tmp = xprintf("%s.tmp", path);
  FILE *f = fopen(tmp, "we");
  int rc = f ? 0 : -errno;
  if (f) {
    fprintf(f, "peak=%lld oom=%d enforced=%d\n", (long long)m->peak_memory,
            m->out_of_memory, m->enforced);
    if (fclose(f) != 0)
      rc = -errno;
  }
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  free(tmp);
  return rc;
}

int pipec_measure(const pipec_measure_request *rq, pipec_measure_result *res,
                  pipec_error *err) {
  memset(res, 0, sizeof *res);
  if (err)
    err->code = 0, err->msg[0] = 0;
  if (!rq->argv || !rq->argv[0] || !rq->report) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "expected REPORT -- COMMAND...");
    return PIPEC_E_USAGE;
  }
  memcg *cg = NULL;
  memcg_base base;
  char why[512] = "";
  if (rq->memory > 0) {
    if (memcg_probe(&base, why, sizeof why) == 0) {
      memcg_sweep(&base);
      if (memcg_create(&base, 1, rq->memory, &cg, why, sizeof why) != 0)
        cg = NULL;
    }
    if (!cg) {
      char lim[32];
      units_size_text(rq->memory, lim, sizeof lim);
      fprintf(stderr, "==> pipec: memory = \"%s\" is not enforced on this "
                      "machine: %s <==\n", lim, why);
    }
  }
  struct sigaction sa = {.sa_handler = on_signal}, old[3];
  sigemptyset(&sa.sa_mask);
  const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; i++)
    sigaction(sigs[i], &sa, &old[i]);
  /* the command enters its cgroup itself before it execs (as on the
   * local target): everything it starts is inside */
  size_t n = 0;
  while (rq->argv[n])
    n++;
  char **argv = xcalloc(n + 5, sizeof *argv);
  size_t k = 0;
  if (cg) {
    argv[k++] = "/bin/sh";
    argv[k++] = "-c";
    argv[k++] = "echo 0 > \"$0\" || { echo \"pipec measure: cannot enter "
                "the memory cgroup $0\" >&2; exit 125; }; exec \"$@\"";
    argv[k++] = (char *)memcg_procs(cg);
  }
  memcpy(argv + k, rq->argv, n * sizeof *argv);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
  extern char **environ;
  pid_t pid = -1;
  int serr = posix_spawnp(&pid, argv[0], NULL, &at, argv, environ);
  posix_spawnattr_destroy(&at);
  free(argv);
  int rc = 0;
  if (serr != 0) {
    if (err)
      snprintf(err->msg, sizeof err->msg, "cannot run '%s': %s",
               rq->argv[0], strerror(serr));
    rc = PIPEC_E_FAILED;
  } else {
    int ws = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    pid_t got;
    do
      got = wait4(pid, &ws, 0, &ru);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
      res->exit_code = 127;
    } else if (WIFSIGNALED(ws)) {
      res->term_signal = WTERMSIG(ws);
    } else {
      res->exit_code = WEXITSTATUS(ws);
    }
    res->peak_memory = (int64_t)ru.ru_maxrss * 1024;
    bool failed = res->term_signal || res->exit_code != 0;
    bool killed = res->term_signal == SIGKILL ||
                  (!res->term_signal && res->exit_code == 128 + SIGKILL);
    int64_t lim = rq->memory;
    res->enforced = cg != NULL;
    res->out_of_memory =
        failed && lim > 0 &&
        ((cg && memcg_oom_killed(cg)) ||
         (killed && res->peak_memory >= lim - lim / 20));
  }
  for (int i = 0; i < 3; i++)
    sigaction(sigs[i], &old[i], NULL);
  if (cg) {
    /* the command's leftovers die at once; this process may wait */
    for (int i = 0; i < 1000 && memcg_remove(cg) == -EBUSY; i++)
      usleep(1000);
    memcg_free(cg);
  }
  if (rc == 0 && write_report(rq->report, res) != 0 && err)
    snprintf(err->msg, sizeof err->msg, "cannot write %s: %s", rq->report,
             strerror(errno));
  return rc;
}
