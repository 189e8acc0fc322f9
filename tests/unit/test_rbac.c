/* test_rbac.c: unit tests for rbac.c against the seed document's permission matrix */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "app.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Copied from phase5-settings-schema.md, "Role-Based Access Control (RBAC)",
 * with the document's column order (Owner, Admin, Member, Viewer); 1 is ✓, 0 is ✗.
 */
static const struct {
	const char *action;
	enum perm perm;
	int owner, admin, member, viewer;
} matrix[] = {
	{ "View workspace data", PERM_VIEW_WORKSPACE,      1, 1, 1, 1 },
	{ "Create/edit agents",  PERM_MANAGE_AGENTS,       1, 1, 1, 0 },
	{ "Manage team members", PERM_MANAGE_TEAM,         1, 1, 0, 0 },
	{ "View billing",        PERM_VIEW_BILLING,        1, 0, 0, 0 },
	{ "Manage billing",      PERM_MANAGE_BILLING,      1, 0, 0, 0 },
	{ "Delete workspace",    PERM_DELETE_WORKSPACE,    1, 0, 0, 0 },
	{ "Manage integrations", PERM_MANAGE_INTEGRATIONS, 1, 1, 0, 0 },
	{ "View API keys",       PERM_VIEW_API_KEYS,       1, 1, 1, 0 },
	{ "Create API keys",     PERM_CREATE_API_KEYS,     1, 1, 1, 0 },
};

static void rbac_can_matches_every_cell_of_the_seed_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(matrix); i++) {
		const struct {
			enum role role;
			const char *name;
			int want;
		} cells[] = {
			{ ROLE_OWNER, "owner", matrix[i].owner },
			{ ROLE_ADMIN, "admin", matrix[i].admin },
			{ ROLE_MEMBER, "member", matrix[i].member },
			{ ROLE_VIEWER, "viewer", matrix[i].viewer },
		};

		for (size_t c = 0; c < N(cells); c++)
			if (rbac_can(cells[c].role, matrix[i].perm) != cells[c].want)
				fail_msg("\"%s\" for %s: rbac_can says %d, the document says %d",
				         matrix[i].action, cells[c].name, !cells[c].want,
				         cells[c].want);
	}
}

static void seed_matrix_table_covers_every_workspace_permission(void **state)
{
	int seen[PERM__MAX] = {0};

	(void)state;
	assert_int_equal(N(matrix), 9);
	for (size_t i = 0; i < N(matrix); i++) {
		assert_true(matrix[i].perm > PERM_NONE && matrix[i].perm < PERM__MAX);
		assert_int_equal(seen[matrix[i].perm], 0);
		seen[matrix[i].perm] = 1;
	}
	for (int p = PERM_NONE + 1; p < PERM__MAX; p++)
		if (!seen[p])
			fail_msg("permission %d has no row in the seed matrix table", p);
}

static void perm_none_is_allowed_to_every_real_role(void **state)
{
	static const enum role roles[] = {ROLE_VIEWER, ROLE_MEMBER, ROLE_ADMIN, ROLE_OWNER};

	(void)state;
	for (size_t i = 0; i < N(roles); i++)
		assert_int_equal(rbac_can(roles[i], PERM_NONE), 1);
}

static void unknown_roles_may_do_nothing(void **state)
{
	static const int roles[] = {ROLE_NONE, ROLE_OWNER + 1, 100, -1};

	(void)state;
	for (size_t i = 0; i < N(roles); i++)
		for (int p = PERM_NONE; p < PERM__MAX; p++)
			if (rbac_can((enum role)roles[i], (enum perm)p))
				fail_msg("role %d may do permission %d", roles[i], p);
}

static void out_of_range_permissions_are_denied_to_everyone(void **state)
{
	static const int perms[] = {PERM__MAX, PERM__MAX + 1, 1000, -1};

	(void)state;
	for (size_t i = 0; i < N(perms); i++)
		for (int r = ROLE_NONE; r <= ROLE_OWNER; r++)
			if (rbac_can((enum role)r, (enum perm)perms[i]))
				fail_msg("role %d may do out-of-range permission %d", r, perms[i]);
}

static void rbac_roles_for_names_the_allowed_roles(void **state)
{
	(void)state;
	assert_string_equal(rbac_roles_for(PERM_VIEW_BILLING), "owner");
	assert_string_equal(rbac_roles_for(PERM_MANAGE_BILLING), "owner");
	assert_string_equal(rbac_roles_for(PERM_DELETE_WORKSPACE), "owner");
	assert_non_null(strstr(rbac_roles_for(PERM_MANAGE_TEAM), "admin"));
	assert_non_null(strstr(rbac_roles_for(PERM_MANAGE_TEAM), "owner"));
	assert_null(strstr(rbac_roles_for(PERM_MANAGE_TEAM), "member"));
	assert_non_null(strstr(rbac_roles_for(PERM_CREATE_API_KEYS), "member"));
	assert_string_equal(rbac_roles_for((enum perm)PERM__MAX), "nobody");
	assert_string_equal(rbac_roles_for((enum perm)-1), "nobody");
}

static void rbac_roles_for_mentions_exactly_the_roles_the_matrix_allows(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(matrix); i++) {
		const char *who = rbac_roles_for(matrix[i].perm);

		assert_non_null(who);
		if (matrix[i].viewer) {
			/* everyone: the text need not list each role */
			continue;
		}
		if ((strstr(who, "owner") != NULL) != matrix[i].owner ||
		    (strstr(who, "admin") != NULL) != matrix[i].admin ||
		    (strstr(who, "member") != NULL) != matrix[i].member ||
		    strstr(who, "viewer") != NULL)
			fail_msg("\"%s\": rbac_roles_for says \"%s\"", matrix[i].action, who);
	}
}

static void role_name_and_role_parse_round_trip(void **state)
{
	static const struct {
		enum role role;
		const char *name;
	} cases[] = {
		{ ROLE_VIEWER, "viewer" },
		{ ROLE_MEMBER, "member" },
		{ ROLE_ADMIN, "admin" },
		{ ROLE_OWNER, "owner" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_string_equal(role_name(cases[i].role), cases[i].name);
		assert_int_equal(role_parse(cases[i].name), cases[i].role);
		assert_int_equal(role_parse(role_name(cases[i].role)), cases[i].role);
	}
}

static void role_parse_rejects_unknown_spellings(void **state)
{
	static const char *const bad[] = {
		"Owner", "OWNER", "Admin", "", "root", "superuser", "none",
		" owner", "owner ", "owne", "owners", "viewer\n", "0", "4",
	};

	(void)state;
	for (size_t i = 0; i < N(bad); i++)
		if (role_parse(bad[i]) != ROLE_NONE)
			fail_msg("role_parse(\"%s\") accepted", bad[i]);
	assert_int_equal(role_parse(NULL), ROLE_NONE);
}

static void role_name_of_unknown_role_is_empty(void **state)
{
	(void)state;
	assert_string_equal(role_name(ROLE_NONE), "");
	assert_string_equal(role_name((enum role)(ROLE_OWNER + 1)), "");
	assert_string_equal(role_name((enum role)-1), "");
}

static void roles_are_ordered_by_increasing_power(void **state)
{
	(void)state;
	/* "Raise own role" checks compare roles numerically. */
	assert_true(ROLE_NONE < ROLE_VIEWER);
	assert_true(ROLE_VIEWER < ROLE_MEMBER);
	assert_true(ROLE_MEMBER < ROLE_ADMIN);
	assert_true(ROLE_ADMIN < ROLE_OWNER);
	/* and every permission of a role is held by each stronger role */
	for (int p = PERM_NONE; p < PERM__MAX; p++)
		for (int r = ROLE_VIEWER; r < ROLE_OWNER; r++)
			if (rbac_can((enum role)r, (enum perm)p) && !rbac_can((enum role)(r + 1), (enum perm)p))
				fail_msg("role %d may do permission %d but role %d may not", r, p, r + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rbac_can_matches_every_cell_of_the_seed_matrix),
		cmocka_unit_test(seed_matrix_table_covers_every_workspace_permission),
		cmocka_unit_test(perm_none_is_allowed_to_every_real_role),
		cmocka_unit_test(unknown_roles_may_do_nothing),
		cmocka_unit_test(out_of_range_permissions_are_denied_to_everyone),
		cmocka_unit_test(rbac_roles_for_names_the_allowed_roles),
		cmocka_unit_test(rbac_roles_for_mentions_exactly_the_roles_the_matrix_allows),
		cmocka_unit_test(role_name_and_role_parse_round_trip),
		cmocka_unit_test(role_parse_rejects_unknown_spellings),
		cmocka_unit_test(role_name_of_unknown_role_is_empty),
		cmocka_unit_test(roles_are_ordered_by_increasing_power),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
