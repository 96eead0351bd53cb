/*
 * cmd_components.c — `pipec components [NAME] [--json | --markdown]`: the
 * built-in components from their descriptors. docs/components.md is this
 * command's --markdown output (a test keeps the two equal).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pipec/json.h"
#include "pipec/stdlib.h"

static const char *default_text(const pipec_param_desc *p) {
  return p->default_literal ? p->default_literal : "(required)";
}

static void print_text(const pipec_component_desc *d) {
  printf("%s  (version %s)\n  %s\n", d->name, d->version, d->doc);
  for (uint32_t i = 0; i < d->n_inputs; i++)
    printf("  in   %-14s %-6s %s\n", d->inputs[i].name,
           pipec_port_type_name(d->inputs[i].type),
           d->inputs[i].doc ? d->inputs[i].doc : "");
  if (d->flags & PIPEC_COMP_VARIADIC_INPUTS)
    printf("  in   %-14s %-6s %s\n", "NAME = n.port", "any",
           "any argument wired to a node output becomes an input {NAME}");
  for (uint32_t i = 0; i < d->n_outputs; i++)
    printf("  out  %-14s %-6s %s\n", d->outputs[i].name,
           pipec_port_type_name(d->outputs[i].type),
           d->outputs[i].doc ? d->outputs[i].doc : "");
  for (uint32_t i = 0; i < d->n_params; i++)
    printf("  param %-13s %-6s = %-12s %s\n", d->params[i].name,
           pipec_type_name(d->params[i].type), default_text(&d->params[i]),
           d->params[i].doc ? d->params[i].doc : "");
  printf("\n");
}

static void print_markdown(const pipec_component_desc *d) {
  printf("## `%s`\n\n%s\n\nVersion `%s`.\n\n", d->name, d->doc, d->version);
  printf("| | name | type | default | description |\n|---|---|---|---|---|\n");
  for (uint32_t i = 0; i < d->n_inputs; i++)
    printf("| input | `%s` | %s | | %s |\n", d->inputs[i].name,
           pipec_port_type_name(d->inputs[i].type),
           d->inputs[i].doc ? d->inputs[i].doc : "");
  if (d->flags & PIPEC_COMP_VARIADIC_INPUTS)
    printf("| input | *any name* | any | | an argument wired to a node "
           "output becomes an input of that name |\n");
  for (uint32_t i = 0; i < d->n_outputs; i++)
    printf("| output | `%s` | %s | | %s |\n", d->outputs[i].name,
           pipec_port_type_name(d->outputs[i].type),
           d->outputs[i].doc ? d->outputs[i].doc : "");
  for (uint32_t i = 0; i < d->n_params; i++)
    printf("| param | `%s` | %s | %s | %s |\n", d->params[i].name,
           pipec_type_name(d->params[i].type),
           d->params[i].default_literal ? d->params[i].default_literal
                                        : "*required*",
           d->params[i].doc ? d->params[i].doc : "");
  printf("\n");
}

static void ports_json(pipec_json *j, const pipec_port_desc *p, uint32_t n) {
  pipec_json_arr(j);
  for (uint32_t i = 0; i < n; i++) {
    pipec_json_obj(j);
    pipec_json_key(j, "name");
    pipec_json_str(j, p[i].name);
    pipec_json_key(j, "type");
    pipec_json_str(j, pipec_port_type_name(p[i].type));
    pipec_json_key(j, "doc");
    pipec_json_str(j, p[i].doc);
    pipec_json_end(j);
  }
  pipec_json_end(j);
}

static void print_json(pipec_json *j, const pipec_component_desc *d) {
  pipec_json_obj(j);
  pipec_json_key(j, "name");
  pipec_json_str(j, d->name);
  pipec_json_key(j, "version");
  pipec_json_str(j, d->version);
  pipec_json_key(j, "doc");
  pipec_json_str(j, d->doc);
  pipec_json_key(j, "variadic_inputs");
  pipec_json_bool(j, (d->flags & PIPEC_COMP_VARIADIC_INPUTS) != 0);
  pipec_json_key(j, "inputs");
  ports_json(j, d->inputs, d->n_inputs);
  pipec_json_key(j, "outputs");
  ports_json(j, d->outputs, d->n_outputs);
  pipec_json_key(j, "params");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < d->n_params; i++) {
    pipec_json_obj(j);
    pipec_json_key(j, "name");
    pipec_json_str(j, d->params[i].name);
    pipec_json_key(j, "type");
    pipec_json_str(j, pipec_type_name(d->params[i].type));
    pipec_json_key(j, "default");
    pipec_json_str(j, d->params[i].default_literal);
    pipec_json_key(j, "doc");
    pipec_json_str(j, d->params[i].doc);
    pipec_json_end(j);
  }
  pipec_json_end(j);
  pipec_json_end(j);
}

int cmd_components(int argc, char **argv) {
  if (cli_wants_help("components", argc, argv))
    return CLI_OK;
  const char *format = "text", *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      format = "json";
    else if (strcmp(argv[i], "--markdown") == 0)
      format = "markdown";
    else if (argv[i][0] == '-')
      return cli_usage_error("components", "unknown option '%s'", argv[i]);
    else
      only = argv[i];
  }
  uint32_t n;
  const pipec_component_desc *const *all = pipec_stdlib_components(&n);
  if (only && !pipec_stdlib_find(only)) {
    const char *names[256];
    for (uint32_t i = 0; i < n && i < 256; i++)
      names[i] = all[i]->name;
    fprintf(stderr, "pipec components: unknown component '%s'\n", only);
    cli_suggest(only, names, n < 256 ? n : 256);
    return CLI_USAGE;
  }
  pipec_json j;
  if (strcmp(format, "json") == 0) {
    pipec_json_init(&j, stdout, true);
    pipec_json_arr(&j);
  } else if (strcmp(format, "markdown") == 0) {
    printf("# Built-in components\n\n"
           "Generated by `pipec components --markdown` from the components' "
           "own descriptors; do not edit by hand.\n"
           "Params are written as in a `.pipe` file; `table` ports are CSV "
           "files with a header row.\n\n");
  }
  for (uint32_t i = 0; i < n; i++) {
    if (only && strcmp(all[i]->name, only) != 0)
      continue;
    if (format[0] == 'j')
      print_json(&j, all[i]);
    else if (format[0] == 'm')
      print_markdown(all[i]);
    else
      print_text(all[i]);
  }
  if (format[0] == 'j') {
    pipec_json_end(&j);
    pipec_json_done(&j);
  }
  return CLI_OK;
}
