/* The JSON forms of a derivation. */
#include "compat/derivation.h"

#include "compat/drv_internal.h"

#include <jansson.h>
#include <stdlib.h>

/* ---- Nix 2.8 `show-derivation` ---------------------------------------------- */

void nc_json_string_v28(ut_buf *b, nc_str s)
{
    static const char hex[] = "0123456789abcdef";
    ut_buf_reserve(b, s.len + 2);
    ut_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 32) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
            esc = u;
        }
        if (esc) {
            ut_buf_append(b, s.s + i - run, run);
            run = 0;
            ut_buf_puts(b, esc);
        } else {
            run++;
        }
    }
    ut_buf_append(b, s.s + s.len - run, run);
    ut_buf_putc(b, '"');
}

static void nl(ut_buf *b, int level)
{
    ut_buf_putc(b, '\n');
    for (int i = 0; i < level; i++)
        ut_buf_puts(b, "  ");
}

static void key(ut_buf *b, int level, bool *first, nc_str k)
{
    if (!*first)
        ut_buf_putc(b, ',');
    *first = false;
    nl(b, level);
    nc_json_string_v28(b, k);
    ut_buf_puts(b, ": ");
}

static void str_list(ut_buf *b, int level, const nc_str *v, size_t n)
{
    if (n == 0) {
        ut_buf_puts(b, "[]");
        return;
    }
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ut_buf_putc(b, ',');
        nl(b, level + 1);
        nc_json_string_v28(b, v[i]);
    }
    nl(b, level);
    ut_buf_putc(b, ']');
}

void nc_drv_json_v28(const nc_derivation *d, int L, ut_buf *b)
{
    bool first = true, f2;
    ut_buf tmp = UT_BUF_INIT;
    ut_buf_putc(b, '{');

    key(b, L + 1, &first, nc_str_c("outputs"));
    if (d->noutputs == 0) {
        ut_buf_puts(b, "{}");
    } else {
        ut_buf_putc(b, '{');
        f2 = true;
        for (size_t i = 0; i < d->noutputs; i++) {
            const nc_drv_output *o = &d->outputs[i];
            key(b, L + 2, &f2, o->name);
            bool f3 = true;
            bool any = o->path.len || o->kind == NC_OUT_CA_FIXED || o->kind == NC_OUT_CA_FLOATING ||
                       o->kind == NC_OUT_IMPURE;
            if (!any) {
                ut_buf_puts(b, "{}");
                continue;
            }
            ut_buf_putc(b, '{');
            if (o->path.len && (o->kind == NC_OUT_INPUT_ADDRESSED || o->kind == NC_OUT_CA_FIXED)) {
                key(b, L + 3, &f3, nc_str_c("path"));
                nc_json_string_v28(b, o->path);
            }
            if (o->kind == NC_OUT_CA_FIXED || o->kind == NC_OUT_CA_FLOATING || o->kind == NC_OUT_IMPURE) {
                ut_buf_clear(&tmp);
                nc_ca_print_method_algo(&tmp, o->method, o->kind == NC_OUT_CA_FIXED ? o->hash.algo : o->hash_algo);
                key(b, L + 3, &f3, nc_str_c("hashAlgo"));
                nc_json_string_v28(b, nc_str_n(tmp.data, tmp.len));
            }
            if (o->kind == NC_OUT_CA_FIXED) {
                char hex[NC_HASH_STR_MAX];
                size_t n = nc_hash_print(&o->hash, NC_HASH_BASE16, false, hex);
                key(b, L + 3, &f3, nc_str_c("hash"));
                nc_json_string_v28(b, nc_str_n(hex, n));
            }
            if (o->kind == NC_OUT_IMPURE) {
                key(b, L + 3, &f3, nc_str_c("impure"));
                ut_buf_puts(b, "true");
            }
            nl(b, L + 2);
            ut_buf_putc(b, '}');
        }
        nl(b, L + 1);
        ut_buf_putc(b, '}');
    }

    key(b, L + 1, &first, nc_str_c("inputSrcs"));
    str_list(b, L + 1, d->srcs, d->nsrcs);

    key(b, L + 1, &first, nc_str_c("inputDrvs"));
    if (d->ninputs == 0) {
        ut_buf_puts(b, "{}");
    } else {
        ut_buf_putc(b, '{');
        f2 = true;
        for (size_t i = 0; i < d->ninputs; i++) {
            key(b, L + 2, &f2, d->inputs[i].path);
            /* 2.8 knows no dynamic derivations: the output set is all. */
            str_list(b, L + 2, d->inputs[i].node.outputs, d->inputs[i].node.noutputs);
        }
        nl(b, L + 1);
        ut_buf_putc(b, '}');
    }

    key(b, L + 1, &first, nc_str_c("system"));
    nc_json_string_v28(b, d->platform);
    key(b, L + 1, &first, nc_str_c("builder"));
    nc_json_string_v28(b, d->builder);
    key(b, L + 1, &first, nc_str_c("args"));
    str_list(b, L + 1, d->args, d->nargs);

    key(b, L + 1, &first, nc_str_c("env"));
    if (d->nenv == 0) {
        ut_buf_puts(b, "{}");
    } else {
        ut_buf_putc(b, '{');
        f2 = true;
        for (size_t i = 0; i < d->nenv; i++) {
            key(b, L + 2, &f2, d->env[i].key);
            nc_json_string_v28(b, d->env[i].value);
        }
        nl(b, L + 1);
        ut_buf_putc(b, '}');
    }
    nl(b, L);
    ut_buf_putc(b, '}');
    ut_buf_free(&tmp);
}

/* ---- current format (version 4) ------------------------------------------------- */

static json_t *jstr(nc_str s) { return json_stringn_nocheck(s.s ? s.s : "", s.len); }

static nc_str base_name(nc_str path)
{
    for (size_t i = path.len; i > 0; i--)
        if (path.s[i - 1] == '/')
            return nc_str_n(path.s + i, path.len - i);
    return path;
}

static json_t *node_to_json(const nc_drv_input_node *node)
{
    json_t *o = json_object(), *dyn = json_object(), *outs = json_array();
    for (size_t i = 0; i < node->nchildren; i++) {
        const nc_drv_input_child *c = &node->children[i];
        json_object_setn_new_nocheck(dyn, c->name.s, c->name.len, node_to_json(&c->node));
    }
    for (size_t i = 0; i < node->noutputs; i++)
        json_array_append_new(outs, jstr(node->outputs[i]));
    json_object_set_new(o, "dynamicOutputs", dyn);
    json_object_set_new(o, "outputs", outs);
    return o;
}

void *nc_drv_to_json(const nc_derivation *d)
{
    json_t *j = json_object();
    json_t *args = json_array();
    for (size_t i = 0; i < d->nargs; i++)
        json_array_append_new(args, jstr(d->args[i]));
    json_object_set_new(j, "args", args);
    json_object_set_new(j, "builder", jstr(d->builder));

    json_t *env = json_object();
    json_t *structured = NULL;
    for (size_t i = 0; i < d->nenv; i++) {
        if (nc_str_eq(d->env[i].key, nc_str_c("__json"))) {
            structured = json_loadb(d->env[i].value.s, d->env[i].value.len, JSON_DECODE_ANY, NULL);
            if (structured)
                continue;
        }
        json_object_setn_new_nocheck(env, d->env[i].key.s, d->env[i].key.len, jstr(d->env[i].value));
    }
    json_object_set_new(j, "env", env);

    json_t *inputs = json_object(), *drvs = json_object(), *srcs = json_array();
    for (size_t i = 0; i < d->ninputs; i++) {
        nc_str b = base_name(d->inputs[i].path);
        json_object_setn_new_nocheck(drvs, b.s, b.len, node_to_json(&d->inputs[i].node));
    }
    for (size_t i = 0; i < d->nsrcs; i++)
        json_array_append_new(srcs, jstr(base_name(d->srcs[i])));
    json_object_set_new(inputs, "drvs", drvs);
    json_object_set_new(inputs, "srcs", srcs);
    json_object_set_new(j, "inputs", inputs);
    json_object_set_new(j, "name", jstr(d->name));

    json_t *outs = json_object();
    for (size_t i = 0; i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        json_t *oj = json_object();
        char h[NC_HASH_STR_MAX];
        switch (o->kind) {
        case NC_OUT_INPUT_ADDRESSED:
            json_object_set_new(oj, "path", jstr(base_name(o->path)));
            break;
        case NC_OUT_CA_FIXED:
            nc_hash_print(&o->hash, NC_HASH_SRI, true, h);
            json_object_set_new(oj, "hash", json_string(h));
            json_object_set_new(oj, "method", json_string(nc_ca_method_name(o->method)));
            break;
        case NC_OUT_IMPURE:
            json_object_set_new(oj, "impure", json_true());
            /* fall through */
        case NC_OUT_CA_FLOATING:
            json_object_set_new(oj, "hashAlgo", json_string(nc_hash_algo_name(o->hash_algo)));
            json_object_set_new(oj, "method", json_string(nc_ca_method_name(o->method)));
            break;
        case NC_OUT_DEFERRED:
            break;
        }
        json_object_setn_new_nocheck(outs, o->name.s, o->name.len, oj);
    }
    json_object_set_new(j, "outputs", outs);
    if (structured)
        json_object_set_new(j, "structuredAttrs", structured);
    json_object_set_new(j, "system", jstr(d->platform));
    json_object_set_new(j, "version", json_integer(4));
    return j;
}

/* -- reading -- */

typedef struct jctx {
    nc_derivation *d;
    const char *store_dir;
    ut_err *e;
} jctx;

static bool jerr(jctx *c, const char *where, const char *what)
{
    return ut_err_set(c->e, "derivation JSON: %s: %s", where, what);
}

static bool get_str(jctx *c, const json_t *v, const char *where, nc_str *out)
{
    if (!json_is_string(v))
        return jerr(c, where, "expected a string");
    *out = nc_drv_strdup(c->d, nc_str_n(json_string_value(v), json_string_length(v)));
    return true;
}

static bool get_str_list(jctx *c, const json_t *v, const char *where, nc_str **out, size_t *n)
{
    if (!json_is_array(v))
        return jerr(c, where, "expected an array");
    size_t k = json_array_size(v);
    *out = ut_arena_alloc(c->d->arena, (k ? k : 1) * sizeof **out);
    for (size_t i = 0; i < k; i++)
        if (!get_str(c, json_array_get(v, i), where, &(*out)[i]))
            return false;
    *n = k;
    return true;
}

/* Base name in JSON -> full path, checked. */
static bool get_path(jctx *c, nc_str base, const char *where, nc_str *out)
{
    ut_err e2 = UT_ERR_INIT;
    if (!nc_store_base_parse(base, NULL, &e2)) {
        ut_err_set(c->e, "derivation JSON: %s: %s", where, e2.msg);
        ut_err_clear(&e2);
        return false;
    }
    const char *dir = c->store_dir ? c->store_dir : NC_STORE_DIR_DEFAULT;
    size_t dl = strlen(dir);
    char *s = ut_arena_alloc(c->d->arena, dl + 1 + base.len + 1);
    memcpy(s, dir, dl);
    s[dl] = '/';
    memcpy(s + dl + 1, base.s, base.len);
    *out = nc_str_n(s, dl + 1 + base.len);
    return true;
}

static bool node_from_json(jctx *c, const json_t *v, nc_drv_input_node *node, unsigned depth)
{
    if (depth > 64)
        return jerr(c, "inputs.drvs", "dynamicOutputs nested too deeply");
    if (!json_is_object(v))
        return jerr(c, "inputs.drvs", "expected an object");
    const json_t *outs = json_object_get(v, "outputs"), *dyn = json_object_get(v, "dynamicOutputs");
    if (!outs || !get_str_list(c, outs, "inputs.drvs.*.outputs", &node->outputs, &node->noutputs))
        return outs ? false : jerr(c, "inputs.drvs.*", "missing \"outputs\"");
    if (dyn) {
        if (!json_is_object(dyn))
            return jerr(c, "inputs.drvs.*.dynamicOutputs", "expected an object");
        size_t k = json_object_size(dyn), i = 0;
        node->children = ut_arena_alloc(c->d->arena, (k ? k : 1) * sizeof *node->children);
        const char *name;
        const json_t *cv;
        json_object_foreach((json_t *)dyn, name, cv) {
            node->children[i].name = nc_drv_strdup(c->d, nc_str_c(name));
            if (!node_from_json(c, cv, &node->children[i].node, depth + 1))
                return false;
            i++;
        }
        node->nchildren = i;
    }
    return true;
}

static bool output_from_json(jctx *c, const char *name, const json_t *v, nc_drv_output *o)
{
    o->name = nc_drv_strdup(c->d, nc_str_c(name));
    o->path = nc_str_n("", 0);
    if (!json_is_object(v))
        return jerr(c, "outputs", "expected an object");
    const json_t *path = json_object_get(v, "path"), *hash = json_object_get(v, "hash"),
                 *algo = json_object_get(v, "hashAlgo"), *method = json_object_get(v, "method"),
                 *impure = json_object_get(v, "impure");
    nc_str s;
    if (path) {
        if (hash || algo || method || impure)
            return jerr(c, "outputs", "an input-addressed output has only \"path\"");
        if (!get_str(c, path, "outputs.*.path", &s) || !get_path(c, s, "outputs.*.path", &o->path))
            return false;
        o->kind = NC_OUT_INPUT_ADDRESSED;
        return true;
    }
    if (!hash && !algo && !method && !impure) {
        o->kind = NC_OUT_DEFERRED;
        return true;
    }
    if (!method || !json_is_string(method) ||
        !nc_ca_method_from_name(json_string_value(method), json_string_length(method), &o->method))
        return jerr(c, "outputs.*.method", "expected \"flat\", \"nar\" or \"text\"");
    ut_err e2 = UT_ERR_INIT;
    if (hash) {
        if (algo || impure)
            return jerr(c, "outputs", "a fixed output has only \"hash\" and \"method\"");
        if (!json_is_string(hash))
            return jerr(c, "outputs.*.hash", "expected a string");
        if (!nc_hash_parse_sri(json_string_value(hash), json_string_length(hash), &o->hash, &e2)) {
            ut_err_set(c->e, "derivation JSON: outputs.*.hash: %s", e2.msg);
            ut_err_clear(&e2);
            return false;
        }
        o->hash_algo = o->hash.algo;
        o->kind = NC_OUT_CA_FIXED;
        ut_buf p = UT_BUF_INIT;
        bool ok = nc_drv_output_path(c->d, c->store_dir, o, NULL, &p, c->e);
        if (ok)
            o->path = nc_drv_strdup(c->d, nc_str_n(p.data, p.len));
        ut_buf_free(&p);
        return ok;
    }
    if (!algo || !json_is_string(algo) ||
        !nc_hash_algo_parse(json_string_value(algo), json_string_length(algo), &o->hash_algo))
        return jerr(c, "outputs.*.hashAlgo", "expected a hash algorithm name");
    if (impure && !json_is_true(impure))
        return jerr(c, "outputs.*.impure", "expected true");
    o->kind = impure ? NC_OUT_IMPURE : NC_OUT_CA_FLOATING;
    return true;
}

nc_derivation *nc_drv_from_json(const void *json, const char *store_dir, ut_err *e)
{
    const json_t *j = json;
    if (!json_is_object(j)) {
        ut_err_set(e, "derivation JSON: expected an object");
        return NULL;
    }
    const json_t *name = json_object_get(j, "name"), *ver = json_object_get(j, "version");
    if (!json_is_string(name)) {
        ut_err_set(e, "derivation JSON: missing \"name\"");
        return NULL;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != 4) {
        ut_err_set(e, "derivation JSON: unsupported \"version\" (only 4 is known)");
        return NULL;
    }
    nc_derivation *d = nc_drv_new(nc_str_n(json_string_value(name), json_string_length(name)));
    jctx c = {d, store_dir, e};
    const json_t *v;
    const char *k;

    v = json_object_get(j, "outputs");
    if (!json_is_object(v)) {
        jerr(&c, "outputs", "expected an object");
        goto fail;
    }
    d->outputs = ut_arena_alloc(d->arena, (json_object_size(v) + 1) * sizeof *d->outputs);
    const json_t *ov;
    json_object_foreach((json_t *)v, k, ov) {
        if (!output_from_json(&c, k, ov, &d->outputs[d->noutputs]))
            goto fail;
        d->noutputs++;
    }

    const json_t *inputs = json_object_get(j, "inputs");
    if (!json_is_object(inputs)) {
        jerr(&c, "inputs", "expected an object");
        goto fail;
    }
    v = json_object_get(inputs, "drvs");
    if (!json_is_object(v)) {
        jerr(&c, "inputs.drvs", "expected an object");
        goto fail;
    }
    d->inputs = ut_arena_alloc(d->arena, (json_object_size(v) + 1) * sizeof *d->inputs);
    json_object_foreach((json_t *)v, k, ov) {
        nc_drv_input *in = &d->inputs[d->ninputs];
        if (!get_path(&c, nc_str_c(k), "inputs.drvs", &in->path) || !node_from_json(&c, ov, &in->node, 0))
            goto fail;
        d->ninputs++;
    }
    v = json_object_get(inputs, "srcs");
    nc_str *srcs;
    size_t nsrcs;
    if (!v || !get_str_list(&c, v, "inputs.srcs", &srcs, &nsrcs)) {
        if (!v)
            jerr(&c, "inputs.srcs", "missing");
        goto fail;
    }
    for (size_t i = 0; i < nsrcs; i++)
        if (!get_path(&c, srcs[i], "inputs.srcs", &srcs[i]))
            goto fail;
    d->srcs = srcs;
    d->nsrcs = nsrcs;

    if (!get_str(&c, json_object_get(j, "system"), "system", &d->platform) ||
        !get_str(&c, json_object_get(j, "builder"), "builder", &d->builder))
        goto fail;
    v = json_object_get(j, "args");
    if (!v || !get_str_list(&c, v, "args", &d->args, &d->nargs)) {
        if (!v)
            jerr(&c, "args", "missing");
        goto fail;
    }
    v = json_object_get(j, "env");
    if (!json_is_object(v)) {
        jerr(&c, "env", "expected an object");
        goto fail;
    }
    const json_t *sa = json_object_get(j, "structuredAttrs");
    d->env = ut_arena_alloc(d->arena, (json_object_size(v) + 2) * sizeof *d->env);
    json_object_foreach((json_t *)v, k, ov) {
        nc_drv_env *kv = &d->env[d->nenv];
        kv->key = nc_drv_strdup(d, nc_str_c(k));
        if (!get_str(&c, ov, "env", &kv->value))
            goto fail;
        d->nenv++;
    }
    if (sa) {
        /* Nix stores structured attributes as compact JSON with sorted keys. */
        char *txt = json_dumps(sa, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!txt) {
            jerr(&c, "structuredAttrs", "cannot be serialised");
            goto fail;
        }
        d->env[d->nenv].key = nc_drv_strdup(d, nc_str_c("__json"));
        d->env[d->nenv].value = nc_drv_strdup(d, nc_str_c(txt));
        d->nenv++;
        free(txt);
    }
    nc_drv_normalize(d);
    return d;

fail:
    nc_drv_free(d);
    return NULL;
}
