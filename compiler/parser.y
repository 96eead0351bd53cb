/*
 * parser.y — the .pipe grammar (pure bison parser with locations).
 *
 * The grammar is docs/internal/spec-language.md's. Actions build the AST in
 * the arena; names are not resolved here. Error recovery: a broken item
 * (import, component, pipeline member, node argument, setting) is skipped up
 * to the next token that can start the next one, so one parse reports every
 * syntax error it can. Messages say what was expected and what was found.
 *
 * Statements (node, for, if, publish) are built bottom up: each rule gives
 * the statements it declares (a node followed by a `for` block gives two),
 * and a block collects its own. Keep %expect 0: resolve a conflict with
 * precedence or by restructuring, never by raising the count.
 */
%code requires {
#include "parse_ctx.h"
typedef void *yyscan_t;

typedef struct ast_vals {
  ast_value **items;
  uint32_t n, cap;
} ast_vals;

typedef struct ast_ports {
  ast_port *items;
  uint32_t n, cap;
} ast_ports;

typedef struct node_body {
  ast_kvs resources, settings;
  bool has_resources;
  ploc resources_loc;
} node_body;

typedef struct ast_bindings {
  ast_binding *items;
  uint32_t n, cap;
} ast_bindings;

/* A type as written: NAME or [NAME]. */
typedef struct type_ref {
  const char *name;
  ploc loc;
  bool list;
} type_ref;
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, yyscan_t scanner);
}

%code {
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N)                 \
  do {                                              \
    if (N) {                                        \
      (Cur).off = YYRHSLOC(Rhs, 1).off;             \
      (Cur).end = YYRHSLOC(Rhs, N).end;             \
    } else {                                        \
      (Cur).off = (Cur).end = YYRHSLOC(Rhs, 0).end; \
    }                                               \
  } while (0)

#define L(l) parse_loc(pc, (l))

static void yyerror(YYLTYPE *loc, yyscan_t scanner, parse_ctx *pc,
                    const char *msg);
static ast_value *new_value(parse_ctx *pc, ast_value_kind kind, ploc loc);
static void push_kv(parse_ctx *pc, ast_kvs *kvs, const char *key, ploc kloc,
                    ast_value *v);
static void add_param(parse_ctx *pc, ast_param p);
static ast_stmts append_stmt(parse_ctx *pc, ast_stmts to, ast_stmt *st);
static ast_stmt *new_stmt(parse_ctx *pc, ast_stmt_kind kind, ploc loc);
static ast_stmt *for_stmt(parse_ctx *pc, ploc kw, ast_bindings b,
                          ast_stmts body, bool one_line);
static ast_value *new_op(parse_ctx *pc, ast_op op, ast_value *l,
                         ast_value *r, ploc loc);
static const char *kw_name(parse_ctx *pc, const char *kw);
}

%define api.pure full
%define api.location.type {ploc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%lex-param {yyscan_t scanner}
%parse-param {yyscan_t scanner} {parse_ctx *pc}

%union {
  int64_t i;
  double f;
  ast_str s;
  const char *id;
  ast_value *val;
  ast_kvs kvs;
  ast_vals vals;
  ast_ports ports;
  ast_component *comp;
  node_body body;
  ast_stmt *stmt;
  ast_stmts stmts;
  ast_bindings bindings;
  ast_binding binding;
  type_ref type;
}

%token END 0 "end of file"
%token IMPORT "'import'" PLUGIN "'plugin'" PIPELINE "'pipeline'" PARAM "'param'"
%token TARGET "'target'" COMPONENT "'component'" NODE "'node'" ON "'on'"
%token RESOURCES "'resources'" TRUE "'true'" FALSE "'false'" ARROW "'->'"
%token FOR "'for'" IN "'in'" IF "'if'" ELSE "'else'" PUBLISH "'publish'"
%token QUOTA "'quota'" DEFAULT "'default'"
%token QUOTA_FILE "start of the quota file"
%token EQ "'=='" NE "'!='" LE "'<='" GE "'>='" AND "'&&'" OR "'||'"
%token <i> INT "integer"
%token <f> FLOAT "number"
%token <s> STRING "string"
%token <id> IDENT "identifier"

%type <val> value opt_default index_item cond operand
%type <vals> values list_items index_items opt_index idx_vars
%type <kvs> settings args opt_args target_body
%type <ports> ports opt_ports opt_outputs
%type <comp> component
%type <id> dotted key opt_on name
%type <body> node_body nitems
%type <stmt> node stmt if_stmt
%type <stmts> stmts for_body if_body else_body opt_else
%type <bindings> bindings
%type <binding> binding
%type <type> type
%type <i> opt_default_kw

/* A node followed by 'for' always takes it (the one-line form, or a
 * `for` block after the node: decided after the bindings), as an `else`
 * binds to the nearest `if`: the rule `stmt: node` yields to the token. */
%precedence NODE_ALONE
%precedence FOR

/* conditions of `if`: the usual precedence */
%left OR
%left AND
%precedence '!'

%start input

%%

/* A quota file is told apart by its first token (the scanner gives
 * QUOTA_FILE first when parse_quota_file reads it). */
input
  : file
  | QUOTA_FILE qitems
  ;

qitems
  : %empty
  | qitems qitem
  ;

qitem
  : QUOTA IDENT ON IDENT opt_default_kw '{' settings '}' {
      ast_quota q = {.name = $2, .loc = L(@2), .target = $4,
                     .target_loc = L(@4), .is_default = $5 != 0,
                     .settings = $7};
      VEC_PUSH(pc->a, pc->file->quotas, q);
    }
  | error
  ;

opt_default_kw
  : %empty { $$ = 0; }
  | DEFAULT { $$ = 1; }
  ;

file
  : %empty
  | file item
  ;

item
  : IMPORT STRING {
      ast_import imp = {.path = $2.text, .loc = L(@2)};
      VEC_PUSH(pc->a, pc->file->imports, imp);
    }
  | PLUGIN STRING {
      ast_import pl = {.path = $2.text, .loc = L(@2)};
      VEC_PUSH(pc->a, pc->file->plugins, pl);
    }
  | component { VEC_PUSH(pc->a, pc->file->components, $1); }
  | pipeline
  | error { pc->comp = NULL; pc->pipe = NULL; }
  ;

pipeline
  : PIPELINE IDENT '{' {
      ast_pipeline *p = arena_alloc(pc->a, sizeof *p);
      p->name = $2;
      p->loc = L(@2);
      VEC_PUSH(pc->a, pc->file->pipelines, p);
      pc->pipe = p;
    } pitems '}' { pc->pipe = NULL; }
  ;

pitems
  : %empty
  | pitems pitem
  ;

pitem
  : param
  | target
  | component {
      $1->in_pipeline = true;
      VEC_PUSH(pc->a, pc->pipe->components, $1);
    }
  | stmt { pc->pipe->body = append_stmt(pc, pc->pipe->body, $1); }
  | error { pc->comp = NULL; }
  ;

param
  : PARAM name ':' type opt_default {
      ast_param p = {.name = $2, .loc = L(@2), .type = $4.name,
                     .type_loc = L($4.loc), .def = $5, .list = $4.list};
      add_param(pc, p);
    }
  ;

/* NAME, or [NAME] for a list of NAME */
type
  : IDENT { $$ = (type_ref){$1, @1, false}; }
  | '[' IDENT ']' { $$ = (type_ref){$2, @2, true}; }
  ;

opt_default
  : %empty { $$ = NULL; }
  | '=' value { $$ = $2; }
  ;

target
  : TARGET IDENT '=' IDENT target_body {
      ast_target t = {.name = $2, .loc = L(@2), .kind = $4,
                      .kind_loc = L(@4), .settings = $5};
      VEC_PUSH(pc->a, pc->pipe->targets, t);
    }
  ;

target_body
  : %empty { $$ = (ast_kvs){0}; }
  | '{' settings '}' { $$ = $2; }
  ;

component
  : COMPONENT IDENT {
      ast_component *c = arena_alloc(pc->a, sizeof *c);
      c->name = $2;
      c->loc = L(@2);
      pc->comp = c;
    } '(' opt_ports ')' opt_outputs '{' citems '}' {
      $$ = pc->comp;
      $$->inputs.items = $5.items;
      $$->inputs.n = $5.n;
      $$->inputs.cap = $5.cap;
      $$->outputs.items = $7.items;
      $$->outputs.n = $7.n;
      $$->outputs.cap = $7.cap;
      pc->comp = NULL;
    }
  ;

opt_outputs
  : %empty { $$ = (ast_ports){0}; }
  | ARROW '(' opt_ports ')' { $$ = $3; }
  ;

opt_ports
  : %empty { $$ = (ast_ports){0}; }
  | ports opt_comma { $$ = $1; }
  ;

ports
  : name ':' type {
      $$ = (ast_ports){0};
      ast_port p = {.name = $1, .loc = L(@1), .type = $3.name,
                    .type_loc = L($3.loc), .list = $3.list};
      VEC_PUSH(pc->a, $$, p);
    }
  | name ':' type STRING {
      $$ = (ast_ports){0};
      ast_port p = {.name = $1, .loc = L(@1), .type = $3.name,
                    .type_loc = L($3.loc), .list = $3.list,
                    .filename = $4.text, .filename_loc = L(@4)};
      VEC_PUSH(pc->a, $$, p);
    }
  | ports ',' name ':' type {
      $$ = $1;
      ast_port p = {.name = $3, .loc = L(@3), .type = $5.name,
                    .type_loc = L($5.loc), .list = $5.list};
      VEC_PUSH(pc->a, $$, p);
    }
  | ports ',' name ':' type STRING {
      $$ = $1;
      ast_port p = {.name = $3, .loc = L(@3), .type = $5.name,
                    .type_loc = L($5.loc), .list = $5.list,
                    .filename = $6.text, .filename_loc = L(@6)};
      VEC_PUSH(pc->a, $$, p);
    }
  ;

citems
  : %empty
  | citems citem
  ;

citem
  : param
  | key '=' value opt_comma {
      if (pc->comp)
        push_kv(pc, &pc->comp->settings, $1, @1, $3);
    }
  | error
  ;

/* What a pipeline block, a `for` body or an `if` branch declares. A node
 * may be followed by `for VAR in SOURCE` (the one-line form of a family);
 * a `{` after that makes it a `for` block after the node instead. */
stmt
  : node %prec NODE_ALONE { $$ = $1; }
  | node FOR bindings {
      ast_stmts body = append_stmt(pc, (ast_stmts){0}, $1);
      $$ = for_stmt(pc, @2, $3, body, true);
    }
  | node FOR bindings for_body {
      $$ = $1;
      $$->next = for_stmt(pc, @2, $3, $4, false);
    }
  | FOR bindings for_body { $$ = for_stmt(pc, @1, $2, $3, false); }
  | FOR error for_body {
      $$ = NULL; /* reported: the loop's header is broken */
      pipec_diag_hint(&pc->d->items[pc->d->n - 1],
                      "a loop is written: for VAR in SOURCE { ... }");
    }
  | if_stmt { $$ = $1; }
  | PUBLISH value '=' value {
      $$ = new_stmt(pc, AST_S_PUBLISH, @1);
      $$->u.pub.what = $2;
      $$->u.pub.path = $4;
    }
  ;

stmts
  : %empty { $$ = (ast_stmts){0}; }
  | stmts stmt { $$ = append_stmt(pc, $1, $2); }
  | stmts error { $$ = $1; }
  ;

bindings
  : binding { $$ = (ast_bindings){0}; VEC_PUSH(pc->a, $$, $1); }
  | bindings ',' binding { $$ = $1; VEC_PUSH(pc->a, $$, $3); }
  ;

binding
  : IDENT IN value { $$ = (ast_binding){$1, L(@1), $3}; }
  ;

/* The braces of each kind of block are labelled as soon as they open, so
 * an end of file inside one says whose body is not closed. */
for_body
  : '{' { parse_label_open(pc, @1.off, "'for' body"); } stmts '}' { $$ = $3; }
  ;

if_stmt
  : IF cond if_body opt_else {
      $$ = new_stmt(pc, AST_S_IF, @1);
      $$->u.cond.cond = $2;
      $$->u.cond.then = $3;
      $$->u.cond.els = $4;
    }
  | IF error if_body opt_else {
      $$ = NULL;
      pipec_diag_hint(&pc->d->items[pc->d->n - 1],
                      "a condition is a bool param or a comparison: if fast "
                      "{ ... }, if mode == \"full\" { ... }");
    }
  ;

if_body
  : '{' { parse_label_open(pc, @1.off, "'if' block"); } stmts '}' { $$ = $3; }
  ;

opt_else
  : %empty { $$ = (ast_stmts){0}; }
  | ELSE else_body { $$ = $2; }
  | ELSE if_stmt { $$ = append_stmt(pc, (ast_stmts){0}, $2); }
  ;

else_body
  : '{' { parse_label_open(pc, @1.off, "'else' block"); } stmts '}' { $$ = $3; }
  ;

cond
  : operand { $$ = $1; }
  | operand EQ operand { $$ = new_op(pc, AST_OP_EQ, $1, $3, @$); }
  | operand NE operand { $$ = new_op(pc, AST_OP_NE, $1, $3, @$); }
  | operand '<' operand { $$ = new_op(pc, AST_OP_LT, $1, $3, @$); }
  | operand LE operand { $$ = new_op(pc, AST_OP_LE, $1, $3, @$); }
  | operand '>' operand { $$ = new_op(pc, AST_OP_GT, $1, $3, @$); }
  | operand GE operand { $$ = new_op(pc, AST_OP_GE, $1, $3, @$); }
  | '!' cond { $$ = new_op(pc, AST_OP_NOT, $2, NULL, @$); }
  | cond AND cond { $$ = new_op(pc, AST_OP_AND, $1, $3, @$); }
  | cond OR cond { $$ = new_op(pc, AST_OP_OR, $1, $3, @$); }
  | '(' cond ')' { $$ = $2; }
  ;

operand
  : INT { $$ = new_value(pc, AST_INT, @1); $$->u.i = $1; }
  | FLOAT { $$ = new_value(pc, AST_FLOAT, @1); $$->u.f = $1; }
  | STRING {
      $$ = new_value(pc, AST_STRING, @1);
      $$->u.s.text = $1.text;
      $$->u.s.len = $1.len;
    }
  | TRUE { $$ = new_value(pc, AST_BOOL, @1); $$->u.b = true; }
  | FALSE { $$ = new_value(pc, AST_BOOL, @1); $$->u.b = false; }
  | IDENT {
      $$ = new_value(pc, AST_REF, @1);
      $$->u.ref.name = $1;
      $$->u.ref.name_loc = L(@1);
    }
  ;

node
  : NODE IDENT opt_index '=' dotted '(' opt_args ')' opt_on node_body {
      ast_stmt *st = new_stmt(pc, AST_S_NODE, @2);
      ast_node n = {.name = $2, .loc = L(@2), .component = $5,
                    .component_loc = L(@5), .args = $7, .args_loc = L(@7),
                    .target = $9, .target_loc = L(@9),
                    .resources = $10.resources,
                    .has_resources = $10.has_resources,
                    .resources_loc = L($10.resources_loc),
                    .settings = $10.settings,
                    .index = $3.items, .n_index = $3.n,
                    .has_index = @3.end > @3.off};
      n.args_loc = parse_loc(pc, (ploc){@6.off, @8.end});
      if ($9) /* just the name after 'on' */
        n.target_loc = parse_loc(pc, (ploc){@9.end - (uint32_t)strlen($9),
                                            @9.end});
      st->u.node = n;
      pc->pipe->n_node_decls++;
      $$ = st;
    }
  ;

/* node NAME[v1, v2]: the loop variables that key its members */
opt_index
  : %empty { $$ = (ast_vals){0}; }
  | '[' idx_vars ']' { $$ = $2; }
  ;

idx_vars
  : IDENT {
      $$ = (ast_vals){0};
      ast_value *v = new_value(pc, AST_REF, @1);
      v->u.ref.name = $1;
      v->u.ref.name_loc = L(@1);
      VEC_PUSH(pc->a, $$, v);
    }
  | idx_vars ',' IDENT {
      $$ = $1;
      ast_value *v = new_value(pc, AST_REF, @3);
      v->u.ref.name = $3;
      v->u.ref.name_loc = L(@3);
      VEC_PUSH(pc->a, $$, v);
    }
  ;

dotted
  : IDENT { $$ = $1; }
  | dotted '.' IDENT {
      $$ = arena_intern_cstr(pc->a, arena_printf(pc->a, "%s.%s", $1, $3));
    }
  ;

opt_args
  : %empty { $$ = (ast_kvs){0}; }
  | args opt_comma { $$ = $1; }
  ;

args
  : name '=' value { $$ = (ast_kvs){0}; push_kv(pc, &$$, $1, @1, $3); }
  | args ',' name '=' value { $$ = $1; push_kv(pc, &$$, $3, @3, $5); }
  ;

/* Argument, param and port names (and ports after '.'): an identifier,
 * or a keyword that cannot be confused there (table.join takes
 * `on = [...]`; a port may be called `in`). */
name
  : IDENT { $$ = $1; }
  | ON { $$ = kw_name(pc, "on"); }
  | RESOURCES { $$ = kw_name(pc, "resources"); }
  | TARGET { $$ = kw_name(pc, "target"); }
  | NODE { $$ = kw_name(pc, "node"); }
  | PIPELINE { $$ = kw_name(pc, "pipeline"); }
  | IMPORT { $$ = kw_name(pc, "import"); }
  | PLUGIN { $$ = kw_name(pc, "plugin"); }
  | FOR { $$ = kw_name(pc, "for"); }
  | IN { $$ = kw_name(pc, "in"); }
  | IF { $$ = kw_name(pc, "if"); }
  | ELSE { $$ = kw_name(pc, "else"); }
  | PUBLISH { $$ = kw_name(pc, "publish"); }
  ;

opt_on
  : %empty { $$ = NULL; }
  | ON IDENT { $$ = $2; }
  ;

node_body
  : %empty { $$ = (node_body){0}; }
  | '{' nitems '}' { $$ = $2; }
  ;

nitems
  : %empty { $$ = (node_body){0}; }
  | nitems RESOURCES '{' settings '}' opt_comma {
      $$ = $1;
      if ($$.has_resources)
        parse_error(pc, @2, "duplicate-name",
                    "'resources' given twice for this node");
      $$.resources = $4;
      $$.has_resources = true;
      $$.resources_loc = @2;
    }
  | nitems key '=' value opt_comma {
      $$ = $1;
      push_kv(pc, &$$.settings, $2, @2, $4);
    }
  | nitems error { $$ = $1; }
  ;

settings
  : %empty { $$ = (ast_kvs){0}; }
  | settings key '=' value opt_comma { $$ = $1; push_kv(pc, &$$, $2, @2, $4); }
  ;

key
  : IDENT { $$ = $1; }
  | STRING { $$ = arena_intern(pc->a, $1.text, $1.len); }
  | ON { $$ = kw_name(pc, "on"); }
  | FOR { $$ = kw_name(pc, "for"); }
  | IN { $$ = kw_name(pc, "in"); }
  | IF { $$ = kw_name(pc, "if"); }
  | ELSE { $$ = kw_name(pc, "else"); }
  | PUBLISH { $$ = kw_name(pc, "publish"); }
  ;

opt_comma
  : %empty
  | ','
  ;

value
  : INT { $$ = new_value(pc, AST_INT, @1); $$->u.i = $1; }
  | FLOAT { $$ = new_value(pc, AST_FLOAT, @1); $$->u.f = $1; }
  | STRING {
      $$ = new_value(pc, AST_STRING, @1);
      $$->u.s.text = $1.text;
      $$->u.s.len = $1.len;
    }
  | TRUE { $$ = new_value(pc, AST_BOOL, @1); $$->u.b = true; }
  | FALSE { $$ = new_value(pc, AST_BOOL, @1); $$->u.b = false; }
  | IDENT {
      $$ = new_value(pc, AST_REF, @1);
      $$->u.ref.name = $1;
      $$->u.ref.name_loc = L(@1);
    }
  | IDENT '.' name {
      $$ = new_value(pc, AST_REF, @$);
      $$->u.ref.name = $1;
      $$->u.ref.name_loc = L(@1);
      $$->u.ref.member = $3;
      $$->u.ref.member_loc = L(@3);
    }
  | IDENT '[' index_items ']' {
      $$ = new_value(pc, AST_MEMBER, @$);
      $$->u.fam = arena_alloc(pc->a, sizeof *$$->u.fam);
      $$->u.fam->name = $1;
      $$->u.fam->name_loc = L(@1);
      $$->u.fam->index = $3.items;
      $$->u.fam->n_index = $3.n;
      $$->u.fam->index_loc = parse_loc(pc, (ploc){@2.off, @4.end});
    }
  | IDENT '[' index_items ']' '.' name {
      $$ = new_value(pc, AST_MEMBER, @$);
      $$->u.fam = arena_alloc(pc->a, sizeof *$$->u.fam);
      $$->u.fam->name = $1;
      $$->u.fam->name_loc = L(@1);
      $$->u.fam->index = $3.items;
      $$->u.fam->n_index = $3.n;
      $$->u.fam->index_loc = parse_loc(pc, (ploc){@2.off, @4.end});
      $$->u.fam->member = $6;
      $$->u.fam->member_loc = L(@6);
    }
  | IDENT '(' list_items ')' {
      $$ = new_value(pc, AST_CALL, @$);
      $$->u.call.fn = $1;
      $$->u.call.fn_loc = L(@1);
      $$->u.call.args = $3.items;
      $$->u.call.n = $3.n;
    }
  | '[' list_items ']' {
      $$ = new_value(pc, AST_LIST, @$);
      $$->u.list.items = $2.items;
      $$->u.list.n = $2.n;
    }
  | '{' settings '}' {
      $$ = new_value(pc, AST_MAP, @$);
      $$->u.map.items = $2.items;
      $$->u.map.n = $2.n;
    }
  ;

list_items
  : %empty { $$ = (ast_vals){0}; }
  | values opt_comma { $$ = $1; }
  ;

values
  : value { $$ = (ast_vals){0}; VEC_PUSH(pc->a, $$, $1); }
  | values ',' value { $$ = $1; VEC_PUSH(pc->a, $$, $3); }
  ;

/* NAME[k], NAME[k, *], NAME[*] */
index_items
  : index_item { $$ = (ast_vals){0}; VEC_PUSH(pc->a, $$, $1); }
  | index_items ',' index_item { $$ = $1; VEC_PUSH(pc->a, $$, $3); }
  ;

index_item
  : value { $$ = $1; }
  | '*' { $$ = new_value(pc, AST_STAR, @1); }
  ;

%%

static ast_value *new_value(parse_ctx *pc, ast_value_kind kind, ploc loc) {
  ast_value *v = arena_alloc(pc->a, sizeof *v);
  v->kind = kind;
  v->loc = parse_loc(pc, loc);
  return v;
}

static void push_kv(parse_ctx *pc, ast_kvs *kvs, const char *key, ploc kloc,
                    ast_value *v) {
  ast_kv kv = {.key = key, .key_loc = parse_loc(pc, kloc), .value = v};
  VEC_PUSH(pc->a, *kvs, kv);
}

static const char *kw_name(parse_ctx *pc, const char *kw) {
  return arena_intern_cstr(pc->a, kw);
}

static ast_stmt *new_stmt(parse_ctx *pc, ast_stmt_kind kind, ploc loc) {
  ast_stmt *st = arena_alloc(pc->a, sizeof *st);
  st->kind = kind;
  st->loc = parse_loc(pc, loc);
  return st;
}

/* Append st and the statements chained to it (NULL: none). */
static ast_stmts append_stmt(parse_ctx *pc, ast_stmts to, ast_stmt *st) {
  for (; st; st = st->next)
    VEC_PUSH(pc->a, to, st);
  return to;
}

static ast_stmt *for_stmt(parse_ctx *pc, ploc kw, ast_bindings b,
                          ast_stmts body, bool one_line) {
  ast_stmt *st = new_stmt(pc, AST_S_FOR, kw);
  st->u.loop.vars = b.items;
  st->u.loop.n_vars = b.n;
  st->u.loop.body = body;
  st->u.loop.one_line = one_line;
  return st;
}

static ast_value *new_op(parse_ctx *pc, ast_op op, ast_value *l,
                         ast_value *r, ploc loc) {
  ast_value *v = new_value(pc, AST_OP, loc);
  v->u.op.op = op;
  v->u.op.l = l;
  v->u.op.r = r;
  return v;
}

static void add_param(parse_ctx *pc, ast_param p) {
  if (pc->comp)
    VEC_PUSH(pc->a, pc->comp->params, p);
  else if (pc->pipe)
    VEC_PUSH(pc->a, pc->pipe->params, p);
}

static void yyerror(YYLTYPE *loc, yyscan_t scanner, parse_ctx *pc,
                    const char *msg) {
  (void)scanner;
  if (pc->too_deep)
    return; /* the input was cut short there; that is the error */
  if (strcmp(msg, "memory exhausted") == 0) /* not expected: see parse_ctx.h */
    parse_error(pc, *loc, "too-deep",
                "nesting too deep (the parser's stack of %d entries is full)",
                YYMAXDEPTH);
  else
    parse_error(pc, *loc, "syntax", "%s", msg);
}

/* How the token found is named in a message: "identifier 'foo'", "'{'",
 * "end of file". */
static void describe_found(parse_ctx *pc, yysymbol_kind_t tok, ploc loc,
                           char *buf, size_t len) {
  uint32_t n = loc.end - loc.off;
  const char *text = pc->text + loc.off;
  switch (tok) {
  case YYSYMBOL_IDENT:
    snprintf(buf, len, "identifier '%.*s'", (int)(n > 40 ? 40 : n), text);
    break;
  case YYSYMBOL_INT:
  case YYSYMBOL_FLOAT:
    snprintf(buf, len, "number %.*s", (int)(n > 40 ? 40 : n), text);
    break;
  default:
    snprintf(buf, len, "%s", yysymbol_name(tok));
  }
}

/* Whether token kind k is the single-character token c. */
static bool is_char(yysymbol_kind_t k, char c) {
  const char *name = yysymbol_name(k);
  return name[0] == '\'' && name[1] == c && name[2] == '\'' && !name[3];
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner,
                                 parse_ctx *pc) {
  (void)scanner;
  if (pc->too_deep)
    return 0; /* the input was cut short there; that is the error */
  enum { MAX_EXPECTED = 12 };
  yysymbol_kind_t all[MAX_EXPECTED], expected[MAX_EXPECTED];
  int n_all = yypcontext_expected_tokens(ctx, all, MAX_EXPECTED), n = 0;
  /* 'for', 'if' and 'publish' start statements where 'node' does: list
   * 'node' for them all, so the list stays short */
  bool node = false;
  for (int i = 0; i < n_all; i++)
    node |= all[i] == YYSYMBOL_NODE;
  for (int i = 0; i < n_all; i++)
    if ((!node || (all[i] != YYSYMBOL_FOR && all[i] != YYSYMBOL_IF &&
                   all[i] != YYSYMBOL_PUBLISH)) &&
        all[i] != YYSYMBOL_QUOTA_FILE) /* the scanner's own, never written */
      expected[n++] = all[i];
  if (n > 8)
    n = 0; /* too many to be of help */
  yysymbol_kind_t tok = yypcontext_token(ctx);
  ploc loc = *yypcontext_location(ctx);
  char found[80], want[256] = "";
  describe_found(pc, tok, loc, found, sizeof found);
  size_t w = 0;
  for (int i = 0; i < n && w < sizeof want; i++)
    w += (size_t)snprintf(want + w, sizeof want - w, "%s%s",
                          i == 0 ? "" : i == n - 1 ? " or " : ", ",
                          yysymbol_name(expected[i]));
  if (n > 0)
    parse_error(pc, loc, "syntax", "expected %s, found %s", want, found);
  else
    parse_error(pc, loc, "syntax", "unexpected %s", found);
  pipec_diag *g = &pc->d->items[pc->d->n - 1];
  bool wants_eq = false, wants_colon = false;
  for (int i = 0; i < n; i++) {
    wants_eq |= is_char(expected[i], '=');
    wants_colon |= is_char(expected[i], ':');
  }
  if (is_char(tok, ':') && wants_eq)
    pipec_diag_hint(g, "values are given with '=': name = value");
  else if (is_char(tok, '=') && wants_colon)
    pipec_diag_hint(g, "declare a type: param NAME : TYPE = VALUE");
  else if (tok == YYSYMBOL_STRING && n == 1 && expected[0] == YYSYMBOL_IDENT)
    pipec_diag_hint(g, "names are written without quotes");
  bool wants_pipeline = false, wants_quota = false;
  for (int i = 0; i < n_all; i++) {
    wants_pipeline |= all[i] == YYSYMBOL_PIPELINE;
    wants_quota |= all[i] == YYSYMBOL_QUOTA;
  }
  if (!g->hint && wants_pipeline && tok == YYSYMBOL_IDENT &&
      loc.end - loc.off == 5 && memcmp(pc->text + loc.off, "quota", 5) == 0)
    pipec_diag_hint(g, "quota groups are declared in the workspace's quota "
                       "file, .pipec/quotas.pipe, shared by its pipelines");
  else if (!g->hint && wants_quota)
    pipec_diag_hint(g, "a quota file holds quota groups only: quota NAME on "
                       "TARGET { cpus = 2, memory = \"8G\", gpus = 1, jobs = "
                       "4 }");
  if (tok == YYSYMBOL_YYEOF && pc->n_open > 0 && pc->n_open <= 64) {
    uint32_t at = pc->open_off[pc->n_open - 1];
    const char *what = pc->open_what[pc->n_open - 1];
    if (what)
      pipec_diag_add(pc->d, PIPEC_SEV_NOTE, "note", pc->src, at, 1,
                     "this %s is not closed", what);
    else
      pipec_diag_add(pc->d, PIPEC_SEV_NOTE, "note", pc->src, at, 1,
                     "this '%c' is not closed", pc->text[at]);
  }
  return 0;
}
