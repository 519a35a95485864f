/* room_tier.h — the tier controller of one receiver: which video tier its bandwidth estimate
 * carries, with hysteresis and back-off so a link near a tier's rate does not flap.
 *
 * Sans-IO and clock-free (the caller passes now); no encoders, no events, no estimator here. */
#ifndef TF_ROOM_TIER_H
#define TF_ROOM_TIER_H

#include <stdint.h>

#include "mixer/tier.h"
#include "server/rtc/bwe.h"

#define TF_TIER_AUDIO_BPS 50000     /* 32 kbit/s Opus in 20 ms packets on the wire (MEDIA-NOTES) */
#define TF_TIER_VIDEO_OVERHEAD 1.10 /* RTP, extension and SRTP bytes on top of the encoder's */

typedef struct tf_tier_ctl_params {
    double up_headroom;      /* move up only when estimate >= upper tier's need × this */
    uint64_t fail_window_us; /* a move down this soon after a move up: that move failed */
    int max_backoff;         /* failed up moves double the up hold and trial wait this often */
    int trial_blind_only;    /* trials only while no transport-cc probe got through in the
                              * last 30 s */
} tf_tier_ctl_params_t;

typedef struct tf_tier_ctl {
    tf_tier_ctl_params_t p;
    uint64_t down_since, up_since, changed_us, up_at_us;
    int fails; /* failed up moves since the last one that held */
    int trial; /* the last move up was a trial, not the estimate's */
    uint64_t probes_ok_mark; /* probes through so far (tf_bwe_state_t.probes_succeeded) */
    uint64_t probe_ok_us;    /* when that count last grew (0: never) */
} tf_tier_ctl_t;

/* Defaults: 25 % headroom, 30 s fail window, back-off up to 16× (64 s up hold, 120 s trials),
 * trials only for a blind estimator. */
void tf_tier_ctl_init(tf_tier_ctl_t *c, uint64_t now_us);

/* Wire rate a tier needs (video with overhead, plus audio when the receiver takes audio). */
uint64_t tf_tier_need_bps(tf_tier_id_t t, int audio);

/* One decision (call every ~500 ms): returns the tier to use now, cur when nothing changes.
 * Moves are one tier at a time; down after 1 s of congestion (or of an estimate clearly below
 * the tier once congestion began), up after the (backed-off) hold. */
tf_tier_id_t tf_tier_ctl_step(tf_tier_ctl_t *c, uint64_t now_us, tf_tier_id_t cur,
                              const tf_bwe_state_t *st, int audio);

/* The current hold before a move up, in µs (grows with failed moves up). */
uint64_t tf_tier_ctl_up_hold(const tf_tier_ctl_t *c);

#endif
