/* test_config_auth.c — the LDAP/OIDC settings of config.c: parsing, defaults, and the start-up
 * check that refuses LDAP settings that cannot work (clear-text passwords, missing parts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "server/config.h"

static void set(tf_config_t *c, const char *k, const char *v)
{
    char err[256];
    if (tf_config_set(c, k, v, err, sizeof(err)) != 0) {
        print_error("%s\n", err);
        fail();
    }
}

static int check(const tf_config_t *c)
{
    char err[256];
    return tf_config_check(c, err, sizeof(err));
}

static void test_defaults_and_parsing(void **state)
{
    tf_config_t c;
    tf_config_defaults(&c);
    assert_string_equal(c.ldap_filter, "(mail=%s)");
    assert_string_equal(c.ldap_mail_attr, "mail");
    assert_string_equal(c.ldap_name_attr, "cn");
    assert_int_equal(c.ldap_timeout_ms, 5000);
    assert_int_equal(c.log_personal_data, 0);
    assert_int_equal(check(&c), 0); /* LDAP off: nothing to check */
    set(&c, "ldap-timeout-ms", "250");
    set(&c, "log-personal-data", "on");
    set(&c, "oidc-issuer", "https://idp.example");
    assert_int_equal(c.ldap_timeout_ms, 250);
    assert_int_equal(c.log_personal_data, 1);
    assert_string_equal(c.oidc_issuer, "https://idp.example");
    char err[256];
    assert_int_equal(tf_config_set(&c, "ldap-timeout-ms", "5", err, sizeof(err)), -EINVAL);
}

static void test_ldap_check(void **state)
{
    tf_config_t c;
    tf_config_defaults(&c);
    set(&c, "ldap-uri", "ldaps://dc.example");
    assert_int_equal(check(&c), -EINVAL); /* no base DN */
    set(&c, "ldap-base-dn", "dc=example");
    assert_int_equal(check(&c), 0);
    set(&c, "ldap-uri", "ldap://dc.example");
    assert_int_equal(check(&c), -EINVAL); /* clear text */
    set(&c, "ldap-insecure", "on");
    assert_int_equal(check(&c), -EINVAL); /* clear text to another machine: never */
    set(&c, "ldap-uri", "ldap://127.0.0.1:3389");
    assert_int_equal(check(&c), 0); /* a test directory on this machine */
    set(&c, "ldap-insecure", "off");
    assert_int_equal(check(&c), -EINVAL);
    set(&c, "ldap-uri", "ldap://dc.example");
    set(&c, "ldap-starttls", "on");
    assert_int_equal(check(&c), 0);
    set(&c, "ldap-uri", "http://dc.example");
    assert_int_equal(check(&c), -EINVAL);
    set(&c, "ldap-uri", "ldaps://dc.example");
    set(&c, "ldap-filter", "(mail=*)");
    assert_int_equal(check(&c), -EINVAL);
    set(&c, "ldap-filter", "(&(mail=%s)(!(employeeType=disabled)))");
    set(&c, "ldap-bind-dn-template", "uid=fixed,dc=example");
    assert_int_equal(check(&c), -EINVAL);
    set(&c, "ldap-bind-dn-template", "");
    set(&c, "ldap-search-dn", "cn=svc,dc=example");
    assert_int_equal(check(&c), -EINVAL);
    set(&c, "ldap-search-password-file", "/etc/tafel/ldap-password");
    assert_int_equal(check(&c), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_parsing),
        cmocka_unit_test(test_ldap_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
