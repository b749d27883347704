/* imgclass-serve's management API, its pure parts (examples/serve): the
 * routing of the management paths, where a url= may load from (no
 * downloads, nothing outside the model store), the default model name, and
 * the lifecycle families of /metrics. The HTTP behaviour and the hot swap
 * are tested with real clients by test/integration/serve_models_api.sh. */
#define _DEFAULT_SOURCE /* mkdtemp, symlink */
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

#include "span_assert.h"

#include "management_router.h"
#include "metrics.h"
#include "model_store.h"

static void expect(const char *method, const char *path, mgmt_route_kind kind, const char *name,
                   const char *version)
{
    mgmt_route r = route_management(method, path);
    assert_int_equal(r.kind, kind);
    fx_assert_span(r.name, r.name_len, name);
    fx_assert_version(r.version, r.version_len, version);
}

static void test_routes(void **state)
{
    (void)state;
    expect("GET", "/models", MGMT_LIST, NULL, NULL);
    expect("HEAD", "/models", MGMT_LIST, NULL, NULL);
    expect("POST", "/models", MGMT_REGISTER, NULL, NULL);
    expect("GET", "/models/m", MGMT_DESCRIBE, "m", NULL);
    expect("GET", "/models/m/2.0", MGMT_DESCRIBE, "m", "2.0");
    expect("DELETE", "/models/m", MGMT_UNREGISTER, "m", NULL);
    expect("DELETE", "/models/m/1.0", MGMT_UNREGISTER, "m", "1.0");
    expect("POST", "/v2/repository/index", MGMT_V2_INDEX, NULL, NULL);
    expect("POST", "/v2/repository/models/m/load", MGMT_V2_LOAD, "m", NULL);
    expect("POST", "/v2/repository/models/m/unload", MGMT_V2_UNLOAD, "m", NULL);
    expect("GET", "/models//x", MGMT_NOT_FOUND, NULL, NULL);
    expect("GET", "/models/m/1/2", MGMT_NOT_FOUND, NULL, NULL);
    expect("POST", "/v2/repository/models//load", MGMT_NOT_FOUND, NULL, NULL);
    expect("POST", "/v2/repository/models/m/reload", MGMT_NOT_FOUND, NULL, NULL);
    expect("GET", "/predictions/m", MGMT_NOT_FOUND, NULL, NULL);
    mgmt_route r = route_management("PUT", "/models");
    assert_int_equal(r.kind, MGMT_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET, HEAD, POST");
    r = route_management("POST", "/models/m");
    assert_int_equal(r.kind, MGMT_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET, HEAD, DELETE");
    r = route_management("GET", "/v2/repository/index");
    assert_int_equal(r.kind, MGMT_METHOD_NOT_ALLOWED);
    r = route_management("GET", "/v2/repository/models/m/load");
    assert_int_equal(r.kind, MGMT_METHOD_NOT_ALLOWED);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static void expect_refused(const char *store, const char *url, const char *why)
{
    char out[4096], msg[4096];
    assert_int_equal(model_store_resolve(store, url, out, sizeof out, msg, sizeof msg), -1);
    if (!strstr(msg, why))
        fail_msg("url '%s': want '%s' in '%s'", url, why, msg);
}

static void test_store(void **state)
{
    (void)state;
    char top[] = "/tmp/imgclass-test-store.XXXXXX";
    assert_non_null(mkdtemp(top));
    char store[128], in[512], out_file[512], link[512], sub[512], deep[512];
    snprintf(store, sizeof store, "%s/store", top);
    snprintf(in, sizeof in, "%s/m.pt", store);
    snprintf(out_file, sizeof out_file, "%s/outside.pt", top);
    snprintf(link, sizeof link, "%s/link.pt", store);
    snprintf(sub, sizeof sub, "%s/sub", store);
    snprintf(deep, sizeof deep, "%s/sub/d.pt", store);
    assert_int_equal(mkdir(store, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    touch(in);
    touch(out_file);
    touch(deep);
    assert_int_equal(symlink(out_file, link), 0);

    char out[4096], msg[4096];
    assert_int_equal(model_store_resolve(store, "m.pt", out, sizeof out, msg, sizeof msg), 0);
    assert_string_equal(out, in);
    assert_int_equal(model_store_resolve(store, "sub/../sub/d.pt", out, sizeof out, msg,
                                         sizeof msg), 0);
    assert_string_equal(out, deep);
    assert_int_equal(model_store_resolve(store, in, out, sizeof out, msg, sizeof msg), 0);
    char file_url[600];
    snprintf(file_url, sizeof file_url, "file://%s", in);
    assert_int_equal(model_store_resolve(store, file_url, out, sizeof out, msg, sizeof msg), 0);
    assert_string_equal(out, in);

    expect_refused(store, "http://example.com/m.pt", "downloads are not supported");
    expect_refused(store, "HTTPS://example.com/m.pt", "downloads are not supported");
    expect_refused(store, "s3://bucket/m.pt", "unsupported scheme");
    expect_refused(store, "../outside.pt", "escapes the model store");
    expect_refused(store, out_file, "escapes the model store");
    expect_refused(store, "link.pt", "escapes the model store");
    expect_refused(store, "missing.pt", "No such file");
    expect_refused(store, "sub", "not a regular file");
    expect_refused(store, "", "url is empty");
    /* Without a store: any local file. */
    assert_int_equal(model_store_resolve(NULL, out_file, out, sizeof out, msg, sizeof msg), 0);
    expect_refused(NULL, "http://example.com/m.pt", "downloads are not supported");

    assert_int_equal(model_store_find(store, "m", out, sizeof out), 0);
    assert_string_equal(out, in);
    assert_int_equal(model_store_find(store, "nope", out, sizeof out), -1);
    assert_int_equal(model_store_find(NULL, "m", out, sizeof out), -1);

    unlink(link), unlink(deep), unlink(in), unlink(out_file);
    rmdir(sub), rmdir(store), rmdir(top);
}

static void test_names(void **state)
{
    (void)state;
    char name[80];
    assert_int_equal(model_store_default_name("/m/resnet18.pt", name, sizeof name), 0);
    assert_string_equal(name, "resnet18");
    assert_int_equal(model_store_default_name("a.b.ts", name, sizeof name), 0);
    assert_string_equal(name, "a.b");
    assert_int_equal(model_store_default_name("noext", name, sizeof name), 0);
    assert_string_equal(name, "noext");
    assert_int_equal(model_store_default_name("/m/bad name.pt", name, sizeof name), -1);
    assert_int_equal(model_store_default_name("/m/", name, sizeof name), -1);
    assert_true(model_name_valid("a-b_c.1", 7));
    assert_false(model_name_valid("a/b", 3));
    assert_false(model_name_valid("", 0));
}

static void test_lifecycle_metrics(void **state)
{
    (void)state;
    metrics_lifecycle m[2] = {{"a", "2.0", 2, 1}, {"b", NULL, 1, 1}};
    size_t len = 0;
    char *s = metrics_render_lifecycle(m, 2, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    assert_non_null(strstr(s, "# TYPE imgclass_model_loads_total counter\n"));
    assert_non_null(strstr(s, "imgclass_model_loads_total{model=\"a\"} 2\n"));
    assert_non_null(strstr(s, "imgclass_model_unloads_total{model=\"b\"} 1\n"));
    assert_non_null(strstr(s, "imgclass_model_info{model=\"a\",version=\"2.0\"} 1\n"));
    assert_null(strstr(s, "imgclass_model_info{model=\"b\""));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_lifecycle_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
