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
 * slot is reused. Large objects have their mark bits in an array too.
 *
 * Collection is generational with sticky mark bits. An object that survived
 * a collection keeps its mark bit and is old; the allocator hands out only
 * unmarked slots, so every object allocated since is young. A minor
 * collection leaves the bits as they are and traces from
 *   - the roots,
 *   - the objects the roots referred to directly at the previous
 *     collection (kept in a list),
 *   - the old objects in cards (256-byte spans of the heap) written since
 *     the last collection: ev_gc_write records the card of a slot written,
 *     and a card's arrays (attribute sets, lists, environments) are scanned
 *     only over the slots in it, smaller objects whole,
 *   - every old large object (they are few),
 * and stops at marked objects; the sweep then reclaims only young dead
 * ones. A full collection (the bits cleared first) runs when the marked
 * bytes have doubled since the last full one, and every time while a full
 * one finds less than 32 MiB live (see collect).
 *
 * The invariant a minor collection relies on: after it, no marked object
 * refers to an unmarked one. It holds if every store of a heap reference
 * into an object O either records the slot (ev_gc_write; ev_gc_write_obj
 * for a thunk's update, which skips a young thunk), or happens while O is
 * young (allocated after the last collection), or O was referred to
 * directly by a root at the last collection. The last case covers objects
 * under construction: a builtin that fills a list while calling back into
 * Nix keeps the list in a stack slot, and a collection in between leaves
 * it in the list that the next minor collection rescans. The thunk
 * updates, the in-place writes of forcing (ev_force_slow on a slot of an
 * attribute set, list or environment, ev_share's thunk for a generated
 * element) and the calls' output slots record their writes; stores into
 * stack slots and large objects need not. The collector's own
 * short-circuiting of a forced thunk's slot stores what it is marking.
 *
 * STRAYLIGHT_GC_VERIFY=1 checks the invariant after every collection (it
 * reads the whole heap) and aborts naming the two objects' kinds if a
 * marked object refers to an unmarked one: after a minor collection that
 * is a store the barrier missed. STRAYLIGHT_GC_STRESS=1 collects at every
 * safe point (minor, every eighth full) and poisons dead objects;
 * STRAYLIGHT_GC_STRESS=2 does so at random safe points only, so a store
 * into an old object can come without a collection in between (with
 * every safe point collecting, a thunk being forced is always one the
 * roots referred to, and a missing barrier on its update would not show).
 *
 * Big collections are marked by two threads (see "parallel marking"; the
 * evaluator itself stays single-threaded). STRAYLIGHT_GC_THREADS=1 keeps
 * marking on the evaluator's thread; under stress every third collection
 * is marked in parallel, so that the small heaps of the tests take that
 * path too. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "eval/internal.h"

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
    uint32_t fresh;                 /* bytes from the start already faulted in */
    uint64_t bits[EV_CHUNK_WORDS];  /* a bit per grain, set at a marked object's first */
} ev_chunk;

_Static_assert(offsetof(ev_chunk, bits) == EV_CHUNK_BITS_AT, "the write barrier's view of a chunk header");

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
    char *region;           /* reserved address range, aligned to EV_HUGE_BYTES */
    size_t reserved, carved;
    size_t committed;       /* made accessible, in EV_HUGE_BYTES steps */
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
    /* the objects the roots referred to directly at the last collection,
     * rescanned by the next minor one */
    ev_gch **rooted;
    size_t nrooted, caprooted;
    size_t cards_len;       /* the card table's mapping */
    size_t live_full;       /* live bytes after the last full collection */
    bool next_full;
    uint64_t nminor, nfull;
    uint64_t nsafepoints;   /* under STRAYLIGHT_GC_STRESS=2 */
    struct ev_marksync *sync;   /* the marking helper, once started */
    struct ev_prefault *pf;     /* the faulting-in helper, once started */
    bool single;            /* no helper: STRAYLIGHT_GC_THREADS=1, or none could be started */
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

/* Grow by the live size: peak memory stays near 2x live. Most of what
 * nixpkgs allocates survives, so a collection costs about what it finds
 * alive plus the written cards and roots it scans: collecting at 1.5x
 * did that half as often again (a fifth more collection time on the
 * package-set walk) for a tenth less peak memory. The floor
 * keeps small evaluations from collecting over and over; chunk-allocated
 * medium objects are counted at their class size, so it is a little lower
 * than when malloc held them (12 MiB), for the same footprint. */
#define EV_GC_FLOOR ((size_t)10 << 20)

static size_t next_threshold(size_t live)
{
    size_t next = live * 2;
    return next < EV_GC_FLOOR ? EV_GC_FLOOR : next;
}

/* Touching a fresh page costs a fault each (dearer still in a virtual
 * machine). A chunk's untouched memory is handed to the allocator a window
 * at a time, each faulted in with one call; small heaps leave many chunks
 * partly used, so a whole chunk at once would cost them memory. */
#define EV_POPULATE_WINDOW ((size_t)16 << 10)
#define EV_POPULATE_AFTER ((size_t)32 << 20)

/* The heap is committed in units of a transparent huge page: the collector
 * and the evaluator chase pointers across the whole heap, and with 4 KiB
 * pages a nixpkgs heap of 150 MB needs far more TLB entries than a core has
 * (each miss a page walk, two-dimensional in a virtual machine), and a fault
 * per page. Where the kernel gives huge pages only on request, the range asks
 * for them; where it gives none, the units are ordinary pages. */
#define EV_HUGE_BYTES ((size_t)2 << 20)
_Static_assert(EV_HUGE_BYTES % EV_CHUNK_BYTES == 0 && EV_POPULATE_AFTER % EV_HUGE_BYTES == 0,
               "chunks tile a huge page, and huge pages the heap past EV_POPULATE_AFTER");

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
        size_t len = want + EV_HUGE_BYTES;
        char *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            continue;
        P->mapping = m;
        P->mapping_len = len;
        P->region = (char *)(((uintptr_t)m + EV_HUGE_BYTES - 1) & ~(uintptr_t)(EV_HUGE_BYTES - 1));
        P->reserved = want;
        break;
    }
    if (!P->region)
        ut_die("out of memory: cannot reserve address space for the evaluator heap");
#ifdef MADV_HUGEPAGE
    /* a hint (refused: the pages are small). Not for the first
     * EV_POPULATE_AFTER bytes: a small heap leaves many chunks part used,
     * and a huge page is backed whole. */
    if (P->reserved > EV_POPULATE_AFTER)
        (void)madvise(P->region + EV_POPULATE_AFTER, P->reserved - EV_POPULATE_AFTER, MADV_HUGEPAGE);
#endif
    P->cards_len = want >> EV_CARD_SHIFT;
    S->gc_cards = mmap(NULL, P->cards_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (S->gc_cards == MAP_FAILED)
        ut_die("out of memory: cannot reserve the evaluator heap's card table");
    S->gc_lo = (uintptr_t)P->region;
    S->gc_span = want;
    P->next_full = true;
    const char *th = getenv("STRAYLIGHT_GC_THREADS");
    P->single = th && strcmp(th, "1") == 0;
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

static void mark_sync_free(ev_pool *P);
static void prefault_stop(ev_pool *P, bool stats);
void ev_gc_free_all(ev_state *S)
{
    ev_pool *P = S->pools;
    if (!P)
        return;
    mark_sync_free(P);
    prefault_stop(P, S->gc_stats);
    if (S->gc_stats)
        fprintf(stderr, "gc: %llu collections (%llu full), heap %zu KiB at the end\n",
                (unsigned long long)S->gc_count, (unsigned long long)P->nfull, S->heap_bytes >> 10);
    munmap(P->mapping, P->mapping_len);
    munmap(S->gc_cards, P->cards_len);
    S->gc_cards = NULL;
    S->gc_span = 0;
    free(P->rooted);
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


/* ---- the collector's helper threads -------------------------------------
 * Each is started with its lock and condition, every signal blocked (they
 * are for the evaluator's thread to take), and stopped by setting its quit
 * flag under the lock, waking it and joining it. */
static bool helper_start(pthread_t *th, pthread_mutex_t *mu, pthread_cond_t *cv, void *(*fn)(void *), void *arg)
{
    pthread_mutex_init(mu, NULL);
    pthread_cond_init(cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = pthread_create(th, NULL, fn, arg) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok) {
        pthread_cond_destroy(cv);
        pthread_mutex_destroy(mu);
    }
    return ok;
}

static void helper_stop(pthread_t th, pthread_mutex_t *mu, pthread_cond_t *cv, bool *quit)
{
    pthread_mutex_lock(mu);
    *quit = true;
    pthread_cond_broadcast(cv);
    pthread_mutex_unlock(mu);
    pthread_join(th, NULL);
    pthread_cond_destroy(cv);
    pthread_mutex_destroy(mu);
}

/* ---- faulting in ahead ---------------------------------------------------
 *
 * Past EV_POPULATE_AFTER the heap is used whole, a huge page after another,
 * and the kernel clears each huge page at its first touch: 2 MiB zeroed
 * while the evaluator waits (4% of the nixpkgs walk's evaluator thread). A
 * helper commits and touches the next EV_PREFAULT_AHEAD bytes beyond the
 * carving, on the other core, so that the evaluator finds them present.
 * It touches only memory no chunk has been carved from, so nothing it
 * writes is read; the evaluator waits for it only if it reaches the huge
 * page being touched. Touching is a write fault, which takes the kernel's
 * lock of this mapping alone, not the address space's (a populating
 * madvise, tried first, held that, and the evaluator's mmap and mprotect
 * calls queued behind it). */
#define EV_PREFAULT_AHEAD (2 * EV_HUGE_BYTES)

typedef struct ev_prefault {
    pthread_t th;
    pthread_mutex_t mu;     /* guards what follows, and P->committed */
    pthread_cond_t cv;
    size_t touched;         /* from EV_POPULATE_AFTER up to here: present, or claimed by the evaluator */
    size_t touching;        /* the helper is touching [touched, touching) */
    size_t want;            /* the helper's goal */
    bool quit;
    /* for STRAYLIGHT_GC_STATS: huge pages the helper faulted in, those the
     * evaluator had to take itself, and its waits for the helper */
    size_t nahead, nclaimed, nwaits;
} ev_prefault;

/* Makes [0, upto) of the region accessible; under pf->mu once the helper runs. */
static void commit_upto(ev_pool *P, size_t upto)
{
    while (upto > P->committed) {
        /* a whole huge page at once, so it can be backed by one */
        size_t n = P->reserved - P->committed < EV_HUGE_BYTES ? P->reserved - P->committed : EV_HUGE_BYTES;
        if (mprotect(P->region + P->committed, n, PROT_READ | PROT_WRITE) != 0)
            ut_die("out of memory: cannot commit evaluator heap memory");
        P->committed += n;
    }
}

static void *prefault_helper(void *arg)
{
    ev_pool *P = arg;
    ev_prefault *pf = P->pf;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (!pf->quit && pf->touched >= pf->want)
            pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->quit)
            break;
        size_t at = pf->touched, end = at + EV_HUGE_BYTES;
        if (end > P->reserved)
            end = P->reserved;
        if (end <= at) {
            pf->want = at;
            continue;
        }
        commit_upto(P, end);
        pf->touching = end;
        pthread_mutex_unlock(&pf->mu);
        /* the first write gets a huge page if the kernel has one; the rest
         * fault in small pages where it had none */
        for (size_t o = at; o < end; o += 4096)
            *(volatile char *)(P->region + o) = 0;
        pthread_mutex_lock(&pf->mu);
        pf->touched = end;
        pf->nahead++;
        pthread_cond_broadcast(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

static void prefault_start(ev_pool *P)
{
    ev_prefault *pf = ut_xcalloc(1, sizeof *pf);
    pf->touched = pf->touching = pf->want = P->carved;
    P->pf = pf;
    if (!helper_start(&pf->th, &pf->mu, &pf->cv, prefault_helper, P)) {
        free(pf);
        P->pf = NULL;
        P->single = true;
    }
}

static void prefault_stop(ev_pool *P, bool stats)
{
    ev_prefault *pf = P->pf;
    if (!pf)
        return;
    helper_stop(pf->th, &pf->mu, &pf->cv, &pf->quit);
    if (stats)
        fprintf(stderr, "gc: huge pages faulted in ahead %zu, by the evaluator %zu; waits %zu\n", pf->nahead,
                pf->nclaimed, pf->nwaits);
    free(pf);
    P->pf = NULL;
}

/* Readies [c, c + EV_CHUNK_BYTES) with the helper running; true if the
 * helper has faulted it in. */
static bool prefault_take(ev_pool *P, size_t c)
{
    ev_prefault *pf = P->pf;
    size_t end = c + EV_CHUNK_BYTES;
    bool present;
    pthread_mutex_lock(&pf->mu);
    if (c < pf->touching && end > pf->touched)
        pf->nwaits++;
    while (c < pf->touching && end > pf->touched)
        pthread_cond_wait(&pf->cv, &pf->mu);
    present = end <= pf->touched;
    if (!present) {
        /* the helper is behind: this huge page is the evaluator's */
        size_t upto = (end + EV_HUGE_BYTES - 1) & ~(EV_HUGE_BYTES - 1);
        commit_upto(P, upto);
        pf->touched = pf->touching = upto;
        pf->nclaimed++;
    }
    size_t want = ((end + EV_HUGE_BYTES - 1) & ~(EV_HUGE_BYTES - 1)) + EV_PREFAULT_AHEAD;
    if (want > pf->want) {
        pf->want = want;
        pthread_cond_broadcast(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
    return present;
}

static ev_chunk *chunk_get(ev_pool *P)
{
    if (P->unused) {
        ev_chunk *ch = P->unused;
        P->unused = ch->next;
        P->nunused--;
        if (ch->released)
            ch->fresh = 0;
        ch->released = 0;
        return ch;
    }
    if (P->reserved - P->carved < EV_CHUNK_BYTES)
        ut_die("out of memory: the evaluator heap is full (%zu MiB)", P->reserved >> 20);
    char *c = P->region + P->carved;
    bool present = false;
    if (P->carved >= EV_POPULATE_AFTER && !P->pf && !P->single)
        prefault_start(P);
    if (P->pf)
        present = prefault_take(P, P->carved);
    else
        commit_upto(P, P->carved + EV_CHUNK_BYTES);
    ((ev_chunk *)c)->fresh = 0;
    if (P->carved >= EV_POPULATE_AFTER) {
        /* a big heap fills its chunks: one call for the whole chunk */
        if (!present)
            ut_populate(c, EV_CHUNK_BYTES);
        ((ev_chunk *)c)->fresh = (uint32_t)EV_CHUNK_BYTES;
    }
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
                char *base = (char *)ch + ch->first;
                size_t end = ch->first + (size_t)j * size;
                if (end > ch->fresh) {
                    size_t from = ch->first + (size_t)i * size;
                    if (from < ch->fresh)
                        from = ch->fresh;
                    size_t to = from + EV_POPULATE_WINDOW;
                    if (to < end) {
                        /* stop the run at the last slot the window holds whole */
                        uint32_t k = (uint32_t)((((to - ch->first) / size)));
                        if (k > i) {
                            j = k;
                            end = ch->first + (size_t)j * size;
                        }
                    }
                    if (end > ch->fresh) {
                        /* chunks are page-aligned: whole pages from fresh on */
                        size_t upto = (end + 4095) & ~(size_t)4095;
                        ut_populate((char *)ch + ch->fresh, upto - ch->fresh);
                        ch->fresh = (uint32_t)upto;
                    }
                }
                ch->cursor = j;
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

/* Big heaps are marked by two threads: the evaluator's and a helper kept
 * per state (see "parallel marking" below). An object is scanned by the
 * thread whose atomic test-and-set of its mark bit found it clear, and
 * only that thread writes its slots (the short-circuit of a forced thunk),
 * so no slot is written by two threads or read by one while the other
 * writes it: a forced thunk read through another object's slot is not
 * written by its own scan, its value being a value in weak head normal
 * form, never a thunk. The marking functions are instantiated twice: with
 * par false (small collections, the roots and cards) they use plain loads
 * and stores, a locked instruction per marked object being a cost a
 * single thread need not pay. */
typedef struct ev_marksync ev_marksync;

typedef struct ev_markstack {
    ev_gch **v;
    size_t n, cap;
    uintptr_t lo;           /* the carved chunk range */
    size_t span;
    ev_large *const *large;
    uint64_t *large_bits;
    size_t nlarge;
    ev_marksync *sync;      /* shared with the other thread while marking in parallel */
    size_t scanned;         /* objects scanned (in parallel: for the statistics) */
} ev_markstack;

#define EV_MARK_INLINE static inline __attribute__((always_inline))

static void ms_grow(ev_markstack *m)
{
    m->cap = m->cap ? m->cap * 2 : 4096;
    m->v = ut_xrealloc(m->v, m->cap * sizeof *m->v);
}

/* Sets o's mark bit; true if it was clear (o is to be scanned). Relaxed
 * is enough in parallel: the bit publishes nothing, it only elects the
 * thread that scans o (the heap was written before marking began). */
EV_MARK_INLINE bool ms_mark_t(ev_markstack *m, ev_gch *o, bool par)
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
    if (par) {
        /* most edges lead to marked objects: a plain read settles those */
        _Atomic uint64_t *aw = (_Atomic uint64_t *)word;
        if (atomic_load_explicit(aw, memory_order_relaxed) & bit)
            return false;
        return !(atomic_fetch_or_explicit(aw, bit, memory_order_relaxed) & bit);
    }
    if (*word & bit)
        return false;
    *word |= bit;
    return true;
}

EV_MARK_INLINE void ms_push_t(ev_markstack *m, ev_gch *o, bool par)
{
    if (!ms_mark_t(m, o, par))
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

EV_MARK_INLINE void mark_value_t(ev_markstack *m, ev_value *v, bool par)
{
    for (;;) {
        unsigned t = v->type;
        if (t == EV_THUNK) {
            ev_thunk *th = v->u.t;
            if (EV_TH_STATE(th) == EV_TH_DONE && !(th->h.flags & EV_TH_BH)) {
                *v = th->u.v;     /* short-circuit the indirection */
                continue;
            }
            ms_push_t(m, &th->h, par);
        } else if (t == EV_PATH) {
            ms_mark_t(m, v->u.obj, par);   /* a path has no context: nothing inside to mark */
        } else if (t < 32 && ((EV_MARK_TYPES >> t) & 1)) {
            ms_push_t(m, v->u.obj, par);
        }
        return;
    }
}

EV_MARK_INLINE void mark_children_t(ev_markstack *m, ev_gch *o, bool par)
{
    switch (o->kind) {
    case EV_OBJ_STRING: {
        ev_string *s = (ev_string *)o;
        if (s->ctx)
            ms_mark_t(m, &s->ctx->h, par);     /* contexts hold only C strings */
        break;
    }
    case EV_OBJ_ATTRS: {
        ev_attrs *a = (ev_attrs *)o;
        /* a thunk child is read to see whether it is evaluated: issue those
         * loads at once, marking is bound by misses */
        for (uint32_t i = 0; i < a->h.n; i++)
            if (a->a[i].value.type == EV_THUNK)
                __builtin_prefetch(a->a[i].value.u.obj);
        if (a->h.flags & EV_ATTRS_LAYER)
            ms_push_t(m, &a->base->h, par);
        for (uint32_t i = 0; i < a->h.n; i++)
            mark_value_t(m, &a->a[i].value, par);
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
            mark_value_t(m, v, par);
            if (v->type == EV_APPI)
                last = v->u.obj;
        }
        break;
    }
    case EV_OBJ_LAMBDA:
        if (((ev_lambda *)o)->env)
            ms_push_t(m, &((ev_lambda *)o)->env->h, par);
        break;
    case EV_OBJ_PAPP: {
        ev_papp *p = (ev_papp *)o;
        for (uint32_t i = 0; i < p->h.n; i++)
            mark_value_t(m, &p->args[i], par);
        break;
    }
    case EV_OBJ_THUNK: {
        ev_thunk *t = (ev_thunk *)o;
        switch (EV_TH_STATE(t)) {
        case EV_TH_CODE:
            if (t->u.c.env)
                ms_push_t(m, &t->u.c.env->h, par);
            break;
        case EV_TH_APP:
            ms_push_t(m, t->u.app.fn, par);
            mark_value_t(m, &t->u.app.arg, par);
            break;
        case EV_TH_DONE:
            mark_value_t(m, &t->u.v, par);
            break;
        case EV_TH_FAILED:
            ms_push_t(m, t->u.f.err, par);
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
            ms_push_t(m, &e->up->h, par);
        for (uint32_t i = 0; i < e->h.n; i++)
            mark_value_t(m, &e->v[i], par);
        break;
    }
    case EV_OBJ_BOX: {
        ev_box *b = (ev_box *)o;
        if (!(b->h.flags & EV_BOX_RAW))
            for (uint32_t i = 0; i < b->h.n; i++)
                mark_value_t(m, &b->v[i], par);
        break;
    }
    default:
        break;
    }
}

/* the single-threaded instances, for the roots, cards and small collections */
static inline bool ms_mark(ev_markstack *m, ev_gch *o) { return ms_mark_t(m, o, false); }
static void mark_children(ev_markstack *m, ev_gch *o) { mark_children_t(m, o, false); }

/* A root's object: marked, and recorded (once) for scanning below and at
 * the next minor collection. h.mark flags the recorded ones meanwhile. */
static void root_obj(ev_pool *P, ev_markstack *m, ev_gch *o)
{
    if (!o || o->mark)
        return;
    if ((uintptr_t)o - m->lo >= m->span && (o->flags & EV_GC_STATIC))
        return;
    o->mark = 1;
    if (P->nrooted == P->caprooted) {
        P->caprooted = P->caprooted ? P->caprooted * 2 : 1024;
        P->rooted = ut_xrealloc(P->rooted, P->caprooted * sizeof *P->rooted);
    }
    P->rooted[P->nrooted++] = o;
}

static void root_value(ev_pool *P, ev_markstack *m, ev_value *v)
{
    for (;;) {
        unsigned t = v->type;
        if (t == EV_THUNK) {
            ev_thunk *th = v->u.t;
            if (EV_TH_STATE(th) == EV_TH_DONE && !(th->h.flags & EV_TH_BH)) {
                *v = th->u.v;
                continue;
            }
            root_obj(P, m, &th->h);
        } else if (t == EV_PATH) {
            ms_mark(m, v->u.obj);
        } else if (t < 32 && ((EV_MARK_TYPES >> t) & 1)) {
            root_obj(P, m, v->u.obj);
        }
        return;
    }
}

static void mark_roots(ev_state *S, ev_markstack *m)
{
    ev_pool *P = S->pools;
    for (ev_value *v = S->stack; v < S->sp; v++)
        root_value(P, m, v);
    for (size_t i = 0; i < S->nframes; i++)
        if (S->frames[i].env)
            root_obj(P, m, &S->frames[i].env->h);
    if (S->base_env)
        root_obj(P, m, &S->base_env->h);
    root_value(P, m, &S->builtins);
    if (S->builtins_pending)
        root_obj(P, m, &S->builtins_pending->h);
    for (size_t i = 0; i < S->nforcing; i++)
        root_obj(P, m, &S->forcing[i]->h);
    if (S->err_memo)
        root_obj(P, m, &S->err_memo->h);
    if (S->empty_string)
        root_obj(P, m, &S->empty_string->h);
    size_t it = 0;
    const char *k;
    size_t kl;
    void *val;
    while (ut_hmap_next(S->import_cache, &it, &k, &kl, &val))
        root_obj(P, m, (ev_gch *)val);
}

/* whether o (a heap object) is marked */
static bool is_marked(const ev_markstack *m, const ev_gch *o)
{
    uintptr_t off = (uintptr_t)o - m->lo;
    if (off < m->span) {
        size_t g = (off & (EV_CHUNK_BYTES - 1)) / EV_GRAIN;
        const ev_chunk *ch = (const ev_chunk *)((uintptr_t)o & ~(uintptr_t)(EV_CHUNK_BYTES - 1));
        return (ch->bits[g / 64] >> (g % 64)) & 1;
    }
    size_t i = ((const ev_large *)o - 1)->idx;
    return (m->large_bits[i / 64] >> (i % 64)) & 1;
}

/* The values of an array in the card at a */
EV_MARK_INLINE void mark_values_in_t(ev_markstack *m, ev_value *v, size_t n, size_t stride, uintptr_t a, bool par)
{
    uintptr_t base = (uintptr_t)v, end = a + ((size_t)1 << EV_CARD_SHIFT);
    size_t i = a > base ? (a - base) / stride : 0;
    for (; i < n && base + i * stride < end; i++)
        mark_value_t(m, (ev_value *)(base + i * stride), par);
}

/* An old object in a written card: an array's values in that card only
 * (the barrier records each slot written), a small object whole. True when
 * only part of it was scanned. */
EV_MARK_INLINE bool mark_card_part_t(ev_markstack *m, ev_gch *o, uintptr_t a, bool par)
{
    switch (o->kind) {
    case EV_OBJ_ATTRS: {
        ev_attrs *x = (ev_attrs *)o;
        if (x->h.flags & EV_ATTRS_LAYER) {
            mark_children_t(m, o, par);    /* small, and its base may have been replaced */
            return false;
        }
        mark_values_in_t(m, &x->a[0].value, x->h.n, sizeof(ev_attr), a, par);
        return true;
    }
    case EV_OBJ_LIST:
        mark_values_in_t(m, ((ev_list *)o)->v, o->n, sizeof(ev_value), a, par);
        return true;
    case EV_OBJ_ENV: {
        ev_env *e = (ev_env *)o;
        if ((uintptr_t)o >= a && e->up)
            ms_push_t(m, &e->up->h, par);
        mark_values_in_t(m, e->v, o->n, sizeof(ev_value), a, par);
        return true;
    }
    default:
        mark_children_t(m, o, par);
        return false;
    }
}

/* The marked objects in the written cards c0 to c1 (whole chunks: an object
 * is never split between two calls) are scanned again: the old ones must
 * be, a young one marked already is traced anyway, so scanning it early
 * changes nothing. In parallel the other thread may be setting bits in the
 * same words, hence the atomic reads. */
EV_MARK_INLINE void scan_card_range_t(ev_state *S, ev_markstack *m, size_t c0, size_t c1, bool par)
{
    const uint64_t *w = (const uint64_t *)S->gc_cards;
    ev_gch *last = NULL;
    for (size_t wi = c0 / 8; wi < c1 / 8; wi++) {
        if (!w[wi])
            continue;
        for (size_t c = wi * 8; c < wi * 8 + 8; c++) {
            if (!S->gc_cards[c])
                continue;
            uintptr_t a = m->lo + (c << EV_CARD_SHIFT);
            ev_chunk *ch = (ev_chunk *)(a & ~(uintptr_t)(EV_CHUNK_BYTES - 1));
            size_t off0 = a - (uintptr_t)ch, off1 = off0 + ((size_t)1 << EV_CARD_SHIFT) - 1;
            if (off1 < ch->first)
                continue;
            if (off0 < ch->first)
                off0 = ch->first;
            uint32_t i0 = (uint32_t)((off0 - ch->first) / ch->size);
            uint32_t i1 = (uint32_t)((off1 - ch->first) / ch->size);
            if (i1 >= ch->nslots)
                i1 = ch->nslots - 1;
            for (uint32_t i = i0; i <= i1 && i < ch->nslots; i++) {
                ev_gch *o = (ev_gch *)((char *)ch + ch->first + (size_t)i * ch->size);
                size_t g = slot_grain(ch, i);
                uint64_t bw = par ? atomic_load_explicit((_Atomic uint64_t *)&ch->bits[g / 64], memory_order_relaxed)
                                  : ch->bits[g / 64];
                if (o != last && ((bw >> (g % 64)) & 1)) {
                    if (!mark_card_part_t(m, o, a, par))
                        last = o;
                }
            }
        }
    }
}

/* The old objects in cards written since the last collection are scanned
 * again (a young one is traced if it is reachable). */
static void scan_cards(ev_state *S, ev_markstack *m)
{
    scan_card_range_t(S, m, 0, S->pools->carved >> EV_CARD_SHIFT, false);
}

static size_t cards_written(ev_state *S)
{
    size_t nd = 0, nc = S->pools->carved >> EV_CARD_SHIFT;
    for (size_t c = 0; c < nc; c++)
        nd += S->gc_cards[c] != 0;
    return nd;
}

/* ---- parallel marking ---------------------------------------------------
 *
 * A collection that has much to mark (EV_PAR_FROM) is drained by two
 * threads: the evaluator's, which first marks the roots and the remembered
 * objects alone as before, and a helper started at the first such
 * collection and parked on a condition variable between collections. A
 * minor collection's written cards are then scanned by both, a few chunks
 * at a time, and neither drains before both are done with the cards (a
 * young object marked by one thread could otherwise be scanned whole by
 * it while the other scans it in a card). Each has its own mark stack and
 * prefetch queue; a thread that runs dry says so (hungry), and the other,
 * when it has work to spare, moves half its stack to a shared pool. The
 * objects are the same as one thread marks, in another order (the census
 * of STRAYLIGHT_GC_STATS is identical). Marking ends when both are
 * idle with the pool empty, and the evaluator's thread waits for the
 * helper to be parked again before it sweeps: the mutex orders the
 * helper's mark bits and slot writes before the sweep's reads. */

struct ev_marksync {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* every change below is broadcast: there are two threads */
    pthread_t th;
    bool started, quit;
    uint64_t epoch;         /* parallel collections begun */
    uint64_t parked;        /* the last one the helper has finished */
    unsigned nidle;         /* threads waiting for work */
    bool finished;          /* this collection's marking is complete */
    atomic_bool hungry;     /* a thread waits for work */
    ev_gch **pool;          /* work handed over, each object already marked */
    size_t npool, cappool;
    ev_markstack hm;        /* the helper's (its stack kept between collections) */
    ev_state *S;
    bool cards;             /* this collection's cards are to be scanned */
    bool cards_closed;      /* the evaluator's thread is done with them: the helper stays out */
    unsigned cards_active;  /* threads scanning cards */
    atomic_size_t card_next;    /* the next block of chunks whose cards are to be scanned */
    /* for STRAYLIGHT_GC_STATS */
    double cpu_ms;          /* the helper's CPU time in the last collection */
    size_t nshares, nwaits;
};

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* this thread's CPU time; elapsed time */
static double cpu_ms(void) { return clock_ms(CLOCK_THREAD_CPUTIME_ID); }
static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

#define EV_PAR_THREADS 2
/* Below this many bytes allocated at a collection, waking the helper is
 * not worth it (the nixpkgs walk's collections at 10 to 17 MiB mark in
 * 1.5 to 3 ms) */
#define EV_PAR_FROM ((size_t)20 << 20)
/* a stack shorter than this keeps its work: a tiny share would cost the
 * other thread a wake-up per few objects */
#define EV_SHARE_MIN 32

/* Moves the bottom half of m's stack (the oldest entries, those nearest
 * the roots, likely the largest unexplored subgraphs) to the pool if the
 * other thread still wants it. */
static void ms_share(ev_markstack *m)
{
    ev_marksync *s = m->sync;
    pthread_mutex_lock(&s->mu);
    if (s->npool == 0 && !s->finished) {
        size_t k = m->n / 2;
        if (k > s->cappool) {
            s->cappool = k * 2;
            s->pool = ut_xrealloc(s->pool, s->cappool * sizeof *s->pool);
        }
        memcpy(s->pool, m->v, k * sizeof *m->v);
        memmove(m->v, m->v + k, (m->n - k) * sizeof *m->v);
        m->n -= k;
        s->npool = k;
        s->nshares++;
        atomic_store_explicit(&s->hungry, false, memory_order_relaxed);
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

/* m's thread has run out of work: takes the pool's, or waits for some.
 * False when marking is complete. */
static bool ms_wait_work(ev_markstack *m)
{
    ev_marksync *s = m->sync;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->npool) {
            while (m->cap < s->npool)
                ms_grow(m);
            memcpy(m->v, s->pool, s->npool * sizeof *m->v);
            m->n = s->npool;
            s->npool = 0;
            pthread_mutex_unlock(&s->mu);
            return true;
        }
        if (s->finished)
            break;
        if (++s->nidle == EV_PAR_THREADS) {
            s->finished = true;
            pthread_cond_broadcast(&s->cv);
            break;
        }
        atomic_store_explicit(&s->hungry, true, memory_order_relaxed);
        s->nwaits++;
        pthread_cond_wait(&s->cv, &s->mu);
        s->nidle--;
    }
    pthread_mutex_unlock(&s->mu);
    return false;
}

/* Marking is bound by cache misses: objects popped from the stack wait in
 * a short queue, prefetched, before they are scanned, so that several
 * misses are in flight at once. */
#define EV_MARK_QUEUE 16
EV_MARK_INLINE void drain_t(ev_markstack *m, bool par)
{
    ev_gch *q[EV_MARK_QUEUE];
    unsigned head = 0, len = 0;
    for (;;) {
        while (len < EV_MARK_QUEUE && m->n) {
            ev_gch *o = m->v[--m->n];
            __builtin_prefetch(o);
            __builtin_prefetch((char *)o + 64);
            q[(head + len++) % EV_MARK_QUEUE] = o;
        }
        if (!len) {
            if (par && ms_wait_work(m))
                continue;
            return;
        }
        ev_gch *o = q[head];
        head = (head + 1) % EV_MARK_QUEUE;
        len--;
        mark_children_t(m, o, par);
        if (par) {
            m->scanned++;
            if (m->n >= EV_SHARE_MIN && atomic_load_explicit(&m->sync->hungry, memory_order_relaxed))
                ms_share(m);
        }
    }
}

static void drain(ev_markstack *m) { drain_t(m, false); }
static void drain_par(ev_markstack *m) { drain_t(m, true); }

/* chunks whose cards a thread takes at a time */
#define EV_CARD_BLOCK 4

/* Scans blocks of cards until none is left, then waits for the other
 * thread to be done with its own. */
static void scan_cards_par(ev_markstack *m)
{
    ev_marksync *s = m->sync;
    size_t ncards = s->S->pools->carved >> EV_CARD_SHIFT;
    size_t blk = (EV_CHUNK_BYTES >> EV_CARD_SHIFT) * EV_CARD_BLOCK;
    for (;;) {
        size_t c0 = atomic_fetch_add_explicit(&s->card_next, 1, memory_order_relaxed) * blk;
        if (c0 >= ncards)
            break;
        scan_card_range_t(s->S, m, c0, c0 + blk < ncards ? c0 + blk : ncards, true);
    }
    pthread_mutex_lock(&s->mu);
    s->cards_closed = true;
    if (--s->cards_active == 0)
        pthread_cond_broadcast(&s->cv);
    while (s->cards_active)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void *mark_helper(void *arg)
{
    ev_marksync *s = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->quit && s->epoch == seen)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->quit)
            break;
        seen = s->epoch;
        bool cards = s->cards && !s->cards_closed;
        if (cards)
            s->cards_active++;
        pthread_mutex_unlock(&s->mu);
        double t0 = cpu_ms();
        if (cards)
            scan_cards_par(&s->hm);
        drain_par(&s->hm);
        s->cpu_ms = cpu_ms() - t0;
        pthread_mutex_lock(&s->mu);
        s->parked = seen;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* The helper, started the first time; NULL if parallel marking is off
 * (STRAYLIGHT_GC_THREADS=1) or no thread could be made. */
static ev_marksync *mark_sync(ev_pool *P)
{
    if (P->sync || P->single)
        return P->sync;
    ev_marksync *s = ut_xcalloc(1, sizeof *s);
    atomic_init(&s->hungry, false);
    s->hm.sync = s;
    s->started = helper_start(&s->th, &s->mu, &s->cv, mark_helper, s);
    if (!s->started) {
        free(s);
        P->single = true;
        return NULL;
    }
    P->sync = s;
    return s;
}

static void mark_sync_free(ev_pool *P)
{
    ev_marksync *s = P->sync;
    if (!s)
        return;
    helper_stop(s->th, &s->mu, &s->cv, &s->quit);
    free(s->pool);
    free(s->hm.v);
    free(s);
    P->sync = NULL;
}

/* Drains m (the roots' work) with the helper; returns when every object
 * reachable is marked and the helper is parked again. */
static void mark_parallel(ev_state *S, ev_marksync *s, ev_markstack *m, bool cards)
{
    /* from before the helper is woken: it may run on this core meanwhile */
    double tc = S->gc_stats ? now_ms() : 0;
    pthread_mutex_lock(&s->mu);
    s->S = S;
    s->cards = cards;
    s->cards_closed = false;
    s->cards_active = 1;
    atomic_store_explicit(&s->card_next, 0, memory_order_relaxed);
    s->hm.lo = m->lo;
    s->hm.span = m->span;
    s->hm.large = m->large;
    s->hm.large_bits = m->large_bits;
    s->hm.nlarge = m->nlarge;
    s->hm.n = 0;
    s->hm.scanned = 0;
    s->nshares = s->nwaits = 0;
    s->nidle = 0;
    s->finished = false;
    s->npool = 0;
    atomic_store_explicit(&s->hungry, false, memory_order_relaxed);
    m->sync = s;
    m->scanned = 0;
    s->epoch++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    double t0 = S->gc_stats ? cpu_ms() : 0;
    if (cards) {
        scan_cards_par(m);
        if (S->gc_stats)
            fprintf(stderr, "  minor: %zu of %zu cards written, scanned by two threads in %.1f ms\n", cards_written(S),
                    S->pools->carved >> EV_CARD_SHIFT, now_ms() - tc);
    }
    if (m->n >= 2)
        ms_share(m);
    drain_par(m);
    double mine = S->gc_stats ? cpu_ms() - t0 : 0;
    pthread_mutex_lock(&s->mu);
    while (s->parked != s->epoch)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    m->sync = NULL;
    if (S->gc_stats)
        fprintf(stderr,
                "  parallel: %zu objects scanned, %zu by the helper; CPU %.1f ms here, %.1f in the helper; "
                "%zu hand-overs, %zu waits\n",
                m->scanned + s->hm.scanned, s->hm.scanned, mine, s->cpu_ms, s->nshares, s->nwaits);
}

/* Whether this collection is marked by two threads. Under stress every
 * third is (full ones among them: every eighth collection is full), so
 * that the tests' small heaps take that path too. */
static ev_marksync *want_parallel(ev_state *S)
{
    ev_pool *P = S->pools;
    if (P->single)
        return NULL;
    if (S->gc_stress ? S->gc_count % 3 != 2 : S->heap_bytes < EV_PAR_FROM)
        return NULL;
    return mark_sync(P);
}

static void mark(ev_state *S, bool full)
{
    ev_pool *P = S->pools;
    ev_markstack m = {.lo = (uintptr_t)P->region, .span = P->carved, .large = P->large,
                      .large_bits = P->large_bits, .nlarge = P->nlarge};
    size_t nprev = 0;
    /* in parallel the cards are scanned by both threads, after the roots */
    ev_marksync *sync = want_parallel(S);
    if (full) {
        P->nrooted = 0;
    } else {
        /* what the roots referred to at the last collection may have been
         * filled since without the barrier (an object under construction):
         * scanned again. A builtin keeps what it fills in a stack slot. */
        nprev = P->nrooted;
        for (size_t i = 0; i < nprev; i++)
            if (is_marked(&m, P->rooted[i]))
                mark_children(&m, P->rooted[i]);
        double tc = S->gc_stats ? now_ms() : 0;
        if (!sync) {
            scan_cards(S, &m);
            if (S->gc_stats)
                fprintf(stderr, "  minor: %zu objects the roots referred to before, %zu of %zu cards written, %.1f ms\n",
                        nprev, cards_written(S), P->carved >> EV_CARD_SHIFT, now_ms() - tc);
        }
        /* large objects are few: every old one is scanned again rather
         * than their writes recorded */
        for (size_t i = 0; i < P->nlarge; i++)
            if (P->large[i] && ((P->large_bits[i / 64] >> (i % 64)) & 1))
                mark_children(&m, (ev_gch *)(P->large[i] + 1));
    }
    /* the roots' own objects are scanned even when old: the list is then
     * this collection's */
    size_t from = nprev;
    mark_roots(S, &m);
    for (size_t i = from; i < P->nrooted; i++) {
        ev_gch *o = P->rooted[i];
        o->mark = 0;
        ms_mark(&m, o);
        mark_children(&m, o);
    }
    memmove(P->rooted, P->rooted + from, (P->nrooted - from) * sizeof *P->rooted);
    P->nrooted -= from;
    if (sync)
        mark_parallel(S, sync, &m, !full);
    else
        drain(&m);
    free(m.v);
}

/* ---- verification ------------------------------------------------------ */

/* STRAYLIGHT_GC_VERIFY: after marking, every reference from a marked
 * object must lead to a marked one. After a minor collection a failure
 * means a store into an old object that the barrier missed. Reads the
 * whole heap at every collection: for testing only. */
static void verify_ref(const ev_markstack *m, const ev_gch *from, const void *to, bool full)
{
    const ev_gch *o = to;
    if (!o)
        return;
    if ((uintptr_t)o - m->lo >= m->span && (o->flags & EV_GC_STATIC))
        return;
    if (!is_marked(m, o)) {
        fprintf(stderr,
                "straylight: gc verification failed after a %s collection: a marked object (kind %d at %p) "
                "refers to an unmarked one (kind %d at %p)\n",
                full ? "full" : "minor", from->kind, (const void *)from, o->kind, (const void *)o);
        abort();
    }
}

static void verify_value(const ev_markstack *m, const ev_gch *from, const ev_value *v, bool full)
{
    unsigned t = v->type;
    if (t == EV_THUNK || t == EV_PATH || (t < 32 && ((EV_MARK_TYPES >> t) & 1)))
        verify_ref(m, from, v->u.obj, full);
}

static void verify_object(const ev_markstack *m, const ev_gch *o, bool full)
{
    switch (o->kind) {
    case EV_OBJ_STRING:
        verify_ref(m, o, ((const ev_string *)o)->ctx, full);
        break;
    case EV_OBJ_ATTRS:
        for (uint32_t i = 0; i < o->n; i++)
            verify_value(m, o, &((const ev_attrs *)o)->a[i].value, full);
        if (o->flags & EV_ATTRS_LAYER)
            verify_ref(m, o, ((const ev_attrs *)o)->base, full);
        break;
    case EV_OBJ_LIST:
        for (uint32_t i = 0; i < o->n; i++)
            verify_value(m, o, &((const ev_list *)o)->v[i], full);
        break;
    case EV_OBJ_LAMBDA:
        verify_ref(m, o, ((const ev_lambda *)o)->env, full);
        break;
    case EV_OBJ_PAPP:
        for (uint32_t i = 0; i < o->n; i++)
            verify_value(m, o, &((const ev_papp *)o)->args[i], full);
        break;
    case EV_OBJ_THUNK: {
        const ev_thunk *t = (const ev_thunk *)o;
        switch (EV_TH_STATE(t)) {
        case EV_TH_CODE:
            verify_ref(m, o, t->u.c.env, full);
            break;
        case EV_TH_APP:
            verify_ref(m, o, t->u.app.fn, full);
            verify_value(m, o, &t->u.app.arg, full);
            break;
        case EV_TH_DONE:
            /* parallel marking relies on it (see "marking") */
            if (t->u.v.type == EV_THUNK) {
                fprintf(stderr, "straylight: gc verification failed: a forced thunk (at %p) holds a thunk\n",
                        (const void *)t);
                abort();
            }
            verify_value(m, o, &t->u.v, full);
            break;
        case EV_TH_FAILED:
            verify_ref(m, o, t->u.f.err, full);
            break;
        }
        break;
    }
    case EV_OBJ_ENV:
        verify_ref(m, o, ((const ev_env *)o)->up, full);
        for (uint32_t i = 0; i < o->n; i++)
            verify_value(m, o, &((const ev_env *)o)->v[i], full);
        break;
    case EV_OBJ_BOX:
        if (!(o->flags & EV_BOX_RAW))
            for (uint32_t i = 0; i < o->n; i++)
                verify_value(m, o, &((const ev_box *)o)->v[i], full);
        break;
    default:
        break;
    }
}

static void verify(ev_state *S, bool full)
{
    ev_pool *P = S->pools;
    ev_markstack m = {.lo = (uintptr_t)P->region, .span = P->carved, .large = P->large,
                      .large_bits = P->large_bits, .nlarge = P->nlarge};
    for (unsigned c = 0; c < EV_NALL; c++)
        for (ev_chunk *ch = P->cls[c].chunks; ch; ch = ch->next)
            for (uint32_t i = next_marked(ch, 0); i < ch->nslots; i = next_marked(ch, i + 1))
                verify_object(&m, (ev_gch *)((char *)ch + ch->first + (size_t)i * ch->size), full);
    for (size_t i = 0; i < P->nlarge; i++)
        if (P->large[i] && ((P->large_bits[i / 64] >> (i % 64)) & 1))
            verify_object(&m, (ev_gch *)(P->large[i] + 1), full);
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

/* Full when the old objects have doubled since the last full collection:
 * garbage among them is reclaimed only then, so a growing heap is traced
 * whole about twice over in all (three times with a full collection at
 * every 1.5x), and its footprint barely grows (nixpkgs' garbage is mostly
 * young). An evaluation whose live data stop growing while old objects
 * keep dying could carry up to as much old garbage as live data. Below
 * EV_MINOR_FROM live every collection is full: a short-lived large value
 * that a minor collection happened to promote would otherwise stay until
 * the heap doubles. Kept low: nixpkgs' data is mostly long-lived, and
 * tracing 10-30 MiB whole at every collection cost more than the garbage
 * it found (the package-set walk spent a sixth of its collection time so). */
#define EV_FULL_GROWTH 2
#define EV_MINOR_FROM ((size_t)4 << 20)

static void collect(ev_state *S, bool full)
{
    ev_pool *P = S->pools;
    size_t before = S->heap_bytes;
    double t0 = S->gc_stats ? now_ms() : 0;
    if (full) {
        for (unsigned c = 0; c < EV_NALL; c++)
            for (ev_chunk *ch = P->cls[c].chunks; ch; ch = ch->next)
                memset(ch->bits, 0, sizeof ch->bits);
        if (P->caplarge)
            memset(P->large_bits, 0, P->caplarge / 64 * sizeof *P->large_bits);
    }
    mark(S, full);
    memset(S->gc_cards, 0, P->carved >> EV_CARD_SHIFT);
    if (S->gc_verify)
        verify(S, full);
    double t1 = S->gc_stats ? now_ms() : 0;
    sweep(S);
    S->gc_count++;
    if (full) {
        P->nfull++;
        P->live_full = S->heap_bytes;
    } else {
        P->nminor++;
    }
    P->next_full = P->live_full < EV_MINOR_FROM || S->heap_bytes >= EV_FULL_GROWTH * P->live_full;
    if (S->gc_stats) {
        double t2 = now_ms();
        census(S);
        fprintf(stderr, "gc %llu (%s): heap %zu -> %zu KiB live, %.1f ms (mark %.1f, sweep %.1f)\n",
                (unsigned long long)S->gc_count, full ? "full" : "minor", before >> 10, S->heap_bytes >> 10,
                t2 - t0, t1 - t0, t2 - t1);
    }
    S->gc_threshold = next_threshold(S->heap_bytes);
}

void ev_gc_collect(ev_state *S)
{
    collect(S, true);
}

/* Under stress every safe point collects, minor but for every eighth, so
 * that barriers are exercised and old garbage is reclaimed too. A
 * collection at every safe point hides a missing barrier on an object that
 * a root refers to all along (a thunk being forced), so the second stress
 * mode skips safe points at random: a store can then follow a collection
 * that the object was old at. */
void ev_gc_safepoint_slow(ev_state *S)
{
    ev_pool *P = S->pools;
    if (S->gc_stress_gaps) {
        uint64_t x = ++P->nsafepoints * 0x9E3779B97F4A7C15ull;
        if ((x >> 60) & 1)
            return;
    }
    collect(S, S->gc_stress ? S->gc_count % 8 == 0 : P->next_full);
}
