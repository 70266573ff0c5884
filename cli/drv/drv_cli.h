/* Shared by `straylight graph` and `straylight sbom`: turning DRV arguments
 * into a drv source and store paths. */
#ifndef STRAYLIGHT_CLI_DRV_CLI_H
#define STRAYLIGHT_CLI_DRV_CLI_H

#include "drv/source.h"

typedef struct cli_drv_opts {
    const char *source_dir;   /* --drv-source DIR: store objects by base name */
    const char *path_info;    /* --path-info TSV */
    const char *store_dir;    /* --store-dir (logical), default /nix/store */
    unsigned flags;           /* --no-verify: DV_GRAPH_NO_VERIFY */
    const char *store_url;    /* --store URL: straylight's store (default: its default store) */
    bool store_given;
    bool want_meta;           /* record the closure's meta when evaluating (sbom) */
} cli_drv_opts;

/* What graph and sbom work on once the arguments are resolved. */
typedef struct cli_drv_input {
    dv_source *src;
    char **paths;             /* .drv store paths */
    size_t npaths;
    ut_hmap *meta;            /* .drv path -> meta JSON, from evaluating an installable */
    void *store;              /* st_store *, when one was opened */
} cli_drv_input;

/* Recognises the shared options at argv[*i] (advancing *i); returns 1 if
 * consumed, 0 if not one of them, -1 on a missing value (message printed). */
int cli_drv_opt(cli_drv_opts *o, int argc, char **argv, int *i);

/* Each DRV is a store path (read from --drv-source, else the store
 * directory) or a file whose name is a store base name ending in .drv (its
 * directory becomes the drv source). Fills *src and paths (malloc'd). */
bool cli_drv_resolve(const cli_drv_opts *o, char **args, size_t nargs, dv_source **src, char ***paths, ut_err *e);
void cli_drv_paths_free(char **paths, size_t n);

/* The installable options (-f, -A, -E, --arg, --argstr, -I, NAME#ATTR) of
 * cli/eval/installable.h; 0 when the evaluator is not built in. */
struct cli_installable;
int cli_drv_installable_opt(struct cli_installable *in, int argc, char **argv, int *i);

/* DRV arguments, or the installable when one was given (then args must be
 * empty): evaluates it in-process, writing .drv files into the store, and
 * reads everything from that store. */
bool cli_drv_input_resolve(const cli_drv_opts *o, struct cli_installable *in, char **args, size_t nargs,
                           cli_drv_input *out, ut_err *e);
void cli_drv_input_free(cli_drv_input *in);

/* Writes text to path atomically, or to stdout when path is NULL or "-". */
bool cli_drv_write_out(const char *path, const char *data, size_t len, ut_err *e);

#endif
