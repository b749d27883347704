/* Internal: how many physical cores this process may run on, the engine's
 * default thread count (lib/engine_loader.c). libtorch's own default on
 * x86-64 is half the logical CPUs, which assumes two hardware threads per
 * core: on a machine (or a virtual machine) without SMT it leaves half the
 * cores idle. Counting the distinct (package, core) pairs of the CPUs in
 * the process's affinity mask gives one thread per core either way
 * (docs/engine.md, "Thread budget"). Pure C, Linux sysfs. */
#ifndef IMGCLASS_CPU_CORES_H
#define IMGCLASS_CPU_CORES_H

/* The physical cores among `cpus` (n logical CPU numbers), read from
 * SYSFS/devices/system/cpu/cpuN/topology/{physical_package_id,core_id};
 * 0 when any of them cannot be read (the caller then keeps libtorch's
 * default). `sysfs` is "/sys" but for tests. Thread-safe. */
int ic_cpu_cores_of(const char *sysfs, const int *cpus, int n);

/* ic_cpu_cores_of() for the CPUs this process may run on
 * (sched_getaffinity); 0 when unknown. Thread-safe. */
int ic_cpu_cores(void);

#endif
