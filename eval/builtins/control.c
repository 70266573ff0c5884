/* Control and environment builtins: warn, traceVerbose, break, and the
 * constants true, false, null and currentTime. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eval/builtins.h"

static void prim_warn(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *m = ev_force_string(S, &a[0], pos, "while evaluating the first argument; the message passed to builtins.warn");
    /* Nix's logger: continuation lines line up under the message, unless
     * the message itself starts on a new line. */
    ut_buf b = UT_BUF_INIT;
    const char *prefix = "evaluation warning:";
    ut_buf_puts(&b, prefix);
    bool own_line = m->len && m->s[0] == '\n';
    if (!own_line)
        ut_buf_putc(&b, ' ');
    for (size_t i = 0; i < m->len; i++) {
        ut_buf_putc(&b, m->s[i]);
        if (m->s[i] == '\n' && !own_line && i + 1 < m->len)
            ut_buf_printf(&b, "%*s", (int)strlen(prefix) + 1, "");
    }
    ut_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stderr);
    ut_buf_free(&b);
    ev_force(S, &a[1], pos);
    *out = a[1];
}

/* Without --trace-verbose (not an option here yet) the message is not
 * even evaluated. */
static void prim_traceVerbose(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[1], pos);
    *out = a[1];
}

/* Without a debugger, break is the identity. */
static void prim_break(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    (void)S;
    (void)pos;
    *out = a[0];
}

const ev_primop_def ev_builtins_control[] = {
    {"warn", 2, prim_warn, 0},
    {"traceVerbose", 2, prim_traceVerbose, 0},
    {"break", 1, prim_break, 0},
    {NULL, 0, NULL, 0},
};

void ev_builtins_control_constants(ev_state *S);
void ev_builtins_control_constants(ev_state *S)
{
    ev_register_value(S, "true", ev_mk_bool(true), 0);
    ev_register_value(S, "false", ev_mk_bool(false), 0);
    ev_register_value(S, "null", ev_mk_null(), 0);
    /* The clock is read once, when evaluation starts, as in Nix. */
    if (!ev_opts(S)->pure)
        ev_register_value(S, "currentTime", ev_mk_int((int64_t)time(NULL)), 0);
}
