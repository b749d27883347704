/* ic_cpu_cores_of (lib/cpu_cores.h): the engine's default thread count is
 * one per physical core, counted from a sysfs tree. Each case writes a
 * small tree in a temporary folder: logical CPUs with their package and
 * core ids, as Linux lays them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cpu_cores.h"

static char root[512];

static void write_file(const char *path, long value)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n", value);
    assert_int_equal(fclose(f), 0);
}

/* CPU `cpu` of the tree: in package `package`, core `core`; a negative
 * core leaves its core_id out. */
static void add_cpu(int cpu, long package, long core)
{
    char path[600];
    const char *parts[] = {"devices", "system", "cpu"};
    snprintf(path, sizeof path, "%s", root);
    for (int i = 0; i < 3; i++) {
        strncat(path, "/", sizeof path - strlen(path) - 1);
        strncat(path, parts[i], sizeof path - strlen(path) - 1);
        mkdir(path, 0700);
    }
    char dir[700];
    snprintf(dir, sizeof dir, "%s/cpu%d", path, cpu);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/cpu%d/topology", path, cpu);
    assert_int_equal(mkdir(dir, 0700), 0);
    char file[800];
    snprintf(file, sizeof file, "%s/physical_package_id", dir);
    write_file(file, package);
    if (core >= 0) {
        snprintf(file, sizeof file, "%s/core_id", dir);
        write_file(file, core);
    }
}

static int fresh_tree(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/imgclass-cores-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(root) ? 0 : -1;
}

static int remove_tree(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Two hardware threads per core: cpu0/cpu2 share core 0, cpu1/cpu3 core 1. */
static void test_smt_siblings_count_once(void **state)
{
    (void)state;
    add_cpu(0, 0, 0);
    add_cpu(1, 0, 1);
    add_cpu(2, 0, 0);
    add_cpu(3, 0, 1);
    const int all[] = {0, 1, 2, 3};
    assert_int_equal(ic_cpu_cores_of(root, all, 4), 2);
    const int siblings[] = {0, 2}; /* an affinity mask of one core's threads */
    assert_int_equal(ic_cpu_cores_of(root, siblings, 2), 1);
}

/* No SMT (as a virtual machine often shows): every CPU is a core. */
static void test_no_smt_every_cpu(void **state)
{
    (void)state;
    add_cpu(0, 0, 0);
    add_cpu(1, 0, 1);
    const int all[] = {0, 1};
    assert_int_equal(ic_cpu_cores_of(root, all, 2), 2);
}

/* Core ids repeat across packages: (package, core) is the key. */
static void test_two_packages(void **state)
{
    (void)state;
    add_cpu(0, 0, 0);
    add_cpu(1, 1, 0);
    const int all[] = {0, 1};
    assert_int_equal(ic_cpu_cores_of(root, all, 2), 2);
}

/* Anything unreadable: 0, and the caller keeps libtorch's default. */
static void test_unreadable_is_unknown(void **state)
{
    (void)state;
    add_cpu(0, 0, 0);
    add_cpu(1, 0, -1); /* no core_id */
    const int two[] = {0, 1};
    assert_int_equal(ic_cpu_cores_of(root, two, 2), 0);
    const int missing[] = {0, 5};
    assert_int_equal(ic_cpu_cores_of(root, missing, 2), 0);
    assert_int_equal(ic_cpu_cores_of(root, two, 0), 0);
}

/* This machine: at least one core, at most its logical CPUs. */
static void test_this_machine(void **state)
{
    (void)state;
    int cores = ic_cpu_cores();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || cores > cpus)
        fail_msg("%d cores on %ld CPUs", cores, cpus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_smt_siblings_count_once, fresh_tree, remove_tree),
        cmocka_unit_test_setup_teardown(test_no_smt_every_cpu, fresh_tree, remove_tree),
        cmocka_unit_test_setup_teardown(test_two_packages, fresh_tree, remove_tree),
        cmocka_unit_test_setup_teardown(test_unreadable_is_unknown, fresh_tree, remove_tree),
        cmocka_unit_test(test_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
