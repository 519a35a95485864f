/* sdp_fuzzer.c — libFuzzer target for server/rtc/sdp: any bytes as an offer; whatever negotiates
 * must give an answer that parses back and mirrors the offer. Checks round trips, not only "no
 * crash"; it does not judge whether a refusal was the right one (test_rtc_sdp.c does). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct work {
    tf_sdp_t offer, answer;
    tf_sdp_plan_t plan;
    char out[65536], again[65536];
    char err[256];
} work_t;

static void check(bool ok, const char *what, const work_t *w)
{
    if (ok)
        return;
    fprintf(stderr, "sdp_fuzzer: %s (err \"%s\")\n%s\n", what, w->err, w->out);
    abort();
}

static const char fingerprint[] = "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:"
                                  "01:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:F0";

static void check_answer(work_t *w, const tf_sdp_local_t *local)
{
    const tf_sdp_t *o = &w->offer, *a = &w->answer;
    const tf_sdp_plan_t *p = &w->plan;
    check(a->ice_lite, "answer lacks ice-lite", w);
    check(a->n_media == o->n_media, "answer has another number of m= lines", w);
    int n_bundle = 0;
    for (int b = 0; b < o->n_bundle; b++)
        for (int i = 0; i < o->n_media; i++)
            if (p->media[i].accepted && strcmp(o->media[i].mid, o->bundle[b]) == 0) {
                check(n_bundle < a->n_bundle && strcmp(a->bundle[n_bundle], o->bundle[b]) == 0,
                      "BUNDLE group differs", w);
                n_bundle++;
            }
    check(n_bundle == a->n_bundle, "BUNDLE group has extra mids", w);
    for (int i = 0; i < a->n_media; i++) {
        const tf_sdp_media_t *am = &a->media[i], *om = &o->media[i];
        const tf_sdp_media_answer_t *pm = &p->media[i];
        check(strcmp(am->type, om->type) == 0 && strcmp(am->mid, om->mid) == 0,
              "media type or mid not mirrored", w);
        check((am->port == 0) == !pm->accepted, "port 0 does not match rejection", w);
        if (!pm->accepted)
            continue;
        check(am->dir == pm->dir && am->rtcp_mux && am->rtcp_rsize == pm->rtcp_rsize,
              "direction or rtcp attributes differ", w);
        check(am->n_codecs == (pm->rtx_pt >= 0 ? 2 : 1) && am->codecs[0].pt == pm->pt &&
                  am->codecs[0].fb == pm->fb,
              "codecs differ", w);
        check(pm->rtx_pt < 0 || am->codecs[1].pt == pm->rtx_pt, "rtx differs", w);
        check(am->tr.setup == TF_SDP_SETUP_PASSIVE && am->tr.n_fingerprints == 1 &&
                  strcmp(am->tr.fingerprints[0].value, fingerprint) == 0 &&
                  strcmp(am->tr.ice_ufrag, local->ice_ufrag) == 0,
              "transport attributes differ", w);
        check(am->n_candidates == (i == p->tagged ? local->n_candidates : 0),
              "candidates outside the tagged section", w);
        check(((pm->dir & TF_SDP_SENDONLY) != 0) == (am->n_ssrcs > 0), "SSRCs differ", w);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    work_t *w = malloc(sizeof(*w));
    if (!w)
        return 0;
    w->err[0] = w->out[0] = '\0';
    tf_sdp_config_t cfg;
    tf_sdp_config_default(&cfg);
    /* Let the input's length steer the configuration so every branch gets fuzzed. */
    cfg.video_pref = (tf_sdp_video_pref_t)(size % 3);
    cfg.h264_allow_mode0 = (size & 4) != 0;
    cfg.rtx = (size & 8) == 0;

    int rc = tf_sdp_parse(&w->offer, (const char *)data, size, w->err, sizeof(w->err));
    check(rc == 0 || ((rc == -EBADMSG || rc == -E2BIG) && w->err[0]), "parse result", w);
    if (rc == 0)
        rc = tf_sdp_negotiate(&w->offer, &cfg, &w->plan, w->err, sizeof(w->err));
    if (rc != 0) {
        check(rc == -EBADMSG || rc == -E2BIG || rc == -EPROTO || rc == -ENOTSUP, "error code", w);
        check(w->err[0] != '\0', "refusal without a reason", w);
        free(w);
        return 0;
    }

    for (int i = 0; i < w->plan.n_media; i++) {
        tf_sdp_media_answer_t *m = &w->plan.media[i];
        if (m->accepted && (m->dir & TF_SDP_SENDONLY)) {
            m->ssrc = 0x10000u + (uint32_t)i;
            m->rtx_ssrc = m->rtx_pt >= 0 ? 0x20000u + (uint32_t)i : 0;
        }
    }
    tf_addr_t cand = tf_addr_v4(127, 0, 0, 1, 40000);
    tf_sdp_local_t local = {.session_id = 1,
                            .session_version = 2,
                            .ice_ufrag = "fuzzUfrag",
                            .ice_pwd = "fuzzPasswordLongEnough0",
                            .fingerprint = fingerprint,
                            .cname = "fuzz",
                            .stream_id = "fuzz",
                            .candidates = &cand,
                            .n_candidates = 1};
    size_t len = 0, need = 0;
    rc = tf_sdp_write_answer(&w->offer, &w->plan, &local, w->out, sizeof(w->out), &len);
    check(rc == 0 && len == strlen(w->out), "writing the answer", w);
    rc = tf_sdp_write_answer(&w->offer, &w->plan, &local, w->again, len / 2, &need);
    check(rc == -ENOBUFS && need == len + 1, "short buffer", w);
    rc = tf_sdp_write_answer(&w->offer, &w->plan, &local, w->again, len + 1, &need);
    check(rc == 0 && need == len && memcmp(w->again, w->out, len + 1) == 0, "not deterministic", w);
    rc = tf_sdp_parse(&w->answer, w->out, len, w->err, sizeof(w->err));
    check(rc == 0, "answer does not parse", w);
    check_answer(w, &local);
    free(w);
    return 0;
}
