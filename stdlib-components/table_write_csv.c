/*
 * table_write_csv.c — `table.write_csv(input, path)` -> out: put a copy of
 * the table into the project at `path` (relative to the pipeline's
 * directory), atomically, and pass the table on.
 *
 * The file in the project is a copy, not the cache: when the node is
 * cached it does not run, so a file deleted by hand comes back only with
 * `pipec run --node NAME --force` (or when the input changes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comp_util.h"
#include "durable.h"
#include "stdlib_components.h"

static int copy(const char *from, const char *to, char *err, size_t errlen) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  if (!in || !out) {
    if (in)
      fclose(in);
    return cu_fail(err, errlen, "cannot write %s: %s", to, strerror(errno));
  }
  char buf[1 << 16];
  size_t got;
  int rc = 0;
  while ((got = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, got, out) != got) {
      rc = cu_fail(err, errlen, "writing %s: %s", to, strerror(errno));
      break;
    }
  fclose(in);
  if (fflush(out) != 0 || durable_sync(fileno(out)) != 0)
    rc = rc ? rc : cu_fail(err, errlen, "writing %s: %s", to, strerror(errno));
  if (fclose(out) != 0 && rc == 0)
    rc = cu_fail(err, errlen, "writing %s: %s", to, strerror(errno));
  return rc;
}

static int write_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const char *in = pipec_ctx_input(ctx, "input");
  const char *rel = cu_str(ctx, "path");
  if (!*rel)
    return cu_fail(err, errlen, "path is empty");
  char *dest = malloc(strlen(ctx->workdir) + strlen(rel) + 2);
  char *tmp = malloc(strlen(ctx->workdir) + strlen(rel) + 32);
  if (!dest || !tmp) {
    free(dest), free(tmp);
    return cu_fail(err, errlen, "out of memory");
  }
  sprintf(dest, rel[0] == '/' ? "%s" : "%s/%s",
          rel[0] == '/' ? rel : ctx->workdir, rel);
  sprintf(tmp, "%s.tmp.%d", dest, (int)getpid());
  int rc = copy(in, tmp, err, errlen);
  if (rc == 0 && rename(tmp, dest) != 0)
    rc = cu_fail(err, errlen, "cannot write %s: %s", dest, strerror(errno));
  if (rc != 0)
    unlink(tmp);
  if (rc == 0)
    rc = copy(in, pipec_ctx_output(ctx, "out"), err, errlen);
  if (rc == 0)
    ctx->log(ctx, "wrote %s", dest);
  free(dest), free(tmp);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the same table"}};
static const pipec_param_desc params[] = {
    {"path", PIPEC_T_STRING, NULL,
     "where to write it, relative to the pipeline's directory"},
};

const pipec_component_desc stdlib_table_write_csv = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.write_csv",
    .version = "1",
    .doc = "Write a copy of the table into the project (atomically). A cached "
           "node does not write again: use --force to restore a deleted copy.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 1,
    .run = write_run,
};
