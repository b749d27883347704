/* The ABI guard: every options struct that crosses the API (nested ones
 * included) carries struct_size; a size the library does not know (too
 * small: an older header; too large: a newer one; 0: a zero-initialised
 * struct) is refused with IMGCLASS_ERR_INVALID_ARGUMENT and a message that
 * names the struct, before anything else happens. Also the run-time
 * version number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"

/* Sizes a caller of another header version could hand in, and 0. */
static const size_t bad_delta[] = {0, 8, (size_t)-8};
#define N_BAD (sizeof bad_delta / sizeof bad_delta[0])

static size_t bad_size(size_t real, size_t i)
{
    return bad_delta[i] == 0 ? 0 : real + bad_delta[i]; /* 0, +8, -8 */
}

/* The call failed with INVALID_ARGUMENT, and its message names `what`, the
 * size given (and the library's), and says how to fill the struct. */
static void assert_refused_how(imgclass_status st, const char *what, size_t given,
                               const char *how)
{
    assert_int_equal(st, IMGCLASS_ERR_INVALID_ARGUMENT);
    const char *msg = imgclass_last_error();
    char head[160];
    snprintf(head, sizeof head, "%s: invalid argument: struct_size is %zu", what, given);
    if (strncmp(msg, head, strlen(head)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", msg, head);
    assert_non_null(strstr(msg, given == 0 ? "zero-initialised" : "this library's is"));
    assert_non_null(strstr(msg, how));
}

static void assert_refused(imgclass_status st, const char *what, size_t given)
{
    /* "imgclass_classify_options.decode" is filled by
     * imgclass_decode_options_default(). */
    const char *type = strrchr(what, '.') ? NULL : what;
    char how[96];
    if (type)
        snprintf(how, sizeof how, "%s_default()", type);
    else if (strstr(what, ".decode"))
        snprintf(how, sizeof how, "imgclass_decode_options_default()");
    else
        snprintf(how, sizeof how, "imgclass_preprocess_options_default()");
    assert_refused_how(st, what, given, how);
}

/* A valid 2 x 2 binary PPM: the calls below would succeed but for the
 * struct size. */
static const unsigned char ppm[] = "P6\n2 2\n255\n"
                                   "\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0";

static void version_number(void **state)
{
    (void)state;
    assert_int_equal(imgclass_version_number(), IMGCLASS_VERSION_NUMBER);
    char s[32];
    snprintf(s, sizeof s, "%d.%d.%d", imgclass_version_number() / 10000,
             imgclass_version_number() / 100 % 100, imgclass_version_number() % 100);
    assert_string_equal(s, imgclass_version());
}

static void defaults_set_struct_size(void **state)
{
    (void)state;
    assert_int_equal(imgclass_decode_options_default().struct_size,
                     sizeof(imgclass_decode_options));
    assert_int_equal(imgclass_preprocess_options_default().struct_size,
                     sizeof(imgclass_preprocess_options));
    assert_int_equal(imgclass_preprocess_options_djl().struct_size,
                     sizeof(imgclass_preprocess_options));
    assert_int_equal(imgclass_model_options_default().struct_size,
                     sizeof(imgclass_model_options));
    imgclass_classify_options c = imgclass_classify_options_default();
    assert_int_equal(c.struct_size, sizeof c);
    assert_int_equal(c.decode.struct_size, sizeof c.decode);
    assert_int_equal(c.preprocess.struct_size, sizeof c.preprocess);
    imgclass_pipeline_options p = imgclass_pipeline_options_default();
    assert_int_equal(p.struct_size, sizeof p);
    assert_int_equal(p.decode.struct_size, sizeof p.decode);
    assert_int_equal(p.preprocess.struct_size, sizeof p.preprocess);
}

static void decode_options(void **state)
{
    (void)state;
    imgclass_image *img = NULL;
    imgclass_decode_options good = imgclass_decode_options_default();
    assert_int_equal(imgclass_image_load_memory(ppm, sizeof ppm - 1, &good, &img), IMGCLASS_OK);
    imgclass_image_free(img);

    char path[] = "/tmp/imgclass_abi_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(ppm, 1, sizeof ppm - 1, f), sizeof ppm - 1);
    fclose(f);
    imgclass_batch *batch = NULL;
    assert_int_equal(imgclass_batch_create(1, 224, 224, &batch), IMGCLASS_OK);

    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_decode_options o = good;
        o.struct_size = bad_size(sizeof o, i);
        img = (imgclass_image *)&img;
        assert_refused(imgclass_image_load_memory(ppm, sizeof ppm - 1, &o, &img),
                       "imgclass_decode_options", o.struct_size);
        assert_null(img);
        img = (imgclass_image *)&img;
        assert_refused(imgclass_image_load(path, &o, &img), "imgclass_decode_options",
                       o.struct_size);
        assert_null(img);
        assert_refused(imgclass_preprocess_file(path, &o, NULL, batch, 0),
                       "imgclass_decode_options", o.struct_size);
        assert_refused(imgclass_preprocess_memory(ppm, sizeof ppm - 1, &o, NULL, batch, 0),
                       "imgclass_decode_options", o.struct_size);
    }
    imgclass_batch_free(batch);
    remove(path);
}

static void preprocess_options(void **state)
{
    (void)state;
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_load_memory(ppm, sizeof ppm - 1, NULL, &img), IMGCLASS_OK);
    imgclass_batch *batch = NULL;
    assert_int_equal(imgclass_batch_create(1, 224, 224, &batch), IMGCLASS_OK);
    imgclass_preprocess_options good = imgclass_preprocess_options_default();
    assert_int_equal(imgclass_preprocess(img, &good, batch, 0), IMGCLASS_OK);

    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_preprocess_options o = good;
        o.struct_size = bad_size(sizeof o, i);
        assert_refused(imgclass_preprocess(img, &o, batch, 0), "imgclass_preprocess_options",
                       o.struct_size);
        assert_refused(imgclass_preprocess_memory(ppm, sizeof ppm - 1, NULL, &o, batch, 0),
                       "imgclass_preprocess_options", o.struct_size);
        int h = -1, w = -1;
        assert_refused(imgclass_preprocess_output_size(&o, 100, 100, &h, &w),
                       "imgclass_preprocess_options", o.struct_size);
        assert_int_equal(h, -1); /* untouched */
    }
    imgclass_batch_free(batch);
    imgclass_image_free(img);
}

/* Refused before the engine module is even looked for: this test needs no
 * model. */
static void model_options(void **state)
{
    (void)state;
    static const unsigned char not_a_model[] = "PK\3\4 not really";
    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_model_options o = imgclass_model_options_default();
        o.struct_size = bad_size(sizeof o, i);
        imgclass_model *m = (imgclass_model *)&m;
        assert_refused(imgclass_model_load_memory(not_a_model, sizeof not_a_model, &o, &m),
                       "imgclass_model_options", o.struct_size);
        assert_null(m);
        m = (imgclass_model *)&m;
        assert_refused(imgclass_model_load("/nonexistent/model.pt", &o, &m),
                       "imgclass_model_options", o.struct_size); /* not an i/o error */
        assert_null(m);
    }
}

static imgclass_classify_options tiny_classify(void)
{
    imgclass_classify_options o = imgclass_classify_options_default();
    o.preprocess.resize_mode = IMGCLASS_RESIZE_EXACT;
    o.preprocess.resize_width = o.preprocess.resize_height = 8;
    o.preprocess.crop_width = o.preprocess.crop_height = 8;
    return o;
}

static void classify_options(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_input in = {.kind = IMGCLASS_INPUT_MEMORY, .data = ppm, .size = sizeof ppm - 1};
    imgclass_results *r = NULL;
    imgclass_classify_options good = tiny_classify();
    assert_int_equal(imgclass_classify(m, &in, 1, &good, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);
    imgclass_results_free(r);

    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_classify_options o = good;
        o.struct_size = bad_size(sizeof o, i);
        r = (imgclass_results *)&r;
        assert_refused(imgclass_classify(m, &in, 1, &o, &r), "imgclass_classify_options",
                       o.struct_size);
        assert_null(r);
        /* Nested: the call fails as a whole, not per input. */
        o = good;
        o.decode.struct_size = bad_size(sizeof o.decode, i);
        assert_refused(imgclass_classify(m, &in, 1, &o, &r), "imgclass_classify_options.decode",
                       o.decode.struct_size);
        assert_null(r);
        o = good;
        o.preprocess.struct_size = bad_size(sizeof o.preprocess, i);
        assert_refused(imgclass_classify(m, &in, 1, &o, &r),
                       "imgclass_classify_options.preprocess", o.preprocess.struct_size);
        assert_null(r);
    }
    /* An output struct the library writes whole: its size is checked too. */
    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_preprocess_options out;
        memset(&out, 0x33, sizeof out);
        out.struct_size = bad_size(sizeof out, i);
        imgclass_preprocess_options before = out;
        assert_refused_how(imgclass_model_preprocess_options(m, &out),
                           "imgclass_model_preprocess_options: out", before.struct_size,
                           "imgclass_preprocess_options_default()");
        assert_memory_equal(&out, &before, sizeof out); /* nothing written */
    }
    imgclass_preprocess_options out = imgclass_preprocess_options_default();
    assert_int_equal(imgclass_model_preprocess_options(m, &out), IMGCLASS_OK);
    imgclass_model_free(m);
}

static void on_result(void *ctx, const imgclass_pipeline_result *result)
{
    (void)ctx;
    (void)result;
}

static void pipeline_options(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_pipeline_options good = imgclass_pipeline_options_default();
    good.preprocess = tiny_classify().preprocess;
    good.on_result = on_result;
    good.preprocess_threads = 1;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &good, &p), IMGCLASS_OK);
    imgclass_pipeline_free(p);

    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_pipeline_options o = good;
        o.struct_size = bad_size(sizeof o, i);
        p = (imgclass_pipeline *)&p;
        assert_refused(imgclass_pipeline_create(m, &o, &p), "imgclass_pipeline_options",
                       o.struct_size);
        assert_null(p);
        o = good;
        o.decode.struct_size = bad_size(sizeof o.decode, i);
        assert_refused(imgclass_pipeline_create(m, &o, &p), "imgclass_pipeline_options.decode",
                       o.decode.struct_size);
        o = good;
        o.preprocess.struct_size = bad_size(sizeof o.preprocess, i);
        assert_refused(imgclass_pipeline_create(m, &o, &p),
                       "imgclass_pipeline_options.preprocess", o.preprocess.struct_size);
    }

    assert_int_equal(imgclass_pipeline_create(m, &good, &p), IMGCLASS_OK);
    for (size_t i = 0; i < N_BAD; i++) {
        imgclass_pipeline_stats s;
        memset(&s, 0, sizeof s);
        s.struct_size = bad_size(sizeof s, i);
        assert_refused_how(imgclass_pipeline_stats_get(p, &s), "imgclass_pipeline_stats",
                           s.struct_size, "sizeof(imgclass_pipeline_stats)");
    }
    imgclass_pipeline_free(p);
    imgclass_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_number),     cmocka_unit_test(defaults_set_struct_size),
        cmocka_unit_test(decode_options),     cmocka_unit_test(preprocess_options),
        cmocka_unit_test(model_options),      cmocka_unit_test(classify_options),
        cmocka_unit_test(pipeline_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
