/* dtls.h — DTLS 1.2 server for DTLS-SRTP (RFC 5763, RFC 5764) on OpenSSL 3 memory BIOs: checks
 * the peer's certificate against the SDP fingerprint, negotiates use_srtp, exports the SRTP
 * keys. No sockets, no application data (no data channels), no client role, no renegotiation.
 *
 * Time: the caller's clock decides when to retransmit (poll_timeout/handle_timeout), but
 * OpenSSL 3.0 keeps its own copy of the deadline on the wall clock (gettimeofday): it resends
 * from DTLSv1_handle_timeout() only once that has passed (15 ms slack), and resends by itself
 * while reading input after it. We choose the interval (DTLS_set_timer_cb), so both deadlines
 * agree when now_us advances at wall-clock speed, as in production; a resend OpenSSL makes on
 * its own re-arms ours. If the caller's clock is ahead (a fake clock, or the wall clock stepped
 * back), handle_timeout resends nothing and re-arms at OpenSSL's remaining time, counted in
 * wall_clock_waits; the handshake timeout still ends a stuck handshake. The peer's validity
 * dates are not checked (the fingerprint is the trust), so verification reads no clock;
 * tf_dtls_cert_create() reads time() once unless the config gives the start of validity.
 *
 * RFC 6347 §4.2.4: a peer's retransmitted flight "SHOULD" make us "retransmit [our] own last
 * flight"; OpenSSL 3.0 does only for a repeated Finished once connected, else waits for its timer.
 * So the session keeps a copy of its last new flight (8 KiB inside the session, no per-packet
 * malloc) and queues it again, byte for byte, when a datagram repeats a plaintext handshake
 * message (message_seq) of the client flight it answered and OpenSSL sent nothing: at most one
 * resend (ours or OpenSSL's) per 250 ms, each in answer to the peer (stats.flight_resends).
 *
 * Ownership: a certificate is shared by many sessions; each session keeps its own reference to
 * the OpenSSL objects it needs, so the certificate may be destroyed before its sessions. A
 * session copies its config. Not thread-safe: one loop drives one session; different sessions
 * (and one certificate) may be used from different threads. */
#ifndef TF_DTLS_H
#define TF_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "server/rtc/srtp.h"

#define TF_DTLS_FINGERPRINT_SIZE 96 /* "AB:CD:..." of a SHA-256 digest with its NUL */
#define TF_DTLS_DEFAULT_MTU 1200    /* bytes of DTLS records per datagram */
#define TF_DTLS_MAX_MTU 1500
#define TF_DTLS_MIN_MTU 512
#define TF_DTLS_DEFAULT_INITIAL_RTO_MS 1000 /* RFC 6347 §4.2.4.1: "1 second" */
#define TF_DTLS_DEFAULT_MAX_RTO_MS 60000    /* §4.2.4.1: doubling "up to no less than" 60 s */
#define TF_DTLS_DEFAULT_HANDSHAKE_TIMEOUT_MS 30000
#define TF_DTLS_MAX_PROFILES 2

typedef struct tf_dtls_cert tf_dtls_cert_t;
typedef struct tf_dtls tf_dtls_t;

typedef struct tf_dtls_cert_config {
    const char *common_name; /* subject and issuer CN; NULL: "tafel" */
    uint32_t valid_days;     /* 0: 30 */
    int64_t not_before_unix; /* start of validity, Unix seconds; 0: time() minus one day */
} tf_dtls_cert_config_t;

/* Generates an ECDSA P-256 key and a self-signed X.509 v3 certificate (SHA-256 signature,
 * random 63-bit serial) and the server-side OpenSSL context every session is made from.
 * cfg may be NULL. 0, -EINVAL or -ENOMEM/-EIO (OpenSSL failed). */
int tf_dtls_cert_create(tf_dtls_cert_t **out, const tf_dtls_cert_config_t *cfg);
void tf_dtls_cert_destroy(tf_dtls_cert_t **cert);

/* The certificate's SHA-256 fingerprint as SDP wants it (RFC 8122 §5, "a=fingerprint:sha-256
 * AB:CD:..."): 95 upper-case hex characters and colons plus NUL. 0, -EINVAL or -ENOBUFS. */
int tf_dtls_cert_fingerprint(const tf_dtls_cert_t *cert, char *out, size_t cap);

typedef struct tf_dtls_config {
    const char *fingerprint_hash; /* the peer's a=fingerprint hash: "sha-256" (also "sha-1",
                                   * "sha-224", "sha-384", "sha-512"), case-insensitive */
    const char *fingerprint;      /* its value, "AB:CD:..." (hex in either case) */
    /* SRTP profiles in our order of preference; we are the DTLS server, so ours decides among
     * those the client offers. n_profiles 0: AEAD_AES_128_GCM, then AES128_CM_SHA1_80. */
    tf_srtp_profile_t profiles[TF_DTLS_MAX_PROFILES];
    int n_profiles;
    uint16_t mtu;                  /* DTLS bytes per datagram, 512..1500; 0: 1200 */
    uint32_t initial_rto_ms;       /* first retransmission timeout; 0: 1000 */
    uint32_t max_rto_ms;           /* the doubling stops here; 0: 60000 */
    uint32_t handshake_timeout_ms; /* from tf_dtls_create() to CONNECTED, else FAILED with
                                    * -ETIMEDOUT; 0: 30000 */
} tf_dtls_config_t;

typedef enum {
    TF_DTLS_STATE_NEW = 0,    /* nothing received yet */
    TF_DTLS_STATE_CONNECTING, /* handshake under way */
    TF_DTLS_STATE_CONNECTED,  /* SRTP keys available */
    TF_DTLS_STATE_FAILED,     /* terminal: handshake failed */
    TF_DTLS_STATE_CLOSED,     /* terminal: close_notify sent or received, or fatal alert after
                               * connecting */
} tf_dtls_state_t;

typedef enum {
    TF_DTLS_EVENT_CONNECTED = 1, /* keys: the negotiated profile and master keys */
    TF_DTLS_EVENT_FAILED,        /* the handshake failed: error and reason; no keys */
    TF_DTLS_EVENT_CLOSED,        /* the peer closed: error 0 (close_notify) or -ECONNRESET */
} tf_dtls_event_kind_t;

typedef struct tf_dtls_event {
    tf_dtls_event_kind_t kind;
    /* FAILED: -EACCES (certificate missing or not matching the fingerprint), -ECONNRESET (the
     * peer sent a fatal alert), -ETIMEDOUT (handshake timeout, or OpenSSL gave up
     * retransmitting), -ENOTSUP (no common SRTP profile), -EPROTO (anything else). */
    int error;
    char reason[128];    /* FAILED, CLOSED: a human-readable explanation for logs */
    tf_srtp_keys_t keys; /* CONNECTED: our view (local = server's half). Secret: wipe it after
                          * tf_srtp_create(). Zero for other events. */
} tf_dtls_event_t;

typedef struct tf_dtls_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t retransmits;      /* flights OpenSSL resent on a timeout */
    uint64_t flight_resends;   /* our last flight resent because the peer retransmitted its own */
    uint64_t wall_clock_waits; /* handle_timeout found OpenSSL's wall clock not there yet */
    uint64_t dropped_out;      /* datagrams lost to a full transmit queue or an oversize record */
    uint64_t app_data_dropped; /* application data records read after connecting and ignored */
} tf_dtls_stats_t;

/* A session for one peer, created at now_us (the handshake timeout runs from here). cert must be
 * valid only during the call. 0, -EINVAL (bad config or fingerprint string), -ENOTSUP (unknown
 * hash or profile) or -ENOMEM/-EIO. */
int tf_dtls_create(tf_dtls_t **out, const tf_dtls_cert_t *cert, const tf_dtls_config_t *cfg,
                   uint64_t now_us);
/* Frees the session and wipes its secrets; *d becomes NULL. Sends nothing: tf_dtls_close()
 * first for a polite close_notify. */
void tf_dtls_destroy(tf_dtls_t **d);

/* One datagram the caller demuxed as DTLS (tf_dtls_is_dtls()). Runs the handshake, answers a
 * retransmitted client flight (above), watches for close_notify. 0 (consumed, which includes
 * records OpenSSL silently discards), -EPIPE (the session is FAILED or CLOSED and ignores
 * input), -EMSGSIZE (over 16 KiB + 256), -EINVAL. Failures are reported as events. */
int tf_dtls_handle_input(tf_dtls_t *d, uint64_t now_us, const uint8_t *buf, size_t len);

/* Advances time: retransmits when now_us passed the retransmission deadline, fails the
 * handshake when it passed the handshake deadline. 0 or -EINVAL. */
int tf_dtls_handle_timeout(tf_dtls_t *d, uint64_t now_us);

/* Copies the next datagram into buf: its length (> 0), -EAGAIN when none is queued, -ENOBUFS
 * when cap is too small (the datagram stays queued; mtu bytes always suffice), -EINVAL. */
int tf_dtls_poll_transmit(tf_dtls_t *d, uint8_t *buf, size_t cap);

/* The next event: 0, or -EAGAIN when none. The connected event's copy of the keys is wiped from
 * the session's queue as it is handed over. */
int tf_dtls_poll_event(tf_dtls_t *d, tf_dtls_event_t *out);

/* When tf_dtls_handle_timeout() must next be called; UINT64_MAX for never (connected without a
 * pending retransmission, or FAILED/CLOSED). */
uint64_t tf_dtls_poll_timeout(const tf_dtls_t *d);

/* Sends close_notify if connected (poll_transmit it) and moves to CLOSED; no event. 0, -EINVAL. */
int tf_dtls_close(tf_dtls_t *d, uint64_t now_us);

tf_dtls_state_t tf_dtls_state(const tf_dtls_t *d);

/* The SRTP keys from our view: 0, or -ENOTCONN unless CONNECTED. */
int tf_dtls_srtp_keys(const tf_dtls_t *d, tf_srtp_keys_t *out);

void tf_dtls_get_stats(const tf_dtls_t *d, tf_dtls_stats_t *out);

/* RFC 7983 §7: a datagram whose first byte is 20..63 is DTLS. 1 or 0. */
int tf_dtls_is_dtls(const uint8_t *buf, size_t len);

#endif
