/*
 * ir_index.h — the node-name hash index of a compiled pipeline (ir.c).
 */
#ifndef PIPEC_IR_INDEX_H
#define PIPEC_IR_INDEX_H

#include "arena.h"
#include "pipec/ir.h"

/* Build p->name_index over p->nodes (names unique), in a. */
void ir_index_build(arena *a, pipec_pipeline *p);
/* The hash both use. */
uint32_t ir_name_hash(const char *s);

#endif
