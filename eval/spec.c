/* Speculation: computing small pure expressions ahead instead of making
 * thunks for them.
 *
 * A thunk for `n - 1` costs an allocation, a later force (a VM frame) and
 * keeps its environment alive. When the operands are already values, the
 * result can be had for less than the thunk costs. Computing it early is
 * invisible only if it cannot fail, loop, print or allocate, so the
 * expressions taken are integer/float arithmetic, comparisons and Boolean
 * logic over constants and variables, and the attempt is abandoned (a
 * thunk is made as before) the moment anything is not already a value of
 * the expected type, or an operation would raise an error (overflow,
 * division by zero): then the error comes when and where Nix raises it.
 * Sizes are bounded at compile time, so a wasted attempt is cheap. */
#include "eval/internal.h"

enum { SPEC_MAX_NODES = 24 };

static unsigned operand_size(const ev_code *c)
{
    switch (c->op) {
    case C_CONST:
        return c->u.k.type <= EV_FLOAT ? 1 : 0;
    case C_VAR:
        return 1;
    default:
        return c->spec;
    }
}

void ev_spec_mark(ev_code *c)
{
    unsigned n = 1, k;
    switch (c->op) {
    case C_PRIM:
        if (c->sop == EV_SOP_NONE)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(k = operand_size(c->u.prim.args[i])))
                return;
            n += k;
        }
        break;
    case C_EQ:
    case C_NEQ:
    case C_AND:
    case C_OR:
    case C_IMPL:
        if (!(k = operand_size(c->u.ops.a)))
            return;
        n += k;
        if (!(k = operand_size(c->u.ops.b)))
            return;
        n += k;
        break;
    case C_NOT:
        if (!(k = operand_size(c->u.ops.a)))
            return;
        n += k;
        break;
    case C_IF:
        for (int i = 0; i < 3; i++) {
            const ev_code *o = i == 0 ? c->u.ops.a : i == 1 ? c->u.ops.b : c->u.ops.c;
            if (!(k = operand_size(o)))
                return;
            n += k;
        }
        break;
    case C_CONCAT_STRINGS:
        /* `a + b` on numbers; strings would allocate */
        if (c->u.concat.force_string)
            return;
        for (uint32_t i = 0; i < c->u.concat.n; i++) {
            if (!(k = operand_size(c->u.concat.parts[i])))
                return;
            n += k;
        }
        break;
    default:
        return;
    }
    if (n <= SPEC_MAX_NODES)
        c->spec = (uint8_t)n;
}

static inline bool is_num(const ev_value *v) { return v->type == EV_INT || v->type == EV_FLOAT; }
static inline double num(const ev_value *v) { return v->type == EV_INT ? (double)v->u.i : v->u.f; }

/* Nix's arithmetic, as long as it cannot fail. */
static inline bool arith(unsigned sop, const ev_value *a, const ev_value *b, ev_value *out)
{
    if (!is_num(a) || !is_num(b))
        return false;
    if (a->type == EV_INT && b->type == EV_INT) {
        int64_t x = a->u.i, y = b->u.i, r;
        switch (sop) {
        case EV_SOP_ADD:
            if (__builtin_add_overflow(x, y, &r))
                return false;
            break;
        case EV_SOP_SUB:
            if (__builtin_sub_overflow(x, y, &r))
                return false;
            break;
        case EV_SOP_MUL:
            if (__builtin_mul_overflow(x, y, &r))
                return false;
            break;
        case EV_SOP_DIV:
            if (y == 0 || (x == INT64_MIN && y == -1))
                return false;
            r = x / y;
            break;
        case EV_SOP_LT:
            *out = ev_mk_bool(x < y);
            return true;
        default:
            return false;
        }
        *out = ev_mk_int(r);
        return true;
    }
    double x = num(a), y = num(b);
    switch (sop) {
    case EV_SOP_ADD: *out = ev_mk_float(x + y); return true;
    case EV_SOP_SUB: *out = ev_mk_float(x - y); return true;
    case EV_SOP_MUL: *out = ev_mk_float(x * y); return true;
    case EV_SOP_DIV:
        if (y == 0)
            return false;
        *out = ev_mk_float(x / y);
        return true;
    case EV_SOP_LT: *out = ev_mk_bool(x < y); return true;
    default: return false;
    }
}

/* A constant's or a variable's value, if it is a forced scalar */
static inline const ev_value *leaf(const ev_code *c, ev_env *env, uint32_t filled)
{
    const ev_value *v;
    if (c->op == C_CONST) {
        v = &c->u.k;
    } else {
        uint32_t level = c->u.var.level;
        if (level == 0 && c->u.var.index >= filled)
            return NULL;   /* a recursive binding not made yet */
        ev_env *e = env;
        while (level--)
            e = e->up;
        v = &e->v[c->u.var.index];
        if (v->type == EV_THUNK) {
            const ev_thunk *t = v->u.t;
            if (EV_TH_STATE(t) != EV_TH_DONE || (t->h.flags & EV_TH_BH))
                return NULL;
            v = &t->u.v;
        }
    }
    return v->type <= EV_FLOAT ? v : NULL;
}

static bool spec(const ev_code *c, ev_env *env, uint32_t filled, ev_value *out);

static inline bool operand(const ev_code *c, ev_env *env, uint32_t filled, ev_value *out)
{
    if (c->op == C_CONST || c->op == C_VAR) {
        const ev_value *v = leaf(c, env, filled);
        if (!v)
            return false;
        *out = *v;
        return true;
    }
    return spec(c, env, filled, out);
}

static inline bool is_leaf(const ev_code *c) { return c->op == C_CONST || c->op == C_VAR; }

/* The most common shape, one operation on two leaves, outside spec()'s
 * frame: -1 when c has another shape. */
static inline int spec_leaves(const ev_code *c, ev_env *env, uint32_t filled, ev_value *out)
{
    const ev_code *p, *q;
    unsigned sop;
    if (c->op == C_PRIM) {
        p = c->u.prim.args[0], q = c->u.prim.args[1], sop = c->sop;
    } else if (c->op == C_CONCAT_STRINGS && c->u.concat.n == 2) {
        p = c->u.concat.parts[0], q = c->u.concat.parts[1], sop = EV_SOP_ADD;
    } else {
        return -1;
    }
    if (!is_leaf(p) || !is_leaf(q))
        return -1;
    const ev_value *x = leaf(p, env, filled), *y;
    return x && (y = leaf(q, env, filled)) && arith(sop, x, y, out);
}

static bool spec(const ev_code *c, ev_env *env, uint32_t filled, ev_value *out)
{
    ev_value a, b;
    switch (c->op) {
    case C_CONST:
    case C_VAR:
        return operand(c, env, filled, out);
    case C_PRIM:
        return operand(c->u.prim.args[0], env, filled, &a) && operand(c->u.prim.args[1], env, filled, &b) &&
               arith(c->sop, &a, &b, out);
    case C_CONCAT_STRINGS:
        if (!operand(c->u.concat.parts[0], env, filled, &a) || !is_num(&a))
            return false;
        for (uint32_t i = 1; i < c->u.concat.n; i++)
            if (!operand(c->u.concat.parts[i], env, filled, &b) || !arith(EV_SOP_ADD, &a, &b, &a))
                return false;
        *out = a;
        return true;
    case C_EQ:
    case C_NEQ: {
        if (!operand(c->u.ops.a, env, filled, &a) || !operand(c->u.ops.b, env, filled, &b))
            return false;
        bool eq;
        if (is_num(&a) && is_num(&b))
            eq = a.type == EV_INT && b.type == EV_INT ? a.u.i == b.u.i : num(&a) == num(&b);
        else if (a.type == EV_BOOL && b.type == EV_BOOL)
            eq = a.u.b == b.u.b;
        else if (a.type == EV_NULL || b.type == EV_NULL)
            eq = a.type == b.type;
        else
            eq = false;   /* scalars of different types */
        *out = ev_mk_bool(c->op == C_EQ ? eq : !eq);
        return true;
    }
    case C_NOT:
        if (!operand(c->u.ops.a, env, filled, &a) || a.type != EV_BOOL)
            return false;
        *out = ev_mk_bool(!a.u.b);
        return true;
    case C_AND:
    case C_OR:
    case C_IMPL: {
        if (!operand(c->u.ops.a, env, filled, &a) || a.type != EV_BOOL)
            return false;
        bool decided = c->op == C_AND ? !a.u.b : c->op == C_OR ? a.u.b : !a.u.b;
        if (decided) {
            *out = ev_mk_bool(c->op != C_AND);
            return true;
        }
        if (!operand(c->u.ops.b, env, filled, &b) || b.type != EV_BOOL)
            return false;
        *out = b;
        return true;
    }
    case C_IF:
        if (!operand(c->u.ops.a, env, filled, &a) || a.type != EV_BOOL)
            return false;
        return operand(a.u.b ? c->u.ops.b : c->u.ops.c, env, filled, out);
    default:
        return false;
    }
}

bool ev_spec_eval(const ev_code *c, ev_env *env, uint32_t filled, ev_value *out)
{
    int r = spec_leaves(c, env, filled, out);
    if (r >= 0)
        return r;
    return spec(c, env, filled, out);
}

bool ev_spec_applicable(const ev_value *fn)
{
    if (fn->type != EV_LAMBDA)
        return false;
    ev_clambda *cl = (ev_clambda *)fn->u.fn->code;
    if (cl->spec_body)
        return cl->spec_body > 0;
    const ev_code *b = cl->body;
    bool ok = !cl->has_formals && cl->nslots == 1 && (b->op == C_CONST || b->op == C_VAR || b->spec);
    cl->spec_body = ok ? 1 : -1;
    return ok;
}

bool ev_spec_apply(const ev_value *fn, const ev_value *arg, ev_value *out)
{
    const ev_clambda *cl = fn->u.fn->code;
    const ev_code *b = cl->body;
    if (b->op == C_CONST) {
        *out = b->u.k;
        return true;
    }
    if (b->op == C_VAR) {
        /* the identity, or a variable of the closure: any value, as it is
         * (the caller shares it) */
        const ev_value *v = arg;
        if (b->u.var.level > 0) {
            ev_env *e = fn->u.fn->env;
            for (uint32_t l = 1; l < b->u.var.level; l++)
                e = e->up;
            v = &e->v[b->u.var.index];
        }
        if (v->type == EV_APPI)
            return false;
        *out = *v;
        return true;
    }
    /* the body reads its parameter from a one-slot environment that lives
     * here: nothing computed ahead can keep a reference to it */
    union {
        ev_env e;
        unsigned char bytes[sizeof(ev_env) + sizeof(ev_value)];
    } env;
    env.e.h.kind = EV_OBJ_ENV;
    env.e.h.flags = EV_GC_STATIC;
    env.e.h.n = 1;
    env.e.up = fn->u.fn->env;
    env.e.v[0] = *arg;
    int r = spec_leaves(b, &env.e, UINT32_MAX, out);
    if (r >= 0)
        return r;
    return spec(b, &env.e, UINT32_MAX, out);
}
