#include "cli/store/store_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_store_opt(int argc, char **argv, int *i, cli_store_opts *o)
{
    const char *a = argv[*i];
    const char **slot = NULL;
    if (!strcmp(a, "--store")) slot = &o->store_url;
    else if (!strcmp(a, "--trusted-public-keys")) slot = &o->trusted_keys;
    else if (!strcmp(a, "--secret-key-file")) slot = &o->secret_key_file;
    else if (!strcmp(a, "--json")) {
        o->json = true;
        return 1;
    } else return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "error: %s needs a value\n", a);
        return -1;
    }
    *slot = argv[++*i];
    return 1;
}

st_store *cli_store_open(const cli_store_opts *o, const char *url, const char *cmd)
{
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(url ? url : o->store_url, &e);
    if (!st) {
        fprintf(stderr, "error: %s: %s\n", cmd, e.msg);
        ut_err_clear(&e);
        return NULL;
    }
    char *conf = NULL;
    const char *kf = o->secret_key_file;
    if (!kf && !url) kf = conf = st_config_get("secret-key-file");
    if (kf && *kf) {
        st_secret_key sk;
        if (!st_secret_key_load(kf, &sk, &e)) {
            fprintf(stderr, "error: %s: %s\n", cmd, e.msg);
            ut_err_clear(&e);
            free(conf);
            st_store_close(st);
            return NULL;
        }
        st_store_set_signing_key(st, &sk);
        st_secret_key_wipe(&sk);
    }
    free(conf);
    return st;
}

bool cli_trusted_keys(const cli_store_opts *o, st_trusted_keys *tk, const char *cmd)
{
    char *conf = NULL;
    const char *list = o->trusted_keys;
    if (!list) list = conf = st_config_get("trusted-public-keys");
    ut_err e = UT_ERR_INIT;
    bool ok = !list || st_trusted_keys_add(tk, list, &e);
    if (!ok) {
        fprintf(stderr, "error: %s: %s\n", cmd, e.msg);
        ut_err_clear(&e);
    }
    free(conf);
    return ok;
}
