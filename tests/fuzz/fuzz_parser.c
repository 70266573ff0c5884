/* libFuzzer entry for the parser: any bytes must parse or fail with a
 * located message, never crash or trip a sanitizer. The first byte picks
 * options, so the lint and pipe-operator paths are explored too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* warnings are checked for shape, not printed: printing would dominate */
static void warn_sink(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    if (len < 9 || memcmp(text, "warning: ", 9) != 0 || text[len - 1] != '\n')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ps_options opts = {0};
    opts.home = "/home/fuzz";
    opts.warn = warn_sink;
    if (size) {
        opts.pipe_operators = data[0] & 1;
        opts.lint_url_literals = (ps_lint)((data[0] >> 1) % 3);
        opts.lint_short_path_literals = (ps_lint)((data[0] >> 3) % 3);
        opts.lint_absolute_path_literals = (ps_lint)((data[0] >> 5) % 3);
        data++;
        size--;
    }
    ps_symtab *syms = ps_symtab_new();
    ut_arena *arena = ut_arena_new();
    char *text = ut_xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    const ps_source *src = ps_source_new(arena, PS_ORIGIN_FILE, "/fuzz/dir/input.nix", text, size, NULL);
    ut_err err = UT_ERR_INIT;
    ps_expr *e = ps_parse(syms, src, arena, &opts, &err);
    if (e) {
        ut_buf b = UT_BUF_INIT;
        ps_print(&b, syms, e);
        if (b.len == 0)
            abort();
        ut_buf_free(&b);
    } else if (!err.msg || !strstr(err.msg, "\n       at ")) {
        abort();
    }
    ut_err_clear(&err);
    free(text);
    ut_arena_free(arena);
    ps_symtab_free(syms);
    return 0;
}
