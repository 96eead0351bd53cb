/*
 * test_srcfs.c — the files a pipeline names, through the compiler's
 * read/stat/list callbacks (pipec/compiler.h) on an in-memory file system
 * with symbolic links: code globs expand sorted and to files only, a real
 * path outside the project is refused whatever the lexical path, a file is
 * looked up once however many nodes name it, a caller's reader without
 * stat checks nothing (the snapshot case); and engine/projpath.c on a real
 * directory tree: links in the middle, dangling links, paths to be created.
 */
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipec/compiler.h"
#include "pipec/stdlib.h"
#include "projpath.h"

/* A file, a directory (text NULL, dir true) or a link (real set: where it
 * leads, as realpath would say). */
typedef struct vfile {
  const char *path, *text;
  bool dir;
  const char *real;
  pipec_file_kind kind;       /* of what a link leads to */
} vfile;

#define F(path, text) {path, text, false, NULL, PIPEC_FILE_REGULAR}
#define D(path) {path, NULL, true, NULL, PIPEC_FILE_DIR}
#define L(path, real, kind) {path, NULL, false, real, kind}
#define END {NULL, NULL, false, NULL, PIPEC_FILE_REGULAR}

static const vfile *files;
static int n_stats;

static const vfile *find(const char *path) {
  for (const vfile *f = files; f->path; f++)
    if (strcmp(f->path, path) == 0)
      return f;
  return NULL;
}

static int read_mem(void *ctx, const char *path, char **text, size_t *len) {
  (void)ctx;
  const vfile *f = find(path);
  if (!f || !f->text)
    return f ? EISDIR : ENOENT;
  *len = strlen(f->text);
  *text = malloc(*len + 1);
  memcpy(*text, f->text, *len + 1);
  return 0;
}

static int stat_mem(void *ctx, const char *path, pipec_file_kind *kind,
                    char **real) {
  (void)ctx;
  n_stats++;
  const vfile *f = find(path);
  if (!f)
    return ENOENT;
  *kind = f->real ? f->kind : f->dir ? PIPEC_FILE_DIR : PIPEC_FILE_REGULAR;
  if (real) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", f->real ? f->real : path);
    if (!f->real)
      snprintf(buf, sizeof buf, "/proj/%s", path);
    *real = strdup(buf);
  }
  return 0;
}

static int list_mem(void *ctx, const char *dir, char ***names,
                    pipec_file_kind **kinds, uint32_t *n) {
  (void)ctx;
  size_t dl = strlen(dir);
  *names = calloc(64, sizeof **names);
  *kinds = calloc(64, sizeof **kinds);
  *n = 0;
  for (const vfile *f = files; f->path; f++) {
    if (strncmp(f->path, dir, dl) != 0 || f->path[dl] != '/' ||
        strchr(f->path + dl + 1, '/'))
      continue;
    (*names)[*n] = strdup(f->path + dl + 1);
    (*kinds)[(*n)++] = f->real ? f->kind
                       : f->dir ? PIPEC_FILE_DIR
                                : PIPEC_FILE_REGULAR;
  }
  return 0;
}

static pipec_pipeline *compile(const vfile *fs, bool can_stat,
                               const char *const *ov, uint32_t n_ov,
                               pipec_diags *d) {
  files = fs;
  n_stats = 0;
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  static pipec_registry reg;
  reg = (pipec_registry){.items = items, .n = n};
  static pipec_fs mfs;
  mfs = (pipec_fs){.stat = can_stat ? stat_mem : NULL, .list = list_mem};
  pipec_compile_opts o = {.registry = &reg,
                          .overrides = ov,
                          .n_overrides = n_ov,
                          .reader = read_mem,
                          .fs = &mfs,
                          .project_root = can_stat ? "/proj" : NULL};
  pipec_diags_init(d);
  return pipec_compile(fs[0].path, &o, d);
}

/* Does some diagnostic's message contain text? */
static bool has_diag(const pipec_diags *d, const char *text) {
  for (uint32_t i = 0; i < d->n; i++)
    if (strstr(d->items[i].message, text))
      return true;
  return false;
}

static void test_code_glob(void) {
  static const vfile fs[] = {
      F("p.pipe",
       "pipeline p {\n"
       "  component c() -> (out: file) {\n"
       "    command = \"run {out}\"\n"
       "    code = [\"s/*.py\", \"s/b.py\", \"s/*/*.sh\"]\n"
       "  }\n"
       "  node a = c()\n"
       "}\n"),
      D("s"),
      F("s/b.py", "b"),
      F("s/a.py", "a"),
      F("s/.hidden.py", "h"),          /* a leading dot needs a dot */
      D("s/dir.py"),       /* a directory is no match */
      D("s/t"),
      F("s/t/x.sh", "x"),
      END};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, true, NULL, 0, &d);
  if (!p)
    pipec_diags_print(&d, stderr, false);
  CHECK(p);
  const pipec_component *c = &p->components[p->nodes[0].component];
  CHECK_EQ(c->n_code, 3); /* s/b.py once */
  CHECK_STREQ(c->code[0], "s/a.py");
  CHECK_STREQ(c->code[1], "s/b.py");
  CHECK_STREQ(c->code[2], "s/t/x.sh");
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_links_out_of_the_project(void) {
  static const vfile fs[] = {
      F("p.pipe",
       "import \"lib/pw.pipe\"\n"
       "pipeline p { node a = shell(command = \"echo > {out}\") }\n"),
      D("lib"),
      L("lib/pw.pipe", "/etc/passwd", PIPEC_FILE_REGULAR),
      END};
  pipec_diags d;
  CHECK(!compile(fs, true, NULL, 0, &d));
  CHECK(has_diag(&d, "import 'lib/pw.pipe' is outside the project (/proj): "
                     "its real path is /etc/passwd"));
  CHECK_EQ(d.n_errors, 1);  /* nothing of the file was parsed */
  pipec_diags_free(&d);

  static const vfile fs2[] = {
      F("p.pipe",
       "pipeline p {\n"
       "  param data : path = \"up/x.csv\"\n"
       "  component c() -> (out: file) {\n"
       "    command = \"run {out}\"\n"
       "    code = [\"up/run.sh\", \"dev\"]\n"
       "  }\n"
       "  node a = c()\n"
       "  node b = table.read_csv(path = data)\n"
       "}\n"),
      L("up", "/elsewhere", PIPEC_FILE_DIR),
      L("up/x.csv", "/elsewhere/x.csv", PIPEC_FILE_REGULAR),
      L("up/run.sh", "/elsewhere/run.sh", PIPEC_FILE_REGULAR),
      L("dev", "/proj/dev", PIPEC_FILE_OTHER),
      END};
  CHECK(!compile(fs2, true, NULL, 0, &d));
  CHECK(has_diag(&d, "param 'data': path 'up/x.csv' is outside the project "
                     "(/proj): its real path is /elsewhere/x.csv"));
  CHECK(has_diag(&d, "code file 'up/run.sh' is outside the project (/proj): "
                     "its real path is /elsewhere/run.sh"));
  CHECK(has_diag(&d, "code file 'dev' is a device, FIFO or socket"));
  CHECK_EQ(d.n_errors, 3);
  pipec_diags_free(&d);
}

static void test_missing_files(void) {
  static const vfile fs[] = {
      F("p.pipe",
       "pipeline p {\n"
       "  param data : path = \"in.csv\"\n"
       "  node a = table.read_csv(path = \"dat/x.csv\")\n"
       "  node b = table.read_csv(path = data)\n"
       "}\n"),
      F("in.csv", "a\n"),
      D("data"),
      F("data/x.csv", "a\n"),
      END};
  pipec_diags d;
  CHECK(!compile(fs, true, NULL, 0, &d));
  CHECK(has_diag(&d, "param 'path' of 'table.read_csv': path 'dat/x.csv' "
                     "does not exist"));
  CHECK_EQ(d.n_errors, 1);
  pipec_diags_free(&d);
  /* the override is checked, not the default */
  const char *ov[] = {"data=nope.csv"};
  static const vfile fs2[] = {
      F("p.pipe",
       "pipeline p {\n"
       "  param data : path = \"in.csv\"\n"
       "  node b = table.read_csv(path = data)\n"
       "}\n"),
      F("in.csv", "a\n"),
      END};
  CHECK(!compile(fs2, true, ov, 1, &d));
  CHECK(has_diag(&d, "-p data=nope.csv: path 'nope.csv' does not exist"));
  CHECK_EQ(d.n_errors, 1);
  pipec_diags_free(&d);
  /* a reader of the caller's without stat: nothing is checked */
  pipec_pipeline *p = compile(fs2, false, ov, 1, &d);
  CHECK(p);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_looked_up_once(void) {
  /* 2000 nodes read one file: one stat */
  size_t cap = 2000 * 64 + 256, n = 0;
  char *text = malloc(cap);
  n += (size_t)snprintf(text + n, cap - n, "pipeline p {\n");
  for (int i = 0; i < 2000; i++)
    n += (size_t)snprintf(text + n, cap - n,
                          "  node n%d = table.read_csv(path = \"in.csv\")\n",
                          i);
  snprintf(text + n, cap - n, "}\n");
  const vfile fs[] = {F("p.pipe", text), F("in.csv", "a\n"), END};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, true, NULL, 0, &d);
  CHECK(p);
  CHECK_EQ(n_stats, 1);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
  free(text);
}

/* ---- projpath on the disk ---------------------------------------------- */

static void touch(const char *path) {
  FILE *f = fopen(path, "w");
  CHECK(f);
  fclose(f);
}

static void test_projpath(void) {
  char tmpl[] = "/tmp/pipec-projpath.XXXXXX", base[PATH_MAX];
  CHECK(mkdtemp(tmpl));
  CHECK(realpath(tmpl, base));
  char proj[PATH_MAX + 8], out[PATH_MAX + 8], p[PATH_MAX * 2], real[PATH_MAX];
  snprintf(proj, sizeof proj, "%s/proj", base);
  snprintf(out, sizeof out, "%s/out", base);
  CHECK(mkdir(proj, 0755) == 0 && mkdir(out, 0755) == 0);
  snprintf(p, sizeof p, "%s/sub", proj);
  CHECK(mkdir(p, 0755) == 0);
  snprintf(p, sizeof p, "%s/.git", proj);
  touch(p); /* a worktree's .git file marks the project too */
  snprintf(p, sizeof p, "%s/sub/x.pipe", proj);
  touch(p);
  CHECK(projpath_root(p, real, sizeof real) == 0);
  CHECK_STREQ(real, proj);

  /* a link to a directory outside, in the middle of a path to be made */
  snprintf(p, sizeof p, "%s/link", proj);
  CHECK(symlink(out, p) == 0);
  snprintf(p, sizeof p, "%s/link/new/file.txt", proj);
  CHECK_EQ(projpath_inside(proj, p, real, sizeof real), 0);
  char want[PATH_MAX * 2];
  snprintf(want, sizeof want, "%s/new/file.txt", out);
  CHECK_STREQ(real, want);
  /* a dangling link out */
  snprintf(p, sizeof p, "%s/dangling", proj);
  snprintf(want, sizeof want, "%s/not-yet", out);
  CHECK(symlink(want, p) == 0);
  CHECK_EQ(projpath_inside(proj, p, real, sizeof real), 0);
  CHECK_STREQ(real, want);
  /* plain files inside, existing or not, and the root itself */
  snprintf(p, sizeof p, "%s/sub/x.pipe", proj);
  CHECK_EQ(projpath_inside(proj, p, NULL, 0), 1);
  snprintf(p, sizeof p, "%s/sub/new/deeper.txt", proj);
  CHECK_EQ(projpath_inside(proj, p, NULL, 0), 1);
  CHECK_EQ(projpath_inside(proj, proj, NULL, 0), 1);
  /* a sibling whose name starts like the project's is outside */
  snprintf(p, sizeof p, "%s/proj2/x", base);
  CHECK_EQ(projpath_inside(proj, p, NULL, 0), 0);
  /* ".." below a directory that does not exist cannot be resolved */
  snprintf(p, sizeof p, "%s/missing/../x", proj);
  CHECK_EQ(projpath_inside(proj, p, NULL, 0), -ENOENT);
  /* a link loop */
  snprintf(p, sizeof p, "%s/loop", proj);
  CHECK(symlink(p, p) == 0);
  CHECK(projpath_inside(proj, p, NULL, 0) < 0);

  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  CHECK(system(cmd) == 0);
}

int main(void) {
  RUN(test_code_glob);
  RUN(test_links_out_of_the_project);
  RUN(test_missing_files);
  RUN(test_looked_up_once);
  RUN(test_projpath);
  return 0;
}
