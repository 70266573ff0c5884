#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/drv/drv_cli.h"
#include "cli/eval/installable.h"
#include "drv/emit.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: straylight graph DRV...|INSTALLABLE [--format json|dot|rev2] [--out PATH]\n"
               "                        [--store URL] [--drv-source DIR] [--path-info TSV] [--store-dir DIR]\n"
               "                        [--no-verify]\n"
               "  INSTALLABLE: [-f FILE] [-A ATTRPATH] | -E EXPR | NAME#ATTRPATH (NAME from NIX_PATH/-I),\n"
               "               with --arg NAME EXPR, --argstr NAME STR, -I PATH, --[extra-]experimental-features F,\n"
               "               --option NAME VALUE (and NIX_CONFIG)\n"
               "\n"
               "Lowers the closure of each DRV (a .drv store path, or a .drv file in a\n"
               "directory that mirrors the store) or of the derivations INSTALLABLE evaluates to\n"
               "(written into the store, as `straylight instantiate`) to graded coeffect\n"
               "actions and exports them. Store paths are read from straylight's store (--store,\n"
               "default its default store), else from the store directory on this machine.\n"
               "  json  every action with its digest, grade, taint, inputs and outputs\n"
               "  dot   Graphviz, coloured pure / pinned network / impure\n"
               "  rev2  Bazel REv2 Action/Command/Directory blobs under --out DIR\n"
               "--out names the output file for json and dot (default: standard output).\n"
               "Each .drv is checked to be what its path says (bytes and outputs) unless\n"
               "--no-verify is given. --path-info TSV: recorded NAR hashes, sizes, references.\n");
}

static int cli_graph(int argc, char **argv)
{
    cli_drv_opts o = {0};
    const char *format = "json", *out = NULL;
    char **args = calloc((size_t)argc, sizeof *args);
    size_t nargs = 0;
    cli_installable in;
    cli_installable_init(&in, argc);
    for (int i = 1; i < argc; i++) {
        int r = cli_drv_opt(&o, argc, argv, &i);
        if (!r) r = cli_drv_installable_opt(&in, argc, argv, &i);
        if (r < 0) goto usage_err;
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(args);
            cli_installable_free(&in);
            return 0;
        }
        if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "--out")) && i + 1 < argc) {
            if (!strcmp(argv[i], "--format")) format = argv[++i];
            else out = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "error: unknown or incomplete option '%s'\n", argv[i]);
            goto usage_err;
        }
        args[nargs++] = argv[i];
    }
    if (!nargs && !in.given) goto usage_err;
    if (strcmp(format, "json") && strcmp(format, "dot") && strcmp(format, "rev2")) {
        fprintf(stderr, "error: unknown format '%s' (json, dot or rev2)\n", format);
        goto usage_err;
    }
    if (!strcmp(format, "rev2") && !out) {
        fprintf(stderr, "error: --format rev2 needs --out DIR\n");
        goto usage_err;
    }

    ut_err e = UT_ERR_INIT;
    cli_drv_input di;
    dv_graph g;
    int rc = 1;
    if (!cli_drv_input_resolve(&o, &in, args, nargs, &di, &e)) goto fail;
    if (!dv_graph_load(&g, di.src, di.paths, di.npaths, o.flags, &e)) goto fail;
    bool ok = true;
    if (!strcmp(format, "json")) {
        ut_buf b = UT_BUF_INIT;
        ok = dv_graph_write_json(&g, &b, &e) && cli_drv_write_out(out, b.data, b.len, &e);
        ut_buf_free(&b);
    } else if (!strcmp(format, "dot")) {
        ut_buf b = UT_BUF_INIT;
        dv_graph_to_dot(&g, &b);
        ok = cli_drv_write_out(out, b.data, b.len, &e);
        ut_buf_free(&b);
    } else {
        dv_rev2_stats st;
        ok = dv_graph_to_rev2(&g, out, &st, &e);
        if (ok)
            fprintf(stderr, "rev2: %zu actions, %zu commands, %zu directories, %zu blobs written to %s\n", st.actions,
                    st.commands, st.directories, st.blobs_written, out);
    }
    dv_graph_free(&g);
    if (ok) rc = 0;
fail:
    if (rc) fprintf(stderr, "error: %s\n", e.msg ? e.msg : "failed");
    ut_err_clear(&e);
    cli_drv_input_free(&di);
    cli_installable_free(&in);
    free(args);
    return rc;
usage_err:
    usage(stderr);
    free(args);
    cli_installable_free(&in);
    return 1;
}

const cli_command cli_cmd_graph = {"graph", "export the action graph of .drv closures (json, dot, REv2)", cli_graph};
