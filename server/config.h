/* config.h — `tafel serve` settings: embedded defaults, a config file, command-line overrides.
 *
 * File format (documented in docs/config.md): one "key = value" per line, '#' starts a comment,
 * keys as the long command-line options without "--". Unknown keys are errors, not silence. */
#ifndef TF_CONFIG_H
#define TF_CONFIG_H

#include <stddef.h>

typedef struct tf_config {
    char http_addr[64];      /* default 127.0.0.1 */
    int http_port;           /* default 8443 */
    int tls;                 /* 1: HTTPS (default), 0: plain HTTP (tests, behind a proxy) */
    char tls_cert[512];      /* PEM files; empty: self-signed, generated in data_dir */
    char tls_key[512];
    char media_addr[64];     /* UDP bind address, default 127.0.0.1 */
    int media_port;          /* one UDP port for every session, default 8443 */
    char public_addr[64];    /* address put into ICE candidates; default media_addr */
    char data_dir[512];      /* default ./tafel-data */
    int max_sessions;        /* whole server, default 500 */
    int max_room;            /* participants per room, default 50 */
    int max_body;            /* largest accepted HTTP body (SDP offer), default 64 KiB */
    int auth;                /* 1: authentication required (later issue); 0: development mode */
    int log_level;           /* 0 error, 1 warn, 2 info, 3 debug; default 2 */
    int workers;             /* media worker threads; 0 (default): one per core */
    /* Teacher login via LDAP (server/auth_ldap.h); empty ldap_uri: LDAP off. */
    char ldap_uri[512];                  /* ldaps://host or ldap://host (+ ldap_starttls) */
    int ldap_starttls;                   /* 1: StartTLS on an ldap:// URI */
    int ldap_insecure;                   /* 1: allow plain ldap:// without TLS (tests only) */
    char ldap_base_dn[512];              /* where teachers are looked up */
    char ldap_bind_dn_template[512];     /* "uid=%s,ou=people,..." (%s: e-mail local part) */
    char ldap_search_dn[512];            /* search-then-bind: service account (may be empty) */
    char ldap_search_password_file[512]; /* its password, first line of this file */
    char ldap_filter[512];               /* default "(mail=%s)"; %s: the escaped e-mail */
    char ldap_mail_attr[64];             /* default "mail" */
    char ldap_name_attr[64];             /* default "cn" */
    char ldap_ca_file[512];              /* PEM CA bundle for the directory's certificate */
    int ldap_timeout_ms;                 /* connect + each operation, default 5000 */
    /* Teacher login via OpenID Connect ID tokens (server/auth_oidc.h); empty issuer: OIDC off. */
    char oidc_issuer[512];
    char oidc_client_id[256];
    char oidc_jwks_file[512];            /* the provider's JWKS, a local file (no outbound HTTP) */
    char oidc_authorize_url[512];        /* the provider's authorization endpoint */
    int log_personal_data;               /* 1: logs may carry full IPs and names; default 0 */
    char support_emails[1024];           /* accounts with the support view, comma-separated */
    int audit_retention_days;            /* moderation audit events kept this long, default 30;
                                          * 0: none are written, old ones deleted at start */
    int bench_per_member_encoders;       /* 1: one video encoder per receiver (the classic MCU),
                                          * for tafel-load comparisons only; default 0 */
} tf_config_t;

void tf_config_defaults(tf_config_t *c);

/* Applies one key/value (as from a file or --key=value). 0, or -EINVAL with err filled. */
int tf_config_set(tf_config_t *c, const char *key, const char *value, char *err, size_t errlen);

/* Reads a config file; errors name the file and line. */
int tf_config_load(tf_config_t *c, const char *path, char *err, size_t errlen);

/* Refuses unsafe combinations (a public bind without authentication). */
int tf_config_check(const tf_config_t *c, char *err, size_t errlen);

/* One line per option for --help. */
void tf_config_print_help(void);

#endif
