/*
 * table_read_csv.c — `table.read_csv(path)` -> out: bring a CSV file into
 * the pipeline as a table.
 *
 * The file is read once through the CSV reader (csv.h), which checks it:
 * a header row with distinct names, quotes that close, no bare quote in an
 * unquoted field, as many fields on every row as in the header, UTF-8. The
 * first problem fails the node with "FILE:LINE: what was wrong". The bytes
 * read are copied to the output in the same pass, so a valid file arrives
 * byte for byte (its hash is the file's).
 * A relative path is taken relative to the pipeline's directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

/* Read every record, copying the bytes to `to` on the way; 0 if the file
 * is a valid table and the copy is whole. */
static int check_and_copy(const pipec_run_ctx *ctx, const char *path,
                          const char *to, char *err, size_t errlen,
                          uint64_t *rows) {
  csv_reader *r;
  if (csv_open_copy(path, to, &r, err, errlen) != 0)
    return -1;
  const csv_field *f;
  int rc;
  *rows = 0;
  while ((rc = csv_next(r, &f, err, errlen)) == 1)
    if ((++*rows & 0xffff) == 0 && *ctx->cancelled) {
      rc = cu_fail(err, errlen, "cancelled");
      break;
    }
  if (rc == 0)
    rc = csv_copy_close(r, err, errlen);
  csv_close(r);
  return rc < 0 ? -1 : 0;
}

static int read_csv_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const char *rel = cu_str(ctx, "path");
  if (!*rel)
    return cu_fail(err, errlen, "path is empty");
  const char *dir = ctx->workdir ? ctx->workdir : ".";
  bool relative = rel[0] != '/' && strcmp(dir, ".") != 0;
  char *path = malloc(strlen(dir) + strlen(rel) + 2);
  if (!path)
    return cu_fail(err, errlen, "out of memory");
  if (relative)
    sprintf(path, "%s/%s", dir, rel);
  else
    strcpy(path, rel);
  uint64_t rows;
  int rc = check_and_copy(ctx, path, pipec_ctx_output(ctx, "out"), err,
                          errlen, &rows);
  if (rc == 0)
    ctx->log(ctx, "%s: %llu rows", rel, (unsigned long long)rows);
  free(path);
  return rc;
}

static const pipec_port_desc outputs[] = {
    {"out", PIPEC_PORT_TABLE, "the table"},
};

static const pipec_param_desc params[] = {
    {"path", PIPEC_T_PATH, NULL, "CSV file with a header row"},
};

const pipec_component_desc stdlib_table_read_csv = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.read_csv",
    .version = "2",
    .doc = "Read a CSV file (RFC 4180, header row, UTF-8) into a table. "
           "Malformed input fails the node with the file, line and problem.",
    .outputs = outputs,
    .n_outputs = 1,
    .params = params,
    .n_params = 1,
    .run = read_csv_run,
};
