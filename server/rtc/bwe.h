/* bwe.h — send-side bandwidth estimator for one receiver's downlink, after Google Congestion
 * Control (draft-ietf-rmcat-gcc-02, libwebrtc goog_cc): delay-based (trendline + AIMD) and
 * loss-based estimates from transport-cc feedback, probing, and an RR/REMB fallback. No sockets,
 * no clock, no pacing, no malloc after create: events and times in, a target bitrate out.
 *
 * Ownership: tf_bwe_create() allocates everything the estimator needs (about 170 KB: a ring of
 * TF_BWE_HISTORY sent-packet records and the scratch space to expand one feedback); the caller
 * owns the tf_rtcp_twcc_t it passes in, which is only read during the call. Not thread-safe: one
 * loop drives one estimator. Times are µs of one monotonic clock; a time earlier than one already
 * seen counts as that one.
 *
 * How it decides: target = min(delay-based, loss-based, REMB, max). Delay-based: packets grouped
 * in 5 ms send bursts, trendline of the delay gradient (window 20, smoothing 0.9, gain 4) against
 * an adaptive threshold (12.5 ms start); over-use → 0.85 × acknowledged bitrate, else +8 %/s far
 * from the last congestion point, about a packet per RTT + 100 ms near it. Loss-based, on each
 * report (20 transport-cc statuses or an RR): < 2 % → +5 % (at most every 200 ms), > 10 % →
 * × (1 - loss / 2), hold between. Neither grows past 1.5 × what is sent (or acknowledged) +
 * 10 kbit/s: an estimate nobody used is a guess (pion/interceptor #299); probes may prove more. */
#ifndef TF_RTC_BWE_H
#define TF_RTC_BWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/rtc/rtcp.h"

#define TF_BWE_HISTORY 4096 /* sent packets remembered; feedback about older ones is ignored */
#define TF_BWE_DEFAULT_START_BPS 300000
#define TF_BWE_DEFAULT_MIN_BPS 30000
#define TF_BWE_DEFAULT_MAX_BPS 2500000

typedef struct tf_bwe tf_bwe_t;

typedef struct tf_bwe_config {
    uint64_t start_bps; /* first target; 0: TF_BWE_DEFAULT_START_BPS */
    uint64_t min_bps;   /* the target never goes below; 0: TF_BWE_DEFAULT_MIN_BPS */
    uint64_t max_bps;   /* nor above, and probes never ask for more; 0: TF_BWE_DEFAULT_MAX_BPS */
} tf_bwe_config_t;

/* The delay-based detector's verdict on the bottleneck queue. */
typedef enum tf_bwe_usage {
    TF_BWE_USAGE_NORMAL = 0,
    TF_BWE_USAGE_UNDER, /* the queue drains: hold the rate */
    TF_BWE_USAGE_OVER,  /* the queue grows: down to 0.85 × the acknowledged bitrate */
} tf_bwe_usage_t;

/* Why the target last changed. */
typedef enum tf_bwe_reason {
    TF_BWE_REASON_START = 0,      /* still the start bitrate */
    TF_BWE_REASON_DELAY_INCREASE, /* up to what the delay-based part allows */
    TF_BWE_REASON_OVERUSE,        /* delay-based decrease: the queue grew */
    TF_BWE_REASON_LOSS_INCREASE,  /* loss < 2 %: +5 %, still below the delay-based estimate */
    TF_BWE_REASON_LOSS_DECREASE,  /* loss > 10 %: × (1 - loss / 2) */
    TF_BWE_REASON_PROBE,          /* a probe cluster got through faster than the estimate */
    TF_BWE_REASON_REMB,           /* capped by the receiver's REMB */
    TF_BWE_REASON_BOUNDS,         /* clamped to min/max */
} tf_bwe_reason_t;

typedef struct tf_bwe_state {
    uint64_t target_bps;  /* what the encoders and the pacer should use: min(delay, loss, REMB) */
    uint64_t delay_bps;   /* delay-based (AIMD) estimate; meaningful while twcc_active */
    uint64_t loss_bps;    /* loss-based estimate, kept <= delay (twcc), REMB and max */
    uint64_t acked_bps;   /* packets reported received: their rate of arrival over the last
                           * 250 ms of the receiver's clock (longer below 3 packets) */
    uint64_t sent_bps;    /* what was sent (1 s window, probes included) */
    uint64_t remb_bps;    /* the receiver's last REMB, 0 if none */
    double loss_fraction; /* transport-cc loss, smoothed over ~100 packets; else the last RR's */
    int64_t rtt_us;       /* RR round-trip time if known, else from feedback; 0 if neither */
    tf_bwe_usage_t usage;
    double trend_ms, threshold_ms; /* the detector's modified trend and adaptive threshold */
    bool twcc_active;              /* transport-cc feedback arrived in the last 2 s */
    bool app_limited;              /* sending well below the target (< 70 % over 1 s) */
    bool probing;                  /* a probe cluster is out or due */
    tf_bwe_reason_t reason;
    uint64_t feedbacks, packets_acked, packets_lost;
    uint64_t probes_sent, probes_succeeded;        /* clusters handed out / that gave a result */
    uint64_t unknown_statuses, duplicate_statuses; /* feedback about unknown / settled packets */
} tf_bwe_state_t;

/* A probe cluster to send now: at bitrate_bps, at least min_packets packets and min_bytes bytes,
 * each reported to tf_bwe_on_packet_sent() with probe_id = id. Media sent meanwhile belongs to the
 * cluster too (pace everything at bitrate_bps, pad with padding or RTX when media runs short). */
typedef struct tf_bwe_probe {
    uint16_t id; /* never 0 */
    uint64_t bitrate_bps;
    uint32_t min_packets, min_bytes;
} tf_bwe_probe_t;

/* 0, -EINVAL (NULL, or min > start or start > max after defaults) or -ENOMEM. */
int tf_bwe_create(tf_bwe_t **out, const tf_bwe_config_t *cfg);
void tf_bwe_destroy(tf_bwe_t **b);

/* A packet carrying transport-wide sequence number twcc_seq left for the network: size is its
 * whole size on the wire (IP/UDP headers may be counted or not, but consistently); probe_id is
 * the cluster it belongs to or 0. Sequence numbers are unwrapped here and must increase; a seq
 * that does not (a duplicate, or one more than 32767 behind) is -EINVAL and is not recorded. */
int tf_bwe_on_packet_sent(tf_bwe_t *b, uint64_t now_us, uint16_t twcc_seq, size_t size,
                          uint16_t probe_id);

/* Transport-cc feedback (RTPFB FMT 15) as tf_rtcp_iter_next() parsed it. Statuses about packets
 * not sent, older than TF_BWE_HISTORY, or already reported received are counted and skipped, so
 * duplicated and reordered feedback is harmless. 0, -EINVAL, or -EMSGSIZE (more than
 * TF_BWE_HISTORY statuses: ignored) or -EPROTO (body does not expand). */
int tf_bwe_on_twcc_feedback(tf_bwe_t *b, uint64_t now_us, const tf_rtcp_twcc_t *fb);

/* The receiver's REMB: caps the target from now on (at least min_bps). 0 or -EINVAL. */
int tf_bwe_on_remb(tf_bwe_t *b, uint64_t now_us, uint64_t bitrate_bps);

/* A report block about our stream: fraction_lost as on the wire (/256) drives the loss-based
 * estimate only while no transport-cc feedback arrives (that loss is more precise); rtt_us (from
 * LSR/DLSR, <= 0 if unknown) is used either way. 0 or -EINVAL. */
int tf_bwe_on_receiver_report(tf_bwe_t *b, uint64_t now_us, uint8_t fraction_lost, int64_t rtt_us);

/* Whether to start a probe cluster now: 0 with *out filled, or -EAGAIN. Probes: 3× then 6× the
 * target at the first call; then doubling while a probe is received at >= 70 % of its rate;
 * and every 5 s while application-limited below max_bps with transport-cc feedback arriving
 * (and no overuse in the last 3 s). The result becomes the estimate at once: a lower one only
 * from a cluster sent at the rate asked, and never below 0.85 × the acknowledged bitrate. The
 * next cluster waits until this one has been sent; one without feedback 1 s after its last
 * packet proves nothing and is dropped. */
int tf_bwe_probe_request(tf_bwe_t *b, uint64_t now_us, tf_bwe_probe_t *out);

/* Expires probe clusters that got no feedback. Every call above does the same, so a busy sender
 * needs no timer; estimates otherwise change only on events. 0 or -EINVAL. */
int tf_bwe_handle_timeout(tf_bwe_t *b, uint64_t now_us);
/* When tf_bwe_handle_timeout() has something to do; UINT64_MAX if nothing is pending. */
uint64_t tf_bwe_poll_timeout(const tf_bwe_t *b);

uint64_t tf_bwe_target_bps(const tf_bwe_t *b);
/* Transport-cc feedback arrived in the last 2 s (tf_bwe_state_t.twcc_active, without the rest). */
bool tf_bwe_twcc_active(const tf_bwe_t *b);
void tf_bwe_get_state(const tf_bwe_t *b, tf_bwe_state_t *out);
const char *tf_bwe_reason_name(tf_bwe_reason_t r);
const char *tf_bwe_usage_name(tf_bwe_usage_t u);

#endif
