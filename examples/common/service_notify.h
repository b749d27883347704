/* systemd's service notification protocol (sd_notify(3)), written directly:
 * it is one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, so the
 * programs need no libsystemd. Without $NOTIFY_SOCKET (not started by
 * systemd with Type=notify) every call does nothing. */
#ifndef IMGCLASS_EXAMPLES_SERVICE_NOTIFY_H
#define IMGCLASS_EXAMPLES_SERVICE_NOTIFY_H

#include <stdint.h>

/* Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...",
 * newline-separated assignments) to $NOTIFY_SOCKET ('@' first: the abstract
 * namespace). 0 when sent or when there is no socket; -1 (errno set) when
 * sending failed, which a service reports once and otherwise ignores. */
int service_notify(const char *state);

/* The watchdog interval systemd asks for ($WATCHDOG_USEC, when
 * $WATCHDOG_PID is absent or this process), in microseconds; 0 when none.
 * A service sends "WATCHDOG=1" at half this interval. */
uint64_t service_watchdog_usec(void);

#endif
