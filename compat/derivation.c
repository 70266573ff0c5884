/* Derivations: the ATerm format, Nix's derivation type rules,
 * hashDerivationModulo and output paths. */
#include "compat/derivation.h"

#include "compat/drv_internal.h"

#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- small helpers --------------------------------------------------------- */

static const char *sd(const char *store_dir) { return store_dir ? store_dir : NC_STORE_DIR_DEFAULT; }

static bool str_is(nc_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.s, lit, n) == 0;
}

static nc_str arena_str(ut_arena *a, const char *s, size_t n)
{
    return nc_str_n(ut_arena_strndup(a, s, n), n);
}

static void *arena_copy(ut_arena *a, const void *p, size_t n)
{
    if (n == 0)
        return NULL;
    void *r = ut_arena_alloc(a, n);
    memcpy(r, p, n);
    return r;
}

void nc_stable_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *b = base;
    size_t i;
    for (i = 1; i < n; i++)
        if (cmp(b + (i - 1) * size, b + i * size) > 0)
            break;
    if (i >= n)
        return;
    char *tmp = ut_xmalloc(n * size);
    /* Bottom-up merge sort: O(n log n), stable, no recursion. */
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t l = lo, r = mid, o = lo;
            while (l < mid && r < hi) {
                if (cmp(b + r * size, b + l * size) < 0)
                    memcpy(tmp + o++ * size, b + r++ * size, size);
                else
                    memcpy(tmp + o++ * size, b + l++ * size, size);
            }
            if (l < mid)
                memcpy(tmp + o * size, b + l * size, (mid - l) * size), o += mid - l;
            if (r < hi)
                memcpy(tmp + o * size, b + r * size, (hi - r) * size);
        }
        memcpy(b, tmp, n * size);
    }
    free(tmp);
}

static int cmp_str(const void *a, const void *b) { return nc_str_cmp(*(const nc_str *)a, *(const nc_str *)b); }

size_t nc_str_set_normalize(nc_str *v, size_t n)
{
    nc_stable_sort(v, n, sizeof *v, cmp_str);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (o == 0 || !nc_str_eq(v[o - 1], v[i]))
            v[o++] = v[i];
    return o;
}

static int cmp_output(const void *a, const void *b)
{
    return nc_str_cmp(((const nc_drv_output *)a)->name, ((const nc_drv_output *)b)->name);
}
static int cmp_input(const void *a, const void *b)
{
    return nc_str_cmp(((const nc_drv_input *)a)->path, ((const nc_drv_input *)b)->path);
}
static int cmp_env(const void *a, const void *b)
{
    return nc_str_cmp(((const nc_drv_env *)a)->key, ((const nc_drv_env *)b)->key);
}
static int cmp_child(const void *a, const void *b)
{
    return nc_str_cmp(((const nc_drv_input_child *)a)->name, ((const nc_drv_input_child *)b)->name);
}

/* After a stable sort, collapses runs of equal keys keeping the first or the
 * last element of each run. */
static size_t dedupe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *), bool keep_last)
{
    char *b = base;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o > 0 && cmp(b + (o - 1) * size, b + i * size) == 0) {
            if (keep_last)
                memcpy(b + (o - 1) * size, b + i * size, size);
            continue;
        }
        if (o != i)
            memcpy(b + o * size, b + i * size, size);
        o++;
    }
    return o;
}

/* The union of n nodes (outputs and dynamic children), normalised. */
static void node_union(ut_arena *a, const nc_drv_input_node *const *nodes, size_t n, nc_drv_input_node *out)
{
    size_t no = 0, nc = 0;
    for (size_t k = 0; k < n; k++) {
        no += nodes[k]->noutputs;
        nc += nodes[k]->nchildren;
    }
    nc_drv_input_node m = {ut_arena_alloc(a, (no ? no : 1) * sizeof(nc_str)), 0,
                           ut_arena_alloc(a, (nc ? nc : 1) * sizeof(nc_drv_input_child)), 0};
    for (size_t k = 0; k < n; k++) {
        const nc_drv_input_node *s = nodes[k];
        if (s->noutputs)
            memcpy(m.outputs + m.noutputs, s->outputs, s->noutputs * sizeof(nc_str));
        m.noutputs += s->noutputs;
        if (s->nchildren)
            memcpy(m.children + m.nchildren, s->children, s->nchildren * sizeof *s->children);
        m.nchildren += s->nchildren;
    }
    nc_drv_node_normalize(a, &m, true);
    *out = m;
}

void nc_drv_node_normalize(ut_arena *a, nc_drv_input_node *node, bool merge)
{
    node->noutputs = nc_str_set_normalize(node->outputs, node->noutputs);
    if (node->nchildren == 0)
        return;
    nc_stable_sort(node->children, node->nchildren, sizeof *node->children, cmp_child);
    if (!merge) {
        node->nchildren = dedupe(node->children, node->nchildren, sizeof *node->children, cmp_child, true);
        for (size_t i = 0; i < node->nchildren; i++)
            nc_drv_node_normalize(a, &node->children[i].node, false);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < node->nchildren;) {
        size_t j = i + 1;
        while (j < node->nchildren && nc_str_eq(node->children[j].name, node->children[i].name))
            j++;
        nc_drv_input_child c = node->children[i];
        if (j - i > 1) {
            const nc_drv_input_node **run = ut_arena_alloc(a, (j - i) * sizeof *run);
            for (size_t k = i; k < j; k++)
                run[k - i] = &node->children[k].node;
            node_union(a, run, j - i, &c.node);
        } else {
            nc_drv_node_normalize(a, &c.node, true);
        }
        node->children[o++] = c;
        i = j;
    }
    node->nchildren = o;
}

/* ---- construction ------------------------------------------------------------ */

nc_derivation *nc_drv_new(nc_str name)
{
    ut_arena *a = ut_arena_new();
    nc_derivation *d = ut_arena_alloc(a, sizeof *d);
    d->arena = a;
    d->name = arena_str(a, name.s ? name.s : "", name.len);
    d->platform = d->builder = arena_str(a, "", 0);
    return d;
}

void nc_drv_free(nc_derivation *d)
{
    if (d)
        ut_arena_free(d->arena);
}

nc_str nc_drv_strdup(nc_derivation *d, nc_str s) { return arena_str(d->arena, s.s ? s.s : "", s.len); }

void nc_drv_normalize(nc_derivation *d)
{
    nc_stable_sort(d->outputs, d->noutputs, sizeof *d->outputs, cmp_output);
    d->noutputs = dedupe(d->outputs, d->noutputs, sizeof *d->outputs, cmp_output, true);
    nc_stable_sort(d->inputs, d->ninputs, sizeof *d->inputs, cmp_input);
    size_t o = 0;
    for (size_t i = 0; i < d->ninputs;) {
        size_t j = i + 1;
        while (j < d->ninputs && nc_str_eq(d->inputs[j].path, d->inputs[i].path))
            j++;
        nc_drv_input in = d->inputs[i];
        const nc_drv_input_node **run = ut_arena_alloc(d->arena, (j - i) * sizeof *run);
        for (size_t k = i; k < j; k++)
            run[k - i] = &d->inputs[k].node;
        node_union(d->arena, run, j - i, &in.node);
        d->inputs[o++] = in;
        i = j;
    }
    d->ninputs = o;
    d->nsrcs = nc_str_set_normalize(d->srcs, d->nsrcs);
    nc_stable_sort(d->env, d->nenv, sizeof *d->env, cmp_env);
    d->nenv = dedupe(d->env, d->nenv, sizeof *d->env, cmp_env, true);
}

/* Makes room for one more element of an array in the arena, doubling;
 * *cap 0 means the array holds exactly n. */
static void *grow(ut_arena *a, void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t nc = n < 4 ? 8 : n * 2;
    void *na = ut_arena_alloc(a, nc * size);
    if (n)
        memcpy(na, arr, n * size);
    *cap = nc;
    return na;
}

nc_drv_output *nc_drv_add_output(nc_derivation *d, nc_str name)
{
    d->outputs = grow(d->arena, d->outputs, d->noutputs, &d->cap_outputs, sizeof *d->outputs);
    nc_drv_output *o = &d->outputs[d->noutputs++];
    memset(o, 0, sizeof *o);
    o->name = nc_drv_strdup(d, name);
    o->path = nc_str_n("", 0);
    o->kind = NC_OUT_DEFERRED;
    o->hash_algo = NC_HASH_SHA256;
    return o;
}

void nc_drv_add_input(nc_derivation *d, nc_str drv_path, nc_str output)
{
    d->inputs = grow(d->arena, d->inputs, d->ninputs, &d->cap_inputs, sizeof *d->inputs);
    nc_drv_input *in = &d->inputs[d->ninputs++];
    memset(in, 0, sizeof *in);
    in->path = nc_drv_strdup(d, drv_path);
    in->node.outputs = ut_arena_alloc(d->arena, sizeof(nc_str));
    in->node.outputs[0] = nc_drv_strdup(d, output);
    in->node.noutputs = 1;
}

void nc_drv_add_src(nc_derivation *d, nc_str path)
{
    d->srcs = grow(d->arena, d->srcs, d->nsrcs, &d->cap_srcs, sizeof *d->srcs);
    d->srcs[d->nsrcs++] = nc_drv_strdup(d, path);
}

void nc_drv_add_arg(nc_derivation *d, nc_str arg)
{
    d->args = grow(d->arena, d->args, d->nargs, &d->cap_args, sizeof *d->args);
    d->args[d->nargs++] = nc_drv_strdup(d, arg);
}

void nc_drv_add_env(nc_derivation *d, nc_str key, nc_str value)
{
    d->env = grow(d->arena, d->env, d->nenv, &d->cap_env, sizeof *d->env);
    d->env[d->nenv].key = nc_drv_strdup(d, key);
    d->env[d->nenv].value = nc_drv_strdup(d, value);
    d->nenv++;
}

/* ---- ATerm parser ---------------------------------------------------------- */

/* A growable array on the C heap while parsing; moved into the arena when
 * complete, so the arena holds no garbage from doubling. */
typedef struct vec {
    char *data;
    size_t n, cap, size;
} vec;

static void *vec_push(vec *v)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->data = ut_xrealloc(v->data, v->cap * v->size);
    }
    return memset(v->data + v->n++ * v->size, 0, v->size);
}

static void *vec_to_arena(vec *v, ut_arena *a, size_t *n_out)
{
    void *r = arena_copy(a, v->data, v->n * v->size);
    *n_out = v->n;
    free(v->data);
    v->data = NULL;
    v->n = v->cap = 0;
    return r;
}

typedef struct aparse {
    const char *s;
    size_t len, pos;
    ut_arena *a;
    const char *store_dir;
    ut_err *e;
} aparse;

static bool perr(aparse *p, const char *what)
{
    return ut_err_set(p->e, "derivation ATerm: at byte %zu: %s", p->pos, what);
}

static bool expect(aparse *p, const char *lit)
{
    size_t n = strlen(lit);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0) {
        if (p->pos >= p->len)
            return ut_err_set(p->e, "derivation ATerm: at byte %zu: unexpected end of input, expected '%s'", p->pos,
                              lit);
        return ut_err_set(p->e, "derivation ATerm: at byte %zu: expected '%s'", p->pos, lit);
    }
    p->pos += n;
    return true;
}

static int peek(aparse *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static bool parse_string(aparse *p, nc_str *out)
{
    if (!expect(p, "\""))
        return false;
    const char *s = p->s, *end = s + p->len;
    const char *k = s + p->pos, *start = k;
    size_t nesc = 0;
    /* Find the closing quote in memchr-sized steps: the quote candidate q
     * is only searched again when an escape swallows it, so the scan stays
     * linear however many escapes the string holds. */
    const char *q = memchr(k, '"', (size_t)(end - k));
    for (;;) {
        if (!q) {
            p->pos = p->len;
            return perr(p, "unterminated string");
        }
        const char *bs = memchr(k, '\\', (size_t)(q - k));
        if (!bs)
            break;
        if (bs + 1 >= end) {
            p->pos = p->len;
            return perr(p, "unterminated string");
        }
        nesc++;
        k = bs + 2;
        if (k > q)
            q = k < end ? memchr(k, '"', (size_t)(end - k)) : NULL;
    }
    size_t inlen = (size_t)(q - start), outlen = inlen - nesc;
    if (nesc == 0) {
        *out = arena_str(p->a, start, inlen);
    } else {
        char *buf = ut_arena_alloc(p->a, outlen + 1), *o = buf;
        const char *r = start;
        while (r < q) {
            const char *bs = memchr(r, '\\', (size_t)(q - r));
            const char *stop = bs ? bs : q;
            memcpy(o, r, (size_t)(stop - r));
            o += stop - r;
            if (!bs)
                break;
            char c = bs[1];
            *o++ = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
            r = bs + 2;
        }
        *o = '\0';
        *out = nc_str_n(buf, outlen);
    }
    p->pos = (size_t)(q - s) + 1;
    return true;
}

/* Nix prints some fields without escaping (output names, the platform):
 * a '"' or '\\' in one would make the printed ATerm unreadable, so such a
 * value is refused up front. */
static bool parse_raw(aparse *p, nc_str *out)
{
    size_t at = p->pos;
    if (!parse_string(p, out))
        return false;
    for (size_t i = 0; i < out->len; i++) {
        if (out->s[i] == '"' || out->s[i] == '\\') {
            p->pos = at;
            return perr(p, "'\"' and '\\' are not allowed in output names and the platform");
        }
    }
    return true;
}

/* '[' elem (',' elem)* ']' or '[]'; elem parsed by the callback. */
typedef bool (*elem_fn)(aparse *p, void *ctx);

static bool parse_list(aparse *p, elem_fn f, void *ctx)
{
    if (!expect(p, "["))
        return false;
    if (peek(p) == ']') {
        p->pos++;
        return true;
    }
    for (;;) {
        if (!f(p, ctx))
            return false;
        int c = peek(p);
        p->pos++;
        if (c == ']')
            return true;
        if (c != ',') {
            p->pos--;
            return perr(p, c < 0 ? "unexpected end of input, expected ',' or ']'" : "expected ',' or ']'");
        }
    }
}

static bool elem_string(aparse *p, void *ctx) { return parse_string(p, vec_push(ctx)); }
static bool elem_raw(aparse *p, void *ctx) { return parse_raw(p, vec_push(ctx)); }

static bool check_store_path(aparse *p, size_t at, nc_str path)
{
    ut_err e2 = UT_ERR_INIT;
    if (!nc_store_path_parse(p->store_dir, path, NULL, &e2)) {
        ut_err_set(p->e, "derivation ATerm: at byte %zu: %s", at, e2.msg);
        ut_err_clear(&e2);
        return false;
    }
    return true;
}

static bool elem_path(aparse *p, void *ctx)
{
    size_t at = p->pos;
    nc_str *s = vec_push(ctx);
    if (!parse_string(p, s))
        return false;
    return check_store_path(p, at, *s);
}

static bool parse_strings(aparse *p, nc_str **out, size_t *n, elem_fn kind)
{
    vec v = {NULL, 0, 0, sizeof(nc_str)};
    if (!parse_list(p, kind, &v)) {
        free(v.data);
        return false;
    }
    *out = vec_to_arena(&v, p->a, n);
    return true;
}

typedef struct outctx {
    vec v;
    nc_str drv_name;
} outctx;

static bool elem_output(aparse *p, void *ctx)
{
    outctx *oc = ctx;
    nc_drv_output *o = vec_push(&oc->v);
    nc_str path, algo, hash;
    if (!expect(p, "(") || !parse_raw(p, &o->name) || !expect(p, ","))
        return false;
    size_t path_at = p->pos;
    if (!parse_string(p, &path) || !expect(p, ","))
        return false;
    size_t algo_at = p->pos;
    if (!parse_string(p, &algo) || !expect(p, ","))
        return false;
    size_t hash_at = p->pos;
    if (!parse_string(p, &hash) || !expect(p, ")"))
        return false;
    ut_err e2 = UT_ERR_INIT;
    o->path = nc_str_n("", 0);
    if (algo.len == 0) {
        if (hash.len != 0) {
            p->pos = hash_at;
            return perr(p, "output has a hash but no hash algorithm");
        }
        if (path.len == 0) {
            o->kind = NC_OUT_DEFERRED;
            return true;
        }
        if (!check_store_path(p, path_at, path))
            return false;
        o->kind = NC_OUT_INPUT_ADDRESSED;
        o->path = path;
        return true;
    }
    if (!nc_ca_parse_method_algo(algo.s, algo.len, &o->method, &o->hash_algo, &e2)) {
        ut_err_set(p->e, "derivation ATerm: at byte %zu: %s", algo_at, e2.msg);
        ut_err_clear(&e2);
        return false;
    }
    if (str_is(hash, "impure")) {
        if (path.len) {
            p->pos = path_at;
            return perr(p, "impure derivation output should not specify output path");
        }
        o->kind = NC_OUT_IMPURE;
        return true;
    }
    if (hash.len == 0) {
        if (path.len) {
            p->pos = path_at;
            return perr(p, "content-addressed derivation output should not specify output path");
        }
        o->kind = NC_OUT_CA_FLOATING;
        return true;
    }
    if (!nc_hash_parse_unprefixed(hash.s, hash.len, o->hash_algo, &o->hash, &e2)) {
        ut_err_set(p->e, "derivation ATerm: at byte %zu: %s", hash_at, e2.msg);
        ut_err_clear(&e2);
        return false;
    }
    if (!check_store_path(p, path_at, path))
        return false;
    o->kind = NC_OUT_CA_FIXED;
    o->path = path;
    /* The path of a fixed output is a function of its hash; one that says
     * otherwise is corrupt (newer Nix rejects it too). Needs the name. */
    if (oc->drv_name.len) {
        ut_buf want = UT_BUF_INIT, pn = UT_BUF_INIT;
        nc_output_path_name(&pn, oc->drv_name, o->name);
        bool ok = nc_make_fixed_output_path(&want, p->store_dir, o->method, &o->hash, nc_str_n(pn.data, pn.len),
                                            NULL, &e2);
        if (ok && !nc_str_eq(nc_str_n(want.data, want.len), path)) {
            ut_err_set(p->e, "derivation ATerm: at byte %zu: fixed output '%s' has path '%s' but its hash gives '%s'",
                       path_at, o->name.s, path.s, want.data);
            ok = false;
        } else if (!ok) {
            ut_err_set(p->e, "derivation ATerm: at byte %zu: %s", path_at, e2.msg);
            ut_err_clear(&e2);
        }
        ut_buf_free(&want);
        ut_buf_free(&pn);
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_node(aparse *p, nc_drv_input_node *node, bool versioned, unsigned depth)
{
    /* Dynamic derivation chains are a handful deep; a bound keeps hostile
     * input from exhausting the stack. */
    if (depth > 64)
        return perr(p, "input derivation outputs nested too deeply");
    if (!versioned || peek(p) == '[')
        return parse_strings(p, &node->outputs, &node->noutputs, elem_raw);
    if (peek(p) != '(')
        return perr(p, "invalid inputDrvs entry in derivation");
    p->pos++;
    if (!parse_strings(p, &node->outputs, &node->noutputs, elem_raw) || !expect(p, ","))
        return false;
    vec v = {NULL, 0, 0, sizeof(nc_drv_input_child)};
    if (!expect(p, "["))
        return false;
    if (peek(p) == ']') {
        p->pos++;
    } else {
        for (;;) {
            nc_drv_input_child *c = vec_push(&v);
            if (!expect(p, "(") || !parse_raw(p, &c->name) || !expect(p, ",") ||
                !parse_node(p, &c->node, true, depth + 1) || !expect(p, ")")) {
                free(v.data);
                return false;
            }
            int ch = peek(p);
            p->pos++;
            if (ch == ']')
                break;
            if (ch != ',') {
                p->pos--;
                free(v.data);
                return perr(p, "expected ',' or ']'");
            }
        }
    }
    node->children = vec_to_arena(&v, p->a, &node->nchildren);
    return expect(p, ")");
}

typedef struct inctx {
    vec v;
    bool versioned;
} inctx;

static bool elem_input(aparse *p, void *ctx)
{
    inctx *ic = ctx;
    nc_drv_input *in = vec_push(&ic->v);
    if (!expect(p, "("))
        return false;
    size_t at = p->pos;
    if (!parse_string(p, &in->path) || !check_store_path(p, at, in->path) || !expect(p, ","))
        return false;
    return parse_node(p, &in->node, ic->versioned, 0) && expect(p, ")");
}

static bool elem_env(aparse *p, void *ctx)
{
    nc_drv_env *kv = vec_push(ctx);
    return expect(p, "(") && parse_string(p, &kv->key) && expect(p, ",") && parse_string(p, &kv->value) &&
           expect(p, ")");
}

nc_derivation *nc_drv_parse(const char *data, size_t len, const char *store_dir, nc_str name, ut_err *e)
{
    nc_derivation *d = nc_drv_new(name);
    aparse p = {data, len, 0, d->arena, store_dir, e};
    bool versioned = false;
    outctx oc = {{NULL, 0, 0, sizeof(nc_drv_output)}, d->name};
    inctx ic = {{NULL, 0, 0, sizeof(nc_drv_input)}, false};
    vec args = {NULL, 0, 0, sizeof(nc_str)};
    vec env = {NULL, 0, 0, sizeof(nc_drv_env)};

    if (len >= 7 && memcmp(data, "Derive(", 7) == 0) {
        p.pos = 7;
    } else if (len >= 15 && memcmp(data, "DrvWithVersion(", 15) == 0) {
        p.pos = 15;
        nc_str ver;
        size_t at = p.pos;
        if (!parse_string(&p, &ver))
            goto fail;
        if (!str_is(ver, "xp-dyn-drv")) {
            p.pos = at;
            ut_err_set(e, "derivation ATerm: at byte %zu: unknown derivation ATerm format version '%s'", at, ver.s);
            goto fail;
        }
        if (!expect(&p, ","))
            goto fail;
        versioned = true;
    } else {
        perr(&p, "derivation does not start with 'Derive' or 'DrvWithVersion'");
        goto fail;
    }
    ic.versioned = versioned;
    if (!parse_list(&p, elem_output, &oc))
        goto fail;
    d->outputs = vec_to_arena(&oc.v, d->arena, &d->noutputs);
    if (!expect(&p, ",") || !parse_list(&p, elem_input, &ic))
        goto fail;
    d->inputs = vec_to_arena(&ic.v, d->arena, &d->ninputs);
    if (!expect(&p, ",") || !parse_strings(&p, &d->srcs, &d->nsrcs, elem_path))
        goto fail;
    if (!expect(&p, ",") || !parse_raw(&p, &d->platform))
        goto fail;
    if (!expect(&p, ",") || !parse_string(&p, &d->builder))
        goto fail;
    if (!expect(&p, ",") || !parse_list(&p, elem_string, &args))
        goto fail;
    d->args = vec_to_arena(&args, d->arena, &d->nargs);
    if (!expect(&p, ",") || !parse_list(&p, elem_env, &env))
        goto fail;
    d->env = vec_to_arena(&env, d->arena, &d->nenv);
    if (!expect(&p, ")"))
        goto fail;
    if (p.pos != len) {
        perr(&p, "trailing bytes after the derivation");
        goto fail;
    }
    /* Nix keeps outputs in a map filled with emplace: the first of two equal
     * names wins. Everything else is insert_or_assign / operator[]: the last. */
    nc_stable_sort(d->outputs, d->noutputs, sizeof *d->outputs, cmp_output);
    d->noutputs = dedupe(d->outputs, d->noutputs, sizeof *d->outputs, cmp_output, false);
    nc_stable_sort(d->inputs, d->ninputs, sizeof *d->inputs, cmp_input);
    d->ninputs = dedupe(d->inputs, d->ninputs, sizeof *d->inputs, cmp_input, true);
    for (size_t i = 0; i < d->ninputs; i++)
        nc_drv_node_normalize(d->arena, &d->inputs[i].node, false);
    d->nsrcs = nc_str_set_normalize(d->srcs, d->nsrcs);
    nc_stable_sort(d->env, d->nenv, sizeof *d->env, cmp_env);
    d->nenv = dedupe(d->env, d->nenv, sizeof *d->env, cmp_env, true);
    return d;

fail:
    free(oc.v.data);
    free(ic.v.data);
    free(args.data);
    free(env.data);
    nc_drv_free(d);
    return NULL;
}

/* ---- ATerm printer ---------------------------------------------------------- */

/* The escape letter of each byte the ATerm writer escapes (Nix escapes
 * exactly these five), 0 for bytes copied as they are. */
static const char esc_letter[256] = {['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};

/* The first index >= i of a byte needing an escape, or n. Environment
 * values are mostly long shell scripts with an escape every few dozen
 * bytes, so the scan is what costs: 16 bytes per step where SSE2 exists
 * (every x86-64). */
static size_t next_escape(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), nl = _mm_set1_epi8('\n'),
                  cr = _mm_set1_epi8('\r'), tab = _mm_set1_epi8('\t');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                 _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)),
                                              _mm_cmpeq_epi8(v, tab)));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
#endif
    while (i < n && !esc_letter[(unsigned char)s[i]])
        i++;
    return i;
}

/* Writes s quoted and escaped at o, which has room for 2 * s.len + 2
 * bytes; returns the new end. */
static char *escape_at(char *o, nc_str s)
{
    *o++ = '"';
    size_t i = 0;
    for (;;) {
        size_t j = next_escape(s.s, i, s.len);
        if (j > i) {
            memcpy(o, s.s + i, j - i);
            o += j - i;
        }
        if (j >= s.len)
            break;
        *o++ = '\\';
        *o++ = esc_letter[(unsigned char)s.s[j]];
        i = j + 1;
    }
    *o++ = '"';
    return o;
}

static void put_escaped(ut_buf *b, nc_str s)
{
    ut_buf_reserve(b, s.len * 2 + 2);
    char *o = escape_at(b->data + b->len, s);
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

/* One environment entry, `("key","value")` after a comma unless first,
 * with a single reservation: most entries are short, and the per-byte
 * buffer calls would cost more than the escaping. */
static void put_env_entry(ut_buf *b, bool first, nc_str key, nc_str value)
{
    ut_buf_reserve(b, 2 * key.len + 2 * value.len + 8);
    char *o = b->data + b->len;
    if (!first)
        *o++ = ',';
    *o++ = '(';
    o = escape_at(o, key);
    *o++ = ',';
    o = escape_at(o, value);
    *o++ = ')';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

static void put_raw(ut_buf *b, nc_str s)
{
    ut_buf_reserve(b, s.len + 2);
    b->data[b->len++] = '"';
    if (s.len)
        memcpy(b->data + b->len, s.s, s.len);
    b->len += s.len;
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
}

static void put_raw_list(ut_buf *b, const nc_str *v, size_t n)
{
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ut_buf_putc(b, ',');
        put_raw(b, v[i]);
    }
    ut_buf_putc(b, ']');
}

static void put_node(ut_buf *b, const nc_drv_input_node *node)
{
    if (node->nchildren == 0) {
        put_raw_list(b, node->outputs, node->noutputs);
        return;
    }
    ut_buf_putc(b, '(');
    put_raw_list(b, node->outputs, node->noutputs);
    ut_buf_puts(b, ",[");
    for (size_t i = 0; i < node->nchildren; i++) {
        if (i)
            ut_buf_putc(b, ',');
        ut_buf_putc(b, '(');
        put_raw(b, node->children[i].name);
        ut_buf_putc(b, ',');
        put_node(b, &node->children[i].node);
        ut_buf_putc(b, ')');
    }
    ut_buf_puts(b, "])");
}

/* One entry of the inputs list as printed: key is a .drv path, or the hex
 * of its modulo hash when hashing. */
typedef struct pinput {
    nc_str key;
    const nc_drv_input_node *node;
} pinput;

static bool output_is_named(const nc_derivation *d, nc_str key)
{
    size_t lo = 0, hi = d->noutputs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = nc_str_cmp(d->outputs[mid].name, key);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Hashing a text needs no copy of it: with h set, print_aterm hands b's
 * bytes to h whenever a chunk has accumulated and leaves b holding at most
 * the unhashed tail (aterm_flush with all to finish). */
#define ATERM_CHUNK 16384

static void aterm_flush(ut_buf *b, nc_hasher *h, bool all)
{
    if (h && (all || b->len >= ATERM_CHUNK)) {
        nc_hasher_update(h, b->data, b->len);
        ut_buf_clear(b);
    }
}

static void print_aterm(const nc_derivation *d, bool mask, const pinput *ins, size_t nins, ut_buf *b, nc_hasher *h)
{
    bool dyn = false;
    for (size_t i = 0; i < nins; i++)
        if (ins[i].node->nchildren)
            dyn = true;
    ut_buf_reserve(b, 4096);
    ut_buf_puts(b, dyn ? "DrvWithVersion(\"xp-dyn-drv\",[" : "Derive([");
    ut_buf algo = UT_BUF_INIT;
    for (size_t i = 0; i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        if (i)
            ut_buf_putc(b, ',');
        ut_buf_putc(b, '(');
        put_raw(b, o->name);
        ut_buf_putc(b, ',');
        bool has_path = o->kind == NC_OUT_INPUT_ADDRESSED || o->kind == NC_OUT_CA_FIXED;
        put_raw(b, has_path && !mask ? o->path : nc_str_n("", 0));
        ut_buf_putc(b, ',');
        ut_buf_clear(&algo);
        if (o->kind == NC_OUT_CA_FIXED || o->kind == NC_OUT_CA_FLOATING || o->kind == NC_OUT_IMPURE)
            nc_ca_print_method_algo(&algo, o->method, o->kind == NC_OUT_CA_FIXED ? o->hash.algo : o->hash_algo);
        put_raw(b, nc_str_n(algo.data ? algo.data : "", algo.len));
        ut_buf_putc(b, ',');
        if (o->kind == NC_OUT_CA_FIXED) {
            char hex[NC_HASH_STR_MAX];
            size_t n = nc_hash_print(&o->hash, NC_HASH_BASE16, false, hex);
            put_raw(b, nc_str_n(hex, n));
        } else {
            put_raw(b, o->kind == NC_OUT_IMPURE ? nc_str_c("impure") : nc_str_n("", 0));
        }
        ut_buf_putc(b, ')');
    }
    ut_buf_free(&algo);
    ut_buf_puts(b, "],[");
    for (size_t i = 0; i < nins; i++) {
        if (i)
            ut_buf_putc(b, ',');
        ut_buf_putc(b, '(');
        put_raw(b, ins[i].key);
        ut_buf_putc(b, ',');
        put_node(b, ins[i].node);
        ut_buf_putc(b, ')');
        aterm_flush(b, h, false);
    }
    ut_buf_puts(b, "],");
    put_raw_list(b, d->srcs, d->nsrcs);
    ut_buf_putc(b, ',');
    put_raw(b, d->platform);
    ut_buf_putc(b, ',');
    put_escaped(b, d->builder);
    ut_buf_puts(b, ",[");
    for (size_t i = 0; i < d->nargs; i++) {
        ut_buf_reserve(b, 2 * d->args[i].len + 3);
        char *o = b->data + b->len;
        if (i)
            *o++ = ',';
        o = escape_at(o, d->args[i]);
        b->len = (size_t)(o - b->data);
        b->data[b->len] = '\0';
        aterm_flush(b, h, false);
    }
    ut_buf_puts(b, "],[");
    for (size_t i = 0; i < d->nenv; i++) {
        put_env_entry(b, i == 0, d->env[i].key,
                      mask && output_is_named(d, d->env[i].key) ? nc_str_n("", 0) : d->env[i].value);
        aterm_flush(b, h, false);
    }
    ut_buf_puts(b, "])");
    aterm_flush(b, h, true);
}

/* The sha256 of the ATerm, streamed. */
static void hash_aterm(const nc_derivation *d, bool mask, const pinput *ins, size_t nins, nc_hash *out)
{
    nc_hasher *h = nc_hasher_new(NC_HASH_SHA256);
    ut_buf b = UT_BUF_INIT;
    print_aterm(d, mask, ins, nins, &b, h);
    ut_buf_free(&b);
    nc_hasher_finish(h, out);
}

void nc_drv_print(const nc_derivation *d, ut_buf *out)
{
    pinput stackv[64] = {{{NULL, 0}, NULL}};
    pinput *ins = d->ninputs <= 64 ? stackv : ut_xmalloc(d->ninputs * sizeof *ins);
    for (size_t i = 0; i < d->ninputs; i++) {
        ins[i].key = d->inputs[i].path;
        ins[i].node = &d->inputs[i].node;
    }
    print_aterm(d, false, ins, d->ninputs, out, NULL);
    if (ins != stackv)
        free(ins);
}

/* ---- type ----------------------------------------------------------------- */

bool nc_drv_type_of(const nc_derivation *d, nc_drv_type *out, ut_err *e)
{
    size_t count[5] = {0};
    const nc_drv_output *first_fixed = NULL;
    bool have_float_algo = false;
    nc_hash_algo float_algo = NC_HASH_SHA256;
    for (size_t i = 0; i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        count[o->kind]++;
        if (o->kind == NC_OUT_CA_FIXED && !first_fixed)
            first_fixed = o;
        if (o->kind == NC_OUT_CA_FLOATING) {
            if (!have_float_algo) {
                float_algo = o->hash_algo;
                have_float_algo = true;
            } else if (float_algo != o->hash_algo) {
                return ut_err_set(e, "all floating outputs must use the same hash type");
            }
        }
    }
    if (d->noutputs == 0)
        return ut_err_set(e, "must have at least one output");
    static const nc_drv_type of_kind[5] = {
        [NC_OUT_INPUT_ADDRESSED] = NC_DRV_INPUT_ADDRESSED, [NC_OUT_CA_FIXED] = NC_DRV_CA_FIXED,
        [NC_OUT_CA_FLOATING] = NC_DRV_CA_FLOATING,         [NC_OUT_DEFERRED] = NC_DRV_DEFERRED,
        [NC_OUT_IMPURE] = NC_DRV_IMPURE,
    };
    for (int k = 0; k < 5; k++) {
        if (count[k] != d->noutputs)
            continue;
        if (k == NC_OUT_CA_FIXED) {
            if (count[k] > 1)
                return ut_err_set(e, "only one fixed output is allowed for now");
            if (!str_is(first_fixed->name, "out"))
                return ut_err_set(e, "single fixed output must be named \"out\"");
        }
        *out = of_kind[k];
        return true;
    }
    return ut_err_set(e, "can't mix derivation output types");
}

/* ---- hashDerivationModulo ---------------------------------------------------- */

bool nc_drv_hash_output(const nc_drv_hash *h, nc_str output_name, nc_str drv_name, nc_hash *out, ut_err *e)
{
    if (h->fixed && !str_is(output_name, "out"))
        return ut_err_set(e, "no hash for output '%.*s' of derivation '%.*s'", (int)output_name.len, output_name.s,
                          (int)drv_name.len, drv_name.s);
    *out = h->hash;
    return true;
}

static int cmp_pinput(const void *a, const void *b)
{
    return nc_str_cmp(((const pinput *)a)->key, ((const pinput *)b)->key);
}

/* Builds the "actual inputs" of hashDerivationModulo: each input drv path
 * replaced by the hex of its modulo hash, entries with equal hashes merged.
 * Allocates in tmp. Sets *deferred if any input is deferred. */
static bool modulo_inputs(const nc_derivation *d, nc_drv_hash_lookup lookup, void *ctx, ut_arena *tmp, pinput **out,
                          size_t *nout, bool *deferred, ut_err *e)
{
    pinput *ins = ut_arena_alloc(tmp, (d->ninputs ? d->ninputs : 1) * sizeof *ins);
    for (size_t i = 0; i < d->ninputs; i++) {
        const nc_drv_input *in = &d->inputs[i];
        nc_drv_hash h;
        if (!lookup)
            return ut_err_set(e, "no way to look up input derivation '%s'", in->path.s);
        if (!lookup(ctx, in->path, &h, e))
            return false;
        if (h.deferred)
            *deferred = true;
        for (size_t k = 0; k < in->node.noutputs; k++) {
            nc_hash oh;
            if (!nc_drv_hash_output(&h, in->node.outputs[k], d->name, &oh, e))
                return false;
        }
        char hex[NC_HASH_STR_MAX];
        size_t n = nc_hash_print(&h.hash, NC_HASH_BASE16, false, hex);
        ins[i].key = arena_str(tmp, hex, n);
        ins[i].node = &in->node;
    }
    nc_stable_sort(ins, d->ninputs, sizeof *ins, cmp_pinput);
    /* Merge runs with the same key: union of their output sets (and of
     * their dynamic children). */
    size_t o = 0;
    for (size_t i = 0; i < d->ninputs;) {
        size_t j = i + 1;
        while (j < d->ninputs && nc_str_eq(ins[j].key, ins[i].key))
            j++;
        pinput pi = ins[i];
        if (j - i > 1) {
            nc_drv_input_node *m = ut_arena_alloc(tmp, sizeof *m);
            const nc_drv_input_node **run = ut_arena_alloc(tmp, (j - i) * sizeof *run);
            for (size_t k = i; k < j; k++)
                run[k - i] = ins[k].node;
            node_union(tmp, run, j - i, m);
            pi.node = m;
        }
        ins[o++] = pi;
        i = j;
    }
    *out = ins;
    *nout = o;
    return true;
}

static bool fixed_path_of(const nc_derivation *d, const char *store_dir, const nc_drv_output *o, ut_buf *out,
                          ut_err *e)
{
    if (d->name.len == 0) {
        /* Without a name the stated path is all there is. */
        ut_buf_append(out, o->path.s, o->path.len);
        return true;
    }
    ut_buf pn = UT_BUF_INIT;
    nc_output_path_name(&pn, d->name, o->name);
    bool ok = nc_make_fixed_output_path(out, store_dir, o->method, &o->hash, nc_str_n(pn.data, pn.len), NULL, e);
    ut_buf_free(&pn);
    return ok;
}

/* The modulo inputs of one derivation, computed on first use and shared by
 * the masked and the unmasked hash (the lookups, hex printing and sorting
 * are the same for both). */
typedef struct modins {
    ut_arena *tmp;
    pinput *ins;
    size_t n;
    bool deferred;      /* some input is deferred */
} modins;

static bool modins_get(const nc_derivation *d, nc_drv_hash_lookup lookup, void *ctx, modins *m, ut_err *e)
{
    if (m->tmp)
        return true;
    m->tmp = ut_arena_new();
    m->deferred = false;
    if (modulo_inputs(d, lookup, ctx, m->tmp, &m->ins, &m->n, &m->deferred, e))
        return true;
    ut_arena_free(m->tmp);
    m->tmp = NULL;
    return false;
}

static void modins_free(modins *m)
{
    ut_arena_free(m->tmp);
    m->tmp = NULL;
}

/* Fixed-output and impure derivations hash without their inputs; true with
 * *done set when d is one of those. */
static bool hash_modulo_special(const nc_derivation *d, const char *store_dir, nc_drv_type type, nc_drv_hash *out,
                                bool *done, ut_err *e)
{
    *done = false;
    memset(out, 0, sizeof *out);
    if (type == NC_DRV_CA_FIXED) {
        *done = true;
        const nc_drv_output *o = &d->outputs[0];
        ut_buf s = UT_BUF_INIT;
        ut_buf_puts(&s, "fixed:out:");
        nc_ca_print_method_algo(&s, o->method, o->hash.algo);
        ut_buf_putc(&s, ':');
        nc_hash_append(&s, &o->hash, NC_HASH_BASE16, false);
        ut_buf_putc(&s, ':');
        bool ok = fixed_path_of(d, store_dir, o, &s, e);
        if (ok)
            nc_hash_bytes(NC_HASH_SHA256, s.data, s.len, &out->hash);
        ut_buf_free(&s);
        out->fixed = true;
        return ok;
    }
    if (type == NC_DRV_IMPURE) {
        *done = true;
        nc_hash_bytes(NC_HASH_SHA256, "impure", 6, &out->hash);
        out->deferred = true;
    }
    return true;
}

static bool hash_modulo_with(const nc_derivation *d, const char *store_dir, bool mask, nc_drv_hash_lookup lookup,
                             void *ctx, modins *m, nc_drv_hash *out, ut_err *e)
{
    nc_drv_type type;
    if (!nc_drv_type_of(d, &type, e))
        return ut_err_wrap(e, "derivation '%.*s'", (int)d->name.len, d->name.s);
    bool done;
    bool ok = hash_modulo_special(d, store_dir, type, out, &done, e);
    if (!ok || done)
        return ok;
    if (!modins_get(d, lookup, ctx, m, e))
        return false;
    hash_aterm(d, mask, m->ins, m->n, &out->hash);
    out->deferred = type == NC_DRV_CA_FLOATING || m->deferred;
    return true;
}

bool nc_drv_hash_modulo(const nc_derivation *d, const char *store_dir, bool mask_outputs, nc_drv_hash_lookup lookup,
                        void *ctx, nc_drv_hash *out, ut_err *e)
{
    modins m = {0};
    bool ok = hash_modulo_with(d, store_dir, mask_outputs, lookup, ctx, &m, out, e);
    modins_free(&m);
    return ok;
}

bool nc_drv_print_modulo(const nc_derivation *d, const char *store_dir, bool mask_outputs, nc_drv_hash_lookup lookup,
                         void *ctx, ut_buf *out, ut_err *e)
{
    (void)store_dir;
    nc_drv_type type;
    if (!nc_drv_type_of(d, &type, e))
        return ut_err_wrap(e, "derivation '%.*s'", (int)d->name.len, d->name.s);
    modins m = {0};
    bool ok = modins_get(d, lookup, ctx, &m, e);
    if (ok)
        print_aterm(d, mask_outputs, m.ins, m.n, out, NULL);
    modins_free(&m);
    return ok;
}

/* ---- output paths ---------------------------------------------------------- */

bool nc_drv_output_path(const nc_derivation *d, const char *store_dir, const nc_drv_output *o,
                        const nc_drv_hash *mask_hash, ut_buf *out, ut_err *e)
{
    switch (o->kind) {
    case NC_OUT_CA_FIXED: {
        ut_buf pn = UT_BUF_INIT;
        nc_output_path_name(&pn, d->name, o->name);
        bool ok = nc_make_fixed_output_path(out, store_dir, o->method, &o->hash, nc_str_n(pn.data, pn.len), NULL, e);
        ut_buf_free(&pn);
        return ok;
    }
    case NC_OUT_INPUT_ADDRESSED:
    case NC_OUT_DEFERRED: {
        if (!mask_hash)
            return ut_err_set(e, "output '%s' of '%s' needs the derivation's hash", o->name.s, d->name.s);
        if (mask_hash->deferred)
            return ut_err_set(e, "output '%s' of '%s' has no path before its inputs are built", o->name.s,
                              d->name.s);
        nc_hash h;
        if (!nc_drv_hash_output(mask_hash, o->name, d->name, &h, e))
            return false;
        nc_make_output_path(out, store_dir, o->name, &h, d->name);
        return true;
    }
    case NC_OUT_CA_FLOATING:
    case NC_OUT_IMPURE:
        break;
    }
    return ut_err_set(e, "output '%s' of '%s' is content-addressed and has no path before it is built", o->name.s,
                      d->name.s);
}

/* Sets key in the (sorted) environment: a binary search, then the value
 * replaced or the entry inserted in place. */
static void env_set(nc_derivation *d, nc_str key, nc_str value)
{
    size_t lo = 0, hi = d->nenv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = nc_str_cmp(d->env[mid].key, key);
        if (c == 0) {
            d->env[mid].value = nc_drv_strdup(d, value);
            return;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    d->env = grow(d->arena, d->env, d->nenv, &d->cap_env, sizeof *d->env);
    memmove(&d->env[lo + 1], &d->env[lo], (d->nenv - lo) * sizeof *d->env);
    d->env[lo].key = nc_drv_strdup(d, key);
    d->env[lo].value = nc_drv_strdup(d, value);
    d->nenv++;
}

static bool fill_outputs(nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx, modins *m,
                         ut_err *e)
{
    nc_drv_normalize(d);
    bool any_ia = false;
    ut_buf b = UT_BUF_INIT;
    for (size_t i = 0; i < d->noutputs; i++) {
        nc_drv_output *o = &d->outputs[i];
        ut_buf_clear(&b);
        switch (o->kind) {
        case NC_OUT_CA_FIXED:
            if (!nc_drv_output_path(d, store_dir, o, NULL, &b, e)) {
                ut_buf_free(&b);
                return false;
            }
            o->path = nc_drv_strdup(d, nc_str_n(b.data, b.len));
            env_set(d, o->name, o->path);
            break;
        case NC_OUT_CA_FLOATING:
        case NC_OUT_IMPURE:
            o->path = nc_str_n("", 0);
            nc_hash_placeholder(&b, o->name);
            env_set(d, o->name, nc_str_n(b.data, b.len));
            break;
        case NC_OUT_INPUT_ADDRESSED:
        case NC_OUT_DEFERRED:
            o->kind = NC_OUT_DEFERRED;
            o->path = nc_str_n("", 0);
            env_set(d, o->name, nc_str_n("", 0));
            any_ia = true;
            break;
        }
    }
    if (any_ia) {
        nc_drv_hash h;
        if (!hash_modulo_with(d, store_dir, true, lookup, ctx, m, &h, e)) {
            ut_buf_free(&b);
            return false;
        }
        if (!h.deferred) {
            for (size_t i = 0; i < d->noutputs; i++) {
                nc_drv_output *o = &d->outputs[i];
                if (o->kind != NC_OUT_DEFERRED)
                    continue;
                ut_buf_clear(&b);
                if (!nc_drv_output_path(d, store_dir, o, &h, &b, e)) {
                    ut_buf_free(&b);
                    return false;
                }
                o->kind = NC_OUT_INPUT_ADDRESSED;
                o->path = nc_drv_strdup(d, nc_str_n(b.data, b.len));
                env_set(d, o->name, o->path);
            }
        }
    }
    ut_buf_free(&b);
    return true;
}

bool nc_drv_fill_outputs(nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx, ut_err *e)
{
    modins m = {0};
    bool ok = fill_outputs(d, store_dir, lookup, ctx, &m, e);
    modins_free(&m);
    return ok;
}

static const nc_drv_env *env_get(const nc_derivation *d, nc_str key)
{
    size_t lo = 0, hi = d->nenv;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = nc_str_cmp(d->env[mid].key, key);
        if (c == 0)
            return &d->env[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool nc_drv_check_invariants(const nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx,
                             ut_err *e)
{
    nc_drv_type type;
    if (!nc_drv_type_of(d, &type, e))
        return ut_err_wrap(e, "derivation '%s'", d->name.s);
    bool need_hash = type == NC_DRV_INPUT_ADDRESSED || type == NC_DRV_DEFERRED;
    nc_drv_hash h = {{NC_HASH_SHA256, {0}}, false, false};
    if (need_hash && !nc_drv_hash_modulo(d, store_dir, true, lookup, ctx, &h, e))
        return false;
    ut_buf want = UT_BUF_INIT;
    bool ok = true;
    for (size_t i = 0; ok && i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        ut_buf_clear(&want);
        switch (o->kind) {
        case NC_OUT_INPUT_ADDRESSED:
            if (h.deferred) {
                ok = ut_err_set(e, "derivation '%s' has incorrect output '%s', should be deferred", d->name.s,
                                o->name.s);
                break;
            }
            ok = nc_drv_output_path(d, store_dir, o, &h, &want, e);
            if (ok && !nc_str_eq(nc_str_n(want.data, want.len), o->path))
                ok = ut_err_set(e, "derivation '%s' has incorrect output '%s', should be '%s'", d->name.s, o->path.s,
                                want.data);
            break;
        case NC_OUT_DEFERRED:
            if (!h.deferred) {
                ok = nc_drv_output_path(d, store_dir, o, &h, &want, e);
                if (ok)
                    ok = ut_err_set(e, "derivation '%s' has incorrect deferred output, should be '%s'", d->name.s,
                                    want.data);
            }
            break;
        case NC_OUT_CA_FIXED:
            ok = nc_drv_output_path(d, store_dir, o, NULL, &want, e);
            if (ok && !nc_str_eq(nc_str_n(want.data, want.len), o->path))
                ok = ut_err_set(e, "derivation '%s' has incorrect output '%s', should be '%s'", d->name.s, o->path.s,
                                want.data);
            break;
        case NC_OUT_CA_FLOATING:
        case NC_OUT_IMPURE:
            break;
        }
        if (ok && want.len) {
            const nc_drv_env *ev = env_get(d, o->name);
            if (!ev || !nc_str_eq(ev->value, nc_str_n(want.data, want.len)))
                ok = ut_err_set(e, "derivation '%s' has incorrect env var '%s' for output '%s', should be '%s'",
                                d->name.s, ev ? ev->value.s : "", o->name.s, want.data);
        }
    }
    ut_buf_free(&want);
    return ok;
}

/* The .drv path from the sha256 of its text: a text path whose references
 * are the input sources and input derivations. */
static bool store_path_of(const nc_derivation *d, const char *store_dir, const nc_hash *h, ut_buf *out, ut_err *e)
{
    ut_buf name = UT_BUF_INIT;
    size_t n = d->nsrcs + d->ninputs;
    nc_str *refs = ut_xmalloc((n ? n : 1) * sizeof *refs);
    if (d->nsrcs)
        memcpy(refs, d->srcs, d->nsrcs * sizeof *refs);
    for (size_t i = 0; i < d->ninputs; i++)
        refs[d->nsrcs + i] = d->inputs[i].path;
    nc_refs r = {refs, n, false};
    ut_buf_append(&name, d->name.s, d->name.len);
    ut_buf_puts(&name, ".drv");
    bool ok = nc_make_text_path(out, sd(store_dir), nc_str_n(name.data, name.len), h, &r, e);
    free(refs);
    ut_buf_free(&name);
    return ok;
}

bool nc_drv_store_path(const nc_derivation *d, const char *store_dir, ut_buf *out, ut_err *e)
{
    ut_buf text = UT_BUF_INIT;
    nc_drv_print(d, &text);
    nc_hash h;
    nc_hash_bytes(NC_HASH_SHA256, text.data, text.len, &h);
    ut_buf_free(&text);
    return store_path_of(d, store_dir, &h, out, e);
}

bool nc_drv_instantiate(nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx, ut_buf *text,
                        ut_buf *drv_path, nc_drv_hash *modulo, ut_err *e)
{
    modins m = {0};
    bool ok = fill_outputs(d, store_dir, lookup, ctx, &m, e);
    nc_hash th;
    if (ok) {
        if (text) {
            size_t at = text->len;
            nc_drv_print(d, text);
            nc_hash_bytes(NC_HASH_SHA256, text->data + at, text->len - at, &th);
        } else {
            pinput stackv[64];
            pinput *ins = d->ninputs <= 64 ? stackv : ut_xmalloc(d->ninputs * sizeof *ins);
            for (size_t i = 0; i < d->ninputs; i++) {
                ins[i].key = d->inputs[i].path;
                ins[i].node = &d->inputs[i].node;
            }
            hash_aterm(d, false, ins, d->ninputs, &th);
            if (ins != stackv)
                free(ins);
        }
        ok = store_path_of(d, store_dir, &th, drv_path, e);
    }
    nc_drv_type type = NC_DRV_INPUT_ADDRESSED;
    if (ok && !nc_drv_type_of(d, &type, e))
        ok = ut_err_wrap(e, "derivation '%.*s'", (int)d->name.len, d->name.s);
    if (ok && d->ninputs == 0 && type != NC_DRV_CA_FIXED && type != NC_DRV_IMPURE) {
        /* Without input derivations there is nothing to replace: the text
         * hashed modulo is the .drv text itself. */
        memset(modulo, 0, sizeof *modulo);
        modulo->hash = th;
        modulo->deferred = type == NC_DRV_CA_FLOATING;
    } else if (ok) {
        ok = hash_modulo_with(d, store_dir, false, lookup, ctx, &m, modulo, e);
    }
    modins_free(&m);
    return ok;
}
