/* Test helpers: encoded images made inside the tests (no files needed).
 * Linked into every unit test binary; all symbols start with fx_. */
#ifndef IMGCLASS_TEST_IMAGE_FIXTURES_H
#define IMGCLASS_TEST_IMAGE_FIXTURES_H

#include <stddef.h>

/* A w x h image with `channels` interleaved 8-bit channels: smooth
 * gradients plus pseudo-random noise from `seed`, so that chroma
 * upsampling and DCT rounding both matter. malloc'd. */
unsigned char *fx_pattern(int w, int h, int channels, unsigned seed);

typedef struct fx_jpeg_params {
    int quality;     /* 1..100 */
    int h_samp;      /* luma sampling factors: 2x2 = 4:2:0, 2x1 = 4:2:2, */
    int v_samp;      /* 1x1 = 4:4:4, 1x2 = 4:4:0 */
    int progressive; /* jpeg_simple_progression */
    int restart_rows;/* restart interval in MCU rows, 0 = none */
} fx_jpeg_params;

/* Encodes with libjpeg: channels 1 (gray), 3 (RGB, stored as YCbCr) or
 * 4 (CMYK, stored as Adobe YCCK when ycck, else CMYK). Returns a malloc'd
 * JPEG and its size, NULL on failure. */
unsigned char *fx_encode_jpeg(const unsigned char *pixels, int w, int h, int channels,
                              const fx_jpeg_params *params, int ycck, size_t *size);

/* PNG / BMP / TGA / GIF-free formats through stb_image_write, in memory.
 * kind: 'p' PNG, 'b' BMP, 't' TGA (RLE). malloc'd, NULL on failure. */
unsigned char *fx_encode_stb(char kind, const unsigned char *pixels, int w, int h, int channels,
                             size_t *size);

/* Writes `size` bytes to a new temporary file; returns its malloc'd path
 * (unlink and free it), NULL on failure. */
char *fx_temp_file(const void *data, size_t size);

#endif
