/* cache.c: the worker's page cache: whole answers, reused while what they show is unchanged */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

struct entry {
	char *ident;               /* NULL: the slot is free */
	char *valid;
	char *data;
	size_t len;
	unsigned long used;        /* tick of the last use, for LRU eviction */
};

static struct entry slots[CACHE_SLOTS];
static unsigned long tick;
static size_t total;

static void drop(struct entry *e)
{
	if (e->ident == NULL)
		return;
	total -= e->len;
	free(e->ident);
	free(e->valid);
	free(e->data);
	memset(e, 0, sizeof(*e));
}

static struct entry *find(const char *ident)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (slots[i].ident != NULL && strcmp(slots[i].ident, ident) == 0)
			return &slots[i];
	return NULL;
}

/* The least recently used entry, or NULL when the cache is empty. */
static struct entry *oldest(void)
{
	struct entry *v = NULL;

	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (slots[i].ident != NULL && (v == NULL || slots[i].used < v->used))
			v = &slots[i];
	return v;
}

/* A free slot, made by evicting the oldest entry when there is none. */
static struct entry *free_slot(void)
{
	struct entry *e;

	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (slots[i].ident == NULL)
			return &slots[i];
	e = oldest();
	drop(e);
	return e;
}

const char *cache_get(const char *ident, const char *valid, size_t *len)
{
	struct entry *e = find(ident);

	if (e == NULL)
		return NULL;
	if (strcmp(e->valid, valid) != 0) {
		drop(e);
		return NULL;
	}
	e->used = ++tick;
	*len = e->len;
	return e->data;
}

const char *cache_valid_of(const char *ident)
{
	struct entry *e = find(ident);

	return e != NULL ? e->valid : NULL;
}

void cache_put(const char *ident, const char *valid, const char *data, size_t len)
{
	struct entry *e = find(ident);
	char *i, *v, *d;

	if (e != NULL)
		drop(e);
	if (len > CACHE_MAX_ENTRY)
		return;
	while (total + len > CACHE_MAX_BYTES && (e = oldest()) != NULL)
		drop(e);
	i = strdup(ident);
	v = strdup(valid);
	d = malloc(len ? len : 1);
	if (i == NULL || v == NULL || d == NULL) {
		free(i);
		free(v);
		free(d);
		return;
	}
	memcpy(d, data, len);
	e = free_slot();
	e->ident = i;
	e->valid = v;
	e->data = d;
	e->len = len;
	e->used = ++tick;
	total += len;
}

void cache_clear(void)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		drop(&slots[i]);
}

size_t cache_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < CACHE_SLOTS; i++)
		n += slots[i].ident != NULL;
	return n;
}

size_t cache_bytes(void)
{
	return total;
}
