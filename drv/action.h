/* drv/action.h: a derivation lowered to a graded coeffect action.
 *
 * The action is what an executor needs and nothing about how Nix happened to
 * spell it: the builder, its arguments, the environment the builder sees
 * (with structured attributes and passAsFile desugared into files the way
 * Nix's build does), the files to place in the build directory, the inputs as
 * digests (input actions by action digest, sources by NAR hash), the outputs
 * and the grade. Its digest is the sha256 of its canonical JSON (RFC 8785),
 * so it is a Merkle name: an input's change changes every dependent digest.
 *
 * Values the executor supplies itself are left out of the action and named
 * in its grade instead: NIX_BUILD_CORES (cores) and the values of
 * impureEnvVars (env). */
#ifndef STRAYLIGHT_DRV_ACTION_H
#define STRAYLIGHT_DRV_ACTION_H

#include <jansson.h>

#include "compat/derivation.h"
#include "drv/grade.h"

/* Where the builder runs, as Nix's sandbox lays it out. */
#define DV_BUILD_DIR "/build"

typedef struct dv_lower_ctx {
    const char *store_dir;        /* NULL = /nix/store */
    /* The action digest (64 hex) of an input derivation; NULL + e if unknown. */
    const char *(*input_digest)(void *ctx, const char *drv_path, ut_err *e);
    /* The "sha256:<nix32>" NAR hash of an input source; NULL + e if missing. */
    const char *(*source_hash)(void *ctx, const char *path, ut_err *e);
    void *ctx;
} dv_lower_ctx;

typedef struct dv_action {
    json_t *json;                 /* the canonical action object (owned) */
    char digest[65];              /* sha256 hex of its canonical JSON */
    char *canonical;              /* that canonical JSON (owned) */
    size_t canonical_len;
    dv_grade grade;
    nc_drv_type type;
    bool fixed;                   /* fixed-output: hash-checked, seals taint */
} dv_action;

/* The grade of a derivation alone (docs/coeffects.md has the table). On
 * failure g holds nothing to free. */
bool dv_drv_grade(const nc_derivation *d, dv_grade *g, ut_err *e);

/* Lowers d (whose .drv is at drv_path, used in messages only). */
bool dv_action_lower(const nc_derivation *d, const char *drv_path, const dv_lower_ctx *lc, dv_action *out,
                     ut_err *e);
void dv_action_free(dv_action *a);

/* Nix's parseDrvName: splits "hello-2.12.1" into name "hello" and version
 * "2.12.1" at the first '-' followed by a non-letter. Both malloc'd. */
void dv_parse_drv_name(const char *s, char **name, char **version);

#endif
