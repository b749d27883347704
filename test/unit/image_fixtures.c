/* Test helpers: see image_fixtures.h. */
#include "image_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

unsigned char *fx_pattern(int w, int h, int channels, unsigned seed)
{
    unsigned char *p = malloc((size_t)w * h * channels);
    if (!p)
        return NULL;
    unsigned state = seed * 2654435761u + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++) {
                state = state * 1103515245u + 12345u;
                int v = (x * (3 + c) + y * (5 - c) + (int)seed * 7) % 256;
                v += (int)((state >> 16) % 64) - 32; /* noise */
                if ((x / 7 + y / 5 + c) % 3 == 0)
                    v = 255 - v; /* sharp edges */
                p[((size_t)y * w + x) * channels + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return p;
}

unsigned char *fx_encode_jpeg(const unsigned char *pixels, int w, int h, int channels,
                              const fx_jpeg_params *params, int ycck, size_t *size)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    unsigned char *buf = NULL;
    unsigned long len = 0;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = channels;
    c.in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    if (channels == 4)
        jpeg_set_colorspace(&c, ycck ? JCS_YCCK : JCS_CMYK);
    jpeg_set_quality(&c, params->quality, TRUE);
    if (channels >= 3) {
        c.comp_info[0].h_samp_factor = params->h_samp;
        c.comp_info[0].v_samp_factor = params->v_samp;
        for (int i = 1; i < c.num_components; i++)
            c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
        if (channels == 4) /* K at full resolution like Y */
            c.comp_info[3].h_samp_factor = params->h_samp, c.comp_info[3].v_samp_factor = params->v_samp;
    }
    if (params->progressive)
        jpeg_simple_progression(&c);
    c.restart_in_rows = params->restart_rows;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)c.next_scanline * w * channels);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *size = len;
    return buf;
}

typedef struct fx_buffer {
    unsigned char *data;
    size_t size, cap;
    int failed;
} fx_buffer;

static void fx_append(void *ctx, void *data, int n)
{
    fx_buffer *b = ctx;
    if (b->failed || n <= 0)
        return;
    if (b->size + (size_t)n > b->cap) {
        size_t cap = (b->size + (size_t)n) * 2;
        unsigned char *bigger = realloc(b->data, cap);
        if (!bigger) {
            b->failed = 1;
            return;
        }
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->size, data, (size_t)n);
    b->size += (size_t)n;
}

unsigned char *fx_encode_stb(char kind, const unsigned char *pixels, int w, int h, int channels,
                             size_t *size)
{
    fx_buffer b = {0};
    int ok = 0;
    if (kind == 'p')
        ok = stbi_write_png_to_func(fx_append, &b, w, h, channels, pixels, w * channels);
    else if (kind == 'b')
        ok = stbi_write_bmp_to_func(fx_append, &b, w, h, channels, pixels);
    else if (kind == 't')
        ok = stbi_write_tga_to_func(fx_append, &b, w, h, channels, pixels);
    if (!ok || b.failed) {
        free(b.data);
        return NULL;
    }
    *size = b.size;
    return b.data;
}

char *fx_temp_file(const void *data, size_t size)
{
    char *path = strdup("/tmp/imgclass-test-XXXXXX");
    if (!path)
        return NULL;
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        if (f)
            fclose(f);
        else
            close(fd);
        unlink(path);
        free(path);
        return NULL;
    }
    fclose(f);
    return path;
}
