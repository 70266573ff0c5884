#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ut_buf_init(ut_buf *b) { b->data = NULL; b->len = b->cap = 0; }

void ut_buf_free(ut_buf *b)
{
    free(b->data);
    ut_buf_init(b);
}

void ut_buf_reserve(ut_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) ut_die("buffer size overflow");
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = ut_xrealloc(b->data, cap);
    b->cap = cap;
}


void ut_buf_puts(ut_buf *b, const char *s) { ut_buf_append(b, s, strlen(s)); }


void ut_buf_vprintf(ut_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ut_buf_append(b, small, (size_t)n);
        return;
    }
    ut_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void ut_buf_printf(ut_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ut_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ut_buf_clear(ut_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

char *ut_buf_steal(ut_buf *b, size_t *len_out)
{
    if (!b->data) ut_buf_reserve(b, 0), b->data[0] = 0;
    char *p = b->data;
    if (len_out) *len_out = b->len;
    ut_buf_init(b);
    return p;
}

const char *ut_buf_cstr(ut_buf *b)
{
    if (!b->data) {
        ut_buf_reserve(b, 0);
        b->data[0] = 0;
    }
    return b->data;
}
