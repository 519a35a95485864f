/* net.c — tafel-load's HTTP/1.1 and WebSocket client connections on libuv TCP: one request per
 * connection (WHIP POST and DELETE, /api/stats) and the room WebSocket. Parsing is http_msg.c's;
 * this file only moves bytes. No TLS: the generator talks to `tafel serve --tls off` on loopback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/load/load.h"

#define RX_MAX (1u << 20)

struct lg_http {
    lg_t *lg;
    uv_tcp_t tcp;
    uv_connect_t conn;
    char *req;
    size_t req_len;
    char *rx;
    size_t rx_len, rx_cap;
    bool ws, upgraded, closing, done;
    lg_http_cb cb; /* request: the response; ws: on close */
    lg_ws_cb on_text;
    void *arg;
};

static void on_closed(uv_handle_t *h)
{
    lg_http_t *c = h->data;
    free(c->req);
    free(c->rx);
    free(c);
}

static void conn_close(lg_http_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void finish(lg_http_t *c, const tf_load_http_resp_t *r)
{
    if (c->done)
        return;
    c->done = true;
    if (c->cb)
        c->cb(c, r, c->arg);
    conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    lg_http_t *c = h->data;
    if (c->rx_cap - c->rx_len < 4096 && c->rx_cap < RX_MAX) {
        size_t ncap = c->rx_cap ? c->rx_cap * 2 : 8192;
        char *n = realloc(c->rx, ncap);
        if (n) {
            c->rx = n;
            c->rx_cap = ncap;
        }
    }
    *buf = uv_buf_init(c->rx + c->rx_len, (unsigned)(c->rx_cap - c->rx_len));
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static int send_bytes(lg_http_t *c, const void *data, size_t len)
{
    uv_write_t *w = malloc(sizeof(*w));
    char *copy = malloc(len);
    if (!w || !copy) {
        free(w);
        free(copy);
        return -ENOMEM;
    }
    memcpy(copy, data, len);
    w->data = copy;
    uv_buf_t b = uv_buf_init(copy, (unsigned)len);
    int e = uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (e < 0) {
        free(copy);
        free(w);
    }
    return e;
}

static void ws_frames(lg_http_t *c)
{
    size_t off = 0;
    for (;;) {
        tf_load_ws_frame_t f;
        int n = tf_load_ws_parse((uint8_t *)c->rx + off, c->rx_len - off, &f);
        if (n == -EAGAIN)
            break;
        if (n < 0 || f.opcode == 8) {
            finish(c, NULL);
            return;
        }
        if (f.opcode == 9) { /* ping -> pong */
            uint8_t out[160];
            int m = tf_load_ws_build(10, f.payload, f.len, (uint32_t)rand(), out, sizeof(out));
            if (m > 0)
                send_bytes(c, out, (size_t)m);
        } else if (f.opcode == 1 && f.fin && c->on_text) {
            c->on_text(c, (const char *)f.payload, f.len, c->arg);
        }
        off += (size_t)n;
        if (c->closing)
            return;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    lg_http_t *c = s->data;
    if (c->closing)
        return;
    if (n > 0)
        c->rx_len += (size_t)n;
    if (c->upgraded) {
        if (n < 0)
            finish(c, NULL);
        else
            ws_frames(c);
        return;
    }
    tf_load_http_resp_t r;
    int e = tf_load_http_parse(c->rx, c->rx_len, n < 0, &r);
    if (e == -EAGAIN && n >= 0 && c->rx_len < RX_MAX)
        return;
    if (e < 0) {
        finish(c, NULL);
        return;
    }
    if (c->ws) {
        if (r.status != 101 || !r.upgrade) {
            finish(c, NULL);
            return;
        }
        c->upgraded = true;
        memmove(c->rx, c->rx + e, c->rx_len - (size_t)e);
        c->rx_len -= (size_t)e;
        ws_frames(c);
        return;
    }
    finish(c, &r);
}

static void on_connect(uv_connect_t *req, int status)
{
    lg_http_t *c = req->data;
    if (status < 0 || send_bytes(c, c->req, c->req_len) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        finish(c, NULL);
}

static lg_http_t *start(lg_t *lg, char *req, size_t len, void *arg)
{
    lg_http_t *c = calloc(1, sizeof(*c));
    if (!c) {
        free(req);
        return NULL;
    }
    c->lg = lg;
    c->req = req;
    c->req_len = len;
    c->arg = arg;
    c->tcp.data = c;
    c->conn.data = c;
    if (uv_tcp_init(lg->loop, &c->tcp) < 0) {
        free(req);
        free(c);
        return NULL;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_tcp_connect(&c->conn, &c->tcp, (const struct sockaddr *)&lg->http, on_connect) < 0) {
        c->done = true;
        conn_close(c);
        return NULL;
    }
    return c;
}

static int request_to(lg_t *lg, const char *method, const char *path, const char *ctype,
                      const char *body, size_t body_len, lg_http_cb cb, void *arg, lg_http_t **out);

lg_http_t *lg_http_open(lg_t *lg, const char *method, const char *path, const char *ctype,
                        const char *body, size_t body_len, lg_http_cb cb, void *arg)
{
    lg_http_t *c = NULL;
    if (request_to(lg, method, path, ctype, body, body_len, cb, arg, &c) < 0)
        return NULL;
    return c;
}

int lg_http_request(lg_t *lg, const char *method, const char *path, const char *ctype,
                    const char *body, size_t body_len, lg_http_cb cb, void *arg)
{
    return request_to(lg, method, path, ctype, body, body_len, cb, arg, NULL);
}

static int request_to(lg_t *lg, const char *method, const char *path, const char *ctype,
                      const char *body, size_t body_len, lg_http_cb cb, void *arg, lg_http_t **out)
{
    size_t cap = 512 + strlen(path) + body_len;
    char *req = malloc(cap);
    if (!req)
        return -ENOMEM;
    char host[64];
    uv_ip4_name(&lg->http, host, sizeof(host));
    int n = snprintf(req, cap,
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                     "%s%s%sContent-Length: %zu\r\n\r\n",
                     method, path, host, ntohs(lg->http.sin_port), ctype ? "Content-Type: " : "",
                     ctype ? ctype : "", ctype ? "\r\n" : "", body_len);
    if (n < 0 || (size_t)n + body_len > cap) {
        free(req);
        return -ENOBUFS;
    }
    if (body_len)
        memcpy(req + n, body, body_len);
    lg_http_t *c = start(lg, req, (size_t)n + body_len, arg);
    if (!c)
        return -EIO;
    c->cb = cb;
    if (out)
        *out = c;
    return 0;
}

lg_http_t *lg_ws_open(lg_t *lg, const char *session, lg_ws_cb on_text, lg_http_cb on_close,
                      void *arg)
{
    char *req = malloc(1024);
    if (!req)
        return NULL;
    char host[64];
    uv_ip4_name(&lg->http, host, sizeof(host));
    /* The key is a nonce (RFC 6455 §4.1); the server's accept value is not checked: this is a
     * load generator against a known server, not a browser. */
    int n = snprintf(req, 1024,
                     "GET /ws?session=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGFmZWwtbG9hZC1rZXkxMg==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: tafel-room\r\n\r\n",
                     session, host, ntohs(lg->http.sin_port));
    lg_http_t *c = start(lg, req, (size_t)n, arg);
    if (!c)
        return NULL;
    c->ws = true;
    c->on_text = on_text;
    c->cb = on_close;
    return c;
}

void lg_ws_close(lg_http_t **h)
{
    if (!h || !*h)
        return;
    (*h)->cb = NULL;
    (*h)->on_text = NULL;
    (*h)->done = true;
    conn_close(*h);
    *h = NULL;
}
