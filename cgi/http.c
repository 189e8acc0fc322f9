/* http.c: request parsing and validation, response serialisation */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* Value of NAME in a CGI environment array. */
static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	if (envp == NULL)
		return NULL;
	for (char **e = envp; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *http_env(const struct req *req, const char *name)
{
	return env_get(req->envp, name);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) into a new arena string; plus_space turns '+'
 * into ' ' (forms). NULL on a malformed escape or when the result is not
 * valid UTF-8 (which also excludes NUL bytes).
 */
char *http_decode(struct arena *a, const char *s, size_t len, int plus_space)
{
	char *out = arena_alloc(a, len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return NULL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus_space) {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (!utf8_valid(out, o))
		return NULL;
	return out;
}

/* Parse an application/x-www-form-urlencoded string; 0, or 400. */
int http_parse_urlencoded(struct req *req, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, eq = (size_t)-1;
		char *name, *value;

		while (i < len && s[i] != '&') {
			if (s[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		if (i > start) {
			size_t nend = eq == (size_t)-1 ? i : eq;

			if (req->nparams >= HTTP_MAX_FIELDS)
				return 400;
			name = http_decode(req->arena, s + start, nend - start, 1);
			value = eq == (size_t)-1 ? arena_strdup(req->arena, "")
			                         : http_decode(req->arena, s + eq + 1, i - eq - 1, 1);
			if (name == NULL || value == NULL || name[0] == '\0')
				return 400;
			req->params[req->nparams].name = name;
			req->params[req->nparams].value = value;
			req->nparams++;
		}
		i++;                   /* skip '&' */
	}
	return 0;
}

/* Parse "a=b; c=d"; pairs that are not name=value are skipped. */
void http_parse_cookies(struct req *req, const char *h)
{
	if (h == NULL)
		return;
	while (*h != '\0' && req->ncookies < HTTP_MAX_COOKIES) {
		const char *start, *eq, *end;

		while (*h == ' ' || *h == ';')
			h++;
		start = h;
		while (*h != '\0' && *h != ';')
			h++;
		end = h;
		while (end > start && end[-1] == ' ')
			end--;
		eq = memchr(start, '=', (size_t)(end - start));
		if (eq == NULL || eq == start)
			continue;
		{
			const char *v = eq + 1;
			size_t vlen = (size_t)(end - v);

			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (!utf8_valid(v, vlen) || !utf8_valid(start, (size_t)(eq - start)))
				continue;
			req->cookies[req->ncookies].name =
			    arena_strndup(req->arena, start, (size_t)(eq - start));
			req->cookies[req->ncookies].value = arena_strndup(req->arena, v, vlen);
			req->ncookies++;
		}
	}
}

static int is_form(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";

	return ct != NULL && strncasecmp(ct, form, sizeof(form) - 1) == 0 &&
	       (ct[sizeof(form) - 1] == '\0' || ct[sizeof(form) - 1] == ';');
}

/* The CGI variables a request is made of, found in one pass over the environment. */
enum {
	E_REQUEST_METHOD, E_REMOTE_ADDR, E_HTTP_USER_AGENT, E_HTTP_ORIGIN,
	E_HTTP_SEC_FETCH_SITE, E_HTTP_HOST, E_CONTENT_TYPE, E_HTTPS, E_REQUEST_URI,
	E_PATH_INFO, E_QUERY_STRING, E_HTTP_COOKIE, E_CONTENT_LENGTH, E__MAX
};

static const struct {
	const char *name;
	size_t len;
} env_names[E__MAX] = {
#define E(x) [E_##x] = { #x, sizeof(#x) - 1 }
	E(REQUEST_METHOD), E(REMOTE_ADDR), E(HTTP_USER_AGENT), E(HTTP_ORIGIN),
	E(HTTP_SEC_FETCH_SITE), E(HTTP_HOST), E(CONTENT_TYPE), E(HTTPS), E(REQUEST_URI),
	E(PATH_INFO), E(QUERY_STRING), E(HTTP_COOKIE), E(CONTENT_LENGTH),
#undef E
};

/* v[k]: the value of env_names[k] (the first one, as env_get), NULL when absent. */
static void env_scan(char **envp, const char *v[E__MAX])
{
	for (int k = 0; k < E__MAX; k++)
		v[k] = NULL;
	for (char **e = envp; e != NULL && *e != NULL; e++) {
		const char *s = *e, *eq = strchr(s, '=');
		size_t n;

		if (eq == NULL)
			continue;
		n = (size_t)(eq - s);
		for (int k = 0; k < E__MAX; k++) {
			if (env_names[k].len == n && v[k] == NULL &&
			    memcmp(s, env_names[k].name, n) == 0) {
				v[k] = eq + 1;
				break;
			}
		}
	}
}

/* Fill req from the environment and body; 0 or an HTTP status. */
int http_parse(struct req *req, struct arena *a, char **envp,
               http_reader read, void *read_ctx)
{
	const char *uri, *q, *clen, *env[E__MAX];
	int rc;

	memset(req, 0, sizeof(*req));
	req->arena = a;
	req->envp = envp;
	req->params = arena_alloc(a, sizeof(struct pair) * HTTP_MAX_FIELDS);
	req->cookies = arena_alloc(a, sizeof(struct pair) * HTTP_MAX_COOKIES);
	env_scan(envp, env);
	req->method = env[E_REQUEST_METHOD];
	if (req->method == NULL)
		req->method = "GET";
	req->remote_addr = env[E_REMOTE_ADDR];
	req->user_agent = env[E_HTTP_USER_AGENT];
	req->origin = env[E_HTTP_ORIGIN];
	req->fetch_site = env[E_HTTP_SEC_FETCH_SITE];
	req->host = env[E_HTTP_HOST];
	req->content_type = env[E_CONTENT_TYPE];
	q = env[E_HTTPS];
	req->https = q != NULL && (strcasecmp(q, "on") == 0 || strcmp(q, "1") == 0);
	req->body = "";
	req->path = "/";
	req->query = "";

	uri = env[E_REQUEST_URI];
	if (uri == NULL) {
		/* Plain CGI without REQUEST_URI: SCRIPT_NAME + PATH_INFO. */
		const char *pi = env[E_PATH_INFO];

		uri = pi != NULL && *pi != '\0' ? pi : "/";
		req->query = env[E_QUERY_STRING];
		if (req->query == NULL)
			req->query = "";
		/* PATH_INFO is already decoded (RFC 3875 4.1.5): check, do not decode again. */
		req->path = utf8_valid(uri, strlen(uri)) ? uri : NULL;
	} else {
		const char *qm = strchr(uri, '?');
		size_t plen = qm ? (size_t)(qm - uri) : strlen(uri);

		req->path = http_decode(a, uri, plen, 0);
		req->query = qm ? qm + 1 : "";
	}
	if (req->path == NULL || req->path[0] != '/')
		return 400;
	http_parse_cookies(req, env[E_HTTP_COOKIE]);
	if ((rc = http_parse_urlencoded(req, req->query, strlen(req->query))) != 0)
		return rc;
	req->first_body_param = req->nparams;

	clen = env[E_CONTENT_LENGTH];
	if (clen != NULL && *clen != '\0') {
		long n;
		char *body;
		size_t got = 0;

		if (parse_long(clen, 0, 1L << 40, &n) != 0)
			return 400;
		if (n > HTTP_MAX_BODY)
			return 413;
		body = arena_alloc(a, (size_t)n + 1);
		while (got < (size_t)n && read != NULL) {
			long r = read(read_ctx, body + got, (size_t)n - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (got != (size_t)n)
			return 400;
		body[n] = '\0';
		req->body = body;
		req->body_len = (size_t)n;
		if (n > 0 && is_form(req->content_type) &&
		    (rc = http_parse_urlencoded(req, body, (size_t)n)) != 0)
			return rc;
	}
	return 0;
}

/* Where a request's own parameters start: a POST's fields come from its body alone. */
static size_t first_param(const struct req *req)
{
	return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0
	       ? 0 : req->first_body_param;
}

const char *http_param(const struct req *req, const char *name)
{
	for (size_t i = first_param(req); i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *http_cookie(const struct req *req, const char *name)
{
	for (size_t i = 0; i < req->ncookies; i++)
		if (strcmp(req->cookies[i].name, name) == 0)
			return req->cookies[i].value;
	return NULL;
}

int http_same_origin(const char *origin, const char *fetch_site, const char *own)
{
	if (fetch_site != NULL &&
	    (strcasecmp(fetch_site, "cross-site") == 0 || strcasecmp(fetch_site, "same-site") == 0))
		return 0;
	if (origin != NULL && strcmp(origin, "null") != 0)
		return own != NULL && strcasecmp(origin, own) == 0;
	return fetch_site == NULL || strcasecmp(fetch_site, "same-origin") == 0;
}

/* Run the field table: each parameter named in it is checked and typed. */
void http_validate(struct req *req, const struct field_spec *specs, size_t n)
{
	req->specs = specs;
	req->nspecs = n;
	req->fields = arena_alloc(req->arena, sizeof(struct field) * (n ? n : 1));
	for (size_t k = 0; k < n; k++)
		req->fields[k].spec = &specs[k];
	for (size_t i = first_param(req); i < req->nparams; i++) {
		for (size_t k = 0; k < n; k++) {
			struct field *head = &req->fields[k], *f;
			size_t len;
			int ok;

			if (strcmp(req->params[i].name, specs[k].name) != 0)
				continue;
			if (head->state == FIELD_MISSING) {
				f = head;
			} else {
				struct field *t = head;

				f = arena_alloc(req->arena, sizeof(*f));
				f->spec = &specs[k];
				while (t->next != NULL)
					t = t->next;
				t->next = f;
			}
			f->raw = req->params[i].value;
			f->value = arena_strdup(req->arena, f->raw);
			len = strlen(f->raw);
			ok = len >= specs[k].minlen &&
			     (specs[k].maxlen == 0 || len <= specs[k].maxlen);
			if (ok)
				ok = specs[k].valid ? specs[k].valid(f) : valid_string(f);
			f->state = ok ? FIELD_VALID : FIELD_INVALID;
			/* One invalid value among repeats makes the whole field invalid. */
			if (!ok)
				head->state = FIELD_INVALID;
		}
	}
}

const char *http_field(const struct req *req, size_t k)
{
	if (k >= req->nspecs || req->fields[k].state != FIELD_VALID)
		return NULL;
	return req->fields[k].value;
}

int http_field_invalid(const struct req *req, size_t k)
{
	return k < req->nspecs && req->fields[k].state == FIELD_INVALID;
}

/* Validators. Length bounds were already checked by http_validate. */

int valid_string(struct field *f)
{
	(void)f;
	return 1;
}

int valid_line(struct field *f)
{
	for (const unsigned char *p = (const unsigned char *)f->raw; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int valid_email(struct field *f)
{
	const char *at = strrchr(f->raw, '@'), *p;
	size_t len = strlen(f->raw);

	if (at == NULL || at == f->raw || at[1] == '\0' || len > 254 ||
	    (size_t)(at - f->raw) > 64)
		return 0;
	for (p = f->raw; p < at; p++)
		if (!isalnum((unsigned char)*p) && strchr(".!#$%&'*+/=?^_`{|}~-", *p) == NULL)
			return 0;
	if (f->raw[0] == '.' || at[-1] == '.' || strstr(f->raw, "..") != NULL)
		return 0;
	if (strchr(at + 1, '.') == NULL || at[1] == '.' || at[1] == '-' ||
	    f->raw[len - 1] == '.' || f->raw[len - 1] == '-')
		return 0;
	for (p = at + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return 0;
	/* Normalise to lowercase: matching is case-insensitive everywhere. */
	for (char *v = f->value; *v; v++)
		*v = (char)tolower((unsigned char)*v);
	return 1;
}

int valid_int(struct field *f)
{
	return parse_long(f->raw, f->spec->min, f->spec->max, &f->num) == 0;
}

int valid_uuid(struct field *f)
{
	static const int dash[] = {8, 13, 18, 23};
	const char *s = f->raw;

	if (strlen(s) != 36)
		return 0;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (hexval(s[i]) < 0) {
			return 0;
		}
	}
	for (char *v = f->value; *v; v++)
		*v = (char)tolower((unsigned char)*v);
	return 1;
}

int valid_choice(struct field *f)
{
	if (f->spec->choices == NULL)
		return 0;
	for (const char *const *c = f->spec->choices; *c != NULL; c++)
		if (strcmp(*c, f->raw) == 0)
			return 1;
	return 0;
}

int valid_local_path(struct field *f)
{
	const char *s = f->raw;

	if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	for (; *s; s++)
		if (*s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int valid_token(struct field *f)
{
	for (const char *s = f->raw; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return f->raw[0] != '\0';
}

/* Responses. */

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/*
 * A worker answers one request after another: the buffers of the last
 * response are kept (up to RESP_KEEP bytes each) and handed to the next,
 * which then writes its page without growing a buffer from nothing.
 */
#define RESP_KEEP (1024 * 1024)
static struct buf spare_headers, spare_body;

static void take_spare(struct buf *b, struct buf *spare)
{
	*b = *spare;
	buf_init(spare);
	buf_reset(b);
}

static void keep_spare(struct buf *b, struct buf *spare)
{
	if (spare->data == NULL && b->cap <= RESP_KEEP) {
		*spare = *b;
		buf_init(b);
	} else {
		buf_free(b);
	}
}

void resp_init(struct resp *w)
{
	memset(w, 0, sizeof(*w));
	take_spare(&w->headers, &spare_headers);
	take_spare(&w->body, &spare_body);
	w->status = 200;
	w->content_type = "text/html; charset=utf-8";
}

void resp_free(struct resp *w)
{
	keep_spare(&w->headers, &spare_headers);
	keep_spare(&w->body, &spare_body);
}

/* Discard anything written so far and start a response with status. */
void resp_begin(struct resp *w, int status, const char *content_type)
{
	buf_reset(&w->headers);
	buf_reset(&w->body);
	w->status = status;
	w->content_type = content_type ? content_type : "text/html; charset=utf-8";
}

/* Add a header line; CR/LF in values would split headers, so they are dropped. */
void resp_header(struct resp *w, const char *name, const char *value)
{
	buf_puts(&w->headers, name);
	buf_puts(&w->headers, ": ");
	for (const char *p = value; *p; p++)
		if (*p != '\r' && *p != '\n')
			buf_putc(&w->headers, *p);
	buf_puts(&w->headers, "\r\n");
}

void resp_redirect(struct resp *w, const char *location)
{
	buf_reset(&w->body);
	w->status = 303;
	resp_header(w, "Location", location);
}

/* 1 when the headers set or clear the session cookie (plain or __Host-). */
static int sets_session(const struct buf *h)
{
	const char *p = h->data, *end = h->data + h->len;

	while (p != NULL && p < end) {
		if (strncasecmp(p, "Set-Cookie: session=", 20) == 0 ||
		    strncasecmp(p, "Set-Cookie: __Host-session=", 27) == 0)
			return 1;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return 0;
}

/*
 * The one place a response is opened: status, the security headers of every
 * answer, then the handler's headers and the body.
 */
void resp_serialise(const struct resp *w, struct buf *out)
{
	buf_puts(out, "Status: ");
	buf_put_ll(out, w->status);
	buf_putc(out, ' ');
	buf_puts(out, http_reason(w->status));
	buf_puts(out, "\r\nContent-Type: ");
	buf_puts(out, w->content_type);
	buf_puts(out, "\r\n");
	if (!w->streamed) {
		buf_puts(out, "Content-Length: ");
		buf_put_ll(out, (long long)w->body.len);
		buf_puts(out, "\r\n");
	}
	buf_puts(out,
	         "Content-Security-Policy: default-src 'none'; style-src 'self'; "
	         "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	         "base-uri 'none'\r\n"
	         "X-Content-Type-Options: nosniff\r\n"
	         "X-Frame-Options: DENY\r\n"
	         "Cross-Origin-Opener-Policy: same-origin\r\n");
	/*
	 * same-origin: other sites never learn our addresses. Where a token is
	 * in the address, strict-origin: no request, not even our own, carries
	 * it in Referer. Not no-referrer: under it browsers send "Origin: null"
	 * with form POSTs, and the cross-site check then rests on Sec-Fetch-Site.
	 */
	buf_puts(out, w->token_in_url ? "Referrer-Policy: strict-origin\r\n"
	                              : "Referrer-Policy: same-origin\r\n");
	if (w->no_store || sets_session(&w->headers))
		buf_puts(out, "Cache-Control: no-store\r\n");
	if (w->https)
		buf_puts(out, "Strict-Transport-Security: max-age=31536000\r\n");
	if (w->headers.len)
		buf_append(out, w->headers.data, w->headers.len);
	buf_puts(out, "\r\n");
	if (w->body.len && !w->streamed)
		buf_append(out, w->body.data, w->body.len);
}
