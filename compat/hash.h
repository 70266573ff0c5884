/* Hashes as Nix names, parses and prints them.
 *
 * Formats: base16 (lowercase hex), nix32 (Nix's own base-32, see
 * nixbase32.h), base64 (standard alphabet, padded) and SRI ("sha256-<base64>").
 * A prefixed non-SRI hash is "<algo>:<digest>", the digest in any of base16,
 * nix32 or base64, told apart by its length exactly as Nix does. */
#ifndef STRAYLIGHT_COMPAT_HASH_H
#define STRAYLIGHT_COMPAT_HASH_H

#include "compat/nc.h"
#include "util/util.h"

typedef enum nc_hash_algo {
    NC_HASH_MD5 = 0,
    NC_HASH_SHA1 = 1,
    NC_HASH_SHA256 = 2,
    NC_HASH_SHA512 = 3,
} nc_hash_algo;

#define NC_HASH_MAX_SIZE 64
/* Longest printed hash plus NUL: "sha512:" + 128 hex digits. */
#define NC_HASH_STR_MAX 144

typedef struct nc_hash {
    nc_hash_algo algo;
    uint8_t bytes[NC_HASH_MAX_SIZE];   /* first nc_hash_size(algo) are used */
} nc_hash;

typedef enum nc_hash_format {
    NC_HASH_BASE16,
    NC_HASH_NIX32,
    NC_HASH_BASE64,
    NC_HASH_SRI,        /* always "<algo>-<base64>" */
} nc_hash_format;

size_t nc_hash_algo_size(nc_hash_algo a);          /* digest bytes: 16/20/32/64 */
const char *nc_hash_algo_name(nc_hash_algo a);     /* "md5", "sha1", "sha256", "sha512" */
/* Exact names only (as Nix's parseHashType). */
bool nc_hash_algo_parse(const char *s, size_t n, nc_hash_algo *out);
static inline size_t nc_hash_size(const nc_hash *h) { return nc_hash_algo_size(h->algo); }
bool nc_hash_eq(const nc_hash *a, const nc_hash *b);

/* Parsing. Error messages use Nix's wording and quote the input.
 *
 * nc_hash_parse_any: "<algo>:<digest>", "<algo>-<base64>" (SRI), or, when
 *   algo is non-NULL, also a bare digest. If both the string and algo name an
 *   algorithm they must agree (Nix's Hash::parseAny).
 * nc_hash_parse_prefixed: the string must name its algorithm (parseAnyPrefixed).
 * nc_hash_parse_unprefixed: a bare base16/nix32/base64 digest of algo
 *   (parseNonSRIUnprefixed; what .drv files hold in their hash field).
 * nc_hash_parse_sri: "<algo>-<base64>" only. */
bool nc_hash_parse_any(const char *s, size_t n, const nc_hash_algo *algo, nc_hash *out, ut_err *e);
bool nc_hash_parse_prefixed(const char *s, size_t n, nc_hash *out, ut_err *e);
bool nc_hash_parse_unprefixed(const char *s, size_t n, nc_hash_algo algo, nc_hash *out, ut_err *e);
bool nc_hash_parse_sri(const char *s, size_t n, nc_hash *out, ut_err *e);

/* Printing into out (at least NC_HASH_STR_MAX bytes), NUL-terminated; returns
 * the length. with_algo prefixes "<algo>:" (ignored for SRI, which always
 * carries its algorithm). */
size_t nc_hash_print(const nc_hash *h, nc_hash_format fmt, bool with_algo, char *out);
void nc_hash_append(ut_buf *b, const nc_hash *h, nc_hash_format fmt, bool with_algo);

/* One-shot hashing. */
void nc_hash_bytes(nc_hash_algo algo, const void *p, size_t n, nc_hash *out);

/* Streaming hashing. A hasher is created for one algorithm, fed any number
 * of chunks and finished once; nc_hasher_finish also frees it. */
typedef struct nc_hasher nc_hasher;
nc_hasher *nc_hasher_new(nc_hash_algo algo);
void nc_hasher_update(nc_hasher *h, const void *p, size_t n);
void nc_hasher_finish(nc_hasher *h, nc_hash *out);
void nc_hasher_free(nc_hasher *h);   /* abandon without finishing */

/* XOR-folds h's digest into out[0..n) as Nix's compressHash (store paths use
 * n = 20). */
void nc_hash_compress(const nc_hash *h, uint8_t *out, size_t n);

/* Plain encodings used by the formats above (and by narinfo signatures).
 * Encoders write exactly *_encoded_len bytes plus a NUL. Decoders return false
 * on any invalid character or wrong length; out must hold
 * *_decoded_max(n) bytes, *outlen gets the real length. */
size_t nc_base16_encoded_len(size_t n);
void nc_base16_encode(const uint8_t *in, size_t n, char *out);
bool nc_base16_decode(const char *s, size_t n, uint8_t *out, size_t *outlen);
size_t nc_base64_encoded_len(size_t n);
void nc_base64_encode(const uint8_t *in, size_t n, char *out);
size_t nc_base64_decoded_max(size_t n);
bool nc_base64_decode(const char *s, size_t n, uint8_t *out, size_t *outlen);

#endif
