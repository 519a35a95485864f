/* srtp.h — SRTP/SRTCP protect and unprotect for one DTLS-SRTP session, over libsrtp2 (RFC 3711,
 * RFC 7714 AES-GCM); no sockets, no clock, no key exchange (dtls.c exports the keys), no MKI.
 *
 * A session holds two libsrtp2 contexts: outbound (keyed with our half of the DTLS keying
 * material, any SSRC we send) and inbound (the peer's half, any SSRC it sends). libsrtp2 keeps
 * per-SSRC replay state and clones its stream template the first time an *authenticated* packet
 * of a new SSRC arrives (or is sent): that is an allocation per new SSRC, never per packet.
 *
 * Ownership: tf_srtp_create() copies the keys; the session owns its libsrtp2 contexts. Buffers
 * passed to protect/unprotect are the caller's and are rewritten in place. Not thread-safe: one
 * loop drives one session (several sessions may live on different threads).
 *
 * The one global: libsrtp2's srtp_init() must run once per process before any srtp_create();
 * srtp.c does that under a pthread_once on first use and never calls srtp_shutdown(). */
#ifndef TF_SRTP_H
#define TF_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* DTLS-SRTP protection profiles by their IANA ids (RFC 5764 §4.1.2, RFC 7714 §14.2). */
typedef enum {
    TF_SRTP_AES128_CM_SHA1_80 = 0x0001, /* AES-CM 128, HMAC-SHA1 80-bit tag; key 16, salt 14 */
    TF_SRTP_AEAD_AES_128_GCM = 0x0007,  /* AES-GCM 128, 16-byte tag; key 16, salt 12 */
} tf_srtp_profile_t;

#define TF_SRTP_MAX_KEY_LEN 16
#define TF_SRTP_MAX_SALT_LEN 14
/* What protect adds at most: RTP the tag (10 or 16); RTCP the E flag + SRTCP index (4) and tag. */
#define TF_SRTP_MAX_RTP_OVERHEAD 16
#define TF_SRTP_MAX_RTCP_OVERHEAD 20
#define TF_SRTP_DEFAULT_REPLAY_WINDOW 1024
/* RFC 5764 §4.2: 2 * (key + salt) bytes are exported, at most this many. */
#define TF_SRTP_MAX_KEYING_MATERIAL (2 * (TF_SRTP_MAX_KEY_LEN + TF_SRTP_MAX_SALT_LEN))

/* One side's view of the session's master keys. "local" protects what this side sends, "remote"
 * unprotects what it receives; the client's view is the server's with the halves swapped. */
typedef struct tf_srtp_keys {
    tf_srtp_profile_t profile;
    uint8_t key_len, salt_len;
    uint8_t local_key[TF_SRTP_MAX_KEY_LEN], local_salt[TF_SRTP_MAX_SALT_LEN];
    uint8_t remote_key[TF_SRTP_MAX_KEY_LEN], remote_salt[TF_SRTP_MAX_SALT_LEN];
} tf_srtp_keys_t;

typedef struct tf_srtp_config {
    uint32_t replay_window; /* SRTP replay window in packets, 64..32767; 0: 1024 (video bursts
                             * and NACK-delayed packets stay inside it). SRTCP's is libsrtp's
                             * fixed 128. */
} tf_srtp_config_t;

typedef struct tf_srtp_stats {
    uint64_t rtp_protected, rtcp_protected;
    uint64_t rtp_unprotected, rtcp_unprotected;
    uint64_t replayed;    /* -EALREADY: a repeat, or older than the window */
    uint64_t auth_failed; /* -EBADMSG: tag mismatch (tampered, or not our keys) */
    uint64_t malformed;   /* -EPROTO: too short, or not an RTP/RTCP header */
    uint64_t no_room;     /* -ENOBUFS: the caller's buffer had no room for the trailer */
    uint64_t other;       /* anything else libsrtp2 refused (-EKEYEXPIRED, -ENOMEM, -EIO) */
} tf_srtp_stats_t;

typedef struct tf_srtp tf_srtp_t;

/* The master key and salt lengths of a profile: 0 or -ENOTSUP. */
int tf_srtp_key_lengths(tf_srtp_profile_t profile, size_t *key_len, size_t *salt_len);

/* Splits exported DTLS-SRTP keying material (RFC 5764 §4.2: client key | server key | client
 * salt | server salt) into *keys from one side's view: is_server picks which half is "local".
 * len must be exactly 2 * (key + salt) for the profile. 0, -EINVAL or -ENOTSUP. */
int tf_srtp_keys_from_material(tf_srtp_keys_t *keys, tf_srtp_profile_t profile,
                               const uint8_t *material, size_t len, int is_server);

/* Creates a session from keys (copied; cfg may be NULL). Replay protection is on, and
 * retransmissions of a sent packet with the same sequence number are allowed (allow_repeat_tx:
 * the caller must resend the same payload, as a NACK answer does). 0, -EINVAL, -ENOTSUP,
 * -ENOMEM or -EIO (libsrtp2 failed to initialise). */
int tf_srtp_create(tf_srtp_t **out, const tf_srtp_keys_t *keys, const tf_srtp_config_t *cfg);
/* Frees the session and wipes its keys; *s becomes NULL. NULL and *s == NULL are no-ops. */
void tf_srtp_destroy(tf_srtp_t **s);

/* Bytes protect adds for this session's profile: RTP 10 or 16, RTCP 14 or 20. */
size_t tf_srtp_rtp_overhead(const tf_srtp_t *s);
size_t tf_srtp_rtcp_overhead(const tf_srtp_t *s);

/* In place: buf[0..*len) is a plain RTP packet; on success it is the SRTP packet and *len grew
 * by tf_srtp_rtp_overhead(). cap is the size of buf; -ENOBUFS (buf untouched) when
 * *len + overhead > cap. Other errors: -EINVAL, -EPROTO (not RTP: < 12 bytes or version != 2),
 * -EKEYEXPIRED (2^48 packets on one SSRC), -ENOMEM, -EIO. Nothing is written past buf[cap). */
int tf_srtp_protect_rtp(tf_srtp_t *s, uint8_t *buf, size_t *len, size_t cap);
/* In place: buf[0..*len) is an SRTP packet; on success it is the RTP packet and *len shrank.
 * -EBADMSG (authentication failed), -EALREADY (replayed or too old), -EPROTO (malformed),
 * -EINVAL, -ENOMEM, -EIO. On error buf's contents are unspecified. */
int tf_srtp_unprotect_rtp(tf_srtp_t *s, uint8_t *buf, size_t *len);
/* The same for compound RTCP (SRTCP: encrypted, E flag set). RTCP needs >= 8 bytes. */
int tf_srtp_protect_rtcp(tf_srtp_t *s, uint8_t *buf, size_t *len, size_t cap);
int tf_srtp_unprotect_rtcp(tf_srtp_t *s, uint8_t *buf, size_t *len);

void tf_srtp_get_stats(const tf_srtp_t *s, tf_srtp_stats_t *out);

#endif
