/*
 * parser.y — the .pipe grammar (pure bison parser with locations).
 *
 * The grammar is docs/internal/spec-language.md's. Actions build the AST in
 * the arena; names are not resolved here. Error recovery: a broken item
 * (import, component, pipeline member, node argument, setting) is skipped up
 * to the next token that can start the next one, so one parse reports every
 * syntax error it can. Messages say what was expected and what was found.
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
}

%token END 0 "end of file"
%token IMPORT "'import'" PLUGIN "'plugin'" PIPELINE "'pipeline'" PARAM "'param'"
%token TARGET "'target'" COMPONENT "'component'" NODE "'node'" ON "'on'"
%token RESOURCES "'resources'" TRUE "'true'" FALSE "'false'" ARROW "'->'"
%token <i> INT "integer"
%token <f> FLOAT "number"
%token <s> STRING "string"
%token <id> IDENT "identifier"

%type <val> value opt_default
%type <vals> values list_items
%type <kvs> settings args opt_args target_body
%type <ports> ports opt_ports opt_outputs
%type <comp> component
%type <id> dotted key opt_on name
%type <body> node_body nitems

%%

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
  | node
  | error { pc->comp = NULL; }
  ;

param
  : PARAM name ':' IDENT opt_default {
      ast_param p = {.name = $2, .loc = L(@2), .type = $4, .type_loc = L(@4),
                     .def = $5};
      add_param(pc, p);
    }
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
  : IDENT ':' IDENT {
      $$ = (ast_ports){0};
      ast_port p = {.name = $1, .loc = L(@1), .type = $3, .type_loc = L(@3)};
      VEC_PUSH(pc->a, $$, p);
    }
  | ports ',' IDENT ':' IDENT {
      $$ = $1;
      ast_port p = {.name = $3, .loc = L(@3), .type = $5, .type_loc = L(@5)};
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

node
  : NODE IDENT '=' dotted '(' opt_args ')' opt_on node_body {
      ast_node n = {.name = $2, .loc = L(@2), .component = $4,
                    .component_loc = L(@4), .args = $6, .args_loc = L(@6),
                    .target = $8, .target_loc = L(@8),
                    .resources = $9.resources,
                    .has_resources = $9.has_resources,
                    .resources_loc = L($9.resources_loc),
                    .settings = $9.settings};
      n.args_loc = parse_loc(pc, (ploc){@5.off, @7.end});
      if ($8) /* just the name after 'on' */
        n.target_loc = parse_loc(pc, (ploc){@8.end - (uint32_t)strlen($8),
                                            @8.end});
      VEC_PUSH(pc->a, pc->pipe->nodes, n);
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

/* Argument and param names: an identifier, or a keyword that cannot be
 * confused there (table.join takes `on = [...]`). */
name
  : IDENT { $$ = $1; }
  | ON { $$ = arena_intern_cstr(pc->a, "on"); }
  | RESOURCES { $$ = arena_intern_cstr(pc->a, "resources"); }
  | TARGET { $$ = arena_intern_cstr(pc->a, "target"); }
  | NODE { $$ = arena_intern_cstr(pc->a, "node"); }
  | PIPELINE { $$ = arena_intern_cstr(pc->a, "pipeline"); }
  | IMPORT { $$ = arena_intern_cstr(pc->a, "import"); }
  | PLUGIN { $$ = arena_intern_cstr(pc->a, "plugin"); }
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
  | ON { $$ = arena_intern_cstr(pc->a, "on"); }
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
  | IDENT '.' IDENT {
      $$ = new_value(pc, AST_REF, @$);
      $$->u.ref.name = $1;
      $$->u.ref.name_loc = L(@1);
      $$->u.ref.member = $3;
      $$->u.ref.member_loc = L(@3);
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
  enum { MAX_EXPECTED = 8 };
  yysymbol_kind_t expected[MAX_EXPECTED];
  int n = yypcontext_expected_tokens(ctx, expected, MAX_EXPECTED);
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
  if (tok == YYSYMBOL_YYEOF && pc->n_open > 0 && pc->n_open <= 64) {
    uint32_t at = pc->open_off[pc->n_open - 1];
    pipec_diag_add(pc->d, PIPEC_SEV_NOTE, "note", pc->src, at, 1,
                   "this '%c' is not closed", pc->text[at]);
  }
  return 0;
}
