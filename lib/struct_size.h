/* Internal: the ABI guard of the option structs that cross the public API.
 *
 * Every such struct starts with `size_t struct_size`, which its *_default()
 * function sets to sizeof the struct as the caller was compiled. The library
 * reads that first member and nothing else until it has matched it, so a
 * struct from another version of imgclass.h is refused instead of read past
 * its end (a shorter one) or misread (a longer one). */
#ifndef IMGCLASS_STRUCT_SIZE_H
#define IMGCLASS_STRUCT_SIZE_H

#include "imgclass.h"

#include <stddef.h>

/* IMGCLASS_OK when `given` is a size this library knows for the struct
 * (today only its own `expected`: no earlier release had these members).
 * Otherwise IMGCLASS_ERR_INVALID_ARGUMENT with a message naming `what`
 * (e.g. "imgclass_classify_options.decode") and how to fill the struct
 * (`fix`, e.g. "start from imgclass_decode_options_default(), which sets it"); a struct_size of 0 (a
 * zero-initialised struct) is told apart, as it is the common mistake. */
imgclass_status ic_struct_size_check(size_t given, size_t expected, const char *what,
                                     const char *fix);

/* The checks of each public options struct, nested ones included; NULL
 * passes (it means the defaults). `what` names the struct in the message. */
imgclass_status ic_check_decode_options_size(const imgclass_decode_options *o, const char *what);
imgclass_status ic_check_preprocess_options_size(const imgclass_preprocess_options *o,
                                                 const char *what);
imgclass_status ic_check_model_options_size(const imgclass_model_options *o, const char *what);
imgclass_status ic_check_classify_options_size(const imgclass_classify_options *o);
imgclass_status ic_check_pipeline_options_size(const imgclass_pipeline_options *o);

#endif
