/* parser/: shared between the lexer, the grammar and the tree builders.
 * Nothing here is visible to other layers. */
#ifndef STRAYLIGHT_PARSER_INTERNAL_H
#define STRAYLIGHT_PARSER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "parser/parser.h"

/* Token locations are byte offsets into the source, as CppNix tracks them;
 * line and column are only computed for nodes and messages. */
typedef struct ps_loc {
    int first, last;
} ps_loc;

/* A token's text: points into the source, or into the arena when it had to
 * be unescaped. has_indent marks raw indented-string text, the only kind
 * whose leading spaces stripIndentation may remove. */
typedef struct ps_strtok {
    const char *p;
    uint32_t l;         /* sources are smaller than 2 GiB */
    bool has_indent;
} ps_strtok;

/* Growable array in the arena (old storage is abandoned on growth; the
 * arena frees it with the tree). */
typedef struct ps_vec {
    void *data;
    uint32_t n, cap;
} ps_vec;

/* One piece of a string or indented string: an expression, or (e == NULL)
 * literal text. */
typedef struct ps_part {
    ps_loc loc;
    ps_expr *e;
    ps_strtok s;
} ps_part;

typedef struct ps_inh {
    ps_sym name;
    ps_loc loc;
} ps_inh;

typedef struct ps_formals_b {
    ps_vec formals;     /* ps_formal */
    bool ellipsis;
} ps_formals_b;

typedef struct ps_attr_slot {
    const ps_attrs *owner;
    ps_sym sym;
    uint32_t idx;
} ps_attr_slot;

typedef struct ps_pstate {
    ps_symtab *syms;
    const ps_source *src;
    ut_arena *arena;
    const ps_options *opts;
    ut_err *err;
    ps_expr *result;
    bool failed;
    /* line_starts[i] is the offset of line i+1; line_starts[nlines] is
     * UINT32_MAX */
    uint32_t *line_starts;
    size_t nlines;
    size_t last_line;       /* index of the line ps__pos found last */
    /* (attrs, symbol) -> index of the definition, for duplicate detection
     * and merging while binds are built; stale entries fail validation. */
    ps_attr_slot *aslots;
    size_t naslots, naslots_used;
    const char *home;
    const char *lexbase;    /* the scanner's copy of the text */
    const char *lexend;     /* lexbase + the text's length */
    const char *text;       /* src->text, read once per token otherwise */
    /* the scanner while one runs over src->text itself, NULL otherwise:
     * quoting the source (snippets) must first ps__lex_unhold it */
    void *inplace_scanner;
    ps_loc prev_loc;        /* the location before the current rule's */
    /* the last `e or` call (a "cursed or"), until a rule decides whether it
     * is an argument, which Nix warns about */
    ps_expr *cursed_or;
    ps_loc cursed_or_loc;
    ps_sym s_sub, s_mul, s_div, s_lessThan, s_findFile, s_nixPath, s_or, s_body;
} ps_pstate;

/* Zeroed memory for the tree, in its arena. Every allocation of the tree
 * goes through these, so that the arena can be bypassed in one place.
 * (Taking blocks and cutting them up here was a few percent faster, but
 * the evaluator parses every file into one long-lived arena, where each
 * parse would have left a block's unused tail behind.) */
static inline void *ps__alloc(ps_pstate *st, size_t n)
{
    return ut_arena_alloc(st->arena, n);
}
static inline char *ps__alloc_bytes(ps_pstate *st, size_t n)
{
    return ut_arena_alloc(st->arena, n);
}

/* positions: line_starts ends with a UINT32_MAX sentinel; the line found
 * last is tried inline, as most nodes are on it */
ps_pos ps__pos_search(ps_pstate *st, uint32_t off);
static inline ps_pos ps__pos(ps_pstate *st, int offset)
{
    uint32_t off = offset < 0 ? 0 : (uint32_t)offset;
    const uint32_t *ls = st->line_starts;
    size_t lo = st->last_line;
    if (ls[lo] <= off && ls[lo + 1] > off)
        return (ps_pos){st->src, (uint32_t)lo + 1, off - ls[lo] + 1};
    return ps__pos_search(st, off);
}
#define PS_AT(st, loc) ps__pos((st), (loc).first)

/* errors (always return false so callers can `return ps__error(...)`) */
bool ps__error_at(ps_pstate *st, ps_pos pos, const char *fmt, ...) UT_PRINTF(3, 4);
void ps__format_message(ut_buf *out, const char *msg, unsigned indent);

/* vectors */
void *ps__vec_grow(ps_pstate *st, ps_vec *v, size_t elem);
/* A zeroed new last element. Inline, so that the zeroing of a fixed-size
 * element is a few stores rather than a call. */
static inline void *ps__vec_push(ps_pstate *st, ps_vec *v, size_t elem)
{
    if (v->n == v->cap)
        ps__vec_grow(st, v, elem);
    char *slot = (char *)v->data + (size_t)v->n++ * elem;
    memset(slot, 0, elem);
    return slot;
}

/* nodes */
ps_expr *ps__new(ps_pstate *st, ps_kind kind, ps_pos pos);
/* s must live as long as the tree: the source's text (which outlives it),
 * the tree's arena, or static */
ps_expr *ps__string(ps_pstate *st, const char *s, size_t len, ps_pos pos);
ps_expr *ps__var(ps_pstate *st, ps_sym name, ps_pos pos);
ps_expr *ps__call2(ps_pstate *st, ps_pos pos, ps_expr *fn, ps_expr *a, ps_expr *b);
ps_expr *ps__make_call(ps_pstate *st, ps_pos pos, ps_expr *fn, ps_expr *arg);
ps_expr *ps__concat(ps_pstate *st, ps_pos pos, bool force_string, ps_part *parts, uint32_t n);
bool ps__unescape(ps_pstate *st, const char *s, size_t len, ps_loc loc, ps_strtok *out);
ps_expr *ps__strip_indentation(ps_pstate *st, ps_pos pos, ps_vec *parts);
ps_expr *ps__new_attrs(ps_pstate *st, ps_pos pos);
bool ps__add_attr(ps_pstate *st, ps_expr *attrs, ps_vec *path, ps_loc loc, ps_expr *e);
bool ps__inherit(ps_pstate *st, ps_expr *attrs, ps_vec *names, ps_expr *from, ps_loc from_loc);
bool ps__attrname_from_string(ps_pstate *st, ps_expr *s, ps_attrname *out);
bool ps__lambda(ps_pstate *st, ps_expr **out, ps_pos pos, ps_sym arg, ps_formals_b *f, ps_expr *body);
ps_expr *ps__path(ps_pstate *st, ps_strtok t, ps_loc loc);
ps_expr *ps__hpath(ps_pstate *st, ps_strtok t, ps_loc loc);
bool ps__lint_uri(ps_pstate *st, ps_strtok t, ps_loc loc);
bool ps__require_pipes(ps_pstate *st, ps_loc loc);
bool ps__check_nul(ps_pstate *st, ps_strtok t, ps_loc loc);
void ps__cursed_or_reset(ps_pstate *st, ps_expr *e);
void ps__cursed_or_warn(ps_pstate *st, ps_expr *e);

/* printing helpers shared with error messages */
void ps__print_ident(ut_buf *out, const char *s, size_t len);
void ps__print_string(ut_buf *out, const char *s, size_t len);
void ps__print_attrpath(ut_buf *out, const ps_symtab *syms, const ps_attrname *elems, uint32_t n);
void ps__format_snippet(ut_buf *out, ps_pos pos, unsigned indent);

/* zeroed per-symbol counters, valid until the next intern; callers must
 * leave them zero */
uint32_t *ps__symtab_scratch(ps_symtab *t, size_t *n);
/* ps_default_base_env() as symbols, interned on first use */
const ps_sym *ps__symtab_default_base(ps_symtab *t, size_t *n);
/* names (NULL-terminated) as symbols, valid until the next call; interned
 * again only when they differ from the last call's */
const ps_sym *ps__symtab_base(ps_symtab *t, const char *const *names, size_t *n);
/* sorts definitions by name (names distinct) */
void ps__sort_attrdefs(const ps_symtab *t, ps_attrdef *a, size_t n);

/* after parsing: sorting and variable resolution */
bool ps__finish(ps_pstate *st, ps_expr *root);

/* the lexer */
typedef void *yyscan_t;
/* Whether the lexer's fast path runs (the default). Only tests clear it, to
 * check that the flex rules alone give the same results. */
extern bool ps__lex_fast_path;
void ps__lex_unhold(yyscan_t scanner);
/* Makes the source whole again where the scanner runs over it in place,
 * before anything quotes it (see ps__lex_unhold). */
static inline void ps__source_whole(ps_pstate *st)
{
    if (st->inplace_scanner)
        ps__lex_unhold(st->inplace_scanner);
}

/* The hand-written parser (fast.c): the tree bison would build, or NULL
 * when it declines (anything unusual, any error); st may then hold an error
 * and half-built state that ps_parse clears before bison starts again. */
ps_expr *ps__fast_parse(ps_pstate *st, yyscan_t scanner);

/* Which parser ps_parse runs. Tests set it; otherwise the environment
 * variable STRAYLIGHT_PARSER decides (bison, fast or auto). */
enum {
    PS__PARSER_ENV,     /* read STRAYLIGHT_PARSER (default: auto) */
    PS__PARSER_AUTO,    /* fast, and bison when it declines */
    PS__PARSER_BISON,   /* bison only */
    PS__PARSER_FAST,    /* fast only: a decline is an error (not Nix's) */
};
extern int ps__parser;

/* A dump of the whole tree, every node with its kind and position (what
 * ps_print leaves out included), for comparing two parsers' trees. */
void ps__dump(ut_buf *out, const ps_symtab *syms, const ps_expr *e);

#endif
