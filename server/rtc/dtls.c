/* dtls.c — DTLS 1.2 server for DTLS-SRTP on OpenSSL 3 memory BIOs: certificate, fingerprint
 * check, use_srtp, key export, datagram packing, caller-driven retransmission, answers to the
 * peer's retransmitted flights; no sockets, no application data, and no clock of its own
 * (OpenSSL's wall-clock reads are explained in dtls.h). */
#include "server/rtc/dtls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define TX_SLOTS 16
#define EVENT_SLOTS 4
#define MAX_DATAGRAM_IN (16384 + 256) /* a 2^14-byte record and then some */
#define RECORD_HEADER 13    /* RFC 6347 §4.1: type, version(2), epoch(2), seq(6), length(2) */
#define HANDSHAKE_HEADER 12 /* §4.2.2: type, length(3), message_seq(2), frag offset(3), len(3) */
#define CONTENT_CCS 20
#define CONTENT_HANDSHAKE 22
/* Our largest flight (4: hello, certificate, key exchange, request, done) is 1-2 KB; a flight
 * that does not fit is not kept, and only the timer resends it. */
#define FLIGHT_BYTES 8192
#define FLIGHT_SLOTS 16
#define RESEND_GAP_US 250000 /* at most one answer to the peer's retransmissions per 250 ms */
#define SRTP_EXPORT_LABEL "EXTRACTOR-dtls_srtp" /* RFC 5764 §4.2 */

/* Browsers (Chrome, Firefox, Safari) all do ECDHE-ECDSA with AES-GCM; the CBC suites are a
 * fallback for old Safari. */
#define CIPHERS                                                                                    \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                                 \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"
#define GROUPS "X25519:P-256:P-384"

struct tf_dtls_cert {
    SSL_CTX *ctx; /* holds the key and certificate; every session's SSL holds a reference */
    char fingerprint[TF_DTLS_FINGERPRINT_SIZE];
};

typedef struct datagram {
    size_t len;
    uint8_t data[TF_DTLS_MAX_MTU];
} datagram_t;

struct tf_dtls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    tf_dtls_state_t state;

    const EVP_MD *fp_md; /* the peer's fingerprint, decoded */
    uint8_t fp[EVP_MAX_MD_SIZE];
    unsigned fp_len;

    size_t mtu;
    uint64_t initial_rto_us, max_rto_us, rto_us;
    uint64_t handshake_deadline; /* caller's clock */
    uint64_t rtx_deadline;       /* caller's clock; UINT64_MAX when OpenSSL has no timer */
    int timer_restarted;         /* the timer callback ran during the last OpenSSL call */

    /* Why a handshake failed, as the callbacks saw it. */
    int fingerprint_mismatch;
    int alert_received; /* the info callback's value: level << 8 | description; 0 = none */

    tf_srtp_keys_t keys;

    datagram_t tx[TX_SLOTS];
    unsigned tx_head, tx_count;

    /* Our last new flight, datagram by datagram as first queued, for answering the peer's
     * retransmissions (RFC 6347 §4.2.4); flight_n 0: none kept. */
    uint8_t flight[FLIGHT_BYTES];
    uint16_t flight_len[FLIGHT_SLOTS];
    unsigned flight_n;
    /* The peer's plaintext (epoch 0) handshake messages: the message_seq of the first one not yet
     * seen whole, and how many of its bytes arrived in order. */
    uint32_t peer_next_seq, peer_next_bytes;
    /* peer_next_seq when our last flight was made: a message below it belongs to the flight our
     * last flight answered, so seeing it again means the peer lost ours. */
    uint32_t flight_answers_seq;
    uint64_t last_resend_us; /* caller's clock: our or OpenSSL's last resend; valid if resent */
    int resent;
    int retransmitted; /* the timer callback counted a retransmission during this call */
    tf_dtls_event_t ev[EVENT_SLOTS];
    unsigned ev_head, ev_count;
    tf_dtls_stats_t stats;
    uint8_t scratch[2048]; /* application data we read and drop */
};

/* ---- certificate ---------------------------------------------------------------------- */

static void format_fingerprint(const uint8_t *md, unsigned n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < n; i++) {
        out[3 * i] = hex[md[i] >> 4];
        out[3 * i + 1] = hex[md[i] & 15];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
}

static X509 *make_certificate(EVP_PKEY *pkey, const char *cn, int64_t not_before,
                              uint32_t valid_days)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *serial = NULL;
    uint8_t rnd[8];
    int ok = x && name && X509_set_version(x, X509_VERSION_3) && RAND_bytes(rnd, sizeof(rnd));
    if (ok) {
        rnd[0] = (uint8_t)((rnd[0] & 0x7f) | 0x40); /* positive, non-zero, 63 bits */
        serial = BN_bin2bn(rnd, sizeof(rnd), NULL);
        ok = serial && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
             ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) &&
             ASN1_TIME_adj(X509_getm_notAfter(x), (time_t)not_before, (int)valid_days, 0) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) &&
             X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
             X509_set_pubkey(x, pkey) && X509_sign(x, pkey, EVP_sha256()) > 0;
    }
    BN_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static SSL_CTX *make_context(EVP_PKEY *pkey, X509 *x)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_server_method());
    if (!ctx)
        return NULL;
    int ok = SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
             SSL_CTX_use_certificate(ctx, x) && SSL_CTX_use_PrivateKey(ctx, pkey) &&
             SSL_CTX_check_private_key(ctx) && SSL_CTX_set_cipher_list(ctx, CIPHERS) &&
             SSL_CTX_set1_groups_list(ctx, GROUPS);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* RFC 8827 §6.5 and RFC 8842: no session resumption; renegotiation is refused. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* The peer is authenticated by its fingerprint alone; its validity dates are not ours to
     * judge, and not checking them keeps the verifier off the wall clock. */
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
    return ctx;
}

int tf_dtls_cert_create(tf_dtls_cert_t **out, const tf_dtls_cert_config_t *cfg)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    const char *cn = cfg && cfg->common_name ? cfg->common_name : "tafel";
    size_t cn_len = strnlen(cn, 65);
    if (cn_len == 0 || cn_len > 64) /* RFC 5280 ub-common-name */
        return -EINVAL;
    uint32_t days = cfg && cfg->valid_days ? cfg->valid_days : 30;
    if (days > 3650)
        return -EINVAL;
    int64_t not_before =
        cfg && cfg->not_before_unix ? cfg->not_before_unix : (int64_t)time(NULL) - 86400;

    tf_dtls_cert_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int rc = -EIO;
    X509 *x = NULL;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    if (pkey)
        x = make_certificate(pkey, cn, not_before, days);
    if (x)
        c->ctx = make_context(pkey, x);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    if (c->ctx && X509_digest(x, EVP_sha256(), md, &md_len) == 1 && md_len == 32) {
        format_fingerprint(md, md_len, c->fingerprint);
        rc = 0;
    }
    X509_free(x); /* the context holds its own references */
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    if (rc < 0) {
        tf_dtls_cert_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

void tf_dtls_cert_destroy(tf_dtls_cert_t **cert)
{
    if (!cert || !*cert)
        return;
    SSL_CTX_free((*cert)->ctx);
    free(*cert);
    *cert = NULL;
}

int tf_dtls_cert_fingerprint(const tf_dtls_cert_t *cert, char *out, size_t cap)
{
    if (!cert || !out)
        return -EINVAL;
    size_t n = strlen(cert->fingerprint) + 1;
    if (cap < n)
        return -ENOBUFS;
    memcpy(out, cert->fingerprint, n);
    return 0;
}

/* ---- queues --------------------------------------------------------------------------- */

static void push_event(tf_dtls_t *d, tf_dtls_event_kind_t kind, int error, const char *reason)
{
    if (d->ev_count == EVENT_SLOTS) /* cannot happen: at most CONNECTED then CLOSED */
        return;
    tf_dtls_event_t *e = &d->ev[(d->ev_head + d->ev_count++) % EVENT_SLOTS];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->error = error;
    if (reason)
        snprintf(e->reason, sizeof(e->reason), "%s", reason);
    if (kind == TF_DTLS_EVENT_CONNECTED)
        e->keys = d->keys;
}

static datagram_t *tx_push(tf_dtls_t *d)
{
    if (d->tx_count == TX_SLOTS)
        return NULL;
    datagram_t *g = &d->tx[(d->tx_head + d->tx_count++) % TX_SLOTS];
    g->len = 0;
    return g;
}

/* Why drain_output() is called: what OpenSSL just wrote may be a new flight to keep, or, once
 * connected, an answer to the peer that duplicates our own resend. */
typedef enum {
    DRAIN_OTHER = 0,     /* a timer resend, close_notify: queue it */
    DRAIN_INPUT,         /* while handshaking on input: a new flight unless a resend */
    DRAIN_CONNECTED_READ /* connected, on input: OpenSSL resending our last flight, or an alert */
} drain_why_t;

static int resent_recently(const tf_dtls_t *d, uint64_t now_us)
{
    return d->resent && now_us >= d->last_resend_us && now_us - d->last_resend_us < RESEND_GAP_US;
}

/* Records OpenSSL wrote; 1 if all are handshake or ChangeCipherSpec, i.e. a (re)sent flight. */
static int only_flight_records(const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (n - off >= RECORD_HEADER) {
        if (buf[off] != CONTENT_HANDSHAKE && buf[off] != CONTENT_CCS)
            return 0;
        off += RECORD_HEADER + (((size_t)buf[off + 11] << 8) | buf[off + 12]);
        if (off > n)
            return 0;
    }
    return 1;
}

/* OpenSSL writes records into the memory BIO back to back; a memory BIO reports nothing pending
 * to DTLS, so OpenSSL sizes every record to fit the MTU on its own. Here whole records are
 * packed into datagrams of at most mtu bytes, in order; each drain ends the last datagram. A new
 * flight is also copied, datagram for datagram, for resend_flight(). Returns 1 if
 * anything was queued. */
static int drain_output(tf_dtls_t *d, uint64_t now_us, drain_why_t why)
{
    char *p = NULL;
    long avail = BIO_get_mem_data(d->wbio, &p);
    if (avail <= 0 || !p)
        return 0;
    const uint8_t *buf = (const uint8_t *)p;
    size_t n = (size_t)avail, off = 0;
    int resend = d->retransmitted;
    d->retransmitted = 0;
    if (why == DRAIN_CONNECTED_READ && only_flight_records(buf, n)) {
        /* OpenSSL answers the peer's retransmitted Finished by itself; if we already answered
         * an earlier record of the same flight, this copy would be a second answer. */
        if (resent_recently(d, now_us)) {
            (void)BIO_reset(d->wbio);
            return 0;
        }
        resend = 1;
    }
    int new_flight = why == DRAIN_INPUT && !resend;
    int keep = new_flight;
    size_t kept = 0;
    if (keep)
        d->flight_n = 0;
    datagram_t *cur = NULL;
    size_t dg_len = 0; /* the current datagram, whether or not a transmit slot holds it */
    int started = 0;
    while (n - off >= RECORD_HEADER) {
        size_t rec = RECORD_HEADER + (((size_t)buf[off + 11] << 8) | buf[off + 12]);
        if (rec > n - off)
            break; /* OpenSSL never writes half a record */
        if (!started || dg_len + rec > d->mtu) {
            started = 1;
            dg_len = 0;
            cur = tx_push(d);
            if (keep && d->flight_n < FLIGHT_SLOTS)
                d->flight_len[d->flight_n++] = 0;
            else
                keep = 0;
        }
        if (!cur || rec > sizeof(cur->data)) {
            d->stats.dropped_out++; /* the retransmission timer will resend it */
        } else {
            memcpy(cur->data + cur->len, buf + off, rec);
            cur->len += rec;
        }
        dg_len += rec;
        if (keep && rec <= d->mtu && kept + rec <= sizeof(d->flight)) {
            memcpy(d->flight + kept, buf + off, rec);
            kept += rec;
            d->flight_len[d->flight_n - 1] = (uint16_t)(d->flight_len[d->flight_n - 1] + rec);
        } else {
            keep = 0;
        }
        off += rec;
    }
    (void)BIO_reset(d->wbio);
    if (new_flight) {
        if (!keep)
            d->flight_n = 0; /* too big to keep: the timer alone resends it */
        d->flight_answers_seq = d->peer_next_seq;
    }
    if (resend) {
        d->resent = 1;
        d->last_resend_us = now_us;
    }
    return started;
}

/* ---- OpenSSL callbacks ---------------------------------------------------------------- */

static int cert_matches(const tf_dtls_t *d, X509 *cert)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    return X509_digest(cert, d->fp_md, md, &n) == 1 && n == d->fp_len &&
           CRYPTO_memcmp(md, d->fp, n) == 0;
}

/* RFC 8122 §5 / RFC 5763 §5: the certificate is self-signed and authenticated only by the
 * fingerprint in the SDP, so chain errors are ignored and the leaf's digest decides. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    tf_dtls_t *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!d)
        return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1; /* a CA above the leaf, if the peer sent one: only the leaf is pinned */
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (cert && cert_matches(d, cert)) {
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    d->fingerprint_mismatch = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
}

/* Called by OpenSSL whenever it (re)arms its retransmission timer: timer_us is 0 for a fresh
 * flight, else the interval that just expired. We keep our own copy of the interval and return
 * it, so OpenSSL's wall-clock deadline and ours (on the caller's clock) are the same length. */
static unsigned int timer_cb(SSL *ssl, unsigned int timer_us)
{
    tf_dtls_t *d = SSL_get_app_data(ssl);
    if (timer_us == 0) {
        d->rto_us = d->initial_rto_us;
    } else {
        d->rto_us = d->rto_us * 2 < d->max_rto_us ? d->rto_us * 2 : d->max_rto_us;
        d->stats.retransmits++;
        d->retransmitted = 1;
    }
    d->timer_restarted = 1;
    return (unsigned int)d->rto_us;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ)) {
        tf_dtls_t *d = SSL_get_app_data(ssl);
        if (d)
            d->alert_received = ret;
    }
}

/* ---- session -------------------------------------------------------------------------- */

static const EVP_MD *md_from_sdp_name(const char *name)
{
    /* RFC 8122 §5 hash function textual names (RFC 4572's registry). */
    if (!strcasecmp(name, "sha-256"))
        return EVP_sha256();
    if (!strcasecmp(name, "sha-1"))
        return EVP_sha1();
    if (!strcasecmp(name, "sha-224"))
        return EVP_sha224();
    if (!strcasecmp(name, "sha-384"))
        return EVP_sha384();
    if (!strcasecmp(name, "sha-512"))
        return EVP_sha512();
    return NULL;
}

/* "AB:CD:...": exactly want bytes as hex pairs joined by colons. */
static int parse_fingerprint(const char *s, uint8_t *out, size_t want)
{
    size_t len = strnlen(s, 3 * EVP_MAX_MD_SIZE + 1);
    if (len != 3 * want - 1)
        return -EINVAL;
    for (size_t i = 0; i < want; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)s[3 * i]),
            lo = OPENSSL_hexchar2int((unsigned char)s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < want && s[3 * i + 2] != ':'))
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static const char *profile_name(tf_srtp_profile_t p)
{
    switch (p) {
    case TF_SRTP_AES128_CM_SHA1_80:
        return "SRTP_AES128_CM_SHA1_80";
    case TF_SRTP_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
    }
    return NULL;
}

/* The use_srtp list in preference order, e.g. "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80". */
static int profile_list(const tf_dtls_config_t *cfg, char *out, size_t cap)
{
    static const tf_srtp_profile_t defaults[] = {TF_SRTP_AEAD_AES_128_GCM,
                                                 TF_SRTP_AES128_CM_SHA1_80};
    const tf_srtp_profile_t *list = cfg->n_profiles ? cfg->profiles : defaults;
    int n = cfg->n_profiles ? cfg->n_profiles : 2;
    if (n < 0 || n > TF_DTLS_MAX_PROFILES)
        return -EINVAL;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *name = profile_name(list[i]);
        if (!name)
            return -ENOTSUP;
        for (int j = 0; j < i; j++)
            if (list[j] == list[i])
                return -EINVAL;
        size_t used = strlen(out);
        int w = snprintf(out + used, cap - used, "%s%s", i ? ":" : "", name);
        if (w < 0 || (size_t)w >= cap - used)
            return -EINVAL;
    }
    return 0;
}

int tf_dtls_create(tf_dtls_t **out, const tf_dtls_cert_t *cert, const tf_dtls_config_t *cfg,
                   uint64_t now_us)
{
    char profiles[64];
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cert || !cfg || !cfg->fingerprint_hash || !cfg->fingerprint)
        return -EINVAL;
    const EVP_MD *md = md_from_sdp_name(cfg->fingerprint_hash);
    if (!md)
        return -ENOTSUP;
    int rc = profile_list(cfg, profiles, sizeof(profiles));
    if (rc < 0)
        return rc;
    size_t mtu = cfg->mtu ? cfg->mtu : TF_DTLS_DEFAULT_MTU;
    uint64_t initial_ms =
        cfg->initial_rto_ms ? cfg->initial_rto_ms : TF_DTLS_DEFAULT_INITIAL_RTO_MS;
    uint64_t max_ms = cfg->max_rto_ms ? cfg->max_rto_ms : TF_DTLS_DEFAULT_MAX_RTO_MS;
    uint64_t hs_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                               : TF_DTLS_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    /* OpenSSL keeps the interval in an unsigned int of microseconds. */
    if (mtu < TF_DTLS_MIN_MTU || mtu > TF_DTLS_MAX_MTU || max_ms < initial_ms ||
        max_ms * 1000 > UINT_MAX)
        return -EINVAL;

    tf_dtls_t *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->fp_md = md;
    d->fp_len = (unsigned)EVP_MD_get_size(md);
    rc = parse_fingerprint(cfg->fingerprint, d->fp, d->fp_len);
    if (rc < 0)
        goto err;
    d->mtu = mtu;
    d->initial_rto_us = initial_ms * 1000;
    d->max_rto_us = max_ms * 1000;
    d->rto_us = d->initial_rto_us;
    d->handshake_deadline = now_us + hs_ms * 1000;
    d->rtx_deadline = UINT64_MAX;
    d->state = TF_DTLS_STATE_NEW;

    rc = -ENOMEM;
    d->ssl = SSL_new(cert->ctx);
    if (!d->ssl)
        goto err;
    d->rbio = BIO_new(BIO_s_mem());
    d->wbio = BIO_new(BIO_s_mem());
    if (!d->rbio || !d->wbio) {
        BIO_free(d->rbio);
        BIO_free(d->wbio);
        d->rbio = d->wbio = NULL;
        goto err;
    }
    /* An empty memory BIO means "no datagram yet" (retry), not end of file. */
    BIO_set_mem_eof_return(d->rbio, -1);
    BIO_set_mem_eof_return(d->wbio, -1);
    SSL_set_bio(d->ssl, d->rbio, d->wbio);
    SSL_set_app_data(d->ssl, d);
    SSL_set_accept_state(d->ssl);

    rc = -EIO;
    SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
    if (SSL_set_mtu(d->ssl, (long)mtu) <= 0)
        goto err;
    DTLS_set_timer_cb(d->ssl, timer_cb);
    if (SSL_set_tlsext_use_srtp(d->ssl, profiles) != 0) /* 0 is success here */
        goto err;
    SSL_set_verify(d->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_set_info_callback(d->ssl, info_cb);
    ERR_clear_error();
    *out = d;
    return 0;
err:
    ERR_clear_error();
    tf_dtls_destroy(&d);
    return rc;
}

void tf_dtls_destroy(tf_dtls_t **d)
{
    if (!d || !*d)
        return;
    SSL_free((*d)->ssl); /* and both BIOs */
    OPENSSL_cleanse(*d, sizeof(**d));
    free(*d);
    *d = NULL;
}

static int terminal(const tf_dtls_t *d)
{
    return d->state == TF_DTLS_STATE_FAILED || d->state == TF_DTLS_STATE_CLOSED;
}

static void end(tf_dtls_t *d, tf_dtls_state_t state, tf_dtls_event_kind_t kind, int error,
                const char *reason)
{
    d->state = state;
    d->rtx_deadline = UINT64_MAX;
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    push_event(d, kind, error, reason);
}

static void fail(tf_dtls_t *d, int error, const char *reason)
{
    end(d, TF_DTLS_STATE_FAILED, TF_DTLS_EVENT_FAILED, error, reason);
}

/* The handshake (or connection) broke inside OpenSSL: say why as precisely as we can. */
static void fail_from_openssl(tf_dtls_t *d, int connected)
{
    char reason[sizeof(((tf_dtls_event_t *)0)->reason)];
    unsigned long e = ERR_peek_error();
    int lib_ssl = e && ERR_GET_LIB(e) == ERR_LIB_SSL;
    int error = -EPROTO;
    if (d->fingerprint_mismatch) {
        error = -EACCES;
        snprintf(reason, sizeof(reason),
                 "the peer's certificate does not match the SDP "
                 "fingerprint");
    } else if (lib_ssl && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        error = -EACCES;
        snprintf(reason, sizeof(reason), "the peer sent no certificate");
    } else if (d->alert_received >> 8 == SSL3_AL_FATAL) {
        error = -ECONNRESET;
        snprintf(reason, sizeof(reason), "the peer sent a fatal alert: %s",
                 SSL_alert_desc_string_long(d->alert_received));
    } else if (lib_ssl && ERR_GET_REASON(e) == SSL_R_READ_TIMEOUT_EXPIRED) {
        error = -ETIMEDOUT;
        snprintf(reason, sizeof(reason), "OpenSSL gave up retransmitting");
    } else {
        const char *why = e ? ERR_reason_error_string(e) : NULL;
        snprintf(reason, sizeof(reason), "handshake failed: %s", why ? why : "unknown error");
    }
    if (connected)
        end(d, TF_DTLS_STATE_CLOSED, TF_DTLS_EVENT_CLOSED, error == -EPROTO ? -ECONNRESET : error,
            reason);
    else
        fail(d, error, reason);
}

static void handshake_done(tf_dtls_t *d)
{
    uint8_t material[TF_SRTP_MAX_KEYING_MATERIAL];
    size_t kl, sl;
    /* The verify callback already checked the leaf; check the certificate the session kept. */
    X509 *peer = SSL_get0_peer_certificate(d->ssl);
    if (!peer || !cert_matches(d, peer)) {
        fail(d, -EACCES, "the peer's certificate does not match the SDP fingerprint");
        return;
    }
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    tf_srtp_profile_t profile = p ? (tf_srtp_profile_t)p->id : (tf_srtp_profile_t)0;
    if (!p || tf_srtp_key_lengths(profile, &kl, &sl) < 0) {
        /* The TLS handshake is done, so tell the peer with close_notify rather than leave it
         * waiting for media. */
        (void)SSL_shutdown(d->ssl);
        fail(d, -ENOTSUP, "no common SRTP protection profile (use_srtp)");
        return;
    }
    size_t n = 2 * (kl + sl);
    if (SSL_export_keying_material(d->ssl, material, n, SRTP_EXPORT_LABEL,
                                   sizeof(SRTP_EXPORT_LABEL) - 1, NULL, 0, 0) != 1 ||
        tf_srtp_keys_from_material(&d->keys, profile, material, n, 1) < 0) {
        OPENSSL_cleanse(material, sizeof(material));
        fail(d, -EPROTO, "exporting the SRTP keying material failed");
        return;
    }
    OPENSSL_cleanse(material, sizeof(material));
    d->state = TF_DTLS_STATE_CONNECTED;
    push_event(d, TF_DTLS_EVENT_CONNECTED, 0, NULL);
}

/* After the handshake: OpenSSL answers a retransmitted client Finished by resending our last
 * flight from inside SSL_read (drain_output() drops that copy if we already answered the same
 * retransmitted flight); close_notify and alerts end the session. */
static void read_records(tf_dtls_t *d)
{
    for (;;) {
        int r = SSL_read(d->ssl, d->scratch, sizeof(d->scratch));
        if (r > 0) {
            d->stats.app_data_dropped++;
            continue;
        }
        int e = SSL_get_error(d->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return;
        if (e == SSL_ERROR_ZERO_RETURN) {
            (void)SSL_shutdown(d->ssl); /* RFC 5246 §7.2.1: answer close_notify in kind */
            end(d, TF_DTLS_STATE_CLOSED, TF_DTLS_EVENT_CLOSED, 0, "the peer sent close_notify");
        } else {
            fail_from_openssl(d, 1);
        }
        return;
    }
}

static uint64_t timeval_us(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

/* Mirrors OpenSSL's retransmission timer on the caller's clock after each OpenSSL call. */
static void update_timer(tf_dtls_t *d, uint64_t now_us)
{
    struct timeval tv;
    if (terminal(d) || !DTLSv1_get_timeout(d->ssl, &tv)) {
        d->rtx_deadline = UINT64_MAX;
    } else if (d->timer_restarted) {
        d->rtx_deadline = now_us + d->rto_us;
    } else if (d->rtx_deadline == UINT64_MAX) {
        d->rtx_deadline = now_us + timeval_us(&tv); /* armed without the callback: unexpected */
    }
    d->timer_restarted = 0;
}

static int run(tf_dtls_t *d, uint64_t now_us)
{
    drain_why_t why = d->state == TF_DTLS_STATE_CONNECTED ? DRAIN_CONNECTED_READ : DRAIN_INPUT;
    d->retransmitted = 0;
    if (d->state == TF_DTLS_STATE_CONNECTING) {
        int r = SSL_do_handshake(d->ssl);
        if (r == 1) {
            handshake_done(d);
        } else {
            int e = SSL_get_error(d->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                fail_from_openssl(d, 0);
        }
    }
    if (d->state == TF_DTLS_STATE_CONNECTED)
        read_records(d);
    int sent = drain_output(d, now_us, why);
    update_timer(d, now_us);
    return sent;
}

static uint32_t get24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* Follows the peer's plaintext handshake messages in a datagram, before OpenSSL reads it:
 *
 *   record:    type(1) version(2) epoch(2) sequence_number(6) length(2)   RFC 6347 §4.1
 *   handshake: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3)
 *                                                                          RFC 6347 §4.2.2
 *
 * Returns 1 if a fragment belongs to the peer flight our last flight answered: the peer
 * retransmitted it, so it has not received ours. Only epoch 0 is readable (the Finished is
 * encrypted; OpenSSL answers that one itself). Fragments out of order are not followed, which can
 * only miss a retransmission, never invent one. */
static int peer_retransmitted(tf_dtls_t *d, const uint8_t *buf, size_t len)
{
    int again = 0;
    size_t off = 0;
    while (len - off >= RECORD_HEADER) {
        const uint8_t *r = buf + off;
        size_t body = ((size_t)r[11] << 8) | r[12];
        if (body > len - off - RECORD_HEADER)
            break;
        off += RECORD_HEADER + body;
        if (r[0] != CONTENT_HANDSHAKE || r[1] != 0xfe || r[3] != 0 || r[4] != 0)
            continue;
        const uint8_t *h = r + RECORD_HEADER;
        for (size_t hoff = 0; body - hoff >= HANDSHAKE_HEADER;) {
            uint32_t msg_len = get24(h + hoff + 1);
            uint32_t seq = (uint32_t)h[hoff + 4] << 8 | h[hoff + 5];
            uint32_t frag_off = get24(h + hoff + 6), frag_len = get24(h + hoff + 9);
            if (frag_len > body - hoff - HANDSHAKE_HEADER || frag_off > msg_len ||
                frag_len > msg_len - frag_off)
                break;
            hoff += HANDSHAKE_HEADER + frag_len;
            if (seq < d->flight_answers_seq)
                again = 1;
            if (seq == d->peer_next_seq && frag_off <= d->peer_next_bytes) {
                if (frag_off + frag_len > d->peer_next_bytes)
                    d->peer_next_bytes = frag_off + frag_len;
                if (d->peer_next_bytes >= msg_len) {
                    d->peer_next_seq++;
                    d->peer_next_bytes = 0;
                }
            }
        }
    }
    return again;
}

/* RFC 6347 §4.2.4: "an implementation which receives a retransmitted flight (or part of one)
 * from its peer ... SHOULD retransmit its own last flight"; OpenSSL 3.0 does not (except for a
 * repeated Finished once connected). The kept copy goes out again byte for byte: records the
 * peer lost are new to it, the others fall to its replay window. */
static void resend_flight(tf_dtls_t *d, uint64_t now_us)
{
    size_t off = 0;
    for (unsigned i = 0; i < d->flight_n; i++) {
        datagram_t *g = tx_push(d);
        if (!g) {
            d->stats.dropped_out++;
        } else {
            memcpy(g->data, d->flight + off, d->flight_len[i]);
            g->len = d->flight_len[i];
        }
        off += d->flight_len[i];
    }
    d->stats.flight_resends++;
    d->resent = 1;
    d->last_resend_us = now_us;
}

int tf_dtls_handle_input(tf_dtls_t *d, uint64_t now_us, const uint8_t *buf, size_t len)
{
    if (!d || !buf || len == 0)
        return -EINVAL;
    if (len > MAX_DATAGRAM_IN)
        return -EMSGSIZE;
    if (terminal(d))
        return -EPIPE;
    d->stats.datagrams_in++;
    if (d->state == TF_DTLS_STATE_NEW)
        d->state = TF_DTLS_STATE_CONNECTING;
    int again = peer_retransmitted(d, buf, len);
    ERR_clear_error();
    if (BIO_write(d->rbio, buf, (int)len) != (int)len) {
        ERR_clear_error();
        return -ENOMEM;
    }
    int sent = run(d, now_us);
    /* OpenSSL reads a whole datagram at once; whatever it left belonged to this one. */
    (void)BIO_reset(d->rbio);
    ERR_clear_error();
    if (again && !sent && d->flight_n > 0 && !terminal(d) && !resent_recently(d, now_us))
        resend_flight(d, now_us);
    return 0;
}

int tf_dtls_handle_timeout(tf_dtls_t *d, uint64_t now_us)
{
    if (!d)
        return -EINVAL;
    if (terminal(d))
        return 0;
    if (d->state != TF_DTLS_STATE_CONNECTED && now_us >= d->handshake_deadline) {
        fail(d, -ETIMEDOUT, "the DTLS handshake timed out");
        return 0;
    }
    if (now_us < d->rtx_deadline)
        return 0;
    ERR_clear_error();
    d->retransmitted = 0;
    int r = DTLSv1_handle_timeout(d->ssl);
    if (r < 0) {
        fail_from_openssl(d, d->state == TF_DTLS_STATE_CONNECTED);
    } else if (r == 0) {
        /* OpenSSL's wall clock has not reached its own deadline yet (the caller's clock ran
         * ahead of it), or its timer is off: come back when OpenSSL says it will be due. */
        struct timeval tv;
        d->stats.wall_clock_waits++;
        if (DTLSv1_get_timeout(d->ssl, &tv)) {
            uint64_t left = timeval_us(&tv);
            d->rtx_deadline = now_us + (left ? left : 1000);
        } else {
            d->rtx_deadline = UINT64_MAX;
        }
    }
    (void)drain_output(d, now_us, DRAIN_OTHER);
    update_timer(d, now_us);
    ERR_clear_error();
    return 0;
}

int tf_dtls_poll_transmit(tf_dtls_t *d, uint8_t *buf, size_t cap)
{
    if (!d || !buf)
        return -EINVAL;
    if (d->tx_count == 0)
        return -EAGAIN;
    datagram_t *g = &d->tx[d->tx_head];
    if (cap < g->len)
        return -ENOBUFS;
    memcpy(buf, g->data, g->len);
    d->tx_head = (d->tx_head + 1) % TX_SLOTS;
    d->tx_count--;
    d->stats.datagrams_out++;
    return (int)g->len;
}

int tf_dtls_poll_event(tf_dtls_t *d, tf_dtls_event_t *out)
{
    if (!d || !out)
        return -EINVAL;
    if (d->ev_count == 0)
        return -EAGAIN;
    tf_dtls_event_t *e = &d->ev[d->ev_head];
    *out = *e;
    OPENSSL_cleanse(e, sizeof(*e));
    d->ev_head = (d->ev_head + 1) % EVENT_SLOTS;
    d->ev_count--;
    return 0;
}

uint64_t tf_dtls_poll_timeout(const tf_dtls_t *d)
{
    if (!d || terminal(d))
        return UINT64_MAX;
    uint64_t t = d->rtx_deadline;
    if (d->state != TF_DTLS_STATE_CONNECTED && d->handshake_deadline < t)
        t = d->handshake_deadline;
    return t;
}

int tf_dtls_close(tf_dtls_t *d, uint64_t now_us)
{
    if (!d)
        return -EINVAL;
    if (terminal(d))
        return 0;
    if (d->state == TF_DTLS_STATE_CONNECTED) {
        ERR_clear_error();
        (void)SSL_shutdown(d->ssl);
        d->retransmitted = 0;
        (void)drain_output(d, now_us, DRAIN_OTHER);
        ERR_clear_error();
    }
    d->state = TF_DTLS_STATE_CLOSED;
    d->rtx_deadline = UINT64_MAX;
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    return 0;
}

tf_dtls_state_t tf_dtls_state(const tf_dtls_t *d)
{
    return d ? d->state : TF_DTLS_STATE_FAILED;
}

int tf_dtls_srtp_keys(const tf_dtls_t *d, tf_srtp_keys_t *out)
{
    if (!d || !out)
        return -EINVAL;
    if (d->state != TF_DTLS_STATE_CONNECTED)
        return -ENOTCONN;
    *out = d->keys;
    return 0;
}

void tf_dtls_get_stats(const tf_dtls_t *d, tf_dtls_stats_t *out)
{
    if (!out)
        return;
    if (d)
        *out = d->stats;
    else
        memset(out, 0, sizeof(*out));
}

int tf_dtls_is_dtls(const uint8_t *buf, size_t len)
{
    return buf && len > 0 && buf[0] >= 20 && buf[0] <= 63;
}
