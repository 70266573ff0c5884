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

/* Only objects outside the straylight store have a local path: those in it
 * are hashed by their recorded path info, which the store verified. */
static char *st_local_path(void *ctx, const char *store_path)
{
    st_ctx *c = ctx;
    st_path_info *pi = NULL;
    ut_err e = UT_ERR_INIT;
    int q = st_store_query(c->st, store_path, &pi, &e);
    st_path_info_free(pi);
    ut_err_clear(&e);
    return q == 0 ? dv_source_local_path(c->fs, store_path) : NULL;
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
