/*
 * test_compile.c — the compiler's IR (include/pipec/ir.h) for valid
 * pipelines: topological order, canonical params (types applied, defaults
 * filled, interpolation done), edges, targets, settings, and a multi-file
 * import. Sources come from an in-memory reader, as the engine's snapshot
 * reader provides them.
 */
#include "check.h"

#include <errno.h>
#include <math.h>

#include "pipec/compiler.h"
#include "pipec/stdlib.h"
#include "target.h"

typedef struct vfile {
  const char *path, *text;
} vfile;

static const vfile *files;

static int read_mem(void *ctx, const char *path, char **text, size_t *len) {
  (void)ctx;
  for (const vfile *f = files; f->path; f++)
    if (strcmp(f->path, path) == 0) {
      *len = strlen(f->text);
      *text = malloc(*len + 1);
      memcpy(*text, f->text, *len + 1);
      return 0;
    }
  return ENOENT;
}

static pipec_pipeline *compile(const vfile *fs, const char *const *ov,
                               uint32_t n_ov, pipec_diags *d) {
  files = fs;
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  static pipec_registry reg;
  reg = (pipec_registry){.items = items, .n = n};
  static pipec_target_kinds kinds;
  kinds = tgt_kinds_schema(tgt_builtin_kinds());
  pipec_compile_opts o = {.registry = &reg, .overrides = ov,
                          .n_overrides = n_ov, .reader = read_mem,
                          .target_kinds = &kinds};
  pipec_diags_init(d);
  pipec_pipeline *p = pipec_compile(fs[0].path, &o, d);
  if (!p)
    pipec_diags_print(d, stderr, false);
  return p;
}

static const pipec_node *node(const pipec_pipeline *p, const char *name) {
  uint32_t i = pipec_pipeline_node(p, name);
  CHECK(i != PIPEC_NONE);
  return &p->nodes[i];
}

static void test_topological_order(void) {
  /* declared consumers first; ties keep declaration order */
  static const vfile fs[] = {{"order.pipe",
      "pipeline p {\n"
      "  component cat2(a: file, b: file) -> (out: file) {\n"
      "    command = \"cat {a} {b} > {out}\"\n"
      "  }\n"
      "  node last  = cat2(a = mid.out, b = second.out)\n"
      "  node mid   = cat2(a = first.out, b = second.out)\n"
      "  node second = shell(command = \"echo 2 > {out}\")\n"
      "  node first = shell(command = \"echo 1 > {out}\")\n"
      "  node alone = shell(command = \"echo 3 > {out}\")\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, NULL, 0, &d);
  CHECK(p);
  CHECK_EQ(p->n_nodes, 5);
  const char *want[] = {"second", "first", "mid", "last", "alone"};
  for (int i = 0; i < 5; i++)
    CHECK_STREQ(p->nodes[i].name, want[i]);
  /* every producer comes before its consumer */
  for (uint32_t i = 0; i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
      CHECK(p->nodes[i].inputs[k].producer < i);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_params_and_edges(void) {
  static const vfile fs[] = {{"params.pipe",
      "pipeline p {\n"
      "  param data  : path = \"data/in.csv\"\n"
      "  param ratio : float = 1\n"
      "  param n     : int = 7\n"
      "  param tag   : string = \"v${ratio}-${n}\"\n"
      "  param cols  : list = [\"a\", \"b\", 3]\n"
      "  component pick(input: table) -> (out: table, rest: table) {\n"
      "    param columns : list = []\n"
      "    param label : string = \"y\"\n"
      "    param frac : float = 0.5\n"
      "    command = \"pick {input} {out} {rest} {columns} $${HOME} {{x}}\"\n"
      "  }\n"
      "  node load = table.read_csv(path = data)\n"
      "  node pk   = pick(input = load.out, frac = ratio, label = tag)\n"
      "  node both = shell(command = \"cat {x} {y} > {out} # ${tag}\",\n"
      "                    y = pk.rest, x = pk.out)\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, NULL, 0, &d);
  CHECK(p);
  CHECK_EQ(p->n_params, 5);
  CHECK_EQ(p->params[1].value.type, PIPEC_T_FLOAT);
  CHECK(p->params[1].value.u.f == 1.0);
  CHECK_STREQ(p->params[3].value.u.s, "v1.0-7");
  CHECK_EQ(p->params[4].value.u.list.n, 3);
  CHECK_EQ(p->params[4].value.u.list.items[2].type, PIPEC_T_INT);

  const pipec_node *pk = node(p, "pk");
  /* every declared param, sorted by name, defaults filled */
  CHECK_EQ(pk->n_params, 3);
  CHECK_STREQ(pk->params[0].name, "columns");
  CHECK_EQ(pk->params[0].value.u.list.n, 0);
  CHECK_STREQ(pk->params[1].name, "frac");
  CHECK(pk->params[1].value.type == PIPEC_T_FLOAT &&
        pk->params[1].value.u.f == 1.0);
  CHECK_STREQ(pk->params[2].name, "label");
  CHECK_STREQ(pk->params[2].value.u.s, "v1.0-7");
  CHECK_EQ(pk->n_inputs, 1);
  CHECK_STREQ(pk->inputs[0].port, "input");
  CHECK_STREQ(p->nodes[pk->inputs[0].producer].name, "load");
  CHECK_STREQ(pk->inputs[0].producer_port, "out");
  CHECK_EQ(pk->inputs[0].type, PIPEC_PORT_TABLE);
  /* $${ stays a literal ${ that the template keeps literal too */
  const pipec_component *c = &p->components[pk->component];
  CHECK_STREQ(c->command,
              "pick {input} {out} {rest} {columns} ${{HOME} {{x}}");

  const pipec_node *load = node(p, "load");
  CHECK_EQ(load->params[0].value.type, PIPEC_T_PATH);
  CHECK_STREQ(load->params[0].value.u.s, "data/in.csv");

  /* variadic inputs of shell, sorted by port name */
  const pipec_node *both = node(p, "both");
  CHECK_EQ(both->n_inputs, 2);
  CHECK_STREQ(both->inputs[0].port, "x");
  CHECK_STREQ(both->inputs[0].producer_port, "out");
  CHECK_STREQ(both->inputs[1].port, "y");
  CHECK_STREQ(both->inputs[1].producer_port, "rest");
  CHECK_STREQ(pipec_node_param(both, "command")->value.u.s,
              "cat {x} {y} > {out} # v1.0-7");
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_overrides(void) {
  static const vfile fs[] = {{"ov.pipe",
      "pipeline p {\n"
      "  param n : int = 7\n"
      "  param cols : list = []\n"
      "  param msg : string = \"n=${n}\"\n"
      "  node a = shell(command = \"echo ${msg} ${cols} > {out}\")\n"
      "}\n"},
      {NULL, NULL}};
  const char *ov[] = {"n=12", "cols=a,b"};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, ov, 2, &d);
  CHECK(p);
  CHECK_EQ(p->params[0].value.u.i, 12);
  CHECK_EQ(p->params[1].value.u.list.n, 2);
  CHECK_STREQ(pipec_node_param(&p->nodes[0], "command")->value.u.s,
              "echo n=12 a,b > {out}");
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_targets_and_settings(void) {
  static const vfile fs[] = {{"t.pipe",
      "pipeline p {\n"
      "  target local = local { cpus = 4, memory = \"1.5G\", gpus = [0, 2] }\n"
      "  target box = ssh { user = \"ml\", host = \"h.example\", port = 2222,\n"
      "                     connect_timeout = \"1m\" }\n"
      "  target hpc = slurm { partition = \"batch\", time = \"01:00:00\",\n"
      "                       extra = [\"--exclusive\"] }\n"
      "  node a = shell(command = \"echo > {out}\") on box {\n"
      "    resources { cpus = 2, memory = \"512M\", gpus = 1, time = \"1h30m\" }\n"
      "    retries = 2\n"
      "    timeout = \"00:10:00\"\n"
      "    cache = false\n"
      "  }\n"
      "  node b = shell(command = \"echo > {out}\") on hpc\n"
      "  node c = shell(command = \"echo > {out}\")\n"
      "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, NULL, 0, &d);
  CHECK(p);
  CHECK_EQ(p->n_targets, 3);
  CHECK_STREQ(p->targets[0].name, "local");
  CHECK_EQ(pipec_target_opt(&p->targets[0], "memory")->value.u.i,
           1610612736LL);
  CHECK_EQ(pipec_target_opt(&p->targets[0], "gpus")->value.u.list.n, 2);
  const pipec_target *box = &p->targets[1];
  CHECK_STREQ(box->kind, "ssh");
  /* options sorted by key */
  CHECK_STREQ(box->opts[0].key, "connect_timeout");
  CHECK_EQ(box->opts[0].value.u.i, 60);
  CHECK_STREQ(box->opts[1].key, "host");
  CHECK_STREQ(box->opts[3].key, "user");
  CHECK_STREQ(pipec_target_opt(&p->targets[2], "time")->value.u.s,
              "01:00:00");
  const pipec_node *a = node(p, "a");
  CHECK_EQ(a->target, 1);
  CHECK_EQ(a->resources.cpus, 2);
  CHECK_EQ(a->resources.memory, 512LL << 20);
  CHECK_EQ(a->resources.gpus, 1);
  CHECK_EQ(a->resources.time_s, 5400);
  CHECK_EQ(a->retries, 2);
  CHECK_EQ(a->timeout_s, 600);
  CHECK(!a->cache);
  CHECK_EQ(node(p, "b")->target, 2);
  CHECK_EQ(node(p, "c")->target, 0);
  CHECK(node(p, "c")->cache);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_imports(void) {
  /* main imports lib/feats.pipe, which imports ../common/base.pipe; a
   * diamond import of common/base.pipe is loaded once */
  static const vfile fs[] = {
      {"proj/main.pipe",
       "import \"lib/feats.pipe\"\n"
       "import \"common/base.pipe\"\n"
       "pipeline p {\n"
       "  node src = shell(command = \"echo a > {out}\")\n"
       "  node up  = upper(x = src.out)\n"
       "  node f   = featurize(raw = up.y)\n"
       "}\n"},
      {"proj/lib/feats.pipe",
       "import \"../common/base.pipe\"\n"
       "component featurize(raw: file) -> (features: file) {\n"
       "  command = \"python3 feats.py {raw} {features}\"\n"
       "  code = [\"feats.py\", \"../scripts/util.py\"]\n"
       "}\n"},
      {"proj/common/base.pipe",
       "component upper(x: file) -> (y: file) {\n"
       "  command = \"tr a-z A-Z < {x} > {y}\"\n"
       "  env = { LC_ALL = \"C\", A = \"1\" }\n"
       "}\n"},
      {NULL, NULL}};
  pipec_diags d;
  pipec_pipeline *p = compile(fs, NULL, 0, &d);
  CHECK(p);
  CHECK_STREQ(p->dir, "proj");
  CHECK_EQ(p->n_sources, 3);
  CHECK_STREQ(p->sources[0].path, "proj/main.pipe");
  const pipec_component *f = &p->components[node(p, "f")->component];
  CHECK_EQ(f->n_code, 2);
  CHECK_STREQ(f->code[0], "lib/feats.py");
  CHECK_STREQ(f->code[1], "scripts/util.py");
  const pipec_component *u = &p->components[node(p, "up")->component];
  CHECK_EQ(u->n_env, 2);
  CHECK_STREQ(u->env[0].key, "A");
  CHECK_STREQ(u->env[1].key, "LC_ALL");
  CHECK_STREQ(u->loc.file, "proj/common/base.pipe");
  CHECK_EQ(u->loc.line, 1);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

static void test_design_example(void) {
  /* DESIGN §3 compiles unchanged (examples/churn). */
  char path[1024];
  snprintf(path, sizeof path, "%s/examples/churn/churn.pipe",
           getenv("PIPEC_SOURCE_DIR") ? getenv("PIPEC_SOURCE_DIR") : ".");
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_target_kinds kinds = tgt_kinds_schema(tgt_builtin_kinds());
  pipec_compile_opts o = {.registry = &reg, .target_kinds = &kinds};
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_pipeline *p = pipec_compile(path, &o, &d);
  if (!p)
    pipec_diags_print(&d, stderr, false);
  CHECK(p);
  CHECK_EQ(p->n_nodes, 6);
  CHECK_STREQ(node(p, "model")->name, "model");
  CHECK_EQ(node(p, "model")->resources.memory, 8LL << 30);
  CHECK_EQ(node(p, "model")->timeout_s, 1800);
  CHECK_STREQ(pipec_node_param(node(p, "feats"), "min_count") ? "ok" : "",
              "ok");
  CHECK_EQ(pipec_node_param(node(p, "feats"), "min_count")->value.u.i, 3);
  pipec_pipeline_free(p);
  pipec_diags_free(&d);
}

int main(void) {
  RUN(test_topological_order);
  RUN(test_params_and_edges);
  RUN(test_overrides);
  RUN(test_targets_and_settings);
  RUN(test_imports);
  RUN(test_design_example);
  return 0;
}
