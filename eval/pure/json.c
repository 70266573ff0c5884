#include "eval/pure/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/pure/fmt.h"

/* Deeper nesting than this is refused instead of exhausting the C stack. */
#define MAX_DEPTH 20000

bool ev_check_no_nul(const char *s, size_t len, ut_err *e)
{
    if (!memchr(s, '\0', len))
        return true;
    ut_buf b = UT_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0')
            ut_buf_puts(&b, "\xe2\x90\x80");   /* U+2400 SYMBOL FOR NULL */
        else
            ut_buf_putc(&b, s[i]);
    }
    ut_err_set(e, "input string '%s' cannot be represented as Nix string because it contains null bytes",
               ut_buf_cstr(&b));
    ut_buf_free(&b);
    return false;
}

/* Token kinds, named as the JSON library names them in its messages. */
enum tok {
    T_TRUE, T_FALSE, T_NULL, T_STRING, T_NUMBER, T_BEGIN_ARRAY, T_BEGIN_OBJECT,
    T_END_ARRAY, T_END_OBJECT, T_NAME_SEP, T_VALUE_SEP, T_PARSE_ERROR, T_EOF,
    T_LITERAL_OR_VALUE, T_NONE,
};

static const char *tok_name(enum tok t)
{
    switch (t) {
    case T_TRUE: return "true literal";
    case T_FALSE: return "false literal";
    case T_NULL: return "null literal";
    case T_STRING: return "string literal";
    case T_NUMBER: return "number literal";
    case T_BEGIN_ARRAY: return "'['";
    case T_BEGIN_OBJECT: return "'{'";
    case T_END_ARRAY: return "']'";
    case T_END_OBJECT: return "'}'";
    case T_NAME_SEP: return "':'";
    case T_VALUE_SEP: return "','";
    case T_PARSE_ERROR: return "<parse error>";
    case T_EOF: return "end of input";
    case T_LITERAL_OR_VALUE: return "'[', '{', or a literal";
    default: return "<uninitialized>";
    }
}

typedef struct jp {
    const char *s;
    size_t len;
    size_t pos;        /* next byte to read */
    size_t consumed;   /* bytes the library would have read, for positions */
    size_t tok_start;  /* start of the last string or number token */
    const char *lex_err;
    ut_buf strbuf;     /* decoded string of the last T_STRING */
    /* number token */
    bool num_is_int, num_neg;
    const ev_json_sax *sax;
    void *ctx;
    ut_err *e;
    int depth;
    char ctl_msg[128];
} jp;

static void position(jp *p, size_t *line, size_t *col)
{
    size_t upto = p->consumed < p->len ? p->consumed : p->len;
    size_t l = 1, last_nl = 0;
    bool seen = false;
    for (size_t i = 0; i < upto; i++)
        if (p->s[i] == '\n') {
            l++;
            last_nl = i;
            seen = true;
        }
    *line = l;
    *col = p->consumed - (seen ? last_nl + 1 : 0);
}

static void token_string(jp *p, ut_buf *out)
{
    size_t end = p->consumed < p->len ? p->consumed : p->len;
    for (size_t i = p->tok_start; i < end; i++) {
        unsigned char c = (unsigned char)p->s[i];
        if (c <= 0x1F)
            ut_buf_printf(out, "<U+%.4X>", c);
        else
            ut_buf_putc(out, (char)c);
    }
}

static bool syntax_error(jp *p, enum tok last, enum tok expected, const char *context)
{
    size_t line, col;
    position(p, &line, &col);
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, "[json.exception.parse_error.101] parse error at line %zu, column %zu: syntax error ", line,
                  col);
    if (context)
        ut_buf_printf(&m, "while parsing %s ", context);
    ut_buf_puts(&m, "- ");
    if (last == T_PARSE_ERROR) {
        ut_buf_printf(&m, "%s; last read: '", p->lex_err);
        token_string(p, &m);
        ut_buf_putc(&m, '\'');
    } else {
        ut_buf_printf(&m, "unexpected %s", tok_name(last));
    }
    if (expected != T_NONE)
        ut_buf_printf(&m, "; expected %s", tok_name(expected));
    ut_err_set(p->e, "%s", ut_buf_cstr(&m));
    ut_buf_free(&m);
    return false;
}

/* Reading one byte as the library does: every read, even of the end of
 * input, moves the column on; an "unget" moves it back. */
static int get(jp *p)
{
    p->consumed++;
    if (p->pos >= p->len) {
        p->pos++;
        return -1;
    }
    return (unsigned char)p->s[p->pos++];
}

static void unget(jp *p)
{
    p->consumed--;
    p->pos--;
}

static const char *const ctl_names[32] = {
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
};

static int hex4(jp *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = get(p);
        if (c >= '0' && c <= '9')
            v = v * 16 + (c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = v * 16 + (c - 'A' + 10);
        else
            return -1;
    }
    return v;
}

static void put_utf8(ut_buf *b, unsigned cp)
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

static enum tok lex_string(jp *p)
{
    ut_buf_clear(&p->strbuf);
    for (;;) {
        int c = get(p);
        if (c == -1) {
            p->lex_err = "invalid string: missing closing quote";
            return T_PARSE_ERROR;
        }
        if (c == '"')
            return T_STRING;
        if (c < 0x20) {
            const char *short_esc = c == 8 ? "\\b" : c == 9 ? "\\t" : c == 10 ? "\\n" : c == 12 ? "\\f"
                                    : c == 13 ? "\\r" : NULL;
            if (short_esc)
                snprintf(p->ctl_msg, sizeof p->ctl_msg,
                         "invalid string: control character U+%.4X (%s) must be escaped to \\u%.4X or %s", c,
                         ctl_names[c], c, short_esc);
            else
                snprintf(p->ctl_msg, sizeof p->ctl_msg,
                         "invalid string: control character U+%.4X (%s) must be escaped to \\u%.4X", c,
                         ctl_names[c], c);
            p->lex_err = p->ctl_msg;
            return T_PARSE_ERROR;
        }
        if (c == '\\') {
            c = get(p);
            switch (c) {
            case '"': ut_buf_putc(&p->strbuf, '"'); break;
            case '\\': ut_buf_putc(&p->strbuf, '\\'); break;
            case '/': ut_buf_putc(&p->strbuf, '/'); break;
            case 'b': ut_buf_putc(&p->strbuf, '\b'); break;
            case 'f': ut_buf_putc(&p->strbuf, '\f'); break;
            case 'n': ut_buf_putc(&p->strbuf, '\n'); break;
            case 'r': ut_buf_putc(&p->strbuf, '\r'); break;
            case 't': ut_buf_putc(&p->strbuf, '\t'); break;
            case 'u': {
                int cp = hex4(p);
                if (cp < 0) {
                    p->lex_err = "invalid string: '\\u' must be followed by 4 hex digits";
                    return T_PARSE_ERROR;
                }
                unsigned code = (unsigned)cp;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (get(p) == '\\' && get(p) == 'u') {
                        int lo = hex4(p);
                        if (lo < 0) {
                            p->lex_err = "invalid string: '\\u' must be followed by 4 hex digits";
                            return T_PARSE_ERROR;
                        }
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            code = 0x10000u + (((unsigned)cp - 0xD800u) << 10) + ((unsigned)lo - 0xDC00u);
                        } else {
                            p->lex_err = "invalid string: surrogate U+D800..U+DBFF must be followed by "
                                         "U+DC00..U+DFFF";
                            return T_PARSE_ERROR;
                        }
                    } else {
                        p->lex_err = "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF";
                        return T_PARSE_ERROR;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    p->lex_err = "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF";
                    return T_PARSE_ERROR;
                }
                put_utf8(&p->strbuf, code);
                break;
            }
            default:
                p->lex_err = "invalid string: forbidden character after backslash";
                return T_PARSE_ERROR;
            }
            continue;
        }
        if (c < 0x80) {
            ut_buf_putc(&p->strbuf, (char)c);
            continue;
        }
        /* A multi-byte UTF-8 sequence, checked byte by byte. */
        int need;
        int lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
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
            p->lex_err = "invalid string: ill-formed UTF-8 byte";
            return T_PARSE_ERROR;
        }
        ut_buf_putc(&p->strbuf, (char)c);
        for (int k = 0; k < need; k++) {
            int b = get(p);
            if (b < (k == 0 ? lo : 0x80) || b > (k == 0 ? hi : 0xBF)) {
                p->lex_err = "invalid string: ill-formed UTF-8 byte";
                return T_PARSE_ERROR;
            }
            ut_buf_putc(&p->strbuf, (char)b);
        }
    }
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static enum tok lex_number(jp *p, int c)
{
    p->num_is_int = true;
    p->num_neg = false;
    if (c == '-') {
        p->num_neg = true;
        c = get(p);
        if (!is_digit(c)) {
            p->lex_err = "invalid number; expected digit after '-'";
            return T_PARSE_ERROR;
        }
    }
    if (c != '0')
        while (is_digit(c = get(p)))
            ;
    else
        c = get(p);
    if (c == '.') {
        p->num_is_int = false;
        c = get(p);
        if (!is_digit(c)) {
            p->lex_err = "invalid number; expected digit after '.'";
            return T_PARSE_ERROR;
        }
        while (is_digit(c = get(p)))
            ;
    }
    if (c == 'e' || c == 'E') {
        p->num_is_int = false;
        c = get(p);
        if (c == '+' || c == '-') {
            c = get(p);
            if (!is_digit(c)) {
                p->lex_err = "invalid number; expected digit after exponent sign";
                return T_PARSE_ERROR;
            }
        } else if (!is_digit(c)) {
            p->lex_err = "invalid number; expected '+', '-', or digit after exponent";
            return T_PARSE_ERROR;
        }
        while (is_digit(c = get(p)))
            ;
    }
    unget(p);
    return T_NUMBER;
}

static enum tok lex_literal(jp *p, const char *rest, enum tok t)
{
    for (const char *r = rest; *r; r++)
        if (get(p) != *r) {
            p->lex_err = "invalid literal";
            return T_PARSE_ERROR;
        }
    return t;
}

static enum tok scan(jp *p)
{
    int c;
    do
        c = get(p);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    switch (c) {
    case '[': return T_BEGIN_ARRAY;
    case ']': return T_END_ARRAY;
    case '{': return T_BEGIN_OBJECT;
    case '}': return T_END_OBJECT;
    case ':': return T_NAME_SEP;
    case ',': return T_VALUE_SEP;
    case 't': return lex_literal(p, "rue", T_TRUE);
    case 'f': return lex_literal(p, "alse", T_FALSE);
    case 'n': return lex_literal(p, "ull", T_NULL);
    /* The library's "last read" text runs from the start of the last
     * string or number token (or of the input), not of the current token. */
    case '"':
        p->tok_start = p->pos - 1;
        return lex_string(p);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        p->tok_start = p->pos - 1;
        return lex_number(p, c);
    case -1:
        return T_EOF;
    default:
        p->lex_err = "invalid literal";
        return T_PARSE_ERROR;
    }
}

/* ---- the parser: tokens to events ----------------------------------------- */

/* A number token as the library reads it: int64 when it fits, an error for
 * a positive integer beyond int64 but within uint64, a double otherwise. */
static bool number_event(jp *p)
{
    size_t tl = p->pos - p->tok_start;
    char *z = ut_xstrndup(p->s + p->tok_start, tl);
    bool ok = true;
    if (p->num_is_int) {
        errno = 0;
        if (p->num_neg) {
            long long v = strtoll(z, NULL, 10);
            if (errno == 0) {
                p->sax->integer(p->ctx, v);
                goto done;
            }
        } else {
            unsigned long long v = strtoull(z, NULL, 10);
            if (errno == 0) {
                if (v > (unsigned long long)INT64_MAX) {
                    ok = ut_err_set(p->e, "unsigned json number %llu outside of Nix integer range", v);
                    goto done;
                }
                p->sax->integer(p->ctx, (int64_t)v);
                goto done;
            }
        }
    }
    double f = strtod(z, NULL);
    if (!isfinite(f))
        ok = ut_err_set(p->e, "[json.exception.out_of_range.406] number overflow parsing '%s'", z);
    else
        p->sax->number(p->ctx, f);
done:
    free(z);
    return ok;
}

static const char *strbuf(jp *p) { return p->strbuf.data ? p->strbuf.data : ""; }

static bool parse_value(jp *p, enum tok t);

static bool parse_array(jp *p)
{
    size_t n = 0;
    p->sax->begin_array(p->ctx);
    enum tok t = scan(p);
    if (t != T_END_ARRAY) {
        for (;;) {
            if (!parse_value(p, t))
                return false;
            n++;
            t = scan(p);
            if (t == T_END_ARRAY)
                break;
            if (t != T_VALUE_SEP)
                return syntax_error(p, t, T_END_ARRAY, "array");
            t = scan(p);
        }
    }
    p->sax->end_array(p->ctx, n);
    return true;
}

static bool parse_object(jp *p)
{
    size_t n = 0;
    p->sax->begin_object(p->ctx);
    enum tok t = scan(p);
    if (t != T_END_OBJECT) {
        for (;;) {
            if (t != T_STRING)
                return syntax_error(p, t, T_STRING, "object key");
            if (!ev_check_no_nul(strbuf(p), p->strbuf.len, p->e))
                return false;
            p->sax->key(p->ctx, strbuf(p), p->strbuf.len);
            t = scan(p);
            if (t != T_NAME_SEP)
                return syntax_error(p, t, T_NAME_SEP, "object separator");
            if (!parse_value(p, scan(p)))
                return false;
            n++;
            t = scan(p);
            if (t == T_END_OBJECT)
                break;
            if (t != T_VALUE_SEP)
                return syntax_error(p, t, T_END_OBJECT, "object");
            t = scan(p);
        }
    }
    p->sax->end_object(p->ctx, n);
    return true;
}

static bool parse_value(jp *p, enum tok t)
{
    switch (t) {
    case T_NULL: p->sax->null(p->ctx); return true;
    case T_TRUE:
    case T_FALSE: p->sax->boolean(p->ctx, t == T_TRUE); return true;
    case T_NUMBER: return number_event(p);
    case T_STRING:
        if (!ev_check_no_nul(strbuf(p), p->strbuf.len, p->e))
            return false;
        p->sax->string(p->ctx, strbuf(p), p->strbuf.len);
        return true;
    case T_BEGIN_ARRAY:
    case T_BEGIN_OBJECT: {
        if (++p->depth > MAX_DEPTH)
            return ut_err_set(p->e, "JSON value nested more than %d levels deep", MAX_DEPTH);
        bool ok = t == T_BEGIN_ARRAY ? parse_array(p) : parse_object(p);
        p->depth--;
        return ok;
    }
    case T_PARSE_ERROR:
        return syntax_error(p, t, T_NONE, "value");
    default:
        return syntax_error(p, t, T_LITERAL_OR_VALUE, "value");
    }
}

bool ev_json_sax_parse(const char *text, size_t len, const ev_json_sax *sax, void *ctx, ut_err *e)
{
    jp p = {.s = text, .len = len, .sax = sax, .ctx = ctx, .e = e};
    ut_buf_init(&p.strbuf);
    /* A UTF-8 byte order mark is skipped, as the library does. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p.pos = p.consumed = 3;
    bool ok = parse_value(&p, scan(&p));
    if (ok) {
        enum tok t = scan(&p);
        if (t != T_EOF)
            ok = syntax_error(&p, t, T_EOF, "value");
    }
    ut_buf_free(&p.strbuf);
    return ok;
}

/* ---- the tree builder ----------------------------------------------------- */

/* Open containers keep their children on one stack; a container's children
 * are moved into arena arrays when it closes. */
typedef struct tb {
    ut_arena *a;
    ev_json **vals;
    const char **keys;   /* parallel to vals; the key of an object member */
    size_t *klens;
    size_t n, cap;
    const char *pending_key;
    size_t pending_klen;
} tb;

static void tb_push(tb *b, ev_json *v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->vals = ut_xrealloc(b->vals, b->cap * sizeof *b->vals);
        b->keys = ut_xrealloc(b->keys, b->cap * sizeof *b->keys);
        b->klens = ut_xrealloc(b->klens, b->cap * sizeof *b->klens);
    }
    b->keys[b->n] = b->pending_key;
    b->klens[b->n] = b->pending_klen;
    b->pending_key = NULL;
    b->vals[b->n++] = v;
}

static ev_json *tb_node(tb *b, ev_json_type t)
{
    ev_json *n = ut_arena_alloc(b->a, sizeof *n);
    n->type = t;
    return n;
}

static void tb_null(void *c) { tb_push(c, tb_node(c, EV_JSON_NULL)); }
static void tb_bool(void *c, bool v)
{
    ev_json *n = tb_node(c, EV_JSON_BOOL);
    n->u.b = v;
    tb_push(c, n);
}
static void tb_int(void *c, int64_t v)
{
    ev_json *n = tb_node(c, EV_JSON_INT);
    n->u.i = v;
    tb_push(c, n);
}
static void tb_float(void *c, double v)
{
    ev_json *n = tb_node(c, EV_JSON_FLOAT);
    n->u.f = v;
    tb_push(c, n);
}
static void tb_string(void *c, const char *s, size_t len)
{
    tb *b = c;
    ev_json *n = tb_node(b, EV_JSON_STRING);
    n->u.str.s = ut_arena_strndup(b->a, s, len);
    n->u.str.len = len;
    tb_push(b, n);
}
/* The container node is pushed when it opens (so it sits below its
 * children) and filled when it closes. */
static void tb_begin(void *c) { tb_push(c, tb_node(c, EV_JSON_ARRAY)); }
static void tb_key(void *c, const char *s, size_t len)
{
    tb *b = c;
    b->pending_key = ut_arena_strndup(b->a, s, len);
    b->pending_klen = len;
}
static void tb_end_array(void *c, size_t n)
{
    tb *b = c;
    ev_json *arr = b->vals[b->n - n - 1];
    arr->type = EV_JSON_ARRAY;
    arr->u.arr.n = n;
    arr->u.arr.items = ut_arena_alloc(b->a, (n ? n : 1) * sizeof *arr->u.arr.items);
    memcpy(arr->u.arr.items, b->vals + b->n - n, n * sizeof *arr->u.arr.items);
    b->n -= n;
}
static void tb_end_object(void *c, size_t n)
{
    tb *b = c;
    ev_json *obj = b->vals[b->n - n - 1];
    obj->type = EV_JSON_OBJECT;
    obj->u.obj.m = ut_arena_alloc(b->a, (n ? n : 1) * sizeof *obj->u.obj.m);
    /* Later duplicates replace the value but keep the first place. */
    ut_hmap *seen = n > 1 ? ut_hmap_new() : NULL;
    size_t k = 0;
    for (size_t i = b->n - n; i < b->n; i++) {
        uintptr_t at = seen ? (uintptr_t)ut_hmap_get(seen, b->keys[i], b->klens[i]) : 0;
        if (at) {
            obj->u.obj.m[at - 1].val = b->vals[i];
            continue;
        }
        obj->u.obj.m[k++] = (ev_json_member){b->keys[i], b->klens[i], b->vals[i]};
        if (seen)
            ut_hmap_put(seen, b->keys[i], b->klens[i], (void *)(uintptr_t)k);
    }
    ut_hmap_free(seen);
    obj->u.obj.n = k;
    b->n -= n;
}

static const ev_json_sax tree_sax = {
    tb_null, tb_bool, tb_int, tb_float, tb_string, tb_begin, tb_end_array, tb_begin, tb_key, tb_end_object,
};

ev_json *ev_json_parse(const char *text, size_t len, ut_arena *arena, ut_err *e)
{
    tb b = {.a = arena};
    ev_json *root = NULL;
    if (ev_json_sax_parse(text, len, &tree_sax, &b, e))
        root = b.vals[0];
    free(b.vals);
    free(b.keys);
    free(b.klens);
    return root;
}
