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


/* Columns of audit_rows (the export). */
enum {
	COL_CURSOR, COL_ISO, COL_ACTION, COL_RTYPE, COL_RID, COL_IP, COL_AGENT,
	COL_EMAIL, COL_NAME, COL_C_EMAIL, COL_C_ROLE, COL_C_OLD_ROLE, COL_C_NEW_ROLE,
	COL_C_NAME, COL_C_OLD_NAME, COL_C_NEW_NAME, COL_C_PREFIX, COL_C_OLD_PLAN,
	COL_C_NEW_PLAN, COL_C_EVENT, COL_CHANGES
};

/*
 * Columns of audit_page (and its filtered versions): an entry's three
 * details are what the action's sentence needs (entry_from_page). A row
 * without an id is a person of the filter: the statement's time, then the
 * person's id, email, name and place (1, 2, ...) by name.
 */
enum { P_EPOCH, P_ID, P_ACTION, P_ACTOR, P_IP, P_DETAIL1, P_DETAIL2, P_DETAIL3,
       P_PERSON_ID = P_ACTION, P_PERSON_EMAIL = P_ACTOR, P_PERSON_NAME = P_DETAIL1,
       P_PERSON_PLACE = P_DETAIL2 };

/* One entry as its sentence needs it, from either statement (NULL: absent). */
struct entry {
	const char *action, *actor, *rtype, *email, *role, *old_role, *new_role, *name;
	const char *old_name, *new_name, *prefix, *old_plan, *new_plan, *event;
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

/* One entry in words: who did what to what. Written to b, never with an arena. */
static void describe(struct buf *b, const struct entry *e)
{
	const char *action = e->action, *dot = strchr(action, '.');
	const char *email = or(e->email, "someone"), *name = e->name, *actor = e->actor;
	const char *verb = dot ? dot + 1 : action, *role = or(e->role, "member");

	if (actor == NULL)
		actor = strcmp(action, "billing.stripe_event_applied") == 0 ? "Stripe" : "The system";
	buf_puts(b, actor);
	if (strncmp(action, "team_member.", 12) == 0) {
		if (strcmp(verb, "invited") == 0)
			put_all(b, " invited ", email, " as ", article(role), " ", role, NULL);
		else if (strcmp(verb, "role_changed") == 0)
			put_all(b, " changed ", email, "'s role from ", or(e->old_role, "?"),
			        " to ", or(e->new_role, "?"), NULL);
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
		put_all(b, " renamed the workspace from “", or(e->old_name, "?"), "” to “",
		        or(e->new_name, "?"), "”", NULL);
	} else if (strncmp(action, "workspace.", 10) == 0) {
		put_all(b, " ", verb, " the workspace", NULL);
	} else if (strcmp(action, "api_key.created") == 0) {
		put_all(b, " created the API key “", or(name, "?"), "” (", or(e->prefix, "?"),
		        "…)", NULL);
	} else if (strcmp(action, "api_key.revoked") == 0) {
		put_all(b, " revoked the API key “", or(name, "?"), "”", NULL);
	} else if (strcmp(action, "billing.plan_changed") == 0) {
		if (e->old_plan != NULL && e->new_plan != NULL)
			put_all(b, " changed the plan from ", plan_words(e->old_plan), " to ",
			        plan_words(e->new_plan), NULL);
		else
			buf_puts(b, " changed the plan's billing");
	} else if (strcmp(action, "billing.cancellation_requested") == 0) {
		buf_puts(b, " cancelled the subscription at the end of the cycle");
	} else if (strcmp(action, "billing.cancellation_withdrawn") == 0) {
		buf_puts(b, " resumed the subscription");
	} else if (strcmp(action, "billing.stripe_event_applied") == 0) {
		buf_puts(b, " reported ");
		stripe_words(b, e->event);
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
		put_all(b, ": ", action, " on ", or(e->rtype, "?"), NULL);
	}
}

/* The export's row i as an entry. */
static void entry_from_rows(struct entry *e, const PGresult *r, int i)
{
	e->action = PQgetvalue(r, i, COL_ACTION);
	e->actor = or(col(r, i, COL_NAME), col(r, i, COL_EMAIL));
	e->rtype = col(r, i, COL_RTYPE);
	e->email = col(r, i, COL_C_EMAIL);
	e->role = col(r, i, COL_C_ROLE);
	e->old_role = col(r, i, COL_C_OLD_ROLE);
	e->new_role = col(r, i, COL_C_NEW_ROLE);
	e->name = col(r, i, COL_C_NAME);
	e->old_name = col(r, i, COL_C_OLD_NAME);
	e->new_name = col(r, i, COL_C_NEW_NAME);
	e->prefix = col(r, i, COL_C_PREFIX);
	e->old_plan = col(r, i, COL_C_OLD_PLAN);
	e->new_plan = col(r, i, COL_C_NEW_PLAN);
	e->event = col(r, i, COL_C_EVENT);
}

/*
 * The page's row i as an entry: audit_page's three details are, by action,
 * (email, role or old role, new role) for team actions, (resource type,
 * old, new name) for a rename, (.., name, prefix) for API keys, (.., name)
 * for integrations, (.., old, new plan) for a plan change, (.., Stripe's
 * event) for Stripe, the resource type first for any other. describe reads
 * only those of its action.
 */
static void entry_from_page(struct entry *e, const PGresult *r, int i)
{
	const char *d1 = col(r, i, P_DETAIL1), *d2 = col(r, i, P_DETAIL2), *d3 = col(r, i, P_DETAIL3);

	e->action = PQgetvalue(r, i, P_ACTION);
	e->actor = or(col(r, i, P_ACTOR), NULL);
	e->rtype = e->email = d1;
	e->role = e->old_role = e->name = e->old_name = e->old_plan = e->event = d2;
	e->new_role = e->new_name = e->prefix = e->new_plan = d3;
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

/* n (0 to 99) as two digits at p, then sep; returns the end. */
static char *put_2d(char *p, int n, char sep)
{
	p[0] = (char)('0' + n / 10);
	p[1] = (char)('0' + n % 10);
	p[2] = sep;
	return p + 3;
}

/*
 * Seconds since the epoch as PostgreSQL writes them ("1767225600.5",
 * "-12.25") in microseconds at *us. 0, or -1 when it does not parse or
 * falls outside the years 0 to 9999.
 */
static int epoch_us(const char *epoch, long long *us)
{
	long long whole = 0, frac = 0;
	int neg = 0, digits = 0;
	const char *p = epoch;

	if (p == NULL)
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
	*us = whole * 1000000 + frac;
	if (neg)
		*us = -*us;
	return *us >= -62167219200000000LL && *us < 253402300800000000LL ? 0 : -1;
}

/* Whole seconds of us, rounded down (towards the past for times before 1970). */
static long long floor_seconds(long long us)
{
	return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}

/*
 * An entry's time (microseconds since the epoch, as epoch_us): its ISO
 * time to the second (as audit_rows' to_char) and, unless cursor is NULL,
 * its cursor (microseconds, "_", the row id, as audit_rows writes it; 96
 * bytes). The date from the days since 1970 by the civil calendar's
 * arithmetic, the digits by hand: 50 rows of gmtime and snprintf cost
 * more than the rest of the row. 0, or -1 when the id is too long.
 */
static int entry_time(long long us, const char *id, char *cursor, char iso[32])
{
	long long secs = floor_seconds(us), days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;                                   /* 0 to 146096 */
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* 0 to 399 */
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            /* 0 to 365, from March */
	long long mp = (5 * doy + 2) / 153, sod = secs - days * 86400;
	int day = (int)(doy - (153 * mp + 2) / 5 + 1), month = (int)(mp < 10 ? mp + 3 : mp - 9);
	long long year = yoe + era * 400 + (month <= 2);
	size_t idlen;
	char *o;

	if (id == NULL || (idlen = strlen(id)) > 60)
		return -1;
	o = put_digits(iso, year, 4);             /* epoch_us keeps years to 0 to 9999 */
	*o++ = '-';
	o = put_2d(o, month, '-');
	o = put_2d(o, day, 'T');
	o = put_2d(o, (int)(sod / 3600), ':');
	o = put_2d(o, (int)(sod / 60 % 60), ':');
	o = put_2d(o, (int)(sod % 60), 'Z');
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
 * The person filter's choices: audit_page's people rows (up to
 * PEOPLE_MAX + 1), in their places, the current one selected.
 */
static void fill_people(struct ctx *c, const PGresult *r)
{
	const char *actor = tvars_get(c->vars, "v_actor");
	int at[PEOPLE_MAX + 1] = { 0 };
	int n = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		long place;

		if (!PQgetisnull(r, i, P_ID) ||
		    parse_long(PQgetvalue(r, i, P_PERSON_PLACE), 1, PEOPLE_MAX + 1, &place) != 0)
			continue;
		at[place - 1] = i + 1;
		if (place > n)
			n = (int)place;
	}
	for (int k = 0; k < n; k++) {
		int i = at[k] - 1;
		const char *id, *email, *name;
		struct tvars *o;

		if (i < 0)
			continue;
		id = PQgetvalue(r, i, P_PERSON_ID);
		email = PQgetvalue(r, i, P_PERSON_EMAIL);
		name = PQgetvalue(r, i, P_PERSON_NAME);
		o = tvars_loop_add(c->vars, "people");
		tvars_set(o, "value", id);
		tvars_set(o, "label", *name ? arena_printf(c->arena, "%s (%s)", name, email) : email);
		tvars_set_bool(o, "selected", actor != NULL && strcmp(actor, id) == 0);
	}
}

/*
 * The entries of audit_page's result r, newest first, at order (up to
 * PAGE_SIZE + 1 row numbers, their times at at), and the statement's time
 * (its people rows') at *now_us when there is one. UNION ALL promises no
 * order, so the entries are put in order here (an insertion sort, which
 * only checks rows that already are). Returns the number of entries.
 */
static int page_rows(const PGresult *r, int order[PAGE_SIZE + 1], long long at[PAGE_SIZE + 1],
                     long long *now_us)
{
	int n = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		long long t = 0;
		int k;

		if (PQgetisnull(r, i, P_ID)) {
			epoch_us(PQgetvalue(r, i, P_EPOCH), now_us);
			continue;
		}
		if (n == PAGE_SIZE + 1 || epoch_us(PQgetvalue(r, i, P_EPOCH), &t) != 0)
			continue;
		for (k = n; k > 0 && (at[k - 1] < t || (at[k - 1] == t &&
		     strcmp(PQgetvalue(r, order[k - 1], P_ID), PQgetvalue(r, i, P_ID)) < 0)); k--) {
			order[k] = order[k - 1];
			at[k] = at[k - 1];
		}
		order[k] = i;
		at[k] = t;
		n++;
	}
	return n;
}

/*
 * The page with status: the filter form, then (unless the filters are bad)
 * 50 rows, all from one statement (audit_page or the one for its filters),
 * which for a plain GET was sent with the session check (audit_prefetch),
 * and the people of its filter (alone for a 422).
 */
static void render_audit(struct ctx *c, int status)
{
	const char *params[8], *query;
	char us[24], cursor[96] = "", iso[32];
	long long now_us = (long long)time(NULL) * 1000000, at[PAGE_SIZE + 1];
	int order[PAGE_SIZE + 1], n;
	struct buf b;
	PGresult *r;

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
	n = page_rows(r, order, at, &now_us);
	fill_people(c, r);
	query = filter_query(c);
	tvars_set(c->vars, "csv_query", *query ? arena_printf(c->arena, "?%s", query) : "");
	tvars_set_bool(c->vars, "filtered", *query != '\0');
	if (status != 200) {
		PQclear(r);
		page_render(c, status, "audit.tmpl");
		return;
	}
	buf_init(&b);
	for (int k = 0; k < n && k < PAGE_SIZE; k++) {
		struct tvars *row = tvars_loop_add(c->vars, "rows");
		int i = order[k];
		struct entry e;

		if (entry_time(at[k], PQgetvalue(r, i, P_ID), k == PAGE_SIZE - 1 ? cursor : NULL, iso) != 0)
			iso[0] = '\0';
		entry_from_page(&e, r, i);
		buf_reset(&b);
		describe(&b, &e);
		tvars_set(row, "summary", b.data);     /* tvars_set keeps a copy */
		tvars_set(row, "iso", iso);
		tvars_set(row, "when", datetime_words(c->arena, iso));
		/* Seconds since the entry, never negative (a clock a little ahead is "just now"). */
		tvars_set(row, "ago", ago_words(c->arena, now_us > at[k] ? (long)floor_seconds(now_us - at[k]) : 0));
		tvars_set(row, "ip", col(r, i, P_IP));
	}
	buf_free(&b);
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
			struct entry e;
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
			entry_from_rows(&e, r, i);
			buf_init(&s);
			describe(&s, &e);
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
