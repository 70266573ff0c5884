/* Entry points: sources and ps_parse. */
#include "parser/internal.h"
#include "parser-tab.h"

#include <pwd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* flex's reentrant interface (the generated header is not installed) */
typedef struct yy_buffer_state *YY_BUFFER_STATE;
int ps_lex_lex_init_extra(ps_pstate *extra, yyscan_t *scanner);
int ps_lex_lex_destroy(yyscan_t scanner);
YY_BUFFER_STATE ps_lex__scan_buffer(char *base, size_t size, yyscan_t scanner);

ps_source *ps_source_new(ut_arena *arena, ps_origin origin, const char *path, const char *text, size_t len,
                         const char *basedir)
{
    ps_source *s = ut_arena_alloc(arena, sizeof *s);
    s->origin = origin;
    s->path = path ? ut_arena_strdup(arena, path) : NULL;
    s->text = text;
    s->len = len;
    if (basedir)
        s->basedir = ut_arena_strdup(arena, basedir);
    else if (origin == PS_ORIGIN_FILE && path) {
        const char *slash = strrchr(path, '/');
        if (slash == path)
            s->basedir = "/";
        else if (slash)
            s->basedir = ut_arena_strndup(arena, path, (size_t)(slash - path));
    }
    return s;
}

void ps_yyerror(PS_YYLTYPE *loc, yyscan_t scanner, ps_pstate *st, const char *msg)
{
    (void)scanner;
    int off = loc->first;
    /* Nix points at the end of what was read when the input ran out. */
    if (strncmp(msg, "syntax error, unexpected end of file", 36) == 0)
        off = loc->last;
    ps__error_at(st, ps__pos(st, off), "%s", msg);
}

int ps__parser = PS__PARSER_ENV;

/* STRAYLIGHT_PARSER=bison|fast|auto (read once) chooses the parser when no
 * test has set ps__parser; see README.md */
static int parser_mode(void)
{
    /* atomic: threads parsing at once may each be the first to look */
    static _Atomic int from_env = -1;
    if (ps__parser != PS__PARSER_ENV)
        return ps__parser;
    int m = atomic_load_explicit(&from_env, memory_order_relaxed);
    if (m < 0) {
        const char *v = getenv("STRAYLIGHT_PARSER");
        m = !v ? PS__PARSER_AUTO
          : strcmp(v, "bison") == 0 ? PS__PARSER_BISON
          : strcmp(v, "fast") == 0 ? PS__PARSER_FAST
                                   : PS__PARSER_AUTO;
        atomic_store_explicit(&from_env, m, memory_order_relaxed);
    }
    return m;
}

static inline void push_line(ps_pstate *st, size_t *cap, uint32_t start)
{
    if (st->nlines == *cap) {
        *cap *= 2;
        st->line_starts = ut_xrealloc(st->line_starts, *cap * sizeof *st->line_starts);
    }
    st->line_starts[st->nlines++] = start;
}

/* Records the start of every line after an LF, and copies text to buf
 * unless buf is NULL (the lexer then scans the text itself), in one pass,
 * until the first CR (rare; the caller takes over there, from the start of
 * that CR's line). Returns how far it went. Sixteen bytes at a time where
 * SSE2 is there: line starts and the copy were two passes and a memchr
 * call per line. Inlined into each caller, so that the copy's test folds
 * away. */
static inline __attribute__((always_inline)) size_t lf_lines(ps_pstate *st, const char *text, size_t len,
                                                              char *buf, size_t *cap)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(text + i));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)))
            return i;
        if (buf)
            _mm_storeu_si128((__m128i *)(buf + i), v);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));
        if (!m)
            continue;
        if (st->nlines + 16 > *cap) {
            *cap = *cap * 2 + 16;
            st->line_starts = ut_xrealloc(st->line_starts, *cap * sizeof *st->line_starts);
        }
        do {
            st->line_starts[st->nlines++] = (uint32_t)(i + (size_t)__builtin_ctz(m) + 1);
            m &= m - 1;
        } while (m);
    }
#endif
    for (; i < len; i++) {
        char c = text[i];
        if (c == '\r')
            return i;
        if (buf)
            buf[i] = c;
        if (c == '\n')
            push_line(st, cap, (uint32_t)(i + 1));
    }
    return len;
}

static size_t copy_lf_lines(ps_pstate *st, const char *text, size_t len, char *buf, size_t *cap)
{
    return lf_lines(st, text, len, buf, cap);
}

static size_t scan_lf_lines(ps_pstate *st, const char *text, size_t len, size_t *cap)
{
    return lf_lines(st, text, len, NULL, cap);
}

ps_expr *ps_parse(ps_symtab *syms, const ps_source *src, ut_arena *arena, const ps_options *opts, ut_err *err)
{
    static const ps_options defaults;
    ps_pstate st;
    memset(&st, 0, sizeof st);
    st.syms = syms;
    st.src = src;
    st.arena = arena;
    st.opts = opts ? opts : &defaults;
    st.err = err;
    /* ~/ paths: $HOME, else the user's home directory, as Nix's getHome */
    st.home = st.opts->home ? st.opts->home : getenv("HOME");
    if (!st.home) {
        /* the reentrant call: files may be parsed on several threads */
        struct passwd pwd, *pw = NULL;
        char pwbuf[4096];
        st.home = getpwuid_r(getuid(), &pwd, pwbuf, sizeof pwbuf, &pw) == 0 && pw && pw->pw_dir
                      ? ut_arena_strdup(arena, pw->pw_dir)
                      : "";
    }
    st.s_sub = ps_intern_cstr(syms, "__sub");
    st.s_mul = ps_intern_cstr(syms, "__mul");
    st.s_div = ps_intern_cstr(syms, "__div");
    st.s_lessThan = ps_intern_cstr(syms, "__lessThan");
    st.s_findFile = ps_intern_cstr(syms, "__findFile");
    st.s_nixPath = ps_intern_cstr(syms, "__nixPath");
    st.s_or = ps_intern_cstr(syms, "or");
    st.s_body = ps_intern_cstr(syms, "body");

    if (src->len > INT32_MAX - 2) {
        ut_err_set(err, "%s: file too large to parse", src->path ? src->path : "input");
        return NULL;
    }

    /* line table for offset -> line:column, and the lexer's buffer: flex
     * scans in place and needs two NULs at the end. The caller's text
     * serves when it has them (one copy of a big file less to write and
     * to fault in), a copy otherwise. */
    size_t cap = src->len / 32 + 64;    /* most files need no regrowth */
    st.line_starts = ut_xmalloc(cap * sizeof *st.line_starts);
    st.line_starts[st.nlines++] = 0;
    bool in_place = src->scan_in_place;
    char *buf = in_place ? (char *)src->text : ut_xmalloc(src->len + 2);
    size_t done = in_place ? scan_lf_lines(&st, src->text, src->len, &cap)
                           : copy_lf_lines(&st, src->text, src->len, buf, &cap);
    if (done < src->len) {
        /* a CR: CR, LF and CR LF each end a line, as in Nix's positions */
        if (!in_place)
            memcpy(buf + done, src->text + done, src->len - done);
        const char *text = src->text, *end = src->text + src->len;
        for (const char *p = text + st.line_starts[st.nlines - 1]; p < end;) {
            const char *nl = p;
            while (nl < end && *nl != '\n' && *nl != '\r')
                nl++;
            if (nl == end)
                break;
            if (*nl == '\r' && nl + 1 < end && nl[1] == '\n')
                nl++;
            push_line(&st, &cap, (uint32_t)(nl + 1 - text));
            p = nl + 1;
        }
    }
    push_line(&st, &cap, UINT32_MAX);   /* ps__pos's sentinel */
    st.nlines--;
    if (!in_place)
        buf[src->len] = buf[src->len + 1] = 0;
    st.lexbase = buf;
    st.lexend = buf + src->len;
    st.text = src->text;

    yyscan_t scanner;
    ps_expr *result = NULL;
    int mode = parser_mode();
    /* Lints warn from inside the tree builders, before the fast parser
       could know whether it will decline: leave them to bison. */
    bool lints = st.opts->lint_url_literals || st.opts->lint_short_path_literals ||
                 st.opts->lint_absolute_path_literals;
    if (mode != PS__PARSER_BISON && !lints) {
        if (ps_lex_lex_init_extra(&st, &scanner) != 0) {
            ut_err_set(err, "cannot initialise the lexer");
            goto out;
        }
        ps_lex__scan_buffer(buf, src->len + 2, scanner);
        st.inplace_scanner = in_place ? scanner : NULL;
        ps_expr *e = ps__fast_parse(&st, scanner);
        ps__source_whole(&st);
        st.inplace_scanner = NULL;
        ps_lex_lex_destroy(scanner);
        if (e) {
            /* the binder's errors depend on the tree alone, which is
               bison's: no need to parse again for them */
            if (ps__finish(&st, e))
                result = e;
            goto out;
        }
        if (mode == PS__PARSER_FAST) {
            /* only for tests and measurements: not Nix's message */
            ut_err_clear(err);
            ut_err_set(err, "the fast parser declined this input");
            goto out;
        }
        /* Start again from scratch. What the attempt allocated stays in the
           arena until the tree is freed; the symbols it interned are
           harmless. */
        if (st.failed)
            ut_err_clear(err);
        st.failed = false;
        st.result = NULL;
        st.cursed_or = NULL;
        st.prev_loc = (ps_loc){0, 0};
        st.last_line = 0;
        if (st.aslots)
            memset(st.aslots, 0, st.naslots * sizeof *st.aslots);
        st.naslots_used = 0;
        if (!in_place) {
            memcpy(buf, src->text, src->len);
            buf[src->len] = buf[src->len + 1] = 0;
        }
    }
    if (ps_lex_lex_init_extra(&st, &scanner) != 0) {
        ut_err_set(err, "cannot initialise the lexer");
    } else {
        ps_lex__scan_buffer(buf, src->len + 2, scanner);
        st.inplace_scanner = in_place ? scanner : NULL;
        int rc = ps_yyparse(scanner, &st);
        ps__source_whole(&st);
        st.inplace_scanner = NULL;
        ps_lex_lex_destroy(scanner);
        if (rc == 0 && !st.failed && st.result && ps__finish(&st, st.result))
            result = st.result;
        else if (!st.failed)
            ut_err_set(err, rc == 2 ? "parser stack exhausted" : "syntax error");
    }
out:
    if (!in_place)
        free(buf);
    free(st.line_starts);
    free(st.aslots);
    return result;
}
