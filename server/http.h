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
    char location[256];       /* "" = no Location header */
    char *body;
    size_t len;
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
} tf_http_request_t;

/* Returns 1 when it handled the request (reply filled), 0 to fall through to static files. */
typedef int (*tf_http_handler_fn)(void *ctx, const tf_http_request_t *req, tf_http_reply_t *out);

typedef struct tf_http tf_http_t;

/* Starts serving on loop. cert/key: PEM paths for TLS (NULL for plain HTTP). 0 or -errno. */
int tf_http_start(tf_http_t **out, uv_loop_t *loop, const tf_config_t *cfg, const char *cert,
                  const char *key, tf_http_handler_fn handler, void *ctx);

/* Begins the two-step shutdown libwebsockets needs on a foreign loop; call, run the loop until
 * it has nothing left, then tf_http_destroy(). */
void tf_http_stop(tf_http_t *h);
void tf_http_destroy(tf_http_t **h);

/* Helper for handlers: a JSON error {"error": code, "detail": detail}. */
void tf_http_json_error(tf_http_reply_t *out, int status, const char *code, const char *detail);

#endif
