/* Files read and parsed ahead, on a second thread (docs/eval.md).
 *
 * An evaluation imports the same files in the same order each time it is
 * run on the same entry file. When a state's evaluation ends, the files
 * it loaded are written to an import log, keyed by the entry file (the
 * first file the state loads). The next state that loads that entry first
 * starts a thread that reads and parses the logged files in that order,
 * each into a tree of its own, with a symbol table of its own, while the
 * evaluator runs. ev_load_file then takes a file's tree when the file's
 * status (device, inode, size, mtime, ctime) is the one the thread read
 * it under, moves the tree's symbols to the state's table, and compiles it
 * as it would have compiled its own parse.
 *
 * What is taken is what a parse on the evaluator's thread would have
 * given, byte for byte: the same text, path and options, and the symbol
 * ids parsing with the state's table would have assigned (see
 * ps_symtab_map_journal). A file the thread could not parse, or whose
 * parse warned, is left to ev_load_file, which parses it again and
 * reports as it always does. The log is a guess, never trusted: a file
 * that changed, vanished, was not predicted or is asked for out of order
 * is parsed as usual.
 *
 * The thread touches nothing of the state: it has copies of the parser
 * options and the base environment's names, its own symbol table, and an
 * arena for the sources it reads. Results are handed over under one lock.
 * The sources must live as long as the state (error messages quote them):
 * the thread's arena is given to the state's code arena when the thread
 * has been joined, in ev_preparse_end. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eval/internal.h"

#define PP_MAGIC "straylight import log 1\n"
#define PP_MAX_FILES 65536
#define PP_MAX_LOG (16u << 20)
#define PP_MAX_SOURCE (256u << 20)
/* Logs are kept for the entries used lately: a log not used for
 * PP_KEEP_DAYS goes, and of more than PP_MAX_LOGS the least lately used
 * go, when a new log is made. A log in use has its time renewed at most
 * once a day. Temporary files a killed process left go after a day. */
#define PP_KEEP_DAYS 30
#define PP_MAX_LOGS 256
/* Trees parsed but not yet asked for are memory: the thread stays at most
 * this many files ahead of the furthest file the evaluator has asked for.
 * 64 cost `instantiate -A hello` 3.3 MB more than none, 8 cost 1 MB, and
 * the walk was as fast with either. */
#define PP_AHEAD 8
/* A file changed this recently may change again within the same tick of
 * the file system's clock, and so keep its status: the thread leaves it to
 * the evaluator (git's "racily clean" entries; store/pathcache.c) */
#define PP_SETTLE_NS 2000000000LL
/* How long the evaluator waits for a file being parsed before it parses
 * the file itself: a parse takes ~10 ns a byte, and much longer means the
 * thread is not getting a core */
#define PP_WAIT_NS 1000000LL
#define PP_WAIT_NS_PER_BYTE 30

typedef enum pp_state {
    PP_QUEUED,      /* for the thread */
    PP_CLAIMED,     /* asked for before the thread got to it: it skips it */
    PP_RUNNING,     /* the thread is reading or parsing it */
    PP_READY,       /* parsed, tree waiting */
    PP_FAILED,      /* unreadable, a parse error or a warning: parsed as usual */
    PP_TAKEN,       /* asked for once; any later request parses as usual */
} pp_state;

typedef struct pp_identity {
    uint64_t dev, ino, size;
    int64_t mtime, ctime;
} pp_identity;

typedef struct pp_file {
    char *path;             /* the name the file is imported under */
    char *host;             /* where it is read (differs for store checkouts) */
    pp_state state;
    bool abandoned;         /* the evaluator stopped waiting for it */
    /* set by the thread before PP_READY */
    pp_identity id;
    ut_arena *tree_arena;
    ps_expr *tree;
    ps_symref *journal;
    size_t njournal;
    ps_sym maxsym;
} pp_file;

typedef struct ev_preparse {
    bool off;
    char *log_path;         /* NULL: no log */
    char *entry;
    ut_buf old_log;         /* the log as read, to write it only when it changed */

    /* what this state loads, for the next log */
    ut_buf rec;
    ut_hmap *recorded;
    size_t nrec;

    /* the prediction */
    pp_file *files;
    size_t nfiles;
    ut_hmap *index;         /* path -> index + 1 */

    /* shared with the thread, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running, stop, done;
    bool sync;              /* STRAYLIGHT_PREPARSE=sync */
    size_t next;            /* the thread's cursor */
    size_t hi;              /* 1 + the furthest index asked for */

    /* the thread's own until it is joined */
    pthread_t th;
    ps_symtab *syms;
    ut_arena *keep;         /* sources and their records */
    ps_options po;
    const char **base;      /* the base environment's names, in syms */
    char *home;
    bool warned;

    /* the evaluator's: symbol map for moving trees, counts for
     * STRAYLIGHT_PREPARSE_STATS */
    ps_sym *map;
    size_t nmap;
    size_t ntaken, nwaited, nchanged, nfailed, nclaimed, nabandoned;
    int64_t wait_ns;
} ev_preparse;

/* ---- the log ----------------------------------------------------------- */

/* FNV-1a: a fixed function, as the log's name and check outlive a build */
static uint64_t fnv64(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static char *log_path_for(const char *entry)
{
    /* XDG says a relative XDG_CACHE_HOME is to be ignored */
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    ut_buf b = UT_BUF_INIT;
    if (x && x[0] == '/')
        ut_buf_printf(&b, "%s/straylight/imports", x);
    else if (home && home[0] == '/')
        ut_buf_printf(&b, "%s/.cache/straylight/imports", home);
    else
        return NULL;
    ut_buf_printf(&b, "/%016llx.log", (unsigned long long)fnv64(entry, strlen(entry)));
    return ut_buf_steal(&b, NULL);
}

static bool name_ok(const char *s, size_t n)
{
    return n > 1 && s[0] == '/' && !memchr(s, '\n', n) && !memchr(s, '\t', n) && !memchr(s, 0, n);
}

/* "straylight import log 1\n", "entry PATH\n", one "f PATH\n" or
 * "h PATH\tHOST\n" per file in the order loaded, and "end N HASH\n", HASH
 * the FNV-1a of all before it: a torn or damaged log does not parse and
 * predicts nothing. */
static void log_read(ev_preparse *pp)
{
    int fd = open(pp->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    ut_err e = UT_ERR_INIT;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < PP_MAX_LOG &&
              ut_read_fd_stat(fd, &st, &pp->old_log, &e);
    close(fd);
    ut_err_clear(&e);
    if (!ok || pp->old_log.len < sizeof PP_MAGIC) {
        ut_buf_clear(&pp->old_log);
        return;
    }
    const char *s = pp->old_log.data, *end = s + pp->old_log.len;
    /* the end line, and the hash of all before it */
    const char *last = end - 1;
    if (*last != '\n')
        goto bad;
    while (last > s && last[-1] != '\n')
        last--;
    unsigned long long count, hash;
    char tail;
    if (sscanf(last, "end %llu %llx%c", &count, &hash, &tail) != 3 || tail != '\n' ||
        hash != fnv64(s, (size_t)(last - s)) || count > PP_MAX_FILES)
        goto bad;
    size_t ml = strlen(PP_MAGIC), el = strlen(pp->entry);
    if ((size_t)(last - s) < ml + 6 + el + 1 || memcmp(s, PP_MAGIC, ml) != 0 || memcmp(s + ml, "entry ", 6) != 0 ||
        memcmp(s + ml + 6, pp->entry, el) != 0 || s[ml + 6 + el] != '\n')
        goto bad;
    pp->files = ut_xcalloc(count ? count : 1, sizeof *pp->files);
    for (const char *p = s + ml + 6 + el + 1; p < last;) {
        const char *nl = memchr(p, '\n', (size_t)(last - p));
        if (!nl || nl - p < 3 || p[1] != ' ' || pp->nfiles == count)
            goto bad;
        const char *a = p + 2, *tab = p[0] == 'h' ? memchr(a, '\t', (size_t)(nl - a)) : NULL;
        if (p[0] == 'h' ? !tab : p[0] != 'f')
            goto bad;
        const char *ae = tab ? tab : nl;
        const char *h = tab ? tab + 1 : a, *he = nl;
        if (!name_ok(a, (size_t)(ae - a)) || !name_ok(h, (size_t)(he - h)))
            goto bad;
        p = nl + 1;
        if (ut_hmap_has(pp->index, a, (size_t)(ae - a)))
            continue;
        pp_file *f = &pp->files[pp->nfiles++];
        f->path = ut_xstrndup(a, (size_t)(ae - a));
        f->host = ut_xstrndup(h, (size_t)(he - h));
        ut_hmap_put(pp->index, a, (size_t)(ae - a), (void *)(uintptr_t)pp->nfiles);
    }
    if (pp->nfiles != count)
        goto bad;
    return;
bad:
    /* predicts nothing, and is replaced at the end */
    for (size_t i = 0; i < pp->nfiles; i++) {
        free(pp->files[i].path);
        free(pp->files[i].host);
    }
    free(pp->files);
    pp->files = NULL;
    pp->nfiles = 0;
    ut_hmap_free(pp->index);
    pp->index = ut_hmap_new();
    ut_buf_clear(&pp->old_log);
}

static void record(ev_preparse *pp, const char *path, const char *host)
{
    size_t pl = strlen(path), hl = strlen(host);
    if (pp->nrec >= PP_MAX_FILES || !name_ok(path, pl) || !name_ok(host, hl) || strcmp(path, pp->entry) == 0 ||
        ut_hmap_has(pp->recorded, path, pl))
        return;
    ut_hmap_put(pp->recorded, path, pl, NULL);
    pp->nrec++;
    if (strcmp(path, host) == 0)
        ut_buf_printf(&pp->rec, "f %s\n", path);
    else
        ut_buf_printf(&pp->rec, "h %s\t%s\n", path, host);
}

typedef struct pp_logent {
    char *name;
    time_t used;
} pp_logent;

static int logent_newer_first(const void *a, const void *b)
{
    const pp_logent *x = a, *y = b;
    return x->used > y->used ? -1 : x->used < y->used;
}

static void prune_logs(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    pp_logent *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        bool is_log = l == 20 && strcmp(de->d_name + 16, ".log") == 0;
        bool is_tmp = strstr(de->d_name, ".log.tmp-") != NULL;
        struct stat st;
        if ((!is_log && !is_tmp) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (is_tmp ? now - st.st_mtime >= 86400 : now - st.st_mtime >= (time_t)PP_KEEP_DAYS * 86400) {
            (void)unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        if (is_tmp)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            v = ut_xrealloc(v, cap * sizeof *v);
        }
        v[n].name = ut_xstrdup(de->d_name);
        v[n].used = st.st_mtime;
        n++;
    }
    if (n > PP_MAX_LOGS) {
        qsort(v, n, sizeof *v, logent_newer_first);
        for (size_t i = PP_MAX_LOGS; i < n; i++)
            (void)unlinkat(dirfd(d), v[i].name, 0);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    closedir(d);
}

/* A log used as it is: its time says it was used lately */
static void log_renew(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && time(NULL) - st.st_mtime >= 86400)
        (void)utimensat(AT_FDCWD, path, NULL, 0);
}

/* Written whole to a temporary file renamed over the log
 * (ut_write_file_atomic), so that a reader sees the old log or the new one;
 * only when it changed. A log that cannot be written predicts nothing,
 * which costs nothing but the time saved. */
static void log_write(ev_preparse *pp)
{
    /* an entry that imports nothing gains nothing: no log for it, so that
     * evaluating many single files leaves no file per file */
    if (pp->nrec == 0 && pp->old_log.len == 0)
        return;
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%sentry %s\n", PP_MAGIC, pp->entry);
    ut_buf_append(&b, pp->rec.data ? pp->rec.data : "", pp->rec.len);
    ut_buf_printf(&b, "end %zu %016llx\n", pp->nrec, (unsigned long long)fnv64(b.data, b.len));
    if (b.len > PP_MAX_LOG || (b.len == pp->old_log.len && memcmp(b.data, pp->old_log.data, b.len) == 0)) {
        if (b.len <= PP_MAX_LOG)
            log_renew(pp->log_path);
        ut_buf_free(&b);
        return;
    }
    char *dir = ut_xstrdup(pp->log_path);
    *strrchr(dir, '/') = 0;
    ut_err e = UT_ERR_INIT;
    if (pp->old_log.len == 0)
        prune_logs(dir);    /* a log more */
    if (ut_mkdirs(dir, 0755, &e))
        (void)ut_write_file_atomic(pp->log_path, b.data, b.len, 0644, &e);
    ut_err_clear(&e);
    free(dir);
    ut_buf_free(&b);
}

/* ---- the thread -------------------------------------------------------- */

static pp_identity identity(const struct stat *st)
{
    return (pp_identity){(uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
                         (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
                         (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec};
}

static bool same_identity(pp_identity a, pp_identity b)
{
    return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime == b.mtime && a.ctime == b.ctime;
}

static void note_warning(void *ctx, const char *text, size_t len)
{
    (void)text;
    (void)len;
    *(bool *)ctx = true;
}

/* Reads f whole into the thread's arena, as ev_load_file reads it (two
 * NULs after the text), and parses it. Only a regular file whose status
 * is the same before and after the read is kept. */
static bool parse_one(ev_preparse *pp, pp_file *f)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t settled = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - (pp->sync ? 0 : PP_SETTLE_NS);
    int fd = open(f->host, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st, st2;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < PP_MAX_SOURCE &&
              identity(&st).mtime < settled && identity(&st).ctime < settled;
    size_t len = ok ? (size_t)st.st_size : 0;
    char *text = NULL;
    if (ok) {
        /* one byte more is asked for, to see a file that grew */
        text = ut_arena_alloc(pp->keep, len + 3);
        long got = ut_read_upto(fd, text, len + 1, len);
        ok = got == (long)len && fstat(fd, &st2) == 0 && same_identity(identity(&st), identity(&st2));
        text[len] = text[len + 1] = 0;
    }
    close(fd);
    if (!ok)
        return false;
    ps_source *src = ps_source_new(pp->keep, PS_ORIGIN_FILE, f->path, text, len, NULL);
    src->scan_in_place = true;
    ut_arena *tree = ut_arena_new();
    ut_err err = UT_ERR_INIT;
    pp->warned = false;
    ps_symtab_journal_begin(pp->syms);
    ps_expr *e = ps_parse(pp->syms, src, tree, &pp->po, &err);
    size_t nj;
    ps_symref *j = ps_symtab_journal_end(pp->syms, &nj);
    ut_err_clear(&err);
    if (!e || pp->warned) {
        free(j);
        ut_arena_free(tree);
        return false;
    }
    ps_sym maxsym = 0;
    for (size_t i = 0; i < nj; i++)
        if (j[i].id > maxsym)
            maxsym = j[i].id;
    f->id = identity(&st);
    f->tree_arena = tree;
    f->tree = e;
    f->journal = j;
    f->njournal = nj;
    f->maxsym = maxsym;
    return true;
}

static void *pp_thread(void *arg)
{
    ev_preparse *pp = arg;
    pthread_mutex_lock(&pp->mu);
    for (;;) {
        while (!pp->stop && pp->next < pp->nfiles && pp->files[pp->next].state != PP_QUEUED)
            pp->next++;
        if (pp->stop || pp->next >= pp->nfiles)
            break;
        if (pp->next >= pp->hi + PP_AHEAD) {
            pthread_cond_wait(&pp->cv, &pp->mu);
            continue;
        }
        pp_file *f = &pp->files[pp->next++];
        f->state = PP_RUNNING;
        pthread_mutex_unlock(&pp->mu);
        bool ok = parse_one(pp, f);
        pthread_mutex_lock(&pp->mu);
        if (f->abandoned) {
            ut_arena_free(f->tree_arena);
            free(f->journal);
            f->tree_arena = NULL;
            f->tree = NULL;
            f->journal = NULL;
            f->state = PP_TAKEN;
        } else {
            f->state = ok ? PP_READY : PP_FAILED;
        }
        pthread_cond_broadcast(&pp->cv);
    }
    pp->done = true;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

/* ---- the evaluator's side ---------------------------------------------- */

/* STRAYLIGHT_PREPARSE: 0 switches it off; "sync" has the evaluator wait
 * for the thread to be through the whole log before it parses its entry,
 * so that what is taken does not depend on timing, and takes files however
 * recently they changed (for tests, which write files just before they
 * run them). */
static const char *setting(void)
{
    const char *v = getenv("STRAYLIGHT_PREPARSE");
    return v ? v : "";
}

static void start_thread(ev_state *S, ev_preparse *pp)
{
    pp->syms = ps_symtab_new();
    pp->keep = ut_arena_new();
    pp->po = S->opts.parse;
    const char *home = pp->po.home ? pp->po.home : S->opts.home;
    pp->home = home ? ut_xstrdup(home) : NULL;
    pp->po.home = pp->home;
    pp->po.extra_env = NULL;
    pp->po.warn = note_warning;
    pp->po.warn_ctx = &pp->warned;
    /* the base environment's names as the thread's table's own strings:
     * the parser then sees the same array each time and need not intern
     * them again */
    size_t nb = 0;
    while (S->base_names[nb])
        nb++;
    pp->base = ut_xcalloc(nb + 1, sizeof *pp->base);
    for (size_t i = 0; i < nb; i++)
        pp->base[i] = ps_sym_str(pp->syms, ps_intern_cstr(pp->syms, S->base_names[i]));
    pp->po.base_env = pp->base;

    /* the parser's recursion is measured against the main thread's stack */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    size_t stack = (size_t)8 << 20;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > stack)
        stack = (size_t)rl.rlim_cur;
    pthread_attr_setstacksize(&attr, stack);
    /* signals are the evaluator's to handle */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pp->running = pthread_create(&pp->th, &attr, pp_thread, pp) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

static void begin(ev_state *S, const char *entry)
{
    ev_preparse *pp = ut_xcalloc(1, sizeof *pp);
    S->preparse = pp;
    pp->off = strcmp(setting(), "0") == 0;
    if (!pp->off) {
        pp->entry = ut_xstrdup(entry);
        pp->log_path = name_ok(entry, strlen(entry)) ? log_path_for(entry) : NULL;
        pp->off = !pp->log_path;
    }
    if (pp->off)
        return;
    pp->recorded = ut_hmap_new();
    pp->index = ut_hmap_new();
    pthread_mutex_init(&pp->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pp->cv, &ca);
    pthread_condattr_destroy(&ca);
    log_read(pp);
    if (!pp->nfiles)
        return;
    pp->sync = strcmp(setting(), "sync") == 0;
    if (pp->sync)
        pp->hi = pp->nfiles;
    start_thread(S, pp);
    if (pp->sync && pp->running) {
        pthread_mutex_lock(&pp->mu);
        while (!pp->done)
            pthread_cond_wait(&pp->cv, &pp->mu);
        pthread_mutex_unlock(&pp->mu);
    }
}

ps_expr *ev_preparse_take(ev_state *S, const char *path, const char *host, const struct stat *st,
                          ut_arena **tree_arena)
{
    ev_preparse *pp = S->preparse;
    if (!pp) {
        begin(S, path);
        pp = S->preparse;
    }
    if (pp->off)
        return NULL;
    record(pp, path, host);
    if (!pp->running)
        return NULL;
    uintptr_t k = (uintptr_t)ut_hmap_get(pp->index, path, strlen(path));
    if (!k)
        return NULL;
    pp_file *f = &pp->files[k - 1];
    pthread_mutex_lock(&pp->mu);
    if (k > pp->hi) {
        pp->hi = k;
        pthread_cond_broadcast(&pp->cv);
    }
    if (f->state == PP_QUEUED) {
        f->state = PP_CLAIMED;
        pp->nclaimed++;
    }
    if (f->state == PP_RUNNING) {
        /* It is being parsed: sooner done than started again here, unless
         * the thread is not running (both cores busy). Waiting longer than
         * a parse here would take is given up, and the thread's tree
         * dropped when it comes. */
        struct timespec t0, t1, until;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t limit = PP_WAIT_NS + (st && st->st_size > 0 ? (int64_t)st->st_size * PP_WAIT_NS_PER_BYTE : 0);
        int64_t end = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec + limit;
        until.tv_sec = (time_t)(end / 1000000000);
        until.tv_nsec = (long)(end % 1000000000);
        int rc = 0;
        while (f->state == PP_RUNNING && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&pp->cv, &pp->mu, &until);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        pp->nwaited++;
        pp->wait_ns += (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
        if (f->state == PP_RUNNING) {
            f->abandoned = true;
            pp->nabandoned++;
            pthread_mutex_unlock(&pp->mu);
            return NULL;
        }
    }
    bool ready = f->state == PP_READY;
    if (f->state == PP_FAILED)
        pp->nfailed++;
    if (ready || f->state == PP_FAILED)
        f->state = PP_TAKEN;
    pthread_mutex_unlock(&pp->mu);
    if (!ready)
        return NULL;
    /* now the evaluator's alone */
    ps_expr *e = f->tree;
    ut_arena *arena = f->tree_arena;
    f->tree = NULL;
    f->tree_arena = NULL;
    struct stat now;
    if (!st && stat(host, &now) == 0)
        st = &now;
    if (!st || strcmp(host, f->host) != 0 || !same_identity(identity(st), f->id)) {
        ut_arena_free(arena);
        free(f->journal);
        f->journal = NULL;
        pp->nchanged++;
        return NULL;
    }
    pp->ntaken++;
    if (f->maxsym >= pp->nmap) {
        pp->nmap = (size_t)f->maxsym + 1024;
        pp->map = ut_xrealloc(pp->map, pp->nmap * sizeof *pp->map);
    }
    ps_symtab_map_journal(S->syms, f->journal, f->njournal, pp->map);
    free(f->journal);
    f->journal = NULL;
    ps_remap_syms(e, pp->map);
    *tree_arena = arena;
    return e;
}

void ev_preparse_end(ev_state *S)
{
    ev_preparse *pp = S->preparse;
    if (!pp)
        return;
    S->preparse = NULL;
    const char *stats = getenv("STRAYLIGHT_PREPARSE_STATS");
    if (stats && *stats && strcmp(stats, "0") != 0 && !pp->off)
        fprintf(stderr,
                "preparse: %zu files predicted, %zu taken (%zu waited for, %.1f ms), %zu changed since, "
                "%zu left by the thread, %zu not reached by it, %zu given up on\n",
                pp->nfiles, pp->ntaken, pp->nwaited, (double)pp->wait_ns / 1e6, pp->nchanged, pp->nfailed,
                pp->nclaimed, pp->nabandoned);
    if (pp->running) {
        pthread_mutex_lock(&pp->mu);
        pp->stop = true;
        pthread_cond_broadcast(&pp->cv);
        pthread_mutex_unlock(&pp->mu);
        pthread_join(pp->th, NULL);
    }
    for (size_t i = 0; i < pp->nfiles; i++) {
        ut_arena_free(pp->files[i].tree_arena);
        free(pp->files[i].journal);
        free(pp->files[i].path);
        free(pp->files[i].host);
    }
    free(pp->files);
    /* the sources of the trees taken are quoted by messages for as long as
     * the state lives */
    if (pp->keep)
        ut_arena_give(S->code_arena, pp->keep);
    if (!pp->off) {
        log_write(pp);
        pthread_mutex_destroy(&pp->mu);
        pthread_cond_destroy(&pp->cv);
    }
    ps_symtab_free(pp->syms);
    ut_hmap_free(pp->recorded);
    ut_hmap_free(pp->index);
    ut_buf_free(&pp->rec);
    ut_buf_free(&pp->old_log);
    free(pp->base);
    free(pp->home);
    free(pp->map);
    free(pp->entry);
    free(pp->log_path);
    free(pp);
}
