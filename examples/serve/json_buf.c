/* json_buf: see json_buf.h. */
#include "json_buf.h"

#include "text_escape.h"

#include <math.h>
#include <stdlib.h>

int json_buf_open(json_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->f = open_memstream(&b->data, &b->len);
    return b->f ? 0 : -1;
}

char *json_buf_finish(json_buf *b, size_t *len)
{
    if (!b->f)
        return NULL;
    int failed = ferror(b->f);
    if (fclose(b->f) != 0)
        failed = 1;
    b->f = NULL;
    if (failed) {
        free(b->data);
        b->data = NULL;
        return NULL;
    }
    if (len)
        *len = b->len;
    return b->data;
}

void json_buf_string(json_buf *b, const char *s)
{
    if (!s)
        fputs("null", b->f);
    else
        json_write_string(b->f, s);
}

void json_buf_float(json_buf *b, double v)
{
    if (isfinite(v))
        fprintf(b->f, "%.9g", v);
    else
        fputs("null", b->f);
}
