#include "cli/drv/drv_cli.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/eval/installable.h"
#include "compat/storepath.h"
#include "drv/graph.h"
#ifdef STRAYLIGHT_DRV_HAVE_STORE
#include "store/store.h"
#endif

/* cli/eval/ is compiled only when the evaluator is built; without it these
 * stay NULL and installables are refused with a message. */
#pragma weak cli_installable_opt
#pragma weak cli_installable_drvs
#pragma weak cli_installable_meta_free

int cli_drv_opt(cli_drv_opts *o, int argc, char **argv, int *i)
{
    const char **slot = NULL;
    if (!strcmp(argv[*i], "--no-verify")) {
        o->flags |= DV_GRAPH_NO_VERIFY;
        return 1;
    }
    if (!strcmp(argv[*i], "--drv-source")) slot = &o->source_dir;
    else if (!strcmp(argv[*i], "--path-info")) slot = &o->path_info;
    else if (!strcmp(argv[*i], "--store-dir")) slot = &o->store_dir;
    else if (!strcmp(argv[*i], "--store")) {
        slot = &o->store_url;
        o->store_given = true;
    }
    else return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "error: %s needs a value\n", argv[*i]);
        return -1;
    }
    *slot = argv[++*i];
    return 1;
}

void cli_drv_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

bool cli_drv_resolve(const cli_drv_opts *o, char **args, size_t nargs, dv_source **src, char ***paths, ut_err *e)
{
    const char *sd = o->store_dir ? o->store_dir : NC_STORE_DIR_DEFAULT;
    char **out = ut_xcalloc(nargs ? nargs : 1, sizeof *out);
    char *mirror = o->source_dir ? ut_xstrdup(o->source_dir) : NULL;
    bool ok = true;
    for (size_t i = 0; i < nargs && ok; i++) {
        if (nc_is_store_path(sd, nc_str_c(args[i]))) {
            out[i] = ut_xstrdup(args[i]);
            continue;
        }
        struct stat st;
        char *copy1 = ut_xstrdup(args[i]), *copy2 = ut_xstrdup(args[i]);
        const char *base = basename(copy1), *dir = dirname(copy2);
        nc_store_path_parts parts;
        ut_err pe = UT_ERR_INIT;
        if (stat(args[i], &st) == 0 && S_ISREG(st.st_mode) && nc_store_base_parse(nc_str_c(base), &parts, &pe)) {
            ut_buf p = UT_BUF_INIT;
            ut_buf_printf(&p, "%s/%s", sd, base);
            out[i] = ut_buf_steal(&p, NULL);
            if (!mirror) mirror = ut_xstrdup(dir);
            else if (strcmp(mirror, dir)) ok = ut_err_set(e, "%s: all .drv files given as files must be in one directory (%s)", args[i], mirror);
        } else {
            ok = ut_err_set(e, "%s: neither a store path under %s nor a .drv file named by its store base name", args[i], sd);
        }
        ut_err_clear(&pe);
        free(copy1);
        free(copy2);
    }
    if (ok) {
        *src = mirror ? dv_source_dir(mirror, sd) : dv_source_store(sd);
        if (o->path_info && !dv_source_load_pathinfo(*src, o->path_info, e)) {
            dv_source_free(*src);
            *src = NULL;
            ok = false;
        }
    }
    free(mirror);
    if (!ok) {
        cli_drv_paths_free(out, nargs);
        return false;
    }
    *paths = out;
    return true;
}

bool cli_drv_write_out(const char *path, const char *data, size_t len, ut_err *e)
{
    if (!path || !strcmp(path, "-")) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) return ut_err_set(e, "writing standard output failed");
        return true;
    }
    return ut_write_file_atomic(path, data, len, 0644, e);
}

int cli_drv_installable_opt(struct cli_installable *in, int argc, char **argv, int *i)
{
    if (cli_installable_opt) return cli_installable_opt(in, argc, argv, i);
    const char *a = argv[*i];
    static const char *const flags[] = {"-f", "--file", "-A", "--attr", "-E", "--expr", "--arg", "--argstr", NULL};
    bool inst = a[0] != '-' && strchr(a, '#');
    for (size_t k = 0; flags[k] && !inst; k++) inst = !strcmp(a, flags[k]);
    if (!inst) return 0;
    fprintf(stderr, "error: '%s': installables need the evaluator, which this straylight was built without\n", a);
    return -1;
}

void cli_drv_input_free(cli_drv_input *in)
{
    if (in->paths) cli_drv_paths_free(in->paths, in->npaths);
    dv_source_free(in->src);
    if (in->meta && cli_installable_meta_free) cli_installable_meta_free(in->meta);
#ifdef STRAYLIGHT_DRV_HAVE_STORE
    if (in->store) st_store_close(in->store);
#endif
    memset(in, 0, sizeof *in);
}

bool cli_drv_input_resolve(const cli_drv_opts *o, struct cli_installable *in, char **args, size_t nargs,
                           cli_drv_input *out, ut_err *e)
{
    memset(out, 0, sizeof *out);
    bool inst = in && in->given;
    if (inst && nargs) return ut_err_set(e, "give either an installable (-f/-A/-E/NAME#ATTR) or .drv paths, not both");
    if (inst && (o->source_dir || o->store_dir))
        return ut_err_set(e, "an installable is evaluated into the store (--store); --drv-source and --store-dir are for .drv paths");
    if (!inst && !nargs) return ut_err_set(e, "nothing to do: give .drv paths or an installable");
#ifdef STRAYLIGHT_DRV_HAVE_STORE
    /* .drv paths are read from straylight's store (falling back to the store
     * directory on this machine) unless a mirror directory or files are
     * named; an installable always goes through the store. */
    bool files = false;
    const char *sd = o->store_dir ? o->store_dir : NC_STORE_DIR_DEFAULT;
    for (size_t i = 0; i < nargs && !files; i++) files = !nc_is_store_path(sd, nc_str_c(args[i]));
    if (inst || (!o->source_dir && !files && (o->store_given || !o->store_dir))) {
        st_store *st = st_store_open(o->store_url, e);
        if (!st) return ut_err_wrap(e, "opening the store");
        out->store = st;
        if (inst) {
            if (!cli_installable_drvs) {
                cli_drv_input_free(out);
                return ut_err_set(e, "installables need the evaluator, which this straylight was built without");
            }
            if (!cli_installable_drvs(in, st, &out->paths, &out->npaths, o->want_meta ? &out->meta : NULL, e)) {
                cli_drv_input_free(out);
                return false;
            }
        } else {
            out->paths = ut_xcalloc(nargs, sizeof *out->paths);
            out->npaths = nargs;
            for (size_t i = 0; i < nargs; i++) out->paths[i] = ut_xstrdup(args[i]);
        }
        out->src = dv_source_st_store(st);
        if (o->path_info && !dv_source_load_pathinfo(out->src, o->path_info, e)) {
            cli_drv_input_free(out);
            return false;
        }
        return true;
    }
#else
    if (inst) return ut_err_set(e, "installables need the store layer, which this straylight was built without");
#endif
    if (!cli_drv_resolve(o, args, nargs, &out->src, &out->paths, e)) return false;
    out->npaths = nargs;
    return true;
}
