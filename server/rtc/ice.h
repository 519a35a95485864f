/* ice.h — ICE-lite agent (RFC 8445 §2.5), one per session, always controlled: answers checks,
 * takes the nominated address, follows NAT rebinding, watches for consent lapse (RFC 7675).
 * No sockets, no clock, no gathering, no checks of its own: bytes + time in; datagrams, events
 * and one deadline out.
 *
 * Ownership: tf_ice_create() copies the config (strings included); the agent owns everything it
 * allocates and allocates nothing after create (OpenSSL 3.0 itself makes two small allocations
 * per HMAC). Not thread-safe: one loop drives one agent. Times are µs of one monotonic clock. */
#ifndef TF_ICE_H
#define TF_ICE_H

#include <stddef.h>
#include <stdint.h>

#include "server/rtc/addr.h"

#define TF_ICE_MAX_PACKET 256           /* the largest datagram the agent emits */
#define TF_ICE_CONSENT_TIMEOUT_MS 30000 /* RFC 7675 §5.1: "Consent expires after 30 seconds" */
#define TF_ICE_UFRAG_MIN 4              /* RFC 8445 §5.3: >= 24 bits of randomness */
#define TF_ICE_PWD_MIN 22               /* RFC 8445 §5.3: >= 128 bits of randomness */
#define TF_ICE_CRED_MAX 256             /* RFC 8839 §5.4: ufrag and pwd at most 256 chars */
#define TF_ICE_SOFTWARE_MAX 128

typedef struct tf_ice tf_ice_t;

typedef struct tf_ice_config {
    const char *local_ufrag;     /* ours (in our SDP answer): 4..256 ice-chars (ALPHA DIGIT + /) */
    const char *local_pwd;       /* ours: 22..256 ice-chars; checks and answers are keyed with it */
    const char *remote_ufrag;    /* the peer's; a check's USERNAME must be "local:remote". NULL:
                                  * only "local:" is checked, RFC 8445 §7.3's minimum */
    const char *remote_pwd;      /* the peer's (may be NULL); validated and kept, but a lite agent
                                  * sends no requests, so nothing is signed with it */
    uint32_t consent_timeout_ms; /* 0: TF_ICE_CONSENT_TIMEOUT_MS */
    uint32_t rebind_quiet_ms;    /* after nomination, a valid check from a new address without
                                  * USE-CANDIDATE moves the path only if the current address has
                                  * sent no valid check for this long. 0: move at once. Chrome
                                  * keeps pinging backup pairs; ~2500 stops the path flapping. */
    const char *software;        /* SOFTWARE in answers, <= 128 bytes; NULL: none */
} tf_ice_config_t;

typedef enum {
    TF_ICE_STATE_NEW = 0,   /* no valid check yet */
    TF_ICE_STATE_CHECKING,  /* valid checks answered, nothing nominated */
    TF_ICE_STATE_CONNECTED, /* a nominated address: send media there */
    TF_ICE_STATE_FAILED,    /* consent lapsed; terminal (RFC 7675 §5.1: the same credentials
                             * "MUST NOT be used on the affected 5-tuple again") */
} tf_ice_state_t;

typedef enum {
    TF_ICE_EVENT_SELECTED = 1,    /* first nomination; addr: where to send */
    TF_ICE_EVENT_ADDRESS_CHANGED, /* the peer moved (rebinding, renomination); addr new, prev old */
    TF_ICE_EVENT_CONSENT_LAPSED,  /* no valid check for the consent timeout: stop sending */
} tf_ice_event_kind_t;

typedef struct tf_ice_event {
    tf_ice_event_kind_t kind;
    tf_addr_t addr; /* the selected address (LAPSED: the last one, or unset) */
    tf_addr_t prev; /* ADDRESS_CHANGED: the address before */
} tf_ice_event_t;

typedef struct tf_ice_transmit {
    tf_addr_t dest;
    size_t len;
    uint8_t data[TF_ICE_MAX_PACKET];
} tf_ice_transmit_t;

typedef struct tf_ice_stats {
    uint64_t checks;            /* valid checks answered with success */
    uint64_t auth_failures;     /* answered 400/401 */
    uint64_t malformed;         /* not STUN, or broken STUN: dropped */
    uint64_t role_conflicts;    /* answered 487 */
    uint64_t unknown_attrs;     /* answered 420 */
    uint64_t dropped_transmits; /* answers lost because the queue was full */
} tf_ice_stats_t;

/* Creates an agent at time now_us; the consent clock starts then, so a peer that never sends
 * a valid check also lapses after the timeout. 0, -EINVAL (bad config) or -ENOMEM/-EIO. */
int tf_ice_create(tf_ice_t **out, const tf_ice_config_t *cfg, uint64_t now_us);
void tf_ice_destroy(tf_ice_t **ice);

/* One datagram from `from` (which the caller has demuxed as STUN, tf_stun_is_stun()).
 * Binding requests are authenticated with RFC 8489 §9.1.3 (400 without USERNAME or integrity,
 * 401 for a wrong USERNAME or integrity: error answers carry no integrity). Authenticated
 * requests with unknown comprehension-required attributes get 420, ones with ICE-CONTROLLED get
 * 487 (a lite agent cannot take the controlling role), the rest a success answer carrying
 * XOR-MAPPED-ADDRESS = from, the integrity type the request used, and FINGERPRINT. A valid
 * check with USE-CANDIDATE nominates `from` (SELECTED, or ADDRESS_CHANGED after); a valid check
 * from a new address after nomination follows it (see rebind_quiet_ms) unless its transaction
 * id was already seen from elsewhere (a replay). Valid checks before nomination, and on the
 * selected address after, refresh consent. Binding indications (keepalives) are accepted and
 * ignored. Returns 0 (consumed), -EPROTO (malformed: dropped), -EACCES (authentication failed),
 * -ENOTSUP (not a Binding request/indication, or answered 420), -EPIPE (consent has lapsed:
 * nothing is answered any more) or -EINVAL. */
int tf_ice_handle_input(tf_ice_t *ice, uint64_t now_us, const tf_addr_t *from, const uint8_t *buf,
                        size_t len);

/* Advances time: consent lapses when now_us >= tf_ice_poll_timeout(). 0 or -EINVAL. */
int tf_ice_handle_timeout(tf_ice_t *ice, uint64_t now_us);

/* The next datagram to send, copied into *out: 0, or -EAGAIN when none is queued. */
int tf_ice_poll_transmit(tf_ice_t *ice, tf_ice_transmit_t *out);

/* The next event: 0, or -EAGAIN when none. At most 16 are queued; the oldest are dropped. */
int tf_ice_poll_event(tf_ice_t *ice, tf_ice_event_t *out);

/* The time (µs) by which tf_ice_handle_timeout() must be called; UINT64_MAX when failed. */
uint64_t tf_ice_poll_timeout(const tf_ice_t *ice);

tf_ice_state_t tf_ice_state(const tf_ice_t *ice);

/* The selected address: 0, or -ENOTCONN before nomination and after failure. */
int tf_ice_selected(const tf_ice_t *ice, tf_addr_t *out);

void tf_ice_get_stats(const tf_ice_t *ice, tf_ice_stats_t *out);

/* Fills len bytes with cryptographically strong randomness: 0 or a negative errno. */
typedef int (*tf_ice_rand_fn)(void *opaque, uint8_t *buf, size_t len);

/* Writes a random ufrag of ufrag_size - 1 ice-chars and a password of pwd_size - 1 ice-chars,
 * NUL-terminated, from rand_fn's bytes (6 bits per char, unbiased). ufrag_size - 1 must be in
 * 4..256 and pwd_size - 1 in 22..256. 0, -EINVAL or rand_fn's error. */
int tf_ice_random_credentials(tf_ice_rand_fn rand_fn, void *opaque, char *ufrag, size_t ufrag_size,
                              char *pwd, size_t pwd_size);

#endif
