/* metrics.c — GET /metrics (Prometheus text exposition format 0.0.4) and GET /readyz, on the I/O
 * thread; plus the per-worker snapshots the media workers publish after each run. No per-room,
 * per-teacher or per-participant series: rooms and participants appear only in histograms. */
#include "server/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/api.h"
#include "server/queue.h"
#include "server/room.h"
#include "server/server.h"
#include "server/worker.h"

static const double room_size_bounds[TF_METRICS_ROOM_SIZE_N] = TF_METRICS_ROOM_SIZE_BOUNDS;
static const double encoder_bounds[TF_METRICS_ENCODER_N] = TF_METRICS_ENCODER_BOUNDS;

int tf_metrics_bucket(const double *bounds, int n, double v)
{
    int i = 0;
    while (i < n && v > bounds[i])
        i++;
    return i;
}

/* ---- worker side -------------------------------------------------------------------------- */

void tf_metrics_worker_init(tf_worker_metrics_t *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
}

void tf_metrics_worker_destroy(tf_worker_metrics_t *m)
{
    pthread_mutex_destroy(&m->lock);
}

static void add_counters(tf_worker_snapshot_t *s, const tf_room_stats_t *st)
{
    s->tier_changes += st->tier_changes;
    s->frames_decoded += st->frames_decoded;
    s->frames_encoded += st->frames_encoded;
    s->decode_errors += st->decode_errors;
    s->out_dropped += st->out_dropped;
    s->keyframes_sent += st->keyframes_sent;
    s->keyframe_requests += st->keyframe_requests;
    s->nacks_answered += st->nacks_answered;
}

void tf_metrics_worker_begin(tf_worker_metrics_t *m)
{
    /* closed only ever holds counters (its histograms stay zero): start from those. */
    m->build = m->closed;
}

void tf_metrics_worker_room(tf_worker_metrics_t *m, const tf_room_t *room,
                            const tf_room_stats_t *st)
{
    if (room)
        tf__room_metrics_members(room, &m->build);
    int enc = st->video_encoders + st->audio_encoders;
    m->build
        .rooms_by_size[tf_metrics_bucket(room_size_bounds, TF_METRICS_ROOM_SIZE_N, st->members)]++;
    m->build.rooms_by_encoders[tf_metrics_bucket(encoder_bounds, TF_METRICS_ENCODER_N, enc)]++;
    m->build.members += (uint64_t)st->members;
    m->build.encoders += (uint64_t)enc;
    add_counters(&m->build, st);
}

void tf_metrics_worker_end(tf_worker_metrics_t *m)
{
    pthread_mutex_lock(&m->lock);
    m->pub = m->build;
    pthread_mutex_unlock(&m->lock);
}

void tf_metrics_worker_room_closed(tf_worker_metrics_t *m, const tf_room_stats_t *st)
{
    add_counters(&m->closed, st);
}

/* ---- text output -------------------------------------------------------------------------- */

typedef struct out {
    char *buf;
    size_t len, cap;
    int oom;
} out_t;

static void put(out_t *o, const char *fmt, ...)
{
    if (o->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *nb = realloc(o->buf, cap);
        if (!nb) {
            o->oom = 1;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
}

static void family(out_t *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(out_t *o, const char *name, const char *help, double v)
{
    family(o, name, "gauge", help);
    put(o, "%s %.17g\n", name, v);
}

static void counter(out_t *o, const char *name, const char *help, double v)
{
    family(o, name, "counter", help);
    put(o, "%s %.17g\n", name, v);
}

/* A histogram from non-cumulative bucket counts (n bounds, then +Inf). */
static void histogram(out_t *o, const char *name, const char *help, const double *bounds, int n,
                      const uint64_t *counts, double sum)
{
    family(o, name, "histogram", help);
    uint64_t cum = 0;
    for (int i = 0; i <= n; i++) {
        cum += counts[i];
        if (i < n)
            put(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
        else
            put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    put(o, "%s_sum %.17g\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

static double thread_cpu_seconds(clockid_t cid)
{
    struct timespec ts;
    if (clock_gettime(cid, &ts) < 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int worker_alive(tf_worker_t *w, clockid_t *cid)
{
    return !w->stop && pthread_getcpuclockid(w->thread, cid) == 0 && thread_cpu_seconds(*cid) >= 0;
}

static void hist_add(uint64_t *to, const uint64_t *from, int n)
{
    for (int i = 0; i < n; i++)
        to[i] += from[i];
}

static char *render(tf_server_t *srv, size_t *len)
{
    out_t o = {.cap = 16384};
    o.buf = malloc(o.cap);
    if (!o.buf)
        return NULL;
    tf_worker_snapshot_t all;
    memset(&all, 0, sizeof(all));
    uint64_t drops_in = 0, drops_out = 0;
    int rooms = 0, members = 0, venc = 0, aenc = 0, dec = 0;
    for (int i = 0; i < srv->n_workers; i++) {
        tf_worker_t *w = &srv->workers[i];
        tf_worker_snapshot_t s;
        pthread_mutex_lock(&w->metrics.lock);
        s = w->metrics.pub;
        pthread_mutex_unlock(&w->metrics.lock);
        for (int b = 0; b <= TF_METRICS_ROOM_SIZE_N; b++)
            all.rooms_by_size[b] += s.rooms_by_size[b];
        for (int b = 0; b <= TF_METRICS_ENCODER_N; b++)
            all.rooms_by_encoders[b] += s.rooms_by_encoders[b];
        all.members += s.members;
        all.encoders += s.encoders;
        hist_add(all.rtt.b, s.rtt.b, TF_METRICS_RTT_N + 1);
        all.rtt.sum += s.rtt.sum;
        all.rtt.count += s.rtt.count;
        hist_add(all.loss.b, s.loss.b, TF_METRICS_LOSS_N + 1);
        all.loss.sum += s.loss.sum;
        all.loss.count += s.loss.count;
        hist_add(all.target.b, s.target.b, TF_METRICS_BITRATE_N + 1);
        all.target.sum += s.target.sum;
        all.target.count += s.target.count;
        hist_add(all.by_tier, s.by_tier, TF_METRICS_TIERS);
        all.tier_changes += s.tier_changes;
        all.frames_decoded += s.frames_decoded;
        all.frames_encoded += s.frames_encoded;
        all.decode_errors += s.decode_errors;
        all.out_dropped += s.out_dropped;
        all.keyframes_sent += s.keyframes_sent;
        all.keyframe_requests += s.keyframe_requests;
        all.nacks_answered += s.nacks_answered;
        drops_in += tf_queue_dropped(&w->in);
        drops_out += tf_queue_dropped(&w->out);
        rooms += w->rooms_open;
        members += w->members;
        venc += w->video_encoders;
        aenc += w->audio_encoders;
        dec += w->decoders;
    }
    tf_session_metrics_t sm;
    tf_session_metrics_collect(srv, tf_server_now_us(srv), &sm);

    gauge(&o, "tafel_rooms", "Rooms open (mixing) on this server.", rooms);
    gauge(&o, "tafel_participants", "Participants in the rooms of this server.", members);
    gauge(&o, "tafel_sessions", "WebRTC sessions (connected or connecting).", sm.sessions);
    gauge(&o, "tafel_sessions_connected", "WebRTC sessions with DTLS established.", sm.connected);
    family(&o, "tafel_encoders", "gauge", "Encoders running, by kind.");
    put(&o, "tafel_encoders{kind=\"video\"} %d\ntafel_encoders{kind=\"audio\"} %d\n", venc, aenc);
    gauge(&o, "tafel_decoders", "Decoders running (video and audio).", dec);
    histogram(&o, "tafel_room_participants",
              "Open rooms by number of participants (as of each worker's last run).",
              room_size_bounds, TF_METRICS_ROOM_SIZE_N, all.rooms_by_size, (double)all.members);
    histogram(&o, "tafel_room_encoders", "Open rooms by number of encoders (video + audio).",
              encoder_bounds, TF_METRICS_ENCODER_N, all.rooms_by_encoders, (double)all.encoders);
    family(&o, "tafel_participants_by_tier", "gauge",
           "Participants by the tier the server sends them (bandwidth adaptation).");
    static const char *const tiers[TF_METRICS_TIERS] = {"audio", "low", "medium", "high"};
    for (int t = 0; t < TF_METRICS_TIERS; t++)
        put(&o, "tafel_participants_by_tier{tier=\"%s\"} %llu\n", tiers[t],
            (unsigned long long)all.by_tier[t]);
    histogram(&o, "tafel_participant_rtt_seconds",
              "Participants by round-trip time between server and participant (RTCP or "
              "transport-cc).",
              tf_metrics_rtt_bounds, TF_METRICS_RTT_N, all.rtt.b, all.rtt.sum);
    histogram(&o, "tafel_participant_loss_ratio",
              "Participants by fraction of the server's packets to them that were lost "
              "(smoothed).",
              tf_metrics_loss_bounds, TF_METRICS_LOSS_N, all.loss.b, all.loss.sum);
    histogram(&o, "tafel_participant_target_bitrate_bps",
              "Participants by the bit rate the bandwidth estimator allows towards them.",
              tf_metrics_bitrate_bounds, TF_METRICS_BITRATE_N, all.target.b, all.target.sum);
    histogram(&o, "tafel_participant_receive_bitrate_bps",
              "Sessions by average bit rate received from them since they connected.",
              tf_metrics_bitrate_bounds, TF_METRICS_BITRATE_N, sm.in.b, sm.in.sum);
    histogram(&o, "tafel_participant_send_bitrate_bps",
              "Sessions by average bit rate sent to them since they connected.",
              tf_metrics_bitrate_bounds, TF_METRICS_BITRATE_N, sm.out.b, sm.out.sum);
    counter(&o, "tafel_tier_changes_total", "Receiver tier changes (bandwidth adaptation).",
            (double)all.tier_changes);
    counter(&o, "tafel_frames_decoded_total", "Video frames decoded.", (double)all.frames_decoded);
    counter(&o, "tafel_frames_encoded_total", "Video frames encoded.", (double)all.frames_encoded);
    counter(&o, "tafel_decode_errors_total", "Video frames that failed to decode.",
            (double)all.decode_errors);
    counter(&o, "tafel_keyframes_sent_total", "Key frames encoded.", (double)all.keyframes_sent);
    counter(&o, "tafel_keyframe_requests_total", "Key-frame requests (PLI/FIR) received.",
            (double)all.keyframe_requests);
    counter(&o, "tafel_nacks_answered_total", "Retransmissions sent for NACKs.",
            (double)all.nacks_answered);
    counter(&o, "tafel_room_packets_dropped_total",
            "Packets a room engine dropped at its full output.", (double)all.out_dropped);
    family(&o, "tafel_queue_drops_total", "counter",
           "Messages dropped at a full queue between the I/O thread and the media workers.");
    put(&o, "tafel_queue_drops_total{queue=\"to_worker\"} %llu\n", (unsigned long long)drops_in);
    put(&o, "tafel_queue_drops_total{queue=\"from_worker\"} %llu\n", (unsigned long long)drops_out);
    counter(&o, "tafel_udp_packets_received_total", "Datagrams received on the media socket.",
            (double)srv->stats.udp_in);
    counter(&o, "tafel_udp_packets_sent_total", "Datagrams sent on the media socket.",
            (double)srv->stats.udp_out);
    counter(&o, "tafel_udp_send_dropped_total", "Datagrams dropped at a full socket buffer.",
            (double)srv->stats.udp_send_dropped);
    counter(&o, "tafel_udp_unrouted_total", "Datagrams from addresses no session knows.",
            (double)srv->stats.udp_unrouted);
    counter(&o, "tafel_bad_input_total", "Datagrams a session refused.",
            (double)srv->stats.bad_input);

    family(&o, "tafel_worker_cpu_seconds_total", "counter",
           "CPU time used by each media worker thread.");
    for (int i = 0; i < srv->n_workers; i++) {
        clockid_t cid;
        if (worker_alive(&srv->workers[i], &cid))
            put(&o, "tafel_worker_cpu_seconds_total{worker=\"%d\"} %.6f\n", i,
                thread_cpu_seconds(cid));
    }
    counter(&o, "tafel_io_thread_cpu_seconds_total",
            "CPU time used by the I/O thread (HTTP, UDP, DTLS, SRTP).",
            thread_cpu_seconds(CLOCK_THREAD_CPUTIME_ID));
    counter(&o, "tafel_process_cpu_seconds_total", "CPU time used by the whole process.",
            thread_cpu_seconds(CLOCK_PROCESS_CPUTIME_ID));
    long rss_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long size_pages;
        if (fscanf(f, "%ld %ld", &size_pages, &rss_pages) != 2)
            rss_pages = 0;
        fclose(f);
    }
    gauge(&o, "tafel_process_resident_memory_bytes", "Resident set size.",
          (double)rss_pages * (double)sysconf(_SC_PAGESIZE));
    gauge(&o, "tafel_workers", "Media worker threads.", srv->n_workers);
    family(&o, "tafel_build_info", "gauge", "Version of this server (always 1).");
#ifdef TAFEL_VERSION
    put(&o, "tafel_build_info{version=\"%s\"} 1\n", TAFEL_VERSION);
#else
    put(&o, "tafel_build_info{version=\"unknown\"} 1\n");
#endif
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}

/* Ready: the media socket is bound and receiving, every worker thread runs, the account store
 * answers a query (when authentication is on), and the server is not shutting down. */
static int readyz(tf_server_t *srv, tf_http_reply_t *out)
{
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    int udp = srv->udp.data != NULL && uv_is_active((uv_handle_t *)&srv->udp) &&
              uv_udp_getsockname(&srv->udp, (struct sockaddr *)&ss, &sl) == 0;
    int alive = 0;
    for (int i = 0; i < srv->n_workers; i++) {
        clockid_t cid;
        alive += worker_alive(&srv->workers[i], &cid);
    }
    int workers_ok = srv->n_workers > 0 && alive == srv->n_workers;
    int store_rc = srv->cfg.auth ? tf_api_store_check(srv->api) : 0;
    int store_ok = store_rc == 0;
    int ready = udp && workers_ok && store_ok && !srv->stopping;
    out->status = ready ? 200 : 503;
    out->content_type = "application/json";
    out->body = malloc(256);
    if (!out->body) {
        out->status = 503;
        return 1;
    }
    out->len =
        (size_t)snprintf(out->body, 256,
                         "{\"ready\": %s, \"udp\": %s, \"workers\": %d, \"workers_running\": %d, "
                         "\"store\": \"%s\", \"stopping\": %s}\n",
                         ready ? "true" : "false", udp ? "true" : "false", srv->n_workers, alive,
                         !srv->cfg.auth        ? "off"
                         : store_ok            ? "open"
                         : store_rc == -ENOENT ? "closed"
                                               : "failing",
                         srv->stopping ? "true" : "false");
    return 1;
}

int tf_metrics_handle(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    if (strcmp(req->method, "GET") != 0)
        return 0;
    if (!strcmp(req->path, "/readyz"))
        return readyz(srv, out);
    if (strcmp(req->path, "/metrics") != 0)
        return 0;
    size_t len = 0;
    char *body = render(srv, &len);
    if (!body) {
        tf_http_json_error(out, 500, "out-of-memory", "cannot render metrics");
        return 1;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->body = body;
    out->len = len;
    return 1;
}
