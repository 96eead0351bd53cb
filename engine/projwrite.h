/*
 * projwrite.h — writing recorded files back into the project, safely:
 * what `pipec rollback` (snapshot.c) and `pipec drafts restore` (draft.c)
 * do with the bytes they restore.
 *
 * Two promises:
 *   - nothing is written through a symbolic link that leads out of the
 *     project: pw_plan resolves every destination first and refuses the
 *     whole set before anything is written;
 *   - a writer killed at any moment (kill -9, power loss) leaves each file
 *     as it was or as recorded: every file is written under a temporary
 *     name beside it (NAME.pipec-rollback.PID), named in the store before
 *     it is created, fsync'd, and renamed over the file only once every
 *     temporary file is whole; the next command that opens the store
 *     removes the temporary files of writers that are gone (pw_clean).
 *
 *   pw_file[] --pw_plan--> destinations resolved, compared (refused: -1)
 *             --(caller records the files as they are now)--
 *             --pw_write--> every changed file replaced, or none (-1)
 */
#ifndef PIPEC_PROJWRITE_H
#define PIPEC_PROJWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hash.h"
#include "objstore.h"
#include "store.h"

/* The mark in the temporary files' names. */
#define PW_TEMP_MARK ".pipec-rollback."

/* One file to write back. The caller fills the first part; pw_plan the
 * second; pw_free frees what pw_plan and pw_write allocated. */
typedef struct pw_file {
  const char *rec;             /* the path as recorded: relative to the
                                  project root, or absolute */
  const char *bytes;           /* the bytes to write (never NULL for a
                                  file given by its bytes) ... */
  size_t len;
  const hash128 *object;       /* ... or, with bytes NULL, the object
                                  holding them: copied and re-hashed, so
                                  damaged bytes are never written */
  uint64_t size;               /* object: its size */
  uint32_t mode;               /* object: the mode recorded (0: unknown) */
  bool data;                   /* a data file (rollback --data), not code:
                                  recorded as such before it is replaced */

  char *dest;                  /* where it is written (links resolved) */
  bool exists;                 /* a regular file is there now */
  bool same;                   /* ... holding these bytes already */
  mode_t mode_now;             /* the mode it is written with: the current
                                  file's, else `mode`, else 0644 */
  char *now;                   /* bytes: the current file's bytes, if it */
  size_t now_len;              /*   exists */
  char *tmp;                   /* pw_write: its temporary file */
} pw_file;

/* Resolve and compare every file of f against the project whose real
 * path is root (see projwrite.c for the link rules). A destination that
 * would leave the project refuses the whole set: -1 with err ending
 * "(remove the link, then RETRY again)", retry being "roll back" or
 * "restore". Otherwise the number of files that differ. */
int pw_plan(const char *root, pw_file *f, uint32_t n, const char *retry,
            char *err, size_t errlen);

/* Replace every file of f that differs (pw_plan first), as above; objects
 * are read from objs (NULL if no file names one). Returns how many were
 * written, or -1 with err (then none, or, if a rename itself failed, the
 * ones before it). */
int pw_write(store *st, obj_store *objs, pw_file *f, uint32_t n, char *err,
             size_t errlen);

void pw_free(pw_file *f, uint32_t n);

/* Remove the temporary files of writers that were killed (their process
 * is gone). Every command that opens the store calls it. */
void pw_clean(store *st);

#endif
