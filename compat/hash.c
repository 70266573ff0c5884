#include "compat/hash.h"

#include "compat/nixbase32.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

static const struct {
    const char *name;
    size_t size;
} algos[] = {
    [NC_HASH_MD5] = {"md5", 16},
    [NC_HASH_SHA1] = {"sha1", 20},
    [NC_HASH_SHA256] = {"sha256", 32},
    [NC_HASH_SHA512] = {"sha512", 64},
};

size_t nc_hash_algo_size(nc_hash_algo a) { return algos[a].size; }
const char *nc_hash_algo_name(nc_hash_algo a) { return algos[a].name; }

bool nc_hash_algo_parse(const char *s, size_t n, nc_hash_algo *out)
{
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
        if (strlen(algos[i].name) == n && memcmp(algos[i].name, s, n) == 0) {
            *out = (nc_hash_algo)i;
            return true;
        }
    }
    return false;
}

bool nc_hash_eq(const nc_hash *a, const nc_hash *b)
{
    return a->algo == b->algo && memcmp(a->bytes, b->bytes, nc_hash_size(a)) == 0;
}

/* ---- encodings ---- */

static const char hexdigits[] = "0123456789abcdef";
static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t nc_base16_encoded_len(size_t n) { return n * 2; }

void nc_base16_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool nc_base16_decode(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
    if (n % 2)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = n / 2;
    return true;
}

size_t nc_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void nc_base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = b64chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

size_t nc_base64_decoded_max(size_t n) { return n / 4 * 3 + 3; }

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Padding is optional but, if present, must be correct and final; leftover
 * bits must be zero so every byte string has exactly one encoding. */
bool nc_base64_decode(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
    size_t data = n;
    while (data > 0 && s[data - 1] == '=')
        data--;
    if (n - data > 2 || (n != data && n % 4 != 0) || data % 4 == 1)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < data; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return false;
    *outlen = o;
    return true;
}

/* ---- parsing ---- */

static size_t base16_len(nc_hash_algo a) { return algos[a].size * 2; }
static size_t nix32_len(nc_hash_algo a) { return nc_nix32_encoded_len(algos[a].size); }
static size_t base64_len(nc_hash_algo a) { return nc_base64_encoded_len(algos[a].size); }

/* Nix's Hash(string_view, HashType, isSRI): the encoding is told by length. */
static bool parse_digest(const char *s, size_t n, nc_hash_algo algo, bool sri, nc_hash *out, ut_err *e)
{
    size_t want = algos[algo].size;
    memset(out, 0, sizeof *out);
    out->algo = algo;
    if (!sri && n == base16_len(algo)) {
        size_t got;
        if (!nc_base16_decode(s, n, out->bytes, &got))
            return ut_err_set(e, "invalid base-16 hash '%.*s'", (int)n, s);
        return true;
    }
    if (!sri && n == nix32_len(algo)) {
        if (!nc_nix32_decode(s, n, out->bytes))
            return ut_err_set(e, "invalid base-32 hash '%.*s'", (int)n, s);
        return true;
    }
    if (sri || n == base64_len(algo)) {
        uint8_t tmp[NC_HASH_MAX_SIZE + 8];
        size_t got = 0;
        if (n > base64_len(algo) || !nc_base64_decode(s, n, tmp, &got) || got != want)
            return ut_err_set(e, "invalid %s hash '%.*s'", sri ? "SRI" : "base-64", (int)n, s);
        memcpy(out->bytes, tmp, want);
        return true;
    }
    return ut_err_set(e, "hash '%.*s' has wrong length for hash type '%s'", (int)n, s, algos[algo].name);
}

static bool parse_algo_or_fail(const char *s, size_t n, nc_hash_algo *out, ut_err *e)
{
    if (!nc_hash_algo_parse(s, n, out))
        return ut_err_set(e, "unknown hash algorithm '%.*s'", (int)n, s);
    return true;
}

/* Splits "<algo>:" or "<algo>-" off the front as Nix's splitPrefixTo does
 * (first ':' anywhere; only if none, first '-'). */
static bool split_prefix(const char *s, size_t n, size_t *prefix_len, bool *sri)
{
    const char *c = memchr(s, ':', n);
    if (c) {
        *prefix_len = (size_t)(c - s);
        *sri = false;
        return true;
    }
    c = memchr(s, '-', n);
    if (c) {
        *prefix_len = (size_t)(c - s);
        *sri = true;
        return true;
    }
    return false;
}

bool nc_hash_parse_any(const char *s, size_t n, const nc_hash_algo *algo, nc_hash *out, ut_err *e)
{
    size_t pl = 0;
    bool sri = false;
    bool has = n ? split_prefix(s, n, &pl, &sri) : false;
    nc_hash_algo parsed = NC_HASH_SHA256;
    if (has) {
        if (!parse_algo_or_fail(s, pl, &parsed, e))
            return false;
        if (algo && *algo != parsed)
            return ut_err_set(e, "hash '%.*s' should have type '%s'", (int)n, s, algos[*algo].name);
        return parse_digest(s + pl + 1, n - pl - 1, parsed, sri, out, e);
    }
    if (!algo)
        return ut_err_set(e, "hash '%.*s' does not include a type, nor is the type otherwise known from context",
                          (int)n, s);
    return parse_digest(s, n, *algo, false, out, e);
}

bool nc_hash_parse_prefixed(const char *s, size_t n, nc_hash *out, ut_err *e)
{
    size_t pl = 0;
    bool sri = false;
    if (!n || !split_prefix(s, n, &pl, &sri))
        return ut_err_set(e, "hash '%.*s' does not include a type", (int)n, s);
    nc_hash_algo a = NC_HASH_SHA256;
    if (!parse_algo_or_fail(s, pl, &a, e))
        return false;
    return parse_digest(s + pl + 1, n - pl - 1, a, sri, out, e);
}

bool nc_hash_parse_unprefixed(const char *s, size_t n, nc_hash_algo algo, nc_hash *out, ut_err *e)
{
    return parse_digest(s, n, algo, false, out, e);
}

bool nc_hash_parse_sri(const char *s, size_t n, nc_hash *out, ut_err *e)
{
    const char *d = n ? memchr(s, '-', n) : NULL;
    if (!d)
        return ut_err_set(e, "hash '%.*s' is not SRI", (int)n, s);
    nc_hash_algo a = NC_HASH_SHA256;
    if (!parse_algo_or_fail(s, (size_t)(d - s), &a, e))
        return false;
    return parse_digest(d + 1, n - (size_t)(d - s) - 1, a, true, out, e);
}

/* ---- printing ---- */

size_t nc_hash_print(const nc_hash *h, nc_hash_format fmt, bool with_algo, char *out)
{
    size_t o = 0, sz = nc_hash_size(h);
    if (fmt == NC_HASH_SRI || with_algo) {
        size_t an = strlen(algos[h->algo].name);
        memcpy(out, algos[h->algo].name, an);
        o = an;
        out[o++] = fmt == NC_HASH_SRI ? '-' : ':';
    }
    switch (fmt) {
    case NC_HASH_BASE16:
        nc_base16_encode(h->bytes, sz, out + o);
        return o + nc_base16_encoded_len(sz);
    case NC_HASH_NIX32:
        nc_nix32_encode(h->bytes, sz, out + o);
        return o + nc_nix32_encoded_len(sz);
    case NC_HASH_BASE64:
    case NC_HASH_SRI:
        nc_base64_encode(h->bytes, sz, out + o);
        return o + nc_base64_encoded_len(sz);
    }
    out[o] = '\0';
    return o;
}

void nc_hash_append(ut_buf *b, const nc_hash *h, nc_hash_format fmt, bool with_algo)
{
    char tmp[NC_HASH_STR_MAX];
    size_t n = nc_hash_print(h, fmt, with_algo, tmp);
    ut_buf_append(b, tmp, n);
}

/* ---- hashing ---- */

/* OpenSSL 3's EVP_sha256() & co. are fetched from the provider again on
 * every EVP_DigestInit (a locked lookup costing more than hashing a store
 * path's fingerprint), so each algorithm is fetched once per process. */
static EVP_MD *fetched[4];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
    static const char *const names[4] = {
        [NC_HASH_MD5] = "MD5", [NC_HASH_SHA1] = "SHA1", [NC_HASH_SHA256] = "SHA256", [NC_HASH_SHA512] = "SHA512"};
    for (int i = 0; i < 4; i++)
        fetched[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

static const EVP_MD *evp_of(nc_hash_algo a)
{
    pthread_once(&fetch_once, fetch_all);
    if ((unsigned)a < 4 && fetched[a])
        return fetched[a];
    /* MD5 may be missing under a FIPS-only provider configuration: fall
     * back to the implicit fetch, which reports the failure as before */
    switch (a) {
    case NC_HASH_MD5: return EVP_md5();
    case NC_HASH_SHA1: return EVP_sha1();
    case NC_HASH_SHA256: return EVP_sha256();
    case NC_HASH_SHA512: return EVP_sha512();
    }
    return NULL;
}

void nc_hash_bytes(nc_hash_algo algo, const void *p, size_t n, nc_hash *out)
{
    memset(out, 0, sizeof *out);
    out->algo = algo;
    unsigned len = 0;
    if (!EVP_Digest(p, n, out->bytes, &len, evp_of(algo), NULL))
        ut_die("compat: EVP_Digest failed");
}

struct nc_hasher {
    nc_hash_algo algo;
    EVP_MD_CTX *ctx;
};

nc_hasher *nc_hasher_new(nc_hash_algo algo)
{
    nc_hasher *h = ut_xmalloc(sizeof *h);
    h->algo = algo;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !EVP_DigestInit_ex(h->ctx, evp_of(algo), NULL))
        ut_die("compat: cannot initialise %s", algos[algo].name);
    return h;
}

void nc_hasher_update(nc_hasher *h, const void *p, size_t n)
{
    if (n && !EVP_DigestUpdate(h->ctx, p, n))
        ut_die("compat: EVP_DigestUpdate failed");
}

void nc_hasher_finish(nc_hasher *h, nc_hash *out)
{
    memset(out, 0, sizeof *out);
    out->algo = h->algo;
    unsigned len = 0;
    if (!EVP_DigestFinal_ex(h->ctx, out->bytes, &len))
        ut_die("compat: EVP_DigestFinal_ex failed");
    nc_hasher_free(h);
}

void nc_hasher_free(nc_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void nc_hash_compress(const nc_hash *h, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    size_t sz = nc_hash_size(h);
    for (size_t i = 0; i < sz; i++)
        out[i % n] ^= h->bytes[i];
}
