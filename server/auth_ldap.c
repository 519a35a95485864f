/* auth_ldap.c — teacher login against an LDAP directory with OpenLDAP's libldap: simple bind as
 * the user over LDAPS or StartTLS, then the user's entry must match ldap-filter. Blocking; one
 * connection per call, no pooling, no caching of results or passwords. */
#include "server/auth_ldap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/time.h>

#include <ldap.h>

#define TF_LDAP_MAX_PASSWORD 1024

static int say(char *err, size_t errlen, int rc, const char *fmt, const char *detail)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, detail ? detail : "");
    return rc;
}

/* LDAP result code -> our errno: credentials are -EACCES, a directory we cannot talk to is
 * -EHOSTUNREACH, everything else (protocol, TLS negotiation, server-side errors) is -EIO. */
static int map_ldap(int lrc)
{
    switch (lrc) {
    case LDAP_INVALID_CREDENTIALS:
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_UNWILLING_TO_PERFORM: /* e.g. a locked account under ppolicy */
    case LDAP_NO_SUCH_OBJECT:
        return -EACCES;
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_TIMEOUT:
    case LDAP_UNAVAILABLE:
    case LDAP_BUSY:
        return -EHOSTUNREACH;
    default:
        return -EIO;
    }
}

static int ldap_fail(LDAP *ld, int lrc, const char *what, char *err, size_t errlen)
{
    char *diag = NULL;
    if (ld)
        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    if (err && errlen)
        snprintf(err, errlen, "LDAP %s: %s%s%s", what, ldap_err2string(lrc),
                 diag && *diag ? "; " : "", diag && *diag ? diag : "");
    ldap_memfree(diag);
    return map_ldap(lrc);
}

/* RFC 4515 section 3: escapes a value for use inside a search filter. */
static int filter_escape(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int special = *p == '*' || *p == '(' || *p == ')' || *p == '\\' || *p < 0x20;
        size_t need = special ? 3 : 1;
        if (o + need >= outlen)
            return -ENOBUFS;
        if (special)
            o += (size_t)snprintf(out + o, outlen - o, "\\%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
    return 0;
}

/* RFC 4514 section 2.4: escapes an attribute value for use inside a DN. */
static int dn_escape(const char *in, char *out, size_t outlen)
{
    size_t o = 0, n = strlen(in);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        int hex = c < 0x20 || c == 0x7f;
        int esc = strchr(",+\"\\<>;=", c) != NULL || (i == 0 && (c == '#' || c == ' ')) ||
                  (i == n - 1 && c == ' ');
        size_t need = hex ? 3 : esc ? 2 : 1;
        if (o + need >= outlen)
            return -ENOBUFS;
        if (hex) {
            o += (size_t)snprintf(out + o, outlen - o, "\\%02x", c);
        } else {
            if (esc)
                out[o++] = '\\';
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return 0;
}

/* Replaces every "%s" in tmpl by value (no printf: the template comes from a config file).
 * Any other '%' is refused so a typo cannot silently build a wrong DN or filter. */
static int substitute(const char *tmpl, const char *value, char *out, size_t outlen)
{
    size_t o = 0, vl = strlen(value);
    int uses = 0;
    for (const char *p = tmpl; *p; p++) {
        if (*p == '%') {
            if (p[1] != 's')
                return -EINVAL;
            if (o + vl >= outlen)
                return -ENOBUFS;
            memcpy(out + o, value, vl);
            o += vl;
            p++;
            uses++;
            continue;
        }
        if (o + 1 >= outlen)
            return -ENOBUFS;
        out[o++] = *p;
    }
    out[o] = '\0';
    return uses ? 0 : -EINVAL;
}

static int read_secret_file(const char *path, char *out, size_t outlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    int ok = fgets(out, (int)outlen, f) != NULL;
    fclose(f);
    if (!ok)
        return -EINVAL;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int simple_bind(LDAP *ld, const char *dn, const char *password)
{
    struct berval cred;
    cred.bv_val = (char *)password;
    cred.bv_len = strlen(password);
    return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

/* libldap's LDAPS handshake reads with blocking I/O and no timeout, so a directory that
 * accepts TCP and then stays silent would hold this thread forever (kernel SO_RCVTIMEO does not
 * help: libldap retries EAGAIN in a busy loop). Right after libldap connects a socket, before
 * any TLS, a small Sockbuf layer is pushed between the TCP and the TLS layers: every read and
 * write first waits with poll() for at most ldap-timeout-ms and fails with ETIMEDOUT after that
 * (test_ldap.c: a silent directory fails after the timeout, not never). */
static int deadline_wait(Sockbuf_IO_Desc *sbiod, short events)
{
    const tf_config_t *cfg = sbiod->sbiod_pvt;
    int fd = -1;
    if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int n;
    do
        n = poll(&p, 1, cfg->ldap_timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

static int deadline_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
    sbiod->sbiod_pvt = arg;
    return 0;
}

static int deadline_remove(Sockbuf_IO_Desc *sbiod)
{
    return 0;
}

static int deadline_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

static ber_slen_t deadline_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    if (deadline_wait(sbiod, POLLIN) < 0)
        return -1;
    return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
}

static ber_slen_t deadline_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    if (deadline_wait(sbiod, POLLOUT) < 0)
        return -1;
    return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
}

static int deadline_close(Sockbuf_IO_Desc *sbiod)
{
    return 0;
}

static Sockbuf_IO deadline_io = {deadline_setup, deadline_remove, deadline_ctrl,
                                 deadline_read,  deadline_write,  deadline_close};

static int conn_added(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
                      struct ldap_conncb *ctx)
{
    /* Just above the TCP layer (same level would go below it), below TLS. */
    return ber_sockbuf_add_io(sb, &deadline_io, LBER_SBIOD_LEVEL_PROVIDER + 1, ctx->lc_arg);
}

static void conn_closed(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx) {}

/* Opens a connection with TLS as configured: ldaps://, or StartTLS, or (ldap-insecure only)
 * plain. Certificates are always verified (LDAP_OPT_X_TLS_DEMAND). */
static int connect_dir(const tf_config_t *cfg, struct ldap_conncb *cb, LDAP **out, char *err,
                       size_t errlen)
{
    const char *uri = cfg->ldap_uri;
    int ldaps = strncasecmp(uri, "ldaps://", 8) == 0;
    if (!ldaps && strncasecmp(uri, "ldap://", 7) != 0)
        return say(err, errlen, -EINVAL, "ldap-uri must start with ldaps:// or ldap://%s", NULL);
    if (!ldaps && !cfg->ldap_starttls && !cfg->ldap_insecure)
        return say(err, errlen, -EINVAL,
                   "ldap:// without ldap-starttls would send passwords in clear text%s", NULL);
    LDAP *ld = NULL;
    int lrc = ldap_initialize(&ld, uri);
    if (lrc != LDAP_SUCCESS)
        return ldap_fail(NULL, lrc, "initialize", err, errlen);
    int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
    struct timeval tv = {cfg->ldap_timeout_ms / 1000, (cfg->ldap_timeout_ms % 1000) * 1000};
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    /* libldap keeps the pointer: the callback struct lives in the config's call frame. */
    ldap_set_option(ld, LDAP_OPT_CONNECT_CB, cb);
    if (cfg->ldap_ca_file[0])
        ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ldap_ca_file);
    /* Per-handle TLS settings take effect only in a new TLS context for this handle. */
    lrc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    if (lrc != LDAP_SUCCESS && (ldaps || cfg->ldap_starttls)) {
        int rc = ldap_fail(ld, lrc, "TLS setup", err, errlen);
        ldap_unbind_ext_s(ld, NULL, NULL);
        return rc == -EACCES ? -EIO : rc;
    }
    if (!ldaps && cfg->ldap_starttls) {
        lrc = ldap_start_tls_s(ld, NULL, NULL);
        if (lrc != LDAP_SUCCESS) {
            int rc = ldap_fail(ld, lrc, "StartTLS", err, errlen);
            ldap_unbind_ext_s(ld, NULL, NULL);
            return rc == -EACCES ? -EIO : rc;
        }
    }
    *out = ld;
    return 0;
}

static void first_value(LDAP *ld, LDAPMessage *e, const char *attr, const char *prefer, char *out,
                        size_t outlen)
{
    struct berval **vals = ldap_get_values_len(ld, e, attr);
    if (!vals)
        return;
    int pick = 0;
    for (int i = 0; prefer && vals[i]; i++)
        if (vals[i]->bv_len == strlen(prefer) &&
            strncasecmp(vals[i]->bv_val, prefer, vals[i]->bv_len) == 0)
            pick = i;
    if (vals[0]) {
        size_t n = vals[pick]->bv_len < outlen - 1 ? vals[pick]->bv_len : outlen - 1;
        memcpy(out, vals[pick]->bv_val, n);
        out[n] = '\0';
    }
    ldap_value_free_len(vals);
}

/* Searches base (scope) for filter; exactly one entry -> 0 and *res (caller frees); none ->
 * -EACCES; several -> -EACCES too (an ambiguous e-mail must not pick somebody). */
static int search_one(const tf_config_t *cfg, LDAP *ld, const char *base, int scope,
                      const char *filter, LDAPMessage **res, char *err, size_t errlen)
{
    char *attrs[] = {(char *)cfg->ldap_mail_attr, (char *)cfg->ldap_name_attr, NULL};
    struct timeval tv = {cfg->ldap_timeout_ms / 1000, (cfg->ldap_timeout_ms % 1000) * 1000};
    int lrc = ldap_search_ext_s(ld, base, scope, filter, attrs, 0, NULL, NULL, &tv, 2, res);
    if (lrc != LDAP_SUCCESS && lrc != LDAP_SIZELIMIT_EXCEEDED) {
        ldap_msgfree(*res);
        *res = NULL;
        return ldap_fail(ld, lrc, "search", err, errlen);
    }
    int n = ldap_count_entries(ld, *res);
    if (n != 1 || lrc == LDAP_SIZELIMIT_EXCEEDED) {
        ldap_msgfree(*res);
        *res = NULL;
        return say(err, errlen, -EACCES, "%s",
                   n == 0 ? "no matching directory entry (unknown or disabled account)"
                          : "the e-mail matches several directory entries");
    }
    return 0;
}

int tf_ldap_login(const tf_config_t *cfg, const char *email, const char *password,
                  tf_identity_t *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !cfg->ldap_uri[0] || !cfg->ldap_base_dn[0])
        return say(err, errlen, -EINVAL, "LDAP is not configured (ldap-uri, ldap-base-dn)%s", NULL);
    if (!email || !password || !out)
        return say(err, errlen, -EINVAL, "bad arguments%s", NULL);
    const char *at = strchr(email, '@');
    size_t elen = strlen(email);
    if (!at || at == email || !at[1] || elen >= sizeof(out->email))
        return say(err, errlen, -EACCES, "not an e-mail address%s", NULL);
    for (const char *p = email; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return say(err, errlen, -EACCES, "not an e-mail address%s", NULL);
    /* RFC 4513 section 5.1.2: a simple bind with a DN and an empty password is an
     * "unauthenticated bind" that many servers accept. Never let it through. */
    if (!password[0] || strlen(password) > TF_LDAP_MAX_PASSWORD)
        return say(err, errlen, -EACCES, "empty or overlong password%s", NULL);

    char esc_email[3 * 256 + 1], filter[2048], dn[1024];
    if (filter_escape(email, esc_email, sizeof(esc_email)) < 0 ||
        substitute(cfg->ldap_filter, esc_email, filter, sizeof(filter)) < 0)
        return say(err, errlen, -EINVAL, "ldap-filter needs %%s and no other %% (got '%s')",
                   cfg->ldap_filter);

    LDAP *ld = NULL;
    LDAPMessage *res = NULL;
    struct ldap_conncb cb = {conn_added, conn_closed, (void *)cfg};
    int rc = connect_dir(cfg, &cb, &ld, err, errlen);
    if (rc < 0)
        return rc;
    int lrc;
    if (cfg->ldap_bind_dn_template[0]) {
        /* Direct bind: the DN comes from the e-mail's local part; then the user's own entry
         * (scope base, so it cannot be anybody else's) must match the filter. */
        char local[256], esc_local[3 * 256 + 1];
        size_t ll = (size_t)(at - email);
        memcpy(local, email, ll);
        local[ll] = '\0';
        if (dn_escape(local, esc_local, sizeof(esc_local)) < 0 ||
            substitute(cfg->ldap_bind_dn_template, esc_local, dn, sizeof(dn)) < 0) {
            rc = say(err, errlen, -EINVAL, "ldap-bind-dn-template needs %%s (got '%s')",
                     cfg->ldap_bind_dn_template);
            goto out;
        }
        lrc = simple_bind(ld, dn, password);
        if (lrc != LDAP_SUCCESS) {
            rc = ldap_fail(ld, lrc, "bind", err, errlen);
            goto out;
        }
        rc = search_one(cfg, ld, dn, LDAP_SCOPE_BASE, filter, &res, err, errlen);
        if (rc < 0)
            goto out;
    } else {
        /* Search, then bind as what was found. The search runs as the configured search
         * account, or anonymously when ldap-search-dn is empty. */
        if (cfg->ldap_search_dn[0]) {
            char secret[512] = "";
            if (read_secret_file(cfg->ldap_search_password_file, secret, sizeof(secret)) < 0 ||
                !secret[0]) {
                rc = say(err, errlen, -EINVAL, "cannot read ldap-search-password-file '%s'",
                         cfg->ldap_search_password_file);
                goto out;
            }
            lrc = simple_bind(ld, cfg->ldap_search_dn, secret);
            memset(secret, 0, sizeof(secret));
            if (lrc != LDAP_SUCCESS) {
                rc = ldap_fail(ld, lrc, "bind as ldap-search-dn", err, errlen);
                if (rc == -EACCES)
                    rc = -EIO; /* our own account failing is a configuration error */
                goto out;
            }
        }
        rc = search_one(cfg, ld, cfg->ldap_base_dn, LDAP_SCOPE_SUBTREE, filter, &res, err, errlen);
        if (rc < 0)
            goto out;
        char *found = ldap_get_dn(ld, ldap_first_entry(ld, res));
        if (!found || strlen(found) >= sizeof(dn)) {
            ldap_memfree(found);
            rc = say(err, errlen, -EIO, "directory entry without a usable DN%s", NULL);
            goto out;
        }
        snprintf(dn, sizeof(dn), "%s", found);
        ldap_memfree(found);
        lrc = simple_bind(ld, dn, password);
        if (lrc != LDAP_SUCCESS) {
            rc = ldap_fail(ld, lrc, "bind", err, errlen);
            goto out;
        }
    }

    memset(out, 0, sizeof(*out));
    LDAPMessage *e = ldap_first_entry(ld, res);
    first_value(ld, e, cfg->ldap_mail_attr, email, out->email, sizeof(out->email));
    if (!out->email[0])
        snprintf(out->email, sizeof(out->email), "%s", email);
    for (char *p = out->email; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    first_value(ld, e, cfg->ldap_name_attr, NULL, out->name, sizeof(out->name));
    rc = 0;
out:
    ldap_msgfree(res);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return rc;
}
