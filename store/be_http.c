/* Read-only backend over HTTP(S): any Nix binary cache (cache.nixos.org,
 * nix-serve, a static web server). Substitution verifies every narinfo's
 * signature and every NAR's hash in the store layer. */
#include "store/backend.h"

#include "store/lazy_curl.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct http_be {
    st_backend base;
    char *root;       /* without trailing slash */
    CURL *curl;
} http_be;

typedef struct hx {
    http_be *h;
    st_sink_fn sink;
    void *ctx;
    bool failed;
    ut_err err;
    uint64_t delivered;
} hx;

static size_t hx_write(char *p, size_t size, size_t nmemb, void *ud)
{
    hx *x = ud;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300) return n;
    if (!x->sink(x->ctx, p, n, &x->err)) {
        x->failed = true;
        return 0;
    }
    x->delivered += n;
    return n;
}

static bool discard(void *ctx, const void *p, size_t n, ut_err *e)
{
    (void)ctx;
    (void)p;
    (void)n;
    (void)e;
    return true;
}

/* GET or HEAD with a few retries on transport errors and 5xx. */
static long http_do(http_be *h, const char *key, bool head, uint64_t offset, st_sink_fn sink, void *ctx,
                    uint64_t *len, ut_err *e)
{
    hx x = {h, sink ? sink : discard, ctx, false, UT_ERR_INIT, 0};
    ut_buf url = UT_BUF_INIT;
    ut_buf_printf(&url, "%s/%s", h->root, key);
    long code = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        curl_easy_reset(h->curl);
        curl_easy_setopt(h->curl, CURLOPT_URL, url.data);
        curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "straylight");
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, hx_write);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x);
        if (head) curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
        char range[48];
        uint64_t start = offset + x.delivered;
        if (start) {
            snprintf(range, sizeof range, "%llu-", (unsigned long long)start);
            curl_easy_setopt(h->curl, CURLOPT_RANGE, range);
        }
        CURLcode cc = curl_easy_perform(h->curl);
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
        if (x.failed) {
            if (e) {
                e->msg = x.err.msg;
                x.err.msg = NULL;
            }
            code = -1;
            break;
        }
        if (cc == CURLE_OK && code < 500) break;
        if (attempt == 3) {
            ut_err_set(e, "%s: %s", url.data, cc != CURLE_OK ? curl_easy_strerror(cc) : "server error");
            code = -1;
            break;
        }
        struct timespec ts = {0, 250000000L << attempt};
        if (attempt >= 2) ts = (struct timespec){1 << (attempt - 2), 0};
        nanosleep(&ts, NULL);
    }
    if (code > 0 && len) {
        curl_off_t cl = -1;
        curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        *len = cl > 0 ? (uint64_t)cl : 0;
    }
    if (code >= 300 && code != 404) ut_err_set(e, "%s: HTTP %ld", url.data, code);
    ut_err_clear(&x.err);
    ut_buf_free(&url);
    return code;
}

static bool http_get(st_backend *be, const char *key, uint64_t offset, st_sink_fn sink, void *ctx, bool *missing,
                     ut_err *e)
{
    http_be *h = (http_be *)be;
    if (missing) *missing = false;
    long code = http_do(h, key, false, offset, sink, ctx, NULL, e);
    if (code == 404) {
        if (missing) *missing = true;
        return ut_err_set(e, "%s/%s: not found", h->root, key);
    }
    return code >= 200 && code < 300;
}

static st_put_result http_put(st_backend *be, const char *key, const st_src *src, int flags, ut_err *e)
{
    (void)src;
    (void)flags;
    ut_err_set(e, "%s: read-only binary cache, cannot write '%s'", be->url, key);
    return ST_PUT_ERROR;
}

static int http_has(st_backend *be, const char *key, uint64_t *size, ut_err *e)
{
    long code = http_do((http_be *)be, key, true, 0, NULL, NULL, size, e);
    if (code == 404 || code == 403) {
        ut_err_clear(e);
        return 0;
    }
    return code >= 200 && code < 300 ? 1 : -1;
}

static bool http_list(st_backend *be, const char *prefix,
                      bool (*cb)(void *ctx, const char *key, uint64_t size, int64_t mtime), void *ctx, ut_err *e)
{
    (void)prefix;
    (void)cb;
    (void)ctx;
    return ut_err_set(e, "%s: an HTTP binary cache cannot be listed", be->url);
}

static bool http_del(st_backend *be, const char *key, ut_err *e)
{
    return ut_err_set(e, "%s: read-only binary cache, cannot delete '%s'", be->url, key);
}

static void http_free(st_backend *be)
{
    http_be *h = (http_be *)be;
    if (h->curl) curl_easy_cleanup(h->curl);
    free(h->root);
    free(h->base.url);
    free(h);
}

static const st_backend_ops http_ops = {
    "http", http_get, http_put, http_has, http_list, http_del, NULL, NULL, NULL, NULL, NULL, http_free,
};

st_backend *st_backend_http(const char *url, ut_err *e);
st_backend *st_backend_http(const char *url, ut_err *e)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    http_be *h = ut_xcalloc(1, sizeof *h);
    h->base.ops = &http_ops;
    h->root = ut_xstrdup(url);
    size_t n = strlen(h->root);
    while (n && h->root[n - 1] == '/') h->root[--n] = 0;
    h->base.url = ut_xstrdup(h->root);
    h->curl = curl_easy_init();
    if (!h->curl) {
        ut_err_set(e, "%s: cannot initialise libcurl", url);
        http_free(&h->base);
        return NULL;
    }
    return &h->base;
}
