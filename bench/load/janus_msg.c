/* janus_msg.c — parses Janus HTTP API replies and events, and writes the publisher offer and the
 * subscriber answer tafel-load sends to Janus VideoRoom (janus_msg.h). Sans-IO: no sockets, no
 * clock; JSON through cJSON. Not a Janus client: the HTTP requests are janus.c's. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench/load/janus_msg.h"

#define ID_MAX 9007199254740992.0 /* 2^53: Janus keeps its ids exact in JavaScript numbers */

static const struct {
    const char *name;
    tf_janus_kind_t kind;
} KINDS[] = {{"success", TF_JANUS_SUCCESS},   {"ack", TF_JANUS_ACK},
             {"event", TF_JANUS_EVENT},       {"error", TF_JANUS_ERROR},
             {"webrtcup", TF_JANUS_WEBRTCUP}, {"media", TF_JANUS_MEDIA},
             {"hangup", TF_JANUS_HANGUP},     {"keepalive", TF_JANUS_KEEPALIVE},
             {"slowlink", TF_JANUS_SLOWLINK}};

void tf_janus_msg_clear(tf_janus_msg_t *m)
{
    if (!m)
        return;
    free(m->sdp);
    memset(m, 0, sizeof(*m));
}

/* An id: absent is 0; present must be an integer in [0, 2^53). */
static int get_id(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = 0;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= ID_MAX ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return -EPROTO;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static void copy_str(char *dst, size_t cap, const cJSON *v)
{
    if (cJSON_IsString(v) && v->valuestring)
        snprintf(dst, cap, "%s", v->valuestring);
}

static int parse_one(const cJSON *o, tf_janus_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "janus");
    if (!cJSON_IsObject(o) || !cJSON_IsString(j) || !j->valuestring)
        return -EPROTO;
    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
        if (!strcmp(j->valuestring, KINDS[i].name))
            m->kind = KINDS[i].kind;
    if (get_id(o, "sender", &m->sender) < 0)
        return -EPROTO;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
    if (cJSON_IsObject(data) && get_id(data, "id", &m->id) < 0)
        return -EPROTO;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsObject(err)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "code");
        m->error_code = cJSON_IsNumber(c) ? c->valueint : -1;
        copy_str(m->error, sizeof(m->error), cJSON_GetObjectItemCaseSensitive(err, "reason"));
    }
    const cJSON *pd = cJSON_GetObjectItemCaseSensitive(o, "plugindata");
    const cJSON *pdd = cJSON_IsObject(pd) ? cJSON_GetObjectItemCaseSensitive(pd, "data") : NULL;
    if (cJSON_IsObject(pdd)) {
        copy_str(m->videoroom, sizeof(m->videoroom),
                 cJSON_GetObjectItemCaseSensitive(pdd, "videoroom"));
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(pdd, "error_code");
        if (cJSON_IsNumber(c)) {
            m->error_code = c->valueint ? c->valueint : -1;
            copy_str(m->error, sizeof(m->error), cJSON_GetObjectItemCaseSensitive(pdd, "error"));
        }
    }
    const cJSON *jsep = cJSON_GetObjectItemCaseSensitive(o, "jsep");
    if (cJSON_IsObject(jsep)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(jsep, "type");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(jsep, "sdp");
        copy_str(m->jsep_type, sizeof(m->jsep_type), t);
        if (cJSON_IsString(s) && s->valuestring) {
            m->sdp = strdup(s->valuestring);
            if (!m->sdp)
                return -ENOMEM;
        }
    }
    return 0;
}

int tf_janus_parse(const char *json, size_t len, tf_janus_msg_t *out, int max)
{
    if (!json || !out || max < 1)
        return -EINVAL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return -EPROTO;
    int n = 0, rc = 0;
    if (cJSON_IsArray(root)) {
        const cJSON *el;
        cJSON_ArrayForEach(el, root)
        {
            if (n == max)
                break;
            if ((rc = parse_one(el, &out[n])) < 0) {
                tf_janus_msg_clear(&out[n]);
                break;
            }
            n++;
        }
    } else {
        rc = parse_one(root, &out[0]);
        if (rc < 0)
            tf_janus_msg_clear(&out[0]);
        else
            n = 1;
    }
    cJSON_Delete(root);
    if (rc < 0) {
        for (int i = 0; i < n; i++)
            tf_janus_msg_clear(&out[i]);
        return rc;
    }
    return n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int tf_janus_unchunk(const char *body, size_t len, char *out, size_t cap)
{
    if (!body || !out)
        return -EINVAL;
    if (len > 0 && (body[0] == '{' || body[0] == '[')) {
        if (len > cap || len > 0x7fffffff)
            return -ENOBUFS;
        memcpy(out, body, len);
        return (int)len;
    }
    size_t i = 0, n = 0;
    for (;;) {
        size_t size = 0;
        int digits = 0, h;
        while (i < len && (h = hexval(body[i])) >= 0) {
            if (++digits > 7) /* 256 MiB: more than any reply */
                return -EPROTO;
            size = size * 16 + (size_t)h;
            i++;
        }
        if (!digits)
            return -EPROTO;
        while (i < len && body[i] != '\r' && body[i] != '\n') /* ";ext" */
            i++;
        if (i + 1 >= len || body[i] != '\r' || body[i + 1] != '\n')
            return -EPROTO;
        i += 2;
        if (size == 0)
            return (int)n; /* the last chunk; trailers are not read */
        if (size > len - i || len - i - size < 2 || body[i + size] != '\r' ||
            body[i + size + 1] != '\n')
            return -EPROTO;
        if (size > cap - n || n + size > 0x7fffffff)
            return -ENOBUFS;
        memcpy(out + n, body + i, size);
        n += size;
        i += size + 2;
    }
}

#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define URI_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

int tf_janus_offer(const tf_janus_local_t *l, char *out, size_t cap)
{
    int n = snprintf(
        out, cap,
        "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
        "a=msid-semantic: WMS lg\r\n"
        "m=audio %d UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\n"
        "a=candidate:1 1 udp 2122260223 %s %d typ host\r\n"
        "a=end-of-candidates\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:active\r\na=mid:0\r\n"
        "a=extmap:1 " URI_LEVEL "\r\na=extmap:3 " URI_TWCC "\r\n"
        "a=sendonly\r\na=msid:lg a0\r\na=rtcp-mux\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:%u cname:lg\r\n"
        "m=video %d UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 127.0.0.1\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:active\r\na=mid:1\r\n"
        "a=extmap:3 " URI_TWCC "\r\n"
        "a=sendonly\r\na=msid:lg v0\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
        "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 transport-cc\r\n"
        "a=rtcp-fb:102 ccm fir\r\na=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
        "a=ssrc:%u cname:lg\r\n",
        l->a_ssrc >> 1, l->port, l->ip ? l->ip : "127.0.0.1", l->port, l->ice_ufrag, l->ice_pwd,
        l->fingerprint, l->a_ssrc, l->port, l->ice_ufrag, l->ice_pwd, l->fingerprint, l->v_ssrc);
    return n < 0 || (size_t)n >= cap ? -ENOBUFS : n;
}

/* Appends to out[*off..cap); -ENOBUFS (and *off = cap, so every later put fails too) once it no
 * longer fits. */
static int put(char *out, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int put(char *out, size_t cap, size_t *off, const char *fmt, ...)
{
    if (*off >= cap)
        return -ENOBUFS;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *off, cap - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *off) {
        *off = cap;
        return -ENOBUFS;
    }
    *off += (size_t)n;
    return 0;
}

static int usable(const tf_sdp_media_t *m)
{
    return m->port != 0 && m->n_codecs > 0 && (m->kind == TF_SDP_AUDIO || m->kind == TF_SDP_VIDEO);
}

int tf_janus_answer(const tf_sdp_t *o, const tf_janus_local_t *l, char *out, size_t cap)
{
    int any = 0;
    for (int i = 0; i < o->n_media; i++)
        any |= usable(&o->media[i]);
    if (!any)
        return -EPROTO;
    size_t off = 0;
    put(out, cap, &off, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE",
        (l->v_ssrc ^ l->a_ssrc) >> 1);
    for (int i = 0; i < o->n_media; i++)
        if (usable(&o->media[i]))
            put(out, cap, &off, " %s", o->media[i].mid);
    put(out, cap, &off, "\r\na=msid-semantic: WMS *\r\n");
    int first = 1;
    for (int i = 0; i < o->n_media; i++) {
        const tf_sdp_media_t *m = &o->media[i];
        if (!usable(m)) {
            put(out, cap, &off, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=inactive\r\n",
                m->type, m->proto, m->fmt0, m->mid);
            continue;
        }
        const tf_sdp_codec_t *c = &m->codecs[0];
        put(out, cap, &off,
            "m=%s %d UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 127.0.0.1\r\na=mid:%s\r\na=recvonly\r\n"
            "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:active\r\n"
            "a=rtcp-mux\r\n",
            m->type, l->port, c->pt, m->mid, l->ice_ufrag, l->ice_pwd, l->fingerprint);
        if (first)
            put(out, cap, &off,
                "a=candidate:1 1 udp 2122260223 %s %d typ host\r\na=end-of-candidates\r\n",
                l->ip ? l->ip : "127.0.0.1", l->port);
        first = 0;
        if (c->channels)
            put(out, cap, &off, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock, c->channels);
        else
            put(out, cap, &off, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock);
        if (c->fmtp[0])
            put(out, cap, &off, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
        if (m->kind == TF_SDP_VIDEO)
            put(out, cap, &off, "a=rtcp-fb:%u nack\r\na=rtcp-fb:%u nack pli\r\n", c->pt, c->pt);
    }
    return off >= cap ? -ENOBUFS : (int)off;
}
