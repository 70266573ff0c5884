/* Shared helpers of the eval/pure tests: reading the conformance files and
 * printing parsed trees the way nix-instantiate --eval --strict prints the
 * values the builtins would make of them, so results compare byte for byte
 * with the conformance .exp files. */
#ifndef EVALPURE_TESTUTIL_H
#define EVALPURE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/pure/fmt.h"
#include "eval/pure/json.h"
#include "eval/pure/toml.h"
#include "util/util.h"

static inline char *tu_read(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (!ut_read_file(path, &b, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        ut_err_clear(&e);
        return NULL;
    }
    return ut_buf_steal(&b, len);
}

typedef struct tu_kv {
    const char *k;
    size_t kl;
    void *v;
} tu_kv;

static int tu_kv_cmp(const void *a, const void *b)
{
    const tu_kv *x = a, *y = b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int r = memcmp(x->k, y->k, n);
    return r ? r : (x->kl < y->kl ? -1 : x->kl > y->kl);
}

/* A TOML tree as Nix prints the value fromTOML makes of it (dates and times
 * in the parse-toml-timestamps form). */
static inline void tu_print_toml(const ev_toml *t, ut_buf *out)
{
    switch (t->type) {
    case EV_TOML_TABLE: {
        if (t->u.tbl.n == 0) {
            ut_buf_puts(out, "{ }");
            return;
        }
        tu_kv *kv = ut_xmalloc(t->u.tbl.n * sizeof *kv);
        for (size_t i = 0; i < t->u.tbl.n; i++)
            kv[i] = (tu_kv){t->u.tbl.m[i].key, t->u.tbl.m[i].klen, t->u.tbl.m[i].val};
        qsort(kv, t->u.tbl.n, sizeof *kv, tu_kv_cmp);
        ut_buf_puts(out, "{ ");
        for (size_t i = 0; i < t->u.tbl.n; i++) {
            ev_fmt_attr_name(kv[i].k, kv[i].kl, out);
            ut_buf_puts(out, " = ");
            tu_print_toml(kv[i].v, out);
            ut_buf_puts(out, "; ");
        }
        ut_buf_puts(out, "}");
        free(kv);
        return;
    }
    case EV_TOML_ARRAY:
        ut_buf_puts(out, "[ ");
        for (size_t i = 0; i < t->u.arr.n; i++) {
            tu_print_toml(t->u.arr.items[i], out);
            ut_buf_putc(out, ' ');
        }
        ut_buf_puts(out, "]");
        return;
    case EV_TOML_STRING: ev_fmt_string_print(t->u.str.s, t->u.str.len, out); return;
    case EV_TOML_INT: ut_buf_printf(out, "%lld", (long long)t->u.i); return;
    case EV_TOML_FLOAT: ev_fmt_float_print(t->u.f, out); return;
    case EV_TOML_BOOL: ut_buf_puts(out, t->u.b ? "true" : "false"); return;
    case EV_TOML_DATETIME:
        ut_buf_puts(out, "{ _type = \"timestamp\"; value = ");
        ev_fmt_string_print(t->u.str.s, t->u.str.len, out);
        ut_buf_puts(out, "; }");
        return;
    }
}

static inline void tu_print_json(const ev_json *j, ut_buf *out)
{
    switch (j->type) {
    case EV_JSON_NULL: ut_buf_puts(out, "null"); return;
    case EV_JSON_BOOL: ut_buf_puts(out, j->u.b ? "true" : "false"); return;
    case EV_JSON_INT: ut_buf_printf(out, "%lld", (long long)j->u.i); return;
    case EV_JSON_FLOAT: ev_fmt_float_print(j->u.f, out); return;
    case EV_JSON_STRING: ev_fmt_string_print(j->u.str.s, j->u.str.len, out); return;
    case EV_JSON_ARRAY:
        ut_buf_puts(out, "[ ");
        for (size_t i = 0; i < j->u.arr.n; i++) {
            tu_print_json(j->u.arr.items[i], out);
            ut_buf_putc(out, ' ');
        }
        ut_buf_puts(out, "]");
        return;
    case EV_JSON_OBJECT: {
        if (j->u.obj.n == 0) {
            ut_buf_puts(out, "{ }");
            return;
        }
        tu_kv *kv = ut_xmalloc(j->u.obj.n * sizeof *kv);
        for (size_t i = 0; i < j->u.obj.n; i++)
            kv[i] = (tu_kv){j->u.obj.m[i].key, j->u.obj.m[i].klen, j->u.obj.m[i].val};
        qsort(kv, j->u.obj.n, sizeof *kv, tu_kv_cmp);
        ut_buf_puts(out, "{ ");
        for (size_t i = 0; i < j->u.obj.n; i++) {
            ev_fmt_attr_name(kv[i].k, kv[i].kl, out);
            ut_buf_puts(out, " = ");
            tu_print_json(kv[i].v, out);
            ut_buf_puts(out, "; ");
        }
        ut_buf_puts(out, "}");
        free(kv);
        return;
    }
    }
}

#endif
