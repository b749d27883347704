/* ic_engine_parallel (lib/engine.h): every task runs exactly once, on the
 * calling thread and the other threads of its intra-op team (so the
 * pipeline's team mode really prepares on every core), and one task, or a
 * call nested in a task, runs on the calling thread; a thread that sets its
 * own team to one thread (ic_engine_set_thread_team, the pipeline's engine
 * lanes) runs every task itself, and the others keep two. No timing: a task that
 * must see a second thread waits for it (bounded), it does not measure. */
#define _GNU_SOURCE /* gettid() */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine.h"
#include "imgclass.h"

#define TASKS 64
#define MAX_TIDS 8

/* Every field of a run is read and written under run_lock: the team's fork
 * and join are invisible to ThreadSanitizer, the lock is not. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct run {
    int calls[TASKS];
    pid_t tids[MAX_TIDS];
    int ntids;
    int wait_for_second; /* the first task waits until another thread ran one */
    int waited_out;      /* ... and gave up after 20 s */
} run;

static void note_tid(run *r)
{
    pid_t me = gettid();
    for (int i = 0; i < r->ntids; i++)
        if (r->tids[i] == me)
            return;
    if (r->ntids < MAX_TIDS)
        r->tids[r->ntids++] = me;
}

static void task(void *ctx, size_t i)
{
    run *r = ctx;
    pthread_mutex_lock(&run_lock);
    r->calls[i]++;
    note_tid(r);
    int wait = r->wait_for_second && i == 0;
    pthread_mutex_unlock(&run_lock);
    /* Task 0 holds its thread until another thread has run a task: with a
     * team of two, the other thread takes the remaining tasks meanwhile. */
    for (int ms = 0; wait && ms < 20000; ms++) {
        pthread_mutex_lock(&run_lock);
        int seen = r->ntids;
        pthread_mutex_unlock(&run_lock);
        if (seen >= 2)
            return;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    if (wait) {
        pthread_mutex_lock(&run_lock);
        r->waited_out = 1;
        pthread_mutex_unlock(&run_lock);
    }
}

/* A nested call: the inner tasks of one outer task. Under nest_lock: the
 * team's fork and join are invisible to ThreadSanitizer. */
static pthread_mutex_t nest_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct nest {
    pid_t tid;      /* the outer task's thread */
    int calls[8];
    int elsewhere;  /* an inner task ran on another thread */
} nest;

static void inner_task(void *ctx, size_t i)
{
    nest *n = ctx;
    pthread_mutex_lock(&nest_lock);
    n->calls[i]++;
    if (gettid() != n->tid)
        n->elsewhere = 1;
    pthread_mutex_unlock(&nest_lock);
}

static void outer_task(void *ctx, size_t i)
{
    nest *n = (nest *)ctx + i;
    pthread_mutex_lock(&nest_lock);
    n->tid = gettid();
    pthread_mutex_unlock(&nest_lock);
    ic_engine_parallel(8, inner_task, n);
}

static run *run_new(int wait_for_second)
{
    static run r;
    pthread_mutex_lock(&run_lock);
    memset(&r, 0, sizeof r);
    r.wait_for_second = wait_for_second;
    pthread_mutex_unlock(&run_lock);
    return &r;
}

static run snapshot(const run *r)
{
    pthread_mutex_lock(&run_lock);
    run copy = *r;
    pthread_mutex_unlock(&run_lock);
    return copy;
}

static int setup(void **state)
{
    (void)state;
    /* The module and libtorch; two intra-op threads whatever the CPUs. */
    if (ic_engine_start("test_engine_parallel") != IMGCLASS_OK) {
        fprintf(stderr, "%s\n", imgclass_last_error());
        return -1;
    }
    return imgclass_set_num_threads(2) == IMGCLASS_OK ? 0 : -1;
}

static void test_every_task_once_on_two_threads(void **state)
{
    (void)state;
    run *shared = run_new(1);
    ic_engine_parallel(TASKS, task, shared);
    run seen = snapshot(shared), *r = &seen;
    for (int i = 0; i < TASKS; i++)
        if (r->calls[i] != 1)
            fail_msg("task %d ran %d times", i, r->calls[i]);
    if (r->waited_out || r->ntids < 2)
        fail_msg("all %d tasks ran on %d thread(s): no team", TASKS, r->ntids);
    assert_true(r->ntids <= 2); /* the team has two threads */
    int caller_ran = 0;
    for (int i = 0; i < r->ntids; i++)
        caller_ran |= r->tids[i] == gettid();
    assert_true(caller_ran);
}

static void test_one_task_and_none(void **state)
{
    (void)state;
    run *shared = run_new(0);
    ic_engine_parallel(1, task, shared);
    run seen = snapshot(shared);
    assert_int_equal(seen.calls[0], 1);
    assert_int_equal(seen.ntids, 1);
    assert_int_equal(seen.tids[0], gettid());
    ic_engine_parallel(0, task, shared);
    seen = snapshot(shared);
    assert_int_equal(seen.calls[0], 1);
}

static void test_nested_runs_on_the_task_thread(void **state)
{
    (void)state;
    nest n[2];
    memset(n, 0, sizeof n);
    ic_engine_parallel(2, outer_task, n);
    pthread_mutex_lock(&nest_lock);
    nest seen[2];
    memcpy(seen, n, sizeof seen);
    pthread_mutex_unlock(&nest_lock);
    for (int o = 0; o < 2; o++) {
        for (int i = 0; i < 8; i++)
            assert_int_equal(seen[o].calls[i], 1);
        assert_false(seen[o].elsewhere);
    }
}

/* This thread's team set to one thread: every task on it, none elsewhere;
 * set back to two, two threads again. (On this thread: a thread started
 * for it leaves valgrind reporting libtorch's thread-count state, made in
 * setup(), as lost.) */
static void test_thread_team_of_one(void **state)
{
    ic_engine_set_thread_team(1);
    run *shared = run_new(0);
    ic_engine_parallel(TASKS, task, shared);
    run seen = snapshot(shared);
    ic_engine_set_thread_team(2);
    for (int i = 0; i < TASKS; i++)
        assert_int_equal(seen.calls[i], 1);
    if (seen.ntids != 1 || seen.tids[0] != gettid())
        fail_msg("with its team set to one thread, this thread's %d tasks ran on %d threads",
                 TASKS, seen.ntids);
    test_every_task_once_on_two_threads(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once_on_two_threads),
        cmocka_unit_test(test_one_task_and_none),
        cmocka_unit_test(test_nested_runs_on_the_task_thread),
        cmocka_unit_test(test_thread_team_of_one),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
