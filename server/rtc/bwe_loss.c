/* bwe_loss.c — the loss-based estimate (draft-ietf-rmcat-gcc-02 §6, libwebrtc
 * SendSideBandwidthEstimation): batches of transport-cc statuses or RR fractions in, +5 % /
 * hold / × (1 - loss / 2) out. No clock, no feedback parsing, no delay logic: bwe.c feeds it. */
#include <math.h>
#include <string.h>

#include "server/rtc/bwe_internal.h"

#define MS 1000
#define LOW 0.02
#define HIGH 0.10
#define INCREASE 1.05
#define INCREASE_EXTRA_BPS 1000.0
#define INCREASE_EVERY (200 * MS)
#define DECREASE_EVERY (300 * MS) /* + RTT */
#define BATCH_PACKETS 20          /* libwebrtc kLimitNumPackets */
#define BATCH_MAX_AGE (1000 * MS) /* a smaller batch closes after this (low rates) */
#define SMOOTH_PACKETS 100.0      /* transport-cc smoothing: 100 packets or 2 s, the shorter */
#define SMOOTH_US 2e6
#define RR_ALPHA 1.0 /* an RR already sums up a second or so, as in libwebrtc */

void tf__bwe_loss_init(tf__bwe_loss_t *l, double start_bps)
{
    memset(l, 0, sizeof(*l));
    l->bps = start_bps;
    l->last_increase = l->last_decrease = INT64_MIN / 2;
}

void tf__bwe_loss_on_status(tf__bwe_loss_t *l, int64_t now_us, bool lost)
{
    if (!l->reported)
        l->batch_start = now_us;
    l->reported++;
    l->lost += lost;
}

void tf__bwe_loss_on_late_arrival(tf__bwe_loss_t *l)
{
    if (l->lost) /* counted in this batch; an earlier batch is history */
        l->lost--;
}

/* One step per report: +5 % at most every 200 ms below 2 % loss, × (1 - loss / 2) at most every
 * 300 ms + RTT above 10 %, hold between. As pion does, an increase needs both the smoothed and
 * the latest fraction low and a decrease both high, so one unlucky batch moves nothing. No steps
 * between reports: with one RR a second that is +5 %/s, as fast as a loss-only controller can go
 * without overshooting by a second of feedback delay. */
static tf_bwe_reason_t step(tf__bwe_loss_t *l, int64_t now_us, double sample, double alpha,
                            double cap, int64_t rtt_us)
{
    l->smoothed = l->have ? l->smoothed + alpha * (sample - l->smoothed) : sample;
    l->have = true;
    double inc = fmax(l->smoothed, sample), dec = fmin(l->smoothed, sample);
    if (inc < LOW && now_us - l->last_increase >= INCREASE_EVERY) {
        /* Never grow past what is being sent (pion/interceptor #299): an unused estimate is a
         * guess, and probes are what may prove more. */
        double next = l->bps * INCREASE + INCREASE_EXTRA_BPS;
        if (next > cap)
            next = fmax(cap, l->bps);
        l->last_increase = now_us;
        if (next == l->bps)
            return TF_BWE_REASON_START;
        l->bps = next;
        return TF_BWE_REASON_LOSS_INCREASE;
    }
    if (dec > HIGH && now_us - l->last_decrease >= DECREASE_EVERY + rtt_us) {
        l->bps *= 1.0 - dec / 2.0;
        l->last_decrease = now_us;
        return TF_BWE_REASON_LOSS_DECREASE;
    }
    return TF_BWE_REASON_START;
}

tf_bwe_reason_t tf__bwe_loss_on_feedback(tf__bwe_loss_t *l, int64_t now_us, double increase_cap_bps,
                                         int64_t rtt_us)
{
    if (!l->reported || (l->reported < BATCH_PACKETS && now_us - l->batch_start < BATCH_MAX_AGE))
        return TF_BWE_REASON_START;
    double fraction = (double)l->lost / l->reported;
    double alpha = 1.0 - exp(-fmax((double)l->reported / SMOOTH_PACKETS,
                                   (double)(now_us - l->batch_start) / SMOOTH_US));
    l->reported = l->lost = 0;
    return step(l, now_us, fraction, alpha, increase_cap_bps, rtt_us);
}

tf_bwe_reason_t tf__bwe_loss_on_rr(tf__bwe_loss_t *l, int64_t now_us, double fraction,
                                   double increase_cap_bps, int64_t rtt_us)
{
    return step(l, now_us, fraction, RR_ALPHA, increase_cap_bps, rtt_us);
}
