/* parser/: what other layers may call. */
#ifndef STRAYLIGHT_PARSER_H
#define STRAYLIGHT_PARSER_H

#include "parser/ast.h"

typedef enum ps_lint {
    PS_LINT_OFF = 0,
    PS_LINT_WARN,
    PS_LINT_FATAL,
} ps_lint;

typedef struct ps_options {
    const char *home;               /* for ~/paths; NULL: $HOME */
    ps_lint lint_url_literals;      /* --lint-url-literals */
    ps_lint lint_short_path_literals;
    ps_lint lint_absolute_path_literals;
    bool pipe_operators;            /* --extra-experimental-features pipe-operators */
    /* Names bound at top level (NULL-terminated); a variable bound nowhere
     * else and outside every `with` is an "undefined variable" parse error.
     * NULL: CppNix's base environment (the builtins). */
    const char *const *base_env;
    /* More top-level names, bound over base_env (e.g. the attributes of
     * scopedImport's scope); NULL-terminated, may be NULL. */
    const char *const *extra_env;
    /* Where warnings go (lints, `or` as an argument): the full text, "warning:"
     * to the final newline, already through ps_log_filter. NULL: stderr. */
    void (*warn)(void *ctx, const char *text, size_t len);
    void *warn_ctx;
} ps_options;

/* CppNix's base environment: the names ps_parse binds at top level when
 * ps_options.base_env is NULL (NULL-terminated). */
const char *const *ps_default_base_env(void);

/* Makes a source record in arena. For PS_ORIGIN_FILE, path must be absolute;
 * basedir is its directory. For stdin/strings, basedir is the directory
 * relative paths resolve against (the current directory for -E). */
ps_source *ps_source_new(ut_arena *arena, ps_origin origin, const char *path,
                         const char *text, size_t len, const char *basedir);

/* Parses src into a tree allocated in arena. On error returns NULL and sets
 * *err to Nix's message, including "at FILE:LINE:COL:" and the quoted source
 * line exactly as nix prints it (see ps_format_pos_snippet). Warnings from
 * lints go to stderr. */
ps_expr *ps_parse(ps_symtab *syms, const ps_source *src, ut_arena *arena,
                  const ps_options *opts, ut_err *err);

/* Replaces every symbol of the tree e by map[symbol] (see
 * ps_symtab_map_journal): a tree parsed with one table, for another. */
void ps_remap_syms(ps_expr *e, const ps_sym *map);

/* Prints the tree as `nix-instantiate --parse` does. */
void ps_print(ut_buf *out, const ps_symtab *syms, const ps_expr *e);
/* Variants for comparisons with older Nix printers. */
#define PS_PRINT_EXPAND_INHERIT_FROM 1u  /* `inherit (e) x;` as `x = (e).x;` (Nix < 2.20) */
void ps_print_flags(ut_buf *out, const ps_symtab *syms, const ps_expr *e, unsigned flags);

/* Appends the position description as Nix prints it in errors:
 *        at «stdin»:3:3:
 *             2|   y = 456;
 *             3|   x = 789;
 *              |   ^
 *             4| }
 * (the leading "       at " included). */
void ps_format_pos_snippet(ut_buf *out, ps_pos pos);
/* The same for warnings, which Nix indents by two more columns. */
void ps_format_pos_snippet_indent(ut_buf *out, ps_pos pos, unsigned indent);
/* Nix passes everything it logs through a filter that expands tabs to
 * 8-column stops counted from the start of the message (newlines count as
 * one column, as they do in Nix) and drops CRs. Apply it to the whole text
 * written to the terminal, "error: " included, and write out->len bytes:
 * a NUL byte of quoted source, which messages carry as C0 80, comes back
 * as NUL. */
void ps_log_filter(ut_buf *out, const char *s, size_t len);
/* "FILE:LINE:COL" with «stdin»/«string» for non-files. */
void ps_format_pos(ut_buf *out, ps_pos pos);

#endif
