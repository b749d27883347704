/* Bearer tokens; see auth.h. */
#include "auth.h"

#include "secret_file.h"

#include <json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void auth_tokens_none(auth_tokens *t)
{
    memset(t, 0, sizeof *t);
}

void auth_tokens_clear(auth_tokens *t)
{
    volatile unsigned char *v = (volatile unsigned char *)t;
    for (size_t i = 0; i < sizeof *t; i++)
        v[i] = 0;
}

static int bad(const char *path, const char *why, const char *detail)
{
    fprintf(stderr, "imgclass-serve: token file %s: %s%s\n", path, why, detail ? detail : "");
    return -1;
}

/* Stores one token after checking it: visible ASCII, not too long. */
static int set_token(auth_tokens *t, auth_scope scope, const char *tok, size_t n,
                     const char *path, const char *which)
{
    char why[128];
    if (n == 0) {
        snprintf(why, sizeof why, "the %stoken is empty", which);
        return bad(path, why, NULL);
    }
    if (n >= AUTH_TOKEN_MAX) {
        snprintf(why, sizeof why, "the %stoken is longer than %d bytes", which,
                 AUTH_TOKEN_MAX - 1);
        return bad(path, why, NULL);
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f) {
            snprintf(why, sizeof why,
                     "the %stoken holds a space, a line break or a byte that is not "
                     "visible ASCII (one token, on one line)",
                     which);
            return bad(path, why, NULL);
        }
    memset(t->token[scope], 0, AUTH_TOKEN_MAX);
    memcpy(t->token[scope], tok, n);
    t->len[scope] = n;
    return 0;
}

/* TorchServe's key file: {"inference": {"key": ...}, "management": {...}}. */
static int load_json(auth_tokens *t, const char *text, const char *path)
{
    enum json_tokener_error err;
    json_object *root = json_tokener_parse_verbose(text, &err);
    if (!root)
        return bad(path, "not valid JSON: ", json_tokener_error_desc(err));
    int rc = 0;
    static const char *names[2] = {"inference", "management"};
    if (!json_object_is_type(root, json_type_object))
        rc = bad(path, "want a JSON object with \"inference\" and \"management\" keys "
                       "(TorchServe's key file)", NULL);
    for (int s = 0; rc == 0 && s < 2; s++) {
        json_object *scope, *key;
        char why[160];
        if (!json_object_object_get_ex(root, names[s], &scope) ||
            !json_object_object_get_ex(scope, "key", &key) ||
            !json_object_is_type(key, json_type_string)) {
            snprintf(why, sizeof why, "no \"%s\": {\"key\": \"TOKEN\"} (TorchServe's key file)",
                     names[s]);
            rc = bad(path, why, NULL);
            break;
        }
        rc = set_token(t, (auth_scope)s, json_object_get_string(key),
                       (size_t)json_object_get_string_len(key), path,
                       s == AUTH_INFERENCE ? "inference " : "management ");
    }
    json_object_put(root);
    return rc;
}

int auth_tokens_load(auth_tokens *t, const char *path)
{
    auth_tokens_none(t);
    size_t len = 0;
    char *text = secret_file_read("token file", path, 1, &len);
    if (!text)
        return -1;
    size_t a = 0, b = len;
    while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r' || text[a] == '\n'))
        a++;
    while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r' ||
                     text[b - 1] == '\n'))
        b--;
    int rc;
    if (a == b) {
        rc = bad(path, "holds no token (only blanks)", NULL);
    } else if (text[a] == '{') {
        rc = load_json(t, text, path);
    } else {
        /* One token for both scopes. */
        rc = set_token(t, AUTH_INFERENCE, text + a, b - a, path, "");
        if (rc == 0)
            rc = set_token(t, AUTH_MANAGEMENT, text + a, b - a, path, "");
    }
    secret_free(text, len + 1);
    if (rc) {
        auth_tokens_clear(t);
        return -1;
    }
    t->enabled = 1;
    return 0;
}

auth_result auth_check(const auth_tokens *t, auth_scope scope, const char *authorization)
{
    if (!t->enabled)
        return AUTH_OK;
    if (!authorization)
        return AUTH_MISSING;
    const char *p = authorization;
    while (*p == ' ' || *p == '\t')
        p++;
    /* The scheme is case-insensitive (RFC 9110 11.1). */
    if (strncasecmp(p, "Bearer", 6) || (p[6] != ' ' && p[6] != '\t'))
        return AUTH_MISSING;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t");
    for (const char *q = p + n; *q; q++)
        if (*q != ' ' && *q != '\t')
            return AUTH_WRONG; /* more than one word */
    if (n == 0)
        return AUTH_MISSING;
    if (n >= AUTH_TOKEN_MAX)
        return AUTH_WRONG; /* tells only that it is longer than any token */
    /* Compare the whole padded buffer and the length, accumulating the
     * differences, so that the time taken does not depend on where the
     * first wrong byte is. */
    const unsigned char *want = t->token[scope];
    unsigned diff = (unsigned)(n ^ t->len[scope]);
    for (size_t i = 0; i < AUTH_TOKEN_MAX; i++) {
        unsigned char c = i < n ? (unsigned char)p[i] : 0;
        diff |= (unsigned)(c ^ want[i]);
    }
    return diff == 0 ? AUTH_OK : AUTH_WRONG;
}

int auth_request_is_open(const char *method, const char *path)
{
    static const char *const open[] = {"/", "/ping", "/v2/health/live", "/v2/health/ready"};
    if (!method || !path || (strcmp(method, "GET") && strcmp(method, "HEAD")))
        return 0;
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        if (!strcmp(path, open[i]))
            return 1;
    return 0;
}

const char *auth_error_json(auth_result r)
{
    if (r == AUTH_MISSING)
        return "{\n  \"code\": 401,\n  \"type\": \"UnauthorizedException\",\n"
               "  \"message\": \"This API needs a token: send the header "
               "'Authorization: Bearer TOKEN'\",\n"
               "  \"error\": \"This API needs a token: send the header "
               "'Authorization: Bearer TOKEN'\"\n}\n";
    return "{\n  \"code\": 401,\n  \"type\": \"UnauthorizedException\",\n"
           "  \"message\": \"Wrong token for this API\",\n"
           "  \"error\": \"Wrong token for this API\"\n}\n";
}
