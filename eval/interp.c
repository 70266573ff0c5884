/* The interpreter: a bytecode VM over environments (on the heap, or on the
 * value stack for functions that cannot capture theirs), forcing thunks
 * (with blackholing), calling functions, raising and catching errors.
 * Nix calls and thunk forces inside the VM push VM frames; only builtins
 * calling back re-enter it from C. Depth is bounded by Nix's max-call-depth
 * (every function call counts, as in Nix, so `(x: x x) (x: x x)` ends the
 * same way), by the frame array for deep thunk chains, and by a guard on
 * the C stack for re-entry through builtins. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/internal.h"
#include "eval/pure/fmt.h"

/* ---- stack ---------------------------------------------------------- */

UT_NORETURN static void stack_overflow(ev_state *S, ps_pos pos)
{
    ev_error(S, EV_ERR_STACK, pos, "stack overflow; max-call-depth exceeded");
}

ev_value *ev_push1(ev_state *S)
{
    if (S->sp >= S->stack_end)
        stack_overflow(S, (ps_pos){0});
    ev_value *v = S->sp++;
    memset(v, 0, sizeof *v);
    return v;
}

ev_value *ev_stack_push(ev_state *S, size_t n)
{
    if ((size_t)(S->stack_end - S->sp) < n)
        stack_overflow(S, (ps_pos){0});
    ev_value *v = S->sp;
    memset(v, 0, n * sizeof *v);
    S->sp += n;
    return v;
}

size_t ev_stack_mark(ev_state *S) { return (size_t)(S->sp - S->stack); }
void ev_stack_reset(ev_state *S, size_t mark) { S->sp = S->stack + mark; }

static inline void check_cstack(ev_state *S, ps_pos pos)
{
    char probe;
    if ((uintptr_t)&probe < S->c_stack_limit)
        stack_overflow(S, pos);
}

void ev_check_cstack(ev_state *S, ps_pos pos);
void ev_check_cstack(ev_state *S, ps_pos pos)
{
    check_cstack(S, pos);
}

void ev_check_depth(ev_state *S, ps_pos pos)
{
    if (S->call_depth > S->max_call_depth)
        stack_overflow(S, pos);
    check_cstack(S, pos);
}

/* ---- traces --------------------------------------------------------- */

void ev_trace_grow(ev_state *S)
{
    S->captraces = S->captraces ? S->captraces * 2 : 256;
    S->traces = ut_xrealloc(S->traces, S->captraces * sizeof *S->traces);
}

void ev_trace_push(ev_state *S, ps_pos pos, const char *fmt, const char *arg)
{
    ev_trace_push_fast(S, pos, fmt, arg);
}

void ev_trace_set_iarg(ev_state *S, long v);
void ev_trace_set_iarg(ev_state *S, long v)
{
    if (S->ntraces)
        S->traces[S->ntraces - 1].iarg = v;
}

void ev_trace_pop(ev_state *S)
{
    if (S->ntraces)
        S->ntraces--;
}

/* ---- errors ------------------------------------------------------------ */

static void clear_error(ev_state *S)
{
    S->err_memo = NULL;     /* a new error: the thunks failed so far keep the old one */
    free(S->err_msg);
    S->err_msg = NULL;
    for (size_t i = 0; i < S->nerr_frames; i++)
        free(S->err_frames[i].msg);
    S->nerr_frames = 0;
}

const char ev_trace_fmt_always[] = "%s";

static void insert_frame(ev_state *S, size_t at, ps_pos pos, char *msg, size_t depth, bool always, bool call)
{
    if (S->nerr_frames == S->caperr_frames) {
        S->caperr_frames = S->caperr_frames ? S->caperr_frames * 2 : 64;
        S->err_frames = ut_xrealloc(S->err_frames, S->caperr_frames * sizeof *S->err_frames);
    }
    memmove(&S->err_frames[at + 1], &S->err_frames[at], (S->nerr_frames - at) * sizeof *S->err_frames);
    S->err_frames[at] = (ev_frame_msg){pos, msg, depth, always, call};
    S->nerr_frames++;
}

static void add_frame(ev_state *S, ps_pos pos, char *msg, size_t depth, bool always)
{
    insert_frame(S, S->nerr_frames, pos, msg, depth, always, false);
}

/* The errors a failed thunk keeps (see ev_try_end). */
static bool error_kept(ev_errkind k)
{
    return k == EV_ERR_EVAL || k == EV_ERR_THROWN || k == EV_ERR_ASSERT;
}

/* A copy of an error kept by the thunks it failed: a raw box holding this
 * header, then nframes frames, then the message and the frames' texts. */
typedef struct ev_memo_frame {
    ps_pos pos;
    size_t off;
} ev_memo_frame;
typedef struct ev_err_memo {
    ps_pos pos;
    ev_errkind kind;
    bool preformatted;
    size_t nframes;
    ev_memo_frame f[];
} ev_err_memo;

static const ev_err_memo *memo_of(const ev_thunk *t)
{
    const ev_box *holder = (const ev_box *)t->u.f.err;
    return (const ev_err_memo *)(const void *)((const ev_box *)holder->v[0].u.obj)->v;
}

static const char *memo_str(const ev_err_memo *m, size_t off)
{
    return (const char *)&m->f[m->nframes] + off;
}

UT_NORETURN void ev_rethrow(ev_state *S)
{
    if (S->try_top)
        S->try_top->caught = true;
    if (!S->try_top) {
        ut_buf b = UT_BUF_INIT;
        ev_error_format(S, &b, true);
        fputs(b.data ? b.data : "error: (unknown)\n", stderr);
        exit(1);
    }
    longjmp(S->try_top->jb, 1);
}

UT_NORETURN void ev_error_owned(ev_state *S, ev_errkind kind, ps_pos pos, char *msg);
static const char builtin_frame[] = "while calling the '%s' builtin";
/* a lambda's call: arg is its ev_clambda, pos the call site, iarg whether
 * Nix shows the site ("from call site", then "while calling 'f'") */
static const char call_frame[] = "";
/* "from the definition of" an attribute a selection found: its name and
 * position index (in iarg, name << 32 | index) are resolved only when the
 * frame is shown, as most selections raise nothing */
static const char def_frame[] = "from the definition of '%s'";

static ps_pos trace_pos(ev_state *S, const ev_trace *t)
{
    return t->fmt == def_frame ? ev_pos_get(S, (uint32_t)t->iarg) : t->pos;
}

static UT_NORETURN void raise_error(ev_state *S, ev_errkind kind, ps_pos pos, char *msg, bool builtin_pos,
                                    const ev_err_memo *memo);

UT_NORETURN void ev_error_owned(ev_state *S, ev_errkind kind, ps_pos pos, char *msg)
{
    raise_error(S, kind, pos, msg, true, NULL);
}

/* builtin_pos: pos is where the error arises, and is dropped when a
 * builtin raises it (false: pos was settled when the error first arose).
 * memo: the error is a failed thunk's, raised again; its frames go
 * innermost. */
static UT_NORETURN void raise_error(ev_state *S, ev_errkind kind, ps_pos pos, char *msg, bool builtin_pos,
                                    const ev_err_memo *memo)
{
    /* Errors a builtin raises itself carry no position in Nix: the
     * "while calling the 'f' builtin" frame shows where. */
    for (size_t i = builtin_pos ? S->ntraces : 0; i > 0; i--) {
        const ev_trace *t = &S->traces[i - 1];
        if (t->fmt == builtin_frame) {
            pos = (ps_pos){0};
            break;
        }
        if (t->fmt == call_frame ? ((const ev_clambda *)t->arg)->pos.src != NULL : trace_pos(S, t).src != NULL)
            break;
    }
    clear_error(S);
    S->err_kind = kind;
    S->err_msg = msg;
    S->err_preformatted = false;
    S->err_pos = pos;
    /* Frames are formatted now only up to the depth of the catcher that
     * handles the error (addErrorContext only passes it on), and only
     * when they can be shown: at the command line, or again by a thunk
     * the error fails below a catcher (tryEval) that drops it. */
    const ev_try *c = S->try_top;
    while (c && (c->passthrough ||
                 (c->pass == EV_TRY_CATCHABLE_ONLY && kind != EV_ERR_THROWN && kind != EV_ERR_ASSERT)))
        c = c->prev;
    size_t from = 0;
    bool want = true;
    if (c && c->prev) {
        from = c->trace_depth;
        want = error_kept(kind) &&
               (S->nforcing > c->nblackholes || S->nforcing_slots > c->nforcing_slots);
    }
    if (want) {
        for (size_t i = from; i <= S->ntraces; i++) {
            if (i == S->infrec_at && kind == EV_ERR_INFREC)
                add_frame(S, (ps_pos){0}, ut_xstrdup("entering the infinite recursion"), i, false);
            if (i == S->ntraces)
                break;
            ev_trace *t = &S->traces[i];
            if (!t->fmt)
                continue;   /* a placeholder (see I_SEL_BEGIN) */
            if (t->fmt == builtin_frame && strcmp(t->arg, "addErrorContext") == 0)
                continue;   /* Nix leaves it out: the context it adds says enough */
            ut_buf b = UT_BUF_INIT;
            if (t->fmt == call_frame) {
                const ev_clambda *cl = (const ev_clambda *)t->arg;
                if (t->iarg)
                    insert_frame(S, S->nerr_frames, t->pos, ut_xstrdup("from call site"), i, false, true);
                if (cl->name)
                    ut_buf_printf(&b, "while calling '%s'", ps_sym_str(S->syms, cl->name));
                else
                    ut_buf_puts(&b, "while calling anonymous lambda");
                insert_frame(S, S->nerr_frames, cl->pos, ut_buf_steal(&b, NULL), i, false, true);
                continue;
            }
            /* addErrorContext's own message stands for its call */
            if (t->fmt == builtin_frame && strcmp(t->arg, "addErrorContext") == 0) {
                continue;
            }
            if (t->fmt == def_frame)
                ut_buf_printf(&b, t->fmt, ps_sym_str(S->syms, (ps_sym)((unsigned long)t->iarg >> 32)));
            else if (t->arg)
                ut_buf_printf(&b, t->fmt, t->arg);
            else
                ut_buf_printf(&b, t->fmt, t->iarg);
            add_frame(S, trace_pos(S, t), ut_buf_steal(&b, NULL), i, t->fmt == ev_trace_fmt_always);
        }
        for (size_t k = 0; memo && k < memo->nframes; k++)
            add_frame(S, memo->f[k].pos, ut_xstrdup(memo_str(memo, memo->f[k].off)), S->ntraces, false);
    }
    ev_rethrow(S);
}

UT_NORETURN void ev_error_preformatted(ev_state *S, char *msg);
UT_NORETURN void ev_error_preformatted(ev_state *S, char *msg)
{
    clear_error(S);
    S->err_kind = EV_ERR_EVAL;
    S->err_msg = msg;
    S->err_preformatted = true;
    S->err_pos = (ps_pos){0};
    ev_rethrow(S);
}

void ev_error(ev_state *S, ev_errkind kind, ps_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ut_buf b = UT_BUF_INIT;
    ut_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ev_error_owned(S, kind, pos, ut_buf_steal(&b, NULL));
}

void ev_error_add_trace(ev_state *S, ps_pos pos, const char *msg)
{
    add_frame(S, pos, ut_xstrdup(msg), SIZE_MAX, false);
}

void ev_error_add_context(ev_state *S, const ev_try *t, const char *msg)
{
    /* outside the frames raised within t's extent */
    size_t at = 0;
    while (at < S->nerr_frames && S->err_frames[at].depth < t->trace_depth)
        at++;
    insert_frame(S, at, (ps_pos){0}, ut_xstrdup(msg), t->trace_depth, true, false);
}

const char *ev_error_message(ev_state *S) { return S->err_msg ? S->err_msg : ""; }

static void indent_lines(ut_buf *out, const char *s, const char *indent)
{
    /* continuation lines of a message are indented under "error: " */
    const char *p = s;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            ut_buf_puts(out, p);
            break;
        }
        ut_buf_append(out, p, (size_t)(nl - p + 1));
        p = nl + 1;
        /* Nix indents after every newline, a final one included */
        ut_buf_puts(out, indent);
    }
}


static void snippet(ut_buf *out, ps_pos pos, const char *extra_indent)
{
    ut_buf tmp = UT_BUF_INIT;
    ps_format_pos_snippet(&tmp, pos);
    ut_buf_puts(out, extra_indent);
    ut_buf_append(out, tmp.data, tmp.len);
    if (tmp.len && tmp.data[tmp.len - 1] != '\n')
        ut_buf_putc(out, '\n');
    ut_buf_free(&tmp);
}

/* Prints f and returns what it adds to the count that decides truncation:
 * one more when its position is shown. */
static size_t print_frame(ut_buf *out, const ev_frame_msg *f)
{
    ut_buf_puts(out, "       … ");
    indent_lines(out, f->msg, "         ");
    ut_buf_putc(out, '\n');
    if (f->pos.src)
        snippet(out, f->pos, "  ");
    ut_buf_putc(out, '\n');
    return f->pos.src ? 1 : 0;
}

void ev_error_format(ev_state *S, ut_buf *out, bool show_trace)
{
    const char *msg = S->err_msg ? S->err_msg : "unknown error";
    /* hint lines ("Did you mean ...") follow the position in Nix's output */
    const char *hint = strstr(msg, "\n\x01");
    size_t mlen = hint ? (size_t)(hint - msg) : strlen(msg);
    char *m = ut_xstrndup(msg, mlen);
    size_t nframes = S->nerr_frames;
    /* the frames Nix would have added at all (its trace section shows when
     * there are any) */
    size_t nshown = 0;
    for (size_t i = 0; i < nframes; i++)
        if (show_trace || !S->err_frames[i].call)
            nshown++;
    if (S->err_preformatted) {
        ut_buf_puts(out, "error: ");
        ut_buf_puts(out, m);
        ut_buf_putc(out, '\n');
        free(m);
        return;
    }
    if (nshown == 0) {
        ut_buf_puts(out, "error: ");
        indent_lines(out, m, "       ");
        ut_buf_putc(out, '\n');
    } else {
        ut_buf_puts(out, "error:\n");
        /* A frame already shown is held back; when the next new frame (or
         * the end) comes, up to five held frames are shown after all and
         * more are counted in one line, as Nix does. Without show_trace,
         * once the frames shown (a position counting as one more) pass
         * three, only the frames marked `always` still are. */
        ut_hmap *seen = ut_hmap_new();
        size_t *held = ut_xmalloc((nframes + 1) * sizeof *held);
        size_t nheld = 0, count = 0;
        bool truncated = false;
        for (size_t i = 0; i <= nframes; i++) {
            ev_frame_msg *f = i < nframes ? &S->err_frames[i] : NULL;
            if (f && (!f->msg[0] || (f->call && !show_trace)))
                continue;
            if (f && !show_trace && count > 3)
                truncated = true;
            if (f && truncated && !f->always)
                continue;
            ut_buf key = UT_BUF_INIT;
            if (f) {
                ut_buf_printf(&key, "%p:%u:%u:%s", (const void *)f->pos.src, f->pos.line, f->pos.col, f->msg);
                if (ut_hmap_has(seen, key.data, key.len)) {
                    held[nheld++] = i;
                    ut_buf_free(&key);
                    continue;
                }
            }
            if (nheld > 5) {
                ut_buf_printf(out, "       (%zu duplicate frames omitted)\n\n", nheld);
            } else {
                for (size_t k = 0; k < nheld; k++)
                    count += print_frame(out, &S->err_frames[held[k]]);
            }
            nheld = 0;
            if (!f)
                break;
            ut_hmap_put(seen, key.data, key.len, (void *)1);
            ut_buf_free(&key);
            count++;
            count += print_frame(out, f);
        }
        free(held);
        ut_hmap_free(seen);
        if (truncated)
            ut_buf_puts(out, "       (stack trace truncated; use '--show-trace' to show the full, detailed trace)\n\n");
        ut_buf_puts(out, "       error: ");
        indent_lines(out, m, "       ");
        ut_buf_putc(out, '\n');
    }
    if (S->err_pos.src)
        snippet(out, S->err_pos, "");
    if (hint) {
        ut_buf_puts(out, "       ");
        ut_buf_puts(out, hint + 2);
        ut_buf_putc(out, '\n');
    }
    free(m);
}

void ev_try_enter(ev_state *S, ev_try *t)
{
    t->prev = S->try_top;
    t->stack_mark = ev_stack_mark(S);
    t->nframes = S->nframes;
    t->trace_depth = S->ntraces;
    t->call_depth = S->call_depth;
    t->nblackholes = S->nforcing;
    t->nforcing_slots = S->nforcing_slots;
    t->errctx_pos = S->errctx_pos;
    t->pass = EV_TRY_CATCHES;
    t->saved_blackholes = NULL;
    t->passthrough = false;
    t->caught = false;
    S->try_top = t;
}

/* The pending error's copy in S->err_memo, made anew: it has the frames
 * added since it was last made. */
static void memo_renew(ev_state *S)
{
    const char *msg = S->err_msg ? S->err_msg : "";
    size_t hs = sizeof(ev_err_memo) + S->nerr_frames * sizeof(ev_memo_frame);
    size_t n = hs + strlen(msg) + 1;
    for (size_t i = 0; i < S->nerr_frames; i++)
        n += strlen(S->err_frames[i].msg) + 1;
    if (!S->err_memo) {
        ev_box *h = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + sizeof(ev_value));
        h->h.n = 1;
        h->v[0] = (ev_value){0};
        S->err_memo = h;
    }
    ev_box *b = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + n);
    b->h.flags = EV_BOX_RAW;
    b->bytes = (uint32_t)n;
    ev_err_memo *m = (ev_err_memo *)(void *)b->v;
    m->pos = S->err_pos;
    m->kind = S->err_kind;
    m->preformatted = S->err_preformatted;
    m->nframes = S->nerr_frames;
    char *str = (char *)&m->f[m->nframes];
    size_t off = strlen(msg) + 1;
    memcpy(str, msg, off);
    for (size_t i = 0; i < S->nerr_frames; i++) {
        size_t l = strlen(S->err_frames[i].msg) + 1;
        m->f[i].pos = S->err_frames[i].pos;
        m->f[i].off = off;
        memcpy(str + off, S->err_frames[i].msg, l);
        off += l;
    }
    ev_value *slot = &S->err_memo->v[0];
    slot->type = EV_BOXV;
    slot->u.obj = &b->h;
    ev_gc_write(S, slot);
}

static void thunk_fail(ev_state *S, ev_thunk *t, ev_gch *err)
{
    t->u.f.err = err;
    t->h.flags = EV_TH_FAILED;
    ev_gc_write_obj(S, &t->h);
}

/* A failed thunk raises its error again: a new instance of it, so what
 * is added to this one on its way out is not kept. Its frames go inside
 * those of where it is forced now. */
static UT_NORETURN void thunk_rethrow(ev_state *S, const ev_thunk *t)
{
    const ev_err_memo *m = memo_of(t);
    char *msg = ut_xstrdup(memo_str(m, 0));
    if (m->preformatted)
        ev_error_preformatted(S, msg);
    raise_error(S, m->kind, m->pos, msg, false, m);
}

void ev_try_end(ev_state *S, ev_try *t)
{
    /* The thunks that were being forced when the error passed failed with
     * it. Nix keeps the errors a later evaluation would raise again; not
     * the ones that depend on where the thunk is forced (the call depth,
     * a recursion through a caught error) or that end evaluation. */
    bool keep = t->caught && error_kept(S->err_kind);
    bool pending = S->nforcing > t->nblackholes || S->nforcing_slots > t->nforcing_slots;
    if (keep && (pending || S->err_memo))
        memo_renew(S);
    ev_gch *memo = keep && pending ? &S->err_memo->h : NULL;
    for (size_t i = t->nblackholes; i < S->nforcing; i++)
        if (memo)
            thunk_fail(S, S->forcing[i], memo);
        else
            S->forcing[i]->h.flags &= (uint16_t)~EV_TH_BH;   /* a later force tries again */
    S->nforcing = t->nblackholes;
    for (size_t i = t->nforcing_slots; i < S->nforcing_slots; i++) {
        ev_value *slot = S->forcing_slots[i];
        if (slot->type == EV_APPI) {
            if (memo) {
                /* the element becomes the failed thunk Nix has there */
                ev_thunk *ft = ev_gc_alloc_small(S, EV_OBJ_THUNK, sizeof(ev_thunk));
                ft->u.f.err = memo;
                ft->h.flags = EV_TH_FAILED;
                slot->type = EV_THUNK;
                slot->aux = 0;
                slot->u.t = ft;
                ev_gc_write(S, slot);
            }
            slot->pad[0] = 0;
        } else if (slot->type == EV_THUNK) {
            if (memo)
                thunk_fail(S, slot->u.t, memo);
            else
                slot->u.t->h.flags &= (uint16_t)~EV_TH_BH;
        }
    }
    S->nforcing_slots = t->nforcing_slots;
    if (t->caught && !t->passthrough)
        S->err_memo = NULL;     /* handled: the copies stay as they are */
    S->errctx_pos = t->errctx_pos;
    S->try_top = t->prev;
    ev_stack_reset(S, t->stack_mark);
    S->nframes = t->nframes;
    S->ntraces = t->trace_depth;
    S->call_depth = t->call_depth;
    t->kind = S->err_kind;
}

/* ---- thunks -------------------------------------------------------------- */

static inline ev_env *env_up(ev_env *e, uint32_t level)
{
    while (level--)
        e = e->up;
    return e;
}

/* Environments and lists whose every slot is written before anything
 * can collect (mkval and ev_share allocate but never collect): only the
 * header is cleared. */
static inline ev_env *env_new_filled(ev_state *S, ev_env *up, uint32_t n)
{
    ev_env *e = ev_gc_alloc_small_partial(S, EV_OBJ_ENV, sizeof(ev_env) + (size_t)n * sizeof(ev_value), sizeof(ev_env));
    e->h.n = n;
    e->up = up;
    return e;
}

static inline ev_list *list_new_filled(ev_state *S, size_t n)
{
    if (n > UINT32_MAX)
        return ev_list_new(S, n);   /* the error */
    ev_list *l = ev_gc_alloc_small_partial(S, EV_OBJ_LIST, sizeof(ev_list) + n * sizeof(ev_value), sizeof(ev_list));
    l->h.n = (uint32_t)n;
    return l;
}

/* The value of c in env without evaluating it: constants and variables are
 * shared (a variable's thunk is the same object), anything else becomes a
 * thunk. While a recursive environment is being filled, slots at level 0
 * from `filled` on are not set yet, so those references get thunks. */
static ev_value mkval(ev_state *S, const ev_code *c, ev_env *env, uint32_t filled)
{
    switch (c->op) {
    case C_CONST:
        return c->u.k;
    case C_VAR:
        if (c->u.var.level != 0 || filled == UINT32_MAX)
            return env_up(env, c->u.var.level)->v[c->u.var.index];
        if (c->u.var.index < filled && env->v[c->u.var.index].type == EV_THUNK)
            return env->v[c->u.var.index];   /* alias the same thunk, as Nix does */
        break;
    case C_LAMBDA: {
        ev_lambda *l = ev_gc_alloc_small(S, EV_OBJ_LAMBDA, sizeof(ev_lambda));
        l->code = c->u.lambda;
        l->env = env;
        return ev_mk_ptr(EV_LAMBDA, l);
    }
    default:
        break;
    }
    if (c->spec) {
        ev_value v = {0};
        if (ev_spec_eval(c, env, filled, &v))
            return v;
    }
    return ev_mk_ptr(EV_THUNK, ev_thunk_new(S, c, env));
}

ev_value ev_mk_app_thunk(ev_state *S, const ev_value *fnp, const ev_value *argp)
{
    ev_value fnv = ev_share(S, (ev_value *)fnp), argv = ev_share(S, (ev_value *)argp);
    const ev_value *fn = &fnv, *arg = &argv;
    ev_value v = {0};
    ev_thunk *t = ev_gc_alloc_small(S, EV_OBJ_THUNK, sizeof(ev_thunk));
    t->h.flags = EV_TH_APP;
    if (fn->type != EV_LAMBDA && fn->type != EV_PRIMOP && fn->type != EV_PRIMOP_APP &&
        fn->type != EV_THUNK && fn->type != EV_ATTRS) {
        /* not a function object: box it, so calling it fails lazily */
        ev_box *b = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + sizeof(ev_value));
        b->h.n = 1;
        b->v[0] = *fn;
        t->u.app.fn = &b->h;
    } else {
        t->u.app.fn = fn->u.obj;
    }
    t->u.app.arg = *arg;
    v.type = EV_THUNK;
    v.u.t = t;
    return v;
}

ev_value ev_mk_app_thunk_sited(ev_state *S, const ev_value *fnp, const ev_value *argp)
{
    ev_value v = ev_mk_app_thunk(S, fnp, argp);
    v.u.t->h.flags |= EV_TH_SITE;
    return v;
}

static void push_forcing(ev_state *S, ev_thunk *t)
{
    if (S->nforcing == S->capforcing) {
        S->capforcing = S->capforcing ? S->capforcing * 2 : 256;
        S->forcing = ut_xrealloc(S->forcing, S->capforcing * sizeof *S->forcing);
        S->forcing_depth = ut_xrealloc(S->forcing_depth, S->capforcing * sizeof *S->forcing_depth);
    }
    S->forcing_depth[S->nforcing] = S->ntraces;
    S->forcing[S->nforcing++] = t;
}

static inline bool appi_parts(ev_state *S, const ev_value *v, ev_value *fn, ev_value *arg);

ev_value ev_share_slow(ev_state *S, ev_value *slot)
{
    ev_value fn, arg;
    appi_parts(S, slot, &fn, &arg);
    ev_thunk *t = ev_gc_alloc_small(S, EV_OBJ_THUNK, sizeof(ev_thunk));
    t->h.flags = EV_TH_APP | (slot->pad[0] ? EV_TH_BH : 0);
    t->u.app.fn = fn.u.obj;
    t->u.app.arg = arg;
    slot->type = EV_THUNK;
    slot->pad[0] = 0;
    slot->aux = 0;
    slot->u.t = t;
    ev_gc_write(S, slot);
    return *slot;
}

static void push_forcing_slot(ev_state *S, ev_value *v)
{
    if (S->nforcing_slots == S->capforcing_slots) {
        S->capforcing_slots = S->capforcing_slots ? S->capforcing_slots * 2 : 64;
        S->forcing_slots = ut_xrealloc(S->forcing_slots, S->capforcing_slots * sizeof *S->forcing_slots);
        S->forcing_slot_depth =
            ut_xrealloc(S->forcing_slot_depth, S->capforcing_slots * sizeof *S->forcing_slot_depth);
    }
    S->forcing_slot_depth[S->nforcing_slots] = S->ntraces;
    S->forcing_slots[S->nforcing_slots++] = v;
}

static void call_at(ev_state *S, ev_value *fn, size_t nargs, ev_value *args, ev_value *out, ps_pos pos,
                    bool site);

/* An inline `fn i` slot is evaluated in place; the slot itself carries the
 * blackhole mark while it is being computed. */
/* The function and argument of an inline application: genList's `f i`, or
 * map's `f x` (u.obj a box of f and the source list, x its element aux). */
static inline bool appi_parts(ev_state *S, const ev_value *v, ev_value *fn, ev_value *arg)
{
    if (v->u.obj->kind == EV_OBJ_BOX) {
        const ev_box *b = (const ev_box *)v->u.obj;
        *fn = b->v[0];
        *arg = ev_share_elem(S, b->v[1].u.l, v->aux);
        return true;
    }
    *fn = ev_obj_value(v->u.obj);
    *arg = ev_mk_int((int64_t)v->aux);
    return false;
}

/* An argument about to be given to a function computed ahead: a reference
 * to a generated element is followed, and that element computed in place
 * if it can be, as the call would force it. */
static void spec_arg_at(ev_state *S, ev_value *arg, unsigned level)
{
    if (arg->type != EV_LREF)
        return;
    ev_value *slot = ev_lref_slot(arg);
    if (slot->type == EV_APPI && !slot->pad[0] && level < 3 && S->call_depth + level < S->max_call_depth) {
        ev_value fn, a, r;
        appi_parts(S, slot, &fn, &a);
        if (ev_spec_applicable(&fn)) {
            spec_arg_at(S, &a, level + 1);   /* map over map over genList */
            if (a.type != EV_LREF && ev_spec_apply(&fn, &a, &r) && !((1u << r.type) & EV_UNFORCED_TYPES)) {
                *slot = r;
                ev_gc_write(S, slot);
            }
        }
    }
    if (!((1u << slot->type) & EV_UNFORCED_TYPES))
        *arg = *slot;
}

static void spec_arg(ev_state *S, ev_value *arg)
{
    spec_arg_at(S, arg, 1);
}

/* `fn arg` computed without the call when that cannot fail (eval/spec.c)
 * and the depth allows the call (at the limit the call itself raises Nix's
 * error); false: make the call. arg may become the value of the element it
 * refers to. */
static inline bool call_ahead(ev_state *S, const ev_value *fn, ev_value *arg, ev_value *out)
{
    if (S->call_depth >= S->max_call_depth || !ev_spec_applicable(fn))
        return false;
    spec_arg(S, arg);
    ev_value r;
    if (!ev_spec_apply(fn, arg, &r) || ((1u << r.type) & EV_UNFORCED_TYPES))
        return false;
    *out = r;
    ev_gc_write(S, out);
    return true;
}

/* thunklike: forced as the thunk Nix would have there (map's results,
 * and generated elements reached through a reference, which in Nix are
 * the same shared thunk): called at the forcing position, no call-site
 * frame, recursion reported where its evaluation began. */
static void force_appi(ev_state *S, ev_value *v, ps_pos pos, bool thunklike)
{
    bool mapped = thunklike || v->u.obj->kind == EV_OBJ_BOX;
    if (v->pad[0]) {
        S->infrec_at = S->ntraces;
        if (mapped)
            /* as for a thunk: where its evaluation began */
            for (size_t k = S->nforcing_slots; k > 0; k--)
                if (S->forcing_slots[k - 1] == v) {
                    S->infrec_at = S->forcing_slot_depth[k - 1];
                    break;
                }
        ev_error(S, EV_ERR_INFREC, pos, "infinite recursion encountered");
    }
    ev_value fnv, argv;
    appi_parts(S, v, &fnv, &argv);
    if (call_ahead(S, &fnv, &argv, v))
        return;
    check_cstack(S, pos);
    v->pad[0] = 1;
    push_forcing_slot(S, v);
    ev_value *fa = ev_stack_push(S, 3);
    fa[0] = fnv;
    fa[1] = argv;
    if (mapped) {
        /* forced as Nix forces map's lazy applications, which have no
         * call position: a builtin's "while calling" frame shows none */
        bool prim = fa[0].type == EV_PRIMOP || fa[0].type == EV_PRIMOP_APP;
        call_at(S, &fa[0], 1, &fa[1], &fa[2], prim ? (ps_pos){0} : pos, false);
    } else {
        /* there is no call expression: Nix reports the function's position */
        ps_pos cpos = fa[0].type == EV_LAMBDA ? fa[0].u.fn->code->pos : pos;
        call_at(S, &fa[0], 1, &fa[1], &fa[2], cpos, true);
    }
    ev_force(S, &fa[2], pos);
    S->nforcing_slots--;
    if (v->type == EV_THUNK) {
        /* shared while being computed: complete that thunk too */
        ev_thunk *t = v->u.t;
        t->u.v = fa[2];
        t->h.flags = EV_TH_DONE;
        ev_gc_write_obj(S, &t->h);
    }
    *v = fa[2];
    ev_gc_write(S, v);
    S->sp = fa;
}

/* Where Nix places a lazy application: at its function, looked through
 * applications and forced thunks to the lambda or code it comes from. */
static ps_pos app_pos(const ev_gch *fn, ps_pos dflt)
{
    for (int guard = 0; guard < 1000; guard++) {
        if (fn->kind == EV_OBJ_LAMBDA)
            return ((const ev_lambda *)fn)->code->pos;
        if (fn->kind != EV_OBJ_THUNK)
            return dflt;
        const ev_thunk *t = (const ev_thunk *)fn;
        switch (EV_TH_STATE(t)) {
        case EV_TH_APP:
            fn = t->u.app.fn;
            break;
        case EV_TH_CODE:
            return t->u.c.code->pos;
        case EV_TH_DONE:
            if (t->u.v.type != EV_LAMBDA)
                return dflt;
            fn = &t->u.v.u.fn->h;
            break;
        default:
            return dflt;
        }
    }
    return dflt;
}

ps_pos ev_value_pos(ev_state *S, const ev_value *v)
{
    for (int guard = 0; guard < 1000; guard++) {
        switch (v->type) {
        case EV_LAMBDA:
            return v->u.fn->code->pos;
        case EV_LREF:
            v = ev_lref_slot(v);
            continue;
        case EV_APPI: {
            ev_value fn, arg;
            appi_parts(S, v, &fn, &arg);
            return fn.type == EV_LAMBDA || fn.type == EV_THUNK ? app_pos(fn.u.obj, (ps_pos){0}) : (ps_pos){0};
        }
        case EV_THUNK: {
            const ev_thunk *t = v->u.t;
            switch (EV_TH_STATE(t)) {
            case EV_TH_CODE:
                return t->u.c.code->pos;
            case EV_TH_APP:
                return app_pos(t->u.app.fn, (ps_pos){0});
            case EV_TH_DONE:
                v = &t->u.v;
                continue;
            default:
                return (ps_pos){0};
            }
        }
        default:
            return (ps_pos){0};
        }
    }
    return (ps_pos){0};
}

void ev_force_slow(ev_state *S, ev_value *v, ps_pos pos)
{
    if (v->type == EV_LREF) {
        /* v keeps the list alive while its element is forced */
        ev_value *slot = ev_lref_slot(v);
        if (slot->type == EV_APPI)
            force_appi(S, slot, pos, true);
        else
            ev_force(S, slot, pos);
        *v = *slot;
        ev_gc_write(S, v);
        return;
    }
    if (v->type == EV_APPI) {
        force_appi(S, v, pos, false);
        return;
    }
    ev_thunk *t = v->u.t;
    if (EV_TH_STATE(t) == EV_TH_DONE) {
        *v = t->u.v;
        ev_gc_write(S, v);
        return;
    }
    if (EV_TH_STATE(t) == EV_TH_FAILED)
        thunk_rethrow(S, t);
    if (t->h.flags & EV_TH_BH) {
        /* Nix reports the recursion as entered where the thunk's own
         * evaluation began */
        S->infrec_at = S->ntraces;
        for (size_t k = S->nforcing; k > 0; k--)
            if (S->forcing[k - 1] == t) {
                S->infrec_at = S->forcing_depth[k - 1];
                break;
            }
        ev_error(S, EV_ERR_INFREC, pos, "infinite recursion encountered");
    }
    check_cstack(S, pos);
    t->h.flags |= EV_TH_BH;
    push_forcing(S, t);
    ev_gc_safepoint(S);
    ev_value *tmp = ev_push1(S);
    if (EV_TH_STATE(t) == EV_TH_CODE) {
        ev_eval(S, t->u.c.code, t->u.c.env, tmp);
    } else {
        ev_value *fa = ev_stack_push(S, 2);
        ev_gch *fo = t->u.app.fn;
        fa[0] = fo->kind == EV_OBJ_BOX ? ((ev_box *)fo)->v[0] : ev_obj_value(fo);
        fa[1] = t->u.app.arg;
        if (t->h.flags & EV_TH_SITE)
            /* zipAttrsWith's `(f name) values`: Nix calls it at the
             * position of the innermost function, as a call site */
            call_at(S, &fa[0], 1, &fa[1], tmp, app_pos(fo, pos), true);
        else
            ev_call(S, &fa[0], 1, &fa[1], tmp, pos);
        ev_force(S, tmp, pos);
    }
    S->nforcing--;
    ev_value r = ev_value_get(tmp);
    t->u.v = r;
    t->h.flags = EV_TH_DONE;
    ev_gc_write_obj(S, &t->h);
    *v = r;
    ev_gc_write(S, v);
    S->sp = tmp;
}

/* ---- attribute sets ---------------------------------------------------- */

static ps_sym eval_attr_name(ev_state *S, const ev_code *c, ev_env *env, bool *is_null)
{
    ev_value *v = ev_push1(S);
    ev_eval(S, c, env, v);
    ev_force(S, v, c->pos);
    if (v->type == EV_NULL) {
        *is_null = true;
        S->sp--;
        return PS_NOSYM;
    }
    *is_null = false;
    ev_string *s = ev_force_string_noctx(S, v, c->pos, "while evaluating the name of a dynamic attribute");
    ps_sym sym = ps_intern(S->syms, s->s, s->len);
    S->sp--;
    return sym;
}

static void build_attrs(ev_state *S, const ev_code *c, ev_env *env, ev_value *out, ev_env **envout)
{
    uint32_t n = c->u.attrs.nattrs;
    bool rec = c->u.attrs.rec;
    ev_env *body = env, *inh = NULL;
    ev_value *root = ev_stack_push(S, 2);
    if (rec) {
        /* filled below before anything can collect; the inherit-from
         * sources are made first without reading it (filled = 0) */
        body = env_new_filled(S, env, n);
        root[0].type = EV_ENV;
        root[0].u.env = body;
    }
    if (c->u.attrs.ninh) {
        inh = env_new_filled(S, body, c->u.attrs.ninh);
        root[1].type = EV_ENV;
        root[1].u.env = inh;
        for (uint32_t i = 0; i < c->u.attrs.ninh; i++)
            inh->v[i] = mkval(S, c->u.attrs.inh[i], body, rec ? 0 : UINT32_MAX);
    }
    ev_attrs *set = NULL;
    bool presorted = c->u.attrs.presorted;
    if (!envout) {
        set = ev_attrs_new(S, n + c->u.attrs.ndyn);
        *out = ev_mk_attrs(set);
    }
    for (uint32_t i = 0; i < n; i++) {
        const ev_cattr *a = &c->u.attrs.attrs[i];
        /* one call: three left the value in a stack slot, copied from
         * there at a store-forwarding stall */
        ev_env *from = a->where == EV_AW_OUTER ? env : a->where == EV_AW_INHFROM ? inh : body;
        uint32_t filled = a->where == EV_AW_OUTER || a->where == EV_AW_INHFROM || !rec ? UINT32_MAX : i;
        ev_value v = mkval(S, a->value, from, filled);
        if (rec)
            ev_value_put(&body->v[i], v);
        if (!set)
            continue;
        if (presorted) {
            /* in place; counted once all are there (nothing collects
             * before) */
            ev_attr *e = &set->a[a->sorted];
            e->name = a->name;
            e->pos = a->pos;
            ev_value_put(&e->value, v);
        } else {
            ev_attrs_add(set, a->name, v, a->pos);
        }
    }
    if (envout) {
        *envout = body;
        S->sp = root + 1;   /* keep the let env rooted for the body */
        return;
    }
    if (presorted)
        set->h.n = n;
    else
        ev_attrs_finish(set);
    ev_attr *ov = rec ? ev_attrs_find(set, S->s_overrides) : NULL;
    if (ov) {
        /* `__overrides` in a rec set replaces bindings, in the set and in
         * the recursive scope (an old Nix feature, kept for compatibility) */
        ev_attrs *o = ev_force_attrs(S, &ov->value, c->pos, "while evaluating the `__overrides` attribute");
        ev_attrs *ns = ev_attrs_new(S, set->h.n + o->h.n + c->u.attrs.ndyn);
        memcpy(ns->a, set->a, set->h.n * sizeof(ev_attr));
        ns->h.n = set->h.n;
        for (uint32_t k = 0; k < o->h.n; k++) {
            ev_attr *e = ev_attrs_find(ns, o->a[k].name);
            if (e) {
                e->value = o->a[k].value;
                for (uint32_t i = 0; i < n; i++)
                    if (c->u.attrs.attrs[i].name == o->a[k].name) {
                        body->v[i] = o->a[k].value;
                        ev_gc_write(S, &body->v[i]);
                    }
            } else {
                ns->a[ns->h.n++] = o->a[k];
            }
        }
        ev_attrs_finish(ns);
        set = ns;
        *out = ev_mk_attrs(ns);
    }
    for (uint32_t i = 0; i < c->u.attrs.ndyn; i++) {
        const ev_cdyn *d = &c->u.attrs.dyn[i];
        bool is_null;
        ps_sym name = eval_attr_name(S, d->name, body, &is_null);
        if (is_null)
            continue;
        ev_attr *old = ev_attrs_find(set, name);
        if (old) {
            ut_buf b = UT_BUF_INIT;
            ps_format_pos(&b, ev_pos_get(S, old->pos));
            ev_error(S, EV_ERR_EVAL, ev_pos_get(S, d->pos), "dynamic attribute '%s' already defined at %s",
                     ps_sym_str(S->syms, name), b.data);
        }
        ev_attrs_add(set, name, mkval(S, d->value, body, UINT32_MAX), d->pos);
        ev_attrs_finish(set);
    }
    S->sp = root;
}

/* ---- function calls ------------------------------------------------------ */

static void formals_error(ev_state *S, const ev_clambda *cl, const char *what, ps_sym name, const ev_attrs *args)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "function '%s' called %s argument '", cl->name ? ps_sym_str(S->syms, cl->name) : "anonymous lambda",
                  what);
    /* Nix prints the argument's symbol as an attribute name: quoted when it
     * is not a plain identifier */
    ev_fmt_attr_name(ps_sym_str(S->syms, name), ps_sym_len(S->syms, name), &b);
    ut_buf_putc(&b, '\'');
    if (args) {
        /* suggestions: the declared formals, sorted by name */
        const char **names = ut_xmalloc((cl->nformals + 1) * sizeof(char *));
        uint32_t k = 0;
        for (uint32_t i = 0; i < cl->nformals; i++)
            names[k++] = ps_sym_str(S->syms, cl->formals[i].name);
        for (uint32_t i = 1; i < k; i++) {
            const char *x = names[i];
            uint32_t j = i;
            while (j > 0 && strcmp(names[j - 1], x) > 0) {
                names[j] = names[j - 1];
                j--;
            }
            names[j] = x;
        }
        if (k) {
            ut_buf_puts(&b, "\n\x01");
            ut_buf_puts(&b, k == 1 ? "Did you mean " : "Did you mean one of ");
            for (uint32_t i = 0; i < k; i++) {
                if (i)
                    ut_buf_puts(&b, i + 1 == k ? " or " : ", ");
                ut_buf_puts(&b, names[i]);
            }
            ut_buf_putc(&b, '?');
        }
        free(names);
    }
    ev_error_owned(S, EV_ERR_EVAL, cl->pos, ut_buf_steal(&b, NULL));
}

/* Binds arg to the lambda's parameters in env (rooted by the caller). */
static void bind_formals(ev_state *S, const ev_clambda *cl, ev_env *env, ev_value *arg, ps_pos callpos)
{
    if (!cl->has_formals) {
        env->v[0] = ev_share(S, arg);
    } else {
        uint32_t k = 0;
        if (cl->arg)
            env->v[k++] = ev_share(S, arg);
        ev_attrs *a = ev_force_attrs_any(S, arg, callpos, "while evaluating the value passed for the lambda argument");
        uint32_t used = 0;
        /* Nix fills the formals in order; a default that is just another
         * formal already filled shares its value (and its thunk) */
        uint64_t filled = cl->arg ? 1 : 0;
        for (uint32_t i = 0; i < cl->nformals; i++) {
            const ev_cformal *f = &cl->formals[i];
            ev_attr *av = ev_attrs_find(a, f->name);
            if (av) {
                env->v[f->slot] = av->value;
                used++;
            } else if (f->def) {
                const ev_code *d = f->def;
                if (d->op == C_VAR && d->u.var.level == 0 && d->u.var.index < 64 &&
                    (filled >> d->u.var.index & 1))
                    env->v[f->slot] = env->v[d->u.var.index];
                else
                    env->v[f->slot] = mkval(S, d, env, 0);
            } else {
                ev_trace_push_fast(S, callpos, "from call site", NULL);
                formals_error(S, cl, "without required", f->name, NULL);
            }
            if (f->slot < 64)
                filled |= (uint64_t)1 << f->slot;
        }
        if (!cl->ellipsis && used != ev_attrs_count(a)) {
            a = ev_attrs_flat(S, a);
            for (uint32_t i = 0; i < a->h.n; i++) {
                bool found = false;
                for (uint32_t j = 0; j < cl->nformals; j++)
                    if (cl->formals[j].name == a->a[i].name) {
                        found = true;
                        break;
                    }
                if (!found) {
                    ev_trace_push_fast(S, callpos, "from call site", NULL);
                    formals_error(S, cl, "with unexpected", a->a[i].name, a);
                }
            }
        }
    }
}

static const ev_ins *unit_of(ev_state *S, const ev_code *c);
static bool lambda_stackable(ev_state *S, const ev_clambda *cl);

/* Binds arg to the lambda's parameters in a new environment: on the value
 * stack when the body cannot keep a reference to it, else on the heap
 * (rooted on the stack when binding may evaluate). The caller releases
 * what this pushes with S->sp = *rootp after the call. */
static inline ev_env *bind_lambda_in(ev_state *S, const ev_clambda *cl, ev_env *parent, ev_value *arg,
                                     ps_pos callpos, ev_value **rootp, bool on_stack)
{
    *rootp = S->sp;
    ev_env *env;
    if (on_stack) {
        /* the header slot reads as a value the collector ignores (its
         * parent is reachable from the function being called); the
         * arguments are ordinary stack slots */
        if (!cl->has_formals && (size_t)(S->stack_end - S->sp) >= 2) {
            /* every word is written below: no clearing */
            env = (ev_env *)S->sp;
            S->sp += 2;
            env->h.mark = 0;
        } else {
            env = (ev_env *)ev_stack_push(S, 1 + (size_t)cl->nslots);
        }
        env->h.kind = EV_OBJ_ENV;
        env->h.flags = EV_GC_STATIC;
        env->h.n = cl->nslots;
        env->up = parent;
    } else {
        /* Binding writes every slot (the argument, each formal, which is
         * given or has a default). Forcing the argument first, which
         * bind_formals would do right after storing it, leaves nothing that
         * can collect before they are all written: the slots need no
         * clearing. */
        if (cl->has_formals)
            ev_force_attrs_any(S, arg, callpos, "while evaluating the value passed for the lambda argument");
        env = ev_gc_alloc_small_partial(S, EV_OBJ_ENV, sizeof(ev_env) + (size_t)cl->nslots * sizeof(ev_value),
                                        sizeof(ev_env));
        env->h.n = cl->nslots;
        env->up = parent;
        if (cl->has_formals) {
            ev_value *root = ev_push1(S);
            root->type = EV_ENV;
            root->u.env = env;
        }
    }
    if (!cl->has_formals)
        env->v[0] = ev_share(S, arg);
    else
        bind_formals(S, cl, env, arg, callpos);
    return env;
}

static inline ev_env *bind_lambda(ev_state *S, const ev_clambda *cl, ev_env *parent, ev_value *arg,
                                  ps_pos callpos, ev_value **rootp)
{
    bool on_stack = cl->stack_env > 0 || (cl->stack_env == 0 && lambda_stackable(S, cl));
    return bind_lambda_in(S, cl, parent, arg, callpos, rootp, on_stack);
}

/* `a: b: body` given both arguments: the outer environment is reachable
 * only from the inner one, so when the innermost can live on the stack
 * every one of them can (formals with defaults would capture theirs). The
 * caller keeps the function itself rooted: it holds the outermost parent. */
static bool chain_stackable(ev_state *S, const ev_clambda *cl, size_t nargs)
{
    for (; cl->curried && nargs > 1; nargs--) {
        for (uint32_t i = 0; i < cl->nformals; i++)
            if (cl->formals[i].def)
                return false;
        cl = cl->body->u.lambda;
    }
    return cl->stack_env > 0 || (cl->stack_env == 0 && lambda_stackable(S, cl));
}

/* The frames of a call to cl; returns the trace depth to restore after it.
 * site: the call is an application in Nix code; calls made by builtins and
 * lazily applied functions have no call site frame in Nix's traces. */
static inline size_t push_call_frames(ev_state *S, const ev_clambda *cl, ps_pos callpos, bool site)
{
    /* one record, expanded into Nix's two frames only if an error needs it */
    size_t nt = S->ntraces;
    if (S->ntraces == S->captraces)
        ev_trace_grow(S);
    ev_trace *t = &S->traces[S->ntraces++];
    t->pos = callpos;
    t->fmt = call_frame;
    t->arg = (const char *)cl;
    t->iarg = site;
    return nt;
}

static inline void call_body(ev_state *S, const ev_clambda *cl, ev_env *env, ev_value *out, ps_pos callpos,
                             bool site)
{
    size_t nt = push_call_frames(S, cl, callpos, site);
    ev_eval(S, cl->body, env, out);
    S->ntraces = nt;
}

static void call_lambda(ev_state *S, const ev_clambda *cl, ev_env *parent, ev_value *arg, ev_value *out,
                        ps_pos callpos, bool site)
{
    ev_value *root;
    ev_env *env = bind_lambda(S, cl, parent, arg, callpos, &root);
    call_body(S, cl, env, out, callpos, site);
    S->sp = root;
}

static void call_primop(ev_state *S, ev_primop *op, ev_value *args, ev_value *out, ps_pos pos)
{
    ev_trace_push_fast(S, pos, builtin_frame, op->name);
    op->fn(S, args, out, pos);
    S->ntraces--;
}

UT_NORETURN static void not_callable(ev_state *S, ev_value *f, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    extern void ev_print_for_error(ev_state * S, ut_buf * out, ev_value * v);
    ev_print_for_error(S, &b, f);
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, "attempt to call something which is not a function but %s: %s", ev_type_name(f),
                  b.data ? b.data : "");
    ut_buf_free(&b);
    ev_error_owned(S, EV_ERR_EVAL, pos, ut_buf_steal(&m, NULL));
}


void ev_call(ev_state *S, ev_value *fn, size_t nargs, ev_value *args, ev_value *out, ps_pos pos)
{
    call_at(S, fn, nargs, args, out, pos, false);
}

static void call_at(ev_state *S, ev_value *fn, size_t nargs, ev_value *args, ev_value *out, ps_pos pos,
                    bool site)
{
    if (nargs == 1 && fn->type == EV_LAMBDA && !fn->u.fn->code->has_formals) {
        /* the common case of builtins calling back (map, foldl', genList) */
        if (fn->u.fn->code->spec_body >= 0) {   /* not known not to be computable */
            ev_value a = args[0];
            if (call_ahead(S, fn, &a, out))
                return;
        }
        ev_check_depth(S, pos);
        S->call_depth++;
        ev_gc_safepoint(S);
        ev_value *root;
        const ev_clambda *cl = fn->u.fn->code;
        ev_env *env = bind_lambda(S, cl, fn->u.fn->env, args, pos, &root);
        call_body(S, cl, env, out, pos, site);
        S->sp = root;
        S->call_depth--;
        return;
    }
    if (nargs == 2 && fn->type == EV_LAMBDA) {
        /* `a: b: ...` called by a builtin with both (foldl', sort, genericClosure's
         * operators): both environments on the stack when nothing can keep
         * them; fn, the caller's rooted slot, keeps the closure alive */
        const ev_clambda *cl = fn->u.fn->code;
        if (!cl->has_formals && cl->body->op == C_LAMBDA && !cl->body->u.lambda->has_formals &&
            chain_stackable(S, cl, 2)) {
            const ev_clambda *inner = cl->body->u.lambda;
            ev_check_depth(S, pos);
            S->call_depth++;
            ev_gc_safepoint(S);
            ev_value *root0 = S->sp, *root;
            ev_check_depth(S, pos);
            ev_env *penv = bind_lambda_in(S, cl, fn->u.fn->env, &args[0], pos, &root, true);
            ev_env *env = bind_lambda_in(S, inner, penv, &args[1], pos, &root, true);
            ev_value *res = ev_push1(S);
            call_body(S, inner, env, res, pos, site);
            *out = *res;
            ev_gc_write(S, out);
            S->sp = root0;
            S->call_depth--;
            return;
        }
    }
    ev_value *cur = ev_push1(S);
    *cur = ev_share(S, fn);
    size_t i = 0;
    while (i < nargs) {
        ev_force(S, cur, pos);
        ev_check_depth(S, pos);
        S->call_depth++;
        ev_gc_safepoint(S);
        switch (cur->type) {
        case EV_LAMBDA: {
            const ev_clambda *cl = cur->u.fn->code;
            ev_env *penv = cur->u.fn->env;
            /* `a: b: ...` applied to several arguments: bind the outer
             * lambda and go straight on with the inner one, without
             * allocating the intermediate closure */
            if (cl->curried && i + 1 < nargs && chain_stackable(S, cl, nargs - i)) {
                /* cur keeps the function, and so penv, alive */
                ev_value *root0 = S->sp;
                while (cl->curried && i + 1 < nargs) {
                    ev_check_depth(S, pos);
                    ev_value *root;
                    penv = bind_lambda_in(S, cl, penv, &args[i], pos, &root, true);
                    cl = cl->body->u.lambda;
                    i++;
                }
                ev_value *root;
                ev_env *env = bind_lambda_in(S, cl, penv, &args[i], pos, &root, true);
                ev_value res;
                call_body(S, cl, env, &res, pos, site);
                *cur = res;
                S->sp = root0;
                i++;
                break;
            }
            while (cl->curried && i + 1 < nargs) {
                ev_check_depth(S, pos);
                ev_value *root;
                ev_env *e = bind_lambda(S, cl, penv, &args[i], pos, &root);
                cur->type = EV_ENV;
                cur->u.env = e;
                S->sp = cur + 1;
                cl = cl->body->u.lambda;
                penv = e;
                i++;
            }
            call_lambda(S, cl, penv, &args[i], cur, pos, site);
            i++;
            break;
        }
        case EV_PRIMOP: {
            ev_primop *op = cur->u.op;
            if (nargs - i >= op->arity) {
                call_primop(S, op, &args[i], cur, pos);
                i += op->arity;
            } else {
                size_t k = nargs - i;
                ev_papp *p = ev_gc_alloc(S, EV_OBJ_PAPP, sizeof(ev_papp) + k * sizeof(ev_value));
                p->op = op;
                p->h.n = (uint32_t)k;
                memcpy(p->args, &args[i], k * sizeof(ev_value));
                cur->type = EV_PRIMOP_APP;
                cur->u.papp = p;
                i = nargs;
            }
            break;
        }
        case EV_PRIMOP_APP: {
            ev_papp *p = cur->u.papp;
            ev_primop *op = p->op;
            size_t have = p->h.n, need = op->arity - have;
            size_t k = nargs - i < need ? nargs - i : need;
            if (k == need) {
                ev_value *all = ev_stack_push(S, op->arity);
                memcpy(all, p->args, have * sizeof(ev_value));
                memcpy(all + have, &args[i], k * sizeof(ev_value));
                call_primop(S, op, all, cur, pos);
                S->sp = all;
            } else {
                ev_papp *q = ev_gc_alloc(S, EV_OBJ_PAPP, sizeof(ev_papp) + (have + k) * sizeof(ev_value));
                q->op = op;
                q->h.n = (uint32_t)(have + k);
                memcpy(q->args, p->args, have * sizeof(ev_value));
                memcpy(q->args + have, &args[i], k * sizeof(ev_value));
                cur->u.papp = q;
            }
            i += k;
            break;
        }
        case EV_ATTRS: {
            ev_attr *f = ev_attrs_find(cur->u.a, S->s_functor);
            if (!f)
                not_callable(S, cur, pos);
            ev_value *tmp = ev_stack_push(S, 3);
            tmp[0] = f->value;
            tmp[1] = *cur;
            tmp[2] = args[i];
            call_at(S, &tmp[0], 2, &tmp[1], cur, pos, site);
            S->sp = tmp;
            i++;
            break;
        }
        default:
            S->call_depth--;
            not_callable(S, cur, pos);
        }
        S->call_depth--;
    }
    *out = *cur;
    ev_gc_write(S, out);
    S->sp = cur;
}

static void select_missing(ev_state *S, ev_attrs *a, ps_sym name)
{
    /* suggestions: names at small edit distance, as Nix's Suggestions */
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "attribute '%s' missing", ps_sym_str(S->syms, name));
    extern void ev_suggest(ev_state * S, ut_buf * out, const ev_attrs *a, const char *name);
    ev_suggest(S, &b, a, ps_sym_str(S->syms, name));
    ev_error_owned(S, EV_ERR_EVAL, (ps_pos){0}, ut_buf_steal(&b, NULL));
}

/* ---- the bytecode VM ---------------------------------------------------- */

/* Code reached as a thunk, a function body or a top-level expression is
 * compiled, on its first evaluation, from the resolved code tree into a
 * linear stack code. Evaluation of a value leaves it, in weak head normal
 * form, on the value stack. Forcing a thunk and calling a lambda push a VM
 * frame instead of recursing in C; only builtins that call back into Nix
 * code (map, foldl', sort...) and a few rare paths re-enter the VM from C. */

typedef enum ev_iop {
    I_CONST, I_VAR, I_WITHVAR, I_FORCE, I_TRACE, I_TRACE_POP,
    I_SEL_BEGIN, I_SEL_STEP, I_SEL_END, I_HAS_STEP, I_HAS_TRUE,
    I_ATTRS, I_LIST, I_LAMBDA, I_MKVAL, I_CALL, I_PRIM_ENTER, I_PRIM_CALL,
    I_LET, I_WITH, I_ENV_POP, I_JMP, I_IF, I_ASSERT,
    I_NOT, I_EQ, I_AND1, I_OR1, I_IMPL1, I_BOOLCHK,
    I_UPDATE, I_CONCAT_LISTS, I_CONCAT_PART, I_CONCAT_END, I_CURPOS, I_RET,
    I_VAR_OP, I_ARITH_LEAVES, I_SEL_FAST, I_VAR_DEEP,
} ev_iop;

/* I_VAR, I_VAR_OP and I_MKVAL of a variable carry its place in the
 * instruction (x: levels up, n: index), so the hot path reads no code
 * node; a variable more than 65535 scopes out is I_VAR_DEEP. I_MKVAL's a
 * says what the value is made of: */
enum { MK_ANY = 0, MK_VAR, MK_THUNK };

struct ev_ins {
    uint8_t op;
    uint8_t a;          /* small operand: trace message, flags */
    uint16_t x;         /* index (path element, string part) */
    uint32_t n;         /* jump target or count */
    const void *p;      /* the code node (its fields and position) */
};

enum { FR_STOP, FR_THUNK, FR_CALL, FR_THUNKCALL };

/* room every frame may use without checking: more than one unit's
 * expression nesting can need */
#define EV_VM_STACK_MARGIN ((ptrdiff_t)1 << 16)

/* trace messages for operands, as Nix words them */
enum {
    TF_SELECT, TF_HAS, TF_NOT, TF_EQ_L, TF_EQ_R, TF_NEQ_L, TF_NEQ_R, TF_AND_L, TF_AND_R,
    TF_OR_L, TF_OR_R, TF_IMPL_L, TF_IMPL_R, TF_UPD_L, TF_UPD_R, TF_CAT_L, TF_CAT_R, TF_PLUS,
};
static const char *const trace_msgs[] = {
    [TF_SELECT] = "while selecting an attribute",
    [TF_HAS] = "in the argument of '?'",
    [TF_NOT] = "in the argument of '!'",
    [TF_EQ_L] = "in the left operand of '=='",
    [TF_EQ_R] = "in the right operand of '=='",
    [TF_NEQ_L] = "in the left operand of '!='",
    [TF_NEQ_R] = "in the right operand of '!='",
    [TF_AND_L] = "in the left operand of '&&'",
    [TF_AND_R] = "in the right operand of '&&'",
    [TF_OR_L] = "in the left operand of '||'",
    [TF_OR_R] = "in the right operand of '||'",
    [TF_IMPL_L] = "in the left operand of '->'",
    [TF_IMPL_R] = "in the right operand of '->'",
    [TF_UPD_L] = "in the left operand of '//'",
    [TF_UPD_R] = "in the right operand of '//'",
    [TF_CAT_L] = "in the left operand of '++'",
    [TF_CAT_R] = "in the right operand of '++'",
    [TF_PLUS] = "in an operand of '+'",
};

/* ---- the bytecode compiler ---- */

typedef struct emitter {
    ev_ins *v;
    uint32_t n, cap;
} emitter;

static uint32_t emit(emitter *E, uint8_t op, const void *p)
{
    if (E->n == E->cap) {
        E->cap = E->cap ? E->cap * 2 : 32;
        E->v = ut_xrealloc(E->v, E->cap * sizeof *E->v);
    }
    ev_ins *i = &E->v[E->n];
    memset(i, 0, sizeof *i);
    i->op = op;
    i->p = p;
    return E->n++;
}

static uint32_t emit_a(emitter *E, uint8_t op, const void *p, uint8_t a)
{
    uint32_t k = emit(E, op, p);
    E->v[k].a = a;
    return k;
}

static void emit_expr(emitter *E, const ev_code *c);

static inline bool var_fits(const ev_code *c)
{
    return c->u.var.level <= UINT16_MAX;
}

static uint32_t emit_var(emitter *E, uint8_t op, const ev_code *c, uint8_t a)
{
    uint32_t k = emit_a(E, op, c, a);
    E->v[k].x = (uint16_t)c->u.var.level;
    E->v[k].n = c->u.var.index;
    return k;
}

static inline bool leaf_code(const ev_code *c)
{
    return c->op == C_VAR || (c->op == C_CONST && c->u.k.type == EV_INT);
}

static void emit_operand(emitter *E, const ev_code *c, uint8_t msg)
{
    if (c->op == C_CONST) {
        emit(E, I_CONST, c);   /* nothing to force: no frame */
        return;
    }
    if (c->op == C_VAR && var_fits(c)) {
        /* the frame is pushed only if the variable needs forcing; a value
         * already there skips the I_TRACE_POP */
        emit_var(E, I_VAR_OP, c, msg);
        emit(E, I_TRACE_POP, NULL);
        return;
    }
    emit_a(E, I_TRACE, c, msg);
    emit_expr(E, c);
    emit(E, I_TRACE_POP, NULL);
}

/* A Boolean operand: its type is checked under the operand's frame, and a
 * wrong type is reported at the operand, as Nix does. */
static void emit_bool_operand(emitter *E, const ev_code *c, uint8_t msg)
{
    emit_a(E, I_TRACE, c, msg);
    emit_expr(E, c);
    emit(E, I_BOOLCHK, c);
    emit(E, I_TRACE_POP, NULL);
}

static void emit_mkval(emitter *E, const ev_code *c)
{
    if (c->op == C_VAR && var_fits(c))
        emit_var(E, I_MKVAL, c, MK_VAR);
    else if (c->op != C_CONST && c->op != C_VAR && c->op != C_LAMBDA && !c->spec)
        emit_a(E, I_MKVAL, c, MK_THUNK);
    else
        emit_a(E, I_MKVAL, c, MK_ANY);
}

static void emit_expr(emitter *E, const ev_code *c)
{
    switch ((ev_op)c->op) {
    case C_CONST:
        emit(E, I_CONST, c);
        return;
    case C_VAR:
        if (var_fits(c))
            emit_var(E, I_VAR, c, 0);
        else
            emit(E, I_VAR_DEEP, c);
        return;
    case C_WITHVAR:
        emit(E, I_WITHVAR, c);
        return;
    case C_SELECT: {
        /* `v.a.b` with v and the attributes on the path already values:
         * the result without frames (nothing there can fail). Otherwise
         * the general sequence below runs. */
        uint32_t fast = UINT32_MAX, force_last = 0;
        if (c->u.sel.e->op == C_VAR && c->u.sel.n <= 8) {
            bool names = true;
            for (uint32_t i = 0; i < c->u.sel.n; i++)
                names = names && c->u.sel.path[i].name;
            if (names)
                fast = emit(E, I_SEL_FAST, c);
        }
        emit_a(E, I_TRACE, c, TF_SELECT);
        emit_expr(E, c->u.sel.e);
        emit(E, I_TRACE_POP, NULL);
        /* the path's steps, the final force and a default run under "while
         * evaluating the attribute 'a.b'" and "from the definition of" the
         * last attribute found, as Nix's trace shows them */
        emit(E, I_SEL_BEGIN, c);
        uint32_t *steps = ut_xmalloc((c->u.sel.n + 1) * sizeof *steps);
        for (uint32_t i = 0; i < c->u.sel.n; i++) {
            const ev_cpath *p = &c->u.sel.path[i];
            if (!p->name)
                emit_expr(E, p->expr);
            steps[i] = emit_a(E, I_SEL_STEP, c, p->name ? 0 : 1);
            E->v[steps[i]].x = (uint16_t)i;
            force_last = emit(E, I_FORCE, c);
        }
        if (c->u.sel.def) {
            uint32_t j = emit(E, I_JMP, NULL);
            for (uint32_t i = 0; i < c->u.sel.n; i++)
                E->v[steps[i]].n = E->n;
            emit_expr(E, c->u.sel.def);
            E->v[j].n = E->n;
        }
        emit(E, I_SEL_END, c);
        if (fast != UINT32_MAX) {
            E->v[fast].n = E->n;                            /* past the end */
            E->v[fast].x = (uint16_t)(force_last - fast);   /* the last force (relative already) */
        }
        free(steps);
        return;
    }
    case C_HASATTR: {
        emit_operand(E, c->u.sel.e, TF_HAS);
        uint32_t *steps = ut_xmalloc((c->u.sel.n + 1) * sizeof *steps);
        for (uint32_t i = 0; i < c->u.sel.n; i++) {
            const ev_cpath *p = &c->u.sel.path[i];
            if (i > 0)
                emit(E, I_FORCE, c);
            if (!p->name)
                emit_expr(E, p->expr);
            steps[i] = emit_a(E, I_HAS_STEP, c, p->name ? 0 : 1);
            E->v[steps[i]].x = (uint16_t)i;
        }
        emit(E, I_HAS_TRUE, c);
        for (uint32_t i = 0; i < c->u.sel.n; i++)
            E->v[steps[i]].n = E->n;
        free(steps);
        return;
    }
    case C_ATTRS:
        emit(E, I_ATTRS, c);
        return;
    case C_LIST:
        emit(E, I_LIST, c);
        return;
    case C_LAMBDA:
        emit(E, I_LAMBDA, c);
        return;
    case C_CALL:
        emit_expr(E, c->u.call.fn);
        for (uint32_t i = 0; i < c->u.call.nargs; i++)
            emit_mkval(E, c->u.call.args[i]);
        emit(E, I_CALL, c);
        return;
    case C_PRIM:
        if (c->fast && leaf_code(c->u.prim.args[0]) && leaf_code(c->u.prim.args[1])) {
            /* two integers at hand: the result, without the call */
            uint32_t k = emit(E, I_ARITH_LEAVES, c);
            emit(E, I_PRIM_ENTER, c);
            for (uint32_t i = 0; i < 2; i++)
                emit_expr(E, c->u.prim.args[i]);
            emit(E, I_PRIM_CALL, c);
            E->v[k].n = E->n;
            return;
        }
        emit(E, I_PRIM_ENTER, c);
        for (uint32_t i = 0; i < c->u.prim.op->arity; i++)
            emit_expr(E, c->u.prim.args[i]);
        emit(E, I_PRIM_CALL, c);
        return;
    case C_LET:
        emit(E, I_LET, c);
        emit_expr(E, c->u.attrs.body);
        emit(E, I_ENV_POP, NULL);
        return;
    case C_WITH:
        emit(E, I_WITH, c);
        emit_expr(E, c->u.with.body);
        emit(E, I_ENV_POP, NULL);
        return;
    case C_IF: {
        emit_expr(E, c->u.ops.a);
        uint32_t jf = emit(E, I_IF, c);
        emit_expr(E, c->u.ops.b);
        uint32_t je = emit(E, I_JMP, NULL);
        E->v[jf].n = E->n;
        emit_expr(E, c->u.ops.c);
        E->v[je].n = E->n;
        return;
    }
    case C_ASSERT:
        emit_expr(E, c->u.ops.a);
        emit(E, I_ASSERT, c);
        emit_expr(E, c->u.ops.b);
        return;
    case C_NOT:
        emit_bool_operand(E, c->u.ops.a, TF_NOT);
        emit(E, I_NOT, c);
        return;
    case C_EQ:
    case C_NEQ: {
        bool eq = c->op == C_EQ;
        emit_operand(E, c->u.ops.a, eq ? TF_EQ_L : TF_NEQ_L);
        emit_operand(E, c->u.ops.b, eq ? TF_EQ_R : TF_NEQ_R);
        emit_a(E, I_EQ, c, eq ? 1 : 0);
        return;
    }
    case C_AND:
    case C_OR:
    case C_IMPL: {
        uint8_t tl = c->op == C_AND ? TF_AND_L : c->op == C_OR ? TF_OR_L : TF_IMPL_L;
        uint8_t op = c->op == C_AND ? I_AND1 : c->op == C_OR ? I_OR1 : I_IMPL1;
        emit_bool_operand(E, c->u.ops.a, tl);
        uint32_t j = emit(E, op, c);
        emit_bool_operand(E, c->u.ops.b, (uint8_t)(tl + 1));
        E->v[j].n = E->n;
        return;
    }
    case C_UPDATE:
        emit_operand(E, c->u.ops.a, TF_UPD_L);
        emit_operand(E, c->u.ops.b, TF_UPD_R);
        emit(E, I_UPDATE, c);
        return;
    case C_CONCAT_LISTS:
        emit_operand(E, c->u.ops.a, TF_CAT_L);
        emit_operand(E, c->u.ops.b, TF_CAT_R);
        emit(E, I_CONCAT_LISTS, c);
        return;
    case C_CONCAT_STRINGS:
        for (uint32_t i = 0; i < c->u.concat.n; i++) {
            if (c->u.concat.force_string)
                emit_expr(E, c->u.concat.parts[i]);
            else
                emit_operand(E, c->u.concat.parts[i], TF_PLUS);
            uint32_t k = emit(E, I_CONCAT_PART, c);
            E->v[k].x = (uint16_t)i;
        }
        emit(E, I_CONCAT_END, c);
        return;
    case C_CURPOS:
        emit(E, I_CURPOS, c);
        return;
    }
}

static bool is_jump(uint8_t op)
{
    switch ((ev_iop)op) {
    case I_JMP: case I_IF: case I_AND1: case I_OR1: case I_IMPL1:
    case I_SEL_STEP: case I_HAS_STEP: case I_ARITH_LEAVES: case I_SEL_FAST:
        return true;
    default:
        return false;
    }
}

static const ev_ins *unit_of(ev_state *S, const ev_code *c)
{
    if (c->bc)
        return c->bc;
    emitter E = {0};
    emit_expr(&E, c);
    emit(&E, I_RET, NULL);
    /* jumps are relative to their own instruction */
    for (uint32_t k = 0; k < E.n; k++)
        if (E.v[k].n && is_jump(E.v[k].op))
            E.v[k].n -= k;
    ev_ins *code = ut_arena_alloc(S->code_arena, E.n * sizeof(ev_ins));
    memcpy(code, E.v, E.n * sizeof(ev_ins));
    free(E.v);
    ((ev_code *)c)->bc = code;
    return code;
}

static bool trivial_code(const ev_code *c)
{
    return c->op == C_CONST || c->op == C_VAR;
}

/* Whether nothing the body does can keep its environment alive after the
 * call: no closures, thunks or scopes built on it. Constants and variables
 * are copied as values, so attribute sets and lists of them are fine. */
static bool lambda_stackable(ev_state *S, const ev_clambda *cl)
{
    bool ok = true;
    for (uint32_t i = 0; i < cl->nformals && ok; i++)
        if (cl->formals[i].def)
            ok = false;
    for (const ev_ins *I = unit_of(S, cl->body); ok && I->op != I_RET; I++) {
        const ev_code *c = I->p;
        switch ((ev_iop)I->op) {
        case I_LAMBDA:
        case I_LET:
        case I_WITH:
            ok = false;
            break;
        case I_MKVAL:
            /* computed ahead, or else the environment moves to the heap
             * first (promote_env) */
            ok = trivial_code(c) || c->spec;
            break;
        case I_LIST:
            for (uint32_t k = 0; k < c->u.list.n && ok; k++)
                ok = trivial_code(c->u.list.e[k]);
            break;
        case I_ATTRS:
            ok = !c->u.attrs.rec && c->u.attrs.ninh == 0 && c->u.attrs.ndyn == 0;
            for (uint32_t k = 0; k < c->u.attrs.nattrs && ok; k++)
                ok = trivial_code(c->u.attrs.attrs[k].value);
            break;
        default:
            break;
        }
    }
    ((ev_clambda *)cl)->stack_env = ok ? 1 : -1;
    return ok;
}

/* ---- the interpreter ---- */

static inline bool on_vm_stack(ev_state *S, const ev_env *e)
{
    return (const ev_value *)e >= S->stack && (const ev_value *)e < S->stack_end;
}

/* A thunk is about to capture an environment that lives on the value
 * stack (a lambda whose arguments are normally computed ahead): it moves to
 * the heap, with the stack environments it hangs from, before anything can
 * refer to it. Only the running frame refers to the stack copy. */
static ev_env *promote_env(ev_state *S, ev_env *e)
{
    if (!on_vm_stack(S, e))
        return e;
    ev_env *up = promote_env(S, e->up);
    ev_env *h = ev_env_new(S, up, e->h.n);
    memcpy(h->v, e->v, e->h.n * sizeof(ev_value));
    return h;
}

/* A variable's or a constant's value if it is an integer already */
static inline const ev_value *leaf_int(const ev_code *c, ev_env *env)
{
    const ev_value *v = c->op == C_CONST ? &c->u.k : &env_up(env, c->u.var.level)->v[c->u.var.index];
    if (v->type == EV_THUNK && EV_TH_STATE(v->u.t) == EV_TH_DONE)
        v = &v->u.t->u.v;
    return v->type == EV_INT ? v : NULL;
}

static ev_vframe *push_frame(ev_state *S, ps_pos pos)
{
    if (S->nframes == S->maxframes)
        stack_overflow(S, pos);
    ev_vframe *f = &S->frames[S->nframes++];
    return f;
}

static ps_sym dyn_name(ev_state *S, ev_value *v, const ev_code *expr, bool *is_null)
{
    if (v->type == EV_NULL) {
        *is_null = true;
        return PS_NOSYM;
    }
    *is_null = false;
    ev_string *s = ev_force_string_noctx(S, v, expr->pos, "while evaluating the name of a dynamic attribute");
    return ps_intern(S->syms, s->s, s->len);
}

UT_NORETURN static void infrec(ev_state *S, ev_thunk *t, ps_pos pos)
{
    /* Nix reports the recursion as entered where the thunk's own
     * evaluation began */
    S->infrec_at = S->ntraces;
    for (size_t k = S->nforcing; k > 0; k--)
        if (S->forcing[k - 1] == t) {
            S->infrec_at = S->forcing_depth[k - 1];
            break;
        }
    ev_error(S, EV_ERR_INFREC, pos, "infinite recursion encountered");
}

static ev_attr *with_find(ev_state *S, const ev_code *c, ev_env *env)
{
    ev_env *e = env_up(env, c->u.wvar.level);
    for (;;) {
        ev_attrs *a = ev_force_attrs_any(S, &e->v[0], c->pos, NULL);
        ev_attr *f = ev_attrs_find_hint(a, c->u.wvar.name, &((ev_code *)c)->u.wvar.hint);
        if (f)
            return f;
        do
            e = e->up;
        while (e && !(e->h.flags & EV_ENV_WITH));
        if (!e)
            ev_error(S, EV_ERR_EVAL, c->pos, "undefined variable '%s'", ps_sym_str(S->syms, c->u.wvar.name));
    }
}

/* `small // big` or `big // small` when one side has a few attributes
 * (overlays, `acc // { k = v; }`, `(import f) // acc`): each attribute of
 * the small side is placed by binary search in the big one, and the runs of
 * the big side between them are copied whole, into a set of the exact
 * size. The result is a new set even when it has the same attributes as
 * the right side: Nix makes one, and which sets are the same one is
 * visible (nix-instantiate prints a derivation once per set). */
static void update_sparse(ev_state *S, ev_attrs *x, ev_attrs *y, ev_value *v)
{
    bool small_left = x->h.n < y->h.n;
    ev_attrs *sm = small_left ? x : y, *big = small_left ? y : x;
    uint32_t hits = 0;
    for (uint32_t j = 0, lo = 0; j < sm->h.n; j++) {
        lo = ev_attrs_lower_bound(big, lo, big->h.n, sm->a[j].name);
        if (lo < big->h.n && big->a[lo].name == sm->a[j].name)
            hits++;
    }
    ev_attrs *r = ev_attrs_new(S, (size_t)big->h.n + sm->h.n - hits);
    uint32_t i = 0, k = 0;
    for (uint32_t j = 0; j < sm->h.n; j++) {
        ps_sym name = sm->a[j].name;
        uint32_t lo = ev_attrs_lower_bound(big, i, big->h.n, name);
        memcpy(&r->a[k], &big->a[i], (size_t)(lo - i) * sizeof(ev_attr));
        k += lo - i;
        i = lo;
        if (i < big->h.n && big->a[i].name == name) {
            /* the right side wins */
            r->a[k++] = small_left ? big->a[i] : sm->a[j];
            i++;
        } else {
            r->a[k++] = sm->a[j];
        }
    }
    memcpy(&r->a[k], &big->a[i], (size_t)(big->h.n - i) * sizeof(ev_attr));
    k += big->h.n - i;
    r->h.n = k;
    v[0] = ev_mk_attrs(r);
}

/* `big // small` or `small // big` as a layer over big (see ev_attrs in
 * value.h): small's attributes, less those big overrides when small is on
 * the left. sm is flat and has at most 64 attributes. */
static void update_layer(ev_state *S, ev_attrs *sm, ev_attrs *big, bool small_left, ev_value *v)
{
    uint64_t in_big = 0;
    uint32_t hits = 0;
    for (uint32_t j = 0; j < sm->h.n; j++)
        if (ev_attrs_find(big, sm->a[j].name)) {
            in_big |= (uint64_t)1 << j;
            hits++;
        }
    uint32_t nover = small_left ? sm->h.n - hits : sm->h.n;
    ev_attrs *r = ev_attrs_new(S, nover);
    uint32_t filter = 0;
    for (uint32_t j = 0; j < sm->h.n; j++)
        if (!small_left || !((in_big >> j) & 1)) {
            filter |= ev_attrs_filter_bit(sm->a[j].name);
            r->a[r->h.n++] = sm->a[j];
        }
    if (big->h.flags & EV_ATTRS_FLATTENED)
        big = big->base;
    r->h.flags |= EV_ATTRS_LAYER | (uint16_t)((EV_ATTRS_DEPTH(big) + 1) << EV_ATTRS_DEPTH_SHIFT);
    r->cap = ev_attrs_count(big) + sm->h.n - hits;
    r->filter = filter;
    r->base = big;
    v[0] = ev_mk_attrs(r);
}

static void op_update(ev_state *S, const ev_code *c, ev_value *v)
{
    ev_attrs *x = ev_force_attrs_any(S, &v[0], c->pos, "in the left operand of the update (//) operator");
    ev_attrs *y = ev_force_attrs_any(S, &v[1], c->pos, "in the right operand of the update (//) operator");
    uint32_t nx = ev_attrs_count(x), ny = ev_attrs_count(y);
    if (nx == 0) {
        v[0] = v[1];
        return;
    }
    if (ny == 0)
        return;
    {
        bool small_left = nx < ny;
        ev_attrs *sm = small_left ? x : y, *big = small_left ? y : x;
        uint32_t ns = small_left ? nx : ny, nb = small_left ? ny : nx;
        const ev_attrs *under = big->h.flags & EV_ATTRS_FLATTENED ? big->base : big;
        if (ns <= 64 && (size_t)ns * 2 <= nb && nb >= 16 && EV_ATTRS_DEPTH(under) < EV_ATTRS_MAX_DEPTH) {
            update_layer(S, ev_attrs_flat(S, sm), big, small_left, v);
            return;
        }
    }
    if ((size_t)ny * 8 < nx || (size_t)nx * 8 < ny) {
        x = ev_attrs_flat(S, x);
        y = ev_attrs_flat(S, y);
        update_sparse(S, x, y, v);
        return;
    }
    x = ev_attrs_flat(S, x);
    y = ev_attrs_flat(S, y);
    ev_attrs *r = ev_attrs_new(S, x->h.n + y->h.n);
    uint32_t i = 0, j = 0, k = 0;
    /* interleaved names mispredict a branch per attribute: pick the
     * source with a select instead (the right side on equal names, and
     * both sides advance) */
    while (i < x->h.n && j < y->h.n) {
        ps_sym xn = x->a[i].name, yn = y->a[j].name;
        const ev_attr *src = yn <= xn ? &y->a[j] : &x->a[i];
        r->a[k++] = *src;
        j += yn <= xn;
        i += xn <= yn;
    }
    memcpy(&r->a[k], &y->a[j], (size_t)(y->h.n - j) * sizeof(ev_attr));
    k += y->h.n - j;
    memcpy(&r->a[k], &x->a[i], (size_t)(x->h.n - i) * sizeof(ev_attr));
    k += x->h.n - i;
    r->h.n = k;
    v[0] = ev_mk_attrs(r);
}

static void op_concat_lists(ev_state *S, const ev_code *c, ev_value *v)
{
    ps_pos saved = S->errctx_pos;
    S->errctx_pos = c->pos;
    ev_list *x = ev_force_list(S, &v[0], c->pos, "while evaluating one of the elements to concatenate");
    ev_list *y = ev_force_list(S, &v[1], c->pos, "while evaluating one of the elements to concatenate");
    S->errctx_pos = saved;
    if (x->h.n == 0) {
        v[0] = v[1];
        return;
    }
    if (y->h.n == 0)
        return;
    ev_list *l = list_new_filled(S, (size_t)x->h.n + y->h.n);
    for (uint32_t i = 0; i < x->h.n; i++)
        l->v[i] = ev_share(S, &x->v[i]);
    for (uint32_t i = 0; i < y->h.n; i++)
        l->v[x->h.n + i] = ev_share(S, &y->v[i]);
    v[0] = ev_mk_list(l);
}

/* `+` and string interpolation, one part at a time, in Nix's order: the
 * first part decides between numbers, a path and a string. Each part is
 * turned into its string form in its own stack slot (a plain string stays
 * as it is); I_CONCAT_END joins them. The first slot's aux remembers the
 * first part's type. */
static void concat_part(ev_state *S, const ev_code *c, uint32_t i, ev_value *parts)
{
    ev_value *v = &parts[i];
    ps_pos ppos = c->u.concat.ppos[i];
    uint32_t first;
    if (i == 0) {
        first = c->u.concat.force_string ? EV_STRING : v->type;
        if (first == EV_INT || first == EV_FLOAT)
            return;
    } else {
        first = parts[0].type == EV_INT || parts[0].type == EV_FLOAT ? parts[0].type : parts[0].aux;
    }
    if (first == EV_INT || first == EV_FLOAT) {
        ev_value *acc = &parts[0];
        if (acc->type == EV_INT) {
            if (v->type == EV_INT) {
                int64_t r;
                if (__builtin_add_overflow(acc->u.i, v->u.i, &r))
                    ev_error(S, EV_ERR_EVAL, ppos, "integer overflow in adding %" PRId64 " + %" PRId64, acc->u.i,
                             v->u.i);
                acc->u.i = r;
            } else if (v->type == EV_FLOAT) {
                *acc = ev_mk_float((double)acc->u.i + v->u.f);
            } else {
                ev_error(S, EV_ERR_EVAL, ppos, "cannot add %s to an integer", ev_type_name(v));
            }
        } else {
            if (v->type == EV_INT)
                acc->u.f += (double)v->u.i;
            else if (v->type == EV_FLOAT)
                acc->u.f += v->u.f;
            else
                ev_error(S, EV_ERR_EVAL, ppos, "cannot add %s to a float", ev_type_name(v));
        }
        return;
    }
    bool keep = v->type == EV_STRING || (first == EV_PATH && v->type == EV_PATH);
    if (!keep) {
        ut_buf b = UT_BUF_INIT;
        ev_ctxset ctx = {0};
        ps_pos saved = S->errctx_pos;
        S->errctx_pos = ppos;
        ev_coerce_to_string(S, v, ppos, first == EV_STRING ? EV_COERCE_COPY_TO_STORE : 0, &b, &ctx,
                            "while evaluating a path segment");
        S->errctx_pos = saved;
        ev_context *cx = ev_ctxset_finish(S, &ctx);
        ev_value r = ev_mk_string(S, b.data ? b.data : "", b.len, cx);
        ev_ctxset_free(&ctx);
        ut_buf_free(&b);
        if (i == 0 && first == EV_PATH)
            r.type = EV_PATH;
        *v = r;
    }
    if (i == 0)
        v->aux = first;
}

static void concat_end(ev_state *S, const ev_code *c, ev_value *parts, uint32_t n)
{
    if (parts[0].type == EV_INT || parts[0].type == EV_FLOAT) {
        parts[0].aux = 0;
        return;
    }
    bool path = parts[0].aux == EV_PATH;
    size_t len = 0;
    bool has_ctx = false;
    for (uint32_t i = 0; i < n; i++) {
        len += parts[i].u.s->len;
        has_ctx |= parts[i].type == EV_STRING && parts[i].u.s->ctx != NULL;
    }
    if (path) {
        if (has_ctx)
            ev_error(S, EV_ERR_EVAL, c->pos, "a string that refers to a store path cannot be appended to a path");
        ut_buf b = UT_BUF_INIT;
        for (uint32_t i = 0; i < n; i++)
            ut_buf_append(&b, parts[i].u.s->s, parts[i].u.s->len);
        char *p = ev_canon_path(b.data ? b.data : "", b.len);
        ut_buf_free(&b);
        parts[0] = ev_mk_path(S, p, strlen(p));
        free(p);
        return;
    }
    if (n == 1) {
        parts[0].aux = 0;
        return;
    }
    ev_context *cx = NULL;
    if (has_ctx) {
        ev_ctxset ctx = {0};
        for (uint32_t i = 0; i < n; i++)
            if (parts[i].type == EV_STRING && parts[i].u.s->ctx)
                ev_ctxset_add_ctx(&ctx, parts[i].u.s->ctx);
        cx = ev_ctxset_finish(S, &ctx);
        ev_ctxset_free(&ctx);
    }
    ev_string *s = ev_string_alloc(S, len);
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(s->s + at, parts[i].u.s->s, parts[i].u.s->len);
        at += parts[i].u.s->len;
    }
    s->ctx = cx;
    ev_value_put(&parts[0], ev_mk_string_obj(s));
}

static void assert_failed(ev_state *S, const ev_code *c, ev_env *env)
{
    if (c->u.ops.a->op == C_EQ) {
        /* explain which part differs, as Nix does */
        ev_trace_push_fast(S, c->pos, "while evaluating the condition of the assertion '%s'",
                           c->u.ops.c->u.k.u.s->s);
        ev_value *lr = ev_stack_push(S, 2);
        ev_eval(S, c->u.ops.a->u.ops.a, env, &lr[0]);
        ev_eval(S, c->u.ops.a->u.ops.b, env, &lr[1]);
        extern void ev_assert_equal(ev_state * S, ev_value * a, ev_value * b, ps_pos pos);
        ev_assert_equal(S, &lr[0], &lr[1], c->u.ops.a->pos);
        S->ntraces--;
    }
    ev_error(S, EV_ERR_ASSERT, c->pos, "assertion '%s' failed", c->u.ops.c->u.k.u.s->s);
}

void ev_pos_value(ev_state *S, ps_pos p, ev_value *out)
{
    if (!p.src) {
        *out = ev_mk_null();
        return;
    }
    ev_attrs *a = ev_attrs_new(S, 3);
    const char *file = p.src->origin == PS_ORIGIN_FILE ? p.src->path
                       : p.src->origin == PS_ORIGIN_STDIN ? "«stdin»" : "«string»";
    ev_attrs_add(a, S->s_file, ev_mk_cstring(S, file), 0);
    ev_attrs_add(a, S->s_line, ev_mk_int(p.line), 0);
    ev_attrs_add(a, S->s_column, ev_mk_int(p.col), 0);
    ev_attrs_finish(a);
    *out = ev_mk_attrs(a);
}

/* The attribute a selection `v.a.b` (v a variable, the names static)
 * reaches while v and the sets on the path are values already; NULL when
 * something would have to be forced first, or a name is missing. */
static inline ev_attr *sel_fast_find(const ev_code *sc, ev_env *env)
{
    const ev_code *vc = sc->u.sel.e;
    const ev_value *v = &env_up(env, vc->u.var.level)->v[vc->u.var.index];
    for (uint32_t i = 0;; i++) {
        if (v->type == EV_THUNK) {
            if (EV_TH_STATE(v->u.t) != EV_TH_DONE)
                return NULL;
            v = &v->u.t->u.v;
        }
        if (v->type != EV_ATTRS)
            return NULL;
        ev_cpath *p = &sc->u.sel.path[i];
        ev_attr *a = ev_attrs_find_hint(v->u.a, p->name, &p->hint);
        if (!a || i + 1 == sc->u.sel.n)
            return a;
        v = &a->value;
    }
}

/* Runs code c in env until it returns; the value (WHNF) goes to *out. */
void ev_eval(ev_state *S, const ev_code *c, ev_env *env, ev_value *out)
{
    check_cstack(S, c->pos);
    size_t stop = S->nframes;
    ev_vframe *F = push_frame(S, c->pos);
    F->kind = FR_STOP;
    F->env = env;
    F->base = S->sp;
    F->slot = out;
    const ev_ins *pc = unit_of(S, c);
    ev_value *sp = S->sp;
    if (S->stack_end - sp < EV_VM_STACK_MARGIN)
        stack_overflow(S, c->pos);
    /* the call in progress: function slot, arguments left, position */
    ev_value *k_fn = NULL, *k_args = NULL;
    uint32_t k_n = 0;
    ps_pos k_pos = {0};
    /* sp is kept in S->sp whenever something that may allocate, raise or
     * re-enter runs; SYNC before, RELOAD after */
#define SYNC() (S->sp = sp)
#define RELOAD() (sp = S->sp)
#define CODE(i) ((const ev_code *)(i)->p)
    for (;;) {
        const ev_ins *I = pc++;
        switch ((ev_iop)I->op) {
        case I_CONST:
            *sp++ = CODE(I)->u.k;
            break;
        case I_VAR: {
            ev_value *v = &env_up(F->env, I->x)->v[I->n];
            if (v->type == EV_THUNK && EV_TH_STATE(v->u.t) == EV_TH_DONE) {
                *sp++ = v->u.t->u.v;
                break;
            }
            *sp++ = *v;
            goto force_top;
        }
        case I_VAR_DEEP: {
            const ev_code *vc = CODE(I);
            ev_value *v = &env_up(F->env, vc->u.var.level)->v[vc->u.var.index];
            if (v->type == EV_THUNK && EV_TH_STATE(v->u.t) == EV_TH_DONE) {
                *sp++ = v->u.t->u.v;
                break;
            }
            *sp++ = *v;
            goto force_top;
        }
        case I_ARITH_LEAVES: {
            const ev_code *pc2 = CODE(I);
            const ev_value *x = leaf_int(pc2->u.prim.args[0], F->env), *y;
            if (!x || !(y = leaf_int(pc2->u.prim.args[1], F->env)) || S->call_depth > S->max_call_depth)
                break;   /* over the depth limit the builtin's call raises Nix's error */
            int64_t r;
            if (pc2->fast == EV_FAST_LT) {
                *sp++ = ev_mk_bool(x->u.i < y->u.i);
            } else {
                if (pc2->fast == EV_FAST_SUB ? __builtin_sub_overflow(x->u.i, y->u.i, &r)
                                             : __builtin_mul_overflow(x->u.i, y->u.i, &r))
                    break;   /* the builtin raises Nix's error */
                *sp++ = ev_mk_int(r);
            }
            pc = I + I->n;
            break;
        }
        case I_VAR_OP: {
            ev_value *v = &env_up(F->env, I->x)->v[I->n];
            if (v->type == EV_THUNK) {
                if (EV_TH_STATE(v->u.t) == EV_TH_DONE) {
                    *sp++ = v->u.t->u.v;
                    pc++;
                    break;
                }
            } else if (v->type != EV_APPI && v->type != EV_LREF) {
                *sp++ = *v;
                pc++;
                break;
            }
            ev_trace_push_fast(S, CODE(I)->pos, trace_msgs[I->a], NULL);
            *sp++ = *v;
            goto force_top;
        }
        case I_WITHVAR: {
            SYNC();
            ev_attr *a = with_find(S, CODE(I), F->env);
            *sp++ = a->value;
            goto force_top;
        }
        case I_FORCE:
        force_top: {
            ev_value *v = sp - 1;
            if (v->type == EV_THUNK) {
                ev_thunk *t = v->u.t;
                if (EV_TH_STATE(t) == EV_TH_DONE) {
                    *v = t->u.v;
                    break;
                }
                ps_pos pos = CODE(I)->pos;
                SYNC();
                if (t->h.flags & EV_TH_BH)
                    infrec(S, t, pos);
                if (EV_TH_STATE(t) == EV_TH_APP && t->u.app.fn->kind == EV_OBJ_LAMBDA &&
                    !((ev_lambda *)t->u.app.fn)->code->has_formals) {
                    /* `f x` made lazy by a builtin (map, genList elements
                     * passed on): the call runs in this VM, as
                     * ev_force_slow and ev_call would do it */
                    ev_lambda *fl = (ev_lambda *)t->u.app.fn;
                    const ev_clambda *cl = fl->code;
                    ev_value fnv = ev_obj_value(&fl->h), a = t->u.app.arg, r;
                    if (call_ahead(S, &fnv, &a, &r)) {
                        t->u.v = r;
                        t->h.flags = EV_TH_DONE;
                        ev_gc_write_obj(S, &t->h);
                        *v = r;
                        break;
                    }
                    check_cstack(S, pos);
                    t->h.flags |= EV_TH_BH;
                    push_forcing(S, t);
                    ev_gc_safepoint(S);
                    ev_check_depth(S, pos);
                    S->call_depth++;
                    ev_value *root;
                    ev_env *e = bind_lambda(S, cl, fl->env, &t->u.app.arg, pos, &root);
                    sp = S->sp;
                    size_t nt = push_call_frames(S, cl, pos, false);
                    if (S->stack_end - sp < EV_VM_STACK_MARGIN)
                        stack_overflow(S, pos);
                    F->pc = pc;
                    F = push_frame(S, pos);
                    F->kind = FR_THUNKCALL;
                    F->env = e;
                    F->base = root;
                    F->slot = v;
                    F->thunk = t;
                    F->ntraces = nt;
                    pc = unit_of(S, cl->body);
                    break;
                }
                if (EV_TH_STATE(t) != EV_TH_CODE) {
                    ev_force_slow(S, v, pos);
                    break;
                }
                t->h.flags |= EV_TH_BH;
                push_forcing(S, t);
                ev_gc_safepoint(S);
                if (S->stack_end - sp < EV_VM_STACK_MARGIN)
                    stack_overflow(S, pos);
                F->pc = pc;
                F = push_frame(S, pos);
                F->kind = FR_THUNK;
                F->env = t->u.c.env;
                F->base = sp;
                F->slot = v;
                F->thunk = t;
                pc = unit_of(S, t->u.c.code);
            } else if (v->type == EV_APPI || v->type == EV_LREF) {
                SYNC();
                ev_force_slow(S, v, CODE(I)->pos);
            }
            break;
        }
        case I_TRACE: {
            const ev_code *tc = CODE(I);
            ev_trace_push_fast(S, tc->pos, trace_msgs[I->a], NULL);
            break;
        }
        case I_TRACE_POP:
            S->ntraces--;
            break;
        case I_SEL_BEGIN: {
            const ev_code *sc = CODE(I);
            ev_trace_push_fast(S, sc->pos, sc->u.sel.text ? "while evaluating the attribute '%s'" : NULL,
                               sc->u.sel.text);
            ev_trace_push_fast(S, (ps_pos){0}, NULL, NULL);
            break;
        }
        case I_SEL_END:
            S->ntraces -= 2;
            break;
        case I_SEL_FAST: {
            const ev_code *sc = CODE(I);
            ev_attr *a = sel_fast_find(sc, F->env);
            if (!a)
                break;      /* the general sequence, which follows */
            const ev_value *v = &a->value;
            if (v->type == EV_THUNK) {
                if (EV_TH_STATE(v->u.t) == EV_TH_DONE) {
                    *sp++ = v->u.t->u.v;
                    pc = I + I->n;
                    break;
                }
            } else if (v->type != EV_APPI && v->type != EV_LREF) {
                *sp++ = *v;
                pc = I + I->n;
                break;
            }
            if (sc->u.sel.n != 1)
                break;
            /* one name, found, its value to force: the frames I_SEL_BEGIN
             * and I_SEL_STEP leave, and on to the force */
            ev_trace_push_fast(S, sc->pos, sc->u.sel.text ? "while evaluating the attribute '%s'" : NULL,
                               sc->u.sel.text);
            ev_trace_push_fast(S, (ps_pos){0}, NULL, NULL);
            if (a->pos && sc->u.sel.text) {
                ev_trace *t2 = &S->traces[S->ntraces - 1];
                t2->fmt = def_frame;
                t2->iarg = (long)(((unsigned long)sc->u.sel.path[0].name << 32) | a->pos);
            }
            *sp++ = *v;
            pc = I + I->x;
            break;
        }
        case I_SEL_STEP: {
            const ev_code *sc = CODE(I);
            const ev_cpath *p = &sc->u.sel.path[I->x];
            ps_sym name = p->name;
            SYNC();
            if (I->a) {
                ev_trace_push_fast(S, p->expr->pos, "while evaluating an attribute name", NULL);
                ev_string *ns = ev_force_string_noctx(S, sp - 1, p->expr->pos, NULL);
                name = ps_intern(S->syms, ns->s, ns->len);
                S->ntraces--;
                sp--;
                SYNC();
            }
            ev_value *v = sp - 1;
            ev_attr *a = NULL;
            if (v->type != EV_ATTRS) {
                if (!sc->u.sel.def)
                    ev_error_type(S, sc->pos, "a set", v, "while selecting an attribute");
            } else {
                a = I->a ? ev_attrs_find(v->u.a, name) : ev_attrs_find_hint(v->u.a, name, &((ev_cpath *)p)->hint);
                if (!a && !sc->u.sel.def)
                    select_missing(S, ev_attrs_flat(S, v->u.a), name);
            }
            if (!a) {
                sp = v;
                pc = I + I->n;
                break;
            }
            if (a->pos && S->traces[S->ntraces - 2].fmt) {
                ev_trace *t2 = &S->traces[S->ntraces - 1];
                t2->fmt = def_frame;
                t2->arg = NULL;
                t2->iarg = (long)(((unsigned long)name << 32) | a->pos);
            }
            *v = a->value;
            break;
        }
        case I_HAS_STEP: {
            const ev_code *hc = CODE(I);
            ps_sym name = hc->u.sel.path[I->x].name;
            SYNC();
            if (I->a) {
                bool is_null;
                name = dyn_name(S, sp - 1, hc->u.sel.path[I->x].expr, &is_null);
                sp--;
                SYNC();
            }
            ev_value *v = sp - 1;
            ev_attr *a = v->type != EV_ATTRS ? NULL
                         : I->a    ? ev_attrs_find(v->u.a, name)
                                   : ev_attrs_find_hint(v->u.a, name, &((ev_cpath *)&hc->u.sel.path[I->x])->hint);
            if (!a) {
                *v = ev_mk_bool(false);
                pc = I + I->n;
                break;
            }
            *v = a->value;
            break;
        }
        case I_HAS_TRUE:
            sp[-1] = ev_mk_bool(true);
            break;
        case I_ATTRS: {
            ev_value *out1 = sp++;
            out1->type = EV_NULL;
            SYNC();
            build_attrs(S, CODE(I), F->env, out1, NULL);
            RELOAD();
            break;
        }
        case I_LIST: {
            const ev_code *lc = CODE(I);
            uint32_t n = lc->u.list.n;
            SYNC();
            ev_list *l = list_new_filled(S, n);
            for (uint32_t i = 0; i < n; i++)
                l->v[i] = mkval(S, lc->u.list.e[i], F->env, UINT32_MAX);
            *sp++ = ev_mk_list(l);
            break;
        }
        case I_MKVAL: {
            if (I->a == MK_VAR) {
                *sp++ = env_up(F->env, I->x)->v[I->n];
                break;
            }
            const ev_code *mc = CODE(I);
            SYNC();
            if (I->a == MK_THUNK) {
                *sp++ = (ev_value){.type = EV_THUNK, .u.t = ev_thunk_new(S, mc, F->env)};
                break;
            }
            if (mc->spec && on_vm_stack(S, F->env)) {
                if (!ev_spec_eval(mc, F->env, UINT32_MAX, sp)) {
                    /* not computable: the thunk, on a heap environment */
                    F->env = promote_env(S, F->env);
                    *sp = (ev_value){.type = EV_THUNK, .u.t = ev_thunk_new(S, mc, F->env)};
                }
                sp++;
                break;
            }
            *sp = mkval(S, mc, F->env, UINT32_MAX);
            sp++;
            break;
        }
        case I_LAMBDA:
            SYNC();
            *sp = mkval(S, CODE(I), F->env, UINT32_MAX);
            sp++;
            break;
        case I_CALL: {
            const ev_code *cc = CODE(I);
            k_n = cc->u.call.nargs;
            k_fn = sp - k_n - 1;
            k_args = k_fn + 1;
            k_pos = cc->pos;
            goto do_call;
        }
        case I_PRIM_ENTER: {
            const ev_code *pc2 = CODE(I);
            SYNC();
            ev_check_depth(S, pc2->pos);
            S->call_depth++;
            ev_trace_push_fast(S, pc2->pos, builtin_frame, pc2->u.prim.op->name);
            break;
        }
        case I_PRIM_CALL: {
            const ev_code *pc2 = CODE(I);
            if (pc2->fast && sp[-2].type == EV_INT && sp[-1].type == EV_INT) {
                /* the builtin's own result, without its generic checks; on
                 * overflow it runs after all, to raise Nix's error */
                int64_t x = sp[-2].u.i, y = sp[-1].u.i, r = 0;
                bool ok = true;
                if (pc2->fast == EV_FAST_LT)
                    sp[-2] = ev_mk_bool(x < y);
                else if (pc2->fast == EV_FAST_SUB)
                    ok = !__builtin_sub_overflow(x, y, &r);
                else
                    ok = !__builtin_mul_overflow(x, y, &r);
                if (ok) {
                    if (pc2->fast != EV_FAST_LT)
                        sp[-2] = ev_mk_int(r);
                    S->ntraces--;
                    S->call_depth--;
                    sp--;
                    break;
                }
            }
            ev_primop *op = pc2->u.prim.op;
            ev_value *slots = sp - op->arity;
            sp->type = EV_NULL;
            sp++;
            SYNC();
            ev_gc_safepoint(S);
            op->fn(S, slots, &slots[op->arity], pc2->pos);
            S->ntraces--;
            S->call_depth--;
            slots[0] = slots[op->arity];
            sp = slots + 1;
            break;
        }
        case I_LET: {
            ev_env *ne;
            SYNC();
            ev_value tmp;
            build_attrs(S, CODE(I), F->env, &tmp, &ne);
            RELOAD();       /* one slot: the new environment's root */
            F->env = ne;
            break;
        }
        case I_WITH: {
            const ev_code *wc = CODE(I);
            SYNC();
            ev_env *we = ev_env_new(S, F->env, 1);
            we->h.flags = EV_ENV_WITH;
            sp->type = EV_ENV;
            sp->u.env = we;
            sp++;
            SYNC();
            we->v[0] = mkval(S, wc->u.with.attrs, F->env, UINT32_MAX);
            F->env = we;
            break;
        }
        case I_ENV_POP:
            sp[-2] = sp[-1];
            sp--;
            F->env = F->env->up;
            break;
        case I_JMP:
            pc = I + I->n;
            break;
        case I_IF: {
            if (sp[-1].type == EV_BOOL) {
                sp--;
                if (!sp->u.b)
                    pc = I + I->n;
                break;
            }
            SYNC();
            bool b = ev_force_bool(S, sp - 1, CODE(I)->pos, "while evaluating a branch condition");
            sp--;
            if (!b)
                pc = I + I->n;
            break;
        }
        case I_ASSERT: {
            SYNC();
            bool b = ev_force_bool(S, sp - 1, CODE(I)->pos, "while evaluating the condition of the assertion");
            if (!b)
                assert_failed(S, CODE(I), F->env);
            sp--;
            break;
        }
        case I_NOT:
            sp[-1] = ev_mk_bool(!sp[-1].u.b);    /* checked by I_BOOLCHK */
            break;
        case I_EQ: {
            if (sp[-2].type == sp[-1].type && sp[-1].type <= EV_INT) {
                /* null, bool, int: compare payloads */
                bool eq = sp[-1].type == EV_NULL ||
                          (sp[-1].type == EV_BOOL ? sp[-2].u.b == sp[-1].u.b : sp[-2].u.i == sp[-1].u.i);
                sp--;
                sp[-1] = ev_mk_bool(I->a ? eq : !eq);
                break;
            }
            SYNC();
            bool eq = ev_equal(S, sp - 2, sp - 1, CODE(I)->pos, "while testing two values for equality");
            sp--;
            sp[-1] = ev_mk_bool(I->a ? eq : !eq);
            break;
        }
        case I_AND1:
        case I_OR1:
        case I_IMPL1: {
            bool b = sp[-1].u.b;    /* checked by I_BOOLCHK */
            if (I->op == I_AND1 && !b) {
                pc = I + I->n;
            } else if (I->op == I_OR1 && b) {
                pc = I + I->n;
            } else if (I->op == I_IMPL1 && !b) {
                sp[-1] = ev_mk_bool(true);
                pc = I + I->n;
            } else {
                sp--;
            }
            break;
        }
        case I_BOOLCHK:
            if (sp[-1].type == EV_BOOL)
                break;
            SYNC();
            ev_force_bool(S, sp - 1, CODE(I)->pos, NULL);
            break;
        case I_UPDATE:
            SYNC();
            op_update(S, CODE(I), sp - 2);
            sp--;
            break;
        case I_CONCAT_LISTS:
            SYNC();
            op_concat_lists(S, CODE(I), sp - 2);
            sp--;
            break;
        case I_CONCAT_PART:
            if (I->x == 0 && !CODE(I)->u.concat.force_string && (sp[-1].type == EV_INT || sp[-1].type == EV_FLOAT))
                break;
            if (I->x > 0 && sp[-1].type == EV_INT && sp[-1 - I->x].type == EV_INT) {
                int64_t r;
                if (!__builtin_add_overflow(sp[-1 - I->x].u.i, sp[-1].u.i, &r)) {
                    sp[-1 - I->x].u.i = r;
                    break;
                }
            }
            SYNC();
            concat_part(S, CODE(I), I->x, sp - 1 - I->x);
            break;
        case I_CONCAT_END: {
            const ev_code *cc = CODE(I);
            uint32_t n = cc->u.concat.n;
            ev_value *parts = sp - n;
            if (parts[0].type == EV_INT || parts[0].type == EV_FLOAT) {
                parts[0].aux = 0;
                sp = parts + 1;
                break;
            }
            SYNC();
            concat_end(S, cc, parts, n);
            sp = parts + 1;
            break;
        }
        case I_CURPOS:
            SYNC();
            ev_pos_value(S, CODE(I)->pos, sp);
            sp++;
            break;
        case I_RET: {
            ev_value r = ev_value_get(&sp[-1]);
            switch (F->kind) {
            case FR_STOP:
                *F->slot = r;
                ev_gc_write(S, F->slot);
                S->sp = F->base;
                S->nframes = stop;
                return;
            case FR_THUNKCALL:
                S->ntraces = F->ntraces;
                S->call_depth--;
                /* fall through */
            case FR_THUNK: {
                ev_thunk *t = F->thunk;
                S->nforcing--;
                t->u.v = r;
                t->h.flags = EV_TH_DONE;
                ev_gc_write_obj(S, &t->h);
                *F->slot = r;
                sp = F->base;
                S->nframes--;
                F = &S->frames[S->nframes - 1];
                pc = F->pc;
                break;
            }
            case FR_CALL:
                k_fn = F->slot;
                k_args = F->args;
                k_n = F->nargs;
                S->ntraces = F->ntraces;
                S->call_depth--;
                *k_fn = r;
                S->nframes--;
                F = &S->frames[S->nframes - 1];
                pc = F->pc;
                if (k_n) {
                    /* the rest of a multi-argument call; pc follows its I_CALL */
                    sp = k_args + k_n;
                    k_pos = CODE(pc - 1)->pos;
                    goto do_call;
                }
                sp = k_fn + 1;
                break;
            }
            break;
        }
        default:
            /* every opcode is handled above: no range check on dispatch */
            __builtin_unreachable();
        }
        continue;

    do_call:
        while (k_n > 0) {
            SYNC();
            ev_force(S, k_fn, k_pos);
            ev_check_depth(S, k_pos);
            S->call_depth++;
            ev_gc_safepoint(S);
            if (k_fn->type == EV_LAMBDA) {
                const ev_clambda *cl = k_fn->u.fn->code;
                ev_env *penv = k_fn->u.fn->env;
                ev_value *root;
                /* `a: b: ...` applied to several arguments: bind the outer
                 * lambda and go straight on with the inner one, without
                 * allocating the intermediate closure */
                bool chain = k_n > 1 && cl->curried && chain_stackable(S, cl, k_n);
                while (k_n > 1 && cl->curried) {
                    ev_check_depth(S, k_pos);
                    ev_env *e = bind_lambda_in(S, cl, penv, k_args, k_pos, &root, chain);
                    if (!chain) {
                        k_fn->type = EV_ENV;
                        k_fn->u.env = e;
                        S->sp = sp;
                    }   /* else k_fn, still the function, keeps penv alive */
                    cl = cl->body->u.lambda;
                    penv = e;
                    k_args++;
                    k_n--;
                }
                ev_env *e = chain ? bind_lambda_in(S, cl, penv, k_args, k_pos, &root, true)
                                  : bind_lambda(S, cl, penv, k_args, k_pos, &root);
                size_t nt = push_call_frames(S, cl, k_pos, true);
                if (S->stack_end - root < EV_VM_STACK_MARGIN)
                    stack_overflow(S, k_pos);
                F->pc = pc;
                F = push_frame(S, k_pos);
                F->kind = FR_CALL;
                F->env = e;
                F->slot = k_fn;
                F->args = k_args + 1;
                F->nargs = k_n - 1;
                F->ntraces = nt;
                /* the callee's stack starts above the environment (or its root) */
                (void)root;
                sp = F->base = S->sp;
                pc = unit_of(S, cl->body);
                break;
            }
            ev_value res;
            uint32_t used;
            if (k_fn->type == EV_PRIMOP && k_n >= k_fn->u.op->arity) {
                ev_primop *op = k_fn->u.op;
                ev_value *o = ev_push1(S);
                call_primop(S, op, k_args, o, k_pos);
                res = *o;
                used = op->arity;
            } else if (k_fn->type == EV_PRIMOP_APP && k_n >= k_fn->u.papp->op->arity - k_fn->u.papp->h.n) {
                ev_papp *pp = k_fn->u.papp;
                ev_primop *op = pp->op;
                uint32_t have = pp->h.n;
                used = op->arity - have;
                ev_value *all = ev_stack_push(S, op->arity + 1);
                memcpy(all, pp->args, have * sizeof(ev_value));
                memcpy(all + have, k_args, used * sizeof(ev_value));
                call_primop(S, op, all, &all[op->arity], k_pos);
                res = all[op->arity];
            } else {
                /* partial applications, functors, things that are not functions */
                S->call_depth--;
                ev_value *o = ev_push1(S);
                call_at(S, k_fn, k_n, k_args, o, k_pos, true);
                res = *o;
                used = k_n;
                S->call_depth++;
            }
            S->call_depth--;
            *k_fn = res;
            k_args += used;
            k_n -= used;
        }
        if (k_n == 0)
            sp = k_fn + 1;
    }
#undef SYNC
#undef RELOAD
#undef CODE
}

void ev_eval_code_top(ev_state *S, ev_code *c, ev_value *out)
{
    ev_eval(S, c, S->base_env, out);
}
