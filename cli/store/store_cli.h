/* Options shared by the store commands. */
#ifndef STRAYLIGHT_CLI_STORE_H
#define STRAYLIGHT_CLI_STORE_H

#include "store/keys.h"
#include "store/store.h"

typedef struct cli_store_opts {
    const char *store_url;          /* --store */
    const char *trusted_keys;       /* --trusted-public-keys */
    const char *secret_key_file;    /* --secret-key-file */
    bool json;
} cli_store_opts;

/* Consumes a common option at argv[*i] (advancing *i past its value);
 * returns 1 when consumed, 0 when not an option of ours, -1 on a missing
 * value (message printed). */
int cli_store_opt(int argc, char **argv, int *i, cli_store_opts *o);
/* Opens the store (--store, else the default) and applies the signing key. */
st_store *cli_store_open(const cli_store_opts *o, const char *url, const char *cmd);
/* Trusted keys from --trusted-public-keys, else store.conf. False on a bad key. */
bool cli_trusted_keys(const cli_store_opts *o, st_trusted_keys *tk, const char *cmd);

#endif
