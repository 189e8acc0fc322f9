/* test_http.c: unit tests for http.c (request parsing, validation, responses) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FORM "application/x-www-form-urlencoded"

/* Tests that need an arena get a fresh one in *state; teardown frees it even on failure. */
static int arena_setup(void **state)
{
	*state = arena_new();
	return 0;
}

static int arena_teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* A request body in memory, handed out at most chunk bytes per read (0: all). */
struct membody {
	const char *data;
	size_t len, pos, chunk;
	int reads;
	int fail;              /* return -1 instead of data */
};

static long mem_read(void *ctx, char *dst, size_t n)
{
	struct membody *m = ctx;
	size_t k = m->len - m->pos;

	m->reads++;
	if (m->fail)
		return -1;
	if (k > n)
		k = n;
	if (m->chunk && k > m->chunk)
		k = m->chunk;
	memcpy(dst, m->data + m->pos, k);
	m->pos += k;
	return (long)k;
}

/*
 * A POST of body to uri with the given content type, as a FastCGI server
 * would pass it. content_length NULL means "strlen(body)", body NULL none.
 */
struct call {
	const char *uri;
	const char *content_type;
	const char *body;
	const char *content_length;
	const char *cookie;
};

static int parse_call(struct req *req, struct arena *a, const struct call *c, struct membody *m)
{
	char *env[8];
	size_t n = 0;

	env[n++] = "REQUEST_METHOD=POST";
	if (c->uri != NULL)
		env[n++] = arena_printf(a, "REQUEST_URI=%s", c->uri);
	if (c->content_type != NULL)
		env[n++] = arena_printf(a, "CONTENT_TYPE=%s", c->content_type);
	if (c->content_length != NULL)
		env[n++] = arena_printf(a, "CONTENT_LENGTH=%s", c->content_length);
	else if (c->body != NULL)
		env[n++] = arena_printf(a, "CONTENT_LENGTH=%zu", strlen(c->body));
	if (c->cookie != NULL)
		env[n++] = arena_printf(a, "HTTP_COOKIE=%s", c->cookie);
	env[n] = NULL;
	{
		/* the environment must outlive the request: copy it into the arena */
		char **envp = arena_alloc(a, sizeof(env));

		memcpy(envp, env, sizeof(env));
		memset(m, 0, sizeof(*m));
		m->data = c->body ? c->body : "";
		m->len = strlen(m->data);
		return http_parse(req, a, envp, mem_read, m);
	}
}

/* "name=value;" for each pair, to compare whole lists at once. */
static const char *pairs_text(struct arena *a, const struct pair *p, size_t n)
{
	struct buf b;
	const char *s;

	buf_init(&b);
	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s=%s;", p[i].name, p[i].value);
	s = arena_strdup(a, b.data);
	buf_free(&b);
	return s;
}

struct pcase {
	const char *what;
	const char *uri;
	const char *body;          /* form body, NULL for none */
	int status;
	const char *params;        /* when status is 0 */
};

static void http_parse_reads_query_and_form_pairs_in_order(void **state)
{
	static const struct pcase cases[] = {
		{ "query then body", "/x?a=1", "b=2&c=3", 0, "a=1;b=2;c=3;" },
		{ "query only", "/x?a=1&b=two", NULL, 0, "a=1;b=two;" },
		{ "body only", "/x", "a=1", 0, "a=1;" },
		{ "no parameters", "/x", NULL, 0, "" },
		{ "empty query", "/x?", "", 0, "" },
		{ "plus is space", "/x?q=a+b+c", "n=d+e", 0, "q=a b c;n=d e;" },
		{ "plus in name", "/x?a+b=1", NULL, 0, "a b=1;" },
		{ "percent decoding", "/x?%41=%41%42", "%61=%62", 0, "A=AB;a=b;" },
		{ "lower-case hex", "/x?a=%2f%2F", NULL, 0, "a=//;" },
		{ "encoded plus, ampersand, equals", "/x?a=%2B%26%3D", NULL, 0, "a=+&=;" },
		{ "encoded percent", "/x?a=100%25", NULL, 0, "a=100%;" },
		{ "utf-8 escapes", "/x?n=caf%C3%A9", NULL, 0, "n=caf\xc3\xa9;" },
		{ "four-byte utf-8", "/x?e=%F0%9F%98%80", NULL, 0, "e=\xf0\x9f\x98\x80;" },
		{ "empty segments skipped", "/x?&a=1&&b=2&", "&&", 0, "a=1;b=2;" },
		{ "name without '='", "/x?flag&a=1", NULL, 0, "flag=;a=1;" },
		{ "empty value", "/x?a=", NULL, 0, "a=;" },
		{ "second '=' is value", "/x?a=b=c", NULL, 0, "a=b=c;" },
		{ "repeated names kept", "/x?t=1&t=2", "t=3", 0, "t=1;t=2;t=3;" },
		{ "bad escape %zz", "/x?a=%zz", NULL, 400, NULL },
		{ "bad escape %4", "/x?a=%4", NULL, 400, NULL },
		{ "bad escape %4 mid-value", "/x?a=%4&b=1", NULL, 400, NULL },
		{ "trailing %", "/x?a=1%", NULL, 400, NULL },
		{ "lone %", "/x?a=%", NULL, 400, NULL },
		{ "half-hex %g1", "/x?a=%g1", NULL, 400, NULL },
		{ "bad escape in name", "/x?%zz=1", NULL, 400, NULL },
		{ "bad escape in body", "/x", "a=%zz", 400, NULL },
		{ "trailing % in body", "/x", "a=1%", 400, NULL },
		{ "overlong %C0%AF", "/x?p=%C0%AF", NULL, 400, NULL },
		{ "surrogate %ED%A0%80", "/x?p=%ED%A0%80", NULL, 400, NULL },
		{ "byte %FF", "/x?p=%FF", NULL, 400, NULL },
		{ "truncated %C3", "/x?p=%C3", NULL, 400, NULL },
		{ "beyond U+10FFFF", "/x?p=%F4%90%80%80", NULL, 400, NULL },
		{ "raw invalid byte", "/x?p=\xff", NULL, 400, NULL },
		{ "invalid utf-8 in body", "/x", "p=%C0%AF", 400, NULL },
		{ "invalid utf-8 in name", "/x?%FF=1", NULL, 400, NULL },
		{ "NUL in value", "/x?a=b%00c", NULL, 400, NULL },
		{ "NUL in name", "/x?a%00=1", NULL, 400, NULL },
		{ "NUL in body", "/x", "a=%00", 400, NULL },
		{ "pair without a name", "/x?=1", NULL, 400, NULL },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct call c = { cases[i].uri, FORM, cases[i].body, NULL, NULL };
		struct membody m;
		struct req req;
		int rc;

		arena_reset(a);
		rc = parse_call(&req, a, &c, &m);
		if (rc != cases[i].status)
			fail_msg("%s: status %d, want %d", cases[i].what, rc, cases[i].status);
		if (rc == 0 && strcmp(pairs_text(a, req.params, req.nparams), cases[i].params) != 0)
			fail_msg("%s: params \"%s\", want \"%s\"", cases[i].what,
			         pairs_text(a, req.params, req.nparams), cases[i].params);
	}
}

struct pathcase {
	const char *uri;
	int status;
	const char *path, *query;
};

static void http_parse_decodes_the_path_and_keeps_the_raw_query(void **state)
{
	static const struct pathcase cases[] = {
		{ "/", 0, "/", "" },
		{ "/x", 0, "/x", "" },
		{ "/x?a=1", 0, "/x", "a=1" },
		{ "/w/acme/team?x=%41", 0, "/w/acme/team", "x=%41" },
		{ "/a%20b/c", 0, "/a b/c", "" },
		{ "/a+b", 0, "/a+b", "" },             /* '+' is only a space in forms */
		{ "/caf%C3%A9", 0, "/caf\xc3\xa9", "" },
		{ "/x?", 0, "/x", "" },
		{ "/x?a?b", 0, "/x", "a?b" },
		{ "x", 400, NULL, NULL },              /* no leading slash */
		{ "", 400, NULL, NULL },
		{ "?a=1", 400, NULL, NULL },
		{ "http://evil.com/x", 400, NULL, NULL },
		{ "/%zz", 400, NULL, NULL },
		{ "/a%", 400, NULL, NULL },
		{ "/%C0%AF", 400, NULL, NULL },
		{ "/a%00b", 400, NULL, NULL },
		{ "/\xff", 400, NULL, NULL },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct call c = { cases[i].uri, NULL, NULL, NULL, NULL };
		struct membody m;
		struct req req;
		int rc;

		arena_reset(a);
		rc = parse_call(&req, a, &c, &m);
		if (rc != cases[i].status)
			fail_msg("\"%s\": status %d, want %d", cases[i].uri, rc, cases[i].status);
		if (rc == 0) {
			assert_string_equal(req.path, cases[i].path);
			assert_string_equal(req.query, cases[i].query);
		}
	}
}

static void http_parse_accepts_exactly_max_fields(void **state)
{
	struct arena *a = *state;
	struct buf q, body;
	struct membody m;
	struct req req;
	int rc;

	/* 60 in the query and 40 in the body: 100 in all is fine */
	buf_init(&q);
	buf_init(&body);
	buf_puts(&q, "/x?");
	for (int i = 0; i < 60; i++)
		buf_printf(&q, "%sq%d=%d", i ? "&" : "", i, i);
	for (int i = 0; i < 40; i++)
		buf_printf(&body, "%sb%d=%d", i ? "&" : "", i, i);
	{
		struct call c = { arena_strdup(a, q.data), FORM, arena_strdup(a, body.data), NULL, NULL };

		buf_free(&q);
		buf_free(&body);
		rc = parse_call(&req, a, &c, &m);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(req.nparams, HTTP_MAX_FIELDS);
	assert_string_equal(http_param(&req, "b39"), "39");
	/* A POST reads its body; the query's pairs are a GET's. */
	assert_null(http_param(&req, "q0"));
	req.method = "GET";
	assert_string_equal(http_param(&req, "q0"), "0");
	assert_string_equal(http_param(&req, "q59"), "59");
}

static void http_parse_rejects_more_than_max_fields(void **state)
{
	static const struct {
		int in_query, in_body;
	} cases[] = {
		{ HTTP_MAX_FIELDS + 1, 0 },
		{ 0, HTTP_MAX_FIELDS + 1 },
		{ 60, 41 },
		{ 1000, 0 },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct buf q, body;
		struct membody m;
		struct req req;
		struct call c;

		arena_reset(a);
		buf_init(&q);
		buf_init(&body);
		buf_puts(&q, "/x?");
		buf_puts(&body, "");
		for (int k = 0; k < cases[i].in_query; k++)
			buf_printf(&q, "%sq=%d", k ? "&" : "", k);
		for (int k = 0; k < cases[i].in_body; k++)
			buf_printf(&body, "%sb=%d", k ? "&" : "", k);
		c = (struct call){ arena_strdup(a, q.data), FORM, arena_strdup(a, body.data), NULL, NULL };
		buf_free(&q);
		buf_free(&body);
		if (parse_call(&req, a, &c, &m) != 400)
			fail_msg("%d query + %d body fields were not refused", cases[i].in_query,
			         cases[i].in_body);
	}
}

static void http_parse_accepts_a_body_of_exactly_64_kib(void **state)
{
	struct arena *a = *state;
	char *body = arena_alloc(a, HTTP_MAX_BODY + 1);
	struct call c = { "/x", FORM, body, NULL, NULL };
	struct membody m;
	struct req req;

	memcpy(body, "a=", 2);
	memset(body + 2, 'x', HTTP_MAX_BODY - 2);
	assert_int_equal(parse_call(&req, a, &c, &m), 0);
	assert_int_equal(req.body_len, HTTP_MAX_BODY);
	assert_int_equal(strlen(http_param(&req, "a")), HTTP_MAX_BODY - 2);
}

static void http_parse_refuses_a_body_over_64_kib_without_reading_it(void **state)
{
	static const char *const lengths[] = {"65537", "1000000", "1099511627776"};
	struct arena *a = *state;

	for (size_t i = 0; i < N(lengths); i++) {
		struct call c = { "/x", FORM, "a=1", lengths[i], NULL };
		struct membody m;
		struct req req;

		arena_reset(a);
		assert_int_equal(parse_call(&req, a, &c, &m), 413);
		assert_int_equal(m.reads, 0);
	}
}

static void http_parse_rejects_a_content_length_that_is_not_a_number(void **state)
{
	static const char *const junk[] = {
		"abc", "-1", "1.5", " 3", "+3", "3 ", "0x3", "3a", "1e2", "--3",
		"99999999999999999999999",
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(junk); i++) {
		struct call c = { "/x", FORM, "a=1", junk[i], NULL };
		struct membody m;
		struct req req;
		int rc;

		arena_reset(a);
		rc = parse_call(&req, a, &c, &m);
		if (rc != 400)
			fail_msg("CONTENT_LENGTH \"%s\": status %d, want 400", junk[i], rc);
		assert_int_equal(m.reads, 0);
	}
}

static void http_parse_treats_empty_or_zero_content_length_as_no_body(void **state)
{
	static const char *const lengths[] = {"", "0"};
	struct arena *a = *state;

	for (size_t i = 0; i < N(lengths); i++) {
		struct call c = { "/x", FORM, "a=1", lengths[i], NULL };
		struct membody m;
		struct req req;

		arena_reset(a);
		assert_int_equal(parse_call(&req, a, &c, &m), 0);
		assert_string_equal(req.body, "");
		assert_int_equal(req.body_len, 0);
		assert_int_equal(req.nparams, 0);
	}
}

static void http_parse_rejects_a_body_shorter_than_content_length(void **state)
{
	struct arena *a = *state;
	struct call c = { "/x", FORM, "a=1", "10", NULL };
	struct membody m;
	struct req req;

	assert_int_equal(parse_call(&req, a, &c, &m), 400);
	assert_true(m.reads >= 1);
}

static void http_parse_rejects_a_body_when_the_reader_fails(void **state)
{
	struct arena *a = *state;
	char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_TYPE=" FORM,
	               "CONTENT_LENGTH=3", NULL};
	struct membody m = { "a=1", 3, 0, 0, 0, 1 };
	struct req req;

	assert_int_equal(http_parse(&req, a, env, mem_read, &m), 400);
	/* no reader at all is the same as an empty body */
	assert_int_equal(http_parse(&req, a, env, NULL, NULL), 400);
}

static void http_parse_assembles_a_body_from_short_reads(void **state)
{
	struct arena *a = *state;
	char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x?q=0", "CONTENT_TYPE=" FORM,
	               "CONTENT_LENGTH=23", NULL};
	const char *body = "name=Ada+Lovelace&n=%31";
	struct membody m = { body, strlen(body), 0, 2, 0, 0 };
	struct req req;

	assert_int_equal(strlen(body), 23);
	assert_int_equal(http_parse(&req, a, env, mem_read, &m), 0);
	assert_true(m.reads >= 12);
	assert_string_equal(req.body, body);
	assert_string_equal(pairs_text(a, req.params, req.nparams), "q=0;name=Ada Lovelace;n=1;");
}

static void http_parse_leaves_other_content_types_unparsed_but_available(void **state)
{
	static const struct {
		const char *content_type;
		int parsed;
	} cases[] = {
		{ FORM, 1 },
		{ FORM "; charset=UTF-8", 1 },
		{ "APPLICATION/X-WWW-FORM-URLENCODED", 1 },
		{ "application/json", 0 },
		{ "text/plain", 0 },
		{ "multipart/form-data; boundary=x", 0 },
		{ FORM "x", 0 },
		{ "application/x-www-form", 0 },
		{ NULL, 0 },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct call c = { "/x?q=1", cases[i].content_type, "a=1&b=%zz", NULL, NULL };
		struct membody m;
		struct req req;
		int rc;

		arena_reset(a);
		rc = parse_call(&req, a, &c, &m);
		if (cases[i].parsed) {
			/* parsing happened: the bad escape in the body is caught */
			assert_int_equal(rc, 400);
			continue;
		}
		if (rc != 0)
			fail_msg("content type \"%s\": status %d", cases[i].content_type, rc);
		assert_string_equal(req.body, "a=1&b=%zz");
		assert_int_equal(req.body_len, 9);
		assert_string_equal(pairs_text(a, req.params, req.nparams), "q=1;");
		assert_null(http_param(&req, "a"));
	}
}

static void http_parse_keeps_a_binary_body_with_its_length(void **state)
{
	struct arena *a = *state;
	char *env[] = {"REQUEST_URI=/hook", "CONTENT_TYPE=application/octet-stream",
	               "CONTENT_LENGTH=5", NULL};
	struct membody m = { "a\0b\xff\n", 5, 0, 0, 0, 0 };
	struct req req;

	assert_int_equal(http_parse(&req, a, env, mem_read, &m), 0);
	assert_int_equal(req.body_len, 5);
	assert_memory_equal(req.body, "a\0b\xff\n", 5);
	assert_int_equal(req.body[5], '\0');
	assert_string_equal(req.method, "GET");     /* REQUEST_METHOD absent */
}

static void http_parse_falls_back_to_path_info_and_query_string(void **state)
{
	static const struct {
		const char *path_info, *query_string;
		int status;
		const char *path, *query, *params;
	} cases[] = {
		{ "/team", "a=1&b=%41", 0, "/team", "a=1&b=%41", "a=1;b=A;" },
		{ NULL, NULL, 0, "/", "", "" },
		{ "/w/acme", NULL, 0, "/w/acme", "", "" },
		{ "", "", 0, "/", "", "" },
		/* PATH_INFO arrives already decoded (RFC 3875 4.1.5): no second decoding */
		{ "/100%", NULL, 0, "/100%", "", "" },
		{ "/a%41", NULL, 0, "/a%41", "", "" },
		{ "/caf\xc3\xa9", NULL, 0, "/caf\xc3\xa9", "", "" },
		{ "team", NULL, 400, NULL, NULL, NULL },
		{ "/\xc0\xaf", NULL, 400, NULL, NULL, NULL },
		{ "/x", "a=%zz", 400, NULL, NULL, NULL },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		char *env[4];
		size_t n = 0;
		struct req req;
		int rc;

		arena_reset(a);
		env[n++] = "REQUEST_METHOD=GET";
		if (cases[i].path_info)
			env[n++] = arena_printf(a, "PATH_INFO=%s", cases[i].path_info);
		if (cases[i].query_string)
			env[n++] = arena_printf(a, "QUERY_STRING=%s", cases[i].query_string);
		env[n] = NULL;
		rc = http_parse(&req, a, env, NULL, NULL);
		if (rc != cases[i].status)
			fail_msg("case %zu: status %d, want %d", i, rc, cases[i].status);
		if (rc != 0)
			continue;
		assert_string_equal(req.path, cases[i].path);
		assert_string_equal(req.query, cases[i].query);
		assert_string_equal(pairs_text(a, req.params, req.nparams), cases[i].params);
	}
}

static void http_parse_sets_https_only_for_on_or_1(void **state)
{
	static const struct {
		const char *https;
		int want;
	} cases[] = {
		{ "HTTPS=on", 1 }, { "HTTPS=ON", 1 }, { "HTTPS=1", 1 },
		{ "HTTPS=off", 0 }, { "HTTPS=", 0 }, { "HTTPS=0", 0 }, { "HTTPSX=on", 0 },
		{ NULL, 0 },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		char *env[] = {"REQUEST_URI=/", (char *)cases[i].https, NULL};
		struct req req;

		arena_reset(a);
		assert_int_equal(http_parse(&req, a, env, NULL, NULL), 0);
		if (req.https != cases[i].want)
			fail_msg("%s: https %d", cases[i].https ? cases[i].https : "(none)", req.https);
	}
}

/* The cross-site check's whole decision table (Origin x Sec-Fetch-Site). */
static void http_same_origin_follows_origin_and_sec_fetch_site(void **state)
{
	static const struct {
		const char *origin, *fetch_site;
		int want;
	} cases[] = {
		/* own origin */
		{ "http://example.com", NULL, 1 },
		{ "http://example.com", "same-origin", 1 },
		{ "HTTP://Example.COM", "same-origin", 1 },
		{ "http://example.com", "none", 1 },
		{ "http://example.com", "same-site", 0 },
		{ "http://example.com", "cross-site", 0 },
		/* absent Origin: curl, text browsers, old browsers */
		{ NULL, NULL, 1 },
		{ NULL, "same-origin", 1 },
		{ NULL, "none", 0 },
		{ NULL, "same-site", 0 },
		{ NULL, "cross-site", 0 },
		/* "null": a form POST from a no-referrer page */
		{ "null", NULL, 1 },
		{ "null", "same-origin", 1 },
		{ "null", "none", 0 },
		{ "null", "same-site", 0 },
		{ "null", "cross-site", 0 },
		{ "null", "Cross-Site", 0 },
		/* another origin, whatever Sec-Fetch-Site claims */
		{ "http://evil.example", NULL, 0 },
		{ "http://evil.example", "same-origin", 0 },
		{ "https://example.com", "same-origin", 0 },
		{ "http://example.com:8080", "same-origin", 0 },
		{ "http://example.com.evil.example", NULL, 0 },
		{ "http://sub.example.com", "same-site", 0 },
		{ "", NULL, 0 },
		{ "NULL", NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		int got = http_same_origin(cases[i].origin, cases[i].fetch_site, "http://example.com");

		if (got != cases[i].want)
			fail_msg("Origin %s, Sec-Fetch-Site %s: %d, want %d",
			         cases[i].origin ? cases[i].origin : "(absent)",
			         cases[i].fetch_site ? cases[i].fetch_site : "(absent)", got, cases[i].want);
	}
	/* Without a Host of our own, only an absent or null Origin can match. */
	assert_int_equal(http_same_origin("http://example.com", NULL, NULL), 0);
	assert_int_equal(http_same_origin(NULL, "same-origin", NULL), 1);
}

/* A POST's fields come from its body: a csrf_token in the query string does not count. */
static void http_param_on_a_post_reads_the_body_only(void **state)
{
	static const struct field_spec specs[] = { { "role", valid_line, 1, 10, NULL, 0, 0 } };
	struct arena *a = *state;
	struct call c = { "/x?csrf_token=q&role=owner", FORM, "name=b", NULL, NULL };
	struct membody m;
	struct req req;

	assert_int_equal(parse_call(&req, a, &c, &m), 0);
	assert_int_equal(req.nparams, 3);
	assert_null(http_param(&req, "csrf_token"));
	assert_string_equal(http_param(&req, "name"), "b");
	http_validate(&req, specs, 1);
	assert_null(http_field(&req, 0));
	assert_int_equal(http_field_invalid(&req, 0), 0);
	/* The same query on a GET is the request's own. */
	req.method = "GET";
	assert_string_equal(http_param(&req, "csrf_token"), "q");
	http_validate(&req, specs, 1);
	assert_string_equal(http_field(&req, 0), "owner");
}

static void http_parse_copies_request_headers_from_the_environment(void **state)
{
	struct arena *a = *state;
	char *env[] = {
		"REQUEST_METHOD=DELETE", "REQUEST_URI=/x", "REMOTE_ADDR=192.0.2.1",
		"HTTP_USER_AGENT=test/1.0", "HTTP_ORIGIN=https://example.com", "HTTP_SEC_FETCH_SITE=same-origin",
		"HTTP_HOSTNAME=wrong", "HTTP_HOST=example.com", "HTTP_STRIPE_SIGNATURE=t=1,v1=ab",
		"NOEQUALS", NULL,
	};
	struct req req;

	assert_int_equal(http_parse(&req, a, env, NULL, NULL), 0);
	assert_string_equal(req.method, "DELETE");
	assert_string_equal(req.remote_addr, "192.0.2.1");
	assert_string_equal(req.user_agent, "test/1.0");
	assert_string_equal(req.origin, "https://example.com");
	assert_string_equal(req.fetch_site, "same-origin");
	assert_string_equal(req.host, "example.com");
	assert_null(req.content_type);
	assert_string_equal(http_env(&req, "HTTP_STRIPE_SIGNATURE"), "t=1,v1=ab");
	assert_null(http_env(&req, "HTTP_STRIPE"));
	assert_null(http_env(&req, "NOEQUALS"));
	assert_null(http_env(&req, "ABSENT"));
	assert_string_equal(req.body, "");
	assert_int_equal(req.body_len, 0);
	assert_int_equal(req.ncookies, 0);
}

/* The request's variables are read in one pass: the first of a repeated one
 * counts, names must match whole (not as prefixes either way), and every one
 * of them is found wherever it sits in the environment. */
static void http_parse_reads_each_variable_once_first_value_whole_names(void **state)
{
	struct arena *a = *state;
	char *env[] = {
		"=empty-name", "HTTP_COOKIE_X=no", "HTTP_COOKI=no", "HTTP_COOKIE=session=abc; x=1",
		"HTTP_COOKIE=session=second", "CONTENT_TYPE=application/x-www-form-urlencoded",
		"CONTENT_TYPEX=no", "HTTPS=on", "HTTPS=off", "REQUEST_METHOD=POST",
		"REQUEST_METHOD=GET", "REQUEST_URI=/a%20b?q=1", "REQUEST_URI=/other",
		"CONTENT_LENGTH=3", "REMOTE_ADDR=198.51.100.7", "HTTP_HOST=h.example",
		"HTTP_SEC_FETCH_SITE=cross-site", "HTTP_ORIGIN=null", "HTTP_USER_AGENT=ua",
		"PATH_INFO=/ignored", "QUERY_STRING=ignored=1", NULL,
	};
	struct membody m = { "a=b", 3, 0, 0, 0, 0 };
	struct req req;

	assert_int_equal(http_parse(&req, a, env, mem_read, &m), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.path, "/a b");
	assert_string_equal(req.query, "q=1");
	assert_int_equal(req.https, 1);
	assert_string_equal(req.content_type, "application/x-www-form-urlencoded");
	assert_string_equal(req.remote_addr, "198.51.100.7");
	assert_string_equal(req.host, "h.example");
	assert_string_equal(req.fetch_site, "cross-site");
	assert_string_equal(req.origin, "null");
	assert_string_equal(req.user_agent, "ua");
	assert_int_equal(req.ncookies, 2);
	assert_string_equal(http_cookie(&req, "session"), "abc");
	assert_int_equal(req.body_len, 3);
	assert_string_equal(http_param(&req, "a"), "b");
	assert_null(http_param(&req, "q"));          /* a POST reads its body only */
	assert_string_equal(http_env(&req, "HTTPS"), "on");
}

struct ccase {
	const char *header;
	const char *cookies;
};

static void http_parse_cookies_reads_name_value_pairs_and_skips_bad_ones(void **state)
{
	static const struct ccase cases[] = {
		{ "a=1; b=2", "a=1;b=2;" },
		{ "a=1;b=2", "a=1;b=2;" },
		{ "   a=1   ;   b=2   ", "a=1;b=2;" },
		{ "sid=abc123", "sid=abc123;" },
		{ "a=\"quoted value\"; b=2", "a=quoted value;b=2;" },
		{ "a=\"\"", "a=;" },
		{ "a=\"", "a=\";" },                        /* unbalanced quote kept */
		{ "a=", "a=;" },
		{ "a=b=c", "a=b=c;" },
		{ "flag; a=1", "a=1;" },                    /* missing '=' */
		{ "=v; a=1", "a=1;" },                      /* missing name */
		{ "a=1; flag", "a=1;" },
		{ "", "" },
		{ ";;; ;", "" },
		{ "a=\xff; b=2", "b=2;" },                  /* invalid UTF-8 skipped */
		{ "\xc0\xaf=1; b=2", "b=2;" },
		{ "a=\xed\xa0\x80; b=2", "b=2;" },
		{ "a=\"\xff\"; b=2", "b=2;" },
		{ "n=caf\xc3\xa9", "n=caf\xc3\xa9;" },
		{ "a=1; a=2", "a=1;a=2;" },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct call c = { "/", NULL, NULL, NULL, cases[i].header };
		struct membody m;
		struct req req;
		const char *got;

		arena_reset(a);
		assert_int_equal(parse_call(&req, a, &c, &m), 0);
		got = pairs_text(a, req.cookies, req.ncookies);
		if (strcmp(got, cases[i].cookies) != 0)
			fail_msg("Cookie \"%s\": got \"%s\", want \"%s\"", cases[i].header, got,
			         cases[i].cookies);
	}
}

static void http_parse_cookies_keeps_at_most_32(void **state)
{
	struct arena *a = *state;
	struct buf h;
	struct membody m;
	struct req req;
	struct call c = { "/", NULL, NULL, NULL, NULL };

	buf_init(&h);
	for (int i = 0; i < 40; i++)
		buf_printf(&h, "c%d=%d; ", i, i);
	c.cookie = arena_strdup(a, h.data);
	buf_free(&h);
	assert_int_equal(parse_call(&req, a, &c, &m), 0);
	assert_int_equal(req.ncookies, HTTP_MAX_COOKIES);
	assert_string_equal(http_cookie(&req, "c0"), "0");
	assert_string_equal(http_cookie(&req, "c31"), "31");
	assert_null(http_cookie(&req, "c32"));
	assert_null(http_cookie(&req, "c39"));
}

static void http_cookie_and_param_return_the_first_value(void **state)
{
	struct arena *a = *state;
	struct call c = { "/?x=1&x=2", NULL, NULL, NULL, "s=one; s=two" };
	struct membody m;
	struct req req;

	assert_int_equal(parse_call(&req, a, &c, &m), 0);
	req.method = "GET";
	assert_string_equal(http_param(&req, "x"), "1");
	assert_string_equal(http_cookie(&req, "s"), "one");
	assert_null(http_param(&req, "X"));
	assert_null(http_cookie(&req, "S"));
	/* http_parse_cookies with no header changes nothing */
	http_parse_cookies(&req, NULL);
	assert_int_equal(req.ncookies, 2);
}

struct dcase {
	const char *in;
	int plus_space;
	const char *want;          /* NULL: refused */
};

static void http_decode_refuses_malformed_escapes_and_bad_utf8(void **state)
{
	static const struct dcase cases[] = {
		{ "", 1, "" },
		{ "abc", 1, "abc" },
		{ "a+b", 1, "a b" },
		{ "a+b", 0, "a+b" },
		{ "%41%42%43", 0, "ABC" },
		{ "%2b", 1, "+" },
		{ "%20", 0, " " },
		{ "%e2%82%ac", 0, "\xe2\x82\xac" },
		{ "%", 0, NULL },
		{ "%4", 0, NULL },
		{ "a%4", 0, NULL },
		{ "%zz", 0, NULL },
		{ "%4z", 0, NULL },
		{ "%z4", 0, NULL },
		{ "%%41", 0, NULL },
		{ "%00", 0, NULL },
		{ "%C0%AF", 0, NULL },
		{ "%ED%A0%80", 0, NULL },
		{ "%FF", 0, NULL },
		{ "%E2%82", 0, NULL },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		const char *got = http_decode(a, cases[i].in, strlen(cases[i].in),
		                              cases[i].plus_space);

		if (cases[i].want == NULL && got != NULL)
			fail_msg("\"%s\" decoded to \"%s\", want refusal", cases[i].in, got);
		if (cases[i].want != NULL &&
		    (got == NULL || strcmp(got, cases[i].want) != 0))
			fail_msg("\"%s\" decoded to \"%s\", want \"%s\"", cases[i].in,
			         got ? got : "(NULL)", cases[i].want);
	}
	/* only len bytes are read: an escape cut by len is malformed */
	assert_null(http_decode(a, "%41", 2, 0));
	assert_string_equal(http_decode(a, "ab%41", 2, 0), "ab");
}

/* The field table of the validation tests, kcgi style. */
enum { K_EMAIL, K_AGE, K_NAME, K_ROLE, K_TAG, K_NOTE, K_ANY, K__MAX };

static const char *const roles[] = {"viewer", "member", "admin", NULL};

static const struct field_spec keys[K__MAX] = {
	[K_EMAIL] = { "email", valid_email, 1, 254, NULL, 0, 0 },
	[K_AGE]   = { "age", valid_int, 1, 3, NULL, 0, 150 },
	[K_NAME]  = { "name", NULL, 2, 10, NULL, 0, 0 },
	[K_ROLE]  = { "role", valid_choice, 1, 16, roles, 0, 0 },
	[K_TAG]   = { "tag", valid_token, 1, 8, NULL, 0, 0 },
	[K_NOTE]  = { "note", valid_line, 0, 20, NULL, 0, 0 },
	[K_ANY]   = { "any", NULL, 0, 0, NULL, 0, 0 },        /* maxlen 0: unbounded */
};

static struct req *validate(struct arena *a, const char *query)
{
	struct req *req = arena_alloc(a, sizeof(*req));
	char **env = arena_alloc(a, 3 * sizeof(char *));

	env[0] = arena_printf(a, "REQUEST_URI=/form?%s", query);
	env[1] = "REQUEST_METHOD=GET";
	assert_int_equal(http_parse(req, a, env, NULL, NULL), 0);
	http_validate(req, keys, K__MAX);
	return req;
}

struct vcase {
	const char *query;
	size_t key;
	enum field_state state;
	const char *value;         /* http_field when valid */
};

static void http_validate_tells_missing_invalid_and_valid_apart(void **state)
{
	static const struct vcase cases[] = {
		{ "", K_EMAIL, FIELD_MISSING, NULL },
		{ "other=1", K_EMAIL, FIELD_MISSING, NULL },
		{ "Email=a@b.co", K_EMAIL, FIELD_MISSING, NULL },      /* names are exact */
		{ "email=", K_EMAIL, FIELD_INVALID, NULL },             /* below minlen */
		{ "email=nope", K_EMAIL, FIELD_INVALID, NULL },
		{ "email=a@b.co", K_EMAIL, FIELD_VALID, "a@b.co" },
		{ "email=A%40B.CO", K_EMAIL, FIELD_VALID, "a@b.co" },
		{ "age=42", K_AGE, FIELD_VALID, "42" },
		{ "age=0", K_AGE, FIELD_VALID, "0" },
		{ "age=150", K_AGE, FIELD_VALID, "150" },
		{ "age=151", K_AGE, FIELD_INVALID, NULL },
		{ "age=-1", K_AGE, FIELD_INVALID, NULL },
		{ "age=0042", K_AGE, FIELD_INVALID, NULL },             /* over maxlen 3 */
		{ "age=4x", K_AGE, FIELD_INVALID, NULL },
		{ "name=a", K_NAME, FIELD_INVALID, NULL },              /* minlen 2 */
		{ "name=ab", K_NAME, FIELD_VALID, "ab" },
		{ "name=abcdefghij", K_NAME, FIELD_VALID, "abcdefghij" }, /* maxlen 10 */
		{ "name=abcdefghijk", K_NAME, FIELD_INVALID, NULL },     /* overlong */
		{ "name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", K_NAME, FIELD_VALID,
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" },          /* 10 bytes */
		{ "name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", K_NAME, FIELD_INVALID, NULL },
		{ "role=admin", K_ROLE, FIELD_VALID, "admin" },
		{ "role=owner", K_ROLE, FIELD_INVALID, NULL },
		{ "tag=abc", K_TAG, FIELD_VALID, "abc" },
		{ "tag=a+b", K_TAG, FIELD_INVALID, NULL },
		{ "note=", K_NOTE, FIELD_VALID, "" },                   /* minlen 0 */
		{ "note=a%0Ab", K_NOTE, FIELD_INVALID, NULL },
		{ "any=", K_ANY, FIELD_VALID, "" },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct req *req;
		const struct field *f;

		arena_reset(a);
		req = validate(a, cases[i].query);
		f = &req->fields[cases[i].key];
		if (f->state != cases[i].state)
			fail_msg("\"%s\": state %d, want %d", cases[i].query, f->state, cases[i].state);
		assert_ptr_equal(f->spec, &keys[cases[i].key]);
		assert_int_equal(http_field_invalid(req, cases[i].key), cases[i].state == FIELD_INVALID);
		if (cases[i].value == NULL) {
			assert_null(http_field(req, cases[i].key));
		} else {
			assert_non_null(http_field(req, cases[i].key));
			assert_string_equal(http_field(req, cases[i].key), cases[i].value);
		}
		if (cases[i].state == FIELD_MISSING)
			assert_null(f->raw);
		else
			assert_non_null(f->raw);
		/* no other field is touched */
		for (size_t k = 0; k < K__MAX; k++)
			if (k != cases[i].key && req->fields[k].state != FIELD_MISSING)
				fail_msg("\"%s\": field %s touched", cases[i].query, keys[k].name);
	}
}

static void http_validate_keeps_the_raw_value_for_reshowing_the_form(void **state)
{
	struct arena *a = *state;
	struct req *req = validate(a, "email=Bad%20Address&age=42&name=Ada");

	assert_string_equal(req->fields[K_EMAIL].raw, "Bad Address");
	assert_int_equal(req->fields[K_AGE].num, 42);
	assert_string_equal(http_field(req, K_NAME), "Ada");
	req = validate(a, "email=Ada%40Example.COM");
	assert_string_equal(req->fields[K_EMAIL].raw, "Ada@Example.COM");
	assert_string_equal(req->fields[K_EMAIL].value, "ada@example.com");
	/* unbounded field takes a long value */
	{
		char *q = arena_alloc(a, 5000);

		memcpy(q, "any=", 4);
		memset(q + 4, 'z', 4000);
		req = validate(a, q);
		assert_int_equal(strlen(http_field(req, K_ANY)), 4000);
	}
}

static void http_validate_chains_repeated_fields_in_order(void **state)
{
	struct arena *a = *state;
	struct req *req = validate(a, "tag=a&name=Ann&tag=b&tag=c");
	const struct field *f = &req->fields[K_TAG];

	assert_int_equal(f->state, FIELD_VALID);
	assert_string_equal(http_field(req, K_TAG), "a");
	assert_non_null(f->next);
	assert_string_equal(f->next->value, "b");
	assert_int_equal(f->next->state, FIELD_VALID);
	assert_ptr_equal(f->next->spec, &keys[K_TAG]);
	assert_non_null(f->next->next);
	assert_string_equal(f->next->next->value, "c");
	assert_null(f->next->next->next);
	assert_string_equal(http_field(req, K_NAME), "Ann");
	assert_null(req->fields[K_NAME].next);
}

static void http_validate_one_bad_repeat_invalidates_the_field(void **state)
{
	static const struct {
		const char *query;
		enum field_state states[3];
	} cases[] = {
		{ "tag=a&tag=b!&tag=c", {FIELD_VALID, FIELD_INVALID, FIELD_VALID} },
		{ "tag=!&tag=b", {FIELD_INVALID, FIELD_VALID, FIELD_MISSING} },
		{ "tag=a&tag=toolongtag", {FIELD_VALID, FIELD_INVALID, FIELD_MISSING} },
		{ "tag=a&tag=", {FIELD_VALID, FIELD_INVALID, FIELD_MISSING} },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct req *req;
		const struct field *f;
		size_t k = 0;

		arena_reset(a);
		req = validate(a, cases[i].query);
		assert_int_equal(req->fields[K_TAG].state, FIELD_INVALID);
		assert_null(http_field(req, K_TAG));
		assert_true(http_field_invalid(req, K_TAG));
		/* each repeat still records its own verdict after the head */
		for (f = req->fields[K_TAG].next, k = 1; f != NULL; f = f->next, k++)
			if (f->state != cases[i].states[k])
				fail_msg("\"%s\": repeat %zu state %d, want %d", cases[i].query, k,
				         f->state, cases[i].states[k]);
		assert_true(k == 3 || cases[i].states[k] == FIELD_MISSING);
	}
}

static void http_field_out_of_range_is_absent(void **state)
{
	struct arena *a = *state;
	struct req *req = validate(a, "email=a@b.co");

	assert_null(http_field(req, K__MAX));
	assert_null(http_field(req, (size_t)-1));
	assert_false(http_field_invalid(req, K__MAX));
	/* an empty table validates nothing and breaks nothing */
	http_validate(req, NULL, 0);
	assert_null(http_field(req, 0));
	assert_false(http_field_invalid(req, 0));
}

/* Validators called directly, the way http_validate calls them. */
struct xcase {
	const char *in;
	int ok;
	const char *value;         /* normalised value when ok; NULL: same as in */
};

static void check_validator(struct arena *a, const char *name, field_validator v,
                            const struct field_spec *spec, const struct xcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct field f = { spec, FIELD_MISSING, cases[i].in, arena_strdup(a, cases[i].in),
		                   0, NULL };
		int ok = v(&f);
		const char *want = cases[i].value ? cases[i].value : cases[i].in;

		if (ok != cases[i].ok)
			fail_msg("%s(\"%s\") = %d, want %d", name, cases[i].in, ok, cases[i].ok);
		if (ok && strcmp(f.value, want) != 0)
			fail_msg("%s(\"%s\") normalised to \"%s\", want \"%s\"", name, cases[i].in,
			         f.value, want);
	}
}

static char *repeat(struct arena *a, char c, size_t n, const char *suffix)
{
	char *s = arena_alloc(a, n + strlen(suffix) + 1);

	memset(s, c, n);
	strcpy(s + n, suffix);
	return s;
}

static void valid_email_accepts_plain_addresses_and_lowercases_them(void **state)
{
	struct arena *a = *state;
	const struct xcase cases[] = {
		{ "a@b.co", 1, NULL },
		{ "A.B+c@Example.COM", 1, "a.b+c@example.com" },
		{ "first.last@sub.example.org", 1, NULL },
		{ "x_y-z@my-host.io", 1, NULL },
		{ "o'brien@example.ie", 1, NULL },
		{ repeat(a, 'l', 64, "@example.com"), 1, NULL },                /* 64-char local */
	};
	/* exactly 254 characters in all: 60 + '@' + 189 + ".com" */
	char *max = arena_printf(a, "%s@%s.com", repeat(a, 'l', 60, ""), repeat(a, 'd', 189, ""));

	assert_int_equal(strlen(max), 254);
	check_validator(a, "valid_email", valid_email, &keys[K_EMAIL], cases, N(cases));
	check_validator(a, "valid_email", valid_email, &keys[K_EMAIL],
	                &(struct xcase){ max, 1, NULL }, 1);
}

static void valid_email_rejects_malformed_addresses(void **state)
{
	struct arena *a = *state;
	char *long_local = repeat(a, 'l', 65, "@example.com");
	char *too_long = arena_printf(a, "%s@%s.com", repeat(a, 'l', 60, ""),
	                              repeat(a, 'd', 190, ""));
	const struct xcase cases[] = {
		{ "", 0, NULL },
		{ "ab.co", 0, NULL },               /* no @ */
		{ "a@b@c.com", 0, NULL },           /* two @ */
		{ "a@@b.co", 0, NULL },
		{ "\"a@b\"@c.com", 0, NULL },       /* quoted local parts are not supported */
		{ "@b.co", 0, NULL },               /* empty local part */
		{ "a@", 0, NULL },                  /* empty domain */
		{ ".a@b.co", 0, NULL },             /* leading dot */
		{ "a.@b.co", 0, NULL },             /* dot before @ */
		{ "a..b@c.co", 0, NULL },           /* double dot in local part */
		{ "a@b..co", 0, NULL },             /* double dot in domain */
		{ "a@bco", 0, NULL },               /* no dot in domain */
		{ "a@localhost", 0, NULL },
		{ "a@-b.co", 0, NULL },             /* domain starting with '-' */
		{ "a@.b.co", 0, NULL },             /* domain starting with '.' */
		{ "a@b.co.", 0, NULL },
		{ "a@b.co-", 0, NULL },
		{ "<script>@x.com", 0, NULL },
		{ "a@<script>.com", 0, NULL },
		{ "a b@c.co", 0, NULL },            /* spaces */
		{ "a@b c.co", 0, NULL },
		{ " a@b.co", 0, NULL },
		{ "a@b.co ", 0, NULL },
		{ "a@b.co\n", 0, NULL },
		{ "a\r\n@b.co", 0, NULL },
		{ "a@b_c.com", 0, NULL },           /* underscore in domain */
		{ "a(b)@c.co", 0, NULL },
		{ "a,b@c.co", 0, NULL },
		{ "a@[127.0.0.1]", 0, NULL },
		{ "\xc3\xa9@b.co", 0, NULL },       /* non-ASCII local part */
		{ "a@\xc3\xa9.co", 0, NULL },
		{ long_local, 0, NULL },            /* 65-char local part */
		{ too_long, 0, NULL },              /* 255 characters */
		{ repeat(a, 'x', 300, "@b.co"), 0, NULL },
	};

	assert_int_equal(strlen(too_long), 255);
	check_validator(a, "valid_email", valid_email, &keys[K_EMAIL], cases, N(cases));
}

static void valid_int_accepts_decimals_in_range_only(void **state)
{
	static const struct field_spec age = { "age", valid_int, 0, 0, NULL, 0, 150 };
	static const struct field_spec delta = { "d", valid_int, 0, 0, NULL, -10, 10 };
	static const struct {
		const struct field_spec *spec;
		const char *in;
		int ok;
		long num;
	} cases[] = {
		{ &age, "0", 1, 0 },
		{ &age, "42", 1, 42 },
		{ &age, "150", 1, 150 },
		{ &age, "151", 0, 0 },
		{ &age, "-1", 0, 0 },
		{ &delta, "-10", 1, -10 },
		{ &delta, "-11", 0, 0 },
		{ &delta, "10", 1, 10 },
		{ &age, "", 0, 0 },
		{ &age, "abc", 0, 0 },
		{ &age, "4x", 0, 0 },
		{ &age, "+5", 0, 0 },
		{ &age, " 5", 0, 0 },
		{ &age, "5 ", 0, 0 },
		{ &age, "1.0", 0, 0 },
		{ &age, "0x10", 0, 0 },
		{ &age, "99999999999999999999", 0, 0 },
		{ &age, "-99999999999999999999", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char value[32];
		struct field f = { cases[i].spec, FIELD_MISSING, cases[i].in, value, -7, NULL };

		snprintf(value, sizeof(value), "%s", cases[i].in);
		if (valid_int(&f) != cases[i].ok)
			fail_msg("valid_int(\"%s\") != %d", cases[i].in, cases[i].ok);
		if (cases[i].ok && f.num != cases[i].num)
			fail_msg("valid_int(\"%s\") num %ld, want %ld", cases[i].in, f.num, cases[i].num);
	}
}

static void valid_uuid_accepts_canonical_form_and_lowercases_it(void **state)
{
	static const struct xcase cases[] = {
		{ "123e4567-e89b-12d3-a456-426614174000", 1, NULL },
		{ "123E4567-E89B-12D3-A456-426614174000", 1, "123e4567-e89b-12d3-a456-426614174000" },
		{ "00000000-0000-0000-0000-000000000000", 1, NULL },
		{ "FFFFFFFF-ffff-FfFf-fFfF-ffffffffffff", 1, "ffffffff-ffff-ffff-ffff-ffffffffffff" },
		{ "", 0, NULL },
		{ "123e4567e89b12d3a456426614174000", 0, NULL },         /* no dashes */
		{ "123e4567-e89b-12d3-a456-42661417400", 0, NULL },      /* 35 */
		{ "123e4567-e89b-12d3-a456-4266141740000", 0, NULL },    /* 37 */
		{ "123e4567e-89b-12d3-a456-426614174000", 0, NULL },     /* dash moved */
		{ "123e4567-e89b-12d3-a4564-26614174000", 0, NULL },
		{ "123e4567-e89b-12d3-a456_426614174000", 0, NULL },
		{ "123e4567-e89b-12d3-a456-42661417400-", 0, NULL },
		{ "-23e4567-e89b-12d3-a456-426614174000", 0, NULL },
		{ "123e4567-e89b-12d3-a456-42661417400g", 0, NULL },     /* non-hex */
		{ "z23e4567-e89b-12d3-a456-426614174000", 0, NULL },
		{ "123e4567 e89b 12d3 a456 426614174000", 0, NULL },
		{ "{23e4567-e89b-12d3-a456-42661417400}", 0, NULL },
		{ "123e4567-e89b-12d3-a456-4266141740\xc3\xa9", 0, NULL },
	};
	static const struct field_spec spec = { "id", valid_uuid, 0, 0, NULL, 0, 0 };

	check_validator(*state, "valid_uuid", valid_uuid, &spec, cases, N(cases));
}

static void valid_choice_accepts_only_listed_values(void **state)
{
	static const struct xcase cases[] = {
		{ "viewer", 1, NULL }, { "member", 1, NULL }, { "admin", 1, NULL },
		{ "owner", 0, NULL }, { "Admin", 0, NULL }, { "admin ", 0, NULL },
		{ " admin", 0, NULL }, { "", 0, NULL }, { "adm", 0, NULL }, { "admins", 0, NULL },
	};
	static const struct xcase none[] = { { "admin", 0, NULL }, { "", 0, NULL } };
	static const struct field_spec no_list = { "r", valid_choice, 0, 0, NULL, 0, 0 };

	check_validator(*state, "valid_choice", valid_choice, &keys[K_ROLE], cases, N(cases));
	check_validator(*state, "valid_choice", valid_choice, &no_list, none, N(none));
}

static void valid_local_path_accepts_only_same_site_paths(void **state)
{
	static const struct xcase cases[] = {
		{ "/", 1, NULL },
		{ "/ok", 1, NULL },
		{ "/w/acme?x=1", 1, NULL },
		{ "/w/acme/team#members", 1, NULL },
		{ "/a//b", 1, NULL },
		{ "/caf\xc3\xa9", 1, NULL },
		{ "//evil.com", 0, NULL },
		{ "///evil.com", 0, NULL },
		{ "/\\evil.com", 0, NULL },
		{ "/ok\\..\\x", 0, NULL },
		{ "\\\\evil.com", 0, NULL },
		{ "http://x", 0, NULL },
		{ "https://evil.com/", 0, NULL },
		{ "javascript:alert(1)", 0, NULL },
		{ "data:text/html,x", 0, NULL },
		{ "", 0, NULL },
		{ "ok", 0, NULL },
		{ " /ok", 0, NULL },
		{ "/\t/evil.com", 0, NULL },
		{ "/a\nb", 0, NULL },
		{ "/a\rLocation: x", 0, NULL },
		{ "/a\x7f", 0, NULL },
		{ "/a\x01", 0, NULL },
	};
	static const struct field_spec spec = { "next", valid_local_path, 0, 0, NULL, 0, 0 };

	check_validator(*state, "valid_local_path", valid_local_path, &spec, cases, N(cases));
}

static void valid_token_accepts_base64url_characters_only(void **state)
{
	static const struct xcase cases[] = {
		{ "abc", 1, NULL },
		{ "AZaz09-_", 1, NULL },
		{ "dGhpcyBpcyBhIHRva2Vu", 1, NULL },
		{ "", 0, NULL },
		{ "a b", 0, NULL },
		{ "a+b", 0, NULL },
		{ "a/b", 0, NULL },
		{ "abc=", 0, NULL },
		{ "a.b", 0, NULL },
		{ "a%20", 0, NULL },
		{ "\xc3\xa9", 0, NULL },
		{ "a\n", 0, NULL },
	};

	check_validator(*state, "valid_token", valid_token, &keys[K_TAG], cases, N(cases));
}

static void valid_line_rejects_control_characters(void **state)
{
	static const struct xcase cases[] = {
		{ "", 1, NULL },
		{ "hello world", 1, NULL },
		{ "caf\xc3\xa9 <b> & \"q\"", 1, NULL },
		{ "a\nb", 0, NULL },
		{ "a\rb", 0, NULL },
		{ "a\tb", 0, NULL },
		{ "\x01", 0, NULL },
		{ "\x1f", 0, NULL },
		{ "del\x7f", 0, NULL },
		{ "\x1b[31m", 0, NULL },
	};

	check_validator(*state, "valid_line", valid_line, &keys[K_NOTE], cases, N(cases));
}

static void valid_string_accepts_anything(void **state)
{
	static const struct xcase cases[] = {
		{ "", 1, NULL }, { "any\nthing", 1, NULL }, { "<b>", 1, NULL },
	};

	check_validator(*state, "valid_string", valid_string, &keys[K_ANY], cases, N(cases));
}

/* Responses. */

/* Copies of the header block of a serialised response and of the body after the blank line. */
struct parsed_resp {
	char *head;                /* NUL-terminated, each line ends in \r\n */
	const char *body;
	size_t body_len;
};

static struct parsed_resp split_resp(struct arena *a, const struct buf *out)
{
	struct parsed_resp p;
	const char *sep = memmem(out->data, out->len, "\r\n\r\n", 4);

	assert_non_null(sep);
	p.head = arena_strndup(a, out->data, (size_t)(sep - out->data) + 2);
	p.body_len = out->len - (size_t)(sep + 4 - out->data);
	p.body = arena_strndup(a, sep + 4, p.body_len);   /* outlives out */
	return p;
}

/* The number of header lines that start with line (which includes ": "). */
static int count_lines(const char *head, const char *line)
{
	int n = 0;

	for (const char *p = head; *p; ) {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		if (strncmp(p, line, strlen(line)) == 0)
			n++;
		p = eol + 2;
	}
	return n;
}

static void resp_serialise_always_sends_the_security_headers(void **state)
{
	static const struct {
		int status;
		int no_store, token_in_url;
		const char *body;
		size_t body_len;
	} cases[] = {
		{ 200, 0, 0, "<p>hello</p>", 12 },
		{ 200, 1, 0, "", 0 },
		{ 303, 0, 1, "", 0 },
		{ 400, 1, 1, "bad", 3 },
		{ 403, 0, 0, "caf\xc3\xa9", 5 },
		{ 404, 0, 0, "x\0y", 3 },
		{ 413, 0, 0, "", 0 },
		{ 500, 1, 0, "oops", 4 },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct resp w;
		struct buf out;
		struct parsed_resp p;
		char *want;

		resp_init(&w);
		buf_init(&out);
		resp_begin(&w, cases[i].status, NULL);
		buf_append(&w.body, cases[i].body, cases[i].body_len);
		w.no_store = cases[i].no_store;
		w.token_in_url = cases[i].token_in_url;
		resp_serialise(&w, &out);
		p = split_resp(a, &out);
		resp_free(&w);
		buf_free(&out);

		want = arena_printf(a, "Status: %d %s\r\n", cases[i].status,
		                    http_reason(cases[i].status));
		assert_int_equal(strncmp(p.head, want, strlen(want)), 0);
		assert_int_equal(count_lines(p.head, "Content-Type: text/html; charset=utf-8\r\n"), 1);
		want = arena_printf(a, "Content-Length: %zu\r\n", cases[i].body_len);
		assert_int_equal(count_lines(p.head, want), 1);
		assert_int_equal(count_lines(p.head, "Content-Length: "), 1);
		assert_int_equal(p.body_len, cases[i].body_len);
		assert_memory_equal(p.body, cases[i].body, cases[i].body_len);
		assert_int_equal(count_lines(p.head, "Content-Security-Policy: "), 1);
		assert_non_null(strstr(p.head, "default-src 'none'"));
		assert_non_null(strstr(p.head, "frame-ancestors 'none'"));
		assert_int_equal(count_lines(p.head, "X-Content-Type-Options: nosniff\r\n"), 1);
		assert_int_equal(count_lines(p.head, "X-Frame-Options: DENY\r\n"), 1);
		assert_int_equal(count_lines(p.head, "Referrer-Policy: "), 1);
		assert_int_equal(count_lines(p.head, "Referrer-Policy: strict-origin\r\n"),
		                 cases[i].token_in_url);
		assert_int_equal(count_lines(p.head, "Referrer-Policy: same-origin\r\n"),
		                 !cases[i].token_in_url);
		assert_int_equal(count_lines(p.head, "Cache-Control: no-store\r\n"), cases[i].no_store);
		assert_int_equal(count_lines(p.head, "Cache-Control: "), cases[i].no_store);
	}
}

static void resp_serialise_writes_the_chosen_content_type_and_extra_headers(void **state)
{
	struct arena *a = *state;
	struct resp w;
	struct buf out;
	struct parsed_resp p;

	resp_init(&w);
	buf_init(&out);
	buf_puts(&w.body, "stale");
	resp_header(&w, "X-Stale", "1");
	resp_begin(&w, 200, "application/json");          /* discards what came before */
	buf_puts(&w.body, "{}");
	resp_header(&w, "Set-Cookie", "sid=abc; HttpOnly; Secure; SameSite=Lax");
	resp_serialise(&w, &out);
	p = split_resp(a, &out);
	resp_free(&w);
	buf_free(&out);
	assert_int_equal(count_lines(p.head, "Content-Type: application/json\r\n"), 1);
	assert_int_equal(count_lines(p.head, "Set-Cookie: sid=abc; HttpOnly; Secure; SameSite=Lax\r\n"), 1);
	assert_int_equal(count_lines(p.head, "X-Stale"), 0);
	assert_int_equal(count_lines(p.head, "Content-Length: 2\r\n"), 1);
	assert_int_equal(p.body_len, 2);
	assert_memory_equal(p.body, "{}", 2);
}

static void resp_serialise_answers_that_set_or_clear_the_session_are_no_store(void **state)
{
	static const struct {
		const char *cookie;
		int no_store;
	} cases[] = {
		{ "session=abcdefgh; Path=/; HttpOnly; SameSite=Lax", 1 },
		{ "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", 1 },
		{ "__Host-session=abc; Path=/; HttpOnly; SameSite=Lax; Secure", 1 },
		{ "__Host-session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure", 1 },
		{ "csrf=abc; Path=/; HttpOnly; SameSite=Lax", 0 },
		{ "notice=Saved; Path=/; HttpOnly; SameSite=Lax; Max-Age=60", 0 },
		{ "sessionx=abc; Path=/", 0 },
		{ NULL, 0 },
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct resp w;
		struct buf out;
		struct parsed_resp p;

		resp_init(&w);
		buf_init(&out);
		resp_header(&w, "Location", "/login");
		if (cases[i].cookie != NULL) {
			resp_header(&w, "Set-Cookie", "csrf=first; Path=/");
			resp_header(&w, "Set-Cookie", cases[i].cookie);
		}
		w.status = 303;
		resp_serialise(&w, &out);
		p = split_resp(a, &out);
		resp_free(&w);
		buf_free(&out);
		if (count_lines(p.head, "Cache-Control: no-store\r\n") != cases[i].no_store)
			fail_msg("case %zu: no-store should be %d", i, cases[i].no_store);
		assert_int_equal(count_lines(p.head, "Cache-Control: "), cases[i].no_store);
	}
	/* Already no-store (a signed-in page): still one header. */
	{
		struct resp w;
		struct buf out;
		struct parsed_resp p;

		resp_init(&w);
		buf_init(&out);
		w.no_store = 1;
		resp_header(&w, "Set-Cookie", "session=; Path=/; Max-Age=0");
		resp_serialise(&w, &out);
		p = split_resp(a, &out);
		resp_free(&w);
		buf_free(&out);
		assert_int_equal(count_lines(p.head, "Cache-Control: no-store\r\n"), 1);
		assert_int_equal(count_lines(p.head, "Cache-Control: "), 1);
	}
}

static void resp_header_drops_cr_and_lf_so_headers_cannot_be_injected(void **state)
{
	static const char *const values[] = {
		"a\r\nSet-Cookie: evil=1",
		"a\nSet-Cookie: evil=1",
		"a\rSet-Cookie: evil=1",
		"\r\n\r\n<script>x</script>",
		"a\r\n\r\nSet-Cookie: evil=1",
	};
	struct arena *a = *state;

	for (size_t i = 0; i < N(values); i++) {
		struct resp w;
		struct buf out;
		struct parsed_resp p;

		resp_init(&w);
		buf_init(&out);
		resp_header(&w, "X-Test", values[i]);
		buf_puts(&w.body, "body");
		resp_serialise(&w, &out);
		p = split_resp(a, &out);
		resp_free(&w);
		buf_free(&out);
		if (count_lines(p.head, "Set-Cookie") != 0 || count_lines(p.head, "<script>") != 0)
			fail_msg("value %zu split the header", i);
		assert_int_equal(count_lines(p.head, "X-Test: "), 1);
		assert_int_equal(p.body_len, 4);
		assert_memory_equal(p.body, "body", 4);
	}
}

static void resp_redirect_answers_303_with_location(void **state)
{
	struct arena *a = *state;
	struct resp w;
	struct buf out;
	struct parsed_resp p;

	resp_init(&w);
	buf_init(&out);
	buf_puts(&w.body, "<p>half a page</p>");
	resp_redirect(&w, "/w/acme/team?saved=1");
	assert_int_equal(w.status, 303);
	resp_serialise(&w, &out);
	p = split_resp(a, &out);
	buf_free(&out);
	assert_int_equal(strncmp(p.head, "Status: 303 See Other\r\n", 23), 0);
	assert_int_equal(count_lines(p.head, "Location: /w/acme/team?saved=1\r\n"), 1);
	assert_int_equal(count_lines(p.head, "Content-Length: 0\r\n"), 1);
	assert_int_equal(p.body_len, 0);

	/* a location smuggling a header is flattened too */
	buf_init(&out);
	resp_begin(&w, 200, NULL);
	resp_redirect(&w, "/x\r\nSet-Cookie: evil=1");
	resp_serialise(&w, &out);
	p = split_resp(a, &out);
	resp_free(&w);
	buf_free(&out);
	assert_int_equal(count_lines(p.head, "Set-Cookie"), 0);
	assert_int_equal(count_lines(p.head, "Location: /xSet-Cookie: evil=1\r\n"), 1);
}

static void http_reason_names_each_status_used(void **state)
{
	static const struct {
		int status;
		const char *reason;
	} cases[] = {
		{ 200, "OK" }, { 303, "See Other" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 409, "Conflict" }, { 410, "Gone" },
		{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
		{ 299, "Unknown" }, { 0, "Unknown" }, { -1, "Unknown" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_string_equal(http_reason(cases[i].status), cases[i].reason);
}

#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(http_parse_reads_query_and_form_pairs_in_order),
		T(http_parse_decodes_the_path_and_keeps_the_raw_query),
		T(http_parse_accepts_exactly_max_fields),
		T(http_parse_rejects_more_than_max_fields),
		T(http_parse_accepts_a_body_of_exactly_64_kib),
		T(http_parse_refuses_a_body_over_64_kib_without_reading_it),
		T(http_parse_rejects_a_content_length_that_is_not_a_number),
		T(http_parse_treats_empty_or_zero_content_length_as_no_body),
		T(http_parse_rejects_a_body_shorter_than_content_length),
		T(http_parse_rejects_a_body_when_the_reader_fails),
		T(http_parse_assembles_a_body_from_short_reads),
		T(http_parse_leaves_other_content_types_unparsed_but_available),
		T(http_parse_keeps_a_binary_body_with_its_length),
		T(http_parse_falls_back_to_path_info_and_query_string),
		T(http_parse_sets_https_only_for_on_or_1),
		T(http_parse_reads_each_variable_once_first_value_whole_names),
		T(http_parse_copies_request_headers_from_the_environment),
		T(http_same_origin_follows_origin_and_sec_fetch_site),
		T(http_param_on_a_post_reads_the_body_only),
		T(http_parse_cookies_reads_name_value_pairs_and_skips_bad_ones),
		T(http_parse_cookies_keeps_at_most_32),
		T(http_cookie_and_param_return_the_first_value),
		T(http_decode_refuses_malformed_escapes_and_bad_utf8),
		T(http_validate_tells_missing_invalid_and_valid_apart),
		T(http_validate_keeps_the_raw_value_for_reshowing_the_form),
		T(http_validate_chains_repeated_fields_in_order),
		T(http_validate_one_bad_repeat_invalidates_the_field),
		T(http_field_out_of_range_is_absent),
		T(valid_email_accepts_plain_addresses_and_lowercases_them),
		T(valid_email_rejects_malformed_addresses),
		T(valid_int_accepts_decimals_in_range_only),
		T(valid_uuid_accepts_canonical_form_and_lowercases_it),
		T(valid_choice_accepts_only_listed_values),
		T(valid_local_path_accepts_only_same_site_paths),
		T(valid_token_accepts_base64url_characters_only),
		T(valid_line_rejects_control_characters),
		T(valid_string_accepts_anything),
		T(resp_serialise_always_sends_the_security_headers),
		T(resp_serialise_writes_the_chosen_content_type_and_extra_headers),
		T(resp_serialise_answers_that_set_or_clear_the_session_are_no_store),
		T(resp_header_drops_cr_and_lf_so_headers_cannot_be_injected),
		T(resp_redirect_answers_303_with_location),
		T(http_reason_names_each_status_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
