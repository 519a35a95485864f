/* room_metrics.c — the room engine's per-participant figures for /metrics (bandwidth estimate:
 * round-trip time, loss, target bit rate; tier), folded straight into a worker's histograms on
 * the worker thread. Reads room internals, so it lives beside room.c; keeps nothing itself. */
#include "server/metrics.h"
#include "server/room_internal.h"

void tf__room_metrics_members(const tf_room_t *r, tf_worker_snapshot_t *s)
{
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) { /* slots: members[] has gaps */
        const member_t *m = r->members[i];
        if (!m)
            continue;
        if ((int)m->tier >= 0 && (int)m->tier < TF_METRICS_TIERS)
            s->by_tier[m->tier]++;
        if (!m->bwe)
            continue;
        tf_bwe_state_t st;
        tf_bwe_get_state(m->bwe, &st);
        if (st.rtt_us > 0) {
            double rtt = (double)st.rtt_us / 1e6;
            s->rtt.b[tf_metrics_bucket(tf_metrics_rtt_bounds, TF_METRICS_RTT_N, rtt)]++;
            s->rtt.sum += rtt;
            s->rtt.count++;
        }
        double loss = st.loss_fraction < 0 ? 0 : st.loss_fraction > 1 ? 1 : st.loss_fraction;
        s->loss.b[tf_metrics_bucket(tf_metrics_loss_bounds, TF_METRICS_LOSS_N, loss)]++;
        s->loss.sum += loss;
        s->loss.count++;
        double target = (double)st.target_bps;
        s->target.b[tf_metrics_bucket(tf_metrics_bitrate_bounds, TF_METRICS_BITRATE_N, target)]++;
        s->target.sum += target;
        s->target.count++;
    }
}
