/*
 * logcap.h — a node's log stays bounded: at most `limit` bytes, kept as its
 * first and last limit/2 bytes (cut at line ends) with one line between
 * them saying how much was left out. A node that writes gigabytes to
 * stdout costs at most the limit on disk, and its log still shows how it
 * started and how it ended.
 *
 * While a job runs, its writer appends to the log file; logcap_trim() frees
 * the disk blocks of the middle (a hole punched in the file; its size and
 * the writer's offset do not move), so the disk holds at most about the
 * limit plus what was written since the last trim. After the attempt, with
 * no writer left, logcap_finish() rewrites the file as head, line, tail.
 *
 * The limit: PIPEC_LOG_LIMIT ("64M", "1G", "512K"; "0" for none), 64 MiB by
 * default.
 */
#ifndef PIPEC_LOGCAP_H
#define PIPEC_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

#define LOGCAP_DEFAULT (64ull << 20)

/* The limit in force: 0 and *limit (0: no limit), or -1 with err when
 * PIPEC_LOG_LIMIT is not a size. */
int logcap_limit(uint64_t *limit, char *err, size_t errlen);

/* The log open as fd is being written: if it is longer than limit, free the
 * space of everything but its head and tail. Never fails (a filesystem
 * that cannot punch holes keeps the bytes until logcap_finish). */
void logcap_trim(int fd, uint64_t limit);

/* No one writes the log at path any more: if it is longer than limit (not
 * 0), rewrite it as head, a "left out" line, tail (atomically: a new file
 * renamed over it). 0 (also when it is short or missing), or a negative
 * errno. */
int logcap_finish(const char *path, uint64_t limit);

/* Append text to the log at path (creating it): pipec's own lines, such as
 * the marker that starts a retry. 0 or a negative errno. */
int logcap_append(const char *path, const char *text);

#endif
