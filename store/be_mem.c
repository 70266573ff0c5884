/* In-memory and dry backends, and the helpers shared by all backends. The
 * memory backend serves tests; the dry backend accepts every put and keeps
 * nothing, so evaluation can compute store paths without writing
 * (--dry-run, --readonly-mode). */
#include "store/backend.h"

#include <stdlib.h>
#include <string.h>

typedef struct mem_obj {
    char *data;
    size_t len;
} mem_obj;

typedef struct mem_be {
    st_backend base;
    ut_hmap *objs;     /* key -> mem_obj* ; NULL map for the dry backend */
} mem_be;

static bool mem_get(st_backend *be, const char *key, uint64_t offset, st_sink_fn sink, void *ctx,
                    bool *missing, ut_err *e)
{
    mem_be *mb = (mem_be *)be;
    mem_obj *o = mb->objs ? ut_hmap_get(mb->objs, key, strlen(key)) : NULL;
    if (missing) *missing = !o;
    if (!o) return ut_err_set(e, "store %s: no object '%s'", be->url, key);
    if (offset > o->len) offset = o->len;
    return sink(ctx, o->data + offset, o->len - (size_t)offset, e);
}

static st_put_result mem_put(st_backend *be, const char *key, const st_src *src, int flags, ut_err *e)
{
    mem_be *mb = (mem_be *)be;
    if (!mb->objs) return ST_PUT_WRITTEN;
    if ((flags & ST_PUT_IF_ABSENT) && ut_hmap_has(mb->objs, key, strlen(key))) return ST_PUT_EXISTED;
    mem_obj *o = ut_xcalloc(1, sizeof *o);
    o->len = (size_t)src->len;
    o->data = ut_xmalloc(o->len + 1);
    if (!st_src_read(src, 0, o->data, o->len, e)) {
        free(o->data);
        free(o);
        return ST_PUT_ERROR;
    }
    mem_obj *old = ut_hmap_put(mb->objs, key, strlen(key), o);
    if (old) {
        free(old->data);
        free(old);
    }
    return ST_PUT_WRITTEN;
}

static int mem_has(st_backend *be, const char *key, uint64_t *size, ut_err *e)
{
    (void)e;
    mem_be *mb = (mem_be *)be;
    mem_obj *o = mb->objs ? ut_hmap_get(mb->objs, key, strlen(key)) : NULL;
    if (o && size) *size = o->len;
    return o ? 1 : 0;
}

static bool mem_list(st_backend *be, const char *prefix,
                     bool (*cb)(void *ctx, const char *key, uint64_t size, int64_t mtime), void *ctx,
                     ut_err *e)
{
    (void)e;
    mem_be *mb = (mem_be *)be;
    if (!mb->objs) return true;
    size_t it = 0, klen, plen = strlen(prefix);
    const char *k;
    void *v;
    while (ut_hmap_next(mb->objs, &it, &k, &klen, &v)) {
        if (klen < plen || memcmp(k, prefix, plen)) continue;
        char *key = ut_xstrndup(k, klen);
        bool go = cb(ctx, key, ((mem_obj *)v)->len, 0);
        free(key);
        if (!go) break;
    }
    return true;
}

static bool mem_del(st_backend *be, const char *key, ut_err *e)
{
    (void)e;
    mem_be *mb = (mem_be *)be;
    if (!mb->objs) return true;
    mem_obj *o = ut_hmap_get(mb->objs, key, strlen(key));
    if (!o) return true;
    /* ut_hmap has no removal: an empty tombstone would still be listed, so
     * rebuild the map without the key. */
    ut_hmap *n = ut_hmap_new();
    size_t it = 0, klen;
    const char *k;
    void *v;
    while (ut_hmap_next(mb->objs, &it, &k, &klen, &v))
        if (v != o) ut_hmap_put(n, k, klen, v);
    ut_hmap_free(mb->objs);
    mb->objs = n;
    free(o->data);
    free(o);
    return true;
}

static void mem_free(st_backend *be)
{
    mem_be *mb = (mem_be *)be;
    if (mb->objs) {
        size_t it = 0, klen;
        const char *k;
        void *v;
        while (ut_hmap_next(mb->objs, &it, &k, &klen, &v)) {
            free(((mem_obj *)v)->data);
            free(v);
        }
        ut_hmap_free(mb->objs);
    }
    free(mb->base.url);
    free(mb);
}

static const st_backend_ops mem_ops = {
    "mem", mem_get, mem_put, mem_has, mem_list, mem_del, NULL, NULL, NULL, NULL, NULL, mem_free,
};
static const st_backend_ops dry_ops = {
    "dry", mem_get, mem_put, mem_has, mem_list, mem_del, NULL, NULL, NULL, NULL, NULL, mem_free,
};

st_backend *st_backend_mem(void)
{
    mem_be *mb = ut_xcalloc(1, sizeof *mb);
    mb->base.ops = &mem_ops;
    mb->base.url = ut_xstrdup("mem:");
    mb->objs = ut_hmap_new();
    return &mb->base;
}

st_backend *st_backend_dry(void)
{
    mem_be *mb = ut_xcalloc(1, sizeof *mb);
    mb->base.ops = &dry_ops;
    mb->base.url = ut_xstrdup("dry:");
    return &mb->base;
}

static bool sink_buf(void *ctx, const void *p, size_t n, ut_err *e)
{
    (void)e;
    ut_buf_append(ctx, p, n);
    return true;
}

bool st_backend_get_bytes(st_backend *be, const char *key, ut_buf *out, bool *missing, ut_err *e)
{
    ut_buf_clear(out);
    return be->ops->get(be, key, 0, sink_buf, out, missing, e);
}

st_put_result st_backend_put_bytes(st_backend *be, const char *key, const void *p, size_t n, int flags,
                                   ut_err *e)
{
    st_src src = {p ? p : "", -1, n, NULL};
    return be->ops->put(be, key, &src, flags, e);
}

void st_backend_free(st_backend *be)
{
    if (be) be->ops->free(be);
}
