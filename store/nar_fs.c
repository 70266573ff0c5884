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

/* One dump: the walk works relative to each directory's fd (no path walk
 * per entry), takes entry types from the directory listing where the file
 * system gives them, and reads each file through one buffer. */
typedef struct dumper {
    st_path_filter filter;
    void *fctx;
    nc_nar_writer *w;
    nc_hasher *flat;
    char *buf;
    size_t bufsz;
} dumper;

static bool dump_fd(dumper *d, int fd, const char *path, const struct stat *st, ut_err *e)
{
    /* The size announced up front must be the size read: a file changing
     * under us is an error, not a silently different NAR. */
    if (!nc_nar_file_begin(d->w, (st->st_mode & S_IXUSR) != 0, (uint64_t)st->st_size, e))
        return ut_err_wrap(e, "%s", path);
    if (!d->buf) d->buf = ut_xmalloc(d->bufsz = 1 << 18);
    uint64_t size = (uint64_t)st->st_size, total = 0;
    for (;;) {
        /* one byte beyond the announced size is asked for: a read that
         * stops short exactly there is the file's end, so a file that
         * fits the buffer takes one read */
        uint64_t left = size - total;
        size_t want = left < d->bufsz ? (size_t)left + 1 : d->bufsz;
        ssize_t n = read(fd, d->buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ut_err_set(e, "reading '%s': %s", path, strerror(errno));
        }
        if (n == 0) break;
        total += (uint64_t)n;
        if (total > size) return ut_err_set(e, "'%s' grew while it was being read", path);
        if (d->flat) nc_hasher_update(d->flat, d->buf, (size_t)n);
        if (!nc_nar_file_data(d->w, d->buf, (size_t)n, e)) return ut_err_wrap(e, "%s", path);
        if ((size_t)n < want && total == size) break;
    }
    if (total != size) return ut_err_set(e, "'%s' shrank while it was being read", path);
    if (!nc_nar_file_end(d->w, e)) return ut_err_wrap(e, "%s", path);
    return true;
}

static st_file_type file_type(mode_t m)
{
    return S_ISREG(m) ? ST_FILE_REGULAR : S_ISDIR(m) ? ST_FILE_DIRECTORY : S_ISLNK(m) ? ST_FILE_SYMLINK : ST_FILE_UNKNOWN;
}

static bool dump_dir(dumper *d, int dfd, ut_buf *path, ut_err *e);

/* The entry `name` of the directory open at dfd (AT_FDCWD for the root,
 * then name is the whole path); path names it in messages and to the
 * filter. st is its lstat when known already, else NULL. */
static bool dump_at(dumper *d, int dfd, const char *name, ut_buf *path, const struct stat *known, ut_err *e)
{
    struct stat st;
    if (known) st = *known;
    else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return ut_err_set(e, "getting status of '%s': %s", path->data, strerror(errno));
    if (d->flat && !S_ISREG(st.st_mode))
        return ut_err_set(e, "'%s' is not a regular file (flat hashing needs one)", path->data);
    if (S_ISREG(st.st_mode)) {
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return ut_err_set(e, "opening '%s': %s", path->data, strerror(errno));
        bool ok = dump_fd(d, fd, path->data, &st, e);
        close(fd);
        return ok;
    }
    if (S_ISLNK(st.st_mode)) {
        ut_buf t = UT_BUF_INIT;
        ut_buf_reserve(&t, (size_t)st.st_size + 2);
        ssize_t n = readlinkat(dfd, name, t.data, t.cap - 1);
        if (n < 0 || (size_t)n >= t.cap - 1) {
            ut_buf_free(&t);
            return ut_err_set(e, "reading link '%s': %s", path->data, n < 0 ? strerror(errno) : "changed size");
        }
        bool ok = nc_nar_symlink(d->w, nc_str_n(t.data, (size_t)n), e);
        ut_buf_free(&t);
        return ok || ut_err_wrap(e, "%s", path->data);
    }
    if (!S_ISDIR(st.st_mode)) return ut_err_set(e, "file '%s' has an unsupported type", path->data);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ut_err_set(e, "opening directory '%s': %s", path->data, strerror(errno));
    bool ok = dump_dir(d, fd, path, e);
    close(fd);
    return ok;
}

static bool dump_dir(dumper *d, int dfd, ut_buf *path, ut_err *e)
{
    ut_dirent *ents = NULL;
    size_t n = 0;
    if (!ut_dir_list(dfd, &ents, &n, e)) return ut_err_wrap(e, "reading directory '%s'", path->data);
    bool ok = nc_nar_dir_begin(d->w, e);
    for (size_t i = 0; ok && i < n; i++) {
        size_t save = path->len;
        ut_buf_putc(path, '/');
        ut_buf_puts(path, ents[i].name);
        /* A file or directory the listing vouches for is opened straight
         * away (not following links, so its type cannot have changed to
         * one); its fstat or the open itself says what it is. Anything
         * else, or a surprise, takes the general path with its lstat. */
        struct stat st;
        bool have = false;
        int fd = -1;
        unsigned char t = ents[i].type;
        if (t == DT_REG) {
            fd = openat(dfd, ents[i].name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
                close(fd);
                fd = -1;
            }
            have = fd >= 0;
        } else if (t == DT_DIR) {
            fd = openat(dfd, ents[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (d->filter) {
            st_file_type ft = t == DT_REG && have ? ST_FILE_REGULAR : t == DT_DIR && fd >= 0 ? ST_FILE_DIRECTORY
                                                                                               : ST_FILE_UNKNOWN;
            if (ft == ST_FILE_UNKNOWN && fstatat(dfd, ents[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                have = true;
                ft = file_type(st.st_mode);
            }
            int keep = d->filter(d->fctx, path->data, ft, e);
            if (keep < 0) ok = false;
            if (keep <= 0) {
                if (fd >= 0) close(fd);
                path->len = save;
                path->data[save] = 0;
                continue;
            }
        }
        ok = nc_nar_dir_entry(d->w, nc_str_c(ents[i].name), e);
        if (ok && fd >= 0 && have) ok = dump_fd(d, fd, path->data, &st, e);
        else if (ok && fd >= 0) ok = dump_dir(d, fd, path, e);
        else if (ok) ok = dump_at(d, dfd, ents[i].name, path, have ? &st : NULL, e);
        if (fd >= 0) close(fd);
        path->len = save;
        path->data[save] = 0;
    }
    if (ok) ok = nc_nar_dir_end(d->w, e);
    ut_dir_list_free(ents, n);
    return ok;
}

bool st_nar_dump(const char *fs_path, st_path_filter filter, void *fctx, nc_nar_writer *w, nc_hasher *flat,
                 ut_err *e)
{
    ut_buf p = UT_BUF_INIT;
    ut_buf_puts(&p, fs_path);
    while (p.len > 1 && p.data[p.len - 1] == '/') p.data[--p.len] = 0;
    dumper d = {filter, fctx, w, flat, NULL, 0};
    bool ok = dump_at(&d, AT_FDCWD, p.data, &p, NULL, e);
    free(d.buf);
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
