/* Symbol interning. Symbols are dense indices so the evaluator can use them
 * as array keys; the strings live in large chunks that never move, so the
 * pointers ps_sym_str hands out stay valid for the table's lifetime. */
#include "parser/internal.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64 * 1024)

typedef struct symrec {
    const char *s;
    uint32_t len;
    uint32_t hash;
} symrec;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

struct ps_symtab {
    symrec *recs;       /* recs[0] is the "no symbol" entry */
    size_t nrecs, caprecs;
    uint32_t *slots;    /* open addressing; 0 = empty, else symbol id */
    size_t nslots;      /* power of two */
    chunk *chunks;
    /* per-symbol counters the resolver leaves at zero between parses, kept
     * here so each parse need not allocate and clear one */
    uint32_t *scratch;
    size_t nscratch;
    /* ps_default_base_env() interned, once per table rather than per parse */
    ps_sym *base;
    size_t nbase;
    /* the last other base environment's names interned (ps__symtab_base) */
    ps_sym *obase;
    size_t nobase;
    /* while a journal is kept (ps_symtab_journal_begin): every symbol
     * looked up or added, once, in the order first seen */
    bool journal_on;
    uint32_t jepoch;
    uint32_t *jmark;        /* per symbol: the epoch it was last noted in */
    size_t njmark;
    ps_symref *journal;
    size_t njournal, capjournal;
};

/* Every stored string is followed by PAD zero bytes (its NUL included), so
 * the first eight bytes of any stored name can be loaded as one word:
 * comparisons below then rarely need memcmp. */
#define PAD 8

static inline uint64_t load8(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* Eight bytes per step with a multiplicative mix: every identifier is
 * hashed once per occurrence, and byte-at-a-time FNV cost more than the
 * probing. The length is mixed in so "a" and "a\0" differ. */
static uint32_t hash_str(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL);
    while (n >= 8) {
        h = (h ^ load8(s)) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    if (n) {
        /* the last 1-7 bytes by (overlapping) fixed-size loads, which
         * compile to a few moves where a variable-length copy did not */
        uint64_t w;
        if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, s, 4);
            memcpy(&b, s + n - 4, 4);
            w = a | (uint64_t)b << 32;
        } else {
            w = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
                (uint64_t)(unsigned char)s[n - 1] << 16;
        }
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    h *= 0xC4CEB9FE1A85EC53ULL;
    return (uint32_t)(h ^ (h >> 29));
}

static const char empty_name[PAD];

ps_symtab *ps_symtab_new(void)
{
    ps_symtab *t = ut_xcalloc(1, sizeof *t);
    t->caprecs = 1024;
    t->recs = ut_xmalloc(t->caprecs * sizeof *t->recs);
    t->recs[0] = (symrec){empty_name, 0, 0};
    t->nrecs = 1;
    t->nslots = 2048;
    t->slots = ut_xcalloc(t->nslots, sizeof *t->slots);
    return t;
}

void ps_symtab_free(ps_symtab *t)
{
    if (!t)
        return;
    for (chunk *c = t->chunks, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(t->recs);
    free(t->slots);
    free(t->scratch);
    free(t->base);
    free(t->obase);
    free(t->jmark);
    free(t->journal);
    free(t);
}


static const char *store_str(ps_symtab *t, const char *s, size_t len)
{
    size_t need = (len + PAD + 7) & ~(size_t)7;
    chunk *c = t->chunks;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
        c = ut_xmalloc(sizeof *c + cap);
        c->used = 0;
        c->cap = cap;
        c->next = t->chunks;
        t->chunks = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, len);
    memset(p + len, 0, need - len);
    c->used += need;
    return p;
}

/* Whether the stored name r (padded) equals s[0..n), without reading
 * outside s: overlapping fixed-size loads for the usual short names. */
static inline bool eq_stored(const char *r, const char *s, size_t n)
{
    if (n <= 16) {
        if (n >= 8)
            return load8(r) == load8(s) && load8(r + n - 8) == load8(s + n - 8);
        if (n >= 4) {
            uint32_t a, b, c, d;
            memcpy(&a, r, 4);
            memcpy(&b, s, 4);
            memcpy(&c, r + n - 4, 4);
            memcpy(&d, s + n - 4, 4);
            return a == b && c == d;
        }
        for (size_t i = 0; i < n; i++)
            if (r[i] != s[i])
                return false;
        return true;
    }
    return memcmp(r, s, n) == 0;
}

static void grow_slots(ps_symtab *t)
{
    size_t n = t->nslots * 2;
    uint32_t *slots = ut_xcalloc(n, sizeof *slots);
    for (size_t i = 1; i < t->nrecs; i++) {
        size_t j = t->recs[i].hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
}

static void journal_note(ps_symtab *t, uint32_t id)
{
    if (id >= t->njmark) {
        size_t n = t->njmark ? t->njmark : 1024;
        while (n <= id)
            n *= 2;
        t->jmark = ut_xrealloc(t->jmark, n * sizeof *t->jmark);
        memset(t->jmark + t->njmark, 0, (n - t->njmark) * sizeof *t->jmark);
        t->njmark = n;
    }
    if (t->jmark[id] == t->jepoch)
        return;
    t->jmark[id] = t->jepoch;
    if (t->njournal == t->capjournal) {
        t->capjournal = t->capjournal ? t->capjournal * 2 : 256;
        t->journal = ut_xrealloc(t->journal, t->capjournal * sizeof *t->journal);
    }
    const symrec *r = &t->recs[id];
    t->journal[t->njournal++] = (ps_symref){r->s, r->len, r->hash, id};
}

static inline ps_sym intern_hashed(ps_symtab *t, const char *s, size_t len, uint32_t h)
{
    size_t mask = t->nslots - 1;
    size_t j = h & mask;
    for (;;) {
        uint32_t id = t->slots[j];
        if (!id)
            break;
        const symrec *r = &t->recs[id];
        if (r->hash == h && r->len == len && eq_stored(r->s, s, len)) {
            if (__builtin_expect(t->journal_on, 0))
                journal_note(t, id);
            return id;
        }
        j = (j + 1) & mask;
    }
    if (len > UINT32_MAX)
        ut_die("symbol too long");
    if (t->nrecs == t->caprecs) {
        t->caprecs *= 2;
        t->recs = ut_xrealloc(t->recs, t->caprecs * sizeof *t->recs);
    }
    uint32_t id = (uint32_t)t->nrecs++;
    t->recs[id] = (symrec){store_str(t, s, len), (uint32_t)len, h};
    t->slots[j] = id;
    if (t->nrecs * 2 > t->nslots)
        grow_slots(t);
    if (__builtin_expect(t->journal_on, 0))
        journal_note(t, id);
    return id;
}

ps_sym ps_intern(ps_symtab *t, const char *s, size_t len)
{
    return intern_hashed(t, s, len, hash_str(s, len));
}

ps_sym ps_intern_cstr(ps_symtab *t, const char *s)
{
    return ps_intern(t, s, strlen(s));
}

const char *ps_sym_str(const ps_symtab *t, ps_sym s)
{
    return s < t->nrecs ? t->recs[s].s : "";
}

size_t ps_sym_len(const ps_symtab *t, ps_sym s)
{
    return s < t->nrecs ? t->recs[s].len : 0;
}

size_t ps_symtab_count(const ps_symtab *t)
{
    return t->nrecs - 1;
}

void ps_symtab_journal_begin(ps_symtab *t)
{
    if (++t->jepoch == 0) {
        /* the epochs wrapped: marks of old journals must not count */
        if (t->jmark)
            memset(t->jmark, 0, t->njmark * sizeof *t->jmark);
        t->jepoch = 1;
    }
    t->njournal = 0;
    t->journal_on = true;
}

ps_symref *ps_symtab_journal_end(ps_symtab *t, size_t *n)
{
    t->journal_on = false;
    *n = t->njournal;
    ps_symref *j = ut_xmalloc((t->njournal ? t->njournal : 1) * sizeof *j);
    memcpy(j, t->journal, t->njournal * sizeof *j);
    t->njournal = 0;
    return j;
}

void ps_symtab_map_journal(ps_symtab *to, const ps_symref *j, size_t n, ps_sym *map)
{
    map[PS_NOSYM] = PS_NOSYM;
    for (size_t i = 0; i < n; i++)
        map[j[i].id] = intern_hashed(to, j[i].s, j[i].len, j[i].hash);
}

uint32_t *ps__symtab_scratch(ps_symtab *t, size_t *n)
{
    if (t->nscratch < t->nrecs) {
        size_t want = t->nrecs * 2;
        t->scratch = ut_xrealloc(t->scratch, want * sizeof *t->scratch);
        memset(t->scratch + t->nscratch, 0, (want - t->nscratch) * sizeof *t->scratch);
        t->nscratch = want;
    }
    *n = t->nscratch;
    return t->scratch;
}

const ps_sym *ps__symtab_default_base(ps_symtab *t, size_t *n)
{
    if (!t->base) {
        const char *const *names = ps_default_base_env();
        size_t k = 0;
        while (names[k])
            k++;
        ps_sym *base = ut_xmalloc(k * sizeof *base);
        for (size_t i = 0; i < k; i++)
            base[i] = ps_intern_cstr(t, names[i]);
        t->base = base;
        t->nbase = k;
    }
    *n = t->nbase;
    return t->base;
}

const ps_sym *ps__symtab_base(ps_symtab *t, const char *const *names, size_t *n)
{
    size_t k = 0;
    while (names[k])
        k++;
    /* The evaluator passes the same names for every file, and they are
     * this table's own strings: comparing them with the symbols kept is
     * much cheaper than interning them again. */
    bool same = t->obase && t->nobase == k;
    for (size_t i = 0; same && i < k; i++) {
        const char *s = t->recs[t->obase[i]].s;
        same = names[i] == s || strcmp(names[i], s) == 0;
    }
    if (!same) {
        ps_sym *b = ut_xrealloc(t->obase, (k ? k : 1) * sizeof *b);
        for (size_t i = 0; i < k; i++)
            b[i] = ps_intern_cstr(t, names[i]);
        t->obase = b;
        t->nobase = k;
    }
    *n = k;
    return t->obase;
}

/* Byte order of the names, shorter first on a common prefix (as CppNix
 * compares symbol strings). The first eight bytes, zero-padded, decide most
 * comparisons as one big-endian word: a difference there is a difference
 * in a byte both names have, or a longer name's non-zero byte where the
 * shorter has ended, and either orders the names as memcmp and the
 * lengths would. */
static inline int sym_cmp(const ps_symtab *t, ps_sym a, ps_sym b)
{
    const symrec *x = &t->recs[a], *y = &t->recs[b];
    uint64_t wx = load8(x->s), wy = load8(y->s);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    wx = __builtin_bswap64(wx);
    wy = __builtin_bswap64(wy);
#endif
    if (wx != wy)
        return wx < wy ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorting every attribute set was a fair part of parsing through qsort's
 * indirect calls: sets are often sorted or small already, and a merge sort
 * with the comparison inlined does the rest. Names in a set are distinct,
 * so stability does not matter. */
void ps__sort_attrdefs(const ps_symtab *t, ps_attrdef *a, size_t n)
{
    size_t i = 1;
    while (i < n && sym_cmp(t, a[i - 1].name, a[i].name) < 0)
        i++;
    if (i >= n)
        return;
    if (n <= 16) {
        for (; i < n; i++) {
            ps_attrdef x = a[i];
            size_t j = i;
            while (j > 0 && sym_cmp(t, x.name, a[j - 1].name) < 0) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    ps_attrdef *tmp = ut_xmalloc(n * sizeof *tmp);
    ps_attrdef *src = a, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t p = lo, q = mid, o = lo;
            while (p < mid && q < hi)
                dst[o++] = sym_cmp(t, src[q].name, src[p].name) < 0 ? src[q++] : src[p++];
            while (p < mid)
                dst[o++] = src[p++];
            while (q < hi)
                dst[o++] = src[q++];
        }
        ps_attrdef *sw = src;
        src = dst;
        dst = sw;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(tmp);
}
