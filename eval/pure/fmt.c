#include "eval/pure/fmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ev_fmt_float_print(double d, ut_buf *out)
{
    /* iostream's default float format is printf's %g at precision 6. */
    ut_buf_printf(out, "%g", d);
}

void ev_fmt_float_tostring(double d, ut_buf *out)
{
    ut_buf_printf(out, "%f", d);
}

/* Shortest decimal digits that read back as d: digits[0..*ndigits) and the
 * power of ten of the first digit. d must be finite and non-zero. */
static void shortest_digits(double d, char *digits, int *ndigits, int *exp10)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d || prec == 17)
            break;
    }
    /* tmp is "[-]d[.ddd]e[+-]xx" */
    const char *p = tmp;
    if (*p == '-')
        p++;
    int n = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *ndigits = n;
    *exp10 = atoi(p + 1);
}

void ev_fmt_float_json(double d, ut_buf *out)
{
    if (!isfinite(d)) {
        ut_buf_puts(out, "null");
        return;
    }
    if (d == 0) {
        ut_buf_puts(out, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    if (d < 0) {
        ut_buf_putc(out, '-');
        d = -d;
    }
    char digits[20];
    int k, e10;
    shortest_digits(d, digits, &k, &e10);
    /* value = 0.d1d2..dk * 10^n, i.e. the decimal point sits after n digits.
     * The JSON library writes plain notation for -4 < n <= 15 and
     * d.ddde+XX otherwise (exponent at least two digits). */
    int n = e10 + 1;
    if (k <= n && n <= 15) {
        ut_buf_append(out, digits, (size_t)k);
        for (int i = k; i < n; i++)
            ut_buf_putc(out, '0');
        ut_buf_puts(out, ".0");
    } else if (0 < n && n <= 15) {
        ut_buf_append(out, digits, (size_t)n);
        ut_buf_putc(out, '.');
        ut_buf_append(out, digits + n, (size_t)(k - n));
    } else if (-4 < n && n <= 0) {
        ut_buf_puts(out, "0.");
        for (int i = n; i < 0; i++)
            ut_buf_putc(out, '0');
        ut_buf_append(out, digits, (size_t)k);
    } else {
        ut_buf_putc(out, digits[0]);
        if (k > 1) {
            ut_buf_putc(out, '.');
            ut_buf_append(out, digits + 1, (size_t)(k - 1));
        }
        int x = n - 1;
        ut_buf_printf(out, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    }
}

void ev_fmt_string_print(const char *s, size_t len, ut_buf *out)
{
    ut_buf_reserve(out, len + 2);
    ut_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        switch (c) {
        case '"':
        case '\\':
            ut_buf_putc(out, '\\');
            ut_buf_putc(out, c);
            break;
        case '\n': ut_buf_puts(out, "\\n"); break;
        case '\r': ut_buf_puts(out, "\\r"); break;
        case '\t': ut_buf_puts(out, "\\t"); break;
        case '$':
            if (i + 1 < len && s[i + 1] == '{')
                ut_buf_putc(out, '\\');
            ut_buf_putc(out, c);
            break;
        default:
            ut_buf_putc(out, c);
        }
    }
    ut_buf_putc(out, '"');
}

static const char *const keywords[] = {
    "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit",
};

bool ev_is_identifier(const char *s, size_t len)
{
    if (len == 0)
        return false;
    unsigned char c0 = (unsigned char)s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '\'' || c == '-'))
            return false;
    }
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == len && memcmp(keywords[i], s, len) == 0)
            return false;
    return true;
}

void ev_fmt_attr_name(const char *s, size_t len, ut_buf *out)
{
    if (ev_is_identifier(s, len))
        ut_buf_append(out, s, len);
    else
        ev_fmt_string_print(s, len, out);
}

/* Length of the well-formed UTF-8 sequence at s[i..len), 0 if the sequence
 * is bad; *fail is then the offset of the offending byte. */
static size_t utf8_seq(const unsigned char *s, size_t i, size_t len, size_t *fail)
{
    unsigned char c = s[i];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    else if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c == 0xE0) {
        need = 2;
        lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        need = 2;
    else if (c == 0xED) {
        need = 2;
        hi = 0x9F;
    } else if (c == 0xF0) {
        need = 3;
        lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3)
        need = 3;
    else if (c == 0xF4) {
        need = 3;
        hi = 0x8F;
    } else {
        *fail = i;
        return 0;
    }
    for (size_t k = 1; k <= need; k++) {
        if (i + k >= len) {
            *fail = len;
            return 0;
        }
        unsigned char b = s[i + k];
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) {
            *fail = i + k;
            return 0;
        }
    }
    return need + 1;
}

bool ev_utf8_valid(const char *s, size_t len, size_t *bad_index)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(u, i, len, bad_index);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool ev_fmt_json_string(const char *s, size_t len, ut_buf *out, ut_err *e)
{
    size_t bad;
    if (!ev_utf8_valid(s, len, &bad)) {
        if (bad == len)
            return ut_err_set(e, "[json.exception.type_error.316] incomplete UTF-8 string; last byte: 0x%02X",
                              (unsigned char)s[len - 1]);
        return ut_err_set(e, "[json.exception.type_error.316] invalid UTF-8 byte at index %zu: 0x%02X", bad,
                          (unsigned char)s[bad]);
    }
    ut_buf_reserve(out, len + 2);
    ut_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': ut_buf_puts(out, "\\\""); break;
        case '\\': ut_buf_puts(out, "\\\\"); break;
        case '\b': ut_buf_puts(out, "\\b"); break;
        case '\f': ut_buf_puts(out, "\\f"); break;
        case '\n': ut_buf_puts(out, "\\n"); break;
        case '\r': ut_buf_puts(out, "\\r"); break;
        case '\t': ut_buf_puts(out, "\\t"); break;
        default:
            if (c < 0x20)
                ut_buf_printf(out, "\\u%04x", c);
            else
                ut_buf_putc(out, (char)c);
        }
    }
    ut_buf_putc(out, '"');
    return true;
}
