#include "eval/pure/toml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/pure/fmt.h"

enum {
    F_INLINE = 1,    /* inline table or array value: closed for additions */
    F_DEFINED = 2,   /* table given by a [header] or as an array-of-tables element */
    F_DOTTED = 4,    /* table created by a dotted key in a key/value pair */
    F_AOT = 8,       /* array created by [[header]] */
};

#define MAX_DEPTH 10000

typedef struct tp {
    const char *s;
    size_t len, pos;
    ut_arena *a;
    ut_err *e;
    int depth;
    ev_toml **indexed;   /* tables given a lookup table, freed at the end */
    size_t nindexed, capindexed;
} tp;

/* ---- errors ------------------------------------------------------------ */

static bool fail_at(tp *p, size_t off, const char *title, const char *label)
{
    if (off > p->len)
        off = p->len;
    size_t line = 1, ls = 0;
    for (size_t i = 0; i < off; i++)
        if (p->s[i] == '\n') {
            line++;
            ls = i + 1;
        }
    size_t le = ls;
    while (le < p->len && p->s[le] != '\n' && p->s[le] != '\r')
        le++;
    char num[32];
    int w = snprintf(num, sizeof num, "%zu", line);
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, "[error] %s\n --> fromTOML\n %*s |\n %s | %.*s\n %*s | ", title, w, "", num, (int)(le - ls),
                  p->s + ls, w, "");
    for (size_t i = ls; i < off; i++)
        ut_buf_putc(&m, ' ');
    ut_buf_printf(&m, "^-- %s\n", label);
    ut_err_set(p->e, "%s", ut_buf_cstr(&m));
    ut_buf_free(&m);
    return false;
}

#define FAIL(off, title, label) fail_at(p, (off), (title), (label))

/* ---- nodes ------------------------------------------------------------- */

static ev_toml *node(tp *p, ev_toml_type t)
{
    ev_toml *n = ut_arena_alloc(p->a, sizeof *n);
    n->type = t;
    return n;
}

/* Tables look keys up linearly until they grow past this; then a hash
 * table (mapping to 1 + member index) keeps big documents linear. */
#define INDEX_FROM 16

static ev_toml *tbl_get(tp *p, ev_toml *t, const char *k, size_t kl)
{
    (void)p;
    if (t->u.tbl.idx) {
        uintptr_t i = (uintptr_t)ut_hmap_get(t->u.tbl.idx, k, kl);
        return i ? t->u.tbl.m[i - 1].val : NULL;
    }
    for (size_t i = 0; i < t->u.tbl.n; i++)
        if (t->u.tbl.m[i].klen == kl && memcmp(t->u.tbl.m[i].key, k, kl) == 0)
            return t->u.tbl.m[i].val;
    return NULL;
}

static void tbl_put(tp *p, ev_toml *t, const char *k, size_t kl, ev_toml *v)
{
    if (t->u.tbl.n == t->u.tbl.cap) {
        size_t nc = t->u.tbl.cap ? t->u.tbl.cap * 2 : 4;
        ev_toml_member *m = ut_arena_alloc(p->a, nc * sizeof *m);
        if (t->u.tbl.n)
            memcpy(m, t->u.tbl.m, t->u.tbl.n * sizeof *m);
        t->u.tbl.m = m;
        t->u.tbl.cap = nc;
    }
    t->u.tbl.m[t->u.tbl.n++] = (ev_toml_member){ut_arena_strndup(p->a, k, kl), kl, v};
    if (t->u.tbl.idx) {
        ut_hmap_put(t->u.tbl.idx, k, kl, (void *)(uintptr_t)t->u.tbl.n);
    } else if (t->u.tbl.n == INDEX_FROM) {
        t->u.tbl.idx = ut_hmap_new();
        for (size_t i = 0; i < t->u.tbl.n; i++)
            ut_hmap_put(t->u.tbl.idx, t->u.tbl.m[i].key, t->u.tbl.m[i].klen, (void *)(uintptr_t)(i + 1));
        if (p->nindexed == p->capindexed) {
            p->capindexed = p->capindexed ? p->capindexed * 2 : 16;
            p->indexed = ut_xrealloc(p->indexed, p->capindexed * sizeof *p->indexed);
        }
        p->indexed[p->nindexed++] = t;
    }
}

static void arr_push(tp *p, ev_toml *a, ev_toml *v)
{
    if (a->u.arr.n == a->u.arr.cap) {
        size_t nc = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
        ev_toml **items = ut_arena_alloc(p->a, nc * sizeof *items);
        if (a->u.arr.n)
            memcpy(items, a->u.arr.items, a->u.arr.n * sizeof *items);
        a->u.arr.items = items;
        a->u.arr.cap = nc;
    }
    a->u.arr.items[a->u.arr.n++] = v;
}

/* ---- lexical helpers ------------------------------------------------------ */

static int peek(tp *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_bare(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

static void skip_ws(tp *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

/* A control character that may not appear in comments and strings. */
static bool bad_ctl(int c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F; }

static bool skip_comment(tp *p)
{
    if (peek(p, 0) != '#')
        return true;
    while (p->pos < p->len && p->s[p->pos] != '\n') {
        int c = (unsigned char)p->s[p->pos];
        if (c == '\r' && peek(p, 1) == '\n')
            break;
        if (bad_ctl(c))
            return FAIL(p->pos, "toml::parse_comment: invalid control character in comment",
                        "control characters other than tab are not allowed");
        p->pos++;
    }
    return true;
}

/* At a newline (LF or CRLF)? Returns its length, 0 if none. */
static size_t newline_at(tp *p)
{
    if (peek(p, 0) == '\n')
        return 1;
    if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
        return 2;
    return 0;
}

/* Whitespace, newlines and comments, as allowed inside arrays. */
static bool skip_ws_nl_comments(tp *p)
{
    for (;;) {
        skip_ws(p);
        if (!skip_comment(p))
            return false;
        size_t nl = newline_at(p);
        if (!nl)
            return true;
        p->pos += nl;
    }
}

/* After a key/value pair or a header: only a comment may follow on the line. */
static bool end_of_line(tp *p)
{
    skip_ws(p);
    if (!skip_comment(p))
        return false;
    if (p->pos >= p->len)
        return true;
    size_t nl = newline_at(p);
    if (!nl)
        return FAIL(p->pos, "toml::parse: unexpected character after value", "expected newline or end of input");
    p->pos += nl;
    return true;
}

static void put_utf8(ut_buf *b, uint32_t cp)
{
    if (cp < 0x80)
        ut_buf_putc(b, (char)cp);
    else if (cp < 0x800) {
        ut_buf_putc(b, (char)(0xC0 | (cp >> 6)));
        ut_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        ut_buf_putc(b, (char)(0xE0 | (cp >> 12)));
        ut_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ut_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        ut_buf_putc(b, (char)(0xF0 | (cp >> 18)));
        ut_buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        ut_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        ut_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* ---- strings ------------------------------------------------------------- */

static bool escape(tp *p, ut_buf *b)
{
    size_t at = p->pos;
    p->pos++;   /* the backslash */
    int c = peek(p, 0);
    p->pos++;
    switch (c) {
    case 'b': ut_buf_putc(b, '\b'); return true;
    case 't': ut_buf_putc(b, '\t'); return true;
    case 'n': ut_buf_putc(b, '\n'); return true;
    case 'f': ut_buf_putc(b, '\f'); return true;
    case 'r': ut_buf_putc(b, '\r'); return true;
    case '"': ut_buf_putc(b, '"'); return true;
    case '\\': ut_buf_putc(b, '\\'); return true;
    case 'u':
    case 'U': {
        int n = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < n; i++) {
            int h = peek(p, 0);
            int v = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (v < 0)
                return FAIL(p->pos, "toml::parse_escape_sequence: invalid unicode escape",
                            c == 'u' ? "\\u must be followed by 4 hex digits" : "\\U must be followed by 8 hex digits");
            cp = cp * 16 + (uint32_t)v;
            p->pos++;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return FAIL(at, "toml::parse_escape_sequence: not a unicode scalar value",
                        "must be in U+0000..U+D7FF or U+E000..U+10FFFF");
        put_utf8(b, cp);
        return true;
    }
    default:
        return FAIL(at, "toml::parse_escape_sequence: unknown escape sequence",
                    "expected one of \\b \\t \\n \\f \\r \\\" \\\\ \\u \\U");
    }
}

/* Strings of all four kinds; p->pos is at the opening quote. */
static bool parse_string(tp *p, ut_buf *b, bool allow_multiline)
{
    char q = p->s[p->pos];
    bool literal = q == '\'';
    size_t start = p->pos;
    if (allow_multiline && peek(p, 1) == q && peek(p, 2) == q) {
        p->pos += 3;
        size_t nl = newline_at(p);
        p->pos += nl;   /* a newline right after the opening quotes is dropped */
        for (;;) {
            if (p->pos >= p->len)
                return FAIL(start, "toml::parse_ml_string: unterminated multi-line string", "not closed");
            int c = peek(p, 0);
            if (c == q && peek(p, 1) == q && peek(p, 2) == q) {
                size_t k = 3;
                while (peek(p, k) == q)
                    k++;
                if (k > 5)
                    return FAIL(p->pos, "toml::parse_ml_string: too many quotes", "at most two quotes may end the content");
                for (size_t i = 3; i < k; i++)
                    ut_buf_putc(b, q);
                p->pos += k;
                return true;
            }
            if (!literal && c == '\\') {
                /* A backslash at the end of a line eats the line break and
                 * all whitespace after it. */
                size_t save = p->pos;
                p->pos++;
                skip_ws(p);
                if (newline_at(p)) {
                    for (;;) {
                        skip_ws(p);
                        size_t n2 = newline_at(p);
                        if (!n2)
                            break;
                        p->pos += n2;
                    }
                    continue;
                }
                p->pos = save;
                if (!escape(p, b))
                    return false;
                continue;
            }
            size_t nl2 = newline_at(p);
            if (nl2) {
                ut_buf_append(b, p->s + p->pos, nl2);
                p->pos += nl2;
                continue;
            }
            if (bad_ctl(c))
                return FAIL(p->pos, "toml::parse_ml_string: invalid control character in string",
                            "control characters other than tab must be escaped");
            ut_buf_putc(b, (char)c);
            p->pos++;
        }
    }
    p->pos++;
    for (;;) {
        int c = peek(p, 0);
        if (c == -1 || c == '\n' || (c == '\r' && peek(p, 1) == '\n'))
            return FAIL(p->pos, "toml::parse_string: unterminated string", "missing closing quote");
        if (c == q) {
            p->pos++;
            return true;
        }
        if (!literal && c == '\\') {
            if (!escape(p, b))
                return false;
            continue;
        }
        if (bad_ctl(c))
            return FAIL(p->pos, "toml::parse_string: invalid control character in string",
                        "control characters other than tab must be escaped");
        ut_buf_putc(b, (char)c);
        p->pos++;
    }
}

/* ---- keys ---------------------------------------------------------------- */

typedef struct keypath {
    size_t n, cap;
    char **k;
    size_t *kl;
    size_t *at;   /* source offset of each part, for errors */
} keypath;

static void kp_free(keypath *kp)
{
    for (size_t i = 0; i < kp->n; i++)
        free(kp->k[i]);
    free(kp->k);
    free(kp->kl);
    free(kp->at);
    memset(kp, 0, sizeof *kp);
}

static bool parse_key(tp *p, keypath *kp)
{
    memset(kp, 0, sizeof *kp);
    for (;;) {
        skip_ws(p);
        size_t at = p->pos;
        ut_buf b = UT_BUF_INIT;
        int c = peek(p, 0);
        if (c == '"' || c == '\'') {
            if (!parse_string(p, &b, false)) {
                ut_buf_free(&b);
                kp_free(kp);
                return false;
            }
        } else if (is_bare(c)) {
            while (is_bare(peek(p, 0)))
                ut_buf_putc(&b, p->s[p->pos++]);
        } else {
            ut_buf_free(&b);
            kp_free(kp);
            return FAIL(p->pos, "toml::parse_key: invalid key", "expected a bare key or a quoted string");
        }
        if (kp->n == kp->cap) {
            kp->cap = kp->cap ? kp->cap * 2 : 4;
            kp->k = ut_xrealloc(kp->k, kp->cap * sizeof *kp->k);
            kp->kl = ut_xrealloc(kp->kl, kp->cap * sizeof *kp->kl);
            kp->at = ut_xrealloc(kp->at, kp->cap * sizeof *kp->at);
        }
        size_t kl;
        ut_buf_putc(&b, '\0');   /* make sure data is allocated */
        char *k = ut_buf_steal(&b, &kl);
        kp->k[kp->n] = k;
        kp->kl[kp->n] = kl - 1;
        kp->at[kp->n] = at;
        kp->n++;
        skip_ws(p);
        if (peek(p, 0) != '.')
            return true;
        p->pos++;
    }
}

/* ---- numbers and dates ------------------------------------------------ */

static bool digits_n(tp *p, size_t off, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (off + (size_t)i >= p->len || !is_digit((unsigned char)p->s[off + (size_t)i]))
            return false;
        v = v * 10 + (p->s[off + (size_t)i] - '0');
    }
    *out = v;
    return true;
}

static bool looks_like_date(tp *p)
{
    int x = 0;
    return digits_n(p, p->pos, 4, &x) && peek(p, 4) == '-' && digits_n(p, p->pos + 5, 2, &x) && peek(p, 7) == '-' &&
           digits_n(p, p->pos + 8, 2, &x);
}

static bool looks_like_time(tp *p, size_t off)
{
    int x = 0;
    return digits_n(p, off, 2, &x) && off + 2 < p->len && p->s[off + 2] == ':' && digits_n(p, off + 3, 2, &x);
}

static bool parse_time(tp *p, ut_buf *out)
{
    size_t at = p->pos;
    int h = 0, m = 0, s = 0;
    if (!digits_n(p, p->pos, 2, &h) || peek(p, 2) != ':' || !digits_n(p, p->pos + 3, 2, &m))
        return FAIL(at, "toml::parse_local_time: invalid time", "expected HH:MM:SS");
    if (peek(p, 5) != ':' || !digits_n(p, p->pos + 6, 2, &s))
        return FAIL(p->pos + 5, "toml::parse_local_time: invalid time", "seconds are required by TOML 1.0");
    if (h > 23 || m > 59 || s > 60)
        return FAIL(at, "toml::parse_local_time: invalid time", "hour, minute or second out of range");
    p->pos += 8;
    ut_buf_printf(out, "%02d:%02d:%02d", h, m, s);
    if (peek(p, 0) == '.') {
        p->pos++;
        if (!is_digit(peek(p, 0)))
            return FAIL(p->pos, "toml::parse_local_time: invalid time", "expected digits after '.'");
        /* The fraction is kept to nanoseconds and shown with 3, 6 or 9
         * digits, the fewest that hold it (as Nix asks toml11 to do). */
        char frac[10] = "000000000";
        int nd = 0;
        while (is_digit(peek(p, 0))) {
            if (nd < 9)
                frac[nd] = p->s[p->pos];
            nd++;
            p->pos++;
        }
        int prec = 0;
        if (memcmp(frac + 6, "000", 3) != 0)
            prec = 9;
        else if (memcmp(frac + 3, "000", 3) != 0)
            prec = 6;
        else if (memcmp(frac, "000", 3) != 0)
            prec = 3;
        if (prec) {
            ut_buf_putc(out, '.');
            ut_buf_append(out, frac, (size_t)prec);
        }
    }
    return true;
}

static bool parse_datetime(tp *p, ev_toml **out)
{
    ut_buf b = UT_BUF_INIT;
    ev_toml *n = node(p, EV_TOML_DATETIME);
    size_t at = p->pos;
    if (looks_like_date(p)) {
        int y = 0, mo = 0, d = 0;
        digits_n(p, p->pos, 4, &y);
        digits_n(p, p->pos + 5, 2, &mo);
        digits_n(p, p->pos + 8, 2, &d);
        static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)) {
            ut_buf_free(&b);
            return FAIL(at, "toml::parse_local_date: invalid date", "month or day out of range");
        }
        p->pos += 10;
        ut_buf_printf(&b, "%04d-%02d-%02d", y, mo, d);
        int c = peek(p, 0);
        if ((c == 'T' || c == 't') || (c == ' ' && looks_like_time(p, p->pos + 1))) {
            p->pos++;
            ut_buf_putc(&b, 'T');
            if (!parse_time(p, &b)) {
                ut_buf_free(&b);
                return false;
            }
            c = peek(p, 0);
            if (c == 'Z' || c == 'z') {
                p->pos++;
                ut_buf_putc(&b, 'Z');
                n->dt_kind = EV_TOML_OFFSET_DATETIME;
            } else if (c == '+' || c == '-') {
                int oh = 0, om = 0;
                if (!digits_n(p, p->pos + 1, 2, &oh) || peek(p, 3) != ':' || !digits_n(p, p->pos + 4, 2, &om) ||
                    oh > 23 || om > 59) {
                    ut_buf_free(&b);
                    return FAIL(p->pos, "toml::parse_offset_datetime: invalid offset", "expected Z or +HH:MM");
                }
                p->pos += 6;
                if (oh == 0 && om == 0)
                    ut_buf_putc(&b, 'Z');
                else
                    ut_buf_printf(&b, "%c%02d:%02d", c, oh, om);
                n->dt_kind = EV_TOML_OFFSET_DATETIME;
            } else {
                n->dt_kind = EV_TOML_LOCAL_DATETIME;
            }
        } else {
            n->dt_kind = EV_TOML_LOCAL_DATE;
        }
    } else {
        if (!parse_time(p, &b)) {
            ut_buf_free(&b);
            return false;
        }
        n->dt_kind = EV_TOML_LOCAL_TIME;
    }
    n->u.str.s = ut_arena_strndup(p->a, b.data, b.len);
    n->u.str.len = b.len;
    ut_buf_free(&b);
    *out = n;
    return true;
}

static bool digit_in_base(int c, int base)
{
    if (base == 16)
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return c >= '0' && c < '0' + base;
}

/* Digits of a base with single underscores between digits; appends the
 * digits without underscores to b. */
static bool digit_run(tp *p, int base, ut_buf *b, const char *what)
{
    if (!digit_in_base(peek(p, 0), base))
        return FAIL(p->pos, what, "expected a digit");
    for (;;) {
        ut_buf_putc(b, p->s[p->pos++]);
        if (peek(p, 0) == '_') {
            if (!digit_in_base(peek(p, 1), base))
                return FAIL(p->pos, what, "'_' must be between two digits");
            p->pos++;
            continue;
        }
        if (!digit_in_base(peek(p, 0), base))
            return true;
    }
}

static bool parse_number(tp *p, ev_toml **out)
{
    int c = peek(p, 0);
    int sign = 0;
    if (c == '+' || c == '-') {
        sign = c;
        p->pos++;
        c = peek(p, 0);
    }
    if ((c == 'i' && peek(p, 1) == 'n' && peek(p, 2) == 'f') || (c == 'n' && peek(p, 1) == 'a' && peek(p, 2) == 'n')) {
        p->pos += 3;
        ev_toml *n = node(p, EV_TOML_FLOAT);
        n->u.f = c == 'i' ? INFINITY : NAN;
        if (sign == '-')
            n->u.f = -n->u.f;
        *out = n;
        return true;
    }
    ut_buf b = UT_BUF_INIT;
    if (!sign && c == '0' && (peek(p, 1) == 'x' || peek(p, 1) == 'o' || peek(p, 1) == 'b')) {
        int base = peek(p, 1) == 'x' ? 16 : peek(p, 1) == 'o' ? 8 : 2;
        const char *what = base == 16 ? "toml::parse_hex_integer: invalid integer"
                           : base == 8 ? "toml::parse_oct_integer: invalid integer"
                                       : "toml::parse_bin_integer: invalid integer";
        p->pos += 2;
        if (!digit_run(p, base, &b, what)) {
            ut_buf_free(&b);
            return false;
        }
        errno = 0;
        unsigned long long v = strtoull(b.data, NULL, base);
        /* toml11 refuses binary numbers of more than 63 digits even when
         * the leading ones are zeros; Nix inherits that. */
        bool too_big = errno || v > (unsigned long long)INT64_MAX || (base == 2 && b.len > 63);
        ut_buf_free(&b);
        if (too_big)
            return FAIL(p->pos,
                        base == 16 ? "toml::parse_hex_integer: too large integer: current max value = 2^63"
                        : base == 8 ? "toml::parse_oct_integer: too large integer: current max value = 2^63"
                                    : "toml::parse_bin_integer: too large integer: current max value = 2^63",
                        "must be < 2^63");
        ev_toml *n = node(p, EV_TOML_INT);
        n->u.i = (int64_t)v;
        *out = n;
        return true;
    }
    if (sign)
        ut_buf_putc(&b, (char)sign);
    size_t int_start = p->pos;
    if (!digit_run(p, 10, &b, "toml::parse_value: invalid number")) {
        ut_buf_free(&b);
        return false;
    }
    if (p->s[int_start] == '0' && p->pos - int_start > 1) {
        ut_buf_free(&b);
        return FAIL(int_start, "toml::parse_dec_integer: leading zeros are not allowed", "here");
    }
    bool is_float = false;
    if (peek(p, 0) == '.') {
        is_float = true;
        ut_buf_putc(&b, '.');
        p->pos++;
        if (!digit_run(p, 10, &b, "toml::parse_floating: invalid float")) {
            ut_buf_free(&b);
            return false;
        }
    }
    if (peek(p, 0) == 'e' || peek(p, 0) == 'E') {
        is_float = true;
        ut_buf_putc(&b, 'e');
        p->pos++;
        if (peek(p, 0) == '+' || peek(p, 0) == '-')
            ut_buf_putc(&b, p->s[p->pos++]);
        if (!digit_run(p, 10, &b, "toml::parse_floating: invalid exponent")) {
            ut_buf_free(&b);
            return false;
        }
    }
    if (is_bare(peek(p, 0)) || peek(p, 0) == '.') {
        ut_buf_free(&b);
        return FAIL(p->pos, "toml::parse_value: unknown value", "unexpected character in a number");
    }
    ev_toml *n;
    if (is_float) {
        double f = strtod(b.data, NULL);
        if (isinf(f)) {
            ut_buf_free(&b);
            return FAIL(p->pos, "toml::parse_floating: failed to read floating point value from stream", "here");
        }
        n = node(p, EV_TOML_FLOAT);
        n->u.f = f;
    } else {
        errno = 0;
        long long v = strtoll(b.data, NULL, 10);
        if (errno) {
            ut_buf_free(&b);
            return FAIL(p->pos, "toml::parse_dec_integer: too large integer: current max digits = 2^63", "must be < 2^63");
        }
        n = node(p, EV_TOML_INT);
        n->u.i = v;
    }
    ut_buf_free(&b);
    *out = n;
    return true;
}

/* ---- values and tables --------------------------------------------------- */

static bool parse_value(tp *p, ev_toml **out);

static void mark_inline(ev_toml *v)
{
    v->flags |= F_INLINE;
    if (v->type == EV_TOML_TABLE)
        for (size_t i = 0; i < v->u.tbl.n; i++)
            mark_inline(v->u.tbl.m[i].val);
    else if (v->type == EV_TOML_ARRAY)
        for (size_t i = 0; i < v->u.arr.n; i++)
            mark_inline(v->u.arr.items[i]);
}

static bool key_error(tp *p, keypath *kp, size_t i, const char *title, const char *label)
{
    fail_at(p, kp->at[i], title, label);
    kp_free(kp);
    return false;
}

/* key = value into table t (the current table, or an inline table). */
static bool keyval(tp *p, ev_toml *t)
{
    keypath kp;
    if (!parse_key(p, &kp))
        return false;
    for (size_t i = 0; i + 1 < kp.n; i++) {
        ev_toml *c = tbl_get(p, t, kp.k[i], kp.kl[i]);
        if (!c) {
            c = node(p, EV_TOML_TABLE);
            c->flags = F_DOTTED;
            tbl_put(p, t, kp.k[i], kp.kl[i], c);
        } else if (c->type != EV_TOML_TABLE || (c->flags & (F_INLINE | F_DEFINED)) || !(c->flags & F_DOTTED)) {
            return key_error(p, &kp, i, "toml::insert_value: cannot add to this key with a dotted key",
                             c->type != EV_TOML_TABLE ? "already defined as a value" : "table already defined");
        }
        t = c;
    }
    size_t last = kp.n - 1;
    if (tbl_get(p, t, kp.k[last], kp.kl[last]))
        return key_error(p, &kp, last, "toml::insert_value: duplicate key", "key already defined");
    skip_ws(p);
    if (peek(p, 0) != '=') {
        kp_free(&kp);
        return FAIL(p->pos, "toml::parse_key_value_pair: missing '='", "expected '=' after the key");
    }
    p->pos++;
    skip_ws(p);
    ev_toml *v;
    if (!parse_value(p, &v)) {
        kp_free(&kp);
        return false;
    }
    if (v->type == EV_TOML_TABLE || v->type == EV_TOML_ARRAY)
        mark_inline(v);
    tbl_put(p, t, kp.k[last], kp.kl[last], v);
    kp_free(&kp);
    return true;
}

static bool parse_array(tp *p, ev_toml **out)
{
    ev_toml *a = node(p, EV_TOML_ARRAY);
    p->pos++;
    for (;;) {
        if (!skip_ws_nl_comments(p))
            return false;
        if (peek(p, 0) == ']') {
            p->pos++;
            break;
        }
        ev_toml *v;
        if (!parse_value(p, &v))
            return false;
        arr_push(p, a, v);
        if (!skip_ws_nl_comments(p))
            return false;
        if (peek(p, 0) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p, 0) == ']') {
            p->pos++;
            break;
        }
        return FAIL(p->pos, "toml::parse_array: invalid array", "expected ',' or ']'");
    }
    *out = a;
    return true;
}

static bool parse_inline_table(tp *p, ev_toml **out)
{
    ev_toml *t = node(p, EV_TOML_TABLE);
    p->pos++;
    skip_ws(p);
    if (peek(p, 0) == '}') {
        p->pos++;
        *out = t;
        return true;
    }
    for (;;) {
        skip_ws(p);
        if (!keyval(p, t))
            return false;
        skip_ws(p);
        if (peek(p, 0) == ',') {
            p->pos++;
            skip_ws(p);
            if (peek(p, 0) == '}')
                return FAIL(p->pos, "toml::parse_inline_table: trailing comma", "TOML 1.0 allows no trailing comma here");
            continue;
        }
        if (peek(p, 0) == '}') {
            p->pos++;
            break;
        }
        return FAIL(p->pos, "toml::parse_inline_table: invalid inline table",
                    "expected ',' or '}' (inline tables are on one line)");
    }
    *out = t;
    return true;
}

static bool parse_value(tp *p, ev_toml **out)
{
    if (++p->depth > MAX_DEPTH) {
        p->depth--;
        return FAIL(p->pos, "toml::parse_value: too deeply nested", "nesting limit reached");
    }
    bool ok;
    int c = peek(p, 0);
    if (c == '"' || c == '\'') {
        ut_buf b = UT_BUF_INIT;
        ok = parse_string(p, &b, true);
        if (ok) {
            ev_toml *n = node(p, EV_TOML_STRING);
            n->u.str.s = ut_arena_strndup(p->a, b.data ? b.data : "", b.len);
            n->u.str.len = b.len;
            *out = n;
        }
        ut_buf_free(&b);
    } else if (c == 't' && p->len - p->pos >= 4 && memcmp(p->s + p->pos, "true", 4) == 0 && !is_bare(peek(p, 4))) {
        p->pos += 4;
        *out = node(p, EV_TOML_BOOL);
        (*out)->u.b = true;
        ok = true;
    } else if (c == 'f' && p->len - p->pos >= 5 && memcmp(p->s + p->pos, "false", 5) == 0 && !is_bare(peek(p, 5))) {
        p->pos += 5;
        *out = node(p, EV_TOML_BOOL);
        (*out)->u.b = false;
        ok = true;
    } else if (c == '[') {
        ok = parse_array(p, out);
    } else if (c == '{') {
        ok = parse_inline_table(p, out);
    } else if (looks_like_date(p) || looks_like_time(p, p->pos)) {
        ok = parse_datetime(p, out);
    } else if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n') {
        ok = parse_number(p, out);
    } else {
        ok = FAIL(p->pos, "toml::parse_value: unknown value", "expected a string, number, boolean, date, array or table");
    }
    p->depth--;
    return ok;
}

/* [a.b.c] and [[a.b.c]]: returns the table that following pairs go into. */
static bool header(tp *p, ev_toml *root, ev_toml **cur)
{
    bool aot = peek(p, 1) == '[';
    p->pos += aot ? 2 : 1;
    keypath kp;
    if (!parse_key(p, &kp))
        return false;
    if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
        kp_free(&kp);
        return FAIL(p->pos, "toml::parse_table_key: invalid table header", aot ? "expected ']]'" : "expected ']'");
    }
    p->pos += aot ? 2 : 1;
    ev_toml *t = root;
    for (size_t i = 0; i + 1 < kp.n; i++) {
        ev_toml *c = tbl_get(p, t, kp.k[i], kp.kl[i]);
        if (!c) {
            c = node(p, EV_TOML_TABLE);
            tbl_put(p, t, kp.k[i], kp.kl[i], c);
        } else if (c->type == EV_TOML_ARRAY && (c->flags & F_AOT)) {
            c = c->u.arr.items[c->u.arr.n - 1];
        } else if (c->type != EV_TOML_TABLE || (c->flags & F_INLINE)) {
            return key_error(p, &kp, i, "toml::parse_table_key: cannot add a table here",
                             c->type == EV_TOML_TABLE ? "inline tables cannot be extended"
                                                      : "already defined as a value");
        }
        t = c;
    }
    size_t last = kp.n - 1;
    ev_toml *c = tbl_get(p, t, kp.k[last], kp.kl[last]);
    if (aot) {
        if (!c) {
            c = node(p, EV_TOML_ARRAY);
            c->flags = F_AOT;
            tbl_put(p, t, kp.k[last], kp.kl[last], c);
        } else if (c->type != EV_TOML_ARRAY || !(c->flags & F_AOT)) {
            return key_error(p, &kp, last, "toml::parse_array_table: cannot append to this key",
                             "already defined as something other than an array of tables");
        }
        ev_toml *elem = node(p, EV_TOML_TABLE);
        elem->flags = F_DEFINED;
        arr_push(p, c, elem);
        *cur = elem;
    } else {
        if (!c) {
            c = node(p, EV_TOML_TABLE);
            tbl_put(p, t, kp.k[last], kp.kl[last], c);
        } else if (c->type != EV_TOML_TABLE || (c->flags & (F_INLINE | F_DEFINED | F_DOTTED))) {
            return key_error(p, &kp, last, "toml::parse_table: table defined twice", "already defined");
        }
        c->flags |= F_DEFINED;
        *cur = c;
    }
    kp_free(&kp);
    return true;
}

static ev_toml *parse_document(tp *p);

ev_toml *ev_toml_parse(const char *text, size_t len, ut_arena *arena, ut_err *e)
{
    tp p = {.s = text, .len = len, .a = arena, .e = e};
    ev_toml *root = parse_document(&p);
    for (size_t i = 0; i < p.nindexed; i++) {
        ut_hmap_free(p.indexed[i]->u.tbl.idx);
        p.indexed[i]->u.tbl.idx = NULL;
    }
    free(p.indexed);
    return root;
}

static ev_toml *parse_document(tp *p)
{
    size_t bad;
    if (!ev_utf8_valid(p->s, p->len, &bad)) {
        fail_at(p, bad, "toml::parse: invalid UTF-8", "not a valid UTF-8 sequence");
        return NULL;
    }
    ev_toml *root = node(p, EV_TOML_TABLE);
    root->flags = F_DEFINED;
    ev_toml *cur = root;
    while (p->pos < p->len) {
        skip_ws(p);
        if (!skip_comment(p))
            return NULL;
        if (p->pos >= p->len)
            break;
        size_t nl = newline_at(p);
        if (nl) {
            p->pos += nl;
            continue;
        }
        if (peek(p, 0) == '[') {
            if (!header(p, root, &cur))
                return NULL;
        } else if (!keyval(p, cur)) {
            return NULL;
        }
        if (!end_of_line(p))
            return NULL;
    }
    return root;
}
