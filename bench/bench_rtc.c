/* bench_rtc.c — operator figures for the WebRTC transport (server/rtc): packets/s per core on the
 * receive and send paths, DTLS handshakes/s, memory per connected session, each beside a baseline
 * measured in the same run. It measures and prints PASS/MISS against the targets; it does
 * not check correctness beyond what it needs to trust a figure (test_rtc_peer does that).
 *
 * Usage: bench_rtc [--quick]. --quick is CI's smoke run (tiny counts, a few seconds).
 *
 * Paths, per packet, on real tf_peer_t sessions that completed ICE + DTLS in memory:
 *   receive: tf_peer_handle_input (RFC 7983 demux, address check, SRTP unprotect) -> tf_rtp_parse
 *            -> the stream for its SSRC, from a 16-slot table (4 streams);
 *   send:    tf_rtp_h264_packetize_next (on real x264 access units) -> tf_rtp_marshal_to ->
 *            tf_peer_protect_rtp.
 * The baseline is OpenSSL EVP doing the same cipher work per packet (AES-128-GCM with the header
 * as AAD, or AES-128-CTR + HMAC-SHA1), with no SRTP or RTP bookkeeping: path / baseline says how
 * much of a core the transport adds on top of the cryptography. Time is the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so other load on this shared machine costs less accuracy; rounds of
 * every row are interleaved and the median reported. */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "codec/frame.h"
#include "codec/video.h"
#include "server/rtc/dtls.h"
#include "server/rtc/peer.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"
#include "server/rtc/srtp.h"
#include "server/rtc/stun.h"
#include "tests/unit/dtls_test_client.h" /* OpenSSL's real wall clock: no fake one here */

#define TARGET_PPS 200000.0 /* the issue: >= 200,000 packets/s per core each way */
#define MTU 1200
#define MAX_PKT 1500
#define MAX_ROUNDS 25
#define N_STREAMS 4
#define SRV_UFRAG "BnSv"
#define SRV_PWD "benchServerPasswordBench"
#define CLI_UFRAG "BnCl"
#define CLI_PWD "benchClientPasswordBnch"

static void die(const char *what)
{
    fprintf(stderr, "bench_rtc: %s\n", what);
    exit(1);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *profile_name(tf_srtp_profile_t p)
{
    return p == TF_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80";
}

/* ---- a browser-like DTLS client and a connected session ------------------------------- */

typedef struct client_ctx {
    SSL_CTX *ctx;
    EVP_PKEY *key;
    X509 *cert;
    char fingerprint[TF_DTLS_FINGERPRINT_SIZE];
} client_ctx_t;

/* The browser checks the server's certificate against the SDP fingerprint: a digest per
 * handshake, here as on the bare OpenSSL baseline server. */
static int digest_verify_cb(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    uint8_t d[32];
    unsigned n = 0;
    return X509_digest(X509_STORE_CTX_get_current_cert(store), EVP_sha256(), d, &n) == 1;
}

static void client_ctx_init(client_ctx_t *c, const char *profiles)
{
    c->key = EVP_EC_gen("P-256");
    if (!c->key || !(c->cert = dtls_test_self_signed(c->key, "bench-client")) ||
        dtls_test_fingerprint(c->cert, "sha-256", c->fingerprint, sizeof(c->fingerprint)) < 0 ||
        !(c->ctx = dtls_test_ctx_new(c->key, c->cert, profiles, digest_verify_cb)))
        die("cannot set up the client context");
}

static void client_ctx_free(client_ctx_t *c)
{
    SSL_CTX_free(c->ctx);
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
}

static SSL *client_new(const client_ctx_t *c)
{
    SSL *ssl = dtls_test_ssl_new(c->ctx, MTU, NULL);
    if (!ssl)
        die("out of memory");
    return ssl;
}

/* Where a server takes one datagram; returns how many datagrams it queued for the client. */
typedef void (*server_input_fn)(void *srv, const uint8_t *buf, size_t len);
typedef int (*server_output_fn)(void *srv, uint8_t *buf, size_t cap); /* length, or <= 0 */

/* Runs the handshake between an OpenSSL client and a server until both are done (no loss: no
 * timers). The client's records are packed into datagrams of at most MTU bytes. */
static void handshake(SSL *cli, void *srv, server_input_fn in, server_output_fn out,
                      int (*srv_done)(void *srv), double *srv_cpu)
{
    int cli_done = 0;
    uint8_t dg[MAX_PKT];
    for (int round = 0; round < 32; round++) {
        if (!cli_done) {
            int r = SSL_do_handshake(cli);
            if (r == 1)
                cli_done = 1;
            else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ)
                die("the client's handshake failed");
        }
        ERR_clear_error();
        char *p = NULL;
        long n = BIO_get_mem_data(SSL_get_wbio(cli), &p);
        size_t off = 0, total = n > 0 ? (size_t)n : 0, dlen;
        const uint8_t *b = (const uint8_t *)p;
        double t0 = cpu_s();
        while ((dlen = dtls_test_next_datagram(b, total, &off, MTU)) > 0)
            in(srv, b + off - dlen, dlen);
        if (srv_cpu)
            *srv_cpu += cpu_s() - t0;
        (void)BIO_reset(SSL_get_wbio(cli));
        int moved = total > 0;
        for (;;) {
            t0 = cpu_s();
            int len = out(srv, dg, sizeof(dg));
            if (srv_cpu)
                *srv_cpu += cpu_s() - t0;
            if (len <= 0)
                break;
            BIO_write(SSL_get_rbio(cli), dg, len);
            moved = 1;
        }
        if (cli_done && srv_done(srv))
            return;
        if (!moved && cli_done)
            break;
    }
    die("the handshake did not complete");
}

/* A tf_peer_t as the server: STUN check first (it validates the client's address), then DTLS. */
typedef struct peer_srv {
    tf_peer_t *peer;
    tf_addr_t from;
    int connected;
} peer_srv_t;

static void peer_in(void *srv, const uint8_t *buf, size_t len)
{
    peer_srv_t *s = srv;
    uint8_t tmp[MAX_PKT];
    memcpy(tmp, buf, len);
    if (tf_peer_handle_input(s->peer, mono_us(), &s->from, tmp, &len) < 0)
        die("the peer refused a handshake datagram");
    tf_peer_event_t ev;
    while (tf_peer_poll_event(s->peer, &ev) == 0) {
        if (ev.kind == TF_PEER_EVENT_CONNECTED)
            s->connected = 1;
        else if (ev.kind == TF_PEER_EVENT_CLOSED)
            die(ev.reason);
    }
}

static int peer_out(void *srv, uint8_t *buf, size_t cap)
{
    peer_srv_t *s = srv;
    tf_peer_transmit_t tx;
    if (tf_peer_poll_transmit(s->peer, &tx) < 0)
        return 0;
    if (tx.len > cap)
        die("datagram too big");
    memcpy(buf, tx.data, tx.len);
    return (int)tx.len;
}

static int peer_done(void *srv)
{
    return ((peer_srv_t *)srv)->connected;
}

typedef struct session {
    tf_peer_t *peer;
    tf_addr_t from;
    tf_srtp_t *cli_srtp; /* the client's half, when asked for */
} session_t;

static void ice_check(tf_peer_t *peer, tf_stun_key_t *key, const tf_addr_t *from, uint32_t n)
{
    uint8_t tid[TF_STUN_TID_LEN] = {0}, out[256];
    memcpy(tid, &n, sizeof(n));
    tf_stun_msg_t m;
    tf_stun_msg_init(&m, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, tid);
    m.has = TF_STUN_HAS_USERNAME | TF_STUN_HAS_PRIORITY | TF_STUN_HAS_ICE_CONTROLLING |
            TF_STUN_HAS_USE_CANDIDATE | TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT;
    m.username = SRV_UFRAG ":" CLI_UFRAG;
    m.username_len = strlen(m.username);
    m.priority = 1853824767;
    m.ice_controlling = 42;
    size_t len = 0;
    if (tf_stun_marshal_to(&m, key, out, sizeof(out), &len) < 0 ||
        tf_peer_handle_input(peer, mono_us(), from, out, &len) < 0)
        die("the ICE check failed");
    tf_peer_transmit_t tx;
    while (tf_peer_poll_transmit(peer, &tx) == 0)
        ; /* the answer */
    tf_peer_event_t ev;
    while (tf_peer_poll_event(peer, &ev) == 0)
        ;
}

static void session_connect(session_t *s, const tf_dtls_cert_t *cert, const client_ctx_t *cc,
                            tf_stun_key_t *key, uint32_t n, bool want_client_srtp)
{
    memset(s, 0, sizeof(*s));
    s->from = tf_addr_v4(10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, 50000);
    tf_peer_config_t pc = {
        .cert = cert,
        .local_ufrag = SRV_UFRAG,
        .local_pwd = SRV_PWD,
        .remote_ufrag = CLI_UFRAG,
        .remote_pwd = CLI_PWD,
        .fingerprint_hash = "sha-256",
        .fingerprint = cc->fingerprint,
    };
    if (tf_peer_create(&s->peer, &pc, mono_us()) < 0)
        die("tf_peer_create failed");
    ice_check(s->peer, key, &s->from, n);
    SSL *cli = client_new(cc);
    peer_srv_t ps = {.peer = s->peer, .from = s->from};
    handshake(cli, &ps, peer_in, peer_out, peer_done, NULL);
    tf_srtp_profile_t prof;
    if (want_client_srtp && dtls_test_client_srtp(cli, &prof, &s->cli_srtp) < 0)
        die("cannot key the client's SRTP");
    SSL_free(cli);
}

static void session_free(session_t *s)
{
    tf_peer_destroy(&s->peer);
    tf_srtp_destroy(&s->cli_srtp);
}

/* ---- receive and send paths ------------------------------------------------------------ */

typedef struct stream {
    uint32_t ssrc;
    uint64_t packets, bytes;
    uint16_t last_seq;
} stream_t;

/* 16 slots, open addressing on a multiplicative hash: the per-packet route of a session. */
typedef struct route {
    stream_t slot[16];
    bool used[16];
} route_t;

static unsigned route_hash(uint32_t ssrc)
{
    return (ssrc * 2654435761u) >> 28;
}

static void route_add(route_t *r, uint32_t ssrc)
{
    unsigned i = route_hash(ssrc);
    while (r->used[i])
        i = (i + 1) & 15;
    r->used[i] = true;
    r->slot[i] = (stream_t){.ssrc = ssrc};
}

static stream_t *route_find(route_t *r, uint32_t ssrc)
{
    for (unsigned i = route_hash(ssrc), n = 0; n < 16; i = (i + 1) & 15, n++) {
        if (!r->used[i])
            return NULL;
        if (r->slot[i].ssrc == ssrc)
            return &r->slot[i];
    }
    return NULL;
}

typedef struct row {
    tf_srtp_profile_t profile;
    size_t size; /* receive: the plain RTP packet; send: the payload budget + 12 */
    session_t *sess;
    route_t route;
    uint32_t seq[N_STREAMS];
    uint32_t ssrc[N_STREAMS];
    double recv_pps[MAX_ROUNDS], send_pps[MAX_ROUNDS], base_pps[MAX_ROUNDS];
    double unprot_pps[MAX_ROUNDS], prot_pps[MAX_ROUNDS]; /* tf_srtp alone */
    tf_srtp_t *alone_tx, *alone_rx;
    uint32_t alone_seq;
    uint64_t send_bytes, send_packets;
    /* send: where it is in the stream of access units */
    int au, pk_active;
    tf_rtp_h264_packetizer_t pk;
    uint16_t send_seq;
    uint32_t send_ts, send_ssrc;
} row_t;

typedef struct au_set {
    tf_venc_packet_t *au;
    uint8_t **data;
    int n;
} au_set_t;

static void make_rtp(uint8_t *p, size_t len, uint32_t ssrc, uint32_t seq_ext)
{
    uint16_t seq = (uint16_t)seq_ext;
    uint32_t ts = seq_ext * 960u;
    p[0] = 0x80, p[1] = 96, p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
    for (size_t i = 12; i < len; i++)
        p[i] = (uint8_t)(i * 31 + seq);
}

/* One round of the receive path over `batch` fresh packets (protected untimed by the client). */
static double recv_round(row_t *r, int batch, uint8_t *bufs, size_t *lens)
{
    for (int i = 0; i < batch; i++) {
        int s = i % N_STREAMS;
        uint8_t *p = bufs + (size_t)i * MAX_PKT;
        make_rtp(p, r->size, r->ssrc[s], r->seq[s]++);
        lens[i] = r->size;
        if (tf_srtp_protect_rtp(r->sess->cli_srtp, p, &lens[i], MAX_PKT) < 0)
            die("client protect failed");
    }
    tf_peer_t *peer = r->sess->peer;
    const tf_addr_t *from = &r->sess->from;
    uint64_t now = mono_us();
    double t0 = cpu_s();
    for (int i = 0; i < batch; i++) {
        uint8_t *p = bufs + (size_t)i * MAX_PKT;
        size_t len = lens[i];
        if (tf_peer_handle_input(peer, now, from, p, &len) != TF_PEER_INPUT_RTP)
            die("receive path: not RTP");
        tf_rtp_packet_t pkt;
        if (tf_rtp_parse(&pkt, p, len) < 0)
            die("receive path: parse failed");
        stream_t *st = route_find(&r->route, pkt.ssrc);
        if (!st)
            die("receive path: unknown SSRC");
        st->packets++;
        st->bytes += pkt.payload_len;
        st->last_seq = pkt.seq;
    }
    double dt = cpu_s() - t0;
    return batch / dt;
}

/* One round of the send path: `batch` packets out of the access units, packetized on the fly. */
static double send_round(row_t *r, const au_set_t *aus, int batch, uint8_t *bufs, size_t *lens)
{
    tf_peer_t *peer = r->sess->peer;
    uint8_t payload[MAX_PKT];
    size_t budget = r->size - 12;
    double t0 = cpu_s();
    for (int i = 0; i < batch; i++) {
        if (!r->pk_active) {
            r->au = (r->au + 1) % aus->n;
            r->send_ts += 6000;
            if (tf_rtp_h264_packetize_init(&r->pk, &aus->au[r->au], budget) < 0)
                die("packetize_init failed");
            r->pk_active = 1;
        }
        bool marker = false;
        int n = tf_rtp_h264_packetize_next(&r->pk, payload, sizeof(payload), &marker);
        if (n < 0)
            die("packetize failed");
        if (marker)
            r->pk_active = 0;
        tf_rtp_packet_t p;
        memset(&p, 0, sizeof(p));
        p.payload_type = 102;
        p.ssrc = r->send_ssrc;
        p.seq = r->send_seq++;
        p.timestamp = r->send_ts;
        p.marker = marker;
        p.payload = payload;
        p.payload_len = (size_t)n;
        uint8_t *out = bufs + (size_t)i * MAX_PKT;
        int len = tf_rtp_marshal_to(&p, out, MAX_PKT - TF_SRTP_MAX_RTP_OVERHEAD);
        if (len < 0)
            die("marshal failed");
        lens[i] = (size_t)len;
        if (tf_peer_protect_rtp(peer, out, &lens[i], MAX_PKT) < 0)
            die("send path: protect failed");
        r->send_bytes += (size_t)len;
    }
    double dt = cpu_s() - t0;
    r->send_packets += (uint64_t)batch;
    return batch / dt;
}

/* What the send path sent must be what the browser can read: spot-check a round. */
static void send_check(row_t *r, uint8_t *bufs, size_t *lens, int batch)
{
    /* The client's inbound context sees packets in order; check a prefix only once, since a
     * later round's sequence numbers would be fine too but the first check proves the keys. */
    for (int i = 0; i < batch && i < 8; i++) {
        size_t len = lens[i];
        if (tf_srtp_unprotect_rtp(r->sess->cli_srtp, bufs + (size_t)i * MAX_PKT, &len) < 0)
            die("the client cannot read what the send path sent");
    }
}

/* The SRTP call alone (tf_srtp over libsrtp2, no demux, parse, route or packetizer), on a
 * session pair of its own: what the paths cost beyond it is the transport's own work. */
static void alone_init(row_t *r)
{
    uint8_t material[TF_SRTP_MAX_KEYING_MATERIAL];
    size_t kl, sl;
    tf_srtp_keys_t sk, ck;
    for (size_t i = 0; i < sizeof(material); i++)
        material[i] = (uint8_t)(i * 7 + 1);
    if (tf_srtp_key_lengths(r->profile, &kl, &sl) < 0 ||
        tf_srtp_keys_from_material(&sk, r->profile, material, 2 * (kl + sl), 1) < 0 ||
        tf_srtp_keys_from_material(&ck, r->profile, material, 2 * (kl + sl), 0) < 0 ||
        tf_srtp_create(&r->alone_tx, &sk, NULL) < 0 || tf_srtp_create(&r->alone_rx, &ck, NULL) < 0)
        die("cannot create SRTP sessions");
    r->alone_seq = 1;
}

static void alone_round(row_t *r, int batch, uint8_t *bufs, size_t *lens, int round)
{
    for (int i = 0; i < batch; i++)
        make_rtp(bufs + (size_t)i * MAX_PKT, r->size, 0x7777u, r->alone_seq++);
    double t0 = cpu_s();
    for (int i = 0; i < batch; i++) {
        lens[i] = r->size;
        if (tf_srtp_protect_rtp(r->alone_tx, bufs + (size_t)i * MAX_PKT, &lens[i], MAX_PKT) < 0)
            die("protect failed");
    }
    double t1 = cpu_s();
    for (int i = 0; i < batch; i++)
        if (tf_srtp_unprotect_rtp(r->alone_rx, bufs + (size_t)i * MAX_PKT, &lens[i]) < 0)
            die("unprotect failed");
    double t2 = cpu_s();
    r->prot_pps[round] = batch / (t1 - t0);
    r->unprot_pps[round] = batch / (t2 - t1);
}

/* The same cipher work with OpenSSL EVP and nothing else, on packets of the same size. */
typedef struct evp_base {
    EVP_CIPHER_CTX *c;
    EVP_MAC *mac;
    EVP_MAC_CTX *m;
    int gcm;
} evp_base_t;

static void evp_init(evp_base_t *b, tf_srtp_profile_t profile)
{
    static const uint8_t key[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    uint8_t iv[16] = {0};
    b->gcm = profile == TF_SRTP_AEAD_AES_128_GCM;
    b->c = EVP_CIPHER_CTX_new();
    b->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    b->m = b->mac ? EVP_MAC_CTX_new(b->mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
                           OSSL_PARAM_construct_end()};
    if (!b->c || !b->m || !EVP_MAC_init(b->m, key, 20, params) ||
        !EVP_EncryptInit_ex(b->c, b->gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL, key, iv))
        die("cannot set up OpenSSL");
}

static void evp_free(evp_base_t *b)
{
    EVP_CIPHER_CTX_free(b->c);
    EVP_MAC_CTX_free(b->m);
    EVP_MAC_free(b->mac);
}

static double evp_round(evp_base_t *b, size_t size, int batch, uint8_t *bufs, uint32_t *seq)
{
    uint8_t iv[16] = {0}, tag[EVP_MAX_MD_SIZE];
    int outl = 0;
    size_t taglen = 0;
    for (int i = 0; i < batch; i++)
        make_rtp(bufs + (size_t)i * MAX_PKT, size, 0x12345678u, (*seq)++);
    double t0 = cpu_s();
    for (int i = 0; i < batch; i++) {
        uint8_t *p = bufs + (size_t)i * MAX_PKT;
        memcpy(iv + 2, p + 2, 10); /* something packet-dependent, as SRTP's IV is */
        int ok = EVP_EncryptInit_ex(b->c, NULL, NULL, NULL, iv);
        if (b->gcm) {
            ok = ok && EVP_EncryptUpdate(b->c, NULL, &outl, p, 12) &&
                 EVP_EncryptUpdate(b->c, p + 12, &outl, p + 12, (int)size - 12) &&
                 EVP_EncryptFinal_ex(b->c, p + size, &outl) &&
                 EVP_CIPHER_CTX_ctrl(b->c, EVP_CTRL_GCM_GET_TAG, 16, p + size);
        } else {
            ok = ok && EVP_EncryptUpdate(b->c, p + 12, &outl, p + 12, (int)size - 12) &&
                 EVP_MAC_init(b->m, NULL, 0, NULL) && EVP_MAC_update(b->m, p, size) &&
                 EVP_MAC_final(b->m, tag, &taglen, sizeof(tag));
            memcpy(p + size, tag, 10);
        }
        if (!ok)
            die("OpenSSL failed");
    }
    return batch / (cpu_s() - t0);
}

/* ---- access units for the send path --------------------------------------------------- */

static void pattern(tf_frame_t *f, int t)
{
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * f->stride[0];
        for (int x = 0; x < f->width; x++) {
            uint32_t h = ((uint32_t)x * 73856093u) ^ ((uint32_t)y * 19349663u) ^ (uint32_t)t;
            row[x] = (uint8_t)(64 + ((x + 2 * y + 5 * t) & 127) + (h >> 28));
        }
    }
    for (int y = 0; y < tf_frame_chroma_h(f); y++) {
        memset(f->plane[1] + (size_t)y * f->stride[1], 100 + (y + t) % 40,
               (size_t)tf_frame_chroma_w(f));
        memset(f->plane[2] + (size_t)y * f->stride[2], 140 - (y + t) % 30,
               (size_t)tf_frame_chroma_w(f));
    }
    f->pts_us = (int64_t)t * 66667;
}

/* Access units of 640x360 H.264 at 1 Mbit/s (one IDR, then P frames), copied out of x264. */
static void make_aus(au_set_t *s, int n)
{
    tf_venc_config_t vc;
    tf_venc_t *enc = NULL;
    tf_venc_config_default(&vc, TF_VCODEC_H264, 640, 360, 1000);
    tf_frame_t *f = tf_frame_alloc(640, 360);
    if (!f || tf_venc_create(&enc, &vc) < 0)
        die("cannot create the encoder");
    s->au = calloc((size_t)n, sizeof(*s->au));
    s->data = calloc((size_t)n, sizeof(*s->data));
    if (!s->au || !s->data)
        die("out of memory");
    s->n = n;
    for (int i = 0; i < n; i++) {
        pattern(f, i);
        tf_venc_packet_t p;
        if (tf_venc_encode(enc, f, 0, &p) < 0 || p.size == 0)
            die("encode failed");
        s->data[i] = malloc(p.size);
        if (!s->data[i])
            die("out of memory");
        memcpy(s->data[i], p.data, p.size);
        s->au[i] = p;
        s->au[i].data = s->data[i];
    }
    tf_venc_destroy(&enc);
    tf_frame_unref(&f);
}

static void free_aus(au_set_t *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->data[i]);
    free(s->data);
    free(s->au);
}

/* ---- DTLS handshakes ------------------------------------------------------------------- */

typedef struct dtls_srv {
    tf_dtls_t *d;
} dtls_srv_t;

static void dtls_in(void *srv, const uint8_t *buf, size_t len)
{
    if (tf_dtls_handle_input(((dtls_srv_t *)srv)->d, mono_us(), buf, len) < 0)
        die("tf_dtls refused a datagram");
}

static int dtls_out(void *srv, uint8_t *buf, size_t cap)
{
    int n = tf_dtls_poll_transmit(((dtls_srv_t *)srv)->d, buf, cap);
    return n > 0 ? n : 0;
}

static int dtls_done(void *srv)
{
    tf_dtls_state_t st = tf_dtls_state(((dtls_srv_t *)srv)->d);
    if (st == TF_DTLS_STATE_FAILED || st == TF_DTLS_STATE_CLOSED)
        die("tf_dtls handshake failed");
    return st == TF_DTLS_STATE_CONNECTED;
}

/* The baseline: a bare OpenSSL DTLS server on memory BIOs with what tf_dtls configures (same
 * key type, suites, groups, use_srtp, peer certificate required) and the keys exported. */
typedef struct bare_srv {
    SSL *ssl;
    int done;
} bare_srv_t;

static SSL_CTX *bare_ctx(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? dtls_test_self_signed(key, "bench-bare") : NULL;
    if (!x)
        die("no key or certificate");
    SSL_CTX *ctx = SSL_CTX_new(DTLS_server_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_use_certificate(ctx, x) || !SSL_CTX_use_PrivateKey(ctx, key) ||
        !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-"
                                      "SHA384:ECDHE-ECDSA-CHACHA20-POLY1305") ||
        !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") ||
        SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
        die("cannot set up the bare server");
    SSL_CTX_set_options(ctx,
                        SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, digest_verify_cb);
    X509_free(x);
    EVP_PKEY_free(key);
    return ctx;
}

static void bare_in(void *srv, const uint8_t *buf, size_t len)
{
    bare_srv_t *s = srv;
    BIO_write(SSL_get_rbio(s->ssl), buf, (int)len);
    if (!s->done) {
        int r = SSL_do_handshake(s->ssl);
        if (r == 1) {
            uint8_t m[TF_SRTP_MAX_KEYING_MATERIAL];
            if (SSL_export_keying_material(s->ssl, m, 56, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) !=
                1)
                die("bare export failed");
            s->done = 1;
        } else if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ) {
            die("bare handshake failed");
        }
    }
    ERR_clear_error();
}

/* Whole records, packed into one datagram of at most MTU bytes, as tf_dtls does. */
static int bare_out(void *srv, uint8_t *buf, size_t cap)
{
    bare_srv_t *s = srv;
    BIO *w = SSL_get_wbio(s->ssl);
    char *p = NULL;
    long n = BIO_get_mem_data(w, &p);
    size_t off = 0, limit = cap < MTU ? cap : MTU;
    size_t len = dtls_test_next_datagram((const uint8_t *)p, n > 0 ? (size_t)n : 0, &off, limit);
    if (len > limit || (n > 0 && len == 0))
        die("a bare server record does not fit a datagram");
    return len ? BIO_read(w, buf, (int)len) : 0;
}

static int bare_done(void *srv)
{
    return ((bare_srv_t *)srv)->done;
}

typedef struct hs_result {
    double srv_hs, all_hs; /* per CPU second: server side only, and client + server */
} hs_result_t;

static hs_result_t hs_tafel(const tf_dtls_cert_t *cert, const client_ctx_t *cc, int n)
{
    double srv = 0, t0 = cpu_s();
    tf_dtls_config_t dc = {.fingerprint_hash = "sha-256", .fingerprint = cc->fingerprint};
    for (int i = 0; i < n; i++) {
        dtls_srv_t s = {0};
        double c0 = cpu_s();
        if (tf_dtls_create(&s.d, cert, &dc, mono_us()) < 0)
            die("tf_dtls_create failed");
        srv += cpu_s() - c0;
        SSL *cli = client_new(cc);
        handshake(cli, &s, dtls_in, dtls_out, dtls_done, &srv);
        tf_dtls_event_t ev;
        c0 = cpu_s();
        if (tf_dtls_poll_event(s.d, &ev) < 0 || ev.kind != TF_DTLS_EVENT_CONNECTED)
            die("no CONNECTED event");
        tf_dtls_destroy(&s.d);
        srv += cpu_s() - c0;
        SSL_free(cli);
    }
    hs_result_t r = {n / srv, n / (cpu_s() - t0)};
    return r;
}

static hs_result_t hs_bare(SSL_CTX *sctx, const client_ctx_t *cc, int n)
{
    double srv = 0, t0 = cpu_s();
    for (int i = 0; i < n; i++) {
        bare_srv_t s = {0};
        double c0 = cpu_s();
        s.ssl = SSL_new(sctx);
        BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
        if (!s.ssl || !r || !w)
            die("out of memory");
        BIO_set_mem_eof_return(r, -1);
        BIO_set_mem_eof_return(w, -1);
        SSL_set_bio(s.ssl, r, w);
        SSL_set_accept_state(s.ssl);
        SSL_set_mtu(s.ssl, MTU);
        srv += cpu_s() - c0;
        SSL *cli = client_new(cc);
        handshake(cli, &s, bare_in, bare_out, bare_done, &srv);
        c0 = cpu_s();
        SSL_free(s.ssl);
        srv += cpu_s() - c0;
        SSL_free(cli);
    }
    hs_result_t res = {n / srv, n / (cpu_s() - t0)};
    return res;
}

/* ---- memory per connected session ----------------------------------------------------- */

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
        die("cannot read /proc/self/statm");
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

typedef struct mem_result {
    double created_heap_kib, heap_kib, rss_kib;
    int n;
} mem_result_t;

/* Heap and RSS growth per session: N sessions created (tf_peer_create, nothing received yet:
 * what a half-open session costs), then N connected ones (ICE check + DTLS + SRTP keys). */
static mem_result_t memory_per_session(const tf_dtls_cert_t *cert, const client_ctx_t *cc,
                                       tf_stun_key_t *key, int n)
{
    session_t *s = calloc((size_t)n, sizeof(*s));
    if (!s)
        die("out of memory");
    /* Warm up OpenSSL's and libsrtp2's lazily built tables with one session. */
    session_connect(&s[0], cert, cc, key, 1, false);
    session_free(&s[0]);
    malloc_trim(0);
    tf_peer_config_t pc = {
        .cert = cert,
        .local_ufrag = SRV_UFRAG,
        .local_pwd = SRV_PWD,
        .remote_ufrag = CLI_UFRAG,
        .remote_pwd = CLI_PWD,
        .fingerprint_hash = "sha-256",
        .fingerprint = cc->fingerprint,
    };
    size_t heap0 = mallinfo2().uordblks;
    for (int i = 0; i < n; i++)
        if (tf_peer_create(&s[i].peer, &pc, mono_us()) < 0)
            die("tf_peer_create failed");
    size_t heap_created = mallinfo2().uordblks;
    for (int i = 0; i < n; i++)
        tf_peer_destroy(&s[i].peer);
    malloc_trim(0);
    size_t heap1 = mallinfo2().uordblks;
    long rss0 = rss_bytes();
    for (int i = 0; i < n; i++)
        session_connect(&s[i], cert, cc, key, (uint32_t)i + 2, false);
    size_t heap2 = mallinfo2().uordblks;
    long rss1 = rss_bytes();
    for (int i = 0; i < n; i++) {
        if (!tf_peer_connected(s[i].peer))
            die("a session is not connected");
        session_free(&s[i]);
    }
    free(s);
    mem_result_t r = {(double)(heap_created - heap0) / n / 1024.0,
                      (double)(heap2 - heap1) / n / 1024.0, (double)(rss1 - rss0) / n / 1024.0, n};
    return r;
}

/* ---- main ----------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
        return 2;
    }
    int rounds = quick ? 3 : 15, batch = quick ? 512 : 4096;
    int handshakes = quick ? 10 : 200, hs_rounds = quick ? 1 : 5, sessions = quick ? 50 : 1000;
    int n_aus = quick ? 8 : 30;

    tf_dtls_cert_t *cert = NULL;
    if (tf_dtls_cert_create(&cert, NULL) < 0)
        die("cannot create the server certificate");
    client_ctx_t cc_gcm, cc_cm, cc_any;
    client_ctx_init(&cc_gcm, "SRTP_AEAD_AES_128_GCM");
    client_ctx_init(&cc_cm, "SRTP_AES128_CM_SHA1_80");
    client_ctx_init(&cc_any, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM");
    tf_stun_key_t *key = NULL;
    if (tf_stun_key_create(&key, SRV_PWD, strlen(SRV_PWD)) < 0)
        die("cannot create the STUN key");
    au_set_t aus;
    make_aus(&aus, n_aus);

    /* Packet paths: 2 profiles x 2 sizes, each on its own connected session. */
    enum { N_ROWS = 4 };
    static row_t rows[N_ROWS];
    static const size_t sizes[2] = {160, 1200};
    session_t sess[2];
    session_connect(&sess[0], cert, &cc_gcm, key, 0x10001, true);
    session_connect(&sess[1], cert, &cc_cm, key, 0x10002, true);
    for (int i = 0; i < N_ROWS; i++) {
        row_t *r = &rows[i];
        r->profile = i < 2 ? TF_SRTP_AEAD_AES_128_GCM : TF_SRTP_AES128_CM_SHA1_80;
        r->size = sizes[i % 2];
        r->sess = &sess[i / 2];
        for (int s = 0; s < N_STREAMS; s++) {
            r->ssrc[s] = 0xA0000000u + (uint32_t)(i * 16 + s) * 0x01010101u;
            r->seq[s] = 1;
            route_add(&r->route, r->ssrc[s]);
        }
        r->send_seq = (uint16_t)(1000 * i);
        r->send_ssrc = 0x5E4D0000u + (uint32_t)i;
        alone_init(r);
    }
    uint8_t *bufs = malloc((size_t)batch * MAX_PKT);
    size_t *lens = malloc((size_t)batch * sizeof(*lens));
    evp_base_t evp[2];
    evp_init(&evp[0], TF_SRTP_AEAD_AES_128_GCM);
    evp_init(&evp[1], TF_SRTP_AES128_CM_SHA1_80);
    uint32_t evp_seq = 1;
    if (!bufs || !lens)
        die("out of memory");
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < N_ROWS; i++) {
            row_t *r = &rows[i];
            r->recv_pps[round] = recv_round(r, batch, bufs, lens);
            r->send_pps[round] = send_round(r, &aus, batch, bufs, lens);
            if (round == 0)
                send_check(r, bufs, lens, batch);
            r->base_pps[round] = evp_round(&evp[i / 2], r->size, batch, bufs, &evp_seq);
            alone_round(r, batch, bufs, lens, round);
        }
    }

    /* DTLS handshakes, interleaved with the bare OpenSSL server. */
    SSL_CTX *bctx = bare_ctx();
    double t_srv[MAX_ROUNDS], t_all[MAX_ROUNDS], b_srv[MAX_ROUNDS], b_all[MAX_ROUNDS];
    for (int round = 0; round < hs_rounds; round++) {
        hs_result_t a = hs_tafel(cert, &cc_any, handshakes);
        hs_result_t b = hs_bare(bctx, &cc_any, handshakes);
        t_srv[round] = a.srv_hs, t_all[round] = a.all_hs;
        b_srv[round] = b.srv_hs, b_all[round] = b.all_hs;
    }
    mem_result_t mem = memory_per_session(cert, &cc_any, key, sessions);

    printf("### WebRTC transport (server/rtc), one core\n\n");
    printf("| path | SRTP profile | packet | Tafel path (pkt/s per core) | tf_srtp call alone "
           "(pkt/s) | OpenSSL EVP, same cipher work (pkt/s) | path / SRTP alone | path / EVP | "
           "target >= 200k pkt/s |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    int misses = 0;
    for (int dir = 0; dir < 2; dir++) {
        for (int i = 0; i < N_ROWS; i++) {
            row_t *r = &rows[i];
            double base = median(r->base_pps, rounds);
            double alone = median(dir ? r->prot_pps : r->unprot_pps, rounds);
            double pps = median(dir ? r->send_pps : r->recv_pps, rounds);
            char size[48];
            if (dir)
                snprintf(size, sizeof(size), "<= %zu B (mean %.0f)", r->size,
                         (double)r->send_bytes / (double)r->send_packets);
            else
                snprintf(size, sizeof(size), "%zu B", r->size);
            misses += pps < TARGET_PPS;
            printf("| %s | %s | %s | %.0f | %.0f | %.0f | %.2f | %.2f | %s |\n",
                   dir ? "send: H.264 packetize -> RTP marshal -> SRTP protect"
                       : "receive: demux + SRTP unprotect -> RTP parse -> SSRC route",
                   profile_name(r->profile), size, pps, alone, base, pps / alone, pps / base,
                   pps >= TARGET_PPS ? "PASS" : "MISS");
        }
    }
    double ts = median(t_srv, hs_rounds), ta = median(t_all, hs_rounds);
    double bs = median(b_srv, hs_rounds), ba = median(b_all, hs_rounds);
    printf("\n| DTLS 1.2 handshakes, in memory, one core | Tafel tf_dtls (hs/s) | bare OpenSSL "
           "server (hs/s) | Tafel / bare |\n");
    printf("|---|---:|---:|---:|\n");
    printf("| server side only (CPU in the server's calls) | %.0f | %.0f | %.2f |\n", ts, bs,
           ts / bs);
    printf("| server + browser-like client on the same core | %.0f | %.0f | %.2f |\n", ta, ba,
           ta / ba);
    printf("\n| memory per connected session (%d tf_peer_t after ICE + DTLS) | KiB |\n", mem.n);
    printf("|---|---:|\n");
    printf("| heap in use, created but nothing received yet (half-open) | %.1f |\n",
           mem.created_heap_kib);
    printf("| heap in use, connected (mallinfo2 uordblks growth) | %.1f |\n", mem.heap_kib);
    printf("| resident set growth (/proc/self/statm) | %.1f |\n", mem.rss_kib);
    printf("\nThread CPU time; packet rows: median of %d interleaved rounds of %d packets; "
           "handshakes: median of %d rounds of %d (ECDSA P-256 both sides, X25519, "
           "use_srtp). %d of %d packet rows below target.%s\n",
           rounds, batch, hs_rounds, handshakes, misses, 2 * N_ROWS,
           quick ? " --quick: smoke run, figures not meaningful." : "");

    SSL_CTX_free(bctx);
    free(bufs);
    free(lens);
    evp_free(&evp[0]);
    evp_free(&evp[1]);
    session_free(&sess[0]);
    session_free(&sess[1]);
    free_aus(&aus);
    for (int i = 0; i < N_ROWS; i++) {
        tf_srtp_destroy(&rows[i].alone_tx);
        tf_srtp_destroy(&rows[i].alone_rx);
    }
    tf_stun_key_destroy(&key);
    client_ctx_free(&cc_gcm);
    client_ctx_free(&cc_cm);
    client_ctx_free(&cc_any);
    tf_dtls_cert_destroy(&cert);
    return 0;
}
