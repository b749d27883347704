/* Reading and writing caller structs as far as their struct_size goes (see
 * struct_size.h). */
#include "struct_size.h"

#include "error.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
/* The last field this library knows: under the test-only grown build, the
 * appended one. */
#ifdef IMGCLASS_TEST_GROW_STRUCTS
#define KNOWN_END(type, last) FIELD_END(type, test_grown)
#else
#define KNOWN_END(type, last) FIELD_END(type, last)
#endif
/* `last` is the struct's last field in 0.2.0, the first release of this
 * ABI (soname libimgclass.so.1): never change it when appending. */
#define LAYOUT(name, type, last)                                                       \
    const ic_struct_layout name = {#type, sizeof(type), KNOWN_END(type, last),         \
                                   FIELD_END(type, last)}
/* A struct with fields appended since: `now` is its last field today. */
#define LAYOUT_GROWN(name, type, last, now)                                            \
    const ic_struct_layout name = {#type, sizeof(type), KNOWN_END(type, now),          \
                                   FIELD_END(type, last)}

LAYOUT(ic_layout_decode_options, imgclass_decode_options, exif_transpose);
LAYOUT(ic_layout_preprocess_options, imgclass_preprocess_options, interpolation);
LAYOUT_GROWN(ic_layout_model_options, imgclass_model_options, precision, cache_dir);
LAYOUT(ic_layout_classify_options, imgclass_classify_options, filter);
LAYOUT_GROWN(ic_layout_pipeline_options, imgclass_pipeline_options, filter, engine_lane_threads);
LAYOUT(ic_layout_filter, imgclass_filter, deny_label_count);
LAYOUT(ic_layout_yuv_frame, imgclass_yuv_frame, range);
LAYOUT(ic_layout_image_info, imgclass_image_info, orientation);
LAYOUT(ic_layout_pipeline_stats, imgclass_pipeline_stats, engine_prepared);
LAYOUT(ic_layout_input, imgclass_input, image);

static size_t struct_size_of(const void *s)
{
    size_t size;
    memcpy(&size, s, sizeof size);
    return size;
}

/* `input`: the library reads the struct, so a set byte it does not know is
 * refused; an output struct's extra bytes are only written (to 0). */
static imgclass_status check_size(const ic_struct_layout *l, const void *given, const char *what,
                                  int input)
{
    if (!what)
        what = l->type;
    size_t size = struct_size_of(given);
    if (size == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, what,
                       "struct_size is 0 (a zero-initialised struct); fill it with %s_init() "
                       "or set struct_size to sizeof(%s)",
                       l->type, l->type);
    if (size < l->first)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, what,
                       "struct_size is %zu bytes, smaller than any release's %s (%zu bytes)",
                       size, l->type, l->first);
    const unsigned char *bytes = given;
    for (size_t i = l->known_end; input && i < size; i++)
        if (bytes[i])
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, what,
                           "struct_size is %zu bytes, this library's %s is %zu, and a field "
                           "past its last one (byte %zu) is set: it needs a newer libimgclass "
                           "than %s",
                           size, l->type, l->known_end, i, IMGCLASS_VERSION);
    return IMGCLASS_OK;
}

imgclass_status ic_struct_read(const ic_struct_layout *l, const void *given, void *local,
                               const char *what)
{
    imgclass_status st = check_size(l, given, what, 1);
    if (st != IMGCLASS_OK)
        return st;
    size_t size = struct_size_of(given);
    memcpy(local, given, size < l->own ? size : l->own);
    memcpy(local, &l->own, sizeof l->own);
    return IMGCLASS_OK;
}

imgclass_status ic_struct_check_out(const ic_struct_layout *l, const void *given, const char *what)
{
    return check_size(l, given, what, 0);
}

void ic_struct_write(const ic_struct_layout *l, const void *local, void *out)
{
    size_t size = struct_size_of(out);
    size_t n = size < l->own ? size : l->own;
    /* struct_size itself is kept: the caller's. */
    memcpy((unsigned char *)out + sizeof size, (const unsigned char *)local + sizeof size,
           n - sizeof size);
    if (size > n)
        memset((unsigned char *)out + n, 0, size - n);
}

imgclass_status ic_struct_init(const ic_struct_layout *l, void *opts, size_t size,
                               const void *defaults)
{
    char fn[96];
    snprintf(fn, sizeof fn, "%s_init", l->type);
    if (!opts)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, fn, "NULL struct");
    if (size < l->first)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, fn,
                       "size %zu is smaller than any release's %s (%zu bytes)", size, l->type,
                       l->first);
    memset(opts, 0, size);
    memcpy(opts, defaults, size < l->own ? size : l->own);
    memcpy(opts, &size, sizeof size);
    return IMGCLASS_OK;
}

#define READ_OPTIONS(fn, type, layout)                                                   \
    imgclass_status fn(const type **o, type *local, const char *what)                     \
    {                                                                                    \
        if (!*o)                                                                         \
            return IMGCLASS_OK;                                                          \
        imgclass_status st = ic_struct_read(&layout, *o, local, what);                   \
        if (st == IMGCLASS_OK)                                                           \
            *o = local;                                                                  \
        return st;                                                                       \
    }

READ_OPTIONS(ic_read_decode_options, imgclass_decode_options, ic_layout_decode_options)
READ_OPTIONS(ic_read_preprocess_options, imgclass_preprocess_options, ic_layout_preprocess_options)
READ_OPTIONS(ic_read_model_options, imgclass_model_options, ic_layout_model_options)

READ_OPTIONS(ic_read_filter, imgclass_filter, ic_layout_filter)
