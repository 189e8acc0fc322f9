/* test_account_rules.c: unit tests for account_rules.c (passwords, names, User-Agent) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "account_rules.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

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

static void utf8_chars_counts_code_points_not_bytes(void **state)
{
	(void)state;
	assert_int_equal(utf8_chars(""), 0);
	assert_int_equal(utf8_chars("abc"), 3);
	assert_int_equal(utf8_chars("é"), 1);                 /* 2 bytes */
	assert_int_equal(utf8_chars("日本"), 2);              /* 3 bytes each */
	assert_int_equal(utf8_chars("\xF0\x9F\x94\x91"), 1);  /* an emoji, 4 bytes */
}

static void password_check_follows_the_table(void **state)
{
	static const struct {
		const char *password, *email;
		enum password_problem want;
	} cases[] = {
		{ NULL, "a@example.com", PASSWORD_EMPTY },
		{ "", "a@example.com", PASSWORD_EMPTY },
		{ "short", "a@example.com", PASSWORD_SHORT },
		{ "elevenchars", "a@example.com", PASSWORD_SHORT },          /* 11 */
		{ "twelve chars", "a@example.com", PASSWORD_OK },            /* 12 */
		/* 11 characters of 2 bytes: 22 bytes but still too few characters. */
		{ "ééééééééééé", "a@example.com", PASSWORD_SHORT },
		{ "éééééééééééé", "a@example.com", PASSWORD_OK },            /* 12 characters, 24 bytes */
		/* 72 bytes is the most; 73 is refused (bcrypt would ignore the rest). */
		{ "123456789012345678901234567890123456789012345678901234567890123456789012",
		  "a@example.com", PASSWORD_OK },
		{ "1234567890123456789012345678901234567890123456789012345678901234567890123",
		  "a@example.com", PASSWORD_LONG },
		/* 37 characters of 2 bytes = 74 bytes: too long although only 37 characters. */
		{ "éééééééééééééééééééééééééééééééééeééé", "a@example.com", PASSWORD_LONG },
		/* 18 emoji = 72 bytes: fine; 19 = 76: too long. */
		{ "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
		  "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
		  "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
		  "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91", "a@example.com", PASSWORD_OK },
		{ "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
		  "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
		  "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91"
		  "\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91\xF0\x9F\x94\x91", "a@example.com",
		  PASSWORD_LONG },
		{ "someone@example.com", "someone@example.com", PASSWORD_IS_EMAIL },
		{ "SomeOne@Example.COM", "someone@example.com", PASSWORD_IS_EMAIL },
		{ "someone@example.com!", "someone@example.com", PASSWORD_OK },
		{ "no email given", NULL, PASSWORD_OK },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		enum password_problem got = password_check(cases[i].password, cases[i].email);

		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i,
			         cases[i].password ? cases[i].password : "(null)", got, cases[i].want);
	}
}

static void password_message_explains_the_limit_in_characters(void **state)
{
	struct arena *a = *state;
	const char *accented = "éééééééééééééééééééééééééééééééééééééééé";  /* 40 chars, 80 bytes */

	assert_null(password_message(a, PASSWORD_OK, "whatever"));
	assert_non_null(strstr(password_message(a, PASSWORD_SHORT, "ab"), "2 characters"));
	assert_non_null(strstr(password_message(a, PASSWORD_SHORT, "abé"), "3 characters"));
	assert_non_null(strstr(password_message(a, PASSWORD_LONG,
	    "1234567890123456789012345678901234567890123456789012345678901234567890123"),
	    "73 characters: use at most 72"));
	assert_non_null(strstr(password_message(a, PASSWORD_LONG, accented),
	                       "40 characters take 80 bytes"));
	assert_non_null(strstr(password_message(a, PASSWORD_IS_EMAIL, "x"), "email"));
	assert_non_null(strstr(password_message(a, PASSWORD_IS_CURRENT, "x"), "current password"));
	assert_non_null(strstr(password_hint, "12 characters"));
	assert_non_null(strstr(password_hint, "72"));
}

static void name_clean_trims_bounds_and_refuses_controls(void **state)
{
	struct arena *a = *state;
	const char *error;
	char hundred[101], too_long[102], accented[201];

	assert_string_equal(name_clean(a, "  Ada Lovelace ", &error), "Ada Lovelace");
	assert_null(error);
	assert_string_equal(name_clean(a, "Zoë 日本", &error), "Zoë 日本");
	assert_null(name_clean(a, "", &error));
	assert_string_equal(error, "Enter your name.");
	assert_null(name_clean(a, "    ", &error));
	assert_string_equal(error, "Enter your name.");
	assert_null(name_clean(a, NULL, &error));
	assert_null(name_clean(a, "Ada\tLovelace", &error));
	assert_non_null(strstr(error, "control characters"));
	assert_null(name_clean(a, "Ada\nLovelace", &error));
	assert_null(name_clean(a, "Ada\x7f", &error));
	assert_null(name_clean(a, "Ada\xC2\x85", &error));          /* U+0085, a C1 control */
	assert_null(name_clean(a, "Ada\xE2\x80\xA8", &error));      /* U+2028 line separator */
	memset(hundred, 'x', 100);
	hundred[100] = '\0';
	assert_non_null(name_clean(a, hundred, &error));
	memset(too_long, 'x', 101);
	too_long[101] = '\0';
	assert_null(name_clean(a, too_long, &error));
	assert_non_null(strstr(error, "101 characters"));
	/* 100 characters of 2 bytes each are 100 characters, not 200. */
	for (int i = 0; i < 100; i++)
		memcpy(accented + 2 * i, "é", 2);
	accented[200] = '\0';
	assert_non_null(name_clean(a, accented, &error));
	/* Script is kept as text (the templates escape it). */
	assert_string_equal(name_clean(a, "<script>", &error), "<script>");
}

static void ua_describe_names_common_browsers_simply(void **state)
{
	static const struct { const char *ua, *want; } cases[] = {
		{ "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		  "Firefox 128 on Linux" },
		{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
		  "Chrome/126.0.0.0 Safari/537.36", "Chrome 126 on Windows" },
		{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
		  "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87", "Edge 126 on Windows" },
		{ "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
		  "Gecko) Version/17.5 Safari/605.1.15", "Safari 17 on macOS" },
		{ "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
		  "like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 on iPhone" },
		{ "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
		  "Chrome/126.0.6478.71 Mobile Safari/537.36", "Chrome 126 on Android" },
		{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
		  "Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera 111 on Windows" },
		{ "w3m/0.5.3+git20230121", "w3m 0" },
		{ "Lynx/2.9.0dev.12 libwww-FM/2.14 SSL-MM/1.4.1 GNUTLS/3.7.9", "Lynx 2" },
		{ "curl/7.88.1", "curl 7" },
		{ "", "Unknown browser" },
		{ NULL, "Unknown browser" },
		{ "something else entirely", "Unknown browser" },
		{ "Mozilla/5.0 (X11; Linux x86_64)", "A browser on Linux" },
		/* A hostile header is only ever a short plain description (and escaped on output). */
		{ "<script>alert(1)</script> Firefox/99999999999", "Firefox 999999" },
	};
	char out[96];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		ua_describe(cases[i].ua, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, cases[i].want);
	}
	/* A small buffer is never overrun. */
	ua_describe(cases[0].ua, out, 8);
	assert_int_equal(strlen(out), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_chars_counts_code_points_not_bytes),
		cmocka_unit_test(password_check_follows_the_table),
		cmocka_unit_test_setup_teardown(password_message_explains_the_limit_in_characters,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(name_clean_trims_bounds_and_refuses_controls,
		                                arena_setup, arena_teardown),
		cmocka_unit_test(ua_describe_names_common_browsers_simply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
