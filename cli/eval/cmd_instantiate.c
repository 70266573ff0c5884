/* straylight instantiate: nix-instantiate without --eval. Evaluates the
 * expression, finds the derivations in the result as nix-instantiate does
 * (Nix's getDerivations: the value itself, the attributes of a set in name
 * order and the elements of a list, descending into nested sets only when
 * they say recurseForDerivations = true), writes their .drv closures to the
 * store and prints the .drv paths.
 *
 * --walk-tsv is for measuring the evaluator against a package set: every
 * attribute of the (selected) set and of its recurseForDerivations sets one
 * level down is evaluated on its own, errors caught per attribute, and one
 * TSV row "attr, drvPath, outputs (JSON), error" is printed per derivation or
 * failing attribute, in the format of the corpus reference list. */
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


static void inst_usage(void)
{
    fprintf(stderr,
            "usage: straylight instantiate [FILE | -E EXPR] [-A ATTRPATH]... [--arg NAME EXPR]\n"
            "         [--argstr NAME STR] [-I PATH] [--store URL] [--dry-run] [--[no-]show-trace]\n"
            "         [--meta-dir DIR] [--walk-tsv] [--extra-experimental-features FEATURES]\n");
}

/* ---- recorded meta --------------------------------------------------------
 * nixpkgs keeps `meta` out of what derivationStrict sees, so no .drv holds
 * it. With --meta-dir, instantiate records the whole `meta` of each
 * derivation it prints, and the meta of every derivation in their closures
 * whose value evaluation met (the SBOM fields; eval/builtins/derivation.c),
 * as DIR/<hash>-<name>.drv.meta.json: the file `straylight sbom --meta-dir`
 * reads (docs/sbom.md). */
void ev_drv_meta_begin(void);
ut_hmap *ev_drv_meta_end(void);
void ev_drv_meta_render(ev_state *S, ev_value *meta, bool closure_keys, ut_buf *out);

static bool write_meta_file(const char *dir, const char *drv_path, const char *json, size_t len)
{
    ut_buf p = UT_BUF_INIT;
    const char *base = strrchr(drv_path, '/');
    ut_buf_printf(&p, "%s/%s.meta.json", dir, base ? base + 1 : drv_path);
    ut_err e = UT_ERR_INIT;
    bool ok = ut_mkdirs(dir, 0755, &e) && ut_write_file_atomic(p.data, json, len, 0644, &e);
    if (!ok)
        fprintf(stderr, "warning: cannot record meta: %s\n", e.msg);
    ut_err_clear(&e);
    ut_buf_free(&p);
    return ok;
}

static void write_meta(ev_state *S, ev_value *d, const char *drv_path, const char *dir)
{
    ev_attr *m = ev_attrs_find(d->u.a, ev_sym(S, "meta"));
    if (!m)
        return;
    ut_buf j = UT_BUF_INIT;
    ev_drv_meta_render(S, &m->value, false, &j);
    if (j.len && strcmp(j.data, "null") != 0) {
        ut_buf_putc(&j, '\n');
        write_meta_file(dir, drv_path, j.data, j.len);
    }
    ut_buf_free(&j);
}

/* The closure's meta, except where the printed derivation's whole meta was
 * written already. Frees meta. */
static void write_closure_meta(ut_hmap *meta, const char *dir, ut_hmap *written)
{
    if (!meta)
        return;
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(meta, &it, &k, &kl, &v)) {
        if (v && !ut_hmap_has(written, k, kl)) {
            ut_buf j = UT_BUF_INIT;
            ut_buf_puts(&j, v);
            ut_buf_putc(&j, '\n');
            char *path = ut_xstrndup(k, kl);
            write_meta_file(dir, path, j.data, j.len);
            free(path);
            ut_buf_free(&j);
        }
        free(v);
    }
    ut_hmap_free(meta);
}

static void print_drv_path(ev_state *S, ev_value *d, ut_buf *out, const char *meta_dir, ut_hmap *written)
{
    ev_attr *p = ev_attrs_find(d->u.a, ev_sym(S, "drvPath"));
    if (!p)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation does not contain a 'drvPath' attribute");
    ev_string *s = ev_force_string(S, &p->value, (ps_pos){0}, "while evaluating the 'drvPath' attribute of a derivation");
    /* nix-instantiate names the output the value stands for unless it is "out" */
    ev_attr *on = ev_attrs_find(d->u.a, ev_sym(S, "outputName"));
    if (!on)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation '%s' lacks an 'outputName' attribute", s->s);
    ev_string *o = ev_force_string(S, &on->value, (ps_pos){0}, NULL);
    if (meta_dir && !ut_hmap_has(written, s->s, s->len)) {
        write_meta(S, d, s->s, meta_dir);
        ut_hmap_put(written, s->s, s->len, NULL);
    }
    ut_buf_append(out, s->s, s->len);
    if (strcmp(o->s, "out") != 0)
        ut_buf_printf(out, "!%s", o->s);
    ut_buf_putc(out, '\n');
}

/* ---- --walk-tsv --------------------------------------------------------- */

/* A short class for an error, so runs can be compared by kind of failure. */
static void error_class(ev_errkind kind, const char *msg, ut_buf *out)
{
    ut_buf_puts(out, kind == EV_ERR_THROWN || kind == EV_ERR_ASSERT ? "tryEval:" : "uncatchable:");
    if (kind == EV_ERR_ASSERT) {
        ut_buf_puts(out, "assertion-failed");
        return;
    }
    if (kind == EV_ERR_INFREC || strstr(msg, "infinite recursion")) {
        ut_buf_puts(out, "infinite-recursion");
        return;
    }
    if (kind == EV_ERR_THROWN) {
        ut_buf_puts(out, "throw:");
        if (strstr(msg, "not available on the requested hostPlatform") || strstr(msg, "is not supported on"))
            ut_buf_puts(out, "meta-unsupported-platform");
        else if (strstr(msg, "has an unfree license"))
            ut_buf_puts(out, "meta-unfree");
        else if (strstr(msg, "is marked as broken"))
            ut_buf_puts(out, "meta-broken");
        else if (strstr(msg, "is marked as insecure"))
            ut_buf_puts(out, "meta-insecure");
        else if (strstr(msg, "has been removed") || strstr(msg, "was removed") || strstr(msg, "has been renamed") ||
                 strstr(msg, "is deprecated") || strstr(msg, "has been deprecated") || strstr(msg, "renamed to") ||
                 strstr(msg, "replaced by"))
            ut_buf_puts(out, "removed-alias");
        else
            ut_buf_puts(out, "other");
        return;
    }
    if (kind == EV_ERR_ABORT) {
        ut_buf_puts(out, "abort:");
        ut_buf_puts(out, strstr(msg, "without required argument") ? "callPackage-missing-arg" : "other");
        return;
    }
    if (strstr(msg, "attribute '") && strstr(msg, "' missing"))
        ut_buf_puts(out, "attribute-missing");
    else if (strstr(msg, "undefined variable"))
        ut_buf_puts(out, "undefined-variable");
    else if (strstr(msg, "called without required argument"))
        ut_buf_puts(out, "function-missing-arg");
    else if (strstr(msg, "does not exist") || strstr(msg, "No such file"))
        ut_buf_puts(out, "missing-file");
    else if (strstr(msg, "max-call-depth") || strstr(msg, "stack overflow"))
        ut_buf_puts(out, "stack-overflow");
    else
        ut_buf_puts(out, "other");
}

/* One row: the derivation's drvPath and its outputs, or the error. */
static void walk_one(ev_state *S, const char *attr, ev_value *slot, ut_buf *out, bool *is_set_rfd)
{
    *is_set_rfd = false;
    ev_try t;
    ut_buf row = UT_BUF_INIT;
    if (ev_try_begin(S, &t) == 0) {
        ev_force(S, slot, (ps_pos){0});
        if (!cli_inst_is_drv(S, slot)) {
            if (slot->type == EV_ATTRS) {
                ev_attr *r = ev_attrs_find(slot->u.a, ev_sym(S, "recurseForDerivations"));
                if (r) {
                    ev_force(S, &r->value, (ps_pos){0});
                    *is_set_rfd = r->value.type == EV_BOOL && r->value.u.b;
                }
            }
            ev_try_end(S, &t);
            return;
        }
        ev_attrs *d = slot->u.a;
        ev_attr *dp = ev_attrs_find(d, ev_sym(S, "drvPath"));
        if (!dp)
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation does not contain a 'drvPath' attribute");
        ev_string *dps = ev_force_string(S, &dp->value, (ps_pos){0}, NULL);
        ut_buf_printf(&row, "%s\t%s\t{", attr, dps->s);
        ev_attr *outs = ev_attrs_find(d, ev_sym(S, "outputs"));
        size_t mark = ev_stack_mark(S);
        ev_value *names = ev_stack_push(S, 1);
        if (outs) {
            ev_list *l = ev_force_list(S, &outs->value, (ps_pos){0}, NULL);
            names[0] = ev_mk_list(l);
        } else {
            ev_list *l = ev_list_new(S, 1);
            l->v[0] = ev_mk_cstring(S, "out");
            names[0] = ev_mk_list(l);
        }
        ev_list *l = names[0].u.l;
        /* outputs sorted by name, as a JSON object prints them */
        const char **on = ev_scratch_alloc(S, (l->h.n + 1) * sizeof *on);
        for (uint32_t i = 0; i < l->h.n; i++)
            on[i] = ev_force_string(S, &l->v[i], (ps_pos){0}, NULL)->s;
        for (uint32_t i = 1; i < l->h.n; i++)
            for (uint32_t j = i; j > 0 && strcmp(on[j - 1], on[j]) > 0; j--) {
                const char *x = on[j];
                on[j] = on[j - 1];
                on[j - 1] = x;
            }
        for (uint32_t i = 0; i < l->h.n; i++) {
            ev_attr *oa = ev_attrs_find(d, ev_sym(S, on[i]));
            if (!oa)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation does not have output '%s'", on[i]);
            ev_attrs *os = ev_force_attrs(S, &oa->value, (ps_pos){0}, NULL);
            ev_attr *op = ev_attrs_find(os, ev_sym(S, "outPath"));
            if (!op)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "output '%s' has no outPath", on[i]);
            ev_string *ps = ev_force_string(S, &op->value, (ps_pos){0}, NULL);
            ut_buf_printf(&row, "%s\"%s\":\"%s\"", i ? "," : "", on[i], ps->s);
        }
        ut_buf_puts(&row, "}\t\n");
        ev_stack_reset(S, mark);
        ev_try_end(S, &t);
        ut_buf_append(out, row.data, row.len);
    } else {
        ev_try_end(S, &t);   /* sets t.kind */
        ev_errkind k = t.kind;
        ut_buf_printf(out, "%s\t\t\t", attr);
        error_class(k, ev_error_message(S), out);
        ut_buf_putc(out, '\n');
    }
    ut_buf_free(&row);
}

static void walk_tsv(ev_state *S, ev_value *v, const cli_inst_opts *o, ut_buf *out)
{
    size_t mark = ev_stack_mark(S);
    ev_value *top = ev_stack_push(S, 1);
    cli_inst_auto_call(S, v, o, top);
    ev_attrs *a = ev_force_attrs(S, top, (ps_pos){0}, "while evaluating the package set");
    uint32_t *idx = ev_scratch_alloc(S, (a->h.n + 1) * sizeof *idx);
    ev_attrs_sorted_by_name(S, a, idx);
    ut_buf_puts(out, "attr\tdrvPath\toutputs\terror\n");
    for (uint32_t i = 0; i < a->h.n; i++) {
        ev_attr *at = &a->a[idx[i]];
        const char *name = ev_sym_str(S, at->name);
        bool rfd;
        walk_one(S, name, &at->value, out, &rfd);
        if (!rfd)
            continue;
        ev_attrs *sub = ev_attrs_flat(S, at->value.u.a);
        uint32_t *sidx = ev_scratch_alloc(S, (sub->h.n + 1) * sizeof *sidx);
        ev_attrs_sorted_by_name(S, sub, sidx);
        for (uint32_t k = 0; k < sub->h.n; k++) {
            ev_attr *sa = &sub->a[sidx[k]];
            ut_buf p = UT_BUF_INIT;
            ut_buf_printf(&p, "%s.%s", name, ev_sym_str(S, sa->name));
            bool rfd2;
            walk_one(S, p.data, &sa->value, out, &rfd2);
            ut_buf_free(&p);
        }
        if (out->len)
            fwrite(out->data, 1, out->len, stdout);
        ut_buf_clear(out);
    }
    ev_stack_reset(S, mark);
}

/* ---- the command ---------------------------------------------------------- */

static int instantiate(ev_state *S, const cli_inst_opts *o, ut_buf *out, ut_hmap *written)
{
    volatile int rc = 0;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_value *root = ev_stack_push(S, 2);
        cli_inst_load(S, o, &root[0]);
        size_t npaths = o->nattrpaths ? o->nattrpaths : 1;
        for (size_t i = 0; i < npaths; i++) {
            root[1] = root[0];
            if (o->nattrpaths)
                cli_inst_select(S, &root[1], o->attrpaths[i], o);
            if (o->walk_tsv) {
                walk_tsv(S, &root[1], o, out);
                continue;
            }
            cli_drv_list dl;
            cli_drv_list_init(S, &dl);
            cli_inst_get_drvs(S, &root[1], o, &dl);
            ut_hmap_free(dl.done);
            for (size_t k = 0; k < dl.n; k++)
                print_drv_path(S, cli_drv_list_at(&dl, k), out, o->meta_dir, written);
        }
        ev_try_end(S, &t);
    } else {
        ev_try_end(S, &t);
        ut_buf e = UT_BUF_INIT;
        ev_error_format(S, &e, o->show_trace);
        if (out->len)
            fwrite(out->data, 1, out->len, stdout);
        ut_buf_clear(out);
        fflush(stdout);
        ut_buf f = UT_BUF_INIT;
        ps_log_filter(&f, e.data ? e.data : "", e.len);
        if (f.len)
            fwrite(f.data, 1, f.len, stderr);
        ut_buf_free(&f);
        ut_buf_free(&e);
        rc = 1;
    }
    return rc;
}

static int run_instantiate(int argc, char **argv)
{
    cli_inst_opts o = {0};
    const char *store_url = NULL;
    bool dry = false;
    o.args = calloc((size_t)argc + 1, sizeof *o.args);
    o.attrpaths = calloc((size_t)argc + 1, sizeof *o.attrpaths);
    const char **search = calloc((size_t)argc + 3, sizeof *search);
    char *corepkgs = NULL;
    size_t nsearch = 0;
    ev_options eo = {0};
    int rc = 1, fr;
    /* NIX_CONFIG first: the command line's flags apply over it */
    ut_buf features = UT_BUF_INIT;
    cli_features_from_env(&features);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if ((strcmp(a, "-E") == 0 || strcmp(a, "--expr") == 0) && more)
            o.expr = argv[++i];
        else if ((strcmp(a, "-A") == 0 || strcmp(a, "--attr") == 0) && more)
            o.attrpaths[o.nattrpaths++] = argv[++i];
        else if ((strcmp(a, "--arg") == 0 || strcmp(a, "--argstr") == 0) && i + 2 < argc) {
            o.args[o.nargs].is_str = strcmp(a, "--argstr") == 0;
            o.args[o.nargs].name = argv[i + 1];
            o.args[o.nargs].val = argv[i + 2];
            o.nargs++;
            i += 2;
        } else if (strcmp(a, "-I") == 0 && more)
            search[nsearch++] = argv[++i];
        else if (strncmp(a, "-I", 2) == 0 && a[2])
            search[nsearch++] = a + 2;
        else if (strcmp(a, "--store") == 0 && more)
            store_url = argv[++i];
        else if (strcmp(a, "--dry-run") == 0 || strcmp(a, "--readonly-mode") == 0)
            dry = true;
        else if (strcmp(a, "--show-trace") == 0)
            o.show_trace = true;
        else if (strcmp(a, "--no-show-trace") == 0)
            o.show_trace = false;
        else if (strcmp(a, "--meta-dir") == 0 && more)
            o.meta_dir = argv[++i];
        else if (strcmp(a, "--walk-tsv") == 0)
            o.walk_tsv = true;
        else if (strcmp(a, "--pure-eval") == 0)
            eo.pure = true;
        else if (strcmp(a, "--max-call-depth") == 0 && more)
            eo.max_call_depth = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if ((fr = cli_features_opt(&features, argc, argv, &i)) != 0) {
            if (fr < 0)
                goto done;
        } else if (strcmp(a, "--option") == 0 && i + 2 < argc)
            i += 2;
        else if (strcmp(a, "--help") == 0) {
            inst_usage();
            rc = 0;
            goto done;
        } else if (strcmp(a, "-") == 0 || a[0] != '-')
            o.file = a;
        else {
            fprintf(stderr, "error: unrecognised flag '%s'\n", a);
            inst_usage();
            goto done;
        }
    }
    const char *np = getenv("NIX_PATH");
    if (np && *np)
        search[nsearch++] = np;
    corepkgs = cli_corepkgs_search_entry();
    if (corepkgs && strncmp(corepkgs, "nix=", 4) == 0)
        eo.corepkgs_dir = corepkgs + 4;
    eo.search_path = search;
    eo.nsearch_path = nsearch;
    eo.show_trace = o.show_trace;
    cli_features_apply(&features, &eo);
#ifdef STRAYLIGHT_HAVE_STORE
    ut_err serr = UT_ERR_INIT;
    st_store *store = st_store_open(dry ? "dry:" : store_url, &serr);
    if (!store) {
        fprintf(stderr, "error: %s\n", serr.msg);
        ut_err_clear(&serr);
        goto done;
    }
    eo.store = store;
    eo.store_dir = st_store_dir(store);
#else
    (void)store_url;
    (void)dry;
#endif
    {
        if (o.meta_dir)
            ev_drv_meta_begin();
        ev_state *S = ev_state_new(&eo);
        ut_buf out = UT_BUF_INIT;
        ut_hmap *written = ut_hmap_new();
        rc = instantiate(S, &o, &out, written);
        /* the closure's meta is written even when evaluation failed later:
         * every recorded entry belongs to a .drv that was written */
        if (o.meta_dir)
            write_closure_meta(ev_drv_meta_end(), o.meta_dir, written);
        ut_hmap_free(written);
        if (out.len)
            fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
        ut_buf_free(&out);
        ev_state_free(S);
    }
#ifdef STRAYLIGHT_HAVE_STORE
    st_store_close(store);
#endif
done:
    ut_buf_free(&features);
    free(corepkgs);
    free(o.args);
    free(o.attrpaths);
    free(search);
    return rc;
}

typedef struct inst_job {
    int argc;
    char **argv;
    int rc;
} inst_job;

static void *inst_thread(void *p)
{
    inst_job *j = p;
    j->rc = run_instantiate(j->argc, j->argv);
    return NULL;
}

/* As `eval`: a thread with a large stack, so deep evaluation ends in Nix's
 * own depth errors rather than a crash. */
static int cmd_instantiate(int argc, char **argv)
{
    /* nix-instantiate --eval is `straylight eval` */
    extern const cli_command cli_cmd_eval;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--eval") == 0)
            return cli_cmd_eval.run(argc, argv);
    inst_job j = {argc, argv, 1};
    cli_run_with_big_stack(inst_thread, &j);
    return j.rc;
}

const cli_command cli_cmd_instantiate = {"instantiate", "write the .drv closure of derivations and print their paths",
                                         cmd_instantiate};
