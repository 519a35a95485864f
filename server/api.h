/* api.h — the accounts layer of `tafel serve` (issue 6): teacher login and cookie sessions
 * (api_auth.c), personal rooms' PIN join, lobby, join tokens and the teacher's REST controls
 * (api_rooms.c). Authorization lives here; what a moderation action does is moderate.h's. */
#ifndef TF_API_H
#define TF_API_H

#include <stddef.h>

#include "server/http.h"
#include "server/server.h"

typedef struct tf_api tf_api_t;

/* With cfg.auth: opens DATA_DIR/tafel.db (creating DATA_DIR) on the loop thread. 0 or -errno. */
int tf_api_create(tf_api_t **api, tf_server_t *srv);
void tf_api_destroy(tf_api_t **api);

/* For /readyz: 0 when the account store answers a query (a read of its schema version on the
 * loop thread's connection), -EIO when it does not, -ENOENT when there is no store (auth off). */
int tf_api_store_check(tf_api_t *api);

/* Routes /api/login, /api/logout, /api/me, /api/rooms/..., /r/SLUG. 1 when handled. */
int tf_api_handle(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out);

/* WHIP POST gate. With cfg.auth the request must carry "Authorization: Bearer TOKEN", a join
 * token for room; its name and role replace whatever the query said. Without auth, the name
 * is the caller's and the role tf_session_dev_role's. Also refuses pupils of a locked room and
 * joins beyond the room's participant limit. 0, or -1 with out filled (401/409/423). */
int tf_api_whip_gate(tf_server_t *srv, const char *room, const tf_http_request_t *req, char *name,
                     size_t name_cap, int *role, tf_http_reply_t *out);
/* After a successful WHIP join: remembers the participant for the teacher's list. */
void tf_api_whip_joined(tf_server_t *srv, const char *room, const char *session_id,
                        const char *name, int role);

#endif
