/* peer_test_net.h — test_rtc_peer.c's world: a real tf_peer_t, a browser-like client (stun.c
 * checks, the OpenSSL DTLS client of dtls_test_client.h, srtp.c) and an in-memory network with
 * delay and seeded loss between them, on a fake clock; probes that send media either way.
 * No sockets, no sleep. Header-only (static functions, cmocka checks): include it from one test.
 * It defines gettimeofday() (DTLS_TEST_FAKE_WALL_CLOCK) so that OpenSSL's wall clock follows the
 * world's clock, for the server's and the client's DTLS retransmissions alike. */
#ifndef TF_TEST_PEER_TEST_NET_H
#define TF_TEST_PEER_TEST_NET_H

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
#include <openssl/ssl.h>

#include "server/rtc/peer.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtp.h"
#include "server/rtc/srtp.h"
#include "server/rtc/stun.h"

#define DTLS_TEST_FAKE_WALL_CLOCK
#include "tests/unit/dtls_test_client.h"

#define SEC 1000000ull
#define MS 1000ull
/* The protocol clock is monotonic, like uv_hrtime() since boot; OpenSSL's wall clock runs at the
 * same rate from a plausible date (DTLS_TEST_WALL0). (Not one clock for both: recv_stream.c
 * computes now_us * clock_rate in int64_t, which overflows from about 1.02e14 µs at 90 kHz, so an
 * epoch-based protocol clock trips UBSan there.) */
#define T0 (1000 * SEC)
#define MTU 1200
#define SRV_UFRAG "TfSv"
#define SRV_PWD "srvPasswordSrvPassword24"
#define CLI_UFRAG "cLi9"
#define CLI_PWD "ClientPasswordClientPw"
#define NET_MAX 2048 /* datagrams in flight */
#define MAX_LOG 64
#define RECENT_TIDS 8
#define CHECK_FAST_US (50 * MS)      /* a browser's pace until the first answer */
#define CHECK_CONSENT_US (2500 * MS) /* ...then consent freshness checks */
#define CLIENT_RTO_US (200 * MS)     /* the client's first DTLS retransmission timeout */
#define PROBE_SSRC 0x0BAD5EEDu
#define SRV_SSRC 0x5E7E0001u

static int trace; /* TAFEL_TEST_TRACE=1: print every datagram (time, direction, class, loss) */

/* ---- seeded randomness (splitmix64) --------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static uint32_t rng_range(rng_t *r, uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + (uint32_t)(rng_next(r) % ((uint64_t)hi - lo + 1));
}

/* ---- the world: network, server, client ----------------------------------------------- */

typedef struct packet {
    uint64_t at, order;
    tf_addr_t from, to;
    size_t len;
    uint8_t data[TF_PEER_MAX_DATAGRAM];
} packet_t;

typedef struct link {
    uint64_t delay_us;
    double loss;
    uint64_t sent, lost;
} link_t;

typedef struct logged_event {
    tf_peer_event_t ev;
    uint64_t at;
} logged_event_t;

typedef struct client {
    tf_addr_t addr; /* as the NAT maps it: what the server sees */
    tf_stun_key_t *srv_key;
    uint8_t tids[RECENT_TIDS][TF_STUN_TID_LEN];
    unsigned tid_next;
    uint32_t tid_seq;
    int checks_on, use_candidate_after_answer;
    int answered;
    uint64_t next_check, answered_at;
    uint64_t checks_sent, answers, stun_errors, stray;

    dtls_test_client_t dtls; /* what a browser does: its fingerprint, the server's, its timers */
    uint64_t dtls_datagrams, dtls_in;
    int dtls_started;
    uint64_t done_at;
    tf_srtp_t *srtp;
    tf_srtp_profile_t profile;

    uint8_t got[TF_PEER_MAX_DATAGRAM]; /* the last plain RTP/RTCP received */
    size_t got_len;
    int got_rtcp;
    uint64_t got_count, srtp_errors;
} client_t;

typedef struct video video_t; /* defined by the test that runs video */
typedef struct world world_t;

/* What a test plugs in to run media through the world while w->vid is set. */
typedef struct world_media {
    void (*server_rtp)(world_t *w, const uint8_t *buf, size_t len);  /* RTP the server returned */
    void (*client_rtcp)(world_t *w, const uint8_t *buf, size_t len); /* RTCP the client got */
    uint64_t (*deadline)(const world_t *w);
    void (*tick)(world_t *w);
} world_media_t;

struct world {
    uint64_t now;
    rng_t loss_rng;
    link_t up, down; /* client -> server, server -> client */
    packet_t *flight;
    size_t n_flight;
    uint64_t order, stale_drops, steps;
    uint64_t srv_dtls_sent; /* DTLS datagrams the server sent */

    tf_dtls_cert_t *cert;
    tf_peer_t *peer;
    tf_addr_t srv_addr;
    logged_event_t log[MAX_LOG];
    int n_log;
    int connected, closed, close_error;
    uint64_t connected_at, closed_at, created_at;
    uint64_t last_stun_in; /* when the server last got a STUN datagram from the client */

    uint8_t srv_got[TF_PEER_MAX_DATAGRAM]; /* the last plain RTP/RTCP the server returned */
    size_t srv_got_len;
    int srv_got_kind;
    tf_addr_t srv_got_from;
    uint64_t srv_got_count;

    client_t cli;
    video_t *vid;
    const world_media_t *media;
};

static void set_now(world_t *w, uint64_t t)
{
    w->now = t;
    dtls_test_wall_us = DTLS_TEST_WALL0 + (t - T0);
}

static void net_send(world_t *w, const tf_addr_t *from, const tf_addr_t *to, const uint8_t *data,
                     size_t len)
{
    link_t *l = tf_addr_equal(to, &w->srv_addr) ? &w->up : &w->down;
    assert_true(len > 0 && len <= TF_PEER_MAX_DATAGRAM);
    l->sent++;
    if (l == &w->down && data[0] >= 20 && data[0] <= 63)
        w->srv_dtls_sent++;
    int lose = l->loss > 0 && rng_unit(&w->loss_rng) < l->loss;
    if (trace)
        printf("TRACE %8.3f %s b0=%3u len=%4zu%s\n", (double)(w->now - T0) / 1000.0,
               l == &w->up ? "up  " : "down", data[0], len, lose ? " LOST" : "");
    if (lose) {
        l->lost++;
        return;
    }
    if (w->n_flight == NET_MAX)
        fail_msg("the network is full");
    packet_t *p = &w->flight[w->n_flight++];
    p->at = w->now + l->delay_us;
    p->order = w->order++;
    p->from = *from;
    p->to = *to;
    p->len = len;
    memcpy(p->data, data, len);
}

/* ---- the server side ------------------------------------------------------------------ */

static void drain_server(world_t *w)
{
    tf_peer_transmit_t tx;
    while (tf_peer_poll_transmit(w->peer, &tx) == 0)
        net_send(w, &w->srv_addr, &tx.dest, tx.data, tx.len);
    tf_peer_event_t ev;
    while (tf_peer_poll_event(w->peer, &ev) == 0) {
        if (w->n_log < MAX_LOG)
            w->log[w->n_log++] = (logged_event_t){.ev = ev, .at = w->now};
        if (ev.kind == TF_PEER_EVENT_CONNECTED && !w->connected) {
            w->connected = 1;
            w->connected_at = w->now;
        } else if (ev.kind == TF_PEER_EVENT_CLOSED && !w->closed) {
            w->closed = 1;
            w->closed_at = w->now;
            w->close_error = ev.error;
        }
    }
}

/* One datagram into the server, as the UDP shell would hand it over. */
static int server_input(world_t *w, const tf_addr_t *from, const uint8_t *data, size_t len)
{
    uint8_t buf[TF_PEER_MAX_DATAGRAM];
    memcpy(buf, data, len);
    if (len && buf[0] <= 3 && tf_addr_equal(from, &w->cli.addr))
        w->last_stun_in = w->now;
    int kind = tf_peer_handle_input(w->peer, w->now, from, buf, &len);
    if (kind == TF_PEER_INPUT_RTP && w->vid) {
        w->media->server_rtp(w, buf, len);
    } else if (kind == TF_PEER_INPUT_RTP || kind == TF_PEER_INPUT_RTCP) {
        memcpy(w->srv_got, buf, len);
        w->srv_got_len = len;
        w->srv_got_kind = kind;
        w->srv_got_from = *from;
        w->srv_got_count++;
    }
    drain_server(w);
    return kind;
}

/* ---- the client: ICE checks ----------------------------------------------------------- */

static void client_send_check(world_t *w)
{
    client_t *c = &w->cli;
    uint8_t tid[TF_STUN_TID_LEN], out[512];
    uint32_t seq = ++c->tid_seq;
    for (int i = 0; i < TF_STUN_TID_LEN; i++)
        tid[i] = (uint8_t)((seq * 2654435761u) >> (i % 4 * 8)) ^ (uint8_t)(i * 37);
    memcpy(c->tids[c->tid_next], tid, sizeof(tid));
    c->tid_next = (c->tid_next + 1) % RECENT_TIDS;

    tf_stun_msg_t m;
    tf_stun_msg_init(&m, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, tid);
    m.has = TF_STUN_HAS_USERNAME | TF_STUN_HAS_PRIORITY | TF_STUN_HAS_ICE_CONTROLLING |
            TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT;
    if (!c->answered || c->use_candidate_after_answer)
        m.has |= TF_STUN_HAS_USE_CANDIDATE;
    m.username = SRV_UFRAG ":" CLI_UFRAG;
    m.username_len = strlen(m.username);
    m.priority = 1853824767;
    m.ice_controlling = 0x1122334455667788ull;
    size_t n = 0;
    assert_int_equal(tf_stun_marshal_to(&m, c->srv_key, out, sizeof(out), &n), 0);
    c->checks_sent++;
    net_send(w, &c->addr, &w->srv_addr, out, n);
    c->next_check = w->now + (c->answered ? CHECK_CONSENT_US : CHECK_FAST_US);
}

static void client_dtls_step(world_t *w);

static void client_stun_input(world_t *w, const uint8_t *buf, size_t len)
{
    client_t *c = &w->cli;
    tf_stun_msg_t m;
    assert_int_equal(tf_stun_parse(&m, buf, len, NULL, 0), 0);
    assert_true(m.has & TF_STUN_HAS_FINGERPRINT);
    int known = 0;
    for (int i = 0; i < RECENT_TIDS; i++)
        known |= memcmp(c->tids[i], m.tid, TF_STUN_TID_LEN) == 0;
    if (!known) { /* the server's answer to junk a test sent in our name */
        c->stray++;
        return;
    }
    if (m.cls != TF_STUN_SUCCESS) {
        c->stun_errors++;
        return;
    }
    /* An answer from the server is signed with its password and says where we are. */
    assert_int_equal(tf_stun_check_integrity(&m, c->srv_key), 0);
    assert_true(m.has & TF_STUN_HAS_XOR_MAPPED_ADDRESS);
    assert_true(tf_addr_equal(&m.xor_mapped, &c->addr));
    c->answers++;
    if (!c->answered) {
        c->answered = 1;
        c->answered_at = w->now;
        c->next_check = w->now + CHECK_CONSENT_US;
    }
    if (!c->dtls_started) { /* ICE connected: a browser starts DTLS now (a=setup:active) */
        c->dtls_started = 1;
        client_dtls_step(w);
    }
}

/* ---- the client: DTLS (what a browser does) ------------------------------------------- */

static void client_init(world_t *w, const char *profiles)
{
    client_t *c = &w->cli;
    dtls_test_client_opts_t o = {
        .cn = "browser",
        .profiles = profiles, /* NULL: Chrome's order; the server's preference decides */
        .initial_rto_us = CLIENT_RTO_US,
        .max_rto_us = 60 * SEC,
        .mtu = MTU,
    };
    assert_int_equal(dtls_test_client_init(&c->dtls, &o), 0);
    assert_int_equal(tf_stun_key_create(&c->srv_key, SRV_PWD, strlen(SRV_PWD)), 0);
}

static void client_free(client_t *c)
{
    dtls_test_client_free(&c->dtls);
    tf_stun_key_destroy(&c->srv_key);
    tf_srtp_destroy(&c->srtp);
}

/* Records OpenSSL wrote, packed whole into datagrams of at most MTU bytes. */
static void client_flush_dtls(world_t *w)
{
    client_t *c = &w->cli;
    char *p = NULL;
    long n = BIO_get_mem_data(c->dtls.wbio, &p);
    if (n <= 0)
        return;
    const uint8_t *buf = (const uint8_t *)p;
    size_t total = (size_t)n, off = 0, len;
    while ((len = dtls_test_next_datagram(buf, total, &off, MTU)) > 0) {
        assert_true(len <= MTU);
        net_send(w, &c->addr, &w->srv_addr, buf + off - len, len);
        c->dtls_datagrams++;
    }
    assert_int_equal(off, total);
    (void)BIO_reset(c->dtls.wbio);
}

static void client_dtls_step(world_t *w)
{
    client_t *c = &w->cli;
    if (dtls_test_client_handshake(&c->dtls)) {
        c->done_at = w->now;
        assert_int_equal(dtls_test_client_srtp(c->dtls.ssl, &c->profile, &c->srtp), 0);
    }
    if (c->dtls.done)
        dtls_test_client_read(&c->dtls);
    ERR_clear_error();
    client_flush_dtls(w);
}

static uint64_t client_dtls_deadline(const world_t *w)
{
    const client_t *c = &w->cli;
    struct timeval tv;
    if (!c->dtls_started || c->dtls.done || c->dtls.failed || !DTLSv1_get_timeout(c->dtls.ssl, &tv))
        return UINT64_MAX;
    return w->now + (uint64_t)tv.tv_sec * SEC + (uint64_t)tv.tv_usec;
}

/* RFC 7983 demultiplexing on the browser's side. */
static void client_input(world_t *w, const uint8_t *data, size_t len)
{
    client_t *c = &w->cli;
    uint8_t buf[TF_PEER_MAX_DATAGRAM];
    memcpy(buf, data, len);
    if (buf[0] <= 3) {
        client_stun_input(w, buf, len);
    } else if (buf[0] >= 20 && buf[0] <= 63) {
        c->dtls_in++;
        assert_int_equal(BIO_write(c->dtls.rbio, buf, (int)len), (int)len);
        client_dtls_step(w);
    } else if (buf[0] >= 128 && buf[0] <= 191) {
        assert_non_null(c->srtp);
        int rtcp = tf_rtp_is_rtcp(buf, len);
        int e = rtcp ? tf_srtp_unprotect_rtcp(c->srtp, buf, &len)
                     : tf_srtp_unprotect_rtp(c->srtp, buf, &len);
        if (e < 0) {
            c->srtp_errors++;
            return;
        }
        if (rtcp && w->vid) {
            w->media->client_rtcp(w, buf, len);
            return;
        }
        memcpy(c->got, buf, len);
        c->got_len = len;
        c->got_rtcp = rtcp;
        c->got_count++;
    } else {
        fail_msg("the server sent a datagram of an unknown class: %u", buf[0]);
    }
}

static void client_timers(world_t *w)
{
    client_t *c = &w->cli;
    if (c->checks_on && w->now >= c->next_check)
        client_send_check(w);
    if (w->now >= client_dtls_deadline(w)) {
        if (DTLSv1_handle_timeout(c->dtls.ssl) < 0)
            c->dtls.failed = 1;
        ERR_clear_error();
        client_flush_dtls(w);
    }
}

/* ---- the simulation loop --------------------------------------------------------------- */

static void deliver(world_t *w, const packet_t *p)
{
    if (tf_addr_equal(&p->to, &w->srv_addr)) {
        server_input(w, &p->from, p->data, p->len);
    } else if (tf_addr_equal(&p->to, &w->cli.addr)) {
        client_input(w, p->data, p->len);
    } else {
        w->stale_drops++; /* a stranger, or a NAT mapping the client no longer has */
    }
}

static uint64_t next_time(const world_t *w)
{
    uint64_t t = UINT64_MAX, x;
    for (size_t i = 0; i < w->n_flight; i++)
        if (w->flight[i].at < t)
            t = w->flight[i].at;
    if ((x = tf_peer_poll_timeout(w->peer)) < t)
        t = x;
    if (w->cli.checks_on && w->cli.next_check < t)
        t = w->cli.next_check;
    if ((x = client_dtls_deadline(w)) < t)
        t = x;
    if (w->vid && (x = w->media->deadline(w)) < t)
        t = x;
    return t;
}

/* Moves the clock to t and does everything due by then, in causal order. */
static void step_to(world_t *w, uint64_t t)
{
    set_now(w, t);
    w->steps++;
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < w->n_flight; i++)
            if (w->flight[i].at <= w->now &&
                (best == SIZE_MAX || w->flight[i].order < w->flight[best].order))
                best = i;
        if (best == SIZE_MAX)
            break;
        packet_t p = w->flight[best];
        w->flight[best] = w->flight[--w->n_flight];
        deliver(w, &p);
    }
    if (w->now >= tf_peer_poll_timeout(w->peer))
        assert_int_equal(tf_peer_handle_timeout(w->peer, w->now), 0);
    drain_server(w);
    client_timers(w);
    if (w->vid)
        w->media->tick(w);
    drain_server(w);
}

typedef int (*until_fn)(const world_t *w);

/* Runs to the first moment done() holds, or to `limit` (inclusive) at the latest. */
static void run_until(world_t *w, uint64_t limit, until_fn done)
{
    while (!done || !done(w)) {
        uint64_t t = next_time(w);
        if (t < w->now)
            t = w->now; /* overdue: now */
        if (t > limit) {
            set_now(w, limit);
            return;
        }
        step_to(w, t);
        assert_true(w->steps < 5000000); /* something re-arms without progress */
    }
}

static int both_connected(const world_t *w)
{
    return (w->connected && w->cli.dtls.done) || w->closed || w->cli.dtls.failed;
}

static int is_closed(const world_t *w)
{
    return w->closed;
}

typedef struct world_opts {
    uint64_t delay_us; /* one way, both directions; 0: 20 ms */
    double loss_up, loss_down;
    uint64_t seed;
    const char *client_profiles;
} world_opts_t;

static void world_init(world_t *w, const world_opts_t *o)
{
    memset(w, 0, sizeof(*w));
    set_now(w, T0);
    w->flight = calloc(NET_MAX, sizeof(*w->flight));
    assert_non_null(w->flight);
    w->loss_rng.s = o->seed;
    w->up.delay_us = w->down.delay_us = o->delay_us ? o->delay_us : 20 * MS;
    w->up.loss = o->loss_up;
    w->down.loss = o->loss_down;
    w->srv_addr = tf_addr_v4(192, 0, 2, 1, 3478);
    w->cli.addr = tf_addr_v4(198, 51, 100, 7, 50000);
    w->cli.checks_on = 1;
    w->cli.use_candidate_after_answer = 1;
    w->cli.next_check = T0;
    client_init(w, o->client_profiles);

    tf_dtls_cert_config_t cc = {.common_name = "tafel-peer-test"};
    assert_int_equal(tf_dtls_cert_create(&w->cert, &cc), 0);
    char fp[TF_DTLS_FINGERPRINT_SIZE];
    assert_int_equal(tf_dtls_cert_fingerprint(w->cert, fp, sizeof(fp)), 0);
    assert_int_equal(dtls_test_client_learn_server(&w->cli.dtls, fp), 0);
    tf_peer_config_t pc = {
        .cert = w->cert,
        .local_ufrag = SRV_UFRAG,
        .local_pwd = SRV_PWD,
        .remote_ufrag = CLI_UFRAG,
        .remote_pwd = CLI_PWD,
        .fingerprint_hash = "sha-256",
        .fingerprint = w->cli.dtls.fingerprint,
    };
    w->created_at = w->now;
    assert_int_equal(tf_peer_create(&w->peer, &pc, w->now), 0);
}

static void world_free(world_t *w)
{
    tf_peer_destroy(&w->peer);
    assert_null(w->peer);
    tf_dtls_cert_destroy(&w->cert);
    client_free(&w->cli);
    free(w->flight);
    dtls_test_wall_us = DTLS_TEST_WALL0;
}

static const logged_event_t *find_event(const world_t *w, tf_peer_event_kind_t kind, int nth);

static void world_connect(world_t *w, uint64_t limit)
{
    run_until(w, limit, both_connected);
    if (w->closed || w->cli.dtls.failed || !w->cli.dtls.done) {
        const logged_event_t *ev = find_event(w, TF_PEER_EVENT_CLOSED, 0);
        printf("not connected at +%llu ms: server %s (%s), client %s; %llu/%llu up and "
               "%llu/%llu down lost, %llu client DTLS timeouts\n",
               (unsigned long long)((w->now - T0) / MS),
               w->closed      ? "closed"
               : w->connected ? "connected"
                              : "connecting",
               ev ? ev->ev.reason : "-",
               w->cli.dtls.failed ? "failed"
               : w->cli.dtls.done ? "done"
                                  : "waiting",
               (unsigned long long)w->up.lost, (unsigned long long)w->up.sent,
               (unsigned long long)w->down.lost, (unsigned long long)w->down.sent,
               (unsigned long long)w->cli.dtls.timeouts);
    }
    assert_false(w->closed);
    assert_false(w->cli.dtls.failed);
    assert_true(w->connected);
    assert_true(w->cli.dtls.done);
    assert_true(tf_peer_connected(w->peer));
    assert_non_null(w->cli.srtp);
}

/* ---- media probes --------------------------------------------------------------------- */

static size_t make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t len)
{
    p[0] = 0x80, p[1] = 111, p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    uint32_t ts = seq * 960u;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16), p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
    for (size_t i = 12; i < len; i++)
        p[i] = (uint8_t)(i * 29 + seq);
    return len;
}

static size_t make_rtcp_rr(uint8_t *p, uint32_t ssrc)
{
    tf_rtcp_packet_t rr;
    memset(&rr, 0, sizeof(rr));
    rr.type = TF_RTCP_RR;
    rr.rr.ssrc = ssrc;
    int n = tf_rtcp_marshal_to(&rr, p, 64);
    assert_true(n == 8);
    return (size_t)n;
}

/* Client -> server: the server must hand back exactly the plain packet. */
static void probe_up(world_t *w, uint16_t seq, int rtcp, int expect_delivered)
{
    uint8_t plain[TF_PEER_MAX_DATAGRAM], pkt[TF_PEER_MAX_DATAGRAM];
    size_t n = rtcp ? make_rtcp_rr(plain, PROBE_SSRC) : make_rtp(plain, seq, PROBE_SSRC, 172);
    size_t len = n;
    memcpy(pkt, plain, n);
    int e = rtcp ? tf_srtp_protect_rtcp(w->cli.srtp, pkt, &len, sizeof(pkt))
                 : tf_srtp_protect_rtp(w->cli.srtp, pkt, &len, sizeof(pkt));
    assert_int_equal(e, 0);
    uint64_t before = w->srv_got_count;
    net_send(w, &w->cli.addr, &w->srv_addr, pkt, len);
    run_until(w, w->now + w->up.delay_us, NULL);
    if (!expect_delivered) {
        assert_true(w->srv_got_count == before);
        return;
    }
    assert_true(w->srv_got_count == before + 1);
    assert_int_equal(w->srv_got_kind, rtcp ? TF_PEER_INPUT_RTCP : TF_PEER_INPUT_RTP);
    assert_int_equal(w->srv_got_len, n);
    assert_memory_equal(w->srv_got, plain, n);
    assert_true(tf_addr_equal(&w->srv_got_from, &w->cli.addr));
}

/* Server -> client, to wherever tf_peer_remote() says; returns 1 if the client got it. */
static int probe_down(world_t *w, uint16_t seq, int rtcp)
{
    uint8_t plain[TF_PEER_MAX_DATAGRAM], pkt[TF_PEER_MAX_DATAGRAM];
    size_t n = rtcp ? make_rtcp_rr(plain, SRV_SSRC) : make_rtp(plain, seq, SRV_SSRC, 1000);
    size_t len = n;
    memcpy(pkt, plain, n);
    int e = rtcp ? tf_peer_protect_rtcp(w->peer, pkt, &len, sizeof(pkt))
                 : tf_peer_protect_rtp(w->peer, pkt, &len, sizeof(pkt));
    assert_int_equal(e, 0);
    tf_addr_t to;
    assert_int_equal(tf_peer_remote(w->peer, &to), 0);
    uint64_t before = w->cli.got_count;
    net_send(w, &w->srv_addr, &to, pkt, len);
    run_until(w, w->now + w->down.delay_us, NULL);
    if (w->cli.got_count == before)
        return 0;
    assert_int_equal(w->cli.got_len, n);
    assert_int_equal(w->cli.got_rtcp, rtcp);
    assert_memory_equal(w->cli.got, plain, n);
    return 1;
}

static const logged_event_t *find_event(const world_t *w, tf_peer_event_kind_t kind, int nth)
{
    for (int i = 0; i < w->n_log; i++)
        if (w->log[i].ev.kind == kind && nth-- == 0)
            return &w->log[i];
    return NULL;
}

static int count_events(const world_t *w, tf_peer_event_kind_t kind)
{
    int n = 0;
    for (int i = 0; i < w->n_log; i++)
        n += w->log[i].ev.kind == kind;
    return n;
}

#endif /* TF_TEST_PEER_TEST_NET_H */
