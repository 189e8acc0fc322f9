/* integ_secrets.h: an integration's secrets as one encrypted JSON object, and key rotation */
#ifndef SETTINGS_INTEG_SECRETS_H
#define SETTINGS_INTEG_SECRETS_H

#include <stddef.h>

#include "crypto.h"

#define INTEG_SECRETS_MAX 4        /* secret fields of one integration, at most */

/* The secret fields of one integration: names and plaintext values (NULL = not set). */
struct integ_secrets {
	size_t n;
	const char *name[INTEG_SECRETS_MAX];
	char *value[INTEG_SECRETS_MAX];  /* malloc'd; integ_secrets_wipe frees them */
};

/* Set name to a copy of value (replacing an earlier value). 0 ok, -1 when full. */
int integ_secrets_set(struct integ_secrets *s, const char *name, const char *value);
/* The value of name, NULL when not set. */
const char *integ_secrets_get(const struct integ_secrets *s, const char *name);
/* Overwrite and free every value. */
void integ_secrets_wipe(struct integ_secrets *s);

/*
 * Serialise as a flat JSON object {"name":"value",...} (malloc'd, the caller
 * wipes and frees it), or parse one back (only string values; anything else
 * is an error). Parse returns 0, or -1 on malformed input (s is then empty).
 */
char *integ_secrets_json(const struct integ_secrets *s);
int integ_secrets_parse(const char *json, struct integ_secrets *s);

/* The associated data that binds a ciphertext to its row: "<workspace_id>:<integration_id>". */
void integ_secrets_aad(const char *workspace_id, const char *integration_id, char out[80]);

/*
 * Encrypt s under the ring's current key: a malloc'd base64 ciphertext and
 * *key_id (pointing into the ring); NULL on failure. Decrypt fills s from a
 * ciphertext made under key_id; 0 ok, -1 (unknown key, wrong row, tampered).
 */
char *integ_secrets_encrypt(const struct keyring *k, const struct integ_secrets *s,
                            const char *workspace_id, const char *integration_id,
                            const char **key_id);
int integ_secrets_decrypt(const struct keyring *k, const char *key_id, const char *ciphertext,
                          const char *workspace_id, const char *integration_id,
                          struct integ_secrets *s);

/*
 * The key rotation command (`integrations --rotate-keys`): re-encrypt every
 * stored secret that is not under the ring's current key, in one
 * transaction, with an audit row per integration. Connects as the owner
 * role (MIGRATE_URL, else DATABASE_URL), since it crosses workspaces.
 * Returns the process exit status.
 */
int integ_rotate_keys(void);

#endif
