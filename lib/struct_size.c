/* The ABI guard of option structs (see struct_size.h). */
#include "struct_size.h"

#include "error.h"

#include <stdio.h>

imgclass_status ic_struct_size_check(size_t given, size_t expected, const char *what,
                                     const char *fix)
{
    if (given == expected)
        return IMGCLASS_OK;
    if (given == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, what,
                       "struct_size is 0 (a zero-initialised struct); %s", fix);
    return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, what,
                   "struct_size is %zu bytes, this library's is %zu (built against another "
                   "imgclass.h? %s)",
                   given, expected, fix);
}

/* The check of a struct that `type`_default() fills in. */
static imgclass_status check_from_default(size_t given, size_t expected, const char *what,
                                          const char *type)
{
    char fix[96];
    snprintf(fix, sizeof fix, "start from %s_default(), which sets it", type);
    return ic_struct_size_check(given, expected, what, fix);
}

/* An options struct that nests decode and preprocess options by value.
 * The outer size first: only a matching outer struct holds the nested ones
 * where this library looks for them. */
static imgclass_status check_with_nested(size_t given, size_t expected, const char *type,
                                         const imgclass_decode_options *decode,
                                         const imgclass_preprocess_options *preprocess)
{
    imgclass_status st = check_from_default(given, expected, type, type);
    char what[96];
    if (st == IMGCLASS_OK) {
        snprintf(what, sizeof what, "%s.decode", type);
        st = ic_check_decode_options_size(decode, what);
    }
    if (st == IMGCLASS_OK) {
        snprintf(what, sizeof what, "%s.preprocess", type);
        st = ic_check_preprocess_options_size(preprocess, what);
    }
    return st;
}

imgclass_status ic_check_decode_options_size(const imgclass_decode_options *o, const char *what)
{
    return o ? check_from_default(o->struct_size, sizeof *o, what, "imgclass_decode_options")
             : IMGCLASS_OK;
}

imgclass_status ic_check_preprocess_options_size(const imgclass_preprocess_options *o,
                                                 const char *what)
{
    return o ? check_from_default(o->struct_size, sizeof *o, what, "imgclass_preprocess_options")
             : IMGCLASS_OK;
}

imgclass_status ic_check_model_options_size(const imgclass_model_options *o, const char *what)
{
    return o ? check_from_default(o->struct_size, sizeof *o, what, "imgclass_model_options")
             : IMGCLASS_OK;
}

imgclass_status ic_check_classify_options_size(const imgclass_classify_options *o)
{
    return o ? check_with_nested(o->struct_size, sizeof *o, "imgclass_classify_options",
                                 &o->decode, &o->preprocess)
             : IMGCLASS_OK;
}

imgclass_status ic_check_pipeline_options_size(const imgclass_pipeline_options *o)
{
    return o ? check_with_nested(o->struct_size, sizeof *o, "imgclass_pipeline_options",
                                 &o->decode, &o->preprocess)
             : IMGCLASS_OK;
}
