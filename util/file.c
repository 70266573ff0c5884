#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool ut_read_fd(int fd, ut_buf *out, ut_err *e)
{
    for (;;) {
        ut_buf_reserve(out, 65536);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ut_err_set(e, "read failed: %s", strerror(errno));
        }
        if (n == 0) break;
        out->len += (size_t)n;
    }
    ut_buf_cstr(out);
    out->data[out->len] = 0;
    return true;
}

bool ut_read_file(const char *path, ut_buf *out, ut_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ut_err_set(e, "opening file '%s': %s", path, strerror(errno));
    bool ok = ut_read_fd(fd, out, e);
    close(fd);
    if (!ok) ut_err_wrap(e, "reading file '%s'", path);
    return ok;
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
