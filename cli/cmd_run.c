/*
 * cmd_run.c — `pipec run FILE [selection] [options]`: compile, then run in
 * the workspace through libpipec (pipec/engine.h); `pipec why FILE NODE`.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "units.h"
#include "pipec/engine.h"
#include "status.h"

typedef struct run_args {
  const char *file;
  cli_strv overrides;
  cli_strv nodes;
  char **lists;                /* copies of --nodes values, split in place */
  size_t n_lists;
  pipec_run_opts o;
  status_mode mode;
  int64_t snapshot;            /* --snapshot N, or 0 */
} run_args;

enum {
  OPT_PARAM = 1, OPT_NODE, OPT_NODES, OPT_FROM, OPT_TO, OPT_JOBS,
  OPT_KEEP_GOING, OPT_DRY_RUN, OPT_FORCE, OPT_JSON, OPT_QUIET, OPT_SNAPSHOT,
};

static const cli_opt run_opts_table[] = {
    {"param", 'p', true, OPT_PARAM},
    {"node", 0, true, OPT_NODE},
    {"nodes", 0, true, OPT_NODES},
    {"from", 0, true, OPT_FROM},
    {"to", 0, true, OPT_TO},
    {"jobs", 'j', true, OPT_JOBS},
    {"keep-going", 'k', false, OPT_KEEP_GOING},
    {"dry-run", 'n', false, OPT_DRY_RUN},
    {"force", 0, false, OPT_FORCE},
    {"json", 0, false, OPT_JSON},
    {"quiet", 'q', false, OPT_QUIET},
    {"snapshot", 0, true, OPT_SNAPSHOT},
    {0},
};

/* The names of "a,b,c" appended to a->nodes (empty names are skipped); a
 * comma inside brackets belongs to a family member's key
 * ("model[1,0.1],report"). */
static int add_nodes(run_args *a, const char *list) {
  char **nl = realloc(a->lists, (a->n_lists + 1) * sizeof *nl);
  if (!nl)
    return -1;
  a->lists = nl;
  char *copy = strdup(list);
  if (!copy)
    return -1;
  a->lists[a->n_lists++] = copy;
  int depth = 0;
  char *tok = copy;
  for (char *q = copy;; q++) {
    if (*q == '[')
      depth++;
    else if (*q == ']' && depth > 0)
      depth--;
    if (*q && (*q != ',' || depth > 0))
      continue;
    bool end = !*q;
    *q = 0;
    if (*tok && cli_strv_add(&a->nodes, tok) != 0)
      return -1;
    if (end)
      break;
    tok = q + 1;
  }
  return 0;
}

static void run_args_free(run_args *a) {
  cli_strv_free(&a->overrides);
  cli_strv_free(&a->nodes);
  for (size_t i = 0; i < a->n_lists; i++)
    free(a->lists[i]);
  free(a->lists);
}

/* -p NAME=VALUE, checked for its '=' (the compiler checks the rest). */
static int add_override(const char *cmd, cli_strv *v, const char *text) {
  if (!strchr(text, '='))
    return cli_usage_error(cmd, "-p takes NAME=VALUE, got '%s'", text);
  return cli_strv_add(v, text) == 0 ? 0 : CLI_USAGE;
}

static int parse_run_args(int argc, char **argv, run_args *a) {
  a->mode = STATUS_LIVE;
  bool single = false;
  cli_args it;
  cli_args_init(&it, "run", argc, argv, run_opts_table);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    const char *v = it.value;
    int64_t j;
    switch (k) {
    case CLI_ARG_ERROR:
      return CLI_USAGE;
    case CLI_ARG_OPERAND:
      if (a->file)
        return cli_usage_error("run", "one FILE only (got '%s' and '%s')",
                               a->file, v);
      a->file = v;
      break;
    case OPT_PARAM:
      if (add_override("run", &a->overrides, v) != 0)
        return CLI_USAGE;
      break;
    case OPT_NODE:
      if (!*v)
        return cli_usage_error("run", "--node needs a node name");
      if (cli_strv_add(&a->nodes, v) != 0)
        return CLI_USAGE;
      single = true;
      break;
    case OPT_NODES:
      if (add_nodes(a, v) != 0) {
        fprintf(stderr, "pipec run: out of memory\n");
        return CLI_USAGE;
      }
      break;
    case OPT_FROM:
      a->o.from = v;
      break;
    case OPT_TO:
      a->o.to = v;
      break;
    case OPT_JOBS:
      if (cli_number("run", it.opt, v, 1, 4096, &j) != 0)
        return CLI_USAGE;
      a->o.jobs = (int)j;
      break;
    case OPT_KEEP_GOING:
      a->o.keep_going = true;
      break;
    case OPT_DRY_RUN:
      a->o.dry_run = true;
      break;
    case OPT_FORCE:
      a->o.force = true;
      break;
    case OPT_JSON:
      a->mode = STATUS_JSON;
      break;
    case OPT_SNAPSHOT:
      if (cli_number("run", it.opt, v, 1, INT64_MAX, &a->snapshot) != 0)
        return CLI_USAGE;
      break;
    case OPT_QUIET:
      a->mode = STATUS_QUIET;
      break;
    }
  }
  if (!a->file)
    return cli_usage_error("run", "missing FILE");
  if (a->nodes.n && (a->o.from || a->o.to))
    return cli_usage_error("run", "--node/--nodes and --from/--to do not "
                                  "combine");
  if (single && a->nodes.n > 1)
    return cli_usage_error("run", "--node takes one node; use --nodes A,B");
  a->o.nodes = (const char *const *)a->nodes.v;
  a->o.n_nodes = (uint32_t)a->nodes.n;
  a->o.overrides = (const char *const *)a->overrides.v;
  a->o.n_overrides = (uint32_t)a->overrides.n;
  return 0;
}

/* The run of one pipeline with the status printer; the exit code. */
static int run_with_status(pipec_ws *w, const pipec_pipeline *p,
                           run_args *a) {
  status_printer sp;
  status_init(&sp, stdout, a->mode, 0);
  a->o.on_event = status_event;
  a->o.event_ctx = &sp;
  pipec_run_summary res;
  pipec_error err;
  int rc = pipec_run(w, p, &a->o, &res, &err);
  if (err.code)
    fprintf(stderr, "pipec run: %s\n", err.msg);
  return rc;
}

/* `pipec run FILE --snapshot N`: snapshot N's configuration, from the
 * store, in a checkout of its own (the working files stay as they are). */
static int run_snapshot(run_args *a) {
  if (a->overrides.n)
    return cli_usage_error("run", "--snapshot runs the -p values the "
                                  "snapshot recorded; give no -p");
  pipec_error err;
  pipec_ws *w = NULL;
  pipec_ws_opts wo = {.file = a->file};
  if (pipec_ws_open(&wo, &w, &err) != 0) {
    fprintf(stderr, "pipec run: %s\n", err.msg);
    return CLI_USAGE;
  }
  pipec_checkout co;
  int rc = CLI_USAGE;
  if (pipec_snapshot_checkout(w, a->snapshot, &co, &err) != 0) {
    rc = cli_api_error("run", &err, CLI_FAILED);
    pipec_ws_close(w);
    return rc;
  }
  /* FILE names the pipeline: the snapshot must be one of its */
  char real[PATH_MAX];
  const char *root = pipec_ws_root(w);
  size_t n = strlen(root);
  const char *rel = realpath(a->file, real) && strncmp(real, root, n) == 0 &&
                            real[n] == '/'
                        ? real + n + 1
                        : a->file;
  if (strcmp(rel, co.main_rec) != 0) {
    fprintf(stderr, "pipec run: snapshot %lld is of %s, not %s\n",
            (long long)a->snapshot, co.main_rec, a->file);
    rc = CLI_USAGE;
  } else {
    pipec_pipeline *p = cli_compile(co.main,
                                    (const char *const *)co.overrides,
                                    co.n_overrides, NULL);
    if (p) {
      fprintf(stderr, "pipec: running snapshot %lld in %s\n",
              (long long)a->snapshot, co.dir);
      a->o.root = co.dir;
      a->o.of_snapshot = a->snapshot;
      a->o.overrides = (const char *const *)co.overrides;
      a->o.n_overrides = co.n_overrides;
      rc = run_with_status(w, p, a);
      pipec_pipeline_free(p);
    }
  }
  pipec_checkout_free(&co);
  pipec_ws_close(w);
  return rc;
}

int cmd_run(int argc, char **argv) {
  if (cli_wants_help("run", argc, argv))
    return CLI_OK;
  run_args a = {0};
  int rc = parse_run_args(argc, argv, &a);
  if (rc != 0)
    goto out;
  rc = CLI_USAGE;
  if (a.snapshot) {
    rc = run_snapshot(&a);
    goto out;
  }
  pipec_pipeline *p = cli_compile(a.file, a.overrides.v,
                                  (unsigned)a.overrides.n, NULL);
  if (!p)
    goto out;
  pipec_error err;
  pipec_ws *w = NULL;
  pipec_ws_opts wo = {.file = a.file, .create = true};
  if (pipec_ws_open(&wo, &w, &err) != 0) {
    /* creating .pipec failed: not a usage problem */
    fprintf(stderr, "pipec run: %s\n", err.msg);
    pipec_pipeline_free(p);
    rc = CLI_WORKSPACE;
    goto out;
  }
  if (pipec_ws_created(w))
    fprintf(stderr, "pipec: created workspace %s\n", pipec_ws_dir(w));
  rc = run_with_status(w, p, &a);
  pipec_ws_close(w);
  pipec_pipeline_free(p);
out:
  run_args_free(&a);
  return rc;
}

static void print_why(const pipec_why *y) {
  switch (y->verdict) {
  case PIPEC_WHY_CACHED:
    printf("%s is cached: it would not run (key %s)\n", y->node, y->key);
    break;
  case PIPEC_WHY_RUNS:
    printf("%s would run: %s\n", y->node, y->reason);
    break;
  case PIPEC_WHY_UPSTREAM:
    printf("%s would run: upstream node '%s' would run first (%s), so its "
           "input may change\n", y->node, y->upstream, y->reason);
    break;
  case PIPEC_WHY_UNKEYABLE:
    printf("%s cannot be keyed: %s\n", y->upstream, y->reason);
    break;
  }
  if (y->image)
    printf("  image %s: %s\n", y->image,
           y->image_id ? y->image_id : "not found on its target");
  if (y->peak_memory > 0) {
    char peak[32], asked[32], want[32];
    units_size_text(y->peak_memory, peak, sizeof peak);
    printf("memory: its last run peaked at %s", peak);
    if (y->memory > 0) {
      units_size_text(y->memory, asked, sizeof asked);
      printf(" %s memory = \"%s\"", y->peak_memory > y->memory ? "over"
                                                              : "of", asked);
    }
    if (y->advice_memory > 0) {
      units_size_text(y->advice_memory, want, sizeof want);
      printf(": ask for memory = \"%s\"", want);
    }
    printf("\n");
  }
}

int cmd_why(int argc, char **argv) {
  if (cli_wants_help("why", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"param", 'p', true, OPT_PARAM}, {0}};
  const char *file = NULL, *node = NULL;
  cli_strv overrides = {0};
  int rc = CLI_USAGE;
  cli_args it;
  cli_args_init(&it, "why", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      goto out;
    if (k == OPT_PARAM) {
      if (add_override("why", &overrides, it.value) != 0)
        goto out;
    } else if (!file) {
      file = it.value;
    } else if (!node) {
      node = it.value;
    } else {
      rc = cli_usage_error("why", "unexpected '%s'", it.value);
      goto out;
    }
  }
  if (!file || !node) {
    rc = cli_usage_error("why", "expected FILE NODE");
    goto out;
  }
  pipec_pipeline *p = cli_compile(file, overrides.v, (unsigned)overrides.n,
                                  NULL);
  if (!p)
    goto out;
  pipec_error err;
  pipec_ws *w = NULL;
  pipec_ws_opts wo = {.file = file};
  pipec_why y = {0};
  if (pipec_ws_open(&wo, &w, &err) == 0 &&
      pipec_why_node(w, p, node, &y, &err) == 0) {
    print_why(&y);
    rc = CLI_OK;
  } else {
    fprintf(stderr, "pipec why: %s\n", err.msg);
    rc = err.code == PIPEC_E_WORKSPACE && w ? CLI_WORKSPACE : CLI_USAGE;
  }
  pipec_why_free(&y);
  pipec_ws_close(w);
  pipec_pipeline_free(p);
out:
  cli_strv_free(&overrides);
  return rc;
}
