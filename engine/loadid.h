/*
 * loadid.h — what a compile read, as one hash: pipec_load compiles
 * through these callbacks, which answer from the disk and hash every
 * question and answer (the sources' texts, what each path is, what each
 * directory lists, each plugin file's identity) together with the
 * compile's options and the identity of this libpipec. The compiler is
 * pure, so two compiles with the same id compiled the same pipeline: a
 * run can then name the stored configuration without serialising the
 * graph to find it (run_record.c). An id that misses (a directory listed
 * in another order) only costs that serialisation.
 */
#ifndef PIPEC_LOADID_H
#define PIPEC_LOADID_H

#include <stdbool.h>

#include "hash.h"
#include "pipec/compiler.h"

typedef struct loadid {
  hash_stream *hs;             /* NULL: out of memory, no id */
  pipec_fs fs;                 /* the disk's answers, hashed */
} loadid;

/* Start an id over the compile of path with opts (its overrides, quota
 * text, project root), and point opts' reader, fs and load_plugin (which
 * must be plugin_load or NULL) at the hashing ones. */
void loadid_begin(loadid *l, const char *path, pipec_compile_opts *opts);
/* The id (false: none could be made), and the state freed. */
bool loadid_end(loadid *l, uint8_t id[16]);

#endif
