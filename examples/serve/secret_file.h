/* Reading a file that holds a secret (a token file, a TLS private key):
 * the whole file as a NUL-terminated string, refused when anyone on the
 * machine could read it (as ssh refuses such a key: a secret readable by
 * every user is no secret), when it is empty, or unreadable. */
#ifndef IMGCLASS_SERVE_SECRET_FILE_H
#define IMGCLASS_SERVE_SECRET_FILE_H

#include <stddef.h>

/* Returns the malloc'd contents (length in *len), or NULL after printing
 * "imgclass-serve: WHAT PATH: reason" to stderr. `secret` = 0 skips the
 * permission check (a certificate is public). */
char *secret_file_read(const char *what, const char *path, int secret, size_t *len);

/* Overwrites and frees a buffer that held a secret. */
void secret_free(char *p, size_t len);

#endif
