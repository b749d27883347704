#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "span_assert.h"

void fx_assert_span(const char *got, size_t got_len, const char *want)
{
    if (!want)
        return;
    assert_int_equal(got_len, strlen(want));
    assert_memory_equal(got, want, got_len);
}

void fx_assert_version(const char *got, size_t got_len, const char *want)
{
    if (want)
        fx_assert_span(got, got_len, want);
    else
        assert_int_equal(got_len, 0);
}
