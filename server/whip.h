/* whip.h — the HTTP API handler of `tafel serve` (WHIP join/leave, session figures, health). */
#ifndef TF_WHIP_H
#define TF_WHIP_H

#include "server/http.h"

/* A tf_http_handler_fn; ctx is the tf_server_t. */
int tf_whip_handle(void *ctx, const tf_http_request_t *req, tf_http_reply_t *out);

#endif
