/* server.c: the process model: pre-forked FastCGI workers, or one plain CGI request */
#include <errno.h>
#include <fcgiapp.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#define MAX_WORKERS 64

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t in_request;

/* Worker: finish the request in flight, or leave at once when idle. */
static void worker_on_term(int sig)
{
	(void)sig;
	stopping = 1;
	if (!in_request)
		_exit(0);
}

static void master_on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void on_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;       /* no SA_RESTART: accept() must return on a signal */
	sigaction(sig, &sa, NULL);
}

/*
 * The FastCGI responder (the protocol's records, version 1): one request
 * at a time per connection, no multiplexing. Parameters are kept as
 * "NAME=value" strings in one buffer per connection, with no allocation per
 * parameter; the answer goes out in STDOUT records written straight from
 * the caller's buffer.
 */
enum {
	FCGI_BEGIN_REQUEST = 1, FCGI_ABORT_REQUEST = 2, FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4, FCGI_STDIN = 5, FCGI_STDOUT = 6, FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10, FCGI_UNKNOWN_TYPE = 11,
	FCGI_RESPONDER = 1, FCGI_KEEP_CONN = 1,
	FCGI_REQUEST_COMPLETE = 0, FCGI_CANT_MPX_CONN = 1, FCGI_UNKNOWN_ROLE = 3,
};

#define FCGI_MAX_PARAMS_BYTES (1024 * 1024)   /* all the parameters of a request */
#define FCGI_MAX_PARAMS 512
#define FCGI_DRAIN_MAX (16L << 20)            /* request body read and dropped at most */

struct fcgi {
	int fd;
	unsigned id;               /* the request being served */
	int keep;                  /* FCGI_KEEP_CONN */
	unsigned char in[8192];    /* bytes read from the connection */
	size_t in_pos, in_end;
	size_t rec_left, rec_pad;  /* of the STDIN record being read */
	int stdin_done;            /* the empty STDIN record came */
	int broken;                /* read error, EOF or protocol error */
	char *params;              /* "NAME=value\0" strings */
	size_t plen, pcap;
	char *envp[FCGI_MAX_PARAMS + 1];
};

static struct fcgi *current_fcgi;   /* the request being handled, for server_write */

/* n bytes from the connection; 0 ok, -1 at EOF or on error. */
static int fcgi_fill(struct fcgi *f, void *dst, size_t n)
{
	unsigned char *d = dst;

	while (n > 0) {
		if (f->in_pos == f->in_end) {
			ssize_t r = read(f->fd, f->in, sizeof(f->in));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				f->broken = 1;
				return -1;
			}
			f->in_pos = 0;
			f->in_end = (size_t)r;
		}
		size_t k = f->in_end - f->in_pos;

		if (k > n)
			k = n;
		if (d != NULL) {
			memcpy(d, f->in + f->in_pos, k);
			d += k;
		}
		f->in_pos += k;
		n -= k;
	}
	return 0;
}

/* Write all of iov; 0 ok, -1 when the connection is gone. */
static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void rec_header(unsigned char h[8], int type, unsigned id, size_t len)
{
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;                  /* no padding */
	h[7] = 0;
}

static int fcgi_record(struct fcgi *f, int type, unsigned id, const void *data, size_t len)
{
	unsigned char h[8];
	struct iovec iov[2] = { { h, 8 }, { (void *)data, len } };

	rec_header(h, type, id, len);
	return write_all(f->fd, iov, len ? 2 : 1);
}

/* STDOUT records for data (at most 65535 bytes each); 0 ok, -1 when gone. */
static int fcgi_stdout(struct fcgi *f, const char *data, size_t len)
{
	while (len > 0) {
		size_t k = len > 65535 ? 65535 : len;

		if (fcgi_record(f, FCGI_STDOUT, f->id, data, k) != 0)
			return -1;
		data += k;
		len -= k;
	}
	return 0;
}

static int fcgi_end(struct fcgi *f, unsigned id, int protocol_status)
{
	unsigned char body[8] = { 0, 0, 0, 0, (unsigned char)protocol_status, 0, 0, 0 };

	return fcgi_record(f, FCGI_END_REQUEST, id, body, sizeof(body));
}

/*
 * The end of a request: what is left of the answer as STDOUT records, the
 * empty STDOUT record and END_REQUEST, in one write (one wake-up of the web
 * server, not three). 0 ok, -1 when gone.
 */
static int fcgi_finish(struct fcgi *f, const char *data, size_t len)
{
	enum { CHUNKS = 64 };
	unsigned char heads[CHUNKS + 2][8];
	unsigned char body[8] = { 0, 0, 0, 0, FCGI_REQUEST_COMPLETE, 0, 0, 0 };
	struct iovec iov[2 * CHUNKS + 3];
	int n = 0, k = 0;

	/* A very large answer: all but its last chunks in records of their own first. */
	while (len > (size_t)CHUNKS * 65535) {
		if (fcgi_record(f, FCGI_STDOUT, f->id, data, 65535) != 0)
			return -1;
		data += 65535;
		len -= 65535;
	}
	while (len > 0) {
		size_t c = len > 65535 ? 65535 : len;

		rec_header(heads[k], FCGI_STDOUT, f->id, c);
		iov[n++] = (struct iovec){ heads[k++], 8 };
		iov[n++] = (struct iovec){ (void *)data, c };
		data += c;
		len -= c;
	}
	rec_header(heads[k], FCGI_STDOUT, f->id, 0);
	iov[n++] = (struct iovec){ heads[k++], 8 };
	rec_header(heads[k], FCGI_END_REQUEST, f->id, sizeof(body));
	iov[n++] = (struct iovec){ heads[k], 8 };
	iov[n++] = (struct iovec){ body, sizeof(body) };
	return write_all(f->fd, iov, n);
}

/* A name-value pair's length (1 or 4 bytes) from p[0..n); -1 when it does not fit. */
static long nv_len(const unsigned char *p, size_t n, size_t *used)
{
	if (n < 1)
		return -1;
	if (p[0] < 0x80) {
		*used = 1;
		return p[0];
	}
	if (n < 4)
		return -1;
	*used = 4;
	return (long)((unsigned long)(p[0] & 0x7f) << 24 | (unsigned long)p[1] << 16 |
	              (unsigned long)p[2] << 8 | p[3]);
}

/* The PARAMS stream (raw, in f->params) into "NAME=value" strings and envp. 0 ok. */
static int fcgi_parse_params(struct fcgi *f, const unsigned char *raw, size_t n)
{
	size_t pos = 0, out = 0, k = 0;

	/* each pair shrinks or keeps its size: lengths (2+ bytes) become '=' and NUL */
	while (pos < n) {
		size_t u1, u2;
		long nl = nv_len(raw + pos, n - pos, &u1), vl;

		if (nl < 0)
			return -1;
		vl = nv_len(raw + pos + u1, n - pos - u1, &u2);
		if (vl < 0 || (size_t)nl + (size_t)vl > n - pos - u1 - u2 || k == FCGI_MAX_PARAMS)
			return -1;
		pos += u1 + u2;
		memmove(f->params + out, raw + pos, (size_t)nl);
		f->params[out + (size_t)nl] = '=';
		memmove(f->params + out + (size_t)nl + 1, raw + pos + nl, (size_t)vl);
		f->params[out + (size_t)nl + 1 + (size_t)vl] = '\0';
		f->envp[k++] = f->params + out;
		out += (size_t)nl + (size_t)vl + 2;
		pos += (size_t)nl + (size_t)vl;
	}
	f->envp[k] = NULL;
	return 0;
}

/*
 * Read records up to the end of a request's PARAMS: 1 when a request is
 * ready (f->envp), 0 when the connection ended cleanly between requests,
 * -1 on error.
 */
static int fcgi_next(struct fcgi *f)
{
	int begun = 0;

	f->plen = 0;
	f->rec_left = f->rec_pad = 0;
	f->stdin_done = 0;
	for (;;) {
		unsigned char h[8], b[8];
		unsigned id;
		size_t len, pad;

		if (fcgi_fill(f, h, 8) != 0)
			return begun ? -1 : 0;
		if (h[0] != 1)
			return -1;
		id = (unsigned)h[2] << 8 | h[3];
		len = (size_t)h[4] << 8 | h[5];
		pad = h[6];
		if (id == 0) {                     /* a management record */
			if (h[1] == FCGI_GET_VALUES) {
				static const char v[] = "\x0e\x01" "FCGI_MAX_CONNS" "1"
				                        "\x0d\x01" "FCGI_MAX_REQS" "1"
				                        "\x0f\x01" "FCGI_MPXS_CONNS" "0";

				if (fcgi_fill(f, NULL, len + pad) != 0 ||
				    fcgi_record(f, FCGI_GET_VALUES_RESULT, 0, v, sizeof(v) - 1) != 0)
					return -1;
			} else {
				unsigned char u[8] = { h[1] };

				if (fcgi_fill(f, NULL, len + pad) != 0 ||
				    fcgi_record(f, FCGI_UNKNOWN_TYPE, 0, u, 8) != 0)
					return -1;
			}
			continue;
		}
		if (h[1] == FCGI_BEGIN_REQUEST) {
			if (len != 8 || fcgi_fill(f, b, 8) != 0 || fcgi_fill(f, NULL, pad) != 0)
				return -1;
			if (begun) {                   /* a second request on this connection */
				if (fcgi_end(f, id, FCGI_CANT_MPX_CONN) != 0)
					return -1;
				continue;
			}
			if (((unsigned)b[0] << 8 | b[1]) != FCGI_RESPONDER) {
				if (fcgi_end(f, id, FCGI_UNKNOWN_ROLE) != 0)
					return -1;
				continue;
			}
			begun = 1;
			f->id = id;
			f->keep = b[2] & FCGI_KEEP_CONN;
			continue;
		}
		if (!begun || id != f->id) {       /* not for the request being read */
			if (fcgi_fill(f, NULL, len + pad) != 0)
				return -1;
			continue;
		}
		if (h[1] == FCGI_ABORT_REQUEST) {
			if (fcgi_fill(f, NULL, len + pad) != 0 || fcgi_end(f, id, FCGI_REQUEST_COMPLETE) != 0)
				return -1;
			begun = 0;
			f->plen = 0;
			if (!f->keep)
				return 0;
			continue;
		}
		if (h[1] == FCGI_PARAMS) {
			if (len == 0) {                /* the end of the parameters */
				if (fcgi_fill(f, NULL, pad) != 0 ||
				    fcgi_parse_params(f, (const unsigned char *)f->params, f->plen) != 0)
					return -1;
				return 1;
			}
			if (len > FCGI_MAX_PARAMS_BYTES - f->plen)
				return -1;
			if (f->plen + len > f->pcap) {
				size_t cap = f->pcap ? f->pcap : 4096;
				char *p;

				while (cap < f->plen + len)
					cap *= 2;
				p = realloc(f->params, cap);
				if (p == NULL)
					return -1;
				f->params = p;
				f->pcap = cap;
			}
			if (fcgi_fill(f, f->params + f->plen, len) != 0 || fcgi_fill(f, NULL, pad) != 0)
				return -1;
			f->plen += len;
			continue;
		}
		/* STDIN before the end of PARAMS, or anything else: not a request we can serve */
		return -1;
	}
}

/* The request body, for http_parse: up to n bytes from the STDIN records; 0 at its end. */
static long fcgi_read(void *ctx, char *dst, size_t n)
{
	struct fcgi *f = ctx;

	while (f->rec_left == 0) {
		unsigned char h[8];

		if (f->stdin_done || f->broken)
			return 0;
		if (f->rec_pad > 0 && fcgi_fill(f, NULL, f->rec_pad) != 0)
			return -1;
		f->rec_pad = 0;
		if (fcgi_fill(f, h, 8) != 0 || h[0] != 1)
			return -1;
		if (h[1] != FCGI_STDIN || ((unsigned)h[2] << 8 | h[3]) != f->id) {
			/* another request's record, or an abort: skipped */
			if (fcgi_fill(f, NULL, ((size_t)h[4] << 8 | h[5]) + h[6]) != 0)
				return -1;
			continue;
		}
		f->rec_left = (size_t)h[4] << 8 | h[5];
		f->rec_pad = h[6];
		if (f->rec_left == 0) {
			f->stdin_done = 1;
			if (fcgi_fill(f, NULL, f->rec_pad) != 0)
				return -1;
			f->rec_pad = 0;
			return 0;
		}
	}
	if (n > f->rec_left)
		n = f->rec_left;
	/* what is buffered first, then straight from the socket */
	if (f->in_pos < f->in_end) {
		size_t k = f->in_end - f->in_pos;

		if (k > n)
			k = n;
		memcpy(dst, f->in + f->in_pos, k);
		f->in_pos += k;
		f->rec_left -= k;
		return (long)k;
	}
	for (;;) {
		ssize_t r = read(f->fd, dst, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			f->broken = 1;
			return -1;
		}
		f->rec_left -= (size_t)r;
		return (long)r;
	}
}

/* After the answer: read what is left of the body, so the server is not cut off writing it. */
static void fcgi_drain(struct fcgi *f)
{
	char sink[8192];
	long total = 0, r;

	while (!f->stdin_done && !f->broken && total < FCGI_DRAIN_MAX &&
	       (r = fcgi_read(f, sink, sizeof(sink))) > 0)
		total += r;
}

static long stdin_consumed;     /* plain CGI: body bytes read so far */

static long stdio_read(void *ctx, char *dst, size_t n)
{
	size_t r = fread(dst, 1, n, (FILE *)ctx);

	stdin_consumed += (long)r;
	return r == 0 && ferror((FILE *)ctx) ? -1 : (long)r;
}

/* During handle(): the answer so far, to the FastCGI connection or (plain CGI) stdout. */
int server_write(const char *data, size_t len)
{
	if (len == 0)
		return 0;
	if (current_fcgi != NULL)
		return fcgi_stdout(current_fcgi, data, len);
	if (fwrite(data, 1, len, stdout) != len)
		return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Bytes of answer buffer a worker keeps between requests. */
#define OUT_KEEP (1024 * 1024)

/*
 * Give free heap memory back to the system once more than OUT_KEEP bytes of
 * it have come free since the last time. A large page frees its answer
 * buffer at the end of its request, but its request arena only when the next
 * request starts, so the memory comes free over two requests. Counting the
 * free memory (mallinfo2) walks the allocator's bins, so it is done only
 * when the heap's top has grown by more than OUT_KEEP since the last count,
 * and once more after that. Pages already given back still count as free,
 * hence the mark (lowered when the heap is used again).
 */
static void trim_heap(void)
{
	static size_t mark;
	static uintptr_t top_mark;
	static int pending;
	uintptr_t top = (uintptr_t)sbrk(0);
	struct mallinfo2 mi;

	if (top > top_mark + OUT_KEEP)
		pending = 2;
	if (pending == 0) {
		if (top < top_mark)
			top_mark = top;
		return;
	}
	pending--;
	mi = mallinfo2();
	if (mi.fordblks > mark + OUT_KEEP) {
		malloc_trim(0);
		mark = mallinfo2().fordblks;
	} else if (mi.fordblks < mark) {
		mark = mi.fordblks;
	}
	top_mark = (uintptr_t)sbrk(0);
}

/* The worker loop: accept, handle, repeat, until told to stop. */
static void worker_loop(int listen_fd, pid_t master, const struct server_hooks *h)
{
	struct fcgi *f;
	struct buf out;

	on_signal(SIGTERM, worker_on_term);
	/*
	 * When the master dies (even by SIGKILL), the kernel sends us SIGTERM:
	 * an idle worker leaves at once, a busy one after its request, closing
	 * its database connection. A master that died before this line is
	 * caught by the parent check: we were already re-parented.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master)
		_exit(0);
	on_signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (h->init != NULL && h->init() != 0)
		_exit(3);
	buf_init(&out);
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		_exit(3);
	while (!stopping) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			continue;          /* a signal (stopping is checked), or the client left */
		f->fd = fd;
		f->in_pos = f->in_end = 0;
		f->broken = 0;
		/* one request, or several when the server keeps the connection */
		while (fcgi_next(f) == 1) {
			int sent;

			in_request = 1;
			buf_reset(&out);
			current_fcgi = f;
			h->handle(f->envp, fcgi_read, f, &out);
			current_fcgi = NULL;
			fcgi_drain(f);
			sent = fcgi_finish(f, out.data, out.len) == 0;
			in_request = 0;
			/* After an oversized answer, give the memory back: a worker's
			 * footprint stays that of its usual pages. */
			if (out.cap > OUT_KEEP) {
				buf_free(&out);
				buf_init(&out);
			}
			trim_heap();
			if (h->fatal != NULL && h->fatal())
				_exit(3);
			/* The master went away while we were busy (its signal came in_request). */
			if (getppid() != master)
				stopping = 1;
			if (!sent || !f->keep || f->broken || stopping)
				break;
		}
		close(fd);
	}
	buf_free(&out);
	if (h->done != NULL)
		h->done();
	_exit(0);
}

static pid_t spawn(int listen_fd, const struct server_hooks *h)
{
	pid_t master = getpid();
	pid_t pid = fork();

	if (pid == 0)
		worker_loop(listen_fd, master, h);
	if (pid < 0)
		perror("fork");
	return pid;
}

/* Master: keep n workers alive, stop them all on SIGTERM/SIGINT. */
static int master_loop(int listen_fd, int n, const struct server_hooks *h)
{
	pid_t pids[MAX_WORKERS] = {0};
	int fatal = 0;

	on_signal(SIGTERM, master_on_term);
	on_signal(SIGINT, master_on_term);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++)
		pids[i] = spawn(listen_fd, h);
	while (!stopping) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
				fprintf(stderr, "worker %d stopped on a fatal error; shutting down\n",
				        (int)pid);
				fatal = 1;
				stopping = 1;
				pids[i] = 0;
				break;
			}
			fprintf(stderr, "worker %d exited (status %d); starting another\n",
			        (int)pid, status);
			pids[i] = stopping ? 0 : spawn(listen_fd, h);
			if (pids[i] > 0)
				usleep(50000);  /* do not spin if workers die at once */
		}
	}
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	/* Wait up to 10 s for in-flight requests, then insist. */
	for (int waited = 0;; waited++) {
		int left = 0;

		for (int i = 0; i < n; i++) {
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == pids[i])
				pids[i] = 0;
			left += pids[i] > 0;
		}
		if (left == 0)
			break;
		if (waited == 100)
			for (int i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
		usleep(100000);
	}
	return fatal ? 1 : 0;
}

/* Bind the unix socket with a restrictive mode from the start. */
static int open_socket(const char *path)
{
	const char *mode_s = getenv("SETTINGS_SOCKET_MODE");
	const char *group = getenv("SETTINGS_SOCKET_GROUP");
	long mode = 0660;
	mode_t old;
	int fd;

	if (mode_s != NULL && *mode_s != '\0') {
		char *end;

		mode = strtol(mode_s, &end, 8);
		if (*end != '\0' || mode < 0 || mode > 0777) {
			fprintf(stderr, "SETTINGS_SOCKET_MODE must be octal\n");
			return -1;
		}
	}
	if (path[0] != '/' && strncmp(path, "./", 2) != 0 && strchr(path, ':') != NULL) {
		fprintf(stderr, "refusing TCP address %s: give a unix socket path\n", path);
		return -1;
	}
	unlink(path);
	old = umask(0777 & ~(mode_t)mode);
	fd = FCGX_OpenSocket(path, 128);
	umask(old);
	if (fd < 0) {
		fprintf(stderr, "cannot listen on %s: %s\n", path, strerror(errno));
		return -1;
	}
	chmod(path, (mode_t)mode);
	if (group != NULL) {
		struct group *g = getgrnam(group);

		if (g == NULL || chown(path, (uid_t)-1, g->gr_gid) != 0) {
			fprintf(stderr, "cannot give %s to group %s\n", path, group);
			return -1;
		}
	}
	return fd;
}

int server_is_cgi(const char *socket_path)
{
	return socket_path == NULL && FCGX_Init() == 0 && FCGX_IsCGI();
}

int server_run(const char *socket_path, int workers, const struct server_hooks *h)
{
	int fd, rc;

	if (FCGX_Init() != 0) {
		fprintf(stderr, "FastCGI initialisation failed\n");
		return 1;
	}
	if (workers < 1 || workers > MAX_WORKERS)
		workers = 2;
	if (socket_path != NULL) {
		fd = open_socket(socket_path);
		if (fd < 0)
			return 1;
		rc = master_loop(fd, workers, h);
		close(fd);
		unlink(socket_path);
		return rc;
	}
	if (!FCGX_IsCGI())     /* a FastCGI manager passed us a listening socket on stdin */
		return master_loop(0, workers, h);

	/* Plain CGI: one request on stdin/stdout. */
	{
		extern char **environ;
		struct buf out;

		if (h->init != NULL && h->init() != 0)
			return 1;
		buf_init(&out);
		h->handle(environ, stdio_read, stdin, &out);
		fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
		buf_free(&out);
		/*
		 * A body refused unread (413): read what is left of it (CONTENT_LENGTH
		 * bounds it), so that a server writing it to us (Apache's mod_cgid)
		 * finishes and delivers the answer instead of failing on a closed pipe.
		 */
		{
			const char *cl = getenv("CONTENT_LENGTH");
			long left = cl != NULL ? strtol(cl, NULL, 10) - stdin_consumed : 0;
			char sink[16384];
			size_t got;

			while (left > 0 && left <= (16L << 20) &&
			       (got = fread(sink, 1, left < (long)sizeof(sink) ? (size_t)left : sizeof(sink),
			                    stdin)) > 0)
				left -= (long)got;
		}
		if (h->done != NULL)
			h->done();
		/* The answer is out: skip the libraries' exit handlers (OpenSSL's
		 * clean-up alone is about a million instructions). */
		fflush(stderr);
		_exit(0);
	}
}
