/* integ_net.h: outgoing integration requests: URL rules, address checks (SSRF), libcurl */
#ifndef SETTINGS_INTEG_NET_H
#define SETTINGS_INTEG_NET_H

#include <stddef.h>
#include <sys/socket.h>

#define INTEG_URL_MAX 2048

/* The parts of an accepted outgoing URL. */
struct integ_url {
	char scheme[8];            /* "https" (or "http" when private targets are allowed) */
	char host[256];            /* without IPv6 brackets */
	char port[8];              /* explicit or the scheme's default */
	int host_is_ip;            /* the host is an address literal */
};

/*
 * Check url as a target for outgoing requests. Returns NULL when acceptable
 * (filling *u when u is not NULL), else a short message for people. Rules:
 * https only, no user name or password, no fragment, a host name of DNS
 * labels or an address literal that is public (global unicast), no
 * single-label or "localhost" names. With allow_private (development and
 * tests), http and any host are accepted.
 */
const char *integ_url_check(const char *url, int allow_private, struct integ_url *u);

/*
 * 1 when the address is public (global unicast), 0 when it is loopback,
 * private, link-local, shared, multicast, reserved, documentation, or an
 * IPv4-mapped, NAT64 or 6to4 form of such an address.
 */
int integ_addr_public(const struct sockaddr *sa);
/* The same for a textual address; -1 when text is not an address literal. */
int integ_ip_public(const char *text);

/* One outgoing request. */
struct integ_request {
	const char *url;
	const char *method;        /* "POST" or "PUT" */
	const char *body;          /* sent as is */
	const char *const *headers; /* NULL-terminated "Name: value" lines */
	long timeout_ms;           /* whole request, connection included */
	int allow_private;         /* SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 */
	int connect_only;          /* health check: DNS, connection and TLS, no request */
};

/* What became of it. */
struct integ_result {
	int refused;               /* not sent: the URL or its address was refused */
	int timed_out;
	long status;               /* HTTP status, 0 when no answer came */
	long latency_ms;
	char address[64];          /* the address connected to (or refused), if known */
	char error[512];           /* for people, when status is not 2xx */
	char response[4097];       /* the answer's first 4 KB, printable ASCII (others as '?') */
	char retry_after[64];      /* the Retry-After header, if any */
};

/*
 * Send rq. The URL rules above apply, except that host names are not
 * judged by their look: unless allow_private, the host is resolved, every address
 * it resolves to must be public, and the connection is pinned to those
 * addresses (CURLOPT_RESOLVE) and checked again when the socket is opened,
 * so a second DNS answer cannot lead elsewhere. No proxy, no redirects.
 * Returns 0 when a 2xx answer came back (with connect_only: when the
 * connection and TLS handshake succeeded), -1 otherwise (see res). A GET
 * sends no body (body may be NULL).
 */
int integ_send(const struct integ_request *rq, struct integ_result *res);

/*
 * Many requests at once (the delivery worker): a pool keeps connections
 * open between requests to the same host (up to max_connections idle
 * ones) and reuses each name's checked resolution for a short while; the
 * rules are those of integ_send, the address check included (every new
 * connection passes it). integ_pool_start starts rq (rq, its strings and
 * res must live until it finishes): 0 started, -1 refused or failed at once
 * (res says why; nothing was sent). integ_pool_next waits up to ms for
 * progress and returns the tag of a finished request (its res filled, *rc 0
 * for a 2xx answer as integ_send returns), or NULL when none finished.
 */
struct integ_pool;
struct integ_pool *integ_pool_new(long max_connections);
void integ_pool_free(struct integ_pool *p);
int integ_pool_start(struct integ_pool *p, const struct integ_request *rq,
                     struct integ_result *res, void *tag);
void *integ_pool_next(struct integ_pool *p, long ms, int *rc);
int integ_pool_active(const struct integ_pool *p);

#endif
