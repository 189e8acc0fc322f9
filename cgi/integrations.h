/* integrations.h: what the integrations page's files share (routes and handlers, forms, queries, delivery log) */
#ifndef SETTINGS_INTEGRATIONS_H
#define SETTINGS_INTEGRATIONS_H

#include "app.h"
#include "crypto.h"
#include "integ_secrets.h"

/* The key ring for secrets at rest (SETTINGS_CREDENTIALS_KEYS), parsed once per worker. */
extern struct keyring *ring;

/* Integration types, in the order the page lists them. */
enum itype { T_SLACK, T_PAGERDUTY, T_WEBHOOK, T_SENTRY, T_DATADOG, T_CUSTOM, T__MAX };
extern const char *const type_names[T__MAX + 1];
extern const char *const type_labels[T__MAX];
extern const char *const type_blurbs[T__MAX];

/* The form fields (SPEC section 4), validated by this table before any handler runs. */
enum {
	K_TYPE, K_QTYPE, K_NAME,
	K_CHANNEL_ID, K_CHANNEL_NAME, K_WORKSPACE_URL, K_BOT_TOKEN, K_WEBHOOK_URL,
	K_SERVICE_ID, K_SERVICE_NAME, K_ROUTING_KEY,
	K_URL, K_METHOD, K_AUTH_TYPE, K_TIMEOUT_MS, K_SECRET,
	K_ENVIRONMENT, K_SAMPLE_RATE, K_TRACES_SAMPLE_RATE, K_DSN,
	K_SITE, K_API_KEY, K_APP_KEY,
	K_ALERT_TYPES, K_SEVERITY_MIN, K_AGENTS, K_RATE_LIMIT, K_MAX_RETRIES, K_BACKOFF,
	K_CONFIRM, K_PAGE,
	K__MAX
};
extern const struct field_spec fields[K__MAX];
extern const int type_fields[T__MAX][6];
extern const char *const methods[], *const auth_types[], *const auth_labels[], *const backoffs[];
extern const char *const dd_sites[], *const alert_types[], *const alert_labels[], *const severities[];

/* The page's statements (integrations_sql.c). */
extern const struct stmt integ_stmts[];
extern const size_t integ_nstmts;

/* Columns of ONE_ROW. */
enum { R_ID, R_TYPE, R_NAME, R_ENABLED, R_RATE, R_SEVERITY, R_RETRIES, R_BACKOFF,
       R_CREDS, R_KEY_ID, R_URL, R_METHOD, R_AUTH, R_TIMEOUT, R_SNAPSHOT, R_CHANNEL };

/* One stored integration, as ONE_ROW reads it. */
struct integ {
	const char *id, *type, *name, *rate, *severity, *retries, *backoff;
	const char *creds, *key_id, *url, *method, *auth, *timeout, *snapshot, *channel;
	int enabled;
	enum itype t;
};

/* A small set of strings (selected checkboxes, stored filters). */
struct strset {
	const char *v[128];
	size_t n;
};

/* The validated input of one form, ready to store. */
struct input {
	enum itype t;
	const char *name;
	struct buf config;         /* JSON object of the type's settings */
	struct buf filters;        /* JSON object: alert_types, severity_min, agents */
	struct buf retry;          /* JSON object: max_retries, backoff */
	const char *rate;          /* NULL = no limit */
	const char *auth;          /* webhook/custom auth_type */
	int secrets[6];            /* field keys of secrets submitted */
	size_t nsecrets;
};

/* integrations_form.c: the per-type form table, validation and the form page */
int is_secret(int k);
int strset_has(const struct strset *s, const char *x);
void strset_add(struct strset *s, const char *x);
const char *secret_label(const char *name);
const char *val(struct ctx *c, int k);
void field_error(struct ctx *c, int k, const char *message);
int parse_range(const char *s, long min, long max, long *out);
void input_init(struct input *in);
void input_free(struct input *in);
void json_key(struct buf *b, const char *key);
void json_str(struct buf *b, const char *key, const char *v);
void json_raw(struct buf *b, const char *key, const char *raw);
const char *json_end(struct buf *b);
int load_agents(struct ctx *c, struct strset *out);
int validate(struct ctx *c, struct input *in, const struct integ *old,
                    const struct integ_secrets *stored);
void fill_secret_meta(struct ctx *c, struct tvars *v, PGresult *meta, const char *id,
                             enum itype t, int as_loop);
void render_form(struct ctx *c, int status, enum itype t, const struct integ *it,
                        int from_db);

/* integrations.c: shared helpers */
int type_index(const char *name);
int is_webhook_like(int t);
int allow_private(void);
int new_uuid(char out[37]);
const char *list_path(struct ctx *c);
const char *count_text(struct ctx *c, const char *digits);
const char *relative_time(struct ctx *c, long age);
void set_time(struct ctx *c, struct tvars *v, const char *prefix, const char *iso,
                     const char *age);
int load_one(struct ctx *c, const char *id, int lock, struct integ *it);
int open_secrets(struct ctx *c, const struct integ *it, struct integ_secrets *s);
void credentials_unreadable(struct ctx *c);
PGresult *secret_meta(struct ctx *c, const char *id);
int custom_limit(struct ctx *c, int lock, long *limit, long *count, int *unlimited);
void set_limit_vars(struct ctx *c);


/* The error page, linking back to the integrations. */
void integ_error(struct ctx *c, int status, const char *message);

/* integrations_log.c: test events, the delivery log, redeliver */
void test_post(struct ctx *c);
void deliveries_get(struct ctx *c);
void redeliver_post(struct ctx *c);

#endif
