/* What the inference and the management routers share: method tests and
 * the "name" or "name/version" tail of a model's path. Pure functions. */
#ifndef IMGCLASS_SERVE_ROUTE_PATH_H
#define IMGCLASS_SERVE_ROUTE_PATH_H

#include <stddef.h>

int method_is(const char *method, const char *m);
/* GET or HEAD (HEAD answers as GET, without the body). */
int method_is_get(const char *method);

/* Splits "name" or "name/version" into spans of s (not terminated; the
 * version NULL and 0 when absent): 0, or -1 on an empty part or a further
 * '/' (the outputs then unchanged). */
int split_model_path(const char *s, const char **name, size_t *name_len, const char **version,
                     size_t *version_len);

#endif
