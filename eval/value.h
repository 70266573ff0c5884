/* eval/: values, the heap, forcing, errors — the API builtins are written
 * against.
 *
 * Rooting discipline (the one rule every builtin must follow):
 *   The collector is precise and non-moving, and it runs only at safe points:
 *   when the evaluator starts a function call or forces a thunk. Allocation
 *   alone never collects. So a builtin may allocate freely and keep C
 *   pointers to what it allocated, as long as it does not call anything that
 *   evaluates (ev_force*, ev_call, ev_coerce_to_string, ev_equal, ...) while
 *   holding a value that is reachable only from C locals. Before such a call,
 *   put the value in a stack slot (ev_stack_push) or inside an object that is
 *   itself rooted. Primop arguments and the output slot are stack slots.
 *   Objects never move, so pointers into rooted objects stay valid across a
 *   collection.
 *   Collections are mostly minor (eval/gc.c): objects that survived one are
 *   not traced again unless written. So an object filled across such a call
 *   (a result list filled element by element from callbacks) is kept in a
 *   stack slot of its own from before the first call until it is filled,
 *   not only inside another object; any other store of a heap value into
 *   an object that may have survived a collection records the slot with
 *   ev_gc_write (eval/internal.h). ev_force and ev_call's output do so.
 *
 * Errors unwind with longjmp to the nearest ev_try (tryEval, the command
 * line). A builtin must therefore not hold malloc'd memory across a call that
 * can fail; use GC objects or ev_scratch buffers instead. */
#ifndef STRAYLIGHT_EVAL_VALUE_H
#define STRAYLIGHT_EVAL_VALUE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parser/ast.h"
#include "parser/parser.h"
#include "util/util.h"

typedef struct ev_state ev_state;

/* ---- the heap ---------------------------------------------------------- */

/* Every heap object starts with this header. `n` is the element count of
 * variable-sized objects (string length lives elsewhere). */
typedef struct ev_gch {
    uint8_t kind;       /* ev_objkind */
    uint8_t mark;
    uint16_t flags;
    uint32_t n;
} ev_gch;

typedef enum ev_objkind {
    EV_OBJ_FREE = 0,
    EV_OBJ_STRING,
    EV_OBJ_CONTEXT,
    EV_OBJ_ATTRS,
    EV_OBJ_LIST,
    EV_OBJ_LAMBDA,
    EV_OBJ_PRIMOP,      /* static; never collected */
    EV_OBJ_PAPP,
    EV_OBJ_THUNK,
    EV_OBJ_ENV,
    EV_OBJ_BOX,         /* a builtin's private bag of values */
} ev_objkind;

#define EV_GC_STATIC 0x8000u   /* object not owned by the heap */

/* ---- values ------------------------------------------------------------ */

typedef enum ev_type {
    EV_NULL = 0,
    EV_BOOL,
    EV_INT,
    EV_FLOAT,
    EV_STRING,
    EV_PATH,
    EV_ATTRS,
    EV_LIST,
    EV_LAMBDA,
    EV_PRIMOP,
    EV_PRIMOP_APP,
    EV_THUNK,           /* not yet forced; ev_force replaces it */
    EV_ENV,             /* internal: an environment kept on the stack */
    EV_BOXV,            /* internal */
    EV_APPI,            /* not yet forced: `fn i` for a small integer i, stored
                           inline in the slot (genList elements); ev_force
                           replaces it in place, ev_share turns it into a
                           shared thunk before the value is copied elsewhere */
    EV_LREF,            /* not yet forced: element aux of the list u.l, an
                           EV_APPI when this was made; forcing forces that
                           element in place (so it is shared, as a thunk
                           would be) and takes its value */
} ev_type;

typedef struct ev_string ev_string;
typedef struct ev_context ev_context;
typedef struct ev_attrs ev_attrs;
typedef struct ev_list ev_list;
typedef struct ev_lambda ev_lambda;
typedef struct ev_primop ev_primop;
typedef struct ev_papp ev_papp;
typedef struct ev_thunk ev_thunk;
typedef struct ev_env ev_env;

/* 16 bytes: a tag and a payload. */
typedef struct ev_value {
    uint8_t type;       /* ev_type */
    uint8_t pad[3];
    uint32_t aux;       /* internal */
    union {
        int64_t i;
        double f;
        bool b;
        ev_string *s;   /* EV_STRING and EV_PATH */
        ev_attrs *a;
        ev_list *l;
        ev_lambda *fn;
        ev_primop *op;
        ev_papp *papp;
        ev_thunk *t;
        ev_env *env;
        ev_gch *obj;
    } u;
} ev_value;

/* Strings are byte strings (may hold NUL), always NUL-terminated. */
struct ev_string {
    ev_gch h;
    size_t len;
    ev_context *ctx;    /* NULL: no context; always NULL for paths */
    char s[];
};

/* A string context: sorted, duplicate-free interned C strings in Nix's
 * encoding: "/nix/store/…" (plain path), "=/nix/store/….drv" (a derivation
 * and its whole closure), "!out!/nix/store/….drv" (an output). */
struct ev_context {
    ev_gch h;           /* h.n elements */
    const char *e[];
};

/* Attribute sets: sorted by symbol number (not by name) for binary search;
 * everything user-visible (printing, attrNames) re-sorts by name.
 *
 * `big // small` (and `small // big`) with a few attributes on one side is
 * a layer: a[] holds the few, sorted, and base the set they override. The
 * copies of big that nixpkgs makes this way (a derivation's attributes
 * again in every output, `acc // { ... }` folds) become a few entries
 * each. Only lookups (ev_attrs_find) see layers; everything that goes
 * through the attributes one by one takes ev_attrs_flat's flat copy, made
 * once per layer. ev_force_attrs returns that flat copy; the VM's selects
 * and `//` use ev_force_attrs_any. */
typedef struct ev_attr {
    ps_sym name;
    uint32_t pos;       /* ev_pos_intern index; 0 = none */
    ev_value value;
} ev_attr;

struct ev_attrs {
    ev_gch h;           /* h.n attributes in a[] */
    uint32_t cap;       /* flat: room in a[]; a layer: attributes in the whole set */
    uint32_t filter;    /* a layer: ev_attrs_filter_bit of each name in a[] */
    ev_attrs *base;     /* a layer: the set a[] overrides; flattened: the flat copy */
    ev_attr a[];
};
#define EV_ATTRS_LAYER 0x0001u      /* h.flags */
#define EV_ATTRS_FLATTENED 0x0002u  /* a layer whose base is now its flat copy */
#define EV_ATTRS_DEPTH_SHIFT 8      /* h.flags bits 8-11: layers down to a flat set */
#define EV_ATTRS_DEPTH(a) (((a)->h.flags >> EV_ATTRS_DEPTH_SHIFT) & 0xfu)
/* A lookup passes a layer by when its name's bit is clear in the filter */
static inline uint32_t ev_attrs_filter_bit(ps_sym name) { return (uint32_t)1 << ((uint32_t)name * 0x9E3779B1u >> 27); }

struct ev_list {
    ev_gch h;           /* h.n elements */
    ev_value v[];
};

typedef void (*ev_primop_fn)(ev_state *S, ev_value *args, ev_value *out, ps_pos pos);

struct ev_primop {
    ev_gch h;           /* kind EV_OBJ_PRIMOP, flags EV_GC_STATIC */
    const char *name;   /* without "__" */
    uint32_t arity;
    ev_primop_fn fn;
    unsigned flags;     /* EV_PRIM_* */
};

/* A primop applied to fewer arguments than its arity. */
struct ev_papp {
    ev_gch h;           /* h.n arguments so far */
    ev_primop *op;
    ev_value args[];
};

/* ---- state ------------------------------------------------------------- */

typedef struct ev_options {
    const char *store_dir;          /* "/nix/store" if NULL */
    const char **search_path;       /* -I entries then NIX_PATH entries */
    size_t nsearch_path;
    const char *home;
    uint32_t max_call_depth;        /* 10000 if 0 */
    bool gc_stress;                 /* collect at every safe point */
    bool show_trace;
    bool pure;                      /* --pure-eval */
    const char *current_system;     /* "x86_64-linux" if NULL */
    struct ps_options parse;        /* lints, experimental features */
    const char *experimental_features; /* space-separated, from the command line */
    const char *corepkgs_dir;       /* where <nix/...> resolves after the search path */
    void *store;                    /* st_store * when the store layer is built;
                                       builtins reach it with ev_store() */
} ev_options;

ev_state *ev_state_new(const ev_options *opts);
void ev_state_free(ev_state *S);
ps_symtab *ev_syms(ev_state *S);
ps_sym ev_sym(ev_state *S, const char *name);
const char *ev_sym_str(ev_state *S, ps_sym s);
const ev_options *ev_opts(ev_state *S);
void *ev_store(ev_state *S);        /* opts.store (an st_store *), may be NULL */
/* Whether an experimental feature ("parse-toml-timestamps", ...) is enabled. */
bool ev_has_feature(ev_state *S, const char *name);

/* Positions are interned to 32-bit indices so attributes can carry them. */
uint32_t ev_pos_intern(ev_state *S, ps_pos pos);
ps_pos ev_pos_get(ev_state *S, uint32_t idx);

/* ---- the value stack (roots) ------------------------------------------- */

/* Pushes n null slots and returns the first; slots stay valid (the stack
 * never moves) until ev_stack_reset to a mark taken before. */
ev_value *ev_stack_push(ev_state *S, size_t n);
size_t ev_stack_mark(ev_state *S);
void ev_stack_reset(ev_state *S, size_t mark);

/* ---- constructors ------------------------------------------------------ */

/* A value of a type (aux 0) and its 8 payload bytes, made as two words: a
 * value built field by field and returned from a function that is not
 * inlined went through the stack, where loading it whole after a 1-byte
 * and an 8-byte store stalls store forwarding (nearly half the samples of
 * the evaluator's thunk maker). */
_Static_assert(sizeof(ev_value) == 16 && offsetof(ev_value, u) == 8, "ev_value is a tag word and a payload word");
static inline ev_value ev_mk_word(unsigned type, uint64_t payload)
{
    ev_value v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w[2] = {(uint8_t)type, payload};
    memcpy(&v, w, sizeof v);
#else
    memset(&v, 0, sizeof v);
    v.type = (uint8_t)type;
    memcpy(&v.u, &payload, sizeof payload);
#endif
    return v;
}
/* *dst = v as two 8-byte stores: a value returned in two registers and
 * assigned whole was put in a stack slot and copied from there with one
 * 16-byte load, which waits until the two stores have retired */
static inline void ev_value_put(ev_value *dst, ev_value v)
{
    uint64_t w[2];
    memcpy(w, &v, sizeof w);
    memcpy(dst, &w[0], 8);
    memcpy((char *)dst + 8, &w[1], 8);
}
/* *src as two 8-byte loads: a slot just written by two 8-byte stores
 * (ev_value_put, a value from a call) read with one 16-byte load stalls
 * the same way */
static inline ev_value ev_value_get(const ev_value *src)
{
    uint64_t w[2];
    memcpy(&w[0], src, 8);
    memcpy(&w[1], (const char *)src + 8, 8);
    ev_value v;
    memcpy(&v, w, sizeof v);
    return v;
}
static inline ev_value ev_mk_ptr(unsigned type, const void *p) { return ev_mk_word(type, (uint64_t)(uintptr_t)p); }
static inline ev_value ev_mk_null(void) { return ev_mk_word(EV_NULL, 0); }
static inline ev_value ev_mk_bool(bool b) { return ev_mk_word(EV_BOOL, b); }
static inline ev_value ev_mk_int(int64_t i) { return ev_mk_word(EV_INT, (uint64_t)i); }
static inline ev_value ev_mk_float(double f)
{
    uint64_t w;
    memcpy(&w, &f, sizeof w);
    return ev_mk_word(EV_FLOAT, w);
}

ev_string *ev_string_alloc(ev_state *S, size_t len);   /* s[len] = 0, content uninitialised */
ev_value ev_mk_string(ev_state *S, const char *s, size_t len, ev_context *ctx);
ev_value ev_mk_cstring(ev_state *S, const char *s);
ev_value ev_mk_path(ev_state *S, const char *s, size_t len);   /* s must be canonical */
static inline ev_value ev_mk_string_obj(ev_string *s) { return ev_mk_ptr(EV_STRING, s); }

ev_list *ev_list_new(ev_state *S, size_t n);   /* elements null */
static inline ev_value ev_mk_list(ev_list *l) { return ev_mk_ptr(EV_LIST, l); }

/* Attrset builder: allocate with a capacity, add in any order, then finish
 * (sorts; for duplicate names the first added wins, as listToAttrs). */
ev_attrs *ev_attrs_new(ev_state *S, size_t cap);
void ev_attrs_add(ev_attrs *a, ps_sym name, ev_value v, uint32_t pos);
void ev_attrs_finish(ev_attrs *a);
static inline ev_value ev_mk_attrs(ev_attrs *a) { return ev_mk_ptr(EV_ATTRS, a); }
ev_attr *ev_attrs_find(const ev_attrs *a, ps_sym name);  /* NULL if absent; layers too */
/* The attributes of a (a layer or not) in one sorted array: a itself when
 * it is flat, else its flat copy, made on the first call. */
ev_attrs *ev_attrs_flat(ev_state *S, ev_attrs *a);
static inline bool ev_attrs_is_layer(const ev_attrs *a) { return (a->h.flags & EV_ATTRS_LAYER) != 0; }
/* How many attributes a has, without flattening it */
static inline uint32_t ev_attrs_count(const ev_attrs *a) { return ev_attrs_is_layer(a) ? a->cap : a->h.n; }
/* Attributes in name order (for printing, attrNames...): fills idx[0..n). */
void ev_attrs_sorted_by_name(ev_state *S, const ev_attrs *a, uint32_t *idx);
ev_attrs *ev_attrs_empty(ev_state *S);

/* Context sets built while concatenating: a growable sorted set. */
typedef struct ev_ctxset {
    const char **e;
    size_t n, cap;
} ev_ctxset;
void ev_ctxset_add(ev_state *S, ev_ctxset *c, const char *elem, size_t len);
void ev_ctxset_add_ctx(ev_ctxset *c, const ev_context *ctx);
ev_context *ev_ctxset_finish(ev_state *S, ev_ctxset *c);   /* NULL if empty; frees c's array */
void ev_ctxset_free(ev_ctxset *c);
const char *ev_intern_str(ev_state *S, const char *s, size_t len);

/* A value that evaluates `fn arg` when forced. fn and arg are copied. */
ev_value ev_mk_app_thunk(ev_state *S, const ev_value *fn, const ev_value *arg);
/* The same, forced as zipAttrsWith's applications are in Nix: called at the
 * position of the function it applies, with a call-site frame. */
ev_value ev_mk_app_thunk_sited(ev_state *S, const ev_value *fn, const ev_value *arg);

/* ---- forcing ----------------------------------------------------------- */

void ev_force_slow(ev_state *S, ev_value *v, ps_pos pos);
#define EV_UNFORCED_TYPES ((1u << EV_THUNK) | (1u << EV_APPI) | (1u << EV_LREF))
static inline void ev_force(ev_state *S, ev_value *v, ps_pos pos)
{
    if ((1u << v->type) & EV_UNFORCED_TYPES)
        ev_force_slow(S, v, pos);
}
/* The list slot an EV_LREF stands for */
static inline ev_value *ev_lref_slot(const ev_value *v) { return &v->u.l->v[v->aux]; }
/* Reads a slot for copying it into another container without forcing it.
 * Plain assignment is fine for every value except EV_APPI (an unforced
 * generated list element), which would then be computed once per copy;
 * ev_share gives it a shared thunk first. Use it when moving unforced list
 * elements between lists or into function arguments. */
ev_value ev_share_slow(ev_state *S, ev_value *slot);
static inline ev_value ev_share(ev_state *S, ev_value *slot)
{
    return slot->type == EV_APPI ? ev_share_slow(S, slot) : *slot;
}
/* Element i of l for copying elsewhere: an unforced generated element is
 * referred to where it is (EV_LREF) rather than given a heap thunk. */
static inline ev_value ev_share_elem(ev_state *S, ev_list *l, uint32_t i)
{
    ev_value *slot = &l->v[i];
    if (slot->type != EV_APPI)
        return *slot;
    (void)S;
    ev_value r = {0};
    r.type = EV_LREF;
    r.aux = i;
    r.u.l = l;
    return r;
}
void ev_force_deep(ev_state *S, ev_value *v, ps_pos pos);

/* Force and check the type; raise Nix's type error otherwise
 * ("expected a set but found an integer: 1"). */
int64_t ev_force_int(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);
double ev_force_float(ev_state *S, ev_value *v, ps_pos pos, const char *errctx); /* int promoted */
bool ev_force_bool(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);
ev_attrs *ev_force_attrs(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);   /* flat */
ev_attrs *ev_force_attrs_any(ev_state *S, ev_value *v, ps_pos pos, const char *errctx); /* maybe a layer */
ev_list *ev_force_list(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);
void ev_force_function(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);
/* A string value (not a path, no coercion); ctx may be NULL to ignore. */
ev_string *ev_force_string(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);
/* Same, but context is forbidden ("the string '…' is not allowed to refer to
 * a store path"). */
ev_string *ev_force_string_noctx(ev_state *S, ev_value *v, ps_pos pos, const char *errctx);

bool ev_is_function(const ev_value *v);   /* lambda, primop, primop-app (not functor) */

/* Nix's showType: "an integer", "a set", "a function", ... */
const char *ev_type_name(const ev_value *v);
/* Nix's `builtins.typeOf` names: "int", "set", "lambda", ... */
const char *ev_typeof_name(const ev_value *v);

/* ---- coercion, equality, ordering ------------------------------------- */

typedef enum ev_coerce_flags {
    EV_COERCE_MORE = 1,           /* also null, bools, numbers, lists (toString) */
    EV_COERCE_COPY_TO_STORE = 2,  /* paths become store paths ("${./p}") */
    EV_COERCE_STRICT_STR = 4,     /* no __toString/outPath (string interpolation keeps them; kept for API) */
} ev_coerce_flags;

/* Appends the string form of v to out and its context to ctx (may be NULL
 * to drop context), following Nix's coerceToString. */
void ev_coerce_to_string(ev_state *S, ev_value *v, ps_pos pos, unsigned flags,
                         ut_buf *out, ev_ctxset *ctx, const char *errctx);
/* coerceToPath: a path value, or a string starting with '/'; appends the path. */
void ev_coerce_to_path(ev_state *S, ev_value *v, ps_pos pos, ut_buf *out,
                       const char *errctx);

bool ev_equal(ev_state *S, ev_value *a, ev_value *b, ps_pos pos, const char *errctx);
/* For __lessThan and sort: <0, 0, >0; raises on incomparable values. */
int ev_compare(ev_state *S, ev_value *a, ev_value *b, ps_pos pos, const char *errctx);

/* ---- calling ------------------------------------------------------------ */

/* out = fn args[0] ... args[nargs-1]. fn, args and out must be rooted
 * (stack slots or inside rooted objects); out may alias fn. */
void ev_call(ev_state *S, ev_value *fn, size_t nargs, ev_value *args, ev_value *out, ps_pos pos);

/* ---- errors ------------------------------------------------------------ */

typedef enum ev_errkind {
    EV_ERR_EVAL = 0,      /* type errors and the like: not caught by tryEval */
    EV_ERR_THROWN,        /* builtins.throw: caught by tryEval */
    EV_ERR_ASSERT,        /* failed assert: caught by tryEval */
    EV_ERR_ABORT,         /* builtins.abort: never caught */
    EV_ERR_INFREC,        /* infinite recursion */
    EV_ERR_STACK,         /* max-call-depth */
} ev_errkind;

UT_NORETURN void ev_error(ev_state *S, ev_errkind kind, ps_pos pos, const char *fmt, ...)
    UT_PRINTF(4, 5);
#define ev_throw_type_error(S, pos, ...) ev_error((S), EV_ERR_EVAL, (pos), __VA_ARGS__)
/* Raises "expected <what> but found <type>: <value>" like Nix. */
UT_NORETURN void ev_error_type(ev_state *S, ps_pos pos, const char *what, ev_value *v,
                               const char *errctx);

/* Error context frames for traces ("… while evaluating the attribute 'x'"):
 * push before evaluating, pop after; when an error is raised the frames that
 * are active are copied into it. The message is formatted only on error, so
 * pushing is cheap. fmt may contain one "%s" filled by arg. */
void ev_trace_push(ev_state *S, ps_pos pos, const char *fmt, const char *arg);
void ev_trace_pop(ev_state *S);

/* Catching: 
 *     ev_try t;
 *     if (ev_try_begin(S, &t) == 0) { ...; ev_try_end(S, &t); }
 *     else { ...error is in t.kind / ev_try_message(S, &t)...; ev_try_end(S, &t); }
 * ev_try_end restores the stack, traces and call depth. */
typedef struct ev_try {
    jmp_buf jb;
    struct ev_try *prev;
    size_t stack_mark;
    size_t nframes;
    size_t trace_depth;
    uint32_t call_depth;
    void *saved_blackholes;
    size_t nblackholes;
    size_t nforcing_slots;
    ps_pos errctx_pos;
    ev_errkind kind;
    bool passthrough;   /* only adds context and raises the error again */
    bool caught;        /* an error came here */
    /* Whether the error is handed on rather than handled: the frames of an
     * error are built only when its real catcher is the outermost one. */
    enum { EV_TRY_CATCHES, EV_TRY_RETHROWS, EV_TRY_CATCHABLE_ONLY } pass;
} ev_try;
#define ev_try_begin(S, t) (ev_try_enter((S), (t)), setjmp((t)->jb))
void ev_try_enter(ev_state *S, ev_try *t);
void ev_try_end(ev_state *S, ev_try *t);
/* Full error text as Nix prints it (with "error: " and traces). */
void ev_error_format(ev_state *S, ut_buf *out, bool show_trace);
/* Just the message (for tryEval-like uses and addErrorContext). */
const char *ev_error_message(ev_state *S);
/* Adds a trace line to the pending error ("… while …") — used when an
 * error passes through addErrorContext. */
void ev_error_add_trace(ev_state *S, ps_pos pos, const char *msg);
/* The format of a trace entry ("%s" of its arg) shown even when the trace
 * is truncated, as Nix's "while evaluating derivation" frames are. */
extern const char ev_trace_fmt_always[];
UT_NORETURN void ev_rethrow(ev_state *S);

/* ---- output ------------------------------------------------------------ */

typedef enum ev_print_flags {
    EV_PRINT_STRICT = 1,    /* force everything (--strict) */
} ev_print_flags;
/* nix-instantiate --eval style (Nix's printValue / ValuePrinter). */
void ev_print(ev_state *S, ut_buf *out, ev_value *v, unsigned flags);
/* Nix string literal escaping ("\"a\\n\""). */
void ev_print_string_lit(ut_buf *out, const char *s, size_t len);
/* toJSON / --json; copy_to_store as toJSON does for paths. */
void ev_to_json(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool strict, ev_ctxset *ctx);
void ev_to_xml(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool location, ev_ctxset *ctx);

/* ---- evaluation entry points ------------------------------------------ */

/* Parses and evaluates a file (import semantics, cached per path; a
 * directory means its default.nix). */
void ev_eval_file(ev_state *S, const char *path, ev_value *out, ps_pos pos);
/* Parses and evaluates text (-E, origin string/stdin) with basedir. */
void ev_eval_string(ev_state *S, const char *text, size_t len, ps_origin origin,
                    const char *basedir, ev_value *out);
/* The global `builtins` attrset. */
ev_value *ev_builtins_value(ev_state *S);

/* Paths: canonicalise (remove ., .., //), as Nix's canonPath. Returns malloc'd. */
char *ev_canon_path(const char *path, size_t len);
/* Whether ev_canon_path would return the path unchanged */
bool ev_path_is_canon(const char *path, size_t len);
/* Resolve <name> against the search path (NIX_PATH semantics); NULL if absent. */
char *ev_find_file(ev_state *S, const char *name, size_t len);
/* Copy a path into the store for "${./p}"; the hook is set by higher layers.
 * Returns the store path (malloc'd) or NULL with err set. */
typedef char *(*ev_copy_path_fn)(void *ud, ev_state *S, const char *path, ut_err *err);
void ev_set_copy_path_hook(ev_state *S, ev_copy_path_fn fn, void *ud);
char *ev_copy_path_to_store(ev_state *S, const char *path, ps_pos pos);
/* Where to read a logical path on this machine. A path under the store dir
 * that is not on the host (no /nix/store, or a store kept elsewhere) is read
 * from the source this evaluation copied it from, or else from the store's
 * own copy, materialised once into a cache. Every file system read of the
 * evaluator goes through here. Returns path itself, or a string owned by S
 * (valid until S is freed). */
const char *ev_host_path(ev_state *S, const char *path);
/* Directories already seen not to be symlinks, for path resolution (keys
 * only; lives as long as S). Files are assumed not to change during one
 * evaluation, as Nix does. */
ut_hmap *ev_dir_cache(ev_state *S);
/* A slot, rooted for the life of S, for a value computed from files, which
 * (as in Nix) are assumed not to change during one evaluation. ns names the
 * cache. NULL when absent, unless create (then a null-valued new slot). */
ev_value *ev_memo_slot(ev_state *S, const char *ns, const char *key, size_t klen, bool create);
/* Records that store_path holds a copy of source (for ev_host_path). */
void ev_note_copy(ev_state *S, const char *source, const char *store_path);

/* Memory statistics. */
size_t ev_heap_bytes(ev_state *S);
void ev_gc_collect(ev_state *S);

#endif
