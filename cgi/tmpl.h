/* tmpl.h: the template engine (the ctemplate language, escaping by default) */
#ifndef SETTINGS_TMPL_H
#define SETTINGS_TMPL_H

#include <stddef.h>

#include "util.h"

/*
 * Language (tag names case-insensitive, attribute values in double or single
 * quotes or bare words):
 *   <TMPL_VAR name="x" [fmt="html|url|raw"] [default="..."]>
 *       html (the default) escapes < > & " '; url percent-encodes a URL
 *       component; raw writes the value untouched (use only for HTML the
 *       program built itself).
 *   <TMPL_IF name="x" [value="v"]> ... <TMPL_ELSIF name="y" [value="v"]> ...
 *       <TMPL_ELSE> ... </TMPL_IF>
 *       true when the variable is set, non-empty and not "0", or is a loop with
 *       at least one row; with value=, true when the variable equals v.
 *   <TMPL_UNLESS name="x"> ... <TMPL_ELSE> ... </TMPL_UNLESS>
 *   <TMPL_LOOP name="rows"> ... </TMPL_LOOP>
 *       inside a loop, names are looked up in the row first, then in the
 *       scope the row was added to, and so on outwards (a loop found in an
 *       outer scope does not see the rows of the loops rendered around it).
 *   <TMPL_INCLUDE name="file.tmpl">   resolved at parse time, relative to the
 *       template directory; include depth is bounded.
 *   <TMPL_BREAK> <TMPL_CONTINUE>      leave / skip in the innermost loop.
 *   <* comment *>                     dropped at parse time; may span lines.
 *
 * Tag and attribute names are case-insensitive; variable names are
 * case-sensitive ("User" and "user" differ). An optional "/" before ">" is
 * allowed. Anything starting "<TMPL_" or "</TMPL_" must be a valid tag:
 * unknown tags and attributes are parse errors, as are a missing name,
 * an unknown fmt, a NUL byte, unterminated tags or comments, unbalanced or
 * misplaced IF/ELSIF/ELSE/UNLESS/LOOP/BREAK/CONTINUE, blocks nested deeper
 * than 64, and includes nested deeper than 16 or including themselves.
 * Each file must close the blocks it opens. Include names may use only
 * [A-Za-z0-9_./-], must be relative and must not contain "..".
 * An unset variable renders as its default= (escaped per fmt) or nothing;
 * value= never matches an unset variable or a loop. TMPL_VAR of a loop name
 * counts as unset.
 */

struct tmpl;      /* a parsed template, immutable, shared by all requests */
struct tvars;     /* one scope of variables: a page or a loop row */

/*
 * Parse dir/name (and its includes). On error returns NULL and writes
 * "file:line: message" into err.
 */
struct tmpl *tmpl_load(const char *dir, const char *name, char *err, size_t errlen);
/* Parse a template from memory (name is used in error messages only). */
struct tmpl *tmpl_parse(const char *name, const char *text, size_t len,
                        const char *include_dir, char *err, size_t errlen);
void tmpl_free(struct tmpl *t);

/* Variables live in the arena they were created in. */
struct tvars *tvars_new(struct arena *a);
/* Set name to a copy of value (NULL unsets). */
void tvars_set(struct tvars *v, const char *name, const char *value);
void tvars_setf(struct tvars *v, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tvars_set_int(struct tvars *v, const char *name, long long n);
/* Sets name to "1" when on is non-zero, otherwise unsets it. */
void tvars_set_bool(struct tvars *v, const char *name, int on);
/* Append a row to loop `name` and return it for filling. */
struct tvars *tvars_loop_add(struct tvars *v, const char *name);
/* Value of name in this scope or outwards, NULL when unset. */
const char *tvars_get(const struct tvars *v, const char *name);

/* Render into out. Never fails on missing variables (they render empty). */
void tmpl_render(const struct tmpl *t, const struct tvars *v, struct buf *out);

#endif
