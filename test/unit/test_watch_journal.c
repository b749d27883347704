/* imgclass-watch's journal (examples/watch/journal.c) and key set, linked
 * in as the program links them (the Makefile names their objects): keys, commit
 * and reading back, a torn or corrupt tail cut off, inputs without their
 * commit line forgotten, compaction, the lock against a second process. */
#define _DEFAULT_SOURCE
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
#include <zlib.h>

#include "journal.h"
#include "key_set.h"

/* One journal line as journal.h documents it, "CRC PAYLOAD\n", written
 * here from that description (zlib's crc32 in 8 hex digits) rather than by
 * the code under test. Returns its length. */
static int journal_line(char *buf, size_t size, const char *payload)
{
    unsigned long crc = crc32(0L, (const Bytef *)payload, (uInt)strlen(payload));
    int n = snprintf(buf, size, "%08lx %s\n", crc, payload);
    assert_true(n > 0 && (size_t)n < size);
    return n;
}

typedef struct fixture {
    char dir[64], state[96], file[96];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/imgclass-journal-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->state, sizeof f->state, "%s/state", f->dir);
    snprintf(f->file, sizeof f->file, "%s/in.png", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *key_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char *k = input_key(path, &st);
    assert_non_null(k);
    return k;
}

static journal *open_journal(fixture *f, key_set *set, size_t *nparts)
{
    char **parts = NULL;
    char err[256];
    journal *j = NULL;
    assert_int_equal(journal_open(f->state, set, &parts, nparts, &j, err, sizeof err), 0);
    for (size_t i = 0; i < *nparts; i++)
        free(parts[i]);
    free(parts);
    return j;
}

static void test_key_round_trip(void **state)
{
    (void)state;
    struct stat st = {0};
    st.st_ino = 42;
    st.st_size = 7;
    st.st_mtim.tv_sec = 1;
    st.st_mtim.tv_nsec = 5;
    const char *path = "/in/a b%\n\xff\xc3\xa9.png";
    char *k = input_key(path, &st);
    assert_non_null(k);
    assert_string_equal(k, "/in/a%20b%25%0A%FF%C3%A9.png 42 7 1000000005");
    char *back = input_key_path(k);
    assert_string_equal(back, path);
    free(back);
    free(k);
    assert_null(input_key_path("no-space"));
    assert_null(input_key_path("/bad%4 1 2 3"));
}

static void test_commit_and_reopen(void **state)
{
    fixture *f = *state;
    write_file(f->file, "one");
    char *k = key_of(f->file);
    key_set set = {0};
    size_t nparts;
    journal *j = open_journal(f, &set, &nparts);
    assert_int_equal(nparts, 0);
    assert_int_equal(set.count, 0);
    assert_int_equal(journal_commit(j, "dt=x/hour=00/part-1.jsonl", &k, 1), 0);
    journal_close(j);

    key_set again = {0};
    j = open_journal(f, &again, &nparts);
    assert_int_equal(nparts, 1);
    assert_int_equal(key_set_get(&again, k), KEY_COMMITTED);
    journal_close(j);
    key_set_free(&again);
    key_set_free(&set);
    free(k);
}

static void test_torn_tail_and_uncommitted_inputs(void **state)
{
    fixture *f = *state;
    write_file(f->file, "one");
    char *k = key_of(f->file);
    key_set set = {0};
    size_t nparts;
    journal *j = open_journal(f, &set, &nparts);
    assert_int_equal(journal_commit(j, "p1", &k, 1), 0);
    uint64_t committed_size = journal_size(j);
    journal_close(j);
    /* A crash in the middle of the next commit: its I line made it, its C
     * line only half. */
    char path[128];
    snprintf(path, sizeof path, "%s/journal", f->state);
    FILE *fp = fopen(path, "a");
    char lines[128];
    int len = journal_line(lines, sizeof lines, "I /other 1 2 3");
    len += journal_line(lines + len, sizeof lines - (size_t)len, "C p2");
    fwrite(lines, 1, (size_t)len - 5, fp);
    fclose(fp);

    key_set again = {0};
    j = open_journal(f, &again, &nparts);
    assert_int_equal(nparts, 1);
    assert_int_equal(key_set_get(&again, k), KEY_COMMITTED);
    assert_int_equal(key_set_get(&again, "/other 1 2 3"), -1);
    assert_int_equal(journal_size(j), committed_size); /* the tail is cut off */
    journal_close(j);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, committed_size);
    key_set_free(&again);
    key_set_free(&set);
    free(k);
}

static void test_corrupt_line_stops_reading(void **state)
{
    fixture *f = *state;
    write_file(f->file, "one");
    char *k = key_of(f->file);
    key_set set = {0};
    size_t nparts;
    journal *j = open_journal(f, &set, &nparts);
    assert_int_equal(journal_commit(j, "p1", &k, 1), 0);
    journal_close(j);
    char path[128];
    snprintf(path, sizeof path, "%s/journal", f->state);
    /* Flip one byte of the I line's payload: its CRC no longer matches. */
    FILE *fp = fopen(path, "r+");
    char line[512];
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    long at = ftell(fp) + 12;
    fseek(fp, at, SEEK_SET);
    fputc('#', fp);
    fclose(fp);
    key_set again = {0};
    j = open_journal(f, &again, &nparts);
    assert_int_equal(nparts, 0);
    assert_int_equal(again.count, 0);
    journal_close(j);
    key_set_free(&again);
    key_set_free(&set);
    free(k);
}

static void test_compaction(void **state)
{
    fixture *f = *state;
    char gone[128];
    snprintf(gone, sizeof gone, "%s/gone.png", f->dir);
    write_file(f->file, "one");
    write_file(gone, "two");
    char *keys[2] = {key_of(f->file), key_of(gone)};
    key_set set = {0};
    size_t nparts;
    journal *j = open_journal(f, &set, &nparts);
    assert_int_equal(journal_commit(j, "p1", keys, 2), 0);
    assert_int_equal(key_set_put(&set, keys[0], KEY_COMMITTED), 0);
    assert_int_equal(key_set_put(&set, keys[1], KEY_COMMITTED), 0);
    assert_int_equal(key_set_put(&set, "/pending 1 1 1", KEY_PENDING), 0);
    unlink(gone);
    /* Under the limits: nothing happens. */
    uint64_t before = journal_size(j);
    assert_int_equal(journal_compact(j, &set, 0), 0);
    assert_int_equal(journal_size(j), before);
    assert_int_equal(journal_compact(j, &set, 1), 0);
    assert_int_equal(key_set_get(&set, keys[0]), KEY_COMMITTED);
    assert_int_equal(key_set_get(&set, keys[1]), -1); /* its file is gone */
    assert_int_equal(key_set_get(&set, "/pending 1 1 1"), KEY_PENDING);
    journal_close(j);
    key_set again = {0};
    j = open_journal(f, &again, &nparts);
    assert_int_equal(nparts, 0); /* compacted: no part lines left */
    assert_int_equal(again.count, 1);
    assert_int_equal(key_set_get(&again, keys[0]), KEY_COMMITTED);
    journal_close(j);
    key_set_free(&again);
    key_set_free(&set);
    free(keys[0]);
    free(keys[1]);
}

static void test_lock(void **state)
{
    fixture *f = *state;
    key_set set = {0}, other = {0};
    size_t nparts;
    journal *j = open_journal(f, &set, &nparts);
    char **parts = NULL;
    char err[256];
    journal *second = NULL;
    assert_int_equal(journal_open(f->state, &other, &parts, &nparts, &second, err, sizeof err),
                     -1);
    assert_null(second);
    assert_non_null(strstr(err, "in use by another imgclass-watch"));
    journal_close(j);
    journal_close(NULL);
    key_set_free(&set);
    key_set_free(&other);
}

static void test_key_set(void **state)
{
    (void)state;
    key_set s = {0};
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key%d", i);
        assert_int_equal(key_set_put(&s, k, i & 1), 0);
    }
    for (int i = 0; i < 5000; i += 2) {
        snprintf(k, sizeof k, "key%d", i);
        key_set_remove(&s, k);
    }
    assert_int_equal(s.count, 2500);
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key%d", i);
        assert_int_equal(key_set_get(&s, k), i % 2 ? 1 : -1);
    }
    key_set_free(&s);
    key_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_round_trip),
        cmocka_unit_test_setup_teardown(test_commit_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_and_uncommitted_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_line_stops_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test(test_key_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
