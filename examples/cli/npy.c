/* .npy writer; see npy.h and numpy's format.py (version 1.0). */
#include "npy.h"

#include <errno.h>
#include <string.h>

int npy_write_header_f32(FILE *f, const size_t *shape, int ndim)
{
    unsigned char header[NPY_HEADER_BYTES];
    char dict[NPY_HEADER_BYTES];
    const size_t dict_room = NPY_HEADER_BYTES - 10; /* after magic, version, length */
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim && n > 0 && (size_t)n < sizeof dict; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, ndim == 1 ? "%zu," : i ? ", %zu" : "%zu",
                      shape[i]);
    if (n > 0 && (size_t)n < sizeof dict)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    if (n <= 0 || (size_t)n >= dict_room) { /* room for the '\n' */
        errno = EINVAL;
        return -1;
    }
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    header[8] = (unsigned char)(dict_room & 0xff); /* little-endian uint16 */
    header[9] = (unsigned char)(dict_room >> 8);
    memcpy(header + 10, dict, (size_t)n);
    memset(header + 10 + n, ' ', dict_room - (size_t)n - 1);
    header[NPY_HEADER_BYTES - 1] = '\n';
    return fwrite(header, 1, sizeof header, f) == sizeof header ? 0 : -1;
}
