#!/bin/sh
# t300-billing-access.sh: only owners see or change billing; other roles get the 403 page naming the role, and nothing changes.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing
state() { sql "SELECT md5(b::text) || '/' || (SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME')
                 FROM billing_config b WHERE workspace_id = '$ACME'"; }
before=$(state)

get anon $P
is "not signed in: 303" "$STATUS" 303
is "... to the sign-in page with next=" "$(header Location)" "/login?next=%2Fw%2Facme%2Fsettings%2Fbilling"

login o demo@example.com
get o $P
is "owner: 200" "$STATUS" 200
check "owner: the page is the billing page" body_has '<h1>Billing</h1>'
is "owner: not cached" "$(header Cache-Control)" no-store

for role in admin member viewer; do
	login "$role" "$role@example.com"
	get "$role" $P
	is "$role: GET billing is 403" "$STATUS" 403
	check "$role: the 403 page says owner is needed and names the role" \
		body_has "This needs the owner role in this workspace; you are $(case $role in admin) echo an;; *) echo a;; esac) $role."
	check "$role: no billing figures leak" sh -c "! grep -q '650,000' '$T/body'"
	get "$role" $P/cancel
	is "$role: GET the cancel confirmation is 403" "$STATUS" 403
	post "$role" $P/plan plan_type=starter billing_interval=annual
	is "$role: POST plan is 403" "$STATUS" 403
	check "$role: ... the 403 page names the role" body_has "you are $(case $role in admin) echo an;; *) echo a;; esac) $role."
	post "$role" $P/plan plan_type=free billing_interval=monthly
	is "$role: POST plan (downgrade) is 403" "$STATUS" 403
	post "$role" $P/cancel
	is "$role: POST cancel is 403" "$STATUS" 403
	post "$role" $P/resume
	is "$role: POST resume is 403" "$STATUS" 403
done
is "nothing changed after every refused request (row and audit log)" "$(state)" "$before"

# The owner's POST without the CSRF token is refused too.
post_raw o $P/cancel
is "owner POST without csrf_token: 403" "$STATUS" 403
post_raw o $P/plan csrf_token=forged-token-value plan_type=starter billing_interval=monthly
is "owner POST with a wrong csrf_token: 403" "$STATUS" 403
is "nothing changed after the CSRF refusals" "$(state)" "$before"

# Another workspace's owner is not a member of Acme: 404, never its figures.
login g owner@globex.example
get g $P
is "Globex owner on Acme's billing: 404" "$STATUS" 404
check "... without Acme's figures" sh -c "! grep -q '650,000' '$T/body'"
post g $P/cancel
is "Globex owner POST cancel on Acme: 404" "$STATUS" 404
get g /w/globex/settings/billing
is "Globex owner on Globex's billing: 200" "$STATUS" 200
check "Globex sees its own trace figures" body_has '12,500 of 100,000 traces — 12%'
check "Globex does not see Acme's figures" sh -c "! grep -q '650,000' '$T/body'"
check "Globex's current plan is Starter" grep -q 'Starter <strong>(current plan)</strong>' "$T/body"
is "nothing changed in Acme" "$(state)" "$before"

# Unknown workspace, wrong method.
get o /w/nope/settings/billing
is "unknown workspace: 404" "$STATUS" 404
get o $P/plan
is "GET on the plan action without a plan: 303 to the billing page" "$STATUS $(header Location)" "303 $P"
get o /webhooks/stripe
is "GET on the webhook: 405" "$STATUS" 405
