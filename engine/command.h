/*
 * command.h — the command line of one node: what its target executes.
 *
 *   command components, `shell`   the template with every placeholder
 *                                 expanded: input/output ports to their
 *                                 paths, params to their canonical text
 *                                 (literal_text: a list is its items joined
 *                                 by ','), shell-quoted; run by /bin/sh -c
 *                                 unless it needs no shell, then exec'd
 *                                 directly (template.h)
 *   other built-ins               PIPEC exec NAME --in PORT=PATH...
 *                                 --out PORT=PATH... --param NAME=VALUE...
 *                                 (values as literal_text; lists as
 *                                 literal_source, which `pipec exec` reads)
 *
 * The environment adds the component's `env` and PIPEC_NODE=<node name>.
 */
#ifndef PIPEC_COMMAND_H
#define PIPEC_COMMAND_H

#include <stddef.h>

#include "pipec/component.h"
#include "pipec/ir.h"

/* Build argv and env (NULL-terminated, malloc'd strings in malloc'd arrays;
 * free each with cmd_free). pipec_exe is the path of this pipec. 0, or -1
 * with err filled. */
int cmd_build(const pipec_pipeline *p, uint32_t node,
              const pipec_named_path *inputs, uint32_t n_in,
              const pipec_named_path *outputs, uint32_t n_out,
              const char *pipec_exe, char ***argv, char ***env, char *err,
              size_t errlen);
void cmd_free(char **v);

/* Whether this machine can exec argv with env added to ours: each word at
 * most 128 KiB (Linux's MAX_ARG_STRLEN), all of them within ARG_MAX.
 * 0, or -1 with err saying how long the command of `node` is. (execve
 * would fail with E2BIG: "Argument list too long" names no culprit.) */
int cmd_fits(char *const *argv, char *const *env, const char *node, char *err,
             size_t errlen);

#endif
