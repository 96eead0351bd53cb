/*
 * selfexe.c — the pipec program of this library (selfexe.h).
 */
#define _GNU_SOURCE /* dladdr */
#include "selfexe.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PIPEC_LIB_TO_BIN
#define PIPEC_LIB_TO_BIN "../bin"
#endif

static bool is_program(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
         access(path, X_OK) == 0;
}

void self_pipec_exe(char *buf, size_t len) {
  char exe[PATH_MAX], lib[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  Dl_info info;
  if (dladdr((void *)self_pipec_exe, &info) && info.dli_fname &&
      realpath(info.dli_fname, lib) && strcmp(lib, exe) != 0) {
    /* a shared library: its installed layout, then the build tree's */
    char *slash = strrchr(lib, '/');
    if (slash) {
      *slash = 0;
      const char *const beside[] = {PIPEC_LIB_TO_BIN "/pipec", "pipec"};
      for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        char cand[PATH_MAX + 16];
        snprintf(cand, sizeof cand, "%s/%s", lib, beside[i]);
        char real[PATH_MAX];
        if (is_program(cand) && realpath(cand, real)) {
          snprintf(buf, len, "%s", real);
          return;
        }
      }
    }
    snprintf(buf, len, "pipec"); /* the program is not pipec */
    return;
  }
  snprintf(buf, len, "%s", exe[0] ? exe : "pipec");
}
