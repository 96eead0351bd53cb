/*
 * plan.h — which nodes a run executes (DESIGN §5):
 *
 *   (nothing)   every node (those cached are not run again)
 *   --node N    exactly N            --nodes A,B   exactly that set
 *   --from N    N and downstream     --to N        N and upstream
 *   --from A --to B   the nodes between A and B (both included)
 *
 * A name is a node ('aligned[S1]' is one member of a family) or a set of
 * a family's members: 'aligned[*]' all of them, 'model[1,*]' those with
 * 1 as their first key part; a family selects all the members it names,
 * for --node, --nodes, --from and --to alike.
 *
 * Nodes outside the plan that the plan reads from ("upstream") take their
 * outputs from the store.
 */
#ifndef PIPEC_PLAN_H
#define PIPEC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipec/ir.h"

typedef struct plan_sel {
  const char *const *nodes;  /* --node / --nodes */
  uint32_t n_nodes;
  const char *from;          /* --from, or NULL */
  const char *to;            /* --to, or NULL */
} plan_sel;

/* The mode word recorded in a snapshot: full, node, nodes, from, to,
 * from-to. */
const char *plan_mode_name(const plan_sel *sel);

/* Fill in_plan[n_nodes]. Returns 0, or -1 with a message in err (an unknown
 * node name, with the nearest known one). */
int plan_select(const pipec_pipeline *p, const plan_sel *sel, bool *in_plan,
                char *err, size_t errlen);

/* Mark upstream[i] for every node outside the plan that some node of the
 * plan depends on, directly or not. */
void plan_upstream(const pipec_pipeline *p, const bool *in_plan,
                   bool *upstream);

/* 0 if this engine can run p; else -1 with a message naming what it
 * cannot: a family key holding '/' (a node's name names its files). */
int plan_runnable(const pipec_pipeline *p, char *err, size_t errlen);

#endif
