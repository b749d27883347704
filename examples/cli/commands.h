/* The imgclass program's subcommands; each lives in its own cmd_*.c and
 * returns the process exit status (0 ok, 1 usage or fatal error, 2 some
 * inputs failed). argv[0] is the subcommand name. */
#ifndef IMGCLASS_CLI_COMMANDS_H
#define IMGCLASS_CLI_COMMANDS_H

int cmd_preprocess(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
