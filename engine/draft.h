/*
 * draft.h — a pipeline's drafts as users see them: every revision of its
 * .pipe files that pipec recorded (store_draft_record, at run time, and
 * before a rollback or restore replaces files), what each changed against
 * the revision before it, its unified diff, and restoring one into the
 * project (through projwrite.h, as rollback does).
 *
 * Drafts are per pipeline; their ids are the workspace's (one sequence).
 * The SQL is in store.c; this module reads and compares.
 *
 * Errors: -1 with err for a store error, DRAFT_NONE for "no such draft";
 * draft_restore also -1 when it refuses or cannot write a file.
 */
#ifndef PIPEC_DRAFT_H
#define PIPEC_DRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pipec/engine.h"
#include "store.h"

enum { DRAFT_NONE = -2 };

/* The drafts of pipeline (0: of every pipeline), newest first, at most
 * limit (0: all), each with what it changed. *out: draft_infos_free. */
int draft_list(store *st, int64_t pipeline, uint32_t limit,
               pipec_draft_info **out, uint32_t *n, char *err,
               size_t errlen);
/* 1 found, 0 not, -1. *out: draft_info_free (zeroed first). */
int draft_get(store *st, int64_t id, pipec_draft_info *out, char *err,
              size_t errlen);
void draft_info_free(pipec_draft_info *d);
void draft_infos_free(pipec_draft_info *d, uint32_t n);

/* Write draft id's changes against the revision before it to out
 * (pipec_draft_diff); the number of files that differ. */
int draft_diff(store *st, int64_t id, FILE *out, char *err, size_t errlen);

/* Restore draft id's files into the project whose root is root (as
 * pipec_draft_restore says); the number of files written (or that would
 * change, dry), *saved the revision holding the files as they were. */
int draft_restore(store *st, const char *root, int64_t id, bool dry_run,
                  FILE *out, int64_t *saved, char *err, size_t errlen);

#endif
