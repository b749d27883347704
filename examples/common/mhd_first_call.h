/* For libmicrohttpd handlers that answer without reading a body. */
#ifndef IMGCLASS_MHD_FIRST_CALL_H
#define IMGCLASS_MHD_FIRST_CALL_H

#include <microhttpd.h>
#include <string.h>

/* The request's headers announce a body (a length other than 0, or chunks). */
static inline int mhd_body_announced(struct MHD_Connection *c)
{
    const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (len && strcmp(len, "0")) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* libmicrohttpd 0.9.75 closes the connection after a response queued on a
 * request's first call (headers only), and refuses one queued while a body
 * is still arriving. So a request without a body is answered on its next
 * call, and keeps its connection (a scraper or a health check reuses one);
 * one with a body is answered at once, unread, and its connection closes.
 * Returns 1 when the handler should return MHD_YES and answer on the next
 * call. *con_cls must be otherwise unused by the handler (it points at a
 * static marker: nothing to free). */
static inline int mhd_answer_next_call(struct MHD_Connection *c, void **con_cls)
{
    static char marker;
    if (*con_cls || mhd_body_announced(c))
        return 0;
    *con_cls = &marker;
    return 1;
}

#endif
