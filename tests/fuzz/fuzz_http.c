/* fuzz_http.c: libFuzzer target: parse arbitrary query, cookies and form body, then validate */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

/*
 * The input is "query 0xFF cookie 0xFF body"; missing parts are empty. A query
 * starting with '/' is the whole REQUEST_URI, one starting with '~' is
 * "PATH_INFO?QUERY_STRING" of plain CGI, anything else follows "/f?".
 */

static struct arena *arena;

enum { K_EMAIL, K_N, K_NAME, K_ROLE, K_ID, K_NEXT, K_TOKEN, K_LINE, K__MAX };

static const char *const roles[] = {"viewer", "member", "admin", NULL};

static const struct field_spec keys[K__MAX] = {
	[K_EMAIL] = { "email", valid_email, 1, 254, NULL, 0, 0 },
	[K_N]     = { "n", valid_int, 1, 20, NULL, -100, 100 },
	[K_NAME]  = { "name", NULL, 0, 16, NULL, 0, 0 },
	[K_ROLE]  = { "role", valid_choice, 1, 16, roles, 0, 0 },
	[K_ID]    = { "id", valid_uuid, 36, 36, NULL, 0, 0 },
	[K_NEXT]  = { "next", valid_local_path, 1, 512, NULL, 0, 0 },
	[K_TOKEN] = { "t", valid_token, 1, 64, NULL, 0, 0 },
	[K_LINE]  = { "line", valid_line, 0, 0, NULL, 0, 0 },
};

struct membody {
	const char *data;
	size_t len, pos;
};

/* Hands out the body in reads of at most 7 bytes, to exercise reassembly. */
static long mem_read(void *ctx, char *dst, size_t n)
{
	struct membody *m = ctx;
	size_t k = m->len - m->pos;

	if (k > n)
		k = n;
	if (k > 7)
		k = 7;
	memcpy(dst, m->data + m->pos, k);
	m->pos += k;
	return (long)k;
}

/* An exact-size heap copy, so that reads past the end are caught. */
static char *copy(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char *env_var(const char *name, const char *value, size_t vlen)
{
	size_t n = strlen(name);
	char *s = malloc(n + 1 + vlen + 1);

	if (s == NULL)
		abort();
	memcpy(s, name, n);
	s[n] = '=';
	memcpy(s + n + 1, value, vlen);
	s[n + 1 + vlen] = '\0';
	return s;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_pairs(const struct pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		check(p[i].name != NULL && p[i].value != NULL);
		check(p[i].name[0] != '\0');
		check(utf8_valid(p[i].name, strlen(p[i].name)));
		check(utf8_valid(p[i].value, strlen(p[i].value)));
	}
}

static void check_fields(const struct req *req)
{
	for (size_t k = 0; k < K__MAX; k++) {
		const struct field *head = &req->fields[k];
		int any_invalid = 0;

		check(head->spec == &keys[k]);
		if (head->state == FIELD_MISSING) {
			check(head->raw == NULL && head->next == NULL);
			check(http_field(req, k) == NULL && !http_field_invalid(req, k));
			continue;
		}
		for (const struct field *f = head; f != NULL; f = f->next) {
			size_t len;

			check(f->spec == &keys[k] && f->raw != NULL && f->value != NULL);
			len = strlen(f->raw);
			check(strlen(f->value) == len);
			if (f != head)
				check(f->state == FIELD_VALID || f->state == FIELD_INVALID);
			if (f->state == FIELD_INVALID || (f == head && head->state == FIELD_INVALID))
				any_invalid = 1;
			if (f->state != FIELD_VALID)
				continue;
			check(len >= keys[k].minlen && (keys[k].maxlen == 0 || len <= keys[k].maxlen));
			if (k == K_N)
				check(f->num >= keys[k].min && f->num <= keys[k].max);
			if (k == K_EMAIL || k == K_ID)
				for (const char *c = f->value; *c; c++)
					check(!(*c >= 'A' && *c <= 'Z'));
			if (k == K_NEXT)
				check(f->value[0] == '/' && f->value[1] != '/' && f->value[1] != '\\' &&
				      strchr(f->value, '\\') == NULL);
			if (k == K_EMAIL || k == K_NEXT || k == K_LINE || k == K_TOKEN)
				for (const char *c = f->value; *c; c++)
					check((unsigned char)*c >= 0x20 && *c != 0x7f);
		}
		/* one bad value among repeats makes the whole field invalid */
		check((head->state == FIELD_INVALID) == any_invalid);
		check((http_field(req, k) != NULL) == (head->state == FIELD_VALID));
	}
}

/* A header built from untrusted text stays one line. */
static void check_response(const char *value)
{
	struct resp w;
	struct buf out;
	const char *sep;
	size_t lines = 0;

	resp_init(&w);
	buf_init(&out);
	resp_header(&w, "X-Echo", value);
	buf_html(&w.body, value);
	check(strpbrk(w.body.data ? w.body.data : "", "<>\"'") == NULL);
	resp_serialise(&w, &out);
	sep = strstr(out.data, "\r\n\r\n");
	check(sep != NULL);
	for (const char *p = out.data; p < sep + 2; p++)
		if (*p == '\n') {
			check(p > out.data && p[-1] == '\r');
			lines++;
		}
	/* Status, Content-Type, Content-Length, CSP, nosniff, frame, COOP, referrer, X-Echo */
	check(lines == 9);
	resp_free(&w);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *p1, *p2;
	char *query, *cookie, *body, *env[8], clen[32];
	size_t n = 0, qlen;
	struct membody m;
	struct req req;
	int rc;

	if (arena == NULL)
		arena = arena_new();
	arena_reset(arena);

	p1 = memchr(data, 0xFF, size);
	p2 = p1 ? memchr(p1 + 1, 0xFF, (size_t)(end - p1 - 1)) : NULL;
	qlen = p1 ? (size_t)(p1 - data) : size;
	query = copy(data, qlen);
	cookie = p1 ? copy(p1 + 1, (size_t)((p2 ? p2 : end) - p1 - 1)) : copy(data, 0);
	body = p2 ? copy(p2 + 1, (size_t)(end - p2 - 1)) : copy(data, 0);
	m = (struct membody){ body, p2 ? (size_t)(end - p2 - 1) : 0, 0 };

	env[n++] = env_var("REQUEST_METHOD", "POST", 4);
	if (query[0] == '/') {
		env[n++] = env_var("REQUEST_URI", query, strlen(query));
	} else if (query[0] == '~') {
		const char *q = strchr(query, '?');
		size_t plen = q ? (size_t)(q - query - 1) : strlen(query + 1);

		env[n++] = env_var("PATH_INFO", query + 1, plen);
		if (q)
			env[n++] = env_var("QUERY_STRING", q + 1, strlen(q + 1));
	} else {
		size_t len = strlen("REQUEST_URI=/f?") + strlen(query) + 1;
		char *uri = malloc(len);

		if (uri == NULL)
			abort();
		snprintf(uri, len, "REQUEST_URI=/f?%s", query);
		env[n++] = uri;
	}
	env[n++] = env_var("CONTENT_TYPE", "application/x-www-form-urlencoded", 33);
	snprintf(clen, sizeof(clen), "%zu", m.len);
	env[n++] = env_var("CONTENT_LENGTH", clen, strlen(clen));
	env[n++] = env_var("HTTP_COOKIE", cookie, strlen(cookie));
	env[n] = NULL;

	rc = http_parse(&req, arena, env, mem_read, &m);
	check(rc == 0 || rc == 400 || rc == 413);
	check(req.nparams <= HTTP_MAX_FIELDS && req.ncookies <= HTTP_MAX_COOKIES);
	if (rc == 0) {
		check(req.path != NULL && req.path[0] == '/');
		check(req.body_len == m.len && memcmp(req.body, body, m.len) == 0);
		check_pairs(req.params, req.nparams);
		check_pairs(req.cookies, req.ncookies);
		http_validate(&req, keys, K__MAX);
		check_fields(&req);
		for (size_t i = 0; i < req.nparams && i < 4; i++)
			check_response(req.params[i].value);
	}

	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(query);
	free(cookie);
	free(body);
	return 0;
}
