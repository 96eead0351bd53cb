/*
 * plugin.h — loading custom components written in C: a shared library
 * that exports `pipec_components` (PIPEC_PLUGIN_SYMBOL, a
 * pipec_component_list; see include/pipec/component.h), named in a .pipe
 * file with `plugin "path/libx.so"`. Libraries stay loaded for the life of
 * the process; loading one path twice returns the first load.
 */
#ifndef PIPEC_PLUGIN_H
#define PIPEC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "pipec/component.h"

/* Has the shape of pipec_plugin_fn (compiler.h); ctx is unused. */
int plugin_load(void *ctx, const char *path,
                const pipec_component_desc *const **items, uint32_t *n,
                char *err, size_t errlen);

/* The component `name` of the plugin at path, or NULL with err. */
const pipec_component_desc *plugin_find(const char *path, const char *name,
                                        char *err, size_t errlen);

#endif
