/* Internal: Pillow's BILINEAR and BICUBIC resize (libImaging/Resample.c,
 * Pillow 9.4), bit for bit, computed only for the output pixels a crop
 * keeps.
 *
 * Each axis gets a table of 22-bit fixed-point weights computed exactly as
 * Pillow computes them (double precision, then rounded); the horizontal
 * pass runs first over the source rows the vertical pass needs and stores
 * 8-bit results, then the vertical pass. */
#ifndef IMGCLASS_RESAMPLE_H
#define IMGCLASS_RESAMPLE_H

#include "imgclass.h"

#include <stddef.h>
#include <stdint.h>

/* Pillow's fixed-point precision for 8-bit images: 32 - 8 - 2. */
#define IC_PRECISION_BITS 22

/* The weights of outputs [first, first + count) of a resize from in_size
 * to out_size samples along one axis. */
typedef struct ic_resample_axis {
    int count;      /* outputs described */
    int ksize;      /* coefficient slots per output */
    int src_first;  /* first source index any of them reads */
    int src_end;    /* one past the last source index read */
    int *start;     /* per output: first source index, relative to src_first */
    int *taps;      /* per output: number of source samples (>= 1) */
    int32_t *coeffs; /* per output: ksize weights, the first `taps` used */
} ic_resample_axis;

/* Bytes of memory ic_resample_axis_init() needs (suitably aligned for
 * double: pass memory from malloc or offset by multiples of 8). */
size_t ic_resample_axis_bytes(int in_size, int out_size, int count, imgclass_interpolation interp);

/* The source samples [*src_first, *src_end) that outputs
 * [first, first + count) read, without building the table (the filter's
 * support decides how far the windows reach: 1 source pixel per unit of
 * scale for bilinear, 2 for bicubic). */
void ic_resample_axis_span(int in_size, int out_size, int first, int count,
                           imgclass_interpolation interp, int *src_first, int *src_end);

/* Fills `axis` in `mem`. When in_size == out_size the axis is the identity
 * (Pillow skips that pass; one weight of 1.0 gives the same bytes).
 * Requires 0 <= first, first + count <= out_size, count >= 1. */
void ic_resample_axis_init(ic_resample_axis *axis, int in_size, int out_size, int first, int count,
                           imgclass_interpolation interp, void *mem);

/* Non-zero makes the passes use only the portable code even where the CPU
 * has AVX2, so tests can check that both give the same bytes. Tests only:
 * not synchronised, set it before any preprocessing. */
extern int ic_resample_portable_only;

/* Bytes of scratch ic_resample_row_h() needs for `axis`. */
size_t ic_resample_row_scratch_bytes(const ic_resample_axis *axis);

/* Horizontal pass over one source row. `row` points at source column
 * axis->src_first of a row in `format`; writes axis->count bytes to each
 * of r, g, b (the row converted as Pillow's convert("RGB")). */
void ic_resample_row_h(const uint8_t *row, imgclass_pixel_format format,
                       const ic_resample_axis *axis, uint8_t *scratch, uint8_t *r, uint8_t *g,
                       uint8_t *b);

/* ic_resample_row_h() of a row that is already R,G,B,0 quadruples (a
 * converted YUV row): the AVX2 pass reads it as it is, without the copy a
 * row in IMGCLASS_PIXEL_RGBA gets. */
void ic_resample_row_h_rgbx(const uint8_t *rgbx, const ic_resample_axis *axis, uint8_t *scratch,
                            uint8_t *r, uint8_t *g, uint8_t *b);

/* Vertical pass for output `i` of `axis`: rows[j] is the 8-bit row of
 * source row axis->src_first + axis->start[i] + j (j < axis->taps[i]),
 * `width` samples wide; writes `width` bytes to `out`. */
void ic_resample_col_v(const uint8_t *const *rows, const ic_resample_axis *axis, int i, int width,
                       uint8_t *out);

#endif
