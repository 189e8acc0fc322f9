#!/bin/sh
# t200-team-page.sh: the team page: sections, who sees which forms, search, pagination, escaping.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
M_OWNER=10000000-0000-0000-0000-000000000001
M_ADMIN=10000000-0000-0000-0000-000000000002
M_MEMBER=10000000-0000-0000-0000-000000000003
M_PENDING=10000000-0000-0000-0000-000000000005
M_FORMER=10000000-0000-0000-0000-000000000006
TEAM=/w/acme/settings/team

# section NAME: the HTML of one section (active, pending, inactive) of the last page.
section() { sed -n "/id=\"$1-heading\"/,/<\/section>/p" "$T/body"; }
in_section() { section "$1" | grep -qF -- "$2"; }
rows() { grep -c 'scope="row"' "$T/body"; }
text() { w3m -dump -T text/html "$T/body"; }
# row_roles ID: the roles offered in a row's select, e.g. "admin* member viewer" (* = selected).
row_roles() { grep "<select id=\"role-$1\"" "$T/body" | grep -o '<option[^>]*>[a-z]*<' | sed 's/<option selected>\(.*\)</\1*/; s/<option>\(.*\)</\1/' | tr '\n' ' ' | sed 's/ $//'; }

# --- Without a session, and the /settings shortcut -------------------------
get anon "$TEAM"
is "signed out: 303 to sign in" "$STATUS" 303
check "signed out: back to the team page after signing in" sh -c "grep -qi '^Location: /login?next=%2Fw%2Facme%2Fsettings%2Fteam' '$T/headers'"

login owner demo@example.com
get owner /w/acme/settings
is "/w/acme/settings answers 303" "$STATUS" 303
is "... to the General page" "$(header Location)" "/w/acme/settings/general"
get owner /w/acme/settings/
is "/w/acme/settings/ answers 303 too" "$STATUS" 303

# --- The owner's page -------------------------------------------------------
get owner "$TEAM"
is "the owner's team page answers 200" "$STATUS" 200
is "HTML in UTF-8" "$(header Content-Type)" "text/html; charset=utf-8"
is "signed-in page is not cached" "$(header Cache-Control)" "no-store"
check "valid HTML (tidy)" tidy_ok
check "readable in a text browser: three sections" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (4)' && w3m -dump -T text/html '$T/body' | grep -q 'Pending invitations (1)' && w3m -dump -T text/html '$T/body' | grep -q 'Inactive members (1)'"
for e in demo@example.com admin@example.com member@example.com viewer@example.com; do
	check "active section lists $e" in_section active "$e"
done
check "active section does not list the pending invitee" sh -c "! sed -n '/id=\"active-heading\"/,/<\/section>/p' '$T/body' | grep -q pending@example.com"
check "pending section lists pending@example.com" in_section pending pending@example.com
check "pending section names the inviter" in_section pending "Demo Owner"
check "pending section says when it expires" sh -c "sed -n '/id=\"pending-heading\"/,/<\/section>/p' '$T/body' | grep -Eq 'in [45] days'"
check "inactive section lists former@example.com" in_section inactive former@example.com
check "inactive section does not list active people" sh -c "! sed -n '/id=\"inactive-heading\"/,/<\/section>/p' '$T/body' | grep -q admin@example.com"
check "active rows show name, role, joined and last active" sh -c "grep -q 'Admin User' '$T/body' && grep -Eq '<time datetime=\"[0-9]{4}-[0-9]{2}-[0-9]{2}\"' '$T/body' && grep -q 'hours ago' '$T/body'"
check "seats: 5 of 25 in use" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Seats: 5 of 25 in use'"
check "the owner sees the invite form" body_has "action=\"$TEAM/invite\""
check "... with owner among the roles to invite" sh -c "sed -n '/id=\"invite-role\"/,/<\/select>/p' '$T/body' | grep -q 'value=\"owner\"'"
check "... and member preselected" sh -c "grep -q '<option value=\"member\" selected>' '$T/body'"
check "the owner sees a role form for the admin" body_has "action=\"$TEAM/$M_ADMIN/role\""
is "... offering every role, the current one selected" "$(row_roles "$M_ADMIN")" "owner admin* member viewer"
check "... deactivate and remove for the member" sh -c "grep -q '$TEAM/$M_MEMBER/deactivate' '$T/body' && grep -q '$TEAM/$M_MEMBER/remove' '$T/body'"
check "... resend and revoke for the invitation" sh -c "grep -q '$TEAM/$M_PENDING/resend' '$T/body' && grep -q '$TEAM/$M_PENDING/revoke' '$T/body'"
check "... reactivate (not deactivate) for the inactive member" sh -c "grep -q '$TEAM/$M_FORMER/reactivate' '$T/body' && ! grep -q '$TEAM/$M_FORMER/deactivate' '$T/body'"
check "the last owner has no step-down forms, and the page says why" sh -c "! grep -q '$TEAM/$M_OWNER/' '$T/body' && grep -q 'The only active owner' '$T/body'"
check "every role select has a name (aria-label)" sh -c "[ \$(grep -c '<select id=\"role-' '$T/body') -eq \$(grep -c '<select id=\"role-[^>]* aria-label=\"Role of ' '$T/body') ]"
check "every form carries the CSRF token" sh -c "[ \$(grep -c '<form method=\"post\"' '$T/body') -eq \$(grep -c 'name=\"csrf_token\"' '$T/body') ]"
check "the owner marks themself" body_has "(you)"

# --- Admin: manages everyone but owners --------------------------------------
login admin admin@example.com
get admin "$TEAM"
is "the admin's page answers 200" "$STATUS" 200
check "the admin sees the invite form" body_has "action=\"$TEAM/invite\""
check "... without the owner role to invite" sh -c "! sed -n '/id=\"invite-role\"/,/<\/select>/p' '$T/body' | grep -q 'value=\"owner\"'"
check "... no forms for the owner's row" sh -c "! grep -q '$TEAM/$M_OWNER/' '$T/body'"
check "... and a note saying only owners manage owners" body_has "Only owners manage owners."
check "... a role form for the member" body_has "$TEAM/$M_MEMBER/role"
is "... offering admin, member, viewer (no owner)" "$(row_roles "$M_MEMBER")" "admin member* viewer"
is "... their own role cannot go above admin" "$(row_roles "$M_ADMIN")" "admin* member viewer"

# --- Member and viewer: the same lists, read-only --------------------------
for who in member viewer; do
	login "$who" "$who@example.com"
	get "$who" "$TEAM"
	is "the $who's page answers 200" "$STATUS" 200
	check "the $who sees all three lists" sh -c "grep -q admin@example.com '$T/body' && grep -q pending@example.com '$T/body' && grep -q former@example.com '$T/body'"
	check "the $who sees no invite form" sh -c "! grep -q 'settings/team/invite' '$T/body'"
	check "the $who sees no role selects or action buttons" sh -c "! grep -q 'name=\"role\"' '$T/body' && ! grep -Eq '/(deactivate|remove|resend|revoke|reactivate)\"' '$T/body'"
	check "the $who's page is valid HTML" tidy_ok
done

# --- Other workspaces --------------------------------------------------------
login globex owner@globex.example
get globex "$TEAM"
is "a Globex owner gets 404 for Acme's team page" "$STATUS" 404
check "... without a word about Acme's members" sh -c "! grep -q 'admin@example.com' '$T/body'"
get globex /w/acme/settings
is "... and for /w/acme/settings" "$STATUS" 404
get globex /w/globex/settings/team
is "the Globex owner sees their own team" "$STATUS" 200
check "... which has only them" sh -c "grep -q owner@globex.example '$T/body' && ! grep -q demo@example.com '$T/body'"
get owner /w/no-such-workspace/settings/team
is "an unknown workspace is a 404" "$STATUS" 404

# --- Search ----------------------------------------------------------------
get owner "$TEAM?q=admin"
is "search answers 200" "$STATUS" 200
check "search by email finds the admin" in_section active admin@example.com
check "... and only them" sh -c "! grep -q 'member@example.com' '$T/body' && w3m -dump -T text/html '$T/body' | grep -q 'Active members (1)'"
get owner "$TEAM?q=Viewer%20USER"
check "search by name, case-insensitive" in_section active viewer@example.com
check "... finds only that person" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (1)'"
get owner "$TEAM?q=PENDING%40"
check "search finds pending invitations by email" in_section pending pending@example.com
check "... and nothing else" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (0)'"
get owner "$TEAM?q=%25"
check "a % in the search is a literal, not a wildcard" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (0)' && w3m -dump -T text/html '$T/body' | grep -q 'Pending invitations (0)'"
get owner "$TEAM?q=_"
check "so is an underscore" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Active members (0)'"
get owner "$TEAM?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
is "a search with markup answers 200" "$STATUS" 200
check "... shown escaped, never as markup" sh -c "grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/body' && ! grep -q '<script>' '$T/body'"
long=$(printf '%0101d' 0)
get owner "$TEAM?q=$long"
is "a search over 100 characters is a 422" "$STATUS" 422
check "... with the message next to the search field" sh -c "grep -q 'id=\"q-error\"' '$T/body' && grep -q 'aria-describedby=\"q-error\"' '$T/body'"
check "... and the text kept" body_has "value=\"$long\""
get owner "$TEAM?q=%0A"
is "a search with a line break is a 422" "$STATUS" 422

# --- Pagination: 120 more members, 50 per page ------------------------------
sql "INSERT INTO users (id, email, full_name, is_verified)
     SELECT ('20000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid,
            format('extra%s@example.com', lpad(i::text, 3, '0')), format('Extra %s', i), true
       FROM generate_series(1, 120) i;
     INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at, created_at)
     SELECT '$ACME', ('20000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, 'viewer', 'active',
            now() - interval '1 day' + i * interval '1 second', now() - interval '1 day'
       FROM generate_series(1, 120) i;" >/dev/null
get owner "$TEAM"
is "page 1: 50 active rows, the invitation and the inactive member" "$(rows)" 52
check "page 1 says which part is shown" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Showing 1–50 of 124'"
check "page 1 links to page 2" body_has "$TEAM?page=2\""
check "page 1 has no previous link" sh -c "! grep -q 'rel=\"prev\"' '$T/body'"
check "page 1 lists the earliest members first" sh -c "grep -q 'extra001@example.com' '$T/body' && ! grep -q 'extra047@example.com' '$T/body'"
get owner "$TEAM?page=2"
is "page 2: the next 50" "$(rows)" 50
check "page 2 links both ways" sh -c "grep -q '$TEAM?page=1\"' '$T/body' && grep -q '$TEAM?page=3\"' '$T/body'"
check "page 2 says earlier pages hold the invitations" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'All pending invitations are listed on earlier pages'"
check "pages do not overlap" sh -c "grep -q 'extra047@example.com' '$T/body' && ! grep -q 'extra046@example.com' '$T/body'"
get owner "$TEAM?page=3"
is "page 3: the last 24" "$(rows)" 24
check "page 3 has no next link" sh -c "! grep -q 'rel=\"next\"' '$T/body'"
get owner "$TEAM?page=abc"
is "a page that is not a number is a malformed request (400)" "$STATUS" 400
check "... whose page says what is wrong" body_has 'page number in this address'
get owner "$TEAM?page=0"
is "page 0 is a 400 too" "$STATUS" 400
get owner "$TEAM?q=extra&page=2"
check "search results page too, and the links keep the search" sh -c "grep -q 'q=extra&amp;page=1' '$T/body' && grep -q 'q=extra&amp;page=3' '$T/body'"
is "... 50 matches on page 2" "$(rows)" 50

# --- Names are people's input: escaped everywhere --------------------------
sql "UPDATE users SET full_name = '<script>alert(\"x\")</script>&amp;' WHERE email = 'member@example.com'" >/dev/null
get owner "$TEAM"
check "a hostile name is rendered escaped" sh -c "grep -q '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;' '$T/body' && ! grep -q '<script>' '$T/body'"
check "the page stays valid HTML" tidy_ok
