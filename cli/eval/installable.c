/* cli/eval/installable.c: evaluating installables (see installable.h). */
#include "cli/eval/installable.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/builtins.h"
#ifdef STRAYLIGHT_HAVE_STORE
#include "store/store.h"
#endif

/* eval/builtins/derivation.c: meta of the derivations evaluation meets. */
void ev_drv_meta_begin(void);
ut_hmap *ev_drv_meta_end(void);
void ev_drv_meta_note(ev_state *S, ev_value *drv);

const char *cli_inst_cwd(char *buf, size_t n)
{
    if (!getcwd(buf, n))
        strcpy(buf, "/");
    return buf;
}

/* Nix's autoCallFunction with the --arg/--argstr values. */
void cli_inst_auto_call(ev_state *S, ev_value *v, const cli_inst_opts *o, ev_value *out)
{
    ev_force(S, v, (ps_pos){0});
    if (v->type == EV_ATTRS) {
        ev_attr *f = ev_attrs_find(v->u.a, ev_sym(S, "__functor"));
        if (f) {
            size_t mark = ev_stack_mark(S);
            ev_value *t = ev_stack_push(S, 3);
            t[0] = f->value;
            t[1] = *v;
            ev_call(S, &t[0], 1, &t[1], &t[2], (ps_pos){0});
            cli_inst_auto_call(S, &t[2], o, out);
            ev_stack_reset(S, mark);
            return;
        }
    }
    if (v->type != EV_LAMBDA) {
        *out = *v;
        return;
    }
    extern bool ev_lambda_formals(ev_state * S, const ev_value *fn, bool *ellipsis, ps_sym **names,
                                  bool **has_default, uint32_t *n);
    bool ellipsis;
    ps_sym *names;
    bool *has_def;
    uint32_t n;
    if (!ev_lambda_formals(S, v, &ellipsis, &names, &has_def, &n)) {
        *out = *v;
        return;
    }
    size_t mark = ev_stack_mark(S);
    ev_value *slots = ev_stack_push(S, 2);
    ev_attrs *a = ev_attrs_new(S, o->nargs);
    slots[0] = ev_mk_attrs(a);
    for (size_t i = 0; i < o->nargs; i++) {
        ps_sym s = ev_sym(S, o->args[i].name);
        bool wanted = ellipsis;
        for (uint32_t j = 0; j < n && !wanted; j++)
            wanted = names[j] == s;
        if (!wanted)
            continue;
        ev_value val;
        if (o->args[i].is_str) {
            val = ev_mk_cstring(S, o->args[i].val);
        } else {
            char cwd[PATH_MAX];
            ev_value *tmp = ev_stack_push(S, 1);
            ev_eval_string(S, o->args[i].val, strlen(o->args[i].val), PS_ORIGIN_STRING,
                           cli_inst_cwd(cwd, sizeof cwd), tmp);
            val = *tmp;
        }
        ev_attrs_add(a, s, val, 0);
    }
    ev_attrs_finish(a);
    for (uint32_t j = 0; j < n; j++)
        if (!has_def[j] && !ev_attrs_find(a, names[j])) {
            const char *nm = ev_sym_str(S, names[j]);
            free(names);
            free(has_def);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                     "cannot evaluate a function that has an argument without a value ('%s')\n"
                     "Nix attempted to evaluate a function as a top level expression; in\n"
                     "this case it must have its arguments supplied either by default\n"
                     "values, or passed explicitly with '--arg' or '--argstr'. See\n"
                     "https://nix.dev/manual/nix/stable/language/constructs.html#functions.",
                     nm);
        }
    free(names);
    free(has_def);
    ev_call(S, v, 1, &slots[0], &slots[1], (ps_pos){0});
    *out = slots[1];
    ev_stack_reset(S, mark);
}

/* Nix's findAlongAttrPath: "a.b.0.c", functions auto-called on the way. */
void cli_inst_select(ev_state *S, ev_value *v, const char *path, const cli_inst_opts *o)
{
    size_t len = strlen(path);
    char *p = ev_scratch_alloc(S, len + 1);
    memcpy(p, path, len + 1);
    char *save = NULL;
    for (char *tok = strtok_r(p, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        cli_inst_auto_call(S, v, o, v);
        ev_force(S, v, (ps_pos){0});
        char *end;
        long idx = strtol(tok, &end, 10);
        if (*end == 0 && *tok) {
            if (v->type != EV_LIST)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                         "the expression selected by the selection path '%s' should be a list but is %s", path,
                         ev_type_name(v));
            if (idx < 0 || (size_t)idx >= v->u.l->h.n)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "list index %ld in selection path '%s' is out of range", idx,
                         path);
            *v = ev_share(S, &v->u.l->v[idx]);
        } else {
            if (v->type != EV_ATTRS)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                         "the expression selected by the selection path '%s' should be a set but is %s", path,
                         ev_type_name(v));
            ev_attr *a = ev_attrs_find(v->u.a, ev_sym(S, tok));
            if (!a)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "attribute '%s' in selection path '%s' not found", tok, path);
            *v = a->value;
        }
    }
}

void cli_inst_load(ev_state *S, const cli_inst_opts *o, ev_value *out)
{
    char cwd[PATH_MAX];
    cli_inst_cwd(cwd, sizeof cwd);
    if (o->expr) {
        ev_eval_string(S, o->expr, strlen(o->expr), PS_ORIGIN_STRING, cwd, out);
    } else if (o->file && strcmp(o->file, "-") == 0) {
        ut_buf in = UT_BUF_INIT;
        ut_err err = UT_ERR_INIT;
        if (!ut_read_fd(0, &in, &err)) {
            char *m = ev_scratch_alloc(S, strlen(err.msg) + 1);
            strcpy(m, err.msg);
            ut_err_clear(&err);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "%s", m);
        }
        char *t = ev_scratch_alloc(S, in.len + 1);
        memcpy(t, in.data ? in.data : "", in.len);
        size_t n = in.len;
        ut_buf_free(&in);
        ev_eval_string(S, t, n, PS_ORIGIN_STDIN, cwd, out);
    } else {
        const char *f = o->file ? o->file : "default.nix";
        ut_buf b = UT_BUF_INIT;
        if (f[0] == '/')
            ut_buf_puts(&b, f);
        else
            ut_buf_printf(&b, "%s/%s", cwd, f);
        char *abs = ev_canon_path(b.data, b.len);
        ut_buf_free(&b);
        char *a2 = ev_scratch_alloc(S, strlen(abs) + 1);
        strcpy(a2, abs);
        free(abs);
        ev_eval_file(S, a2, out, (ps_pos){0});
    }
}

/* ---- getDerivations ----------------------------------------------------- */

bool cli_inst_is_drv(ev_state *S, ev_value *v)
{
    if (v->type != EV_ATTRS)
        return false;
    ev_attr *t = ev_attrs_find(v->u.a, ev_sym(S, "type"));
    if (!t)
        return false;
    ev_force(S, &t->value, (ps_pos){0});
    return t->value.type == EV_STRING && strcmp(t->value.u.s->s, "derivation") == 0;
}

/* Nix's attrRegex for the attributes getDerivations looks at. */
static bool attr_name_ok(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '+'))
            return false;
    return true;
}


/* getDerivation: true when v is not a derivation (so the caller may look
 * inside it); adds it otherwise. */
static bool get_drv(ev_state *S, ev_value *v, cli_drv_list *dl)
{
    ev_force(S, v, (ps_pos){0});
    if (!cli_inst_is_drv(S, v))
        return true;
    ev_attrs *a = v->u.a;
    if (ut_hmap_has(dl->done, &a, sizeof a))
        return false;
    ut_hmap_put(dl->done, &a, sizeof a, NULL);
    ev_list *l = dl->slot->u.l;
    if (dl->n == l->h.n) {
        /* the list is referred to from the stack, so it is scanned at every
         * collection: stores into it need no barrier */
        ev_list *g = ev_list_new(S, (size_t)l->h.n * 2);
        memcpy(g->v, l->v, dl->n * sizeof *g->v);
        *dl->slot = ev_mk_list(g);
        l = g;
    }
    l->v[dl->n++] = *v;
    return false;
}

void cli_drv_list_init(ev_state *S, cli_drv_list *dl)
{
    dl->slot = ev_stack_push(S, 1);
    *dl->slot = ev_mk_list(ev_list_new(S, 256));
    dl->n = 0;
    dl->done = ut_hmap_new();
}

void cli_inst_get_drvs(ev_state *S, ev_value *vin, const cli_inst_opts *o, cli_drv_list *dl)
{
    size_t mark = ev_stack_mark(S);
    ev_value *v = ev_stack_push(S, 1);
    cli_inst_auto_call(S, vin, o, v);
    if (!get_drv(S, v, dl)) {
    } else if (v->type == EV_ATTRS) {
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        uint32_t *idx = ev_scratch_alloc(S, (a->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, a, idx);
        ps_sym rfd = ev_sym(S, "recurseForDerivations");
        for (uint32_t i = 0; i < a->h.n; i++) {
            ev_attr *at = &a->a[idx[i]];
            if (!attr_name_ok(ev_sym_str(S, at->name)))
                continue;
            if (get_drv(S, &at->value, dl) && at->value.type == EV_ATTRS) {
                ev_attr *r = ev_attrs_find(at->value.u.a, rfd);
                if (r && ev_force_bool(S, &r->value, ev_pos_get(S, r->pos), NULL))
                    cli_inst_get_drvs(S, &at->value, o, dl);
            }
        }
    } else if (v->type == EV_LIST) {
        for (uint32_t i = 0; i < v->u.l->h.n; i++) {
            ev_value *e = &v->u.l->v[i];
            if (get_drv(S, e, dl))
                cli_inst_get_drvs(S, e, o, dl);
        }
    } else {
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "expression does not evaluate to a derivation (or a set or list of those)");
    }
    ev_stack_reset(S, mark);
}

/* ---- <nix/fetchurl.nix> -------------------------------------------------
 * Nix resolves <nix/...> to its own "corepkgs" after every search path
 * entry; fetchurl.nix is the one nixpkgs uses (bootstrap files). Its
 * attributes end up in .drv files, so they are exactly Nix's. The file is
 * written once into the user's cache directory and found like any other
 * search path entry. */
static const char corepkg_fetchurl[] =
    "# <nix/fetchurl.nix>: a fixed-output download by Nix's built-in fetcher.\n"
    "{ system ? \"\" # no longer used\n"
    ", url\n"
    ", hash ? \"\" # SRI\n"
    ", md5 ? \"\", sha1 ? \"\", sha256 ? \"\", sha512 ? \"\"\n"
    ", outputHash ?\n"
    "    if hash != \"\" then hash else if sha512 != \"\" then sha512 else if sha1 != \"\" then sha1 else if md5 != \"\" then md5 else sha256\n"
    ", outputHashAlgo ?\n"
    "    if hash != \"\" then \"\" else if sha512 != \"\" then \"sha512\" else if sha1 != \"\" then \"sha1\" else if md5 != \"\" then \"md5\" else \"sha256\"\n"
    ", executable ? false\n"
    ", unpack ? false\n"
    ", name ? baseNameOf (toString url)\n"
    ", impure ? false\n"
    "}:\n"
    "\n"
    "derivation ({\n"
    "  builder = \"builtin:fetchurl\";\n"
    "  outputHashMode = if unpack || executable then \"recursive\" else \"flat\";\n"
    "  inherit name url executable unpack;\n"
    "  system = \"builtin\";\n"
    "  preferLocalBuild = true;\n"
    "  # proxies come from the caller's environment: the output is fixed anyway\n"
    "  impureEnvVars = [ \"http_proxy\" \"https_proxy\" \"ftp_proxy\" \"all_proxy\" \"no_proxy\" ];\n"
    "  urls = [ url ];\n"
    "} // (if impure\n"
    "  then { __impure = true; }\n"
    "  else { inherit outputHashAlgo outputHash; }))\n";

/* The search path entry "nix=DIR" that makes <nix/fetchurl.nix> resolve, or
 * NULL (then <nix/...> stays unresolved, as with no corepkgs). Heap string.
 * Not static: `straylight eval` needs the same entry (Nix adds it to every
 * evaluation). */

char *cli_corepkgs_search_entry(void)
{
    ut_buf d = UT_BUF_INIT;
    const char *xc = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xc && *xc)
        ut_buf_printf(&d, "%s/straylight/corepkgs-1", xc);
    else if (home && *home)
        ut_buf_printf(&d, "%s/.cache/straylight/corepkgs-1", home);
    else {
        ut_buf_free(&d);
        return NULL;
    }
    ut_buf f = UT_BUF_INIT;
    ut_buf_printf(&f, "%s/fetchurl.nix", d.data);
    ut_buf cur = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    bool ok = ut_read_file(f.data, &cur, &e) && cur.len == sizeof corepkg_fetchurl - 1 &&
              memcmp(cur.data, corepkg_fetchurl, cur.len) == 0;
    ut_err_clear(&e);
    if (!ok)
        ok = ut_mkdirs(d.data, 0755, &e) &&
             ut_write_file_atomic(f.data, corepkg_fetchurl, sizeof corepkg_fetchurl - 1, 0644, &e);
    ut_err_clear(&e);
    ut_buf_free(&cur);
    ut_buf_free(&f);
    if (!ok) {
        ut_buf_free(&d);
        return NULL;
    }
    ut_buf s = UT_BUF_INIT;
    ut_buf_printf(&s, "nix=%s", d.data);
    ut_buf_free(&d);
    return ut_buf_steal(&s, NULL);
}

/* ---- experimental features ---------------------------------------------- */

static void features_set(ut_buf *f, const char *v, size_t n, bool append)
{
    if (!append)
        ut_buf_clear(f);
    if (f->len && n)
        ut_buf_putc(f, ' ');
    ut_buf_append(f, v, n);
}

void cli_features_from_env(ut_buf *features)
{
    const char *c = getenv("NIX_CONFIG");
    while (c && *c) {
        size_t n = strcspn(c, "\n");
        const char *line = c, *end = c + n;
        c = *end ? end + 1 : end;
        const char *hash = memchr(line, '#', n);
        if (hash)
            end = hash;
        const char *eq = memchr(line, '=', (size_t)(end - line));
        if (!eq)
            continue;
        const char *k = line, *ke = eq, *v = eq + 1, *ve = end;
        while (k < ke && (*k == ' ' || *k == '\t'))
            k++;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
            ve--;
        size_t kl = (size_t)(ke - k);
        if (kl == 21 && !memcmp(k, "experimental-features", 21))
            features_set(features, v, (size_t)(ve - v), false);
        else if (kl == 27 && !memcmp(k, "extra-experimental-features", 27))
            features_set(features, v, (size_t)(ve - v), true);
    }
}

/* Which form of the setting argv[*i] starts: 0 none, 1 replace, 2 append;
 * *nargs gets how many arguments the form takes after the flag. */
static int features_flag(int argc, char **argv, int i, int *nargs)
{
    const char *a = argv[i];
    *nargs = 1;
    if (!strcmp(a, "--experimental-features"))
        return 1;
    if (!strcmp(a, "--extra-experimental-features"))
        return 2;
    /* --option NAME VALUE, as Nix takes any setting */
    if (!strcmp(a, "--option") && i + 1 < argc) {
        *nargs = 2;
        if (!strcmp(argv[i + 1], "experimental-features"))
            return 1;
        if (!strcmp(argv[i + 1], "extra-experimental-features"))
            return 2;
    }
    return 0;
}

bool cli_features_is_opt(int argc, char **argv, int i)
{
    int nargs;
    return features_flag(argc, argv, i, &nargs) != 0;
}

int cli_features_opt(ut_buf *features, int argc, char **argv, int *i)
{
    int nargs, kind = features_flag(argc, argv, *i, &nargs);
    if (!kind)
        return 0;
    if (*i + nargs >= argc) {
        fprintf(stderr, "error: flag '%s' requires %d argument%s\n", argv[*i], nargs, nargs > 1 ? "s" : "");
        return -1;
    }
    *i += nargs;
    const char *v = argv[*i];
    features_set(features, v, strlen(v), kind == 2);
    return 1;
}

static bool has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    while (list && *list) {
        list += strspn(list, " ,\t");
        size_t k = strcspn(list, " ,\t");
        if (k == n && !strncmp(list, w, n))
            return true;
        list += k;
    }
    return false;
}

void cli_features_apply(const ut_buf *features, ev_options *o)
{
    o->experimental_features = features->data;
    o->parse.pipe_operators = has_word(features->data, "pipe-operators");
}

/* ---- installables for graph and sbom ------------------------------------- */

int cli_installable_opt(cli_installable *in, int argc, char **argv, int *i)
{
    if (cli_features_is_opt(argc, argv, *i)) {
        if (!in->features_read)
            cli_features_from_env(&in->features);
        in->features_read = true;
        return cli_features_opt(&in->features, argc, argv, i);
    }
    const char *a = argv[*i];
    bool f = !strcmp(a, "-f") || !strcmp(a, "--file"), at = !strcmp(a, "-A") || !strcmp(a, "--attr"),
         ex = !strcmp(a, "-E") || !strcmp(a, "--expr"), inc = !strcmp(a, "-I");
    bool arg = !strcmp(a, "--arg") || !strcmp(a, "--argstr");
    if (f || at || ex || inc) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "error: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++*i];
        if (f) in->o.file = v;
        else if (at) in->o.attrpaths[in->o.nattrpaths++] = v;
        else if (ex) in->o.expr = v;
        else in->search[in->nsearch++] = v;
        if (!inc) in->given = true;
        return 1;
    }
    if (!strncmp(a, "-I", 2) && a[2]) {
        in->search[in->nsearch++] = a + 2;
        return 1;
    }
    if (arg) {
        if (*i + 2 >= argc) {
            fprintf(stderr, "error: %s needs a name and a value\n", a);
            return -1;
        }
        cli_inst_arg *x = &in->o.args[in->o.nargs++];
        x->is_str = !strcmp(a, "--argstr");
        x->name = argv[*i + 1];
        x->val = argv[*i + 2];
        *i += 2;
        return 1;
    }
    const char *hash = a[0] != '-' ? strchr(a, '#') : NULL;
    if (hash) {
        size_t n = (size_t)(hash - a);
        if (!n || memchr(a, ':', n) || memchr(a, '/', n) || in->expr_buf) {
            fprintf(stderr, "error: '%s': only NAME#ATTRPATH with NAME in the search path (NIX_PATH, -I) is supported,"
                            " once\n", a);
            return -1;
        }
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "import <%.*s>", (int)n, a);
        in->expr_buf = ut_buf_steal(&b, NULL);
        in->o.expr = in->expr_buf;
        if (hash[1]) in->o.attrpaths[in->o.nattrpaths++] = hash + 1;
        in->given = true;
        return 1;
    }
    return 0;
}

void cli_installable_meta_free(ut_hmap *meta)
{
    ut_hmap_free_values(meta);
}

typedef struct inst_job {
    cli_installable *in;
    void *store;
    char **paths;
    size_t npaths;
    ut_hmap *meta;
    bool want_meta;
    ut_err err;
    bool ok;
} inst_job;

static void eval_installable(ev_state *S, inst_job *j)
{
    const cli_inst_opts *o = &j->in->o;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_value *root = ev_stack_push(S, 2);
        cli_inst_load(S, o, &root[0]);
        size_t nsel = o->nattrpaths ? o->nattrpaths : 1;
        for (size_t i = 0; i < nsel; i++) {
            root[1] = root[0];
            if (o->nattrpaths) cli_inst_select(S, &root[1], o->attrpaths[i], o);
            cli_drv_list dl;
            cli_drv_list_init(S, &dl);
            cli_inst_get_drvs(S, &root[1], o, &dl);
            ut_hmap_free(dl.done);
            for (size_t k = 0; k < dl.n; k++) {
                ev_attr *p = ev_attrs_find(cli_drv_list_at(&dl, k)->u.a, ev_sym(S, "drvPath"));
                if (!p) ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation does not contain a 'drvPath' attribute");
                ev_string *s = ev_force_string(S, &p->value, (ps_pos){0},
                                               "while evaluating the 'drvPath' attribute of a derivation");
                bool dup = false;
                for (size_t m = 0; m < j->npaths && !dup; m++) dup = !strcmp(j->paths[m], s->s);
                if (dup) continue;
                j->paths = ut_xrealloc(j->paths, (j->npaths + 1) * sizeof *j->paths);
                j->paths[j->npaths++] = ut_xstrdup(s->s);
                if (j->want_meta) ev_drv_meta_note(S, cli_drv_list_at(&dl, k));
            }
        }
        ev_try_end(S, &t);
        j->ok = true;
    } else {
        ev_try_end(S, &t);
        ut_buf m = UT_BUF_INIT;
        ev_error_format(S, &m, o->show_trace);
        /* ev_error_format starts with "error: "; the caller adds its own */
        const char *msg = m.data ? m.data : "evaluation failed";
        if (!strncmp(msg, "error: ", 7)) msg += 7;
        size_t len = strlen(msg);
        while (len && msg[len - 1] == '\n') len--;
        ut_err_set(&j->err, "%.*s", (int)len, msg);
        ut_buf_free(&m);
    }
}

static void *inst_thread(void *p)
{
    inst_job *j = p;
    cli_installable *in = j->in;
    const char *np = getenv("NIX_PATH");
    size_t nsearch = in->nsearch;
    if (np && *np) in->search[nsearch++] = np;
    char *corepkgs = cli_corepkgs_search_entry();
    ev_options eo = {0};
    if (corepkgs && !strncmp(corepkgs, "nix=", 4)) eo.corepkgs_dir = corepkgs + 4;
    eo.search_path = in->search;
    eo.nsearch_path = nsearch;
    if (!in->features_read)
        cli_features_from_env(&in->features);
    in->features_read = true;
    cli_features_apply(&in->features, &eo);
#ifdef STRAYLIGHT_HAVE_STORE
    st_store *st = j->store;
    eo.store = st;
    eo.store_dir = st_store_dir(st);
#endif
    if (j->want_meta) ev_drv_meta_begin();
    ev_state *S = ev_state_new(&eo);
    eval_installable(S, j);
    ev_state_free(S);
    if (j->want_meta) j->meta = ev_drv_meta_end();
    free(corepkgs);
    return NULL;
}

void cli_run_with_big_stack(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)512 << 20);
    pthread_t th;
    if (pthread_create(&th, &attr, fn, arg) == 0)
        pthread_join(th, NULL);
    else
        fn(arg);
    pthread_attr_destroy(&attr);
}

bool cli_installable_drvs(cli_installable *in, void *store, char ***paths, size_t *npaths, ut_hmap **meta, ut_err *e)
{
    inst_job j = {in, store, NULL, 0, NULL, meta != NULL, UT_ERR_INIT, false};
    cli_run_with_big_stack(inst_thread, &j);
    if (!j.ok) {
        for (size_t i = 0; i < j.npaths; i++) free(j.paths[i]);
        free(j.paths);
        cli_installable_meta_free(j.meta);
        ut_err_set(e, "%s", j.err.msg ? j.err.msg : "evaluation failed");
        ut_err_clear(&j.err);
        return false;
    }
    if (!j.npaths) {
        free(j.paths);
        cli_installable_meta_free(j.meta);
        return ut_err_set(e, "the installable names no derivation");
    }
    *paths = j.paths;
    *npaths = j.npaths;
    if (meta) *meta = j.meta;
    return true;
}
