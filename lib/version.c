/* The linked library's version, for detecting header/library skew. */
#include "imgclass.h"

IMGCLASS_API const char *imgclass_version(void)
{
    return IMGCLASS_VERSION;
}
