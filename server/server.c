/* server.c — `tafel serve`'s event loop: one UDP socket demultiplexed to sessions (by peer
 * address, or by ICE ufrag for a first STUN check), HTTP(S) on the same uv_loop_t, clean
 * shutdown on SIGINT/SIGTERM. Protocol work happens in server/rtc via session.c. */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "server/api.h"
#include "server/log.h"
#include "server/rtc/stun.h"
#include "server/session.h"
#include "server/tls_cert.h"
#include "server/whip.h"

uint64_t tf_server_now_us(const tf_server_t *s)
{
    (void)s;
    return uv_hrtime() / 1000;
}

int tf_server_random(uint8_t *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

static void to_sockaddr(const tf_addr_t *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == TF_ADDR_V4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        memcpy(&in6->sin6_addr, a->ip, 16);
    }
}

static int from_sockaddr(const struct sockaddr *sa, tf_addr_t *a)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        a->family = TF_ADDR_V4;
        a->port = ntohs(in->sin_port);
        memcpy(a->ip, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        a->family = TF_ADDR_V6;
        a->port = ntohs(in6->sin6_port);
        memcpy(a->ip, &in6->sin6_addr, 16);
        return 0;
    }
    return -EAFNOSUPPORT;
}

void tf_server_send(tf_server_t *s, const tf_addr_t *to, const uint8_t *buf, size_t len)
{
    struct sockaddr_storage ss;
    to_sockaddr(to, &ss);
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    if (uv_udp_try_send(&s->udp, &b, 1, (const struct sockaddr *)&ss) < 0)
        s->stats.udp_send_dropped++;
    else
        s->stats.udp_out++;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tf_server_t *s = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)s->rx, sizeof(s->rx));
}

/* A STUN check from an unknown address names its session in USERNAME ("ours:theirs"). */
static tf_session_t *route_stun(tf_server_t *s, const uint8_t *buf, size_t len)
{
    tf_stun_msg_t msg;
    if (!tf_stun_is_stun(buf, len) || tf_stun_parse(&msg, buf, len, NULL, 0) < 0 ||
        !(msg.has & TF_STUN_HAS_USERNAME))
        return NULL;
    const char *colon = memchr(msg.username, ':', msg.username_len);
    size_t n = colon ? (size_t)(colon - msg.username) : msg.username_len;
    tf_session_t *sess = tf_session_find_by_ufrag(s, msg.username, n);
    if (!sess)
        s->stats.stun_unknown_ufrag++;
    return sess;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *sa,
                    unsigned flags)
{
    tf_server_t *s = h->data;
    (void)flags;
    if (nread <= 0 || !sa)
        return;
    s->stats.udp_in++;
    tf_addr_t from;
    if (from_sockaddr(sa, &from) < 0)
        return;
    uint8_t *data = (uint8_t *)buf->base;
    tf_session_t *sess = tf_addr_map_get(&s->by_addr, &from);
    if (!sess && data[0] <= 3)
        sess = route_stun(s, data, (size_t)nread);
    if (!sess) {
        s->stats.udp_unrouted++;
        return;
    }
    tf_session_input(sess, &from, data, (size_t)nread);
}

static int parse_addr(const char *host, int port, tf_addr_t *a, struct sockaddr_storage *ss)
{
    memset(a, 0, sizeof(*a));
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        a->family = TF_ADDR_V4;
        memcpy(a->ip, &v4, 4);
    } else if (inet_pton(AF_INET6, host, &v6) == 1) {
        a->family = TF_ADDR_V6;
        memcpy(a->ip, &v6, 16);
    } else {
        return -EINVAL;
    }
    a->port = (uint16_t)port;
    if (ss)
        to_sockaddr(a, ss);
    return 0;
}

static void close_all(tf_server_t *s)
{
    while (s->sessions)
        tf_session_close(s->sessions, "server shutting down");
}

tf_worker_t *tf_server_worker_for(tf_server_t *s, const char *room)
{
    uint32_t h = 2166136261u;
    for (const char *p = room; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return &s->workers[h % (uint32_t)s->n_workers];
}

/* Packets and events the workers queued for sessions. */
static void on_io_wake(uv_async_t *a)
{
    tf_server_t *s = a->data;
    tf_msg_t m;
    for (int i = 0; i < s->n_workers; i++) {
        while (tf_queue_pop(&s->workers[i].out, &m) == 0) {
            if (m.kind == TF_MSG_ROOM_GONE) {
                tf_log(TF_LOG_INFO, "room %s closed: every encoder freed", tf_log_room(m.room));
                continue;
            }
            if (m.kind == TF_MSG_EVENT && m.member == 0) { /* for everyone in the room */
                tf_session_broadcast(s, m.room, &m);
            } else {
                tf_session_t *x = tf_session_by_member(s, m.member);
                if (x)
                    tf_session_from_room(x, &m);
            }
            free(m.ptr);
        }
    }
}

static int start_workers(tf_server_t *s)
{
    int n = s->cfg.workers ? s->cfg.workers : (int)uv_available_parallelism();
    s->workers = calloc((size_t)n, sizeof(*s->workers));
    if (!s->workers)
        return -ENOMEM;
    uv_async_init(s->loop, &s->io_wake, on_io_wake);
    s->io_wake.data = s;
    tf_room_config_t rc = {.max_speakers = 3, .cpu_mask = ~0u,
                           .per_member_encoders = s->cfg.bench_per_member_encoders};
    for (int i = 0; i < n; i++) {
        int e = tf_worker_start(&s->workers[i], i, &s->io_wake, &rc);
        if (e < 0)
            return e;
        s->n_workers++;
    }
    tf_log(TF_LOG_INFO, "%d media worker%s", n, n == 1 ? "" : "s");
    return 0;
}

static void stop_workers(tf_server_t *s)
{
    for (int i = 0; i < s->n_workers; i++)
        tf_worker_stop(&s->workers[i]);
    s->n_workers = 0;
    free(s->workers);
    s->workers = NULL;
}

static void on_signal(uv_signal_t *sig, int signum)
{
    tf_server_t *s = sig->data;
    if (s->stopping)
        return;
    s->stopping = 1;
    tf_log(TF_LOG_INFO, "signal %d: shutting down", signum);
    close_all(s);
    stop_workers(s);
    uv_close((uv_handle_t *)&s->io_wake, NULL);
    tf_http_stop(s->http);
    uv_udp_recv_stop(&s->udp);
    uv_close((uv_handle_t *)&s->udp, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
}

static int start_udp(tf_server_t *s)
{
    struct sockaddr_storage ss;
    tf_addr_t bind_addr;
    if (parse_addr(s->cfg.media_addr, s->cfg.media_port, &bind_addr, &ss) < 0) {
        tf_log(TF_LOG_ERROR, "media-addr '%s' is not an IP address", s->cfg.media_addr);
        return -EINVAL;
    }
    uv_udp_init(s->loop, &s->udp);
    s->udp.data = s;
    int e = uv_udp_bind(&s->udp, (const struct sockaddr *)&ss, 0);
    if (e < 0) {
        tf_log(TF_LOG_ERROR, "cannot bind UDP %s:%d: %s", s->cfg.media_addr, s->cfg.media_port,
               uv_strerror(e));
        return e;
    }
    int bufsize = 4 << 20;
    uv_recv_buffer_size((uv_handle_t *)&s->udp, &bufsize);
    uv_send_buffer_size((uv_handle_t *)&s->udp, &bufsize);
    const char *pub = s->cfg.public_addr[0] ? s->cfg.public_addr : s->cfg.media_addr;
    if (parse_addr(pub, s->cfg.media_port, &s->candidate, NULL) < 0) {
        tf_log(TF_LOG_ERROR, "public-addr '%s' is not an IP address", pub);
        return -EINVAL;
    }
    return uv_udp_recv_start(&s->udp, on_alloc, on_recv);
}

static int prepare_tls(tf_server_t *s, char *cert, char *key, size_t cap)
{
    if (s->cfg.tls_cert[0]) {
        snprintf(cert, cap, "%s", s->cfg.tls_cert);
        snprintf(key, cap, "%s", s->cfg.tls_key);
        return 0;
    }
    if (mkdir(s->cfg.data_dir, 0700) < 0 && errno != EEXIST) {
        tf_log(TF_LOG_ERROR, "cannot create data-dir %s: %s", s->cfg.data_dir, strerror(errno));
        return -errno;
    }
    snprintf(cert, cap, "%s/tls-cert.pem", s->cfg.data_dir);
    snprintf(key, cap, "%s/tls-key.pem", s->cfg.data_dir);
    char err[256];
    if (tf_tls_cert_ensure(cert, key, s->cfg.http_addr, err, sizeof(err)) < 0) {
        tf_log(TF_LOG_ERROR, "%s", err);
        return -EIO;
    }
    return 0;
}

int tf_server_run(const tf_config_t *cfg)
{
    tf_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->cfg = *cfg;
    tf_log_set_level(cfg->log_level);
    tf_log_set_personal_data(cfg->log_personal_data);
    uv_loop_t loop;
    uv_loop_init(&loop);
    s->loop = &loop;
    tf_addr_map_init(&s->by_addr);
    int rc = 1;
    char cert[600], key[600];
    if (tf_dtls_cert_create(&s->cert, NULL) < 0 ||
        tf_dtls_cert_fingerprint(s->cert, s->fingerprint, sizeof(s->fingerprint)) < 0) {
        tf_log(TF_LOG_ERROR, "cannot create the DTLS certificate");
        goto out;
    }
    if (cfg->tls && prepare_tls(s, cert, key, sizeof(cert)) < 0)
        goto out;
    if (start_udp(s) < 0 || start_workers(s) < 0 || tf_api_create(&s->api, s) < 0)
        goto out;
    static const tf_ws_handlers_t ws = {.open = tf_session_ws_open,
                                        .message = tf_session_ws_message,
                                        .close = tf_session_ws_close};
    int e = tf_http_start(&s->http, &loop, &s->cfg, cfg->tls ? cert : NULL, cfg->tls ? key : NULL,
                          tf_whip_handle, &ws, s);
    if (e < 0) {
        tf_log(TF_LOG_ERROR, "cannot serve HTTP on %s:%d (in use?)", cfg->http_addr,
               cfg->http_port);
        goto out;
    }
    uv_signal_init(&loop, &s->sigint);
    uv_signal_init(&loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    if (!cfg->auth)
        tf_log(TF_LOG_WARN, "development mode: no authentication, anyone who reaches this "
                            "server may join any room (loopback only)");
    const char *scheme = cfg->tls ? "https" : "http";
    tf_log(TF_LOG_INFO, "media on udp %s:%d, DTLS fingerprint sha-256 %.23s…", cfg->media_addr,
           cfg->media_port, s->fingerprint);
    tf_log(TF_LOG_INFO, "open %s://%s:%d/ (a room: /room.html?room=NAME, self-test: /selftest.html)",
           scheme, cfg->http_addr, cfg->http_port);
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = 0;
    tf_log(TF_LOG_INFO, "stopped: %llu sessions served, %llu datagrams in, %llu out, "
                        "%llu refused, %llu unrouted, %llu send drops, %llu worker queue drops",
           (unsigned long long)s->stats.sessions_created, (unsigned long long)s->stats.udp_in,
           (unsigned long long)s->stats.udp_out, (unsigned long long)s->stats.bad_input,
           (unsigned long long)s->stats.udp_unrouted, (unsigned long long)s->stats.udp_send_dropped,
           (unsigned long long)s->stats.worker_queue_drops);
out:
    if (!s->stopping) {
        close_all(s);
        stop_workers(s);
        if (uv_is_active((uv_handle_t *)&s->io_wake))
            uv_close((uv_handle_t *)&s->io_wake, NULL);
        tf_http_stop(s->http);
        if (uv_is_active((uv_handle_t *)&s->udp) || s->udp.data)
            uv_close((uv_handle_t *)&s->udp, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    tf_http_destroy(&s->http);
    uv_run(&loop, UV_RUN_DEFAULT);
    tf_api_destroy(&s->api);
    uv_loop_close(&loop);
    tf_dtls_cert_destroy(&s->cert);
    tf_addr_map_free(&s->by_addr);
    free(s);
    return rc;
}
