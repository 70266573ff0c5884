/* The source hash cache: st_store_add_path must give exactly what hashing
 * gives, with the cache or without it, whatever happened to the tree or to
 * the cache's files in between; and an unchanged, settled tree must come
 * from the cache. Where nix-hash is installed it is the oracle for the
 * NAR hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/store/scratch.h"

#include "compat/hash.h"
#include "store/pathcache.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmp_root[256];

/* Settle time for trees the tests want recorded, and how long the tests
 * wait after making a tree: the wait only ever gets longer on a loaded
 * machine, so the tree is always settled by then. */
#define SETTLE_MS 20
#define WAIT_MS 60

static char *mktmp(const char *tag)
{
    return scratch_path(tmp_root, tag);
}

static void wait_settled(void)
{
    struct timespec t = {0, WAIT_MS * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

static void put(const char *dir, const char *rel, const char *text, int mode)
{
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/%s", dir, rel);
    ut_err e = UT_ERR_INIT;
    if (!ut_write_file_atomic(p.data, text, strlen(text), mode, &e)) fail_msg("%s", e.msg);
    assert_int_equal(chmod(p.data, (mode_t)mode), 0);
    ut_buf_free(&p);
}

static char *sub(const char *dir, const char *rel)
{
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/%s", dir, rel);
    return ut_buf_steal(&p, NULL);
}

/* A tree with a file, an executable, a subdirectory and a symlink. */
static char *make_tree(void)
{
    char *t = mktmp("tree");
    ut_err e = UT_ERR_INIT;
    char *d = sub(t, "sub/deeper");
    assert_true(ut_mkdirs(d, 0755, &e));
    free(d);
    put(t, "a.nix", "{ x = 1; }\n", 0644);
    put(t, "run.sh", "#!/bin/sh\necho hi\n", 0755);
    put(t, "sub/b.txt", "bbbb\n", 0644);
    put(t, "sub/deeper/c", "", 0644);
    char *l = sub(t, "link");
    assert_int_equal(symlink("sub/b.txt", l), 0);
    free(l);
    return t;
}

static st_store *open_store(const char *url, const char *cache, int64_t settle_ms)
{
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(url, &e);
    if (!st) fail_msg("%s", e.msg);
    st_store_set_path_cache(st, cache, settle_ms);
    return st;
}

static st_store *open_local(const char *dir, const char *cache, int64_t settle_ms)
{
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "local:%s", dir);
    st_store *st = open_store(u.data, cache, settle_ms);
    ut_buf_free(&u);
    return st;
}

typedef struct result {
    char *path;
    char nar[NC_HASH_STR_MAX];
    uint64_t nar_size;
} result;

static void result_free(result *r) { free(r->path); }

static result add(st_store *st, const char *fs, nc_ca_method m)
{
    result r = {0};
    ut_err e = UT_ERR_INIT;
    st_path_info *pi = NULL;
    if (!st_store_add_path(st, fs, "src", NULL, NULL, m, &r.path, &pi, &e)) fail_msg("%s", e.msg);
    assert_string_equal(r.path, pi->path);
    nc_hash_print(&pi->nar_hash, NC_HASH_NIX32, false, r.nar);
    r.nar_size = pi->nar_size;
    st_path_info_free(pi);
    return r;
}

/* What hashing gives, with no cache at all. */
static result truth(const char *fs, nc_ca_method m)
{
    st_store *st = open_store("dry:", NULL, 0);
    result r = add(st, fs, m);
    st_path_cache_stats s;
    st_store_path_cache_stats(st, &s);
    assert_int_equal(s.hits + s.misses, 0);
    st_store_close(st);
    return r;
}

static void assert_same(const result *a, const result *b)
{
    assert_string_equal(a->path, b->path);
    assert_string_equal(a->nar, b->nar);
    assert_int_equal(a->nar_size, b->nar_size);
}

/* nix-hash's NAR hash of fs, or "" when nix-hash is not there. */
static void oracle(const char *fs, char out[NC_HASH_STR_MAX])
{
    out[0] = 0;
    if (system("command -v nix-hash >/dev/null 2>&1") != 0) return;
    ut_buf cmd = UT_BUF_INIT;
    ut_buf_printf(&cmd, "nix-hash --type sha256 --base32 '%s' 2>/dev/null", fs);
    FILE *f = popen(cmd.data, "r");
    ut_buf_free(&cmd);
    if (!f) return;
    if (!fgets(out, NC_HASH_STR_MAX, f)) out[0] = 0;
    pclose(f);
    out[strcspn(out, "\n")] = 0;
}

static void check_oracle(const char *fs, const result *r)
{
    char o[NC_HASH_STR_MAX];
    oracle(fs, o);
    if (o[0]) assert_string_equal(o, r->nar);
}

static st_path_cache_stats stats(const st_store *st)
{
    st_path_cache_stats s;
    st_store_path_cache_stats(st, &s);
    return s;
}

/* The cache's log, which must be the only file in its directory. */
static char *only_entry(const char *cache)
{
    DIR *d = opendir(cache);
    assert_non_null(d);
    char *found = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        assert_null(found);
        assert_string_equal(de->d_name, "v1.log");
        found = sub(cache, de->d_name);
    }
    closedir(d);
    assert_non_null(found);
    return found;
}

static size_t count_files(const char *cache)
{
    DIR *d = opendir(cache);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Records in the log: lines that start with the record marker. */
static size_t count_entries(const char *cache)
{
    char *log = sub(cache, "v1.log");
    ut_buf text = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    size_t n = 0;
    if (ut_read_file(log, &text, &e)) {
        for (size_t i = 0; i + 5 <= text.len; i++)
            if ((i == 0 || text.data[i - 1] == '\n') && !memcmp(text.data + i, "@pc1 ", 5)) n++;
    }
    ut_err_clear(&e);
    ut_buf_free(&text);
    free(log);
    return n;
}

/* Adds fs through a fresh handle (as a new process would) and checks the
 * result against hashing; returns the handle's stats. */
static st_path_cache_stats add_fresh(const char *cache, const char *fs, nc_ca_method m, result *out)
{
    st_store *st = open_store("dry:", cache, SETTLE_MS);
    result r = add(st, fs, m);
    result t = truth(fs, m);
    assert_same(&r, &t);
    result_free(&t);
    st_path_cache_stats s = stats(st);
    st_store_close(st);
    if (out) *out = r;
    else result_free(&r);
    return s;
}

static void hashed_then_cached(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache"), *sdir = mktmp("store");
    wait_settled();
    st_store *st = open_local(sdir, cache, SETTLE_MS);
    result r1 = add(st, t, NC_CA_NAR);
    st_path_cache_stats s = stats(st);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.recorded, 1);
    assert_int_equal(s.hits, 0);
    /* the same handle again, and a new one, both from the cache */
    result r2 = add(st, t, NC_CA_NAR);
    assert_same(&r1, &r2);
    assert_int_equal(stats(st).hits, 1);
    st_store_close(st);
    st = open_local(sdir, cache, SETTLE_MS);
    result r3 = add(st, t, NC_CA_NAR);
    assert_same(&r1, &r3);
    s = stats(st);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 0);
    assert_int_equal(s.recorded, 0);
    st_store_close(st);
    result tr = truth(t, NC_CA_NAR);
    assert_same(&r1, &tr);
    check_oracle(t, &r1);
    assert_int_equal(count_entries(cache), 1);
    assert_int_equal(count_files(cache), 1);
    result_free(&r1);
    result_free(&r2);
    result_free(&r3);
    result_free(&tr);
    free(t);
    free(cache);
    free(sdir);
}

/* Same size, mtime put back: only the ctime tells. */
static void same_size_restored_mtime(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache");
    wait_settled();
    result before;
    assert_int_equal(add_fresh(cache, t, NC_CA_NAR, &before).recorded, 1);
    char *f = sub(t, "sub/b.txt");
    struct stat old;
    assert_int_equal(stat(f, &old), 0);
    wait_settled();
    FILE *fp = fopen(f, "r+");
    assert_non_null(fp);
    fputs("BBBB\n", fp);
    fclose(fp);
    struct timespec ts[2] = {old.st_atim, old.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, f, ts, 0), 0);
    struct stat now;
    assert_int_equal(stat(f, &now), 0);
    assert_int_equal(now.st_size, old.st_size);
    assert_int_equal(now.st_mtim.tv_sec, old.st_mtim.tv_sec);
    assert_int_equal(now.st_mtim.tv_nsec, old.st_mtim.tv_nsec);
    result after;
    st_path_cache_stats s = add_fresh(cache, t, NC_CA_NAR, &after);
    assert_int_equal(s.hits, 0);
    assert_string_not_equal(before.nar, after.nar);
    check_oracle(t, &after);
    /* once settled the new hash is what gets recorded and reused */
    wait_settled();
    assert_int_equal(add_fresh(cache, t, NC_CA_NAR, NULL).recorded, 1);
    assert_int_equal(add_fresh(cache, t, NC_CA_NAR, NULL).hits, 1);
    result_free(&before);
    result_free(&after);
    free(f);
    free(t);
    free(cache);
}

/* Each change of the set of names or of a mode gives a new hash. */
static void added_removed_renamed(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache");
    wait_settled();
    result prev;
    assert_int_equal(add_fresh(cache, t, NC_CA_NAR, &prev).recorded, 1);
    char *a = sub(t, "sub/new.txt"), *b = sub(t, "sub/renamed.txt"), *x = sub(t, "run.sh");
    for (int step = 0; step < 5; step++) {
        switch (step) {
        case 0: put(t, "sub/new.txt", "new\n", 0644); break;
        case 1: assert_int_equal(rename(a, b), 0); break;
        case 2: assert_int_equal(unlink(b), 0); break;
        case 3: assert_int_equal(chmod(x, 0644), 0); break;
        case 4: {
            /* a link retargeted to a target of the same length */
            char *l = sub(t, "link");
            assert_int_equal(unlink(l), 0);
            assert_int_equal(symlink("sub/B.txt", l), 0);
            free(l);
            break;
        }
        }
        result r;
        st_path_cache_stats s = add_fresh(cache, t, NC_CA_NAR, &r);
        assert_int_equal(s.hits, 0);
        assert_string_not_equal(r.nar, prev.nar);
        check_oracle(t, &r);
        /* settle, record, and the next step starts from a cached tree */
        wait_settled();
        assert_int_equal(add_fresh(cache, t, NC_CA_NAR, NULL).recorded, 1);
        result_free(&prev);
        prev = r;
    }
    result_free(&prev);
    free(a);
    free(b);
    free(x);
    free(t);
    free(cache);
}

/* A tree changed just now is hashed every time and never recorded. */
static void fresh_tree_not_recorded(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache");
    for (int i = 0; i < 2; i++) {
        st_store *st = open_store("dry:", cache, -1);
        result r = add(st, t, NC_CA_NAR);
        st_path_cache_stats s = stats(st);
        assert_int_equal(s.misses, 1);
        assert_int_equal(s.unsettled, 1);
        assert_int_equal(s.recorded, 0);
        st_store_close(st);
        result_free(&r);
    }
    assert_int_equal(count_entries(cache), 0);
    free(t);
    free(cache);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* Gives the last record in b (" <sha256 of the rest>\n" closes it) the
 * checksum its text calls for. */
static void resum_last(ut_buf *b)
{
    b->len -= 66;
    size_t start = b->len;
    while (start > 0 && b->data[start - 1] != '\n') start--;
    nc_hash h;
    nc_hash_bytes(NC_HASH_SHA256, b->data + start, b->len - start, &h);
    char hex[65];
    nc_hash_print(&h, NC_HASH_BASE16, false, hex);
    ut_buf_printf(b, " %s\n", hex);
}

/* Rewrites the entry's text with `from` replaced by `to` and, if asked,
 * a checksum that fits the new text (a well-formed entry of another kind). */
static void edit_entry(const char *entry, const char *from, const char *to, bool fix_sum)
{
    ut_buf text = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(ut_read_file(entry, &text, &e));
    char *at = strstr(text.data, from);
    assert_non_null(at);
    ut_buf out = UT_BUF_INIT;
    ut_buf_append(&out, text.data, (size_t)(at - text.data));
    ut_buf_puts(&out, to);
    ut_buf_puts(&out, at + strlen(from));
    if (fix_sum) resum_last(&out);
    write_bytes(entry, out.data, out.len);
    ut_buf_free(&out);
    ut_buf_free(&text);
}

static void corrupt_entries_ignored(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache");
    wait_settled();
    result good;
    assert_int_equal(add_fresh(cache, t, NC_CA_NAR, &good).recorded, 1);
    char *entry = only_entry(cache);
    ut_buf orig = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(ut_read_file(entry, &orig, &e));
    char narhex[65];
    {
        /* the entry's NAR hash line, to damage it */
        st_store *st = open_store("dry:", NULL, 0);
        st_path_info *pi = NULL;
        char *p = NULL;
        assert_true(st_store_add_path(st, t, "src", NULL, NULL, NC_CA_NAR, &p, &pi, &e));
        nc_hash_print(&pi->nar_hash, NC_HASH_BASE16, false, narhex);
        st_path_info_free(pi);
        free(p);
        st_store_close(st);
    }
    char badhex[65];
    memcpy(badhex, narhex, sizeof badhex);
    badhex[0] = badhex[0] == '0' ? '1' : '0';
    for (int kind = 0; kind < 8; kind++) {
        write_bytes(entry, orig.data, orig.len);
        switch (kind) {
        case 0: write_bytes(entry, "", 0); break;
        case 1: write_bytes(entry, orig.data, orig.len / 2); break;
        case 2: write_bytes(entry, orig.data, orig.len - 1); break;
        case 3: edit_entry(entry, narhex, badhex, false); break;   /* damaged: checksum fails */
        case 4: edit_entry(entry, "@pc1 ", "@pc2 ", true); break;   /* another version */
        case 5: {
            /* a well-formed record of the flat method for the same path */
            edit_entry(entry, " nar ", " flat ", false);
            ut_buf fh = UT_BUF_INIT;
            ut_buf_printf(&fh, " %s ", narhex);
            edit_entry(entry, " - ", fh.data, true);
            ut_buf_free(&fh);
            break;
        }
        case 6: edit_entry(entry, t, "/elsewhere", true); break;   /* another path */
        case 7: {
            /* a run of torn appends glued together, then a newline */
            ut_buf big = UT_BUF_INIT;
            for (int i = 0; i < 3000; i++) ut_buf_append(&big, orig.data, orig.len - 2);
            ut_buf_putc(&big, '\n');
            write_bytes(entry, big.data, big.len);
            ut_buf_free(&big);
            break;
        }
        }
        result r;
        st_path_cache_stats s = add_fresh(cache, t, NC_CA_NAR, &r);
        assert_int_equal(s.hits, 0);
        assert_int_equal(s.recorded, 1);   /* rewritten */
        assert_same(&r, &good);
        result_free(&r);
        assert_int_equal(add_fresh(cache, t, NC_CA_NAR, NULL).hits, 1);
    }
    /* a directory where the log should be: a miss, nothing recorded, and
     * no error */
    assert_int_equal(unlink(entry), 0);
    assert_int_equal(mkdir(entry, 0700), 0);
    st_path_cache_stats ds = add_fresh(cache, t, NC_CA_NAR, NULL);
    assert_int_equal(ds.hits, 0);
    assert_int_equal(ds.recorded, 0);
    ut_buf_free(&orig);
    result_free(&good);
    free(entry);
    free(t);
    free(cache);
}

/* A path the cache knows but this store lacks is added from the bytes. */
static void cached_but_absent(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache"), *s1 = mktmp("store"), *s2 = mktmp("store");
    wait_settled();
    st_store *a = open_local(s1, cache, SETTLE_MS);
    result ra = add(a, t, NC_CA_NAR);
    st_store_close(a);
    st_store *b = open_local(s2, cache, SETTLE_MS);
    ut_err e = UT_ERR_INIT;
    assert_int_equal(st_store_query(b, ra.path, NULL, &e), 0);
    result rb = add(b, t, NC_CA_NAR);
    assert_same(&ra, &rb);
    assert_int_equal(stats(b).hits, 1);
    st_path_info *pi = NULL;
    assert_int_equal(st_store_query(b, rb.path, &pi, &e), 1);
    st_path_info_free(pi);
    const char *paths[] = {rb.path};
    st_verify_report rep = {0};
    assert_true(st_store_verify(b, paths, 1, NULL, NULL, NULL, &rep, &e));
    assert_int_equal(rep.ok, 1);
    /* and its files are the tree's */
    ut_buf f = UT_BUF_INIT;
    ut_buf sp = UT_BUF_INIT;
    ut_buf_printf(&sp, "%s/sub/b.txt", rb.path);
    assert_true(st_store_read_file(b, sp.data, &f, &e));
    assert_string_equal(f.data, "bbbb\n");
    ut_buf_free(&f);
    ut_buf_free(&sp);
    st_store_close(b);
    result_free(&ra);
    result_free(&rb);
    free(t);
    free(cache);
    free(s1);
    free(s2);
}

static void flat_files(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache");
    char *f = sub(t, "a.nix");
    wait_settled();
    result r1;
    assert_int_equal(add_fresh(cache, f, NC_CA_FLAT, &r1).recorded, 1);
    result r2;
    assert_int_equal(add_fresh(cache, f, NC_CA_FLAT, &r2).hits, 1);
    assert_same(&r1, &r2);
    /* the NAR method of the same file is another entry */
    assert_int_equal(add_fresh(cache, f, NC_CA_NAR, NULL).hits, 0);
    assert_int_equal(add_fresh(cache, f, NC_CA_NAR, NULL).hits, 1);
    put(t, "a.nix", "{ x = 2; }\n", 0644);
    result r3;
    assert_int_equal(add_fresh(cache, f, NC_CA_FLAT, &r3).hits, 0);
    assert_string_not_equal(r1.path, r3.path);
    result_free(&r1);
    result_free(&r2);
    result_free(&r3);
    free(f);
    free(t);
    free(cache);
}

/* No cache to be had: no error, same results. */
static void unusable_cache_dir(void **state)
{
    (void)state;
    char *t = make_tree(), *blocker = mktmp("file");
    put(tmp_root, strrchr(blocker, '/') + 1, "not a directory\n", 0644);
    char *cache = sub(blocker, "cache");
    wait_settled();
    st_path_cache_stats s = add_fresh(cache, t, NC_CA_NAR, NULL);
    assert_int_equal(s.recorded, 0);
    assert_int_equal(add_fresh(cache, t, NC_CA_NAR, NULL).hits, 0);
    free(cache);
    free(blocker);
    free(t);
}

/* A filter must see every entry: filtered adds never use the cache. */
static int keep_all(void *ctx, const char *p, st_file_type ty, ut_err *e)
{
    (void)p;
    (void)ty;
    (void)e;
    (*(int *)ctx)++;
    return 1;
}

static void filtered_not_cached(void **state)
{
    (void)state;
    char *t = make_tree(), *cache = mktmp("cache");
    wait_settled();
    add_fresh(cache, t, NC_CA_NAR, NULL);
    st_store *st = open_store("dry:", cache, SETTLE_MS);
    int calls = 0;
    char *p = NULL;
    ut_err e = UT_ERR_INIT;
    assert_true(st_store_add_path(st, t, "src", keep_all, &calls, NC_CA_NAR, &p, NULL, &e));
    assert_int_equal(calls, 7);
    st_path_cache_stats s = stats(st);
    assert_int_equal(s.hits + s.misses, 0);
    st_store_close(st);
    free(p);
    free(t);
    free(cache);
}

/* Errors stay errors: a missing path is not served from anywhere. */
static void missing_path(void **state)
{
    (void)state;
    char *cache = mktmp("cache"), *gone = mktmp("gone");
    st_store *st = open_store("dry:", cache, SETTLE_MS);
    char *p = NULL;
    ut_err e = UT_ERR_INIT;
    assert_false(st_store_add_path(st, gone, "src", NULL, NULL, NC_CA_NAR, &p, NULL, &e));
    assert_non_null(e.msg);
    ut_err_clear(&e);
    st_store_close(st);
    free(cache);
    free(gone);
}

/* Rewrites the written time of the record for `path` to `days` ago. */
static void age_record(const char *cache, const char *path, int days)
{
    char *log = sub(cache, "v1.log");
    ut_buf text = UT_BUF_INIT, out = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(ut_read_file(log, &text, &e));
    ut_buf needle = UT_BUF_INIT;
    ut_buf_printf(&needle, " %s ", path);
    bool found = false;
    for (char *line = text.data; line < text.data + text.len;) {
        char *nl = memchr(line, '\n', (size_t)(text.data + text.len - line));
        assert_non_null(nl);
        size_t len = (size_t)(nl + 1 - line);
        char *t = strstr(line, needle.data);
        if (t && t < nl) {
            /* "@pc1 <written> ..." */
            char *sp = memchr(line + 5, ' ', len - 5);
            ut_buf_printf(&out, "@pc1 %lld", (long long)time(NULL) - (long long)days * 86400);
            ut_buf_append(&out, sp, (size_t)(nl + 1 - sp));
            resum_last(&out);
            found = true;
        } else {
            ut_buf_append(&out, line, len);
        }
        line = nl + 1;
    }
    assert_true(found);
    write_bytes(log, out.data, out.len);
    ut_buf_free(&needle);
    ut_buf_free(&out);
    ut_buf_free(&text);
    free(log);
}

/* Records written long ago are dropped when the log is rewritten; fresh
 * ones, and files that are not the log, stay. */
static void trim_old_entries(void **state)
{
    (void)state;
    char *t1 = make_tree(), *t2 = make_tree(), *cache = mktmp("cache");
    wait_settled();
    add_fresh(cache, t1, NC_CA_NAR, NULL);
    add_fresh(cache, t2, NC_CA_NAR, NULL);
    char *log = only_entry(cache);
    assert_int_equal(count_entries(cache), 2);
    age_record(cache, t1, 40);
    /* still a hit before the rewrite: age alone never makes a miss */
    assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, NULL).hits, 1);
    char *other = sub(cache, "README");
    write_bytes(other, "x", 1);
    st_path_cache *c = st_path_cache_new(cache, SETTLE_MS);
    st_path_cache_trim(c, 30 * 86400);
    st_path_cache_free(c);
    struct stat st;
    assert_int_equal(lstat(other, &st), 0);
    assert_int_equal(count_files(cache), 2);   /* the log and README */
    assert_int_equal(count_entries(cache), 1);
    assert_int_equal(add_fresh(cache, t2, NC_CA_NAR, NULL).hits, 1);
    assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, NULL).hits, 0);
    assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, NULL).hits, 1);
    free(other);
    free(log);
    free(t1);
    free(t2);
    free(cache);
}

/* A compaction's temporary file left by a killed process goes at the next
 * compaction once a day old; a younger one (a compaction under way
 * elsewhere) and other files stay. */
static void stale_compaction_temps(void **state)
{
    (void)state;
    char *t1 = make_tree(), *cache = mktmp("cache");
    wait_settled();
    add_fresh(cache, t1, NC_CA_NAR, NULL);
    char *old = sub(cache, "v1.log.Ab3dE9"), *young = sub(cache, "v1.log.Zz0yX1"), *other = sub(cache, "v1.log.keep");
    write_bytes(old, "partial", 7);
    write_bytes(young, "partial", 7);
    write_bytes(other, "x", 1);
    struct timespec ts[2] = {{.tv_sec = time(NULL) - 2 * 86400}, {.tv_sec = time(NULL) - 2 * 86400}};
    assert_int_equal(utimensat(AT_FDCWD, old, ts, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, other, ts, 0), 0);
    st_path_cache *c = st_path_cache_new(cache, SETTLE_MS);
    st_path_cache_trim(c, 30 * 86400);
    st_path_cache_free(c);
    struct stat st;
    assert_int_not_equal(lstat(old, &st), 0);
    assert_int_equal(lstat(young, &st), 0);
    assert_int_equal(lstat(other, &st), 0);
    assert_int_equal(count_entries(cache), 1);
    assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, NULL).hits, 1);
    free(old);
    free(young);
    free(other);
    free(t1);
    free(cache);
}

/* A directory of n small files, named f0..f(n-1). */
static char *make_files(int n, const char *tag)
{
    char *t = mktmp("files");
    ut_err e = UT_ERR_INIT;
    assert_true(ut_mkdirs(t, 0755, &e));
    for (int i = 0; i < n; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "f%d", i);
        snprintf(text, sizeof text, "%s %d\n", tag, i);
        put(t, name, text, 0644);
    }
    return t;
}

/* Adds every file of make_files' directory through st; returns the hits. */
static size_t add_files(st_store *st, const char *dir, int n)
{
    size_t before = stats(st).hits;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        char *f = sub(dir, name);
        result r = add(st, f, NC_CA_FLAT);
        result_free(&r);
        free(f);
    }
    return stats(st).hits - before;
}

/* Hundreds of entries live in the one log, and all are found again. */
static void many_entries_one_file(void **state)
{
    (void)state;
    enum { N = 300 };
    char *t = make_files(N, "many"), *cache = mktmp("cache");
    wait_settled();
    st_store *st = open_store("dry:", cache, SETTLE_MS);
    assert_int_equal(add_files(st, t, N), 0);
    assert_int_equal(stats(st).recorded, N);
    /* and the tree as a whole, with the NAR method */
    result whole = add(st, t, NC_CA_NAR);
    st_store_close(st);
    assert_int_equal(count_files(cache), 1);
    assert_int_equal(count_entries(cache), N + 1);
    st = open_store("dry:", cache, SETTLE_MS);
    assert_int_equal(add_files(st, t, N), N);
    result again = add(st, t, NC_CA_NAR);
    assert_same(&whole, &again);
    st_path_cache_stats s = stats(st);
    assert_int_equal(s.misses, 0);
    assert_int_equal(s.recorded, 0);
    st_store_close(st);
    assert_int_equal(count_entries(cache), N + 1);
    result tr = truth(t, NC_CA_NAR);
    assert_same(&whole, &tr);
    result_free(&whole);
    result_free(&again);
    result_free(&tr);
    free(t);
    free(cache);
}

/* An append cut short (a crash) loses only its own record. */
static void torn_final_record(void **state)
{
    (void)state;
    char *t1 = make_tree(), *t2 = make_tree(), *t3 = make_tree(), *cache = mktmp("cache");
    wait_settled();
    add_fresh(cache, t1, NC_CA_NAR, NULL);
    add_fresh(cache, t2, NC_CA_NAR, NULL);
    add_fresh(cache, t3, NC_CA_NAR, NULL);
    char *log = only_entry(cache);
    ut_buf orig = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(ut_read_file(log, &orig, &e));
    for (int cut = 1; cut <= 2; cut++) {
        /* the newline, then the middle of the checksum */
        write_bytes(log, orig.data, orig.len - (cut == 1 ? 1 : 30));
        assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, NULL).hits, 1);
        assert_int_equal(add_fresh(cache, t2, NC_CA_NAR, NULL).hits, 1);
        /* the torn one is hashed and appended again, after the torn bytes */
        st_path_cache_stats s = add_fresh(cache, t3, NC_CA_NAR, NULL);
        assert_int_equal(s.hits, 0);
        assert_int_equal(s.recorded, 1);
        assert_int_equal(add_fresh(cache, t3, NC_CA_NAR, NULL).hits, 1);
        assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, NULL).hits, 1);
    }
    ut_buf_free(&orig);
    free(log);
    free(t1);
    free(t2);
    free(t3);
    free(cache);
}

/* Two processes appending at once, each batch by a handle of its own,
 * leave a log from which every entry is read back. */
static void concurrent_appends(void **state)
{
    (void)state;
    enum { N = 60 };
    char *ta = make_files(N, "a"), *tb = make_files(N, "b"), *cache = mktmp("cache");
    wait_settled();
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            int bad = 0;
            for (int i = 0; i < N; i++) {
                char name[32];
                snprintf(name, sizeof name, "f%d", i);
                char *f = sub(k ? tb : ta, name);
                st_store *st = open_store("dry:", cache, SETTLE_MS);
                char *p = NULL;
                ut_err e = UT_ERR_INIT;
                if (!st_store_add_path(st, f, "src", NULL, NULL, NC_CA_FLAT, &p, NULL, &e)) bad = 1;
                if (stats(st).recorded != 1) bad = 1;
                ut_err_clear(&e);
                free(p);
                st_store_close(st);
                free(f);
            }
            _exit(bad);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(count_files(cache), 1);
    assert_int_equal(count_entries(cache), 2 * N);
    st_store *st = open_store("dry:", cache, SETTLE_MS);
    assert_int_equal(add_files(st, ta, N), N);
    assert_int_equal(add_files(st, tb, N), N);
    assert_int_equal(stats(st).misses, 0);
    st_store_close(st);
    free(ta);
    free(tb);
    free(cache);
}

/* A log mostly of superseded records is rewritten with the live ones. */
static void compaction_keeps_live(void **state)
{
    (void)state;
    char *t1 = make_tree(), *t2 = make_tree(), *cache = mktmp("cache");
    wait_settled();
    result r2;
    add_fresh(cache, t2, NC_CA_NAR, &r2);
    result tr = truth(t1, NC_CA_NAR);
    st_path_hashes real;
    {
        st_store *st = open_store("dry:", NULL, 0);
        st_path_info *pi = NULL;
        char *p = NULL;
        ut_err e = UT_ERR_INIT;
        assert_true(st_store_add_path(st, t1, "src", NULL, NULL, NC_CA_NAR, &p, &pi, &e));
        memset(&real, 0, sizeof real);
        real.nar_hash = pi->nar_hash;
        real.nar_size = pi->nar_size;
        st_path_info_free(pi);
        free(p);
        st_store_close(st);
    }
    /* t1 recorded 400 times, the real hashes last, by one handle: one
     * batch, then the rewrite when the handle is freed */
    enum { TIMES = 400 };
    st_path_cache *c = st_path_cache_new(cache, SETTLE_MS);
    st_path_cache_probe pr;
    st_path_hashes h;
    assert_false(st_path_cache_lookup(c, t1, NC_CA_NAR, &pr, &h));
    assert_true(pr.settled);
    for (int i = 0; i < TIMES; i++) {
        st_path_hashes fake = real;
        fake.nar_size += (uint64_t)(TIMES - 1 - i);
        st_path_cache_record(c, t1, NC_CA_NAR, &pr, i == TIMES - 1 ? &real : &fake);
    }
    st_path_cache_stats cs;
    st_path_cache_get_stats(c, &cs);
    assert_int_equal(cs.recorded, TIMES);
    st_path_cache_free(c);
    assert_int_equal(count_files(cache), 1);   /* no temporary file left */
    assert_int_equal(count_entries(cache), 2);
    result r1;
    assert_int_equal(add_fresh(cache, t1, NC_CA_NAR, &r1).hits, 1);
    assert_same(&r1, &tr);
    result r2b;
    assert_int_equal(add_fresh(cache, t2, NC_CA_NAR, &r2b).hits, 1);
    assert_same(&r2, &r2b);
    /* a handle whose log is replaced by another's rewrite before it
     * appends appends to the new log */
    char *t3 = make_tree();
    wait_settled();
    st_store *st = open_store("dry:", cache, SETTLE_MS);
    result r3 = add(st, t3, NC_CA_NAR);
    assert_int_equal(stats(st).recorded, 1);
    c = st_path_cache_new(cache, SETTLE_MS);
    st_path_cache_trim(c, 30 * 86400);
    st_path_cache_free(c);
    st_store_close(st);
    assert_int_equal(count_entries(cache), 3);
    assert_int_equal(add_fresh(cache, t3, NC_CA_NAR, NULL).hits, 1);
    result_free(&r3);
    free(t3);
    result_free(&r1);
    result_free(&r2);
    result_free(&r2b);
    result_free(&tr);
    free(t1);
    free(t2);
    free(cache);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_root, sizeof tmp_root, "%s/st-pathcache-XXXXXX", tmp);
    if (!mkdtemp(tmp_root)) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hashed_then_cached),      cmocka_unit_test(same_size_restored_mtime),
        cmocka_unit_test(added_removed_renamed),   cmocka_unit_test(fresh_tree_not_recorded),
        cmocka_unit_test(corrupt_entries_ignored), cmocka_unit_test(cached_but_absent),
        cmocka_unit_test(flat_files),              cmocka_unit_test(unusable_cache_dir),
        cmocka_unit_test(filtered_not_cached),     cmocka_unit_test(missing_path),
        cmocka_unit_test(trim_old_entries),        cmocka_unit_test(many_entries_one_file),
        cmocka_unit_test(torn_final_record),       cmocka_unit_test(concurrent_appends),
        cmocka_unit_test(compaction_keeps_live),   cmocka_unit_test(stale_compaction_temps),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    scratch_remove(tmp_root);
    return rc;
}
