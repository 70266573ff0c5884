#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drv/cjson.h"
#include "drv/emit.h"
#include "drv/pb.h"

/* Field numbers of build.bazel.remote.execution.v2 (remote_execution.proto). */
enum {
    DIGEST_HASH = 1, DIGEST_SIZE = 2,
    ACTION_COMMAND = 1, ACTION_INPUT_ROOT = 2, ACTION_DO_NOT_CACHE = 7, ACTION_PLATFORM = 10,
    COMMAND_ARGS = 1, COMMAND_ENV = 2, COMMAND_WORKDIR = 6, COMMAND_OUTPUT_PATHS = 7,
    ENV_NAME = 1, ENV_VALUE = 2,
    PLATFORM_PROPS = 1, PROP_NAME = 1, PROP_VALUE = 2,
    DIR_FILES = 1, DIR_DIRS = 2, DIR_SYMLINKS = 3,
    NODE_NAME = 1, NODE_DIGEST = 2, FILE_EXEC = 4, SYMLINK_TARGET = 2,
};

/* The bytes of an action string ({"base64": ...} for non-UTF-8 ones). */
static bool jbytes(const json_t *v, ut_buf *out)
{
    if (json_is_string(v)) {
        ut_buf_append(out, json_string_value(v), json_string_length(v));
        return true;
    }
    const char *b64 = json_string_value(json_object_get(v, "base64"));
    if (!b64) return false;
    size_t n = strlen(b64), len = 0;
    uint8_t *raw = ut_xmalloc(nc_base64_decoded_max(n) + 1);
    bool ok = nc_base64_decode(b64, n, raw, &len);
    if (ok) ut_buf_append(out, raw, len);
    free(raw);
    return ok;
}

typedef struct {
    char hex[65];
    uint64_t size;
} digest;

typedef enum { T_FILE, T_DIR, T_LINK } tkind;

/* A node of an input tree; directories hold their children sorted by name. */
typedef struct tnode {
    char *name;
    tkind kind;
    digest d;          /* file contents or Directory message */
    bool exec;
    char *target;
    struct tnode **kids;
    size_t nkids;
} tnode;

typedef struct {
    const char *dir;
    ut_hmap *written;  /* hex -> (void*)1 */
    ut_hmap *srcs;     /* store path -> tnode* (a finished subtree, shared) */
    dv_rev2_stats *st;
} ctx;

/* Blobs go to a temporary name and are renamed into place, so no reader
 * sees a partial blob; durability comes from one syncfs at the end rather
 * than an fsync per blob (hundreds of small files). */
static bool write_blob(const char *path, const void *data, size_t len, ut_err *e)
{
    ut_buf tmp = UT_BUF_INIT;
    ut_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    const char *p = data;
    size_t left = len;
    while (ok && left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else p += n, left -= (size_t)n;
    }
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (ok && rename(tmp.data, path) != 0) ok = false;
    if (!ok) {
        ut_err_set(e, "%s: %s", path, strerror(errno));
        unlink(tmp.data);
    }
    ut_buf_free(&tmp);
    return ok;
}

static bool put_blob(ctx *c, const void *data, size_t len, digest *d, ut_err *e)
{
    dv_sha256_hex(data, len, d->hex);
    d->size = len;
    if (ut_hmap_has(c->written, d->hex, 64)) return true;
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/blobs/sha256/%s", c->dir, d->hex);
    struct stat sb;
    bool ok = true;
    if (stat(p.data, &sb) != 0 || (uint64_t)sb.st_size != len) {
        ok = write_blob(p.data, data, len, e);
        if (ok) c->st->blobs_written++;
    }
    ut_buf_free(&p);
    if (ok) ut_hmap_put(c->written, d->hex, 64, (void *)1);
    return ok;
}

static void pb_digest(ut_buf *b, uint32_t field, const digest *d)
{
    ut_buf m = UT_BUF_INIT;
    dv_pb_string(&m, DIGEST_HASH, d->hex);
    dv_pb_uint(&m, DIGEST_SIZE, d->size);
    dv_pb_message(b, field, &m);
    ut_buf_free(&m);
}

static tnode *tnode_new(const char *name, tkind k)
{
    tnode *t = ut_xcalloc(1, sizeof *t);
    t->name = ut_xstrdup(name);
    t->kind = k;
    return t;
}

static void tnode_free(tnode *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nkids; i++) tnode_free(t->kids[i]);
    free(t->kids);
    free(t->name);
    free(t->target);
    free(t);
}

static tnode *tnode_copy(const tnode *t)
{
    tnode *c = tnode_new(t->name, t->kind);
    c->d = t->d;
    c->exec = t->exec;
    c->target = t->target ? ut_xstrdup(t->target) : NULL;
    /* Finished subtrees are only referenced by digest; children unneeded. */
    return c;
}

static tnode *child(tnode *dir, const char *name, tkind k)
{
    for (size_t i = 0; i < dir->nkids; i++)
        if (!strcmp(dir->kids[i]->name, name)) return dir->kids[i];
    tnode *t = tnode_new(name, k);
    dir->kids = ut_xrealloc(dir->kids, (dir->nkids + 1) * sizeof *dir->kids);
    dir->kids[dir->nkids++] = t;
    return t;
}

static int tnode_cmp(const void *a, const void *b)
{
    return strcmp((*(tnode *const *)a)->name, (*(tnode *const *)b)->name);
}

/* Serialises a directory whose children all have digests, and stores it. */
static bool seal_dir(ctx *c, tnode *t, ut_err *e)
{
    if (t->nkids > 1) qsort(t->kids, t->nkids, sizeof *t->kids, tnode_cmp);
    ut_buf m = UT_BUF_INIT;
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < t->nkids; i++) {
            tnode *k = t->kids[i];
            ut_buf n = UT_BUF_INIT;
            if (pass == 0 && k->kind == T_FILE) {
                dv_pb_string(&n, NODE_NAME, k->name);
                pb_digest(&n, NODE_DIGEST, &k->d);
                dv_pb_bool(&n, FILE_EXEC, k->exec);
                dv_pb_message(&m, DIR_FILES, &n);
            } else if (pass == 1 && k->kind == T_DIR) {
                dv_pb_string(&n, NODE_NAME, k->name);
                pb_digest(&n, NODE_DIGEST, &k->d);
                dv_pb_message(&m, DIR_DIRS, &n);
            } else if (pass == 2 && k->kind == T_LINK) {
                dv_pb_string(&n, NODE_NAME, k->name);
                dv_pb_string(&n, SYMLINK_TARGET, k->target);
                dv_pb_message(&m, DIR_SYMLINKS, &n);
            }
            ut_buf_free(&n);
        }
    bool ok = put_blob(c, m.data ? m.data : "", m.len, &t->d, e);
    if (ok) c->st->directories++;
    ut_buf_free(&m);
    return ok;
}

static bool seal_tree(ctx *c, tnode *t, ut_err *e)
{
    if (t->kind != T_DIR) return true;
    for (size_t i = 0; i < t->nkids; i++)
        if (!seal_tree(c, t->kids[i], e)) return false;
    /* Directories copied from the source cache are sealed already. */
    if (t->d.hex[0] && !t->nkids) return true;
    return seal_dir(c, t, e);
}

/* A file system object as a tree node with its digest. */
static tnode *walk(ctx *c, const char *path, const char *name, ut_err *e)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        ut_err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISREG(sb.st_mode)) {
        ut_buf data = UT_BUF_INIT;
        if (!ut_read_file(path, &data, e)) return NULL;
        tnode *t = tnode_new(name, T_FILE);
        t->exec = (sb.st_mode & S_IXUSR) != 0;
        bool ok = put_blob(c, data.data ? data.data : "", data.len, &t->d, e);
        ut_buf_free(&data);
        if (!ok) {
            tnode_free(t);
            return NULL;
        }
        c->st->files++;
        return t;
    }
    if (S_ISLNK(sb.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) {
            ut_err_set(e, "%s: %s", path, strerror(errno));
            return NULL;
        }
        target[n] = 0;
        tnode *t = tnode_new(name, T_LINK);
        t->target = ut_xstrdup(target);
        return t;
    }
    if (!S_ISDIR(sb.st_mode)) {
        ut_err_set(e, "%s: not a regular file, symlink or directory", path);
        return NULL;
    }
    DIR *d = opendir(path);
    if (!d) {
        ut_err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    tnode *t = tnode_new(name, T_DIR);
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        ut_buf sub = UT_BUF_INIT;
        ut_buf_printf(&sub, "%s/%s", path, de->d_name);
        tnode *k = walk(c, sub.data, de->d_name, e);
        ut_buf_free(&sub);
        if (!k) ok = false;
        else {
            t->kids = ut_xrealloc(t->kids, (t->nkids + 1) * sizeof *t->kids);
            t->kids[t->nkids++] = k;
        }
    }
    closedir(d);
    if (ok) ok = seal_dir(c, t, e);
    if (!ok) {
        tnode_free(t);
        return NULL;
    }
    return t;
}

static const tnode *source_node(ctx *c, dv_source *src, const char *store_path, const char *base, ut_err *e)
{
    tnode *t = ut_hmap_get(c->srcs, store_path, strlen(store_path));
    if (t) return t;
    char *local = dv_source_local_path(src, store_path);
    if (!local) {
        ut_err_set(e, "%s: the REv2 export needs the source's bytes, which the derivation source does not hold",
                   store_path);
        return NULL;
    }
    t = walk(c, local, base, e);
    free(local);
    if (t) ut_hmap_put(c->srcs, store_path, strlen(store_path), t);
    return t;
}

typedef struct {
    const char *name, *value;
} prop;

static int prop_cmp(const void *a, const void *b)
{
    const prop *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    return r ? r : strcmp(x->value, y->value);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct {
    digest action, command, root;
    bool do_not_cache;
} rev2_action;

static bool emit_action(ctx *c, const dv_graph *g, const dv_node *n, rev2_action *ra, ut_err *e)
{
    const char *sd = dv_source_store_dir(g->src);
    const json_t *act = n->action.json;
    /* Input root: the sandbox's file system, with /build as the working
     * directory and the sources under the store directory. */
    tnode *root = tnode_new("", T_DIR);
    tnode *build = child(root, DV_BUILD_DIR + 1, T_DIR);
    const char *fpath;
    json_t *fv;
    bool ok = true;
    json_object_foreach(json_object_get(act, "files"), fpath, fv)
    {
        tnode *f = child(build, fpath + strlen(DV_BUILD_DIR) + 1, T_FILE);
        ut_buf content = UT_BUF_INIT;
        if (ok && !jbytes(fv, &content)) ok = ut_err_set(e, "%s: bad file content in the action", n->drv_path);
        ok = ok && put_blob(c, content.data ? content.data : "", content.len, &f->d, e);
        ut_buf_free(&content);
        c->st->files++;
    }
    tnode *store = root;
    char *sdcopy = ut_xstrdup(sd);
    for (char *tok = strtok(sdcopy, "/"); tok; tok = strtok(NULL, "/")) store = child(store, tok, T_DIR);
    free(sdcopy);
    json_t *srcs = json_object_get(json_object_get(act, "inputs"), "sources");
    size_t i;
    json_t *sv;
    json_array_foreach(srcs, i, sv)
    {
        if (!ok) break;
        const char *p = json_string_value(json_object_get(sv, "path"));
        const char *base = strrchr(p, '/') + 1;
        const tnode *s = source_node(c, g->src, p, base, e);
        if (!s) ok = false;
        else {
            tnode *cp = tnode_copy(s);
            store->kids = ut_xrealloc(store->kids, (store->nkids + 1) * sizeof *store->kids);
            store->kids[store->nkids++] = cp;
        }
    }
    ok = ok && seal_tree(c, root, e);
    if (ok) ra->root = root->d;
    tnode_free(root);
    if (!ok) return false;

    /* Command. Protobuf strings must be UTF-8, so an argument or variable
     * that is not cannot be expressed in REv2 at all. */
    json_t *sv2;
    json_array_foreach(json_object_get(act, "args"), i, sv2) if (!json_is_string(sv2))
        return ut_err_set(e, "%s: argument %zu is not valid UTF-8, which a REv2 Command cannot hold", n->drv_path, i + 1);
    const char *k2;
    json_object_foreach(json_object_get(act, "env"), k2, sv2) if (!json_is_string(sv2))
        return ut_err_set(e, "%s: variable %s is not valid UTF-8, which a REv2 Command cannot hold", n->drv_path, k2);
    ut_buf cmd = UT_BUF_INIT;
    dv_pb_string(&cmd, COMMAND_ARGS, json_string_value(json_object_get(act, "builder")));
    json_array_foreach(json_object_get(act, "args"), i, sv) dv_pb_bytes(&cmd, COMMAND_ARGS, json_string_value(sv), json_string_length(sv));
    json_t *env = json_object_get(act, "env");
    size_t nenv = json_object_size(env) + 1, k = 0;
    char **names = ut_xmalloc(nenv * sizeof *names);
    const char *key;
    json_object_foreach(env, key, sv) names[k++] = (char *)key;
    char cores[16];
    /* 0 tells nixpkgs' setup to use every core the worker has. */
    snprintf(cores, sizeof cores, "%u", (unsigned)n->action.grade.cores);
    if (!json_object_get(env, "NIX_BUILD_CORES")) names[k++] = "NIX_BUILD_CORES";
    qsort(names, k, sizeof *names, str_cmp);
    for (size_t j = 0; j < k; j++) {
        ut_buf ev = UT_BUF_INIT;
        json_t *v = json_object_get(env, names[j]);
        dv_pb_string(&ev, ENV_NAME, names[j]);
        if (v) dv_pb_bytes(&ev, ENV_VALUE, json_string_value(v), json_string_length(v));
        else dv_pb_string(&ev, ENV_VALUE, cores);
        dv_pb_message(&cmd, COMMAND_ENV, &ev);
        ut_buf_free(&ev);
    }
    free(names);
    dv_pb_string(&cmd, COMMAND_WORKDIR, DV_BUILD_DIR + 1);
    json_t *outs = json_object_get(act, "outputs");
    char **ops = ut_xmalloc((json_object_size(outs) + 1) * sizeof *ops);
    size_t nops = 0;
    json_object_foreach(outs, key, sv)
    {
        const char *p = json_string_value(json_object_get(sv, "path"));
        if (!p) continue;
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "..%s", p);   /* relative to the working directory /build */
        ops[nops++] = ut_buf_steal(&b, NULL);
    }
    qsort(ops, nops, sizeof *ops, str_cmp);
    for (size_t j = 0; j < nops; j++) {
        dv_pb_string(&cmd, COMMAND_OUTPUT_PATHS, ops[j]);
        free(ops[j]);
    }
    free(ops);
    ok = put_blob(c, cmd.data ? cmd.data : "", cmd.len, &ra->command, e);
    ut_buf_free(&cmd);
    if (!ok) return false;
    c->st->commands++;

    /* Action, with the grade's placement demands as platform properties. */
    const dv_grade *gr = &n->action.grade;
    prop props[64 + 8];
    size_t np = 0;
    props[np++] = (prop){"nix-system", gr->plat == DV_PLAT_ONE ? gr->system : "builtin"};
    for (size_t j = 0; j < gr->feature.n && np < 64; j++) props[np++] = (prop){"nix-feature", gr->feature.v[j]};
    static const char *const net_names[] = {"none", "loopback", "pinned", "open"};
    if (gr->net != DV_NET_NONE) props[np++] = (prop){"nix-network", net_names[gr->net]};
    for (size_t j = 0; j < gr->device.n && np < 70; j++) props[np++] = (prop){"nix-device", gr->device.v[j]};
    qsort(props, np, sizeof *props, prop_cmp);
    ut_buf plat = UT_BUF_INIT, a = UT_BUF_INIT;
    for (size_t j = 0; j < np; j++) {
        ut_buf p = UT_BUF_INIT;
        dv_pb_string(&p, PROP_NAME, props[j].name);
        dv_pb_string(&p, PROP_VALUE, props[j].value);
        dv_pb_message(&plat, PLATFORM_PROPS, &p);
        ut_buf_free(&p);
    }
    ra->do_not_cache = dv_grade_class(gr) == DV_CLASS_IMPURE;
    pb_digest(&a, ACTION_COMMAND, &ra->command);
    pb_digest(&a, ACTION_INPUT_ROOT, &ra->root);
    dv_pb_bool(&a, ACTION_DO_NOT_CACHE, ra->do_not_cache);
    dv_pb_message(&a, ACTION_PLATFORM, &plat);
    ok = put_blob(c, a.data, a.len, &ra->action, e);
    ut_buf_free(&plat);
    ut_buf_free(&a);
    if (ok) c->st->actions++;
    return ok;
}

static json_t *digest_json(const digest *d)
{
    return json_pack("{s:s,s:I}", "hash", d->hex, "sizeBytes", (json_int_t)d->size);
}

bool dv_graph_to_rev2(const dv_graph *g, const char *out_dir, dv_rev2_stats *st, ut_err *e)
{
    memset(st, 0, sizeof *st);
    ut_buf bd = UT_BUF_INIT;
    ut_buf_printf(&bd, "%s/blobs/sha256", out_dir);
    if (!ut_mkdirs(bd.data, 0755, e)) {
        ut_buf_free(&bd);
        return false;
    }
    ut_buf_free(&bd);
    ctx c = {out_dir, ut_hmap_new(), ut_hmap_new(), st};
    rev2_action *ra = ut_xcalloc(g->n ? g->n : 1, sizeof *ra);
    bool ok = true;
    for (size_t i = 0; i < g->n && ok; i++) ok = emit_action(&c, g, &g->nodes[i], &ra[i], e);
    if (ok) {
        json_t *doc = json_object(), *acts = json_array();
        for (size_t i = 0; i < g->n; i++) {
            const dv_node *n = &g->nodes[i];
            json_t *ins = json_array();
            for (size_t k = 0; k < n->ninputs; k++) {
                const dv_node *in = &g->nodes[n->inputs[k]];
                const nc_drv_input *di = &n->drv->inputs[k];
                json_t *outs = json_array();
                json_t *inouts = json_object_get(in->action.json, "outputs");
                for (size_t j = 0; j < di->node.noutputs; j++) {
                    char *on = ut_xstrndup(di->node.outputs[j].s, di->node.outputs[j].len);
                    json_t *p = json_object_get(json_object_get(inouts, on), "path");
                    json_array_append_new(outs, json_pack("{s:s,s:O?}", "name", on, "path", p));
                    free(on);
                }
                json_array_append_new(ins, json_pack("{s:o,s:s,s:o}", "action", digest_json(&ra[n->inputs[k]].action),
                                                     "drvPath", in->drv_path, "outputs", outs));
            }
            json_array_append_new(acts, json_pack("{s:s,s:s,s:o,s:o,s:o,s:b,s:o}", "drvPath", n->drv_path, "digest",
                                                  n->action.digest, "action", digest_json(&ra[i].action), "command",
                                                  digest_json(&ra[i].command), "inputRoot", digest_json(&ra[i].root),
                                                  "doNotCache", ra[i].do_not_cache, "inputs", ins));
        }
        json_t *roots = json_array();
        for (size_t i = 0; i < g->nroots; i++) json_array_append_new(roots, digest_json(&ra[g->roots[i]].action));
        json_object_set_new(doc, "version", json_integer(1));
        json_object_set_new(doc, "digestFunction", json_string("SHA256"));
        json_object_set_new(doc, "roots", roots);
        json_object_set_new(doc, "actions", acts);
        char *text = json_dumps(doc, JSON_INDENT(1));
        json_decref(doc);
        ut_buf p = UT_BUF_INIT;
        ut_buf_printf(&p, "%s/blobs", out_dir);
        int dfd = open(p.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || syncfs(dfd) != 0) ok = ut_err_set(e, "%s: sync: %s", p.data, strerror(errno));
        if (dfd >= 0) close(dfd);
        ut_buf_clear(&p);
        ut_buf_printf(&p, "%s/graph.json", out_dir);
        /* graph.json last: once it exists, every blob it names is in place. */
        ok = ok && ut_write_file_atomic(p.data, text, strlen(text), 0644, e);
        ut_buf_free(&p);
        free(text);
    }
    free(ra);
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(c.srcs, &it, &k, &kl, &v)) tnode_free(v);
    ut_hmap_free(c.srcs);
    ut_hmap_free(c.written);
    return ok;
}
