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

/* Roles in a room (school accounts, issue 6). A session starts as PUPIL; the authorization layer
 * sets the role right after tf_session_create. Dev mode (cfg.auth == 0): the first participant of
 * a room is TEACHER (moderates it), later ones PUPIL: tf_session_create sets that itself, and
 * tf_session_dev_role (called before the create) gives the same answer. */
typedef enum { TF_ROLE_PUPIL = 0, TF_ROLE_TEACHER = 1 } tf_role_t;
void tf_session_set_role(tf_session_t *s, tf_role_t role);
tf_role_t tf_session_role(const tf_session_t *s);
/* The role a new session in room gets in dev mode: TEACHER when no other session is in it. */
tf_role_t tf_session_dev_role(tf_server_t *srv, const char *room);
/* Sends json over the WebSocket of every session in room that has role (e.g. the lobby queue to
 * the teachers). */
void tf_session_notify_role(tf_server_t *srv, const char *room, tf_role_t role, const char *json);

/* For moderate.c (all on the I/O loop). */
uint32_t tf_session_member(const tf_session_t *s);
const char *tf_session_room(const tf_session_t *s);
/* Sends json over the session's WebSocket, when one is open. */
void tf_session_send(tf_session_t *s, const char *json);
/* The teacher's mute / camera stop for s: 1 sets, 0 lifts, -1 unchanged; enforced by the room
 * engine and told to the participant ({"type": "moderated", ...}). */
void tf_session_moderate(tf_session_t *s, int audio_off, int video_off);
/* Every session in room, for moderate.c's loops: the next after prev (NULL: the first). */
tf_session_t *tf_session_next_in_room(tf_server_t *srv, const char *room, tf_session_t *prev);
/* The teachers' participant list changed (join, leave, hand, moderation): sends it to them. */
void tf_session_participants_changed(tf_server_t *srv, const char *room);
/* 1 when this session is the video of a screen shared by a teacher. */
int tf_session_is_screen(const tf_session_t *s);

/* The session's figures as JSON (malloc'd), for GET on its WHIP resource. */
char *tf_session_stats_json(const tf_session_t *s, size_t *len);

#endif
