/* util.h: per-request arena allocator, growable byte buffers, small string helpers */
#ifndef SETTINGS_UTIL_H
#define SETTINGS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An arena hands out memory that lives until arena_reset() or arena_free().
 * Every request gets one, so handlers never free individual strings.
 * Allocation failure aborts the process (the worker is replaced by the master).
 */
struct arena;

struct arena *arena_new(void);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t size);          /* zeroed */
void *arena_alloc_raw(struct arena *a, size_t size);      /* not zeroed */
char *arena_strdup(struct arena *a, const char *s);       /* NULL stays NULL */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The strings up to NULL, one after another, in one arena copy (no printf). */
char *arena_concat(struct arena *a, const char *s, ...) __attribute__((sentinel));

/* A growable byte buffer, always NUL-terminated after its contents. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                            /* len = 0, keeps memory */
/* Room for extra more bytes and the NUL after them. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Escaping writers, straight into the buffer: HTML text/attribute (< > & " '
 * become entities, every other byte is copied as it is), and URL component
 * (RFC 3986: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded). NULL
 * writes nothing.
 */
void buf_html(struct buf *b, const char *s);
void buf_url(struct buf *b, const char *s);
/* Append n in decimal (no printf). */
void buf_put_ll(struct buf *b, long long n);
/* n in decimal into s (room for 21 bytes and the NUL); returns the length. */
size_t fmt_ll(char s[24], long long n);

/*
 * A JSON object from key/value string pairs ending with NULL, e.g.
 * json_object(a, "old_role", "member", "new_role", "admin", NULL).
 * A NULL value is written as JSON null; every string is escaped.
 */
char *json_object(struct arena *a, const char *key, ...);
/* Append s as a JSON string literal (with quotes). */
void buf_json(struct buf *b, const char *s);

/* 1 when s is valid UTF-8 of exactly len bytes with no NUL and no overlongs/surrogates. */
int utf8_valid(const char *s, size_t len);

/* Parse a decimal integer in [min, max]; 0 on success, -1 on any junk or overflow. */
int parse_long(const char *s, long min, long max, long *out);
/*
 * PostgreSQL's text of a record of n plain values, "(a,b,,d)", split in
 * place into f (NULL for an empty field, SQL NULL). -1 when it is not that
 * shape, or when a field is quoted (values with commas, quotes or spaces,
 * which the callers' uuid, integer and boolean columns never have).
 */
int record_split(char *s, char **f, int n);

/*
 * A name typed by a person (a workspace or API key name): s without
 * surrounding blanks into *out (an arena copy). 0 when it has 1 to
 * maxchars characters (code points) and no control character (C0, DEL,
 * C1, line or paragraph separator); else TEXT_EMPTY, TEXT_TOO_LONG or
 * TEXT_CONTROL. s must be valid UTF-8 (the request parser sees to it).
 */
enum { TEXT_OK = 0, TEXT_EMPTY, TEXT_TOO_LONG, TEXT_CONTROL };
int text_name(struct arena *a, const char *s, size_t maxchars, const char **out);

/*
 * Append s as one CSV field (RFC 4180): quoted when it holds a comma,
 * quote, CR or LF (quotes doubled). A cell that a spreadsheet would read
 * as a formula (first character =, +, -, @, tab or CR) gets a leading
 * apostrophe first, and is then quoted.
 */
void buf_csv(struct buf *b, const char *s);

/*
 * Words for people, the one style of every page. Dates: date_words turns
 * "2026-12-01" (or an ISO timestamp that starts so) into "1 December 2026";
 * datetime_words "2026-12-08T14:05:00Z" into "8 December 2026, 14:05 UTC".
 * Both return NULL for anything that is not a real date. Templates put them
 * in <time>, which never wraps (settings.css).
 */
const char *date_words(struct arena *a, const char *iso);
const char *datetime_words(struct arena *a, const char *iso);
/* Seconds in the past / future, relative: "just now", "3 days ago"; "in 7 days", "expired". */
const char *ago_words(struct arena *a, long secs);
const char *until_words(struct arena *a, long secs);
/* The word with its indefinite article: "an admin", "a member". */
const char *with_article(struct arena *a, const char *word);
/* A plan's name for people ("professional" -> "Professional"); others as they are, NULL as "". */
const char *plan_words(const char *plan);
/* Characters (code points) of a valid UTF-8 string. */
size_t utf8_chars(const char *s);

/* Monotonic milliseconds, for durations. */
int64_t now_ms(void);

#endif
