/*
 * cmd_ui.c — `pipec ui`: parse the arguments, serve the web view
 * (ui/ui.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pipec/engine.h"
#include "ui.h"

int cmd_ui(int argc, char **argv) {
  static const cli_opt opts[] = {{"port", 'p', true, 1},
                                 {"bind", 0, true, 2},
                                 {"read-only", 0, false, 3},
                                 {"open", 0, false, 4},
                                 {0}};
  ui_opts o = {.out = stdout};
  cli_args a;
  cli_args_init(&a, "ui", argc, argv, opts);
  for (int k; (k = cli_args_next(&a)) != CLI_ARG_END;) {
    int64_t v;
    switch (k) {
    case CLI_ARG_ERROR:
      return CLI_USAGE;
    case 1:
      if (cli_number("ui", a.opt, a.value, 0, 65535, &v) != 0)
        return CLI_USAGE;
      o.port = (int)v;
      break;
    case 2:
      o.bind = a.value;
      break;
    case 3:
      o.read_only = true;
      break;
    case 4:
      o.open = true;
      break;
    default:
      return cli_usage_error("ui", "unexpected '%s'", a.value);
    }
  }
  /* actions run this very program: a run from the page is `pipec run` */
  static char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    fprintf(stderr, "pipec ui: cannot find the pipec program: %s\n",
            strerror(errno));
    return CLI_WORKSPACE;
  }
  exe[n] = '\0';
  o.exe = exe;
  pipec_ws_opts wo = {0};
  char err[1024];
  if (ui_serve(&wo, &o, err, sizeof err) != 0) {
    fprintf(stderr, "pipec ui: %s\n", err);
    return CLI_WORKSPACE;
  }
  return CLI_OK;
}
