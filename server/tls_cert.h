/* tls_cert.h — the HTTPS certificate: a self-signed ECDSA P-256 one, generated at first start
 * into the data folder when none is configured. */
#ifndef TF_TLS_CERT_H
#define TF_TLS_CERT_H

#include <stddef.h>

/* Makes sure cert_path and key_path exist; creates a self-signed certificate for host (and
 * localhost, 127.0.0.1) valid for a year when they do not. 0 or -errno with err filled. */
int tf_tls_cert_ensure(const char *cert_path, const char *key_path, const char *host, char *err,
                       size_t errlen);

#endif
