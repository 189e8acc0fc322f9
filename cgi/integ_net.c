/* integ_net.c: outgoing integration requests: URL rules, address checks (SSRF), libcurl */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "integ_net.h"
#include "util.h"

#define MAX_PINNED 8

/* 1 when the IPv4 address a (host byte order) is public. */
static int v4_public(uint32_t a)
{
	static const struct {
		uint32_t net;
		int bits;
	} blocked[] = {
		{ 0x00000000, 8 },   /* 0.0.0.0/8 "this network" */
		{ 0x0a000000, 8 },   /* 10/8 private */
		{ 0x64400000, 10 },  /* 100.64/10 shared (carrier-grade NAT) */
		{ 0x7f000000, 8 },   /* 127/8 loopback */
		{ 0xa9fe0000, 16 },  /* 169.254/16 link-local (cloud metadata) */
		{ 0xac100000, 12 },  /* 172.16/12 private */
		{ 0xc0000000, 24 },  /* 192.0.0/24 IETF protocol assignments */
		{ 0xc0000200, 24 },  /* 192.0.2/24 documentation */
		{ 0xc0586300, 24 },  /* 192.88.99/24 6to4 relay anycast */
		{ 0xc0a80000, 16 },  /* 192.168/16 private */
		{ 0xc6120000, 15 },  /* 198.18/15 benchmarking */
		{ 0xc6336400, 24 },  /* 198.51.100/24 documentation */
		{ 0xcb007100, 24 },  /* 203.0.113/24 documentation */
		{ 0xe0000000, 4 },   /* 224/4 multicast */
		{ 0xf0000000, 4 },   /* 240/4 reserved, broadcast */
	};

	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - blocked[i].bits);

		if ((a & mask) == blocked[i].net)
			return 0;
	}
	return 1;
}

/* Four bytes in network order as a host-order IPv4 address. */
static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 1 when the IPv6 address b is public; embedded IPv4 forms are judged by their IPv4 part. */
static int v6_public(const unsigned char *b)
{
	static const unsigned char zero[12];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_public(v4_at(b + 12));
	if (memcmp(b, zero, 12) == 0)
		return 0;                       /* ::, ::1, IPv4-compatible */
	if ((b[0] & 0xe0) != 0x20)
		return 0;                       /* outside 2000::/3: ULA, link-local, multicast, ... */
	if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0)
		return 0;                       /* 2001::/23 IETF (Teredo, benchmarking, ORCHID) */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return 0;                       /* 2001:db8::/32 documentation */
	if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0)
		return 0;                       /* 3fff::/20 documentation */
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_public(v4_at(b + 2)); /* 2002::/16 6to4 */
	return 1;
}

/* 1 when sa is a public (global unicast) IPv4 or IPv6 address. */
int integ_addr_public(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return v4_public(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return v6_public(in6->sin6_addr.s6_addr);
	}
	return 0;
}

/*
 * Parse text as an address literal the way the resolver would (so "127.1",
 * "0x7f.1" and "2130706433" are IPv4 loopback too). 0 ok, -1 not a literal.
 */
static int numeric_addr(const char *text, struct sockaddr_storage *out)
{
	struct addrinfo hints, *ai = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (text == NULL || *text == '\0' || getaddrinfo(text, NULL, &hints, &ai) != 0 || ai == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	memcpy(out, ai->ai_addr, ai->ai_addrlen <= sizeof(*out) ? ai->ai_addrlen : sizeof(*out));
	freeaddrinfo(ai);
	return 0;
}

/* integ_addr_public for a textual address; -1 when it is not one. */
int integ_ip_public(const char *text)
{
	struct sockaddr_storage ss;

	if (numeric_addr(text, &ss) != 0)
		return -1;
	return integ_addr_public((const struct sockaddr *)&ss);
}

/* An address as text for messages, e.g. "127.0.0.1" or "::1". */
static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
	const void *p = NULL;

	out[0] = '\0';
	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (p == NULL || inet_ntop(sa->sa_family, p, out, (socklen_t)n) == NULL)
		snprintf(out, n, "an unknown address");
}

/* Host names: DNS labels of letters, digits and hyphens; 1 when well formed. */
static int hostname_ok(const char *h)
{
	size_t len = strlen(h), label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = h[i];

		if (ch == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if (label == 0 && ch == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return h[len - 1] != '-';
}

/* "localhost", "localhost." and anything under .localhost name this machine. */
static int is_localhost_name(const char *h)
{
	size_t len = strlen(h);

	if (len > 0 && h[len - 1] == '.')
		len--;
	if (len == 9 && strncasecmp(h, "localhost", 9) == 0)
		return 1;
	return len > 10 && strncasecmp(h + len - 10, ".localhost", 10) == 0;
}

/*
 * The host as the resolver will read it: lowercase, without the one
 * trailing dot of an absolute name ("127.0.0.1." and "2130706433." are
 * 127.0.0.1 to getaddrinfo, and "localhost." is localhost). The checks
 * judge this form, so the form refuses what sending would refuse.
 */
static void host_normalise(const char *host, char *out, size_t n)
{
	size_t len = strlen(host);

	if (len >= n)
		len = n - 1;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] - 'A' + 'a' : host[i]);
	if (len > 1 && out[len - 1] == '.' && out[len - 2] != '.')
		len--;
	out[len] = '\0';
}

/*
 * 1 when the last label is a number (decimal, or 0x hex): such a host is an
 * IPv4 address in some form (URL standard), never a DNS name; one that did
 * not parse as an address is malformed.
 */
static int numeric_label(const char *host)
{
	const char *last = strrchr(host, '.');

	last = last != NULL ? last + 1 : host;
	if (*last == '\0')
		return 0;
	if (last[0] == '0' && last[1] == 'x')
		return strspn(last + 2, "0123456789abcdef") == strlen(last + 2);
	return strspn(last, "0123456789") == strlen(last);
}

/* Copy one part of a parsed URL into out (n bytes); 1 when present and it fits. */
static int copy_part(CURLU *h, CURLUPart part, char *out, size_t n)
{
	char *v = NULL;
	int ok = 0;

	if (curl_url_get(h, part, &v, 0) == CURLUE_OK && v != NULL && strlen(v) < n) {
		memcpy(out, v, strlen(v) + 1);
		ok = 1;
	}
	curl_free(v);
	return ok;
}

/* 1 when the parsed URL has this part. */
static int has_part(CURLU *h, CURLUPart part)
{
	char *v = NULL;
	int has = curl_url_get(h, part, &v, 0) == CURLUE_OK && v != NULL;

	curl_free(v);
	return has;
}

/*
 * The URL rules; with name_rules, also refuse names that can only be local
 * ("localhost", single labels) without resolving them (the form's early
 * answer). Sending leaves names to the check after resolution.
 */
static const char *url_check(const char *url, int allow_private, int name_rules,
                             struct integ_url *out)
{
	struct integ_url u;
	struct sockaddr_storage ss;
	const char *msg = NULL;
	char norm[sizeof(u.host)];
	size_t len;
	long port;
	CURLU *h;

	memset(&u, 0, sizeof(u));
	if (url == NULL || (len = strlen(url)) == 0)
		return "Enter a URL.";
	if (len > INTEG_URL_MAX)
		return "The URL is too long (at most 2048 characters).";
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return "The URL may not contain spaces, backslashes or non-ASCII characters "
			       "(percent-encode them).";
	if (strncasecmp(url, "https://", 8) != 0 &&
	    !(allow_private && strncasecmp(url, "http://", 7) == 0))
		return "The URL must start with https://.";
	h = curl_url();
	if (h == NULL)
		return "The URL could not be checked.";
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    !copy_part(h, CURLUPART_SCHEME, u.scheme, sizeof(u.scheme)) ||
	    !copy_part(h, CURLUPART_HOST, u.host, sizeof(u.host))) {
		msg = "This is not a valid URL.";
		goto done;
	}
	if (has_part(h, CURLUPART_USER) || has_part(h, CURLUPART_PASSWORD)) {
		msg = "The URL may not contain a user name or password; use the secret instead.";
		goto done;
	}
	if (has_part(h, CURLUPART_FRAGMENT)) {
		msg = "The URL may not contain a #fragment.";
		goto done;
	}
	if (!copy_part(h, CURLUPART_PORT, u.port, sizeof(u.port)))
		snprintf(u.port, sizeof(u.port), "%s", strcmp(u.scheme, "http") == 0 ? "80" : "443");
	if (parse_long(u.port, 1, 65535, &port) != 0) {
		msg = "The port must be a number from 1 to 65535.";
		goto done;
	}
	/* IPv6 literals come back in brackets; a zone id is never acceptable. */
	if (u.host[0] == '[') {
		size_t hl = strlen(u.host);

		if (hl < 3 || u.host[hl - 1] != ']' || has_part(h, CURLUPART_ZONEID)) {
			msg = "This is not a valid URL.";
			goto done;
		}
		memmove(u.host, u.host + 1, hl - 2);
		u.host[hl - 2] = '\0';
	}
	host_normalise(u.host, norm, sizeof(norm));
	if (numeric_addr(norm, &ss) == 0) {
		u.host_is_ip = 1;
		if (!allow_private && !integ_addr_public((const struct sockaddr *)&ss))
			msg = "The URL points to a private, loopback or otherwise non-public address.";
	} else if (!hostname_ok(u.host)) {
		msg = "The host name is not valid (letters, digits, hyphens and dots only).";
	} else if (numeric_label(norm)) {
		msg = "The host looks like an IP address but is not a valid one.";
	} else if (name_rules && !allow_private &&
	           (is_localhost_name(norm) || strchr(norm, '.') == NULL)) {
		msg = "The host must be a public, fully qualified name.";
	}
done:
	curl_url_cleanup(h);
	if (msg == NULL && out != NULL)
		*out = u;
	return msg;
}

/* The rules for a stored URL (see integ_net.h). */
const char *integ_url_check(const char *url, int allow_private, struct integ_url *u)
{
	return url_check(url, allow_private, 1, u);
}

/* What the socket callback needs: the policy, and what it refused. */
struct guard {
	int allow_private;
	char refused[64];
	char connected[64];
};

/* Every socket libcurl opens passes here: the address actually used is checked. */
static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *a)
{
	struct guard *g = clientp;

	(void)purpose;
	if (!g->allow_private && !integ_addr_public(&a->addr)) {
		addr_text(&a->addr, g->refused, sizeof(g->refused));
		return CURL_SOCKET_BAD;
	}
	addr_text(&a->addr, g->connected, sizeof(g->connected));
	return socket(a->family, a->socktype, a->protocol);
}

/* Keep the answer's first 4 KB for the delivery log, as printable ASCII; drop the rest. */
static size_t keep_cb(char *data, size_t size, size_t n, void *ctx)
{
	struct integ_result *res = ctx;
	size_t len = strlen(res->response);

	for (size_t i = 0; i < size * n && len < sizeof(res->response) - 1; i++) {
		unsigned char ch = (unsigned char)data[i];

		res->response[len++] = (ch >= 0x20 && ch < 0x7f) || ch == '\n' || ch == '\t' ? (char)ch : '?';
	}
	res->response[len] = '\0';
	return size * n;
}

/* The Retry-After header, for the retry schedule. */
static size_t header_cb(char *data, size_t size, size_t n, void *ctx)
{
	struct integ_result *res = ctx;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		size_t l = len - 12;

		if (l >= sizeof(res->retry_after))
			l = sizeof(res->retry_after) - 1;
		memcpy(res->retry_after, data + 12, l);
		res->retry_after[l] = '\0';
		res->retry_after[strcspn(res->retry_after, "\r\n")] = '\0';
	}
	return len;
}

/*
 * Resolve u's host and require every address to be public; the pin line for
 * CURLOPT_RESOLVE ("host:port:addr,...") goes into pin. 0 ok, -1 with
 * res->error set.
 */
static int resolve_public(const struct integ_url *u, struct integ_result *res,
                          char *pin, size_t pinlen)
{
	struct addrinfo hints, *list = NULL;
	size_t used;
	int rc, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(u->host, u->port, &hints, &list);
	if (rc != 0 || list == NULL) {
		snprintf(res->error, sizeof(res->error), "Could not resolve %s: %s.", u->host,
		         gai_strerror(rc));
		return -1;
	}
	used = (size_t)snprintf(pin, pinlen, "%s:%s:", u->host, u->port);
	for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
		char text[64];

		addr_text(ai->ai_addr, text, sizeof(text));
		if (!integ_addr_public(ai->ai_addr)) {
			res->refused = 1;
			snprintf(res->address, sizeof(res->address), "%s", text);
			snprintf(res->error, sizeof(res->error),
			         "Refused: %s resolves to %s, which is not a public address.",
			         u->host, text);
			freeaddrinfo(list);
			return -1;
		}
		if (n < MAX_PINNED && used < pinlen) {
			used += (size_t)snprintf(pin + used, pinlen - used,
			                         ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
			                         n ? "," : "", text);
			n++;
		}
	}
	freeaddrinfo(list);
	if (used >= pinlen) {
		snprintf(res->error, sizeof(res->error), "Could not pin the address of %s.", u->host);
		return -1;
	}
	return 0;
}

static void describe_failure(CURLcode rc, const char *errbuf, const struct guard *g,
                             const struct integ_request *rq, struct integ_result *res)
{
	if (g->refused[0] != '\0') {
		res->refused = 1;
		snprintf(res->address, sizeof(res->address), "%s", g->refused);
		snprintf(res->error, sizeof(res->error),
		         "Refused: the connection would go to %s, which is not a public address.",
		         g->refused);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		res->timed_out = 1;
		snprintf(res->error, sizeof(res->error), "No answer within %ld ms (timed out).",
		         rq->timeout_ms);
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		snprintf(res->error, sizeof(res->error), "Could not resolve the host name.");
	} else if (errbuf[0] != '\0') {
		snprintf(res->error, sizeof(res->error), "%s.", errbuf);
	} else {
		snprintf(res->error, sizeof(res->error), "%s.", curl_easy_strerror(rc));
	}
}

/* One request in progress: what libcurl needs to outlive the call that started it. */
struct xfer {
	CURL *curl;
	struct curl_slist *hdrs, *resolve;
	struct guard g;
	char errbuf[CURL_ERROR_SIZE];
	const struct integ_request *rq;
	struct integ_result *res;
	void *tag;
	struct xfer *next;                 /* the pool's free list */
};

static int curl_start(struct integ_result *res)
{
	static int curl_ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(res->error, sizeof(res->error), "The HTTP client could not start.");
			return -1;
		}
		curl_ready = 1;
	}
	return 0;
}

/*
 * Check rq's URL and (unless private targets are allowed or the host is an
 * address) resolve it to public addresses only; the pin line goes into pin
 * ("" when none is needed). 0 ok, -1 refused or unresolvable (res set).
 */
static int precheck(const struct integ_request *rq, struct integ_result *res, char *pin,
                    size_t pinlen)
{
	struct integ_url u;
	const char *msg;

	pin[0] = '\0';
	if ((msg = url_check(rq->url, rq->allow_private, 0, &u)) != NULL) {
		res->refused = 1;
		snprintf(res->error, sizeof(res->error), "Refused: %s", msg);
		return -1;
	}
	if (curl_start(res) != 0)
		return -1;
	if (!rq->allow_private && !u.host_is_ip)
		return resolve_public(&u, res, pin, pinlen);
	return 0;
}

/* Set x's handle up for rq (already prechecked; pin from precheck). 0 ok. */
static int xfer_setup(struct xfer *x, const struct integ_request *rq, struct integ_result *res,
                      const char *pin)
{
	memset(&x->g, 0, sizeof(x->g));
	x->g.allow_private = rq->allow_private;
	x->rq = rq;
	x->res = res;
	x->hdrs = x->resolve = NULL;
	if (pin[0] != '\0')
		x->resolve = curl_slist_append(NULL, pin);
	for (const char *const *h = rq->headers; h != NULL && *h != NULL; h++)
		x->hdrs = curl_slist_append(x->hdrs, *h);
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	x->errbuf[0] = '\0';
	curl_easy_setopt(x->curl, CURLOPT_URL, rq->url);
	curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, rq->allow_private ? "http,https" : "https");
	curl_easy_setopt(x->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->curl, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS, rq->timeout_ms);
	if (rq->connect_only) {
		curl_easy_setopt(x->curl, CURLOPT_CONNECT_ONLY, 1L);
	} else if (strcmp(rq->method, "GET") == 0 || rq->body == NULL) {
		curl_easy_setopt(x->curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, rq->method);
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(rq->body));
	}
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->curl, CURLOPT_USERAGENT, "settings-integrations/1");
	curl_easy_setopt(x->curl, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, keep_cb);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, res);
	curl_easy_setopt(x->curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->curl, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(x->curl, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt(x->curl, CURLOPT_OPENSOCKETDATA, &x->g);
	if (x->resolve != NULL)
		curl_easy_setopt(x->curl, CURLOPT_RESOLVE, x->resolve);
	return 0;
}

/* What x's transfer came to (rc: libcurl's code); frees its lists. 0 for a 2xx answer. */
static int xfer_finish(struct xfer *x, CURLcode rc)
{
	struct integ_result *res = x->res;
	const struct integ_request *rq = x->rq;
	curl_off_t total_us = 0;
	char *ip = NULL;
	int ok;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &res->status);
	if (curl_easy_getinfo(x->curl, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
		res->latency_ms = (long)(total_us / 1000);
	/* A reused connection opened no socket: the address is libcurl's. */
	if (x->g.connected[0] == '\0' &&
	    curl_easy_getinfo(x->curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL)
		snprintf(x->g.connected, sizeof(x->g.connected), "%s", ip);
	snprintf(res->address, sizeof(res->address), "%s", x->g.connected);
	if (rq->connect_only) {
		if (rc != CURLE_OK)
			describe_failure(rc, x->errbuf, &x->g, rq, res);
		ok = rc == CURLE_OK;
	} else {
		if (rc != CURLE_OK && res->status == 0)
			describe_failure(rc, x->errbuf, &x->g, rq, res);
		else if (res->status >= 300 && res->status < 400)
			snprintf(res->error, sizeof(res->error),
			         "Answered HTTP %ld, a redirect (redirects are not followed).", res->status);
		else if (res->status < 200 || res->status >= 300)
			snprintf(res->error, sizeof(res->error), "Answered HTTP %ld.", res->status);
		ok = res->status >= 200 && res->status < 300;
	}
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->resolve);
	x->hdrs = x->resolve = NULL;
	return ok ? 0 : -1;
}

/* Send one request with the SSRF rules (see integ_net.h). */
int integ_send(const struct integ_request *rq, struct integ_result *res)
{
	struct xfer x;
	char pin[1024];
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	if (precheck(rq, res, pin, sizeof(pin)) != 0)
		return -1;
	x.curl = curl_easy_init();
	if (x.curl == NULL) {
		snprintf(res->error, sizeof(res->error), "The HTTP client could not start.");
		return -1;
	}
	xfer_setup(&x, rq, res, pin);
	rc = xfer_finish(&x, curl_easy_perform(x.curl));
	curl_easy_cleanup(x.curl);
	return rc;
}

/*
 * The pool: one libcurl multi handle, whose connection cache keeps
 * connections open between requests to the same host, and a small cache of
 * checked name resolutions (a name's public addresses, for
 * DNS_CACHE_SECONDS), so that a batch to one endpoint costs one resolution
 * and one TLS handshake, not one per request.
 */
#define DNS_CACHE 16
#define DNS_CACHE_SECONDS 30

struct integ_pool {
	CURLM *multi;
	struct xfer *free_list;
	int active;
	struct {
		char key[300];         /* "host:port" */
		char pin[1024];
		time_t until;
	} dns[DNS_CACHE];
	int dns_next;
};

struct integ_pool *integ_pool_new(long max_connections)
{
	struct integ_pool *p = calloc(1, sizeof(*p));
	struct integ_result res;

	if (p == NULL || curl_start(&res) != 0 || (p->multi = curl_multi_init()) == NULL) {
		free(p);
		return NULL;
	}
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, max_connections);
	return p;
}

void integ_pool_free(struct integ_pool *p)
{
	if (p == NULL)
		return;
	while (p->free_list != NULL) {
		struct xfer *x = p->free_list;

		p->free_list = x->next;
		curl_easy_cleanup(x->curl);
		free(x);
	}
	curl_multi_cleanup(p->multi);
	free(p);
}

int integ_pool_active(const struct integ_pool *p)
{
	return p->active;
}

/* precheck, with the pool's cache of checked resolutions. */
static int pool_precheck(struct integ_pool *p, const struct integ_request *rq,
                         struct integ_result *res, char *pin, size_t pinlen)
{
	struct integ_url u;
	char key[300];
	const char *msg;
	time_t now = time(NULL);

	pin[0] = '\0';
	if (rq->allow_private || (msg = url_check(rq->url, 0, 0, &u)) != NULL || u.host_is_ip)
		return precheck(rq, res, pin, pinlen);
	snprintf(key, sizeof(key), "%s:%s", u.host, u.port);
	for (int i = 0; i < DNS_CACHE; i++)
		if (p->dns[i].until > now && strcmp(p->dns[i].key, key) == 0) {
			snprintf(pin, pinlen, "%s", p->dns[i].pin);
			return 0;
		}
	if (precheck(rq, res, pin, pinlen) != 0)
		return -1;
	snprintf(p->dns[p->dns_next].key, sizeof(p->dns[0].key), "%s", key);
	snprintf(p->dns[p->dns_next].pin, sizeof(p->dns[0].pin), "%s", pin);
	p->dns[p->dns_next].until = now + DNS_CACHE_SECONDS;
	p->dns_next = (p->dns_next + 1) % DNS_CACHE;
	return 0;
}

int integ_pool_start(struct integ_pool *p, const struct integ_request *rq,
                     struct integ_result *res, void *tag)
{
	struct xfer *x;
	char pin[1024];

	memset(res, 0, sizeof(*res));
	if (pool_precheck(p, rq, res, pin, sizeof(pin)) != 0)
		return -1;
	if ((x = p->free_list) != NULL) {
		p->free_list = x->next;
		curl_easy_reset(x->curl);
	} else if ((x = calloc(1, sizeof(*x))) == NULL || (x->curl = curl_easy_init()) == NULL) {
		free(x);
		snprintf(res->error, sizeof(res->error), "The HTTP client could not start.");
		return -1;
	}
	xfer_setup(x, rq, res, pin);
	x->tag = tag;
	curl_easy_setopt(x->curl, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(p->multi, x->curl) != CURLM_OK) {
		xfer_finish(x, CURLE_FAILED_INIT);
		x->next = p->free_list;
		p->free_list = x;
		snprintf(res->error, sizeof(res->error), "The HTTP client could not start.");
		return -1;
	}
	p->active++;
	return 0;
}

void *integ_pool_next(struct integ_pool *p, long ms, int *rc)
{
	for (int round = 0; round < 2; round++) {
		CURLMsg *m;
		int left, running;

		while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
			struct xfer *x = NULL;
			void *tag;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_multi_remove_handle(p->multi, x->curl);
			*rc = xfer_finish(x, m->data.result);
			tag = x->tag;
			x->next = p->free_list;
			p->free_list = x;
			p->active--;
			return tag;
		}
		if (p->active == 0)
			return NULL;
		if (round == 0) {
			if (ms > 0)
				curl_multi_poll(p->multi, NULL, 0, (int)ms, NULL);
			curl_multi_perform(p->multi, &running);
		}
	}
	return NULL;
}
