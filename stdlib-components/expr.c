/*
 * expr.c — parse and evaluate filter expressions (expr.h). A recursive
 * descent parser builds a small tree; evaluation walks it per row.
 */
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"

typedef enum op {
  OP_NUM, OP_STR, OP_BOOL, OP_NULL, OP_COL,
  OP_NEG, OP_NOT, OP_ISNULL, OP_NOTNULL,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
  OP_AND, OP_OR,
} op;

typedef struct node {
  op op;
  struct node *a, *b;
  double num;
  char *str;            /* OP_STR text, OP_COL name */
  size_t len;
  uint32_t col;         /* OP_COL, after bind */
  long off;             /* where it starts in the source */
  uint8_t fast;         /* FAST_*: a comparison with a shortcut */
} node;

/* Comparisons of a column with a literal, the bulk of real filters, are
 * marked at bind time and evaluated without the general machinery. */
enum { FAST_NONE, FAST_COL_NUM, FAST_COL_STR };

struct expr {
  node *root;
};

typedef struct parser {
  const char *s;
  size_t i;
  char *err;
  size_t errlen;
  long err_off;
  bool failed;
  int depth;
  int ops;              /* binary operators so far (bounds the tree) */
} parser;

#define MAX_DEPTH 200
#define MAX_OPS 1000

static node *new_node(op o, long off) {
  node *n = calloc(1, sizeof *n);
  if (!n)
    abort();
  n->op = o;
  n->off = off;
  return n;
}

static void free_node(node *n) {
  if (!n)
    return;
  free_node(n->a);
  free_node(n->b);
  free(n->str);
  free(n);
}

static node *fail_at(parser *p, long off, const char *msg) {
  if (!p->failed) {
    p->failed = true;
    p->err_off = off;
    snprintf(p->err, p->errlen, "%s", msg);
  }
  return NULL;
}

static void skip(parser *p) {
  while (isspace((unsigned char)p->s[p->i]))
    p->i++;
}

/* The next token is the keyword w (case-insensitive, whole word). */
static bool keyword(parser *p, const char *w) {
  skip(p);
  size_t n = strlen(w);
  if (strncasecmp(p->s + p->i, w, n) != 0)
    return false;
  char c = p->s[p->i + n];
  if (isalnum((unsigned char)c) || c == '_')
    return false;
  p->i += n;
  return true;
}

static bool punct(parser *p, const char *t) {
  skip(p);
  size_t n = strlen(t);
  if (strncmp(p->s + p->i, t, n) != 0)
    return false;
  p->i += n;
  return true;
}

static node *parse_or(parser *p);

static node *parse_primary(parser *p) {
  skip(p);
  long off = (long)p->i;
  const char *s = p->s + p->i;
  if (*s == '(') {
    p->i++;
    if (++p->depth > MAX_DEPTH)
      return fail_at(p, off, "expression nested too deeply");
    node *n = parse_or(p);
    p->depth--;
    if (!n)
      return NULL;
    if (!punct(p, ")")) {
      free_node(n);
      return fail_at(p, (long)p->i, "expected ')'");
    }
    return n;
  }
  if (*s == '"' || *s == '\'') { /* a doubled quote stands for itself */
    char q = *s;
    size_t k = 1;
    while (s[k] && !(s[k] == q && s[k + 1] != q))
      k += s[k] == q ? 2 : 1;
    if (!s[k])
      return fail_at(p, off, "string never closed");
    node *n = new_node(OP_STR, off);
    n->str = malloc(k);
    if (!n->str)
      abort();
    for (size_t j = 1; j < k; j++) {
      n->str[n->len++] = s[j];
      j += s[j] == q;
    }
    n->str[n->len] = 0;
    p->i += k + 1;
    return n;
  }
  if (*s == '`') {
    const char *e = strchr(s + 1, '`');
    if (!e)
      return fail_at(p, off, "column name in backticks never closed");
    node *n = new_node(OP_COL, off);
    n->str = strndup(s + 1, (size_t)(e - s - 1));
    p->i += (size_t)(e - s) + 1;
    return n;
  }
  if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
    char *end;
    double v = strtod(s, &end);
    node *n = new_node(OP_NUM, off);
    n->num = v;
    p->i += (size_t)(end - s);
    return n;
  }
  if (isalpha((unsigned char)*s) || *s == '_') {
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
      n++;
    if (n == 4 && strncasecmp(s, "true", 4) == 0) {
      p->i += 4;
      node *b = new_node(OP_BOOL, off);
      b->num = 1;
      return b;
    }
    if (n == 5 && strncasecmp(s, "false", 5) == 0) {
      p->i += 5;
      return new_node(OP_BOOL, off);
    }
    if (n == 4 && strncasecmp(s, "null", 4) == 0) {
      p->i += 4;
      return new_node(OP_NULL, off);
    }
    static const char *const reserved[] = {"and", "or", "not", "is"};
    for (int k = 0; k < 4; k++)
      if (strlen(reserved[k]) == n && strncasecmp(s, reserved[k], n) == 0)
        return fail_at(p, off, "expected a value, found a keyword");
    node *c = new_node(OP_COL, off);
    c->str = strndup(s, n);
    p->i += n;
    return c;
  }
  if (!*s)
    return fail_at(p, off, "expected a value, found the end");
  char msg[64];
  snprintf(msg, sizeof msg, "unexpected '%c'", *s);
  return fail_at(p, off, msg);
}

static node *parse_unary(parser *p) {
  skip(p);
  long off = (long)p->i;
  if (punct(p, "-")) {
    if (++p->depth > MAX_DEPTH)
      return fail_at(p, off, "expression nested too deeply");
    node *a = parse_unary(p);
    p->depth--;
    if (!a)
      return NULL;
    node *n = new_node(OP_NEG, off);
    n->a = a;
    return n;
  }
  return parse_primary(p);
}

static node *binary(op o, node *a, node *b, long off) {
  node *n = new_node(o, off);
  n->a = a;
  n->b = b;
  return n;
}

static node *parse_mul(parser *p) {
  node *a = parse_unary(p);
  while (a) {
    skip(p);
    long off = (long)p->i;
    op o = punct(p, "*") ? OP_MUL : punct(p, "/") ? OP_DIV
         : punct(p, "%") ? OP_MOD : OP_NULL;
    if (o == OP_NULL)
      break;
    node *b = parse_unary(p);
    if (!b) {
      free_node(a);
      return p->failed ? NULL : fail_at(p, off, "expected an operand");
    }
    a = binary(o, a, b, off);
    if (++p->ops > MAX_OPS) {
      free_node(a);
      return fail_at(p, off, "expression too long (at most 1000 operators)");
    }
  }
  return a;
}

static node *parse_add(parser *p) {
  node *a = parse_mul(p);
  while (a) {
    skip(p);
    long off = (long)p->i;
    op o = punct(p, "+") ? OP_ADD : punct(p, "-") ? OP_SUB : OP_NULL;
    if (o == OP_NULL)
      break;
    node *b = parse_mul(p);
    if (!b) {
      free_node(a);
      return NULL;
    }
    a = binary(o, a, b, off);
    if (++p->ops > MAX_OPS) {
      free_node(a);
      return fail_at(p, off, "expression too long (at most 1000 operators)");
    }
  }
  return a;
}

static node *parse_cmp(parser *p) {
  node *a = parse_add(p);
  if (!a)
    return NULL;
  skip(p);
  long off = (long)p->i;
  if (keyword(p, "is")) {
    bool neg = keyword(p, "not");
    if (!keyword(p, "null")) {
      free_node(a);
      return fail_at(p, (long)p->i, "expected 'null' after 'is'");
    }
    node *n = new_node(neg ? OP_NOTNULL : OP_ISNULL, off);
    n->a = a;
    return n;
  }
  static const struct { const char *t; op o; } ops[] = {
      {"==", OP_EQ}, {"!=", OP_NE}, {"<>", OP_NE}, {"<=", OP_LE},
      {">=", OP_GE}, {"<", OP_LT},  {">", OP_GT},  {"=", OP_EQ}};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (punct(p, ops[k].t)) {
      node *b = parse_add(p);
      if (!b) {
        free_node(a);
        return NULL;
      }
      return binary(ops[k].o, a, b, off);
    }
  return a;
}

static node *parse_not(parser *p) {
  skip(p);
  long off = (long)p->i;
  if (keyword(p, "not")) {
    if (++p->depth > MAX_DEPTH)
      return fail_at(p, off, "expression nested too deeply");
    node *a = parse_not(p);
    p->depth--;
    if (!a)
      return p->failed ? NULL : fail_at(p, (long)p->i, "expected an operand after 'not'");
    node *n = new_node(OP_NOT, off);
    n->a = a;
    return n;
  }
  return parse_cmp(p);
}

static node *parse_and(parser *p) {
  node *a = parse_not(p);
  while (a) {
    skip(p);
    long off = (long)p->i;
    if (!keyword(p, "and"))
      break;
    node *b = parse_not(p);
    if (!b) {
      free_node(a);
      if (p->failed && p->err_off == (long)p->i)
        snprintf(p->err, p->errlen, "expected an operand after 'and'");
      return NULL;
    }
    a = binary(OP_AND, a, b, off);
    if (++p->ops > MAX_OPS) {
      free_node(a);
      return fail_at(p, off, "expression too long (at most 1000 operators)");
    }
  }
  return a;
}

static node *parse_or(parser *p) {
  node *a = parse_and(p);
  while (a) {
    skip(p);
    long off = (long)p->i;
    if (!keyword(p, "or"))
      break;
    node *b = parse_and(p);
    if (!b) {
      free_node(a);
      if (p->failed && p->err_off == (long)p->i)
        snprintf(p->err, p->errlen, "expected an operand after 'or'");
      return NULL;
    }
    a = binary(OP_OR, a, b, off);
    if (++p->ops > MAX_OPS) {
      free_node(a);
      return fail_at(p, off, "expression too long (at most 1000 operators)");
    }
  }
  return a;
}

expr *expr_parse(const char *src, char *err, size_t errlen, long *off) {
  parser p = {.s = src, .err = err, .errlen = errlen};
  node *root = parse_or(&p);
  if (root) {
    skip(&p);
    if (p.s[p.i]) {
      free_node(root);
      root = NULL;
      char msg[80];
      snprintf(msg, sizeof msg, "unexpected '%.20s' after the expression",
               p.s + p.i);
      fail_at(&p, (long)p.i, msg);
    }
  }
  if (!root) {
    *off = p.err_off;
    return NULL;
  }
  expr *e = malloc(sizeof *e);
  if (!e)
    abort();
  e->root = root;
  return e;
}

void expr_free(expr *e) {
  if (!e)
    return;
  free_node(e->root);
  free(e);
}

static int bind_node(node *n, char *const *names, uint32_t ncols, char *err,
                     size_t errlen) {
  if (!n)
    return 0;
  if (n->op == OP_COL) {
    int c = cu_col(names, ncols, n->str, "where", err, errlen);
    if (c < 0)
      return -1;
    n->col = (uint32_t)c;
  }
  if (n->op >= OP_EQ && n->op <= OP_GE && n->a->op == OP_COL)
    n->fast = n->b->op == OP_NUM   ? FAST_COL_NUM
              : n->b->op == OP_STR ? FAST_COL_STR
                                   : FAST_NONE;
  if (bind_node(n->a, names, ncols, err, errlen) ||
      bind_node(n->b, names, ncols, err, errlen))
    return -1;
  return 0;
}

int expr_bind(expr *e, char *const *names, uint32_t ncols, char *err,
              size_t errlen) {
  return bind_node(e->root, names, ncols, err, errlen);
}

/* ---- evaluation ----------------------------------------------------------- */

/* A value while evaluating. A field is V_FIELD, untyped, until something
 * needs its type: comparing it with a string literal compares its text
 * and never parses it, which is the common filter and the fast path. */
typedef enum vkind { V_NULL, V_NUM, V_STR, V_BOOL, V_FIELD } vkind;

typedef struct val {
  vkind k;
  double num;         /* V_NUM, V_BOOL (0 or 1) */
  const char *s;      /* V_STR, V_FIELD, and a field typed as NUM/BOOL */
  size_t len;
} val;

static val eval(const node *n, const csv_field *row);

/* Give a field its type: a number if it reads as one, then true/false,
 * else a string. It keeps its text. */
static void settle(val *v) {
  if (v->k != V_FIELD)
    return;
  bool b;
  if (csv_parse_double(v->s, v->len, &v->num))
    v->k = V_NUM;
  else if (csv_parse_bool(v->s, v->len, &b))
    v->k = V_BOOL, v->num = b;
  else
    v->k = V_STR;
}

static bool truth(val *v, bool *is_null) {
  settle(v);
  *is_null = v->k == V_NULL;
  if (v->k == V_BOOL || v->k == V_NUM)
    return v->num != 0;
  if (v->k == V_STR)
    return v->len > 0;
  return false;
}

/* The text of a value: its own (a field, a string), or written into buf. */
static void text_of(const val *v, char *buf, size_t size, const char **s,
                    size_t *len) {
  if (v->s) {
    *s = v->s, *len = v->len;
  } else if (v->k == V_NUM) {
    csv_format_double(v->num, buf, size);
    *s = buf, *len = strlen(buf);
  } else {
    *s = v->num ? "true" : "false";
    *len = strlen(*s);
  }
}

static int compare(val *a, val *b) {
  if (!(a->k == V_FIELD && b->k == V_STR) &&
      !(a->k == V_STR && b->k == V_FIELD)) {
    settle(a), settle(b);
    if ((a->k == V_NUM && b->k == V_NUM) || (a->k == V_BOOL && b->k == V_BOOL))
      return (a->num > b->num) - (a->num < b->num);
  }
  char ba[40], bb[40]; /* otherwise as text */
  const char *sa, *sb;
  size_t la, lb;
  text_of(a, ba, sizeof ba, &sa, &la);
  text_of(b, bb, sizeof bb, &sb, &lb);
  int c = memcmp(sa, sb, la < lb ? la : lb);
  if (c)
    return c < 0 ? -1 : 1;
  return (la > lb) - (la < lb);
}

static val arith(op o, val a, val b) {
  val v = {.k = V_NULL};
  settle(&a), settle(&b);
  if (a.k != V_NUM || b.k != V_NUM)
    return v; /* arithmetic on text or null is null */
  v.k = V_NUM;
  switch (o) {
  case OP_ADD: v.num = a.num + b.num; break;
  case OP_SUB: v.num = a.num - b.num; break;
  case OP_MUL: v.num = a.num * b.num; break;
  case OP_DIV:
    if (b.num == 0)
      v.k = V_NULL;
    else
      v.num = a.num / b.num;
    break;
  default:
    if (b.num == 0)
      v.k = V_NULL;
    else
      v.num = fmod(a.num, b.num);
  }
  return v;
}

/* and / or with SQL's three-valued logic. */
static val logic(const node *n, const csv_field *row) {
  val v = {.k = V_NULL}, a = eval(n->a, row);
  bool an, at = truth(&a, &an);
  bool is_and = n->op == OP_AND;
  if (!an && at != is_and) { /* false and ..., true or ... */
    v.k = V_BOOL, v.num = at;
    return v;
  }
  val b = eval(n->b, row);
  bool bn, bt = truth(&b, &bn);
  if (!bn && bt != is_and)
    v.k = V_BOOL, v.num = bt;
  else if (!an && !bn)
    v.k = V_BOOL, v.num = bt;
  return v; /* otherwise null */
}

static bool cmp_result(op o, int c) {
  return o == OP_EQ ? c == 0 : o == OP_NE ? c != 0
       : o == OP_LT ? c < 0  : o == OP_LE ? c <= 0
       : o == OP_GT ? c > 0  : c >= 0;
}

/* A FAST_* comparison: 1 true, 0 false, -1 null, -2 when the field needs
 * the general rules (a number literal against a non-number). */
static int fast_cmp(const node *n, const csv_field *row) {
  const csv_field *f = &row[n->a->col];
  if (f->null)
    return -1;
  int c;
  if (n->fast == FAST_COL_NUM) {
    double x;
    if (!csv_parse_double(f->p, f->len, &x))
      return -2;
    c = (x > n->b->num) - (x < n->b->num);
  } else {
    size_t la = f->len, lb = n->b->len;
    c = memcmp(f->p, n->b->str, la < lb ? la : lb);
    c = c ? (c < 0 ? -1 : 1) : (la > lb) - (la < lb);
  }
  return cmp_result(n->op, c);
}

static val eval(const node *n, const csv_field *row) {
  val v = {.k = V_NULL};
  if (n->fast) {
    int t = fast_cmp(n, row);
    if (t == -1)
      return v;
    if (t >= 0) {
      v.k = V_BOOL, v.num = t;
      return v;
    }
  }
  switch (n->op) {
  case OP_NUM:
    v.k = V_NUM, v.num = n->num;
    return v;
  case OP_STR:
    v.k = V_STR, v.s = n->str, v.len = n->len;
    return v;
  case OP_BOOL:
    v.k = V_BOOL, v.num = n->num;
    return v;
  case OP_NULL:
    return v;
  case OP_COL: {
    const csv_field *f = &row[n->col];
    if (!f->null)
      v.k = V_FIELD, v.s = f->p, v.len = f->len;
    return v;
  }
  case OP_ISNULL:
  case OP_NOTNULL: {
    val a = eval(n->a, row);
    v.k = V_BOOL;
    v.num = (a.k == V_NULL) == (n->op == OP_ISNULL);
    return v;
  }
  case OP_NOT: {
    val a = eval(n->a, row);
    bool null, t = truth(&a, &null);
    if (!null)
      v.k = V_BOOL, v.num = !t;
    return v;
  }
  case OP_AND:
  case OP_OR:
    return logic(n, row);
  case OP_NEG: {
    val a = eval(n->a, row);
    settle(&a);
    if (a.k == V_NUM)
      v.k = V_NUM, v.num = -a.num;
    return v;
  }
  default:
    break;
  }
  val a = eval(n->a, row), b = eval(n->b, row);
  if (a.k == V_NULL || b.k == V_NULL)
    return v;
  if (n->op < OP_EQ)
    return arith(n->op, a, b);
  v.k = V_BOOL, v.num = cmp_result(n->op, compare(&a, &b));
  return v;
}

bool expr_true(const expr *e, const csv_field *row) {
  val v = eval(e->root, row);
  bool null, t = truth(&v, &null);
  return !null && t;
}
