/* The linked library's version, for detecting header/library skew. */
#include "imgclass.h"

IMGCLASS_API const char *imgclass_version(void)
{
    return IMGCLASS_VERSION;
}

IMGCLASS_API int imgclass_version_number(void)
{
    return IMGCLASS_VERSION_NUMBER;
}
