/* Store URLs and the configuration file. */
#include "store/s3.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *st_config_path(void)
{
    ut_buf b = UT_BUF_INIT;
    const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (x && *x) ut_buf_printf(&b, "%s/straylight/store.conf", x);
    else if (home && *home) ut_buf_printf(&b, "%s/.config/straylight/store.conf", home);
    else return NULL;
    return ut_buf_steal(&b, NULL);
}

/* "key = value" lines; '#' starts a comment. The last setting wins. */
char *st_config_get(const char *key)
{
    char *path = st_config_path();
    if (!path) return NULL;
    ut_buf text = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    char *val = NULL;
    if (ut_read_file(path, &text, &e)) {
        char *save = NULL;
        for (char *line = strtok_r(text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *hash = strchr(line, '#');
            if (hash) *hash = 0;
            char *eq = strchr(line, '=');
            if (!eq) continue;
            char *k = line, *ke = eq, *v = eq + 1;
            while (*k == ' ' || *k == '\t') k++;
            while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
            *ke = 0;
            while (*v == ' ' || *v == '\t') v++;
            char *ve = v + strlen(v);
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r')) ve--;
            *ve = 0;
            if (!strcmp(k, key)) {
                free(val);
                val = ut_xstrdup(v);
            }
        }
    }
    ut_err_clear(&e);
    ut_buf_free(&text);
    free(path);
    return val;
}

char *st_store_default_url(void)
{
    const char *env = getenv("STRAYLIGHT_STORE");
    if (env && *env) return ut_xstrdup(env);
    char *conf = st_config_get("store");
    if (conf && *conf) return conf;
    free(conf);
    ut_buf b = UT_BUF_INIT;
    const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (x && *x) ut_buf_printf(&b, "local:%s/straylight", x);
    else ut_buf_printf(&b, "local:%s/.local/share/straylight", home && *home ? home : ".");
    return ut_buf_steal(&b, NULL);
}

/* Removes "&name=value" (or the first "?name=value") from a URL and returns
 * the value, for options the store handles rather than the backend. */
static char *take_param(char *url, const char *name)
{
    char *q = strchr(url, '?');
    if (!q) return NULL;
    size_t nl = strlen(name);
    for (char *p = q; p && *p;) {
        char *start = p + 1;
        if (!strncmp(start, name, nl) && start[nl] == '=') {
            char *end = strchr(start, '&');
            char *val = end ? ut_xstrndup(start + nl + 1, (size_t)(end - start - nl - 1)) : ut_xstrdup(start + nl + 1);
            if (end) memmove(start, end + 1, strlen(end + 1) + 1);
            else *p = 0;
            if (*q == 0 || (q[0] == '?' && q[1] == 0)) *q = 0;
            return val;
        }
        p = strchr(start, '&');
    }
    return NULL;
}

st_backend *st_backend_http(const char *url, ut_err *e);

st_backend *st_backend_open(const char *url, ut_err *e)
{
    if (!strncmp(url, "local:", 6)) return st_backend_local(url + 6, false, e);
    if (!strncmp(url, "file://", 7)) return st_backend_local(url + 7, false, e);
    if (url[0] == '/' || url[0] == '.') return st_backend_local(url, false, e);
    if (!strcmp(url, "mem:")) return st_backend_mem();
    if (!strcmp(url, "dry:")) return st_backend_dry();
    if (!strncmp(url, "s3://", 5)) {
        st_s3_config cfg;
        if (!st_s3_config_parse(url, &cfg, e)) return NULL;
        st_backend *be = st_backend_s3(&cfg, e);
        st_s3_config_free(&cfg);
        return be;
    }
    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) return st_backend_http(url, e);
    ut_err_set(e, "'%s': unknown store URL (expected local:DIR, file://DIR, s3://BUCKET, http(s)://, mem: or dry:)",
               url);
    return NULL;
}

st_store *st_store_open(const char *url, ut_err *e)
{
    char *u = url && *url ? ut_xstrdup(url) : st_store_default_url();
    char *store_dir = take_param(u, "store-dir");
    char *layout = take_param(u, "layout");
    char *fsync_v = take_param(u, "fsync");
    char *comp = take_param(u, "compression");
    if (!store_dir) store_dir = st_config_get("store-dir");
    bool bincache = !strncmp(u, "file://", 7) || !strncmp(u, "http", 4);
    if (layout) bincache = !strcmp(layout, "binary-cache");
    st_backend *be;
    const char *dir = !strncmp(u, "local:", 6) ? u + 6 : !strncmp(u, "file://", 7) ? u + 7 : u[0] == '/' ? u : NULL;
    if (dir && fsync_v && !strcmp(fsync_v, "1")) be = st_backend_local(dir, true, e);
    else be = st_backend_open(u, e);
    st_store *st = NULL;
    if (comp && strcmp(comp, "xz") && strcmp(comp, "none")) {
        ut_err_set(e, "'%s': unsupported compression '%s' (xz or none)", url ? url : u, comp);
        st_backend_free(be);
    } else if (be) {
        st = st_store_open_backend(be, store_dir, bincache, e);
        if (st && comp) st_store_set_compression(st, !strcmp(comp, "xz"));
    }
    free(comp);
    free(store_dir);
    free(layout);
    free(fsync_v);
    free(u);
    return st;
}
