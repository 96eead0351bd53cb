/*
 * args.c — the one argument parser of every `pipec` command (cli.h):
 * options from a table, `--` ending them, and whole numbers with range
 * checks. Nothing here writes into a fixed-size array, so no number or
 * length of arguments can overflow anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv,
                   const cli_opt *opts) {
  memset(a, 0, sizeof *a);
  a->cmd = cmd;
  a->argc = argc;
  a->argv = argv;
  a->opts = opts;
  a->i = 1; /* argv[0] is the command's name */
}

static const cli_opt *find_long(const cli_opt *opts, const char *name,
                                size_t len) {
  for (const cli_opt *o = opts; o && o->id; o++)
    if (o->name && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      return o;
  return NULL;
}

static const cli_opt *find_short(const cli_opt *opts, char c) {
  for (const cli_opt *o = opts; o && o->id; o++)
    if (o->letter && o->letter == c)
      return o;
  return NULL;
}

/* "unknown option '--josn'", the nearest long option as a hint, the
 * usage lines. */
static int unknown(cli_args *a, const char *arg) {
  fprintf(stderr, "pipec %s: unknown option '%s'\n", a->cmd, arg);
  cli_strv names = {0};
  for (const cli_opt *o = a->opts; o && o->id; o++) {
    char *dashed = o->name ? malloc(strlen(o->name) + 3) : NULL;
    if (dashed) {
      sprintf(dashed, "--%s", o->name);
      if (cli_strv_add(&names, dashed) != 0)
        free(dashed);
    }
  }
  if (names.n)
    cli_suggest(arg, names.v, (unsigned)names.n);
  for (size_t i = 0; i < names.n; i++)
    free((char *)names.v[i]);
  cli_strv_free(&names);
  cli_usage_lines(a->cmd);
  return CLI_ARG_ERROR;
}

static int missing_value(cli_args *a) {
  cli_usage_error(a->cmd, "%s needs a value", a->opt);
  return CLI_ARG_ERROR;
}

int cli_args_next(cli_args *a) {
  a->value = NULL;
  if (a->bundle && *a->bundle) { /* the rest of "-kq" */
    char c = *a->bundle++;
    snprintf(a->opt, sizeof a->opt, "-%c", c);
    const cli_opt *o = find_short(a->opts, c);
    if (!o) {
      char text[3] = {'-', c, 0};
      return unknown(a, text);
    }
    if (o->has_value) {
      if (*a->bundle) { /* "-j4", "-kj4" */
        a->value = a->bundle;
      } else if (a->i < a->argc) {
        a->value = a->argv[a->i++];
      } else {
        a->bundle = NULL;
        return missing_value(a);
      }
      a->bundle = NULL;
    }
    return o->id;
  }
  a->bundle = NULL;
  if (a->i >= a->argc)
    return CLI_ARG_END;
  const char *arg = a->argv[a->i++];
  if (a->operands_only || arg[0] != '-' || arg[1] == 0) {
    a->value = arg; /* "-" alone is an operand (stdin, by convention) */
    return CLI_ARG_OPERAND;
  }
  if (strcmp(arg, "--") == 0) {
    a->operands_only = true;
    return cli_args_next(a);
  }
  if (arg[1] == '-') { /* --name or --name=value */
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const cli_opt *o = find_long(a->opts, name, len);
    snprintf(a->opt, sizeof a->opt, "--%.*s", (int)len, name);
    if (!o)
      return unknown(a, a->opt);
    if (!o->has_value) {
      if (eq) {
        cli_usage_error(a->cmd, "%s takes no value", a->opt);
        return CLI_ARG_ERROR;
      }
      return o->id;
    }
    if (eq)
      a->value = eq + 1;
    else if (a->i < a->argc)
      a->value = a->argv[a->i++];
    else
      return missing_value(a);
    return o->id;
  }
  a->bundle = arg + 1;
  return cli_args_next(a);
}

int cli_parse_int(const char *text, int64_t min, int64_t max, int64_t *out) {
  const char *p = text;
  if (*p == '-')
    p++;
  if (!*p)
    return -EINVAL;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9')
      return -EINVAL;
  errno = 0;
  char *end;
  long long v = strtoll(text, &end, 10);
  if (errno == ERANGE || v < min || v > max)
    return -ERANGE;
  *out = v;
  return 0;
}

int cli_number(const char *cmd, const char *what, const char *text,
               int64_t min, int64_t max, int64_t *out) {
  if (cli_parse_int(text, min, max, out) == 0)
    return 0;
  return cli_usage_error(cmd, "%s needs a whole number from %lld to %lld, "
                              "got '%s'",
                         what, (long long)min, (long long)max, text);
}

/* ---- growable arrays of strings ------------------------------------------ */

int cli_strv_add(cli_strv *v, const char *s) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    const char **nv = realloc(v->v, (cap + 1) * sizeof *nv);
    if (!nv) {
      fprintf(stderr, "pipec: out of memory\n");
      return -1;
    }
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = s;
  v->v[v->n] = NULL;
  return 0;
}

void cli_strv_free(cli_strv *v) {
  free(v->v);
  memset(v, 0, sizeof *v);
}
