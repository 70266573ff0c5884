/* cli/: the straylight command. Each subcommand lives in cli/cmd_<name>.c and
 * defines `const cli_command cli_cmd_<name>`; the build collects them into the
 * dispatch table, so adding a command touches no shared file. */
#ifndef STRAYLIGHT_CLI_H
#define STRAYLIGHT_CLI_H

typedef struct cli_command {
    const char *name;      /* as typed: "show-derivation" */
    const char *summary;   /* one line for `straylight --help` */
    /* argv[0] is the subcommand name; returns the process exit code. */
    int (*run)(int argc, char **argv);
} cli_command;

#endif
