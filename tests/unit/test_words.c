/* test_words.c: unit tests for the words of every page (dates, relative times, articles) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct scase {
	const char *in;
	const char *want;          /* NULL: refused */
};

static int arena_setup(void **state)
{
	*state = arena_new();
	return 0;
}

static int arena_teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static void check_cases(const struct scase *cases, size_t n,
                        const char *(*fn)(struct arena *, const char *), struct arena *a)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = fn(a, cases[i].in);

		if (cases[i].want == NULL) {
			if (got != NULL)
				fail_msg("%s: got '%s', want NULL", cases[i].in ? cases[i].in : "(null)", got);
		} else {
			assert_non_null(got);
			assert_string_equal(got, cases[i].want);
		}
	}
}

static void date_words_writes_day_month_year(void **state)
{
	static const struct scase cases[] = {
		{ "2026-12-01", "1 December 2026" },
		{ "2026-01-31", "31 January 2026" },
		{ "2024-02-29", "29 February 2024" },
		{ "2000-02-29", "29 February 2000" },
		{ "2026-12-01T10:20:30Z", "1 December 2026" },
		{ "2026-12-01 10:20", "1 December 2026" },
		{ "1970-07-04", "4 July 1970" },
	};

	check_cases(cases, N(cases), date_words, *state);
}

static void date_words_refuses_what_is_not_a_real_date(void **state)
{
	static const struct scase cases[] = {
		{ NULL, NULL }, { "", NULL }, { "2026-13-01", NULL }, { "2026-00-10", NULL },
		{ "2026-04-31", NULL }, { "2026-02-29", NULL }, { "1900-02-29", NULL },
		{ "2026-12-1", NULL }, { "2026/12/01", NULL }, { "20261201", NULL },
		{ "2026-12-01x", NULL }, { "yyyy-mm-dd", NULL }, { "2026-12-00", NULL },
	};

	check_cases(cases, N(cases), date_words, *state);
}

static void datetime_words_adds_the_time_in_utc(void **state)
{
	static const struct scase cases[] = {
		{ "2026-12-08T14:05:00Z", "8 December 2026, 14:05 UTC" },
		{ "2026-12-08 09:00", "8 December 2026, 09:00 UTC" },
		{ "2026-12-08", NULL }, { "2026-12-08T24:00", NULL }, { "2026-12-08T10:60", NULL },
		{ "2026-12-08T1:00", NULL }, { "2026-12-32T10:00", NULL },
	};

	check_cases(cases, N(cases), datetime_words, *state);
}

static void ago_words_picks_the_largest_whole_unit(void **state)
{
	static const struct { long secs; const char *want; } cases[] = {
		{ -5, "just now" }, { 0, "just now" }, { 59, "just now" }, { 60, "1 minute ago" },
		{ 119, "1 minute ago" }, { 120, "2 minutes ago" }, { 3599, "59 minutes ago" },
		{ 3600, "1 hour ago" }, { 86399, "23 hours ago" }, { 86400, "1 day ago" },
		{ 3 * 86400, "3 days ago" }, { 59 * 86400, "59 days ago" },
		{ 90 * 86400, "3 months ago" }, { 800L * 86400, "2 years ago" },
	};

	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(ago_words(*state, cases[i].secs), cases[i].want);
}

static void until_words_rounds_towards_what_people_expect(void **state)
{
	static const struct { long secs; const char *want; } cases[] = {
		{ -1, "expired" }, { 0, "expired" }, { 1, "in 1 minute" }, { 61, "in 2 minutes" },
		{ 3600, "in 1 hour" }, { 5400, "in 2 hours" }, { 7 * 86400, "in 7 days" },
		{ 7 * 86400 - 60, "in 7 days" }, { 86400, "in 1 day" },
	};

	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(until_words(*state, cases[i].secs), cases[i].want);
}

static void with_article_says_an_before_a_vowel(void **state)
{
	static const struct scase cases[] = {
		{ "admin", "an admin" }, { "owner", "an owner" }, { "member", "a member" },
		{ "viewer", "a viewer" }, { "Admin", "an Admin" }, { "", "" },
	};

	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(with_article(*state, cases[i].in), cases[i].want);
	assert_string_equal(with_article(*state, NULL), "");
}

static void plan_words_names_the_plans(void **state)
{
	(void)state;
	assert_string_equal(plan_words("free"), "Free");
	assert_string_equal(plan_words("starter"), "Starter");
	assert_string_equal(plan_words("professional"), "Professional");
	assert_string_equal(plan_words("enterprise"), "Enterprise");
	assert_string_equal(plan_words("custom"), "custom");
	assert_string_equal(plan_words(NULL), "");
}

static void utf8_chars_counts_characters_not_bytes(void **state)
{
	(void)state;
	assert_int_equal(utf8_chars(""), 0);
	assert_int_equal(utf8_chars(NULL), 0);
	assert_int_equal(utf8_chars("password"), 8);
	assert_int_equal(utf8_chars("p\xc3\xa4ssw\xc3\xb6rd"), 8);       /* ä, ö */
	assert_int_equal(utf8_chars("\xe2\x82\xac\xf0\x9f\x94\x91"), 2); /* € and a key emoji */
}

/*
 * The words are put together without printf: over whole ranges they must
 * equal what the printf formats of the rule say ("%d %s %d", "%02d:%02d",
 * "%ld unit[s] ago", "in %ld unit[s]").
 */
static const char *const months[12] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};

static void words_equal_their_printf_rule_over_whole_ranges(void **state)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	static const int years[] = { 1, 9, 10, 99, 100, 999, 1000, 2026, 9999 };
	char iso[32], want[96];

	for (size_t k = 0; k < N(years); k++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= mdays[m - 1]; d++) {
				int hh = (d * 7) % 24, mm = (d * 13 + m) % 60;

				snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:00Z", years[k], m, d, hh, mm);
				snprintf(want, sizeof(want), "%d %s %d", d, months[m - 1], years[k]);
				assert_string_equal(date_words(*state, iso), want);
				snprintf(want, sizeof(want), "%d %s %d, %02d:%02d UTC", d, months[m - 1],
				         years[k], hh, mm);
				assert_string_equal(datetime_words(*state, iso), want);
			}
		}
	}
	for (long secs = -5; secs < 40L * 365 * 86400; secs = secs < 200000 ? secs + 7 : secs * 11 / 10) {
		static const struct { long upto, div; const char *unit; } ago[] = {
			{ 3600, 60, "minute" }, { 86400, 3600, "hour" }, { 60L * 86400, 86400, "day" },
			{ 730L * 86400, 30L * 86400, "month" }, { -1, 365L * 86400, "year" },
		};

		if (secs < 60) {
			assert_string_equal(ago_words(*state, secs), "just now");
		} else {
			size_t i = 0;
			long n;

			while (ago[i].upto > 0 && secs >= ago[i].upto)
				i++;
			n = secs / ago[i].div;
			snprintf(want, sizeof(want), "%ld %s%s ago", n, ago[i].unit, n == 1 ? "" : "s");
			assert_string_equal(ago_words(*state, secs), want);
		}
		if (secs <= 0) {
			assert_string_equal(until_words(*state, secs), "expired");
		} else {
			long n = secs < 3600 ? (secs + 59) / 60 : secs < 86400 ? (secs + 1800) / 3600
			                                                        : (secs + 3600) / 86400;
			const char *unit = secs < 3600 ? "minute" : secs < 86400 ? "hour" : "day";

			snprintf(want, sizeof(want), "in %ld %s%s", n, unit, n == 1 ? "" : "s");
			assert_string_equal(until_words(*state, secs), want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(date_words_writes_day_month_year, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(date_words_refuses_what_is_not_a_real_date, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(datetime_words_adds_the_time_in_utc, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(ago_words_picks_the_largest_whole_unit, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(until_words_rounds_towards_what_people_expect, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(with_article_says_an_before_a_vowel, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(words_equal_their_printf_rule_over_whole_ranges, arena_setup, arena_teardown),
		cmocka_unit_test(plan_words_names_the_plans),
		cmocka_unit_test(utf8_chars_counts_characters_not_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
