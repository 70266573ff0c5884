/* straylight show-derivation [--recursive] DRV...
 *
 * Prints what `nix show-derivation` (Nix 2.8) prints: one JSON object keyed
 * by .drv store path. A DRV under the store directory is read from there; any
 * other file is read as is, and its inputs (for --recursive) are looked up
 * by base name in the same folder, so a copied closure works without a
 * store. */
#include "cli/cli.h"
#include "compat/derivation.h"
#include "compat/storepath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;             /* store path printed as the object key */
    nc_derivation *drv;
} entry;

typedef struct state {
    const char *store_dir;
    ut_hmap *seen;         /* key -> entry* */
    entry **v;
    size_t n;
    bool recursive;
} state;

static void usage(FILE *out)
{
    fprintf(out, "usage: straylight show-derivation [--recursive|-r] DRV...\n"
                 "Print derivations as JSON, as `nix show-derivation` (Nix 2.8) does.\n");
}

/* Loads the derivation at `file`, known as `key`, and (recursively) its
 * inputs from `dir` (NULL: the store). */
static bool load(state *st, const char *file, const char *key, const char *dir, ut_err *e)
{
    if (ut_hmap_has(st->seen, key, strlen(key)))
        return true;
    ut_buf bytes = UT_BUF_INIT;
    if (!ut_read_file(file, &bytes, e))
        return false;
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    nc_store_path_parts parts;
    nc_str name;
    if (nc_store_base_parse(nc_str_c(base), &parts, NULL) && parts.name.len > 4 &&
        memcmp(parts.name.s + parts.name.len - 4, ".drv", 4) == 0)
        name = nc_str_n(parts.name.s, parts.name.len - 4);
    else
        name = nc_str_n(base, strlen(base) > 4 && !strcmp(base + strlen(base) - 4, ".drv") ? strlen(base) - 4
                                                                                           : strlen(base));
    nc_derivation *d = nc_drv_parse(bytes.data, bytes.len, st->store_dir, name, e);
    ut_buf_free(&bytes);
    if (!d)
        return ut_err_wrap(e, "%s", file);
    entry *en = ut_xmalloc(sizeof *en);
    en->drv = d;
    /* A file outside the store is shown under the path it would have. */
    ut_buf k = UT_BUF_INIT;
    if (key == file && strncmp(file, st->store_dir, strlen(st->store_dir)) != 0) {
        if (!nc_drv_store_path(d, st->store_dir, &k, e)) {
            nc_drv_free(d);
            free(en);
            return ut_err_wrap(e, "%s", file);
        }
    } else {
        ut_buf_puts(&k, key);
    }
    en->key = ut_buf_steal(&k, NULL);
    ut_hmap_put(st->seen, key, strlen(key), en);
    if (strcmp(en->key, key) != 0)
        ut_hmap_put(st->seen, en->key, strlen(en->key), en);
    st->v = ut_xrealloc(st->v, (st->n + 1) * sizeof *st->v);
    st->v[st->n++] = en;
    if (!st->recursive)
        return true;
    /* Nix takes the file-system closure: input drvs, and input sources that
     * happen to be derivations. */
    size_t total = d->ninputs + d->nsrcs;
    for (size_t i = 0; i < total; i++) {
        nc_str p = i < d->ninputs ? d->inputs[i].path : d->srcs[i - d->ninputs];
        if (p.len < 4 || memcmp(p.s + p.len - 4, ".drv", 4) != 0)
            continue;
        const char *pb = memrchr(p.s, '/', p.len);
        pb = pb ? pb + 1 : p.s;
        ut_buf f = UT_BUF_INIT;
        if (dir)
            ut_buf_printf(&f, "%s/%.*s", dir, (int)(p.len - (size_t)(pb - p.s)), pb);
        else
            ut_buf_append(&f, p.s, p.len);
        bool ok = load(st, f.data, p.s, dir, e);
        ut_buf_free(&f);
        if (!ok)
            return false;
    }
    return true;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(entry *const *)a)->key, (*(entry *const *)b)->key);
}

static int run(int argc, char **argv)
{
    /* As Nix, NIX_STORE_DIR moves the store. */
    const char *sdir = getenv("NIX_STORE_DIR");
    state st = {sdir && *sdir ? sdir : NC_STORE_DIR_DEFAULT, ut_hmap_new(), NULL, 0, false};
    int rc = 0, nfiles = 0;
    ut_err e = UT_ERR_INIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            goto out;
        }
        if (!strcmp(a, "--recursive") || !strcmp(a, "-r")) {
            st.recursive = true;
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "error: unknown option '%s'\n", a);
            usage(stderr);
            rc = 1;
            goto out;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1])
            continue;
        nfiles++;
        bool in_store = nc_is_store_path(st.store_dir, nc_str_c(a));
        char *dir = NULL;
        if (!in_store) {
            const char *slash = strrchr(a, '/');
            dir = slash ? ut_xstrndup(a, (size_t)(slash - a)) : ut_xstrdup(".");
        }
        bool ok = load(&st, a, a, dir, &e);
        free(dir);
        if (!ok) {
            fprintf(stderr, "error: %s\n", e.msg);
            rc = 1;
            goto out;
        }
    }
    if (nfiles == 0) {
        usage(stderr);
        rc = 1;
        goto out;
    }
    qsort(st.v, st.n, sizeof *st.v, cmp_entry);
    ut_buf b = UT_BUF_INIT;
    ut_buf_putc(&b, '{');
    size_t shown = 0;
    for (size_t i = 0; i < st.n; i++) {
        if (i && !strcmp(st.v[i]->key, st.v[i - 1]->key))
            continue;
        ut_buf_puts(&b, shown++ ? ",\n  " : "\n  ");
        nc_json_string_v28(&b, nc_str_c(st.v[i]->key));
        ut_buf_puts(&b, ": ");
        nc_drv_json_v28(st.v[i]->drv, 1, &b);
    }
    ut_buf_puts(&b, shown ? "\n}\n" : "}\n");
    if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
        fprintf(stderr, "error: writing to standard output failed\n");
        rc = 1;
    }
    ut_buf_free(&b);
out:
    for (size_t i = 0; i < st.n; i++) {
        nc_drv_free(st.v[i]->drv);
        free(st.v[i]->key);
        free(st.v[i]);
    }
    free(st.v);
    ut_hmap_free(st.seen);
    ut_err_clear(&e);
    return rc;
}

const cli_command cli_cmd_show_derivation = {"show-derivation", "print derivations as JSON (as nix show-derivation)",
                                             run};
