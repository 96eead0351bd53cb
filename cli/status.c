/*
 * status.c — progress output of a run; see status.h.
 */
#include "status.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "pipec/json.h"

double status_now(void) { return clock_mono_s(); }

void status_init(status_printer *s, FILE *out, status_mode mode,
                 uint32_t total) {
  memset(s, 0, sizeof *s);
  s->out = out;
  s->mode = mode;
  s->total = total;
  s->width = 80;
  /* a live line only makes sense on a terminal that understands it */
  const char *term = getenv("TERM");
  if (mode == STATUS_LIVE &&
      (!isatty(fileno(out)) || (term && strcmp(term, "dumb") == 0)))
    s->mode = mode = STATUS_LINES;
  struct winsize ws;
  if (mode == STATUS_LIVE && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 &&
      ws.ws_col > 20)
    s->width = ws.ws_col;
}

void status_clear(status_printer *s) {
  if (s->mode == STATUS_LIVE && s->line_dirty) {
    fputs("\r\033[K", s->out);
    s->line_dirty = false;
  }
}

void status_tick(status_printer *s) {
  if (s->mode != STATUS_LIVE)
    return;
  char line[512];
  int n = snprintf(line, sizeof line, "[%u/%u] %u running, %u cached",
                   s->done, s->total, s->running, s->cached);
  if (s->failed)
    n += snprintf(line + n, sizeof line - (size_t)n, ", %u failed", s->failed);
  if (s->family && s->family_total > 1)
    n += snprintf(line + n, sizeof line - (size_t)n, " · %s[*] %u/%u",
                  s->family, s->family_done, s->family_total);
  else if (s->last && s->running)
    snprintf(line + n, sizeof line - (size_t)n, " · %s (%.1fs)", s->last,
             status_now() - s->last_start);
  if ((int)strlen(line) > s->width - 1)
    line[s->width - 1] = 0; /* never wrap: the \r would not reach line 1 */
  fprintf(s->out, "\r\033[K%s", line);
  fflush(s->out);
  s->line_dirty = true;
}

static void json_event(status_printer *s, const char *event, const char *node,
                       const char *status, const char *target,
                       const char *job, const char *detail, int attempt,
                       double seconds) {
  pipec_json j;
  pipec_json_init(&j, s->out, false);
  pipec_json_obj(&j);
  pipec_json_key(&j, "event");
  pipec_json_str(&j, event);
  if (node) {
    pipec_json_key(&j, "node");
    pipec_json_str(&j, node);
  }
  if (status) {
    pipec_json_key(&j, "status");
    pipec_json_str(&j, status);
  }
  if (target) {
    pipec_json_key(&j, "target");
    pipec_json_str(&j, target);
  }
  if (job) {
    pipec_json_key(&j, "job");
    pipec_json_str(&j, job);
  }
  if (attempt) {
    pipec_json_key(&j, "attempt");
    pipec_json_int(&j, attempt);
  }
  if (detail) {
    pipec_json_key(&j, "detail");
    pipec_json_str(&j, detail);
  }
  if (seconds >= 0) {
    pipec_json_key(&j, "seconds");
    pipec_json_num(&j, seconds);
  }
  pipec_json_key(&j, "done");
  pipec_json_int(&j, s->done);
  pipec_json_key(&j, "total");
  pipec_json_int(&j, s->total);
  pipec_json_end(&j);
  pipec_json_done(&j);
}

void status_started(status_printer *s, const char *node, const char *target,
                    const char *job_id, int attempt) {
  if (attempt == 1)
    s->running++;
  s->last = node;
  s->last_start = status_now();
  switch (s->mode) {
  case STATUS_LIVE:
    status_tick(s);
    break;
  case STATUS_LINES:
    fprintf(s->out, "[%u/%u] started   %s", s->done, s->total, node);
    if (target && strcmp(target, "local") != 0)
      fprintf(s->out, " on %s", target);
    if (attempt > 1)
      fprintf(s->out, " (attempt %d)", attempt);
    fputc('\n', s->out);
    fflush(s->out);
    break;
  case STATUS_JSON:
    json_event(s, "started", node, NULL, target, job_id, NULL, attempt, -1);
    break;
  case STATUS_QUIET:
    break;
  }
}

void status_settled(status_printer *s, const char *node, const char *status,
                    const char *detail, double seconds) {
  bool ran = seconds >= 0;
  if (ran && s->running)
    s->running--;
  s->done++;
  if (strcmp(status, "cached") == 0)
    s->cached++;
  bool bad = strcmp(status, "failed") == 0;
  if (bad)
    s->failed++;
  switch (s->mode) {
  case STATUS_LIVE:
    if (bad || strcmp(status, "cancelled") == 0) {
      status_clear(s);
      fprintf(s->out, "\033[1;31m%s\033[0m %s%s%s\n", status, node,
              detail ? ": " : "", detail ? detail : "");
    }
    status_tick(s);
    break;
  case STATUS_LINES:
  case STATUS_QUIET:
    if (s->mode == STATUS_QUIET && !bad)
      break;
    fprintf(s->out, "[%u/%u] %-9s %s", s->done, s->total, status, node);
    if (ran)
      fprintf(s->out, " (%.2fs)", seconds);
    if (detail && strcmp(status, "cached") == 0)
      fprintf(s->out, " (%s)", detail); /* (shared: NAME) */
    else if (detail)
      fprintf(s->out, ": %s", detail);
    fputc('\n', s->out);
    fflush(s->out);
    break;
  case STATUS_JSON:
    json_event(s, "settled", node, status, NULL, NULL, detail, 0, seconds);
    break;
  }
}

void status_retrying(status_printer *s, const char *node, int attempt,
                     const char *detail) {
  switch (s->mode) {
  case STATUS_LIVE:
    status_clear(s);
    fprintf(s->out, "\033[1;33mretrying\033[0m %s: attempt %d failed: %s\n",
            node, attempt, detail);
    status_tick(s);
    break;
  case STATUS_LINES:
    fprintf(s->out, "[%u/%u] retrying  %s: attempt %d failed: %s\n", s->done,
            s->total, node, attempt, detail);
    fflush(s->out);
    break;
  case STATUS_JSON:
    json_event(s, "retrying", node, NULL, NULL, NULL, detail, attempt, -1);
    break;
  case STATUS_QUIET:
    break;
  }
}

void status_log_tail(status_printer *s, const char *log_path, int lines) {
  if (s->mode == STATUS_JSON || !log_path)
    return;
  FILE *f = fopen(log_path, "rb");
  if (!f)
    return;
  /* read the last 8 KiB and print its last `lines` lines */
  char buf[8192];
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
  fseek(f, from, SEEK_SET);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  if (n == 0)
    return;
  if (buf[n - 1] == '\n')
    buf[--n] = 0;
  char *start = buf + n;
  for (int k = 0; k < lines && start > buf;) {
    start--;
    if (*start == '\n' && ++k == lines) {
      start++;
      break;
    }
  }
  status_clear(s);
  for (char *line = start; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = 0;
    fprintf(s->out, "    | %s\n", line);
    line = nl ? nl + 1 : NULL;
  }
  fprintf(s->out, "    (full log: %s)\n", log_path);
  fflush(s->out);
}

void status_summary(status_printer *s, uint32_t ran, uint32_t cached,
                    uint32_t failed, uint32_t skipped, uint32_t cancelled,
                    double wall_s, int64_t run_id) {
  if (s->mode == STATUS_JSON) {
    pipec_json j;
    pipec_json_init(&j, s->out, false);
    pipec_json_obj(&j);
    pipec_json_key(&j, "event");
    pipec_json_str(&j, "finished");
    pipec_json_key(&j, "run");
    pipec_json_int(&j, run_id);
    pipec_json_key(&j, "ran");
    pipec_json_int(&j, ran);
    pipec_json_key(&j, "cached");
    pipec_json_int(&j, cached);
    pipec_json_key(&j, "failed");
    pipec_json_int(&j, failed);
    pipec_json_key(&j, "skipped");
    pipec_json_int(&j, skipped);
    pipec_json_key(&j, "cancelled");
    pipec_json_int(&j, cancelled);
    pipec_json_key(&j, "seconds");
    pipec_json_num(&j, wall_s);
    pipec_json_end(&j);
    pipec_json_done(&j);
    return;
  }
  status_clear(s);
  fprintf(s->out, "run %lld: %u ran, %u cached", (long long)run_id, ran,
          cached);
  if (failed)
    fprintf(s->out, ", %u failed", failed);
  if (skipped)
    fprintf(s->out, ", %u skipped", skipped);
  if (cancelled)
    fprintf(s->out, ", %u cancelled", cancelled);
  fprintf(s->out, " in %.2fs\n", wall_s);
  fflush(s->out);
}

/* After a run: where the final outputs are (the first 12). */
static void status_result(status_printer *s, const pipec_event *ev) {
  if (s->mode != STATUS_LINES && s->mode != STATUS_LIVE)
    return;
  if (s->results++ == 12) {
    fprintf(s->out, "  ... (pipec show %lld lists every node)\n",
            (long long)ev->run);
    return;
  }
  if (s->results > 12)
    return;
  if (s->results == 1)
    fprintf(s->out, "results (pipec cat NODE.PORT prints one):\n");
  char name[512];
  snprintf(name, sizeof name, "%s.%s", ev->node, ev->port);
  fprintf(s->out, "  %-24s %-6s %llu bytes\n", name, ev->port_type,
          (unsigned long long)ev->size);
}

/* Where a published file is, as the user can open it: relative to the
 * current directory when under it, else absolute (a snapshot's run
 * publishes in its checkout, not where the .pipe file says). */
static const char *shown_path(const pipec_event *ev) {
  char cwd[PATH_MAX];
  if (!ev->path || !ev->path[0] || !getcwd(cwd, sizeof cwd))
    return ev->detail;
  char real[PATH_MAX];
  const char *base = realpath(cwd, real) ? real : cwd;
  size_t n = strlen(base);
  if (strncmp(ev->path, base, n) == 0 && ev->path[n] == '/')
    return ev->path + n + 1;
  return ev->path;
}

/* A dry run's family of many members: its plan lines counted. */
typedef struct status_fam {
  const char *name;
  uint32_t total, seen, would_run, cached;
  bool printed;
} status_fam;

static void fam_print(status_printer *s, status_fam *f) {
  if (f->printed)
    return;
  f->printed = true;
  char name[256];
  snprintf(name, sizeof name, "%s[*]", f->name);
  fprintf(s->out, "%-10s %-16s (%u members: %u would run, %u cached)\n",
          f->would_run ? "would run" : "cached", name, f->seen, f->would_run,
          f->cached);
}

/* A plan line of a large family's member: counted (true), or to be
 * printed as it is (false). */
static bool fam_count(status_printer *s, const pipec_event *ev) {
  if (s->mode == STATUS_JSON || !ev->family ||
      ev->family_total <= STATUS_FAMILY_ROWS ||
      strcmp(ev->status, "would fail") == 0)
    return false;
  status_fam *f = NULL;
  for (uint32_t i = 0; i < s->n_fams && !f; i++)
    if (strcmp(s->fams[i].name, ev->family) == 0)
      f = &s->fams[i];
  if (!f) {
    status_fam *n = realloc(s->fams, (s->n_fams + 1) * sizeof *n);
    if (!n)
      return false;
    s->fams = n;
    f = &s->fams[s->n_fams++];
    *f = (status_fam){.name = ev->family, .total = ev->family_total};
  }
  f->seen++;
  if (strcmp(ev->status, "cached") == 0)
    f->cached++;
  else
    f->would_run++;
  if (f->seen == f->total)
    fam_print(s, f);
  return true;
}

static void plan_line(status_printer *s, const pipec_event *ev) {
  if (s->mode == STATUS_JSON) {
    json_event(s, "plan", ev->node, ev->status, NULL, NULL, ev->detail, 0,
               -1);
    return;
  }
  if (fam_count(s, ev))
    return;
  bool fail = strcmp(ev->status, "would fail") == 0;
  if (ev->detail)
    fprintf(s->out, "%-10s %-16s %s%s%s\n", ev->status, ev->node,
            fail ? "" : "(", ev->detail, fail ? "" : ")");
  else
    fprintf(s->out, "%-10s %s\n", ev->status, ev->node);
}

static void dry_run_end(status_printer *s, const pipec_event *ev) {
  for (uint32_t i = 0; i < s->n_fams; i++)
    fam_print(s, &s->fams[i]);
  free(s->fams);
  s->fams = NULL;
  s->n_fams = 0;
  if (s->mode != STATUS_JSON) {
    fprintf(s->out, "%u would run, %u cached (dry run: nothing was run)\n",
            ev->ran, ev->cached);
    return;
  }
  pipec_json j;
  pipec_json_init(&j, s->out, false);
  pipec_json_obj(&j);
  pipec_json_key(&j, "event");
  pipec_json_str(&j, "finished");
  pipec_json_key(&j, "dry_run");
  pipec_json_bool(&j, true);
  pipec_json_key(&j, "would_run");
  pipec_json_int(&j, ev->ran);
  pipec_json_key(&j, "cached");
  pipec_json_int(&j, ev->cached);
  pipec_json_key(&j, "would_fail");
  pipec_json_int(&j, ev->failed);
  pipec_json_end(&j);
  pipec_json_done(&j);
}

void status_event(void *ctx, const pipec_event *ev) {
  status_printer *s = ctx;
  switch (ev->kind) {
  case PIPEC_EV_RUN_START:
    s->total = ev->total;
    break;
  case PIPEC_EV_NODE_START:
    s->family = ev->family;
    s->family_done = ev->family_done;
    s->family_total = ev->family_total;
    status_started(s, ev->node, ev->target, ev->job, ev->attempt);
    break;
  case PIPEC_EV_NODE_RETRY:
    status_retrying(s, ev->node, ev->attempt, ev->detail);
    break;
  case PIPEC_EV_NODE_DONE:
    s->family = ev->family;
    s->family_done = ev->family_done;
    s->family_total = ev->family_total;
    status_settled(s, ev->node, ev->status, ev->detail, ev->seconds);
    if (strcmp(ev->status, "failed") == 0 && ev->log)
      status_log_tail(s, ev->log, 10);
    break;
  case PIPEC_EV_PLAN:
    plan_line(s, ev);
    break;
  case PIPEC_EV_RESULT:
    status_result(s, ev);
    break;
  case PIPEC_EV_NOTICE:
    status_clear(s);
    fflush(s->out);
    fprintf(stderr, "pipec: %s\n", ev->detail);
    break;
  case PIPEC_EV_EXPANDED:
    if (ev->dry_run && s->mode == STATUS_JSON) {
      json_event(s, "expanded", NULL, NULL, NULL, NULL, ev->detail, 0, -1);
    } else if (ev->dry_run) {
      fprintf(s->out, "%-10s %s\n", "expanded", ev->detail);
    } else if (s->mode == STATUS_LINES || s->mode == STATUS_LIVE) {
      status_clear(s);
      fprintf(s->out, "[%u/%u] expanded  %s\n", s->done, s->total,
              ev->detail);
      fflush(s->out);
    }
    break;
  case PIPEC_EV_PUBLISHED:
    if (strcmp(ev->status, "failed") == 0)
      break; /* a notice said why */
    if (s->mode == STATUS_JSON) {
      pipec_json j;
      pipec_json_init(&j, s->out, false);
      pipec_json_obj(&j);
      pipec_json_key(&j, "event");
      pipec_json_str(&j, "published");
      pipec_json_key(&j, "node");
      pipec_json_str(&j, ev->node);
      pipec_json_key(&j, "port");
      pipec_json_str(&j, ev->port);
      pipec_json_key(&j, "path");
      pipec_json_str(&j, ev->detail);
      pipec_json_key(&j, "written");
      pipec_json_bool(&j, strcmp(ev->status, "written") == 0);
      pipec_json_end(&j);
      pipec_json_done(&j);
    } else if (strcmp(ev->status, "written") != 0) {
      s->published_same++;
    } else if (s->mode != STATUS_QUIET && s->published++ < 12) {
      status_clear(s);
      char from[512];
      snprintf(from, sizeof from, "%s.%s", ev->node, ev->port);
      fprintf(s->out, "published %-24s %s\n", shown_path(ev), from);
    }
    break;
  case PIPEC_EV_RUN_END:
    if (s->mode != STATUS_JSON && s->mode != STATUS_QUIET &&
        (s->published > 12 || s->published_same))
      fprintf(s->out, "published %u file%s, %u already up to date\n",
              s->published, s->published == 1 ? "" : "s", s->published_same);
    if (ev->dry_run)
      dry_run_end(s, ev);
    else
      status_summary(s, ev->ran, ev->cached, ev->failed, ev->skipped,
                     ev->cancelled, ev->seconds, ev->run);
    break;
  }
}
