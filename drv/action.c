#include "drv/action.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compat/nixbase32.h"
#include "drv/cjson.h"

/* ---- derivation attributes, as Nix's ParsedDerivation reads them ---- */

typedef struct {
    const nc_derivation *d;
    json_t *sa;                   /* parsed __json, or NULL */
    const char *drv_path;
} attrs;

static const nc_drv_env *env_get(const nc_derivation *d, const char *key)
{
    nc_str k = nc_str_c(key);
    size_t lo = 0, hi = d->nenv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = nc_str_cmp(d->env[mid].key, k);
        if (c == 0) return &d->env[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static bool attrs_open(attrs *a, const nc_derivation *d, const char *drv_path, ut_err *e)
{
    a->d = d;
    a->sa = NULL;
    a->drv_path = drv_path;
    const nc_drv_env *j = env_get(d, "__json");
    if (!j) return true;
    json_error_t je;
    a->sa = json_loadb(j->value.s, j->value.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!a->sa) return ut_err_set(e, "%s: cannot process __json attribute: %s", drv_path, je.text);
    if (!json_is_object(a->sa)) {
        json_decref(a->sa);
        a->sa = NULL;
        return ut_err_set(e, "%s: cannot process __json attribute: not a JSON object", drv_path);
    }
    return true;
}

static void attrs_close(attrs *a)
{
    json_decref(a->sa);
}

static bool get_bool(const attrs *a, const char *name, bool *out, ut_err *e)
{
    *out = false;
    if (a->sa) {
        json_t *v = json_object_get(a->sa, name);
        if (!v) return true;
        if (!json_is_boolean(v)) return ut_err_set(e, "%s: attribute '%s' must be a Boolean", a->drv_path, name);
        *out = json_is_true(v);
        return true;
    }
    const nc_drv_env *v = env_get(a->d, name);
    *out = v && v->value.len == 1 && v->value.s[0] == '1';
    return true;
}

/* Appends the words of a list attribute to set (whitespace-separated in a
 * plain derivation, a JSON list of strings under structured attributes). */
static bool get_strings(const attrs *a, const char *name, dv_strset *set, ut_err *e)
{
    if (a->sa) {
        json_t *v = json_object_get(a->sa, name);
        if (!v) return true;
        if (!json_is_array(v)) return ut_err_set(e, "%s: attribute '%s' must be a list of strings", a->drv_path, name);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x)) return ut_err_set(e, "%s: attribute '%s' must be a list of strings", a->drv_path, name);
            dv_strset_add(set, json_string_value(x));
        }
        return true;
    }
    const nc_drv_env *v = env_get(a->d, name);
    if (!v) return true;
    const char *s = v->value.s, *end = s + v->value.len;
    while (s < end) {
        while (s < end && strchr(" \t\n\r", *s) && *s) s++;
        const char *w = s;
        while (s < end && !(strchr(" \t\n\r", *s) && *s)) s++;
        if (s > w) {
            char *word = ut_xstrndup(w, (size_t)(s - w));
            dv_strset_add(set, word);
            free(word);
        }
    }
    return true;
}


/* The grade, from the attributes Nix's build reads (docs/coeffects.md). */
static bool grade_of_inner(const attrs *a, nc_drv_type type, dv_grade *g, ut_err *e)
{
    const nc_derivation *d = a->d;
    dv_grade_init(g);
    bool fixed = type == NC_DRV_CA_FIXED;
    if (fixed) {
        /* The network is granted, but only to fetch bytes with this hash. */
        nc_content_address ca = {d->outputs[0].method, d->outputs[0].hash};
        ut_buf b = UT_BUF_INIT;
        nc_ca_render(&b, &ca);
        dv_grade_add_pin(g, b.data);
        ut_buf_free(&b);
    } else if (nc_str_eq(d->builder, nc_str_c("builtin:fetchurl"))) {
        /* A download with no expected hash is an unverified one. */
        dv_grade_set_net(g, DV_NET_OPEN);
    }
    bool impure = false;
    if (!get_bool(a, "__impure", &impure, e)) return false;
    if (impure || type == NC_DRV_IMPURE) dv_grade_set_net(g, DV_NET_OPEN);
    /* Nix passes impureEnvVars through only to fixed-output and impure
     * derivations; elsewhere the attribute is inert. */
    if (fixed || impure || type == NC_DRV_IMPURE)
        if (!get_strings(a, "impureEnvVars", &g->env, e)) return false;
    dv_strset hostdeps = {0};
    if (!get_strings(a, "__impureHostDeps", &hostdeps, e)) {
        dv_strset_free(&hostdeps);
        return false;
    }
    for (size_t i = 0; i < hostdeps.n; i++) dv_grade_add_host(g, hostdeps.v[i], false);
    dv_strset_free(&hostdeps);
    if (!get_strings(a, "requiredSystemFeatures", &g->feature, e)) return false;
    for (size_t i = 0; i < g->feature.n; i++) {
        const char *f = g->feature.v[i];
        if (!strcmp(f, "kvm")) dv_strset_add(&g->device, "/dev/kvm");
        /* nixpkgs' convention (nix-required-mounts): GPU builds get the host
         * driver closure at /run/opengl-driver. */
        if (!strcmp(f, "cuda")) {
            dv_strset_add(&g->gpu, "nvidia/cuda");
            dv_grade_add_host(g, "/run/opengl-driver", false);
        }
        if (!strcmp(f, "opengl")) {
            dv_strset_add(&g->gpu, "any/opengl");
            dv_grade_add_host(g, "/run/opengl-driver", false);
        }
    }
    /* "builtin" derivations run inside the builder process on any machine. */
    if (!nc_str_eq(d->platform, nc_str_c("builtin"))) {
        char *sys = ut_xstrndup(d->platform.s, d->platform.len);
        dv_grade_set_system(g, sys);
        free(sys);
    }
    bool nochroot = false;
    if (!get_bool(a, "__noChroot", &nochroot, e)) return false;
    if (nochroot) dv_grade_set_iso(g, DV_ISO_NONE);
    const nc_drv_env *sde = env_get(d, "SOURCE_DATE_EPOCH");
    if (sde && sde->value.len && sde->value.len < 20) {
        char buf[24];
        memcpy(buf, sde->value.s, sde->value.len);
        buf[sde->value.len] = 0;
        char *end;
        errno = 0;
        long long n = strtoll(buf, &end, 10);
        if (!*end && !errno && n >= 0) dv_grade_set_epoch(g, n);
    }
    return true;
}

/* On failure g is left pure (nothing to free). */
static bool grade_of(const attrs *a, nc_drv_type type, dv_grade *g, ut_err *e)
{
    if (grade_of_inner(a, type, g, e)) return true;
    dv_grade_free(g);
    return false;
}

bool dv_drv_grade(const nc_derivation *d, dv_grade *g, ut_err *e)
{
    nc_drv_type type;
    char *name = ut_xstrndup(d->name.s, d->name.len);
    attrs a;
    bool ok = nc_drv_type_of(d, &type, e) && attrs_open(&a, d, name, e);
    if (ok) {
        ok = grade_of(&a, type, g, e);
        attrs_close(&a);
    }
    free(name);
    return ok;
}

/* ---- the build-time environment ---- */

/* Nix strings are bytes. Valid UTF-8 becomes a JSON string; anything else
 * becomes {"base64": ...}, so the action stays lossless and its JSON valid. */
static json_t *jstr(nc_str s)
{
    if (dv_utf8_valid(s.s ? s.s : "", s.len)) return json_stringn_nocheck(s.s ? s.s : "", s.len);
    char *b64 = ut_xmalloc(nc_base64_encoded_len(s.len) + 1);
    nc_base64_encode((const uint8_t *)s.s, s.len, b64);
    json_t *o = json_pack("{s:s}", "base64", b64);
    free(b64);
    return o;
}

static void shell_escape(ut_buf *b, const char *s, size_t n)
{
    ut_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') ut_buf_puts(b, "'\\''");
        else ut_buf_putc(b, s[i]);
    }
    ut_buf_putc(b, '\'');
}

static bool sh_var_name(const char *k)
{
    if (!(isalpha((unsigned char)k[0]) || k[0] == '_')) return false;
    for (const char *p = k + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_')) return false;
    return true;
}

/* The shell form of one JSON scalar, as Nix's writeStructuredAttrsShell. */
static bool sh_simple(ut_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: shell_escape(b, json_string_value(v), json_string_length(v)); return true;
    case JSON_INTEGER: ut_buf_printf(b, "%d", (int)json_integer_value(v)); return true;
    case JSON_REAL: {
        /* Nix reads the number as a float and prints it as an int only when
         * the float is integral; other numbers are not representable. Its
         * int conversion of an out-of-range value gives INT_MIN on x86-64
         * (cvttsd2si); do the same without the undefined cast. */
        double dv = json_real_value(v);
        float f = (float)dv;
        if (ceilf(f) != f) return false;
        if (dv >= -2147483648.0 && dv < 2147483648.0) ut_buf_printf(b, "%d", (int)dv);
        else ut_buf_printf(b, "%d", INT_MIN);
        return true;
    }
    case JSON_NULL: ut_buf_puts(b, "''"); return true;
    case JSON_TRUE: ut_buf_puts(b, "1"); return true;
    case JSON_FALSE: return true;
    default: return false;
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **sorted_keys(const json_t *o, size_t *n)
{
    *n = json_object_size(o);
    const char **k = ut_xmalloc((*n ? *n : 1) * sizeof *k);
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) k[i++] = key;
    qsort(k, *n, sizeof *k, key_cmp);
    return k;
}

static void attrs_sh(const json_t *j, ut_buf *out)
{
    size_t n;
    const char **keys = sorted_keys(j, &n);
    for (size_t i = 0; i < n; i++) {
        if (!sh_var_name(keys[i])) continue;
        const json_t *v = json_object_get(j, keys[i]);
        ut_buf s = UT_BUF_INIT;
        if (sh_simple(&s, v)) {
            ut_buf_printf(out, "declare %s=", keys[i]);
            ut_buf_append(out, s.data ? s.data : "", s.len);
            ut_buf_putc(out, '\n');
        } else if (json_is_array(v)) {
            bool good = true;
            for (size_t k = 0; k < json_array_size(v) && good; k++) {
                good = sh_simple(&s, json_array_get(v, k));
                ut_buf_putc(&s, ' ');
            }
            if (good) {
                ut_buf_printf(out, "declare -a %s=(", keys[i]);
                ut_buf_append(out, s.data ? s.data : "", s.len);
                ut_buf_puts(out, ")\n");
            }
        } else if (json_is_object(v)) {
            size_t m;
            const char **k2 = sorted_keys(v, &m);
            bool good = true;
            for (size_t k = 0; k < m && good; k++) {
                ut_buf_putc(&s, '[');
                shell_escape(&s, k2[k], strlen(k2[k]));
                ut_buf_puts(&s, "]=");
                good = sh_simple(&s, json_object_get(v, k2[k]));
                ut_buf_putc(&s, ' ');
            }
            free(k2);
            if (good) {
                ut_buf_printf(out, "declare -A %s=(", keys[i]);
                ut_buf_append(out, s.data ? s.data : "", s.len);
                ut_buf_puts(out, ")\n");
            }
        }
        ut_buf_free(&s);
    }
    free(keys);
}

static void output_value(const nc_drv_output *o, ut_buf *b)
{
    if (o->path.len) ut_buf_append(b, o->path.s, o->path.len);
    else nc_hash_placeholder(b, o->name);
}

/* Builds env and files as Nix's build does before starting the builder
 * (initEnv, then writeStructuredAttrs), minus what the executor supplies. */
static bool build_env(const attrs *a, nc_drv_type type, const char *store_dir, json_t *env, json_t *files,
                      json_t *deferred, ut_err *e)
{
    const nc_derivation *d = a->d;
    json_object_set_new(env, "PATH", json_string("/path-not-set"));
    json_object_set_new(env, "HOME", json_string("/homeless-shelter"));
    json_object_set_new(env, "NIX_STORE", json_string(store_dir));
    if (!a->sa) {
        dv_strset paf = {0};
        if (!get_strings(a, "passAsFile", &paf, e)) return false;
        for (size_t i = 0; i < d->nenv; i++) {
            if (!dv_utf8_valid(d->env[i].key.s, d->env[i].key.len) || memchr(d->env[i].key.s, 0, d->env[i].key.len)) {
                dv_strset_free(&paf);
                return ut_err_set(e, "%s: an environment variable name is not valid UTF-8 text", a->drv_path);
            }
            char *k = ut_xstrndup(d->env[i].key.s, d->env[i].key.len);
            if (!dv_strset_has(&paf, k)) {
                json_object_set_new(env, k, jstr(d->env[i].value));
            } else {
                unsigned char h[32];
                char n32[64];
                dv_sha256_raw(k, strlen(k), h);
                nc_nix32_encode(h, 32, n32);
                ut_buf fn = UT_BUF_INIT, var = UT_BUF_INIT;
                ut_buf_printf(&fn, DV_BUILD_DIR "/.attr-%s", n32);
                ut_buf_printf(&var, "%sPath", k);
                json_object_set_new(files, fn.data, jstr(d->env[i].value));
                json_object_set_new(env, var.data, json_string(fn.data));
                ut_buf_free(&fn);
                ut_buf_free(&var);
            }
            free(k);
        }
        dv_strset_free(&paf);
        if (env_get(d, "exportReferencesGraph")) json_array_append_new(deferred, json_string("exportReferencesGraph"));
    }
    static const char *const build_dir_vars[] = {"NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"};
    for (size_t i = 0; i < sizeof build_dir_vars / sizeof *build_dir_vars; i++)
        json_object_set_new(env, build_dir_vars[i], json_string(DV_BUILD_DIR));
    if (type == NC_DRV_CA_FIXED) json_object_set_new(env, "NIX_OUTPUT_CHECKED", json_string("1"));
    json_object_set_new(env, "NIX_LOG_FD", json_string("2"));
    json_object_set_new(env, "TERM", json_string("xterm-256color"));
    if (a->sa) {
        json_t *j = json_deep_copy(a->sa);
        json_t *outs = json_object();
        for (size_t i = 0; i < d->noutputs; i++) {
            ut_buf b = UT_BUF_INIT;
            output_value(&d->outputs[i], &b);
            char *name = ut_xstrndup(d->outputs[i].name.s, d->outputs[i].name.len);
            json_object_set_new(outs, name, json_stringn(b.data, b.len));
            free(name);
            ut_buf_free(&b);
        }
        json_object_set_new(j, "outputs", outs);
        if (json_is_object(json_object_get(j, "exportReferencesGraph")))
            json_array_append_new(deferred, json_string("exportReferencesGraph"));
        ut_buf js = UT_BUF_INIT, sh = UT_BUF_INIT;
        bool ok = dv_json_write_nix(j, &js, e);
        if (ok) {
            attrs_sh(j, &sh);
            json_object_set_new(files, DV_BUILD_DIR "/.attrs.json", json_stringn_nocheck(js.data, js.len));
            json_object_set_new(files, DV_BUILD_DIR "/.attrs.sh", json_stringn_nocheck(sh.data ? sh.data : "", sh.len));
            json_object_set_new(env, "NIX_ATTRS_SH_FILE", json_string(DV_BUILD_DIR "/.attrs.sh"));
            json_object_set_new(env, "NIX_ATTRS_JSON_FILE", json_string(DV_BUILD_DIR "/.attrs.json"));
        }
        ut_buf_free(&js);
        ut_buf_free(&sh);
        json_decref(j);
        if (!ok) return ut_err_wrap(e, "%s: __json", a->drv_path);
    }
    return true;
}

/* ---- lowering ---- */

static int json_digest_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "digest")), json_string_value(json_object_get(y, "digest")));
}

bool dv_action_lower(const nc_derivation *d, const char *drv_path, const dv_lower_ctx *lc, dv_action *out,
                     ut_err *e)
{
    memset(out, 0, sizeof *out);
    const char *store_dir = lc->store_dir ? lc->store_dir : NC_STORE_DIR_DEFAULT;
    if (!nc_drv_type_of(d, &out->type, e)) return ut_err_wrap(e, "%s", drv_path);
    out->fixed = out->type == NC_DRV_CA_FIXED;
    attrs a;
    if (!attrs_open(&a, d, drv_path, e)) return false;
    json_t *act = json_object(), *env = json_object(), *files = json_object(), *deferred = json_array();
    bool ok = grade_of(&a, out->type, &out->grade, e) && build_env(&a, out->type, store_dir, env, files, deferred, e);
    attrs_close(&a);

    json_t *args = json_array();
    for (size_t i = 0; i < d->nargs; i++) json_array_append_new(args, jstr(d->args[i]));
    json_object_set_new(act, "builder", jstr(d->builder));
    json_object_set_new(act, "args", args);
    json_object_set_new(act, "env", env);
    json_object_set_new(act, "files", files);
    if (json_array_size(deferred)) json_object_set_new(act, "deferred", deferred);
    else json_decref(deferred);

    /* Inputs by content: the input actions' digests and the sources' NAR
     * hashes, so an action digest commits to everything below it. */
    json_t *in_actions = json_array(), *in_sources = json_array();
    for (size_t i = 0; ok && i < d->ninputs; i++) {
        const nc_drv_input *in = &d->inputs[i];
        char *p = ut_xstrndup(in->path.s, in->path.len);
        if (in->node.nchildren) {
            ok = ut_err_set(e, "%s: input %s: dynamic derivation outputs are not supported", drv_path, p);
        } else {
            const char *dig = lc->input_digest(lc->ctx, p, e);
            if (!dig) ok = false;
            else {
                json_t *outs = json_array();
                for (size_t k = 0; k < in->node.noutputs; k++) json_array_append_new(outs, jstr(in->node.outputs[k]));
                json_array_append_new(in_actions, json_pack("{s:s,s:o}", "digest", dig, "outputs", outs));
            }
        }
        free(p);
    }
    if (ok && json_array_size(in_actions) > 1) {
        size_t n = json_array_size(in_actions);
        json_t **v = ut_xmalloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(in_actions, i));
        qsort(v, n, sizeof *v, json_digest_cmp);
        json_array_clear(in_actions);
        for (size_t i = 0; i < n; i++) json_array_append_new(in_actions, v[i]);
        free(v);
    }
    for (size_t i = 0; ok && i < d->nsrcs; i++) {
        char *p = ut_xstrndup(d->srcs[i].s, d->srcs[i].len);
        const char *h = lc->source_hash(lc->ctx, p, e);
        if (!h) ok = ut_err_wrap(e, "%s: input source", drv_path);
        else json_array_append_new(in_sources, json_pack("{s:s,s:s}", "path", p, "narHash", h));
        free(p);
    }
    json_object_set_new(act, "inputs", json_pack("{s:o,s:o}", "actions", in_actions, "sources", in_sources));

    json_t *outs = json_object();
    for (size_t i = 0; i < d->noutputs; i++) {
        const nc_drv_output *o = &d->outputs[i];
        json_t *jo = json_object();
        if (o->path.len) json_object_set_new(jo, "path", jstr(o->path));
        if (o->kind == NC_OUT_CA_FIXED) {
            nc_content_address ca = {o->method, o->hash};
            ut_buf b = UT_BUF_INIT;
            nc_ca_render(&b, &ca);
            json_object_set_new(jo, "ca", json_string(b.data));
            ut_buf_free(&b);
        } else if (o->kind == NC_OUT_CA_FLOATING || o->kind == NC_OUT_IMPURE) {
            ut_buf b = UT_BUF_INIT;
            nc_ca_print_method_algo(&b, o->method, o->hash_algo);
            json_object_set_new(jo, "method", json_string(b.data));
            ut_buf_free(&b);
            b.len = 0;
            nc_hash_placeholder(&b, o->name);
            json_object_set_new(jo, "placeholder", json_string(b.data));
            ut_buf_free(&b);
        }
        char *name = ut_xstrndup(o->name.s, o->name.len);
        json_object_set_new(outs, name, jo);
        free(name);
    }
    json_object_set_new(act, "outputs", outs);
    if (ok) json_object_set_new(act, "grade", dv_grade_to_json(&out->grade));
    out->json = act;
    if (ok) {
        ut_buf cj = UT_BUF_INIT;
        if (dv_cjson_write(act, &cj, e)) {
            dv_sha256_hex(cj.data, cj.len, out->digest);
            out->canonical = ut_buf_steal(&cj, &out->canonical_len);
        } else {
            ut_buf_free(&cj);
            ok = ut_err_wrap(e, "%s", drv_path);
        }
    }
    if (!ok) {
        if (!ut_err_isset(e)) ut_err_set(e, "%s: cannot lower", drv_path);
        dv_action_free(out);
    }
    return ok;
}

void dv_action_free(dv_action *a)
{
    json_decref(a->json);
    a->json = NULL;
    free(a->canonical);
    a->canonical = NULL;
    dv_grade_free(&a->grade);
}

void dv_parse_drv_name(const char *s, char **name, char **version)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && i + 1 < n && !isalpha((unsigned char)s[i + 1])) {
            *name = ut_xstrndup(s, i);
            *version = ut_xstrdup(s + i + 1);
            return;
        }
    }
    *name = ut_xstrdup(s);
    *version = ut_xstrdup("");
}
