#!/usr/bin/python3
"""browser.py: the browser suite's sign-in and one form, through Apache as plain CGI.
A headless Chromium with JavaScript off (tests/browser/browser.py) signs in on the
sign-in page, changes a member's role on the team page (the confirmation page, then
the change), and signs out. Run by tests/apache/t03-browser.sh with PORT set to the
Apache site's port; prints ok / not ok lines.
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests/browser"))
from browser import Browser, Suite, sql  # noqa: E402

ACME = "00000000-0000-0000-0000-000000000001"
TEAM = "/w/acme/settings/team"


def member_row(email):
    return sql("SELECT tm.role || '|' || tm.status FROM team_members tm JOIN users u ON u.id = tm.user_id "
               "WHERE tm.workspace_id = '%s' AND u.email = '%s' AND tm.deleted_at IS NULL" % (ACME, email))


def run(s, b):
    st = b.go("/login")
    s.eq(st, 200, "apache, browser: the sign-in page answers 200")
    b.fill("email", "demo@example.com")
    b.fill("password", "not-the-password")
    st = b.click(b.find("//form[@action='/login']//button[@type='submit']"))
    s.eq(st, 401, "apache, browser: a wrong password answers 401 with the form again")
    b.fill("password", "demo-password")
    st = b.click(b.find("//form[@action='/login']//button[@type='submit']"))
    s.eq((st, b.path()), (200, TEAM), "apache, browser: signing in leads to the team page")
    s.ok(b.has("Signed in as"), "apache, browser: the header says who is signed in")

    before = member_row("member@example.com")
    row = b.row("member@example.com")
    b.choose("role", "viewer", row)
    st = b.click(b.action(row, "Change"))
    s.ok(st == 200 and b.confirm_form() is not None and member_row("member@example.com") == before,
         "apache, browser: lowering a role asks first, nothing changed yet", "%s %s" % (st, before))
    st = b.click(b.submit_button(b.confirm_form()))
    s.eq((st, b.path(), member_row("member@example.com")), (200, TEAM, "viewer|active"),
         "apache, browser: confirmed, the member is a viewer, back on the team page")
    s.ok(b.notice() != "", "apache, browser: a one-time notice says so", b.text()[:300])
    s.eq(sql("SELECT count(*) FROM audit_logs WHERE workspace_id = '%s' AND action = 'team_member.role_changed' "
             "AND changes ->> 'new_role' = 'viewer'" % ACME) != "0", True,
         "apache, browser: the change has its audit row")

    st = b.click(b.find("//form[@action='/logout']//button"))
    s.eq((st, b.path()), (200, "/login"), "apache, browser: signing out leads to the sign-in page")
    st = b.go(TEAM)
    s.ok(st == 200 and b.path().startswith("/login?next="), "apache, browser: signed out, the team page leads to sign-in",
         b.path())


def main():
    s = Suite()
    b = None
    try:
        b = Browser(s, "apache")
        run(s, b)
    except Exception as e:  # a step that cannot go on ends the run with a failure
        s.ok(False, "apache, browser: the steps ran to their end", "%s: %s" % (type(e).__name__, e))
    finally:
        if b is not None:
            b.quit()
    refused = [p for p in s.posts if p[1] == 403]
    s.ok(len(s.posts) >= 4 and not refused,
         "apache, browser: the browser's %d form POSTs were never refused as cross-site" % len(s.posts),
         "\n".join("%s %s" % p for p in refused))
    return 0 if s.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
