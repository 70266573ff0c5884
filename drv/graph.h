/* drv/graph.h: a derivation closure as a graph of actions, with its two
 * closure grades (docs/coeffects.md):
 *   - what it takes to build: each node's own grade (and their join);
 *   - taint: T(d) = tau(g(d)) ⊔ T(i) over inputs i, with T = pure for a
 *     fixed-output derivation (its output is checked against its hash). */
#ifndef STRAYLIGHT_DRV_GRAPH_H
#define STRAYLIGHT_DRV_GRAPH_H

#include "compat/derivation.h"
#include "drv/action.h"
#include "drv/grade.h"
#include "drv/source.h"

typedef struct dv_node {
    char *drv_path;
    nc_derivation *drv;
    dv_action action;
    dv_grade taint;
    size_t *inputs;               /* indices of the input derivations' nodes */
    size_t ninputs;
    nc_drv_hash modulo;           /* hashDerivationModulo (outputs not masked) */
    char drv_nar_hash[NC_HASH_STR_MAX]; /* "sha256:<nix32>" of the .drv file's NAR */
} dv_node;

typedef struct dv_graph {
    dv_source *src;               /* borrowed */
    dv_node *nodes;               /* topological: every input before its users */
    size_t n, cap;
    ut_hmap *index;               /* drv path -> node index + 1 */
    size_t *roots;
    size_t nroots;
    dv_grade join;                /* join of every node's grade */
    unsigned flags;
} dv_graph;

/* Loads the closure of the root .drv paths by following inputDrvs. Fails
 * with a message naming the .drv on a malformed or truncated .drv, a missing
 * input (and which derivation needs it), or a cycle (the whole cycle).
 *
 * Unless DV_GRAPH_NO_VERIFY is given, every .drv is also checked to be what
 * its name claims, since a drv source is just files: its store path must be
 * the text path of its bytes, and its outputs must be the ones its
 * hashDerivationModulo gives (Nix's checkInvariants). */
#define DV_GRAPH_NO_VERIFY 1u
bool dv_graph_load(dv_graph *g, dv_source *src, char *const *roots, size_t nroots, unsigned flags, ut_err *e);
void dv_graph_free(dv_graph *g);
/* NULL if drv_path is not in the graph. */
const dv_node *dv_graph_find(const dv_graph *g, const char *drv_path);

/* Reads and parses one .drv from src (name taken from the path); with
 * verify, also checks the path is the text store path of the bytes. If
 * nar_hash is given it receives the file's NAR hash ("sha256:<nix32>"),
 * which must agree with the source's recorded metadata when it has any. */
nc_derivation *dv_load_drv(dv_source *src, const char *drv_path, bool verify, char nar_hash[NC_HASH_STR_MAX],
                           ut_err *e);

#endif
