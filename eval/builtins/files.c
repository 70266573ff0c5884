/* File-system builtins: readFile, readFileType, readDir, pathExists,
 * hashFile's path handling, toPath, storePath, placeholder. Paths are
 * realised as Nix's realisePath does: coerced (strings must be absolute),
 * canonicalised, then symlinks resolved component by component. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat/hash.h"
#include "compat/storepath.h"
#include "eval/builtins.h"
#include "eval/builtins/files.h"
#ifdef STRAYLIGHT_HAVE_STORE
#include "store/store.h"
#endif

#define NOPOS ((ps_pos){0})

/* Nix's coerceToPath: a path, or a string (or set with outPath or
 * __toString) that is an absolute path; canonicalised. Context goes to ctx
 * when ctx is non-NULL. Returns a scratch (GC) string. */
char *ev_bi_coerce_path(ev_state *S, ev_value *v, ps_pos pos, const char *errctx, ev_ctxset *ctx)
{
    ev_force(S, v, pos);
    ut_buf b = UT_BUF_INIT;
    if (v->type == EV_PATH) {
        ut_buf_append(&b, v->u.s->s, v->u.s->len);
    } else {
        ev_ctxset c = {0};
        ev_coerce_to_string(S, v, pos, 0, &b, &c, errctx);
        if (ctx)
            for (size_t i = 0; i < c.n; i++)
                ev_ctxset_add(S, ctx, c.e[i], strlen(c.e[i]));
        ev_ctxset_free(&c);
        if (b.len == 0 || b.data[0] != '/') {
            char *s = ev_scratch_alloc(S, b.len + 1);
            memcpy(s, b.data ? b.data : "", b.len + 1);
            ut_buf_free(&b);
            /* Nix's coerceToPath goes through __toString and outPath
             * itself, so the check fails inside their frames. */
            bool framed = false;
            for (ev_value *w = v; w->type == EV_ATTRS;) {
                ev_attr *f = ev_attrs_find(w->u.a, ev_sym(S, "__toString"));
                if (f) {
                    ev_trace_push(S, ev_pos_get(S, f->pos), "while using the result of the `__toString` attribute",
                                  NULL);
                    framed = true;
                    break;
                }
                ev_attr *o = ev_attrs_find(w->u.a, ev_sym(S, "outPath"));
                if (!o)
                    break;
                ev_trace_push(S, ev_pos_get(S, o->pos), "while using the `outPath` attribute", NULL);
                framed = true;
                w = &o->value;
            }
            if (errctx)
                ev_trace_push(S, NOPOS, errctx, NULL);
            ev_error(S, EV_ERR_EVAL, framed ? NOPOS : pos, "string '%s' doesn't represent an absolute path", s);
        }
    }
    char *canon = ev_canon_path(b.data, b.len);
    ut_buf_free(&b);
    size_t n = strlen(canon);
    char *r = ev_scratch_alloc(S, n + 1);
    memcpy(r, canon, n + 1);
    free(canon);
    return r;
}

/* Follows symlinks as Nix's SourcePath::resolveSymlinks: every component,
 * or all but the last when `last` is false; missing components are kept
 * as they are. Returns a malloc'd path, or NULL with *loop set when more
 * than 1024 links were followed. */
static char *resolve_symlinks(ut_hmap *dirs, const char *path, bool last, bool *loop)
{
    /* A canonical path whose directory is known to be real (every ancestor
     * resolved, none a link) needs at most its last component examined. */
    size_t plen = strlen(path);
    const char *slash = plen > 1 ? memrchr(path, '/', plen) : NULL;
    if (slash && slash > path && ev_path_is_canon(path, plen) && ut_hmap_has(dirs, path, (size_t)(slash - path))) {
        bool link = false;
        if (last && !ut_hmap_has(dirs, path, plen)) {
            struct stat st;
            if (lstat(path, &st) == 0) {
                if (S_ISLNK(st.st_mode))
                    link = true;   /* the general walk below follows it */
                else if (S_ISDIR(st.st_mode))
                    ut_hmap_put(dirs, path, plen, (void *)1);
            }
        }
        if (!link) {
            *loop = false;
            return ut_xstrdup(path);
        }
    }

    /* todo: the components still to walk, as one '/'-separated string
     * consumed from the front. */
    ut_buf todo = UT_BUF_INIT, res = UT_BUF_INIT;
    ut_buf_puts(&todo, path);
    size_t at = 0;
    int links = 1024;
    *loop = false;
    while (at < todo.len) {
        while (at < todo.len && todo.data[at] == '/')
            at++;
        if (at >= todo.len)
            break;
        size_t end = at;
        while (end < todo.len && todo.data[end] != '/')
            end++;
        size_t clen = end - at;
        const char *c = todo.data + at;
        bool more = false;
        for (size_t k = end; k < todo.len; k++)
            if (todo.data[k] != '/') {
                more = true;
                break;
            }
        if (clen == 1 && c[0] == '.') {
            at = end;
            continue;
        }
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            while (res.len > 0 && res.data[res.len - 1] != '/')
                res.len--;
            if (res.len > 0)
                res.len--;
            if (res.data)
                res.data[res.len] = '\0';
            at = end;
            continue;
        }
        size_t before = res.len;
        ut_buf_putc(&res, '/');
        ut_buf_append(&res, c, clen);
        at = end;
        if (!(last || more))
            continue;
        /* nixpkgs reads thousands of paths below the same few directories:
         * an ancestor known to be a real directory is not examined again */
        if (ut_hmap_has(dirs, res.data, res.len))
            continue;
        struct stat st;
        if (lstat(res.data, &st) != 0)
            continue;
        if (!S_ISLNK(st.st_mode)) {
            if (S_ISDIR(st.st_mode))
                ut_hmap_put(dirs, res.data, res.len, (void *)1);
            continue;
        }
        if (links-- == 0) {
            *loop = true;
            ut_buf_free(&todo);
            ut_buf_free(&res);
            return NULL;
        }
        char target[PATH_MAX + 1];
        ssize_t tl = readlink(res.data, target, PATH_MAX);
        if (tl < 0)
            continue;
        target[tl] = '\0';
        res.len = target[0] == '/' ? 0 : before;
        if (res.data)
            res.data[res.len] = '\0';
        /* the link's components come before what is left */
        ut_buf rest = UT_BUF_INIT;
        ut_buf_append(&rest, target, (size_t)tl);
        ut_buf_putc(&rest, '/');
        ut_buf_append(&rest, todo.data + at, todo.len - at);
        ut_buf_free(&todo);
        todo = rest;
        at = 0;
    }
    ut_buf_free(&todo);
    if (res.len == 0)
        ut_buf_putc(&res, '/');
    return ut_buf_steal(&res, NULL);
}

static char *realise_coerced(ev_state *S, char *p, ps_pos pos, int mode)
{
    if (mode == EV_BI_RESOLVE_NONE)
        return (char *)ev_host_path(S, p);
    bool loop;
    char *r = resolve_symlinks(ev_dir_cache(S), p, mode == EV_BI_RESOLVE_FULL, &loop);
    if (!r)
        ev_error(S, EV_ERR_EVAL, pos, "infinite symlink recursion in path '%s'", p);
    const char *h = ev_host_path(S, r);
    size_t n = strlen(h);
    char *out = ev_scratch_alloc(S, n + 1);
    memcpy(out, h, n + 1);
    free(r);
    return out;
}

char *ev_bi_realise_path(ev_state *S, ev_value *v, ps_pos pos, int mode)
{
    char *p = ev_bi_coerce_path(S, v, pos, "while realising the context of a path", NULL);
    return realise_coerced(S, p, pos, mode);
}

/* Reads a whole file; raises Nix's errors. Returns malloc'd bytes that the
 * caller must free before evaluating anything else. */
char *ev_bi_read_file(ev_state *S, const char *path, ps_pos pos, size_t *len)
{
    /* open first: its fstat gives the size to read at once; the status
     * query that explains a failure is made only after one */
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int open_errno = errno;
        if (lstat(path, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                ev_error(S, EV_ERR_EVAL, pos, "path '%s' does not exist", path);
            ev_error(S, EV_ERR_EVAL, pos, "getting status of '%s': %s", path, strerror(errno));
        }
        ev_error(S, EV_ERR_EVAL, pos, "opening file '%s': %s", path, strerror(open_errno));
    }
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    bool ok = ut_read_fd_stat(fd, fstat(fd, &st) == 0 ? &st : NULL, &b, &e);
    close(fd);
    if (!ok) {
        ut_err_wrap(&e, "reading file '%s'", path);
        char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ut_buf_free(&b);
        ev_error(S, EV_ERR_EVAL, pos, "%s", m);
    }
    return ut_buf_steal(&b, len);
}

static void prim_readFile(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    char *path = ev_bi_realise_path(S, &a[0], pos, EV_BI_RESOLVE_FULL);
    size_t len;
    char *data = ev_bi_read_file(S, path, pos, &len);
    if (len && memchr(data, '\0', len)) {
        free(data);
        ev_error(S, EV_ERR_EVAL, pos, "the contents of the file '%s' cannot be represented as a Nix string", path);
    }
    *out = ev_mk_string(S, len ? data : "", len, NULL);
    free(data);
}

static const char *type_name(mode_t m)
{
    if (S_ISREG(m))
        return "regular";
    if (S_ISDIR(m))
        return "directory";
    if (S_ISLNK(m))
        return "symlink";
    return "unknown";
}

static void prim_readFileType(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    char *path = ev_bi_realise_path(S, &a[0], pos, EV_BI_RESOLVE_NONE);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            ev_error(S, EV_ERR_EVAL, pos, "path '%s' does not exist", path);
        ev_error(S, EV_ERR_EVAL, pos, "getting status of '%s': %s", path, strerror(errno));
    }
    *out = ev_mk_cstring(S, type_name(st.st_mode));
}

static const char *dtype_name(unsigned char t)
{
    switch (t) {
    case DT_REG: return "regular";
    case DT_DIR: return "directory";
    case DT_LNK: return "symlink";
    default: return NULL;
    }
}

/* readDir of a canonical path whose parent is known to be a real directory
 * and which is not in the store: a directory opened without following a
 * link resolves to itself, so that one open stands for the lstat of the
 * symlink walk, the status query and a DIR stream's own fstat. -1 when the
 * general walk must decide (it reports every error). */
static int open_real_dir(ev_state *S, const char *p)
{
    size_t plen = strlen(p);
    const char *slash = plen > 1 ? memrchr(p, '/', plen) : NULL;
    ut_hmap *dirs = ev_dir_cache(S);
    if (!slash || slash == p || !ev_path_is_canon(p, plen) || !ut_hmap_has(dirs, p, (size_t)(slash - p)) ||
        ev_host_path(S, p) != p)
        return -1;
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        ut_hmap_put(dirs, p, plen, (void *)1);
    return fd;
}

static void prim_readDir(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    char *path = ev_bi_coerce_path(S, &a[0], pos, "while realising the context of a path", NULL);
    /* nixpkgs lists the same package directories once per bootstrap stage */
    ev_value *memo = ut_hmap_has(ev_dir_cache(S), path, strlen(path))
                         ? ev_memo_slot(S, "readDir", path, strlen(path), false)
                         : NULL;
    if (memo) {
        *out = *memo;
        return;
    }
    int fd = open_real_dir(S, path);
    if (fd < 0) {
        path = realise_coerced(S, path, pos, EV_BI_RESOLVE_FULL);
        memo = ev_memo_slot(S, "readDir", path, strlen(path), false);
        if (memo) {
            *out = *memo;
            return;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                ev_error(S, EV_ERR_EVAL, pos, "path '%s' does not exist", path);
            ev_error(S, EV_ERR_EVAL, pos, "getting status of '%s': %s", path, strerror(errno));
        }
        if (!S_ISDIR(st.st_mode))
            ev_error(S, EV_ERR_EVAL, pos, "'%s' is not a directory", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            ev_error(S, EV_ERR_EVAL, pos, "opening directory '%s': %s", path, strerror(errno));
    }
    /* Read everything before building values: nothing below evaluates. */
    ut_dirent *ents = NULL;
    size_t n = 0;
    ut_err e = UT_ERR_INIT;
    bool ok = ut_dir_list(fd, &ents, &n, &e);
    if (ok)
        for (size_t i = 0; i < n; i++)
            if (!dtype_name(ents[i].type)) {
                struct stat es;
                ents[i].type = fstatat(fd, ents[i].name, &es, AT_SYMLINK_NOFOLLOW) == 0
                                   ? (S_ISREG(es.st_mode)   ? DT_REG
                                      : S_ISDIR(es.st_mode) ? DT_DIR
                                      : S_ISLNK(es.st_mode) ? DT_LNK
                                                            : DT_UNKNOWN)
                                   : DT_UNKNOWN;
            }
    close(fd);
    if (!ok) {
        char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ev_error(S, EV_ERR_EVAL, pos, "reading directory '%s': %s", path, m);
    }
    ev_attrs *at = ev_attrs_new(S, n);
    for (size_t i = 0; i < n; i++) {
        const char *t = dtype_name(ents[i].type);
        ev_attrs_add(at, ev_sym(S, ents[i].name), ev_mk_cstring(S, t ? t : "unknown"), 0);
    }
    ut_dir_list_free(ents, n);
    ev_attrs_finish(at);
    *out = ev_mk_attrs(at);
    *ev_memo_slot(S, "readDir", path, strlen(path), true) = *out;
}

static void prim_pathExists(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    /* A trailing "/" or "/." asks for a directory; canonicalising would
     * lose it, so look before. */
    bool must_dir = false;
    if (a[0].type == EV_STRING) {
        ev_string *s = a[0].u.s;
        must_dir = (s->len >= 1 && s->s[s->len - 1] == '/') ||
                   (s->len >= 2 && s->s[s->len - 2] == '/' && s->s[s->len - 1] == '.');
    }
    char *path = ev_bi_realise_path(S, &a[0], pos, must_dir ? EV_BI_RESOLVE_FULL : EV_BI_RESOLVE_ANCESTORS);
    struct stat st;
    bool exists = lstat(path, &st) == 0 && (!must_dir || S_ISDIR(st.st_mode));
    *out = ev_mk_bool(exists);
}

static void prim_toPath(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_ctxset ctx = {0};
    char *p = ev_bi_coerce_path(S, &a[0], pos, "while evaluating the first argument passed to builtins.toPath", &ctx);
    *out = ev_mk_string(S, p, strlen(p), ev_ctxset_finish(S, &ctx));
}

static const char *store_dir(ev_state *S)
{
    const char *d = ev_opts(S)->store_dir;
    return d ? d : "/nix/store";
}

static void prim_storePath(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    if (ev_opts(S)->pure)
        ev_error(S, EV_ERR_EVAL, pos, "'builtins.storePath' is not allowed in pure evaluation mode");
    ev_ctxset ctx = {0};
    char *p = ev_bi_coerce_path(S, &a[0], pos, "while evaluating the first argument passed to 'builtins.storePath'", &ctx);
    ev_ctxset_free(&ctx);
    /* A path inside a store object names that object. */
    const char *sd = store_dir(S);
    size_t sdl = strlen(sd);
    size_t plen = strlen(p);
    if (strncmp(p, sd, sdl) == 0 && p[sdl] == '/') {
        const char *slash = strchr(p + sdl + 1, '/');
        if (slash)
            plen = (size_t)(slash - p);
    }
    if (!nc_is_store_path(sd, (nc_str){p, plen}))
        ev_error(S, EV_ERR_EVAL, pos, "path '%s' is not in the Nix store", p);
    ev_ctxset c2 = {0};
    ev_ctxset_add(S, &c2, p, plen);
    *out = ev_mk_string(S, p, strlen(p), ev_ctxset_finish(S, &c2));
}

static void prim_placeholder(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.placeholder");
    ut_buf b = UT_BUF_INIT;
    nc_hash_placeholder(&b, (nc_str){s->s, s->len});
    *out = ev_mk_string(S, b.data, b.len, NULL);
    ut_buf_free(&b);
}

const ev_primop_def ev_builtins_files[] = {
    {"readFile", 1, prim_readFile, 0},
    {"readFileType", 1, prim_readFileType, 0},
    {"readDir", 1, prim_readDir, 0},
    {"pathExists", 1, prim_pathExists, 0},
    {"toPath", 1, prim_toPath, 0},
    {"storePath", 1, prim_storePath, 0},
    {"placeholder", 1, prim_placeholder, 0},
    {NULL, 0, NULL, 0},
};

/* ---- toFile ---------------------------------------------------------------- */

static void prim_toFile(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *name = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.toFile");
    ev_string *contents = ev_force_string(S, &a[1], pos, "while evaluating the second argument passed to builtins.toFile");
    size_t nrefs = contents->ctx ? contents->ctx->h.n : 0;
    nc_str *refs = ev_scratch_alloc(S, (nrefs + 1) * sizeof *refs);
    for (size_t i = 0; i < nrefs; i++) {
        const char *c = contents->ctx->e[i];
        if (c[0] == '=' || c[0] == '!')
            ev_error(S, EV_ERR_EVAL, pos, "files created by builtins.toFile may not reference derivations, but %s references %s",
                     name->s, c);
        refs[i] = (nc_str){c, strlen(c)};
    }
    ut_err e = UT_ERR_INIT;
    char *path = NULL;
#ifdef STRAYLIGHT_HAVE_STORE
    st_store *st = ev_store(S);
    if (st && !st_store_is_dry(st)) {
        const char **rp = ev_scratch_alloc(S, (nrefs + 1) * sizeof *rp);
        for (size_t i = 0; i < nrefs; i++)
            rp[i] = refs[i].s;
        if (!st_store_add_text(st, name->s, contents->s, contents->len, rp, nrefs, &path, &e))
            path = NULL;
    } else
#endif
    {
        /* No store to write to: the path is still what Nix would make. */
        nc_hash h;
        nc_hash_bytes(NC_HASH_SHA256, contents->s, contents->len, &h);
        nc_refs r = {refs, nrefs, false};
        ut_buf b = UT_BUF_INIT;
        if (nc_make_text_path(&b, store_dir(S), (nc_str){name->s, name->len}, &h, &r, &e))
            path = ut_buf_steal(&b, NULL);
        else
            ut_buf_free(&b);
    }
    if (!path) {
        char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ev_error(S, EV_ERR_EVAL, pos, "%s", m);
    }
    ev_ctxset ctx = {0};
    ev_ctxset_add(S, &ctx, path, strlen(path));
    *out = ev_mk_string(S, path, strlen(path), ev_ctxset_finish(S, &ctx));
    free(path);
}

const ev_primop_def ev_builtins_files_store[] = {
    {"toFile", 2, prim_toFile, 0},
    {NULL, 0, NULL, 0},
};

/* ---- path, filterSource ----------------------------------------------------- */

#ifdef STRAYLIGHT_HAVE_STORE

/* The filter is Nix code, which may fail or collect; the store's NAR
 * writer must not be interrupted by that. So the tree is walked first, in
 * the order the NAR writer will take (sorted names, depth first, children
 * only), calling the filter on every entry; what it accepts is kept in a GC
 * list, and the store then consults a plain table of those paths. */
typedef struct pwalk {
    ev_state *S;
    ev_value *fn;
    ev_value *call;    /* 3 stack slots: path, type, result */
    ev_value *kept;    /* stack slot: GC list of accepted paths */
    uint32_t nkept;
    ps_pos pos;
} pwalk;

static void keep_path(pwalk *w, const char *p, size_t len)
{
    ev_list *l = w->kept->u.l;
    if (w->nkept == l->h.n) {
        ev_list *bigger = ev_list_new(w->S, l->h.n * 2 + 16);
        memcpy(bigger->v, l->v, l->h.n * sizeof *l->v);
        *w->kept = ev_mk_list(bigger);
        l = bigger;
    }
    l->v[w->nkept++] = ev_mk_string(w->S, p, len, NULL);
}

static void walk_filter(pwalk *w, const char *dir)
{
    /* List the directory before calling any Nix code, into GC memory. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        ev_error(w->S, EV_ERR_EVAL, w->pos, "opening directory '%s': %s", dir, strerror(errno));
    ut_dirent *ents = NULL;
    size_t n = 0;
    ut_err e = UT_ERR_INIT;
    if (!ut_dir_list(fd, &ents, &n, &e)) {
        close(fd);
        char *m = ev_scratch_alloc(w->S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ev_error(w->S, EV_ERR_EVAL, w->pos, "reading directory '%s': %s", dir, m);
    }
    /* the type the file system reported when it is one of the three the
     * filter can be told; a status query only when it did not say */
    char **names = ev_scratch_alloc(w->S, (n + 1) * sizeof *names);
    const char **types = ev_scratch_alloc(w->S, (n + 1) * sizeof *types);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(ents[i].name);
        names[i] = ev_scratch_alloc(w->S, l + 1);
        memcpy(names[i], ents[i].name, l + 1);
        types[i] = dtype_name(ents[i].type);
        if (!types[i]) {
            struct stat st;
            types[i] = fstatat(fd, ents[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? type_name(st.st_mode) : "unknown";
        }
    }
    close(fd);
    ut_dir_list_free(ents, n);
    for (size_t i = 0; i < n; i++) {
        size_t dl = strlen(dir), nl = strlen(names[i]);
        bool root = dl == 1;
        char *child = ev_scratch_alloc(w->S, dl + nl + 2);
        memcpy(child, dir, dl);
        size_t at = root ? dl : dl + 1;
        child[dl] = '/';
        memcpy(child + at, names[i], nl + 1);
        const char *type = types[i];
        w->call[0] = ev_mk_string(w->S, child, strlen(child), NULL);
        w->call[1] = ev_mk_cstring(w->S, type);
        ev_call(w->S, w->fn, 2, w->call, &w->call[2], w->pos);
        if (!ev_force_bool(w->S, &w->call[2], w->pos, "while evaluating the return value of the path filter function"))
            continue;
        keep_path(w, child, strlen(child));
        if (!strcmp(type, "directory"))
            walk_filter(w, child);
    }
}

static int kept_filter(void *ctx, const char *fs_path, st_file_type type, ut_err *e)
{
    (void)type;
    (void)e;
    return ut_hmap_has(ctx, fs_path, strlen(fs_path)) ? 1 : 0;
}

/* Adds path (already coerced and canonical) to the store as Nix's addPath.
 * filter may be NULL; expected (may be NULL) is the sha256 the result
 * must have. */
static void add_path(ev_state *S, ps_pos pos, const char *name, const char *path, ev_value *filter, nc_ca_method method,
                     const nc_hash *expected, ev_value *out)
{
    ev_trace_push(S, (ps_pos){0}, "while adding path '%s'", path);
    bool loop;
    char *resolved = resolve_symlinks(ev_dir_cache(S), path, true, &loop);
    if (!resolved)
        ev_error(S, EV_ERR_EVAL, pos, "infinite symlink recursion in path '%s'", path);
    const char *host = ev_host_path(S, resolved);
    char *fs = ev_scratch_alloc(S, strlen(host) + 1);
    strcpy(fs, host);
    free(resolved);
    struct stat st;
    if (lstat(fs, &st) != 0)
        ev_error(S, EV_ERR_EVAL, pos, "path '%s' does not exist", fs);
    ev_value *slots = ev_stack_push(S, 4);
    pwalk w = {S, filter, slots, &slots[3], 0, pos};
    *w.kept = ev_mk_list(ev_list_new(S, 16));
    if (filter && S_ISDIR(st.st_mode))
        walk_filter(&w, fs);
    st_store *store = ev_store(S);
    if (!store)
        ev_error(S, EV_ERR_EVAL, pos, "cannot add '%s': the evaluator has no store", fs);
    /* No Nix code runs from here on. */
    ut_hmap *keep = NULL;
    if (filter) {
        keep = ut_hmap_new();
        ev_list *l = w.kept->u.l;
        for (uint32_t i = 0; i < w.nkept; i++)
            ut_hmap_put(keep, l->v[i].u.s->s, l->v[i].u.s->len, (void *)1);
    }
    ut_err e = UT_ERR_INIT;
    char *sp = NULL;
    bool ok = st_store_add_path(store, fs, name, keep ? kept_filter : NULL, keep, method, &sp, NULL, &e);
    ut_hmap_free(keep);
    /* a filtered copy holds less than its source: read it from the store */
    if (ok && !filter)
        ev_note_copy(S, fs, sp);
    if (!ok) {
        char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ev_error(S, EV_ERR_EVAL, pos, "%s", m);
    }
    if (expected) {
        ut_buf want = UT_BUF_INIT;
        bool same = nc_make_fixed_output_path(&want, store_dir(S), method, expected, (nc_str){name, strlen(name)}, NULL,
                                              &e) &&
                    strcmp(want.data, sp) == 0;
        ut_err_clear(&e);
        ut_buf_free(&want);
        if (!same) {
            free(sp);
            ev_error(S, EV_ERR_EVAL, pos, "store path mismatch in (possibly filtered) path added from '%s'", path);
        }
    }
    ev_trace_pop(S);
    ev_ctxset ctx = {0};
    ev_ctxset_add(S, &ctx, sp, strlen(sp));
    *out = ev_mk_string(S, sp, strlen(sp), ev_ctxset_finish(S, &ctx));
    free(sp);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void prim_filterSource(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    char *path = ev_bi_coerce_path(S, &a[1], pos,
                                   "while evaluating the second argument (the path to filter) passed to "
                                   "'builtins.filterSource'",
                                   NULL);
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.filterSource");
    add_path(S, pos, base_name(path), path, &a[0], NC_CA_NAR, NULL, out);
}

static void prim_path(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *at = ev_force_attrs(S, &a[0], pos, "while evaluating the argument passed to 'builtins.path'");
    char *path = NULL;
    const char *name = NULL;
    ev_value *filter = NULL;
    nc_ca_method method = NC_CA_NAR;
    nc_hash expected;
    bool have_expected = false;
    for (uint32_t i = 0; i < at->h.n; i++) {
        ev_attr *x = &at->a[i];
        const char *n = ev_sym_str(S, x->name);
        ps_pos apos = ev_pos_get(S, x->pos);
        if (strcmp(n, "path") == 0) {
            path = ev_bi_coerce_path(S, &x->value, apos, "while evaluating the 'path' attribute passed to 'builtins.path'",
                                     NULL);
        } else if (strcmp(n, "name") == 0) {
            name = ev_force_string_noctx(S, &x->value, apos, "while evaluating the `name` attribute passed to builtins.path")->s;
        } else if (strcmp(n, "filter") == 0) {
            filter = &x->value;
            ev_force_function(S, filter, apos, "while evaluating the `filter` parameter passed to builtins.path");
        } else if (strcmp(n, "recursive") == 0) {
            method = ev_force_bool(S, &x->value, apos, "while evaluating the `recursive` attribute passed to builtins.path")
                         ? NC_CA_NAR
                         : NC_CA_FLAT;
        } else if (strcmp(n, "sha256") == 0) {
            ev_string *h = ev_force_string_noctx(S, &x->value, apos,
                                                 "while evaluating the `sha256` attribute passed to builtins.path");
            nc_hash_algo sha = NC_HASH_SHA256;
            ut_err e = UT_ERR_INIT;
            if (h->len == 0) {
                /* Nix's newHashAllowEmpty: a placeholder hash, with a warning. */
                memset(&expected, 0, sizeof expected);
                expected.algo = NC_HASH_SHA256;
                fputs("warning: found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='\n", stderr);
            } else if (!nc_hash_parse_any(h->s, h->len, &sha, &expected, &e)) {
                char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
                strcpy(m, e.msg);
                ut_err_clear(&e);
                ev_error(S, EV_ERR_EVAL, apos, "%s", m);
            }
            have_expected = true;
        } else {
            ev_error(S, EV_ERR_EVAL, apos, "unsupported argument '%s' to 'addPath'", n);
        }
    }
    if (!path)
        ev_error(S, EV_ERR_EVAL, pos, "missing required 'path' attribute in the first argument to 'builtins.path'");
    if (!name || !*name)
        name = base_name(path);
    add_path(S, pos, name, path, filter, method, have_expected ? &expected : NULL, out);
}

const ev_primop_def ev_builtins_files_add[] = {
    {"filterSource", 2, prim_filterSource, 0},
    {"path", 1, prim_path, 0},
    {NULL, 0, NULL, 0},
};
#else
const ev_primop_def ev_builtins_files_add[] = {
    {NULL, 0, NULL, 0},
};
#endif
