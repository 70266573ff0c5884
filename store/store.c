/* The store proper: path info as narinfo, NAR blobs by sha256, verified
 * reads, atomic writes, closures, verify, gc and copy over any backend. */
#include "store/store.h"

#include "compat/narinfo.h"
#include "compat/nixbase32.h"
#include "compat/storepath.h"
#include "store/blob.h"
#include "store/nar_fs.h"
#include "store/pathcache.h"

#include <dirent.h>
#include "store/lazy_archive.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct st_store {
    st_backend *be;
    char *store_dir;
    bool binary_cache;          /* nar/<nix32>.nar blob keys */
    bool xz;                    /* compress new blobs with xz (Compression: xz) */
    bool dry;
    bool cache_info_done;
    st_secret_key *sign_key;
    st_trusted_keys require;    /* n > 0: signatures required */
    ut_hmap *known;             /* hash part -> (void*)1: valid in this store */
    st_path_cache *pcache;      /* NULL: none */
    bool pcache_set;            /* pcache decided (else the default, on first use) */
};

/* ---------- small things ---------- */

void st_strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void st_path_info_free(st_path_info *pi)
{
    if (!pi) return;
    free(pi->path);
    st_strv_free(pi->refs, pi->nrefs);
    free(pi->deriver);
    free(pi->ca);
    st_strv_free(pi->sigs, pi->nsigs);
    free(pi->url);
    free(pi->compression);
    free(pi);
}

const char *st_store_dir(const st_store *st) { return st->store_dir; }
const char *st_store_url(const st_store *st) { return st->be->url; }
st_backend *st_store_backend(st_store *st) { return st->be; }
bool st_store_is_dry(const st_store *st) { return st->dry; }

static int strp_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted, unique copy of a list of strings. */
static char **sorted_unique(const char *const *v, size_t n, size_t *nout)
{
    char **r = ut_xcalloc(n + 1, sizeof *r);
    for (size_t i = 0; i < n; i++) r[i] = ut_xstrdup(v[i]);
    qsort(r, n, sizeof *r, strp_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && !strcmp(r[k - 1], r[i])) {
            free(r[i]);
            continue;
        }
        r[k++] = r[i];
    }
    *nout = k;
    return r;
}

/* Checks a full store path and gives its hash part (32 chars + NUL). */
static bool path_hash(const st_store *st, const char *path, char hash[NC_STORE_HASH_LEN + 1], ut_err *e)
{
    nc_store_path_parts parts;
    if (!nc_store_path_parse(st->store_dir, nc_str_c(path), &parts, e)) return false;
    memcpy(hash, parts.hash.s, NC_STORE_HASH_LEN);
    hash[NC_STORE_HASH_LEN] = 0;
    return true;
}

static char *info_key(const char *hash)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s.narinfo", hash);
    return ut_buf_steal(&b, NULL);
}

static char *blob_key_ext(const st_store *st, const nc_hash *h, const char *ext)
{
    ut_buf b = UT_BUF_INIT;
    if (st->binary_cache) {
        ut_buf_puts(&b, "nar/");
        nc_hash_append(&b, h, NC_HASH_NIX32, false);
        ut_buf_printf(&b, ".nar%s", ext);
    } else {
        ut_buf_puts(&b, "cas/");
        nc_hash_append(&b, h, NC_HASH_BASE16, false);
        ut_buf_puts(&b, ext);
    }
    return ut_buf_steal(&b, NULL);
}

static char *blob_key(const st_store *st, const nc_hash *h) { return blob_key_ext(st, h, ""); }

static void mark_known(st_store *st, const char *hash)
{
    ut_hmap_put(st->known, hash, NC_STORE_HASH_LEN, (void *)1);
}

/* ---------- opening ---------- */

void st_store_set_signing_key(st_store *st, const st_secret_key *sk)
{
    if (st->sign_key) {
        st_secret_key_wipe(st->sign_key);
        free(st->sign_key);
        st->sign_key = NULL;
    }
    if (sk) st->sign_key = ut_xmemdup(sk, sizeof *sk);
}

void st_store_require_signatures(st_store *st, const st_trusted_keys *tk)
{
    st_trusted_keys_free(&st->require);
    if (tk && tk->n) {
        st->require.keys = ut_xmemdup(tk->keys, tk->n * sizeof *tk->keys);
        st->require.n = tk->n;
    }
}

void st_store_set_compression(st_store *st, bool xz) { st->xz = xz; }

st_store *st_store_open_backend(st_backend *be, const char *store_dir, bool binary_cache, ut_err *e)
{
    const char *sd = store_dir && *store_dir ? store_dir : NC_STORE_DIR_DEFAULT;
    if (sd[0] != '/' || (strlen(sd) > 1 && sd[strlen(sd) - 1] == '/')) {
        ut_err_set(e, "store directory '%s' must be absolute and have no trailing slash", sd);
        st_backend_free(be);
        return NULL;
    }
    st_store *st = ut_xcalloc(1, sizeof *st);
    st->be = be;
    st->store_dir = ut_xstrdup(sd);
    st->binary_cache = binary_cache;
    st->dry = !strcmp(be->ops->scheme, "dry");
    st->known = ut_hmap_new();
    return st;
}

void st_store_close(st_store *st)
{
    if (!st) return;
    st_backend_free(st->be);
    st_store_set_signing_key(st, NULL);
    st_trusted_keys_free(&st->require);
    ut_hmap_free(st->known);
    st_path_cache_free(st->pcache);
    free(st->store_dir);
    free(st);
}

/* Makes the store readable by Nix as a binary cache. */
static bool ensure_cache_info(st_store *st, ut_err *e)
{
    if (st->cache_info_done || st->dry) return true;
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "StoreDir: %s\nWantMassQuery: 1\nPriority: 40\n", st->store_dir);
    st_put_result r = st_backend_put_bytes(st->be, "nix-cache-info", b.data, b.len, ST_PUT_IF_ABSENT, e);
    ut_buf_free(&b);
    if (r == ST_PUT_ERROR) return false;
    st->cache_info_done = true;
    return true;
}

/* ---------- path info <-> narinfo ---------- */

static nc_narinfo *to_narinfo(const st_store *st, const st_path_info *pi)
{
    nc_narinfo *ni = nc_narinfo_new();
    ut_arena *a = ni->arena;
    ni->store_path = nc_str_c(ut_arena_strdup(a, pi->path));
    ni->url = nc_str_c(ut_arena_strdup(a, pi->url ? pi->url : ""));
    ni->compression = nc_str_c(ut_arena_strdup(a, pi->compression ? pi->compression : "none"));
    ni->has_file_hash = pi->has_file_hash;
    ni->file_hash = pi->file_hash;
    ni->file_size = pi->file_size;
    ni->nar_hash = pi->nar_hash;
    ni->nar_size = pi->nar_size;
    size_t sdl = strlen(st->store_dir);
    ni->refs = ut_arena_alloc(a, (pi->nrefs + 1) * sizeof *ni->refs);
    for (size_t i = 0; i < pi->nrefs; i++) {
        const char *r = pi->refs[i];
        if (!strncmp(r, st->store_dir, sdl) && r[sdl] == '/') r += sdl + 1;
        ni->refs[i] = nc_str_c(ut_arena_strdup(a, r));
    }
    ni->nrefs = pi->nrefs;
    if (pi->deriver) {
        const char *d = pi->deriver;
        if (!strncmp(d, st->store_dir, sdl) && d[sdl] == '/') d += sdl + 1;
        ni->deriver = nc_str_c(ut_arena_strdup(a, d));
    }
    ni->sigs = ut_arena_alloc(a, (pi->nsigs + 1) * sizeof *ni->sigs);
    for (size_t i = 0; i < pi->nsigs; i++) ni->sigs[i] = nc_str_c(ut_arena_strdup(a, pi->sigs[i]));
    ni->nsigs = pi->nsigs;
    if (pi->ca) ni->ca = nc_str_c(ut_arena_strdup(a, pi->ca));
    return ni;
}

static char *full_path(const st_store *st, nc_str base)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%.*s", st->store_dir, (int)base.len, base.s);
    return ut_buf_steal(&b, NULL);
}

static st_path_info *from_narinfo(const st_store *st, const nc_narinfo *ni)
{
    st_path_info *pi = ut_xcalloc(1, sizeof *pi);
    pi->path = ut_xstrndup(ni->store_path.s, ni->store_path.len);
    pi->url = ut_xstrndup(ni->url.s, ni->url.len);
    pi->compression = ni->compression.len ? ut_xstrndup(ni->compression.s, ni->compression.len) : ut_xstrdup("bzip2");
    pi->has_file_hash = ni->has_file_hash;
    pi->file_hash = ni->file_hash;
    pi->file_size = ni->file_size;
    pi->nar_hash = ni->nar_hash;
    pi->nar_size = ni->nar_size;
    pi->refs = ut_xcalloc(ni->nrefs + 1, sizeof *pi->refs);
    for (size_t i = 0; i < ni->nrefs; i++) pi->refs[i] = full_path(st, ni->refs[i]);
    pi->nrefs = ni->nrefs;
    qsort(pi->refs, pi->nrefs, sizeof *pi->refs, strp_cmp);
    if (ni->deriver.len) pi->deriver = full_path(st, ni->deriver);
    pi->sigs = ut_xcalloc(ni->nsigs + 1, sizeof *pi->sigs);
    for (size_t i = 0; i < ni->nsigs; i++) pi->sigs[i] = ut_xstrndup(ni->sigs[i].s, ni->sigs[i].len);
    pi->nsigs = ni->nsigs;
    if (ni->ca.len) pi->ca = ut_xstrndup(ni->ca.s, ni->ca.len);
    return pi;
}

bool st_path_info_fingerprint(const st_store *st, const st_path_info *pi, ut_buf *out, ut_err *e)
{
    nc_str *refs = ut_xcalloc(pi->nrefs + 1, sizeof *refs);
    for (size_t i = 0; i < pi->nrefs; i++) refs[i] = nc_str_c(pi->refs[i]);
    bool ok = nc_path_info_fingerprint(st->store_dir, nc_str_c(pi->path), &pi->nar_hash, pi->nar_size, refs,
                                       pi->nrefs, out, e);
    free(refs);
    return ok;
}

void st_path_info_narinfo(const st_store *st, const st_path_info *pi, ut_buf *out)
{
    nc_narinfo *ni = to_narinfo(st, pi);
    nc_narinfo_print(ni, st->store_dir, out);
    nc_narinfo_free(ni);
}

static void add_sig(st_path_info *pi, char *sig)
{
    for (size_t i = 0; i < pi->nsigs; i++)
        if (!strcmp(pi->sigs[i], sig)) {
            free(sig);
            return;
        }
    pi->sigs = ut_xrealloc(pi->sigs, (pi->nsigs + 2) * sizeof *pi->sigs);
    pi->sigs[pi->nsigs++] = sig;
}

static bool sign_info(const st_store *st, st_path_info *pi, const st_secret_key *sk, ut_err *e)
{
    ut_buf fp = UT_BUF_INIT;
    if (!st_path_info_fingerprint(st, pi, &fp, e)) {
        ut_buf_free(&fp);
        return false;
    }
    add_sig(pi, st_sign(sk, fp.data, fp.len));
    ut_buf_free(&fp);
    return true;
}

/* Writes the path info (signed with the store's key, if any). With
 * replace false the first writer wins and an existing info is kept. */
static bool write_info(st_store *st, st_path_info *pi, bool replace, ut_err *e)
{
    char hash[NC_STORE_HASH_LEN + 1];
    if (!path_hash(st, pi->path, hash, e)) return false;
    if (st->sign_key && !sign_info(st, pi, st->sign_key, e)) return false;
    if (!ensure_cache_info(st, e)) return false;
    if (!pi->has_file_hash && pi->compression && !strcmp(pi->compression, "none")) {
        /* Uncompressed: the file is the NAR. Nix writes both facts. */
        pi->has_file_hash = true;
        pi->file_hash = pi->nar_hash;
        pi->file_size = pi->nar_size;
    }
    ut_buf text = UT_BUF_INIT;
    st_path_info_narinfo(st, pi, &text);
    char *key = info_key(hash);
    st_put_result r = st_backend_put_bytes(st->be, key, text.data, text.len, replace ? 0 : ST_PUT_IF_ABSENT, e);
    free(key);
    ut_buf_free(&text);
    if (r == ST_PUT_ERROR) return false;
    mark_known(st, hash);
    return true;
}

/* ---------- reading path info ---------- */

/* A path whose name is computed from its NAR hash ("fixed:r:sha256", as
 * sources added by path/filterSource) needs no signature: the NAR is checked
 * against that hash on every read, as Nix treats such paths. */
static bool self_authenticating(const st_store *st, const st_path_info *pi)
{
    if (!pi->ca) return false;
    nc_content_address ca;
    ut_err e = UT_ERR_INIT;
    bool ok = nc_ca_parse(pi->ca, strlen(pi->ca), &ca, &e);
    ut_err_clear(&e);
    if (!ok || ca.method != NC_CA_NAR || ca.hash.algo != NC_HASH_SHA256 || !nc_hash_eq(&ca.hash, &pi->nar_hash))
        return false;
    nc_store_path_parts parts;
    if (!nc_store_path_parse(st->store_dir, nc_str_c(pi->path), &parts, &e)) {
        ut_err_clear(&e);
        return false;
    }
    nc_str *refs = ut_xcalloc(pi->nrefs + 1, sizeof *refs);
    size_t nr = 0;
    bool self = false;
    for (size_t i = 0; i < pi->nrefs; i++) {
        if (!strcmp(pi->refs[i], pi->path)) self = true;
        else refs[nr++] = nc_str_c(pi->refs[i]);
    }
    nc_refs r = {refs, nr, self};
    ut_buf want = UT_BUF_INIT;
    ok = nc_make_fixed_output_path(&want, st->store_dir, NC_CA_NAR, &ca.hash, parts.name, &r, &e) &&
         !strcmp(want.data, pi->path);
    ut_err_clear(&e);
    ut_buf_free(&want);
    free(refs);
    return ok;
}

static int query_hash(st_store *st, const char *hash, const char *whence, st_path_info **out, ut_err *e)
{
    char *key = info_key(hash);
    ut_buf text = UT_BUF_INIT;
    bool missing = false;
    if (!st_backend_get_bytes(st->be, key, &text, &missing, e)) {
        free(key);
        ut_buf_free(&text);
        if (missing) {
            ut_err_clear(e);
            return 0;
        }
        return -1;
    }
    ut_buf where = UT_BUF_INIT;
    ut_buf_printf(&where, "%s/%s", st->be->url, key);
    free(key);
    nc_narinfo *ni = nc_narinfo_parse(text.data, text.len, st->store_dir, where.data, e);
    ut_buf_free(&text);
    if (!ni) {
        ut_buf_free(&where);
        return -1;
    }
    st_path_info *pi = from_narinfo(st, ni);
    nc_narinfo_free(ni);
    int res = 1;
    char h2[NC_STORE_HASH_LEN + 1];
    if (!path_hash(st, pi->path, h2, e) || strcmp(h2, hash)) {
        if (!ut_err_isset(e)) ut_err_set(e, "%s: describes '%s', not a path with hash '%s'", where.data, pi->path, hash);
        res = -1;
    } else if (pi->nar_hash.algo != NC_HASH_SHA256) {
        ut_err_set(e, "%s: NarHash is not sha256", where.data);
        res = -1;
    } else if (st->require.n && !self_authenticating(st, pi)) {
        ut_buf fp = UT_BUF_INIT;
        if (!st_path_info_fingerprint(st, pi, &fp, e)) {
            res = -1;
        } else {
            bool good = false, unknown = true;
            for (size_t i = 0; i < pi->nsigs && !good; i++) {
                st_sig_status s = st_verify(&st->require, fp.data, fp.len, pi->sigs[i], strlen(pi->sigs[i]));
                if (s == ST_SIG_VALID) good = true;
                if (s != ST_SIG_UNKNOWN_SIGNER) unknown = false;
            }
            if (!good) {
                ut_err_set(e, "%s: '%s' %s", where.data, pi->path,
                           !pi->nsigs ? "is not signed"
                           : unknown  ? "is signed only by keys that are not trusted"
                                      : "has a signature that does not verify");
                res = -1;
            }
        }
        ut_buf_free(&fp);
    }
    (void)whence;
    ut_buf_free(&where);
    if (res < 0) {
        st_path_info_free(pi);
        return -1;
    }
    *out = pi;
    return 1;
}

int st_store_query(st_store *st, const char *path, st_path_info **out, ut_err *e)
{
    char hash[NC_STORE_HASH_LEN + 1];
    if (!path_hash(st, path, hash, e)) return -1;
    st_path_info *pi = NULL;
    int r = query_hash(st, hash, path, &pi, e);
    if (r == 1 && strcmp(pi->path, path)) {
        /* Same hash part, different name: not this path. */
        st_path_info_free(pi);
        return 0;
    }
    if (r == 1) {
        if (out) *out = pi;
        else st_path_info_free(pi);
    }
    return r;
}

/* ---------- writing blobs ---------- */

/* A NAR being written to a temporary file while it is hashed. */
typedef struct spool {
    int fd;
    char *path;
    char *buf;
    size_t len;
    int err;             /* errno of the first failed write */
    uint64_t total;
    st_refscan *scan;    /* references to look for in the bytes, or NULL */
    bool in_backend;     /* in the backend's tmp_dir: can be renamed into place */
} spool;

static bool spool_open(st_store *st, spool *sp, ut_err *e)
{
    memset(sp, 0, sizeof *sp);
    sp->fd = -1;
    const char *dir = st->be->ops->tmp_dir ? st->be->ops->tmp_dir(st->be) : NULL;
    sp->in_backend = dir != NULL;
    if (!dir) dir = ut_tmp_dir();
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/nar-XXXXXX", dir);
    sp->fd = mkstemp(p.data);
    if (sp->fd < 0) {
        ut_err_set(e, "creating a temporary file in '%s': %s", dir, strerror(errno));
        ut_buf_free(&p);
        return false;
    }
    fchmod(sp->fd, 0444);
    sp->path = ut_buf_steal(&p, NULL);
    sp->buf = ut_xmalloc(1 << 18);
    return true;
}

static void spool_flush(spool *sp)
{
    const char *p = sp->buf;
    size_t n = sp->len;
    while (n && !sp->err) {
        ssize_t w = write(sp->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            sp->err = errno;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    sp->len = 0;
}

static void spool_sink(void *ctx, const void *p, size_t n)
{
    spool *sp = ctx;
    sp->total += n;
    if (sp->scan) st_refscan_feed(sp->scan, p, n);
    if (sp->fd < 0) return;   /* scanning only (dry store) */
    if (sp->err) return;
    if (n >= (1 << 18)) {
        spool_flush(sp);
        const char *c = p;
        while (n && !sp->err) {
            ssize_t w = write(sp->fd, c, n);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                sp->err = errno;
                break;
            }
            c += w;
            n -= (size_t)w;
        }
        return;
    }
    if (sp->len + n > (1 << 18)) spool_flush(sp);
    memcpy(sp->buf + sp->len, p, n);
    sp->len += n;
}

static bool spool_finish(spool *sp, ut_err *e)
{
    spool_flush(sp);
    if (sp->err) return ut_err_set(e, "writing '%s': %s", sp->path, strerror(sp->err));
    return true;
}

static void spool_discard(spool *sp)
{
    if (sp->fd >= 0) close(sp->fd);
    if (sp->path) unlink(sp->path);
    free(sp->path);
    free(sp->buf);
    memset(sp, 0, sizeof *sp);
    sp->fd = -1;
}

/* Stores the spooled NAR under its hash (skipping the upload when a blob
 * with that hash exists already), then discards the spool. */
static bool put_spooled_blob(st_store *st, spool *sp, const nc_hash *h, uint64_t size, char **key_out, ut_err *e)
{
    char *key = blob_key(st, h);
    bool ok = true;
    uint64_t have = 0;
    int has = st->be->ops->has(st->be, key, &have, e);
    if (has < 0) {
        ok = false;
    } else if (has == 0 || have != size) {
        /* A blob of the wrong size is a damaged copy: replace it. */
        int flags = has == 0 ? ST_PUT_IF_ABSENT : 0;
        st_put_result r;
        if (st->be->ops->put_file && sp->in_backend) {
            close(sp->fd);
            sp->fd = -1;
            r = st->be->ops->put_file(st->be, key, sp->path, flags, e);
        } else {
            st_src src = {NULL, sp->fd, size, h->bytes};
            r = st->be->ops->put(st->be, key, &src, flags, e);
        }
        ok = r != ST_PUT_ERROR;
    }
    spool_discard(sp);
    if (ok) *key_out = key;
    else free(key);
    return ok;
}

static bool put_mem_blob(st_store *st, const void *p, size_t n, const nc_hash *h, char **key_out, ut_err *e)
{
    char *key = blob_key(st, h);
    uint64_t have = 0;
    int has = st->be->ops->has(st->be, key, &have, e);
    bool ok = has >= 0;
    if (ok && (has == 0 || have != n)) {
        st_src src = {p ? p : "", -1, n, h->bytes};
        ok = st->be->ops->put(st->be, key, &src, has == 0 ? ST_PUT_IF_ABSENT : 0, e) != ST_PUT_ERROR;
    }
    if (ok) *key_out = key;
    else free(key);
    return ok;
}

/* xz-compresses a NAR (fd, or mem when fd < 0) into a temporary file while
 * hashing the result, and stores it under its own hash: the blob of a
 * "Compression: xz" narinfo, as Nix's binary caches keep them. */
typedef struct xz_out {
    int fd;
    nc_hasher *h;
    uint64_t n;
    int err;
} xz_out;

static la_ssize_t xz_write(struct archive *a, void *ctx, const void *p, size_t n)
{
    (void)a;
    xz_out *o = ctx;
    const char *c = p;
    size_t left = n;
    while (left) {
        ssize_t w = write(o->fd, c, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            o->err = errno;
            return -1;
        }
        c += w;
        left -= (size_t)w;
    }
    nc_hasher_update(o->h, p, n);
    o->n += n;
    return (la_ssize_t)n;
}

static bool put_compressed(st_store *st, int nar_fd, const void *mem, uint64_t size, st_path_info *pi, ut_err *e)
{
    spool out;
    if (!spool_open(st, &out, e)) return false;
    xz_out o = {out.fd, nc_hasher_new(NC_HASH_SHA256), 0, 0};
    struct archive *a = archive_write_new();
    struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, "nar");
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_set_size(ent, (la_int64_t)size);
    bool ok = archive_write_add_filter_xz(a) == ARCHIVE_OK && archive_write_set_format_raw(a) == ARCHIVE_OK &&
              archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
              archive_write_open(a, &o, NULL, xz_write, NULL) == ARCHIVE_OK &&
              archive_write_header(a, ent) == ARCHIVE_OK;
    char *buf = ut_xmalloc(1 << 20);
    for (uint64_t off = 0; ok && off < size;) {
        size_t want = size - off > (1 << 20) ? (1 << 20) : (size_t)(size - off);
        const void *chunk = buf;
        if (nar_fd >= 0) {
            ssize_t n = pread(nar_fd, buf, want, (off_t)off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ok = false;
                break;
            }
            want = (size_t)n;
        } else {
            chunk = (const char *)mem + off;
        }
        ok = archive_write_data(a, chunk, want) == (la_ssize_t)want;
        off += want;
    }
    free(buf);
    if (archive_write_close(a) != ARCHIVE_OK) ok = false;
    if (!ok)
        ut_err_set(e, "compressing the NAR of '%s': %s", pi->path,
                   o.err ? strerror(o.err) : archive_error_string(a) ? archive_error_string(a) : "failed");
    archive_entry_free(ent);
    archive_write_free(a);
    nc_hash fh;
    nc_hasher_finish(o.h, &fh);
    if (!ok) {
        spool_discard(&out);
        return false;
    }
    char *key = blob_key_ext(st, &fh, ".xz");
    uint64_t have = 0;
    int has = st->be->ops->has(st->be, key, &have, e);
    st_put_result r = has < 0 ? ST_PUT_ERROR : ST_PUT_EXISTED;
    if (has == 0 || (has == 1 && have != o.n)) {
        int flags = has == 0 ? ST_PUT_IF_ABSENT : 0;
        if (st->be->ops->put_file && out.in_backend) {
            close(out.fd);
            out.fd = -1;
            r = st->be->ops->put_file(st->be, key, out.path, flags, e);
        } else {
            st_src src = {NULL, out.fd, o.n, fh.bytes};
            r = st->be->ops->put(st->be, key, &src, flags, e);
        }
    }
    spool_discard(&out);
    if (r == ST_PUT_ERROR) {
        free(key);
        return false;
    }
    free(pi->url);
    free(pi->compression);
    pi->url = key;
    pi->compression = ut_xstrdup("xz");
    pi->has_file_hash = true;
    pi->file_hash = fh;
    pi->file_size = o.n;
    return true;
}

typedef struct write_lock {
    st_backend *be;
    int token;
} write_lock;

static bool lock_writes(st_store *st, write_lock *l, ut_err *e)
{
    l->be = st->be;
    l->token = -1;
    if (!st->be->ops->lock) return true;
    l->token = st->be->ops->lock(st->be, true, e);
    return l->token >= 0;
}

static void unlock_writes(write_lock *l)
{
    if (l->token >= 0 && l->be->ops->unlock) l->be->ops->unlock(l->be, l->token);
    l->token = -1;
}

/* ---------- adding ---------- */

static void buf_sink(void *ctx, const void *p, size_t n) { ut_buf_append(ctx, p, n); }

static bool is_known(st_store *st, const char *path)
{
    size_t sdl = strlen(st->store_dir);
    return strlen(path) > sdl + NC_STORE_HASH_LEN && ut_hmap_has(st->known, path + sdl + 1, NC_STORE_HASH_LEN);
}

/* Present already? Then nothing to write. A lookup error counts as absent
 * so the write itself reports any real problem. */
static bool already_valid(st_store *st, const char *path)
{
    if (is_known(st, path)) return true;
    if (st->dry) return false;
    ut_err e = UT_ERR_INIT;
    int r = st_store_query(st, path, NULL, &e);
    ut_err_clear(&e);
    if (r == 1) mark_known(st, path + strlen(st->store_dir) + 1);
    return r == 1;
}

/* For adding a content-addressed path: is its info there already? The
 * info's presence is enough here (one status query, not a read and parse):
 * when it is there a write keeps it as it is (first writer wins), so
 * reading it could change nothing but whether the same bytes are offered
 * again. Paths copied from another store still get already_valid. */
static bool already_added(st_store *st, const char *path)
{
    if (is_known(st, path)) return true;
    if (st->dry) return false;
    char hash[NC_STORE_HASH_LEN + 1];
    ut_err e = UT_ERR_INIT;
    if (!path_hash(st, path, hash, &e)) {
        ut_err_clear(&e);
        return false;
    }
    char *key = info_key(hash);
    int r = st->be->ops->has(st->be, key, NULL, &e);
    free(key);
    ut_err_clear(&e);
    if (r == 1) mark_known(st, hash);
    return r == 1;
}

bool st_store_add_text(st_store *st, const char *name, const void *data, size_t len, const char *const *refs,
                       size_t nrefs, char **out_path, ut_err *e)
{
    if (!nc_store_name_check(nc_str_c(name), nc_str_c(name), e)) return false;
    nc_hash h;
    nc_hash_bytes(NC_HASH_SHA256, data, len, &h);
    nc_str *rv = ut_xcalloc(nrefs + 1, sizeof *rv);
    for (size_t i = 0; i < nrefs; i++) rv[i] = nc_str_c(refs[i]);
    nc_refs r = {rv, nrefs, false};
    ut_buf path = UT_BUF_INIT;
    bool ok = nc_make_text_path(&path, st->store_dir, nc_str_c(name), &h, &r, e);
    free(rv);
    if (!ok) {
        ut_buf_free(&path);
        return false;
    }
    if (already_added(st, path.data)) {
        *out_path = ut_buf_steal(&path, NULL);
        return true;
    }
    for (size_t i = 0; i < nrefs; i++) {
        char hh[NC_STORE_HASH_LEN + 1];
        if (!path_hash(st, refs[i], hh, e)) {
            ut_err_wrap(e, "reference of '%s'", path.data);
            ut_buf_free(&path);
            return false;
        }
    }
    /* The NAR of one regular file: small, so built in memory. */
    ut_buf nar = UT_BUF_INIT;
    nc_hash_algo sha = NC_HASH_SHA256;
    nc_nar_writer *w = nc_nar_writer_new(buf_sink, &nar, &sha);
    nc_hash nar_hash;
    uint64_t nar_size = 0;
    ok = nc_nar_file_begin(w, false, len, e) && nc_nar_file_data(w, data, len, e) && nc_nar_file_end(w, e) &&
         nc_nar_writer_finish(w, &nar_hash, &nar_size, e);
    nc_nar_writer_free(w);
    st_path_info pi = {0};
    pi.path = ut_buf_steal(&path, NULL);
    if (ok && !st->dry) {
        pi.nar_hash = nar_hash;
        pi.nar_size = nar_size;
        pi.refs = sorted_unique(refs, nrefs, &pi.nrefs);
        nc_content_address ca = {NC_CA_TEXT, h};
        ut_buf cab = UT_BUF_INIT;
        nc_ca_render(&cab, &ca);
        pi.ca = ut_buf_steal(&cab, NULL);
        pi.compression = ut_xstrdup("none");
        write_lock l;
        ok = lock_writes(st, &l, e);
        if (ok) {
            ok = (st->xz ? put_compressed(st, -1, nar.data, nar.len, &pi, e)
                         : put_mem_blob(st, nar.data, nar.len, &nar_hash, &pi.url, e)) &&
                 write_info(st, &pi, false, e);
            unlock_writes(&l);
        }
        if (!ok) ut_err_wrap(e, "adding '%s' to %s", pi.path, st->be->url);
    }
    ut_buf_free(&nar);
    if (ok) {
        *out_path = pi.path;
        pi.path = NULL;
    }
    free(pi.path);
    st_strv_free(pi.refs, pi.nrefs);
    st_strv_free(pi.sigs, pi.nsigs);
    free(pi.ca);
    free(pi.url);
    free(pi.compression);
    return ok;
}

static st_path_info *dup_info(const st_path_info *src)
{
    st_path_info *pi = ut_xcalloc(1, sizeof *pi);
    *pi = *src;
    pi->path = ut_xstrdup(src->path);
    pi->refs = ut_xcalloc(src->nrefs + 1, sizeof *pi->refs);
    for (size_t i = 0; i < src->nrefs; i++) pi->refs[i] = ut_xstrdup(src->refs[i]);
    pi->deriver = src->deriver ? ut_xstrdup(src->deriver) : NULL;
    pi->ca = src->ca ? ut_xstrdup(src->ca) : NULL;
    pi->sigs = ut_xcalloc(src->nsigs + 1, sizeof *pi->sigs);
    for (size_t i = 0; i < src->nsigs; i++) pi->sigs[i] = ut_xstrdup(src->sigs[i]);
    pi->url = src->url ? ut_xstrdup(src->url) : NULL;
    pi->compression = src->compression ? ut_xstrdup(src->compression) : NULL;
    return pi;
}

/* NARs fs_path into a spool (or just hashes it for a dry store). */
static bool nar_spool_as(st_store *st, bool dry, const char *fs_path, st_path_filter filter, void *fctx,
                         nc_hasher *flat, spool *sp, nc_hash *nar_hash, uint64_t *nar_size, ut_err *e)
{
    st_refscan *scan = sp->scan;
    if (!dry && !spool_open(st, sp, e)) return false;
    sp->scan = scan;
    nc_hash_algo sha = NC_HASH_SHA256;
    nc_nar_writer *w = nc_nar_writer_new(dry && !scan ? NULL : spool_sink, sp, &sha);
    bool ok = st_nar_dump(fs_path, filter, fctx, w, flat, e) && nc_nar_writer_finish(w, nar_hash, nar_size, e);
    nc_nar_writer_free(w);
    if (ok && !dry) ok = spool_finish(sp, e);
    if (!ok) spool_discard(sp);
    sp->scan = scan;
    return ok;
}

static bool nar_spool(st_store *st, const char *fs_path, st_path_filter filter, void *fctx, nc_hasher *flat,
                      spool *sp, nc_hash *nar_hash, uint64_t *nar_size, ut_err *e)
{
    return nar_spool_as(st, st->dry, fs_path, filter, fctx, flat, sp, nar_hash, nar_size, e);
}

static bool store_spooled(st_store *st, spool *sp, st_path_info *pi, bool replace_info, ut_err *e)
{
    if (st->dry) return true;
    write_lock l;
    if (!lock_writes(st, &l, e)) {
        spool_discard(sp);
        return false;
    }
    bool ok;
    if (st->xz) {
        ok = put_compressed(st, sp->fd, NULL, pi->nar_size, pi, e);
        spool_discard(sp);
    } else {
        pi->compression = ut_xstrdup("none");
        ok = put_spooled_blob(st, sp, &pi->nar_hash, pi->nar_size, &pi->url, e);
    }
    ok = ok && write_info(st, pi, replace_info, e);
    unlock_writes(&l);
    if (!ok) ut_err_wrap(e, "adding '%s' to %s", pi->path, st->be->url);
    return ok;
}

/* The first pass of an unfiltered add only hashes: the NAR goes nowhere. */
static void discard_sink(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
}

void st_store_set_path_cache(st_store *st, const char *dir, int64_t settle_ms)
{
    st_path_cache_free(st->pcache);
    st->pcache = dir ? st_path_cache_new(dir, settle_ms) : NULL;
    st->pcache_set = true;
}

void st_store_path_cache_stats(const st_store *st, st_path_cache_stats *out)
{
    st_path_cache_get_stats(st->pcache, out);
}

static st_path_cache *path_cache(st_store *st)
{
    if (!st->pcache_set) {
        /* store.conf may move it or turn it off (a file system whose
         * timestamps cannot be trusted) */
        char *dir = st_config_get("path-hash-cache");
        if (dir && (!strcmp(dir, "off") || dir[0] != '/')) {
            free(dir);
            dir = NULL;
        } else if (!dir) {
            dir = st_path_cache_default_dir();
        }
        st_store_set_path_cache(st, dir, -1);
        free(dir);
    }
    return st->pcache;
}

/* The path info of a source object (its path named by the hashes). */
static bool source_info(const st_store *st, const char *name, nc_ca_method method, const st_path_hashes *hs,
                        st_path_info *pi, ut_err *e)
{
    nc_content_address ca = {method, method == NC_CA_FLAT ? hs->flat_hash : hs->nar_hash};
    ut_buf path = UT_BUF_INIT;
    if (!nc_make_fixed_output_path(&path, st->store_dir, method, &ca.hash, nc_str_c(name), NULL, e)) {
        ut_buf_free(&path);
        return false;
    }
    memset(pi, 0, sizeof *pi);
    pi->path = ut_buf_steal(&path, NULL);
    pi->nar_hash = hs->nar_hash;
    pi->nar_size = hs->nar_size;
    ut_buf cab = UT_BUF_INIT;
    nc_ca_render(&cab, &ca);
    pi->ca = ut_buf_steal(&cab, NULL);
    pi->refs = ut_xcalloc(1, sizeof *pi->refs);
    return true;
}

static void source_info_clear(st_path_info *pi)
{
    free(pi->path);
    free(pi->refs);
    st_strv_free(pi->sigs, pi->nsigs);
    free(pi->ca);
    free(pi->url);
    free(pi->compression);
    memset(pi, 0, sizeof *pi);
}

static bool same_hashes(const st_path_hashes *a, const st_path_hashes *b, nc_ca_method method)
{
    return a->nar_size == b->nar_size && nc_hash_eq(&a->nar_hash, &b->nar_hash) &&
           (method != NC_CA_FLAT || nc_hash_eq(&a->flat_hash, &b->flat_hash));
}

/* Hashes fs_path into *hs and *pi and stores it unless it is there. */
static bool add_hashed(st_store *st, const char *fs_path, const char *name, st_path_filter filter, void *fctx,
                       nc_ca_method method, st_path_hashes *hs, st_path_info *pi, ut_err *e)
{
    spool sp = {.fd = -1};
    memset(hs, 0, sizeof *hs);
    nc_hasher *flat = method == NC_CA_FLAT ? nc_hasher_new(NC_HASH_SHA256) : NULL;
    /* Sources are usually in the store already (every evaluation copies
     * the same ones): hash first, and archive only a path that is new,
     * reading it a second time (keeping the first pass's NAR in memory
     * cost more in copying for the paths found present than the second
     * read costs for the few that are new). A filter is a Nix function the
     * caller must see called once per entry, so filtered paths are
     * archived in the same pass. */
    bool two_pass = !st->dry && filter == NULL;
    bool hashed;
    if (two_pass) {
        nc_hash_algo sha = NC_HASH_SHA256;
        nc_nar_writer *w = nc_nar_writer_new(discard_sink, NULL, &sha);
        hashed = st_nar_dump(fs_path, NULL, NULL, w, flat, e) &&
                 nc_nar_writer_finish(w, &hs->nar_hash, &hs->nar_size, e);
        nc_nar_writer_free(w);
    } else {
        hashed = nar_spool_as(st, st->dry, fs_path, filter, fctx, flat, &sp, &hs->nar_hash, &hs->nar_size, e);
    }
    if (!hashed) {
        if (flat) nc_hasher_free(flat);
        return false;
    }
    if (flat) nc_hasher_finish(flat, &hs->flat_hash);
    if (!source_info(st, name, method, hs, pi, e)) {
        spool_discard(&sp);
        return false;
    }
    bool ok = true;
    if (!two_pass) {
        if (!st->dry && already_added(st, pi->path)) spool_discard(&sp);
        else ok = store_spooled(st, &sp, pi, false, e);
    } else if (!already_added(st, pi->path)) {
        /* the second pass archives what the first hashed; a tree that
         * changed in between is refused rather than stored under a name
         * that does not match its contents */
        nc_hash h2;
        uint64_t n2 = 0;
        ok = nar_spool_as(st, false, fs_path, filter, fctx, NULL, &sp, &h2, &n2, e);
        if (ok && (n2 != hs->nar_size || !nc_hash_eq(&h2, &hs->nar_hash))) {
            spool_discard(&sp);
            ok = ut_err_set(e, "'%s' changed while it was being added to the store", fs_path);
        }
        if (ok) ok = store_spooled(st, &sp, pi, false, e);
    }
    if (!ok) source_info_clear(pi);
    return ok;
}

bool st_store_add_path(st_store *st, const char *fs_path, const char *name, st_path_filter filter, void *fctx,
                       nc_ca_method method, char **out_path, st_path_info **out_info, ut_err *e)
{
    if (method == NC_CA_TEXT) return ut_err_set(e, "st_store_add_path: use st_store_add_text for text objects");
    if (!nc_store_name_check(nc_str_c(name), nc_str_c(name), e)) return false;
    st_path_info pi = {0};
    /* Only unfiltered adds may skip reading the tree: a filter must see
     * every entry. A cached object already in the store is all there is
     * to do; one that is not is added the ordinary way, from its bytes. */
    st_path_cache *pc = filter ? NULL : path_cache(st);
    st_path_cache_probe probe = {0};
    st_path_hashes cached, hs;
    bool hit = pc && st_path_cache_lookup(pc, fs_path, method, &probe, &cached);
    bool done = false;
    if (hit) {
        if (!source_info(st, name, method, &cached, &pi, e)) return false;
        done = st->dry || already_added(st, pi.path);
        if (!done) source_info_clear(&pi);
    }
    if (!done) {
        if (!add_hashed(st, fs_path, name, filter, fctx, method, &hs, &pi, e)) return false;
        /* an entry with other hashes under the same stamp is replaced: the
         * bytes just read are the truth */
        if (pc && (!hit || !same_hashes(&cached, &hs, method))) st_path_cache_record(pc, fs_path, method, &probe, &hs);
    }
    if (out_info) *out_info = dup_info(&pi);
    *out_path = pi.path;
    pi.path = NULL;
    source_info_clear(&pi);
    return true;
}

static bool import_path(st_store *st, const char *store_path, const char *fs_path, const char *const *refs,
                        size_t nrefs, st_refscan *scan, const char *deriver, const char *ca, st_path_info **out_info,
                        ut_err *e)
{
    char hash[NC_STORE_HASH_LEN + 1];
    if (!path_hash(st, store_path, hash, e)) return false;
    for (size_t i = 0; i < nrefs; i++)
        if (!path_hash(st, refs[i], hash, e)) return ut_err_wrap(e, "reference of '%s'", store_path);
    if (deriver && !path_hash(st, deriver, hash, e)) return ut_err_wrap(e, "deriver of '%s'", store_path);
    spool sp = {.fd = -1, .scan = scan};
    st_path_info pi = {0};
    if (!nar_spool(st, fs_path, NULL, NULL, NULL, &sp, &pi.nar_hash, &pi.nar_size, e)) return false;
    pi.path = ut_xstrdup(store_path);
    if (scan) {
        pi.refs = st_refscan_result(scan, &pi.nrefs);
    } else {
        pi.refs = sorted_unique(refs, nrefs, &pi.nrefs);
    }
    pi.deriver = deriver ? ut_xstrdup(deriver) : NULL;
    pi.ca = ca ? ut_xstrdup(ca) : NULL;
    bool ok = store_spooled(st, &sp, &pi, true, e);
    if (ok && out_info) *out_info = dup_info(&pi);
    free(pi.path);
    st_strv_free(pi.refs, pi.nrefs);
    free(pi.deriver);
    free(pi.ca);
    st_strv_free(pi.sigs, pi.nsigs);
    free(pi.url);
    free(pi.compression);
    return ok;
}

bool st_store_import_path(st_store *st, const char *store_path, const char *fs_path, const char *const *refs,
                          size_t nrefs, const char *deriver, const char *ca, st_path_info **out_info, ut_err *e)
{
    return import_path(st, store_path, fs_path, refs, nrefs, NULL, deriver, ca, out_info, e);
}

bool st_store_import_path_scan(st_store *st, const char *store_path, const char *fs_path,
                               const char *const *candidates, size_t ncand, const char *deriver, const char *ca,
                               st_path_info **out_info, ut_err *e)
{
    st_refscan *scan = st_refscan_new(st->store_dir, candidates, ncand);
    bool ok = import_path(st, store_path, fs_path, NULL, 0, scan, deriver, ca, out_info, e);
    st_refscan_free(scan);
    return ok;
}

/* Checks that bytes are a well-formed NAR with the expected hash and size. */
typedef struct nar_check {
    nc_hasher *h;
    nc_nar_parser *p;
    uint64_t n;
    spool *sp;
} nar_check;

static bool nar_check_feed(nar_check *c, const void *p, size_t n, ut_err *e)
{
    nc_hasher_update(c->h, p, n);
    c->n += n;
    if (c->sp) spool_sink(c->sp, p, n);
    return nc_nar_parser_feed(c->p, p, n, e);
}

static const nc_nar_visitor no_visitor = {0};

bool st_store_add_nar(st_store *st, const st_path_info *info, int fd, const void *mem, uint64_t size, ut_err *e)
{
    char hash[NC_STORE_HASH_LEN + 1];
    if (!path_hash(st, info->path, hash, e)) return false;
    if (info->nar_hash.algo != NC_HASH_SHA256) return ut_err_set(e, "'%s': NAR hash must be sha256", info->path);
    spool sp = {.fd = -1};
    bool use_spool = fd >= 0 && !st->dry;
    if (use_spool && !spool_open(st, &sp, e)) return false;
    nar_check c = {nc_hasher_new(NC_HASH_SHA256), nc_nar_parser_new(&no_visitor, NULL), 0, use_spool ? &sp : NULL};
    bool ok = true;
    if (fd >= 0) {
        char *buf = ut_xmalloc(1 << 20);
        for (uint64_t off = 0; ok && off < size;) {
            size_t want = size - off > (1 << 20) ? (1 << 20) : (size_t)(size - off);
            ssize_t n = pread(fd, buf, want, (off_t)off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ok = ut_err_set(e, "reading the NAR of '%s': %s", info->path, n < 0 ? strerror(errno) : "truncated");
                break;
            }
            ok = nar_check_feed(&c, buf, (size_t)n, e);
            off += (uint64_t)n;
        }
        free(buf);
    } else {
        ok = nar_check_feed(&c, mem, (size_t)size, e);
    }
    if (ok) ok = nc_nar_parser_finish(c.p, e);
    nc_hash got;
    nc_hasher_finish(c.h, &got);
    nc_nar_parser_free(c.p);
    if (ok && (!nc_hash_eq(&got, &info->nar_hash) || c.n != info->nar_size)) {
        char want_s[NC_HASH_STR_MAX], got_s[NC_HASH_STR_MAX];
        nc_hash_print(&info->nar_hash, NC_HASH_NIX32, true, want_s);
        nc_hash_print(&got, NC_HASH_NIX32, true, got_s);
        ok = ut_err_set(e, "NAR of '%s' does not match its info: expected %s (%llu bytes), got %s (%llu bytes)",
                        info->path, want_s, (unsigned long long)info->nar_size, got_s, (unsigned long long)c.n);
    }
    if (ok && use_spool) ok = spool_finish(&sp, e);
    if (!ok) {
        if (use_spool) spool_discard(&sp);
        return ut_err_wrap(e, "adding '%s' to %s", info->path, st->be->url);
    }
    if (st->dry) return true;
    st_path_info *pi = dup_info(info);
    free(pi->url);
    free(pi->compression);
    pi->url = NULL;
    pi->compression = ut_xstrdup("none");
    pi->has_file_hash = false;
    pi->file_size = 0;
    write_lock l;
    ok = lock_writes(st, &l, e);
    if (ok) {
        if (st->xz) {
            ok = put_compressed(st, use_spool ? sp.fd : -1, mem, size, pi, e);
            if (use_spool) spool_discard(&sp);
        } else {
            ok = use_spool ? put_spooled_blob(st, &sp, &pi->nar_hash, pi->nar_size, &pi->url, e)
                           : put_mem_blob(st, mem, (size_t)size, &pi->nar_hash, &pi->url, e);
        }
        if (ok) ok = write_info(st, pi, false, e);
        unlock_writes(&l);
    } else if (use_spool) {
        spool_discard(&sp);
    }
    if (!ok) ut_err_wrap(e, "adding '%s' to %s", info->path, st->be->url);
    st_path_info_free(pi);
    return ok;
}

bool st_store_sign_path(st_store *st, const char *path, const st_secret_key *sk, ut_err *e)
{
    st_path_info *pi = NULL;
    int r = st_store_query(st, path, &pi, e);
    if (r == 0) return ut_err_set(e, "'%s' is not in %s", path, st->be->url);
    if (r < 0) return false;
    bool ok = sign_info(st, pi, sk, e);
    if (ok) {
        ut_buf text = UT_BUF_INIT;
        st_path_info_narinfo(st, pi, &text);
        char hash[NC_STORE_HASH_LEN + 1];
        path_hash(st, path, hash, e);
        char *key = info_key(hash);
        ok = st_backend_put_bytes(st->be, key, text.data, text.len, 0, e) != ST_PUT_ERROR;
        free(key);
        ut_buf_free(&text);
    }
    st_path_info_free(pi);
    return ok;
}

/* ---------- reading NARs ---------- */

bool st_store_nar(st_store *st, const char *path, st_sink_fn sink, void *ctx, ut_err *e)
{
    st_path_info *pi = NULL;
    int r = st_store_query(st, path, &pi, e);
    if (r == 0) return ut_err_set(e, "'%s' is not in %s", path, st->be->url);
    if (r < 0) return false;
    st_blob *b = st_blob_fetch(st->be, pi, e);
    bool ok = b && st_blob_stream(b, sink, ctx, e);
    st_blob_close(b);
    st_path_info_free(pi);
    return ok;
}

/* Splits "<store path>[/sub]" into the object path and the sub path. */
static bool split_sub(const st_store *st, const char *path, char **obj, const char **sub, ut_err *e)
{
    size_t sdl = strlen(st->store_dir);
    if (strncmp(path, st->store_dir, sdl) || path[sdl] != '/')
        return ut_err_set(e, "path '%s' is not in the Nix store", path);
    const char *slash = strchr(path + sdl + 1, '/');
    *obj = slash ? ut_xstrndup(path, (size_t)(slash - path)) : ut_xstrdup(path);
    *sub = slash ? slash + 1 : "";
    return true;
}

typedef struct feed_ctx {
    nc_nar_parser *p;
} feed_ctx;

static bool feed_parser(void *ctx, const void *p, size_t n, ut_err *e)
{
    return nc_nar_parser_feed(((feed_ctx *)ctx)->p, p, n, e);
}

static bool parse_object(st_store *st, const char *obj, const nc_nar_visitor *v, void *vctx, ut_err *e)
{
    feed_ctx fc = {nc_nar_parser_new(v, vctx)};
    bool ok = st_store_nar(st, obj, feed_parser, &fc, e) && nc_nar_parser_finish(fc.p, e);
    nc_nar_parser_free(fc.p);
    return ok;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP) rmdir(p);
    else unlink(p);
    return 0;
}

/* Only ever called on a staging directory this process created. */
static void remove_tree(const char *path)
{
    /* Restored directories may be read-only; make them writable first. */
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

bool st_store_materialize(st_store *st, const char *path, const char *dest, ut_err *e)
{
    char *obj;
    const char *sub;
    if (!split_sub(st, path, &obj, &sub, e)) return false;
    struct stat sb;
    if (lstat(dest, &sb) == 0) {
        free(obj);
        return ut_err_set(e, "'%s' already exists", dest);
    }
    ut_buf stage = UT_BUF_INIT;
    ut_buf_printf(&stage, "%s.tmp-%ld-%ld", dest, (long)getpid(), (long)time(NULL));
    bool ok;
    if (!*sub) {
        st_nar_restore *r = st_nar_restore_new(stage.data);
        ok = parse_object(st, obj, st_nar_restore_visitor(), r, e);
        st_nar_restore_free(r);
    } else {
        ut_buf content = UT_BUF_INIT;
        ok = st_store_read_file(st, path, &content, e) &&
             ut_write_file_atomic(stage.data, content.data, content.len, 0644, e);
        ut_buf_free(&content);
    }
    if (ok && rename(stage.data, dest) != 0) ok = ut_err_set(e, "renaming to '%s': %s", dest, strerror(errno));
    if (!ok) {
        if (lstat(stage.data, &sb) == 0) remove_tree(stage.data);
        ut_err_wrap(e, "materialising '%s'", path);
    }
    ut_buf_free(&stage);
    free(obj);
    return ok;
}

bool st_store_checkout(st_store *st, const char *path, const char *cache_dir, char **fs_path, ut_err *e)
{
    nc_store_path_parts parts;
    if (!nc_store_path_parse(st->store_dir, nc_str_c(path), &parts, e)) return false;
    if (!ut_mkdirs(cache_dir, 0755, e)) return false;
    ut_buf dest = UT_BUF_INIT;
    ut_buf_printf(&dest, "%s/%.*s", cache_dir, (int)parts.base.len, parts.base.s);
    struct stat sb;
    bool ok = lstat(dest.data, &sb) == 0;
    if (!ok) {
        ok = st_store_materialize(st, path, dest.data, e);
        /* Another process may have won the rename: its copy is as good. */
        if (!ok && lstat(dest.data, &sb) == 0) {
            ut_err_clear(e);
            ok = true;
        }
    }
    if (ok) *fs_path = ut_buf_steal(&dest, NULL);
    ut_buf_free(&dest);
    return ok;
}

bool st_store_read_file(st_store *st, const char *path, ut_buf *out, ut_err *e)
{
    char *obj;
    const char *sub;
    if (!split_sub(st, path, &obj, &sub, e)) return false;
    ut_buf_clear(out);
    st_nar_extract *x = st_nar_extract_new(sub, out);
    bool ok = parse_object(st, obj, st_nar_extract_visitor(), x, e) && st_nar_extract_done(x, path, e);
    st_nar_extract_free(x);
    free(obj);
    return ok;
}

/* ---------- listing, closures ---------- */

typedef struct list_ctx {
    st_store *st;
    bool (*cb)(void *ctx, const char *path);
    void *ctx;
    bool failed;
    ut_err *e;
} list_ctx;

static bool is_info_key(const char *key)
{
    size_t n = strlen(key);
    if (n != NC_STORE_HASH_LEN + 8 || strcmp(key + NC_STORE_HASH_LEN, ".narinfo")) return false;
    for (size_t i = 0; i < NC_STORE_HASH_LEN; i++)
        if (!nc_nix32_is_char(key[i])) return false;
    return true;
}

static bool list_cb(void *vctx, const char *key, uint64_t size, int64_t mtime)
{
    (void)size;
    (void)mtime;
    list_ctx *lc = vctx;
    if (strchr(key, '/') || !is_info_key(key)) return true;
    char hash[NC_STORE_HASH_LEN + 1];
    memcpy(hash, key, NC_STORE_HASH_LEN);
    hash[NC_STORE_HASH_LEN] = 0;
    st_path_info *pi = NULL;
    int r = query_hash(lc->st, hash, key, &pi, lc->e);
    if (r < 0) {
        lc->failed = true;
        return false;
    }
    if (r == 0) return true;   /* deleted meanwhile */
    bool go = lc->cb(lc->ctx, pi->path);
    st_path_info_free(pi);
    return go;
}

bool st_store_list(st_store *st, bool (*cb)(void *ctx, const char *path), void *ctx, ut_err *e)
{
    list_ctx lc = {st, cb, ctx, false, e};
    /* Only the top level: info files live there, blobs in sub folders. */
    if (!st->be->ops->list(st->be, "", list_cb, &lc, e)) return false;
    return !lc.failed;
}

bool st_store_closure(st_store *st, const char *const *paths, size_t n, char ***out, size_t *nout, ut_err *e)
{
    ut_hmap *seen = ut_hmap_new();
    char **todo = NULL;
    size_t nt = 0, ct = 0;
    for (size_t i = 0; i < n; i++) {
        if (ut_hmap_has(seen, paths[i], strlen(paths[i]))) continue;
        ut_hmap_put(seen, paths[i], strlen(paths[i]), (void *)1);
        if (nt == ct) todo = ut_xrealloc(todo, (ct = ct ? ct * 2 : 16) * sizeof *todo);
        todo[nt++] = ut_xstrdup(paths[i]);
    }
    bool ok = true;
    for (size_t i = 0; ok && i < nt; i++) {
        st_path_info *pi = NULL;
        int r = st_store_query(st, todo[i], &pi, e);
        if (r == 0) ok = ut_err_set(e, "'%s' is not in %s", todo[i], st->be->url);
        if (r <= 0) {
            ok = false;
            break;
        }
        for (size_t j = 0; j < pi->nrefs; j++) {
            const char *ref = pi->refs[j];
            if (ut_hmap_has(seen, ref, strlen(ref))) continue;
            ut_hmap_put(seen, ref, strlen(ref), (void *)1);
            if (nt == ct) todo = ut_xrealloc(todo, (ct = ct ? ct * 2 : 16) * sizeof *todo);
            todo[nt++] = ut_xstrdup(ref);
        }
        st_path_info_free(pi);
    }
    ut_hmap_free(seen);
    if (!ok) {
        st_strv_free(todo, nt);
        return false;
    }
    if (nt) qsort(todo, nt, sizeof *todo, strp_cmp);
    *out = todo;
    *nout = nt;
    return true;
}

/* ---------- verify ---------- */

static void problem(void (*cb)(void *, const char *, const char *), void *ctx, const char *path, const char *fmt,
                    ...) UT_PRINTF(4, 5);
static void problem(void (*cb)(void *, const char *, const char *), void *ctx, const char *path, const char *fmt,
                    ...)
{
    if (!cb) return;
    va_list ap;
    va_start(ap, fmt);
    ut_buf b = UT_BUF_INIT;
    ut_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cb(ctx, path, b.data);
    ut_buf_free(&b);
}

static bool collect_info_key(void *ctx, const char *key, uint64_t size, int64_t mtime)
{
    (void)size;
    (void)mtime;
    if (is_info_key(key)) {
        char *p = ut_xstrdup(key);
        ut_buf_append(ctx, &p, sizeof p);
    }
    return true;
}

bool st_store_verify(st_store *st, const char *const *paths, size_t n, const st_trusted_keys *tk,
                     void (*report_cb)(void *ctx, const char *path, const char *problem), void *ctx,
                     st_verify_report *rep, ut_err *e)
{
    memset(rep, 0, sizeof *rep);
    ut_buf all = UT_BUF_INIT;
    /* Signatures are checked here, not by the query, to report them all. */
    st_trusted_keys saved = st->require;
    st->require = (st_trusted_keys){NULL, 0};
    if (n == 0) {
        /* Every info file, including ones too damaged to name their path. */
        ut_buf keys = UT_BUF_INIT;
        if (!st->be->ops->list(st->be, "", collect_info_key, &keys, e)) {
            for (size_t i = 0; i < keys.len / sizeof(char *); i++) free(((char **)keys.data)[i]);
            ut_buf_free(&keys);
            st->require = saved;
            return false;
        }
        for (size_t i = 0; i < keys.len / sizeof(char *); i++) {
            char *key = ((char **)keys.data)[i];
            char hash[NC_STORE_HASH_LEN + 1];
            memcpy(hash, key, NC_STORE_HASH_LEN);
            hash[NC_STORE_HASH_LEN] = 0;
            st_path_info *pi = NULL;
            ut_err qe = UT_ERR_INIT;
            int r = query_hash(st, hash, key, &pi, &qe);
            if (r < 0) {
                rep->checked++;
                rep->corrupt++;
                problem(report_cb, ctx, key, "%s", qe.msg);
            } else if (r == 1) {
                char *p = ut_xstrdup(pi->path);
                ut_buf_append(&all, &p, sizeof p);
                st_path_info_free(pi);
            }
            ut_err_clear(&qe);
            free(key);
        }
        ut_buf_free(&keys);
        paths = (const char *const *)all.data;
        n = all.len / sizeof(char *);
    }
    for (size_t i = 0; i < n; i++) {
        const char *path = paths[i];
        rep->checked++;
        st_path_info *pi = NULL;
        ut_err qe = UT_ERR_INIT;
        int r = st_store_query(st, path, &pi, &qe);
        if (r <= 0) {
            if (r == 0) {
                rep->missing++;
                problem(report_cb, ctx, path, "not in the store");
            } else {
                rep->corrupt++;
                problem(report_cb, ctx, path, "%s", qe.msg);
            }
            ut_err_clear(&qe);
            continue;
        }
        bool good = true;
        st_blob *b = st_blob_fetch(st->be, pi, &qe);
        if (!b) {
            rep->corrupt++;
            good = false;
            problem(report_cb, ctx, path, "%s", qe.msg);
            ut_err_clear(&qe);
        }
        st_blob_close(b);
        for (size_t j = 0; j < pi->nrefs; j++) {
            if (!strcmp(pi->refs[j], path)) continue;
            int rr = st_store_query(st, pi->refs[j], NULL, &qe);
            ut_err_clear(&qe);
            if (rr != 1) {
                if (good) rep->missing++;
                good = false;
                problem(report_cb, ctx, path, "reference '%s' is missing", pi->refs[j]);
            }
        }
        if (tk && tk->n) {
            ut_buf fp = UT_BUF_INIT;
            st_path_info_fingerprint(st, pi, &fp, &qe);
            ut_err_clear(&qe);
            bool valid = false, unknown = true;
            for (size_t j = 0; j < pi->nsigs && !valid; j++) {
                st_sig_status s = st_verify(tk, fp.data, fp.len, pi->sigs[j], strlen(pi->sigs[j]));
                if (s == ST_SIG_VALID) valid = true;
                if (s != ST_SIG_UNKNOWN_SIGNER) unknown = false;
            }
            ut_buf_free(&fp);
            if (!valid) {
                if (unknown) rep->unsigned_++;
                else rep->bad_sig++;
                good = false;
                problem(report_cb, ctx, path, "%s",
                        unknown ? "no signature by a trusted key" : "a signature does not verify");
            }
        }
        if (good) rep->ok++;
        st_path_info_free(pi);
    }
    st->require = saved;
    for (size_t i = 0; i < all.len / sizeof(char *); i++) free(((char **)all.data)[i]);
    ut_buf_free(&all);
    return rep->ok == rep->checked;
}

/* ---------- gc ---------- */

typedef struct gc_keys {
    ut_hmap *infos;      /* hash part -> 1 */
    char **blobs;
    uint64_t *sizes;
    int64_t *mtimes;
    size_t nb, cb;
} gc_keys;

static bool gc_list_cb(void *ctx, const char *key, uint64_t size, int64_t mtime)
{
    gc_keys *g = ctx;
    if (is_info_key(key)) {
        /* The value is mtime + 1 (never NULL). */
        ut_hmap_put(g->infos, key, NC_STORE_HASH_LEN, (void *)(intptr_t)(mtime + 1));
    } else if (!strncmp(key, "cas/", 4) || !strncmp(key, "nar/", 4)) {
        if (g->nb == g->cb) {
            g->cb = g->cb ? g->cb * 2 : 64;
            g->blobs = ut_xrealloc(g->blobs, g->cb * sizeof *g->blobs);
            g->sizes = ut_xrealloc(g->sizes, g->cb * sizeof *g->sizes);
            g->mtimes = ut_xrealloc(g->mtimes, g->cb * sizeof *g->mtimes);
        }
        g->blobs[g->nb] = ut_xstrdup(key);
        g->sizes[g->nb] = size;
        g->mtimes[g->nb++] = mtime;
    }
    return true;
}

/* A root names a store path by its link target or its contents; a path
 * inside an object keeps the object. */
static char *root_target(const st_store *st, const char *file)
{
    char buf[4096];
    ssize_t n = readlink(file, buf, sizeof buf - 1);
    if (n < 0) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return NULL;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n < 0) return NULL;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
    }
    buf[n] = 0;
    size_t sdl = strlen(st->store_dir);
    if (strncmp(buf, st->store_dir, sdl) || buf[sdl] != '/') return NULL;
    char *slash = strchr(buf + sdl + 1, '/');
    if (slash) *slash = 0;
    return ut_xstrdup(buf);
}

bool st_store_gc(st_store *st, const char *roots_dir, int64_t grace_s, bool dry_run, st_gc_stats *stats, ut_err *e)
{
    memset(stats, 0, sizeof *stats);
    int token = -1;
    if (st->be->ops->lock && (token = st->be->ops->lock(st->be, false, e)) < 0) return false;
    gc_keys g = {ut_hmap_new(), NULL, NULL, NULL, 0, 0};
    char **roots = NULL, **live = NULL;
    size_t nroots = 0, nlive = 0;
    ut_hmap *live_hashes = ut_hmap_new(), *live_blobs = ut_hmap_new();
    bool ok = st->be->ops->list(st->be, "", gc_list_cb, &g, e);
    if (ok && roots_dir) {
        DIR *d = opendir(roots_dir);
        if (!d && errno != ENOENT) ok = ut_err_set(e, "opening gc roots '%s': %s", roots_dir, strerror(errno));
        struct dirent *de;
        while (ok && d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            ut_buf f = UT_BUF_INIT;
            ut_buf_printf(&f, "%s/%s", roots_dir, de->d_name);
            char *t = root_target(st, f.data);
            ut_buf_free(&f);
            if (!t) continue;
            char hash[NC_STORE_HASH_LEN + 1];
            ut_err pe = UT_ERR_INIT;
            /* A root naming a path this store lacks protects nothing. */
            if (path_hash(st, t, hash, &pe) && ut_hmap_has(g.infos, hash, NC_STORE_HASH_LEN)) {
                roots = ut_xrealloc(roots, (nroots + 1) * sizeof *roots);
                roots[nroots++] = t;
            } else {
                free(t);
            }
            ut_err_clear(&pe);
        }
        if (d) closedir(d);
    }
    if (ok) ok = st_store_closure(st, (const char *const *)roots, nroots, &live, &nlive, e);
    for (size_t i = 0; ok && i < nlive; i++) {
        char hash[NC_STORE_HASH_LEN + 1];
        if (!path_hash(st, live[i], hash, e)) {
            ok = false;
            break;
        }
        ut_hmap_put(live_hashes, hash, NC_STORE_HASH_LEN, (void *)1);
        st_path_info *pi = NULL;
        if (st_store_query(st, live[i], &pi, e) != 1) {
            ok = false;
            break;
        }
        ut_hmap_put(live_blobs, pi->url, strlen(pi->url), (void *)1);
        st_path_info_free(pi);
    }
    if (ok) {
        size_t it = 0, klen;
        const char *k;
        void *v;
        int64_t now = (int64_t)time(NULL);
        while (ok && ut_hmap_next(g.infos, &it, &k, &klen, &v)) {
            int64_t mt = (int64_t)(intptr_t)v - 1;
            /* Young paths may be a concurrent writer's, not yet rooted. */
            if (ut_hmap_has(live_hashes, k, klen) || (mt && now - mt < grace_s)) {
                stats->paths_kept++;
                if (!ut_hmap_has(live_hashes, k, klen)) {
                    /* Keep its blob too. */
                    char hash[NC_STORE_HASH_LEN + 1];
                    memcpy(hash, k, NC_STORE_HASH_LEN);
                    hash[NC_STORE_HASH_LEN] = 0;
                    st_path_info *pi = NULL;
                    ut_err qe = UT_ERR_INIT;
                    if (query_hash(st, hash, hash, &pi, &qe) == 1)
                        ut_hmap_put(live_blobs, pi->url, strlen(pi->url), (void *)1);
                    ut_err_clear(&qe);
                    st_path_info_free(pi);
                }
                continue;
            }
            char hash[NC_STORE_HASH_LEN + 1];
            memcpy(hash, k, NC_STORE_HASH_LEN);
            hash[NC_STORE_HASH_LEN] = 0;
            char *key = info_key(hash);
            if (!dry_run) ok = st->be->ops->del(st->be, key, e);
            free(key);
            stats->paths_deleted++;
        }
        for (size_t i = 0; ok && i < g.nb; i++) {
            if (ut_hmap_has(live_blobs, g.blobs[i], strlen(g.blobs[i]))) continue;
            if (g.mtimes[i] && now - g.mtimes[i] < grace_s) continue;
            if (!dry_run) ok = st->be->ops->del(st->be, g.blobs[i], e);
            stats->blobs_deleted++;
            stats->bytes_freed += g.sizes[i];
        }
    }
    st_strv_free(roots, nroots);
    st_strv_free(live, nlive);
    st_strv_free(g.blobs, g.nb);
    free(g.sizes);
    free(g.mtimes);
    ut_hmap_free(g.infos);
    ut_hmap_free(live_hashes);
    ut_hmap_free(live_blobs);
    st->known = (ut_hmap_free(st->known), ut_hmap_new());
    if (token >= 0) st->be->ops->unlock(st->be, token);
    return ok;
}

/* ---------- copy ---------- */

/* Depth-first, references before referrers: a copy cut short never leaves
 * a path whose references are missing in the target. */
static bool topo_visit(st_store *src, const char *path, ut_hmap *state, char ***order, size_t *n, size_t *cap,
                       int depth, ut_err *e)
{
    void *s = ut_hmap_get(state, path, strlen(path));
    if (s == (void *)2) return true;
    if (s == (void *)1) return true;   /* a cycle (self references): order is free */
    if (depth > 100000) return ut_err_set(e, "reference chain too deep at '%s'", path);
    ut_hmap_put(state, path, strlen(path), (void *)1);
    st_path_info *pi = NULL;
    int r = st_store_query(src, path, &pi, e);
    if (r == 0) return ut_err_set(e, "'%s' is not in %s", path, src->be->url);
    if (r < 0) return false;
    bool ok = true;
    for (size_t i = 0; ok && i < pi->nrefs; i++)
        if (strcmp(pi->refs[i], path)) ok = topo_visit(src, pi->refs[i], state, order, n, cap, depth + 1, e);
    st_path_info_free(pi);
    if (!ok) return false;
    ut_hmap_put(state, path, strlen(path), (void *)2);
    if (*n == *cap) *order = ut_xrealloc(*order, (*cap = *cap ? *cap * 2 : 16) * sizeof **order);
    (*order)[(*n)++] = ut_xstrdup(path);
    return true;
}

bool st_store_copy(st_store *src, st_store *dst, const char *const *paths, size_t n, size_t *copied, ut_err *e)
{
    if (copied) *copied = 0;
    if (strcmp(src->store_dir, dst->store_dir))
        return ut_err_set(e, "cannot copy between store directories '%s' and '%s'", src->store_dir, dst->store_dir);
    char **all = NULL;
    size_t na = 0, cap = 0;
    ut_hmap *state = ut_hmap_new();
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) ok = topo_visit(src, paths[i], state, &all, &na, &cap, 0, e);
    ut_hmap_free(state);
    for (size_t i = 0; ok && i < na; i++) {
        if (already_valid(dst, all[i])) continue;
        st_path_info *pi = NULL;
        int r = st_store_query(src, all[i], &pi, e);
        if (r != 1) {
            if (r == 0) ut_err_set(e, "'%s' vanished from %s", all[i], src->be->url);
            ok = false;
            break;
        }
        st_blob *b = st_blob_fetch(src->be, pi, e);
        if (!b) {
            ok = false;
        } else {
            ok = st_store_add_nar(dst, pi, st_blob_fd(b), NULL, pi->nar_size, e);
            st_blob_close(b);
        }
        if (ok && copied) (*copied)++;
        st_path_info_free(pi);
    }
    st_strv_free(all, na);
    return ok;
}
