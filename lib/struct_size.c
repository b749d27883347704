/* The ABI guard of option structs (see struct_size.h). */
#include "struct_size.h"

#include "error.h"

imgclass_status ic_struct_size_check(size_t given, size_t expected, const char *what,
                                     const char *fix)
{
    if (given == expected)
        return IMGCLASS_OK;
    if (given == 0)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                        "%s: invalid argument: struct_size is 0 (a zero-initialised struct); "
                        "%s",
                        what, fix);
    return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                    "%s: invalid argument: struct_size is %zu bytes, this library's is %zu "
                    "(built against another imgclass.h? %s)",
                    what, given, expected, fix);
}

imgclass_status ic_check_decode_options_size(const imgclass_decode_options *o, const char *what)
{
    if (!o)
        return IMGCLASS_OK;
    return ic_struct_size_check(o->struct_size, sizeof *o, what,
                                "start from imgclass_decode_options_default(), which sets it");
}

imgclass_status ic_check_preprocess_options_size(const imgclass_preprocess_options *o,
                                                 const char *what)
{
    if (!o)
        return IMGCLASS_OK;
    return ic_struct_size_check(o->struct_size, sizeof *o, what,
                                "start from imgclass_preprocess_options_default(), which sets it");
}

imgclass_status ic_check_model_options_size(const imgclass_model_options *o, const char *what)
{
    if (!o)
        return IMGCLASS_OK;
    return ic_struct_size_check(o->struct_size, sizeof *o, what,
                                "start from imgclass_model_options_default(), which sets it");
}

imgclass_status ic_check_classify_options_size(const imgclass_classify_options *o)
{
    if (!o)
        return IMGCLASS_OK;
    /* The outer size first: only a matching outer struct holds the nested
     * ones where this library looks for them. */
    imgclass_status st = ic_struct_size_check(o->struct_size, sizeof *o,
                                              "imgclass_classify_options",
                                              "start from imgclass_classify_options_default(), which sets it");
    if (st == IMGCLASS_OK)
        st = ic_check_decode_options_size(&o->decode, "imgclass_classify_options.decode");
    if (st == IMGCLASS_OK)
        st = ic_check_preprocess_options_size(&o->preprocess,
                                              "imgclass_classify_options.preprocess");
    return st;
}

imgclass_status ic_check_pipeline_options_size(const imgclass_pipeline_options *o)
{
    if (!o)
        return IMGCLASS_OK;
    imgclass_status st = ic_struct_size_check(o->struct_size, sizeof *o,
                                              "imgclass_pipeline_options",
                                              "start from imgclass_pipeline_options_default(), which sets it");
    if (st == IMGCLASS_OK)
        st = ic_check_decode_options_size(&o->decode, "imgclass_pipeline_options.decode");
    if (st == IMGCLASS_OK)
        st = ic_check_preprocess_options_size(&o->preprocess,
                                              "imgclass_pipeline_options.preprocess");
    return st;
}
