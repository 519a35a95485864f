/* test_ldap.c — tf_ldap_login() against a real OpenLDAP slapd that this test sets up and starts
 * itself (tests/integration/slapd_helper.h: generated CA, certificates, slapd.conf and
 * directory; slapd on 127.0.0.1 with free ports for ldap:// (StartTLS) and ldaps://). No system
 * slapd service is used. test_ldap_http.c logs in through `tafel serve` against the same set-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/auth_ldap.h"
#include "server/config.h"
#include "tests/integration/slapd_helper.h"

static int setup_all(void **state)
{
    return slapd_helper_start("test_ldap");
}

static int teardown_all(void **state)
{
    stop_slapd();
    return 0;
}

/* Config for LDAPS with a bind-DN template and the "disabled" filter. */
static void cfg_ldaps(tf_config_t *c)
{
    tf_config_defaults(c);
    snprintf(c->ldap_uri, sizeof(c->ldap_uri), "ldaps://127.0.0.1:%d", port_tls);
    snprintf(c->ldap_base_dn, sizeof(c->ldap_base_dn), "%s", BASE);
    snprintf(c->ldap_bind_dn_template, sizeof(c->ldap_bind_dn_template), "uid=%%s,ou=people,%s",
             BASE);
    snprintf(c->ldap_filter, sizeof(c->ldap_filter), "%s", DISABLED_FILTER);
    snprintf(c->ldap_ca_file, sizeof(c->ldap_ca_file), "%s/ca.pem", work);
    c->ldap_timeout_ms = 3000;
}

/* Config for StartTLS with search-then-bind through a search account. */
static void cfg_starttls_search(tf_config_t *c)
{
    cfg_ldaps(c);
    snprintf(c->ldap_uri, sizeof(c->ldap_uri), "ldap://127.0.0.1:%d", port_plain);
    c->ldap_starttls = 1;
    c->ldap_bind_dn_template[0] = '\0';
    snprintf(c->ldap_search_dn, sizeof(c->ldap_search_dn), "cn=admin,%s", BASE);
    snprintf(c->ldap_search_password_file, sizeof(c->ldap_search_password_file),
             "%s/search-password", work);
    assert_int_equal(write_file("search-password", "admin-secret\n"), 0);
}

static int login(const tf_config_t *c, const char *email, const char *pw, tf_identity_t *id,
                 char *err, size_t errlen)
{
    memset(id, 0, sizeof(*id));
    int rc = tf_ldap_login(c, email, pw, id, err, errlen);
    printf("  %-36s -> %d%s%s\n", email, rc, rc ? ": " : "", rc ? err : "");
    return rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check_modes(tf_config_t *c, const char *mode)
{
    tf_identity_t id;
    char err[512] = "";
    double t0 = now_ms();
    int rc = login(c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", mode, err);
    assert_int_equal(rc, 0);
    printf("%s: login took %.1f ms\n", mode, now_ms() - t0);
    assert_string_equal(id.email, "anna.lehrerin@school.test");
    assert_string_equal(id.name, "Anna Lehrerin");
    /* The e-mail's case does not matter. */
    assert_int_equal(login(c, "ANNA.Lehrerin@School.Test", "Anna-pw-1", &id, err, sizeof(err)), 0);
    assert_string_equal(id.email, "anna.lehrerin@school.test");

    /* Wrong password, unknown user, empty password (an unauthenticated bind). */
    assert_int_equal(login(c, "anna.lehrerin@school.test", "anna-pw-1", &id, err, sizeof(err)),
                     -EACCES);
    assert_string_equal(id.email, "");
    assert_null(strstr(err, "anna-pw-1"));
    assert_int_equal(login(c, "nobody@school.test", "Anna-pw-1", &id, err, sizeof(err)), -EACCES);
    assert_int_equal(login(c, "anna.lehrerin@school.test", "", &id, err, sizeof(err)), -EACCES);
    /* Disabled in the directory: right password, but the entry fails ldap-filter. */
    assert_int_equal(login(c, "bernd@school.test", "Bernd-pw-2", &id, err, sizeof(err)), -EACCES);
    assert_string_equal(id.email, "");
    /* Filter and DN injection. */
    assert_int_equal(login(c, "*@school.test", "Anna-pw-1", &id, err, sizeof(err)), -EACCES);
    assert_int_equal(login(c, "anna*@school.test", "Anna-pw-1", &id, err, sizeof(err)), -EACCES);
    assert_int_equal(
        login(c, "anna.lehrerin,ou=people@school.test", "Anna-pw-1", &id, err, sizeof(err)),
        -EACCES);
    /* Two entries with one e-mail. */
    assert_int_equal(login(c, "twin@school.test", "Anna-pw-1", &id, err, sizeof(err)), -EACCES);
}

static void test_ldaps_bind_template(void **state)
{
    tf_config_t c;
    cfg_ldaps(&c);
    check_modes(&c, "ldaps + bind template");
    /* The same account can be re-enabled by the filter alone: without the disabled rule the
     * default filter lets bernd in, proving the refusal above came from the directory data. */
    snprintf(c.ldap_filter, sizeof(c.ldap_filter), "(mail=%%s)");
    tf_identity_t id;
    char err[512];
    assert_int_equal(login(&c, "bernd@school.test", "Bernd-pw-2", &id, err, sizeof(err)), 0);
    assert_string_equal(id.name, "Bernd Ehemalig");
}

static void test_starttls_search_then_bind(void **state)
{
    tf_config_t c;
    cfg_starttls_search(&c);
    check_modes(&c, "starttls + search-then-bind");
    /* A wrong search-account password is a configuration error, not a teacher's. */
    assert_int_equal(write_file("search-password", "wrong\n"), 0);
    tf_identity_t id;
    char err[512];
    assert_int_equal(login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err)),
                     -EIO);
    /* Anonymous search (no ldap-search-dn) works with this directory's ACL. */
    c.ldap_search_dn[0] = '\0';
    assert_int_equal(login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err)), 0);
}

static void test_tls_is_enforced(void **state)
{
    tf_config_t c;
    tf_identity_t id;
    char err[512];
    /* Plain ldap:// is refused unless ldap-insecure (tests only) says otherwise. */
    cfg_ldaps(&c);
    snprintf(c.ldap_uri, sizeof(c.ldap_uri), "ldap://127.0.0.1:%d", port_plain);
    assert_int_equal(login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err)),
                     -EINVAL);
    c.ldap_insecure = 1;
    assert_int_equal(login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err)), 0);
    /* A certificate from a CA we do not trust: no login, over LDAPS nor StartTLS. */
    cfg_ldaps(&c);
    snprintf(c.ldap_ca_file, sizeof(c.ldap_ca_file), "%s/other-ca.pem", work);
    int rc = login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err));
    assert_true(rc == -EHOSTUNREACH || rc == -EIO);
    cfg_starttls_search(&c);
    snprintf(c.ldap_ca_file, sizeof(c.ldap_ca_file), "%s/other-ca.pem", work);
    rc = login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err));
    assert_true(rc == -EHOSTUNREACH || rc == -EIO);
    assert_string_equal(id.email, "");
}

static void test_directory_down(void **state)
{
    tf_config_t c;
    cfg_ldaps(&c);
    stop_slapd();
    tf_identity_t id;
    char err[512] = "";
    double t0 = now_ms();
    int rc = login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err));
    double took = now_ms() - t0;
    printf("directory down: %d (%s) after %.1f ms\n", rc, err, took);
    assert_int_equal(rc, -EHOSTUNREACH);
    assert_true(took < c.ldap_timeout_ms + 1000);
    cfg_starttls_search(&c);
    assert_int_equal(login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err)),
                     -EHOSTUNREACH);
    /* A directory that accepts the connection and then never answers: the timeout holds. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    for (int mode = 0; mode < 2; mode++) {
        if (mode == 0) {
            cfg_ldaps(&c);
            snprintf(c.ldap_uri, sizeof(c.ldap_uri), "ldaps://127.0.0.1:%d", ntohs(a.sin_port));
        } else {
            cfg_starttls_search(&c);
            snprintf(c.ldap_uri, sizeof(c.ldap_uri), "ldap://127.0.0.1:%d", ntohs(a.sin_port));
        }
        c.ldap_timeout_ms = 500;
        t0 = now_ms();
        rc = login(&c, "anna.lehrerin@school.test", "Anna-pw-1", &id, err, sizeof(err));
        took = now_ms() - t0;
        printf("silent directory (%s): %d after %.1f ms\n", mode ? "StartTLS" : "LDAPS", rc, took);
        assert_true(rc == -EHOSTUNREACH || rc == -EIO);
        assert_true(took < 3 * c.ldap_timeout_ms);
    }
    close(lfd);
    /* Unconfigured LDAP is an error of its own. */
    tf_config_defaults(&c);
    assert_int_equal(login(&c, "a@b.test", "x", &id, err, sizeof(err)), -EINVAL);
}

int main(int argc, char **argv)
{
    snprintf(work, sizeof(work), "%s", argc > 1 ? argv[1] : "/tmp/tafel-test-ldap");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ldaps_bind_template),
        cmocka_unit_test(test_starttls_search_then_bind), cmocka_unit_test(test_tls_is_enforced),
        cmocka_unit_test(test_directory_down), /* last: it stops slapd */
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
