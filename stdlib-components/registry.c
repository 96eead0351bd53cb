/*
 * registry.c — the list of built-in components. Each component lives in its
 * own file and exports one descriptor; adding one means adding it here.
 */
#include <string.h>

#include "pipec/stdlib.h"
#include "stdlib_components.h"

/* Sorted by name (pipec components lists them in this order). */
static const pipec_component_desc *const builtins[] = {
    &stdlib_ml_kmeans,
    &stdlib_ml_linear_regression,
    &stdlib_ml_logistic_regression,
    &stdlib_ml_metrics,
    &stdlib_ml_predict,
    &stdlib_shell,
    &stdlib_table_aggregate,
    &stdlib_table_dedupe,
    &stdlib_table_describe,
    &stdlib_table_fill_missing,
    &stdlib_table_filter,
    &stdlib_table_join,
    &stdlib_table_normalize,
    &stdlib_table_one_hot,
    &stdlib_table_read_csv,
    &stdlib_table_sample,
    &stdlib_table_select,
    &stdlib_table_sort,
    &stdlib_table_split,
    &stdlib_table_write_csv,
};

const pipec_component_desc *const *pipec_stdlib_components(uint32_t *n) {
  *n = sizeof builtins / sizeof builtins[0];
  return builtins;
}

const pipec_component_desc *pipec_stdlib_find(const char *name) {
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (strcmp(builtins[i]->name, name) == 0)
      return builtins[i];
  return NULL;
}
