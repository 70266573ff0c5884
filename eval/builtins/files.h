/* eval/builtins/files.h: path handling shared by the builtin families that
 * read files (files.c, hash.c). Internal to eval/builtins. */
#ifndef STRAYLIGHT_EVAL_BUILTINS_FILES_H
#define STRAYLIGHT_EVAL_BUILTINS_FILES_H

#include "eval/builtins.h"

enum {
    EV_BI_RESOLVE_NONE,        /* the path as written (readFileType) */
    EV_BI_RESOLVE_ANCESTORS,   /* symlinks in all but the last component */
    EV_BI_RESOLVE_FULL,        /* symlinks everywhere */
};

char *ev_bi_coerce_path(ev_state *S, ev_value *v, ps_pos pos, const char *errctx, ev_ctxset *ctx);
char *ev_bi_realise_path(ev_state *S, ev_value *v, ps_pos pos, int mode);
char *ev_bi_read_file(ev_state *S, const char *path, ps_pos pos, size_t *len);

#endif
