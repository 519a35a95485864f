/* session.h — one browser connected through WHIP: its transport (tf_peer) on the shared UDP
 * socket, its negotiated media, and (for now) the echo room behaviour. */
#ifndef TF_SESSION_H
#define TF_SESSION_H

#include <stddef.h>

#include "server/rtc/sdp.h"
#include "server/server.h"

#define TF_SESSION_ID_LEN 24

/* Creates a session for a parsed offer in room; writes the SDP answer into answer[0..cap).
 * On failure returns a negative errno, an HTTP status in *status and a reason in err. */
int tf_session_create(tf_session_t **out, tf_server_t *srv, const char *room, const char *name,
                      const tf_sdp_t *offer, char *answer, size_t cap, int *status, char *err,
                      size_t errlen);

/* Ends the session (DTLS close_notify when connected) and frees it once libuv lets go. */
void tf_session_close(tf_session_t *s, const char *why);

/* One datagram routed to this session. */
void tf_session_input(tf_session_t *s, const tf_addr_t *from, uint8_t *buf, size_t len);

tf_session_t *tf_session_find(tf_server_t *srv, const char *room, const char *id);
tf_session_t *tf_session_find_by_ufrag(tf_server_t *srv, const char *ufrag, size_t len);
int tf_session_room_count(tf_server_t *srv, const char *room);
const char *tf_session_id(const tf_session_t *s);

/* A packet or event from the session's room worker (plain RTP/RTCP: protected and sent here). */
void tf_session_from_room(tf_session_t *s, const tf_msg_t *m);
tf_session_t *tf_session_by_member(tf_server_t *srv, uint32_t member);
/* An event for every session in room. */
void tf_session_broadcast(tf_server_t *srv, const char *room, const tf_msg_t *m);

/* tf_ws_handlers_t callbacks: a browser opens /ws?session=ID for its room events. */
void *tf_session_ws_open(void *ctx, tf_ws_conn_t *conn, const char *id);
void tf_session_ws_close(void *ctx, void *owner);
void tf_session_ws_message(void *ctx, void *owner, const char *text, size_t len);

/* The session's figures as JSON (malloc'd), for GET on its WHIP resource. */
char *tf_session_stats_json(const tf_session_t *s, size_t *len);

#endif
