/* straylight eval: nix-instantiate --eval with the same output and exit
 * codes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/eval/installable.h"
#include "eval/builtins.h"
#include "eval/value.h"
#ifdef STRAYLIGHT_HAVE_STORE
#include "store/store.h"
#endif

typedef struct eval_job {
    int argc;
    char **argv;
    int rc;
} eval_job;

static void usage(void)
{
    fprintf(stderr,
            "usage: straylight eval [--strict] [--json] [--xml] [--raw] [-E EXPR | FILE | -]\n"
            "         [-A ATTRPATH] [--arg NAME EXPR] [--argstr NAME STR] [-I PATH] [--show-trace]\n");
}

static ps_lint lint_level(const char *s)
{
    if (strcmp(s, "fatal") == 0)
        return PS_LINT_FATAL;
    if (strcmp(s, "warn") == 0)
        return PS_LINT_WARN;
    return PS_LINT_OFF;
}

typedef struct eval_opts {
    bool strict, json, xml, raw, show_trace, location;
    const char *attrpath;
    cli_inst_opts inst; /* expr, file and the --arg/--argstr values */
} eval_opts;

static int evaluate(ev_state *S, const eval_opts *eo, ut_buf *out)
{
    volatile int rc = 0;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_value *v = ev_stack_push(S, 2);
        cli_inst_load(S, &eo->inst, &v[0]);
        if (eo->attrpath && *eo->attrpath)
            cli_inst_select(S, &v[0], eo->attrpath, &eo->inst);
        cli_inst_auto_call(S, &v[0], &eo->inst, &v[1]);
        if (eo->xml) {
            ev_to_xml(S, out, &v[1], (ps_pos){0}, eo->location, NULL);
        } else if (eo->json) {
            ev_to_json(S, out, &v[1], (ps_pos){0}, true, NULL);
            ut_buf_putc(out, '\n');
        } else if (eo->raw) {
            ev_coerce_to_string(S, &v[1], (ps_pos){0}, EV_COERCE_COPY_TO_STORE, out, NULL, NULL);
        } else {
            if (eo->strict)
                ev_force_deep(S, &v[1], (ps_pos){0});
            else
                ev_force(S, &v[1], (ps_pos){0});
            ev_print(S, out, &v[1], eo->strict ? EV_PRINT_STRICT : 0);
            ut_buf_putc(out, '\n');
        }
        ev_try_end(S, &t);
    } else {
        ev_try_end(S, &t);
        ut_buf e = UT_BUF_INIT;
        ev_error_format(S, &e, eo->show_trace);
        /* as Nix's logger: tabs expanded, NULs of quoted source restored */
        ut_buf f = UT_BUF_INIT;
        ps_log_filter(&f, e.data ? e.data : "", e.len);
        fflush(stdout);
        fwrite(f.data, 1, f.len, stderr);
        ut_buf_free(&f);
        ut_buf_free(&e);
        rc = 1;
    }
    return rc;
}

static int run_eval(int argc, char **argv)
{
    bool strict = false, json = false, xml = false, raw = false, show_trace = false, location = true;
    const char *expr = NULL, *file = NULL, *attrpath = NULL, *store_url = NULL;
    /* NIX_CONFIG first: the command line's flags apply over it */
    ut_buf features = UT_BUF_INIT;
    cli_features_from_env(&features);
    int fr;
    cli_inst_arg *args = calloc((size_t)argc + 1, sizeof *args);
    size_t nargs = 0;
    const char **search = calloc((size_t)argc + 2, sizeof *search);
    size_t nsearch = 0;
    ev_options o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--strict") == 0)
            strict = true;
        else if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--xml") == 0)
            xml = true;
        else if (strcmp(a, "--raw") == 0)
            raw = true;
        else if (strcmp(a, "--eval") == 0 || strcmp(a, "--impure") == 0 || strcmp(a, "--read-write-mode") == 0)
            ;
        else if (strcmp(a, "--no-location") == 0)
            location = false;
        else if (strcmp(a, "--show-trace") == 0)
            show_trace = true;
        else if (strcmp(a, "--no-show-trace") == 0)
            show_trace = false;
        else if (strcmp(a, "--pure-eval") == 0)
            o.pure = true;
        else if ((strcmp(a, "-E") == 0 || strcmp(a, "--expr") == 0) && more)
            expr = argv[++i];
        else if ((strcmp(a, "-A") == 0 || strcmp(a, "--attr") == 0) && more)
            attrpath = argv[++i];
        else if ((strcmp(a, "--arg") == 0 || strcmp(a, "--argstr") == 0) && i + 2 < argc) {
            args[nargs].is_str = strcmp(a, "--argstr") == 0;
            args[nargs].name = argv[i + 1];
            args[nargs].val = argv[i + 2];
            nargs++;
            i += 2;
        } else if (strcmp(a, "-I") == 0 && more)
            search[nsearch++] = argv[++i];
        else if (strncmp(a, "-I", 2) == 0 && a[2])
            search[nsearch++] = a + 2;
        else if (strcmp(a, "--max-call-depth") == 0 && more)
            o.max_call_depth = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if ((fr = cli_features_opt(&features, argc, argv, &i)) != 0) {
            if (fr < 0) {
                free(args);
                free(search);
                ut_buf_free(&features);
                return 1;
            }
        } else if (strcmp(a, "--lint-url-literals") == 0 && more)
            o.parse.lint_url_literals = lint_level(argv[++i]);
        else if (strcmp(a, "--lint-short-path-literals") == 0 && more)
            o.parse.lint_short_path_literals = lint_level(argv[++i]);
        else if (strcmp(a, "--lint-absolute-path-literals") == 0 && more)
            o.parse.lint_absolute_path_literals = lint_level(argv[++i]);
        else if (strcmp(a, "--store") == 0 && more)
            store_url = argv[++i];
        else if ((strcmp(a, "--option") == 0) && i + 2 < argc)
            i += 2;
        else if (strcmp(a, "--help") == 0) {
            usage();
            free(args);
            free(search);
            ut_buf_free(&features);
            return 0;
        } else if (strcmp(a, "-") == 0 || a[0] != '-')
            file = a;
        else {
            fprintf(stderr, "error: unrecognised flag '%s'\n", a);
            usage();
            free(args);
            free(search);
            ut_buf_free(&features);
            return 1;
        }
    }
    const char *np = getenv("NIX_PATH");
    if (np && *np)
        search[nsearch++] = np;
    o.search_path = search;
    o.nsearch_path = nsearch;
    o.show_trace = show_trace;
    cli_features_apply(&features, &o);
    /* <nix/fetchurl.nix> and friends (written by the instantiate command's
     * helper into the user's cache) */
    char *corepkgs = cli_corepkgs_search_entry();
    if (corepkgs && strncmp(corepkgs, "nix=", 4) == 0)
        o.corepkgs_dir = corepkgs + 4;
#ifdef STRAYLIGHT_HAVE_STORE
    /* an in-memory store unless one is named: evaluation writes nothing
     * to disk, yet can read back what it added (imports of toFile results,
     * as nixpkgs' module tests do) */
    ut_err serr = UT_ERR_INIT;
    st_store *store = st_store_open(store_url ? store_url : "mem:", &serr);
    if (!store) {
        fprintf(stderr, "error: %s\n", serr.msg);
        ut_err_clear(&serr);
        free(args);
        free(search);
        free(corepkgs);
        ut_buf_free(&features);
        return 1;
    }
    o.store = store;
    o.store_dir = st_store_dir(store);
#endif
    ev_state *S = ev_state_new(&o);
    ut_buf out = UT_BUF_INIT;
    eval_opts eo = {strict, json, xml, raw, show_trace, location, attrpath, {0}};
    eo.inst.expr = expr;
    eo.inst.file = file;
    eo.inst.args = args;
    eo.inst.nargs = nargs;
    eo.inst.show_trace = show_trace;
    int rc = evaluate(S, &eo, &out);
    if (out.len)
        fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    ut_buf_free(&out);
    ev_state_free(S);
#ifdef STRAYLIGHT_HAVE_STORE
    st_store_close(store);
#endif
    ut_buf_free(&features);
    free(corepkgs);
    free(args);
    free(search);
    return rc;
}

static void *eval_thread(void *p)
{
    eval_job *j = p;
    j->rc = run_eval(j->argc, j->argv);
    return NULL;
}

/* Evaluation runs on a thread with a large stack: Nix's max-call-depth
 * bounds function calls, and the evaluator's own guard turns whatever
 * remains (very deep thunk chains) into a clean error before the end. */
static int cmd_eval(int argc, char **argv)
{
    eval_job j = {argc, argv, 1};
    cli_run_with_big_stack(eval_thread, &j);
    return j.rc;
}

const cli_command cli_cmd_eval = {"eval", "evaluate a Nix expression (like nix-instantiate --eval)", cmd_eval};
