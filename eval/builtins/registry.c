/* The list of builtin families. Each family file eval/builtins/<family>.c
 * exports `const ev_primop_def ev_builtins_<family>[]`; add one line here
 * per family. (Created by the evaluator core as an empty list; owned by the
 * builtins families from here on.) */
#include "eval/builtins.h"

void ev_builtins_register_all(ev_state *S)
{
    (void)S;
}
