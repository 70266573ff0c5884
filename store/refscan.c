/* Reference scanning as Nix does it: a store path refers to a candidate when
 * the candidate's 32-character hash part occurs anywhere in its NAR. */
#include "store/store.h"

#include "compat/nixbase32.h"
#include "compat/storepath.h"

#include <stdlib.h>
#include <string.h>

struct st_refscan {
    ut_hmap *hashes;        /* hash part -> index + 1 */
    char **paths;
    bool *found;
    size_t n;
    char tail[NC_STORE_HASH_LEN - 1];
    size_t ntail;
};

st_refscan *st_refscan_new(const char *store_dir, const char *const *candidates, size_t n)
{
    st_refscan *s = ut_xcalloc(1, sizeof *s);
    s->hashes = ut_hmap_new();
    s->paths = ut_xcalloc(n + 1, sizeof *s->paths);
    s->found = ut_xcalloc(n + 1, sizeof *s->found);
    for (size_t i = 0; i < n; i++) {
        nc_store_path_parts parts;
        ut_err e = UT_ERR_INIT;
        if (!nc_store_path_parse(store_dir, nc_str_c(candidates[i]), &parts, &e)) {
            ut_err_clear(&e);
            continue;   /* not a store path: it cannot be referred to */
        }
        if (ut_hmap_has(s->hashes, parts.hash.s, parts.hash.len)) continue;
        s->paths[s->n] = ut_xstrdup(candidates[i]);
        ut_hmap_put(s->hashes, parts.hash.s, parts.hash.len, (void *)(uintptr_t)(s->n + 1));
        s->n++;
    }
    return s;
}

static void scan(st_refscan *s, const char *p, size_t len, size_t max_start)
{
    size_t i = 0;
    while (i + NC_STORE_HASH_LEN <= len && i < max_start) {
        /* Check the window from its end: a non-base-32 byte at j rules out
         * every window starting at or before it. */
        size_t j = NC_STORE_HASH_LEN;
        while (j > 0 && nc_nix32_is_char(p[i + j - 1])) j--;
        if (j > 0) {
            i += j;
            continue;
        }
        uintptr_t k = (uintptr_t)ut_hmap_get(s->hashes, p + i, NC_STORE_HASH_LEN);
        if (k) s->found[k - 1] = true;
        i++;
    }
}

void st_refscan_feed(st_refscan *s, const void *data, size_t n)
{
    if (!s->n || !n) return;
    const char *p = data;
    /* Windows that straddle the previous chunk and this one. */
    if (s->ntail) {
        char joint[2 * NC_STORE_HASH_LEN];
        size_t take = n < NC_STORE_HASH_LEN - 1 ? n : NC_STORE_HASH_LEN - 1;
        memcpy(joint, s->tail, s->ntail);
        memcpy(joint + s->ntail, p, take);
        scan(s, joint, s->ntail + take, s->ntail);
    }
    scan(s, p, n, n);
    /* Keep the last 31 bytes of everything seen so far. */
    size_t keep = NC_STORE_HASH_LEN - 1;
    if (n >= keep) {
        memcpy(s->tail, p + n - keep, keep);
        s->ntail = keep;
    } else {
        size_t total = s->ntail + n;
        size_t drop = total > keep ? total - keep : 0;
        memmove(s->tail, s->tail + drop, s->ntail - drop);
        memcpy(s->tail + s->ntail - drop, p, n);
        s->ntail = total - drop;
    }
}

static int strp_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **st_refscan_result(const st_refscan *s, size_t *n)
{
    char **r = ut_xcalloc(s->n + 1, sizeof *r);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->found[i]) r[k++] = ut_xstrdup(s->paths[i]);
    if (k) qsort(r, k, sizeof *r, strp_cmp);
    *n = k;
    return r;
}

void st_refscan_free(st_refscan *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->paths[i]);
    free(s->paths);
    free(s->found);
    ut_hmap_free(s->hashes);
    free(s);
}
