/* tmpl.c: the template engine: parser to a flat op list, scopes, renderer */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpl.h"

/* Limits, all enforced at parse time. */
#define MAX_NEST      64                 /* open IF/UNLESS/LOOP blocks */
#define MAX_INCLUDE   16                 /* include chain length below the root */
#define MAX_INCLUDES  1024               /* include tags expanded per template */
#define MAX_PATH      256                /* include path, normalized */
#define MAX_FILE      (1024 * 1024)      /* bytes per template file */
#define MAX_POOL      (16 * 1024 * 1024) /* text and strings of a whole template */
#define MAX_OPS       (1024 * 1024)

#define NONE SIZE_MAX

/*
 * The parsed template is a flat array of ops; blocks become jumps, so
 * rendering is a loop over a program counter with a small fixed stack of
 * active loops, never recursion.
 *
 *   OP_TEXT      write pool[a .. a+b)
 *   OP_VAR       write the value of name a (length b, hash), default c, per fmt
 *   OP_IF        name a/b, compare value c (or NONE); when the condition
 *                (negated for UNLESS) is false, continue at jump
 *   OP_JUMP      continue at jump (end of an IF branch)
 *   OP_LOOP      name a/b; no rows: continue at jump (the op after ENDLOOP)
 *   OP_ENDLOOP   next row: back to the op after the LOOP, else fall through
 *   OP_BREAK     leave the innermost active loop
 *   OP_CONTINUE  go to the ENDLOOP of the innermost active loop
 *
 * BREAK and CONTINUE need no target of their own: the active loop frame
 * knows its LOOP op, whose jump is one past its ENDLOOP.
 */
enum op_kind {
	OP_TEXT,
	OP_VAR,
	OP_IF,
	OP_JUMP,
	OP_LOOP,
	OP_ENDLOOP,
	OP_BREAK,
	OP_CONTINUE,
};

enum fmt {
	FMT_HTML,
	FMT_URL,
	FMT_RAW,
};

struct op {
	unsigned char kind;
	unsigned char fmt;   /* OP_VAR */
	unsigned char neg;   /* OP_IF: 1 for UNLESS */
	uint32_t hash;       /* OP_VAR, OP_IF, OP_LOOP: of the name, for the scopes */
	uint32_t sym;        /* the same: the name's number in this template */
	size_t a, b, c;      /* pool offsets and lengths, see above */
	size_t jump;         /* op index */
};

struct tmpl {
	struct op *ops;
	size_t nops;
	char *pool;          /* text runs and NUL-terminated attribute strings */
	size_t plen;
	uint32_t nsyms;      /* distinct names (the template's symbol table) */
};

/* ---------------------------------------------------------------- scopes */

/*
 * A scope is a small hash table of entries (open addressing, keyed by the
 * name's hash, confirmed by the name itself); a name is either a value or a
 * loop (a singly linked list of rows, each a scope whose parent is the scope
 * the loop belongs to). Templates hash their names once, at parse time, so
 * rendering looks a name up with one or two probes per scope, whatever the
 * number of variables. Everything lives in the arena.
 */
struct tent {
	const char *name;
	uint32_t nlen;
	uint32_t hash;
	const char *value;       /* NULL for a loop, or for an unset name */
	struct tvars *first;     /* loop rows */
	struct tvars *last;
};

struct tvars {
	struct arena *a;
	const struct tvars *parent;
	struct tvars *next;      /* next row of the same loop */
	struct tent *ent;        /* in the order the names were first set */
	uint32_t *slot;          /* 1 + index into ent, 0 for a free slot */
	uint32_t n, cap;         /* entries used and allocated */
	uint32_t mask;           /* slots - 1; slots are at least twice cap */
	uint64_t bloom[2];       /* bit (hash >> 25) of every name ever added */
};

/* 0 when name (hash h) was never added to v: most misses stop here. */
static inline int maybe_has(const struct tvars *v, uint32_t h)
{
	return (v->bloom[h >> 31] >> ((h >> 25) & 63)) & 1;
}

/* Entries of a page's own scope and of a loop row before the first growth. */
#define ROOT_CAP 128
#define ROW_CAP  32

/*
 * The hash of a name (the same for a template's name at parse time and for
 * tvars_set's), eight bytes at a time: the last eight bytes overlap the
 * chunk before them, and a name shorter than eight is read as two
 * overlapping halves or three bytes, so no byte is read one at a time.
 */
static inline uint64_t load64(const char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return w;
}

static inline uint64_t load32(const char *s)
{
	uint32_t w;

	memcpy(&w, s, 4);
	return w;
}

static inline uint32_t name_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	if (n > 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			h = (h ^ load64(s + i)) * 0xff51afd7ed558ccdULL;
			h ^= h >> 32;
		}
		w = load64(s + n - 8);
	} else if (n >= 4) {
		w = load32(s) | load32(s + n - 4) << 32;
	} else if (n > 0) {
		w = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
		    (uint64_t)(unsigned char)s[n - 1] << 16;
	} else {
		w = 0;
	}
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdULL;
	return (uint32_t)(h >> 32);
}

/* The hash of a C string, and its length. */
static inline uint32_t name_hash_len(const char *s, size_t *len)
{
	*len = strlen(s);
	return name_hash(s, *len);
}

struct tvars *tvars_new(struct arena *a)
{
	struct tvars *v = arena_alloc(a, sizeof(*v));

	v->a = a;
	return v;
}

/* The entry for name in this very scope (set, a loop, or unset), or NULL. */
static inline struct tent *scope_find(const struct tvars *v, const char *name, size_t nlen,
                                      uint32_t h)
{
	if (!maybe_has(v, h))
		return NULL;
	for (uint32_t i = h & v->mask;; i = (i + 1) & v->mask) {
		uint32_t k = v->slot[i];
		struct tent *e;

		if (k == 0)
			return NULL;
		e = &v->ent[k - 1];
		if (e->hash == h && e->nlen == nlen && memcmp(e->name, name, nlen) == 0)
			return e;
	}
}

/* The nearest live entry (a value or a loop) for name, this scope first, then outwards. */
static const struct tent *lookup(const struct tvars *v, const char *name, size_t nlen, uint32_t h)
{
	for (; v != NULL; v = v->parent) {
		const struct tent *e = scope_find(v, name, nlen, h);

		if (e != NULL && (e->value != NULL || e->first != NULL))
			return e;
	}
	return NULL;
}

static void scope_grow(struct tvars *v)
{
	uint32_t cap = v->cap ? v->cap * 2 : v->parent == NULL ? ROOT_CAP : ROW_CAP;
	struct tent *ne;

	if (cap > UINT32_MAX / 4)
		abort();
	/* entries, then the slots (zeroed), in one allocation */
	ne = arena_alloc_raw(v->a, cap * sizeof(*ne) + cap * 2 * sizeof(*v->slot));
	if (v->n)
		memcpy(ne, v->ent, v->n * sizeof(*ne));
	v->ent = ne;
	v->cap = cap;
	v->mask = cap * 2 - 1;
	v->slot = (uint32_t *)(ne + cap);
	memset(v->slot, 0, cap * 2 * sizeof(*v->slot));
	for (uint32_t k = 0; k < v->n; k++) {
		uint32_t i = v->ent[k].hash & v->mask;

		while (v->slot[i] != 0)
			i = (i + 1) & v->mask;
		v->slot[i] = k + 1;
	}
}

/* A new entry for name (already in the arena), unset, in this scope. */
static struct tent *scope_add(struct tvars *v, const char *name, size_t nlen, uint32_t h)
{
	struct tent *e;
	uint32_t i;

	if (nlen > UINT32_MAX)
		abort();
	if (v->n == v->cap)
		scope_grow(v);
	v->bloom[h >> 31] |= 1ULL << ((h >> 25) & 63);
	e = &v->ent[v->n++];
	e->name = name;
	e->nlen = (uint32_t)nlen;
	e->hash = h;
	e->value = NULL;
	e->first = e->last = NULL;
	for (i = h & v->mask; v->slot[i] != 0; i = (i + 1) & v->mask)
		;
	v->slot[i] = v->n;
	return e;
}

/* The entry for name in this very scope, created (unset) when missing. */
static struct tent *scope_entry(struct tvars *v, const char *name)
{
	size_t nlen;
	uint32_t h = name_hash_len(name, &nlen);
	struct tent *e = scope_find(v, name, nlen, h);

	return e != NULL ? e : scope_add(v, arena_strndup(v->a, name, nlen), nlen, h);
}

/*
 * Set name to value (vlen bytes): a copy in the arena when copy, else value
 * itself (a string literal, or already in the arena). A new entry's name is
 * copied in the same allocation as the value.
 */
static void set_value(struct tvars *v, const char *name, const char *value, size_t vlen,
                      int copy)
{
	size_t nlen;
	uint32_t h = name_hash_len(name, &nlen);
	struct tent *e = scope_find(v, name, nlen, h);
	char *p = NULL;

	if (e == NULL || copy)
		p = arena_alloc_raw(v->a, (e == NULL ? nlen + 1 : 0) + (copy ? vlen + 1 : 0));
	if (e == NULL) {
		memcpy(p, name, nlen + 1);
		e = scope_add(v, p, nlen, h);
		p += nlen + 1;
	}
	if (copy) {
		memcpy(p, value, vlen);
		p[vlen] = '\0';
		value = p;
	}
	e->value = value;
	e->first = e->last = NULL;
}

void tvars_set(struct tvars *v, const char *name, const char *value)
{
	if (v == NULL || name == NULL)
		return;
	if (value == NULL) {
		size_t nlen;
		uint32_t h = name_hash_len(name, &nlen);
		struct tent *e = scope_find(v, name, nlen, h);

		if (e != NULL)         /* unset: the name is looked up outwards again */
			e->value = NULL, e->first = e->last = NULL;
		return;
	}
	set_value(v, name, value, strlen(value), 1);
}

void tvars_setf(struct tvars *v, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (v == NULL || name == NULL)
		return;
	va_start(ap, fmt);
	p = arena_vprintf(v->a, fmt, ap);
	va_end(ap);
	set_value(v, name, p, strlen(p), 0);
}

void tvars_set_int(struct tvars *v, const char *name, long long n)
{
	char s[24];
	size_t len = fmt_ll(s, n);

	if (v == NULL || name == NULL)
		return;
	set_value(v, name, s, len, 1);
}

void tvars_set_bool(struct tvars *v, const char *name, int on)
{
	if (on) {
		if (v != NULL && name != NULL)
			set_value(v, name, "1", 1, 0);
	} else {
		tvars_set(v, name, NULL);
	}
}

struct tvars *tvars_loop_add(struct tvars *v, const char *name)
{
	struct tent *e = scope_entry(v, name);
	struct tvars *row = tvars_new(v->a);

	row->parent = v;
	if (e->value != NULL) {          /* a value becomes a loop */
		e->value = NULL;
		e->first = e->last = NULL;
	}
	if (e->last != NULL)
		e->last->next = row;
	else
		e->first = row;
	e->last = row;
	return row;
}

const char *tvars_get(const struct tvars *v, const char *name)
{
	const struct tent *e;
	size_t nlen;
	uint32_t h;

	if (name == NULL)
		return NULL;
	h = name_hash_len(name, &nlen);
	e = lookup(v, name, nlen, h);
	return e != NULL ? e->value : NULL;
}

/* ------------------------------------------------------------- rendering */

/*
 * While a template renders, the page's own scope (the one passed to
 * tmpl_render, and its parents) does not change, so each name is looked up
 * there at most once per render: memo[sym] keeps what was found (or
 * &absent), by the template's symbol numbers. Loop rows are looked up first,
 * each with its own table.
 */
struct render {
	const struct tmpl *t;
	const struct tvars *root;
	const struct tent **memo;    /* NULL without a root */
};

static const struct tent absent;

static inline __attribute__((always_inline)) const struct tent *
find(struct render *r, const struct op *op, const struct tvars *s)
{
	const struct tent *e;

	/* loop rows (and, without a memo, every scope) */
	for (; s != r->root; s = s->parent) {
		if (s == NULL)
			return NULL;
		if (maybe_has(s, op->hash)) {
			e = scope_find(s, r->t->pool + op->a, op->b, op->hash);
			if (e != NULL && (e->value != NULL || e->first != NULL))
				return e;
		}
	}
	if (s == NULL)               /* rendered without a scope */
		return NULL;
	/* the page's scope and its parents, looked up once per render */
	e = r->memo[op->sym];
	if (e == NULL) {
		e = lookup(s, r->t->pool + op->a, op->b, op->hash);
		r->memo[op->sym] = e != NULL ? e : &absent;
	}
	return e != &absent ? e : NULL;
}

/* Text into the buffer; the NUL after it is written when rendering ends. */
static inline void out_text(struct buf *out, const char *p, size_t n)
{
	if (n >= out->cap - out->len)
		buf_reserve(out, n);
	memcpy(out->data + out->len, p, n);
	out->len += n;
}

static void put(struct buf *out, int fmt, const char *s)
{
	switch (fmt) {
	case FMT_URL: buf_url(out, s); break;
	case FMT_RAW: out_text(out, s, strlen(s)); break;
	default: buf_html(out, s); break;
	}
}

static int truth(struct render *rd, const struct op *op, const struct tvars *scope)
{
	const struct tent *e = find(rd, op, scope);
	int r;

	if (e == NULL)
		r = 0;
	else if (op->c != NONE)
		r = e->value != NULL && strcmp(e->value, rd->t->pool + op->c) == 0;
	else if (e->value != NULL)
		r = e->value[0] != '\0' && !(e->value[0] == '0' && e->value[1] == '\0');
	else
		r = e->first != NULL;
	return op->neg ? !r : r;
}

void tmpl_render(const struct tmpl *t, const struct tvars *v, struct buf *out)
{
	struct frame {
		const struct tvars *row;
		size_t loop;             /* index of the OP_LOOP */
	} stack[MAX_NEST];
	struct render rd;
	const struct tvars *scope = v;   /* the innermost row, else v */
	size_t depth = 0;
	size_t pc = 0;

	if (t == NULL)
		return;
	rd.t = t;
	rd.root = v;
	rd.memo = v != NULL && t->nsyms ? arena_alloc(v->a, t->nsyms * sizeof(*rd.memo)) : NULL;
	if (rd.memo == NULL)
		rd.root = NULL;
	while (pc < t->nops) {
		const struct op *op = &t->ops[pc];

		switch (op->kind) {
		case OP_TEXT:
			out_text(out, t->pool + op->a, op->b);
			pc++;
			break;
		case OP_VAR: {
			const struct tent *e = find(&rd, op, scope);
			const char *s = e != NULL ? e->value : NULL;

			if (s == NULL && op->c != NONE)
				s = t->pool + op->c;
			if (s != NULL)
				put(out, op->fmt, s);
			pc++;
			break;
		}
		case OP_IF:
			pc = truth(&rd, op, scope) ? pc + 1 : op->jump;
			break;
		case OP_JUMP:
			pc = op->jump;
			break;
		case OP_LOOP: {
			const struct tent *e = find(&rd, op, scope);

			/* the parser bounds loop nesting by MAX_NEST */
			if (e == NULL || e->first == NULL || depth == MAX_NEST) {
				pc = op->jump;
				break;
			}
			stack[depth].row = scope = e->first;
			stack[depth].loop = pc;
			depth++;
			pc++;
			break;
		}
		case OP_ENDLOOP:
			if (depth == 0)
				goto done;
			stack[depth - 1].row = stack[depth - 1].row->next;
			if (stack[depth - 1].row != NULL) {
				scope = stack[depth - 1].row;
				pc = stack[depth - 1].loop + 1;
			} else {
				depth--;
				scope = depth ? stack[depth - 1].row : v;
				pc++;
			}
			break;
		case OP_BREAK:
			if (depth == 0)
				goto done;
			depth--;
			scope = depth ? stack[depth - 1].row : v;
			pc = t->ops[stack[depth].loop].jump;
			break;
		case OP_CONTINUE:
			if (depth == 0)
				goto done;
			pc = t->ops[stack[depth - 1].loop].jump - 1;
			break;
		default:
			goto done;
		}
	}
done:
	if (out->data != NULL)
		out->data[out->len] = '\0';
}

void tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->ops);
	free(t->pool);
	free(t);
}

/* --------------------------------------------------------------- parsing */

enum tag {
	TAG_VAR,
	TAG_IF,
	TAG_ELSIF,
	TAG_ELSE,
	TAG_UNLESS,
	TAG_LOOP,
	TAG_INCLUDE,
	TAG_BREAK,
	TAG_CONTINUE,
	TAG_END_IF,
	TAG_END_UNLESS,
	TAG_END_LOOP,
};

enum attr {
	ATTR_NAME,
	ATTR_VALUE,
	ATTR_FMT,
	ATTR_DEFAULT,
	NATTR,
};

#define A(x) (1u << (x))

static const struct {
	const char *name;     /* without "<" or "</" */
	int closing;
	unsigned allowed;     /* attributes */
} tags[] = {
	[TAG_VAR] = {"TMPL_VAR", 0, A(ATTR_NAME) | A(ATTR_FMT) | A(ATTR_DEFAULT)},
	[TAG_IF] = {"TMPL_IF", 0, A(ATTR_NAME) | A(ATTR_VALUE)},
	[TAG_ELSIF] = {"TMPL_ELSIF", 0, A(ATTR_NAME) | A(ATTR_VALUE)},
	[TAG_ELSE] = {"TMPL_ELSE", 0, 0},
	[TAG_UNLESS] = {"TMPL_UNLESS", 0, A(ATTR_NAME) | A(ATTR_VALUE)},
	[TAG_LOOP] = {"TMPL_LOOP", 0, A(ATTR_NAME)},
	[TAG_INCLUDE] = {"TMPL_INCLUDE", 0, A(ATTR_NAME)},
	[TAG_BREAK] = {"TMPL_BREAK", 0, 0},
	[TAG_CONTINUE] = {"TMPL_CONTINUE", 0, 0},
	[TAG_END_IF] = {"TMPL_IF", 1, 0},
	[TAG_END_UNLESS] = {"TMPL_UNLESS", 1, 0},
	[TAG_END_LOOP] = {"TMPL_LOOP", 1, 0},
};

static const char *const attr_names[NATTR] = {"name", "value", "fmt", "default"};

/* An open block. */
struct block {
	int tag;              /* TAG_IF, TAG_UNLESS or TAG_LOOP */
	unsigned line;        /* of the opening tag, in the file that opened it */
	size_t op;            /* the OP_LOOP, for loops */
	size_t pending;       /* OP_IF waiting for its false target, or NONE */
	size_t jumps;         /* chain of OP_JUMPs to the end, through .jump */
	int seen_else;
};

struct parser {
	struct op *ops;
	size_t nops, capops;
	char *pool;
	size_t plen, pcap;
	size_t last_text;     /* op index of a TEXT that may still grow, or NONE */
	struct block stack[MAX_NEST];
	size_t depth;
	char chain[MAX_INCLUDE + 1][MAX_PATH];   /* the files being parsed */
	int nchain;
	int includes;
	const char *include_dir;
	char *err;
	size_t errlen;
};

/* One file being scanned. */
struct src {
	const char *name;
	const char *p, *end;
	unsigned line;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fputs("out of memory\n", stderr);
		abort();
	}
	return p;
}

__attribute__((format(printf, 4, 5)))
static int fail(struct parser *ps, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->err == NULL || ps->errlen == 0)
		return -1;
	n = snprintf(ps->err, ps->errlen, "%s:%u: ", file, line);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static unsigned count_lines(const char *p, const char *end)
{
	unsigned n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static int pool_add(struct parser *ps, struct src *s, const char *data, size_t len,
                    int nul, size_t *off)
{
	size_t need = len + (nul ? 1 : 0);

	if (need > MAX_POOL - ps->plen)
		return fail(ps, s->name, s->line, "template too large");
	if (ps->plen + need > ps->pcap) {
		size_t cap = ps->pcap ? ps->pcap : 4096;

		while (cap < ps->plen + need)
			cap *= 2;
		ps->pool = xrealloc(ps->pool, cap);
		ps->pcap = cap;
	}
	*off = ps->plen;
	if (len)
		memcpy(ps->pool + ps->plen, data, len);
	ps->plen += len;
	if (nul)
		ps->pool[ps->plen++] = '\0';
	return 0;
}

static struct op *emit(struct parser *ps, struct src *s, int kind)
{
	struct op *op;

	if (ps->nops >= MAX_OPS) {
		fail(ps, s->name, s->line, "template too large");
		return NULL;
	}
	if (ps->nops == ps->capops) {
		ps->capops = ps->capops ? ps->capops * 2 : 64;
		ps->ops = xrealloc(ps->ops, ps->capops * sizeof(*ps->ops));
	}
	op = &ps->ops[ps->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = (unsigned char)kind;
	op->a = op->b = op->c = op->jump = NONE;
	if (kind != OP_TEXT)
		ps->last_text = NONE;
	return op;
}

static int emit_text(struct parser *ps, struct src *s, const char *p, size_t len)
{
	size_t off;
	struct op *op;

	if (len == 0)
		return 0;
	if (pool_add(ps, s, p, len, 0, &off) < 0)
		return -1;
	if (ps->last_text != NONE) {
		op = &ps->ops[ps->last_text];
		if (op->a + op->b == off) {    /* contiguous: extend */
			op->b += len;
			return 0;
		}
	}
	op = emit(ps, s, OP_TEXT);
	if (op == NULL)
		return -1;
	op->a = off;
	op->b = len;
	ps->last_text = ps->nops - 1;
	return 0;
}

/*
 * Validate and normalize an include path into out: only [A-Za-z0-9_./-],
 * relative, no "..", with empty and "." segments dropped.
 */
static const char *normalize_path(const char *p, size_t len, char out[MAX_PATH])
{
	size_t o = 0, i = 0;

	if (len == 0)
		return "empty include path";
	if (p[0] == '/')
		return "include path must be relative";
	for (size_t k = 0; k < len; k++) {
		char c = p[k];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '/'))
			return "include path has characters outside [A-Za-z0-9_./-]";
		if (c == '.' && k + 1 < len && p[k + 1] == '.')
			return "include path contains \"..\"";
	}
	while (i < len) {
		size_t j = i;

		while (j < len && p[j] != '/')
			j++;
		if (!(j == i || (j - i == 1 && p[i] == '.'))) {
			if (o + (o ? 1 : 0) + (j - i) >= MAX_PATH)
				return "include path too long";
			if (o)
				out[o++] = '/';
			memcpy(out + o, p + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	if (o == 0)
		return "empty include path";
	out[o] = '\0';
	return NULL;
}

/* Read a whole regular file; returns malloc'd bytes or NULL with errno set. */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *data = NULL;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (st.st_size > MAX_FILE) {
		errno = EFBIG;
		goto fail;
	}
	data = xrealloc(NULL, (size_t)st.st_size + 1);
	while (n <= (size_t)st.st_size) {       /* one extra byte detects growth */
		ssize_t r = read(fd, data + n, (size_t)st.st_size + 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > (size_t)st.st_size) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	*len = n;
	return data;
fail:
	{
		int e = errno;

		free(data);
		close(fd);
		errno = e;
	}
	return NULL;
}

static int parse_file(struct parser *ps, const char *name, const char *text, size_t len);

static int do_include(struct parser *ps, struct src *s, const char *path, size_t plen,
                      unsigned line)
{
	char norm[MAX_PATH];
	const char *why = normalize_path(path, plen, norm);
	char *full, *data;
	size_t dlen;
	int r;

	if (why != NULL)
		return fail(ps, s->name, line, "%s", why);
	if (ps->include_dir == NULL)
		return fail(ps, s->name, line, "cannot include \"%s\": no include directory", norm);
	for (int i = 0; i < ps->nchain; i++)
		if (strcmp(ps->chain[i], norm) == 0)
			return fail(ps, s->name, line, "include cycle: \"%s\" includes itself", norm);
	if (ps->nchain > MAX_INCLUDE)
		return fail(ps, s->name, line, "includes nested deeper than %d", MAX_INCLUDE);
	if (++ps->includes > MAX_INCLUDES)
		return fail(ps, s->name, line, "more than %d includes", MAX_INCLUDES);

	size_t dl = strlen(ps->include_dir);

	full = xrealloc(NULL, dl + 1 + strlen(norm) + 1);
	memcpy(full, ps->include_dir, dl);
	full[dl] = '/';
	strcpy(full + dl + 1, norm);
	data = read_file(full, &dlen);
	free(full);
	if (data == NULL)
		return fail(ps, s->name, line, "cannot include \"%s\": %s", norm, strerror(errno));
	memcpy(ps->chain[ps->nchain++], norm, strlen(norm) + 1);
	r = parse_file(ps, ps->chain[ps->nchain - 1], data, dlen);
	ps->nchain--;
	free(data);
	return r;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int is_bare(char c)
{
	return !is_space(c) && c != '>' && c != '<' && c != '"' && c != '\'' &&
	       c != '=' && c != '`';
}

/* Skip whitespace inside a tag, counting lines. */
static void skip_space(struct src *s)
{
	while (s->p < s->end && is_space(*s->p)) {
		if (*s->p == '\n')
			s->line++;
		s->p++;
	}
}

/* Does p start a template tag: "<TMPL_" or "</TMPL_" in any case? */
static int tag_start(const char *p, const char *end)
{
	p++;
	if (p < end && *p == '/')
		p++;
	return end - p >= 5 && strncasecmp(p, "TMPL_", 5) == 0;
}

static int push_block(struct parser *ps, struct src *s, int tag, unsigned line)
{
	struct block *b;

	if (ps->depth == MAX_NEST)
		return fail(ps, s->name, line, "blocks nested deeper than %d", MAX_NEST);
	b = &ps->stack[ps->depth++];
	b->tag = tag;
	b->line = line;
	b->op = ps->nops;
	b->pending = NONE;
	b->jumps = NONE;
	b->seen_else = 0;
	return 0;
}

static int emit_cond(struct parser *ps, struct src *s, int neg, size_t name, size_t nlen,
                     size_t value)
{
	struct op *op = emit(ps, s, OP_IF);

	if (op == NULL)
		return -1;
	op->neg = (unsigned char)neg;
	op->a = name;
	op->b = nlen;
	op->c = value;
	ps->stack[ps->depth - 1].pending = ps->nops - 1;
	return 0;
}

/* End the current branch of an IF/UNLESS with a jump to the block's end. */
static int branch_end(struct parser *ps, struct src *s, struct block *b)
{
	struct op *op = emit(ps, s, OP_JUMP);

	if (op == NULL)
		return -1;
	op->jump = b->jumps;
	b->jumps = ps->nops - 1;
	if (b->pending != NONE) {
		ps->ops[b->pending].jump = ps->nops;
		b->pending = NONE;
	}
	return 0;
}

/* Parse one tag starting at s->p (the '<'); base is the depth this file started at. */
static int parse_tag(struct parser *ps, struct src *s, size_t base)
{
	const unsigned line = s->line;
	const char *p = s->p + 1, *nm;
	int closing = 0, tag = -1;
	size_t nmlen;
	struct {
		const char *p;
		size_t len;
	} av[NATTR] = {{NULL, 0}};
	int fmt = FMT_HTML;

	if (*p == '/') {
		closing = 1;
		p++;
	}
	nm = p;
	while (p < s->end && is_word(*p))
		p++;
	nmlen = (size_t)(p - nm);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (tags[i].closing == closing && strlen(tags[i].name) == nmlen &&
		    strncasecmp(tags[i].name, nm, nmlen) == 0) {
			tag = (int)i;
			break;
		}
	}
	if (tag < 0)
		return fail(ps, s->name, line, "unknown tag <%s%.*s%s", closing ? "/" : "",
		            (int)(nmlen > 40 ? 40 : nmlen), nm, nmlen > 40 ? "..." : ">");
	if (p < s->end && !is_space(*p) && *p != '>' && *p != '/')
		return fail(ps, s->name, line, "malformed <%s%s> tag", closing ? "/" : "",
		            tags[tag].name);
	s->p = p;

	/* attributes, up to '>' or '/>' */
	for (;;) {
		const char *an, *val;
		size_t anlen, vlen;
		int at = -1;

		skip_space(s);
		if (s->p >= s->end)
			return fail(ps, s->name, line, "unterminated <%s%s> tag", closing ? "/" : "",
			            tags[tag].name);
		if (*s->p == '>') {
			s->p++;
			break;
		}
		if (*s->p == '/') {
			s->p++;
			skip_space(s);
			if (s->p < s->end && *s->p == '>') {
				s->p++;
				break;
			}
			if (s->p >= s->end)
				return fail(ps, s->name, line, "unterminated <%s%s> tag",
				            closing ? "/" : "", tags[tag].name);
			return fail(ps, s->name, s->line, "stray '/' in <%s%s> tag",
			            closing ? "/" : "", tags[tag].name);
		}
		an = s->p;
		while (s->p < s->end && is_word(*s->p))
			s->p++;
		anlen = (size_t)(s->p - an);
		if (anlen == 0) {
			unsigned char c = (unsigned char)*s->p;

			if (c > 0x20 && c < 0x7f)
				return fail(ps, s->name, s->line, "unexpected '%c' in <%s%s> tag", c,
				            closing ? "/" : "", tags[tag].name);
			return fail(ps, s->name, s->line, "unexpected byte 0x%02x in <%s%s> tag", c,
			            closing ? "/" : "", tags[tag].name);
		}
		for (int i = 0; i < NATTR; i++)
			if (strlen(attr_names[i]) == anlen &&
			    strncasecmp(attr_names[i], an, anlen) == 0)
				at = i;
		if (at < 0)
			return fail(ps, s->name, s->line, "unknown attribute \"%.*s\" in <%s%s> tag",
			            (int)(anlen > 40 ? 40 : anlen), an, closing ? "/" : "",
			            tags[tag].name);
		if (!(tags[tag].allowed & A(at)))
			return fail(ps, s->name, s->line, "<%s%s> takes no %s attribute",
			            closing ? "/" : "", tags[tag].name, attr_names[at]);
		if (av[at].p != NULL)
			return fail(ps, s->name, s->line, "duplicate %s attribute", attr_names[at]);
		skip_space(s);
		if (s->p >= s->end)
			return fail(ps, s->name, line, "unterminated <%s> tag", tags[tag].name);
		if (*s->p != '=')
			return fail(ps, s->name, s->line, "attribute %s needs a value",
			            attr_names[at]);
		s->p++;
		skip_space(s);
		if (s->p >= s->end)
			return fail(ps, s->name, line, "unterminated <%s> tag", tags[tag].name);
		if (*s->p == '"' || *s->p == '\'') {
			const char *q = memchr(s->p + 1, *s->p, (size_t)(s->end - s->p - 1));

			if (q == NULL)
				return fail(ps, s->name, s->line, "unterminated quoted %s value",
				            attr_names[at]);
			val = s->p + 1;
			vlen = (size_t)(q - val);
			s->line += count_lines(val, q);
			s->p = q + 1;
		} else {
			val = s->p;
			while (s->p < s->end && is_bare(*s->p) &&
			       !(*s->p == '/' && s->p + 1 < s->end && s->p[1] == '>'))
				s->p++;
			vlen = (size_t)(s->p - val);
			if (vlen == 0)
				return fail(ps, s->name, s->line, "attribute %s needs a value",
				            attr_names[at]);
		}
		av[at].p = val;
		av[at].len = vlen;
	}

	if ((tags[tag].allowed & A(ATTR_NAME)) && av[ATTR_NAME].p == NULL)
		return fail(ps, s->name, line, "<%s> needs a name attribute", tags[tag].name);
	if (av[ATTR_NAME].p != NULL && av[ATTR_NAME].len == 0)
		return fail(ps, s->name, line, "<%s> has an empty name", tags[tag].name);
	if (av[ATTR_FMT].p != NULL) {
		static const char *const fmts[] = {"html", "url", "raw"};

		fmt = -1;
		for (int i = 0; i < 3; i++)
			if (strlen(fmts[i]) == av[ATTR_FMT].len &&
			    strncasecmp(fmts[i], av[ATTR_FMT].p, av[ATTR_FMT].len) == 0)
				fmt = i;
		if (fmt < 0) {
			size_t n = av[ATTR_FMT].len > 40 ? 40 : av[ATTR_FMT].len;

			for (size_t i = 0; i < n; i++)
				if ((unsigned char)av[ATTR_FMT].p[i] < 0x20 ||
				    (unsigned char)av[ATTR_FMT].p[i] >= 0x7f)
					n = 0;        /* keep control bytes out of logs */
			return fail(ps, s->name, line, "unknown fmt \"%.*s\" (html, url or raw)",
			            (int)n, av[ATTR_FMT].p);
		}
	}

	size_t name = NONE, value = NONE, def = NONE;
	struct block *top = ps->depth > base ? &ps->stack[ps->depth - 1] : NULL;
	struct op *op;

	if (tag == TAG_INCLUDE)
		return do_include(ps, s, av[ATTR_NAME].p, av[ATTR_NAME].len, line);
	if (av[ATTR_NAME].p != NULL &&
	    pool_add(ps, s, av[ATTR_NAME].p, av[ATTR_NAME].len, 1, &name) < 0)
		return -1;
	if (av[ATTR_VALUE].p != NULL &&
	    pool_add(ps, s, av[ATTR_VALUE].p, av[ATTR_VALUE].len, 1, &value) < 0)
		return -1;
	if (av[ATTR_DEFAULT].p != NULL &&
	    pool_add(ps, s, av[ATTR_DEFAULT].p, av[ATTR_DEFAULT].len, 1, &def) < 0)
		return -1;

	switch (tag) {
	case TAG_VAR:
		if ((op = emit(ps, s, OP_VAR)) == NULL)
			return -1;
		op->fmt = (unsigned char)fmt;
		op->a = name;
		op->b = av[ATTR_NAME].len;
		op->c = def;
		return 0;
	case TAG_IF:
	case TAG_UNLESS:
		if (push_block(ps, s, tag, line) < 0)
			return -1;
		return emit_cond(ps, s, tag == TAG_UNLESS, name, av[ATTR_NAME].len, value);
	case TAG_ELSIF:
		if (top == NULL || top->tag != TAG_IF)
			return fail(ps, s->name, line, "<TMPL_ELSIF> outside <TMPL_IF>");
		if (top->seen_else)
			return fail(ps, s->name, line, "<TMPL_ELSIF> after <TMPL_ELSE>");
		if (branch_end(ps, s, top) < 0)
			return -1;
		return emit_cond(ps, s, 0, name, av[ATTR_NAME].len, value);
	case TAG_ELSE:
		if (top == NULL || top->tag == TAG_LOOP)
			return fail(ps, s->name, line, "<TMPL_ELSE> outside <TMPL_IF> or <TMPL_UNLESS>");
		if (top->seen_else)
			return fail(ps, s->name, line, "second <TMPL_ELSE> (the first is not closed)");
		top->seen_else = 1;
		return branch_end(ps, s, top);
	case TAG_LOOP:
		if (push_block(ps, s, tag, line) < 0)
			return -1;
		if ((op = emit(ps, s, OP_LOOP)) == NULL)
			return -1;
		op->a = name;
		op->b = av[ATTR_NAME].len;
		return 0;
	case TAG_BREAK:
	case TAG_CONTINUE: {
		int inloop = 0;

		for (size_t i = 0; i < ps->depth; i++)
			if (ps->stack[i].tag == TAG_LOOP)
				inloop = 1;
		if (!inloop)
			return fail(ps, s->name, line, "<%s> outside <TMPL_LOOP>", tags[tag].name);
		return emit(ps, s, tag == TAG_BREAK ? OP_BREAK : OP_CONTINUE) ? 0 : -1;
	}
	case TAG_END_IF:
	case TAG_END_UNLESS:
	case TAG_END_LOOP: {
		int want = tag == TAG_END_IF ? TAG_IF : tag == TAG_END_UNLESS ? TAG_UNLESS : TAG_LOOP;

		if (top == NULL)
			return fail(ps, s->name, line, "</%s> without an open <%s>",
			            tags[tag].name, tags[tag].name);
		if (top->tag != want)
			return fail(ps, s->name, line, "</%s> closes <%s> opened at line %u",
			            tags[tag].name, tags[top->tag].name, top->line);
		if (want == TAG_LOOP) {
			if ((op = emit(ps, s, OP_ENDLOOP)) == NULL)
				return -1;
			op->jump = top->op;
			ps->ops[top->op].jump = ps->nops;
		} else {
			size_t j = top->jumps;

			if (top->pending != NONE)
				ps->ops[top->pending].jump = ps->nops;
			while (j != NONE) {
				size_t next = ps->ops[j].jump;

				ps->ops[j].jump = ps->nops;
				j = next;
			}
			/* the next op must not extend a TEXT from before the block */
			ps->last_text = NONE;
		}
		ps->depth--;
		return 0;
	}
	}
	return fail(ps, s->name, line, "internal error");
}

static int parse_file(struct parser *ps, const char *name, const char *text, size_t len)
{
	struct src s = {name, text, text + len, 1};
	const char *nul = memchr(text, '\0', len);
	size_t base = ps->depth;

	if (nul != NULL)
		return fail(ps, name, 1 + count_lines(text, nul), "NUL byte in template");
	/* a TEXT from the including file must not swallow this file's text */
	ps->last_text = NONE;

	while (s.p < s.end) {
		const char *q = s.p;

		/* next comment or tag */
		for (;;) {
			q = memchr(q, '<', (size_t)(s.end - q));
			if (q == NULL || (q + 1 < s.end && q[1] == '*') || tag_start(q, s.end))
				break;
			q++;
		}
		if (q == NULL)
			q = s.end;
		if (emit_text(ps, &s, s.p, (size_t)(q - s.p)) < 0)
			return -1;
		s.line += count_lines(s.p, q);
		s.p = q;
		if (q == s.end)
			break;
		if (q[1] == '*') {
			const char *c = q + 2;

			for (;;) {
				c = memchr(c, '*', (size_t)(s.end - c));
				if (c == NULL || (c + 1 < s.end && c[1] == '>'))
					break;
				c++;
			}
			if (c == NULL)
				return fail(ps, name, s.line, "unterminated <* comment");
			s.line += count_lines(q, c);
			s.p = c + 2;
			continue;
		}
		if (parse_tag(ps, &s, base) < 0)
			return -1;
	}
	if (ps->depth > base) {
		const struct block *b = &ps->stack[ps->depth - 1];

		return fail(ps, name, b->line, "<%s> is never closed", tags[b->tag].name);
	}
	ps->last_text = NONE;
	return 0;
}

/*
 * Names are hashed once, here, never while rendering, and numbered: the
 * template's symbol table, one number per distinct name (the renderer's
 * memo of the page scope is indexed by it).
 */
static void number_names(struct tmpl *t)
{
	size_t slots = 16, *first;
	uint32_t nsyms = 0;

	while (slots < 2 * t->nops)
		slots *= 2;
	first = xrealloc(NULL, slots * sizeof(*first));   /* op index of each name, or NONE */
	for (size_t i = 0; i < slots; i++)
		first[i] = NONE;
	for (size_t i = 0; i < t->nops; i++) {
		struct op *op = &t->ops[i];
		size_t k;

		if (op->kind != OP_VAR && op->kind != OP_IF && op->kind != OP_LOOP)
			continue;
		op->hash = name_hash(t->pool + op->a, op->b);
		for (k = op->hash & (slots - 1); first[k] != NONE; k = (k + 1) & (slots - 1)) {
			const struct op *o = &t->ops[first[k]];

			if (o->hash == op->hash && o->b == op->b &&
			    memcmp(t->pool + o->a, t->pool + op->a, op->b) == 0)
				break;
		}
		if (first[k] == NONE) {
			first[k] = i;
			op->sym = nsyms++;
		} else {
			op->sym = t->ops[first[k]].sym;
		}
	}
	t->nsyms = nsyms;
	free(first);
}

static struct tmpl *parse_root(const char *name, const char *text, size_t len,
                               const char *include_dir, char *err, size_t errlen)
{
	struct parser *ps = xrealloc(NULL, sizeof(*ps));
	struct tmpl *t = NULL;
	size_t nl = strlen(name);

	memset(ps, 0, sizeof(*ps));
	ps->last_text = NONE;
	ps->include_dir = include_dir;
	ps->err = err;
	ps->errlen = errlen;
	/* the root counts for cycle detection under its own name */
	if (nl >= MAX_PATH)
		nl = MAX_PATH - 1;
	memcpy(ps->chain[0], name, nl);
	ps->chain[0][nl] = '\0';
	ps->nchain = 1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (parse_file(ps, name, text, len) == 0) {
		t = xrealloc(NULL, sizeof(*t));
		t->ops = ps->nops ? xrealloc(ps->ops, ps->nops * sizeof(*ps->ops)) : ps->ops;
		t->nops = ps->nops;
		t->pool = ps->pool;
		t->plen = ps->plen;
		number_names(t);
	} else {
		free(ps->ops);
		free(ps->pool);
	}
	free(ps);
	return t;
}

struct tmpl *tmpl_parse(const char *name, const char *text, size_t len,
                        const char *include_dir, char *err, size_t errlen)
{
	if (name == NULL)
		name = "(template)";
	if (text == NULL)
		len = 0;
	return parse_root(name, len ? text : "", len, include_dir, err, errlen);
}

struct tmpl *tmpl_load(const char *dir, const char *name, char *err, size_t errlen)
{
	char norm[MAX_PATH];
	const char *why = normalize_path(name, strlen(name), norm);
	char *full, *data;
	size_t dl = strlen(dir), len;
	struct tmpl *t;

	if (why != NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:0: %s", name, why);
		return NULL;
	}
	full = xrealloc(NULL, dl + 1 + strlen(norm) + 1);
	memcpy(full, dir, dl);
	full[dl] = '/';
	strcpy(full + dl + 1, norm);
	data = read_file(full, &len);
	free(full);
	if (data == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:0: cannot read template: %s", norm, strerror(errno));
		return NULL;
	}
	t = parse_root(norm, data, len, dir, err, errlen);
	free(data);
	return t;
}
