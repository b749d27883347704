/* Reading secrets from files; see secret_file.h. */
#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger than any token or PEM key and chain an operator would hand in;
 * a bound, so that a wrong path (a log, a device) is refused, not read. */
#define SECRET_FILE_MAX (1 << 20)

char *secret_file_read(const char *what, const char *path, int secret, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "imgclass-serve: %s %s: %s\n", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    const char *why = NULL;
    if (fstat(fd, &st))
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (secret && (st.st_mode & S_IROTH))
        why = "readable by every user of this machine (chmod o-r it)";
    else if (st.st_size == 0)
        why = "empty";
    else if (st.st_size > SECRET_FILE_MAX)
        why = "larger than 1 MiB";
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        why = "out of memory";
    size_t n = 0;
    while (!why && n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            why = r < 0 ? strerror(errno) : "shorter than its size (changed while read?)";
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    if (why) {
        fprintf(stderr, "imgclass-serve: %s %s: %s\n", what, path, why);
        if (buf)
            secret_free(buf, (size_t)st.st_size + 1);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

void secret_free(char *p, size_t len)
{
    if (!p)
        return;
    /* volatile: the compiler may not drop stores to memory about to be
     * freed. */
    volatile char *v = p;
    for (size_t i = 0; i < len; i++)
        v[i] = 0;
    free(p);
}
