/* A one-line progress bar on stderr, redrawn at most every 100 ms:
 *   "[=========>          ] 45/100 2 failed 31.2 img/s" (total known)
 *   "123 images, 2 failed, 31.2 img/s" (a stream). */
#ifndef IMGCLASS_CLI_PROGRESS_H
#define IMGCLASS_CLI_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int enabled;
    long total; /* -1 when unknown */
    int64_t start_ns, last_ns;
    int drawn;
} progress;

void progress_start(progress *p, int enabled, long total);
void progress_update(progress *p, long done, long failed, int force);
/* Draws the final state and ends the line, so the summary starts clean. */
void progress_finish(progress *p, long done, long failed);

#endif
