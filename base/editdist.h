/*
 * editdist.h — edit distance between names, and "did you mean" suggestions
 * (after ninja's edit_distance.cc, with adjacent transpositions counted as
 * one edit so that "tpo" is close to "top").
 */
#ifndef PIPEC_EDITDIST_H
#define PIPEC_EDITDIST_H

#include <stdbool.h>
#include <stdint.h>

/* The number of insertions, deletions, replacements (if allow_replacements)
 * and adjacent transpositions turning a into b. With max > 0, any distance
 * above max may be returned as max + 1 (the computation stops early). */
int editdist(const char *a, const char *b, bool allow_replacements, int max);

/* The largest distance editdist_suggest accepts for `word`: len/3 + 1. */
int editdist_max(const char *word);

/* The name of words[0..n) nearest to `word`, if within editdist_max(word);
 * ties go to the earliest. NULL entries are skipped. Returns NULL if none is
 * close enough. */
const char *editdist_suggest(const char *word, const char *const *words,
                             uint32_t n);

#endif
