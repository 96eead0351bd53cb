/*
 * main.c — `pipec`: the subcommand table, help and version.
 *
 * Like ninja's tool table: {name, summary, usage, function}; an unknown
 * command gets the nearest known name as a suggestion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "editdist.h"
#include "pipec/stdlib.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

const cli_command cli_commands[] = {
    {"check", "compile a pipeline and print its diagnostics",
     "usage: pipec check FILE [-p NAME=VALUE]...\n"
     "\n"
     "Compile FILE and every file it imports; print errors and warnings with\n"
     "their location. Exit 0 if there is no error, 2 otherwise.\n"
     "\n"
     "  -p, --param NAME=VALUE   override a pipeline param\n",
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
     "compile error, 130 interrupted (Ctrl-C: a second one kills at once).\n",
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
     "usage: pipec runs [--json] [-n N]\n"
     "\n"
     "List the workspace's runs (newest first, the last 50 or N): status,\n"
     "start, duration, nodes ran / cached / failed, and the snapshot.\n",
     cmd_runs},
    {"show", "show one run: every node's status, cache hit or miss, target",
     "usage: pipec show [RUN] [--json]\n"
     "\n"
     "Show run RUN (a number, or 'last', the default): each node's status\n"
     "(succeeded, cached, failed, skipped, cancelled), target, job id,\n"
     "attempts, exit code, time, and why it ran (the part of its cache key\n"
     "that changed). --json prints the same as one JSON object.\n",
     cmd_show},
    {"logs", "print a node's stdout and stderr",
     "usage: pipec logs [RUN] NODE\n"
     "\n"
     "Print the log (stdout and stderr, all attempts) of NODE in RUN (a\n"
     "number or 'last', the default).\n",
     cmd_logs},
    {"cat", "print a node's output",
     "usage: pipec cat NODE[.PORT] [RUN]\n"
     "\n"
     "Print the output PORT of NODE (PORT may be left out when the node has\n"
     "one output) as produced or reused in RUN (default: the last run).\n",
     cmd_cat},
    {"snapshots", "list snapshots: what each run ran",
     "usage: pipec snapshots [FILE] [--json]\n"
     "\n"
     "List snapshots, newest first (only FILE's pipeline if given): when,\n"
     "the run mode and selection, the -p overrides, and the run that used\n"
     "it. Every pipec run records one; pipec rollback records one of the\n"
     "files it replaces (mode before-rollback).\n",
     cmd_snapshots},
    {"diff", "what changed between two snapshots",
     "usage: pipec diff SNAP_A SNAP_B\n"
     "\n"
     "Recompile both snapshots from their stored files and print what\n"
     "changed from A to B: nodes added and removed, params (old -> new),\n"
     "rewired inputs, targets, node settings, and source files.\n",
     cmd_diff},
    {"rollback", "restore the pipeline's files as they were in a snapshot",
     "usage: pipec rollback SNAP [--dry-run]\n"
     "\n"
     "Rewrite the source files of snapshot SNAP byte for byte. The files as\n"
     "they are now are recorded first as a new snapshot, so a rollback can\n"
     "be undone with another rollback. A run afterwards hits the cache.\n"
     "--dry-run lists the files that would change.\n",
     cmd_rollback},
    {"cache", "verify or garbage-collect the object store",
     "usage: pipec cache verify\n"
     "       pipec cache gc [--keep N]\n"
     "\n"
     "verify re-hashes every stored output; a damaged one, or a symlink or\n"
     "directory under an object's name, is reported and removed with every\n"
     "cache entry that names it or was computed from it, so those nodes run\n"
     "again; objects the cache names but the store lacks are reported too\n"
     "(exit 1 if anything was wrong).\n"
     "gc keeps the outputs of the newest N runs (default 10), of the newest\n"
     "run of every pipeline and of every labeled snapshot, of runs still\n"
     "going, and the newest successful outputs of every node of each\n"
     "pipeline's newest configuration (so partial runs find their inputs);\n"
     "it removes every other object, the logs of the runs it collects, and\n"
     "scratch files of runs that are over.\n",
     cmd_cache},
    {"targets", "list a pipeline's compute targets and their quotas",
     "usage: pipec targets FILE [--json]\n"
     "\n"
     "List the targets of FILE's pipeline (local is always there): kind,\n"
     "how many nodes run on each, what a run of this pipeline in this\n"
     "workspace holds on it right now (nodes running, and cpus, memory,\n"
     "gpus and slots against the quota), and its options (cpus, memory,\n"
     "gpus, slots; host, partition, ...). Sizes are in bytes, durations\n"
     "in seconds.\n",
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
    {"help", "show help for a command", "usage: pipec help [COMMAND]\n",
     cmd_help},
    {"version", "print the version", "usage: pipec version\n", cmd_version},
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
               "the language is in docs/language.md.\n");
}

static const char *const *command_names(void) {
  static const char *names[64];
  for (unsigned i = 0; i < cli_n_commands && i < 64; i++)
    names[i] = cli_commands[i].name;
  return names;
}

static int cmd_help(int argc, char **argv) {
  if (argc < 2) {
    print_overview(stdout);
    return CLI_OK;
  }
  const cli_command *c = find_command(argv[1]);
  if (!c) {
    fprintf(stderr, "pipec help: unknown command '%s'\n", argv[1]);
    cli_suggest(argv[1], command_names(), cli_n_commands);
    return CLI_USAGE;
  }
  fputs(c->usage, stdout);
  return CLI_OK;
}

static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("pipec %s\n", PIPEC_VERSION);
  return CLI_OK;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "pipec %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  const cli_command *c = find_command(cmd);
  if (c) {
    /* the first line of the usage text */
    const char *nl = strchr(c->usage, '\n');
    fprintf(stderr, "%.*s\n", nl ? (int)(nl - c->usage) : (int)strlen(c->usage),
            c->usage);
  }
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

void cli_suggest(const char *word, const char *const *words, unsigned n) {
  const char *best = editdist_suggest(word, words, n);
  if (best)
    fprintf(stderr, "  did you mean '%s'?\n", best);
}

int main(int argc, char **argv) {
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
    return cmd_version(0, NULL);
  const cli_command *c = find_command(name);
  if (!c) {
    fprintf(stderr, "pipec: unknown command '%s'\n", name);
    cli_suggest(name, command_names(), cli_n_commands);
    fprintf(stderr, "run 'pipec --help' for the list of commands\n");
    return CLI_USAGE;
  }
  if (c->run != cmd_help && cli_wants_help(c->name, argc - 1, argv + 1))
    return CLI_OK;
  return c->run(argc - 1, argv + 1);
}
