/*
 * textdiff.h — line diffs of two texts in unified format (as `diff -u`),
 * for `pipec diff` to show what changed in a `.pipe` or `code` file
 * between two snapshots.
 *
 * Myers' O(ND) algorithm over lines, after the common head and tail are
 * set aside, so a small edit to a large file costs little. The work is
 * bounded: a diff needing more than max_edits inserted or deleted lines is
 * not computed (the caller says the files differ too much to show).
 */
#ifndef PIPEC_TEXTDIFF_H
#define PIPEC_TEXTDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Text, as far as a line diff goes: no NUL byte. */
bool textdiff_is_text(const char *buf, size_t len);

/* Print the unified diff from a to b: "--- label_a", "+++ label_b", then
 * hunks "@@ -l,n +l,n @@" with `context` lines around each change; a last
 * line without a newline is followed by "\ No newline at end of file".
 * Returns the number of hunks (0: the texts are equal, nothing printed),
 * -E2BIG if more than max_edits lines would be inserted or deleted
 * (nothing printed), -ENOMEM. */
int textdiff_unified(FILE *out, const char *a, size_t alen, const char *b,
                     size_t blen, const char *label_a, const char *label_b,
                     unsigned context, size_t max_edits);

#endif
