/* Number builtins: bitAnd, bitOr, bitXor, ceil, floor. */
#include <math.h>
#include <stdint.h>

#include "eval/builtins.h"

#define BIT_PRIM(NAME, OP)                                                                                        \
    static void prim_##NAME(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)                                  \
    {                                                                                                             \
        int64_t x = ev_force_int(S, &a[0], pos, "while evaluating the first argument passed to builtins." #NAME); \
        int64_t y = ev_force_int(S, &a[1], pos, "while evaluating the second argument passed to builtins." #NAME); \
        *out = ev_mk_int(x OP y);                                                                                 \
    }
BIT_PRIM(bitAnd, &)
BIT_PRIM(bitOr, |)
BIT_PRIM(bitXor, ^)

/* A float result within int64 becomes an int; an int argument too large
 * to survive the round trip through a double is returned as it was. */
static void round_prim(ev_state *S, ev_value *a, ev_value *out, ps_pos pos, bool up)
{
    double d = ev_force_float(S, &a[0], pos,
                              up ? "while evaluating the first argument passed to builtins.ceil"
                                 : "while evaluating the first argument passed to builtins.floor");
    double r = up ? ceil(d) : floor(d);
    const double int_min = -9223372036854775808.0;   /* a power of two: exact */
    if (r >= int_min && r < -int_min)
        *out = ev_mk_int((int64_t)r);
    else if (a[0].type == EV_INT)
        *out = a[0];
    else
        ev_error(S, EV_ERR_EVAL, pos, "NixFloat argument %g is not in the range of NixInt", a[0].u.f);
}

static void prim_ceil(ev_state *S, ev_value *a, ev_value *out, ps_pos pos) { round_prim(S, a, out, pos, true); }
static void prim_floor(ev_state *S, ev_value *a, ev_value *out, ps_pos pos) { round_prim(S, a, out, pos, false); }

const ev_primop_def ev_builtins_numbers[] = {
    {"bitAnd", 2, prim_bitAnd, 0},
    {"bitOr", 2, prim_bitOr, 0},
    {"bitXor", 2, prim_bitXor, 0},
    {"ceil", 1, prim_ceil, 0},
    {"floor", 1, prim_floor, 0},
    {NULL, 0, NULL, 0},
};
