/*
 * cmd_measure.c — `pipec measure [--memory BYTES] REPORT -- COMMAND...`:
 * run a command, write its peak memory and whether it was killed for
 * memory to REPORT, and end as it did. The ssh and Slurm targets run a
 * node's command under it on the remote machine (engine/measure.h);
 * `pipec measure --check` tells them this pipec has it. The work is
 * pipec_measure's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pipec/engine.h"

int cmd_measure(int argc, char **argv) {
  if (cli_wants_help("measure", argc, argv))
    return CLI_OK;
  if (argc == 2 && strcmp(argv[1], "--check") == 0)
    return CLI_OK;
  pipec_measure_request rq = {0};
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--memory") == 0 && i + 1 < argc) {
      char *end;
      long long v = strtoll(argv[++i], &end, 10);
      if (*end || v <= 0)
        return cli_usage_error("measure", "--memory takes a number of "
                               "bytes, got '%s'", argv[i]);
      rq.memory = v;
    } else if (argv[i][0] == '-' || rq.report) {
      return cli_usage_error("measure", "unexpected '%s'", argv[i]);
    } else {
      rq.report = argv[i];
    }
  }
  if (!rq.report || i + 1 >= argc)
    return cli_usage_error("measure", "expected REPORT -- COMMAND...");
  rq.argv = argv + i + 1;
  pipec_measure_result res;
  pipec_error err;
  if (pipec_measure(&rq, &res, &err) != 0) {
    fprintf(stderr, "pipec measure: %s\n", err.msg);
    return 127;
  }
  if (err.msg[0])
    fprintf(stderr, "pipec measure: %s\n", err.msg);
  fflush(NULL);
  if (res.term_signal) { /* end as the command did */
    signal(res.term_signal, SIG_DFL);
    raise(res.term_signal);
    return 128 + res.term_signal;
  }
  return res.exit_code;
}
