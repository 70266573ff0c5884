/* The Nix grammar. Productions, their order, token names and precedences
 * follow CppNix's parser so that bison builds the same automaton: the
 * "unexpected X, expecting Y" lists in syntax errors come straight from the
 * tables, and users compare them with Nix's. */
%define api.pure full
%locations
%define parse.error detailed
%define api.location.type {ps_loc}
%define api.prefix {ps_yy}
%param {yyscan_t scanner} {ps_pstate *st}
%expect 0

%code requires {
#include "parser/internal.h"
}

%code provides {
int ps_yylex(PS_YYSTYPE *lval, PS_YYLTYPE *lloc, yyscan_t scanner, ps_pstate *st);
void ps_yyerror(PS_YYLTYPE *loc, yyscan_t scanner, ps_pstate *st, const char *msg);
}

%code top {
#include <string.h>
}

%code {
/* Only offsets are tracked, as CppNix does. An empty rule sits at the end of
 * what precedes it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                   \
    do {                                                              \
        if (N) {                                                      \
            (Cur).first = YYRHSLOC(Rhs, 1).first;                     \
            (Cur).last = YYRHSLOC(Rhs, N).last;                       \
        } else {                                                      \
            (Cur).first = (Cur).last = YYRHSLOC(Rhs, 0).last;         \
        }                                                             \
    } while (0)

#define CUR_POS PS_AT(st, yyloc)
#define AT(l) PS_AT(st, l)
#define CHECK(x) do { if (!(x)) YYABORT; } while (0)
}

%union {
    ps_expr *e;
    ps_strtok str;
    int64_t n;
    double nf;
    ps_vec list;          /* ps_expr * */
    ps_vec parts;         /* ps_part */
    ps_vec path;          /* ps_attrname */
    ps_vec inh;           /* ps_inh */
    /* pointers keep the value stack at 16 bytes a slot: every reduction
       copies one */
    ps_formals_b *formals;
    ps_formal *formal;
}

%type <e> start expr expr_function expr_if expr_op
%type <e> expr_select expr_simple expr_app
%type <e> expr_pipe_from expr_pipe_into
%type <list> list
%type <e> binds binds1
%type <formals> formals formal_set
%type <formal> formal
%type <path> attrpath
%type <inh> attrs
%type <parts> string_parts_interpolated
%type <parts> ind_string_parts
%type <e> path_start
%type <e> string_parts string_attr
%type <str> attr
%token <str> ID "identifier"
%token <str> STR "string"
%token <str> IND_STR "indented string"
%token <n> INT_LIT "integer"
%token <nf> FLOAT_LIT "floating-point literal"
%token <str> PATH "path"
%token <str> HPATH "'~/…' path"
%token <str> SPATH "'<…>' path"
%token <str> PATH_END "end of path"
%token <str> URI "URI"
%token IF "'if'"
%token THEN "'then'"
%token ELSE "'else'"
%token ASSERT "'assert'"
%token WITH "'with'"
%token LET "'let'"
%token IN_KW "'in'"
%token REC "'rec'"
%token INHERIT "'inherit'"
%token EQ "'=='"
%token NEQ "'!='"
%token LEQ "'<='"
%token GEQ "'>='"
%token UPDATE "'//'"
%token CONCAT "'++'"
%token AND "'&&'"
%token OR "'||'"
%token IMPL "'->'"
%token OR_KW "'or'"
%token PIPE_FROM "'<|'"
%token PIPE_INTO "'|>'"
%token DOLLAR_CURLY "'${'"
%token IND_STRING_OPEN "start of an indented string"
%token IND_STRING_CLOSE "end of an indented string"
%token ELLIPSIS "'...'"
%token REPL_BINDINGS "start of REPL bindings"

%right IMPL
%left OR
%left AND
%nonassoc EQ NEQ
%nonassoc '<' '>' LEQ GEQ
%right UPDATE
%left NOT
%left '+' '-'
%left '*' '/'
%right CONCAT
%nonassoc '?'
%nonassoc NEGATE

%%

start: expr { st->result = $1; $$ = $1; }
| REPL_BINDINGS binds1 { st->result = $2; $$ = $2; };

expr: expr_function;

expr_function
  : ID ':' expr_function
    { CHECK(ps__lambda(st, &$$, CUR_POS, ps_intern(st->syms, $1.p, $1.l), NULL, $3)); }
  | formal_set ':' expr_function[body]
    { CHECK(ps__lambda(st, &$$, CUR_POS, PS_NOSYM, $formal_set, $body)); }
  | formal_set '@' ID ':' expr_function[body]
    { CHECK(ps__lambda(st, &$$, CUR_POS, ps_intern(st->syms, $ID.p, $ID.l), $formal_set, $body)); }
  | ID '@' formal_set ':' expr_function[body]
    { CHECK(ps__lambda(st, &$$, CUR_POS, ps_intern(st->syms, $ID.p, $ID.l), $formal_set, $body)); }
  | ASSERT expr ';' expr_function
    { $$ = ps__new(st, PS_ASSERT, CUR_POS); $$->u.assert_.cond = $2; $$->u.assert_.body = $4; }
  | WITH expr ';' expr_function
    { $$ = ps__new(st, PS_WITH, CUR_POS); $$->u.with.attrs = $2; $$->u.with.body = $4; }
  | LET binds IN_KW expr_function
    { if ($2->u.attrs.ndyn) {
          ps__error_at(st, CUR_POS, "dynamic attributes not allowed in let");
          YYABORT;
      }
      $$ = ps__new(st, PS_LET, CUR_POS);
      $2->u.attrs.rec = true;
      $$->u.let.binds = &$2->u.attrs;
      $$->u.let.body = $4;
    }
  | expr_if
  ;

expr_if
  : IF expr THEN expr ELSE expr
    { $$ = ps__new(st, PS_IF, CUR_POS); $$->u.ifte.cond = $2; $$->u.ifte.then = $4; $$->u.ifte.els = $6; }
  | expr_pipe_from
  | expr_pipe_into
  | expr_op
  ;

expr_pipe_from
  : expr_op PIPE_FROM expr_pipe_from { CHECK(ps__require_pipes(st, @2)); $$ = ps__make_call(st, AT(@2), $1, $3); }
  | expr_op PIPE_FROM expr_op        { CHECK(ps__require_pipes(st, @2)); $$ = ps__make_call(st, AT(@2), $1, $3); }
  ;

expr_pipe_into
  : expr_pipe_into PIPE_INTO expr_op { CHECK(ps__require_pipes(st, @2)); $$ = ps__make_call(st, AT(@2), $3, $1); }
  | expr_op        PIPE_INTO expr_op { CHECK(ps__require_pipes(st, @2)); $$ = ps__make_call(st, AT(@2), $3, $1); }
  ;

expr_op
  : '!' expr_op %prec NOT { $$ = ps__new(st, PS_NOT, CUR_POS); $$->u.not_.e = $2; }
  | '-' expr_op %prec NEGATE
    { ps_expr *zero = ps__new(st, PS_INT, CUR_POS); zero->u.i = 0;
      $$ = ps__call2(st, CUR_POS, ps__var(st, st->s_sub, CUR_POS), zero, $2); }
  | expr_op EQ expr_op { $$ = ps__new(st, PS_EQ, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_op NEQ expr_op { $$ = ps__new(st, PS_NEQ, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_op '<' expr_op { $$ = ps__call2(st, AT(@2), ps__var(st, st->s_lessThan, AT(@2)), $1, $3); }
  | expr_op LEQ expr_op
    { ps_expr *c = ps__call2(st, AT(@2), ps__var(st, st->s_lessThan, AT(@2)), $3, $1);
      $$ = ps__new(st, PS_NOT, AT(@2)); $$->u.not_.e = c; }
  | expr_op '>' expr_op { $$ = ps__call2(st, AT(@2), ps__var(st, st->s_lessThan, AT(@2)), $3, $1); }
  | expr_op GEQ expr_op
    { ps_expr *c = ps__call2(st, AT(@2), ps__var(st, st->s_lessThan, AT(@2)), $1, $3);
      $$ = ps__new(st, PS_NOT, AT(@2)); $$->u.not_.e = c; }
  | expr_op AND expr_op { $$ = ps__new(st, PS_AND, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_op OR expr_op { $$ = ps__new(st, PS_OR, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_op IMPL expr_op { $$ = ps__new(st, PS_IMPL, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_op UPDATE expr_op { $$ = ps__new(st, PS_UPDATE, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_op '?' attrpath
    { $$ = ps__new(st, PS_HASATTR, CUR_POS); $$->u.hasattr.e = $1;
      $$->u.hasattr.path.elems = $3.data; $$->u.hasattr.path.n = $3.n; }
  | expr_op '+' expr_op
    { ps_part p[2] = {{@1, $1, {0}}, {@3, $3, {0}}};
      $$ = ps__concat(st, AT(@2), false, p, 2); }
  | expr_op '-' expr_op { $$ = ps__call2(st, AT(@2), ps__var(st, st->s_sub, AT(@2)), $1, $3); }
  | expr_op '*' expr_op { $$ = ps__call2(st, AT(@2), ps__var(st, st->s_mul, AT(@2)), $1, $3); }
  | expr_op '/' expr_op { $$ = ps__call2(st, AT(@2), ps__var(st, st->s_div, AT(@2)), $1, $3); }
  | expr_op CONCAT expr_op { $$ = ps__new(st, PS_CONCAT_LISTS, AT(@2)); $$->u.bin.l = $1; $$->u.bin.r = $3; }
  | expr_app
  ;

expr_app
  : expr_app expr_select { $$ = ps__make_call(st, CUR_POS, $1, $2); ps__cursed_or_warn(st, $2); }
  | /* `e or` alone is the same in either reading */
    expr_select { $$ = $1; ps__cursed_or_reset(st, $1); }
  ;

expr_select
  : expr_simple '.' attrpath
    { $$ = ps__new(st, PS_SELECT, CUR_POS); $$->u.select.e = $1;
      $$->u.select.path.elems = $3.data; $$->u.select.path.n = $3.n; }
  | expr_simple '.' attrpath OR_KW expr_select
    { $$ = ps__new(st, PS_SELECT, CUR_POS); $$->u.select.e = $1;
      $$->u.select.path.elems = $3.data; $$->u.select.path.n = $3.n; $$->u.select.def = $5;
      ps__cursed_or_warn(st, $5); }
  | /* Nixpkgs once had a function named `or`: `map or [...]` applies it. */
    expr_simple OR_KW
    { $$ = ps__new(st, PS_CALL, CUR_POS);
      $$->u.call.fn = $1;
      $$->u.call.args = ps__alloc(st, sizeof(ps_expr *));
      $$->u.call.args[0] = ps__var(st, st->s_or, CUR_POS);
      $$->u.call.nargs = 1;
      st->cursed_or = $$;
      st->cursed_or_loc = @$; }
  | expr_simple
  ;

expr_simple
  : ID {
      if ($1.l == 8 && memcmp($1.p, "__curPos", 8) == 0)
          $$ = ps__new(st, PS_CURPOS, CUR_POS);
      else
          $$ = ps__var(st, ps_intern(st->syms, $1.p, $1.l), CUR_POS);
  }
  | INT_LIT { $$ = ps__new(st, PS_INT, CUR_POS); $$->u.i = $1; }
  | FLOAT_LIT { $$ = ps__new(st, PS_FLOAT, CUR_POS); $$->u.f = $1; }
  | '"' string_parts '"' { $$ = $2; }
  | IND_STRING_OPEN ind_string_parts IND_STRING_CLOSE
    { $$ = ps__strip_indentation(st, CUR_POS, &$2); }
  | path_start PATH_END
  | path_start string_parts_interpolated PATH_END
    { ps_part *first = ps__vec_push(st, &$2, sizeof(ps_part));
      ps_part *p = $2.data;
      memmove(p + 1, p, (size_t)($2.n - 1) * sizeof *p);
      (void)first;
      p[0] = (ps_part){@1, $1, {0}};
      $$ = ps__concat(st, CUR_POS, false, p, $2.n); }
  | SPATH
    { ps_expr *s = ps__string(st, $1.p + 1, $1.l - 2, CUR_POS);
      $$ = ps__call2(st, CUR_POS, ps__var(st, st->s_findFile, CUR_POS),
                     ps__var(st, st->s_nixPath, CUR_POS), s); }
  | URI
    { CHECK(ps__lint_uri(st, $1, @1));
      $$ = ps__string(st, $1.p, $1.l, CUR_POS); }
  | '(' expr ')' { $$ = $2; }
  /* `let { ...; body = ...; }` is `(rec { ...; body = ...; }).body`. */
  | LET '{' binds '}'
    { $3->u.attrs.rec = true; $3->pos = CUR_POS;
      $$ = ps__new(st, PS_SELECT, CUR_POS);
      $$->u.select.e = $3;
      $$->u.select.path.elems = ps__alloc(st, sizeof(ps_attrname));
      $$->u.select.path.elems[0].name = st->s_body;
      $$->u.select.path.n = 1; }
  | REC '{' binds '}'
    { $3->u.attrs.rec = true; $3->pos = CUR_POS; $$ = $3; }
  | '{' binds1 '}'
    { $2->pos = CUR_POS; $$ = $2; }
  | '{' '}'
    { $$ = ps__new_attrs(st, CUR_POS); }
  | '[' list ']'
    { $$ = ps__new(st, PS_LIST, CUR_POS); $$->u.list.elems = $2.data; $$->u.list.n = $2.n; }
  ;

string_parts
  : STR { $$ = ps__string(st, $1.p, $1.l, CUR_POS); }
  | string_parts_interpolated { $$ = ps__concat(st, CUR_POS, true, $1.data, $1.n); }
  | %empty { $$ = ps__string(st, "", 0, CUR_POS); }
  ;

string_parts_interpolated
  : string_parts_interpolated STR
    { $$ = $1; ps_part *p = ps__vec_push(st, &$$, sizeof *p);
      *p = (ps_part){@2, ps__string(st, $2.p, $2.l, AT(@2)), {0}}; }
  | string_parts_interpolated DOLLAR_CURLY expr '}'
    { $$ = $1; ps_part *p = ps__vec_push(st, &$$, sizeof *p); *p = (ps_part){@2, $3, {0}}; }
  | DOLLAR_CURLY expr '}'
    { $$ = (ps_vec){0}; ps_part *p = ps__vec_push(st, &$$, sizeof *p); *p = (ps_part){@1, $2, {0}}; }
  | STR DOLLAR_CURLY expr '}'
    { $$ = (ps_vec){0};
      ps_part *p = ps__vec_push(st, &$$, sizeof *p);
      *p = (ps_part){@1, ps__string(st, $1.p, $1.l, AT(@1)), {0}};
      p = ps__vec_push(st, &$$, sizeof *p);
      *p = (ps_part){@2, $3, {0}}; }
  ;

path_start
  : PATH { $$ = ps__path(st, $1, @1); CHECK($$); }
  | HPATH { $$ = ps__hpath(st, $1, @1); CHECK($$); }
  ;

ind_string_parts
  : ind_string_parts IND_STR
    { $$ = $1; ps_part *p = ps__vec_push(st, &$$, sizeof *p); *p = (ps_part){@2, NULL, $2}; }
  | ind_string_parts DOLLAR_CURLY expr '}'
    { $$ = $1; ps_part *p = ps__vec_push(st, &$$, sizeof *p); *p = (ps_part){@2, $3, {0}}; }
  | %empty { $$ = (ps_vec){0}; }
  ;

binds
  : binds1
  | %empty { $$ = ps__new_attrs(st, CUR_POS); }
  ;

binds1
  : binds1[accum] attrpath '=' expr ';'
    { $$ = $accum; CHECK(ps__add_attr(st, $$, &$attrpath, @attrpath, $expr)); }
  | binds[accum] INHERIT attrs ';'
    { $$ = $accum; CHECK(ps__inherit(st, $$, &$attrs, NULL, @attrs)); }
  | binds[accum] INHERIT '(' expr ')' attrs ';'
    { $$ = $accum; CHECK(ps__inherit(st, $$, &$attrs, $expr, @expr)); }
  | attrpath '=' expr ';'
    { $$ = ps__new_attrs(st, CUR_POS); CHECK(ps__add_attr(st, $$, &$attrpath, @attrpath, $expr)); }
  ;

attrs
  : attrs attr
    { $$ = $1; ps_inh *p = ps__vec_push(st, &$$, sizeof *p);
      *p = (ps_inh){ps_intern(st->syms, $2.p, $2.l), @2}; }
  | attrs string_attr
    { $$ = $1;
      if ($2->kind != PS_STRING) {
          ps__error_at(st, AT(@2), "dynamic attributes not allowed in inherit");
          YYABORT;
      }
      ps_inh *p = ps__vec_push(st, &$$, sizeof *p);
      *p = (ps_inh){ps_intern(st->syms, $2->u.str.s, $2->u.str.len), @2}; }
  | %empty { $$ = (ps_vec){0}; }
  ;

attrpath
  : attrpath '.' attr
    { $$ = $1; ps_attrname *a = ps__vec_push(st, &$$, sizeof *a);
      a->name = ps_intern(st->syms, $3.p, $3.l); }
  | attrpath '.' string_attr
    { $$ = $1; ps_attrname *a = ps__vec_push(st, &$$, sizeof *a);
      CHECK(ps__attrname_from_string(st, $3, a)); }
  | attr
    { $$ = (ps_vec){0}; ps_attrname *a = ps__vec_push(st, &$$, sizeof *a);
      a->name = ps_intern(st->syms, $1.p, $1.l); }
  | string_attr
    { $$ = (ps_vec){0}; ps_attrname *a = ps__vec_push(st, &$$, sizeof *a);
      CHECK(ps__attrname_from_string(st, $1, a)); }
  ;

attr
  : ID
  | OR_KW { $$ = (ps_strtok){"or", 2, false}; }
  ;

string_attr
  : '"' string_parts '"' { $$ = $2; }
  | DOLLAR_CURLY expr '}' { $$ = $2; }
  ;

list
  : list expr_select
    { $$ = $1; ps_expr **p = ps__vec_push(st, &$$, sizeof *p); *p = $2; ps__cursed_or_warn(st, $2); }
  | %empty { $$ = (ps_vec){0}; }
  ;

formal_set
  : '{' formals ',' ELLIPSIS '}' { $$ = $formals; $$->ellipsis = true; }
  | '{' ELLIPSIS '}'             { $$ = ps__alloc(st, sizeof *$$); $$->ellipsis = true; }
  | '{' formals ',' '}'          { $$ = $formals; $$->ellipsis = false; }
  | '{' formals '}'              { $$ = $formals; $$->ellipsis = false; }
  | '{' '}'                      { $$ = ps__alloc(st, sizeof *$$); }
  ;

formals
  : formals[accum] ',' formal
    { $$ = $accum; ps_formal *f = ps__vec_push(st, &$$->formals, sizeof *f); *f = *$formal; }
  | formal
    { $$ = ps__alloc(st, sizeof *$$); ps_formal *f = ps__vec_push(st, &$$->formals, sizeof *f); *f = *$formal; }
  ;

formal
  : ID { $$ = ps__alloc(st, sizeof *$$); *$$ = (ps_formal){ps_intern(st->syms, $1.p, $1.l), NULL, CUR_POS}; }
  | ID '?' expr { $$ = ps__alloc(st, sizeof *$$); *$$ = (ps_formal){ps_intern(st->syms, $1.p, $1.l), $3, CUR_POS}; }
  ;

%%
