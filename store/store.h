/* store/store.h: the store handle every other layer uses.
 *
 * A store maps store paths ("/nix/store/<hash>-<name>", the logical store
 * directory is configurable) to path info (the facts of a Nix narinfo: NAR
 * hash and size, references, deriver, content address, signatures) and keeps
 * each object's NAR as a blob addressed by its sha256. Layout on a backend:
 *
 *   nix-cache-info           StoreDir, so Nix can read the store as a binary cache
 *   <hashpart>.narinfo       path info, in narinfo format
 *   cas/<sha256 hex>         NAR blobs (native layout; URL: in the narinfo)
 *   nar/<nix32>.nar          NAR blobs (binary-cache layout, file:// stores)
 *
 * Every read verifies the blob's hash before any byte is acted on; every
 * write is atomic; adding the same object twice (even concurrently) is fine.
 * The "dry" store computes paths and writes nothing. */
#ifndef STRAYLIGHT_STORE_STORE_H
#define STRAYLIGHT_STORE_STORE_H

#include "compat/content_address.h"
#include "compat/hash.h"
#include "store/backend.h"
#include "store/keys.h"
#include "util/util.h"

typedef struct st_store st_store;

typedef struct st_path_info {
    char *path;                  /* full store path */
    nc_hash nar_hash;            /* sha256 */
    uint64_t nar_size;
    char **refs;                 /* full store paths, sorted, unique */
    size_t nrefs;
    char *deriver;               /* full path, or NULL */
    char *ca;                    /* rendered content address, or NULL */
    char **sigs;
    size_t nsigs;
    char *url;                   /* blob key relative to the store root */
    char *compression;           /* "none", "xz", "bzip2", "zstd" */
    bool has_file_hash;
    nc_hash file_hash;           /* of the blob as stored */
    uint64_t file_size;
} st_path_info;

void st_path_info_free(st_path_info *pi);

/* Opens a store by URL:
 *   NULL or ""            the default: $STRAYLIGHT_STORE, else the store.conf
 *                         setting, else local:$XDG_DATA_HOME/straylight
 *                         (~/.local/share/straylight)
 *   local:DIR, /abs/DIR   native layout in a directory
 *   file://DIR            a Nix binary cache in a directory
 *   s3://bucket?...       S3/R2 (see s3.h); add layout=binary-cache for nar/ keys
 *   http(s)://...         a Nix binary cache, read only
 * Options for any URL: ?store-dir=, ?layout=binary-cache|native,
 * ?compression=xz|none, ?fsync=1 (local).
 *   mem:, dry:            in memory; computes paths and keeps nothing */
st_store *st_store_open(const char *url, ut_err *e);
/* Wraps a backend (the store takes ownership). binary_cache selects the
 * nar/<nix32>.nar layout for new blobs. */
st_store *st_store_open_backend(st_backend *be, const char *store_dir, bool binary_cache, ut_err *e);
void st_store_close(st_store *st);

const char *st_store_dir(const st_store *st);
const char *st_store_url(const st_store *st);
st_backend *st_store_backend(st_store *st);
bool st_store_is_dry(const st_store *st);
/* The default store URL (see st_store_open). Heap string. */
char *st_store_default_url(void);

/* A setting from $XDG_CONFIG_HOME/straylight/store.conf ("key = value"
 * lines: store, store-dir, secret-key-file, trusted-public-keys, gc-roots,
 * path-hash-cache),
 * or NULL. Heap string. */
char *st_config_get(const char *key);

/* Compress new blobs with xz ("Compression: xz", URL nar/<nix32>.nar.xz in
 * the binary-cache layout), as Nix's binary caches do by default. */
void st_store_set_compression(st_store *st, bool xz);

/* Signs every narinfo this store writes (copied; may be NULL to stop). */
void st_store_set_signing_key(st_store *st, const st_secret_key *sk);
/* Path info read from this store must carry a valid signature by one of
 * these keys (copied; NULL to stop requiring signatures). */
void st_store_require_signatures(st_store *st, const st_trusted_keys *tk);

/* ---- Adding objects ---- */

/* A text object (.drv files, builtins.toFile): path from the contents'
 * sha256 and the references (full store paths), as Nix's addTextToStore.
 * *out_path gets a heap string. */
bool st_store_add_text(st_store *st, const char *name, const void *data, size_t len, const char *const *refs,
                       size_t nrefs, char **out_path, ut_err *e);

typedef enum st_file_type {
    ST_FILE_REGULAR,
    ST_FILE_DIRECTORY,
    ST_FILE_SYMLINK,
    ST_FILE_UNKNOWN,
} st_file_type;
/* "regular", "directory", "symlink", "unknown": what Nix's filter sees. */
const char *st_file_type_name(st_file_type t);

/* Decides whether fs_path (below the root being added) goes in: 1 yes, 0 no,
 * -1 error (message in e). A directory left out is not descended into. */
typedef int (*st_path_filter)(void *ctx, const char *fs_path, st_file_type type, ut_err *e);

/* A file system object as a content-addressed store path, as Nix's
 * addToStore: method NC_CA_NAR ("recursive": the NAR's sha256 names a
 * "source" path) or NC_CA_FLAT (a regular file, named by the sha256 of its
 * bytes). filter may be NULL. out_info (optional) gets the path info. */
bool st_store_add_path(st_store *st, const char *fs_path, const char *name, st_path_filter filter, void *fctx,
                       nc_ca_method method, char **out_path, st_path_info **out_info, ut_err *e);

/* Unfiltered adds reuse the hashes last computed for the same absolute
 * fs_path while a stat fingerprint of the whole tree (names, types, modes,
 * sizes, mtimes, ctimes, inodes) is unchanged, as git's index does; the
 * result is always what hashing gives. Entries live in one log file in
 * dir (new ones appended when the store is closed), by default
 * store.conf's path-hash-cache (a directory, or "off") or else
 * st_path_cache_default_dir(), created on first use; an unusable directory
 * means no cache, never an error. dir NULL turns the cache off. A tree with
 * an entry changed less than settle_ms (negative: the default, 2 s) before
 * the add is not recorded, as coarse timestamps could hide a later change. */
void st_store_set_path_cache(st_store *st, const char *dir, int64_t settle_ms);
/* $XDG_CACHE_HOME/straylight/path-hashes (~/.cache/...), or NULL when
 * neither variable gives an absolute directory. Heap string. */
char *st_path_cache_default_dir(void);
typedef struct st_path_cache_stats {
    size_t hits;           /* hashes taken from the cache */
    size_t misses;         /* looked up, not found or stale */
    size_t unsettled;      /* hashed but too recently changed to record */
    size_t recorded;       /* entries recorded (appended at close) */
} st_path_cache_stats;
void st_store_path_cache_stats(const st_store *st, st_path_cache_stats *out);

/* Registers a file system object under a path the caller computed (build
 * outputs): NARs it, stores it, writes its path info. refs are full paths
 * (the caller scanned them); deriver and ca may be NULL. */
bool st_store_import_path(st_store *st, const char *store_path, const char *fs_path, const char *const *refs,
                          size_t nrefs, const char *deriver, const char *ca, st_path_info **out_info, ut_err *e);

/* Reference scanning, as Nix's: which candidates' hash parts occur in a byte
 * stream (a NAR). Candidates that are not store paths are ignored. */
typedef struct st_refscan st_refscan;
st_refscan *st_refscan_new(const char *store_dir, const char *const *candidates, size_t n);
void st_refscan_feed(st_refscan *s, const void *p, size_t n);
/* The candidates found, sorted; free with st_strv_free. */
char **st_refscan_result(const st_refscan *s, size_t *n);
void st_refscan_free(st_refscan *s);

/* st_store_import_path, but the references are found by scanning the NAR
 * for the candidates (the build's inputs and its own outputs, which may
 * include store_path itself). */
bool st_store_import_path_scan(st_store *st, const char *store_path, const char *fs_path,
                               const char *const *candidates, size_t ncand, const char *deriver, const char *ca,
                               st_path_info **out_info, ut_err *e);

/* Adds a NAR (read from fd, size bytes, or fd -1 and mem) with the given
 * info (path, refs, deriver, ca, sigs; hash and size are checked against the
 * bytes). Used by copy and substitution. */
bool st_store_add_nar(st_store *st, const st_path_info *info, int fd, const void *mem, uint64_t size, ut_err *e);

/* ---- Reading ---- */

/* 1 found (*out set, free with st_path_info_free), 0 not in the store, -1 error. */
int st_store_query(st_store *st, const char *path, st_path_info **out, ut_err *e);
/* Streams the object's NAR to sink after checking its hash; the sink sees
 * only verified bytes. */
bool st_store_nar(st_store *st, const char *path, st_sink_fn sink, void *ctx, ut_err *e);
/* Restores the object (or a sub path "<store path>/a/b") at dest, which must
 * not exist; nothing appears at dest unless the whole object verified. */
bool st_store_materialize(st_store *st, const char *path, const char *dest, ut_err *e);
/* A directory on this machine holding the object: materialised (verified)
 * into cache_dir/<base name> the first time, reused after; concurrent
 * callers agree on one copy. *fs_path gets a heap string. */
bool st_store_checkout(st_store *st, const char *path, const char *cache_dir, char **fs_path, ut_err *e);

/* The contents of a regular file: a store path whose object is a file, or a
 * path inside a directory object. */
bool st_store_read_file(st_store *st, const char *path, ut_buf *out, ut_err *e);
/* Every path in the store, unsorted. cb returning false stops. */
bool st_store_list(st_store *st, bool (*cb)(void *ctx, const char *path), void *ctx, ut_err *e);
/* The closure of paths (they and everything they reference, transitively),
 * sorted. Missing paths are an error. */
bool st_store_closure(st_store *st, const char *const *paths, size_t n, char ***out, size_t *nout, ut_err *e);
void st_strv_free(char **v, size_t n);

/* Adds a signature (with sk) to the path's info. */
bool st_store_sign_path(st_store *st, const char *path, const st_secret_key *sk, ut_err *e);

/* ---- Maintenance ---- */

typedef struct st_verify_report {
    size_t checked, ok, corrupt, missing, unsigned_, bad_sig;
} st_verify_report;
/* Checks the given paths (all when n == 0): info parses, blob present and
 * hashes to the recorded NAR hash and size, references present; with tk,
 * a valid signature. Each problem goes to report_cb (may be NULL). True when
 * everything checked out. */
bool st_store_verify(st_store *st, const char *const *paths, size_t n, const st_trusted_keys *tk,
                     void (*report_cb)(void *ctx, const char *path, const char *problem), void *ctx,
                     st_verify_report *rep, ut_err *e);

typedef struct st_gc_stats {
    size_t paths_kept, paths_deleted, blobs_deleted;
    uint64_t bytes_freed;
} st_gc_stats;
/* Deletes every path outside the closure of the roots, then every blob no
 * remaining path uses. roots_dir holds symlinks (or files) naming store paths
 * (a link to a path inside an object keeps the object). Paths and blobs
 * younger than grace_s seconds are kept: a concurrent writer may have just
 * added them and not rooted them yet. */
bool st_store_gc(st_store *st, const char *roots_dir, int64_t grace_s, bool dry_run, st_gc_stats *stats,
                 ut_err *e);

/* Copies paths and their closures from src to dst (skipping those present). */
bool st_store_copy(st_store *src, st_store *dst, const char *const *paths, size_t n, size_t *copied, ut_err *e);

/* Nix's path-info fingerprint of pi ("1;path;sha256:...;size;refs"). */
bool st_path_info_fingerprint(const st_store *st, const st_path_info *pi, ut_buf *out, ut_err *e);
/* The narinfo text of pi. */
void st_path_info_narinfo(const st_store *st, const st_path_info *pi, ut_buf *out);

#endif
