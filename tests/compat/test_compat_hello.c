/* The real-world check: hello's .drv closure as nix-instantiate 2.8.0 wrote
 * it (corpus/hello-closure). For every store object:
 *   - its NAR (made with our writer from the file's bytes and executable
 *     bit) has the recorded NAR hash and size;
 *   - .drv: parses, prints back byte-identically, its own store path is the
 *     text path of that ATerm with its references, the references recorded
 *     are exactly its input srcs and drvs, and every output path recomputed
 *     with hashDerivationModulo over the closure is the one it records;
 *   - .drv rebuilt as eval's derivationStrict builds it: filling in the
 *     outputs gives the file back, and nc_drv_instantiate gives the file,
 *     its path and its hash modulo (keeping the text, and hashing only);
 *   - other files: the store path is the source (or text) path computed from
 *     the contents.
 * usage: test_compat_hello CLOSURE_DIR */
#include "compat/derivation.h"
#include "compat/nar.h"
#include "compat/storepath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct obj {
    char *path;            /* full store path */
    nc_hash nar_hash;
    uint64_t nar_size;
    nc_str *refs;
    size_t nrefs;
    char *refs_line;       /* owns the refs' bytes */
    ut_buf bytes;
    bool executable;
    nc_derivation *drv;    /* for .drv objects */
    bool hashed;
    nc_drv_hash h;         /* hashDerivationModulo(mask=false), memoised */
    bool hashing;          /* cycle guard */
} obj;

static obj *objs;
static size_t nobjs;
static ut_hmap *by_path;

static bool lookup(void *ctx, nc_str path, nc_drv_hash *out, ut_err *e)
{
    (void)ctx;
    obj *o = ut_hmap_get(by_path, path.s, path.len);
    if (!o || !o->drv)
        return ut_err_set(e, "input derivation '%.*s' is not in the closure", (int)path.len, path.s);
    if (!o->hashed) {
        if (o->hashing)
            return ut_err_set(e, "derivation cycle through '%s'", o->path);
        o->hashing = true;
        bool ok = nc_drv_hash_modulo(o->drv, NULL, false, lookup, NULL, &o->h, e);
        o->hashing = false;
        if (!ok)
            return false;
        o->hashed = true;
    }
    *out = o->h;
    return true;
}

/* d built again from scratch the way eval's derivationStrict builds one:
 * in reverse order, one input output at a time, output env entries left
 * out; the outputs are not filled in. */
static nc_derivation *rebuild(const nc_derivation *d)
{
    nc_derivation *c = nc_drv_new(d->name);
    c->platform = nc_drv_strdup(c, d->platform);
    c->builder = nc_drv_strdup(c, d->builder);
    for (size_t k = d->noutputs; k-- > 0;) {
        const nc_drv_output *src = &d->outputs[k];
        nc_drv_output *out = nc_drv_add_output(c, src->name);
        if (src->kind != NC_OUT_INPUT_ADDRESSED) {
            out->kind = src->kind;
            out->method = src->method;
            out->hash_algo = src->hash_algo;
            out->hash = src->hash;
        }
    }
    for (size_t k = d->ninputs; k-- > 0;)
        for (size_t m = d->inputs[k].node.noutputs; m-- > 0;)
            nc_drv_add_input(c, d->inputs[k].path, d->inputs[k].node.outputs[m]);
    for (size_t k = d->nsrcs; k-- > 0;)
        nc_drv_add_src(c, d->srcs[k]);
    for (size_t k = 0; k < d->nargs; k++)
        nc_drv_add_arg(c, d->args[k]);
    for (size_t k = d->nenv; k-- > 0;) {
        bool is_output = false;
        for (size_t m = 0; m < d->noutputs; m++)
            is_output |= nc_str_eq(d->env[k].key, d->outputs[m].name);
        if (!is_output)
            nc_drv_add_env(c, d->env[k].key, d->env[k].value);
    }
    return c;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CLOSURE_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    char p[8192];
    snprintf(p, sizeof p, "%s/closure.tsv", dir);
    ut_buf tsv = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (!ut_read_file(p, &tsv, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    by_path = ut_hmap_new();
    int failures = 0;

    /* Load every object. */
    char *save = NULL;
    for (char *line = strtok_r(tsv.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {line, NULL, NULL, NULL};
        for (int i = 1; i < 4; i++) {
            char *t = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
            if (t) {
                *t = '\0';
                f[i] = t + 1;
            }
        }
        if (!f[2]) {
            fprintf(stderr, "closure.tsv: malformed line for %s\n", f[0]);
            return 2;
        }
        objs = ut_xrealloc(objs, (nobjs + 1) * sizeof *objs);
        obj *o = &objs[nobjs++];
        memset(o, 0, sizeof *o);
        o->path = ut_xstrdup(f[0]);
        if (!nc_hash_parse_prefixed(f[1], strlen(f[1]), &o->nar_hash, &e)) {
            fprintf(stderr, "closure.tsv: %s: %s\n", f[0], e.msg);
            return 2;
        }
        o->nar_size = strtoull(f[2], NULL, 10);
        o->refs_line = ut_xstrdup(f[3] ? f[3] : "");
        for (char *s = o->refs_line, *sv = NULL, *r; (r = strtok_r(s, " ", &sv)); s = NULL) {
            o->refs = ut_xrealloc(o->refs, (o->nrefs + 1) * sizeof *o->refs);
            o->refs[o->nrefs++] = nc_str_c(r);
        }
        const char *base = strrchr(o->path, '/') + 1;
        snprintf(p, sizeof p, "%s/store/%s", dir, base);
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) || !ut_read_file(p, &o->bytes, &e)) {
            printf("FAIL %s: not a readable regular file in the closure folder\n", o->path);
            failures++;
            continue;
        }
        o->executable = (st.st_mode & S_IXUSR) != 0;
    }
    for (size_t i = 0; i < nobjs; i++)
        ut_hmap_put(by_path, objs[i].path, strlen(objs[i].path), &objs[i]);

    size_t n_nar = 0, n_nar_ok = 0, n_drv = 0, n_drv_parse = 0, n_drv_ident = 0, n_drv_path = 0, n_drv_refs = 0,
           n_out = 0, n_out_ok = 0, n_src = 0, n_src_ok = 0, n_fill_ok = 0, n_inv_ok = 0, n_inst_ok = 0;

    /* Parse every .drv first, so hashing can follow inputs in any order. */
    for (size_t i = 0; i < nobjs; i++) {
        obj *o = &objs[i];
        if (!ends_with(o->path, ".drv") || !o->bytes.data)
            continue;
        n_drv++;
        nc_store_path_parts parts;
        if (!nc_store_path_parse(NULL, nc_str_c(o->path), &parts, &e)) {
            printf("FAIL %s: %s\n", o->path, e.msg);
            failures++;
            continue;
        }
        nc_str name = nc_str_n(parts.name.s, parts.name.len - 4);
        o->drv = nc_drv_parse(o->bytes.data, o->bytes.len, NULL, name, &e);
        if (!o->drv) {
            printf("FAIL %s: %s\n", o->path, e.msg);
            failures++;
            continue;
        }
        n_drv_parse++;
    }

    ut_buf b = UT_BUF_INIT;
    for (size_t i = 0; i < nobjs; i++) {
        obj *o = &objs[i];
        if (!o->bytes.data)
            continue;
        /* NAR hash and size from the bytes. */
        n_nar++;
        nc_hash h;
        uint64_t size;
        nc_nar_hash_regular(NC_HASH_SHA256, o->bytes.data, o->bytes.len, o->executable, &h, &size);
        if (nc_hash_eq(&h, &o->nar_hash) && size == o->nar_size) {
            n_nar_ok++;
        } else {
            char got[NC_HASH_STR_MAX], want[NC_HASH_STR_MAX];
            nc_hash_print(&h, NC_HASH_NIX32, true, got);
            nc_hash_print(&o->nar_hash, NC_HASH_NIX32, true, want);
            printf("FAIL %s: NAR %s %llu, recorded %s %llu\n", o->path, got, (unsigned long long)size, want,
                   (unsigned long long)o->nar_size);
            failures++;
        }

        if (o->drv) {
            nc_derivation *d = o->drv;
            ut_buf_clear(&b);
            nc_drv_print(d, &b);
            if (b.len == o->bytes.len && memcmp(b.data, o->bytes.data, b.len) == 0) {
                n_drv_ident++;
            } else {
                printf("FAIL %s: re-printed ATerm differs\n", o->path);
                failures++;
            }
            ut_buf_clear(&b);
            if (nc_drv_store_path(d, NULL, &b, &e) && strcmp(b.data, o->path) == 0) {
                n_drv_path++;
            } else {
                printf("FAIL %s: own store path computed as %s\n", o->path, b.data ? b.data : e.msg);
                failures++;
            }
            /* References = input srcs + input drvs, sorted. */
            size_t nr = d->nsrcs + d->ninputs;
            nc_str *mine = ut_xmalloc((nr ? nr : 1) * sizeof *mine);
            if (d->nsrcs)
                memcpy(mine, d->srcs, d->nsrcs * sizeof *mine);
            for (size_t k = 0; k < d->ninputs; k++)
                mine[d->nsrcs + k] = d->inputs[k].path;
            bool refs_ok = nr == o->nrefs;
            for (size_t k = 0; refs_ok && k < nr; k++) {
                bool found = false;
                for (size_t m = 0; m < o->nrefs && !found; m++)
                    found = nc_str_eq(mine[k], o->refs[m]);
                refs_ok = found;
            }
            free(mine);
            if (refs_ok) {
                n_drv_refs++;
            } else {
                printf("FAIL %s: references differ from the derivation's inputs\n", o->path);
                failures++;
            }
            if (nc_drv_check_invariants(d, NULL, lookup, NULL, &e)) {
                n_inv_ok++;
            } else {
                printf("FAIL %s: %s\n", o->path, e.msg);
                failures++;
            }
            /* Output paths from hashDerivationModulo over the closure. */
            nc_drv_hash mh;
            bool have_mh = nc_drv_hash_modulo(d, NULL, true, lookup, NULL, &mh, &e);
            for (size_t k = 0; k < d->noutputs; k++) {
                const nc_drv_output *out = &d->outputs[k];
                n_out++;
                ut_buf_clear(&b);
                if (have_mh && nc_drv_output_path(d, NULL, out, &mh, &b, &e) &&
                    nc_str_eq(nc_str_n(b.data, b.len), out->path)) {
                    n_out_ok++;
                } else {
                    printf("FAIL %s output %s: computed %s, recorded %s\n", o->path, out->name.s,
                           b.data ? b.data : (e.msg ? e.msg : "?"), out->path.s);
                    failures++;
                }
            }
            /* What eval's derivationStrict does: build the derivation from
             * scratch (here in reverse order, one input output at a time,
             * output env entries left out) and fill in the outputs; that
             * must give back the very file Nix wrote. */
            bool fill_ok = false;
            nc_derivation *c = rebuild(d);
            ut_buf_clear(&b);
            if (nc_drv_fill_outputs(c, NULL, lookup, NULL, &e)) {
                nc_drv_print(c, &b);
                fill_ok = b.len == o->bytes.len && memcmp(b.data, o->bytes.data, b.len) == 0;
            }
            nc_drv_free(c);
            if (fill_ok) {
                n_fill_ok++;
            } else {
                printf("FAIL %s: filling in the outputs does not give the file back%s%s\n", o->path,
                       e.msg ? ": " : "", e.msg ? e.msg : "");
                failures++;
            }
            /* nc_drv_instantiate, keeping the text and hashing only: the
             * same file, its own path and its hash modulo as computed by
             * nc_drv_hash_modulo over the parsed file */
            for (int keep = 0; keep < 2; keep++) {
                nc_derivation *c2 = rebuild(d);
                ut_buf text = UT_BUF_INIT, path = UT_BUF_INIT;
                nc_drv_hash got, want;
                bool ok = nc_drv_instantiate(c2, NULL, lookup, NULL, keep ? &text : NULL, &path, &got, &e) &&
                          lookup(NULL, nc_str_c(o->path), &want, &e);
                ok = ok && path.data && strcmp(path.data, o->path) == 0 && nc_hash_eq(&got.hash, &want.hash) &&
                     got.fixed == want.fixed && got.deferred == want.deferred;
                if (ok && keep)
                    ok = text.len == o->bytes.len && memcmp(text.data, o->bytes.data, text.len) == 0;
                if (ok) {
                    n_inst_ok++;
                } else {
                    printf("FAIL %s: nc_drv_instantiate (%s) disagrees%s%s\n", o->path, keep ? "text" : "hash only",
                           e.msg ? ": " : "", e.msg ? e.msg : "");
                    failures++;
                }
                ut_err_clear(&e);
                ut_buf_free(&text);
                ut_buf_free(&path);
                nc_drv_free(c2);
            }
        } else if (!ends_with(o->path, ".drv")) {
            /* A source: added by path (NAR, sha256, "source" type) or, when
             * it has references, a text file (builtins.toFile). */
            n_src++;
            nc_store_path_parts parts;
            if (!nc_store_path_parse(NULL, nc_str_c(o->path), &parts, &e)) {
                printf("FAIL %s: %s\n", o->path, e.msg);
                failures++;
                continue;
            }
            nc_refs refs = {o->refs, o->nrefs, false};
            ut_buf_clear(&b);
            bool ok = nc_make_fixed_output_path(&b, NULL, NC_CA_NAR, &o->nar_hash, parts.name, &refs, &e) &&
                      strcmp(b.data, o->path) == 0;
            if (!ok) {
                nc_hash flat;
                nc_hash_bytes(NC_HASH_SHA256, o->bytes.data, o->bytes.len, &flat);
                ut_buf_clear(&b);
                ok = nc_make_text_path(&b, NULL, parts.name, &flat, &refs, &e) && strcmp(b.data, o->path) == 0;
            }
            if (ok) {
                n_src_ok++;
            } else {
                printf("FAIL %s: neither its source nor its text path\n", o->path);
                failures++;
            }
        }
        ut_err_clear(&e);
    }
    ut_buf_free(&b);

    printf("hello closure: %zu objects\n", nobjs);
    printf("  NAR hash+size matched:        %zu/%zu\n", n_nar_ok, n_nar);
    printf("  .drv parsed:                  %zu/%zu\n", n_drv_parse, n_drv);
    printf("  .drv re-printed identically:  %zu/%zu\n", n_drv_ident, n_drv);
    printf("  .drv own store path matched:  %zu/%zu\n", n_drv_path, n_drv);
    printf("  .drv references matched:      %zu/%zu\n", n_drv_refs, n_drv);
    printf("  output paths matched:         %zu/%zu\n", n_out_ok, n_out);
    printf("  invariant check passed:       %zu/%zu\n", n_inv_ok, n_drv);
    printf("  source store paths matched:   %zu/%zu\n", n_src_ok, n_src);
    printf("  rebuilt and filled as eval would: %zu/%zu\n", n_fill_ok, n_drv);
    printf("  nc_drv_instantiate (text, hash only): %zu/%zu\n", n_inst_ok, 2 * n_drv);

    for (size_t i = 0; i < nobjs; i++) {
        free(objs[i].path);
        free(objs[i].refs);
        free(objs[i].refs_line);
        ut_buf_free(&objs[i].bytes);
        nc_drv_free(objs[i].drv);
    }
    free(objs);
    ut_hmap_free(by_path);
    ut_buf_free(&tsv);
    ut_err_clear(&e);
    bool complete = nobjs > 0 && n_drv > 0 && n_src > 0;
    return failures == 0 && complete ? 0 : 1;
}
