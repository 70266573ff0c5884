/* The evaluator's heap: segregated size classes carved from large chunks,
 * a precise non-moving mark-and-sweep collector, run only at safe points.
 *
 * Small objects (<= EV_SMALL_MAX bytes) live in chunks per size class, so a
 * 32-byte thunk costs 32 bytes; larger objects get their own malloc block
 * with a small list header. Marking is iterative (explicit mark stack), so a
 * million-element linked list cannot overflow the C stack. While marking, a
 * slot that holds an already-evaluated thunk is overwritten with the thunk's
 * value, so forced thunks become garbage even while the containers that
 * referenced them stay alive (a genList of ten million numbers keeps only
 * the numbers). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/internal.h"

#define EV_CHUNK_BYTES (256u * 1024u)

typedef struct ev_chunk {
    struct ev_chunk *next;
    struct ev_chunk *next_empty;
    size_t used;            /* bytes handed out by bumping */
    char *mem;
} ev_chunk;

typedef struct ev_freeobj {
    ev_gch h;
    struct ev_freeobj *next;
} ev_freeobj;

typedef struct ev_class {
    ev_chunk *chunks;       /* all chunks; the head is bumped into */
    ev_chunk *empty;        /* chunks the last sweep found empty */
} ev_class;               /* the free list is in S->bump (inline allocation) */

struct ev_pool {
    ev_class cls[EV_NCLASS];
};

typedef struct ev_large {
    struct ev_large *next;
    size_t size;
    /* the object follows, 16-byte aligned */
    uint64_t pad;
} ev_large;

void ev_gc_init(ev_state *S)
{
    S->pools = ut_xcalloc(1, sizeof(ev_pool));
    S->large = NULL;
    S->heap_bytes = 0;
    S->gc_threshold = 12u << 20;
}

void ev_gc_free_all(ev_state *S)
{
    if (!S->pools)
        return;
    for (unsigned c = 0; c < EV_NCLASS; c++) {
        ev_chunk *ch = S->pools->cls[c].chunks;
        while (ch) {
            ev_chunk *n = ch->next;
            free(ch->mem);
            free(ch);
            ch = n;
        }
    }
    ev_large *l = S->large;
    while (l) {
        ev_large *n = l->next;
        free(l);
        l = n;
    }
    free(S->pools);
    S->pools = NULL;
    S->large = NULL;
}

static void *gc_alloc(ev_state *S, ev_objkind kind, size_t size, size_t zero);

void *ev_gc_alloc(ev_state *S, ev_objkind kind, size_t size)
{
    return gc_alloc(S, kind, size, SIZE_MAX);
}

void *ev_gc_alloc_partial(ev_state *S, ev_objkind kind, size_t size, size_t header)
{
    return gc_alloc(S, kind, size, header);
}

/* zero: how many bytes of a large object to clear (small ones are always
 * cleared whole) */
static void *gc_alloc(ev_state *S, ev_objkind kind, size_t size, size_t zero)
{
    size = (size + EV_GRAIN - 1) & ~(size_t)(EV_GRAIN - 1);
    if (size < EV_GRAIN)
        size = EV_GRAIN;
    ev_gch *h;
    if (size <= EV_SMALL_MAX) {
        ev_class *cl = &S->pools->cls[size / EV_GRAIN - 1];
        ev_chunk *ch = cl->chunks;
        /* Bump allocation in fresh or emptied chunks first: sequential
         * memory is much cheaper to fill than scattered free slots. */
        ev_bump *bp = &S->bump[size / EV_GRAIN - 1];
        if (ch && bp->next)
            ch->used = (size_t)(bp->next - ch->mem);
        if (ch && ch->used + size <= EV_CHUNK_BYTES) {
            h = (ev_gch *)(ch->mem + ch->used);
            ch->used += size;
        } else if (cl->empty) {
            ev_chunk *e = cl->empty;
            cl->empty = e->next_empty;
            /* move it to the head of the list */
            ev_chunk **pp = &cl->chunks;
            while (*pp != e)
                pp = &(*pp)->next;
            *pp = e->next;
            e->next = cl->chunks;
            cl->chunks = e;
            e->used = size;
            h = (ev_gch *)e->mem;
        } else if (bp->free) {
            ev_freeobj *f = bp->free;
            h = &f->h;
            bp->free = f->next;
        } else {
            ch = ut_xmalloc(sizeof *ch);
            ch->mem = ut_xmalloc(EV_CHUNK_BYTES);
            ch->used = size;
            ch->next = cl->chunks;
            ch->next_empty = NULL;
            cl->chunks = ch;
            h = (ev_gch *)ch->mem;
        }
        /* the head chunk is bumped inline (ev_gc_alloc_small) from here on */
        ch = cl->chunks;
        if (ch && (char *)h >= ch->mem && (char *)h < ch->mem + EV_CHUNK_BYTES) {
            bp->next = ch->mem + ch->used;
            bp->limit = ch->mem + EV_CHUNK_BYTES;
        } else {
            bp->next = bp->limit = NULL;
        }
        memset(h, 0, size);
    } else {
        ev_large *l = ut_xmalloc(sizeof(ev_large) + size);
        memset(l, 0, sizeof(ev_large) + (zero < size ? zero : size));
        l->size = size;
        l->next = S->large;
        S->large = l;
        h = (ev_gch *)(l + 1);
    }
    h->kind = (uint8_t)kind;
    S->heap_bytes += size;
    return h;
}

size_t ev_heap_bytes(ev_state *S) { return S->heap_bytes; }

/* ---- marking ----------------------------------------------------------- */

typedef struct ev_markstack {
    ev_gch **v;
    size_t n, cap;
} ev_markstack;

static inline void ms_push(ev_markstack *m, ev_gch *o)
{
    if (!o || (o->flags & EV_GC_STATIC) || o->mark)
        return;
    o->mark = 1;
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->v = ut_xrealloc(m->v, m->cap * sizeof *m->v);
    }
    m->v[m->n++] = o;
}

static void mark_value(ev_markstack *m, ev_value *v)
{
    switch (v->type) {
    case EV_THUNK: {
        ev_thunk *t = v->u.t;
        if (EV_TH_STATE(t) == EV_TH_DONE && !(t->h.flags & EV_TH_BH)) {
            *v = t->u.v;     /* short-circuit the indirection */
            mark_value(m, v);
            return;
        }
        ms_push(m, &t->h);
        return;
    }
    case EV_APPI:
    case EV_LREF:       /* its list */
    case EV_STRING:
    case EV_PATH:
    case EV_ATTRS:
    case EV_LIST:
    case EV_LAMBDA:
    case EV_PRIMOP_APP:
    case EV_ENV:
    case EV_BOXV:
        ms_push(m, v->u.obj);
        return;
    default:
        return;
    }
}

static void mark_children(ev_markstack *m, ev_gch *o)
{
    switch (o->kind) {
    case EV_OBJ_STRING: {
        ev_string *s = (ev_string *)o;
        if (s->ctx)
            ms_push(m, &s->ctx->h);
        break;
    }
    case EV_OBJ_ATTRS: {
        ev_attrs *a = (ev_attrs *)o;
        /* issue every child's load at once: marking is bound by misses */
        for (uint32_t i = 0; i < a->h.n; i++)
            if (a->a[i].value.type > EV_FLOAT)
                __builtin_prefetch(a->a[i].value.u.obj);
        for (uint32_t i = 0; i < a->h.n; i++)
            mark_value(m, &a->a[i].value);
        break;
    }
    case EV_OBJ_LIST: {
        ev_list *l = (ev_list *)o;
        const ev_gch *last = NULL;
        for (uint32_t i = 0; i < l->h.n; i++) {
            ev_value *v = &l->v[i];
            if (v->type <= EV_FLOAT)
                continue;   /* null, bool, int, float: nothing to mark */
            if (v->type == EV_APPI && v->u.obj == last)
                continue;   /* genList: every element shares one function */
            mark_value(m, v);
            if (v->type == EV_APPI)
                last = v->u.obj;
        }
        break;
    }
    case EV_OBJ_LAMBDA:
        if (((ev_lambda *)o)->env)
            ms_push(m, &((ev_lambda *)o)->env->h);
        break;
    case EV_OBJ_PAPP: {
        ev_papp *p = (ev_papp *)o;
        for (uint32_t i = 0; i < p->h.n; i++)
            mark_value(m, &p->args[i]);
        break;
    }
    case EV_OBJ_THUNK: {
        ev_thunk *t = (ev_thunk *)o;
        switch (EV_TH_STATE(t)) {
        case EV_TH_CODE:
            if (t->u.c.env)
                ms_push(m, &t->u.c.env->h);
            break;
        case EV_TH_APP:
            ms_push(m, t->u.app.fn);
            mark_value(m, &t->u.app.arg);
            break;
        case EV_TH_DONE:
            mark_value(m, &t->u.v);
            break;
        }
        break;
    }
    case EV_OBJ_ENV: {
        ev_env *e = (ev_env *)o;
        for (uint32_t i = 0; i < e->h.n; i++)
            if (e->v[i].type > EV_FLOAT)
                __builtin_prefetch(e->v[i].u.obj);
        if (e->up)
            ms_push(m, &e->up->h);
        for (uint32_t i = 0; i < e->h.n; i++)
            mark_value(m, &e->v[i]);
        break;
    }
    case EV_OBJ_BOX: {
        ev_box *b = (ev_box *)o;
        if (!(b->h.flags & EV_BOX_RAW))
            for (uint32_t i = 0; i < b->h.n; i++)
                mark_value(m, &b->v[i]);
        break;
    }
    default:
        break;
    }
}

static void mark_roots(ev_state *S, ev_markstack *m)
{
    for (ev_value *v = S->stack; v < S->sp; v++)
        mark_value(m, v);
    for (size_t i = 0; i < S->nframes; i++)
        if (S->frames[i].env)
            ms_push(m, &S->frames[i].env->h);
    if (S->base_env)
        ms_push(m, &S->base_env->h);
    mark_value(m, &S->builtins);
    if (S->builtins_pending)
        ms_push(m, &S->builtins_pending->h);
    for (size_t i = 0; i < S->nforcing; i++)
        ms_push(m, &S->forcing[i]->h);
    if (S->empty_string)
        ms_push(m, &S->empty_string->h);
    size_t it = 0;
    const char *k;
    size_t kl;
    void *val;
    while (ut_hmap_next(S->import_cache, &it, &k, &kl, &val))
        ms_push(m, (ev_gch *)val);
}

static void sync_bump(ev_state *S)
{
    /* chunk->used of each head chunk lags behind inline bumping */
    for (unsigned c = 0; c < EV_NCLASS; c++) {
        ev_chunk *ch = S->pools->cls[c].chunks;
        if (ch && S->bump[c].next)
            ch->used = (size_t)(S->bump[c].next - ch->mem);
        S->bump[c].next = S->bump[c].limit = NULL;
    }
}

static void sweep(ev_state *S)
{
    size_t live = 0;
    size_t census_n[32] = {0}, census_b[32] = {0};
    sync_bump(S);
    for (unsigned c = 0; c < EV_NCLASS; c++) {
        size_t size = (c + 1) * EV_GRAIN;
        ev_class *cl = &S->pools->cls[c];
        S->bump[c].free = NULL;
        cl->empty = NULL;
        for (ev_chunk *ch = cl->chunks; ch; ch = ch->next) {
            /* One pass: live objects are unmarked and counted, the others
             * threaded onto this chunk's free list. A chunk found all dead
             * is reused whole by bumping instead, its list dropped. */
            size_t chunk_live = 0;
            ev_freeobj *chunk_free = NULL, *chunk_last = NULL;
            for (size_t off = 0; off + size <= ch->used; off += size) {
                ev_gch *h = (ev_gch *)(ch->mem + off);
                if (h->kind != EV_OBJ_FREE && h->mark) {
                    h->mark = 0;
                    chunk_live++;
                    if (S->gc_stats && h->kind < 32) {
                        census_n[h->kind]++;
                        census_b[h->kind] += size;
                    }
                    continue;
                }
                ev_freeobj *f = (ev_freeobj *)h;
                if (S->gc_stress && h->kind != EV_OBJ_FREE)
                    memset(h, 0xa5, size);
                f->h.kind = EV_OBJ_FREE;
                f->h.mark = 0;
                f->next = chunk_free;
                if (!chunk_free)
                    chunk_last = f;
                chunk_free = f;
            }
            live += chunk_live * size;
            if (chunk_live == 0 && ch != cl->chunks) {
                /* under stress, a stale reference must read garbage, not
                 * the dead object's intact fields */
                if (S->gc_stress)
                    memset(ch->mem, 0xa5, ch->used);
                ch->used = 0;
                ch->next_empty = cl->empty;
                cl->empty = ch;
                continue;
            }
            if (chunk_free) {
                chunk_last->next = S->bump[c].free;
                S->bump[c].free = chunk_free;
            }
        }
    }
    ev_large **pl = (ev_large **)&S->large;
    while (*pl) {
        ev_large *l = *pl;
        ev_gch *h = (ev_gch *)(l + 1);
        if (h->mark) {
            h->mark = 0;
            live += l->size;
            if (S->gc_stats && h->kind < 32) {
                census_n[h->kind]++;
                census_b[h->kind] += l->size;
            }
            pl = &l->next;
        } else {
            *pl = l->next;
            free(l);
        }
    }
    S->heap_bytes = live;
    if (S->gc_stats)
        for (int k = 0; k < 32; k++)
            if (census_n[k])
                fprintf(stderr, "  kind %d: %zu objects, %zu KiB\n", k, census_n[k], census_b[k] >> 10);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void ev_gc_collect(ev_state *S)
{
    size_t before = S->heap_bytes;
    double t0 = S->gc_stats ? now_ms() : 0;
    ev_markstack m = {0};
    mark_roots(S, &m);
    while (m.n) {
        ev_gch *o = m.v[--m.n];
        mark_children(&m, o);
    }
    free(m.v);
    sweep(S);
    S->gc_count++;
    if (S->gc_stats)
        fprintf(stderr, "gc %llu: heap %zu -> %zu KiB live, %.1f ms\n", (unsigned long long)S->gc_count,
                before >> 10, S->heap_bytes >> 10, now_ms() - t0);
    /* grow by half the live size: peak memory stays near 1.5x live */
    size_t next = S->heap_bytes + S->heap_bytes / 2;
    S->gc_threshold = next < (12u << 20) ? (12u << 20) : next;
}

void ev_gc_safepoint_slow(ev_state *S)
{
    ev_gc_collect(S);
}

