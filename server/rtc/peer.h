/* peer.h — one WebRTC transport to one browser: ICE-lite + DTLS + SRTP behind one port,
 * demultiplexed per RFC 7983. No sockets, no clock, no media logic: datagrams and time in;
 * decrypted RTP/RTCP, datagrams to send, events and one deadline out.
 *
 * Ownership: tf_peer_create() copies its config; the certificate is only used during the call.
 * Buffers given to handle_input and protect are the caller's and rewritten in place. */
#ifndef TF_PEER_H
#define TF_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "server/rtc/addr.h"
#include "server/rtc/dtls.h"
#include "server/rtc/srtp.h"

#define TF_PEER_MAX_DATAGRAM 1500
#define TF_PEER_MAX_VALIDATED 4 /* addresses that passed an ICE check, newest kept */

typedef struct tf_peer tf_peer_t;

typedef struct tf_peer_config {
    const tf_dtls_cert_t *cert;
    const char *local_ufrag, *local_pwd;   /* ours, from the SDP answer */
    const char *remote_ufrag, *remote_pwd; /* the browser's, from its offer */
    const char *fingerprint_hash;          /* the browser's a=fingerprint */
    const char *fingerprint;
    uint32_t consent_timeout_ms;           /* 0: 30 s (RFC 7675) */
} tf_peer_config_t;

typedef enum {
    TF_PEER_EVENT_VALIDATED = 1, /* addr passed an ICE check: route its datagrams here */
    TF_PEER_EVENT_SELECTED,      /* addr nominated (or moved to: prev is the old one) */
    TF_PEER_EVENT_CONNECTED,     /* DTLS done, SRTP keyed: media may flow */
    TF_PEER_EVENT_CLOSED,        /* terminal: error and reason say why */
} tf_peer_event_kind_t;

typedef struct tf_peer_event {
    tf_peer_event_kind_t kind;
    tf_addr_t addr, prev;
    int error;        /* CLOSED: 0 (peer closed), -ETIMEDOUT (consent lapsed or handshake),
                       * -EACCES (fingerprint), or another DTLS error */
    char reason[128];
} tf_peer_event_t;

typedef struct tf_peer_transmit {
    tf_addr_t dest;
    size_t len;
    uint8_t data[TF_PEER_MAX_DATAGRAM];
} tf_peer_transmit_t;

typedef enum { TF_PEER_INPUT_NONE = 0, TF_PEER_INPUT_RTP, TF_PEER_INPUT_RTCP } tf_peer_input_t;

typedef struct tf_peer_stats {
    uint64_t stun_in, dtls_in, rtp_in, rtcp_in;
    uint64_t dropped_unknown;   /* not STUN, DTLS or RTP/RTCP (RFC 7983) */
    uint64_t dropped_unvalidated; /* DTLS/SRTP from an address that passed no ICE check */
    uint64_t dropped_srtp;      /* failed to unprotect (auth, replay, malformed) */
    uint64_t dropped_early;     /* SRTP before the keys existed */
} tf_peer_stats_t;

/* 0, -EINVAL, -ENOMEM, or the ICE/DTLS module's error. */
int tf_peer_create(tf_peer_t **out, const tf_peer_config_t *cfg, uint64_t now_us);
void tf_peer_destroy(tf_peer_t **p);

/* One datagram from `from`. STUN and DTLS are consumed (TF_PEER_INPUT_NONE); SRTP/SRTCP is
 * decrypted in place (*len shrinks) and reported as TF_PEER_INPUT_RTP / _RTCP. Anything bad is
 * counted and dropped with a negative errno; it never changes the session's state. */
int tf_peer_handle_input(tf_peer_t *p, uint64_t now_us, const tf_addr_t *from, uint8_t *buf,
                         size_t *len);

int tf_peer_handle_timeout(tf_peer_t *p, uint64_t now_us);
uint64_t tf_peer_poll_timeout(const tf_peer_t *p);

/* The next ICE/DTLS datagram to send: 0, or -EAGAIN. */
int tf_peer_poll_transmit(tf_peer_t *p, tf_peer_transmit_t *out);
/* The next event: 0, or -EAGAIN. */
int tf_peer_poll_event(tf_peer_t *p, tf_peer_event_t *out);

/* Encrypts plain RTP / compound RTCP in place for sending to tf_peer_remote(); -ENOTCONN before
 * CONNECTED, else tf_srtp_protect_*'s result. */
int tf_peer_protect_rtp(tf_peer_t *p, uint8_t *buf, size_t *len, size_t cap);
int tf_peer_protect_rtcp(tf_peer_t *p, uint8_t *buf, size_t *len, size_t cap);

/* Where media goes: the selected address, else the newest validated one. 0 or -ENOTCONN. */
int tf_peer_remote(const tf_peer_t *p, tf_addr_t *out);

int tf_peer_connected(const tf_peer_t *p);

/* Polite close: DTLS close_notify is queued for poll_transmit; no CLOSED event follows. */
void tf_peer_close(tf_peer_t *p, uint64_t now_us);

void tf_peer_get_stats(const tf_peer_t *p, tf_peer_stats_t *out);

#endif
