/* bwe_delay.c — the delay-based estimate: packets grouped into 5 ms send bursts, a trendline
 * fitted to the smoothed delay gradient, an adaptive-threshold overuse detector, and AIMD rate
 * control with a link capacity estimate. Constants are libwebrtc's (goog_cc) unless noted. No
 * clock, no feedback parsing, no loss handling: bwe.c feeds it. */
#include <math.h>
#include <string.h>

#include "server/rtc/bwe_internal.h"

#define MS 1000

/* InterArrivalDelta */
#define BURST_DELTA_US (5 * MS)
#define MAX_BURST_US (100 * MS)
#define SEND_GROUP_US (5 * MS)
#define MAX_REORDERED 3
#define ARRIVAL_JUMP_US (3000 * MS)

/* TrendlineEstimator */
#define SMOOTHING 0.9
#define THRESHOLD_GAIN 4.0
#define MIN_NUM_DELTAS 60
#define DELTA_COUNTER_MAX 1000
#define INITIAL_THRESHOLD_MS 12.5
#define MIN_THRESHOLD_MS 6.0
#define MAX_THRESHOLD_MS 600.0
#define MAX_ADAPT_OFFSET_MS 15.0
#define K_UP 0.0087
#define K_DOWN 0.039
#define OVERUSE_TIME_MS 10.0
#define MAX_THRESHOLD_STEP_MS 100.0

/* AimdRateControl */
#define BETA 0.85
#define INCREASE_PER_S 1.08
#define MIN_MULT_INCREASE_BPS 1000.0
#define MIN_ADD_INCREASE_BPS_PER_S 4000.0
#define RESPONSE_EXTRA_MS 100.0
#define PACKET_BITS (1200.0 * 8)
#define FRAME_RATE 30.0
#define CAP_ALPHA_OVERUSE 0.05

enum { AIMD_HOLD = 0, AIMD_INCREASE, AIMD_DECREASE };

void tf__bwe_delay_init(tf__bwe_delay_t *d, double start_bps, double min_bps, double max_bps)
{
    memset(d, 0, sizeof(*d));
    d->min_bps = min_bps;
    d->max_bps = max_bps;
    d->bitrate = start_bps;
    d->last_throughput = start_bps;
    d->threshold = INITIAL_THRESHOLD_MS;
    d->time_over_using_ms = -1;
    d->usage = TF_BWE_USAGE_NORMAL;
    d->state = AIMD_INCREASE;
    d->cap_dev = 0.4;
}

/* Trendline ---------------------------------------------------------------------------------- */

static double fit_slope(const tf__bwe_delay_t *d)
{
    double sx = 0, sy = 0, num = 0, den = 0;
    for (int i = 0; i < d->hn; i++) {
        sx += d->hx[i];
        sy += d->hy[i];
    }
    double mx = sx / d->hn, my = sy / d->hn;
    for (int i = 0; i < d->hn; i++) {
        num += (d->hx[i] - mx) * (d->hy[i] - my);
        den += (d->hx[i] - mx) * (d->hx[i] - mx);
    }
    return den != 0 ? num / den : NAN;
}

static void update_threshold(tf__bwe_delay_t *d, double modified, int64_t now_us)
{
    if (!d->have_threshold_time) {
        d->have_threshold_time = true;
        d->last_threshold_us = now_us;
    }
    /* Do not adapt to big spikes (a sudden capacity drop): they must stay detectable. */
    if (fabs(modified) > d->threshold + MAX_ADAPT_OFFSET_MS) {
        d->last_threshold_us = now_us;
        return;
    }
    double k = fabs(modified) < d->threshold ? K_DOWN : K_UP;
    double dt_ms = fmin((double)(now_us - d->last_threshold_us) / MS, MAX_THRESHOLD_STEP_MS);
    if (dt_ms < 0)
        dt_ms = 0;
    d->threshold += k * (fabs(modified) - d->threshold) * dt_ms;
    d->threshold = fmin(fmax(d->threshold, MIN_THRESHOLD_MS), MAX_THRESHOLD_MS);
    d->last_threshold_us = now_us;
}

static void detect(tf__bwe_delay_t *d, double trend, double send_delta_ms, int64_t now_us)
{
    if (d->num_deltas < 2) {
        d->usage = TF_BWE_USAGE_NORMAL;
        return;
    }
    int n = d->num_deltas < MIN_NUM_DELTAS ? d->num_deltas : MIN_NUM_DELTAS;
    double modified = n * trend * THRESHOLD_GAIN;
    d->modified_trend = modified;
    if (modified > d->threshold) {
        if (d->time_over_using_ms < 0)
            d->time_over_using_ms = send_delta_ms / 2; /* it began somewhere in this delta */
        else
            d->time_over_using_ms += send_delta_ms;
        d->overuse_counter++;
        if (d->time_over_using_ms > OVERUSE_TIME_MS && d->overuse_counter > 1 &&
            trend >= d->prev_trend) {
            d->time_over_using_ms = 0;
            d->overuse_counter = 0;
            d->usage = TF_BWE_USAGE_OVER;
        }
    } else if (modified < -d->threshold) {
        d->time_over_using_ms = -1;
        d->overuse_counter = 0;
        d->usage = TF_BWE_USAGE_UNDER;
    } else {
        d->time_over_using_ms = -1;
        d->overuse_counter = 0;
        d->usage = TF_BWE_USAGE_NORMAL;
    }
    d->prev_trend = trend;
    update_threshold(d, modified, now_us);
}

static void trendline_update(tf__bwe_delay_t *d, double recv_delta_ms, double send_delta_ms,
                             int64_t arrival_us)
{
    d->num_deltas = d->num_deltas < DELTA_COUNTER_MAX ? d->num_deltas + 1 : DELTA_COUNTER_MAX;
    if (!d->have_first) {
        d->have_first = true;
        d->first_arrival = arrival_us;
    }
    d->accumulated += recv_delta_ms - send_delta_ms;
    d->smoothed = SMOOTHING * d->smoothed + (1 - SMOOTHING) * d->accumulated;

    d->hx[d->hpos] = (double)(arrival_us - d->first_arrival) / MS;
    d->hy[d->hpos] = d->smoothed;
    d->hpos = (d->hpos + 1) % TF__BWE_TREND_WINDOW;
    if (d->hn < TF__BWE_TREND_WINDOW)
        d->hn++;

    double trend = d->prev_trend;
    if (d->hn == TF__BWE_TREND_WINDOW) {
        double s = fit_slope(d);
        if (!isnan(s))
            trend = s;
    }
    detect(d, trend, send_delta_ms, arrival_us);
}

/* Inter-arrival groups ----------------------------------------------------------------------- */

static bool belongs_to_burst(const tf__bwe_delay_t *d, int64_t send_us, int64_t arrival_us)
{
    int64_t arrival_delta = arrival_us - d->cur.complete, send_delta = send_us - d->cur.send;
    if (send_delta == 0)
        return true;
    return arrival_delta - send_delta < 0 && arrival_delta <= BURST_DELTA_US &&
           arrival_us - d->cur.first_arrival < MAX_BURST_US;
}

static void group_start(tf__bwe_group_t *g, int64_t send_us, int64_t arrival_us)
{
    *g = (tf__bwe_group_t){.first_send = send_us,
                           .send = send_us,
                           .first_arrival = arrival_us,
                           .complete = arrival_us,
                           .valid = true};
}

void tf__bwe_delay_on_packet(tf__bwe_delay_t *d, int64_t send_us, int64_t arrival_us)
{
    if (!d->cur.valid) {
        group_start(&d->cur, send_us, arrival_us);
        return;
    }
    if (send_us < d->cur.first_send)
        return; /* sent before the current group began: reordered, ignored */
    if (belongs_to_burst(d, send_us, arrival_us) || send_us - d->cur.first_send <= SEND_GROUP_US) {
        if (send_us > d->cur.send)
            d->cur.send = send_us;
        d->cur.complete = arrival_us;
        return;
    }
    /* A new group begins: the finished one and the one before give one delay sample. */
    if (d->prev.valid) {
        int64_t send_delta = d->cur.send - d->prev.send;
        int64_t recv_delta = d->cur.complete - d->prev.complete;
        if (recv_delta - send_delta > ARRIVAL_JUMP_US ||
            send_delta - recv_delta > ARRIVAL_JUMP_US) {
            d->reordered = 0; /* the receiver's clock jumped (or it restarted): start over */
            d->prev.valid = false;
            group_start(&d->cur, send_us, arrival_us);
            return;
        }
        if (recv_delta < 0) {
            if (++d->reordered >= MAX_REORDERED) { /* the receiver's clock jumped: start over */
                d->reordered = 0;
                d->prev.valid = false;
                group_start(&d->cur, send_us, arrival_us);
                return;
            }
        } else {
            d->reordered = 0;
            trendline_update(d, (double)recv_delta / MS, (double)send_delta / MS, arrival_us);
        }
    }
    d->prev = d->cur;
    group_start(&d->cur, send_us, arrival_us);
}

/* AIMD ---------------------------------------------------------------------------------------- */

static void cap_update(tf__bwe_delay_t *d, double sample_bps, double alpha)
{
    double s = sample_bps / 1000.0;
    d->cap_kbps = d->cap_valid ? (1 - alpha) * d->cap_kbps + alpha * s : s;
    double norm = fmax(d->cap_kbps, 1.0), err = d->cap_kbps - s;
    d->cap_dev = fmin(fmax((1 - alpha) * d->cap_dev + alpha * err * err / norm, 0.4), 2.5);
    d->cap_valid = true;
}

static double cap_spread_bps(const tf__bwe_delay_t *d)
{
    return 3000.0 * sqrt(d->cap_dev * d->cap_kbps);
}

/* Additive increase near the last congestion point: about one packet per response time. */
static double near_max_increase_per_s(const tf__bwe_delay_t *d, int64_t rtt_us)
{
    double frame_bits = d->bitrate / FRAME_RATE;
    double packets = ceil(frame_bits / PACKET_BITS);
    double avg_packet_bits = packets > 0 ? frame_bits / packets : frame_bits;
    double response_s = ((double)rtt_us / MS + RESPONSE_EXTRA_MS) / 1000.0;
    return fmax(MIN_ADD_INCREASE_BPS_PER_S, avg_packet_bits / response_s);
}

static bool time_to_reduce_further(const tf__bwe_delay_t *d, int64_t now_us, double acked,
                                   int64_t rtt_us)
{
    int64_t interval = rtt_us < 10 * MS ? 10 * MS : rtt_us > 200 * MS ? 200 * MS : rtt_us;
    if (!d->have_change || now_us - d->last_change >= interval)
        return true;
    return acked < 0.5 * d->bitrate; /* throughput collapsed: do not wait */
}

static void aimd(tf__bwe_delay_t *d, int64_t now_us, double thr, int64_t rtt_us)
{
    switch (d->usage) {
    case TF_BWE_USAGE_OVER:
        d->state = AIMD_DECREASE;
        break;
    case TF_BWE_USAGE_NORMAL:
        if (d->state == AIMD_HOLD)
            d->state = AIMD_INCREASE;
        break;
    case TF_BWE_USAGE_UNDER:
        d->state = AIMD_HOLD;
        break;
    }
    double next = d->bitrate;
    double dt_s = d->have_change ? fmin((double)(now_us - d->last_change) / 1e6, 1.0) : 1.0;
    if (dt_s < 0)
        dt_s = 0;
    if (d->state == AIMD_INCREASE) {
        /* The application-limited guard: no increase past 1.5 × what gets through. */
        double limit = 1.5 * thr + 10000.0;
        if (d->cap_valid && thr > d->cap_kbps * 1000.0 + cap_spread_bps(d))
            d->cap_valid = false; /* far above the last congestion point: it moved */
        if (d->bitrate < limit) {
            double inc = d->cap_valid ? near_max_increase_per_s(d, rtt_us) * dt_s
                                      : fmax(d->bitrate * (pow(INCREASE_PER_S, dt_s) - 1),
                                             MIN_MULT_INCREASE_BPS);
            next = fmax(fmin(d->bitrate + inc, limit), d->bitrate);
        }
        d->have_change = true;
        d->last_change = now_us;
    } else if (d->state == AIMD_DECREASE) {
        double dec = BETA * thr;
        if (dec > d->bitrate && d->cap_valid)
            dec = BETA * d->cap_kbps * 1000.0;
        if (dec < d->bitrate)
            next = dec;
        if (d->cap_valid && thr < d->cap_kbps * 1000.0 - cap_spread_bps(d))
            d->cap_valid = false;
        cap_update(d, thr, CAP_ALPHA_OVERUSE);
        d->state = AIMD_HOLD;
        d->have_change = true;
        d->last_change = now_us;
    }
    d->bitrate = fmin(fmax(next, d->min_bps), d->max_bps);
}

void tf__bwe_delay_update(tf__bwe_delay_t *d, int64_t now_us, double acked_bps, int64_t rtt_us)
{
    if (acked_bps > 0) {
        d->last_throughput = acked_bps;
        d->have_throughput = true;
    }
    if (d->usage == TF_BWE_USAGE_OVER) {
        if (d->have_throughput) { /* the last known one if none now (a slow stream) */
            if (time_to_reduce_further(d, now_us, d->last_throughput, rtt_us))
                aimd(d, now_us, d->last_throughput, rtt_us);
        } else if (!d->have_change || now_us - d->last_change >= 200 * MS) {
            /* Over-using before any throughput is known: halve every 200 ms. */
            d->bitrate = fmax(d->bitrate / 2, d->min_bps);
            d->have_change = true;
            d->last_change = now_us;
        }
        return;
    }
    aimd(d, now_us, d->last_throughput, rtt_us);
}

bool tf__bwe_delay_on_probe(tf__bwe_delay_t *d, int64_t now_us, double bps)
{
    if (d->usage == TF_BWE_USAGE_OVER)
        return false;
    d->bitrate = fmin(fmax(bps, d->min_bps), d->max_bps);
    d->have_change = true;
    d->last_change = now_us;
    return true;
}
