/* baseline.c: the benchmark's yardstick: a bare FastCGI page, one prepared query, fixed bytes */
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Usage: baseline SOCKET FILE (SETTINGS_WORKERS processes). Serves FILE's bytes for every request after
 * running one prepared query, as the cheapest possible page that still talks
 * to PostgreSQL. Not part of the product.
 */
int main(int argc, char **argv)
{
	FCGX_Request req;
	PGconn *db;
	FILE *f;
	char *page;
	long len;
	int fd;

	if (argc != 3)
		return 2;
	f = fopen(argv[2], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
		return 1;
	rewind(f);
	page = malloc((size_t)len + 1);
	if (page == NULL || fread(page, 1, (size_t)len, f) != (size_t)len)
		return 1;
	fclose(f);
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
		FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
		             "Content-Length: %ld\r\n\r\n", len);
		FCGX_PutStr(page, (int)len, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
