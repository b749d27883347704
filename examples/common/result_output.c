/* Output records; formats in result_output.h. */
#include "result_output.h"

#include "text_escape.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void text_label(FILE *out, const imgclass_class *c)
{
    if (c->label)
        tsv_write_escaped(out, c->label);
    else
        fprintf(out, "class %d", c->index);
}

static void json_number(FILE *out, float v)
{
    if (isfinite(v))
        fprintf(out, "%.9g", (double)v);
    else
        fputs("null", out);
}

int write_result(FILE *out, out_format format, const char *path, const imgclass_class *top, int k)
{
    return write_result_timed(out, format, path, NULL, top, k);
}

int write_failure(FILE *out, out_format format, const char *path, const char *message)
{
    return write_failure_timed(out, format, path, NULL, message);
}

/* Writes one rendered record whole, or not at all: it is flushed at once,
 * and when the write fails (a full disk, /dev/full, a closed pipe) on a
 * regular file, the file is cut back to where the record began, so a
 * reader never sees half a record. Returns 0, or -1 with errno set. */
static int emit(FILE *out, const char *record, size_t len)
{
    if (fflush(out) != 0)
        return -1;
    int fd = fileno(out);
    struct stat st;
    off_t start = -1;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        start = lseek(fd, 0, SEEK_CUR);
    if (fwrite(record, 1, len, out) == len && fflush(out) == 0)
        return 0;
    int e = errno ? errno : EIO;
    if (start >= 0 && ftruncate(fd, start) == 0)
        (void)lseek(fd, start, SEEK_SET);
    errno = e;
    return -1;
}

/* Renders a record with `render` into memory, then emits it. */
#define RENDERED(out, render)                                                                  \
    do {                                                                                       \
        char *buf_ = NULL;                                                                     \
        size_t len_ = 0;                                                                       \
        FILE *m_ = open_memstream(&buf_, &len_);                                               \
        if (!m_)                                                                               \
            return -1;                                                                         \
        render;                                                                                \
        int bad_ = ferror(m_);                                                                 \
        if (fclose(m_) != 0 || bad_) {                                                         \
            free(buf_);                                                                        \
            errno = ENOMEM;                                                                    \
            return -1;                                                                         \
        }                                                                                      \
        int rc_ = emit(out, buf_, len_);                                                       \
        free(buf_);                                                                            \
        return rc_;                                                                            \
    } while (0)

/* The "time" member (JSON) or first column (TSV) of a timed record. */
static void json_time(FILE *out, const char *time)
{
    if (time) {
        fputs(", \"time\": ", out);
        json_write_string(out, time);
    }
}

static void tsv_time(FILE *out, const char *time)
{
    if (time) {
        tsv_write_escaped(out, time);
        putc('\t', out);
    }
}

static void render_result(FILE *out, out_format format, const char *path, const char *time,
                          const imgclass_class *top, int k)
{
    switch (format) {
    case OUT_TEXT:
        tsv_write_escaped(out, path);
        if (k == 1) {
            fputs(": ", out);
            text_label(out, &top[0]);
            fprintf(out, " (%.6g)\n", (double)top[0].score);
            break;
        }
        fputs(":\n", out);
        for (int i = 0; i < k; i++) {
            fputs("  ", out);
            text_label(out, &top[i]);
            fprintf(out, " (%.6g)\n", (double)top[i].score);
        }
        break;
    case OUT_JSON:
        fputs("{\"path\": ", out);
        json_write_string(out, path);
        json_time(out, time);
        fputs(", \"top\": [", out);
        for (int i = 0; i < k; i++) {
            fprintf(out, "%s{\"index\": %d, ", i ? ", " : "", top[i].index);
            if (top[i].label) {
                fputs("\"label\": ", out);
                json_write_string(out, top[i].label);
                fputs(", ", out);
            }
            fputs("\"probability\": ", out);
            json_number(out, top[i].score);
            putc('}', out);
        }
        fputs("]}\n", out);
        break;
    case OUT_TSV:
        tsv_time(out, time);
        tsv_write_escaped(out, path);
        fprintf(out, "\t%d\t", k > 0 ? top[0].index : -1);
        if (k > 0 && top[0].label)
            tsv_write_escaped(out, top[0].label);
        fprintf(out, "\t%.9g\n", k > 0 ? (double)top[0].score : NAN);
        break;
    }
}

static void render_failure(FILE *out, out_format format, const char *path, const char *time,
                           const char *message)
{
    switch (format) {
    case OUT_TEXT:
        tsv_write_escaped(out, path);
        fputs(": error: ", out);
        tsv_write_escaped(out, message);
        putc('\n', out);
        break;
    case OUT_JSON:
        fputs("{\"path\": ", out);
        json_write_string(out, path);
        json_time(out, time);
        fputs(", \"error\": ", out);
        json_write_string(out, message);
        fputs("}\n", out);
        break;
    case OUT_TSV:
        tsv_time(out, time);
        tsv_write_escaped(out, path);
        fputs("\t-1\t", out);
        tsv_write_escaped(out, message);
        fputs("\tnan\n", out);
        break;
    }
}

int write_result_timed(FILE *out, out_format format, const char *path, const char *time,
                       const imgclass_class *top, int k)
{
    RENDERED(out, render_result(m_, format, path, time, top, k));
}

int write_failure_timed(FILE *out, out_format format, const char *path, const char *time,
                        const char *message)
{
    RENDERED(out, render_failure(m_, format, path, time, message));
}
