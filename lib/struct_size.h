/* Internal: how the library reads and writes the structs that cross the
 * public API, whatever size the caller was compiled with (the
 * "Compatibility" paragraph of imgclass.h; docs/design.md, "ABI: how the
 * structs grow"). This is the one place that looks at struct_size.
 *
 * A caller's struct is never used in place: it is copied, as far as it
 * goes, over a local struct that holds this library's defaults, and the
 * code reads the local copy. So an older caller's missing fields are the
 * defaults, and nothing past the caller's struct_size is ever touched. */
#ifndef IMGCLASS_STRUCT_SIZE_H
#define IMGCLASS_STRUCT_SIZE_H

#include "imgclass.h"

#include <stddef.h>

/* The sizes that decide what a struct_size means for one struct. */
typedef struct ic_struct_layout {
    const char *type; /* "imgclass_decode_options": names it in messages */
    size_t own;       /* this library's sizeof */
    size_t known_end; /* end of the last field this library knows (<= own) */
    size_t first;     /* end of its last field in 0.2.0: smaller is refused */
} ic_struct_layout;

extern const ic_struct_layout ic_layout_decode_options, ic_layout_preprocess_options,
    ic_layout_model_options, ic_layout_classify_options, ic_layout_pipeline_options,
    ic_layout_filter, ic_layout_yuv_frame, ic_layout_image_info, ic_layout_pipeline_stats,
    ic_layout_input;

/* Checks the caller's struct at `given` (its struct_size is read first) and
 * copies min(struct_size, own) bytes of it over `local`, which holds the
 * defaults; local's struct_size becomes `own`. Refused, with
 * IMGCLASS_ERR_INVALID_ARGUMENT and a message naming `what` (NULL: the
 * type): a struct_size of 0, one below `first`, or a larger one with a
 * byte past `known_end` that is not 0 ("needs a newer libimgclass"). */
imgclass_status ic_struct_read(const ic_struct_layout *l, const void *given, void *local,
                               const char *what);

/* The struct_size check of ic_struct_read() but for the bytes past
 * known_end, for a caller's struct the library only writes. */
imgclass_status ic_struct_check_out(const ic_struct_layout *l, const void *given, const char *what);

/* Writes this library's `local` into the caller's `out` (checked with
 * ic_struct_check_out()): min(struct_size, own) bytes, bytes past that up
 * to the caller's struct_size set to 0, out's struct_size kept. */
void ic_struct_write(const ic_struct_layout *l, const void *local, void *out);

/* The body of every imgclass_X_init(): refuses NULL or a size below
 * `first`, else zeroes `size` bytes at `opts`, copies min(size, own) bytes
 * of `defaults` there and sets its struct_size to `size`. */
imgclass_status ic_struct_init(const ic_struct_layout *l, void *opts, size_t size,
                               const void *defaults);

/* The options read by every public call that takes them: *o, when not
 * NULL, is read into *local (which the caller has filled with the
 * defaults: imgclass_X_default()) and *o then points at local. NULL stays
 * NULL (the defaults). */
imgclass_status ic_read_decode_options(const imgclass_decode_options **o,
                                       imgclass_decode_options *local, const char *what);
imgclass_status ic_read_preprocess_options(const imgclass_preprocess_options **o,
                                           imgclass_preprocess_options *local, const char *what);
imgclass_status ic_read_model_options(const imgclass_model_options **o,
                                      imgclass_model_options *local, const char *what);
imgclass_status ic_read_filter(const imgclass_filter **o, imgclass_filter *local, const char *what);

#endif
