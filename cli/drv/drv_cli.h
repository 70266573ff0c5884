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
} cli_drv_opts;

/* Recognises the shared options at argv[*i] (advancing *i); returns 1 if
 * consumed, 0 if not one of them, -1 on a missing value (message printed). */
int cli_drv_opt(cli_drv_opts *o, int argc, char **argv, int *i);

/* Each DRV is a store path (read from --drv-source, else the store
 * directory) or a file whose name is a store base name ending in .drv (its
 * directory becomes the drv source). Fills *src and paths (malloc'd). */
bool cli_drv_resolve(const cli_drv_opts *o, char **args, size_t nargs, dv_source **src, char ***paths, ut_err *e);
void cli_drv_paths_free(char **paths, size_t n);

/* Writes text to path atomically, or to stdout when path is NULL or "-". */
bool cli_drv_write_out(const char *path, const char *data, size_t len, ut_err *e);

#endif
