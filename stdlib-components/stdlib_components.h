/*
 * stdlib_components.h — the descriptors each built-in component file
 * exports, gathered by registry.c.
 */
#ifndef PIPEC_STDLIB_COMPONENTS_H
#define PIPEC_STDLIB_COMPONENTS_H

#include "pipec/component.h"

extern const pipec_component_desc stdlib_ml_kmeans;
extern const pipec_component_desc stdlib_ml_linear_regression;
extern const pipec_component_desc stdlib_ml_logistic_regression;
extern const pipec_component_desc stdlib_ml_metrics;
extern const pipec_component_desc stdlib_ml_predict;
extern const pipec_component_desc stdlib_shell;
extern const pipec_component_desc stdlib_table_aggregate;
extern const pipec_component_desc stdlib_table_dedupe;
extern const pipec_component_desc stdlib_table_describe;
extern const pipec_component_desc stdlib_table_fill_missing;
extern const pipec_component_desc stdlib_table_filter;
extern const pipec_component_desc stdlib_table_join;
extern const pipec_component_desc stdlib_table_normalize;
extern const pipec_component_desc stdlib_table_one_hot;
extern const pipec_component_desc stdlib_table_read_csv;
extern const pipec_component_desc stdlib_table_sample;
extern const pipec_component_desc stdlib_table_select;
extern const pipec_component_desc stdlib_table_sort;
extern const pipec_component_desc stdlib_table_split;
extern const pipec_component_desc stdlib_table_write_csv;

#endif
