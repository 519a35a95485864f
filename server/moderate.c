/* moderate.c — the teacher's controls on a live room: the I/O-side room state (lock, policy,
 * layout choice, spotlight, the lesson's chat) and the actions, which reach the room engine on
 * its worker as TF_MSG_CONTROL. Not the authorization (callers check roles) and not the media. */
#include "server/moderate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/layout.h"
#include "server/log.h"
#include "server/room_msg.h"
#include "server/session.h"

/* One live room's settings; created on first use, freed when its last session leaves. Rooms are
 * few (one per lesson) and all of this runs on the I/O loop: a list is enough. */
typedef struct room_ctl {
    struct room_ctl *next;
    tf_server_t *srv;
    char room[65];
    int locked, pupils_unmute, pupils_video, pupils_chat;
    int layout;         /* -1 automatic, else tf_layout_kind_t */
    int default_layout; /* the teacher's stored layout (-1 automatic): the live room starts in it */
    char spotlight[40]; /* the pinned session id, "" none */
    tf_chat_log_t chat;
} room_ctl_t;

static room_ctl_t *ctls;
static tf_mod_audit_fn audit;

void tf_moderate_set_audit(tf_mod_audit_fn fn)
{
    audit = fn;
}

static void broadcast_room_state(tf_server_t *srv, const char *room);

static room_ctl_t *ctl_find(tf_server_t *srv, const char *room, int create)
{
    for (room_ctl_t *c = ctls; c; c = c->next)
        if (c->srv == srv && !strcmp(c->room, room))
            return c;
    if (!create)
        return NULL;
    room_ctl_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = srv;
    snprintf(c->room, sizeof(c->room), "%s", room);
    c->pupils_unmute = c->pupils_video = c->pupils_chat = 1;
    c->layout = c->default_layout = -1;
    c->next = ctls;
    ctls = c;
    return c;
}

void tf_moderate_room_closed(tf_server_t *srv, const char *room)
{
    for (room_ctl_t **pp = &ctls; *pp; pp = &(*pp)->next) {
        room_ctl_t *c = *pp;
        if (c->srv == srv && !strcmp(c->room, room)) {
            *pp = c->next;
            tf_chat_log_free(&c->chat); /* the chat is gone with the lesson */
            free(c);
            return;
        }
    }
}

void tf_moderate_session_left(tf_server_t *srv, const char *room, const char *session_id)
{
    room_ctl_t *c = ctl_find(srv, room, 0);
    if (!c)
        return;
    if (!tf_session_next_in_room(srv, room, NULL)) {
        tf_moderate_room_closed(srv, room);
        return;
    }
    if (!strcmp(c->spotlight, session_id)) {
        c->spotlight[0] = '\0'; /* the room engine unpinned the member when it left */
        broadcast_room_state(srv, room);
    }
}

struct tf_chat_log *tf_moderate_chat_log(tf_server_t *srv, const char *room)
{
    room_ctl_t *c = ctl_find(srv, room, 1);
    return c ? &c->chat : NULL;
}

int tf_room_is_locked(tf_server_t *srv, const char *room)
{
    room_ctl_t *c = ctl_find(srv, room, 0);
    return c ? c->locked : 0;
}

int tf_room_pupils_unmute(tf_server_t *srv, const char *room)
{
    room_ctl_t *c = ctl_find(srv, room, 0);
    return c ? c->pupils_unmute : 1;
}

int tf_room_pupils_video(tf_server_t *srv, const char *room)
{
    room_ctl_t *c = ctl_find(srv, room, 0);
    return c ? c->pupils_video : 1;
}

int tf_room_pupils_chat(tf_server_t *srv, const char *room)
{
    room_ctl_t *c = ctl_find(srv, room, 0);
    return c ? c->pupils_chat : 1;
}

char *tf_moderate_room_json(tf_server_t *srv, const char *room)
{
    room_ctl_t *c = ctl_find(srv, room, 0);
    char *j = malloc(288);
    if (!j)
        return NULL;
    snprintf(j, 288,
             "{\"type\": \"room\", \"locked\": %s, \"pupils_unmute\": %s, \"pupils_video\": %s, "
             "\"pupils_chat\": %s, \"layout\": \"%s\", \"spotlight\": \"%s\"}",
             c && c->locked ? "true" : "false", !c || c->pupils_unmute ? "true" : "false",
             !c || c->pupils_video ? "true" : "false", !c || c->pupils_chat ? "true" : "false",
             c && c->layout >= 0 ? tf_layout_kind_name((tf_layout_kind_t)c->layout) : "auto",
             c ? c->spotlight : "");
    return j;
}

static void broadcast_room_state(tf_server_t *srv, const char *room)
{
    char *j = tf_moderate_room_json(srv, room);
    if (!j)
        return;
    for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
         s = tf_session_next_in_room(srv, room, s))
        tf_session_send(s, j);
    free(j);
}

static int post_control(tf_server_t *srv, const char *room, int op, uint32_t member, int value);

/* pupils_video off stops every pupil's camera as the teacher's "stop video" would; switching it
 * back on lifts nothing by itself: each pupil may now start the camera again. */
static void stop_pupils_cameras(tf_server_t *srv, const char *room)
{
    for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
         s = tf_session_next_in_room(srv, room, s))
        if (tf_session_role(s) == TF_ROLE_PUPIL && !tf_session_is_screen(s))
            tf_session_moderate(s, -1, 1);
}

void tf_room_set_rules(tf_server_t *srv, const char *room, const tf_room_rules_t *r)
{
    room_ctl_t *c = ctl_find(srv, room, 1);
    if (!c)
        return;
    int video_off = c->pupils_video && r->pupils_video == 0;
    if (r->pupils_unmute >= 0)
        c->pupils_unmute = !!r->pupils_unmute;
    if (r->pupils_video >= 0)
        c->pupils_video = !!r->pupils_video;
    if (r->pupils_chat >= 0)
        c->pupils_chat = !!r->pupils_chat;
    if (r->default_layout) {
        tf_layout_kind_t k;
        /* "grid" is the store's default and what the automatic choice shows (the grid where
         * it is legible, pick_layout in room_video.c): it stays "auto" for the teacher's menu. */
        c->default_layout = tf_layout_kind_parse(r->default_layout, &k) == 0 && k != TF_LAYOUT_GRID
                                ? (int)k
                                : -1;
        if (!tf_session_next_in_room(srv, room, NULL))
            c->layout = c->default_layout; /* not live yet: the lesson starts in it */
    }
    if (video_off) {
        stop_pupils_cameras(srv, room);
        tf_session_participants_changed(srv, room);
    }
    broadcast_room_state(srv, room);
}

void tf_room_set_policy(tf_server_t *srv, const char *room, int pupils_unmute, int pupils_chat)
{
    tf_room_rules_t r = {.pupils_unmute = pupils_unmute, .pupils_video = -1,
                         .pupils_chat = pupils_chat};
    tf_room_set_rules(srv, room, &r);
}

void tf_moderate_session_joined(tf_server_t *srv, tf_session_t *s)
{
    const char *room = tf_session_room(s);
    room_ctl_t *c = ctl_find(srv, room, 0);
    if (!c)
        return;
    if (!c->pupils_video && tf_session_role(s) == TF_ROLE_PUPIL && !tf_session_is_screen(s))
        tf_session_moderate(s, -1, 1);
    /* The room engine was created for this session (or exists): tell it the layout choice. A
     * fresh engine starts automatic, so the first joiner carries the teacher's stored layout. */
    if (c->layout >= 0 && tf_session_next_in_room(srv, room, NULL) == s &&
        !tf_session_next_in_room(srv, room, s))
        post_control(srv, room, TF_CTL_LAYOUT, 0, c->layout);
}

int tf_mod_action_parse(const char *name, tf_mod_action_t *out)
{
    static const struct {
        const char *name;
        tf_mod_action_t a;
    } names[] = {
        {"mute", TF_MOD_MUTE},
        {"mute_all", TF_MOD_MUTE_ALL},
        {"stop_video", TF_MOD_STOP_VIDEO},
        {"remove", TF_MOD_REMOVE},
        {"lock", TF_MOD_LOCK},
        {"unlock", TF_MOD_UNLOCK},
        {"spotlight", TF_MOD_SPOTLIGHT},
        {"layout", TF_MOD_LAYOUT},
        {"end", TF_MOD_END},
    };
    for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(name, names[i].name)) {
            *out = names[i].a;
            return 0;
        }
    }
    return -EINVAL;
}

static int post_control(tf_server_t *srv, const char *room, int op, uint32_t member, int value)
{
    tf_msg_t m = {.kind = TF_MSG_CONTROL, .member = member, .len = 2};
    snprintf(m.room, sizeof(m.room), "%s", room);
    m.data[0] = (uint8_t)op;
    m.data[1] = (uint8_t)(int8_t)value;
    return tf_worker_post(tf_server_worker_for(srv, room), &m) < 0 ? -EAGAIN : 0;
}

/* "off", "0", "false": lift the action instead of applying it. */
static int lifts(const char *arg)
{
    return arg && (!strcmp(arg, "off") || !strcmp(arg, "0") || !strcmp(arg, "false"));
}

static void end_lesson(tf_server_t *srv, const char *room, const char *why)
{
    char msg[160], esc[96];
    tf_chat_escape(why, esc, sizeof(esc));
    snprintf(msg, sizeof(msg), "{\"type\": \"ended\", \"reason\": \"%s\"}", esc);
    tf_session_t *s;
    while ((s = tf_session_next_in_room(srv, room, NULL))) {
        tf_session_send(s, msg); /* the socket flushes it before it closes */
        tf_session_close(s, "the teacher ended the lesson");
    }
}

int tf_moderate(tf_server_t *srv, const char *room, tf_mod_action_t a, const char *target_id,
                const char *arg, char *err, size_t errlen)
{
    tf_session_t *t = NULL;
    int needs_target = a == TF_MOD_MUTE || a == TF_MOD_STOP_VIDEO || a == TF_MOD_REMOVE ||
                       (a == TF_MOD_SPOTLIGHT && target_id && target_id[0]);
    if (!tf_session_next_in_room(srv, room, NULL)) {
        snprintf(err, errlen, "no participant is in this room");
        return -ENOENT;
    }
    if (needs_target && (!target_id || !(t = tf_session_find(srv, room, target_id)))) {
        snprintf(err, errlen, "no such participant in this room");
        return -ENOENT;
    }
    room_ctl_t *c = ctl_find(srv, room, 1);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (a == TF_MOD_LAYOUT && !(arg && !strcmp(arg, "auto"))) {
        tf_layout_kind_t k;
        if (!arg || tf_layout_kind_parse(arg, &k) < 0) {
            snprintf(err, errlen, "layout must be grid, speaker, presentation or auto");
            return -EINVAL;
        }
    }
    if (audit) /* before the action: END and REMOVE end sessions */
        audit(srv, room, a, t ? target_id : NULL, arg);
    switch (a) {
    case TF_MOD_MUTE:
        tf_session_moderate(t, lifts(arg) ? 0 : 1, -1);
        break;
    case TF_MOD_STOP_VIDEO:
        tf_session_moderate(t, -1, lifts(arg) ? 0 : 1);
        break;
    case TF_MOD_MUTE_ALL:
        for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
             s = tf_session_next_in_room(srv, room, s))
            if (tf_session_role(s) == TF_ROLE_PUPIL && !tf_session_is_screen(s))
                tf_session_moderate(s, lifts(arg) ? 0 : 1, -1);
        break;
    case TF_MOD_REMOVE: {
        char msg[256], esc[160];
        tf_chat_escape(arg && arg[0] ? arg : "", esc, sizeof(esc));
        snprintf(msg, sizeof(msg), "{\"type\": \"removed\", \"reason\": \"%s\"}", esc);
        tf_session_send(t, msg);
        tf_session_close(t, "removed by the teacher");
        break;
    }
    case TF_MOD_LOCK:
    case TF_MOD_UNLOCK:
        c->locked = a == TF_MOD_LOCK;
        break;
    case TF_MOD_SPOTLIGHT:
        snprintf(c->spotlight, sizeof(c->spotlight), "%s", t ? target_id : "");
        post_control(srv, room, TF_CTL_SPOTLIGHT, t ? tf_session_member(t) : 0, 0);
        break;
    case TF_MOD_LAYOUT: {
        tf_layout_kind_t k;
        int v;
        if (arg && !strcmp(arg, "auto"))
            v = -1;
        else if (arg && tf_layout_kind_parse(arg, &k) == 0)
            v = (int)k;
        else {
            snprintf(err, errlen, "layout must be grid, speaker, presentation or auto");
            return -EINVAL;
        }
        c->layout = v;
        post_control(srv, room, TF_CTL_LAYOUT, 0, v);
        break;
    }
    case TF_MOD_END:
        end_lesson(srv, room, arg && arg[0] ? arg : "");
        return 0; /* the room is gone, and c with it */
    default:
        snprintf(err, errlen, "unknown action");
        return -EINVAL;
    }
    tf_log(TF_LOG_INFO, "room %s: moderation action %d", tf_log_room(room), (int)a);
    broadcast_room_state(srv, room);
    tf_session_participants_changed(srv, room);
    return 0;
}
