#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* expect: the size fstat reported for a regular file, or 0 when unknown.
 * A regular file's read returns less than asked only at its end, so when
 * the first read brings exactly the announced size (one byte more was
 * asked for, to see growth) there is nothing left: no read of the end.
 * A file that grew or shrank since, or whose size says nothing (/proc),
 * is read on to its end. */
static bool read_fd(int fd, size_t expect, ut_buf *out, ut_err *e)
{
    size_t start = out->len;
    bool first = expect > 0;
    for (;;) {
        ut_buf_reserve(out, first ? expect + 1 : 65536);
        size_t want = out->cap - out->len - 1;
        ssize_t n = read(fd, out->data + out->len, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ut_err_set(e, "read failed: %s", strerror(errno));
        }
        if (n == 0) break;
        out->len += (size_t)n;
        if (first && (size_t)n < want && out->len - start == expect) break;
        first = false;
    }
    ut_buf_cstr(out);
    out->data[out->len] = 0;
    return true;
}

bool ut_read_fd(int fd, ut_buf *out, ut_err *e) { return read_fd(fd, 0, out, e); }

long ut_read_upto(int fd, void *buf, size_t cap, size_t enough)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, (char *)buf + got, cap - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += (size_t)n;
        if (got >= enough) break;
    }
    return (long)got;
}

bool ut_read_fd_stat(int fd, const struct stat *st, ut_buf *out, ut_err *e)
{
    size_t expect = st && S_ISREG(st->st_mode) && st->st_size > 0 && (uint64_t)st->st_size < SIZE_MAX / 2
                        ? (size_t)st->st_size
                        : 0;
    return read_fd(fd, expect, out, e);
}

bool ut_read_file(const char *path, ut_buf *out, ut_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ut_err_set(e, "opening file '%s': %s", path, strerror(errno));
    struct stat st;
    bool ok = ut_read_fd_stat(fd, fstat(fd, &st) == 0 ? &st : NULL, out, e);
    close(fd);
    if (!ok) ut_err_wrap(e, "reading file '%s'", path);
    return ok;
}

static int dirent_cmp(const void *a, const void *b)
{
    return strcmp(((const ut_dirent *)a)->name, ((const ut_dirent *)b)->name);
}

bool ut_dir_list(int fd, ut_dirent **out, size_t *nout, ut_err *e)
{
    /* getdents64 straight from the fd: a DIR stream would fstat it first */
    enum { BUFSZ = 32768 };
    char *buf = ut_xmalloc(BUFSZ);
    ut_dirent *v = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (;;) {
        ssize_t got = getdents64(fd, buf, BUFSZ);
        if (got < 0) {
            if (errno == EINTR) continue;
            ok = ut_err_set(e, "%s", strerror(errno));
            break;
        }
        if (got == 0) break;
        for (ssize_t at = 0; at < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + at);
            at += d->d_reclen;
            const char *nm = d->d_name;
            if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
            if (n == cap) v = ut_xrealloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            v[n].name = ut_xstrdup(nm);
            v[n++].type = d->d_type;
        }
    }
    free(buf);
    if (!ok) {
        ut_dir_list_free(v, n);
        return false;
    }
    if (n > 1) qsort(v, n, sizeof *v, dirent_cmp);
    *out = v;
    *nout = n;
    return true;
}

void ut_dir_list_free(ut_dirent *v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i].name);
    free(v);
}

bool ut_write_file_atomic(const char *path, const void *data, size_t len, int mode, ut_err *e)
{
    ut_buf tmp = UT_BUF_INIT;
    ut_buf_printf(&tmp, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        ut_err_set(e, "creating '%s': %s", tmp.data, strerror(errno));
        ut_buf_free(&tmp);
        return false;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            ut_err_set(e, "writing '%s': %s", tmp.data, strerror(errno));
            close(fd);
            unlink(tmp.data);
            ut_buf_free(&tmp);
            return false;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        ut_err_set(e, "writing '%s': %s", tmp.data, strerror(errno));
        unlink(tmp.data);
        ut_buf_free(&tmp);
        return false;
    }
    if (rename(tmp.data, path) != 0) {
        ut_err_set(e, "renaming '%s' to '%s': %s", tmp.data, path, strerror(errno));
        unlink(tmp.data);
        ut_buf_free(&tmp);
        return false;
    }
    ut_buf_free(&tmp);
    return true;
}

bool ut_mkdirs(const char *path, int mode, ut_err *e)
{
    char *p = ut_xstrdup(path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, mode) != 0 && errno != EEXIST) {
                ut_err_set(e, "creating directory '%s': %s", p, strerror(errno));
                free(p);
                return false;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    return true;
}

const char *ut_tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t == '/' ? t : "/tmp";
}
