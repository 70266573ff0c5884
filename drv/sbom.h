/* drv/sbom.h: SBOMs of a derivation closure, CycloneDX 1.6 JSON and SPDX 2.3
 * JSON (docs/sbom.md describes every field and where it comes from).
 *
 * Package metadata (licenses, homepage, description, CPE/PURL overrides) is
 * not in a .drv; the evaluator records each derivation's `meta` beside it as
 * "<drv path>.meta.json". When that file is absent the component says so
 * (property straylight:meta = absent) instead of guessing. */
#ifndef STRAYLIGHT_DRV_SBOM_H
#define STRAYLIGHT_DRV_SBOM_H

#include "drv/graph.h"

typedef enum { DV_SBOM_CYCLONEDX, DV_SBOM_SPDX } dv_sbom_format;
typedef enum { DV_SBOM_BUILDTIME, DV_SBOM_RUNTIME } dv_sbom_scope;

typedef struct dv_sbom_opts {
    dv_sbom_format format;
    dv_sbom_scope scope;
    const char *meta_dir;      /* also look for <drv base name>.meta.json here */
    const char *tool_version;
    int64_t timestamp;         /* seconds since the epoch, for reproducible documents */
    /* meta recorded in memory by the evaluation that made the .drv files:
     * .drv path -> JSON text (NULL value: no usable meta); looked at first */
    const ut_hmap *meta;
} dv_sbom_opts;

typedef struct dv_sbom_stats {
    size_t components;         /* derivations and sources described */
    size_t with_meta, without_meta;
    size_t fetches;            /* fixed-output fetches with a recorded URL */
    size_t dependencies;       /* dependency edges */
} dv_sbom_stats;

/* The SBOM of the closure of the graph's root `root` (a node index). The
 * runtime scope needs the outputs' references (path metadata); without them
 * it fails and says which output is unknown. */
json_t *dv_sbom(const dv_graph *g, size_t root, const dv_sbom_opts *o, dv_sbom_stats *st, ut_err *e);

#endif
