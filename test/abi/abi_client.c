/* A program that sets every field of every options struct and calls every
 * function that takes a struct, printing what it gets: the grown-library
 * test (test/integration/abi_grow.sh) builds it against one header and runs
 * it against another library, and compares the output.
 *   abi_client MODEL IMAGE.png         everything, printed
 *   abi_client MODEL IMAGE.png set     grown build only: each growable
 *       struct in turn with its appended field set; prints per struct
 *       "accepted" or the refusal message (today's library must refuse,
 *       naming the version it needs; the grown library accepts)
 * Only the public header: what any program of a user sees. */
#include "imgclass.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const imgclass_model *g_model;

static int die(const char *what)
{
    fprintf(stderr, "abi_client: %s: %s\n", what, imgclass_last_error());
    exit(1);
}

static imgclass_decode_options decode_opts(void)
{
    imgclass_decode_options d = imgclass_decode_options_default();
    d.max_pixels = 1000000;
    d.max_file_bytes = 1 << 20;
    d.max_decode_memory = 64 << 20;
    d.max_jpeg_scans = 50;
    d.exif_transpose = 1;
    return d;
}

static imgclass_preprocess_options preprocess_opts(void)
{
    imgclass_preprocess_options p = imgclass_preprocess_options_default();
    p.resize_mode = IMGCLASS_RESIZE_EXACT;
    p.resize_size = 100; /* unused by EXACT, set all the same */
    p.resize_width = p.resize_height = 8;
    p.crop_width = p.crop_height = 8;
    const float mean[3] = {0.5f, 0.4f, 0.3f}, std[3] = {0.2f, 0.25f, 0.3f};
    memcpy(p.mean, mean, sizeof mean);
    memcpy(p.std, std, sizeof std);
    p.fast = 1;
    p.interpolation = IMGCLASS_INTERP_BICUBIC;
    return p;
}

static imgclass_model_options model_opts(void)
{
    imgclass_model_options m = imgclass_model_options_default();
    m.device = "cpu";
    m.input_channels = 3;
    m.input_height = m.input_width = 8;
    m.softmax = 0;
    m.optimize = IMGCLASS_OPTIMIZE_FREEZE;
    m.warmup_runs = 0;
    m.qengine = NULL;
    m.max_model_bytes = 64 << 20;
    m.max_gzip_ratio = 10;
    m.precision = IMGCLASS_PRECISION_FLOAT32;
    return m;
}

static const int deny_one[1] = {1};

static imgclass_filter filter_opts(void)
{
    imgclass_filter f = imgclass_filter_default();
    f.score_threshold = -1e30f;
    f.deny_indices = deny_one;
    f.deny_index_count = 1;
    return f;
}

static imgclass_yuv_frame yuv_frame(const uint8_t *nv12)
{
    imgclass_yuv_frame y = imgclass_yuv_frame_default();
    y.layout = IMGCLASS_PIXEL_NV12;
    y.width = y.height = 8;
    y.planes[0] = nv12;
    y.planes[1] = nv12 + 64;
    y.strides[0] = 8;
    y.strides[1] = 8;
    y.matrix = IMGCLASS_YUV_BT709;
    y.range = IMGCLASS_YUV_FULL;
    return y;
}

static void print_top(const char *what, const imgclass_class *top, int k)
{
    printf("%s:", what);
    for (int i = 0; i < k; i++)
        printf(" %d (%.5f)", top[i].index, top[i].score);
    printf("\n");
}

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    (void)ctx;
    char what[64];
    snprintf(what, sizeof what, "pipeline seq %llu status %d", (unsigned long long)r->seq,
             (int)r->status);
    print_top(what, r->top, r->k);
}

static imgclass_pipeline_options pipeline_opts(const imgclass_decode_options *d,
                                               const imgclass_preprocess_options *p,
                                               const imgclass_filter *f)
{
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.max_batch = 2;
    o.max_delay_us = 1000;
    o.preprocess_threads = 1;
    o.queue_capacity = 4;
    o.topk = 2;
    o.decode = d;
    o.preprocess = p;
    o.on_result = on_result;
    o.on_result_ctx = NULL;
    o.ordered = 1;
    o.preprocess_nice = 5;
    o.filter = f;
    o.engine_lanes = 1; /* workers (preprocess_threads 1): one lane whatever this says */
    o.engine_lane_threads = 0;
    return o;
}

/* Everything, printed. */
static void run_all(const char *model_path, const char *image)
{
    imgclass_model_options mo = model_opts();
    imgclass_model *model = NULL;
    if (imgclass_model_load(model_path, &mo, &model) != IMGCLASS_OK)
        die("model_load");
    g_model = model;
    imgclass_decode_options d = decode_opts();
    imgclass_preprocess_options p = preprocess_opts();
    imgclass_filter f = filter_opts();

    imgclass_image_info info = {.struct_size = sizeof info};
    if (imgclass_image_probe(image, &d, &info) != IMGCLASS_OK)
        die("probe");
    printf("probe: format %d, %d x %d, orientation %d\n", (int)info.format, info.width,
           info.height, info.orientation);
    imgclass_image *img = NULL;
    if (imgclass_image_load(image, &d, &img) != IMGCLASS_OK)
        die("image_load");
    printf("image_load: %d x %d\n", imgclass_image_width(img), imgclass_image_height(img));
    imgclass_batch *b = NULL;
    if (imgclass_batch_create(2, 8, 8, &b) != IMGCLASS_OK ||
        imgclass_preprocess_file(image, &d, &p, b, 0) != IMGCLASS_OK)
        die("preprocess_file");
    uint8_t nv12[64 + 32];
    for (size_t i = 0; i < sizeof nv12; i++)
        nv12[i] = (uint8_t)(i * 29 + 7);
    imgclass_yuv_frame y = yuv_frame(nv12);
    imgclass_image *yimg = NULL;
    if (imgclass_image_wrap_yuv(&y, 1, &yimg) != IMGCLASS_OK ||
        imgclass_preprocess(yimg, &p, b, 1) != IMGCLASS_OK)
        die("yuv");
    int oh = 0, ow = 0;
    if (imgclass_preprocess_output_size(&p, 100, 50, &oh, &ow) != IMGCLASS_OK)
        die("output_size");
    printf("output_size: %d x %d\n", oh, ow);
    int K = imgclass_model_num_classes(model);
    float *scores = malloc(2 * (size_t)K * sizeof *scores);
    if (!scores || imgclass_predict(model, b, scores, 2 * (size_t)K) != IMGCLASS_OK)
        die("predict");
    imgclass_class top[8];
    int k = 0;
    for (int i = 0; i < 2; i++) {
        imgclass_topk(model, scores + i * K, K, 3, top, &k);
        print_top(i ? "predict yuv" : "predict file", top, k);
    }
    imgclass_preprocess_options mp = {.struct_size = sizeof mp};
    if (imgclass_model_preprocess_options(model, &mp) != IMGCLASS_OK)
        die("model_preprocess_options");
    printf("model preprocess: crop %d x %d\n", mp.crop_width, mp.crop_height);

    imgclass_classify_options co = imgclass_classify_options_default();
    co.topk = 3;
    co.decode = &d;
    co.preprocess = &p;
    co.preprocess_threads = 2;
    co.filter = &f;
    imgclass_input in[3] = {IMGCLASS_INPUT_FILE(image), IMGCLASS_INPUT_DECODED(yimg),
                            IMGCLASS_INPUT_FILE("/nonexistent.png")};
    imgclass_results *r = NULL;
    if (imgclass_classify(model, in, 3, &co, &r) != IMGCLASS_OK)
        die("classify");
    for (size_t i = 0; i < imgclass_results_count(r); i++) {
        const imgclass_class *t = imgclass_results_top(r, i, &k);
        char what[40];
        snprintf(what, sizeof what, "classify %zu status %d", i, (int)imgclass_results_status(r, i));
        print_top(what, t, k);
    }
    imgclass_results_free(r);

    imgclass_pipeline_options po = pipeline_opts(&d, &p, &f);
    imgclass_pipeline *pl = NULL;
    if (imgclass_pipeline_create(model, &po, &pl) != IMGCLASS_OK)
        die("pipeline_create");
    for (int i = 0; i < 3; i++)
        if (imgclass_pipeline_submit(pl, &in[i], NULL, 0, NULL) != IMGCLASS_OK)
            die("submit");
    imgclass_pipeline_flush(pl);
    imgclass_pipeline_stats st = {.struct_size = sizeof st};
    if (imgclass_pipeline_stats_get(pl, &st) != IMGCLASS_OK)
        die("stats");
    printf("stats: %llu submitted, %llu delivered, %llu failed, capacity %d\n",
           (unsigned long long)st.submitted, (unsigned long long)st.delivered,
           (unsigned long long)st.failed, st.queue_capacity);
    imgclass_pipeline_free(pl);
    imgclass_batch_free(b);
    imgclass_image_free(img);
    imgclass_image_free(yimg);
    free(scores);
    imgclass_model_free(model);
}

#ifdef IMGCLASS_TEST_GROW_STRUCTS
static void verdict(const char *what, imgclass_status st)
{
    if (st == IMGCLASS_OK)
        printf("%s: accepted\n", what);
    else
        printf("%s: refused: %s\n", what, imgclass_last_error());
}

/* Each growable struct with its appended field set. */
static void run_set(const char *model_path, const char *image)
{
    imgclass_model_options mo = model_opts();
    imgclass_model *model = NULL;
    mo.test_grown = 1;
    verdict("imgclass_model_options", imgclass_model_load(model_path, &mo, &model));
    imgclass_model_free(model);
    mo.test_grown = 0;
    if (imgclass_model_load(model_path, &mo, &model) != IMGCLASS_OK)
        die("model_load");
    imgclass_decode_options d = decode_opts();
    imgclass_preprocess_options p = preprocess_opts();
    imgclass_filter f = filter_opts();
    imgclass_image *img = NULL;
    d.test_grown = 1;
    verdict("imgclass_decode_options", imgclass_image_load(image, &d, &img));
    imgclass_image_free(img);
    d.test_grown = 0;
    imgclass_batch *b = NULL;
    if (imgclass_batch_create(1, 8, 8, &b) != IMGCLASS_OK)
        die("batch");
    p.test_grown = 1;
    verdict("imgclass_preprocess_options", imgclass_preprocess_file(image, &d, &p, b, 0));
    p.test_grown = 0;
    uint8_t nv12[96] = {0};
    imgclass_yuv_frame y = yuv_frame(nv12);
    y.test_grown = 1;
    verdict("imgclass_yuv_frame", imgclass_image_wrap_yuv(&y, 1, &img));
    imgclass_image_free(img);

    imgclass_classify_options co = imgclass_classify_options_default();
    co.preprocess = &p;
    imgclass_input in = IMGCLASS_INPUT_FILE(image);
    imgclass_results *r = NULL;
    co.test_grown = 1;
    verdict("imgclass_classify_options", imgclass_classify(model, &in, 1, &co, &r));
    imgclass_results_free(r);
    co.test_grown = 0;
    co.filter = &f;
    f.test_grown = 1;
    verdict("imgclass_filter", imgclass_classify(model, &in, 1, &co, &r));
    imgclass_results_free(r);
    f.test_grown = 0;
    in.test_grown = 1;
    verdict("imgclass_input", imgclass_classify(model, &in, 1, &co, &r));
    imgclass_results_free(r);
    in.test_grown = 0;

    imgclass_pipeline_options po = pipeline_opts(&d, &p, &f);
    imgclass_pipeline *pl = NULL;
    po.test_grown = 1;
    verdict("imgclass_pipeline_options", imgclass_pipeline_create(model, &po, &pl));
    imgclass_pipeline_free(pl);
    pl = NULL;
    po.test_grown = 0;
    if (imgclass_pipeline_create(model, &po, &pl) != IMGCLASS_OK)
        die("pipeline_create");
    in.test_grown = 1;
    verdict("imgclass_input (submit)", imgclass_pipeline_submit(pl, &in, NULL, 0, NULL));
    /* Output structs: the fields the library does not know come back 0. */
    imgclass_pipeline_stats st = {.struct_size = sizeof st, .test_grown = 7};
    imgclass_pipeline_stats_get(pl, &st);
    printf("imgclass_pipeline_stats.test_grown after stats_get: %d\n", (int)st.test_grown);
    imgclass_image_info info = {.struct_size = sizeof info, .test_grown = 7};
    imgclass_image_probe(image, NULL, &info);
    printf("imgclass_image_info.test_grown after probe: %d\n", (int)info.test_grown);
    imgclass_pipeline_free(pl);
    imgclass_batch_free(b);
    imgclass_model_free(model);
}
#endif

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: abi_client MODEL IMAGE [set]\n");
        return 2;
    }
    printf("library %s, header %s\n", imgclass_version(), IMGCLASS_VERSION);
    if (argc > 3 && !strcmp(argv[3], "set")) {
#ifdef IMGCLASS_TEST_GROW_STRUCTS
        run_set(argv[1], argv[2]);
        return 0;
#else
        fprintf(stderr, "abi_client: 'set' needs the grown build\n");
        return 2;
#endif
    }
    run_all(argv[1], argv[2]);
    return 0;
}
