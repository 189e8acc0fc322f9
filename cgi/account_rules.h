/* account_rules.h: the rules of a person's own account: names, passwords, browsers */
#ifndef SETTINGS_ACCOUNT_RULES_H
#define SETTINGS_ACCOUNT_RULES_H

#include <stddef.h>

#include "util.h"

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_BYTES 72  /* bcrypt ignores every byte after the 72nd */
#define NAME_MAX_CHARS 100

/* What is wrong with a new password, or PASSWORD_OK. */
enum password_problem {
	PASSWORD_OK = 0,
	PASSWORD_EMPTY,
	PASSWORD_SHORT,            /* fewer than 12 characters */
	PASSWORD_LONG,             /* more than 72 bytes of UTF-8 */
	PASSWORD_IS_EMAIL,         /* the account's email, in any letter case */
	PASSWORD_IS_CURRENT,       /* decided by the caller, with bcrypt */
};

/*
 * The rules a new password follows that need no hash: 12 characters or
 * more, at most 72 bytes, not the email (compared without letter case).
 */
enum password_problem password_check(const char *password, const char *email);

/* A sentence for people about problem p of password (NULL for PASSWORD_OK). */
const char *password_message(struct arena *a, enum password_problem p, const char *password);

/* The sentence every password form shows under the field: the limits in characters. */
extern const char password_hint[];

/*
 * A person's name as typed: surrounding spaces trimmed, 1 to 100
 * characters, no control characters (C0, DEL, C1, line and paragraph
 * separators). Returns the trimmed name (in a), or NULL with *error set to
 * a sentence for people.
 */
const char *name_clean(struct arena *a, const char *raw, const char **error);

/*
 * "Firefox 128 on Linux", "Safari on iPhone", "curl 8", ...: a browser and
 * system read simply from a User-Agent header, into out (n bytes). Never
 * fails: an empty or unknown header gives "Unknown browser".
 */
void ua_describe(const char *user_agent, char *out, size_t n);

#endif
