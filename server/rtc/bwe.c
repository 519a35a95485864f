/* bwe.c — the estimator's front: the sent-packet ring, transport-cc matching, acknowledged and
 * sent bitrates, probe clusters, REMB, and the target from the delay-based (bwe_delay.c) and
 * loss-based (bwe_loss.c) parts. No sockets, no clock, no pacing, no malloc after create. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/bwe.h"
#include "server/rtc/bwe_internal.h"
#include "server/rtc/rtcp_feedback.h"

#define HISTORY_MASK (TF_BWE_HISTORY - 1)
#define MS 1000
#define SEC 1000000

#define ACKED_WINDOW (250 * MS) /* arrival time; libwebrtc's estimator settles on 150 ms */
#define ACKED_MAX_WINDOW SEC
#define ACKED_MIN_SPAN (50 * MS)
#define ACKED_REORDER_SLACK (100 * MS)
#define HOLE_TIMEOUT (500 * MS) /* unreported this long after later packets: feedback lost */
#define SENT_WINDOW SEC
#define SENT_MIN_SPAN (200 * MS)

/* Application-limited guard (pion/interceptor #299): loss-based increases stop at this × the
 * sent rate; the delay-based part has libwebrtc's 1.5 × acknowledged + 10 kbit/s. */
#define APP_CAP_FACTOR 1.5
#define APP_CAP_EXTRA 10000.0
#define APP_LIMITED_RATIO 0.7

#define REF_UNWRAPPED_MAX (1LL << 36) /* 139 years of 64 ms: only a hostile peer gets here */
#define TWCC_TIMEOUT (2 * SEC)        /* no feedback this long: fall back to RR loss */
#define DEFAULT_RTT (200 * MS)

/* Probing (libwebrtc ProbeController and ProbeBitrateEstimator). */
#define PROBE_MIN_PACKETS 5
#define PROBE_MIN_DURATION (15 * MS)
#define PROBE_EXPIRY SEC
#define PROBE_ALR_INTERVAL (5 * SEC)
#define PROBE_QUIET_AFTER_OVERUSE (3 * SEC)
#define PROBE_CONTINUE_RATIO 0.7 /* received at >= this × asked: double again */
#define PROBE_SLOTS 4
#define PROBE_FULL_RATIO 0.8       /* sent at >= this × asked: a low result counts */
#define PROBE_DROP_THROUGHPUT 0.85 /* a low result goes no lower than this × acknowledged */

enum { REC_EMPTY = 0, REC_SENT, REC_LOST, REC_RECEIVED };

typedef struct sent_rec {
    int64_t seq; /* unwrapped */
    int64_t send_us;
    int64_t arrival_us; /* receiver clock, once received */
    uint32_t size;
    uint16_t probe_id;
    uint8_t state;
} sent_rec_t;

typedef struct probe_cluster {
    uint16_t id; /* 0: slot free */
    double bitrate;
    uint32_t min_packets, min_bytes;
    int64_t issued_us;
    uint32_t sent_packets, reported, recv_packets;
    uint64_t sent_bytes, recv_bytes;
    int64_t first_send, last_send, first_arrival, last_arrival;
    uint32_t last_send_size, first_arrival_size;
} probe_cluster_t;

struct tf_bwe {
    double min_bps, max_bps;
    int64_t now;

    sent_rec_t *ring;
    tf_rtcp_twcc_status_t *statuses; /* scratch for one feedback */
    uint16_t *batch;                 /* ring slots received in this feedback */
    bool any_sent;
    int64_t last_seq, first_send;

    /* Packets up to settled_seq are all reported (or given up on): an acknowledged-bitrate
     * window that ends at settled_arrival has no holes left by feedback still on its way. */
    int64_t settled_seq, settled_arrival;
    bool have_settled;
    int64_t newest_fb_seq, newest_fb_send; /* the newest packet any feedback mentioned */
    double acked_bps;
    bool have_ref;
    uint32_t last_ref;
    int64_t ref_unwrapped;

    tf__bwe_delay_t delay;
    tf__bwe_loss_t loss;
    bool twcc_seen;
    int64_t last_twcc_us;
    int64_t rr_rtt_us, fb_rtt_us;
    double remb_bps; /* 0: none */

    probe_cluster_t probes[PROBE_SLOTS];
    uint16_t next_probe_id, last_probe_id;
    int initial_probes; /* issued so far: 0, 1 or 2 */
    double initial_base, last_probe_bps;
    double next_probe_bps; /* a continuation due, 0 if none */
    int64_t last_probe_us, last_overuse_us;

    double target;
    tf_bwe_reason_t reason;
    uint64_t feedbacks, packets_acked, packets_lost, probes_sent, probes_ok, unknown, dups;
};

static int64_t rtt_us(const tf_bwe_t *b)
{
    return b->rr_rtt_us > 0 ? b->rr_rtt_us : b->fb_rtt_us;
}

static bool twcc_active(const tf_bwe_t *b)
{
    return b->twcc_seen && b->now - b->last_twcc_us < TWCC_TIMEOUT;
}

static void advance(tf_bwe_t *b, uint64_t now_us)
{
    if (now_us <= INT64_MAX && (int64_t)now_us > b->now)
        b->now = (int64_t)now_us;
}

/* Bytes sent in the last `window` (probes included), walking back through the ring; 0 while
 * less than min_span has been sent over. */
static double sent_rate(const tf_bwe_t *b, int64_t window, int64_t min_span)
{
    if (!b->any_sent)
        return 0;
    int64_t start = b->now - window;
    if (start < b->first_send)
        start = b->first_send; /* and the first packet is the fence post, not counted */
    if (b->now - start < min_span)
        return 0;
    uint64_t bytes = 0;
    for (int64_t s = b->last_seq; s > b->last_seq - TF_BWE_HISTORY; s--) {
        const sent_rec_t *r = &b->ring[s & HISTORY_MASK];
        if (r->seq > s || r->state == REC_EMPTY || (r->seq == s && r->send_us <= start))
            break;
        if (r->seq == s)
            bytes += r->size;
    }
    return (double)bytes * 8e6 / (double)(b->now - start);
}

static bool app_limited(const tf_bwe_t *b)
{
    double s = sent_rate(b, SENT_WINDOW, SENT_WINDOW - 50 * MS);
    return s > 0 && s < APP_LIMITED_RATIO * b->target;
}

static double increase_cap(const tf_bwe_t *b)
{
    return APP_CAP_FACTOR * sent_rate(b, SENT_WINDOW, SENT_MIN_SPAN) + APP_CAP_EXTRA;
}

/* The target is the loss-based estimate, kept under the delay-based one (while transport-cc
 * feedback arrives), REMB and max: libwebrtc's SendSideBandwidthEstimation does the same. `why`
 * names the change unless REMB is what pulled it down. */
static void update_target(tf_bwe_t *b, tf_bwe_reason_t why)
{
    double upper = b->max_bps;
    if (twcc_active(b))
        upper = fmin(upper, tf__bwe_delay_bps(&b->delay));
    bool remb_binds = b->remb_bps > 0 && b->remb_bps < upper;
    if (remb_binds)
        upper = b->remb_bps;
    b->loss.bps = fmax(fmin(b->loss.bps, upper), b->min_bps);
    double t = fmin(b->loss.bps, b->max_bps), old = b->target;
    if (t == old)
        return;
    b->target = t;
    if (t < old && remb_binds && t == b->remb_bps)
        why = TF_BWE_REASON_REMB;
    else if (why == TF_BWE_REASON_LOSS_INCREASE && twcc_active(b) && t >= upper)
        why = TF_BWE_REASON_DELAY_INCREASE; /* the loss-based part has caught up with it */
    b->reason = why;
}

/* Probes -------------------------------------------------------------------------------------- */

static probe_cluster_t *probe_find(tf_bwe_t *b, uint16_t id)
{
    for (size_t i = 0; id && i < PROBE_SLOTS; i++)
        if (b->probes[i].id == id)
            return &b->probes[i];
    return NULL;
}

static bool probe_sent_all(const probe_cluster_t *c)
{
    return c->sent_packets >= c->min_packets && c->sent_bytes >= c->min_bytes;
}

static bool probe_out(const tf_bwe_t *b)
{
    for (size_t i = 0; i < PROBE_SLOTS; i++)
        if (b->probes[i].id)
            return true;
    return false;
}

/* libwebrtc ProbeBitrateEstimator: the send rate leaves out the last packet sent, the receive
 * rate the first one received; a receive rate well below the send rate means the probe filled
 * the link, and then 95 % of what arrived is the answer. 0 if the cluster proves nothing.
 * *full says whether it was sent at (nearly) the rate asked, so that a low answer means
 * something. A cluster whose packets were all sent at one instant (a caller without a pacer,
 * like the room, emits it as one burst) left faster than asked: it counts as sent at the rate
 * asked, and its spread on arrival measures the bottleneck (a packet train). */
static double probe_result(const probe_cluster_t *c, bool *full)
{
    if (c->recv_packets * 5 < c->min_packets * 4 || c->recv_bytes * 5 < c->min_bytes * 4u)
        return 0;
    int64_t send_iv = c->last_send - c->first_send, recv_iv = c->last_arrival - c->first_arrival;
    if (send_iv < 0 || recv_iv <= 0 || send_iv > SEC || recv_iv > SEC)
        return 0;
    double send_rate =
        send_iv ? (double)(c->sent_bytes - c->last_send_size) * 8e6 / (double)send_iv : c->bitrate;
    double recv_rate = (double)(c->recv_bytes - c->first_arrival_size) * 8e6 / (double)recv_iv;
    *full = send_rate >= PROBE_FULL_RATIO * c->bitrate;
    if (recv_rate > 2.0 * send_rate)
        return 0;
    if (recv_rate < 0.9 * send_rate)
        return 0.95 * recv_rate;
    return fmin(send_rate, recv_rate);
}

/* Evaluates the clusters that are complete (all sent and all reported) or expired. The result
 * becomes the delay-based estimate unless over-using, and the loss-based one follows (libwebrtc
 * SetEstimate and SetSendBitrate). A result below the estimate from a cluster sent at the rate
 * asked lowers it, but not under 0.85 × the acknowledged bitrate, as libwebrtc limits it: that
 * is what makes a start above a thin link short. A result near what the newest cluster asked
 * for means there may be more: the next probe asks for twice as much. */
static void probes_settle(tf_bwe_t *b)
{
    double best = 0;
    bool best_full = false;
    for (size_t i = 0; i < PROBE_SLOTS; i++) {
        probe_cluster_t *c = &b->probes[i];
        if (!c->id)
            continue;
        bool complete = probe_sent_all(c) && c->reported >= c->sent_packets, full = false;
        if (!complete && b->now - (c->sent_packets ? c->last_send : c->issued_us) < PROBE_EXPIRY)
            continue;
        double r = probe_result(c, &full);
        if (r > 0) {
            b->probes_ok++;
            if (r > best) {
                best = r;
                best_full = full;
            }
            if (c->id == b->last_probe_id && r >= PROBE_CONTINUE_RATIO * c->bitrate &&
                c->bitrate < b->max_bps)
                b->next_probe_bps = fmin(2.0 * r, b->max_bps);
        }
        memset(c, 0, sizeof(*c));
    }
    double cur = tf__bwe_delay_bps(&b->delay);
    if (best <= 0 || (best < cur && !best_full))
        return;
    if (best < cur)
        best = fmax(best, fmin(cur, PROBE_DROP_THROUGHPUT * b->acked_bps));
    if (tf__bwe_delay_on_probe(&b->delay, b->now, best)) {
        b->loss.bps = tf__bwe_delay_bps(&b->delay);
        update_target(b, TF_BWE_REASON_PROBE);
    }
}

static void probe_issue(tf_bwe_t *b, double bps, tf_bwe_probe_t *out)
{
    probe_cluster_t *c = &b->probes[0]; /* one is out at a time, so a slot is always free */
    for (size_t i = 0; i < PROBE_SLOTS; i++)
        if (!b->probes[i].id) {
            c = &b->probes[i];
            break;
        }
    double bytes = bps * PROBE_MIN_DURATION / 8e6;
    *c = (probe_cluster_t){.id = b->next_probe_id,
                           .bitrate = bps,
                           .min_packets = PROBE_MIN_PACKETS,
                           .min_bytes = (uint32_t)fmax(bytes, 1),
                           .issued_us = b->now};
    b->last_probe_id = c->id;
    b->last_probe_bps = bps;
    b->next_probe_id = b->next_probe_id == UINT16_MAX ? 1 : (uint16_t)(b->next_probe_id + 1);
    b->next_probe_bps = 0;
    b->last_probe_us = b->now;
    b->probes_sent++;
    *out = (tf_bwe_probe_t){.id = c->id,
                            .bitrate_bps = (uint64_t)bps,
                            .min_packets = c->min_packets,
                            .min_bytes = c->min_bytes};
}

/* Public API ---------------------------------------------------------------------------------- */

int tf_bwe_create(tf_bwe_t **out, const tf_bwe_config_t *cfg)
{
    if (!out || !cfg)
        return -EINVAL;
    *out = NULL;
    double start = cfg->start_bps ? (double)cfg->start_bps : TF_BWE_DEFAULT_START_BPS;
    double lo = cfg->min_bps ? (double)cfg->min_bps : TF_BWE_DEFAULT_MIN_BPS;
    double hi = cfg->max_bps ? (double)cfg->max_bps : TF_BWE_DEFAULT_MAX_BPS;
    if (lo > start || start > hi || hi > 1e12)
        return -EINVAL;

    tf_bwe_t *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->ring = calloc(TF_BWE_HISTORY, sizeof(*b->ring));
    b->statuses = calloc(TF_BWE_HISTORY, sizeof(*b->statuses));
    b->batch = calloc(TF_BWE_HISTORY, sizeof(*b->batch));
    if (!b->ring || !b->statuses || !b->batch)
        goto err;
    b->min_bps = lo;
    b->max_bps = hi;
    b->target = start;
    b->reason = TF_BWE_REASON_START;
    tf__bwe_delay_init(&b->delay, start, lo, hi);
    tf__bwe_loss_init(&b->loss, start);
    b->next_probe_id = 1;
    b->last_overuse_us = b->last_probe_us = INT64_MIN / 2;
    *out = b;
    return 0;
err:
    tf_bwe_destroy(&b);
    return -ENOMEM;
}

void tf_bwe_destroy(tf_bwe_t **pb)
{
    if (!pb || !*pb)
        return;
    free((*pb)->ring);
    free((*pb)->statuses);
    free((*pb)->batch);
    free(*pb);
    *pb = NULL;
}

static int64_t seq_diff(uint16_t a, int64_t b)
{
    int64_t d = (uint16_t)(a - (uint16_t)b);
    return d >= 0x8000 ? d - 0x10000 : d;
}

int tf_bwe_on_packet_sent(tf_bwe_t *b, uint64_t now_us, uint16_t twcc_seq, size_t size,
                          uint16_t probe_id)
{
    if (!b || size == 0 || size > 0xffff)
        return -EINVAL;
    int64_t seq = twcc_seq;
    if (b->any_sent) {
        int64_t d = seq_diff(twcc_seq, b->last_seq);
        if (d <= 0)
            return -EINVAL;
        seq = b->last_seq + d;
    }
    advance(b, now_us);
    if (!b->any_sent) {
        b->settled_seq = b->newest_fb_seq = seq - 1;
        b->first_send = b->now;
    }
    b->any_sent = true;
    b->last_seq = seq;
    probe_cluster_t *c = probe_find(b, probe_id);
    b->ring[seq & HISTORY_MASK] = (sent_rec_t){.seq = seq,
                                               .send_us = b->now,
                                               .size = (uint32_t)size,
                                               .probe_id = c ? probe_id : 0,
                                               .state = REC_SENT};
    if (c) {
        if (!c->sent_packets)
            c->first_send = b->now;
        c->sent_packets++;
        c->sent_bytes += size;
        c->last_send = b->now;
        c->last_send_size = (uint32_t)size;
    }
    return tf_bwe_handle_timeout(b, now_us);
}

static sent_rec_t *lookup(tf_bwe_t *b, uint16_t seq16)
{
    if (!b->any_sent)
        return NULL;
    int64_t d = seq_diff(seq16, b->last_seq), seq = b->last_seq + d;
    if (d > 0 || -d >= TF_BWE_HISTORY)
        return NULL;
    sent_rec_t *r = &b->ring[seq & HISTORY_MASK];
    return r->state != REC_EMPTY && r->seq == seq ? r : NULL;
}

static void probe_on_feedback(tf_bwe_t *b, const sent_rec_t *r, bool received)
{
    probe_cluster_t *c = probe_find(b, r->probe_id);
    if (!c)
        return;
    c->reported++;
    if (!received)
        return;
    if (!c->recv_packets || r->arrival_us < c->first_arrival) {
        c->first_arrival = r->arrival_us;
        c->first_arrival_size = r->size;
    }
    if (!c->recv_packets || r->arrival_us > c->last_arrival)
        c->last_arrival = r->arrival_us;
    c->recv_packets++;
    c->recv_bytes += r->size;
}

/* Matches one status to its sent packet; a received one joins the batch. */
static void on_status(tf_bwe_t *b, const tf_rtcp_twcc_status_t *s, int64_t arrival, size_t *nb,
                      int64_t *min_rtt)
{
    sent_rec_t *r = lookup(b, s->seq);
    if (!r) {
        b->unknown++;
        return;
    }
    if (r->seq > b->newest_fb_seq) {
        b->newest_fb_seq = r->seq;
        b->newest_fb_send = r->send_us;
    }
    if (r->state == REC_RECEIVED || (r->state == REC_LOST && !s->received)) {
        b->dups++;
        return;
    }
    if (!s->received) {
        r->state = REC_LOST;
        b->packets_lost++;
        tf__bwe_loss_on_status(&b->loss, b->now, true);
        probe_on_feedback(b, r, false);
        return;
    }
    if (r->state == REC_LOST) { /* reported lost before, arrived late after all */
        tf__bwe_loss_on_late_arrival(&b->loss);
        b->packets_lost--;
    } else {
        tf__bwe_loss_on_status(&b->loss, b->now, false);
    }
    r->state = REC_RECEIVED;
    r->arrival_us = arrival;
    b->packets_acked++;
    probe_on_feedback(b, r, true);
    *min_rtt = b->now - r->send_us < *min_rtt ? b->now - r->send_us : *min_rtt;
    b->batch[(*nb)++] = (uint16_t)(r->seq & HISTORY_MASK);
}

/* Orders the batch by arrival time, then sequence (libwebrtc's SortedByReceiveTime): feedback
 * is usually in order already, but a hostile one must not cost O(n²), hence a heap sort. */
static bool arrives_before(const sent_rec_t *ring, uint16_t a, uint16_t c)
{
    const sent_rec_t *x = &ring[a], *y = &ring[c];
    return x->arrival_us != y->arrival_us ? x->arrival_us < y->arrival_us : x->seq < y->seq;
}

static void sift_down(const sent_rec_t *ring, uint16_t *h, size_t i, size_t n)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && arrives_before(ring, h[m], h[l]))
            m = l;
        if (r < n && arrives_before(ring, h[m], h[r]))
            m = r;
        if (m == i)
            return;
        uint16_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void sort_batch(const sent_rec_t *ring, uint16_t *h, size_t n)
{
    size_t i = 1;
    while (i < n && !arrives_before(ring, h[i], h[i - 1]))
        i++;
    if (i >= n)
        return;
    for (i = n / 2; i-- > 0;)
        sift_down(ring, h, i, n);
    for (size_t end = n; end-- > 1;) {
        uint16_t t = h[0];
        h[0] = h[end];
        h[end] = t;
        sift_down(ring, h, 0, end);
    }
}

/* Moves the settled frontier over every packet feedback has covered. A packet still unreported
 * while one sent HOLE_TIMEOUT after it has been reported is taken as lost feedback. */
static void settle(tf_bwe_t *b)
{
    if (b->last_seq - b->settled_seq > TF_BWE_HISTORY)
        b->settled_seq = b->last_seq - TF_BWE_HISTORY;
    while (b->settled_seq < b->newest_fb_seq) {
        int64_t s = b->settled_seq + 1;
        const sent_rec_t *r = &b->ring[s & HISTORY_MASK];
        if (r->seq == s && r->state == REC_SENT && r->send_us > b->newest_fb_send - HOLE_TIMEOUT)
            break;
        if (r->seq == s && r->state == REC_RECEIVED &&
            (!b->have_settled || r->arrival_us > b->settled_arrival)) {
            b->settled_arrival = r->arrival_us;
            b->have_settled = true;
        }
        b->settled_seq = s;
    }
}

/* The rate at which packets arrived over the ACKED_WINDOW (longer when that holds fewer than
 * three packets) ending at the settled frontier, walking back from it: arrivals follow
 * sequence numbers closely, so the walk stops soon after the window. The oldest packet counted
 * is the fence post: its bytes arrived before the span begins. */
static double acked_rate(const tf_bwe_t *b)
{
    if (!b->have_settled)
        return 0;
    int64_t end = b->settled_arrival, oldest = end;
    uint64_t bytes = 0, oldest_bytes = 0;
    int count = 0;
    for (int64_t s = b->settled_seq; s > b->settled_seq - TF_BWE_HISTORY; s--) {
        const sent_rec_t *r = &b->ring[s & HISTORY_MASK];
        if (r->seq > s || r->state == REC_EMPTY)
            break; /* overwritten by a newer packet: nothing older is left */
        if (r->seq != s || r->state != REC_RECEIVED)
            continue;
        int64_t a = r->arrival_us;
        if (a > end)
            continue; /* arrived after the frontier's packet: reordered */
        bool in = a > end - ACKED_WINDOW || (count < 3 && a > end - ACKED_MAX_WINDOW);
        if (!in) {
            if (a <= end - ACKED_WINDOW - ACKED_REORDER_SLACK)
                break;
            continue;
        }
        bytes += r->size;
        count++;
        if (a < oldest || count == 1) {
            oldest = a;
            oldest_bytes = r->size;
        }
    }
    if (end - oldest < ACKED_MIN_SPAN)
        return 0;
    return (double)(bytes - oldest_bytes) * 8e6 / (double)(end - oldest);
}

int tf_bwe_on_twcc_feedback(tf_bwe_t *b, uint64_t now_us, const tf_rtcp_twcc_t *fb)
{
    if (!b || !fb)
        return -EINVAL;
    if (fb->status_count > TF_BWE_HISTORY)
        return -EMSGSIZE;
    int n = tf_rtcp_twcc_expand(fb, b->statuses, TF_BWE_HISTORY);
    if (n < 0)
        return n == -ENOBUFS ? -EMSGSIZE : n;
    advance(b, now_us);
    if (!twcc_active(b)) /* the first feedback, or feedback again after a gap: start afresh */
        tf__bwe_delay_init(&b->delay, b->target, b->min_bps, b->max_bps);
    b->twcc_seen = true;
    b->last_twcc_us = b->now;
    b->feedbacks++;

    /* The reference time counts 64 ms in 24 bits and wraps: unwrap it against the last one. */
    uint32_t ref = fb->ref_time & 0xffffff;
    if (b->have_ref && llabs(b->ref_unwrapped) < REF_UNWRAPPED_MAX)
        b->ref_unwrapped += (int64_t)((ref - b->last_ref + 0x800000) & 0xffffff) - 0x800000;
    else
        b->ref_unwrapped = ref;
    b->have_ref = true;
    b->last_ref = ref;

    int64_t arrival = b->ref_unwrapped * 64000, min_rtt = INT64_MAX;
    size_t nb = 0;
    for (int i = 0; i < n; i++) {
        if (b->statuses[i].received)
            arrival += b->statuses[i].delta_us;
        on_status(b, &b->statuses[i], arrival, &nb, &min_rtt);
    }
    if (min_rtt != INT64_MAX)
        b->fb_rtt_us = b->fb_rtt_us ? b->fb_rtt_us + (min_rtt - b->fb_rtt_us) / 8 : min_rtt;

    sort_batch(b->ring, b->batch, nb);
    for (size_t i = 0; i < nb; i++) {
        const sent_rec_t *r = &b->ring[b->batch[i]];
        tf__bwe_delay_on_packet(&b->delay, r->send_us, r->arrival_us);
    }

    /* Rate control once per feedback, as libwebrtc's DelayBasedBwe::MaybeUpdateEstimate. */
    settle(b);
    b->acked_bps = acked_rate(b);
    if (b->delay.usage == TF_BWE_USAGE_OVER)
        b->last_overuse_us = b->now;
    double before = tf__bwe_delay_bps(&b->delay);
    int64_t rtt = rtt_us(b);
    tf__bwe_delay_update(&b->delay, b->now, b->acked_bps, rtt ? rtt : DEFAULT_RTT);
    bool down = tf__bwe_delay_bps(&b->delay) < before;
    update_target(b, down ? TF_BWE_REASON_OVERUSE : TF_BWE_REASON_DELAY_INCREASE);
    probes_settle(b);

    tf_bwe_reason_t why = tf__bwe_loss_on_feedback(&b->loss, b->now, increase_cap(b), rtt);
    if (why != TF_BWE_REASON_START)
        update_target(b, why);
    return 0;
}

int tf_bwe_on_remb(tf_bwe_t *b, uint64_t now_us, uint64_t bitrate_bps)
{
    if (!b)
        return -EINVAL;
    advance(b, now_us);
    b->remb_bps = fmax((double)bitrate_bps, b->min_bps);
    update_target(b, TF_BWE_REASON_REMB);
    return 0;
}

int tf_bwe_on_receiver_report(tf_bwe_t *b, uint64_t now_us, uint8_t fraction_lost, int64_t rtt)
{
    if (!b)
        return -EINVAL;
    advance(b, now_us);
    if (rtt > 0)
        b->rr_rtt_us = rtt;
    if (twcc_active(b))
        return 0;
    tf_bwe_reason_t why =
        tf__bwe_loss_on_rr(&b->loss, b->now, fraction_lost / 256.0, increase_cap(b), rtt_us(b));
    update_target(b, why != TF_BWE_REASON_START ? why : TF_BWE_REASON_BOUNDS);
    return 0;
}

int tf_bwe_handle_timeout(tf_bwe_t *b, uint64_t now_us)
{
    if (!b)
        return -EINVAL;
    advance(b, now_us);
    probes_settle(b);
    return 0;
}

uint64_t tf_bwe_poll_timeout(const tf_bwe_t *b)
{
    int64_t t = INT64_MAX;
    if (!b)
        return UINT64_MAX;
    for (size_t i = 0; i < PROBE_SLOTS; i++) {
        const probe_cluster_t *c = &b->probes[i];
        int64_t e = (c->sent_packets ? c->last_send : c->issued_us) + PROBE_EXPIRY;
        if (c->id && e < t)
            t = e;
    }
    if (t == INT64_MAX)
        return UINT64_MAX;
    return t < b->now ? (uint64_t)b->now : (uint64_t)t;
}

int tf_bwe_probe_request(tf_bwe_t *b, uint64_t now_us, tf_bwe_probe_t *out)
{
    if (!b || !out)
        return -EINVAL;
    tf_bwe_handle_timeout(b, now_us);
    for (size_t i = 0; i < PROBE_SLOTS; i++)
        if (b->probes[i].id && !probe_sent_all(&b->probes[i]))
            return -EAGAIN; /* the next cluster waits until this one has been sent */
    double bps = 0;
    if (b->initial_probes < 2) {
        /* libwebrtc's first probes: 3× and 6× the estimate at the first call, back to back. */
        if (!b->initial_probes)
            b->initial_base = b->target;
        bps = fmin(b->initial_base * (b->initial_probes++ ? 6.0 : 3.0), b->max_bps);
        if (bps <= b->last_probe_bps)
            bps = 0; /* capped at max, and the first one asked for that already */
    } else if (b->next_probe_bps > 0) {
        if (probe_out(b))
            return -EAGAIN; /* an older cluster's result may still change the picture */
        bps = b->next_probe_bps;
        b->next_probe_bps = 0;
    } else if (!probe_out(b) && twcc_active(b) && b->target < b->max_bps &&
               b->now - b->last_probe_us >= PROBE_ALR_INTERVAL &&
               b->now - b->last_overuse_us >= PROBE_QUIET_AFTER_OVERUSE && app_limited(b)) {
        bps = fmin(2.0 * b->target, b->max_bps);
    }
    if (bps <= b->target)
        return -EAGAIN;
    probe_issue(b, bps, out);
    return 0;
}

uint64_t tf_bwe_target_bps(const tf_bwe_t *b)
{
    return b ? (uint64_t)b->target : 0;
}

bool tf_bwe_twcc_active(const tf_bwe_t *b)
{
    return b && twcc_active(b);
}

void tf_bwe_get_state(const tf_bwe_t *b, tf_bwe_state_t *o)
{
    if (!b || !o)
        return;
    *o = (tf_bwe_state_t){
        .target_bps = (uint64_t)b->target,
        .delay_bps = (uint64_t)tf__bwe_delay_bps(&b->delay),
        .loss_bps = (uint64_t)b->loss.bps,
        .acked_bps = (uint64_t)b->acked_bps,
        .sent_bps = (uint64_t)sent_rate(b, SENT_WINDOW, SENT_MIN_SPAN),
        .remb_bps = (uint64_t)b->remb_bps,
        .loss_fraction = b->loss.smoothed,
        .rtt_us = rtt_us(b),
        .usage = b->delay.usage,
        .trend_ms = b->delay.modified_trend,
        .threshold_ms = b->delay.threshold,
        .twcc_active = twcc_active(b),
        .app_limited = app_limited(b),
        .probing = probe_out(b) || b->next_probe_bps > 0,
        .reason = b->reason,
        .feedbacks = b->feedbacks,
        .packets_acked = b->packets_acked,
        .packets_lost = b->packets_lost,
        .probes_sent = b->probes_sent,
        .probes_succeeded = b->probes_ok,
        .unknown_statuses = b->unknown,
        .duplicate_statuses = b->dups,
    };
}

const char *tf_bwe_reason_name(tf_bwe_reason_t r)
{
    static const char *const names[] = {"start",         "delay-increase", "overuse",
                                        "loss-increase", "loss-decrease",  "probe",
                                        "remb",          "bounds"};
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *tf_bwe_usage_name(tf_bwe_usage_t u)
{
    static const char *const names[] = {"normal", "under", "over"};
    return (unsigned)u < sizeof(names) / sizeof(names[0]) ? names[u] : "?";
}
