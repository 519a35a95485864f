/* session_ws.c — a session's room WebSocket: the welcome and state on connect, the browser's
 * messages (own mute, teacher controls, chat, raise hand, screen sharing), roles, and the
 * teachers' participant list. Media and transport are session.c's; what a teacher's action does
 * to the room is moderate.c's. */
#include "server/session_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/log.h"
#include "server/moderate.h"

void tf_session_set_role(tf_session_t *s, tf_role_t role)
{
    s->role = role == TF_ROLE_TEACHER ? TF_ROLE_TEACHER : TF_ROLE_PUPIL;
}

tf_role_t tf_session_role(const tf_session_t *s)
{
    return s->role;
}

/* The teacher who reloads the page (or whose connection dropped) rejoins a room that pupils keep
 * going: without a teacher in it, the next joiner moderates it again. */
tf_role_t tf_session_dev_role(tf_server_t *srv, const char *room)
{
    for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
         s = tf_session_next_in_room(srv, room, s))
        if (s->role == TF_ROLE_TEACHER)
            return TF_ROLE_PUPIL;
    return TF_ROLE_TEACHER;
}

uint32_t tf_session_member(const tf_session_t *s)
{
    return s->member;
}
const char *tf_session_room(const tf_session_t *s)
{
    return s->room;
}
int tf_session_is_screen(const tf_session_t *s)
{
    return s->is_screen;
}

void tf_session_send(tf_session_t *s, const char *json)
{
    if (s && s->ws && !s->closing)
        tf_ws_send(s->ws, json);
}

tf_session_t *tf_session_next_in_room(tf_server_t *srv, const char *room, tf_session_t *prev)
{
    for (tf_session_t *s = prev ? prev->next : srv->sessions; s; s = s->next)
        if (!s->closing && !strcmp(s->room, room))
            return s;
    return NULL;
}

void tf_session_notify_role(tf_server_t *srv, const char *room, tf_role_t role, const char *json)
{
    for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
         s = tf_session_next_in_room(srv, room, s))
        if (s->role == role)
            tf_session_send(s, json);
}

static void send_error(tf_session_t *s, const char *code, const char *message)
{
    char j[256];
    snprintf(j, sizeof(j), "{\"type\": \"error\", \"code\": \"%s\", \"message\": \"%s\"}", code,
             message);
    tf_session_send(s, j);
}

static void send_moderated(tf_session_t *s)
{
    char j[192];
    int teacher = s->role == TF_ROLE_TEACHER;
    snprintf(j, sizeof(j),
             "{\"type\": \"moderated\", \"audio_off\": %s, \"video_off\": %s, "
             "\"may_unmute\": %s, \"may_start_video\": %s}",
             s->mod_audio ? "true" : "false", s->mod_video ? "true" : "false",
             teacher || tf_room_pupils_unmute(s->srv, s->room) ? "true" : "false",
             teacher || tf_room_pupils_video(s->srv, s->room) ? "true" : "false");
    tf_session_send(s, j);
}

static void post_control(tf_session_t *s, int op, int value)
{
    if (!s->mixing)
        return;
    tf_msg_t m = {.kind = TF_MSG_CONTROL, .member = s->member, .len = 2};
    snprintf(m.room, sizeof(m.room), "%s", s->room);
    m.data[0] = (uint8_t)op;
    m.data[1] = (uint8_t)(int8_t)value;
    if (tf_worker_post(s->worker, &m) < 0) /* only when the queue's control reserve is full too */
        tf_log(TF_LOG_WARN, "session %s: a control message was lost (worker queue full)", s->id);
}

void tf_session_moderate(tf_session_t *s, int audio_off, int video_off)
{
    if (audio_off >= 0 && s->mod_audio != audio_off) {
        s->mod_audio = audio_off;
        post_control(s, TF_CTL_MOD_AUDIO, audio_off);
    }
    if (video_off >= 0 && s->mod_video != video_off) {
        s->mod_video = video_off;
        post_control(s, TF_CTL_MOD_VIDEO, video_off);
    }
    send_moderated(s);
}

/* The teachers' list: session ids (the targets of their controls) go to teachers only — a
 * session id opens that participant's WebSocket. */
static char *participants_json(tf_server_t *srv, const char *room)
{
    size_t cap = 128, o = 0;
    for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
         s = tf_session_next_in_room(srv, room, s))
        cap += 640;
    char *j = malloc(cap);
    if (!j)
        return NULL;
    o += (size_t)snprintf(j + o, cap - o, "{\"type\": \"participants\", \"list\": [");
    int first = 1;
    for (tf_session_t *s = tf_session_next_in_room(srv, room, NULL); s;
         s = tf_session_next_in_room(srv, room, s)) {
        char name[400];
        tf_chat_escape(s->name[0] ? s->name : "Gast", name, sizeof(name));
        o += (size_t)snprintf(j + o, cap - o,
                              "%s{\"session\": \"%s\", \"member\": %u, \"name\": \"%s\", "
                              "\"role\": \"%s\", \"hand\": %s, \"muted\": %s, "
                              "\"camera_stopped\": %s, \"screen\": %s}",
                              first ? "" : ", ", s->id, s->member, name,
                              s->role == TF_ROLE_TEACHER ? "teacher" : "pupil",
                              s->hand ? "true" : "false", s->mod_audio ? "true" : "false",
                              s->mod_video ? "true" : "false", s->is_screen ? "true" : "false");
        first = 0;
    }
    snprintf(j + o, cap - o, "]}");
    return j;
}

void tf_session_participants_changed(tf_server_t *srv, const char *room)
{
    char *j = participants_json(srv, room);
    if (j)
        tf_session_notify_role(srv, room, TF_ROLE_TEACHER, j);
    free(j);
}

void *tf_session_ws_open(void *ctx, tf_ws_conn_t *conn, const char *id)
{
    tf_server_t *srv = ctx;
    for (tf_session_t *s = srv->sessions; s; s = s->next) {
        if (strcmp(s->id, id) != 0 || s->closing)
            continue;
        if (s->ws)
            tf_ws_close(s->ws); /* a reconnect replaces the old socket */
        s->ws = conn;
        char hello[256];
        snprintf(hello, sizeof(hello),
                 "{\"type\": \"welcome\", \"member\": %u, \"room\": \"%s\", \"session\": \"%s\", "
                 "\"role\": \"%s\"}",
                 s->member, s->room, s->id, s->role == TF_ROLE_TEACHER ? "teacher" : "pupil");
        tf_ws_send(conn, hello);
        if (s->layout)
            tf_ws_send(conn, s->layout);
        char *st = tf_moderate_room_json(srv, s->room);
        if (st)
            tf_ws_send(conn, st);
        free(st);
        if (s->mod_audio || s->mod_video)
            send_moderated(s);
        struct tf_chat_log *log = tf_moderate_chat_log(srv, s->room);
        if (log && log->len) { /* the lesson's chat so far, for a late joiner */
            char *h = tf_chat_log_json(log);
            if (h)
                tf_ws_send(conn, h);
            free(h);
        }
        if (s->role == TF_ROLE_TEACHER)
            tf_session_participants_changed(srv, s->room);
        return s;
    }
    return NULL;
}

void tf_session_ws_close(void *ctx, void *owner)
{
    (void)ctx;
    tf_session_t *s = owner;
    s->ws = NULL;
}

static uint64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_chat(tf_session_t *s, const char *raw)
{
    tf_server_t *srv = s->srv;
    if (s->role != TF_ROLE_TEACHER && !tf_room_pupils_chat(srv, s->room)) {
        send_error(s, "forbidden", "chat is switched off for pupils");
        return;
    }
    if (!tf_chat_allow(&s->chat, tf_server_now_us(srv))) {
        send_error(s, "rate_limited", "too many messages; wait a moment");
        return;
    }
    char text[TF_CHAT_MAX_TEXT + 1], esc[TF_CHAT_MAX_TEXT * 6 + 1], name[400];
    if (tf_chat_clean(raw, text, sizeof(text)) < 0)
        return;
    tf_chat_escape(text, esc, sizeof(esc));
    tf_chat_escape(s->name[0] ? s->name : "Gast", name, sizeof(name));
    size_t cap = strlen(esc) + strlen(name) + 192;
    char *j = malloc(cap);
    if (!j)
        return;
    snprintf(j, cap,
             "{\"type\": \"chat\", \"from\": %u, \"name\": \"%s\", \"teacher\": %s, "
             "\"text\": \"%s\", \"at\": %llu}",
             s->member, name, s->role == TF_ROLE_TEACHER ? "true" : "false", esc,
             (unsigned long long)unix_ms());
    struct tf_chat_log *log = tf_moderate_chat_log(srv, s->room);
    if (log)
        tf_chat_log_add(log, j);
    for (tf_session_t *x = tf_session_next_in_room(srv, s->room, NULL); x;
         x = tf_session_next_in_room(srv, s->room, x))
        tf_session_send(x, j);
    free(j);
}

static void on_hand(tf_session_t *s, const tf_room_msg_t *m)
{
    tf_session_t *t = s;
    if (m->target[0] && strcmp(m->target, s->id) != 0) {
        /* someone else's hand: only a teacher lowers it */
        if (s->role != TF_ROLE_TEACHER || m->raised) {
            send_error(s, "forbidden", "only the teacher lowers another participant's hand");
            return;
        }
        if (!(t = tf_session_find(s->srv, s->room, m->target)))
            return;
    }
    if (t->hand == m->raised)
        return;
    t->hand = m->raised;
    char j[96];
    snprintf(j, sizeof(j), "{\"type\": \"hand\", \"raised\": %s, \"by_teacher\": %s}",
             t->hand ? "true" : "false", t != s ? "true" : "false");
    tf_session_send(t, j); /* the participant's own button follows */
    tf_session_participants_changed(s->srv, s->room);
}

/* The participant's own switches; lifting what the teacher imposed needs the room's consent:
 * pupils_unmute for the microphone, pupils_video for the camera. */
static void on_mute(tf_session_t *s, const tf_room_msg_t *m)
{
    int teacher = s->role == TF_ROLE_TEACHER;
    int allowed = teacher || tf_room_pupils_unmute(s->srv, s->room);
    int allowed_video = teacher || tf_room_pupils_video(s->srv, s->room);
    int refused = 0;
    if (m->audio >= 0)
        s->self_audio = m->audio;
    if (m->video >= 0)
        s->self_video = m->video;
    if (s->mod_audio && m->audio == 0) {
        if (allowed)
            tf_session_moderate(s, 0, -1);
        else
            refused = 1;
    }
    if (s->mod_video && m->video == 0) {
        if (allowed_video)
            tf_session_moderate(s, -1, 0);
        else
            refused = 1;
    }
    if (refused) {
        send_error(s, "forbidden", "the teacher has to allow this");
        send_moderated(s);
    }
    tf__session_post_mute(s);
    if (!refused && (m->audio == 0 || m->video == 0))
        tf_session_participants_changed(s->srv, s->room);
}

static void on_moderate(tf_session_t *s, const tf_room_msg_t *m)
{
    tf_mod_action_t a;
    char err[128] = "";
    if (s->role != TF_ROLE_TEACHER) {
        send_error(s, "forbidden", "only the teacher moderates this room");
        return;
    }
    if (tf_mod_action_parse(m->action, &a) < 0) {
        send_error(s, "invalid", "unknown action");
        return;
    }
    char room[65];
    snprintf(room, sizeof(room), "%s", s->room); /* END closes s too */
    int e = tf_moderate(s->srv, room, a, m->target, m->arg, err, sizeof(err));
    if (e < 0)
        send_error(s, e == -ENOENT ? "not_found" : "invalid", err);
}

static void on_screen(tf_session_t *s, const tf_room_msg_t *m)
{
    if (s->role != TF_ROLE_TEACHER) {
        send_error(s, "forbidden", "only the teacher shares a screen");
        return;
    }
    tf_session_t *t = tf_session_find(s->srv, s->room, m->target);
    if (!t || t == s) {
        send_error(s, "not_found", "no such screen session in this room");
        return;
    }
    t->is_screen = m->raised;
    if (t->is_screen && t->mod_video)
        tf_session_moderate(t, -1, 0); /* the teacher's screen is no pupil's camera */
    post_control(t, TF_CTL_SCREEN, m->raised);
    tf_session_participants_changed(s->srv, s->room);
}

void tf_session_ws_message(void *ctx, void *owner, const char *text, size_t len)
{
    (void)ctx;
    tf_session_t *s = owner;
    tf_room_msg_t *m = malloc(sizeof(*m));
    if (!m)
        return;
    if (s->closing || tf_room_msg_parse(text, len, m) < 0) {
        free(m); /* unknown or malformed messages are ignored */
        return;
    }
    switch (m->type) {
    case TF_RMSG_MUTE:
        on_mute(s, m);
        break;
    case TF_RMSG_MODERATE:
        on_moderate(s, m);
        break;
    case TF_RMSG_CHAT:
        on_chat(s, m->text);
        break;
    case TF_RMSG_HAND:
        on_hand(s, m);
        break;
    case TF_RMSG_POLICY:
        if (s->role != TF_ROLE_TEACHER)
            send_error(s, "forbidden", "only the teacher changes the room's rules");
        else {
            tf_room_rules_t r = {.pupils_unmute = m->pupils_unmute,
                                 .pupils_video = m->pupils_video,
                                 .pupils_chat = m->pupils_chat};
            tf_room_set_rules(s->srv, s->room, &r);
        }
        break;
    case TF_RMSG_SCREEN:
        on_screen(s, m);
        break;
    }
    free(m);
}
