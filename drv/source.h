/* drv/source.h: where derivation files and sources come from.
 *
 * A drv source maps a store path ("/nix/store/<hash>-<name>") to its bytes.
 * Two built-in kinds: a directory that mirrors the store (objects kept under
 * their base names, e.g. a copied closure) and the store directory itself.
 * Other layers (the store/ backends) plug in through dv_source_ops.
 *
 * Optionally a source knows path metadata (NAR hash, size, references), read
 * from a TSV "path<TAB>sha256:<nix32><TAB>size<TAB>refs..." as written by
 * `nix-store -q --hash/--size/--references`. */
#ifndef STRAYLIGHT_DRV_SOURCE_H
#define STRAYLIGHT_DRV_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

struct dv_pathinfo;

typedef struct dv_source_ops {
    /* All bytes of a regular file store object. */
    bool (*read)(void *ctx, const char *store_path, ut_buf *out, ut_err *e);
    /* A path on this machine's file system holding the object (for walking
     * directory sources), malloc'd; NULL if the object is not local. */
    char *(*local_path)(void *ctx, const char *store_path);
    void (*free)(void *ctx);
    /* Optional: path metadata the backing store knows (1 found, 0 not
     * known, -1 error). Asked only for paths the TSV did not give. */
    int (*pathinfo)(void *ctx, const char *store_path, struct dv_pathinfo *out, ut_err *e);
} dv_source_ops;

typedef struct dv_pathinfo {
    char *nar_hash;        /* "sha256:<nix32>" */
    uint64_t nar_size;
    char **refs;           /* full paths */
    size_t nrefs;
} dv_pathinfo;

typedef struct dv_source dv_source;

/* store_dir: the logical store directory (NULL = /nix/store). */
dv_source *dv_source_new(const dv_source_ops *ops, void *ctx, const char *store_dir);
/* Objects under dir/<base name>. */
dv_source *dv_source_dir(const char *dir, const char *store_dir);
/* Objects in the store directory itself. */
dv_source *dv_source_store(const char *store_dir);
void dv_source_free(dv_source *s);

const char *dv_source_store_dir(const dv_source *s);
bool dv_source_read(dv_source *s, const char *store_path, ut_buf *out, ut_err *e);
char *dv_source_local_path(dv_source *s, const char *store_path);

/* Objects and path metadata from a straylight store (store/store.h; only
 * when the store layer is built). Objects not in that store are read from
 * the store directory on this file system when they are there, so .drv
 * files written by nix-instantiate keep working. The store stays owned by
 * the caller and must outlive the source. */
typedef struct st_store st_store;
dv_source *dv_source_st_store(st_store *st);

/* Loads path metadata; errors name file:line. */
bool dv_source_load_pathinfo(dv_source *s, const char *tsv_path, ut_err *e);
const dv_pathinfo *dv_source_pathinfo(dv_source *s, const char *store_path);

/* "sha256:<nix32>" NAR hash of a store object (memoised). Computed from the
 * local bytes when they are reachable, and then checked against the known
 * metadata; otherwise taken from the metadata; otherwise an error. */
const char *dv_source_nar_hash(dv_source *s, const char *store_path, ut_err *e);

#endif
