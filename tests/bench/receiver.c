/* receiver.c: a fast local HTTP receiver for the delivery benchmark and the several-hosts suite */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: receiver PORT [LOG]
 * Listens on 127.0.0.1:PORT; HTTP/1.1 with keep-alive (and pipelining), one
 * thread, epoll. Every request is checked for the basics of its format and
 * answered 200 ("ok"), or 400 when a check fails:
 *   webhook (any path under /ok or /hook/): POST or PUT, a JSON
 *     Content-Type, X-Settings-Delivery (36 characters), X-Settings-Event,
 *     X-Settings-Timestamp, a body; /hook/bearer/...: "Authorization:
 *     Bearer"; /hook/hmac/...: "X-Settings-Signature: sha256=";
 *   Slack: POST /api/chat.postMessage with "Authorization: Bearer", POST
 *     /api/auth.test, POST /services/...;
 *   PagerDuty: POST /v2/enqueue with "routing_key" in the body;
 *   Sentry: POST /api/<project>/store/ or /envelope/ with X-Sentry-Auth;
 *   Datadog: POST /api/v1/events, GET /api/v1/validate, with DD-API-KEY.
 * GET /_count answers "requests N bad M" (the counting itself is excluded)
 * and, with LOG, first flushes it: one line per accepted request, its
 * X-Settings-Delivery (or "-"), to count deliveries exactly. SIGTERM or
 * SIGINT stops it. Not part of the product.
 */

#define MAX_EVENTS 256
#define BUF_MAX (1 << 20)

struct conn {
	int fd;
	char *in;
	size_t len, cap;
	char *out;
	size_t olen, ocap, osent;
	int closing;
};

static unsigned long long requests, bad;
static FILE *idlog;
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The value of header name in the header block [h, end), its length in *n; NULL if absent. */
static const char *header(const char *h, const char *end, const char *name, size_t *n)
{
	size_t nl = strlen(name);

	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - h) > nl && h[nl] == ':' && strncasecmp(h, name, nl) == 0) {
			const char *v = h + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*n = (size_t)(eol - v);
			while (*n > 0 && (v[*n - 1] == '\r' || v[*n - 1] == ' '))
				(*n)--;
			return v;
		}
		h = eol + 1;
	}
	return NULL;
}

static int has(const char *h, const char *end, const char *name)
{
	size_t n;

	return header(h, end, name, &n) != NULL && n > 0;
}

static int starts(const char *v, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return v != NULL && n >= pl && strncmp(v, prefix, pl) == 0;
}

static int path_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* 1 when the request has the basics of the format its method and path name. */
static int check(const char *m, size_t ml, const char *p, size_t pl, const char *h,
                 const char *hend, const char *body, size_t blen)
{
	int post = ml == 4 && memcmp(m, "POST", 4) == 0;
	int put = ml == 3 && memcmp(m, "PUT", 3) == 0;
	int get = ml == 3 && memcmp(m, "GET", 3) == 0;
	const char *v;
	size_t n;

	if (starts(p, pl, "/ok") || starts(p, pl, "/hook/")) {
		if (!(post || put) || blen == 0 || !has(h, hend, "X-Settings-Event") ||
		    !has(h, hend, "X-Settings-Timestamp"))
			return 0;
		v = header(h, hend, "X-Settings-Delivery", &n);
		if (v == NULL || n != 36)
			return 0;
		v = header(h, hend, "Content-Type", &n);
		if (!starts(v, n, "application/json"))
			return 0;
		if (starts(p, pl, "/hook/bearer/")) {
			v = header(h, hend, "Authorization", &n);
			return starts(v, n, "Bearer ") && n > 7;
		}
		if (starts(p, pl, "/hook/hmac/")) {
			v = header(h, hend, "X-Settings-Signature", &n);
			return starts(v, n, "sha256=") && n == 7 + 64;
		}
		return 1;
	}
	if (path_is(p, pl, "/api/chat.postMessage")) {
		v = header(h, hend, "Authorization", &n);
		return post && starts(v, n, "Bearer ") && n > 7 && blen > 0;
	}
	if (path_is(p, pl, "/api/auth.test"))
		return post && has(h, hend, "Authorization");
	if (starts(p, pl, "/services/"))
		return post && blen > 0;
	if (path_is(p, pl, "/v2/enqueue"))
		return post && blen > 0 && memmem(body, blen, "\"routing_key\"", 13) != NULL;
	if (starts(p, pl, "/api/") && pl > 12 &&
	    (memmem(p, pl, "/store/", 7) != NULL || memmem(p, pl, "/envelope/", 10) != NULL))
		return post && blen > 0 && has(h, hend, "X-Sentry-Auth");
	if (path_is(p, pl, "/api/v1/events"))
		return post && blen > 0 && has(h, hend, "DD-API-KEY");
	if (path_is(p, pl, "/api/v1/validate"))
		return get && has(h, hend, "DD-API-KEY");
	return 0;
}

static void out_append(struct conn *c, const char *s, size_t n)
{
	if (c->olen + n > c->ocap) {
		size_t cap = c->ocap ? c->ocap : 4096;

		while (cap < c->olen + n)
			cap *= 2;
		c->out = realloc(c->out, cap);
		if (c->out == NULL)
			abort();
		c->ocap = cap;
	}
	memcpy(c->out + c->olen, s, n);
	c->olen += n;
}

static void answer(struct conn *c, int status, const char *body, int close_after)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
	                 status, status == 200 ? "OK" : "Bad Request", strlen(body),
	                 close_after ? "Connection: close\r\n" : "");

	out_append(c, head, (size_t)n);
	out_append(c, body, strlen(body));
}

/*
 * Handle every complete request in c->in. Returns -1 on a malformed one
 * (the connection closes after the answers so far).
 */
static int handle(struct conn *c)
{
	size_t off = 0;

	for (;;) {
		char *start = c->in + off, *end = c->in + c->len, *hend, *sp1, *sp2, *eol;
		const char *v;
		size_t n, clen = 0, total;
		int close_after = 0;

		hend = memmem(start, (size_t)(end - start), "\r\n\r\n", 4);
		if (hend == NULL)
			break;
		eol = memchr(start, '\n', (size_t)(hend - start) + 2);
		sp1 = memchr(start, ' ', (size_t)(eol - start));
		sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
		if (sp1 == NULL || sp2 == NULL)
			return -1;
		v = header(eol + 1, hend + 2, "Content-Length", &n);
		if (v != NULL) {
			char num[24];

			if (n == 0 || n >= sizeof(num))
				return -1;
			memcpy(num, v, n);
			num[n] = '\0';
			clen = strtoul(num, NULL, 10);
			if (clen > BUF_MAX)
				return -1;
		}
		total = (size_t)(hend + 4 - start) + clen;
		if ((size_t)(end - start) < total)
			break;
		v = header(eol + 1, hend + 2, "Connection", &n);
		if ((v != NULL && n == 5 && strncasecmp(v, "close", 5) == 0) ||
		    memmem(sp2, (size_t)(eol - sp2), "HTTP/1.0", 8) != NULL)
			close_after = 1;
		if (sp1 - start == 3 && memcmp(start, "GET", 3) == 0 && path_is(sp1 + 1, (size_t)(sp2 - sp1 - 1), "/_count")) {
			char body[96];

			if (idlog != NULL)
				fflush(idlog);
			snprintf(body, sizeof(body), "requests %llu bad %llu\n", requests, bad);
			answer(c, 200, body, close_after);
		} else {
			requests++;
			if (check(start, (size_t)(sp1 - start), sp1 + 1, (size_t)(sp2 - sp1 - 1), eol + 1,
			          hend + 2, hend + 4, clen)) {
				if (idlog != NULL) {
					v = header(eol + 1, hend + 2, "X-Settings-Delivery", &n);
					if (v != NULL)
						fprintf(idlog, "%.*s\n", (int)n, v);
					else
						fputs("-\n", idlog);
				}
				answer(c, 200, "{\"ok\":true}", close_after);
			} else {
				bad++;
				answer(c, 400, "the request does not match its format\n", close_after);
			}
		}
		off += total;
		if (close_after) {
			c->closing = 1;
			break;
		}
	}
	memmove(c->in, c->in + off, c->len - off);
	c->len -= off;
	return 0;
}

static void conn_free(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Write what is pending; 0 when all is written, 1 when it must wait, -1 on an error. */
static int flush_out(struct conn *c)
{
	while (c->osent < c->olen) {
		ssize_t w = write(c->fd, c->out + c->osent, c->olen - c->osent);

		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 1;
			return -1;
		}
		c->osent += (size_t)w;
	}
	c->olen = c->osent = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	struct epoll_event ev, evs[MAX_EVENTS];
	struct sigaction sa;
	int lfd, ep, one = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: receiver PORT [LOG]\n");
		return 2;
	}
	if (argc == 3 && (idlog = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1024) != 0) {
		perror("receiver: bind");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stopping) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 500);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (c == NULL)
						abort();
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				int f = flush_out(c);

				if (f < 0 || (f == 0 && c->closing)) {
					conn_free(ep, c);
					continue;
				}
				if (f == 0) {
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				int gone = 0, f;

				for (;;) {
					ssize_t r;

					if (c->cap - c->len < 16384) {
						c->cap = c->cap ? c->cap * 2 : 65536;
						if (c->cap > 2 * BUF_MAX + 65536) {
							gone = 1;
							break;
						}
						c->in = realloc(c->in, c->cap);
						if (c->in == NULL)
							abort();
					}
					r = read(c->fd, c->in + c->len, c->cap - c->len - 1);
					if (r > 0) {
						c->len += (size_t)r;
						continue;
					}
					if (r < 0 && (errno == EAGAIN || errno == EINTR))
						break;
					gone = 1;
					break;
				}
				if (handle(c) != 0) {
					answer(c, 400, "malformed request\n", 1);
					c->closing = 1;
				}
				f = flush_out(c);
				if (f < 0 || (f == 0 && (c->closing || gone))) {
					conn_free(ep, c);
					continue;
				}
				if (f == 1) {
					ev.events = EPOLLIN | EPOLLOUT;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			}
		}
	}
	if (idlog != NULL)
		fclose(idlog);
	return 0;
}
