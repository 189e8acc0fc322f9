/* integ_deliver.h: delivery rules without I/O: filters, retries and backoff, health */
#ifndef SETTINGS_INTEG_DELIVER_H
#define SETTINGS_INTEG_DELIVER_H

/*
 * Severity rank: info 1, warning 2, error 3, critical 4; the seed
 * document's PagerDuty words map onto them (low 1, medium 2, high 3).
 * 0 when unknown.
 */
int integ_severity_rank(const char *severity);

/*
 * 1 when an alert passes an integration's filters. types and agents are
 * the filter lists, one name a line (NULL or "" = no filter; "all" in
 * types = every type; the older name system_down stands for agent_down);
 * severity_min NULL = any severity. An alert without an agent passes an
 * agent filter only when there is none.
 */
int integ_filter_match(const char *types, const char *severity_min, const char *agents,
                       const char *alert_type, const char *severity, const char *agent);

/*
 * Whether an answer is worth another try: no answer at all (network
 * error, timeout), 408, 429 and 5xx are; other 4xx and refused addresses
 * are not. refused: the SSRF guard refused the target.
 */
int integ_retryable(long http_status, int refused);

/*
 * Seconds before retry number attempt (1 = the first retry) by backoff
 * "exponential" (2, 4, 8 ... seconds, at most 1 hour) or "linear" (5, 10,
 * 15 ...) or "none" (immediately, 0). jitter is 0..999 (per mille) and adds
 * up to a quarter on top, so workers that failed together do not retry
 * together. A Retry-After of retry_after seconds (> 0) wins when longer,
 * capped at 1 hour.
 */
long integ_backoff_seconds(const char *backoff, int attempt, unsigned jitter, long retry_after);

/* Parse a Retry-After value: delta-seconds, or an HTTP date relative to now. -1 when neither. */
long integ_retry_after(const char *value, long now);

/* Health after consecutive_failures: healthy (0), degraded (1-2), unhealthy (3 or more). */
const char *integ_health_for(int consecutive_failures);

/* People's words for an alert type ("Error spike"); the key itself when unknown. */
const char *integ_alert_label(const char *alert_type);

#endif
