/* bwe_internal.h — private to server/rtc/bwe*.c: the delay-based half of the estimator
 * (bwe_delay.c: inter-arrival groups, trendline, overuse detector, AIMD) and the loss-based half
 * (bwe_loss.c). Not an API: nothing outside bwe*.c includes it. No clock, no malloc. */
#ifndef TF_RTC_BWE_INTERNAL_H
#define TF_RTC_BWE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "server/rtc/bwe.h"

#define TF__BWE_TREND_WINDOW 20

typedef struct tf__bwe_group { /* packets sent within 5 ms of the first (libwebrtc InterArrival) */
    int64_t first_send, send, first_arrival, complete;
    bool valid;
} tf__bwe_group_t;

typedef struct tf__bwe_delay {
    double min_bps, max_bps;

    tf__bwe_group_t cur, prev;
    int reordered; /* consecutive groups that arrived before the previous one */

    int num_deltas; /* trendline (libwebrtc TrendlineEstimator) */
    bool have_first;
    int64_t first_arrival;
    double accumulated, smoothed;
    double hx[TF__BWE_TREND_WINDOW], hy[TF__BWE_TREND_WINDOW];
    int hn, hpos;
    double prev_trend, modified_trend, threshold;
    bool have_threshold_time;
    int64_t last_threshold_us;
    double time_over_using_ms; /* < 0: not over-using */
    int overuse_counter;
    tf_bwe_usage_t usage;

    double bitrate; /* AIMD (libwebrtc AimdRateControl) */
    int state;
    bool have_change;
    int64_t last_change;
    double last_throughput;
    bool have_throughput;
    bool cap_valid; /* link capacity estimate at the last overuse, kbit/s */
    double cap_kbps, cap_dev;
} tf__bwe_delay_t;

void tf__bwe_delay_init(tf__bwe_delay_t *d, double start_bps, double min_bps, double max_bps);
/* One received packet, in arrival order; times in µs (arrival in the receiver's clock). */
void tf__bwe_delay_on_packet(tf__bwe_delay_t *d, int64_t send_us, int64_t arrival_us);
/* Once per feedback: AIMD on the detector's verdict. acked_bps 0 means not known yet. */
void tf__bwe_delay_update(tf__bwe_delay_t *d, int64_t now_us, double acked_bps, int64_t rtt_us);
/* A probe result: becomes the estimate unless over-using; true if it did. */
bool tf__bwe_delay_on_probe(tf__bwe_delay_t *d, int64_t now_us, double bps);

static inline double tf__bwe_delay_bps(const tf__bwe_delay_t *d)
{
    return d->bitrate;
}

typedef struct tf__bwe_loss {
    double bps;      /* the loss-based estimate; the caller clamps it to its upper limits */
    double smoothed; /* loss fraction */
    bool have;
    int64_t last_increase, last_decrease;
    uint32_t reported, lost; /* the transport-cc batch being collected */
    int64_t batch_start;
} tf__bwe_loss_t;

void tf__bwe_loss_init(tf__bwe_loss_t *l, double start_bps);
/* A transport-cc status seen for the first time; a packet reported lost that arrived after all. */
void tf__bwe_loss_on_status(tf__bwe_loss_t *l, int64_t now_us, bool lost);
void tf__bwe_loss_on_late_arrival(tf__bwe_loss_t *l);
/* After a feedback's statuses: closes the batch when due and steps. On an RR: steps on its
 * fraction lost. Increases stop at increase_cap_bps. Return the step taken, or
 * TF_BWE_REASON_START for none. */
tf_bwe_reason_t tf__bwe_loss_on_feedback(tf__bwe_loss_t *l, int64_t now_us, double increase_cap_bps,
                                         int64_t rtt_us);
tf_bwe_reason_t tf__bwe_loss_on_rr(tf__bwe_loss_t *l, int64_t now_us, double fraction,
                                   double increase_cap_bps, int64_t rtt_us);

#endif
