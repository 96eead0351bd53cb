/*
 * cachekey.c — the cache key of cachekey.h, its parts and their diff.
 *
 * The encoding, byte for byte (all integers little-endian; str = u64 length
 * then bytes; hash = 16 bytes):
 *
 *   "pipec-ck" u8 CK_FORMAT
 *   'C' u8 0 str name  u8 has_version [str version]          built-in
 *   'C' u8 1 str command  u8 has_version [str version]       command
 *       u32 n_outputs {str name u8 port_type}
 *       u32 n_code {str path u8 is_dir hash}                 sorted by path
 *   'P' u32 n {str name value}
 *         value = u8 type, then INT u64 | FLOAT u64 (IEEE bits) | BOOL u8 |
 *                 STRING str | PATH str path u8 state(0 missing, 1 file,
 *                 2 dir) [hash] | LIST u32 n {value}
 *   'I' u32 n {str port hash}
 *   'E' u32 n {str key str value}
 *   'M' str image_id u8 network                              nodes with an
 *                                                            image only
 *
 * Every variable-length field carries its length and every choice its tag,
 * so the encoding is injective: different nodes never share a key except by
 * a hash collision.
 */
#include "cachekey.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "literal.h"

/* ---- a growable byte buffer --------------------------------------------- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;                    /* sticky: checked once at the end */
} sbuf;

static void sb_putn(sbuf *b, const void *data, size_t n) {
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
  b->p[b->n] = '\0';           /* text users may read it as a C string */
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    sb_putn(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->oom = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_putn(b, big, (size_t)n);
  free(big);
}

static const char *sb_str(sbuf *b) {
  return b->p ? b->p : "";
}

/* ---- the binary encoding ------------------------------------------------ */

static void enc_u8(sbuf *b, unsigned v) {
  uint8_t c = (uint8_t)v;
  sb_putn(b, &c, 1);
}

static void enc_u32(sbuf *b, uint32_t v) {
  uint8_t c[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                  (uint8_t)(v >> 24)};
  sb_putn(b, c, 4);
}

static void enc_u64(sbuf *b, uint64_t v) {
  uint8_t c[8];
  for (int i = 0; i < 8; i++)
    c[i] = (uint8_t)(v >> (8 * i));
  sb_putn(b, c, 8);
}

static void enc_str(sbuf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  enc_u64(b, n);
  sb_putn(b, s ? s : "", n);
}

static void enc_hash(sbuf *b, const hash128 *h) { sb_putn(b, h->b, 16); }

/* ---- readable renderings of values -------------------------------------- */

/* Shortest text that reads back as the same double, as the language
 * writes it ("10.0", not "1e+01" or "10"), so int 1 and float 1.0 render
 * differently. */
static void fmt_double(double d, char out[48]) { literal_double(d, out, 48); }

/* A string as a double-quoted literal with escapes. */
static void render_quoted(sbuf *b, const char *s) {
  sb_putn(b, "\"", 1);
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_putn(b, e, 2);
    } else if (c == '\n') {
      sb_puts(b, "\\n");
    } else if (c == '\t') {
      sb_puts(b, "\\t");
    } else if (c < 0x20 || c == 0x7f) {
      sb_printf(b, "\\u%04x", c);
    } else {
      const char *start = p;
      while (p[1] && p[1] != '"' && p[1] != '\\' &&
             (unsigned char)p[1] >= 0x20 && p[1] != 0x7f)
        p++;
      sb_putn(b, start, (size_t)(p - start + 1));
    }
  }
  sb_putn(b, "\"", 1);
}

typedef struct keyctx {
  const pipec_pipeline *p;
  ck_file_hash_fn file_hash;
  void *ctx;
  sbuf enc;                    /* the key's bytes */
  sbuf txt;                    /* a part's value being rendered */
  bool want_parts;
  char *err;
  size_t errlen;
} keyctx;

/* Encode (and render, when parts are wanted) one param value. param and
 * node name it in an error's message, which is made only then (not for
 * each of a million params). */
static int put_value(keyctx *k, const pipec_value *v, const char *param,
                     const char *node) {
  char num[48];
  enc_u8(&k->enc, (unsigned)v->type);
  switch (v->type) {
  case PIPEC_T_INT:
    enc_u64(&k->enc, (uint64_t)v->u.i);
    if (k->want_parts)
      sb_printf(&k->txt, "%lld", (long long)v->u.i);
    return 0;
  case PIPEC_T_FLOAT: {
    uint64_t bits;
    memcpy(&bits, &v->u.f, sizeof bits);
    enc_u64(&k->enc, bits);
    if (k->want_parts) {
      fmt_double(v->u.f, num);
      sb_puts(&k->txt, num);
    }
    return 0;
  }
  case PIPEC_T_BOOL:
    enc_u8(&k->enc, v->u.b ? 1 : 0);
    if (k->want_parts)
      sb_puts(&k->txt, v->u.b ? "true" : "false");
    return 0;
  case PIPEC_T_STRING:
    enc_str(&k->enc, v->u.s);
    if (k->want_parts)
      render_quoted(&k->txt, v->u.s ? v->u.s : "");
    return 0;
  case PIPEC_T_PATH: {
    const char *path = v->u.s ? v->u.s : "";
    hash128 h;
    bool is_dir = false;
    char msg[512] = "";
    int rc = k->file_hash(k->ctx, path, &h, &is_dir, msg, sizeof msg);
    bool missing = rc == -ENOENT || rc == -ENOTDIR;
    if (rc < 0 && !missing) {
      snprintf(k->err, k->errlen, "param '%s' of node '%s': %s", param, node,
               msg);
      return rc;
    }
    /* A missing file is a state of the world like any content: the
     * component decides whether that is an error. */
    enc_str(&k->enc, path);
    enc_u8(&k->enc, missing ? 0 : is_dir ? 2 : 1);
    if (!missing)
      enc_hash(&k->enc, &h);
    if (k->want_parts) {
      char hex[HASH_HEX_LEN + 1];
      if (missing) {
        sb_printf(&k->txt, "path %s missing", path);
      } else {
        hash_hex(&h, hex);
        sb_printf(&k->txt, "path %s %s %s", path, is_dir ? "tree" : "content",
                  hex);
      }
    }
    return 0;
  }
  case PIPEC_T_LIST:
    enc_u32(&k->enc, v->u.list.n);
    if (k->want_parts)
      sb_putn(&k->txt, "[", 1);
    for (uint32_t i = 0; i < v->u.list.n; i++) {
      if (k->want_parts && i > 0)
        sb_puts(&k->txt, ", ");
      int rc = put_value(k, &v->u.list.items[i], param, node);
      if (rc < 0)
        return rc;
    }
    if (k->want_parts)
      sb_putn(&k->txt, "]", 1);
    return 0;
  }
  snprintf(k->err, k->errlen, "param '%s' of node '%s': unknown value type %d",
           param, node, (int)v->type);
  return -EINVAL;
}

/* ---- parts -------------------------------------------------------------- */

void ck_parts_clear(ck_parts *ps) {
  for (uint32_t i = 0; i < ps->n; i++)
    free((char *)ps->items[i].name);  /* one block holds all three */
  ps->n = 0;
}

void ck_parts_free(ck_parts *ps) {
  ck_parts_clear(ps);
  free(ps->items);
  ps->items = NULL;
  ps->cap = 0;
}

static int parts_addn(ck_parts *ps, const char *name, size_t nl,
                      const char *value, size_t vl, const char *note,
                      size_t tl) {
  if (ps->n == ps->cap) {
    uint32_t cap = ps->cap ? ps->cap * 2 : 16;
    ck_part *items = realloc(ps->items, cap * sizeof *items);
    if (!items)
      return -ENOMEM;
    ps->items = items;
    ps->cap = cap;
  }
  char *blk = malloc(nl + vl + tl + 3);
  if (!blk)
    return -ENOMEM;
  ck_part *pt = &ps->items[ps->n++];
  pt->name = memcpy(blk, name, nl);
  blk[nl] = '\0';
  pt->value = memcpy(blk + nl + 1, value, vl);
  blk[nl + 1 + vl] = '\0';
  pt->note = memcpy(blk + nl + vl + 2, note, tl);
  blk[nl + vl + 2 + tl] = '\0';
  return 0;
}

int ck_parts_add(ck_parts *ps, const char *name, const char *value,
                 const char *note) {
  note = note ? note : "";
  return parts_addn(ps, name, strlen(name), value, strlen(value), note,
                    strlen(note));
}

const ck_part *ck_parts_find(const ck_parts *ps, const char *name) {
  for (uint32_t i = 0; i < ps->n; i++)
    if (strcmp(ps->items[i].name, name) == 0)
      return &ps->items[i];
  return NULL;
}

/* ---- the key ------------------------------------------------------------ */

static int cmp_code(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Is in an item of a list port (declared `[file]` ...)? */
static bool input_is_list(const pipec_pipeline *p, const pipec_node *n,
                          const pipec_input *in) {
  const pipec_component *c = &p->components[n->component];
  const pipec_port_decl *d = c->n_inputs ? c->inputs : n->var_inputs;
  uint32_t nd = c->n_inputs ? c->n_inputs : n->n_var_inputs;
  for (uint32_t i = 0; i < nd; i++)
    if (strcmp(d[i].name, in->port) == 0)
      return d[i].list;
  return false;
}

int ck_compute(const pipec_pipeline *p, uint32_t node,
               const hash128 *input_hashes, const char *image_id,
               ck_file_hash_fn file_hash, void *ctx, hash128 *key,
               ck_parts *parts, char *err, size_t errlen) {
  const pipec_node *n = &p->nodes[node];
  const pipec_component *c = &p->components[n->component];
  keyctx k = {.p = p, .file_hash = file_hash, .ctx = ctx,
              .want_parts = parts != NULL, .err = err, .errlen = errlen};
  const char **code = NULL;    /* pointers to c->code[i], sorted */
  char hex[HASH_HEX_LEN + 1], what[256];
  int rc = 0;

  if (parts)
    ck_parts_clear(parts);
#define PART(name, value, note)                                       \
  do {                                                                \
    if (parts && ck_parts_add(parts, (name), (value), (note)) < 0)    \
      goto nomem;                                                     \
  } while (0)

  sb_putn(&k.enc, "pipec-ck", 8);
  enc_u8(&k.enc, CK_FORMAT);
  snprintf(what, sizeof what, "%d", CK_FORMAT);
  PART("format", what, NULL);

  /* The component's identity. */
  enc_u8(&k.enc, 'C');
  if (c->kind == PIPEC_COMP_BUILTIN) {
    enc_u8(&k.enc, 0);
    enc_str(&k.enc, c->name);
    enc_u8(&k.enc, c->version != NULL);
    if (c->version)
      enc_str(&k.enc, c->version);
    if (parts) {
      k.txt.n = 0;
      sb_printf(&k.txt, c->version ? "%s@%s" : "%s", c->name, c->version);
      PART("component", sb_str(&k.txt), NULL);
    }
    /* A plugin's component: the library's content is part of it. */
    enc_u8(&k.enc, c->plugin != NULL);
    if (c->plugin) {
      hash128 h;
      bool is_dir = false;
      char msg[512] = "";
      rc = file_hash(ctx, c->plugin, &h, &is_dir, msg, sizeof msg);
      if (rc < 0) {
        snprintf(err, errlen, "plugin '%s' of component '%s': %s", c->plugin,
                 c->name, msg);
        goto done;
      }
      enc_hash(&k.enc, &h);
      if (parts) {
        hash_hex(&h, hex);
        PART("plugin", hex, c->plugin);
      }
    }
  } else {
    enc_u8(&k.enc, 1);
    enc_str(&k.enc, c->command);
    enc_u8(&k.enc, c->version != NULL);
    if (c->version)
      enc_str(&k.enc, c->version);
    PART("command", c->command ? c->command : "", c->name);
    if (c->version)
      PART("version", c->version, NULL);
    /* Output ports: a cached result must have every output the
     * component now declares. */
    enc_u32(&k.enc, c->n_outputs);
    k.txt.n = 0;
    for (uint32_t i = 0; i < c->n_outputs; i++) {
      enc_str(&k.enc, c->outputs[i].name);
      enc_u8(&k.enc, (unsigned)c->outputs[i].type);
      if (parts)
        sb_printf(&k.txt, "%s%s:%s", i ? " " : "", c->outputs[i].name,
                  pipec_port_type_name(c->outputs[i].type));
    }
    PART("outputs", sb_str(&k.txt), NULL);
    /* Code files, sorted by path: listing them in another order is no
     * reason to re-run. */
    if (c->n_code && !(code = malloc(c->n_code * sizeof *code)))
      goto nomem;
    for (uint32_t i = 0; i < c->n_code; i++)
      code[i] = c->code[i];
    if (c->n_code > 1)
      qsort(code, c->n_code, sizeof *code, cmp_code);
    enc_u32(&k.enc, c->n_code);
    for (uint32_t i = 0; i < c->n_code; i++) {
      hash128 h;
      bool is_dir = false;
      char msg[512] = "";
      rc = file_hash(ctx, code[i], &h, &is_dir, msg, sizeof msg);
      if (rc < 0) {
        snprintf(err, errlen, "code file '%s' of component '%s': %s",
                 code[i], c->name, msg);
        goto done;
      }
      enc_str(&k.enc, code[i]);
      enc_u8(&k.enc, is_dir);
      enc_hash(&k.enc, &h);
      if (parts) {
        hash_hex(&h, hex);
        k.txt.n = 0;
        sb_printf(&k.txt, "code:%s", code[i]);
        PART(sb_str(&k.txt), hex, NULL);
      }
    }
  }

  /* Params, already sorted by name. */
  enc_u8(&k.enc, 'P');
  enc_u32(&k.enc, n->n_params);
  for (uint32_t i = 0; i < n->n_params; i++) {
    const pipec_param *pm = &n->params[i];
    enc_str(&k.enc, pm->name);
    k.txt.n = 0;
    if ((rc = put_value(&k, &pm->value, pm->name, n->name)) < 0)
      goto done;
    if (parts) {
      char *value = k.txt.oom ? NULL : strdup(sb_str(&k.txt));
      if (!value)
        goto nomem;
      k.txt.n = 0;
      sb_printf(&k.txt, "param:%s", pm->name);
      int r = k.txt.oom ? -ENOMEM
                        : ck_parts_add(parts, sb_str(&k.txt), value, NULL);
      free(value);
      if (r < 0)
        goto nomem;
    }
  }

  /* Inputs: content hashes per port, sorted by port name. */
  enc_u8(&k.enc, 'I');
  enc_u32(&k.enc, n->n_inputs);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *in = &n->inputs[i];
    enc_str(&k.enc, in->port);
    enc_hash(&k.enc, &input_hashes[i]);
    if (parts) {
      hash_hex(&input_hashes[i], hex);
      if (in->kind == PIPEC_IN_SOURCE)
        snprintf(what, sizeof what, "%s %s",
                 in->type == PIPEC_PORT_DIR ? "dir" : "file", in->source);
      else
        snprintf(what, sizeof what, "%s.%s",
                 in->producer < p->n_nodes ? p->nodes[in->producer].name
                                           : "?",
                 in->producer_port ? in->producer_port : "?");
      k.txt.n = 0;
      /* a list port's items are told apart by their place */
      if (input_is_list(p, n, in))
        sb_printf(&k.txt, "input:%s[%u]", in->port, in->index);
      else
        sb_printf(&k.txt, "input:%s", in->port);
      PART(sb_str(&k.txt), hex, what);
    }
  }

  /* Declared environment, sorted by name in the IR. */
  enc_u8(&k.enc, 'E');
  enc_u32(&k.enc, c->n_env);
  for (uint32_t i = 0; i < c->n_env; i++) {
    enc_str(&k.enc, c->env[i].key);
    enc_str(&k.enc, c->env[i].value);
    if (parts) {
      k.txt.n = 0;
      sb_printf(&k.txt, "env:%s", c->env[i].key);
      PART(sb_str(&k.txt), c->env[i].value ? c->env[i].value : "", NULL);
    }
  }
  /* The image, by id: what a tag names may change. A node without an
   * image encodes as before, so its key does not change. */
  if (n->image) {
    if (!image_id) {
      rc = -EINVAL;
      snprintf(err, errlen, "node '%s': the id of image '%s' is not known",
               n->name, n->image);
      goto done;
    }
    enc_u8(&k.enc, 'M');
    enc_str(&k.enc, image_id);
    enc_u8(&k.enc, n->network);
    PART("image", image_id, n->image);
    PART("network", n->network ? "on" : "off", NULL);
  }
#undef PART

  if (k.enc.oom || k.txt.oom)
    goto nomem;
  *key = hash_buf(k.enc.p, k.enc.n);
  rc = 0;
  goto done;
nomem:
  rc = -ENOMEM;
  snprintf(err, errlen, "cannot compute the cache key of node '%s': out of "
           "memory", n->name);
done:
  free(code);
  free(k.enc.p);
  free(k.txt.p);
  return rc;
}

/* ---- parts as text ------------------------------------------------------ */

static void put_escaped(sbuf *b, const char *s) {
  for (const char *p = s; *p; p++) {
    const char *e = NULL;
    switch (*p) {
    case '\\': e = "\\\\"; break;
    case '\t': e = "\\t"; break;
    case '\n': e = "\\n"; break;
    case '\r': e = "\\r"; break;
    }
    if (e) {
      sb_putn(b, e, 2);
    } else {
      const char *start = p;
      while (p[1] && p[1] != '\\' && p[1] != '\t' && p[1] != '\n' &&
             p[1] != '\r')
        p++;
      sb_putn(b, start, (size_t)(p - start + 1));
    }
  }
}

#define PARTS_HEADER "pipec-ck-parts 1\n"

char *ck_parts_format(const ck_parts *ps, size_t *len) {
  sbuf b = {0};
  sb_puts(&b, PARTS_HEADER);
  for (uint32_t i = 0; i < ps->n; i++) {
    put_escaped(&b, ps->items[i].name);
    sb_putn(&b, "\t", 1);
    put_escaped(&b, ps->items[i].value);
    sb_putn(&b, "\t", 1);
    put_escaped(&b, ps->items[i].note);
    sb_putn(&b, "\n", 1);
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  if (len)
    *len = b.n;
  return b.p;
}

/* Unescape s[0..n) into b; -1 on a bad escape. */
static int unescape(sbuf *b, const char *s, size_t n) {
  b->n = 0;
  sb_putn(b, "", 0);
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      size_t j = i;
      while (j + 1 < n && s[j + 1] != '\\')
        j++;
      sb_putn(b, s + i, j - i + 1);
      i = j;
      continue;
    }
    if (++i == n)
      return -1;
    char c = s[i] == '\\' ? '\\' : s[i] == 't' ? '\t' : s[i] == 'n' ? '\n'
           : s[i] == 'r' ? '\r' : 0;
    if (!c)
      return -1;
    sb_putn(b, &c, 1);
  }
  return 0;
}

int ck_parts_parse(const char *text, size_t len, ck_parts *out, char *err,
                   size_t errlen) {
  size_t hl = strlen(PARTS_HEADER);
  sbuf f[3] = {{0}, {0}, {0}};
  int rc = 0, line = 1;
  if (len < hl || memcmp(text, PARTS_HEADER, hl) != 0) {
    snprintf(err, errlen, "cache key parts: bad header");
    return -EINVAL;
  }
  for (size_t pos = hl; pos < len;) {
    line++;
    const char *s = text + pos;
    const char *eol = memchr(s, '\n', len - pos);
    if (!eol) {
      snprintf(err, errlen, "cache key parts: line %d: no newline", line);
      rc = -EINVAL;
      goto done;
    }
    const char *t1 = memchr(s, '\t', (size_t)(eol - s));
    const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(eol - t1 - 1)) : NULL;
    if (!t2 || memchr(t2 + 1, '\t', (size_t)(eol - t2 - 1)) ||
        unescape(&f[0], s, (size_t)(t1 - s)) < 0 ||
        unescape(&f[1], t1 + 1, (size_t)(t2 - t1 - 1)) < 0 ||
        unescape(&f[2], t2 + 1, (size_t)(eol - t2 - 1)) < 0) {
      snprintf(err, errlen, "cache key parts: line %d: malformed", line);
      rc = -EINVAL;
      goto done;
    }
    if (f[0].oom || f[1].oom || f[2].oom ||
        parts_addn(out, sb_str(&f[0]), f[0].n, sb_str(&f[1]), f[1].n,
                   sb_str(&f[2]), f[2].n) < 0) {
      snprintf(err, errlen, "cache key parts: out of memory");
      rc = -ENOMEM;
      goto done;
    }
    pos = (size_t)(eol - text) + 1;
  }
done:
  for (int i = 0; i < 3; i++)
    free(f[i].p);
  return rc;
}

/* ---- explain ------------------------------------------------------------ */

/* A value as shown in a message: control characters escaped, long values
 * cut, so each message stays one readable line. */
static void show_n(sbuf *b, const char *s, size_t n) {
  enum { MAX = 120 };
  for (size_t i = 0; i < n && i < MAX; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n')
      sb_puts(b, "\\n");
    else if (c == '\t')
      sb_puts(b, "\\t");
    else if (c < 0x20 || c == 0x7f)
      sb_printf(b, "\\x%02x", c);
    else
      sb_putn(b, s + i, 1);
  }
  if (n > MAX)
    sb_puts(b, "...");
}

static void show(sbuf *b, const char *s) { show_n(b, s, strlen(s)); }

/* Split a `path` param's rendering, "path P content|tree HEX" or "path P
 * missing", into P and its state (the hash, or "missing"). */
static bool split_path(const char *v, const char **path, size_t *plen,
                       const char **state) {
  static const char *const tails[] = {" content ", " tree "};
  size_t n = strlen(v);
  if (strncmp(v, "path ", 5) != 0)
    return false;
  *path = v + 5;
  if (n >= 5 + 8 && strcmp(v + n - 8, " missing") == 0) {
    *plen = n - 5 - 8;
    *state = "missing";
    return true;
  }
  for (int i = 0; i < 2; i++) {
    size_t tl = strlen(tails[i]);
    if (n >= 5 + tl + HASH_HEX_LEN &&
        strncmp(v + n - HASH_HEX_LEN - tl, tails[i], tl) == 0) {
      *plen = n - 5 - tl - HASH_HEX_LEN;
      *state = v + n - HASH_HEX_LEN;
      return true;
    }
  }
  return false;
}

/* The node of a note "node.port". */
static void show_node(sbuf *b, const char *note) {
  const char *dot = strrchr(note, '.');
  sb_putn(b, note, dot ? (size_t)(dot - note) : strlen(note));
}

static void explain_changed(sbuf *b, const ck_part *o, const ck_part *c) {
  const char *name = c->name;
  if (strcmp(name, "format") == 0) {
    sb_printf(b, "cache key format changed: %s -> %s", o->value, c->value);
  } else if (strcmp(name, "component") == 0) {
    const char *ao = strrchr(o->value, '@'), *ac = strrchr(c->value, '@');
    if (ao && ac && ao - o->value == ac - c->value &&
        strncmp(o->value, c->value, (size_t)(ao - o->value)) == 0)
      sb_printf(b, "component version changed: %s -> %s", ao + 1, ac + 1);
    else
      sb_printf(b, "component changed: %s -> %s", o->value, c->value);
  } else if (strcmp(name, "version") == 0) {
    sb_puts(b, "component version changed: ");
    show(b, o->value);
    sb_puts(b, " -> ");
    show(b, c->value);
  } else if (strcmp(name, "command") == 0) {
    sb_puts(b, "command changed: ");
    show(b, o->value);
    sb_puts(b, " -> ");
    show(b, c->value);
  } else if (strcmp(name, "outputs") == 0) {
    sb_printf(b, "outputs changed: %s -> %s", o->value, c->value);
  } else if (strncmp(name, "code:", 5) == 0) {
    sb_printf(b, "code file '%s' changed", name + 5);
  } else if (strncmp(name, "param:", 6) == 0) {
    const char *po, *pc, *so, *sc;
    size_t lo, lc;
    sb_printf(b, "param '%s' changed: ", name + 6);
    if (split_path(o->value, &po, &lo, &so) &&
        split_path(c->value, &pc, &lc, &sc)) {
      if (lo == lc && memcmp(po, pc, lo) == 0) {
        sb_puts(b, "file ");
        show_n(b, pc, lc);
        sb_puts(b, strcmp(so, "missing") == 0   ? " was created"
                   : strcmp(sc, "missing") == 0 ? " was deleted"
                                                : " changed");
      } else {                 /* another file: the hashes would be noise */
        show_n(b, po, lo);
        sb_puts(b, " -> ");
        show_n(b, pc, lc);
        if (strcmp(sc, "missing") == 0)
          sb_puts(b, " (missing)");
      }
    } else {
      show(b, o->value);
      sb_puts(b, " -> ");
      show(b, c->value);
    }
  } else if (strncmp(name, "input:", 6) == 0) {
    if (strcmp(o->note, c->note) == 0 && (strncmp(c->note, "file ", 5) == 0 ||
                                          strncmp(c->note, "dir ", 4) == 0)) {
      sb_printf(b, "input '%s' changed (source %s changed)", name + 6,
                c->note);
    } else if (strcmp(o->note, c->note) == 0 && c->note[0]) {
      sb_printf(b, "input '%s' changed (produced by node '", name + 6);
      show_node(b, c->note);
      sb_puts(b, "': its output changed)");
    } else {
      sb_printf(b, "input '%s' changed (now from '%s', was '%s')", name + 6,
                c->note, o->note);
    }
  } else if (strcmp(name, "image") == 0) {
    if (strcmp(o->note, c->note) == 0)
      sb_printf(b, "image %s changed: it is now %s (was %s)", c->note,
                c->value, o->value);
    else
      sb_printf(b, "image changed: %s (%s) -> %s (%s)", o->note, o->value,
                c->note, c->value);
  } else if (strcmp(name, "network") == 0) {
    sb_printf(b, "network changed: %s -> %s", o->value, c->value);
  } else if (strncmp(name, "env:", 4) == 0) {
    sb_printf(b, "env '%s' changed: ", name + 4);
    show(b, o->value);
    sb_puts(b, " -> ");
    show(b, c->value);
  } else {
    sb_printf(b, "'%s' changed: ", name);
    show(b, o->value);
    sb_puts(b, " -> ");
    show(b, c->value);
  }
  sb_putn(b, "\n", 1);
}

/* A part only one side has; added tells which. */
static void explain_one(sbuf *b, const ck_part *pt, bool added) {
  const char *name = pt->name, *verb = added ? "added" : "removed";
  if (strncmp(name, "code:", 5) == 0) {
    sb_printf(b, "code file '%s' %s", name + 5, verb);
  } else if (strcmp(name, "image") == 0) {
    sb_printf(b, added ? "image added: %s (%s)" : "image removed (was %s, "
              "%s)", pt->note, pt->value);
  } else if (strncmp(name, "input:", 6) == 0) {
    sb_printf(b, "input '%s' %s", name + 6, verb);
    if (pt->note[0])
      sb_printf(b, added ? " (from '%s')" : " (was from '%s')", pt->note);
  } else {
    if (strncmp(name, "param:", 6) == 0)
      sb_printf(b, "param '%s' %s", name + 6, verb);
    else if (strncmp(name, "env:", 4) == 0)
      sb_printf(b, "env '%s' %s", name + 4, verb);
    else if (strcmp(name, "version") == 0)
      sb_printf(b, "component version %s", verb);
    else if (strcmp(name, "outputs") == 0)
      sb_printf(b, "outputs %s", verb);
    else if (strcmp(name, "network") == 0)
      sb_printf(b, "network %s", verb);
    else if (strcmp(name, "command") == 0)
      sb_printf(b, "component is %s a command", added ? "now" : "no longer");
    else if (strcmp(name, "component") == 0)
      sb_printf(b, "component is %s the built-in %s",
                added ? "now" : "no longer", pt->value);
    else
      sb_printf(b, "'%s' %s", name, verb);
    if (strcmp(name, "component") != 0 && strcmp(name, "command") != 0) {
      sb_puts(b, added ? ": " : " (was ");
      show(b, pt->value);
      if (!added)
        sb_putn(b, ")", 1);
    }
  }
  sb_putn(b, "\n", 1);
}

int ck_explain(const ck_parts *old_parts, const ck_parts *new_parts,
               char **out) {
  sbuf b = {0};
  int count = 0;
  sb_putn(&b, "", 0);
  for (uint32_t i = 0; i < new_parts->n; i++) {
    const ck_part *c = &new_parts->items[i];
    const ck_part *o = ck_parts_find(old_parts, c->name);
    if (!o) {
      explain_one(&b, c, true);
      count++;
    } else if (strcmp(o->value, c->value) != 0) {
      explain_changed(&b, o, c);
      count++;
    }
  }
  for (uint32_t i = 0; i < old_parts->n; i++) {
    const ck_part *o = &old_parts->items[i];
    if (!ck_parts_find(new_parts, o->name)) {
      explain_one(&b, o, false);
      count++;
    }
  }
  if (b.oom) {
    free(b.p);
    *out = NULL;
    return -ENOMEM;
  }
  *out = b.p;
  return count;
}
