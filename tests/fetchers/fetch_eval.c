/* Test driver: evaluates one expression with a given store, prints the
 * value (strict) or the error, and can dump the fetch log. Keeps the
 * fetcher tests independent of the command line front end.
 *
 *   fetch_eval [--pure] [--features F] [--log FILE] STORE-URL EXPR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/value.h"
#include "store/fetch.h"
#include "store/store.h"

int main(int argc, char **argv)
{
    ev_options o;
    memset(&o, 0, sizeof o);
    const char *volatile log = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--pure") == 0)
            o.pure = true;
        else if (strcmp(argv[i], "--features") == 0 && i + 1 < argc)
            o.experimental_features = argv[++i];
        else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
            log = argv[++i];
        else {
            fprintf(stderr, "fetch_eval: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: fetch_eval [--pure] [--features F] [--log FILE] STORE-URL EXPR\n");
        return 2;
    }
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(argv[i], &e);
    if (!st) {
        fprintf(stderr, "error: %s\n", e.msg);
        ut_err_clear(&e);
        return 2;
    }
    o.store = st;
    o.store_dir = st_store_dir(st);
    ev_state *S = ev_state_new(&o);
    const char *expr = argv[i + 1];
    volatile int rc = 0;
    ut_buf out = UT_BUF_INIT;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        ev_value *v = ev_stack_push(S, 1);
        ev_eval_string(S, expr, strlen(expr), PS_ORIGIN_STRING, "/", v);
        ev_force_deep(S, v, (ps_pos){0});
        ev_print(S, &out, v, EV_PRINT_STRICT);
        ut_buf_putc(&out, '\n');
        ev_try_end(S, &t);
    } else {
        ev_try_end(S, &t);
        ev_error_format(S, &out, false);
        fwrite(out.data, 1, out.len, stderr);
        ut_buf_clear(&out);
        rc = 1;
    }
    if (out.len)
        fwrite(out.data, 1, out.len, stdout);
    ut_buf_free(&out);
    if (log) {
        ut_buf j = UT_BUF_INIT;
        st_fetch_log_json(st_fetch_global_log(), &j);
        ut_buf_putc(&j, '\n');
        if (!ut_write_file_atomic(log, j.data, j.len, 0644, &e)) {
            fprintf(stderr, "error: %s\n", e.msg);
            ut_err_clear(&e);
            rc = 2;
        }
        ut_buf_free(&j);
    }
    st_fetch_log_clear(st_fetch_global_log());
    ev_state_free(S);
    st_store_close(st);
    return rc;
}
