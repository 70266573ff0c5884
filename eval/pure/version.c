#include "eval/pure/version.h"

#include <stdbool.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

ev_slice ev_version_next(const char *v, size_t len, size_t *pos)
{
    size_t p = *pos;
    while (p < len && (v[p] == '.' || v[p] == '-'))
        p++;
    size_t start = p;
    if (p < len) {
        if (is_digit(v[p]))
            while (p < len && is_digit(v[p]))
                p++;
        else
            while (p < len && !is_digit(v[p]) && v[p] != '.' && v[p] != '-')
                p++;
    }
    *pos = p;
    return (ev_slice){v + start, p - start};
}

size_t ev_split_version(const char *v, size_t len, ev_slice *out, size_t max)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        ev_slice c = ev_version_next(v, len, &pos);
        if (c.len == 0)
            break;
        if (n < max)
            out[n] = c;
        n++;
    }
    return n;
}

/* A component as Nix reads it with string2Int<int>: all digits and within
 * the range of a 32-bit int, otherwise not a number. */
static bool as_int(ev_slice c, long *out)
{
    if (c.len == 0)
        return false;
    long n = 0;
    for (size_t i = 0; i < c.len; i++) {
        if (!is_digit(c.ptr[i]))
            return false;
        n = n * 10 + (c.ptr[i] - '0');
        if (n > 2147483647L)
            return false;
    }
    *out = n;
    return true;
}

static bool eq(ev_slice c, const char *lit)
{
    size_t n = strlen(lit);
    return c.len == n && memcmp(c.ptr, lit, n) == 0;
}

static int bytes_cmp(ev_slice a, ev_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (r)
        return r;
    return a.len < b.len ? -1 : a.len > b.len;
}

static bool components_lt(ev_slice c1, ev_slice c2)
{
    long n1, n2;
    bool i1 = as_int(c1, &n1), i2 = as_int(c2, &n2);
    if (i1 && i2)
        return n1 < n2;
    if (c1.len == 0 && i2)
        return true;
    if (eq(c1, "pre") && !eq(c2, "pre"))
        return true;
    if (eq(c2, "pre"))
        return false;
    /* "2.3a" < "2.3.1": a number beats a word. */
    if (i2)
        return true;
    if (i1)
        return false;
    return bytes_cmp(c1, c2) < 0;
}

int ev_compare_versions(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t p1 = 0, p2 = 0;
    while (p1 < alen || p2 < blen) {
        ev_slice c1 = ev_version_next(a, alen, &p1);
        ev_slice c2 = ev_version_next(b, blen, &p2);
        if (components_lt(c1, c2))
            return -1;
        if (components_lt(c2, c1))
            return 1;
    }
    return 0;
}

void ev_parse_drv_name(const char *s, size_t len, ev_slice *name, ev_slice *version)
{
    *name = (ev_slice){s, len};
    *version = (ev_slice){s + len, 0};
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-' && i + 1 < len && !is_alpha(s[i + 1])) {
            *name = (ev_slice){s, i};
            *version = (ev_slice){s + i + 1, len - i - 1};
            return;
        }
    }
}
