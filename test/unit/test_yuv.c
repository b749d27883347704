/* imgclass_image_wrap_yuv: argument checks, what the image reports,
 * borrowed = copied = the same frame at a padded stride, the BT.601
 * formula on hand-picked values, and a YUV image copied by the pipeline's
 * IMGCLASS_SUBMIT_COPY (the frame freed right after submit). Parity with
 * OpenCV is test/parity/yuv.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"

/* A w x h frame of `layout` in one buffer, tight, filled with a pattern. */
typedef struct frame {
    unsigned char *buf;
    imgclass_yuv_frame f;
} frame;

static frame make_frame(imgclass_pixel_format layout, int w, int h, unsigned seed)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    size_t ysz = (size_t)w * h, csz = (size_t)cw * ch;
    frame fr;
    fr.buf = malloc(ysz + 2 * csz);
    assert_non_null(fr.buf);
    for (size_t i = 0; i < ysz + 2 * csz; i++)
        fr.buf[i] = (unsigned char)((i * 2654435761u + seed * 40503u) >> 13);
    fr.f = imgclass_yuv_frame_default();
    fr.f.layout = layout;
    fr.f.width = w;
    fr.f.height = h;
    fr.f.planes[0] = fr.buf;
    fr.f.planes[1] = fr.buf + ysz;
    fr.f.planes[2] = layout == IMGCLASS_PIXEL_NV12 || layout == IMGCLASS_PIXEL_NV21
                         ? NULL
                         : fr.buf + ysz + csz;
    return fr;
}

/* Preprocesses with no resize, mean 0, std 1: ToTensor's v / 255. */
static float *identity(const imgclass_image *img)
{
    int w = imgclass_image_width(img), h = imgclass_image_height(img);
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    o.resize_mode = IMGCLASS_RESIZE_NONE;
    o.crop_width = w;
    o.crop_height = h;
    for (int c = 0; c < 3; c++)
        o.mean[c] = 0, o.std[c] = 1;
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_create(1, h, w, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_preprocess(img, &o, b, 0), IMGCLASS_OK);
    float *out = malloc((size_t)3 * w * h * sizeof(float));
    assert_non_null(out);
    memcpy(out, imgclass_batch_data(b), (size_t)3 * w * h * sizeof(float));
    imgclass_batch_free(b);
    return out;
}

static void expect_refused(const imgclass_yuv_frame *f, const char *words)
{
    imgclass_image *img = (imgclass_image *)0x1;
    assert_int_equal(imgclass_image_wrap_yuv(f, 0, &img), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_null(img);
    if (!strstr(imgclass_last_error(), words))
        fail_msg("message \"%s\" lacks \"%s\"", imgclass_last_error(), words);
}

static void test_arguments(void **state)
{
    (void)state;
    frame fr = make_frame(IMGCLASS_PIXEL_I420, 6, 4, 1);
    imgclass_yuv_frame f = fr.f;
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_wrap_yuv(NULL, 0, &img), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_wrap_yuv(&f, 0, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    f.layout = IMGCLASS_PIXEL_RGB;
    expect_refused(&f, "not NV12");
    f = fr.f, f.width = 0;
    expect_refused(&f, "size 0x4");
    f = fr.f, f.planes[2] = NULL;
    expect_refused(&f, "NULL V plane");
    f = fr.f, f.layout = IMGCLASS_PIXEL_YV12, f.planes[2] = NULL;
    expect_refused(&f, "NULL U plane");
    f = fr.f, f.strides[0] = 5;
    expect_refused(&f, "Y stride 5");
    f = fr.f, f.strides[1] = 2;
    expect_refused(&f, "U stride 2");
    f = fr.f, f.strides[0] = SIZE_MAX / 2;
    expect_refused(&f, "overflows");
    f = fr.f, f.matrix = (imgclass_yuv_matrix)7;
    expect_refused(&f, "unknown matrix");
    f = fr.f, f.range = (imgclass_yuv_range)-1;
    expect_refused(&f, "range -1");
    f = fr.f, f.struct_size = 0; /* not from imgclass_yuv_frame_default() */
    expect_refused(&f, "imgclass_yuv_frame_init()");
    f = fr.f, f.struct_size = 8; /* below any release's (larger: test_abi.c) */
    expect_refused(&f, "smaller than any release's imgclass_yuv_frame");
    /* imgclass_image_wrap() sends planar formats to wrap_yuv. */
    assert_int_equal(imgclass_image_wrap(fr.buf, 6, 4, 0, IMGCLASS_PIXEL_NV12, 0, &img),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "imgclass_image_wrap_yuv"));
    assert_int_equal(imgclass_pixel_format_bytes(IMGCLASS_PIXEL_NV12), 0);
    /* What a wrapped frame reports. */
    assert_int_equal(imgclass_image_wrap_yuv(&fr.f, 0, &img), IMGCLASS_OK);
    assert_int_equal(imgclass_image_format(img), IMGCLASS_PIXEL_I420);
    assert_int_equal(imgclass_image_width(img), 6);
    assert_int_equal(imgclass_image_height(img), 4);
    size_t stride = 0;
    assert_ptr_equal(imgclass_image_pixels(img, &stride), fr.buf);
    assert_int_equal(stride, 6);
    imgclass_image_free(img);
    free(fr.buf);
}

/* Y 16..235 -> 0..255 with neutral chroma; chroma extremes saturate. */
static void test_formula_by_hand(void **state)
{
    (void)state;
    /* 2x2 NV12: Y = 16, 235, 0, 126; U = 128, V = 128 -> gray levels
     * (max(0, Y-16) * 1220542 + 2^19) >> 20 = 0, 255, 0, 128. */
    unsigned char y[4] = {16, 235, 0, 126}, uv[2] = {128, 128};
    imgclass_yuv_frame f = imgclass_yuv_frame_default();
    f.width = f.height = 2;
    f.planes[0] = y;
    f.planes[1] = uv;
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_wrap_yuv(&f, 0, &img), IMGCLASS_OK);
    float *v = identity(img);
    static const int want[4] = {0, 255, 0, 128};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++)
            assert_true(v[c * 4 + i] == (float)want[i] / 255.0f);
    free(v);
    imgclass_image_free(img);
    /* Full range: Y as it is. */
    f.range = IMGCLASS_YUV_FULL;
    assert_int_equal(imgclass_image_wrap_yuv(&f, 0, &img), IMGCLASS_OK);
    v = identity(img);
    for (int i = 0; i < 4; i++)
        assert_true(v[i] == (float)y[i] / 255.0f);
    free(v);
    imgclass_image_free(img);
}

/* Saturated chroma, worked out by hand from OpenCV's BT.601 limited-range
 * fixed-point formula (lib/yuv.c, docs/preprocessing.md):
 *   y' = max(0, Y - 16) * 1220542, u = U - 128, v = V - 128, h = 2^19
 *   R = sat((y' + h + 1673527 v) >> 20)
 *   G = sat((y' + h - 852492 v - 409993 u) >> 20)
 *   B = sat((y' + h + 2116026 u) >> 20)
 * A 4x2 frame, two chroma samples: A (U 2, V 250) covers x 0..1, B (U 254,
 * V 3) covers x 2..3. So u, v = -126, 122 (A) and 126, -125 (B), and the
 * chroma terms are
 *   A: 1673527*122 = 204170294; -852492*122 - 409993*-126 = -52344906;
 *      2116026*-126 = -266619276
 *   B: 1673527*-125 = -209190875; -852492*-125 - 409993*126 = 54902382;
 *      2116026*126 = 266619276
 * and y' for Y 16, 60, 100, 180, 255 is 0, 53703848, 102525528, 200168888,
 * 291709538. Each sum + h, then >> 20 (floor), then clamped to 0..255, in
 * pixel order (row 0, x 0..3, then row 1):
 *   Y   chroma   R                       G                       B
 *   16  A    204694582 -> 195       -51820618 -> 0        -266094988 -> 0
 *   100 A    307220110 -> 255       50704910 -> 48        -163569460 -> 0
 *   16  B   -208666587 -> 0         55426670 -> 52         267143564 -> 254
 *   100 B   -106141059 -> 0        157952198 -> 150        369669092 -> 255
 *   255 A    496404120 -> 255      239888920 -> 228         25614550 -> 24
 *   180 A    404863470 -> 255      148348270 -> 141        -65926100 -> 0
 *   255 B     83042951 -> 79       347136208 -> 255        558853102 -> 255
 *   60  B   -154962739 -> 0        109130518 -> 104        320847412 -> 255
 * Every chroma coefficient meets a channel it does not saturate (R 195 and
 * 79, G 48..228, B 254 and 24) with |u| or |v| above 120: moving any one of
 * the four by 0.3% or more changes at least one byte (tried one unit at a
 * time when this case was written). U != V in both samples, so reading U
 * for V (NV12 as NV21, I420 as YV12) changes the result.
 * cv2.cvtColor(..., COLOR_YUV2RGB_NV12) gives these same bytes. */
static void test_saturated_chroma_by_hand(void **state)
{
    (void)state;
    enum { W = 4, H = 2 };
    static const unsigned char y[W * H] = {16, 100, 16, 100, 255, 180, 255, 60};
    static const unsigned char ua = 2, va = 250, ub = 254, vb = 3;
    static const int want[H][W][3] = {
        {{195, 0, 0}, {255, 48, 0}, {0, 52, 254}, {0, 150, 255}},
        {{255, 228, 24}, {255, 141, 0}, {79, 255, 255}, {0, 104, 255}},
    };
    /* The same two samples in each layout's storage order. */
    unsigned char nv12[4] = {ua, va, ub, vb}, nv21[4] = {va, ua, vb, ub};
    unsigned char uplane[2] = {ua, ub}, vplane[2] = {va, vb};
    struct {
        imgclass_pixel_format layout;
        const char *name;
        const unsigned char *p1, *p2;
    } cases[] = {
        {IMGCLASS_PIXEL_NV12, "NV12", nv12, NULL},
        {IMGCLASS_PIXEL_NV21, "NV21", nv21, NULL},
        {IMGCLASS_PIXEL_I420, "I420", uplane, vplane},
        {IMGCLASS_PIXEL_YV12, "YV12", vplane, uplane},
    };
    for (size_t l = 0; l < sizeof cases / sizeof cases[0]; l++) {
        imgclass_yuv_frame f = imgclass_yuv_frame_default();
        f.layout = cases[l].layout;
        f.width = W;
        f.height = H;
        f.planes[0] = y;
        f.planes[1] = cases[l].p1;
        f.planes[2] = cases[l].p2;
        imgclass_image *img = NULL;
        assert_int_equal(imgclass_image_wrap_yuv(&f, 0, &img), IMGCLASS_OK);
        float *v = identity(img);
        for (int r = 0; r < H; r++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) {
                    float got = v[(c * H + r) * W + x];
                    if (got != (float)want[r][x][c] / 255.0f)
                        fail_msg("%s pixel (%d,%d) channel %d: got %g (x255), expected %d",
                                 cases[l].name, x, r, c, (double)got * 255.0, want[r][x][c]);
                }
        free(v);
        imgclass_image_free(img);
    }
}

static void test_borrowed_copied_strided_agree(void **state)
{
    (void)state;
    static const imgclass_pixel_format layouts[] = {IMGCLASS_PIXEL_NV12, IMGCLASS_PIXEL_NV21,
                                                    IMGCLASS_PIXEL_I420, IMGCLASS_PIXEL_YV12};
    for (size_t l = 0; l < 4; l++) {
        frame fr = make_frame(layouts[l], 7, 5, (unsigned)l);
        imgclass_image *borrowed = NULL, *copied = NULL, *strided = NULL;
        assert_int_equal(imgclass_image_wrap_yuv(&fr.f, 0, &borrowed), IMGCLASS_OK);
        assert_int_equal(imgclass_image_wrap_yuv(&fr.f, 1, &copied), IMGCLASS_OK);
        /* The same planes with 3 bytes of padding per row. */
        int semi = fr.f.planes[2] == NULL, np = semi ? 2 : 3;
        size_t row[3] = {7, semi ? 8 : 4, 4};
        int rows[3] = {5, 3, 3};
        unsigned char *pad[3] = {NULL, NULL, NULL};
        imgclass_yuv_frame g = fr.f;
        for (int p = 0; p < np; p++) {
            pad[p] = malloc((row[p] + 3) * (size_t)rows[p]);
            assert_non_null(pad[p]);
            memset(pad[p], 0xEE, (row[p] + 3) * (size_t)rows[p]);
            for (int r = 0; r < rows[p]; r++)
                memcpy(pad[p] + r * (row[p] + 3), fr.f.planes[p] + r * row[p], row[p]);
            g.planes[p] = pad[p];
            g.strides[p] = row[p] + 3;
        }
        assert_int_equal(imgclass_image_wrap_yuv(&g, 0, &strided), IMGCLASS_OK);
        float *a = identity(borrowed);
        memset(fr.buf, 0, 7 * 5); /* the copy no longer depends on the frame */
        float *b = identity(copied), *c = identity(strided);
        assert_memory_equal(b, c, 3 * 7 * 5 * sizeof(float));
        assert_memory_equal(a, c, 3 * 7 * 5 * sizeof(float));
        free(a), free(b), free(c);
        for (int p = 0; p < np; p++)
            free(pad[p]);
        imgclass_image_free(borrowed);
        imgclass_image_free(copied);
        imgclass_image_free(strided);
        free(fr.buf);
    }
}

/* ---- the pipeline copies a YUV image with IMGCLASS_SUBMIT_COPY ---------- */

typedef struct got {
    pthread_mutex_t lock;
    int calls;
    imgclass_status status;
    float scores[5];
} got;

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    got *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->calls++;
    g->status = r->status;
    if (r->scores)
        memcpy(g->scores, r->scores, sizeof g->scores);
    pthread_mutex_unlock(&g->lock);
}

static void test_pipeline_copy(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    frame fr = make_frame(IMGCLASS_PIXEL_NV21, 13, 9, 5);
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_wrap_yuv(&fr.f, 0, &img), IMGCLASS_OK);
    /* co.preprocess points here (options hold it by pointer). */
    static imgclass_preprocess_options pre;
    pre = fx_preprocess_exact(8);
    imgclass_classify_options co = imgclass_classify_options_default();
    co.preprocess = &pre;
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = img};
    imgclass_results *r = NULL;
    assert_int_equal(imgclass_classify(m, &in, 1, &co, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);

    got g;
    memset(&g, 0, sizeof g);
    pthread_mutex_init(&g.lock, NULL);
    imgclass_pipeline_options po = imgclass_pipeline_options_default();
    po.preprocess = co.preprocess;
    po.on_result = on_result;
    po.on_result_ctx = &g;
    po.max_delay_us = -1; /* nothing runs before the flush */
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &po, &p), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_submit(p, &in, NULL, IMGCLASS_SUBMIT_COPY, NULL),
                     IMGCLASS_OK);
    imgclass_image_free(img); /* the pipeline holds its own copy */
    memset(fr.buf, 0, 13 * 9);
    free(fr.buf);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    imgclass_pipeline_free(p);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, IMGCLASS_OK);
    assert_memory_equal(g.scores, imgclass_results_scores(r, 0), sizeof g.scores);
    pthread_mutex_destroy(&g.lock);
    imgclass_results_free(r);
    imgclass_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_formula_by_hand),
        cmocka_unit_test(test_saturated_chroma_by_hand),
        cmocka_unit_test(test_borrowed_copied_strided_agree),
        cmocka_unit_test(test_pipeline_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
