/* straylight parse: parse Nix files and print their trees as
 * `nix-instantiate --parse` does, one line per input. */
#include "cli/cli.h"
#include "parser/parser.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: straylight parse [OPTIONS] [FILE... | - | -E EXPR...]\n"
          "Parses Nix expressions and prints each tree on one line, as\n"
          "`nix-instantiate --parse` does. Without FILE, reads standard input.\n"
          "\n"
          "  -q, --quiet                  only check; print nothing on success\n"
          "  -E, --expr EXPR              parse EXPR (may be repeated)\n"
          "  --lint-url-literals LEVEL    ignore, warn or fatal\n"
          "  --lint-short-path-literals LEVEL\n"
          "  --lint-absolute-path-literals LEVEL\n"
          "  --extra-experimental-features pipe-operators\n"
          "                               allow the |> and <| operators\n"
          "  --each-line                  parse every line of standard input as a\n"
          "                               separate expression\n"
          "  -j, --jobs N                 parse files on up to N threads (default: the\n"
          "                               CPUs available, at most 4); output keeps\n"
          "                               the order of the inputs\n"
          "  --expand-inherit-from        print `inherit (e) x;` as `x = (e).x;`, as\n"
          "                               Nix before 2.20 did\n"
          "  -h, --help                   this text\n"
          "\n"
          "Exit status: 0 when everything parsed, 1 when anything failed.\n",
          f);
}

static bool parse_level(const char *opt, const char *v, ps_lint *out)
{
    if (!v) {
        fprintf(stderr, "error: %s needs a value (ignore, warn or fatal)\n", opt);
        return false;
    }
    if (strcmp(v, "ignore") == 0 || strcmp(v, "off") == 0)
        *out = PS_LINT_OFF;
    else if (strcmp(v, "warn") == 0)
        *out = PS_LINT_WARN;
    else if (strcmp(v, "fatal") == 0)
        *out = PS_LINT_FATAL;
    else {
        fprintf(stderr, "error: %s: invalid value '%s' (ignore, warn or fatal)\n", opt, v);
        return false;
    }
    return true;
}

/* One worker's state: each thread parsing has its own symbol table,
 * directory cache and buffers, so nothing is shared while parsing. A
 * worker's output for the input at hand collects in out (the trees) and
 * err (messages, warnings); the caller writes them out in input order. */
typedef struct run {
    ps_symtab *syms;
    ps_options opts;
    bool quiet;
    unsigned print_flags;
    ut_buf out;
    ut_buf err;
    char cwd[PATH_MAX];
    ut_hmap *dirs;          /* directory argument -> its realpath */
    ut_buf text;            /* the file being parsed */
} run;

static void collect_warning(void *ctx, const char *text, size_t len)
{
    ut_buf_append(&((run *)ctx)->err, text, len);
}

static void report(run *r, const char *fmt, ...) UT_PRINTF(2, 3);
static void report(run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ut_buf_vprintf(&r->err, fmt, ap);
    va_end(ap);
}

static bool parse_one(run *r, ps_origin origin, const char *path, const char *text, size_t len)
{
    ut_arena *arena = ut_arena_new();
    const ps_source *src = ps_source_new(arena, origin, path, text, len, origin == PS_ORIGIN_FILE ? NULL : r->cwd);
    ut_err err = UT_ERR_INIT;
    ps_expr *e = ps_parse(r->syms, src, arena, &r->opts, &err);
    if (!e) {
        ut_buf m = UT_BUF_INIT;
        ut_buf_printf(&m, "error: %s\n", err.msg);
        ps_log_filter(&r->err, m.data, m.len);
        ut_buf_free(&m);
        ut_err_clear(&err);
        ut_arena_free(arena);
        return false;
    }
    if (!r->quiet) {
        ps_print_flags(&r->out, r->syms, e, r->print_flags);
        ut_buf_putc(&r->out, '\n');
    }
    ut_arena_free(arena);
    return true;
}

/* realpath of the directory d (n bytes; "" is the current directory),
 * built from its parent's when d names a real directory rather than a
 * symlink, "." or "..": one lstat per directory instead of resolving every
 * path from the root, which cost more system time than reading the files.
 * Cached for the run; NULL if it cannot be resolved. */
static const char *resolve_dir(run *r, const char *d, size_t n)
{
    const char *hit = ut_hmap_get(r->dirs, d, n);
    if (hit)
        return hit;
    char *dstr = ut_xstrndup(n ? d : ".", n ? n : 1);
    char *res = NULL;
    const char *ls = n ? memrchr(d, '/', n) : NULL;
    const char *name = ls ? ls + 1 : d;
    size_t nlen = n - (size_t)(name - d);
    bool plain = n && nlen && !(nlen == 1 && name[0] == '.') && !(nlen == 2 && name[0] == '.' && name[1] == '.');
    struct stat stt;
    if (plain && lstat(dstr, &stt) == 0 && S_ISDIR(stt.st_mode)) {
        const char *parent = !ls ? resolve_dir(r, "", 0) : ls == d ? resolve_dir(r, "/", 1)
                                                                   : resolve_dir(r, d, (size_t)(ls - d));
        if (parent) {
            ut_buf b = UT_BUF_INIT;
            ut_buf_printf(&b, "%s/%.*s", strcmp(parent, "/") == 0 ? "" : parent, (int)nlen, name);
            res = ut_buf_steal(&b, NULL);
        }
    }
    if (!res)
        res = realpath(dstr, NULL);
    free(dstr);
    if (res)
        ut_hmap_put(r->dirs, d, n, res);
    return res;
}

/* realpath of the regular file arg (not a symlink), from its directory's;
 * NULL when that does not apply (the caller then resolves it in full). */
static char *fast_realpath(run *r, const char *arg)
{
    const char *slash = strrchr(arg, '/');
    const char *base = slash ? slash + 1 : arg;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return NULL;
    const char *dir = !slash ? resolve_dir(r, "", 0) : slash == arg ? resolve_dir(r, "/", 1)
                                                                    : resolve_dir(r, arg, (size_t)(slash - arg));
    if (!dir)
        return NULL;
    ut_buf p = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, base);
    return ut_buf_steal(&p, NULL);
}

/* Reads arg into r->text when it names a regular file that is not a
 * symlink: opened by the name given (a short walk, where the absolute path
 * would walk every directory from the root again), sized by fstat and read
 * in one call, since a short read of a regular file is its end. False
 * when the general path must decide (a symlink, directory, FIFO, missing
 * file or read error: O_NONBLOCK keeps a FIFO from blocking the open). */
static bool read_plain_file(run *r, const char *arg)
{
    int fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat stt;
    if (fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
        close(fd);
        return false;
    }
    ut_buf_clear(&r->text);
    /* one byte more than the size, so a file that did not grow ends with
     * this read */
    size_t want = (size_t)stt.st_size + 1;
    for (;;) {
        ut_buf_reserve(&r->text, want);
        ssize_t n = read(fd, r->text.data + r->text.len, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return false;   /* the general path reads it again and reports */
        }
        r->text.len += (size_t)n;
        if ((size_t)n < want)
            break;
        want = 65536;
    }
    close(fd);
    r->text.data[r->text.len] = 0;
    return true;
}

static bool parse_file(run *r, const char *arg)
{
    ut_buf text = UT_BUF_INIT;
    ut_err err = UT_ERR_INIT;
    if (strcmp(arg, "-") == 0) {
        if (!ut_read_fd(0, &text, &err)) {
            report(r, "error: reading standard input: %s\n", err.msg);
            ut_err_clear(&err);
            ut_buf_free(&text);
            return false;
        }
        bool ok = parse_one(r, PS_ORIGIN_STDIN, NULL, text.data ? text.data : "", text.len);
        ut_buf_free(&text);
        return ok;
    }
    char *path = read_plain_file(r, arg) ? fast_realpath(r, arg) : NULL;
    if (path) {
        bool ok = parse_one(r, PS_ORIGIN_FILE, path, r->text.data, r->text.len);
        free(path);
        return ok;
    }
    /* a directory means its default.nix, as for nix-instantiate */
    struct stat stt;
    if (stat(arg, &stt) == 0 && S_ISDIR(stt.st_mode)) {
        ut_buf p = UT_BUF_INIT;
        ut_buf_printf(&p, "%s/default.nix", arg);
        path = realpath(ut_buf_cstr(&p), NULL);
        ut_buf_free(&p);
    } else {
        path = realpath(arg, NULL);
    }
    if (!path) {
        report(r, "error: path '%s' does not exist\n", arg);
        return false;
    }
    /* one buffer for all files: it stops growing after the largest */
    ut_buf_clear(&r->text);
    if (!ut_read_file(path, &r->text, &err)) {
        report(r, "error: %s\n", err.msg);
        ut_err_clear(&err);
        free(path);
        return false;
    }
    bool ok = parse_one(r, PS_ORIGIN_FILE, path, r->text.data ? r->text.data : "", r->text.len);
    free(path);
    return ok;
}

/* Where outputs go, in input order: trees to stdout (buffered), messages
 * to stderr right away, after the trees before them. */
typedef struct sink {
    ut_buf out;
} sink;

static void emit(sink *k, ut_buf *out, ut_buf *err)
{
    if (err->len) {
        fwrite(k->out.data ? k->out.data : "", 1, k->out.len, stdout);
        ut_buf_clear(&k->out);
        fflush(stdout);
        fwrite(err->data, 1, err->len, stderr);
        ut_buf_clear(err);
    }
    if (out->len) {
        ut_buf_append(&k->out, out->data, out->len);
        ut_buf_clear(out);
        if (k->out.len > (1 << 20)) {
            fwrite(k->out.data, 1, k->out.len, stdout);
            ut_buf_clear(&k->out);
        }
    }
}

/* One expression per line of standard input; a failed line prints an empty
 * output line, so outputs stay aligned with inputs. */
static bool parse_lines(run *r, sink *k)
{
    ut_buf text = UT_BUF_INIT;
    ut_err err = UT_ERR_INIT;
    if (!ut_read_fd(0, &text, &err)) {
        report(r, "error: reading standard input: %s\n", err.msg);
        ut_err_clear(&err);
        ut_buf_free(&text);
        emit(k, &r->out, &r->err);
        return false;
    }
    bool ok = true;
    char *p = text.data, *end = text.data + text.len;
    while (p && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p[len] = 0;
        if (!parse_one(r, PS_ORIGIN_STRING, NULL, p, len)) {
            ok = false;
            ut_buf_putc(&r->out, '\n');
        }
        emit(k, &r->out, &r->err);
        p = nl ? nl + 1 : end;
    }
    ut_buf_free(&text);
    return ok;
}

static void run_init(run *r, const run *proto)
{
    memset(r, 0, sizeof *r);
    r->opts = proto->opts;
    r->opts.warn = collect_warning;
    r->opts.warn_ctx = r;
    r->quiet = proto->quiet;
    r->print_flags = proto->print_flags;
    memcpy(r->cwd, proto->cwd, sizeof r->cwd);
    r->syms = ps_symtab_new();
    r->dirs = ut_hmap_new();
}

static void run_free(run *r)
{
    ut_buf_free(&r->out);
    ut_buf_free(&r->err);
    ut_buf_free(&r->text);
    ps_symtab_free(r->syms);
    if (r->dirs) {
        size_t it = 0;
        const char *k;
        size_t kl;
        void *v;
        while (ut_hmap_next(r->dirs, &it, &k, &kl, &v))
            free(v);
        ut_hmap_free(r->dirs);
    }
}

/* ---- several inputs on several threads ----------------------------------
 * Inputs are independent, so workers take them in turn from a shared
 * counter, each with its own run; the main thread is one of them and also
 * writes every finished input's output in input order, holding back those
 * that finished early. */

typedef struct job {
    ut_buf out, err;
    bool ok, done;
} job;

typedef struct pool {
    const run *proto;
    const char *const *inputs;
    const bool *is_expr;
    size_t n;
    job *jobs;
    atomic_size_t next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t emitted;         /* main thread only */
    sink *k;
    bool ok;
} pool;

/* Writes the finished inputs after the last one written; with wait, all
 * of them, waiting for each in turn. */
static void emit_ready(pool *pl, bool wait)
{
    while (pl->emitted < pl->n) {
        job *j = &pl->jobs[pl->emitted];
        pthread_mutex_lock(&pl->mu);
        while (wait && !j->done)
            pthread_cond_wait(&pl->cv, &pl->mu);
        bool done = j->done;
        pthread_mutex_unlock(&pl->mu);
        if (!done)
            return;
        emit(pl->k, &j->out, &j->err);
        ut_buf_free(&j->out);
        ut_buf_free(&j->err);
        if (!j->ok)
            pl->ok = false;
        pl->emitted++;
    }
}

static void work(pool *pl, run *r, bool is_main)
{
    for (;;) {
        size_t i = atomic_fetch_add(&pl->next, 1);
        if (i >= pl->n)
            break;
        bool ok = pl->is_expr[i] ? parse_one(r, PS_ORIGIN_STRING, NULL, pl->inputs[i], strlen(pl->inputs[i]))
                                 : parse_file(r, pl->inputs[i]);
        job *j = &pl->jobs[i];
        pthread_mutex_lock(&pl->mu);
        j->ok = ok;
        /* the worker's buffers move to the job and it starts afresh */
        j->out = r->out;
        j->err = r->err;
        ut_buf_init(&r->out);
        ut_buf_init(&r->err);
        j->done = true;
        pthread_cond_signal(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
        if (is_main)
            emit_ready(pl, false);
    }
}

typedef struct worker {
    pool *pl;
    run r;
    pthread_t th;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    run_init(&w->r, w->pl->proto);
    work(w->pl, &w->r, false);
    run_free(&w->r);
    return NULL;
}

/* Parses the inputs on up to njobs threads (this one included); false if
 * any failed. */
static bool parse_all(const run *proto, sink *k, const char *const *inputs, const bool *is_expr, size_t n,
                      size_t njobs)
{
    pool pl = {.proto = proto, .inputs = inputs, .is_expr = is_expr, .n = n, .k = k, .ok = true};
    atomic_init(&pl.next, 0);
    pl.jobs = ut_xcalloc(n ? n : 1, sizeof *pl.jobs);
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    if (njobs > n)
        njobs = n;
    worker *ws = ut_xcalloc(njobs ? njobs : 1, sizeof *ws);
    size_t started = 0;
    if (njobs > 1) {
        /* the main thread's stack size, which the parser's recursion is
           measured against */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        struct rlimit rl;
        size_t stack = (size_t)8 << 20;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > stack)
            stack = (size_t)rl.rlim_cur;
        pthread_attr_setstacksize(&attr, stack);
        for (size_t t = 1; t < njobs; t++) {
            ws[started].pl = &pl;
            if (pthread_create(&ws[started].th, &attr, worker_main, &ws[started]) != 0)
                break;  /* fewer threads; the main one still takes every input left */
            started++;
        }
        pthread_attr_destroy(&attr);
    }
    run r;
    run_init(&r, proto);
    work(&pl, &r, true);
    emit_ready(&pl, true);
    run_free(&r);
    for (size_t t = 0; t < started; t++)
        pthread_join(ws[t].th, NULL);
    free(ws);
    pthread_cond_destroy(&pl.cv);
    pthread_mutex_destroy(&pl.mu);
    free(pl.jobs);
    return pl.ok;
}

/* Threads to use by default: the CPUs this process may run on, at most 4
 * (parsing is fast enough that more mostly add start-up and memory). */
static size_t default_jobs(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int c = CPU_COUNT(&set);
        return c < 1 ? 1 : c > 4 ? 4 : (size_t)c;
    }
    return 1;
}

static int cli_parse(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    /* Each input gets a fresh arena; keep freed memory in the process so
     * the next one does not fault its pages in again. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    sink k = {UT_BUF_INIT};
    if (!getcwd(r.cwd, sizeof r.cwd)) {
        perror("error: getcwd");
        return 1;
    }
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    bool *is_expr = calloc((size_t)argc + 1, sizeof *is_expr);
    size_t n = 0;
    bool opts_done = false, each_line = false, stdin_input = false;
    size_t njobs = 0;   /* 0: default_jobs() */
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && a[0] == '-' && a[1]) {
            if (strcmp(a, "--") == 0)
                opts_done = true;
            else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                usage(stdout);
                goto out;
            } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
                r.quiet = true;
            else if (strncmp(a, "-j", 2) == 0 || strcmp(a, "--jobs") == 0 || strncmp(a, "--jobs=", 7) == 0) {
                /* -j N, -jN, --jobs N, --jobs=N */
                const char *v = a[1] == 'j' ? (a[2] ? a + 2 : NULL) : (a[6] == '=' ? a + 7 : NULL);
                if (!v && i + 1 < argc)
                    v = argv[++i];
                char *e = NULL;
                long jn = v && *v ? strtol(v, &e, 10) : 0;
                if (!v || !*v || *e || jn < 1 || jn > 1024) {
                    fprintf(stderr, "error: -j/--jobs needs a number of threads (1 to 1024)\n");
                    rc = 1;
                    goto out;
                }
                njobs = (size_t)jn;
            } else if (strcmp(a, "--each-line") == 0)
                each_line = true;
            else if (strcmp(a, "--expand-inherit-from") == 0)
                r.print_flags |= PS_PRINT_EXPAND_INHERIT_FROM;
            else if (strcmp(a, "-E") == 0 || strcmp(a, "--expr") == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "error: %s needs an expression\n", a);
                    rc = 1;
                    goto out;
                }
                is_expr[n] = true;
                inputs[n++] = argv[++i];
            } else if (strcmp(a, "--lint-url-literals") == 0) {
                if (!parse_level(a, i + 1 < argc ? argv[++i] : NULL, &r.opts.lint_url_literals)) {
                    rc = 1;
                    goto out;
                }
            } else if (strcmp(a, "--lint-short-path-literals") == 0) {
                if (!parse_level(a, i + 1 < argc ? argv[++i] : NULL, &r.opts.lint_short_path_literals)) {
                    rc = 1;
                    goto out;
                }
            } else if (strcmp(a, "--lint-absolute-path-literals") == 0) {
                if (!parse_level(a, i + 1 < argc ? argv[++i] : NULL, &r.opts.lint_absolute_path_literals)) {
                    rc = 1;
                    goto out;
                }
            } else if (strcmp(a, "--extra-experimental-features") == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "error: %s needs a value\n", a);
                    rc = 1;
                    goto out;
                }
                if (strstr(argv[++i], "pipe-operators"))
                    r.opts.pipe_operators = true;
            } else {
                fprintf(stderr, "error: unknown option '%s' (see --help)\n", a);
                rc = 1;
                goto out;
            }
            continue;
        }
        if (strcmp(a, "-") == 0)
            stdin_input = true;
        inputs[n++] = a;
    }
    if (each_line) {
        run w;
        run_init(&w, &r);
        rc = parse_lines(&w, &k) ? 0 : 1;
        run_free(&w);
    } else {
        if (n == 0) {
            inputs[n++] = "-";
            stdin_input = true;
        }
        /* standard input can be read once, by one thread */
        if (stdin_input)
            njobs = 1;
        else if (!njobs)
            njobs = default_jobs();
        rc = parse_all(&r, &k, inputs, is_expr, n, njobs) ? 0 : 1;
    }
    fwrite(k.out.data ? k.out.data : "", 1, k.out.len, stdout);
out:
    ut_buf_free(&k.out);
    free(inputs);
    free(is_expr);
    return rc;
}

const cli_command cli_cmd_parse = {"parse", "parse Nix files and print their syntax trees", cli_parse};
