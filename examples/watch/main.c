/* imgclass-watch: a watch-folder stream classifier.
 *
 *   input_watch (initial walk, inotify or polling) -> dedupe by key ->
 *   imgclass pipeline (windows: --batch / --window-ms) -> callback formats
 *   the record -> main thread: part_writer (partitions, in-progress parts,
 *   rolls committed in the journal)
 *
 * The main thread owns every file; the pipeline's callback only formats a
 * record and queues it, so an fsync never holds up a forward pass. What it
 * has in hand is published to watch_metrics (GET /metrics on its own thread
 * with --metrics-listen, and the systemd STATUS= line). */
#include "input_watch.h"
#include "journal.h"
#include "key_set.h"
#include "metrics_server.h"
#include "model_open.h"
#include "part_writer.h"
#include "pp_options.h"
#include "result_output.h"
#include "service_notify.h"
#include "text_escape.h"
#include "watch_args.h"
#include "watch_metrics.h"

#include <imgclass.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG WATCH_PROG
/* Inputs submitted per turn of the loop before results are drained. */
#define SUBMIT_CHUNK 64
#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000
/* How often the STATUS= sentence is refreshed (when it has changed). */
#define STATUS_EVERY_NS 2000000000LL

/* ---- signals ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_signals, roll_requested;
static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP)
        roll_requested = 1;
    else
        stop_signals++;
    char c = 0;
    (void)!write(signal_pipe[1], &c, 1);
    errno = saved;
}

static int make_pipe(int fds[2])
{
    if (pipe(fds))
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static void drain_fd(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static int install_signals(void)
{
    if (make_pipe(signal_pipe))
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* ---- results: from the pipeline's callback to the main thread ------------------- */

/* One input on its way through the pipeline (the submit's user pointer),
 * then its record on the way to its part. The record is part of it, so the
 * callback allocates nothing it could fail to get but the text. */
typedef struct inflight {
    /* set by the main thread before the submit */
    char *path, *key;
    int64_t mtime_ns;
    int64_t found_ns; /* when the input was found (the backlog's age) */
    /* main thread only: the inputs not yet drained, in the order taken
     * (which is the order found), so the oldest is first */
    struct inflight *older, *newer;
    /* set by the callback, read by the main thread after the lock */
    struct inflight *next_done;
    char *text; /* the formatted record; NULL: out of memory */
    size_t len;
    int64_t time_ns;
    int failed;
} inflight;

typedef struct watcher {
    const watch_args *args;
    imgclass_pipeline *pipeline;
    part_writer *writer;
    journal *journal;
    key_set keys;
    /* the queue the callback fills */
    pthread_mutex_t lock;
    inflight *head, **tail;
    int wake[2];
    /* main thread only */
    int out_of_memory; /* a record could not be formatted: stop, commit nothing more */
    path_list todo;    /* paths found */
    size_t next;       /* the first of todo not yet taken */
    inflight *oldest, *newest; /* not yet drained */
    long inflight, taken, failed;
    int64_t started_mono;
    watch_metrics metrics; /* what it publishes */
} watcher;

static void free_inflight(inflight *in)
{
    if (in) {
        free(in->path);
        free(in->key);
        free(in->text);
        free(in);
    }
}

static void format_time(int64_t ns, char out[40])
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03dZ", (int)(ns % 1000000000 / 1000000));
}

/* --format text: the original job's lines "PATH: CLASS: PROBABILITY", one
 * per class (CLASS is the label, or "class N" without labels); a failed
 * input "PATH: error: MESSAGE" as in imgclass classify. */
static void write_seed_text(FILE *out, const char *path, const imgclass_pipeline_result *r)
{
    if (r->status != IMGCLASS_OK) {
        write_failure(out, OUT_TEXT, path, r->error);
        return;
    }
    for (int i = 0; i < r->k; i++) {
        tsv_write_escaped(out, path);
        fputs(": ", out);
        if (r->top[i].label)
            tsv_write_escaped(out, r->top[i].label);
        else
            fprintf(out, "class %d", r->top[i].index);
        fprintf(out, ": %.6g\n", (double)r->top[i].score);
    }
}

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    watcher *w = ctx;
    inflight *in = r->user;
    char stamp[40];
    int64_t t = w->args->partition_mtime ? in->mtime_ns : clock_real_ns();
    format_time(t, stamp);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        if (w->args->format == OUT_TEXT)
            write_seed_text(mem, in->path, r);
        else if (r->status == IMGCLASS_OK)
            write_result_timed(mem, w->args->format, in->path, stamp, r->top, r->k);
        else
            write_failure_timed(mem, w->args->format, in->path, stamp, r->error);
        if (fclose(mem) != 0) {
            free(text);
            text = NULL;
        }
    }
    /* Without a text (out of memory) the main thread stops without
     * committing it, so the next start takes it again. */
    in->text = text;
    in->len = len;
    in->time_ns = t;
    in->failed = r->status != IMGCLASS_OK;
    watch_metrics_batch(&w->metrics, r->batch_size);
    pthread_mutex_lock(&w->lock);
    in->next_done = NULL;
    *w->tail = in;
    w->tail = &in->next_done;
    pthread_mutex_unlock(&w->lock);
    char c = 0;
    (void)!write(w->wake[1], &c, 1);
}

static void unlink_inflight(watcher *w, inflight *in)
{
    *(in->older ? &in->older->newer : &w->oldest) = in->newer;
    *(in->newer ? &in->newer->older : &w->newest) = in->older;
}

/* The figures of watch_metrics.h, from what the main thread has in hand:
 * called whenever one of them may have changed. */
static void publish(watcher *w)
{
    watch_figures f;
    size_t queued = w->todo.count - w->next;
    long pending = w->writer ? part_writer_pending_records(w->writer) : 0;
    f.backlog = (long)queued + w->inflight + pending;
    /* The oldest of the three stages (each holds its inputs in the order
     * found, but records leave the pipeline in any order). */
    int64_t oldest = w->writer ? part_writer_oldest_found(w->writer) : -1;
    if (w->oldest && (oldest < 0 || w->oldest->found_ns < oldest))
        oldest = w->oldest->found_ns;
    if (queued && (oldest < 0 || w->todo.found_ns[w->next] < oldest))
        oldest = w->todo.found_ns[w->next];
    f.oldest_found_ns = oldest;
    f.parts_rolled = w->writer ? part_writer_rolled_parts(w->writer) : 0;
    f.records_written = w->writer ? part_writer_committed_records(w->writer) : 0;
    watch_metrics_publish(&w->metrics, &f);
}

/* Moves the finished records into their parts. 0, or -1 out of memory. */
static int drain_results(watcher *w)
{
    drain_fd(w->wake[0]);
    pthread_mutex_lock(&w->lock);
    inflight *d = w->head;
    w->head = NULL;
    w->tail = &w->head;
    pthread_mutex_unlock(&w->lock);
    int rc = 0;
    while (d) {
        inflight *next = d->next_done;
        if (!d->text)
            w->out_of_memory = 1;
        else if (!w->out_of_memory && rc == 0 &&
                 part_writer_add(w->writer, d->time_ns, d->text, d->len, d->key, d->failed,
                                 d->found_ns))
            rc = -1;
        w->failed += d->failed;
        w->inflight--;
        unlink_inflight(w, d);
        free_inflight(d);
        d = next;
    }
    publish(w);
    return w->out_of_memory ? -1 : rc;
}

/* ---- taking inputs --------------------------------------------------------------- */

/* Submits `path` (found at found_ns) unless it is not a regular file or
 * already taken (same key). 0, or -1 on a fatal error (printed). */
static int take(watcher *w, const char *path, int64_t found_ns)
{
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode))
        return 0; /* gone again, or not a file */
    char *key = input_key(path, &st);
    if (!key)
        goto oom;
    if (key_set_get(&w->keys, key) >= 0) {
        free(key);
        return 0;
    }
    inflight *in = calloc(1, sizeof *in);
    if (!in || !(in->path = strdup(path))) {
        free(in);
        free(key);
        goto oom;
    }
    in->key = key;
    in->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    in->found_ns = found_ns;
    if (key_set_put(&w->keys, key, KEY_PENDING)) {
        free_inflight(in);
        goto oom;
    }
    /* Linked before the submit: once submitted, the callback owns the
     * fields it sets. */
    in->older = w->newest;
    *(w->newest ? &w->newest->newer : &w->oldest) = in;
    w->newest = in;
    imgclass_input input = {sizeof input, IMGCLASS_INPUT_PATH, in->path, NULL, 0, NULL};
    if (imgclass_pipeline_submit(w->pipeline, &input, in, 0, NULL) != IMGCLASS_OK) {
        fprintf(stderr, PROG ": cannot submit %s: %s\n", path, imgclass_last_error());
        key_set_remove(&w->keys, key);
        unlink_inflight(w, in);
        free_inflight(in);
        return -1;
    }
    w->inflight++;
    w->taken++;
    return 0;
oom:
    fprintf(stderr, PROG ": out of memory\n");
    return -1;
}

/* ---- the loop ------------------------------------------------------------------------ */

static void print_stats(watcher *w, double *last_t, long *last_taken)
{
    imgclass_pipeline_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    double now = (double)(clock_mono_ns() - w->started_mono) / 1e9;
    double rate = now > *last_t ? (double)(w->taken - *last_taken) / (now - *last_t) : 0.0;
    if (imgclass_pipeline_stats_get(w->pipeline, &s) == IMGCLASS_OK)
        fprintf(stderr,
                PROG ": stats: %.1f images/s, taken %ld, failed %ld, queue depth %llu/%d, "
                     "batches %llu (full %llu, window %llu), latency p50 %.1f ms p99 %.1f ms, "
                     "open parts %zu with %ld records, committed %ld in %ld parts\n",
                rate, w->taken, w->failed, (unsigned long long)s.queue_depth, s.queue_capacity,
                (unsigned long long)s.batches, (unsigned long long)s.batches_full,
                (unsigned long long)s.batches_deadline, s.latency_p50_us / 1e3,
                s.latency_p99_us / 1e3, part_writer_open_parts(w->writer),
                part_writer_pending_records(w->writer), part_writer_committed_records(w->writer),
                part_writer_rolled_parts(w->writer));
    *last_t = now;
    *last_taken = w->taken;
}

static int min_timeout(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static int ms_until(int64_t deadline_ns)
{
    if (deadline_ns < 0)
        return -1;
    int64_t left = (deadline_ns - clock_mono_ns() + 999999) / 1000000;
    return left < 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
}

/* Rolls what is due (everything with `all`); on failure waits with backoff
 * and tries again until it succeeds. Results keep being drained meanwhile.
 * Once a stop signal has come: without `all` it returns at once (the
 * shutdown rolls everything), with `all` it gives up after a few tries.
 * 0, or -1 when it gave up (records left uncommitted). */
static int roll_with_retry(watcher *w, int all)
{
    int delay = RETRY_MIN_MS;
    for (int attempt = 1;; attempt++) {
        int rolled = part_writer_roll(w->writer, clock_mono_ns(), all);
        publish(w);
        if (rolled == 0)
            return 0;
        if (stop_signals && !all)
            return 0;
        if (stop_signals && attempt >= 3) {
            fprintf(stderr, PROG ": stopping with %ld records not committed; the next start "
                            "takes their inputs again\n",
                    part_writer_pending_records(w->writer));
            return -1;
        }
        fprintf(stderr, PROG ": retrying in %.1f s\n", delay / 1000.0);
        struct pollfd p = {signal_pipe[0], POLLIN, 0};
        (void)poll(&p, 1, stop_signals ? RETRY_MIN_MS : delay);
        drain_fd(signal_pipe[0]);
        if (drain_results(w))
            return -1;
        delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
    }
}

/* The STATUS= sentence, sent when it differs from the last one sent. */
static void update_status(watcher *w, char last[256])
{
    char sentence[256], msg[300];
    watch_metrics_status(&w->metrics, sentence, sizeof sentence);
    if (!strcmp(sentence, last))
        return;
    snprintf(msg, sizeof msg, "STATUS=%s", sentence);
    (void)service_notify(msg); /* a failure was reported once, at READY=1 */
    snprintf(last, 256, "%s", sentence);
}

static int run(watcher *w, input_watch *iw)
{
    const watch_args *a = w->args;
    path_list *todo = &w->todo;
    double last_stats_t = 0;
    long last_stats_taken = 0;
    int64_t next_stats = a->stats_seconds ? clock_mono_ns() + a->stats_seconds * 1000000000LL : -1;
    /* Under a systemd watchdog, a ping at half its interval from this loop:
     * a loop that stops turning gets the service restarted. */
    const int64_t watchdog_ns = (int64_t)(service_watchdog_usec() / 2) * 1000;
    int64_t next_ping = watchdog_ns ? clock_mono_ns() : -1;
    /* Under a service manager, the figures in one sentence every few
     * seconds (the first at once). */
    char last_status[256] = "";
    int64_t next_status = getenv("NOTIFY_SOCKET") ? clock_mono_ns() : -1;
    publish(w);
    for (;;) {
        if (next_ping >= 0 && clock_mono_ns() >= next_ping) {
            service_notify("WATCHDOG=1");
            next_ping = clock_mono_ns() + watchdog_ns;
        }
        if (next_status >= 0 && clock_mono_ns() >= next_status) {
            update_status(w, last_status);
            next_status = clock_mono_ns() + STATUS_EVERY_NS;
        }
        if (stop_signals)
            break;
        if (roll_requested) {
            roll_requested = 0;
            fprintf(stderr, PROG ": SIGHUP: finalizing the open parts\n");
            if (drain_results(w) || roll_with_retry(w, 1))
                return -1;
        }
        for (size_t n = 0; w->next < todo->count && n < SUBMIT_CHUNK && !stop_signals; n++) {
            size_t i = w->next++;
            if (take(w, todo->items[i], todo->found_ns[i]))
                return -1;
            publish(w);
        }
        if (w->next == todo->count) {
            path_list_clear(todo);
            w->next = 0;
        }
        if (drain_results(w))
            goto oom;
        if (a->once && w->next == todo->count && w->inflight == 0)
            return 0;
        if (a->once && w->next == todo->count) {
            /* Everything is submitted: cut the last window now. */
            if (imgclass_pipeline_flush(w->pipeline) != IMGCLASS_OK)
                return -1;
            continue;
        }
        int rolled = part_writer_roll(w->writer, clock_mono_ns(), 0);
        publish(w);
        if (rolled && roll_with_retry(w, 0))
            return -1;
        if (next_stats >= 0 && clock_mono_ns() >= next_stats) {
            print_stats(w, &last_stats_t, &last_stats_taken);
            next_stats += a->stats_seconds * 1000000000LL;
        }
        if (w->next < todo->count)
            continue; /* more to submit first */
        int timeout = min_timeout(ms_until(part_writer_next_deadline(w->writer)),
                                  input_watch_timeout_ms(iw));
        timeout = min_timeout(timeout, ms_until(next_stats));
        timeout = min_timeout(timeout, ms_until(next_ping));
        timeout = min_timeout(timeout, ms_until(next_status));
        struct pollfd fds[3] = {{signal_pipe[0], POLLIN, 0}, {w->wake[0], POLLIN, 0},
                                {input_watch_fd(iw), POLLIN, 0}};
        int nfds = input_watch_fd(iw) >= 0 ? 3 : 2;
        if (poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
            return -1;
        }
        drain_fd(signal_pipe[0]);
        if (input_watch_collect(iw, todo))
            goto oom;
        publish(w);
    }
    return 0;
oom:
    fprintf(stderr, PROG ": out of memory\n");
    return -1;
}

/* Finishes the window in flight, writes its records and finalizes every
 * open part. 0, or -1 when something stays uncommitted. */
static int shut_down(watcher *w)
{
    if (imgclass_pipeline_flush(w->pipeline) != IMGCLASS_OK)
        fprintf(stderr, PROG ": %s\n", imgclass_last_error());
    if (drain_results(w)) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    return roll_with_retry(w, 1);
}

/* ---- setup --------------------------------------------------------------------------- */

static int make_output_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
    char *copy = strdup(dir);
    if (!copy)
        return -1;
    char *slash = strrchr(copy, '/');
    int rc = 0;
    if (slash && slash != copy) {
        *slash = 0;
        rc = make_output_dir(copy);
    }
    free(copy);
    return rc == 0 && mkdir(dir, 0777) && errno != EEXIST ? -1 : rc;
}

int main(int argc, char **argv)
{
    watch_args a;
    int pr = watch_args_parse(argc, argv, &a);
    if (pr) {
        watch_args_free(&a);
        return pr > 0 ? 0 : 1;
    }
    int status = 1;
    watcher w;
    memset(&w, 0, sizeof w);
    w.args = &a;
    w.wake[0] = w.wake[1] = -1;
    w.tail = &w.head;
    pthread_mutex_init(&w.lock, NULL);
    if (watch_metrics_init(&w.metrics)) {
        fprintf(stderr, PROG ": cannot create a lock\n");
        pthread_mutex_destroy(&w.lock);
        watch_args_free(&a);
        return 1;
    }
    imgclass_model *model = NULL;
    input_watch *iw = NULL;
    metrics_server *metrics = NULL;
    char **parts = NULL;
    size_t nparts = 0;
    char err[512];

    struct stat st;
    if (stat(a.input, &st)) {
        fprintf(stderr, PROG ": --input %s: %s\n", a.input, strerror(errno));
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, PROG ": --input %s: not a folder\n", a.input);
        goto done;
    }
    if (make_output_dir(a.output) || access(a.output, W_OK)) {
        fprintf(stderr, PROG ": --output %s: %s\n", a.output, strerror(errno));
        goto done;
    }
    if (install_signals() || make_pipe(w.wake)) {
        fprintf(stderr, PROG ": cannot create a pipe: %s\n", strerror(errno));
        goto done;
    }
    /* Recovery comes first: the journal says what is committed, and the
     * parts it names are finalized before anything new is written. */
    if (journal_open(a.state, &w.keys, &parts, &nparts, &w.journal, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        goto done;
    }
    journal_set_compact_bytes(w.journal, a.compact_bytes);
    if (part_writer_recover(a.output, parts, nparts))
        goto done;
    if (journal_compact(w.journal, &w.keys, 1)) {
        fprintf(stderr, PROG ": cannot compact the journal in %s: %s\n", a.state,
                strerror(errno));
        goto done;
    }
    imgclass_preprocess_options pp; /* the model's recipe, the options on top */
    model = cli_model_open_pp(PROG, a.model_path, a.labels_path, &a.model, &a.pa, &pp);
    if (!model)
        goto done;
    cli_print_preprocess(PROG, a.model_path, model, &a.pa, &pp);

    part_writer_options po = {a.output, a.format, a.gzip,
                              (int64_t)a.roll_seconds * 1000000000LL, a.roll_records,
                              (size_t)256 << 20};
    if (!(w.writer = part_writer_new(&po, w.journal, &w.keys))) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    const cli_pipeline_args pargs = {.batch = a.batch,
                                     .max_delay_us = (int64_t)a.window_ms * 1000,
                                     .preprocess_threads = a.pp_threads,
                                     .topk = a.topk};
    imgclass_pipeline_options popt =
        cli_pipeline_options(model, &pp, &a.decode, &pargs, on_result, &w);
    if (imgclass_pipeline_create(model, &popt, &w.pipeline) != IMGCLASS_OK) {
        fprintf(stderr, PROG ": %s\n", imgclass_last_error());
        goto done;
    }
    w.metrics.pipeline = w.pipeline;
    watch_mode mode_used;
    w.started_mono = clock_mono_ns();
    if (!(iw = input_watch_start(a.input, a.mode, a.poll_ms, &w.todo, &mode_used)))
        goto done;
    publish(&w);
    if (a.metrics_listen && !(metrics = metrics_server_start(a.metrics_listen, &w.metrics)))
        goto done;
    fprintf(stderr, PROG ": %s %s -> %s (%zu committed before, %zu files found)\n",
            a.once ? "classifying" : mode_used == WATCH_POLL ? "polling" : "watching", a.input,
            a.output, w.keys.count, w.todo.count);
    char ready[4160];
    snprintf(ready, sizeof ready, "READY=1\nSTATUS=%s %s", a.once ? "classifying" : "watching",
             a.input);
    if (service_notify(ready) != 0)
        fprintf(stderr, PROG ": NOTIFY_SOCKET: %s\n", strerror(errno));
    int rc = run(&w, iw);
    service_notify("STOPPING=1\nSTATUS=finishing the window, finalizing the parts");
    if (shut_down(&w) == 0 && rc == 0)
        status = a.once && w.failed ? 2 : 0;
    double secs = (double)(clock_mono_ns() - w.started_mono) / 1e9;
    fprintf(stderr, PROG ": %ld images, %ld failed, %.2f s, %.1f images/s; %ld records in %ld "
                    "parts\n",
            w.taken, w.failed, secs, secs > 0 ? (double)w.taken / secs : 0.0,
            part_writer_committed_records(w.writer), part_writer_rolled_parts(w.writer));

done:
    /* First, while everything it reads is there. */
    metrics_server_stop(metrics);
    /* Delivers anything still in flight into the queue, which is freed
     * below uncommitted: the next start takes those inputs again. */
    imgclass_pipeline_free(w.pipeline);
    part_writer_free(w.writer);
    input_watch_free(iw);
    path_list_free(&w.todo);
    for (size_t i = 0; i < nparts; i++)
        free(parts[i]);
    free(parts);
    journal_close(w.journal);
    key_set_free(&w.keys);
    imgclass_model_free(model);
    /* Inputs taken and never drained (a stop on an error): with the
     * pipeline gone, each is in this list, delivered or not. */
    while (w.oldest) {
        inflight *in = w.oldest;
        w.oldest = in->newer;
        free_inflight(in);
    }
    pthread_mutex_destroy(&w.lock);
    watch_metrics_destroy(&w.metrics);
    for (int i = 0; i < 2; i++) {
        if (w.wake[i] >= 0)
            close(w.wake[i]);
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
    }
    watch_args_free(&a);
    return status;
}
