/*
 * kinds.c — the table of target kinds built into pipec (target.h).
 *
 * Adding a kind: write engine/targets/NAME.c defining `const tgt_kind
 * tgt_kind_NAME` (its schema, properties and open function; see ssh.c)
 * and add one X(NAME) line below. The compiler, the
 * scheduler, the quotas, `pipec targets`, `graph` and `diff` all take it
 * from there.
 */
#include "target.h"

#define TGT_BUILTIN_KINDS(X) \
  X(local)                   \
  X(ssh)                     \
  X(slurm)

#define DECLARE(name) extern const tgt_kind tgt_kind_##name;
TGT_BUILTIN_KINDS(DECLARE)

#define KIND(name) &tgt_kind_##name,
#define SCHEMA(name) &tgt_kind_##name.schema,
#define ONE(name) +1

static const tgt_kinds builtin = {
    .n = 0 TGT_BUILTIN_KINDS(ONE),
    .items = {TGT_BUILTIN_KINDS(KIND)},
    .schemas = {TGT_BUILTIN_KINDS(SCHEMA)},
};

const tgt_kinds *tgt_builtin_kinds(void) { return &builtin; }
