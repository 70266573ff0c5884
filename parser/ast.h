/* parser/: the Nix abstract syntax tree.
 *
 * The tree mirrors CppNix's expression classes closely, because the
 * `--parse` printer, error positions and evaluation order all follow them:
 * binary arithmetic becomes calls of `__sub`/`__mul`/`__div`/`__lessThan`,
 * `+` becomes a string-concatenation node, `<p>` becomes
 * `__findFile __nixPath "p"`, nested attribute paths are merged into nested
 * attribute sets at parse time.
 *
 * Every node lives in the arena of the ps_ast that produced it; names are
 * symbols of a ps_symtab that outlives every tree parsed with it (the
 * evaluator keeps one for the whole process). */
#ifndef STRAYLIGHT_PARSER_AST_H
#define STRAYLIGHT_PARSER_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- symbols ---------------------------------------------------------- */

typedef uint32_t ps_sym;           /* 0 is "no symbol" */
#define PS_NOSYM ((ps_sym)0)

typedef struct ps_symtab ps_symtab;
ps_symtab *ps_symtab_new(void);
void ps_symtab_free(ps_symtab *t);
ps_sym ps_intern(ps_symtab *t, const char *s, size_t len);
ps_sym ps_intern_cstr(ps_symtab *t, const char *s);
const char *ps_sym_str(const ps_symtab *t, ps_sym s);   /* NUL-terminated */
size_t ps_sym_len(const ps_symtab *t, ps_sym s);
size_t ps_symtab_count(const ps_symtab *t);

/* Parsing with one table and using the tree with another (a file parsed
 * on another thread, with a table of its own): a journal records every
 * symbol the table hands out between begin and end, once each, in the
 * order first asked for. Mapping it into another table interns the names
 * there in that order, which is the order parsing there would have added
 * them in: the ids come out the same as if the file had been parsed with
 * that table. */
typedef struct ps_symref {
    const char *s;      /* the journal's table's string: valid while that table is */
    uint32_t len, hash;
    ps_sym id;          /* in the journal's table */
} ps_symref;
void ps_symtab_journal_begin(ps_symtab *t);
/* The journal since begin, malloc'd (the caller frees it); *n entries. */
ps_symref *ps_symtab_journal_end(ps_symtab *t, size_t *n);
/* map[j[i].id] = the symbol of the same name in to (interned there in
 * journal order); map[PS_NOSYM] = PS_NOSYM. map has room for every id. */
void ps_symtab_map_journal(ps_symtab *to, const ps_symref *j, size_t n, ps_sym *map);

/* ---- sources and positions --------------------------------------------- */

typedef enum ps_origin {
    PS_ORIGIN_FILE,     /* path is the file's absolute path */
    PS_ORIGIN_STDIN,    /* printed as «stdin» */
    PS_ORIGIN_STRING,   /* printed as «string» (-E, builtins such as fromJSON) */
} ps_origin;

/* The text a tree was parsed from; kept alive as long as the tree, so error
 * messages can quote the offending line. */
typedef struct ps_source {
    ps_origin origin;
    const char *path;   /* PS_ORIGIN_FILE only */
    const char *text;   /* NUL-terminated */
    size_t len;
    const char *basedir; /* directory relative paths resolve against */
    /* text[len + 1] is NUL too and the text's memory is the caller's to
     * write: the lexer then scans it where it is instead of in a copy
     * (flex marks the end of each token in its buffer), and ps_parse
     * leaves it as it found it */
    bool scan_in_place;
} ps_source;

typedef struct ps_pos {
    const ps_source *src;   /* NULL: no position */
    uint32_t line;          /* 1-based */
    uint32_t col;           /* 1-based, in bytes */
} ps_pos;

/* ---- nodes ---------------------------------------------------------- */

typedef enum ps_kind {
    PS_INT,
    PS_FLOAT,
    PS_STRING,          /* literal string without interpolation */
    PS_PATH,            /* literal path, already absolute and canonical */
    PS_VAR,
    PS_SELECT,          /* e.a.b.c [or default] */
    PS_HASATTR,         /* e ? a.b.c */
    PS_ATTRS,           /* { ... } and rec { ... } */
    PS_LIST,
    PS_LAMBDA,
    PS_CALL,            /* f a b c: consecutive applications merged */
    PS_LET,
    PS_WITH,
    PS_IF,
    PS_ASSERT,
    PS_NOT,
    PS_EQ,
    PS_NEQ,
    PS_AND,
    PS_OR,
    PS_IMPL,
    PS_UPDATE,          /* // */
    PS_CONCAT_LISTS,    /* ++ */
    PS_CONCAT_STRINGS,  /* a + b, "${a}b", ./a/${b} */
    PS_CURPOS,          /* __curPos */
    PS_INHERIT_FROM,    /* reference to the i-th `inherit (e)` source of the
                           enclosing attrs/let; only inside PS_SELECT */
} ps_kind;

typedef struct ps_expr ps_expr;

/* One element of an attribute path: a static name or an expression
 * (`${e}` or a string with interpolation). */
typedef struct ps_attrname {
    ps_sym name;        /* PS_NOSYM when expr is set */
    ps_expr *expr;
} ps_attrname;

typedef struct ps_attrpath {
    ps_attrname *elems;
    uint32_t n;
} ps_attrpath;

typedef enum ps_attrkind {
    PS_ATTR_PLAIN,          /* a = e; */
    PS_ATTR_INHERITED,      /* inherit a;  (value is PS_VAR a, resolved
                               in the scope *outside* a rec/let) */
    PS_ATTR_INHERITED_FROM, /* inherit (s) a; value is PS_SELECT of a
                               PS_INHERIT_FROM node */
} ps_attrkind;

typedef struct ps_attrdef {
    ps_sym name;
    ps_attrkind kind;
    ps_expr *value;
    ps_pos pos;
} ps_attrdef;

typedef struct ps_dynattr {
    ps_expr *name;
    ps_expr *value;
    ps_pos pos;
} ps_dynattr;

typedef struct ps_attrs {
    bool rec;
    ps_attrdef *attrs;          /* sorted by the symbol's string, no duplicates */
    uint32_t nattrs;
    ps_expr **inherit_from;     /* the `e` of each `inherit (e) ...;` */
    uint32_t ninherit_from;
    ps_dynattr *dyn;            /* in source order */
    uint32_t ndyn;
} ps_attrs;

typedef struct ps_formal {
    ps_sym name;
    ps_expr *def;               /* default, or NULL */
    ps_pos pos;
} ps_formal;

typedef struct ps_lambda {
    ps_sym arg;                 /* x: ... or args@{...}; PS_NOSYM if none */
    bool has_formals;
    bool ellipsis;
    ps_formal *formals;         /* sorted by the symbol's string */
    uint32_t nformals;
    ps_expr *body;
    ps_sym name;                /* the attribute/let name it is bound to, for
                                   traces ("while calling 'f'"); may be unset */
} ps_lambda;

struct ps_expr {
    ps_kind kind;
    ps_pos pos;
    union {
        int64_t i;                                          /* PS_INT */
        double f;                                           /* PS_FLOAT */
        struct { const char *s; size_t len; } str;          /* PS_STRING, PS_PATH (a string's
                                                               text is not NUL-terminated) */
        struct { ps_sym name; bool from_with; } var;        /* PS_VAR */
        struct { ps_expr *e; ps_attrpath path; ps_expr *def; } select;  /* PS_SELECT */
        struct { ps_expr *e; ps_attrpath path; } hasattr;  /* PS_HASATTR */
        ps_attrs attrs;                                     /* PS_ATTRS */
        struct { ps_expr **elems; uint32_t n; } list;       /* PS_LIST */
        ps_lambda lambda;                                   /* PS_LAMBDA */
        struct { ps_expr *fn; ps_expr **args; uint32_t nargs; } call;   /* PS_CALL */
        struct { ps_attrs *binds; ps_expr *body; } let;     /* PS_LET (binds->rec) */
        struct { ps_expr *attrs; ps_expr *body; } with;     /* PS_WITH */
        struct { ps_expr *cond, *then, *els; } ifte;        /* PS_IF */
        struct { ps_expr *cond, *body; } assert_;           /* PS_ASSERT */
        struct { ps_expr *e; } not_;                        /* PS_NOT */
        struct { ps_expr *l, *r; } bin;                     /* EQ NEQ AND OR IMPL UPDATE CONCAT_LISTS */
        struct {
            bool force_string;      /* true for "..${}.." and indented strings;
                                       false for + and for ./a/${b} (as in
                                       CppNix: the first part decides) */
            ps_expr **parts;
            ps_pos *part_pos;
            uint32_t n;
        } concat;                                           /* PS_CONCAT_STRINGS */
        struct { uint32_t index; } inherit_from;            /* PS_INHERIT_FROM */
    } u;
};

#endif
