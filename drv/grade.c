#include "drv/grade.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- sorted string sets ---- */

static size_t strset_find(const dv_strset *s, const char *str, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->v[mid], str);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

void dv_strset_add(dv_strset *s, const char *str)
{
    bool found;
    size_t at = strset_find(s, str, &found);
    if (found) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->v = ut_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof *s->v);
    s->v[at] = ut_xstrdup(str);
    s->n++;
}

bool dv_strset_has(const dv_strset *s, const char *str)
{
    bool found;
    strset_find(s, str, &found);
    return found;
}

void dv_strset_union(dv_strset *dst, const dv_strset *src)
{
    for (size_t i = 0; i < src->n; i++) dv_strset_add(dst, src->v[i]);
}

bool dv_strset_subset(const dv_strset *a, const dv_strset *b)
{
    /* Both sorted: one merge pass. */
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && strcmp(b->v[j], a->v[i]) < 0) j++;
        if (j == b->n || strcmp(b->v[j], a->v[i]) != 0) return false;
        j++;
    }
    return true;
}

bool dv_strset_equal(const dv_strset *a, const dv_strset *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i])) return false;
    return true;
}

void dv_strset_copy(dv_strset *dst, const dv_strset *src)
{
    dv_strset_free(dst);
    dv_strset_union(dst, src);
}

void dv_strset_free(dv_strset *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* ---- grades ---- */

void dv_grade_init(dv_grade *g)
{
    memset(g, 0, sizeof *g);
}

void dv_grade_free(dv_grade *g)
{
    dv_strset_free(&g->net_pins);
    for (size_t i = 0; i < g->nhost; i++) free(g->host[i].path);
    free(g->host);
    dv_strset_free(&g->env);
    dv_strset_free(&g->feature);
    free(g->system);
    dv_strset_free(&g->gpu);
    dv_strset_free(&g->device);
    dv_strset_free(&g->cred);
    dv_grade_init(g);
}

void dv_grade_copy(dv_grade *dst, const dv_grade *src)
{
    dv_grade_free(dst);
    dv_grade_join(dst, src);
}

bool dv_grade_is_pure(const dv_grade *g)
{
    return g->net == DV_NET_NONE && g->nhost == 0 && g->env.n == 0 && g->feature.n == 0 &&
           g->plat == DV_PLAT_ANY && g->clock == DV_CLOCK_NONE && g->cores == 0 && g->gpu.n == 0 &&
           g->device.n == 0 && g->cred.n == 0 && g->iso == DV_ISO_STRICT;
}

bool dv_grade_equal(const dv_grade *a, const dv_grade *b)
{
    if (a->net != b->net || !dv_strset_equal(&a->net_pins, &b->net_pins)) return false;
    if (a->nhost != b->nhost) return false;
    for (size_t i = 0; i < a->nhost; i++)
        if (strcmp(a->host[i].path, b->host[i].path) || a->host[i].rw != b->host[i].rw) return false;
    if (!dv_strset_equal(&a->env, &b->env) || !dv_strset_equal(&a->feature, &b->feature)) return false;
    if (a->plat != b->plat || (a->plat == DV_PLAT_ONE && strcmp(a->system, b->system))) return false;
    if (a->clock != b->clock || (a->clock == DV_CLOCK_EPOCH && a->epoch != b->epoch)) return false;
    if (a->cores != b->cores || a->iso != b->iso) return false;
    return dv_strset_equal(&a->gpu, &b->gpu) && dv_strset_equal(&a->device, &b->device) &&
           dv_strset_equal(&a->cred, &b->cred);
}

void dv_grade_set_net(dv_grade *g, dv_net level)
{
    if (level <= g->net) return;
    g->net = level;
    /* Pins only mean something at exactly "pinned": open subsumes them. */
    if (level == DV_NET_OPEN) dv_strset_free(&g->net_pins);
}

void dv_grade_add_pin(dv_grade *g, const char *hash)
{
    if (g->net == DV_NET_OPEN) return;
    g->net = DV_NET_PINNED;
    dv_strset_add(&g->net_pins, hash);
}

void dv_grade_add_host(dv_grade *g, const char *path, bool rw)
{
    size_t lo = 0, hi = g->nhost;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g->host[mid].path, path);
        if (c == 0) {
            g->host[mid].rw |= rw;
            return;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (g->nhost == g->caphost) {
        g->caphost = g->caphost ? g->caphost * 2 : 4;
        g->host = ut_xrealloc(g->host, g->caphost * sizeof *g->host);
    }
    memmove(g->host + lo + 1, g->host + lo, (g->nhost - lo) * sizeof *g->host);
    g->host[lo].path = ut_xstrdup(path);
    g->host[lo].rw = rw;
    g->nhost++;
}

void dv_grade_set_system(dv_grade *g, const char *system)
{
    if (g->plat == DV_PLAT_TOP) return;
    if (g->plat == DV_PLAT_ONE) {
        if (strcmp(g->system, system)) {
            /* Two different systems cannot be one machine's platform. */
            free(g->system);
            g->system = NULL;
            g->plat = DV_PLAT_TOP;
        }
        return;
    }
    g->plat = DV_PLAT_ONE;
    g->system = ut_xstrdup(system);
}

void dv_grade_set_epoch(dv_grade *g, int64_t epoch)
{
    if (g->clock == DV_CLOCK_WALL) return;
    if (g->clock == DV_CLOCK_EPOCH) {
        if (g->epoch != epoch) {
            g->clock = DV_CLOCK_WALL;
            g->epoch = 0;
        }
        return;
    }
    g->clock = DV_CLOCK_EPOCH;
    g->epoch = epoch;
}

void dv_grade_set_wall(dv_grade *g)
{
    g->clock = DV_CLOCK_WALL;
    g->epoch = 0;
}

void dv_grade_set_iso(dv_grade *g, dv_iso iso)
{
    if (iso > g->iso) g->iso = iso;
}

void dv_grade_join(dv_grade *dst, const dv_grade *src)
{
    if (src->net == DV_NET_PINNED) {
        for (size_t i = 0; i < src->net_pins.n; i++) dv_grade_add_pin(dst, src->net_pins.v[i]);
        dv_grade_set_net(dst, DV_NET_PINNED);
    } else {
        dv_grade_set_net(dst, src->net);
    }
    for (size_t i = 0; i < src->nhost; i++) dv_grade_add_host(dst, src->host[i].path, src->host[i].rw);
    dv_strset_union(&dst->env, &src->env);
    dv_strset_union(&dst->feature, &src->feature);
    if (src->plat == DV_PLAT_ONE) dv_grade_set_system(dst, src->system);
    else if (src->plat == DV_PLAT_TOP) {
        free(dst->system);
        dst->system = NULL;
        dst->plat = DV_PLAT_TOP;
    }
    if (src->clock == DV_CLOCK_EPOCH) dv_grade_set_epoch(dst, src->epoch);
    else if (src->clock == DV_CLOCK_WALL) dv_grade_set_wall(dst);
    if (src->cores > dst->cores) dst->cores = src->cores;
    dv_strset_union(&dst->gpu, &src->gpu);
    dv_strset_union(&dst->device, &src->device);
    dv_strset_union(&dst->cred, &src->cred);
    dv_grade_set_iso(dst, src->iso);
}

static bool net_leq(const dv_grade *a, const dv_grade *b)
{
    if (a->net != b->net) return a->net < b->net;
    if (a->net == DV_NET_PINNED) return dv_strset_subset(&a->net_pins, &b->net_pins);
    return true;
}

bool dv_grade_leq(const dv_grade *a, const dv_grade *b)
{
    if (!net_leq(a, b)) return false;
    for (size_t i = 0, j = 0; i < a->nhost; i++) {
        while (j < b->nhost && strcmp(b->host[j].path, a->host[i].path) < 0) j++;
        if (j == b->nhost || strcmp(b->host[j].path, a->host[i].path)) return false;
        if (a->host[i].rw && !b->host[j].rw) return false;
    }
    if (!dv_strset_subset(&a->env, &b->env) || !dv_strset_subset(&a->feature, &b->feature)) return false;
    switch (a->plat) {
    case DV_PLAT_ANY: break;
    case DV_PLAT_ONE:
        if (b->plat == DV_PLAT_ANY || (b->plat == DV_PLAT_ONE && strcmp(a->system, b->system))) return false;
        break;
    case DV_PLAT_TOP:
        if (b->plat != DV_PLAT_TOP) return false;
        break;
    }
    switch (a->clock) {
    case DV_CLOCK_NONE: break;
    case DV_CLOCK_EPOCH:
        if (b->clock == DV_CLOCK_NONE || (b->clock == DV_CLOCK_EPOCH && a->epoch != b->epoch)) return false;
        break;
    case DV_CLOCK_WALL:
        if (b->clock != DV_CLOCK_WALL) return false;
        break;
    }
    if (a->cores > b->cores || a->iso > b->iso) return false;
    return dv_strset_subset(&a->gpu, &b->gpu) && dv_strset_subset(&a->device, &b->device) &&
           dv_strset_subset(&a->cred, &b->cred);
}

void dv_grade_taint(dv_grade *dst, const dv_grade *g)
{
    dv_grade_free(dst);
    if (g->net == DV_NET_OPEN) dst->net = DV_NET_OPEN;
    for (size_t i = 0; i < g->nhost; i++) dv_grade_add_host(dst, g->host[i].path, g->host[i].rw);
    dv_strset_copy(&dst->env, &g->env);
    if (g->clock == DV_CLOCK_WALL) dst->clock = DV_CLOCK_WALL;
    dv_strset_copy(&dst->gpu, &g->gpu);
    dst->iso = g->iso;
}

dv_class dv_grade_class(const dv_grade *g)
{
    /* A pinned fetch may read proxy variables, but its output is checked
     * against the pinned hash, so it is not impure in the tainting sense. */
    if (g->net == DV_NET_PINNED) {
        dv_grade t = {0};
        dv_grade_taint(&t, g);
        dv_strset_free(&t.env);
        bool sealed = dv_grade_is_pure(&t);
        dv_grade_free(&t);
        return sealed ? DV_CLASS_PINNED : DV_CLASS_IMPURE;
    }
    dv_grade t = {0};
    dv_grade_taint(&t, g);
    bool pure = dv_grade_is_pure(&t);
    dv_grade_free(&t);
    return pure ? DV_CLASS_PURE : DV_CLASS_IMPURE;
}

const char *dv_class_name(dv_class c)
{
    switch (c) {
    case DV_CLASS_PURE: return "pure";
    case DV_CLASS_PINNED: return "pinned";
    case DV_CLASS_IMPURE: return "impure";
    }
    return "?";
}

/* ---- JSON ---- */

static const char *const net_names[] = {"none", "loopback", "pinned", "open"};
static const char *const iso_names[] = {"strict", "relaxed", "none"};

static json_t *strset_json(const dv_strset *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++) json_array_append_new(a, json_string(s->v[i]));
    return a;
}

json_t *dv_grade_to_json(const dv_grade *g)
{
    json_t *o = json_object();
    if (g->net != DV_NET_NONE) {
        if (g->net == DV_NET_PINNED) {
            json_t *n = json_object();
            json_object_set_new(n, "pinned", strset_json(&g->net_pins));
            json_object_set_new(o, "net", n);
        } else {
            json_object_set_new(o, "net", json_string(net_names[g->net]));
        }
    }
    if (g->nhost) {
        json_t *a = json_array();
        for (size_t i = 0; i < g->nhost; i++)
            json_array_append_new(a, json_pack("{s:s,s:s}", "path", g->host[i].path, "mode", g->host[i].rw ? "rw" : "ro"));
        json_object_set_new(o, "hostPath", a);
    }
    if (g->env.n) json_object_set_new(o, "env", strset_json(&g->env));
    if (g->feature.n) json_object_set_new(o, "feature", strset_json(&g->feature));
    if (g->plat == DV_PLAT_ONE) json_object_set_new(o, "platform", json_string(g->system));
    else if (g->plat == DV_PLAT_TOP) json_object_set_new(o, "platform", json_string("top"));
    if (g->clock == DV_CLOCK_EPOCH) json_object_set_new(o, "clock", json_pack("{s:I}", "epoch", (json_int_t)g->epoch));
    else if (g->clock == DV_CLOCK_WALL) json_object_set_new(o, "clock", json_string("wall"));
    if (g->cores) json_object_set_new(o, "cores", json_integer(g->cores));
    if (g->gpu.n) json_object_set_new(o, "gpu", strset_json(&g->gpu));
    if (g->device.n) json_object_set_new(o, "device", strset_json(&g->device));
    if (g->cred.n) json_object_set_new(o, "cred", strset_json(&g->cred));
    if (g->iso != DV_ISO_STRICT) json_object_set_new(o, "isolation", json_string(iso_names[g->iso]));
    return o;
}

static bool strset_from_json(dv_strset *s, const json_t *a, const char *what, ut_err *e)
{
    if (!json_is_array(a)) return ut_err_set(e, "grade: '%s' must be an array of strings", what);
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (!json_is_string(x)) return ut_err_set(e, "grade: '%s' must be an array of strings", what);
        dv_strset_add(s, json_string_value(x));
    }
    return true;
}

bool dv_grade_from_json(dv_grade *g, const json_t *j, ut_err *e)
{
    dv_grade_init(g);
    if (!json_is_object(j)) return ut_err_set(e, "grade: not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        bool ok = true;
        if (!strcmp(k, "net")) {
            if (json_is_object(v)) {
                json_t *p = json_object_get(v, "pinned");
                ok = p && strset_from_json(&g->net_pins, p, "net.pinned", e);
                g->net = DV_NET_PINNED;
            } else if (json_is_string(v) && !strcmp(json_string_value(v), "loopback")) g->net = DV_NET_LOOPBACK;
            else if (json_is_string(v) && !strcmp(json_string_value(v), "open")) g->net = DV_NET_OPEN;
            else ok = ut_err_set(e, "grade: bad 'net'");
        } else if (!strcmp(k, "hostPath")) {
            size_t i;
            json_t *x;
            if (!json_is_array(v)) ok = ut_err_set(e, "grade: bad 'hostPath'");
            else json_array_foreach(v, i, x)
            {
                const char *p = json_string_value(json_object_get(x, "path"));
                const char *m = json_string_value(json_object_get(x, "mode"));
                if (!p || !m || (strcmp(m, "ro") && strcmp(m, "rw"))) {
                    ok = ut_err_set(e, "grade: bad 'hostPath' entry");
                    break;
                }
                dv_grade_add_host(g, p, !strcmp(m, "rw"));
            }
        } else if (!strcmp(k, "env")) ok = strset_from_json(&g->env, v, k, e);
        else if (!strcmp(k, "feature")) ok = strset_from_json(&g->feature, v, k, e);
        else if (!strcmp(k, "gpu")) ok = strset_from_json(&g->gpu, v, k, e);
        else if (!strcmp(k, "device")) ok = strset_from_json(&g->device, v, k, e);
        else if (!strcmp(k, "cred")) ok = strset_from_json(&g->cred, v, k, e);
        else if (!strcmp(k, "platform")) {
            if (!json_is_string(v)) ok = ut_err_set(e, "grade: bad 'platform'");
            else if (!strcmp(json_string_value(v), "top")) g->plat = DV_PLAT_TOP;
            else dv_grade_set_system(g, json_string_value(v));
        } else if (!strcmp(k, "clock")) {
            if (json_is_string(v) && !strcmp(json_string_value(v), "wall")) g->clock = DV_CLOCK_WALL;
            else if (json_is_integer(json_object_get(v, "epoch")))
                dv_grade_set_epoch(g, json_integer_value(json_object_get(v, "epoch")));
            else ok = ut_err_set(e, "grade: bad 'clock'");
        } else if (!strcmp(k, "cores")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
                ok = ut_err_set(e, "grade: bad 'cores'");
            else g->cores = (uint32_t)json_integer_value(v);
        } else if (!strcmp(k, "isolation")) {
            const char *s = json_string_value(v);
            if (s && !strcmp(s, "relaxed")) g->iso = DV_ISO_RELAXED;
            else if (s && !strcmp(s, "none")) g->iso = DV_ISO_NONE;
            else ok = ut_err_set(e, "grade: bad 'isolation'");
        } else ok = ut_err_set(e, "grade: unknown component '%s'", k);
        if (!ok) {
            dv_grade_free(g);
            return false;
        }
    }
    return true;
}

static void describe_set(ut_buf *out, const char *name, const dv_strset *s, bool *first)
{
    if (!s->n) return;
    ut_buf_printf(out, "%s%s={", *first ? "" : " ", name);
    for (size_t i = 0; i < s->n; i++) ut_buf_printf(out, "%s%s", i ? "," : "", s->v[i]);
    ut_buf_puts(out, "}");
    *first = false;
}

void dv_grade_describe(const dv_grade *g, ut_buf *out)
{
    bool first = true;
    if (dv_grade_is_pure(g)) {
        ut_buf_puts(out, "pure");
        return;
    }
    if (g->net == DV_NET_PINNED) {
        ut_buf_printf(out, "net=pinned(%zu)", g->net_pins.n);
        first = false;
    } else if (g->net != DV_NET_NONE) {
        ut_buf_printf(out, "net=%s", net_names[g->net]);
        first = false;
    }
    if (g->nhost) {
        ut_buf_printf(out, "%shostPath={", first ? "" : " ");
        for (size_t i = 0; i < g->nhost; i++)
            ut_buf_printf(out, "%s%s:%s", i ? "," : "", g->host[i].path, g->host[i].rw ? "rw" : "ro");
        ut_buf_puts(out, "}");
        first = false;
    }
    if (g->env.n) {
        ut_buf_printf(out, "%senv=%zu", first ? "" : " ", g->env.n);
        first = false;
    }
    describe_set(out, "feature", &g->feature, &first);
    if (g->plat != DV_PLAT_ANY) {
        ut_buf_printf(out, "%splatform=%s", first ? "" : " ", g->plat == DV_PLAT_ONE ? g->system : "top");
        first = false;
    }
    if (g->clock == DV_CLOCK_EPOCH) {
        ut_buf_printf(out, "%sclock=epoch(%" PRId64 ")", first ? "" : " ", g->epoch);
        first = false;
    } else if (g->clock == DV_CLOCK_WALL) {
        ut_buf_printf(out, "%sclock=wall", first ? "" : " ");
        first = false;
    }
    if (g->cores) {
        ut_buf_printf(out, "%scores=%u", first ? "" : " ", (unsigned)g->cores);
        first = false;
    }
    describe_set(out, "gpu", &g->gpu, &first);
    describe_set(out, "device", &g->device, &first);
    describe_set(out, "cred", &g->cred, &first);
    if (g->iso != DV_ISO_STRICT) ut_buf_printf(out, "%sisolation=%s", first ? "" : " ", iso_names[g->iso]);
}
