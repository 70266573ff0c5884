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
    ut_arena *arena;
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

static ev_json *node(jp *p, ev_json_type t)
{
    ev_json *n = ut_arena_alloc(p->arena, sizeof *n);
    n->type = t;
    return n;
}

static bool number_node(jp *p, ev_json *n)
{
    size_t tl = p->pos - p->tok_start;
    char *z = ut_xstrndup(p->s + p->tok_start, tl);
    bool ok = true;
    if (p->num_is_int) {
        errno = 0;
        if (p->num_neg) {
            long long v = strtoll(z, NULL, 10);
            if (errno == 0) {
                n->type = EV_JSON_INT;
                n->u.i = v;
                goto done;
            }
        } else {
            unsigned long long v = strtoull(z, NULL, 10);
            if (errno == 0) {
                if (v > (unsigned long long)INT64_MAX) {
                    ok = ut_err_set(p->e, "unsigned json number %llu outside of Nix integer range", v);
                    goto done;
                }
                n->type = EV_JSON_INT;
                n->u.i = (int64_t)v;
                goto done;
            }
        }
    }
    n->type = EV_JSON_FLOAT;
    n->u.f = strtod(z, NULL);
    if (!isfinite(n->u.f))
        ok = ut_err_set(p->e, "[json.exception.out_of_range.406] number overflow parsing '%s'", z);
done:
    free(z);
    return ok;
}

static bool string_node(jp *p, const char **s, size_t *len)
{
    if (!ev_check_no_nul(p->strbuf.data ? p->strbuf.data : "", p->strbuf.len, p->e))
        return false;
    *s = ut_arena_strndup(p->arena, p->strbuf.data ? p->strbuf.data : "", p->strbuf.len);
    *len = p->strbuf.len;
    return true;
}

static ev_json *parse_value(jp *p, enum tok t);

static ev_json *parse_array(jp *p)
{
    ev_json *n = node(p, EV_JSON_ARRAY);
    size_t cap = 0;
    enum tok t = scan(p);
    if (t == T_END_ARRAY)
        return n;
    for (;;) {
        ev_json *v = parse_value(p, t);
        if (!v)
            return NULL;
        if (n->u.arr.n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            ev_json **items = ut_arena_alloc(p->arena, ncap * sizeof *items);
            if (cap)
                memcpy(items, n->u.arr.items, cap * sizeof *items);
            n->u.arr.items = items;
            cap = ncap;
        }
        n->u.arr.items[n->u.arr.n++] = v;
        t = scan(p);
        if (t == T_END_ARRAY)
            return n;
        if (t != T_VALUE_SEP)
            return syntax_error(p, t, T_END_ARRAY, "array"), NULL;
        t = scan(p);
    }
}

static ev_json *parse_object(jp *p)
{
    ev_json *n = node(p, EV_JSON_OBJECT);
    size_t cap = 0;
    ut_hmap *index = NULL;   /* key -> 1 + member index, for duplicates */
    enum tok t = scan(p);
    if (t == T_END_OBJECT)
        return n;
    for (;;) {
        if (t != T_STRING) {
            syntax_error(p, t, T_STRING, "object key");
            goto fail;
        }
        const char *key;
        size_t klen;
        if (!string_node(p, &key, &klen))
            goto fail;
        t = scan(p);
        if (t != T_NAME_SEP) {
            syntax_error(p, t, T_NAME_SEP, "object separator");
            goto fail;
        }
        ev_json *v = parse_value(p, scan(p));
        if (!v)
            goto fail;
        if (!index)
            index = ut_hmap_new();
        uintptr_t at = (uintptr_t)ut_hmap_get(index, key, klen);
        if (at) {
            n->u.obj.m[at - 1].val = v;   /* the later value wins */
        } else {
            if (n->u.obj.n == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                ev_json_member *m = ut_arena_alloc(p->arena, ncap * sizeof *m);
                if (cap)
                    memcpy(m, n->u.obj.m, cap * sizeof *m);
                n->u.obj.m = m;
                cap = ncap;
            }
            n->u.obj.m[n->u.obj.n] = (ev_json_member){key, klen, v};
            n->u.obj.n++;
            ut_hmap_put(index, key, klen, (void *)(uintptr_t)n->u.obj.n);
        }
        t = scan(p);
        if (t == T_END_OBJECT)
            break;
        if (t != T_VALUE_SEP) {
            syntax_error(p, t, T_END_OBJECT, "object");
            goto fail;
        }
        t = scan(p);
    }
    ut_hmap_free(index);
    return n;
fail:
    ut_hmap_free(index);
    return NULL;
}

static ev_json *parse_value(jp *p, enum tok t)
{
    ev_json *n;
    switch (t) {
    case T_NULL: return node(p, EV_JSON_NULL);
    case T_TRUE:
    case T_FALSE:
        n = node(p, EV_JSON_BOOL);
        n->u.b = t == T_TRUE;
        return n;
    case T_NUMBER:
        n = node(p, EV_JSON_NULL);
        return number_node(p, n) ? n : NULL;
    case T_STRING:
        n = node(p, EV_JSON_STRING);
        return string_node(p, &n->u.str.s, &n->u.str.len) ? n : NULL;
    case T_BEGIN_ARRAY:
    case T_BEGIN_OBJECT:
        if (++p->depth > MAX_DEPTH) {
            ut_err_set(p->e, "JSON value nested more than %d levels deep", MAX_DEPTH);
            return NULL;
        }
        n = t == T_BEGIN_ARRAY ? parse_array(p) : parse_object(p);
        p->depth--;
        return n;
    case T_PARSE_ERROR:
        return syntax_error(p, t, T_NONE, "value"), NULL;
    default:
        return syntax_error(p, t, T_LITERAL_OR_VALUE, "value"), NULL;
    }
}

ev_json *ev_json_parse(const char *text, size_t len, ut_arena *arena, ut_err *e)
{
    jp p = {.s = text, .len = len, .arena = arena, .e = e};
    ut_buf_init(&p.strbuf);
    /* A UTF-8 byte order mark is skipped, as the library does. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p.pos = p.consumed = 3;
    ev_json *v = parse_value(&p, scan(&p));
    if (v) {
        enum tok t = scan(&p);
        if (t != T_EOF) {
            syntax_error(&p, t, T_EOF, "value");
            v = NULL;
        }
    }
    ut_buf_free(&p.strbuf);
    return v;
}
