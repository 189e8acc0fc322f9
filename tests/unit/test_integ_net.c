/* test_integ_net.c: unit tests for integ_net.c (address checks, URL rules, refusals before sending) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ_net.h"

static void public_addresses_are_public(void **state)
{
	static const char *const ok[] = {
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.1",
		"172.15.255.255", "172.32.0.1", "192.167.1.1", "192.169.0.1", "198.17.255.255",
		"198.20.0.1", "169.253.1.1", "223.255.255.254", "11.0.0.1",
		"2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::1",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (integ_ip_public(ok[i]) != 1)
			fail_msg("%s should be public", ok[i]);
	}
}

static void non_global_addresses_are_refused(void **state)
{
	static const char *const no[] = {
		/* IPv4: this network, private, shared, loopback, link-local, special, test, multicast, reserved */
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254",
		"127.0.0.1", "127.255.255.254", "169.254.169.254", "169.254.0.1", "172.16.0.1",
		"172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1",
		"198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
		"239.255.255.250", "240.0.0.1", "255.255.255.255",
		/* Other spellings of loopback the resolver accepts. */
		"127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1",
		/* IPv6: unspecified, loopback, IPv4-compatible, mapped, NAT64, 6to4, ULA, link-local,
		 * site-local, multicast, discard, Teredo, documentation, outside 2000::/3 */
		"::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"::ffff:169.254.169.254", "::ffff:0.0.0.0", "64:ff9b::7f00:1", "64:ff9b::a00:1",
		"64:ff9b:1::1", "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1",
		"fc00::1", "fd12:3456:789a::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
		"100::1", "2001::1", "2001:0:4136:e378::1", "2001:db8::1", "3fff::1", "4000::1",
		"fe80::1%1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (integ_ip_public(no[i]) != 0)
			fail_msg("%s should not be public", no[i]);
	}
}

static void names_are_not_address_literals(void **state)
{
	(void)state;
	assert_int_equal(integ_ip_public("example.com"), -1);
	assert_int_equal(integ_ip_public("localhost"), -1);
	assert_int_equal(integ_ip_public(""), -1);
	assert_int_equal(integ_ip_public(NULL), -1);
	assert_int_equal(integ_addr_public(NULL), 0);
}

static void https_urls_to_public_hosts_pass(void **state)
{
	struct integ_url u;

	(void)state;
	assert_null(integ_url_check("https://hooks.example.com/in?x=1", 0, &u));
	assert_string_equal(u.scheme, "https");
	assert_string_equal(u.host, "hooks.example.com");
	assert_string_equal(u.port, "443");
	assert_int_equal(u.host_is_ip, 0);
	assert_null(integ_url_check("https://8.8.8.8:8443/x", 0, &u));
	assert_string_equal(u.port, "8443");
	assert_int_equal(u.host_is_ip, 1);
	assert_null(integ_url_check("https://[2606:4700:4700::1111]/x", 0, &u));
	assert_string_equal(u.host, "2606:4700:4700::1111");
	assert_null(integ_url_check("HTTPS://Example.COM/", 0, NULL));
}

static void url_rules_refuse(void **state)
{
	static const char *const no[] = {
		"", "http://example.com/", "ftp://example.com/", "javascript:alert(1)",
		"https://", "https:///path", "https://exa mple.com/", "https://example.com/\\x",
		"https://user:pw@example.com/", "https://user@example.com/",
		"https://example.com/#frag", "https://127.0.0.1/", "https://127.1/",
		"https://2130706433/", "https://0x7f000001/", "https://10.0.0.1/",
		"https://169.254.169.254/latest/meta-data/", "https://[::1]/",
		"https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://[fe80::1%25eth0]/",
		"https://[fd00::1]/", "https://localhost/", "https://LOCALHOST./",
		"https://a.localhost/", "https://intranet/", "https://-bad.example.com/",
		"https://bad-.example.com/", "https://ex_ample.com/", "https://exämple.com/",
		"https://example.com:0/", "https://example.com:99999/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (integ_url_check(no[i], 0, NULL) == NULL)
			fail_msg("%s should be refused", no[i]);
	}
}

/*
 * The form judges the host as the resolver reads it: a trailing dot, decimal,
 * octal and hex IPv4 forms and IPv4-mapped IPv6 are the addresses they name,
 * and the form refuses them with the very message sending gives.
 */
static void hosts_are_normalised_before_the_checks(void **state)
{
	static const char *const private_forms[] = {
		"https://127.0.0.1.:8285/", "https://2130706433.:8285/", "https://2130706433./",
		"https://0x7f000001./", "https://0X7F000001/", "https://0x7f.1./", "https://0177.0.0.1/",
		"https://0177.0.0.1./", "https://017700000001./", "https://127.1./",
		"https://10.0.0.1./", "https://169.254.169.254./latest/meta-data/",
		"https://0xa9.0xfe.0xa9.0xfe/", "https://[::ffff:127.0.0.1]/",
		"https://[::ffff:7f00:1]:8285/", "https://[::FFFF:A9FE:A9FE]/",
	};
	static const char *const not_addresses[] = {
		"https://1.2.3.999/", "https://1.2.3.4.5/", "https://example.0x1g.1/",
		"https://example.123/", "https://0x/",
	};
	const char *want = "The URL points to a private, loopback or otherwise non-public address.";
	struct integ_url u;

	(void)state;
	for (size_t i = 0; i < sizeof(private_forms) / sizeof(private_forms[0]); i++) {
		const char *msg = integ_url_check(private_forms[i], 0, NULL);
		struct integ_result res;
		static const char *const headers[] = { NULL };
		struct integ_request rq = { private_forms[i], "POST", "{}", headers, 1000, 0 };

		if (msg == NULL || strcmp(msg, want) != 0)
			fail_msg("%s: form said %s", private_forms[i], msg ? msg : "nothing");
		/* Sending refuses it before any connection, with the same words. */
		assert_int_equal(integ_send(&rq, &res), -1);
		assert_int_equal(res.refused, 1);
		if (strncmp(res.error, "Refused: ", 9) != 0 || strcmp(res.error + 9, want) != 0)
			fail_msg("%s: sending said %s", private_forms[i], res.error);
	}
	for (size_t i = 0; i < sizeof(not_addresses) / sizeof(not_addresses[0]); i++)
		if (integ_url_check(not_addresses[i], 0, NULL) == NULL)
			fail_msg("%s should be refused", not_addresses[i]);
	/* "localhost." and "intranet." are still names that can only be local. */
	assert_non_null(integ_url_check("https://intranet./", 0, NULL));
	assert_non_null(integ_url_check("https://a.localhost./", 0, NULL));
	/* Public hosts with a trailing dot are fine. */
	assert_null(integ_url_check("https://8.8.8.8./x", 0, &u));
	assert_int_equal(u.host_is_ip, 1);
	assert_null(integ_url_check("https://hooks.example.com./x", 0, &u));
	assert_int_equal(u.host_is_ip, 0);
	assert_null(integ_url_check("https://134744072./x", 0, &u));
	assert_int_equal(u.host_is_ip, 1);
}

static void urls_over_2048_characters_are_refused(void **state)
{
	char url[2100];

	(void)state;
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "https://example.com/", 20);
	assert_non_null(integ_url_check(url, 0, NULL));
	url[2048] = '\0';
	assert_null(integ_url_check(url, 0, NULL));
}

static void development_override_allows_http_and_private(void **state)
{
	(void)state;
	assert_null(integ_url_check("http://127.0.0.1:8080/hook", 1, NULL));
	assert_null(integ_url_check("https://localhost/hook", 1, NULL));
	assert_null(integ_url_check("http://intranet/hook", 1, NULL));
	/* Still never: other schemes, credentials in the URL. */
	assert_non_null(integ_url_check("ftp://127.0.0.1/", 1, NULL));
	assert_non_null(integ_url_check("http://u:p@127.0.0.1/", 1, NULL));
}

static struct integ_result try_send(const char *url, int allow)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct integ_request rq = { url, "POST", "{}", headers, 1000, allow };
	struct integ_result res;

	assert_int_equal(integ_send(&rq, &res), -1);
	return res;
}

/* Refusals happen before any connection: these need no network and no server. */
static void send_refuses_http_and_literals(void **state)
{
	struct integ_result res;

	(void)state;
	res = try_send("http://example.com/", 0);
	assert_int_equal(res.refused, 1);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.error, "Refused: The URL must start with https://.");
	res = try_send("https://127.0.0.1:9/x", 0);
	assert_int_equal(res.refused, 1);
	assert_non_null(strstr(res.error, "non-public address"));
	res = try_send("https://[::ffff:169.254.169.254]/x", 0);
	assert_int_equal(res.refused, 1);
}

/* A name is judged by what it resolves to ("localhost" comes from the hosts file). */
static void send_checks_names_after_resolution(void **state)
{
	struct integ_result res;

	(void)state;
	res = try_send("https://localhost:9/x", 0);
	assert_int_equal(res.refused, 1);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.error, "Refused: localhost resolves to "));
	assert_non_null(strstr(res.error, "which is not a public address"));
	assert_true(strcmp(res.address, "127.0.0.1") == 0 || strcmp(res.address, "::1") == 0);
}

static void send_reports_a_closed_port(void **state)
{
	struct integ_result res;

	(void)state;
	res = try_send("http://127.0.0.1:9/x", 1);
	assert_int_equal(res.refused, 0);
	assert_int_equal(res.status, 0);
	assert_true(res.error[0] != '\0');
}

/*
 * The pool: a refused URL fails at once; three requests one after another
 * to a local server go over one kept-alive connection (the server, a child
 * process, answers on the first connection only and counts the others).
 */
static void pool_refuses_and_keeps_connections_alive(void **state)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct integ_request rq = { "http://127.0.0.1:9/x", "POST", "{}", headers, 2000, 0 };
	struct integ_result res;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct integ_pool *p = integ_pool_new(4);
	char url[64];
	int lfd, status, rc;
	pid_t kid;

	(void)state;
	assert_non_null(p);
	assert_int_equal(integ_pool_start(p, &rq, &res, p), -1);
	assert_int_equal(res.refused, 1);
	assert_int_equal(integ_pool_active(p), 0);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	getsockname(lfd, (struct sockaddr *)&a, &alen);
	kid = fork();
	if (kid == 0) {
		int fd = accept(lfd, NULL, NULL), more = 0;
		char buf[4096];
		size_t len = 0;
		struct pollfd pf = { lfd, POLLIN, 0 };

		for (int answered = 0; answered < 3;) {
			ssize_t r = read(fd, buf + len, sizeof(buf) - len - 1);
			char *end;

			if (r <= 0)
				_exit(9);
			len += (size_t)r;
			buf[len] = '\0';
			/* Each request: headers, then its two-byte body "{}". */
			while ((end = strstr(buf, "\r\n\r\n")) != NULL && (size_t)(end + 6 - buf) <= len) {
				size_t used = (size_t)(end + 6 - buf);
				static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

				if (write(fd, ok, sizeof(ok) - 1) < 0)
					_exit(9);
				memmove(buf, buf + used, len - used);
				len -= used;
				buf[len] = '\0';
				answered++;
			}
		}
		if (poll(&pf, 1, 300) > 0)
			more = 1;
		_exit(more);
	}
	close(lfd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(a.sin_port));
	rq.url = url;
	rq.allow_private = 1;
	for (int i = 0; i < 3; i++) {
		void *tag = NULL;

		assert_int_equal(integ_pool_start(p, &rq, &res, &rq), 0);
		for (int k = 0; k < 100 && tag == NULL; k++)
			tag = integ_pool_next(p, 100, &rc);
		assert_ptr_equal(tag, &rq);
		assert_int_equal(rc, 0);
		assert_int_equal(res.status, 200);
		assert_string_equal(res.response, "ok");
		assert_string_equal(res.address, "127.0.0.1");
	}
	assert_int_equal(waitpid(kid, &status, 0), kid);
	/* 0: the three came on one connection and no second one was opened. */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	integ_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(public_addresses_are_public),
		cmocka_unit_test(non_global_addresses_are_refused),
		cmocka_unit_test(names_are_not_address_literals),
		cmocka_unit_test(https_urls_to_public_hosts_pass),
		cmocka_unit_test(url_rules_refuse),
		cmocka_unit_test(hosts_are_normalised_before_the_checks),
		cmocka_unit_test(urls_over_2048_characters_are_refused),
		cmocka_unit_test(development_override_allows_http_and_private),
		cmocka_unit_test(send_refuses_http_and_literals),
		cmocka_unit_test(send_checks_names_after_resolution),
		cmocka_unit_test(send_reports_a_closed_port),
		cmocka_unit_test(pool_refuses_and_keeps_connections_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
