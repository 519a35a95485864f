/* test_rtc_dtls.c — server/rtc/dtls.c handshaking in memory with a DTLS client built directly
 * on OpenSSL (its own ECDSA certificate, memory BIOs, use_srtp), on a fake clock with scripted
 * loss: keys, profiles, fingerprints, retransmission, timeouts, close. No sockets, no sleep.
 *
 * OpenSSL 3.0 reads gettimeofday() for its DTLS timers (see dtls.h). dtls_test_client.h defines
 * gettimeofday() so that, in this test process, OpenSSL's wall clock is the fake clock; a test
 * below also lets it lag to show what the server does when the two clocks disagree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "server/rtc/dtls.h"
#include "server/rtc/srtp.h"

#define DTLS_TEST_FAKE_WALL_CLOCK /* gettimeofday() is dtls_test_wall_us in this process */
#include "tests/unit/dtls_test_client.h"

#define SEC 1000000ull
#define MS 1000ull
#define T0 (1700000000ull * SEC) /* the fake clock starts at a plausible date */
#define MTU 1200
#define MAX_DGRAM 1500

/* ---- the OpenSSL client (what a browser does, a=setup:active) -------------------------- */

typedef dtls_test_client_t client_t; /* see dtls_test_client.h */

typedef struct fixture {
    tf_dtls_cert_t *cert;
    tf_dtls_t *srv;
    client_t cli;
    uint64_t now;
    int64_t wall_offset; /* OpenSSL's wall clock minus the fake clock */
    /* Scripted loss. */
    int drop_server_flights;     /* drop this many batches the server emits, from the first */
    int drop_server_flight_n;    /* ...or drop only batch number n (1-based) */
    int drop_client_finished;    /* drop the client's first epoch-1 handshake record */
    int drop_client_epoch1_from; /* ...or drop its epoch-1 records from number n (1-based) on */
    int client_epoch1_records;
    int server_batches; /* batches (flights or retransmissions) the server emitted */
    int server_datagrams, client_records;
    size_t largest_server_datagram;
} fixture_t;

static void set_now(fixture_t *f, uint64_t t)
{
    f->now = t;
    dtls_test_wall_us = t + (uint64_t)f->wall_offset;
}

typedef struct client_opts {
    const char *profiles; /* use_srtp offer; NULL: "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"
                           * (Chrome's order); "" offers no use_srtp at all */
    int no_cert;
    unsigned initial_rto_ms; /* 0: 5000, so the server's timer is the one that matters */
    uint16_t mtu;
} client_opts_t;

static void client_init(fixture_t *f, const client_opts_t *o)
{
    dtls_test_client_opts_t dco = {
        .profiles = o->profiles,
        .no_cert = o->no_cert,
        .initial_rto_us = (o->initial_rto_ms ? o->initial_rto_ms : 5000) * 1000u,
        .mtu = o->mtu ? o->mtu : MTU,
    };
    assert_int_equal(dtls_test_client_init(&f->cli, &dco), 0);
}

static void client_step(client_t *c)
{
    dtls_test_client_handshake(c);
    if (c->done && !c->got_close_notify)
        dtls_test_client_read(c);
    ERR_clear_error();
}

/* ---- the wire ------------------------------------------------------------------------- */

/* The client's records, each sent as its own datagram (legal, and it lets a test drop exactly
 * one record). Returns how many were delivered. */
static int client_flush(fixture_t *f)
{
    char *p = NULL;
    long n = BIO_get_mem_data(f->cli.wbio, &p);
    int delivered = 0;
    size_t off = 0;
    uint8_t rec[MAX_DGRAM * 4];
    size_t total = n > 0 ? (size_t)n : 0;
    /* Copy out first: handing a record to the server must not race the BIO's buffer. */
    uint8_t *copy = total ? malloc(total) : NULL;
    if (total) {
        assert_non_null(copy);
        memcpy(copy, p, total);
    }
    (void)BIO_reset(f->cli.wbio);
    size_t len;
    while (copy && (len = dtls_test_record_len(copy + off, total - off)) > 0) {
        assert_true(len <= sizeof(rec));
        memcpy(rec, copy + off, len);
        off += len;
        f->client_records++;
        int epoch = rec[3] << 8 | rec[4];
        if (f->drop_client_finished && rec[0] == 22 && epoch == 1) {
            f->drop_client_finished = 0;
            continue;
        }
        if (epoch == 1 && ++f->client_epoch1_records >= f->drop_client_epoch1_from &&
            f->drop_client_epoch1_from > 0)
            continue;
        int rc = tf_dtls_handle_input(f->srv, f->now, rec, len);
        assert_true(rc == 0 || rc == -EPIPE);
        delivered++;
    }
    assert_true(total - off < 13); /* nothing but whole records */
    free(copy);
    return delivered;
}

/* Everything the server has queued: one batch. Each datagram goes to the client unless this
 * batch is scripted to be lost. Returns how many were delivered. */
static int server_flush(fixture_t *f)
{
    uint8_t d[MAX_DGRAM];
    int n, delivered = 0, batch_started = 0, drop = 0;
    while ((n = tf_dtls_poll_transmit(f->srv, d, sizeof(d))) > 0) {
        if (!batch_started) {
            batch_started = 1;
            f->server_batches++;
            drop = f->drop_server_flights > 0 || f->drop_server_flight_n == f->server_batches;
            if (f->drop_server_flights > 0)
                f->drop_server_flights--;
        }
        f->server_datagrams++;
        if ((size_t)n > f->largest_server_datagram)
            f->largest_server_datagram = (size_t)n;
        if (drop)
            continue;
        assert_int_equal(BIO_write(f->cli.rbio, d, n), n);
        client_step(&f->cli);
        delivered++;
    }
    assert_int_equal(n, -EAGAIN);
    return delivered;
}

static void pump(fixture_t *f)
{
    for (int round = 0; round < 100; round++) {
        int moved = client_flush(f);
        moved += server_flush(f);
        if (!moved && BIO_ctrl_pending(f->cli.wbio) == 0)
            return;
    }
    fail_msg("the peers never went quiet");
}

static uint64_t client_deadline(const fixture_t *f)
{
    struct timeval tv;
    if (f->cli.done || f->cli.failed || !DTLSv1_get_timeout(f->cli.ssl, &tv))
        return UINT64_MAX;
    return f->now + (uint64_t)tv.tv_sec * SEC + (uint64_t)tv.tv_usec;
}

/* Moves both clocks to t, fires whatever timers are due, and lets the packets flow. */
static void advance(fixture_t *f, uint64_t t)
{
    set_now(f, t);
    assert_int_equal(tf_dtls_handle_timeout(f->srv, f->now), 0);
    if (!f->cli.done && !f->cli.failed) {
        if (DTLSv1_handle_timeout(f->cli.ssl) < 0)
            f->cli.failed = 1;
        ERR_clear_error();
    }
    pump(f);
}

/* Over when the server gave up, or when it connected and the client is done either way. */
static int handshake_over(const fixture_t *f)
{
    tf_dtls_state_t s = tf_dtls_state(f->srv);
    if (s == TF_DTLS_STATE_FAILED || s == TF_DTLS_STATE_CLOSED)
        return 1;
    return s == TF_DTLS_STATE_CONNECTED && (f->cli.done || f->cli.failed);
}

/* Runs the handshake to its end, jumping the fake clock from deadline to deadline. */
static void run(fixture_t *f, uint64_t limit)
{
    client_step(&f->cli); /* ClientHello */
    pump(f);
    while (!handshake_over(f)) {
        uint64_t next = tf_dtls_poll_timeout(f->srv);
        uint64_t cnext = client_deadline(f);
        if (cnext < next)
            next = cnext;
        if (next == UINT64_MAX || next > limit)
            break;
        advance(f, next);
    }
}

typedef struct server_opts {
    const char *hash;        /* NULL: "sha-256" */
    const char *fingerprint; /* NULL: the client's, correct */
    tf_srtp_profile_t profiles[2];
    int n_profiles;
    uint16_t mtu;
} server_opts_t;

static void setup_with(fixture_t *f, const server_opts_t *so, const client_opts_t *co)
{
    char fp[200];
    tf_dtls_cert_config_t cc = {.common_name = "tafel-test"};
    memset(f, 0, sizeof(*f));
    set_now(f, T0);
    assert_int_equal(tf_dtls_cert_create(&f->cert, &cc), 0);
    client_init(f, co);
    const char *hash = so->hash ? so->hash : "sha-256";
    assert_int_equal(dtls_test_fingerprint(f->cli.cert, hash, fp, sizeof(fp)), 0);
    tf_dtls_config_t cfg = {
        .fingerprint_hash = hash,
        .fingerprint = so->fingerprint ? so->fingerprint : fp,
        .n_profiles = so->n_profiles,
        .mtu = so->mtu,
    };
    memcpy(cfg.profiles, so->profiles, sizeof(cfg.profiles));
    assert_int_equal(tf_dtls_create(&f->srv, f->cert, &cfg, f->now), 0);

    /* The client learns the server's fingerprint from our SDP string. */
    char ours[TF_DTLS_FINGERPRINT_SIZE];
    assert_int_equal(tf_dtls_cert_fingerprint(f->cert, ours, sizeof(ours)), 0);
    assert_int_equal(dtls_test_client_learn_server(&f->cli, ours), 0);
}

/* The default server and a client whose first retransmission timer is rto_ms (0: 5 s). */
static void setup_rto(fixture_t *f, unsigned rto_ms)
{
    server_opts_t so = {0};
    client_opts_t co = {.initial_rto_ms = rto_ms};
    setup_with(f, &so, &co);
}

static tf_dtls_stats_t stats(const fixture_t *f)
{
    tf_dtls_stats_t st;
    tf_dtls_get_stats(f->srv, &st);
    return st;
}

static void teardown_fixture(fixture_t *f)
{
    tf_dtls_destroy(&f->srv);
    assert_null(f->srv);
    tf_dtls_cert_destroy(&f->cert);
    assert_null(f->cert);
    dtls_test_client_free(&f->cli);
    dtls_test_wall_us = T0;
}

static void expect_event(fixture_t *f, tf_dtls_event_kind_t kind, tf_dtls_event_t *ev)
{
    assert_int_equal(tf_dtls_poll_event(f->srv, ev), 0);
    assert_int_equal(ev->kind, kind);
}

/* The client's view of the keys, split here by hand from RFC 5764 §4.2. */
static void client_keys(fixture_t *f, tf_srtp_profile_t profile, tf_srtp_keys_t *k,
                        uint8_t *material, size_t *material_len)
{
    size_t kl = 16, sl = profile == TF_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    size_t n = 2 * (kl + sl);
    assert_int_equal(
        SSL_export_keying_material(f->cli.ssl, material, n, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0),
        1);
    memset(k, 0, sizeof(*k));
    k->profile = profile;
    k->key_len = (uint8_t)kl;
    k->salt_len = (uint8_t)sl;
    memcpy(k->local_key, material, kl);                 /* client_write_SRTP_master_key */
    memcpy(k->remote_key, material + kl, kl);           /* server_write_SRTP_master_key */
    memcpy(k->local_salt, material + 2 * kl, sl);       /* client_write_SRTP_master_salt */
    memcpy(k->remote_salt, material + 2 * kl + sl, sl); /* server_write_SRTP_master_salt */
    *material_len = n;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Media both ways between the server's session (from its CONNECTED event) and the client's. */
static void srtp_both_ways(const tf_srtp_keys_t *server_keys, const tf_srtp_keys_t *ck)
{
    tf_srtp_t *srv = NULL, *cli = NULL;
    assert_int_equal(tf_srtp_create(&srv, server_keys, NULL), 0);
    assert_int_equal(tf_srtp_create(&cli, ck, NULL), 0);
    for (int dir = 0; dir < 2; dir++) {
        tf_srtp_t *tx = dir ? srv : cli, *rx = dir ? cli : srv;
        for (uint16_t seq = 1; seq < 5; seq++) {
            uint8_t pkt[300], plain[300];
            pkt[0] = 0x80, pkt[1] = 111;
            pkt[2] = (uint8_t)(seq >> 8), pkt[3] = (uint8_t)seq;
            put32(pkt + 4, seq * 960u);
            put32(pkt + 8, 0x5EED0000u + (uint32_t)dir);
            for (int i = 12; i < 172; i++)
                pkt[i] = (uint8_t)(i ^ seq);
            size_t n = 172;
            memcpy(plain, pkt, n);
            assert_int_equal(tf_srtp_protect_rtp(tx, pkt, &n, sizeof(pkt)), 0);
            assert_int_equal(tf_srtp_unprotect_rtp(rx, pkt, &n), 0);
            assert_int_equal(n, 172);
            assert_memory_equal(pkt, plain, n);
        }
        uint8_t rtcp[64] = {0x81, 201, 0, 7};
        put32(rtcp + 4, 0x5EED0000u + (uint32_t)dir);
        size_t n = 32;
        assert_int_equal(tf_srtp_protect_rtcp(tx, rtcp, &n, sizeof(rtcp)), 0);
        assert_int_equal(tf_srtp_unprotect_rtcp(rx, rtcp, &n), 0);
        assert_int_equal(n, 32);
    }
    tf_srtp_destroy(&srv);
    tf_srtp_destroy(&cli);
}

/* A complete handshake; checks the profile on both sides, the keys byte for byte against the
 * client's own export, and media both ways. */
static void handshake_ok(const server_opts_t *so, const client_opts_t *co, tf_srtp_profile_t expect)
{
    fixture_t f;
    setup_with(&f, so, co);
    run(&f, T0 + 60 * SEC);
    assert_true(f.cli.done);
    assert_true(f.cli.verify_called);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    assert_true(f.largest_server_datagram <= (so->mtu ? so->mtu : MTU));

    tf_dtls_event_t ev;
    expect_event(&f, TF_DTLS_EVENT_CONNECTED, &ev);
    assert_int_equal(tf_dtls_poll_event(f.srv, &ev), -EAGAIN);
    const SRTP_PROTECTION_PROFILE *cp = SSL_get_selected_srtp_profile(f.cli.ssl);
    assert_non_null(cp);
    assert_int_equal(cp->id, expect);
    /* The event and the getter carry the same keys. */
    tf_srtp_keys_t sk;
    assert_int_equal(tf_dtls_srtp_keys(f.srv, &sk), 0);
    assert_int_equal(sk.profile, expect);
    assert_int_equal(ev.keys.profile, expect);
    assert_memory_equal(ev.keys.local_key, sk.local_key, sizeof(sk.local_key));
    assert_memory_equal(ev.keys.remote_key, sk.remote_key, sizeof(sk.remote_key));
    assert_memory_equal(ev.keys.local_salt, sk.local_salt, sizeof(sk.local_salt));
    assert_memory_equal(ev.keys.remote_salt, sk.remote_salt, sizeof(sk.remote_salt));
    uint8_t m[TF_SRTP_MAX_KEYING_MATERIAL];
    size_t mlen = 0;
    tf_srtp_keys_t ck;
    client_keys(&f, expect, &ck, m, &mlen);
    assert_int_equal(sk.key_len, ck.key_len);
    assert_int_equal(sk.salt_len, ck.salt_len);
    assert_memory_equal(sk.local_key, ck.remote_key, sk.key_len);
    assert_memory_equal(sk.remote_key, ck.local_key, sk.key_len);
    assert_memory_equal(sk.local_salt, ck.remote_salt, sk.salt_len);
    assert_memory_equal(sk.remote_salt, ck.local_salt, sk.salt_len);
    srtp_both_ways(&sk, &ck);
    teardown_fixture(&f);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_profile_gcm_preferred(void **state)
{
    server_opts_t so = {.n_profiles = 0}; /* default: GCM first */
    client_opts_t chrome = {.profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_256_GCM:"
                                        "SRTP_AEAD_AES_128_GCM"};
    client_opts_t gcm_first = {.profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"};
    handshake_ok(&so, &chrome, TF_SRTP_AEAD_AES_128_GCM);
    handshake_ok(&so, &gcm_first, TF_SRTP_AEAD_AES_128_GCM);
}

static void test_profile_cm_preferred(void **state)
{
    server_opts_t so = {.profiles = {TF_SRTP_AES128_CM_SHA1_80, TF_SRTP_AEAD_AES_128_GCM},
                        .n_profiles = 2};
    client_opts_t cm_first = {.profiles = "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"};
    client_opts_t gcm_first = {.profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"};
    handshake_ok(&so, &cm_first, TF_SRTP_AES128_CM_SHA1_80);
    handshake_ok(&so, &gcm_first, TF_SRTP_AES128_CM_SHA1_80);
}

static void test_profile_fallback(void **state)
{
    server_opts_t so = {0};
    client_opts_t cm_only = {.profiles = "SRTP_AES128_CM_SHA1_80"};
    handshake_ok(&so, &cm_only, TF_SRTP_AES128_CM_SHA1_80);
    server_opts_t gcm_only = {.profiles = {TF_SRTP_AEAD_AES_128_GCM}, .n_profiles = 1};
    client_opts_t both = {0};
    handshake_ok(&gcm_only, &both, TF_SRTP_AEAD_AES_128_GCM);
}

static void test_other_fingerprint_hashes(void **state)
{
    server_opts_t sha1 = {.hash = "sha-1"}, sha512 = {.hash = "SHA-512"};
    client_opts_t co = {0};
    handshake_ok(&sha1, &co, TF_SRTP_AEAD_AES_128_GCM);
    handshake_ok(&sha512, &co, TF_SRTP_AEAD_AES_128_GCM);
}

static void test_small_mtu(void **state)
{
    server_opts_t so = {.mtu = 512};
    client_opts_t co = {.mtu = 512};
    handshake_ok(&so, &co, TF_SRTP_AEAD_AES_128_GCM);
}

static void expect_failure(fixture_t *f, int error, const char *reason_part)
{
    tf_dtls_event_t ev;
    tf_srtp_keys_t k;
    assert_int_equal(tf_dtls_state(f->srv), TF_DTLS_STATE_FAILED);
    expect_event(f, TF_DTLS_EVENT_FAILED, &ev);
    assert_int_equal(ev.error, error);
    if (!strstr(ev.reason, reason_part))
        fail_msg("reason \"%s\" lacks \"%s\"", ev.reason, reason_part);
    uint8_t zero[sizeof(ev.keys)];
    memset(zero, 0, sizeof(zero));
    assert_memory_equal(&ev.keys, zero, sizeof(zero));
    assert_int_equal(tf_dtls_poll_event(f->srv, &ev), -EAGAIN);
    assert_int_equal(tf_dtls_srtp_keys(f->srv, &k), -ENOTCONN);
    assert_int_equal(tf_dtls_poll_timeout(f->srv), UINT64_MAX);
    uint8_t junk[20] = {22, 0xfe, 0xfd};
    assert_int_equal(tf_dtls_handle_input(f->srv, f->now, junk, sizeof(junk)), -EPIPE);
}

static void test_wrong_fingerprint(void **state)
{
    fixture_t f;
    /* The SDP names some other certificate. */
    server_opts_t so = {.fingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                       "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"};
    client_opts_t co = {0};
    setup_with(&f, &so, &co);
    run(&f, T0 + 60 * SEC);
    expect_failure(&f, -EACCES, "fingerprint");
    assert_true(f.cli.failed); /* it got our fatal alert */
    assert_false(f.cli.done);
    teardown_fixture(&f);
}

static void test_client_rejects_us(void **state)
{
    fixture_t f;
    setup_rto(&f, 0);
    f.cli.server_fp[5] ^= 1; /* the client's SDP had a different fingerprint for us */
    run(&f, T0 + 60 * SEC);
    assert_true(f.cli.failed);
    expect_failure(&f, -ECONNRESET, "alert");
    teardown_fixture(&f);
}

static void test_client_without_certificate(void **state)
{
    fixture_t f;
    server_opts_t so = {0};
    client_opts_t co = {.no_cert = 1};
    setup_with(&f, &so, &co);
    run(&f, T0 + 60 * SEC);
    expect_failure(&f, -EACCES, "no certificate");
    teardown_fixture(&f);
}

static void test_no_common_profile(void **state)
{
    server_opts_t so = {0};
    const char *offers[] = {"SRTP_AEAD_AES_256_GCM", ""};
    for (int i = 0; i < 2; i++) {
        fixture_t f;
        client_opts_t co = {.profiles = offers[i]};
        setup_with(&f, &so, &co);
        run(&f, T0 + 60 * SEC);
        expect_failure(&f, -ENOTSUP, "SRTP");
        /* TLS completed, so the server said goodbye with close_notify. */
        assert_true(f.cli.done);
        assert_true(f.cli.got_close_notify);
        teardown_fixture(&f);
    }
}

/* The first server flight (ServerHello .. ServerHelloDone) is lost, twice. The server's deadline
 * is exactly 1 s after it sent the flight, then 2 s more; nothing is resent a microsecond early,
 * and the handshake completes the moment the second retransmission arrives. */
static void test_lost_server_flight(void **state)
{
    fixture_t f;
    setup_rto(&f, 20000); /* the client stays quiet throughout */
    f.drop_server_flights = 2;
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(f.server_batches, 1);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1 * SEC);

    advance(&f, T0 + 1 * SEC - 1);
    assert_int_equal(f.server_batches, 1);
    advance(&f, T0 + 1 * SEC);
    assert_int_equal(f.server_batches, 2); /* retransmitted, and lost again */
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 3 * SEC);
    advance(&f, T0 + 3 * SEC - 1);
    assert_int_equal(f.server_batches, 2);
    advance(&f, T0 + 3 * SEC);
    assert_true(f.cli.done);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    assert_int_equal(f.server_batches, 4); /* flight 4 thrice, then ChangeCipherSpec+Finished */

    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.retransmits, 2);
    assert_int_equal(st.wall_clock_waits, 0);
    tf_dtls_event_t ev;
    expect_event(&f, TF_DTLS_EVENT_CONNECTED, &ev);
    /* Connected, the server's last flight is answered on demand, not on a timer. */
    assert_int_equal(tf_dtls_poll_timeout(f.srv), UINT64_MAX);
    teardown_fixture(&f);
}

/* The client's Finished is lost: the server, still waiting, resends its flight at 1 s; the
 * client resends its own flight when its timer (1.5 s) fires, and the server completes. */
static void test_lost_client_finished(void **state)
{
    fixture_t f;
    setup_rto(&f, 1500);
    f.drop_client_finished = 1;
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTING);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1 * SEC);
    run(&f, T0 + 60 * SEC);
    assert_true(f.cli.done);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    assert_int_equal(f.now, T0 + 1500 * MS);
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.retransmits, 1);
    teardown_fixture(&f);
}

/* The server's last flight (ChangeCipherSpec + Finished) is lost after the server connected:
 * the client's retransmitted Finished makes the connected server resend it. */
static void test_lost_server_finished(void **state)
{
    fixture_t f;
    setup_rto(&f, 1000);
    f.drop_server_flight_n = 2;
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    assert_false(f.cli.done);
    run(&f, T0 + 60 * SEC);
    assert_true(f.cli.done);
    assert_int_equal(f.now, T0 + 1 * SEC);
    /* One answer to the retransmitted flight: ours, on its Certificate record; OpenSSL's own
     * on its Finished is dropped as a duplicate. */
    assert_int_equal(f.server_batches, 3);
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.flight_resends, 1);
    tf_dtls_event_t ev;
    expect_event(&f, TF_DTLS_EVENT_CONNECTED, &ev);
    assert_int_equal(tf_dtls_poll_event(f.srv, &ev), -EAGAIN); /* connected once */
    teardown_fixture(&f);
}

/* RFC 6347 §4.2.4. Flight 4 is lost; the client retransmits its ClientHello at 300 ms, long
 * before the server's 1 s timer, and the server answers at once with its kept copy: the
 * handshake completes at 300 ms instead of 1 s. */
static void test_retransmitted_client_hello(void **state)
{
    fixture_t f;
    setup_rto(&f, 300);
    f.drop_server_flights = 1;
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(f.server_batches, 1);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1 * SEC);
    run(&f, T0 + 60 * SEC);
    assert_true(f.cli.done);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    assert_int_equal(f.now, T0 + 300 * MS);
    assert_int_equal(f.server_batches, 3); /* flight 4, its resend, ChangeCipherSpec+Finished */
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.flight_resends, 1);
    assert_int_equal(st.retransmits, 0); /* the timer never fired */
    assert_int_equal(f.cli.timeouts, 1);
    teardown_fixture(&f);
}

/* The same ClientHello delivered again and again: one resend per 250 ms at most, none without a
 * retransmission from the peer, and each resend is the first flight byte for byte. */
static void test_resend_rate_limited(void **state)
{
    fixture_t f;
    setup_rto(&f, 0);
    client_step(&f.cli);
    char *p = NULL;
    long n = BIO_get_mem_data(f.cli.wbio, &p);
    assert_true(n > 0 && n < MAX_DGRAM);
    uint8_t hello[MAX_DGRAM], first[4][MAX_DGRAM], again[MAX_DGRAM];
    int first_len[4], nfirst = 0, len;
    memcpy(hello, p, (size_t)n);
    (void)BIO_reset(f.cli.wbio);

    assert_int_equal(tf_dtls_handle_input(f.srv, f.now, hello, (size_t)n), 0);
    while ((len = tf_dtls_poll_transmit(f.srv, first[nfirst], MAX_DGRAM)) > 0) {
        first_len[nfirst] = len;
        assert_true(++nfirst < 4);
    }
    assert_true(nfirst >= 1);
    static const struct {
        uint64_t at_ms;
        int resend;
    } steps[] = {{100, 1}, {200, 0}, {349, 0}, {350, 1}, {350, 0}, {600, 1}};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        set_now(&f, T0 + steps[i].at_ms * MS);
        assert_int_equal(tf_dtls_handle_input(f.srv, f.now, hello, (size_t)n), 0);
        for (int k = 0; k < (steps[i].resend ? nfirst : 0); k++) {
            assert_int_equal(tf_dtls_poll_transmit(f.srv, again, sizeof(again)), first_len[k]);
            assert_memory_equal(again, first[k], (size_t)first_len[k]);
        }
        assert_int_equal(tf_dtls_poll_transmit(f.srv, again, sizeof(again)), -EAGAIN);
    }
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.flight_resends, 3);
    assert_int_equal(st.retransmits, 0);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1 * SEC); /* the timer is untouched */
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTING);
    teardown_fixture(&f);
}

/* Connected, our ChangeCipherSpec+Finished is lost, and in the client's retransmitted flight 5
 * its Finished is lost too, so OpenSSL, which answers only a repeated Finished, would stay
 * silent until the client's next try at 3 s. Its Certificate .. CertificateVerify are enough:
 * we resend our last flight at 1 s. */
static void test_retransmitted_flight5_after_connected(void **state)
{
    fixture_t f;
    setup_rto(&f, 1000);
    f.drop_server_flight_n = 2;
    f.drop_client_epoch1_from = 2; /* the first Finished arrives, every later one is lost */
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    assert_false(f.cli.done);
    run(&f, T0 + 60 * SEC);
    assert_true(f.cli.done);
    assert_int_equal(f.now, T0 + 1 * SEC);
    assert_int_equal(f.client_epoch1_records, 2);
    assert_int_equal(f.server_batches, 3);
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.flight_resends, 1);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), UINT64_MAX);
    tf_dtls_event_t ev;
    expect_event(&f, TF_DTLS_EVENT_CONNECTED, &ev);
    assert_int_equal(tf_dtls_poll_event(f.srv, &ev), -EAGAIN);
    teardown_fixture(&f);
}

/* Nothing the server sends arrives: it backs off 1, 2, 4, 8 s and gives up at 30 s. */
static void test_handshake_timeout(void **state)
{
    fixture_t f;
    setup_rto(&f, 100000);
    f.drop_server_flights = 1000;
    run(&f, T0 + 120 * SEC);
    assert_int_equal(f.now, T0 + 30 * SEC);
    expect_failure(&f, -ETIMEDOUT, "timed out");
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.retransmits, 4); /* at 1, 3, 7, 15 s; the next would be 31 s */
    teardown_fixture(&f);
}

/* OpenSSL's wall clock trails the caller's by 400 ms: at our deadline OpenSSL declines, the
 * server re-arms for OpenSSL's remaining time, and retransmits once the wall clock is there. */
static void test_wall_clock_behind(void **state)
{
    fixture_t f;
    setup_rto(&f, 20000);
    f.drop_server_flights = 1;
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1 * SEC);
    f.wall_offset = -(int64_t)(400 * MS);
    advance(&f, T0 + 1 * SEC);
    assert_int_equal(f.server_batches, 1); /* nothing resent */
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.wall_clock_waits, 1);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1400 * MS);
    advance(&f, T0 + 1400 * MS);
    assert_true(f.cli.done);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    teardown_fixture(&f);
}

/* OpenSSL's wall clock is 1.2 s ahead: its own deadline has passed while ours (1 s after the
 * flight) has not, so the next datagram OpenSSL reads, even junk, makes it retransmit by itself.
 * The server notices through the timer callback and re-arms its deadline from there. */
static void test_wall_clock_ahead(void **state)
{
    fixture_t f;
    setup_rto(&f, 20000);
    f.drop_server_flights = 1;
    client_step(&f.cli);
    pump(&f);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 1 * SEC);
    f.wall_offset = 1200 * MS;
    set_now(&f, T0 + 500 * MS);
    uint8_t junk[40] = {23, 0x9e, 0x9e};
    assert_int_equal(tf_dtls_handle_input(f.srv, f.now, junk, sizeof(junk)), 0);
    tf_dtls_stats_t st = stats(&f);
    assert_int_equal(st.retransmits, 1);
    assert_int_equal(tf_dtls_poll_timeout(f.srv), T0 + 500 * MS + 2 * SEC);
    pump(&f);
    assert_int_equal(f.server_batches, 3); /* lost flight, its retransmission, Finished */
    assert_true(f.cli.done);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    teardown_fixture(&f);
}

static void connected_fixture(fixture_t *f)
{
    server_opts_t so = {0};
    client_opts_t co = {0};
    tf_dtls_event_t ev;
    setup_with(f, &so, &co);
    run(f, T0 + 10 * SEC);
    assert_true(f->cli.done);
    expect_event(f, TF_DTLS_EVENT_CONNECTED, &ev);
}

static void test_peer_close_notify(void **state)
{
    fixture_t f;
    connected_fixture(&f);
    assert_int_equal(SSL_shutdown(f.cli.ssl), 0); /* sent ours, not yet received theirs */
    pump(&f);
    tf_dtls_event_t ev;
    expect_event(&f, TF_DTLS_EVENT_CLOSED, &ev);
    assert_int_equal(ev.error, 0);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CLOSED);
    assert_true(SSL_get_shutdown(f.cli.ssl) & SSL_RECEIVED_SHUTDOWN); /* we answered */
    tf_srtp_keys_t k;
    assert_int_equal(tf_dtls_srtp_keys(f.srv, &k), -ENOTCONN);
    teardown_fixture(&f);
}

static void test_local_close(void **state)
{
    fixture_t f;
    connected_fixture(&f);
    assert_int_equal(tf_dtls_close(f.srv, f.now), 0);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CLOSED);
    pump(&f);
    assert_true(f.cli.got_close_notify);
    tf_dtls_event_t ev;
    assert_int_equal(tf_dtls_poll_event(f.srv, &ev), -EAGAIN);
    assert_int_equal(tf_dtls_close(f.srv, f.now), 0);
    teardown_fixture(&f);
}

/* Junk that looks like DTLS is discarded without failing the session, before and after. */
static void test_garbage_input(void **state)
{
    fixture_t f;
    setup_rto(&f, 0);
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 151 + 7);
    for (int first = 20; first < 64; first++) {
        junk[0] = (uint8_t)first;
        assert_int_equal(tf_dtls_handle_input(f.srv, f.now, junk, sizeof(junk)), 0);
    }
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTING);
    tf_dtls_event_t ev;
    assert_int_equal(tf_dtls_poll_event(f.srv, &ev), -EAGAIN);
    run(&f, T0 + 10 * SEC);
    assert_true(f.cli.done);
    expect_event(&f, TF_DTLS_EVENT_CONNECTED, &ev);
    junk[0] = 23;
    assert_int_equal(tf_dtls_handle_input(f.srv, f.now, junk, sizeof(junk)), 0);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);

    static uint8_t big[16384 + 257];
    assert_int_equal(tf_dtls_handle_input(f.srv, f.now, big, sizeof(big)), -EMSGSIZE);
    assert_int_equal(tf_dtls_handle_input(f.srv, f.now, NULL, 10), -EINVAL);
    assert_int_equal(tf_dtls_handle_input(NULL, f.now, junk, 10), -EINVAL);
    teardown_fixture(&f);
}

static void test_poll_transmit_small_buffer(void **state)
{
    fixture_t f;
    setup_rto(&f, 0);
    client_step(&f.cli);
    /* Hand the ClientHello over without pumping, to look at the server's answer. */
    char *p = NULL;
    long n = BIO_get_mem_data(f.cli.wbio, &p);
    assert_true(n > 0);
    assert_int_equal(tf_dtls_handle_input(f.srv, f.now, (const uint8_t *)p, (size_t)n), 0);
    (void)BIO_reset(f.cli.wbio);
    uint8_t small[16], big[MAX_DGRAM];
    assert_int_equal(tf_dtls_poll_transmit(f.srv, small, sizeof(small)), -ENOBUFS);
    int len = tf_dtls_poll_transmit(f.srv, big, sizeof(big));
    assert_true(len > 0 && len <= MTU);
    assert_int_equal(big[0], 22); /* a handshake record */
    assert_true(tf_dtls_is_dtls(big, (size_t)len));
    teardown_fixture(&f);
}

static void test_certificate_fingerprint(void **state)
{
    fixture_t f;
    connected_fixture(&f);
    char ours[TF_DTLS_FINGERPRINT_SIZE], seen[200];
    assert_int_equal(tf_dtls_cert_fingerprint(f.cert, ours, sizeof(ours)), 0);
    assert_int_equal(strlen(ours), 95);
    for (int i = 0; i < 95; i++)
        assert_true(i % 3 == 2
                        ? ours[i] == ':'
                        : (ours[i] >= '0' && ours[i] <= '9') || (ours[i] >= 'A' && ours[i] <= 'F'));
    /* What the client received is the certificate the fingerprint names. */
    X509 *peer = SSL_get0_peer_certificate(f.cli.ssl);
    assert_non_null(peer);
    assert_int_equal(dtls_test_fingerprint(peer, "sha-256", seen, sizeof(seen)), 0);
    assert_string_equal(ours, seen);
    assert_int_equal(X509_get_version(peer), X509_VERSION_3);
    EVP_PKEY *pk = X509_get0_pubkey(peer);
    assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
    assert_int_equal(tf_dtls_cert_fingerprint(f.cert, ours, 95), -ENOBUFS);
    teardown_fixture(&f);
}

static void test_create_errors(void **state)
{
    tf_dtls_cert_t *cert = NULL;
    tf_dtls_t *d = NULL;
    assert_int_equal(tf_dtls_cert_create(&cert, NULL), 0);
    const char *fp = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    tf_dtls_config_t ok = {.fingerprint_hash = "sha-256", .fingerprint = fp};
    tf_dtls_config_t c = ok;
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), 0);
    tf_dtls_destroy(&d);
    c.fingerprint_hash = "md5";
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -ENOTSUP);
    c = ok;
    c.fingerprint = "00:11:22";
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -EINVAL);
    c.fingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FG";
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -EINVAL);
    c = ok;
    c.mtu = 100;
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -EINVAL);
    c = ok;
    c.profiles[0] = c.profiles[1] = TF_SRTP_AES128_CM_SHA1_80;
    c.n_profiles = 2;
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -EINVAL);
    c.profiles[1] = (tf_srtp_profile_t)0x0008;
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -ENOTSUP);
    c = ok;
    c.initial_rto_ms = 5000;
    c.max_rto_ms = 1000;
    assert_int_equal(tf_dtls_create(&d, cert, &c, T0), -EINVAL);
    assert_int_equal(tf_dtls_create(&d, NULL, &ok, T0), -EINVAL);
    assert_int_equal(tf_dtls_create(&d, cert, NULL, T0), -EINVAL);
    assert_null(d);
    tf_dtls_cert_config_t cc = {.common_name = ""};
    tf_dtls_cert_t *c2 = NULL;
    assert_int_equal(tf_dtls_cert_create(&c2, &cc), -EINVAL);
    assert_null(c2);
    tf_dtls_cert_destroy(&cert);
    tf_dtls_cert_destroy(&cert);
    tf_dtls_destroy(&d);
    tf_dtls_destroy(NULL);
}

/* Many sessions share one certificate, which may go before they do. */
static void test_certificate_outlived(void **state)
{
    fixture_t f;
    setup_rto(&f, 0);
    tf_dtls_cert_destroy(&f.cert);
    run(&f, T0 + 10 * SEC);
    assert_true(f.cli.done);
    assert_int_equal(tf_dtls_state(f.srv), TF_DTLS_STATE_CONNECTED);
    teardown_fixture(&f);
}

static void test_is_dtls(void **state)
{
    uint8_t b[1] = {0};
    static const struct {
        uint8_t first;
        int dtls;
    } v[] = {{0, 0},  {1, 0},  {3, 0},  {19, 0},   {20, 1},   {22, 1},  {23, 1},
             {63, 1}, {64, 0}, {79, 0}, {0x80, 0}, {0xBF, 0}, {0xFF, 0}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        b[0] = v[i].first;
        assert_int_equal(tf_dtls_is_dtls(b, 1), v[i].dtls);
    }
    assert_int_equal(tf_dtls_is_dtls(b, 0), 0);
    assert_int_equal(tf_dtls_is_dtls(NULL, 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_gcm_preferred),
        cmocka_unit_test(test_profile_cm_preferred),
        cmocka_unit_test(test_profile_fallback),
        cmocka_unit_test(test_other_fingerprint_hashes),
        cmocka_unit_test(test_small_mtu),
        cmocka_unit_test(test_wrong_fingerprint),
        cmocka_unit_test(test_client_rejects_us),
        cmocka_unit_test(test_client_without_certificate),
        cmocka_unit_test(test_no_common_profile),
        cmocka_unit_test(test_lost_server_flight),
        cmocka_unit_test(test_lost_client_finished),
        cmocka_unit_test(test_lost_server_finished),
        cmocka_unit_test(test_retransmitted_client_hello),
        cmocka_unit_test(test_resend_rate_limited),
        cmocka_unit_test(test_retransmitted_flight5_after_connected),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_wall_clock_behind),
        cmocka_unit_test(test_wall_clock_ahead),
        cmocka_unit_test(test_peer_close_notify),
        cmocka_unit_test(test_local_close),
        cmocka_unit_test(test_garbage_input),
        cmocka_unit_test(test_poll_transmit_small_buffer),
        cmocka_unit_test(test_certificate_fingerprint),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_certificate_outlived),
        cmocka_unit_test(test_is_dtls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
