/* test_util.c: unit tests for util.c (escaping, UTF-8, integers, JSON, the arena) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Tests that need an arena get a fresh one in *state; teardown frees it even on failure. */
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

struct scase {
	const char *in;
	const char *want;
};

static void buf_html_escapes_the_five_significant_characters(void **state)
{
	static const struct scase cases[] = {
		{ "", "" },
		{ "plain text", "plain text" },
		{ "<", "&lt;" },
		{ ">", "&gt;" },
		{ "&", "&amp;" },
		{ "\"", "&quot;" },
		{ "'", "&#39;" },
		{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
		{ "a=\"b\" & c='d'", "a=&quot;b&quot; &amp; c=&#39;d&#39;" },
		{ "&amp;", "&amp;amp;" },
		{ "x<y>z", "x&lt;y&gt;z" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct buf b;

		buf_init(&b);
		buf_html(&b, cases[i].in);
		assert_non_null(b.data);
		assert_string_equal(b.data, cases[i].want);
		assert_int_equal(b.len, strlen(cases[i].want));
		buf_free(&b);
	}
}

static void buf_html_leaves_utf8_untouched(void **state)
{
	static const char *const cases[] = {
		"caf\xc3\xa9",                          /* café */
		"\xe2\x82\xac 10",                      /* € 10 */
		"\xf0\x9f\x98\x80",                     /* emoji */
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* 日本語 */
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct buf b;

		buf_init(&b);
		buf_html(&b, cases[i]);
		assert_string_equal(b.data, cases[i]);
		buf_free(&b);
	}
}

static void buf_html_appends_after_existing_content_and_ignores_null(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "<b>");
	buf_html(&b, NULL);
	buf_html(&b, "<i>");
	assert_string_equal(b.data, "<b>&lt;i&gt;");
	buf_free(&b);
}

static void buf_url_encodes_all_but_unreserved_characters(void **state)
{
	static const struct scase cases[] = {
		{ "", "" },
		{ "AZaz09-._~", "AZaz09-._~" },
		{ "a b", "a%20b" },
		{ "a+b", "a%2Bb" },
		{ "a/b?c=d&e#f", "a%2Fb%3Fc%3Dd%26e%23f" },
		{ "100%", "100%25" },
		{ "<\"'>", "%3C%22%27%3E" },
		{ "caf\xc3\xa9", "caf%C3%A9" },
		{ "\x01\x7f", "%01%7F" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct buf b;

		buf_init(&b);
		buf_puts(&b, "");
		buf_url(&b, cases[i].in);
		assert_string_equal(b.data, cases[i].want);
		buf_free(&b);
	}
}

/* The escaping rules, one byte at a time: what the writers must equal. */
static void ref_html(struct buf *b, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_append(b, &s[i], 1); break;
		}
	}
}

static void ref_url(struct buf *b, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_append(b, &c, 1);
		} else {
			char e[4];

			snprintf(e, sizeof(e), "%%%02X", c);
			buf_puts(b, e);
		}
	}
}

/* s (n bytes, no NUL) through writer after prefix bytes of existing content, against ref. */
static void check_writer(void (*writer)(struct buf *, const char *),
                         void (*ref)(struct buf *, const unsigned char *, size_t),
                         const unsigned char *s, size_t n, size_t prefix)
{
	struct buf got, want;
	char *copy = malloc(n + 1);

	assert_non_null(copy);
	memcpy(copy, s, n);
	copy[n] = '\0';
	buf_init(&got);
	buf_init(&want);
	for (size_t i = 0; i < prefix; i++) {
		buf_putc(&got, 'p');
		buf_putc(&want, 'p');
	}
	writer(&got, copy);
	ref(&want, s, n);
	assert_non_null(got.data);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	assert_int_equal(got.data[got.len], '\0');
	assert_true(got.len < got.cap);
	buf_free(&got);
	buf_free(&want);
	free(copy);
}

static void escaping_writers_handle_every_byte_alone_and_in_text(void **state)
{
	(void)state;
	for (int c = 1; c < 256; c++) {
		unsigned char one[1] = { (unsigned char)c };
		unsigned char mid[5] = { 'a', (unsigned char)c, 'b', (unsigned char)c, 'c' };

		check_writer(buf_html, ref_html, one, 1, 0);
		check_writer(buf_url, ref_url, one, 1, 0);
		check_writer(buf_html, ref_html, mid, 5, 3);
		check_writer(buf_url, ref_url, mid, 5, 3);
	}
}

static void escaping_writers_pass_invalid_utf8_bytes_and_still_escape_what_follows(void **state)
{
	static const char *const cases[] = {
		"\xc0<", "\xc3", "\xe2\x82<b>", "\xe2\x82", "\x80&\x80", "\xff\"\xfe'",
		"\xf0\x9f\x98<", "\xed\xa0\x80<", "\xc0\xaf../<x>", "caf\xc3\xa9 & \xc3",
	};
	struct buf b;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		check_writer(buf_html, ref_html, (const unsigned char *)cases[i], strlen(cases[i]), 0);
		check_writer(buf_url, ref_url, (const unsigned char *)cases[i], strlen(cases[i]), 1);
	}
	/* a lead byte never swallows the special character after it */
	buf_init(&b);
	buf_html(&b, "\xc0<\xe2\x82\"\xf0'");
	assert_string_equal(b.data, "\xc0&lt;\xe2\x82&quot;\xf0&#39;");
	buf_reset(&b);
	buf_url(&b, "\xc0<");
	assert_string_equal(b.data, "%C0%3C");
	buf_free(&b);
}

/* Strings of every length up to 700, from specials, plain bytes and high bytes, over
 * buffers of every fill around the growth points: the writers equal the reference. */
static void escaping_writers_match_the_reference_across_buffer_growth(void **state)
{
	static const unsigned char alphabet[] = "<>&\"'ab %/?=+~._-\x80\xc3\xa9\xff\x01\x7f";
	unsigned char s[700];
	unsigned seed = 12345;

	(void)state;
	for (size_t n = 0; n < sizeof(s); n += (n < 40 ? 1 : 37)) {
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (size_t prefix = 0; prefix < 600; prefix += 61) {
			check_writer(buf_html, ref_html, s, n, prefix);
			check_writer(buf_url, ref_url, s, n, prefix);
		}
	}
}

static void fmt_ll_and_buf_put_ll_write_decimals_without_printf(void **state)
{
	static const long long cases[] = {
		0, 1, -1, 9, 10, -10, 99, 100, 12345, -67890, 1000000007LL,
		LLONG_MAX, LLONG_MIN, LLONG_MIN + 1, INT_MAX, INT_MIN,
	};
	char got[24], want[32];
	struct buf b;

	(void)state;
	buf_init(&b);
	for (size_t i = 0; i < N(cases); i++) {
		snprintf(want, sizeof(want), "%lld", cases[i]);
		assert_int_equal(fmt_ll(got, cases[i]), strlen(want));
		assert_string_equal(got, want);
		buf_reset(&b);
		buf_puts(&b, "n=");
		buf_put_ll(&b, cases[i]);
		assert_string_equal(b.data + 2, want);
		assert_int_equal(b.len, 2 + strlen(want));
	}
	buf_free(&b);
}

static void buf_printf_and_append_grow_and_stay_terminated(void **state)
{
	struct buf b;
	char big[1000];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b);
	buf_printf(&b, "%d-%s", 42, "a");
	assert_string_equal(b.data, "42-a");
	buf_append(&b, big, sizeof(big));
	assert_int_equal(b.len, 4 + sizeof(big));
	assert_int_equal(b.data[b.len], '\0');
	buf_putc(&b, '!');
	assert_int_equal(b.data[b.len - 1], '!');
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_free(&b);
	assert_null(b.data);
}

struct ucase {
	const char *s;
	size_t len;
	int want;
};

#define U(lit, want) { lit, sizeof(lit) - 1, want }

static void utf8_valid_accepts_well_formed_and_rejects_malformed(void **state)
{
	static const struct ucase cases[] = {
		U("", 1),
		U("plain ASCII ~\x7f", 1),
		U("\xc2\x80", 1),                 /* U+0080, smallest 2-byte */
		U("\xc3\xa9", 1),                 /* é */
		U("\xdf\xbf", 1),                 /* U+07FF, largest 2-byte */
		U("\xe0\xa0\x80", 1),             /* U+0800, smallest 3-byte */
		U("\xe2\x82\xac", 1),             /* € */
		U("\xed\x9f\xbf", 1),             /* U+D7FF, just below surrogates */
		U("\xee\x80\x80", 1),             /* U+E000, just above surrogates */
		U("\xef\xbf\xbf", 1),             /* U+FFFF */
		U("\xf0\x90\x80\x80", 1),         /* U+10000, smallest 4-byte */
		U("\xf0\x9f\x98\x80", 1),         /* emoji */
		U("\xf4\x8f\xbf\xbf", 1),         /* U+10FFFF, the last code point */
		U("a\xc3\xa9z\xe2\x82\xac", 1),   /* mixed */
		/* overlong forms */
		U("\xc0\xaf", 0),                 /* '/' in 2 bytes */
		U("\xc1\xbf", 0),
		U("\xc0\x80", 0),                 /* NUL in 2 bytes */
		U("\xe0\x80\xaf", 0),             /* '/' in 3 bytes */
		U("\xe0\x9f\xbf", 0),             /* U+07FF in 3 bytes */
		U("\xf0\x80\x80\xaf", 0),         /* '/' in 4 bytes */
		U("\xf0\x8f\xbf\xbf", 0),         /* U+FFFF in 4 bytes */
		/* surrogates */
		U("\xed\xa0\x80", 0),             /* U+D800 */
		U("\xed\xbf\xbf", 0),             /* U+DFFF */
		U("\xed\xa0\xbd\xed\xb8\x80", 0), /* CESU-8 pair */
		/* beyond U+10FFFF and impossible bytes */
		U("\xf4\x90\x80\x80", 0),         /* U+110000 */
		U("\xf5\x80\x80\x80", 0),
		U("\xf8\x88\x80\x80\x80", 0),     /* old 5-byte form */
		U("\xfe", 0),
		U("\xff", 0),
		/* lone and misplaced continuation bytes */
		U("\x80", 0),
		U("a\xbfz", 0),
		U("\xc3\xa9\xa9", 0),
		/* truncated sequences */
		U("\xc3", 0),
		U("\xe2\x82", 0),
		U("\xf0\x9f\x98", 0),
		U("\xe2\x82z", 0),                /* bad continuation */
		U("\xf0\x9f\x98z", 0),
		/* NUL is never valid input */
		U("\0", 0),
		U("a\0b", 0),
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		if (utf8_valid(cases[i].s, cases[i].len) != cases[i].want)
			fail_msg("case %zu: utf8_valid gave %d, want %d", i,
			         !cases[i].want, cases[i].want);
	}
}

static void utf8_valid_checks_exactly_len_bytes(void **state)
{
	(void)state;
	/* A sequence cut by len is truncated even if the next byte completes it. */
	assert_false(utf8_valid("\xc3\xa9", 1));
	assert_true(utf8_valid("ab\xff", 2));
	assert_true(utf8_valid("x", 0));
}

struct lcase {
	const char *s;
	long min, max;
	int rc;
	long want;
};

static void parse_long_accepts_only_plain_decimals_in_range(void **state)
{
	static const struct lcase cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "7", 0, 10, 0, 7 },
		{ "10", 0, 10, 0, 10 },
		{ "-5", -10, 10, 0, -5 },
		{ "-0", -1, 1, 0, 0 },
		{ "007", 0, 10, 0, 7 },
		{ "9223372036854775807", 0, LONG_MAX, 0, LONG_MAX },
		{ "-9223372036854775808", LONG_MIN, 0, 0, LONG_MIN },
		/* out of range */
		{ "11", 0, 10, -1, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "-11", -10, 10, -1, 0 },
		/* overflow */
		{ "9223372036854775808", 0, LONG_MAX, -1, 0 },
		{ "-9223372036854775809", LONG_MIN, 0, -1, 0 },
		{ "99999999999999999999999", 0, LONG_MAX, -1, 0 },
		/* junk */
		{ "", 0, 10, -1, 0 },
		{ "-", -10, 10, -1, 0 },
		{ "+5", 0, 10, -1, 0 },
		{ " 5", 0, 10, -1, 0 },
		{ "5 ", 0, 10, -1, 0 },
		{ "\t5", 0, 10, -1, 0 },
		{ "5x", 0, 10, -1, 0 },
		{ "x5", 0, 10, -1, 0 },
		{ "0x5", 0, 10, -1, 0 },
		{ "1e3", 0, 10000, -1, 0 },
		{ "1.5", 0, 10, -1, 0 },
		{ "--5", -10, 10, -1, 0 },
		{ "-+5", -10, 10, -1, 0 },
		{ "- 5", -10, 10, -1, 0 },
		{ "5\n", 0, 10, -1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		long out = 12345;
		int rc = parse_long(cases[i].s, cases[i].min, cases[i].max, &out);

		if (rc != cases[i].rc)
			fail_msg("case %zu \"%s\": rc %d, want %d", i, cases[i].s, rc, cases[i].rc);
		if (rc == 0 && out != cases[i].want)
			fail_msg("case %zu \"%s\": got %ld, want %ld", i, cases[i].s, out, cases[i].want);
		if (rc != 0 && out != 12345)
			fail_msg("case %zu \"%s\": output written on failure", i, cases[i].s);
	}
}

static void parse_long_rejects_null(void **state)
{
	long out = 3;

	(void)state;
	assert_int_equal(parse_long(NULL, 0, 10, &out), -1);
	assert_int_equal(out, 3);
}

static void json_object_escapes_strings_and_writes_null(void **state)
{
	struct arena *a = *state;

	assert_string_equal(json_object(a, NULL), "{}");
	assert_string_equal(json_object(a, "old_role", "member", "new_role", "admin", NULL),
	                    "{\"old_role\":\"member\",\"new_role\":\"admin\"}");
	assert_string_equal(json_object(a, "k", NULL, NULL), "{\"k\":null}");
	assert_string_equal(json_object(a, "q", "say \"hi\"", NULL), "{\"q\":\"say \\\"hi\\\"\"}");
	assert_string_equal(json_object(a, "p", "C:\\dir", NULL), "{\"p\":\"C:\\\\dir\"}");
	assert_string_equal(json_object(a, "c", "a\nb\tc\rd\x01\x1f", NULL),
	                    "{\"c\":\"a\\u000ab\\u0009c\\u000dd\\u0001\\u001f\"}");
	assert_string_equal(json_object(a, "k\"", "v", NULL), "{\"k\\\"\":\"v\"}");
	assert_string_equal(json_object(a, "u", "caf\xc3\xa9 </script>", NULL),
	                    "{\"u\":\"caf\xc3\xa9 </script>\"}");
	assert_string_equal(json_object(a, "a", "", "b", NULL, "c", "3", NULL),
	                    "{\"a\":\"\",\"b\":null,\"c\":\"3\"}");
}

static void buf_json_quotes_and_escapes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_json(&b, "");
	buf_json(&b, "\"\\\b");
	assert_string_equal(b.data, "\"\"\"\\\"\\\\\\u0008\"");
	buf_free(&b);
}

static int aligned(const void *p)
{
	return (uintptr_t)p % _Alignof(max_align_t) == 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void arena_alloc_returns_aligned_pointers_for_every_size(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 100,
	                               1000, 8191, 8192, 8193, 16383, 16384, 16385, 100000};
	struct arena *a = *state;

	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < N(sizes); i++) {
			void *p = arena_alloc(a, sizes[i]);
			void *q = arena_alloc(a, 1);

			assert_non_null(p);
			if (!aligned(p) || !aligned(q))
				fail_msg("round %d size %zu: %p / %p not aligned to %zu", round,
				         sizes[i], p, q, (size_t)_Alignof(max_align_t));
		}
		arena_reset(a);
	}
}

static void arena_alloc_many_small_blocks_are_zeroed_and_distinct(void **state)
{
	enum { COUNT = 5000 };
	static unsigned char *p[COUNT];
	struct arena *a = *state;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < COUNT; i++) {
			size_t n = 1 + i % 97;

			p[i] = arena_alloc(a, n);
			assert_true(all_zero(p[i], n));
			memset(p[i], (int)(i % 251) + 1, n);
		}
		/* Nothing overlapped: every allocation still holds its own pattern. */
		for (size_t i = 0; i < COUNT; i++) {
			size_t n = 1 + i % 97;

			for (size_t k = 0; k < n; k++)
				if (p[i][k] != (unsigned char)(i % 251 + 1))
					fail_msg("round %d: allocation %zu byte %zu overwritten", round, i, k);
		}
		arena_reset(a);
	}
}

static void arena_large_allocations_coexist_with_small_ones(void **state)
{
	static const size_t sizes[] = {9000, 16384, 20000, 65537, 300000};
	struct arena *a = *state;
	char *small1, *small2, *big[N(sizes)];

	small1 = arena_strdup(a, "before");
	for (size_t i = 0; i < N(sizes); i++) {
		big[i] = arena_alloc(a, sizes[i]);
		assert_true(all_zero((unsigned char *)big[i], sizes[i]));
		memset(big[i], 'A' + (int)i, sizes[i]);
	}
	small2 = arena_strdup(a, "after");
	for (size_t i = 0; i < N(sizes); i++) {
		assert_int_equal(big[i][0], 'A' + (int)i);
		assert_int_equal(big[i][sizes[i] - 1], 'A' + (int)i);
	}
	assert_string_equal(small1, "before");
	assert_string_equal(small2, "after");
}

static void arena_reset_hands_out_zeroed_memory_again(void **state)
{
	struct arena *a = *state;

	for (int round = 0; round < 20; round++) {
		unsigned char *p = arena_alloc(a, 4000);
		unsigned char *big = arena_alloc(a, 50000);

		assert_true(all_zero(p, 4000));
		assert_true(all_zero(big, 50000));
		memset(p, 0xAB, 4000);
		memset(big, 0xCD, 50000);
		for (int k = 0; k < 10; k++)
			memset(arena_alloc(a, 3000), 0xEF, 3000);
		arena_reset(a);
	}
}

static void arena_reset_after_only_a_large_allocation_still_works(void **state)
{
	struct arena *a = *state;

	/* Fill the first block so the next small allocation opens a new head. */
	arena_alloc(a, 8000);
	arena_alloc(a, 8000);
	arena_alloc(a, 8000);
	arena_alloc(a, 40000);
	arena_reset(a);
	assert_string_equal(arena_strdup(a, "ok"), "ok");
	arena_reset(a);
	arena_reset(a);
	assert_true(all_zero(arena_alloc(a, 16000), 16000));
	arena_free(NULL);      /* harmless */
}

static void arena_string_helpers_copy_and_terminate(void **state)
{
	struct arena *a = *state;
	char *s;

	assert_null(arena_strdup(a, NULL));
	assert_string_equal(arena_strdup(a, ""), "");
	assert_string_equal(arena_strdup(a, "hello"), "hello");
	s = arena_strndup(a, "hello world", 5);
	assert_string_equal(s, "hello");
	assert_string_equal(arena_printf(a, "%s=%d", "n", -7), "n=-7");
	s = arena_printf(a, "%0*d", 20000, 1);
	assert_int_equal(strlen(s), 20000);
	assert_int_equal(s[19999], '1');
}

static void record_split_reads_plain_values_and_nulls(void **state)
{
	char ok[] = "(4c45,00000001,0,,7,t)", nulls[] = "(,,,)", one[] = "(x)";
	char *f[6];

	(void)state;
	assert_int_equal(record_split(ok, f, 6), 0);
	assert_string_equal(f[0], "4c45");
	assert_string_equal(f[1], "00000001");
	assert_string_equal(f[2], "0");
	assert_null(f[3]);
	assert_string_equal(f[4], "7");
	assert_string_equal(f[5], "t");
	assert_int_equal(record_split(nulls, f, 4), 0);
	for (int i = 0; i < 4; i++)
		assert_null(f[i]);
	assert_int_equal(record_split(one, f, 1), 0);
	assert_string_equal(f[0], "x");
}

static void record_split_refuses_other_shapes(void **state)
{
	static const char *const bad[] = {
		"", "(", ")", "()x", "a,b", "(a,b", "a,b)",
		"(a,b,c)",              /* one field too many for n = 2 */
		"(a)",                  /* one too few */
		"(\"a,b\",c)",        /* quoted: not for these callers */
	};
	char buf[32], *f[2];

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		assert_int_equal(record_split(buf, f, 2), -1);
	}
	snprintf(buf, sizeof(buf), "(a)");
	assert_int_equal(record_split(buf, f, 0), -1);
}

static void arena_concat_joins_strings_up_to_null(void **state)
{
	struct arena *a = *state;

	assert_string_equal(arena_concat(a, "", NULL), "");
	assert_string_equal(arena_concat(a, "a", NULL), "a");
	assert_string_equal(arena_concat(a, "This needs the ", "owner", " role; you are ",
	                                 "a viewer", ".", NULL),
	                    "This needs the owner role; you are a viewer.");
	assert_string_equal(arena_concat(a, "x", "", "y", "", NULL), "xy");
}

/* The reader equals the rule it replaced (strtol over at most 19 digits, a
 * leading '-' allowed, nothing else) on every string of a large set. */
static int ref_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return -1;
	if (strlen(s) > (*s == '-' ? 20u : 19u))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void parse_long_equals_its_strtol_rule(void **state)
{
	static const char *const fixed[] = {
		"", "-", "--1", "+1", " 1", "1 ", "0", "-0", "00", "007", "1e3", "0x10", "12a",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "0000000000000000001", "00000000000000000001",
		"-0000000000000000001", "-00000000000000000001", "99999999999999999999",
		"18446744073709551616", "-1-", "1\xc3\xa9", "\xe2\x82\xac",
	};
	static const long bounds[][2] = {
		{ LONG_MIN, LONG_MAX }, { 0, 100 }, { -5, 5 }, { 1, 1 }, { 0, 0 },
	};
	char s[32];
	unsigned seed = 7;

	(void)state;
	for (size_t b = 0; b < N(bounds); b++) {
		for (size_t i = 0; i < N(fixed) + 3000; i++) {
			long got = 12345, want = 12345;
			int rg, rw;

			if (i < N(fixed)) {
				snprintf(s, sizeof(s), "%s", fixed[i]);
			} else {
				size_t n;

				seed = seed * 1103515245u + 12345u;
				n = (seed >> 16) % 22;
				for (size_t k = 0; k < n; k++) {
					seed = seed * 1103515245u + 12345u;
					s[k] = "0123456789-9x"[(seed >> 16) % 13];
				}
				s[n] = '\0';
			}
			rg = parse_long(s, bounds[b][0], bounds[b][1], &got);
			rw = ref_parse_long(s, bounds[b][0], bounds[b][1], &want);
			if (rg != rw || got != want)
				fail_msg("\"%s\" in [%ld, %ld]: got %d/%ld, want %d/%ld", s, bounds[b][0],
				         bounds[b][1], rg, got, rw, want);
		}
	}
}

/* arena_printf formats in place when the block has room and again when not:
 * the same text either way, across block ends and for texts over a block,
 * and no text overwrites another. */
static void arena_printf_in_place_and_past_the_block_end(void **state)
{
	struct arena *a = *state;
	static char big[40000];
	static const char *got[3000];
	char want[64];

	memset(big, 'b', sizeof(big) - 1);
	for (int i = 0; i < 3000; i++) {
		got[i] = arena_printf(a, "%d:%s:%05d", i, i % 7 ? "x" : "yy", i * 3);
		if (i % 500 == 0) {    /* texts larger than a block in between */
			const char *b = arena_printf(a, "<%.*s>", 20000 + i, big);

			assert_int_equal(strlen(b), 20002 + (size_t)i);
			assert_int_equal(b[20001 + i], '>');
		}
	}
	for (int i = 0; i < 3000; i++) {
		snprintf(want, sizeof(want), "%d:%s:%05d", i, i % 7 ? "x" : "yy", i * 3);
		assert_string_equal(got[i], want);
	}
}

/*
 * Formats of text, %s and plain integers are written without vsnprintf:
 * each must equal snprintf, through arena_printf and buf_printf, and so
 * must the formats that still go to vsnprintf (flags, widths, precision).
 */
#define SAME_AS_SNPRINTF(a, ...) do { \
		static char want_[40000]; \
		struct buf b_; \
		snprintf(want_, sizeof(want_), __VA_ARGS__); \
		assert_string_equal(arena_printf(a, __VA_ARGS__), want_); \
		buf_init(&b_); \
		buf_puts(&b_, "<"); \
		buf_printf(&b_, __VA_ARGS__); \
		assert_string_equal(b_.data + 1, want_); \
		assert_int_equal(b_.len, 1 + strlen(want_)); \
		buf_free(&b_); \
	} while (0)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-truncation"
static void printf_family_equals_snprintf_for_every_kind_of_format(void **state)
{
	struct arena *a = *state;
	const char *null = NULL;
	static const long long ll[] = { 0, 1, -1, 9, 10, -10, INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN };

	SAME_AS_SNPRINTF(a, "plain text");
	SAME_AS_SNPRINTF(a, "%s", "");
	SAME_AS_SNPRINTF(a, "%s", null);
	SAME_AS_SNPRINTF(a, "a%sb%sc", "<x>", "caf\xc3\xa9");
	SAME_AS_SNPRINTF(a, "100%% of %s%%", "it");
	SAME_AS_SNPRINTF(a, "%c%c", 'x', '%');
	SAME_AS_SNPRINTF(a, "%zu bytes, %zd", (size_t)-1, (ssize_t)-5);
	SAME_AS_SNPRINTF(a, "%u %lu %llu", 4294967295u, (unsigned long)-1, 18446744073709551615ULL);
	for (size_t i = 0; i < N(ll); i++) {
		SAME_AS_SNPRINTF(a, "%d|%ld|%lld", (int)ll[i], (long)ll[i], ll[i]);
		SAME_AS_SNPRINTF(a, "n_%s=%lldms", "x", ll[i]);
	}
	/* formats that are not simple: vsnprintf writes them */
	SAME_AS_SNPRINTF(a, "%02x%04x|%03ld|%.*s|%5d|%-3s|", 10, 255, 7L, 2, "abcdef", 42, "a");
	SAME_AS_SNPRINTF(a, "%lc|%hd|%x|", (wint_t)'w', (short)-3, 3u);
	SAME_AS_SNPRINTF(a, "%s and %5s", "simple", "then not");
	/* long results: past the arena block and the buffer's first size */
	{
		static char big[30000];

		memset(big, 'q', sizeof(big) - 1);
		SAME_AS_SNPRINTF(a, "[%s|%d]", big, 12);
		SAME_AS_SNPRINTF(a, "[%s|%5d]", big, 12);
	}
}
#pragma GCC diagnostic pop

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_html_escapes_the_five_significant_characters),
		cmocka_unit_test(buf_html_leaves_utf8_untouched),
		cmocka_unit_test(buf_html_appends_after_existing_content_and_ignores_null),
		cmocka_unit_test(buf_url_encodes_all_but_unreserved_characters),
		cmocka_unit_test(escaping_writers_handle_every_byte_alone_and_in_text),
		cmocka_unit_test(escaping_writers_pass_invalid_utf8_bytes_and_still_escape_what_follows),
		cmocka_unit_test(escaping_writers_match_the_reference_across_buffer_growth),
		cmocka_unit_test(fmt_ll_and_buf_put_ll_write_decimals_without_printf),
		cmocka_unit_test(buf_printf_and_append_grow_and_stay_terminated),
		cmocka_unit_test(utf8_valid_accepts_well_formed_and_rejects_malformed),
		cmocka_unit_test(utf8_valid_checks_exactly_len_bytes),
		cmocka_unit_test(parse_long_accepts_only_plain_decimals_in_range),
		cmocka_unit_test(parse_long_rejects_null),
		cmocka_unit_test(parse_long_equals_its_strtol_rule),
		cmocka_unit_test_setup_teardown(json_object_escapes_strings_and_writes_null,
		                                arena_setup, arena_teardown),
		cmocka_unit_test(buf_json_quotes_and_escapes),
		cmocka_unit_test(record_split_reads_plain_values_and_nulls),
		cmocka_unit_test(record_split_refuses_other_shapes),
		cmocka_unit_test_setup_teardown(arena_alloc_returns_aligned_pointers_for_every_size,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_alloc_many_small_blocks_are_zeroed_and_distinct,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_large_allocations_coexist_with_small_ones,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_reset_hands_out_zeroed_memory_again,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_reset_after_only_a_large_allocation_still_works,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_string_helpers_copy_and_terminate,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(printf_family_equals_snprintf_for_every_kind_of_format,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_printf_in_place_and_past_the_block_end,
		                                arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(arena_concat_joins_strings_up_to_null,
		                                arena_setup, arena_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
