/* store/keys.h: ed25519 signing keys in Nix's text format and narinfo
 * signatures exactly as Nix makes and checks them.
 *
 *   secret key  "<name>:<base64 of the 64-byte libsodium secret key>"
 *   public key  "<name>:<base64 of the 32-byte public key>"
 *   signature   "<name>:<base64 of the 64-byte detached signature>" */
#ifndef STRAYLIGHT_STORE_KEYS_H
#define STRAYLIGHT_STORE_KEYS_H

#include "util/util.h"

#include <stdbool.h>
#include <stdint.h>

#define ST_KEY_NAME_MAX 128

typedef struct st_secret_key {
    char name[ST_KEY_NAME_MAX + 1];
    uint8_t sk[64];
} st_secret_key;

typedef struct st_public_key {
    char name[ST_KEY_NAME_MAX + 1];
    uint8_t pk[32];
} st_public_key;

/* A set of trusted public keys (Nix's trusted-public-keys). */
typedef struct st_trusted_keys {
    st_public_key *keys;
    size_t n;
} st_trusted_keys;

bool st_key_generate(const char *name, st_secret_key *sk, ut_err *e);
/* The texts written to key files (heap strings, no trailing newline). */
char *st_secret_key_format(const st_secret_key *sk);
char *st_public_key_format(const st_public_key *pk);
void st_secret_key_public(const st_secret_key *sk, st_public_key *out);
/* Leading and trailing white space is ignored, as Nix trims key files. */
bool st_secret_key_parse(const char *text, size_t n, st_secret_key *out, ut_err *e);
bool st_public_key_parse(const char *text, size_t n, st_public_key *out, ut_err *e);
bool st_secret_key_load(const char *path, st_secret_key *out, ut_err *e);
void st_secret_key_wipe(st_secret_key *sk);

/* "name:base64(sig)" over msg. */
char *st_sign(const st_secret_key *sk, const void *msg, size_t n);
/* Adds keys from a white-space separated list of public keys. */
bool st_trusted_keys_add(st_trusted_keys *tk, const char *list, ut_err *e);
void st_trusted_keys_free(st_trusted_keys *tk);

typedef enum st_sig_status {
    ST_SIG_VALID = 1,
    ST_SIG_UNKNOWN_SIGNER = 0,   /* no trusted key with that name */
    ST_SIG_BAD = -1,             /* malformed, or does not verify */
} st_sig_status;
/* Checks one "name:base64" signature of msg against the trusted keys. */
st_sig_status st_verify(const st_trusted_keys *tk, const void *msg, size_t n, const char *sig, size_t siglen);

/* Writes NAME's key pair: secret to sk_path (mode 0600, never replacing an
 * existing file) and public to pk_path. */
bool st_key_generate_files(const char *name, const char *sk_path, const char *pk_path, ut_err *e);

#endif
