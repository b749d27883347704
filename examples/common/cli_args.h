/* The one way the example programs read their command lines: glibc's
 * getopt_long over a `struct option` table per program, with the messages
 * written here, not getopt's. What every program gets:
 *   --opt VALUE and --opt=VALUE (and -o VALUE where a short form exists);
 *   options and operands in any order, operands kept in their order;
 *   "--" ends the options; "-" alone is an operand (standard input);
 *   long options only as spelled in full: getopt's unique-prefix matching
 *   ("--mod" for "--model") is refused, so that adding an option later
 *   never changes what an abbreviation a user relied on means.
 * A program's short options string starts with CLI_SHORT_PREFIX. */
#ifndef IMGCLASS_EXAMPLES_CLI_ARGS_H
#define IMGCLASS_EXAMPLES_CLI_ARGS_H

#include <getopt.h>

/* "-": operands come back in place as code CLI_OPERAND (whatever
 * POSIXLY_CORRECT says); ":": a missing value is told apart from an
 * unknown option. */
#define CLI_SHORT_PREFIX "-:"

/* What cli_getopt() returns besides an option's code. */
enum {
    CLI_END = -1,     /* no more options; operands after "--" are argv[optind..] */
    CLI_OPERAND = 1,  /* an operand, in optarg */
    CLI_ERROR = '?',  /* a usage error, already printed */
    /* Codes of long options without a short form start here (above any
     * character); examples/common/pp_options.h uses CLI_CODE_PP and up,
     * examples/common/model_args.h CLI_CODE_MODEL and up. */
    CLI_CODE_LONG = 0x100,
    CLI_CODE_PP = 0x200,
    CLI_CODE_MODEL = 0x300,
};

/* Starts a new parse: optind = 0 (glibc's full re-initialisation, so that
 * one process, a unit test say, can parse several command lines) and
 * opterr = 0 (the messages are cli_getopt's). */
void cli_getopt_begin(void);

/* The next option of argv, as getopt_long() returns it (its value in
 * optarg), CLI_OPERAND, CLI_END, or CLI_ERROR after printing one of
 *   PROG: unknown option 'ARG' (see --help)
 *   PROG: option --NAME needs a value
 *   PROG: option --NAME takes no value
 * to stderr. `shortopts` starts with CLI_SHORT_PREFIX; `longopts` ends
 * with a zeroed entry. Call cli_getopt_begin() first. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const char *prog);

/* The long name of the option with code `code` in `longopts` ("model"
 * for 'm'), for messages; "?" when there is none. */
const char *cli_option_name(const struct option *longopts, int code);

/* `s` as a decimal int in min..max into *out: 0, or -1 (nothing written)
 * when it is empty, not a number, or out of range. */
int cli_parse_int(const char *s, int min, int max, int *out);

/* The value of integer option `code` (of `longopts`) in lo..hi into *out:
 * 0, or -1 after printing "PROG: bad value 'VALUE' for --NAME (LO..HI)",
 * the one message of every program for a bad integer option. */
int cli_int_option(const char *prog, const struct option *longopts, int code, const char *value,
                   int lo, int hi, int *out);

#endif
