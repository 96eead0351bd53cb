/*
 * wsconfig.c — parsing `.pipec/config` (wsconfig.h).
 */
#include "wsconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "fsutil.h"

static bool is_name_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
    s[--n] = 0;
  return s;
}

/* Cut a comment that starts outside quotes. */
static void cut_comment(char *s) {
  bool q = false;
  for (char *p = s; *p; p++) {
    if (*p == '"' && (p == s || p[-1] != '\\'))
      q = !q;
    else if (!q && (*p == '#' || *p == ';')) {
      *p = 0;
      return;
    }
  }
}

/* A quoted string at s ("..." with \" and \\): its text (malloc'd) and
 * *end just after the closing quote, or NULL. */
static char *unquote(const char *s, const char **end) {
  if (*s != '"')
    return NULL;
  char *out = xcalloc(strlen(s) + 1, 1), *o = out;
  for (const char *p = s + 1; *p; p++) {
    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
      *o++ = *++p;
      continue;
    }
    if (*p == '"') {
      *end = p + 1;
      return out;
    }
    *o++ = *p;
  }
  free(out);
  return NULL;
}

static int bad(wscfg *cfg, const char *path, uint32_t line, char *err,
               size_t errlen, const char *what) {
  snprintf(err, errlen, "%s:%u: %s", path, line, what);
  wscfg_free(cfg);
  return -1;
}

int wscfg_parse(const char *path, const char *text, size_t len, wscfg *cfg,
                char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  cfg->path = xstrdup(path);
  if (memchr(text, 0, len))
    return bad(cfg, path, 1, err, errlen, "the file holds a NUL byte: it is "
                                          "not a text file");
  char *copy = xstrndup(text, len);
  uint32_t line = 0;
  int rc = 0;
  char msg[512];
  for (char *next = copy; next;) {
    char *raw = strsep(&next, "\n");
    line++;
    cut_comment(raw);
    char *s = trim(raw);
    if (!*s)
      continue;
    if (*s == '[') {
      /* [kind "name"] */
      char *p = s + 1;
      while (*p == ' ')
        p++;
      char *k = p;
      while (is_name_char(*p))
        p++;
      size_t klen = (size_t)(p - k);
      while (*p == ' ')
        p++;
      const char *after = NULL;
      char *name = unquote(p, &after);
      if (!klen || !name) {
        free(name);
        snprintf(msg, sizeof msg, "expected a section header like "
                                  "[cache \"NAME\"], found '%.200s'", s);
        rc = -1;
        break;
      }
      while (*after == ' ')
        after++;
      if (*after != ']' || after[1]) {
        free(name);
        snprintf(msg, sizeof msg, "expected ']' after the section's name, "
                                  "found '%.200s'", s);
        rc = -1;
        break;
      }
      if (!*name) {
        free(name);
        snprintf(msg, sizeof msg, "a section's name must not be empty");
        rc = -1;
        break;
      }
      cfg->sections = xrealloc(cfg->sections, (cfg->n_sections + 1) *
                                                  sizeof *cfg->sections);
      cfg->sections[cfg->n_sections++] = (wscfg_section){
          .kind = xstrndup(k, klen), .name = name, .line = line};
      continue;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
      snprintf(msg, sizeof msg, "expected KEY = VALUE or a [section], found "
                                "'%.200s'", s);
      rc = -1;
      break;
    }
    *eq = 0;
    char *key = trim(s), *val = trim(eq + 1);
    bool key_ok = *key != 0;
    for (char *q = key; *q; q++)
      key_ok = key_ok && is_name_char(*q);
    if (!key_ok) {
      snprintf(msg, sizeof msg, "'%.200s' is not a key (letters, digits, "
                                "'_', '-', '.')", key);
      rc = -1;
      break;
    }
    if (!cfg->n_sections) {
      snprintf(msg, sizeof msg, "'%.200s' is outside any section: put it "
                                "under a header like [cache \"NAME\"]", key);
      rc = -1;
      break;
    }
    char *value;
    if (*val == '"') {
      const char *after = NULL;
      value = unquote(val, &after);
      if (!value || *trim((char *)after)) {
        free(value);
        snprintf(msg, sizeof msg, "the value of '%.200s' has an unclosed "
                                  "quote or text after it", key);
        rc = -1;
        break;
      }
    } else {
      value = xstrdup(val);
    }
    wscfg_section *sec = &cfg->sections[cfg->n_sections - 1];
    sec->entries =
        xrealloc(sec->entries, (sec->n_entries + 1) * sizeof *sec->entries);
    sec->entries[sec->n_entries++] =
        (wscfg_entry){.key = xstrdup(key), .value = value, .line = line};
  }
  free(copy);
  if (rc != 0)
    return bad(cfg, path, line, err, errlen, msg);
  return 0;
}

int wscfg_load(const char *path, wscfg *cfg, char *err, size_t errlen) {
  size_t len = 0;
  char *text = fs_read_all(path, &len);
  if (!text) {
    int e = errno;
    memset(cfg, 0, sizeof *cfg);
    if (e == ENOENT) {
      cfg->path = xstrdup(path);
      return 0;
    }
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
    return -1;
  }
  int rc = wscfg_parse(path, text, len, cfg, err, errlen);
  free(text);
  return rc;
}

void wscfg_free(wscfg *cfg) {
  for (uint32_t i = 0; i < cfg->n_sections; i++) {
    wscfg_section *s = &cfg->sections[i];
    for (uint32_t k = 0; k < s->n_entries; k++) {
      free(s->entries[k].key);
      free(s->entries[k].value);
    }
    free(s->entries);
    free(s->kind);
    free(s->name);
  }
  free(cfg->sections);
  free(cfg->path);
  memset(cfg, 0, sizeof *cfg);
}

int wscfg_bool(const char *v, bool *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcasecmp(v, no[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return -1;
}
