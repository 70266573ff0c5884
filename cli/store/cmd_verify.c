/* straylight verify PATH...: checks the attestations recorded for store
 * paths (signature by a trusted key, subject digest = the stored NAR). */
#include "cli/cli.h"
#include "cli/store/store_cli.h"
#include "store/attest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(void *ctx, const char *ref, const char *problem)
{
    fprintf(stderr, "%s: %s: %s\n", (const char *)ctx, ref, problem);
}

static int run(int argc, char **argv)
{
    cli_store_opts o = {0};
    const char *repo = NULL;
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, &o);
        if (c < 0) {
            free(paths);
            return 2;
        }
        if (c) continue;
        if (!strcmp(argv[i], "--repo") && i + 1 < argc) repo = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: straylight verify [--store URL] [--repo DIR] [--trusted-public-keys KEYS] PATH...\n\n"
                   "Checks every attestation recorded for each PATH: a DSSE signature by a trusted key\n"
                   "over an in-toto statement naming PATH with the sha256 of the NAR the store holds.\n");
            free(paths);
            return 0;
        } else paths[np++] = argv[i];
    }
    if (!np) {
        fprintf(stderr, "error: verify: no PATH given\n");
        free(paths);
        return 2;
    }
    st_trusted_keys tk = {0};
    int rc = 0;
    if (!cli_trusted_keys(&o, &tk, "verify")) rc = 1;
    else if (!tk.n) {
        fprintf(stderr, "error: verify: no trusted keys: pass --trusted-public-keys or set trusted-public-keys\n");
        rc = 2;
    }
    st_store *st = rc ? NULL : cli_store_open(&o, NULL, "verify");
    if (!rc && !st) rc = 1;
    char *dflt = repo ? NULL : st_attest_default_repo();
    for (size_t i = 0; !rc && i < np; i++) {
        ut_err e = UT_ERR_INIT;
        size_t valid = 0;
        bool ok = st_attest_verify(st, repo ? repo : dflt, paths[i], &tk, report, (void *)paths[i], &valid, &e);
        if (ut_err_isset(&e)) {
            fprintf(stderr, "error: verify: %s\n", e.msg);
            ut_err_clear(&e);
            rc = 1;
        } else if (!ok) {
            fprintf(stderr, "error: verify: '%s' has no valid attestation\n", paths[i]);
            rc = 1;
        } else {
            printf("%s: %zu valid attestation%s\n", paths[i], valid, valid == 1 ? "" : "s");
        }
    }
    free(dflt);
    st_store_close(st);
    st_trusted_keys_free(&tk);
    free(paths);
    return rc;
}

const cli_command cli_cmd_verify = {"verify", "check the signed attestations of store paths", run};
