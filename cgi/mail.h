/* mail.h: account emails through the sendmail-compatible SETTINGS_SENDMAIL command */
#ifndef SETTINGS_MAIL_H
#define SETTINGS_MAIL_H

#include "util.h"

/*
 * How this site can send email: MAIL_COMMAND when SETTINGS_SENDMAIL and
 * SETTINGS_BASE_URL are both set (a link in an email must not come from the
 * request's Host header); MAIL_LOG when SETTINGS_MAIL_LOG=1 (development:
 * `make run` sets it, and messages go to the executable's log instead);
 * MAIL_NONE otherwise (production without mail: the page says so).
 */
enum mail_mode { MAIL_NONE = 0, MAIL_COMMAND, MAIL_LOG };
enum mail_mode mail_mode(void);

/*
 * A plain-text message (headers and body) to one recipient into m; the
 * subject may hold any UTF-8 (encoded per RFC 2047); control characters in
 * the body's insertions are the caller's concern (mail_text helps).
 */
void mail_compose(struct buf *m, const char *to, const char *subject, const char *body);

/*
 * Pipe message to the sendmail-compatible command now (split on blanks, no
 * shell, -t -i), waiting at most 10 s in all. 0 when the command took it.
 */
int mail_send(const char *command, const struct buf *message);

/* Append s with every control character but none turned into a space. */
void mail_text(struct buf *b, const char *s);

/*
 * Deliver message in the background, so that the caller's answer takes the
 * same time whether or not there is a message: the process forks a child
 * that forks a detached grandchild (always, also for message NULL), which runs the
 * command half a second later (or, in MAIL_LOG mode, writes the message to
 * stderr), when the caller's transaction has committed. The caller
 * waits only for the short-lived child. Failures are logged by the
 * grandchild with tag; the caller cannot learn of them (by design: the
 * answer must not depend on them).
 */
void mail_send_detached(const char *tag, const struct buf *message);

#endif
