/* http.h: requests (environment, query, form, cookies, validated fields) and responses */
#ifndef SETTINGS_HTTP_H
#define SETTINGS_HTTP_H

#include <stddef.h>

#include "util.h"

#define HTTP_MAX_BODY   (64 * 1024)
#define HTTP_MAX_FIELDS 100
#define HTTP_MAX_COOKIES 32

/* One name=value pair, percent-decoded, valid UTF-8. */
struct pair {
	const char *name;
	const char *value;
};

/*
 * A field table entry, kcgi style: a page declares
 *   enum { K_EMAIL, K_ROLE, K__MAX };
 *   static const struct field_spec keys[K__MAX] = {
 *       { "email", valid_email, 1, 254, NULL, 0 }, ... };
 * and handlers read only req->fields[K_EMAIL] (NULL when missing or invalid).
 */
struct field;
typedef int (*field_validator)(struct field *f);

struct field_spec {
	const char *name;
	field_validator valid;     /* NULL: any valid UTF-8 within the length bounds */
	size_t minlen, maxlen;     /* bounds on the byte length of the raw value */
	const char *const *choices; /* for valid_choice: NULL-terminated list */
	long min, max;             /* for valid_int: inclusive range */
};

enum field_state { FIELD_MISSING = 0, FIELD_VALID, FIELD_INVALID };

struct field {
	const struct field_spec *spec;
	enum field_state state;
	const char *raw;           /* as submitted (for re-showing the form) */
	char *value;               /* normalised copy (validators may rewrite it) */
	long num;                  /* for valid_int */
	struct field *next;        /* further values of a repeated field */
};

/* Validators: return 1 when valid; may set f->value / f->num. */
int valid_string(struct field *f);     /* length bounds only */
int valid_line(struct field *f);       /* no control characters */
int valid_email(struct field *f);      /* addr-spec subset, lowercased */
int valid_int(struct field *f);        /* decimal within min..max -> num */
int valid_uuid(struct field *f);       /* canonical 8-4-4-4-12 hex, lowercased */
int valid_choice(struct field *f);     /* one of spec->choices */
int valid_local_path(struct field *f); /* "/..." but not "//", no scheme, no "\\" */
int valid_token(struct field *f);      /* base64url token characters */

struct req {
	struct arena *arena;
	const char *id;            /* request id for logs */
	const char *method;        /* "GET", "POST", ... */
	const char *path;          /* decoded path without query */
	const char *query;         /* raw query string ("" when none) */
	const char *remote_addr;
	const char *user_agent;
	const char *origin;        /* Origin header or NULL */
	const char *fetch_site;    /* Sec-Fetch-Site header or NULL */
	const char *host;          /* Host header or NULL */
	const char *content_type;
	int https;                 /* request came over TLS */
	const char *body;          /* raw body (NUL-terminated copy), "" when none */
	size_t body_len;
	char **envp;               /* the raw environment, for other headers */

	struct pair *params;       /* query then body pairs, in order */
	size_t nparams;
	size_t first_body_param;   /* params[first_body_param..] came from the body */
	struct pair *cookies;
	size_t ncookies;

	const struct field_spec *specs;
	size_t nspecs;
	struct field *fields;      /* nspecs entries */

	/* Route captures (e.g. slug, member id), filled by the router. */
	const char *capture[4];
	size_t ncapture;
};

/* Source of a request body: read up to n bytes, return count, 0 at end, -1 error. */
typedef long (*http_reader)(void *ctx, char *dst, size_t n);

/*
 * Fill req from the CGI/FastCGI environment and body. Returns 0, or the HTTP
 * status to answer with: 400 malformed (bad escapes, invalid UTF-8, too many
 * fields), 413 body too large, 415 unsupported body type.
 */
int http_parse(struct req *req, struct arena *a, char **envp,
               http_reader read, void *read_ctx);

/* Percent-decode s[0..len) ('+' as space when plus_space); NULL when malformed or not UTF-8. */
char *http_decode(struct arena *a, const char *s, size_t len, int plus_space);
/* Parse "a=1&b=2" (form or query) appending to req->params; 0 or 400. */
int http_parse_urlencoded(struct req *req, const char *s, size_t len);
/* Parse a Cookie header into req->cookies; never fails (bad pairs are skipped). */
void http_parse_cookies(struct req *req, const char *header);

/* Run the spec table over req->params, filling req->fields. */
void http_validate(struct req *req, const struct field_spec *specs, size_t n);

/*
 * The cross-site check of a state-changing request (Fetch standard,
 * "Origin" and "Sec-Fetch-Site"): 1 when it may proceed. Refused when
 * Sec-Fetch-Site says cross-site or same-site, or Origin names another
 * origin than own ("scheme://host[:port]"). An absent or "null" Origin
 * (no-referrer pages, old and text browsers, curl) passes only when
 * Sec-Fetch-Site is absent or same-origin. The CSRF token is checked too.
 */
int http_same_origin(const char *origin, const char *fetch_site, const char *own);

/* A CGI variable such as "HTTP_STRIPE_SIGNATURE", NULL when absent. */
const char *http_env(const struct req *req, const char *name);
/* First value of a parameter / cookie, NULL when absent. A request other
 * than GET or HEAD takes its parameters from the body only. */
const char *http_param(const struct req *req, const char *name);
const char *http_cookie(const struct req *req, const char *name);
/* Validated value of field k, NULL when missing or invalid. */
const char *http_field(const struct req *req, size_t k);
/* 1 when field k was submitted but failed validation. */
int http_field_invalid(const struct req *req, size_t k);

/*
 * A response under construction. Headers and body are buffered so that the
 * whole answer is written at once with a correct Content-Length.
 */
struct resp {
	int status;
	struct buf headers;        /* extra header lines, each ending in \r\n */
	struct buf body;
	int no_store;              /* Cache-Control: no-store (signed-in pages) */
	int token_in_url;          /* Referrer-Policy: strict-origin (a token is in the URL) */
	int https;                 /* served over TLS: Strict-Transport-Security */
	int streamed;              /* the body goes out in parts: no Content-Length, no body here */
	const char *content_type;
};

void resp_init(struct resp *w);
void resp_free(struct resp *w);
/* Start over with status; every response gets the security headers on write. */
void resp_begin(struct resp *w, int status, const char *content_type);
void resp_header(struct resp *w, const char *name, const char *value);
/* 303 See Other to a local location. */
void resp_redirect(struct resp *w, const char *location);
/* Serialise status line + security headers + headers + body into out. */
void resp_serialise(const struct resp *w, struct buf *out);
/* Reason phrase for a status code. */
const char *http_reason(int status);

#endif
