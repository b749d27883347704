/* Asserting a span (pointer and length, not terminated) that a router or
 * parser found: the serve unit tests share it. Include <cmocka.h> first. */
#ifndef IMGCLASS_TEST_SPAN_ASSERT_H
#define IMGCLASS_TEST_SPAN_ASSERT_H

#include <stddef.h>

/* want NULL: nothing asserted. */
void fx_assert_span(const char *got, size_t got_len, const char *want);
/* The version part of a route: want NULL asserts that none was found. */
void fx_assert_version(const char *got, size_t got_len, const char *want);

#endif
