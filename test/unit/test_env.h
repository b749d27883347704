/* What a unit test may need to know of the tool it runs under: valgrind
 * (RUNNING_ON_VALGRIND: an emulated CPU without AVX-512, its own memory
 * accounting) or AddressSanitizer (UNDER_ASAN: an allocator that keeps
 * freed memory in quarantine). */
#ifndef IMGCLASS_TEST_ENV_H
#define IMGCLASS_TEST_ENV_H

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#endif
