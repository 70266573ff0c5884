/* Local directory backend: one file per key under the root. Writes go to
 * <root>/.tmp and are renamed (or linked, for first-writer-wins) into place,
 * so a reader never sees a partial object and two writers of the same key
 * both succeed. */
#include "store/backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct local_be {
    st_backend base;
    char *root;
    char *tmp;          /* <root>/.tmp */
    bool fsync_writes;
} local_be;

/* Keys are relative paths of plain components; anything that could escape
 * the root or hide (".", "..", empty components, leading dots) is refused. */
static bool key_ok(const char *key)
{
    if (!*key || *key == '/') return false;
    const char *p = key;
    while (*p) {
        const char *s = strchr(p, '/');
        size_t n = s ? (size_t)(s - p) : strlen(p);
        if (n == 0 || p[0] == '.') return false;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x20 || c == 0x7f) return false;
        }
        if (!s) break;
        p = s + 1;
    }
    return true;
}

static char *key_path(local_be *lb, const char *key, ut_err *e)
{
    if (!key_ok(key)) {
        ut_err_set(e, "store %s: invalid object key '%s'", lb->base.url, key);
        return NULL;
    }
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%s", lb->root, key);
    return ut_buf_steal(&b, NULL);
}

static bool local_get(st_backend *be, const char *key, uint64_t offset, st_sink_fn sink, void *ctx,
                      bool *missing, ut_err *e)
{
    local_be *lb = (local_be *)be;
    if (missing) *missing = false;
    char *path = key_path(lb, key, e);
    if (!path) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && missing) *missing = true;
        ut_err_set(e, "store %s: reading '%s': %s", be->url, key, strerror(errno));
        free(path);
        return false;
    }
    static const size_t bufsz = 1 << 20;
    char *buf = ut_xmalloc(bufsz);
    uint64_t off = offset;
    bool ok = true;
    for (;;) {
        ssize_t n = pread(fd, buf, bufsz, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) continue;
            ok = ut_err_set(e, "store %s: reading '%s': %s", be->url, key, strerror(errno));
            break;
        }
        if (n == 0) break;
        off += (uint64_t)n;
        if (!sink(ctx, buf, (size_t)n, e)) {
            ok = false;
            break;
        }
    }
    free(buf);
    close(fd);
    free(path);
    return ok;
}

bool st_src_read(const st_src *src, uint64_t off, void *buf, size_t len, ut_err *e)
{
    if (off + len > src->len) return ut_err_set(e, "read past the end of the source");
    if (src->mem) {
        memcpy(buf, (const char *)src->mem + off, len);
        return true;
    }
    char *p = buf;
    while (len) {
        ssize_t n = pread(src->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ut_err_set(e, "reading the source: %s", strerror(errno));
        }
        if (n == 0) return ut_err_set(e, "reading the source: file shrank while being stored");
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool ensure_parent(const char *path, ut_err *e)
{
    char *dir = ut_xstrdup(path);
    char *slash = strrchr(dir, '/');
    bool ok = true;
    if (slash) {
        *slash = 0;
        struct stat st;
        if (stat(dir, &st) != 0) ok = ut_mkdirs(dir, 0755, e);
    }
    free(dir);
    return ok;
}

/* link (first writer wins) or rename tmp to path; the directory path goes
 * in is created only when the move finds it missing. 0 when moved, -1 with
 * errno when the move failed, -2 with e set when the directory could not
 * be made. */
static int move_into_place(const char *tmp, const char *path, bool if_absent, ut_err *e)
{
    for (int tries = 0;; tries++) {
        if ((if_absent ? link(tmp, path) : rename(tmp, path)) == 0) return 0;
        if (errno != ENOENT || tries > 0) return -1;
        if (!ensure_parent(path, e)) return -2;
    }
}

static st_put_result local_put(st_backend *be, const char *key, const st_src *src, int flags, ut_err *e)
{
    local_be *lb = (local_be *)be;
    char *path = key_path(lb, key, e);
    if (!path) return ST_PUT_ERROR;
    /* An object that is there already makes link() below fail with
     * EEXIST; callers ask has() first, so no status query here. */
    ut_buf tmp = UT_BUF_INIT;
    ut_buf_printf(&tmp, "%s/.tmp/put-XXXXXX", lb->root);
    int fd = mkstemp(tmp.data);
    if (fd < 0 && errno == ENOENT) {
        /* .tmp is made on first use */
        char *dir = ut_xstrdup(tmp.data);
        *strrchr(dir, '/') = 0;
        bool made = mkdir(dir, 0755) == 0 || errno == EEXIST;
        if (!made) ut_err_set(e, "store %s: creating '%s': %s", be->url, dir, strerror(errno));
        free(dir);
        if (!made) goto fail_noclean;
        tmp.len = 0;
        ut_buf_printf(&tmp, "%s/.tmp/put-XXXXXX", lb->root);
        fd = mkstemp(tmp.data);
    }
    if (fd < 0) {
        ut_err_set(e, "store %s: creating a temporary file: %s", be->url, strerror(errno));
        goto fail_noclean;
    }
    fchmod(fd, 0444);
    bool ok = true;
    if (src->mem) {
        ok = write_all(fd, src->mem, (size_t)src->len);
    } else {
        /* copy_file_range lets the kernel move the bytes (or reflink them). */
        uint64_t done = 0;
        while (ok && done < src->len) {
            loff_t in_off = (loff_t)done;
            ssize_t n = copy_file_range(src->fd, &in_off, fd, NULL, (size_t)(src->len - done), 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                char *buf = ut_xmalloc(1 << 20);
                while (ok && done < src->len) {
                    size_t want = src->len - done > (1 << 20) ? (1 << 20) : (size_t)(src->len - done);
                    ut_err re = UT_ERR_INIT;
                    if (!st_src_read(src, done, buf, want, &re)) {
                        ut_err_clear(&re);
                        ok = false;
                        break;
                    }
                    ok = write_all(fd, buf, want);
                    done += want;
                }
                free(buf);
                break;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (n == 0) errno = EIO;
                ok = false;
                break;
            }
            done += (uint64_t)n;
        }
    }
    if (ok && lb->fsync_writes && fsync(fd) != 0) ok = false;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        ut_err_set(e, "store %s: writing '%s': %s", be->url, key, strerror(saved));
        goto fail;
    }
    if (flags & ST_PUT_IF_ABSENT) {
        /* link() fails with EEXIST atomically: exactly one writer wins. */
        int r = move_into_place(tmp.data, path, true, e);
        if (r == -2) goto fail;
        if (r != 0) {
            if (errno == EEXIST) {
                unlink(tmp.data);
                ut_buf_free(&tmp);
                free(path);
                return ST_PUT_EXISTED;
            }
            ut_err_set(e, "store %s: storing '%s': %s", be->url, key, strerror(errno));
            goto fail;
        }
        unlink(tmp.data);
    } else {
        int r = move_into_place(tmp.data, path, false, e);
        if (r == -2) goto fail;
        if (r != 0) {
            ut_err_set(e, "store %s: storing '%s': %s", be->url, key, strerror(errno));
            goto fail;
        }
    }
    if (lb->fsync_writes) {
        char *dir = ut_xstrdup(path);
        *strrchr(dir, '/') = 0;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    ut_buf_free(&tmp);
    free(path);
    return ST_PUT_WRITTEN;
fail:
    unlink(tmp.data);
fail_noclean:
    ut_buf_free(&tmp);
    free(path);
    return ST_PUT_ERROR;
}

static int local_has(st_backend *be, const char *key, uint64_t *size, ut_err *e)
{
    local_be *lb = (local_be *)be;
    char *path = key_path(lb, key, e);
    if (!path) return -1;
    struct stat st;
    int r;
    if (stat(path, &st) == 0) {
        if (size) *size = (uint64_t)st.st_size;
        r = 1;
    } else if (errno == ENOENT || errno == ENOTDIR) {
        r = 0;
    } else {
        ut_err_set(e, "store %s: %s: %s", be->url, key, strerror(errno));
        r = -1;
    }
    free(path);
    return r;
}

typedef struct list_ctx {
    bool (*cb)(void *ctx, const char *key, uint64_t size, int64_t mtime);
    void *ctx;
    const char *prefix;
    bool stop;
} list_ctx;

static bool walk(const char *root, ut_buf *rel, list_ctx *lc, ut_err *e)
{
    ut_buf full = UT_BUF_INIT;
    ut_buf_printf(&full, "%s%s%s", root, rel->len ? "/" : "", rel->len ? rel->data : "");
    DIR *d = opendir(full.data);
    if (!d) {
        bool ok = errno == ENOENT || errno == ENOTDIR;
        if (!ok) ut_err_set(e, "listing '%s': %s", full.data, strerror(errno));
        ut_buf_free(&full);
        return ok;
    }
    size_t plen = strlen(lc->prefix);
    bool ok = true;
    struct dirent *de;
    while (ok && !lc->stop && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        size_t save = rel->len;
        if (rel->len) ut_buf_putc(rel, '/');
        ut_buf_puts(rel, de->d_name);
        /* Prune subtrees that cannot match the prefix. */
        size_t cmp = rel->len < plen ? rel->len : plen;
        if (memcmp(rel->data, lc->prefix, cmp) == 0) {
            struct stat st;
            ut_buf f = UT_BUF_INIT;
            ut_buf_printf(&f, "%s/%s", root, rel->data);
            if (lstat(f.data, &st) == 0) {
                if (S_ISDIR(st.st_mode)) ok = walk(root, rel, lc, e);
                else if (S_ISREG(st.st_mode) && rel->len >= plen)
                    if (!lc->cb(lc->ctx, rel->data, (uint64_t)st.st_size, (int64_t)st.st_mtime)) lc->stop = true;
            }
            ut_buf_free(&f);
        }
        rel->len = save;
        rel->data[save] = 0;
    }
    closedir(d);
    ut_buf_free(&full);
    return ok;
}

static bool local_list(st_backend *be, const char *prefix,
                       bool (*cb)(void *ctx, const char *key, uint64_t size, int64_t mtime), void *ctx,
                       ut_err *e)
{
    local_be *lb = (local_be *)be;
    list_ctx lc = {cb, ctx, prefix, false};
    ut_buf rel = UT_BUF_INIT;
    ut_buf_puts(&rel, "");
    bool ok = walk(lb->root, &rel, &lc, e);
    ut_buf_free(&rel);
    return ok;
}

static bool local_del(st_backend *be, const char *key, ut_err *e)
{
    local_be *lb = (local_be *)be;
    char *path = key_path(lb, key, e);
    if (!path) return false;
    bool ok = unlink(path) == 0 || errno == ENOENT;
    if (!ok) ut_err_set(e, "store %s: deleting '%s': %s", be->url, key, strerror(errno));
    free(path);
    return ok;
}

static int local_open(st_backend *be, const char *key)
{
    local_be *lb = (local_be *)be;
    if (!key_ok(key)) {
        errno = EINVAL;
        return -1;
    }
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/%s", lb->root, key);
    int fd = open(p.data, O_RDONLY | O_CLOEXEC);
    ut_buf_free(&p);
    return fd;
}

static int local_lock(st_backend *be, bool shared, ut_err *e)
{
    local_be *lb = (local_be *)be;
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/.gc.lock", lb->root);
    int fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ut_err_set(e, "store %s: opening '%s': %s", be->url, p.data, strerror(errno));
        ut_buf_free(&p);
        return -1;
    }
    while (flock(fd, shared ? LOCK_SH : LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        ut_err_set(e, "store %s: locking '%s': %s", be->url, p.data, strerror(errno));
        close(fd);
        ut_buf_free(&p);
        return -1;
    }
    ut_buf_free(&p);
    return fd;
}

static void local_unlock(st_backend *be, int token)
{
    (void)be;
    if (token >= 0) close(token);
}

/* Created on first use, so opening a store never writes to it. */
static const char *local_tmp_dir(st_backend *be)
{
    local_be *lb = (local_be *)be;
    if (mkdir(lb->tmp, 0755) != 0 && errno != EEXIST) return NULL;
    return lb->tmp;
}

/* Moves a finished file from tmp_dir into place: link() for first-writer-wins
 * (EEXIST is atomic), rename() otherwise. */
static st_put_result local_put_file(st_backend *be, const char *key, const char *tmp_path, int flags, ut_err *e)
{
    local_be *lb = (local_be *)be;
    char *path = key_path(lb, key, e);
    if (!path) return ST_PUT_ERROR;
    st_put_result r = ST_PUT_WRITTEN;
    int m = move_into_place(tmp_path, path, (flags & ST_PUT_IF_ABSENT) != 0, e);
    if (m == -2) {
        r = ST_PUT_ERROR;
    } else if (flags & ST_PUT_IF_ABSENT) {
        if (m != 0) {
            if (errno == EEXIST) r = ST_PUT_EXISTED;
            else r = ST_PUT_ERROR, ut_err_set(e, "store %s: storing '%s': %s", be->url, key, strerror(errno));
        }
        if (r != ST_PUT_ERROR) unlink(tmp_path);
    } else if (m != 0) {
        r = ST_PUT_ERROR;
        ut_err_set(e, "store %s: storing '%s': %s", be->url, key, strerror(errno));
    }
    free(path);
    return r;
}

static void local_free(st_backend *be)
{
    local_be *lb = (local_be *)be;
    free(lb->root);
    free(lb->tmp);
    free(lb->base.url);
    free(lb);
}

static const st_backend_ops local_ops = {
    "local", local_get, local_put, local_has, local_list, local_del, local_open, local_lock, local_unlock,
    local_tmp_dir, local_put_file, local_free,
};

st_backend *st_backend_local(const char *dir, bool fsync_writes, ut_err *e)
{
    if (!*dir) {
        ut_err_set(e, "local store: empty directory name");
        return NULL;
    }
    if (!ut_mkdirs(dir, 0755, e)) {
        ut_err_wrap(e, "local store");
        return NULL;
    }
    local_be *lb = ut_xcalloc(1, sizeof *lb);
    lb->base.ops = &local_ops;
    lb->root = realpath(dir, NULL);
    if (!lb->root) lb->root = ut_xstrdup(dir);
    size_t n = strlen(lb->root);
    while (n > 1 && lb->root[n - 1] == '/') lb->root[--n] = 0;
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "local:%s", lb->root);
    lb->base.url = ut_buf_steal(&u, NULL);
    ut_buf t = UT_BUF_INIT;
    ut_buf_printf(&t, "%s/.tmp", lb->root);
    lb->tmp = ut_buf_steal(&t, NULL);
    lb->fsync_writes = fsync_writes;
    return &lb->base;
}
