/* account_rules.c: the rules of a person's own account: names, passwords, browsers */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "account_rules.h"

const char password_hint[] =
    "At least 12 characters. At most 72 letters, digits or punctuation without accents; "
    "letters with accents and other alphabets count double or more (a password may be "
    "at most 72 bytes), and emoji count four.";

enum password_problem password_check(const char *password, const char *email)
{
	if (password == NULL || *password == '\0')
		return PASSWORD_EMPTY;
	if (strlen(password) > PASSWORD_MAX_BYTES)
		return PASSWORD_LONG;
	if (utf8_chars(password) < PASSWORD_MIN_CHARS)
		return PASSWORD_SHORT;
	if (email != NULL && strcasecmp(password, email) == 0)
		return PASSWORD_IS_EMAIL;
	return PASSWORD_OK;
}

const char *password_message(struct arena *a, enum password_problem p, const char *password)
{
	size_t bytes = password ? strlen(password) : 0, chars = password ? utf8_chars(password) : 0;

	switch (p) {
	case PASSWORD_OK:
		return NULL;
	case PASSWORD_EMPTY:
		return "Choose a new password.";
	case PASSWORD_SHORT:
		return arena_printf(a, "This password has %zu character%s: use at least 12.",
		                    chars, chars == 1 ? "" : "s");
	case PASSWORD_LONG:
		if (chars == bytes)
			return arena_printf(a, "This password has %zu characters: use at most 72.", chars);
		return arena_printf(a, "This password is too long: its %zu characters take %zu bytes, "
		                    "and a password may take at most 72 (letters with accents and other "
		                    "alphabets take 2 or 3 bytes each, emoji 4). Use fewer characters.",
		                    chars, bytes);
	case PASSWORD_IS_EMAIL:
		return "Your password cannot be your email address.";
	case PASSWORD_IS_CURRENT:
		return "This is your current password: choose a different one.";
	}
	return "Choose another password.";
}

/* Length of the UTF-8 sequence at s when it is a control or separator character, else 0. */
static size_t control_at(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F)     /* C1 controls */
		return 2;
	if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))  /* U+2028, U+2029 */
		return 3;
	return 0;
}

const char *name_clean(struct arena *a, const char *raw, const char **error)
{
	const char *s, *e;
	size_t chars;
	char *out;

	*error = NULL;
	if (raw == NULL)
		raw = "";
	for (s = raw; *s; s++)
		if (control_at((const unsigned char *)s) != 0) {
			*error = "Your name cannot contain control characters such as tabs or line breaks.";
			return NULL;
		}
	s = raw;
	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && e[-1] == ' ')
		e--;
	if (e == s) {
		*error = "Enter your name.";
		return NULL;
	}
	out = arena_strndup(a, s, (size_t)(e - s));
	chars = utf8_chars(out);
	if (chars > NAME_MAX_CHARS) {
		*error = arena_printf(a, "This name has %zu characters: use at most 100.", chars);
		return NULL;
	}
	return out;
}

/* The major version after "Name/" in ua ("128" of "Firefox/128.0"), into v; "" when none. */
static void major_version(const char *ua, const char *token, char *v, size_t n)
{
	const char *p = strstr(ua, token);
	size_t i = 0;

	v[0] = '\0';
	if (p == NULL || n == 0)
		return;
	p += strlen(token);
	while (isdigit((unsigned char)p[i]) && i + 1 < n && i < 6) {
		v[i] = p[i];
		i++;
	}
	v[i] = '\0';
}

void ua_describe(const char *ua, char *out, size_t n)
{
	/* The first match wins: Edge and Opera also say Chrome, Chrome also says Safari. */
	static const struct { const char *token, *name; } browsers[] = {
		{ "Edg/", "Edge" }, { "EdgA/", "Edge" }, { "EdgiOS/", "Edge" },
		{ "OPR/", "Opera" }, { "SamsungBrowser/", "Samsung Internet" },
		{ "Firefox/", "Firefox" }, { "FxiOS/", "Firefox" },
		{ "CriOS/", "Chrome" }, { "Chromium/", "Chromium" }, { "Chrome/", "Chrome" },
		{ "Version/", "Safari" },
		{ "w3m/", "w3m" }, { "Lynx/", "Lynx" }, { "Links", "Links" },
		{ "curl/", "curl" }, { "Wget/", "Wget" },
	};
	static const struct { const char *token, *name; } systems[] = {
		{ "Android", "Android" }, { "iPhone", "iPhone" }, { "iPad", "iPad" },
		{ "CrOS", "ChromeOS" }, { "Mac OS X", "macOS" }, { "Macintosh", "macOS" },
		{ "Windows", "Windows" }, { "Linux", "Linux" }, { "FreeBSD", "FreeBSD" },
		{ "OpenBSD", "OpenBSD" },
	};
	const char *browser = NULL, *system = NULL;
	char version[8] = "";

	if (n == 0)
		return;
	if (ua == NULL || *ua == '\0') {
		snprintf(out, n, "Unknown browser");
		return;
	}
	for (size_t i = 0; i < sizeof(browsers) / sizeof(browsers[0]) && browser == NULL; i++)
		if (strstr(ua, browsers[i].token) != NULL) {
			browser = browsers[i].name;
			/* Safari's own version is the one after "Version/"; only when it says Safari. */
			if (strcmp(browsers[i].token, "Version/") == 0 && strstr(ua, "Safari/") == NULL)
				browser = NULL;
			else if (strcmp(browsers[i].token, "Links") != 0)
				major_version(ua, browsers[i].token, version, sizeof(version));
		}
	for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]) && system == NULL; i++)
		if (strstr(ua, systems[i].token) != NULL)
			system = systems[i].name;
	if (browser == NULL && system == NULL) {
		snprintf(out, n, "Unknown browser");
		return;
	}
	snprintf(out, n, "%s%s%s%s%s", browser ? browser : "A browser", version[0] ? " " : "",
	         version, system ? " on " : "", system ? system : "");
}
