/* Open Inference Protocol bodies; see v2_json.h. JSON is read with json-c
 * and written with json_buf (the same number formatting as the server's
 * other answers). */
#include "v2_json.h"

#include "json_buf.h"

#include <json-c/json.h>
#include <nettle/base64.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far above any real batch, low enough that n * C * H * W * 4 cannot
 * overflow a size_t with the model's dimensions (each < 2^16). */
#define V2_MAX_BATCH (1u << 20)

size_t v2_base64_max(size_t n)
{
    return BASE64_DECODE_LENGTH(n);
}

int v2_base64_decode(const char *src, size_t n, unsigned char *dst, size_t *dst_len)
{
    struct base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    size_t out = 0;
    if (!base64_decode_update(&ctx, &out, dst, n, src) || !base64_decode_final(&ctx))
        return -1;
    *dst_len = out;
    return 0;
}

static int fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

void v2_request_free(v2_request *r)
{
    free(r->id);
    free(r->input_name);
    free(r->floats);
    free(r->elements);
    free(r->decoded);
    memset(r, 0, sizeof *r);
}

/* The little-endian uint32 at p. */
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Row-major flattening of "data" (nested arrays or flat) into leaves. */
typedef struct leaves {
    json_object **items;
    size_t count, cap;
} leaves;

static int collect(json_object *o, leaves *out)
{
    if (!json_object_is_type(o, json_type_array)) {
        if (out->count == out->cap)
            return -1; /* more values than the shape holds */
        out->items[out->count++] = o;
        return 0;
    }
    size_t n = json_object_array_length(o);
    for (size_t i = 0; i < n; i++)
        if (collect(json_object_array_get_idx(o, i), out))
            return -1;
    return 0;
}

/* Integer member `key` of a parameters object: 1 found (in *v), 0 absent,
 * -1 present but not a whole number in [lo, hi]. */
static int int_param(json_object *params, const char *key, int64_t lo, int64_t hi, int64_t *v)
{
    json_object *o;
    if (!params || !json_object_object_get_ex(params, key, &o))
        return 0;
    if (!json_object_is_type(o, json_type_int))
        return -1;
    int64_t x = json_object_get_int64(o);
    if (x < lo || x > hi)
        return -1;
    *v = x;
    return 1;
}

/* Boolean member `key`: 1 true, 0 false or absent, -1 not a boolean. */
static int bool_param(json_object *params, const char *key)
{
    json_object *o;
    if (!params || !json_object_object_get_ex(params, key, &o))
        return 0;
    if (!json_object_is_type(o, json_type_boolean))
        return -1;
    return json_object_get_boolean(o) ? 1 : 0;
}

static void shape_text(json_object *shape, char *out, size_t size)
{
    const char *s = shape ? json_object_to_json_string_ext(shape, JSON_C_TO_STRING_PLAIN) : "none";
    snprintf(out, size, "%.80s", s);
}

/* The BYTES elements of binary data: n times (4-byte length, bytes). */
static int parse_binary_bytes(const unsigned char *p, size_t size, v2_request *r,
                              const char *name, char *err, size_t err_size)
{
    size_t at = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (size - at < 4)
            return fail(err, err_size,
                        "input '%s': binary data holds %zu of %zu elements (each a 4-byte "
                        "little-endian length, then the bytes)",
                        name, i, r->n);
        uint32_t len = le32(p + at);
        at += 4;
        if (len > size - at)
            return fail(err, err_size,
                        "input '%s': binary element %zu claims %u bytes, %zu are left", name, i,
                        (unsigned)len, size - at);
        r->elements[i].data = p + at;
        r->elements[i].size = len;
        at += len;
    }
    if (at != size)
        return fail(err, err_size,
                    "input '%s': binary_data_size %zu, but its %zu elements end after %zu bytes",
                    name, size, r->n, at);
    return 0;
}

/* The BYTES elements as base64 strings in "data". */
static int parse_base64_bytes(json_object *data, v2_request *r, const char *name, char *err,
                              size_t err_size)
{
    leaves lv = {calloc(r->n ? r->n : 1, sizeof *lv.items), 0, r->n};
    if (!lv.items)
        return fail(err, err_size, "out of memory");
    int rc = 0;
    if (collect(data, &lv) || lv.count != r->n) {
        rc = fail(err, err_size, "input '%s': shape [%zu] wants %zu elements in \"data\", got %s",
                  name, r->n, r->n, lv.count == r->n ? "more" : "fewer");
        goto out;
    }
    size_t total = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (!json_object_is_type(lv.items[i], json_type_string)) {
            rc = fail(err, err_size,
                      "input '%s': element %zu is not a string (BYTES elements are base64 "
                      "strings in JSON)",
                      name, i);
            goto out;
        }
        total += v2_base64_max((size_t)json_object_get_string_len(lv.items[i]));
    }
    r->decoded = malloc(total ? total : 1);
    if (!r->decoded) {
        rc = fail(err, err_size, "out of memory");
        goto out;
    }
    size_t at = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t got = 0;
        if (v2_base64_decode(json_object_get_string(lv.items[i]),
                             (size_t)json_object_get_string_len(lv.items[i]), r->decoded + at,
                             &got)) {
            rc = fail(err, err_size, "input '%s': element %zu is not valid base64", name, i);
            goto out;
        }
        r->elements[i].data = r->decoded + at;
        r->elements[i].size = got;
        at += got;
    }
out:
    free(lv.items);
    return rc;
}

/* The FP32 values in "data": numbers, flat or nested. */
static int parse_json_floats(json_object *data, v2_request *r, size_t count, const char *name,
                             char *err, size_t err_size)
{
    leaves lv = {malloc(count * sizeof *lv.items), 0, count};
    if (!lv.items)
        return fail(err, err_size, "out of memory");
    int rc = 0;
    if (collect(data, &lv) || lv.count != count) {
        rc = fail(err, err_size, "input '%s': its shape wants %zu values in \"data\", got %s",
                  name, count, lv.count == count ? "more" : "fewer");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        json_object *v = lv.items[i];
        if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
            rc = fail(err, err_size, "input '%s': value %zu is not a number", name, i);
            goto out;
        }
        r->floats[i] = (float)json_object_get_double(v);
    }
out:
    free(lv.items);
    return rc;
}

static int parse_input(json_object *in, size_t json_len, const char *bin, size_t bin_len,
                       size_t *bin_used,
                       const v2_model_shape *ms, v2_request *r, char *err, size_t err_size)
{
    json_object *o, *shape = NULL, *data = NULL, *params = NULL;
    if (!json_object_is_type(in, json_type_object))
        return fail(err, err_size, "\"inputs\"[0] is not an object");
    if (!json_object_object_get_ex(in, "name", &o) || !json_object_is_type(o, json_type_string))
        return fail(err, err_size, "\"inputs\"[0] has no \"name\" string");
    r->input_name = strdup(json_object_get_string(o));
    if (!r->input_name)
        return fail(err, err_size, "out of memory");
    const char *name = r->input_name;
    if (!json_object_object_get_ex(in, "datatype", &o) ||
        !json_object_is_type(o, json_type_string))
        return fail(err, err_size, "input '%s' has no \"datatype\" string", name);
    const char *dt = json_object_get_string(o);
    char want[128];
    snprintf(want, sizeof want, "FP32 [-1, %d, %d, %d] (a preprocessed batch) or BYTES [-1] "
                                "(encoded images)",
             ms->channels, ms->height, ms->width);
    if (!strcmp(dt, "FP32"))
        r->datatype = V2_FP32;
    else if (!strcmp(dt, "BYTES"))
        r->datatype = V2_BYTES;
    else
        return fail(err, err_size, "input '%s': datatype '%.32s' is not accepted: send %s", name,
                    dt, want);
    json_object_object_get_ex(in, "shape", &shape);
    char shown[96];
    shape_text(shape, shown, sizeof shown);
    int rank = shape && json_object_is_type(shape, json_type_array)
                   ? (int)json_object_array_length(shape) : -1;
    int64_t dims[4] = {0, 0, 0, 0};
    int want_rank = r->datatype == V2_FP32 ? 4 : 1;
    int ok = rank == want_rank;
    for (int i = 0; ok && i < rank; i++) {
        json_object *d = json_object_array_get_idx(shape, (size_t)i);
        ok = json_object_is_type(d, json_type_int);
        dims[i] = ok ? json_object_get_int64(d) : 0;
    }
    if (ok)
        ok = dims[0] >= 1 && dims[0] <= V2_MAX_BATCH &&
             (r->datatype == V2_BYTES ||
              (dims[1] == ms->channels && dims[2] == ms->height && dims[3] == ms->width));
    if (!ok)
        return fail(err, err_size, "input '%s': shape %s does not fit %s (N from 1 to %u)", name,
                    shown, want, V2_MAX_BATCH);
    r->n = (size_t)dims[0];

    json_object_object_get_ex(in, "parameters", &params);
    if (params && !json_object_is_type(params, json_type_object))
        return fail(err, err_size, "input '%s': \"parameters\" is not an object", name);
    int64_t bsize = 0;
    int has_bin = int_param(params, "binary_data_size", 0, INT64_MAX, &bsize);
    if (has_bin < 0)
        return fail(err, err_size, "input '%s': binary_data_size is not a whole number >= 0",
                    name);
    json_object_object_get_ex(in, "data", &data);
    if (has_bin && data)
        return fail(err, err_size, "input '%s' has both \"data\" and binary_data_size", name);
    if (!has_bin && !data)
        return fail(err, err_size, "input '%s' has no \"data\" (nor binary_data_size)", name);
    if (has_bin && (uint64_t)bsize > bin_len - *bin_used)
        return fail(err, err_size,
                    "input '%s': binary_data_size %lld is more than the %zu bytes of binary "
                    "data after the JSON (whose length Inference-Header-Content-Length gives)",
                    name, (long long)bsize, bin_len - *bin_used);
    /* Every element takes at least a byte of the body (JSON: a value and a
     * comma; binary: 4 bytes each), so a shape larger than the body is
     * refused before anything its size is allocated. */
    size_t count = r->n * (r->datatype == V2_BYTES ? 1
                           : (size_t)ms->channels * (size_t)ms->height * (size_t)ms->width);
    if (count > json_len + bin_len)
        return fail(err, err_size, "input '%s': shape %s holds %zu values, more than the "
                                   "%zu-byte body can",
                    name, shown, count, json_len + bin_len);
    const unsigned char *bp = (const unsigned char *)bin + *bin_used;
    if (has_bin)
        *bin_used += (size_t)bsize;

    if (r->datatype == V2_BYTES) {
        r->elements = calloc(r->n, sizeof *r->elements);
        if (!r->elements)
            return fail(err, err_size, "out of memory");
        if (has_bin)
            return parse_binary_bytes(bp, (size_t)bsize, r, name, err, err_size);
        return parse_base64_bytes(data, r, name, err, err_size);
    }
    if (has_bin && (uint64_t)bsize != (uint64_t)count * 4)
        return fail(err, err_size,
                    "input '%s': binary_data_size %lld, but shape %s of FP32 is %zu bytes", name,
                    (long long)bsize, shown, count * 4);
    r->floats = malloc(count * sizeof *r->floats);
    if (!r->floats)
        return fail(err, err_size, "out of memory");
    if (has_bin) {
        for (size_t i = 0; i < count; i++) {
            uint32_t u = le32(bp + 4 * i);
            memcpy(&r->floats[i], &u, 4);
        }
        return 0;
    }
    return parse_json_floats(data, r, count, name, err, err_size);
}

static int parse_outputs(json_object *root, v2_request *r, char *err, size_t err_size)
{
    json_object *params = NULL, *outputs = NULL;
    json_object_object_get_ex(root, "parameters", &params);
    if (params && !json_object_is_type(params, json_type_object))
        return fail(err, err_size, "\"parameters\" is not an object");
    int b = bool_param(params, "binary_data_output");
    if (b < 0)
        return fail(err, err_size, "\"binary_data_output\" is not true or false");
    r->binary_output = b;
    if (!json_object_object_get_ex(root, "outputs", &outputs) || !outputs)
        return 0;
    if (!json_object_is_type(outputs, json_type_array))
        return fail(err, err_size, "\"outputs\" is not an array");
    size_t n = json_object_array_length(outputs);
    if (n > 1)
        return fail(err, err_size, "%zu outputs requested: the model has one, '" V2_OUTPUT_NAME
                                   "'", n);
    if (n == 0)
        return 0;
    json_object *out = json_object_array_get_idx(outputs, 0), *o, *op = NULL;
    if (!json_object_is_type(out, json_type_object) ||
        !json_object_object_get_ex(out, "name", &o) || !json_object_is_type(o, json_type_string))
        return fail(err, err_size, "\"outputs\"[0] is not an object with a \"name\" string");
    if (strcmp(json_object_get_string(o), V2_OUTPUT_NAME))
        return fail(err, err_size, "unknown output '%.64s': the model has one, '" V2_OUTPUT_NAME
                                   "'", json_object_get_string(o));
    json_object_object_get_ex(out, "parameters", &op);
    if (op && !json_object_is_type(op, json_type_object))
        return fail(err, err_size, "output '" V2_OUTPUT_NAME "': \"parameters\" is not an object");
    int64_t k = 0;
    if (int_param(op, "classification", 1, INT_MAX, &k) < 0)
        return fail(err, err_size,
                    "output '" V2_OUTPUT_NAME "': classification is not a whole number >= 1");
    r->classification = (int)k;
    b = bool_param(op, "binary_data");
    if (b < 0)
        return fail(err, err_size, "output '" V2_OUTPUT_NAME "': binary_data is not true or "
                                   "false");
    if (op && json_object_object_get_ex(op, "binary_data", &o))
        r->binary_output = b; /* the output's own choice wins */
    return 0;
}

int v2_request_parse(const char *body, size_t len, size_t json_len, const v2_model_shape *shape,
                     v2_request *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (json_len > len)
        return fail(err, err_size,
                    "Inference-Header-Content-Length %zu is more than the body's %zu bytes",
                    json_len, len);
    if (json_len > INT_MAX)
        return fail(err, err_size, "the JSON is over %d bytes", INT_MAX);
    if (json_len == 0)
        return fail(err, err_size, "empty body: want a JSON inference request");
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return fail(err, err_size, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, body, (int)json_len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc = -1;
    if (!root) {
        fail(err, err_size, "invalid JSON at byte %zu: %s", end,
             jerr == json_tokener_continue ? "it ends before the value does"
                                           : json_tokener_error_desc(jerr));
        goto done;
    }
    for (size_t i = end; i < json_len; i++)
        if (!strchr(" \t\r\n", body[i])) {
            fail(err, err_size, "invalid JSON: text after the value at byte %zu", i);
            goto done;
        }
    if (!json_object_is_type(root, json_type_object)) {
        fail(err, err_size, "the JSON is not an object");
        goto done;
    }
    json_object *o, *inputs;
    if (json_object_object_get_ex(root, "id", &o) && o) {
        if (!json_object_is_type(o, json_type_string)) {
            fail(err, err_size, "\"id\" is not a string");
            goto done;
        }
        if (!(out->id = strdup(json_object_get_string(o)))) {
            fail(err, err_size, "out of memory");
            goto done;
        }
    }
    if (!json_object_object_get_ex(root, "inputs", &inputs) ||
        !json_object_is_type(inputs, json_type_array)) {
        fail(err, err_size, "no \"inputs\" array");
        goto done;
    }
    if (json_object_array_length(inputs) != 1) {
        fail(err, err_size, "%zu inputs: the model takes one (FP32 [-1, %d, %d, %d] or BYTES [-1])",
             json_object_array_length(inputs), shape->channels, shape->height, shape->width);
        goto done;
    }
    size_t bin_used = 0;
    if (parse_input(json_object_array_get_idx(inputs, 0), json_len, body + json_len,
                    len - json_len,
                    &bin_used, shape, out, err, err_size))
        goto done;
    if (bin_used != len - json_len) {
        fail(err, err_size,
             "%zu bytes of binary data after the JSON, but the inputs' binary_data_size "
             "account for %zu",
             len - json_len, bin_used);
        goto done;
    }
    if (parse_outputs(root, out, err, err_size))
        goto done;
    rc = 0;
done:
    json_object_put(root);
    if (rc)
        v2_request_free(out);
    return rc;
}

char *v2_error_body(const char *message, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\"error\": ", b.f);
    json_buf_string(&b, message);
    fputs("}\n", b.f);
    return json_buf_finish(&b, len);
}

/* "score:index[:label]", the classification extension's element. */
static int class_string(const imgclass_class *c, char *out, size_t size)
{
    if (c->label)
        return snprintf(out, size, "%.9g:%d:%s", (double)c->score, c->index, c->label);
    return snprintf(out, size, "%.9g:%d", (double)c->score, c->index);
}

char *v2_answer_encode(const v2_answer *a, size_t *len, size_t *json_len)
{
    int k = a->classification > a->classes ? a->classes : a->classification;
    imgclass_class *top = k ? calloc((size_t)k, sizeof *top) : NULL;
    json_buf b;
    if ((k && !top) || json_buf_open(&b)) {
        free(top);
        return NULL;
    }
    /* The binary part is built beside the JSON and appended at the end. */
    json_buf bin = {0};
    int failed = a->binary && json_buf_open(&bin);
    fputs("{\"model_name\": ", b.f);
    json_buf_string(&b, a->model_name);
    fputs(", \"model_version\": ", b.f);
    json_buf_string(&b, a->model_version);
    if (a->id) {
        fputs(", \"id\": ", b.f);
        json_buf_string(&b, a->id);
    }
    fprintf(b.f, ", \"outputs\": [{\"name\": \"" V2_OUTPUT_NAME "\", \"datatype\": \"%s\", "
                 "\"shape\": [%zu, %d], ",
            k ? "BYTES" : "FP32", a->n, k ? k : a->classes);
    if (!a->binary)
        fputs("\"data\": [", b.f);
    size_t bytes = 0;
    for (size_t i = 0; !failed && i < a->n; i++) {
        const float *row = a->scores + i * (size_t)a->classes;
        if (!k) {
            for (int j = 0; j < a->classes; j++) {
                if (a->binary) {
                    unsigned char le[4];
                    uint32_t u;
                    memcpy(&u, &row[j], 4);
                    put_le32(le, u);
                    fwrite(le, 1, 4, bin.f);
                } else {
                    fputs(i || j ? ", " : "", b.f);
                    json_buf_float(&b, row[j]);
                }
            }
            bytes += 4 * (size_t)a->classes;
            continue;
        }
        int got = 0;
        if (imgclass_topk(a->model, row, a->classes, k, top, &got) != IMGCLASS_OK) {
            failed = 1;
            break;
        }
        for (int j = 0; j < got; j++) {
            char s[1024];
            int n = class_string(&top[j], s, sizeof s);
            if (n < 0 || (size_t)n >= sizeof s)
                n = (int)strlen(s); /* a label over 1000 bytes is cut */
            if (a->binary) {
                unsigned char le[4];
                put_le32(le, (uint32_t)n);
                fwrite(le, 1, 4, bin.f);
                fwrite(s, 1, (size_t)n, bin.f);
                bytes += 4 + (size_t)n;
            } else {
                fputs(i || j ? ", " : "", b.f);
                json_buf_string(&b, s);
            }
        }
    }
    if (a->binary)
        fprintf(b.f, "\"parameters\": {\"binary_data_size\": %zu}", bytes);
    else
        fputs("]", b.f);
    fputs("}]}\n", b.f);
    free(top);
    size_t jl = 0, bl = 0;
    char *text = json_buf_finish(&b, &jl);
    char *data = a->binary ? json_buf_finish(&bin, &bl) : NULL;
    if (!text || failed || (a->binary && !data)) {
        free(text);
        free(data);
        return NULL;
    }
    if (a->binary) {
        char *all = realloc(text, jl + bl + 1);
        if (!all) {
            free(text);
            free(data);
            return NULL;
        }
        memcpy(all + jl, data, bl);
        all[jl + bl] = '\0'; /* as json_buf's texts are */
        free(data);
        text = all;
    }
    *json_len = jl;
    *len = jl + bl;
    return text;
}

char *v2_server_metadata(size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\"name\": \"imgclass\", \"version\": ", b.f);
    json_buf_string(&b, imgclass_version());
    fputs(", \"extensions\": [\"classification\", \"binary_tensor_data\"]}\n", b.f);
    return json_buf_finish(&b, len);
}

char *v2_model_ready(const char *name, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\"name\": ", b.f);
    json_buf_string(&b, name);
    fputs(", \"ready\": true}\n", b.f);
    return json_buf_finish(&b, len);
}

char *v2_model_metadata(const char *name, const char *version, const v2_model_shape *s,
                        size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\"name\": ", b.f);
    json_buf_string(&b, name);
    fputs(", \"versions\": [", b.f);
    json_buf_string(&b, version);
    fprintf(b.f, "], \"platform\": \"pytorch_torchscript\", \"inputs\": ["
                 "{\"name\": \"" V2_INPUT_TENSOR "\", \"datatype\": \"FP32\", "
                 "\"shape\": [-1, %d, %d, %d]}, "
                 "{\"name\": \"" V2_INPUT_IMAGES "\", \"datatype\": \"BYTES\", \"shape\": [-1]}], "
                 "\"outputs\": [{\"name\": \"" V2_OUTPUT_NAME "\", \"datatype\": \"FP32\", "
                 "\"shape\": [-1, %d]}]}\n",
            s->channels, s->height, s->width, s->classes);
    return json_buf_finish(&b, len);
}
