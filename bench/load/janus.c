/* janus.c — tafel-load's `--janus` mode: the same simulated participants against Janus VideoRoom
 * (Janus 1.x HTTP API on loopback) instead of Tafel. Each participant is a publisher PC (its
 * part_t in lg->parts: sends the same clips as against Tafel, receives nothing) plus subscriber
 * PCs that receive the other members' feeds, FEEDS_PER_PC feeds each (2 m= sections per feed;
 * our SDP parser holds TF_SDP_MAX_MEDIA). Transport (ICE, DTLS, SRTP, pacing, depacketizing,
 * decoding, RTCP) is client.c's; this file is signalling, per-stream counters and the summary.
 * It does not start Janus (bench/load/janus.sh does) and does not use trickle ICE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench/load/janus_msg.h"
#include "bench/load/load.h"

#define FEEDS_PER_PC 7
#define MAX_STREAMS (2 * FEEDS_PER_PC)
#define MAX_EV 64
#define SEC 1000000ull
#define KEEPALIVE_US (20 * SEC)
#define ROOM_BASE 1000
#define SIGNAL_LIMIT_US (30 * SEC)         /* attach, join and Janus's offer */
#define SUBSCRIBE_DELAY_US (500 * 1000ull) /* after the room's last publisher is up */

typedef struct lg_janus lg_janus_t;

enum { J_IDLE, J_ATTACHING, J_JOINING, J_STARTING, J_STARTED, J_FAILED };

typedef struct jsub {
    part_t pc; /* first: on_rtp hands back &pc */
    lg_janus_t *j;
    int owner; /* index into lg->parts */
    int state;
    uint64_t handle;
    int n_feeds;
    int feeds[FEEDS_PER_PC]; /* the senders' indexes into lg->parts */
    int n_streams;
    uint32_t ssrc[MAX_STREAMS];
    uint64_t pkts[MAX_STREAMS], other_pkts;
} jsub_t;

typedef struct jpub {
    uint64_t handle;
    int state;
    bool up; /* Janus said webrtcup */
} jpub_t;

struct lg_janus {
    lg_t *lg;
    uint64_t session;
    int rooms, rooms_created;
    bool failed, ready, stopping;
    uint64_t admin;
    jpub_t *pub;       /* per lg->parts entry */
    uint64_t *room_up; /* per room: when its last publisher was up (0: not yet) */
    bool *room_subbed; /* per room: subscriptions sent */
    jsub_t **subs;
    int n_subs, cap_subs;
    lg_http_t *poll;
    uint64_t next_keepalive, next_poll;
    uint64_t requests, errors, events;
    char last_error[192];
    int txn;
};

/* ---- requests ------------------------------------------------------------------------------ */

static void note_error(lg_janus_t *j, const char *what, const tf_janus_msg_t *m)
{
    j->errors++;
    snprintf(j->last_error, sizeof(j->last_error), "%s: %d %s", what, m ? m->error_code : 0,
             m ? m->error : "no response");
    if (j->lg->verbose || j->errors <= 5)
        fprintf(stderr, "tafel-load: janus: %s\n", j->last_error);
}

/* POSTs a JSON object (consumed) to /janus[/session[/handle]]. */
static int post(lg_janus_t *j, uint64_t handle, cJSON *body, lg_http_cb cb, void *arg)
{
    char path[96], txn[24];
    if (handle)
        snprintf(path, sizeof(path), "/janus/%llu/%llu", (unsigned long long)j->session,
                 (unsigned long long)handle);
    else if (j->session)
        snprintf(path, sizeof(path), "/janus/%llu", (unsigned long long)j->session);
    else
        snprintf(path, sizeof(path), "/janus");
    snprintf(txn, sizeof(txn), "t%d", ++j->txn);
    cJSON_AddStringToObject(body, "transaction", txn);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text)
        return -ENOMEM;
    j->requests++;
    int rc = lg_http_request(j->lg, "POST", path, "application/json", text, strlen(text), cb, arg);
    free(text);
    return rc;
}

static cJSON *janus_req(const char *kind)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "janus", kind);
    return o;
}

/* {"janus":"message","body":body[,"jsep":{type,sdp}]} */
static cJSON *message(cJSON *body, const char *jsep_type, const char *sdp)
{
    cJSON *o = janus_req("message");
    cJSON_AddItemToObject(o, "body", body);
    if (jsep_type) {
        cJSON *js = cJSON_AddObjectToObject(o, "jsep");
        cJSON_AddStringToObject(js, "type", jsep_type);
        cJSON_AddStringToObject(js, "sdp", sdp);
    }
    return o;
}

/* A reply's JSON messages (the body de-chunked): their count, or a negative errno. */
static int parse_body(const tf_load_http_resp_t *r, tf_janus_msg_t *m, int max)
{
    if (!r || r->status != 200)
        return -EPROTO;
    char *text = malloc(r->body_len + 1);
    int n = text ? tf_janus_unchunk(r->body, r->body_len, text, r->body_len) : -ENOMEM;
    if (n >= 0)
        n = tf_janus_parse(text, (size_t)n, m, max);
    free(text);
    return n;
}

/* Parses a direct reply into m (one message); false when it is missing or an error. */
static bool reply(lg_janus_t *j, const tf_load_http_resp_t *r, tf_janus_msg_t *m, const char *what)
{
    memset(m, 0, sizeof(*m));
    if (parse_body(r, m, 1) != 1) {
        note_error(j, what, NULL);
        return false;
    }
    if (m->kind == TF_JANUS_ERROR || m->error_code) {
        note_error(j, what, m);
        tf_janus_msg_clear(m);
        return false;
    }
    return true;
}

/* The id a create/attach reply carries (a session or handle), 0 after an error (noted). */
static uint64_t reply_id(lg_janus_t *j, const tf_load_http_resp_t *r, const char *what)
{
    tf_janus_msg_t m;
    if (!reply(j, r, &m, what))
        return 0;
    uint64_t id = m.id;
    tf_janus_msg_clear(&m);
    if (!id)
        note_error(j, what, NULL);
    return id;
}

/* ---- session and rooms --------------------------------------------------------------------- */

static void create_room(lg_janus_t *j);

static void on_room(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    lg_janus_t *j = arg;
    tf_janus_msg_t m;
    if (!reply(j, r, &m, "create room")) {
        j->failed = true;
        return;
    }
    tf_janus_msg_clear(&m);
    if (++j->rooms_created == j->rooms)
        j->ready = true;
    else
        create_room(j);
}

static void create_room(lg_janus_t *j)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "request", "create");
    cJSON_AddNumberToObject(b, "room", ROOM_BASE + j->rooms_created);
    cJSON_AddStringToObject(b, "description", "tafel-load");
    cJSON_AddNumberToObject(b, "publishers", j->lg->participants);
    /* a generous cap (REMB to publishers): Janus forwards what the senders send */
    cJSON_AddNumberToObject(b, "bitrate", 4000000);
    cJSON_AddNumberToObject(b, "fir_freq", 0);
    cJSON_AddStringToObject(b, "audiocodec", "opus");
    cJSON_AddStringToObject(b, "videocodec", "h264");
    cJSON_AddStringToObject(b, "h264_profile", "42e01f");
    cJSON_AddBoolToObject(b, "notify_joining", false);
    if (post(j, j->admin, message(b, NULL, NULL), on_room, j) < 0)
        j->failed = true;
}

static void on_admin_attached(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    lg_janus_t *j = arg;
    if (!(j->admin = reply_id(j, r, "attach"))) {
        j->failed = true;
        return;
    }
    create_room(j);
}

static cJSON *attach_req(void)
{
    cJSON *o = janus_req("attach");
    cJSON_AddStringToObject(o, "plugin", "janus.plugin.videoroom");
    return o;
}

static void on_session(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    lg_janus_t *j = arg;
    if (!(j->session = reply_id(j, r, "create session"))) {
        j->failed = true;
        return;
    }
    j->next_poll = lg_now();
    j->next_keepalive = lg_now() + KEEPALIVE_US;
    if (post(j, 0, attach_req(), on_admin_attached, j) < 0)
        j->failed = true;
}

int lg_janus_start(lg_t *lg)
{
    lg_janus_t *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->lg = lg;
    j->rooms = (lg->cap_parts + lg->participants - 1) / lg->participants;
    j->pub = calloc((size_t)lg->cap_parts, sizeof(*j->pub));
    j->room_up = calloc((size_t)j->rooms, sizeof(*j->room_up));
    j->room_subbed = calloc((size_t)j->rooms, sizeof(*j->room_subbed));
    j->cap_subs = lg->cap_parts * ((lg->participants + FEEDS_PER_PC - 2) / FEEDS_PER_PC + 1);
    j->subs = calloc((size_t)j->cap_subs, sizeof(*j->subs));
    lg->janus = j;
    if (!j->pub || !j->room_up || !j->room_subbed || !j->subs)
        return -ENOMEM;
    return post(j, 0, janus_req("create"), on_session, j);
}

bool lg_janus_ready(const lg_t *lg)
{
    return lg->janus && lg->janus->ready;
}

bool lg_janus_failed(const lg_t *lg)
{
    return lg->janus && lg->janus->failed;
}

/* ---- taking Janus's SDP --------------------------------------------------------------------- */

static int find_ext(const tf_sdp_media_t *m, const char *uri)
{
    for (int i = 0; i < m->n_extmaps; i++)
        if (!strcmp(m->extmaps[i].uri, uri))
            return m->extmaps[i].id < 15 ? m->extmaps[i].id : 0;
    return 0;
}

/* ICE credentials, the DTLS fingerprint and Janus's host candidate (ice_lite, no trickle: all in
 * the SDP). */
static int take_transport(part_t *p, const tf_sdp_t *s)
{
    const tf_sdp_media_t *m = NULL;
    for (int i = 0; i < s->n_media && !m; i++)
        if (s->media[i].port)
            m = &s->media[i];
    if (!m || !m->tr.ice_ufrag[0] || m->tr.n_fingerprints < 1)
        return -EPROTO;
    snprintf(p->srv_ufrag, sizeof(p->srv_ufrag), "%s", m->tr.ice_ufrag);
    if (tf_stun_key_create(&p->srv_key, m->tr.ice_pwd, strlen(m->tr.ice_pwd)) < 0 ||
        dtls_test_client_learn_server(&p->dtls, m->tr.fingerprints[0].value) < 0)
        return -EPROTO;
    for (int i = 0; i < m->n_candidates; i++) {
        const tf_sdp_candidate_t *c = &m->candidates[i];
        if (c->udp && c->component == 1 && c->addr.family == TF_ADDR_V4) {
            memset(&p->to, 0, sizeof(p->to));
            p->to.sin_family = AF_INET;
            p->to.sin_port = htons(c->addr.port);
            memcpy(&p->to.sin_addr, c->addr.ip, 4);
            return 0;
        }
    }
    return -EPROTO;
}

/* ---- publishers ----------------------------------------------------------------------------- */

static void on_pub_message(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    part_t *p = arg;
    tf_janus_msg_t m;
    if (!reply(p->lg->janus, r, &m, "publisher joinandconfigure")) {
        p->lg->join_failures++;
        snprintf(p->fail, sizeof(p->fail), "janus: joinandconfigure refused");
        p->state = P_FAILED;
        return;
    }
    tf_janus_msg_clear(&m); /* an ack: the answer comes as an event */
}

static void on_pub_attached(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    part_t *p = arg;
    lg_janus_t *j = p->lg->janus;
    int port = 0;
    uint64_t id = reply_id(j, r, "publisher attach");
    if (!id || lg_part_open(p, &port) < 0) {
        p->lg->join_failures++;
        p->state = P_FAILED;
        snprintf(p->fail, sizeof(p->fail), "janus: attach failed");
        return;
    }
    j->pub[p->idx].handle = id;
    p->clip = p->lg->clips[p->slot][p->lg->janus_clip]; /* the run's fixed uplink size */
    p->state = P_JOINING;
    tf_janus_local_t l = {.ice_ufrag = p->ufrag,
                          .ice_pwd = p->pwd,
                          .fingerprint = p->dtls.fingerprint,
                          .ip = p->lg->local_ip[0] ? p->lg->local_ip : NULL,
                          .port = port,
                          .a_ssrc = p->a_ssrc,
                          .v_ssrc = p->v_ssrc};
    char offer[4096];
    if (tf_janus_offer(&l, offer, sizeof(offer)) < 0) {
        p->state = P_FAILED;
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "request", "joinandconfigure");
    cJSON_AddNumberToObject(b, "room", ROOM_BASE + p->room);
    cJSON_AddStringToObject(b, "ptype", "publisher");
    cJSON_AddNumberToObject(b, "id", p->idx + 1);
    char name[16];
    snprintf(name, sizeof(name), "p%d", p->idx);
    cJSON_AddStringToObject(b, "display", name);
    cJSON_AddBoolToObject(b, "audio", true);
    cJSON_AddBoolToObject(b, "video", true);
    if (post(j, j->pub[p->idx].handle, message(b, "offer", offer), on_pub_message, p) < 0)
        p->state = P_FAILED;
}

int lg_janus_join(part_t *p)
{
    lg_janus_t *j = p->lg->janus;
    if (!j || !j->ready)
        return -EAGAIN;
    p->state = P_JOINING;
    p->t_join = lg_now();
    return post(j, 0, attach_req(), on_pub_attached, p);
}

static void pub_answer(part_t *p, const char *sdp)
{
    tf_sdp_t *s = malloc(sizeof(*s));
    if (!s || tf_sdp_parse(s, sdp, strlen(sdp), NULL, 0) < 0 || take_transport(p, s) < 0) {
        free(s);
        snprintf(p->fail, sizeof(p->fail), "janus: publisher answer unusable");
        p->state = P_FAILED;
        return;
    }
    for (int i = 0; i < s->n_media; i++) {
        int twcc =
            find_ext(&s->media[i], "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-"
                                   "extensions-01");
        if (twcc)
            p->ext_twcc = (uint8_t)twcc;
        if (s->media[i].kind == TF_SDP_AUDIO)
            p->ext_level =
                (uint8_t)find_ext(&s->media[i], "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    }
    free(s);
    lg_part_start_ice(p, lg_now());
}

/* ---- subscribers ---------------------------------------------------------------------------- */

static void sub_fail(jsub_t *s, const char *why)
{
    snprintf(s->pc.fail, sizeof(s->pc.fail), "janus subscriber: %s", why);
    if (s->j->lg->verbose)
        fprintf(stderr, "tafel-load: participant %d: %s\n", s->owner, s->pc.fail);
    s->pc.state = P_FAILED;
    s->state = J_FAILED;
}

static void on_sub_rtp(part_t *p, const uint8_t *rtp, size_t len)
{
    jsub_t *s = (jsub_t *)p;
    if (len < 12)
        return;
    uint32_t ssrc =
        (uint32_t)rtp[8] << 24 | (uint32_t)rtp[9] << 16 | (uint32_t)rtp[10] << 8 | rtp[11];
    for (int i = 0; i < s->n_streams; i++)
        if (s->ssrc[i] == ssrc) {
            s->pkts[i]++;
            return;
        }
    s->other_pkts++;
}

static void on_sub_started(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    jsub_t *s = arg;
    tf_janus_msg_t m;
    if (!reply(s->j, r, &m, "subscriber start")) {
        sub_fail(s, "start refused");
        return;
    }
    tf_janus_msg_clear(&m);
    s->state = J_STARTED;
    lg_part_start_ice(&s->pc, lg_now());
}

static int sub_streams(jsub_t *s, const tf_sdp_t *o)
{
    part_t *p = &s->pc;
    for (int i = 0; i < o->n_media; i++) {
        const tf_sdp_media_t *m = &o->media[i];
        if (!m->port || m->n_codecs == 0 || m->n_ssrcs == 0)
            continue;
        uint32_t ssrc, rtx;
        lg_media_ssrcs(m, &ssrc, &rtx);
        if (s->n_streams < MAX_STREAMS)
            s->ssrc[s->n_streams++] = ssrc;
        /* the first feed's audio and video are depacketized (and decoded when sampled) */
        if ((m->kind == TF_SDP_AUDIO && !p->srv_a_ssrc) ||
            (m->kind == TF_SDP_VIDEO && !p->srv_v_ssrc))
            lg_part_take_media(p, m);
    }
    return lg_part_open_streams(p);
}

static void sub_offer(jsub_t *s, const char *sdp)
{
    part_t *p = &s->pc;
    int port = 0;
    tf_sdp_t *o = malloc(sizeof(*o));
    char *answer = malloc(32768);
    if (!o || !answer || tf_sdp_parse(o, sdp, strlen(sdp), NULL, 0) < 0) {
        sub_fail(s, "offer unparsable");
        goto out;
    }
    if (lg_part_open(p, &port) < 0 || take_transport(p, o) < 0 || sub_streams(s, o) < 0) {
        sub_fail(s, "offer unusable");
        goto out;
    }
    tf_janus_local_t l = {.ice_ufrag = p->ufrag,
                          .ice_pwd = p->pwd,
                          .fingerprint = p->dtls.fingerprint,
                          .ip = p->lg->local_ip[0] ? p->lg->local_ip : NULL,
                          .port = port,
                          .a_ssrc = p->a_ssrc,
                          .v_ssrc = p->v_ssrc};
    if (tf_janus_answer(o, &l, answer, 32768) < 0) {
        sub_fail(s, "answer too long");
        goto out;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "request", "start");
    s->state = J_STARTING;
    if (post(s->j, s->handle, message(b, "answer", answer), on_sub_started, s) < 0)
        sub_fail(s, "start not sent");
out:
    free(o);
    free(answer);
}

static void on_sub_joined(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    jsub_t *s = arg;
    tf_janus_msg_t m;
    if (!reply(s->j, r, &m, "subscriber join"))
        sub_fail(s, "join refused");
    else
        tf_janus_msg_clear(&m); /* an ack: the offer comes as an event */
}

static void on_sub_attached(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    jsub_t *s = arg;
    lg_janus_t *j = s->j;
    if (!(s->handle = reply_id(j, r, "subscriber attach"))) {
        sub_fail(s, "attach failed");
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "request", "join");
    cJSON_AddStringToObject(b, "ptype", "subscriber");
    cJSON_AddNumberToObject(b, "room", ROOM_BASE + s->pc.room);
    cJSON *streams = cJSON_AddArrayToObject(b, "streams");
    for (int i = 0; i < s->n_feeds; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "feed", s->feeds[i] + 1);
        cJSON_AddItemToArray(streams, f);
    }
    s->state = J_JOINING;
    if (post(j, s->handle, message(b, NULL, NULL), on_sub_joined, s) < 0)
        sub_fail(s, "join not sent");
}

/* Subscriber PCs for every member of room r, each for up to FEEDS_PER_PC of the others' feeds. */
static void subscribe_room(lg_janus_t *j, int room)
{
    lg_t *lg = j->lg;
    for (int i = 0; i < lg->n_parts; i++) {
        part_t *owner = &lg->parts[i];
        if (owner->room != room || owner->state != P_CONNECTED)
            continue;
        jsub_t *s = NULL;
        for (int k = 0; k < lg->n_parts; k++) {
            const part_t *f = &lg->parts[k];
            if (f->room != room || k == i || !j->pub[k].up)
                continue;
            if (!s || s->n_feeds == FEEDS_PER_PC) {
                if (j->n_subs == j->cap_subs || !(s = calloc(1, sizeof(*s))))
                    return;
                j->subs[j->n_subs++] = s;
                s->j = j;
                s->owner = i;
                s->pc.fd = -1;
                s->pc.lg = lg;
                s->pc.idx = lg->cap_parts + j->n_subs; /* distinct ICE transaction ids */
                s->pc.room = room;
                s->pc.slot = owner->slot;
                s->pc.in_room = owner->in_room;
                s->pc.decode = owner->decode;
                s->pc.recv_only = true;
                s->pc.on_rtp = on_sub_rtp;
                s->pc.state = P_JOINING;
                s->pc.t_join = lg_now();
                s->state = J_ATTACHING;
                if (post(j, 0, attach_req(), on_sub_attached, s) < 0)
                    sub_fail(s, "attach not sent");
            }
            s->feeds[s->n_feeds++] = k;
        }
    }
}

/* ---- events ---------------------------------------------------------------------------------- */

static void event(lg_janus_t *j, const tf_janus_msg_t *m)
{
    lg_t *lg = j->lg;
    j->events++;
    for (int i = 0; i < lg->n_parts; i++) {
        if (!j->pub[i].handle || j->pub[i].handle != m->sender)
            continue;
        part_t *p = &lg->parts[i];
        if (m->kind == TF_JANUS_WEBRTCUP)
            j->pub[i].up = true;
        else if (m->error_code) {
            note_error(j, "publisher event", m);
            p->state = P_FAILED;
        } else if (m->sdp && !strcmp(m->jsep_type, "answer") && p->state == P_JOINING)
            pub_answer(p, m->sdp);
        else if (m->kind == TF_JANUS_HANGUP && p->state == P_CONNECTED)
            snprintf(p->fail, sizeof(p->fail), "janus: hangup");
        return;
    }
    for (int i = 0; i < j->n_subs; i++) {
        jsub_t *s = j->subs[i];
        if (s->handle != m->sender)
            continue;
        if (m->error_code) {
            note_error(j, "subscriber event", m);
            sub_fail(s, "error event");
        } else if (m->sdp && !strcmp(m->jsep_type, "offer") && s->state == J_JOINING)
            sub_offer(s, m->sdp);
        return;
    }
}

static void on_poll(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    lg_janus_t *j = arg;
    j->poll = NULL;
    j->next_poll = lg_now() + (r && r->status == 200 ? 0 : SEC);
    if (!r || r->status != 200 || j->stopping)
        return;
    static tf_janus_msg_t m[MAX_EV];
    int n = parse_body(r, m, MAX_EV);
    if (getenv("TAFEL_LOAD_JANUS_DEBUG")) /* bench/load/janus.sh: debugging */
        fprintf(stderr, "tafel-load: janus: events: %.*s\n", (int)r->body_len, r->body);
    for (int i = 0; i < n; i++) {
        event(j, &m[i]);
        tf_janus_msg_clear(&m[i]);
    }
}

static void on_keepalive(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    (void)r;
    (void)arg;
}

void lg_janus_tick(lg_t *lg, uint64_t now)
{
    lg_janus_t *j = lg->janus;
    if (!j || j->stopping)
        return;
    if (j->session && !j->poll && now >= j->next_poll) {
        char path[96];
        snprintf(path, sizeof(path), "/janus/%llu?maxev=%d", (unsigned long long)j->session,
                 MAX_EV);
        j->poll = lg_http_open(lg, "GET", path, NULL, NULL, 0, on_poll, j);
        if (!j->poll)
            j->next_poll = now + SEC;
    }
    if (j->session && now >= j->next_keepalive) {
        post(j, 0, janus_req("keepalive"), on_keepalive, j);
        j->next_keepalive = now + KEEPALIVE_US;
    }
    /* a room is subscribed once every member joined and its publisher PC is up (or failed) */
    for (int room = 0; room < j->rooms; room++) {
        if (j->room_subbed[room])
            continue;
        int members = 0, settled = 0;
        for (int i = 0; i < lg->n_parts; i++) {
            if (lg->parts[i].room != room)
                continue;
            members++;
            settled += j->pub[i].up || lg->parts[i].state == P_FAILED;
        }
        if (members < lg->participants || settled < members) {
            j->room_up[room] = 0;
            continue;
        }
        if (!j->room_up[room])
            j->room_up[room] = now;
        else if (now >= j->room_up[room] + SUBSCRIBE_DELAY_US) {
            j->room_subbed[room] = true;
            subscribe_room(j, room);
        }
    }
    for (int i = 0; i < j->n_subs; i++) {
        jsub_t *s = j->subs[i];
        if (s->state == J_FAILED)
            continue;
        /* part_tick times out ICE and DTLS; the signalling before them is timed out here */
        if (s->pc.state == P_JOINING && now > s->pc.t_join + SIGNAL_LIMIT_US)
            sub_fail(s, "no offer from Janus");
        else
            part_tick(&s->pc, now);
    }
}

bool lg_janus_settled(const lg_t *lg)
{
    const lg_janus_t *j = lg->janus;
    if (!j)
        return true;
    for (int room = 0; room < j->rooms; room++) {
        bool has = false;
        for (int i = 0; i < lg->n_parts && !has; i++)
            has = lg->parts[i].room == room;
        if (has && !j->room_subbed[room])
            return false;
    }
    for (int i = 0; i < j->n_subs; i++)
        if (j->subs[i]->pc.state != P_CONNECTED && j->subs[i]->pc.state != P_FAILED)
            return false;
    return true;
}

/* ---- figures -------------------------------------------------------------------------------- */

void lg_janus_fold(lg_t *lg)
{
    lg_janus_t *j = lg->janus;
    if (!j)
        return;
    for (int i = 0; i < lg->n_parts; i++) {
        p_stats_t *d = &lg->parts[i].st;
        d->rx_bytes = d->rx_video_bytes = d->frames = d->frames_decoded = d->decode_errors = 0;
        d->late_frames = d->freezes = d->freeze_us = d->audio_frames = d->audio_concealed = 0;
        d->nacks = d->plis = 0;
        d->twcc_reported = d->twcc_missing = d->twcc_late = 0;
    }
    for (int k = 0; k < j->n_subs; k++) {
        part_t *s = &j->subs[k]->pc, *p = &lg->parts[j->subs[k]->owner];
        p_stats_t *d = &p->st;
        const p_stats_t *e = &s->st;
        d->rx_bytes += e->rx_bytes;
        d->rx_video_bytes += e->rx_video_bytes;
        d->frames += e->frames;
        d->frames_decoded += e->frames_decoded;
        d->decode_errors += e->decode_errors;
        d->late_frames += e->late_frames;
        d->freezes += e->freezes;
        d->freeze_us += e->freeze_us;
        d->audio_frames += e->audio_frames;
        d->audio_concealed += e->audio_concealed;
        d->nacks += e->nacks;
        d->plis += e->plis;
        p->sec_bytes += s->sec_bytes;
        s->sec_bytes = 0;
        if (s->t_first_frame && (!p->t_first_frame || s->t_first_frame < p->t_first_frame))
            p->t_first_frame = s->t_first_frame;
        if (s->last_frame_at > p->last_frame_at)
            p->last_frame_at = s->last_frame_at;
    }
}

void lg_janus_stop(lg_t *lg)
{
    lg_janus_t *j = lg->janus;
    if (!j || j->stopping)
        return;
    j->stopping = true;
    lg_ws_close(&j->poll);
    for (int i = 0; i < j->n_subs; i++)
        part_free(&j->subs[i]->pc);
}

void lg_janus_report(const lg_t *lg, const char *outdir)
{
    const lg_janus_t *j = lg->janus;
    if (!j)
        return;
    char path[600];
    snprintf(path, sizeof(path), "%s/report.md", outdir);
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    uint64_t end = lg->t_end ? lg->t_end : lg_now();
    double sum = 0, lo = -1, hi = 0;
    int nr = 0, subs_ok = 0, streams = 0, streams_live = 0;
    uint64_t pkts = 0;
    for (int k = 0; k < j->n_subs; k++) {
        const jsub_t *s = j->subs[k];
        subs_ok += s->pc.t_connected != 0;
        for (int i = 0; i < s->n_streams; i++) {
            streams++;
            streams_live += s->pkts[i] > 0;
            pkts += s->pkts[i];
        }
    }
    fprintf(f,
            "\n## Janus VideoRoom (server: janus)\n\n"
            "Janus 1.x VideoRoom (bench/load/janus.sh: a private network namespace, HTTP API "
            "on 127.0.0.1, ICE on the namespace's 10.254.0.1), driven by the same generator: "
            "every participant "
            "publishes the same clips as against Tafel at one fixed size (%dx%d, ~%d kbit/s: "
            "Janus sends no `uplink` message) and subscribes to the other members' feeds, %d per "
            "subscriber "
            "PeerConnection. Downstream is measured per receiver over all its subscriber "
            "PCs, from each PC's DTLS completion to the end of the run.\n\n"
            "| receiver | subscriber PCs connected | downstream kbit/s | video frames "
            "(first feed) | decoded |\n|---|---|---|---|---|\n",
            tf_clip_sizes[lg->janus_clip].w, tf_clip_sizes[lg->janus_clip].h,
            tf_clip_sizes[lg->janus_clip].kbps, FEEDS_PER_PC);
    for (int i = 0; i < lg->n_parts; i++) {
        double kb = 0;
        int pcs = 0, up = 0;
        for (int k = 0; k < j->n_subs; k++) {
            const part_t *s = &j->subs[k]->pc;
            if (j->subs[k]->owner != i)
                continue;
            pcs++;
            if (s->t_connected && end > s->t_connected) {
                up++;
                kb += (double)s->st.rx_bytes * 8 / 1000 / ((double)(end - s->t_connected) / 1e6);
            }
        }
        if (!pcs)
            continue;
        nr++;
        sum += kb;
        lo = lo < 0 || kb < lo ? kb : lo;
        hi = kb > hi ? kb : hi;
        fprintf(f, "| %d | %d of %d | %.0f | %llu | %llu |\n", i, up, pcs, kb,
                (unsigned long long)lg->parts[i].st.frames,
                (unsigned long long)lg->parts[i].st.frames_decoded);
    }
    fprintf(f,
            "\n- downstream per receiver (measured): mean **%.0f kbit/s** (min %.0f, max %.0f) "
            "over %d receivers\n- subscriber PCs connected: %d of %d; streams with packets: %d "
            "of %d (%llu RTP packets)\n- Janus API: %llu requests, %llu events, %llu errors%s%s\n",
            nr ? sum / nr : 0, lo < 0 ? 0 : lo, hi, nr, subs_ok, j->n_subs, streams_live, streams,
            (unsigned long long)pkts, (unsigned long long)j->requests,
            (unsigned long long)j->events, (unsigned long long)j->errors,
            j->last_error[0] ? "; last: " : "", j->last_error);
    fclose(f);
    char jp[600];
    snprintf(jp, sizeof(jp), "%s/janus.json", outdir);
    FILE *js = fopen(jp, "w");
    if (js) {
        fprintf(js,
                "{\"server\": \"janus\", \"receivers\": %d, \"downstream_kbps_mean\": %.1f, "
                "\"downstream_kbps_min\": %.1f, \"downstream_kbps_max\": %.1f, "
                "\"subscriber_pcs\": %d, \"subscriber_pcs_connected\": %d, \"streams\": %d, "
                "\"streams_with_packets\": %d, \"rtp_packets\": %llu, \"errors\": %llu}\n",
                nr, nr ? sum / nr : 0, lo < 0 ? 0 : lo, hi, j->n_subs, subs_ok, streams,
                streams_live, (unsigned long long)pkts, (unsigned long long)j->errors);
        fclose(js);
    }
    printf("tafel-load: janus: downstream per receiver %.0f kbit/s (mean of %d), %d of %d "
           "subscriber PCs connected, %d of %d streams with packets, %llu API errors\n",
           nr ? sum / nr : 0, nr, subs_ok, j->n_subs, streams_live, streams,
           (unsigned long long)j->errors);
}

void lg_janus_free(lg_t *lg)
{
    lg_janus_t *j = lg->janus;
    if (!j)
        return;
    for (int i = 0; i < j->n_subs; i++)
        free(j->subs[i]);
    free(j->subs);
    free(j->pub);
    free(j->room_up);
    free(j->room_subbed);
    free(j);
    lg->janus = NULL;
}
