/*
 * compiler.h — the compiler's entry point: .pipe text in, IR and
 * diagnostics out. The compiler is pure: it reads source files (through a
 * reader the caller may replace) and knows nothing of the engine.
 */
#ifndef PIPEC_COMPILER_H
#define PIPEC_COMPILER_H

#include "diag.h"
#include "ir.h"

/* Reads a whole file. Returns 0 and a malloc'd NUL-terminated buffer in
 * *text (length in *len), or an errno value. The default reads the disk; the
 * engine substitutes one that reads a snapshot's stored files. */
typedef int (*pipec_reader_fn)(void *ctx, const char *path, char **text,
                               size_t *len);

/* The file-system questions of language v2, asked when a pipeline
 * compiles: does a source file (`file("p")`, `dir("p")`, a path param
 * wired to a port) exist, and where does it really live (the project
 * check follows symlinks); which files does a glob match; where would a
 * publish write. The compiler never asks the OS itself: the default
 * (pipec_fs_disk) answers from the disk; a caller compiling stored files
 * (a snapshot) may substitute its own. Paths are as the compiler builds
 * them: relative to the current directory, or absolute. */
typedef enum pipec_fs_kind {
  PIPEC_FS_FILE,                    /* a regular file */
  PIPEC_FS_DIR,                     /* a directory */
  PIPEC_FS_OTHER,                   /* a device, a FIFO, a socket ... */
} pipec_fs_kind;

typedef struct pipec_fs {
  /* What path is, following symlinks: 0 and *kind, or an errno value
   * (ENOENT: nothing there). With real non-NULL, also its real path
   * (absolute, every symlink resolved; malloc'd) in *real. */
  int (*stat_path)(void *ctx, const char *path, pipec_fs_kind *kind,
                   char **real);
  /* The entry names of directory path, without "." and "..", in any
   * order: 0 and a malloc'd array of malloc'd names in *names (free each
   * and the array), or an errno value. */
  int (*list_dir)(void *ctx, const char *path, char ***names, uint32_t *n);
  void *ctx;
} pipec_fs;

/* The disk: stat(2), realpath(3), opendir(3). */
const pipec_fs *pipec_fs_disk(void);

/* The built-in components the compiler knows. origins[i] is the plugin
 * file items[i] came from (NULL: built into pipec); origins may be NULL. */
typedef struct pipec_registry {
  const pipec_component_desc *const *items;
  uint32_t n;
  const char *const *origins;
} pipec_registry;

/* Loads a plugin (`plugin "libx.so"` in a .pipe file): 0 and its
 * components, or non-zero with a message in err. The compiler calls it
 * once per plugin file; the components must stay valid while the compiled
 * pipeline is used. */
typedef int (*pipec_plugin_fn)(void *ctx, const char *path,
                               const pipec_component_desc *const **items,
                               uint32_t *n, char *err, size_t errlen);

typedef struct pipec_compile_opts {
  const pipec_registry *registry;   /* NULL: no built-ins */
  const char *const *overrides;     /* "NAME=VALUE" for pipeline params */
  uint32_t n_overrides;
  pipec_reader_fn reader;           /* NULL: read from disk */
  void *reader_ctx;
  pipec_plugin_fn load_plugin;      /* NULL: a `plugin` line is an error */
  void *plugin_ctx;
  /* Absolute path of the project: an import or a `code` file outside it
   * is an error. NULL: no such check. */
  const char *project_root;
  /* File-system questions (source files, globs, publish paths). NULL: the
   * disk. Source files and publish paths outside project_root (compared
   * by real path) are errors. */
  const pipec_fs *fs;
  /* At most this many nodes after loops are expanded; more is an error.
   * 0: 20,000,000. */
  uint32_t max_nodes;
} pipec_compile_opts;

/* Compile the pipeline in `path`. Diagnostics (errors and warnings) are
 * appended to `diags`. Returns the pipeline, or NULL if there was any error.
 * The returned pipeline's sources stay valid while it lives; the diags refer
 * to source texts owned by the pipeline or, on failure, by the diags. */
pipec_pipeline *pipec_compile(const char *path, const pipec_compile_opts *opts,
                              pipec_diags *diags);

#endif
