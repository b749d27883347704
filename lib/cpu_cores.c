/* Physical cores from Linux sysfs (see cpu_cores.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ISSET */
#include "cpu_cores.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static int read_int(const char *sysfs, int cpu, const char *name, long *out)
{
    char path[512];
    snprintf(path, sizeof path, "%s/devices/system/cpu/cpu%d/topology/%s", sysfs, cpu, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%ld", out) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

int ic_cpu_cores_of(const char *sysfs, const int *cpus, int n)
{
    if (n < 1)
        return 0;
    long *keys = malloc((size_t)n * 2 * sizeof *keys);
    if (!keys)
        return 0;
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        long package, core;
        if (read_int(sysfs, cpus[i], "physical_package_id", &package) != 0 ||
            read_int(sysfs, cpus[i], "core_id", &core) != 0) {
            free(keys);
            return 0;
        }
        int seen = 0;
        for (int k = 0; k < distinct && !seen; k++)
            seen = keys[2 * k] == package && keys[2 * k + 1] == core;
        if (!seen) {
            keys[2 * distinct] = package;
            keys[2 * distinct + 1] = core;
            distinct++;
        }
    }
    free(keys);
    return distinct;
}

int ic_cpu_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    int cpus[CPU_SETSIZE], n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return ic_cpu_cores_of("/sys", cpus, n);
}
