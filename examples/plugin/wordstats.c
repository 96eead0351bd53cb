/*
 * wordstats.c — an example plugin: custom components in C, loaded by a
 * .pipe file with `plugin "libwordstats.so"`. It uses only the public
 * header <pipec/component.h>, like the built-in components do.
 *
 *   text.word_count(input: file) -> out: table   word,count; most frequent
 *                                                first, then alphabetical
 *       params: min_length: int = 1   ignore shorter words
 *               lowercase: bool = true
 *
 * Build: CMake builds it with pipec (build/examples/plugin/libwordstats.so).
 * By hand: cc -shared -fPIC -I include -o libwordstats.so wordstats.c
 * Against an installed pipec (docs/library.md), which also lets a plugin
 * call libpipec's functions (pipec_type_name, the JSON writer ...):
 *   cc -shared -fPIC -o libwordstats.so wordstats.c \
 *      $(pkg-config --cflags --libs pipec)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipec/component.h"

typedef struct entry {
  char *word;
  long count;
} entry;

typedef struct table {
  entry *v;
  size_t n, cap;    /* open addressing; cap a power of two */
} table;

static unsigned long hash(const char *s) {
  unsigned long h = 5381;
  while (*s)
    h = h * 33 + (unsigned char)*s++;
  return h;
}

static int add(table *t, const char *w) {
  if ((t->n + 1) * 2 > t->cap) {
    table bigger = {calloc(t->cap ? t->cap * 2 : 1024, sizeof(entry)), 0,
                    t->cap ? t->cap * 2 : 1024};
    if (!bigger.v)
      return -1;
    for (size_t i = 0; i < t->cap; i++)
      if (t->v[i].word) {
        size_t j = hash(t->v[i].word) & (bigger.cap - 1);
        while (bigger.v[j].word)
          j = (j + 1) & (bigger.cap - 1);
        bigger.v[j] = t->v[i];
        bigger.n++;
      }
    free(t->v);
    *t = bigger;
  }
  size_t j = hash(w) & (t->cap - 1);
  while (t->v[j].word && strcmp(t->v[j].word, w) != 0)
    j = (j + 1) & (t->cap - 1);
  if (!t->v[j].word) {
    if (!(t->v[j].word = strdup(w)))
      return -1;
    t->n++;
  }
  t->v[j].count++;
  return 0;
}

static int by_count(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->count != y->count)
    return x->count < y->count ? 1 : -1;
  return strcmp(x->word, y->word);
}

static int word_count_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const pipec_value *minv = pipec_ctx_param(ctx, "min_length");
  const pipec_value *lowv = pipec_ctx_param(ctx, "lowercase");
  long min_len = minv ? (long)minv->u.i : 1;
  int lower = lowv ? lowv->u.b : 1;
  FILE *in = fopen(pipec_ctx_input(ctx, "input"), "rb");
  if (!in) {
    snprintf(err, errlen, "cannot open the input: %s", strerror(errno));
    return -1;
  }
  table t = {0};
  char word[256];
  size_t len = 0;
  int c, rc = 0;
  do {
    c = fgetc(in);
    if (c != EOF && (isalnum(c) || c == '\'' || c >= 0x80)) {
      if (len < sizeof word - 1)
        word[len++] = (char)(lower ? tolower(c) : c);
      continue;
    }
    word[len] = 0;
    if ((long)len >= min_len && len > 0 && add(&t, word) != 0) {
      snprintf(err, errlen, "out of memory");
      rc = -1;
      break;
    }
    len = 0;
  } while (c != EOF && !*ctx->cancelled);
  fclose(in);
  entry *all = rc == 0 ? malloc((t.n + 1) * sizeof *all) : NULL;
  size_t n = 0;
  for (size_t i = 0; all && i < t.cap; i++)
    if (t.v[i].word)
      all[n++] = t.v[i];
  FILE *out = all ? fopen(pipec_ctx_output(ctx, "out"), "w") : NULL;
  if (rc == 0 && !out) {
    snprintf(err, errlen, "cannot write the output: %s", strerror(errno));
    rc = -1;
  }
  if (out) {
    qsort(all, n, sizeof *all, by_count);
    fprintf(out, "word,count\n");
    for (size_t i = 0; i < n; i++)
      fprintf(out, "\"%s\",%ld\n", all[i].word, all[i].count);
    if (fclose(out) != 0) {
      snprintf(err, errlen, "writing the output failed");
      rc = -1;
    }
    ctx->log(ctx, "%zu distinct words", n);
  }
  for (size_t i = 0; i < t.cap; i++)
    free(t.v[i].word);
  free(t.v);
  free(all);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_FILE, "text"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "word,count"}};
static const pipec_param_desc params[] = {
    {"min_length", PIPEC_T_INT, "1", "ignore words shorter than this"},
    {"lowercase", PIPEC_T_BOOL, "true", "count words case-insensitively"},
};

static const pipec_component_desc word_count = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "text.word_count",
    .version = "1",
    .doc = "Count the words of a text, most frequent first.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 2,
    .run = word_count_run,
};

static const pipec_component_desc *const all_components[] = {&word_count};

/* What pipec looks up (PIPEC_PLUGIN_SYMBOL). */
const pipec_component_list pipec_components = {
    .abi_version = PIPEC_ABI_VERSION,
    .n = 1,
    .items = all_components,
};
