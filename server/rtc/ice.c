/* ice.c — ICE-lite agent: answers connectivity checks, tracks the nominated peer address and
 * consent; no sockets, no clock, no checks of its own, no allocation after tf_ice_create(). */
#include "server/rtc/ice.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/stun.h"

#define TX_QUEUE 8
#define EVENT_QUEUE 16
#define RECENT_TIDS 8

struct tf_ice {
    char local_ufrag[TF_ICE_CRED_MAX + 1];
    char remote_ufrag[TF_ICE_CRED_MAX + 1]; /* "" = accept any */
    char remote_pwd[TF_ICE_CRED_MAX + 1];
    char software[TF_ICE_SOFTWARE_MAX + 1];
    size_t local_ufrag_len, remote_ufrag_len, software_len;
    tf_stun_key_t *key; /* the local password */
    uint64_t consent_timeout_us, rebind_quiet_us;

    tf_ice_state_t state;
    tf_addr_t selected;
    uint64_t last_valid_us;    /* the consent clock */
    uint64_t selected_seen_us; /* last valid check from the selected address */

    /* Transaction ids of recent valid checks, to refuse replays from another address. */
    uint8_t recent_tid[RECENT_TIDS][TF_STUN_TID_LEN];
    tf_addr_t recent_from[RECENT_TIDS];
    unsigned recent_next, recent_count;

    tf_ice_transmit_t tx[TX_QUEUE];
    unsigned tx_head, tx_count;
    tf_ice_event_t ev[EVENT_QUEUE];
    unsigned ev_head, ev_count;
    tf_ice_stats_t stats;
};

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". */
static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int ice_chars_ok(const char *s, size_t min, size_t *len_out)
{
    if (!s)
        return 0;
    size_t n = strnlen(s, TF_ICE_CRED_MAX + 1);
    if (n < min || n > TF_ICE_CRED_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr(ice_chars, s[i]))
            return 0;
    if (len_out)
        *len_out = n;
    return 1;
}

int tf_ice_create(tf_ice_t **out, const tf_ice_config_t *cfg, uint64_t now_us)
{
    size_t pwd_len = 0;
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg || !ice_chars_ok(cfg->local_ufrag, TF_ICE_UFRAG_MIN, NULL) ||
        !ice_chars_ok(cfg->local_pwd, TF_ICE_PWD_MIN, &pwd_len) ||
        (cfg->remote_ufrag && !ice_chars_ok(cfg->remote_ufrag, TF_ICE_UFRAG_MIN, NULL)) ||
        (cfg->remote_pwd && !ice_chars_ok(cfg->remote_pwd, TF_ICE_PWD_MIN, NULL)) ||
        (cfg->software && strnlen(cfg->software, TF_ICE_SOFTWARE_MAX + 1) > TF_ICE_SOFTWARE_MAX))
        return -EINVAL;

    tf_ice_t *ice = calloc(1, sizeof(*ice));
    if (!ice)
        return -ENOMEM;
    ice->local_ufrag_len = strlen(cfg->local_ufrag);
    memcpy(ice->local_ufrag, cfg->local_ufrag, ice->local_ufrag_len);
    if (cfg->remote_ufrag) {
        ice->remote_ufrag_len = strlen(cfg->remote_ufrag);
        memcpy(ice->remote_ufrag, cfg->remote_ufrag, ice->remote_ufrag_len);
    }
    if (cfg->remote_pwd)
        memcpy(ice->remote_pwd, cfg->remote_pwd, strlen(cfg->remote_pwd));
    if (cfg->software) {
        ice->software_len = strlen(cfg->software);
        memcpy(ice->software, cfg->software, ice->software_len);
    }
    uint32_t consent_ms =
        cfg->consent_timeout_ms ? cfg->consent_timeout_ms : TF_ICE_CONSENT_TIMEOUT_MS;
    ice->consent_timeout_us = (uint64_t)consent_ms * 1000;
    ice->rebind_quiet_us = (uint64_t)cfg->rebind_quiet_ms * 1000;
    ice->state = TF_ICE_STATE_NEW;
    ice->last_valid_us = now_us;

    int rc = tf_stun_key_create(&ice->key, cfg->local_pwd, pwd_len);
    if (rc < 0) {
        free(ice);
        return rc;
    }
    *out = ice;
    return 0;
}

void tf_ice_destroy(tf_ice_t **ice)
{
    if (!ice || !*ice)
        return;
    tf_stun_key_destroy(&(*ice)->key);
    /* The remote password is a secret too; do not leave it in freed memory. */
    memset((*ice)->remote_pwd, 0, sizeof((*ice)->remote_pwd));
    free(*ice);
    *ice = NULL;
}

static void push_event(tf_ice_t *ice, tf_ice_event_kind_t kind, const tf_addr_t *addr,
                       const tf_addr_t *prev)
{
    /* When full the oldest event goes: the newest says where the path is now. */
    if (ice->ev_count == EVENT_QUEUE) {
        ice->ev_head = (ice->ev_head + 1) % EVENT_QUEUE;
        ice->ev_count--;
    }
    tf_ice_event_t *e = &ice->ev[(ice->ev_head + ice->ev_count++) % EVENT_QUEUE];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    if (addr)
        e->addr = *addr;
    if (prev)
        e->prev = *prev;
}

/* The largest answer is a 420: header, SOFTWARE, ERROR-CODE "Unknown Attribute",
 * UNKNOWN-ATTRIBUTES, MESSAGE-INTEGRITY-SHA256, FINGERPRINT. */
_Static_assert(20 + (4 + TF_ICE_SOFTWARE_MAX) + (4 + 4 + 20) + (4 + 2 * TF_STUN_MAX_UNKNOWN) +
                       (4 + 32) + (4 + 4) <=
                   TF_ICE_MAX_PACKET,
               "TF_ICE_MAX_PACKET too small for the largest answer");

/* Builds msg into the transmit queue, addressed to dest. */
static void queue_answer(tf_ice_t *ice, const tf_addr_t *dest, tf_stun_msg_t *msg)
{
    if (ice->software_len) {
        msg->has |= TF_STUN_HAS_SOFTWARE;
        msg->software = ice->software;
        msg->software_len = ice->software_len;
    }
    /* RFC 8445 §7.3: the agent "MUST utilize the FINGERPRINT mechanism". */
    msg->has |= TF_STUN_HAS_FINGERPRINT;
    if (ice->tx_count == TX_QUEUE) {
        ice->stats.dropped_transmits++;
        return;
    }
    tf_ice_transmit_t *t = &ice->tx[(ice->tx_head + ice->tx_count) % TX_QUEUE];
    if (tf_stun_marshal_to(msg, ice->key, t->data, sizeof(t->data), &t->len) < 0) {
        ice->stats.dropped_transmits++;
        return;
    }
    t->dest = *dest;
    ice->tx_count++;
}

/* An error answer. `signed_with` is the request's integrity bits for errors after successful
 * authentication, 0 before: RFC 8489 §9.1.3, "If any of the checks fail, a server MUST NOT
 * include a MESSAGE-INTEGRITY-SHA256, MESSAGE-INTEGRITY, or USERNAME attribute in the error
 * response." */
static void queue_error(tf_ice_t *ice, const tf_addr_t *dest, const tf_stun_msg_t *req, int code,
                        uint32_t signed_with)
{
    tf_stun_msg_t m;
    tf_stun_msg_init(&m, TF_STUN_ERROR, TF_STUN_METHOD_BINDING, req->tid);
    m.has = TF_STUN_HAS_ERROR_CODE | signed_with;
    m.error_code = (uint16_t)code;
    m.reason = tf_stun_reason(code);
    m.reason_len = strlen(m.reason);
    if (code == 420) {
        /* RFC 8489 §14.8: 420 "The server MUST put this unknown attribute in the
         * UNKNOWN-ATTRIBUTE attribute of its error response." */
        m.has |= TF_STUN_HAS_UNKNOWN_ATTRIBUTES;
        m.n_unknown = req->n_unhandled;
        memcpy(m.unknown, req->unhandled, sizeof(m.unknown));
    }
    queue_answer(ice, dest, &m);
}

/* RFC 8445 §7.3: "The agent MUST consider the username to be valid if it consists of two
 * values separated by a colon, where the first value is equal to the username fragment
 * generated by the agent". With the peer's ufrag known we also require the second value to be
 * it: a check from an older or forked session is not a check of this one. */
static int username_ok(const tf_ice_t *ice, const tf_stun_msg_t *m)
{
    size_t lu = ice->local_ufrag_len, n = m->username_len;
    if (n <= lu || memcmp(m->username, ice->local_ufrag, lu) != 0 || m->username[lu] != ':')
        return 0;
    if (!ice->remote_ufrag_len)
        return n > lu + 1;
    return n - lu - 1 == ice->remote_ufrag_len &&
           memcmp(m->username + lu + 1, ice->remote_ufrag, ice->remote_ufrag_len) == 0;
}

/* Where a recent valid check with this transaction id came from: 0 never seen, 1 from this
 * address (a retransmission), 2 from another address (a replay). */
static int tid_seen(const tf_ice_t *ice, const uint8_t *tid, const tf_addr_t *from)
{
    for (unsigned i = 0; i < ice->recent_count; i++)
        if (memcmp(ice->recent_tid[i], tid, TF_STUN_TID_LEN) == 0)
            return tf_addr_equal(&ice->recent_from[i], from) ? 1 : 2;
    return 0;
}

static void remember_tid(tf_ice_t *ice, const uint8_t *tid, const tf_addr_t *from)
{
    memcpy(ice->recent_tid[ice->recent_next], tid, TF_STUN_TID_LEN);
    ice->recent_from[ice->recent_next] = *from;
    ice->recent_next = (ice->recent_next + 1) % RECENT_TIDS;
    if (ice->recent_count < RECENT_TIDS)
        ice->recent_count++;
}

static uint64_t consent_deadline(const tf_ice_t *ice)
{
    if (ice->last_valid_us > UINT64_MAX - ice->consent_timeout_us)
        return UINT64_MAX;
    return ice->last_valid_us + ice->consent_timeout_us;
}

/* RFC 7675 §5.1: "if a valid STUN binding response has not been received from the remote
 * peer's transport address in 30 seconds, the endpoint MUST cease transmission on that
 * 5-tuple." A lite agent sends no consent checks of its own (RFC 7675 §1); the peer's checks,
 * which it keeps sending every ~5 s while it wants our media, stand in for them. */
static void check_consent(tf_ice_t *ice, uint64_t now_us)
{
    if (ice->state == TF_ICE_STATE_FAILED || now_us < consent_deadline(ice))
        return;
    ice->state = TF_ICE_STATE_FAILED;
    ice->tx_count = 0; /* queued answers are transmissions too */
    push_event(ice, TF_ICE_EVENT_CONSENT_LAPSED, &ice->selected, NULL);
}

/* A check that passed every test: answer it, then update the path and consent. */
static void accept_check(tf_ice_t *ice, uint64_t now_us, const tf_addr_t *from,
                         const tf_stun_msg_t *req)
{
    tf_stun_msg_t m;
    tf_stun_msg_init(&m, TF_STUN_SUCCESS, TF_STUN_METHOD_BINDING, req->tid);
    /* RFC 8489 §9.1.3: the response to a request with MESSAGE-INTEGRITY-SHA256 "MUST include
     * the MESSAGE-INTEGRITY-SHA256 attribute", to one with only MESSAGE-INTEGRITY "MUST include
     * the MESSAGE-INTEGRITY attribute" ("only one of these attributes can appear"). */
    m.has = TF_STUN_HAS_XOR_MAPPED_ADDRESS |
            (req->has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256 ? TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256
                                                             : TF_STUN_HAS_MESSAGE_INTEGRITY);
    m.xor_mapped = *from;
    queue_answer(ice, from, &m);
    ice->stats.checks++;

    /* A transaction id seen before proves nothing new: it may move the path only if it came
     * from this address before, and it never refreshes consent. RFC 7675 §5.1: "Each STUN
     * binding request for consent MUST use a new STUN transaction identifier". */
    int seen = tid_seen(ice, req->tid, from);
    if (!seen)
        remember_tid(ice, req->tid, from);
    if (ice->state == TF_ICE_STATE_NEW)
        ice->state = TF_ICE_STATE_CHECKING;

    int use = (req->has & TF_STUN_HAS_USE_CANDIDATE) != 0;
    if (ice->state != TF_ICE_STATE_CONNECTED) {
        /* RFC 8445 §7.3.2: on USE-CANDIDATE a lite agent "sets the nominated flag" for the pair
         * (the request's destination, its source); with one component that pair is selected
         * (§8.2). */
        if (use) {
            ice->selected = *from;
            ice->selected_seen_us = now_us;
            ice->state = TF_ICE_STATE_CONNECTED;
            push_event(ice, TF_ICE_EVENT_SELECTED, from, NULL);
        }
    } else if (!tf_addr_equal(from, &ice->selected) && seen != 2 &&
               (use || (now_us >= ice->selected_seen_us &&
                        now_us - ice->selected_seen_us >= ice->rebind_quiet_us))) {
        /* A nominated peer checking from a new address has been rebound by its NAT (or
         * renominates): an authenticated, fresh check is the proof the new path works. */
        tf_addr_t prev = ice->selected;
        ice->selected = *from;
        push_event(ice, TF_ICE_EVENT_ADDRESS_CHANGED, from, &prev);
    }
    if (!seen && (ice->state != TF_ICE_STATE_CONNECTED || tf_addr_equal(from, &ice->selected))) {
        ice->last_valid_us = now_us;
        if (ice->state == TF_ICE_STATE_CONNECTED)
            ice->selected_seen_us = now_us;
    }
}

int tf_ice_handle_input(tf_ice_t *ice, uint64_t now_us, const tf_addr_t *from, const uint8_t *buf,
                        size_t len)
{
    if (!ice || !from || (!buf && len) ||
        (from->family != TF_ADDR_V4 && from->family != TF_ADDR_V6))
        return -EINVAL;
    check_consent(ice, now_us);
    if (ice->state == TF_ICE_STATE_FAILED)
        return -EPIPE;

    tf_stun_msg_t req;
    if (tf_stun_parse(&req, buf, len, NULL, 0) < 0) {
        ice->stats.malformed++;
        return -EPROTO;
    }
    /* RFC 8489 §6.3: a message whose method is not supported "is silently discarded"; so are
     * responses, as this agent has no transaction in progress. */
    if (req.method != TF_STUN_METHOD_BINDING)
        return -ENOTSUP;
    if (req.cls == TF_STUN_INDICATION)
        return 0; /* RFC 8445 §11: a keepalive, "used solely to keep the NAT bindings alive" */
    if (req.cls != TF_STUN_REQUEST)
        return -ENOTSUP;

    /* RFC 8489 §9.1.3, in the order specified. */
    uint32_t mi = req.has & (TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256);
    int code = 0;
    if (!(req.has & TF_STUN_HAS_USERNAME) || !mi)
        code = 400; /* "This response MUST use an error code of 400 (Bad Request)." */
    else if (!username_ok(ice, &req) || tf_stun_check_integrity(&req, ice->key) != 0)
        code = 401; /* "This response MUST use an error code of 401 (Unauthenticated)." */
    if (code) {
        ice->stats.auth_failures++;
        queue_error(ice, from, &req, code, 0);
        return -EACCES;
    }
    /* RFC 8489 §6.3.1: "If the request contains one or more unknown comprehension-required
     * attributes, the server replies with an error response with an error code of 420". */
    if (req.n_unhandled) {
        ice->stats.unknown_attrs++;
        queue_error(ice, from, &req, 420, mi);
        return -ENOTSUP;
    }
    /* RFC 8445 §7.3.1.1: a controlled agent seeing ICE-CONTROLLED either switches to
     * controlling or, "If the agent's tiebreaker value is less than the contents of the
     * ICE-CONTROLLED attribute, the agent generates a Binding error response and includes an
     * ERROR-CODE attribute with a value of 487 (Role Conflict) but retains its role." A lite
     * agent cannot control (§6.1.1), so it always takes the second branch; the full peer then
     * switches to controlling and checks again. */
    if (req.has & TF_STUN_HAS_ICE_CONTROLLED) {
        ice->stats.role_conflicts++;
        queue_error(ice, from, &req, 487, mi);
        return 0;
    }
    accept_check(ice, now_us, from, &req);
    return 0;
}

int tf_ice_handle_timeout(tf_ice_t *ice, uint64_t now_us)
{
    if (!ice)
        return -EINVAL;
    check_consent(ice, now_us);
    return 0;
}

int tf_ice_poll_transmit(tf_ice_t *ice, tf_ice_transmit_t *out)
{
    if (!ice || !out)
        return -EINVAL;
    if (!ice->tx_count)
        return -EAGAIN;
    const tf_ice_transmit_t *t = &ice->tx[ice->tx_head];
    out->dest = t->dest;
    out->len = t->len;
    memcpy(out->data, t->data, t->len);
    ice->tx_head = (ice->tx_head + 1) % TX_QUEUE;
    ice->tx_count--;
    return 0;
}

int tf_ice_poll_event(tf_ice_t *ice, tf_ice_event_t *out)
{
    if (!ice || !out)
        return -EINVAL;
    if (!ice->ev_count)
        return -EAGAIN;
    *out = ice->ev[ice->ev_head];
    ice->ev_head = (ice->ev_head + 1) % EVENT_QUEUE;
    ice->ev_count--;
    return 0;
}

uint64_t tf_ice_poll_timeout(const tf_ice_t *ice)
{
    if (!ice || ice->state == TF_ICE_STATE_FAILED)
        return UINT64_MAX;
    return consent_deadline(ice);
}

tf_ice_state_t tf_ice_state(const tf_ice_t *ice)
{
    return ice ? ice->state : TF_ICE_STATE_FAILED;
}

int tf_ice_selected(const tf_ice_t *ice, tf_addr_t *out)
{
    if (!ice || !out)
        return -EINVAL;
    if (ice->state != TF_ICE_STATE_CONNECTED)
        return -ENOTCONN;
    *out = ice->selected;
    return 0;
}

void tf_ice_get_stats(const tf_ice_t *ice, tf_ice_stats_t *out)
{
    if (ice && out)
        *out = ice->stats;
}

static int random_ice_chars(tf_ice_rand_fn rand_fn, void *opaque, char *out, size_t n)
{
    /* The random bytes land in the output first, then map in place: 64 ice-chars, so the low
     * 6 bits of each byte pick one without bias. */
    int rc = rand_fn(opaque, (uint8_t *)out, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        out[i] = ice_chars[(uint8_t)out[i] & 63];
    out[n] = '\0';
    return 0;
}

int tf_ice_random_credentials(tf_ice_rand_fn rand_fn, void *opaque, char *ufrag, size_t ufrag_size,
                              char *pwd, size_t pwd_size)
{
    if (!rand_fn || !ufrag || !pwd || ufrag_size < TF_ICE_UFRAG_MIN + 1 ||
        ufrag_size > TF_ICE_CRED_MAX + 1 || pwd_size < TF_ICE_PWD_MIN + 1 ||
        pwd_size > TF_ICE_CRED_MAX + 1)
        return -EINVAL;
    int rc = random_ice_chars(rand_fn, opaque, ufrag, ufrag_size - 1);
    if (rc == 0)
        rc = random_ice_chars(rand_fn, opaque, pwd, pwd_size - 1);
    if (rc < 0) {
        ufrag[0] = '\0';
        pwd[0] = '\0';
    }
    return rc;
}
