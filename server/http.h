/* http.h — HTTP(S) for `tafel serve` on libwebsockets, running on the server's own uv_loop_t:
 * the embedded web client, the WHIP endpoints and small JSON APIs. Routing and body collection
 * live here; what a request means is the caller's (handlers below). */
#ifndef TF_HTTP_H
#define TF_HTTP_H

#include <stddef.h>
#include <uv.h>

#include "server/config.h"

/* A reply a handler fills. body is malloc'd by the handler and freed by the HTTP layer. */
typedef struct tf_http_reply {
    int status;
    const char *content_type; /* static string */
    char location[2048];      /* "" = no Location header */
    char *body;
    size_t len;
    char set_cookie[512];     /* "" = no Set-Cookie header */
    long retry_after;         /* > 0: a Retry-After header (seconds) */
} tf_http_reply_t;

typedef struct tf_http_request {
    const char *method; /* "GET", "POST", "DELETE", "OPTIONS" */
    const char *path;   /* without the query */
    const char *query;  /* raw query string, "" when none */
    const char *content_type;
    const char *authorization;
    const char *body;   /* NUL-terminated copy; len bytes */
    size_t len;
    const char *peer;   /* client address as text */
    const char *cookie; /* the Cookie header, "" when none */
    const char *origin; /* the Origin header, "" when none */
    const char *host;   /* the Host header (":authority" on HTTP/2) */
    const char *csrf;   /* the X-CSRF-Token header, "" when none */
    int tls;            /* 1 when the request came over HTTPS */
    void *internal;     /* http.c's: for tf_http_defer */
} tf_http_request_t;

/* Returns 1 when it handled the request (reply filled), 0 to fall through to static files. */
typedef int (*tf_http_handler_fn)(void *ctx, const tf_http_request_t *req, tf_http_reply_t *out);

typedef struct tf_http tf_http_t;

/* A reply that comes later (work on the libuv thread pool). A handler calls tf_http_defer(req),
 * returns 1 without filling its reply, and later calls tf_http_finish exactly once on the loop
 * thread; finish takes reply->body. If the client went away meanwhile, finish only frees. */
typedef struct tf_http_async tf_http_async_t;
tf_http_async_t *tf_http_defer(const tf_http_request_t *req); /* NULL: out of memory */
void tf_http_finish(tf_http_async_t *a, tf_http_reply_t *reply);

/* WebSocket connections (subprotocol "tafel-room", URL /ws?session=ID): room events to the
 * browser. The HTTP layer owns the connection; its owner (a session) gets open/close calls. */
typedef struct tf_ws_conn tf_ws_conn_t;
typedef struct tf_ws_handlers {
    /* A new connection for session_id: return its owner, or NULL to refuse (closes it). */
    void *(*open)(void *ctx, tf_ws_conn_t *conn, const char *session_id);
    /* A text message from the browser. */
    void (*message)(void *ctx, void *owner, const char *text, size_t len);
    /* The connection is gone; the owner must forget conn. */
    void (*close)(void *ctx, void *owner);
} tf_ws_handlers_t;

/* Queues a text message (copied); a slow browser loses the oldest queued messages, never the
 * newest. 0, -ENOMEM. */
int tf_ws_send(tf_ws_conn_t *conn, const char *text);
/* Closes from the server side; no close callback follows. */
void tf_ws_close(tf_ws_conn_t *conn);

/* Starts serving on loop. cert/key: PEM paths for TLS (NULL for plain HTTP). 0 or -errno. */
int tf_http_start(tf_http_t **out, uv_loop_t *loop, const tf_config_t *cfg, const char *cert,
                  const char *key, tf_http_handler_fn handler, const tf_ws_handlers_t *ws,
                  void *ctx);

/* Begins the two-step shutdown libwebsockets needs on a foreign loop; call, run the loop until
 * it has nothing left, then tf_http_destroy(). */
void tf_http_stop(tf_http_t *h);
void tf_http_destroy(tf_http_t **h);

/* Helper for handlers: a JSON error {"error": code, "detail": detail}. */
void tf_http_json_error(tf_http_reply_t *out, int status, const char *code, const char *detail);

#endif
