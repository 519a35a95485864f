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
