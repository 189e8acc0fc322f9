#!/usr/bin/python3
"""suite.py: the browser suite. A headless Chromium with JavaScript off signs in and
submits the forms of every settings page as a person would (click, read the page that
comes back), and checks every page state it sees (browser.py: overflow, phone
reachability, axe-core). Run by tests/e2e/t900-browser.sh against the end-to-end stack.

"""
import os
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import PHONE, ROOT, Browser, Suite, reset_seed, sql, wait_for  # noqa: E402

ACME = "00000000-0000-0000-0000-000000000001"
TEAM = "/w/acme/settings/team"
BILLING = "/w/acme/settings/billing"
INTEG = "/w/acme/settings/integrations"
PASSWORD = "demo-password"


def sign_in(b, email, password=PASSWORD, path="/login"):
    if path is not None:
        b.go(path)
    b.fill("email", email)
    b.fill("password", password)
    return b.click(b.find("//form[@action='/login']//button[@type='submit']"))


def confirm_through(s, b, label, value="1"):
    """If the answer is a confirmation page, check it and press its button; returns the status."""
    form = b.confirm_form(value)
    if form is None:
        return None
    b.check_page(label + ": confirmation page")
    return b.click(b.submit_button(form))


# --- Sign in, sign out, next=, lockout -----------------------------------------------
def group_signin(s, b):
    b.drive_at(1280)
    st = b.go("/login")
    s.eq(st, 200, "sign-in page: 200")
    b.check_page("sign-in page")
    b.shot("login")

    st = sign_in(b, "demo@example.com", "not-the-password", path=None)
    s.eq(st, 401, "a wrong password: 401")
    s.ok(b.css("[role=alert]") and b.path().startswith("/login"), "a wrong password: the form again with a message")
    s.eq(b.find("//input[@name='email']").get_attribute("value"), "demo@example.com", "a wrong password: the email kept")
    b.check_page("sign-in page, wrong password")

    b.drive_at(PHONE)
    st = sign_in(b, "demo@example.com", path=None)
    s.eq((st, b.path()), (200, TEAM), "signing in (at 390 px) leads to the team page")
    s.ok(b.has("Signed in as"), "signed in: the header says who")

    st = b.click(b.find("//form[@action='/logout']//button"))
    s.eq((st, b.path()), (200, "/login"), "sign out: back to the sign-in page")
    st = b.go(BILLING)
    s.ok(st == 200 and b.path().startswith("/login?next="), "signed out, the billing page leads to sign-in with next=",
         b.path())
    b.check_page("sign-in page with next=")
    st = sign_in(b, "demo@example.com", path=None)
    s.eq((st, b.path()), (200, BILLING), "signing in there returns to the billing page (next=)")
    b.click(b.find("//form[@action='/logout']//button"))

    # Forgotten password: the form and its answer (the same whether the account exists or not).
    b.go("/login")
    st = b.click(b.find("//a[@href='/password/forgot']"))
    s.eq(st, 200, "forgot password: the form opens from the sign-in page")
    b.check_page("forgot password form")
    b.fill("email", "member@example.com")
    st = b.click(b.find("//form[@action='/password/forgot']//button"))
    s.eq(st, 200, "forgot password: sent, a page says what happens next")
    b.check_page("forgot password, sent")

    # Lockout: the tenth failure in the window locks the address and the email.
    b.drive_at(1280)
    b.go("/login")
    seen = []
    for _ in range(12):
        st = sign_in(b, "member@example.com", "wrong-password-again", path=None)
        seen.append(st)
        if st == 429:
            break
    s.eq(seen[-1], 429, "repeated wrong passwords: 429 (statuses %s)" % seen)
    s.ok("try again" in b.text().lower() or "too many" in b.text().lower(), "the lockout page says to try again later",
         b.text()[:300])
    b.check_page("sign-in lockout")
    st = sign_in(b, "member@example.com", PASSWORD, path="/login")
    s.eq(st, 429, "while locked out, even the right password is refused")


# --- Team -------------------------------------------------------------------------------
def member_row(email):
    return sql("SELECT role || '|' || status FROM team_members tm JOIN users u ON u.id = tm.user_id "
               "WHERE tm.workspace_id = '%s' AND u.email = '%s' AND tm.deleted_at IS NULL" % (ACME, email))


def change_role(s, b, email, role, label):
    """Lowering a role and making someone an owner ask first; the role is then changed."""
    row = b.row(email)
    b.choose("role", role, row)
    st = b.click(b.action(row, "Change"))
    s.ok(st == 200 and b.confirm_form() is not None and member_row(email).endswith("|active")
         and not member_row(email).startswith(role + "|"), label + ": asked first, nothing changed yet", st)
    st = confirm_through(s, b, label)
    s.eq((st, member_row(email)), (200, role + "|active"), label)


def group_team(s, b, p2):
    b.drive_at(PHONE)
    sign_in(b, "demo@example.com")
    st = b.go(TEAM)
    s.eq(st, 200, "team page: 200")
    b.check_page("team page (owner)")
    b.shot("team")

    # Invite, and read the one-time link off the page.
    b.fill("email", "newcomer@example.com")
    b.choose("role", "member", b.find("//form[contains(@action, '/team/invite')]"))
    st = b.click(b.find("//form[contains(@action, '/team/invite')]//button[@type='submit']"))
    s.eq(st, 200, "invite: back on the team page")
    links = b.css("#invite-link")
    link = links[0].text.strip() if links else ""
    s.ok("/invite/accept?token=" in link, "invite: the one-time link is shown", link)
    s.eq(member_row("newcomer@example.com"), "member|pending", "invite: a pending invitation")
    b.check_page("team page with an invitation link")
    b.shot("team-invited")

    # The invitee, in a browser of their own, creates an account.
    p2.drive_at(PHONE)
    st = p2.go(link)
    s.eq(st, 200, "invitee: the invitation page opens")
    p2.check_page("invitation page (new account)")
    p2.shot("invite")
    p2.fill("full_name", "Nina Newcomer")
    p2.fill("password", "a long enough passphrase")
    st = p2.click(p2.find("//form[@action='/invite/accept']//button"))
    s.ok(st == 200 and p2.path().startswith("/w/acme/") and p2.has("Nina Newcomer"),
         "invitee: account created, signed in, in Acme", "%s %s" % (st, p2.path()))
    s.eq(member_row("newcomer@example.com"), "member|active", "invitee: an active member")
    p2.check_page("team page (the new member)")
    st = p2.go(link)
    s.ok(st in (404, 410), "the link works once: a second visit is refused", st)
    p2.check_page("invitation link used")

    # Roles: down (asks first), to owner (asks first once issue 10's change lands), down again.
    b.go(TEAM)
    change_role(s, b, "newcomer@example.com", "viewer", "role: member to viewer, through its confirmation")
    change_role(s, b, "newcomer@example.com", "owner", "role: viewer to owner")
    change_role(s, b, "newcomer@example.com", "member", "role: owner to member, through its confirmation")

    # Deactivate (confirmation), the person loses access, reactivate.
    st = b.click(b.action(b.row("newcomer@example.com"), "Deactivate"))
    s.eq(st, 200, "deactivate: a confirmation page")
    b.check_page("deactivate confirmation")
    st = b.click(b.submit_button(b.confirm_form()))
    s.eq((st, member_row("newcomer@example.com")), (200, "member|inactive"), "deactivate: confirmed, inactive")
    b.check_page("team page after deactivating")
    st = p2.go(TEAM)
    s.eq(st, 404, "the deactivated person is refused at their next request (404)")
    p2.check_page("deactivated person's next request")
    p2.click(p2.find("//form[@action='/logout']//button"))
    st = sign_in(p2, "newcomer@example.com", "a long enough passphrase")
    s.ok("deactivated" in p2.text().lower() and not p2.finds("//input[@name='password']"),
         "signing in again: a page that says the membership is deactivated, no second sign-in form",
         "%s %s %s" % (st, p2.path(), p2.text()[:300]))
    p2.check_page("deactivated person signs in")
    st = b.click(b.action(b.row("newcomer@example.com"), "Reactivate"))
    s.eq((st, member_row("newcomer@example.com")), (200, "member|active"), "reactivate: active again")
    s.ok(b.notice() != "", "reactivate: a notice says what happened", b.text()[:200])

    # Remove (confirmation).
    st = b.click(b.action(b.row("newcomer@example.com"), "Remove"))
    s.eq(st, 200, "remove: a confirmation page")
    b.check_page("remove confirmation")
    st = b.click(b.submit_button(b.confirm_form()))
    s.eq((st, member_row("newcomer@example.com")), (200, ""), "remove: confirmed, gone")

    # Resend the seeded invitation: a new link, the old one dead.
    old = sql("SELECT invitation_token FROM team_members WHERE invitation_email = 'pending@example.com'")
    st = b.click(b.action(b.row("pending@example.com"), "Resend"))
    new = sql("SELECT invitation_token FROM team_members WHERE invitation_email = 'pending@example.com'")
    s.ok(st == 200 and new and new != old and b.css("#invite-link"), "resend: a new link is shown and stored",
         "%s %s" % (st, b.path()))
    b.check_page("team page after a resend")
    st = p2.go("/invite/accept?token=dev-invite-token-pending-example-com")
    s.ok(st in (404, 410), "resend: the old link no longer works", st)

    # Revoke (confirmation).
    b.go(TEAM)
    st = b.click(b.action(b.row("pending@example.com"), "Revoke"))
    s.eq(st, 200, "revoke: a confirmation page")
    b.check_page("revoke confirmation")
    st = b.click(b.submit_button(b.confirm_form()))
    s.ok(st == 200 and not b.finds("//tr[contains(., 'pending@example.com')]"), "revoke: confirmed, the invitation is gone")
    s.eq(sql("SELECT count(*) FROM team_members WHERE invitation_email = 'pending@example.com' AND deleted_at IS NULL"),
         "0", "revoke: soft-deleted in the database")


def group_team_paging(s, b):
    """Search and a second page, and an action taken there."""
    sql("UPDATE billing_config SET team_members_limit = NULL WHERE workspace_id = '%s';"
        "INSERT INTO users (email, full_name, is_verified) SELECT format('crew%%s@example.com', lpad(i::text, 2, '0')),"
        " format('Crew Member %%s', lpad(i::text, 2, '0')), true FROM generate_series(1, 60) i;"
        "INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at)"
        " SELECT '%s', id, 'member', 'active', now() - interval '1 day' FROM users WHERE email LIKE 'crew%%@example.com';"
        % (ACME, ACME))
    b.drive_at(PHONE)
    sign_in(b, "admin@example.com")
    b.go(TEAM)
    b.fill("q", "crew")
    st = b.click(b.find("//form[@role='search']//button"))
    s.ok(st == 200 and "q=crew" in b.path(), "search: results for the query", b.path())
    b.check_page("team search results")
    st = b.click(b.find("//a[@rel='next']"))
    s.ok(st == 200 and "page=2" in b.path() and "q=crew" in b.path(), "search: the second page keeps the query", b.path())
    b.check_page("team search, page 2")
    b.shot("team-page2")
    rows = b.finds("//section[@aria-labelledby='active-heading']//tbody/tr")
    s.ok(len(rows) > 0, "page 2 lists the rest of the results (%d rows)" % len(rows))
    email = rows[0].find_element("xpath", "./td[1]").text.strip() if rows else "crew60@example.com"
    st = b.click(b.action(b.row(email), "Deactivate"))
    b.check_page("deactivate confirmation from page 2")
    st = b.click(b.submit_button(b.confirm_form()))
    s.eq((st, member_row(email)), (200, "member|inactive"), "an action on page 2 of a search takes effect")
    s.ok(b.path().startswith(TEAM) and "q=crew" in b.path() and "page=2" in b.path(),
         "after the action: back on the same search and page", b.path())
    s.ok(len(b.finds("//*[contains(normalize-space(.), 'Page 2 of ') and not(*)]")) >= 2,
         "the pager says \u201cPage 2 of \u2026\u201d above and below the lists")
    b.check_page("team page after an action on page 2")


# --- Billing ------------------------------------------------------------------------------
def billing_row():
    return sql("SELECT plan_type || '|' || billing_interval || '|' || cancellation_requested FROM billing_config "
               "WHERE workspace_id = '%s'" % ACME)


def group_billing(s, b):
    b.drive_at(800)
    sign_in(b, "demo@example.com")
    st = b.go(BILLING)
    s.eq(st, 200, "billing page: 200")
    b.check_page("billing page")
    b.shot("billing")

    # A refused downgrade: usage grows past Starter's limits between showing and sending the form.
    sql("UPDATE billing_config SET traces_current_month = 50000 WHERE workspace_id = '%s'" % ACME)
    b.go(BILLING)
    b.pick(b.find("//input[@name='plan_type' and @value='starter']"))
    b.pick(b.find("//input[@name='billing_interval' and @value='monthly']"))
    sql("UPDATE billing_config SET traces_current_month = 650000 WHERE workspace_id = '%s'" % ACME)
    st = b.click(b.find("//form[contains(@action, '/billing/plan')]//button[@type='submit']"))
    s.eq((st, billing_row()), (409, "professional|monthly|false"), "a downgrade over the limits: 409, nothing changed")
    s.ok("100,000" in b.text() or "traces" in b.text().lower(), "the refusal names the limit", b.text()[:300])
    b.check_page("billing: refused downgrade")
    blocked = b.finds("//*[@id='blocked-starter']")
    s.ok(blocked and "traces" in blocked[0].text.lower(), "the billing page marks Starter with the limit that blocks it")

    # A plan change that fits.
    sql("UPDATE billing_config SET traces_current_month = 50000 WHERE workspace_id = '%s'" % ACME)
    b.drive_at(PHONE)
    b.go(BILLING)
    b.pick(b.find("//input[@name='plan_type' and @value='starter']"))
    b.pick(b.find("//input[@name='billing_interval' and @value='annual']"))
    st = b.click(b.find("//form[contains(@action, '/billing/plan')]//button[@type='submit']"))
    s.ok(st == 200 and b.confirm_form() is not None and "30 days" in b.text() and "$290" in b.text()
         and billing_row() == "professional|monthly|false",
         "change plan: a confirmation page first (price, retention), nothing changed yet", b.text()[:300])
    st = confirm_through(s, b, "plan change to Starter")
    s.eq((st, billing_row()), (200, "starter|annual|false"), "change plan (at 390 px) to Starter, annual")
    s.ok(b.notice() != "", "the plan change says so", b.text()[:200])
    b.check_page("billing page after a plan change")

    # Cancel at the end of the cycle (confirmation), then resume.
    b.drive_at(1280)
    st = b.click(b.find("//a[starts-with(normalize-space(.), 'Cancel subscription')]"))
    s.eq(st, 200, "cancel: a confirmation page")
    b.check_page("billing: cancel confirmation")
    st = b.click(b.submit_button(b.confirm_form()))
    s.eq((st, billing_row()), (200, "starter|annual|true"), "cancel: confirmed, set to end")
    s.ok(b.css("form[action$='/billing/resume']"), "cancel: the page offers to resume")
    b.check_page("billing page, cancellation pending")
    b.shot("billing-canceling")
    st = b.click(b.find("//form[contains(@action, '/billing/resume')]//button"))
    s.eq((st, billing_row()), (200, "starter|annual|false"), "resume: the subscription renews again")
    b.check_page("billing page after resuming")


# --- Integrations -------------------------------------------------------------------------------
TYPES = [
    ("slack", "Ops Slack", {"channel_id": "C01234567", "channel_name": "#ops",
                             "workspace_url": "https://acme-corp.slack.com",
                             "bot_token": "xoxb-111122223333-BrowserSuiteToken"}),
    ("pagerduty", "Ops PagerDuty", {"service_id": "PBRW123", "service_name": "Agents",
                                    "routing_key": "0123456789abcdef0123456789ABCDEF"}),
    ("webhook", "Local receiver", {"url": None, "method": "POST", "auth_type": "hmac", "timeout_ms": "3000",
                                   "secret": "0123456789abcdef-browser"}),
    ("custom", "Custom receiver", {"url": None, "method": "PUT", "auth_type": "bearer", "timeout_ms": "3000",
                                   "secret": "bearer-token-browser"}),
    ("sentry", "Ops Sentry", {"environment": "production", "sample_rate": "1", "traces_sample_rate": "0.2",
                              "dsn": "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/4501"}),
    ("datadog", "Ops Datadog", {"site": "datadoghq.eu", "service_name": "agents-api",
                                "api_key": "0123456789abcdef0123456789abcdef"}),
]


def integ(name, col="id"):
    return sql("SELECT %s FROM integrations_config WHERE workspace_id = '%s' AND integration_name = '%s'"
               % (col, ACME, name))


def article(b, name):
    return b.find("//article[.//h2[starts-with(normalize-space(.), %s)]]" % ("'%s'" % name))


def group_integrations(s, b, recv_url, recv_dir):
    b.drive_at(1280)
    sign_in(b, "admin@example.com")
    st = b.go(INTEG)
    s.eq(st, 200, "integrations page: 200")
    b.check_page("integrations page")
    b.shot("integrations")

    for i, (typ, name, fields) in enumerate(TYPES):
        b.drive_at(PHONE if i % 2 else 1280)
        b.go(INTEG)
        st = b.click(b.find("//a[contains(@href, 'new?type=%s')]" % typ))
        s.eq(st, 200, "%s: the create form opens" % typ)
        b.check_page("create form: %s" % typ)
        if typ == "webhook":
            b.shot("integration-form")
        if typ == "slack":
            # A mistake first: the form comes back (422) with the input kept and the error beside it.
            b.fill("integration_name", name)
            b.fill("channel_id", "general")
            st = b.click(b.find("//form[contains(@class, 'integ-form')]//button[@type='submit']"))
            s.ok(st == 422 and b.find("//input[@name='channel_id']").get_attribute("aria-invalid") == "true"
                 and b.find("//input[@name='integration_name']").get_attribute("value") == name,
                 "slack: a wrong channel id: 422, the field marked, the input kept", st)
            b.check_page("create form with an error: slack")
        b.fill("integration_name", name)
        for k, v in fields.items():
            if v is None:
                v = recv_url + "/ok"
            if b.find("//*[@name='%s']" % k).tag_name == "select":
                b.choose(k, v)
            else:
                b.fill(k, v)
        st = b.click(b.find("//form[contains(@class, 'integ-form')]//button[@type='submit']"))
        s.ok(st == 200 and b.path() == INTEG and integ(name) != "",
             "%s: created (at %d px)" % (typ, b.width), "%s %s %s" % (st, b.path(), b.text()[:300]))
    b.drive_at(1280)
    b.check_page("integrations page with one of each type")
    b.shot("integrations-all")

    # Edit the webhook, leaving its secret empty: the stored one is kept.
    sealed = integ("Local receiver", "md5(credentials_encrypted)")
    st = b.click(b.action(article(b, "Local receiver"), "Edit"))
    s.eq(st, 200, "edit form opens")
    s.eq(b.find("//input[@name='secret']").get_attribute("value"), "", "edit: the secret is not echoed")
    b.check_page("edit form: webhook")
    b.fill("integration_name", "Local receiver 2")
    st = b.click(b.find("//form[contains(@class, 'integ-form')]//button[@type='submit']"))
    s.ok(st == 200 and integ("Local receiver 2") != "", "edit: saved with the new name", "%s %s" % (st, b.path()))
    s.eq(integ("Local receiver 2", "md5(credentials_encrypted)"), sealed,
         "edit with the secret left empty: credentials_encrypted unchanged")

    # Disable and enable.
    b.drive_at(PHONE)
    b.go(INTEG)
    st = b.click(b.action(article(b, "Local receiver 2"), "Disable"))
    s.eq((st, integ("Local receiver 2", "is_enabled")), (200, "f"), "disable (at 390 px)")
    b.check_page("integrations page, one disabled")
    st = b.click(b.action(article(b, "Local receiver 2"), "Enable"))
    s.eq((st, integ("Local receiver 2", "is_enabled")), (200, "t"), "enable")

    # A test event to the local receiver.
    before = len([f for f in os.listdir(recv_dir) if f.endswith(".json")])
    st = b.click(b.action(article(b, "Local receiver 2"), "Send test event"))
    s.eq(st, 200, "test event: the answer is a page")
    got = wait_for(lambda: len([f for f in os.listdir(recv_dir) if f.endswith(".json")]) > before, 20)
    s.ok(got, "test event: the receiver got it")
    # The test goes through the delivery worker: the answer is the delivery log, which
    # refreshes itself (meta refresh, no script) until the result is in.
    s.ok("/deliveries" in b.path(), "test event: the answer is the delivery log", b.path())

    def result_shown():
        t = b.text()
        return "HTTP 200" in t or "delivered" in t.lower()
    log = b.path()
    shown = result_shown() or wait_for(lambda: b.go(log) and result_shown(), 20, 0.5)
    s.ok(shown, "test event: the result is shown (on the page or its delivery log)", b.text()[:300])
    b.check_page("integrations: test event result")
    b.shot("integrations-tested")

    # Delete through the confirmation.
    b.go(INTEG)
    st = b.click(b.action(article(b, "Ops Datadog"), "Delete"))
    s.eq(st, 200, "delete: a confirmation page")
    b.check_page("integration delete confirmation")
    s.ok(b.confirm_form("1") is not None, "delete: the confirmation posts confirm=1, as every other")
    st = b.click(b.submit_button(b.confirm_form("1")))
    s.eq((st, integ("Ops Datadog")), (200, ""), "delete: confirmed, gone")


# --- Refusals: 403, 404, 409 ------------------------------------------------------------------------
def group_refusals(s, b):
    b.drive_at(PHONE)
    sign_in(b, "viewer@example.com")
    st = b.go(TEAM)
    s.ok(st == 200 and not b.css("form[action$='/team/invite']"), "a viewer sees the team without management forms")
    b.check_page("team page (viewer)")
    b.shot("team-viewer")
    st = b.go(INTEG)
    s.eq(st, 200, "a viewer sees the integrations")
    b.check_page("integrations page (viewer)")
    st = b.go(BILLING)
    s.ok(st == 403 and "owner" in b.text().lower(), "a viewer asking for billing: 403 naming the role needed",
         "%s %s" % (st, b.text()[:200]))
    b.check_page("403 page")
    b.shot("error-403")
    st = b.go(INTEG + "/new?type=webhook")
    s.eq(st, 403, "a viewer asking for the create form of an integration: 403")
    st = b.go("/w/globex/settings/team")
    s.eq(st, 404, "another workspace: 404")
    b.check_page("404 page")
    b.click(b.find("//form[@action='/logout']//button"))

    b.drive_at(1280)
    sign_in(b, "demo@example.com")
    b.go(TEAM)
    # Seats fill up (someone else invited) between showing the form and sending it.
    form = b.find("//form[contains(@action, '/team/invite')]")
    b.fill("email", "one-too-many@example.com", form)
    used = sql("SELECT count(*) FROM team_members WHERE workspace_id = '%s' AND status IN ('active', 'pending') "
               "AND deleted_at IS NULL" % ACME)
    sql("UPDATE billing_config SET team_members_limit = %s WHERE workspace_id = '%s'" % (used, ACME))
    st = b.click(b.submit_button(form))
    s.eq(st, 409, "inviting with every seat taken: 409")
    s.ok("seat" in b.text().lower(), "the refusal speaks of seats", b.text()[:300])
    s.eq(sql("SELECT count(*) FROM team_members WHERE invitation_email = 'one-too-many@example.com'"), "0",
         "seats full: nothing was stored")
    b.check_page("team page, seats full (409)")
    b.shot("team-seats-full")
    b.go(TEAM)
    button = b.submit_button(b.find("//form[contains(@action, '/team/invite')]"))
    s.ok(button.get_attribute("disabled") is not None and "seat" in b.text().lower(),
         "with every seat taken, the invite button is disabled with the reason")
    b.check_page("team page, seats full")


# --- General, API keys, audit log ------------------------------------------------------------
def group_workspace(s, b):
    b.drive_at(PHONE)
    sign_in(b, "demo@example.com")
    st = b.go("/w/acme/settings/general")
    s.eq(st, 200, "general page: 200")
    b.check_page("general page")
    b.shot("general")
    b.fill("name", "Acme Corporation")
    st = b.click(b.find("//form[substring(@action, string-length(@action) - 16) = '/settings/general']//button"))
    s.eq((st, sql("SELECT name FROM workspaces WHERE id = '%s'" % ACME)), (200, "Acme Corporation"),
         "rename (at 390 px)")
    st = b.click(b.find("//a[starts-with(normalize-space(.), 'Leave ')]"))
    s.eq(st, 409, "leave, as the only owner: 409")
    b.check_page("general: the only owner cannot leave (409)")
    b.go("/w/acme/settings/general")
    st = b.click(b.find("//a[starts-with(normalize-space(.), 'Delete ')]"))
    s.eq(st, 200, "delete: a confirmation page first")
    b.check_page("general: delete confirmation")

    b.drive_at(1280)
    st = b.go("/w/acme/settings/api-keys")
    s.eq(st, 200, "API keys page: 200")
    b.check_page("API keys page")
    b.fill("name", "Browser key")
    st = b.click(b.find("//form[contains(@action, '/api-keys')]//button"))
    key = b.find("//input[@id='new-key']").get_attribute("value") if b.finds("//input[@id='new-key']") else ""
    s.ok(st == 200 and len(key) > 20, "create a key: shown once", st)
    b.check_page("API keys page with a new key")
    b.shot("apikeys-new")
    b.drive_at(PHONE)
    st = b.click(b.action(b.row("Browser key"), "Revoke"))
    s.eq(st, 200, "revoke a key: a confirmation page")
    b.check_page("API key revoke confirmation")
    st = b.click(b.submit_button(b.confirm_form()))
    s.eq((st, sql("SELECT revoked_at IS NOT NULL FROM api_keys WHERE name = 'Browser key'")), (200, "t"),
         "revoke a key: confirmed (at 390 px)")

    st = b.click(b.find("//header//a[@href='/account']"))
    s.eq((st, b.path()), (200, "/account"), "the account page, from the name in the header")
    b.check_page("account page")
    b.shot("account")
    b.fill("full_name", "Demo Owner Renamed")
    st = b.click(b.find("//form[@action='/account/name']//button"))
    s.eq((st, sql("SELECT full_name FROM users WHERE email = 'demo@example.com'")), (200, "Demo Owner Renamed"),
         "account: the name saved (at 390 px)")
    b.check_page("account page after saving the name")

    st = b.go("/w/acme/settings/audit")
    s.eq(st, 200, "audit log: 200")
    b.check_page("audit log")
    b.shot("audit")
    opts = [o.get_attribute("value") for o in b.finds("//select[@name='action']/option") if o.get_attribute("value")]
    if opts:
        b.choose("action", opts[0])
    st = b.click(b.find("//form[contains(@action, '/settings/audit')]//button"))
    s.ok(st == 200 and "action=" in b.path(), "audit log: filtered by action", b.path())
    b.check_page("audit log, filtered")


def start_receiver():
    d = tempfile.mkdtemp(prefix="settings-recv-")
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/e2e/integrations-receiver.py"), d])
    port = wait_for(lambda: os.path.exists(os.path.join(d, "port")) and open(os.path.join(d, "port")).read().strip(), 10)
    return p, d, "http://127.0.0.1:%s" % port


def main():
    s = Suite()
    t0 = time.time()
    browsers = []
    recv = None

    def browser(name):
        b = Browser(s, name)
        browsers.append(b)
        return b

    groups = [
        ("sign-in", lambda b: group_signin(s, b)),
        ("team", lambda b: group_team(s, b, browser("invitee"))),
        ("team paging", lambda b: group_team_paging(s, b)),
        ("billing", lambda b: group_billing(s, b)),
        ("integrations", lambda b: group_integrations(s, b, recv[2], recv[1])),
        ("refusals", lambda b: group_refusals(s, b)),
        ("workspace pages", lambda b: group_workspace(s, b)),
    ]
    only = os.environ.get("BROWSER_ONLY", "")
    try:
        main_b = browser("main")
        recv = start_receiver()
        for name, fn in groups:
            if only and only not in name:
                continue
            reset_seed()
            for b in browsers[1:]:
                b.quit()
            del browsers[1:]
            main_b.d.delete_all_cookies()
            g0 = time.time()
            try:
                fn(main_b)
            except Exception as e:  # a step that cannot go on ends its group, not the suite
                s.ok(False, "%s: the steps ran to their end" % name,
                     "%s: %s\n%s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "",
                                     "".join("at %s line %d: %s\n" % (os.path.basename(f.filename), f.lineno, f.line)
                                             for f in traceback.extract_tb(e.__traceback__)[1:])))
                s.note("page at the time: %s" % main_b.path())
            s.note("%s: %.1f s" % (name, time.time() - g0))
    except Exception as e:
        s.ok(False, "the browser starts", "%s: %s" % (type(e).__name__, e))
    finally:
        for b in browsers:
            try:
                b.quit()
            except Exception:
                pass
        if recv:
            recv[0].kill()
        reset_seed()
    refused = [p for p in s.posts if p[1] == 403]
    s.note("form POSTs by Origin header: %s" % ", ".join("%s: %d" % kv for kv in sorted(s.origins.items())))
    s.ok(len(s.posts) > (0 if only else 40) and not refused,
         "the browser's %d form POSTs (Origin: null or same origin) were never refused as cross-site" % len(s.posts),
         "\n".join("%s %s" % p for p in refused))
    s.write_report()
    axe = sum(n for st in s.report.values() for w in st.values() for n in w.get("axe", {}).values())
    over = sum(1 for st in s.report.values() for w in st.values() if w.get("overflow"))
    hidden = sum(w.get("hidden", 0) for st in s.report.values() for w in st.values())
    s.note("%d page states checked: %d axe violations (nodes), %d overflowing widths, %d actions lost at 390 px; %.0f s"
           % (len(s.report), axe, over, hidden, time.time() - t0))
    s.note("screenshots in %s" % os.path.dirname(s.shots[0]) if s.shots else "no screenshots")
    print("%d passed, %d failed" % (s.passed, s.failed))
    return 0 if s.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
