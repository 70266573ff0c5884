/* libFuzzer entry for the differential property of the two parsers
 * (diff_check.h): any bytes, the fast parser declines or builds bison's
 * tree, and ps_parse's default gives what bison alone gives. The first byte
 * picks the pipe-operators option. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ps_options opts = {0};
    opts.home = "/home/fuzz";
    if (size) {
        opts.pipe_operators = data[0] & 1;
        data++;
        size--;
    }
    ps_symtab *syms = ps_symtab_new();
    char *text = ut_xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    bool fast;
    if (!diff_check(syms, "/fuzz/dir/input.nix", text, size, opts, "fuzz", false, &fast))
        abort();
    free(text);
    ps_symtab_free(syms);
    return 0;
}
