/* fx_skip_note(): see skip_note.h. */
#include "skip_note.h"

#include <stdio.h>
#include <stdlib.h>

void fx_skip_note(const char *test, const char *reason)
{
    printf("SKIP: %s: %s\n", test, reason);
    fflush(stdout);
    const char *log = getenv("IMGCLASS_SKIP_LOG");
    if (!log || !*log)
        return;
    FILE *f = fopen(log, "a");
    if (!f) { /* the summary would miss this skip: say so where it is seen */
        fprintf(stderr, "SKIP: %s: cannot append to %s\n", test, log);
        return;
    }
    fprintf(f, "%s: %s\n", test, reason);
    fclose(f);
}
