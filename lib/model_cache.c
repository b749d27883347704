/* The core's half of the model cache: naming, checking, reading and
 * writing entries (model_cache.h describes the format and the rules). */
#include "model_cache.h"

#include "file_io.h"
#include "imgclass.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "imgclass-model-cache 1\n"
#define HEADER_MAX 2048

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void sha256_hex(const void *data, size_t size, char out[2 * SHA256_DIGEST_SIZE + 1])
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    /* nettle takes a size_t length: whole buffers at once. */
    sha256_update(&ctx, size, data);
    sha256_digest(&ctx, sizeof digest, digest);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* zlib's crc32 takes a uInt length: fed in pieces. */
static unsigned long crc32_of(const unsigned char *data, size_t size)
{
    unsigned long crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {
        uInt n = size > (1u << 30) ? (1u << 30) : (uInt)size;
        crc = crc32(crc, data, n);
        data += n;
        size -= n;
    }
    return crc;
}

static void drop_file(ic_model_cache *c)
{
    ic_file_data_free(c->file, c->file_mapped);
    c->file = NULL;
    c->file_size = c->file_mapped = 0;
    c->payload = NULL;
    c->payload_size = 0;
}

/* The line of `text` (up to `end`) that starts at *pos, without its
 * newline, into out; *pos moves past it. 0 when there is no whole line. */
static int next_line(const char *text, size_t end, size_t *pos, char *out, size_t out_size)
{
    const char *nl = memchr(text + *pos, '\n', end - *pos);
    if (!nl)
        return 0;
    size_t n = (size_t)(nl - (text + *pos));
    if (n >= out_size)
        return 0;
    memcpy(out, text + *pos, n);
    out[n] = '\0';
    *pos += n + 1;
    return 1;
}

/* Checks the entry read into c->file against the key; sets c->payload or
 * c->refused. The engine line is kept in `engine` for
 * ic_model_cache_engine(). */
static void check_entry(ic_model_cache *c, char *engine, size_t engine_size)
{
    const char *text = (const char *)c->file;
    size_t end = c->file_size < HEADER_MAX ? c->file_size : HEADER_MAX;
    size_t pos = 0;
    char line[640];
    size_t payload_size;
    unsigned long crc;
    char tail;
    if (end < sizeof MAGIC - 1 || memcmp(text, MAGIC, sizeof MAGIC - 1) != 0) {
        snprintf(c->refused, sizeof c->refused, "not a cache entry (no header)");
        return;
    }
    pos = sizeof MAGIC - 1;
    if (!next_line(text, end, &pos, line, sizeof line) || strncmp(line, "key ", 4) != 0 ||
        strcmp(line + 4, c->key) != 0) {
        snprintf(c->refused, sizeof c->refused, "its key is not this load's");
        return;
    }
    if (!next_line(text, end, &pos, line, sizeof line) || strncmp(line, "engine ", 7) != 0 ||
        strlen(line + 7) >= engine_size) {
        snprintf(c->refused, sizeof c->refused, "a damaged header (engine line)");
        return;
    }
    strcpy(engine, line + 7);
    if (!next_line(text, end, &pos, line, sizeof line) ||
        sscanf(line, "payload %zu crc32 %8lx%c", &payload_size, &crc, &tail) != 2 ||
        !next_line(text, end, &pos, line, sizeof line) || line[0] != '\0') {
        snprintf(c->refused, sizeof c->refused, "a damaged header (payload line)");
        return;
    }
    if (c->file_size - pos != payload_size) {
        snprintf(c->refused, sizeof c->refused, "%zu bytes of payload where the header says %zu",
                 c->file_size - pos, payload_size);
        return;
    }
    if (crc32_of(c->file + pos, payload_size) != crc) {
        snprintf(c->refused, sizeof c->refused, "its payload does not match its CRC-32");
        return;
    }
    c->payload = c->file + pos;
    c->payload_size = payload_size;
}

void ic_model_cache_open(ic_model_cache *c, const char *dir, const void *model, size_t size,
                         const char *options)
{
    memset(c, 0, sizeof *c);
    if (!dir || !*dir)
        return;
    c->dir = dir;
    const double started = now_ms();
    char digest[2 * SHA256_DIGEST_SIZE + 1], name[2 * SHA256_DIGEST_SIZE + 1];
    sha256_hex(model, size, digest);
    int n = snprintf(c->key, sizeof c->key, "imgclass %s; model sha256:%s %zu bytes; %s",
                     IMGCLASS_VERSION, digest, size, options);
    sha256_hex(c->key, strlen(c->key), name);
    int m = snprintf(c->path, sizeof c->path, "%s/%s.entry", dir, name);
    if (n < 0 || (size_t)n >= sizeof c->key || m < 0 || (size_t)m >= sizeof c->path) {
        snprintf(c->write_error, sizeof c->write_error, "the cache folder's name is too long");
        c->path[0] = '\0'; /* nothing read, nothing written */
        c->ms = now_ms() - started;
        return;
    }
    /* A missing entry is the ordinary miss: no message. */
    struct stat st;
    if (stat(c->path, &st) != 0) {
        if (errno != ENOENT)
            snprintf(c->refused, sizeof c->refused, "cannot stat it: %s", strerror(errno));
        c->ms = now_ms() - started;
        return;
    }
    /* The entry's size, bounded: its payload is about the model's size. */
    size_t limit = size > (SIZE_MAX - HEADER_MAX) / 2 ? SIZE_MAX : 2 * size + HEADER_MAX + (1u << 20);
    if (ic_read_file_huge(c->path, limit, NULL, &c->file, &c->file_size, &c->file_mapped) !=
        IMGCLASS_OK) {
        snprintf(c->refused, sizeof c->refused, "cannot read it: %s", imgclass_last_error());
        c->file = NULL;
    } else {
        char engine[sizeof c->engine];
        check_entry(c, engine, sizeof engine);
        if (c->payload)
            memcpy(c->engine, engine, sizeof engine); /* checked in ic_model_cache_engine() */
        else
            drop_file(c);
    }
    c->ms = now_ms() - started;
}

void ic_model_cache_engine(ic_model_cache *c, const char *engine)
{
    if (!c->dir)
        return;
    if (c->payload && strcmp(c->engine, engine) != 0) {
        snprintf(c->refused, sizeof c->refused, "made by %.60s, this is %.60s", c->engine,
                 engine);
        drop_file(c);
    }
    snprintf(c->engine, sizeof c->engine, "%s", engine);
}

/* mkdir -p with mode 0700 for the parts that are missing. */
static int make_dirs(const char *dir, char *err, size_t err_size)
{
    char path[4096];
    size_t len = strlen(dir);
    if (len >= sizeof path) {
        snprintf(err, err_size, "the cache folder's name is too long");
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, err_size, "cannot create %.100s: %s", path, strerror(errno));
            return -1;
        }
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "%.100s is not a folder", dir);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size > (1u << 30) ? (1u << 30) : size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

void ic_model_cache_store(void *ctx, const void *payload, size_t size)
{
    ic_model_cache *c = ctx;
    if (!c->dir || !c->path[0])
        return;
    const double started = now_ms();
    char header[HEADER_MAX], tmp[4096 + 16];
    int n = snprintf(header, sizeof header, MAGIC "key %s\nengine %s\npayload %zu crc32 %08lx\n\n",
                     c->key, c->engine, size, crc32_of(payload, size));
    if (n < 0 || (size_t)n >= sizeof header) {
        snprintf(c->write_error, sizeof c->write_error, "the entry's header is too long");
        goto out;
    }
    if (make_dirs(c->dir, c->write_error, sizeof c->write_error) != 0)
        goto out;
    /* A name of its own in the same folder (same file system, so that the
     * rename below is atomic); mkstemp() makes it 0600. */
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", c->path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(c->write_error, sizeof c->write_error, "cannot create a file in %.100s: %s",
                 c->dir, strerror(errno));
        goto out;
    }
    int failed = write_all(fd, header, (size_t)n) != 0 || write_all(fd, payload, size) != 0;
    int e = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    if (!failed && rename(tmp, c->path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(tmp);
        snprintf(c->write_error, sizeof c->write_error, "cannot write %.100s: %s", c->path,
                 strerror(e));
        goto out;
    }
    c->stored = 1;
out:
    c->ms += now_ms() - started;
}

void ic_model_cache_close(ic_model_cache *c)
{
    drop_file(c);
}
