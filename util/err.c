#include "util/util.h"

#include <stdlib.h>
#include <string.h>

bool ut_err_setv(ut_err *e, const char *fmt, va_list ap)
{
    if (!e) return false;
    ut_buf b = UT_BUF_INIT;
    ut_buf_vprintf(&b, fmt, ap);
    free(e->msg);
    e->msg = ut_buf_steal(&b, NULL);
    return false;
}

bool ut_err_set(ut_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ut_err_setv(e, fmt, ap);
    va_end(ap);
    return false;
}

bool ut_err_wrap(ut_err *e, const char *fmt, ...)
{
    if (!e) return false;
    ut_buf b = UT_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ut_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (e->msg) {
        ut_buf_puts(&b, ": ");
        ut_buf_puts(&b, e->msg);
        free(e->msg);
    }
    e->msg = ut_buf_steal(&b, NULL);
    return false;
}

void ut_err_clear(ut_err *e)
{
    if (!e) return;
    free(e->msg);
    e->msg = NULL;
}
