/* The clocks of the example programs, in nanoseconds: one definition for
 * every program (timeouts, latencies, partition times). */
#ifndef IMGCLASS_EXAMPLES_CLOCK_H
#define IMGCLASS_EXAMPLES_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC: for intervals and deadlines (never jumps). */
int64_t clock_mono_ns(void);
/* CLOCK_REALTIME: for times written out (partitions, record times). */
int64_t clock_real_ns(void);

#endif
