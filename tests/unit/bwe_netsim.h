/* bwe_netsim.h — the simulated bottleneck for test_rtc_bwe.c: a paced sender, a drop-tail link
 * whose rate and loss change over time, and a receiver answering with transport-cc feedback (or
 * RR + REMB) through server/rtc/rtcp*.c; fake clock, seeded randomness. Header-only (static
 * functions, cmocka checks) so the test stays one source file; include it once. */
#ifndef TF_TEST_BWE_NETSIM_H
#define TF_TEST_BWE_NETSIM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/rtc/bwe.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"

#define STEP_US 250
#define PKT 1200
#define QCAP 8192
#define FB_SLOTS 64
#define FB_BUF 8192
#define FB_MAX_STATUSES 2000
#define MAX_SECONDS 128
#define MAX_CHANGES 4

/* xorshift64*: the only randomness, seeded per scenario. */
static double rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

typedef struct change {
    int64_t at_us;
    double link_bps, loss;
} change_t;

struct sim;

typedef struct sim_config {
    const char *name;
    void (*every_100ms)(struct sim *s, void *user); /* optional: a test's sender policy */
    void *user;
    double link_bps;
    int64_t prop_us; /* one way, each direction */
    uint32_t queue_bytes;
    double loss;    /* random loss before the queue */
    double app_bps; /* 0: the sender sends whatever the target allows */
    bool app_fixed; /* send app_bps whatever the target (a room's tier encoder) */
    bool probes;
    int64_t probes_from_us;
    bool twcc; /* false: RR + REMB only */
    uint64_t remb_bps;
    uint16_t first_seq;
    int64_t remote_offset_us; /* the receiver's clock minus ours */
    double fb_reorder, fb_dup;
    uint64_t seed;
    int64_t duration_us;
    tf_bwe_config_t bwe;
    change_t changes[MAX_CHANGES];
    int n_changes;
} sim_config_t;

typedef struct second {
    double link, target, delay, loss_bps, acked, sent, goodput, qdelay_ms, loss_frac;
    tf_bwe_usage_t usage;
    tf_bwe_reason_t reason;
    bool probing;
} second_t;

typedef struct qpkt {
    uint16_t seq;
    double enq_us, bits_left;
    int64_t send_us;
} qpkt_t;

typedef struct flight {
    uint16_t seq;
    double arrival_us;
    int64_t send_us;
} flight_t;

typedef struct fb_msg {
    bool used;
    int64_t at_us;
    size_t len;
    uint8_t buf[FB_BUF];
} fb_msg_t;

typedef struct sim {
    sim_config_t c;
    tf_bwe_t *bwe;
    uint64_t rng;
    int64_t t;
    double link_bps, loss;

    qpkt_t q[QCAP]; /* the bottleneck queue, FIFO; q[qhead] is on the wire */
    size_t qhead, qcount;
    uint64_t qbytes;
    double cursor_us;  /* when the link is free */
    flight_t fl[QCAP]; /* past the bottleneck, propagating */
    size_t fhead, fcount;

    /* Receiver */
    int64_t arr_unwrapped[65536];
    int64_t arr_at[65536]; /* remote clock */
    bool any_rx;
    int64_t highest, next_report;
    uint8_t fb_count;
    int64_t next_fb_us;
    uint64_t rx_interval, rr_prev_highest;
    int64_t next_rr_us;
    tf_rtcp_twcc_status_t st[FB_MAX_STATUSES];
    fb_msg_t fb[FB_SLOTS];

    /* Sender */
    uint16_t seq;
    double next_send;
    int64_t last_send;
    bool probing;
    tf_bwe_probe_t probe;
    uint32_t probe_pkts, probe_bytes;

    /* Per-second measurements */
    double max_qdelay_ms;
    uint64_t delivered_bytes;
    uint64_t sent_pkts, dropped_queue, dropped_random;
    second_t sec[MAX_SECONDS];
    int nsec;
} sim_t;

static void link_advance(sim_t *s, double t)
{
    while (s->qcount) {
        qpkt_t *p = &s->q[s->qhead];
        double start = fmax(s->cursor_us, p->enq_us);
        double done = start + p->bits_left / s->link_bps * 1e6;
        if (done > t) {
            if (start < t) {
                p->bits_left -= (t - start) * s->link_bps / 1e6;
                s->cursor_us = t;
            }
            return;
        }
        s->cursor_us = done;
        assert_true(s->fcount < QCAP);
        s->fl[(s->fhead + s->fcount++) % QCAP] = (flight_t){
            .seq = p->seq, .arrival_us = done + (double)s->c.prop_us, .send_us = p->send_us};
        s->qbytes -= PKT;
        s->qhead = (s->qhead + 1) % QCAP;
        s->qcount--;
    }
    if (s->cursor_us < t)
        s->cursor_us = t;
}

static void send_packet(sim_t *s, int64_t ts, uint16_t probe_id)
{
    assert_int_equal(tf_bwe_on_packet_sent(s->bwe, (uint64_t)ts, s->seq, PKT, probe_id), 0);
    s->sent_pkts++;
    link_advance(s, (double)ts);
    if (s->loss > 0 && rnd(&s->rng) < s->loss)
        s->dropped_random++;
    else if (s->qbytes + PKT > s->c.queue_bytes || s->qcount == QCAP)
        s->dropped_queue++;
    else {
        s->q[(s->qhead + s->qcount++) % QCAP] =
            (qpkt_t){.seq = s->seq, .enq_us = (double)ts, .bits_left = PKT * 8, .send_us = ts};
        s->qbytes += PKT;
    }
    s->seq++;
    s->last_send = ts;
}

static void sender_step(sim_t *s)
{
    if (s->c.probes && s->t >= s->c.probes_from_us && !s->probing &&
        tf_bwe_probe_request(s->bwe, (uint64_t)s->t, &s->probe) == 0) {
        assert_int_not_equal(s->probe.id, 0);
        s->probing = true;
        s->probe_pkts = s->probe_bytes = 0;
        s->next_send = (double)s->t;
    }
    while (s->next_send <= (double)s->t) {
        int64_t ts = (int64_t)s->next_send;
        if (ts <= s->last_send)
            ts = s->last_send + 1;
        double rate;
        if (s->probing) {
            send_packet(s, ts, s->probe.id);
            s->probe_pkts++;
            s->probe_bytes += PKT;
            rate = (double)s->probe.bitrate_bps;
            if (s->probe_pkts >= s->probe.min_packets && s->probe_bytes >= s->probe.min_bytes)
                s->probing = false;
        } else {
            send_packet(s, ts, 0);
            rate = (double)tf_bwe_target_bps(s->bwe);
            if (s->c.app_bps > 0 && (s->c.app_bps < rate || s->c.app_fixed))
                rate = s->c.app_bps;
        }
        s->next_send += PKT * 8 / rate * 1e6;
    }
}

/* The receiver: takes arrivals, and every 50–100 ms reports everything since the last report. */
static void receiver_take(sim_t *s)
{
    while (s->fcount && s->fl[s->fhead].arrival_us <= (double)s->t) {
        flight_t *f = &s->fl[s->fhead];
        int64_t u = f->seq;
        if (s->any_rx) {
            int64_t d = (uint16_t)(f->seq - (uint16_t)s->highest);
            u = s->highest + (d >= 0x8000 ? d - 0x10000 : d);
        } else {
            s->next_report = u;
            s->rr_prev_highest = (uint64_t)u - 1;
        }
        s->any_rx = true;
        if (u > s->highest)
            s->highest = u;
        s->arr_unwrapped[f->seq] = u;
        s->arr_at[f->seq] = (int64_t)f->arrival_us + s->c.remote_offset_us;
        double owd_ms = (f->arrival_us - (double)f->send_us - (double)s->c.prop_us) / 1000.0;
        if (owd_ms > s->max_qdelay_ms)
            s->max_qdelay_ms = owd_ms;
        s->delivered_bytes += PKT;
        s->rx_interval++;
        s->fhead = (s->fhead + 1) % QCAP;
        s->fcount--;
    }
}

static fb_msg_t *fb_slot(sim_t *s)
{
    for (size_t i = 0; i < FB_SLOTS; i++)
        if (!s->fb[i].used)
            return &s->fb[i];
    fail_msg("feedback queue full");
    return NULL;
}

static void receiver_feedback(sim_t *s)
{
    if (!s->any_rx || s->next_report > s->highest)
        return;
    if (s->highest - s->next_report >= FB_MAX_STATUSES)
        s->next_report = s->highest - FB_MAX_STATUSES + 1;
    size_t n = 0;
    int64_t prev = 0, ref_full = 0;
    bool first = true;
    for (int64_t u = s->next_report; u <= s->highest; u++, n++) {
        uint16_t q = (uint16_t)u;
        bool got = s->arr_unwrapped[q] == u;
        s->st[n] = (tf_rtcp_twcc_status_t){.seq = q, .received = got};
        if (!got)
            continue;
        int64_t at = s->arr_at[q];
        if (first) {
            ref_full = at / 64000;
            prev = ref_full * 64000;
            first = false;
        }
        s->st[n].delta_us = (int32_t)(at - prev);
        prev = at;
    }
    s->next_report = s->highest + 1;
    tf_rtcp_twcc_t hdr = {.sender_ssrc = 2,
                          .media_ssrc = 1,
                          .ref_time = (uint32_t)(ref_full & 0xffffff),
                          .fb_count = s->fb_count++};
    fb_msg_t *m = fb_slot(s);
    int len = tf_rtcp_twcc_build_to(&hdr, s->st, n, m->buf, sizeof(m->buf));
    assert_true(len > 0);
    m->used = true;
    m->len = (size_t)len;
    m->at_us = s->t + s->c.prop_us;
    if (s->c.fb_reorder > 0 && rnd(&s->rng) < s->c.fb_reorder)
        m->at_us += 120000; /* overtaken by the next one or two */
    if (s->c.fb_dup > 0 && rnd(&s->rng) < s->c.fb_dup) {
        fb_msg_t *d = fb_slot(s);
        *d = *m;
        d->at_us += 15000;
    }
}

/* RR (fraction lost over the last second) + REMB, as one compound, once a second. */
static void receiver_rr(sim_t *s)
{
    static const tf_rtcp_packet_t zero;
    tf_rtcp_packet_t p[2] = {zero, zero};
    uint64_t expected = s->any_rx ? (uint64_t)s->highest - s->rr_prev_highest : 0;
    uint64_t lost = expected > s->rx_interval ? expected - s->rx_interval : 0;
    p[0].type = TF_RTCP_RR;
    p[0].rr.ssrc = 2;
    p[0].rr.rb_count = 1;
    p[0].rr.rb[0] = (tf_rtcp_report_block_t){
        .ssrc = 1,
        .fraction_lost = (uint8_t)(expected ? fmin(255, lost * 256 / expected) : 0),
        .highest_seq = (uint32_t)s->highest};
    p[1].type = TF_RTCP_REMB;
    p[1].remb.sender_ssrc = 2;
    p[1].remb.bitrate_bps = s->c.remb_bps;
    p[1].remb.ssrc_count = 1;
    p[1].remb.ssrc[0] = 1;
    if (s->any_rx)
        s->rr_prev_highest = (uint64_t)s->highest;
    s->rx_interval = 0;
    fb_msg_t *m = fb_slot(s);
    int len = tf_rtcp_compound_marshal_to(p, s->c.remb_bps ? 2 : 1, m->buf, sizeof(m->buf));
    assert_true(len > 0);
    m->used = true;
    m->len = (size_t)len;
    m->at_us = s->t + s->c.prop_us;
}

static void deliver_feedback(sim_t *s)
{
    for (size_t i = 0; i < FB_SLOTS; i++) {
        fb_msg_t *m = &s->fb[i];
        if (!m->used || m->at_us > s->t)
            continue;
        tf_rtcp_iter_t it;
        tf_rtcp_packet_t p;
        assert_int_equal(tf_rtcp_iter_init(&it, m->buf, m->len), 0);
        while (tf_rtcp_iter_next(&it, &p) == 1) {
            uint64_t now = (uint64_t)s->t;
            if (p.type == TF_RTCP_TWCC)
                assert_int_equal(tf_bwe_on_twcc_feedback(s->bwe, now, &p.twcc), 0);
            else if (p.type == TF_RTCP_RR)
                assert_int_equal(tf_bwe_on_receiver_report(s->bwe, now, p.rr.rb[0].fraction_lost,
                                                           2 * s->c.prop_us),
                                 0);
            else if (p.type == TF_RTCP_REMB)
                assert_int_equal(tf_bwe_on_remb(s->bwe, now, p.remb.bitrate_bps), 0);
        }
        m->used = false;
    }
}

static void record_second(sim_t *s)
{
    tf_bwe_state_t st;
    tf_bwe_get_state(s->bwe, &st);
    assert_true(s->nsec < MAX_SECONDS);
    second_t *x = &s->sec[s->nsec++];
    *x = (second_t){.link = s->link_bps,
                    .target = (double)st.target_bps,
                    .delay = (double)st.delay_bps,
                    .loss_bps = (double)st.loss_bps,
                    .acked = (double)st.acked_bps,
                    .sent = (double)st.sent_bps,
                    .goodput = (double)s->delivered_bytes * 8,
                    .qdelay_ms = s->max_qdelay_ms,
                    .loss_frac = st.loss_fraction,
                    .usage = st.usage,
                    .reason = st.reason,
                    .probing = st.probing};
    printf("  %3ds link %5.0f  target %5.0f  delay %5.0f  loss %5.0f  acked %5.0f  sent %5.0f"
           "  goodput %5.0f kbit/s  qdelay %4.0f ms  lossfrac %4.1f%%  %-6s %s%s\n",
           s->nsec, x->link / 1e3, x->target / 1e3, x->delay / 1e3, x->loss_bps / 1e3,
           x->acked / 1e3, x->sent / 1e3, x->goodput / 1e3, x->qdelay_ms, 100 * x->loss_frac,
           tf_bwe_usage_name(x->usage), tf_bwe_reason_name(x->reason),
           x->probing ? " probing" : "");
    s->max_qdelay_ms = 0;
    s->delivered_bytes = 0;
}

/* Runs one scenario; the caller frees the result. */
static sim_t *run(const sim_config_t *c)
{
    sim_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->c = *c;
    s->rng = c->seed ? c->seed : 1;
    s->link_bps = c->link_bps;
    s->loss = c->loss;
    s->seq = c->first_seq;
    s->highest = -1;
    s->last_send = -1;
    for (size_t i = 0; i < 65536; i++)
        s->arr_unwrapped[i] = -1;
    assert_int_equal(tf_bwe_create(&s->bwe, &c->bwe), 0);
    s->next_fb_us = 50000;
    s->next_rr_us = 1000000;
    printf("[%s]\n", c->name);

    int ci = 0;
    for (s->t = 0; s->t <= c->duration_us; s->t += STEP_US) {
        while (ci < c->n_changes && c->changes[ci].at_us <= s->t) {
            link_advance(s, (double)s->t);
            s->link_bps = c->changes[ci].link_bps;
            s->loss = c->changes[ci].loss;
            ci++;
        }
        if (c->every_100ms && s->t % 100000 == 0)
            c->every_100ms(s, c->user);
        sender_step(s);
        link_advance(s, (double)s->t);
        receiver_take(s);
        if (c->twcc && s->t >= s->next_fb_us) {
            receiver_feedback(s);
            s->next_fb_us += 50000 + (int64_t)(rnd(&s->rng) * 50000);
        }
        if (!c->twcc && s->t >= s->next_rr_us) {
            receiver_rr(s);
            s->next_rr_us += 1000000;
        }
        deliver_feedback(s);
        if ((uint64_t)s->t >= tf_bwe_poll_timeout(s->bwe))
            assert_int_equal(tf_bwe_handle_timeout(s->bwe, (uint64_t)s->t), 0);
        if (s->t > 0 && s->t % 1000000 == 0)
            record_second(s);
    }
    tf_bwe_state_t st;
    tf_bwe_get_state(s->bwe, &st);
    printf("  sent %llu, dropped %llu (queue) + %llu (random); feedback %llu, probes %llu/%llu "
           "ok, statuses unknown %llu, duplicate %llu\n",
           (unsigned long long)s->sent_pkts, (unsigned long long)s->dropped_queue,
           (unsigned long long)s->dropped_random, (unsigned long long)st.feedbacks,
           (unsigned long long)st.probes_succeeded, (unsigned long long)st.probes_sent,
           (unsigned long long)st.unknown_statuses, (unsigned long long)st.duplicate_statuses);
    return s;
}

static void finish(sim_t *s)
{
    tf_bwe_destroy(&s->bwe);
    assert_null(s->bwe);
    free(s);
}

/* Second k (1-based) of the run. */
static const second_t *at(const sim_t *s, int k)
{
    assert_true(k >= 1 && k <= s->nsec);
    return &s->sec[k - 1];
}

/* The first second in [from, to] whose target satisfies lo <= target / link <= hi, or -1. */
static int first_within(const sim_t *s, int from, int to, double lo, double hi)
{
    for (int k = from; k <= to; k++) {
        double r = at(s, k)->target / at(s, k)->link;
        if (r >= lo && r <= hi)
            return k;
    }
    return -1;
}

static sim_config_t base_config(const char *name)
{
    return (sim_config_t){.name = name,
                          .link_bps = 1e6,
                          .prop_us = 25000,
                          .queue_bytes = 60000,
                          .twcc = true,
                          .probes = true,
                          .first_seq = 1,
                          .seed = 42,
                          .duration_us = 30 * 1000000LL,
                          .bwe = {.start_bps = 300000, .min_bps = 30000, .max_bps = 2500000}};
}

#endif /* TF_TEST_BWE_NETSIM_H */
