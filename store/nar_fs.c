#include "store/nar_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *st_file_type_name(st_file_type t)
{
    switch (t) {
    case ST_FILE_REGULAR: return "regular";
    case ST_FILE_DIRECTORY: return "directory";
    case ST_FILE_SYMLINK: return "symlink";
    default: return "unknown";
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool dump_file(const char *path, const struct stat *st, nc_nar_writer *w, nc_hasher *flat, ut_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return ut_err_set(e, "opening '%s': %s", path, strerror(errno));
    /* The size announced up front must be the size read: a file changing
     * under us is an error, not a silently different NAR. */
    if (!nc_nar_file_begin(w, (st->st_mode & S_IXUSR) != 0, (uint64_t)st->st_size, e)) {
        close(fd);
        return ut_err_wrap(e, "%s", path);
    }
    static const size_t bufsz = 1 << 18;
    char *buf = ut_xmalloc(bufsz);
    uint64_t total = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, buf, bufsz);
        if (n < 0) {
            if (errno == EINTR) continue;
            ok = ut_err_set(e, "reading '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0) break;
        total += (uint64_t)n;
        if (total > (uint64_t)st->st_size) {
            ok = ut_err_set(e, "'%s' grew while it was being read", path);
            break;
        }
        if (flat) nc_hasher_update(flat, buf, (size_t)n);
        if (!nc_nar_file_data(w, buf, (size_t)n, e)) {
            ok = ut_err_wrap(e, "%s", path);
            break;
        }
    }
    free(buf);
    close(fd);
    if (ok && total != (uint64_t)st->st_size) ok = ut_err_set(e, "'%s' shrank while it was being read", path);
    if (ok && !nc_nar_file_end(w, e)) ok = ut_err_wrap(e, "%s", path);
    return ok;
}

static bool dump(ut_buf *path, bool root, st_path_filter filter, void *fctx, nc_nar_writer *w, nc_hasher *flat,
                 ut_err *e)
{
    struct stat st;
    if (lstat(path->data, &st) != 0) return ut_err_set(e, "getting status of '%s': %s", path->data, strerror(errno));
    if (flat) {
        if (!S_ISREG(st.st_mode)) return ut_err_set(e, "'%s' is not a regular file (flat hashing needs one)", path->data);
        return dump_file(path->data, &st, w, flat, e);
    }
    (void)root;
    if (S_ISREG(st.st_mode)) return dump_file(path->data, &st, w, NULL, e);
    if (S_ISLNK(st.st_mode)) {
        ut_buf t = UT_BUF_INIT;
        ut_buf_reserve(&t, (size_t)st.st_size + 2);
        ssize_t n = readlink(path->data, t.data, t.cap - 1);
        if (n < 0 || (size_t)n >= t.cap - 1) {
            ut_buf_free(&t);
            return ut_err_set(e, "reading link '%s': %s", path->data, n < 0 ? strerror(errno) : "changed size");
        }
        bool ok = nc_nar_symlink(w, nc_str_n(t.data, (size_t)n), e);
        ut_buf_free(&t);
        return ok || ut_err_wrap(e, "%s", path->data);
    }
    if (!S_ISDIR(st.st_mode)) return ut_err_set(e, "file '%s' has an unsupported type", path->data);

    DIR *d = opendir(path->data);
    if (!d) return ut_err_set(e, "opening directory '%s': %s", path->data, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (n == cap) names = ut_xrealloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
        names[n++] = ut_xstrdup(de->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, name_cmp);
    bool ok = nc_nar_dir_begin(w, e);
    for (size_t i = 0; ok && i < n; i++) {
        size_t save = path->len;
        ut_buf_putc(path, '/');
        ut_buf_puts(path, names[i]);
        if (filter) {
            struct stat cst;
            st_file_type t = ST_FILE_UNKNOWN;
            if (lstat(path->data, &cst) == 0) {
                t = S_ISREG(cst.st_mode) ? ST_FILE_REGULAR
                    : S_ISDIR(cst.st_mode) ? ST_FILE_DIRECTORY
                    : S_ISLNK(cst.st_mode) ? ST_FILE_SYMLINK : ST_FILE_UNKNOWN;
            }
            int keep = filter(fctx, path->data, t, e);
            if (keep < 0) ok = false;
            if (keep <= 0) {
                path->len = save;
                path->data[save] = 0;
                continue;
            }
        }
        ok = nc_nar_dir_entry(w, nc_str_c(names[i]), e) && dump(path, false, filter, fctx, w, NULL, e);
        path->len = save;
        path->data[save] = 0;
    }
    if (ok) ok = nc_nar_dir_end(w, e);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return ok;
}

bool st_nar_dump(const char *fs_path, st_path_filter filter, void *fctx, nc_nar_writer *w, nc_hasher *flat,
                 ut_err *e)
{
    ut_buf p = UT_BUF_INIT;
    ut_buf_puts(&p, fs_path);
    while (p.len > 1 && p.data[p.len - 1] == '/') p.data[--p.len] = 0;
    bool ok = dump(&p, true, filter, fctx, w, flat, e);
    ut_buf_free(&p);
    return ok;
}

/* ---- restore ---- */

struct st_nar_restore {
    ut_buf path;
    size_t *stack;     /* path lengths of the open directories */
    size_t depth, cap;
    int fd;
    bool exec;
};

st_nar_restore *st_nar_restore_new(const char *dest)
{
    st_nar_restore *r = ut_xcalloc(1, sizeof *r);
    ut_buf_puts(&r->path, dest);
    r->fd = -1;
    return r;
}

void st_nar_restore_free(st_nar_restore *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    ut_buf_free(&r->path);
    free(r->stack);
    free(r);
}

static bool rs_file_begin(void *ctx, bool executable, uint64_t size, ut_err *e)
{
    (void)size;
    st_nar_restore *r = ctx;
    r->fd = open(r->path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, executable ? 0777 : 0666);
    if (r->fd < 0) return ut_err_set(e, "creating '%s': %s", r->path.data, strerror(errno));
    r->exec = executable;
    return true;
}

static bool rs_file_data(void *ctx, const void *p, size_t n, ut_err *e)
{
    st_nar_restore *r = ctx;
    const char *c = p;
    while (n) {
        ssize_t w = write(r->fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ut_err_set(e, "writing '%s': %s", r->path.data, strerror(errno));
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool rs_file_end(void *ctx, ut_err *e)
{
    st_nar_restore *r = ctx;
    int rc = close(r->fd);
    r->fd = -1;
    if (rc != 0) return ut_err_set(e, "writing '%s': %s", r->path.data, strerror(errno));
    return true;
}

static bool rs_symlink(void *ctx, nc_str target, ut_err *e)
{
    st_nar_restore *r = ctx;
    char *t = ut_xstrndup(target.s, target.len);
    bool ok = symlink(t, r->path.data) == 0;
    if (!ok) ut_err_set(e, "creating symlink '%s': %s", r->path.data, strerror(errno));
    free(t);
    return ok;
}

static bool rs_dir_begin(void *ctx, ut_err *e)
{
    st_nar_restore *r = ctx;
    if (mkdir(r->path.data, 0777) != 0) return ut_err_set(e, "creating directory '%s': %s", r->path.data, strerror(errno));
    if (r->depth == r->cap) r->stack = ut_xrealloc(r->stack, (r->cap = r->cap ? r->cap * 2 : 16) * sizeof *r->stack);
    r->stack[r->depth++] = r->path.len;
    return true;
}

static bool rs_dir_entry(void *ctx, nc_str name, ut_err *e)
{
    (void)e;
    st_nar_restore *r = ctx;
    r->path.len = r->stack[r->depth - 1];
    ut_buf_putc(&r->path, '/');
    ut_buf_append(&r->path, name.s, name.len);
    return true;
}

static bool rs_dir_end(void *ctx, ut_err *e)
{
    (void)e;
    st_nar_restore *r = ctx;
    r->path.len = r->stack[--r->depth];
    r->path.data[r->path.len] = 0;
    return true;
}

static const nc_nar_visitor restore_visitor = {
    rs_file_begin, rs_file_data, rs_file_end, rs_symlink, rs_dir_begin, rs_dir_entry, rs_dir_end,
};
const nc_nar_visitor *st_nar_restore_visitor(void) { return &restore_visitor; }

/* ---- extract one file ---- */

struct st_nar_extract {
    char *want;          /* "" or "a/b" */
    ut_buf cur;          /* path of the current node relative to the root */
    size_t *stack;
    size_t depth, cap;
    ut_buf *out;
    bool capturing, found;
    int found_type;      /* 0 none, 1 file, 2 dir, 3 symlink */
};

st_nar_extract *st_nar_extract_new(const char *sub, ut_buf *out)
{
    st_nar_extract *x = ut_xcalloc(1, sizeof *x);
    while (*sub == '/') sub++;
    x->want = ut_xstrdup(sub);
    size_t n = strlen(x->want);
    while (n && x->want[n - 1] == '/') x->want[--n] = 0;
    ut_buf_puts(&x->cur, "");
    x->out = out;
    return x;
}

void st_nar_extract_free(st_nar_extract *x)
{
    if (!x) return;
    free(x->want);
    ut_buf_free(&x->cur);
    free(x->stack);
    free(x);
}

static bool at_want(st_nar_extract *x) { return !strcmp(x->cur.data, x->want); }

static bool ex_file_begin(void *ctx, bool executable, uint64_t size, ut_err *e)
{
    (void)executable;
    (void)e;
    st_nar_extract *x = ctx;
    if (at_want(x)) {
        x->capturing = x->found = true;
        x->found_type = 1;
        ut_buf_clear(x->out);
        ut_buf_reserve(x->out, size < (64u << 20) ? (size_t)size : 0);
    }
    return true;
}

static bool ex_file_data(void *ctx, const void *p, size_t n, ut_err *e)
{
    (void)e;
    st_nar_extract *x = ctx;
    if (x->capturing) ut_buf_append(x->out, p, n);
    return true;
}

static bool ex_file_end(void *ctx, ut_err *e)
{
    (void)e;
    ((st_nar_extract *)ctx)->capturing = false;
    return true;
}

static bool ex_symlink(void *ctx, nc_str target, ut_err *e)
{
    (void)target;
    (void)e;
    st_nar_extract *x = ctx;
    if (at_want(x)) {
        x->found = true;
        x->found_type = 3;
    }
    return true;
}

static bool ex_dir_begin(void *ctx, ut_err *e)
{
    (void)e;
    st_nar_extract *x = ctx;
    if (at_want(x)) {
        x->found = true;
        x->found_type = 2;
    }
    if (x->depth == x->cap) x->stack = ut_xrealloc(x->stack, (x->cap = x->cap ? x->cap * 2 : 16) * sizeof *x->stack);
    x->stack[x->depth++] = x->cur.len;
    return true;
}

static bool ex_dir_entry(void *ctx, nc_str name, ut_err *e)
{
    (void)e;
    st_nar_extract *x = ctx;
    x->cur.len = x->stack[x->depth - 1];
    if (x->cur.len) ut_buf_putc(&x->cur, '/');
    ut_buf_append(&x->cur, name.s, name.len);
    return true;
}

static bool ex_dir_end(void *ctx, ut_err *e)
{
    (void)e;
    st_nar_extract *x = ctx;
    x->cur.len = x->stack[--x->depth];
    x->cur.data[x->cur.len] = 0;
    return true;
}

static const nc_nar_visitor extract_visitor = {
    ex_file_begin, ex_file_data, ex_file_end, ex_symlink, ex_dir_begin, ex_dir_entry, ex_dir_end,
};
const nc_nar_visitor *st_nar_extract_visitor(void) { return &extract_visitor; }

bool st_nar_extract_done(st_nar_extract *x, const char *whence, ut_err *e)
{
    if (!x->found) return ut_err_set(e, "'%s' does not exist", whence);
    if (x->found_type == 2) return ut_err_set(e, "'%s' is a directory, not a file", whence);
    if (x->found_type == 3) return ut_err_set(e, "'%s' is a symlink, not a regular file", whence);
    return true;
}
