/* audit.h: the audit log page's statements (audit_queries.c) */
#ifndef AUDIT_H
#define AUDIT_H

struct stmt;

/* The export's batches and the page's four (one per pair of filters). */
#define AUDIT_NSTMTS 5
extern const struct stmt audit_stmts[AUDIT_NSTMTS];

#endif
