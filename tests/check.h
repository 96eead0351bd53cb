/*
 * check.h — the test suite's tiny assertion header (after libuv's task.h).
 *
 * Checks are never compiled out; a failed one prints the file, line, both
 * values, and aborts, so ctest reports the test as failed.
 *   CHECK(cond)          CHECK_EQ(a, b) for integers
 *   CHECK_STREQ(a, b)    for strings (NULL-safe)
 * A test file defines main() calling its test functions through RUN(fn).
 */
#ifndef PIPEC_CHECK_H
#define PIPEC_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
              __LINE__, #cond);                                      \
      abort();                                                       \
    }                                                                \
  } while (0)

#define CHECK_EQ(a, b)                                               \
  do {                                                               \
    long long a_ = (long long)(a), b_ = (long long)(b);              \
    if (a_ != b_) {                                                  \
      fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
              __FILE__, __LINE__, #a, #b, a_, b_);                   \
      abort();                                                       \
    }                                                                \
  } while (0)

#define CHECK_STREQ(a, b)                                            \
  do {                                                               \
    const char *a_ = (a), *b_ = (b);                                 \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                         \
      fprintf(stderr, "%s:%d: check failed: %s == %s\n  got:  \"%s\"\n  want: \"%s\"\n", \
              __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",        \
              b_ ? b_ : "(null)");                                   \
      abort();                                                       \
    }                                                                \
  } while (0)

#define RUN(fn)                                                      \
  do {                                                               \
    fprintf(stderr, "-- %s\n", #fn);                                 \
    fn();                                                            \
  } while (0)

#endif
