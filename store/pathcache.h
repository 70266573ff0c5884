/* Internal: the persistent cache of source trees' hashes (pathcache.c). */
#ifndef STRAYLIGHT_STORE_PATHCACHE_H
#define STRAYLIGHT_STORE_PATHCACHE_H

#include "store/store.h"

typedef struct st_path_cache st_path_cache;

/* What hashing a file system object for st_store_add_path yields. */
typedef struct st_path_hashes {
    nc_hash nar_hash;      /* sha256 of the NAR */
    uint64_t nar_size;
    nc_hash flat_hash;     /* sha256 of the bytes (NC_CA_FLAT only) */
} st_path_hashes;

/* One object's stamp, taken by a lookup before the object is hashed and
 * handed to st_path_cache_record afterwards. */
typedef struct st_path_cache_probe {
    bool stamped;          /* the walk succeeded: the stamp is set */
    bool settled;          /* every entry older than the walk's start minus the settle time */
    uint8_t stamp[32];
} st_path_cache_probe;

/* dir: where the log lives (created on the first record); settle_ms < 0
 * for the default. Freeing appends the records made through the handle. */
st_path_cache *st_path_cache_new(const char *dir, int64_t settle_ms);
void st_path_cache_free(st_path_cache *c);

/* Stamps fs_path into *p and, when an entry with that stamp exists, sets
 * *out: true on a hit. Never an error: anything odd is a miss. */
bool st_path_cache_lookup(st_path_cache *c, const char *fs_path, nc_ca_method method, st_path_cache_probe *p,
                          st_path_hashes *out);
/* Records what hashing the object stamped in *p gave, when the stamp is
 * settled. Failures are silent (the cache is only an optimisation). */
void st_path_cache_record(st_path_cache *c, const char *fs_path, nc_ca_method method, const st_path_cache_probe *p,
                          const st_path_hashes *h);
/* Rewrites the log with only the latest record per key, dropping those
 * written more than max_age_s seconds ago (done by itself at free when
 * most of a large log is dead). */
void st_path_cache_trim(st_path_cache *c, int64_t max_age_s);
void st_path_cache_get_stats(const st_path_cache *c, st_path_cache_stats *out);

#endif
