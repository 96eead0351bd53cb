/*
 * cli.h — what the `pipec` subcommands share. The CLI is thin: it parses
 * arguments, calls libpipec (include/pipec/: the engine API of engine.h,
 * the compiler's, the diagnostics printer) and prints. It includes no
 * header of the engine's or the compiler's insides.
 *
 * Exit codes (DESIGN §5, docs/cli.md): 0 success, 1 a node failed, 2 bad
 * usage or a compile error, 3 the workspace cannot be used (its database
 * is damaged or unreadable, the disk is full, it stays busy), 130
 * interrupted.
 *
 * Every command parses its arguments with cli_args (options from a table,
 * `--` ends them, values as "--opt V", "--opt=V" or "-oV") and its numbers
 * with cli_number (range-checked), so a bad option or number is exit 2
 * with the same kind of message everywhere.
 */
#ifndef PIPEC_CLI_H
#define PIPEC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipec/compiler.h"
#include "pipec/engine.h"
#include "pipec/json.h"

enum {
  CLI_OK = 0,
  CLI_FAILED = 1,
  CLI_USAGE = 2,
  CLI_WORKSPACE = 3,
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

/* Print "pipec CMD: message" and the usage lines to stderr; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The "usage:" lines of CMD's help (up to its first blank line), to
 * stderr. */
void cli_usage_lines(const char *cmd);

/* ---- arguments (cli/args.c) ------------------------------------------------ */

/* One option of a command. A table ends with an entry whose id is 0. */
typedef struct cli_opt {
  const char *name;            /* long name without "--", or NULL */
  char letter;                 /* short name, or 0 */
  bool has_value;
  int id;                      /* > 0: what cli_args_next returns */
} cli_opt;

enum {
  CLI_ARG_END = -1,            /* no arguments left */
  CLI_ARG_ERROR = -2,          /* message and usage printed: exit CLI_USAGE */
  CLI_ARG_OPERAND = 0,         /* a word that is not an option: in value */
};

typedef struct cli_args {
  const char *cmd;
  int argc;
  char **argv;
  const cli_opt *opts;
  int i;                       /* the next argv index */
  const char *bundle;          /* the rest of a group of short options */
  bool operands_only;          /* after "--" */
  const char *value;           /* the option's value, or the operand */
  char opt[64];                /* the option as written ("-j", "--jobs") */
} cli_args;

/* argv[0] is the command's name and is skipped. */
void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv,
                   const cli_opt *opts);
/* The next option's id (its value, if it takes one, in a->value), or
 * CLI_ARG_OPERAND, CLI_ARG_END, CLI_ARG_ERROR. Short options group ("-kq",
 * "-j4"); "-" alone is an operand; after "--" everything is. */
int cli_args_next(cli_args *a);

/* text as a whole number (decimal digits, optional leading '-') in [min,
 * max]: 0, -EINVAL (not a number) or -ERANGE. Prints nothing. */
int cli_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);
/* The same, printing "pipec CMD: WHAT needs a whole number from MIN to MAX,
 * got 'TEXT'" and the usage: 0 or CLI_USAGE. */
int cli_number(const char *cmd, const char *what, const char *text,
               int64_t min, int64_t max, int64_t *out);

/* A growable array of borrowed strings, NULL-terminated (v[n] == NULL). */
typedef struct cli_strv {
  const char **v;
  size_t n, cap;
} cli_strv;
/* 0, or -1 after printing "out of memory". */
int cli_strv_add(cli_strv *v, const char *s);
void cli_strv_free(cli_strv *v);

/* True if argv[i] is -h or --help; then prints the command's help. */
bool cli_wants_help(const char *cmd, int argc, char **argv);

/* Compile FILE with pipec_load (the built-in components, plugins, target
 * kinds, the project check) and `-p` overrides; print diagnostics to
 * stderr (colored on a terminal). Returns the pipeline or NULL. The caller
 * frees it with pipec_pipeline_free. */
pipec_pipeline *cli_compile(const char *path, const char *const *overrides,
                            unsigned n_overrides, unsigned *n_warnings);
/* The same against the quota groups of quota_file (NULL: the
 * workspace's). */
pipec_pipeline *cli_compile_quotas(const char *path,
                                   const char *const *overrides,
                                   unsigned n_overrides,
                                   const char *quota_file,
                                   unsigned *n_warnings);

/* The known word nearest to `word`, if it is near enough to be what the
 * user meant (editdist_suggest, and at most one edit in three letters of
 * the shorter word, so "bogus" does not suggest "logs"); else NULL. */
const char *cli_nearest(const char *word, const char *const *words,
                        unsigned n);
/* Print cli_nearest as "  did you mean 'X'?" to stderr, if there is one. */
void cli_suggest(const char *word, const char *const *words, unsigned n);

/* The workspace, with its database opened (pipec_ws_check), for a
 * command on pipeline file `file` (NULL: none; then the workspace is
 * searched from the current directory only): 0, or the exit code after
 * printing "pipec CMD: why" (CLI_USAGE: no workspace; CLI_WORKSPACE: its
 * database cannot be used). Opening it also removes what a killed
 * rollback left. Close it with pipec_ws_close. */
int cli_open_workspace(const char *cmd, const char *file, pipec_ws **w);
/* Print "pipec CMD: <err's message>"; returns CLI_WORKSPACE for
 * PIPEC_E_WORKSPACE (the workspace cannot be used), else `other`. */
int cli_api_error(const char *cmd, const pipec_error *err, int other);
/* A run id from "N" or "last"; 0 after printing that there is no such run
 * (exit CLI_USAGE), -1 after printing the workspace's error
 * (CLI_WORKSPACE). */
int64_t cli_run_id(const char *cmd, pipec_ws *w, const char *arg);
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
int cmd_drafts(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_ui(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_measure(int argc, char **argv);

#endif
