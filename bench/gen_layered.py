#!/usr/bin/env python3
"""gen_layered.py N DIR [--shape layered|wide]

Write a DAG of about N trivial nodes (`touch {out}`), in four equivalent
forms:
  DIR/p.pipe       a pipec pipeline
  DIR/build.ninja  a ninja build
  DIR/Makefile     a make build
  DIR/Snakefile    a Snakemake workflow
Shapes:
  layered  layers sqrt(N) wide, each node (after the first layer) reading
           two outputs of the layer before (the default)
  wide     N independent nodes (one layer): what planning costs per node
Prints the number of nodes. Used by bench/compile.sh, run.sh and scale.sh.
"""
import math
import os
import sys


def main():
    args = sys.argv[1:]
    shape = "layered"
    if "--shape" in args:
        i = args.index("--shape")
        shape = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2 or shape not in ("layered", "wide"):
        sys.exit(__doc__)
    n = int(args[0])
    out = args[1]
    os.makedirs(out, exist_ok=True)
    if shape == "wide":
        width, layers = max(1, n), 1
    else:
        width = max(2, int(math.isqrt(n)))
        layers = max(1, n // width)
    name = lambda l, i: f"n{l}_{i}"

    def inputs(l, i):
        return name(l - 1, i), name(l - 1, (i + 1) % width)

    with open(os.path.join(out, "p.pipe"), "w") as f:
        f.write(f"# {layers * width} nodes in {layers} layers of {width}\n")
        f.write("pipeline layered {\n")
        f.write("  component gen() -> (out: file) {\n"
                "    param i : int\n"
                "    command = \"touch {out}\"\n  }\n")
        # the param makes every node's cache key its own, as every ninja
        # edge is its own: all outputs are empty files
        f.write("  component join(a: file, b: file) -> (out: file) {\n"
                "    param i : int\n"
                "    command = \"touch {out}\"\n  }\n")
        for i in range(width):
            f.write(f"  node {name(0, i)} = gen(i = {i})\n")
        for l in range(1, layers):
            for i in range(width):
                a, b = inputs(l, i)
                f.write(f"  node {name(l, i)} = join(a = {a}.out, b = {b}.out, i = {l * width + i})\n")
        f.write("}\n")

    with open(os.path.join(out, "build.ninja"), "w") as f:
        f.write("rule touch\n  command = touch $out\n")
        for i in range(width):
            f.write(f"build out/{name(0, i)}: touch\n")
        for l in range(1, layers):
            for i in range(width):
                a, b = inputs(l, i)
                f.write(f"build out/{name(l, i)}: touch out/{a} out/{b}\n")

    last = [f"out/{name(layers - 1, i)}" for i in range(width)]
    with open(os.path.join(out, "Makefile"), "w") as f:
        f.write("all: " + " ".join(last) + "\n")
        for i in range(width):
            f.write(f"out/{name(0, i)}:\n\t@mkdir -p out && touch $@\n")
        for l in range(1, layers):
            for i in range(width):
                a, b = inputs(l, i)
                f.write(f"out/{name(l, i)}: out/{a} out/{b}\n\ttouch $@\n")

    with open(os.path.join(out, "Snakefile"), "w") as f:
        f.write("rule all:\n    input: " + repr(last) + "\n")
        f.write("rule gen:\n    output: 'out/n0_{i}'\n    shell: 'touch {output}'\n")
        f.write("def deps(w):\n"
                f"    l, i = int(w.l), int(w.i)\n"
                f"    return [f'out/n{{l-1}}_{{i}}', f'out/n{{l-1}}_{{(i+1)%{width}}}']\n")
        f.write("rule join:\n    input: deps\n"
                "    output: 'out/n{l,[1-9][0-9]*}_{i}'\n    shell: 'touch {output}'\n")
    print(layers * width)


if __name__ == "__main__":
    main()
