/* http.c — libwebsockets HTTP(S) on the server's uv_loop_t: collects requests (bounded bodies),
 * hands them to one handler, serves the embedded web client, writes replies. No WHIP or room
 * logic here. */
#include "server/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "server/log.h"
#include "server/web_assets.h"

struct tf_http {
    struct lws_context *ctx;
    const tf_config_t *cfg;
    tf_http_handler_fn handler;
    tf_ws_handlers_t ws;
    void *hctx;
    int destroying;
    int tls;
};

#define WS_QUEUE 32
/* A browser message larger than the 4 KB receive buffer arrives in pieces (and a client may send
 * WebSocket fragments): they are joined up to this size; a larger message closes the socket
 * with 1009 "message too big" rather than being cut or ignored. */
#define WS_MAX_MESSAGE 65536

struct tf_ws_conn {
    struct lws *wsi;
    tf_http_t *h;
    void *owner;
    int closing;
    char *queue[WS_QUEUE];
    int head, len;
    char *rx;           /* the message being received: rx_len bytes so far */
    size_t rx_len, rx_cap;
    int rx_active, rx_binary;
};

/* Appends one received piece; 1 when a whole message is in c->rx, 0 when more is to come,
 * -EMSGSIZE when the message outgrows WS_MAX_MESSAGE, -ENOMEM. */
static int ws_rx_piece(tf_ws_conn_t *c, struct lws *wsi, const void *in, size_t len)
{
    if (!c->rx_active) {
        c->rx_active = 1;
        c->rx_len = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
    }
    if (len > WS_MAX_MESSAGE - c->rx_len)
        return -EMSGSIZE;
    if (c->rx_len + len + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len + 1)
            cap *= 2;
        char *n = realloc(c->rx, cap);
        if (!n)
            return -ENOMEM;
        c->rx = n;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    c->rx[c->rx_len] = '\0';
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    c->rx_active = 0;
    return 1;
}

struct tf_http_async {
    struct lws *wsi;
    struct pss *p; /* NULL once the connection is gone */
};

typedef struct pss {
    char method[8];
    char path[256];
    char query[512];
    char content_type[128];
    char authorization[2048];
    char peer[64];
    char cookie[1024];
    char origin[256];
    char host[256];
    char csrf[128];
    char *body;
    size_t len, cap;
    int too_large;
    tf_http_reply_t reply;
    const unsigned char *static_data; /* an embedded asset: not freed */
    size_t sent;
    int replying;
    tf_http_async_t *async; /* a deferred reply is being worked on */
    int reply_ready;        /* tf_http_finish filled reply: start it when writable */
} pss_t;

static tf_http_t *from_wsi(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

void tf_http_json_error(tf_http_reply_t *out, int status, const char *code, const char *detail)
{
    out->status = status;
    out->content_type = "application/json";
    /* detail is ours, but may quote user input: keep the JSON valid. */
    char esc[600];
    size_t j = 0;
    for (size_t i = 0; detail && detail[i] && j < sizeof(esc) - 7; i++) {
        unsigned char ch = (unsigned char)detail[i];
        if (ch == '"' || ch == '\\') {
            esc[j++] = '\\';
            esc[j++] = (char)ch;
        } else if (ch < 0x20) {
            j += (size_t)snprintf(esc + j, sizeof(esc) - j, "\\u%04x", ch);
        } else {
            esc[j++] = (char)ch;
        }
    }
    esc[j] = '\0';
    size_t cap = strlen(code) + j + 64;
    out->body = malloc(cap);
    out->len = out->body ? (size_t)snprintf(out->body, cap, "{\"error\": \"%s\", \"detail\": \"%s\"}\n",
                                            code, esc)
                         : 0;
}

static const tf_web_asset_t *find_asset(const char *path)
{
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (const tf_web_asset_t *a = tf_web_assets; a->path; a++)
        if (!strcmp(a->path, path))
            return a;
    return NULL;
}

static int start_reply(struct lws *wsi, pss_t *p)
{
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *q = start,
                                       *end = buf + sizeof(buf) - 1;
    tf_http_reply_t *r = &p->reply;
    p->replying = 1;
    if (lws_add_http_common_headers(wsi, (unsigned int)r->status,
                                    r->content_type ? r->content_type : "text/plain",
                                    (lws_filepos_t)r->len, &q, end))
        return -1;
    if (r->location[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"location:",
                                    (const unsigned char *)r->location, (int)strlen(r->location),
                                    &q, end))
        return -1;
    if (r->set_cookie[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                    (const unsigned char *)r->set_cookie,
                                    (int)strlen(r->set_cookie), &q, end))
        return -1;
    if (r->retry_after > 0) {
        char ra[24];
        int n = snprintf(ra, sizeof(ra), "%ld", r->retry_after);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
                                        (const unsigned char *)ra, n, &q, end))
            return -1;
    }
    static const char *const extra[][2] = {
        {"cache-control:", "no-store"},
        {"access-control-allow-origin:", "*"},
        {"access-control-expose-headers:", "Location"},
    };
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)extra[i][0],
                                        (const unsigned char *)extra[i][1],
                                        (int)strlen(extra[i][1]), &q, end))
            return -1;
    if (!strcmp(p->method, "OPTIONS")) {
        const char *allow = "GET, POST, DELETE, OPTIONS";
        const char *hdrs = "Content-Type, Authorization";
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-methods:",
                                        (const unsigned char *)allow, (int)strlen(allow), &q, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-headers:",
                                        (const unsigned char *)hdrs, (int)strlen(hdrs), &q, end))
            return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &q, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static void copy_hdr(struct lws *wsi, char *dst, int len, enum lws_token_indexes tok)
{
    dst[0] = '\0';
    if (lws_hdr_total_length(wsi, tok) > 0 && lws_hdr_copy(wsi, dst, len, tok) < 0)
        dst[0] = '\0';
}

static int dispatch(struct lws *wsi, pss_t *p)
{
    tf_http_t *h = from_wsi(wsi);
    tf_http_request_t req = {
        .method = p->method, .path = p->path, .query = p->query,
        .content_type = p->content_type, .authorization = p->authorization,
        .body = p->body ? p->body : "", .len = p->len, .peer = p->peer,
        .cookie = p->cookie, .origin = p->origin, .host = p->host, .csrf = p->csrf,
        .tls = h->tls, .internal = p,
    };
    tf_http_reply_t *r = &p->reply;
    if (p->too_large) {
        char d[96];
        snprintf(d, sizeof(d), "request bodies are limited to %d bytes", h->cfg->max_body);
        tf_http_json_error(r, 413, "body-too-large", d);
    } else if (!strcmp(p->method, "OPTIONS")) {
        r->status = 204;
    } else if (!h->handler(h->hctx, &req, r)) {
        const tf_web_asset_t *a = !strcmp(p->method, "GET") ? find_asset(p->path) : NULL;
        if (a) {
            r->status = 200;
            r->content_type = a->mime;
            p->static_data = a->data;
            r->len = a->size;
        } else if (!strcmp(p->method, "GET")) {
            tf_http_json_error(r, 404, "not-found", p->path);
        } else {
            tf_http_json_error(r, 405, "method-not-allowed", p->method);
        }
    }
    if (p->async)
        return 0; /* tf_http_finish answers */
    if (r->status >= 400)
        tf_log(TF_LOG_INFO, "http: %s %s -> %d", p->method, tf_log_path(p->path), r->status);
    return start_reply(wsi, p);
}

static int begin_request(struct lws *wsi, pss_t *p, const char *uri)
{
    static const struct {
        enum lws_token_indexes tok;
        const char *name;
    } methods[] = {
        {WSI_TOKEN_GET_URI, "GET"},
        {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_DELETE_URI, "DELETE"},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    };
    tf_http_t *h = from_wsi(wsi);
    memset(p, 0, sizeof(*p));
    snprintf(p->method, sizeof(p->method), "?");
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0)
            snprintf(p->method, sizeof(p->method), "%s", methods[i].name);
    snprintf(p->path, sizeof(p->path), "%s", uri ? uri : "/");
    copy_hdr(wsi, p->query, sizeof(p->query), WSI_TOKEN_HTTP_URI_ARGS);
    copy_hdr(wsi, p->content_type, sizeof(p->content_type), WSI_TOKEN_HTTP_CONTENT_TYPE);
    copy_hdr(wsi, p->authorization, sizeof(p->authorization), WSI_TOKEN_HTTP_AUTHORIZATION);
    copy_hdr(wsi, p->cookie, sizeof(p->cookie), WSI_TOKEN_HTTP_COOKIE);
    copy_hdr(wsi, p->origin, sizeof(p->origin), WSI_TOKEN_ORIGIN);
    copy_hdr(wsi, p->host, sizeof(p->host), WSI_TOKEN_HOST);
    if (!p->host[0])
        copy_hdr(wsi, p->host, sizeof(p->host), WSI_TOKEN_HTTP_COLON_AUTHORITY);
    if (lws_hdr_custom_length(wsi, "x-csrf-token:", 13) > 0 &&
        lws_hdr_custom_copy(wsi, p->csrf, sizeof(p->csrf), "x-csrf-token:", 13) < 0)
        p->csrf[0] = '\0';
    lws_get_peer_simple(wsi, p->peer, sizeof(p->peer));
    if (strcmp(p->method, "POST") != 0)
        return dispatch(wsi, p);
    char cl[32], te[32];
    copy_hdr(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
    copy_hdr(wsi, te, sizeof(te), WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    if ((!cl[0] && !te[0]) || (cl[0] && strtoll(cl, NULL, 10) == 0))
        return dispatch(wsi, p); /* no body follows */
    if (cl[0] && strtoll(cl, NULL, 10) > h->cfg->max_body) {
        p->too_large = 1;
        return dispatch(wsi, p);
    }
    return 0; /* the body follows */
}

static int on_body(struct lws *wsi, pss_t *p, const void *in, size_t len)
{
    tf_http_t *h = from_wsi(wsi);
    if (p->replying || p->too_large)
        return 0;
    if (p->len + len > (size_t)h->cfg->max_body) {
        p->too_large = 1;
        return 0;
    }
    if (p->len + len + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + len + 1)
            cap *= 2;
        char *nb = realloc(p->body, cap);
        if (!nb)
            return -1;
        p->body = nb;
        p->cap = cap;
    }
    memcpy(p->body + p->len, in, len);
    p->len += len;
    p->body[p->len] = '\0';
    return 0;
}

tf_http_async_t *tf_http_defer(const tf_http_request_t *req)
{
    pss_t *p = req->internal;
    if (!p || p->async)
        return NULL;
    tf_http_async_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->p = p;
    p->async = a;
    return a;
}

/* Records the wsi for a deferral made inside dispatch (the handler only sees the request). */
static void bind_async(struct lws *wsi, pss_t *p)
{
    if (p->async)
        p->async->wsi = wsi;
}

void tf_http_finish(tf_http_async_t *a, tf_http_reply_t *reply)
{
    pss_t *p = a ? a->p : NULL;
    if (!p) { /* the client is gone (or the deferral never happened) */
        free(reply->body);
        reply->body = NULL;
        free(a);
        return;
    }
    p->reply = *reply;
    reply->body = NULL;
    p->async = NULL;
    p->reply_ready = 1;
    lws_callback_on_writable(a->wsi);
    free(a);
}

static int on_writable(struct lws *wsi, pss_t *p)
{
    if (p->reply_ready && !p->replying) {
        p->reply_ready = 0;
        if (p->reply.status >= 400)
            tf_log(TF_LOG_INFO, "http: %s %s -> %d", p->method, tf_log_path(p->path),
                   p->reply.status);
        return start_reply(wsi, p);
    }
    if (!p->replying)
        return 0;
    const unsigned char *src = p->static_data ? p->static_data
                                              : (const unsigned char *)p->reply.body;
    size_t left = p->reply.len - p->sent, chunk = left > 16384 ? 16384 : left;
    unsigned char buf[LWS_PRE + 16384];
    if (chunk)
        memcpy(buf + LWS_PRE, src + p->sent, chunk);
    int final = chunk == left;
    if (lws_write(wsi, buf + LWS_PRE, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        (int)chunk)
        return -1;
    p->sent += chunk;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(p->reply.body);
    free(p->body);
    memset(p, 0, sizeof(*p));
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    pss_t *p = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        int rc = begin_request(wsi, p, in);
        bind_async(wsi, p);
        return rc;
    }
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(wsi, p, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        int rc = p->replying || p->async ? 0 : dispatch(wsi, p);
        bind_async(wsi, p);
        return rc;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, p);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (p) {
            if (p->async)
                p->async->p = NULL; /* tf_http_finish will only free */
            free(p->reply.body);
            free(p->body);
            memset(p, 0, sizeof(*p));
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

int tf_ws_send(tf_ws_conn_t *c, const char *text)
{
    if (!c || c->closing)
        return 0;
    char *copy = strdup(text);
    if (!copy)
        return -ENOMEM;
    if (c->len == WS_QUEUE) { /* the browser is not reading: drop the oldest */
        free(c->queue[c->head]);
        c->head = (c->head + 1) % WS_QUEUE;
        c->len--;
    }
    c->queue[(c->head + c->len) % WS_QUEUE] = copy;
    c->len++;
    lws_callback_on_writable(c->wsi);
    return 0;
}

void tf_ws_close(tf_ws_conn_t *c)
{
    if (!c)
        return;
    c->closing = 1;
    c->owner = NULL;
    lws_callback_on_writable(c->wsi);
}

static void ws_free(tf_ws_conn_t *c)
{
    free(c->rx);
    while (c->len) {
        free(c->queue[c->head]);
        c->head = (c->head + 1) % WS_QUEUE;
        c->len--;
    }
    free(c);
}

typedef struct ws_pss {
    tf_ws_conn_t *conn;
} ws_pss_t;

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    ws_pss_t *p = user;
    tf_http_t *h = from_wsi(wsi);
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: {
        char arg[96] = "";
        const char *id = lws_get_urlarg_by_name(wsi, "session=", arg, sizeof(arg));
        if (!id)
            id = ""; /* lws returns a pointer past "session=" inside arg */
        p->conn = calloc(1, sizeof(*p->conn));
        if (!p->conn)
            return -1;
        p->conn->wsi = wsi;
        p->conn->h = h;
        p->conn->owner = h->ws.open ? h->ws.open(h->hctx, p->conn, id) : NULL;
        if (!p->conn->owner) {
            tf_log(TF_LOG_INFO, "ws: no session '%s'", id);
            ws_free(p->conn);
            p->conn = NULL;
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        tf_ws_conn_t *c = p->conn;
        if (!c || !c->owner || !h->ws.message)
            return 0;
        int e = ws_rx_piece(c, wsi, in, len);
        if (e == -EMSGSIZE) {
            static const char why[] = "messages are limited to 64 KB";
            tf_log(TF_LOG_INFO, "ws: a message over %d bytes: closing", WS_MAX_MESSAGE);
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                             sizeof(why) - 1);
            return -1;
        }
        if (e < 0)
            return -1;
        if (e == 1 && !c->rx_binary)
            h->ws.message(h->hctx, c->owner, c->rx, c->rx_len);
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        tf_ws_conn_t *c = p->conn;
        if (!c)
            return -1;
        if (c->len) {
            char *msg = c->queue[c->head];
            size_t n = strlen(msg);
            unsigned char *buf = malloc(LWS_PRE + n);
            if (!buf)
                return -1;
            memcpy(buf + LWS_PRE, msg, n);
            int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
            free(buf);
            free(msg);
            c->head = (c->head + 1) % WS_QUEUE;
            c->len--;
            if (w < (int)n)
                return -1;
            if (c->len)
                lws_callback_on_writable(wsi);
            return 0;
        }
        return c->closing ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (p->conn) {
            if (p->conn->owner && h->ws.close)
                h->ws.close(h->hctx, p->conn->owner);
            ws_free(p->conn);
            p->conn = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(pss_t), 0, 0, NULL, 0},
    {"tafel-room", ws_callback, sizeof(ws_pss_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        n--;
    char copy[512];
    snprintf(copy, sizeof(copy), "%.*s", (int)n, line);
    tf_log_scrub_line(copy); /* library messages may name a client's address */
    tf_log(level == LLL_ERR ? TF_LOG_ERROR : TF_LOG_WARN, "lws: %s", copy);
}

int tf_http_start(tf_http_t **out, uv_loop_t *loop, const tf_config_t *cfg, const char *cert,
                  const char *key, tf_http_handler_fn handler, const tf_ws_handlers_t *ws,
                  void *ctx)
{
    *out = NULL;
    tf_http_t *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->cfg = cfg;
    h->handler = handler;
    if (ws)
        h->ws = *ws;
    h->hctx = ctx;
    h->tls = cert && key;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    void *loops[1] = {loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
                   LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    info.foreign_loops = loops;
    info.port = cfg->http_port;
    info.iface = cfg->http_addr;
    info.protocols = protocols;
    info.user = h;
    info.pcontext = &h->ctx;
    info.max_http_header_data = 4096;
    info.timeout_secs = 20;
    if (cert && key) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cert;
        info.ssl_private_key_filepath = key;
    }
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        free(h);
        return -EADDRINUSE;
    }
    *out = h;
    return 0;
}

void tf_http_stop(tf_http_t *h)
{
    if (h && h->ctx && !h->destroying) {
        h->destroying = 1;
        lws_context_destroy(h->ctx);
    }
}

void tf_http_destroy(tf_http_t **hp)
{
    tf_http_t *h = *hp;
    if (!h)
        return;
    *hp = NULL;
    if (h->ctx)
        lws_context_destroy(h->ctx); /* the second round (TOOLCHAIN-NOTES) */
    free(h);
}
