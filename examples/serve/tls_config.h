/* HTTPS (--certificate, --private-key): the PEM certificate (chain) and
 * private key, read and checked at start-up with GnuTLS, the library
 * libmicrohttpd serves TLS with, so that a wrong file is refused naming it
 * and the reason (libmicrohttpd itself only says it cannot start). */
#ifndef IMGCLASS_SERVE_TLS_CONFIG_H
#define IMGCLASS_SERVE_TLS_CONFIG_H

#include <stddef.h>

typedef struct tls_config {
    char *cert; /* PEM, NUL-terminated (MHD_OPTION_HTTPS_MEM_CERT) */
    char *key;  /* PEM, NUL-terminated (MHD_OPTION_HTTPS_MEM_KEY) */
    size_t cert_len, key_len;
} tls_config;

/* Reads and checks both files: each parses, and the key is the
 * certificate's. 0, or -1 after printing "imgclass-serve: ... FILE: reason".
 * Also -1 when this libmicrohttpd was built without TLS. */
int tls_config_load(tls_config *t, const char *cert_path, const char *key_path);
void tls_config_free(tls_config *t);

#endif
