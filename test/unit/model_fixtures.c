/* See model_fixtures.h. */
#include "model_fixtures.h"
#include "skip_note.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

const char *fx_model_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("IMGCLASS_TEST_MODELS");
    if (!dir || !*dir)
        fail_msg("IMGCLASS_TEST_MODELS is not set (run through test/run_all.sh)");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

unsigned char *fx_model_read(const char *name, size_t *size)
{
    const char *path = fx_model_path(name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

float *fx_model_floats(const char *name, size_t count)
{
    size_t size;
    unsigned char *data = fx_model_read(name, &size);
    if (size != count * sizeof(float))
        fail_msg("%s holds %zu bytes, expected %zu floats", name, size, count);
    return (float *)data;
}

imgclass_preprocess_options fx_preprocess_exact(int side)
{
    imgclass_preprocess_options pre = imgclass_preprocess_options_default();
    pre.resize_mode = IMGCLASS_RESIZE_EXACT;
    pre.resize_width = pre.resize_height = side;
    pre.crop_width = pre.crop_height = side;
    return pre;
}

imgclass_model *fx_model_load(const char *name, unsigned optimize, int height, int width)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.optimize = optimize;
    o.input_height = height;
    o.input_width = width;
    imgclass_model *m = NULL;
    imgclass_status st = imgclass_model_load(fx_model_path(name), &o, &m);
    if (st != IMGCLASS_OK)
        fail_msg("loading %s: %s", name, imgclass_last_error());
    return m;
}

void fx_model_assert_close(const float *a, const float *b, size_t n, float tol)
{
    for (size_t i = 0; i < n; i++) {
        float scale = fabsf(b[i]) > 1.0f ? fabsf(b[i]) : 1.0f;
        if (!(fabsf(a[i] - b[i]) <= tol * scale))
            fail_msg("element %zu: got %.9g, expected %.9g (tolerance %g)", i, a[i], b[i], tol);
    }
}

void fx_model_require_int8(const char *test)
{
    FILE *f = fopen(fx_model_path("tiny_int8.pt"), "rb");
    if (f) {
        fclose(f);
        return;
    }
    char why[256] = "";
    FILE *none = fopen(fx_model_path("tiny_int8.none"), "r");
    int marked = none != NULL;
    if (none) {
        if (!fgets(why, sizeof why, none))
            why[0] = '\0';
        fclose(none);
        why[strcspn(why, "\n")] = '\0';
    }
    if (!strncmp(why, "no onednn:", 10)) {
        fx_skip_note(test, why);
        skip();
    }
    fail_msg("tiny_int8.pt is missing: %s",
             !marked ? "no tiny_int8.none says why (make_test_models.py did not make it)"
             : why[0] ? why : "tiny_int8.none is empty");
}
