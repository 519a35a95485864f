/* test_ldap.c — tf_ldap_login() against a real OpenLDAP slapd that this test sets up and starts
 * itself: a generated CA and server certificate (openssl), a generated slapd.conf with an mdb
 * database in the work folder, teachers with {SSHA} passwords (slappasswd), slapd on 127.0.0.1
 * with free ports for ldap:// (StartTLS) and ldaps://. No system slapd service is used.
 * Needs: slapd, ldap-utils (slapadd, slappasswd), openssl (deploy/install-deps.sh). */
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

#define BASE "dc=school,dc=test"
#define DISABLED_FILTER "(&(mail=%s)(!(employeeType=disabled)))"

static char work[400];
static int port_plain, port_tls;
static pid_t slapd_pid = -1;

static int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int write_file(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", work, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* A port the kernel just handed out on 127.0.0.1 (closed again; slapd binds it right after). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int ssha(const char *password, char *out, size_t outlen)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "slappasswd -h '{SSHA}' -s '%s'", password);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fgets(out, (int)outlen, p) != NULL;
    int st = pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return ok && st == 0 && !strncmp(out, "{SSHA}", 6) ? 0 : -1;
}

static int make_certs(void)
{
    if (write_file("openssl.cnf",
                   "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
                   "[v3_ca]\nbasicConstraints = critical,CA:TRUE\n"
                   "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
                   "[v3_srv]\nbasicConstraints = CA:FALSE\n"
                   "keyUsage = critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage = serverAuth\n"
                   "subjectAltName = IP:127.0.0.1,DNS:localhost\n") < 0)
        return -1;
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    /* The school's CA, the directory's certificate, and a second CA nobody trusts. */
    for (int i = 0; i < 2; i++)
        if (run("cd '%s' && openssl req -x509 -config openssl.cnf -extensions v3_ca %s "
                "-keyout %s.key -out %s.pem -days 2 -subj '/CN=Tafel test CA %d' 2>/dev/null",
                work, ec, i ? "other-ca" : "ca", i ? "other-ca" : "ca", i) != 0)
            return -1;
    return run("cd '%s' && openssl req -new -config openssl.cnf %s -keyout server.key "
               "-out server.csr -subj '/CN=127.0.0.1' 2>/dev/null && "
               "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
               "-out server.pem -days 2 -extfile openssl.cnf -extensions v3_srv 2>/dev/null",
               work, ec) == 0
               ? 0
               : -1;
}

static int make_directory(void)
{
    char root[128], anna[128], bernd[128], text[8192];
    if (ssha("admin-secret", root, sizeof(root)) < 0 || ssha("Anna-pw-1", anna, sizeof(anna)) < 0 ||
        ssha("Bernd-pw-2", bernd, sizeof(bernd)) < 0)
        return -1;
    snprintf(text, sizeof(text),
             "include /etc/ldap/schema/core.schema\n"
             "include /etc/ldap/schema/cosine.schema\n"
             "include /etc/ldap/schema/inetorgperson.schema\n"
             "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
             "pidfile %s/slapd.pid\nargsfile %s/slapd.args\n"
             "TLSCACertificateFile %s/ca.pem\n"
             "TLSCertificateFile %s/server.pem\n"
             "TLSCertificateKeyFile %s/server.key\n"
             "database mdb\nmaxsize 16777216\nsuffix \"" BASE "\"\n"
             "rootdn \"cn=admin," BASE "\"\nrootpw %s\ndirectory %s/db\n"
             "access to attrs=userPassword by anonymous auth by self read by * none\n"
             "access to * by * read\n",
             work, work, work, work, work, root, work);
    if (write_file("slapd.conf", text) < 0)
        return -1;
    snprintf(text, sizeof(text),
             "dn: " BASE "\nobjectClass: dcObject\nobjectClass: organization\ndc: school\n"
             "o: Test School\n\n"
             "dn: ou=people," BASE "\nobjectClass: organizationalUnit\nou: people\n\n"
             "dn: uid=anna.lehrerin,ou=people," BASE "\nobjectClass: inetOrgPerson\n"
             "uid: anna.lehrerin\ncn: Anna Lehrerin\nsn: Lehrerin\n"
             "mail: Anna.Lehrerin@school.test\nemployeeType: teacher\nuserPassword: %s\n\n"
             "dn: uid=bernd,ou=people," BASE "\nobjectClass: inetOrgPerson\n"
             "uid: bernd\ncn: Bernd Ehemalig\nsn: Ehemalig\nmail: bernd@school.test\n"
             "employeeType: disabled\nuserPassword: %s\n\n"
             /* Two entries sharing one e-mail: must never log anybody in. */
             "dn: uid=twin1,ou=people," BASE "\nobjectClass: inetOrgPerson\nuid: twin1\n"
             "cn: Twin\nsn: One\nmail: twin@school.test\nuserPassword: %s\n\n"
             "dn: uid=twin2,ou=people," BASE "\nobjectClass: inetOrgPerson\nuid: twin2\n"
             "cn: Twin\nsn: Two\nmail: twin@school.test\nuserPassword: %s\n",
             anna, bernd, anna, anna);
    if (write_file("entries.ldif", text) < 0)
        return -1;
    return run("mkdir -p '%s/db' && slapadd -q -f '%s/slapd.conf' -l '%s/entries.ldif' "
               ">'%s/slapadd.log' 2>&1",
               work, work, work, work) == 0
               ? 0
               : -1;
}

static int start_slapd(void)
{
    port_plain = free_port();
    port_tls = free_port();
    if (port_plain < 0 || port_tls < 0 || port_plain == port_tls)
        return -1;
    char urls[256], conf[1024], log[1024];
    snprintf(urls, sizeof(urls), "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", port_plain,
             port_tls);
    snprintf(conf, sizeof(conf), "%s/slapd.conf", work);
    snprintf(log, sizeof(log), "%s/slapd.log", work);
    slapd_pid = fork();
    if (slapd_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        /* "-d 0": stay in the foreground (so this test owns the process) and log nothing. */
        execlp("slapd", "slapd", "-f", conf, "-h", urls, "-d", "0", (char *)NULL);
        _exit(127);
    }
    if (slapd_pid < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        if (port_open(port_plain) && port_open(port_tls))
            return 0;
        int st;
        if (waitpid(slapd_pid, &st, WNOHANG) == slapd_pid) {
            slapd_pid = -1;
            fprintf(stderr, "slapd exited, see %s\n", log);
            return -1;
        }
        usleep(50 * 1000);
    }
    return -1;
}

static void stop_slapd(void)
{
    if (slapd_pid > 0) {
        kill(slapd_pid, SIGTERM);
        waitpid(slapd_pid, NULL, 0);
        slapd_pid = -1;
    }
}

static int setup_all(void **state)
{
    if (run("command -v slapd >/dev/null && command -v slapadd >/dev/null && "
            "command -v slappasswd >/dev/null && command -v openssl >/dev/null") != 0) {
        fprintf(stderr, "test_ldap: slapd, ldap-utils and openssl are needed "
                        "(deploy/install-deps.sh installs them)\n");
        return -1;
    }
    if (run("rm -rf '%s' && mkdir -p '%s'", work, work) != 0 || make_certs() < 0 ||
        make_directory() < 0 || start_slapd() < 0) {
        fprintf(stderr, "test_ldap: could not set up slapd in %s\n", work);
        stop_slapd();
        return -1;
    }
    return 0;
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
