/* The list of builtin families. Each family file eval/builtins/<family>.c
 * exports `const ev_primop_def ev_builtins_<family>[]`; add one line here
 * per family. */
#include "eval/builtins.h"

extern const ev_primop_def ev_builtins_strings[];
extern const ev_primop_def ev_builtins_data[];

void ev_builtins_register_all(ev_state *S)
{
    ev_register_primops(S, ev_builtins_strings);
    ev_register_primops(S, ev_builtins_data);
}
