/*
 * cmd_targets.c — `pipec targets FILE [--json]`: the pipeline's compute
 * targets, their kinds and options (quotas), and how many nodes each runs.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pipec/graph.h"
#include "pipec/json.h"

int cmd_targets(int argc, char **argv) {
  if (cli_wants_help("targets", argc, argv))
    return CLI_OK;
  const char *file = NULL;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = true;
    else if (argv[i][0] == '-')
      return cli_usage_error("targets", "unknown option '%s'", argv[i]);
    else if (!file)
      file = argv[i];
    else
      return cli_usage_error("targets", "one FILE only");
  }
  if (!file)
    return cli_usage_error("targets", "missing FILE");
  pipec_pipeline *p = cli_compile(file, NULL, 0, NULL);
  if (!p)
    return CLI_USAGE;
  static const char *const kinds[] = {"local", "ssh", "slurm"};
  pipec_json j;
  if (json) {
    pipec_json_init(&j, stdout, true);
    pipec_json_arr(&j);
  } else {
    printf("%-12s %-6s %5s  %s\n", "TARGET", "KIND", "NODES", "OPTIONS");
  }
  for (uint32_t t = 0; t < p->n_targets; t++) {
    const pipec_target *tg = &p->targets[t];
    uint32_t nodes = 0;
    for (uint32_t i = 0; i < p->n_nodes; i++)
      nodes += p->nodes[i].target == t;
    if (json) {
      pipec_json_obj(&j);
      pipec_json_key(&j, "name");
      pipec_json_str(&j, tg->name);
      pipec_json_key(&j, "kind");
      pipec_json_str(&j, kinds[tg->kind]);
      pipec_json_key(&j, "nodes");
      pipec_json_int(&j, nodes);
      pipec_json_key(&j, "options");
      pipec_json_obj(&j);
      for (uint32_t k = 0; k < tg->n_opts; k++) {
        pipec_json_key(&j, tg->opts[k].key);
        pipec_value_json(&j, &tg->opts[k].value);
      }
      pipec_json_end(&j);
      pipec_json_end(&j);
      continue;
    }
    printf("%-12s %-6s %5u  ", tg->name, kinds[tg->kind], nodes);
    for (uint32_t k = 0; k < tg->n_opts; k++) {
      printf("%s%s=", k ? " " : "", tg->opts[k].key);
      pipec_value_print(&tg->opts[k].value, stdout);
    }
    printf("%s\n", tg->n_opts ? "" : "(no quota)");
  }
  if (json) {
    pipec_json_end(&j);
    pipec_json_done(&j);
    putchar('\n');
  }
  pipec_pipeline_free(p);
  return CLI_OK;
}
