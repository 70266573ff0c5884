/* A persistent cache of the hashes of source trees, so that adding an
 * unchanged tree to the store again (every evaluation copies the same
 * sources) costs a stat walk instead of reading and hashing every file.
 *
 * An entry is keyed by the method and the absolute path, and holds the
 * tree's stamp: a sha256 over every entry's relative name, type and mode,
 * size, mtime and ctime in nanoseconds, inode and device, in NAR order.
 * A hit needs the stamp taken now to equal the recorded one. ctime cannot
 * be set by users and moves on every change of contents, mode, or link
 * count, so contents written after the recorded walk show there even when
 * the size and mtime are put back. A symlink's target cannot be changed in
 * place (only by making a new link: a new ctime, usually a new inode), so
 * its stamp needs no readlink.
 *
 * File systems take timestamps from a coarse clock (a jiffy, or seconds
 * and worse on some), so a change made just after the walk can carry the
 * very timestamp the walk saw. A stamp is therefore recorded only when
 * every entry's mtime and ctime is older than the walk's start minus a
 * settle time; a tree touched more recently is hashed each time until it
 * settles (git's "racily clean" entries).
 *
 * Entries are small text files, one per object, written to a temporary
 * name and renamed, so concurrent processes see whole entries or none, and
 * the last writer wins. Each ends in the sha256 of what precedes it; an
 * entry that is truncated, damaged, of another version or for another
 * path is a miss and gets rewritten. Entries not rewritten for a month
 * are swept out now and then. Nothing here is ever an error. */
#include "store/pathcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PC_MAGIC "straylight path hash cache 1\n"
#define PC_SETTLE_MS_DEFAULT 2000
#define PC_ENTRY_MAX 8192
#define PC_KEEP_DAYS 30

struct st_path_cache {
    char *dir;
    int64_t settle_ns;
    bool unwritable;       /* a write failed: do not try again in this process */
    st_path_cache_stats stats;
};

char *st_path_cache_default_dir(void)
{
    /* XDG says a relative XDG_CACHE_HOME is to be ignored */
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    ut_buf b = UT_BUF_INIT;
    if (x && x[0] == '/') ut_buf_printf(&b, "%s/straylight/path-hashes", x);
    else if (home && home[0] == '/') ut_buf_printf(&b, "%s/.cache/straylight/path-hashes", home);
    else return NULL;
    return ut_buf_steal(&b, NULL);
}

st_path_cache *st_path_cache_new(const char *dir, int64_t settle_ms)
{
    st_path_cache *c = ut_xcalloc(1, sizeof *c);
    c->dir = ut_xstrdup(dir);
    c->settle_ns = (settle_ms < 0 ? PC_SETTLE_MS_DEFAULT : settle_ms) * 1000000;
    return c;
}

void st_path_cache_free(st_path_cache *c)
{
    if (!c) return;
    free(c->dir);
    free(c);
}

void st_path_cache_get_stats(const st_path_cache *c, st_path_cache_stats *out)
{
    if (c) *out = c->stats;
    else memset(out, 0, sizeof *out);
}

/* ---- stamps ---- */

typedef struct stamper {
    nc_hasher *h;
    int64_t newest;        /* latest mtime or ctime seen, ns since the epoch */
} stamper;

static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* One entry: a tag, the fixed fields, then the name (its length is a
 * field, so no name can be read as another's fields). */
static void stamp_entry(stamper *s, const char *name, size_t nlen, const struct stat *st)
{
    uint8_t b[1 + 8 * 8];
    int64_t m = ts_ns(st->st_mtim), c = ts_ns(st->st_ctim);
    b[0] = 'e';
    put_u64(b + 1, nlen);
    put_u64(b + 9, (uint64_t)st->st_mode);
    put_u64(b + 17, (uint64_t)st->st_size);
    put_u64(b + 25, (uint64_t)m);
    put_u64(b + 33, (uint64_t)c);
    put_u64(b + 41, (uint64_t)st->st_ino);
    put_u64(b + 49, (uint64_t)st->st_dev);
    put_u64(b + 57, (uint64_t)st->st_nlink);
    nc_hasher_update(s->h, b, sizeof b);
    nc_hasher_update(s->h, name, nlen);
    if (m > s->newest) s->newest = m;
    if (c > s->newest) s->newest = c;
}

/* The entries of the directory open at dfd, in NAR order (names sorted
 * bytewise), each directory's entries followed by an end tag. */
static bool stamp_dir(stamper *s, int dfd)
{
    ut_dirent *ents = NULL;
    size_t n = 0;
    ut_err e = UT_ERR_INIT;
    if (!ut_dir_list(dfd, &ents, &n, &e)) {
        ut_err_clear(&e);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        struct stat st;
        if (fstatat(dfd, ents[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            ok = false;
            break;
        }
        stamp_entry(s, ents[i].name, strlen(ents[i].name), &st);
        if (S_ISDIR(st.st_mode)) {
            int fd = openat(dfd, ents[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                ok = false;
                break;
            }
            ok = stamp_dir(s, fd);
            close(fd);
        }
    }
    ut_dir_list_free(ents, n);
    nc_hasher_update(s->h, "u", 1);
    return ok;
}

static bool stamp_tree(const char *fs_path, int64_t *newest, uint8_t out[32])
{
    struct stat st;
    if (lstat(fs_path, &st) != 0) return false;
    stamper s = {nc_hasher_new(NC_HASH_SHA256), INT64_MIN};
    stamp_entry(&s, "", 0, &st);
    bool ok = true;
    if (S_ISDIR(st.st_mode)) {
        int fd = open(fs_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ok = fd >= 0 && stamp_dir(&s, fd);
        if (fd >= 0) close(fd);
    }
    nc_hash h;
    nc_hasher_finish(s.h, &h);
    memcpy(out, h.bytes, 32);
    *newest = s.newest;
    return ok;
}

/* ---- entries ---- */

static const char *method_name(nc_ca_method m) { return m == NC_CA_FLAT ? "flat" : "nar"; }

static void hex(ut_buf *b, const uint8_t *p, size_t n)
{
    char tmp[2 * 64 + 1];
    nc_base16_encode(p, n, tmp);
    ut_buf_append(b, tmp, 2 * n);
}

/* Everything an entry says before its results: what it is about. */
static void entry_head(ut_buf *b, const char *fs_path, nc_ca_method method, const uint8_t stamp[32])
{
    ut_buf_puts(b, PC_MAGIC);
    ut_buf_printf(b, "%s\n%s\n", fs_path, method_name(method));
    hex(b, stamp, 32);
    ut_buf_putc(b, '\n');
}

static char *entry_path(const st_path_cache *c, const char *key)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%s", c->dir, key);
    return ut_buf_steal(&b, NULL);
}

/* Reads the 64 hex digits at p as 32 bytes. */
static bool unhex32(const char *p, uint8_t out[32])
{
    size_t n = 0;
    return nc_base16_decode(p, 64, out, &n) && n == 32;
}

/* The results after the head: "<nar hash>\n<nar size>\n<flat hash or ->\n". */
static bool parse_results(const char *p, const char *end, nc_ca_method method, st_path_hashes *out)
{
    if (end - p < 65 || p[64] != '\n' || !unhex32(p, out->nar_hash.bytes)) return false;
    out->nar_hash.algo = NC_HASH_SHA256;
    p += 65;
    uint64_t size = 0;
    const char *d = p;
    while (p < end && *p >= '0' && *p <= '9' && p - d < 20) size = size * 10 + (uint64_t)(*p++ - '0');
    if (p == d || p >= end || *p++ != '\n') return false;
    out->nar_size = size;
    memset(&out->flat_hash, 0, sizeof out->flat_hash);
    if (method == NC_CA_FLAT) {
        if (end - p != 65 || p[64] != '\n' || !unhex32(p, out->flat_hash.bytes)) return false;
        out->flat_hash.algo = NC_HASH_SHA256;
        return true;
    }
    return end - p == 2 && p[0] == '-' && p[1] == '\n';
}

static bool read_entry(const st_path_cache *c, const char *key, ut_buf *out)
{
    char *path = entry_path(c, key);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(path);
    if (fd < 0) return false;
    ut_buf_reserve(out, PC_ENTRY_MAX + 1);
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, out->data + out->len, PC_ENTRY_MAX + 1 - out->len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        out->len += (size_t)n;
        if (out->len > PC_ENTRY_MAX) {
            ok = false;
            break;
        }
    }
    close(fd);
    return ok;
}

bool st_path_cache_lookup(st_path_cache *c, const char *fs_path, nc_ca_method method, st_path_cache_probe *p,
                          st_path_hashes *out)
{
    memset(p, 0, sizeof *p);
    if (!c || fs_path[0] != '/' || strchr(fs_path, '\n') || strlen(fs_path) > PC_ENTRY_MAX / 2) return false;
    if (method != NC_CA_NAR && method != NC_CA_FLAT) return false;
    /* the start is taken before the walk: whatever changes after it gets a
     * timestamp no older than the start (less a clock tick), which the
     * settle time keeps clear of every recorded one */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t newest;
    if (!stamp_tree(fs_path, &newest, p->stamp)) return false;
    p->stamped = true;
    p->settled = newest < ts_ns(now) - c->settle_ns;
    uint8_t kh[32];
    {
        nc_hasher *h = nc_hasher_new(NC_HASH_SHA256);
        nc_hasher_update(h, method_name(method), strlen(method_name(method)) + 1);
        nc_hasher_update(h, fs_path, strlen(fs_path));
        nc_hash k;
        nc_hasher_finish(h, &k);
        memcpy(kh, k.bytes, 32);
    }
    nc_base16_encode(kh, 32, p->key);
    p->key[64] = 0;

    ut_buf text = UT_BUF_INIT, head = UT_BUF_INIT;
    bool hit = false;
    if (read_entry(c, p->key, &text) && text.len > 65) {
        /* "<sha256 of the rest>\n" closes the entry */
        size_t body = text.len - 65;
        uint8_t sum[32];
        nc_hash h;
        nc_hash_bytes(NC_HASH_SHA256, text.data, body, &h);
        entry_head(&head, fs_path, method, p->stamp);
        hit = text.data[text.len - 1] == '\n' && unhex32(text.data + body, sum) && !memcmp(sum, h.bytes, 32) &&
              body > head.len && !memcmp(text.data, head.data, head.len) &&
              parse_results(text.data + head.len, text.data + body, method, out);
    }
    ut_buf_free(&text);
    ut_buf_free(&head);
    if (hit) c->stats.hits++;
    else c->stats.misses++;
    return hit;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

void st_path_cache_trim(st_path_cache *c, int64_t max_age_s)
{
    int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    ut_dirent *ents = NULL;
    size_t n = 0;
    ut_err e = UT_ERR_INIT;
    if (!ut_dir_list(dfd, &ents, &n, &e)) {
        ut_err_clear(&e);
        close(dfd);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (size_t i = 0; i < n; i++) {
        /* entries, and temporary files a crashed writer left ("<key>.XXXXXX") */
        const char *nm = ents[i].name;
        if (strlen(nm) < 64 || strspn(nm, "0123456789abcdef") < 64 || (nm[64] && nm[64] != '.')) continue;
        struct stat st;
        if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            now.tv_sec - st.st_mtim.tv_sec > max_age_s)
            unlinkat(dfd, nm, 0);
    }
    ut_dir_list_free(ents, n);
    close(dfd);
}

void st_path_cache_record(st_path_cache *c, const char *fs_path, nc_ca_method method, const st_path_cache_probe *p,
                          const st_path_hashes *h)
{
    if (!c || !p->stamped) return;
    if (!p->settled) {
        c->stats.unsettled++;
        return;
    }
    if (c->unwritable) return;
    ut_buf b = UT_BUF_INIT;
    entry_head(&b, fs_path, method, p->stamp);
    hex(&b, h->nar_hash.bytes, 32);
    ut_buf_printf(&b, "\n%llu\n", (unsigned long long)h->nar_size);
    if (method == NC_CA_FLAT) hex(&b, h->flat_hash.bytes, 32);
    else ut_buf_putc(&b, '-');
    ut_buf_putc(&b, '\n');
    nc_hash sum;
    nc_hash_bytes(NC_HASH_SHA256, b.data, b.len, &sum);
    hex(&b, sum.bytes, 32);
    ut_buf_putc(&b, '\n');

    /* No fsync: an entry lost or torn by a crash fails its checksum and
     * is simply a miss. */
    char *final = entry_path(c, p->key);
    ut_buf tmp = UT_BUF_INIT;
    ut_buf_printf(&tmp, "%s.XXXXXX", final);
    int fd = mkstemp(tmp.data);
    if (fd < 0 && errno == ENOENT) {
        ut_err e = UT_ERR_INIT;
        if (ut_mkdirs(c->dir, 0700, &e)) {
            /* the failed try filled in the template */
            ut_buf_clear(&tmp);
            ut_buf_printf(&tmp, "%s.XXXXXX", final);
            fd = mkstemp(tmp.data);
        }
        ut_err_clear(&e);
    }
    bool ok = fd >= 0;
    if (ok) {
        ok = write_all(fd, b.data, b.len);
        ok = close(fd) == 0 && ok;
        ok = ok && rename(tmp.data, final) == 0;
        if (!ok) unlink(tmp.data);
    }
    if (ok) c->stats.recorded++;
    else c->unwritable = true;
    /* Paths come and go (temporary trees, moved checkouts): now and then
     * a writer sweeps out entries written long ago. An entry still in use
     * costs one hashing to come back. The stamp is a hash of the tree,
     * so its first byte picks about one write in 64. */
    if (ok && (p->stamp[0] & 63) == 0) st_path_cache_trim(c, PC_KEEP_DAYS * 86400);
    free(final);
    ut_buf_free(&tmp);
    ut_buf_free(&b);
}
