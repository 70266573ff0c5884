#include "drv/sbom.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drv/cjson.h"

/* ---- what we know about one derivation ---- */

typedef struct {
    const dv_node *n;
    char *name, *version, *purl, *ref, *spdxid;
    json_t *meta;             /* recorded meta, or NULL */
    json_t *urls;             /* fetch URLs (array of strings) */
    char *out_hash_hex;       /* sha256 hex of the (only) output, when known */
    bool out_hash_is_nar;
    char *drv_hash_hex;       /* sha256 hex of the .drv's NAR */
    json_t *patches;          /* store paths of patches */
    bool included;
} comp;

static const nc_str *env_val(const nc_derivation *d, const char *key)
{
    nc_str k = nc_str_c(key);
    size_t lo = 0, hi = d->nenv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = nc_str_cmp(d->env[mid].key, k);
        if (c == 0) return &d->env[mid].value;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* SBOM text fields must be UTF-8; a Nix string need not be. Invalid bytes
 * become U+FFFD (these fields describe, they do not identify). */
static char *utf8_clean(char *s)
{
    if (!s || dv_utf8_valid(s, strlen(s))) return s;
    ut_buf b = UT_BUF_INIT;
    for (size_t i = 0, n = strlen(s); i < n;) {
        size_t l = 1;
        while (l <= 4 && i + l <= n && !dv_utf8_valid(s + i, l)) l++;
        if (l <= 4 && i + l <= n) {
            ut_buf_append(&b, s + i, l);
            i += l;
        } else {
            ut_buf_puts(&b, "\xef\xbf\xbd");
            i++;
        }
    }
    free(s);
    return ut_buf_steal(&b, NULL);
}

/* A string attribute, from __json when the derivation has structured attrs. */
static char *attr_string(const nc_derivation *d, json_t *sa, const char *key)
{
    if (sa) {
        const char *s = json_string_value(json_object_get(sa, key));
        return s ? ut_xstrdup(s) : NULL;
    }
    const nc_str *v = env_val(d, key);
    return v ? ut_xstrndup(v->s, v->len) : NULL;
}

/* A list attribute: a JSON list under structured attrs, else words. */
static json_t *attr_list(const nc_derivation *d, json_t *sa, const char *key)
{
    json_t *out = json_array();
    if (sa) {
        json_t *v = json_object_get(sa, key);
        if (json_is_string(v)) json_array_append(out, v);
        size_t i;
        json_t *x;
        if (json_is_array(v)) json_array_foreach(v, i, x) if (json_is_string(x)) json_array_append(out, x);
        return out;
    }
    const nc_str *v = env_val(d, key);
    if (!v) return out;
    const char *s = v->s, *end = s + v->len;
    while (s < end) {
        while (s < end && isspace((unsigned char)*s)) s++;
        const char *w = s;
        while (s < end && !isspace((unsigned char)*s)) s++;
        if (s > w) json_array_append_new(out, json_stringn(w, (size_t)(s - w)));
    }
    return out;
}

static void percent_encode(ut_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') ut_buf_putc(b, (char)c);
        else ut_buf_printf(b, "%%%02X", c);
    }
}

static char *hex_of(const char *prefixed)
{
    nc_hash h;
    ut_err e = UT_ERR_INIT;
    if (!nc_hash_parse_prefixed(prefixed, strlen(prefixed), &h, &e) || h.algo != NC_HASH_SHA256) {
        ut_err_clear(&e);
        return NULL;
    }
    char buf[NC_HASH_STR_MAX];
    nc_hash_print(&h, NC_HASH_BASE16, false, buf);
    return ut_xstrdup(buf);
}

/* Archive and patch suffixes that parseDrvName leaves in a fetched file's
 * "version" ("hello-2.12.1.tar.gz" -> "2.12.1"). */
static void strip_file_suffix(char *v)
{
    static const char *const sfx[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tar.lz", ".tgz", ".tbz2",
                                      ".txz", ".tar", ".zip", ".patch", ".diff", ".gz", ".xz", ".bz2"};
    size_t n = strlen(v);
    for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
        size_t l = strlen(sfx[i]);
        if (n > l && !strcmp(v + n - l, sfx[i])) {
            v[n - l] = 0;
            return;
        }
    }
}

static char *spdx_id(const char *path)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "SPDXRef-");
    const char *base = strrchr(path, '/');
    for (const char *p = base ? base + 1 : path; *p; p++)
        ut_buf_putc(&b, (isalnum((unsigned char)*p) || *p == '.' || *p == '-') ? *p : '-');
    return ut_buf_steal(&b, NULL);
}

static bool read_meta(const dv_graph *g, const dv_sbom_opts *o, const char *drv_path, json_t **out, ut_err *e)
{
    *out = NULL;
    ut_buf b = UT_BUF_INIT, p = UT_BUF_INIT;
    ut_err ignore = UT_ERR_INIT;
    ut_buf_printf(&p, "%s.meta.json", drv_path);
    bool found = false;
    const char *mem = o->meta ? ut_hmap_get(o->meta, drv_path, strlen(drv_path)) : NULL;
    if (mem) {
        ut_buf_puts(&b, mem);
        found = true;
    } else {
        found = dv_source_read(g->src, p.data, &b, &ignore);
    }
    ut_err_clear(&ignore);
    if (!found && o->meta_dir) {
        ut_buf_clear(&p);
        ut_buf_printf(&p, "%s/%s.meta.json", o->meta_dir, strrchr(drv_path, '/') + 1);
        b.len = 0;
        found = ut_read_file(p.data, &b, &ignore);
        ut_err_clear(&ignore);
    }
    bool ok = true;
    if (found) {
        json_error_t je;
        *out = json_loadb(b.data ? b.data : "", b.len, 0, &je);
        if (!*out) ok = ut_err_set(e, "%s:%d:%d: %s", p.data, je.line, je.column, je.text);
        else if (!json_is_object(*out)) {
            ok = ut_err_set(e, "%s: meta must be a JSON object", p.data);
            json_decref(*out);
            *out = NULL;
        }
    }
    ut_buf_free(&b);
    ut_buf_free(&p);
    return ok;
}

static bool fill_comp(const dv_graph *g, const dv_sbom_opts *o, const dv_node *n, comp *c, ut_err *e)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    const nc_derivation *d = n->drv;
    json_t *sa = NULL;
    const nc_str *js = env_val(d, "__json");
    if (js) sa = json_loadb(js->s, js->len, JSON_ALLOW_NUL, NULL);
    c->name = utf8_clean(attr_string(d, sa, "pname"));
    c->version = utf8_clean(attr_string(d, sa, "version"));
    char *dn = ut_xstrndup(d->name.s, d->name.len);
    if (!c->name || !c->version) {
        char *pn, *pv;
        dv_parse_drv_name(dn, &pn, &pv);
        if (n->action.fixed) strip_file_suffix(pv);
        if (!c->name) c->name = pn;
        else free(pn);
        if (!c->version) c->version = pv;
        else free(pv);
    }
    free(dn);
    if (n->action.fixed) {
        c->urls = attr_list(d, sa, "urls");
        if (!json_array_size(c->urls)) {
            json_decref(c->urls);
            c->urls = attr_list(d, sa, "url");
        }
        const nc_drv_output *out = &d->outputs[0];
        if (out->hash.algo == NC_HASH_SHA256 && out->method != NC_CA_TEXT) {
            char buf[NC_HASH_STR_MAX];
            nc_hash_print(&out->hash, NC_HASH_BASE16, false, buf);
            c->out_hash_hex = ut_xstrdup(buf);
            c->out_hash_is_nar = out->method == NC_CA_NAR;
        }
    } else {
        c->urls = json_array();
    }
    if (!c->out_hash_hex && d->noutputs == 1 && d->outputs[0].path.len) {
        char *op = ut_xstrndup(d->outputs[0].path.s, d->outputs[0].path.len);
        const dv_pathinfo *pi = dv_source_pathinfo(g->src, op);
        if (pi) {
            c->out_hash_hex = hex_of(pi->nar_hash);
            c->out_hash_is_nar = true;
        }
        free(op);
    }
    c->patches = attr_list(d, sa, "patches");
    json_decref(sa);
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "pkg:nix/");
    percent_encode(&b, c->name);
    if (*c->version) {
        ut_buf_putc(&b, '@');
        percent_encode(&b, c->version);
    }
    c->purl = ut_buf_steal(&b, NULL);
    c->ref = ut_xstrdup(n->drv_path);
    c->spdxid = spdx_id(n->drv_path);
    c->drv_hash_hex = hex_of(n->drv_nar_hash);
    return read_meta(g, o, n->drv_path, &c->meta, e);
}

static void comp_free(comp *c)
{
    free(c->name);
    free(c->version);
    free(c->purl);
    free(c->ref);
    free(c->spdxid);
    free(c->out_hash_hex);
    free(c->drv_hash_hex);
    json_decref(c->meta);
    json_decref(c->urls);
    json_decref(c->patches);
}

/* ---- meta accessors ---- */

static const char *meta_str(const comp *c, const char *key)
{
    return c->meta ? json_string_value(json_object_get(c->meta, key)) : NULL;
}

/* meta.homepage may be a string or a list of strings. */
static const char *meta_homepage(const comp *c)
{
    json_t *h = c->meta ? json_object_get(c->meta, "homepage") : NULL;
    if (json_is_array(h)) h = json_array_get(h, 0);
    return json_string_value(h);
}

static const char *meta_identifier(const comp *c, const char *key)
{
    const char *v = meta_str(c, key);
    if (v) return v;
    json_t *ids = c->meta ? json_object_get(c->meta, "identifiers") : NULL;
    return json_string_value(json_object_get(ids, key));
}

/* meta.license: one license or a list; each an attrset or a bare string. */
static json_t *meta_licenses(const comp *c)
{
    json_t *l = c->meta ? json_object_get(c->meta, "license") : NULL;
    json_t *out = json_array();
    if (!l) return out;
    if (!json_is_array(l)) {
        json_array_append(out, l);
        return out;
    }
    size_t i;
    json_t *x;
    json_array_foreach(l, i, x) json_array_append(out, x);
    return out;
}

static bool spdx_id_ok(const char *s)
{
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+')) return false;
    return true;
}

/* ---- the closure to describe ---- */

typedef struct {
    size_t *deps;
    size_t n;
} adj;

/* Which nodes, and which edges between them, the document describes. */
static bool select_scope(const dv_graph *g, size_t root, const dv_sbom_opts *o, bool *incl, adj *edges, ut_err *e)
{
    if (o->scope == DV_SBOM_BUILDTIME) {
        /* Everything below root, following inputDrvs. */
        size_t *stack = ut_xmalloc((g->n + 1) * sizeof *stack), sp = 0;
        stack[sp++] = root;
        incl[root] = true;
        while (sp) {
            size_t i = stack[--sp];
            for (size_t k = 0; k < g->nodes[i].ninputs; k++) {
                size_t j = g->nodes[i].inputs[k];
                edges[i].deps = ut_xrealloc(edges[i].deps, (edges[i].n + 1) * sizeof(size_t));
                edges[i].deps[edges[i].n++] = j;
                if (!incl[j]) {
                    incl[j] = true;
                    stack[sp++] = j;
                }
            }
        }
        free(stack);
        return true;
    }
    /* Runtime: the output closure by references, which only a built (or
     * substituted) output's metadata knows. */
    ut_hmap *owner = ut_hmap_new();   /* output path -> node index + 1 */
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->nodes[i].drv->noutputs; k++) {
            nc_str p = g->nodes[i].drv->outputs[k].path;
            if (p.len) ut_hmap_put(owner, p.s, p.len, (void *)(uintptr_t)(i + 1));
        }
    ut_hmap *seen = ut_hmap_new();
    char **queue = NULL;
    size_t qn = 0, qi = 0;
    bool ok = true;
    const nc_derivation *rd = g->nodes[root].drv;
    for (size_t k = 0; k < rd->noutputs; k++) {
        if (!rd->outputs[k].path.len) {
            ok = ut_err_set(e, "%s: output '%.*s' has no path before it is built; the runtime closure is unknown",
                            g->nodes[root].drv_path, (int)rd->outputs[k].name.len, rd->outputs[k].name.s);
            break;
        }
        queue = ut_xrealloc(queue, (qn + 1) * sizeof *queue);
        queue[qn++] = ut_xstrndup(rd->outputs[k].path.s, rd->outputs[k].path.len);
        ut_hmap_put(seen, rd->outputs[k].path.s, rd->outputs[k].path.len, (void *)1);
    }
    incl[root] = ok;
    while (ok && qi < qn) {
        const char *p = queue[qi++];
        const dv_pathinfo *pi = dv_source_pathinfo(g->src, p);
        if (!pi) {
            ok = ut_err_set(e, "%s: no recorded references (not built here, and --path-info does not list it); "
                               "the runtime closure needs them, or use --buildtime", p);
            break;
        }
        size_t from = (size_t)(uintptr_t)ut_hmap_get(owner, p, strlen(p));
        for (size_t r = 0; r < pi->nrefs; r++) {
            const char *q = pi->refs[r];
            size_t to = (size_t)(uintptr_t)ut_hmap_get(owner, q, strlen(q));
            if (from && to && from != to) {
                adj *a = &edges[from - 1];
                bool dup = false;
                for (size_t x = 0; x < a->n; x++) dup |= a->deps[x] == to - 1;
                if (!dup) {
                    a->deps = ut_xrealloc(a->deps, (a->n + 1) * sizeof(size_t));
                    a->deps[a->n++] = to - 1;
                }
            }
            if (to) incl[to - 1] = true;
            if (!ut_hmap_has(seen, q, strlen(q))) {
                ut_hmap_put(seen, q, strlen(q), (void *)1);
                queue = ut_xrealloc(queue, (qn + 1) * sizeof *queue);
                queue[qn++] = ut_xstrdup(q);
            }
        }
    }
    for (size_t i = 0; i < qn; i++) free(queue[i]);
    free(queue);
    ut_hmap_free(seen);
    ut_hmap_free(owner);
    return ok;
}

/* ---- CycloneDX 1.6 ---- */

static json_t *prop(const char *name, const char *value)
{
    return json_pack("{s:s,s:s}", "name", name, "value", value);
}

static char *compact(const json_t *j)
{
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (!dv_cjson_write(j, &b, &e)) {
        ut_err_clear(&e);
        ut_buf_free(&b);
        return ut_xstrdup("{}");
    }
    return ut_buf_steal(&b, NULL);
}

static void grade_props(json_t *props, const dv_node *n)
{
    json_t *g = dv_grade_to_json(&n->action.grade), *t = dv_grade_to_json(&n->taint);
    char *gs = compact(g), *ts = compact(t);
    json_array_append_new(props, prop("straylight:action_digest", n->action.digest));
    json_array_append_new(props, prop("straylight:grade", gs));
    json_array_append_new(props, prop("straylight:grade:class", dv_class_name(dv_grade_class(&n->action.grade))));
    json_array_append_new(props, prop("straylight:taint", ts));
    free(gs);
    free(ts);
    json_decref(g);
    json_decref(t);
}

/* "CVE-2024-1234" ids named in a patch file name. */
static json_t *cve_ids(const char *s)
{
    json_t *ids = json_array();
    for (const char *p = s; (p = strcasestr(p, "cve-")); p += 4) {
        const char *q = p + 4;
        size_t y = 0, d = 0;
        while (isdigit((unsigned char)q[y])) y++;
        if (y != 4 || q[4] != '-') continue;
        while (isdigit((unsigned char)q[5 + d])) d++;
        if (d < 4) continue;
        char id[64];
        snprintf(id, sizeof id, "CVE-%.4s-%.*s", q, (int)(d < 20 ? d : 20), q + 5);
        json_array_append_new(ids, json_string(id));
    }
    return ids;
}

static json_t *cdx_component(const comp *c, bool root)
{
    const dv_node *n = c->n;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(root ? "application" : n->action.fixed ? "file" : "library"));
    json_object_set_new(o, "bom-ref", json_string(c->ref));
    json_object_set_new(o, "name", json_string(c->name));
    if (*c->version) json_object_set_new(o, "version", json_string(c->version));
    const char *desc = meta_str(c, "description");
    if (desc) json_object_set_new(o, "description", json_string(desc));
    json_t *hashes = json_array();
    if (c->out_hash_hex) json_array_append_new(hashes, json_pack("{s:s,s:s}", "alg", "SHA-256", "content", c->out_hash_hex));
    if (json_array_size(hashes)) json_object_set_new(o, "hashes", hashes);
    else json_decref(hashes);
    json_t *lic = meta_licenses(c), *licenses = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(lic, i, l)
    {
        const char *id = json_string_value(json_object_get(l, "spdxId"));
        const char *name = json_is_string(l) ? json_string_value(l) : json_string_value(json_object_get(l, "fullName"));
        if (!name) name = json_string_value(json_object_get(l, "shortName"));
        json_t *entry = json_object();
        if (spdx_id_ok(id)) json_object_set_new(entry, "id", json_string(id));
        else if (name) json_object_set_new(entry, "name", json_string(name));
        else {
            json_decref(entry);
            continue;
        }
        const char *url = json_string_value(json_object_get(l, "url"));
        if (url) json_object_set_new(entry, "url", json_string(url));
        json_array_append_new(licenses, json_pack("{s:o}", "license", entry));
    }
    json_decref(lic);
    if (json_array_size(licenses)) json_object_set_new(o, "licenses", licenses);
    else json_decref(licenses);
    const char *cpe = meta_identifier(c, "cpe");
    if (cpe) json_object_set_new(o, "cpe", json_string(cpe));
    const char *purl = meta_identifier(c, "purl");
    json_object_set_new(o, "purl", json_string(purl ? purl : c->purl));
    json_t *ext = json_array();
    const char *home = meta_homepage(c);
    if (home) json_array_append_new(ext, json_pack("{s:s,s:s}", "type", "website", "url", home));
    json_t *u;
    json_array_foreach(c->urls, i, u)
    {
        json_t *r = json_pack("{s:s,s:O}", "type", "distribution", "url", u);
        if (c->out_hash_hex && !c->out_hash_is_nar)
            json_object_set_new(r, "hashes", json_pack("[{s:s,s:s}]", "alg", "SHA-256", "content", c->out_hash_hex));
        json_array_append_new(ext, r);
    }
    if (json_array_size(ext)) json_object_set_new(o, "externalReferences", ext);
    else json_decref(ext);
    /* Patches that name CVEs: the pedigree sbomnix also derives. */
    json_t *pp = json_array(), *p;
    json_array_foreach(c->patches, i, p)
    {
        json_t *ids = cve_ids(json_string_value(p));
        if (!json_array_size(ids)) {
            json_decref(ids);
            continue;
        }
        json_t *res = json_array(), *id;
        size_t k;
        json_array_foreach(ids, k, id) json_array_append_new(res, json_pack("{s:s,s:O}", "type", "security", "id", id));
        json_decref(ids);
        json_array_append_new(pp, json_pack("{s:s,s:{s:s},s:o}", "type", "unofficial", "diff", "url",
                                            json_string_value(p), "resolves", res));
    }
    if (json_array_size(pp)) json_object_set_new(o, "pedigree", json_pack("{s:o}", "patches", pp));
    else json_decref(pp);
    json_t *props = json_array();
    json_array_append_new(props, prop("nix:drv_path", n->drv_path));
    if (c->drv_hash_hex) json_array_append_new(props, prop("nix:drv_nar_sha256", c->drv_hash_hex));
    char modhex[NC_HASH_STR_MAX];
    nc_hash_print(&n->modulo.hash, NC_HASH_BASE16, false, modhex);
    json_array_append_new(props, prop("nix:drv_hash_modulo", modhex));
    for (size_t k = 0; k < n->drv->noutputs; k++) {
        const nc_drv_output *out = &n->drv->outputs[k];
        if (!out->path.len) continue;
        char *op = ut_xstrndup(out->path.s, out->path.len);
        json_array_append_new(props, prop("nix:output_path", op));
        free(op);
    }
    json_array_foreach(c->urls, i, u) json_array_append_new(props, prop("nix:fetch_url", json_string_value(u)));
    const char *pos = meta_str(c, "position");
    if (pos) json_array_append_new(props, prop("nix:position", pos));
    json_array_append_new(props, prop("straylight:meta", c->meta ? "recorded" : "absent"));
    grade_props(props, n);
    json_object_set_new(o, "properties", props);
    return o;
}

static json_t *cdx_source(const char *path, const char *nar_hex)
{
    const char *base = strrchr(path, '/') + 1;
    const char *name = strchr(base, '-');
    json_t *o = json_pack("{s:s,s:s,s:s}", "type", "file", "bom-ref", path, "name", name ? name + 1 : base);
    if (nar_hex)
        json_object_set_new(o, "properties", json_pack("[{s:s,s:s},{s:s,s:s}]", "name", "nix:store_path", "value", path,
                                                       "name", "nix:nar_sha256", "value", nar_hex));
    return o;
}

static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void uuid_of(const char *seed, char out[37])
{
    unsigned char h[32];
    dv_sha256_raw(seed, strlen(seed), h);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x50);   /* name-based */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3],
             h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* Sources of the included derivations, sorted, with their NAR hashes. */
typedef struct {
    char **paths;
    char **hex;
    size_t n;
} srcset;

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void collect_sources(const dv_graph *g, const bool *incl, srcset *s)
{
    ut_hmap *seen = ut_hmap_new();
    for (size_t i = 0; i < g->n; i++) {
        if (!incl[i]) continue;
        const nc_derivation *d = g->nodes[i].drv;
        for (size_t k = 0; k < d->nsrcs; k++) {
            if (ut_hmap_has(seen, d->srcs[k].s, d->srcs[k].len)) continue;
            ut_hmap_put(seen, d->srcs[k].s, d->srcs[k].len, (void *)1);
            s->paths = ut_xrealloc(s->paths, (s->n + 1) * sizeof *s->paths);
            s->paths[s->n++] = ut_xstrndup(d->srcs[k].s, d->srcs[k].len);
        }
    }
    ut_hmap_free(seen);
    if (s->n > 1) qsort(s->paths, s->n, sizeof *s->paths, cmpstr);
    s->hex = ut_xcalloc(s->n ? s->n : 1, sizeof *s->hex);
    for (size_t i = 0; i < s->n; i++) {
        ut_err e = UT_ERR_INIT;
        const char *h = dv_source_nar_hash(g->src, s->paths[i], &e);
        ut_err_clear(&e);
        if (h) s->hex[i] = hex_of(h);
    }
}

static json_t *cyclonedx(const dv_graph *g, size_t root, comp *cs, const bool *incl, const adj *edges,
                         const srcset *srcs, const dv_sbom_opts *o, dv_sbom_stats *st)
{
    char ts[32], uuid[37];
    iso_time(o->timestamp, ts);
    ut_buf seed = UT_BUF_INIT;
    ut_buf_printf(&seed, "cyclonedx:%s:%s", o->scope == DV_SBOM_RUNTIME ? "runtime" : "buildtime",
                  g->nodes[root].action.digest);
    uuid_of(seed.data, uuid);
    ut_buf_free(&seed);
    json_t *doc = json_object(), *comps = json_array(), *deps = json_array();
    json_object_set_new(doc, "$schema", json_string("http://cyclonedx.org/schema/bom-1.6.schema.json"));
    json_object_set_new(doc, "bomFormat", json_string("CycloneDX"));
    json_object_set_new(doc, "specVersion", json_string("1.6"));
    ut_buf sn = UT_BUF_INIT;
    ut_buf_printf(&sn, "urn:uuid:%s", uuid);
    json_object_set_new(doc, "serialNumber", json_string(sn.data));
    ut_buf_free(&sn);
    json_object_set_new(doc, "version", json_integer(1));
    json_t *meta = json_pack("{s:s,s:{s:[{s:s,s:s,s:s}]},s:o,s:[{s:s,s:s}]}", "timestamp", ts, "tools", "components",
                             "type", "application", "name", "straylight", "version", o->tool_version, "component",
                             cdx_component(&cs[root], true), "properties", "name", "straylight:sbom:scope", "value",
                             o->scope == DV_SBOM_RUNTIME ? "runtime" : "buildtime");
    json_object_set_new(doc, "metadata", meta);
    for (size_t i = 0; i < g->n; i++) {
        if (!incl[i]) continue;
        st->components++;
        if (cs[i].meta) st->with_meta++;
        else st->without_meta++;
        if (json_array_size(cs[i].urls)) st->fetches++;
        if (i != root) json_array_append_new(comps, cdx_component(&cs[i], false));
        json_t *on = json_array();
        for (size_t k = 0; k < edges[i].n; k++) json_array_append_new(on, json_string(cs[edges[i].deps[k]].ref));
        if (o->scope == DV_SBOM_BUILDTIME)
            for (size_t k = 0; k < g->nodes[i].drv->nsrcs; k++)
                json_array_append_new(on, json_stringn(g->nodes[i].drv->srcs[k].s, g->nodes[i].drv->srcs[k].len));
        st->dependencies += json_array_size(on);
        json_array_append_new(deps, json_pack("{s:s,s:o}", "ref", cs[i].ref, "dependsOn", on));
    }
    for (size_t i = 0; i < srcs->n; i++) {
        json_array_append_new(comps, cdx_source(srcs->paths[i], srcs->hex[i]));
        json_array_append_new(deps, json_pack("{s:s,s:[]}", "ref", srcs->paths[i], "dependsOn"));
        st->components++;
    }
    json_object_set_new(doc, "components", comps);
    json_object_set_new(doc, "dependencies", deps);
    return doc;
}

/* ---- SPDX 2.3 ---- */

static json_t *spdx_package(const comp *c, const char *created, const char *tool, bool root)
{
    const dv_node *n = c->n;
    json_t *p = json_object();
    json_object_set_new(p, "SPDXID", json_string(c->spdxid));
    json_object_set_new(p, "name", json_string(c->name));
    if (*c->version) json_object_set_new(p, "versionInfo", json_string(c->version));
    const char *dl = json_string_value(json_array_get(c->urls, 0));
    json_object_set_new(p, "downloadLocation", json_string(dl ? dl : "NOASSERTION"));
    json_object_set_new(p, "filesAnalyzed", json_false());
    json_object_set_new(p, "primaryPackagePurpose",
                        json_string(root ? "APPLICATION" : n->action.fixed ? "SOURCE" : "LIBRARY"));
    /* Declared license: an SPDX expression when every license has an SPDX
     * id (nixpkgs' list means all of them apply), else NOASSERTION. */
    json_t *lic = meta_licenses(c), *l;
    size_t i;
    ut_buf expr = UT_BUF_INIT;
    bool all = json_array_size(lic) > 0;
    json_array_foreach(lic, i, l)
    {
        const char *id = json_string_value(json_object_get(l, "spdxId"));
        if (!spdx_id_ok(id)) {
            all = false;
            break;
        }
        ut_buf_printf(&expr, "%s%s", i ? " AND " : "", id);
    }
    json_decref(lic);
    json_object_set_new(p, "licenseConcluded", json_string("NOASSERTION"));
    json_object_set_new(p, "licenseDeclared", json_string(all ? expr.data : "NOASSERTION"));
    ut_buf_free(&expr);
    json_object_set_new(p, "copyrightText", json_string("NOASSERTION"));
    const char *desc = meta_str(c, "description");
    if (desc) json_object_set_new(p, "summary", json_string(desc));
    const char *ld = meta_str(c, "longDescription");
    if (ld) json_object_set_new(p, "description", json_string(ld));
    const char *home = meta_homepage(c);
    if (home) json_object_set_new(p, "homepage", json_string(home));
    if (c->out_hash_hex && !c->out_hash_is_nar)
        json_object_set_new(p, "checksums", json_pack("[{s:s,s:s}]", "algorithm", "SHA256", "checksumValue", c->out_hash_hex));
    json_t *refs = json_array();
    const char *purl = meta_identifier(c, "purl");
    json_array_append_new(refs, json_pack("{s:s,s:s,s:s}", "referenceCategory", "PACKAGE-MANAGER", "referenceType", "purl",
                                          "referenceLocator", purl ? purl : c->purl));
    const char *cpe = meta_identifier(c, "cpe");
    if (cpe)
        json_array_append_new(refs, json_pack("{s:s,s:s,s:s}", "referenceCategory", "SECURITY", "referenceType",
                                              "cpe23Type", "referenceLocator", cpe));
    json_object_set_new(p, "externalRefs", refs);
    /* The grade, and the Nix facts SPDX has no field for. */
    json_t *g = dv_grade_to_json(&n->action.grade), *t = dv_grade_to_json(&n->taint);
    char *gs = compact(g), *tsx = compact(t);
    ut_buf cm = UT_BUF_INIT;
    ut_buf_printf(&cm, "straylight:grade=%s straylight:grade:class=%s straylight:taint=%s straylight:action_digest=%s",
                  gs, dv_class_name(dv_grade_class(&n->action.grade)), tsx, n->action.digest);
    json_object_set_new(p, "annotations", json_pack("[{s:s,s:s,s:s,s:s}]", "annotationType", "OTHER", "annotator", tool,
                                                    "annotationDate", created, "comment", cm.data));
    ut_buf_free(&cm);
    free(gs);
    free(tsx);
    json_decref(g);
    json_decref(t);
    ut_buf nc = UT_BUF_INIT;
    ut_buf_printf(&nc, "nix:drv_path=%s", n->drv_path);
    for (size_t k = 0; k < n->drv->noutputs; k++)
        if (n->drv->outputs[k].path.len)
            ut_buf_printf(&nc, " nix:output_path=%.*s", (int)n->drv->outputs[k].path.len, n->drv->outputs[k].path.s);
    if (c->out_hash_hex && c->out_hash_is_nar) ut_buf_printf(&nc, " nix:output_nar_sha256=%s", c->out_hash_hex);
    if (c->drv_hash_hex) ut_buf_printf(&nc, " nix:drv_nar_sha256=%s", c->drv_hash_hex);
    char modhex[NC_HASH_STR_MAX];
    nc_hash_print(&n->modulo.hash, NC_HASH_BASE16, false, modhex);
    ut_buf_printf(&nc, " nix:drv_hash_modulo=%s", modhex);
    ut_buf_printf(&nc, " straylight:meta=%s", c->meta ? "recorded" : "absent");
    json_object_set_new(p, "comment", json_string(nc.data));
    ut_buf_free(&nc);
    return p;
}

static json_t *spdx(const dv_graph *g, size_t root, comp *cs, const bool *incl, const adj *edges, const srcset *srcs,
                    const dv_sbom_opts *o, dv_sbom_stats *st)
{
    char ts[32];
    iso_time(o->timestamp, ts);
    ut_buf tool = UT_BUF_INIT, ns = UT_BUF_INIT;
    ut_buf_printf(&tool, "Tool: straylight-%s", o->tool_version);
    const char *scope = o->scope == DV_SBOM_RUNTIME ? "runtime" : "buildtime";
    ut_buf_printf(&ns, "urn:straylight:spdx:%s:%s", scope, g->nodes[root].action.digest);
    json_t *doc = json_object(), *pkgs = json_array(), *rels = json_array();
    json_object_set_new(doc, "spdxVersion", json_string("SPDX-2.3"));
    json_object_set_new(doc, "dataLicense", json_string("CC0-1.0"));
    json_object_set_new(doc, "SPDXID", json_string("SPDXRef-DOCUMENT"));
    json_object_set_new(doc, "name", json_stringn(g->nodes[root].drv->name.s, g->nodes[root].drv->name.len));
    json_object_set_new(doc, "documentNamespace", json_string(ns.data));
    json_object_set_new(doc, "creationInfo", json_pack("{s:s,s:[s]}", "created", ts, "creators", tool.data));
    json_object_set_new(doc, "comment", json_pack("s++", "included dependencies: ", scope, o->scope == DV_SBOM_RUNTIME ? " (output references)" : " (the .drv closure)"));
    json_object_set_new(doc, "documentDescribes", json_pack("[s]", cs[root].spdxid));
    json_array_append_new(rels, json_pack("{s:s,s:s,s:s}", "spdxElementId", "SPDXRef-DOCUMENT", "relationshipType",
                                          "DESCRIBES", "relatedSpdxElement", cs[root].spdxid));
    for (size_t i = 0; i < g->n; i++) {
        if (!incl[i]) continue;
        st->components++;
        if (cs[i].meta) st->with_meta++;
        else st->without_meta++;
        if (json_array_size(cs[i].urls)) st->fetches++;
        json_array_append_new(pkgs, spdx_package(&cs[i], ts, tool.data, i == root));
        for (size_t k = 0; k < edges[i].n; k++) {
            json_array_append_new(rels, json_pack("{s:s,s:s,s:s}", "spdxElementId", cs[i].spdxid, "relationshipType",
                                                  "DEPENDS_ON", "relatedSpdxElement", cs[edges[i].deps[k]].spdxid));
            st->dependencies++;
        }
        if (o->scope == DV_SBOM_BUILDTIME)
            for (size_t k = 0; k < g->nodes[i].drv->nsrcs; k++) {
                char *sp = ut_xstrndup(g->nodes[i].drv->srcs[k].s, g->nodes[i].drv->srcs[k].len);
                char *sid = spdx_id(sp);
                json_array_append_new(rels, json_pack("{s:s,s:s,s:s}", "spdxElementId", cs[i].spdxid,
                                                      "relationshipType", "DEPENDS_ON", "relatedSpdxElement", sid));
                st->dependencies++;
                free(sid);
                free(sp);
            }
    }
    for (size_t i = 0; i < srcs->n; i++) {
        char *sid = spdx_id(srcs->paths[i]);
        const char *base = strrchr(srcs->paths[i], '/') + 1;
        const char *name = strchr(base, '-');
        json_t *p = json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:s}", "SPDXID", sid, "name", name ? name + 1 : base,
                              "downloadLocation", "NOASSERTION", "filesAnalyzed", 0, "primaryPackagePurpose", "FILE",
                              "licenseConcluded", "NOASSERTION", "licenseDeclared", "NOASSERTION", "copyrightText",
                              "NOASSERTION");
        ut_buf cm = UT_BUF_INIT;
        ut_buf_printf(&cm, "nix:store_path=%s", srcs->paths[i]);
        if (srcs->hex[i]) ut_buf_printf(&cm, " nix:nar_sha256=%s", srcs->hex[i]);
        json_object_set_new(p, "comment", json_string(cm.data));
        ut_buf_free(&cm);
        json_array_append_new(pkgs, p);
        st->components++;
        free(sid);
    }
    json_object_set_new(doc, "packages", pkgs);
    json_object_set_new(doc, "relationships", rels);
    ut_buf_free(&tool);
    ut_buf_free(&ns);
    return doc;
}

json_t *dv_sbom(const dv_graph *g, size_t root, const dv_sbom_opts *o, dv_sbom_stats *st, ut_err *e)
{
    memset(st, 0, sizeof *st);
    bool *incl = ut_xcalloc(g->n, sizeof *incl);
    adj *edges = ut_xcalloc(g->n, sizeof *edges);
    comp *cs = ut_xcalloc(g->n, sizeof *cs);
    json_t *doc = NULL;
    srcset srcs = {0};
    bool ok = select_scope(g, root, o, incl, edges, e);
    for (size_t i = 0; ok && i < g->n; i++)
        if (incl[i]) {
            ok = fill_comp(g, o, &g->nodes[i], &cs[i], e);
            cs[i].included = true;
        }
    if (ok) {
        if (o->scope == DV_SBOM_BUILDTIME) collect_sources(g, incl, &srcs);
        doc = o->format == DV_SBOM_CYCLONEDX ? cyclonedx(g, root, cs, incl, edges, &srcs, o, st)
                                             : spdx(g, root, cs, incl, edges, &srcs, o, st);
    }
    for (size_t i = 0; i < g->n; i++) {
        if (cs[i].included) comp_free(&cs[i]);
        free(edges[i].deps);
    }
    for (size_t i = 0; i < srcs.n; i++) {
        free(srcs.paths[i]);
        free(srcs.hex[i]);
    }
    free(srcs.paths);
    free(srcs.hex);
    free(cs);
    free(edges);
    free(incl);
    return doc;
}
