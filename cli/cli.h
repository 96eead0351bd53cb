/*
 * cli.h — what the `pipec` subcommands share. The CLI is thin: it parses
 * arguments, calls the compiler and engine libraries, and prints.
 *
 * Exit codes (DESIGN §5): 0 success, 1 a node failed, 2 bad usage or a
 * compile error, 130 interrupted.
 */
#ifndef PIPEC_CLI_H
#define PIPEC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipec/compiler.h"
#include "pipec/json.h"

enum {
  CLI_OK = 0,
  CLI_FAILED = 1,
  CLI_USAGE = 2,
  CLI_INTERRUPTED = 130,
};

typedef struct cli_command {
  const char *name;
  const char *summary;  /* one line for `pipec --help` */
  const char *usage;    /* full text for `pipec help CMD` */
  int (*run)(int argc, char **argv);  /* argv[0] is the command name */
} cli_command;

/* The command table (cli/main.c). */
extern const cli_command cli_commands[];
extern const unsigned cli_n_commands;

/* Print "pipec CMD: message" and the usage line to stderr; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True if argv[i] is -h or --help; then prints the command's help. */
bool cli_wants_help(const char *cmd, int argc, char **argv);

/* Compile FILE with the built-in registry and `-p` overrides; print
 * diagnostics to stderr (colored on a terminal). Returns the pipeline or
 * NULL. The caller frees it with pipec_pipeline_free. */
pipec_pipeline *cli_compile(const char *path, const char *const *overrides,
                            unsigned n_overrides, unsigned *n_warnings);

/* Print the nearest known word to `word` among `words` as a hint, if any. */
void cli_suggest(const char *word, const char *const *words, unsigned n);

/* The workspace and its store, for the history commands; -1 after
 * printing why not. */
typedef struct ws ws;
typedef struct store store;
int cli_open_workspace(const char *cmd, ws **w, store **st);
/* The same for a command on pipeline file `file` (NULL: none): the
 * workspace is searched from the file's directory first (ws_find). */
int cli_open_workspace_for(const char *cmd, const char *file, ws **w,
                           store **st);
void cli_close_workspace(ws *w, store *st);
/* A run id from "N" or "last"; 0 after printing why not. */
int64_t cli_run_id(const char *cmd, store *st, const char *arg);
/* `"key": v`, or `"key": null` when !present. */
void cli_json_int_or_null(pipec_json *j, const char *key, int64_t v,
                          bool present);

/* Local time "YYYY-MM-DD HH:MM:SS" of ms since the epoch. */
void cli_time(int64_t ms, char *buf, size_t len);

/* Commands, one per file group. */
int cmd_check(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_components(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_snapshots(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_exec(int argc, char **argv);

#endif
