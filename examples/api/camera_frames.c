/* camera_frames: classifying raw frames as a camera hands them over.
 *
 * Shows how to wrap pixels the program already has (no decoding): BGR
 * frames whose rows are padded, as many capture drivers deliver them, so
 * the row stride is larger than width * 3. One batch tensor is allocated
 * once and reused for every frame; each frame is preprocessed into it,
 * run with imgclass_predict(), and imgclass_topk() picks the best classes
 * from the scores. The frames here are synthetic (a moving gradient).
 *
 *   camera_frames MODEL.pt [FRAMES]     FRAMES 0 runs until SIGINT/SIGTERM
 *
 * Build: cc camera_frames.c $(pkg-config --cflags --libs imgclass) */
#define _POSIX_C_SOURCE 200809L
#include <imgclass.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { WIDTH = 320, HEIGHT = 240, STRIDE = WIDTH * 3 + 64, TOPK = 3 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Frame t of a synthetic camera: B, G, R bytes, then row padding. */
static void fill_frame(uint8_t *frame, int t)
{
    for (int y = 0; y < HEIGHT; y++) {
        uint8_t *row = frame + (size_t)y * STRIDE;
        for (int x = 0; x < WIDTH; x++) {
            row[3 * x] = (uint8_t)(x + 3 * t);     /* B */
            row[3 * x + 1] = (uint8_t)(y - 2 * t); /* G */
            row[3 * x + 2] = (uint8_t)(x ^ y);     /* R */
        }
    }
}

static int fail(const char *what)
{
    fprintf(stderr, "camera_frames: %s: %s\n", what, imgclass_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODEL.pt [FRAMES]\n", argv[0]);
        return 2;
    }
    long frames = argc == 3 ? strtol(argv[2], NULL, 10) : 20;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    imgclass_model *model = NULL;
    imgclass_batch *batch = NULL;
    uint8_t *frame = malloc((size_t)STRIDE * HEIGHT);
    float *scores = NULL;
    int rc = 1;
    if (!frame) {
        fprintf(stderr, "camera_frames: out of memory\n");
        return 1;
    }
    if (imgclass_model_load(argv[1], NULL, &model) != IMGCLASS_OK) {
        rc = fail("loading the model");
        goto done;
    }
    /* The model's own preprocessing (its recipe, or the ImageNet default),
     * and one batch of one image at the model's input size, made once. */
    imgclass_preprocess_options pre = imgclass_preprocess_options_default(); /* sets struct_size */
    int channels, height, width, classes = imgclass_model_num_classes(model);
    imgclass_model_input_size(model, &channels, &height, &width);
    scores = malloc((size_t)classes * sizeof *scores);
    if (!scores || imgclass_model_preprocess_options(model, &pre) != IMGCLASS_OK ||
        imgclass_batch_create(1, height, width, &batch) != IMGCLASS_OK) {
        rc = fail("setting up");
        goto done;
    }

    long n = 0;
    for (; (frames == 0 || n < frames) && !stop_requested; n++) {
        fill_frame(frame, (int)n);
        /* Borrow the frame (copy = 0): no copy, no RGB conversion pass;
         * the stride skips each row's padding. */
        imgclass_image *image = NULL;
        imgclass_class top[TOPK];
        int k;
        if (imgclass_image_wrap(frame, WIDTH, HEIGHT, STRIDE, IMGCLASS_PIXEL_BGR, 0, &image) !=
                IMGCLASS_OK ||
            imgclass_preprocess(image, &pre, batch, 0) != IMGCLASS_OK ||
            imgclass_predict(model, batch, scores, (size_t)classes) != IMGCLASS_OK ||
            imgclass_topk(model, scores, classes, TOPK, top, &k) != IMGCLASS_OK) {
            imgclass_image_free(image);
            rc = fail("frame");
            goto done;
        }
        imgclass_image_free(image);
        printf("frame %ld:", n);
        for (int i = 0; i < k; i++)
            printf(" %d %s (%.4f)", top[i].index, top[i].label ? top[i].label : "-",
                   top[i].score);
        printf("\n");
        fflush(stdout);
    }
    fprintf(stderr, "camera_frames: %ld frames%s\n", n, stop_requested ? ", stopped by a signal" : "");
    rc = 0;
done:
    imgclass_batch_free(batch);
    imgclass_model_free(model);
    free(scores);
    free(frame);
    return rc;
}
