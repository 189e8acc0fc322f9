/* integ_secrets.c: an integration's secrets as one encrypted JSON object, and key rotation */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "integ_secrets.h"
#include "util.h"

/* Overwrite a secret string, then free it. */
static void wipe_free(char *p)
{
	if (p != NULL) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

/* Set (or replace) one secret; the value is copied. */
int integ_secrets_set(struct integ_secrets *s, const char *name, const char *value)
{
	char *copy = value != NULL ? strdup(value) : NULL;
	size_t i;

	if (value != NULL && copy == NULL)
		return -1;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			break;
	if (i == s->n) {
		if (s->n == INTEG_SECRETS_MAX) {
			wipe_free(copy);
			return -1;
		}
		s->name[s->n] = name;
		s->value[s->n] = NULL;
		s->n++;
	}
	wipe_free(s->value[i]);
	s->value[i] = copy;
	return 0;
}

/* The value of one secret, NULL when not set. */
const char *integ_secrets_get(const struct integ_secrets *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return s->value[i];
	return NULL;
}

/* Wipe and free every value. */
void integ_secrets_wipe(struct integ_secrets *s)
{
	for (size_t i = 0; i < s->n; i++) {
		wipe_free(s->value[i]);
		s->value[i] = NULL;
	}
	s->n = 0;
}

/* {"name":"value",...} of the values that are set (malloc'd). */
char *integ_secrets_json(const struct integ_secrets *s)
{
	struct buf b;
	char *out;
	int first = 1;

	buf_init(&b);
	buf_putc(&b, '{');
	for (size_t i = 0; i < s->n; i++) {
		if (s->value[i] == NULL)
			continue;
		if (!first)
			buf_putc(&b, ',');
		first = 0;
		buf_json(&b, s->name[i]);
		buf_putc(&b, ':');
		buf_json(&b, s->value[i]);
	}
	buf_putc(&b, '}');
	out = strdup(b.data);
	OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
	return out;
}

/* Four hex digits at p into *out; 0 ok. */
static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Append code point cp as UTF-8. */
static void put_utf8(struct buf *b, unsigned cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | cp >> 6));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | cp >> 12));
		buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | cp >> 18));
		buf_putc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A JSON string at *p (after the opening quote) into b; advances *p past the closing quote. */
static int parse_string(const char **p, struct buf *b)
{
	const char *s = *p;

	buf_reset(b);
	for (;;) {
		unsigned char c = (unsigned char)*s++;

		if (c == '"')
			break;
		if (c == '\0' || c < 0x20)
			return -1;
		if (c != '\\') {
			buf_putc(b, (char)c);
			continue;
		}
		c = (unsigned char)*s++;
		switch (c) {
		case '"': case '\\': case '/': buf_putc(b, (char)c); break;
		case 'b': buf_putc(b, '\b'); break;
		case 'f': buf_putc(b, '\f'); break;
		case 'n': buf_putc(b, '\n'); break;
		case 'r': buf_putc(b, '\r'); break;
		case 't': buf_putc(b, '\t'); break;
		case 'u': {
			unsigned cp, lo;

			if (hex4(s, &cp) != 0)
				return -1;
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			if (cp == 0)
				return -1;
			put_utf8(b, cp);
			break;
		}
		default:
			return -1;
		}
	}
	*p = s;
	return 0;
}

/* Skip JSON white space. */
static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Names live as long as s: they point into a small static table of known names. */
static const char *known_name(const char *name)
{
	static const char *const names[] = {
		"bot_token", "webhook_url", "routing_key", "secret", "dsn", "api_key", "app_key", NULL,
	};

	for (const char *const *n = names; *n != NULL; n++)
		if (strcmp(*n, name) == 0)
			return *n;
	return NULL;
}

/* Parse what integ_secrets_json wrote: a flat object of known names and string values. */
int integ_secrets_parse(const char *json, struct integ_secrets *s)
{
	struct buf key, val;
	const char *p = json;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (json == NULL)
		return -1;
	buf_init(&key);
	buf_init(&val);
	p = skip_ws(p);
	if (*p++ != '{')
		goto done;
	p = skip_ws(p);
	if (*p == '}') {
		p++;
	} else {
		for (;;) {
			const char *name;

			if (*p++ != '"' || parse_string(&p, &key) != 0)
				goto done;
			p = skip_ws(p);
			if (*p++ != ':')
				goto done;
			p = skip_ws(p);
			if (*p++ != '"' || parse_string(&p, &val) != 0)
				goto done;
			name = known_name(key.data);
			if (name == NULL || integ_secrets_get(s, name) != NULL ||
			    integ_secrets_set(s, name, val.data) != 0)
				goto done;
			p = skip_ws(p);
			if (*p == ',') {
				p = skip_ws(p + 1);
				continue;
			}
			if (*p++ != '}')
				goto done;
			break;
		}
	}
	if (*skip_ws(p) == '\0')
		rc = 0;
done:
	if (val.data != NULL)
		OPENSSL_cleanse(val.data, val.cap);
	buf_free(&key);
	buf_free(&val);
	if (rc != 0)
		integ_secrets_wipe(s);
	return rc;
}

/* "<workspace_id>:<integration_id>": a ciphertext opens only on its own row. */
void integ_secrets_aad(const char *workspace_id, const char *integration_id, char out[80])
{
	snprintf(out, 80, "%s:%s", workspace_id, integration_id);
}

char *integ_secrets_encrypt(const struct keyring *k, const struct integ_secrets *s,
                            const char *workspace_id, const char *integration_id,
                            const char **key_id)
{
	char aad[80], *json, *ct;

	integ_secrets_aad(workspace_id, integration_id, aad);
	json = integ_secrets_json(s);
	if (json == NULL)
		return NULL;
	ct = secret_encrypt(k, json, aad, key_id);
	wipe_free(json);
	return ct;
}

int integ_secrets_decrypt(const struct keyring *k, const char *key_id, const char *ciphertext,
                          const char *workspace_id, const char *integration_id,
                          struct integ_secrets *s)
{
	char aad[80], *json;
	int rc;

	memset(s, 0, sizeof(*s));
	integ_secrets_aad(workspace_id, integration_id, aad);
	json = secret_decrypt(k, key_id, ciphertext, aad);
	if (json == NULL)
		return -1;
	rc = integ_secrets_parse(json, s);
	wipe_free(json);
	return rc;
}

/* Key rotation. */

static PGresult *rot_exec(PGconn *db, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	fprintf(stderr, "rotate-keys: database error: %s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

/*
 * `integrations --rotate-keys`: as the owner role (MIGRATE_URL, else
 * DATABASE_URL), in one transaction, re-encrypt under the ring's first key
 * every secret stored under another key, with one audit row per integration.
 * Exit 0 done, 1 failure (nothing changed), 2 bad key ring.
 */
int integ_rotate_keys(void)
{
	const char *spec = getenv("SETTINGS_CREDENTIALS_KEYS");
	const char *url = getenv("MIGRATE_URL");
	const char *current, *params[4];
	struct keyring *ring;
	char err[256];
	PGconn *db;
	PGresult *r = NULL;
	int status = 1, rows = 0, done = 0;

	if (url == NULL || *url == '\0')
		url = getenv("DATABASE_URL");
	if (url == NULL || *url == '\0')
		url = "host=127.0.0.1 port=5433 dbname=settings user=settings_owner";
	ring = keyring_parse(spec, err, sizeof(err));
	if (ring == NULL) {
		fprintf(stderr, "rotate-keys: SETTINGS_CREDENTIALS_KEYS: %s\n", err);
		return 2;
	}
	current = keyring_current_id(ring);
	db = PQconnectdb(url);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "rotate-keys: cannot connect: %s", PQerrorMessage(db));
		goto out;
	}
	/* Row-level security would hide other workspaces and make this a silent no-op. */
	r = rot_exec(db, "SELECT row_security_active('integrations_config')", 0, NULL);
	if (r == NULL)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 0), "f") != 0) {
		fprintf(stderr, "rotate-keys: role %s is subject to row-level security; connect as "
		        "the owner of the tables (MIGRATE_URL)\n", PQuser(db));
		goto out;
	}
	PQclear(r);
	r = rot_exec(db, "BEGIN", 0, NULL);
	if (r == NULL)
		goto out;
	PQclear(r);
	params[0] = current;
	r = rot_exec(db,
	             "SELECT id, workspace_id, encryption_key_id, credentials_encrypted "
	             "FROM integrations_config WHERE credentials_encrypted IS NOT NULL "
	             "AND encryption_key_id IS DISTINCT FROM $1 "
	             "ORDER BY workspace_id, id FOR UPDATE", 1, params);
	if (r == NULL)
		goto rollback;
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		const char *id = PQgetvalue(r, i, 0), *ws = PQgetvalue(r, i, 1);
		const char *old_key = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
		const char *new_key = NULL, *up[4];
		struct integ_secrets s;
		char *ct;
		PGresult *u;

		if (integ_secrets_decrypt(ring, old_key, PQgetvalue(r, i, 3), ws, id, &s) != 0) {
			fprintf(stderr, "rotate-keys: integration %s (workspace %s) cannot be decrypted "
			        "with key \"%s\": is that key in SETTINGS_CREDENTIALS_KEYS? "
			        "Nothing was changed.\n", id, ws, old_key ? old_key : "(none)");
			goto rollback;
		}
		ct = integ_secrets_encrypt(ring, &s, ws, id, &new_key);
		integ_secrets_wipe(&s);
		if (ct == NULL) {
			fprintf(stderr, "rotate-keys: encryption failed; nothing was changed\n");
			goto rollback;
		}
		up[0] = id;
		up[1] = ws;
		up[2] = ct;
		up[3] = new_key;
		u = rot_exec(db, "UPDATE integrations_config SET credentials_encrypted = $3, "
		             "encryption_key_id = $4 WHERE id = $1 AND workspace_id = $2", 4, up);
		free(ct);
		if (u == NULL)
			goto rollback;
		PQclear(u);
		up[2] = old_key;
		u = rot_exec(db, "INSERT INTO audit_logs (workspace_id, user_id, action, "
		             "resource_type, resource_id, changes) VALUES ($2, NULL, "
		             "'integration.credentials_rotated', 'integration', $1, "
		             "jsonb_build_object('old_key_id', $3::text, 'new_key_id', $4::text, "
		             "'credentials', '[redacted]'))", 4, up);
		if (u == NULL)
			goto rollback;
		PQclear(u);
		done++;
	}
	PQclear(r);
	r = rot_exec(db, "COMMIT", 0, NULL);
	if (r == NULL)
		goto out;
	printf("re-encrypted the secrets of %d integration(s) under key \"%s\"\n", done, current);
	status = 0;
	goto out;
rollback:
	PQclear(r);
	r = NULL;
	PQclear(PQexec(db, "ROLLBACK"));
out:
	PQclear(r);
	PQfinish(db);
	keyring_free(ring);
	return status;
}
