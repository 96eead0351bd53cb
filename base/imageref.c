/*
 * imageref.c — the reference grammar of imageref.h.
 */
#include "imageref.h"

#include <stdio.h>
#include <string.h>

static bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A domain: labels of [A-Za-z0-9-] (not starting or ending with '-')
 * joined by '.', then an optional ":port". */
static bool check_domain(const char *s, size_t n, char *why, size_t wl) {
  size_t colon = n;
  for (size_t i = 0; i < n; i++)
    if (s[i] == ':') {
      colon = i;
      break;
    }
  size_t start = 0;
  for (size_t i = 0; i <= colon; i++) {
    if (i < colon && s[i] != '.') {
      if (!alnum(s[i]) && s[i] != '-') {
        snprintf(why, wl, "'%c' at %zu: a registry host has letters, "
                 "digits, '-' and '.'", s[i], i + 1);
        return false;
      }
      continue;
    }
    if (i == start || s[start] == '-' || s[i - 1] == '-') {
      snprintf(why, wl, "the registry host '%.*s' is not a host name",
               (int)colon, s);
      return false;
    }
    start = i + 1;
  }
  if (colon < n) {
    if (colon + 1 == n) {
      snprintf(why, wl, "the registry port after '%.*s:' is empty",
               (int)colon, s);
      return false;
    }
    for (size_t i = colon + 1; i < n; i++)
      if (s[i] < '0' || s[i] > '9') {
        snprintf(why, wl, "the registry port '%.*s' is not a number",
                 (int)(n - colon - 1), s + colon + 1);
        return false;
      }
  }
  return true;
}

/* One path component at s[0..n), which starts at offset `at` of the
 * reference (for messages). */
static bool check_component(const char *s, size_t n, size_t at, char *why,
                            size_t wl) {
  if (n == 0) {
    snprintf(why, wl, "an empty name part at %zu (two '/' in a row, or one "
             "at an end)", at + 1);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (lower_alnum(c))
      continue;
    if (c >= 'A' && c <= 'Z') {
      snprintf(why, wl, "'%c' at %zu: repository names are lowercase", c,
               at + i + 1);
      return false;
    }
    if (c != '.' && c != '_' && c != '-') {
      snprintf(why, wl, "'%c' at %zu: a repository name has lowercase "
               "letters, digits and the separators '.', '_', '-'", c,
               at + i + 1);
      return false;
    }
    /* a separator: between alphanumerics; "." one, "_" one or two, "-"
     * any number */
    size_t j = i;
    while (j < n && (s[j] == '.' || s[j] == '_' || s[j] == '-'))
      j++;
    size_t len = j - i;
    bool ok = i > 0 && j < n &&
              ((c == '.' && len == 1) ||
               (c == '_' && len <= 2 && s[i + len - 1] == '_') ||
               (c == '-' && strspn(s + i, "-") == len));
    if (!ok) {
      snprintf(why, wl, "'%.*s' at %zu: a separator ('.', '_', '__' or "
               "'-') stands between letters or digits", (int)len, s + i,
               at + i + 1);
      return false;
    }
    i = j - 1;
  }
  return true;
}

bool imageref_check(const char *ref, char *why, size_t wl) {
  size_t n = strlen(ref);
  if (n == 0) {
    snprintf(why, wl, "the reference is empty");
    return false;
  }
  /* the digest: after the last '@' */
  const char *at = strchr(ref, '@');
  size_t name_end = at ? (size_t)(at - ref) : n;
  if (at) {
    const char *d = at + 1;
    const char *colon = strchr(d, ':');
    if (!colon || colon == d) {
      snprintf(why, wl, "the digest '%s' is not ALGORITHM:HEX "
               "(sha256:<64 hex digits>)", d);
      return false;
    }
    for (const char *q = d; q < colon; q++)
      if (!lower_alnum(*q)) {
        snprintf(why, wl, "the digest algorithm '%.*s' is not lowercase "
                 "letters and digits", (int)(colon - d), d);
        return false;
      }
    size_t hl = strlen(colon + 1);
    for (const char *q = colon + 1; *q; q++)
      if (!hex(*q)) {
        snprintf(why, wl, "the digest '%s' has '%c', which is not a "
                 "lowercase hex digit", d, *q);
        return false;
      }
    bool sha = colon - d == 6 && strncmp(d, "sha256", 6) == 0;
    if ((sha && hl != 64) || hl < 32) {
      snprintf(why, wl, "the digest '%s' has %zu hex digits; %s", d, hl,
               sha ? "sha256 has 64" : "at least 32 are needed");
      return false;
    }
  }
  /* the tag: after a ':' that follows the last '/' */
  size_t last_slash = 0;
  bool has_slash = false;
  for (size_t i = 0; i < name_end; i++)
    if (ref[i] == '/') {
      last_slash = i;
      has_slash = true;
    }
  size_t tag_at = name_end;
  for (size_t i = has_slash ? last_slash : 0; i < name_end; i++)
    if (ref[i] == ':') {
      tag_at = i;
      break;
    }
  if (tag_at < name_end) {
    const char *t = ref + tag_at + 1;
    size_t tl = name_end - tag_at - 1;
    if (tl == 0) {
      snprintf(why, wl, "the tag after ':' is empty");
      return false;
    }
    if (tl > 128) {
      snprintf(why, wl, "the tag has %zu characters; at most 128", tl);
      return false;
    }
    for (size_t i = 0; i < tl; i++)
      if (!alnum(t[i]) && t[i] != '_' && (i == 0 || (t[i] != '.' &&
                                                     t[i] != '-'))) {
        snprintf(why, wl, "'%c' at %zu: a tag has letters, digits, '_', "
                 "'.' and '-' (not first)", t[i], tag_at + 2 + i);
        return false;
      }
  }
  size_t len = tag_at; /* the name */
  if (len == 0) {
    snprintf(why, wl, "the repository name is empty");
    return false;
  }
  if (len > 255) {
    snprintf(why, wl, "the repository name has %zu characters; at most 255",
             len);
    return false;
  }
  size_t pos = 0;
  const char *slash = memchr(ref, '/', len);
  if (slash) {
    size_t dl = (size_t)(slash - ref);
    bool domain = memchr(ref, '.', dl) || memchr(ref, ':', dl) ||
                  (dl == 9 && strncmp(ref, "localhost", 9) == 0);
    if (domain) {
      if (!check_domain(ref, dl, why, wl))
        return false;
      pos = dl + 1;
      if (pos == len) {
        snprintf(why, wl, "no repository name after the registry '%.*s'",
                 (int)dl, ref);
        return false;
      }
    }
  }
  while (pos <= len) {
    const char *e = memchr(ref + pos, '/', len - pos);
    size_t end = e ? (size_t)(e - ref) : len;
    if (!check_component(ref + pos, end - pos, pos, why, wl))
      return false;
    pos = end + 1;
  }
  return true;
}
