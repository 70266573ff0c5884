/* The store over a local directory: the hello closure's objects must get
 * Nix's paths and NAR hashes (closure.tsv, from nix-store 2.8), reads must
 * refuse damaged blobs, gc must keep exactly the roots' closure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/store/scratch.h"

#include "compat/hash.h"
#include "store/keys.h"
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
#include <unistd.h>

static const char *hello_dir;   /* corpus/hello-closure */
static char tmp_root[256];

static char *mktmp(const char *tag)
{
    return scratch_path(tmp_root, tag);
}

static st_store *open_store(const char *dir)
{
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "local:%s", dir);
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(u.data, &e);
    if (!st) fail_msg("%s", e.msg);
    ut_buf_free(&u);
    return st;
}

typedef struct row {
    char *path, *hash, *refs;
    uint64_t size;
} row;

static row *load_tsv(size_t *n)
{
    ut_buf p = UT_BUF_INIT, t = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/closure.tsv", hello_dir);
    ut_err e = UT_ERR_INIT;
    if (!ut_read_file(p.data, &t, &e)) fail_msg("%s", e.msg);
    row *rows = NULL;
    size_t k = 0;
    char *save = NULL;
    for (char *line = strtok_r(t.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0};
        char *s = line;
        for (int i = 0; i < 4; i++) {
            f[i] = s;
            char *tab = s ? strchr(s, '\t') : NULL;
            if (tab) *tab = 0;
            s = tab ? tab + 1 : NULL;
        }
        rows = ut_xrealloc(rows, (k + 1) * sizeof *rows);
        rows[k].path = ut_xstrdup(f[0]);
        rows[k].hash = ut_xstrdup(f[1]);
        rows[k].size = strtoull(f[2], NULL, 10);
        rows[k].refs = ut_xstrdup(f[3] ? f[3] : "");
        k++;
    }
    ut_buf_free(&p);
    ut_buf_free(&t);
    *n = k;
    return rows;
}

static void free_rows(row *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].path);
        free(r[i].hash);
        free(r[i].refs);
    }
    free(r);
}

/* Adds every object of the hello closure and checks path, NAR hash, size
 * and references against Nix's. */
static void hello_closure(void **state)
{
    (void)state;
    size_t n;
    row *rows = load_tsv(&n);
    assert_int_equal(n, 339);
    char *dir = mktmp("hello");
    st_store *st = open_store(dir);
    size_t drv_ok = 0, src_ok = 0;
    for (size_t i = 0; i < n; i++) {
        const char *base = rows[i].path + strlen("/nix/store/");
        const char *name = base + 33;
        ut_buf file = UT_BUF_INIT, data = UT_BUF_INIT;
        ut_buf_printf(&file, "%s/store/%s", hello_dir, base);
        ut_err e = UT_ERR_INIT;
        char *got = NULL;
        size_t nl = strlen(name);
        if (nl > 4 && !strcmp(name + nl - 4, ".drv")) {
            if (!ut_read_file(file.data, &data, &e)) fail_msg("%s", e.msg);
            char *refs[64];
            size_t nr = 0;
            char *rs = ut_xstrdup(rows[i].refs), *sv = NULL;
            for (char *r = strtok_r(rs, " ", &sv); r; r = strtok_r(NULL, " ", &sv)) refs[nr++] = r;
            if (!st_store_add_text(st, name, data.data, data.len, (const char *const *)refs, nr, &got, &e))
                fail_msg("%s: %s", base, e.msg);
            free(rs);
            if (!strcmp(got, rows[i].path)) drv_ok++;
        } else {
            if (!st_store_add_path(st, file.data, name, NULL, NULL, NC_CA_NAR, &got, NULL, &e))
                fail_msg("%s: %s", base, e.msg);
            if (!strcmp(got, rows[i].path)) src_ok++;
        }
        assert_string_equal(got, rows[i].path);
        st_path_info *pi = NULL;
        assert_int_equal(st_store_query(st, got, &pi, &e), 1);
        char h[NC_HASH_STR_MAX];
        nc_hash_print(&pi->nar_hash, NC_HASH_NIX32, true, h);
        assert_string_equal(h, rows[i].hash);
        assert_int_equal(pi->nar_size, rows[i].size);
        ut_buf refs = UT_BUF_INIT;
        ut_buf_puts(&refs, "");
        for (size_t j = 0; j < pi->nrefs; j++) ut_buf_printf(&refs, "%s%s", j ? " " : "", pi->refs[j]);
        assert_string_equal(refs.data, rows[i].refs);
        ut_buf_free(&refs);
        st_path_info_free(pi);
        free(got);
        ut_buf_free(&file);
        ut_buf_free(&data);
    }
    assert_int_equal(drv_ok, 241);
    assert_int_equal(src_ok, 98);

    /* The root's closure is the whole corpus. */
    ut_buf rootf = UT_BUF_INIT, root = UT_BUF_INIT;
    ut_buf_printf(&rootf, "%s/root", hello_dir);
    ut_err e = UT_ERR_INIT;
    assert_true(ut_read_file(rootf.data, &root, &e));
    while (root.len && root.data[root.len - 1] == '\n') root.data[--root.len] = 0;
    char **cl = NULL;
    size_t ncl = 0;
    const char *rp = root.data;
    assert_true(st_store_closure(st, &rp, 1, &cl, &ncl, &e));
    assert_int_equal(ncl, 339);
    st_strv_free(cl, ncl);

    /* Reading back gives the same bytes. */
    ut_buf back = UT_BUF_INIT, orig = UT_BUF_INIT, f = UT_BUF_INIT;
    if (!st_store_read_file(st, root.data, &back, &e)) fail_msg("%s", e.msg);
    ut_buf_printf(&f, "%s/store/%s", hello_dir, root.data + 11);
    assert_true(ut_read_file(f.data, &orig, &e));
    assert_int_equal(back.len, orig.len);
    assert_memory_equal(back.data, orig.data, orig.len);

    /* A second store handle sees every path; adding again is a no-op. */
    st_store_close(st);
    st = open_store(dir);
    st_path_info *rpi = NULL;
    assert_int_equal(st_store_query(st, root.data, &rpi, &e), 1);
    char *again = NULL;
    assert_true(st_store_add_text(st, root.data + 44, orig.data, orig.len, (const char *const *)rpi->refs, rpi->nrefs,
                                  &again, &e));
    assert_string_equal(again, root.data);
    st_path_info_free(rpi);
    free(again);
    st_verify_report rep;
    if (!st_store_verify(st, NULL, 0, NULL, NULL, NULL, &rep, &e)) fail_msg("verify: %s", e.msg ? e.msg : "problems");
    assert_int_equal(rep.checked, 339);
    assert_int_equal(rep.ok, 339);
    ut_buf_free(&back);
    ut_buf_free(&orig);
    ut_buf_free(&f);
    ut_buf_free(&rootf);
    ut_buf_free(&root);
    st_store_close(st);
    free(dir);
    free_rows(rows, n);
}

static void write_file(const char *path, const char *s, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
}

static char *blob_path(st_store *st, const char *dir, const char *path)
{
    st_path_info *pi = NULL;
    ut_err e = UT_ERR_INIT;
    assert_int_equal(st_store_query(st, path, &pi, &e), 1);
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%s", dir, pi->url);
    st_path_info_free(pi);
    return ut_buf_steal(&b, NULL);
}

/* A tree with a subdirectory, an executable and a symlink survives
 * add -> materialise -> add with the same path and NAR hash. */
static void tree_roundtrip(void **state)
{
    (void)state;
    char *src = mktmp("tree"), *dir = mktmp("st");
    ut_err e = UT_ERR_INIT;
    assert_true(ut_mkdirs(src, 0755, &e));
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/sub", src);
    mkdir(p.data, 0755);
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/sub/run.sh", src);
    write_file(p.data, "#!/bin/sh\necho hi\n", 0755);
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/a.txt", src);
    write_file(p.data, "hello\n", 0644);
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/link", src);
    assert_int_equal(symlink("a.txt", p.data), 0);
    st_store *st = open_store(dir);
    char *path1 = NULL, *path2 = NULL;
    st_path_info *i1 = NULL, *i2 = NULL;
    if (!st_store_add_path(st, src, "tree", NULL, NULL, NC_CA_NAR, &path1, &i1, &e)) fail_msg("%s", e.msg);
    char *out = mktmp("out");
    if (!st_store_materialize(st, path1, out, &e)) fail_msg("%s", e.msg);
    struct stat sb;
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/sub/run.sh", out);
    assert_int_equal(stat(p.data, &sb), 0);
    assert_true(sb.st_mode & S_IXUSR);
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/link", out);
    assert_int_equal(lstat(p.data, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    if (!st_store_add_path(st, out, "tree", NULL, NULL, NC_CA_NAR, &path2, &i2, &e)) fail_msg("%s", e.msg);
    assert_string_equal(path1, path2);
    assert_true(nc_hash_eq(&i1->nar_hash, &i2->nar_hash));
    /* Checkout: materialised once, then reused. */
    char *co = mktmp("co"), *c1 = NULL, *c2 = NULL;
    if (!st_store_checkout(st, path1, co, &c1, &e)) fail_msg("%s", e.msg);
    ut_buf cf = UT_BUF_INIT;
    ut_buf_printf(&cf, "%s/a.txt", c1);
    assert_int_equal(stat(cf.data, &sb), 0);
    assert_true(st_store_checkout(st, path1, co, &c2, &e));
    assert_string_equal(c1, c2);
    assert_true(!strcmp(c1 + strlen(co) + 1, path1 + 11));
    ut_buf_free(&cf);
    free(c1);
    free(c2);
    free(co);
    /* Materialising onto an existing path is refused. */
    assert_false(st_store_materialize(st, path1, out, &e));
    assert_non_null(strstr(e.msg, "already exists"));
    ut_err_clear(&e);
    /* A file inside the tree. */
    ut_buf content = UT_BUF_INIT;
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/sub/run.sh", path1);
    assert_true(st_store_read_file(st, p.data, &content, &e));
    assert_string_equal(content.data, "#!/bin/sh\necho hi\n");
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/nope", path1);
    assert_false(st_store_read_file(st, p.data, &content, &e));
    assert_non_null(strstr(e.msg, "does not exist"));
    ut_err_clear(&e);

    ut_buf_free(&content);
    ut_buf_free(&p);
    st_path_info_free(i1);
    st_path_info_free(i2);
    free(path1);
    free(path2);
    free(out);
    st_store_close(st);
    free(src);
    free(dir);
}

static int filter_calls;
static int no_links(void *ctx, const char *fs, st_file_type t, ut_err *e)
{
    (void)ctx;
    (void)fs;
    (void)e;
    filter_calls++;
    return t != ST_FILE_SYMLINK;
}

static int failing_filter(void *ctx, const char *fs, st_file_type t, ut_err *e)
{
    (void)ctx;
    (void)t;
    ut_err_set(e, "filter threw on %s", fs);
    return -1;
}

static void filters(void **state)
{
    (void)state;
    char *src = mktmp("f"), *dir = mktmp("st");
    ut_err e = UT_ERR_INIT;
    assert_true(ut_mkdirs(src, 0755, &e));
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/a", src);
    write_file(p.data, "a", 0644);
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/l", src);
    assert_int_equal(symlink("a", p.data), 0);
    st_store *st = open_store(dir);
    char *with = NULL, *without = NULL;
    assert_true(st_store_add_path(st, src, "f", NULL, NULL, NC_CA_NAR, &with, NULL, &e));
    filter_calls = 0;
    assert_true(st_store_add_path(st, src, "f", no_links, NULL, NC_CA_NAR, &without, NULL, &e));
    assert_int_equal(filter_calls, 2);
    assert_string_not_equal(with, without);
    unlink(p.data);
    char *plain = NULL;
    assert_true(st_store_add_path(st, src, "f", NULL, NULL, NC_CA_NAR, &plain, NULL, &e));
    assert_string_equal(plain, without);
    char *x = NULL;
    assert_false(st_store_add_path(st, src, "f", failing_filter, NULL, NC_CA_NAR, &x, NULL, &e));
    assert_non_null(strstr(e.msg, "filter threw"));
    ut_err_clear(&e);
    /* Flat: a single file named by the sha256 of its bytes. */
    ut_buf_clear(&p);
    ut_buf_printf(&p, "%s/a", src);
    char *flat = NULL;
    st_path_info *fi = NULL;
    assert_true(st_store_add_path(st, p.data, "a", NULL, NULL, NC_CA_FLAT, &flat, &fi, &e));
    assert_non_null(fi->ca);
    assert_true(!strncmp(fi->ca, "fixed:sha256:", 13));
    assert_false(st_store_add_path(st, src, "a", NULL, NULL, NC_CA_FLAT, &x, NULL, &e));
    ut_err_clear(&e);
    /* Bad names are refused before anything is written. */
    assert_false(st_store_add_path(st, p.data, "a b", NULL, NULL, NC_CA_NAR, &x, NULL, &e));
    ut_err_clear(&e);
    st_path_info_free(fi);
    free(flat);
    free(with);
    free(without);
    free(plain);
    ut_buf_free(&p);
    st_store_close(st);
    free(src);
    free(dir);
}

static void corruption(void **state)
{
    (void)state;
    char *dir = mktmp("st");
    st_store *st = open_store(dir);
    ut_err e = UT_ERR_INIT;
    char *path = NULL;
    const char *text = "some text object\n";
    assert_true(st_store_add_text(st, "t.txt", text, strlen(text), NULL, 0, &path, &e));
    char *bp = blob_path(st, dir, path);
    ut_buf out = UT_BUF_INIT;
    assert_true(st_store_read_file(st, path, &out, &e));
    assert_string_equal(out.data, text);

    /* Flip a byte in the blob. */
    chmod(bp, 0644);
    ut_buf nar = UT_BUF_INIT;
    assert_true(ut_read_file(bp, &nar, &e));
    nar.data[nar.len - 20] ^= 1;
    assert_true(ut_write_file_atomic(bp, nar.data, nar.len, 0644, &e));
    ut_buf_clear(&out);
    assert_false(st_store_read_file(st, path, &out, &e));
    assert_non_null(strstr(e.msg, "is damaged"));
    assert_int_equal(out.len, 0);
    ut_err_clear(&e);
    char *dest = mktmp("m");
    assert_false(st_store_materialize(st, path, dest, &e));
    ut_err_clear(&e);
    struct stat sb;
    assert_int_equal(lstat(dest, &sb), -1);   /* nothing half-written */

    /* Truncated. */
    assert_true(ut_write_file_atomic(bp, nar.data, nar.len - 8, 0644, &e));
    assert_false(st_store_read_file(st, path, &out, &e));
    assert_non_null(strstr(e.msg, "is damaged"));
    ut_err_clear(&e);
    st_verify_report rep;
    assert_false(st_store_verify(st, NULL, 0, NULL, NULL, NULL, &rep, &e));
    assert_int_equal(rep.corrupt, 1);

    /* Missing. */
    unlink(bp);
    assert_false(st_store_read_file(st, path, &out, &e));
    assert_non_null(strstr(e.msg, "missing"));
    ut_err_clear(&e);

    ut_buf_free(&nar);
    ut_buf_free(&out);
    free(dest);
    free(bp);
    free(path);
    st_store_close(st);
    free(dir);
}

static void dry_store(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    st_store *dry = st_store_open("dry:", &e);
    char *dir = mktmp("st");
    st_store *st = open_store(dir);
    char *p1 = NULL, *p2 = NULL;
    const char *t = "x";
    assert_true(st_store_add_text(dry, "x", t, 1, NULL, 0, &p1, &e));
    assert_true(st_store_add_text(st, "x", t, 1, NULL, 0, &p2, &e));
    assert_string_equal(p1, p2);
    assert_int_equal(st_store_query(dry, p1, NULL, &e), 0);
    char *src = mktmp("d");
    assert_true(ut_mkdirs(src, 0755, &e));
    char *q1 = NULL, *q2 = NULL;
    assert_true(st_store_add_path(dry, src, "d", NULL, NULL, NC_CA_NAR, &q1, NULL, &e));
    assert_true(st_store_add_path(st, src, "d", NULL, NULL, NC_CA_NAR, &q2, NULL, &e));
    assert_string_equal(q1, q2);
    assert_true(st_store_is_dry(dry));
    free(p1);
    free(p2);
    free(q1);
    free(q2);
    free(src);
    st_store_close(dry);
    st_store_close(st);
    free(dir);
}

static void gc(void **state)
{
    (void)state;
    char *dir = mktmp("st");
    st_store *st = open_store(dir);
    ut_err e = UT_ERR_INIT;
    char *a = NULL, *b = NULL, *c = NULL;
    assert_true(st_store_add_text(st, "a", "A", 1, NULL, 0, &a, &e));
    const char *refs[] = {a};
    assert_true(st_store_add_text(st, "b", "B", 1, refs, 1, &b, &e));
    assert_true(st_store_add_text(st, "c", "C", 1, NULL, 0, &c, &e));
    char *roots = mktmp("roots");
    assert_true(ut_mkdirs(roots, 0755, &e));
    ut_buf l = UT_BUF_INIT;
    ut_buf_printf(&l, "%s/r1", roots);
    assert_int_equal(symlink(b, l.data), 0);
    st_gc_stats s;
    assert_true(st_store_gc(st, roots, 0, true, &s, &e));   /* dry run */
    assert_int_equal(s.paths_deleted, 1);
    assert_int_equal(st_store_query(st, c, NULL, &e), 1);
    assert_true(st_store_gc(st, roots, 0, false, &s, &e));
    assert_int_equal(s.paths_kept, 2);
    assert_int_equal(s.paths_deleted, 1);
    assert_int_equal(s.blobs_deleted, 1);
    assert_int_equal(st_store_query(st, a, NULL, &e), 1);
    assert_int_equal(st_store_query(st, b, NULL, &e), 1);
    assert_int_equal(st_store_query(st, c, NULL, &e), 0);
    /* The grace period keeps young unreachable paths and their blobs. */
    char *d = NULL;
    assert_true(st_store_add_text(st, "d", "D", 1, NULL, 0, &d, &e));
    assert_true(st_store_gc(st, roots, 3600, false, &s, &e));
    assert_int_equal(s.paths_deleted, 0);
    assert_int_equal(s.blobs_deleted, 0);
    assert_int_equal(st_store_query(st, d, NULL, &e), 1);
    ut_buf dv = UT_BUF_INIT;
    assert_true(st_store_read_file(st, d, &dv, &e));
    ut_buf_free(&dv);
    assert_true(st_store_gc(st, roots, 0, false, &s, &e));
    assert_int_equal(s.paths_deleted, 1);
    assert_int_equal(s.blobs_deleted, 1);
    free(a);
    free(b);
    free(c);
    free(d);
    ut_buf_free(&l);
    free(roots);
    st_store_close(st);
    free(dir);
}

/* Four processes add the same objects at once: all succeed, one copy. */
static void concurrent_writers(void **state)
{
    (void)state;
    char *dir = mktmp("st");
    char *src = mktmp("big");
    ut_err e = UT_ERR_INIT;
    assert_true(ut_mkdirs(src, 0755, &e));
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/data", src);
    ut_buf big = UT_BUF_INIT;
    for (int i = 0; i < 200000; i++) ut_buf_printf(&big, "line %d\n", i);
    assert_true(ut_write_file_atomic(p.data, big.data, big.len, 0644, &e));
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            st_store *st = open_store(dir);
            char *x = NULL, *y = NULL;
            ut_err ce = UT_ERR_INIT;
            bool ok = st_store_add_path(st, src, "big", NULL, NULL, NC_CA_NAR, &x, NULL, &ce) &&
                      st_store_add_text(st, "t", "same", 4, NULL, 0, &y, &ce);
            if (!ok) fprintf(stderr, "child: %s\n", ce.msg);
            _exit(ok ? 0 : 1);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    st_store *st = open_store(dir);
    st_verify_report rep;
    assert_true(st_store_verify(st, NULL, 0, NULL, NULL, NULL, &rep, &e));
    assert_int_equal(rep.checked, 2);
    /* No temporary files left behind. */
    ut_buf t = UT_BUF_INIT;
    ut_buf_printf(&t, "%s/.tmp", dir);
    DIR *d = opendir(t.data);
    assert_non_null(d);
    int left = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') left++;
    closedir(d);
    assert_int_equal(left, 0);
    ut_buf_free(&t);
    ut_buf_free(&p);
    ut_buf_free(&big);
    st_store_close(st);
    free(src);
    free(dir);
}

/* Compression: xz blobs under their own hash, FileHash/FileSize recorded,
 * read back verified; a flipped byte in the compressed blob is refused. */
static void xz_blobs(void **state)
{
    (void)state;
    char *dir = mktmp("xz");
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "file://%s?compression=xz", dir);
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(u.data, &e);
    if (!st) fail_msg("%s", e.msg);
    ut_buf big = UT_BUF_INIT;
    for (int i = 0; i < 50000; i++) ut_buf_printf(&big, "compressible line %d\n", i % 100);
    char *p = NULL;
    assert_true(st_store_add_text(st, "big.txt", big.data, big.len, NULL, 0, &p, &e));
    st_path_info *pi = NULL;
    assert_int_equal(st_store_query(st, p, &pi, &e), 1);
    assert_string_equal(pi->compression, "xz");
    assert_true(pi->has_file_hash);
    assert_true(pi->file_size < pi->nar_size / 10);
    assert_true(!strncmp(pi->url, "nar/", 4) && strstr(pi->url, ".nar.xz"));
    ut_buf back = UT_BUF_INIT;
    if (!st_store_read_file(st, p, &back, &e)) fail_msg("%s", e.msg);
    assert_int_equal(back.len, big.len);
    assert_memory_equal(back.data, big.data, big.len);
    ut_buf bp = UT_BUF_INIT, blob = UT_BUF_INIT;
    ut_buf_printf(&bp, "%s/%s", dir, pi->url);
    assert_true(ut_read_file(bp.data, &blob, &e));
    blob.data[blob.len / 2] ^= 4;
    chmod(bp.data, 0644);
    assert_true(ut_write_file_atomic(bp.data, blob.data, blob.len, 0644, &e));
    assert_false(st_store_read_file(st, p, &back, &e));
    assert_non_null(strstr(e.msg, "FileHash"));
    ut_err_clear(&e);
    ut_buf_free(&bp);
    ut_buf_free(&blob);
    ut_buf_free(&back);
    st_path_info_free(pi);
    free(p);
    ut_buf_free(&big);
    ut_buf_free(&u);
    st_store_close(st);
    free(dir);
}

/* References are found wherever a candidate's hash part occurs, however the
 * bytes are chunked; self references count; other hashes do not. */
static void reference_scanning(void **state)
{
    (void)state;
    const char *cands[] = {"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a", "/nix/store/1123456789abcdfghijklmnpqrsvwxyz-b",
                           "/nix/store/2123456789abcdfghijklmnpqrsvwxyz-self", "not a store path"};
    const char *text = "xx/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a/bin/sh zz 2123456789abcdfghijklmnpqrsvwxy"
                       "z and 9123456789abcdfghijklmnpqrsvwxyz and 112345678";
    size_t len = strlen(text);
    for (size_t split = 0; split <= len; split++) {
        st_refscan *s = st_refscan_new("/nix/store", cands, 4);
        st_refscan_feed(s, text, split);
        st_refscan_feed(s, text + split, len - split);
        size_t n = 0;
        char **r = st_refscan_result(s, &n);
        assert_int_equal(n, 2);
        assert_string_equal(r[0], cands[0]);
        assert_string_equal(r[1], cands[2]);
        st_strv_free(r, n);
        st_refscan_free(s);
    }
    /* Byte by byte. */
    st_refscan *s = st_refscan_new("/nix/store", cands, 4);
    for (size_t i = 0; i < len; i++) st_refscan_feed(s, text + i, 1);
    size_t n = 0;
    char **r = st_refscan_result(s, &n);
    assert_int_equal(n, 2);
    st_strv_free(r, n);
    st_refscan_free(s);

    /* Through the store, in a file larger than one read chunk, with the hash
     * across the 256 KiB boundary. */
    char *dir = mktmp("st"), *src = mktmp("out");
    ut_err e = UT_ERR_INIT;
    assert_true(ut_mkdirs(src, 0755, &e));
    ut_buf big = UT_BUF_INIT, p = UT_BUF_INIT;
    for (size_t i = 0; i < (1u << 18) - 10; i++) ut_buf_putc(&big, '.');
    ut_buf_puts(&big, "1123456789abcdfghijklmnpqrsvwxyz-b then self: ");
    ut_buf_puts(&big, cands[2]);
    ut_buf_printf(&p, "%s/file", src);
    assert_true(ut_write_file_atomic(p.data, big.data, big.len, 0644, &e));
    st_store *st = open_store(dir);
    st_path_info *pi = NULL;
    if (!st_store_import_path_scan(st, cands[2], src, cands, 4, NULL, NULL, &pi, &e)) fail_msg("%s", e.msg);
    assert_int_equal(pi->nrefs, 2);
    assert_string_equal(pi->refs[0], cands[1]);
    assert_string_equal(pi->refs[1], cands[2]);
    st_path_info_free(pi);
    st_store_close(st);
    ut_buf_free(&big);
    ut_buf_free(&p);
    free(dir);
    free(src);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_store HELLO_CLOSURE_DIR\n");
        return 2;
    }
    hello_dir = argv[1];
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_root, sizeof tmp_root, "%s/st-test-XXXXXX", tmp);
    if (!mkdtemp(tmp_root)) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_closure),   cmocka_unit_test(tree_roundtrip), cmocka_unit_test(filters),
        cmocka_unit_test(corruption),      cmocka_unit_test(dry_store),      cmocka_unit_test(gc),
        cmocka_unit_test(concurrent_writers), cmocka_unit_test(reference_scanning),
        cmocka_unit_test(xz_blobs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    scratch_remove(tmp_root);
    return rc;
}
