/* The journal of journal.h. */
#include "journal.h"

#include "durable_io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HEADER "H imgclass-watch-journal 1"

struct journal {
    char *dir, *path, *tmp_path;
    int fd, lock_fd;
    uint64_t size;           /* bytes in the journal */
    uint64_t compacted_size; /* its size right after the last compaction */
    uint64_t compact_bytes;
};

/* ---- keys ----------------------------------------------------------------- */

static int plain_byte(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '%';
}

char *input_key(const char *path, const struct stat *st)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        n += plain_byte(*p) ? 1 : 3;
    char *key = malloc(n + 80);
    if (!key)
        return NULL;
    char *o = key;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (plain_byte(*p))
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    int64_t mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    sprintf(o, " %" PRIuMAX " %" PRIdMAX " %" PRId64, (uintmax_t)st->st_ino,
            (intmax_t)st->st_size, mtime_ns);
    return key;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *input_key_path(const char *key)
{
    const char *end = strchr(key, ' ');
    if (!end || end == key)
        return NULL;
    char *path = malloc((size_t)(end - key) + 1), *o = path;
    if (!path)
        return NULL;
    for (const char *p = key; p < end; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int hi = p + 2 < end ? hex_value(p[1]) : -1, lo = hi >= 0 ? hex_value(p[2]) : -1;
        if (lo < 0) {
            free(path);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        p += 2;
    }
    *o = 0;
    return path;
}

/* ---- file helpers --------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (s) {
        memcpy(s, a, la);
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
    }
    return s;
}

/* Appends "CRC PAYLOAD\n" to a growing buffer. 0, or -1 out of memory. */
typedef struct linebuf {
    char *data;
    size_t len, cap;
} linebuf;

static int add_line(linebuf *b, const char *kind, const char *text)
{
    size_t tl = strlen(text), need = b->len + 9 + 2 + tl + 2;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    char *payload = b->data + b->len + 9;
    memcpy(payload, kind, 1);
    payload[1] = ' ';
    memcpy(payload + 2, text, tl);
    uLong crc = crc32(0L, (const Bytef *)payload, (uInt)(tl + 2));
    char hex[10];
    snprintf(hex, sizeof hex, "%08lx ", (unsigned long)crc);
    memcpy(b->data + b->len, hex, 9);
    b->len += 9 + 2 + tl;
    b->data[b->len++] = '\n';
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

typedef struct strvec {
    char **items;
    size_t n, cap;
} strvec;

static int strvec_push(strvec *v, const char *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        char **items = realloc(v->items, cap * sizeof *items);
        if (!items)
            return -1;
        v->items = items;
        v->cap = cap;
    }
    if (!(v->items[v->n] = strdup(s)))
        return -1;
    v->n++;
    return 0;
}

static void strvec_clear(strvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->items[i]);
    v->n = 0;
}

/* A verified line's payload, or NULL when torn or corrupt. The line has
 * its '\n' removed. */
static const char *verify(char *line, size_t len)
{
    if (len < 11 || line[8] != ' ' || line[10] != ' ')
        return NULL;
    char *end;
    unsigned long want = strtoul(line, &end, 16);
    if (end != line + 8)
        return NULL;
    uLong crc = crc32(0L, (const Bytef *)line + 9, (uInt)(len - 9));
    return crc == want ? line + 9 : NULL;
}

/* Reads the journal; returns the length of its valid prefix (up to the
 * last whole record: header, C or S line) or -1 with a message. */
static long long read_journal(FILE *f, key_set *committed, strvec *parts, char *err,
                              size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long valid = 0, read = 0;
    int first = 1, rc = 0;
    strvec pending = {0};
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* torn final line */
        line[len - 1] = 0;
        const char *p = verify(line, (size_t)len - 1);
        if (!p)
            break;
        if (first) {
            if (strcmp(p, HEADER)) {
                snprintf(err, errlen, "not an imgclass-watch journal (first line)");
                rc = -1;
                break;
            }
            first = 0;
        } else if (p[0] == 'I') {
            if (strvec_push(&pending, p + 2))
                goto oom;
        } else if (p[0] == 'S') {
            if (key_set_put(committed, p + 2, KEY_COMMITTED))
                goto oom;
        } else if (p[0] == 'C') {
            for (size_t i = 0; i < pending.n; i++)
                if (key_set_put(committed, pending.items[i], KEY_COMMITTED))
                    goto oom;
            strvec_clear(&pending);
            if (strvec_push(parts, p + 2))
                goto oom;
        } else {
            break; /* unknown kind: treated as corruption */
        }
        read += len;
        /* I lines count only with their C line: the journal is cut back
         * to the last complete record, so that an orphan I line can never
         * be taken into the next commit. */
        if (p[0] != 'I')
            valid = read;
    }
    strvec_clear(&pending);
    free(pending.items);
    free(line);
    return rc ? -1 : valid;
oom:
    strvec_clear(&pending);
    free(pending.items);
    free(line);
    snprintf(err, errlen, "out of memory reading the journal");
    return -1;
}

/* ---- open / commit / compact ---------------------------------------------- */

int journal_open(const char *state_dir, key_set *committed, char ***parts_out,
                 size_t *nparts_out, journal **out, char *err, size_t errlen)
{
    *out = NULL;
    *parts_out = NULL;
    *nparts_out = 0;
    if (mkdir(state_dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create state folder %s: %s", state_dir, strerror(errno));
        return -1;
    }
    journal *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->fd = j->lock_fd = -1;
    j->compact_bytes = 4u << 20;
    strvec parts = {0};
    char *lock_path = join(state_dir, "lock");
    j->dir = strdup(state_dir);
    j->path = join(state_dir, "journal");
    j->tmp_path = join(state_dir, "journal.new");
    if (!lock_path || !j->dir || !j->path || !j->tmp_path) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    j->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (j->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", lock_path, strerror(errno));
        goto fail;
    }
    if (flock(j->lock_fd, LOCK_EX | LOCK_NB)) {
        snprintf(err, errlen, "%s is in use by another imgclass-watch (%s)", state_dir,
                 strerror(errno));
        goto fail;
    }
    j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (j->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", j->path, strerror(errno));
        goto fail;
    }
    int dup_fd = dup(j->fd);
    FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "r") : NULL;
    if (!f) {
        if (dup_fd >= 0)
            close(dup_fd);
        snprintf(err, errlen, "cannot read %s: %s", j->path, strerror(errno));
        goto fail;
    }
    long long valid = read_journal(f, committed, &parts, err, errlen);
    fclose(f);
    if (valid < 0)
        goto fail;
    struct stat st;
    if (fstat(j->fd, &st)) {
        snprintf(err, errlen, "cannot stat %s: %s", j->path, strerror(errno));
        goto fail;
    }
    if ((long long)st.st_size != valid) {
        /* A torn or corrupt tail: an append a crash cut short. */
        if (ftruncate(j->fd, (off_t)valid) || fsync(j->fd)) {
            snprintf(err, errlen, "cannot repair %s: %s", j->path, strerror(errno));
            goto fail;
        }
    }
    j->size = (uint64_t)valid;
    if (valid == 0) {
        linebuf b = {0};
        if (add_line(&b, "H", HEADER + 2) || write_all(j->fd, b.data, b.len) || fsync(j->fd) ||
            fsync_dir(state_dir)) {
            snprintf(err, errlen, "cannot write %s: %s", j->path, strerror(errno));
            free(b.data);
            goto fail;
        }
        j->size = b.len;
        free(b.data);
    }
    j->compacted_size = j->size;
    free(lock_path);
    *parts_out = parts.items;
    *nparts_out = parts.n;
    *out = j;
    return 0;
fail:
    free(lock_path);
    strvec_clear(&parts);
    free(parts.items);
    journal_close(j);
    return -1;
}

int journal_commit(journal *j, const char *relpath, char *const *keys, size_t n)
{
    linebuf b = {0};
    for (size_t i = 0; i < n; i++)
        if (add_line(&b, "I", keys[i])) {
            free(b.data);
            errno = ENOMEM;
            return -1;
        }
    if (add_line(&b, "C", relpath)) {
        free(b.data);
        errno = ENOMEM;
        return -1;
    }
    if (write_all(j->fd, b.data, b.len) || fsync(j->fd)) {
        int e = errno;
        /* Cut off what part of the append made it, so the journal stays a
         * sequence of whole records (a torn tail would also be cut at the
         * next start, but later appends must not follow it). */
        if (ftruncate(j->fd, (off_t)j->size) == 0)
            (void)fsync(j->fd);
        free(b.data);
        errno = e;
        return -1;
    }
    j->size += b.len;
    free(b.data);
    return 0;
}

typedef struct compact_ctx {
    linebuf lines;
    strvec gone;
    int oom;
} compact_ctx;

static void compact_one(void *arg, const char *key, int state)
{
    compact_ctx *c = arg;
    if (state != KEY_COMMITTED || c->oom)
        return;
    char *path = input_key_path(key);
    struct stat st;
    char *now = path && stat(path, &st) == 0 ? input_key(path, &st) : NULL;
    if (now && !strcmp(now, key)) {
        if (add_line(&c->lines, "S", key))
            c->oom = 1;
    } else if (path) {
        if (strvec_push(&c->gone, key))
            c->oom = 1;
    } else {
        c->oom = 1;
    }
    free(now);
    free(path);
}

int journal_compact(journal *j, key_set *set, int force)
{
    if (!force && (j->size < j->compact_bytes || j->size < 2 * j->compacted_size))
        return 0;
    compact_ctx c = {{0}, {0}, 0};
    if (add_line(&c.lines, "H", HEADER + 2))
        c.oom = 1;
    key_set_each(set, compact_one, &c);
    int rc = -1, e = ENOMEM;
    if (!c.oom) {
        int fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        int written = fd >= 0 && write_all(fd, c.lines.data, c.lines.len) == 0 && fsync(fd) == 0;
        if (fd >= 0 && close(fd) != 0)
            written = 0;
        fd = -1;
        if (written) {
            int nfd = open(j->tmp_path, O_RDWR | O_APPEND | O_CLOEXEC);
            if (nfd >= 0 && rename(j->tmp_path, j->path) == 0) {
                (void)fsync_dir(j->dir);
                close(j->fd);
                j->fd = nfd;
                j->size = j->compacted_size = c.lines.len;
                for (size_t i = 0; i < c.gone.n; i++)
                    key_set_remove(set, c.gone.items[i]);
                rc = 0;
            } else {
                e = errno;
                if (nfd >= 0)
                    close(nfd);
            }
        } else {
            e = errno;
        }
        if (rc)
            unlink(j->tmp_path);
    }
    free(c.lines.data);
    strvec_clear(&c.gone);
    free(c.gone.items);
    if (rc)
        errno = e;
    return rc;
}

void journal_set_compact_bytes(journal *j, uint64_t bytes)
{
    j->compact_bytes = bytes;
}

uint64_t journal_size(const journal *j)
{
    return j->size;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* releases the flock */
    free(j->dir);
    free(j->path);
    free(j->tmp_path);
    free(j);
}
