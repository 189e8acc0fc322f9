/* test_crypto.c: unit tests for crypto.c */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto.h"

/* 32-byte keys: bytes 1..32 and 101..132. */
#define K1 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define K2 "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4Q="

static void sha256_of_abc_matches_fips_vector(void **state)
{
	char out[65];

	(void)state;
	crypto_sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223"
	                         "b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb924"
	                         "27ae41e4649b934ca495991b7852b855");
}

/* The SHA-256 written in crypto.c agrees with OpenSSL's at every length
 * around the block boundaries (55/56/63/64 bytes pad differently). */
static void sha256_agrees_with_openssl_at_every_length(void **state)
{
	unsigned char data[300], md[32];
	unsigned int mdlen;
	char ours[65], theirs[65];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(data); len++) {
		crypto_sha256_hex(data, len, ours);
		assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
		for (unsigned int i = 0; i < mdlen; i++)
			snprintf(theirs + 2 * i, 3, "%02x", md[i]);
		assert_string_equal(ours, theirs);
	}
	crypto_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, ours);
	assert_string_equal(ours, "248d6a61d20638b8e5c026930c3e6039"
	                          "a33ce45964ff2167f6ecedd419db06c1");
}

static void hmac_sha256_matches_rfc4231_case_2(void **state)
{
	const char *data = "what do ya want for nothing?";
	char out[65];

	(void)state;
	crypto_hmac_sha256_hex("Jefe", 4, data, strlen(data), out);
	assert_string_equal(out, "5bdcc146bf60754e6a042426089575c7"
	                         "5a003f089d2739839dec58b964ec3843");
}

static void random_fills_buffer_and_differs_between_calls(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

static void b64_encode_matches_rfc4648_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },         { "f", "Zg==" },         { "fo", "Zm8=" },
		{ "foo", "Zm9v" },  { "foob", "Zm9vYg==" },  { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char enc[16];
	unsigned char dec[16];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = crypto_b64_encode(v[i].in, strlen(v[i].in), enc, sizeof(enc));
		assert_int_equal(n, strlen(v[i].out));
		assert_string_equal(enc, v[i].out);
		n = crypto_b64_decode(v[i].out, dec, sizeof(dec));
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(dec, v[i].in, (size_t)n);
	}
}

static void b64_round_trips_every_byte_value_and_length(void **state)
{
	unsigned char in[256], dec[256];
	char enc[400];
	size_t len;
	int n;

	(void)state;
	for (len = 0; len < sizeof(in); len++)
		in[len] = (unsigned char)(255 - len);
	for (len = 0; len <= sizeof(in); len++) {
		n = crypto_b64_encode(in, len, enc, sizeof(enc));
		assert_int_equal(n, (len + 2) / 3 * 4);
		n = crypto_b64_decode(enc, dec, sizeof(dec));
		assert_int_equal(n, len);
		assert_memory_equal(dec, in, len);
	}
}

static void b64_decode_rejects_invalid_input(void **state)
{
	static const char *bad[] = {
		"Zg=",      /* length not a multiple of 4 */
		"Zg",       /* padding missing */
		"Z===",     /* too much padding */
		"====",     /* padding only */
		"Zg==Zg==", /* padding in the middle */
		"Zm=v",     /* '=' before data */
		"Zm9v\n",   /* whitespace */
		" Zm9v",    /* whitespace */
		"Zm9-",     /* base64url character */
		"Zm9_",     /* base64url character */
		"Zh==",     /* non-zero unused bits */
		"Zm9=",     /* non-zero unused bits */
		"Zm9v!AAA", /* punctuation */
	};
	unsigned char out[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(crypto_b64_decode(bad[i], out, sizeof(out)), -1);
	assert_int_equal(crypto_b64_decode(NULL, out, sizeof(out)), -1);
}

static void b64_refuses_output_that_does_not_fit(void **state)
{
	char enc[8];
	unsigned char dec[5];

	(void)state;
	/* "foobar" needs 8 chars plus NUL. */
	assert_int_equal(crypto_b64_encode("foobar", 6, enc, sizeof(enc)), -1);
	assert_int_equal(crypto_b64_encode("fooba", 5, enc, sizeof(enc)), -1);
	assert_int_equal(crypto_b64_encode("foo", 3, enc, 5), 4);
	assert_int_equal(crypto_b64_decode("Zm9vYmFy", dec, sizeof(dec)), -1);
	assert_int_equal(crypto_b64_decode("Zm9vYmE=", dec, sizeof(dec)), 5);
	assert_int_equal(crypto_b64url_encode("foobar", 6, enc, sizeof(enc)),
	                 -1);
}

static void b64url_uses_url_alphabet_without_padding(void **state)
{
	const unsigned char in[] = { 0xfb, 0xff };
	char enc[16];

	(void)state;
	assert_int_equal(crypto_b64_encode(in, 2, enc, sizeof(enc)), 4);
	assert_string_equal(enc, "+/8=");
	assert_int_equal(crypto_b64url_encode(in, 2, enc, sizeof(enc)), 3);
	assert_string_equal(enc, "-_8");
	assert_int_equal(crypto_b64url_encode("f", 1, enc, sizeof(enc)), 2);
	assert_string_equal(enc, "Zg");
	assert_int_equal(crypto_b64url_encode("foo", 3, enc, sizeof(enc)), 4);
	assert_string_equal(enc, "Zm9v");
}

static void token_is_43_url_safe_chars_and_unique(void **state)
{
	enum { N = 64 };
	char tok[N][44];
	size_t i, j;

	(void)state;
	for (i = 0; i < N; i++) {
		assert_int_equal(crypto_token(tok[i]), 0);
		assert_int_equal(strlen(tok[i]), 43);
		assert_int_equal(strspn(tok[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                                "abcdefghijklmnopqrstuvwxyz"
		                                "0123456789-_"),
		                 43);
		for (j = 0; j < i; j++)
			assert_string_not_equal(tok[i], tok[j]);
	}
}

static void equal_is_true_only_for_identical_strings(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} v[] = {
		{ "secret-token", "secret-token", 1 },
		{ "secret-token", "secret-tokeN", 0 },  /* last byte */
		{ "secret-token", "Secret-token", 0 },  /* first byte */
		{ "secret-token", "secret-toke", 0 },   /* shorter */
		{ "secret-toke", "secret-token", 0 },   /* longer */
		{ "secret", "secret\0ignored", 1 },     /* C strings end at NUL */
		{ "", "", 1 },
		{ "", "x", 0 },
		{ "x", "", 0 },
		{ NULL, "x", 0 },
		{ "x", NULL, 0 },
		{ NULL, NULL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(crypto_equal(v[i].a, v[i].b), v[i].want);
}

static void keyring_accepts_good_specs(void **state)
{
	static const struct {
		const char *spec, *current;
	} v[] = {
		{ "k1:" K1, "k1" },
		{ "new:" K2 ",old:" K1, "new" },
		{ "A.b_c-9:" K1, "A.b_c-9" },
		{ "0123456789012345678901234567890123456789012345678901234567890123:" K1,
		  "0123456789012345678901234567890123456789012345678901234567890123" },
	};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct keyring *k = keyring_parse(v[i].spec, err, sizeof(err));

		assert_non_null(k);
		assert_string_equal(keyring_current_id(k), v[i].current);
		keyring_free(k);
	}
}

static void keyring_rejects_bad_specs_without_leaking_keys(void **state)
{
	static const char *bad[] = {
		NULL,
		"",
		"k1" K1,                                 /* missing colon */
		":" K1,                                  /* empty id */
		"k 1:" K1,                               /* space in id */
		"k/1:" K1,                               /* slash in id */
		"01234567890123456789012345678901234567890123456789012345678901234:" K1,
		"k1:",                                   /* empty key */
		"k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 31 bytes */
		"k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 33 bytes */
		"k1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",  /* unpadded */
		"k1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH!A=", /* bad char */
		"k1:" K1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"k1:" K1 ",",                            /* trailing comma */
		",k1:" K1,                               /* leading comma */
		"k1:" K1 ",,k2:" K2,                     /* empty entry */
		"k1:" K1 ",k2",                          /* second missing colon */
		"k1:" K1 ",k1:" K2,                      /* duplicate id */
	};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 0, sizeof(err));
		assert_null(keyring_parse(bad[i], err, sizeof(err)));
		assert_true(err[0] != '\0');
		assert_null(strstr(err, "AQIDBAUG"));
		assert_null(strstr(err, "ZWZnaGlq"));
		assert_null(strstr(err, "AAAAAAAA"));
	}
	/* A missing or tiny error buffer is not written past. */
	assert_null(keyring_parse("k1:", NULL, 0));
	err[0] = 'x';
	err[1] = 'y';
	assert_null(keyring_parse("k1:", err, 1));
	assert_int_equal(err[0], '\0');
	assert_int_equal(err[1], 'y');
}

static void secret_round_trips_through_encrypt_and_decrypt(void **state)
{
	static const char *texts[] = { "", "x", "xoxb-1234-abcdef",
	                               "a longer secret with spaces, "
	                               "punctuation & UTF-8 \xc3\xa9" };
	struct keyring *k = keyring_parse("k1:" K1, NULL, 0);
	size_t i;

	(void)state;
	assert_non_null(k);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *id = NULL;
		char *ct = secret_encrypt(k, texts[i], "ws1:int1", &id);
		char *pt;

		assert_non_null(ct);
		assert_string_equal(id, "k1");
		/* 12 nonce + plaintext + 16 tag bytes, base64. */
		assert_int_equal(strlen(ct), (28 + strlen(texts[i]) + 2) / 3 * 4);
		if (strlen(texts[i]) >= 8)
			assert_null(strstr(ct, texts[i]));
		pt = secret_decrypt(k, id, ct, "ws1:int1");
		assert_non_null(pt);
		assert_string_equal(pt, texts[i]);
		free(pt);
		free(ct);
	}
	keyring_free(k);
}

static void secret_decrypt_fails_with_wrong_aad(void **state)
{
	struct keyring *k = keyring_parse("k1:" K1, NULL, 0);
	const char *id;
	char *ct;

	(void)state;
	ct = secret_encrypt(k, "hunter2", "ws1:int1", &id);
	assert_non_null(ct);
	assert_null(secret_decrypt(k, id, ct, "ws1:int2"));
	assert_null(secret_decrypt(k, id, ct, "ws2:int1"));
	assert_null(secret_decrypt(k, id, ct, ""));
	assert_null(secret_decrypt(k, id, ct, NULL));
	free(ct);
	keyring_free(k);
}

static void secret_decrypt_fails_when_any_byte_is_flipped(void **state)
{
	struct keyring *k = keyring_parse("k1:" K1, NULL, 0);
	const char *id;
	unsigned char raw[64];
	char *ct, mangled[128];
	int n, i;

	(void)state;
	ct = secret_encrypt(k, "hunter2", "aad", &id);
	assert_non_null(ct);
	n = crypto_b64_decode(ct, raw, sizeof(raw));
	assert_int_equal(n, 12 + 7 + 16);
	/* Nonce, ciphertext and tag are all covered. */
	for (i = 0; i < n; i++) {
		raw[i] ^= 0x01;
		assert_true(crypto_b64_encode(raw, (size_t)n, mangled,
		                              sizeof(mangled)) > 0);
		assert_null(secret_decrypt(k, id, mangled, "aad"));
		raw[i] ^= 0x01;
	}
	/* Truncated, extended and non-base64 inputs. */
	assert_true(crypto_b64_encode(raw, (size_t)n - 1, mangled,
	                              sizeof(mangled)) > 0);
	assert_null(secret_decrypt(k, id, mangled, "aad"));
	assert_true(crypto_b64_encode(raw, 27, mangled, sizeof(mangled)) > 0);
	assert_null(secret_decrypt(k, id, mangled, "aad"));
	assert_null(secret_decrypt(k, id, "", "aad"));
	assert_null(secret_decrypt(k, id, "not base64!", "aad"));
	assert_null(secret_decrypt(k, id, NULL, "aad"));
	free(ct);
	keyring_free(k);
}

static void secret_decrypt_fails_with_unknown_or_wrong_key(void **state)
{
	struct keyring *k = keyring_parse("k1:" K1 ",k2:" K2, NULL, 0);
	const char *id;
	char *ct;

	(void)state;
	ct = secret_encrypt(k, "hunter2", "aad", &id);
	assert_non_null(ct);
	assert_string_equal(id, "k1");
	assert_null(secret_decrypt(k, "k3", ct, "aad"));
	assert_null(secret_decrypt(k, "", ct, "aad"));
	assert_null(secret_decrypt(k, NULL, ct, "aad"));
	assert_null(secret_decrypt(k, "k2", ct, "aad"));
	assert_null(secret_decrypt(NULL, "k1", ct, "aad"));
	free(ct);
	keyring_free(k);
}

static void secret_encrypt_twice_gives_different_ciphertexts(void **state)
{
	struct keyring *k = keyring_parse("k1:" K1, NULL, 0);
	char *a, *b, *pa, *pb;

	(void)state;
	a = secret_encrypt(k, "same plaintext", "aad", NULL);
	b = secret_encrypt(k, "same plaintext", "aad", NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	pa = secret_decrypt(k, "k1", a, "aad");
	pb = secret_decrypt(k, "k1", b, "aad");
	assert_string_equal(pa, "same plaintext");
	assert_string_equal(pb, "same plaintext");
	free(pa);
	free(pb);
	free(a);
	free(b);
	keyring_free(k);
}

static void rotated_ring_decrypts_old_and_encrypts_with_new(void **state)
{
	struct keyring *old = keyring_parse("old:" K1, NULL, 0);
	struct keyring *rot = keyring_parse("new:" K2 ",old:" K1, NULL, 0);
	const char *id_old, *id_new;
	char *ct_old, *ct_new, *pt;

	(void)state;
	assert_non_null(old);
	assert_non_null(rot);
	ct_old = secret_encrypt(old, "before rotation", "ws:int", &id_old);
	assert_string_equal(id_old, "old");
	pt = secret_decrypt(rot, id_old, ct_old, "ws:int");
	assert_non_null(pt);
	assert_string_equal(pt, "before rotation");
	free(pt);

	ct_new = secret_encrypt(rot, "after rotation", "ws:int", &id_new);
	assert_string_equal(id_new, "new");
	assert_null(secret_decrypt(old, id_new, ct_new, "ws:int"));
	pt = secret_decrypt(rot, id_new, ct_new, "ws:int");
	assert_non_null(pt);
	assert_string_equal(pt, "after rotation");
	free(pt);
	free(ct_old);
	free(ct_new);
	keyring_free(old);
	keyring_free(rot);
}

static void secret_encrypt_rejects_missing_arguments(void **state)
{
	struct keyring *k = keyring_parse("k1:" K1, NULL, 0);
	const char *id = "unchanged";

	(void)state;
	assert_null(secret_encrypt(NULL, "x", "aad", &id));
	assert_null(id);
	assert_null(secret_encrypt(k, NULL, "aad", NULL));
	keyring_free(NULL);
	assert_null(keyring_current_id(NULL));
	keyring_free(k);
}

static void password_hash_verifies_right_and_rejects_wrong(void **state)
{
	char h1[64], h2[64];

	(void)state;
	assert_int_equal(password_hash("correct horse", 4, h1), 0);
	assert_int_equal(strlen(h1), 60);
	assert_memory_equal(h1, "$2b$04$", 7);
	assert_int_equal(password_verify("correct horse", h1), 1);
	assert_int_equal(password_verify("correct horsf", h1), 0);
	assert_int_equal(password_verify("", h1), 0);
	assert_int_equal(password_verify(NULL, h1), 0);
	/* Fresh salt every time. */
	assert_int_equal(password_hash("correct horse", 4, h2), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(password_verify("correct horse", h2), 1);
}

static void password_hash_rejects_out_of_range_cost(void **state)
{
	char h[64];

	(void)state;
	assert_int_equal(password_hash("pw", 3, h), -1);
	assert_string_equal(h, "");
	assert_int_equal(password_hash("pw", 32, h), -1);
	assert_int_equal(password_hash(NULL, 4, h), -1);
}

static void password_verify_accepts_known_bcrypt_vector(void **state)
{
	(void)state;
	assert_int_equal(
	    password_verify("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC."
	                           "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
	    1);
	assert_int_equal(
	    password_verify("U*V", "$2a$05$CCCCCCCCCCCCCCCCCCCCC."
	                           "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
	    0);
}

static void password_verify_rejects_missing_or_malformed_hash(void **state)
{
	char h[64];

	(void)state;
	assert_int_equal(password_verify("pw", NULL), 0);
	assert_int_equal(password_verify("pw", ""), 0);
	assert_int_equal(password_verify("pw", "garbage"), 0);
	assert_int_equal(password_verify("pw", "*0"), 0);
	assert_int_equal(password_verify("pw", "$2b$"), 0);
	/* Non-bcrypt methods are not accepted even when the hash is right. */
	assert_int_equal(password_verify("pw", "abJnggxhB/yWI"), 0);
	/* Right length, bcrypt prefix, broken salt/cost. */
	assert_int_equal(password_hash("pw", 4, h), 0);
	h[4] = 'x';
	assert_int_equal(password_verify("pw", h), 0);
	h[4] = '0';
	h[7] = '!';
	assert_int_equal(password_verify("pw", h), 0);
	/* Truncated and extended hashes. */
	assert_int_equal(password_hash("pw", 4, h), 0);
	h[59] = '\0';
	assert_int_equal(password_verify("pw", h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_of_abc_matches_fips_vector),
		cmocka_unit_test(sha256_agrees_with_openssl_at_every_length),
		cmocka_unit_test(hmac_sha256_matches_rfc4231_case_2),
		cmocka_unit_test(random_fills_buffer_and_differs_between_calls),
		cmocka_unit_test(b64_encode_matches_rfc4648_vectors),
		cmocka_unit_test(b64_round_trips_every_byte_value_and_length),
		cmocka_unit_test(b64_decode_rejects_invalid_input),
		cmocka_unit_test(b64_refuses_output_that_does_not_fit),
		cmocka_unit_test(b64url_uses_url_alphabet_without_padding),
		cmocka_unit_test(token_is_43_url_safe_chars_and_unique),
		cmocka_unit_test(equal_is_true_only_for_identical_strings),
		cmocka_unit_test(keyring_accepts_good_specs),
		cmocka_unit_test(keyring_rejects_bad_specs_without_leaking_keys),
		cmocka_unit_test(secret_round_trips_through_encrypt_and_decrypt),
		cmocka_unit_test(secret_decrypt_fails_with_wrong_aad),
		cmocka_unit_test(secret_decrypt_fails_when_any_byte_is_flipped),
		cmocka_unit_test(secret_decrypt_fails_with_unknown_or_wrong_key),
		cmocka_unit_test(secret_encrypt_twice_gives_different_ciphertexts),
		cmocka_unit_test(rotated_ring_decrypts_old_and_encrypts_with_new),
		cmocka_unit_test(secret_encrypt_rejects_missing_arguments),
		cmocka_unit_test(password_hash_verifies_right_and_rejects_wrong),
		cmocka_unit_test(password_hash_rejects_out_of_range_cost),
		cmocka_unit_test(password_verify_accepts_known_bcrypt_vector),
		cmocka_unit_test(password_verify_rejects_missing_or_malformed_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
