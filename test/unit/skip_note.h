/* Skipping a unit test, for a reason outside the project only (the CPU has
 * no AVX2; this torch has no onednn engine): anything else that stops a
 * test from running is a failure. fx_skip() prints the reason and appends
 * "test: reason" to the file IMGCLASS_SKIP_LOG names, which test/run_all.sh
 * lists (and counts) in its summary, so a skip is never read as a pass.
 * Use it instead of cmocka's bare skip(), which says nothing. Include
 * <cmocka.h> before this header. */
#ifndef IMGCLASS_TEST_SKIP_NOTE_H
#define IMGCLASS_TEST_SKIP_NOTE_H

void fx_skip_note(const char *test, const char *reason);

#define fx_skip(reason)                   \
    do {                                  \
        fx_skip_note(__func__, (reason)); \
        skip();                           \
    } while (0)

#endif
