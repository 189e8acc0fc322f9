/* server.h: run request handlers under FastCGI (pre-forked) or plain CGI */
#ifndef SETTINGS_SERVER_H
#define SETTINGS_SERVER_H

#include "http.h"
#include "util.h"

struct server_hooks {
	int (*init)(void);          /* once per worker; non-zero is fatal */
	/* Handle one request: environment, body reader; write the full answer into out. */
	void (*handle)(char **envp, http_reader read, void *read_ctx, struct buf *out);
	int (*fatal)(void);         /* checked after each request: 1 stops everything */
	void (*done)(void);         /* worker shutting down */
};

/*
 * With socket_path: bind that unix socket (mode SETTINGS_SOCKET_MODE, default
 * 0660, group SETTINGS_SOCKET_GROUP), pre-fork workers, replace those that
 * die, stop gracefully on SIGTERM. Without: FastCGI on stdin when it is a
 * socket, else one plain CGI request. Returns the process exit status.
 */
int server_run(const char *socket_path, int workers, const struct server_hooks *h);

/*
 * During handle(): send len bytes of the answer now (FastCGI stream or
 * stdout), before handle() returns; for answers too large to hold (a
 * streamed export). 0 ok, -1 when the client is gone.
 */
int server_write(const char *data, size_t len);

#endif
