/* server.c: the process model: pre-forked FastCGI workers, or one plain CGI request */
#include <errno.h>
#include <fcgiapp.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
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

static long fcgi_read(void *ctx, char *dst, size_t n)
{
	int chunk = n > 65536 ? 65536 : (int)n;

	return FCGX_GetStr(dst, chunk, (FCGX_Stream *)ctx);
}

static long stdin_consumed;     /* plain CGI: body bytes read so far */

static long stdio_read(void *ctx, char *dst, size_t n)
{
	size_t r = fread(dst, 1, n, (FILE *)ctx);

	stdin_consumed += (long)r;
	return r == 0 && ferror((FILE *)ctx) ? -1 : (long)r;
}

/* The request being handled: where server_write() sends (NULL: stdout, plain CGI). */
static FCGX_Stream *current_out;

int server_write(const char *data, size_t len)
{
	if (len == 0)
		return 0;
	if (current_out != NULL)
		return FCGX_PutStr(data, (int)len, current_out) == (int)len ? 0 : -1;
	if (fwrite(data, 1, len, stdout) != len)
		return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Bytes of answer buffer a worker keeps between requests. */
#define OUT_KEEP (1024 * 1024)

/*
 * Give free heap memory back to the system once more than OUT_KEEP bytes of
 * it have come free since the last time. Checked after every request: a
 * large page frees its answer buffer at the end of its request, but its
 * request arena only when the next request starts, so the memory comes free
 * over two requests. Pages already given back still count as free, hence the
 * mark (lowered when the heap is used again).
 */
static void trim_heap(void)
{
	static size_t mark;
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks > mark + OUT_KEEP) {
		malloc_trim(0);
		mark = mallinfo2().fordblks;
	} else if (mi.fordblks < mark) {
		mark = mi.fordblks;
	}
}

/* The worker loop: accept, handle, repeat, until told to stop. */
static void worker_loop(int listen_fd, pid_t master, const struct server_hooks *h)
{
	FCGX_Request request;
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
	FCGX_InitRequest(&request, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stopping) {
		if (FCGX_Accept_r(&request) < 0) {
			if (stopping)
				break;
			continue;
		}
		in_request = 1;
		buf_reset(&out);
		current_out = request.out;
		h->handle(request.envp, fcgi_read, request.in, &out);
		FCGX_PutStr(out.data, (int)out.len, request.out);
		current_out = NULL;
		FCGX_Finish_r(&request);
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
			break;
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
