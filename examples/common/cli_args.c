/* getopt_long with our own messages; see cli_args.h. */
#include "cli_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_getopt_begin(void)
{
    optind = 0;
    opterr = 0;
}

/* The entry of `longopts` that `arg` ("--name" or "--name=value") spells in
 * full, or NULL. */
static const struct option *spelled_in_full(const char *arg, const struct option *longopts)
{
    if (strncmp(arg, "--", 2))
        return NULL;
    arg += 2;
    size_t n = strcspn(arg, "=");
    for (const struct option *o = longopts; o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, arg, n))
            return o;
    return NULL;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const char *prog)
{
    int longindex = -1;
    int c = getopt_long(argc, argv, shortopts, longopts, &longindex);
    /* With RETURN_IN_ORDER ("-" first) argv is never permuted: the
     * element just read is argv[optind - 1], or argv[optind - 2] when the
     * value was the next element. */
    const char *last = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
    if (longindex >= 0) {
        const char *arg = optarg && optarg == last && optind >= 2 ? argv[optind - 2] : last;
        if (spelled_in_full(arg, longopts) != &longopts[longindex]) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, arg);
            return CLI_ERROR;
        }
        return c;
    }
    if (c == ':' || c == '?') {
        /* A long option named in full, or else a short one (optopt), or
         * something getopt could not match at all (optopt 0). */
        const struct option *o = spelled_in_full(last, longopts);
        if (o && (o->val != optopt || (c == '?' && !strchr(last, '='))))
            o = NULL;
        if (o && c == ':')
            fprintf(stderr, "%s: option --%s needs a value\n", prog, o->name);
        else if (o)
            fprintf(stderr, "%s: option --%s takes no value\n", prog, o->name);
        else if (c == ':' && strncmp(last, "--", 2))
            fprintf(stderr, "%s: option -%c needs a value\n", prog, optopt);
        else if (c == '?' && optopt > 0 && optopt < CLI_CODE_LONG)
            fprintf(stderr, "%s: unknown option '-%c' (see --help)\n", prog, optopt);
        else /* not an option, or a prefix of one or more ("--mod") */
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, last);
        return CLI_ERROR;
    }
    return c;
}

const char *cli_option_name(const struct option *longopts, int code)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == code)
            return o->name;
    return "?";
}

int cli_parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_int_option(const char *prog, const struct option *longopts, int code, const char *value,
                   int lo, int hi, int *out)
{
    if (cli_parse_int(value, lo, hi, out) == 0)
        return 0;
    fprintf(stderr, "%s: bad value '%s' for --%s (%d..%d)\n", prog, value ? value : "",
            cli_option_name(longopts, code), lo, hi);
    return -1;
}
