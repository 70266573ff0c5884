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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "eval/builtins.h"
#include "eval/value.h"
#ifdef STRAYLIGHT_HAVE_STORE
#include "store/store.h"
#endif

typedef struct inst_arg {
    const char *name;
    const char *val;
    bool is_str;
} inst_arg;

typedef struct inst_opts {
    const char *expr, *file;
    const char **attrpaths;
    size_t nattrpaths;
    inst_arg *args;
    size_t nargs;
    bool show_trace, walk_tsv;
    const char *meta_dir;
} inst_opts;

static void inst_usage(void)
{
    fprintf(stderr,
            "usage: straylight instantiate [FILE | -E EXPR] [-A ATTRPATH]... [--arg NAME EXPR]\n"
            "         [--argstr NAME STR] [-I PATH] [--store URL] [--dry-run] [--show-trace]\n"
            "         [--meta-dir DIR] [--walk-tsv]\n");
}

static const char *inst_cwd(char *buf, size_t n)
{
    if (!getcwd(buf, n))
        strcpy(buf, "/");
    return buf;
}

/* Nix's autoCallFunction with the --arg/--argstr values. */
static void inst_auto_call(ev_state *S, ev_value *v, const inst_opts *o, ev_value *out)
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
            inst_auto_call(S, &t[2], o, out);
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
                           inst_cwd(cwd, sizeof cwd), tmp);
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
static void inst_select(ev_state *S, ev_value *v, const char *path, const inst_opts *o)
{
    size_t len = strlen(path);
    char *p = ev_scratch_alloc(S, len + 1);
    memcpy(p, path, len + 1);
    char *save = NULL;
    for (char *tok = strtok_r(p, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        inst_auto_call(S, v, o, v);
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

static void inst_load(ev_state *S, const inst_opts *o, ev_value *out)
{
    char cwd[PATH_MAX];
    inst_cwd(cwd, sizeof cwd);
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

static bool is_drv(ev_state *S, ev_value *v)
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

typedef struct drv_list {
    ev_value *vals;       /* stack slots */
    size_t n, cap;
    ut_hmap *done;        /* attrs pointers already taken */
} drv_list;

/* getDerivation: true when v is not a derivation (so the caller may look
 * inside it); adds it otherwise. */
static bool get_drv(ev_state *S, ev_value *v, drv_list *dl)
{
    ev_force(S, v, (ps_pos){0});
    if (!is_drv(S, v))
        return true;
    ev_attrs *a = v->u.a;
    if (ut_hmap_has(dl->done, &a, sizeof a))
        return false;
    ut_hmap_put(dl->done, &a, sizeof a, NULL);
    if (dl->n == dl->cap) {
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "too many derivations in the result");
    }
    dl->vals[dl->n++] = *v;
    return false;
}

static void get_drvs(ev_state *S, ev_value *vin, const inst_opts *o, drv_list *dl)
{
    size_t mark = ev_stack_mark(S);
    ev_value *v = ev_stack_push(S, 1);
    inst_auto_call(S, vin, o, v);
    if (!get_drv(S, v, dl)) {
    } else if (v->type == EV_ATTRS) {
        ev_attrs *a = v->u.a;
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
                    get_drvs(S, &at->value, o, dl);
            }
        }
    } else if (v->type == EV_LIST) {
        for (uint32_t i = 0; i < v->u.l->h.n; i++) {
            ev_value *e = &v->u.l->v[i];
            if (get_drv(S, e, dl))
                get_drvs(S, e, o, dl);
        }
    } else {
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "expression does not evaluate to a derivation (or a set or list of those)");
    }
    ev_stack_reset(S, mark);
}

/* ---- recorded meta --------------------------------------------------------
 * nixpkgs keeps `meta` out of what derivationStrict sees, so the .drv never
 * holds it; --meta-dir records the meta of each derivation instantiate
 * prints as DIR/<hash>-<name>.drv.meta.json, the file `straylight sbom
 * --meta-dir` reads (docs/sbom.md): meta as toJSON renders it, leaving out
 * functions and anything that fails to evaluate. */
static void meta_value(ev_state *S, ev_value *v, ut_buf *out, unsigned depth);

/* Evaluates v; false if it fails or is a function (left out). */
static bool meta_keep(ev_state *S, ev_value *v)
{
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_force(S, v, (ps_pos){0});
        ev_try_end(S, &t);
    } else {
        ev_try_end(S, &t);
        return false;
    }
    return !ev_is_function(v) && !(v->type == EV_ATTRS && ev_attrs_find(v->u.a, ev_sym(S, "__functor")));
}

static void meta_leaf(ev_state *S, ev_value *v, ut_buf *out)
{
    ut_buf b = UT_BUF_INIT;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_to_json(S, &b, v, (ps_pos){0}, true, NULL);
        ev_try_end(S, &t);
        ut_buf_append(out, b.data, b.len);
    } else {
        ev_try_end(S, &t);
        ut_buf_puts(out, "null");
    }
    ut_buf_free(&b);
}

static void meta_value(ev_state *S, ev_value *v, ut_buf *out, unsigned depth)
{
    if (depth > 32) {
        ut_buf_puts(out, "null");
        return;
    }
    if (v->type == EV_ATTRS && !ev_attrs_find(v->u.a, ev_sym(S, "outPath")) &&
        !ev_attrs_find(v->u.a, ev_sym(S, "__toString"))) {
        ev_attrs *a = v->u.a;
        uint32_t *idx = ev_scratch_alloc(S, (a->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, a, idx);
        ut_buf_putc(out, '{');
        bool first = true;
        for (uint32_t i = 0; i < a->h.n; i++) {
            ev_attr *at = &a->a[idx[i]];
            if (!meta_keep(S, &at->value))
                continue;
            if (!first)
                ut_buf_putc(out, ',');
            first = false;
            ev_value k = ev_mk_cstring(S, ev_sym_str(S, at->name));
            ev_to_json(S, out, &k, (ps_pos){0}, false, NULL);
            ut_buf_putc(out, ':');
            meta_value(S, &at->value, out, depth + 1);
        }
        ut_buf_putc(out, '}');
    } else if (v->type == EV_LIST) {
        ut_buf_putc(out, '[');
        bool first = true;
        for (uint32_t i = 0; i < v->u.l->h.n; i++) {
            ev_value *e = &v->u.l->v[i];
            if (!meta_keep(S, e))
                continue;
            if (!first)
                ut_buf_putc(out, ',');
            first = false;
            meta_value(S, e, out, depth + 1);
        }
        ut_buf_putc(out, ']');
    } else {
        meta_leaf(S, v, out);
    }
}

static void write_meta(ev_state *S, ev_value *d, const char *drv_path, const char *dir)
{
    ev_attr *m = ev_attrs_find(d->u.a, ev_sym(S, "meta"));
    if (!m || !meta_keep(S, &m->value) || m->value.type != EV_ATTRS)
        return;
    ut_buf j = UT_BUF_INIT;
    meta_value(S, &m->value, &j, 0);
    ut_buf_putc(&j, '\n');
    ut_buf p = UT_BUF_INIT;
    const char *base = strrchr(drv_path, '/');
    ut_buf_printf(&p, "%s/%s.meta.json", dir, base ? base + 1 : drv_path);
    ut_err e = UT_ERR_INIT;
    if (!ut_mkdirs(dir, 0755, &e) || !ut_write_file_atomic(p.data, j.data, j.len, 0644, &e))
        fprintf(stderr, "warning: cannot record meta: %s\n", e.msg);
    ut_err_clear(&e);
    ut_buf_free(&p);
    ut_buf_free(&j);
}

static void print_drv_path(ev_state *S, ev_value *d, ut_buf *out, const char *meta_dir)
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
    if (meta_dir)
        write_meta(S, d, s->s, meta_dir);
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
        if (!is_drv(S, slot)) {
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

static void walk_tsv(ev_state *S, ev_value *v, const inst_opts *o, ut_buf *out)
{
    size_t mark = ev_stack_mark(S);
    ev_value *top = ev_stack_push(S, 1);
    inst_auto_call(S, v, o, top);
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
        ev_attrs *sub = at->value.u.a;
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
char *cli_corepkgs_search_entry(void);
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

/* ---- the command ---------------------------------------------------------- */

static int instantiate(ev_state *S, const inst_opts *o, ut_buf *out)
{
    volatile int rc = 0;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_value *root = ev_stack_push(S, 2);
        inst_load(S, o, &root[0]);
        size_t npaths = o->nattrpaths ? o->nattrpaths : 1;
        for (size_t i = 0; i < npaths; i++) {
            root[1] = root[0];
            if (o->nattrpaths)
                inst_select(S, &root[1], o->attrpaths[i], o);
            if (o->walk_tsv) {
                walk_tsv(S, &root[1], o, out);
                continue;
            }
            drv_list dl = {0};
            dl.cap = 1u << 16;
            dl.vals = ev_stack_push(S, dl.cap);
            dl.done = ut_hmap_new();
            get_drvs(S, &root[1], o, &dl);
            ut_hmap_free(dl.done);
            for (size_t k = 0; k < dl.n; k++)
                print_drv_path(S, &dl.vals[k], out, o->meta_dir);
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
        if (e.len)
            fwrite(e.data, 1, e.len, stderr);
        ut_buf_free(&e);
        rc = 1;
    }
    return rc;
}

static int run_instantiate(int argc, char **argv)
{
    inst_opts o = {0};
    const char *store_url = NULL;
    bool dry = false;
    o.args = calloc((size_t)argc + 1, sizeof *o.args);
    o.attrpaths = calloc((size_t)argc + 1, sizeof *o.attrpaths);
    const char **search = calloc((size_t)argc + 3, sizeof *search);
    char *corepkgs = NULL;
    size_t nsearch = 0;
    ev_options eo = {0};
    int rc = 1;
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
        else if (strcmp(a, "--meta-dir") == 0 && more)
            o.meta_dir = argv[++i];
        else if (strcmp(a, "--walk-tsv") == 0)
            o.walk_tsv = true;
        else if (strcmp(a, "--pure-eval") == 0)
            eo.pure = true;
        else if (strcmp(a, "--max-call-depth") == 0 && more)
            eo.max_call_depth = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if ((strcmp(a, "--extra-experimental-features") == 0 || strcmp(a, "--experimental-features") == 0) &&
                 more) {
            if (strstr(argv[++i], "pipe-operators"))
                eo.parse.pipe_operators = true;
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
        ev_state *S = ev_state_new(&eo);
        ut_buf out = UT_BUF_INIT;
        rc = instantiate(S, &o, &out);
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
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)512 << 20);
    pthread_t th;
    if (pthread_create(&th, &attr, inst_thread, &j) != 0) {
        pthread_attr_destroy(&attr);
        return run_instantiate(argc, argv);
    }
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    return j.rc;
}

const cli_command cli_cmd_instantiate = {"instantiate", "write the .drv closure of derivations and print their paths",
                                         cmd_instantiate};
