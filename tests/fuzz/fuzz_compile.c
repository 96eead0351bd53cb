/*
 * fuzz_compile.c — libFuzzer target for the whole compiler front end:
 * scanner, parser (with error recovery), semantic analysis and lowering,
 * on one in-memory file (imports resolve to the same bytes, so import
 * cycles are exercised too). Seed corpus: every .pipe file of the repo.
 * After MAX_READS files an import is "not found": imports that fan out to
 * ever-new paths are bounded by the compiler (4096 files), but that many
 * parses of a 64 KB input take the fuzzer seconds and nothing new.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipec/compiler.h"
#include "pipec/stdlib.h"
#include "target.h"

enum { MAX_READS = 8 };

static const uint8_t *g_data;
static size_t g_size;
static int g_reads;

static int read_mem(void *ctx, const char *path, char **text, size_t *len) {
  (void)ctx, (void)path;
  if (g_reads++ >= MAX_READS)
    return ENOENT;
  *text = malloc(g_size + 1);
  if (!*text)
    return 12;
  memcpy(*text, g_data, g_size);
  (*text)[g_size] = 0;
  *len = g_size;
  return 0;
}

/* No files but the input: globs match nothing, source files are missing
 * (the compiler asks only through this). */
static int no_stat(void *ctx, const char *path, pipec_file_kind *kind,
                   char **real) {
  (void)ctx, (void)path, (void)kind, (void)real;
  return ENOENT;
}

static int no_list(void *ctx, const char *path, char ***names,
                   pipec_file_kind **kinds, uint32_t *n) {
  (void)ctx, (void)path, (void)names, (void)kinds, (void)n;
  return ENOENT;
}

static const pipec_fs no_fs = {no_stat, no_list, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_data = data;
  g_size = size;
  g_reads = 0;
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_target_kinds kinds = tgt_kinds_schema(tgt_builtin_kinds());
  /* range(10000000) is a short input: keep expansions small */
  pipec_compile_opts o = {.registry = &reg, .reader = read_mem,
                          .target_kinds = &kinds, .fs = &no_fs,
                          .max_nodes = 100000};
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_pipeline *p = pipec_compile("fuzz.pipe", &o, &d);
  FILE *null = fopen("/dev/null", "w");
  if (null) {
    pipec_diags_print(&d, null, false);
    fclose(null);
  }
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
  return 0;
}
