/* test_text.c: typed names (text_name) and CSV fields (buf_csv) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void text_name_trims_and_accepts_unicode(void **state)
{
	struct arena *a = arena_new();
	const char *out;

	(void)state;
	assert_int_equal(text_name(a, "  Acme Corp \t", 100, &out), TEXT_OK);
	assert_string_equal(out, "Acme Corp");
	assert_int_equal(text_name(a, "Ünïcødé 工作区", 100, &out), TEXT_OK);
	assert_string_equal(out, "Ünïcødé 工作区");
	arena_free(a);
}

static void text_name_counts_characters_not_bytes(void **state)
{
	struct arena *a = arena_new();
	const char *out;
	char s[400];

	(void)state;
	/* 100 two-byte characters: 200 bytes, still 100 characters. */
	s[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(s, "é");
	assert_int_equal(text_name(a, s, 100, &out), TEXT_OK);
	strcat(s, "é");
	assert_int_equal(text_name(a, s, 100, &out), TEXT_TOO_LONG);
	assert_null(out);
	arena_free(a);
}

static void text_name_refuses_empty_and_control_characters(void **state)
{
	static const struct { const char *in; int want; } cases[] = {
		{ "", TEXT_EMPTY }, { "   ", TEXT_EMPTY }, { "\t \t", TEXT_EMPTY },
		{ "a\nb", TEXT_CONTROL }, { "a\rb", TEXT_CONTROL }, { "a\x1b[31mb", TEXT_CONTROL },
		{ "a\x7f", TEXT_CONTROL }, { "a\xc2\x85z", TEXT_CONTROL }, { "a\xe2\x80\xa8z", TEXT_CONTROL },
		{ "a\xe2\x80\xa9z", TEXT_CONTROL }, { "a\xc2\xa0z", TEXT_OK }, { "<script>", TEXT_OK },
	};
	struct arena *a = arena_new();
	const char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(text_name(a, cases[i].in, 100, &out), cases[i].want);
	assert_int_equal(text_name(a, NULL, 100, &out), TEXT_EMPTY);
	arena_free(a);
}

static void buf_csv_quotes_per_rfc4180_and_defuses_formulas(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "two\nlines", "\"two\nlines\"" },
		{ "cr\rhere", "\"cr\rhere\"" },
		{ "=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"" },
		{ "+1", "\"'+1\"" },
		{ "-2+3", "\"'-2+3\"" },
		{ "@SUM(A1)", "\"'@SUM(A1)\"" },
		{ "\tTAB", "\"'\tTAB\"" },
		{ "a=b", "a=b" },
		{ "2026-11-30T17:00:00Z", "2026-11-30T17:00:00Z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b);
		buf_csv(&b, cases[i].in);
		assert_string_equal(b.len ? b.data : "", cases[i].want);
		buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_name_trims_and_accepts_unicode),
		cmocka_unit_test(text_name_counts_characters_not_bytes),
		cmocka_unit_test(text_name_refuses_empty_and_control_characters),
		cmocka_unit_test(buf_csv_quotes_per_rfc4180_and_defuses_formulas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
