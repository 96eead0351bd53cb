/*
 * units.h — durations ("45s", "1h30m", "00:30:00") and sizes ("512M",
 * "1.5G") as the language writes them.
 */
#ifndef PIPEC_UNITS_H
#define PIPEC_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Seconds in s: "45s" "20m" "2h" "1d" "1h30m" (units may be combined, in
 * descending order), "HH:MM:SS", "MM:SS", "D-HH:MM:SS" (Slurm), or a bare
 * number of seconds. 0 and *out set, or -1. */
int units_duration(const char *s, int64_t *out);

/* Bytes in s: "512" (bytes), "100K" "512M" "8G" "1T" (powers of 1024,
 * case-insensitive, optional "B" or "iB"), decimals like "1.5G".
 * 0 and *out set, or -1. */
int units_size(const char *s, int64_t *out);

/* bytes as the language writes a size, rounded up to what it says:
 * "512M", "1.5G", "300K", "12" (bytes); at most 4 significant figures. */
void units_size_text(int64_t bytes, char *buf, size_t len);

#endif
