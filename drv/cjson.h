/* drv/cjson.h: canonical JSON (RFC 8785, JSON Canonicalization Scheme) of a
 * jansson value, and the sha256 digests straylight names actions by. */
#ifndef STRAYLIGHT_DRV_CJSON_H
#define STRAYLIGHT_DRV_CJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/* Appends the canonical form of v to out. Fails (with a message naming the
 * problem) on NaN/Infinity, integers outside IEEE-754's exact range (±2^53)
 * and strings that are not valid UTF-8. */
bool dv_cjson_write(const json_t *v, ut_buf *out, ut_err *e);

/* Whether s[0..n) is valid UTF-8 (no surrogates, no overlong forms). */
bool dv_utf8_valid(const char *s, size_t n);

/* JSON as Nix dumps it (nlohmann::json::dump()): keys in byte order, no
 * spaces, the same string escapes as above. What .attrs.json holds. */
bool dv_json_write_nix(const json_t *v, ut_buf *out, ut_err *e);

/* sha256 of bytes as 64 lowercase hex digits (+ NUL). */
void dv_sha256_hex(const void *data, size_t len, char hex[65]);
void dv_sha256_raw(const void *data, size_t len, unsigned char raw[32]);

/* Digest of the canonical JSON of v, hex. */
bool dv_cjson_digest(const json_t *v, char hex[65], ut_err *e);

#endif
