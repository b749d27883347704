/* The YUV bench driver (bench/yuv_bench.py): the same 1920x1080 frame as
 * RGB, NV12 and I420, each preprocessed to the default 224 crop REPS times
 * a round, the three interleaved within each round. Prints one JSON line
 * per round: the milliseconds per frame of each layout.
 *   yuv_bench [ROUNDS [REPS]]
 * The frame's bytes are a seeded pattern: the conversion and the resize
 * do the same work whatever the pixels are. */
#include "imgclass.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { W = 1920, H = 1080 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(const char *what)
{
    fprintf(stderr, "yuv_bench: %s: %s\n", what, imgclass_last_error());
    return 1;
}

/* Milliseconds per imgclass_preprocess() of `image`, over `reps` calls. */
static double time_ms(const imgclass_image *image, imgclass_batch *batch, int reps, int *err)
{
    const double t0 = now();
    for (int i = 0; i < reps; i++)
        if (imgclass_preprocess(image, NULL, batch, 0) != IMGCLASS_OK)
            *err = 1;
    return (now() - t0) * 1e3 / reps;
}

int main(int argc, char **argv)
{
    const int rounds = argc > 1 ? atoi(argv[1]) : 5, reps = argc > 2 ? atoi(argv[2]) : 40;
    uint8_t *rgb = malloc((size_t)W * H * 3), *yuv = malloc((size_t)W * H * 3 / 2);
    if (!rgb || !yuv || rounds < 1 || reps < 1) {
        fprintf(stderr, "usage: yuv_bench [ROUNDS [REPS]] (or out of memory)\n");
        return 2;
    }
    uint32_t s = 1;
    for (size_t i = 0; i < (size_t)W * H * 3; i++)
        rgb[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 16);
    for (size_t i = 0; i < (size_t)W * H * 3 / 2; i++)
        yuv[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 16);
    imgclass_image *images[3];
    if (imgclass_image_wrap(rgb, W, H, (size_t)W * 3, IMGCLASS_PIXEL_RGB, 0, &images[0]))
        return fail("RGB frame");
    imgclass_yuv_frame f = imgclass_yuv_frame_default();
    f.width = W;
    f.height = H;
    f.planes[0] = yuv;
    f.strides[0] = W;
    f.planes[1] = yuv + (size_t)W * H;
    f.strides[1] = W;
    if (imgclass_image_wrap_yuv(&f, 0, &images[1]))
        return fail("NV12 frame");
    f.layout = IMGCLASS_PIXEL_I420;
    f.strides[1] = f.strides[2] = W / 2;
    f.planes[2] = yuv + (size_t)W * H + (size_t)(W / 2) * (H / 2);
    if (imgclass_image_wrap_yuv(&f, 0, &images[2]))
        return fail("I420 frame");
    imgclass_batch *batch;
    if (imgclass_batch_create(1, 224, 224, &batch))
        return fail("batch");
    int err = 0;
    for (int i = 0; i < 3; i++) /* warm caches and the CPU's clock */
        time_ms(images[i], batch, 2, &err);
    for (int r = 0; r < rounds && !err; r++) {
        double ms[3];
        for (int i = 0; i < 3; i++)
            ms[i] = time_ms(images[(i + r) % 3], batch, reps, &err);
        /* the order rotates each round; report by layout */
        double by[3];
        for (int i = 0; i < 3; i++)
            by[(i + r) % 3] = ms[i];
        printf("{\"rgb_ms\": %.4f, \"nv12_ms\": %.4f, \"i420_ms\": %.4f}\n", by[0], by[1], by[2]);
        fflush(stdout);
    }
    if (err)
        return fail("preprocess");
    for (int i = 0; i < 3; i++)
        imgclass_image_free(images[i]);
    imgclass_batch_free(batch);
    free(yuv);
    free(rgb);
    return 0;
}
