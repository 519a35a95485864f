/* metrics.h — operations endpoints: GET /metrics (Prometheus text format 0.0.4) and GET /readyz.
 * Every figure is aggregate — per server, per worker thread, or bucketed by room size — never per
 * room name, teacher or participant (the staff-council rule in docs/privacy.md). */
#ifndef TF_METRICS_H
#define TF_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

struct tf_server;
struct tf_room;
struct tf_room_stats;

/* Room-size buckets (participants) and encoders-per-room buckets, upper bounds; +Inf follows. */
#define TF_METRICS_ROOM_SIZE_BOUNDS                                                                \
    {                                                                                              \
        1, 2, 5, 10, 20, 30, 50                                                                    \
    }
#define TF_METRICS_ROOM_SIZE_N 7
#define TF_METRICS_ENCODER_BOUNDS                                                                  \
    {                                                                                              \
        1, 2, 4, 8, 16, 32                                                                         \
    }
#define TF_METRICS_ENCODER_N 6

#define TF_METRICS_RTT_N 8
#define TF_METRICS_LOSS_N 7
#define TF_METRICS_BITRATE_N 8
#define TF_METRICS_TIERS 4 /* TF_TIER_COUNT: audio only, low, medium, high */

/* Participants in histograms (non-cumulative bucket counts, last: +Inf) with sum and count. */
typedef struct tf_metrics_hist_rtt {
    uint64_t b[TF_METRICS_RTT_N + 1], count;
    double sum;
} tf_metrics_hist_rtt_t;
typedef struct tf_metrics_hist_loss {
    uint64_t b[TF_METRICS_LOSS_N + 1], count;
    double sum;
} tf_metrics_hist_loss_t;
typedef struct tf_metrics_hist_bitrate {
    uint64_t b[TF_METRICS_BITRATE_N + 1], count;
    double sum;
} tf_metrics_hist_bitrate_t;

/* What one worker's rooms look like, as of the worker's last run. */
typedef struct tf_worker_snapshot {
    uint64_t rooms_by_size[TF_METRICS_ROOM_SIZE_N + 1]; /* non-cumulative counts; last: +Inf */
    uint64_t rooms_by_encoders[TF_METRICS_ENCODER_N + 1];
    uint64_t members, encoders; /* the histograms' sums */
    /* Per participant, from the room engine's bandwidth estimator (downlink: what the server
     * sends to the participant): round-trip time, loss, target bit rate; and the tier. */
    tf_metrics_hist_rtt_t rtt;
    tf_metrics_hist_loss_t loss;
    tf_metrics_hist_bitrate_t target;
    uint64_t by_tier[TF_METRICS_TIERS];
    /* Monotonic: rooms that closed are folded in, so these never go down. */
    uint64_t tier_changes, frames_decoded, frames_encoded, decode_errors, out_dropped;
    uint64_t keyframes_sent, keyframe_requests, nacks_answered;
} tf_worker_snapshot_t;

/* Per worker, written by the worker thread, read by the I/O thread under lock. */
typedef struct tf_worker_metrics {
    pthread_mutex_t lock;
    tf_worker_snapshot_t pub;    /* what /metrics reads */
    tf_worker_snapshot_t build;  /* being assembled during a run (worker thread only) */
    tf_worker_snapshot_t closed; /* counters of rooms that closed (worker thread only) */
} tf_worker_metrics_t;

void tf_metrics_worker_init(tf_worker_metrics_t *m);
void tf_metrics_worker_destroy(tf_worker_metrics_t *m);
/* Worker thread, once per run over its rooms: begin, one call per open room, end (publishes). */
void tf_metrics_worker_begin(tf_worker_metrics_t *m);
void tf_metrics_worker_room(tf_worker_metrics_t *m, const struct tf_room *room,
                            const struct tf_room_stats *st);
void tf_metrics_worker_end(tf_worker_metrics_t *m);
/* Worker thread, just before a room is destroyed: keeps its counters in the totals. */
void tf_metrics_worker_room_closed(tf_worker_metrics_t *m, const struct tf_room_stats *st);

/* Adds each participant of room (its bandwidth estimator and tier) to s; worker thread
 * (room_metrics.c, beside the room engine whose internals it reads). */
void tf__room_metrics_members(const struct tf_room *room, tf_worker_snapshot_t *s);

/* Participant figures gathered from the sessions on the I/O thread (session_metrics.c): the
 * average bit rates actually received from and sent to each since it connected. */
typedef struct tf_session_metrics {
    int sessions, connected;
    tf_metrics_hist_bitrate_t in, out;
} tf_session_metrics_t;
extern const double tf_metrics_rtt_bounds[TF_METRICS_RTT_N];         /* seconds */
extern const double tf_metrics_loss_bounds[TF_METRICS_LOSS_N];       /* fraction lost */
extern const double tf_metrics_bitrate_bounds[TF_METRICS_BITRATE_N]; /* bit/s */
void tf_session_metrics_collect(struct tf_server *srv, uint64_t now_us, tf_session_metrics_t *out);

/* Index of the first bound >= v (n when above every bound): the bucket v is counted in. */
int tf_metrics_bucket(const double *bounds, int n, double v);

/* Routes GET /metrics and GET /readyz. 1 when handled (out filled), 0 otherwise. I/O thread. */
int tf_metrics_handle(struct tf_server *srv, const tf_http_request_t *req, tf_http_reply_t *out);

#endif
