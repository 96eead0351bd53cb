/*
 * expand.h — run-time fan-out (DESIGN §3.2): a `for VAR in NODE.PORT`
 * whose items are known only once its producer's output exists.
 *
 * The compiler keeps such a loop's body as template nodes (ir.h:
 * pipeline->fanouts, ->templates). Once the producer has run or is found
 * in the cache, exp_read() reads the items from its output (a dir: one
 * file item per entry, keyed by its name, sorted; lines: one string item
 * per line; json: one item per element of a list), and exp_apply() makes
 * a new pipeline in which every template is an ordinary node per item:
 *
 *   name, key     NAME[KEY] with the template's '*' replaced by the item
 *   inputs        ITEM: kept as PIPEC_IN_ITEM, its producer the loop's
 *                 producer (so it waits for it), `ref` the item's index in
 *                 exp_set.all (the runner finds its object there);
 *                 TEMPLATE: the same item's member of that template;
 *                 GATHER (in later nodes): one input per member, in order
 *   params        deferred ones filled in: ${VAR} replaced by the item's
 *                 text and read as the param's type; keys() of a family
 *   families      the members, in SOURCE order
 *   publishes     one per member, ${VAR} in its path replaced
 *
 * Expansion is linear in the members made. Loops whose items are not
 * known yet stay as they are: nodes that gather them keep their GATHER
 * inputs, and a run holds them back until a later expansion.
 */
#ifndef PIPEC_EXPAND_H
#define PIPEC_EXPAND_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "hash.h"
#include "objstore.h"
#include "pipec/ir.h"

typedef struct exp_item {
  const char *key;             /* the item's text */
  hash128 hash;                /* a dir entry's object (file items) */
  bool is_file;
} exp_item;

/* Every loop's items, as far as known. */
typedef struct exp_set {
  arena *a;                    /* holds items and expanded pipelines */
  uint32_t n_fanouts;
  bool *known;                 /* per fanout of the compiled pipeline */
  uint32_t *first, *count;     /* per fanout: its items in all[] */
  exp_item *all;
  uint32_t n_all, cap_all;
  uint32_t **indexes;          /* name indexes of the pipelines made */
  uint32_t n_indexes, cap_indexes;
} exp_set;

void exp_init(exp_set *s, const pipec_pipeline *p);
void exp_free(exp_set *s);

/* Read the items of fanout f (of the compiled pipeline p) from the
 * producer's output, object out. 0, or -1 with err: the output is not of
 * the loop's kind, two items have one key, a key holds '/' or is empty. */
int exp_read(exp_set *s, const obj_store *objs, const pipec_pipeline *p,
             uint32_t f, const hash128 *out, char *err, size_t errlen);

/* The compiled pipeline p with every loop whose items are known expanded
 * (allocated in s->a; free with exp_free, never pipec_pipeline_free).
 * NULL with err when an item cannot become a param's value (a key that is
 * not a plain word in a command, a line that is not an int for an int
 * param). */
pipec_pipeline *exp_apply(exp_set *s, const pipec_pipeline *p, char *err,
                          size_t errlen);

/* Does node n of an expanded pipeline wait for a loop not expanded yet (a
 * GATHER input or keys() of its family)? */
bool exp_blocked(const pipec_node *n);

#endif
