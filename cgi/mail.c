/* mail.c: account emails through the sendmail-compatible SETTINGS_SENDMAIL command */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "mail.h"

#define MAIL_TIMEOUT_SECONDS 10

enum mail_mode mail_mode(void)
{
	const char *command = getenv("SETTINGS_SENDMAIL");
	const char *base = getenv("SETTINGS_BASE_URL");
	const char *log = getenv("SETTINGS_MAIL_LOG");

	if (command != NULL && *command != '\0' && base != NULL && *base != '\0')
		return MAIL_COMMAND;
	if (log != NULL && strcmp(log, "1") == 0)
		return MAIL_LOG;
	return MAIL_NONE;
}

void mail_text(struct buf *b, const char *s)
{
	for (; s != NULL && *s; s++)
		buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* An RFC 2047 encoded-word header value, in words of at most 45 bytes of text. */
static void header_words(struct buf *b, const char *s)
{
	char enc[128];
	size_t len = strlen(s);

	for (size_t off = 0; off < len;) {
		size_t n = len - off > 45 ? 45 : len - off;

		while (n > 1 && off + n < len && ((unsigned char)s[off + n] & 0xC0) == 0x80)
			n--;
		if (crypto_b64_encode(s + off, n, enc, sizeof(enc)) < 0)
			return;
		buf_printf(b, "%s=?UTF-8?B?%s?=", off ? "\n " : "", enc);
		off += n;
	}
}

/* The host part of SETTINGS_BASE_URL, for the Message-ID and a default From. */
static void base_host(char *out, size_t n)
{
	const char *base = getenv("SETTINGS_BASE_URL"), *s, *e;
	size_t len;

	snprintf(out, n, "localhost");
	if (base == NULL || (s = strstr(base, "://")) == NULL)
		return;
	s += 3;
	e = s + strcspn(s, ":/");
	len = (size_t)(e - s);
	if (len == 0 || len >= n)
		return;
	for (const char *p = s; p < e; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return;
	memcpy(out, s, len);
	out[len] = '\0';
}

void mail_compose(struct buf *m, const char *to, const char *subject, const char *body)
{
	const char *from = getenv("SETTINGS_MAIL_FROM");
	unsigned char rnd[12];
	char date[64], mid[25], host[256];
	time_t now = time(NULL);
	struct tm tm;

	base_host(host, sizeof(host));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	crypto_random(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(mid + 2 * i, 3, "%02x", rnd[i]);
	if (from == NULL || *from == '\0' || strpbrk(from, "\r\n") != NULL)
		buf_printf(m, "From: no-reply@%s\n", host);
	else
		buf_printf(m, "From: %s\n", from);
	buf_puts(m, "To: ");
	mail_text(m, to);
	buf_puts(m, "\nSubject: ");
	header_words(m, subject);
	buf_printf(m, "\nDate: %s\nMessage-ID: <%s@%s>\nMIME-Version: 1.0\n"
	           "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s",
	           date, mid, host, body);
}

/*
 * Pipe message to the command (split on blanks, no shell, with -t -i:
 * recipients from the headers). The command gets the message on stdin,
 * stderr for its stdout and none of the caller's other descriptors (a
 * worker's web server and database connections). Writing and waiting
 * together take at most MAIL_TIMEOUT_SECONDS. 0 when it exited 0.
 */
int mail_send(const char *command, const struct buf *message)
{
	char copy[1024], *argv[16], *save = NULL;
	int argc = 0, fds[2], status = -1;
	size_t off = 0;
	pid_t pid;
	int64_t deadline = now_ms() + MAIL_TIMEOUT_SECONDS * 1000;

	if (command == NULL || strlen(command) >= sizeof(copy))
		return -1;
	strcpy(copy, command);
	for (char *t = strtok_r(copy, " \t", &save); t != NULL && argc < 13;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	if (argc == 0)
		return -1;
	argv[argc++] = "-t";
	argv[argc++] = "-i";
	argv[argc] = NULL;
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		dup2(2, 1);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	/* A command that does not read cannot hold us past the deadline. */
	while (off < message->len && now_ms() <= deadline) {
		struct pollfd p = { fds[1], POLLOUT, 0 };
		ssize_t w;

		if (poll(&p, 1, 100) <= 0)
			continue;
		w = write(fds[1], message->data + off, message->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(5000);
	}
	return off == message->len && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void mail_send_detached(const char *tag, const struct buf *message)
{
	enum mail_mode mode = mail_mode();
	pid_t child = fork();
	int status;

	if (child < 0) {
		fprintf(stderr, "[%s] mail: fork failed\n", tag);
		return;
	}
	if (child > 0) {
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		return;
	}
	/* The child: it hands on to a grandchild whether or not there is a message. */
	if (fork() != 0 || message == NULL || mode == MAIL_NONE)
		_exit(0);
	/*
	 * The grandchild, adopted by init: none of the worker's connections
	 * (the web server's, the database's) stay open here; stdout (a CGI
	 * answer) goes to the log.
	 */
	{
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			if (null > 2)
				close(null);
		}
		dup2(2, 1);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	}
	setsid();
	/*
	 * Half a second later: the answer is out and the request's transaction
	 * (the token the link names) has committed, and the command's own work
	 * does not compete with the answer it must not slow down.
	 */
	usleep(500 * 1000);
	if (mode == MAIL_LOG) {
		fprintf(stderr, "[%s] mail not sent (development: no SETTINGS_SENDMAIL); "
		        "the message follows\n%s\n[%s] end of message\n", tag, message->data, tag);
		_exit(0);
	}
	if (mail_send(getenv("SETTINGS_SENDMAIL"), message) != 0)
		fprintf(stderr, "[%s] mail: %s failed or timed out\n", tag, getenv("SETTINGS_SENDMAIL"));
	_exit(0);
}
