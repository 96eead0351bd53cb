/*
 * cmd_cache.c — `pipec cache verify` and `pipec cache gc`: argument parsing
 * and printing; the work is integ_verify() (integrity.h) and gc_collect()
 * (gc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gc.h"
#include "integrity.h"
#include "objstore.h"
#include "store.h"
#include "workspace.h"

static void on_problem(void *ctx, const char *kind, const hash128 *h,
                       const char *msg) {
  char hex[HASH_HEX_LEN + 1];
  (void)ctx;
  hash_hex(h, hex);
  printf("%-10s %s: %s\n", kind, hex, msg);
}

static int cache_verify(ws *w, store *st) {
  obj_store *objs;
  char err[512];
  if (obj_open(ws_objects_dir(w), NULL, &objs, err, sizeof err) != 0) {
    fprintf(stderr, "pipec cache verify: %s\n", err);
    return CLI_FAILED;
  }
  integ_report r;
  int rc = integ_verify(st, objs, on_problem, NULL, &r, err, sizeof err);
  obj_close(objs);
  if (rc < 0) {
    fprintf(stderr, "pipec cache verify: %s\n", err);
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

static int cache_gc(ws *w, store *st, uint32_t keep) {
  gc_report r;
  char err[512];
  if (gc_collect(w, st, keep, &r, err, sizeof err) != 0) {
    fprintf(stderr, "pipec cache gc: %s\n", err);
    return CLI_FAILED;
  }
  printf("removed %u object%s (%.1f MB) and %u log%s (%.1f MB); kept %u "
         "object%s (%.1f MB) that the last %u runs, a pipeline's last run, a "
         "labeled snapshot's last run or a node's last success uses\n",
         r.removed, r.removed == 1 ? "" : "s", (double)r.freed_bytes / 1e6,
         r.logs_removed, r.logs_removed == 1 ? "" : "s",
         (double)r.log_bytes / 1e6, r.kept, r.kept == 1 ? "" : "s",
         (double)r.kept_bytes / 1e6, keep);
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
  ws *w;
  store *st;
  int rc = cli_open_workspace("cache", &w, &st);
  if (rc != 0)
    return rc;
  rc = gc ? cache_gc(w, st, (uint32_t)keep) : cache_verify(w, st);
  cli_close_workspace(w, st);
  return rc;
}
