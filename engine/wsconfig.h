/*
 * wsconfig.h — the workspace's settings file, `.pipec/config` (docs/cache.md).
 *
 * A small git-config-like text format:
 *
 *     # comments run from '#' (or ';') to the end of the line
 *     [cache "team"]                 a section: a kind and a quoted name
 *       path = /mnt/nfs/pipec-cache  key = value (the value may be quoted)
 *       readonly = false
 *
 * Section kinds, names and keys are what the modules reading them accept
 * (the only kind today: `cache`, sharedcache.h); this module only parses
 * and says where a problem is ("FILE:LINE: ..."). A missing file is an
 * empty configuration.
 */
#ifndef PIPEC_WSCONFIG_H
#define PIPEC_WSCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wscfg_entry {
  char *key, *value;
  uint32_t line;
} wscfg_entry;

typedef struct wscfg_section {
  char *kind, *name;        /* [kind "name"] */
  uint32_t line;
  wscfg_entry *entries;
  uint32_t n_entries;
} wscfg_section;

typedef struct wscfg {
  char *path;               /* the file, for messages */
  wscfg_section *sections;
  uint32_t n_sections;
} wscfg;

/* Parse text (len bytes) read from path. 0, or -1 with err "PATH:LINE:
 * what is wrong" (cfg is empty then). */
int wscfg_parse(const char *path, const char *text, size_t len, wscfg *cfg,
                char *err, size_t errlen);
/* Read and parse the file at path; a missing file is empty. */
int wscfg_load(const char *path, wscfg *cfg, char *err, size_t errlen);
void wscfg_free(wscfg *cfg);

/* A boolean value: true/false, yes/no, on/off, 1/0. 0, or -1. */
int wscfg_bool(const char *value, bool *out);

#endif
