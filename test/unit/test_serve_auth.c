/* imgclass-serve's bearer tokens (examples/serve/auth.c): the token file in
 * both shapes (one token; TorchServe's key file), the files refused and why,
 * and the check of an Authorization header in each scope. The HTTP side
 * (401, open paths) is tested with real clients by
 * test/integration/serve_security.sh. */
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

#include "auth.h"

static char dir[] = "/tmp/imgclass-auth-test.XXXXXX";

/* Writes a token file with the given mode; returns its path (static). */
static const char *token_file(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_plain_token(void **state)
{
    (void)state;
    auth_tokens t;
    assert_int_equal(auth_tokens_load(&t, token_file("plain", "s3cret-T0ken\n", 0600)), 0);
    assert_true(t.enabled);
    for (int s = AUTH_INFERENCE; s <= AUTH_MANAGEMENT; s++) {
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer s3cret-T0ken"), AUTH_OK);
        assert_int_equal(auth_check(&t, (auth_scope)s, "bearer  s3cret-T0ken "), AUTH_OK);
        assert_int_equal(auth_check(&t, (auth_scope)s, NULL), AUTH_MISSING);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Basic czNjcmV0"), AUTH_MISSING);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer"), AUTH_MISSING);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer "), AUTH_MISSING);
        assert_int_equal(auth_check(&t, (auth_scope)s, "s3cret-T0ken"), AUTH_MISSING);
        /* Same prefix, one byte more, one byte less, one byte different. */
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer s3cret-T0kenX"), AUTH_WRONG);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer s3cret-T0ke"), AUTH_WRONG);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer s3cret-T0keN"), AUTH_WRONG);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer S3cret-T0ken"), AUTH_WRONG);
        assert_int_equal(auth_check(&t, (auth_scope)s, "Bearer s3cret-T0ken extra"), AUTH_WRONG);
    }
    char longer[AUTH_TOKEN_MAX + 16];
    memset(longer, 'a', sizeof longer);
    memcpy(longer, "Bearer ", 7);
    longer[sizeof longer - 1] = 0;
    assert_int_equal(auth_check(&t, AUTH_INFERENCE, longer), AUTH_WRONG);
    auth_tokens_clear(&t);
}

static void test_torchserve_key_file(void **state)
{
    (void)state;
    auth_tokens t;
    const char *json = "{\n  \"management\": {\n    \"key\": \"B-E5KSRM\",\n"
                       "    \"expiration time\": \"2024-02-16T21:12:24.801167Z\"\n  },\n"
                       "  \"inference\": {\n    \"key\": \"gNRuA7dS\",\n"
                       "    \"expiration time\": \"2024-02-16T21:12:24.801148Z\"\n  },\n"
                       "  \"API\": {\n    \"key\": \"yv9uQajP\"\n  }\n}\n";
    assert_int_equal(auth_tokens_load(&t, token_file("key_file.json", json, 0640)), 0);
    assert_int_equal(auth_check(&t, AUTH_INFERENCE, "Bearer gNRuA7dS"), AUTH_OK);
    assert_int_equal(auth_check(&t, AUTH_MANAGEMENT, "Bearer B-E5KSRM"), AUTH_OK);
    /* Each token opens its own scope only; the API key opens neither. */
    assert_int_equal(auth_check(&t, AUTH_INFERENCE, "Bearer B-E5KSRM"), AUTH_WRONG);
    assert_int_equal(auth_check(&t, AUTH_MANAGEMENT, "Bearer gNRuA7dS"), AUTH_WRONG);
    assert_int_equal(auth_check(&t, AUTH_INFERENCE, "Bearer yv9uQajP"), AUTH_WRONG);
    assert_int_equal(auth_check(&t, AUTH_MANAGEMENT, "Bearer yv9uQajP"), AUTH_WRONG);
    auth_tokens_clear(&t);
}

static void test_refused_files(void **state)
{
    (void)state;
    auth_tokens t;
    char missing[256];
    snprintf(missing, sizeof missing, "%s/no-such-file", dir);
    assert_int_equal(auth_tokens_load(&t, missing), -1);
    assert_false(t.enabled);
    assert_int_equal(auth_tokens_load(&t, token_file("world", "tok\n", 0644)), -1);
    assert_int_equal(auth_tokens_load(&t, token_file("empty", "", 0600)), -1);
    assert_int_equal(auth_tokens_load(&t, token_file("blank", " \n\n", 0600)), -1);
    assert_int_equal(auth_tokens_load(&t, token_file("two", "one two\n", 0600)), -1);
    assert_int_equal(auth_tokens_load(&t, token_file("lines", "one\ntwo\n", 0600)), -1);
    assert_int_equal(auth_tokens_load(&t, token_file("badjson", "{\"inference\": ", 0600)), -1);
    assert_int_equal(
        auth_tokens_load(&t, token_file("nomgmt", "{\"inference\": {\"key\": \"a\"}}", 0600)),
        -1);
    assert_int_equal(auth_tokens_load(&t, token_file("notstr",
                                                     "{\"inference\": {\"key\": 5},"
                                                     " \"management\": {\"key\": \"b\"}}",
                                                     0600)),
                     -1);
    assert_int_equal(auth_tokens_load(&t, token_file("emptykey",
                                                     "{\"inference\": {\"key\": \"\"},"
                                                     " \"management\": {\"key\": \"b\"}}",
                                                     0600)),
                     -1);
    assert_int_equal(auth_tokens_load(&t, dir), -1); /* a folder */
    assert_false(t.enabled);
}

static void test_tokens_off(void **state)
{
    (void)state;
    auth_tokens t;
    auth_tokens_none(&t);
    assert_int_equal(auth_check(&t, AUTH_INFERENCE, NULL), AUTH_OK);
    assert_int_equal(auth_check(&t, AUTH_MANAGEMENT, "Bearer anything"), AUTH_OK);
}

static void test_open_paths(void **state)
{
    (void)state;
    assert_true(auth_request_is_open("GET", "/ping"));
    assert_true(auth_request_is_open("HEAD", "/ping"));
    assert_true(auth_request_is_open("GET", "/"));
    assert_true(auth_request_is_open("GET", "/v2/health/ready"));
    assert_true(auth_request_is_open("GET", "/v2/health/live"));
    assert_false(auth_request_is_open("OPTIONS", "/")); /* the API description */
    assert_false(auth_request_is_open("POST", "/ping"));
    assert_false(auth_request_is_open("GET", "/models"));
    assert_false(auth_request_is_open("GET", "/predictions/m"));
    assert_false(auth_request_is_open("GET", "/ping/"));
    assert_false(auth_request_is_open("GET", "//ping"));
    assert_false(auth_request_is_open("GET", "/v2"));
    assert_false(auth_request_is_open("GET", NULL));
    assert_false(auth_request_is_open(NULL, "/ping"));
    assert_non_null(strstr(auth_error_json(AUTH_MISSING), "\"error\""));
    assert_non_null(strstr(auth_error_json(AUTH_WRONG), "\"code\": 401"));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_token),
        cmocka_unit_test(test_torchserve_key_file),
        cmocka_unit_test(test_refused_files),
        cmocka_unit_test(test_tokens_off),
        cmocka_unit_test(test_open_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
