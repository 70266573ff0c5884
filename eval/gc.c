/* The evaluator's heap: segregated size classes carved from large chunks,
 * a precise non-moving mark-and-sweep collector, run only at safe points.
 *
 * Small objects (<= EV_SMALL_MAX bytes) live in chunks per size class, so a
 * 32-byte thunk costs 32 bytes; medium ones in chunks of coarser classes;
 * only objects over EV_MEDIUM_MAX are mapped singly. Marking is iterative
 * (explicit mark stack), so a million-element linked list cannot overflow
 * the C stack. While marking, a
 * slot that holds an already-evaluated thunk is overwritten with the thunk's
 * value, so forced thunks become garbage even while the containers that
 * referenced them stay alive (a genList of ten million numbers keeps only
 * the numbers).
 *
 * Mark bits live beside the objects, not in them. Chunks are carved from one
 * reserved address range and aligned to their size, so whether a pointer is
 * a chunk object is one comparison, and its chunk header (holding a bit per
 * 16-byte grain) is found by masking. Three quarters of the edges of a
 * nixpkgs heap lead to objects already marked; those are recognised without
 * reading them. Sweeping reads only the bitmaps: it counts what is live and
 * queues partly free chunks, and the allocator takes their free runs when it
 * reaches them (lazy sweeping), so a dead object is touched once, when its
 * slot is reused. Large objects have their mark bits in an array too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "eval/internal.h"

#define EV_CHUNK_SHIFT 18
#define EV_CHUNK_BYTES ((size_t)1 << EV_CHUNK_SHIFT)
#define EV_CHUNK_GRAINS (EV_CHUNK_BYTES / EV_GRAIN)
#define EV_CHUNK_WORDS (EV_CHUNK_GRAINS / 64)

typedef struct ev_chunk {
    struct ev_chunk *next;          /* in its class, or among the unused chunks */
    struct ev_chunk *next_pending;
    uint32_t size;                  /* slot size */
    uint32_t first;                 /* offset of slot 0 */
    uint32_t nslots;
    uint32_t cursor;                /* slots before it are taken this cycle */
    uint32_t inv;                   /* ceil(2^32 / size): slot index by multiplication */
    uint16_t released;              /* unused, its memory (past the header) given back */
    uint16_t idle;                  /* collections it has stayed unused through */
    uint64_t bits[EV_CHUNK_WORDS];  /* a bit per grain, set at a marked object's first */
} ev_chunk;

#define EV_CHUNK_FIRST ((sizeof(ev_chunk) + EV_GRAIN - 1) & ~(size_t)(EV_GRAIN - 1))

/* Medium objects (up to EV_MEDIUM_MAX) live in chunks too, in classes eight
 * to a doubling of size (at most 1/8 lost to rounding; sixteen to a
 * doubling left more chunks partly used, a larger footprint on nixpkgs):
 * most nixpkgs attribute sets are 0.5 to 4 KiB. Only larger objects are
 * mapped singly. */
#define EV_MEDIUM_MAX 32768u
#define EV_MEDIUM_LOG_STEPS 3u
#define EV_NMEDIUM (6u << EV_MEDIUM_LOG_STEPS)     /* 576 .. 32768 */
#define EV_NALL (EV_NCLASS + EV_NMEDIUM)

typedef struct ev_class {
    ev_chunk *chunks;       /* all chunks of the class */
    ev_chunk *cur;          /* the chunk free runs are being taken from */
    ev_chunk *pending;      /* chunks with free slots not reached since the last collection */
} ev_class;

typedef struct ev_large {
    size_t idx;             /* in ev_pool.large */
    size_t size;
    uint64_t pad;
    /* the object follows */
} ev_large;

struct ev_pool {
    ev_class cls[EV_NALL];
    ev_bump medium_bump[EV_NMEDIUM];    /* the small classes' are S->bump, inline */
    char *region;           /* reserved address range, chunk-aligned */
    size_t reserved, carved;
    char *mapping;          /* what to unmap */
    size_t mapping_len;
    ev_chunk *unused;       /* chunks a collection found empty, for any class */
    size_t nunused;
    /* Large objects by index (NULL: a free index), with their sizes and mark
     * bits alongside, so sweeping them reads only these arrays. */
    ev_large **large;
    size_t *large_size;
    uint64_t *large_bits;
    size_t *large_free;     /* free indices */
    size_t nlarge, caplarge, nlarge_free;
};

static inline size_t slot_grain(const ev_chunk *ch, uint32_t i)
{
    return (ch->first + (size_t)i * ch->size) / EV_GRAIN;
}

static inline bool slot_marked(const ev_chunk *ch, uint32_t i)
{
    size_t g = slot_grain(ch, i);
    return (ch->bits[g / 64] >> (g % 64)) & 1;
}

/* the first marked slot from i on, or ch->nslots */
static uint32_t next_marked(const ev_chunk *ch, uint32_t i)
{
    if (i >= ch->nslots)
        return ch->nslots;
    size_t g = slot_grain(ch, i);
    while (g < EV_CHUNK_GRAINS) {
        uint64_t w = ch->bits[g / 64] >> (g % 64);
        if (w) {
            g += (size_t)__builtin_ctzll(w);
            return (uint32_t)(((g * EV_GRAIN - ch->first) * (uint64_t)ch->inv) >> 32);
        }
        g = (g / 64 + 1) * 64;
    }
    return ch->nslots;
}

/* Grow by half the live size: peak memory stays near 1.5x live. The floor
 * keeps small evaluations from collecting over and over; chunk-allocated
 * medium objects are counted at their class size, so it is a little lower
 * than when malloc held them (12 MiB), for the same footprint. */
#define EV_GC_FLOOR ((size_t)10 << 20)

static size_t next_threshold(size_t live)
{
    size_t next = live + live / 2;
    return next < EV_GC_FLOOR ? EV_GC_FLOOR : next;
}

/* The address range is reserved once (not committed): chunks are carved
 * from it as the heap grows. Half the address-space limit at most, so a
 * ulimit -v leaves room for everything else. */
void ev_gc_init(ev_state *S)
{
    ev_pool *P = ut_xcalloc(1, sizeof(ev_pool));
    size_t want = (size_t)64 << 30;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < want)
        want = rl.rlim_cur / 2;
    for (; want >= ((size_t)16 << 20); want /= 2) {
        size_t len = want + EV_CHUNK_BYTES;
        char *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            continue;
        P->mapping = m;
        P->mapping_len = len;
        P->region = (char *)(((uintptr_t)m + EV_CHUNK_BYTES - 1) & ~(uintptr_t)(EV_CHUNK_BYTES - 1));
        P->reserved = want;
        break;
    }
    if (!P->region)
        ut_die("out of memory: cannot reserve address space for the evaluator heap");
    S->pools = P;
    S->large = NULL;
    S->heap_bytes = 0;
    S->gc_threshold = next_threshold(0);
}

/* Large objects are mapped whole, so freeing one gives its memory back at
 * once: left in malloc's arena it could serve neither chunks nor, often,
 * the next large object. */
static size_t large_len(size_t size)
{
    return (sizeof(ev_large) + size + 4095) & ~(size_t)4095;
}

static void large_free(ev_large *l)
{
    munmap(l, large_len(l->size));
}

void ev_gc_free_all(ev_state *S)
{
    ev_pool *P = S->pools;
    if (!P)
        return;
    if (S->gc_stats)
        fprintf(stderr, "gc: %llu collections, heap %zu KiB at the end\n", (unsigned long long)S->gc_count,
                S->heap_bytes >> 10);
    munmap(P->mapping, P->mapping_len);
    for (size_t i = 0; i < P->nlarge; i++)
        if (P->large[i])
            large_free(P->large[i]);
    free(P->large);
    free(P->large_size);
    free(P->large_bits);
    free(P->large_free);
    free(P);
    S->pools = NULL;
}

#define EV_POPULATE_AFTER ((size_t)32 << 20)

static ev_chunk *chunk_get(ev_pool *P)
{
    if (P->unused) {
        ev_chunk *ch = P->unused;
        P->unused = ch->next;
        P->nunused--;
        ch->released = 0;
        return ch;
    }
    if (P->reserved - P->carved < EV_CHUNK_BYTES)
        ut_die("out of memory: the evaluator heap is full (%zu MiB)", P->reserved >> 20);
    char *c = P->region + P->carved;
    if (mprotect(c, EV_CHUNK_BYTES, PROT_READ | PROT_WRITE) != 0)
        ut_die("out of memory: cannot commit evaluator heap memory");
#ifdef MADV_POPULATE_WRITE
    /* Touching a fresh page costs a fault each (dearer still in a virtual
     * machine); a big heap fills its chunks, so fault them in at once. A
     * small one leaves many chunks partly used: those stay lazy. */
    if (P->carved >= EV_POPULATE_AFTER)
        (void)madvise(c, EV_CHUNK_BYTES, MADV_POPULATE_WRITE);
#endif
    P->carved += EV_CHUNK_BYTES;
    ((ev_chunk *)c)->released = 0;
    return (ev_chunk *)c;
}

/* The class of a medium size (EV_SMALL_MAX < size <= EV_MEDIUM_MAX), and
 * the size rounded up to it */
static inline unsigned medium_class(size_t *size)
{
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(*size - 1));
    unsigned shift = lg - EV_MEDIUM_LOG_STEPS;
    size_t idx = (*size - 1 - ((size_t)1 << lg)) >> shift;
    *size = ((size_t)1 << lg) + ((idx + 1) << shift);
    return EV_NCLASS + ((lg - 9) << EV_MEDIUM_LOG_STEPS) + (unsigned)idx;
}

/* The next run of free slots of class c, handed to its bump allocator;
 * returns its first slot, already taken. */
static ev_gch *chunk_refill(ev_state *S, unsigned c, size_t size, ev_bump *bp)
{
    ev_pool *P = S->pools;
    ev_class *cl = &P->cls[c];
    for (;;) {
        ev_chunk *ch = cl->cur;
        if (ch) {
            uint32_t i = ch->cursor;
            size_t g = slot_grain(ch, i), step = size / EV_GRAIN;
            while (i < ch->nslots && ((ch->bits[g / 64] >> (g % 64)) & 1)) {
                i++;
                g += step;
            }
            if (i < ch->nslots) {
                uint32_t j = next_marked(ch, i + 1);
                ch->cursor = j;
                char *base = (char *)ch + ch->first;
                bp->next = base + (size_t)(i + 1) * size;
                bp->limit = base + (size_t)j * size;
                return (ev_gch *)(base + (size_t)i * size);
            }
            ch->cursor = ch->nslots;
            cl->cur = NULL;
        }
        if (cl->pending) {
            cl->cur = cl->pending;
            cl->pending = cl->cur->next_pending;
            continue;
        }
        ch = chunk_get(P);
        ch->size = (uint32_t)size;
        ch->first = (uint32_t)EV_CHUNK_FIRST;
        ch->nslots = (uint32_t)((EV_CHUNK_BYTES - EV_CHUNK_FIRST) / size);
        ch->cursor = 0;
        ch->inv = (uint32_t)((((uint64_t)1 << 32) + size - 1) / size);
        memset(ch->bits, 0, sizeof ch->bits);
        ch->next = cl->chunks;
        cl->chunks = ch;
        cl->cur = ch;
    }
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

static ev_gch *large_alloc(ev_pool *P, size_t size, size_t zero)
{
    (void)zero;     /* fresh mappings read as zeros */
    /* its pages are all written at once (a list filled, a string copied):
     * faulting them in with the mapping saves a fault per page */
    ev_large *l = mmap(NULL, large_len(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (l == MAP_FAILED)
        ut_die("out of memory (a %zu-byte evaluator object)", size);
    size_t idx;
    if (P->nlarge_free) {
        idx = P->large_free[--P->nlarge_free];
    } else {
        if (P->nlarge == P->caplarge) {
            size_t cap = P->caplarge ? 2 * P->caplarge : 1024;
            P->large = ut_xrealloc(P->large, cap * sizeof *P->large);
            P->large_size = ut_xrealloc(P->large_size, cap * sizeof *P->large_size);
            P->large_free = ut_xrealloc(P->large_free, cap * sizeof *P->large_free);
            P->large_bits = ut_xrealloc(P->large_bits, cap / 64 * sizeof *P->large_bits);
            memset(P->large_bits + P->caplarge / 64, 0, (cap - P->caplarge) / 64 * sizeof *P->large_bits);
            P->caplarge = cap;
        }
        idx = P->nlarge++;
    }
    P->large[idx] = l;
    P->large_size[idx] = size;
    l->idx = idx;
    l->size = size;
    return (ev_gch *)(l + 1);
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
        unsigned c = (unsigned)(size / EV_GRAIN - 1);
        ev_bump *bp = &S->bump[c];
        if ((size_t)(bp->limit - bp->next) >= size) {
            h = (ev_gch *)bp->next;
            bp->next += size;
        } else {
            h = chunk_refill(S, c, size, bp);
        }
        memset(h, 0, size);
    } else if (size <= EV_MEDIUM_MAX) {
        unsigned c = medium_class(&size);
        ev_bump *bp = &S->pools->medium_bump[c - EV_NCLASS];
        if ((size_t)(bp->limit - bp->next) >= size) {
            h = (ev_gch *)bp->next;
            bp->next += size;
        } else {
            h = chunk_refill(S, c, size, bp);
        }
        memset(h, 0, zero < size ? zero : size);
    } else {
        h = large_alloc(S->pools, size, zero);
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
    uintptr_t lo;           /* the carved chunk range */
    size_t span;
    ev_large *const *large;
    uint64_t *large_bits;
    size_t nlarge;
} ev_markstack;

static void ms_grow(ev_markstack *m)
{
    m->cap = m->cap ? m->cap * 2 : 4096;
    m->v = ut_xrealloc(m->v, m->cap * sizeof *m->v);
}

/* Sets o's mark bit; true if it was clear (o is to be scanned). */
static inline bool ms_mark(ev_markstack *m, ev_gch *o)
{
    uintptr_t off = (uintptr_t)o - m->lo;
    uint64_t *word, bit;
    if (off < m->span) {
        size_t g = (off & (EV_CHUNK_BYTES - 1)) / EV_GRAIN;
        word = &((ev_chunk *)((uintptr_t)o & ~(uintptr_t)(EV_CHUNK_BYTES - 1)))->bits[g / 64];
        bit = (uint64_t)1 << (g % 64);
    } else {
        if (!o || (o->flags & EV_GC_STATIC))
            return false;
        size_t i = ((ev_large *)o - 1)->idx;
        if (i >= m->nlarge || m->large[i] != (ev_large *)o - 1)
            ut_die("internal error: the collector reached an object outside the heap (kind %d)", o->kind);
        word = &m->large_bits[i / 64];
        bit = (uint64_t)1 << (i % 64);
    }
    if (*word & bit)
        return false;
    *word |= bit;
    return true;
}

static inline void ms_push(ev_markstack *m, ev_gch *o)
{
    if (!ms_mark(m, o))
        return;
    __builtin_prefetch(o);
    if (m->n == m->cap)
        ms_grow(m);
    m->v[m->n++] = o;
}

/* value types whose payload is a heap object to mark (EV_PRIMOP's are static) */
#define EV_MARK_TYPES \
    ((1u << EV_APPI) | (1u << EV_LREF) | (1u << EV_STRING) | (1u << EV_ATTRS) | (1u << EV_LIST) | (1u << EV_LAMBDA) | \
     (1u << EV_PRIMOP_APP) | (1u << EV_ENV) | (1u << EV_BOXV))

static inline __attribute__((always_inline)) void mark_value(ev_markstack *m, ev_value *v)
{
    for (;;) {
        unsigned t = v->type;
        if (t == EV_THUNK) {
            ev_thunk *th = v->u.t;
            if (EV_TH_STATE(th) == EV_TH_DONE && !(th->h.flags & EV_TH_BH)) {
                *v = th->u.v;     /* short-circuit the indirection */
                continue;
            }
            ms_push(m, &th->h);
        } else if (t == EV_PATH) {
            ms_mark(m, v->u.obj);   /* a path has no context: nothing inside to mark */
        } else if (t < 32 && ((EV_MARK_TYPES >> t) & 1)) {
            ms_push(m, v->u.obj);
        }
        return;
    }
}

static void mark_children(ev_markstack *m, ev_gch *o)
{
    switch (o->kind) {
    case EV_OBJ_STRING: {
        ev_string *s = (ev_string *)o;
        if (s->ctx)
            ms_mark(m, &s->ctx->h);     /* contexts hold only C strings */
        break;
    }
    case EV_OBJ_ATTRS: {
        ev_attrs *a = (ev_attrs *)o;
        /* a thunk child is read to see whether it is evaluated: issue those
         * loads at once, marking is bound by misses */
        for (uint32_t i = 0; i < a->h.n; i++)
            if (a->a[i].value.type == EV_THUNK)
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
            if (e->v[i].type == EV_THUNK)
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

static void mark(ev_state *S)
{
    ev_pool *P = S->pools;
    ev_markstack m = {.lo = (uintptr_t)P->region, .span = P->carved, .large = P->large,
                      .large_bits = P->large_bits, .nlarge = P->nlarge};
    mark_roots(S, &m);
    while (m.n)
        mark_children(&m, m.v[--m.n]);
    free(m.v);
}

/* ---- sweeping ---------------------------------------------------------- */

#define EV_POISON 0xa5a5a5a5a5a5a5a5ull

/* Under stress a stale reference must read garbage, not the dead object's
 * intact fields. A slot still poisoned from an earlier collection has not
 * been reused since and is skipped. */
static void poison_dead(ev_chunk *ch)
{
    for (uint32_t i = 0; i < ch->nslots; i++) {
        if (slot_marked(ch, i))
            continue;
        char *p = (char *)ch + ch->first + (size_t)i * ch->size;
        uint64_t w;
        memcpy(&w, p, sizeof w);
        if (w != EV_POISON)
            memset(p, 0xa5, ch->size);
    }
}

/* Counts what the marks left live. A chunk with nothing live goes to the
 * unused chunks, for any class; the others are queued for the allocator,
 * which takes their free slots as it reaches them. */
static void sweep(ev_state *S)
{
    ev_pool *P = S->pools;
    size_t live = 0, pending_free = 0;
    for (unsigned c = 0; c < EV_NALL; c++) {
        ev_class *cl = &P->cls[c];
        ev_chunk **pend = &cl->pending;
        ev_bump *bp = c < EV_NCLASS ? &S->bump[c] : &P->medium_bump[c - EV_NCLASS];
        bp->next = bp->limit = NULL;
        cl->cur = NULL;
        for (ev_chunk **pp = &cl->chunks; *pp;) {
            ev_chunk *ch = *pp;
            size_t n = 0;
            for (size_t w = 0; w < EV_CHUNK_WORDS; w++)
                n += (size_t)__builtin_popcountll(ch->bits[w]);
            if (n == 0) {
                *pp = ch->next;
                if (S->gc_stress)
                    memset((char *)ch + ch->first, 0xa5, EV_CHUNK_BYTES - ch->first);
                ch->next = P->unused;
                ch->idle = 0;
                P->unused = ch;
                P->nunused++;
                continue;
            }
            live += n * ch->size;
            ch->cursor = 0;
            if (n < ch->nslots) {
                *pend = ch;
                pend = &ch->next_pending;
                pending_free += (ch->nslots - n) * (size_t)ch->size;
            }
            if (S->gc_stress)
                poison_dead(ch);
            pp = &ch->next;
        }
        *pend = NULL;
    }
    for (size_t i = 0; i < P->nlarge; i++) {
        if (!P->large[i])
            continue;
        if ((P->large_bits[i / 64] >> (i % 64)) & 1) {
            live += P->large_size[i];
        } else {
            large_free(P->large[i]);
            P->large[i] = NULL;
            P->large_free[P->nlarge_free++] = i;
        }
    }
    S->heap_bytes = live;
    /* Unused chunks beyond what the allocation until the next collection
     * can take (after the free slots of partly used chunks), and unused
     * through a whole cycle already, are given back to the kernel: a
     * collection that frees much lowers the footprint, one that frees
     * about what the next cycle allocates does not churn. The header page
     * stays, it links the chunk. */
    size_t room = next_threshold(live) - live;
    size_t keep = room > pending_free ? (room - pending_free) / EV_CHUNK_BYTES + 1 : 1;
    size_t k = 0;
    for (ev_chunk *ch = P->unused; ch; ch = ch->next) {
        if (++k > keep && ch->idle >= 1 && !ch->released) {
            madvise((char *)ch + 4096, EV_CHUNK_BYTES - 4096, MADV_DONTNEED);
            ch->released = 1;
        }
        if (ch->idle < UINT16_MAX)
            ch->idle++;
    }
}

/* STRAYLIGHT_GC_STATS: live objects by kind (this reads every live object,
 * so it runs outside the timed part) */
static void census(ev_state *S)
{
    ev_pool *P = S->pools;
    size_t census_n[32] = {0}, census_b[32] = {0};
    size_t large_n = 0, large_b = 0;
    for (unsigned c = 0; c < EV_NALL; c++)
        for (ev_chunk *ch = P->cls[c].chunks; ch; ch = ch->next)
            for (uint32_t i = next_marked(ch, 0); i < ch->nslots; i = next_marked(ch, i + 1)) {
                ev_gch *h = (ev_gch *)((char *)ch + ch->first + (size_t)i * ch->size);
                if (h->kind < 32) {
                    census_n[h->kind]++;
                    census_b[h->kind] += ch->size;
                }
            }
    for (size_t i = 0; i < P->nlarge; i++) {
        if (!P->large[i])
            continue;
        ev_gch *h = (ev_gch *)(P->large[i] + 1);
        if (h->kind < 32) {
            census_n[h->kind]++;
            census_b[h->kind] += P->large_size[i];
        }
        large_n++;
        large_b += P->large_size[i];
    }
    for (int k = 0; k < 32; k++)
        if (census_n[k])
            fprintf(stderr, "  kind %d: %zu objects, %zu KiB\n", k, census_n[k], census_b[k] >> 10);
    fprintf(stderr, "  large objects: %zu, %zu KiB; chunks: %zu carved, %zu unused\n", large_n, large_b >> 10,
            P->carved / EV_CHUNK_BYTES, P->nunused);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void ev_gc_collect(ev_state *S)
{
    ev_pool *P = S->pools;
    size_t before = S->heap_bytes;
    double t0 = S->gc_stats ? now_ms() : 0;
    for (unsigned c = 0; c < EV_NALL; c++)
        for (ev_chunk *ch = P->cls[c].chunks; ch; ch = ch->next)
            memset(ch->bits, 0, sizeof ch->bits);
    if (P->caplarge)
        memset(P->large_bits, 0, P->caplarge / 64 * sizeof *P->large_bits);
    mark(S);
    double t1 = S->gc_stats ? now_ms() : 0;
    sweep(S);
    S->gc_count++;
    if (S->gc_stats) {
        double t2 = now_ms();
        census(S);
        fprintf(stderr, "gc %llu: heap %zu -> %zu KiB live, %.1f ms (mark %.1f, sweep %.1f)\n",
                (unsigned long long)S->gc_count, before >> 10, S->heap_bytes >> 10, t2 - t0, t1 - t0, t2 - t1);
    }
    S->gc_threshold = next_threshold(S->heap_bytes);
}

void ev_gc_safepoint_slow(ev_state *S)
{
    ev_gc_collect(S);
}
