/* Symbol interning. Symbols are dense indices so the evaluator can use them
 * as array keys; the strings live in large chunks that never move, so the
 * pointers ps_sym_str hands out stay valid for the table's lifetime. */
#include "parser/ast.h"

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
};

static uint32_t hash_str(const char *s, size_t n)
{
    /* FNV-1a folded to 32 bits: symbols are short, this is fast enough and
     * distributes identifiers well. */
    uint64_t h = ut_hash_bytes(s, n);
    return (uint32_t)(h ^ (h >> 32));
}

ps_symtab *ps_symtab_new(void)
{
    ps_symtab *t = ut_xcalloc(1, sizeof *t);
    t->caprecs = 1024;
    t->recs = ut_xmalloc(t->caprecs * sizeof *t->recs);
    t->recs[0] = (symrec){"", 0, 0};
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
    free(t);
}

static const char *store_str(ps_symtab *t, const char *s, size_t len)
{
    size_t need = len + 1;
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
    p[len] = 0;
    c->used += need;
    return p;
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

ps_sym ps_intern(ps_symtab *t, const char *s, size_t len)
{
    uint32_t h = hash_str(s, len);
    size_t mask = t->nslots - 1;
    size_t j = h & mask;
    for (;;) {
        uint32_t id = t->slots[j];
        if (!id)
            break;
        const symrec *r = &t->recs[id];
        if (r->hash == h && r->len == len && memcmp(r->s, s, len) == 0)
            return id;
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
    return id;
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
