/*
 * sema.h — semantic analysis: resolve names, check types, lower to the IR.
 *
 * Input: the main file's AST and the ASTs of every file it imports (directly
 * or not). Components declared at the top level of any of these files, or
 * inside the main file's pipeline block, are usable by the pipeline; so are
 * the registry's built-ins. Every problem found is reported into the
 * diagnostics list (sema goes on after an error to report as many as it
 * can). Returns the lowered pipeline, allocated in `a`, or NULL if any error
 * was reported.
 */
#ifndef PIPEC_SEMA_H
#define PIPEC_SEMA_H

#include "arena.h"
#include "ast.h"
#include "pipec/compiler.h"

typedef struct sema_unit {
  ast_file *main;                /* has the pipeline */
  ast_file **imports;            /* every imported file, each once */
  uint32_t n_imports;
  const char *const *texts;      /* source text by diagnostics source id */
  uint32_t n_texts;
  struct srcfs *fs;              /* looking files up (srcfs.h) */
  ast_file *quotas;              /* the quota file, or NULL */
} sema_unit;

/* The caller fills in file, dir, sources and arena of the result. */
pipec_pipeline *sema_lower(arena *a, pipec_diags *d, const sema_unit *unit,
                           const pipec_compile_opts *opts);

#endif
