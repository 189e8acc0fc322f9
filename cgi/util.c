/* util.c: arena allocator, byte buffers, escaping, UTF-8 and integer checks */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>

#include "util.h"

#define ARENA_BLOCK 16384

struct block {
	struct block *next;
	size_t used;
	size_t cap;
	_Alignas(max_align_t) char data[];  /* arena_alloc aligns offsets from here */
};

struct arena {
	struct block *head;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fputs("out of memory\n", stderr);
		abort();
	}
	return p;
}

static struct block *block_new(size_t cap)
{
	struct block *b = xmalloc(sizeof(*b) + cap);

	b->next = NULL;
	b->used = 0;
	b->cap = cap;
	return b;
}

/* A new empty arena. */
struct arena *arena_new(void)
{
	struct arena *a = xmalloc(sizeof(*a));

	a->head = block_new(ARENA_BLOCK);
	return a;
}

/* Forget every allocation; keep one standard-size block for reuse. */
void arena_reset(struct arena *a)
{
	struct block *b, *next, *keep = NULL;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL && b->cap == ARENA_BLOCK)
			keep = b;
		else
			free(b);
	}
	if (keep == NULL)
		keep = block_new(ARENA_BLOCK);
	keep->next = NULL;
	keep->used = 0;
	a->head = keep;
}

/* Release the arena and everything allocated from it. */
void arena_free(struct arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/*
 * size bytes, aligned for any type, not zeroed; lives until reset. The head
 * block is the current one; an allocation bigger than a block gets a block
 * of its own linked behind the head, so the head keeps serving small ones.
 */
void *arena_alloc_raw(struct arena *a, size_t size)
{
	struct block *b = a->head;
	size_t align = _Alignof(max_align_t);
	size_t off = (b->used + align - 1) & ~(align - 1);
	void *p;

	if (size > SIZE_MAX / 2)
		abort();
	if (off + size > b->cap) {
		struct block *nb = block_new(size > ARENA_BLOCK / 2 ? size : ARENA_BLOCK);

		if (size > ARENA_BLOCK / 2) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		nb->used = size;
		return nb->data;
	}
	p = b->data + off;
	b->used = off + size;
	return p;
}

/* size zeroed bytes, aligned for any type; lives until reset. */
void *arena_alloc(struct arena *a, size_t size)
{
	void *p = arena_alloc_raw(a, size);

	memset(p, 0, size);
	return p;
}

/* Copy of s in the arena; NULL stays NULL. */
char *arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

/* Copy of the first n bytes of s, NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc_raw(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Most formats of the pages are text with %s and plain integer conversions
 * (%s %d %u %ld %lu %lld %llu %zu %c %%, no flags, width or precision):
 * those are written here directly, as printf would write them, without the
 * cost of vsnprintf. simple_len is the length of the result, or -1 when the
 * format has anything else (then vsnprintf does it).
 */
static int simple_format(const char *fmt)
{
	for (const char *p = fmt; (p = strchr(p, '%')) != NULL; p++) {
		p++;
		if (*p == 'l')
			p += p[1] == 'l' ? 2 : 1;
		else if (*p == 'z')
			p++;
		switch (*p) {
		case 'd': case 'u':
			break;
		case 's': case 'c': case '%':
			if (p[-1] != '%')
				return 0;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* Write fmt with ap into dst (room bytes, NUL included); the length it needs. */
static size_t simple_write(char *dst, size_t room, const char *fmt, va_list ap)
{
	size_t n = 0;

#define PUT(src, len) do { size_t l_ = (len); \
		if (n + l_ < room) memcpy(dst + n, (src), l_); \
		n += l_; } while (0)
	for (const char *p = fmt; *p != '\0';) {
		const char *pct = strchr(p, '%');
		char num[24];
		int longs = 0, size = 0;

		if (pct == NULL) {
			PUT(p, strlen(p));
			break;
		}
		PUT(p, (size_t)(pct - p));
		p = pct + 1;
		if (*p == 'l') {
			longs = p[1] == 'l' ? 2 : 1;
			p += longs;
		} else if (*p == 'z') {
			size = 1;
			p++;
		}
		switch (*p++) {
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (str == NULL)
				str = "(null)";
			PUT(str, strlen(str));
			break;
		}
		case 'c':
			num[0] = (char)va_arg(ap, int);
			PUT(num, 1);
			break;
		case '%':
			PUT("%", 1);
			break;
		case 'd':
			if (size)
				PUT(num, fmt_ll(num, (long long)va_arg(ap, ssize_t)));
			else if (longs == 2)
				PUT(num, fmt_ll(num, va_arg(ap, long long)));
			else if (longs == 1)
				PUT(num, fmt_ll(num, va_arg(ap, long)));
			else
				PUT(num, fmt_ll(num, va_arg(ap, int)));
			break;
		default: {             /* 'u' */
			unsigned long long u = size ? va_arg(ap, size_t)
			                     : longs == 2 ? va_arg(ap, unsigned long long)
			                     : longs == 1 ? va_arg(ap, unsigned long)
			                     : va_arg(ap, unsigned);
			char tmp[24];
			size_t k = 0, m = 0;

			do {
				tmp[k++] = (char)('0' + u % 10);
				u /= 10;
			} while (u != 0);
			while (k > 0)
				num[m++] = tmp[--k];
			PUT(num, m);
			break;
		}
		}
	}
#undef PUT
	if (room > 0)
		dst[n < room ? n : room - 1] = '\0';
	return n;
}

/* vsnprintf, or the direct writer for simple formats: the length of the whole result. */
static size_t format_into(char *dst, size_t room, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	if (simple_format(fmt)) {
		size_t k = simple_write(dst, room, fmt, aq);

		va_end(aq);
		return k;
	}
	n = vsnprintf(dst, room, fmt, aq);
	va_end(aq);
	if (n < 0)
		abort();
	return (size_t)n;
}

/*
 * printf into the arena: formatted straight into the free end of the
 * current block when it fits (one pass, no copy), else once more into an
 * allocation of the right size.
 */
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	struct block *b = a->head;
	size_t align = _Alignof(max_align_t);
	size_t off = (b->used + align - 1) & ~(align - 1);
	size_t room = off < b->cap ? b->cap - off : 0;
	size_t n;
	char *p;

	n = format_into(room ? b->data + off : NULL, room, fmt, ap);
	if (n < room) {
		b->used = off + n + 1;
		return b->data + off;
	}
	p = arena_alloc_raw(a, n + 1);
	format_into(p, n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

char *arena_concat(struct arena *a, const char *s, ...)
{
	va_list ap;
	size_t n = 0;
	char *p, *o;

	va_start(ap, s);
	for (const char *t = s; t != NULL; t = va_arg(ap, const char *))
		n += strlen(t);
	va_end(ap);
	o = p = arena_alloc_raw(a, n + 1);
	va_start(ap, s);
	for (const char *t = s; t != NULL; t = va_arg(ap, const char *)) {
		size_t k = strlen(t);

		memcpy(o, t, k);
		o += k;
	}
	va_end(ap);
	*o = '\0';
	return p;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX / 2 - b->len)
		abort();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		fputs("out of memory\n", stderr);
		abort();
	}
	b->data = p;
	b->cap = cap;
}

void buf_reserve(struct buf *b, size_t extra)
{
	buf_grow(b, extra);
}

/* Append len bytes. */
void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

/* Formatted straight into the buffer's free space when it fits, else grown and again. */
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	size_t n = format_into(room ? b->data + b->len : NULL, room, fmt, ap);

	if (n >= room) {
		buf_grow(b, n);
		format_into(b->data + b->len, n + 1, fmt, ap);
	}
	b->len += n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/*
 * The escaping writers scan runs of bytes that need nothing, copy each run
 * at once and write the replacement of the byte that ended it, straight
 * into the buffer: no temporary string, no call per byte. The tables mark
 * the bytes that end a run; the string's NUL ends the last one.
 */
static const unsigned char html_stop[256] = {
	[0] = 1, ['<'] = 1, ['>'] = 1, ['&'] = 1, ['"'] = 1, ['\''] = 1,
};

/* Append s with the five HTML-significant characters escaped. */
void buf_html(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	for (;;) {
		const unsigned char *run = p;
		const char *rep;
		size_t n, rn;

		while (!html_stop[*p])
			p++;
		n = (size_t)(p - run);
		/* room for the run and the longest replacement ("&quot;") */
		if (n + 6 >= b->cap - b->len)
			buf_grow(b, n + 6);
		memcpy(b->data + b->len, run, n);
		b->len += n;
		switch (*p) {
		case '<': rep = "&lt;"; rn = 4; break;
		case '>': rep = "&gt;"; rn = 4; break;
		case '&': rep = "&amp;"; rn = 5; break;
		case '"': rep = "&quot;"; rn = 6; break;
		case '\'': rep = "&#39;"; rn = 5; break;
		default:
			b->data[b->len] = '\0';
			return;
		}
		memcpy(b->data + b->len, rep, rn);
		b->len += rn;
		p++;
	}
}

/* Bytes a URL component keeps as they are: A-Z a-z 0-9 - . _ ~ */
static const unsigned char url_keep[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
};

/* Append s percent-encoded as a URL component (unreserved characters kept). */
void buf_url(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	for (;;) {
		const unsigned char *run = p;
		size_t n;

		while (url_keep[*p])
			p++;
		n = (size_t)(p - run);
		if (n + 3 >= b->cap - b->len)
			buf_grow(b, n + 3);
		memcpy(b->data + b->len, run, n);
		b->len += n;
		if (*p == '\0') {
			b->data[b->len] = '\0';
			return;
		}
		b->data[b->len] = '%';
		b->data[b->len + 1] = hex[*p >> 4];
		b->data[b->len + 2] = hex[*p & 15];
		b->len += 3;
		p++;
	}
}

size_t fmt_ll(char s[24], long long n)
{
	char tmp[24];
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
	size_t k = 0, len = 0;

	do {
		tmp[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (n < 0)
		s[len++] = '-';
	while (k > 0)
		s[len++] = tmp[--k];
	s[len] = '\0';
	return len;
}

void buf_put_ll(struct buf *b, long long n)
{
	char s[24];

	buf_append(b, s, fmt_ll(s, n));
}

/* Strict UTF-8 check: no NUL, no overlong forms, no surrogates, max U+10FFFF. */
int utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Decimal integer in [min, max], digits only (optional leading '-'), at most
 * 19 digits (20 characters with the sign). Read digit by digit, without
 * strtol, refusing on overflow.
 */
int parse_long(const char *s, long min, long max, long *out)
{
	const char *p = s;
	unsigned long v = 0, lim = LONG_MAX;
	int neg = 0;
	long r;

	if (s == NULL)
		return -1;
	if (*p == '-') {
		neg = 1;
		lim = (unsigned long)LONG_MAX + 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\0' || p - s > (neg ? 20 : 19))   /* LONG_MIN has 20 characters */
		return -1;
	r = !neg ? (long)v : v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v;
	if (r < min || r > max)
		return -1;
	*out = r;
	return 0;
}

/* Milliseconds from a monotonic clock. */
int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append s as a quoted JSON string with control characters escaped. */
void buf_json(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else {
			buf_putc(b, (char)c);
		}
	}
	buf_putc(b, '"');
}

/* {"k":"v",...} from NULL-terminated key/value pairs. */
char *json_object(struct arena *a, const char *key, ...)
{
	struct buf b;
	va_list ap;
	char *out;
	int first = 1;

	buf_init(&b);
	buf_putc(&b, '{');
	va_start(ap, key);
	for (const char *k = key; k != NULL; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);

		if (!first)
			buf_putc(&b, ',');
		first = 0;
		buf_json(&b, k);
		buf_putc(&b, ':');
		if (v == NULL)
			buf_puts(&b, "null");
		else
			buf_json(&b, v);
	}
	va_end(ap);
	buf_putc(&b, '}');
	out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

int record_split(char *s, char **f, int n)
{
	size_t len = strlen(s);

	if (n < 1 || len < 2 || s[0] != '(' || s[len - 1] != ')' || strchr(s, '"') != NULL)
		return -1;
	s[len - 1] = '\0';
	s++;
	for (int i = 0; i < n; i++) {
		char *comma = strchr(s, ',');

		if ((comma == NULL) != (i == n - 1))
			return -1;
		if (comma != NULL)
			*comma = '\0';
		f[i] = *s ? s : NULL;
		s = comma ? comma + 1 : s;
	}
	return 0;
}

int text_name(struct arena *a, const char *s, size_t maxchars, const char **out)
{
	const unsigned char *p, *start, *end;
	size_t chars = 0;

	*out = NULL;
	if (s == NULL)
		return TEXT_EMPTY;
	start = (const unsigned char *)s;
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strlen((const char *)start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == start)
		return TEXT_EMPTY;
	for (p = start; p < end; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return TEXT_CONTROL;
		/* C1 controls are U+0080..U+009F: C2 80..C2 9F. */
		if (*p == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f)
			return TEXT_CONTROL;
		/* U+2028 and U+2029 end a line too: E2 80 A8 and E2 80 A9. */
		if (*p == 0xe2 && p + 2 < end && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			return TEXT_CONTROL;
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars > maxchars)
		return TEXT_TOO_LONG;
	*out = arena_strndup(a, (const char *)start, (size_t)(end - start));
	return TEXT_OK;
}

void buf_csv(struct buf *b, const char *s)
{
	int formula, quote;

	if (s == NULL)
		return;
	formula = *s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r';
	quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		buf_putc(b, '"');
	if (formula)
		buf_putc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_putc(b, '"');
		buf_putc(b, *p);
	}
	if (quote)
		buf_putc(b, '"');
}

/* --- Words for people: dates, durations, articles -------------------- */

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};

/* Read n digits at s into *out; 0 ok, -1 when any is not a digit. */
static int digits_at(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" at the start of iso into y, m, d; 0 when it is a real date. */
static int iso_date(const char *iso, int *y, int *m, int *d)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (iso == NULL || strlen(iso) < 10 || iso[4] != '-' || iso[7] != '-' ||
	    digits_at(iso, 4, y) != 0 || digits_at(iso + 5, 2, m) != 0 ||
	    digits_at(iso + 8, 2, d) != 0 || *m < 1 || *m > 12 || *d < 1 || *d > days[*m - 1])
		return -1;
	if (*m == 2 && *d == 29 && !((*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0))
		return -1;
	return 0;
}

/* Short words put together in place, then copied into the arena once (no printf). */
struct words {
	char s[80];
	size_t n;
};

static void w_str(struct words *w, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(w->s) - 1 - w->n)
		abort();               /* only ever fixed words and numbers */
	memcpy(w->s + w->n, s, n);
	w->n += n;
}

static void w_num(struct words *w, long long v)
{
	char d[24];

	w_str(w, (fmt_ll(d, v), d));
}

/* v (0 to 99) in two digits */
static void w_2d(struct words *w, int v)
{
	char d[3] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10), '\0' };

	w_str(w, d);
}

static const char *w_done(struct arena *a, const struct words *w)
{
	return arena_strndup(a, w->s, w->n);
}

const char *date_words(struct arena *a, const char *iso)
{
	struct words w = { .n = 0 };
	int y, m, d;

	if (iso_date(iso, &y, &m, &d) != 0 || (iso[10] != '\0' && iso[10] != 'T' && iso[10] != ' '))
		return NULL;
	w_num(&w, d);
	w_str(&w, " ");
	w_str(&w, month_names[m - 1]);
	w_str(&w, " ");
	w_num(&w, y);
	return w_done(a, &w);
}

const char *datetime_words(struct arena *a, const char *iso)
{
	struct words w = { .n = 0 };
	int y, m, d, hh, mm;

	if (iso_date(iso, &y, &m, &d) != 0 || (iso[10] != 'T' && iso[10] != ' ') ||
	    strlen(iso) < 16 || digits_at(iso + 11, 2, &hh) != 0 || iso[13] != ':' ||
	    digits_at(iso + 14, 2, &mm) != 0 || hh > 23 || mm > 59)
		return NULL;
	w_num(&w, d);
	w_str(&w, " ");
	w_str(&w, month_names[m - 1]);
	w_str(&w, " ");
	w_num(&w, y);
	w_str(&w, ", ");
	w_2d(&w, hh);
	w_str(&w, ":");
	w_2d(&w, mm);
	w_str(&w, " UTC");
	return w_done(a, &w);
}

/* before "1 minute" / "5 minutes" after */
static const char *count_of(struct arena *a, const char *before, long n, const char *unit,
                            const char *after)
{
	struct words w = { .n = 0 };

	w_str(&w, before);
	w_num(&w, n);
	w_str(&w, " ");
	w_str(&w, unit);
	if (n != 1)
		w_str(&w, "s");
	w_str(&w, after);
	return w_done(a, &w);
}

const char *ago_words(struct arena *a, long secs)
{
	if (secs < 60)
		return "just now";
	if (secs < 3600)
		return count_of(a, "", secs / 60, "minute", " ago");
	if (secs < 86400)
		return count_of(a, "", secs / 3600, "hour", " ago");
	if (secs < 60L * 86400)
		return count_of(a, "", secs / 86400, "day", " ago");
	if (secs < 730L * 86400)
		return count_of(a, "", secs / (30L * 86400), "month", " ago");
	return count_of(a, "", secs / (365L * 86400), "year", " ago");
}

const char *until_words(struct arena *a, long secs)
{
	if (secs <= 0)
		return "expired";
	if (secs < 3600)
		return count_of(a, "in ", (secs + 59) / 60, "minute", "");
	if (secs < 86400)
		return count_of(a, "in ", (secs + 1800) / 3600, "hour", "");
	return count_of(a, "in ", (secs + 3600) / 86400, "day", "");
}

const char *with_article(struct arena *a, const char *word)
{
	const char *art;
	size_t an, n;
	char *p;

	if (word == NULL || *word == '\0')
		return "";
	art = strchr("aeiou", *word | 0x20) != NULL ? "an " : "a ";
	an = strlen(art);
	n = strlen(word);
	p = arena_alloc_raw(a, an + n + 1);
	memcpy(p, art, an);
	memcpy(p + an, word, n + 1);
	return p;
}

const char *plan_words(const char *plan)
{
	static const struct { const char *type, *label; } labels[] = {
		{ "free", "Free" }, { "starter", "Starter" },
		{ "professional", "Professional" }, { "enterprise", "Enterprise" },
	};

	for (size_t i = 0; plan != NULL && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(plan, labels[i].type) == 0)
			return labels[i].label;
	return plan != NULL ? plan : "";
}

size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}
