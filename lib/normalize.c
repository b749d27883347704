/* ToTensor + Normalize as float32 arithmetic, tabulated.
 *
 * Exactness depends on each operation being a separate float32 rounding:
 * no x87 extended precision (x86-64 uses SSE), no -ffast-math, and no
 * contraction of the subtract-divide into an FMA. GCC in ISO C mode
 * (-std=c11, as the Makefile builds) does not contract; clang honours the
 * pragma below. The `volatile` store of the quotient keeps even a
 * contracting compiler from fusing v / 255 into the subtraction. */
#include "normalize.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

void ic_norm_lut_init(ic_norm_lut *t, const float mean[3], const float std[3])
{
    for (int c = 0; c < 3; c++) {
        const float m = mean[c], s = std[c];
        for (int v = 0; v < 256; v++) {
            volatile float x = (float)v / 255.0f; /* ToTensor */
            t->lut[c][v] = (x - m) / s;           /* Normalize */
        }
    }
}
