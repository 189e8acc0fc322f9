/* cache.h: the worker's page cache: whole answers, reused while what they show is unchanged */
#ifndef SETTINGS_CACHE_H
#define SETTINGS_CACHE_H

#include <stddef.h>

/*
 * An entry is found by its identity (who asked for which address) and used
 * only while its validity string (the versions of what it shows) is the one
 * the caller has just read; an entry found with another validity is stale
 * and dropped. Per process, no locking: each worker has its own.
 */
#define CACHE_SLOTS 64
#define CACHE_MAX_ENTRY (1024 * 1024)          /* a bigger answer is not kept */
#define CACHE_MAX_BYTES (16 * 1024 * 1024)     /* all entries together */

/* The bytes stored for ident under valid, or NULL (*len set when found). */
const char *cache_get(const char *ident, const char *valid, size_t *len);
/* The validity string ident's entry was kept under, or NULL when there is none. */
const char *cache_valid_of(const char *ident);
/* Keep a copy of data for ident under valid, replacing what ident had. */
void cache_put(const char *ident, const char *valid, const char *data, size_t len);
/* Forget everything. */
void cache_clear(void);
/* Entries and bytes held now (for tests). */
size_t cache_count(void);
size_t cache_bytes(void);

#endif
