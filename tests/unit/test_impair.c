/* test_impair.c — bench/impair.c (the core of tafel-relay) on a simulated clock: loss rates and
 * burst lengths, the delay distribution, FIFO order and reordering, constant-rate throughput,
 * exact Mahimahi trace replay (repetition, a 3 s outage), drop-tail limits, determinism.
 * No sockets, no wall clock; statistical bounds are at least 4 sigma wide for fixed seeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/impair.h"

/* One delivered packet as the test sees it. */
typedef struct rec {
    uint32_t id; /* the test's own number, written in the payload */
    size_t len;
    int64_t sent_us, due_us, at_us;
} rec_t;

typedef struct run {
    rec_t *out;
    size_t n_out;
    bool *got; /* by id */
} run_t;

static tf_impair_t *make(const tf_impair_config_t *cfg)
{
    tf_impair_t *x = NULL;
    assert_int_equal(tf_impair_create(&x, cfg), 0);
    assert_non_null(x);
    return x;
}

static void drain(tf_impair_t *x, int64_t now, run_t *r)
{
    tf_impair_packet_t p;
    while (tf_impair_poll_transmit(x, now, &p) == 0) {
        assert_true(p.len >= 4);
        uint32_t id;
        memcpy(&id, p.data, 4);
        assert_false(r->got[id]);
        r->got[id] = true;
        r->out[r->n_out++] = (rec_t){id, p.len, p.sent_us, p.due_us, now};
    }
}

/* Offers n packets of len bytes, one every interval_us from t = 0, and polls at every deadline
 * (or every poll_step_us when that is not 0) until the link is empty. Each packet is delivered
 * when it is due. */
static run_t run_stream(tf_impair_t *x, uint32_t n, int64_t interval_us, size_t len,
                        int64_t poll_step_us)
{
    run_t r = {calloc(n, sizeof(rec_t)), 0, calloc(n, sizeof(bool))};
    assert_non_null(r.out);
    assert_non_null(r.got);
    uint8_t pkt[1500] = {0};
    assert_true(len >= 4 && len <= sizeof(pkt));
    int64_t now = 0, next = 0;
    uint32_t sent = 0;
    for (;;) {
        while (sent < n && next <= now) {
            memcpy(pkt, &sent, 4);
            assert_int_equal(tf_impair_handle_input(x, now, pkt, len), 0);
            sent++;
            next += interval_us;
        }
        drain(x, now, &r);
        int64_t t = tf_impair_poll_timeout(x);
        if (poll_step_us && t != INT64_MAX)
            t = now + poll_step_us;
        if (sent < n && next < t)
            t = next;
        if (t == INT64_MAX)
            break;
        assert_true(t >= now);
        now = t;
    }
    for (size_t i = 0; i < r.n_out; i++)
        assert_true(r.out[i].at_us == r.out[i].due_us || poll_step_us);
    return r;
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->got);
}

/* ---- loss ------------------------------------------------------------------------------- */

static void test_random_loss(void **state)
{
    (void)state;
    const double ps[] = {0.0, 0.02, 0.1, 0.5, 1.0};
    const uint32_t n = 100000;
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        tf_impair_config_t cfg;
        tf_impair_config_default(&cfg);
        cfg.seed = 42 + k;
        cfg.loss = ps[k];
        tf_impair_t *x = make(&cfg);
        run_t r = run_stream(x, n, 1000, 100, 0);
        double rate = 1.0 - (double)r.n_out / n;
        double bound = 4.0 * sqrt(ps[k] * (1.0 - ps[k]) / n);
        tf_impair_stats_t st;
        tf_impair_get_stats(x, &st);
        printf("  random loss %.2f: lost %.4f of %u (bound ±%.4f)\n", ps[k], rate, n, bound);
        assert_true(fabs(rate - ps[k]) <= bound);
        assert_int_equal(st.lost_random, n - r.n_out);
        assert_int_equal(st.lost_burst, 0);
        run_free(&r);
        tf_impair_destroy(&x);
        assert_null(x);
    }
}

typedef struct bursts {
    double loss, mean_burst, mean_gap, single_share;
    size_t count;
} bursts_t;

static bursts_t burst_stats(const bool *got, uint32_t n)
{
    bursts_t b = {0};
    size_t lost = 0, gaps = 0, gap_total = 0, singles = 0, len = 0, gap = 0;
    for (uint32_t i = 0; i <= n; i++) {
        bool l = i < n && !got[i];
        if (l) {
            lost++;
            len++;
            if (gap) {
                gaps++;
                gap_total += gap;
                gap = 0;
            }
        } else {
            if (len) {
                b.count++;
                singles += len == 1;
                len = 0;
            }
            gap++;
        }
    }
    b.loss = (double)lost / n;
    b.mean_burst = b.count ? (double)lost / (double)b.count : 0;
    b.mean_gap = gaps ? (double)gap_total / (double)gaps : 0;
    b.single_share = b.count ? (double)singles / (double)b.count : 0;
    return b;
}

static void test_gilbert_elliott_loss(void **state)
{
    (void)state;
    const uint32_t n = 200000;
    /* Gilbert (lossbad 1, lossgood 0): loss = p / (p + r), bursts geometric with mean 1 / r,
     * loss-free runs geometric with mean 1 / p, a share r of bursts one packet long. */
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.seed = 7;
    cfg.ge = true;
    cfg.ge_p = 0.02;
    cfg.ge_r = 0.25;
    cfg.ge_loss_bad = 1.0;
    cfg.ge_loss_good = 0.0;
    tf_impair_t *x = make(&cfg);
    run_t r = run_stream(x, n, 1000, 100, 0);
    bursts_t b = burst_stats(r.got, n);
    double want = 0.02 / 0.27;
    printf("  Gilbert p 0.02 r 0.25: loss %.4f (expect %.4f), %zu bursts, mean burst %.3f "
           "(expect 4), mean run %.2f (expect 50), one-packet bursts %.3f (expect 0.25)\n",
           b.loss, want, b.count, b.mean_burst, b.mean_gap, b.single_share);
    assert_true(fabs(b.loss / want - 1.0) < 0.10);
    assert_true(fabs(b.mean_burst / 4.0 - 1.0) < 0.07);
    assert_true(fabs(b.mean_gap / 50.0 - 1.0) < 0.07);
    assert_true(fabs(b.single_share - 0.25) < 0.03);
    tf_impair_stats_t st;
    tf_impair_get_stats(x, &st);
    assert_int_equal(st.lost_burst, n - r.n_out);
    run_free(&r);
    tf_impair_destroy(&x);

    /* Full Gilbert–Elliott: loss = pi_bad × lossbad + pi_good × lossgood. */
    cfg.ge_p = 0.05;
    cfg.ge_r = 0.3;
    cfg.ge_loss_bad = 0.6;
    cfg.ge_loss_good = 0.01;
    x = make(&cfg);
    r = run_stream(x, n, 1000, 100, 0);
    b = burst_stats(r.got, n);
    double pib = 0.05 / 0.35;
    want = pib * 0.6 + (1.0 - pib) * 0.01;
    printf("  Gilbert-Elliott p 0.05 r 0.3 bad 0.6 good 0.01: loss %.4f (expect %.4f), mean "
           "burst %.3f\n",
           b.loss, want, b.mean_burst);
    assert_true(fabs(b.loss / want - 1.0) < 0.10);
    /* Bursty: longer runs of loss than independent loss at the same rate (1 / (1 - loss)). */
    assert_true(b.mean_burst > 1.0 / (1.0 - want) + 0.1);
    run_free(&r);
    tf_impair_destroy(&x);

    /* Random loss on top: lost if either model loses it. */
    cfg.ge_p = 0.02;
    cfg.ge_r = 0.25;
    cfg.ge_loss_bad = 1.0;
    cfg.ge_loss_good = 0.0;
    cfg.loss = 0.05;
    x = make(&cfg);
    r = run_stream(x, n, 1000, 100, 0);
    b = burst_stats(r.got, n);
    want = 1.0 - (1.0 - 0.02 / 0.27) * 0.95;
    printf("  Gilbert + random 0.05: loss %.4f (expect %.4f)\n", b.loss, want);
    assert_true(fabs(b.loss / want - 1.0) < 0.08);
    run_free(&r);
    tf_impair_destroy(&x);
}

/* ---- delay, jitter, order --------------------------------------------------------------- */

typedef struct moments {
    double mean, sd, min, max, within_1sd;
} moments_t;

static moments_t delay_moments(const run_t *r, double centre, double sd_expect)
{
    moments_t m = {0, 0, 1e300, -1e300, 0};
    double s = 0, s2 = 0;
    size_t in = 0;
    for (size_t i = 0; i < r->n_out; i++) {
        double d = (double)(r->out[i].due_us - r->out[i].sent_us) / 1000.0;
        s += d;
        s2 += d * d;
        m.min = d < m.min ? d : m.min;
        m.max = d > m.max ? d : m.max;
        in += fabs(d - centre) <= sd_expect;
    }
    double n = (double)r->n_out;
    m.mean = s / n;
    m.sd = sqrt(s2 / n - m.mean * m.mean);
    m.within_1sd = (double)in / n;
    return m;
}

static void test_delay_distribution(void **state)
{
    (void)state;
    const uint32_t n = 20000;
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.seed = 3;
    cfg.delay_us = 50000;

    /* Fixed delay only: exact. */
    tf_impair_t *x = make(&cfg);
    run_t r = run_stream(x, 1000, 7000, 100, 0);
    assert_int_equal(r.n_out, 1000);
    for (size_t i = 0; i < r.n_out; i++)
        assert_int_equal(r.out[i].due_us - r.out[i].sent_us, 50000);
    run_free(&r);
    tf_impair_destroy(&x);

    /* Normal jitter, packets 100 ms apart so the FIFO clamp never acts. */
    cfg.jitter_us = 10000;
    x = make(&cfg);
    r = run_stream(x, n, 100000, 100, 0);
    moments_t m = delay_moments(&r, 50.0, 10.0);
    printf("  delay 50 ms, normal jitter 10 ms: mean %.3f ms, sd %.3f ms, %.3f within 1 sd "
           "(expect 0.683), range %.1f..%.1f ms\n",
           m.mean, m.sd, m.within_1sd, m.min, m.max);
    assert_true(fabs(m.mean - 50.0) < 0.3);
    assert_true(fabs(m.sd - 10.0) < 0.3);
    assert_true(fabs(m.within_1sd - 0.6827) < 0.015);
    run_free(&r);
    tf_impair_destroy(&x);

    /* Uniform jitter: delay ± 10 ms, sd 10 / sqrt(3). */
    cfg.jitter_dist = TF_IMPAIR_JITTER_UNIFORM;
    x = make(&cfg);
    r = run_stream(x, n, 100000, 100, 0);
    m = delay_moments(&r, 50.0, 10.0);
    printf("  delay 50 ms, uniform jitter ±10 ms: mean %.3f ms, sd %.3f ms (expect 5.774), "
           "range %.2f..%.2f ms\n",
           m.mean, m.sd, m.min, m.max);
    assert_true(fabs(m.mean - 50.0) < 0.2);
    assert_true(fabs(m.sd - 10.0 / sqrt(3.0)) < 0.15);
    assert_true(m.min >= 40.0 && m.max <= 60.0);
    assert_true(m.min < 40.1 && m.max > 59.9);
    run_free(&r);
    tf_impair_destroy(&x);

    /* Jitter larger than the delay never delivers before the packet was sent. */
    cfg.jitter_dist = TF_IMPAIR_JITTER_NORMAL;
    cfg.delay_us = 5000;
    cfg.jitter_us = 20000;
    x = make(&cfg);
    r = run_stream(x, 5000, 100000, 100, 0);
    m = delay_moments(&r, 5.0, 20.0);
    assert_true(m.min >= 0.0);
    run_free(&r);
    tf_impair_destroy(&x);
}

/* Packets delivered after one with a higher id: each is a reordering event. */
static size_t late_packets(const run_t *r)
{
    size_t late = 0;
    int64_t hi = -1;
    for (size_t i = 0; i < r->n_out; i++) {
        if ((int64_t)r->out[i].id < hi)
            late++;
        else
            hi = r->out[i].id;
    }
    return late;
}

static void test_order_and_reordering(void **state)
{
    (void)state;
    const uint32_t n = 50000;
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.seed = 11;
    cfg.delay_us = 20000;
    cfg.jitter_us = 15000; /* far more than the 1 ms spacing */

    /* No reordering unless it is enabled, however large the jitter. */
    tf_impair_t *x = make(&cfg);
    run_t r = run_stream(x, n, 1000, 100, 0);
    assert_int_equal(r.n_out, n);
    assert_int_equal(late_packets(&r), 0);
    moments_t m = delay_moments(&r, 20.0, 15.0);
    printf("  jitter 15 ms at 1 ms spacing, no reorder: 0 late of %u; the FIFO clamp lifts the "
           "mean delay to %.1f ms\n",
           n, m.mean);
    run_free(&r);
    tf_impair_destroy(&x);

    /* Reordering 5 %: each picked packet is held 10 ms and overtaken by the next ones. */
    const double ps[] = {0.01, 0.05, 0.2};
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        cfg.jitter_us = 0;
        cfg.reorder = ps[k];
        cfg.reorder_us = 10000;
        x = make(&cfg);
        r = run_stream(x, n, 1000, 100, 0);
        tf_impair_stats_t st;
        tf_impair_get_stats(x, &st);
        size_t late = late_packets(&r);
        double rate = (double)late / n, bound = 4.0 * sqrt(ps[k] * (1.0 - ps[k]) / n);
        printf("  reorder %.2f: %zu late of %u = %.4f (bound ±%.4f)\n", ps[k], late, n, rate,
               bound);
        assert_int_equal(r.n_out, n);
        assert_int_equal(late, st.reordered);
        assert_true(fabs(rate - ps[k]) <= bound);
        run_free(&r);
        tf_impair_destroy(&x);
    }

    /* With jitter as well, the late share stays close to the reorder probability. */
    cfg.reorder = 0.05;
    cfg.jitter_us = 3000;
    x = make(&cfg);
    r = run_stream(x, n, 1000, 100, 0);
    double rate = (double)late_packets(&r) / n;
    printf("  reorder 0.05 with 3 ms jitter: %.4f late\n", rate);
    assert_true(rate > 0.04 && rate < 0.06);
    run_free(&r);
    tf_impair_destroy(&x);
}

/* ---- constant rate ---------------------------------------------------------------------- */

static double bytes_kbps_between(const run_t *r, int64_t from_us, int64_t to_us)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < r->n_out; i++)
        if (r->out[i].due_us >= from_us && r->out[i].due_us < to_us)
            bytes += r->out[i].len;
    return (double)bytes * 8.0 / ((double)(to_us - from_us) / 1000.0);
}

static void test_constant_rate(void **state)
{
    (void)state;
    const uint64_t rates[] = {150000, 250000, 1000000, 5000000};
    for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
        tf_impair_config_t cfg;
        tf_impair_config_default(&cfg);
        cfg.max_packets = 8192;
        cfg.rate_bps = rates[k];
        tf_impair_t *x = make(&cfg);
        /* Offer 1.5 × the rate for 10 s, 1200-byte packets. */
        int64_t interval = (int64_t)(1200.0 * 8.0 * 1e6 / (1.5 * (double)rates[k]));
        uint32_t n = (uint32_t)(10000000 / interval);
        run_t r = run_stream(x, n, interval, 1200, 0);
        double kbps = bytes_kbps_between(&r, 0, 10000000);
        double err = kbps / ((double)rates[k] / 1000.0) - 1.0;
        /* Back to back, deliveries are one transmission time apart. */
        int64_t gap = r.out[r.n_out - 1].due_us - r.out[r.n_out - 2].due_us;
        int64_t tx = (int64_t)ceil(1200.0 * 8.0 * 1e6 / (double)rates[k]);
        printf("  rate %llu kbit/s, offered 1.5x for 10 s: delivered %.1f kbit/s (%+.2f %%), "
               "spacing %lld us (tx %lld us)\n",
               (unsigned long long)rates[k] / 1000, kbps, err * 100.0, (long long)gap,
               (long long)tx);
        assert_true(fabs(err) < 0.02);
        assert_true(llabs(gap - tx) <= 1);
        assert_int_equal(r.n_out, n); /* no limit: everything comes out, late */
        run_free(&r);
        tf_impair_destroy(&x);
    }
}

/* Offers 1.5 Mbit/s for 10 s and changes the rate at 5 s (and removes it at 8 s). */
static void test_rate_change(void **state)
{
    (void)state;
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.max_packets = 8192;
    cfg.rate_bps = 1000000;
    tf_impair_t *x = make(&cfg);
    const uint32_t n = 1500000 / 9600 * 10;
    run_t r = {calloc(n, sizeof(rec_t)), 0, calloc(n, sizeof(bool))};
    uint8_t pkt[1200] = {0};
    int64_t now = 0, next = 0;
    uint32_t sent = 0;
    bool changed = false, removed = false;
    size_t queued_at_8 = 0;
    while (now < 12000000) {
        if (!changed && now >= 5000000) {
            assert_int_equal(tf_impair_set_rate(x, 5000000, 250000), 0);
            changed = true;
        }
        if (!removed && now >= 8000000) {
            tf_impair_stats_t st;
            tf_impair_get_stats(x, &st);
            queued_at_8 = st.queued_packets;
            assert_int_equal(tf_impair_set_rate(x, 8000000, 0), 0);
            tf_impair_get_stats(x, &st);
            assert_int_equal(st.queued_packets, 0);
            removed = true;
        }
        while (sent < n && next <= now) {
            memcpy(pkt, &sent, 4);
            assert_int_equal(tf_impair_handle_input(x, now, pkt, sizeof(pkt)), 0);
            sent++;
            next += 6400;
        }
        drain(x, now, &r);
        int64_t t = tf_impair_poll_timeout(x);
        if (sent < n && next < t)
            t = next;
        if (!changed && t > 5000000)
            t = 5000000;
        if (!removed && t > 8000000)
            t = 8000000;
        if (t == INT64_MAX)
            break;
        now = t;
    }
    double a = bytes_kbps_between(&r, 1000000, 5000000);
    double b = bytes_kbps_between(&r, 5500000, 8000000);
    size_t at_8 = 0;
    for (size_t i = 0; i < r.n_out; i++)
        at_8 += r.out[i].due_us == 8000000;
    printf("  1000 kbit/s then 250 at 5 s: %.1f / %.1f kbit/s; unlimited at 8 s released %zu "
           "queued packets at once\n",
           a, b, at_8);
    assert_true(fabs(a / 1000.0 - 1.0) < 0.01);
    assert_true(fabs(b / 250.0 - 1.0) < 0.02);
    assert_true(queued_at_8 > 100);
    assert_true(at_8 >= queued_at_8);
    assert_int_equal(r.n_out, n);
    run_free(&r);
    tf_impair_destroy(&x);
}

/* ---- queue limits ----------------------------------------------------------------------- */

static void test_queue_limits(void **state)
{
    (void)state;
    uint8_t pkt[1200] = {0};
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.rate_bps = 1000000;
    cfg.queue_us = 100000; /* 12 500 bytes at 1 Mbit/s */

    /* A burst of 100 × 1200 bytes at once: the first ten fit. */
    tf_impair_t *x = make(&cfg);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tf_impair_handle_input(x, 0, pkt, sizeof(pkt)), 0);
    tf_impair_stats_t st;
    tf_impair_get_stats(x, &st);
    printf("  1 Mbit/s, 100 ms queue, burst of 100: %zu queued (%zu bytes), %llu dropped\n",
           st.queued_packets, st.queued_bytes, (unsigned long long)st.dropped_queue);
    assert_int_equal(st.queued_packets, 10);
    assert_int_equal(st.dropped_queue, 90);
    tf_impair_destroy(&x);

    /* Sustained 2 × overload: about half is dropped and no packet waits beyond the limit. */
    x = make(&cfg);
    run_t r = run_stream(x, 10000, 4800, 1200, 0); /* 2 Mbit/s for 48 s */
    int64_t worst = 0;
    for (size_t i = 0; i < r.n_out; i++)
        if (r.out[i].due_us - r.out[i].sent_us > worst)
            worst = r.out[i].due_us - r.out[i].sent_us;
    tf_impair_get_stats(x, &st);
    printf("  2x overload for 48 s: %zu delivered, %llu dropped, longest wait %.1f ms\n", r.n_out,
           (unsigned long long)st.dropped_queue, (double)worst / 1000.0);
    assert_true(worst <= 100000);
    assert_true(fabs((double)st.dropped_queue / 10000.0 - 0.5) < 0.01);
    run_free(&r);
    tf_impair_destroy(&x);

    /* A byte limit: the smaller of the two limits wins. */
    cfg.queue_bytes = 5000;
    x = make(&cfg);
    for (int i = 0; i < 10; i++)
        assert_int_equal(tf_impair_handle_input(x, 0, pkt, sizeof(pkt)), 0);
    tf_impair_get_stats(x, &st);
    assert_int_equal(st.queued_packets, 4);
    tf_impair_destroy(&x);

    /* Out of slots: -ENOBUFS, counted. Oversize: -EMSGSIZE, counted. */
    tf_impair_config_default(&cfg);
    cfg.rate_bps = 100000;
    cfg.max_packets = 8;
    cfg.max_packet_bytes = 1200;
    x = make(&cfg);
    for (int i = 0; i < 8; i++)
        assert_int_equal(tf_impair_handle_input(x, 0, pkt, sizeof(pkt)), 0);
    assert_int_equal(tf_impair_handle_input(x, 0, pkt, sizeof(pkt)), -ENOBUFS);
    uint8_t big[1201] = {0};
    assert_int_equal(tf_impair_handle_input(x, 0, big, sizeof(big)), -EMSGSIZE);
    tf_impair_get_stats(x, &st);
    assert_int_equal(st.dropped_overflow, 1);
    assert_int_equal(st.dropped_oversize, 1);
    assert_int_equal(st.in_packets, 10);
    tf_impair_destroy(&x);
}

/* ---- Mahimahi traces -------------------------------------------------------------------- */

static tf_impair_trace_t *parse(const char *text)
{
    tf_impair_trace_t *t = NULL;
    char err[128];
    assert_int_equal(tf_impair_trace_parse(&t, text, strlen(text), err, sizeof(err)), 0);
    return t;
}

static void test_trace_parse(void **state)
{
    (void)state;
    tf_impair_trace_t *t = parse(" 7 \r\n\n8\n8");
    assert_int_equal(tf_impair_trace_opportunities(t), 3);
    assert_int_equal(tf_impair_trace_period_ms(t), 8);
    assert_int_equal(tf_impair_trace_time_ms(t, 0), 7);
    assert_int_equal(tf_impair_trace_mean_bps(t), 3 * 1500 * 8 * 1000 / 8);
    tf_impair_trace_destroy(&t);
    assert_null(t);
    t = parse("12\n");
    assert_int_equal(tf_impair_trace_mean_bps(t), 1000000);
    tf_impair_trace_destroy(&t);

    const char *bad[] = {"",     "\n\n",  "0\n0\n", "5\n3\n",       "abc\n",
                         "-1\n", "1.5\n", "1 2\n",  "99999999999\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[128] = "";
        assert_int_equal(tf_impair_trace_parse(&t, bad[i], strlen(bad[i]), err, sizeof(err)),
                         -EINVAL);
        assert_null(t);
        assert_true(err[0] != '\0');
    }
    char err[64];
    assert_int_equal(tf_impair_trace_parse(&t, "5\n3\n", 4, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "line 2: time goes backwards");
}

/* Runs a trace with a queue kept full (1500-byte packets offered at 3 × the trace's peak) and
 * checks that deliveries happen exactly at the trace's times, repeated. */
static void test_trace_exact(void **state)
{
    (void)state;
    tf_impair_trace_t *t = parse("3\n3\n10\n25\n40\n");
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.trace = t;
    tf_impair_t *x = make(&cfg);
    run_t r = run_stream(x, 30, 0, 1500, 0); /* all 30 at t = 0 */
    assert_int_equal(r.n_out, 30);
    const int64_t ms[5] = {3, 3, 10, 25, 40};
    for (size_t i = 0; i < 30; i++) {
        assert_int_equal(r.out[i].id, i);
        assert_int_equal(r.out[i].due_us, (int64_t)(i / 5 * 40 + ms[i % 5]) * 1000);
    }
    run_free(&r);
    tf_impair_destroy(&x);

    /* Small packets share an opportunity, a large one spans two (mm-link's byte accounting):
     * 1200-byte packets go out 5 per 4 opportunities. */
    tf_impair_trace_t *t1 = parse("1\n2\n3\n4\n");
    cfg.trace = t1;
    x = make(&cfg);
    r = run_stream(x, 10, 0, 1200, 0);
    const int64_t want1200[10] = {1, 2, 3, 4, 4, 5, 6, 7, 8, 8};
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(r.out[i].due_us, want1200[i] * 1000);
    run_free(&r);
    tf_impair_destroy(&x);
    x = make(&cfg);
    r = run_stream(x, 9, 0, 500, 0);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(r.out[i].due_us, (int64_t)(i / 3 + 1) * 1000);
    run_free(&r);
    tf_impair_destroy(&x);
    tf_impair_trace_destroy(&t1);

    /* A packet offered exactly at an opportunity misses it; one a µs earlier takes it. An idle
     * link wastes opportunities, and after a long idle time the phase is unchanged. */
    tf_impair_trace_t *t2 = parse("10\n20\n");
    cfg.trace = t2;
    x = make(&cfg);
    uint8_t pkt[100] = {0};
    tf_impair_packet_t p;
    assert_int_equal(tf_impair_poll_transmit(x, 0, &p), -EAGAIN); /* trace time 0 */
    assert_int_equal(tf_impair_poll_timeout(x), INT64_MAX);
    assert_int_equal(tf_impair_handle_input(x, 10000, pkt, sizeof(pkt)), 0);
    assert_int_equal(tf_impair_poll_timeout(x), 20000);
    assert_int_equal(tf_impair_poll_transmit(x, 19999, &p), -EAGAIN);
    assert_int_equal(tf_impair_poll_transmit(x, 20000, &p), 0);
    assert_int_equal(p.due_us, 20000);
    assert_int_equal(tf_impair_handle_input(x, 29999, pkt, sizeof(pkt)), 0);
    assert_int_equal(tf_impair_poll_transmit(x, 30000, &p), 0);
    assert_int_equal(p.due_us, 30000);
    const int64_t later = INT64_C(1000000000500); /* 11.6 days later, half a ms into a slot */
    assert_int_equal(tf_impair_handle_input(x, later, pkt, sizeof(pkt)), 0);
    assert_int_equal(tf_impair_poll_timeout(x), INT64_C(1000000010000));
    assert_int_equal(tf_impair_poll_transmit(x, INT64_C(1000000010000), &p), 0);
    tf_impair_destroy(&x);
    tf_impair_trace_destroy(&t2);
    tf_impair_trace_destroy(&t);
}

/* A pseudo-random trace over 10 periods: the deliveries are exactly its opportunities. */
static void test_trace_replay_random(void **state)
{
    (void)state;
    const size_t lines = 700;
    char *text = malloc(lines * 12);
    assert_non_null(text);
    size_t off = 0;
    uint64_t rng = 99;
    uint32_t ms = 0;
    for (size_t i = 0; i < lines; i++) {
        ms += (uint32_t)(tf_impair_rand(&rng) % 7); /* 0..6 ms apart, so several share a ms */
        off += (size_t)snprintf(text + off, 12, "%u\n", ms + 1);
    }
    tf_impair_trace_t *t = NULL;
    assert_int_equal(tf_impair_trace_parse(&t, text, off, NULL, 0), 0);
    free(text);
    uint32_t period = tf_impair_trace_period_ms(t);
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.trace = t;
    cfg.max_packets = 8192;
    cfg.delay_us = 30000; /* a delay after the limiter shifts everything */
    tf_impair_t *x = make(&cfg);
    const uint32_t n = (uint32_t)lines * 10;
    run_t r = run_stream(x, n, 0, 1500, 0);
    assert_int_equal(r.n_out, n);
    for (size_t i = 0; i < n; i++) {
        int64_t want =
            ((int64_t)(i / lines) * period + tf_impair_trace_time_ms(t, i % lines)) * 1000 + 30000;
        assert_int_equal(r.out[i].due_us, want);
    }
    printf("  random trace, %zu opportunities in %u ms, 10 repetitions: %u deliveries, all at "
           "the trace's times\n",
           lines, period, n);
    run_free(&r);
    tf_impair_destroy(&x);
    tf_impair_trace_destroy(&t);
}

/* 2 s at 1.2 Mbit/s, a 3 s outage, 2 s at 1.2 Mbit/s; the trace repeats after 7 s. */
static tf_impair_trace_t *outage_trace(void)
{
    char *text = malloc(400 * 8);
    assert_non_null(text);
    size_t off = 0;
    for (int ms = 10; ms <= 2000; ms += 10)
        off += (size_t)snprintf(text + off, 8, "%d\n", ms);
    for (int ms = 5010; ms <= 7000; ms += 10)
        off += (size_t)snprintf(text + off, 8, "%d\n", ms);
    tf_impair_trace_t *t = NULL;
    assert_int_equal(tf_impair_trace_parse(&t, text, off, NULL, 0), 0);
    free(text);
    return t;
}

static void test_trace_outage(void **state)
{
    (void)state;
    tf_impair_trace_t *t = outage_trace();
    assert_int_equal(tf_impair_trace_opportunities(t), 400);
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.trace = t;
    cfg.max_packets = 4096;
    tf_impair_t *x = make(&cfg);
    /* 800 kbit/s of 1000-byte packets for 14 s (two periods). */
    run_t r = run_stream(x, 1400, 10000, 1000, 0);
    assert_int_equal(r.n_out, 1400);
    size_t in_outage = 0, after = 0;
    int64_t first_after = INT64_MAX;
    for (size_t i = 0; i < r.n_out; i++) {
        int64_t due_ms = r.out[i].due_us / 1000, phase = due_ms % 7000;
        assert_int_equal(r.out[i].due_us % 10000, 0); /* only at opportunities */
        if (phase > 2000 && phase < 5010)
            in_outage++;
        if (due_ms >= 5010 && due_ms <= 7000) {
            after++;
            first_after = due_ms < first_after ? due_ms : first_after;
        }
    }
    printf("  3 s outage: %zu deliveries during the outages, first after at %lld ms, %zu "
           "delivered by its 200 opportunities after it\n",
           in_outage, (long long)first_after, after);
    assert_int_equal(in_outage, 0);
    assert_int_equal(first_after, 5010);
    assert_int_equal(after, 300); /* 200 opportunities × 1500 bytes, queue never empty */
    run_free(&r);
    tf_impair_destroy(&x);

    /* The same with a 500 ms queue: the backlog is bounded by the trace's mean rate. */
    cfg.queue_us = 500000;
    x = make(&cfg);
    r = run_stream(x, 700, 10000, 1000, 0);
    tf_impair_stats_t st;
    tf_impair_get_stats(x, &st);
    size_t burst_after = 0;
    for (size_t i = 0; i < r.n_out; i++)
        burst_after += r.out[i].due_us >= 5010000 && r.out[i].due_us <= 5500000;
    printf("  outage with a 500 ms queue (%llu bit/s mean): %llu dropped, %zu delivered in the "
           "first 0.5 s after\n",
           (unsigned long long)st.rate_bps, (unsigned long long)st.dropped_queue, burst_after);
    assert_int_equal(st.rate_bps, 400ull * 1500 * 8 * 1000 / 7000);
    assert_true(st.dropped_queue > 200);
    assert_int_equal(r.n_out + st.dropped_queue, 700);
    run_free(&r);
    tf_impair_destroy(&x);
    tf_impair_trace_destroy(&t);
}

/* A trace installed at run time starts at that time; from a trace back to a constant rate. */
static void test_trace_switch(void **state)
{
    (void)state;
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.rate_bps = 1200000;
    tf_impair_t *x = make(&cfg);
    tf_impair_trace_t *t = parse("5\n5\n50\n");
    uint8_t pkt[1500] = {0};
    tf_impair_packet_t p;
    for (int i = 0; i < 10; i++)
        assert_int_equal(tf_impair_handle_input(x, 0, pkt, sizeof(pkt)), 0);
    assert_int_equal(tf_impair_poll_transmit(x, 10000, &p), 0);
    assert_int_equal(p.due_us, 10000);
    assert_int_equal(tf_impair_set_trace(x, 15000, t), 0);
    tf_impair_trace_destroy(&t); /* the link has its copy */
    const int64_t want[] = {20000, 20000, 65000, 70000, 70000, 115000};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(tf_impair_poll_timeout(x) <= want[i], true);
        assert_int_equal(tf_impair_poll_transmit(x, want[i], &p), 0);
        assert_int_equal(p.due_us, want[i]);
    }
    assert_int_equal(tf_impair_set_rate(x, 115000, 1200000), 0);
    assert_int_equal(tf_impair_poll_timeout(x), 125000);
    tf_impair_stats_t st;
    tf_impair_get_stats(x, &st);
    assert_false(st.trace);
    assert_int_equal(st.rate_bps, 1200000);
    tf_impair_destroy(&x);
}

/* The limiter counts overhead_bytes per packet: 1172 + 28 bytes take as long as 1200 did, and
 * 1472 + 28 fill one trace opportunity each. */
static void test_overhead(void **state)
{
    (void)state;
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.rate_bps = 1000000;
    cfg.overhead_bytes = 28;
    tf_impair_t *x = make(&cfg);
    run_t r = run_stream(x, 20, 0, 1172, 0);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(r.out[i].due_us, (int64_t)(i + 1) * 9600);
    run_free(&r);
    tf_impair_destroy(&x);

    tf_impair_trace_t *t = parse("1\n2\n3\n4\n");
    cfg.trace = t;
    cfg.queue_bytes = 3000; /* two packets on the wire */
    x = make(&cfg);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tf_impair_handle_input(x, 0, (const uint8_t *)"abcd", 4), 0);
    tf_impair_stats_t st;
    tf_impair_get_stats(x, &st);
    assert_int_equal(st.queued_bytes, 3 * 32);
    tf_impair_destroy(&x);
    x = make(&cfg);
    r = run_stream(x, 2, 0, 1472, 0);
    assert_int_equal(r.n_out, 2);
    assert_int_equal(r.out[0].due_us, 1000);
    assert_int_equal(r.out[1].due_us, 2000);
    run_free(&r);
    tf_impair_get_stats(x, &st);
    assert_int_equal(st.dropped_queue, 0);
    tf_impair_destroy(&x);
    tf_impair_trace_destroy(&t);
}

/* ---- determinism ------------------------------------------------------------------------ */

static run_t everything(uint64_t seed, int64_t poll_step_us)
{
    tf_impair_config_t cfg;
    tf_impair_config_default(&cfg);
    cfg.seed = seed;
    cfg.max_packets = 4096;
    cfg.delay_us = 40000;
    cfg.jitter_us = 8000;
    cfg.loss = 0.02;
    cfg.ge = true;
    cfg.ge_p = 0.01;
    cfg.ge_r = 0.3;
    cfg.reorder = 0.03;
    cfg.rate_bps = 800000;
    cfg.queue_us = 200000;
    tf_impair_t *x = make(&cfg);
    run_t r = run_stream(x, 5000, 8000, 1200, poll_step_us); /* 1.2 Mbit/s offered */
    tf_impair_destroy(&x);
    return r;
}

static void test_determinism(void **state)
{
    (void)state;
    run_t a = everything(1234, 0), b = everything(1234, 0), c = everything(1235, 0);
    /* Polling every 250 µs instead of at the deadlines changes nothing but the poll times. */
    run_t d = everything(1234, 250);
    assert_true(a.n_out > 2000);
    assert_int_equal(a.n_out, b.n_out);
    assert_int_equal(a.n_out, d.n_out);
    bool differs = a.n_out != c.n_out;
    for (size_t i = 0; i < a.n_out; i++) {
        assert_int_equal(a.out[i].id, b.out[i].id);
        assert_int_equal(a.out[i].due_us, b.out[i].due_us);
        assert_int_equal(a.out[i].id, d.out[i].id);
        assert_int_equal(a.out[i].due_us, d.out[i].due_us);
        assert_true(d.out[i].at_us - d.out[i].due_us < 250);
        if (!differs && (a.out[i].id != c.out[i].id || a.out[i].due_us != c.out[i].due_us))
            differs = true;
    }
    printf("  all impairments, seed 1234 twice and with 250 us polling: %zu identical "
           "deliveries; seed 1235 differs\n",
           a.n_out);
    assert_true(differs);
    run_free(&a);
    run_free(&b);
    run_free(&c);
    run_free(&d);
}

static void test_bad_config(void **state)
{
    (void)state;
    tf_impair_config_t cfg;
    tf_impair_t *x = NULL;
    tf_impair_config_default(&cfg);
    cfg.loss = 1.5;
    assert_int_equal(tf_impair_create(&x, &cfg), -EINVAL);
    tf_impair_config_default(&cfg);
    cfg.loss = NAN;
    assert_int_equal(tf_impair_create(&x, &cfg), -EINVAL);
    tf_impair_config_default(&cfg);
    cfg.max_packets = 0;
    assert_int_equal(tf_impair_create(&x, &cfg), -EINVAL);
    tf_impair_config_default(&cfg);
    cfg.delay_us = -1;
    assert_int_equal(tf_impair_create(&x, &cfg), -EINVAL);
    tf_impair_config_default(&cfg);
    cfg.reorder = 0.1;
    cfg.reorder_us = 0;
    assert_int_equal(tf_impair_create(&x, &cfg), -EINVAL);
    tf_impair_config_default(&cfg);
    cfg.ge = true;
    cfg.ge_p = -0.1;
    assert_int_equal(tf_impair_create(&x, &cfg), -EINVAL);
    assert_null(x);
    assert_int_equal(tf_impair_create(&x, NULL), -EINVAL);
    tf_impair_config_default(&cfg);
    x = make(&cfg);
    assert_int_equal(tf_impair_set_trace(x, 0, NULL), -EINVAL);
    assert_int_equal(tf_impair_handle_input(x, 0, NULL, 5), -EINVAL);
    /* An empty datagram is a datagram. */
    assert_int_equal(tf_impair_handle_input(x, 0, NULL, 0), 0);
    tf_impair_packet_t p;
    assert_int_equal(tf_impair_poll_transmit(x, 0, &p), 0);
    assert_int_equal(p.len, 0);
    tf_impair_destroy(&x);
    tf_impair_destroy(&x);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_loss),
        cmocka_unit_test(test_gilbert_elliott_loss),
        cmocka_unit_test(test_delay_distribution),
        cmocka_unit_test(test_order_and_reordering),
        cmocka_unit_test(test_constant_rate),
        cmocka_unit_test(test_rate_change),
        cmocka_unit_test(test_queue_limits),
        cmocka_unit_test(test_trace_parse),
        cmocka_unit_test(test_trace_exact),
        cmocka_unit_test(test_trace_replay_random),
        cmocka_unit_test(test_trace_outage),
        cmocka_unit_test(test_trace_switch),
        cmocka_unit_test(test_overhead),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_bad_config),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
