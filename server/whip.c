/* whip.c — the HTTP API of `tafel serve`: WHIP join/leave (DESIGN §5, RFC 9725 shape), session
 * figures, health. Requests come parsed from http.c; media work is session.c's. */
#include "server/whip.h"

#include <ctype.h>
#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/moderate.h"
#include "server/session.h"

#define ANSWER_CAP 16384

static int valid_room(const char *r, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)r[i]) && r[i] != '-' && r[i] != '_')
            return 0;
    return 1;
}

/* name=... from a query string, URL-decoded; control characters and quotes are dropped. */
static void query_name(const char *q, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = q;
    while (p && *p) {
        if (!strncmp(p, "name=", 5)) {
            p += 5;
            size_t j = 0;
            while (*p && *p != '&' && j + 1 < cap) {
                int c = (unsigned char)*p++;
                if (c == '+')
                    c = ' ';
                else if (c == '%' && isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1])) {
                    char hex[3] = {p[0], p[1], 0};
                    c = (int)strtol(hex, NULL, 16);
                    p += 2;
                }
                if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
                    out[j++] = (char)c;
            }
            out[j] = '\0';
            return;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
}

static int whip_post(tf_server_t *srv, const char *room, const tf_http_request_t *req,
                     tf_http_reply_t *out)
{
    if (strncasecmp(req->content_type, "application/sdp", 15) != 0) {
        tf_http_json_error(out, 415, "unsupported-media-type",
                           "POST an SDP offer with Content-Type: application/sdp");
        return 1;
    }
    if (srv->n_sessions >= srv->cfg.max_sessions) {
        tf_http_json_error(out, 503, "server-full", "the server has no room for more sessions");
        return 1;
    }
    if (tf_session_room_count(srv, room) >= srv->cfg.max_room) {
        tf_http_json_error(out, 409, "room-full", "this room has reached its participant limit");
        return 1;
    }
    char err[256] = "";
    tf_sdp_t *offer = malloc(sizeof(*offer));
    char *answer = malloc(ANSWER_CAP);
    if (!offer || !answer) {
        free(offer);
        free(answer);
        tf_http_json_error(out, 500, "out-of-memory", "");
        return 1;
    }
    int e = tf_sdp_parse(offer, req->body, req->len, err, sizeof(err));
    if (e < 0) {
        tf_http_json_error(out, 400, "bad-offer", err[0] ? err : "the body is not an SDP offer");
        goto done;
    }
    char name[65];
    query_name(req->query, name, sizeof(name));
    int role = 0;
    if (tf_api_whip_gate(srv, room, req, name, sizeof(name), &role, out) < 0)
        goto done; /* no join token (auth), a locked room or a full one */
    tf_session_t *s = NULL;
    int status = 500;
    e = tf_session_create(&s, srv, room, name, offer, answer, ANSWER_CAP, &status, err,
                          sizeof(err));
    if (e < 0) {
        tf_http_json_error(out, status, status == 406 ? "no-common-codec" : "bad-offer", err);
        goto done;
    }
    tf_session_set_role(s, (tf_role_t)role);
    tf_moderate_session_joined(srv, s); /* the room's camera rule and stored layout */
    tf_api_whip_joined(srv, room, tf_session_id(s), name, role);
    out->status = 201;
    out->content_type = "application/sdp";
    snprintf(out->location, sizeof(out->location), "/whip/%s/%s", room, tf_session_id(s));
    out->body = answer;
    out->len = strlen(answer);
    answer = NULL;
done:
    free(offer);
    free(answer);
    return 1;
}

/* Process-wide figures for operators and for the tests that check nothing leaks. */
static int server_stats(tf_server_t *srv, tf_http_reply_t *out)
{
    int rooms = 0, members = 0, venc = 0, aenc = 0, dec = 0;
    uint64_t drops = 0, control_drops = 0;
    for (int i = 0; i < srv->n_workers; i++) {
        tf_worker_t *w = &srv->workers[i];
        rooms += w->rooms_open;
        members += w->members;
        venc += w->video_encoders;
        aenc += w->audio_encoders;
        dec += w->decoders;
        drops += tf_queue_dropped(&w->in) + tf_queue_dropped(&w->out);
        control_drops += tf_queue_dropped_control(&w->in) + tf_queue_dropped_control(&w->out);
    }
    long rss_pages = 0, threads = 0, fds = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long size_pages = 0;
        if (fscanf(f, "%ld %ld", &size_pages, &rss_pages) != 2)
            rss_pages = 0;
        fclose(f);
    }
    char line[256];
    if ((f = fopen("/proc/self/status", "r"))) {
        while (fgets(line, sizeof(line), f))
            if (!strncmp(line, "Threads:", 8))
                threads = strtol(line + 8, NULL, 10);
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        while (readdir(d))
            fds++;
        closedir(d);
        fds -= 3; /* ".", ".." and the directory's own descriptor */
    }
    struct mallinfo2 mi = mallinfo2(); /* every arena: what the program holds, not what the OS
                                        * still maps for the allocator */
    out->status = 200;
    out->content_type = "application/json";
    out->body = malloc(1024);
    if (!out->body)
        return 1;
    out->len = (size_t)snprintf(
        out->body, 1024,
        "{\"sessions\": %d, \"rooms\": %d, \"members\": %d, \"video_encoders\": %d, "
        "\"audio_encoders\": %d, \"decoders\": %d, \"workers\": %d, \"threads\": %ld, "
        "\"fds\": %ld, \"rss_kib\": %ld, \"heap_in_use_kib\": %zu, \"queue_drops\": %llu, "
        "\"queue_control_drops\": %llu, \"udp_in\": %llu, \"udp_out\": %llu, "
        "\"udp_unrouted\": %llu, \"bad_input\": %llu}\n",
        srv->n_sessions, rooms, members, venc, aenc, dec, srv->n_workers, threads, fds,
        rss_pages * (sysconf(_SC_PAGESIZE) / 1024), (mi.uordblks + mi.hblkhd) / 1024,
        (unsigned long long)drops, (unsigned long long)control_drops,
        (unsigned long long)srv->stats.udp_in, (unsigned long long)srv->stats.udp_out,
        (unsigned long long)srv->stats.udp_unrouted, (unsigned long long)srv->stats.bad_input);
    return 1;
}

int tf_whip_handle(void *ctx, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_server_t *srv = ctx;
    if (!strcmp(req->path, "/api/stats") && !strcmp(req->method, "GET"))
        return server_stats(srv, out);
    if (tf_metrics_handle(srv, req, out)) /* GET /metrics, GET /readyz (metrics.c) */
        return 1;
    if (!strcmp(req->path, "/healthz") && !strcmp(req->method, "GET")) {
        out->status = 200;
        out->content_type = "text/plain";
        out->body = strdup("ok\n");
        out->len = out->body ? 3 : 0;
        return 1;
    }
    if (tf_api_handle(srv, req, out))
        return 1;
    if (strncmp(req->path, "/whip/", 6) != 0)
        return 0;
    const char *room = req->path + 6, *slash = strchr(room, '/');
    size_t room_len = slash ? (size_t)(slash - room) : strlen(room);
    if (!valid_room(room, room_len)) {
        tf_http_json_error(out, 400, "bad-room-name",
                           "room names are 1-64 letters, digits, '-' or '_'");
        return 1;
    }
    char room_s[65];
    snprintf(room_s, sizeof(room_s), "%.*s", (int)room_len, room);
    if (!slash) {
        if (!strcmp(req->method, "POST"))
            return whip_post(srv, room_s, req, out);
        tf_http_json_error(out, 405, "method-not-allowed", "POST an SDP offer to join");
        return 1;
    }
    tf_session_t *s = tf_session_find(srv, room_s, slash + 1);
    if (!s) {
        tf_http_json_error(out, 404, "no-such-session", "the session has ended or never was");
        return 1;
    }
    if (!strcmp(req->method, "DELETE")) {
        tf_session_close(s, "left (DELETE)");
        out->status = 200;
        return 1;
    }
    if (!strcmp(req->method, "GET")) {
        out->status = 200;
        out->content_type = "application/json";
        out->body = tf_session_stats_json(s, &out->len);
        return 1;
    }
    tf_http_json_error(out, 405, "method-not-allowed", "GET for figures, DELETE to leave");
    return 1;
}
