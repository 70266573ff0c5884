#include "drv/cjson.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence; returns its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) len = 2, c = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0) len = 3, c = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0) len = 4, c = s[0] & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

bool dv_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_decode(u + i, n - i, &cp);
        if (!l) return false;
        i += l;
    }
    return true;
}

/* RFC 8785 sorts member names by their UTF-16 code units, which differs
 * from UTF-8 byte order only for characters above U+FFFF against
 * U+E000..U+FFFF; both keys were validated as UTF-8 before sorting. */
static int utf16_compare(const char *a, size_t an, const char *b, size_t bn)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    size_t i = 0, j = 0;
    uint16_t pa = 0, pb = 0; /* pending low surrogates */
    while ((i < an || pa) && (j < bn || pb)) {
        uint16_t ua, ub;
        if (pa) ua = pa, pa = 0;
        else {
            uint32_t c = 0;
            size_t l = utf8_decode(x + i, an - i, &c);
            i += l ? l : 1;
            if (c >= 0x10000) ua = (uint16_t)(0xD800 + ((c - 0x10000) >> 10)), pa = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
            else ua = (uint16_t)c;
        }
        if (pb) ub = pb, pb = 0;
        else {
            uint32_t c = 0;
            size_t l = utf8_decode(y + j, bn - j, &c);
            j += l ? l : 1;
            if (c >= 0x10000) ub = (uint16_t)(0xD800 + ((c - 0x10000) >> 10)), pb = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
            else ub = (uint16_t)c;
        }
        if (ua != ub) return ua < ub ? -1 : 1;
    }
    bool amore = i < an || pa, bmore = j < bn || pb;
    return amore == bmore ? 0 : (amore ? 1 : -1);
}

static bool write_string(const char *s, size_t n, ut_buf *out, ut_err *e)
{
    ut_buf_reserve(out, n + 2);
    ut_buf_putc(out, '"');
    size_t run = 0;   /* start of the pending run of bytes copied as they are */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t l = utf8_decode((const unsigned char *)s + i, n - i, &cp);
            if (!l) return ut_err_set(e, "canonical JSON: string is not valid UTF-8 at byte %zu", i);
            i += l;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        ut_buf_append(out, s + run, i - run);
        switch (c) {
        case '"': ut_buf_puts(out, "\\\""); break;
        case '\\': ut_buf_puts(out, "\\\\"); break;
        case '\b': ut_buf_puts(out, "\\b"); break;
        case '\f': ut_buf_puts(out, "\\f"); break;
        case '\n': ut_buf_puts(out, "\\n"); break;
        case '\r': ut_buf_puts(out, "\\r"); break;
        case '\t': ut_buf_puts(out, "\\t"); break;
        default: ut_buf_printf(out, "\\u%04x", c);
        }
        run = ++i;
    }
    ut_buf_append(out, s + run, n - run);
    ut_buf_putc(out, '"');
    return true;
}

/* ECMAScript Number::toString, which RFC 8785 prescribes: the shortest
 * digit string that round-trips, laid out by the decimal exponent. */
static bool write_double(double d, ut_buf *out, ut_err *e)
{
    if (!isfinite(d)) return ut_err_set(e, "canonical JSON: NaN or Infinity is not representable");
    if (d == 0) {
        ut_buf_putc(out, '0');
        return true;
    }
    char buf[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d) break;
    }
    const char *p = buf;
    if (*p == '-') {
        ut_buf_putc(out, '-');
        p++;
    }
    char digits[24];
    int k = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = 0;
    int n = atoi(p + 1) + 1;
    if (k <= n && n <= 21) {
        ut_buf_puts(out, digits);
        for (int i = 0; i < n - k; i++) ut_buf_putc(out, '0');
    } else if (0 < n && n <= 21) {
        ut_buf_append(out, digits, (size_t)n);
        ut_buf_putc(out, '.');
        ut_buf_puts(out, digits + n);
    } else if (-6 < n && n <= 0) {
        ut_buf_puts(out, "0.");
        for (int i = 0; i < -n; i++) ut_buf_putc(out, '0');
        ut_buf_puts(out, digits);
    } else {
        ut_buf_putc(out, digits[0]);
        if (k > 1) {
            ut_buf_putc(out, '.');
            ut_buf_puts(out, digits + 1);
        }
        ut_buf_printf(out, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    return true;
}

typedef struct {
    const char *key;
    size_t klen;
    json_t *val;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    return utf16_compare(x->key, x->klen, y->key, y->klen);
}

bool dv_cjson_write(const json_t *v, ut_buf *out, ut_err *e)
{
    switch (json_typeof(v)) {
    case JSON_NULL: ut_buf_puts(out, "null"); return true;
    case JSON_TRUE: ut_buf_puts(out, "true"); return true;
    case JSON_FALSE: ut_buf_puts(out, "false"); return true;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        /* JCS numbers are IEEE doubles; larger integers would silently lose
         * digits in every other implementation. */
        if (i > 9007199254740992LL || i < -9007199254740992LL)
            return ut_err_set(e, "canonical JSON: integer %lld is outside the exact double range", (long long)i);
        ut_buf_printf(out, "%lld", (long long)i);
        return true;
    }
    case JSON_REAL: return write_double(json_real_value(v), out, e);
    case JSON_STRING: return write_string(json_string_value(v), json_string_length(v), out, e);
    case JSON_ARRAY: {
        ut_buf_putc(out, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) ut_buf_putc(out, ',');
            if (!dv_cjson_write(json_array_get(v, i), out, e)) return false;
        }
        ut_buf_putc(out, ']');
        return true;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        member *m = ut_xmalloc((n ? n : 1) * sizeof *m);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            m[i].key = k;
            m[i].klen = strlen(k);
            m[i].val = x;
            uint32_t cp;
            for (size_t j = 0; j < m[i].klen;) {
                size_t l = utf8_decode((const unsigned char *)k + j, m[i].klen - j, &cp);
                if (!l) {
                    free(m);
                    return ut_err_set(e, "canonical JSON: member name is not valid UTF-8");
                }
                j += l;
            }
            i++;
        }
        qsort(m, n, sizeof *m, member_cmp);
        ut_buf_putc(out, '{');
        bool ok = true;
        for (i = 0; i < n && ok; i++) {
            if (i) ut_buf_putc(out, ',');
            ok = write_string(m[i].key, m[i].klen, out, e);
            ut_buf_putc(out, ':');
            ok = ok && dv_cjson_write(m[i].val, out, e);
        }
        free(m);
        if (ok) ut_buf_putc(out, '}');
        return ok;
    }
    }
    return ut_err_set(e, "canonical JSON: unknown value type");
}

static int member_cmp_bytes(const void *a, const void *b)
{
    const member *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen < y->klen ? -1 : x->klen > y->klen);
}

bool dv_json_write_nix(const json_t *v, ut_buf *out, ut_err *e)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: ut_buf_printf(out, "%lld", (long long)json_integer_value(v)); return true;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!isfinite(d)) {
            ut_buf_puts(out, "null");
            return true;
        }
        char buf[48];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d) break;
        }
        ut_buf_puts(out, buf);
        if (!strpbrk(buf, ".e")) ut_buf_puts(out, ".0");
        return true;
    }
    case JSON_ARRAY: {
        ut_buf_putc(out, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) ut_buf_putc(out, ',');
            if (!dv_json_write_nix(json_array_get(v, i), out, e)) return false;
        }
        ut_buf_putc(out, ']');
        return true;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        member *m = ut_xmalloc((n ? n : 1) * sizeof *m);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            m[i].key = k;
            m[i].klen = strlen(k);
            m[i].val = x;
            i++;
        }
        qsort(m, n, sizeof *m, member_cmp_bytes);
        ut_buf_putc(out, '{');
        bool ok = true;
        for (i = 0; i < n && ok; i++) {
            if (i) ut_buf_putc(out, ',');
            ok = write_string(m[i].key, m[i].klen, out, e);
            ut_buf_putc(out, ':');
            ok = ok && dv_json_write_nix(m[i].val, out, e);
        }
        free(m);
        if (ok) ut_buf_putc(out, '}');
        return ok;
    }
    default: return dv_cjson_write(v, out, e);
    }
}

void dv_sha256_raw(const void *data, size_t len, unsigned char raw[32])
{
    unsigned int n = 32;
    if (!EVP_Digest(data, len, raw, &n, EVP_sha256(), NULL)) ut_die("sha256 failed");
}

void dv_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char raw[32];
    dv_sha256_raw(data, len, raw);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
}

bool dv_cjson_digest(const json_t *v, char hex[65], ut_err *e)
{
    ut_buf b = UT_BUF_INIT;
    bool ok = dv_cjson_write(v, &b, e);
    if (ok) dv_sha256_hex(b.data ? b.data : "", b.len, hex);
    ut_buf_free(&b);
    return ok;
}
