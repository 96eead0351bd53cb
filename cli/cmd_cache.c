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
  if (argc < 2)
    return cli_usage_error("cache", "expected gc or verify");
  uint32_t keep = 10;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 0)
        return cli_usage_error("cache", "--keep needs a number of runs");
      keep = (uint32_t)v;
    } else {
      return cli_usage_error("cache", "unexpected '%s'", argv[i]);
    }
  }
  bool gc = strcmp(argv[1], "gc") == 0;
  if (!gc && strcmp(argv[1], "verify") != 0)
    return cli_usage_error("cache", "unknown subcommand '%s' (gc or verify)",
                           argv[1]);
  ws *w;
  store *st;
  if (cli_open_workspace("cache", &w, &st) != 0)
    return CLI_USAGE;
  int rc = gc ? cache_gc(w, st, keep) : cache_verify(w, st);
  cli_close_workspace(w, st);
  return rc;
}
