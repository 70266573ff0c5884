/* store/fetch.h: downloads for evaluation-time fetchers (builtins.fetchurl,
 * fetchTarball, fetchTree), a download cache, archive unpacking, and the log
 * of every fetch (a coeffect: what the evaluation pulled from the network).
 *
 * Cache layout under st_fetch_cache_dir() ($XDG_CACHE_HOME/straylight/fetch):
 *   <sha256 hex of the URL>/data   the body of the last successful download
 *   <sha256 hex of the URL>/meta   "key value" lines: url, final-url, etag,
 *                                  sha256 (nix32 of data), size, time
 * Both are written atomically (data first), so a reader sees either the old
 * entry or the new one. */
#ifndef STRAYLIGHT_STORE_FETCH_H
#define STRAYLIGHT_STORE_FETCH_H

#include <stdint.h>

#include "compat/hash.h"
#include "util/util.h"

/* One fetch, as the evaluator saw it. */
typedef struct st_fetch_record {
    char *url;              /* as asked */
    char *final_url;        /* after redirects */
    nc_hash sha256;         /* of the bytes */
    uint64_t size;
    int64_t time;           /* unix seconds of the download (or of the cached one) */
    bool from_cache;        /* no request was made, or the server answered 304 */
} st_fetch_record;

typedef struct st_fetch_log {
    st_fetch_record *v;
    size_t n, cap;
} st_fetch_log;

/* The process-wide log every successful st_fetch_download appends to
 * (thread safe to append; read it once evaluation is over). An evaluator
 * front end writes st_fetch_log_json() beside its outputs: the fetches are
 * part of what the result depended on. */
st_fetch_log *st_fetch_global_log(void);
void st_fetch_log_clear(st_fetch_log *log);
/* JSON array of {url, finalUrl, sha256 (SRI), size, time, fromCache}. */
void st_fetch_log_json(const st_fetch_log *log, ut_buf *out);

/* $XDG_CACHE_HOME/straylight/fetch (or ~/.cache/...). Heap string. */
char *st_fetch_cache_dir(void);

typedef struct st_fetch_opts {
    const char *cache_dir;       /* NULL: st_fetch_cache_dir() */
    /* The bytes must hash to this (sha256): a cached copy that does is used
     * without any request; a download that does not is an error. */
    const nc_hash *expected;
    /* For unlocked URLs: a cached copy younger than this many seconds is
     * used without a request; an older one is revalidated with its ETag.
     * Negative: always revalidate. */
    int64_t ttl;
} st_fetch_opts;

typedef struct st_fetch_result {
    char *path;             /* the cached file holding the bytes */
    char *final_url;
    char *etag;             /* may be NULL */
    nc_hash sha256;
    uint64_t size;
    int64_t time;
    bool from_cache;
    long http_status;       /* 0 when no request was made */
} st_fetch_result;

void st_fetch_result_free(st_fetch_result *r);

/* Downloads url (libcurl: redirects followed, proxies from the usual
 * environment variables http_proxy/https_proxy/no_proxy) into the cache.
 * Transient failures (connection, 5xx, 408, 429) are retried, as Nix's
 * download-attempts: STRAYLIGHT_DOWNLOAD_ATTEMPTS (default 5); a transfer
 * stalled for STRAYLIGHT_STALLED_DOWNLOAD_TIMEOUT seconds (300) fails. Errors use Nix's wording:
 * "unable to download 'URL': HTTP error 404". When opts->expected is set and
 * the bytes differ, the error is Nix's "hash mismatch in file downloaded
 * from 'URL':..." and the cache is left as it was. */
bool st_fetch_download(const char *url, const st_fetch_opts *opts, st_fetch_result *r, ut_err *e);

/* Unpacks an archive (any format and compression libarchive reads: tar
 * with gz/xz/bz2/zst, zip, ...) into dest (created; must not exist).
 * *last_modified (optional) gets the newest entry mtime. Entries that would
 * escape dest (absolute, "..", through symlinks) are refused. */
bool st_fetch_unpack(const char *archive, const char *dest, int64_t *last_modified, ut_err *e);

/* The directory Nix adds for an unpacked tarball: when dir holds exactly one
 * entry and it is a directory, that entry; otherwise dir itself. Heap string. */
char *st_fetch_tarball_root(const char *dir, ut_err *e);

/* The sha256 NAR hash (and size) of a file system object, without adding
 * it anywhere: lets a caller check a tree before it touches the store. */
bool st_fetch_nar_hash(const char *fs_path, nc_hash *out, uint64_t *size, ut_err *e);

/* Removes a tree (for temporary directories); errors ignored. */
void st_fetch_rmtree(const char *path);

#endif
