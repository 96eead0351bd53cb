/*
 * main.c — `pipec`: the subcommand table, help and version.
 *
 * Like ninja's tool table: {name, summary, usage, function}; an unknown
 * command gets the nearest known name as a suggestion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "editdist.h"
#include "pipec/engine.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

const cli_command cli_commands[] = {
    {"check", "compile a pipeline and print its diagnostics",
     "usage: pipec check FILE [-p NAME=VALUE]... [--quotas QUOTAFILE]\n"
     "\n"
     "Compile FILE and every file it imports; print errors and warnings with\n"
     "their location. Exit 0 if there is no error, 2 otherwise.\n"
     "\n"
     "  -p, --param NAME=VALUE   override a pipeline param\n"
     "  --quotas QUOTAFILE       check against these quota groups (default:\n"
     "                           the workspace's .pipec/quotas.pipe)\n",
     cmd_check},
    {"graph", "print the pipeline's DAG as text, dot or json",
     "usage: pipec graph FILE [--format text|dot|json] [-p NAME=VALUE]...\n"
     "\n"
     "Print the compiled DAG. text (default) is a listing for a terminal;\n"
     "dot renders with Graphviz (pipec graph p.pipe --format dot | dot -Tsvg);\n"
     "json follows the schema in docs/cli.md.\n",
     cmd_graph},
    {"run", "run a pipeline (cached nodes are not run again)",
     "usage: pipec run FILE [-p NAME=VALUE]... [SELECTION] [OPTIONS]\n"
     "\n"
     "Compile FILE, record a snapshot of it, and run its nodes in the\n"
     "workspace (.pipec/ here or in a parent directory, or $PIPEC_HOME).\n"
     "A node whose cache key is unchanged is not run again.\n"
     "\n"
     "selection (default: every node):\n"
     "  --node N          only node N (its inputs come from the store)\n"
     "  --nodes A,B       exactly these nodes\n"
     "  --from N          N and everything downstream of it\n"
     "  --to N            N and everything upstream of it\n"
     "  --from A --to B   the nodes between A and B\n"
     "\n"
     "options:\n"
     "  -p, --param NAME=VALUE   override a pipeline param\n"
     "  -j, --jobs N             run at most N nodes at once (default: cores)\n"
     "  -k, --keep-going         after a failure, finish independent branches\n"
     "  -n, --dry-run            print what would run and why; run nothing\n"
     "      --force              run the selected nodes even if cached\n"
     "      --json               print events as JSON lines\n"
     "  -q, --quiet              print only failures and the summary\n"
     "\n"
     "Exit status: 0 all nodes succeeded, 1 a node failed, 2 bad usage or a\n"
     "compile error, 3 the workspace cannot be used (its database is damaged\n"
     "or unreadable, the disk is full), 130 interrupted (Ctrl-C: a second one\n"
     "kills at once).\n",
     cmd_run},
    {"why", "say why a node would run (what changed in its cache key)",
     "usage: pipec why FILE NODE [-p NAME=VALUE]...\n"
     "\n"
     "Compile FILE and tell whether NODE would run, and why: which part of\n"
     "its cache key differs from its last successful run (a param with its\n"
     "old and new value, an input, a code file, the component version), or\n"
     "that it never ran, or which upstream node would run first. Runs\n"
     "nothing.\n",
     cmd_why},
    {"runs", "list runs, newest first",
     "usage: pipec runs [--json] [-n, --limit N]\n"
     "\n"
     "List the workspace's runs (newest first, the last 50 or N, N from 1):\n"
     "status, start, duration, nodes ran / cached / failed, and the snapshot.\n",
     cmd_runs},
    {"show", "show one run: every node's status, cache hit or miss, target",
     "usage: pipec show [RUN] [--json]\n"
     "\n"
     "Show run RUN (a number, or 'last', the default: the newest run of\n"
     "any pipeline, named in the first line): each node's status\n"
     "(succeeded, cached, failed, skipped, cancelled), target, job id,\n"
     "attempts, exit code, time, memory (peak/asked) and why it ran (the\n"
     "part of its cache key that changed), then a memory request for the\n"
     "nodes whose peak was far from theirs. --json prints the same as one\n"
     "JSON object.\n",
     cmd_show},
    {"logs", "print a node's stdout and stderr",
     "usage: pipec logs [RUN] NODE\n"
     "\n"
     "Print the log (stdout and stderr, all attempts) of NODE in RUN (a\n"
     "number, or 'last': the newest run). Without RUN: the newest run in\n"
     "which NODE ran, named on stderr.\n",
     cmd_logs},
    {"cat", "print a node's output",
     "usage: pipec cat NODE[.PORT] [RUN]\n"
     "\n"
     "Print the output PORT of NODE (PORT may be left out when the node has\n"
     "one output) as produced or reused in RUN (a number, or 'last': the\n"
     "newest run). Without RUN: the newest run that has NODE, named on\n"
     "stderr.\n",
     cmd_cat},
    {"snapshots", "list snapshots: what each run ran",
     "usage: pipec snapshots [FILE] [--json]\n"
     "\n"
     "List snapshots, newest first (only FILE's pipeline if given): when,\n"
     "the run mode, the -p overrides and the selection as they were typed,\n"
     "and the run that used it. Every pipec run records one (its .pipe and\n"
     "code files byte for byte, its data files' hashes, its -p values);\n"
     "pipec rollback records one of the files it replaces (mode\n"
     "before-rollback). --json: one object per snapshot, with overrides as\n"
     "{NAME: VALUE} and selection as {nodes, from, to, force}.\n",
     cmd_snapshots},
    {"diff", "what changed between two snapshots",
     "usage: pipec diff SNAP_A SNAP_B\n"
     "\n"
     "Recompile both snapshots from their stored files and print what\n"
     "changed from A to B: params (old -> new), nodes added and removed,\n"
     "rewired inputs, targets, node settings, .pipe files (with a unified\n"
     "diff), -p values, code files (old -> new hash, and a unified diff of\n"
     "text) and data files (old -> new hash).\n",
     cmd_diff},
    {"rollback", "restore the pipeline's files as they were in a snapshot",
     "usage: pipec rollback SNAP [--dry-run] [--data]\n"
     "\n"
     "Rewrite the .pipe and code files of snapshot SNAP byte for byte (with\n"
     "--data also the data files it read: path params, source files and\n"
     "directories, from the store). The\n"
     "files as they are now are recorded first as a new snapshot, so a\n"
     "rollback can be undone with another rollback. A run afterwards hits\n"
     "the cache. Nothing is written through a symbolic link that leads out\n"
     "of the project (the rollback is refused). -n, --dry-run lists the\n"
     "files that would change.\n",
     cmd_rollback},
    {"drafts", "list, compare and restore recorded edits of .pipe files",
     "usage: pipec drafts [FILE] [--json]\n"
     "       pipec drafts show N\n"
     "       pipec drafts restore N [--dry-run]\n"
     "\n"
     "Every time pipec sees a pipeline's .pipe files changed (each run,\n"
     "dry or not, and before a rollback or restore replaces them) it\n"
     "records their bytes as a draft revision, so no edit is lost.\n"
     "\n"
     "drafts [FILE] lists the revisions, newest first (only FILE's pipeline\n"
     "if given): id, pipeline, when, the snapshot and run that used it, and\n"
     "the files it changed against the revision before it (+ added, -\n"
     "removed). --json: one object per revision.\n"
     "drafts show N prints what revision N changed, as unified diffs.\n"
     "drafts restore N writes N's files back byte for byte, after recording\n"
     "the files as they are now as a revision of their own, so a restore can\n"
     "be undone with another one; nothing is written through a symbolic link\n"
     "that leads out of the project. -n, --dry-run lists the files that\n"
     "would change. (To list a file named 'show' or 'restore', write\n"
     "./show.)\n",
     cmd_drafts},
    {"cache", "verify or garbage-collect the object store; push to and "
              "pull from shared caches",
     "usage: pipec cache verify\n"
     "       pipec cache gc [--keep N]\n"
     "       pipec cache push [NAME]\n"
     "       pipec cache pull [NAME]\n"
     "\n"
     "verify re-hashes every stored output; a damaged one, or a symlink or\n"
     "directory under an object's name, is reported and removed with every\n"
     "cache entry that names it or was computed from it, so those nodes run\n"
     "again; objects the cache names but the store lacks are reported too\n"
     "(exit 1 if anything was wrong).\n"
     "gc keeps the outputs of the newest N runs (default 10), of the newest\n"
     "run of every pipeline and of every labeled snapshot, of runs still\n"
     "going, the newest successful outputs of every node of each\n"
     "pipeline's newest configuration (so partial runs find their inputs),\n"
     "and the code files of every snapshot (rollback restores them); it\n"
     "removes every other object, the logs of the runs it collects, and\n"
     "scratch files of runs that are over. N is a whole number from 0.\n"
     "push copies every cache entry (and its objects) that the shared cache\n"
     "NAME lacks into it (default: every shared cache that is not\n"
     "readonly); runs push their successes themselves, so this sends what\n"
     "a killed run or an unreachable cache left behind. pull copies every\n"
     "entry of the shared cache NAME (default: every one) that this\n"
     "workspace lacks, re-hashing each object; an entry whose objects are\n"
     "missing or damaged is reported and left (exit 1). Shared caches are\n"
     "named in .pipec/config or $PIPEC_CACHE (docs/cache.md).\n",
     cmd_cache},
    {"targets", "list a pipeline's compute targets and their quotas",
     "usage: pipec targets FILE [--json]\n"
     "\n"
     "List the targets of FILE's pipeline (local is always there): kind,\n"
     "how many nodes run on each, what a run of this pipeline in this\n"
     "workspace holds on it right now (nodes running, and cpus, memory,\n"
     "gpus and slots against the quota), and its options (cpus, memory,\n"
     "gpus, slots; host, partition, ...). Sizes are in bytes, durations\n"
     "in seconds. Then the workspace's quota groups on those targets\n"
     "(.pipec/quotas.pipe) with what every live run holds of each.\n",
     cmd_targets},
    {"components", "list the built-in components",
     "usage: pipec components [NAME] [--json | --markdown]\n"
     "\n"
     "List every built-in component (or only NAME) with its ports, params,\n"
     "defaults and documentation. --json prints the same as JSON;\n"
     "--markdown prints docs/components.md.\n",
     cmd_components},
    {"exec", "run one built-in component by itself",
     "usage: pipec exec COMPONENT [--plugin LIB] [--in PORT=PATH]...\n"
     "                  [--out PORT=PATH]...\n"
     "                  [--param NAME=VALUE]... [--workdir DIR]\n"
     "\n"
     "Run a built-in component outside a pipeline: this is what every\n"
     "target runs for a built-in node. Values are written as on the command\n"
     "line: strings as they are, lists as a,b,c or [\"a\", \"b\"].\n"
     "Exit 0 on success, 1 if the component failed, 2 on bad usage.\n",
     cmd_exec},
    {"ui", "serve the workspace's web view (DAG, runs, history, metrics)",
     "usage: pipec ui [--port P] [--bind ADDR] [--read-only] [--open]\n"
     "\n"
     "Serve a web view of the workspace (docs/ui.md) until Ctrl-C: its\n"
     "pipelines and their DAGs coloured by the last run and updated live,\n"
     "runs, logs, snapshots and their diffs, metrics, and buttons to run,\n"
     "re-run a node or family and roll back. It prints the URL to open,\n"
     "with a random token that every request needs.\n"
     "\n"
     "  -p, --port P      the port (default: one the system picks)\n"
     "      --bind ADDR   the address to listen on (default 127.0.0.1)\n"
     "      --read-only   serve no action: nothing can be run or rolled back\n"
     "      --open        open the URL in the browser (xdg-open)\n",
     cmd_ui},
    {"report", "write one run as a self-contained HTML file",
     "usage: pipec report [RUN] [-o FILE]\n"
     "\n"
     "Write run RUN (a number, or 'last', the default) as one HTML file that\n"
     "needs nothing else to open: the DAG coloured by the run, each node's\n"
     "status, target, times and attempts, a timeline, and the metrics (json\n"
     "outputs whose values are numbers). To FILE (written whole, then\n"
     "renamed into place) or stdout.\n",
     cmd_report},
    {"measure", "run a command and report its peak memory",
     "usage: pipec measure [--memory BYTES] REPORT -- COMMAND [ARGS]...\n"
     "\n"
     "Run COMMAND, then write 'peak=BYTES oom=0|1 enforced=0|1' to REPORT:\n"
     "its largest resident set, whether it was killed for memory, whether\n"
     "the --memory limit was enforced (a memory cgroup, where this machine\n"
     "allows one). Exit as COMMAND did. The ssh and Slurm targets run nodes\n"
     "under it (docs/targets.md); 'pipec measure --check' exits 0.\n",
     cmd_measure},
    {"help", "show help for a command",
     "usage: pipec help [COMMAND]\n"
     "\n"
     "Without COMMAND, list the commands; with one, print its help (the\n"
     "same as 'pipec COMMAND --help').\n",
     cmd_help},
    {"version", "print the version",
     "usage: pipec version\n"
     "\n"
     "Print pipec's version (also 'pipec --version').\n",
     cmd_version},
};
const unsigned cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];

static const cli_command *find_command(const char *name) {
  for (unsigned i = 0; i < cli_n_commands; i++)
    if (strcmp(cli_commands[i].name, name) == 0)
      return &cli_commands[i];
  return NULL;
}

static void print_overview(FILE *out) {
  fprintf(out,
          "pipec %s — pipelines as code: compile, run, cache, roll back\n"
          "\n"
          "usage: pipec COMMAND [ARGS]\n"
          "\n"
          "commands:\n",
          PIPEC_VERSION);
  for (unsigned i = 0; i < cli_n_commands; i++)
    fprintf(out, "  %-10s %s\n", cli_commands[i].name,
            cli_commands[i].summary);
  fprintf(out, "\n'pipec help COMMAND' or 'pipec COMMAND --help' for more; "
               "the language is in docs/language.md.\n"
               "Exit status: 0 success, 1 a node failed, 2 bad usage or a "
               "compile error,\n3 the workspace cannot be used (damaged or "
               "unreadable database, full disk),\n130 interrupted. '--' ends "
               "a command's options.\n");
}

/* The command names, for suggestions (malloc'd; NULL if out of memory). */
static const char **command_names(void) {
  const char **names = calloc(cli_n_commands + 1, sizeof *names);
  for (unsigned i = 0; names && i < cli_n_commands; i++)
    names[i] = cli_commands[i].name;
  return names;
}

/* "pipec[ help]: unknown command 'x'", and the nearest command if one is
 * near enough. */
static void unknown_command(const char *prefix, const char *name) {
  fprintf(stderr, "%s: unknown command '%s'\n", prefix, name);
  const char **names = command_names();
  if (names)
    cli_suggest(name, names, cli_n_commands);
  free(names);
  fprintf(stderr, "run 'pipec --help' for the list of commands\n");
}

static int cmd_help(int argc, char **argv) {
  static const cli_opt opts[] = {{"help", 'h', false, 1}, {0}};
  cli_args a;
  cli_args_init(&a, "help", argc, argv, opts);
  const char *topic = NULL;
  for (int k; (k = cli_args_next(&a)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1 && !topic)
      topic = "help";
    else if (k == CLI_ARG_OPERAND && !topic)
      topic = a.value;
    else
      return cli_usage_error("help", "one COMMAND only");
  }
  if (!topic) {
    print_overview(stdout);
    return CLI_OK;
  }
  const cli_command *c = find_command(topic);
  if (!c) {
    unknown_command("pipec help", topic);
    return CLI_USAGE;
  }
  fputs(c->usage, stdout);
  return CLI_OK;
}

static int cmd_version(int argc, char **argv) {
  if (argc > 1)
    return cli_usage_error("version", "unexpected '%s'", argv[1]);
  printf("pipec %s\n", PIPEC_VERSION);
  return CLI_OK;
}

void cli_usage_lines(const char *cmd) {
  const cli_command *c = find_command(cmd);
  if (!c)
    return;
  /* the usage lines: the text up to its first blank line */
  const char *end = strstr(c->usage, "\n\n");
  size_t len = end ? (size_t)(end - c->usage) : strlen(c->usage);
  while (len && c->usage[len - 1] == '\n')
    len--;
  fprintf(stderr, "%.*s\n", (int)len, c->usage);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "pipec %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  cli_usage_lines(cmd);
  return CLI_USAGE;
}

bool cli_wants_help(const char *cmd, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      const cli_command *c = find_command(cmd);
      if (c)
        fputs(c->usage, stdout);
      return true;
    }
  }
  return false;
}

const char *cli_nearest(const char *word, const char *const *words,
                        unsigned n) {
  const char *best = editdist_suggest(word, words, n);
  if (!best)
    return NULL;
  size_t shorter = strlen(word) < strlen(best) ? strlen(word) : strlen(best);
  int d = editdist(word, best, true, 0);
  return (size_t)d * 3 <= shorter ? best : NULL;
}

void cli_suggest(const char *word, const char *const *words, unsigned n) {
  const char *best = cli_nearest(word, words, n);
  if (best)
    fprintf(stderr, "  did you mean '%s'?\n", best);
}

/* The pipec command's out-of-memory policy (pipec_set_oom_handler): say
 * so, exit 2. */
static void cli_oom(size_t n) {
  if (n)
    fprintf(stderr, "pipec: out of memory (%zu more bytes needed)\n", n);
  else
    fprintf(stderr, "pipec: out of memory\n");
  fflush(stderr);
  _exit(CLI_USAGE);
}

int main(int argc, char **argv) {
  pipec_set_oom_handler(cli_oom);
  if (argc < 2) {
    print_overview(stderr);
    return CLI_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    print_overview(stdout);
    return CLI_OK;
  }
  if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
    return cmd_version(argc - 1, argv + 1);
  const cli_command *c = find_command(name);
  if (!c) {
    unknown_command("pipec", name);
    return CLI_USAGE;
  }
  if (c->run != cmd_help && cli_wants_help(c->name, argc - 1, argv + 1))
    return CLI_OK;
  return c->run(argc - 1, argv + 1);
}
