/* api_internal.h — state and helpers shared by api_auth.c and api_rooms.c. Not for other files. */
#ifndef TF_API_INTERNAL_H
#define TF_API_INTERNAL_H

#include <stdint.h>

#include "server/api.h"
#include "server/auth_oidc.h"
#include "server/lobby.h"
#include "server/ratelimit.h"
#include "server/store.h"
#include "server/websession.h"

#define TF_API_SESSION_IDLE_S (2 * 3600)
#define TF_API_SESSION_ABSOLUTE_S (12 * 3600)
/* Wrong PINs allowed in five minutes: from one address for one room (a school behind one NAT
 * address must not lock every class out because one pupil mistyped), for one room from anywhere
 * (distributed guessing), and from one address over all rooms (scanning links). */
#define TF_API_PIN_TRIES 5
#define TF_API_PIN_ROOM_TRIES 30
#define TF_API_PIN_ADDR_TRIES 50
#define TF_API_PIN_WINDOW_S 300
#define TF_API_LOGIN_TRIES 10    /* wrong passwords per address in the same window */

typedef struct tf_api_participant {
    char room[65];
    char session[64];
    char name[65];
    int role;
} tf_api_participant_t;

struct tf_api {
    tf_server_t *srv;
    tf_store_t *store; /* the loop thread's connection; NULL without auth */
    char db_path[600];
    tf_websession_table_t *sessions;
    tf_ratelimit_t *pin_addr, *pin_room, *pin_any, *login_addr;
    tf_lobby_t *lobby;
    tf_oidc_t *oidc;         /* NULL: OpenID Connect login off */
    tf_lobby_t *oidc_states; /* state -> nonce of login attempts, single use (10 min) */
    tf_api_participant_t *people;
    int n_people, cap_people;
    uv_timer_t audit_timer; /* daily audit pruning (audit-retention-days); with auth only */
    int audit_timer_on;
};

int64_t tf__api_now(void);
/* A JSON reply from a printf format (the caller escapes strings). */
void tf__api_json(tf_http_reply_t *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 when Origin is absent or names this server (Host). */
int tf__api_origin_ok(const tf_http_request_t *req);
/* The teacher's session from the Cookie header, or NULL. */
tf_websession_t *tf__api_session(tf_api_t *api, const tf_http_request_t *req);

/* Per-file routers: 1 when handled. */
int tf__api_auth_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out);
int tf__api_support_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out);
int tf__api_oidc_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out);
int tf__api_oidc_start(tf_api_t *api); /* from tf_api_create: reads the JWKS. 0 or -errno */
/* A teacher who just proved who they are (OIDC): their store record, created on first login
 * with their room. 0, -EACCES (disabled), -EIO. */
int tf__api_teacher_for(tf_api_t *api, const char *email, const char *name, tf_store_teacher_t *t,
                        tf_store_room_t *room);
int tf__api_rooms_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out);

#endif
