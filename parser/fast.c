/* A recursive-descent (precedence-climbing) parser for the common case.
 *
 * It reads the same tokens from the same lexer and builds the tree with the
 * same helpers (build.c) as the grammar's actions, giving each node the
 * position the bison rule would give it: a rule's first token, the operator
 * for binary operators, and for an empty rule the end of the token before
 * it. Anything it does not handle, and every error (syntax, semantic or
 * lexical), makes it decline: ps_parse then parses again with bison, whose
 * messages are Nix's. It never reports an error itself, so it can afford to
 * be incomplete; what it accepts must be what the grammar accepts, built the
 * same way (tests/parser compares trees and positions on every corpus file
 * and on mutated inputs).
 *
 * Declined on sight: the pipe operators, `e or` used as an
 * application (a warning), syntax errors, lints (ps_parse does not even try
 * when one is enabled) and deep nesting (FAST_MAX_DEPTH). */
#include "parser/internal.h"
#include "parser-tab.h"

#include <setjmp.h>
#include <string.h>

int ps_yylex(PS_YYSTYPE *lval, PS_YYLTYPE *lloc, yyscan_t scanner, ps_pstate *st);

/* Deeper inputs go to bison, which has its own limits and messages; this
 * keeps the C stack bounded (a few frames per level) even under ASan. */
#define FAST_MAX_DEPTH 1000

typedef struct tok {
    int t;
    ps_loc loc;
    PS_YYSTYPE v;
} tok;

/* `{ }` then ':' or '@' needs three tokens of lookahead */
#define EXTRA 2

typedef struct fp {
    ps_pstate *st;
    yyscan_t scanner;
    /* the lexer keeps its place in the location between calls, as bison's
       yylloc does */
    PS_YYLTYPE lloc;
    tok cur;            /* the next token, always read */
    tok extra[EXTRA];   /* the ones after it, read on demand */
    unsigned nextra;
    ps_loc prev;        /* the last token taken */
    unsigned depth;
    jmp_buf decline;
} fp;

static _Noreturn void decline(fp *p)
{
    longjmp(p->decline, 1);
}

static void lex(fp *p, tok *t)
{
    t->t = ps_yylex(&t->v, &p->lloc, p->scanner, p->st);
    t->loc = p->lloc;
    if (t->t == PS_YYerror || t->t == PS_YYUNDEF || p->st->failed)
        decline(p);
}

/* the k-th token after the next one (k >= 1) */
static tok *peek(fp *p, unsigned k)
{
    while (p->nextra < k)
        lex(p, &p->extra[p->nextra++]);
    return &p->extra[k - 1];
}

static inline int peek_t(fp *p)
{
    return p->cur.t;
}

static inline void advance(fp *p)
{
    p->prev = p->cur.loc;
    if (p->nextra) {
        p->cur = p->extra[0];
        for (unsigned i = 1; i < p->nextra; i++)
            p->extra[i - 1] = p->extra[i];
        p->nextra--;
    } else {
        lex(p, &p->cur);
    }
}

/* takes the next token */
static inline tok take(fp *p)
{
    tok t = p->cur;
    advance(p);
    return t;
}

static inline tok expect(fp *p, int t)
{
    if (p->cur.t != t)
        decline(p);
    return take(p);
}

#define AT(loc) PS_AT(p->st, loc)
#define POS(off) ps__pos(p->st, off)
#define ENTER() do { if (++p->depth > FAST_MAX_DEPTH) decline(p); } while (0)
#define LEAVE() (p->depth--)

static ps_expr *p_expr(fp *p, int *first);
static ps_expr *p_select(fp *p, int *first);

/* ---- strings and attribute paths --------------------------------------- */

static ps_part *push_part(fp *p, ps_vec *v)
{
    return ps__vec_push(p->st, v, sizeof(ps_part));
}

/* string_parts_interpolated: STR and `${ expr }` pieces, the first being
 * `${` or a STR right before one. */
static ps_vec p_interpolated(fp *p)
{
    ps_vec v = {0};
    if (!(peek_t(p) == DOLLAR_CURLY || (peek_t(p) == STR && peek(p, 1)->t == DOLLAR_CURLY)))
        decline(p);
    for (;;) {
        int t = peek_t(p);
        if (t == STR) {
            tok s = take(p);
            ps_part *q = push_part(p, &v);
            *q = (ps_part){s.loc, ps__string(p->st, s.v.str.p, s.v.str.l, AT(s.loc)), {0}};
        } else if (t == DOLLAR_CURLY) {
            tok d = take(p);
            int f;
            ps_expr *e = p_expr(p, &f);
            expect(p, '}');
            ps_part *q = push_part(p, &v);
            *q = (ps_part){d.loc, e, {0}};
        } else {
            return v;
        }
    }
}

/* string_parts, after the opening quote (the caller takes the closing one) */
static ps_expr *p_string_parts(fp *p)
{
    tok *t = &p->cur;
    if (t->t == '"')    /* the empty rule sits at the end of the quote */
        return ps__string(p->st, "", 0, POS(p->prev.last));
    if (t->t == STR && peek(p, 1)->t != DOLLAR_CURLY) {
        tok s = take(p);
        return ps__string(p->st, s.v.str.p, s.v.str.l, AT(s.loc));
    }
    int first = t->loc.first;
    ps_vec v = p_interpolated(p);
    return ps__concat(p->st, POS(first), true, v.data, v.n);
}

/* string_attr: "..." or ${ expr }; *loc gets its location */
static ps_expr *p_string_attr(fp *p, ps_loc *loc)
{
    tok o = take(p);
    ps_expr *e;
    if (o.t == '"') {
        e = p_string_parts(p);
        *loc = (ps_loc){o.loc.first, expect(p, '"').loc.last};
    } else {
        int f;
        e = p_expr(p, &f);
        *loc = (ps_loc){o.loc.first, expect(p, '}').loc.last};
    }
    return e;
}

/* Attribute paths are read into storage the caller provides (on its stack,
 * room for PATH_INLINE names; a longer path moves to the arena), because
 * most are one or two names and a binding's path is not kept in the tree:
 * a vector in the arena per binding was a fair part of the memory a large
 * set takes. */
#define PATH_INLINE 8
#define PATH_VEC(buf) ((ps_vec){(buf), 0, PATH_INLINE})

static void p_attrpath(fp *p, ps_vec *vp)
{
    ps_vec v = *vp;
    for (;;) {
        int t = peek_t(p);
        ps_attrname *a;
        if (t == ID) {
            tok s = take(p);
            a = ps__vec_push(p->st, &v, sizeof *a);
            a->name = ps_intern(p->st->syms, s.v.str.p, s.v.str.l);
        } else if (t == OR_KW) {
            take(p);
            a = ps__vec_push(p->st, &v, sizeof *a);
            a->name = p->st->s_or;
        } else if (t == '"' || t == DOLLAR_CURLY) {
            ps_loc l;
            ps_expr *s = p_string_attr(p, &l);
            a = ps__vec_push(p->st, &v, sizeof *a);
            if (!ps__attrname_from_string(p->st, s, a))
                decline(p);
        } else {
            decline(p);
        }
        if (peek_t(p) != '.') {
            *vp = v;
            return;
        }
        take(p);
    }
}

/* A path the tree keeps, copied to the arena at its length. */
static ps_attrpath keep_path(ps_pstate *st, const ps_vec *v)
{
    ps_attrname *a = ps__alloc(st, (size_t)v->n * sizeof *a);
    memcpy(a, v->data, (size_t)v->n * sizeof *a);
    return (ps_attrpath){a, v->n};
}

/* ---- bindings ----------------------------------------------------------- */

static bool starts_attrpath(int t)
{
    return t == ID || t == OR_KW || t == '"' || t == DOLLAR_CURLY;
}

/* binds: definitions and inherits up to the first other token. The set is
 * made where bison makes it: at the first definition's attribute path, or
 * (an inherit first, or nothing) as the empty rule after the token before. */
static ps_expr *p_binds(fp *p)
{
    ps_pstate *st = p->st;
    ps_expr *attrs = NULL;
    for (;;) {
        int t = peek_t(p);
        if (t == INHERIT) {
            if (!attrs)
                attrs = ps__new_attrs(st, POS(p->prev.last));
            take(p);
            ps_expr *from = NULL;
            ps_loc from_loc = {0, 0};
            if (peek_t(p) == '(') {
                take(p);
                int f;
                from = p_expr(p, &f);
                from_loc = (ps_loc){f, p->prev.last};
                expect(p, ')');
            }
            ps_vec names = {0};
            for (;;) {
                int u = peek_t(p);
                ps_inh *in;
                if (u == ID || u == OR_KW) {
                    tok s = take(p);
                    in = ps__vec_push(st, &names, sizeof *in);
                    in->name = u == ID ? ps_intern(st->syms, s.v.str.p, s.v.str.l) : st->s_or;
                    in->loc = s.loc;
                } else if (u == '"' || u == DOLLAR_CURLY) {
                    ps_loc l;
                    ps_expr *s = p_string_attr(p, &l);
                    if (s->kind != PS_STRING)
                        decline(p);     /* dynamic attributes not allowed in inherit */
                    in = ps__vec_push(st, &names, sizeof *in);
                    in->name = ps_intern(st->syms, s->u.str.s, s->u.str.len);
                    in->loc = l;
                } else {
                    break;
                }
            }
            expect(p, ';');
            if (!ps__inherit(st, attrs, &names, from, from_loc))
                decline(p);
        } else if (starts_attrpath(t)) {
            int pfirst = p->cur.loc.first;
            ps_attrname pbuf[PATH_INLINE];
            ps_vec path = PATH_VEC(pbuf);
            p_attrpath(p, &path);
            ps_loc ploc = {pfirst, p->prev.last};
            expect(p, '=');
            int f;
            ps_expr *e = p_expr(p, &f);
            expect(p, ';');
            if (!attrs)
                attrs = ps__new_attrs(st, POS(pfirst));
            if (!ps__add_attr(st, attrs, &path, ploc, e))
                decline(p);
        } else {
            break;
        }
    }
    if (!attrs)
        attrs = ps__new_attrs(st, POS(p->prev.last));
    return attrs;
}

/* ---- simple expressions ------------------------------------------------- */

static bool starts_select(int t)
{
    switch (t) {
    case ID: case INT_LIT: case FLOAT_LIT: case '"': case IND_STRING_OPEN: case PATH: case HPATH:
    case SPATH: case URI: case '(': case LET: case REC: case '{': case '[':
        return true;
    default:
        return false;
    }
}

static ps_expr *p_simple(fp *p, int *first)
{
    ps_pstate *st = p->st;
    ENTER();
    tok t = take(p);
    ps_pos pos = AT(t.loc);
    *first = t.loc.first;
    ps_expr *e;
    switch (t.t) {
    case ID:
        if (t.v.str.l == 8 && memcmp(t.v.str.p, "__curPos", 8) == 0)
            e = ps__new(st, PS_CURPOS, pos);
        else
            e = ps__var(st, ps_intern(st->syms, t.v.str.p, t.v.str.l), pos);
        break;
    case INT_LIT:
        e = ps__new(st, PS_INT, pos);
        e->u.i = t.v.n;
        break;
    case FLOAT_LIT:
        e = ps__new(st, PS_FLOAT, pos);
        e->u.f = t.v.nf;
        break;
    case '"':
        e = p_string_parts(p);
        expect(p, '"');
        break;
    case IND_STRING_OPEN: {
        ps_vec v = {0};
        for (;;) {
            int u = peek_t(p);
            if (u == IND_STR) {
                tok s = take(p);
                *push_part(p, &v) = (ps_part){s.loc, NULL, s.v.str};
            } else if (u == DOLLAR_CURLY) {
                tok d = take(p);
                int f;
                ps_expr *x = p_expr(p, &f);
                expect(p, '}');
                *push_part(p, &v) = (ps_part){d.loc, x, {0}};
            } else {
                break;
            }
        }
        expect(p, IND_STRING_CLOSE);
        e = ps__strip_indentation(st, pos, &v);
        break;
    }
    case PATH:
    case HPATH: {
        ps_expr *start = t.t == PATH ? ps__path(st, t.v.str, t.loc) : ps__hpath(st, t.v.str, t.loc);
        if (!start)
            decline(p);
        if (peek_t(p) == PATH_END) {
            take(p);
            e = start;
            break;
        }
        ps_vec v = p_interpolated(p);
        expect(p, PATH_END);
        /* the path itself is the first part */
        ps_part *q = push_part(p, &v);
        memmove((ps_part *)v.data + 1, v.data, (size_t)(v.n - 1) * sizeof *q);
        ((ps_part *)v.data)[0] = (ps_part){t.loc, start, {0}};
        e = ps__concat(st, pos, false, v.data, v.n);
        break;
    }
    case SPATH: {
        ps_expr *s = ps__string(st, t.v.str.p + 1, t.v.str.l - 2, pos);
        e = ps__call2(st, pos, ps__var(st, st->s_findFile, pos), ps__var(st, st->s_nixPath, pos), s);
        break;
    }
    case URI:
        if (!ps__lint_uri(st, t.v.str, t.loc))
            decline(p);
        e = ps__string(st, t.v.str.p, t.v.str.l, pos);
        break;
    case '(': {
        int f;
        e = p_expr(p, &f);
        expect(p, ')');
        break;
    }
    case LET: {
        /* `let { ...; body = ...; }` is `(rec { ... }).body` */
        expect(p, '{');
        ps_expr *a = p_binds(p);
        expect(p, '}');
        a->u.attrs.rec = true;
        a->pos = pos;
        e = ps__new(st, PS_SELECT, pos);
        e->u.select.e = a;
        e->u.select.path.elems = ps__alloc(st, sizeof(ps_attrname));
        e->u.select.path.elems[0].name = st->s_body;
        e->u.select.path.n = 1;
        break;
    }
    case REC:
        expect(p, '{');
        e = p_binds(p);
        expect(p, '}');
        e->u.attrs.rec = true;
        e->pos = pos;
        break;
    case '{':
        if (peek_t(p) == '}') {
            take(p);
            e = ps__new_attrs(st, pos);
            break;
        }
        /* binds1: at least one binding */
        if (!starts_attrpath(peek_t(p)) && peek_t(p) != INHERIT)
            decline(p);
        e = p_binds(p);
        expect(p, '}');
        e->pos = pos;
        break;
    case '[': {
        ps_vec v = {0};
        while (starts_select(peek_t(p))) {
            int f;
            ps_expr *x = p_select(p, &f);
            *(ps_expr **)ps__vec_push(st, &v, sizeof x) = x;
        }
        expect(p, ']');
        e = ps__new(st, PS_LIST, pos);
        e->u.list.elems = v.data;
        e->u.list.n = v.n;
        break;
    }
    default:    /* keywords out of place, errors */
        decline(p);
    }
    LEAVE();
    return e;
}

/* expr_select: simple, simple.path, simple.path or default. A bare `e or`
 * is an application of `or`, with a warning when used as an argument:
 * declined. */
static ps_expr *p_select(fp *p, int *first)
{
    ps_pstate *st = p->st;
    ps_expr *e = p_simple(p, first);
    int t = peek_t(p);
    if (t == OR_KW)
        decline(p);
    if (t != '.')
        return e;
    take(p);
    ps_attrname pbuf[PATH_INLINE];
    ps_vec path = PATH_VEC(pbuf);
    p_attrpath(p, &path);
    ps_expr *s = ps__new(st, PS_SELECT, POS(*first));
    s->u.select.e = e;
    s->u.select.path = keep_path(st, &path);
    if (peek_t(p) == OR_KW) {
        take(p);
        int f;
        ENTER();
        s->u.select.def = p_select(p, &f);
        LEAVE();
    }
    return s;
}

static ps_expr *p_app(fp *p, int *first)
{
    ps_expr *e = p_select(p, first);
    while (starts_select(peek_t(p))) {
        int f;
        ps_expr *arg = p_select(p, &f);
        e = ps__make_call(p->st, POS(*first), e, arg);
    }
    return e;
}

/* ---- operators ---------------------------------------------------------- */

/* bison's precedence levels, lowest first */
enum {
    L_IMPL = 1, L_OR, L_AND, L_EQ, L_CMP, L_UPDATE, L_NOT, L_ADD, L_MUL, L_CONCAT, L_HAS, L_NEGATE,
};

static int binary_level(int t)
{
    switch (t) {
    case IMPL: return L_IMPL;
    case OR: return L_OR;
    case AND: return L_AND;
    case EQ: case NEQ: return L_EQ;
    case '<': case '>': case LEQ: case GEQ: return L_CMP;
    case UPDATE: return L_UPDATE;
    case '+': case '-': return L_ADD;
    case '*': case '/': return L_MUL;
    case CONCAT: return L_CONCAT;
    case '?': return L_HAS;
    default: return 0;
    }
}

static bool right_assoc(int level)
{
    return level == L_IMPL || level == L_UPDATE || level == L_CONCAT;
}

static bool non_assoc(int level)
{
    return level == L_EQ || level == L_CMP || level == L_HAS;
}

static ps_expr *p_op(fp *p, int min_level, int *first);

static ps_expr *bin(ps_pstate *st, ps_kind k, ps_pos pos, ps_expr *l, ps_expr *r)
{
    ps_expr *e = ps__new(st, k, pos);
    e->u.bin.l = l;
    e->u.bin.r = r;
    return e;
}

static ps_expr *p_unary(fp *p, int *first)
{
    ps_pstate *st = p->st;
    int t = peek_t(p);
    if (t != '!' && t != '-')
        return p_app(p, first);
    ENTER();
    tok o = take(p);
    ps_pos pos = AT(o.loc);
    *first = o.loc.first;
    int f;
    ps_expr *e;
    if (t == '!') {
        /* `!` binds looser than arithmetic: !a + b is !(a + b) */
        ps_expr *x = p_op(p, L_NOT + 1, &f);
        e = ps__new(st, PS_NOT, pos);
        e->u.not_.e = x;
    } else {
        ps_expr *x = p_op(p, L_NEGATE + 1, &f);
        ps_expr *zero = ps__new(st, PS_INT, pos);
        zero->u.i = 0;
        e = ps__call2(st, pos, ps__var(st, st->s_sub, pos), zero, x);
    }
    LEAVE();
    return e;
}

static ps_expr *p_op(fp *p, int min_level, int *first)
{
    ps_pstate *st = p->st;
    int lfirst;
    ps_expr *l = p_unary(p, &lfirst);
    int last_nonassoc = 0;
    for (;;) {
        int t = peek_t(p);
        int level = binary_level(t);
        if (!level || level < min_level)
            break;
        if (non_assoc(level)) {
            /* a == b == c: levels only fall along this loop */
            if (last_nonassoc == level)
                decline(p);
            last_nonassoc = level;
        }
        tok o = take(p);
        ps_pos pos = AT(o.loc);
        if (t == '?') {
            ps_attrname pbuf[PATH_INLINE];
            ps_vec path = PATH_VEC(pbuf);
            p_attrpath(p, &path);
            ps_expr *h = ps__new(st, PS_HASATTR, POS(lfirst));
            h->u.hasattr.e = l;
            h->u.hasattr.path = keep_path(st, &path);
            l = h;
            continue;
        }
        int rfirst;
        ENTER();
        ps_expr *r = p_op(p, right_assoc(level) ? level : level + 1, &rfirst);
        LEAVE();
        switch (t) {
        case EQ: l = bin(st, PS_EQ, pos, l, r); break;
        case NEQ: l = bin(st, PS_NEQ, pos, l, r); break;
        case AND: l = bin(st, PS_AND, pos, l, r); break;
        case OR: l = bin(st, PS_OR, pos, l, r); break;
        case IMPL: l = bin(st, PS_IMPL, pos, l, r); break;
        case UPDATE: l = bin(st, PS_UPDATE, pos, l, r); break;
        case CONCAT: l = bin(st, PS_CONCAT_LISTS, pos, l, r); break;
        case '<': l = ps__call2(st, pos, ps__var(st, st->s_lessThan, pos), l, r); break;
        case '>': l = ps__call2(st, pos, ps__var(st, st->s_lessThan, pos), r, l); break;
        case LEQ: {
            ps_expr *c = ps__call2(st, pos, ps__var(st, st->s_lessThan, pos), r, l);
            l = ps__new(st, PS_NOT, pos);
            l->u.not_.e = c;
            break;
        }
        case GEQ: {
            ps_expr *c = ps__call2(st, pos, ps__var(st, st->s_lessThan, pos), l, r);
            l = ps__new(st, PS_NOT, pos);
            l->u.not_.e = c;
            break;
        }
        case '+': {
            ps_part parts[2] = {{{lfirst, lfirst}, l, {0}}, {{rfirst, rfirst}, r, {0}}};
            l = ps__concat(st, pos, false, parts, 2);
            break;
        }
        case '-': l = ps__call2(st, pos, ps__var(st, st->s_sub, pos), l, r); break;
        case '*': l = ps__call2(st, pos, ps__var(st, st->s_mul, pos), l, r); break;
        case '/': l = ps__call2(st, pos, ps__var(st, st->s_div, pos), l, r); break;
        default: decline(p);
        }
    }
    *first = lfirst;
    return l;
}

/* ---- functions and the keyword forms ------------------------------------ */

/* formal_set, from its '{' */
static ps_formals_b *p_formal_set(fp *p)
{
    ps_pstate *st = p->st;
    expect(p, '{');
    ps_formals_b *fb = ps__alloc(st, sizeof *fb);
    if (peek_t(p) == '}') {
        take(p);
        return fb;
    }
    if (peek_t(p) == ELLIPSIS) {
        take(p);
        expect(p, '}');
        fb->ellipsis = true;
        return fb;
    }
    for (;;) {
        tok id = expect(p, ID);
        ps_formal *f = ps__vec_push(st, &fb->formals, sizeof *f);
        f->name = ps_intern(st->syms, id.v.str.p, id.v.str.l);
        f->pos = AT(id.loc);
        if (peek_t(p) == '?') {
            take(p);
            int d;
            ps_expr *def = p_expr(p, &d);
            /* the vector may have moved while the default was parsed */
            ((ps_formal *)fb->formals.data)[fb->formals.n - 1].def = def;
        }
        int t = peek_t(p);
        if (t == '}') {
            take(p);
            return fb;
        }
        if (t != ',')
            decline(p);
        take(p);
        t = peek_t(p);
        if (t == '}') {
            take(p);
            return fb;
        }
        if (t == ELLIPSIS) {
            take(p);
            expect(p, '}');
            fb->ellipsis = true;
            return fb;
        }
    }
}

/* Whether the '{' ahead opens a formal set rather than an attribute set:
 * what bison's one token of lookahead tells after `{ ID` or `{ }`. */
static bool formal_set_ahead(fp *p)
{
    int t1 = peek(p, 1)->t;
    if (t1 == ELLIPSIS)
        return true;
    if (t1 == ID) {
        int t2 = peek(p, 2)->t;
        return t2 == ',' || t2 == '?' || t2 == '}';
    }
    if (t1 == '}') {
        int t2 = peek(p, 2)->t;
        return t2 == ':' || t2 == '@';
    }
    return false;
}

static ps_expr *lambda(fp *p, ps_pos pos, ps_sym arg, ps_formals_b *f, ps_expr *body)
{
    ps_expr *e;
    if (!ps__lambda(p->st, &e, pos, arg, f, body))
        decline(p);
    return e;
}

/* expr (expr_function) */
static ps_expr *p_expr(fp *p, int *first)
{
    ps_pstate *st = p->st;
    ENTER();
    tok *t = &p->cur;
    ps_pos pos;
    ps_expr *e;
    int f;
    switch (t->t) {
    case ID: {
        int t1 = peek(p, 1)->t;
        if (t1 != ':' && t1 != '@')
            goto op;
        tok id = take(p);
        *first = id.loc.first;
        pos = AT(id.loc);
        ps_sym arg = ps_intern(st->syms, id.v.str.p, id.v.str.l);
        if (take(p).t == ':') {
            ps_expr *body = p_expr(p, &f);
            e = lambda(p, pos, arg, NULL, body);
        } else {
            if (peek_t(p) != '{')
                decline(p);
            ps_formals_b *fs = p_formal_set(p);
            expect(p, ':');
            ps_expr *body = p_expr(p, &f);
            e = lambda(p, pos, arg, fs, body);
        }
        break;
    }
    case '{': {
        if (!formal_set_ahead(p))
            goto op;
        *first = t->loc.first;
        pos = AT(t->loc);
        ps_formals_b *fs = p_formal_set(p);
        ps_sym arg = PS_NOSYM;
        if (peek_t(p) == '@') {
            take(p);
            tok id = expect(p, ID);
            arg = ps_intern(st->syms, id.v.str.p, id.v.str.l);
        }
        expect(p, ':');
        ps_expr *body = p_expr(p, &f);
        e = lambda(p, pos, arg, fs, body);
        break;
    }
    case ASSERT:
    case WITH: {
        tok k = take(p);
        *first = k.loc.first;
        pos = AT(k.loc);
        ps_expr *a = p_expr(p, &f);
        expect(p, ';');
        ps_expr *b = p_expr(p, &f);
        if (k.t == ASSERT) {
            e = ps__new(st, PS_ASSERT, pos);
            e->u.assert_.cond = a;
            e->u.assert_.body = b;
        } else {
            e = ps__new(st, PS_WITH, pos);
            e->u.with.attrs = a;
            e->u.with.body = b;
        }
        break;
    }
    case LET: {
        if (peek(p, 1)->t == '{')
            goto op;        /* `let { ... }`, a simple expression */
        tok k = take(p);
        *first = k.loc.first;
        pos = AT(k.loc);
        ps_expr *binds = p_binds(p);
        expect(p, IN_KW);
        if (binds->u.attrs.ndyn)
            decline(p);     /* dynamic attributes not allowed in let */
        ps_expr *body = p_expr(p, &f);
        e = ps__new(st, PS_LET, pos);
        binds->u.attrs.rec = true;
        e->u.let.binds = &binds->u.attrs;
        e->u.let.body = body;
        break;
    }
    case IF: {
        tok k = take(p);
        *first = k.loc.first;
        pos = AT(k.loc);
        ps_expr *c = p_expr(p, &f);
        expect(p, THEN);
        ps_expr *a = p_expr(p, &f);
        expect(p, ELSE);
        ps_expr *b = p_expr(p, &f);
        e = ps__new(st, PS_IF, pos);
        e->u.ifte.cond = c;
        e->u.ifte.then = a;
        e->u.ifte.els = b;
        break;
    }
    default:
    op:
        e = p_op(p, L_IMPL, first);
        if (peek_t(p) == PIPE_FROM || peek_t(p) == PIPE_INTO)
            decline(p);
        break;
    }
    LEAVE();
    return e;
}

ps_expr *ps__fast_parse(ps_pstate *st, yyscan_t scanner)
{
    fp p;
    memset(&p, 0, sizeof p);
    p.st = st;
    p.scanner = scanner;
    if (setjmp(p.decline))
        return NULL;
    lex(&p, &p.cur);
    int f;
    ps_expr *e = p_expr(&p, &f);
    if (peek_t(&p) != PS_YYEOF)
        return NULL;
    return e;
}
