/* relay_main.c — tafel-relay: a UDP relay between clients and one server that impairs each
 * client's traffic through bench/impair.c, on libuv. Not a NAT or a TURN server: it has no
 * authentication, keeps no state beyond a client's address, and always stops by itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bench/impair.h"

static const char USAGE[] =
    "usage: tafel-relay --listen ADDR:PORT --to ADDR:PORT [options]\n"
    "  A UDP relay for one or more clients: each new client address gets its own socket\n"
    "  towards the server (a distinct 5-tuple) and its own impaired link each way.\n"
    "  'up' is client -> server, 'down' is server -> client. ADDR is IPv4 or [IPv6].\n"
    "Per direction (--up-X or --down-X; defaults: no impairment):\n"
    "  --down-delay-ms MS        fixed one-way delay\n"
    "  --down-jitter-ms MS       jitter, normal with this standard deviation (FIFO kept)\n"
    "  --down-jitter-dist D      normal (default) or uniform (delay +- MS)\n"
    "  --down-loss P             independent random loss, 0..1\n"
    "  --down-ge p,r[,lb[,lg]]   Gilbert-Elliott loss: P(good->bad), P(bad->good), loss in\n"
    "                            the bad state (default 1) and the good state (default 0)\n"
    "  --down-reorder P[,MS]     hold a packet back by MS (default 10) with probability P\n"
    "  --down-kbps N             constant rate limit in kbit/s (0 = none)\n"
    "  --down-trace FILE         rate limit replaying a Mahimahi trace (repeats)\n"
    "  --down-queue-ms MS        drop-tail limit of the rate limiter queue, in time at the\n"
    "                            current (mean) rate\n"
    "  --down-queue-bytes N      drop-tail limit in bytes (default: no limit but --slots)\n"
    "Relay:\n"
    "  --control ADDR:PORT       UDP control port; datagrams: 'down-kbps N' (0 = unlimited),\n"
    "                            'down-trace FILE', 'up-kbps N', 'up-trace FILE', 'status';\n"
    "                            each gets a one-line reply ('ok ...' or 'error: ...')\n"
    "  --seed N                  randomness (default 1); client k gets its own streams\n"
    "  --duration S              stop after S seconds (default 600, at most 86400)\n"
    "  --max-clients N           default 16\n"
    "  --idle-timeout S          forget a client silent for S seconds (default 60)\n"
    "  --slots N                 packets queued or in flight per client and direction\n"
    "                            (default 1024)\n"
    "  --max-datagram N          longer datagrams are dropped (default 1500)\n"
    "  --overhead-bytes N        bytes the rate limiters add to each datagram for its IP and\n"
    "                            UDP headers (default 28, or 48 when --to is IPv6)\n"
    "  --upstream-bind IP        source address towards the server (default: loopback\n"
    "                            when --to is loopback, else any)\n"
    "One status line per second on stderr: packets/bytes in and out each way, losses, drops,\n"
    "queue. Stops on SIGINT/SIGTERM too.\n";

enum { UP = 0, DOWN = 1 };
static const char *const DIR_NAME[2] = {"up", "down"};

typedef struct dir_totals {
    uint64_t in_p, in_b, out_p, out_b, lost, dropped, send_err;
} dir_totals_t;

typedef struct relay relay_t;

typedef struct client {
    relay_t *r;
    bool used, closing;
    unsigned id;
    struct sockaddr_storage addr;
    uv_udp_t sock; /* towards the server */
    tf_impair_t *link[2];
    uint64_t send_err[2];
    int64_t last_seen_us;
} client_t;

struct relay {
    uv_loop_t *loop;
    uv_udp_t listen, control;
    bool have_control;
    uv_timer_t wake, tick, stop;
    uv_signal_t sigint, sigterm;
    bool stopping;
    struct sockaddr_storage listen_addr, to_addr, control_addr, up_bind;
    tf_impair_config_t cfg[2]; /* for new clients; cfg[d].trace is trace[d] */
    tf_impair_trace_t *trace[2];
    char trace_path[2][256];
    uint64_t seed;
    double duration_s, idle_s;
    int overhead; /* -1: from the address family */
    size_t max_clients;
    client_t *clients;
    unsigned next_id, refused;
    dir_totals_t retired[2]; /* clients already gone */
    uint64_t t0_ns;
    uint8_t rx[65536];
};

static int64_t now_us(const relay_t *r)
{
    return (int64_t)((uv_hrtime() - r->t0_ns) / 1000);
}

/* ---- addresses -------------------------------------------------------------------------- */

static int parse_addr(const char *s, struct sockaddr_storage *out)
{
    char host[128];
    const char *port;
    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    }
    char *e;
    long p = strtol(port, &e, 10);
    if (!*port || *e || p < 0 || p > 65535)
        return -EINVAL;
    if (uv_ip4_addr(host, (int)p, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return -EINVAL;
}

static void format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[64] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        uv_ip4_name(in, ip, sizeof(ip));
        port = ntohs(in->sin_port);
        snprintf(buf, len, "%s:%d", ip, port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
        snprintf(buf, len, "[%s]:%d", ip, port);
    }
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
    }
    return false;
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        static const uint8_t lo[16] = {[15] = 1};
        return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, lo, 16) == 0;
    }
    return false;
}

static int bound_name(uv_udp_t *h, struct sockaddr_storage *ss)
{
    int len = (int)sizeof(*ss);
    return uv_udp_getsockname(h, (struct sockaddr *)ss, &len);
}

/* ---- traces ----------------------------------------------------------------------------- */

static int load_trace(const char *path, tf_impair_trace_t **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    int rc = text ? 0 : -ENOMEM;
    while (rc == 0) {
        if (len == cap) {
            char *t = cap < (64u << 20) ? realloc(text, cap * 2) : NULL;
            if (!t) {
                rc = -EFBIG;
                break;
            }
            text = t;
            cap *= 2;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    fclose(f);
    if (rc == 0) {
        char perr[128];
        rc = tf_impair_trace_parse(out, text, len, perr, sizeof(perr));
        if (rc < 0)
            snprintf(err, errlen, "%s: %s", path, rc == -EINVAL ? perr : strerror(-rc));
    } else {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    }
    free(text);
    return rc;
}

/* ---- clients and links ------------------------------------------------------------------ */

static void totals_add(dir_totals_t *t, const tf_impair_stats_t *s, uint64_t send_err)
{
    t->in_p += s->in_packets;
    t->in_b += s->in_bytes;
    t->out_p += s->out_packets;
    t->out_b += s->out_bytes;
    t->lost += s->lost_random + s->lost_burst;
    t->dropped += s->dropped_queue + s->dropped_overflow + s->dropped_oversize;
    t->send_err += send_err;
}

static void on_client_closed(uv_handle_t *h)
{
    client_t *c = h->data;
    for (int d = 0; d < 2; d++)
        tf_impair_destroy(&c->link[d]);
    c->used = false;
    c->closing = false;
}

static void client_close(client_t *c)
{
    relay_t *r = c->r;
    for (int d = 0; d < 2; d++) {
        tf_impair_stats_t st;
        tf_impair_get_stats(c->link[d], &st);
        totals_add(&r->retired[d], &st, c->send_err[d]);
    }
    c->closing = true;
    uv_close((uv_handle_t *)&c->sock, on_client_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    relay_t *r = h->loop->data;
    (void)suggested;
    *buf = uv_buf_init((char *)r->rx, sizeof(r->rx));
}

static void send_out(client_t *c, int d, uv_udp_t *sock, const struct sockaddr *to,
                     const tf_impair_packet_t *p)
{
    uv_buf_t b = uv_buf_init((char *)p->data, (unsigned)p->len);
    if (uv_udp_try_send(sock, &b, 1, to) < 0)
        c->send_err[d]++;
}

static void drain_client(client_t *c, int64_t now)
{
    relay_t *r = c->r;
    tf_impair_packet_t p;
    while (tf_impair_poll_transmit(c->link[UP], now, &p) == 0)
        send_out(c, UP, &c->sock, (const struct sockaddr *)&r->to_addr, &p);
    while (tf_impair_poll_transmit(c->link[DOWN], now, &p) == 0)
        send_out(c, DOWN, &r->listen, (const struct sockaddr *)&c->addr, &p);
}

static void on_wake(uv_timer_t *t);

/* Keeps the one timer armed at the earliest deadline of every link. */
static void reschedule(relay_t *r)
{
    if (r->stopping)
        return;
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < r->max_clients; i++) {
        client_t *c = &r->clients[i];
        if (!c->used || c->closing)
            continue;
        for (int d = 0; d < 2; d++) {
            int64_t x = tf_impair_poll_timeout(c->link[d]);
            t = x < t ? x : t;
        }
    }
    if (t == INT64_MAX) {
        uv_timer_stop(&r->wake);
        return;
    }
    uv_update_time(r->loop);
    int64_t wait_us = t - now_us(r);
    uint64_t ms = wait_us <= 0 ? 0 : (uint64_t)((wait_us + 999) / 1000);
    uv_timer_start(&r->wake, on_wake, ms, 0);
}

static void on_wake(uv_timer_t *t)
{
    relay_t *r = t->loop->data;
    int64_t now = now_us(r);
    for (size_t i = 0; i < r->max_clients; i++)
        if (r->clients[i].used && !r->clients[i].closing)
            drain_client(&r->clients[i], now);
    reschedule(r);
}

static void on_upstream_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                             const struct sockaddr *sa, unsigned flags)
{
    client_t *c = h->data;
    relay_t *r = c->r;
    (void)flags;
    if (nread < 0 || !sa || c->closing)
        return;
    if (!same_addr(sa, (const struct sockaddr *)&r->to_addr))
        return; /* only the server talks to this socket */
    int64_t now = now_us(r);
    c->last_seen_us = now;
    tf_impair_handle_input(c->link[DOWN], now, (const uint8_t *)buf->base, (size_t)nread);
    drain_client(c, now);
    reschedule(r);
}

static uint64_t client_seed(uint64_t seed, unsigned id, int d)
{
    uint64_t s = seed ^ ((uint64_t)id << 32) ^ (uint64_t)d << 16;
    return tf_impair_rand(&s);
}

static client_t *client_new(relay_t *r, const struct sockaddr *sa, int64_t now)
{
    client_t *c = NULL;
    for (size_t i = 0; i < r->max_clients && !c; i++)
        if (!r->clients[i].used)
            c = &r->clients[i];
    if (!c)
        return NULL;
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->id = r->next_id;
    memcpy(&c->addr, sa,
           sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    for (int d = 0; d < 2; d++) {
        tf_impair_config_t cfg = r->cfg[d];
        cfg.seed = client_seed(r->seed, c->id, d);
        if (tf_impair_create(&c->link[d], &cfg) < 0)
            goto err;
    }
    int e = uv_udp_init(r->loop, &c->sock);
    if (e < 0)
        goto err;
    c->sock.data = c;
    if ((e = uv_udp_bind(&c->sock, (const struct sockaddr *)&r->up_bind, 0)) < 0 ||
        (e = uv_udp_recv_start(&c->sock, on_alloc, on_upstream_recv)) < 0) {
        fprintf(stderr, "tafel-relay: upstream socket: %s\n", uv_strerror(e));
        c->used = true;
        c->closing = true;
        uv_close((uv_handle_t *)&c->sock, on_client_closed);
        return NULL;
    }
    c->used = true;
    c->last_seen_us = now;
    r->next_id++;
    char a[80], b[80];
    struct sockaddr_storage ss;
    format_addr(sa, a, sizeof(a));
    if (bound_name(&c->sock, &ss) == 0)
        format_addr((const struct sockaddr *)&ss, b, sizeof(b));
    else
        snprintf(b, sizeof(b), "?");
    fprintf(stderr, "tafel-relay: client %u %s, towards the server from %s\n", c->id, a, b);
    return c;
err:
    for (int d = 0; d < 2; d++)
        tf_impair_destroy(&c->link[d]);
    return NULL;
}

static void on_listen_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                           const struct sockaddr *sa, unsigned flags)
{
    relay_t *r = h->loop->data;
    (void)flags;
    if (nread < 0 || !sa || r->stopping)
        return;
    int64_t now = now_us(r);
    client_t *c = NULL;
    for (size_t i = 0; i < r->max_clients && !c; i++)
        if (r->clients[i].used && !r->clients[i].closing &&
            same_addr(sa, (const struct sockaddr *)&r->clients[i].addr))
            c = &r->clients[i];
    if (!c && !(c = client_new(r, sa, now))) {
        r->refused++;
        return;
    }
    c->last_seen_us = now;
    tf_impair_handle_input(c->link[UP], now, (const uint8_t *)buf->base, (size_t)nread);
    drain_client(c, now);
    reschedule(r);
}

/* ---- status and control ----------------------------------------------------------------- */

static void dir_state(const relay_t *r, int d, char *buf, size_t len)
{
    if (r->trace[d])
        snprintf(buf, len, "trace %s", r->trace_path[d]);
    else if (r->cfg[d].rate_bps)
        snprintf(buf, len, "%llu kbit/s", (unsigned long long)(r->cfg[d].rate_bps / 1000));
    else
        snprintf(buf, len, "unlimited");
}

static void status_line(relay_t *r, char *buf, size_t len, const char *tag)
{
    dir_totals_t t[2];
    size_t qp[2] = {0, 0}, qb[2] = {0, 0}, fly[2] = {0, 0}, clients = 0;
    memcpy(t, r->retired, sizeof(t));
    for (size_t i = 0; i < r->max_clients; i++) {
        client_t *c = &r->clients[i];
        if (!c->used || c->closing)
            continue;
        clients++;
        for (int d = 0; d < 2; d++) {
            tf_impair_stats_t st;
            tf_impair_get_stats(c->link[d], &st);
            totals_add(&t[d], &st, c->send_err[d]);
            qp[d] += st.queued_packets;
            qb[d] += st.queued_bytes;
            fly[d] += st.in_flight_packets;
        }
    }
    int n = snprintf(buf, len, "[%s %.0fs] clients %zu", tag, (double)now_us(r) / 1e6, clients);
    for (int d = 0; d < 2 && n >= 0 && (size_t)n < len; d++) {
        char state[300];
        dir_state(r, d, state, sizeof(state));
        n += snprintf(buf + n, len - (size_t)n,
                      " | %s: in %llu pkt %llu B, out %llu pkt %llu B, lost %llu, dropped %llu,"
                      " send-err %llu, queue %zu pkt %zu B, in flight %zu, %s",
                      DIR_NAME[d], (unsigned long long)t[d].in_p, (unsigned long long)t[d].in_b,
                      (unsigned long long)t[d].out_p, (unsigned long long)t[d].out_b,
                      (unsigned long long)t[d].lost, (unsigned long long)t[d].dropped,
                      (unsigned long long)t[d].send_err, qp[d], qb[d], fly[d], state);
    }
    if (r->refused && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " | refused %u", r->refused);
}

static void on_tick(uv_timer_t *t)
{
    relay_t *r = t->loop->data;
    int64_t now = now_us(r);
    for (size_t i = 0; i < r->max_clients; i++) {
        client_t *c = &r->clients[i];
        if (c->used && !c->closing && now - c->last_seen_us > (int64_t)(r->idle_s * 1e6)) {
            fprintf(stderr, "tafel-relay: client %u idle, forgotten\n", c->id);
            client_close(c);
        }
    }
    char line[1024];
    status_line(r, line, sizeof(line), "relay");
    fprintf(stderr, "%s\n", line);
}

/* Applies a new limiter to one direction, for the clients present and those to come. */
static int set_limiter(relay_t *r, int d, uint64_t kbps, const char *path, char *err, size_t errlen)
{
    tf_impair_trace_t *tr = NULL;
    if (path) {
        if (strlen(path) >= sizeof(r->trace_path[d])) {
            snprintf(err, errlen, "trace path too long");
            return -ENAMETOOLONG;
        }
        int rc = load_trace(path, &tr, err, errlen);
        if (rc < 0)
            return rc;
    } else if (kbps > 100000000) {
        snprintf(err, errlen, "rate out of range");
        return -EINVAL;
    }
    int64_t now = now_us(r);
    for (size_t i = 0; i < r->max_clients; i++) {
        client_t *c = &r->clients[i];
        if (!c->used || c->closing)
            continue;
        int rc = tr ? tf_impair_set_trace(c->link[d], now, tr)
                    : tf_impair_set_rate(c->link[d], now, kbps * 1000);
        if (rc < 0) {
            snprintf(err, errlen, "client %u: %s", c->id, strerror(-rc));
            tf_impair_trace_destroy(&tr);
            return rc;
        }
        drain_client(c, now);
    }
    tf_impair_trace_destroy(&r->trace[d]);
    r->trace[d] = tr;
    r->cfg[d].trace = tr;
    r->cfg[d].rate_bps = tr ? 0 : kbps * 1000;
    if (tr)
        snprintf(r->trace_path[d], sizeof(r->trace_path[d]), "%s", path);
    reschedule(r);
    return 0;
}

static void control_command(relay_t *r, char *cmd, char *reply, size_t len)
{
    size_t n = strlen(cmd);
    while (n && (cmd[n - 1] == '\n' || cmd[n - 1] == '\r' || cmd[n - 1] == ' '))
        cmd[--n] = '\0';
    char *arg = strchr(cmd, ' ');
    if (arg) {
        *arg++ = '\0';
        while (*arg == ' ')
            arg++;
    }
    if (strcmp(cmd, "status") == 0) {
        status_line(r, reply, len, "status");
        return;
    }
    int d = strncmp(cmd, "up-", 3) == 0 ? UP : strncmp(cmd, "down-", 5) == 0 ? DOWN : -1;
    const char *what = d == UP ? cmd + 3 : d == DOWN ? cmd + 5 : "";
    char err[400] = "";
    int rc = -EINVAL;
    if (d >= 0 && arg && *arg && strcmp(what, "kbps") == 0) {
        char *e;
        errno = 0;
        unsigned long long k = strtoull(arg, &e, 10);
        if (*e || errno || arg[0] == '-')
            snprintf(err, sizeof(err), "not a rate: %s", arg);
        else
            rc = set_limiter(r, d, k, NULL, err, sizeof(err));
    } else if (d >= 0 && arg && *arg && strcmp(what, "trace") == 0) {
        rc = set_limiter(r, d, 0, arg, err, sizeof(err));
    } else {
        snprintf(err, sizeof(err),
                 "unknown command (down-kbps N, down-trace FILE, up-kbps N, "
                 "up-trace FILE, status)");
    }
    if (rc < 0) {
        snprintf(reply, len, "error: %s", err);
        fprintf(stderr, "tafel-relay: control: %s %s: %s\n", cmd, arg ? arg : "", err);
        return;
    }
    char state[300];
    dir_state(r, d, state, sizeof(state));
    snprintf(reply, len, "ok %s %s", DIR_NAME[d], state);
    fprintf(stderr, "tafel-relay: control: %s is now %s\n", DIR_NAME[d], state);
}

static void on_control_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                            const struct sockaddr *sa, unsigned flags)
{
    relay_t *r = h->loop->data;
    (void)flags;
    if (nread <= 0 || !sa || r->stopping)
        return;
    char cmd[512], reply[1100];
    size_t n = (size_t)nread < sizeof(cmd) - 1 ? (size_t)nread : sizeof(cmd) - 1;
    memcpy(cmd, buf->base, n);
    cmd[n] = '\0';
    control_command(r, cmd, reply, sizeof(reply) - 1);
    size_t rl = strlen(reply);
    reply[rl++] = '\n';
    uv_buf_t b = uv_buf_init(reply, (unsigned)rl);
    uv_udp_try_send(h, &b, 1, sa);
}

/* ---- start and stop --------------------------------------------------------------------- */

static void shutdown_relay(relay_t *r, const char *why)
{
    if (r->stopping)
        return;
    char line[1024];
    status_line(r, line, sizeof(line), "final");
    fprintf(stderr, "%s\ntafel-relay: stopping (%s)\n", line, why);
    r->stopping = true;
    for (size_t i = 0; i < r->max_clients; i++)
        if (r->clients[i].used && !r->clients[i].closing)
            client_close(&r->clients[i]);
    uv_close((uv_handle_t *)&r->listen, NULL);
    if (r->have_control)
        uv_close((uv_handle_t *)&r->control, NULL);
    uv_close((uv_handle_t *)&r->wake, NULL);
    uv_close((uv_handle_t *)&r->tick, NULL);
    uv_close((uv_handle_t *)&r->stop, NULL);
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->sigterm, NULL);
}

static void on_stop(uv_timer_t *t)
{
    shutdown_relay(t->loop->data, "duration reached");
}

static void on_signal(uv_signal_t *s, int signum)
{
    shutdown_relay(s->loop->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- options ---------------------------------------------------------------------------- */

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (!*s || *e || errno || !(v >= lo && v <= hi))
        return -EINVAL;
    *out = v;
    return 0;
}

/* "a,b,c": between min_n and max_n numbers >= 0; returns how many or -EINVAL. */
static int parse_list(const char *s, double *v, int min_n, int max_n)
{
    int n = 0;
    for (const char *p = s;; p++) {
        char *e;
        errno = 0;
        if (n == max_n)
            return -EINVAL;
        v[n] = strtod(p, &e);
        if (e == p || errno || !(v[n] >= 0.0 && v[n] <= 1e9))
            return -EINVAL;
        n++;
        if (*e == '\0')
            break;
        if (*e != ',')
            return -EINVAL;
        p = e;
    }
    return n >= min_n ? n : -EINVAL;
}

static int parse_dir_option(relay_t *r, int d, const char *opt, const char *val)
{
    tf_impair_config_t *c = &r->cfg[d];
    double v, l[4];
    int n;
    if (strcmp(opt, "delay-ms") == 0 && parse_double(val, 0, 3600e3, &v) == 0)
        c->delay_us = (int64_t)(v * 1000.0 + 0.5);
    else if (strcmp(opt, "jitter-ms") == 0 && parse_double(val, 0, 3600e3, &v) == 0)
        c->jitter_us = (int64_t)(v * 1000.0 + 0.5);
    else if (strcmp(opt, "jitter-dist") == 0 && strcmp(val, "normal") == 0)
        c->jitter_dist = TF_IMPAIR_JITTER_NORMAL;
    else if (strcmp(opt, "jitter-dist") == 0 && strcmp(val, "uniform") == 0)
        c->jitter_dist = TF_IMPAIR_JITTER_UNIFORM;
    else if (strcmp(opt, "loss") == 0 && parse_double(val, 0, 1, &v) == 0)
        c->loss = v;
    else if (strcmp(opt, "ge") == 0 && (n = parse_list(val, l, 2, 4)) > 0 && l[0] <= 1 &&
             l[1] <= 1 && (n < 3 || l[2] <= 1) && (n < 4 || l[3] <= 1)) {
        c->ge = true;
        c->ge_p = l[0];
        c->ge_r = l[1];
        c->ge_loss_bad = n >= 3 ? l[2] : 1.0;
        c->ge_loss_good = n >= 4 ? l[3] : 0.0;
    } else if (strcmp(opt, "reorder") == 0 && (n = parse_list(val, l, 1, 2)) > 0 && l[0] <= 1 &&
               (n < 2 || (l[1] > 0 && l[1] <= 3600e3))) {
        c->reorder = l[0];
        if (n == 2)
            c->reorder_us = (int64_t)(l[1] * 1000.0 + 0.5);
    } else if (strcmp(opt, "kbps") == 0 && parse_double(val, 0, 1e8, &v) == 0) {
        c->rate_bps = (uint64_t)(v * 1000.0 + 0.5);
        tf_impair_trace_destroy(&r->trace[d]);
        c->trace = NULL;
    } else if (strcmp(opt, "trace") == 0) {
        char err[400];
        tf_impair_trace_destroy(&r->trace[d]);
        if (strlen(val) >= sizeof(r->trace_path[d]) ||
            load_trace(val, &r->trace[d], err, sizeof(err)) < 0) {
            fprintf(stderr, "tafel-relay: --%s-trace: %s\n", DIR_NAME[d],
                    strlen(val) >= sizeof(r->trace_path[d]) ? "path too long" : err);
            return -EINVAL;
        }
        snprintf(r->trace_path[d], sizeof(r->trace_path[d]), "%s", val);
        c->trace = r->trace[d];
        c->rate_bps = 0;
    } else if (strcmp(opt, "queue-ms") == 0 && parse_double(val, 0, 3600e3, &v) == 0)
        c->queue_us = (int64_t)(v * 1000.0 + 0.5);
    else if (strcmp(opt, "queue-bytes") == 0 && parse_double(val, 0, 1e12, &v) == 0)
        c->queue_bytes = (size_t)v;
    else
        return -EINVAL;
    return 0;
}

static int parse_args(relay_t *r, int argc, char **argv)
{
    bool have_listen = false, have_to = false, have_bind = false;
    double v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "tafel-relay: %s: %s\n", a,
                    strncmp(a, "--", 2) ? "unexpected argument" : "needs a value");
            return -EINVAL;
        }
        const char *val = argv[++i];
        int rc = 0;
        if (strcmp(a, "--listen") == 0)
            rc = parse_addr(val, &r->listen_addr), have_listen = true;
        else if (strcmp(a, "--to") == 0)
            rc = parse_addr(val, &r->to_addr), have_to = true;
        else if (strcmp(a, "--control") == 0)
            rc = parse_addr(val, &r->control_addr), r->have_control = true;
        else if (strcmp(a, "--upstream-bind") == 0) {
            char hp[160];
            snprintf(hp, sizeof(hp), strchr(val, ':') ? "[%s]:0" : "%s:0", val);
            rc = parse_addr(hp, &r->up_bind), have_bind = true;
        } else if (strcmp(a, "--seed") == 0 && parse_double(val, 0, 1.8e19, &v) == 0)
            r->seed = strtoull(val, NULL, 10);
        else if (strcmp(a, "--duration") == 0 && parse_double(val, 0.001, 86400, &v) == 0)
            r->duration_s = v;
        else if (strcmp(a, "--idle-timeout") == 0 && parse_double(val, 0.1, 86400, &v) == 0)
            r->idle_s = v;
        else if (strcmp(a, "--max-clients") == 0 && parse_double(val, 1, 1024, &v) == 0)
            r->max_clients = (size_t)v;
        else if (strcmp(a, "--slots") == 0 && parse_double(val, 1, 1 << 20, &v) == 0)
            r->cfg[UP].max_packets = r->cfg[DOWN].max_packets = (size_t)v;
        else if (strcmp(a, "--overhead-bytes") == 0 && parse_double(val, 0, 1024, &v) == 0)
            r->overhead = (int)v;
        else if (strcmp(a, "--max-datagram") == 0 && parse_double(val, 1, 65535, &v) == 0)
            r->cfg[UP].max_packet_bytes = r->cfg[DOWN].max_packet_bytes = (size_t)v;
        else if (strncmp(a, "--up-", 5) == 0)
            rc = parse_dir_option(r, UP, a + 5, val);
        else if (strncmp(a, "--down-", 7) == 0)
            rc = parse_dir_option(r, DOWN, a + 7, val);
        else
            rc = -EINVAL;
        if (rc < 0) {
            fprintf(stderr, "tafel-relay: bad option or value: %s %s\n", a, val);
            return -EINVAL;
        }
    }
    if (!have_listen || !have_to) {
        fprintf(stderr, "tafel-relay: --listen and --to are required\n");
        return -EINVAL;
    }
    if (!have_bind) {
        const struct sockaddr *to = (const struct sockaddr *)&r->to_addr;
        const char *ip = to->sa_family == AF_INET6
                             ? (is_loopback(to) ? "[::1]:0" : "[::]:0")
                             : (is_loopback(to) ? "127.0.0.1:0" : "0.0.0.0:0");
        parse_addr(ip, &r->up_bind);
    }
    if (r->overhead < 0)
        r->overhead = r->to_addr.ss_family == AF_INET6 ? 48 : 28;
    r->cfg[UP].overhead_bytes = r->cfg[DOWN].overhead_bytes = (size_t)r->overhead;
    if (r->up_bind.ss_family != r->to_addr.ss_family) {
        fprintf(stderr, "tafel-relay: --upstream-bind and --to differ in address family\n");
        return -EINVAL;
    }
    for (int d = 0; d < 2; d++) {
        tf_impair_t *probe = NULL;
        if (tf_impair_create(&probe, &r->cfg[d]) < 0) {
            fprintf(stderr, "tafel-relay: the %s options do not make a valid link\n", DIR_NAME[d]);
            return -EINVAL;
        }
        tf_impair_destroy(&probe);
    }
    return 0;
}

static void describe(const relay_t *r, int d)
{
    const tf_impair_config_t *c = &r->cfg[d];
    char state[300];
    dir_state(r, d, state, sizeof(state));
    fprintf(stderr,
            "tafel-relay: %s: delay %.1f ms, jitter %.1f ms %s, loss %.4f, GE %s (p %.4f r %.4f "
            "bad %.3f good %.3f), reorder %.4f (%.1f ms), %s, queue %.0f ms / %zu B, overhead %zu "
            "B\n",
            DIR_NAME[d], (double)c->delay_us / 1000.0, (double)c->jitter_us / 1000.0,
            c->jitter_dist == TF_IMPAIR_JITTER_UNIFORM ? "uniform" : "normal", c->loss,
            c->ge ? "on" : "off", c->ge_p, c->ge_r, c->ge_loss_bad, c->ge_loss_good, c->reorder,
            (double)c->reorder_us / 1000.0, state, (double)c->queue_us / 1000.0, c->queue_bytes,
            c->overhead_bytes);
}

int main(int argc, char **argv)
{
    relay_t *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    int status = 1, e = 0;
    tf_impair_config_default(&r->cfg[UP]);
    tf_impair_config_default(&r->cfg[DOWN]);
    r->seed = 1;
    r->duration_s = 600;
    r->idle_s = 60;
    r->max_clients = 16;
    r->overhead = -1;
    int rc = parse_args(r, argc, argv);
    if (rc != 0) {
        if (rc < 0)
            fputs(USAGE, stderr);
        status = rc < 0 ? 2 : 0;
        goto out;
    }
    r->clients = calloc(r->max_clients, sizeof(*r->clients));
    if (!r->clients)
        goto out;
    r->loop = uv_default_loop();
    r->loop->data = r;
    r->t0_ns = uv_hrtime();
    uv_udp_init(r->loop, &r->listen);
    uv_timer_init(r->loop, &r->wake);
    uv_timer_init(r->loop, &r->tick);
    uv_timer_init(r->loop, &r->stop);
    uv_signal_init(r->loop, &r->sigint);
    uv_signal_init(r->loop, &r->sigterm);
    if (r->have_control)
        uv_udp_init(r->loop, &r->control);
    const char *what = "--listen";
    if ((e = uv_udp_bind(&r->listen, (const struct sockaddr *)&r->listen_addr, 0)) < 0 ||
        (e = uv_udp_recv_start(&r->listen, on_alloc, on_listen_recv)) < 0)
        goto fail;
    what = "--control";
    if (r->have_control &&
        ((e = uv_udp_bind(&r->control, (const struct sockaddr *)&r->control_addr, 0)) < 0 ||
         (e = uv_udp_recv_start(&r->control, on_alloc, on_control_recv)) < 0))
        goto fail;
    what = "timers";
    if ((e = uv_timer_start(&r->tick, on_tick, 1000, 1000)) < 0 ||
        (e = uv_timer_start(&r->stop, on_stop, (uint64_t)(r->duration_s * 1000.0 + 0.5), 0)) < 0 ||
        (e = uv_signal_start(&r->sigint, on_signal, SIGINT)) < 0 ||
        (e = uv_signal_start(&r->sigterm, on_signal, SIGTERM)) < 0)
        goto fail;

    char la[80], ta[80], ca[80] = "none";
    struct sockaddr_storage ss;
    bound_name(&r->listen, &ss);
    format_addr((const struct sockaddr *)&ss, la, sizeof(la));
    format_addr((const struct sockaddr *)&r->to_addr, ta, sizeof(ta));
    if (r->have_control && bound_name(&r->control, &ss) == 0)
        format_addr((const struct sockaddr *)&ss, ca, sizeof(ca));
    fprintf(stderr,
            "tafel-relay: listening on %s, server %s, control %s, seed %llu, stops after "
            "%.1f s\n",
            la, ta, ca, (unsigned long long)r->seed, r->duration_s);
    describe(r, UP);
    describe(r, DOWN);
    uv_run(r->loop, UV_RUN_DEFAULT);
    status = 0;
    goto close;
fail:
    fprintf(stderr, "tafel-relay: %s: %s\n", what, uv_strerror(e));
    shutdown_relay(r, "start-up failed");
    uv_run(r->loop, UV_RUN_DEFAULT);
close:
    if (uv_loop_close(r->loop) != 0)
        fprintf(stderr, "tafel-relay: handles left open\n");
out:
    if (r->clients)
        for (size_t i = 0; i < r->max_clients; i++)
            for (int d = 0; d < 2; d++)
                tf_impair_destroy(&r->clients[i].link[d]);
    for (int d = 0; d < 2; d++)
        tf_impair_trace_destroy(&r->trace[d]);
    free(r->clients);
    free(r);
    return status;
}
