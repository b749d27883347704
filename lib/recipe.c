/* Parsing and validating a model's recipe (imgclass.json), with json-c.
 *
 * Format, version 1 (docs/preprocessing.md):
 *   {"version": 1,
 *    "resize_mode": "shorter" | "exact" | "none",
 *    "resize_size": 256            (shorter: the shorter side)
 *                 | [256, 256],    (exact: [height, width]; absent for none)
 *    "crop": [224, 224] | null,    ([height, width]; null: no crop)
 *    "interpolation": "bilinear" | "bicubic",
 *    "mean": [r, g, b], "std": [r, g, b],
 *    "labels": ["tench", ...],     (optional, one per class)
 *    "source": "..."}              (optional, where the recipe came from)
 * Unknown keys are ignored so later versions can add some. */
#include "recipe.h"

#include "error.h"
#include "geometry.h"

#include <json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ic_recipe_free(ic_recipe *r)
{
    if (!r)
        return;
    ic_labels_free(r->labels);
    free(r->json);
    free(r);
}

/* The error every malformed field gives. */
static imgclass_status bad_field(const char *source, const char *field, const char *expected)
{
    return ic_error(IMGCLASS_ERR_MODEL,
                    "%s: invalid model: recipe " IC_RECIPE_FILE ": field \"%s\": %s", source,
                    field, expected);
}

static json_object *get(json_object *root, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(root, key, &v) ? v : NULL;
}

/* A JSON integer in [min, max] (also 256.0, as some writers emit). */
static int as_int(json_object *v, int min, int max, int *out)
{
    if (!v)
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i < min || i > max)
            return 0;
        *out = (int)i;
        return 1;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d >= min && d <= max) || d != floor(d))
            return 0;
        *out = (int)d;
        return 1;
    }
    return 0;
}

static int as_number(json_object *v, double *out)
{
    if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return 0;
    *out = json_object_get_double(v);
    return isfinite(*out);
}

/* [height, width] of integers in [min, max]. */
static int as_pair(json_object *v, int min, int max, int *h, int *w)
{
    if (!v || !json_object_is_type(v, json_type_array) || json_object_array_length(v) != 2)
        return 0;
    return as_int(json_object_array_get_idx(v, 0), min, max, h) &&
           as_int(json_object_array_get_idx(v, 1), min, max, w);
}

static int as_triple(json_object *v, float out[3])
{
    if (!v || !json_object_is_type(v, json_type_array) || json_object_array_length(v) != 3)
        return 0;
    for (int c = 0; c < 3; c++) {
        double d;
        if (!as_number(json_object_array_get_idx(v, (size_t)c), &d))
            return 0;
        out[c] = (float)d; /* as torch.tensor(mean) rounds the Python floats */
    }
    return 1;
}

static imgclass_status parse_labels(json_object *v, const char *source, ic_labels **out)
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) < 1 ||
        json_object_array_length(v) > INT_MAX)
        return bad_field(source, "labels", "expected a non-empty array of strings");
    int n = (int)json_object_array_length(v);
    const char **lines = malloc((size_t)n * sizeof *lines);
    if (!lines)
        return ic_error_oom(source, "recipe labels");
    for (int i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, (size_t)i);
        if (!s || !json_object_is_type(s, json_type_string) ||
            strchr(json_object_get_string(s), '\n')) {
            free(lines);
            char what[96];
            snprintf(what, sizeof what, "entry %d is not a one-line string", i);
            return bad_field(source, "labels", what);
        }
        lines[i] = json_object_get_string(s);
    }
    imgclass_status st = ic_labels_from_lines(lines, n, source, out);
    free(lines);
    return st;
}

static imgclass_status parse_fields(json_object *root, const char *source, ic_recipe *r)
{
    imgclass_preprocess_options *o = &r->options;
    int version;
    if (!as_int(get(root, "version"), INT_MIN, INT_MAX, &version))
        return bad_field(source, "version", "missing or not an integer");
    if (version != 1) {
        char what[80];
        snprintf(what, sizeof what, "version %d is not supported (this library reads 1)",
                 version);
        return bad_field(source, "version", what);
    }

    json_object *mode = get(root, "resize_mode");
    const char *m = mode && json_object_is_type(mode, json_type_string)
                        ? json_object_get_string(mode) : "";
    if (!strcmp(m, "shorter"))
        o->resize_mode = IMGCLASS_RESIZE_SHORTER;
    else if (!strcmp(m, "exact"))
        o->resize_mode = IMGCLASS_RESIZE_EXACT;
    else if (!strcmp(m, "none"))
        o->resize_mode = IMGCLASS_RESIZE_NONE;
    else
        return bad_field(source, "resize_mode", "expected \"shorter\", \"exact\" or \"none\"");

    json_object *size = get(root, "resize_size");
    if (o->resize_mode == IMGCLASS_RESIZE_SHORTER) {
        if (!as_int(size, 1, 1 << 16, &o->resize_size))
            return bad_field(source, "resize_size",
                             "expected the shorter side, an integer in 1..65536");
    } else if (o->resize_mode == IMGCLASS_RESIZE_EXACT) {
        if (!as_pair(size, 1, 1 << 16, &o->resize_height, &o->resize_width))
            return bad_field(source, "resize_size",
                             "expected [height, width], integers in 1..65536");
    }

    json_object *crop = get(root, "crop");
    if (!json_object_object_get_ex(root, "crop", NULL))
        return bad_field(source, "crop", "missing ([height, width], or null for no crop)");
    if (!crop) {
        o->crop_height = o->crop_width = 0;
    } else if (!as_pair(crop, 0, 1 << 16, &o->crop_height, &o->crop_width)) {
        return bad_field(source, "crop",
                         "expected [height, width], integers in 0..65536, or null");
    }
    if ((o->crop_height == 0) != (o->crop_width == 0))
        return bad_field(source, "crop", "one side is 0 (give both sides, or null for no crop)");
    if (o->crop_height == 0 && o->resize_mode == IMGCLASS_RESIZE_SHORTER)
        return bad_field(source, "crop",
                         "no crop after a shorter-side resize (the output size would follow "
                         "each image)");

    json_object *interp = get(root, "interpolation");
    const char *f = interp && json_object_is_type(interp, json_type_string)
                        ? json_object_get_string(interp) : "";
    if (!strcmp(f, "bilinear"))
        o->interpolation = IMGCLASS_INTERP_BILINEAR;
    else if (!strcmp(f, "bicubic"))
        o->interpolation = IMGCLASS_INTERP_BICUBIC;
    else
        return bad_field(source, "interpolation", "expected \"bilinear\" or \"bicubic\"");

    if (!as_triple(get(root, "mean"), o->mean))
        return bad_field(source, "mean", "expected an array of 3 finite numbers");
    if (!as_triple(get(root, "std"), o->std))
        return bad_field(source, "std", "expected an array of 3 finite numbers");
    for (int c = 0; c < 3; c++)
        if (o->std[c] == 0.0f)
            return bad_field(source, "std", "a standard deviation of 0");

    json_object *source_field = get(root, "source");
    if (source_field && !json_object_is_type(source_field, json_type_string))
        return bad_field(source, "source", "expected a string");

    json_object *labels = get(root, "labels");
    if (labels) {
        imgclass_status st = parse_labels(labels, source, &r->labels);
        if (st != IMGCLASS_OK)
            return st;
    }
    /* The fields above enforce every rule; this keeps the two in step. */
    if (ic_options_check(o, "recipe") != IMGCLASS_OK) {
        char what[512];
        snprintf(what, sizeof what, "inconsistent options (%s)", imgclass_last_error());
        return bad_field(source, "resize_mode", what);
    }
    return IMGCLASS_OK;
}

imgclass_status ic_recipe_parse(const char *data, size_t size, const char *source,
                                ic_recipe **out)
{
    if (size > IC_RECIPE_MAX_BYTES)
        return ic_error(IMGCLASS_ERR_MODEL,
                        "%s: invalid model: recipe " IC_RECIPE_FILE " is %zu bytes (at most %zu)",
                        source, size, IC_RECIPE_MAX_BYTES);
    ic_recipe *r = calloc(1, sizeof *r);
    if (!r)
        return ic_error_oom(source, "recipe");
    r->options = imgclass_preprocess_options_default();
    r->json = malloc(size + 1);
    json_tokener *tok = json_tokener_new();
    if (!r->json || !tok) {
        json_tokener_free(tok);
        ic_recipe_free(r);
        return ic_error_oom(source, "recipe");
    }
    memcpy(r->json, data, size);
    r->json[size] = '\0';
    json_object *root = json_tokener_parse_ex(tok, r->json, (int)size);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    imgclass_status st = IMGCLASS_OK;
    if (!root || jerr != json_tokener_success || strspn(r->json + end, " \t\r\n") != size - end)
        st = ic_error(IMGCLASS_ERR_MODEL,
                      "%s: invalid model: recipe " IC_RECIPE_FILE " is not valid JSON: %s",
                      source,
                      !root || jerr != json_tokener_success
                          ? (jerr == json_tokener_continue ? "unexpected end of data"
                                                           : json_tokener_error_desc(jerr))
                          : "data after the object");
    else if (!json_object_is_type(root, json_type_object))
        st = ic_error(IMGCLASS_ERR_MODEL,
                      "%s: invalid model: recipe " IC_RECIPE_FILE " is not a JSON object",
                      source);
    else
        st = parse_fields(root, source, r);
    json_object_put(root);
    if (st != IMGCLASS_OK) {
        ic_recipe_free(r);
        return st;
    }
    *out = r;
    return IMGCLASS_OK;
}

int ic_recipe_input_size(const ic_recipe *r, int *height, int *width)
{
    const imgclass_preprocess_options *o = &r->options;
    if (o->crop_width > 0) {
        *height = o->crop_height;
        *width = o->crop_width;
        return 1;
    }
    if (o->resize_mode == IMGCLASS_RESIZE_EXACT) {
        *height = o->resize_height;
        *width = o->resize_width;
        return 1;
    }
    return 0;
}
