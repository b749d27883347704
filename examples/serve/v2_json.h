/* The bodies of the Open Inference Protocol (KServe v2) REST API, without
 * HTTP or a running model, so that they are unit-tested on their own
 * (test/unit/test_serve_v2.c): an infer request parsed and checked against
 * the model's shape, and the answers written.
 *
 * A model takes one input, either
 *   FP32  [N, C, H, W]  a preprocessed batch (C, H, W the model's), or
 *   BYTES [N]           N encoded images (base64 strings in JSON; in the
 *                       binary-data extension each element is a 4-byte
 *                       little-endian length, then the bytes),
 * and gives one output, "output": FP32 [N, classes] (the model's scores),
 * or with the classification extension ("parameters": {"classification": K}
 * on the requested output) BYTES [N, K] of "score:index[:label]" strings,
 * best first. The binary-data extension: the body is the JSON header, its
 * length in the Inference-Header-Content-Length header, followed by each
 * input's bytes in input order (its "binary_data_size" parameter says how
 * many); an output asks for binary data with "binary_data": true (or the
 * request with "binary_data_output": true), and its bytes then follow the
 * answer's JSON. Binary FP32 is little-endian IEEE 754. */
#ifndef IMGCLASS_SERVE_V2_JSON_H
#define IMGCLASS_SERVE_V2_JSON_H

#include <imgclass.h>

#include <stddef.h>
#include <stdint.h>

#define V2_OUTPUT_NAME "output"
/* The input names the metadata declares; a request may name its one input
 * anything: the datatype says which it is. */
#define V2_INPUT_TENSOR "input"
#define V2_INPUT_IMAGES "image"

typedef enum v2_datatype { V2_FP32, V2_BYTES } v2_datatype;

/* What the model takes and gives: a request is checked against it. */
typedef struct v2_model_shape {
    int channels, height, width, classes;
} v2_model_shape;

typedef struct v2_bytes {
    const unsigned char *data;
    size_t size;
} v2_bytes;

typedef struct v2_request {
    char *id;               /* the request's "id", or NULL */
    char *input_name;
    v2_datatype datatype;
    size_t n;               /* the batch: shape[0] */
    float *floats;          /* FP32: n * C * H * W values */
    v2_bytes *elements;     /* BYTES: n encoded images, in `decoded` or the body */
    unsigned char *decoded; /* the base64-decoded images, one after the other */
    int classification;     /* K >= 1: the classification extension; 0: scores */
    int binary_output;      /* send the output as binary data */
} v2_request;

/* Parses an infer body of len bytes whose first json_len bytes are the
 * JSON (json_len == len without the binary-data extension) and checks it
 * against the model. Returns 0, or -1 with a message for the client in err
 * (what is wrong, and where). BYTES elements sent as binary data point into
 * body, which must outlive *out. */
int v2_request_parse(const char *body, size_t len, size_t json_len, const v2_model_shape *shape,
                     v2_request *out, char *err, size_t err_size);
void v2_request_free(v2_request *r);

/* Decodes padded base64 (RFC 4648; whitespace is skipped, as in MIME) into
 * dst, which holds at least v2_base64_max(n) bytes. Returns 0 with the
 * length in *dst_len, or -1 on a character outside the alphabet, bad
 * padding or a truncated last group. Nettle's decoder does the work. */
int v2_base64_decode(const char *src, size_t n, unsigned char *dst, size_t *dst_len);
size_t v2_base64_max(size_t n);

/* An answer to an infer request. */
typedef struct v2_answer {
    const char *model_name, *model_version, *id; /* id may be NULL */
    const float *scores;          /* n x classes */
    size_t n;
    int classes;
    int classification;           /* K, or 0 for the scores */
    int binary;                   /* the output as binary data */
    const imgclass_model *model;  /* labels for classification (may be NULL) */
} v2_answer;

/* The answer's body (malloc'd): JSON, followed by the output's bytes when
 * binary; *json_len is the JSON's length (the Inference-Header-Content-Length).
 * NULL when out of memory. */
char *v2_answer_encode(const v2_answer *a, size_t *len, size_t *json_len);

/* {"error": message} */
char *v2_error_body(const char *message, size_t *len);

/* GET /v2: {"name": "imgclass", "version": ..., "extensions": [...]} */
char *v2_server_metadata(size_t *len);

/* GET /v2/models/{m}/ready: {"name": name, "ready": true} */
char *v2_model_ready(const char *name, size_t *len);

/* GET /v2/models/{m}: name, versions, platform, inputs and outputs. */
char *v2_model_metadata(const char *name, const char *version, const v2_model_shape *shape,
                        size_t *len);

#endif
