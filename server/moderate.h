/* moderate.h — the teacher's controls for a live room (mute, stop video, remove, lock, spotlight,
 * layout, end), called by the REST layer and by the room WebSocket. Not the authorization: callers
 * check the role (tf_session_role) or the account before calling. */
#ifndef TF_MODERATE_H
#define TF_MODERATE_H

#include <stddef.h>

#include "server/server.h"

typedef enum {
    TF_MOD_MUTE,       /* target's microphone out of every mix; arg "off" lifts it */
    TF_MOD_MUTE_ALL,   /* MUTE for every pupil; target ignored; arg "off" lifts */
    TF_MOD_STOP_VIDEO, /* target's tile shows its placeholder; arg "off" lifts it */
    TF_MOD_REMOVE,     /* target's session closed; arg: reason shown to the pupil (optional) */
    TF_MOD_LOCK,       /* no new joins (tf_room_is_locked) */
    TF_MOD_UNLOCK,
    TF_MOD_SPOTLIGHT,  /* speaker layout pinned to target for everybody; no target: unpin */
    TF_MOD_LAYOUT,     /* arg "grid" | "speaker" | "presentation" | "auto" (docs/api.md) */
    TF_MOD_END         /* every session closed, clients shown "lesson ended"; arg: reason */
} tf_mod_action_t;

/* "mute", "mute_all", "stop_video", "remove", "lock", "unlock", "spotlight", "layout", "end".
 * 0, or -EINVAL. */
int tf_mod_action_parse(const char *name, tf_mod_action_t *out);

/* Applies a to room. target_session_id is the session id (the WHIP resource id) of the
 * participant for MUTE, STOP_VIDEO, REMOVE and SPOTLIGHT; NULL or "" otherwise.
 * 0, -ENOENT (no such room / participant), -EINVAL (bad action argument); err says why. */
int tf_moderate(tf_server_t *srv, const char *room, tf_mod_action_t a,
                const char *target_session_id, const char *arg, char *err, size_t errlen);

/* Called for every valid action just before it is applied (END and REMOVE close sessions), from
 * the REST layer's calls and a teacher's room WebSocket alike: the accounts layer records its
 * audit events here. NULL: none. Runs on the I/O loop. */
typedef void (*tf_mod_audit_fn)(tf_server_t *srv, const char *room, tf_mod_action_t a,
                                const char *target_session_id, const char *arg);
void tf_moderate_set_audit(tf_mod_audit_fn fn);

/* 1 when the room is locked (new WHIP joins refused), else 0. */
int tf_room_is_locked(tf_server_t *srv, const char *room);

/* The room's state as JSON {"type": "room", "locked", "pupils_unmute", "pupils_chat", "layout",
 * "spotlight"} (malloc'd), as sent to every participant when it changes. */
char *tf_moderate_room_json(tf_server_t *srv, const char *room);

/* Room policy flags, set by the REST layer from the teacher's room settings (defaults 1): may
 * pupils unmute themselves / chat. Unknown rooms are remembered until the room closes. */
void tf_room_set_policy(tf_server_t *srv, const char *room, int pupils_unmute, int pupils_chat);

/* All of a room's stored rules at once (the REST layer, from the teacher's settings). -1 (or
 * default_layout NULL): unchanged. pupils_video 0 stops every pupil's camera as "stop video"
 * does, and no pupil may start it (tf_room_pupils_video). default_layout "speaker" or
 * "presentation" is where the next lesson starts ("grid", the store's default, and anything else:
 * automatic, which shows the grid where it is legible); it becomes the room's layout choice only
 * while nobody is in the room: a live lesson keeps the teacher's current choice. */
typedef struct {
    int pupils_unmute, pupils_video, pupils_chat;
    const char *default_layout;
} tf_room_rules_t;
void tf_room_set_rules(tf_server_t *srv, const char *room, const tf_room_rules_t *rules);

int tf_room_pupils_unmute(tf_server_t *srv, const char *room);
int tf_room_pupils_video(tf_server_t *srv, const char *room);
int tf_room_pupils_chat(tf_server_t *srv, const char *room);

/* For session.c: the lesson's chat (kept until the room closes), and the room closing (its last
 * session left): every room setting and the chat are forgotten. */
struct tf_chat_log;
struct tf_chat_log *tf_moderate_chat_log(tf_server_t *srv, const char *room);
void tf_moderate_room_closed(tf_server_t *srv, const char *room);
/* A session joined (after it was linked, its role set): applies the room's pupils_video rule to
 * it, and the first one carries the room's layout choice to the freshly created room engine. */
void tf_moderate_session_joined(tf_server_t *srv, tf_session_t *s);
/* A session left (after it was unlinked): unpins it; the last one closes the room. */
void tf_moderate_session_left(tf_server_t *srv, const char *room, const char *session_id);

#endif
