/* Scratch directories of the store tests: paths under one root, removed
 * with everything in them at the end. */
#ifndef STRAYLIGHT_TESTS_STORE_SCRATCH_H
#define STRAYLIGHT_TESTS_STORE_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include "util/util.h"

static inline int scratch_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)f;
    if (flag == FTW_DP) rmdir(p);
    else unlink(p);
    return 0;
}

/* Removes root and everything under it */
static inline void scratch_remove(const char *root)
{
    nftw(root, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh name under root (not created): tag and a counter. Heap. */
static inline char *scratch_path(const char *root, const char *tag)
{
    static int n;
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%s-%d", root, tag, n++);
    return ut_buf_steal(&b, NULL);
}

#endif
