/*
 * draft.c — reading, comparing and restoring drafts (draft.h).
 *
 * What a revision changed is worked out from the files themselves: its
 * files against those of the pipeline's revision before it, by path and
 * bytes. Drafts hold .pipe sources, so reading both is cheap.
 */
#include "draft.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "projwrite.h"
#include "textdiff.h"

/* A line diff is shown for files needing at most this many changed lines
 * (as `pipec diff` does). */
#define DRAFT_DIFF_MAX_EDITS 2000

static const store_file *find(const store_file *f, uint32_t n,
                              const char *path) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(f[i].path, path) == 0)
      return &f[i];
  return NULL;
}

static int store_err(store *st, char *err, size_t errlen) {
  snprintf(err, errlen, "%s", store_errmsg(st));
  return -1;
}

/* The files of a draft and of the revision before it (none for 0). */
static int read_pair(store *st, const store_draft *d, store_file **now,
                     uint32_t *n_now, store_file **before,
                     uint32_t *n_before) {
  *now = *before = NULL;
  *n_now = *n_before = 0;
  if (store_draft_files(st, d->id, now, n_now) != 0)
    return -1;
  if (d->previous && store_draft_files(st, d->previous, before, n_before) != 0)
    return -1;
  return 0;
}

/* info from a store row and the files of it and the one before (*d's
 * strings are moved). */
static void fill_info(pipec_draft_info *o, store_draft *d,
                      const store_file *now, uint32_t n_now,
                      const store_file *before, uint32_t n_before) {
  *o = (pipec_draft_info){.id = d->id,
                          .created_ms = d->created_ms,
                          .pipeline = d->pipeline,
                          .file = d->main_path,
                          .previous = d->previous,
                          .snapshot = d->snapshot,
                          .run = d->run};
  d->pipeline = d->main_path = NULL;
  o->files = xcalloc(n_now + 1, sizeof *o->files);
  for (uint32_t i = 0; i < n_now; i++)
    o->files[o->n_files++] = xstrdup(now[i].path);
  o->changes = xcalloc(n_now + n_before + 1, sizeof *o->changes);
  for (uint32_t i = 0; i < n_now; i++) {
    const store_file *b = find(before, n_before, now[i].path);
    if (b && b->len == now[i].len && memcmp(b->text, now[i].text, b->len) == 0)
      continue;
    o->changes[o->n_changes++] = (pipec_file_change){
        xstrdup(now[i].path), b ? PIPEC_CHANGE_CHANGED : PIPEC_CHANGE_ADDED};
  }
  for (uint32_t i = 0; i < n_before; i++)
    if (!find(now, n_now, before[i].path))
      o->changes[o->n_changes++] =
          (pipec_file_change){xstrdup(before[i].path), PIPEC_CHANGE_REMOVED};
}

static int info_of(store *st, store_draft *d, pipec_draft_info *o, char *err,
                   size_t errlen) {
  store_file *now, *before;
  uint32_t n_now, n_before;
  int rc = read_pair(st, d, &now, &n_now, &before, &n_before);
  if (rc == 0)
    fill_info(o, d, now, n_now, before, n_before);
  else
    store_err(st, err, errlen);
  store_files_free(now, n_now);
  store_files_free(before, n_before);
  return rc;
}

int draft_list(store *st, int64_t pipeline, uint32_t limit,
               pipec_draft_info **out, uint32_t *n, char *err,
               size_t errlen) {
  *out = NULL;
  *n = 0;
  store_draft *rows = NULL;
  uint32_t k = 0;
  if (store_draft_list(st, pipeline, limit, &rows, &k) != 0)
    return store_err(st, err, errlen);
  pipec_draft_info *v = xcalloc(k + 1, sizeof *v);
  uint32_t got = 0;
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < k; i++)
    if ((rc = info_of(st, &rows[i], &v[got], err, errlen)) == 0)
      got++;
  store_drafts_free(rows, k);
  if (rc != 0) {
    draft_infos_free(v, got);
    return rc;
  }
  *out = v;
  *n = got;
  return 0;
}

int draft_get(store *st, int64_t id, pipec_draft_info *out, char *err,
              size_t errlen) {
  memset(out, 0, sizeof *out);
  store_draft d;
  int found = store_draft_get(st, id, &d);
  if (found < 0)
    return store_err(st, err, errlen);
  if (found == 1 && info_of(st, &d, out, err, errlen) != 0)
    found = -1;
  store_draft_free(&d);
  return found;
}

void draft_info_free(pipec_draft_info *d) {
  if (!d)
    return;
  free(d->pipeline);
  free(d->file);
  for (uint32_t i = 0; i < d->n_files; i++)
    free(d->files[i]);
  free(d->files);
  for (uint32_t i = 0; i < d->n_changes; i++)
    free(d->changes[i].path);
  free(d->changes);
  memset(d, 0, sizeof *d);
}

void draft_infos_free(pipec_draft_info *d, uint32_t n) {
  for (uint32_t i = 0; d && i < n; i++)
    draft_info_free(&d[i]);
  free(d);
}

/* ---- comparing ---------------------------------------------------------------- */

/* "file     P: changed" and the unified diff from a (NULL: none) to b
 * (NULL: none). */
static void diff_file(FILE *out, const char *path, const store_file *a,
                      int64_t id_a, const store_file *b, int64_t id_b) {
  fprintf(out, "file     %s: %s\n", path,
          !a ? "added" : !b ? "removed" : "changed");
  const char *ta = a ? a->text : "", *tb = b ? b->text : "";
  size_t la = a ? a->len : 0, lb = b ? b->len : 0;
  if (!textdiff_is_text(ta, la) || !textdiff_is_text(tb, lb)) {
    fprintf(out, "(binary: not shown)\n");
    return;
  }
  char *label_a = a ? xprintf("a/%s (draft %lld)", path, (long long)id_a)
                    : xstrdup("/dev/null");
  char *label_b = b ? xprintf("b/%s (draft %lld)", path, (long long)id_b)
                    : xstrdup("/dev/null");
  int rc = textdiff_unified(out, ta, la, tb, lb, label_a, label_b, 3,
                            DRAFT_DIFF_MAX_EDITS);
  if (rc == -E2BIG)
    fprintf(out, "(more than %d lines changed: not shown)\n",
            DRAFT_DIFF_MAX_EDITS);
  else if (rc == -ENOMEM)
    base_oom(0);
  free(label_a);
  free(label_b);
}

int draft_diff(store *st, int64_t id, FILE *out, char *err, size_t errlen) {
  store_draft d;
  int found = store_draft_get(st, id, &d);
  if (found < 0)
    return store_err(st, err, errlen);
  if (found == 0) {
    snprintf(err, errlen, "no draft %lld (pipec drafts lists them)",
             (long long)id);
    return DRAFT_NONE;
  }
  store_file *now, *before;
  uint32_t n_now, n_before;
  int rc = read_pair(st, &d, &now, &n_now, &before, &n_before);
  if (rc != 0) {
    store_err(st, err, errlen);
  } else {
    for (uint32_t i = 0; i < n_now; i++) {
      const store_file *b = find(before, n_before, now[i].path);
      if (b && b->len == now[i].len &&
          memcmp(b->text, now[i].text, b->len) == 0)
        continue;
      diff_file(out, now[i].path, b, d.previous, &now[i], d.id);
      rc++;
    }
    for (uint32_t i = 0; i < n_before; i++)
      if (!find(now, n_now, before[i].path)) {
        diff_file(out, before[i].path, &before[i], d.previous, NULL, d.id);
        rc++;
      }
    if (rc == 0)
      fprintf(out, "(the same files as draft %lld)\n", (long long)d.previous);
  }
  store_files_free(now, n_now);
  store_files_free(before, n_before);
  store_draft_free(&d);
  return rc;
}

/* ---- restoring ---------------------------------------------------------------- */

int draft_restore(store *st, const char *root, int64_t id, bool dry_run,
                  FILE *out, int64_t *saved, char *err, size_t errlen) {
  store_draft d;
  int found = store_draft_get(st, id, &d);
  if (found < 0)
    return store_err(st, err, errlen);
  if (found == 0) {
    snprintf(err, errlen, "no draft %lld (pipec drafts lists them)",
             (long long)id);
    return DRAFT_NONE;
  }
  store_file *files = NULL, *now = NULL;
  uint32_t n = 0, n_now = 0;
  pw_file *f = NULL;
  int written = -1;
  if (store_draft_files(st, id, &files, &n) != 0) {
    store_err(st, err, errlen);
    goto out;
  }
  f = xcalloc(n + 1, sizeof *f);
  for (uint32_t i = 0; i < n; i++)
    f[i] = (pw_file){.rec = files[i].path,
                     .bytes = files[i].text ? files[i].text : "",
                     .len = files[i].len};
  /* where each goes, and whether it differs; refuse before writing any */
  int changed = pw_plan(root, f, n, "restore", err, errlen);
  if (changed < 0)
    goto out;
  for (uint32_t i = 0; dry_run && i < n; i++)
    fprintf(out, "%s %s\n",
            f[i].same ? "unchanged" : f[i].exists ? "restore  " : "create   ",
            f[i].rec);
  if (dry_run || changed == 0) {
    if (!dry_run)
      fprintf(out, "the files already match draft %lld\n", (long long)id);
    written = dry_run ? changed : 0;
    goto out;
  }
  /* the files as they are now, as a revision of their own, so the
   * restore can be undone */
  now = xcalloc(n + 1, sizeof *now);
  for (uint32_t i = 0; i < n; i++)
    if (f[i].exists)
      now[n_now++] = (store_file){f[i].rec, f[i].now, f[i].now_len};
  int64_t before = 0;
  if (store_draft_record(st, d.pipeline_id, now, n_now, &before) != 0) {
    snprintf(err, errlen, "cannot record the current files: %s",
             store_errmsg(st));
    goto out;
  }
  if (saved)
    *saved = before;
  written = pw_write(st, NULL, f, n, err, errlen);
  if (written >= 0)
    fprintf(out, "restored %d file%s of draft %lld (the files before are "
                 "draft %lld)\n",
            written, written == 1 ? "" : "s", (long long)id,
            (long long)before);
out:
  free(now); /* its strings are f's and files' */
  pw_free(f, n);
  free(f);
  store_files_free(files, n);
  store_draft_free(&d);
  return written;
}
