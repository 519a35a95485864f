/* room_tier.c — tf_tier_ctl_*: a receiver's tier from its bandwidth estimate, with headroom for
 * moves up, exponential back-off after moves up that failed, and trials for app-limited links.
 * No estimator, no encoders and no room state here (room_rate.c calls it). */
#include "server/room_tier.h"

#include <string.h>

#define DOWN_HOLD_US 1000000  /* a lower estimate must last this long to move down */
#define UP_HOLD_US 4000000    /* a higher one this long to move up (doubled per failed move) */
#define TRIAL_WAIT_US 8000000 /* an app-limited receiver below medium tries one up after this */
#define TRIAL_WAIT_MAX_US 120000000
#define STABLE_US 60000000 /* a move up that held this long clears the back-off */
#define MAX_FAILS 8
#define PROBE_KNOWS_US 30000000 /* a probe that got through informs the estimate this long */

void tf_tier_ctl_init(tf_tier_ctl_t *c, uint64_t now_us)
{
    memset(c, 0, sizeof(*c));
    c->p.up_headroom = 1.25;
    c->p.fail_window_us = 30000000;
    c->p.max_backoff = 4;
    c->p.trial_blind_only = 1;
    c->changed_us = now_us;
}

uint64_t tf_tier_need_bps(tf_tier_id_t t, int audio)
{
    const tf_tier_t *tier = tf_tier_get(t);
    double v = tier ? tier->video_kbps * 1000.0 * TF_TIER_VIDEO_OVERHEAD : 0;
    return (uint64_t)v + (audio ? TF_TIER_AUDIO_BPS : 0);
}

/* The highest video tier whose need × factor the estimate covers, or TF_TIER_AUDIO. */
static tf_tier_id_t tier_for(uint64_t bps, int audio, double factor)
{
    for (int t = TF_TIER_HIGH; t >= TF_TIER_LOW; t--)
        if ((double)bps >= (double)tf_tier_need_bps((tf_tier_id_t)t, audio) * factor)
            return (tf_tier_id_t)t;
    return TF_TIER_AUDIO;
}

static int backoff(const tf_tier_ctl_t *c)
{
    return c->fails < c->p.max_backoff ? c->fails : c->p.max_backoff;
}

uint64_t tf_tier_ctl_up_hold(const tf_tier_ctl_t *c)
{
    return UP_HOLD_US << backoff(c);
}

static uint64_t trial_wait(const tf_tier_ctl_t *c)
{
    uint64_t w = (uint64_t)TRIAL_WAIT_US << backoff(c);
    return w > TRIAL_WAIT_MAX_US ? TRIAL_WAIT_MAX_US : w;
}

tf_tier_id_t tf_tier_ctl_step(tf_tier_ctl_t *c, uint64_t now, tf_tier_id_t cur,
                              const tf_bwe_state_t *st, int audio)
{
    /* A mix of still pictures is sent at a few kbit/s, and an estimate derived from so little
     * traffic says nothing about the link. Move down only when the link carries less than we
     * send, or loses a lot. */
    int loaded = st->sent_bps > TF_TIER_AUDIO_BPS + 100000;
    /* With transport-cc, also the link must deliver less than we send: an estimate knocked
     * down by its own probe's queue (app-limited, ALR probing) while everything we send still
     * arrives is not a reason to drop the picture. */
    int short_link = !st->twcc_active || (double)st->acked_bps < 0.9 * (double)st->sent_bps;
    int congested = (loaded && short_link && (double)st->target_bps < 0.9 * (double)st->sent_bps) ||
                    st->loss_fraction > 0.1;
    tf_tier_id_t down = tier_for(st->target_bps, audio, 1.0);
    tf_tier_id_t up = tier_for(st->target_bps, audio, c->p.up_headroom);
    if (c->up_at_us && now - c->up_at_us >= STABLE_US) {
        c->up_at_us = 0; /* the last move up held: forget the failures */
        c->fails = 0;
    }
    if (st->probes_succeeded != c->probes_ok_mark) {
        c->probes_ok_mark = st->probes_succeeded;
        c->probe_ok_us = now;
    }
    tf_tier_id_t want = cur;
    int trial = 0;
    /* Once congestion started the down hold, it runs on while the estimate stays clearly
     * (20 %) below what the tier needs: on a link that cannot carry the tier the acknowledged
     * rate swings around the sent one from one window to the next, and a hold restarted by
     * every swing kept the receiver frozen on that tier (3G at medium: seconds of freezes).
     * An estimate near the tier's need still has its hold restarted by a swing. */
    int clearly_short = (double)st->target_bps < 0.8 * (double)tf_tier_need_bps(cur, audio);
    if (down < cur && (congested || (c->down_since && clearly_short)))
        want = down;
    else if (up > cur)
        want = up;
    else if (cur < TF_TIER_MEDIUM && !congested && now - c->changed_us >= trial_wait(c) &&
             (!c->p.trial_blind_only || !st->twcc_active || !c->probe_ok_us ||
              now - c->probe_ok_us >= PROBE_KNOWS_US)) {
        /* Little traffic teaches the estimator little, and probes may not get through: a
         * receiver below medium that has seen no congestion for a while tries one tier up,
         * unless a transport-cc probe got through in the last 30 s (then the estimate knows
         * the link and a trial would only overshoot it). Probes that stopped proving anything
         * (a burst that arrives unspread on a fast link) leave it blind again. Failed trials
         * back off. */
        want = (tf_tier_id_t)(cur + 1);
        trial = 1;
    }
    if (want == cur) {
        c->down_since = c->up_since = 0;
        return cur;
    }
    if (want < cur) {
        c->up_since = 0;
        if (!c->down_since)
            c->down_since = now;
        if (now - c->down_since < DOWN_HOLD_US)
            return cur;
        want = (tf_tier_id_t)(cur - 1); /* down one step at a time */
        if (c->up_at_us && now - c->up_at_us < c->p.fail_window_us && c->fails < MAX_FAILS)
            c->fails++;
        c->up_at_us = 0;
    } else {
        c->down_since = 0;
        if (!trial) {
            if (!c->up_since)
                c->up_since = now;
            if (now - c->up_since < tf_tier_ctl_up_hold(c))
                return cur;
        }
        want = (tf_tier_id_t)(cur + 1); /* up one step at a time */
        c->up_at_us = now;
    }
    c->trial = trial;
    c->down_since = c->up_since = 0;
    c->changed_us = now;
    return want;
}
