/* test_wscache.c: unit tests for wscache.c: what a worker keeps for a workspace, and when it lets go */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "wscache.h"

static struct workspace ws;
static struct ctx c;

/* A request whose session check returned this workspace at this version. */
static struct ctx *request(const char *slug, const char *id, const char *version)
{
	memset(&ws, 0, sizeof(ws));
	memset(&c, 0, sizeof(c));
	ws.slug = slug;
	ws.id = id;
	ws.version = version;
	c.ws = &ws;
	return &c;
}

static PGresult *result(void)
{
	return PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
}

static int setup(void **state)
{
	(void)state;
	app_config.ws_cache = 1;
	wscache_reset();
	return 0;
}

static void kept_at_the_same_version_only(void **state)
{
	PGresult *r = result();
	const struct wscache_entry *e;

	(void)state;
	assert_false(wscache_known(WSC_TEAM, "acme"));
	e = wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "7"), WSC_TEAM, &r, 1, 100);
	assert_non_null(e);
	assert_true(wscache_known(WSC_TEAM, "acme"));
	assert_false(wscache_known(WSC_BILLING, "acme"));   /* each page its own */
	assert_false(wscache_known(WSC_TEAM, "globex"));
	e = wscache_get(request("acme", "00000000-0000-0000-0000-000000000001", "7"), WSC_TEAM);
	assert_non_null(e);
	assert_ptr_equal(e->res[0], r);
	/* The version moved: not served, and let go. */
	assert_null(wscache_get(request("acme", "00000000-0000-0000-0000-000000000001", "8"), WSC_TEAM));
	assert_false(wscache_known(WSC_TEAM, "acme"));
}

static void another_workspace_under_the_same_slug_is_not_served(void **state)
{
	PGresult *r = result();

	(void)state;
	assert_non_null(wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "7"),
	                            WSC_TEAM, &r, 1, 100));
	/* The slug now names another workspace (deleted and made again). */
	assert_null(wscache_get(request("acme", "00000000-0000-0000-0000-000000000009", "7"), WSC_TEAM));
	assert_false(wscache_known(WSC_TEAM, "acme"));
}

static void no_version_nothing_kept(void **state)
{
	PGresult *r = result();

	(void)state;
	assert_null(wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", NULL), WSC_TEAM, &r, 1, 1));
	assert_null(wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "x1"), WSC_TEAM, &r, 1, 1));
	assert_null(wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "0"), WSC_TEAM, &r, 1, 1));
	assert_false(wscache_known(WSC_TEAM, "acme"));
	PQclear(r);              /* still the caller's */
}

static void off_keeps_nothing(void **state)
{
	PGresult *r = result();

	(void)state;
	app_config.ws_cache = 0;
	assert_null(wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "3"), WSC_TEAM, &r, 1, 1));
	assert_false(wscache_known(WSC_TEAM, "acme"));
	PQclear(r);
}

static void the_least_recently_used_goes_first(void **state)
{
	char slug[16];

	(void)state;
	for (int i = 0; i < 8; i++) {
		PGresult *r = result();

		snprintf(slug, sizeof(slug), "ws%d", i);
		assert_non_null(wscache_put(request(slug, "00000000-0000-0000-0000-000000000001", "5"),
		                            WSC_BILLING, &r, 1, 1));
	}
	/* ws0 used again: ws1 is now the oldest, and a ninth workspace takes its place. */
	assert_non_null(wscache_get(request("ws0", "00000000-0000-0000-0000-000000000001", "5"), WSC_BILLING));
	{
		PGresult *r = result();

		assert_non_null(wscache_put(request("ws8", "00000000-0000-0000-0000-000000000001", "5"),
		                            WSC_BILLING, &r, 1, 1));
	}
	assert_true(wscache_known(WSC_BILLING, "ws0"));
	assert_false(wscache_known(WSC_BILLING, "ws1"));
	assert_true(wscache_known(WSC_BILLING, "ws8"));
	wscache_reset();
	assert_false(wscache_known(WSC_BILLING, "ws0"));
}

static void several_results_and_age(void **state)
{
	PGresult *r[3] = { result(), result(), result() };
	const struct wscache_entry *e;

	(void)state;
	e = wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "9"), WSC_INTEGRATIONS, r, 3,
	                time(NULL) - 90);
	assert_non_null(e);
	assert_int_equal(e->n, 3);
	assert_true(wscache_age(e) >= 90 && wscache_age(e) < 100);
	assert_int_equal(wscache_age(NULL), 0);
	/* Putting again for the same workspace replaces the entry (the old results are cleared). */
	{
		PGresult *again = result();

		e = wscache_put(request("acme", "00000000-0000-0000-0000-000000000001", "10"), WSC_INTEGRATIONS,
		                &again, 1, time(NULL));
		assert_int_equal(e->n, 1);
		assert_ptr_equal(e->res[0], again);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(kept_at_the_same_version_only, setup),
		cmocka_unit_test_setup(another_workspace_under_the_same_slug_is_not_served, setup),
		cmocka_unit_test_setup(no_version_nothing_kept, setup),
		cmocka_unit_test_setup(off_keeps_nothing, setup),
		cmocka_unit_test_setup(the_least_recently_used_goes_first, setup),
		cmocka_unit_test_setup(several_results_and_age, setup),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	wscache_reset();
	return failed;
}
