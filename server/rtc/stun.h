/* stun.h — STUN messages (RFC 8489): parse, build, integrity and fingerprint, between caller
 * buffers. No sockets, no clock, no transactions or retransmissions (ice.c answers requests).
 *
 * Ownership: a parsed tf_stun_msg_t points into the caller's packet (username, software, reason,
 * raw), so it is valid only while that buffer is. To build, the caller fills a tf_stun_msg_t
 * whose pointers it keeps alive for the tf_stun_marshal_to() call. A tf_stun_key_t holds the
 * HMAC contexts of one password; it is not safe to use from two threads at once. */
#ifndef TF_STUN_H
#define TF_STUN_H

#include <stddef.h>
#include <stdint.h>

#include "server/rtc/addr.h"

#define TF_STUN_HEADER_LEN 20
#define TF_STUN_MAGIC_COOKIE 0x2112A442u
#define TF_STUN_FINGERPRINT_XOR 0x5354554eu
#define TF_STUN_TID_LEN 12
#define TF_STUN_MAX_TEXT 763  /* USERNAME, SOFTWARE, reason phrase: RFC 8489 §14.3's parse limit */
#define TF_STUN_MAX_UNKNOWN 8 /* attribute types kept in unknown[] and unhandled[] */

/* Message classes (RFC 8489 §5) and the one method ICE uses (§18.2). */
#define TF_STUN_REQUEST 0
#define TF_STUN_INDICATION 1
#define TF_STUN_SUCCESS 2
#define TF_STUN_ERROR 3
#define TF_STUN_METHOD_BINDING 0x001

/* Attribute types (RFC 8489 §18.3, RFC 8445 §16.1). */
#define TF_STUN_ATTR_USERNAME 0x0006
#define TF_STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define TF_STUN_ATTR_ERROR_CODE 0x0009
#define TF_STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define TF_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 0x001C
#define TF_STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define TF_STUN_ATTR_PRIORITY 0x0024
#define TF_STUN_ATTR_USE_CANDIDATE 0x0025
#define TF_STUN_ATTR_SOFTWARE 0x8022
#define TF_STUN_ATTR_FINGERPRINT 0x8028
#define TF_STUN_ATTR_ICE_CONTROLLED 0x8029
#define TF_STUN_ATTR_ICE_CONTROLLING 0x802A

/* Bits of tf_stun_msg_t.has: the attributes found by a parse, or to be written by a marshal. */
#define TF_STUN_HAS_USERNAME (1u << 0)
#define TF_STUN_HAS_MESSAGE_INTEGRITY (1u << 1)
#define TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256 (1u << 2)
#define TF_STUN_HAS_FINGERPRINT (1u << 3)
#define TF_STUN_HAS_XOR_MAPPED_ADDRESS (1u << 4)
#define TF_STUN_HAS_ERROR_CODE (1u << 5)
#define TF_STUN_HAS_UNKNOWN_ATTRIBUTES (1u << 6)
#define TF_STUN_HAS_PRIORITY (1u << 7)
#define TF_STUN_HAS_USE_CANDIDATE (1u << 8)
#define TF_STUN_HAS_ICE_CONTROLLED (1u << 9)
#define TF_STUN_HAS_ICE_CONTROLLING (1u << 10)
#define TF_STUN_HAS_SOFTWARE (1u << 11)

typedef struct tf_stun_key tf_stun_key_t;

typedef struct tf_stun_msg {
    uint8_t cls;     /* TF_STUN_REQUEST .. TF_STUN_ERROR */
    uint16_t method; /* 12 bits; TF_STUN_METHOD_BINDING */
    uint8_t tid[TF_STUN_TID_LEN];
    uint32_t has; /* TF_STUN_HAS_* */
    /* Text attributes: not NUL-terminated; at most TF_STUN_MAX_TEXT bytes. */
    const char *username;
    size_t username_len;
    const char *software;
    size_t software_len;
    uint16_t error_code; /* 300..699 */
    const char *reason;  /* ERROR-CODE reason phrase */
    size_t reason_len;
    uint16_t unknown[TF_STUN_MAX_UNKNOWN]; /* UNKNOWN-ATTRIBUTES (a parse keeps the first 8) */
    uint8_t n_unknown;
    tf_addr_t xor_mapped;
    uint32_t priority;
    uint64_t ice_controlled; /* tie-breakers */
    uint64_t ice_controlling;
    uint8_t integrity[20];        /* parse: the received MESSAGE-INTEGRITY */
    uint8_t integrity_sha256[32]; /* parse: the received (possibly truncated) HMAC-SHA256 */
    uint8_t integrity_sha256_len; /* parse: 16..32; marshal: 0 means 32, else 16..32 step 4 */
    uint32_t fingerprint;         /* parse: the received value (already checked) */
    uint8_t padding; /* marshal: byte for attribute padding; RFC 8489 §14 says 0, RFC 5769 uses
                      * 0x20 in its vectors */
    /* Filled by tf_stun_parse only. */
    uint16_t unhandled[TF_STUN_MAX_UNKNOWN]; /* unknown comprehension-required types seen */
    uint8_t n_unhandled;
    const uint8_t *raw; /* the parsed packet, for tf_stun_check_integrity() */
    size_t raw_len;
    size_t integrity_off, integrity_sha256_off; /* offsets of those attributes' headers */
} tf_stun_msg_t;

/* RFC 7983 demultiplexing: 1 if buf can be STUN (first byte 0..3, magic cookie, a length field
 * that matches len), else 0. Cheap; no attribute is looked at. */
int tf_stun_is_stun(const uint8_t *buf, size_t len);

/* Zeroes msg and sets class, method and transaction id (tid may be NULL: all zero). */
void tf_stun_msg_init(tf_stun_msg_t *msg, int cls, uint16_t method, const uint8_t *tid);

/* Parses one whole datagram. Checks every length before reading, the header rules of RFC 8489
 * §6.3, each known attribute's format, and FINGERPRINT when present (a mismatch means "not
 * STUN"). Attributes after MESSAGE-INTEGRITY(-SHA256) other than those §9 allows are ignored,
 * as are unknown comprehension-optional ones; unknown comprehension-required types are listed
 * in unhandled[] (the caller answers 420). Integrity is not checked here (no key): see
 * tf_stun_check_integrity(). 0, -EINVAL (NULL arguments) or -EPROTO; err (may be NULL) gets a
 * one-line reason. */
int tf_stun_parse(tf_stun_msg_t *msg, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Bytes tf_stun_marshal_to() will write for msg. */
size_t tf_stun_marshal_size(const tf_stun_msg_t *msg);

/* Writes msg into buf in a fixed order (SOFTWARE, XOR-MAPPED-ADDRESS, ERROR-CODE,
 * UNKNOWN-ATTRIBUTES, PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING, USERNAME,
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256, FINGERPRINT), computing the integrity values with
 * key (needed only if an integrity bit is set) and the fingerprint. *out_len gets the length.
 * 0, -EINVAL (bad field or missing key), -ENOBUFS (cap too small) or -EIO (OpenSSL failed). */
int tf_stun_marshal_to(const tf_stun_msg_t *msg, tf_stun_key_t *key, uint8_t *buf, size_t cap,
                       size_t *out_len);

/* A short-term credential key (RFC 8489 §9.1.1: key = OpaqueString(password); ICE passwords are
 * ASCII, so the bytes as given). The password is copied into OpenSSL's contexts. 0, -EINVAL,
 * -ENOMEM or -EIO. */
int tf_stun_key_create(tf_stun_key_t **out, const void *password, size_t len);
void tf_stun_key_destroy(tf_stun_key_t **key);

/* Checks a parsed message's integrity with key: MESSAGE-INTEGRITY-SHA256 if present, else
 * MESSAGE-INTEGRITY (RFC 8489 §9.1.3). 0, -ENOENT (neither present), -EACCES (mismatch),
 * -EINVAL or -EIO. Compares in constant time. */
int tf_stun_check_integrity(const tf_stun_msg_t *msg, tf_stun_key_t *key);

/* The recommended reason phrase for an error code (RFC 8489 §14.8), "" if none is known. */
const char *tf_stun_reason(int code);

#endif
