/* The compatibility rule of imgclass.h ("Compatibility"): every struct
 * that crosses the API carries struct_size; the library reads and writes
 * only that many bytes. Refused with IMGCLASS_ERR_INVALID_ARGUMENT and a
 * message naming the struct: a struct_size of 0, one below the struct's
 * 0.2.0 size, and a larger one (a newer caller's) with a byte set past the
 * fields this library knows ("needs a newer libimgclass than 0.2.0"); a
 * larger one whose extra bytes are 0 is accepted. Older callers' smaller
 * structs are covered by test/integration/abi_grow.sh (a grown library),
 * the layout itself by test/unit/test_layout.c. Also the run-time
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

/* A newer caller's struct: this header's, then EXTRA more bytes. */
#define EXTRA 16
#define NEWER(type) struct { type o; unsigned char extra[EXTRA]; }

/* The ways a struct_size can be wrong; each call below is made with each. */
enum bad { BAD_ZERO, BAD_SMALL, BAD_NEWER_SET, N_BAD };

/* Makes `o` (of `size` bytes, inside a NEWER wrapper whose extra bytes are
 * 0) wrong in way `b`; returns the struct_size given. */
static size_t make_bad(void *o, size_t size, enum bad b)
{
    /* Small: below every struct's first (0.2.0) size, struct_size and one
     * int (size - 8 would be an older caller's imgclass_model_options,
     * which has grown by 8 bytes since). */
    size_t given = b == BAD_ZERO ? 0 : b == BAD_SMALL ? sizeof(size_t) + 4 : size + EXTRA;
    memcpy(o, &given, sizeof given);
    if (b == BAD_NEWER_SET)
        ((unsigned char *)o)[size + 3] = 1; /* a newer field, set */
    return given;
}

/* The call failed with INVALID_ARGUMENT, and its message names `what` and
 * the size given, and says why. */
static void assert_refused(imgclass_status st, const char *what, size_t given)
{
    assert_int_equal(st, IMGCLASS_ERR_INVALID_ARGUMENT);
    const char *msg = imgclass_last_error();
    char head[160];
    snprintf(head, sizeof head, "%s: invalid argument: struct_size is %zu", what, given);
    if (strncmp(msg, head, strlen(head)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", msg, head);
    const char *why = given == 0 ? "zero-initialised"
                      : strstr(msg, "smaller") ? "smaller than any release's"
                                               : "needs a newer libimgclass than " IMGCLASS_VERSION;
    if (!strstr(msg, why))
        fail_msg("message \"%s\" does not say \"%s\"", msg, why);
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
    assert_int_equal(imgclass_filter_default().struct_size, sizeof(imgclass_filter));
    assert_int_equal(imgclass_yuv_frame_default().struct_size, sizeof(imgclass_yuv_frame));
    imgclass_classify_options c = imgclass_classify_options_default();
    assert_int_equal(c.struct_size, sizeof c);
    assert_null(c.decode); /* by pointer: NULL means the defaults */
    assert_null(c.preprocess);
    assert_null(c.filter);
    imgclass_pipeline_options p = imgclass_pipeline_options_default();
    assert_int_equal(p.struct_size, sizeof p);
    assert_null(p.decode);
    assert_null(p.preprocess);
    assert_null(p.filter);
}

/* _init writes exactly `size` bytes: the defaults, then zeros for a newer
 * caller's fields; a size below 0.2.0's is refused and nothing written. */
static void init_writes_size_bytes(void **state)
{
    (void)state;
    unsigned char buf[sizeof(imgclass_decode_options) + 2 * EXTRA];
    memset(buf, 0x77, sizeof buf);
    size_t size = sizeof(imgclass_decode_options) + EXTRA;
    assert_int_equal(imgclass_decode_options_init((imgclass_decode_options *)(void *)buf, size),
                     IMGCLASS_OK);
    imgclass_decode_options d;
    memcpy(&d, buf, sizeof d);
    assert_int_equal(d.struct_size, size);
    assert_true(d.max_pixels == IMGCLASS_DEFAULT_MAX_PIXELS);
    for (size_t i = sizeof d; i < size; i++)
        assert_int_equal(buf[i], 0);
    for (size_t i = size; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0x77); /* past the caller's size: untouched */
    memset(buf, 0x77, sizeof buf);
    assert_int_equal(imgclass_decode_options_init((imgclass_decode_options *)(void *)buf, 8),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "smaller than any release's"));
    assert_int_equal(buf[0], 0x77);
    assert_int_equal(imgclass_pipeline_options_init(NULL, sizeof(imgclass_pipeline_options)),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
}

static void decode_options(void **state)
{
    (void)state;
    imgclass_image *img = NULL;
    NEWER(imgclass_decode_options) newer = {imgclass_decode_options_default(), {0}};
    newer.o.struct_size = sizeof newer; /* a newer caller that left its fields 0 */
    assert_int_equal(imgclass_image_load_memory(ppm, sizeof ppm - 1, &newer.o, &img), IMGCLASS_OK);
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

    for (int b = 0; b < N_BAD; b++) {
        NEWER(imgclass_decode_options) o = {imgclass_decode_options_default(), {0}};
        size_t given = make_bad(&o, sizeof o.o, (enum bad)b);
        img = (imgclass_image *)&img;
        assert_refused(imgclass_image_load_memory(ppm, sizeof ppm - 1, &o.o, &img),
                       "imgclass_decode_options", given);
        assert_null(img);
        img = (imgclass_image *)&img;
        assert_refused(imgclass_image_load(path, &o.o, &img), "imgclass_decode_options", given);
        assert_null(img);
        assert_refused(imgclass_preprocess_file(path, &o.o, NULL, batch, 0),
                       "imgclass_decode_options", given);
        assert_refused(imgclass_preprocess_memory(ppm, sizeof ppm - 1, &o.o, NULL, batch, 0),
                       "imgclass_decode_options", given);
        imgclass_image_info info = {.struct_size = sizeof info};
        assert_refused(imgclass_image_probe(path, &o.o, &info), "imgclass_decode_options", given);
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
    NEWER(imgclass_preprocess_options) good = {imgclass_preprocess_options_default(), {0}};
    good.o.struct_size = sizeof good;
    assert_int_equal(imgclass_preprocess(img, &good.o, batch, 0), IMGCLASS_OK);

    for (int b = 0; b < N_BAD; b++) {
        NEWER(imgclass_preprocess_options) o = {imgclass_preprocess_options_default(), {0}};
        size_t given = make_bad(&o, sizeof o.o, (enum bad)b);
        assert_refused(imgclass_preprocess(img, &o.o, batch, 0), "imgclass_preprocess_options",
                       given);
        assert_refused(imgclass_preprocess_memory(ppm, sizeof ppm - 1, NULL, &o.o, batch, 0),
                       "imgclass_preprocess_options", given);
        int h = -1, w = -1;
        assert_refused(imgclass_preprocess_output_size(&o.o, 100, 100, &h, &w),
                       "imgclass_preprocess_options", given);
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
    for (int b = 0; b < N_BAD; b++) {
        NEWER(imgclass_model_options) o = {imgclass_model_options_default(), {0}};
        size_t given = make_bad(&o, sizeof o.o, (enum bad)b);
        imgclass_model *m = (imgclass_model *)&m;
        assert_refused(imgclass_model_load_memory(not_a_model, sizeof not_a_model, &o.o, &m),
                       "imgclass_model_options", given);
        assert_null(m);
        m = (imgclass_model *)&m;
        assert_refused(imgclass_model_load("/nonexistent/model.pt", &o.o, &m),
                       "imgclass_model_options", given); /* not an i/o error */
        assert_null(m);
    }
}

static imgclass_preprocess_options tiny_preprocess(void)
{
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    o.resize_mode = IMGCLASS_RESIZE_EXACT;
    o.resize_width = o.resize_height = 8;
    o.crop_width = o.crop_height = 8;
    return o;
}

static void classify_options(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_input in = IMGCLASS_INPUT_BUFFER(ppm, sizeof ppm - 1);
    imgclass_results *r = NULL;
    imgclass_preprocess_options pre = tiny_preprocess();
    imgclass_classify_options good = imgclass_classify_options_default();
    good.preprocess = &pre;
    assert_int_equal(imgclass_classify(m, &in, 1, &good, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);
    imgclass_results_free(r);

    for (int b = 0; b < N_BAD; b++) {
        NEWER(imgclass_classify_options) o = {good, {0}};
        size_t given = make_bad(&o, sizeof o.o, (enum bad)b);
        r = (imgclass_results *)&r;
        assert_refused(imgclass_classify(m, &in, 1, &o.o, &r), "imgclass_classify_options",
                       given);
        assert_null(r);
        /* Pointed at: the call fails as a whole, not per input. */
        NEWER(imgclass_decode_options) d = {imgclass_decode_options_default(), {0}};
        given = make_bad(&d, sizeof d.o, (enum bad)b);
        imgclass_classify_options oo = good;
        oo.decode = &d.o;
        assert_refused(imgclass_classify(m, &in, 1, &oo, &r), "imgclass_pipeline_options.decode",
                       given);
        assert_null(r);
        NEWER(imgclass_preprocess_options) pp = {pre, {0}};
        given = make_bad(&pp, sizeof pp.o, (enum bad)b);
        oo = good;
        oo.preprocess = &pp.o;
        assert_refused(imgclass_classify(m, &in, 1, &oo, &r),
                       "imgclass_pipeline_options.preprocess", given);
        NEWER(imgclass_filter) fl = {imgclass_filter_default(), {0}};
        given = make_bad(&fl, sizeof fl.o, (enum bad)b);
        oo = good;
        oo.filter = &fl.o;
        assert_refused(imgclass_classify(m, &in, 1, &oo, &r), "imgclass_pipeline_options.filter",
                       given);
        /* inputs[0] sets the array's stride: the call fails as a whole. */
        NEWER(imgclass_input) bad_in = {in, {0}};
        given = make_bad(&bad_in, sizeof bad_in.o, (enum bad)b);
        assert_refused(imgclass_classify(m, &bad_in.o, 1, &good, &r),
                       "imgclass_classify: inputs[0]", given);
        /* A later input: only its own slot fails. */
        NEWER(imgclass_input) pair[2] = {{in, {0}}, {in, {0}}};
        pair[0].o.struct_size = sizeof pair[0];
        given = make_bad(&pair[1], sizeof pair[1].o, (enum bad)b);
        pair[1].o.struct_size = b == BAD_NEWER_SET ? sizeof pair[1] : given;
        assert_int_equal(imgclass_classify(m, &pair[0].o, 2, &good, &r), IMGCLASS_OK);
        assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);
        assert_int_equal(imgclass_results_status(r, 1), IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(imgclass_results_error(r, 1),
                               b == BAD_NEWER_SET ? "needs a newer libimgclass"
                                                  : "differs from inputs[0]'s"));
        imgclass_results_free(r);
    }
    /* A newer caller's inputs whose extra bytes are 0: strided by their size. */
    NEWER(imgclass_input) two[2] = {{in, {0}}, {in, {0}}};
    two[0].o.struct_size = two[1].o.struct_size = sizeof two[0];
    two[1].o.size = 5; /* truncated: a per-input failure that proves the stride */
    imgclass_status two_st = imgclass_classify(m, &two[0].o, 2, &good, &r);
    if (two_st != IMGCLASS_OK)
        fail_msg("%s", imgclass_last_error());
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 1), IMGCLASS_ERR_CORRUPT);
    imgclass_results_free(r);

    /* An output struct: only struct_size bytes are written (a newer
     * caller's extra fields are only written, so whatever they hold). */
    for (int b = 0; b < BAD_NEWER_SET; b++) {
        NEWER(imgclass_preprocess_options) out;
        memset(&out, 0x33, sizeof out);
        size_t given = make_bad(&out, sizeof out.o, (enum bad)b);
        unsigned char before[sizeof out];
        memcpy(before, &out, sizeof out);
        assert_refused(imgclass_model_preprocess_options(m, &out.o),
                       "imgclass_model_preprocess_options: out", given);
        assert_memory_equal(&out, before, sizeof out); /* nothing written */
    }
    NEWER(imgclass_preprocess_options) out;
    memset(&out, 0x33, sizeof out);
    out.o.struct_size = sizeof out.o + 8;
    assert_int_equal(imgclass_model_preprocess_options(m, &out.o), IMGCLASS_OK);
    assert_int_equal(out.o.struct_size, sizeof out.o + 8); /* kept */
    assert_int_equal(out.o.crop_width, 224);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(out.extra[i], 0);    /* fields it does not know: 0 */
    assert_int_equal(out.extra[8], 0x33);     /* past the caller's size: untouched */
    imgclass_model_free(m);
}

static void on_result(void *ctx, const imgclass_pipeline_result *result)
{
    *(size_t *)ctx = result->struct_size;
}

static void pipeline_options(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_preprocess_options pre = tiny_preprocess();
    size_t result_size = 0;
    imgclass_pipeline_options good = imgclass_pipeline_options_default();
    good.preprocess = &pre;
    good.on_result = on_result;
    good.on_result_ctx = &result_size;
    good.preprocess_threads = 1;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &good, &p), IMGCLASS_OK);
    imgclass_input in = IMGCLASS_INPUT_BUFFER(ppm, sizeof ppm - 1);
    assert_int_equal(imgclass_pipeline_submit(p, &in, NULL, 0, NULL), IMGCLASS_OK);
    for (int b = 0; b < N_BAD; b++) {
        NEWER(imgclass_input) bad_in = {in, {0}};
        size_t given = make_bad(&bad_in, sizeof bad_in.o, (enum bad)b);
        assert_refused(imgclass_pipeline_submit(p, &bad_in.o, NULL, 0, NULL), "imgclass_input",
                       given);
    }
    imgclass_pipeline_flush(p);
    assert_int_equal(result_size, sizeof(imgclass_pipeline_result));
    imgclass_pipeline_free(p);

    for (int b = 0; b < N_BAD; b++) {
        NEWER(imgclass_pipeline_options) o = {good, {0}};
        size_t given = make_bad(&o, sizeof o.o, (enum bad)b);
        p = (imgclass_pipeline *)&p;
        assert_refused(imgclass_pipeline_create(m, &o.o, &p), "imgclass_pipeline_options", given);
        assert_null(p);
        NEWER(imgclass_decode_options) d = {imgclass_decode_options_default(), {0}};
        given = make_bad(&d, sizeof d.o, (enum bad)b);
        imgclass_pipeline_options oo = good;
        oo.decode = &d.o;
        assert_refused(imgclass_pipeline_create(m, &oo, &p), "imgclass_pipeline_options.decode",
                       given);
        NEWER(imgclass_preprocess_options) pp = {pre, {0}};
        given = make_bad(&pp, sizeof pp.o, (enum bad)b);
        oo = good;
        oo.preprocess = &pp.o;
        assert_refused(imgclass_pipeline_create(m, &oo, &p),
                       "imgclass_pipeline_options.preprocess", given);
    }

    assert_int_equal(imgclass_pipeline_create(m, &good, &p), IMGCLASS_OK);
    for (int b = 0; b < BAD_NEWER_SET; b++) { /* an output, as above */
        NEWER(imgclass_pipeline_stats) s;
        memset(&s, 0, sizeof s);
        size_t given = make_bad(&s, sizeof s.o, (enum bad)b);
        assert_refused(imgclass_pipeline_stats_get(p, &s.o), "imgclass_pipeline_stats", given);
    }
    imgclass_pipeline_free(p);
    imgclass_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_number),     cmocka_unit_test(defaults_set_struct_size),
        cmocka_unit_test(init_writes_size_bytes),
        cmocka_unit_test(decode_options),     cmocka_unit_test(preprocess_options),
        cmocka_unit_test(model_options),      cmocka_unit_test(classify_options),
        cmocka_unit_test(pipeline_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
