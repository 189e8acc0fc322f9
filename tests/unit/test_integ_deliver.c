/* test_integ_deliver.c: unit tests for integ_deliver.c (filters, retries and backoff, health) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "integ_deliver.h"

static void filter_without_rules_passes_everything(void **state)
{
	(void)state;
	assert_true(integ_filter_match(NULL, NULL, NULL, "error_spike", "info", NULL));
	assert_true(integ_filter_match("", "", "", "agent_down", "critical", "a"));
	assert_true(integ_filter_match("all", NULL, NULL, "latency_high", "info", "x"));
}

static void filter_types(void **state)
{
	(void)state;
	assert_true(integ_filter_match("error_spike\nlatency_high", NULL, NULL, "latency_high", "info", NULL));
	assert_false(integ_filter_match("error_spike\nlatency_high", NULL, NULL, "budget_exceeded", "info", NULL));
	/* A prefix is not a match. */
	assert_false(integ_filter_match("error_spike_x", NULL, NULL, "error_spike", "info", NULL));
	/* The seed's system_down stands for agent_down. */
	assert_true(integ_filter_match("system_down", NULL, NULL, "agent_down", "info", NULL));
	assert_false(integ_filter_match("system_down", NULL, NULL, "error_spike", "info", NULL));
}

static void filter_minimum_severity(void **state)
{
	(void)state;
	assert_true(integ_filter_match(NULL, "warning", NULL, "error_spike", "warning", NULL));
	assert_true(integ_filter_match(NULL, "warning", NULL, "error_spike", "critical", NULL));
	assert_false(integ_filter_match(NULL, "warning", NULL, "error_spike", "info", NULL));
	/* The seed document's words: high = error, medium = warning, low = info. */
	assert_true(integ_filter_match(NULL, "high", NULL, "error_spike", "error", NULL));
	assert_false(integ_filter_match(NULL, "high", NULL, "error_spike", "warning", NULL));
	/* An unknown threshold lets nothing through. */
	assert_false(integ_filter_match(NULL, "extreme", NULL, "error_spike", "critical", NULL));
}

static void filter_agents(void **state)
{
	(void)state;
	assert_true(integ_filter_match(NULL, NULL, "a\nsales_agent", "error_spike", "info", "sales_agent"));
	assert_false(integ_filter_match(NULL, NULL, "a\nsales_agent", "error_spike", "info", "sales"));
	assert_false(integ_filter_match(NULL, NULL, "sales_agent", "error_spike", "info", NULL));
}

static void retryable_statuses(void **state)
{
	(void)state;
	assert_true(integ_retryable(0, 0));      /* no answer */
	assert_true(integ_retryable(408, 0));
	assert_true(integ_retryable(429, 0));
	assert_true(integ_retryable(500, 0));
	assert_true(integ_retryable(503, 0));
	assert_false(integ_retryable(400, 0));
	assert_false(integ_retryable(401, 0));
	assert_false(integ_retryable(404, 0));
	assert_false(integ_retryable(302, 0));
	assert_false(integ_retryable(0, 1));     /* refused by the SSRF guard */
}

static void backoff_shapes(void **state)
{
	(void)state;
	assert_int_equal(integ_backoff_seconds("exponential", 1, 0, -1), 2);
	assert_int_equal(integ_backoff_seconds("exponential", 2, 0, -1), 4);
	assert_int_equal(integ_backoff_seconds("exponential", 3, 0, -1), 8);
	assert_int_equal(integ_backoff_seconds("exponential", 40, 0, -1), 3600);
	assert_int_equal(integ_backoff_seconds("linear", 1, 0, -1), 5);
	assert_int_equal(integ_backoff_seconds("linear", 3, 0, -1), 15);
	assert_int_equal(integ_backoff_seconds("none", 3, 999, -1), 0);
	assert_int_equal(integ_backoff_seconds(NULL, 1, 0, -1), 2);
}

static void backoff_jitter_adds_up_to_a_quarter(void **state)
{
	(void)state;
	assert_int_equal(integ_backoff_seconds("exponential", 4, 0, -1), 16);
	assert_int_equal(integ_backoff_seconds("exponential", 4, 999, -1), 19);
	for (unsigned j = 0; j < 1000; j += 37) {
		long s = integ_backoff_seconds("linear", 4, j, -1);

		assert_true(s >= 20 && s <= 25);
	}
}

static void retry_after_wins_when_longer(void **state)
{
	(void)state;
	assert_int_equal(integ_backoff_seconds("exponential", 1, 0, 30), 30);
	assert_int_equal(integ_backoff_seconds("exponential", 5, 0, 1), 32);
	assert_int_equal(integ_backoff_seconds("none", 1, 0, 1), 1);
	assert_int_equal(integ_backoff_seconds("none", 1, 0, 99999), 3600);
}

static void retry_after_parsing(void **state)
{
	(void)state;
	assert_int_equal(integ_retry_after("120", 0), 120);
	assert_int_equal(integ_retry_after(" 5", 0), 5);
	assert_int_equal(integ_retry_after(NULL, 0), -1);
	assert_int_equal(integ_retry_after("soon", 0), -1);
	assert_int_equal(integ_retry_after("-3", 0), -1);
	/* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
	assert_int_equal(integ_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10);
	assert_int_equal(integ_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void health_by_consecutive_failures(void **state)
{
	(void)state;
	assert_string_equal(integ_health_for(0), "healthy");
	assert_string_equal(integ_health_for(1), "degraded");
	assert_string_equal(integ_health_for(2), "degraded");
	assert_string_equal(integ_health_for(3), "unhealthy");
	assert_string_equal(integ_health_for(25), "unhealthy");
}

static void labels_not_keys(void **state)
{
	(void)state;
	assert_string_equal(integ_alert_label("error_spike"), "Error spike");
	assert_string_equal(integ_alert_label("agent_down"), "Agent down");
	assert_string_equal(integ_alert_label("integration.test"), "Test event");
	assert_string_equal(integ_alert_label("other"), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filter_without_rules_passes_everything),
		cmocka_unit_test(filter_types),
		cmocka_unit_test(filter_minimum_severity),
		cmocka_unit_test(filter_agents),
		cmocka_unit_test(retryable_statuses),
		cmocka_unit_test(backoff_shapes),
		cmocka_unit_test(backoff_jitter_adds_up_to_a_quarter),
		cmocka_unit_test(retry_after_wins_when_longer),
		cmocka_unit_test(retry_after_parsing),
		cmocka_unit_test(health_by_consecutive_failures),
		cmocka_unit_test(labels_not_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
