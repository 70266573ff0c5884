#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void ut_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void *ut_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) ut_die("out of memory (allocating %zu bytes)", n);
    return p;
}

void *ut_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) ut_die("out of memory (allocating %zu x %zu bytes)", count, size);
    return p;
}

void *ut_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) ut_die("out of memory (allocating %zu bytes)", n);
    return q;
}

char *ut_xstrdup(const char *s) { return ut_xstrndup(s, strlen(s)); }

char *ut_xstrndup(const char *s, size_t n)
{
    char *p = ut_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void *ut_xmemdup(const void *p, size_t n)
{
    void *q = ut_xmalloc(n);
    if (n) memcpy(q, p, n);
    return q;
}

/* A first write to a fresh page costs a fault each, and a fault is dear (more
 * so in a virtual machine); memory about to be filled whole is cheaper to
 * fault in with one call. Only the whole pages inside [p, p + n) are touched;
 * failure (an old kernel) just leaves them to fault lazily. */
void ut_populate(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    static uintptr_t page;
    if (!page) page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + n) & ~(page - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}
