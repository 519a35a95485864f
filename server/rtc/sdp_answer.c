/* sdp_answer.c — decides what Tafel accepts from a parsed offer and writes the ICE-lite,
 * DTLS-passive, BUNDLE + rtcp-mux answer (RFC 8829 §5.3.1, RFC 9143); it never parses text
 * from the network (sdp_parse.c does) and never allocates. */
#include "server/rtc/sdp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(const char *a, const char *b)
{
    while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ---- H.264 profile-level-id ------------------------------------------------------------- */

/* profile_iop patterns from RFC 6184 §8.1, in libwebrtc's order: 'x' = either, '1'/'0' = must.
 * 42e0 and 4de0 are constrained baseline, 4200 baseline, 4d00 main, 640c constrained high. */
static const struct {
    uint8_t idc;
    const char *iop;
    tf_sdp_h264_profile_t profile;
} h264_patterns[] = {
    {0x42, "x1xx0000", TF_SDP_H264_CONSTRAINED_BASELINE},
    {0x4d, "1xxx0000", TF_SDP_H264_CONSTRAINED_BASELINE},
    {0x58, "11xx0000", TF_SDP_H264_CONSTRAINED_BASELINE},
    {0x42, "x0xx0000", TF_SDP_H264_BASELINE},
    {0x58, "10xx0000", TF_SDP_H264_BASELINE},
    {0x4d, "0x0x0000", TF_SDP_H264_MAIN},
    {0x64, "00000000", TF_SDP_H264_HIGH},
    {0x64, "00001100", TF_SDP_H264_CONSTRAINED_HIGH},
    {0xf4, "00000000", TF_SDP_H264_PREDICTIVE_HIGH_444},
};

static bool iop_match(const char *pattern, uint8_t iop)
{
    for (int bit = 0; bit < 8; bit++) {
        int v = (iop >> (7 - bit)) & 1;
        if (pattern[bit] != 'x' && pattern[bit] - '0' != v)
            return false;
    }
    return true;
}

int tf_sdp_h264_profile_level(const char *plid, size_t len, tf_sdp_h264_profile_t *profile,
                              uint8_t *level)
{
    if (!plid || len != 6)
        return -EINVAL;
    uint32_t v = 0;
    for (size_t i = 0; i < 6; i++) {
        int h = hexval((unsigned char)plid[i]);
        if (h < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t)h;
    }
    uint8_t idc = (uint8_t)(v >> 16), iop = (uint8_t)(v >> 8), lvl = (uint8_t)v;
    switch (lvl) {
    case 11: /* constraint_set3_flag turns level 1.1 into 1b (RFC 6184 §8.1) */
        if (iop & 0x10)
            lvl = TF_SDP_H264_LEVEL_1B;
        break;
    case 10:
    case 12:
    case 13:
    case 20:
    case 21:
    case 22:
    case 30:
    case 31:
    case 32:
    case 40:
    case 41:
    case 42:
    case 50:
    case 51:
    case 52:
    case 60:
    case 61:
    case 62:
        break;
    default:
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(h264_patterns) / sizeof(h264_patterns[0]); i++) {
        if (h264_patterns[i].idc == idc && iop_match(h264_patterns[i].iop, iop)) {
            if (profile)
                *profile = h264_patterns[i].profile;
            if (level)
                *level = lvl;
            return 0;
        }
    }
    return -EINVAL;
}

/* Orders levels with 1b between 1 and 1.1. */
static int level_rank(uint8_t level)
{
    return level == TF_SDP_H264_LEVEL_1B ? 21 : level * 2;
}

/* What an H.264 payload type offers; profile 0 when it is unusable. Without profile-level-id
 * libwebrtc assumes constrained baseline 3.1 (not RFC 6184's baseline 1.0), and so do we. */
typedef struct h264_offer {
    tf_sdp_h264_profile_t profile;
    uint8_t level;
    int mode;
    bool asymmetry;
} h264_offer_t;

static h264_offer_t h264_read(const tf_sdp_codec_t *c)
{
    h264_offer_t o = {0};
    char v[16];
    if (c->fmtp_truncated)
        return o;
    int rc = tf_sdp_fmtp_get(c->fmtp, "profile-level-id", v, sizeof(v));
    if (rc == -ENOENT) {
        o.profile = TF_SDP_H264_CONSTRAINED_BASELINE;
        o.level = 31;
    } else if (rc < 0 || tf_sdp_h264_profile_level(v, strlen(v), &o.profile, &o.level) < 0) {
        return (h264_offer_t){0};
    }
    rc = tf_sdp_fmtp_get(c->fmtp, "packetization-mode", v, sizeof(v));
    if (rc == 0 && strcmp(v, "1") == 0)
        o.mode = 1;
    else if (rc != -ENOENT && (rc < 0 || strcmp(v, "0") != 0))
        return (h264_offer_t){0}; /* mode 2 (interleaved) or garbage: not for us */
    o.asymmetry = tf_sdp_fmtp_get(c->fmtp, "level-asymmetry-allowed", v, sizeof(v)) == 0 &&
                  strcmp(v, "1") == 0;
    return o;
}

/* A payload type written in decimal, or -1. */
static int atoi_pt(const char *s)
{
    int v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 127)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= 127 ? v : -1;
}

/* ---- negotiation ------------------------------------------------------------------------- */

void tf_sdp_config_default(tf_sdp_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->codecs = TF_SDP_CODEC_BIT(TF_SDP_CODEC_OPUS) | TF_SDP_CODEC_BIT(TF_SDP_CODEC_H264) |
                  TF_SDP_CODEC_BIT(TF_SDP_CODEC_VP8);
    cfg->video_pref = TF_SDP_PREFER_H264;
    cfg->h264_level = 31;
    cfg->rtx = true;
    cfg->fb_audio = TF_SDP_FB_TWCC;
    cfg->fb_video =
        TF_SDP_FB_NACK | TF_SDP_FB_PLI | TF_SDP_FB_FIR | TF_SDP_FB_REMB | TF_SDP_FB_TWCC;
    cfg->exts = (1u << TF_SDP_EXT_COUNT) - 1;
    cfg->opus_minptime = 10;
    cfg->opus_inband_fec = true;
    cfg->max_audio = 1;
    cfg->max_video = 2;
}

static const struct {
    const char *uri;
    bool audio_only;
} known_exts[TF_SDP_EXT_COUNT] = {
    [TF_SDP_EXT_MID] = {"urn:ietf:params:rtp-hdrext:sdes:mid", false},
    [TF_SDP_EXT_ABS_SEND_TIME] = {"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                                  false},
    [TF_SDP_EXT_TWCC] =
        {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", false},
    [TF_SDP_EXT_AUDIO_LEVEL] = {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", true},
};

static tf_sdp_dir_t mirror(tf_sdp_dir_t d)
{
    return (tf_sdp_dir_t)(((d & 1) << 1) | ((d & 2) >> 1));
}

static bool has_codec(const tf_sdp_config_t *cfg, tf_sdp_codec_id_t id)
{
    return (cfg->codecs & TF_SDP_CODEC_BIT(id)) != 0;
}

/* "no common video codec: offer has VP9, AV1 only" — names the codecs proper, not rtx/red/fec. */
static void no_codec_reason(const tf_sdp_media_t *m, char *out, size_t cap)
{
    static const char *const helpers[] = {"rtx", "red", "ulpfec", "flexfec-03", "telephone-event",
                                          "CN",  ""};
    size_t n = (size_t)snprintf(out, cap, "no common %s codec: offer has ", m->type);
    int listed = 0;
    for (int i = 0; i < m->n_codecs && n < cap; i++) {
        const char *name = m->codecs[i].name;
        bool skip = false;
        for (size_t h = 0; h < sizeof(helpers) / sizeof(helpers[0]) && !skip; h++)
            skip = ieq(name, helpers[h]);
        for (int j = 0; j < i && !skip; j++)
            skip = ieq(name, m->codecs[j].name);
        if (skip)
            continue;
        bool h264 = ieq(name, "H264");
        n += (size_t)snprintf(out + n, cap - n, "%s%s%s", listed ? ", " : "", name,
                              h264 ? " (no constrained baseline, mode 1)" : "");
        listed++;
    }
    if (n < cap)
        snprintf(out + n, cap - n, listed ? " only" : "none");
}

static void choose_audio(const tf_sdp_media_t *m, const tf_sdp_config_t *cfg,
                         tf_sdp_media_answer_t *a)
{
    if (!has_codec(cfg, TF_SDP_CODEC_OPUS))
        return;
    for (int i = 0; i < m->n_codecs; i++) {
        const tf_sdp_codec_t *c = &m->codecs[i];
        if (ieq(c->name, "opus") && c->clock == 48000 && c->channels == 2) {
            a->codec = TF_SDP_CODEC_OPUS;
            a->pt = c->pt;
            a->fb = c->fb & cfg->fb_audio;
            if (cfg->opus_minptime)
                snprintf(a->fmtp, sizeof(a->fmtp), "minptime=%u%s", cfg->opus_minptime,
                         cfg->opus_inband_fec ? ";useinbandfec=1" : "");
            else if (cfg->opus_inband_fec)
                snprintf(a->fmtp, sizeof(a->fmtp), "useinbandfec=1");
            return;
        }
    }
}

static void choose_video(const tf_sdp_media_t *m, const tf_sdp_config_t *cfg,
                         tf_sdp_media_answer_t *a)
{
    int h264 = -1, h264_mode0 = -1, vp8 = -1;
    h264_offer_t ho = {0}, ho0 = {0};
    for (int i = 0; i < m->n_codecs; i++) {
        const tf_sdp_codec_t *c = &m->codecs[i];
        if (c->clock != 90000)
            continue;
        if (ieq(c->name, "VP8") && vp8 < 0) {
            vp8 = i;
        } else if (ieq(c->name, "H264")) {
            h264_offer_t o = h264_read(c);
            if (o.profile != TF_SDP_H264_CONSTRAINED_BASELINE)
                continue;
            if (o.mode == 1 && h264 < 0) {
                h264 = i;
                ho = o;
            } else if (o.mode == 0 && h264_mode0 < 0) {
                h264_mode0 = i;
                ho0 = o;
            }
        }
    }
    if (h264 < 0 && cfg->h264_allow_mode0) {
        h264 = h264_mode0;
        ho = ho0;
    }
    if (!has_codec(cfg, TF_SDP_CODEC_H264))
        h264 = -1;
    if (!has_codec(cfg, TF_SDP_CODEC_VP8))
        vp8 = -1;
    int pick = h264 >= 0 ? h264 : vp8;
    if (vp8 >= 0 && h264 >= 0 &&
        (cfg->video_pref == TF_SDP_PREFER_VP8 ||
         (cfg->video_pref == TF_SDP_PREFER_OFFER && vp8 < h264)))
        pick = vp8;
    if (pick < 0)
        return;
    const tf_sdp_codec_t *c = &m->codecs[pick];
    a->pt = c->pt;
    a->fb = c->fb & cfg->fb_video;
    a->codec = pick == vp8 ? TF_SDP_CODEC_VP8 : TF_SDP_CODEC_H264;
    if (a->codec == TF_SDP_CODEC_H264) {
        /* RFC 6184 §8.2.2: without level-asymmetry-allowed both sides use the lower level. */
        uint8_t lvl = cfg->h264_level;
        if (!ho.asymmetry && level_rank(ho.level) < level_rank(lvl))
            lvl = ho.level;
        if (lvl == TF_SDP_H264_LEVEL_1B)
            snprintf(a->h264_plid, sizeof(a->h264_plid), "42f00b");
        else
            snprintf(a->h264_plid, sizeof(a->h264_plid), "42e0%02x", lvl);
        a->h264_mode = ho.mode;
        snprintf(a->fmtp, sizeof(a->fmtp),
                 "level-asymmetry-allowed=1;packetization-mode=%d;profile-level-id=%s", ho.mode,
                 a->h264_plid);
    }
    for (int i = 0; i < m->n_codecs && cfg->rtx; i++) {
        char apt[8];
        const tf_sdp_codec_t *r = &m->codecs[i];
        if (ieq(r->name, "rtx") && r->clock == 90000 && !r->fmtp_truncated &&
            tf_sdp_fmtp_get(r->fmtp, "apt", apt, sizeof(apt)) == 0 && atoi_pt(apt) == c->pt) {
            a->rtx_pt = r->pt;
            break;
        }
    }
}

static const char *const hash_ok[] = {"sha-256", "sha-384", "sha-512", "sha-1"};

static bool usable_fingerprint(const tf_sdp_transport_t *tr)
{
    for (int i = 0; i < tr->n_fingerprints; i++)
        for (size_t h = 0; h < sizeof(hash_ok) / sizeof(hash_ok[0]); h++)
            if (strcmp(tr->fingerprints[i].hash, hash_ok[h]) == 0)
                return true;
    return false;
}

/* The rules every live section must follow, whatever its codecs (RFC 8829 §5.8, RFC 8839). */
static int check_transport(const tf_sdp_media_t *m, char *err, size_t errlen)
{
    const tf_sdp_transport_t *tr = &m->tr;
    const char *mid = m->mid;
    if (!m->rtcp_mux)
        set_err(err, errlen, "offer lacks a=rtcp-mux (mid %s)", mid);
    else if (!tr->ice_ufrag[0] || !tr->ice_pwd[0])
        set_err(err, errlen, "offer lacks a=ice-%s (mid %s)", tr->ice_ufrag[0] ? "pwd" : "ufrag",
                mid);
    else if (strlen(tr->ice_ufrag) < 4 || strlen(tr->ice_pwd) < 22)
        set_err(err, errlen, "offer's a=ice-ufrag/a=ice-pwd are too short (RFC 8839)");
    else if (tr->n_fingerprints == 0)
        set_err(err, errlen, "offer lacks a=fingerprint (mid %s)", mid);
    else if (!usable_fingerprint(tr))
        set_err(err, errlen, "offer has no a=fingerprint with sha-256, sha-384, sha-512 or sha-1");
    else if (tr->setup == TF_SDP_SETUP_PASSIVE || tr->setup == TF_SDP_SETUP_HOLDCONN)
        set_err(err, errlen, "offer has a=setup:%s; the server can only be DTLS passive",
                tr->setup == TF_SDP_SETUP_PASSIVE ? "passive" : "holdconn");
    else
        return 0;
    return -EPROTO;
}

static int bundle_pos(const tf_sdp_t *o, const char *mid)
{
    for (int i = 0; i < o->n_bundle; i++)
        if (strcmp(o->bundle[i], mid) == 0)
            return i;
    return -1;
}

/* Marks a section rejected, forgetting any codec chosen for it. */
static void reject(tf_sdp_media_answer_t *a, const char *fmt, ...)
{
    memset(a, 0, sizeof(*a));
    a->pt = a->rtx_pt = -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    va_end(ap);
}

/* Is this a section we could take part in: RTP audio or video over DTLS-SRTP, not disabled? */
static bool live(const tf_sdp_media_t *m, tf_sdp_media_answer_t *a)
{
    if (m->port == 0 && !m->bundle_only)
        reject(a, "disabled in the offer (port 0)");
    else if (m->kind == TF_SDP_APPLICATION)
        reject(a, "data channels are not supported");
    else if (m->kind == TF_SDP_OTHER)
        reject(a, "unsupported media type %s", m->type);
    else if (!ieq(m->proto, "UDP/TLS/RTP/SAVPF"))
        reject(a, "unsupported transport %s", m->proto);
    else
        return true;
    return false;
}

int tf_sdp_negotiate(const tf_sdp_t *offer, const tf_sdp_config_t *cfg, tf_sdp_plan_t *plan,
                     char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!offer || !cfg || !plan || offer->n_media < 0 || offer->n_media > TF_SDP_MAX_MEDIA) {
        set_err(err, errlen, "bad arguments");
        return -EINVAL;
    }
    char plid[8];
    snprintf(plid, sizeof(plid), "42e0%02x", cfg->h264_level);
    if (cfg->h264_level != TF_SDP_H264_LEVEL_1B && tf_sdp_h264_profile_level(plid, 6, 0, 0) < 0) {
        set_err(err, errlen, "bad h264_level %u in the configuration", cfg->h264_level);
        return -EINVAL;
    }
    memset(plan, 0, sizeof(*plan));
    plan->n_media = offer->n_media;
    plan->tagged = -1;
    if (offer->ice_lite) {
        /* Two lite agents would both wait for connectivity checks (RFC 8445 §2.5). */
        set_err(err, errlen, "offer is ice-lite; the server is ice-lite too");
        return -EPROTO;
    }
    bool is_live[TF_SDP_MAX_MEDIA];
    for (int i = 0; i < offer->n_media; i++) {
        const tf_sdp_media_t *m = &offer->media[i];
        tf_sdp_media_answer_t *a = &plan->media[i];
        a->pt = a->rtx_pt = -1;
        for (int j = 0; j < i && m->mid[0]; j++)
            if (strcmp(m->mid, offer->media[j].mid) == 0) {
                set_err(err, errlen, "offer repeats a=mid:%s", m->mid);
                return -EPROTO;
            }
        is_live[i] = live(m, a);
        if (!is_live[i])
            continue;
        if (!m->mid[0]) {
            set_err(err, errlen, "offer's m-section %d (%s) lacks a=mid", i, m->type);
            return -EPROTO;
        }
        int rc = check_transport(m, err, errlen);
        if (rc < 0)
            return rc;
    }

    int n_audio = 0, n_video = 0, n_accepted = 0;
    for (int i = 0; i < offer->n_media; i++) {
        const tf_sdp_media_t *m = &offer->media[i];
        tf_sdp_media_answer_t *a = &plan->media[i];
        if (!is_live[i])
            continue;
        bool audio = m->kind == TF_SDP_AUDIO;
        if (audio)
            choose_audio(m, cfg, a);
        else
            choose_video(m, cfg, a);
        if (a->codec == TF_SDP_CODEC_NONE) {
            no_codec_reason(m, a->reason, sizeof(a->reason));
            continue;
        }
        if (audio ? n_audio >= cfg->max_audio : n_video >= cfg->max_video) {
            reject(a, "more than %d %s sections", audio ? cfg->max_audio : cfg->max_video, m->type);
            continue;
        }
        if (offer->n_bundle && bundle_pos(offer, m->mid) < 0) {
            reject(a, "not in the BUNDLE group");
            continue;
        }
        *(audio ? &n_audio : &n_video) += 1;
        n_accepted++;
        a->accepted = true;
        a->dir = mirror(m->dir);
        a->rtcp_rsize = m->rtcp_rsize;
        for (int e = 0; e < m->n_extmaps; e++) {
            const tf_sdp_extmap_t *x = &m->extmaps[e];
            for (int k = 0; k < TF_SDP_EXT_COUNT; k++)
                if (!a->ext[k] && (cfg->exts & (1u << k)) && (audio || !known_exts[k].audio_only) &&
                    !(x->has_dir && x->dir == TF_SDP_INACTIVE) &&
                    strcmp(x->uri, known_exts[k].uri) == 0)
                    a->ext[k] = x->id;
        }
    }
    if (n_accepted == 0) {
        for (int i = 0; i < offer->n_media; i++) {
            tf_sdp_kind_t k = offer->media[i].kind;
            if (k == TF_SDP_AUDIO || k == TF_SDP_VIDEO) {
                set_err(err, errlen, "%s", plan->media[i].reason);
                return -ENOTSUP;
            }
        }
        set_err(err, errlen, "offer has no audio or video section");
        return -ENOTSUP;
    }
    if (n_accepted > 1 && offer->n_bundle == 0) {
        set_err(err, errlen, "offer has %d media sections but no a=group:BUNDLE", n_accepted);
        return -EPROTO;
    }
    /* RFC 9143 §7.3.1: the answerer-tagged section is the first accepted one of the group. */
    for (int b = 0; b < offer->n_bundle && plan->tagged < 0; b++)
        for (int i = 0; i < offer->n_media; i++)
            if (plan->media[i].accepted && strcmp(offer->media[i].mid, offer->bundle[b]) == 0)
                plan->tagged = i;
    for (int i = 0; i < offer->n_media && plan->tagged < 0; i++)
        if (plan->media[i].accepted)
            plan->tagged = i;
    return 0;
}

/* ---- writing the answer ------------------------------------------------------------------ */

typedef struct writer {
    char *buf;
    size_t cap, len;
} writer_t;

/* Appends like printf; past the capacity it only counts, so len ends as the size needed. */
__attribute__((format(printf, 2, 3))) static void put(writer_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = w->len < w->cap ? vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap)
                            : vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->len += (size_t)n;
}

/* RFC 5952 text: lower-case hex, the longest run of two or more zero groups as "::". */
static void fmt_addr(const tf_addr_t *a, char *out, size_t cap)
{
    if (a->family == TF_ADDR_V4) {
        snprintf(out, cap, "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
        return;
    }
    unsigned g[8];
    int best = -1, best_n = 1, run = 0;
    for (int i = 0; i < 8; i++) {
        g[i] = (unsigned)a->ip[2 * i] << 8 | a->ip[2 * i + 1];
        run = g[i] == 0 ? run + 1 : 0;
        if (run > best_n) {
            best_n = run;
            best = i - run + 1;
        }
    }
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < 8 && n < cap; i++) {
        if (i == best) {
            n += (size_t)snprintf(out + n, cap - n, "::");
            i += best_n - 1;
            continue;
        }
        bool colon = i > 0 && i != best + best_n;
        n += (size_t)snprintf(out + n, cap - n, "%s%x", colon ? ":" : "", g[i]);
    }
}

static bool chars_ok(const char *s, size_t min, size_t max, const char *extra, bool alnum)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        bool an = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum ? !(an || strchr(extra, c)) : (c < 0x21 || c > 0x7e))
            return false;
    }
    return true;
}

static bool sha256_ok(const char *s)
{
    if (!s || strlen(s) != 32 * 3 - 1)
        return false;
    for (int i = 0; i < 32 * 3 - 1; i++)
        if (i % 3 == 2 ? s[i] != ':' : hexval((unsigned char)s[i]) < 0)
            return false;
    return true;
}

static int check_local(const tf_sdp_t *offer, const tf_sdp_plan_t *plan, const tf_sdp_local_t *l)
{
    if (plan->n_media != offer->n_media || !chars_ok(l->ice_ufrag, 4, 256, "+/", true) ||
        !chars_ok(l->ice_pwd, 22, 256, "+/", true) || !sha256_ok(l->fingerprint) ||
        !chars_ok(l->cname, 1, 64, NULL, false) || !chars_ok(l->stream_id, 1, 64, NULL, false) ||
        l->n_candidates < 0 || (l->n_candidates && !l->candidates))
        return -EINVAL;
    for (int i = 0; i < l->n_candidates; i++) {
        const tf_addr_t *c = &l->candidates[i];
        if ((c->family != TF_ADDR_V4 && c->family != TF_ADDR_V6) || c->port == 0)
            return -EINVAL;
    }
    bool any = false;
    for (int i = 0; i < plan->n_media; i++) {
        const tf_sdp_media_answer_t *a = &plan->media[i];
        if (!a->accepted)
            continue;
        any = true;
        if (a->codec == TF_SDP_CODEC_NONE || a->pt < 0 || a->pt > 127 || a->rtx_pt > 127 ||
            a->rtx_pt == a->pt || !offer->media[i].mid[0])
            return -EINVAL;
        if ((a->dir & TF_SDP_SENDONLY) && (a->ssrc == 0 || a->rtx_ssrc == a->ssrc))
            return -EINVAL;
    }
    if (any &&
        (plan->tagged < 0 || plan->tagged >= plan->n_media || !plan->media[plan->tagged].accepted))
        return -EINVAL;
    return 0;
}

static const char *const dir_names[] = {"inactive", "sendonly", "recvonly", "sendrecv"};

static void put_media(writer_t *w, const tf_sdp_t *offer, const tf_sdp_plan_t *plan, int i,
                      const tf_sdp_local_t *l, const char *c_line, unsigned port)
{
    const tf_sdp_media_t *m = &offer->media[i];
    const tf_sdp_media_answer_t *a = &plan->media[i];
    if (!a->accepted) {
        put(w, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->type, m->proto, m->fmt0);
        if (m->mid[0])
            put(w, "a=mid:%s\r\n", m->mid);
        if (strstr(m->proto, "RTP"))
            put(w, "a=inactive\r\n");
        return;
    }
    put(w, "m=%s %u UDP/TLS/RTP/SAVPF %d", m->type, port, a->pt);
    if (a->rtx_pt >= 0)
        put(w, " %d", a->rtx_pt);
    put(w, "\r\n%s", c_line);
    put(w, "a=mid:%s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n", m->mid,
        l->ice_ufrag, l->ice_pwd, l->fingerprint);
    put(w, "a=setup:passive\r\na=%s\r\na=rtcp-mux\r\n", dir_names[a->dir & 3]);
    if (a->rtcp_rsize)
        put(w, "a=rtcp-rsize\r\n");
    for (int k = 0; k < TF_SDP_EXT_COUNT; k++) {
        if (!a->ext[k])
            continue;
        const char *xdir = "";
        for (int e = 0; e < m->n_extmaps; e++)
            if (m->extmaps[e].id == a->ext[k] && m->extmaps[e].has_dir)
                xdir = dir_names[mirror(m->extmaps[e].dir)];
        put(w, "a=extmap:%u%s%s %s\r\n", a->ext[k], xdir[0] ? "/" : "", xdir, known_exts[k].uri);
    }
    switch (a->codec) {
    case TF_SDP_CODEC_OPUS:
        put(w, "a=rtpmap:%d opus/48000/2\r\n", a->pt);
        break;
    case TF_SDP_CODEC_H264:
        put(w, "a=rtpmap:%d H264/90000\r\n", a->pt);
        break;
    default:
        put(w, "a=rtpmap:%d VP8/90000\r\n", a->pt);
        break;
    }
    static const struct {
        unsigned bit;
        const char *text;
    } fbs[] = {{TF_SDP_FB_REMB, "goog-remb"},
               {TF_SDP_FB_TWCC, "transport-cc"},
               {TF_SDP_FB_FIR, "ccm fir"},
               {TF_SDP_FB_NACK, "nack"},
               {TF_SDP_FB_PLI, "nack pli"}};
    for (size_t f = 0; f < sizeof(fbs) / sizeof(fbs[0]); f++)
        if (a->fb & fbs[f].bit)
            put(w, "a=rtcp-fb:%d %s\r\n", a->pt, fbs[f].text);
    if (a->fmtp[0])
        put(w, "a=fmtp:%d %s\r\n", a->pt, a->fmtp);
    if (a->rtx_pt >= 0)
        put(w, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", a->rtx_pt, a->rtx_pt, a->pt);
    if (a->dir & TF_SDP_SENDONLY) {
        bool rtx = a->rtx_pt >= 0 && a->rtx_ssrc;
        put(w, "a=msid:%s %s-%s\r\n", l->stream_id, m->type, m->mid);
        if (rtx)
            put(w, "a=ssrc-group:FID %" PRIu32 " %" PRIu32 "\r\n", a->ssrc, a->rtx_ssrc);
        for (int s = 0; s < (rtx ? 2 : 1); s++) {
            uint32_t ssrc = s ? a->rtx_ssrc : a->ssrc;
            put(w, "a=ssrc:%" PRIu32 " cname:%s\r\n", ssrc, l->cname);
            put(w, "a=ssrc:%" PRIu32 " msid:%s %s-%s\r\n", ssrc, l->stream_id, m->type, m->mid);
        }
    }
    /* JSEP §5.3.1 / RFC 9143: candidates only in the answerer-tagged section of the bundle. */
    if (i == plan->tagged) {
        for (int c = 0; c < l->n_candidates; c++) {
            char ip[48];
            fmt_addr(&l->candidates[c], ip, sizeof(ip));
            /* RFC 8445 §5.1.2.1: host type preference 126, local preference by order. */
            uint32_t prio = (126u << 24) | ((uint32_t)(65535 - (c & 0xffff)) << 8) | 255u;
            put(w, "a=candidate:%d 1 udp %" PRIu32 " %s %u typ host\r\n", c + 1, prio, ip,
                l->candidates[c].port);
        }
        put(w, "a=end-of-candidates\r\n");
    }
}

int tf_sdp_write_answer(const tf_sdp_t *offer, const tf_sdp_plan_t *plan,
                        const tf_sdp_local_t *local, char *out, size_t cap, size_t *len)
{
    if (!offer || !plan || !local || !len || (!out && cap))
        return -EINVAL;
    *len = 0;
    if (check_local(offer, plan, local) < 0)
        return -EINVAL;
    writer_t w = {out, cap, 0};
    char c_line[80] = "c=IN IP4 0.0.0.0\r\n";
    unsigned port = 9;
    if (local->n_candidates) {
        char ip[48];
        const tf_addr_t *d = &local->candidates[0];
        fmt_addr(d, ip, sizeof(ip));
        snprintf(c_line, sizeof(c_line), "c=IN %s %s\r\n", d->family == TF_ADDR_V4 ? "IP4" : "IP6",
                 ip);
        port = d->port;
    }
    put(&w, "v=0\r\no=- %" PRIu64 " %" PRIu64 " IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
        local->session_id, local->session_version);
    put(&w, "a=ice-lite\r\n");
    if (offer->n_bundle && plan->tagged >= 0) {
        put(&w, "a=group:BUNDLE");
        for (int b = 0; b < offer->n_bundle; b++)
            for (int i = 0; i < offer->n_media; i++)
                if (plan->media[i].accepted && strcmp(offer->media[i].mid, offer->bundle[b]) == 0)
                    put(&w, " %s", offer->bundle[b]);
        put(&w, "\r\n");
    }
    for (int i = 0; i < offer->n_media; i++)
        put_media(&w, offer, plan, i, local, c_line, port);
    if (w.len >= cap) {
        *len = w.len + 1;
        return -ENOBUFS;
    }
    *len = w.len;
    return 0;
}
