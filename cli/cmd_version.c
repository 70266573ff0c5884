#include "cli/cli.h"

#include <stdio.h>

static int cli_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("straylight %s\n", STRAYLIGHT_VERSION);
    return 0;
}

const cli_command cli_cmd_version = {"version", "print the version", cli_version};
