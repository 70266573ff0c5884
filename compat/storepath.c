#include "compat/storepath.h"

#include "compat/nixbase32.h"

#include <stdlib.h>

static const char *sd(const char *store_dir) { return store_dir ? store_dir : NC_STORE_DIR_DEFAULT; }

static bool name_char_ok(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' ||
           c == '.' || c == '_' || c == '?' || c == '=';
}

bool nc_store_name_check(nc_str name, nc_str path, ut_err *e)
{
    if (name.len == 0)
        return ut_err_set(e, "store path '%.*s' has an empty name", (int)path.len, path.s);
    if (name.len > NC_STORE_NAME_MAX)
        return ut_err_set(e, "store path '%.*s' has a name longer than %d characters", (int)path.len, path.s,
                          NC_STORE_NAME_MAX);
    for (size_t i = 0; i < name.len; i++) {
        unsigned char c = (unsigned char)name.s[i];
        if (!name_char_ok(c))
            return ut_err_set(e, "store path '%.*s' contains illegal character '%c'", (int)path.len, path.s, c);
    }
    return true;
}

bool nc_store_base_parse(nc_str base, nc_store_path_parts *out, ut_err *e)
{
    if (base.len < NC_STORE_HASH_LEN + 1)
        return ut_err_set(e, "'%.*s' is too short to be a valid store path", (int)base.len, base.s);
    for (size_t i = 0; i < NC_STORE_HASH_LEN; i++) {
        if (!nc_nix32_is_char(base.s[i]))
            return ut_err_set(e, "store path '%.*s' contains illegal base-32 character '%c'", (int)base.len, base.s,
                              base.s[i]);
    }
    if (base.s[NC_STORE_HASH_LEN] != '-')
        return ut_err_set(e, "store path '%.*s' has no '-' after its hash part", (int)base.len, base.s);
    nc_str name = nc_str_n(base.s + NC_STORE_HASH_LEN + 1, base.len - NC_STORE_HASH_LEN - 1);
    if (!nc_store_name_check(name, base, e))
        return false;
    if (out) {
        out->hash = nc_str_n(base.s, NC_STORE_HASH_LEN);
        out->name = name;
        out->base = base;
    }
    return true;
}

bool nc_store_path_parse(const char *store_dir, nc_str path, nc_store_path_parts *out, ut_err *e)
{
    const char *dir = sd(store_dir);
    size_t dl = strlen(dir);
    if (path.len <= dl + 1 || memcmp(path.s, dir, dl) != 0 || path.s[dl] != '/' ||
        memchr(path.s + dl + 1, '/', path.len - dl - 1))
        return ut_err_set(e, "path '%.*s' is not in the Nix store", (int)path.len, path.s);
    return nc_store_base_parse(nc_str_n(path.s + dl + 1, path.len - dl - 1), out, e);
}

bool nc_is_store_path(const char *store_dir, nc_str path)
{
    return nc_store_path_parse(store_dir, path, NULL, NULL);
}

void nc_output_path_name(ut_buf *b, nc_str drv_name, nc_str output_name)
{
    ut_buf_append(b, drv_name.s, drv_name.len);
    if (!(output_name.len == 3 && memcmp(output_name.s, "out", 3) == 0)) {
        ut_buf_putc(b, '-');
        ut_buf_append(b, output_name.s, output_name.len);
    }
}

void nc_make_store_path(ut_buf *out, const char *store_dir, nc_str type, const nc_hash *h, nc_str name)
{
    const char *dir = sd(store_dir);
    ut_buf s = UT_BUF_INIT;
    ut_buf_reserve(&s, type.len + name.len + 128);
    ut_buf_append(&s, type.s, type.len);
    ut_buf_putc(&s, ':');
    nc_hash_append(&s, h, NC_HASH_BASE16, true);
    ut_buf_putc(&s, ':');
    ut_buf_puts(&s, dir);
    ut_buf_putc(&s, ':');
    ut_buf_append(&s, name.s, name.len);
    nc_hash full;
    nc_hash_bytes(NC_HASH_SHA256, s.data, s.len, &full);
    ut_buf_free(&s);
    uint8_t c[NC_STORE_HASH_BYTES];
    nc_hash_compress(&full, c, sizeof c);
    char enc[NC_STORE_HASH_LEN + 1];
    nc_nix32_encode(c, sizeof c, enc);
    ut_buf_puts(out, dir);
    ut_buf_putc(out, '/');
    ut_buf_append(out, enc, NC_STORE_HASH_LEN);
    ut_buf_putc(out, '-');
    ut_buf_append(out, name.s, name.len);
}

void nc_make_output_path(ut_buf *out, const char *store_dir, nc_str output_name, const nc_hash *h, nc_str drv_name)
{
    ut_buf type = UT_BUF_INIT, name = UT_BUF_INIT;
    ut_buf_puts(&type, "output:");
    ut_buf_append(&type, output_name.s, output_name.len);
    nc_output_path_name(&name, drv_name, output_name);
    nc_make_store_path(out, store_dir, nc_str_n(type.data, type.len), h, nc_str_n(name.data, name.len));
    ut_buf_free(&type);
    ut_buf_free(&name);
}

static int cmp_str_ptr(const void *a, const void *b) { return nc_str_cmp(*(const nc_str *)a, *(const nc_str *)b); }

/* "<type>:<ref1>:<ref2>...[:self]" with references sorted and unique. */
static void make_type(ut_buf *t, const char *type, const nc_refs *refs)
{
    ut_buf_puts(t, type);
    if (!refs)
        return;
    if (refs->n) {
        nc_str *sorted = ut_xmalloc(refs->n * sizeof *sorted);
        memcpy(sorted, refs->paths, refs->n * sizeof *sorted);
        qsort(sorted, refs->n, sizeof *sorted, cmp_str_ptr);
        for (size_t i = 0; i < refs->n; i++) {
            if (i && nc_str_eq(sorted[i], sorted[i - 1]))
                continue;
            ut_buf_putc(t, ':');
            ut_buf_append(t, sorted[i].s, sorted[i].len);
        }
        free(sorted);
    }
    if (refs->self)
        ut_buf_puts(t, ":self");
}

/* Nix builds a StorePath from the computed path, whose constructor checks
 * the name and quotes "<hash>-<name>"; so the path is made first, into tmp,
 * and checked before it is handed out. */
static bool checked(ut_buf *out, ut_buf *tmp, nc_str name, ut_err *e)
{
    const char *slash = strrchr(tmp->data, '/');
    nc_str base = nc_str_n(slash + 1, tmp->len - (size_t)(slash + 1 - tmp->data));
    bool ok = nc_store_name_check(name, base, e);
    if (ok)
        ut_buf_append(out, tmp->data, tmp->len);
    ut_buf_free(tmp);
    return ok;
}

bool nc_make_text_path(ut_buf *out, const char *store_dir, nc_str name, const nc_hash *h, const nc_refs *refs,
                       ut_err *e)
{
    if (h->algo != NC_HASH_SHA256)
        return ut_err_set(e, "text store object '%.*s' must be hashed with sha256, not %s", (int)name.len, name.s,
                          nc_hash_algo_name(h->algo));
    if (refs && refs->self)
        return ut_err_set(e, "text store object '%.*s' cannot refer to itself", (int)name.len, name.s);
    ut_buf t = UT_BUF_INIT, p = UT_BUF_INIT;
    make_type(&t, "text", refs);
    nc_make_store_path(&p, store_dir, nc_str_n(t.data, t.len), h, name);
    ut_buf_free(&t);
    return checked(out, &p, name, e);
}

bool nc_make_fixed_output_path(ut_buf *out, const char *store_dir, nc_ca_method method, const nc_hash *h, nc_str name,
                               const nc_refs *refs, ut_err *e)
{
    if (method == NC_CA_TEXT)
        return nc_make_text_path(out, store_dir, name, h, refs, e);
    if (method == NC_CA_NAR && h->algo == NC_HASH_SHA256) {
        ut_buf t = UT_BUF_INIT, p = UT_BUF_INIT;
        make_type(&t, "source", refs);
        nc_make_store_path(&p, store_dir, nc_str_n(t.data, t.len), h, name);
        ut_buf_free(&t);
        return checked(out, &p, name, e);
    }
    if (refs && (refs->n || refs->self))
        return ut_err_set(e, "fixed output derivation '%.*s' is not allowed to refer to other store paths",
                          (int)name.len, name.s);
    ut_buf s = UT_BUF_INIT;
    ut_buf_puts(&s, "fixed:out:");
    ut_buf_puts(&s, nc_ca_method_prefix(method));
    nc_hash_append(&s, h, NC_HASH_BASE16, true);
    ut_buf_putc(&s, ':');
    nc_hash inner;
    nc_hash_bytes(NC_HASH_SHA256, s.data, s.len, &inner);
    ut_buf_free(&s);
    ut_buf p = UT_BUF_INIT;
    nc_make_store_path(&p, store_dir, nc_str_c("output:out"), &inner, name);
    return checked(out, &p, name, e);
}

static void placeholder_of(ut_buf *out, const char *text, size_t n)
{
    nc_hash h;
    nc_hash_bytes(NC_HASH_SHA256, text, n, &h);
    ut_buf_putc(out, '/');
    nc_hash_append(out, &h, NC_HASH_NIX32, false);
}

void nc_hash_placeholder(ut_buf *out, nc_str output_name)
{
    ut_buf s = UT_BUF_INIT;
    ut_buf_puts(&s, "nix-output:");
    ut_buf_append(&s, output_name.s, output_name.len);
    placeholder_of(out, s.data, s.len);
    ut_buf_free(&s);
}

bool nc_downstream_placeholder(ut_buf *out, const char *store_dir, nc_str drv_path, nc_str output_name, ut_err *e)
{
    nc_store_path_parts p;
    if (!nc_store_path_parse(store_dir, drv_path, &p, e))
        return false;
    if (p.name.len < 4 || memcmp(p.name.s + p.name.len - 4, ".drv", 4) != 0)
        return ut_err_set(e, "'%.*s' is not a derivation path", (int)drv_path.len, drv_path.s);
    ut_buf s = UT_BUF_INIT;
    ut_buf_puts(&s, "nix-upstream-output:");
    ut_buf_append(&s, p.hash.s, p.hash.len);
    ut_buf_putc(&s, ':');
    nc_output_path_name(&s, nc_str_n(p.name.s, p.name.len - 4), output_name);
    placeholder_of(out, s.data, s.len);
    ut_buf_free(&s);
    return true;
}
