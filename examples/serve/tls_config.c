/* Loading and checking the TLS certificate and key; see tls_config.h. */
#include "tls_config.h"

#include "secret_file.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tls_config_free(tls_config *t)
{
    free(t->cert);
    secret_free(t->key, t->key_len + 1);
    memset(t, 0, sizeof *t);
}

int tls_config_load(tls_config *t, const char *cert_path, const char *key_path)
{
    memset(t, 0, sizeof *t);
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        fprintf(stderr, "imgclass-serve: this libmicrohttpd was built without TLS; "
                        "--certificate cannot be served\n");
        return -1;
    }
    t->cert = secret_file_read("certificate", cert_path, 0, &t->cert_len);
    if (!t->cert)
        return -1;
    /* A private key readable by every user is refused, as a token is. */
    t->key = secret_file_read("private key", key_path, 1, &t->key_len);
    if (!t->key) {
        tls_config_free(t);
        return -1;
    }
    gnutls_datum_t cert = {(unsigned char *)t->cert, (unsigned)t->cert_len};
    gnutls_datum_t key = {(unsigned char *)t->key, (unsigned)t->key_len};
    int rc = -1, e;
    gnutls_x509_crt_t *crts = NULL;
    unsigned ncrts = 0;
    gnutls_x509_privkey_t pk = NULL;
    gnutls_certificate_credentials_t cred = NULL;
    if ((e = gnutls_x509_crt_list_import2(&crts, &ncrts, &cert, GNUTLS_X509_FMT_PEM, 0)) < 0) {
        fprintf(stderr, "imgclass-serve: certificate %s: not a PEM certificate (%s)\n",
                cert_path, gnutls_strerror(e));
    } else if ((e = gnutls_x509_privkey_init(&pk)) < 0 ||
               (e = gnutls_x509_privkey_import2(pk, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        fprintf(stderr, "imgclass-serve: private key %s: not an unencrypted PEM private key "
                        "(%s)\n",
                key_path, gnutls_strerror(e));
    } else if ((e = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
               (e = gnutls_certificate_set_x509_key_mem(cred, &cert, &key,
                                                        GNUTLS_X509_FMT_PEM)) < 0) {
        fprintf(stderr, "imgclass-serve: private key %s does not go with certificate %s (%s)\n",
                key_path, cert_path, gnutls_strerror(e));
    } else {
        rc = 0;
    }
    for (unsigned i = 0; i < ncrts; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    if (pk)
        gnutls_x509_privkey_deinit(pk);
    if (cred)
        gnutls_certificate_free_credentials(cred);
    if (rc)
        tls_config_free(t);
    return rc;
}
