/*
 * test_families.c — the IR of language v2 (include/pipec/ir.h): families
 * and their members, keys and parts, gathers in SOURCE order, source
 * files, publishes, run-time loops as templates. The compiler is pure:
 * sources come from an in-memory reader and every file-system question
 * (globs, source files, the project check by real path) from an
 * in-memory pipec_fs, so nothing here touches the disk.
 */
#include "check.h"

#include <errno.h>

#include "pipec/compiler.h"
#include "pipec/stdlib.h"

/* ---- a virtual project: /v/proj, its .pipe files and data files ---------- */

typedef struct vfile {
  const char *path, *text;
} vfile;

static const vfile *pipes;
/* data files, relative to the current directory (the compile's "proj/"),
 * with the real path each resolves to (a link when it differs) */
static const char *const data[][2] = {
    {"proj/data/reads/B.fq", "/v/proj/data/reads/B.fq"},
    {"proj/data/reads/A.fq", "/v/proj/data/reads/A.fq"},
    {"proj/data/reads/C.fq", "/v/proj/data/reads/C.fq"},
    {"proj/data/reads/.D.fq", "/v/proj/data/reads/.D.fq"},
    {"proj/data/ref.fa", "/v/proj/data/ref.fa"},
    {"proj/data/out.fa", "/v/elsewhere/out.fa"}, /* a link out */
    {NULL, NULL}};
static int n_stats, n_lists;

static int read_mem(void *ctx, const char *path, char **text, size_t *len) {
  (void)ctx;
  for (const vfile *f = pipes; f->path; f++)
    if (strcmp(f->path, path) == 0) {
      *len = strlen(f->text);
      *text = malloc(*len + 1);
      memcpy(*text, f->text, *len + 1);
      return 0;
    }
  return ENOENT;
}

static int v_stat(void *ctx, const char *path, pipec_file_kind *kind,
                  char **real) {
  (void)ctx;
  n_stats++;
  size_t n = strlen(path);
  for (int i = 0; data[i][0]; i++) {
    if (strcmp(data[i][0], path) == 0) {
      *kind = PIPEC_FILE_REGULAR;
      if (real)
        *real = strdup(data[i][1]);
      return 0;
    }
    if (strncmp(data[i][0], path, n) == 0 && data[i][0][n] == '/') {
      *kind = PIPEC_FILE_DIR;
      if (real) {
        *real = malloc(n + 4);
        sprintf(*real, "/v/%s", path);
      }
      return 0;
    }
  }
  if (strcmp(path, "proj") == 0 || strcmp(path, ".") == 0) {
    *kind = PIPEC_FILE_DIR;
    if (real)
      *real = strdup(strcmp(path, ".") == 0 ? "/v" : "/v/proj");
    return 0;
  }
  return ENOENT;
}

static int v_list(void *ctx, const char *path, char ***names,
                  pipec_file_kind **kinds, uint32_t *n) {
  (void)ctx;
  n_lists++;
  size_t pl = strlen(path);
  *names = calloc(16, sizeof **names);
  *kinds = calloc(16, sizeof **kinds);
  *n = 0;
  for (int i = 0; data[i][0]; i++)
    if (strncmp(data[i][0], path, pl) == 0 && data[i][0][pl] == '/') {
      const char *rest = data[i][0] + pl + 1;
      size_t len = strcspn(rest, "/");
      bool dup = false;
      for (uint32_t k = 0; k < *n; k++)
        dup |= strlen((*names)[k]) == len && !strncmp((*names)[k], rest, len);
      if (!dup) {
        (*kinds)[*n] = rest[len] == '/' ? PIPEC_FILE_DIR : PIPEC_FILE_REGULAR;
        (*names)[(*n)++] = strndup(rest, len);
      }
    }
  if (*n)
    return 0;
  free(*names);
  free(*kinds);
  return ENOENT;
}

static const pipec_fs vfs = {v_stat, v_list, NULL};

static pipec_pipeline *compile(const vfile *fs, pipec_diags *d) {
  pipes = fs;
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  static pipec_registry reg;
  reg = (pipec_registry){.items = items, .n = n};
  pipec_compile_opts o = {.registry = &reg, .reader = read_mem, .fs = &vfs,
                          .project_root = "/v/proj"};
  pipec_diags_init(d);
  pipec_pipeline *p = pipec_compile(fs[0].path, &o, d);
  return p;
}

static const pipec_node *node(const pipec_pipeline *p, const char *name) {
  uint32_t i = pipec_pipeline_node(p, name);
  CHECK(i != PIPEC_NONE);
  return &p->nodes[i];
}

static bool has_error(pipec_diags *d, const char *code) {
  for (uint32_t i = 0; i < d->n; i++)
    if (d->items[i].severity == PIPEC_SEV_ERROR &&
        strcmp(d->items[i].code, code) == 0)
      return true;
  return false;
}

/* ---- tests --------------------------------------------------------------- */

static void test_glob_family_sources_publish(void) {
  static const vfile fs[] = {{"proj/calling.pipe",
      "pipeline calling {\n"
      "  param genome : path = \"data/ref.fa\"\n"
      "  component align(ref: file, reads: file) -> (bam: file \"a.bam\") {\n"
      "    param sample : string\n"
      "    command = \"cat {ref} {reads} > {bam}\"\n"
      "  }\n"
      "  component call(bams: [file]) -> (vcf: file) {\n"
      "    param names : [string]\n"
      "    command = \"cat {bams} > {vcf}\"\n"
      "  }\n"
      "  for s in glob(\"data/reads/{s}.fq\") {\n"
      "    node aligned[s] = align(ref = genome, reads = file(\"data/reads/${s}.fq\"), sample = s)\n"
      "    publish aligned[s].bam = \"results/${s}.bam\"\n"
      "  }\n"
      "  node calls = call(bams = aligned[*].bam, names = keys(aligned))\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  n_stats = n_lists = 0;
  pipec_pipeline *p = compile(fs, &d);
  if (!p)
    pipec_diags_print(&d, stderr, false);
  CHECK(p);
  CHECK(n_lists > 0 && n_stats > 0); /* asked the pipec_fs, not the disk */
  CHECK_EQ(p->n_families, 1);
  const pipec_family *f = &p->families[0];
  CHECK_STREQ(f->name, "aligned");
  CHECK_EQ(f->n_members, 3); /* .D.fq is hidden */
  CHECK_STREQ(f->keys[0], "A");
  CHECK_STREQ(f->keys[1], "B");
  CHECK_STREQ(f->keys[2], "C");
  CHECK_STREQ(f->parts[2], "C");
  CHECK(!f->runtime);
  const pipec_node *b = node(p, "aligned[B]");
  CHECK_EQ(b->family, 0);
  CHECK_STREQ(b->key, "B");
  CHECK_EQ(&p->nodes[f->members[1]], b);
  /* the path param and file() are source inputs */
  CHECK_EQ(b->n_inputs, 2);
  CHECK_EQ(b->inputs[0].kind, PIPEC_IN_SOURCE);
  CHECK_EQ(b->inputs[0].producer, PIPEC_NONE);
  CHECK_STREQ(b->inputs[0].source, "data/reads/B.fq");
  CHECK_STREQ(b->inputs[1].port, "ref");
  CHECK_STREQ(b->inputs[1].source, "data/ref.fa");
  const pipec_component *ac = &p->components[b->component];
  CHECK_STREQ(ac->outputs[0].filename, "a.bam");
  /* the gather: one input per member, in SOURCE order */
  const pipec_node *calls = node(p, "calls");
  CHECK_EQ(calls->n_inputs, 3);
  for (uint32_t i = 0; i < 3; i++) {
    CHECK_EQ(calls->inputs[i].kind, PIPEC_IN_NODE);
    CHECK_EQ(calls->inputs[i].index, i);
    CHECK_EQ(calls->inputs[i].producer, f->members[i]);
    CHECK_STREQ(calls->inputs[i].producer_port, "bam");
  }
  CHECK(p->components[calls->component].inputs[0].list);
  const pipec_param *names = pipec_node_param(calls, "names");
  CHECK_EQ(names->value.u.list.n, 3);
  CHECK_EQ(names->value.u.list.elem, PIPEC_T_STRING);
  CHECK_STREQ(names->value.u.list.items[2].u.s, "C");
  /* publishes and the source files */
  CHECK_EQ(p->n_publishes, 3);
  CHECK_STREQ(p->publishes[0].path, "results/A.bam");
  CHECK_EQ(p->publishes[0].node, f->members[0]);
  CHECK_STREQ(p->publishes[0].port, "bam");
  CHECK_EQ(p->publishes[0].fanout, PIPEC_NONE);
  CHECK_EQ(p->n_datafiles, 4);
  CHECK_STREQ(p->datafiles[0].path, "data/reads/A.fq"); /* sorted */
  CHECK_STREQ(p->datafiles[3].path, "data/ref.fa");
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_nested_and_partial_gathers(void) {
  static const vfile fs[] = {{"proj/sweep.pipe",
      "pipeline sweep {\n"
      "  param seeds : [int] = [3, 1, 2]\n"
      "  param l2s : [float] = [0.5, 1]\n"
      "  for seed in seeds {\n"
      "    for l2 in l2s {\n"
      "      node m[seed, l2] = shell(command = \"echo ${seed} ${l2} > {out}\")\n"
      "    }\n"
      "  }\n"
      "  node per[seed] = shell(command = \"cat {s} > {out}\", s = m[seed, *].out, k = keys(m[seed, *])) for seed in seeds\n"
      "  node last = shell(command = \"cat {s} > {out}\", s = m[*, 1.0].out)\n"
      "  node none = shell(command = \"cat {s} > {out}\", s = m[7, *].out)\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, &d);
  if (!p)
    pipec_diags_print(&d, stderr, false);
  CHECK(p);
  const pipec_family *m = &p->families[0];
  CHECK_EQ(m->n_members, 6);
  CHECK_EQ(m->n_vars, 2);
  CHECK_STREQ(m->keys[0], "3,0.5"); /* the list's own order */
  CHECK_STREQ(m->keys[1], "3,1.0"); /* an int item of a [float] is a float */
  CHECK_STREQ(m->parts[2 * 5 + 0], "2");
  CHECK_STREQ(m->parts[2 * 5 + 1], "1.0");
  const pipec_node *per1 = node(p, "per[1]");
  CHECK_EQ(per1->n_inputs, 2);
  CHECK_STREQ(p->nodes[per1->inputs[0].producer].name, "m[1,0.5]");
  CHECK_STREQ(p->nodes[per1->inputs[1].producer].name, "m[1,1.0]");
  CHECK_EQ(per1->n_var_inputs, 1);
  CHECK(per1->var_inputs[0].list);
  const pipec_param *k = pipec_node_param(per1, "k");
  CHECK_EQ(k->value.u.list.n, 2);
  CHECK_STREQ(k->value.u.list.items[1].u.s, "1.0"); /* the '*' part */
  const pipec_node *last = node(p, "last");
  CHECK_EQ(last->n_inputs, 3);
  CHECK_STREQ(p->nodes[last->inputs[0].producer].name, "m[3,1.0]");
  CHECK_STREQ(p->nodes[last->inputs[2].producer].name, "m[2,1.0]");
  /* a gather of nothing: no input, but the port is known to be a list */
  const pipec_node *none = node(p, "none");
  CHECK_EQ(none->n_inputs, 0);
  CHECK_EQ(none->n_var_inputs, 1);
  CHECK(none->var_inputs[0].list);
  CHECK_STREQ(none->var_inputs[0].name, "s");
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_runtime_templates(void) {
  static const vfile fs[] = {{"proj/rt.pipe",
      "pipeline rt {\n"
      "  component split(input: file) -> (chunks: dir) { command = \"cp {input} {chunks}/a\" }\n"
      "  node total = shell(command = \"cat {all} > {out}\", all = b[*].out, names = keys(b))\n"
      "  for c in parts.chunks {\n"
      "    node b[c] = shell(command = \"cat {x} > {out} # ${c}\", x = a[c].out)\n"
      "    node a[c] = shell(command = \"cat {x} {r} > {out}\", x = c, r = src.out)\n"
      "    publish b[c].out = \"results/${c}.txt\"\n"
      "  }\n"
      "  node parts = split(input = src.out)\n"
      "  node src = shell(command = \"seq 10 > {out}\")\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, &d);
  if (!p)
    pipec_diags_print(&d, stderr, false);
  CHECK(p);
  CHECK_EQ(p->n_nodes, 3);
  CHECK_EQ(p->n_fanouts, 1);
  CHECK_EQ(p->n_templates, 2);
  const pipec_fanout *fo = &p->fanouts[0];
  CHECK_EQ(fo->kind, PIPEC_FANOUT_DIR);
  CHECK_STREQ(p->nodes[fo->producer].name, "parts");
  CHECK_STREQ(fo->port, "chunks");
  CHECK_STREQ(fo->var, "c");
  /* templates in an order where each reads only earlier ones */
  const pipec_node *t0 = &p->templates[fo->first_template];
  const pipec_node *t1 = &p->templates[fo->first_template + 1];
  CHECK_STREQ(t0->name, "a[*]");
  CHECK_STREQ(t1->name, "b[*]");
  CHECK_STREQ(t0->key, "*");
  CHECK_EQ(t0->inputs[0].kind, PIPEC_IN_NODE); /* r = src.out */
  CHECK_STREQ(p->nodes[t0->inputs[0].producer].name, "src");
  CHECK_EQ(t0->inputs[1].kind, PIPEC_IN_ITEM); /* x = c */
  CHECK_EQ(t1->inputs[0].kind, PIPEC_IN_TEMPLATE);
  CHECK_EQ(t1->inputs[0].ref, fo->first_template);
  CHECK_EQ(t1->n_deferred, 1);
  CHECK_EQ(t1->deferred[0].kind, PIPEC_DEFER_ITEM);
  CHECK_STREQ(t1->deferred[0].text, "cat {x} > {out} # ${c}");
  CHECK_STREQ(t1->params[t1->deferred[0].param].name, "command");
  /* the family: run-time, no members, its templates */
  uint32_t bf = pipec_pipeline_family(p, "b");
  CHECK(bf != PIPEC_NONE && p->families[bf].runtime);
  CHECK_EQ(p->families[bf].n_members, 0);
  CHECK_EQ(p->families[bf].n_templates, 1);
  /* the gather comes after the loop's producer and what the body reads */
  const pipec_node *total = node(p, "total");
  CHECK_EQ(total->n_inputs, 1);
  CHECK_EQ(total->inputs[0].kind, PIPEC_IN_GATHER);
  CHECK_EQ(total->inputs[0].producer, PIPEC_NONE);
  CHECK_STREQ(p->templates[total->inputs[0].ref].name, "b[*]");
  CHECK(pipec_pipeline_node(p, "total") > pipec_pipeline_node(p, "parts"));
  CHECK(pipec_pipeline_node(p, "total") > pipec_pipeline_node(p, "src"));
  CHECK_EQ(total->n_deferred, 1);
  CHECK_EQ(total->deferred[0].kind, PIPEC_DEFER_KEYS);
  CHECK_STREQ(p->templates[total->deferred[0].ref].name, "b[*]");
  CHECK_EQ(p->n_publishes, 1);
  CHECK_EQ(p->publishes[0].fanout, 0);
  CHECK_STREQ(p->publishes[0].path, "results/${c}.txt");
  CHECK_STREQ(p->templates[p->publishes[0].node].name, "b[*]");
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_outside_by_real_path(void) {
  static const vfile fs[] = {{"proj/o.pipe",
      "pipeline o {\n"
      "  node a = shell(command = \"cat {x} > {out}\", x = file(\"data/out.fa\"))\n"
      "  publish a.out = \"../x.txt\"\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, &d);
  CHECK(!p);
  CHECK(has_error(&d, "outside-project"));
  CHECK_EQ(d.n_errors, 2); /* the link out, and the publish */
  pipec_diags_free(&d);
}

static void test_big_family(void) {
  /* 100k members: each found by name through the index */
  static const vfile fs[] = {{"proj/big.pipe",
      "pipeline big {\n"
      "  for i in range(100000) {\n"
      "    node a[i] = shell(command = \"echo ${i} > {out}\")\n"
      "    node b[i] = shell(command = \"cat {x} > {out}\", x = a[i].out)\n"
      "  }\n"
      "  node g = shell(command = \"cat {x} > {out}\", x = b[*].out)\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, &d);
  CHECK(p);
  CHECK_EQ(p->n_nodes, 200001);
  char name[32];
  for (uint32_t i = 0; i < 100000; i += 997) {
    snprintf(name, sizeof name, "b[%u]", i);
    const pipec_node *b = node(p, name);
    CHECK_EQ(b->inputs[0].producer, p->families[0].members[i]); /* a[i] */
  }
  CHECK_EQ(node(p, "g")->n_inputs, 100000);
  CHECK_EQ(pipec_pipeline_node(p, "b[100000]"), PIPEC_NONE);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

int main(void) {
  RUN(test_glob_family_sources_publish);
  RUN(test_nested_and_partial_gathers);
  RUN(test_runtime_templates);
  RUN(test_outside_by_real_path);
  RUN(test_big_family);
  return 0;
}
