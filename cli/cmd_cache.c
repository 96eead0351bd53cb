/*
 * cmd_cache.c — `pipec cache verify` and `pipec cache gc`: argument parsing
 * and printing; the work is pipec_cache_verify() and pipec_cache_gc()
 * (pipec/engine.h).
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

int cmd_cache(int argc, char **argv) {
  if (cli_wants_help("cache", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"keep", 0, true, 1}, {0}};
  const char *sub = NULL;
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
    } else {
      return cli_usage_error("cache", "unexpected '%s'", it.value);
    }
  }
  if (!sub)
    return cli_usage_error("cache", "expected gc or verify");
  bool gc = strcmp(sub, "gc") == 0;
  if (!gc && strcmp(sub, "verify") != 0)
    return cli_usage_error("cache", "unknown subcommand '%s' (gc or verify)",
                           sub);
  if (!gc && keep_given)
    return cli_usage_error("cache", "--keep is an option of gc");
  pipec_ws *w;
  int rc = cli_open_workspace("cache", NULL, &w);
  if (rc != 0)
    return rc;
  rc = gc ? cache_gc(w, (uint32_t)keep) : cache_verify(w);
  pipec_ws_close(w);
  return rc;
}
