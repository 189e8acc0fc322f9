/* pq_lazy.c: libpq's Kerberos (GSSAPI) and LDAP entry points, loaded on first use */
/*
 * Linked into the executables only with the static libpq (libpq.a; the
 * Makefile's LIBPQ=static). Debian's libpq.so needs libgssapi_krb5 and
 * libldap, which bring some twenty more libraries (Kerberos, SASL, GnuTLS,
 * ...): a plain CGI process that loads them spends most of its instructions
 * in the dynamic loader binding their symbols, for code it never runs.
 *
 * libpq calls these functions only for:
 *   - GSSAPI: Kerberos authentication (pg_hba.conf "gss") and GSSAPI
 *     encryption (gssencmode=prefer or require over TCP; db.c makes
 *     "disable" the default, so only a DATABASE_URL that asks for it);
 *   - LDAP: a connection service (service=NAME) whose pg_service.conf entry
 *     is an "ldap://" URL.
 * Each function here loads the real library with dlopen() the first time one
 * is called and calls through it, so those paths keep working exactly as with
 * libpq.so; when the library cannot be loaded, the call fails the way the
 * library reports a failure (GSS_S_FAILURE, NULL, an LDAP error), and libpq
 * turns that into a connection error.
 *
 * The definitions are hidden: they satisfy libpq.a's references in this link
 * only, and a shared library of the executable (libcurl's own use of GSSAPI or
 * LDAP) still binds to the real libraries.
 *
 * The types are those of RFC 2744 (GSSAPI C bindings: OM_uint32 is 32 bits,
 * every handle, name, OID and buffer is a pointer) and of OpenLDAP's ldap.h;
 * the headers (libkrb5-dev, libldap-dev) are not needed to build.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#define HIDDEN __attribute__((visibility("hidden")))

typedef uint32_t om_uint32;
#define GSS_FAILURE ((om_uint32)13 << 16)   /* GSS_S_FAILURE */
#define LDAP_LOCAL_ERROR (-2)               /* LDAP_LOCAL_ERROR */

/* The real library's symbol name, or NULL when it cannot be loaded. */
static void *lazy_sym(void **lib, const char *soname, const char *name)
{
	if (*lib == NULL)
		*lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	return *lib != NULL ? dlsym(*lib, name) : NULL;
}

static void *gss_lib, *ldap_lib;
#define GSS_SYM(name) lazy_sym(&gss_lib, "libgssapi_krb5.so.2", name)
#define LDAP_SYM(name) lazy_sym(&ldap_lib, "libldap-2.5.so.0", name)

/*
 * GSS_C_NT_HOSTBASED_SERVICE is a variable of the library (a gss_OID), which
 * libpq reads and passes to gss_import_name(): here it points at a
 * placeholder that gss_import_name() below replaces by the library's value.
 */
static char hostbased_placeholder;
HIDDEN void *GSS_C_NT_HOSTBASED_SERVICE = &hostbased_placeholder;

HIDDEN om_uint32 gss_import_name(om_uint32 *minor, void *name, void *type, void **out)
{
	om_uint32 (*f)(om_uint32 *, void *, void *, void **) = GSS_SYM("gss_import_name");
	void **real = GSS_SYM("GSS_C_NT_HOSTBASED_SERVICE");

	if (f == NULL || real == NULL)
		return GSS_FAILURE;
	if (type == &hostbased_placeholder)
		type = *real;
	return f(minor, name, type, out);
}

HIDDEN om_uint32 gss_acquire_cred(om_uint32 *minor, void *name, om_uint32 time_req,
                                  void *mechs, int usage, void **cred, void **actual,
                                  om_uint32 *time_rec)
{
	om_uint32 (*f)(om_uint32 *, void *, om_uint32, void *, int, void **, void **,
	               om_uint32 *) = GSS_SYM("gss_acquire_cred");

	return f != NULL ? f(minor, name, time_req, mechs, usage, cred, actual, time_rec)
	                 : GSS_FAILURE;
}

HIDDEN om_uint32 gss_init_sec_context(om_uint32 *minor, void *cred, void **ctx, void *target,
                                      void *mech, om_uint32 flags, om_uint32 time_req,
                                      void *bindings, void *input, void **actual_mech,
                                      void *output, om_uint32 *ret_flags, om_uint32 *time_rec)
{
	om_uint32 (*f)(om_uint32 *, void *, void **, void *, void *, om_uint32, om_uint32,
	               void *, void *, void **, void *, om_uint32 *, om_uint32 *) =
		GSS_SYM("gss_init_sec_context");

	return f != NULL ? f(minor, cred, ctx, target, mech, flags, time_req, bindings, input,
	                     actual_mech, output, ret_flags, time_rec)
	                 : GSS_FAILURE;
}

HIDDEN om_uint32 gss_delete_sec_context(om_uint32 *minor, void **ctx, void *output)
{
	om_uint32 (*f)(om_uint32 *, void **, void *) = GSS_SYM("gss_delete_sec_context");

	return f != NULL ? f(minor, ctx, output) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_display_status(om_uint32 *minor, om_uint32 status, int type, void *mech,
                                    om_uint32 *msg_ctx, void *out)
{
	om_uint32 (*f)(om_uint32 *, om_uint32, int, void *, om_uint32 *, void *) =
		GSS_SYM("gss_display_status");

	return f != NULL ? f(minor, status, type, mech, msg_ctx, out) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_release_buffer(om_uint32 *minor, void *buffer)
{
	om_uint32 (*f)(om_uint32 *, void *) = GSS_SYM("gss_release_buffer");

	return f != NULL ? f(minor, buffer) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_release_cred(om_uint32 *minor, void **cred)
{
	om_uint32 (*f)(om_uint32 *, void **) = GSS_SYM("gss_release_cred");

	return f != NULL ? f(minor, cred) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_release_name(om_uint32 *minor, void **name)
{
	om_uint32 (*f)(om_uint32 *, void **) = GSS_SYM("gss_release_name");

	return f != NULL ? f(minor, name) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_wrap(om_uint32 *minor, void *ctx, int conf_req, om_uint32 qop, void *in,
                          int *conf_state, void *out)
{
	om_uint32 (*f)(om_uint32 *, void *, int, om_uint32, void *, int *, void *) =
		GSS_SYM("gss_wrap");

	return f != NULL ? f(minor, ctx, conf_req, qop, in, conf_state, out) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_unwrap(om_uint32 *minor, void *ctx, void *in, void *out, int *conf_state,
                            om_uint32 *qop)
{
	om_uint32 (*f)(om_uint32 *, void *, void *, void *, int *, om_uint32 *) =
		GSS_SYM("gss_unwrap");

	return f != NULL ? f(minor, ctx, in, out, conf_state, qop) : GSS_FAILURE;
}

HIDDEN om_uint32 gss_wrap_size_limit(om_uint32 *minor, void *ctx, int conf_req, om_uint32 qop,
                                     om_uint32 size, om_uint32 *max_input)
{
	om_uint32 (*f)(om_uint32 *, void *, int, om_uint32, om_uint32, om_uint32 *) =
		GSS_SYM("gss_wrap_size_limit");

	return f != NULL ? f(minor, ctx, conf_req, qop, size, max_input) : GSS_FAILURE;
}

/* LDAP: what libpq's service lookup (ldapServiceLookup) calls, in its order. */
HIDDEN void *ldap_init(const char *host, int port)
{
	void *(*f)(const char *, int) = LDAP_SYM("ldap_init");

	return f != NULL ? f(host, port) : NULL;
}

HIDDEN int ldap_set_option(void *ld, int option, const void *value)
{
	int (*f)(void *, int, const void *) = LDAP_SYM("ldap_set_option");

	return f != NULL ? f(ld, option, value) : LDAP_LOCAL_ERROR;
}

HIDDEN int ldap_simple_bind(void *ld, const char *who, const char *password)
{
	int (*f)(void *, const char *, const char *) = LDAP_SYM("ldap_simple_bind");

	return f != NULL ? f(ld, who, password) : -1;
}

HIDDEN int ldap_result(void *ld, int msgid, int all, void *timeout, void **result)
{
	int (*f)(void *, int, int, void *, void **) = LDAP_SYM("ldap_result");

	return f != NULL ? f(ld, msgid, all, timeout, result) : -1;
}

HIDDEN int ldap_search_st(void *ld, const char *base, int scope, const char *filter,
                          char **attrs, int attrsonly, void *timeout, void **result)
{
	int (*f)(void *, const char *, int, const char *, char **, int, void *, void **) =
		LDAP_SYM("ldap_search_st");

	return f != NULL ? f(ld, base, scope, filter, attrs, attrsonly, timeout, result)
	                 : LDAP_LOCAL_ERROR;
}

HIDDEN int ldap_count_entries(void *ld, void *chain)
{
	int (*f)(void *, void *) = LDAP_SYM("ldap_count_entries");

	return f != NULL ? f(ld, chain) : -1;
}

HIDDEN void *ldap_first_entry(void *ld, void *chain)
{
	void *(*f)(void *, void *) = LDAP_SYM("ldap_first_entry");

	return f != NULL ? f(ld, chain) : NULL;
}

HIDDEN void **ldap_get_values_len(void *ld, void *entry, const char *attr)
{
	void **(*f)(void *, void *, const char *) = LDAP_SYM("ldap_get_values_len");

	return f != NULL ? f(ld, entry, attr) : NULL;
}

HIDDEN void ldap_value_free_len(void **values)
{
	void (*f)(void **) = LDAP_SYM("ldap_value_free_len");

	if (f != NULL)
		f(values);
}

HIDDEN int ldap_msgfree(void *msg)
{
	int (*f)(void *) = LDAP_SYM("ldap_msgfree");

	return f != NULL ? f(msg) : -1;
}

HIDDEN int ldap_unbind(void *ld)
{
	int (*f)(void *) = LDAP_SYM("ldap_unbind");

	return f != NULL ? f(ld) : LDAP_LOCAL_ERROR;
}

HIDDEN char *ldap_err2string(int err)
{
	char *(*f)(int) = LDAP_SYM("ldap_err2string");

	return f != NULL ? f(err) : "the LDAP library could not be loaded";
}
