#include "store/keys.h"

#include "compat/hash.h"

#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool sodium_ready(ut_err *e)
{
    static int state;   /* 0 unknown, 1 ok, -1 failed */
    if (!state) state = sodium_init() < 0 ? -1 : 1;
    return state > 0 || ut_err_set(e, "libsodium failed to initialise");
}

/* Nix splits a key at its first ':' and trims the text around it. */
static bool split_key(const char *text, size_t n, const char *what, char *name, uint8_t *out, size_t want,
                      ut_err *e)
{
    while (n && strchr(" \t\r\n", text[0])) {
        text++;
        n--;
    }
    while (n && strchr(" \t\r\n", text[n - 1])) n--;
    const char *colon = memchr(text, ':', n);
    if (!colon || colon == text) return ut_err_set(e, "%s is corrupt: expected NAME:BASE64", what);
    size_t nl = (size_t)(colon - text);
    if (nl > ST_KEY_NAME_MAX) return ut_err_set(e, "%s is corrupt: name longer than %d bytes", what, ST_KEY_NAME_MAX);
    memcpy(name, text, nl);
    name[nl] = 0;
    const char *b64 = colon + 1;
    size_t bl = n - nl - 1;
    uint8_t *tmp = ut_xmalloc(nc_base64_decoded_max(bl) + 1);
    size_t got = 0;
    bool ok = nc_base64_decode(b64, bl, tmp, &got) && got == want;
    if (ok) memcpy(out, tmp, want);
    sodium_memzero(tmp, nc_base64_decoded_max(bl) + 1);
    free(tmp);
    if (!ok) return ut_err_set(e, "%s '%s' is corrupt: expected %zu bytes of base64", what, name, want);
    return true;
}

static char *join_key(const char *name, const uint8_t *bytes, size_t n)
{
    size_t nl = strlen(name), bl = nc_base64_encoded_len(n);
    char *s = ut_xmalloc(nl + 1 + bl + 1);
    memcpy(s, name, nl);
    s[nl] = ':';
    nc_base64_encode(bytes, n, s + nl + 1);
    return s;
}

bool st_key_generate(const char *name, st_secret_key *sk, ut_err *e)
{
    if (!sodium_ready(e)) return false;
    if (!*name || strlen(name) > ST_KEY_NAME_MAX || strchr(name, ':') || strpbrk(name, " \t\r\n"))
        return ut_err_set(e, "invalid key name '%s': 1 to %d characters, no ':' or white space", name,
                          ST_KEY_NAME_MAX);
    memset(sk, 0, sizeof *sk);
    strcpy(sk->name, name);
    uint8_t pk[32];
    crypto_sign_keypair(pk, sk->sk);
    return true;
}

char *st_secret_key_format(const st_secret_key *sk) { return join_key(sk->name, sk->sk, 64); }
char *st_public_key_format(const st_public_key *pk) { return join_key(pk->name, pk->pk, 32); }

void st_secret_key_public(const st_secret_key *sk, st_public_key *out)
{
    memset(out, 0, sizeof *out);
    strcpy(out->name, sk->name);
    crypto_sign_ed25519_sk_to_pk(out->pk, sk->sk);
}

bool st_secret_key_parse(const char *text, size_t n, st_secret_key *out, ut_err *e)
{
    memset(out, 0, sizeof *out);
    if (!split_key(text, n, "secret key", out->name, out->sk, 64, e)) return false;
    /* A libsodium secret key carries its public half: check it matches the
     * seed, so a damaged file cannot sign with a key nobody can verify. */
    uint8_t pk[32], sk2[64];
    crypto_sign_seed_keypair(pk, sk2, out->sk);
    bool ok = sodium_memcmp(sk2, out->sk, 64) == 0;
    sodium_memzero(sk2, sizeof sk2);
    if (!ok) {
        st_secret_key_wipe(out);
        return ut_err_set(e, "secret key is corrupt: its public half does not match its seed");
    }
    return true;
}

bool st_public_key_parse(const char *text, size_t n, st_public_key *out, ut_err *e)
{
    memset(out, 0, sizeof *out);
    return split_key(text, n, "public key", out->name, out->pk, 32, e);
}

bool st_secret_key_load(const char *path, st_secret_key *out, ut_err *e)
{
    if (!sodium_ready(e)) return false;
    ut_buf b = UT_BUF_INIT;
    if (!ut_read_file(path, &b, e)) return false;
    bool ok = st_secret_key_parse(b.data, b.len, out, e);
    if (!ok) ut_err_wrap(e, "%s", path);
    sodium_memzero(b.data, b.len);
    ut_buf_free(&b);
    return ok;
}

void st_secret_key_wipe(st_secret_key *sk) { sodium_memzero(sk, sizeof *sk); }

char *st_sign(const st_secret_key *sk, const void *msg, size_t n)
{
    uint8_t sig[64];
    crypto_sign_detached(sig, NULL, msg, n, sk->sk);
    return join_key(sk->name, sig, 64);
}

bool st_trusted_keys_add(st_trusted_keys *tk, const char *list, ut_err *e)
{
    const char *p = list;
    while (*p) {
        while (*p && strchr(" \t\r\n", *p)) p++;
        if (!*p) break;
        const char *s = p;
        while (*p && !strchr(" \t\r\n", *p)) p++;
        st_public_key k;
        if (!st_public_key_parse(s, (size_t)(p - s), &k, e)) return false;
        tk->keys = ut_xrealloc(tk->keys, (tk->n + 1) * sizeof *tk->keys);
        tk->keys[tk->n++] = k;
    }
    return true;
}

void st_trusted_keys_free(st_trusted_keys *tk)
{
    free(tk->keys);
    tk->keys = NULL;
    tk->n = 0;
}

st_sig_status st_verify(const st_trusted_keys *tk, const void *msg, size_t n, const char *sig, size_t siglen)
{
    if (sodium_init() < 0) return ST_SIG_BAD;
    char name[ST_KEY_NAME_MAX + 1];
    uint8_t raw[64];
    ut_err e = UT_ERR_INIT;
    bool ok = split_key(sig, siglen, "signature", name, raw, 64, &e);
    ut_err_clear(&e);
    if (!ok) return ST_SIG_BAD;
    bool known = false;
    for (size_t i = 0; i < tk->n; i++) {
        if (strcmp(tk->keys[i].name, name)) continue;
        known = true;
        /* Several keys may share a name (rotation): any one may verify. */
        if (crypto_sign_verify_detached(raw, msg, n, tk->keys[i].pk) == 0) return ST_SIG_VALID;
    }
    return known ? ST_SIG_BAD : ST_SIG_UNKNOWN_SIGNER;
}

static bool write_new(const char *path, const char *text, int mode, bool exclusive, ut_err *e)
{
    if (!exclusive) {
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "%s", text);
        bool ok = ut_write_file_atomic(path, b.data, b.len, mode, e);
        ut_buf_free(&b);
        return ok;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return ut_err_set(e, "creating '%s': %s", path, strerror(errno));
    size_t n = strlen(text);
    const char *p = text;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int err = errno;
            close(fd);
            unlink(path);
            return ut_err_set(e, "writing '%s': %s", path, strerror(err));
        }
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(path);
        return ut_err_set(e, "writing '%s': %s", path, strerror(errno));
    }
    return true;
}

bool st_key_generate_files(const char *name, const char *sk_path, const char *pk_path, ut_err *e)
{
    st_secret_key sk;
    if (!st_key_generate(name, &sk, e)) return false;
    st_public_key pk;
    st_secret_key_public(&sk, &pk);
    char *skt = st_secret_key_format(&sk), *pkt = st_public_key_format(&pk);
    st_secret_key_wipe(&sk);
    bool ok = write_new(sk_path, skt, 0600, true, e);
    if (ok && !(ok = write_new(pk_path, pkt, 0644, false, e))) unlink(sk_path);
    sodium_memzero(skt, strlen(skt));
    free(skt);
    free(pkt);
    return ok;
}
