/* api_rooms.c — personal rooms over REST (docs/api.md): pupils join with name + PIN (rate
 * limited per address and per room), wait in the lobby, and get a single-use join token for
 * WHIP; the room's teacher admits/denies, moderates (moderate.h), resets the PIN and changes
 * settings. Authorization is decided here and nowhere else: a teacher's cookie session that owns
 * the room, plus CSRF token and Origin on every change. Pupils, other teachers and anonymous
 * callers get 403/401. Not here: login (api_auth.c), what an action does (moderate.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api_internal.h"
#include "server/form.h"
#include "server/log.h"
#include "server/moderate.h"
#include "server/session.h"

/* A growing JSON text. */
typedef struct buf {
    char *s;
    size_t len, cap;
    int oom;
} buf_t;

__attribute__((format(printf, 2, 3))) static void bprintf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || b->oom)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void reply_buf(tf_http_reply_t *out, buf_t *b)
{
    if (b->oom || !b->s) {
        free(b->s);
        tf_http_json_error(out, 500, "out-of-memory", "");
        return;
    }
    out->status = 200;
    out->content_type = "application/json";
    out->body = b->s;
    out->len = b->len;
}

static int valid_slug(const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !islower((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Participant names: 1-40 bytes after trimming, no control characters (form.c refused those). */
static int clean_name(char *name)
{
    size_t n = strlen(name);
    while (n && name[n - 1] == ' ')
        name[--n] = '\0';
    size_t lead = strspn(name, " ");
    memmove(name, name + lead, n - lead + 1);
    n -= lead;
    return n >= 1 && n <= 40 && !strpbrk(name, "\"\\<>");
}

/* The owner check every moderator endpoint starts with. 0 with *room filled, or -1 with out
 * filled: 401 without a teacher session (a pupil's Bearer credential: 403), 404 for an unknown
 * room, 403 for another teacher's room, 403 without matching Origin + X-CSRF-Token when
 * need_csrf. */
static int owner(tf_api_t *api, const tf_http_request_t *req, const char *slug, int need_csrf,
                 tf_store_room_t *room, tf_http_reply_t *out)
{
    tf_websession_t *s = tf__api_session(api, req);
    if (!s) {
        if (req->authorization && !strncasecmp(req->authorization, "Bearer ", 7))
            tf_http_json_error(out, 403, "forbidden", "only the room's teacher may do this");
        else
            tf_http_json_error(out, 401, "not-logged-in", "log in as the room's teacher");
        return -1;
    }
    if (tf_store_room_find_slug(api->store, slug, room) < 0) {
        tf_http_json_error(out, 404, "no-such-room", "");
        return -1;
    }
    if (room->teacher_id != s->teacher_id || room->teacher_disabled) {
        tf_http_json_error(out, 403, "forbidden", "only the room's teacher may do this");
        return -1;
    }
    if (need_csrf && (!tf__api_origin_ok(req) || !tf_websession_csrf_ok(s, req->csrf))) {
        tf_http_json_error(out, 403, "csrf", "missing or wrong X-CSRF-Token or Origin");
        return -1;
    }
    return 0;
}

/* The room's stored rules (what pupils may do, the starting layout) for its live room: whoever
 * is about to join first, teacher or pupil, finds them in force. */
static void apply_rules(tf_api_t *api, const tf_store_room_t *room)
{
    tf_room_set_rules(api->srv, room->slug,
                      &(tf_room_rules_t){room->pupils_unmute, room->pupils_video,
                                         room->pupils_chat, room->default_layout});
}

static void audit(tf_api_t *api, const tf_store_room_t *room, const char *action,
                  const char *detail)
{
    /* The actor is the room's owner, whom room_id already names: no name, no address. */
    if (api->srv->cfg.audit_retention_days == 0)
        return; /* audit-retention-days = 0: no audit events are kept */
    if (tf_store_audit_add(api->store, tf__api_now(), room->id, "owner", action,
                           detail ? detail : "") < 0)
        tf_log(TF_LOG_WARN, "audit: cannot record %s", action);
}

static void notify_lobby(tf_api_t *api, const char *slug)
{
    char msg[96];
    snprintf(msg, sizeof(msg), "{\"type\": \"lobby\", \"waiting\": %d}",
             tf_lobby_list(api->lobby, slug, tf__api_now(), NULL, NULL));
    tf_session_notify_role(api->srv, slug, TF_ROLE_TEACHER, msg);
}

/* Sessions of room still alive in the participant list; stale entries are dropped. */
static int live_people(tf_api_t *api, const char *slug)
{
    int n = 0;
    for (int i = api->n_people - 1; i >= 0; i--) {
        tf_api_participant_t *p = &api->people[i];
        if (!tf_session_find(api->srv, p->room, p->session)) {
            *p = api->people[--api->n_people];
            continue;
        }
        n += strcmp(p->room, slug) == 0;
    }
    return n;
}

/* ---- pupils ---- */

static int pupil_join(tf_api_t *api, const char *slug, const tf_http_request_t *req,
                      tf_http_reply_t *out)
{
    tf_server_t *srv = api->srv;
    if (strcmp(req->method, "POST") != 0) {
        tf_http_json_error(out, 405, "method-not-allowed", "POST name and pin");
        return 1;
    }
    if (!tf__api_origin_ok(req)) {
        tf_http_json_error(out, 403, "bad-origin", "cross-site requests are refused");
        return 1;
    }
    char name[128], pin[16];
    if (tf_form_get(req->body, req->len, "name", name, sizeof(name)) < 0 || !clean_name(name) ||
        tf_form_get(req->body, req->len, "pin", pin, sizeof(pin)) < 0) {
        tf_http_json_error(out, 400, "bad-request", "a name (1-40 characters) and the PIN");
        return 1;
    }
    int64_t now = tf__api_now();
    char akey[TF_RATELIMIT_KEY_MAX], rkey[TF_RATELIMIT_KEY_MAX], nkey[TF_RATELIMIT_KEY_MAX];
    snprintf(akey, sizeof(akey), "pin:%s:%s", req->peer, slug);
    snprintf(rkey, sizeof(rkey), "room:%s", slug);
    snprintf(nkey, sizeof(nkey), "any:%s", req->peer);
    long wait = tf_ratelimit_check(api->pin_addr, akey, now);
    long w = tf_ratelimit_check(api->pin_room, rkey, now);
    wait = w > wait ? w : wait;
    w = tf_ratelimit_check(api->pin_any, nkey, now);
    wait = w > wait ? w : wait;
    if (wait > 0) {
        tf_http_json_error(out, 429, "too-many-attempts",
                           "too many wrong PINs: wait before trying again");
        out->retry_after = wait;
        return 1;
    }
    tf_store_room_t room;
    if (tf_store_pin_verify(api->store, slug, pin) < 0 ||
        tf_store_room_find_slug(api->store, slug, &room) < 0) {
        /* An unknown room answers like a wrong PIN: links cannot be probed for free. */
        wait = tf_ratelimit_fail(api->pin_addr, akey, now);
        w = tf_ratelimit_fail(api->pin_room, rkey, now);
        wait = w > wait ? w : wait;
        w = tf_ratelimit_fail(api->pin_any, nkey, now);
        tf_http_json_error(out, 401, "wrong-pin", "the PIN is not right");
        out->retry_after = w > wait ? w : wait;
        return 1;
    }
    if (room.teacher_disabled) {
        tf_http_json_error(out, 403, "room-closed", "this room is closed");
        return 1;
    }
    if (tf_room_is_locked(srv, slug)) {
        tf_http_json_error(out, 423, "room-locked", "the teacher has locked the room");
        return 1;
    }
    if (live_people(api, slug) >= room.max_participants) {
        tf_http_json_error(out, 409, "room-full", "this room has reached its participant limit");
        return 1;
    }
    if (room.lobby) {
        tf_lobby_entry_t *e;
        int rc = tf_lobby_enqueue(api->lobby, slug, name, now, &e);
        if (rc < 0) {
            tf_http_json_error(out, 503, "lobby-full", "");
            return 1;
        }
        tf__api_json(out, 202, "{\"state\": \"waiting\", \"ticket\": \"%s\"}\n", e->ticket);
        notify_lobby(api, slug);
        return 1;
    }
    char token[TF_JOIN_TOKEN_LEN + 1];
    apply_rules(api, &room);
    if (tf_join_token_issue(api->lobby, slug, name, TF_ROLE_PUPIL, now, token, sizeof(token)) < 0) {
        tf_http_json_error(out, 503, "busy", "");
        return 1;
    }
    tf__api_json(out, 200, "{\"state\": \"admitted\", \"token\": \"%s\", \"name\": \"%s\"}\n",
                 token, name);
    return 1;
}

static int pupil_poll(tf_api_t *api, const char *slug, const char *ticket, tf_http_reply_t *out)
{
    tf_lobby_state_t st;
    char token[TF_JOIN_TOKEN_LEN + 1] = "";
    if (tf_lobby_poll(api->lobby, slug, ticket, tf__api_now(), &st, token, sizeof(token)) < 0) {
        tf_http_json_error(out, 404, "no-such-ticket", "not waiting (any more): join again");
        return 1;
    }
    if (st == TF_LOBBY_WAITING)
        tf__api_json(out, 200, "{\"state\": \"waiting\"}\n");
    else if (st == TF_LOBBY_DENIED) {
        tf__api_json(out, 200, "{\"state\": \"denied\"}\n");
        notify_lobby(api, slug);
    } else {
        tf__api_json(out, 200, "{\"state\": \"admitted\", \"token\": \"%s\"}\n", token);
        notify_lobby(api, slug);
    }
    return 1;
}

/* ---- the room's teacher ---- */

typedef struct list_ctx {
    buf_t *b;
    int first;
    int64_t now;
} list_ctx_t;

static void list_one(void *ud, const tf_lobby_entry_t *e)
{
    list_ctx_t *c = ud;
    char name[400];
    tf_json_escape(name, sizeof(name), e->name);
    bprintf(c->b, "%s{\"ticket\": \"%s\", \"name\": \"%s\", \"waiting_s\": %lld}",
            c->first ? "" : ", ", e->ticket, name, (long long)(c->now - e->since));
    c->first = 0;
}

static void lobby_list(tf_api_t *api, const char *slug, tf_http_reply_t *out)
{
    buf_t b = {0};
    list_ctx_t c = {&b, 1, tf__api_now()};
    bprintf(&b, "{\"waiting\": [");
    tf_lobby_list(api->lobby, slug, c.now, list_one, &c);
    bprintf(&b, "]}\n");
    reply_buf(out, &b);
}

static void participants(tf_api_t *api, const char *slug, tf_http_reply_t *out)
{
    buf_t b = {0};
    live_people(api, slug);
    bprintf(&b, "{\"participants\": [");
    int first = 1;
    for (int i = 0; i < api->n_people; i++) {
        const tf_api_participant_t *p = &api->people[i];
        if (strcmp(p->room, slug) != 0)
            continue;
        char name[400];
        tf_json_escape(name, sizeof(name), p->name);
        bprintf(&b, "%s{\"session\": \"%s\", \"name\": \"%s\", \"role\": \"%s\"}",
                first ? "" : ", ", p->session, name, p->role ? "teacher" : "pupil");
        first = 0;
    }
    bprintf(&b, "]}\n");
    reply_buf(out, &b);
}

static void answer_pupil(tf_api_t *api, const tf_store_room_t *room, const tf_http_request_t *req,
                         int admit, tf_http_reply_t *out)
{
    char ticket[TF_LOBBY_TICKET_LEN + 8];
    if (tf_form_get(req->body, req->len, "ticket", ticket, sizeof(ticket)) < 0) {
        tf_http_json_error(out, 400, "bad-request", "which ticket?");
        return;
    }
    int rc = admit ? tf_lobby_admit(api->lobby, room->slug, ticket)
                   : tf_lobby_deny(api->lobby, room->slug, ticket);
    if (rc < 0) {
        tf_http_json_error(out, 404, "no-such-ticket", "nobody waits with that ticket");
        return;
    }
    audit(api, room, admit ? "admit" : "deny", "");
    tf__api_json(out, 200, "{\"ok\": true}\n");
}

static void teacher_token(tf_api_t *api, const tf_store_room_t *room, tf_http_reply_t *out)
{
    char token[TF_JOIN_TOKEN_LEN + 1], name[65], esc[400];
    size_t n = strlen(room->teacher_name);
    if (n >= sizeof(name)) { /* cut at a UTF-8 character boundary */
        n = sizeof(name) - 1;
        while (n > 0 && ((unsigned char)room->teacher_name[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(name, room->teacher_name, n);
    name[n] = '\0';
    if (tf_join_token_issue(api->lobby, room->slug, name, TF_ROLE_TEACHER, tf__api_now(), token,
                            sizeof(token)) < 0) {
        tf_http_json_error(out, 503, "busy", "");
        return;
    }
    apply_rules(api, room);
    tf_json_escape(esc, sizeof(esc), name);
    tf__api_json(out, 200, "{\"token\": \"%s\", \"name\": \"%s\"}\n", token, esc);
}

static void moderate(tf_api_t *api, const tf_store_room_t *room, const tf_http_request_t *req,
                     tf_http_reply_t *out)
{
    char action[32], target[64] = "", arg[128] = "", err[256] = "";
    tf_mod_action_t a;
    if (tf_form_get(req->body, req->len, "action", action, sizeof(action)) < 0) {
        tf_http_json_error(out, 400, "bad-request", "which action?");
        return;
    }
    for (char *p = action; *p; p++)
        if (*p == '-')
            *p = '_';
    if (tf_mod_action_parse(action, &a) < 0) {
        tf_http_json_error(out, 400, "bad-action", action);
        return;
    }
    int e1 = tf_form_get(req->body, req->len, "target", target, sizeof(target));
    int e2 = tf_form_get(req->body, req->len, "arg", arg, sizeof(arg));
    if ((e1 < 0 && e1 != -ENOENT) || (e2 < 0 && e2 != -ENOENT)) {
        tf_http_json_error(out, 400, "bad-request", "target or arg malformed");
        return;
    }
    int rc = tf_moderate(api->srv, room->slug, a, target, arg, err, sizeof(err));
    if (rc == -ENOENT) {
        tf_http_json_error(out, 404, "no-such-participant", err[0] ? err : "not in the room");
        return;
    }
    if (rc < 0) {
        tf_http_json_error(out, 400, "bad-argument", err);
        return;
    }
    audit(api, room, action, a == TF_MOD_LAYOUT ? arg : target[0] ? "one participant" : "");
    tf__api_json(out, 200, "{\"ok\": true}\n");
}

static void pin_reset(tf_api_t *api, const tf_store_room_t *room, tf_http_reply_t *out)
{
    char pin[TF_STORE_PIN_LEN + 1];
    if (tf_store_pin_reset(api->store, room->teacher_email, pin) < 0) {
        tf_http_json_error(out, 500, "store", "");
        return;
    }
    audit(api, room, "pin-reset", "");
    tf__api_json(out, 200, "{\"pin\": \"%s\"}\n", pin);
}

static void settings_json(const tf_store_room_t *r, tf_http_reply_t *out)
{
    tf__api_json(out, 200,
                 "{\"slug\": \"%s\", \"lobby\": %d, \"default_layout\": \"%s\", "
                 "\"pupils_unmute\": %d, \"pupils_video\": %d, \"pupils_chat\": %d, "
                 "\"max_participants\": %d}\n",
                 r->slug, r->lobby, r->default_layout, r->pupils_unmute, r->pupils_video,
                 r->pupils_chat, r->max_participants);
}

/* One optional 0/1 field (or a number for max_participants). 0 absent/ok, -1 malformed. */
static int form_int(const tf_http_request_t *req, const char *key, int *v, int lo, int hi)
{
    char s[16];
    int rc = tf_form_get(req->body, req->len, key, s, sizeof(s));
    if (rc == -ENOENT)
        return 0;
    char *end;
    long x = strtol(s, &end, 10);
    if (rc < 0 || end == s || *end || x < lo || x > hi)
        return -1;
    *v = (int)x;
    return 0;
}

static void settings_set(tf_api_t *api, tf_store_room_t *room, const tf_http_request_t *req,
                         tf_http_reply_t *out)
{
    tf_store_room_t r = *room;
    char layout[16];
    int rc = tf_form_get(req->body, req->len, "default_layout", layout, sizeof(layout));
    if (rc == 0)
        snprintf(r.default_layout, sizeof(r.default_layout), "%s", layout);
    if ((rc < 0 && rc != -ENOENT) || form_int(req, "lobby", &r.lobby, 0, 1) < 0 ||
        form_int(req, "pupils_unmute", &r.pupils_unmute, 0, 1) < 0 ||
        form_int(req, "pupils_video", &r.pupils_video, 0, 1) < 0 ||
        form_int(req, "pupils_chat", &r.pupils_chat, 0, 1) < 0 ||
        form_int(req, "max_participants", &r.max_participants, 1, 500) < 0) {
        tf_http_json_error(out, 400, "bad-setting",
                           "lobby/pupils_*: 0 or 1, max_participants "
                           "1-500, default_layout grid|speaker|"
                           "presentation");
        return;
    }
    if (tf_store_room_update_settings(api->store, &r) < 0) {
        tf_http_json_error(out, 400, "bad-setting", "the store refused the settings");
        return;
    }
    apply_rules(api, &r);
    audit(api, &r, "settings", "");
    settings_json(&r, out);
}

int tf__api_rooms_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    int post = !strcmp(req->method, "POST"), get = !strcmp(req->method, "GET");
    if (!strncmp(req->path, "/r/", 3) && get) { /* the room link */
        const char *slug = req->path + 3;
        if (!valid_slug(slug, strlen(slug)))
            return 0;
        out->status = 302;
        snprintf(out->location, sizeof(out->location),
                 srv->cfg.auth ? "/join.html?room=%s" : "/room.html?room=%s", slug);
        return 1;
    }
    if (strncmp(req->path, "/api/rooms/", 11) != 0)
        return 0;
    if (!srv->cfg.auth) {
        tf_http_json_error(out, 404, "auth-off", "development mode has no personal rooms");
        return 1;
    }
    const char *slug = req->path + 11, *slash = strchr(slug, '/');
    if (!slash || !valid_slug(slug, (size_t)(slash - slug))) {
        tf_http_json_error(out, 404, "not-found", "");
        return 1;
    }
    char s[17];
    snprintf(s, sizeof(s), "%.*s", (int)(slash - slug), slug);
    const char *what = slash + 1;
    if (!strcmp(what, "join"))
        return pupil_join(api, s, req, out);
    if (!strncmp(what, "lobby/", 6) && get)
        return pupil_poll(api, s, what + 6, out);

    static const struct {
        const char *name;
        int post; /* 1: POST with CSRF; 0: GET */
    } routes[] = {{"lobby", 0}, {"participants", 0}, {"settings", 0}, {"admit", 1},   {"deny", 1},
                  {"token", 1}, {"moderate", 1},     {"pin", 1},      {"settings", 1}};
    int k = -1;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && k < 0; i++)
        if (!strcmp(what, routes[i].name) && (routes[i].post ? post : get))
            k = (int)i;
    if (k < 0) {
        tf_http_json_error(out, post || get ? 404 : 405, "not-found", what);
        return 1;
    }
    tf_store_room_t room;
    if (owner(api, req, s, routes[k].post, &room, out) < 0)
        return 1;
    switch (k) {
    case 0:
        lobby_list(api, s, out);
        break;
    case 1:
        participants(api, s, out);
        break;
    case 2:
        settings_json(&room, out);
        break;
    case 3:
    case 4:
        answer_pupil(api, &room, req, k == 3, out);
        if (out->status == 200)
            notify_lobby(api, s);
        break;
    case 5:
        teacher_token(api, &room, out);
        break;
    case 6:
        moderate(api, &room, req, out);
        break;
    case 7:
        pin_reset(api, &room, out);
        break;
    default:
        settings_set(api, &room, req, out);
        break;
    }
    return 1;
}

/* ---- the WHIP gate ---- */

int tf_api_whip_gate(tf_server_t *srv, const char *room, const tf_http_request_t *req, char *name,
                     size_t name_cap, int *role, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    if (!srv->cfg.auth || !api) {
        *role = tf_session_dev_role(srv, room);
        if (*role == TF_ROLE_PUPIL && tf_room_is_locked(srv, room)) {
            tf_http_json_error(out, 423, "room-locked", "the room is locked");
            return -1;
        }
        return 0;
    }
    if (!strncmp(room, "echo", 4)) {
        /* Self-test rooms send each participant only its own media back: open to everybody,
         * so pupils can check camera and microphone before they have a PIN. (Slugs cannot
         * start with "echo": their alphabet has no 'o'.) */
        *role = TF_ROLE_PUPIL;
        return 0;
    }
    const char *auth = req->authorization;
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
        tf_http_json_error(out, 401, "join-token-required",
                           "join through the room link (name and PIN) or your home page");
        return -1;
    }
    const char *tok = auth + 7;
    while (*tok == ' ')
        tok++;
    if (tf_join_token_consume(api->lobby, room, tok, tf__api_now(), name, name_cap, role) < 0) {
        tf_http_json_error(out, 401, "join-token-required",
                           "the join token is unknown, used or expired: join again");
        return -1;
    }
    tf_store_room_t r;
    if (tf_store_room_find_slug(api->store, room, &r) < 0 || r.teacher_disabled) {
        tf_http_json_error(out, 404, "no-such-room", "");
        return -1;
    }
    if (*role == TF_ROLE_PUPIL && tf_room_is_locked(srv, room)) {
        tf_http_json_error(out, 423, "room-locked", "the teacher has locked the room");
        return -1;
    }
    if (live_people(api, room) >= r.max_participants) {
        tf_http_json_error(out, 409, "room-full", "this room has reached its participant limit");
        return -1;
    }
    return 0;
}

void tf_api_whip_joined(tf_server_t *srv, const char *room, const char *session_id,
                        const char *name, int role)
{
    tf_api_t *api = srv->api;
    if (!api)
        return;
    live_people(api, ""); /* drop the stale ones first */
    if (api->n_people == api->cap_people)
        return;
    tf_api_participant_t *p = &api->people[api->n_people++];
    snprintf(p->room, sizeof(p->room), "%s", room);
    snprintf(p->session, sizeof(p->session), "%s", session_id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->role = role;
}
