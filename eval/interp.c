/* The interpreter: evaluates compiled code against heap environments,
 * forces thunks (with blackholing), calls functions, raises and catches
 * errors. Recursion in C is bounded twice: by Nix's max-call-depth (every
 * function call counts, as in Nix, so `(x: x x) (x: x x)` ends the same
 * way) and by a guard on the C stack itself for deep thunk chains. */
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
    free(S->err_msg);
    S->err_msg = NULL;
    for (size_t i = 0; i < S->nerr_frames; i++)
        free(S->err_frames[i].msg);
    S->nerr_frames = 0;
}

static void add_frame(ev_state *S, ps_pos pos, char *msg)
{
    if (S->nerr_frames == S->caperr_frames) {
        S->caperr_frames = S->caperr_frames ? S->caperr_frames * 2 : 64;
        S->err_frames = ut_xrealloc(S->err_frames, S->caperr_frames * sizeof *S->err_frames);
    }
    S->err_frames[S->nerr_frames].pos = pos;
    S->err_frames[S->nerr_frames].msg = msg;
    S->nerr_frames++;
}

UT_NORETURN void ev_rethrow(ev_state *S)
{
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

UT_NORETURN void ev_error_owned(ev_state *S, ev_errkind kind, ps_pos pos, char *msg)
{
    /* Errors a builtin raises itself carry no position in Nix: the
     * "while calling the 'f' builtin" frame shows where. */
    for (size_t i = S->ntraces; i > 0; i--) {
        const ev_trace *t = &S->traces[i - 1];
        if (t->fmt == builtin_frame) {
            pos = (ps_pos){0};
            break;
        }
        if (t->pos.src)
            break;
    }
    clear_error(S);
    S->err_kind = kind;
    S->err_msg = msg;
    S->err_preformatted = false;
    S->err_pos = pos;
    /* Frames are formatted now only up to the catcher's depth: a caught
     * error (tryEval) never needs its frames. */
    size_t from = S->try_top ? S->try_top->trace_depth : 0;
    if (S->try_top && S->try_top->prev == NULL)
        from = 0;
    if (!S->try_top || S->try_top->prev == NULL) {
        for (size_t i = from; i <= S->ntraces; i++) {
            if (i == S->infrec_at && kind == EV_ERR_INFREC)
                add_frame(S, (ps_pos){0}, ut_xstrdup("entering the infinite recursion"));
            if (i == S->ntraces)
                break;
            ev_trace *t = &S->traces[i];
            ut_buf b = UT_BUF_INIT;
            if (t->arg)
                ut_buf_printf(&b, t->fmt, t->arg);
            else
                ut_buf_printf(&b, t->fmt, t->iarg);
            add_frame(S, t->pos, ut_buf_steal(&b, NULL));
        }
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
    add_frame(S, pos, ut_xstrdup(msg));
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
        if (*p)
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

void ev_error_format(ev_state *S, ut_buf *out, bool show_trace)
{
    const char *msg = S->err_msg ? S->err_msg : "unknown error";
    /* hint lines ("Did you mean ...") follow the position in Nix's output */
    const char *hint = strstr(msg, "\n\x01");
    size_t mlen = hint ? (size_t)(hint - msg) : strlen(msg);
    char *m = ut_xstrndup(msg, mlen);
    size_t nframes = show_trace ? S->nerr_frames : 0;
    if (S->err_preformatted) {
        ut_buf_puts(out, "error: ");
        ut_buf_puts(out, m);
        ut_buf_putc(out, '\n');
        free(m);
        return;
    }
    if (nframes == 0) {
        ut_buf_puts(out, "error: ");
        indent_lines(out, m, "       ");
        ut_buf_putc(out, '\n');
    } else {
        ut_buf_puts(out, "error:\n");
        /* a frame already shown is counted, not repeated, as Nix does */
        ut_hmap *seen = ut_hmap_new();
        size_t skipped = 0;
        for (size_t i = 0; i <= nframes; i++) {
            if (i == nframes) {
                if (skipped)
                    ut_buf_printf(out, "       (%zu duplicate frames omitted)\n\n", skipped);
                break;
            }
            ev_frame_msg *f = &S->err_frames[i];
            ut_buf key = UT_BUF_INIT;
            ut_buf_printf(&key, "%p:%u:%u:%s", (const void *)f->pos.src, f->pos.line, f->pos.col, f->msg);
            if (ut_hmap_has(seen, key.data, key.len)) {
                ut_buf_free(&key);
                skipped++;
                continue;
            }
            ut_hmap_put(seen, key.data, key.len, (void *)1);
            ut_buf_free(&key);
            if (skipped) {
                ut_buf_printf(out, "       (%zu duplicate frames omitted)\n\n", skipped);
                skipped = 0;
            }
            ut_buf_puts(out, "       … ");
            indent_lines(out, f->msg, "         ");
            ut_buf_putc(out, '\n');
            if (f->pos.src) {
                snippet(out, f->pos, "  ");
            }
            ut_buf_putc(out, '\n');
        }
        ut_hmap_free(seen);
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
    t->trace_depth = S->ntraces;
    t->call_depth = S->call_depth;
    t->nblackholes = S->nforcing;
    t->nforcing_slots = S->nforcing_slots;
    t->errctx_pos = S->errctx_pos;
    t->saved_blackholes = NULL;
    S->try_top = t;
}

void ev_try_end(ev_state *S, ev_try *t)
{
    /* thunks that were being forced when the error passed are no longer
     * under evaluation: a later force must try again */
    for (size_t i = t->nblackholes; i < S->nforcing; i++)
        S->forcing[i]->h.flags &= (uint16_t)~EV_TH_BH;
    S->nforcing = t->nblackholes;
    for (size_t i = t->nforcing_slots; i < S->nforcing_slots; i++)
        if (S->forcing_slots[i]->type == EV_APPI)
            S->forcing_slots[i]->pad[0] = 0;
        else if (S->forcing_slots[i]->type == EV_THUNK)
            S->forcing_slots[i]->u.t->h.flags &= (uint16_t)~EV_TH_BH;
    S->nforcing_slots = t->nforcing_slots;
    S->errctx_pos = t->errctx_pos;
    S->try_top = t->prev;
    ev_stack_reset(S, t->stack_mark);
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
        ev_lambda *l = ev_gc_alloc(S, EV_OBJ_LAMBDA, sizeof(ev_lambda));
        l->code = c->u.lambda;
        l->env = env;
        ev_value v = {0};
        v.type = EV_LAMBDA;
        v.u.fn = l;
        return v;
    }
    default:
        break;
    }
    ev_value v = {0};
    v.type = EV_THUNK;
    v.u.t = ev_thunk_new(S, c, env);
    return v;
}

ev_value ev_mk_app_thunk(ev_state *S, const ev_value *fnp, const ev_value *argp)
{
    ev_value fnv = ev_share(S, (ev_value *)fnp), argv = ev_share(S, (ev_value *)argp);
    const ev_value *fn = &fnv, *arg = &argv;
    ev_value v = {0};
    ev_thunk *t = ev_gc_alloc(S, EV_OBJ_THUNK, sizeof(ev_thunk));
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

ev_value ev_share_slow(ev_state *S, ev_value *slot)
{
    ev_thunk *t = ev_gc_alloc(S, EV_OBJ_THUNK, sizeof(ev_thunk));
    t->h.flags = EV_TH_APP | (slot->pad[0] ? EV_TH_BH : 0);
    t->u.app.fn = slot->u.obj;
    t->u.app.arg = ev_mk_int((int64_t)slot->aux);
    slot->type = EV_THUNK;
    slot->pad[0] = 0;
    slot->aux = 0;
    slot->u.t = t;
    return *slot;
}

static void push_forcing_slot(ev_state *S, ev_value *v)
{
    if (S->nforcing_slots == S->capforcing_slots) {
        S->capforcing_slots = S->capforcing_slots ? S->capforcing_slots * 2 : 64;
        S->forcing_slots = ut_xrealloc(S->forcing_slots, S->capforcing_slots * sizeof *S->forcing_slots);
    }
    S->forcing_slots[S->nforcing_slots++] = v;
}

/* An inline `fn i` slot is evaluated in place; the slot itself carries the
 * blackhole mark while it is being computed. */
static void force_appi(ev_state *S, ev_value *v, ps_pos pos)
{
    if (v->pad[0]) {
        S->infrec_at = S->ntraces;
        ev_error(S, EV_ERR_INFREC, pos, "infinite recursion encountered");
    }
    check_cstack(S, pos);
    v->pad[0] = 1;
    push_forcing_slot(S, v);
    ev_value *fa = ev_stack_push(S, 3);
    fa[0] = ev_obj_value(v->u.obj);
    fa[1] = ev_mk_int((int64_t)v->aux);
    /* there is no call expression: Nix reports the function's position */
    ps_pos cpos = fa[0].type == EV_LAMBDA ? fa[0].u.fn->code->pos : pos;
    ev_call(S, &fa[0], 1, &fa[1], &fa[2], cpos);
    ev_force(S, &fa[2], pos);
    S->nforcing_slots--;
    if (v->type == EV_THUNK) {
        /* shared while being computed: complete that thunk too */
        ev_thunk *t = v->u.t;
        t->u.v = fa[2];
        t->h.flags = EV_TH_DONE;
    }
    *v = fa[2];
    S->sp = fa;
}

void ev_force_slow(ev_state *S, ev_value *v, ps_pos pos)
{
    if (v->type == EV_APPI) {
        force_appi(S, v, pos);
        return;
    }
    ev_thunk *t = v->u.t;
    if (EV_TH_STATE(t) == EV_TH_DONE) {
        *v = t->u.v;
        return;
    }
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
        ev_call(S, &fa[0], 1, &fa[1], tmp, pos);
        ev_force(S, tmp, pos);
    }
    S->nforcing--;
    t->u.v = *tmp;
    t->h.flags = EV_TH_DONE;
    *v = *tmp;
    S->sp = tmp;
}

/* ---- with -------------------------------------------------------------- */

static void lookup_with(ev_state *S, const ev_code *c, ev_env *env, ev_value *out)
{
    ev_env *e = env_up(env, c->u.wvar.level);
    for (;;) {
        ev_attrs *a = ev_force_attrs(S, &e->v[0], c->pos, NULL);
        ev_attr *f = ev_attrs_find(a, c->u.wvar.name);
        if (f) {
            ev_force(S, &f->value, c->pos);
            *out = f->value;
            return;
        }
        do
            e = e->up;
        while (e && !(e->h.flags & EV_ENV_WITH));
        if (!e)
            ev_error(S, EV_ERR_EVAL, c->pos, "undefined variable '%s'",
                     ps_sym_str(S->syms, c->u.wvar.name));
    }
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
        body = ev_env_new(S, env, n);
        root[0].type = EV_ENV;
        root[0].u.env = body;
    }
    if (c->u.attrs.ninh) {
        inh = ev_env_new(S, body, c->u.attrs.ninh);
        root[1].type = EV_ENV;
        root[1].u.env = inh;
        for (uint32_t i = 0; i < c->u.attrs.ninh; i++)
            inh->v[i] = mkval(S, c->u.attrs.inh[i], body, rec ? 0 : UINT32_MAX);
    }
    ev_attrs *set = NULL;
    if (!envout) {
        set = ev_attrs_new(S, n + c->u.attrs.ndyn);
        *out = ev_mk_attrs(set);
    }
    for (uint32_t i = 0; i < n; i++) {
        const ev_cattr *a = &c->u.attrs.attrs[i];
        ev_value v;
        switch (a->where) {
        case EV_AW_OUTER: v = mkval(S, a->value, env, UINT32_MAX); break;
        case EV_AW_INHFROM: v = mkval(S, a->value, inh, UINT32_MAX); break;
        default: v = mkval(S, a->value, body, rec ? i : UINT32_MAX); break;
        }
        if (rec)
            body->v[i] = v;
        if (set)
            ev_attrs_add(set, a->name, v, a->pos);
    }
    if (envout) {
        *envout = body;
        S->sp = root + 1;   /* keep the let env rooted for the body */
        return;
    }
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
                    if (c->u.attrs.attrs[i].name == o->a[k].name)
                        body->v[i] = o->a[k].value;
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

/* Binds arg to the lambda's parameters in a new environment (rooted on the
 * stack at *rootp). */
static ev_env *bind_lambda(ev_state *S, const ev_clambda *cl, ev_env *parent, ev_value *arg, ps_pos callpos,
                           ev_value **rootp)
{
    ev_env *env = ev_env_new(S, parent, cl->nslots);
    ev_value *root = ev_push1(S);
    root->type = EV_ENV;
    root->u.env = env;
    *rootp = root;
    if (!cl->has_formals) {
        env->v[0] = ev_share(S, arg);
    } else {
        uint32_t k = 0;
        if (cl->arg)
            env->v[k++] = ev_share(S, arg);
        ev_attrs *a = ev_force_attrs(S, arg, callpos, "while evaluating the value passed for the lambda argument");
        uint32_t used = 0;
        for (uint32_t i = 0; i < cl->nformals; i++) {
            const ev_cformal *f = &cl->formals[i];
            ev_attr *av = ev_attrs_find(a, f->name);
            if (av) {
                env->v[f->slot] = av->value;
                used++;
            } else if (f->def) {
                env->v[f->slot] = mkval(S, f->def, env, 0);
            } else {
                ev_trace_push_fast(S, callpos, "from call site", NULL);
                formals_error(S, cl, "without required", f->name, NULL);
            }
        }
        if (!cl->ellipsis && used != a->h.n) {
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
    return env;
}

static void call_lambda(ev_state *S, const ev_clambda *cl, ev_env *parent, ev_value *arg, ev_value *out,
                        ps_pos callpos)
{
    ev_value *root;
    ev_env *env = bind_lambda(S, cl, parent, arg, callpos, &root);
    ev_trace_push_fast(S, callpos, "from call site", NULL);
    if (cl->name)
        ev_trace_push_fast(S, cl->pos, "while calling '%s'", ps_sym_str(S->syms, cl->name));
    else
        ev_trace_push_fast(S, cl->pos, "while calling anonymous lambda", NULL);
    ev_eval(S, cl->body, env, out);
    S->ntraces -= 2;
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
            while (cl->body->op == C_LAMBDA && i + 1 < nargs) {
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
            call_lambda(S, cl, penv, &args[i], cur, pos);
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
            ev_call(S, &tmp[0], 2, &tmp[1], cur, pos);
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
    S->sp = cur;
}

void ev_eval(ev_state *S, const ev_code *c, ev_env *env, ev_value *out);
/* Evaluates an operand under a trace frame naming the operator, as Nix
 * does for every operator ("in the left operand of '&&'"). */
static inline void eval_operand(ev_state *S, const ev_code *c, ev_env *env, ev_value *out, const char *frame)
{
    ev_trace_push_fast(S, c->pos, frame, NULL);
    ev_eval(S, c, env, out);
    ev_force(S, out, c->pos);
    S->ntraces--;
}

/* ---- arithmetic helpers used by the evaluator ---------------------------- */

static void concat_strings(ev_state *S, const ev_code *c, ev_env *env, ev_value *out)
{
    uint32_t n = c->u.concat.n;
    ev_value *parts = ev_stack_push(S, n);
    ev_type first = EV_STRING;
    bool firstp = !c->u.concat.force_string;
    int64_t ni = 0;
    double nf = 0;
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    /* buffers are released through the scratch box if an error unwinds */
    for (uint32_t i = 0; i < n; i++) {
        ev_value *v = &parts[i];
        if (c->u.concat.force_string) {
            ev_eval(S, c->u.concat.parts[i], env, v);
            ev_force(S, v, c->u.concat.ppos[i]);
        } else {
            eval_operand(S, c->u.concat.parts[i], env, v, "in an operand of '+'");
        }
        if (firstp)
            first = (ev_type)v->type;
        if (first == EV_INT) {
            if (v->type == EV_INT) {
                int64_t r;
                if (__builtin_add_overflow(ni, v->u.i, &r))
                    ev_error(S, EV_ERR_EVAL, c->u.concat.ppos[i], "integer overflow in adding %" PRId64 " + %" PRId64,
                             ni, v->u.i);
                ni = r;
            } else if (v->type == EV_FLOAT) {
                first = EV_FLOAT;
                nf = (double)ni + v->u.f;
            } else {
                ev_error(S, EV_ERR_EVAL, c->u.concat.ppos[i], "cannot add %s to an integer", ev_type_name(v));
            }
        } else if (first == EV_FLOAT) {
            if (v->type == EV_INT)
                nf += (double)v->u.i;
            else if (v->type == EV_FLOAT)
                nf += v->u.f;
            else
                ev_error(S, EV_ERR_EVAL, c->u.concat.ppos[i], "cannot add %s to a float", ev_type_name(v));
        } else {
            ut_buf part = UT_BUF_INIT;
            ev_value *keep = ev_push1(S);   /* part buffer lives until the end */
            (void)keep;
            size_t before = b.len;
            ps_pos saved = S->errctx_pos;
            S->errctx_pos = c->u.concat.ppos[i];
            ev_coerce_to_string(S, v, c->u.concat.ppos[i],
                                first == EV_STRING ? EV_COERCE_COPY_TO_STORE : 0, &b, &ctx,
                                "while evaluating a path segment");
            S->errctx_pos = saved;
            (void)before;
            ut_buf_free(&part);
            S->sp--;
        }
        firstp = false;
    }
    if (first == EV_INT) {
        *out = ev_mk_int(ni);
    } else if (first == EV_FLOAT) {
        *out = ev_mk_float(nf);
    } else if (first == EV_PATH) {
        if (ctx.n) {
            ev_ctxset_free(&ctx);
            ut_buf_free(&b);
            ev_error(S, EV_ERR_EVAL, c->pos, "a string that refers to a store path cannot be appended to a path");
        }
        char *p = ev_canon_path(b.data ? b.data : "", b.len);
        *out = ev_mk_path(S, p, strlen(p));
        free(p);
    } else {
        ev_context *cx = ev_ctxset_finish(S, &ctx);
        *out = ev_mk_string(S, b.data ? b.data : "", b.len, cx);
    }
    ev_ctxset_free(&ctx);
    ut_buf_free(&b);
    S->sp = parts;
}

static void select_missing(ev_state *S, ev_attrs *a, ps_sym name, ps_pos pos)
{
    /* suggestions: names at small edit distance, as Nix's Suggestions */
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "attribute '%s' missing", ps_sym_str(S->syms, name));
    extern void ev_suggest(ev_state * S, ut_buf * out, const ev_attrs *a, const char *name);
    ev_suggest(S, &b, a, ps_sym_str(S->syms, name));
    ev_trace_push_fast(S, pos, "while evaluating the attribute '%s'", ps_sym_str(S->syms, name));
    ev_error_owned(S, EV_ERR_EVAL, (ps_pos){0}, ut_buf_steal(&b, NULL));
}

/* ---- the evaluator ------------------------------------------------------ */



void ev_eval(ev_state *S, const ev_code *c, ev_env *env, ev_value *out)
{
    ev_value *base = S->sp;
    check_cstack(S, c->pos);
top:
    switch ((ev_op)c->op) {
    case C_CONST:
        *out = c->u.k;
        break;
    case C_VAR: {
        ev_value *v = &env_up(env, c->u.var.level)->v[c->u.var.index];
        if (v->type == EV_THUNK)
            ev_force_slow(S, v, c->pos);
        *out = *v;
        break;
    }
    case C_WITHVAR:
        lookup_with(S, c, env, out);
        break;
    case C_SELECT: {
        ev_value *v = ev_push1(S);
        ev_trace_push_fast(S, c->pos, "while selecting an attribute", NULL);
        ev_eval(S, c->u.sel.e, env, v);
        ev_force(S, v, c->pos);
        S->ntraces--;
        for (uint32_t i = 0; i < c->u.sel.n; i++) {
            const ev_cpath *p = &c->u.sel.path[i];
            ps_sym name = p->name;
            if (!name) {
                bool is_null;
                name = eval_attr_name(S, p->expr, env, &is_null);
                if (is_null)
                    ev_error_type(S, p->expr->pos, "a string", &(ev_value){0}, NULL);
            }
            ev_force(S, v, c->pos);
            if (v->type != EV_ATTRS) {
                if (c->u.sel.def)
                    goto use_default;
                ev_error_type(S, c->pos, "a set", v, "while selecting an attribute");
            }
            ev_attr *a = ev_attrs_find(v->u.a, name);
            if (!a) {
                if (c->u.sel.def)
                    goto use_default;
                select_missing(S, v->u.a, name, c->pos);
            }
            ev_trace_push_fast(S, ev_pos_get(S, a->pos), "while evaluating the attribute '%s'",
                          ps_sym_str(S->syms, name));
            ev_force(S, &a->value, c->pos);
            S->ntraces--;
            *v = a->value;
        }
        *out = *v;
        break;
    use_default:
        /* only this select's slot: roots below it (a let or with env this
         * frame entered by `goto top`) are still needed by the default */
        S->sp = v;
        c = c->u.sel.def;
        goto top;
    }
    case C_HASATTR: {
        ev_value *v = ev_push1(S);
        eval_operand(S, c->u.sel.e, env, v, "in the argument of '?'");
        bool ok = true;
        for (uint32_t i = 0; i < c->u.sel.n; i++) {
            const ev_cpath *p = &c->u.sel.path[i];
            ps_sym name = p->name;
            if (!name) {
                bool is_null;
                name = eval_attr_name(S, p->expr, env, &is_null);
            }
            ev_force(S, v, c->pos);
            if (v->type != EV_ATTRS) {
                ok = false;
                break;
            }
            ev_attr *a = ev_attrs_find(v->u.a, name);
            if (!a) {
                ok = false;
                break;
            }
            *v = a->value;
        }
        *out = ev_mk_bool(ok);
        break;
    }
    case C_ATTRS:
        build_attrs(S, c, env, out, NULL);
        break;
    case C_LIST: {
        uint32_t n = c->u.list.n;
        ev_list *l = ev_list_new(S, n);
        for (uint32_t i = 0; i < n; i++)
            l->v[i] = mkval(S, c->u.list.e[i], env, UINT32_MAX);
        *out = ev_mk_list(l);
        break;
    }
    case C_LAMBDA:
        *out = mkval(S, c, env, UINT32_MAX);
        break;
    case C_CALL: {
        uint32_t n = c->u.call.nargs;
        ev_value *slots = ev_stack_push(S, n + 1);
        ev_eval(S, c->u.call.fn, env, &slots[0]);
        for (uint32_t i = 0; i < n; i++)
            slots[i + 1] = mkval(S, c->u.call.args[i], env, UINT32_MAX);
        ev_call(S, &slots[0], n, &slots[1], out, c->pos);
        break;
    }
    case C_PRIM: {
        ev_primop *op = c->u.prim.op;
        uint32_t n = op->arity;
        ev_value *slots = ev_stack_push(S, n + 1);
        ev_check_depth(S, c->pos);
        S->call_depth++;
        ev_trace_push_fast(S, c->pos, builtin_frame, op->name);
        for (uint32_t i = 0; i < n; i++)
            ev_eval(S, c->u.prim.args[i], env, &slots[i]);
        ev_gc_safepoint(S);
        op->fn(S, slots, &slots[n], c->pos);
        S->ntraces--;
        S->call_depth--;
        *out = slots[n];
        break;
    }
    case C_LET: {
        ev_env *ne;
        build_attrs(S, c, env, out, &ne);
        env = ne;
        c = c->u.attrs.body;
        goto top;
    }
    case C_WITH: {
        ev_env *we = ev_env_new(S, env, 1);
        we->h.flags = EV_ENV_WITH;
        ev_value *root = ev_push1(S);
        root->type = EV_ENV;
        root->u.env = we;
        we->v[0] = mkval(S, c->u.with.attrs, env, UINT32_MAX);
        env = we;
        c = c->u.with.body;
        goto top;
    }
    case C_IF: {
        ev_value *v = ev_push1(S);
        ev_eval(S, c->u.ops.a, env, v);
        bool b = ev_force_bool(S, v, c->pos, "while evaluating a branch condition");
        S->sp--;
        c = b ? c->u.ops.b : c->u.ops.c;
        goto top;
    }
    case C_ASSERT: {
        ev_value *v = ev_push1(S);
        ev_eval(S, c->u.ops.a, env, v);
        bool b = ev_force_bool(S, v, c->pos, "while evaluating the condition of the assertion");
        if (!b && c->u.ops.a->op == C_EQ) {
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
        if (!b)
            ev_error(S, EV_ERR_ASSERT, c->pos, "assertion '%s' failed", c->u.ops.c->u.k.u.s->s);
        S->sp--;
        c = c->u.ops.b;
        goto top;
    }
    case C_NOT: {
        eval_operand(S, c->u.ops.a, env, out, "in the argument of '!'");
        bool b = ev_force_bool(S, out, c->pos, NULL);
        *out = ev_mk_bool(!b);
        break;
    }
    case C_EQ:
    case C_NEQ: {
        ev_value *v = ev_stack_push(S, 2);
        const char *l = c->op == C_EQ ? "in the left operand of '=='" : "in the left operand of '!='";
        const char *r = c->op == C_EQ ? "in the right operand of '=='" : "in the right operand of '!='";
        eval_operand(S, c->u.ops.a, env, &v[0], l);
        eval_operand(S, c->u.ops.b, env, &v[1], r);
        bool eq = ev_equal(S, &v[0], &v[1], c->pos, "while testing two values for equality");
        *out = ev_mk_bool(c->op == C_EQ ? eq : !eq);
        break;
    }
    case C_AND: {
        eval_operand(S, c->u.ops.a, env, out, "in the left operand of '&&'");
        if (!ev_force_bool(S, out, c->pos, "in the left operand of the AND (&&) operator"))
            break;
        eval_operand(S, c->u.ops.b, env, out, "in the right operand of '&&'");
        ev_force_bool(S, out, c->pos, "in the right operand of the AND (&&) operator");
        break;
    }
    case C_OR: {
        eval_operand(S, c->u.ops.a, env, out, "in the left operand of '||'");
        if (ev_force_bool(S, out, c->pos, "in the left operand of the OR (||) operator"))
            break;
        eval_operand(S, c->u.ops.b, env, out, "in the right operand of '||'");
        ev_force_bool(S, out, c->pos, "in the right operand of the OR (||) operator");
        break;
    }
    case C_IMPL: {
        eval_operand(S, c->u.ops.a, env, out, "in the left operand of '->'");
        if (!ev_force_bool(S, out, c->pos, "in the left operand of the IMPL (->) operator")) {
            *out = ev_mk_bool(true);
            break;
        }
        eval_operand(S, c->u.ops.b, env, out, "in the right operand of '->'");
        ev_force_bool(S, out, c->pos, "in the right operand of the IMPL (->) operator");
        break;
    }
    case C_UPDATE: {
        ev_value *v = ev_stack_push(S, 2);
        eval_operand(S, c->u.ops.a, env, &v[0], "in the left operand of '//'");
        eval_operand(S, c->u.ops.b, env, &v[1], "in the right operand of '//'");
        ev_attrs *x = ev_force_attrs(S, &v[0], c->pos, "in the left operand of the update (//) operator");
        ev_attrs *y = ev_force_attrs(S, &v[1], c->pos, "in the right operand of the update (//) operator");
        if (x->h.n == 0) {
            *out = v[1];
            break;
        }
        if (y->h.n == 0) {
            *out = v[0];
            break;
        }
        ev_attrs *r = ev_attrs_new(S, x->h.n + y->h.n);
        uint32_t i = 0, j = 0, k = 0;
        while (i < x->h.n && j < y->h.n) {
            if (x->a[i].name < y->a[j].name)
                r->a[k++] = x->a[i++];
            else if (x->a[i].name > y->a[j].name)
                r->a[k++] = y->a[j++];
            else {
                r->a[k++] = y->a[j++];
                i++;
            }
        }
        while (i < x->h.n)
            r->a[k++] = x->a[i++];
        while (j < y->h.n)
            r->a[k++] = y->a[j++];
        r->h.n = k;
        *out = ev_mk_attrs(r);
        break;
    }
    case C_CONCAT_LISTS: {
        ev_value *v = ev_stack_push(S, 2);
        eval_operand(S, c->u.ops.a, env, &v[0], "in the left operand of '++'");
        eval_operand(S, c->u.ops.b, env, &v[1], "in the right operand of '++'");
        ps_pos saved = S->errctx_pos;
        S->errctx_pos = c->pos;
        ev_list *x = ev_force_list(S, &v[0], c->pos, "while evaluating one of the elements to concatenate");
        ev_list *y = ev_force_list(S, &v[1], c->pos, "while evaluating one of the elements to concatenate");
        S->errctx_pos = saved;
        if (x->h.n == 0) {
            *out = v[1];
            break;
        }
        if (y->h.n == 0) {
            *out = v[0];
            break;
        }
        ev_list *l = ev_list_new(S, (size_t)x->h.n + y->h.n);
        for (uint32_t i = 0; i < x->h.n; i++)
            l->v[i] = ev_share(S, &x->v[i]);
        for (uint32_t i = 0; i < y->h.n; i++)
            l->v[x->h.n + i] = ev_share(S, &y->v[i]);
        *out = ev_mk_list(l);
        break;
    }
    case C_CONCAT_STRINGS:
        concat_strings(S, c, env, out);
        break;
    case C_CURPOS: {
        ps_pos p = c->pos;
        if (!p.src) {
            *out = ev_mk_null();
            break;
        }
        ev_attrs *a = ev_attrs_new(S, 3);
        const char *file = p.src->origin == PS_ORIGIN_FILE ? p.src->path
                           : p.src->origin == PS_ORIGIN_STDIN ? "«stdin»" : "«string»";
        ev_attrs_add(a, S->s_file, ev_mk_cstring(S, file), 0);
        ev_attrs_add(a, S->s_line, ev_mk_int(p.line), 0);
        ev_attrs_add(a, S->s_column, ev_mk_int(p.col), 0);
        ev_attrs_finish(a);
        *out = ev_mk_attrs(a);
        break;
    }
    default:
        ev_error(S, EV_ERR_EVAL, c->pos, "internal error: bad opcode %d", c->op);
    }
    S->sp = base;
}

void ev_eval_code_top(ev_state *S, ev_code *c, ev_value *out)
{
    ev_eval(S, c, S->base_env, out);
}
