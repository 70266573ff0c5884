#include "drv/graph.h"

#include <stdlib.h>
#include <string.h>

#include "compat/nar.h"

/* Whether the bytes are what the path names: a .drv's store path is the
 * text path of its exact bytes, referring to its sources and input .drvs. */
static bool check_drv_path(const char *sd, const char *drv_path, nc_str name, const ut_buf *bytes,
                           const nc_derivation *d, ut_err *e)
{
    nc_hash h;
    nc_hash_bytes(NC_HASH_SHA256, bytes->data ? bytes->data : "", bytes->len, &h);
    size_t n = d->nsrcs + d->ninputs;
    nc_str *refs = ut_xmalloc((n ? n : 1) * sizeof *refs);
    for (size_t i = 0; i < d->nsrcs; i++) refs[i] = d->srcs[i];
    for (size_t i = 0; i < d->ninputs; i++) refs[d->nsrcs + i] = d->inputs[i].path;
    nc_refs r = {refs, n, false};
    ut_buf p = UT_BUF_INIT;
    bool ok = nc_make_text_path(&p, sd, name, &h, &r, e);
    if (ok && strcmp(p.data, drv_path))
        ok = ut_err_set(e, "%s: the file's contents belong to %s; the derivation source is corrupt or was tampered with",
                        drv_path, p.data);
    ut_buf_free(&p);
    free(refs);
    return ok;
}

nc_derivation *dv_load_drv(dv_source *src, const char *drv_path, bool verify, char nar_hash[NC_HASH_STR_MAX],
                           ut_err *e)
{
    const char *sd = dv_source_store_dir(src);
    nc_store_path_parts parts;
    if (!nc_store_path_parse(sd, nc_str_c(drv_path), &parts, e)) return NULL;
    if (parts.name.len < 5 || memcmp(parts.name.s + parts.name.len - 4, ".drv", 4)) {
        ut_err_set(e, "%s: not a derivation (the name does not end in .drv)", drv_path);
        return NULL;
    }
    ut_buf b = UT_BUF_INIT;
    if (!dv_source_read(src, drv_path, &b, e)) return NULL;
    nc_derivation *d = nc_drv_parse(b.data ? b.data : "", b.len, sd, nc_str_n(parts.name.s, parts.name.len - 4), e);
    if (!d) ut_err_wrap(e, "%s", drv_path);
    else if (verify && !check_drv_path(sd, drv_path, parts.name, &b, d, e)) {
        nc_drv_free(d);
        d = NULL;
    }
    if (d && nar_hash) {
        nc_hash h;
        nc_nar_hash_regular(NC_HASH_SHA256, b.data ? b.data : "", b.len, false, &h, NULL);
        nc_hash_print(&h, NC_HASH_NIX32, true, nar_hash);
        const dv_pathinfo *pi = dv_source_pathinfo(src, drv_path);
        if (pi && strcmp(pi->nar_hash, nar_hash)) {
            ut_err_set(e, "%s: NAR hash %s does not match the recorded %s", drv_path, nar_hash, pi->nar_hash);
            nc_drv_free(d);
            d = NULL;
        }
    }
    ut_buf_free(&b);
    return d;
}

static size_t index_of(const dv_graph *g, const char *p)
{
    return (size_t)(uintptr_t)ut_hmap_get(g->index, p, strlen(p));
}

const dv_node *dv_graph_find(const dv_graph *g, const char *drv_path)
{
    size_t i = index_of(g, drv_path);
    return i ? &g->nodes[i - 1] : NULL;
}

static const char *input_digest(void *ctx, const char *drv_path, ut_err *e)
{
    const dv_node *n = dv_graph_find(ctx, drv_path);
    if (!n) {
        ut_err_set(e, "%s: input not lowered", drv_path);
        return NULL;
    }
    return n->action.digest;
}

static bool modulo_lookup(void *ctx, nc_str drv_path, nc_drv_hash *out, ut_err *e)
{
    char *p = ut_xstrndup(drv_path.s, drv_path.len);
    const dv_node *n = dv_graph_find(ctx, p);
    if (!n) ut_err_set(e, "%s: input not loaded", p);
    else *out = n->modulo;
    free(p);
    return n != NULL;
}

static const char *source_hash(void *ctx, const char *path, ut_err *e)
{
    const dv_graph *g = ctx;
    return dv_source_nar_hash(g->src, path, e);
}

typedef struct {
    char *path;
    nc_derivation *drv;
    size_t next;
    char nar_hash[NC_HASH_STR_MAX];
} frame;

/* Paths on the DFS stack are marked with this in `visiting`. */
#define ON_STACK ((void *)1)

/* The outputs follow from the derivation's hashes (its inputs are checked
 * already, and its path was checked against its bytes when loaded). */
static bool verify_drv(dv_graph *g, frame *f, ut_err *e)
{
    if (!nc_drv_check_invariants(f->drv, dv_source_store_dir(g->src), modulo_lookup, g, e))
        return ut_err_wrap(e, "%s", f->path);
    return true;
}

static bool finish_node(dv_graph *g, frame *f, ut_err *e)
{
    dv_lower_ctx lc = {dv_source_store_dir(g->src), input_digest, source_hash, g};
    dv_node n;
    memset(&n, 0, sizeof n);
    if (!nc_drv_hash_modulo(f->drv, dv_source_store_dir(g->src), false, modulo_lookup, g, &n.modulo, e))
        return ut_err_wrap(e, "%s", f->path);
    if (!(g->flags & DV_GRAPH_NO_VERIFY) && !verify_drv(g, f, e)) return false;
    if (!dv_action_lower(f->drv, f->path, &lc, &n.action, e)) return false;
    n.drv_path = f->path;
    n.drv = f->drv;
    memcpy(n.drv_nar_hash, f->nar_hash, sizeof n.drv_nar_hash);
    n.inputs = ut_xmalloc((f->drv->ninputs ? f->drv->ninputs : 1) * sizeof *n.inputs);
    /* Taint: a checked fixed output is sealed; anything else inherits. */
    if (!n.action.fixed) {
        dv_grade_taint(&n.taint, &n.action.grade);
    }
    for (size_t i = 0; i < f->drv->ninputs; i++) {
        char *p = ut_xstrndup(f->drv->inputs[i].path.s, f->drv->inputs[i].path.len);
        size_t k = index_of(g, p) - 1;
        free(p);
        n.inputs[n.ninputs++] = k;
        if (!n.action.fixed) dv_grade_join(&n.taint, &g->nodes[k].taint);
    }
    dv_grade_join(&g->join, &n.action.grade);
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->nodes = ut_xrealloc(g->nodes, g->cap * sizeof *g->nodes);
    }
    g->nodes[g->n++] = n;
    ut_hmap_put(g->index, n.drv_path, strlen(n.drv_path), (void *)(uintptr_t)g->n);
    f->path = NULL;
    f->drv = NULL;
    return true;
}

static bool visit(dv_graph *g, ut_hmap *visiting, const char *root, ut_err *e)
{
    if (index_of(g, root)) return true;
    frame *st = NULL;
    size_t depth = 0, cap = 0;
    bool ok = true;
#define PUSH(p)                                                 \
    do {                                                        \
        if (depth == cap) {                                     \
            cap = cap ? cap * 2 : 32;                           \
            st = ut_xrealloc(st, cap * sizeof *st);             \
        }                                                       \
        st[depth].path = (p);                                   \
        st[depth].drv = NULL;                                   \
        st[depth].next = 0;                                     \
        ut_hmap_put(visiting, st[depth].path, strlen(st[depth].path), ON_STACK); \
        depth++;                                                \
    } while (0)
    PUSH(ut_xstrdup(root));
    while (ok && depth) {
        frame *f = &st[depth - 1];
        if (!f->drv) {
            f->drv = dv_load_drv(g->src, f->path, !(g->flags & DV_GRAPH_NO_VERIFY), f->nar_hash, e);
            if (!f->drv) {
                if (depth > 1) ut_err_wrap(e, "input of %s", st[depth - 2].path);
                ok = false;
                break;
            }
        }
        if (f->next < f->drv->ninputs) {
            nc_str in = f->drv->inputs[f->next++].path;
            char *p = ut_xstrndup(in.s, in.len);
            if (index_of(g, p)) {
                free(p);
                continue;
            }
            if (ut_hmap_get(visiting, p, strlen(p)) == ON_STACK) {
                ut_buf msg = UT_BUF_INIT;
                size_t from = 0;
                for (size_t i = 0; i < depth; i++)
                    if (!strcmp(st[i].path, p)) from = i;
                for (size_t i = from; i < depth; i++) ut_buf_printf(&msg, "%s -> ", st[i].path);
                ut_buf_puts(&msg, p);
                ok = ut_err_set(e, "dependency cycle: %s", msg.data);
                ut_buf_free(&msg);
                free(p);
                break;
            }
            PUSH(p);
            continue;
        }
        char *path = f->path;
        ut_hmap_put(visiting, path, strlen(path), NULL);
        if (!finish_node(g, f, e)) {
            ok = false;
            break;
        }
        depth--;
    }
#undef PUSH
    for (size_t i = 0; i < depth; i++) {
        free(st[i].path);
        nc_drv_free(st[i].drv);
    }
    free(st);
    return ok;
}

bool dv_graph_load(dv_graph *g, dv_source *src, char *const *roots, size_t nroots, unsigned flags, ut_err *e)
{
    memset(g, 0, sizeof *g);
    g->src = src;
    g->flags = flags;
    g->index = ut_hmap_new();
    ut_hmap *visiting = ut_hmap_new();
    bool ok = true;
    for (size_t i = 0; i < nroots && ok; i++) ok = visit(g, visiting, roots[i], e);
    ut_hmap_free(visiting);
    if (ok) {
        g->roots = ut_xmalloc((nroots ? nroots : 1) * sizeof *g->roots);
        for (size_t i = 0; i < nroots; i++) {
            size_t k = index_of(g, roots[i]);
            bool dup = false;
            for (size_t j = 0; j < g->nroots; j++) dup |= g->roots[j] == k - 1;
            if (!dup) g->roots[g->nroots++] = k - 1;
        }
    } else {
        dv_graph_free(g);
    }
    return ok;
}

void dv_graph_free(dv_graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        dv_node *n = &g->nodes[i];
        free(n->drv_path);
        nc_drv_free(n->drv);
        dv_action_free(&n->action);
        dv_grade_free(&n->taint);
        free(n->inputs);
    }
    free(g->nodes);
    ut_hmap_free(g->index);
    free(g->roots);
    dv_grade_free(&g->join);
    memset(g, 0, sizeof *g);
}
