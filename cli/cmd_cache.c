/*
 * cmd_cache.c — `pipec cache verify | gc | push | pull`: argument parsing
 * and printing; the work is pipec_cache_verify(), pipec_cache_gc(),
 * pipec_cache_push() and pipec_cache_pull() (pipec/engine.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void on_problem(void *ctx, const char *kind, const char *hash,
                       const char *msg) {
  (void)ctx;
  printf("%-10s %s: %s\n", kind, hash, msg);
}

static int cache_verify(pipec_ws *w) {
  pipec_verify_result r;
  pipec_error err;
  if (pipec_cache_verify(w, on_problem, NULL, &r, &err) != 0) {
    fprintf(stderr, "pipec cache verify: %s\n", err.msg);
    return CLI_FAILED;
  }
  uint32_t bad = r.damaged + r.odd + r.missing + r.unreadable;
  if (!bad) {
    printf("every object is intact (%u checked)\n", r.checked);
    return CLI_OK;
  }
  printf("%u object%s intact; %u damaged, %u not a file, %u missing, %u "
         "unreadable; %u cache entr%s dropped: the nodes that made or read "
         "them will run again\n",
         r.checked, r.checked == 1 ? "" : "s", r.damaged, r.odd, r.missing,
         r.unreadable, r.dropped, r.dropped == 1 ? "y" : "ies");
  return CLI_FAILED;
}

static int cache_gc(pipec_ws *w, uint32_t keep) {
  pipec_gc_result r;
  pipec_error err;
  if (pipec_cache_gc(w, keep, &r, &err) != 0) {
    fprintf(stderr, "pipec cache gc: %s\n", err.msg);
    return CLI_FAILED;
  }
  printf("removed %u object%s (%.1f MB) and %u log%s (%.1f MB); kept %u "
         "object%s (%.1f MB) that the last %u runs, a pipeline's last run, a "
         "labeled snapshot's last run or a node's last success uses\n",
         r.objects_removed, r.objects_removed == 1 ? "" : "s",
         (double)r.bytes_freed / 1e6, r.logs_removed,
         r.logs_removed == 1 ? "" : "s", (double)r.log_bytes_freed / 1e6,
         r.objects_kept, r.objects_kept == 1 ? "" : "s",
         (double)r.bytes_kept / 1e6, keep);
  return CLI_OK;
}

typedef struct sync_out {
  bool push;
  uint32_t bad;
} sync_out;

static void on_sync_problem(void *ctx, const char *cache, const char *key,
                            const char *msg) {
  sync_out *o = ctx;
  o->bad++;
  printf("%s: entry %s not %s: %s\n", cache, key,
         o->push ? "pushed" : "pulled", msg);
}

static void on_sync_done(void *ctx, const pipec_cache_sync *r) {
  sync_out *o = ctx;
  printf("%s: %s %u entr%s (%u object%s, %.1f MB); %u already %s",
         r->cache, o->push ? "pushed" : "pulled", r->copied,
         r->copied == 1 ? "y" : "ies", r->objects, r->objects == 1 ? "" : "s",
         (double)r->bytes / 1e6, r->present, o->push ? "there" : "here");
  if (r->bad)
    printf("; %u could not be %s", r->bad, o->push ? "pushed" : "pulled");
  putchar('\n');
}

static int cache_sync(pipec_ws *w, bool push, const char *name) {
  sync_out o = {.push = push};
  pipec_cache_sync_cbs cb = {.ctx = &o,
                             .problem = on_sync_problem,
                             .done = on_sync_done};
  pipec_error err;
  int rc = push ? pipec_cache_push(w, name, &cb, &err)
                : pipec_cache_pull(w, name, &cb, &err);
  if (rc != 0) {
    fprintf(stderr, "pipec cache %s: %s\n", push ? "push" : "pull",
            err.msg);
    return rc == PIPEC_E_USAGE ? CLI_USAGE : CLI_FAILED;
  }
  return o.bad ? CLI_FAILED : CLI_OK;
}

int cmd_cache(int argc, char **argv) {
  if (cli_wants_help("cache", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"keep", 0, true, 1}, {0}};
  const char *sub = NULL, *name = NULL;
  int64_t keep = 10;
  bool keep_given = false;
  cli_args it;
  cli_args_init(&it, "cache", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1) {
      if (cli_number("cache", it.opt, it.value, 0, UINT32_MAX, &keep) != 0)
        return CLI_USAGE;
      keep_given = true;
    } else if (!sub) {
      sub = it.value;
    } else if (!name && (strcmp(sub, "push") == 0 ||
                         strcmp(sub, "pull") == 0)) {
      name = it.value;
    } else {
      return cli_usage_error("cache", "unexpected '%s'", it.value);
    }
  }
  if (!sub)
    return cli_usage_error("cache", "expected gc, verify, push or pull");
  bool gc = strcmp(sub, "gc") == 0, push = strcmp(sub, "push") == 0,
       pull = strcmp(sub, "pull") == 0;
  if (!gc && !push && !pull && strcmp(sub, "verify") != 0)
    return cli_usage_error("cache", "unknown subcommand '%s' (gc, verify, "
                           "push or pull)", sub);
  if (!gc && keep_given)
    return cli_usage_error("cache", "--keep is an option of gc");
  pipec_ws *w;
  int rc = cli_open_workspace("cache", NULL, &w);
  if (rc != 0)
    return rc;
  rc = gc     ? cache_gc(w, (uint32_t)keep)
       : push ? cache_sync(w, true, name)
       : pull ? cache_sync(w, false, name)
              : cache_verify(w);
  pipec_ws_close(w);
  return rc;
}
