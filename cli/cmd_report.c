/*
 * cmd_report.c — `pipec report`: parse the arguments, write the report
 * (ui/ui.h) to a file or stdout.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pipec/engine.h"
#include "ui.h"

int cmd_report(int argc, char **argv) {
  static const cli_opt opts[] = {{"output", 'o', true, 1}, {0}};
  const char *out = NULL, *run_arg = NULL;
  cli_args a;
  cli_args_init(&a, "report", argc, argv, opts);
  for (int k; (k = cli_args_next(&a)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1)
      out = a.value;
    else if (k == CLI_ARG_OPERAND && !run_arg)
      run_arg = a.value;
    else
      return cli_usage_error("report", "unexpected '%s'", a.value);
  }
  int64_t run = 0;
  if (run_arg && strcmp(run_arg, "last") != 0 &&
      cli_number("report", "RUN", run_arg, 1, INT64_MAX, &run) != 0)
    return CLI_USAGE;
  pipec_ws *w;
  pipec_error e;
  pipec_ws_opts wo = {0};
  if (pipec_ws_open(&wo, &w, &e) != 0) {
    fprintf(stderr, "pipec report: %s\n", e.msg);
    return CLI_USAGE;
  }
  char tmp[PATH_MAX];
  FILE *f = stdout;
  if (out && strcmp(out, "-") != 0) {
    /* written beside its name, then renamed: never half a report */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
    f = fopen(tmp, "w");
    if (!f) {
      fprintf(stderr, "pipec report: %s: %s\n", out, strerror(errno));
      pipec_ws_close(w);
      return CLI_USAGE;
    }
  }
  char err[1024];
  int rc = ui_report(w, run, f, err, sizeof err);
  pipec_ws_close(w);
  if (f != stdout) {
    if (fclose(f) != 0 && rc == 0) {
      snprintf(err, sizeof err, "%s: %s", out, strerror(errno));
      rc = -1;
    }
    if (rc == 0 && rename(tmp, out) != 0) {
      snprintf(err, sizeof err, "%s: %s", out, strerror(errno));
      rc = -1;
    }
    if (rc != 0)
      unlink(tmp);
  }
  if (rc != 0) {
    fprintf(stderr, "pipec report: %s\n", err);
    return CLI_USAGE;
  }
  if (f != stdout)
    fprintf(stderr, "pipec report: wrote %s\n", out);
  return CLI_OK;
}
