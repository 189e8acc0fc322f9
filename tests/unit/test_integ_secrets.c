/* test_integ_secrets.c: unit tests for integ_secrets.c (the secrets object, sealed per row) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "integ_secrets.h"

/* 32-byte keys: bytes 1..32 and 101..132. */
#define K1 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define K2 "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q="
#define WS "00000000-0000-0000-0000-000000000001"
#define ID "30000000-0000-0000-0000-000000000009"

static void json_round_trip_with_escapes(void **state)
{
	struct integ_secrets s = { 0 }, back;
	char *json;

	(void)state;
	assert_int_equal(integ_secrets_set(&s, "api_key", "a\"b\\c\nd/é"), 0);
	assert_int_equal(integ_secrets_set(&s, "app_key", "plain"), 0);
	assert_int_equal(integ_secrets_set(&s, "api_key", "replaced \"q\""), 0);
	json = integ_secrets_json(&s);
	assert_string_equal(json, "{\"api_key\":\"replaced \\\"q\\\"\",\"app_key\":\"plain\"}");
	assert_int_equal(integ_secrets_parse(json, &back), 0);
	assert_string_equal(integ_secrets_get(&back, "api_key"), "replaced \"q\"");
	assert_string_equal(integ_secrets_get(&back, "app_key"), "plain");
	assert_null(integ_secrets_get(&back, "dsn"));
	free(json);
	integ_secrets_wipe(&s);
	integ_secrets_wipe(&back);
	assert_int_equal(s.n, 0);
}

static void parse_reads_unicode_escapes(void **state)
{
	struct integ_secrets s;

	(void)state;
	assert_int_equal(integ_secrets_parse(" { \"secret\" : \"\\u00e9\\ud83d\\ude00\\t\" } ", &s), 0);
	assert_string_equal(integ_secrets_get(&s, "secret"), "\xc3\xa9\xf0\x9f\x98\x80\t");
	integ_secrets_wipe(&s);
	assert_int_equal(integ_secrets_parse("{}", &s), 0);
	assert_int_equal(s.n, 0);
}

static void parse_refuses_anything_else(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"secret\"}", "{\"secret\":1}", "{\"secret\":\"x\",}",
		"{\"secret\":\"x\"} trailing", "{\"unknown\":\"x\"}", "{\"secret\":\"x\",\"secret\":\"y\"}",
		"{\"secret\":\"\\ud800\"}", "{\"secret\":\"\\u0000\"}", "{\"secret\":\"\\x\"}",
		"{\"secret\":\"a\nb\"}", "{'secret':'x'}",
	};
	struct integ_secrets s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (integ_secrets_parse(bad[i], &s) != -1)
			fail_msg("should refuse: %s", bad[i]);
		assert_int_equal(s.n, 0);
	}
	assert_int_equal(integ_secrets_parse(NULL, &s), -1);
}

static void sealed_secrets_open_only_on_their_row(void **state)
{
	struct keyring *ring = keyring_parse("k1:" K1, NULL, 0);
	struct integ_secrets s = { 0 }, back;
	const char *kid = NULL;
	char *ct;

	(void)state;
	assert_non_null(ring);
	integ_secrets_set(&s, "bot_token", "xoxb-0000000000-secret");
	ct = integ_secrets_encrypt(ring, &s, WS, ID, &kid);
	assert_non_null(ct);
	assert_string_equal(kid, "k1");
	assert_null(strstr(ct, "xoxb"));
	assert_int_equal(integ_secrets_decrypt(ring, "k1", ct, WS, ID, &back), 0);
	assert_string_equal(integ_secrets_get(&back, "bot_token"), "xoxb-0000000000-secret");
	integ_secrets_wipe(&back);
	/* Another integration, another workspace, another key id: nothing opens. */
	assert_int_equal(integ_secrets_decrypt(ring, "k1", ct, WS, "30000000-0000-0000-0000-000000000008", &back), -1);
	assert_int_equal(integ_secrets_decrypt(ring, "k1", ct, "00000000-0000-0000-0000-000000000002", ID, &back), -1);
	assert_int_equal(integ_secrets_decrypt(ring, "k2", ct, WS, ID, &back), -1);
	assert_int_equal(integ_secrets_decrypt(ring, NULL, ct, WS, ID, &back), -1);
	free(ct);
	integ_secrets_wipe(&s);
	keyring_free(ring);
}

static void rotation_ring_decrypts_old_and_encrypts_new(void **state)
{
	struct keyring *old = keyring_parse("k1:" K1, NULL, 0);
	struct keyring *both = keyring_parse("k2:" K2 ",k1:" K1, NULL, 0);
	struct keyring *fresh = keyring_parse("k2:" K2, NULL, 0);
	struct integ_secrets s = { 0 }, back;
	const char *kid;
	char *ct, *ct2;

	(void)state;
	integ_secrets_set(&s, "secret", "0123456789abcdef");
	ct = integ_secrets_encrypt(old, &s, WS, ID, &kid);
	assert_string_equal(kid, "k1");
	assert_int_equal(integ_secrets_decrypt(both, "k1", ct, WS, ID, &back), 0);
	ct2 = integ_secrets_encrypt(both, &back, WS, ID, &kid);
	integ_secrets_wipe(&back);
	assert_string_equal(kid, "k2");
	assert_string_not_equal(ct, ct2);
	assert_int_equal(integ_secrets_decrypt(fresh, "k2", ct2, WS, ID, &back), 0);
	assert_string_equal(integ_secrets_get(&back, "secret"), "0123456789abcdef");
	integ_secrets_wipe(&back);
	assert_int_equal(integ_secrets_decrypt(fresh, "k1", ct, WS, ID, &back), -1);
	free(ct);
	free(ct2);
	integ_secrets_wipe(&s);
	keyring_free(old);
	keyring_free(both);
	keyring_free(fresh);
}

static void set_refuses_more_than_the_maximum(void **state)
{
	struct integ_secrets s = { 0 };

	(void)state;
	assert_int_equal(integ_secrets_set(&s, "bot_token", "1"), 0);
	assert_int_equal(integ_secrets_set(&s, "routing_key", "2"), 0);
	assert_int_equal(integ_secrets_set(&s, "secret", "3"), 0);
	assert_int_equal(integ_secrets_set(&s, "dsn", "4"), 0);
	assert_int_equal(integ_secrets_set(&s, "api_key", "5"), -1);
	assert_int_equal(integ_secrets_set(&s, "dsn", "4b"), 0);
	assert_string_equal(integ_secrets_get(&s, "dsn"), "4b");
	integ_secrets_wipe(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_round_trip_with_escapes),
		cmocka_unit_test(parse_reads_unicode_escapes),
		cmocka_unit_test(parse_refuses_anything_else),
		cmocka_unit_test(sealed_secrets_open_only_on_their_row),
		cmocka_unit_test(rotation_ring_decrypts_old_and_encrypts_new),
		cmocka_unit_test(set_refuses_more_than_the_maximum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
