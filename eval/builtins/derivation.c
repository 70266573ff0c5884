/* eval/builtins/derivation.c: derivationStrict, the `derivation` wrapper and
 * the bookkeeping that lets derivations refer to each other.
 *
 * derivationStrict works in two phases. The first evaluates every attribute
 * (coercion can run arbitrary Nix code and therefore fail or collect
 * garbage) and keeps the results as rooted heap strings. The second runs no
 * Nix code: it builds the compat derivation, computes the output paths and
 * the .drv path, and writes the .drv. Keeping malloc'd structures out of the
 * first phase means an evaluation error unwinding through it leaks nothing.
 *
 * Input derivations are hashed modulo their outputs (Nix's
 * hashDerivationModulo); every derivation made here records that hash, its
 * output names and its references in a process-wide table keyed by the .drv
 * path. A .drv path names its contents, so the table is valid for every
 * evaluator state in the process, and with a dry store (which keeps nothing)
 * it is the only place such a derivation can be found again. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/derivation.h"
#include "compat/hash.h"
#include "compat/storepath.h"
#include "eval/builtins.h"
#include "eval/internal.h"
#ifdef STRAYLIGHT_HAVE_STORE
#include "store/store.h"
#endif

/* ---- the table of known derivations -------------------------------------- */

typedef struct drv_rec {
    nc_drv_hash hash;       /* modulo, outputs not masked */
    char **outputs;         /* output names, sorted */
    size_t noutputs;
    char **refs;            /* input .drv paths and input sources */
    size_t nrefs;
} drv_rec;

static pthread_mutex_t drv_mu = PTHREAD_MUTEX_INITIALIZER;
static ut_hmap *drv_table;

static drv_rec *table_get(const char *path, size_t len)
{
    pthread_mutex_lock(&drv_mu);
    drv_rec *r = drv_table ? ut_hmap_get(drv_table, path, len) : NULL;
    pthread_mutex_unlock(&drv_mu);
    return r;
}

static drv_rec *rec_from_drv(const nc_derivation *d, const nc_drv_hash *h)
{
    drv_rec *r = ut_xcalloc(1, sizeof *r);
    r->hash = *h;
    r->noutputs = d->noutputs;
    r->outputs = ut_xcalloc(d->noutputs + 1, sizeof *r->outputs);
    for (size_t i = 0; i < d->noutputs; i++)
        r->outputs[i] = ut_xstrndup(d->outputs[i].name.s, d->outputs[i].name.len);
    r->nrefs = d->ninputs + d->nsrcs;
    r->refs = ut_xcalloc(r->nrefs + 1, sizeof *r->refs);
    for (size_t i = 0; i < d->ninputs; i++)
        r->refs[i] = ut_xstrndup(d->inputs[i].path.s, d->inputs[i].path.len);
    for (size_t i = 0; i < d->nsrcs; i++)
        r->refs[d->ninputs + i] = ut_xstrndup(d->srcs[i].s, d->srcs[i].len);
    return r;
}

static void rec_free(drv_rec *r)
{
    for (size_t i = 0; i < r->noutputs; i++)
        free(r->outputs[i]);
    for (size_t i = 0; i < r->nrefs; i++)
        free(r->refs[i]);
    free(r->outputs);
    free(r->refs);
    free(r);
}

/* Keeps the first record for a path (they are equal by construction). */
static drv_rec *table_put(const char *path, size_t len, drv_rec *r)
{
    pthread_mutex_lock(&drv_mu);
    if (!drv_table)
        drv_table = ut_hmap_new();
    drv_rec *old = ut_hmap_get(drv_table, path, len);
    if (old) {
        pthread_mutex_unlock(&drv_mu);
        rec_free(r);
        return old;
    }
    ut_hmap_put(drv_table, path, len, r);
    pthread_mutex_unlock(&drv_mu);
    return r;
}

/* ---- derivations made before ---------------------------------------------
 * nixpkgs builds many derivations more than once (the same package reached
 * through several bootstrap stages, overrides that change nothing), and
 * with a dry store all that follows the evaluation of the attributes
 * depends on the derivation's contents alone. Its result (the .drv path and
 * the output paths) is kept under a SHA-256 of those contents in an
 * unambiguous encoding (every string and list length-prefixed), with the
 * store directory, so a repeat skips the three ATerm hashes, the input
 * lookups and the store paths. */

typedef struct drv_memo {
    char *drv_path;
    size_t noutputs;
    char **names, **paths;      /* paths[i] empty: no path before building */
} drv_memo;

static ut_hmap *memo_table;     /* key hash -> drv_memo, under drv_mu */

/* The encoding is streamed into the hasher: small fields gather in a
 * buffer on the stack (a heap buffer grown per derivation cost more than
 * the hashing), long strings (scripts in the environment) go to the hasher
 * as they are, without a copy. */
#define KEY_BUF 8192
#define KEY_LONG 1024
typedef struct keyer {
    nc_hasher *h;
    size_t len;
    unsigned char b[KEY_BUF];
} keyer;

static void key_flush(keyer *k)
{
    if (k->len) {
        nc_hasher_update(k->h, k->b, k->len);
        k->len = 0;
    }
}

static void key_num(keyer *k, uint64_t n)
{
    if (k->len + sizeof n > KEY_BUF)
        key_flush(k);
    memcpy(k->b + k->len, &n, sizeof n);
    k->len += sizeof n;
}

static void key_str(keyer *k, nc_str s)
{
    key_num(k, s.len);
    if (s.len >= KEY_LONG) {
        key_flush(k);
        nc_hasher_update(k->h, s.s, s.len);
        return;
    }
    if (k->len + s.len > KEY_BUF)
        key_flush(k);
    if (s.len)
        memcpy(k->b + k->len, s.s, s.len);
    k->len += s.len;
}

static void key_node(keyer *k, const nc_drv_input_node *node)
{
    key_num(k, node->noutputs);
    for (size_t i = 0; i < node->noutputs; i++)
        key_str(k, node->outputs[i]);
    key_num(k, node->nchildren);
    for (size_t i = 0; i < node->nchildren; i++) {
        key_str(k, node->children[i].name);
        key_node(k, &node->children[i].node);
    }
}

/* What the derivation is made of, as built by build_derivation and
 * normalized (before its outputs are filled in) */
static void drv_key(const nc_derivation *d, const char *store_dir, nc_hash *out)
{
    keyer k;
    k.h = nc_hasher_new(NC_HASH_SHA256);
    k.len = 0;
    key_str(&k, (nc_str){store_dir, strlen(store_dir)});
    key_str(&k, d->name);
    key_str(&k, d->platform);
    key_str(&k, d->builder);
    key_num(&k, d->nargs);
    for (size_t i = 0; i < d->nargs; i++)
        key_str(&k, d->args[i]);
    key_num(&k, d->nenv);
    for (size_t i = 0; i < d->nenv; i++) {
        key_str(&k, d->env[i].key);
        key_str(&k, d->env[i].value);
    }
    key_num(&k, d->noutputs);
    for (size_t i = 0; i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        key_str(&k, o->name);
        key_num(&k, (uint64_t)o->kind);
        key_num(&k, (uint64_t)o->method);
        key_num(&k, (uint64_t)o->hash_algo);
        key_num(&k, (uint64_t)o->hash.algo);
        if (o->kind == NC_OUT_CA_FIXED)
            key_str(&k, (nc_str){(const char *)o->hash.bytes, nc_hash_size(&o->hash)});
    }
    key_num(&k, d->ninputs);
    for (size_t i = 0; i < d->ninputs; i++) {
        key_str(&k, d->inputs[i].path);
        key_node(&k, &d->inputs[i].node);
    }
    key_num(&k, d->nsrcs);
    for (size_t i = 0; i < d->nsrcs; i++)
        key_str(&k, d->srcs[i]);
    key_flush(&k);
    nc_hasher_finish(k.h, out);
}

static const drv_memo *memo_get(const nc_hash *key)
{
    pthread_mutex_lock(&drv_mu);
    const drv_memo *m = memo_table ? ut_hmap_get(memo_table, key->bytes, 32) : NULL;
    pthread_mutex_unlock(&drv_mu);
    return m;
}

static void memo_put(const nc_hash *key, const nc_derivation *d, const char *drv_path)
{
    drv_memo *m = ut_xcalloc(1, sizeof *m);
    m->drv_path = ut_xstrdup(drv_path);
    m->noutputs = d->noutputs;
    m->names = ut_xcalloc(d->noutputs + 1, sizeof *m->names);
    m->paths = ut_xcalloc(d->noutputs + 1, sizeof *m->paths);
    for (size_t i = 0; i < d->noutputs; i++) {
        m->names[i] = ut_xstrndup(d->outputs[i].name.s, d->outputs[i].name.len);
        m->paths[i] = ut_xstrndup(d->outputs[i].path.s ? d->outputs[i].path.s : "", d->outputs[i].path.len);
    }
    pthread_mutex_lock(&drv_mu);
    if (!memo_table)
        memo_table = ut_hmap_new();
    drv_memo *old = ut_hmap_get(memo_table, key->bytes, 32);
    if (!old)
        ut_hmap_put(memo_table, key->bytes, 32, m);
    pthread_mutex_unlock(&drv_mu);
    if (old) {
        for (size_t i = 0; i < m->noutputs; i++) {
            free(m->names[i]);
            free(m->paths[i]);
        }
        free(m->names);
        free(m->paths);
        free(m->drv_path);
        free(m);
    }
}

typedef struct lookup_ctx {
    ev_state *S;
    const char *store_dir;
    unsigned depth;
} lookup_ctx;

static drv_rec *load_drv(lookup_ctx *lc, nc_str path, ut_err *e);

static bool hash_lookup(void *ctx, nc_str drv_path, nc_drv_hash *out, ut_err *e)
{
    drv_rec *r = load_drv(ctx, drv_path, e);
    if (!r)
        return false;
    *out = r->hash;
    return true;
}

/* A derivation this process did not make: read it from the store (or, with
 * no store holding it, from the file system under the store directory, as a
 * local Nix store would) and hash it. */
static drv_rec *load_drv(lookup_ctx *lc, nc_str path, ut_err *e)
{
    drv_rec *r = table_get(path.s, path.len);
    if (r)
        return r;
    if (lc->depth > 10000) {
        ut_err_set(e, "derivation '%.*s' is nested too deeply", (int)path.len, path.s);
        return NULL;
    }
    char *p = ut_xstrndup(path.s, path.len);
    ut_buf text = UT_BUF_INIT;
    bool ok = false;
#ifdef STRAYLIGHT_HAVE_STORE
    st_store *st = ev_store(lc->S);
    if (st && !st_store_is_dry(st)) {
        ut_err se = UT_ERR_INIT;
        ok = st_store_read_file(st, p, &text, &se);
        ut_err_clear(&se);
    }
#endif
    if (!ok) {
        ut_buf_clear(&text);
        ok = ut_read_file(p, &text, e);
        if (!ok)
            ut_err_wrap(e, "cannot read derivation '%s'", p);
    }
    nc_derivation *d = NULL;
    if (ok) {
        const char *base = strrchr(p, '/');
        base = base ? base + 1 : p;
        const char *dash = strchr(base, '-');
        size_t blen = strlen(base);
        nc_str name = {dash ? dash + 1 : base, 0};
        size_t nlen = (size_t)(base + blen - name.s);
        name.len = nlen >= 4 ? nlen - 4 : nlen;
        d = nc_drv_parse(text.data ? text.data : "", text.len, lc->store_dir, name, e);
        ok = d != NULL;
    }
    ut_buf_free(&text);
    if (ok) {
        nc_drv_hash h;
        lc->depth++;
        ok = nc_drv_hash_modulo(d, lc->store_dir, false, hash_lookup, lc, &h, e);
        lc->depth--;
        if (ok)
            r = table_put(p, strlen(p), rec_from_drv(d, &h));
    }
    nc_drv_free(d);
    free(p);
    return ok ? r : NULL;
}

/* References of a non-derivation store path, as the store records them. */
static void src_refs(ev_state *S, const char *path, char ***refs, size_t *n)
{
    *refs = NULL;
    *n = 0;
#ifdef STRAYLIGHT_HAVE_STORE
    st_store *st = ev_store(S);
    if (!st)
        return;
    st_path_info *pi = NULL;
    ut_err e = UT_ERR_INIT;
    if (st_store_query(st, path, &pi, &e) == 1) {
        *refs = pi->refs;
        *n = pi->nrefs;
        pi->refs = NULL;
        pi->nrefs = 0;
        st_path_info_free(pi);
    }
    ut_err_clear(&e);
#else
    (void)S;
    (void)path;
#endif
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Nix's computeFSClosure of a derivation, for a `=drv` context element:
 * every path goes into inputSrcs, and every derivation in it also into
 * inputDrvs with all of its outputs. */
static bool add_drv_closure(lookup_ctx *lc, nc_derivation *d, const char *root, ut_err *e)
{
    ut_hmap *seen = ut_hmap_new();
    size_t cap = 16, n = 0;
    char **todo = ut_xcalloc(cap, sizeof *todo);
    todo[n++] = ut_xstrdup(root);
    bool ok = true;
    while (n && ok) {
        char *p = todo[--n];
        size_t plen = strlen(p);
        if (ut_hmap_has(seen, p, plen)) {
            free(p);
            continue;
        }
        ut_hmap_put(seen, p, plen, NULL);
        nc_drv_add_src(d, (nc_str){p, plen});
        char **refs = NULL;
        size_t nrefs = 0;
        bool own = false;
        if (has_suffix(p, plen, ".drv")) {
            drv_rec *r = load_drv(lc, (nc_str){p, plen}, e);
            if (!r) {
                ok = false;
                free(p);
                break;
            }
            for (size_t i = 0; i < r->noutputs; i++)
                nc_drv_add_input(d, (nc_str){p, plen}, (nc_str){r->outputs[i], strlen(r->outputs[i])});
            refs = r->refs;
            nrefs = r->nrefs;
        } else {
            src_refs(lc->S, p, &refs, &nrefs);
            own = true;
        }
        for (size_t i = 0; i < nrefs; i++) {
            if (n == cap) {
                cap *= 2;
                todo = ut_xrealloc(todo, cap * sizeof *todo);
            }
            todo[n++] = ut_xstrdup(refs[i]);
        }
        if (own) {
            for (size_t i = 0; i < nrefs; i++)
                free(refs[i]);
            free(refs);
        }
        free(p);
    }
    while (n)
        free(todo[--n]);
    free(todo);
    ut_hmap_free(seen);
    return ok;
}

/* ---- derivationStrict ---------------------------------------------------- */

enum { A_SKIP = 0, A_ENV, A_ARGS, A_JSON };

typedef struct attr_job {
    ps_sym name;
    uint8_t kind;
    ev_value *src;      /* the attribute's (forced) value in the argument set */
} attr_job;

static const char *sdir(ev_state *S)
{
    return S->store_dir ? S->store_dir : NC_STORE_DIR_DEFAULT;
}

/* coerceToString(coerceMore, copyToStore) into a rooted heap string. */
static void coerce_into(ev_state *S, ev_value *v, ps_pos pos, const char *errctx, ev_value *slot)
{
    /* Most attributes are strings already: coercing one would only copy it
     * twice (through a buffer, into a new heap string) and give the
     * collector one more string to trace. */
    ev_force(S, v, pos);
    if (v->type == EV_STRING) {
        *slot = *v;
        return;
    }
    ut_buf b = UT_BUF_INIT;
    ev_ctxset c = {0};
    ev_coerce_to_string(S, v, pos, EV_COERCE_MORE | EV_COERCE_COPY_TO_STORE, &b, &c, errctx);
    *slot = ev_mk_string(S, b.data ? b.data : "", b.len, ev_ctxset_finish(S, &c));
    ut_buf_free(&b);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The output names as Nix's handleOutputs takes them: a list of strings
 * (structured attrs) or the whitespace-separated words of a string. Fills
 * names/lens (scratch arrays of capacity cap) and returns the count. */
static size_t output_names(const ev_value *v, const char **names, size_t *lens, size_t cap)
{
    size_t n = 0;
    if (v->type == EV_LIST) {
        for (uint32_t i = 0; i < v->u.l->h.n && n < cap; i++) {
            const ev_value *e = &v->u.l->v[i];
            names[n] = e->u.s->s;
            lens[n++] = e->u.s->len;
        }
        return n;
    }
    const char *s = v->u.s->s, *end = s + v->u.s->len;
    while (s < end && n < cap) {
        while (s < end && is_ws(*s))
            s++;
        if (s == end)
            break;
        const char *w = s;
        while (s < end && !is_ws(*s))
            s++;
        names[n] = w;
        lens[n++] = (size_t)(s - w);
    }
    return n;
}

static size_t count_words(const ev_value *v)
{
    if (v->type == EV_LIST)
        return v->u.l->h.n;
    return v->u.s->len / 2 + 1;
}

static void check_outputs(ev_state *S, const ev_value *v)
{
    size_t cap = count_words(v);
    const char **names = ev_scratch_alloc(S, cap * sizeof *names);
    size_t *lens = ev_scratch_alloc(S, cap * sizeof *lens);
    size_t n = output_names(v, names, lens, cap);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (lens[j] == lens[i] && memcmp(names[j], names[i], lens[i]) == 0)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "duplicate derivation output '%.*s'", (int)lens[i], names[i]);
        if ((lens[i] == 3 && memcmp(names[i], "drv", 3) == 0) || (lens[i] == 7 && memcmp(names[i], "drvPath", 7) == 0))
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "invalid derivation output name '%.*s'", (int)lens[i], names[i]);
    }
    if (n == 0)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation cannot have an empty set of outputs");
}

static bool parse_hash_mode(const char *s, nc_ca_method *m)
{
    if (strcmp(s, "recursive") == 0)
        *m = NC_CA_NAR;
    else if (strcmp(s, "flat") == 0)
        *m = NC_CA_FLAT;
    else if (strcmp(s, "text") == 0)
        *m = NC_CA_TEXT;
    else
        return false;
    return true;
}

static void check_drv_name(ev_state *S, const ev_string *name)
{
    const char *bad = NULL;
    for (size_t i = 0; i < name->len && !bad; i++) {
        unsigned char c = (unsigned char)name->s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("+-._?=", c)) || !c)
            bad = &name->s[i];
    }
    if (bad)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                 "invalid derivation name: name '%s' contains illegal character '%c'. Please pass a different 'name'.",
                 name->s, *bad);
    if (name->len == 0)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                 "invalid derivation name: name '' must not be empty. Please pass a different 'name'.");
    if (name->len > NC_STORE_NAME_MAX)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                 "invalid derivation name: name '%s' must be no longer than %d characters. Please pass a different 'name'.",
                 name->s, NC_STORE_NAME_MAX);
}

/* Escapes '%' so text can be part of a trace format. */
static char *fmt_escape(ev_state *S, const char *prefix, const char *s, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix) + 2 * strlen(s) + 1;
    char *out = ev_scratch_alloc(S, n), *o = out;
    o = stpcpy(o, prefix);
    for (; *s; s++) {
        if (*s == '%')
            *o++ = '%';
        *o++ = *s;
    }
    strcpy(o, suffix);
    return out;
}

/* Everything after evaluation. Runs no Nix code; frees what it allocates
 * before raising an error. */
static void build_derivation(ev_state *S, const ev_string *drv_name, const attr_job *jobs, size_t njobs,
                             ev_value *vals, bool structured, ev_value *out);

static void meta_scan_jobs(ev_state *S, const attr_job *jobs, size_t n);

/* Content-addressed and impure derivations are experimental in Nix: without
 * the feature, the attribute saying so is an error (not one tryEval can
 * catch), raised where the attribute is read so that the traces name it. */
static void require_feature(ev_state *S, const char *feature)
{
    if (!ev_has_feature(S, feature))
        ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                 "experimental Nix feature '%s' is disabled; add '--extra-experimental-features %s' to enable it",
                 feature, feature);
}

/* The output checks a builder honours only from the environment: with
 * structured attributes they go in outputChecks.<output> instead. */
static bool is_legacy_check(const char *key)
{
    static const char *const names[] = {"allowedReferences", "allowedRequisites", "disallowedReferences",
                                        "disallowedRequisites", "maxSize", "maxClosureSize"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(key, names[i]))
            return true;
    return false;
}

/* Laid out as Nix logs a warning with a trace: everything under the
 * "warning: " header, the attribute's position two columns further in than
 * an error's. */
static void warn_legacy_check(ev_state *S, const ev_string *drv_name, const char *key, ps_pos pos)
{
    (void)S;
    ut_buf b = UT_BUF_INIT, f = UT_BUF_INIT;
    ut_buf_printf(&b,
                  "warning:\n         \xe2\x80\xa6 while evaluating derivation '%s'\n\n"
                  "         warning: 'structuredAttrs' disables the effect of the derivation attribute '%s'; use "
                  "'outputChecks.<output>.%s' instead\n",
                  drv_name->s, key, key);
    if (pos.line) {
        ps_format_pos_snippet_indent(&b, pos, 2);
        ut_buf_putc(&b, '\n');
    }
    ps_log_filter(&f, b.data, b.len);
    fwrite(f.data, 1, f.len, stderr);
    ut_buf_free(&f);
    ut_buf_free(&b);
}

static void prim_derivationStrict(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *attrs = ev_force_attrs(S, &a[0], pos, "while evaluating the argument passed to builtins.derivationStrict");
    ev_attr *na = ev_attrs_find(attrs, S->s_name);
    if (!na) {
        ev_trace_push(S, (ps_pos){0}, "in the attrset passed as argument to builtins.derivationStrict", NULL);
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "attribute 'name' missing");
    }
    size_t trace_mark = S->ntraces;
    ev_trace_push(S, ev_pos_get(S, na->pos), "while evaluating the derivation attribute 'name'", NULL);
    const ps_pos nopos = {0};
    ev_string *drv_name = ev_force_string_noctx(S, &na->value, nopos,
                                                "while evaluating the `name` attribute passed to builtins.derivationStrict");
    S->ntraces = trace_mark;

    /* From here on every error names the derivation. */
    {
        ut_buf m = UT_BUF_INIT;
        ut_buf_printf(&m, "while evaluating derivation '%s'\nwhose name attribute is located at ", drv_name->s);
        ps_format_pos(&m, ev_pos_get(S, na->pos));
        char *msg = ev_scratch_alloc(S, m.len + 1);
        memcpy(msg, m.data, m.len + 1);
        ut_buf_free(&m);
        ev_trace_push(S, (ps_pos){0}, ev_trace_fmt_always, msg);
    }

    ps_sym s_structured = ev_sym(S, "__structuredAttrs"), s_ignore = ev_sym(S, "__ignoreNulls");
    bool structured = false, ignore_nulls = false;
    ev_attr *x = ev_attrs_find(attrs, s_structured);
    if (x)
        structured = ev_force_bool(S, &x->value, nopos,
                                   "while evaluating the `__structuredAttrs` attribute passed to builtins.derivationStrict");
    x = ev_attrs_find(attrs, s_ignore);
    if (x)
        ignore_nulls = ev_force_bool(S, &x->value, nopos,
                                     "while evaluating the `__ignoreNulls` attribute passed to builtins.derivationStrict");
    check_drv_name(S, drv_name);

    ps_sym s_ca = ev_sym(S, "__contentAddressed"), s_impure = ev_sym(S, "__impure"), s_args = ev_sym(S, "args"),
           s_builder = ev_sym(S, "builder"), s_system = ev_sym(S, "system"), s_ohash = ev_sym(S, "outputHash"),
           s_oalgo = ev_sym(S, "outputHashAlgo"), s_omode = ev_sym(S, "outputHashMode"),
           s_outputs = ev_sym(S, "outputs");

    size_t n = attrs->h.n;
    uint32_t *order = ev_scratch_alloc(S, (n + 1) * sizeof *order);
    ev_attrs_sorted_by_name(S, attrs, order);
    attr_job *jobs = ev_scratch_alloc(S, (n + 1) * sizeof *jobs);
    /* vals[i]: the evaluated form of attribute i (a string for the env or
     * __json, a list of strings for args); then the boolean flags */
    ev_value *vals = ev_stack_push(S, n + 1);
    const char *attr_fmt = fmt_escape(S, "while evaluating attribute '%s' of derivation '", drv_name->s, "'");
    bool ca = false, impure = false;

    for (size_t k = 0; k < n; k++) {
        ev_attr *at = &attrs->a[order[k]];
        attr_job *j = &jobs[k];
        j->name = at->name;
        j->src = &at->value;
        j->kind = A_SKIP;
        if (at->name == s_ignore)
            continue;
        const char *key = ev_sym_str(S, at->name);
        size_t tm = S->ntraces;
        ev_trace_push(S, ev_pos_get(S, at->pos), attr_fmt, key);
        if (ignore_nulls) {
            ev_force(S, &at->value, nopos);
            if (at->value.type == EV_NULL) {
                S->ntraces = tm;
                continue;
            }
        }
        if (at->name == s_ca && ev_force_bool(S, &at->value, nopos, NULL)) {
            ca = true;
            require_feature(S, "ca-derivations");
        } else if (at->name == s_impure && ev_force_bool(S, &at->value, nopos, NULL)) {
            impure = true;
            require_feature(S, "impure-derivations");
        } else if (at->name == s_args) {
            ev_list *l = ev_force_list(S, &at->value, nopos, NULL);
            ev_list *sl = ev_list_new(S, l->h.n);
            vals[k] = ev_mk_list(sl);
            for (uint32_t i = 0; i < l->h.n; i++)
                coerce_into(S, &l->v[i], nopos, "while evaluating an element of the argument list", &sl->v[i]);
            j->kind = A_ARGS;
        } else if (structured) {
            if (at->name == s_structured) {
                S->ntraces = tm;
                continue;
            }
            ut_buf b = UT_BUF_INIT;
            ev_ctxset c = {0};
            ev_to_json(S, &b, &at->value, nopos, true, &c);
            vals[k] = ev_mk_string(S, b.data ? b.data : "", b.len, ev_ctxset_finish(S, &c));
            ut_buf_free(&b);
            j->kind = A_JSON;
            if (at->name == s_builder)
                ev_force_string(S, &at->value, nopos, NULL);
            else if (at->name == s_system || at->name == s_ohash || at->name == s_oalgo)
                ev_force_string_noctx(S, &at->value, nopos, NULL);
            else if (at->name == s_omode) {
                ev_string *m = ev_force_string_noctx(S, &at->value, nopos, NULL);
                nc_ca_method cm;
                if (!parse_hash_mode(m->s, &cm))
                    ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "invalid value '%s' for 'outputHashMode' attribute", m->s);
            } else if (at->name == s_outputs) {
                ev_list *l = ev_force_list(S, &at->value, nopos, NULL);
                for (uint32_t i = 0; i < l->h.n; i++)
                    ev_force_string_noctx(S, &l->v[i], nopos, NULL);
                check_outputs(S, &at->value);
            }
            if (is_legacy_check(key))
                warn_legacy_check(S, drv_name, key, ev_pos_get(S, at->pos));
        } else {
            coerce_into(S, &at->value, nopos, NULL, &vals[k]);
            j->kind = A_ENV;
            if (at->name == s_omode) {
                nc_ca_method cm;
                if (!parse_hash_mode(vals[k].u.s->s, &cm))
                    ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "invalid value '%s' for 'outputHashMode' attribute",
                             vals[k].u.s->s);
            } else if (at->name == s_outputs) {
                check_outputs(S, &vals[k]);
            }
        }
        S->ntraces = tm;
    }
    vals[n] = ev_mk_int((ca ? 1 : 0) | (impure ? 2 : 0));
    meta_scan_jobs(S, jobs, n);
    build_derivation(S, drv_name, jobs, n, vals, structured, out);
    S->ntraces = trace_mark;
}

UT_NORETURN static void fail_free(ev_state *S, nc_derivation *d, ut_err *e, const char *fallback)
{
    char *m = ev_scratch_alloc(S, strlen(e->msg ? e->msg : fallback) + 1);
    strcpy(m, e->msg ? e->msg : fallback);
    ut_err_clear(e);
    nc_drv_free(d);
    ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "%s", m);
}

static void add_context(lookup_ctx *lc, nc_derivation *d, const ev_context *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->h.n; i++) {
        const char *el = c->e[i];
        if (el[0] == '=') {
            ut_err e = UT_ERR_INIT;
            if (!add_drv_closure(lc, d, el + 1, &e))
                fail_free(lc->S, d, &e, "cannot compute a derivation's closure");
        } else if (el[0] == '!') {
            const char *bang = strchr(el + 1, '!');
            if (!bang)
                continue;
            nc_drv_add_input(d, (nc_str){bang + 1, strlen(bang + 1)}, (nc_str){el + 1, (size_t)(bang - el - 1)});
        } else {
            nc_drv_add_src(d, (nc_str){el, strlen(el)});
        }
    }
}

static void json_key(ut_buf *b, const char *s)
{
    ut_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': ut_buf_puts(b, "\\\""); break;
        case '\\': ut_buf_puts(b, "\\\\"); break;
        case '\n': ut_buf_puts(b, "\\n"); break;
        case '\r': ut_buf_puts(b, "\\r"); break;
        case '\t': ut_buf_puts(b, "\\t"); break;
        case '\b': ut_buf_puts(b, "\\b"); break;
        case '\f': ut_buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20)
                ut_buf_printf(b, "\\u%04x", c);
            else
                ut_buf_putc(b, (char)c);
        }
    }
    ut_buf_putc(b, '"');
}

static void mk_result(ev_state *S, const nc_derivation *d, const char *drv_path, ev_value *out)
{
    ev_attrs *r = ev_attrs_new(S, d->noutputs + 1);
    *out = ev_mk_attrs(r);
    ut_buf b = UT_BUF_INIT;
    ev_ctxset c = {0};
    ut_buf_printf(&b, "=%s", drv_path);
    ev_ctxset_add(S, &c, b.data, b.len);
    ev_attrs_add(r, S->s_drvPath, ev_mk_string(S, drv_path, strlen(drv_path), ev_ctxset_finish(S, &c)), 0);
    for (size_t i = 0; i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        ut_buf_clear(&b);
        ut_buf_printf(&b, "!%.*s!%s", (int)o->name.len, o->name.s, drv_path);
        ev_ctxset c2 = {0};
        ev_ctxset_add(S, &c2, b.data, b.len);
        ev_context *ctx = ev_ctxset_finish(S, &c2);
        ev_value sv;
        if (o->path.len) {
            sv = ev_mk_string(S, o->path.s, o->path.len, ctx);
        } else {
            ut_buf ph = UT_BUF_INIT;
            ut_err e = UT_ERR_INIT;
            if (!nc_downstream_placeholder(&ph, sdir(S), (nc_str){drv_path, strlen(drv_path)}, o->name, &e))
                ut_err_clear(&e);
            sv = ev_mk_string(S, ph.data ? ph.data : "", ph.len, ctx);
            ut_buf_free(&ph);
        }
        char *nm = ut_xstrndup(o->name.s, o->name.len);
        ev_attrs_add(r, ev_sym(S, nm), sv, 0);
        free(nm);
    }
    ut_buf_free(&b);
    ev_attrs_finish(r);
}

/* Whether .drv texts are written anywhere (a dry store keeps nothing, so
 * they are only hashed). */
static bool store_keeps_drvs(ev_state *S)
{
#ifdef STRAYLIGHT_HAVE_STORE
    st_store *st = ev_store(S);
    return st && !st_store_is_dry(st);
#else
    (void)S;
    return false;
#endif
}

/* Writes the .drv text to the store, which must name it drv_path. */
static bool write_drv(ev_state *S, nc_derivation *d, const ut_buf *aterm, const char *drv_path, ut_err *e)
{
#ifdef STRAYLIGHT_HAVE_STORE
    st_store *st = ev_store(S);
    size_t nrefs = d->ninputs + d->nsrcs;
    const char **refs = ut_xcalloc(nrefs + 1, sizeof *refs);
    char **owned = ut_xcalloc(nrefs + 1, sizeof *owned);
    for (size_t i = 0; i < d->ninputs; i++)
        refs[i] = owned[i] = ut_xstrndup(d->inputs[i].path.s, d->inputs[i].path.len);
    for (size_t i = 0; i < d->nsrcs; i++)
        refs[d->ninputs + i] = owned[d->ninputs + i] = ut_xstrndup(d->srcs[i].s, d->srcs[i].len);
    ut_buf nm = UT_BUF_INIT;
    ut_buf_printf(&nm, "%.*s.drv", (int)d->name.len, d->name.s);
    char *sp = NULL;
    bool ok = st_store_add_text(st, nm.data, aterm->data ? aterm->data : "", aterm->len, refs, nrefs, &sp, e);
    for (size_t i = 0; i < nrefs; i++)
        free(owned[i]);
    free(owned);
    free(refs);
    ut_buf_free(&nm);
    if (ok && strcmp(sp, drv_path) != 0)
        ok = ut_err_set(e, "the store named derivation '%s' as '%s'", drv_path, sp);
    free(sp);
    return ok;
#else
    (void)S, (void)d, (void)aterm, (void)drv_path, (void)e;
    return true;
#endif
}

static void build_derivation(ev_state *S, const ev_string *drv_name, const attr_job *jobs, size_t n,
                             ev_value *vals, bool structured, ev_value *out)
{
    bool ca = vals[n].u.i & 1, impure = vals[n].u.i & 2;
    ps_sym s_builder = ev_sym(S, "builder"), s_system = ev_sym(S, "system"), s_ohash = ev_sym(S, "outputHash"),
           s_oalgo = ev_sym(S, "outputHashAlgo"), s_omode = ev_sym(S, "outputHashMode"),
           s_outputs = ev_sym(S, "outputs");
    lookup_ctx lc = {S, sdir(S), 0};

    const ev_string *builder = NULL, *system = NULL, *ohash = NULL, *oalgo = NULL, *omode = NULL;
    const ev_value *outputs_v = NULL;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].kind != A_ENV && jobs[i].kind != A_JSON)
            continue;
        const ev_value *v = structured ? jobs[i].src : &vals[i];
        ps_sym nm = jobs[i].name;
        if (nm == s_builder)
            builder = v->u.s;
        else if (nm == s_system)
            system = v->u.s;
        else if (nm == s_ohash)
            ohash = v->u.s;
        else if (nm == s_oalgo)
            oalgo = v->u.s;
        else if (nm == s_omode)
            omode = v->u.s;
        else if (nm == s_outputs)
            outputs_v = v;
    }

    nc_derivation *d = nc_drv_new((nc_str){drv_name->s, drv_name->len});
    ut_err e = UT_ERR_INIT;
    ut_buf json = UT_BUF_INIT;
    if (structured)
        ut_buf_putc(&json, '{');
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const ev_value *v = &vals[i];
        const char *key = ev_sym_str(S, jobs[i].name);
        switch (jobs[i].kind) {
        case A_ARGS:
            for (uint32_t k = 0; k < v->u.l->h.n; k++) {
                const ev_string *s = v->u.l->v[k].u.s;
                nc_drv_add_arg(d, (nc_str){s->s, s->len});
                add_context(&lc, d, s->ctx);
            }
            break;
        case A_ENV:
            nc_drv_add_env(d, (nc_str){key, strlen(key)}, (nc_str){v->u.s->s, v->u.s->len});
            add_context(&lc, d, v->u.s->ctx);
            break;
        case A_JSON:
            if (!first)
                ut_buf_putc(&json, ',');
            first = false;
            json_key(&json, key);
            ut_buf_putc(&json, ':');
            ut_buf_append(&json, v->u.s->s, v->u.s->len);
            add_context(&lc, d, v->u.s->ctx);
            break;
        default:
            break;
        }
    }
    if (structured) {
        ut_buf_putc(&json, '}');
        nc_drv_add_env(d, (nc_str){"__json", 6}, (nc_str){json.data, json.len});
    }
    ut_buf_free(&json);

    if (!builder || builder->len == 0) {
        nc_drv_free(d);
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "required attribute 'builder' missing");
    }
    if (!system || system->len == 0) {
        nc_drv_free(d);
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "required attribute 'system' missing");
    }
    d->builder = nc_drv_strdup(d, (nc_str){builder->s, builder->len});
    d->platform = nc_drv_strdup(d, (nc_str){system->s, system->len});

    nc_ca_method method = NC_CA_NAR;
    bool have_method = omode && parse_hash_mode(omode->s, &method);
    size_t cap = outputs_v ? count_words(outputs_v) : 1;
    const char **onames = ev_scratch_alloc(S, cap * sizeof *onames);
    size_t *olens = ev_scratch_alloc(S, cap * sizeof *olens);
    size_t nout;
    if (outputs_v) {
        nout = output_names(outputs_v, onames, olens, cap);
    } else {
        onames[0] = "out";
        olens[0] = 3;
        nout = 1;
    }
    bool single_out = nout == 1 && olens[0] == 3 && memcmp(onames[0], "out", 3) == 0;
    if (drv_name->len >= 4 && memcmp(drv_name->s + drv_name->len - 4, ".drv", 4) == 0 &&
        !(have_method && method == NC_CA_TEXT && single_out)) {
        nc_drv_free(d);
        ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                 "derivation names are allowed to end in '%s' only if they produce a single derivation file", ".drv");
    }

    if (ohash) {
        if (!single_out) {
            nc_drv_free(d);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "multiple outputs are not supported in fixed-output derivations");
        }
        nc_hash_algo algo;
        bool have_algo = oalgo && oalgo->len;
        if (have_algo && !nc_hash_algo_parse(oalgo->s, oalgo->len, &algo)) {
            nc_drv_free(d);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "unknown hash algorithm '%s'", oalgo->s);
        }
        nc_hash h;
        if (ohash->len == 0) {
            /* Nix accepts an empty hash as the all-zero one, with a warning */
            if (!have_algo) {
                nc_drv_free(d);
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "empty hash requires explicit hash algorithm");
            }
            memset(&h, 0, sizeof h);
            h.algo = algo;
            ut_buf w = UT_BUF_INIT;
            nc_hash_append(&w, &h, NC_HASH_SRI, true);
            fprintf(stderr, "warning: found empty hash, assuming '%s'\n", w.data);
            ut_buf_free(&w);
        } else if (!nc_hash_parse_any(ohash->s, ohash->len, have_algo ? &algo : NULL, &h, &e)) {
            fail_free(S, d, &e, "invalid hash");
        }
        nc_drv_output *o = nc_drv_add_output(d, (nc_str){"out", 3});
        o->kind = NC_OUT_CA_FIXED;
        o->method = have_method ? method : NC_CA_FLAT;
        o->hash_algo = h.algo;
        o->hash = h;
    } else if (ca || impure) {
        if (ca && impure) {
            nc_drv_free(d);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "derivation cannot be both content-addressed and impure");
        }
        nc_hash_algo algo = NC_HASH_SHA256;
        if (oalgo && oalgo->len && !nc_hash_algo_parse(oalgo->s, oalgo->len, &algo)) {
            nc_drv_free(d);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "unknown hash algorithm '%s'", oalgo->s);
        }
        for (size_t i = 0; i < nout; i++) {
            nc_drv_output *o = nc_drv_add_output(d, (nc_str){onames[i], olens[i]});
            o->kind = impure ? NC_OUT_IMPURE : NC_OUT_CA_FLOATING;
            o->method = have_method ? method : NC_CA_NAR;
            o->hash_algo = algo;
        }
    } else {
        for (size_t i = 0; i < nout; i++)
            nc_drv_add_output(d, (nc_str){onames[i], olens[i]});
    }

    bool keep = store_keeps_drvs(S);
    /* a store that keeps .drv files must be given each one: no shortcut */
    nc_hash key;
    if (!keep) {
        /* sorted and merged first (as nc_drv_instantiate begins by doing):
         * the inputs come once per string context that names them */
        nc_drv_normalize(d);
        drv_key(d, lc.store_dir, &key);
        const drv_memo *m = memo_get(&key);
        if (m) {
            for (size_t i = 0; i < d->noutputs; i++) {
                nc_drv_output *o = &d->outputs[i];
                for (size_t k = 0; k < m->noutputs; k++)
                    if (strlen(m->names[k]) == o->name.len && memcmp(m->names[k], o->name.s, o->name.len) == 0)
                        o->path = nc_drv_strdup(d, (nc_str){m->paths[k], strlen(m->paths[k])});
            }
            char *dp = ev_scratch_alloc(S, strlen(m->drv_path) + 1);
            strcpy(dp, m->drv_path);
            mk_result(S, d, dp, out);
            nc_drv_free(d);
            return;
        }
    }
    ut_buf aterm = UT_BUF_INIT, path = UT_BUF_INIT;
    nc_drv_hash h;
    bool ok = nc_drv_instantiate(d, lc.store_dir, hash_lookup, &lc, keep ? &aterm : NULL, &path, &h, &e);
    if (ok && keep)
        ok = write_drv(S, d, &aterm, path.data, &e);
    ut_buf_free(&aterm);
    if (!ok) {
        ut_buf_free(&path);
        fail_free(S, d, &e, "cannot write the derivation");
    }
    char *drv_path = ut_buf_steal(&path, NULL);
    if (!table_get(drv_path, strlen(drv_path)))
        table_put(drv_path, strlen(drv_path), rec_from_drv(d, &h));
    if (!keep)
        memo_put(&key, d, drv_path);
    char *dp = ev_scratch_alloc(S, strlen(drv_path) + 1);
    strcpy(dp, drv_path);
    free(drv_path);
    /* mk_result allocates but never evaluates: d can be freed after */
    mk_result(S, d, dp, out);
    nc_drv_free(d);
}

/* ---- the `derivation` wrapper ---------------------------------------------
 * Nix defines `derivation` in Nix over derivationStrict, and its errors show
 * positions in that file («nix-internal»/derivation-internal.nix), so this
 * text keeps the lines its expressions sit on in Nix's file: derivationStrict
 * is called at line 36, column 12, and the output's outPath is selected at
 * line 49. The result is the set of the first output, each output being the
 * arguments plus every output plus its own outPath, drvPath, outputName and
 * type = "derivation". */
static const char derivation_nix[] =
    "# The `derivation` builtin: a thin layer over derivationStrict.\n"
    "#\n"
    "# derivationStrict takes the attribute set that describes a build,\n"
    "# writes the store derivation and returns its path and the paths of\n"
    "# its outputs. This function turns that into what Nix code expects of a\n"
    "# derivation value:\n"
    "#\n"
    "#   - the result is the first output's attribute set;\n"
    "#   - every output's set holds all the arguments, every output (by\n"
    "#     name), `all` (the list of outputs), `drvAttrs` (the arguments),\n"
    "#     and its own `outPath`, `drvPath`, `outputName` and\n"
    "#     `type = \"derivation\"`;\n"
    "#   - nothing is computed until an attribute that needs\n"
    "#     derivationStrict (outPath, drvPath) is used.\n"
    "#\n"
    "# The line numbers of the expressions below are part of the error\n"
    "# messages users see, so keep them where they are.\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "#\n"
    "\n"
    "drvAttrs @ { outputs ? [ \"out\" ], ... }:\n"                     /* 31 */
    "\n"
    "let\n"
    "  # all the work happens here, once, shared by every output\n"
    "\n"
    "  strict = derivationStrict drvAttrs;\n"                          /* 36 */
    "\n"
    "  commonAttrs = drvAttrs // (__listToAttrs outputsList) //\n"
    "    { all = map (x: x.value) outputsList;\n"
    "      inherit drvAttrs;\n"
    "    };\n"
    "\n"
    "  outputsList = map outputToAttrListElement outputs;\n"
    "\n"
    "  outputToAttrListElement = outputName:\n"
    "    { name = outputName;\n"
    "      # one output: the common attributes seen through it\n"
    "    value = commonAttrs // {\n"                                   /* 48 */
    "      outPath = strict.${outputName};\n"                          /* 49 */
    "      drvPath = strict.drvPath;\n"
    "      type = \"derivation\";\n"
    "      inherit outputName;\n"
    "    };\n"
    "    };\n"
    "\n"
    "in (__head outputsList).value\n";

/* `placeholder` is a global name in Nix (nixpkgs calls it unqualified); the
 * files family registers it only under builtins, so it is bound here too. */
static void prim_placeholder_global(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.placeholder");
    ut_buf b = UT_BUF_INIT;
    nc_hash_placeholder(&b, (nc_str){s->s, s->len});
    *out = ev_mk_string(S, b.data, b.len, NULL);
    ut_buf_free(&b);
}

static const ev_primop_def derivation_prims[] = {
    {"derivationStrict", 1, prim_derivationStrict, EV_PRIM_GLOBAL},
    {"placeholder", 1, prim_placeholder_global, EV_PRIM_GLOBAL},
    {NULL, 0, NULL, 0},
};

void ev_builtins_derivation_register(ev_state *S);
void ev_builtins_derivation_register(ev_state *S)
{
    ev_register_primops(S, derivation_prims);
    ev_code *c = ev_parse_compile(S, derivation_nix, sizeof derivation_nix - 1, PS_ORIGIN_FILE,
                                  "\xc2\xabnix-internal\xc2\xbb/derivation-internal.nix", "/", NULL, (ps_pos){0});
    if (!c)
        ut_die("internal error: the derivation builtin does not compile");
    ev_value v = {0};
    v.type = EV_THUNK;
    v.u.t = ev_thunk_new(S, c, NULL);   /* given the base environment when it is complete */
    ev_register_value(S, "derivation", v, EV_PRIM_GLOBAL);
}

/* ---- meta of the derivations a derivation depends on --------------------
 * nixpkgs keeps `meta` out of what derivationStrict sees, so no .drv holds
 * it; but the attribute sets of the dependencies pass through here whole
 * (buildInputs = [ zlib ... ]), and coercion has just forced them. When a
 * command asks for it (ev_drv_meta_begin, for SBOMs), each such set that
 * is a derivation with a `meta` gets its meta rendered to JSON, keyed by
 * its .drv path.
 *
 * This must not change what evaluation computes: only values coercion
 * already forced are looked at to find dependencies; meta itself is forced
 * inside ev_try (a throw, abort or infinite recursion in meta drops that
 * field silently, no trace is printed), never a thunk under evaluation,
 * never a derivation inside meta (that could instantiate more), with a
 * depth and a size budget. Forcing meta cannot change a .drv path: nothing
 * in meta reaches derivationStrict. */

typedef struct meta_rec {
    ut_hmap *done;        /* drv path -> char* JSON, or NULL when meta was unusable */
    unsigned busy;        /* > 0 while rendering: no recursive recording */
} meta_rec;

static _Thread_local meta_rec *meta_on;

void ev_drv_meta_begin(void);
ut_hmap *ev_drv_meta_end(void);
void ev_drv_meta_note(ev_state *S, ev_value *drv);
void ev_drv_meta_render(ev_state *S, ev_value *meta, bool closure_keys, ut_buf *out);

/* The forced value in a slot, or NULL when it is not forced yet. */
static ev_value *meta_forced(ev_value *v)
{
    if (v->type == EV_LREF)
        v = ev_lref_slot(v);
    if (v->type == EV_APPI)
        return NULL;
    if (v->type == EV_THUNK)
        return EV_TH_STATE(v->u.t) == EV_TH_DONE && !(v->u.t->h.flags & EV_TH_BH) ? &v->u.t->u.v : NULL;
    return v;
}

/* Forces v in a try; false when that fails, v is under evaluation, or v is
 * something meta JSON leaves out (functions). */
static bool meta_force(ev_state *S, ev_value *v)
{
    ev_value *w = v->type == EV_LREF ? ev_lref_slot(v) : v;
    if ((w->type == EV_THUNK && (w->u.t->h.flags & EV_TH_BH)) || (w->type == EV_APPI && w->pad[0]))
        return false;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_force(S, v, (ps_pos){0});
        ev_try_end(S, &t);
    } else {
        ev_try_end(S, &t);
        return false;
    }
    return !ev_is_function(v);
}

#define META_MAX_DEPTH 16
#define META_MAX_BYTES (256u << 10)

/* Keys kept for dependencies: what SBOMs use. The derived ones nixpkgs adds
 * (available, broken, unfree, insecure...) run its meta checks, which cost
 * time and may throw; top-level derivations get their whole meta. */
static bool meta_closure_key(const char *k)
{
    static const char *const keep[] = {"description", "homepage", "license", "identifiers", "position",
                                       "mainProgram", "changelog", "downloadPage", "sourceProvenance", NULL};
    for (size_t i = 0; keep[i]; i++)
        if (!strcmp(k, keep[i]))
            return true;
    return false;
}

static void meta_json(ev_state *S, ev_value *v, ut_buf *out, unsigned depth, bool closure_keys)
{
    if (depth > META_MAX_DEPTH || out->len > META_MAX_BYTES) {
        ut_buf_puts(out, "null");
        return;
    }
    switch (v->type) {
    case EV_ATTRS: {
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        ev_attr *op = ev_attrs_find(a, ev_sym(S, "outPath"));
        if (op) {
            /* a derivation or path-like set: its outPath if already known */
            ev_value *f = meta_forced(&op->value);
            if (f && f->type == EV_STRING) {
                ev_value k = ev_mk_string(S, f->u.s->s, f->u.s->len, NULL);
                ev_to_json(S, out, &k, (ps_pos){0}, false, NULL);
            } else {
                ut_buf_puts(out, "null");
            }
            return;
        }
        if (ev_attrs_find(a, ev_sym(S, "__toString")) || ev_attrs_find(a, ev_sym(S, "__functor"))) {
            ut_buf_puts(out, "null");
            return;
        }
        uint32_t *idx = ev_scratch_alloc(S, (a->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, a, idx);
        ut_buf_putc(out, '{');
        bool first = true;
        for (uint32_t i = 0; i < a->h.n; i++) {
            ev_attr *at = &a->a[idx[i]];
            const char *name = ev_sym_str(S, at->name);
            if (closure_keys && depth == 0 && !meta_closure_key(name))
                continue;
            if (!meta_force(S, &at->value))
                continue;
            if (!first)
                ut_buf_putc(out, ',');
            first = false;
            ev_value k = ev_mk_cstring(S, name);
            ev_to_json(S, out, &k, (ps_pos){0}, false, NULL);
            ut_buf_putc(out, ':');
            meta_json(S, &at->value, out, depth + 1, closure_keys);
        }
        ut_buf_putc(out, '}');
        return;
    }
    case EV_LIST: {
        ut_buf_putc(out, '[');
        bool first = true;
        for (uint32_t i = 0; i < v->u.l->h.n; i++) {
            ev_value *e = &v->u.l->v[i];
            if (!meta_force(S, e))
                continue;
            if (!first)
                ut_buf_putc(out, ',');
            first = false;
            meta_json(S, e, out, depth + 1, closure_keys);
        }
        ut_buf_putc(out, ']');
        return;
    }
    case EV_STRING: {
        /* the text only: context says nothing in a JSON file */
        ev_value k = ev_mk_string(S, v->u.s->s, v->u.s->len, NULL);
        ev_to_json(S, out, &k, (ps_pos){0}, false, NULL);
        return;
    }
    case EV_NULL:
    case EV_BOOL:
    case EV_INT:
    case EV_FLOAT:
        ev_to_json(S, out, v, (ps_pos){0}, false, NULL);
        return;
    default:
        /* paths (toJSON would copy them to the store) and anything else */
        ut_buf_puts(out, "null");
        return;
    }
}

void ev_drv_meta_render(ev_state *S, ev_value *meta, bool closure_keys, ut_buf *out)
{
    size_t mark = ev_stack_mark(S);
    ev_value *m = ev_stack_push(S, 1);
    *m = *meta;
    if (!meta_force(S, m) || m->type != EV_ATTRS)
        ut_buf_puts(out, "null");
    else
        meta_json(S, m, out, 0, closure_keys);
    ev_stack_reset(S, mark);
}

void ev_drv_meta_begin(void)
{
    if (meta_on)
        return;
    meta_on = ut_xcalloc(1, sizeof *meta_on);
    meta_on->done = ut_hmap_new();
}

ut_hmap *ev_drv_meta_end(void)
{
    if (!meta_on)
        return NULL;
    ut_hmap *m = meta_on->done;
    free(meta_on);
    meta_on = NULL;
    return m;
}

/* The .drv path of a forced derivation set, without forcing anything: its
 * drvPath when known, else the output context of its forced outPath. */
static const char *meta_drv_path(ev_state *S, ev_attrs *a)
{
    ev_attr *dp = ev_attrs_find(a, ev_sym(S, "drvPath"));
    ev_value *f = dp ? meta_forced(&dp->value) : NULL;
    if (f && f->type == EV_STRING)
        return f->u.s->s;
    ev_attr *op = ev_attrs_find(a, ev_sym(S, "outPath"));
    f = op ? meta_forced(&op->value) : NULL;
    if (!f || f->type != EV_STRING || !f->u.s->ctx || f->u.s->ctx->h.n != 1)
        return NULL;
    const char *el = f->u.s->ctx->e[0];
    const char *bang = el[0] == '!' ? strchr(el + 1, '!') : NULL;
    return bang ? bang + 1 : NULL;
}

void ev_drv_meta_note(ev_state *S, ev_value *drv)
{
    if (!meta_on || meta_on->busy || drv->type != EV_ATTRS)
        return;
    ev_attrs *a = drv->u.a;
    ev_attr *m = ev_attrs_find(a, ev_sym(S, "meta"));
    ev_attr *ty = ev_attrs_find(a, ev_sym(S, "type"));
    if (!m || !ty)
        return;
    ev_value *tv = meta_forced(&ty->value);
    if (!tv) {
        if (!meta_force(S, &ty->value))
            return;
        tv = &ty->value;
    }
    if (tv->type != EV_STRING || strcmp(tv->u.s->s, "derivation") != 0)
        return;
    const char *dp = meta_drv_path(S, a);
    if (!dp || ut_hmap_has(meta_on->done, dp, strlen(dp)))
        return;
    char *key = ut_xstrdup(dp);   /* dp may be collected while meta runs */
    ut_hmap_put(meta_on->done, key, strlen(key), NULL);
    meta_on->busy++;
    ut_buf j = UT_BUF_INIT;
    ev_drv_meta_render(S, &m->value, true, &j);
    meta_on->busy--;
    if (j.len && strcmp(j.data, "null") != 0)
        ut_hmap_put(meta_on->done, key, strlen(key), ut_buf_steal(&j, NULL));
    ut_buf_free(&j);
    free(key);
}

/* Dependencies among the forced values of one derivation attribute: the
 * value itself, list elements and (structured attrs) nested sets. */
static void meta_scan(ev_state *S, ev_value *v, unsigned depth)
{
    v = meta_forced(v);
    if (!v || depth > 3)
        return;
    if (v->type == EV_LIST) {
        for (uint32_t i = 0; i < v->u.l->h.n; i++)
            meta_scan(S, &v->u.l->v[i], depth + 1);
    } else if (v->type == EV_ATTRS) {
        if (ev_attrs_find(v->u.a, ev_sym(S, "outPath"))) {
            ev_drv_meta_note(S, v);
            return;
        }
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        for (uint32_t i = 0; i < a->h.n; i++)
            meta_scan(S, &a->a[i].value, depth + 1);
    }
}

static void meta_scan_jobs(ev_state *S, const attr_job *jobs, size_t n)
{
    if (!meta_on || meta_on->busy)
        return;
    for (size_t k = 0; k < n; k++)
        if (jobs[k].kind != A_SKIP)
            meta_scan(S, jobs[k].src, 0);
}
