/*
 * value.c — names of the param and port types (value.h), shared by the
 * compiler (parsing type names), the IR printers and the engine.
 */
#include "pipec/value.h"

#include <string.h>

static const char *const type_names[] = {
    [PIPEC_T_INT] = "int",       [PIPEC_T_FLOAT] = "float",
    [PIPEC_T_BOOL] = "bool",     [PIPEC_T_STRING] = "string",
    [PIPEC_T_PATH] = "path",     [PIPEC_T_LIST] = "list",
};

static const char *const port_type_names[] = {
    [PIPEC_PORT_TABLE] = "table",
    [PIPEC_PORT_FILE] = "file",
    [PIPEC_PORT_MODEL] = "model",
    [PIPEC_PORT_JSON] = "json",
    [PIPEC_PORT_DIR] = "dir",
};

static const char *const list_type_names[] = {
    [PIPEC_T_INT] = "[int]",       [PIPEC_T_FLOAT] = "[float]",
    [PIPEC_T_BOOL] = "[bool]",     [PIPEC_T_STRING] = "[string]",
    [PIPEC_T_PATH] = "[path]",     [PIPEC_T_LIST] = "[list]",
};

static const char *const list_port_type_names[] = {
    [PIPEC_PORT_TABLE] = "[table]", [PIPEC_PORT_FILE] = "[file]",
    [PIPEC_PORT_MODEL] = "[model]", [PIPEC_PORT_JSON] = "[json]",
    [PIPEC_PORT_DIR] = "[dir]",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *pipec_type_name(pipec_type t) {
  if ((unsigned)t < COUNT(type_names) && type_names[t])
    return type_names[t];
  return "?";
}

const char *pipec_port_type_name(pipec_port_type t) {
  if ((unsigned)t < COUNT(port_type_names) && port_type_names[t])
    return port_type_names[t];
  return "?";
}

const char *pipec_type_text(pipec_type t, pipec_type elem) {
  if (t != PIPEC_T_LIST)
    return pipec_type_name(t);
  if ((unsigned)elem < COUNT(list_type_names) && list_type_names[elem])
    return list_type_names[elem];
  return "list";
}

const char *pipec_port_type_text(pipec_port_type t, bool list) {
  if (!list)
    return pipec_port_type_name(t);
  if ((unsigned)t < COUNT(list_port_type_names) && list_port_type_names[t])
    return list_port_type_names[t];
  return "?";
}

int pipec_type_parse(const char *name, pipec_type *out) {
  for (unsigned i = 0; i < COUNT(type_names); i++)
    if (strcmp(name, type_names[i]) == 0) {
      *out = (pipec_type)i;
      return 0;
    }
  return -1;
}

int pipec_port_type_parse(const char *name, pipec_port_type *out) {
  for (unsigned i = 0; i < COUNT(port_type_names); i++)
    if (strcmp(name, port_type_names[i]) == 0) {
      *out = (pipec_port_type)i;
      return 0;
    }
  return -1;
}
