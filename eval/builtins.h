/* eval/: how builtin families plug into the evaluator.
 *
 * Each family lives in one file eval/builtins/<family>.c (or eval/pure/ for
 * helpers with no evaluator dependency) and exports one table:
 *
 *     const ev_primop_def ev_builtins_<family>[] = {
 *         {"fromJSON", 1, prim_fromJSON, 0},
 *         {"map",      2, prim_map,      EV_PRIM_GLOBAL},
 *         {NULL, 0, NULL, 0},
 *     };
 *
 * eval/builtins/registry.c (owned by the builtins family files' author)
 * defines ev_builtins_register_all(), which calls ev_register_primops() for
 * every family table. The evaluator calls it once per ev_state, after its
 * own core primops (eval/prim_core.c), so a family may override a core one
 * by registering the same name. eval/CMakeLists.txt globs eval/builtins/ (every .c file)
 * so adding a family touches only eval/builtins/.
 *
 * A primop's function receives its `arity` arguments as rooted stack slots,
 * unforced (force what you need with ev_force*), and writes its result to
 * `out` (also a stack slot). See eval/value.h for the rooting and error
 * rules. */
#ifndef STRAYLIGHT_EVAL_BUILTINS_H
#define STRAYLIGHT_EVAL_BUILTINS_H

#include "eval/value.h"

enum {
    EV_PRIM_GLOBAL = 1,     /* also bound at top level (map, toString, import...) */
    EV_PRIM_INTERNAL = 2,   /* only as __name at top level, not in `builtins` */
    EV_PRIM_STRICT = 4,     /* forces every argument, first to last, before
                               anything else can fail or be observed: a
                               saturated call is then compiled to evaluate the
                               arguments directly, without thunks */
};

typedef struct ev_primop_def {
    const char *name;       /* without "__" */
    unsigned arity;
    ev_primop_fn fn;
    unsigned flags;
} ev_primop_def;

/* Registers `builtins.<name>` and `__<name>`, plus `<name>` when
 * EV_PRIM_GLOBAL. Must be called before evaluation starts. */
void ev_register_primops(ev_state *S, const ev_primop_def *defs);
void ev_register_primop(ev_state *S, const char *name, unsigned arity, ev_primop_fn fn,
                        unsigned flags);
/* A constant (builtins.nixVersion, builtins.storeDir, ...). */
void ev_register_value(ev_state *S, const char *name, ev_value v, unsigned flags);
/* A builtin written in Nix (e.g. `derivation`): the source is evaluated
 * lazily, the first time the name is used. */
void ev_register_nix(ev_state *S, const char *name, const char *nix_source, unsigned flags);

/* Defined in eval/builtins/registry.c. */
void ev_builtins_register_all(ev_state *S);

/* Scratch memory that is freed when the current ev_try unwinds or when the
 * outermost evaluation returns, for builtins that need C buffers across
 * calls that may fail. */
void *ev_scratch_alloc(ev_state *S, size_t n);

#endif
