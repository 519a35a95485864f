/* room_msg.c — parsing the browser's room WebSocket messages and the chat helpers (cleaning,
 * rate limit, history). No sockets and no clock: time comes in as arguments. */
#include "server/room_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int get_str(json_t *o, const char *key, char *out, size_t cap, int required)
{
    json_t *v = json_object_get(o, key);
    out[0] = '\0';
    if (!v || json_is_null(v))
        return required ? -EINVAL : 0;
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return -EINVAL;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    if (strlen(out) != json_string_length(v))
        return -EINVAL; /* an embedded NUL */
    return 0;
}

/* true -> 1, false -> 0, absent -> -1; anything else is an error */
static int get_bool(json_t *o, const char *key, int *out)
{
    json_t *v = json_object_get(o, key);
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return -EINVAL;
    *out = json_is_true(v);
    return 0;
}

int tf_room_msg_parse(const char *text, size_t len, tf_room_msg_t *out)
{
    memset(out, 0, sizeof(*out));
    out->audio = out->video = out->raised = out->pupils_unmute = out->pupils_video =
        out->pupils_chat = -1;
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return -EINVAL;
    int e = -EINVAL;
    char type[16];
    if (!json_is_object(o) || get_str(o, "type", type, sizeof(type), 1) < 0)
        goto done;
    if (!strcmp(type, "mute")) {
        out->type = TF_RMSG_MUTE;
        e = get_bool(o, "audio", &out->audio) || get_bool(o, "video", &out->video) ? -EINVAL : 0;
    } else if (!strcmp(type, "moderate")) {
        out->type = TF_RMSG_MODERATE;
        e = get_str(o, "action", out->action, sizeof(out->action), 1) < 0 ||
                    get_str(o, "target", out->target, sizeof(out->target), 0) < 0 ||
                    get_str(o, "arg", out->arg, sizeof(out->arg), 0) < 0
                ? -EINVAL
                : 0;
    } else if (!strcmp(type, "chat")) {
        out->type = TF_RMSG_CHAT;
        e = get_str(o, "text", out->text, sizeof(out->text), 1);
    } else if (!strcmp(type, "hand")) {
        out->type = TF_RMSG_HAND;
        e = get_bool(o, "raised", &out->raised) < 0 || out->raised < 0 ||
                    get_str(o, "target", out->target, sizeof(out->target), 0) < 0
                ? -EINVAL
                : 0;
    } else if (!strcmp(type, "policy")) {
        out->type = TF_RMSG_POLICY;
        e = get_bool(o, "pupils_unmute", &out->pupils_unmute) ||
                    get_bool(o, "pupils_video", &out->pupils_video) ||
                    get_bool(o, "pupils_chat", &out->pupils_chat)
                ? -EINVAL
                : 0;
    } else if (!strcmp(type, "screen")) {
        out->type = TF_RMSG_SCREEN;
        e = get_bool(o, "on", &out->raised) < 0 || out->raised < 0 ||
                    get_str(o, "target", out->target, sizeof(out->target), 0) < 0
                ? -EINVAL
                : 0;
    }
done:
    json_decref(o);
    return e;
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80             ? 1
            : (c & 0xe0) == 0xc0 ? 2
            : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4
                                 : 0;
    if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3) {
        unsigned cp = (c & 0x0f) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
        if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
            return 0; /* overlong, or a surrogate */
    }
    if (n == 4) {
        unsigned cp = (c & 0x07) << 18 | (s[1] & 0x3fu) << 12;
        if (cp < 0x10000 || cp > 0x10ffff)
            return 0;
    }
    return n;
}

int tf_chat_clean(const char *in, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, limit = cap - 1 < TF_CHAT_MAX_TEXT ? cap - 1 : TF_CHAT_MAX_TEXT;
    while (*s) {
        int n = utf8_len(s);
        if (n == 0) {
            s++; /* invalid byte: dropped */
            continue;
        }
        unsigned c = s[0];
        int control = c < 0x20 || c == 0x7f || (n == 2 && c == 0xc2 && s[1] < 0xa0);
        if (control && (c == '\t' || c == '\n' || c == '\r')) {
            if (o && out[o - 1] != ' ' && o < limit)
                out[o++] = ' ';
        } else if (!control) {
            if (o + (size_t)n > limit)
                break;
            memcpy(out + o, s, (size_t)n);
            o += (size_t)n;
        }
        s += n;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    size_t lead = strspn(out, " ");
    if (lead) {
        memmove(out, out + lead, o - lead + 1);
        o -= lead;
    }
    return o ? (int)o : -EINVAL;
}

size_t tf_chat_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
        char esc[8];
        size_t n;
        if (*s == '"' || *s == '\\')
            n = (size_t)snprintf(esc, sizeof(esc), "\\%c", *s);
        else if (*s < 0x20)
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *s);
        else {
            esc[0] = (char)*s;
            n = 1;
        }
        if (o + n >= cap) {
            while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
                o--; /* drop a cut multi-byte character ... */
            if (o && (unsigned char)out[o - 1] >= 0xc0)
                o--; /* ... and its lead byte */
            break;
        }
        memcpy(out + o, esc, n);
        o += n;
    }
    if (cap)
        out[o] = '\0';
    return o;
}

int tf_chat_allow(tf_chat_bucket_t *b, uint64_t now_us)
{
    if (!b->started) {
        b->started = 1;
        b->tokens = TF_CHAT_BURST;
        b->last_us = now_us;
    }
    if (now_us > b->last_us) {
        uint64_t add = (now_us - b->last_us) / TF_CHAT_REFILL_US;
        if (add) {
            b->tokens = b->tokens + (int)(add > TF_CHAT_BURST ? TF_CHAT_BURST : add);
            if (b->tokens > TF_CHAT_BURST)
                b->tokens = TF_CHAT_BURST;
            b->last_us += add * TF_CHAT_REFILL_US;
        }
    }
    if (b->tokens >= TF_CHAT_BURST)
        b->last_us = now_us; /* a full bucket does not save up refill time */
    if (b->tokens <= 0)
        return 0;
    b->tokens--;
    return 1;
}

int tf_chat_log_add(tf_chat_log_t *log, const char *json)
{
    char *copy = strdup(json);
    if (!copy)
        return -ENOMEM;
    if (log->len == TF_CHAT_HISTORY) {
        free(log->items[log->head]);
        log->head = (log->head + 1) % TF_CHAT_HISTORY;
        log->len--;
    }
    log->items[(log->head + log->len) % TF_CHAT_HISTORY] = copy;
    log->len++;
    return 0;
}

char *tf_chat_log_json(const tf_chat_log_t *log)
{
    size_t cap = 64;
    for (int i = 0; i < log->len; i++)
        cap += strlen(log->items[(log->head + i) % TF_CHAT_HISTORY]) + 2;
    char *j = malloc(cap);
    if (!j)
        return NULL;
    size_t o = (size_t)snprintf(j, cap, "{\"type\": \"chat-history\", \"messages\": [");
    for (int i = 0; i < log->len; i++)
        o += (size_t)snprintf(j + o, cap - o, "%s%s", i ? ", " : "",
                              log->items[(log->head + i) % TF_CHAT_HISTORY]);
    snprintf(j + o, cap - o, "]}");
    return j;
}

void tf_chat_log_free(tf_chat_log_t *log)
{
    while (log->len) {
        free(log->items[log->head]);
        log->head = (log->head + 1) % TF_CHAT_HISTORY;
        log->len--;
    }
    log->head = 0;
}
