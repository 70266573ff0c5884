#include "cli/cli.h"
#include "cli/cli_registry.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cli_compare(const void *a, const void *b)
{
    const cli_command *x = *(const cli_command *const *)a, *y = *(const cli_command *const *)b;
    return strcmp(x->name, y->name);
}

static void cli_usage(FILE *out)
{
    size_t n = sizeof cli_commands / sizeof cli_commands[0];
    const cli_command **sorted = malloc(n * sizeof *sorted);
    if (!sorted) return;
    for (size_t i = 0; i < n; i++) sorted[i] = cli_commands[i];
    qsort(sorted, n, sizeof *sorted, cli_compare);
    fprintf(out, "usage: straylight COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < n; i++) fprintf(out, "  %-18s %s\n", sorted[i]->name, sorted[i]->summary);
    fprintf(out, "\n`straylight COMMAND --help` describes one command.\n");
    free(sorted);
}

int main(int argc, char **argv)
{
    /* The evaluator frees large objects in bursts at each collection and
     * allocates them again right after: keep freed memory mapped instead
     * of trimming it and faulting it back in. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    if (argc < 2) {
        cli_usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        cli_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) cmd = "version";
    for (size_t i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++)
        if (!strcmp(cli_commands[i]->name, cmd)) return cli_commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command '%s'\n", cmd);
    cli_usage(stderr);
    return 1;
}
