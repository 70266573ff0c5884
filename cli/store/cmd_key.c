/* straylight key generate NAME: an ed25519 key pair in Nix's format. */
#include "cli/cli.h"
#include "store/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "generate")) {
        if (argc >= 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h") && strcmp(argv[1], "public")) {
            fprintf(stderr, "error: key: unknown subcommand '%s'\n", argv[1]);
            return 2;
        }
        if (argc >= 3 && !strcmp(argv[1], "public")) {
            st_secret_key sk;
            ut_err e = UT_ERR_INIT;
            if (!st_secret_key_load(argv[2], &sk, &e)) {
                fprintf(stderr, "error: key public: %s\n", e.msg);
                ut_err_clear(&e);
                return 1;
            }
            st_public_key pk;
            st_secret_key_public(&sk, &pk);
            st_secret_key_wipe(&sk);
            char *t = st_public_key_format(&pk);
            printf("%s\n", t);
            free(t);
            return 0;
        }
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: straylight key generate NAME [--secret FILE] [--public FILE]\n"
                   "       straylight key public SECRET_FILE\n\n"
                   "Writes NAME.sec (mode 0600, never overwritten) and NAME.pub in Nix's format\n"
                   "(NAME:base64), usable as Nix's secret-key-files / trusted-public-keys.\n");
        return argc < 2 ? 2 : 0;
    }
    const char *name = NULL, *sec = NULL, *pub = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--secret") && i + 1 < argc) sec = argv[++i];
        else if (!strcmp(argv[i], "--public") && i + 1 < argc) pub = argv[++i];
        else if (!name) name = argv[i];
        else {
            fprintf(stderr, "error: key generate: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!name) {
        fprintf(stderr, "error: key generate: no NAME given\n");
        return 2;
    }
    ut_buf s = UT_BUF_INIT, p = UT_BUF_INIT;
    if (sec) ut_buf_puts(&s, sec);
    else ut_buf_printf(&s, "%s.sec", name);
    if (pub) ut_buf_puts(&p, pub);
    else ut_buf_printf(&p, "%s.pub", name);
    ut_err e = UT_ERR_INIT;
    int rc = 0;
    if (!st_key_generate_files(name, s.data, p.data, &e)) {
        fprintf(stderr, "error: key generate: %s\n", e.msg);
        ut_err_clear(&e);
        rc = 1;
    } else {
        ut_buf pt = UT_BUF_INIT;
        if (ut_read_file(p.data, &pt, &e)) printf("%s\n", pt.data);
        ut_err_clear(&e);
        fprintf(stderr, "secret key: %s\npublic key: %s\n", s.data, p.data);
        ut_buf_free(&pt);
    }
    ut_buf_free(&s);
    ut_buf_free(&p);
    return rc;
}

const cli_command cli_cmd_key = {"key", "generate ed25519 signing keys (Nix format)", run};
