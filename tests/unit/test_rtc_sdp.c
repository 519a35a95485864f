/* test_rtc_sdp.c — server/rtc/sdp: parses offers shaped like Chrome 120, Firefox ESR 115 and
 * Safari iOS 17 write them, negotiates, writes answers and parses them back; no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/sdp.h"

#include "tests/unit/sdp_offers.h"

/* ---- helpers ------------------------------------------------------------------------------ */

#define OUR_FP                                                                                     \
    "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:01:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:"   \
    "EF:F0"

typedef struct ctx {
    tf_sdp_t offer, answer;
    tf_sdp_plan_t plan;
    tf_sdp_config_t cfg;
    tf_addr_t cand[2];
    tf_sdp_local_t local;
    char out[16384];
    size_t out_len;
    char err[256];
} ctx_t;

static int setup(void **state)
{
    ctx_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    tf_sdp_config_default(&c->cfg);
    c->cand[0] = tf_addr_v4(127, 0, 0, 1, 50000);
    c->local = (tf_sdp_local_t){.session_id = 7251918261826354321ull,
                                .session_version = 2,
                                .ice_ufrag = "tafelUfrag",
                                .ice_pwd = "tafelPasswordForIce0123",
                                .fingerprint = OUR_FP,
                                .cname = "tafel-mcu",
                                .stream_id = "tafel",
                                .candidates = c->cand,
                                .n_candidates = 1};
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("missing \"%s\" in:\n%s", needle, hay);
}

static void lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("unexpected \"%s\" in:\n%s", needle, hay);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Parses from an exact-size heap copy, so ASan sees any read past len. */
static int parse_exact(tf_sdp_t *sdp, const char *text, size_t len, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int rc = tf_sdp_parse(sdp, copy, len, err, errlen);
    free(copy);
    return rc;
}

/* Gives every section we send SSRCs, as the session layer would. */
static void assign_ssrcs(tf_sdp_plan_t *plan)
{
    for (int i = 0; i < plan->n_media; i++) {
        if (!plan->media[i].accepted || !(plan->media[i].dir & TF_SDP_SENDONLY))
            continue;
        plan->media[i].ssrc = 0x7a000000u + (uint32_t)i * 2;
        plan->media[i].rtx_ssrc = plan->media[i].rtx_pt >= 0 ? 0x7a000001u + (uint32_t)i * 2 : 0;
    }
}

/* offer text -> parse -> negotiate -> answer -> parse the answer again; returns negotiate's rc. */
static int run(ctx_t *c, const char *offer)
{
    assert_int_equal(parse_exact(&c->offer, offer, strlen(offer), c->err, sizeof(c->err)), 0);
    int rc = tf_sdp_negotiate(&c->offer, &c->cfg, &c->plan, c->err, sizeof(c->err));
    if (rc < 0)
        return rc;
    assign_ssrcs(&c->plan);
    assert_int_equal(
        tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out, sizeof(c->out), &c->out_len),
        0);
    assert_int_equal(c->out_len, strlen(c->out));
    assert_int_equal(tf_sdp_parse(&c->answer, c->out, c->out_len, c->err, sizeof(c->err)), 0);

    /* The answer mirrors the offer section by section (RFC 3264 §6). */
    const tf_sdp_t *a = &c->answer;
    assert_true(a->ice_lite);
    assert_int_equal(a->n_media, c->offer.n_media);
    for (int i = 0; i < a->n_media; i++) {
        const tf_sdp_media_t *am = &a->media[i], *om = &c->offer.media[i];
        const tf_sdp_media_answer_t *p = &c->plan.media[i];
        assert_string_equal(am->type, om->type);
        assert_string_equal(am->mid, om->mid);
        if (!p->accepted) {
            assert_int_equal(am->port, 0);
            continue;
        }
        assert_int_not_equal(am->port, 0);
        assert_int_equal(am->dir, p->dir);
        assert_true(am->rtcp_mux);
        assert_int_equal(am->tr.setup, TF_SDP_SETUP_PASSIVE);
        assert_string_equal(am->tr.ice_ufrag, c->local.ice_ufrag);
        assert_string_equal(am->tr.ice_pwd, c->local.ice_pwd);
        assert_int_equal(am->tr.n_fingerprints, 1);
        assert_string_equal(am->tr.fingerprints[0].hash, "sha-256");
        assert_string_equal(am->tr.fingerprints[0].value, OUR_FP);
        assert_int_equal(am->n_codecs, p->rtx_pt >= 0 ? 2 : 1);
        assert_int_equal(am->codecs[0].pt, p->pt);
        assert_int_equal(am->codecs[0].fb, p->fb);
        assert_string_equal(am->codecs[0].fmtp, p->fmtp);
        if (p->dir & TF_SDP_SENDONLY) {
            assert_int_equal(am->ssrcs[0].ssrc, p->ssrc);
            assert_string_equal(am->ssrcs[0].cname, c->local.cname);
            assert_string_equal(am->msid_stream, c->local.stream_id);
        } else {
            assert_int_equal(am->n_ssrcs, 0);
        }
        for (int k = 0; k < TF_SDP_EXT_COUNT; k++) {
            int found = 0;
            for (int e = 0; e < am->n_extmaps; e++)
                found += am->extmaps[e].id == p->ext[k];
            assert_int_equal(found, p->ext[k] ? 1 : 0);
        }
    }
    return 0;
}

/* ---- Chrome ------------------------------------------------------------------------------- */

static void chrome_parse(void **state)
{
    ctx_t *c = *state;
    const tf_sdp_t *o = &c->offer;
    assert_int_equal(
        parse_exact(&c->offer, chrome_sendrecv, strlen(chrome_sendrecv), c->err, sizeof(c->err)),
        0);
    assert_string_equal(o->session_id, "4215775240449105457");
    assert_int_equal(o->n_bundle, 2);
    assert_string_equal(o->bundle[1], "1");
    assert_int_equal(o->n_media, 2);

    const tf_sdp_media_t *au = &o->media[0], *v = &o->media[1];
    assert_int_equal(au->kind, TF_SDP_AUDIO);
    assert_int_equal(au->port, 54400);
    assert_string_equal(au->proto, "UDP/TLS/RTP/SAVPF");
    assert_string_equal(au->tr.ice_ufrag, "Xk3q");
    assert_string_equal(au->tr.ice_pwd, "9XQ2yr0cJrF5Pd8WvHk1sTbZ");
    assert_string_equal(au->tr.ice_options, "trickle");
    assert_int_equal(au->tr.setup, TF_SDP_SETUP_ACTPASS);
    assert_string_equal(au->tr.fingerprints[0].value, CHROME_FP);
    assert_int_equal(au->n_codecs, 8);
    assert_string_equal(au->codecs[0].name, "opus");
    assert_int_equal(au->codecs[0].clock, 48000);
    assert_int_equal(au->codecs[0].channels, 2);
    assert_int_equal(au->codecs[0].fb, TF_SDP_FB_TWCC);
    assert_string_equal(au->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_string_equal(au->msid_stream, CHROME_STREAM);
    assert_string_equal(au->msid_track, "4c3e2b1a-7d6f-4e8a-9b0c-1d2e3f4a5b6c");
    assert_int_equal(au->n_extmaps, 4);
    assert_true(au->rtcp_mux);
    assert_false(au->rtcp_rsize);

    assert_int_equal(v->n_codecs, 25);
    assert_int_equal(v->codecs[6].pt, 106);
    assert_string_equal(v->codecs[6].fmtp,
                        "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    assert_int_equal(v->codecs[6].fb, TF_SDP_FB_NACK | TF_SDP_FB_PLI | TF_SDP_FB_FIR |
                                          TF_SDP_FB_REMB | TF_SDP_FB_TWCC);
    assert_int_equal(v->n_extmaps, 11);
    assert_int_equal(v->extmaps[0].id, 14);
    assert_string_equal(v->extmaps[0].uri, "urn:ietf:params:rtp-hdrext:toffset");
    assert_true(v->rtcp_rsize);

    /* RTX pairing from a=ssrc-group:FID. */
    assert_int_equal(v->n_ssrcs, 2);
    assert_int_equal(v->ssrcs[0].ssrc, 2001);
    assert_int_equal(v->ssrcs[0].rtx_ssrc, 2002);
    assert_true(v->ssrcs[1].is_rtx);
    assert_string_equal(v->ssrcs[1].cname, "f6X8l1bZ0bq0W1Yp");

    /* Candidates: IPv4, IPv6 and TCP. */
    assert_int_equal(v->n_candidates, 3);
    tf_addr_t v4 = tf_addr_v4(192, 168, 1, 23, 54400);
    assert_true(tf_addr_equal(&v->candidates[0].addr, &v4));
    assert_true(v->candidates[0].udp);
    assert_int_equal(v->candidates[0].priority, 2122260223u);
    assert_string_equal(v->candidates[0].foundation, "3348123811");
    const tf_addr_t *v6 = &v->candidates[1].addr;
    static const uint8_t want6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,
                                      0,    0,    0,    0,    0, 0, 0x1a, 0x2b};
    assert_int_equal(v6->family, TF_ADDR_V6);
    assert_int_equal(v6->port, 54401);
    assert_memory_equal(v6->ip, want6, 16);
    assert_false(v->candidates[2].udp);
    assert_int_equal(v->candidates[2].type, TF_SDP_CAND_HOST);
}

static void chrome_sendrecv_answer(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    const tf_sdp_media_answer_t *au = &c->plan.media[0], *v = &c->plan.media[1];
    assert_true(au->accepted);
    assert_int_equal(au->codec, TF_SDP_CODEC_OPUS);
    assert_int_equal(au->pt, 111);
    assert_int_equal(au->rtx_pt, -1);
    assert_int_equal(au->fb, TF_SDP_FB_TWCC);
    assert_int_equal(au->dir, TF_SDP_SENDRECV);
    assert_int_equal(au->ext[TF_SDP_EXT_AUDIO_LEVEL], 1);
    assert_int_equal(au->ext[TF_SDP_EXT_ABS_SEND_TIME], 2);
    assert_int_equal(au->ext[TF_SDP_EXT_TWCC], 3);
    assert_int_equal(au->ext[TF_SDP_EXT_MID], 4);

    assert_true(v->accepted);
    assert_int_equal(v->codec, TF_SDP_CODEC_H264);
    assert_int_equal(v->pt, 106); /* 102 is 42001f: baseline, not constrained baseline */
    assert_int_equal(v->rtx_pt, 107);
    assert_string_equal(v->h264_plid, "42e01f");
    assert_int_equal(v->h264_mode, 1);
    assert_int_equal(v->ext[TF_SDP_EXT_AUDIO_LEVEL], 0);
    assert_int_equal(v->ext[TF_SDP_EXT_MID], 4);
    assert_true(v->rtcp_rsize);
    assert_int_equal(c->plan.tagged, 0);

    const char *a = c->out;
    static const char head[] = "v=0\r\no=- 7251918261826354321 2 IN IP4 127.0.0.1\r\ns=-\r\n"
                               "t=0 0\r\na=ice-lite\r\na=group:BUNDLE 0 1\r\nm=audio ";
    assert_true(strncmp(a, head, strlen(head)) == 0);
    has(a, "\r\na=ice-lite\r\n");
    has(a, "\r\na=group:BUNDLE 0 1\r\n");
    has(a, "\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\n");
    has(a, "\r\nm=video 50000 UDP/TLS/RTP/SAVPF 106 107\r\n");
    has(a, "\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n");
    has(a, "\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;"
           "profile-level-id=42e01f\r\n");
    has(a, "\r\na=rtpmap:107 rtx/90000\r\na=fmtp:107 apt=106\r\n");
    has(a, "\r\na=rtcp-fb:106 nack pli\r\n");
    has(a, "\r\na=rtcp-fb:106 goog-remb\r\n");
    has(a, "\r\na=rtcp-fb:111 transport-cc\r\n");
    has(a, "\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n");
    has(a, "\r\na=ssrc-group:FID 2046820354 2046820355\r\n");
    has(a, "\r\na=ssrc:2046820352 cname:tafel-mcu\r\n");
    has(a, "\r\na=msid:tafel video-1\r\n");
    has(a, "\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n");
    assert_int_equal(count(a, "a=fingerprint:sha-256 " OUR_FP "\r\n"), 2);
    assert_int_equal(count(a, "a=setup:passive\r\n"), 2);
    assert_int_equal(count(a, "a=sendrecv\r\n"), 2);
    assert_int_equal(count(a, "a=rtcp-rsize\r\n"), 1); /* Chrome's audio did not offer it */
    assert_int_equal(count(a, "a=end-of-candidates\r\n"), 1);
    lacks(a, "toffset");
    lacks(a, "video-orientation");
    lacks(a, "rtp-stream-id");
    lacks(a, "red/");
    lacks(a, "VP9");
    lacks(a, "a=rtcp-fb:111 nack");
    lacks(a, "\n\n");
    assert_int_equal(count(a, "\r\n"), count(a, "\n"));
}

static void chrome_sendonly_publisher(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, chrome_sendonly), 0);
    assert_int_equal(c->plan.media[0].dir, TF_SDP_RECVONLY);
    assert_int_equal(c->plan.media[1].dir, TF_SDP_RECVONLY);
    assert_int_equal(count(c->out, "a=recvonly\r\n"), 2);
    lacks(c->out, "a=ssrc");
    lacks(c->out, "a=msid");
}

static void chrome_recvonly_viewer(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, chrome_recvonly), 0);
    assert_int_equal(c->offer.media[1].n_ssrcs, 0);
    assert_int_equal(c->plan.media[0].dir, TF_SDP_SENDONLY);
    assert_int_equal(c->plan.media[1].dir, TF_SDP_SENDONLY);
    assert_int_equal(count(c->out, "a=sendonly\r\n"), 2);
    has(c->out, "a=msid:tafel audio-0\r\n");
    has(c->out, "a=ssrc:2046820352 msid:tafel audio-0\r\n");

    /* We must send on both sections: a missing SSRC is the caller's bug. */
    c->plan.media[1].ssrc = 0;
    assert_int_equal(
        tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out, sizeof(c->out), &c->out_len),
        -EINVAL);
}

static void chrome_prefer_vp8(void **state)
{
    ctx_t *c = *state;
    c->cfg.video_pref = TF_SDP_PREFER_VP8;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    assert_int_equal(c->plan.media[1].codec, TF_SDP_CODEC_VP8);
    assert_int_equal(c->plan.media[1].pt, 96);
    assert_int_equal(c->plan.media[1].rtx_pt, 97);
    has(c->out, "m=video 50000 UDP/TLS/RTP/SAVPF 96 97\r\n");
    has(c->out, "a=rtpmap:96 VP8/90000\r\n");
    lacks(c->out, "H264");
    lacks(c->out, "a=fmtp:96");

    /* Chrome lists VP8 first, so following the offer's order picks it as well. */
    c->cfg.video_pref = TF_SDP_PREFER_OFFER;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    assert_int_equal(c->plan.media[1].pt, 96);

    /* A server built without VP8 picks H.264 whatever the preference. */
    c->cfg.codecs &= ~TF_SDP_CODEC_BIT(TF_SDP_CODEC_VP8);
    assert_int_equal(run(c, chrome_sendrecv), 0);
    assert_int_equal(c->plan.media[1].pt, 106);
}

static void chrome_without_rtx_and_feedback(void **state)
{
    ctx_t *c = *state;
    c->cfg.rtx = false;
    c->cfg.fb_video = TF_SDP_FB_NACK | TF_SDP_FB_PLI;
    c->cfg.exts = 1u << TF_SDP_EXT_MID;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    assert_int_equal(c->plan.media[1].rtx_pt, -1);
    assert_int_equal(c->plan.media[1].fb, TF_SDP_FB_NACK | TF_SDP_FB_PLI);
    has(c->out, "m=video 50000 UDP/TLS/RTP/SAVPF 106\r\n");
    lacks(c->out, "goog-remb");
    lacks(c->out, "abs-send-time");
    lacks(c->out, "ssrc-group");
    assert_int_equal(count(c->out, "a=extmap:"), 2);
}

static void chrome_datachannel_rejected(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, chrome_datachannel), 0);
    assert_false(c->plan.media[2].accepted);
    assert_string_equal(c->plan.media[2].reason, "data channels are not supported");
    has(c->out, "\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
                "a=mid:2\r\n");
    has(c->out, "a=group:BUNDLE 0 1\r\n");
    lacks(c->out, "sctp-port");
}

/* ---- Firefox ------------------------------------------------------------------------------ */

static void firefox_answer(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, firefox_sendrecv), 0);
    const tf_sdp_t *o = &c->offer;
    /* Session-level fingerprint inherited; fmtp written before rtpmap still lands. */
    assert_int_equal(o->tr.n_fingerprints, 1);
    assert_int_equal(o->media[1].tr.n_fingerprints, 1);
    assert_string_equal(o->media[1].tr.ice_options, "trickle");
    assert_string_equal(o->media[1].tr.ice_ufrag, "4f1c9e2a");
    assert_string_equal(o->media[1].codecs[4].name, "H264");
    assert_string_equal(o->media[1].codecs[4].fmtp,
                        "profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1");
    assert_true(o->media[0].end_of_candidates);
    assert_int_equal(o->media[0].n_candidates, 3);
    assert_int_equal(o->media[0].candidates[1].addr.family, 0); /* mDNS name */
    assert_string_equal(o->media[0].candidates[1].host,
                        "0e5f4c3b-8a2d-4b6e-9c1f-7d3a2e5b8c4f.local");
    assert_int_equal(o->media[0].codecs[1].channels, 1); /* G722/8000/1 */
    assert_true(o->media[1].extmaps[3].has_dir);
    assert_int_equal(o->media[1].extmaps[3].dir, TF_SDP_RECVONLY);
    assert_int_equal(o->media[1].ssrcs[0].rtx_ssrc, 3358409232u);

    const tf_sdp_media_answer_t *au = &c->plan.media[0], *v = &c->plan.media[1];
    assert_int_equal(au->pt, 109);
    assert_int_equal(au->fb, 0);
    assert_int_equal(au->ext[TF_SDP_EXT_AUDIO_LEVEL], 1);
    assert_int_equal(au->ext[TF_SDP_EXT_MID], 3);
    assert_int_equal(v->codec, TF_SDP_CODEC_H264);
    assert_int_equal(v->pt, 126);
    assert_int_equal(v->rtx_pt, 127);
    assert_int_equal(v->ext[TF_SDP_EXT_MID], 3);
    assert_int_equal(v->ext[TF_SDP_EXT_ABS_SEND_TIME], 4);
    assert_int_equal(v->ext[TF_SDP_EXT_TWCC], 7);
    lacks(c->out, "csrc-audio-level");
    lacks(c->out, "playout-delay");
    has(c->out, "m=video 50000 UDP/TLS/RTP/SAVPF 126 127\r\n");
    has(c->out, "a=rtcp-fb:126 transport-cc\r\n");
}

static void firefox_vp8(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, firefox_no_h264), 0);
    assert_int_equal(c->plan.media[1].codec, TF_SDP_CODEC_VP8);
    assert_int_equal(c->plan.media[1].pt, 120);
    assert_int_equal(c->plan.media[1].rtx_pt, 124);
    has(c->out, "m=video 50000 UDP/TLS/RTP/SAVPF 120 124\r\n");

    /* 42801f is baseline, so VP8 again even though H.264 is preferred. */
    assert_int_equal(run(c, firefox_baseline_only), 0);
    assert_int_equal(c->plan.media[1].pt, 120);

    /* Without VP8 on our side that offer has nothing for video; audio still joins. */
    c->cfg.codecs &= ~TF_SDP_CODEC_BIT(TF_SDP_CODEC_VP8);
    assert_int_equal(run(c, firefox_baseline_only), 0);
    assert_false(c->plan.media[1].accepted);
    has(c->plan.media[1].reason, "no common video codec: offer has VP8, VP9, H264");
    has(c->out, "m=video 0 UDP/TLS/RTP/SAVPF 120\r\n");
    has(c->out, "a=group:BUNDLE 0\r\n");
}

/* ---- Safari -------------------------------------------------------------------------------- */

static void safari_answer(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, safari_sendrecv), 0);
    const tf_sdp_media_t *v = &c->offer.media[1];
    assert_int_equal(v->candidates[0].addr.family, 0);
    assert_int_equal(v->candidates[1].type, TF_SDP_CAND_SRFLX);
    tf_sdp_h264_profile_t p;
    uint8_t level;
    assert_int_equal(tf_sdp_h264_profile_level("640c1f", 6, &p, &level), 0);
    assert_int_equal(p, TF_SDP_H264_CONSTRAINED_HIGH);
    /* 96 is constrained high: skipped for 98 (42e01f). */
    assert_int_equal(c->plan.media[1].pt, 98);
    assert_int_equal(c->plan.media[1].rtx_pt, 99);
    has(c->out, "m=video 50000 UDP/TLS/RTP/SAVPF 98 99\r\n");
    has(c->out, "a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;"
                "profile-level-id=42e01f\r\n");
    lacks(c->out, "640c1f");
}

static void safari_directions(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, safari_sendonly), 0);
    assert_int_equal(c->plan.media[0].dir, TF_SDP_RECVONLY);
    assert_int_equal(c->plan.media[1].dir, TF_SDP_RECVONLY);
    assert_int_equal(c->plan.media[1].pt, 98);
    assert_int_equal(run(c, safari_recvonly), 0);
    assert_int_equal(c->plan.media[1].dir, TF_SDP_SENDONLY);
    has(c->out, "a=ssrc-group:FID 2046820354 2046820355\r\n");
    c->cfg.video_pref = TF_SDP_PREFER_VP8;
    assert_int_equal(run(c, safari_recvonly), 0);
    assert_int_equal(c->plan.media[1].pt, 100);
    assert_int_equal(c->plan.media[1].rtx_pt, 101);
}

/* ---- offers we refuse ---------------------------------------------------------------------- */

/* Copies src without the lines that start with prefix. */
static char *without(const char *src, const char *prefix)
{
    char *dst = malloc(strlen(src) + 1), *d = dst;
    assert_non_null(dst);
    for (const char *p = src; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) != 0) {
            memcpy(d, p, n);
            d += n;
        }
        p += n;
    }
    *d = '\0';
    return dst;
}

/* Copies src with every "from" replaced by "to". */
static char *replaced(const char *src, const char *from, const char *to)
{
    size_t cap = strlen(src) * 2 + strlen(to) * 64 + 1;
    char *dst = malloc(cap), *d = dst;
    assert_non_null(dst);
    for (const char *p = src; *p;) {
        if (strncmp(p, from, strlen(from)) == 0) {
            d += sprintf(d, "%s", to);
            p += strlen(from);
        } else {
            *d++ = *p++;
        }
    }
    *d = '\0';
    return dst;
}

static void expect_refusal(ctx_t *c, char *offer, int want_rc, const char *want_err)
{
    int rc = parse_exact(&c->offer, offer, strlen(offer), c->err, sizeof(c->err));
    if (rc == 0)
        rc = tf_sdp_negotiate(&c->offer, &c->cfg, &c->plan, c->err, sizeof(c->err));
    free(offer);
    if (rc != want_rc || !strstr(c->err, want_err))
        fail_msg("got %d \"%s\", want %d \"%s\"", rc, c->err, want_rc, want_err);
}

static void refusals(void **state)
{
    ctx_t *c = *state;
    const char *cs = chrome_sendrecv;
    expect_refusal(
        c, strdup(MIN_HEAD MIN_VIDEO("98 99", "0", "a=rtpmap:98 VP9/90000" CRLF RTX("99", "98"))),
        -ENOTSUP, "no common video codec: offer has VP9 only");
    expect_refusal(c, strdup(MIN_HEAD MIN_AUDIO("9 0", "0", "a=rtpmap:9 G722/8000" CRLF)), -ENOTSUP,
                   "no common audio codec: offer has G722, PCMU only");
    expect_refusal(c, without(cs, "a=fingerprint"), -EPROTO, "offer lacks a=fingerprint (mid 0)");
    expect_refusal(c, replaced(cs, "a=fingerprint:sha-256", "a=fingerprint:foo-1"), -EPROTO,
                   "no a=fingerprint with sha-256");
    expect_refusal(c, replaced(cs, "a=fingerprint:sha-256", "a=fingerprint:md5"), -EPROTO,
                   "offer lacks a=fingerprint"); /* 32 bytes cannot be an MD5: ignored */
    expect_refusal(c, without(cs, "a=ice-ufrag"), -EPROTO, "offer lacks a=ice-ufrag (mid 0)");
    expect_refusal(c, without(cs, "a=ice-pwd"), -EPROTO, "offer lacks a=ice-pwd");
    expect_refusal(c, replaced(cs, "a=ice-pwd:9XQ2yr0cJrF5Pd8WvHk1sTbZ", "a=ice-pwd:short"),
                   -EPROTO, "too short");
    expect_refusal(c, without(cs, "a=rtcp-mux"), -EPROTO, "offer lacks a=rtcp-mux (mid 0)");
    expect_refusal(c, without(cs, "a=group:BUNDLE"), -EPROTO,
                   "offer has 2 media sections but no a=group:BUNDLE");
    expect_refusal(c, replaced(cs, "a=setup:actpass", "a=setup:passive"), -EPROTO,
                   "a=setup:passive");
    expect_refusal(c, replaced(cs, "a=mid:1", "a=mid:0"), -EPROTO, "offer repeats a=mid:0");
    expect_refusal(c, without(cs, "a=mid:1"), -EPROTO, "m-section 1 (video) lacks a=mid");
    expect_refusal(c, replaced(cs, "a=extmap-allow-mixed", "a=ice-lite"), -EPROTO,
                   "offer is ice-lite");
    expect_refusal(c, replaced(cs, "UDP/TLS/RTP/SAVPF", "RTP/AVP"), -ENOTSUP,
                   "unsupported transport RTP/AVP");
    expect_refusal(c, replaced(cs, "m=audio 54400", "m=audio 0"), 0, "");
    assert_false(c->plan.media[0].accepted);
    assert_string_equal(c->plan.media[0].reason, "disabled in the offer (port 0)");
    expect_refusal(c,
                   strdup(MIN_HEAD "a=group:BUNDLE d" CRLF
                                   "m=application 9 UDP/DTLS/SCTP webrtc-datachannel" CRLF
                                   "a=mid:d" CRLF MIN_TRANSPORT),
                   -ENOTSUP, "offer has no audio or video section");
    expect_refusal(c, strdup("{\"type\":\"offer\",\"sdp\":\"v=0\"}"), -EBADMSG, "not SDP");
    expect_refusal(c, strdup(""), -EBADMSG, "empty SDP");
    expect_refusal(c, strdup("\r\n\r\n"), -EBADMSG, "empty SDP");
    expect_refusal(c, strdup(MIN_HEAD "m=video" CRLF), -EBADMSG, "bad m= line");
    expect_refusal(c, strdup(MIN_HEAD "m=video 70000 UDP/TLS/RTP/SAVPF 96" CRLF), -EBADMSG,
                   "bad m= line");
    expect_refusal(c, strdup(MIN_HEAD "m=video 9 UDP/TLS/RTP/SAVPF" CRLF), -EBADMSG, "bad m= line");
    expect_refusal(c, replaced(cs, "a=mid:1", "a=mid:0123456789abcdef0123456789abcdef"), -E2BIG,
                   "a=mid longer than 31");
    expect_refusal(c, replaced(cs, "a=mid:1", "a=mid:a,b"), -EBADMSG, "bad a=mid");

    /* A NUL byte inside the body (the length says there is more). */
    char nul[] = MIN_HEAD "a=x\0y" CRLF;
    assert_int_equal(tf_sdp_parse(&c->offer, nul, sizeof(nul) - 1, c->err, sizeof(c->err)),
                     -EBADMSG);
    has(c->err, "NUL");

    /* Seventeen m= sections: the answer could not mirror them all. */
    char big[8192] = MIN_HEAD;
    for (int i = 0; i < TF_SDP_MAX_MEDIA + 1; i++)
        snprintf(big + strlen(big), sizeof(big) - strlen(big),
                 "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=mid:%d" CRLF, i);
    expect_refusal(c, strdup(big), -E2BIG, "more than 16 media sections");

    /* Bad arguments. */
    assert_int_equal(tf_sdp_parse(NULL, "v=0", 3, NULL, 0), -EINVAL);
    assert_int_equal(tf_sdp_parse(&c->offer, NULL, 3, NULL, 0), -EINVAL);
    assert_int_equal(tf_sdp_negotiate(NULL, &c->cfg, &c->plan, NULL, 0), -EINVAL);
    c->cfg.h264_level = 33;
    assert_int_equal(tf_sdp_negotiate(&c->offer, &c->cfg, &c->plan, c->err, sizeof(c->err)),
                     -EINVAL);
    has(c->err, "h264_level");
}

/* ---- shapes that must be accepted ---------------------------------------------------------- */

static void single_section_and_session_attributes(void **state)
{
    ctx_t *c = *state;
    /* No BUNDLE with one section is fine; the answer then has no group line either. Session-level
     * direction and ICE credentials apply to the section. */
    static const char offer[] = "v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\na=sendonly\n"
                                "a=ice-ufrag:abcd\na=ice-pwd:0123456789abcdefghijkl\n"
                                "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=mid:a\n"
                                "a=fingerprint:sha-512 " CHROME_FP ":" CHROME_FP "\n"
                                "a=rtcp-mux\na=rtpmap:111 OPUS/48000/2"; /* no final newline */
    assert_int_equal(run(c, offer), 0);
    assert_int_equal(c->offer.media[0].dir, TF_SDP_SENDONLY);
    assert_string_equal(c->offer.media[0].tr.ice_ufrag, "abcd");
    assert_string_equal(c->offer.media[0].tr.fingerprints[0].hash, "sha-512");
    assert_int_equal(c->plan.media[0].dir, TF_SDP_RECVONLY);
    lacks(c->out, "a=group");
    has(c->out, "a=end-of-candidates\r\n");

    /* A mid repeated in the group counts once. */
    char *dup = replaced(chrome_sendrecv, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 0 1 1");
    assert_int_equal(run(c, dup), 0);
    free(dup);
    assert_int_equal(c->offer.n_bundle, 2);
    has(c->out, "a=group:BUNDLE 0 1\r\n");

    /* A bundle-only section has port 0 but is not rejected (RFC 9143 §7.2). */
    static const char bo[] = MIN_HEAD "a=group:BUNDLE a v" CRLF MIN_AUDIO(
        "111", "a", OPUS_LINES) "m=video 0 UDP/TLS/RTP/SAVPF 96" CRLF "a=bundle-only" CRLF
                                "a=mid:v" CRLF MIN_TRANSPORT "a=rtpmap:96 VP8/90000" CRLF;
    assert_int_equal(run(c, bo), 0);
    assert_true(c->plan.media[1].accepted);
    has(c->out, "a=group:BUNDLE a v\r\n");
    assert_int_equal(count(c->out, "a=candidate:"), 1);

    /* A section outside the BUNDLE group is rejected, not answered on a second transport. */
    static const char out_of_group[] =
        MIN_HEAD "a=group:BUNDLE v" CRLF MIN_AUDIO("111", "a", OPUS_LINES)
            MIN_VIDEO("96", "v", "a=rtpmap:96 VP8/90000" CRLF);
    assert_int_equal(run(c, out_of_group), 0);
    assert_false(c->plan.media[0].accepted);
    assert_string_equal(c->plan.media[0].reason, "not in the BUNDLE group");
    assert_int_equal(c->plan.tagged, 1);
    has(c->out, "a=group:BUNDLE v\r\n");

    /* The answerer-tagged section follows the offer's group order, not the m= order. */
    static const char reordered[] =
        MIN_HEAD "a=group:BUNDLE v a" CRLF MIN_AUDIO("111", "a", OPUS_LINES)
            MIN_VIDEO("96", "v", "a=rtpmap:96 VP8/90000" CRLF);
    assert_int_equal(run(c, reordered), 0);
    assert_int_equal(c->plan.tagged, 1);
    has(c->out, "a=group:BUNDLE v a\r\n");
    assert_int_equal(c->answer.media[1].n_candidates, 1);
    assert_int_equal(c->answer.media[0].n_candidates, 0);

    /* More video sections than configured: the extra one is rejected. */
    static const char three[] =
        MIN_HEAD "a=group:BUNDLE a v w" CRLF MIN_AUDIO("111", "a", OPUS_LINES)
            MIN_VIDEO("96", "v", "a=rtpmap:96 VP8/90000" CRLF)
                MIN_VIDEO("96", "w", "a=rtpmap:96 VP8/90000" CRLF);
    c->cfg.max_video = 1;
    assert_int_equal(run(c, three), 0);
    assert_true(c->plan.media[1].accepted);
    assert_false(c->plan.media[2].accepted);
    assert_int_equal(c->plan.media[2].codec, TF_SDP_CODEC_NONE);
    assert_int_equal(c->plan.media[2].pt, -1);
    has(c->plan.media[2].reason, "more than 1 video");
}

static void unknown_and_oversized_lines(void **state)
{
    ctx_t *c = *state;
    char *offer = malloc(32768);
    assert_non_null(offer);
    strcpy(offer, MIN_HEAD "x=unknown type" CRLF "garbage without equals" CRLF "a=" CRLF "a=:" CRLF
                           "a=group:LS a" CRLF "m=video 9 UDP/TLS/RTP/SAVPF");
    /* 40 payload types: VP8 sits beyond the 32 we keep, H.264 inside. */
    for (int pt = 60; pt < 100; pt++)
        sprintf(offer + strlen(offer), " %d", pt);
    strcat(offer, CRLF "a=mid:v" CRLF MIN_TRANSPORT "a=rtcp-mux-only" CRLF "a=foo:bar baz" CRLF
                       "a=rtpmap:99 VP8/90000" CRLF "a=rtpmap:60 H264/90000" CRLF
                       "a=rtpmap:200 H264/90000" CRLF "a=rtpmap:61 H264" CRLF
                       "a=rtpmap:62 H264/90000/x" CRLF "a=rtcp-fb:* nack" CRLF
                       "a=rtcp-fb:60 nack rpsi" CRLF "a=rtcp-fb:60 ccm tmmbr" CRLF);
    /* An H.264 fmtp longer than we keep: truncated, so the payload type is not chosen. */
    strcat(offer, "a=fmtp:60 packetization-mode=1;profile-level-id=42e01f;x-pad=");
    for (int i = 0; i < 200; i++)
        strcat(offer, "p");
    strcat(offer, CRLF "a=rtpmap:63 H264/90000" CRLF
                       "a=fmtp:63 packetization-mode=1; profile-level-id=42E01F" CRLF);
    for (int i = 1; i <= 20; i++)
        sprintf(offer + strlen(offer), "a=extmap:%d urn:x-test:%d" CRLF, i, i);
    strcat(offer, "a=extmap:15 urn:reserved" CRLF "a=extmap:0 urn:zero" CRLF
                  "a=extmap:3/bogus urn:x" CRLF);
    for (int i = 1; i <= 12; i++)
        sprintf(offer + strlen(offer),
                "a=candidate:%d 1 udp %d 10.0.0.%d 4000%d typ host" CRLF "a=ssrc:%d cname:c%d" CRLF,
                i, 100 + i, i, i % 10, 5000 + i, i);
    strcat(offer, "a=candidate:x 1 udp 1 10.0.0.1 70000 typ host" CRLF
                  "a=candidate:y 1 sctp 1 10.0.0.1 7 typ host" CRLF
                  "a=candidate:z 1 udp 1 1.2.3 7 typ host" CRLF "a=ssrc-group:FID 5001" CRLF
                  "a=ssrc-group:SIM 5001 5002" CRLF "a=fingerprint:sha-256 zz" CRLF
                  "a=setup:sideways" CRLF);

    assert_int_equal(run(c, offer), 0);
    const tf_sdp_media_t *m = &c->offer.media[0];
    assert_int_equal(m->n_codecs, TF_SDP_MAX_CODECS);
    assert_true(m->rtcp_mux);
    assert_int_equal(m->n_extmaps, TF_SDP_MAX_EXTMAPS);
    assert_int_equal(m->n_candidates, TF_SDP_MAX_CANDIDATES);
    assert_string_equal(m->candidates[7].host, "10.0.0.8");
    assert_int_equal(m->n_ssrcs, TF_SDP_MAX_SSRCS);
    assert_int_equal(m->tr.n_fingerprints, 1);
    assert_int_equal(m->tr.setup, TF_SDP_SETUP_ACTPASS);
    assert_true(m->codecs[0].fmtp_truncated);
    assert_int_equal(m->codecs[0].fb, TF_SDP_FB_NACK);
    assert_string_equal(m->codecs[1].name, ""); /* "H264" without a clock rate */
    assert_string_equal(m->codecs[2].name, "");
    assert_int_equal(c->plan.media[0].pt, 63);
    assert_string_equal(c->plan.media[0].h264_plid, "42e01f");
    free(offer);
}

/* Every prefix of real offers parses or fails cleanly, and whatever negotiates can be written. */
static void truncated_offers(void **state)
{
    ctx_t *c = *state;
    const char *offers[] = {chrome_sendrecv, firefox_sendrecv, safari_recvonly, chrome_datachannel};
    for (size_t o = 0; o < sizeof(offers) / sizeof(offers[0]); o++) {
        size_t len = strlen(offers[o]);
        for (size_t n = 0; n <= len; n += 7) {
            if (parse_exact(&c->offer, offers[o], n, c->err, sizeof(c->err)) < 0)
                continue;
            if (tf_sdp_negotiate(&c->offer, &c->cfg, &c->plan, c->err, sizeof(c->err)) < 0) {
                assert_true(c->err[0] != '\0');
                continue;
            }
            assign_ssrcs(&c->plan);
            assert_int_equal(tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out,
                                                 sizeof(c->out), &c->out_len),
                             0);
            assert_int_equal(tf_sdp_parse(&c->answer, c->out, c->out_len, NULL, 0), 0);
        }
    }
}

/* ---- answer writing ----------------------------------------------------------------------- */

static void answer_buffer_sizes(void **state)
{
    ctx_t *c = *state;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    size_t full = c->out_len, need = 0;
    char *small = malloc(full);
    assert_non_null(small);
    assert_int_equal(tf_sdp_write_answer(&c->offer, &c->plan, &c->local, small, full, &need),
                     -ENOBUFS);
    assert_int_equal(need, full + 1);
    assert_int_equal(tf_sdp_write_answer(&c->offer, &c->plan, &c->local, NULL, 0, &need), -ENOBUFS);
    assert_int_equal(need, full + 1);
    assert_int_equal(tf_sdp_write_answer(&c->offer, &c->plan, &c->local, small, 10, &need),
                     -ENOBUFS);
    assert_int_equal(strlen(small), 9);
    free(small);
    small = malloc(full + 1);
    assert_non_null(small);
    assert_int_equal(tf_sdp_write_answer(&c->offer, &c->plan, &c->local, small, full + 1, &need),
                     0);
    assert_int_equal(need, full);
    assert_string_equal(small, c->out);
    free(small);
}

static void answer_local_values(void **state)
{
    ctx_t *c = *state;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c->cand[0] = (tf_addr_t){TF_ADDR_V6, 50000, {0}};
    memcpy(c->cand[0].ip, v6, 16);
    c->cand[1] = tf_addr_v4(127, 0, 0, 1, 50001);
    c->local.n_candidates = 2;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    has(c->out, "m=audio 50000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP6 2001:db8::1\r\n");
    has(c->out, "a=candidate:1 1 udp 2130706431 2001:db8::1 50000 typ host\r\n"
                "a=candidate:2 1 udp 2130706175 127.0.0.1 50001 typ host\r\n"
                "a=end-of-candidates\r\n");
    assert_int_equal(c->answer.media[0].n_candidates, 2);
    assert_true(tf_addr_equal(&c->answer.media[0].candidates[0].addr, &c->cand[0]));
    assert_true(tf_addr_equal(&c->answer.media[0].candidates[1].addr, &c->cand[1]));

    /* RFC 5952 forms survive the round trip. */
    static const uint8_t forms[][16] = {{0},
                                        {[15] = 1},
                                        {0xfe, 0x80, [15] = 5},
                                        {0x20, 0x01, 0x0d, 0xb8, [9] = 1, [15] = 1},
                                        {0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4}};
    static const char *const texts[] = {"::", "::1", "fe80::5", "2001:db8::1:0:0:1",
                                        "1:0:2::3:0:4"};
    for (int i = 0; i < 5; i++) {
        c->cand[0] = (tf_addr_t){TF_ADDR_V6, 1234, {0}};
        memcpy(c->cand[0].ip, forms[i], 16);
        c->local.n_candidates = 1;
        assert_int_equal(run(c, chrome_sendrecv), 0);
        char want[96];
        snprintf(want, sizeof(want), "c=IN IP6 %s\r\n", texts[i]);
        has(c->out, want);
        assert_true(tf_addr_equal(&c->answer.media[0].candidates[0].addr, &c->cand[0]));
    }

    /* No candidates: port 9 and 0.0.0.0, as JSEP writes before gathering. */
    c->local.n_candidates = 0;
    assert_int_equal(run(c, chrome_sendrecv), 0);
    has(c->out, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n");

    /* Values that would corrupt the SDP are refused. */
    const tf_sdp_local_t good = c->local;
    const char *bad_ufrag[] = {"abc", "ab cd", "ab\r\nx"};
    for (int i = 0; i < 3; i++) {
        c->local.ice_ufrag = bad_ufrag[i];
        assert_int_equal(tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out, sizeof(c->out),
                                             &c->out_len),
                         -EINVAL);
    }
    c->local = good;
    c->local.fingerprint = "AB:CD";
    assert_int_equal(
        tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out, sizeof(c->out), &c->out_len),
        -EINVAL);
    c->local = good;
    c->local.cname = "two words";
    assert_int_equal(
        tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out, sizeof(c->out), &c->out_len),
        -EINVAL);
    c->local = good;
    c->plan.n_media = 1;
    assert_int_equal(
        tf_sdp_write_answer(&c->offer, &c->plan, &c->local, c->out, sizeof(c->out), &c->out_len),
        -EINVAL);
}

/* ---- H.264 profile-level-id ---------------------------------------------------------------- */

static void h264_profiles(void **state)
{
    (void)state;
    static const struct {
        const char *plid;
        int rc;
        tf_sdp_h264_profile_t profile;
        uint8_t level;
    } cases[] = {
        {"42e01f", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31},
        {"42E01F", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31},
        {"42c01e", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 30}, /* set0 + set1 */
        {"42401f", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31}, /* set1 alone */
        {"4de01f", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31}, /* main idc, set0 */
        {"4d801f", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31},
        {"58c01f", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31}, /* extended, set0 + set1 */
        {"42001f", 0, TF_SDP_H264_BASELINE, 31},
        {"42801f", 0, TF_SDP_H264_BASELINE, 31},
        {"58801f", 0, TF_SDP_H264_BASELINE, 31},
        {"4d001f", 0, TF_SDP_H264_MAIN, 31},
        {"4d401f", 0, TF_SDP_H264_MAIN, 31},
        {"64001f", 0, TF_SDP_H264_HIGH, 31},
        {"640c1f", 0, TF_SDP_H264_CONSTRAINED_HIGH, 31},
        {"640c34", 0, TF_SDP_H264_CONSTRAINED_HIGH, 52},
        {"f4001f", 0, TF_SDP_H264_PREDICTIVE_HIGH_444, 31},
        {"42e00b", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 11},
        {"42f00b", 0, TF_SDP_H264_CONSTRAINED_BASELINE, TF_SDP_H264_LEVEL_1B}, /* set3 + 1.1 */
        {"42100b", 0, TF_SDP_H264_BASELINE, TF_SDP_H264_LEVEL_1B},
        {"4d100b", 0, TF_SDP_H264_MAIN, TF_SDP_H264_LEVEL_1B},
        {"42f01f", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 31}, /* set3 only matters at 1.1 */
        {"42e00a", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 10},
        {"42e03e", 0, TF_SDP_H264_CONSTRAINED_BASELINE, 62},
        {"42e009", -EINVAL, 0, 0}, /* no level 0.9 */
        {"42e0ff", -EINVAL, 0, 0},
        {"42e000", -EINVAL, 0, 0},
        {"000000", -EINVAL, 0, 0},
        {"42e101", -EINVAL, 0, 0}, /* reserved low bits of profile_iop set */
        {"42e11f", -EINVAL, 0, 0},
        {"64101f", -EINVAL, 0, 0},
        {"6e001f", -EINVAL, 0, 0}, /* High 10: not a profile libwebrtc knows */
        {"42e01", -EINVAL, 0, 0},
        {"42e01f0", -EINVAL, 0, 0},
        {"42e0 f", -EINVAL, 0, 0},
        {"x2e01f", -EINVAL, 0, 0},
        {"", -EINVAL, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tf_sdp_h264_profile_t p = 0;
        uint8_t level = 0xff;
        int rc = tf_sdp_h264_profile_level(cases[i].plid, strlen(cases[i].plid), &p, &level);
        if (rc != cases[i].rc || (rc == 0 && (p != cases[i].profile || level != cases[i].level)))
            fail_msg("%s: rc %d profile %d level %d", cases[i].plid, rc, p, level);
    }
}

/* The answer's level: ours with level-asymmetry-allowed, else the lower of the two. */
static void h264_answer_levels(void **state)
{
    ctx_t *c = *state;
    static const struct {
        const char *fmtp;
        uint8_t our_level;
        bool mode0;
        const char *want; /* NULL: H.264 is not chosen */
    } cases[] = {
        {"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", 31, 0, "42e01f"},
        {"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e00b", 31, 0, "42e01f"},
        {"packetization-mode=1;profile-level-id=42e00b", 31, 0, "42e00b"},
        {"packetization-mode=1;profile-level-id=42e028", 31, 0, "42e01f"},
        {"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", 40, 0, "42e028"},
        {"packetization-mode=1;profile-level-id=42f00b", 31, 0, "42f00b"},
        {"packetization-mode=1;profile-level-id=42e00a", TF_SDP_H264_LEVEL_1B, 0, "42e00a"},
        {"packetization-mode=1;profile-level-id=42e00b", TF_SDP_H264_LEVEL_1B, 0, "42f00b"},
        {"packetization-mode=1;profile-level-id=4de01f", 31, 0, "42e01f"},
        {"packetization-mode=1", 31, 0, "42e01f"}, /* libwebrtc's default: CB 3.1 */
        {"", 31, 0, NULL},                         /* mode 0 by default */
        {"", 31, 1, "42e01f"},
        {"packetization-mode=2;profile-level-id=42e01f", 31, 1, NULL},
        {"packetization-mode=1;profile-level-id=42001f", 31, 0, NULL},
        {"packetization-mode=1;profile-level-id=640c1f", 31, 0, NULL},
        {"packetization-mode=1;profile-level-id=zzzzzz", 31, 0, NULL},
        {"packetization-mode=1;profile-level-id=42e01f000000000000", 31, 0, NULL},
        {"packetization-mode=1;profile-level-id=", 31, 0, NULL},
        {"packetization-mode=0x;profile-level-id=42e01f", 31, 1, NULL},
        {"packetization-mode=1x;profile-level-id=42e01f", 31, 1, NULL},
        {"packetization-mode=01234567890123456789;profile-level-id=42e01f", 31, 1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char offer[1024];
        snprintf(offer, sizeof(offer),
                 MIN_HEAD MIN_VIDEO("96 97", "0",
                                    "a=rtpmap:96 H264/90000" CRLF "a=fmtp:96 %s" CRLF
                                    "a=rtpmap:97 VP8/90000" CRLF),
                 cases[i].fmtp);
        c->cfg.h264_level = cases[i].our_level;
        c->cfg.h264_allow_mode0 = cases[i].mode0;
        assert_int_equal(run(c, offer), 0);
        const tf_sdp_media_answer_t *a = &c->plan.media[0];
        if (!cases[i].want) {
            if (a->pt != 97)
                fail_msg("case %zu: chose %d", i, a->pt);
            continue;
        }
        if (a->pt != 96 || strcmp(a->h264_plid, cases[i].want) != 0)
            fail_msg("case %zu: pt %d plid %s, want %s", i, a->pt, a->h264_plid, cases[i].want);
        char line[128];
        snprintf(line, sizeof(line), "profile-level-id=%s\r\n", cases[i].want);
        has(c->out, line);
    }
}

static void fmtp_lookup(void **state)
{
    (void)state;
    char v[8];
    assert_int_equal(tf_sdp_fmtp_get("minptime=10; useinbandfec=1", "useinbandfec", v, sizeof(v)),
                     0);
    assert_string_equal(v, "1");
    assert_int_equal(tf_sdp_fmtp_get("minptime=10;useinbandfec=1", "MINPTIME", v, sizeof(v)), 0);
    assert_string_equal(v, "10");
    assert_int_equal(tf_sdp_fmtp_get("a=1;;b=2", "b", v, sizeof(v)), 0);
    assert_string_equal(v, "2");
    assert_int_equal(tf_sdp_fmtp_get("111/111", "111", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_sdp_fmtp_get("", "a", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_sdp_fmtp_get("apt=96", "ap", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_sdp_fmtp_get("x=123456789", "x", v, sizeof(v)), -ENOBUFS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(chrome_parse),
        T(chrome_sendrecv_answer),
        T(chrome_sendonly_publisher),
        T(chrome_recvonly_viewer),
        T(chrome_prefer_vp8),
        T(chrome_without_rtx_and_feedback),
        T(chrome_datachannel_rejected),
        T(firefox_answer),
        T(firefox_vp8),
        T(safari_answer),
        T(safari_directions),
        T(refusals),
        T(single_section_and_session_attributes),
        T(unknown_and_oversized_lines),
        T(truncated_offers),
        T(answer_buffer_sizes),
        T(answer_local_values),
        T(h264_profiles),
        T(h264_answer_levels),
        T(fmtp_lookup),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
