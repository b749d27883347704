/* Part files; the rules are in part_writer.h. */
#include "part_writer.h"

#include "durable_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PROG "imgclass-watch"
#define MAX_OPEN_PARTS 64
/* Bytes gathered in memory before they are written through to the
 * in-progress file. */
#define WRITE_THROUGH_BYTES (64 * 1024)

typedef struct part {
    char partition[32]; /* "dt=YYYY-MM-DD/hour=HH" */
    char *dir;          /* OUT/partition */
    char *relpath;      /* partition/part-NAME.EXT (the journal's name) */
    char *final_path, *inprogress_path;
    char *data; /* every record, uncompressed */
    size_t len, cap;
    size_t fed;  /* bytes of data already written (or fed to deflate) */
    int fd;      /* in-progress file, or -1 */
    int broken;  /* a write failed: start the file again from data */
    z_stream z;
    int z_ready;
    char **keys;
    size_t nkeys, keys_cap;
    long records, errors;
    int64_t opened_mono, opened_real;
    int64_t oldest_found; /* the earliest found_ns of its records */
} part;

struct part_writer {
    part_writer_options o;
    journal *journal;
    key_set *keys;
    part *parts[MAX_OPEN_PARTS];
    size_t nparts;
    unsigned run_id;
    /* A committed part could not be renamed: the journal must keep its C
     * line for the next start to finish it, so no compaction this run. */
    int keep_journal;
    unsigned long seq;
    long rolled, committed;
};

static const char *extension(const part_writer_options *o)
{
    static const char *const plain[] = {"txt", "jsonl", "tsv"};
    static const char *const gz[] = {"txt.gz", "jsonl.gz", "tsv.gz"};
    return (o->gzip ? gz : plain)[o->format];
}

/* mkdir -p for the partition folders below out_dir (which exists); each
 * new folder's parent is fsynced so the folder survives a power loss. */
static int make_dirs(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
    char *copy = strdup(path);
    if (!copy)
        return -1;
    char *slash = strrchr(copy, '/');
    int rc = 0;
    if (slash && slash != copy) {
        *slash = 0;
        rc = make_dirs(copy);
    }
    if (rc == 0 && mkdir(path, 0777) && errno != EEXIST)
        rc = -1;
    if (rc == 0 && slash && slash != copy)
        (void)fsync_dir(copy);
    int e = errno;
    free(copy);
    errno = e;
    return rc;
}

/* ---- one part --------------------------------------------------------------- */

static void part_free(part *p)
{
    if (!p)
        return;
    if (p->fd >= 0)
        close(p->fd);
    if (p->z_ready)
        deflateEnd(&p->z);
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i]);
    free(p->keys);
    free(p->data);
    free(p->dir);
    free(p->relpath);
    free(p->final_path);
    free(p->inprogress_path);
    free(p);
}

static part *part_new(part_writer *w, const char *partition)
{
    part *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fd = -1;
    snprintf(p->partition, sizeof p->partition, "%s", partition);
    p->opened_mono = clock_mono_ns();
    p->opened_real = clock_real_ns();
    time_t secs = (time_t)(p->opened_real / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[32], name[96];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(name, sizeof name, "part-%s-%08x-%06lu.%s", stamp, w->run_id, w->seq++,
             extension(&w->o));
    size_t lo = strlen(w->o.out_dir), lp = strlen(partition), ln = strlen(name);
    p->dir = malloc(lo + lp + 2);
    p->relpath = malloc(lp + ln + 2);
    p->final_path = malloc(lo + lp + ln + 3);
    p->inprogress_path = malloc(lo + lp + ln + 16);
    if (!p->dir || !p->relpath || !p->final_path || !p->inprogress_path) {
        part_free(p);
        return NULL;
    }
    sprintf(p->dir, "%s/%s", w->o.out_dir, partition);
    sprintf(p->relpath, "%s/%s", partition, name);
    sprintf(p->final_path, "%s/%s", p->dir, name);
    sprintf(p->inprogress_path, "%s/.%s.inprogress", p->dir, name);
    if (w->o.gzip) {
        if (deflateInit2(&p->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            part_free(p);
            return NULL;
        }
        p->z_ready = 1;
    }
    return p;
}

/* Writes data[fed..len] to the in-progress file (compressed with gzip),
 * and with `finish` ends the gzip member. Starts the file over when an
 * earlier write failed. 0, or -1 with errno. */
static int part_flush(part *p, int finish, int gzip)
{
    if (p->broken || p->fd < 0) {
        if (p->fd >= 0)
            close(p->fd);
        p->fd = -1;
        p->fed = 0;
        if (gzip && deflateReset(&p->z) != Z_OK)
            return errno = EIO, -1;
        if (make_dirs(p->dir))
            return -1;
        p->fd = open(p->inprogress_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (p->fd < 0)
            return -1;
        p->broken = 0;
    }
    int rc = 0;
    if (!gzip) {
        rc = write_all(p->fd, p->data + p->fed, p->len - p->fed);
        if (rc == 0)
            p->fed = p->len;
    } else {
        unsigned char out[16384];
        p->z.next_in = (Bytef *)p->data + p->fed;
        p->z.avail_in = (uInt)(p->len - p->fed);
        int flush = finish ? Z_FINISH : Z_NO_FLUSH, zr;
        do {
            p->z.next_out = out;
            p->z.avail_out = sizeof out;
            zr = deflate(&p->z, flush);
            if (zr == Z_STREAM_ERROR) {
                errno = EIO;
                rc = -1;
                break;
            }
            size_t have = sizeof out - p->z.avail_out;
            if (have && write_all(p->fd, (char *)out, have)) {
                rc = -1;
                break;
            }
        } while (p->z.avail_out == 0 || (finish && zr != Z_STREAM_END));
        if (rc == 0)
            p->fed = p->len;
    }
    if (rc)
        p->broken = 1;
    return rc;
}

/* ---- the writer -------------------------------------------------------------- */

part_writer *part_writer_new(const part_writer_options *options, journal *j, key_set *keys)
{
    part_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->o = *options;
    w->journal = j;
    w->keys = keys;
    unsigned id = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &id, sizeof id) != (ssize_t)sizeof id)
            id = 0;
        close(fd);
    }
    w->run_id = id ^ (unsigned)getpid() ^ (unsigned)clock_real_ns();
    return w;
}

static void partition_of(int64_t time_ns, char out[32])
{
    time_t secs = (time_t)(time_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "dt=%Y-%m-%d/hour=%H", &tm);
}

static void log_write_error(const part *p, const char *what)
{
    fprintf(stderr, PROG ": error: cannot %s %s: %s; the part's %ld records are kept and "
                    "the write will be retried\n",
            what, p->inprogress_path, strerror(errno), p->records);
}

static int part_full(const part_writer *w, const part *p)
{
    return (w->o.roll_records > 0 && p->records >= w->o.roll_records) ||
           p->len >= w->o.roll_bytes;
}

int part_writer_add(part_writer *w, int64_t time_ns, const char *record, size_t len,
                    const char *key, int failed, int64_t found_ns)
{
    char partition[32];
    partition_of(time_ns, partition);
    /* The partition's open part, unless it is full: then a new one, and
     * the full one is rolled by the next part_writer_roll(). */
    part *p = NULL;
    for (size_t i = 0; i < w->nparts; i++)
        if (!strcmp(w->parts[i]->partition, partition) && !part_full(w, w->parts[i]))
            p = w->parts[i];
    if (!p) {
        if (w->nparts == MAX_OPEN_PARTS)
            (void)part_writer_roll(w, clock_mono_ns(), 1); /* too many partitions open */
        if (w->nparts == MAX_OPEN_PARTS)
            return errno = EAGAIN, -1;
        if (!(p = part_new(w, partition)))
            return -1;
        w->parts[w->nparts++] = p;
        /* Open the in-progress file now, so an unwritable output folder
         * is reported at the first record, not at the first roll. */
        if (part_flush(p, 0, w->o.gzip))
            log_write_error(p, "write");
    }
    if (p->len + len > p->cap) {
        size_t cap = p->cap ? p->cap : 65536;
        while (cap < p->len + len)
            cap *= 2;
        char *d = realloc(p->data, cap);
        if (!d)
            return -1;
        p->data = d;
        p->cap = cap;
    }
    if (p->nkeys == p->keys_cap) {
        size_t cap = p->keys_cap ? p->keys_cap * 2 : 64;
        char **k = realloc(p->keys, cap * sizeof *k);
        if (!k)
            return -1;
        p->keys = k;
        p->keys_cap = cap;
    }
    if (!(p->keys[p->nkeys] = strdup(key)))
        return -1;
    p->nkeys++;
    memcpy(p->data + p->len, record, len);
    p->len += len;
    if (p->records == 0 || found_ns < p->oldest_found)
        p->oldest_found = found_ns;
    p->records++;
    p->errors += failed != 0;
    if (!p->broken && p->len - p->fed >= WRITE_THROUGH_BYTES && part_flush(p, 0, w->o.gzip))
        log_write_error(p, "write");
    return 0;
}

/* fsync, commit in the journal, rename, fsync of the folder. */
static int roll_one(part_writer *w, part *p)
{
    if (part_flush(p, 1, w->o.gzip) || fsync(p->fd)) {
        p->broken = 1;
        log_write_error(p, "write");
        return -1;
    }
    if (journal_commit(w->journal, p->relpath, p->keys, p->nkeys)) {
        fprintf(stderr, PROG ": error: cannot commit %s in the journal: %s; will retry\n",
                p->relpath, strerror(errno));
        /* the file is complete; write it again anyway on retry, simplest */
        p->broken = 1;
        return -1;
    }
    /* Committed: from here on a restart finalizes this part itself. */
    for (size_t i = 0; i < p->nkeys; i++)
        (void)key_set_put(w->keys, p->keys[i], KEY_COMMITTED);
    close(p->fd);
    p->fd = -1;
    if (rename(p->inprogress_path, p->final_path)) {
        fprintf(stderr, PROG ": warning: %s is committed but could not be renamed to %s: %s; "
                        "the next start finishes it\n",
                p->inprogress_path, p->final_path, strerror(errno));
        w->keep_journal = 1;
    } else {
        (void)fsync_dir(p->dir);
    }
    double secs = (double)(clock_mono_ns() - p->opened_mono) / 1e9;
    fprintf(stderr, PROG ": rolled %s: %ld records, %ld errors, %.1f images/s\n", p->final_path,
            p->records, p->errors, secs > 0 ? (double)p->records / secs : 0.0);
    w->rolled++;
    w->committed += p->records;
    return 0;
}

int part_writer_roll(part_writer *w, int64_t now_ns, int all)
{
    int rc = 0;
    for (size_t i = 0; i < w->nparts;) {
        part *p = w->parts[i];
        int due = all || part_full(w, p) ||
                  (w->o.roll_ns > 0 && now_ns - p->opened_mono >= w->o.roll_ns);
        if (!due) {
            i++;
            continue;
        }
        if (roll_one(w, p)) {
            rc = -1;
            i++;
            continue;
        }
        part_free(p);
        memmove(&w->parts[i], &w->parts[i + 1], (w->nparts - i - 1) * sizeof *w->parts);
        w->nparts--;
    }
    if (rc == 0 && !w->keep_journal && journal_compact(w->journal, w->keys, 0))
        fprintf(stderr, PROG ": warning: journal compaction failed: %s (will retry)\n",
                strerror(errno));
    return rc;
}

int64_t part_writer_next_deadline(const part_writer *w)
{
    int64_t next = -1;
    if (w->o.roll_ns <= 0)
        return -1;
    for (size_t i = 0; i < w->nparts; i++) {
        int64_t d = w->parts[i]->opened_mono + w->o.roll_ns;
        if (next < 0 || d < next)
            next = d;
    }
    return next;
}

size_t part_writer_open_parts(const part_writer *w)
{
    return w->nparts;
}

long part_writer_pending_records(const part_writer *w)
{
    long n = 0;
    for (size_t i = 0; i < w->nparts; i++)
        n += w->parts[i]->records;
    return n;
}

int64_t part_writer_oldest_found(const part_writer *w)
{
    int64_t oldest = -1;
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i]->records > 0 && (oldest < 0 || w->parts[i]->oldest_found < oldest))
            oldest = w->parts[i]->oldest_found;
    return oldest;
}

long part_writer_rolled_parts(const part_writer *w)
{
    return w->rolled;
}

long part_writer_committed_records(const part_writer *w)
{
    return w->committed;
}

void part_writer_free(part_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nparts; i++)
        part_free(w->parts[i]);
    free(w);
}

/* ---- recovery ---------------------------------------------------------------- */

/* OUT/DIR/.NAME.inprogress of OUT/DIR/NAME */
static char *inprogress_of(const char *final_path)
{
    const char *slash = strrchr(final_path, '/');
    size_t dl = slash ? (size_t)(slash - final_path) + 1 : 0;
    char *s = malloc(strlen(final_path) + 13);
    if (s)
        sprintf(s, "%.*s.%s.inprogress", (int)dl, final_path, final_path + dl);
    return s;
}

static int is_inprogress_name(const char *name)
{
    size_t n = strlen(name), suffix = strlen(".inprogress");
    return !strncmp(name, ".part-", 6) && n > suffix && !strcmp(name + n - suffix, ".inprogress");
}

/* Calls fn on every OUT/dt=*\/hour=*\/ folder. */
static int each_hour_dir(const char *out_dir, int (*fn)(const char *dir))
{
    int rc = 0;
    DIR *d = opendir(out_dir);
    if (!d)
        return 0; /* nothing written yet */
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "dt=", 3))
            continue;
        char day[4096];
        snprintf(day, sizeof day, "%s/%s", out_dir, e->d_name);
        DIR *dd = opendir(day);
        if (!dd)
            continue;
        struct dirent *h;
        while ((h = readdir(dd))) {
            if (strncmp(h->d_name, "hour=", 5))
                continue;
            char hour[4096 + 256];
            snprintf(hour, sizeof hour, "%s/%s", day, h->d_name);
            if (fn(hour))
                rc = -1;
        }
        closedir(dd);
    }
    closedir(d);
    return rc;
}

static int discard_inprogress(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int rc = 0, removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_inprogress_name(e->d_name))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path)) {
            fprintf(stderr, PROG ": error: cannot delete the uncommitted part %s: %s\n", path,
                    strerror(errno));
            rc = -1;
        } else {
            fprintf(stderr, PROG ": discarded the uncommitted part %s (its inputs are taken "
                            "again)\n", path);
            removed = 1;
        }
    }
    closedir(d);
    if (removed)
        (void)fsync_dir(dir);
    return rc;
}

int part_writer_recover(const char *out_dir, char *const *parts, size_t nparts)
{
    int rc = 0;
    for (size_t i = 0; i < nparts; i++) {
        char *final_path = malloc(strlen(out_dir) + strlen(parts[i]) + 2);
        char *inprogress = NULL;
        if (!final_path)
            return -1;
        sprintf(final_path, "%s/%s", out_dir, parts[i]);
        struct stat st;
        if (stat(final_path, &st) != 0 && errno == ENOENT &&
            (inprogress = inprogress_of(final_path))) {
            if (rename(inprogress, final_path) == 0) {
                char *slash = strrchr(final_path, '/');
                *slash = 0;
                (void)fsync_dir(final_path);
                *slash = '/';
                fprintf(stderr, PROG ": finalized the committed part %s\n", final_path);
            } else if (errno == ENOENT) {
                fprintf(stderr, PROG ": warning: the committed part %s is missing (deleted "
                                "after it was written?)\n", final_path);
            } else {
                fprintf(stderr, PROG ": error: the committed part %s is missing and %s cannot "
                                "be renamed to it: %s\n",
                        final_path, inprogress, strerror(errno));
                rc = -1;
            }
        }
        free(inprogress);
        free(final_path);
    }
    if (rc == 0 && each_hour_dir(out_dir, discard_inprogress))
        rc = -1;
    return rc;
}
