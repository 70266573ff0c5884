#include "store/blob.h"

#include "store/lazy_archive.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct st_blob {
    int fd;
    uint64_t size;
};

int st_blob_fd(const st_blob *b) { return b->fd; }

void st_blob_close(st_blob *b)
{
    if (!b) return;
    if (b->fd >= 0) close(b->fd);
    free(b);
}

static int tmp_fd(ut_err *e)
{
    const char *dir = ut_tmp_dir();
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/blob-XXXXXX", dir);
    fd = mkstemp(p.data);
    if (fd >= 0) unlink(p.data);
    else ut_err_set(e, "creating a temporary file in '%s': %s", dir, strerror(errno));
    ut_buf_free(&p);
    return fd;
}

static bool write_all(int fd, const void *p, size_t n, ut_err *e)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ut_err_set(e, "writing a temporary file: %s", strerror(errno));
        c += w;
        n -= (size_t)w;
    }
    return true;
}

typedef struct dl {
    int fd;
    nc_hasher *h;
    uint64_t n;
} dl;

static bool dl_sink(void *ctx, const void *p, size_t n, ut_err *e)
{
    dl *d = ctx;
    nc_hasher_update(d->h, p, n);
    d->n += n;
    return write_all(d->fd, p, n, e);
}

static bool hash_fd(int fd, nc_hash *out, uint64_t *size, ut_err *e)
{
    nc_hasher *h = nc_hasher_new(NC_HASH_SHA256);
    char *buf = ut_xmalloc(1 << 20);
    uint64_t off = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = pread(fd, buf, 1 << 20, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ok = ut_err_set(e, "reading: %s", strerror(errno));
            break;
        }
        if (n == 0) break;
        nc_hasher_update(h, buf, (size_t)n);
        off += (uint64_t)n;
    }
    free(buf);
    if (ok) nc_hasher_finish(h, out);
    else nc_hasher_free(h);
    *size = off;
    return ok;
}

/* Decompresses (xz, bzip2, zstd, via libarchive's raw format) src into a
 * new temporary file, hashing the output. */
static int decompress(int src, const char *what, nc_hash *h, uint64_t *size, ut_err *e)
{
    int out = tmp_fd(e);
    if (out < 0) return -1;
    if (lseek(src, 0, SEEK_SET) < 0) {
        ut_err_set(e, "%s: %s", what, strerror(errno));
        close(out);
        return -1;
    }
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    struct archive_entry *ent;
    bool ok = archive_read_open_fd(a, src, 1 << 16) == ARCHIVE_OK && archive_read_next_header(a, &ent) == ARCHIVE_OK;
    nc_hasher *hs = nc_hasher_new(NC_HASH_SHA256);
    uint64_t total = 0;
    char *buf = ut_xmalloc(1 << 18);
    while (ok) {
        la_ssize_t n = archive_read_data(a, buf, 1 << 18);
        if (n < 0) {
            ok = false;
            break;
        }
        if (n == 0) break;
        nc_hasher_update(hs, buf, (size_t)n);
        total += (uint64_t)n;
        if (!write_all(out, buf, (size_t)n, e)) {
            archive_read_free(a);
            nc_hasher_free(hs);
            free(buf);
            close(out);
            return -1;
        }
    }
    free(buf);
    if (!ok) {
        ut_err_set(e, "%s: cannot decompress: %s", what, archive_error_string(a) ? archive_error_string(a) : "bad data");
        archive_read_free(a);
        nc_hasher_free(hs);
        close(out);
        return -1;
    }
    archive_read_free(a);
    nc_hasher_finish(hs, h);
    *size = total;
    return out;
}

st_blob *st_blob_fetch(st_backend *be, const st_path_info *pi, ut_err *e)
{
    const char *comp = pi->compression ? pi->compression : "none";
    bool plain = !strcmp(comp, "none") || !*comp;
    if (!plain && strcmp(comp, "xz") && strcmp(comp, "bzip2") && strcmp(comp, "zstd") && strcmp(comp, "gzip")) {
        ut_err_set(e, "'%s': unsupported compression '%s'", pi->path, comp);
        return NULL;
    }
    if (!pi->url || !*pi->url) {
        ut_err_set(e, "'%s': its info names no NAR (URL)", pi->path);
        return NULL;
    }
    int fd = -1;
    nc_hash got;
    uint64_t got_size = 0;
    bool hashed = false;
    if (be->ops->open_local) {
        fd = be->ops->open_local(be, pi->url);
        if (fd < 0 && errno != ENOENT) {
            ut_err_set(e, "%s: opening '%s': %s", be->url, pi->url, strerror(errno));
            return NULL;
        }
        if (fd < 0) {
            ut_err_set(e, "'%s' is damaged: its NAR '%s' is missing from %s", pi->path, pi->url, be->url);
            return NULL;
        }
    } else {
        fd = tmp_fd(e);
        if (fd < 0) return NULL;
        dl d = {fd, nc_hasher_new(NC_HASH_SHA256), 0};
        bool missing = false;
        if (!be->ops->get(be, pi->url, 0, dl_sink, &d, &missing, e)) {
            nc_hasher_free(d.h);
            close(fd);
            if (missing) {
                ut_err_clear(e);
                ut_err_set(e, "'%s' is damaged: its NAR '%s' is missing from %s", pi->path, pi->url, be->url);
            }
            return NULL;
        }
        nc_hasher_finish(d.h, &got);
        got_size = d.n;
        hashed = true;
    }
    if (!hashed && !hash_fd(fd, &got, &got_size, e)) {
        ut_err_wrap(e, "%s: '%s'", be->url, pi->url);
        close(fd);
        return NULL;
    }
    if (!plain) {
        if (pi->has_file_hash && (!nc_hash_eq(&got, &pi->file_hash) || (pi->file_size && got_size != pi->file_size))) {
            ut_err_set(e, "'%s' is damaged: '%s' in %s does not match its FileHash", pi->path, pi->url, be->url);
            close(fd);
            return NULL;
        }
        ut_buf what = UT_BUF_INIT;
        ut_buf_printf(&what, "%s/%s", be->url, pi->url);
        int dfd = decompress(fd, what.data, &got, &got_size, e);
        ut_buf_free(&what);
        close(fd);
        if (dfd < 0) return NULL;
        fd = dfd;
    }
    if (!nc_hash_eq(&got, &pi->nar_hash) || got_size != pi->nar_size) {
        char want_s[NC_HASH_STR_MAX], got_s[NC_HASH_STR_MAX];
        nc_hash_print(&pi->nar_hash, NC_HASH_NIX32, true, want_s);
        nc_hash_print(&got, NC_HASH_NIX32, true, got_s);
        ut_err_set(e,
                   "'%s' is damaged: its NAR '%s' in %s hashes to %s (%llu bytes), but its info says %s (%llu "
                   "bytes); refusing to use it",
                   pi->path, pi->url, be->url, got_s, (unsigned long long)got_size, want_s,
                   (unsigned long long)pi->nar_size);
        close(fd);
        return NULL;
    }
    st_blob *b = ut_xcalloc(1, sizeof *b);
    b->fd = fd;
    b->size = got_size;
    return b;
}

bool st_blob_stream(st_blob *b, st_sink_fn sink, void *ctx, ut_err *e)
{
    char *buf = ut_xmalloc(1 << 20);
    bool ok = true;
    for (uint64_t off = 0; ok && off < b->size;) {
        size_t want = b->size - off > (1 << 20) ? (1 << 20) : (size_t)(b->size - off);
        ssize_t n = pread(b->fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = ut_err_set(e, "reading a verified NAR: %s", n < 0 ? strerror(errno) : "it shrank");
            break;
        }
        ok = sink(ctx, buf, (size_t)n, e);
        off += (uint64_t)n;
    }
    free(buf);
    return ok;
}
