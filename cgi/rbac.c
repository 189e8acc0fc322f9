/* rbac.c: the role-based access control matrix, in one place */
#include <string.h>

#include "app.h"

/*
 * The seed document's permission matrix. Rows are permissions, columns the
 * roles viewer, member, admin, owner.
 */
static const struct {
	unsigned char allowed[4];
	const char *who;
} matrix[PERM__MAX] = {
	[PERM_NONE]                = { {1, 1, 1, 1}, "any member" },
	[PERM_VIEW_WORKSPACE]      = { {1, 1, 1, 1}, "any member" },
	[PERM_MANAGE_AGENTS]       = { {0, 1, 1, 1}, "owner, admin or member" },
	[PERM_MANAGE_TEAM]         = { {0, 0, 1, 1}, "owner or admin" },
	[PERM_VIEW_BILLING]        = { {0, 0, 0, 1}, "owner" },
	[PERM_MANAGE_BILLING]      = { {0, 0, 0, 1}, "owner" },
	[PERM_DELETE_WORKSPACE]    = { {0, 0, 0, 1}, "owner" },
	[PERM_MANAGE_INTEGRATIONS] = { {0, 0, 1, 1}, "owner or admin" },
	[PERM_VIEW_API_KEYS]       = { {0, 1, 1, 1}, "owner, admin or member" },
	[PERM_CREATE_API_KEYS]     = { {0, 1, 1, 1}, "owner, admin or member" },
};

/* 1 when role may do perm; unknown roles and permissions may do nothing. */
int rbac_can(enum role role, enum perm perm)
{
	if (role < ROLE_VIEWER || role > ROLE_OWNER || perm < 0 || perm >= PERM__MAX)
		return 0;
	return matrix[perm].allowed[role - ROLE_VIEWER];
}

/* Which roles may do perm, in words. */
const char *rbac_roles_for(enum perm perm)
{
	if (perm < 0 || perm >= PERM__MAX)
		return "nobody";
	return matrix[perm].who;
}

static const char *const role_names[] = {
	[ROLE_NONE] = "", [ROLE_VIEWER] = "viewer", [ROLE_MEMBER] = "member",
	[ROLE_ADMIN] = "admin", [ROLE_OWNER] = "owner",
};

enum role role_parse(const char *s)
{
	if (s == NULL)
		return ROLE_NONE;
	for (int r = ROLE_VIEWER; r <= ROLE_OWNER; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum role)r;
	return ROLE_NONE;
}

const char *role_name(enum role r)
{
	return r >= ROLE_VIEWER && r <= ROLE_OWNER ? role_names[r] : "";
}
