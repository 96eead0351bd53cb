/*
 * template.c — command templates (template.h): find placeholders, expand
 * with shell quoting, or split into an argv when no shell is needed.
 */
#include "pipec/template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* If tpl[i] starts a placeholder, return the length of its name (the name
 * starts at i + 1), else 0. */
static size_t placeholder_at(const char *tpl, size_t i) {
  if (tpl[i] != '{' || !is_ident_start(tpl[i + 1]))
    return 0;
  size_t n = 1;
  while (is_ident(tpl[i + 1 + n]))
    n++;
  return tpl[i + 1 + n] == '}' ? n : 0;
}

/* One step of the template: a placeholder (name, len) or one literal byte
 * (*lit). Returns how many template bytes were consumed, 0 at the end. */
static size_t step(const char *tpl, size_t i, const char **name, size_t *len,
                   char *lit) {
  if (!tpl[i])
    return 0;
  *name = NULL;
  if ((tpl[i] == '{' && tpl[i + 1] == '{') ||
      (tpl[i] == '}' && tpl[i + 1] == '}')) {
    *lit = tpl[i];
    return 2;
  }
  size_t n = placeholder_at(tpl, i);
  if (n) {
    *name = tpl + i + 1;
    *len = n;
    return n + 2;
  }
  *lit = tpl[i];
  return 1;
}

int pipec_template_refs(const char *tpl, pipec_tpl_ref_fn fn, void *ctx) {
  const char *name;
  size_t len, k;
  char lit;
  for (size_t i = 0; (k = step(tpl, i, &name, &len, &lit)) != 0; i += k)
    if (name) {
      int r = fn(ctx, name, len, i + 1);
      if (r)
        return r;
    }
  return 0;
}

/* Append n bytes to a growing buffer; (size_t)-1 on out of memory. */
static size_t append(char **buf, size_t *cap, size_t len, const char *s,
                     size_t n) {
  if (len == (size_t)-1)
    return len;
  if (len + n + 1 > *cap) {
    size_t ncap = *cap ? *cap : 64;
    while (len + n + 1 > ncap)
      ncap *= 2;
    char *nb = realloc(*buf, ncap);
    if (!nb)
      return (size_t)-1;
    *buf = nb;
    *cap = ncap;
  }
  memcpy(*buf + len, s, n);
  (*buf)[len + n] = 0;
  return len + n;
}

static bool is_plain_word(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (!is_ident(*s) && !strchr("./:=@%+,-", *s))
      return false;
  return true;
}

size_t pipec_shell_quote(char **buf, size_t *cap, size_t len, const char *s) {
  if (is_plain_word(s))
    return append(buf, cap, len, s, strlen(s));
  len = append(buf, cap, len, "'", 1);
  for (const char *p = s; *p; p++)
    len = *p == '\'' ? append(buf, cap, len, "'\\''", 4)
                     : append(buf, cap, len, p, 1);
  return append(buf, cap, len, "'", 1);
}

static void set_bad(char *bad, size_t badlen, const char *name, size_t n) {
  if (!bad || !badlen)
    return;
  if (n >= badlen)
    n = badlen - 1;
  memcpy(bad, name, n);
  bad[n] = 0;
}

/*
 * Where in the shell's syntax the template has got to, so that a value is
 * quoted for the place it lands in: `{x}` bare, '...{x}...' (awk, sed and
 * perl scripts), "...{x}...", inside $(...) or `...`, in a comment or in a
 * here-document's body. Only the template's literal text moves the state;
 * values are always quoted so that they cannot move it.
 *
 * Frames nest for command substitutions: a frame is the top level, a
 * $( ... ) (with its count of open parentheses) or a `...`. Each has its
 * own quote state.
 */
enum { Q_NONE, Q_SQ, Q_DQ };
#define SH_MAX_FRAMES 32
#define SH_MAX_HEREDOCS 8

typedef struct sh_frame {
  unsigned char q;  /* Q_NONE, Q_SQ, Q_DQ */
  bool bq;          /* a `...` substitution (else top level or $(...)) */
  int paren;        /* open '(' inside this frame */
} sh_frame;

typedef struct sh_state {
  sh_frame f[SH_MAX_FRAMES];
  int depth;          /* f[depth] is the innermost frame */
  bool escaped;       /* the previous byte was a backslash that escapes */
  bool dollar;        /* the previous byte was an unescaped '$' */
  bool lt;            /* the previous byte was an unquoted '<' */
  bool word_start;    /* the next byte would start a word */
  bool comment;       /* in a # comment, until the end of the line */
  /* here-documents: delimiters read after <<, bodies after the newline */
  int hd_reading;     /* 0, 1 after "<<" (a '-' may follow), 2 in the word */
  bool hd_strip;      /* <<- */
  bool hd_quoted;     /* the delimiter word has quotes: the body is literal */
  char hd_word[64];
  size_t hd_len;
  struct { char word[64]; bool quoted, strip; } hd[SH_MAX_HEREDOCS];
  int n_hd;           /* pending or current here-documents */
  int hd_cur;         /* the body being read, when in_body */
  bool in_body;
  char line[256];     /* the body line so far (for the delimiter test) */
  size_t line_len;    /* (size_t)-1 once too long to be the delimiter */
} sh_state;

static sh_frame *sh_top(sh_state *st) { return &st->f[st->depth]; }

static void sh_push(sh_state *st, bool bq) {
  if (st->depth + 1 < SH_MAX_FRAMES) {
    st->depth++;
    st->f[st->depth] = (sh_frame){Q_NONE, bq, 0};
  }
  st->word_start = true;
}

static void sh_line_add(sh_state *st, const char *s, size_t n) {
  if (st->line_len == (size_t)-1 || st->line_len + n >= sizeof st->line) {
    st->line_len = (size_t)-1;
    return;
  }
  memcpy(st->line + st->line_len, s, n);
  st->line_len += n;
}

/* End of the delimiter word after << */
static void sh_hd_end(sh_state *st) {
  if (st->hd_len > 0 && st->n_hd < SH_MAX_HEREDOCS) {
    memcpy(st->hd[st->n_hd].word, st->hd_word, st->hd_len);
    st->hd[st->n_hd].word[st->hd_len] = 0;
    st->hd[st->n_hd].quoted = st->hd_quoted;
    st->hd[st->n_hd].strip = st->hd_strip;
    st->n_hd++;
  }
  st->hd_reading = 0;
}

/* One literal byte of the template. */
static void sh_feed(sh_state *st, char c) {
  if (st->in_body) {
    /* an unquoted body expands $ and ` and knows \ as their escape */
    bool lit = st->hd[st->hd_cur].quoted, esc = st->escaped;
    st->escaped = c == '\\' && !esc && !lit;
    st->dollar = c == '$' && !esc && !lit;
    if (c != '\n') {
      sh_line_add(st, &c, 1);
      return;
    }
    const char *l = st->line;
    size_t n = st->line_len;
    if (n != (size_t)-1 && st->hd[st->hd_cur].strip)
      while (n > 0 && *l == '\t')
        l++, n--;
    if (n != (size_t)-1 && n == strlen(st->hd[st->hd_cur].word) &&
        memcmp(l, st->hd[st->hd_cur].word, n) == 0 &&
        ++st->hd_cur == st->n_hd) {
      st->in_body = false;
      st->n_hd = 0;
      st->word_start = true;
    }
    st->line_len = 0;
    return;
  }
  sh_frame *f = sh_top(st);
  bool escaped = st->escaped, dollar = st->dollar, lt = st->lt;
  st->escaped = st->dollar = st->lt = false;
  if (st->comment) {
    if (c == '\n')
      st->comment = false;
    else
      return;
  }
  if (st->hd_reading) {
    bool delim = !escaped && f->q == Q_NONE &&
                 strchr(" \t\n;&|<>()", c) != NULL;
    if (st->hd_reading == 1 && st->hd_len == 0 && c == '-' && !st->hd_strip &&
        lt == false && !st->hd_quoted) {
      st->hd_strip = true;
      return;
    }
    if (delim && (c == ' ' || c == '\t') && st->hd_len == 0 &&
        !st->hd_quoted) {
      /* blanks before the word */
    } else if (delim) {
      sh_hd_end(st);
    } else {
      st->hd_reading = 2;
      if (c == '\'' || c == '"' || (c == '\\' && !escaped)) {
        st->hd_quoted = true;
      } else if (st->hd_len + 1 < sizeof st->hd_word) {
        st->hd_word[st->hd_len++] = c;
      }
    }
  }
  /* "...`...\"...`..." : the backquotes are read first, turning \" into " */
  if (escaped && c == '"' && f->bq && st->f[st->depth - 1].q == Q_DQ)
    escaped = false;
  if (escaped) {
    st->word_start = false;
    return;
  }
  if (f->q == Q_SQ) {
    if (c == '\'')
      f->q = Q_NONE;
    else if (c == '`' && f->bq && st->depth > 0)
      st->depth--; /* `...` ends at the first backquote, quotes or not */
    return;
  }
  if (c == '\\') {
    st->escaped = true;
    st->word_start = false;
    return;
  }
  if (c == '`') {
    if (f->bq && st->depth > 0)
      st->depth--;
    else
      sh_push(st, true);
    st->word_start = false;
    return;
  }
  if (dollar && c == '(') {
    sh_push(st, false);
    return;
  }
  if (c == '$') {
    st->dollar = true;
    st->word_start = false;
    return;
  }
  if (f->q == Q_DQ) {
    if (c == '"')
      f->q = Q_NONE;
    return;
  }
  /* unquoted */
  switch (c) {
  case '\'':
    f->q = Q_SQ;
    break;
  case '"':
    f->q = Q_DQ;
    break;
  case '#':
    if (st->word_start)
      st->comment = true;
    break;
  case '(':
    f->paren++;
    break;
  case ')':
    if (f->paren > 0)
      f->paren--;
    else if (st->depth > 0 && !f->bq)
      st->depth--;
    break;
  case '<':
    if (lt && !st->hd_reading) {
      st->hd_reading = 1;
      st->hd_strip = st->hd_quoted = false;
      st->hd_len = 0;
    } else {
      st->lt = true;
    }
    break;
  case '\n':
    if (st->hd_reading)
      sh_hd_end(st);
    if (st->n_hd > 0) {
      st->in_body = true;
      st->hd_cur = 0;
      st->line_len = 0;
    }
    break;
  default:
    break;
  }
  st->word_start = strchr(" \t\n;&|()<>", c) != NULL;
}

/* Append v backslash-escaping the bytes in `special`. */
static size_t append_escaped(char **buf, size_t *cap, size_t len,
                             const char *v, size_t n, const char *special) {
  for (size_t i = 0; i < n; i++) {
    if (strchr(special, v[i]))
      len = append(buf, cap, len, "\\", 1);
    len = append(buf, cap, len, v + i, 1);
  }
  return len;
}

/* Append the value v where the state says it lands. Returns the new
 * length, (size_t)-1 on out of memory, or (size_t)-2 if v cannot be placed
 * there (a line break in a here-document's body). */
static size_t sh_put(sh_state *st, char **buf, size_t *cap, size_t len,
                     const char *v) {
  char *q = NULL;
  size_t qcap = 0, qlen = 0;
  qlen = append(&q, &qcap, qlen, "", 0);
  sh_frame *f = sh_top(st);
  bool after_escape = st->escaped || st->dollar;
  st->escaped = st->dollar = st->lt = false;
  if (after_escape && !st->comment && f->q != Q_SQ) {
    /* \{x} or ${x}: the value's first byte would be escaped or expanded */
    free(q);
    return (size_t)-2;
  }
  if (st->in_body) {
    if (strchr(v, '\n')) {
      free(q);
      return (size_t)-2;
    }
    sh_line_add(st, v, strlen(v));
    qlen = st->hd[st->hd_cur].quoted
               ? append(&q, &qcap, qlen, v, strlen(v))
               : append_escaped(&q, &qcap, qlen, v, strlen(v), "\\$`");
  } else if (st->comment) {
    for (const char *p = v; *p; p++)
      qlen = append(&q, &qcap, qlen, *p == '\n' || *p == '\r' ? " " : p, 1);
  } else if (f->q == Q_SQ) {
    for (const char *p = v; *p; p++)
      qlen = *p == '\'' ? append(&q, &qcap, qlen, "'\\''", 4)
                        : append(&q, &qcap, qlen, p, 1);
  } else if (f->q == Q_DQ) {
    qlen = append_escaped(&q, &qcap, qlen, v, strlen(v), "\\\"$`");
  } else {
    qlen = pipec_shell_quote(&q, &qcap, qlen, v);
  }
  /* each enclosing `...` removes one level of \\ \$ \` */
  for (int d = st->depth; d > 0 && qlen != (size_t)-1; d--) {
    if (!st->f[d].bq)
      continue;
    char *e = NULL;
    size_t ecap = 0, elen = append(&e, &ecap, 0, "", 0);
    elen = append_escaped(&e, &ecap, elen, q, qlen, "\\$`");
    free(q);
    q = e, qcap = ecap, qlen = elen;
  }
  if (qlen == (size_t)-1) {
    free(q);
    return qlen;
  }
  len = append(buf, cap, len, q, qlen);
  free(q);
  if (!st->in_body)
    st->word_start = false;
  return len;
}

char *pipec_template_expand(const char *tpl, pipec_tpl_lookup_fn lookup,
                            void *ctx, char *bad, size_t badlen) {
  return pipec_template_expand_lists(tpl, lookup, NULL, ctx, bad, badlen);
}

char *pipec_template_expand_lists(const char *tpl, pipec_tpl_lookup_fn lookup,
                                  pipec_tpl_list_fn list, void *ctx,
                                  char *bad, size_t badlen) {
  char *buf = NULL;
  size_t cap = 0, len = 0, k, n;
  const char *name;
  char lit;
  sh_state *st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  st->word_start = true;
  len = append(&buf, &cap, len, "", 0);
  for (size_t i = 0; (k = step(tpl, i, &name, &n, &lit)) != 0; i += k) {
    if (!name) {
      len = append(&buf, &cap, len, &lit, 1);
      sh_feed(st, lit);
      continue;
    }
    const char *const *vs = NULL;
    uint32_t nv = 0;
    if (list && list(ctx, name, n, &vs, &nv)) {
      /* bare: one quoted word per item; inside quotes or a comment: the
       * items joined by blanks where the placeholder stands */
      bool bare = !st->in_body && !st->comment && sh_top(st)->q == Q_NONE;
      if (bare) {
        for (uint32_t j = 0; j < nv && len < (size_t)-2; j++) {
          if (j) {
            len = append(&buf, &cap, len, " ", 1);
            sh_feed(st, ' ');
          }
          len = sh_put(st, &buf, &cap, len, vs[j]);
        }
      } else {
        char *joined = NULL;
        size_t jcap = 0, jlen = append(&joined, &jcap, 0, "", 0);
        for (uint32_t j = 0; j < nv; j++) {
          if (j)
            jlen = append(&joined, &jcap, jlen, " ", 1);
          jlen = append(&joined, &jcap, jlen, vs[j], strlen(vs[j]));
        }
        len = jlen == (size_t)-1 ? (size_t)-1
                                 : sh_put(st, &buf, &cap, len, joined);
        free(joined);
      }
      if (len == (size_t)-2) {
        set_bad(bad, badlen, name, n);
        free(buf);
        free(st);
        return NULL;
      }
      continue;
    }
    const char *v = lookup(ctx, name, n);
    if (v)
      len = sh_put(st, &buf, &cap, len, v);
    if (!v || len == (size_t)-2) {
      set_bad(bad, badlen, name, n);
      free(buf);
      free(st);
      return NULL;
    }
  }
  free(st);
  if (len == (size_t)-1) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Words the shell itself understands (builtins with no program of that
 * name, and keywords): a command starting with one needs /bin/sh. */
static bool shell_word(const char *tpl) {
  static const char *const words[] = {
      "exit", "cd", "export", "unset", "set", "source", ".", "eval",
      "exec", "return", "shift", "trap", "wait", "read", "alias", "ulimit",
      "umask", "if", "for", "while", "until", "case", "function", "!",
      "readonly", "local", "break", "continue", "times", "type", "command",
      "getopts", "hash", "jobs", "fg", "bg"};
  while (*tpl == ' ' || *tpl == '\t')
    tpl++;
  size_t n = strcspn(tpl, " \t");
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strlen(words[i]) == n && strncmp(tpl, words[i], n) == 0)
      return true;
  return false;
}

bool pipec_template_needs_shell(const char *tpl) {
  const char *name;
  size_t n, k;
  char lit;
  bool first_word = true, in_word = false;
  if (shell_word(tpl))
    return true;
  for (size_t i = 0; (k = step(tpl, i, &name, &n, &lit)) != 0; i += k) {
    if (name) {
      in_word = true;
      continue;
    }
    if (lit == ' ' || lit == '\t') {
      if (in_word)
        first_word = false;
      in_word = false;
      continue;
    }
    /* `VAR=value cmd` is an assignment only the shell understands */
    if (strchr("|&;<>()$`\\\"'*?[]#~{}\n\r", lit) || (lit == '=' && first_word))
      return true;
    in_word = true;
  }
  return false;
}

char **pipec_template_argv(const char *tpl, pipec_tpl_lookup_fn lookup,
                           void *ctx, char *bad, size_t badlen) {
  return pipec_template_argv_lists(tpl, lookup, NULL, ctx, bad, badlen);
}

/* argv[*nargs] = word (NULL: ""), growing argv. */
static int push_word(char ***argv, size_t *nargs, size_t *capargs,
                     char *word) {
  if (*nargs + 2 > *capargs) {
    char **na = realloc(*argv, (*capargs *= 2) * sizeof **argv);
    if (!na) {
      free(word);
      return -1;
    }
    *argv = na;
  }
  (*argv)[(*nargs)++] = word ? word : strdup("");
  (*argv)[*nargs] = NULL;
  return 0;
}

char **pipec_template_argv_lists(const char *tpl, pipec_tpl_lookup_fn lookup,
                                 pipec_tpl_list_fn list, void *ctx,
                                 char *bad, size_t badlen) {
  size_t nargs = 0, capargs = 8;
  char **argv = calloc(capargs, sizeof *argv);
  char *word = NULL;
  size_t wcap = 0, wlen = 0, k, n;
  bool in_word = false, empty_list = false;
  const char *name;
  char lit;
  if (!argv)
    return NULL;
  for (size_t i = 0;; i += k) {
    k = step(tpl, i, &name, &n, &lit);
    bool end = k == 0, blank = !end && !name && (lit == ' ' || lit == '\t');
    if ((end || blank) && in_word) {
      /* a word that was only an empty list is no word at all */
      if (!(empty_list && !word)) {
        if (push_word(&argv, &nargs, &capargs, word) != 0)
          goto fail;
      } else {
        free(word);
      }
      word = NULL;
      wcap = wlen = 0;
      in_word = empty_list = false;
    }
    if (end)
      break;
    if (blank)
      continue;
    in_word = true;
    const char *const *vs = NULL;
    uint32_t nv = 0;
    if (name && list && list(ctx, name, n, &vs, &nv)) {
      /* one word per item: the text before the placeholder goes with the
       * first item, the text after it with the last */
      if (!nv && !word)
        empty_list = true;
      for (uint32_t j = 0; j < nv; j++) {
        if (j) {
          if (push_word(&argv, &nargs, &capargs, word) != 0)
            goto fail;
          word = NULL;
          wcap = wlen = 0;
        }
        wlen = append(&word, &wcap, wlen, vs[j], strlen(vs[j]));
        if (wlen == (size_t)-1)
          goto fail;
      }
      continue;
    }
    if (name) {
      const char *v = lookup(ctx, name, n);
      if (!v) {
        set_bad(bad, badlen, name, n);
        goto fail;
      }
      wlen = append(&word, &wcap, wlen, v, strlen(v));
    } else {
      wlen = append(&word, &wcap, wlen, &lit, 1);
    }
    empty_list = false;
    if (wlen == (size_t)-1)
      goto fail;
  }
  return argv;
fail:
  free(word);
  pipec_template_argv_free(argv);
  return NULL;
}

void pipec_template_argv_free(char **argv) {
  if (!argv)
    return;
  for (char **p = argv; *p; p++)
    free(*p);
  free(argv);
}
