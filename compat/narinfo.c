#include "compat/narinfo.h"

#include "compat/content_address.h"
#include "compat/drv_internal.h"
#include "compat/storepath.h"

#include <errno.h>
#include <stdlib.h>

static nc_str astr(ut_arena *a, const char *s, size_t n) { return nc_str_n(ut_arena_strndup(a, s, n), n); }

nc_narinfo *nc_narinfo_new(void)
{
    ut_arena *a = ut_arena_new();
    nc_narinfo *ni = ut_arena_alloc(a, sizeof *ni);
    ni->arena = a;
    ni->store_path = ni->url = ni->compression = ni->deriver = ni->system = ni->ca = astr(a, "", 0);
    return ni;
}

void nc_narinfo_free(nc_narinfo *ni)
{
    if (ni)
        ut_arena_free(ni->arena);
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool key_is(const char *k, size_t kn, const char *lit)
{
    return strlen(lit) == kn && memcmp(k, lit, kn) == 0;
}

nc_narinfo *nc_narinfo_parse(const char *data, size_t len, const char *store_dir, const char *whence, ut_err *e)
{
    nc_narinfo *ni = nc_narinfo_new();
    ut_arena *a = ni->arena;
    size_t pos = 0, line = 0;
    bool have_nar_hash = false, have_refs = false, have_ca = false;
    nc_str *refs = NULL, *sigs = NULL;
    size_t nrefs = 0, nsigs = 0, capsigs = 0;
    ut_err e2 = UT_ERR_INIT;
    const char *why = NULL;

    while (pos < len) {
        line++;
        const char *ls = data + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        if (!nl) {
            why = "expecting '\\n'";
            goto corrupt;
        }
        size_t ll = (size_t)(nl - ls);
        const char *colon = memchr(ls, ':', ll);
        if (!colon || (size_t)(colon - ls) + 1 >= ll || colon[1] != ' ') {
            why = "expecting ': '";
            goto corrupt;
        }
        const char *k = ls;
        size_t kn = (size_t)(colon - ls);
        const char *v = colon + 2;
        size_t vn = ll - kn - 2;
        if (key_is(k, kn, "StorePath")) {
            if (!nc_store_path_parse(store_dir, nc_str_n(v, vn), NULL, &e2))
                goto corrupt;
            ni->store_path = astr(a, v, vn);
        } else if (key_is(k, kn, "URL")) {
            ni->url = astr(a, v, vn);
        } else if (key_is(k, kn, "Compression")) {
            ni->compression = astr(a, v, vn);
        } else if (key_is(k, kn, "FileHash")) {
            if (!nc_hash_parse_prefixed(v, vn, &ni->file_hash, &e2))
                goto corrupt;
            ni->has_file_hash = true;
        } else if (key_is(k, kn, "FileSize")) {
            if (!parse_u64(v, vn, &ni->file_size)) {
                why = "invalid FileSize";
                goto corrupt;
            }
        } else if (key_is(k, kn, "NarHash")) {
            if (!nc_hash_parse_prefixed(v, vn, &ni->nar_hash, &e2))
                goto corrupt;
            have_nar_hash = true;
        } else if (key_is(k, kn, "NarSize")) {
            if (!parse_u64(v, vn, &ni->nar_size)) {
                why = "invalid NarSize";
                goto corrupt;
            }
        } else if (key_is(k, kn, "References")) {
            if (have_refs) {
                why = "extra References";
                goto corrupt;
            }
            have_refs = true;
            size_t cnt = 0;
            for (size_t i = 0; i < vn; i++)
                if (v[i] == ' ')
                    cnt++;
            refs = ut_arena_alloc(a, (cnt + 1) * sizeof *refs);
            for (size_t i = 0; i < vn;) {
                while (i < vn && v[i] == ' ')
                    i++;
                size_t j = i;
                while (j < vn && v[j] != ' ')
                    j++;
                if (j > i) {
                    if (!nc_store_base_parse(nc_str_n(v + i, j - i), NULL, &e2))
                        goto corrupt;
                    refs[nrefs++] = astr(a, v + i, j - i);
                }
                i = j;
            }
        } else if (key_is(k, kn, "Deriver")) {
            if (!(vn == 15 && memcmp(v, "unknown-deriver", 15) == 0)) {
                if (!nc_store_base_parse(nc_str_n(v, vn), NULL, &e2))
                    goto corrupt;
                ni->deriver = astr(a, v, vn);
            }
        } else if (key_is(k, kn, "System")) {
            ni->system = astr(a, v, vn);
        } else if (key_is(k, kn, "Sig")) {
            if (nsigs == capsigs) {
                capsigs = capsigs ? capsigs * 2 : 4;
                nc_str *ns = ut_arena_alloc(a, capsigs * sizeof *ns);
                if (nsigs)
                    memcpy(ns, sigs, nsigs * sizeof *ns);
                sigs = ns;
            }
            sigs[nsigs++] = astr(a, v, vn);
        } else if (key_is(k, kn, "CA")) {
            if (have_ca) {
                why = "extra CA";
                goto corrupt;
            }
            have_ca = true;
            nc_content_address ca;
            if (vn && !nc_ca_parse(v, vn, &ca, &e2))
                goto corrupt;
            ni->ca = astr(a, v, vn);
        }
        pos = (size_t)(nl - data) + 1;
    }
    if (ni->compression.len == 0)
        ni->compression = astr(a, "bzip2", 5);
    if (!have_nar_hash || ni->url.len == 0 || ni->nar_size == 0 || ni->store_path.len == 0) {
        line = 0;
        why = "missing required field";
        goto corrupt;
    }
    ni->refs = refs;
    ni->nrefs = nc_str_set_normalize(refs, nrefs);
    ni->sigs = sigs;
    ni->nsigs = nc_str_set_normalize(sigs, nsigs);
    return ni;

corrupt:
    if (line)
        ut_err_set(e, "NAR info file '%s' is corrupt: line %zu: %s", whence ? whence : "?", line,
                   why ? why : e2.msg);
    else
        ut_err_set(e, "NAR info file '%s' is corrupt: %s", whence ? whence : "?", why);
    ut_err_clear(&e2);
    nc_narinfo_free(ni);
    return NULL;
}

/* Values may hold any byte but '\n' (even NUL), so they are appended by
 * length, never through "%s". */
static void line(ut_buf *out, const char *key, nc_str v)
{
    ut_buf_puts(out, key);
    ut_buf_append(out, v.s, v.len);
    ut_buf_putc(out, '\n');
}

void nc_narinfo_print(const nc_narinfo *ni, const char *store_dir, ut_buf *out)
{
    (void)store_dir;
    line(out, "StorePath: ", ni->store_path);
    line(out, "URL: ", ni->url);
    line(out, "Compression: ", ni->compression.len ? ni->compression : nc_str_c("bzip2"));
    if (ni->has_file_hash) {
        ut_buf_puts(out, "FileHash: ");
        nc_hash_append(out, &ni->file_hash, NC_HASH_NIX32, true);
        ut_buf_putc(out, '\n');
    }
    if (ni->file_size)
        ut_buf_printf(out, "FileSize: %llu\n", (unsigned long long)ni->file_size);
    ut_buf_puts(out, "NarHash: ");
    nc_hash_append(out, &ni->nar_hash, NC_HASH_NIX32, true);
    ut_buf_printf(out, "\nNarSize: %llu\n", (unsigned long long)ni->nar_size);
    ut_buf_puts(out, "References: ");
    for (size_t i = 0; i < ni->nrefs; i++) {
        if (i)
            ut_buf_putc(out, ' ');
        ut_buf_append(out, ni->refs[i].s, ni->refs[i].len);
    }
    ut_buf_putc(out, '\n');
    if (ni->deriver.len)
        line(out, "Deriver: ", ni->deriver);
    if (ni->system.len)
        line(out, "System: ", ni->system);
    for (size_t i = 0; i < ni->nsigs; i++)
        line(out, "Sig: ", ni->sigs[i]);
    if (ni->ca.len)
        line(out, "CA: ", ni->ca);
}

bool nc_path_info_fingerprint(const char *store_dir, nc_str path, const nc_hash *nar_hash, uint64_t nar_size,
                              const nc_str *refs, size_t nrefs, ut_buf *out, ut_err *e)
{
    const char *dir = store_dir ? store_dir : NC_STORE_DIR_DEFAULT;
    size_t dl = strlen(dir);
    if (nar_size == 0)
        return ut_err_set(e, "cannot calculate fingerprint of path '%.*s' because its size is not known",
                          (int)path.len, path.s);
    if (nar_hash->algo != NC_HASH_SHA256)
        return ut_err_set(e, "cannot calculate fingerprint of path '%.*s' because its hash is not SHA-256",
                          (int)path.len, path.s);
    /* References are printed as full paths, sorted; base names and full
     * paths sort the same once the common store prefix is added. */
    nc_str *full = ut_xmalloc((nrefs ? nrefs : 1) * sizeof *full);
    ut_arena *tmp = ut_arena_new();
    for (size_t i = 0; i < nrefs; i++) {
        if (refs[i].len && refs[i].s[0] == '/') {
            full[i] = refs[i];
        } else {
            char *s = ut_arena_alloc(tmp, dl + 1 + refs[i].len + 1);
            memcpy(s, dir, dl);
            s[dl] = '/';
            memcpy(s + dl + 1, refs[i].s, refs[i].len);
            full[i] = nc_str_n(s, dl + 1 + refs[i].len);
        }
    }
    size_t n = nc_str_set_normalize(full, nrefs);
    ut_buf_puts(out, "1;");
    ut_buf_append(out, path.s, path.len);
    ut_buf_putc(out, ';');
    nc_hash_append(out, nar_hash, NC_HASH_NIX32, true);
    ut_buf_printf(out, ";%llu;", (unsigned long long)nar_size);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ut_buf_putc(out, ',');
        ut_buf_append(out, full[i].s, full[i].len);
    }
    free(full);
    ut_arena_free(tmp);
    return true;
}

bool nc_narinfo_fingerprint(const nc_narinfo *ni, const char *store_dir, ut_buf *out, ut_err *e)
{
    return nc_path_info_fingerprint(store_dir, ni->store_path, &ni->nar_hash, ni->nar_size, ni->refs, ni->nrefs, out,
                                    e);
}
