/* Per-thread nice values: on Linux, setpriority(PRIO_PROCESS, tid) changes
 * one thread (a documented departure from POSIX, which means the whole
 * process), and raising a nice value needs no privilege. gettid needs
 * _GNU_SOURCE, kept to this file. */
#define _GNU_SOURCE
#include "thread_priority.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

void ic_thread_lower_priority(int nice)
{
    if (nice <= 0)
        return;
#if defined(__linux__) && defined(SYS_gettid)
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && now < nice)
        (void)setpriority(PRIO_PROCESS, tid, nice);
#endif
}
