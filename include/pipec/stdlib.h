/*
 * stdlib.h — the built-in components shipped in stdlib-components/.
 */
#ifndef PIPEC_STDLIB_H
#define PIPEC_STDLIB_H

#include "component.h"
#include "export.h"

/* Every built-in component, sorted by name. *n receives the count. The
 * array is static. */
PIPEC_API const pipec_component_desc *const *pipec_stdlib_components(uint32_t *n);

/* The built-in of that name, or NULL. */
PIPEC_API const pipec_component_desc *pipec_stdlib_find(const char *name);

#endif
