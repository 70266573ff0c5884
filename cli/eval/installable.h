/* cli/eval/installable.h: what `instantiate`, `graph` and `sbom` share to
 * turn "FILE -A ATTR", "-E EXPR" or "nixpkgs#attr" into derivations. */
#ifndef STRAYLIGHT_CLI_EVAL_INSTALLABLE_H
#define STRAYLIGHT_CLI_EVAL_INSTALLABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "eval/value.h"
#include "util/util.h"

typedef struct cli_inst_arg {
    const char *name;
    const char *val;
    bool is_str;
} cli_inst_arg;

typedef struct cli_inst_opts {
    const char *expr, *file;
    const char **attrpaths;
    size_t nattrpaths;
    cli_inst_arg *args;
    size_t nargs;
    bool show_trace, walk_tsv;
    const char *meta_dir;
} cli_inst_opts;
typedef struct cli_drv_list {
    ev_value *slot;       /* a stack slot: the list of them so far (grown by doubling) */
    size_t n;
    ut_hmap *done;        /* attrs pointers already taken */
} cli_drv_list;
/* Pushes the list's stack slot (the caller resets the stack after use) */
void cli_drv_list_init(ev_state *S, cli_drv_list *dl);
static inline ev_value *cli_drv_list_at(const cli_drv_list *dl, size_t i) { return &dl->slot->u.l->v[i]; }

/* ---- experimental features ----------------------------------------------
 * Nix's experimental-features setting, as its configuration gives it:
 * NIX_CONFIG's `experimental-features = ...` (replaces) and
 * `extra-experimental-features = ...` (appends) lines first, then the
 * command line's --experimental-features (replaces) and
 * --extra-experimental-features (appends), or --option with either name,
 * in order. The list is
 * space-separated, for ev_options.experimental_features. */
void cli_features_from_env(ut_buf *features);
/* 1 when argv[*i] is one of the two flags, or --option with either setting
 * (its arguments consumed), 0 when not, -1 when a value is missing
 * (printed). */
int cli_features_opt(ut_buf *features, int argc, char **argv, int *i);
bool cli_features_is_opt(int argc, char **argv, int i);
/* Sets o's experimental_features (pointing into features) and the parser
 * switches that follow from them. */
void cli_features_apply(const ut_buf *features, ev_options *o);

/* Nix's autoCallFunction with the --arg/--argstr values. */
void cli_inst_auto_call(ev_state *S, ev_value *v, const cli_inst_opts *o, ev_value *out);
/* Nix's findAlongAttrPath: "a.b.0.c", functions auto-called on the way. */
void cli_inst_select(ev_state *S, ev_value *v, const char *path, const cli_inst_opts *o);
/* The expression: -E, a file ("-" is standard input), else default.nix. */
void cli_inst_load(ev_state *S, const cli_inst_opts *o, ev_value *out);

/* Runs fn(arg) on a thread with a 512 MiB stack, so deep evaluation ends in
 * Nix's own depth errors rather than a crash (in the calling thread if no
 * thread can be made). */
void cli_run_with_big_stack(void *(*fn)(void *), void *arg);
bool cli_inst_is_drv(ev_state *S, ev_value *v);
/* Nix's getDerivations into dl (stack slots of capacity dl->cap). */
void cli_inst_get_drvs(ev_state *S, ev_value *vin, const cli_inst_opts *o, cli_drv_list *dl);
const char *cli_inst_cwd(char *buf, size_t n);
/* The search path entry "nix=DIR" for <nix/fetchurl.nix>, or NULL. Heap. */
char *cli_corepkgs_search_entry(void);

/* ---- installables for graph and sbom ---- */

typedef struct cli_installable {
    cli_inst_opts o;
    const char **search;       /* -I entries, then NIX_PATH */
    size_t nsearch;
    char *expr_buf;            /* "import <name>" for name#attr */
    bool given;                /* an installable (not .drv paths) was named */
    ut_buf features;           /* experimental features (cli_features_*) */
    bool features_read;        /* features holds NIX_CONFIG's setting */
} cli_installable;

/* Inline so that commands built without the evaluator (cli/drv) can hold
 * one; the functions below exist only when cli/eval/ is compiled. */
static inline void cli_installable_init(cli_installable *in, int argc)
{
    memset(in, 0, sizeof *in);
    in->o.args = ut_xcalloc((size_t)argc + 1, sizeof *in->o.args);
    in->o.attrpaths = ut_xcalloc((size_t)argc + 1, sizeof *in->o.attrpaths);
    in->search = ut_xcalloc((size_t)argc + 3, sizeof *in->search);
}

static inline void cli_installable_free(cli_installable *in)
{
    free(in->o.args);
    free(in->o.attrpaths);
    free(in->search);
    free(in->expr_buf);
    ut_buf_free(&in->features);
}
/* Recognises -f/--file FILE, -A/--attr, -E/--expr, --arg, --argstr, -I,
 * --experimental-features, --extra-experimental-features and
 * an argument NAME#ATTRPATH (NAME looked up in the search path, as
 * `nix-instantiate '<NAME>' -A ATTRPATH`; flake references are not
 * supported). 1 consumed, 0 not one of these, -1 error (printed). */
int cli_installable_opt(cli_installable *in, int argc, char **argv, int *i);

/* Evaluates the installable (on a thread with a large stack, like
 * instantiate), writes the .drv closures to store (a st_store *) and
 * returns the .drv paths of the derivations it names, in nix-instantiate's
 * order. When meta is not NULL it gets a map .drv path -> meta JSON (heap
 * strings; NULL values for derivations whose meta was unusable) for every
 * derivation in the closure whose value evaluation met. */
bool cli_installable_drvs(cli_installable *in, void *store, char ***paths, size_t *npaths, ut_hmap **meta,
                          ut_err *e);
void cli_installable_meta_free(ut_hmap *meta);

#endif
