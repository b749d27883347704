/* imgclass-serve's pure parts (examples/serve): routing, the status each
 * library error maps to, the JSON bodies and the Prometheus text. Linked
 * in as the server links them (the Makefile names their objects). The HTTP
 * behaviour itself is tested with real clients by
 * test/integration/serve_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "span_assert.h"

#include "json_buf.h"
#include "metrics.h"
#include "responses.h"
#include "router.h"
#include "text_escape.h"

static void expect_route(const char *method, const char *path, route_kind kind,
                         const char *name, const char *version)
{
    route r = route_api(method, path);
    assert_int_equal(r.kind, kind);
    fx_assert_span(r.name, r.name_len, name);
    if (version || kind == ROUTE_PREDICT || kind == ROUTE_MODEL)
        fx_assert_version(r.version, r.version_len, version);
}

static void test_routes(void **state)
{
    (void)state;
    expect_route("GET", "/", ROUTE_PAGE, NULL, NULL);
    expect_route("HEAD", "/", ROUTE_PAGE, NULL, NULL);
    expect_route("OPTIONS", "/", ROUTE_DESCRIBE_API, NULL, NULL);
    expect_route("OPTIONS", "/predictions/m", ROUTE_DESCRIBE_API, NULL, NULL);
    expect_route("GET", "/ping", ROUTE_PING, NULL, NULL);
    expect_route("GET", "/models", ROUTE_MODELS, NULL, NULL);
    expect_route("GET", "/models/resnet-18", ROUTE_MODEL, "resnet-18", NULL);
    expect_route("GET", "/models/m/1.0", ROUTE_MODEL, "m", "1.0");
    expect_route("POST", "/predictions/m", ROUTE_PREDICT, "m", NULL);
    expect_route("PUT", "/predictions/m", ROUTE_PREDICT, "m", NULL);
    expect_route("POST", "/predictions/m/1.0", ROUTE_PREDICT, "m", "1.0");
    /* not found: empty or extra parts, unknown paths, trailing slashes */
    expect_route("POST", "/predictions/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_route("POST", "/predictions/m/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_route("POST", "/predictions/m/1.0/x", ROUTE_NOT_FOUND, NULL, NULL);
    expect_route("POST", "/predictions//1.0", ROUTE_NOT_FOUND, NULL, NULL);
    expect_route("GET", "/ping/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_route("GET", "/metrics", ROUTE_NOT_FOUND, NULL, NULL);
    expect_route("GET", "", ROUTE_NOT_FOUND, NULL, NULL);
    /* wrong methods name what is allowed */
    route r = route_api("GET", "/predictions/m");
    assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "POST, PUT, OPTIONS");
    r = route_api("DELETE", "/ping");
    assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET, HEAD, OPTIONS");
    assert_int_equal(route_api(NULL, "/").kind, ROUTE_NOT_FOUND);

    assert_int_equal(route_metrics("GET", "/metrics").kind, ROUTE_METRICS);
    assert_int_equal(route_metrics("HEAD", "/metrics").kind, ROUTE_METRICS);
    assert_int_equal(route_metrics("POST", "/metrics").kind, ROUTE_METHOD_NOT_ALLOWED);
    assert_int_equal(route_metrics("GET", "/").kind, ROUTE_NOT_FOUND);
}

static void test_status_mapping(void **state)
{
    (void)state;
    assert_int_equal(resp_http_status(IMGCLASS_OK), 200);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_CORRUPT), 400);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_UNSUPPORTED), 400);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_TOO_LARGE), 400);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_BUSY), 503);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_CLOSED), 503);
    /* the engine's failures are the server's fault */
    assert_int_equal(resp_http_status(IMGCLASS_ERR_ENGINE), 500);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_OUT_OF_MEMORY), 500);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_MODEL), 500);
    assert_int_equal(resp_http_status(IMGCLASS_ERR_DEVICE), 500);
}

static void test_json_bodies(void **state)
{
    (void)state;
    size_t len = 0;
    char *s = resp_error(404, "ModelNotFoundException", "Model not found: a\"b", &len);
    assert_non_null(s);
    assert_string_equal(s, "{\n  \"code\": 404,\n  \"type\": \"ModelNotFoundException\",\n"
                           "  \"message\": \"Model not found: a\\\"b\"\n}\n");
    assert_int_equal(len, strlen(s));
    free(s);

    imgclass_class top[3] = {{2, 0.5f, "tabby, tabby cat", "n02123045"},
                             {0, 0.25f, NULL, NULL},
                             {7, 0.125f, "caf\xc3\xa9\n", NULL}};
    s = resp_predictions_torchserve(top, 3, &len);
    assert_non_null(s);
    assert_string_equal(s, "{\n  \"tabby, tabby cat\": 0.5,\n  \"0\": 0.25,\n"
                           "  \"caf\xc3\xa9\\n\": 0.125\n}\n");
    free(s);
    s = resp_predictions_torchserve(top, 0, &len);
    assert_string_equal(s, "{}\n");
    free(s);

    resp_timing t = {.batch_size = 4, .queued_us = 10, .preprocess_us = 20, .forward_us = 30,
                     .total_us = 100.4};
    s = resp_predictions_imgclass("m", top, 2, &t, &len);
    assert_non_null(s);
    assert_string_equal(s, "{\"model\": \"m\", \"top\": [{\"index\": 2, \"label\": \"tabby, tabby "
                           "cat\", \"probability\": 0.5}, {\"index\": 0, \"label\": null, "
                           "\"probability\": 0.25}], \"batch_size\": 4, \"queued_us\": 10, "
                           "\"preprocess_us\": 20, \"forward_us\": 30, \"latency_us\": 100}\n");
    free(s);

    s = resp_ping(&len);
    assert_string_equal(s, "{\n  \"status\": \"Healthy\"\n}\n");
    free(s);
}

static void test_metrics_text(void **state)
{
    (void)state;
    metrics_model m[1];
    memset(m, 0, sizeof m);
    m[0].name = "tiny";
    m[0].version = "1.0";
    m[0].max_batch_seen = 6;
    m[0].stats.delivered = 10;
    m[0].stats.latency_sum_us = 1234.5;
    m[0].stats.queued_sum_us = 99;
    m[0].stats.batches_full = 1;
    m[0].stats.batches_deadline = 2;
    m[0].stats.batches_flush = 4;
    m[0].stats.batched_images = 9;
    m[0].stats.preprocess_sum_us = 31;
    m[0].stats.forward_sum_us = 32;
    m[0].stats.submitted = 12;
    m[0].stats.failed = 2;
    m[0].stats.queue_depth = 3;
    m[0].stats.queue_capacity = 64;
    m[0].stats.latency_buckets[0] = 3; /* <= 50 us */
    m[0].stats.latency_buckets[2] = 5; /* <= 200 us */
    m[0].stats.latency_buckets[IMGCLASS_LATENCY_BUCKETS - 1] = 2;
    metrics_http http;
    memset(&http, 0, sizeof http);
    http.responses[metrics_http_index(200)] = 7;
    http.responses[metrics_http_index(413)] = 1;
    http.responses[metrics_http_index(418)] = 1; /* "other" */
    size_t len = 0;
    char *s = metrics_render(m, 1, &http, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    const char *want[] = {
        "# TYPE ts_inference_requests_total counter\n",
        "\nts_inference_requests_total{model_name=\"tiny\",model_version=\"1.0\"} 10\n",
        "\nts_inference_latency_microseconds{model_name=\"tiny\",model_version=\"1.0\"} 1234.5\n",
        "\nts_queue_latency_microseconds{model_name=\"tiny\",model_version=\"1.0\"} 99\n",
        "cut=\"full\"} 1\n",
        "cut=\"deadline\"} 2\n",
        "cut=\"flush\"} 4\n",
        "# TYPE imgclass_batches_total counter\n",
        "\nimgclass_preprocess_microseconds_total{model_name=\"tiny\",model_version=\"1.0\"} 31\n",
        "\nimgclass_forward_microseconds_total{model_name=\"tiny\",model_version=\"1.0\"} 32\n",
        "\nimgclass_images_submitted_total{model_name=\"tiny\",model_version=\"1.0\"} 12\n",
        "\nimgclass_images_failed_total{model_name=\"tiny\",model_version=\"1.0\"} 2\n",
        "\nimgclass_batched_images_total{model_name=\"tiny\",model_version=\"1.0\"} 9\n",
        "\nimgclass_batch_size_max{model_name=\"tiny\",model_version=\"1.0\"} 6\n",
        "# TYPE imgclass_batch_size_max gauge\n",
        "\nimgclass_queue_depth{model_name=\"tiny\",model_version=\"1.0\"} 3\n",
        "\nimgclass_queue_capacity{model_name=\"tiny\",model_version=\"1.0\"} 64\n",
        /* cumulative buckets */
        "imgclass_latency_microseconds_bucket{model_name=\"tiny\",model_version=\"1.0\",le=\"50\"} 3\n",
        "imgclass_latency_microseconds_bucket{model_name=\"tiny\",model_version=\"1.0\",le=\"100\"} 3\n",
        "imgclass_latency_microseconds_bucket{model_name=\"tiny\",model_version=\"1.0\",le=\"200\"} 8\n",
        "imgclass_latency_microseconds_bucket{model_name=\"tiny\",model_version=\"1.0\",le=\"+Inf\"} 10\n",
        "imgclass_latency_microseconds_count{model_name=\"tiny\",model_version=\"1.0\"} 10\n",
        "imgclass_http_responses_total{code=\"200\"} 7\n",
        "imgclass_http_responses_total{code=\"413\"} 1\n",
        "imgclass_http_responses_total{code=\"other\"} 1\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(s, want[i]))
            fail_msg("metrics text lacks: %s\n--- got:\n%s", want[i], s);
    /* every sample line is "name{labels} value" or "name value" */
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        char *end;
        strtod(sp + 1, &end);
        assert_true(*end == '\0');
    }
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_json_bodies),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
