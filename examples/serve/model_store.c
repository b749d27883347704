/* Resolving the management API's model paths; see model_store.h. */
#include "model_store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int model_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* Copies a resolved path into the caller's buffer, or says it is too long. */
static int copy_path(const char *url, const char *real, char *out, size_t n, char *msg,
                     size_t msg_n)
{
    if (strlen(real) >= n) {
        snprintf(msg, msg_n, "url '%s': path too long", url);
        return -1;
    }
    strcpy(out, real);
    return 0;
}

/* realpath() of path as a regular file; -1 with the reason in msg. */
static int real_file(const char *url, const char *path, char *out, size_t n, char *msg,
                     size_t msg_n, const char *where)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(path, real)) {
        snprintf(msg, msg_n, "url '%s': %s%s", url, strerror(errno), where);
        return -1;
    }
    if (stat(real, &st) || !S_ISREG(st.st_mode)) {
        snprintf(msg, msg_n, "url '%s': not a regular file%s", url, where);
        return -1;
    }
    return copy_path(url, real, out, n, msg, msg_n);
}

int model_store_resolve(const char *store, const char *url, char *out, size_t n, char *msg,
                        size_t msg_n)
{
    if (!url || !*url) {
        snprintf(msg, msg_n, "url is empty: give the model file's path");
        return -1;
    }
    const char *scheme_end = strstr(url, "://");
    if (scheme_end) {
        if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)) {
            snprintf(msg, msg_n,
                     "url '%s': downloads are not supported (imgclass-serve loads only local "
                     "files); copy the model into the model store and give its path",
                     url);
            return -1;
        }
        if (strncasecmp(url, "file://", 7)) {
            snprintf(msg, msg_n, "url '%s': unsupported scheme; give a local file path", url);
            return -1;
        }
        url += 7;
    }
    if (!store)
        return real_file(url, url, out, n, msg, msg_n, "");

    char root[PATH_MAX], joined[PATH_MAX * 2], real[PATH_MAX];
    if (!realpath(store, root)) {
        snprintf(msg, msg_n, "model store '%s': %s", store, strerror(errno));
        return -1;
    }
    /* An absolute path is taken as is and must still lie in the store. */
    if (url[0] == '/')
        snprintf(joined, sizeof joined, "%s", url);
    else
        snprintf(joined, sizeof joined, "%s/%s", root, url);
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, " (in the model store %s)", store);
    if (real_file(url, joined, real, sizeof real, msg, msg_n, where))
        return -1;
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) || (real[rl] != '/' && strcmp(root, "/"))) {
        snprintf(msg, msg_n, "url '%s' escapes the model store %s: give a path inside it", url,
                 store);
        return -1;
    }
    return copy_path(url, real, out, n, msg, msg_n);
}

int model_store_default_name(const char *url, char *out, size_t n)
{
    const char *base = strrchr(url, '/');
    base = base ? base + 1 : url;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (!model_name_valid(base, len) || len >= n)
        return -1;
    memcpy(out, base, len);
    out[len] = '\0';
    return 0;
}

int model_store_find(const char *store, const char *name, char *out, size_t n)
{
    static const char *const ext[] = {".pt", ".ts", ".torchscript", ".pth"};
    for (size_t i = 0; store && i < sizeof ext / sizeof ext[0]; i++) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s%s", store, name, ext[i]);
        if (!stat(path, &st) && S_ISREG(st.st_mode) && strlen(path) < n) {
            strcpy(out, path);
            return 0;
        }
    }
    return -1;
}
