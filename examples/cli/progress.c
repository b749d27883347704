/* Progress bar on stderr; see progress.h. */
#include "progress.h"

#include "path_source.h"

#include <stdio.h>

void progress_start(progress *p, int enabled, long total)
{
    p->enabled = enabled;
    p->total = total;
    p->start_ns = clock_mono_ns();
    p->last_ns = 0;
    p->drawn = 0;
}

void progress_update(progress *p, long done, long failed, int force)
{
    if (!p->enabled)
        return;
    int64_t now = clock_mono_ns();
    if (!force && p->drawn && now - p->last_ns < 100000000)
        return;
    p->last_ns = now;
    double secs = (double)(now - p->start_ns) / 1e9;
    double rate = secs > 0 ? (double)done / secs : 0.0;
    if (p->total > 0) {
        enum { WIDTH = 30 };
        int fill = (int)((double)WIDTH * (double)done / (double)p->total);
        if (fill > WIDTH)
            fill = WIDTH;
        char bar[WIDTH + 1];
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %ld/%ld, %ld failed, %.1f img/s\033[K", bar, done, p->total,
                failed, rate);
    } else {
        fprintf(stderr, "\r%ld images, %ld failed, %.1f img/s\033[K", done, failed, rate);
    }
    fflush(stderr);
    p->drawn = 1;
}

void progress_finish(progress *p, long done, long failed)
{
    if (!p->enabled)
        return;
    progress_update(p, done, failed, 1);
    fputc('\n', stderr);
    fflush(stderr);
    p->drawn = 0;
}
