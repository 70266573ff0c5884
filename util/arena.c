#include "util/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct ut_chunk {
    struct ut_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char mem[];
} ut_chunk;

ut_arena *ut_arena_new(void) { return ut_xcalloc(1, sizeof(ut_arena)); }

#define UT_ARENA_CHUNK (65536 - sizeof(ut_chunk))

/* Chunks of freed arenas, kept for the next: a short-lived arena (the
 * parser's, once per file) then reuses memory that is mapped and warm
 * instead of faulting in fresh pages or asking for them by system call. */
#define UT_ARENA_SPARE 32
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static ut_chunk *spare;
static unsigned nspare;

void ut_arena_free(ut_arena *a)
{
    if (!a) return;
    pthread_mutex_lock(&spare_lock);
    for (ut_chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        if (c->size == UT_ARENA_CHUNK && nspare < UT_ARENA_SPARE) {
            c->next = spare;
            spare = c;
            nspare++;
        } else {
            free(c);
        }
    }
    pthread_mutex_unlock(&spare_lock);
    free(a);
}

/* n is rounded already and does not fit the window */
void *ut_arena_alloc_slow(ut_arena *a, size_t n)
{
    void *p;
    if (n > 32768) {
        /* a big object gets its own chunk; the window stays where it is */
        ut_chunk *c = ut_xmalloc(sizeof(ut_chunk) + n);
        c->size = c->used = n;
        if (a->head) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = NULL;
            a->head = c;
        }
        p = c->mem;
    } else {
        size_t size = UT_ARENA_CHUNK;
        pthread_mutex_lock(&spare_lock);
        ut_chunk *c = spare;
        if (c) {
            spare = c->next;
            nspare--;
        }
        pthread_mutex_unlock(&spare_lock);
        if (!c) {
            c = ut_xmalloc(sizeof(ut_chunk) + size);
            ut_populate(c, sizeof(ut_chunk) + size);
        }
        c->size = size;
        c->used = size;     /* the window, not this field, tracks use */
        c->next = a->head;
        a->head = c;
        p = c->mem;
        a->next = c->mem + n;
        a->limit = c->mem + size;
    }
    a->total += n;
    memset(p, 0, n);
    return p;
}

void ut_arena_give(ut_arena *dst, ut_arena *src)
{
    if (!src)
        return;
    ut_chunk *first = src->head;
    if (first) {
        ut_chunk *last = first;
        while (last->next)
            last = last->next;
        /* behind dst's current chunk, whose free space stays the window */
        if (dst->head) {
            last->next = dst->head->next;
            dst->head->next = first;
        } else {
            dst->head = first;
        }
    }
    dst->total += src->total;
    free(src);
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
