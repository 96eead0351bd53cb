/*
 * measure.h — how a target that runs commands on another machine (an ssh
 * host, a Slurm node) learns a job's peak memory and whether it was
 * killed for memory: the job runs under `pipec measure` there (the
 * receiving half is pipec_measure in engine.h), which writes a one-line
 * report beside what the target reads back:
 *
 *     peak=BYTES oom=0|1 enforced=0|1
 *
 * This module writes the shell words that start a command that way when
 * a usable pipec is there (else the command runs as before and nothing is
 * measured), and reads the report.
 */
#ifndef PIPEC_MEASURE_H
#define PIPEC_MEASURE_H

#include <stdbool.h>
#include <stdint.h>

#include "shbuf.h"

/* Append shell text to b that, where the pipec at `pipec` (else the one on
 * PATH) answers `pipec measure --check`, puts `PIPEC measure [--memory
 * LIMIT] REPORT --` before the positional parameters ("$@"), so that a
 * later "$@" runs the command measured. report is a shell word as
 * written (quoted, or "$d/peak"); limit 0: measure only. */
void measure_sh_prefix(shbuf *b, const char *pipec, int64_t limit,
                       const char *report_word);

typedef struct measure_report {
  int64_t peak;              /* bytes, 0: not known */
  bool oom;                  /* killed for memory (its cgroup's OOM kill) */
  bool enforced;             /* the limit was a memory cgroup's */
} measure_report;

/* Read the report at path: true if there is one. */
bool measure_read(const char *path, measure_report *r);

#endif
