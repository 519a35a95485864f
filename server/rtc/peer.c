/* peer.c — composes ICE-lite, DTLS and SRTP into one browser transport, demultiplexing by the
 * first byte (RFC 7983 §7). No sockets, no clock, no RTP semantics. */
#include "server/rtc/peer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/ice.h"
#include "server/rtc/rtp.h"
#include "server/rtc/stun.h"

#define EVENTS_MAX 16

struct tf_peer {
    tf_ice_t *ice;
    tf_dtls_t *dtls;
    tf_srtp_t *srtp;
    tf_addr_t validated[TF_PEER_MAX_VALIDATED];
    int n_validated;
    tf_addr_t dtls_dest; /* where DTLS records go: the newest DTLS source */
    int closed;
    tf_peer_event_t events[EVENTS_MAX];
    int ev_head, ev_len;
    tf_peer_stats_t stats;
};

static void push_event(tf_peer_t *p, const tf_peer_event_t *ev)
{
    if (p->ev_len == EVENTS_MAX) { /* keep the newest: drop the oldest */
        p->ev_head = (p->ev_head + 1) % EVENTS_MAX;
        p->ev_len--;
    }
    p->events[(p->ev_head + p->ev_len) % EVENTS_MAX] = *ev;
    p->ev_len++;
}

static void close_with(tf_peer_t *p, int error, const char *reason)
{
    if (p->closed)
        return;
    p->closed = 1;
    tf_peer_event_t ev = {.kind = TF_PEER_EVENT_CLOSED, .error = error};
    snprintf(ev.reason, sizeof(ev.reason), "%s", reason);
    push_event(p, &ev);
}

int tf_peer_create(tf_peer_t **out, const tf_peer_config_t *cfg, uint64_t now_us)
{
    *out = NULL;
    if (!cfg || !cfg->cert || !cfg->local_ufrag || !cfg->local_pwd || !cfg->fingerprint ||
        !cfg->fingerprint_hash)
        return -EINVAL;
    tf_peer_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    tf_ice_config_t ic = {
        .local_ufrag = cfg->local_ufrag, .local_pwd = cfg->local_pwd,
        .remote_ufrag = cfg->remote_ufrag, .remote_pwd = cfg->remote_pwd,
        .consent_timeout_ms = cfg->consent_timeout_ms, .rebind_quiet_ms = 2500,
        .software = "tafel",
    };
    tf_dtls_config_t dc = {.fingerprint_hash = cfg->fingerprint_hash,
                           .fingerprint = cfg->fingerprint};
    int e = tf_ice_create(&p->ice, &ic, now_us);
    if (e == 0)
        e = tf_dtls_create(&p->dtls, cfg->cert, &dc, now_us);
    if (e < 0) {
        tf_peer_destroy(&p);
        return e;
    }
    *out = p;
    return 0;
}

void tf_peer_destroy(tf_peer_t **pp)
{
    tf_peer_t *p = *pp;
    if (!p)
        return;
    *pp = NULL;
    tf_ice_destroy(&p->ice);
    tf_dtls_destroy(&p->dtls);
    tf_srtp_destroy(&p->srtp);
    free(p);
}

static int is_validated(const tf_peer_t *p, const tf_addr_t *a)
{
    for (int i = 0; i < p->n_validated; i++)
        if (tf_addr_equal(&p->validated[i], a))
            return 1;
    return 0;
}

static void add_validated(tf_peer_t *p, const tf_addr_t *a)
{
    if (is_validated(p, a))
        return;
    if (p->n_validated == TF_PEER_MAX_VALIDATED) {
        memmove(p->validated, p->validated + 1, sizeof(p->validated[0]) * (TF_PEER_MAX_VALIDATED - 1));
        p->n_validated--;
    }
    p->validated[p->n_validated++] = *a;
    tf_peer_event_t ev = {.kind = TF_PEER_EVENT_VALIDATED, .addr = *a};
    push_event(p, &ev);
}

/* Turns ICE events into peer events. */
static void drain_ice(tf_peer_t *p)
{
    tf_ice_event_t ie;
    while (tf_ice_poll_event(p->ice, &ie) == 0) {
        tf_peer_event_t ev = {.addr = ie.addr, .prev = ie.prev};
        switch (ie.kind) {
        case TF_ICE_EVENT_SELECTED:
        case TF_ICE_EVENT_ADDRESS_CHANGED:
            add_validated(p, &ie.addr);
            ev.kind = TF_PEER_EVENT_SELECTED;
            push_event(p, &ev);
            break;
        case TF_ICE_EVENT_CONSENT_LAPSED:
            close_with(p, -ETIMEDOUT, "ICE consent lapsed (no checks for 30 s)");
            break;
        }
    }
}

static void drain_dtls(tf_peer_t *p)
{
    tf_dtls_event_t de;
    while (tf_dtls_poll_event(p->dtls, &de) == 0) {
        if (de.kind == TF_DTLS_EVENT_CONNECTED) {
            int e = tf_srtp_create(&p->srtp, &de.keys, NULL);
            memset(&de.keys, 0, sizeof(de.keys));
            if (e < 0) {
                close_with(p, e, "SRTP session could not be created");
                continue;
            }
            tf_peer_event_t ev = {.kind = TF_PEER_EVENT_CONNECTED, .addr = p->dtls_dest};
            push_event(p, &ev);
        } else {
            close_with(p, de.error, de.reason[0] ? de.reason : "DTLS closed");
        }
    }
}

int tf_peer_handle_input(tf_peer_t *p, uint64_t now_us, const tf_addr_t *from, uint8_t *buf,
                         size_t *len)
{
    if (p->closed)
        return -EPIPE;
    if (*len == 0)
        return -EPROTO;
    uint8_t b0 = buf[0];
    if (b0 <= 3) { /* STUN */
        p->stats.stun_in++;
        tf_ice_stats_t before, after;
        tf_ice_get_stats(p->ice, &before);
        int e = tf_ice_handle_input(p->ice, now_us, from, buf, *len);
        tf_ice_get_stats(p->ice, &after);
        if (after.checks > before.checks)
            add_validated(p, from);
        drain_ice(p);
        return e < 0 ? e : TF_PEER_INPUT_NONE;
    }
    if (!is_validated(p, from)) {
        p->stats.dropped_unvalidated++;
        return -EACCES;
    }
    if (b0 >= 20 && b0 <= 63) { /* DTLS */
        p->stats.dtls_in++;
        p->dtls_dest = *from;
        int e = tf_dtls_handle_input(p->dtls, now_us, buf, *len);
        drain_dtls(p);
        return e < 0 ? e : TF_PEER_INPUT_NONE;
    }
    if (b0 >= 128 && b0 <= 191) { /* RTP / RTCP */
        if (!p->srtp) {
            p->stats.dropped_early++;
            return -ENOTCONN;
        }
        int rtcp = tf_rtp_is_rtcp(buf, *len);
        int e = rtcp ? tf_srtp_unprotect_rtcp(p->srtp, buf, len)
                     : tf_srtp_unprotect_rtp(p->srtp, buf, len);
        if (e < 0) {
            p->stats.dropped_srtp++;
            return e;
        }
        if (rtcp)
            p->stats.rtcp_in++;
        else
            p->stats.rtp_in++;
        return rtcp ? TF_PEER_INPUT_RTCP : TF_PEER_INPUT_RTP;
    }
    p->stats.dropped_unknown++;
    return -EPROTO;
}

int tf_peer_handle_timeout(tf_peer_t *p, uint64_t now_us)
{
    if (p->closed)
        return 0;
    if (now_us >= tf_ice_poll_timeout(p->ice)) {
        tf_ice_handle_timeout(p->ice, now_us);
        drain_ice(p);
    }
    if (now_us >= tf_dtls_poll_timeout(p->dtls)) {
        tf_dtls_handle_timeout(p->dtls, now_us);
        drain_dtls(p);
    }
    return 0;
}

uint64_t tf_peer_poll_timeout(const tf_peer_t *p)
{
    if (p->closed)
        return UINT64_MAX;
    uint64_t a = tf_ice_poll_timeout(p->ice), b = tf_dtls_poll_timeout(p->dtls);
    return a < b ? a : b;
}

int tf_peer_poll_transmit(tf_peer_t *p, tf_peer_transmit_t *out)
{
    tf_ice_transmit_t it;
    if (tf_ice_poll_transmit(p->ice, &it) == 0) {
        out->dest = it.dest;
        out->len = it.len;
        memcpy(out->data, it.data, it.len);
        return 0;
    }
    int n = tf_dtls_poll_transmit(p->dtls, out->data, sizeof(out->data));
    if (n > 0) {
        out->dest = p->dtls_dest;
        out->len = (size_t)n;
        return 0;
    }
    return -EAGAIN;
}

int tf_peer_poll_event(tf_peer_t *p, tf_peer_event_t *out)
{
    if (!p->ev_len)
        return -EAGAIN;
    *out = p->events[p->ev_head];
    p->ev_head = (p->ev_head + 1) % EVENTS_MAX;
    p->ev_len--;
    return 0;
}

int tf_peer_protect_rtp(tf_peer_t *p, uint8_t *buf, size_t *len, size_t cap)
{
    if (!p->srtp || p->closed)
        return -ENOTCONN;
    return tf_srtp_protect_rtp(p->srtp, buf, len, cap);
}

int tf_peer_protect_rtcp(tf_peer_t *p, uint8_t *buf, size_t *len, size_t cap)
{
    if (!p->srtp || p->closed)
        return -ENOTCONN;
    return tf_srtp_protect_rtcp(p->srtp, buf, len, cap);
}

int tf_peer_remote(const tf_peer_t *p, tf_addr_t *out)
{
    if (tf_ice_selected(p->ice, out) == 0)
        return 0;
    if (p->n_validated) {
        *out = p->validated[p->n_validated - 1];
        return 0;
    }
    return -ENOTCONN;
}

int tf_peer_connected(const tf_peer_t *p) { return p->srtp != NULL && !p->closed; }

void tf_peer_close(tf_peer_t *p, uint64_t now_us)
{
    if (p->closed)
        return;
    tf_dtls_close(p->dtls, now_us);
    p->closed = 1;
}

void tf_peer_get_stats(const tf_peer_t *p, tf_peer_stats_t *out) { *out = p->stats; }
