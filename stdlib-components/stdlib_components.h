/*
 * stdlib_components.h — the descriptors each built-in component file
 * exports, gathered by registry.c.
 */
#ifndef PIPEC_STDLIB_COMPONENTS_H
#define PIPEC_STDLIB_COMPONENTS_H

#include "pipec/component.h"

extern const pipec_component_desc stdlib_shell;
extern const pipec_component_desc stdlib_table_read_csv;

#endif
