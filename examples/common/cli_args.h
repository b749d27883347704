/* Option values in the two spellings the example programs accept:
 * "--opt VALUE" (or "-o VALUE") and "--opt=VALUE". */
#ifndef IMGCLASS_EXAMPLES_CLI_ARGS_H
#define IMGCLASS_EXAMPLES_CLI_ARGS_H

/* When argv[*i] is the option `lng` (or its short form `shrt`, may be
 * NULL): sets *matched, advances *i past it and returns its value, or
 * NULL after printing "PROG: option X needs a value" when the value is
 * missing. Otherwise *matched = 0 and NULL. */
const char *cli_option_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
                             int *matched, const char *prog);

#endif
