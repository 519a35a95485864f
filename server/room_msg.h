/* room_msg.h — the browser's messages on the room WebSocket (mute, moderate, chat, hand, policy,
 * screen), parsed into a struct, and the chat helpers: text cleaning, per-sender rate limit, the
 * lesson's chat history. Sans-IO (jansson for the JSON); what a message does is session.c's and
 * moderate.c's. */
#ifndef TF_ROOM_MSG_H
#define TF_ROOM_MSG_H

#include <stddef.h>
#include <stdint.h>

#define TF_CHAT_MAX_TEXT 500      /* bytes of UTF-8 kept of one chat message */
#define TF_CHAT_HISTORY 200       /* messages kept for late joiners of the current lesson */
#define TF_CHAT_BURST 5           /* messages a sender may send at once ... */
#define TF_CHAT_REFILL_US 2000000 /* ... and one more every 2 s */

typedef enum {
    TF_RMSG_MUTE = 1, /* audio, video: the participant's own microphone / camera off */
    TF_RMSG_MODERATE, /* action, target (session id), arg */
    TF_RMSG_CHAT,     /* text (raw; clean it with tf_chat_clean) */
    TF_RMSG_HAND,     /* raised; target: a teacher lowering someone else's hand */
    TF_RMSG_POLICY,   /* pupils_unmute, pupils_video, pupils_chat: -1 when absent */
    TF_RMSG_SCREEN,   /* target: the session id of the screen's WHIP session; raised: on/off */
} tf_room_msg_type_t;

typedef struct tf_room_msg {
    tf_room_msg_type_t type;
    int audio, video; /* mute: 1 off, 0 on, -1 absent */
    int raised;       /* hand / screen: 1 or 0 */
    int pupils_unmute, pupils_video, pupils_chat;
    char action[24];
    char target[40];
    char arg[64];
    char text[2048];
} tf_room_msg_t;

/* Parses one WebSocket text message. 0, or -EINVAL (not JSON, no known type, a field of the
 * wrong type or too long). */
int tf_room_msg_parse(const char *text, size_t len, tf_room_msg_t *out);

/* Copies in to out without control characters (C0, DEL, C1; a tab or newline becomes a space),
 * invalid UTF-8 dropped, leading and trailing spaces trimmed, cut at TF_CHAT_MAX_TEXT bytes on a
 * character boundary. Returns the length written, or -EINVAL when nothing is left. cap must be
 * > TF_CHAT_MAX_TEXT. */
int tf_chat_clean(const char *in, char *out, size_t cap);

/* Writes s as a JSON string body (without the quotes), escaped; truncates on a character
 * boundary when cap is short. Returns the length written. */
size_t tf_chat_escape(const char *s, char *out, size_t cap);

/* A token bucket: TF_CHAT_BURST messages at once, one more every TF_CHAT_REFILL_US. */
typedef struct tf_chat_bucket {
    int tokens;
    uint64_t last_us;
    int started;
} tf_chat_bucket_t;
/* 1 when a message at now_us is allowed (a token taken), 0 when over the limit. */
int tf_chat_allow(tf_chat_bucket_t *b, uint64_t now_us);

/* The chat of the current lesson: the newest TF_CHAT_HISTORY message events, in memory only. */
typedef struct tf_chat_log {
    char *items[TF_CHAT_HISTORY];
    int head, len;
} tf_chat_log_t;
/* Keeps a copy of json (a "chat" event). 0 or -ENOMEM. */
int tf_chat_log_add(tf_chat_log_t *log, const char *json);
/* {"type": "chat-history", "messages": [ ...events... ]} (malloc'd), or NULL. */
char *tf_chat_log_json(const tf_chat_log_t *log);
void tf_chat_log_free(tf_chat_log_t *log);

#endif
