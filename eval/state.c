/* Evaluator state: creation, the base environment and builtin registration,
 * positions, file import with a per-path cache, search-path lookup. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/internal.h"
#ifdef STRAYLIGHT_HAVE_STORE
#include "store/store.h"
#endif

#define EV_STACK_VALUES (4u << 20)   /* 64 MiB of reserved address space */
#define EV_MAX_FRAMES (1u << 20)     /* deep thunk chains end in "stack overflow" */

static void set_c_stack_limit(ev_state *S)
{
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    if (!addr || size < (1u << 20)) {
        char probe;
        S->c_stack_limit = (uintptr_t)&probe - (6u << 20);
        return;
    }
    /* the main thread's reported size may exceed what is mapped; be modest */
    size_t margin = size / 8 > (512u << 10) ? size / 8 : (512u << 10);
    if (margin > (8u << 20))
        margin = 8u << 20;
    S->c_stack_limit = (uintptr_t)addr + margin;
}

static ps_sym sym(ev_state *S, const char *s) { return ps_intern_cstr(S->syms, s); }

static void base_add(ev_state *S, ps_sym name, ev_value v)
{
    void *old = ut_hmap_get(S->base_index, &name, sizeof name);
    if (old) {
        S->base_env->v[(uintptr_t)old - 1] = v;
        return;
    }
    if (S->nbase == S->capbase) {
        uint32_t cap = S->capbase ? S->capbase * 2 : 512;
        ev_env *ne = ev_env_new(S, NULL, cap);
        if (S->base_env)
            memcpy(ne->v, S->base_env->v, S->nbase * sizeof(ev_value));
        S->base_env = ne;
        S->capbase = cap;
    }
    S->base_env->v[S->nbase] = v;
    S->nbase++;
    ut_hmap_put(S->base_index, &name, sizeof name, (void *)(uintptr_t)S->nbase);
}

static void builtins_add(ev_state *S, ps_sym name, ev_value v)
{
    ev_attrs *a = S->builtins_pending;
    ev_attr *old = ev_attrs_find(a, name);
    if (!old) {
        /* re-check unsorted tail */
        for (uint32_t i = 0; i < a->h.n; i++)
            if (a->a[i].name == name) {
                old = &a->a[i];
                break;
            }
    }
    if (old) {
        old->value = v;
        return;
    }
    if (a->h.n == a->cap) {
        ev_attrs *na = ev_attrs_new(S, a->cap * 2);
        memcpy(na->a, a->a, a->h.n * sizeof(ev_attr));
        na->h.n = a->h.n;
        a = na;
        S->builtins_pending = a;
    }
    ev_attrs_add(a, name, v, 0);
    ev_attrs_finish(a);
}

void ev_register_value(ev_state *S, const char *name, ev_value v, unsigned flags)
{
    char buf[256];
    snprintf(buf, sizeof buf, "__%s", name);
    base_add(S, sym(S, buf), v);
    if (flags & EV_PRIM_GLOBAL)
        base_add(S, sym(S, name), v);
    if (!(flags & EV_PRIM_INTERNAL))
        builtins_add(S, sym(S, name), v);
}

void ev_register_primop(ev_state *S, const char *name, unsigned arity, ev_primop_fn fn, unsigned flags)
{
    /* primops are static objects: allocated once per state, never collected */
    ev_primop *op = ut_arena_alloc(S->code_arena, sizeof *op);
    op->h.kind = EV_OBJ_PRIMOP;
    op->h.flags = EV_GC_STATIC;
    op->name = ut_arena_strdup(S->code_arena, name);
    op->arity = arity;
    op->fn = fn;
    op->flags = flags;
    ev_value v = {0};
    v.type = EV_PRIMOP;
    v.u.op = op;
    ev_register_value(S, name, v, flags & (EV_PRIM_GLOBAL | EV_PRIM_INTERNAL));
}

void ev_register_primops(ev_state *S, const ev_primop_def *defs)
{
    for (; defs->name; defs++)
        ev_register_primop(S, defs->name, defs->arity, defs->fn, defs->flags);
}

void ev_register_nix(ev_state *S, const char *name, const char *src, unsigned flags)
{
    ev_code *c = ev_parse_compile(S, src, strlen(src), PS_ORIGIN_STRING, NULL, "/", NULL, (ps_pos){0});
    if (!c)
        ut_die("internal error: builtin '%s' does not compile", name);
    ev_value v = {0};
    v.type = EV_THUNK;
    v.u.t = ev_thunk_new(S, c, NULL);   /* env set when the base env is final */
    ev_register_value(S, name, v, flags);
}

void *ev_scratch_alloc(ev_state *S, size_t n)
{
    ev_box *b = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + n);
    b->h.flags = EV_BOX_RAW;
    b->bytes = (uint32_t)n;
    ev_value *slot = ev_push1(S);
    slot->type = EV_BOXV;
    slot->u.obj = &b->h;
    return b->v;
}

/* ---- state ------------------------------------------------------------- */

static void add_search_entries(ev_state *S, const char *s)
{
    /* NIX_PATH: colon separated, but "https://" style URLs keep their colon */
    const char *p = s;
    while (*p) {
        const char *e = p;
        for (;;) {
            e = strchr(e, ':');
            if (!e)
                break;
            if (strncmp(e, "://", 3) == 0) {
                e += 3;
                continue;
            }
            break;
        }
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            /* relative directories are relative to the current directory */
            char *ent = ut_xstrndup(p, n);
            char *eq = strchr(ent, '=');
            const char *dir = eq ? eq + 1 : ent;
            if (*dir && dir[0] != '/' && !strstr(dir, "://")) {
                char cwd[4096];
                if (getcwd(cwd, sizeof cwd)) {
                    ut_buf b = UT_BUF_INIT;
                    ut_buf_append(&b, ent, (size_t)(dir - ent));
                    ut_buf_printf(&b, "%s/%s", cwd, dir);
                    char *canon = ev_canon_path(b.data + (dir - ent), b.len - (size_t)(dir - ent));
                    b.len = (size_t)(dir - ent);
                    ut_buf_puts(&b, canon);
                    free(canon);
                    free(ent);
                    ent = ut_buf_steal(&b, NULL);
                }
            }
            S->search_path = ut_xrealloc(S->search_path, (S->nsearch_path + 1) * sizeof(char *));
            S->search_path[S->nsearch_path++] = ent;
        }
        if (!e)
            break;
        p = e + 1;
    }
}

ev_state *ev_state_new(const ev_options *opts)
{
    ev_state *S = ut_xcalloc(1, sizeof *S);
    if (opts)
        S->opts = *opts;
    S->syms = ps_symtab_new();
    S->store_dir = ut_xstrdup(S->opts.store_dir ? S->opts.store_dir : "/nix/store");
    for (size_t i = 0; i < S->opts.nsearch_path; i++)
        add_search_entries(S, S->opts.search_path[i]);
    S->infrec_at = SIZE_MAX;
    S->max_call_depth = S->opts.max_call_depth ? S->opts.max_call_depth : 10000;
    S->gc_stress = S->opts.gc_stress;
    const char *gst = getenv("STRAYLIGHT_GC_STATS");
    S->gc_stats = gst && *gst && strcmp(gst, "0") != 0;
    const char *gv = getenv("STRAYLIGHT_GC_VERIFY");
    S->gc_verify = gv && *gv && strcmp(gv, "0") != 0;
    const char *gs = getenv("STRAYLIGHT_GC_STRESS");
    if (gs && *gs && strcmp(gs, "0") != 0)
        S->gc_stress = true;
    S->gc_stress_gaps = gs && strcmp(gs, "2") == 0;
    S->stack_bytes = (size_t)EV_STACK_VALUES * sizeof(ev_value);
    void *st = mmap(NULL, S->stack_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (st == MAP_FAILED)
        ut_die("cannot reserve the evaluation stack: %s", strerror(errno));
    S->stack = S->sp = st;
    S->stack_end = S->stack + EV_STACK_VALUES;
    S->maxframes = EV_MAX_FRAMES;
    void *fr = mmap(NULL, S->maxframes * sizeof(ev_vframe), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fr == MAP_FAILED)
        ut_die("cannot reserve the evaluation frames: %s", strerror(errno));
    S->frames = fr;
    set_c_stack_limit(S);
    ev_gc_init(S);
    S->base_index = ut_hmap_new();
    S->import_cache = ut_hmap_new();
    S->intern = ut_hmap_new();
    S->copied_paths = ut_hmap_new();
    S->copy_sources = ut_hmap_new();
    S->checkouts = ut_hmap_new();
    S->host_paths = ut_hmap_new();
    S->dir_cache = ut_hmap_new();
    S->code_arena = ut_arena_new();
    S->npositions = 1;
    S->cappositions = 1024;
    S->positions = ut_xcalloc(S->cappositions, sizeof(ps_pos));

    ev_string *e = ut_arena_alloc(S->code_arena, sizeof(ev_string) + 1);
    e->h.kind = EV_OBJ_STRING;
    e->h.flags = EV_GC_STATIC;
    S->empty_string = e;

    S->s_outPath = sym(S, "outPath");
    S->s_toString = sym(S, "__toString");
    S->s_functor = sym(S, "__functor");
    S->s_type = sym(S, "type");
    S->s_drvPath = sym(S, "drvPath");
    S->s_name = sym(S, "name");
    S->s_file = sym(S, "file");
    S->s_line = sym(S, "line");
    S->s_column = sym(S, "column");
    S->s_value = sym(S, "value");
    S->s_success = sym(S, "success");
    S->s_derivation = sym(S, "derivation");
    S->s_body = sym(S, "body");
    S->s_key = sym(S, "key");
    S->s_operator = sym(S, "operator");
    S->s_startSet = sym(S, "startSet");
    S->s_overrides = sym(S, "__overrides");

    S->builtins_pending = ev_attrs_new(S, 256);
    base_add(S, sym(S, "true"), ev_mk_bool(true));
    base_add(S, sym(S, "false"), ev_mk_bool(false));
    base_add(S, sym(S, "null"), ev_mk_null());
    ev_register_primops(S, ev_builtins_core);
    ev_core_register_constants(S);
    ev_builtins_register_all(S);

    /* builtins.builtins is the set itself */
    ev_attrs *b = S->builtins_pending;
    S->builtins = ev_mk_attrs(b);
    S->builtins_pending = NULL;
    ps_sym bs = sym(S, "builtins");
    ev_attrs *nb = ev_attrs_new(S, b->h.n + 1);
    memcpy(nb->a, b->a, b->h.n * sizeof(ev_attr));
    nb->h.n = b->h.n;
    S->builtins = ev_mk_attrs(nb);
    ev_attrs_add(nb, bs, S->builtins, 0);
    ev_attrs_finish(nb);
    base_add(S, bs, S->builtins);
    /* Nix-written builtins evaluate in the final base environment */
    for (uint32_t i = 0; i < S->nbase; i++) {
        ev_value *v = &S->base_env->v[i];
        if (v->type == EV_THUNK && EV_TH_STATE(v->u.t) == EV_TH_CODE && !v->u.t->u.c.env)
            v->u.t->u.c.env = S->base_env;
    }
    for (uint32_t i = 0; i < nb->h.n; i++) {
        ev_value *v = &nb->a[i].value;
        if (v->type == EV_THUNK && EV_TH_STATE(v->u.t) == EV_TH_CODE && !v->u.t->u.c.env)
            v->u.t->u.c.env = S->base_env;
    }
    S->base_env->h.n = S->nbase;
    /* the parser reports unbound names itself: tell it what we bind */
    S->base_names = ut_xcalloc(S->nbase + 1, sizeof(char *));
    {
        size_t it = 0, k = 0;
        const char *key;
        size_t kl;
        void *val;
        while (ut_hmap_next(S->base_index, &it, &key, &kl, &val)) {
            ps_sym sy;
            memcpy(&sy, key, sizeof sy);
            S->base_names[k++] = ps_sym_str(S->syms, sy);
        }
    }
    return S;
}

void ev_state_free(ev_state *S)
{
    if (!S)
        return;
    ev_preparse_end(S);
    ev_gc_free_all(S);
    munmap(S->stack, S->stack_bytes);
    munmap(S->frames, S->maxframes * sizeof(ev_vframe));
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(S->intern, &it, &k, &kl, &v))
        free(v);
    it = 0;
    while (ut_hmap_next(S->copied_paths, &it, &k, &kl, &v))
        free(v);
    ut_hmap *owned[] = {S->copy_sources, S->checkouts, S->host_paths};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) {
        it = 0;
        while (ut_hmap_next(owned[i], &it, &k, &kl, &v))
            free(v);
        ut_hmap_free(owned[i]);
    }
    ut_hmap_free(S->dir_cache);
    ut_hmap_free(S->intern);
    ut_hmap_free(S->copied_paths);
    ut_hmap_free(S->base_index);
    ut_hmap_free(S->import_cache);
    ut_arena_free(S->code_arena);
    for (size_t i = 0; i < S->nsearch_path; i++)
        free(S->search_path[i]);
    free(S->search_path);
    free(S->store_dir);
    free(S->positions);
    free(S->forcing);
    free(S->forcing_depth);
    free(S->base_names);
    free(S->forcing_slots);
    free(S->forcing_slot_depth);
    free(S->traces);
    free(S->err_msg);
    for (size_t i = 0; i < S->nerr_frames; i++)
        free(S->err_frames[i].msg);
    free(S->err_frames);
    ps_symtab *syms = S->syms;
    free(S);
    ps_symtab_free(syms);
}

ps_symtab *ev_syms(ev_state *S) { return S->syms; }
ps_sym ev_sym(ev_state *S, const char *name) { return ps_intern_cstr(S->syms, name); }
const char *ev_sym_str(ev_state *S, ps_sym s) { return ps_sym_str(S->syms, s); }
const ev_options *ev_opts(ev_state *S) { return &S->opts; }
void *ev_store(ev_state *S) { return S->opts.store; }

bool ev_has_feature(ev_state *S, const char *name)
{
    const char *f = S->opts.experimental_features;
    size_t n = strlen(name);
    while (f && *f) {
        while (*f == ' ' || *f == ',')
            f++;
        size_t k = strcspn(f, " ,");
        if (k == n && strncmp(f, name, n) == 0)
            return true;
        f += k;
    }
    return false;
}
ev_value *ev_builtins_value(ev_state *S) { return &S->builtins; }

uint32_t ev_pos_intern(ev_state *S, ps_pos pos)
{
    if (!pos.src)
        return 0;
    if (S->npositions == S->cappositions) {
        S->cappositions *= 2;
        S->positions = ut_xrealloc(S->positions, S->cappositions * sizeof(ps_pos));
    }
    S->positions[S->npositions] = pos;
    return S->npositions++;
}

ps_pos ev_pos_get(ev_state *S, uint32_t idx)
{
    if (idx == 0 || idx >= S->npositions)
        return (ps_pos){0};
    return S->positions[idx];
}

/* ---- paths ------------------------------------------------------------- */

bool ev_path_is_canon(const char *p, size_t len)
{
    if (len == 0 || p[0] != '/')
        return false;
    if (len == 1)
        return true;
    if (p[len - 1] == '/')
        return false;
    for (const char *s = p, *end = p + len; (s = memchr(s, '/', (size_t)(end - s))) != NULL; s++) {
        /* s is a separator: what follows must be a name other than . and .. */
        size_t rest = (size_t)(end - s - 1);
        if (rest == 0 || s[1] == '/')
            return false;
        if (s[1] == '.' && (rest == 1 || s[2] == '/' || (s[2] == '.' && (rest == 2 || s[3] == '/'))))
            return false;
    }
    return true;
}

char *ev_canon_path(const char *path, size_t len)
{
    if (ev_path_is_canon(path, len)) {
        /* the common case: nothing to remove */
        char *r = ut_xmalloc(len + 1);
        memcpy(r, path, len);
        r[len] = 0;
        return r;
    }
    ut_buf b = UT_BUF_INIT;
    const char *p = path, *end = path + len;
    ut_buf_reserve(&b, len + 1);
    while (p < end) {
        while (p < end && *p == '/')
            p++;
        if (p >= end)
            break;
        const char *q = p;
        while (q < end && *q != '/')
            q++;
        size_t n = (size_t)(q - p);
        if (n == 1 && p[0] == '.') {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (b.len > 0 && b.data[b.len - 1] != '/')
                b.len--;
            if (b.len > 0)
                b.len--;
            b.data[b.len] = 0;
        } else {
            ut_buf_putc(&b, '/');
            ut_buf_append(&b, p, n);
        }
        p = q;
    }
    if (b.len == 0)
        ut_buf_putc(&b, '/');
    return ut_buf_steal(&b, NULL);
}

char *ev_find_file(ev_state *S, const char *name, size_t len)
{
    for (size_t i = 0; i < S->nsearch_path; i++) {
        const char *e = S->search_path[i];
        const char *eq = strchr(e, '=');
        const char *prefix = "", *dir = e;
        size_t plen = 0;
        if (eq) {
            prefix = e;
            plen = (size_t)(eq - e);
            dir = eq + 1;
        }
        const char *rest = NULL;
        if (plen == 0)
            rest = name;
        else if (len >= plen && memcmp(name, prefix, plen) == 0 && (len == plen || name[plen] == '/'))
            rest = name + plen + (len > plen ? 1 : 0);
        if (!rest)
            continue;
        if (strstr(dir, "://"))
            continue;   /* URLs need a fetcher; not resolved here */
        ut_buf b = UT_BUF_INIT;
        if (dir[0] != '/') {
            char cwd[4096];
            if (getcwd(cwd, sizeof cwd)) {
                ut_buf_puts(&b, cwd);
                ut_buf_putc(&b, '/');
            }
        }
        ut_buf_puts(&b, dir);
        size_t rl = (size_t)(name + len - rest);
        if (rl) {
            ut_buf_putc(&b, '/');
            ut_buf_append(&b, rest, rl);
        }
        char *c = ev_canon_path(b.data, b.len);
        ut_buf_free(&b);
        struct stat st;
        if (stat(c, &st) == 0)
            return c;
        free(c);
    }
    return NULL;
}

void ev_set_copy_path_hook(ev_state *S, ev_copy_path_fn fn, void *ud)
{
    S->copy_path = fn;
    S->copy_path_ud = ud;
}

char *ev_copy_path_to_store(ev_state *S, const char *path, ps_pos pos)
{
    char *cached = ut_hmap_get(S->copied_paths, path, strlen(path));
    if (cached)
        return ut_xstrdup(cached);
    struct stat st;
    const char *host = ev_host_path(S, path);
    ut_err err = UT_ERR_INIT;
    char *r = NULL;
    if (S->copy_path) {
        r = S->copy_path(S->copy_path_ud, S, host, &err);
    } else {
#ifdef STRAYLIGHT_HAVE_STORE
        if (!S->opts.store) {
            if (lstat(host, &st) != 0)
                ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "path '%s' does not exist", path);
            ev_error(S, EV_ERR_EVAL, pos, "cannot copy '%s' to the store: no store is available", path);
        }
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (!st_store_add_path(S->opts.store, host, base, NULL, NULL, NC_CA_NAR, &r, NULL, &err))
            r = NULL;
#else
        if (lstat(host, &st) != 0)
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "path '%s' does not exist", path);
        ev_error(S, EV_ERR_EVAL, pos, "cannot copy '%s' to the store: no store is available", path);
#endif
    }
    if (!r) {
        /* a missing path is told apart only now: the copy looks first */
        if (lstat(host, &st) != 0) {
            ut_err_clear(&err);
            ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "path '%s' does not exist", path);
        }
        char *m = ut_xstrdup(err.msg ? err.msg : "copying to the store failed");
        ut_err_clear(&err);
        extern UT_NORETURN void ev_error_owned(ev_state * S, ev_errkind kind, ps_pos pos, char *msg);
        ev_error_owned(S, EV_ERR_EVAL, pos, m);
    }
    ut_hmap_put(S->copied_paths, path, strlen(path), ut_xstrdup(r));
    if (!ut_hmap_has(S->copy_sources, r, strlen(r)))
        ut_hmap_put(S->copy_sources, r, strlen(r), ut_xstrdup(path));
    return r;
}

ut_hmap *ev_dir_cache(ev_state *S) { return S->dir_cache; }

void ev_note_copy(ev_state *S, const char *source, const char *store_path)
{
    if (!ut_hmap_has(S->copy_sources, store_path, strlen(store_path)))
        ut_hmap_put(S->copy_sources, store_path, strlen(store_path), ut_xstrdup(source));
}

static char *checkout_cache_dir(void)
{
    const char *xc = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    ut_buf b = UT_BUF_INIT;
    if (xc && *xc)
        ut_buf_printf(&b, "%s/straylight/store-checkout", xc);
    else
        ut_buf_printf(&b, "%s/.cache/straylight/store-checkout", home && *home ? home : "/tmp");
    return ut_buf_steal(&b, NULL);
}

/* Where a store object's files are on this host is decided once per object
 * and kept in host_paths under the object's path followed by a NUL (apart
 * from the whole-path entries): "" when the object is in the store
 * directory itself, else the directory standing in for it. An object's
 * contents are fixed by its path, so whether one of its files exists is
 * the same at either place. */
static const char *object_host(ev_state *S, const char *path, size_t splen)
{
    ut_buf k = UT_BUF_INIT;
    ut_buf_append(&k, path, splen);
    ut_buf_putc(&k, 0);
    const char *r = ut_hmap_get(S->host_paths, k.data, k.len);
    ut_buf_free(&k);
    return r;
}

static void object_host_set(ev_state *S, const char *path, size_t splen, const char *where)
{
    ut_buf k = UT_BUF_INIT;
    ut_buf_append(&k, path, splen);
    ut_buf_putc(&k, 0);
    if (!ut_hmap_has(S->host_paths, k.data, k.len))
        ut_hmap_put(S->host_paths, k.data, k.len, ut_xstrdup(where));
    ut_buf_free(&k);
}

const char *ev_host_path(ev_state *S, const char *path)
{
    size_t sdl = strlen(S->store_dir);
    if (strncmp(path, S->store_dir, sdl) != 0 || (path[sdl] && path[sdl] != '/'))
        return path;
    struct stat st;
    if (!path[sdl] || !path[sdl + 1]) {
        if (lstat(path, &st) == 0)
            return path;
        /* the store dir itself always exists logically; the directory of
         * objects materialised from the store stands in for it */
        char *r = ut_hmap_get(S->host_paths, path, strlen(path));
        if (r)
            return r;
        r = checkout_cache_dir();
        ut_err e = UT_ERR_INIT;
        if (!ut_mkdirs(r, 0755, &e)) {
            ut_err_clear(&e);
            free(r);
            return path;
        }
        ut_hmap_put(S->host_paths, path, strlen(path), r);
        return r;
    }
    const char *name = path + sdl + 1;
    const char *end = strchr(name, '/');
    size_t splen = end ? (size_t)(end - path) : strlen(path);
    const char *rest = path + splen;
    const char *base = object_host(S, path, splen);
    if (base && !*base)
        return path;
    if (!base) {
        if (lstat(path, &st) == 0) {
            object_host_set(S, path, splen, "");
            return path;
        }
        base = ut_hmap_get(S->copy_sources, path, splen);
        if (!base)
            base = ut_hmap_get(S->checkouts, path, splen);
#ifdef STRAYLIGHT_HAVE_STORE
        if (!base && S->opts.store) {
            char *sp = ut_xstrndup(path, splen), *dir = checkout_cache_dir(), *fs = NULL;
            ut_err e = UT_ERR_INIT;
            if (ut_mkdirs(dir, 0755, &e) && st_store_checkout(S->opts.store, sp, dir, &fs, &e)) {
                ut_hmap_put(S->checkouts, path, splen, fs);
                base = fs;
            }
            ut_err_clear(&e);
            free(dir);
            free(sp);
        }
#endif
        if (!base)
            return path;
        object_host_set(S, path, splen, base);
    }
    /* kept for S's lifetime: callers hold the result across evaluation */
    char *old = ut_hmap_get(S->host_paths, path, strlen(path));
    if (old)
        return old;
    size_t bl = strlen(base), rl = strlen(rest);
    ut_buf b = UT_BUF_INIT;
    ut_buf_append(&b, base, bl);
    ut_buf_append(&b, rest, rl);
    char *r = ut_buf_steal(&b, NULL);
    ut_hmap_put(S->host_paths, path, strlen(path), r);
    return r;
}

/* ---- parsing and import ------------------------------------------------ */

/* Compiles the tree e (NULL: the parse failed, err says why) and frees its
 * arena; a failure leaves by longjmp with the message. */
static ev_code *compile_tree(ev_state *S, ps_expr *e, ut_arena *tree, const ev_attrs *scope, ut_err *err)
{
    ev_code *c = e ? ev_compile(S, S->code_arena, e, scope, err) : NULL;
    ut_arena_free(tree);
    if (!c) {
        /* parse errors arrive formatted ("error: ...\n at ..."): keep them whole */
        const char *m = err->msg ? err->msg : "error: parse failed";
        if (strncmp(m, "error: ", 7) == 0)
            m += 7;
        char *msg = ut_xstrdup(m);
        size_t ml = strlen(msg);
        while (ml && msg[ml - 1] == '\n')
            msg[--ml] = 0;
        ut_err_clear(err);
        extern UT_NORETURN void ev_error_preformatted(ev_state * S, char *msg);
        ev_error_preformatted(S, msg);
    }
    return c;
}

/* text: in the code arena for S's lifetime (error messages quote it),
 * with two NULs after it, so that the lexer scans it where it is */
static ev_code *parse_compile_kept(ev_state *S, char *text, size_t len, ps_origin origin, const char *path,
                                   const char *basedir, const ev_attrs *scope)
{
    ps_source *src = ps_source_new(S->code_arena, origin, path, text, len, basedir);
    src->scan_in_place = true;
    ut_err err = UT_ERR_INIT;
    ps_options po = S->opts.parse;
    if (!po.home)
        po.home = S->opts.home;
    po.base_env = S->base_names;
    const char **extra = NULL;
    if (scope) {
        extra = ut_arena_alloc(S->code_arena, (scope->h.n + 1) * sizeof(char *));
        for (uint32_t i = 0; i < scope->h.n; i++)
            extra[i] = ps_sym_str(S->syms, scope->a[i].name);
        po.extra_env = extra;
    }
    /* The tree is only read by the compiler: it lives in an arena of its
     * own, freed once the code (which copies what it keeps) is built. */
    ut_arena *tree = ut_arena_new();
    ps_expr *e = ps_parse(S->syms, src, tree, &po, &err);
    return compile_tree(S, e, tree, scope, &err);
}

ev_code *ev_parse_compile(ev_state *S, const char *text, size_t len, ps_origin origin,
                          const char *path, const char *basedir, const ev_attrs *scope, ps_pos pos)
{
    (void)pos;
    char *t = ut_arena_alloc(S->code_arena, len + 2);  /* zeroed: the NULs are there */
    memcpy(t, text, len);
    return parse_compile_kept(S, t, len, origin, path, basedir, scope);
}

/* Reads a file's text straight into the code arena, where it stays as the
 * source: a big file was read into a buffer, copied into the arena, and
 * copied again for the lexer, each copy written to fresh memory. */
static char *read_source(ev_state *S, int fd, const struct stat *st, size_t *len, ut_err *err)
{
    size_t expect = st && S_ISREG(st->st_mode) && st->st_size > 0 && (uint64_t)st->st_size < SIZE_MAX / 4
                        ? (size_t)st->st_size
                        : 0;
    size_t got = 0;
    char *t = NULL;
    if (expect) {
        /* one byte more is asked for, to see a file that grew; the arena's
         * memory is zeroed, so the two NULs are there */
        t = ut_arena_alloc(S->code_arena, expect + 3);
        long n = ut_read_upto(fd, t, expect + 1, expect);
        if (n < 0) {
            ut_err_set(err, "read failed: %s", strerror(errno));
            return NULL;
        }
        got = (size_t)n;
        if (got <= expect) {
            *len = got;
            return t;
        }
    }
    /* size unknown, or the file grew: read on to its end (what the arena
     * got first stays there unused) */
    ut_buf b = UT_BUF_INIT;
    ut_buf_append(&b, t, got);
    if (!ut_read_fd(fd, &b, err)) {
        ut_buf_free(&b);
        return NULL;
    }
    char *u = ut_arena_alloc(S->code_arena, b.len + 2);
    memcpy(u, b.data, b.len);
    *len = b.len;
    ut_buf_free(&b);
    return u;
}

ev_code *ev_load_file(ev_state *S, const char *path, const ev_attrs *scope, ps_pos pos)
{
    /* p names the file (positions, relative imports); it is read at its
     * host location */
    struct stat st;
    char *p = ut_xstrdup(path);
    const char *host = ev_host_path(S, p);
    /* the status that tells a directory from a file also gives the size
     * to read at once (a file that changes in between is read to its end) */
    bool have_st = stat(host, &st) == 0;
    if (have_st && S_ISDIR(st.st_mode)) {
        char *q = ut_xmalloc(strlen(p) + 13);
        sprintf(q, "%s%sdefault.nix", p, p[strlen(p) - 1] == '/' ? "" : "/");
        free(p);
        p = q;
        host = ev_host_path(S, p);
        have_st = false;
    }
    if (!scope) {
        /* scopedImport's files resolve names against their scope: never
         * parsed ahead */
        ut_arena *tree;
        ps_expr *e = ev_preparse_take(S, p, host, have_st ? &st : NULL, &tree);
        if (e) {
            free(p);
            ut_err err = UT_ERR_INIT;
            return compile_tree(S, e, tree, NULL, &err);
        }
    }
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && !have_st)
        have_st = fstat(fd, &st) == 0;
    ut_err err = UT_ERR_INIT;
    size_t len = 0;
    char *text = fd >= 0 ? read_source(S, fd, have_st ? &st : NULL, &len, &err) : NULL;
    if (fd >= 0)
        close(fd);
    if (!text) {
        ut_err_clear(&err);
        char *m = ut_xmalloc(strlen(p) + 64);
        if (access(host, F_OK) != 0)
            sprintf(m, "path '%s' does not exist", p);
        else
            sprintf(m, "cannot read '%s'", p);
        free(p);
        extern UT_NORETURN void ev_error_owned(ev_state * S, ev_errkind kind, ps_pos pos, char *msg);
        ev_error_owned(S, EV_ERR_EVAL, pos, m);
    }
    /* nothing of the heap is held across parsing: a parse error leaves by
     * longjmp. ps_source_new takes the directory from the path. */
    char *ap = ut_arena_strdup(S->code_arena, p);
    free(p);
    return parse_compile_kept(S, text, len, PS_ORIGIN_FILE, ap, strchr(ap, '/') ? NULL : ap, scope);
}

ev_value ev_import_path(ev_state *S, const char *path, ps_pos pos)
{
    ev_box *b = ut_hmap_get(S->import_cache, path, strlen(path));
    if (!b) {
        ev_code *c = ev_load_file(S, path, NULL, pos);
        b = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + sizeof(ev_value));
        b->h.n = 1;
        b->v[0].type = EV_THUNK;
        b->v[0].u.t = ev_thunk_new(S, c, S->base_env);
        ut_hmap_put(S->import_cache, path, strlen(path), b);
    }
    return b->v[0];
}

ev_value *ev_memo_slot(ev_state *S, const char *ns, const char *key, size_t klen, bool create)
{
    /* shares the import cache's rooted table; the NUL after the namespace
     * keeps these keys apart from import paths */
    ut_buf k = UT_BUF_INIT;
    ut_buf_puts(&k, ns);
    ut_buf_putc(&k, 0);
    ut_buf_append(&k, key, klen);
    ev_box *b = ut_hmap_get(S->import_cache, k.data, k.len);
    if (!b && create) {
        b = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + sizeof(ev_value));
        b->h.n = 1;
        ut_hmap_put(S->import_cache, k.data, k.len, b);
    }
    ut_buf_free(&k);
    return b ? &b->v[0] : NULL;
}

void ev_eval_file(ev_state *S, const char *path, ev_value *out, ps_pos pos)
{
    *out = ev_import_path(S, path, pos);
    ev_force(S, out, pos);
}

void ev_eval_string(ev_state *S, const char *text, size_t len, ps_origin origin, const char *basedir,
                    ev_value *out)
{
    ev_code *c = ev_parse_compile(S, text, len, origin, NULL, basedir, NULL, (ps_pos){0});
    ev_eval(S, c, S->base_env, out);
}
