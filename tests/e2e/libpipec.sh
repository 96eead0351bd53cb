#!/usr/bin/env bash
# libpipec as others use it: `cmake --install` into a fresh prefix, then
#  - a program outside the tree, built only with `pkg-config --cflags
#    --libs pipec`, compiles a .pipe file, runs it (a built-in component
#    and a command) with an event callback, lists the run's nodes with
#    their status and reads an output through the library;
#  - a plugin built the same way that calls functions libpipec exports
#    (pipec_type_name, pipec_port_type_name, the JSON writer) loads and
#    runs, in the installed pipec and in that program.
. "$(dirname "$0")/lib.bash"
command -v pkg-config >/dev/null || { fail "pkg-config is not installed"; finish; }
BUILD=$(dirname "$PIPEC_BIN")
cmake --install "$BUILD" --prefix "$T/prefix" >install.log 2>&1 ||
  { fail "cmake --install: $(cat install.log)"; finish; }
pc=$(find "$T/prefix" -name pipec.pc | head -1)
[ -n "$pc" ] && [ -x "$T/prefix/bin/pipec" ] && [ -n "$(find "$T/prefix" -name 'libpipec.so.0')" ] &&
  [ -f "$T/prefix/include/pipec/engine.h" ] && pass "cmake --install: the program, libpipec.so.0, the headers and pipec.pc" ||
  fail "install: $(find "$T/prefix" | head -40)"
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs pipec) && [ "$(pkg-config --modversion pipec)" = "$("$PIPEC_BIN" version | cut -d' ' -f2)" ] &&
  pass "pkg-config knows pipec ($flags)" || fail "pkg-config: $flags"
# a sanitized libpipec needs its runtime in the program that loads it first
san=
if readelf -d "$(find "$T/prefix" -name 'libpipec.so.0' | head -1)" | grep -q 'libasan'; then
  san="-fsanitize=address,undefined"
fi
IPIPEC=$T/prefix/bin/pipec
run_prog() { # under valgrind too when the suite runs under it
  if [ -n "${PIPEC_VALGRIND:-}" ]; then
    LD_LIBRARY_PATH=$(pkg-config --variable=libdir pipec) $PIPEC_VALGRIND --log-file="$T/.valgrind/prog.%p.log" "$T/src/prog" "$@"
  else
    LD_LIBRARY_PATH=$(pkg-config --variable=libdir pipec) "$T/src/prog" "$@"
  fi
}

mkdir src proj && cd src
cat > prog.c <<'C'
/* Compile FILE, run it, list the run's nodes, print NODE.PORT's bytes. */
#include <pipec/engine.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_event(void *ctx, const pipec_event *ev) {
  unsigned *done = ctx;
  if (ev->kind == PIPEC_EV_NODE_DONE)
    (*done)++;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: prog FILE NODE PORT\n");
    return 2;
  }
  pipec_diags d;
  pipec_diags_init(&d);
  pipec_pipeline *p = pipec_load(argv[1], NULL, &d);
  pipec_diags_print(&d, stderr, false);
  pipec_diags_free(&d);
  if (!p)
    return 2;
  pipec_ws *w;
  pipec_error e;
  pipec_ws_opts wo = {.file = argv[1], .create = true};
  if (pipec_ws_open(&wo, &w, &e) != 0) {
    fprintf(stderr, "%s\n", e.msg);
    pipec_pipeline_free(p);
    return 3;
  }
  unsigned done = 0;
  pipec_run_opts ro = {.jobs = 2, .on_event = on_event, .event_ctx = &done};
  pipec_run_summary s;
  int code = pipec_run(w, p, &ro, &s, &e);
  if (e.code)
    fprintf(stderr, "run: %s\n", e.msg);
  printf("pipeline %s, run %lld: exit %d, %u ran, %u cached, %u done events\n",
         p->name, (long long)s.run, code, s.ran, s.cached, done);
  pipec_node_info *nodes;
  uint32_t n;
  if (pipec_run_nodes(w, s.run, &nodes, &n, &e) != 0) {
    fprintf(stderr, "nodes: %s\n", e.msg);
    return 3;
  }
  for (uint32_t i = 0; i < n; i++) {
    printf("node %s %s\n", nodes[i].name, nodes[i].status);
    if (strcmp(nodes[i].name, argv[2]) != 0)
      continue;
    pipec_output_info *outs;
    uint32_t k;
    if (pipec_node_outputs(w, nodes[i].id, &outs, &k, &e) != 0)
      return 3;
    for (uint32_t o = 0; o < k; o++) {
      int fd;
      if (strcmp(outs[o].port, argv[3]) != 0 ||
          pipec_output_open(w, outs[o].hash, &fd, &e) != 0)
        continue;
      char buf[4096];
      ssize_t got;
      printf("%s.%s:\n", argv[2], argv[3]);
      fflush(stdout);
      while ((got = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)got, stdout);
      close(fd);
    }
    pipec_output_infos_free(outs, k);
  }
  pipec_node_infos_free(nodes, n);
  pipec_ws_close(w);
  pipec_pipeline_free(p);
  return code;
}
C
cat > describe.c <<'C'
/* A plugin that calls libpipec: demo.describe writes, as JSON, the type
 * names of its port and params (pipec_port_type_name, pipec_type_name,
 * pipec_type_text, the JSON writer) and its input's first line. */
#include <pipec/component.h>
#include <pipec/json.h>
#include <stdio.h>

static int run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  FILE *in = fopen(pipec_ctx_input(ctx, "input"), "r");
  FILE *out = fopen(pipec_ctx_output(ctx, "out"), "w");
  if (!in || !out) {
    snprintf(err, errlen, "cannot open the files");
    return 1;
  }
  char line[256] = "";
  if (!fgets(line, sizeof line, in))
    line[0] = 0;
  pipec_json j;
  pipec_json_init(&j, out, false);
  pipec_json_obj(&j);
  pipec_json_key(&j, "input_type");
  pipec_json_str(&j, pipec_port_type_name(PIPEC_PORT_FILE));
  pipec_json_key(&j, "params");
  pipec_json_obj(&j);
  for (uint32_t i = 0; i < ctx->n_params; i++) {
    pipec_json_key(&j, ctx->params[i].name);
    pipec_json_str(&j, pipec_type_name(ctx->params[i].value.type));
  }
  pipec_json_end(&j);
  pipec_json_key(&j, "a_list");
  pipec_json_str(&j, pipec_type_text(PIPEC_T_LIST, PIPEC_T_INT));
  pipec_json_key(&j, "first_line");
  pipec_json_str(&j, line);
  pipec_json_end(&j);
  pipec_json_done(&j);
  fclose(in);
  ctx->log(ctx, "described");
  return fclose(out) != 0;
}

static const pipec_port_desc ins[] = {{"input", PIPEC_PORT_FILE, "any"}};
static const pipec_port_desc outs[] = {{"out", PIPEC_PORT_JSON, "the description"}};
static const pipec_param_desc params[] = {
    {"level", PIPEC_T_INT, "1", "a number"},
    {"label", PIPEC_T_STRING, "\"x\"", "a string"},
};
static const pipec_component_desc describe = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "demo.describe", .version = "1", .doc = "Describe.",
    .inputs = ins, .n_inputs = 1, .outputs = outs, .n_outputs = 1,
    .params = params, .n_params = 2, .run = run,
};
static const pipec_component_desc *const all[] = {&describe};
const pipec_component_list pipec_components = {PIPEC_ABI_VERSION, 1, all};
C
cc -o prog prog.c $san $(pkg-config --cflags --libs pipec) 2>cc.log &&
  pass "a program built with pkg-config --cflags --libs pipec" || fail "cc prog.c: $(cat cc.log)"
cc -shared -fPIC -o libdescribe.so describe.c $(pkg-config --cflags --libs pipec) 2>cc.log &&
  pass "a plugin built with pkg-config" || fail "cc describe.c: $(cat cc.log)"
nm -D --undefined-only libdescribe.so | grep -qw pipec_type_name && pass "the plugin calls pipec_type_name from libpipec" ||
  fail "the plugin does not import pipec_type_name"

cd "$T/proj"
cp ../src/libdescribe.so .
printf 'name,score\nann,3\nbob,1\ncid,2\n' > scores.csv
cat > lib.pipe <<'PIPE'
plugin "libdescribe.so"
pipeline viaapi {
  node load   = table.read_csv(path = "scores.csv")
  node sorted = table.sort(input = load.out, by = ["score"])
  node shout  = shell(command = "tr a-z A-Z < {x} > {out}", x = sorted.out)
  node about  = demo.describe(input = shout.out, level = 3)
}
PIPE
expect_stdout 0 run_prog lib.pipe shout out && [ "$OUT" = "pipeline viaapi, run 1: exit 0, 4 ran, 0 cached, 4 done events
node load succeeded
node sorted succeeded
node shout succeeded
shout.out:
NAME,SCORE
BOB,1
CID,2
ANN,3
node about succeeded" ] &&
  pass "the program compiles, runs (built-ins, a command, the plugin), lists the nodes and reads an output" || fail "prog: $OUT $ERR"
expect_stdout 0 run_prog lib.pipe about out && grep -q "4 cached" <<<"$OUT" &&
  grep -qxF '{"input_type":"file","params":{"level":"int","label":"string"},"a_list":"[int]","first_line":"NAME,SCORE\n"}' <<<"$OUT" &&
  pass "the plugin's output, written with libpipec's JSON writer; the second run is cached" || fail "prog again: $OUT $ERR"
expect_exit 0 "$IPIPEC" show 1 && expect_in "about            succeeded" && pass "the installed pipec reads the program's history" ||
  fail "show: $OUT"
expect_stdout 0 "$IPIPEC" run lib.pipe -q --force --node about && expect_stdout 0 "$IPIPEC" cat about &&
  [ "$OUT" = '{"input_type":"file","params":{"level":"int","label":"string"},"a_list":"[int]","first_line":"NAME,SCORE\n"}' ] &&
  pass "the installed pipec runs the plugin too" || fail "installed pipec: $OUT $ERR"
expect_exit 0 "$IPIPEC" exec demo.describe --plugin libdescribe.so --in input=scores.csv --out out=o.json &&
  grep -q '"first_line":"name,score' o.json && pass "pipec exec --plugin runs it by itself" || fail "exec: $OUT"
finish
