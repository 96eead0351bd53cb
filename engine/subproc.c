/*
 * subproc.c — helpers on the loop (subproc.h): uv_spawn with two pipes
 * and a deadline timer. The helper is done once the process has exited
 * and both pipes reached end of file, or at the deadline (then its group
 * is killed and the pipes are closed as they are).
 *
 *   start ──> running ──exit + EOF on both pipes──┐
 *                │                                ├──> closing ──> cb
 *                └──deadline: SIGKILL the group ──┘    (4 handles)
 */
#include "subproc.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct subproc {
  uv_process_t proc;
  uv_pipe_t out, err;
  uv_timer_t timer;
  int open;                /* handles not yet closed */
  bool exited, out_eof, err_eof, closing, spawned;
  size_t lo, le;
  subproc_out o;
  subproc_cb cb;
  void *data;
  char buf[4096];
} subproc;

static void on_closed(uv_handle_t *h) {
  subproc *sp = h->data;
  if (--sp->open > 0)
    return;
  if (sp->spawned)
    sp->cb(&sp->o, sp->data);
  free(sp);
}

static void close_all(subproc *sp) {
  if (sp->closing)
    return;
  sp->closing = true;
  uv_handle_t *hs[] = {(uv_handle_t *)&sp->out, (uv_handle_t *)&sp->err,
                       (uv_handle_t *)&sp->timer, (uv_handle_t *)&sp->proc};
  for (int i = 0; i < 4; i++)
    if (!uv_is_closing(hs[i]))
      uv_close(hs[i], on_closed);
}

static void maybe_done(subproc *sp) {
  if (sp->exited && sp->out_eof && sp->err_eof)
    close_all(sp);
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b) {
  subproc *sp = h->data;
  (void)want;
  *b = uv_buf_init(sp->buf, sizeof sp->buf);
}

static void keep(char *dst, size_t cap, size_t *len, const char *src,
                 size_t n) {
  size_t room = cap - 1 - *len;
  size_t take = n < room ? n : room;
  memcpy(dst + *len, src, take);
  *len += take;
  dst[*len] = 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  subproc *sp = s->data;
  bool is_out = s == (uv_stream_t *)&sp->out;
  if (n > 0) {
    if (is_out)
      keep(sp->o.out, sizeof sp->o.out, &sp->lo, b->base, (size_t)n);
    else
      keep(sp->o.err, sizeof sp->o.err, &sp->le, b->base, (size_t)n);
    return;
  }
  if (n == 0) /* EAGAIN */
    return;
  uv_read_stop(s);
  if (is_out)
    sp->out_eof = true;
  else
    sp->err_eof = true;
  maybe_done(sp);
}

static void on_proc_exit(uv_process_t *p, int64_t status, int sig) {
  subproc *sp = p->data;
  sp->exited = true;
  sp->o.status = sig ? 128 + sig : (int)status;
  maybe_done(sp);
}

static void on_deadline(uv_timer_t *t) {
  subproc *sp = t->data;
  sp->o.timed_out = 1;
  if (!sp->exited) {
    /* the helper leads its own group: take its children with it */
    kill(-sp->proc.pid, SIGKILL);
    uv_process_kill(&sp->proc, SIGKILL);
    sp->o.status = 128 + SIGKILL;
  }
  close_all(sp);
}

int subproc_start(uv_loop_t *loop, char *const argv[], int timeout_ms,
                  subproc_cb cb, void *data, char *err, size_t errlen) {
  subproc *sp = calloc(1, sizeof *sp);
  if (!sp) {
    snprintf(err, errlen, "out of memory");
    return UV_ENOMEM;
  }
  sp->cb = cb;
  sp->data = data;
  sp->o.status = -1;
  uv_pipe_init(loop, &sp->out, 0);
  uv_pipe_init(loop, &sp->err, 0);
  uv_timer_init(loop, &sp->timer);
  sp->out.data = sp->err.data = sp->timer.data = sp->proc.data = sp;
  sp->open = 4; /* uv_spawn initializes proc even when it fails */
  uv_stdio_container_t io[3] = {
      {.flags = UV_IGNORE},
      {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
       .data.stream = (uv_stream_t *)&sp->out},
      {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
       .data.stream = (uv_stream_t *)&sp->err}};
  uv_process_options_t po = {.exit_cb = on_proc_exit,
                             .file = argv[0],
                             .args = (char **)argv,
                             .stdio_count = 3,
                             .stdio = io,
                             .flags = UV_PROCESS_DETACHED};
  int rc = uv_spawn(loop, &sp->proc, &po);
  if (rc != 0) {
    snprintf(err, errlen, "cannot run '%s': %s", argv[0], uv_strerror(rc));
    close_all(sp); /* frees sp; cb is not called */
    return rc;
  }
  sp->spawned = true;
  uv_read_start((uv_stream_t *)&sp->out, on_alloc, on_read);
  uv_read_start((uv_stream_t *)&sp->err, on_alloc, on_read);
  uv_timer_start(&sp->timer, on_deadline, (uint64_t)timeout_ms, 0);
  return 0;
}
