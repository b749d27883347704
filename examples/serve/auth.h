/* Bearer tokens (--token-file): which requests must carry
 * "Authorization: Bearer TOKEN", and the check itself.
 *
 * Two scopes, each with its own token, so that an operator can hand the
 * inference token to clients without letting them change what is served:
 * AUTH_INFERENCE for the inference address, AUTH_MANAGEMENT for the
 * management address. The token file is either
 *   - one token on one line (both scopes then share it), or
 *   - TorchServe's key file, JSON:
 *       {"management": {"key": "M", ...}, "inference": {"key": "I", ...},
 *        "API": {"key": "A"}}
 *     ("expiration time" and the "API" key, TorchServe's token-rotation
 *     API, are not used: the tokens hold until the server restarts).
 * Tokens are visible ASCII, 1 to AUTH_TOKEN_MAX - 1 bytes. A file readable
 * by every user is refused (secret_file.h). */
#ifndef IMGCLASS_SERVE_AUTH_H
#define IMGCLASS_SERVE_AUTH_H

#include <stddef.h>

#define AUTH_TOKEN_MAX 512

typedef enum auth_scope { AUTH_INFERENCE = 0, AUTH_MANAGEMENT = 1 } auth_scope;

typedef enum auth_result {
    AUTH_OK,      /* tokens off, or the right token */
    AUTH_MISSING, /* no Authorization header, or not a Bearer one */
    AUTH_WRONG    /* a Bearer token, not this scope's */
} auth_result;

typedef struct auth_tokens {
    int enabled;
    /* Zero-padded to the full size: the comparison always reads all of it
     * (auth_check()). */
    unsigned char token[2][AUTH_TOKEN_MAX];
    size_t len[2];
} auth_tokens;

/* Tokens off: every request passes. */
void auth_tokens_none(auth_tokens *t);

/* Reads the token file. 0, or -1 after printing
 * "imgclass-serve: token file PATH: reason". */
int auth_tokens_load(auth_tokens *t, const char *path);

/* Forgets the tokens (overwritten). */
void auth_tokens_clear(auth_tokens *t);

/* Checks an Authorization header value (NULL when absent) against the
 * scope's token. Constant time in the token's content: every byte of the
 * padded token is compared, whatever matched before. */
auth_result auth_check(const auth_tokens *t, auth_scope scope, const char *authorization);

/* Requests to the inference address that need no token: GET or HEAD of
 * the health checks of load balancers and of the web page (which asks for
 * the token itself). Not OPTIONS /: the API description names the models. */
int auth_request_is_open(const char *method, const char *path);

/* The 401 body: a JSON error in both shapes the server speaks (TorchServe's
 * code/type/message and KServe v2's "error"). A static string. */
const char *auth_error_json(auth_result r);

#endif
