/* config.c — `tafel serve` settings: defaults, "key = value" files, overrides. No I/O beyond
 * reading the named config file. */
#include "server/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { OPT_STR, OPT_INT, OPT_BOOL } opt_type_t;

typedef struct opt {
    const char *key;
    opt_type_t type;
    size_t offset, size;
    int min, max;
    const char *help;
} opt_t;

#define STR(k, f, h) {k, OPT_STR, offsetof(tf_config_t, f), sizeof(((tf_config_t *)0)->f), 0, 0, h}
#define INT(k, f, lo, hi, h) {k, OPT_INT, offsetof(tf_config_t, f), sizeof(int), lo, hi, h}
#define BOOL(k, f, h) {k, OPT_BOOL, offsetof(tf_config_t, f), sizeof(int), 0, 1, h}

static const opt_t opts[] = {
    STR("http-addr", http_addr, "address for HTTP(S) and WebSocket (default 127.0.0.1)"),
    INT("http-port", http_port, 1, 65535, "TCP port for HTTP(S) (default 8443)"),
    BOOL("tls", tls, "serve HTTPS (default on; off for tests or behind a TLS proxy)"),
    STR("tls-cert", tls_cert, "PEM certificate (default: self-signed in data-dir)"),
    STR("tls-key", tls_key, "PEM private key for tls-cert"),
    STR("media-addr", media_addr, "UDP address for media (default 127.0.0.1)"),
    INT("media-port", media_port, 1, 65535, "UDP port shared by every session (default 8443)"),
    STR("public-addr", public_addr, "address announced in ICE candidates (default media-addr)"),
    STR("data-dir", data_dir, "folder for certificates and data (default ./tafel-data)"),
    INT("max-sessions", max_sessions, 1, 100000, "sessions on this server (default 500)"),
    INT("max-room", max_room, 1, 1000, "participants per room (default 50)"),
    INT("max-body", max_body, 1024, 1048576, "largest HTTP request body in bytes (default 65536)"),
    BOOL("auth", auth, "require authentication (default off: development mode)"),
    INT("log-level", log_level, 0, 3, "0 errors, 1 warnings, 2 info (default), 3 debug"),
    INT("workers", workers, 0, 256, "media worker threads (default 0: one per core)"),
    STR("ldap-uri", ldap_uri, "LDAP directory for teacher login: ldaps://host (default off)"),
    BOOL("ldap-starttls", ldap_starttls, "use StartTLS on an ldap:// URI"),
    BOOL("ldap-insecure", ldap_insecure, "allow plain ldap:// without TLS (tests only)"),
    STR("ldap-base-dn", ldap_base_dn, "LDAP subtree where teachers are looked up"),
    STR("ldap-bind-dn-template", ldap_bind_dn_template, "bind DN, %s = e-mail local part"),
    STR("ldap-search-dn", ldap_search_dn, "search-then-bind: DN of a search account"),
    STR("ldap-search-password-file", ldap_search_password_file, "file with its password"),
    STR("ldap-filter", ldap_filter, "LDAP filter, %s = e-mail (default (mail=%s))"),
    STR("ldap-mail-attr", ldap_mail_attr, "attribute with the e-mail (default mail)"),
    STR("ldap-name-attr", ldap_name_attr, "attribute with the display name (default cn)"),
    STR("ldap-ca-file", ldap_ca_file, "PEM CA certificates for the directory"),
    INT("ldap-timeout-ms", ldap_timeout_ms, 100, 120000, "LDAP timeout (default 5000)"),
    STR("oidc-issuer", oidc_issuer, "OpenID Connect issuer for teacher login (default off)"),
    STR("oidc-client-id", oidc_client_id, "OpenID Connect client id (the token audience)"),
    STR("oidc-jwks-file", oidc_jwks_file, "the provider's JWKS as a local file"),
    STR("oidc-authorize-url", oidc_authorize_url, "the provider's authorization endpoint"),
    BOOL("log-personal-data", log_personal_data, "log full IPs and names (default off)"),
    STR("support-emails", support_emails, "accounts that may open the support view (comma list)"),
    INT("audit-retention-days", audit_retention_days, 0, 3650,
        "days moderation audit events are kept (default 30; 0: none kept)"),
    BOOL("bench-per-member-encoders", bench_per_member_encoders,
         "benchmarks only: one video encoder per receiver (default off)"),
};

void tf_config_defaults(tf_config_t *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->http_addr, sizeof(c->http_addr), "127.0.0.1");
    c->http_port = 8443;
    c->tls = 1;
    snprintf(c->media_addr, sizeof(c->media_addr), "127.0.0.1");
    c->media_port = 8443;
    snprintf(c->data_dir, sizeof(c->data_dir), "tafel-data");
    c->max_sessions = 500;
    c->max_room = 50;
    c->max_body = 65536;
    c->log_level = 2;
    snprintf(c->ldap_filter, sizeof(c->ldap_filter), "(mail=%%s)");
    snprintf(c->ldap_mail_attr, sizeof(c->ldap_mail_attr), "mail");
    snprintf(c->ldap_name_attr, sizeof(c->ldap_name_attr), "cn");
    c->ldap_timeout_ms = 5000;
    c->audit_retention_days = 30; /* TF_STORE_AUDIT_RETENTION_DAYS */
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
        *out = 0;
    else
        return -EINVAL;
    return 0;
}

int tf_config_set(tf_config_t *c, const char *key, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const opt_t *o = &opts[i];
        if (strcmp(o->key, key) != 0)
            continue;
        char *field = (char *)c + o->offset;
        if (o->type == OPT_STR) {
            if (strlen(value) >= o->size) {
                snprintf(err, errlen, "%s: value too long (at most %zu bytes)", key, o->size - 1);
                return -EINVAL;
            }
            memcpy(field, value, strlen(value) + 1);
            return 0;
        }
        int v;
        if (o->type == OPT_BOOL) {
            if (parse_bool(value, &v) < 0) {
                snprintf(err, errlen, "%s: want on/off, not '%s'", key, value);
                return -EINVAL;
            }
        } else {
            char *end = NULL;
            long l = strtol(value, &end, 10);
            if (!*value || *end || l < o->min || l > o->max) {
                snprintf(err, errlen, "%s: want a number %d..%d, not '%s'", key, o->min, o->max,
                         value);
                return -EINVAL;
            }
            v = (int)l;
        }
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    snprintf(err, errlen, "unknown setting '%s'", key);
    return -EINVAL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int tf_config_load(tf_config_t *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    char line[1024], msg[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -EINVAL;
            break;
        }
        *eq = '\0';
        if (tf_config_set(c, trim(s), trim(eq + 1), msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -EINVAL;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strcmp(addr, "localhost") == 0;
}

/* LDAP settings that cannot work, caught at start-up rather than at the first teacher's login. */
static int check_ldap(const tf_config_t *c, char *err, size_t errlen)
{
    if (!c->ldap_uri[0])
        return 0;
    const char *why = NULL;
    if (strncasecmp(c->ldap_uri, "ldaps://", 8) != 0 && strncasecmp(c->ldap_uri, "ldap://", 7))
        why = "ldap-uri must start with ldaps:// or ldap://";
    else if (!strncasecmp(c->ldap_uri, "ldap://", 7) && !c->ldap_starttls && !c->ldap_insecure)
        why = "ldap:// sends passwords in clear text: use ldaps:// or ldap-starttls = on";
    else if (!strncasecmp(c->ldap_uri, "ldap://", 7) && !c->ldap_starttls &&
             strncmp(c->ldap_uri + 7, "127.", 4) && strncasecmp(c->ldap_uri + 7, "localhost", 9) &&
             strncmp(c->ldap_uri + 7, "[::1]", 5))
        why = "ldap-insecure is for a test directory on this machine only (127.x, localhost)";
    else if (!c->ldap_base_dn[0])
        why = "ldap-uri needs ldap-base-dn";
    else if (!strstr(c->ldap_filter, "%s"))
        why = "ldap-filter needs %s (the e-mail)";
    else if (c->ldap_bind_dn_template[0] && !strstr(c->ldap_bind_dn_template, "%s"))
        why = "ldap-bind-dn-template needs %s (the e-mail's local part)";
    else if (c->ldap_search_dn[0] && !c->ldap_search_password_file[0])
        why = "ldap-search-dn needs ldap-search-password-file";
    if (!why)
        return 0;
    snprintf(err, errlen, "%s", why);
    return -EINVAL;
}

int tf_config_check(const tf_config_t *c, char *err, size_t errlen)
{
    if (!c->auth && (!is_loopback(c->http_addr) || !is_loopback(c->media_addr))) {
        snprintf(err, errlen,
                 "binding a non-loopback address (%s, %s) needs 'auth = on' in a config file: "
                 "development mode lets anyone join any room",
                 c->http_addr, c->media_addr);
        return -EPERM;
    }
    if (!!c->tls_cert[0] != !!c->tls_key[0]) {
        snprintf(err, errlen, "tls-cert and tls-key go together");
        return -EINVAL;
    }
    return check_ldap(c, err, errlen);
}

void tf_config_print_help(void)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        printf("  --%-14s %-6s %s\n", opts[i].key,
               opts[i].type == OPT_STR ? "STR" : opts[i].type == OPT_INT ? "N" : "on|off",
               opts[i].help);
}
