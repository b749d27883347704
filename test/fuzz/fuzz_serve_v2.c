/* Fuzz target for imgclass-serve's Open Inference Protocol request parser
 * and answer writer (examples/serve/v2_json.c): what a network client
 * sends, parsed against a 3x2x2 model of 4 classes. The first byte picks
 * the binary-data split (bit 0: the JSON is the whole body, else the next
 * two bytes give its length); the rest is the body. An accepted request
 * must hold what its shape says, and its answer, with made-up scores, must
 * be written in every mode. A refusal, never a crash, a leak or a read
 * outside the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "v2_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int split = data[0] & 1;
    size_t json_len = (size_t)data[1] | (size_t)data[2] << 8;
    const char *body = (const char *)data + 3;
    size_t len = size - 3;
    if (!split)
        json_len = len;
    /* A copy of exactly the body, so that ASan sees any read past it. */
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    memcpy(copy, body, len);
    const v2_model_shape shape = {3, 2, 2, 4};
    v2_request r;
    char err[512];
    if (v2_request_parse(copy, len, json_len, &shape, &r, err, sizeof err) == 0) {
        if (r.n < 1 || !r.input_name)
            abort();
        if (r.datatype == V2_FP32 && !r.floats)
            abort();
        if (r.datatype == V2_BYTES) {
            for (size_t i = 0; i < r.n; i++) {
                const unsigned char *p = r.elements[i].data;
                size_t n = r.elements[i].size;
                int in_body = p >= (const unsigned char *)copy &&
                              p + n <= (const unsigned char *)copy + len;
                if (!p && n)
                    abort();
                if (n && !in_body && !r.decoded)
                    abort();
                volatile unsigned char sum = 0;
                for (size_t j = 0; j < n; j++)
                    sum ^= p[j]; /* every byte readable */
                (void)sum;
            }
        }
        float *scores = calloc(r.n * 4, sizeof *scores);
        if (scores) {
            for (size_t i = 0; i < r.n * 4; i++)
                scores[i] = (float)(i % 7) / 7.0f;
            v2_answer a = {.model_name = "m", .model_version = "1.0", .id = r.id,
                           .scores = scores, .n = r.n, .classes = 4,
                           .classification = r.classification, .binary = r.binary_output};
            size_t out_len = 0, out_json = 0;
            char *out = v2_answer_encode(&a, &out_len, &out_json);
            if (out && out_json > out_len)
                abort();
            free(out);
            free(scores);
        }
        v2_request_free(&r);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(copy);
    return 0;
}
