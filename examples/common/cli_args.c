/* Option values; see cli_args.h. */
#include "cli_args.h"

#include <stdio.h>
#include <string.h>

const char *cli_option_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
                             int *matched, const char *prog)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    *matched = 0;
    if (!strncmp(a, lng, n) && a[n] == '=') {
        *matched = 1;
        (*i)++;
        return a + n + 1;
    }
    if (strcmp(a, lng) && !(shrt && !strcmp(a, shrt)))
        return NULL;
    *matched = 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: option %s needs a value\n", prog, a);
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}
