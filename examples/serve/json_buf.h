/* A growing text buffer for the JSON and Prometheus bodies the server
 * sends: a stdio memory stream, so bodies are written with fprintf and the
 * shared JSON escaping (examples/common/text_escape.h) instead of string
 * arithmetic. */
#ifndef IMGCLASS_SERVE_JSON_BUF_H
#define IMGCLASS_SERVE_JSON_BUF_H

#include <stddef.h>
#include <stdio.h>

typedef struct json_buf {
    FILE *f;     /* write here; NULL when opening failed */
    char *data;
    size_t len;
} json_buf;

/* 0, or -1 when out of memory. */
int json_buf_open(json_buf *b);
/* Ends the buffer: returns the text (malloc'd, NUL-terminated, length in
 * *len), or NULL when any write failed. The buffer may not be used after. */
char *json_buf_finish(json_buf *b, size_t *len);
/* s as a JSON string, quotes included (NULL writes null). */
void json_buf_string(json_buf *b, const char *s);
/* A float as a JSON number with float32 precision (null if not finite). */
void json_buf_float(json_buf *b, double v);

#endif
