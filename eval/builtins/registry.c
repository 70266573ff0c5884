/* The list of builtin families. Each family file eval/builtins/<family>.c
 * exports `const ev_primop_def ev_builtins_<family>[]`; add one line here
 * per family. */
#include "eval/builtins.h"

extern const ev_primop_def ev_builtins_strings[];
extern const ev_primop_def ev_builtins_data[];
extern const ev_primop_def ev_builtins_lists[];
extern const ev_primop_def ev_builtins_attrs[];
extern const ev_primop_def ev_builtins_numbers[];
extern const ev_primop_def ev_builtins_files[];
extern const ev_primop_def ev_builtins_files_store[];
extern const ev_primop_def ev_builtins_files_add[];
extern const ev_primop_def ev_builtins_hash[];
extern const ev_primop_def ev_builtins_context[];
extern const ev_primop_def ev_builtins_control[];
extern const ev_primop_def ev_builtins_flakeref[];
extern const ev_primop_def ev_builtins_fetchers[];
void ev_builtins_control_constants(ev_state *S);
void ev_builtins_derivation_register(ev_state *S);

void ev_builtins_register_all(ev_state *S)
{
    ev_register_primops(S, ev_builtins_strings);
    ev_register_primops(S, ev_builtins_data);
    ev_register_primops(S, ev_builtins_lists);
    ev_register_primops(S, ev_builtins_attrs);
    ev_register_primops(S, ev_builtins_numbers);
    ev_register_primops(S, ev_builtins_files);
    ev_register_primops(S, ev_builtins_files_store);
    ev_register_primops(S, ev_builtins_files_add);
    ev_register_primops(S, ev_builtins_hash);
    ev_register_primops(S, ev_builtins_context);
    ev_register_primops(S, ev_builtins_control);
    ev_register_primops(S, ev_builtins_flakeref);
    ev_register_primops(S, ev_builtins_fetchers);
    ev_builtins_control_constants(S);
    ev_builtins_derivation_register(S);
}
