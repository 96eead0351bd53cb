/*
 * ir_alloc.h — a compiled pipeline and the arena everything in it lives
 * in. The public pipec_pipeline (ir.h) does not show the arena: sema
 * allocates the pipeline inside a private ir_owned, and
 * pipec_pipeline_free (compile.c) finds the arena from the pipeline's
 * address. Only pipelines made here may be passed to pipec_pipeline_free.
 */
#ifndef PIPEC_IR_ALLOC_H
#define PIPEC_IR_ALLOC_H

#include "arena.h"
#include "pipec/ir.h"

/* A zeroed pipeline in a, which pipec_pipeline_free frees with a. */
pipec_pipeline *ir_pipeline_new(arena *a);

#endif
