/*
 * plugin.c — dlopen() plugins and check their descriptors (plugin.h).
 */
#include "plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loaded_plugin {
  char path[PATH_MAX];
  const pipec_component_list *list;
} loaded_plugin;

static loaded_plugin *loaded;
static size_t n_loaded;

/* A descriptor pipec can use: built for this ABI, complete, and with a
 * run function (a plugin cannot be a command template). */
static int check_desc(const pipec_component_desc *d, char *err,
                      size_t errlen) {
  if (!d || d->abi_version == 0 || d->abi_version > PIPEC_ABI_VERSION) {
    snprintf(err, errlen, "a component was built for ABI version %u; this "
                          "pipec reads up to %u",
             d ? d->abi_version : 0, PIPEC_ABI_VERSION);
    return -1;
  }
  if (d->struct_size < offsetof(pipec_component_desc, run) + sizeof d->run ||
      !d->name || !d->version || !d->run) {
    snprintf(err, errlen, "component '%s' has an incomplete descriptor "
                          "(name, version and run are required)",
             d->name ? d->name : "?");
    return -1;
  }
  return 0;
}

int plugin_load(void *ctx, const char *path,
                const pipec_component_desc *const **items, uint32_t *n,
                char *err, size_t errlen) {
  (void)ctx;
  char abs[PATH_MAX];
  if (!realpath(path, abs)) {
    snprintf(err, errlen, "no such file");
    return -1;
  }
  for (size_t i = 0; i < n_loaded; i++)
    if (strcmp(loaded[i].path, abs) == 0) {
      *items = loaded[i].list->items;
      *n = loaded[i].list->n;
      return 0;
    }
  void *h = dlopen(abs, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(err, errlen, "%s", dlerror());
    return -1;
  }
  const pipec_component_list *list = dlsym(h, PIPEC_PLUGIN_SYMBOL);
  if (!list) {
    snprintf(err, errlen, "it does not export '%s'", PIPEC_PLUGIN_SYMBOL);
    dlclose(h);
    return -1;
  }
  if (list->abi_version == 0 || list->abi_version > PIPEC_ABI_VERSION) {
    snprintf(err, errlen, "it was built for component ABI %u; this pipec "
                          "reads up to %u",
             list->abi_version, PIPEC_ABI_VERSION);
    dlclose(h);
    return -1;
  }
  for (uint32_t i = 0; i < list->n; i++)
    if (check_desc(list->items[i], err, errlen) != 0) {
      dlclose(h);
      return -1;
    }
  loaded_plugin *nl = realloc(loaded, (n_loaded + 1) * sizeof *loaded);
  if (!nl) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  loaded = nl;
  snprintf(loaded[n_loaded].path, sizeof loaded[n_loaded].path, "%s", abs);
  loaded[n_loaded++].list = list;
  *items = list->items;
  *n = list->n;
  return 0;
}

const pipec_component_desc *plugin_find(const char *path, const char *name,
                                        char *err, size_t errlen) {
  const pipec_component_desc *const *items;
  uint32_t n;
  if (plugin_load(NULL, path, &items, &n, err, errlen) != 0)
    return NULL;
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(items[i]->name, name) == 0)
      return items[i];
  snprintf(err, errlen, "plugin %s has no component '%s'", path, name);
  return NULL;
}
