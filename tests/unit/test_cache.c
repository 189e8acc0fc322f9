/* test_cache.c: unit tests for cache.c (identity, validity, eviction, limits) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static int empty(void **state)
{
	(void)state;
	cache_clear();
	return 0;
}

static void an_entry_comes_back_only_under_its_validity(void **state)
{
	size_t len = 0;
	const char *d;

	(void)state;
	assert_null(cache_get("s1 /w/acme/settings/team?", "v1", &len));
	cache_put("s1 /w/acme/settings/team?", "v1", "page one", 8);
	assert_string_equal(cache_valid_of("s1 /w/acme/settings/team?"), "v1");
	assert_null(cache_valid_of("s2 /w/acme/settings/team?"));
	d = cache_get("s1 /w/acme/settings/team?", "v1", &len);
	assert_non_null(d);
	assert_int_equal(len, 8);
	assert_memory_equal(d, "page one", 8);
	/* Another session, another address: nothing. */
	assert_null(cache_get("s2 /w/acme/settings/team?", "v1", &len));
	assert_null(cache_get("s1 /w/acme/settings/team?page=2", "v1", &len));
	/* A newer version: a miss, and the stale entry is gone. */
	assert_null(cache_get("s1 /w/acme/settings/team?", "v2", &len));
	assert_int_equal(cache_count(), 0);
	assert_null(cache_get("s1 /w/acme/settings/team?", "v1", &len));
}

static void a_put_replaces_what_the_identity_had(void **state)
{
	size_t len = 0;
	const char *d;

	(void)state;
	cache_put("a", "v1", "old", 3);
	cache_put("a", "v2", "newer", 5);
	assert_int_equal(cache_count(), 1);
	assert_int_equal(cache_bytes(), 5);
	d = cache_get("a", "v2", &len);
	assert_non_null(d);
	assert_memory_equal(d, "newer", 5);
	assert_null(cache_get("a", "v1", &len));
}

static void the_least_recently_used_entry_goes_first(void **state)
{
	char ident[32];
	size_t len;

	(void)state;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		snprintf(ident, sizeof(ident), "id%d", i);
		cache_put(ident, "v", "x", 1);
	}
	assert_int_equal(cache_count(), CACHE_SLOTS);
	/* Use id0 so that id1 is now the oldest. */
	assert_non_null(cache_get("id0", "v", &len));
	cache_put("new", "v", "y", 1);
	assert_int_equal(cache_count(), CACHE_SLOTS);
	assert_non_null(cache_get("id0", "v", &len));
	assert_null(cache_get("id1", "v", &len));
	assert_non_null(cache_get("new", "v", &len));
}

static void sizes_stay_within_the_limits(void **state)
{
	size_t big = CACHE_MAX_BYTES / 4, len;
	char *data = calloc(1, CACHE_MAX_ENTRY + 1);
	char ident[32];

	(void)state;
	assert_non_null(data);
	/* Too big for one entry: not kept. */
	cache_put("huge", "v", data, CACHE_MAX_ENTRY + 1);
	assert_null(cache_get("huge", "v", &len));
	assert_int_equal(cache_bytes(), 0);
	/* Entries up to the limit fit; the next one evicts the oldest. */
	big = CACHE_MAX_ENTRY;
	for (size_t i = 0; i < CACHE_MAX_BYTES / big; i++) {
		snprintf(ident, sizeof(ident), "big%zu", i);
		cache_put(ident, "v", data, big);
	}
	assert_int_equal(cache_bytes(), CACHE_MAX_BYTES);
	cache_put("one more", "v", data, big);
	assert_true(cache_bytes() <= CACHE_MAX_BYTES);
	assert_null(cache_get("big0", "v", &len));
	assert_non_null(cache_get("one more", "v", &len));
	/* An empty answer is still an answer. */
	cache_put("empty", "v", "", 0);
	assert_non_null(cache_get("empty", "v", &len));
	assert_int_equal(len, 0);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(an_entry_comes_back_only_under_its_validity, empty),
		cmocka_unit_test_setup(a_put_replaces_what_the_identity_had, empty),
		cmocka_unit_test_setup(the_least_recently_used_entry_goes_first, empty),
		cmocka_unit_test_setup(sizes_stay_within_the_limits, empty),
	};

	return cmocka_run_group_tests(tests, NULL, empty);
}
