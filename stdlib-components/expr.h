/*
 * expr.h — the expression language of table.filter's `where`:
 *
 *   age > 30 and country == "DE"      comparisons  == != < <= > >=
 *   (price * qty) % 7 != 0            arithmetic   + - * / %  unary -
 *   not (a is null) or b is not null  and  or  not  is null  is not null
 *   `first name` == 'Ann'             a column whose name is not an
 *                                     identifier goes in backticks
 *   literals: numbers, "strings" or 'strings' (a doubled quote inside
 *   stands for one: 'it''s'), true, false, null
 *
 * Values are null, numbers, strings or booleans. A field is a number if it
 * reads as one, true/false if it is one, else a string; an empty field is
 * null. Comparing with null gives null; `and`/`or`/`not` use three-valued
 * logic (SQL's); filter keeps the rows where the expression is true.
 * Numbers compare numerically, strings byte-wise; a number and a string
 * compare as text, a field by its own text (zip == "01234" matches the
 * field 01234). Arithmetic on a string, and division by zero, give null.
 */
#ifndef PIPEC_EXPR_H
#define PIPEC_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"

typedef struct expr expr;

/* Parse src. NULL on a syntax error, with the message in err and the byte
 * offset of the problem in *off. */
expr *expr_parse(const char *src, char *err, size_t errlen, long *off);
void expr_free(expr *e);

/* Resolve column names against a header; -1 with err naming the first
 * unknown column (and listing the known ones). */
int expr_bind(expr *e, char *const *names, uint32_t ncols, char *err,
              size_t errlen);

/* Evaluate on one record (after expr_bind): true only if the value is
 * true (null and false are not). */
bool expr_true(const expr *e, const csv_field *row);

#endif
