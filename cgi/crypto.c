/* crypto.c: tokens, SHA-256/HMAC, base64, key ring, AES-256-GCM, bcrypt */
#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"

#define KEY_LEN 32
#define KEY_ID_MAX 64
#define NONCE_LEN 12
#define TAG_LEN 16
#define BCRYPT_LEN 60

struct key {
	char id[KEY_ID_MAX + 1];
	unsigned char key[KEY_LEN];
};

struct keyring {
	size_t n;
	struct key *keys;
};

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Fill buf with n cryptographically random bytes from the kernel
 * (getrandom(2)); 0 ok, -1 failure. Not OpenSSL's RAND_bytes: setting up its
 * generator costs a process about 8 million instructions, which a plain CGI
 * process (one request, then exit) pays on every request.
 */
int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/*
 * A new token: 32 random bytes as unpadded base64url, 43 chars plus NUL.
 * Returns 0 ok, -1 when the random generator fails.
 */
int crypto_token(char out[44])
{
	unsigned char raw[32];
	int n;

	out[0] = '\0';
	if (crypto_random(raw, sizeof(raw)) != 0)
		return -1;
	n = crypto_b64url_encode(raw, sizeof(raw), out, 44);
	OPENSSL_cleanse(raw, sizeof(raw));
	return n == 43 ? 0 : -1;
}

static void to_hex(const unsigned char *md, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/*
 * SHA-256 (FIPS 180-4), computed here rather than through OpenSSL's EVP
 * interface: the first EVP digest of a process loads OpenSSL's
 * configuration and providers (about 5 million instructions), which a plain
 * CGI process would pay on every request just to hash its session cookie.
 */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (i = 0; i < 64; i++) {
		t1 = k + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) +
		     sha256_k[i] + w[i];
		t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* Lowercase hex SHA-256 of data into out (64 chars plus NUL). */
void crypto_sha256_hex(const void *data, size_t len, char out[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const unsigned char *p = data;
	unsigned char last[128], md[32];
	size_t rest, tail;
	uint64_t bits = (uint64_t)len * 8;

	if (p == NULL)
		len = 0;
	for (rest = len; rest >= 64; rest -= 64, p += 64)
		sha256_block(h, p);
	/* The tail, 0x80, zeros, and the length in bits: one or two blocks. */
	memset(last, 0, sizeof(last));
	if (rest > 0)
		memcpy(last, p, rest);
	last[rest] = 0x80;
	tail = rest + 9 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		last[tail - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, last);
	if (tail == 128)
		sha256_block(h, last + 64);
	for (int i = 0; i < 8; i++) {
		md[4 * i] = (unsigned char)(h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(h[i] >> 8);
		md[4 * i + 3] = (unsigned char)h[i];
	}
	to_hex(md, sizeof(md), out);
}

/*
 * HMAC-SHA256(key, data) as lowercase hex into out (64 chars plus NUL).
 * On failure (or a key longer than INT_MAX) out is the empty string.
 */
void crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *data,
                            size_t len, char out[65])
{
	static const unsigned char empty[1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (key == NULL)
		key = empty, keylen = 0;
	if (data == NULL)
		data = empty, len = 0;
	if (keylen > INT_MAX)
		return;
	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) ==
	        NULL ||
	    mdlen != 32)
		return;
	to_hex(md, mdlen, out);
	OPENSSL_cleanse(md, sizeof(md));
}

/*
 * 1 when a and b are equal strings, else 0 (also for NULL). The content is
 * compared with CRYPTO_memcmp over the longer length, so the time taken
 * depends only on the lengths, never on where the strings differ.
 */
int crypto_equal(const char *a, const char *b)
{
	size_t la, lb, n;
	const char *p, *q;
	int same;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	n = la > lb ? la : lb;
	p = la >= lb ? a : b;
	/* With unequal lengths, still walk the longer string (against itself). */
	q = la == lb ? b : p;
	same = CRYPTO_memcmp(p, q, n) == 0;
	return same & (la == lb);
}

/* Encode with the given alphabet, padded or not. Length or -1. */
static int b64_encode(const char *alpha, int pad, const void *in, size_t len,
                      char *out, size_t outcap)
{
	const unsigned char *s = in;
	size_t full = len / 3, rem = len % 3, need, i, o = 0;
	uint32_t v;

	if (out == NULL || (in == NULL && len > 0))
		return -1;
	if (full > ((size_t)INT_MAX - 4) / 4)
		return -1;
	need = full * 4 + (rem == 0 ? 0 : pad ? 4 : rem + 1);
	if (need >= outcap) {
		if (outcap > 0)
			out[0] = '\0';
		return -1;
	}
	for (i = 0; i < full * 3; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (rem > 0) {
		v = (uint32_t)s[i] << 16;
		if (rem == 2)
			v |= (uint32_t)s[i + 1] << 8;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (rem == 2)
			out[o++] = alpha[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * Standard padded base64 of len bytes into out, NUL-terminated. Returns the
 * encoded length, or -1 when out (outcap bytes) is too small.
 */
int crypto_b64_encode(const void *in, size_t len, char *out, size_t outcap)
{
	return b64_encode(b64_std, 1, in, len, out, outcap);
}

/*
 * Unpadded base64url of len bytes into out, NUL-terminated. Returns the
 * encoded length, or -1 when out (outcap bytes) is too small.
 */
int crypto_b64url_encode(const void *in, size_t len, char *out, size_t outcap)
{
	return b64_encode(b64_url, 0, in, len, out, outcap);
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode strict standard base64: length a multiple of 4, '=' padding only at
 * the end, no whitespace, unused trailing bits zero. Returns the decoded
 * length, or -1 for invalid input or when it would not fit in outcap bytes.
 */
int crypto_b64_decode(const char *in, void *out, size_t outcap)
{
	unsigned char *d = out;
	size_t len, npad = 0, need, i, o = 0;
	int v[4], k;

	if (in == NULL || (out == NULL && outcap > 0))
		return -1;
	len = strlen(in);
	if (len % 4 != 0)
		return -1;
	if (len == 0)
		return 0;
	if (len / 4 > (size_t)INT_MAX / 3)
		return -1;
	if (in[len - 1] == '=')
		npad = in[len - 2] == '=' ? 2 : 1;
	need = len / 4 * 3 - npad;
	if (need > outcap)
		return -1;
	for (i = 0; i < len; i += 4) {
		int last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)npad)
				v[k] = 0;
			else if ((v[k] = b64_value((unsigned char)in[i + k])) < 0)
				return -1;
		}
		d[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (last && npad == 2) {
			if ((v[1] & 0x0f) != 0)
				return -1;
			break;
		}
		d[o++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (last && npad == 1) {
			if ((v[2] & 0x03) != 0)
				return -1;
			break;
		}
		d[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	}
	return (int)o;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/*
 * Parse one "id:base64key" entry of len bytes at s into *key. 0 ok, -1 with
 * a message in err; messages give the entry number and quote nothing from the
 * spec, so a key pasted into the wrong place never reaches a log.
 */
static int parse_entry(const char *s, size_t len, size_t idx, struct key *key,
                       char *err, size_t errlen)
{
	/* 32 bytes are 44 base64 chars; leave room to tell "too long" apart. */
	char b64[64];
	unsigned char raw[48];
	const char *colon = memchr(s, ':', len);
	size_t idlen, klen, i;
	int n;

	if (colon == NULL) {
		set_err(err, errlen, "key ring entry %zu: missing ':'", idx);
		return -1;
	}
	idlen = (size_t)(colon - s);
	klen = len - idlen - 1;
	if (idlen == 0 || idlen > KEY_ID_MAX) {
		set_err(err, errlen,
		        "key ring entry %zu: id must be 1 to %d characters", idx,
		        KEY_ID_MAX);
		return -1;
	}
	for (i = 0; i < idlen; i++) {
		if (!id_char(s[i])) {
			set_err(err, errlen,
			        "key ring entry %zu: id may only use "
			        "A-Z a-z 0-9 _ . -",
			        idx);
			return -1;
		}
	}
	memcpy(key->id, s, idlen);
	key->id[idlen] = '\0';
	if (klen == 0 || klen >= sizeof(b64)) {
		set_err(err, errlen,
		        "key ring entry %zu: key must be 32 bytes in base64", idx);
		return -1;
	}
	memcpy(b64, colon + 1, klen);
	b64[klen] = '\0';
	n = crypto_b64_decode(b64, raw, sizeof(raw));
	OPENSSL_cleanse(b64, sizeof(b64));
	if (n != KEY_LEN) {
		OPENSSL_cleanse(raw, sizeof(raw));
		if (n < 0)
			set_err(err, errlen,
			        "key ring entry %zu: key is not valid base64", idx);
		else
			set_err(err, errlen,
			        "key ring entry %zu: key must be 32 bytes in base64",
			        idx);
		return -1;
	}
	memcpy(key->key, raw, KEY_LEN);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/*
 * Parse "id:base64key,id2:base64key2" (ids [A-Za-z0-9_.-]{1,64}, keys exactly
 * 32 bytes, ids unique). Returns a new ring for keyring_free, or NULL with a
 * message in err (errlen bytes; may be NULL) that never contains key material.
 */
struct keyring *keyring_parse(const char *spec, char *err, size_t errlen)
{
	struct keyring *k;
	const char *s, *end;
	size_t n = 1, i, j;

	set_err(err, errlen, "%s", "");
	if (spec == NULL || spec[0] == '\0') {
		set_err(err, errlen, "key ring is empty");
		return NULL;
	}
	for (s = spec; *s != '\0'; s++)
		if (*s == ',')
			n++;
	k = calloc(1, sizeof(*k));
	if (k == NULL || (k->keys = calloc(n, sizeof(*k->keys))) == NULL) {
		free(k);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	k->n = n;
	s = spec;
	for (i = 0; i < n; i++) {
		end = strchr(s, ',');
		if (end == NULL)
			end = s + strlen(s);
		if (end == s) {
			set_err(err, errlen, "key ring entry %zu is empty", i + 1);
			goto fail;
		}
		if (parse_entry(s, (size_t)(end - s), i + 1, &k->keys[i], err,
		                errlen) != 0)
			goto fail;
		for (j = 0; j < i; j++) {
			if (strcmp(k->keys[j].id, k->keys[i].id) == 0) {
				set_err(err, errlen,
				        "key ring entry %zu: duplicate id", i + 1);
				goto fail;
			}
		}
		s = *end == ',' ? end + 1 : end;
	}
	return k;
fail:
	keyring_free(k);
	return NULL;
}

/* Wipe every key and free the ring; NULL is ignored. */
void keyring_free(struct keyring *k)
{
	if (k == NULL)
		return;
	if (k->keys != NULL) {
		OPENSSL_cleanse(k->keys, k->n * sizeof(*k->keys));
		free(k->keys);
	}
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* The id of the key that encrypts (the first one); NULL for a NULL ring. */
const char *keyring_current_id(const struct keyring *k)
{
	if (k == NULL || k->n == 0)
		return NULL;
	return k->keys[0].id;
}

static const struct key *find_key(const struct keyring *k, const char *id)
{
	size_t i;

	if (k == NULL || id == NULL)
		return NULL;
	for (i = 0; i < k->n; i++)
		if (strcmp(k->keys[i].id, id) == 0)
			return &k->keys[i];
	return NULL;
}

/*
 * AES-256-GCM under the ring's first key with a fresh random 96-bit nonce and
 * aad (NULL means empty) as additional data. Returns malloc'd
 * base64(nonce || ciphertext || tag) and points *key_id (if not NULL) at the
 * key id used; NULL on failure.
 */
char *secret_encrypt(const struct keyring *k, const char *plaintext,
                     const char *aad, const char **key_id)
{
	const struct key *key;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t ptlen, aadlen, rawlen, cap;
	int len, fin;

	if (key_id != NULL)
		*key_id = NULL;
	if (k == NULL || k->n == 0 || plaintext == NULL)
		return NULL;
	if (aad == NULL)
		aad = "";
	key = &k->keys[0];
	ptlen = strlen(plaintext);
	aadlen = strlen(aad);
	/* EVP takes int lengths; keep the base64 of the result in an int too. */
	if (ptlen > INT_MAX / 2 || aadlen > INT_MAX)
		return NULL;
	rawlen = NONCE_LEN + ptlen + TAG_LEN;
	cap = (rawlen + 2) / 3 * 4 + 1;
	raw = malloc(rawlen);
	out = malloc(cap);
	ctx = EVP_CIPHER_CTX_new();
	if (raw == NULL || out == NULL || ctx == NULL)
		goto fail;
	if (crypto_random(raw, NONCE_LEN) != 0)
		goto fail;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->key, raw) !=
	    1)
		goto fail;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &len,
	                                    (const unsigned char *)aad,
	                                    (int)aadlen) != 1)
		goto fail;
	len = 0;
	if (ptlen > 0 &&
	    EVP_EncryptUpdate(ctx, raw + NONCE_LEN, &len,
	                      (const unsigned char *)plaintext,
	                      (int)ptlen) != 1)
		goto fail;
	fin = 0;
	if (EVP_EncryptFinal_ex(ctx, raw + NONCE_LEN + len, &fin) != 1 ||
	    (size_t)len + (size_t)fin != ptlen)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	                        raw + NONCE_LEN + ptlen) != 1)
		goto fail;
	if (crypto_b64_encode(raw, rawlen, out, cap) < 0)
		goto fail;
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	if (key_id != NULL)
		*key_id = key->id;
	return out;
fail:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	free(out);
	return NULL;
}

/*
 * Decrypt what secret_encrypt produced, using the ring's key named key_id and
 * the same aad (NULL means empty). Returns the malloc'd plaintext, or NULL for
 * an unknown key id, malformed input, or failed authentication (wrong key,
 * wrong aad, tampered data).
 */
char *secret_decrypt(const struct keyring *k, const char *key_id,
                     const char *b64, const char *aad)
{
	const struct key *key = find_key(k, key_id);
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *raw = NULL;
	char *pt = NULL;
	size_t b64len, cap, aadlen, ctlen = 0;
	int rawlen, len = 0, fin = 0;

	if (key == NULL || b64 == NULL)
		return NULL;
	if (aad == NULL)
		aad = "";
	aadlen = strlen(aad);
	b64len = strlen(b64);
	if (aadlen > INT_MAX || b64len > INT_MAX)
		return NULL;
	cap = b64len / 4 * 3;
	if (cap < NONCE_LEN + TAG_LEN)
		return NULL;
	raw = malloc(cap);
	if (raw == NULL)
		return NULL;
	rawlen = crypto_b64_decode(b64, raw, cap);
	if (rawlen < NONCE_LEN + TAG_LEN)
		goto fail;
	ctlen = (size_t)rawlen - NONCE_LEN - TAG_LEN;
	pt = malloc(ctlen + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (pt == NULL || ctx == NULL)
		goto fail;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->key, raw) !=
	    1)
		goto fail;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &len,
	                                    (const unsigned char *)aad,
	                                    (int)aadlen) != 1)
		goto fail;
	len = 0;
	if (ctlen > 0 && EVP_DecryptUpdate(ctx, (unsigned char *)pt, &len,
	                                   raw + NONCE_LEN, (int)ctlen) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	                        raw + NONCE_LEN + ctlen) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(ctx, (unsigned char *)pt + len, &fin) != 1 ||
	    (size_t)len + (size_t)fin != ctlen)
		goto fail;
	pt[ctlen] = '\0';
	/* secret_encrypt only takes C strings, so a NUL inside is not ours. */
	if (memchr(pt, '\0', ctlen) != NULL)
		goto fail;
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	return pt;
fail:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ctlen + 1);
		free(pt);
	}
	return NULL;
}

/*
 * Hash password with bcrypt ($2b$) at the given cost (4 to 31) and a fresh
 * salt from libxcrypt; the 60-char hash goes into out. 0 ok, -1 failure
 * (out is then the empty string).
 */
int password_hash(const char *password, int cost, char out[64])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	out[0] = '\0';
	if (password == NULL || cost < 4 || cost > 31)
		return -1;
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting,
	                     (int)sizeof(setting)) == NULL)
		return -1;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	h = crypt_r(password, setting, cd);
	if (h != NULL && strncmp(h, "$2b$", 4) == 0 &&
	    strlen(h) == BCRYPT_LEN) {
		memcpy(out, h, BCRYPT_LEN + 1);
		rc = 0;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/*
 * 1 when password matches the bcrypt hash ($2a$, $2b$ or $2y$), else 0; a
 * NULL, empty or malformed hash never matches.
 */
int password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	int ok = 0;

	if (password == NULL || hash == NULL || strlen(hash) != BCRYPT_LEN)
		return 0;
	if (strncmp(hash, "$2a$", 4) != 0 && strncmp(hash, "$2b$", 4) != 0 &&
	    strncmp(hash, "$2y$", 4) != 0)
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return 0;
	h = crypt_r(password, hash, cd);
	/* On error crypt_r gives NULL or a "*0"-style token, never a match. */
	if (h != NULL && h[0] != '*')
		ok = crypto_equal(h, hash);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}
