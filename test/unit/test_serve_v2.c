/* imgclass-serve's Open Inference Protocol (KServe v2) parts that need no
 * HTTP or model (examples/serve/v2_json.c, the v2 routes of router.c):
 * routing, base64 (known vectors, round trips of random data, and random
 * garbage that must be refused or decoded within bounds), infer requests
 * parsed and refused with a reason, answers written. The HTTP behaviour is
 * tested with real clients by test/integration/serve_v2.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "span_assert.h"

#include "router.h"
#include "v2_json.h"

/* ------------------------------------------------------------ routes */

static void expect_v2(const char *method, const char *path, route_kind kind, const char *name,
                      const char *version)
{
    route r = route_api(method, path);
    if (r.kind != kind)
        fail_msg("%s %s: route %d, want %d", method, path, r.kind, kind);
    assert_int_equal(r.v2, 1);
    fx_assert_span(r.name, r.name_len, name);
    fx_assert_version(r.version, r.version_len, version);
}

static void test_routes(void **state)
{
    (void)state;
    expect_v2("GET", "/v2", ROUTE_V2_SERVER, NULL, NULL);
    expect_v2("HEAD", "/v2", ROUTE_V2_SERVER, NULL, NULL);
    expect_v2("GET", "/v2/health/live", ROUTE_V2_LIVE, NULL, NULL);
    expect_v2("GET", "/v2/health/ready", ROUTE_V2_READY, NULL, NULL);
    expect_v2("GET", "/v2/models/tiny", ROUTE_V2_MODEL, "tiny", NULL);
    expect_v2("GET", "/v2/models/tiny/versions/1.0", ROUTE_V2_MODEL, "tiny", "1.0");
    expect_v2("GET", "/v2/models/tiny/ready", ROUTE_V2_MODEL_READY, "tiny", NULL);
    expect_v2("GET", "/v2/models/m/versions/2/ready", ROUTE_V2_MODEL_READY, "m", "2");
    expect_v2("POST", "/v2/models/tiny/infer", ROUTE_V2_INFER, "tiny", NULL);
    expect_v2("POST", "/v2/models/t/versions/1.0/infer", ROUTE_V2_INFER, "t", "1.0");

    expect_v2("GET", "/v2/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("GET", "/v2/health", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("GET", "/v2/models", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("GET", "/v2/models/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("GET", "/v2/models/m/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("GET", "/v2/models/m/versions/", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("POST", "/v2/models/m/versions//infer", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("POST", "/v2/models/m/infer/x", ROUTE_NOT_FOUND, NULL, NULL);
    expect_v2("GET", "/v2/models/m/stats", ROUTE_NOT_FOUND, NULL, NULL);

    route r = route_api("GET", "/v2/models/m/infer");
    assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "POST");
    assert_int_equal(r.v2, 1);
    r = route_api("POST", "/v2/health/ready");
    assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET, HEAD");
    /* Not v2: /v2x is TorchServe's 404; the old routes are untouched. */
    assert_int_equal(route_api("GET", "/v2x").v2, 0);
    assert_int_equal(route_api("GET", "/ping").kind, ROUTE_PING);
    assert_int_equal(route_api("GET", "/ping").v2, 0);
}

/* ------------------------------------------------------------ base64 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A plain reference encoder (padded), independent of Nettle. */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int decode(const char *s, unsigned char *out, size_t *n)
{
    return v2_base64_decode(s, strlen(s), out, n);
}

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648, section 10 */
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        unsigned char out[16];
        size_t n = 99;
        assert_int_equal(decode(coded[i], out, &n), 0);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(out, plain[i], n);
    }
    unsigned char out[64];
    size_t n;
    /* MIME line breaks are skipped */
    assert_int_equal(decode("Zm9v\r\nYmFy\n", out, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);
    /* refused: outside the alphabet, missing or extra padding, a lone
     * character, data after the padding, URL-safe letters */
    static const char *bad[] = {"Zg=",  "Zg",   "Z",        "Z===", "Zm9v!", "Zg==Zg==",
                                "Zm-_", "Zg=x", "====",     "Zm9",  "\x80\x81\x82\x83",
                                "Zm9v\x00YmFy"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = i == sizeof bad / sizeof bad[0] - 1 ? 9 : strlen(bad[i]);
        if (v2_base64_decode(bad[i], len, out, &n) == 0)
            fail_msg("'%s' (case %zu) decoded to %zu bytes: want a refusal", bad[i], i, n);
    }
}

/* Random data round-trips through the reference encoder; random text,
 * and valid text with one byte changed, is refused or decoded within the
 * bound (a canary after the bound stays intact). */
static void test_base64_random(void **state)
{
    (void)state;
    srand(12345);
    unsigned char data[300], got[512];
    char text[512];
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)rand() % sizeof data;
        for (size_t i = 0; i < n; i++)
            data[i] = (unsigned char)rand();
        size_t tn = b64_encode(data, n, text);
        size_t out = 0;
        assert_true(v2_base64_max(tn) <= sizeof got);
        assert_int_equal(v2_base64_decode(text, tn, got, &out), 0);
        assert_int_equal(out, n);
        assert_memory_equal(got, data, n);

        /* mutate: a random byte at a random place */
        if (tn) {
            text[(size_t)rand() % tn] = (char)(rand() % 256);
            size_t max = v2_base64_max(tn);
            memset(got, 0xA5, sizeof got);
            if (v2_base64_decode(text, tn, got, &out) == 0)
                assert_true(out <= max);
            for (size_t i = max; i < sizeof got; i++)
                assert_int_equal(got[i], 0xA5);
        }
        /* garbage */
        size_t gn = (size_t)rand() % 200;
        for (size_t i = 0; i < gn; i++)
            text[i] = (char)(rand() % 256);
        size_t max = v2_base64_max(gn);
        memset(got, 0xA5, sizeof got);
        if (v2_base64_decode(text, gn, got, &out) == 0)
            assert_true(out <= max);
        for (size_t i = max; i < sizeof got; i++)
            assert_int_equal(got[i], 0xA5);
    }
}

/* ------------------------------------------------------------ requests */

static const v2_model_shape tiny = {3, 2, 2, 4};

static int parse_text(const char *json, v2_request *r, char *err, size_t n)
{
    return v2_request_parse(json, strlen(json), strlen(json), &tiny, r, err, n);
}

static void expect_refused(const char *json, const char *reason)
{
    v2_request r;
    char err[512] = "";
    if (parse_text(json, &r, err, sizeof err) == 0)
        fail_msg("accepted: %s", json);
    if (!strstr(err, reason))
        fail_msg("%s\n  refused with '%s', want '%s' in it", json, err, reason);
}

static void test_parse_fp32(void **state)
{
    (void)state;
    char json[2048], err[512];
    /* flat, with id and the classification extension */
    int o = snprintf(json, sizeof json,
                     "{\"id\": \"r-1\", \"inputs\": [{\"name\": \"input\", \"datatype\": "
                     "\"FP32\", \"shape\": [2, 3, 2, 2], \"data\": [");
    for (int i = 0; i < 24; i++)
        o += snprintf(json + o, sizeof json - (size_t)o, "%s%d.5", i ? ", " : "", i);
    snprintf(json + o, sizeof json - (size_t)o,
             "]}], \"outputs\": [{\"name\": \"output\", \"parameters\": "
             "{\"classification\": 3}}]}");
    v2_request r;
    assert_int_equal(parse_text(json, &r, err, sizeof err), 0);
    assert_string_equal(r.id, "r-1");
    assert_string_equal(r.input_name, "input");
    assert_int_equal(r.datatype, V2_FP32);
    assert_int_equal(r.n, 2);
    for (int i = 0; i < 24; i++)
        assert_true(r.floats[i] == (float)i + 0.5f);
    assert_int_equal(r.classification, 3);
    assert_int_equal(r.binary_output, 0);
    v2_request_free(&r);

    /* nested, integers */
    const char *nested = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": "
                         "[1, 3, 2, 2], \"data\": [[[1, 2], [3, 4]], [[5, 6], [7, 8]], "
                         "[[9, 10], [11, 12]]]}]}";
    assert_int_equal(parse_text(nested, &r, err, sizeof err), 0);
    assert_null(r.id);
    for (int i = 0; i < 12; i++)
        assert_true(r.floats[i] == (float)(i + 1));
    v2_request_free(&r);

    /* binary: 12 little-endian floats after the JSON, binary output */
    const char *hdr = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": "
                      "[1, 3, 2, 2], \"parameters\": {\"binary_data_size\": 48}}], "
                      "\"parameters\": {\"binary_data_output\": true}}";
    char body[1024];
    size_t hl = strlen(hdr);
    memcpy(body, hdr, hl);
    for (int i = 0; i < 12; i++) {
        float f = -1.25f * (float)i;
        uint32_t u;
        memcpy(&u, &f, 4);
        for (int b = 0; b < 4; b++)
            body[hl + 4 * (size_t)i + (size_t)b] = (char)(u >> (8 * b));
    }
    assert_int_equal(v2_request_parse(body, hl + 48, hl, &tiny, &r, err, sizeof err), 0);
    for (int i = 0; i < 12; i++)
        assert_true(r.floats[i] == -1.25f * (float)i);
    assert_int_equal(r.binary_output, 1);
    v2_request_free(&r);
    /* one byte short, one byte over */
    assert_int_equal(v2_request_parse(body, hl + 47, hl, &tiny, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "binary_data_size 48 is more than the 47 bytes"));
    assert_int_equal(v2_request_parse(body, hl + 49, hl, &tiny, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "49 bytes of binary data after the JSON"));
    /* the header longer than the body */
    assert_int_equal(v2_request_parse(body, hl, hl + 1, &tiny, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "Inference-Header-Content-Length"));
}

static void test_parse_bytes(void **state)
{
    (void)state;
    char err[512];
    v2_request r;
    const char *json = "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", "
                       "\"shape\": [2], \"data\": [\"Zm9v\", \"YmFyIQ==\"]}], "
                       "\"outputs\": [{\"name\": \"output\", \"parameters\": "
                       "{\"binary_data\": true}}]}";
    assert_int_equal(parse_text(json, &r, err, sizeof err), 0);
    assert_int_equal(r.datatype, V2_BYTES);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.elements[0].size, 3);
    assert_memory_equal(r.elements[0].data, "foo", 3);
    assert_int_equal(r.elements[1].size, 4);
    assert_memory_equal(r.elements[1].data, "bar!", 4);
    assert_int_equal(r.binary_output, 1);
    v2_request_free(&r);

    /* binary elements: length-prefixed, pointing into the body */
    const char *hdr = "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", "
                      "\"shape\": [2], \"parameters\": {\"binary_data_size\": 13}}]}";
    size_t hl = strlen(hdr);
    char body[512];
    memcpy(body, hdr, hl);
    memcpy(body + hl, "\x03\x00\x00\x00" "abc" "\x02\x00\x00\x00" "de", 13);
    assert_int_equal(v2_request_parse(body, hl + 13, hl, &tiny, &r, err, sizeof err), 0);
    assert_ptr_equal(r.elements[0].data, (const unsigned char *)body + hl + 4);
    assert_int_equal(r.elements[0].size, 3);
    assert_int_equal(r.elements[1].size, 2);
    assert_memory_equal(r.elements[1].data, "de", 2);
    v2_request_free(&r);
    /* a length past the end */
    memcpy(body + hl + 7, "\x09\x00\x00\x00", 4);
    assert_int_equal(v2_request_parse(body, hl + 13, hl, &tiny, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "binary element 1 claims 9 bytes, 2 are left"));
    /* elements ending before binary_data_size does */
    const char *hdr2 = "{\"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", "
                       "\"shape\": [1], \"parameters\": {\"binary_data_size\": 9}}]}";
    hl = strlen(hdr2);
    memcpy(body, hdr2, hl);
    memcpy(body + hl, "\x03\x00\x00\x00" "abcXY", 9);
    assert_int_equal(v2_request_parse(body, hl + 9, hl, &tiny, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "end after 7 bytes"));
}

static void test_parse_refusals(void **state)
{
    (void)state;
#define IN(dt, shape, rest)                                                                    \
    "{\"inputs\": [{\"name\": \"i\", \"datatype\": \"" dt "\", \"shape\": " shape rest "}]}"
    expect_refused("", "empty body");
    expect_refused("{", "ends before the value does");
    expect_refused("{\"inputs\": [}", "invalid JSON at byte 12");
    expect_refused("{} x", "invalid JSON at byte 3");
    expect_refused("[1]", "not an object");
    expect_refused("{}", "no \"inputs\" array");
    expect_refused("{\"inputs\": []}", "0 inputs: the model takes one");
    expect_refused("{\"id\": 5, \"inputs\": []}", "\"id\" is not a string");
    expect_refused("{\"inputs\": [1]}", "is not an object");
    expect_refused("{\"inputs\": [{\"datatype\": \"FP32\"}]}", "no \"name\" string");
    expect_refused("{\"inputs\": [{\"name\": \"i\"}]}", "input 'i' has no \"datatype\"");
    expect_refused(IN("INT8", "[1]", ", \"data\": [1]"),
                   "datatype 'INT8' is not accepted: send FP32 [-1, 3, 2, 2]");
    expect_refused(IN("FP32", "[1, 3, 2]", ", \"data\": [1]"), "shape [1,3,2] does not fit");
    expect_refused(IN("FP32", "[1, 3, 2, 3]", ", \"data\": [1]"), "shape [1,3,2,3] does not fit");
    expect_refused(IN("FP32", "[0, 3, 2, 2]", ", \"data\": []"), "shape [0,3,2,2] does not fit");
    expect_refused(IN("FP32", "[-1, 3, 2, 2]", ", \"data\": []"), "does not fit");
    expect_refused(IN("FP32", "[1, \"3\", 2, 2]", ", \"data\": []"), "does not fit");
    expect_refused(IN("FP32", "\"x\"", ", \"data\": []"), "shape \"x\" does not fit");
    expect_refused(IN("BYTES", "[1, 1]", ", \"data\": [\"Zg==\"]"), "shape [1,1] does not fit");
    expect_refused(IN("FP32", "[1, 3, 2, 2]", ""), "has no \"data\"");
    expect_refused(IN("FP32", "[1, 3, 2, 2]", ", \"data\": [1, 2, 3]"),
                   "wants 12 values in \"data\", got fewer");
    expect_refused(IN("FP32", "[1, 3, 2, 2]",
                      ", \"data\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]"),
                   "wants 12 values in \"data\", got more");
    expect_refused(IN("FP32", "[1, 3, 2, 2]",
                      ", \"data\": [1, 2, 3, 4, 5, \"6\", 7, 8, 9, 10, 11, 12]"),
                   "value 5 is not a number");
    expect_refused(IN("FP32", "[1, 3, 2, 2]",
                      ", \"data\": [1, 2, 3, 4, 5, null, 7, 8, 9, 10, 11, 12]"),
                   "value 5 is not a number");
    expect_refused(IN("FP32", "[1000, 3, 2, 2]", ", \"data\": [1]"),
                   "holds 12000 values, more than the");
    expect_refused(IN("BYTES", "[2]", ", \"data\": [\"Zg==\"]"), "got fewer");
    expect_refused(IN("BYTES", "[1]", ", \"data\": [7]"), "element 0 is not a string");
    expect_refused(IN("BYTES", "[2]", ", \"data\": [\"Zg==\", \"Zg=\"]"),
                   "element 1 is not valid base64");
    expect_refused(IN("BYTES", "[1]", ", \"data\": [\"Zg==\"], \"parameters\": "
                                      "{\"binary_data_size\": 0}"),
                   "both \"data\" and binary_data_size");
    expect_refused(IN("BYTES", "[1]", ", \"parameters\": {\"binary_data_size\": -1}"),
                   "binary_data_size is not a whole number");
    expect_refused(IN("BYTES", "[1]", ", \"parameters\": {\"binary_data_size\": 4}"),
                   "binary_data_size 4 is more than the 0 bytes");
    expect_refused(IN("BYTES", "[1]", ", \"parameters\": 3"), "\"parameters\" is not an object");
    const char *ok_input = "{\"inputs\": [{\"name\": \"i\", \"datatype\": \"BYTES\", "
                           "\"shape\": [1], \"data\": [\"Zg==\"]}]";
    char json[512];
    static const struct {
        const char *tail, *reason;
    } outputs[] = {
        {", \"outputs\": [{\"name\": \"probs\"}]}", "unknown output 'probs'"},
        {", \"outputs\": [{\"name\": \"output\"}, {\"name\": \"output\"}]}", "2 outputs"},
        {", \"outputs\": {}}", "\"outputs\" is not an array"},
        {", \"outputs\": [{\"name\": \"output\", \"parameters\": {\"classification\": 0}}]}",
         "classification is not a whole number >= 1"},
        {", \"outputs\": [{\"name\": \"output\", \"parameters\": {\"classification\": 1.5}}]}",
         "classification is not a whole number >= 1"},
        {", \"outputs\": [{\"name\": \"output\", \"parameters\": {\"binary_data\": 1}}]}",
         "binary_data is not true or false"},
        {", \"parameters\": {\"binary_data_output\": \"yes\"}}",
         "\"binary_data_output\" is not true or false"},
    };
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        snprintf(json, sizeof json, "%s%s", ok_input, outputs[i].tail);
        expect_refused(json, outputs[i].reason);
    }
    /* and the same request without them is accepted */
    snprintf(json, sizeof json, "%s}", ok_input);
    v2_request r;
    char err[256];
    assert_int_equal(parse_text(json, &r, err, sizeof err), 0);
    v2_request_free(&r);
#undef IN
}

/* ------------------------------------------------------------ answers */

static void test_answers(void **state)
{
    (void)state;
    const float scores[8] = {0.1f, 0.4f, 0.2f, 0.3f, 0.7f, 0.1f, 0.1f, 0.1f};
    v2_answer a = {.model_name = "tiny", .model_version = "1.0", .id = "x\"1", .scores = scores,
                   .n = 2, .classes = 4};
    size_t len = 0, jl = 0;
    char *s = v2_answer_encode(&a, &len, &jl);
    assert_non_null(s);
    assert_int_equal(len, jl);
    assert_string_equal(s, "{\"model_name\": \"tiny\", \"model_version\": \"1.0\", \"id\": "
                           "\"x\\\"1\", \"outputs\": [{\"name\": \"output\", \"datatype\": "
                           "\"FP32\", \"shape\": [2, 4], \"data\": [0.100000001, 0.400000006, "
                           "0.200000003, 0.300000012, 0.699999988, 0.100000001, 0.100000001, "
                           "0.100000001]}]}\n");
    free(s);

    /* classification, K clamped to the classes; no labels: score:index */
    a.id = NULL;
    a.classification = 2;
    s = v2_answer_encode(&a, &len, &jl);
    /* ties go to the lower index */
    assert_non_null(strstr(s, "\"datatype\": \"BYTES\", \"shape\": [2, 2], \"data\": "
                              "[\"0.400000006:1\", \"0.300000012:3\", \"0.699999988:0\", "
                              "\"0.100000001:1\"]"));
    assert_null(strstr(s, "\"id\""));
    free(s);
    a.classification = 99;
    s = v2_answer_encode(&a, &len, &jl);
    assert_non_null(strstr(s, "\"shape\": [2, 4]"));
    free(s);

    /* binary scores: the JSON says how many bytes follow */
    a.classification = 0;
    a.binary = 1;
    s = v2_answer_encode(&a, &len, &jl);
    assert_non_null(s);
    assert_int_equal(len, jl + 32);
    assert_non_null(strstr(s, "\"parameters\": {\"binary_data_size\": 32}"));
    assert_null(strstr(s, "\"data\""));
    float back[8];
    for (int i = 0; i < 8; i++) {
        const unsigned char *p = (const unsigned char *)s + jl + 4 * (size_t)i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        memcpy(&back[i], &u, 4);
    }
    assert_memory_equal(back, scores, sizeof back);
    free(s);

    /* binary classification: length-prefixed strings */
    a.classification = 1;
    s = v2_answer_encode(&a, &len, &jl);
    const char *want = "\x0d\x00\x00\x00" "0.400000006:1" "\x0d\x00\x00\x00" "0.699999988:0";
    assert_int_equal(len - jl, 34);
    assert_memory_equal(s + jl, want, 34);
    assert_non_null(strstr(s, "\"binary_data_size\": 34"));
    free(s);

    s = v2_error_body("bad \"thing\"", &len);
    assert_string_equal(s, "{\"error\": \"bad \\\"thing\\\"\"}\n");
    free(s);
    s = v2_model_ready("m-1", &len);
    assert_string_equal(s, "{\"name\": \"m-1\", \"ready\": true}\n");
    free(s);
    s = v2_server_metadata(&len);
    assert_non_null(strstr(s, "\"extensions\": [\"classification\", \"binary_tensor_data\"]"));
    free(s);
    s = v2_model_metadata("tiny", "1.0", &tiny, &len);
    assert_string_equal(
        s, "{\"name\": \"tiny\", \"versions\": [\"1.0\"], \"platform\": \"pytorch_torchscript\", "
           "\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [-1, 3, 2, 2]}, "
           "{\"name\": \"image\", \"datatype\": \"BYTES\", \"shape\": [-1]}], \"outputs\": "
           "[{\"name\": \"output\", \"datatype\": \"FP32\", \"shape\": [-1, 4]}]}\n");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),          cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_random),   cmocka_unit_test(test_parse_fp32),
        cmocka_unit_test(test_parse_bytes),     cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
