/*
 * shell.c — `shell(command = "...")`: run a command template.
 *
 * The engine runs it like a command component: {out} expands to the output
 * path, {NAME} to any extra input wired by the node, and params are
 * shell-quoted. So the descriptor has no run function.
 */
#include "stdlib_components.h"

static const pipec_port_desc outputs[] = {
    {"out", PIPEC_PORT_FILE, "the file the command writes to {out}"},
};

static const pipec_param_desc params[] = {
    {"command", PIPEC_T_STRING, NULL,
     "command template; {out} and every wired input expand to paths"},
};

const pipec_component_desc stdlib_shell = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "shell",
    .version = "1",
    .doc = "Run a shell command. Any argument wired to a node output becomes "
           "an input named after the argument; the command must write {out}.",
    .outputs = outputs,
    .n_outputs = 1,
    .params = params,
    .n_params = 1,
    .flags = PIPEC_COMP_VARIADIC_INPUTS | PIPEC_COMP_COMMAND_TEMPLATE,
};
