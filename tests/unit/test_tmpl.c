/* test_tmpl.c: unit tests for the template engine */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpl.h"
#include "util.h"

struct rcase {
	const char *tmpl;
	const char *want;
};

struct ecase {
	const char *tmpl;
	unsigned line;
	const char *msg;      /* substring of the message */
};

static struct arena *A;
static struct tvars *V;

/* The page scope shared by the table-driven render tests. */
static int setup_vars(void **state)
{
	struct tvars *r, *g;

	(void)state;
	A = arena_new();
	V = tvars_new(A);
	tvars_set(V, "lt", "<");
	tvars_set(V, "gt", ">");
	tvars_set(V, "amp", "&");
	tvars_set(V, "quot", "\"");
	tvars_set(V, "apos", "'");
	tvars_set(V, "html", "<a href=\"x\">Tom & Jerry's</a>");
	tvars_set(V, "q", "a b&c/d?e=\xc3\xa9~_.-");
	tvars_set(V, "empty", "");
	tvars_set(V, "zero", "0");
	tvars_set(V, "one", "1");
	tvars_set(V, "color", "red");
	tvars_set(V, "title", "T");
	tvars_set(V, "Case", "upper");
	for (int i = 1; i <= 5; i++) {
		r = tvars_loop_add(V, "rows");
		tvars_set_int(r, "n", i);
		if (i == 2)
			tvars_set(r, "title", "row-title");
		if (i == 3)
			tvars_set(r, "stop", "1");
		if (i % 2 == 0)
			tvars_set(r, "even", "1");
	}
	for (int i = 1; i <= 2; i++) {
		g = tvars_loop_add(V, "groups");
		tvars_setf(g, "g", "G%d", i);
		for (int j = 1; j <= i; j++) {
			r = tvars_loop_add(g, "items");
			tvars_setf(r, "item", "%d.%d", i, j);
		}
	}
	return 0;
}

static int teardown_vars(void **state)
{
	(void)state;
	arena_free(A);
	A = NULL;
	V = NULL;
	return 0;
}

/* Parse from an exactly sized heap copy, so any read past len is caught. */
static struct tmpl *parse(const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	struct tmpl *t;

	assert_non_null(copy);
	memcpy(copy, text, len);
	t = tmpl_parse("t", copy, len, NULL, err, errlen);
	free(copy);
	return t;
}

static void run_render_table(const struct rcase *c, size_t n)
{
	char err[256];
	struct buf out;

	buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		struct tmpl *t = parse(c[i].tmpl, err, sizeof(err));

		if (t == NULL)
			fail_msg("case %zu \"%s\": parse error %s", i, c[i].tmpl, err);
		buf_reset(&out);
		tmpl_render(t, V, &out);
		if (strcmp(out.data ? out.data : "", c[i].want) != 0)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, c[i].tmpl,
			         out.data ? out.data : "", c[i].want);
		tmpl_free(t);
	}
	buf_free(&out);
}

static void run_error_table(const struct ecase *c, size_t n)
{
	char err[256], prefix[32];

	for (size_t i = 0; i < n; i++) {
		struct tmpl *t;

		err[0] = '\0';
		t = parse(c[i].tmpl, err, sizeof(err));
		if (t != NULL) {
			tmpl_free(t);
			fail_msg("case %zu \"%s\": parsed, want error", i, c[i].tmpl);
		}
		snprintf(prefix, sizeof(prefix), "t:%u: ", c[i].line);
		if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, c[i].msg) == NULL)
			fail_msg("case %zu \"%s\": got \"%s\", want \"%s...%s\"", i, c[i].tmpl, err,
			         prefix, c[i].msg);
	}
}

#define RENDER(table) run_render_table(table, sizeof(table) / sizeof(table[0]))
#define ERRORS(table) run_error_table(table, sizeof(table) / sizeof(table[0]))

/* ------------------------------------------------------------ variables */

static void test_var_escapes_each_html_special_by_default(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_VAR name=lt>", "&lt;"},
		{"<TMPL_VAR name=gt>", "&gt;"},
		{"<TMPL_VAR name=amp>", "&amp;"},
		{"<TMPL_VAR name=quot>", "&quot;"},
		{"<TMPL_VAR name=apos>", "&#39;"},
		{"<TMPL_VAR name=html>",
		 "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"},
		{"<TMPL_VAR name=html fmt=html>",
		 "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"},
		{"a<TMPL_VAR name=color>b", "aredb"},
	};

	(void)state;
	RENDER(c);
}

/*
 * Every byte from 1 to 255 in one value, through each context a template
 * has: HTML text, an attribute, a URL component, raw; in the page scope, in
 * a loop row, and as a default. Each must equal the byte-by-byte rule.
 */
static void want_html(struct buf *b, const unsigned char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, (char)*s); break;
		}
	}
}

static void want_url(struct buf *b, const unsigned char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_' || *s == '~') {
			buf_putc(b, (char)*s);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*s >> 4]);
			buf_putc(b, hex[*s & 15]);
		}
	}
}

static void test_var_escapes_every_byte_in_every_context(void **state)
{
	unsigned char all[256];
	struct arena *a = arena_new();
	struct tvars *v = tvars_new(a), *row;
	struct tmpl *t = parse("<p title=\"<TMPL_VAR name=all>\"><TMPL_VAR name=all></p>"
	                       "<a href=\"/x?q=<TMPL_VAR name=all fmt=url>\">"
	                       "<TMPL_VAR name=all fmt=raw>"
	                       "<TMPL_LOOP name=rows>[<TMPL_VAR name=own>|<TMPL_VAR name=all "
	                       "fmt=url>]</TMPL_LOOP>", NULL, 0);
	struct buf out, want;

	(void)state;
	assert_non_null(t);
	for (int i = 1; i < 256; i++)
		all[i - 1] = (unsigned char)i;
	all[255] = '\0';
	tvars_set(v, "all", (const char *)all);
	row = tvars_loop_add(v, "rows");
	tvars_set(row, "own", (const char *)all);
	buf_init(&out);
	buf_init(&want);
	tmpl_render(t, v, &out);
	buf_puts(&want, "<p title=\"");
	want_html(&want, all);
	buf_puts(&want, "\">");
	want_html(&want, all);
	buf_puts(&want, "</p><a href=\"/x?q=");
	want_url(&want, all);
	buf_puts(&want, "\">");
	buf_puts(&want, (const char *)all);
	buf_puts(&want, "[");
	want_html(&want, all);
	buf_puts(&want, "|");
	want_url(&want, all);
	buf_puts(&want, "]");
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	assert_int_equal(out.data[out.len], '\0');
	buf_free(&out);
	buf_free(&want);
	tmpl_free(t);
	arena_free(a);
}

static void test_var_escapes_invalid_utf8_and_defaults(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_VAR name=bad>", "\xc0&lt;\xe2\x82&quot;\xff&#39;&amp;\x80&gt;"},
		{"<TMPL_VAR name=bad fmt=url>", "%C0%3C%E2%82%22%FF%27%26%80%3E"},
		{"<TMPL_VAR name=bad fmt=raw>", "\xc0<\xe2\x82\"\xff'&\x80>"},
		{"<TMPL_VAR name=unset default='<\"&\">'>", "&lt;&quot;&amp;&quot;&gt;"},
		{"<TMPL_VAR name=unset fmt=url default=\"a&b c\">", "a%26b%20c"},
		{"<TMPL_VAR name=unset fmt=raw default=\"<b>\">", "<b>"},
	};
	struct arena *a = arena_new();
	struct tvars *saved = V;

	(void)state;
	V = tvars_new(a);
	tvars_set(V, "bad", "\xc0<\xe2\x82\"\xff'&\x80>");
	RENDER(c);
	V = saved;
	arena_free(a);
}

static void test_var_fmt_url_percent_encodes(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_VAR name=q fmt=url>", "a%20b%26c%2Fd%3Fe%3D%C3%A9~_.-"},
		{"<TMPL_VAR name=html fmt=\"URL\">",
		 "%3Ca%20href%3D%22x%22%3ETom%20%26%20Jerry%27s%3C%2Fa%3E"},
		{"<TMPL_VAR name=nope fmt=url default='a b'>", "a%20b"},
	};

	(void)state;
	RENDER(c);
}

static void test_var_fmt_raw_is_verbatim(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_VAR name=html fmt=raw>", "<a href=\"x\">Tom & Jerry's</a>"},
		{"<TMPL_VAR name=lt fmt='Raw'>", "<"},
		{"<TMPL_VAR name=nope fmt=raw default=\"<b>\">", "<b>"},
	};

	(void)state;
	RENDER(c);
}

static void test_var_default_used_only_when_unset(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_VAR name=nope default=\"dflt\">", "dflt"},
		{"<TMPL_VAR name=nope default=\"a<b\">", "a&lt;b"},
		{"<TMPL_VAR name=color default=\"dflt\">", "red"},
		{"<TMPL_VAR name=empty default=\"dflt\">", ""},
		{"<TMPL_VAR name=nope default=\"\">", ""},
		{"<TMPL_VAR name=rows default=\"isloop\">", "isloop"},
	};

	(void)state;
	RENDER(c);
}

static void test_var_unset_renders_empty(void **state)
{
	static const struct rcase c[] = {
		{"[<TMPL_VAR name=nope>]", "[]"},
		{"[<TMPL_VAR name=nope fmt=url>]", "[]"},
		{"[<TMPL_VAR name=nope fmt=raw>]", "[]"},
		{"[<TMPL_VAR name=rows>]", "[]"},
		{"[<TMPL_VAR name=empty>]", "[]"},
	};

	(void)state;
	RENDER(c);
}

static void test_var_names_are_case_sensitive(void **state)
{
	static const struct rcase c[] = {
		{"[<TMPL_VAR name=Case>]", "[upper]"},
		{"[<TMPL_VAR name=case>]", "[]"},
		{"[<TMPL_VAR name=COLOR>]", "[]"},
	};

	(void)state;
	RENDER(c);
}

/* ------------------------------------------------------------ conditions */

static void test_if_elsif_else_chains(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_IF name=one>yes</TMPL_IF>", "yes"},
		{"<TMPL_IF name=nope>yes</TMPL_IF>", ""},
		{"<TMPL_IF name=empty>yes<TMPL_ELSE>no</TMPL_IF>", "no"},
		{"<TMPL_IF name=zero>yes<TMPL_ELSE>no</TMPL_IF>", "no"},
		{"<TMPL_IF name=color>yes<TMPL_ELSE>no</TMPL_IF>", "yes"},
		{"<TMPL_IF name=rows>has rows</TMPL_IF>", "has rows"},
		{"<TMPL_IF name=norows>x<TMPL_ELSE>none</TMPL_IF>", "none"},
		{"<TMPL_IF name=nope>a<TMPL_ELSIF name=one>b<TMPL_ELSE>c</TMPL_IF>", "b"},
		{"<TMPL_IF name=one>a<TMPL_ELSIF name=one>b<TMPL_ELSE>c</TMPL_IF>", "a"},
		{"<TMPL_IF name=nope>a<TMPL_ELSIF name=zero>b<TMPL_ELSE>c</TMPL_IF>", "c"},
		{"<TMPL_IF name=nope>a<TMPL_ELSIF name=zero>b</TMPL_IF>.", "."},
		{"<TMPL_IF name=x>a<TMPL_ELSIF name=y>b<TMPL_ELSIF name=z>c"
		 "<TMPL_ELSIF name=color>d<TMPL_ELSE>e</TMPL_IF>", "d"},
		{"<TMPL_IF name=one><TMPL_IF name=nope>a<TMPL_ELSE>b</TMPL_IF>c"
		 "<TMPL_ELSE>d</TMPL_IF>e", "bce"},
		{"<TMPL_IF name=one>a</TMPL_IF>b<TMPL_IF name=one>c</TMPL_IF>d", "abcd"},
		{"<TMPL_IF name=nope>a</TMPL_IF>b<TMPL_IF name=nope>c</TMPL_IF>d", "bd"},
	};

	(void)state;
	RENDER(c);
}

static void test_if_value_compares_strings(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_IF name=color value=red>R<TMPL_ELSE>x</TMPL_IF>", "R"},
		{"<TMPL_IF name=color value=\"Red\">R<TMPL_ELSE>x</TMPL_IF>", "x"},
		{"<TMPL_IF name=color value=blue>B<TMPL_ELSIF name=color value='red'>R"
		 "</TMPL_IF>", "R"},
		{"<TMPL_IF name=zero value=0>zero</TMPL_IF>", "zero"},
		{"<TMPL_IF name=empty value=\"\">empty</TMPL_IF>", "empty"},
		{"<TMPL_IF name=nope value=\"\">x<TMPL_ELSE>unset</TMPL_IF>", "unset"},
		{"<TMPL_IF name=rows value=\"\">x<TMPL_ELSE>loop</TMPL_IF>", "loop"},
	};

	(void)state;
	RENDER(c);
}

static void test_unless_negates(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_UNLESS name=nope>shown</TMPL_UNLESS>", "shown"},
		{"<TMPL_UNLESS name=one>hidden</TMPL_UNLESS>", ""},
		{"<TMPL_UNLESS name=zero>a<TMPL_ELSE>b</TMPL_UNLESS>", "a"},
		{"<TMPL_UNLESS name=color>a<TMPL_ELSE>b</TMPL_UNLESS>", "b"},
		{"<TMPL_UNLESS name=color value=blue>not blue</TMPL_UNLESS>", "not blue"},
		{"<TMPL_UNLESS name=rows>a<TMPL_ELSE>rows</TMPL_UNLESS>", "rows"},
		{"<TMPL_UNLESS name=norows>none</TMPL_UNLESS>", "none"},
	};

	(void)state;
	RENDER(c);
}

/* ----------------------------------------------------------------- loops */

static void test_loop_renders_each_row(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_LOOP name=rows><TMPL_VAR name=n>,</TMPL_LOOP>", "1,2,3,4,5,"},
		{"a<TMPL_LOOP name=rows>-</TMPL_LOOP>b", "a-----b"},
		{"<TMPL_LOOP name=rows><TMPL_IF name=even>e<TMPL_ELSE>o</TMPL_IF></TMPL_LOOP>",
		 "oeoeo"},
	};

	(void)state;
	RENDER(c);
}

static void test_loop_empty_or_unset_renders_nothing(void **state)
{
	static const struct rcase c[] = {
		{"a<TMPL_LOOP name=norows>x<TMPL_VAR name=n></TMPL_LOOP>b", "ab"},
		{"a<TMPL_LOOP name=color>x</TMPL_LOOP>b", "ab"},
		{"<TMPL_LOOP name=groups><TMPL_LOOP name=nothing>x</TMPL_LOOP></TMPL_LOOP>.",
		 "."},
	};

	(void)state;
	RENDER(c);
}

static void test_loop_nested(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_LOOP name=groups>[<TMPL_VAR name=g>:<TMPL_LOOP name=items>"
		 "<TMPL_VAR name=item>;</TMPL_LOOP>]</TMPL_LOOP>",
		 "[G1:1.1;][G2:2.1;2.2;]"},
		{"<TMPL_LOOP name=groups><TMPL_LOOP name=items><TMPL_VAR name=g></TMPL_LOOP>"
		 "</TMPL_LOOP>", "G1G2G2"},
		{"<TMPL_LOOP name=rows><TMPL_LOOP name=groups><TMPL_VAR name=g></TMPL_LOOP>"
		 "</TMPL_LOOP>", "G1G2G1G2G1G2G1G2G1G2"},
	};

	(void)state;
	RENDER(c);
}

static void test_loop_row_looks_up_outer_scope(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_LOOP name=rows><TMPL_VAR name=color></TMPL_LOOP>", "redredredredred"},
		{"<TMPL_LOOP name=rows><TMPL_VAR name=title>|</TMPL_LOOP>",
		 "T|row-title|T|T|T|"},
		{"<TMPL_LOOP name=rows></TMPL_LOOP><TMPL_VAR name=title>", "T"},
		{"<TMPL_LOOP name=groups><TMPL_LOOP name=items><TMPL_VAR name=color>"
		 "</TMPL_LOOP></TMPL_LOOP>", "redredred"},
		{"<TMPL_LOOP name=rows><TMPL_VAR name=n></TMPL_LOOP>[<TMPL_VAR name=n>]",
		 "12345[]"},
		/* scoping is by where a row was added, not by which loops surround it */
		{"<TMPL_LOOP name=rows><TMPL_LOOP name=groups>[<TMPL_VAR name=n>]</TMPL_LOOP>"
		 "</TMPL_LOOP>", "[][][][][][][][][][]"},
	};

	(void)state;
	RENDER(c);
}

static void test_break_and_continue(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_LOOP name=rows><TMPL_VAR name=n><TMPL_IF name=stop><TMPL_BREAK>"
		 "</TMPL_IF>,</TMPL_LOOP>.", "1,2,3."},
		{"<TMPL_LOOP name=rows><TMPL_IF name=even><TMPL_CONTINUE></TMPL_IF>"
		 "<TMPL_VAR name=n></TMPL_LOOP>.", "135."},
		{"<TMPL_LOOP name=rows><TMPL_BREAK>x</TMPL_LOOP>.", "."},
		{"<TMPL_LOOP name=rows><TMPL_VAR name=n><TMPL_CONTINUE>x</TMPL_LOOP>.", "12345."},
		/* they act on the innermost loop only */
		{"<TMPL_LOOP name=groups><TMPL_VAR name=g><TMPL_LOOP name=items>"
		 "<TMPL_VAR name=item><TMPL_BREAK></TMPL_LOOP>;</TMPL_LOOP>",
		 "G11.1;G22.1;"},
		{"<TMPL_LOOP name=groups><TMPL_LOOP name=items><TMPL_CONTINUE>x</TMPL_LOOP>"
		 "<TMPL_VAR name=g></TMPL_LOOP>", "G1G2"},
		{"<TMPL_LOOP name=groups><TMPL_LOOP name=items>i</TMPL_LOOP><TMPL_BREAK>"
		 "</TMPL_LOOP>.", "i."},
		{"<TMPL_LOOP name=rows><TMPL_UNLESS name=even><TMPL_ELSE><TMPL_IF name=one>"
		 "<TMPL_CONTINUE></TMPL_IF></TMPL_UNLESS><TMPL_VAR name=n></TMPL_LOOP>", "135"},
		{"<TMPL_LOOP name=rows><TMPL_BREAK/></TMPL_LOOP>ok", "ok"},
	};

	(void)state;
	RENDER(c);
}

/* ------------------------------------------------------------ lexical */

static void test_comments_dropped(void **state)
{
	static const struct rcase c[] = {
		{"a<* hidden *>b", "ab"},
		{"a<* spans\nlines\n*>b", "ab"},
		{"a<* <TMPL_VAR name=color> <TMPL_FOO> </TMPL_IF> *>b", "ab"},
		{"<**>x<***>", "x"},
		{"a<* * > *>b", "ab"},
		{"<TMPL_IF name=one>a<* c *>b</TMPL_IF>", "ab"},
	};

	(void)state;
	RENDER(c);
}

static void test_tags_and_attributes_case_insensitive(void **state)
{
	static const struct rcase c[] = {
		{"<tmpl_var name=color>", "red"},
		{"<Tmpl_Var NAME=color FMT=RAW DEFAULT=x>", "red"},
		{"<tmpl_if Name=one>y<tmpl_elsif name=x>n<Tmpl_Else>n</tmpl_IF>", "y"},
		{"<tmpl_unless name=one>a<tmpl_else>b</tmpl_unless>", "b"},
		{"<tmpl_loop name=rows><tmpl_var name=n><tmpl_break></tmpl_loop>", "1"},
		{"<TMPL_IF name=one VALUE=1>v</TMPL_IF>", "v"},
	};

	(void)state;
	RENDER(c);
}

static void test_attribute_quoting_whitespace_and_slash(void **state)
{
	static const struct rcase c[] = {
		{"<TMPL_VAR name=\"color\">", "red"},
		{"<TMPL_VAR name='color'>", "red"},
		{"<TMPL_VAR    name  =  color   >", "red"},
		{"<TMPL_VAR\n\tname=\n\"color\"\n>", "red"},
		{"<TMPL_VAR name=color/>", "red"},
		{"<TMPL_VAR name=color />", "red"},
		{"<TMPL_VAR name=\"color\"/>", "red"},
		{"<TMPL_VAR name=nope default='a > b'>", "a &gt; b"},
		{"<TMPL_VAR name=nope default=\"it's\">", "it&#39;s"},
		{"<TMPL_VAR name=nope default='say \"hi\"' fmt=raw>", "say \"hi\""},
		{"<TMPL_IF name=one><TMPL_ELSE/>x</TMPL_IF/>", ""},
		{"<TMPL_IF name=one>a</TMPL_IF >", "a"},
	};

	(void)state;
	RENDER(c);
}

static void test_text_that_is_not_a_tag_passes_through(void **state)
{
	static const struct rcase c[] = {
		{"", ""},
		{"plain", "plain"},
		{"<b>bold</b> a < b > c & d", "<b>bold</b> a < b > c & d"},
		{"< TMPL_VAR name=x>", "< TMPL_VAR name=x>"},
		{"<TMPLVAR>", "<TMPLVAR>"},
		{"<TMPL", "<TMPL"},
		{"x<", "x<"},
		{"</", "</"},
		{"<!-- TMPL_VAR name=color -->", "<!-- TMPL_VAR name=color -->"},
		{"*> stray close", "*> stray close"},
	};

	(void)state;
	RENDER(c);
}

/* ------------------------------------------------------------- errors */

static void test_parse_errors_report_file_and_line(void **state)
{
	static const struct ecase c[] = {
		/* unclosed blocks: the line of the opening tag */
		{"a\n<TMPL_IF name=x>\nb\n", 2, "<TMPL_IF> is never closed"},
		{"<TMPL_LOOP name=x>\n\n<TMPL_IF name=y>\n</TMPL_IF>\n", 1,
		 "<TMPL_LOOP> is never closed"},
		{"\n\n<TMPL_UNLESS name=x>", 3, "<TMPL_UNLESS> is never closed"},
		/* stray and mismatched closers */
		{"a\n\n</TMPL_IF>", 3, "</TMPL_IF> without an open"},
		{"</TMPL_LOOP>", 1, "</TMPL_LOOP> without an open"},
		{"</TMPL_UNLESS>", 1, "without an open"},
		{"<TMPL_IF name=x>\n</TMPL_LOOP>", 2, "closes <TMPL_IF> opened at line 1"},
		{"<TMPL_LOOP name=x>\n\n</TMPL_UNLESS>", 3, "closes <TMPL_LOOP>"},
		/* ELSE / ELSIF placement */
		{"<TMPL_IF name=x>\n<TMPL_ELSE>\n<TMPL_ELSE>\n</TMPL_IF>", 3, "second <TMPL_ELSE>"},
		{"<TMPL_IF name=x>\n<TMPL_ELSE>\n\n<TMPL_ELSIF name=y>\n</TMPL_IF>", 4,
		 "<TMPL_ELSIF> after <TMPL_ELSE>"},
		{"<TMPL_UNLESS name=x>\n<TMPL_ELSIF name=y>", 2, "<TMPL_ELSIF> outside <TMPL_IF>"},
		{"x\n<TMPL_ELSE>", 2, "<TMPL_ELSE> outside"},
		{"<TMPL_ELSIF name=x>", 1, "<TMPL_ELSIF> outside"},
		{"<TMPL_IF name=x><TMPL_LOOP name=y>\n<TMPL_ELSE>", 2, "<TMPL_ELSE> outside"},
		{"<TMPL_UNLESS name=x><TMPL_ELSE><TMPL_ELSE></TMPL_UNLESS>", 1, "second"},
		/* BREAK / CONTINUE */
		{"\n<TMPL_BREAK>", 2, "<TMPL_BREAK> outside <TMPL_LOOP>"},
		{"<TMPL_IF name=x>\n\n<TMPL_CONTINUE>\n</TMPL_IF>", 3,
		 "<TMPL_CONTINUE> outside <TMPL_LOOP>"},
		{"<TMPL_LOOP name=x></TMPL_LOOP><TMPL_BREAK>", 1, "outside <TMPL_LOOP>"},
		/* missing or empty name */
		{"<TMPL_VAR>", 1, "<TMPL_VAR> needs a name attribute"},
		{"\n<TMPL_VAR fmt=raw>", 2, "needs a name attribute"},
		{"<TMPL_IF value=x></TMPL_IF>", 1, "<TMPL_IF> needs a name"},
		{"<TMPL_IF name=x><TMPL_ELSIF></TMPL_IF>", 1, "<TMPL_ELSIF> needs a name"},
		{"<TMPL_UNLESS>", 1, "<TMPL_UNLESS> needs a name"},
		{"<TMPL_LOOP>", 1, "<TMPL_LOOP> needs a name"},
		{"<TMPL_INCLUDE>", 1, "<TMPL_INCLUDE> needs a name"},
		{"<TMPL_VAR name=\"\">", 1, "empty name"},
		/* fmt */
		{"a\n<TMPL_VAR name=x fmt=js>", 2, "unknown fmt \"js\""},
		{"<TMPL_VAR name=x fmt=\"\">", 1, "unknown fmt"},
		{"<TMPL_VAR name=x fmt=\"a\nb\">", 1, "unknown fmt \"\""},
		/* unterminated tags, values and comments: the line where they start */
		{"x\n<TMPL_VAR name=a", 2, "unterminated <TMPL_VAR> tag"},
		{"<TMPL_VAR\nname=a\n", 1, "unterminated <TMPL_VAR> tag"},
		{"<TMPL_IF name=", 1, "unterminated <TMPL_IF> tag"},
		{"<TMPL_VAR name=a /", 1, "unterminated"},
		{"</TMPL_IF", 1, "unterminated </TMPL_IF> tag"},
		{"\n<TMPL_VAR name=\"a>\n\n", 2, "unterminated quoted name value"},
		{"<TMPL_VAR name=a default='x>", 1, "unterminated quoted default"},
		{"ok\n<* never\nclosed", 2, "unterminated <* comment"},
		{"<*>", 1, "unterminated <* comment"},
		{"<* a *> <* b", 1, "unterminated <* comment"},
		/* typos and junk inside tags */
		{"a\nb\n<TMPL_FOO name=x>", 3, "unknown tag <TMPL_FOO>"},
		{"<tmpl_vars name=x>", 1, "unknown tag <tmpl_vars>"},
		{"<TMPL_>", 1, "unknown tag <TMPL_>"},
		{"</TMPL_VAR>", 1, "unknown tag </TMPL_VAR>"},
		{"</TMPL_ELSE>", 1, "unknown tag </TMPL_ELSE>"},
		{"<TMPL_", 1, "unknown tag"},
		{"<TMPL_VAR\"x\">", 1, "malformed <TMPL_VAR> tag"},
		{"<TMPL_VAR nmae=x>", 1, "unknown attribute \"nmae\""},
		{"<TMPL_VAR name=x value=y>", 1, "<TMPL_VAR> takes no value attribute"},
		{"<TMPL_IF name=x fmt=raw>", 1, "<TMPL_IF> takes no fmt attribute"},
		{"<TMPL_IF name=x><TMPL_ELSE name=y>", 1, "<TMPL_ELSE> takes no name"},
		{"<TMPL_LOOP name=x><TMPL_BREAK name=x>", 1, "takes no name"},
		{"<TMPL_IF name=x></TMPL_IF name=x>", 1, "</TMPL_IF> takes no name"},
		{"<TMPL_VAR name=x NAME=y>", 1, "duplicate name attribute"},
		{"<TMPL_VAR name>", 1, "attribute name needs a value"},
		{"<TMPL_VAR name=>", 1, "attribute name needs a value"},
		{"<TMPL_VAR name=x / y>", 1, "stray '/'"},
		{"<TMPL_VAR name=x <TMPL_VAR name=y>", 1, "unexpected '<'"},
		{"<TMPL_VAR name=x \x01>", 1, "unexpected byte 0x01"},
		/* line counting across comments, multi-line tags and quoted values */
		{"<* a\nb *>\n<TMPL_VAR name=x\n>\n<TMPL_FOO>", 5, "unknown tag"},
		{"<TMPL_VAR name=x default='1\n2\n3'>\n<TMPL_BREAK>", 4, "outside"},
		/* includes without an include directory, bad paths */
		{"\n<TMPL_INCLUDE name=x.tmpl>", 2, "no include directory"},
		{"<TMPL_INCLUDE name=\"../etc/passwd\">", 1, "contains \"..\""},
		{"<TMPL_INCLUDE name=\"a..b\">", 1, "contains \"..\""},
		{"<TMPL_INCLUDE name=\"/etc/passwd\">", 1, "must be relative"},
		{"<TMPL_INCLUDE name=\"a b\">", 1, "characters outside"},
		{"<TMPL_INCLUDE name=\"a%2f\">", 1, "characters outside"},
		{"<TMPL_INCLUDE name=\"./\">", 1, "empty include path"},
	};

	(void)state;
	ERRORS(c);
}

static void test_nul_byte_refused(void **state)
{
	static const char text[] = "one\ntwo\nthr\0ee<TMPL_VAR name=x>";
	char err[128] = "";
	struct tmpl *t;

	(void)state;
	t = tmpl_parse("t", text, sizeof(text) - 1, NULL, err, sizeof(err));
	assert_null(t);
	assert_string_equal(err, "t:3: NUL byte in template");

	/* a NUL at the very end, past which nothing may be read */
	t = tmpl_parse("t", "abc", 4, NULL, err, sizeof(err));
	assert_null(t);
	assert_string_equal(err, "t:1: NUL byte in template");
}

static char *repeat(const char *a, int n, const char *mid, const char *b, int m)
{
	size_t la = strlen(a), lb = strlen(b), lm = strlen(mid);
	char *s = malloc(la * (size_t)n + lm + lb * (size_t)m + 1), *p = s;

	assert_non_null(s);
	for (int i = 0; i < n; i++, p += la)
		memcpy(p, a, la);
	memcpy(p, mid, lm);
	p += lm;
	for (int i = 0; i < m; i++, p += lb)
		memcpy(p, b, lb);
	*p = '\0';
	return s;
}

static void test_deep_nesting_refused_cleanly(void **state)
{
	static const struct {
		const char *open, *close;
	} c[] = {
		{"<TMPL_IF name=one>\n", "</TMPL_IF>\n"},
		{"<TMPL_UNLESS name=x>\n", "</TMPL_UNLESS>\n"},
		{"<TMPL_LOOP name=rows>\n", "</TMPL_LOOP>\n"},
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *s = repeat(c[i].open, 1000, "x", c[i].close, 1000);
		struct tmpl *t = parse(s, err, sizeof(err));

		assert_null(t);
		/* the 65th opening tag, on line 65, is one too many */
		assert_string_equal(err, "t:65: blocks nested deeper than 64");
		free(s);

		s = repeat(c[i].open, 65, "x", c[i].close, 65);
		assert_null(parse(s, err, sizeof(err)));
		free(s);
	}
}

static void test_max_nesting_renders(void **state)
{
	struct arena *a = arena_new();
	struct tvars *v = tvars_new(a), *r = v;
	char err[128];
	struct buf out;
	char *s;
	struct tmpl *t;

	(void)state;
	buf_init(&out);
	tvars_set(v, "one", "1");
	tvars_set(v, "leaf", "<leaf>");

	s = repeat("<TMPL_IF name=one>", 64, "y", "</TMPL_IF>", 64);
	t = parse(s, err, sizeof(err));
	assert_non_null(t);
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "y");
	tmpl_free(t);
	free(s);

	/* 64 loops deep, each row holding the next loop; the leaf is found at the top */
	for (int i = 0; i < 64; i++)
		r = tvars_loop_add(r, "r");
	s = repeat("<TMPL_LOOP name=r>", 64, "<TMPL_VAR name=leaf>", "</TMPL_LOOP>", 64);
	t = parse(s, err, sizeof(err));
	assert_non_null(t);
	buf_reset(&out);
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "&lt;leaf&gt;");
	tmpl_free(t);
	free(s);

	buf_free(&out);
	arena_free(a);
}

static void test_truncated_input_never_read_past_length(void **state)
{
	static const struct {
		const char *text;
		int ok;
	} c[] = {
		{"<", 1}, {"</", 1}, {"<T", 1}, {"<TMPL", 1}, {"<TMPL_", 0}, {"</TMPL_", 0},
		{"<*", 0}, {"<* *", 0}, {"<TMPL_VAR", 0}, {"<TMPL_VAR ", 0},
		{"<TMPL_VAR name", 0}, {"<TMPL_VAR name=", 0}, {"<TMPL_VAR name='", 0},
		{"<TMPL_VAR name=x", 0}, {"<TMPL_VAR name=x/", 0}, {"<TMPL_VAR name=x>", 1},
		{"</TMPL_IF", 0}, {"abc<* x *>", 1},
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct tmpl *t = parse(c[i].text, err, sizeof(err));

		if ((t != NULL) != c[i].ok)
			fail_msg("case \"%s\": %s", c[i].text, t ? "parsed" : err);
		tmpl_free(t);
	}
}

static void test_error_buffer_may_be_small_or_absent(void **state)
{
	char err[8];

	(void)state;
	assert_null(tmpl_parse("t", "<TMPL_FOO>", 10, NULL, NULL, 0));
	assert_null(tmpl_parse("t", "<TMPL_FOO>", 10, NULL, err, sizeof(err)));
	assert_string_equal(err, "t:1: un");
}

/* ---------------------------------------------------------------- tvars */

static void test_tvars_set_get_and_unset(void **state)
{
	struct arena *a = arena_new();
	struct tvars *v = tvars_new(a), *row;
	char name[8] = "k";
	char value[8] = "v1";

	(void)state;
	tvars_set(v, name, value);
	name[0] = 'x';            /* name and value were copied */
	value[0] = 'x';
	assert_string_equal(tvars_get(v, "k"), "v1");
	tvars_set(v, "k", "v2");
	assert_string_equal(tvars_get(v, "k"), "v2");
	tvars_set(v, "k", NULL);
	assert_null(tvars_get(v, "k"));
	tvars_set(v, "never", NULL);
	assert_null(tvars_get(v, "never"));

	tvars_setf(v, "f", "%s-%d", "a", 7);
	assert_string_equal(tvars_get(v, "f"), "a-7");
	tvars_set_int(v, "i", -1234567890123LL);
	assert_string_equal(tvars_get(v, "i"), "-1234567890123");
	tvars_set_bool(v, "b", 5);
	assert_string_equal(tvars_get(v, "b"), "1");
	tvars_set_bool(v, "b", 0);
	assert_null(tvars_get(v, "b"));

	/* rows see outwards, shadow, and unsetting in a row uncovers the parent */
	tvars_set(v, "s", "outer");
	row = tvars_loop_add(v, "L");
	assert_string_equal(tvars_get(row, "s"), "outer");
	tvars_set(row, "s", "inner");
	assert_string_equal(tvars_get(row, "s"), "inner");
	assert_string_equal(tvars_get(v, "s"), "outer");
	tvars_set(row, "s", NULL);
	assert_string_equal(tvars_get(row, "s"), "outer");
	assert_null(tvars_get(v, "L"));       /* a loop has no string value */

	/* many names force the scope array to grow */
	for (int i = 0; i < 100; i++)
		tvars_set_int(v, arena_printf(a, "n%d", i), i);
	for (int i = 0; i < 100; i++)
		assert_int_equal(atoi(tvars_get(v, arena_printf(a, "n%d", i))), i);
	assert_string_equal(tvars_get(row, "n99"), "99");
	arena_free(a);
}

/*
 * Scopes are hash tables: names whose hashes collide (v55610 and
 * v164345 have the same hash in tmpl.c, found by a search), thousands of names, unsetting and
 * setting again, in the page scope and in rows, all stay distinct and are
 * found the same way by tvars_get and by a rendered template.
 */
static void test_tvars_hash_collisions_growth_and_unset(void **state)
{
	struct arena *a = arena_new();
	struct tvars *v = tvars_new(a), *row;
	struct tmpl *t = parse("<TMPL_VAR name=v55610>/<TMPL_VAR name=v164345>"
	                       "<TMPL_LOOP name=L>[<TMPL_VAR name=v55610>/<TMPL_VAR name=v164345>"
	                       "<TMPL_IF name=v164345>+</TMPL_IF>]</TMPL_LOOP>", NULL, 0);
	struct buf out;

	(void)state;
	assert_non_null(t);
	buf_init(&out);
	tvars_set(v, "v55610", "a");
	tvars_set(v, "v164345", "b");
	assert_string_equal(tvars_get(v, "v55610"), "a");
	assert_string_equal(tvars_get(v, "v164345"), "b");
	row = tvars_loop_add(v, "L");
	tvars_set(row, "v164345", "rb");
	row = tvars_loop_add(v, "L");
	tvars_set(row, "v55610", "ra");
	tvars_set(row, "v164345", NULL);      /* never set here: still the outer one */
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "a/b[a/rb+][ra/b+]");
	/* unsetting one of two colliding names leaves the other */
	tvars_set(v, "v55610", NULL);
	assert_null(tvars_get(v, "v55610"));
	assert_string_equal(tvars_get(v, "v164345"), "b");
	tvars_set(v, "v55610", "again");
	assert_string_equal(tvars_get(v, "v55610"), "again");

	/* thousands of names in the page scope and in a row */
	for (int i = 0; i < 3000; i++) {
		tvars_set_int(v, arena_printf(a, "k%d", i), i);
		tvars_set_int(row, arena_printf(a, "r%d", i), -i);
	}
	for (int i = 0; i < 3000; i += 2) {
		tvars_set(v, arena_printf(a, "k%d", i), NULL);
		tvars_set(row, arena_printf(a, "k%d", i + 1), "shadow");
	}
	for (int i = 0; i < 3000; i++) {
		const char *k = arena_printf(a, "k%d", i), *r = arena_printf(a, "r%d", i);

		if (i % 2 == 0) {
			assert_null(tvars_get(v, k));
			assert_null(tvars_get(row, k));
		} else {
			assert_int_equal(atoi(tvars_get(v, k)), i);
			assert_string_equal(tvars_get(row, k), "shadow");
		}
		assert_int_equal(atoi(tvars_get(row, r)), -i);
		assert_null(tvars_get(v, r));
	}
	assert_string_equal(tvars_get(v, "v164345"), "b");
	/* names of every length up to 40, and ones that differ in a single byte */
	for (size_t len = 1; len <= 40; len++) {
		for (size_t at = 0; at <= len; at++) {
			char *name = arena_alloc(a, len + 1);

			memset(name, 'n', len);
			if (at < len)
				name[at] = 'X';
			tvars_set(row, name, arena_printf(a, "%zu/%zu", len, at));
		}
	}
	for (size_t len = 1; len <= 40; len++) {
		for (size_t at = 0; at <= len; at++) {
			char *name = arena_alloc(a, len + 1);

			memset(name, 'n', len);
			if (at < len)
				name[at] = 'X';
			assert_string_equal(tvars_get(row, name), arena_printf(a, "%zu/%zu", len, at));
		}
	}
	buf_reset(&out);
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "again/b[again/rb+][ra/b+]");
	buf_free(&out);
	tmpl_free(t);
	arena_free(a);
}

/*
 * A template rendered with a loop row as its scope: names come from the row,
 * then its parents; a loop found in a parent iterates that parent's rows,
 * whose lookups go to their own parent and never through the row rendered.
 */
static void test_render_from_a_row_scope(void **state)
{
	struct arena *a = arena_new();
	struct tvars *v = tvars_new(a), *row, *r;
	struct tmpl *t = parse("<TMPL_VAR name=x>|<TMPL_VAR name=y>|<TMPL_LOOP name=L>"
	                       "(<TMPL_VAR name=x>,<TMPL_VAR name=z>)</TMPL_LOOP>|"
	                       "<TMPL_VAR name=x>", NULL, 0);
	struct buf out;

	(void)state;
	assert_non_null(t);
	tvars_set(v, "x", "vx");
	tvars_set(v, "y", "vy");
	row = tvars_loop_add(v, "L");
	tvars_set(row, "x", "rx");
	tvars_set(row, "z", "rz");
	r = tvars_loop_add(v, "L");
	tvars_set(r, "z", "sz");
	buf_init(&out);
	tmpl_render(t, row, &out);
	assert_string_equal(out.data, "rx|vy|(rx,rz)(vx,sz)|rx");
	buf_reset(&out);
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "vx|vy|(rx,rz)(vx,sz)|vx");
	buf_free(&out);
	tmpl_free(t);
	arena_free(a);
}

static void test_tvars_value_and_loop_replace_each_other(void **state)
{
	struct arena *a = arena_new();
	struct tvars *v = tvars_new(a);
	struct tmpl *t = parse("<TMPL_LOOP name=x>r</TMPL_LOOP>[<TMPL_VAR name=x>]", NULL, 0);
	struct buf out;

	(void)state;
	assert_non_null(t);
	buf_init(&out);
	tvars_set(v, "x", "val");
	tvars_loop_add(v, "x");
	tvars_loop_add(v, "x");
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "rr[]");
	tvars_set(v, "x", "val");
	buf_reset(&out);
	tmpl_render(t, v, &out);
	assert_string_equal(out.data, "[val]");
	buf_free(&out);
	tmpl_free(t);
	arena_free(a);
}

static void test_one_template_renders_many_scopes(void **state)
{
	struct tmpl *t = parse("Hello, <TMPL_VAR name=who default=stranger>!", NULL, 0);
	struct arena *a = arena_new();
	struct buf out;

	(void)state;
	assert_non_null(t);
	buf_init(&out);
	for (int i = 0; i < 3; i++) {
		struct tvars *v = tvars_new(a);

		if (i == 1)
			tvars_set(v, "who", "Ann & Bob");
		buf_reset(&out);
		tmpl_render(t, v, &out);
		assert_string_equal(out.data, i == 1 ? "Hello, Ann &amp; Bob!" : "Hello, stranger!");
		arena_reset(a);
	}
	buf_reset(&out);
	tmpl_render(t, NULL, &out);
	assert_string_equal(out.data, "Hello, stranger!");
	buf_free(&out);
	arena_free(a);
	tmpl_free(t);
}

/* -------------------------------------------------------------- includes */

static char dir[64];
static char *files[64];
static int nfiles;

static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_true(nfiles < 64);
	files[nfiles++] = strdup(path);
}

static int setup_dir(void **state)
{
	char path[128];

	(void)state;
	strcpy(dir, "/tmp/test_tmpl.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/sub", dir);
	if (mkdir(path, 0700) < 0)
		return -1;
	return setup_vars(state);
}

static int teardown_dir(void **state)
{
	char path[128];

	while (nfiles > 0) {
		unlink(files[--nfiles]);
		free(files[nfiles]);
	}
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	return teardown_vars(state);
}

static void expect_render(const char *name, const char *want)
{
	char err[256];
	struct tmpl *t = tmpl_load(dir, name, err, sizeof(err));
	struct buf out;

	if (t == NULL)
		fail_msg("%s: %s", name, err);
	buf_init(&out);
	tmpl_render(t, V, &out);
	assert_string_equal(out.data ? out.data : "", want);
	buf_free(&out);
	tmpl_free(t);
}

static void expect_error(const char *name, const char *want)
{
	char err[256] = "";
	struct tmpl *t = tmpl_load(dir, name, err, sizeof(err));

	if (t != NULL) {
		tmpl_free(t);
		fail_msg("%s: loaded, want error %s", name, want);
	}
	if (strstr(err, want) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", name, err, want);
}

static void test_include_inlines_files(void **state)
{
	(void)state;
	put_file("head.tmpl", "<h1><TMPL_VAR name=title></h1>\n");
	put_file("sub/row.tmpl", "(<TMPL_VAR name=n>)");
	put_file("page.tmpl",
	         "<TMPL_INCLUDE name='head.tmpl'/><TMPL_LOOP name=rows>"
	         "<TMPL_INCLUDE name=\"sub/row.tmpl\"></TMPL_LOOP>|"
	         "<tmpl_include NAME=./sub//row.tmpl>");
	expect_render("page.tmpl", "<h1>T</h1>\n(1)(2)(3)(4)(5)|()");
	expect_render("./sub/row.tmpl", "()");
	put_file("empty.tmpl", "");
	put_file("uses_empty.tmpl", "a<TMPL_INCLUDE name=empty.tmpl>b");
	expect_render("uses_empty.tmpl", "ab");
}

static void test_include_break_inside_included_file(void **state)
{
	(void)state;
	put_file("brk.tmpl", "<TMPL_IF name=stop><TMPL_BREAK></TMPL_IF>");
	put_file("loop.tmpl",
	         "<TMPL_LOOP name=rows><TMPL_VAR name=n><TMPL_INCLUDE name=brk.tmpl>"
	         "</TMPL_LOOP>.");
	expect_render("loop.tmpl", "123.");
	put_file("brk_top.tmpl", "x<TMPL_INCLUDE name=brk.tmpl>");
	expect_error("brk_top.tmpl", "brk.tmpl:1: <TMPL_BREAK> outside <TMPL_LOOP>");
}

static void test_include_cycle_refused(void **state)
{
	(void)state;
	put_file("self.tmpl", "x\n<TMPL_INCLUDE name=\"./self.tmpl\">");
	expect_error("self.tmpl", "self.tmpl:2: include cycle");
	put_file("a.tmpl", "a<TMPL_INCLUDE name=b.tmpl>");
	put_file("b.tmpl", "\n\nb<TMPL_INCLUDE name=a.tmpl>");
	expect_error("a.tmpl", "b.tmpl:3: include cycle: \"a.tmpl\"");
}

static void test_include_depth_limited(void **state)
{
	char name[32], text[64];

	(void)state;
	/* d0 includes d1 ... includes d17 */
	for (int i = 0; i <= 17; i++) {
		snprintf(name, sizeof(name), "d%d.tmpl", i);
		if (i < 17)
			snprintf(text, sizeof(text), "%d<TMPL_INCLUDE name=d%d.tmpl>", i, i + 1);
		else
			snprintf(text, sizeof(text), "end");
		put_file(name, text);
	}
	expect_render("d1.tmpl", "12345678910111213141516end");    /* 16 levels */
	expect_error("d0.tmpl", "d16.tmpl:1: includes nested deeper than 16");
}

static void test_include_errors_name_the_right_file(void **state)
{
	(void)state;
	put_file("bad.tmpl", "ok\n<TMPL_IF name=x>\n");
	put_file("uses_bad.tmpl", "<TMPL_INCLUDE name=bad.tmpl></TMPL_IF>");
	expect_error("uses_bad.tmpl", "bad.tmpl:2: <TMPL_IF> is never closed");
	put_file("closer.tmpl", "\n</TMPL_IF>");
	put_file("uses_closer.tmpl", "<TMPL_IF name=x><TMPL_INCLUDE name=closer.tmpl></TMPL_IF>");
	expect_error("uses_closer.tmpl", "closer.tmpl:2: </TMPL_IF> without an open");
	put_file("missing_inc.tmpl", "a\nb\n<TMPL_INCLUDE name=\"nope.tmpl\">");
	expect_error("missing_inc.tmpl",
	             "missing_inc.tmpl:3: cannot include \"nope.tmpl\": No such file");
	put_file("dir_inc.tmpl", "<TMPL_INCLUDE name=sub>");
	expect_error("dir_inc.tmpl", "dir_inc.tmpl:1: cannot include \"sub\"");
	put_file("nul.tmpl", "a\n\nb");
	/* overwrite with an embedded NUL */
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/nul.tmpl", dir);
		f = fopen(path, "w");
		assert_non_null(f);
		fwrite("a\n\nb\0c", 1, 6, f);
		fclose(f);
	}
	put_file("uses_nul.tmpl", "<TMPL_INCLUDE name=nul.tmpl>");
	expect_error("uses_nul.tmpl", "nul.tmpl:3: NUL byte in template");
}

static void test_load_refuses_missing_and_unsafe_names(void **state)
{
	(void)state;
	expect_error("nope.tmpl", "nope.tmpl:0: cannot read template");
	expect_error("../etc/passwd", "contains \"..\"");
	expect_error("/etc/passwd", "must be relative");
	expect_error("sub", "sub:0: cannot read template");
}

int main(void)
{
	const struct CMUnitTest render[] = {
		cmocka_unit_test(test_var_escapes_each_html_special_by_default),
		cmocka_unit_test(test_var_escapes_every_byte_in_every_context),
		cmocka_unit_test(test_var_escapes_invalid_utf8_and_defaults),
		cmocka_unit_test(test_var_fmt_url_percent_encodes),
		cmocka_unit_test(test_var_fmt_raw_is_verbatim),
		cmocka_unit_test(test_var_default_used_only_when_unset),
		cmocka_unit_test(test_var_unset_renders_empty),
		cmocka_unit_test(test_var_names_are_case_sensitive),
		cmocka_unit_test(test_if_elsif_else_chains),
		cmocka_unit_test(test_if_value_compares_strings),
		cmocka_unit_test(test_unless_negates),
		cmocka_unit_test(test_loop_renders_each_row),
		cmocka_unit_test(test_loop_empty_or_unset_renders_nothing),
		cmocka_unit_test(test_loop_nested),
		cmocka_unit_test(test_loop_row_looks_up_outer_scope),
		cmocka_unit_test(test_break_and_continue),
		cmocka_unit_test(test_comments_dropped),
		cmocka_unit_test(test_tags_and_attributes_case_insensitive),
		cmocka_unit_test(test_attribute_quoting_whitespace_and_slash),
		cmocka_unit_test(test_text_that_is_not_a_tag_passes_through),
	};
	const struct CMUnitTest parsing[] = {
		cmocka_unit_test(test_parse_errors_report_file_and_line),
		cmocka_unit_test(test_nul_byte_refused),
		cmocka_unit_test(test_deep_nesting_refused_cleanly),
		cmocka_unit_test(test_max_nesting_renders),
		cmocka_unit_test(test_truncated_input_never_read_past_length),
		cmocka_unit_test(test_error_buffer_may_be_small_or_absent),
		cmocka_unit_test(test_tvars_set_get_and_unset),
		cmocka_unit_test(test_tvars_hash_collisions_growth_and_unset),
		cmocka_unit_test(test_tvars_value_and_loop_replace_each_other),
		cmocka_unit_test(test_render_from_a_row_scope),
		cmocka_unit_test(test_one_template_renders_many_scopes),
	};
	const struct CMUnitTest includes[] = {
		cmocka_unit_test(test_include_inlines_files),
		cmocka_unit_test(test_include_break_inside_included_file),
		cmocka_unit_test(test_include_cycle_refused),
		cmocka_unit_test(test_include_depth_limited),
		cmocka_unit_test(test_include_errors_name_the_right_file),
		cmocka_unit_test(test_load_refuses_missing_and_unsafe_names),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("tmpl render", render, setup_vars, teardown_vars);
	fails += cmocka_run_group_tests_name("tmpl parse", parsing, NULL, NULL);
	fails += cmocka_run_group_tests_name("tmpl include", includes, setup_dir, teardown_dir);
	return fails ? 1 : 0;
}
