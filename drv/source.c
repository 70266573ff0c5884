#include "drv/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat/nar.h"
#include "compat/storepath.h"

struct dv_source {
    const dv_source_ops *ops;
    void *ctx;
    char *store_dir;
    ut_hmap *info;      /* path -> dv_pathinfo* */
    ut_hmap *narhash;   /* path -> char* (computed or known) */
};

dv_source *dv_source_new(const dv_source_ops *ops, void *ctx, const char *store_dir)
{
    dv_source *s = ut_xcalloc(1, sizeof *s);
    s->ops = ops;
    s->ctx = ctx;
    s->store_dir = ut_xstrdup(store_dir ? store_dir : NC_STORE_DIR_DEFAULT);
    s->info = ut_hmap_new();
    s->narhash = ut_hmap_new();
    return s;
}

static void pathinfo_free(dv_pathinfo *p)
{
    if (!p) return;
    free(p->nar_hash);
    for (size_t i = 0; i < p->nrefs; i++) free(p->refs[i]);
    free(p->refs);
    free(p);
}

void dv_source_free(dv_source *s)
{
    if (!s) return;
    if (s->ops->free) s->ops->free(s->ctx);
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(s->info, &it, &k, &kl, &v)) pathinfo_free(v);
    ut_hmap_free(s->info);
    ut_hmap_free_values(s->narhash);
    free(s->store_dir);
    free(s);
}

const char *dv_source_store_dir(const dv_source *s) { return s->store_dir; }

/* ---- the directory kinds ---- */

typedef struct {
    char *dir;
    char *store_dir;
} dir_ctx;

static char *dir_local_path(void *ctx, const char *store_path)
{
    dir_ctx *d = ctx;
    nc_store_path_parts parts;
    ut_err e = UT_ERR_INIT;
    if (!nc_store_path_parse(d->store_dir, nc_str_c(store_path), &parts, &e)) {
        ut_err_clear(&e);
        return NULL;
    }
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%.*s", d->dir, (int)parts.base.len, parts.base.s);
    return ut_buf_steal(&b, NULL);
}

static bool dir_read(void *ctx, const char *store_path, ut_buf *out, ut_err *e)
{
    dir_ctx *d = ctx;
    nc_store_path_parts parts;
    if (!nc_store_path_parse(d->store_dir, nc_str_c(store_path), &parts, e)) return false;
    char *p = dir_local_path(ctx, store_path);
    struct stat st;
    if (lstat(p, &st) != 0) {
        bool r = ut_err_set(e, "%s: %s", store_path, errno == ENOENT ? "not found in the derivation source" : strerror(errno));
        free(p);
        return r;
    }
    bool ok = ut_read_file(p, out, e);
    free(p);
    return ok;
}

static void dir_free(void *ctx)
{
    dir_ctx *d = ctx;
    free(d->dir);
    free(d->store_dir);
    free(d);
}

static const dv_source_ops dir_ops = {dir_read, dir_local_path, dir_free, NULL};

dv_source *dv_source_dir(const char *dir, const char *store_dir)
{
    dir_ctx *d = ut_xcalloc(1, sizeof *d);
    d->dir = ut_xstrdup(dir);
    d->store_dir = ut_xstrdup(store_dir ? store_dir : NC_STORE_DIR_DEFAULT);
    return dv_source_new(&dir_ops, d, store_dir);
}

dv_source *dv_source_store(const char *store_dir)
{
    const char *sd = store_dir ? store_dir : NC_STORE_DIR_DEFAULT;
    return dv_source_dir(sd, sd);
}

bool dv_source_read(dv_source *s, const char *store_path, ut_buf *out, ut_err *e)
{
    return s->ops->read(s->ctx, store_path, out, e);
}

char *dv_source_local_path(dv_source *s, const char *store_path)
{
    return s->ops->local_path ? s->ops->local_path(s->ctx, store_path) : NULL;
}

/* ---- metadata ---- */

bool dv_source_load_pathinfo(dv_source *s, const char *tsv_path, ut_err *e)
{
    ut_buf b = UT_BUF_INIT;
    if (!ut_read_file(tsv_path, &b, e)) return false;
    char *line = b.data;
    size_t lineno = 0;
    bool ok = true;
    while (line && *line && ok) {
        lineno++;
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *f[4] = {line, NULL, NULL, NULL};
        for (int i = 1; i < 4; i++) {
            char *t = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
            if (t) {
                *t = 0;
                f[i] = t + 1;
            }
        }
        char *end = NULL;
        unsigned long long size = f[2] ? strtoull(f[2], &end, 10) : 0;
        if (!f[3] || !nc_is_store_path(s->store_dir, nc_str_c(f[0])) || strncmp(f[1], "sha256:", 7) || !end || *end) {
            ok = ut_err_set(e, "%s:%zu: expected path, sha256:<hash>, size, references separated by tabs", tsv_path, lineno);
            break;
        }
        dv_pathinfo *p = ut_xcalloc(1, sizeof *p);
        p->nar_hash = ut_xstrdup(f[1]);
        p->nar_size = size;
        for (char *r = f[3]; *r;) {
            char *sp = strchr(r, ' ');
            size_t n = sp ? (size_t)(sp - r) : strlen(r);
            if (n) {
                p->refs = ut_xrealloc(p->refs, (p->nrefs + 1) * sizeof *p->refs);
                p->refs[p->nrefs++] = ut_xstrndup(r, n);
            }
            r += n + (sp ? 1 : 0);
        }
        pathinfo_free(ut_hmap_put(s->info, f[0], strlen(f[0]), p));
        line = nl ? nl + 1 : NULL;
    }
    ut_buf_free(&b);
    return ok;
}

const dv_pathinfo *dv_source_pathinfo(dv_source *s, const char *store_path)
{
    size_t kl = strlen(store_path);
    if (ut_hmap_has(s->info, store_path, kl)) return ut_hmap_get(s->info, store_path, kl);
    if (!s->ops->pathinfo) return NULL;
    /* Asked once per path; a miss (or a failing backend) is remembered as
     * NULL so a closure walk does not query the same path again. */
    dv_pathinfo *p = ut_xcalloc(1, sizeof *p);
    ut_err e = UT_ERR_INIT;
    if (s->ops->pathinfo(s->ctx, store_path, p, &e) != 1) {
        ut_err_clear(&e);
        pathinfo_free(p);
        p = NULL;
    }
    ut_hmap_put(s->info, store_path, kl, p);
    return p;
}

/* ---- NAR hashing of local objects ---- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool nar_walk(nc_nar_writer *w, const char *path, ut_err *e)
{
    struct stat st;
    if (lstat(path, &st) != 0) return ut_err_set(e, "%s: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return ut_err_set(e, "%s: %s", path, strerror(errno));
        bool ok = nc_nar_file_begin(w, (st.st_mode & S_IXUSR) != 0, (uint64_t)st.st_size, e);
        char buf[65536];
        uint64_t left = (uint64_t)st.st_size;
        while (ok && left) {
            ssize_t n = read(fd, buf, left < sizeof buf ? left : sizeof buf);
            if (n <= 0) {
                ok = ut_err_set(e, "%s: %s", path, n < 0 ? strerror(errno) : "file shrank while reading");
                break;
            }
            ok = nc_nar_file_data(w, buf, (size_t)n, e);
            left -= (uint64_t)n;
        }
        close(fd);
        return ok && nc_nar_file_end(w, e);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path, target, sizeof target);
        if (n < 0 || (size_t)n == sizeof target) return ut_err_set(e, "%s: cannot read link", path);
        return nc_nar_symlink(w, nc_str_n(target, (size_t)n), e);
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return ut_err_set(e, "%s: %s", path, strerror(errno));
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            names = ut_xrealloc(names, (n + 1) * sizeof *names);
            names[n++] = ut_xstrdup(de->d_name);
        }
        closedir(d);
        if (n > 1) qsort(names, n, sizeof *names, name_cmp);
        bool ok = nc_nar_dir_begin(w, e);
        for (size_t i = 0; i < n && ok; i++) {
            ut_buf sub = UT_BUF_INIT;
            ut_buf_printf(&sub, "%s/%s", path, names[i]);
            ok = nc_nar_dir_entry(w, nc_str_c(names[i]), e) && nar_walk(w, sub.data, e);
            ut_buf_free(&sub);
        }
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        return ok && nc_nar_dir_end(w, e);
    }
    return ut_err_set(e, "%s: not a regular file, symlink or directory", path);
}

const char *dv_source_nar_hash(dv_source *s, const char *store_path, ut_err *e)
{
    size_t kl = strlen(store_path);
    const char *memo = ut_hmap_get(s->narhash, store_path, kl);
    if (memo) return memo;
    const dv_pathinfo *pi = dv_source_pathinfo(s, store_path);
    char *local = dv_source_local_path(s, store_path);
    struct stat st;
    char *result = NULL;
    if (local && lstat(local, &st) == 0) {
        nc_hash_algo algo = NC_HASH_SHA256;
        nc_nar_writer *w = nc_nar_writer_new(NULL, NULL, &algo);
        nc_hash h;
        bool ok = nar_walk(w, local, e) && nc_nar_writer_finish(w, &h, NULL, e);
        nc_nar_writer_free(w);
        if (ok) {
            ut_buf b = UT_BUF_INIT;
            nc_hash_append(&b, &h, NC_HASH_NIX32, true);
            result = ut_buf_steal(&b, NULL);
            if (pi && strcmp(pi->nar_hash, result)) {
                ut_err_set(e, "%s: NAR hash %s does not match the recorded %s", store_path, result, pi->nar_hash);
                free(result);
                result = NULL;
            }
        } else {
            ut_err_wrap(e, "hashing %s", store_path);
        }
    } else if (pi) {
        result = ut_xstrdup(pi->nar_hash);
    } else {
        ut_err_set(e, "%s: not found in the derivation source", store_path);
    }
    free(local);
    if (result) ut_hmap_put(s->narhash, store_path, kl, result);
    return result;
}
