#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct ut_chunk {
    struct ut_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char mem[];
} ut_chunk;

struct ut_arena {
    ut_chunk *head;
    size_t total;
};

ut_arena *ut_arena_new(void) { return ut_xcalloc(1, sizeof(ut_arena)); }

void ut_arena_free(ut_arena *a)
{
    if (!a) return;
    for (ut_chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *ut_arena_alloc(ut_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    ut_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > 32768 ? n : 65536 - sizeof(ut_chunk);
        c = ut_xmalloc(sizeof(ut_chunk) + size);
        c->size = size;
        c->used = 0;
        /* Keep the current chunk in front when a big object gets its own. */
        if (a->head && n > 32768) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->mem + c->used;
    c->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

char *ut_arena_strndup(ut_arena *a, const char *s, size_t n)
{
    char *p = ut_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ut_arena_strdup(ut_arena *a, const char *s) { return ut_arena_strndup(a, s, strlen(s)); }

size_t ut_arena_used(const ut_arena *a) { return a->total; }
