/*
 * statepack.c — store_node_state arrays as bytes (statepack.h).
 *
 * Layout: "PST2", a count, then per state: node_run, ord, flags, 16 key
 * bytes, four strings (node, component, target, image), an output count,
 * and per output: a string (port), 16 hash bytes, size, has_st and the
 * five stat fields. Numbers are LEB128 varints (signed ones zigzagged),
 * the same whatever the machine, so a copied workspace still decodes. A
 * string is its length + 2 and its bytes, 0 for none, or 1 for "the same
 * as in the state before" (component, target, image, port: a pipeline's
 * nodes mostly share them); 10^5 nodes take about 8 MB.
 */
#include "statepack.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define PACK_MAGIC "PST2"

enum { F_KEY = 1, F_ORD = 2, F_ENTRY = 4, F_ITS = 8 };
enum { S_NONE = 0, S_SAME = 1, S_BIAS = 2 };

typedef struct wbuf {
  unsigned char *p;
  size_t n, cap;
} wbuf;

static void put(wbuf *b, const void *src, size_t n) {
  if (b->cap - b->n < n) {
    while (b->cap - b->n < n)
      b->cap = b->cap ? 2 * b->cap : 4096;
    b->p = xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
}

static void put_u64(wbuf *b, uint64_t v) {
  unsigned char c[10];
  int n = 0;
  do {
    c[n] = (unsigned char)(v & 0x7f);
    v >>= 7;
    c[n++] |= v ? 0x80 : 0;
  } while (v);
  put(b, c, (size_t)n);
}

static void put_i64(wbuf *b, int64_t v) {
  put_u64(b, ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0));
}

/* s, or S_SAME when it equals prev (both may be NULL) */
static void put_str(wbuf *b, const char *s, const char *prev) {
  if (!s) {
    put_u64(b, S_NONE);
    return;
  }
  if (prev && strcmp(s, prev) == 0) {
    put_u64(b, S_SAME);
    return;
  }
  size_t n = strlen(s);
  put_u64(b, (uint64_t)n + S_BIAS);
  put(b, s, n);
}

unsigned char *statepack_encode(const store_node_state *v, uint32_t n,
                                size_t *len) {
  wbuf b = {0};
  put(&b, PACK_MAGIC, 4);
  put_u64(&b, n);
  const store_node_state *prev = NULL;
  for (uint32_t i = 0; i < n; prev = &v[i++]) {
    const store_node_state *s = &v[i];
    put_i64(&b, s->node_run);
    put_i64(&b, s->ord);
    put_u64(&b, (unsigned)((s->has_key ? F_KEY : 0) | (s->has_ord ? F_ORD : 0) |
                           (s->has_entry ? F_ENTRY : 0) |
                           (s->entry_is_its ? F_ITS : 0)));
    put(&b, s->key.b, sizeof s->key.b);
    put_str(&b, s->node, NULL);
    put_str(&b, s->component, prev ? prev->component : NULL);
    put_str(&b, s->target, prev ? prev->target : NULL);
    put_str(&b, s->image, prev ? prev->image : NULL);
    put_u64(&b, s->n_outs);
    for (uint32_t k = 0; k < s->n_outs; k++) {
      const store_output *o = &s->outs[k];
      put_str(&b, o->port,
              prev && k < prev->n_outs ? prev->outs[k].port : NULL);
      put(&b, o->hash.b, sizeof o->hash.b);
      put_u64(&b, o->size);
      put_u64(&b, o->has_st);
      put_u64(&b, o->st.dev);
      put_u64(&b, o->st.ino);
      put_u64(&b, o->st.size);
      put_i64(&b, o->st.mtime_ns);
      put_i64(&b, o->st.ctime_ns);
    }
  }
  *len = b.n;
  return b.p;
}

/* ---- decoding: every read is bounds-checked; the first failure sticks */

typedef struct rbuf {
  const unsigned char *p;
  size_t n, at;
  bool bad;
} rbuf;

static const unsigned char *take(rbuf *r, size_t n) {
  if (r->bad || r->n - r->at < n) {
    r->bad = true;
    return NULL;
  }
  const unsigned char *q = r->p + r->at;
  r->at += n;
  return q;
}

static uint64_t get_u64(rbuf *r) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const unsigned char *c = take(r, 1);
    if (!c)
      return 0;
    v |= (uint64_t)(*c & 0x7f) << shift;
    if (!(*c & 0x80))
      return v;
  }
  r->bad = true; /* more than ten bytes: no varint of ours */
  return 0;
}

static int64_t get_i64(rbuf *r) {
  uint64_t u = get_u64(r);
  return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static void get_bytes(rbuf *r, void *dst, size_t n) {
  const unsigned char *c = take(r, n);
  if (c)
    memcpy(dst, c, n);
}

/* A string: malloc'd (a copy of prev for S_SAME), NULL for none. A string
 * with a NUL inside, or S_SAME with nothing before, is no encoding of
 * ours. */
static char *get_str(rbuf *r, const char *prev) {
  uint64_t n = get_u64(r);
  if (r->bad || n == S_NONE)
    return NULL;
  if (n == S_SAME) {
    if (!prev) {
      r->bad = true;
      return NULL;
    }
    return xstrdup(prev);
  }
  n -= S_BIAS;
  const unsigned char *c = n <= r->n - r->at ? take(r, (size_t)n) : NULL;
  if (!c || memchr(c, 0, (size_t)n)) {
    r->bad = true;
    return NULL;
  }
  char *s = xmalloc((size_t)n + 1);
  memcpy(s, c, (size_t)n);
  s[n] = 0;
  return s;
}

static void get_output(rbuf *r, store_output *o, const char *prev_port) {
  o->port = get_str(r, prev_port);
  if (!o->port)
    r->bad = true;
  get_bytes(r, o->hash.b, sizeof o->hash.b);
  o->size = get_u64(r);
  o->has_st = get_u64(r) != 0;
  o->st.dev = get_u64(r);
  o->st.ino = get_u64(r);
  o->st.size = get_u64(r);
  o->st.mtime_ns = get_i64(r);
  o->st.ctime_ns = get_i64(r);
}

static void get_state(rbuf *r, store_node_state *s,
                      const store_node_state *prev) {
  s->node_run = get_i64(r);
  s->ord = get_i64(r);
  uint64_t f = get_u64(r);
  s->has_key = f & F_KEY;
  s->has_ord = f & F_ORD;
  s->has_entry = f & F_ENTRY;
  s->entry_is_its = f & F_ITS;
  get_bytes(r, s->key.b, sizeof s->key.b);
  s->node = get_str(r, NULL);
  s->component = get_str(r, prev ? prev->component : NULL);
  s->target = get_str(r, prev ? prev->target : NULL);
  s->image = get_str(r, prev ? prev->image : NULL);
  if (!s->node)
    r->bad = true;
  uint64_t n = get_u64(r);
  /* each output takes at least 25 bytes: a count beyond what is left is
   * damage, not a reason to allocate */
  if (r->bad || n > (r->n - r->at) / 25) {
    r->bad = true;
    return;
  }
  s->outs = n ? xcalloc((size_t)n, sizeof *s->outs) : NULL;
  for (uint32_t k = 0; k < n && !r->bad; k++, s->n_outs++)
    get_output(r, &s->outs[k],
               prev && k < prev->n_outs ? prev->outs[k].port : NULL);
}

int statepack_decode(const void *p, size_t len, store_node_state **out,
                     uint32_t *n) {
  rbuf r = {p, len, 0, false};
  *out = NULL;
  *n = 0;
  const unsigned char *magic = take(&r, 4);
  if (!magic || memcmp(magic, PACK_MAGIC, 4) != 0)
    return -1;
  uint64_t count = get_u64(&r);
  /* each state takes at least 24 bytes */
  if (r.bad || count > (r.n - r.at) / 24)
    return -1;
  store_node_state *v = count ? xcalloc((size_t)count, sizeof *v) : NULL;
  uint32_t got = 0;
  for (; got < count && !r.bad; got++)
    get_state(&r, &v[got], got ? &v[got - 1] : NULL);
  if (r.bad || r.at != r.n) {
    store_node_states_free(v, got);
    return -1;
  }
  *out = v;
  *n = (uint32_t)count;
  return 0;
}
