/* drv/emit.h: exports of an action graph.
 *   json : every action (digest, .drv path, grade, taint, inputs by digest,
 *          outputs, and the action itself) plus the closure grades;
 *   dot  : Graphviz, nodes coloured pure / pinned network / impure;
 *   rev2 : Bazel Remote Execution v2 Command, Directory and Action messages
 *          in a CAS directory (blobs/sha256/<hex>) plus graph.json, which
 *          names each action's REv2 digest and the upstream outputs a runner
 *          must graft into its input root (docs/coeffects.md). */
#ifndef STRAYLIGHT_DRV_EMIT_H
#define STRAYLIGHT_DRV_EMIT_H

#include "drv/graph.h"

/* The JSON document (a new reference). */
json_t *dv_graph_to_json(const dv_graph *g);
/* The same document as text, one action per line, each action object in its
 * canonical form (the bytes its digest is the sha256 of). */
bool dv_graph_write_json(const dv_graph *g, ut_buf *out, ut_err *e);
void dv_graph_to_dot(const dv_graph *g, ut_buf *out);

typedef struct dv_rev2_stats {
    size_t actions, commands, directories, files, blobs_written;
} dv_rev2_stats;
bool dv_graph_to_rev2(const dv_graph *g, const char *out_dir, dv_rev2_stats *st, ut_err *e);

#endif
