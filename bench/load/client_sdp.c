/* client_sdp.c — what a tafel-load participant takes from the server's SDP: the ICE and DTLS
 * credentials, the SSRCs, payload types (RTX too) and header extension ids it receives with, and
 * the receive streams built from them. Shared by the WHIP client (client.c) and the Janus
 * subscriber (janus.c); building offers and answers is theirs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/load/load.h"

static int find_ext(const tf_sdp_media_t *m, const char *uri)
{
    for (int i = 0; i < m->n_extmaps; i++)
        if (!strcmp(m->extmaps[i].uri, uri))
            return m->extmaps[i].id < 15 ? m->extmaps[i].id : 0;
    return 0;
}

void lg_media_ssrcs(const tf_sdp_media_t *m, uint32_t *ssrc, uint32_t *rtx)
{
    *ssrc = *rtx = 0;
    for (int k = 0; k < m->n_ssrcs; k++)
        if (!m->ssrcs[k].is_rtx) {
            *ssrc = m->ssrcs[k].ssrc;
            *rtx = m->ssrcs[k].rtx_ssrc;
            return;
        }
}

void lg_part_take_media(part_t *p, const tf_sdp_media_t *m)
{
    uint32_t ssrc, rtx;
    lg_media_ssrcs(m, &ssrc, &rtx);
    if (m->kind == TF_SDP_AUDIO) {
        p->srv_a_ssrc = ssrc;
        p->srv_a_pt = m->codecs[0].pt;
    } else if (m->kind == TF_SDP_VIDEO) {
        p->srv_v_ssrc = ssrc;
        p->srv_v_rtx_ssrc = rtx;
        p->srv_v_pt = m->codecs[0].pt;
        p->srv_v_rtx_pt = -1;
        for (int k = 0; k < m->n_codecs; k++)
            if (!strcasecmp(m->codecs[k].name, "rtx"))
                p->srv_v_rtx_pt = m->codecs[k].pt;
    }
}

int lg_part_open_streams(part_t *p)
{
    if (!p->srv_a_ssrc || !p->srv_v_ssrc)
        return -EPROTO;
    tf_recv_stream_config_t vc, ac;
    tf_recv_stream_config_default(&vc, TF_RECV_CODEC_H264, p->srv_v_ssrc, (uint8_t)p->srv_v_pt);
    /* A browser keeps NACKing a gap (libwebrtc: up to 10 times, an RTT apart) before it asks
     * for a key frame; recv_stream's default gives up after max(2 RTT, 200 ms). */
    vc.min_give_up_us = 1000000;
    if (p->srv_v_rtx_ssrc && p->srv_v_rtx_pt >= 0) {
        vc.rtx = true;
        vc.rtx_ssrc = p->srv_v_rtx_ssrc;
        vc.rtx_payload_type = (uint8_t)p->srv_v_rtx_pt;
    }
    tf_recv_stream_config_default(&ac, TF_RECV_CODEC_OPUS, p->srv_a_ssrc, (uint8_t)p->srv_a_pt);
    if (tf_recv_stream_create(&p->rv, &vc) < 0 || tf_recv_stream_create(&p->ra, &ac) < 0)
        return -ENOMEM;
    return 0;
}

int lg_take_answer(part_t *p, const char *sdp, size_t len)
{
    tf_sdp_t *a = malloc(sizeof(*a));
    if (!a || tf_sdp_parse(a, sdp, len, NULL, 0) < 0 || a->n_media < 2) {
        free(a);
        return -EPROTO;
    }
    int rc = -EPROTO;
    for (int i = 0; i < a->n_media; i++) {
        const tf_sdp_media_t *m = &a->media[i];
        if (m->port == 0 || m->n_codecs == 0)
            continue;
        if (i == 0) {
            snprintf(p->srv_ufrag, sizeof(p->srv_ufrag), "%s", m->tr.ice_ufrag);
            if (tf_stun_key_create(&p->srv_key, m->tr.ice_pwd, strlen(m->tr.ice_pwd)) < 0 ||
                m->tr.n_fingerprints < 1 ||
                dtls_test_client_learn_server(&p->dtls, m->tr.fingerprints[0].value) < 0)
                goto out;
        }
        int twcc = find_ext(m, URI_TWCC);
        if (twcc)
            p->ext_twcc = (uint8_t)twcc;
        if (m->kind == TF_SDP_AUDIO)
            p->ext_level = (uint8_t)find_ext(m, URI_LEVEL);
        lg_part_take_media(p, m);
    }
    if (p->srv_key)
        rc = lg_part_open_streams(p);
out:
    free(a);
    return rc;
}
