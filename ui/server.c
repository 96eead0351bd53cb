/*
 * server.c — `pipec ui`'s HTTP server on libmicrohttpd: one thread per
 * connection, a pool of workspace handles (a pipec_ws is for one thread at
 * a time), and the checks every request passes before a handler sees it:
 *
 *   1. Host is this server's own address (no DNS rebinding);
 *   2. the token: ?token=T (a page is then redirected to itself without
 *      it, with the token in a cookie), the cookie, or an
 *      "Authorization: Bearer T" header; else 403;
 *   3. the route: the path must equal one of the table's, so no part of
 *      a request's path ever reaches the file system (there are no files
 *      to serve: the assets are compiled in); else 404;
 *   4. an action (POST) needs the X-Pipec-CSRF header holding the page's
 *      CSRF token, and an Origin or Sec-Fetch-Site, when sent, of this
 *      server; else 403. With --read-only there are no action routes.
 */
#define _GNU_SOURCE
#include "ui_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

typedef void (*ui_handler)(ui_req *r);

typedef struct ui_route {
  const char *method;
  const char *path;
  ui_handler fn;
  bool action;                 /* a POST that changes something */
} ui_route;

static void static_css(ui_req *r) {
  r->type = "text/css; charset=utf-8";
  ub_raw(&r->body, ui_css);
}

static void static_js(ui_req *r) {
  r->type = "text/javascript; charset=utf-8";
  ub_raw(&r->body, ui_js);
}

static const ui_route routes[] = {
    {"GET", "/", page_workspace, false},
    {"GET", "/pipeline", page_pipeline, false},
    {"GET", "/pipeline/dag", page_dag, false},
    {"GET", "/node", page_node, false},
    {"GET", "/runs", page_runs, false},
    {"GET", "/run", page_run, false},
    {"GET", "/log", page_log, false},
    {"GET", "/output", page_output, false},
    {"GET", "/snapshots", page_snapshots, false},
    {"GET", "/diff", page_diff, false},
    {"GET", "/drafts", page_drafts, false},
    {"GET", "/draft", page_draft, false},
    {"GET", "/metrics", page_metrics, false},
    {"GET", "/report", page_report, false},
    {"GET", "/static/app.css", static_css, false},
    {"GET", "/static/app.js", static_js, false},
    {"GET", "/api/pipelines", api_pipelines, false},
    {"GET", "/api/pipeline", api_pipeline, false},
    {"GET", "/api/status", api_status, false},
    {"GET", "/api/runs", api_runs, false},
    {"GET", "/api/run", api_run, false},
    {"GET", "/api/log", api_log, false},
    {"GET", "/api/snapshots", api_snapshots, false},
    {"GET", "/api/diff", api_diff, false},
    {"GET", "/api/drafts", api_drafts, false},
    {"GET", "/api/metrics", api_metrics, false},
    {"GET", "/api/action", api_action, false},
    {"POST", "/api/actions/run", act_run, true},
    {"POST", "/api/actions/rollback", act_rollback, true},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* ---- helpers for handlers ------------------------------------------------------ */

const char *ui_arg(ui_req *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int ui_arg_int(ui_req *r, const char *name, int64_t min, int64_t max,
               int64_t *out) {
  const char *v = ui_arg(r, name);
  if (!v || !*v)
    return 0;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (*end || errno || x < min || x > max) {
    ui_fail(r, 400, "%s must be a whole number from %lld to %lld", name,
            (long long)min, (long long)max);
    return -1;
  }
  *out = x;
  return 1;
}

void ui_fail(ui_req *r, int status, const char *fmt, ...) {
  ubuf msg = {0};
  va_list ap;
  va_start(ap, fmt);
  ub_vprintf(&msg, fmt, ap);
  va_end(ap);
  ub_free(&r->body);
  r->status = status;
  if (r->api) {
    r->type = "application/json";
    ub_raw(&r->body, "{\"error\":");
    ub_js(&r->body, msg.s ? msg.s : "");
    ub_raw(&r->body, "}\n");
  } else {
    r->type = NULL;
    ui_page_begin(r, "error", "");
    ub_printf(&r->body, "<h1>%d</h1><p class=\"err\">", status);
    ub_html(&r->body, msg.s);
    ub_raw(&r->body, "</p>");
    ui_page_end(r);
  }
  ub_free(&msg);
}

void ui_fail_err(ui_req *r, const pipec_error *err) {
  int status = err->code == PIPEC_E_USAGE     ? 400
               : err->code == PIPEC_E_BUSY    ? 409
               : err->code == PIPEC_E_WORKSPACE ? 503
                                              : 500;
  ui_fail(r, status, "%s", err->msg[0] ? err->msg : "failed");
}

int ui_find_pipeline(ui_req *r, int64_t id, pipec_pipeline_info **all,
                     uint32_t *n, pipec_pipeline_info **one) {
  pipec_error err;
  *one = NULL;
  if (pipec_pipelines(r->w, all, n, &err) != 0) {
    ui_fail_err(r, &err);
    return -1;
  }
  for (uint32_t i = 0; i < *n; i++)
    if ((*all)[i].id == id) {
      *one = &(*all)[i];
      return 1;
    }
  ui_fail(r, 404, "no pipeline %lld in this workspace", (long long)id);
  return 0;
}

/* ---- the workspace pool ----------------------------------------------------------- */

static pipec_ws *ws_take(ui_server *s, pipec_error *err) {
  pthread_mutex_lock(&s->lock);
  pipec_ws *w = s->n_pool ? s->pool[--s->n_pool] : NULL;
  pthread_mutex_unlock(&s->lock);
  if (w || pipec_ws_open(&s->wo, &w, err) == 0)
    return w;
  return NULL;
}

static void ws_give(ui_server *s, pipec_ws *w) {
  pthread_mutex_lock(&s->lock);
  if (s->n_pool < UI_WS_POOL) {
    s->pool[s->n_pool++] = w;
    w = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  pipec_ws_close(w);
}

/* ---- the checks --------------------------------------------------------------------- */

/* Compare in time independent of where they differ. */
static bool same_secret(const char *a, const char *b) {
  if (!a || !b)
    return false;
  size_t n = strlen(b);
  if (strlen(a) != n)
    return false;
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++)
    d |= (unsigned char)(a[i] ^ b[i]);
  return d == 0;
}

static const char *header(struct MHD_Connection *c, const char *name) {
  return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Host names a request may be addressed to: the bind address, or for a
 * loopback one, localhost and 127.0.0.1, with this server's port. */
static bool host_ok(const ui_server *s, const char *host) {
  if (!host)
    return false;
  char want[128];
  const char *names[] = {s->o.bind, "127.0.0.1", "localhost", "[::1]"};
  bool loopback = strcmp(s->o.bind, "127.0.0.1") == 0 ||
                  strcmp(s->o.bind, "::1") == 0 ||
                  strcmp(s->o.bind, "localhost") == 0;
  for (unsigned i = 0; i < 4; i++) {
    if (i > 0 && !loopback)
      break;
    const char *name = names[i];
    bool v6 = strchr(name, ':') && name[0] != '[';
    snprintf(want, sizeof want, v6 ? "[%s]:%d" : "%s:%d", name, s->port);
    if (strcmp(host, want) == 0)
      return true;
  }
  /* a wildcard bind answers to any host name: the token still guards it */
  return strcmp(s->o.bind, "0.0.0.0") == 0 || strcmp(s->o.bind, "::") == 0;
}

/* An action's origin: the CSRF token, and no other site's Origin. */
static bool action_ok(const ui_server *s, struct MHD_Connection *c,
                      const char **why) {
  if (!same_secret(header(c, "X-Pipec-CSRF"), s->csrf)) {
    *why = "403: an action needs the page's CSRF token (X-Pipec-CSRF)";
    return false;
  }
  const char *origin = header(c, "Origin");
  const char *host = header(c, "Host");
  if (origin && (!host || strncmp(origin, "http://", 7) != 0 ||
                 strcmp(origin + 7, host) != 0)) {
    *why = "403: an action must come from this server's own pages";
    return false;
  }
  const char *site = header(c, "Sec-Fetch-Site");
  if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0) {
    *why = "403: an action must come from this server's own pages";
    return false;
  }
  return true;
}

/* The request's token: 1 it has the right one (*from_arg: in the URL),
 * 0 not. */
static int token_ok(const ui_server *s, struct MHD_Connection *c,
                    bool *from_arg) {
  *from_arg = false;
  const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
                                                "token");
  if (arg && same_secret(arg, s->token)) {
    *from_arg = true;
    return 1;
  }
  const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
                                                   s->cookie);
  if (same_secret(cookie, s->token))
    return 1;
  const char *auth = header(c, "Authorization");
  if (auth && strncmp(auth, "Bearer ", 7) == 0 &&
      same_secret(auth + 7, s->token))
    return 1;
  return 0;
}

/* The URL without its token argument (for the redirect that drops it). */
static enum MHD_Result keep_arg(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value) {
  ubuf *b = cls;
  if (strcmp(key, "token") == 0)
    return MHD_YES;
  ub_char(b, strchr(b->s, '?') ? '&' : '?');
  ub_url(b, key);
  if (value) {
    ub_char(b, '=');
    ub_url(b, value);
  }
  return MHD_YES;
}

/* ---- answering -------------------------------------------------------------------- */

static enum MHD_Result respond(struct MHD_Connection *c, ui_server *s,
                            ui_req *r, const char *cookie) {
  size_t len;
  char *body = ub_take(&r->body, &len);
  struct MHD_Response *res =
      MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!res) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(res, "Content-Type",
                          r->type ? r->type : "text/html; charset=utf-8");
  MHD_add_response_header(res, "Cache-Control", "no-store");
  MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(res, "X-Frame-Options", "DENY");
  MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(res, "Content-Security-Policy",
                          "default-src 'none'; script-src 'self'; "
                          "style-src 'self' 'unsafe-inline'; "
                          "img-src 'self' data:; connect-src 'self'; "
                          "form-action 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'");
  if (cookie) {
    char v[256];
    snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict",
             s->cookie, cookie);
    MHD_add_response_header(res, "Set-Cookie", v);
  }
  if (r->location)
    MHD_add_response_header(res, "Location", r->location);
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, res);
  MHD_destroy_response(res);
  return ok;
}

static enum MHD_Result plain(struct MHD_Connection *c, ui_server *s,
                             int status, const char *msg) {
  ui_req r = {.srv = s, .conn = c, .status = status,
              .type = "text/plain; charset=utf-8"};
  ub_raw(&r.body, msg);
  ub_char(&r.body, '\n');
  return respond(c, s, &r, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  ui_server *s = cls;
  static int marker;
  if (!*con_cls) { /* the headers: answer once the body is in */
    *con_cls = &marker;
    return MHD_YES;
  }
  if (*upload_size) { /* action parameters are in the URL: ignore a body */
    *upload_size = 0;
    return MHD_YES;
  }
  if (!host_ok(s, header(c, "Host")))
    return plain(c, s, 403, "403: this server answers only to its own "
                            "address");
  bool from_arg;
  if (!token_ok(s, c, &from_arg))
    return plain(c, s, 403, "403: pipec ui needs its token: open the URL "
                            "`pipec ui` printed (it ends in ?token=...)");
  const ui_route *rt = NULL;
  bool path_known = false;
  for (size_t i = 0; i < N_ROUTES && !rt; i++) {
    if (strcmp(routes[i].path, url) != 0)
      continue;
    if (routes[i].action && s->o.read_only)
      continue;
    path_known = true;
    if (strcmp(routes[i].method, method) == 0 ||
        (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
      rt = &routes[i];
  }
  if (!rt)
    return plain(c, s, path_known ? 405 : 404,
                 path_known ? "405: method not allowed" : "404: not found");
  const char *why;
  if (rt->action && !action_ok(s, c, &why))
    return plain(c, s, 403, why);
  if (from_arg && strncmp(url, "/api/", 5) != 0 && strcmp(method, "GET") == 0) {
    /* from the printed URL: keep the token in a cookie, out of the URL */
    ui_req r = {.srv = s, .conn = c, .status = 303};
    ubuf loc = {0};
    ub_raw(&loc, url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, keep_arg, &loc);
    r.location = ub_take(&loc, NULL);
    ub_raw(&r.body, "redirecting\n");
    r.type = "text/plain";
    enum MHD_Result ok = respond(c, s, &r, s->token);
    free(r.location);
    return ok;
  }
  pipec_error err = {0};
  ui_req r = {.srv = s, .conn = c, .method = method, .path = url,
              .status = 200, .api = strncmp(url, "/api/", 5) == 0};
  r.w = ws_take(s, &err);
  if (!r.w) {
    ui_fail(&r, 503, "the workspace cannot be opened: %s", err.msg);
  } else {
    rt->fn(&r);
    ws_give(s, r.w);
  }
  enum MHD_Result ok = respond(c, s, &r, NULL);
  free(r.location);
  return ok;
}

/* ---- the server ---------------------------------------------------------------------- */

static int random_hex(char *out, size_t bytes) {
  unsigned char b[32];
  if (bytes > sizeof b || getrandom(b, bytes, 0) != (ssize_t)bytes)
    return -1;
  for (size_t i = 0; i < bytes; i++)
    sprintf(out + 2 * i, "%02x", b[i]);
  return 0;
}

static void open_browser(const char *url, FILE *out) {
  char *argv[] = {"xdg-open", (char *)url, NULL};
  pid_t pid;
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
  if (posix_spawnp(&pid, "xdg-open", NULL, &at, argv, environ) != 0)
    fprintf(out, "pipec ui: could not run xdg-open; open the URL by hand\n");
  posix_spawnattr_destroy(&at);
}

int ui_serve(const pipec_ws_opts *wo, const ui_opts *o, char *err,
             size_t errlen) {
  ui_server *s = calloc(1, sizeof *s);
  if (!s)
    abort();
  s->o = *o;
  if (!s->o.bind)
    s->o.bind = "127.0.0.1";
  if (!s->o.out)
    s->o.out = stdout;
  s->wo = *wo;
  s->wo.create = false;
  ui_pipes_init(&s->pipes);
  pthread_mutex_init(&s->lock, NULL);
  int rc = -1;
  struct MHD_Daemon *d = NULL;
  pipec_error e;
  pipec_ws *w;
  if (pipec_ws_open(&s->wo, &w, &e) != 0) {
    snprintf(err, errlen, "%s", e.msg);
    goto out;
  }
  snprintf(s->root, sizeof s->root, "%s", pipec_ws_root(w));
  s->pool[s->n_pool++] = w;
  if (random_hex(s->token, 24) != 0 || random_hex(s->csrf, 24) != 0) {
    snprintf(err, errlen, "no random numbers: %s", strerror(errno));
    goto out;
  }
  struct sockaddr_storage sa = {0};
  socklen_t salen;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                   MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
  const char *bind_addr = strcmp(s->o.bind, "localhost") == 0
                              ? "127.0.0.1" : s->o.bind;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
  if (inet_pton(AF_INET, bind_addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)o->port);
    salen = sizeof *v4;
  } else if (inet_pton(AF_INET6, bind_addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)o->port);
    salen = sizeof *v6;
    flags |= MHD_USE_IPv6;
  } else {
    snprintf(err, errlen, "--bind needs an IP address (127.0.0.1, ::1, "
             "0.0.0.0), got '%s'", s->o.bind);
    goto out;
  }
  (void)salen;
  /* the threads MHD starts inherit this mask: only sigwait below sees
   * SIGINT and SIGTERM */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);
  d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handle, s,
                       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                       MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                       MHD_OPTION_END);
  if (!d) {
    snprintf(err, errlen, "cannot listen on %s port %d (%s)", s->o.bind,
             o->port, errno ? strerror(errno) : "taken?");
    goto out;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : o->port;
  snprintf(s->cookie, sizeof s->cookie, "pipec_ui_%d", s->port);
  char url[256];
  bool v6addr = strchr(s->o.bind, ':') != NULL;
  snprintf(url, sizeof url, v6addr ? "http://[%s]:%d/?token=%s"
                                   : "http://%s:%d/?token=%s",
           s->o.bind, s->port, s->token);
  fprintf(s->o.out, "pipec ui: serving the workspace at %s%s\n  %s\n",
          s->root, s->o.read_only ? " (read-only)" : "", url);
  fprintf(s->o.out, "  (Ctrl-C stops it)\n");
  fflush(s->o.out);
  if (o->open)
    open_browser(url, s->o.out);
  int sig;
  while (sigwait(&stop, &sig) != 0)
    ;
  fprintf(s->o.out, "pipec ui: stopped\n");
  fflush(s->o.out);
  rc = 0;
out:
  if (d)
    MHD_stop_daemon(d);
  ui_actions_close(s);
  for (int i = 0; i < s->n_pool; i++)
    pipec_ws_close(s->pool[i]);
  ui_pipes_free(&s->pipes);
  pthread_mutex_destroy(&s->lock);
  free(s);
  return rc;
}
