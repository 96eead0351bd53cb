/*
 * compiler.h — the compiler's entry point: .pipe text in, IR and
 * diagnostics out. The compiler is pure: it reads and looks up source files
 * only through the callbacks below (the caller may replace them; the
 * defaults use the disk) and knows nothing of the engine.
 */
#ifndef PIPEC_COMPILER_H
#define PIPEC_COMPILER_H

#include "diag.h"
#include "export.h"
#include "ir.h"
#include "target_kind.h"

/* Reads a whole file. Returns 0 and a malloc'd NUL-terminated buffer in
 * *text (length in *len), or an errno value. The default reads the disk; the
 * engine substitutes one that reads a snapshot's stored files. */
typedef int (*pipec_reader_fn)(void *ctx, const char *path, char **text,
                               size_t *len);

/* What a path names, following symbolic links. */
typedef enum pipec_file_kind {
  PIPEC_FILE_REGULAR,
  PIPEC_FILE_DIR,
  PIPEC_FILE_OTHER,             /* a device, a FIFO, a socket */
} pipec_file_kind;

/* Looks a file up, following symbolic links. Returns 0 with its kind and,
 * if real is not NULL, its real path in *real (absolute, every link
 * resolved; malloc'd), or an errno value (ENOENT: nothing there). The
 * compiler asks it about imports, `code` files and `path` values before it
 * uses them. */
typedef int (*pipec_stat_fn)(void *ctx, const char *path,
                             pipec_file_kind *kind, char **real);

/* Lists a directory: 0 with its entries (without "." and "..", in any
 * order): their names in *names, a malloc'd array of malloc'd strings, and
 * their kinds (following links; an entry that cannot be looked up is
 * PIPEC_FILE_OTHER) in *kinds, a malloc'd array; or an errno value. For
 * `code` globs and "did you mean" hints. */
typedef int (*pipec_list_fn)(void *ctx, const char *dir, char ***names,
                             pipec_file_kind **kinds, uint32_t *n);

/* The defaults: the disk (ctx unused). */
PIPEC_API int pipec_read_disk(void *ctx, const char *path, char **text,
                              size_t *len);
PIPEC_API int pipec_stat_disk(void *ctx, const char *path,
                              pipec_file_kind *kind, char **real);
PIPEC_API int pipec_list_disk(void *ctx, const char *dir, char ***names,
                              pipec_file_kind **kinds, uint32_t *n);
/* Every file-system question the compiler asks, as one set of callbacks:
 * is an import, a `code` file, a `path` value or a source file there, of
 * which kind, and where does it really live (the project check follows
 * symlinks); which files does a glob match; where would a publish write.
 * The compiler never asks the OS itself: pipec_fs_disk() answers from the
 * disk; a caller compiling stored files (a snapshot) substitutes its own.
 * Paths are as the compiler builds them: relative to the current
 * directory, or absolute. */
typedef struct pipec_fs {
  pipec_stat_fn stat;
  pipec_list_fn list;
  void *ctx;
} pipec_fs;

/* The disk: stat(2), realpath(3), opendir(3). */
PIPEC_API const pipec_fs *pipec_fs_disk(void);

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
  /* Real path of the project (absolute, no symbolic links): an import, a
   * `code` file or a `path` value whose real path is outside it is an
   * error. NULL: no such check. */
  const char *project_root;
  /* The target kinds a `target NAME = KIND { ... }` may name, with the
   * options each takes (the engine's table: tgt_kinds_schema()). NULL: no
   * kinds, and only the implicit `local` target exists. */
  const pipec_target_kinds *target_kinds;
  /* File-system questions (pipec_fs). NULL with reader NULL: the disk.
   * NULL with a reader of the caller's: imports, `code` files and `path`
   * values are not checked on disk (a snapshot compiled from its stored
   * files was checked when it ran), source files still are. Files whose
   * real path is outside project_root are errors. */
  const pipec_fs *fs;
  /* At most this many nodes after loops are expanded; more is an error.
   * 0: 20,000,000. */
  uint32_t max_nodes;
  /* The workspace's quota groups: the text of its quota file (quota_len
   * bytes; docs/targets.md), named quota_path in messages. The caller
   * reads it: it is the workspace's file, not the project's, and no part
   * of a snapshot. NULL: no groups (a node naming one is an error). */
  const char *quota_path;
  const char *quota_text;
  size_t quota_len;
} pipec_compile_opts;

/* Compile the pipeline in `path`. Diagnostics (errors and warnings) are
 * appended to `diags`. Returns the pipeline, or NULL if there was any error.
 * The returned pipeline's sources stay valid while it lives; the diags refer
 * to source texts owned by the pipeline or, on failure, by the diags. */
PIPEC_API pipec_pipeline *pipec_compile(const char *path,
                                        const pipec_compile_opts *opts,
                                        pipec_diags *diags);

#endif
