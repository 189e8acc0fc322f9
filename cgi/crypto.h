/* crypto.h: random tokens, hashes, HMAC, constant-time compare, AES-256-GCM, bcrypt */
#ifndef SETTINGS_CRYPTO_H
#define SETTINGS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n cryptographically random bytes (OpenSSL); 0 ok, -1 failure. */
int crypto_random(void *buf, size_t n);

/*
 * A new URL-safe token: 32 random bytes as unpadded base64url (43 chars) into
 * out (at least 44 bytes). 0 ok, -1 failure.
 */
int crypto_token(char out[44]);

/* Lowercase hex SHA-256 of data into out (65 bytes incl. NUL). */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);

/* HMAC-SHA256(key, data) as lowercase hex into out (65 bytes). */
void crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *data,
                            size_t len, char out[65]);

/* 1 when a and b are equal strings, compared in time independent of content. */
int crypto_equal(const char *a, const char *b);

/* base64 (standard alphabet, padded) and base64url (unpadded). Return length or -1. */
int crypto_b64_encode(const void *in, size_t len, char *out, size_t outcap);
int crypto_b64_decode(const char *in, void *out, size_t outcap);
int crypto_b64url_encode(const void *in, size_t len, char *out, size_t outcap);

/*
 * Key ring for secrets at rest, from "id:base64key,id2:base64key2" (32-byte
 * keys). The first key encrypts; every key decrypts.
 */
struct keyring;
struct keyring *keyring_parse(const char *spec, char *err, size_t errlen);
void keyring_free(struct keyring *k);
const char *keyring_current_id(const struct keyring *k);

/*
 * AES-256-GCM with a fresh 96-bit nonce; aad binds the ciphertext to its row.
 * Output is base64(nonce || ciphertext || tag), malloc'd, and the key id used
 * is stored in *key_id (points into the ring). NULL on failure.
 */
char *secret_encrypt(const struct keyring *k, const char *plaintext,
                     const char *aad, const char **key_id);
/* Inverse of secret_encrypt with the key named key_id; malloc'd, NULL on failure. */
char *secret_decrypt(const struct keyring *k, const char *key_id,
                     const char *b64, const char *aad);

/*
 * bcrypt ($2b$) via crypt_r. password_hash writes a new hash with the given
 * cost into out (at least 64 bytes); 0 ok. password_verify returns 1 on match.
 * Passwords over 72 bytes are refused by callers before they get here.
 */
int password_hash(const char *password, int cost, char out[64]);
int password_verify(const char *password, const char *hash);

#endif
