/* Preloaded only under valgrind (see the Makefile): libhwy measures its
 * timer resolution with rdtscp when it is loaded, an instruction valgrind
 * 3.19 refuses on CPUs that do not advertise it. imgclass never uses hwy's
 * timers, so a constant resolution is harmless. */
#include <stdint.h>

uint64_t _ZN3hwy8platform15TimerResolutionEv(void);

uint64_t _ZN3hwy8platform15TimerResolutionEv(void)
{
    return 1;
}
