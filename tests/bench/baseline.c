/* baseline.c: the benchmark's yardstick: a bare FastCGI page, one prepared query, fixed bytes */
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Usage: baseline SOCKET FILE [HEADERS] (SETTINGS_WORKERS processes). Serves
 * FILE's bytes for every request after running one prepared query, as the
 * cheapest possible page that still talks to PostgreSQL. With HEADERS (a
 * file of "Name: value" lines), those are the response's header lines, so
 * that it writes the very bytes the measured page writes; without, only
 * Content-Type and Content-Length. Not part of the product.
 */
/* The whole of a file, NUL-terminated, its length in *len; NULL on failure. */
static char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (*len = ftell(f)) >= 0) {
		rewind(f);
		data = malloc((size_t)*len + 1);
		if (data != NULL && fread(data, 1, (size_t)*len, f) != (size_t)*len) {
			free(data);
			data = NULL;
		}
		if (data != NULL)
			data[*len] = '\0';
	}
	if (f != NULL)
		fclose(f);
	return data;
}

int main(int argc, char **argv)
{
	FCGX_Request req;
	PGconn *db;
	char *page, *head;
	long len, hlen;
	int fd;

	if (argc != 3 && argc != 4)
		return 2;
	page = slurp(argv[2], &len);
	if (page == NULL)
		return 1;
	if (argc == 4) {
		head = slurp(argv[3], &hlen);
		if (head == NULL)
			return 1;
	} else {
		head = malloc(128);
		if (head == NULL)
			return 1;
		hlen = snprintf(head, 128, "Content-Type: text/html; charset=utf-8\r\n"
		                "Content-Length: %ld\r\n", len);
	}
	FCGX_Init();
	fd = FCGX_OpenSocket(argv[1], 128);
	if (fd < 0)
		return 1;
	/* As many processes as the pages get workers, for a fair comparison. */
	for (int n = atoi(getenv("SETTINGS_WORKERS") ? getenv("SETTINGS_WORKERS") : "1"); n > 1; n--)
		if (fork() == 0)
			break;
	db = PQconnectdb(getenv("DATABASE_URL"));
	if (PQstatus(db) != CONNECTION_OK)
		return 1;
	PQclear(PQprepare(db, "one", "SELECT 1", 0, NULL));
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		PQclear(PQexecPrepared(db, "one", 0, NULL, NULL, NULL, 0));
		FCGX_PutStr("Status: 200 OK\r\n", 16, req.out);
		FCGX_PutStr(head, (int)hlen, req.out);
		FCGX_PutStr("\r\n", 2, req.out);
		FCGX_PutStr(page, (int)len, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
