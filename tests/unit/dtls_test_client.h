/* dtls_test_client.h — a browser-like DTLS 1.2 client on plain OpenSSL for the rtc tests and bench:
 * its own ECDSA P-256 certificate, memory BIOs, use_srtp, the server accepted by its SDP
 * fingerprint alone; helpers to pack its records into datagrams and key its SRTP. No sockets.
 * Header-only (static inline functions that return NULL or -1 on failure, so a cmocka test asserts
 * and the bench dies). Owns nothing it does not free in dtls_test_client_free().
 *
 * OpenSSL 3.0 reads gettimeofday() for its DTLS timers (see server/rtc/dtls.h). A test that
 * defines DTLS_TEST_FAKE_WALL_CLOCK before including this header gets a gettimeofday() that
 * returns dtls_test_wall_us, so that in that process OpenSSL's wall clock is the fake clock. That
 * definition replaces libc's for the whole binary, so such a header is included by one source
 * file per binary (every test is one file; a second copy would fail to link, not misbehave). */
#ifndef TF_TEST_DTLS_TEST_CLIENT_H
#define TF_TEST_DTLS_TEST_CLIENT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "server/rtc/dtls.h"
#include "server/rtc/srtp.h"

/* Chrome's use_srtp offer, in its order; the server's preference decides. */
#define DTLS_TEST_CHROME_PROFILES "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"

#ifdef DTLS_TEST_FAKE_WALL_CLOCK
#include <sys/time.h>

#define DTLS_TEST_WALL0 (1700000000ull * 1000000ull) /* a plausible date, in µs */

static uint64_t dtls_test_wall_us = DTLS_TEST_WALL0; /* the wall clock OpenSSL sees */

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    tv->tv_sec = (time_t)(dtls_test_wall_us / 1000000u);
    tv->tv_usec = (suseconds_t)(dtls_test_wall_us % 1000000u);
    return 0;
}
#endif

/* A self-signed X.509v3 certificate for `key`, valid from an hour ago for a day; NULL on error. */
static inline X509 *dtls_test_self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (!x || !name || X509_set_version(x, X509_VERSION_3) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(x), 4711) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_set_pubkey(x, key) != 1 || X509_sign(x, key, EVP_sha256()) <= 0) {
        X509_free(x);
        x = NULL;
    }
    X509_NAME_free(name);
    return x;
}

/* The SDP fingerprint ("AB:CD:...") of x with `hash` ("sha-1", "sha-512", else SHA-256). */
static inline int dtls_test_fingerprint(X509 *x, const char *hash, char *out, size_t cap)
{
    const EVP_MD *md = !strcasecmp(hash, "sha-1")     ? EVP_sha1()
                       : !strcasecmp(hash, "sha-512") ? EVP_sha512()
                                                      : EVP_sha256();
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (X509_digest(x, md, d, &n) != 1 || cap < 3 * n)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 3 * i, cap - 3 * i, i + 1 < n ? "%02X:" : "%02X", d[i]);
    return 0;
}

/* A DTLS 1.2 client context. cert NULL: no client certificate; profiles NULL: Chrome's offer,
 * "": no use_srtp at all. The caller frees it. */
static inline SSL_CTX *dtls_test_ctx_new(EVP_PKEY *key, X509 *cert, const char *profiles,
                                         SSL_verify_cb verify)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    const char *offer = profiles ? profiles : DTLS_TEST_CHROME_PROFILES;
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        (cert &&
         (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)) ||
        (*offer && SSL_CTX_set_tlsext_use_srtp(ctx, offer) != 0)) { /* 0 = success */
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify);
    return ctx;
}

/* A client connection on two memory BIOs (eof: retry), its MTU fixed; NULL on error. */
static inline SSL *dtls_test_ssl_new(SSL_CTX *ctx, long mtu, void *app_data)
{
    SSL *ssl = SSL_new(ctx);
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
    if (!ssl || !r || !w) {
        SSL_free(ssl);
        BIO_free(r);
        BIO_free(w);
        return NULL;
    }
    BIO_set_mem_eof_return(r, -1);
    BIO_set_mem_eof_return(w, -1);
    SSL_set_bio(ssl, r, w);
    SSL_set_app_data(ssl, app_data);
    SSL_set_connect_state(ssl);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    if (SSL_set_mtu(ssl, mtu) <= 0) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* The length of the whole DTLS record (13-byte header + body) at p, or 0 if `avail` bytes do
 * not hold one. */
static inline size_t dtls_test_record_len(const uint8_t *p, size_t avail)
{
    if (avail < 13)
        return 0;
    size_t len = 13 + ((size_t)p[11] << 8 | p[12]);
    return len <= avail ? len : 0;
}

/* The next datagram of whole records from buf[*off..total): as many as fit in `max` bytes, but at
 * least one (the caller checks the length). Advances *off; 0 when no whole record is left. */
static inline size_t dtls_test_next_datagram(const uint8_t *buf, size_t total, size_t *off,
                                             size_t max)
{
    size_t len = 0, rec;
    while (buf && (rec = dtls_test_record_len(buf + *off + len, total - *off - len)) > 0 &&
           (len == 0 || len + rec <= max))
        len += rec;
    *off += len;
    return len;
}

/* The client's SRTP session from the DTLS-SRTP keys (RFC 5764 §4.2); 0 or -1. */
static inline int dtls_test_client_srtp(SSL *ssl, tf_srtp_profile_t *profile, tf_srtp_t **srtp)
{
    const SRTP_PROTECTION_PROFILE *sp = SSL_get_selected_srtp_profile(ssl);
    uint8_t material[TF_SRTP_MAX_KEYING_MATERIAL];
    tf_srtp_keys_t k;
    size_t kl, sl;
    if (!sp || tf_srtp_key_lengths((tf_srtp_profile_t)sp->id, &kl, &sl) < 0)
        return -1;
    *profile = (tf_srtp_profile_t)sp->id;
    size_t n = 2 * (kl + sl);
    int rc = -1;
    if (SSL_export_keying_material(ssl, material, n, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) == 1 &&
        tf_srtp_keys_from_material(&k, *profile, material, n, 0) == 0 &&
        tf_srtp_create(srtp, &k, NULL) == 0)
        rc = 0;
    memset(&k, 0, sizeof(k));
    memset(material, 0, sizeof(material));
    return rc;
}

/* ---- the whole client, as test_rtc_dtls and test_rtc_peer drive it ---------------------- */

typedef struct dtls_test_client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    EVP_PKEY *key;
    X509 *cert;
    char fingerprint[TF_DTLS_FINGERPRINT_SIZE];  /* its own, SHA-256: "the browser's SDP" */
    uint8_t server_fp[32];                       /* the server's SHA-256, from "our SDP" */
    unsigned rto_us, initial_rto_us, max_rto_us; /* max 0: doubles without a cap */
    uint64_t timeouts;                           /* retransmission timers that fired */
    int done, failed, got_close_notify, verify_called;
} dtls_test_client_t;

typedef struct dtls_test_client_opts {
    const char *cn;       /* NULL: "test-client" */
    const char *profiles; /* NULL: DTLS_TEST_CHROME_PROFILES; "": no use_srtp */
    int no_cert;
    unsigned initial_rto_us, max_rto_us;
    long mtu;
} dtls_test_client_opts_t;

/* Like a browser: the server's certificate is accepted by its SDP fingerprint alone. */
static inline int dtls_test_client_verify_cb(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    dtls_test_client_t *c = SSL_get_app_data(ssl);
    c->verify_called = 1;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    uint8_t d[32];
    unsigned n = 0;
    X509_digest(X509_STORE_CTX_get_current_cert(store), EVP_sha256(), d, &n);
    return n == 32 && memcmp(d, c->server_fp, 32) == 0;
}

static inline unsigned dtls_test_client_timer_cb(SSL *ssl, unsigned timer_us)
{
    dtls_test_client_t *c = SSL_get_app_data(ssl);
    if (timer_us == 0) {
        c->rto_us = c->initial_rto_us;
    } else {
        c->rto_us = c->max_rto_us && 2 * c->rto_us >= c->max_rto_us ? c->max_rto_us : 2 * c->rto_us;
        c->timeouts++;
    }
    return c->rto_us;
}

static inline int dtls_test_client_init(dtls_test_client_t *c, const dtls_test_client_opts_t *o)
{
    memset(c, 0, sizeof(*c));
    c->key = EVP_EC_gen("P-256");
    if (!c->key || !(c->cert = dtls_test_self_signed(c->key, o->cn ? o->cn : "test-client")) ||
        dtls_test_fingerprint(c->cert, "sha-256", c->fingerprint, sizeof(c->fingerprint)) < 0)
        return -1;
    c->ctx = dtls_test_ctx_new(c->key, o->no_cert ? NULL : c->cert, o->profiles,
                               dtls_test_client_verify_cb);
    if (!c->ctx || !(c->ssl = dtls_test_ssl_new(c->ctx, o->mtu, c)))
        return -1;
    c->rbio = SSL_get_rbio(c->ssl);
    c->wbio = SSL_get_wbio(c->ssl);
    c->initial_rto_us = o->initial_rto_us;
    c->max_rto_us = o->max_rto_us;
    DTLS_set_timer_cb(c->ssl, dtls_test_client_timer_cb);
    return 0;
}

static inline void dtls_test_client_free(dtls_test_client_t *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    memset(c, 0, sizeof(*c));
}

/* The server's fingerprint, as our SDP answer gives it ("AB:CD:..."); 0 or -1. */
static inline int dtls_test_client_learn_server(dtls_test_client_t *c, const char *fp)
{
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(fp + 3 * i, "%2X", &v) != 1)
            return -1;
        c->server_fp[i] = (uint8_t)v;
    }
    return 0;
}

/* One handshake step, unless done or failed; returns 1 if the handshake completed now. */
static inline int dtls_test_client_handshake(dtls_test_client_t *c)
{
    if (c->done || c->failed)
        return 0;
    int r = SSL_do_handshake(c->ssl);
    if (r == 1)
        return c->done = 1;
    if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ)
        c->failed = 1;
    return 0;
}

/* Reads and discards application data; notes the server's close_notify. */
static inline void dtls_test_client_read(dtls_test_client_t *c)
{
    uint8_t tmp[512];
    int r;
    while ((r = SSL_read(c->ssl, tmp, sizeof(tmp))) > 0)
        ;
    if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
        c->got_close_notify = 1;
}

#endif /* TF_TEST_DTLS_TEST_CLIENT_H */
