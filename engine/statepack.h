/*
 * statepack.h — a pipeline's last state (store_node_state, store.h) as
 * one byte string, so the store can keep it beside the tables it comes
 * from and a run loads it with one row instead of a join over every node.
 *
 * The encoding is private to this module and versioned by its first
 * bytes; whatever does not decode exactly (damaged, truncated, another
 * version) is refused, and the store then asks its tables.
 */
#ifndef PIPEC_STATEPACK_H
#define PIPEC_STATEPACK_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* v[0..n) as bytes (malloc'd, *len of them). */
unsigned char *statepack_encode(const store_node_state *v, uint32_t n,
                                size_t *len);
/* The states in p[0..len) (malloc'd, for store_node_states_free): 0, or
 * -1 if p is not exactly one encoding (then *out is NULL). */
int statepack_decode(const void *p, size_t len, store_node_state **out,
                     uint32_t *n);

#endif
