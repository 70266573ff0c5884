/* eval/: internals shared by the evaluator's own files. Not for other layers
 * (builtins use eval/value.h and eval/builtins.h). */
#ifndef STRAYLIGHT_EVAL_INTERNAL_H
#define STRAYLIGHT_EVAL_INTERNAL_H

#include <string.h>

#include "eval/builtins.h"
#include "eval/value.h"
#include "parser/parser.h"

/* ---- compiled code ----------------------------------------------------- */

typedef enum ev_op {
    C_CONST,        /* literal value (static object for strings/paths) */
    C_VAR,          /* env slot: level up, index */
    C_WITHVAR,      /* dynamic lookup through `with` scopes */
    C_SELECT,
    C_HASATTR,
    C_ATTRS,
    C_LIST,
    C_LAMBDA,
    C_CALL,
    C_LET,
    C_WITH,
    C_IF,
    C_ASSERT,
    C_NOT,
    C_EQ,
    C_NEQ,
    C_AND,
    C_OR,
    C_IMPL,
    C_UPDATE,
    C_CONCAT_LISTS,
    C_CONCAT_STRINGS,
    C_CURPOS,
    C_PRIM,         /* saturated call of a strict primop from the base env */
} ev_op;

typedef struct ev_code ev_code;

typedef struct ev_cattr {       /* a static attribute of C_ATTRS / C_LET */
    ps_sym name;
    uint32_t pos;
    ev_code *value;
    uint8_t where;              /* EV_AW_* */
    uint32_t sorted;            /* its index in the set, which is sorted by symbol */
} ev_cattr;

enum {
    EV_AW_NORMAL = 0,           /* thunk in the (rec) env */
    EV_AW_OUTER,                /* inherited: evaluated in the env outside */
    EV_AW_INHFROM,              /* in the inherit-from env */
};

typedef struct ev_cdyn {
    ev_code *name;
    ev_code *value;
    uint32_t pos;
} ev_cdyn;

typedef struct ev_cformal {
    ps_sym name;
    ev_code *def;
    uint32_t slot;
    ps_pos pos;
} ev_cformal;

typedef struct ev_clambda {
    ps_sym arg;
    bool has_formals;
    bool ellipsis;
    ev_cformal *formals;        /* sorted by symbol number */
    uint32_t nformals;
    uint32_t nslots;
    int8_t stack_env;           /* 1: the environment can live on the value stack; -1: not; 0: not known yet */
    int8_t spec_body;           /* 1: an application can be computed ahead (spec.c); -1: not; 0: not known yet */
    bool curried;               /* the body is a lambda (read at every call: kept here, not in the body) */
    ev_code *body;
    ps_sym name;
    ps_pos pos;
} ev_clambda;

typedef struct ev_cpath {       /* attribute path element */
    ps_sym name;                /* or PS_NOSYM with expr */
    uint32_t hint;              /* where name was found last time (ev_attrs_find_hint) */
    ev_code *expr;
} ev_cpath;

typedef struct ev_ins ev_ins;

enum { EV_FAST_NONE = 0, EV_FAST_SUB, EV_FAST_MUL, EV_FAST_LT };

/* The arithmetic builtins an expression may be computed ahead with */
enum { EV_SOP_NONE = 0, EV_SOP_ADD, EV_SOP_SUB, EV_SOP_MUL, EV_SOP_DIV, EV_SOP_LT };

struct ev_code {
    uint8_t op;
    bool tail_ok;
    uint8_t fast;               /* C_PRIM: an EV_FAST_* inline case for two integers */
    uint8_t sop;                /* C_PRIM: an EV_SOP_* */
    uint8_t spec;               /* nonzero: pure arithmetic over variables and constants,
                                   worth computing ahead instead of making a thunk (spec.c) */
    ps_pos pos;
    const ev_ins *bc;           /* bytecode, compiled on first evaluation */
    union {
        ev_value k;                                             /* C_CONST */
        struct { uint32_t level, index; ps_sym name; bool base; } var;  /* C_VAR */
        struct { uint32_t level; ps_sym name; uint32_t hint; } wvar; /* C_WITHVAR: level of the innermost with */
        struct { ev_code *e; ev_cpath *path; uint32_t n; ev_code *def; const char *text; } sel;
        struct {
            bool rec;
            bool presorted;                 /* attrs[i].sorted are set (the names are distinct) */
            ev_cattr *attrs; uint32_t nattrs;
            ev_code **inh; uint32_t ninh;   /* inherit-from sources */
            ev_cdyn *dyn; uint32_t ndyn;
            ev_code *body;                  /* C_LET */
        } attrs;
        struct { ev_code **e; uint32_t n; } list;
        ev_clambda *lambda;
        struct { ev_code *fn; ev_code **args; uint32_t nargs; } call;
        struct { ev_primop *op; ev_code **args; } prim;
        struct { ev_code *attrs; ev_code *body; uint32_t prev_with; } with;
        struct { ev_code *a, *b, *c; } ops;
        struct { ev_code **parts; ps_pos *ppos; uint32_t n; bool force_string; } concat;
    } u;
};

/* Compiles an expression whose free variables resolve against the base
 * environment (builtins), optionally extended by `scope` (scopedImport). */
ev_code *ev_compile(ev_state *S, ut_arena *arena, const ps_expr *e,
                    const ev_attrs *scope, ut_err *err);

/* The first index in a->a[lo, hi) whose name is not below name (sets are
 * sorted by symbol) */
static inline uint32_t ev_attrs_lower_bound(const ev_attrs *a, uint32_t lo, uint32_t hi, ps_sym name)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a->a[mid].name < name)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Lookup from a fixed place in the code: sets met there often have the
 * same layout (copies made by `//`, instances of one constructor), so the
 * index found last time is tried first. */
static inline ev_attr *ev_attrs_find_hint_flat(const ev_attrs *a, ps_sym name, uint32_t *hint)
{
    uint32_t h = *hint;
    if (h < a->h.n && a->a[h].name == name)
        return (ev_attr *)&a->a[h];
    ev_attr *r = ev_attrs_find(a, name);
    if (r)
        *hint = (uint32_t)(r - a->a);
    return r;
}
/* For a layer, the hint is the index in the flat set at the bottom */
ev_attr *ev_attrs_find_hint_layer(const ev_attrs *a, ps_sym name, uint32_t *hint);
static inline ev_attr *ev_attrs_find_hint(const ev_attrs *a, ps_sym name, uint32_t *hint)
{
    if (a->h.flags & EV_ATTRS_LAYER)
        return ev_attrs_find_hint_layer(a, name, hint);
    return ev_attrs_find_hint_flat(a, name, hint);
}

/* How many layers a set may have over its flat base; `//` flattens beyond */
#define EV_ATTRS_MAX_DEPTH 8
_Static_assert(EV_ATTRS_MAX_DEPTH <= 15, "a layer's depth is kept in four bits of its flags");
/* The attributes of a (a layer or not) in order into out (room for
 * ev_attrs_count(a)), less the names skip[0..nskip) (sorted); returns how
 * many were written. */
uint32_t ev_attrs_merge(const ev_attrs *a, ev_attr *out, const ps_sym *skip, uint32_t nskip);

/* ---- heap objects ------------------------------------------------------ */

struct ev_lambda {
    ev_gch h;
    const ev_clambda *code;
    ev_env *env;
};

enum { EV_TH_CODE = 0, EV_TH_APP, EV_TH_FAILED, EV_TH_DONE };
/* h.flags low bits: state; the blackhole mark EV_TH_BH is ORed over
 * CODE/APP. A FAILED thunk's evaluation raised an error that is kept
 * (u.f.err, a raw box: see ev_thunk_fail) and raised again, without
 * evaluating anything, whenever it is forced, as Nix (2.34 on) does. */
#define EV_TH_STATE(t) ((t)->h.flags & 3u)
#define EV_TH_BH 4u
#define EV_TH_SITE 16u  /* an application called at its function's position, with a call-site frame */

struct ev_thunk {
    ev_gch h;
    union {
        struct { const ev_code *code; ev_env *env; } c;
        struct { ev_gch *fn; ev_value arg; } app;
        ev_value v;
        struct { ev_gch *err; } f;
    } u;
};

struct ev_env {
    ev_gch h;       /* h.n slots; flags EV_ENV_WITH */
    ev_env *up;
    ev_value v[];
};
#define EV_ENV_WITH 1u

typedef struct ev_box {
    ev_gch h;       /* h.n values, or raw bytes if flags & EV_BOX_RAW */
    uint32_t pad;
    uint32_t bytes;
    ev_value v[];
} ev_box;
#define EV_BOX_RAW 1u

/* ---- errors / traces ------------------------------------------------- */

typedef struct ev_trace {
    ps_pos pos;
    const char *fmt;
    const char *arg;    /* for "%s"; when NULL, iarg fills a "%ld" */
    long iarg;
} ev_trace;

typedef struct ev_frame_msg {   /* a formatted trace line of a raised error */
    ps_pos pos;
    char *msg;
    size_t depth;   /* the trace depth it stands for: where context goes */
    bool always;    /* shown even when the trace is truncated */
    bool call;      /* a lambda call's frame: Nix adds these only with --show-trace */
} ev_frame_msg;

/* An addErrorContext message for the pending error, caught by t: placed
 * outside the frames raised within t; it is shown even when the trace is
 * truncated. */
void ev_error_add_context(ev_state *S, const ev_try *t, const char *msg);

/* ---- the state --------------------------------------------------------- */

typedef struct ev_pool ev_pool;

#define EV_GRAIN 16u
#define EV_SMALL_MAX 512u
#define EV_NCLASS (EV_SMALL_MAX / EV_GRAIN)

typedef struct ev_bump {            /* where a size class allocates from */
    char *next, *limit;             /* the free run being bumped into */
} ev_bump;

/* A frame of the bytecode VM (interp.c): the code running in it, its
 * environment, and what to do with its result. */
typedef struct ev_vframe {
    const ev_ins *pc;           /* where this frame resumes */
    ev_env *env;                /* environment of the code running here */
    ev_value *base;             /* stack height at entry */
    ev_value *slot;             /* THUNK: where the value goes; CALL: the function slot;
                                   STOP: the caller's output */
    ev_value *args;             /* CALL: arguments still to apply */
    ev_thunk *thunk;            /* THUNK: the thunk being computed */
    size_t ntraces;             /* trace depth to restore on return */
    uint32_t nargs;             /* CALL: how many of args remain */
    uint8_t kind;
} ev_vframe;

struct ev_state {
    ps_symtab *syms;
    ev_options opts;
    char *store_dir;
    char **search_path;
    size_t nsearch_path;

    /* value stack */
    ev_value *stack, *sp, *stack_end;
    size_t stack_bytes;

    /* VM frames (address space reserved once, so frame pointers stay valid) */
    ev_vframe *frames;
    size_t nframes, maxframes;

    /* heap */
    ev_bump bump[EV_NCLASS];
    ev_pool *pools;
    void *large;            /* linked list of large objects */
    size_t heap_bytes, gc_threshold;
    bool gc_stress;
    bool gc_stats;              /* STRAYLIGHT_GC_STATS: one line per collection on stderr */
    bool gc_verify;             /* STRAYLIGHT_GC_VERIFY: check the generational invariant (gc.c) */
    bool gc_stress_gaps;        /* STRAYLIGHT_GC_STRESS=2: stress, skipping safe points at random */
    uint64_t gc_count;
    /* the write barrier's view of the heap: its reserved address range and
     * a byte per card of it (gc.c) */
    uintptr_t gc_lo;
    size_t gc_span;
    uint8_t *gc_cards;

    /* positions */
    ps_pos *positions;
    uint32_t npositions, cappositions;

    /* call depth / C stack guard */
    uint32_t call_depth, max_call_depth;
    uintptr_t c_stack_limit;

    /* thunks being forced: roots + blackhole reset on caught errors */
    ev_thunk **forcing;
    size_t *forcing_depth;      /* trace depth when each forcing began */
    size_t nforcing, capforcing;
    size_t infrec_at;           /* where "entering the infinite recursion" goes; SIZE_MAX: none */
    ev_value **forcing_slots;   /* inline EV_APPI slots being computed */
    size_t *forcing_slot_depth; /* the trace depth each began at */
    size_t nforcing_slots, capforcing_slots;

    /* trace frames */
    ev_trace *traces;
    size_t ntraces, captraces;
    ps_pos errctx_pos;          /* where an errctx frame points (usually none) */

    /* the pending error */
    ev_try *try_top;
    ev_errkind err_kind;
    char *err_msg;
    bool err_preformatted;      /* parse errors arrive with their position */
    ps_pos err_pos;
    ev_frame_msg *err_frames;
    size_t nerr_frames, caperr_frames;
    /* the thunks the pending error failed share this box (one value: the
     * raw box of ev_try_end's copy of the error), renewed at every catch
     * until the error is handled, as they share Nix's exception object;
     * NULL once handled or when a new error is raised */
    ev_box *err_memo;

    /* base environment */
    ev_env *base_env;
    ps_sym *base_syms;          /* index -> symbol */
    const char **base_names;    /* NULL-terminated, for the parser's binder */
    uint32_t nbase, capbase;
    ut_hmap *base_index;        /* symbol -> index+1 */
    ev_value builtins;          /* the `builtins` attrset */
    ev_attrs *builtins_pending; /* during registration */

    /* files */
    ut_hmap *import_cache;      /* path -> ev_box* (1 value), rooted */
    ut_arena *code_arena;       /* parsed sources and compiled code */
    struct ev_preparse *preparse; /* files parsed ahead (preparse.c) */
    ut_hmap *intern;            /* context strings */

    ev_copy_path_fn copy_path;
    void *copy_path_ud;
    ut_hmap *copied_paths;      /* source path -> store path (heap) */
    ut_hmap *copy_sources;      /* store path -> source path (heap), the inverse */
    ut_hmap *checkouts;         /* store path -> host directory (heap) */
    ut_hmap *dir_cache;         /* see ev_dir_cache */
    ut_hmap *host_paths;        /* logical path -> host path (heap), see ev_host_path */

    ev_string *empty_string;
    ps_sym s_outPath, s_toString, s_functor, s_type, s_drvPath, s_name,
        s_file, s_line, s_column, s_value, s_success, s_derivation,
        s_body, s_or, s_key, s_operator, s_startSet, s_overrides;
};

/* gc.c */
void *ev_gc_alloc(ev_state *S, ev_objkind kind, size_t size);
/* ev_gc_alloc for an object whose bytes beyond `header` are written before
 * anything (the collector included) reads them: a large one is not zeroed
 * past its header. */
void *ev_gc_alloc_partial(ev_state *S, ev_objkind kind, size_t size, size_t header);

/* The common case of ev_gc_alloc, inline: a small object bumped from its
 * class's current chunk. */
static inline void *ev_gc_alloc_small(ev_state *S, ev_objkind kind, size_t size)
{
    size = (size + EV_GRAIN - 1) & ~(size_t)(EV_GRAIN - 1);
    if (size > EV_SMALL_MAX || size == 0)
        return ev_gc_alloc(S, kind, size);
    ev_bump *b = &S->bump[size / EV_GRAIN - 1];
    ev_gch *h;
    if ((size_t)(b->limit - b->next) < size)
        return ev_gc_alloc(S, kind, size);   /* the next free run, or a collection's chunk */
    h = (ev_gch *)b->next;
    b->next += size;
    memset(h, 0, size);
    h->kind = (uint8_t)kind;
    S->heap_bytes += size;
    return h;
}
/* ev_gc_alloc_small for an object whose bytes past `header` are all
 * written before anything (the collector included) reads them: only the
 * header is cleared. */
static inline void *ev_gc_alloc_small_partial(ev_state *S, ev_objkind kind, size_t size, size_t header)
{
    size = (size + EV_GRAIN - 1) & ~(size_t)(EV_GRAIN - 1);
    if (size > EV_SMALL_MAX || size == 0)
        return ev_gc_alloc_partial(S, kind, size, header);
    ev_bump *b = &S->bump[size / EV_GRAIN - 1];
    if ((size_t)(b->limit - b->next) < size)
        return ev_gc_alloc_partial(S, kind, size, header);
    ev_gch *h = (ev_gch *)b->next;
    b->next += size;
    memset(h, 0, header);
    h->kind = (uint8_t)kind;
    S->heap_bytes += size;
    return h;
}
/* The write barrier (gc.c): collections between full ones are minor and
 * do not trace old objects (those that survived a collection) again, so a
 * store of a heap reference into a heap object calls this with the
 * address written, unless the object was allocated after the last safe
 * point or was referenced directly from a root (the value stack, a
 * frame's environment, ...) at the last collection. Stores into stack
 * slots and large objects need not be recorded. */
#define EV_CARD_SHIFT 8
/* chunk geometry, shared with gc.c: chunks are aligned to their size, and
 * a chunk's mark bits (a bit per grain) are at this offset in its header */
#define EV_CHUNK_SHIFT 18
#define EV_CHUNK_BYTES ((size_t)1 << EV_CHUNK_SHIFT)
#define EV_CHUNK_BITS_AT 48
static inline void ev_gc_write(ev_state *S, const void *slot)
{
    uintptr_t off = (uintptr_t)slot - S->gc_lo;
    if (off < S->gc_span)
        S->gc_cards[off >> EV_CARD_SHIFT] = 1;
}
/* The same for a store into an object given by its header, when it is
 * in a chunk: nothing is recorded while it is young (unmarked). */
static inline void ev_gc_write_obj(ev_state *S, const ev_gch *o)
{
    uintptr_t off = (uintptr_t)o - S->gc_lo;
    if (off < S->gc_span) {
        const uint64_t *bits = (const uint64_t *)(((uintptr_t)o & ~(uintptr_t)(EV_CHUNK_BYTES - 1)) + EV_CHUNK_BITS_AT);
        size_t g = ((uintptr_t)o & (EV_CHUNK_BYTES - 1)) / EV_GRAIN;
        if ((bits[g / 64] >> (g % 64)) & 1)
            S->gc_cards[off >> EV_CARD_SHIFT] = 1;
    }
}
void ev_gc_init(ev_state *S);
void ev_gc_free_all(ev_state *S);
void ev_gc_safepoint_slow(ev_state *S);
static inline void ev_gc_safepoint(ev_state *S)
{
    if (S->heap_bytes >= S->gc_threshold || S->gc_stress)
        ev_gc_safepoint_slow(S);
}
static inline ev_env *ev_env_new(ev_state *S, ev_env *up, uint32_t n)
{
    ev_env *e = ev_gc_alloc_small(S, EV_OBJ_ENV, sizeof(ev_env) + n * sizeof(ev_value));
    e->h.n = n;
    e->up = up;
    return e;
}

static inline ev_thunk *ev_thunk_new(ev_state *S, const ev_code *code, ev_env *env)
{
    ev_thunk *t = ev_gc_alloc_small(S, EV_OBJ_THUNK, sizeof(ev_thunk));
    t->h.flags = EV_TH_CODE;
    t->u.c.code = code;
    t->u.c.env = env;
    return t;
}

void ev_trace_grow(ev_state *S);
static inline void ev_trace_push_fast(ev_state *S, ps_pos pos, const char *fmt, const char *arg)
{
    if (S->ntraces == S->captraces)
        ev_trace_grow(S);
    ev_trace *t = &S->traces[S->ntraces++];
    t->pos = pos;
    t->fmt = fmt;
    t->arg = arg;
    t->iarg = 0;
}

/* interp.c */
/* __curPos / unsafeGetAttrPos: { file, line, column }, or null without a position */
void ev_pos_value(ev_state *S, ps_pos p, ev_value *out);
void ev_eval(ev_state *S, const ev_code *c, ev_env *env, ev_value *out);
void ev_check_depth(ev_state *S, ps_pos pos);
/* Where Nix places a value (its determinePos): a lambda's or an unforced
 * expression's position, an application's function's; else none. */
ps_pos ev_value_pos(ev_state *S, const ev_value *v);
ev_value *ev_push1(ev_state *S);
void ev_eval_code_top(ev_state *S, ev_code *c, ev_value *out);

/* spec.c: marks c->spec at compile time; computes a marked expression if
 * that cannot fail (false: make the thunk as usual). Slots of env at level 0
 * from `filled` on are not bound yet (UINT32_MAX: all are). */
void ev_spec_mark(ev_code *c);
bool ev_spec_eval(const ev_code *c, ev_env *env, uint32_t filled, ev_value *out);
/* The same for `fn arg` (fn a lambda of one plain parameter): whether fn's
 * body is worth trying, and the attempt. */
bool ev_spec_applicable(const ev_value *fn);
bool ev_spec_apply(const ev_value *fn, const ev_value *arg, ev_value *out);

/* preparse.c: files read and parsed ahead on a second thread. For the
 * file path (read at host, whose status is st, or NULL when unknown): the
 * tree parsed ahead, with S's symbols, in *tree_arena (the caller frees
 * it), or NULL when the caller is to parse the file itself. The first call
 * for a state names its entry file. Records the file for the next run. */
struct stat;
ps_expr *ev_preparse_take(ev_state *S, const char *path, const char *host, const struct stat *st,
                          ut_arena **tree_arena);
/* Stops and joins the thread, gives the sources it read to the code
 * arena, writes the import log; from ev_state_free. */
void ev_preparse_end(ev_state *S);

/* state.c */
ev_value ev_import_path(ev_state *S, const char *path, ps_pos pos);
ev_code *ev_load_file(ev_state *S, const char *path, const ev_attrs *scope, ps_pos pos);
ev_code *ev_parse_compile(ev_state *S, const char *text, size_t len, ps_origin origin,
                          const char *path, const char *basedir, const ev_attrs *scope,
                          ps_pos pos);

/* prim_core.c */
extern const ev_primop_def ev_builtins_core[];
void ev_core_register_constants(ev_state *S);

/* print.c helpers */
void ev_format_float(ut_buf *out, double f);

static inline ev_value ev_obj_value(ev_gch *o)
{
    ev_value v = {0};
    v.u.obj = o;
    switch (o->kind) {
    case EV_OBJ_LAMBDA: v.type = EV_LAMBDA; break;
    case EV_OBJ_PRIMOP: v.type = EV_PRIMOP; break;
    case EV_OBJ_PAPP: v.type = EV_PRIMOP_APP; break;
    case EV_OBJ_THUNK: v.type = EV_THUNK; break;
    case EV_OBJ_ATTRS: v.type = EV_ATTRS; break;
    case EV_OBJ_LIST: v.type = EV_LIST; break;
    default: v.type = EV_NULL; break;
    }
    return v;
}

#endif
