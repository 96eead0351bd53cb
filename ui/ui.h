/*
 * ui.h — `pipec ui` and `pipec report`: the web view of a workspace
 * (docs/ui.md, DESIGN §8). The command line parses the arguments and
 * calls these; everything they show comes through the engine library's
 * public API (include/pipec/engine.h).
 */
#ifndef PIPEC_UI_H
#define PIPEC_UI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipec/engine.h"

typedef struct ui_opts {
  const char *bind;            /* the address to listen on; NULL:
                                  127.0.0.1 */
  int port;                    /* 0: one the system picks */
  bool read_only;              /* serve no action at all */
  bool open;                   /* open the URL in a browser (xdg-open) */
  const char *exe;             /* the pipec program actions run (a run
                                  from the page is `pipec run ...`) */
  FILE *out;                   /* where the URL is printed */
} ui_opts;

/* Serve the workspace that wo finds until SIGINT or SIGTERM: 0, or -1
 * with why in err (the address is taken, no workspace ...). */
int ui_serve(const pipec_ws_opts *wo, const ui_opts *o, char *err,
             size_t errlen);

/* Write the report of run (0: the newest) to out: one HTML file with
 * everything inline (no request leaves it). 0, or -1 with err. */
int ui_report(pipec_ws *w, int64_t run, FILE *out, char *err, size_t errlen);

#endif
