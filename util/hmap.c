#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;        /* NULL: empty slot */
    size_t klen;
    uint64_t hash;
    void *val;
} ut_slot;

struct ut_hmap {
    ut_slot *slots;
    size_t cap, count;
};

static inline uint64_t load8(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* Eight bytes per step (paths are long and hashed often); in-memory use
 * only, so the exact function is free to change. */
uint64_t ut_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4FULL);
    while (n >= 8) {
        h = (h ^ load8(s)) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
}

ut_hmap *ut_hmap_new(void)
{
    ut_hmap *m = ut_xcalloc(1, sizeof *m);
    m->cap = 16;
    m->slots = ut_xcalloc(m->cap, sizeof(ut_slot));
    return m;
}

void ut_hmap_free(ut_hmap *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) free(m->slots[i].key);
    free(m->slots);
    free(m);
}

void ut_hmap_free_values(ut_hmap *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) free(m->slots[i].val);
    ut_hmap_free(m);
}

static ut_slot *ut_hmap_find(const ut_hmap *m, const void *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        ut_slot *s = &m->slots[i];
        if (!s->key) return s;
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
    }
}

static void ut_hmap_grow(ut_hmap *m)
{
    ut_slot *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = ut_xcalloc(m->cap, sizeof(ut_slot));
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].key) continue;
        *ut_hmap_find(m, old[i].key, old[i].klen, old[i].hash) = old[i];
    }
    free(old);
}

void *ut_hmap_get(const ut_hmap *m, const void *key, size_t klen)
{
    ut_slot *s = ut_hmap_find(m, key, klen, ut_hash_bytes(key, klen));
    return s->key ? s->val : NULL;
}

bool ut_hmap_has(const ut_hmap *m, const void *key, size_t klen)
{
    return ut_hmap_find(m, key, klen, ut_hash_bytes(key, klen))->key != NULL;
}

void *ut_hmap_put(ut_hmap *m, const void *key, size_t klen, void *val)
{
    if ((m->count + 1) * 4 > m->cap * 3) ut_hmap_grow(m);
    uint64_t h = ut_hash_bytes(key, klen);
    ut_slot *s = ut_hmap_find(m, key, klen, h);
    if (s->key) {
        void *old = s->val;
        s->val = val;
        return old;
    }
    s->key = ut_xmalloc(klen + 1);
    memcpy(s->key, key, klen);
    s->key[klen] = 0;
    s->klen = klen;
    s->hash = h;
    s->val = val;
    m->count++;
    return NULL;
}

size_t ut_hmap_count(const ut_hmap *m) { return m->count; }

bool ut_hmap_next(const ut_hmap *m, size_t *it, const char **key, size_t *klen, void **val)
{
    while (*it < m->cap) {
        ut_slot *s = &m->slots[(*it)++];
        if (s->key) {
            if (key) *key = s->key;
            if (klen) *klen = s->klen;
            if (val) *val = s->val;
            return true;
        }
    }
    return false;
}
