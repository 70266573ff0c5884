/* Data-format builtins: fromJSON, fromTOML, toJSON, toXML. The parsers
 * live in eval/pure; this file turns their trees into values and reports
 * their errors the way Nix does. */
#include <stdlib.h>
#include <string.h>

#include "eval/builtins.h"
#include "eval/pure/fmt.h"
#include "eval/pure/json.h"
#include "eval/pure/toml.h"

/* fromJSON builds values straight from the parser's events: open
 * containers keep their children on one C stack and become a list or a set
 * when they close. Nothing evaluates during parsing, so no collection can
 * happen and plain C memory may hold the values meanwhile. */
typedef struct vb {
    ev_state *S;
    ev_value *vals;
    ps_sym *keys;    /* parallel to vals: the member's name inside objects */
    size_t n, cap;
    ps_sym pending;
} vb;

static void vb_push(vb *b, ev_value v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->vals = ut_xrealloc(b->vals, b->cap * sizeof *b->vals);
        b->keys = ut_xrealloc(b->keys, b->cap * sizeof *b->keys);
    }
    b->keys[b->n] = b->pending;
    b->vals[b->n++] = v;
}

static void vb_null(void *c) { vb_push(c, ev_mk_null()); }
static void vb_bool(void *c, bool v) { vb_push(c, ev_mk_bool(v)); }
static void vb_int(void *c, int64_t v) { vb_push(c, ev_mk_int(v)); }
static void vb_float(void *c, double v) { vb_push(c, ev_mk_float(v)); }
static void vb_string(void *c, const char *s, size_t len)
{
    vb *b = c;
    vb_push(b, ev_mk_string(b->S, s, len, NULL));
}
static void vb_begin(void *c) { vb_push(c, ev_mk_null()); }   /* placeholder for the container */
static void vb_key(void *c, const char *s, size_t len)
{
    vb *b = c;
    b->pending = ps_intern(ev_syms(b->S), s, len);
}
static void vb_end_array(void *c, size_t n)
{
    vb *b = c;
    ev_list *l = ev_list_new(b->S, n);
    memcpy(l->v, b->vals + b->n - n, n * sizeof *l->v);
    b->n -= n;
    b->vals[b->n - 1] = ev_mk_list(l);
}
static void vb_end_object(void *c, size_t n)
{
    vb *b = c;
    ev_attrs *a = ev_attrs_new(b->S, n);
    /* The builder keeps the first of equal names; JSON's last one wins. */
    for (size_t i = b->n; i-- > b->n - n;)
        ev_attrs_add(a, b->keys[i], b->vals[i], 0);
    ev_attrs_finish(a);
    b->n -= n;
    b->vals[b->n - 1] = ev_mk_attrs(a);
}

static const ev_json_sax value_sax = {
    vb_null, vb_bool, vb_int, vb_float, vb_string, vb_begin, vb_end_array, vb_begin, vb_key, vb_end_object,
};

static void prim_fromJSON(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.fromJSON");
    vb b = {.S = S};
    ut_err e = UT_ERR_INIT;
    bool ok = ev_json_sax_parse(s->s, s->len, &value_sax, &b, &e);
    if (ok)
        *out = b.vals[0];
    free(b.vals);
    free(b.keys);
    if (!ok) {
        /* Syntax errors come from the JSON library, which Nix wraps with a
         * trace line; its own checks (integer range, NUL bytes) are bare. */
        if (strncmp(e.msg, "[json.exception.", 16) == 0)
            ev_trace_push(S, pos, "while decoding a JSON string", NULL);
        char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ev_error(S, EV_ERR_EVAL, pos, "%s", m);
    }
}

/* Finds the first date or time, if any: Nix refuses them unless the
 * parse-toml-timestamps experimental feature is on. */
static bool toml_has_datetime(const ev_toml *t)
{
    if (t->type == EV_TOML_DATETIME)
        return true;
    if (t->type == EV_TOML_TABLE)
        for (size_t i = 0; i < t->u.tbl.n; i++)
            if (toml_has_datetime(t->u.tbl.m[i].val))
                return true;
    if (t->type == EV_TOML_ARRAY)
        for (size_t i = 0; i < t->u.arr.n; i++)
            if (toml_has_datetime(t->u.arr.items[i]))
                return true;
    return false;
}

/* NULL when the tree is fine, otherwise the message of the first string
 * Nix cannot hold (a NUL byte), in document order as Nix meets them. */
static char *toml_nul_error(const ev_toml *t)
{
    ut_err e = UT_ERR_INIT;
    if (t->type == EV_TOML_STRING && !ev_check_no_nul(t->u.str.s, t->u.str.len, &e))
        return e.msg;
    if (t->type == EV_TOML_TABLE)
        for (size_t i = 0; i < t->u.tbl.n; i++) {
            if (!ev_check_no_nul(t->u.tbl.m[i].key, t->u.tbl.m[i].klen, &e))
                return e.msg;
            char *m = toml_nul_error(t->u.tbl.m[i].val);
            if (m)
                return m;
        }
    if (t->type == EV_TOML_ARRAY)
        for (size_t i = 0; i < t->u.arr.n; i++) {
            char *m = toml_nul_error(t->u.arr.items[i]);
            if (m)
                return m;
        }
    return NULL;
}

static ev_value toml_value(ev_state *S, const ev_toml *t)
{
    switch (t->type) {
    case EV_TOML_TABLE: {
        ev_attrs *a = ev_attrs_new(S, t->u.tbl.n);
        for (size_t i = 0; i < t->u.tbl.n; i++)
            ev_attrs_add(a, ps_intern(ev_syms(S), t->u.tbl.m[i].key, t->u.tbl.m[i].klen),
                         toml_value(S, t->u.tbl.m[i].val), 0);
        ev_attrs_finish(a);
        return ev_mk_attrs(a);
    }
    case EV_TOML_ARRAY: {
        ev_list *l = ev_list_new(S, t->u.arr.n);
        for (size_t i = 0; i < t->u.arr.n; i++)
            l->v[i] = toml_value(S, t->u.arr.items[i]);
        return ev_mk_list(l);
    }
    case EV_TOML_STRING: return ev_mk_string(S, t->u.str.s, t->u.str.len, NULL);
    case EV_TOML_INT: return ev_mk_int(t->u.i);
    case EV_TOML_FLOAT: return ev_mk_float(t->u.f);
    case EV_TOML_BOOL: return ev_mk_bool(t->u.b);
    case EV_TOML_DATETIME: {
        ev_attrs *a = ev_attrs_new(S, 2);
        ev_attrs_add(a, ev_sym(S, "_type"), ev_mk_cstring(S, "timestamp"), 0);
        ev_attrs_add(a, ev_sym(S, "value"), ev_mk_string(S, t->u.str.s, t->u.str.len, NULL), 0);
        ev_attrs_finish(a);
        return ev_mk_attrs(a);
    }
    }
    return ev_mk_null();
}

/* Whether `--extra-experimental-features parse-toml-timestamps` is on. */
static bool toml_timestamps_enabled(ev_state *S)
{
    return ev_has_feature(S, "parse-toml-timestamps");
}

static void prim_fromTOML(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string_noctx(S, &a[0], pos, "while evaluating the argument passed to builtins.fromTOML");
    ut_arena *ar = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_toml *t = ev_toml_parse(s->s, s->len, ar, &e);
    char *msg = NULL;
    if (!t) {
        msg = e.msg;
        e.msg = NULL;
    } else if ((msg = toml_nul_error(t)) != NULL) {
        /* Nix's own error travels through the TOML library's exception
         * handler, which shows it with its "error: " prefix. */
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "error: %s", msg);
        free(msg);
        msg = ut_buf_steal(&b, NULL);
    } else if (!toml_timestamps_enabled(S) && toml_has_datetime(t)) {
        msg = ut_xstrdup("Dates and times are not supported");
    }
    if (msg) {
        ut_arena_free(ar);
        char *m = ev_scratch_alloc(S, strlen(msg) + 1);
        strcpy(m, msg);
        free(msg);
        ev_error(S, EV_ERR_EVAL, pos, "while parsing TOML: %s", m);
    }
    *out = toml_value(S, t);
    ut_arena_free(ar);
}

/* Nix's JSON library refuses to write a string that is not UTF-8, and
 * reports the offset inside that string. The serialiser writes bytes of
 * 0x80 and above unescaped, so checking each string of the finished text,
 * decoded, finds the same string and offset. Returns the message or NULL. */
static char *json_utf8_error(const char *j, size_t len)
{
    ut_buf str = UT_BUF_INIT;
    char *msg = NULL;
    for (size_t i = 0; i < len && !msg; i++) {
        if (j[i] != '"')
            continue;
        ut_buf_clear(&str);
        for (i++; i < len && j[i] != '"'; i++) {
            if (j[i] != '\\') {
                ut_buf_putc(&str, j[i]);
                continue;
            }
            i++;
            if (i < len && j[i] == 'u')
                i += 4;
            ut_buf_putc(&str, 'x');   /* every escape stands for one ASCII byte */
        }
        size_t bad;
        if (!ev_utf8_valid(str.data ? str.data : "", str.len, &bad)) {
            ut_buf tmp = UT_BUF_INIT;
            ut_err e = UT_ERR_INIT;
            ev_fmt_json_string(str.data, str.len, &tmp, &e);
            ut_buf_free(&tmp);
            msg = e.msg;
        }
    }
    ut_buf_free(&str);
    return msg;
}

static void prim_toJSON(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    ev_to_json(S, &b, &a[0], pos, true, &ctx);
    char *bad = json_utf8_error(b.data ? b.data : "", b.len);
    if (bad) {
        ut_buf_free(&b);
        ev_ctxset_free(&ctx);
        char *m = ev_scratch_alloc(S, strlen(bad) + 1);
        strcpy(m, bad);
        free(bad);
        ev_error(S, EV_ERR_EVAL, pos, "JSON serialization error: %s", m);
    }
    ev_context *c = ev_ctxset_finish(S, &ctx);
    *out = ev_mk_string(S, b.data ? b.data : "", b.len, c);
    ut_buf_free(&b);
}

static void prim_toXML(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    ev_to_xml(S, &b, &a[0], pos, false, &ctx);
    ev_context *c = ev_ctxset_finish(S, &ctx);
    *out = ev_mk_string(S, b.data ? b.data : "", b.len, c);
    ut_buf_free(&b);
}

const ev_primop_def ev_builtins_data[] = {
    {"fromJSON", 1, prim_fromJSON, 0},
    {"fromTOML", 1, prim_fromTOML, 0},
    {"toJSON", 1, prim_toJSON, 0},
    {"toXML", 1, prim_toXML, 0},
    {NULL, 0, NULL, 0},
};
