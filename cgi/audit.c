/* audit.c: the audit log page (in words, filtered, keyset paging) and its streamed CSV export */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "audit.h"

#define PAGE_SIZE 50
#define CSV_BATCH "1000"        /* rows per read of the export, as text for the query */
#define CSV_BATCH_ROWS 1000
#define PEOPLE_MAX 1000


/* Columns of audit_rows and audit_page. */
enum {
	COL_CURSOR, COL_ISO, COL_AGE, COL_ACTION, COL_RTYPE, COL_RID, COL_IP, COL_AGENT,
	COL_EMAIL, COL_NAME, COL_C_EMAIL, COL_C_ROLE, COL_C_OLD_ROLE, COL_C_NEW_ROLE,
	COL_C_NAME, COL_C_OLD_NAME, COL_C_NEW_NAME, COL_C_PREFIX, COL_C_OLD_PLAN,
	COL_C_NEW_PLAN, COL_C_EVENT, COL_CHANGES, COL_TS, COL_ROW_ID, COL_PEOPLE,
	COL_EPOCH = COL_CURSOR  /* audit_page: seconds since the epoch in place of the cursor */
};

/*
 * The actions offered in the filter, in words, grouped by what they are
 * about (any well-formed action is accepted).
 */
static const struct { const char *action, *group, *label; } known_actions[] = {
	{ "team_member.invited", "Team", "Invitation sent" },
	{ "team_member.invitation_accepted", "Team", "Invitation accepted" },
	{ "team_member.invitation_resent", "Team", "Invitation sent again" },
	{ "team_member.invitation_revoked", "Team", "Invitation revoked" },
	{ "team_member.role_changed", "Team", "Role changed" },
	{ "team_member.deactivated", "Team", "Member deactivated" },
	{ "team_member.reactivated", "Team", "Member reactivated" },
	{ "team_member.removed", "Team", "Member removed" },
	{ "team_member.left", "Team", "Member left" },
	{ "workspace.renamed", "Workspace", "Workspace renamed" },
	{ "workspace.deleted", "Workspace", "Workspace deleted" },
	{ "workspace.restored", "Workspace", "Workspace restored" },
	{ "api_key.created", "API keys", "API key created" },
	{ "api_key.revoked", "API keys", "API key revoked" },
	{ "billing.plan_changed", "Billing", "Plan changed" },
	{ "billing.cancellation_requested", "Billing", "Subscription cancelled" },
	{ "billing.cancellation_withdrawn", "Billing", "Subscription resumed" },
	{ "billing.cycle_rolled_over", "Billing", "Billing cycle closed" },
	{ "billing.subscription_ended", "Billing", "Subscription ended" },
	{ "billing.stripe_event_applied", "Billing", "Stripe event" },
	{ "integration.created", "Integrations", "Integration created" },
	{ "integration.updated", "Integrations", "Integration changed" },
	{ "integration.enabled", "Integrations", "Integration enabled" },
	{ "integration.disabled", "Integrations", "Integration disabled" },
	{ "integration.deleted", "Integrations", "Integration deleted" },
	{ "integration.tested", "Integrations", "Test event sent" },
};

/* Stripe's events in words (what the billing webhook applies). */
static const struct { const char *type, *words; } stripe_events[] = {
	{ "customer.subscription.created", "a new subscription" },
	{ "customer.subscription.updated", "a change of the subscription" },
	{ "customer.subscription.deleted", "the end of the subscription" },
	{ "invoice.paid", "a paid invoice" },
	{ "invoice.payment_failed", "a failed payment" },
};

static int valid_action(struct field *f);
static int valid_date(struct field *f);
static int valid_cursor(struct field *f);
static int valid_actor(struct field *f);

/* GET .../audit and .../audit.csv */
enum { F_ACTION, F_ACTOR, F_FROM, F_TO, F_BEFORE, F__MAX };
static const struct field_spec filter_fields[F__MAX] = {
	[F_ACTION] = { "action", valid_action, 0, 64, NULL, 0, 0 },
	[F_ACTOR] = { "actor", valid_actor, 0, 64, NULL, 0, 0 },
	[F_FROM] = { "from", valid_date, 0, 10, NULL, 0, 0 },
	[F_TO] = { "to", valid_date, 0, 10, NULL, 0, 0 },
	[F_BEFORE] = { "before", valid_cursor, 1, 60, NULL, 0, 0 },
};

/* "" (no filter) or a word.word action name. */
static int valid_action(struct field *f)
{
	const char *dot = strchr(f->raw, '.');

	if (*f->raw == '\0')
		return 1;
	if (dot == NULL || dot == f->raw || dot[1] == '\0' || strchr(dot + 1, '.') != NULL)
		return 0;
	for (const char *p = f->raw; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' || *p == '.'))
			return 0;
	return 1;
}

/* "" (no filter) or a real calendar date YYYY-MM-DD from 2000 to 9999. */
static int valid_date(struct field *f)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *s = f->raw;
	long y, m, d;
	char part[5];

	if (*s == '\0')
		return 1;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	memcpy(part, s, 4);
	part[4] = '\0';
	if (parse_long(part, 2000, 9999, &y) != 0)
		return 0;
	memcpy(part, s + 5, 2);
	part[2] = '\0';
	if (parse_long(part, 1, 12, &m) != 0)
		return 0;
	memcpy(part, s + 8, 2);
	if (parse_long(part, 1, 31, &d) != 0)
		return 0;
	if (d > days[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return 0;
	return 1;
}

/* A keyset cursor: microseconds since the epoch, "_", a row id (lowercased). */
static int valid_cursor(struct field *f)
{
	const char *us = strchr(f->raw, '_');
	char digits[20];
	struct field id;
	long n;

	if (us == NULL || us == f->raw || us - f->raw > 18)
		return 0;
	memcpy(digits, f->raw, (size_t)(us - f->raw));
	digits[us - f->raw] = '\0';
	if (parse_long(digits, 0, 1L << 62, &n) != 0)
		return 0;
	memset(&id, 0, sizeof(id));
	id.raw = us + 1;
	id.value = f->value + (us - f->raw) + 1;
	return valid_uuid(&id);
}

/* "" (anyone) or a person's id. */
static int valid_actor(struct field *f)
{
	return *f->raw == '\0' || valid_uuid(f);
}

/* A filter's value, NULL when absent or empty. */
static const char *filter(struct ctx *c, size_t k)
{
	const char *v = http_field(c->req, k);

	return v != NULL && *v != '\0' ? v : NULL;
}

static const char *col(const PGresult *r, int i, int k)
{
	return PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
}

static const char *or(const char *s, const char *fallback)
{
	return s != NULL && *s != '\0' ? s : fallback;
}

/* The indefinite article of a word ("an" admin, "a" member), as with_article without an arena. */
static const char *article(const char *word)
{
	return *word != '\0' && strchr("aeiouAEIOU", *word) != NULL ? "an" : "a";
}

/* The strings up to NULL (none of them NULL), one after the other. */
__attribute__((sentinel)) static void put_all(struct buf *b, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, b);
	while ((s = va_arg(ap, const char *)) != NULL)
		buf_puts(b, s);
	va_end(ap);
}

/* A Stripe event type in words, or the type itself when unknown. */
static void stripe_words(struct buf *b, const char *type)
{
	for (size_t i = 0; type != NULL && i < sizeof(stripe_events) / sizeof(stripe_events[0]); i++)
		if (strcmp(type, stripe_events[i].type) == 0) {
			buf_puts(b, stripe_events[i].words);
			return;
		}
	put_all(b, "the event ", or(type, "(unknown)"), NULL);
}

/* One row in words: who did what to what. Written to b, never with an arena. */
static void describe(struct buf *b, const PGresult *r, int i)
{
	const char *action = PQgetvalue(r, i, COL_ACTION), *dot = strchr(action, '.');
	const char *email = or(col(r, i, COL_C_EMAIL), "someone"), *name = col(r, i, COL_C_NAME);
	const char *actor = or(col(r, i, COL_NAME), col(r, i, COL_EMAIL));
	const char *verb = dot ? dot + 1 : action, *role = or(col(r, i, COL_C_ROLE), "member");

	if (actor == NULL)
		actor = strcmp(action, "billing.stripe_event_applied") == 0 ? "Stripe" : "The system";
	buf_puts(b, actor);
	if (strncmp(action, "team_member.", 12) == 0) {
		if (strcmp(verb, "invited") == 0)
			put_all(b, " invited ", email, " as ", article(role), " ", role, NULL);
		else if (strcmp(verb, "role_changed") == 0)
			put_all(b, " changed ", email, "'s role from ", or(col(r, i, COL_C_OLD_ROLE), "?"),
			        " to ", or(col(r, i, COL_C_NEW_ROLE), "?"), NULL);
		else if (strcmp(verb, "invitation_accepted") == 0)
			put_all(b, " accepted the invitation and joined as ", article(role), " ", role, NULL);
		else if (strcmp(verb, "invitation_resent") == 0)
			put_all(b, " sent a new invitation link to ", email, NULL);
		else if (strcmp(verb, "invitation_revoked") == 0)
			put_all(b, " revoked the invitation for ", email, NULL);
		else if (strcmp(verb, "removed") == 0)
			put_all(b, " removed ", email, " from the workspace", NULL);
		else if (strcmp(verb, "left") == 0)
			buf_puts(b, " left the workspace");
		else
			put_all(b, " ", strcmp(verb, "deactivated") == 0 ? "deactivated"
			        : strcmp(verb, "reactivated") == 0 ? "reactivated" : verb, " ", email, NULL);
	} else if (strcmp(action, "workspace.renamed") == 0) {
		put_all(b, " renamed the workspace from “", or(col(r, i, COL_C_OLD_NAME), "?"), "” to “",
		        or(col(r, i, COL_C_NEW_NAME), "?"), "”", NULL);
	} else if (strncmp(action, "workspace.", 10) == 0) {
		put_all(b, " ", verb, " the workspace", NULL);
	} else if (strcmp(action, "api_key.created") == 0) {
		put_all(b, " created the API key “", or(name, "?"), "” (", or(col(r, i, COL_C_PREFIX), "?"),
		        "…)", NULL);
	} else if (strcmp(action, "api_key.revoked") == 0) {
		put_all(b, " revoked the API key “", or(name, "?"), "”", NULL);
	} else if (strcmp(action, "billing.plan_changed") == 0) {
		if (col(r, i, COL_C_OLD_PLAN) != NULL && col(r, i, COL_C_NEW_PLAN) != NULL)
			put_all(b, " changed the plan from ", plan_words(col(r, i, COL_C_OLD_PLAN)), " to ",
			        plan_words(col(r, i, COL_C_NEW_PLAN)), NULL);
		else
			buf_puts(b, " changed the plan's billing");
	} else if (strcmp(action, "billing.cancellation_requested") == 0) {
		buf_puts(b, " cancelled the subscription at the end of the cycle");
	} else if (strcmp(action, "billing.cancellation_withdrawn") == 0) {
		buf_puts(b, " resumed the subscription");
	} else if (strcmp(action, "billing.stripe_event_applied") == 0) {
		buf_puts(b, " reported ");
		stripe_words(b, col(r, i, COL_C_EVENT));
	} else if (strcmp(action, "billing.cycle_rolled_over") == 0) {
		buf_puts(b, " closed the billing cycle");
	} else if (strcmp(action, "billing.subscription_ended") == 0) {
		buf_puts(b, " ended the subscription");
	} else if (strncmp(action, "integration.", 12) == 0) {
		if (strcmp(verb, "tested") == 0)
			put_all(b, " sent a test event to the integration “", or(name, "?"), "”", NULL);
		else
			put_all(b, " ", strcmp(verb, "updated") == 0 ? "changed" : verb, " the integration “",
			        or(name, "?"), "”", NULL);
	} else {
		put_all(b, ": ", action, " on ", PQgetvalue(r, i, COL_RTYPE), NULL);
	}
}

/* n (>= 0) in decimal, at least width digits (zeros before), at p; returns the end. */
static char *put_digits(char *p, long long n, int width)
{
	char tmp[24];
	int k = 0;

	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && k < (int)sizeof(tmp));
	while (k < width && k < (int)sizeof(tmp))
		tmp[k++] = '0';
	while (k > 0)
		*p++ = tmp[--k];
	return p;
}

/*
 * An entry's time from audit_page's seconds since the epoch ("1767225600.5"):
 * its ISO time to the second (as audit_rows' to_char) and, unless cursor is
 * NULL, its cursor (microseconds, "_", the row id, as audit_rows writes it;
 * 96 bytes), written digit by digit (50 rows of snprintf cost more than the
 * rest of the row). 0, or -1 when it does not parse or falls outside the
 * years 0 to 9999.
 */
static int entry_time(const char *epoch, const char *id, char *cursor, char iso[32])
{
	long long whole = 0, frac = 0, us, secs;
	int neg = 0, digits = 0;
	const char *p = epoch;
	size_t idlen;
	struct tm tm;
	char *o;
	time_t t;

	if (p == NULL || id == NULL || (idlen = strlen(id)) > 60)
		return -1;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > 900000000000LL)
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits < 6) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	if (*p != '\0')
		return -1;
	for (; digits < 6; digits++)
		frac *= 10;
	us = whole * 1000000 + frac;
	if (neg)
		us = -us;
	secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	o = put_digits(iso, tm.tm_year + 1900, 4);
	*o++ = '-';
	o = put_digits(o, tm.tm_mon + 1, 2);
	*o++ = '-';
	o = put_digits(o, tm.tm_mday, 2);
	*o++ = 'T';
	o = put_digits(o, tm.tm_hour, 2);
	*o++ = ':';
	o = put_digits(o, tm.tm_min, 2);
	*o++ = ':';
	o = put_digits(o, tm.tm_sec, 2);
	*o++ = 'Z';
	*o = '\0';
	if (cursor == NULL)
		return 0;
	o = cursor;
	if (us < 0)
		*o++ = '-';
	o = put_digits(o, us < 0 ? -us : us, 1);
	*o++ = '_';
	memcpy(o, id, idlen + 1);
	return 0;
}

/* Seconds since an entry (never negative: a clock a little ahead counts as just now). */
static long age(const char *s)
{
	long n = 0;

	if (s == NULL || parse_long(s, 0, 1L << 50, &n) != 0)
		return 0;
	return n;
}

/* The filters as a query string (without before), "" when none. */
static const char *filter_query(struct ctx *c)
{
	static const size_t keys[] = { F_ACTION, F_ACTOR, F_FROM, F_TO };
	struct buf b;
	const char *out;

	buf_init(&b);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *v = filter(c, keys[k]);

		if (v == NULL)
			continue;
		buf_puts(&b, b.len ? "&" : "");
		buf_printf(&b, "%s=", filter_fields[keys[k]].name);
		buf_url(&b, v);
	}
	out = arena_strdup(c->arena, b.len ? b.data : "");
	buf_free(&b);
	return out;
}

/* The statement of the page for the filters of params (row_params). */
static const char *page_stmt(const char *params[8])
{
	if (params[1] != NULL)
		return params[2] != NULL ? "audit_page_action_actor" : "audit_page_action";
	return params[2] != NULL ? "audit_page_actor" : "audit_page";
}

/* The parameters of audit_rows for this request's filters and cursor. */
static void row_params(struct ctx *c, const char *params[8], const char *cursor, char *us,
                       size_t uslen, const char *limit)
{
	params[0] = c->ws != NULL ? c->ws->id : NULL;
	params[1] = filter(c, F_ACTION);
	params[2] = filter(c, F_ACTOR);
	params[3] = filter(c, F_FROM);
	params[4] = filter(c, F_TO);
	params[5] = NULL;
	params[6] = NULL;
	params[7] = limit;
	if (cursor != NULL) {
		const char *sep = strchr(cursor, '_');
		size_t n = (size_t)(sep - cursor);

		if (n >= uslen)
			n = uslen - 1;
		memcpy(us, cursor, n);
		us[n] = '\0';
		params[5] = us;
		params[6] = sep + 1;
	}
}

/*
 * Filters that do not parse: 422 with the form and each message by its
 * field (a cursor that does not parse: 400). Returns 1 when answered.
 */
static int filters_refused(struct ctx *c, void (*render)(struct ctx *, int))
{
	static const struct { size_t k; const char *field, *message; } checks[] = {
		{ F_ACTION, "action", "Choose an action from the list." },
		{ F_ACTOR, "actor", "Choose a person from the list." },
		{ F_FROM, "from", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31." },
		{ F_TO, "to", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31." },
	};
	int bad = 0;

	if (http_field_invalid(c->req, F_BEFORE)) {
		tvars_set(c->vars, "back_path", arena_printf(c->arena, "/w/%s/settings/audit",
		                                             c->ws->slug));
		tvars_set(c->vars, "back_label", "Back to the newest entries of the audit log");
		page_error(c, 400, "The page position in this address is not valid. Start again from "
		           "the newest entries.");
		return 1;
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (http_field_invalid(c->req, checks[i].k)) {
			form_error(c, checks[i].field, checks[i].message);
			bad = 1;
		}
	if (!bad && filter(c, F_FROM) && filter(c, F_TO) && strcmp(filter(c, F_FROM), filter(c, F_TO)) > 0) {
		form_error(c, "to", "The end date is before the start date.");
		bad = 1;
	}
	if (!bad)
		return 0;
	form_keep(c);
	render(c, 422);
	return 1;
}

/*
 * The filter form's choices: actions and people (the "id<TAB>email<TAB>name"
 * lines of audit_page), the current ones selected.
 */
static void fill_filter_form(struct ctx *c, const char *people)
{
	const char *action = tvars_get(c->vars, "v_action"), *actor = tvars_get(c->vars, "v_actor");
	struct tvars *group = NULL;
	char *line, *save = NULL;

	for (size_t i = 0; i < sizeof(known_actions) / sizeof(known_actions[0]); i++) {
		struct tvars *o;

		if (i == 0 || strcmp(known_actions[i].group, known_actions[i - 1].group) != 0) {
			group = tvars_loop_add(c->vars, "action_groups");
			tvars_set(group, "group", known_actions[i].group);
		}
		o = tvars_loop_add(group, "actions");
		tvars_set(o, "value", known_actions[i].action);
		tvars_set(o, "label", known_actions[i].label);
		tvars_set_bool(o, "selected", action != NULL && strcmp(action, known_actions[i].action) == 0);
	}
	if (people == NULL)
		return;
	for (line = strtok_r(arena_strdup(c->arena, people), "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *email = strchr(line, '\t'), *name;
		struct tvars *o;

		if (email == NULL || (name = strchr(email + 1, '\t')) == NULL)
			continue;
		*email++ = '\0';
		*name++ = '\0';
		o = tvars_loop_add(c->vars, "people");
		tvars_set(o, "value", line);
		tvars_set(o, "label", *name ? arena_printf(c->arena, "%s (%s)", name, email) : email);
		tvars_set_bool(o, "selected", actor != NULL && strcmp(actor, line) == 0);
	}
}

/*
 * The page with status: the filter form, then (unless the filters are bad)
 * 50 rows, all from one statement (audit_page or the one for its filters),
 * which for a plain GET was sent with the session check (audit_prefetch).
 */
static void render_audit(struct ctx *c, int status)
{
	const char *params[8], *query;
	char us[24], cursor[96] = "", iso[32];
	PGresult *r;
	int n = 0;

	tvars_set(c->vars, "title", "Audit log");
	tvars_set(c->vars, "nav", "audit");
	if (status == 200)
		form_keep(c);
	if (c->prefetched != NULL && status == 200) {
		r = c->prefetched;
		c->prefetched = NULL;
	} else {
		row_params(c, params, status == 200 ? http_field(c->req, F_BEFORE) : NULL, us,
		           sizeof(us), status == 200 ? "51" : "0");
		if (status != 200)
			params[1] = params[2] = params[3] = params[4] = NULL;
		r = db_exec(c, page_stmt(params), 8, params, NULL);
	}
	if (r == NULL)
		return;
	/* One row of people alone when no entry matches (the entry columns NULL). */
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, COL_CURSOR))
		n = PQntuples(r);
	fill_filter_form(c, PQntuples(r) > 0 ? col(r, 0, COL_PEOPLE) : NULL);
	query = filter_query(c);
	tvars_set(c->vars, "csv_query", *query ? arena_printf(c->arena, "?%s", query) : "");
	tvars_set_bool(c->vars, "filtered", *query != '\0');
	if (status != 200) {
		PQclear(r);
		page_render(c, status, "audit.tmpl");
		return;
	}
	for (int i = 0; i < n && i < PAGE_SIZE; i++) {
		struct tvars *row = tvars_loop_add(c->vars, "rows");
		struct buf b;

		if (entry_time(PQgetvalue(r, i, COL_EPOCH), PQgetvalue(r, i, COL_ROW_ID),
		               i == PAGE_SIZE - 1 ? cursor : NULL, iso) != 0)
			iso[0] = '\0';
		buf_init(&b);
		describe(&b, r, i);
		tvars_set(row, "summary", b.data);     /* tvars_set keeps a copy */
		buf_free(&b);
		tvars_set(row, "iso", iso);
		tvars_set(row, "when", datetime_words(c->arena, iso));
		tvars_set(row, "ago", ago_words(c->arena, age(PQgetvalue(r, i, COL_AGE))));
		tvars_set(row, "ip", col(r, i, COL_IP));
	}
	/* The last row shown (PAGE_SIZE - 1) wrote cursor last. */
	if (n > PAGE_SIZE)
		tvars_set(c->vars, "next_query", arena_printf(c->arena, "%s%sbefore=%s", query,
		          *query ? "&" : "", cursor));
	tvars_set_bool(c->vars, "older_page", http_field(c->req, F_BEFORE) != NULL);
	tvars_set_bool(c->vars, "any_rows", n > 0);
	PQclear(r);
	page_render(c, 200, "audit.tmpl");
}

/*
 * The page's one statement, known from the query string alone, goes to
 * PostgreSQL in the same round trip as the session check (app.h, struct
 * prefetch), with the workspace the check sets. Not when a filter or the
 * cursor does not parse (the 422 and 400 answers).
 */
static int audit_prefetch(struct ctx *c, struct prefetch *p)
{
	static const size_t keys[] = { F_ACTION, F_ACTOR, F_FROM, F_TO, F_BEFORE };
	char *us = arena_alloc(c->arena, 24);

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (http_field_invalid(c->req, keys[k]))
			return 0;
	if (filter(c, F_FROM) && filter(c, F_TO) && strcmp(filter(c, F_FROM), filter(c, F_TO)) > 0)
		return 0;
	p->nparams = 8;
	row_params(c, p->params, http_field(c->req, F_BEFORE), us, 24, "51");
	p->stmt = page_stmt(p->params);
	p->params[0] = NULL;
	return 1;
}

/*
 * GET /w/{slug}/settings/audit (action, actor, from, to, before): owner,
 * admin. 200; 422 a filter that does not parse; 400 a malformed cursor.
 */
static void audit_get(struct ctx *c)
{
	if (filters_refused(c, render_audit))
		return;
	render_audit(c, 200);
}

/*
 * GET /w/{slug}/settings/audit.csv (the same filters): every matching row,
 * newest first, as RFC 4180 CSV with formula cells defused. Streamed: 1,000
 * rows at a time are read (keyset, as the page) and sent, so memory stays
 * the same for any size of log. 422 and 400 as the page.
 */
static void audit_csv(struct ctx *c)
{
	const char *params[8], *cursor = NULL;
	char us[24], last[96], day[16];
	struct buf out;
	time_t now = time(NULL);
	struct tm tm;

	if (filters_refused(c, render_audit))
		return;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	resp_header(c->resp, "Content-Disposition", arena_printf(c->arena,
	            "attachment; filename=\"audit-%s-%s.csv\"", c->ws->slug, day));
	if (app_stream_begin(c, "text/csv; charset=utf-8") != 0)
		return;
	buf_init(&out);
	buf_puts(&out, "time_utc,actor_email,actor_name,action,resource_type,resource_id,"
	         "summary,ip_address,user_agent,changes\r\n");
	for (;;) {
		PGresult *r;
		int n;

		row_params(c, params, cursor, us, sizeof(us), CSV_BATCH);
		r = db_exec(c, "audit_rows", 8, params, NULL);
		if (r == NULL)
			break;
		n = PQntuples(r);
		for (int i = 0; i < n; i++) {
			struct buf s;

			buf_csv(&out, PQgetvalue(r, i, COL_ISO));
			buf_putc(&out, ',');
			buf_csv(&out, col(r, i, COL_EMAIL));
			buf_putc(&out, ',');
			buf_csv(&out, col(r, i, COL_NAME));
			buf_putc(&out, ',');
			buf_csv(&out, PQgetvalue(r, i, COL_ACTION));
			buf_putc(&out, ',');
			buf_csv(&out, PQgetvalue(r, i, COL_RTYPE));
			buf_putc(&out, ',');
			buf_csv(&out, col(r, i, COL_RID));
			buf_putc(&out, ',');
			buf_init(&s);
			describe(&s, r, i);
			buf_csv(&out, s.data);
			buf_free(&s);
			buf_putc(&out, ',');
			buf_csv(&out, col(r, i, COL_IP));
			buf_putc(&out, ',');
			buf_csv(&out, col(r, i, COL_AGENT));
			buf_putc(&out, ',');
			buf_csv(&out, col(r, i, COL_CHANGES));
			buf_puts(&out, "\r\n");
		}
		if (n > 0) {
			snprintf(last, sizeof(last), "%s", PQgetvalue(r, n - 1, COL_CURSOR));
			cursor = last;
		}
		PQclear(r);
		if (app_stream_write(c, &out) != 0 || n < CSV_BATCH_ROWS)
			break;
	}
	app_stream_write(c, &out);
	buf_free(&out);
}

static const struct route routes[] = {
	{ "GET", "/w/*/settings/audit", audit_get, ROUTE_WORKSPACE, PERM_MANAGE_TEAM,
	  filter_fields, F__MAX, audit_prefetch },
	{ "GET", "/w/*/settings/audit.csv", audit_csv, ROUTE_WORKSPACE, PERM_MANAGE_TEAM,
	  filter_fields, F__MAX },
};

static const char *const templates[] = { "audit.tmpl", NULL };

/*
 * Once per worker, before it connects: generic plans, planned once per
 * connection. A custom plan would fold the absent filters away and plan
 * the request afresh every time (PostgreSQL's choice here: the skipped
 * branches look free), which costs more than running the statement. An
 * operator's own PGOPTIONS wins. Unnamed statements (plain CGI, PgBouncer,
 * which refuses the startup option) are planned once each anyway.
 */
static int audit_init(void)
{
	if (!app_config.db_unnamed)
		setenv("PGOPTIONS", "-c plan_cache_mode=force_generic_plan", 0);
	return 0;
}

static const struct page page = {
	"audit", routes, sizeof(routes) / sizeof(routes[0]),
	audit_stmts, AUDIT_NSTMTS, templates, audit_init,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
