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

char *pipec_template_expand(const char *tpl, pipec_tpl_lookup_fn lookup,
                            void *ctx, char *bad, size_t badlen) {
  char *buf = NULL;
  size_t cap = 0, len = 0, k, n;
  const char *name;
  char lit;
  len = append(&buf, &cap, len, "", 0);
  for (size_t i = 0; (k = step(tpl, i, &name, &n, &lit)) != 0; i += k) {
    if (!name) {
      len = append(&buf, &cap, len, &lit, 1);
      continue;
    }
    const char *v = lookup(ctx, name, n);
    if (!v) {
      set_bad(bad, badlen, name, n);
      free(buf);
      return NULL;
    }
    len = pipec_shell_quote(&buf, &cap, len, v);
  }
  if (len == (size_t)-1) {
    free(buf);
    return NULL;
  }
  return buf;
}

bool pipec_template_needs_shell(const char *tpl) {
  const char *name;
  size_t n, k;
  char lit;
  bool first_word = true, in_word = false;
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
  size_t nargs = 0, capargs = 8;
  char **argv = calloc(capargs, sizeof *argv);
  char *word = NULL;
  size_t wcap = 0, wlen = 0, k, n;
  bool in_word = false;
  const char *name;
  char lit;
  if (!argv)
    return NULL;
  for (size_t i = 0;; i += k) {
    k = step(tpl, i, &name, &n, &lit);
    bool end = k == 0, blank = !end && !name && (lit == ' ' || lit == '\t');
    if ((end || blank) && in_word) {
      if (nargs + 2 > capargs) {
        char **na = realloc(argv, (capargs *= 2) * sizeof *argv);
        if (!na)
          goto fail;
        argv = na;
      }
      argv[nargs++] = word ? word : strdup("");
      argv[nargs] = NULL;
      word = NULL;
      wcap = wlen = 0;
      in_word = false;
    }
    if (end)
      break;
    if (blank)
      continue;
    in_word = true;
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
