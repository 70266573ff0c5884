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
 * All entries live in one log file: creating a file per entry cost more
 * than the hashing it saved on some file systems. The log is read whole on
 * the first lookup into a map (a later record for a key supersedes an
 * earlier one); records made during the run are appended when the handle
 * is freed (or when a batch fills up) with O_APPEND, one write() per batch,
 * so concurrent writers interleave whole batches. Each record is one line
 * that starts with a marker and ends in the sha256 of the rest: a torn or
 * damaged record is skipped (the reader looks for the next marker) and is
 * a miss. When most records are superseded or older than a month, the live
 * ones are rewritten to a temporary file that is renamed over the log.
 * Nothing here is ever an error. */
#include "store/pathcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PC_LOG "v1.log"
#define PC_MARK "@pc1 "
#define PC_SETTLE_MS_DEFAULT 2000
#define PC_RECORD_MAX 8192
#define PC_KEEP_DAYS 30
#define PC_BATCH_MAX (64 * 1024)        /* pending bytes that make a write before the end */
#define PC_COMPACT_MIN (32 * 1024)      /* a smaller log is never worth rewriting */
#define PC_FILE_MAX (64 * 1024 * 1024)  /* a larger log is not read, only replaced */

typedef struct pc_entry {
    uint8_t stamp[32];
    st_path_hashes h;
    int64_t written;       /* seconds since the epoch */
} pc_entry;

struct st_path_cache {
    char *dir, *log;
    int64_t settle_ns;
    bool loaded;
    bool unwritable;       /* appending is impossible: do not try again in this process */
    bool oversize;         /* the log was too large to read: replace it */
    int fd;                /* the log, open for appending; -1 until needed */
    ut_hmap *map;          /* method letter + path -> pc_entry* */
    size_t file_records;   /* records in the log: read, and appended by this handle */
    uint64_t file_bytes;
    ut_buf pending;        /* records not yet appended */
    pid_t pending_pid;     /* a forked child must not append its parent's records */
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
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%s", dir, PC_LOG);
    c->log = ut_buf_steal(&b, NULL);
    c->settle_ns = (settle_ms < 0 ? PC_SETTLE_MS_DEFAULT : settle_ms) * 1000000;
    c->fd = -1;
    c->map = ut_hmap_new();
    return c;
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

/* ---- records ---- */

/* "@pc1 <written> <nar|flat> <stamp> <nar hash> <nar size> <flat hash or -> <path> <sha256 of all before the space>\n"
 * The path is last but one: it may hold spaces, never a newline. */

static void hex(ut_buf *b, const uint8_t *p, size_t n)
{
    char tmp[2 * 64 + 1];
    nc_base16_encode(p, n, tmp);
    ut_buf_append(b, tmp, 2 * n);
}

static bool unhex32(const char *p, uint8_t out[32])
{
    size_t n = 0;
    return nc_base16_decode(p, 64, out, &n) && n == 32;
}

static void put_record(ut_buf *b, char method, const char *path, size_t plen, const pc_entry *en)
{
    size_t start = b->len;
    ut_buf_printf(b, PC_MARK "%lld %s ", (long long)en->written, method == 'f' ? "flat" : "nar");
    hex(b, en->stamp, 32);
    ut_buf_putc(b, ' ');
    hex(b, en->h.nar_hash.bytes, 32);
    ut_buf_printf(b, " %llu ", (unsigned long long)en->h.nar_size);
    if (method == 'f') hex(b, en->h.flat_hash.bytes, 32);
    else ut_buf_putc(b, '-');
    ut_buf_putc(b, ' ');
    ut_buf_append(b, path, plen);
    nc_hash sum;
    nc_hash_bytes(NC_HASH_SHA256, b->data + start, b->len - start, &sum);
    ut_buf_putc(b, ' ');
    hex(b, sum.bytes, 32);
    ut_buf_putc(b, '\n');
}

static bool parse_u64(const char **pp, const char *end, uint64_t *out)
{
    const char *p = *pp, *d = p;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - d < 19) v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == d || p >= end || *p != ' ') return false;
    *out = v;
    *pp = p + 1;
    return true;
}

static bool parse_hex_field(const char **pp, const char *end, uint8_t out[32])
{
    const char *p = *pp;
    if (end - p < 65 || p[64] != ' ' || !unhex32(p, out)) return false;
    *pp = p + 65;
    return true;
}

/* One record, line[0..len) without its newline; the key is written to *key. */
static bool parse_record(const char *line, size_t len, ut_buf *key, pc_entry *en)
{
    if (len < sizeof PC_MARK - 1 + 65 || len > PC_RECORD_MAX) return false;
    const char *end = line + len - 65, *p = line + sizeof PC_MARK - 1;
    uint8_t want[32];
    if (*end != ' ' || !unhex32(end + 1, want)) return false;
    nc_hash sum;
    nc_hash_bytes(NC_HASH_SHA256, line, (size_t)(end - line), &sum);
    if (memcmp(sum.bytes, want, 32) != 0) return false;
    memset(en, 0, sizeof *en);
    uint64_t written;
    if (!parse_u64(&p, end, &written)) return false;
    en->written = (int64_t)written;
    char method;
    if (end - p > 5 && !memcmp(p, "flat ", 5)) method = 'f', p += 5;
    else if (end - p > 4 && !memcmp(p, "nar ", 4)) method = 'n', p += 4;
    else return false;
    if (!parse_hex_field(&p, end, en->stamp) || !parse_hex_field(&p, end, en->h.nar_hash.bytes)) return false;
    en->h.nar_hash.algo = NC_HASH_SHA256;
    if (!parse_u64(&p, end, &en->h.nar_size)) return false;
    if (method == 'f') {
        if (!parse_hex_field(&p, end, en->h.flat_hash.bytes)) return false;
        en->h.flat_hash.algo = NC_HASH_SHA256;
    } else {
        if (end - p < 2 || p[0] != '-' || p[1] != ' ') return false;
        p += 2;
    }
    if (p >= end || *p != '/') return false;
    ut_buf_clear(key);
    ut_buf_putc(key, method);
    ut_buf_append(key, p, (size_t)(end - p));
    return true;
}

static void put_entry(ut_hmap *m, const char *key, size_t klen, const pc_entry *en)
{
    pc_entry *v = ut_xmalloc(sizeof *v);
    *v = *en;
    free(ut_hmap_put(m, key, klen, v));
}

/* Every valid record of text into m, in order; returns how many. Garbage
 * (a torn append, damage) is skipped up to the next marker; a record
 * without its newline (an append still being written, or cut short) ends
 * the reading. */
static size_t parse_log(const char *text, size_t n, ut_hmap *m)
{
    const char *p = text, *end = text + n;
    size_t count = 0;
    ut_buf key = UT_BUF_INIT;
    while (p < end) {
        const char *r = memmem(p, (size_t)(end - p), PC_MARK, sizeof PC_MARK - 1);
        if (!r) break;
        const char *nl = memchr(r, '\n', (size_t)(end - r));
        if (!nl) break;
        pc_entry en;
        if (parse_record(r, (size_t)(nl - r), &key, &en)) {
            put_entry(m, key.data, key.len, &en);
            count++;
            p = nl + 1;
        } else {
            p = r + 1;
        }
    }
    ut_buf_free(&key);
    return count;
}

/* Reads the whole file open at fd; false when it is not a regular file or
 * is too large to be worth reading. */
static bool read_log(int fd, ut_buf *out, bool *oversize)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (st.st_size > PC_FILE_MAX) {
        *oversize = true;
        return true;
    }
    ut_buf_reserve(out, (size_t)st.st_size + 1);
    for (;;) {
        if (out->len == out->cap) ut_buf_reserve(out, 4096);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out->len += (size_t)n;
        /* appends made since the fstat are left for the next run */
        if (out->len == (size_t)st.st_size) return true;
        if (out->len > PC_FILE_MAX) {
            *oversize = true;
            ut_buf_clear(out);
            return true;
        }
    }
}

/* One open and one read of the whole log, on the first lookup. The log
 * stays open for this handle's appends when it can be written. */
static void load(st_path_cache *c)
{
    if (c->loaded) return;
    c->loaded = true;
    int fd = open(c->log, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno != ENOENT) {
        /* read-only (file or file system), or not a file at all */
        c->unwritable = true;
        fd = open(c->log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) return;
    ut_buf text = UT_BUF_INIT;
    bool oversize = false;
    if (!read_log(fd, &text, &oversize)) {
        c->unwritable = true;
        close(fd);
        ut_buf_free(&text);
        return;
    }
    c->oversize = oversize;
    c->file_bytes = text.len;
    c->file_records = parse_log(text.data, text.len, c->map);
    ut_buf_free(&text);
    if (c->unwritable) close(fd);
    else c->fd = fd;
}

/* ---- lookups and records ---- */

static char method_letter(nc_ca_method m) { return m == NC_CA_FLAT ? 'f' : 'n'; }

static void make_key(ut_buf *k, nc_ca_method method, const char *fs_path)
{
    ut_buf_putc(k, method_letter(method));
    ut_buf_puts(k, fs_path);
}

bool st_path_cache_lookup(st_path_cache *c, const char *fs_path, nc_ca_method method, st_path_cache_probe *p,
                          st_path_hashes *out)
{
    memset(p, 0, sizeof *p);
    if (!c || fs_path[0] != '/' || strchr(fs_path, '\n') || strlen(fs_path) > PC_RECORD_MAX / 2) return false;
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
    load(c);
    ut_buf k = UT_BUF_INIT;
    make_key(&k, method, fs_path);
    const pc_entry *en = ut_hmap_get(c->map, k.data, k.len);
    ut_buf_free(&k);
    bool hit = en && !memcmp(en->stamp, p->stamp, 32);
    if (hit) {
        *out = en->h;
        if (method != NC_CA_FLAT) memset(&out->flat_hash, 0, sizeof out->flat_hash);
        c->stats.hits++;
    } else {
        c->stats.misses++;
    }
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

/* Opens (creating it and its directory) the log for appending. */
static bool open_for_append(st_path_cache *c)
{
    if (c->fd >= 0) return true;
    if (c->unwritable) return false;
    int fd = open(c->log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {
        ut_err e = UT_ERR_INIT;
        if (ut_mkdirs(c->dir, 0700, &e)) fd = open(c->log, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        ut_err_clear(&e);
    }
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        c->unwritable = true;
        return false;
    }
    c->fd = fd;
    return true;
}

/* Appends the pending records in one write: O_APPEND puts each write
 * whole at the end, so concurrent writers' batches do not mix. No fsync:
 * a record lost or torn by a crash fails its checksum and is a miss. */
static void flush(st_path_cache *c)
{
    if (!c->pending.len) return;
    /* another process may have compacted the log since it was opened:
     * appending to the file it replaced would lose the batch */
    struct stat a, b;
    if (c->fd >= 0 && c->pending_pid == getpid() &&
        (fstat(c->fd, &a) != 0 || stat(c->log, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
        close(c->fd);
        c->fd = -1;
        open_for_append(c);
    }
    if (c->pending_pid == getpid() && c->fd >= 0) {
        ssize_t w;
        do w = write(c->fd, c->pending.data, c->pending.len);
        while (w < 0 && errno == EINTR);
        if (w > 0) c->file_bytes += (uint64_t)w;
    }
    ut_buf_clear(&c->pending);
}

static void now_s(int64_t *out)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    *out = (int64_t)t.tv_sec;
}

void st_path_cache_record(st_path_cache *c, const char *fs_path, nc_ca_method method, const st_path_cache_probe *p,
                          const st_path_hashes *h)
{
    if (!c || !p->stamped) return;
    if (!p->settled) {
        c->stats.unsettled++;
        return;
    }
    load(c);
    if (!open_for_append(c)) return;
    pc_entry en;
    memset(&en, 0, sizeof en);
    memcpy(en.stamp, p->stamp, 32);
    en.h = *h;
    if (method != NC_CA_FLAT) memset(&en.h.flat_hash, 0, sizeof en.h.flat_hash);
    now_s(&en.written);
    ut_buf k = UT_BUF_INIT;
    make_key(&k, method, fs_path);
    if (c->pending.len && c->pending_pid != getpid()) ut_buf_clear(&c->pending);
    c->pending_pid = getpid();
    put_record(&c->pending, k.data[0], k.data + 1, k.len - 1, &en);
    put_entry(c->map, k.data, k.len, &en);
    ut_buf_free(&k);
    c->file_records++;
    c->stats.recorded++;
    if (c->pending.len >= PC_BATCH_MAX) flush(c);
}

/* A compaction killed between writing its temporary file and renaming it
 * leaves that file behind. The next compaction removes those a day old:
 * younger ones may be another process's compaction in progress. */
#define PC_STALE_TEMP_S 86400

static void remove_stale_temps(const st_path_cache *c)
{
    const char *base = strrchr(c->log, '/');
    base = base ? base + 1 : c->log;
    size_t bl = strlen(base);
    DIR *d = opendir(c->dir);
    if (!d) return;
    int64_t now;
    now_s(&now);
    struct dirent *de;
    while ((de = readdir(d))) {
        /* the log's name, a dot and mkstemp's six characters */
        if (strlen(de->d_name) != bl + 7 || strncmp(de->d_name, base, bl) != 0 || de->d_name[bl] != '.') continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (now - (int64_t)st.st_mtime >= PC_STALE_TEMP_S) (void)unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* Rewrites the log with only its live records: the latest per key,
 * written no more than max_age_s ago. The log is read again first, so
 * records other processes appended since the load are kept; one appended
 * between that read and the rename is lost (a miss, hashed again). */
static void compact(st_path_cache *c, int64_t max_age_s)
{
    ut_hmap *m = ut_hmap_new();
    size_t live = 0;
    if (c->oversize) {
        /* what this handle knows is all that is worth keeping */
        size_t it = 0;
        const char *k;
        size_t kl;
        void *v;
        while (ut_hmap_next(c->map, &it, &k, &kl, &v)) put_entry(m, k, kl, v);
    } else {
        int fd = open(c->log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            ut_hmap_free(m);
            return;
        }
        ut_buf text = UT_BUF_INIT;
        bool oversize = false, ok = read_log(fd, &text, &oversize);
        close(fd);
        if (ok) parse_log(text.data, text.len, m);
        ut_buf_free(&text);
        if (!ok) {
            ut_hmap_free_values(m);
            return;
        }
    }
    int64_t now;
    now_s(&now);
    ut_buf out = UT_BUF_INIT;
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(m, &it, &k, &kl, &v)) {
        const pc_entry *en = v;
        if (now - en->written > max_age_s) continue;
        put_record(&out, k[0], k + 1, kl - 1, en);
        live++;
    }
    ut_hmap_free_values(m);
    remove_stale_temps(c);
    ut_buf tmp = UT_BUF_INIT;
    ut_buf_printf(&tmp, "%s.XXXXXX", c->log);
    int fd = mkstemp(tmp.data);
    bool ok = fd >= 0;
    if (ok) {
        ok = write_all(fd, out.data, out.len);
        ok = close(fd) == 0 && ok;
        ok = ok && rename(tmp.data, c->log) == 0;
        if (!ok) unlink(tmp.data);
    }
    if (ok) {
        c->file_records = live;
        c->file_bytes = out.len;
        c->oversize = false;
        /* appends must go to the new file */
        if (c->fd >= 0) close(c->fd);
        c->fd = -1;
    }
    ut_buf_free(&tmp);
    ut_buf_free(&out);
}

/* Live entries: the latest per key, not older than max_age_s. */
static size_t count_live(const st_path_cache *c, int64_t max_age_s)
{
    int64_t now;
    now_s(&now);
    size_t n = 0, it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(c->map, &it, &k, &kl, &v))
        if (now - ((const pc_entry *)v)->written <= max_age_s) n++;
    return n;
}

void st_path_cache_trim(st_path_cache *c, int64_t max_age_s)
{
    load(c);
    flush(c);
    if (c->unwritable) return;
    compact(c, max_age_s);
}

void st_path_cache_free(st_path_cache *c)
{
    if (!c) return;
    flush(c);
    /* superseded and month-old records past the live ones, in a log large
     * enough to matter: rewrite it (this handle appended, so it may) */
    if (c->fd >= 0 && !c->unwritable &&
        (c->oversize ||
         (c->file_bytes > PC_COMPACT_MIN && c->file_records > 2 * count_live(c, PC_KEEP_DAYS * 86400))))
        compact(c, PC_KEEP_DAYS * 86400);
    if (c->fd >= 0) close(c->fd);
    ut_buf_free(&c->pending);
    ut_hmap_free_values(c->map);
    free(c->log);
    free(c->dir);
    free(c);
}
