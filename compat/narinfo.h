/* .narinfo files of binary caches, and the path-info fingerprint that
 * signatures sign. */
#ifndef STRAYLIGHT_COMPAT_NARINFO_H
#define STRAYLIGHT_COMPAT_NARINFO_H

#include "compat/hash.h"
#include "compat/nc.h"
#include "util/util.h"

typedef struct nc_narinfo {
    ut_arena *arena;          /* owns every string below */
    nc_str store_path;        /* full path */
    nc_str url;
    nc_str compression;       /* a missing one reads as "bzip2", as in Nix */
    bool has_file_hash;
    nc_hash file_hash;
    uint64_t file_size;       /* 0 = absent */
    nc_hash nar_hash;
    uint64_t nar_size;
    nc_str *refs;             /* base names, sorted, unique */
    size_t nrefs;
    nc_str deriver;           /* base name; empty = absent */
    nc_str system;            /* empty = absent */
    nc_str *sigs;             /* sorted, unique (a std::set in Nix) */
    size_t nsigs;
    nc_str ca;                /* content address rendering; empty = absent */
} nc_narinfo;

/* Parses "Key: value" lines. StorePath, URL, NarHash and NarSize are
 * required; unknown keys are ignored (as Nix). whence names the source in
 * error messages ("<whence>:<line>: ..."). */
nc_narinfo *nc_narinfo_parse(const char *data, size_t len, const char *store_dir, const char *whence, ut_err *e);
/* Prints in Nix's NarInfo::to_string order and form. */
void nc_narinfo_print(const nc_narinfo *ni, const char *store_dir, ut_buf *out);
nc_narinfo *nc_narinfo_new(void);
void nc_narinfo_free(nc_narinfo *ni);

/* "1;<path>;<sha256:nix32 nar hash>;<nar size>;<comma-separated full
 * reference paths, sorted>". Fails (as Nix) if the hash is not sha256 or the
 * size is unknown (0). refs are base names or full paths. */
bool nc_path_info_fingerprint(const char *store_dir, nc_str path, const nc_hash *nar_hash, uint64_t nar_size,
                              const nc_str *refs, size_t nrefs, ut_buf *out, ut_err *e);
bool nc_narinfo_fingerprint(const nc_narinfo *ni, const char *store_dir, ut_buf *out, ut_err *e);

#endif
