/*
 * selfexe.h — which `pipec` program runs the built-in components for this
 * library (`pipec exec`, the receiving half of the protocol: exec.c).
 *
 * A program linking libpipec is not itself pipec, so the engine cannot
 * take /proc/self/exe: it takes the pipec installed with the library (in
 * the build tree, the one beside it), so a run always uses the pipec of
 * the same build. Linked statically (the unit tests), the program is its
 * own pipec, as before.
 */
#ifndef PIPEC_SELFEXE_H
#define PIPEC_SELFEXE_H

#include <stddef.h>

/* The absolute path of that program in buf: the pipec beside the shared
 * library (../bin/pipec as installed, ./pipec in the build tree), or
 * "pipec" (found on PATH) if there is none; linked statically, the
 * running program. */
void self_pipec_exe(char *buf, size_t len);

#endif
