/* drv/source_store.c: a drv source backed by a straylight store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compat/hash.h"
#include "drv/source.h"
#include "store/store.h"

typedef struct {
    st_store *st;
    dv_source *fs;   /* the store directory on this file system, the fallback */
} st_ctx;

static bool st_read(void *ctx, const char *store_path, ut_buf *out, ut_err *e)
{
    st_ctx *c = ctx;
    st_path_info *pi = NULL;
    int q = st_store_query(c->st, store_path, &pi, e);
    st_path_info_free(pi);
    if (q < 0) return false;
    if (q == 1) return st_store_read_file(c->st, store_path, out, e);
    char *local = dv_source_local_path(c->fs, store_path);
    struct stat sb;
    bool there = local && lstat(local, &sb) == 0;
    free(local);
    if (there) return dv_source_read(c->fs, store_path, out, e);
    return ut_err_set(e, "%s: not in the store %s (nor in %s on this machine)", store_path, st_store_url(c->st),
                      dv_source_store_dir(c->fs));
}

/* The checkout cache for objects only the store holds: beside the user's
 * other straylight caches. NULL when there is no home to put it in. */
static char *checkout_dir(void)
{
    ut_buf d = UT_BUF_INIT;
    const char *xc = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xc && *xc) ut_buf_printf(&d, "%s/straylight/checkout", xc);
    else if (home && *home) ut_buf_printf(&d, "%s/.cache/straylight/checkout", home);
    else return NULL;
    return ut_buf_steal(&d, NULL);
}

/* Where the object's files are on this machine: the store directory when it
 * is there, else a verified checkout of the store's copy (the REv2 export
 * needs source trees). NULL if neither. */
static char *st_local_path(void *ctx, const char *store_path)
{
    st_ctx *c = ctx;
    char *local = dv_source_local_path(c->fs, store_path);
    struct stat sb;
    if (local && lstat(local, &sb) == 0) return local;
    free(local);
    st_path_info *pi = NULL;
    ut_err e = UT_ERR_INIT;
    int q = st_store_query(c->st, store_path, &pi, &e);
    st_path_info_free(pi);
    char *dir = q == 1 ? checkout_dir() : NULL, *out = NULL;
    if (dir && !(ut_mkdirs(dir, 0755, &e) && st_store_checkout(c->st, store_path, dir, &out, &e))) out = NULL;
    ut_err_clear(&e);
    free(dir);
    return out;
}

static int st_info(void *ctx, const char *store_path, dv_pathinfo *out, ut_err *e)
{
    st_ctx *c = ctx;
    st_path_info *pi = NULL;
    int q = st_store_query(c->st, store_path, &pi, e);
    if (q != 1) return q;
    ut_buf h = UT_BUF_INIT;
    nc_hash_append(&h, &pi->nar_hash, NC_HASH_NIX32, true);
    out->nar_hash = ut_buf_steal(&h, NULL);
    out->nar_size = pi->nar_size;
    out->nrefs = pi->nrefs;
    out->refs = ut_xcalloc(pi->nrefs ? pi->nrefs : 1, sizeof *out->refs);
    for (size_t i = 0; i < pi->nrefs; i++) out->refs[i] = ut_xstrdup(pi->refs[i]);
    st_path_info_free(pi);
    return 1;
}

static void st_free(void *ctx)
{
    st_ctx *c = ctx;
    dv_source_free(c->fs);
    free(c);
}

static const dv_source_ops st_ops = {st_read, st_local_path, st_free, st_info};

dv_source *dv_source_st_store(st_store *st)
{
    st_ctx *c = ut_xcalloc(1, sizeof *c);
    c->st = st;
    c->fs = dv_source_store(st_store_dir(st));
    return dv_source_new(&st_ops, c, st_store_dir(st));
}
