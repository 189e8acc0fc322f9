/* integ_deliver.c: delivery rules without I/O: filters, retries and backoff, health */
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "integ_deliver.h"
#include "util.h"

int integ_severity_rank(const char *s)
{
	static const struct { const char *name; int rank; } ranks[] = {
		{ "info", 1 }, { "low", 1 }, { "warning", 2 }, { "medium", 2 },
		{ "error", 3 }, { "high", 3 }, { "critical", 4 },
	};

	for (size_t i = 0; s != NULL && i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (strcmp(ranks[i].name, s) == 0)
			return ranks[i].rank;
	return 0;
}

/* 1 when word is one of the lines of list. */
static int has_line(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l == wl && strncmp(p, word, wl) == 0)
			return 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

int integ_filter_match(const char *types, const char *severity_min, const char *agents,
                       const char *alert_type, const char *severity, const char *agent)
{
	if (types != NULL && *types != '\0' && !has_line(types, "all") &&
	    !has_line(types, alert_type) &&
	    !(strcmp(alert_type, "agent_down") == 0 && has_line(types, "system_down")))
		return 0;
	if (severity_min != NULL && *severity_min != '\0') {
		int min = integ_severity_rank(severity_min), got = integ_severity_rank(severity);

		/* An unknown threshold lets nothing through rather than everything. */
		if (min == 0 || got < min)
			return 0;
	}
	if (agents != NULL && *agents != '\0' && (agent == NULL || !has_line(agents, agent)))
		return 0;
	return 1;
}

int integ_retryable(long status, int refused)
{
	if (refused)
		return 0;
	if (status == 0 || status == 408 || status == 429 || status >= 500)
		return 1;
	return 0;
}

long integ_backoff_seconds(const char *backoff, int attempt, unsigned jitter, long retry_after)
{
	long base;

	if (attempt < 1)
		attempt = 1;
	if (backoff != NULL && strcmp(backoff, "none") == 0)
		base = 0;
	else if (backoff != NULL && strcmp(backoff, "linear") == 0)
		base = 5L * attempt;
	else
		base = attempt >= 12 ? 3600 : 1L << attempt;
	if (base > 3600)
		base = 3600;
	base += base * (long)(jitter % 1000) / 4000;
	if (retry_after > base)
		base = retry_after > 3600 ? 3600 : retry_after;
	return base;
}

long integ_retry_after(const char *v, long now)
{
	struct tm tm;
	long n;
	const char *end;

	if (v == NULL)
		return -1;
	while (*v == ' ')
		v++;
	if (parse_long(v, 0, 1L << 30, &n) == 0)
		return n;
	/* IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" (RFC 9110, 5.6.7). */
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return -1;
	n = (long)timegm(&tm) - now;
	return n < 0 ? 0 : n;
}

const char *integ_health_for(int failures)
{
	return failures <= 0 ? "healthy" : failures < 3 ? "degraded" : "unhealthy";
}

const char *integ_alert_label(const char *t)
{
	static const char *const labels[][2] = {
		{ "all", "All alert types" }, { "budget_exceeded", "Budget exceeded" },
		{ "error_spike", "Error spike" }, { "latency_high", "Latency high" },
		{ "agent_down", "Agent down" }, { "system_down", "System down" },
		{ "integration.test", "Test event" },
	};

	for (size_t i = 0; t != NULL && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i][0], t) == 0)
			return labels[i][1];
	return t;
}
