/* slapd_helper.h — a real OpenLDAP slapd for integration tests, set up and started by the test
 * itself in its work folder: a generated CA and server certificate (openssl), a generated
 * slapd.conf with an mdb database, teachers with {SSHA} passwords (slappasswd), slapd on
 * 127.0.0.1 with free ports for ldap:// (StartTLS) and ldaps://. No system slapd service is used.
 * Header-only (one includer per test binary): the including file sets `work` before
 * slapd_helper_start(). Needs slapd, ldap-utils (slapadd, slappasswd), openssl
 * (deploy/install-deps.sh).
 *
 * The directory under BASE: anna.lehrerin (Anna.Lehrerin@school.test, "Anna-pw-1", a teacher),
 * bernd (bernd@school.test, "Bernd-pw-2", employeeType=disabled, refused by DISABLED_FILTER),
 * twin1/twin2 sharing twin@school.test; the admin DN cn=admin,BASE with "admin-secret". */
#ifndef TF_TEST_SLAPD_HELPER_H
#define TF_TEST_SLAPD_HELPER_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/http_helper.h"
#include "tests/integration/run_helper.h"

#define BASE "dc=school,dc=test"
#define DISABLED_FILTER "(&(mail=%s)(!(employeeType=disabled)))"

static char work[400];
static int port_plain, port_tls;
static pid_t slapd_pid = -1;

static inline int write_file(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", work, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static inline int port_open(int port)
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

static inline int ssha(const char *password, char *out, size_t outlen)
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

static inline int make_certs(void)
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

static inline int make_directory(void)
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

static inline int start_slapd(void)
{
    port_plain = th_free_port(SOCK_STREAM); /* slapd binds them right after */
    port_tls = th_free_port(SOCK_STREAM);
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

static inline void stop_slapd(void)
{
    if (slapd_pid > 0) {
        kill(slapd_pid, SIGTERM);
        waitpid(slapd_pid, NULL, 0);
        slapd_pid = -1;
    }
}

/* Checks the tools, then makes certificates and directory in `work` (emptied first) and starts
 * slapd. who names the test in messages. 0, or -1 with slapd stopped. */
static inline int slapd_helper_start(const char *who)
{
    if (run("command -v slapd >/dev/null && command -v slapadd >/dev/null && "
            "command -v slappasswd >/dev/null && command -v openssl >/dev/null") != 0) {
        fprintf(stderr,
                "%s: slapd, ldap-utils and openssl are needed "
                "(deploy/install-deps.sh installs them)\n",
                who);
        return -1;
    }
    if (run("rm -rf '%s' && mkdir -p '%s'", work, work) != 0 || make_certs() < 0 ||
        make_directory() < 0 || start_slapd() < 0) {
        fprintf(stderr, "%s: could not set up slapd in %s\n", who, work);
        stop_slapd();
        return -1;
    }
    return 0;
}

#endif
