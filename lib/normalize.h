/* Internal: ToTensor + Normalize through a per-channel lookup table. */
#ifndef IMGCLASS_NORMALIZE_H
#define IMGCLASS_NORMALIZE_H

/* lut[c][v] is the float32 torchvision gives an 8-bit value v of channel c:
 * ((float)v / 255.0f - mean[c]) / std[c], two float32 roundings. A table
 * reproduces it bit for bit; multiplying by 1/std would not. */
typedef struct ic_norm_lut {
    float lut[3][256];
} ic_norm_lut;

void ic_norm_lut_init(ic_norm_lut *t, const float mean[3], const float std[3]);

#endif
