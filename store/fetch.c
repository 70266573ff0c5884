/* Downloads, the download cache, archive unpacking and the fetch log for
 * the evaluator's fetchers (see fetch.h). */
#include "store/fetch.h"
#include "store/nar_fs.h"

#include "store/lazy_archive.h"
#include "store/lazy_curl.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the log ------------------------------------------------------------ */

static st_fetch_log g_log;
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

st_fetch_log *st_fetch_global_log(void)
{
    return &g_log;
}

static void log_add(const char *url, const st_fetch_result *r)
{
    pthread_mutex_lock(&g_log_mu);
    if (g_log.n == g_log.cap) {
        g_log.cap = g_log.cap ? g_log.cap * 2 : 8;
        g_log.v = ut_xrealloc(g_log.v, g_log.cap * sizeof *g_log.v);
    }
    g_log.v[g_log.n++] = (st_fetch_record){ut_xstrdup(url), ut_xstrdup(r->final_url ? r->final_url : url),
                                           r->sha256, r->size, r->time, r->from_cache};
    pthread_mutex_unlock(&g_log_mu);
}

void st_fetch_log_clear(st_fetch_log *log)
{
    for (size_t i = 0; i < log->n; i++) {
        free(log->v[i].url);
        free(log->v[i].final_url);
    }
    free(log->v);
    log->v = NULL;
    log->n = log->cap = 0;
}

static void json_str(ut_buf *out, const char *s)
{
    ut_buf_putc(out, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ut_buf_printf(out, "\\%c", c);
        else if (c < 0x20)
            ut_buf_printf(out, "\\u%04x", c);
        else
            ut_buf_putc(out, (char)c);
    }
    ut_buf_putc(out, '"');
}

void st_fetch_log_json(const st_fetch_log *log, ut_buf *out)
{
    ut_buf_putc(out, '[');
    for (size_t i = 0; i < log->n; i++) {
        const st_fetch_record *r = &log->v[i];
        char h[NC_HASH_STR_MAX];
        nc_hash_print(&r->sha256, NC_HASH_SRI, true, h);
        ut_buf_puts(out, i ? ",{\"url\":" : "{\"url\":");
        json_str(out, r->url);
        ut_buf_puts(out, ",\"finalUrl\":");
        json_str(out, r->final_url);
        ut_buf_printf(out, ",\"sha256\":\"%s\",\"size\":%llu,\"time\":%lld,\"fromCache\":%s}", h,
                      (unsigned long long)r->size, (long long)r->time, r->from_cache ? "true" : "false");
    }
    ut_buf_putc(out, ']');
}

/* ---- the cache ---------------------------------------------------------- */

char *st_fetch_cache_dir(void)
{
    ut_buf b = UT_BUF_INIT;
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && *x == '/')
        ut_buf_printf(&b, "%s/straylight/fetch", x);
    else {
        const char *home = getenv("HOME");
        ut_buf_printf(&b, "%s/.cache/straylight/fetch", home && *home ? home : "/tmp");
    }
    return ut_buf_steal(&b, NULL);
}

void st_fetch_result_free(st_fetch_result *r)
{
    free(r->path);
    free(r->final_url);
    free(r->etag);
    memset(r, 0, sizeof *r);
}

typedef struct meta {
    char *final_url, *etag;
    nc_hash sha256;
    bool have_hash;
    uint64_t size;
    int64_t time;
} meta;

static void meta_free(meta *m)
{
    free(m->final_url);
    free(m->etag);
}

static bool meta_read(const char *path, meta *m)
{
    memset(m, 0, sizeof *m);
    ut_buf b = UT_BUF_INIT;
    if (!ut_read_file(path, &b, NULL)) {
        ut_buf_free(&b);
        return false;
    }
    char *save = NULL;
    for (char *line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp++ = '\0';
        if (strcmp(line, "final-url") == 0)
            m->final_url = ut_xstrdup(sp);
        else if (strcmp(line, "etag") == 0)
            m->etag = ut_xstrdup(sp);
        else if (strcmp(line, "sha256") == 0)
            m->have_hash = nc_hash_parse_unprefixed(sp, strlen(sp), NC_HASH_SHA256, &m->sha256, NULL);
        else if (strcmp(line, "size") == 0)
            m->size = strtoull(sp, NULL, 10);
        else if (strcmp(line, "time") == 0)
            m->time = strtoll(sp, NULL, 10);
    }
    ut_buf_free(&b);
    return m->have_hash && m->final_url;
}

static bool meta_write(const char *path, const char *url, const st_fetch_result *r, ut_err *e)
{
    char h[NC_HASH_STR_MAX];
    nc_hash_print(&r->sha256, NC_HASH_NIX32, false, h);
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "url %s\nfinal-url %s\nsha256 %s\nsize %llu\ntime %lld\n", url, r->final_url, h,
                  (unsigned long long)r->size, (long long)r->time);
    if (r->etag)
        ut_buf_printf(&b, "etag %s\n", r->etag);
    bool ok = ut_write_file_atomic(path, b.data, b.len, 0644, e);
    ut_buf_free(&b);
    return ok;
}

/* The sha256 of a file, or false when it cannot be read. */
static bool hash_file(const char *path, nc_hash *out, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    nc_hasher *h = nc_hasher_new(NC_HASH_SHA256);
    char buf[65536];
    uint64_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        nc_hasher_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    if (n < 0) {
        nc_hasher_free(h);
        return false;
    }
    nc_hasher_finish(h, out);
    if (size)
        *size = total;
    return true;
}

/* ---- downloading -------------------------------------------------------- */

typedef struct dl {
    FILE *f;
    nc_hasher *h;
    uint64_t size;
    CURL *curl;
    bool write_failed;
    char *etag;
    char *reason;           /* of the last status line */
    ut_buf errbody;         /* first bytes of an error response */
} dl;

static size_t dl_write(char *p, size_t size, size_t nmemb, void *ud)
{
    dl *d = ud;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300) {
        /* Nix shows the body of an error response; keep a bounded prefix. */
        if (d->errbody.len < 65536)
            ut_buf_append(&d->errbody, p, n < 65536 - d->errbody.len ? n : 65536 - d->errbody.len);
        return n;
    }
    if (fwrite(p, 1, n, d->f) != n) {
        d->write_failed = true;
        return 0;
    }
    nc_hasher_update(d->h, p, n);
    d->size += n;
    return n;
}

static size_t dl_header(char *p, size_t size, size_t nmemb, void *ud)
{
    dl *d = ud;
    size_t n = size * nmemb;
    /* Each response of a redirect chain restarts the headers. */
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        free(d->etag);
        d->etag = NULL;
        /* "HTTP/1.1 404 File not found\r\n": keep the reason phrase */
        free(d->reason);
        d->reason = NULL;
        const char *sp = memchr(p, ' ', n);
        if (sp)
            sp = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p));
        if (sp) {
            size_t l = n - (size_t)(sp + 1 - p);
            while (l && (sp[l] == '\r' || sp[l] == '\n'))
                l--;
            if (l)
                d->reason = ut_xstrndup(sp + 1, l);
        }
    }
    if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
        const char *v = p + 5;
        size_t l = n - 5;
        while (l && (*v == ' ' || *v == '\t'))
            v++, l--;
        while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' '))
            l--;
        free(d->etag);
        d->etag = l ? ut_xstrndup(v, l) : NULL;
    }
    return n;
}

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool hash_mismatch(ut_err *e, const char *url, const nc_hash *want, const nc_hash *got)
{
    char a[NC_HASH_STR_MAX], b[NC_HASH_STR_MAX];
    nc_hash_print(want, NC_HASH_NIX32, true, a);
    nc_hash_print(got, NC_HASH_NIX32, true, b);
    return ut_err_set(e, "hash mismatch in file downloaded from '%s':\n  specified: %s\n  got:       %s", url, a, b);
}

static void fill_from_meta(st_fetch_result *r, const char *data, meta *m)
{
    r->path = ut_xstrdup(data);
    r->final_url = m->final_url;
    m->final_url = NULL;
    r->etag = m->etag;
    m->etag = NULL;
    r->sha256 = m->sha256;
    r->size = m->size;
    r->time = m->time;
    r->from_cache = true;
}

bool st_fetch_download(const char *url, const st_fetch_opts *opts, st_fetch_result *r, ut_err *e)
{
    memset(r, 0, sizeof *r);
    char *cache = opts && opts->cache_dir ? ut_xstrdup(opts->cache_dir) : st_fetch_cache_dir();
    const nc_hash *expected = opts ? opts->expected : NULL;
    int64_t ttl = opts ? opts->ttl : 3600;
    nc_hash uh;
    nc_hash_bytes(NC_HASH_SHA256, url, strlen(url), &uh);
    char key[NC_HASH_STR_MAX];
    nc_hash_print(&uh, NC_HASH_BASE16, false, key);
    ut_buf dir = UT_BUF_INIT, data = UT_BUF_INIT, metap = UT_BUF_INIT, tmp = UT_BUF_INIT;
    ut_buf_printf(&dir, "%s/%s", cache, key);
    ut_buf_printf(&data, "%s/data", dir.data);
    ut_buf_printf(&metap, "%s/meta", dir.data);
    free(cache);
    bool ok = false;
    meta m;
    bool have_meta = meta_read(metap.data, &m);
    int64_t now = (int64_t)time(NULL);
    dl d = {0};
    CURL *curl = NULL;
    FILE *f = NULL;

    if (have_meta) {
        /* A locked fetch trusts the cached bytes only if they still hash to
         * what was asked; an unlocked one trusts them within the TTL. */
        bool fresh = expected ? nc_hash_eq(expected, &m.sha256) : (ttl >= 0 && now - m.time < ttl);
        nc_hash real;
        uint64_t sz;
        if (fresh && hash_file(data.data, &real, &sz) && nc_hash_eq(&real, &m.sha256) && sz == m.size) {
            fill_from_meta(r, data.data, &m);
            ok = true;
            goto out;
        }
    }

    if (!ut_mkdirs(dir.data, 0755, e))
        goto out;
    ut_buf_printf(&tmp, "%s/data.tmp.%ld", dir.data, (long)getpid());
    f = fopen(tmp.data, "wbe");
    if (!f) {
        ut_err_set(e, "creating '%s': %s", tmp.data, strerror(errno));
        goto out;
    }
    pthread_once(&g_curl_once, curl_init_once);
    curl = curl_easy_init();
    if (!curl) {
        ut_err_set(e, "unable to download '%s': cannot initialise libcurl", url);
        goto out;
    }
    d.f = f;
    d.h = nc_hasher_new(NC_HASH_SHA256);
    d.curl = curl;
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    /* Like Nix's stalled-download-timeout (300 s; the environment variable
     * STRAYLIGHT_STALLED_DOWNLOAD_TIMEOUT overrides it): give up on a
     * transfer that stalls. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    long stall = 300;
    const char *se = getenv("STRAYLIGHT_STALLED_DOWNLOAD_TIMEOUT");
    if (se && atol(se) > 0)
        stall = atol(se);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "curl/" LIBCURL_VERSION " straylight");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, dl_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, dl_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &d);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,ftp,ftps,file");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https,ftp,ftps");
    bool revalidating = have_meta && m.etag && !expected;
    if (revalidating) {
        ut_buf h = UT_BUF_INIT;
        ut_buf_printf(&h, "If-None-Match: %s", m.etag);
        hdrs = curl_slist_append(hdrs, h.data);
        ut_buf_free(&h);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    }
    /* Transient failures (no connection, 5xx, 408, 429) are retried with
     * a growing pause, as Nix's download-attempts (default 5). */
    int attempts = 5;
    const char *ae = getenv("STRAYLIGHT_DOWNLOAD_ATTEMPTS");
    if (ae && atoi(ae) > 0)
        attempts = atoi(ae);
    CURLcode cc;
    long code = 0;
    for (int attempt = 1;; attempt++) {
        cc = curl_easy_perform(curl);
        code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        bool transient = (cc != CURLE_OK && cc != CURLE_WRITE_ERROR && code < 300) || code >= 500 || code == 408 ||
                         code == 429;
        if (!transient || attempt >= attempts || d.write_failed)
            break;
        fprintf(stderr, "warning: unable to download '%s': %s; retrying\n", url,
                code >= 300 ? "HTTP error" : curl_easy_strerror(cc));
        struct timespec ts = {0, 250000000L};
        for (int k = 1; k < attempt && ts.tv_sec < 4; k++) {
            ts.tv_sec = ts.tv_sec * 2 + (ts.tv_nsec * 2) / 1000000000L;
            ts.tv_nsec = (ts.tv_nsec * 2) % 1000000000L;
        }
        nanosleep(&ts, NULL);
        /* start over: empty file, fresh hash */
        if (fflush(f) != 0 || ftruncate(fileno(f), 0) != 0 || fseek(f, 0, SEEK_SET) != 0) {
            d.write_failed = true;
            break;
        }
        nc_hasher_free(d.h);
        d.h = nc_hasher_new(NC_HASH_SHA256);
        d.size = 0;
        ut_buf_clear(&d.errbody);
    }
    char *eff = NULL;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &eff);
    curl_slist_free_all(hdrs);
    r->http_status = code;
    if (fclose(f) != 0 && cc == CURLE_OK)
        d.write_failed = true;
    f = NULL;
    if (d.write_failed) {
        ut_err_set(e, "unable to download '%s': writing '%s': %s", url, tmp.data, strerror(errno));
        goto out_unlink;
    }
    if (revalidating && code == 304) {
        nc_hash real;
        uint64_t sz;
        if (hash_file(data.data, &real, &sz) && nc_hash_eq(&real, &m.sha256)) {
            fill_from_meta(r, data.data, &m);
            r->time = now;
            r->http_status = code;
            meta_write(metap.data, url, r, NULL);
            ok = true;
            goto out_unlink;
        }
        ut_err_set(e, "unable to download '%s': the server answered 304 but the cached copy is gone", url);
        goto out_unlink;
    }
    if (code >= 300) {
        ut_buf m = UT_BUF_INIT;
        ut_buf_printf(&m, "unable to download '%s': HTTP error %ld", url, code);
        if (d.reason)
            ut_buf_printf(&m, " ('%s')", d.reason);
        if (d.errbody.len) {
            ut_buf_puts(&m, "\n\nresponse body:\n\n");
            size_t l = d.errbody.len;
            while (l && (d.errbody.data[l - 1] == '\n' || d.errbody.data[l - 1] == '\r'))
                l--;
            ut_buf_append(&m, d.errbody.data, l);
        }
        ut_err_set(e, "%s", m.data);
        ut_buf_free(&m);
        goto out_unlink;
    }
    if (cc != CURLE_OK) {
        ut_err_set(e, "unable to download '%s': %s (%d)", url, curl_easy_strerror(cc), (int)cc);
        goto out_unlink;
    }
    nc_hasher_finish(d.h, &r->sha256);
    d.h = NULL;
    r->size = d.size;
    r->final_url = ut_xstrdup(eff ? eff : url);
    r->etag = d.etag;
    d.etag = NULL;
    r->time = now;
    if (expected && !nc_hash_eq(expected, &r->sha256)) {
        hash_mismatch(e, url, expected, &r->sha256);
        goto out_unlink;
    }
    if (rename(tmp.data, data.data) != 0) {
        ut_err_set(e, "renaming '%s': %s", tmp.data, strerror(errno));
        goto out_unlink;
    }
    if (!meta_write(metap.data, url, r, e))
        goto out;
    r->path = ut_xstrdup(data.data);
    ok = true;
    goto out;

out_unlink:
    unlink(tmp.data);
out:
    if (f)
        fclose(f);
    if (curl)
        curl_easy_cleanup(curl);
    if (d.h)
        nc_hasher_free(d.h);
    free(d.etag);
    free(d.reason);
    ut_buf_free(&d.errbody);
    if (have_meta)
        meta_free(&m);
    if (ok)
        log_add(url, r);
    else
        st_fetch_result_free(r);
    ut_buf_free(&dir);
    ut_buf_free(&data);
    ut_buf_free(&metap);
    ut_buf_free(&tmp);
    return ok;
}

/* ---- unpacking ---------------------------------------------------------- */

void st_fetch_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            ut_buf c = UT_BUF_INIT;
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                    continue;
                ut_buf_clear(&c);
                ut_buf_printf(&c, "%s/%s", path, de->d_name);
                st_fetch_rmtree(c.data);
            }
            ut_buf_free(&c);
            closedir(d);
        }
        rmdir(path);
    } else
        unlink(path);
}

bool st_fetch_unpack(const char *archive, const char *dest, int64_t *last_modified, ut_err *e)
{
    if (mkdir(dest, 0755) != 0)
        return ut_err_set(e, "creating directory '%s': %s", dest, strerror(errno));
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    /* A bare compressed file is not an archive Nix would unpack. */
    struct archive *w = archive_write_disk_new();
    archive_write_disk_set_options(w, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    bool ok = false;
    int64_t newest = 0;
    size_t entries = 0;
    ut_buf full = UT_BUF_INIT;
    if (archive_read_open_filename(a, archive, 65536) != ARCHIVE_OK) {
        ut_err_set(e, "failed to open archive '%s': %s", archive, archive_error_string(a));
        goto out;
    }
    for (;;) {
        struct archive_entry *ent;
        int rc = archive_read_next_header(a, &ent);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            ut_err_set(e, "failed to extract archive '%s': %s", archive, archive_error_string(a));
            goto out;
        }
        const char *name = archive_entry_pathname(ent);
        if (!name || !*name)
            continue;
        /* Entries are re-rooted below dest, so libarchive's own absolute
         * path check cannot be used; refuse them here. */
        if (name[0] == '/') {
            ut_err_set(e, "failed to extract archive '%s': absolute path '%s'", archive, name);
            goto out;
        }
        ut_buf_clear(&full);
        ut_buf_printf(&full, "%s/%s", dest, name);
        archive_entry_set_pathname(ent, full.data);
        /* Hard links name another entry of the archive, relative to dest. */
        const char *hl = archive_entry_hardlink(ent);
        if (hl) {
            ut_buf t = UT_BUF_INIT;
            ut_buf_printf(&t, "%s/%s", dest, hl);
            archive_entry_set_hardlink(ent, t.data);
            ut_buf_free(&t);
        }
        /* Owner-writable so the tree can be cleaned up and NAR'd; only the
         * executable bit matters to the store. */
        mode_t mode = archive_entry_perm(ent);
        archive_entry_set_perm(ent, (mode & 0111) ? 0755 : 0644);
        if (archive_entry_filetype(ent) == AE_IFDIR)
            archive_entry_set_perm(ent, 0755);
        if (archive_entry_mtime(ent) > newest)
            newest = archive_entry_mtime(ent);
        rc = archive_write_header(w, ent);
        if (rc < ARCHIVE_WARN) {
            ut_err_set(e, "failed to extract archive '%s': %s", archive, archive_error_string(w));
            goto out;
        }
        const void *buf;
        size_t sz;
        int64_t off;
        while ((rc = archive_read_data_block(a, &buf, &sz, &off)) == ARCHIVE_OK) {
            if (archive_write_data_block(w, buf, sz, off) < ARCHIVE_WARN) {
                ut_err_set(e, "failed to extract archive '%s': %s", archive, archive_error_string(w));
                goto out;
            }
        }
        if (rc != ARCHIVE_EOF) {
            ut_err_set(e, "failed to extract archive '%s': %s", archive, archive_error_string(a));
            goto out;
        }
        if (archive_write_finish_entry(w) < ARCHIVE_WARN) {
            ut_err_set(e, "failed to extract archive '%s': %s", archive, archive_error_string(w));
            goto out;
        }
        entries++;
    }
    if (archive_write_close(w) != ARCHIVE_OK) {
        ut_err_set(e, "failed to extract archive '%s': %s", archive, archive_error_string(w));
        goto out;
    }
    ok = true;
    if (last_modified)
        *last_modified = newest;
out:
    (void)entries;
    ut_buf_free(&full);
    archive_read_free(a);
    archive_write_free(w);
    if (!ok)
        st_fetch_rmtree(dest);
    return ok;
}

char *st_fetch_tarball_root(const char *dir, ut_err *e)
{
    DIR *d = opendir(dir);
    if (!d) {
        ut_err_set(e, "opening directory '%s': %s", dir, strerror(errno));
        return NULL;
    }
    struct dirent *de;
    size_t n = 0;
    char *only = NULL;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n++ == 0)
            only = ut_xstrdup(de->d_name);
    }
    closedir(d);
    ut_buf b = UT_BUF_INIT;
    struct stat st;
    if (n == 1) {
        ut_buf_printf(&b, "%s/%s", dir, only);
        if (lstat(b.data, &st) != 0 || !S_ISDIR(st.st_mode)) {
            ut_buf_clear(&b);
            ut_buf_puts(&b, dir);
        }
    } else
        ut_buf_puts(&b, dir);
    free(only);
    return ut_buf_steal(&b, NULL);
}

static void nar_discard(void *ctx, const void *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
}

bool st_fetch_nar_hash(const char *fs_path, nc_hash *out, uint64_t *size, ut_err *e)
{
    nc_hash_algo algo = NC_HASH_SHA256;
    nc_nar_writer *w = nc_nar_writer_new(nar_discard, NULL, &algo);
    uint64_t sz = 0;
    bool ok = st_nar_dump(fs_path, NULL, NULL, w, NULL, e) && nc_nar_writer_finish(w, out, &sz, e);
    nc_nar_writer_free(w);
    if (ok && size)
        *size = sz;
    return ok;
}
