/* store/backend.h: where the store's bytes live. One small vtable of blob
 * operations by key ("cas/<hex>", "<hash>.narinfo", "nix-cache-info"); the
 * store layer (store.h) decides the keys and verifies every hash, so a backend
 * only moves bytes. Backends: local directory, S3/R2, memory and dry. */
#ifndef STRAYLIGHT_STORE_BACKEND_H
#define STRAYLIGHT_STORE_BACKEND_H

#include "util/util.h"

#include <stdbool.h>
#include <stdint.h>

/* Bytes to put: either memory or a file descriptor read with pread, so a
 * retry or a multipart part can re-read any range without a second copy. */
typedef struct st_src {
    const void *mem;             /* used when non-NULL */
    int fd;                      /* otherwise, read with pread from offset 0 */
    uint64_t len;
    const uint8_t *sha256;       /* of all len bytes, when the caller knows it (may be NULL) */
} st_src;

/* Receives the bytes of a get, in order. Returning false stops the transfer. */
typedef bool (*st_sink_fn)(void *ctx, const void *p, size_t n, ut_err *e);

typedef enum st_put_flags {
    ST_PUT_IF_ABSENT = 1,        /* first writer wins: an existing object is kept */
} st_put_flags;

typedef enum st_put_result {
    ST_PUT_ERROR = 0,
    ST_PUT_WRITTEN = 1,
    ST_PUT_EXISTED = 2,          /* ST_PUT_IF_ABSENT and the key was already there */
} st_put_result;

typedef struct st_backend st_backend;

typedef struct st_backend_ops {
    const char *scheme;
    /* Streams the object from byte offset `offset` to the sink. A missing
     * key sets *missing (when non-NULL) and fails with a message. */
    bool (*get)(st_backend *be, const char *key, uint64_t offset, st_sink_fn sink, void *ctx,
                bool *missing, ut_err *e);
    st_put_result (*put)(st_backend *be, const char *key, const st_src *src, int flags, ut_err *e);
    /* 1 present (size in *size), 0 absent, -1 error. */
    int (*has)(st_backend *be, const char *key, uint64_t *size, ut_err *e);
    /* Calls cb for every key starting with prefix; mtime is seconds since the
     * epoch (0 if unknown). cb returning false stops the listing. */
    bool (*list)(st_backend *be, const char *prefix,
                 bool (*cb)(void *ctx, const char *key, uint64_t size, int64_t mtime), void *ctx,
                 ut_err *e);
    /* Removing a missing key is not an error. */
    bool (*del)(st_backend *be, const char *key, ut_err *e);
    /* Optional: a read-only fd on a local file holding the object (fast path
     * for local stores), or -1 (errno ENOENT when missing). */
    int (*open_local)(st_backend *be, const char *key);
    /* Optional: a lock excluding the garbage collector (shared=true for
     * writers, false for gc). Returns an opaque token (>=0) or -1. */
    int (*lock)(st_backend *be, bool shared, ut_err *e);
    void (*unlock)(st_backend *be, int token);
    /* Optional: a directory on the backend's file system for temporary
     * files, and a put that renames such a finished file into place (so a
     * large blob is written once, not copied). */
    const char *(*tmp_dir)(st_backend *be);
    st_put_result (*put_file)(st_backend *be, const char *key, const char *tmp_path, int flags, ut_err *e);
    void (*free)(st_backend *be);
} st_backend_ops;

struct st_backend {
    const st_backend_ops *ops;
    char *url;                   /* as configured, for messages */
};

/* Constructors. Each returns NULL with a message on error. */
st_backend *st_backend_local(const char *dir, bool fsync_writes, ut_err *e);
st_backend *st_backend_mem(void);       /* keeps everything in memory (tests) */
st_backend *st_backend_dry(void);       /* accepts puts, keeps nothing */

/* S3/R2 (see s3.h for the options). */
typedef struct st_s3_config st_s3_config;
st_backend *st_backend_s3(const st_s3_config *cfg, ut_err *e);

/* Parses a backend URL: "local:DIR", "/abs/dir", "file://DIR", "mem:",
 * "dry:", "s3://bucket?endpoint=...&region=...". */
st_backend *st_backend_open(const char *url, ut_err *e);

/* Helpers over any backend. */
bool st_backend_get_bytes(st_backend *be, const char *key, ut_buf *out, bool *missing, ut_err *e);
st_put_result st_backend_put_bytes(st_backend *be, const char *key, const void *p, size_t n, int flags,
                                   ut_err *e);
void st_backend_free(st_backend *be);

/* Reads len bytes of a source at offset (pread or memcpy). */
bool st_src_read(const st_src *src, uint64_t off, void *buf, size_t len, ut_err *e);

#endif
