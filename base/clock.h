/*
 * clock.h — the two clocks pipec uses: wall time for what is recorded
 * (run and node times, in milliseconds since the epoch) and a monotonic
 * clock for what is measured (durations, timeouts, polling).
 */
#ifndef PIPEC_BASE_CLOCK_H
#define PIPEC_BASE_CLOCK_H

#include <stdint.h>

int64_t clock_wall_ms(void);   /* ms since the epoch */
int64_t clock_mono_ms(void);   /* ms on a clock that never goes back */
double clock_mono_s(void);     /* the same, in seconds */

#endif
