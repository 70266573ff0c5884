#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/drv/drv_cli.h"
#include "cli/eval/installable.h"
#include "drv/sbom.h"

#ifndef STRAYLIGHT_VERSION
#define STRAYLIGHT_VERSION "0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: straylight sbom DRV|INSTALLABLE [--format cyclonedx|spdx] [--buildtime|--runtime]\n"
               "                       [--out FILE] [--meta-dir DIR] [--store URL] [--drv-source DIR]\n"
               "                       [--path-info TSV] [--store-dir DIR] [--no-verify]\n"
               "  INSTALLABLE: [-f FILE] [-A ATTRPATH] | -E EXPR | NAME#ATTRPATH (NAME from NIX_PATH/-I),\n"
               "               with --arg NAME EXPR, --argstr NAME STR, -I PATH, --[extra-]experimental-features F,\n"
               "               --option NAME VALUE (and NIX_CONFIG); it must name one derivation.\n"
               "               Its closure's meta is recorded while it is evaluated.\n"
               "\n"
               "Writes a CycloneDX 1.6 (default) or SPDX 2.3 JSON SBOM of DRV's closure: every\n"
               "derivation (and, build-time, every source) with name, version, PURL, hashes,\n"
               "fetch URLs, recorded meta (<drv>.meta.json) and its coeffect grade.\n"
               "--buildtime (default): the .drv closure. --runtime: the outputs' reference\n"
               "closure, which needs the outputs' metadata (built, or --path-info).\n"
               "SOURCE_DATE_EPOCH, when set, fixes the document's timestamp.\n");
}

static int cli_sbom(int argc, char **argv)
{
    cli_drv_opts o = {0};
    o.want_meta = true;
    dv_sbom_opts so = {DV_SBOM_CYCLONEDX, DV_SBOM_BUILDTIME, NULL, STRAYLIGHT_VERSION, 0, NULL};
    const char *out = NULL, *arg = NULL;
    cli_installable in;
    cli_installable_init(&in, argc);
    for (int i = 1; i < argc; i++) {
        int r = cli_drv_opt(&o, argc, argv, &i);
        if (!r) r = cli_drv_installable_opt(&in, argc, argv, &i);
        if (r < 0) goto usage_err;
        if (r) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            cli_installable_free(&in);
            return 0;
        }
        if (!strcmp(argv[i], "--runtime")) so.scope = DV_SBOM_RUNTIME;
        else if (!strcmp(argv[i], "--buildtime")) so.scope = DV_SBOM_BUILDTIME;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "cyclonedx")) so.format = DV_SBOM_CYCLONEDX;
            else if (!strcmp(f, "spdx")) so.format = DV_SBOM_SPDX;
            else {
                fprintf(stderr, "error: unknown format '%s' (cyclonedx or spdx)\n", f);
                goto usage_err;
            }
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--meta-dir") && i + 1 < argc) so.meta_dir = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "error: unknown or incomplete option '%s'\n", argv[i]);
            goto usage_err;
        } else if (arg) {
            fprintf(stderr, "error: sbom takes one DRV\n");
            goto usage_err;
        } else arg = argv[i];
    }
    if (!arg && !in.given) goto usage_err;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        errno = 0;
        long long t = strtoll(sde, &end, 10);
        if (*end || errno || t < 0) {
            fprintf(stderr, "error: SOURCE_DATE_EPOCH '%s' is not a number of seconds\n", sde);
            cli_installable_free(&in);
            return 1;
        }
        so.timestamp = t;
    } else {
        so.timestamp = (int64_t)time(NULL);
    }

    ut_err e = UT_ERR_INIT;
    cli_drv_input di;
    dv_graph g;
    bool loaded = false;
    int rc = 1;
    char *args[1] = {(char *)arg};
    if (!cli_drv_input_resolve(&o, &in, args, arg ? 1 : 0, &di, &e)) goto done;
    if (di.npaths != 1) {
        ut_err_set(&e, "the installable names %zu derivations; sbom describes one", di.npaths);
        goto done;
    }
    so.meta = di.meta;
    if (!dv_graph_load(&g, di.src, di.paths, 1, o.flags, &e)) goto done;
    loaded = true;
    dv_sbom_stats st;
    json_t *doc = dv_sbom(&g, g.roots[0], &so, &st, &e);
    if (!doc) goto done;
    char *text = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, text);
    ut_buf_putc(&b, '\n');
    free(text);
    bool ok = cli_drv_write_out(out, b.data, b.len, &e);
    ut_buf_free(&b);
    if (!ok) goto done;
    fprintf(stderr, "sbom: %zu components, %zu dependency edges, %zu fetches with URLs; %zu derivations with recorded meta, %zu without",
            st.components, st.dependencies, st.fetches, st.with_meta, st.without_meta);
    if (st.without_meta) fprintf(stderr, " (no <drv>.meta.json: licenses, homepage and description unknown)");
    fputc('\n', stderr);
    rc = 0;
done:
    if (rc) fprintf(stderr, "error: %s\n", e.msg ? e.msg : "failed");
    ut_err_clear(&e);
    if (loaded) dv_graph_free(&g);
    cli_drv_input_free(&di);
    cli_installable_free(&in);
    return rc;
usage_err:
    usage(stderr);
    cli_installable_free(&in);
    return 1;
}

const cli_command cli_cmd_sbom = {"sbom", "write a CycloneDX or SPDX SBOM of a .drv closure", cli_sbom};
