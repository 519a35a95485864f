/* api_support.c — the helpdesk's view of one live room (GET /api/support/rooms/{room}): each
 * participant's role, connection, tier, byte counters (the page turns them into bitrates), loss
 * and round-trip time. Never names, session ids (they are capabilities) or content; no list of
 * rooms either — support asks the teacher for the room link, so the view cannot be used to watch
 * who teaches when. Only accounts named in `support-emails` may use it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api_internal.h"
#include "server/log.h"
#include "server/session.h"

/* 1 when email is in the comma-separated list (case-insensitive, spaces ignored). */
static int listed(const char *list, const char *email)
{
    size_t n = strlen(email);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && n && strncasecmp(p, email, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* Copies the raw value of "key": from our own figures JSON (a number, true/false, or a string
 * without its quotes). Not a general JSON parser: the text comes from session.c. */
static void field(const char *js, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    const char *p = strstr(js, pat);
    snprintf(out, cap, "null");
    if (!p)
        return;
    p += strlen(pat);
    int quoted = *p == '"';
    p += quoted;
    size_t n = 0;
    while (p[n] && n + 1 < cap &&
           (quoted ? p[n] != '"' : (isalnum((unsigned char)p[n]) || p[n] == '.' || p[n] == '-')))
        n++;
    if (quoted) /* our tiers are plain words: keep them as a JSON string */
        snprintf(out, cap, "\"%.*s\"", (int)(n < cap - 3 ? n : cap - 3), p);
    else if (n)
        snprintf(out, cap, "%.*s", (int)n, p);
}

static int support_room(tf_api_t *api, const char *room, tf_http_reply_t *out)
{
    size_t cap = 256 + (size_t)api->n_people * 256, len = 0;
    char *b = malloc(cap);
    if (!b) {
        tf_http_json_error(out, 500, "out-of-memory", "");
        return 1;
    }
    len += (size_t)snprintf(b, cap, "{\"participants\": [");
    int k = 0;
    for (int i = 0; i < api->n_people; i++) {
        const tf_api_participant_t *p = &api->people[i];
        tf_session_t *s =
            strcmp(p->room, room) == 0 ? tf_session_find(api->srv, room, p->session) : NULL;
        size_t jn = 0;
        char *js = s ? tf_session_stats_json(s, &jn) : NULL;
        if (!js)
            continue;
        char conn[16], rtt[24], loss[24], in[32], outb[32], tier[40];
        field(js, "connected", conn, sizeof(conn));
        field(js, "rtt_ms", rtt, sizeof(rtt));
        field(js, "loss_percent", loss, sizeof(loss));
        field(js, "bytes_in", in, sizeof(in));
        field(js, "bytes_out", outb, sizeof(outb));
        field(js, "tier", tier, sizeof(tier)); /* from the layout: this receiver's tier */
        free(js);
        len += (size_t)snprintf(b + len, cap - len,
                                "%s{\"n\": %d, \"role\": \"%s\", \"connected\": %s, \"tier\": %s, "
                                "\"rtt_ms\": %s, \"loss_percent\": %s, \"bytes_in\": %s, "
                                "\"bytes_out\": %s}",
                                k ? ", " : "", k + 1, p->role ? "teacher" : "pupil", conn, tier,
                                rtt, loss, in, outb);
        k++;
        if (len + 256 >= cap)
            break;
    }
    snprintf(b + len, cap - len, "]}\n");
    out->status = 200;
    out->content_type = "application/json";
    out->body = b;
    out->len = strlen(b);
    return 1;
}

int tf__api_support_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    const char *prefix = "/api/support/rooms/";
    if (strncmp(req->path, prefix, strlen(prefix)) != 0)
        return 0;
    if (!srv->cfg.auth) {
        tf_http_json_error(out, 404, "auth-off", "development mode has no support view");
        return 1;
    }
    if (strcmp(req->method, "GET") != 0) {
        tf_http_json_error(out, 405, "method-not-allowed", "GET");
        return 1;
    }
    tf_websession_t *s = tf__api_session(api, req);
    if (!s) {
        tf_http_json_error(out, 401, "not-logged-in", "log in with a support account");
        return 1;
    }
    if (!listed(srv->cfg.support_emails, s->email)) {
        tf_http_json_error(out, 403, "forbidden", "this account has no support role");
        return 1;
    }
    const char *room = req->path + strlen(prefix);
    size_t n = strlen(room);
    if (n == 0 || n > 64 ||
        strspn(room, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != n) {
        tf_http_json_error(out, 400, "bad-room-name", "");
        return 1;
    }
    return support_room(api, room, out);
}
