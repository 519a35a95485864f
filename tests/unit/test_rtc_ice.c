/* test_rtc_ice.c — server/rtc/ice.c driven in memory by a client built from stun.c, on a fake
 * clock with seeded loss: authentication, nomination, rebinding, consent. No sockets, no sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "server/rtc/ice.h"
#include "server/rtc/stun.h"

#define SRV_UFRAG "Tf8x"
#define SRV_PWD "abcdefghijklmnopqrstuvwx"
#define CLI_UFRAG "cLi9"
#define CLI_PWD "ZYXWVUTSRQPONMLKJIHGFEDCBA"
#define SEC 1000000ull
#define T0 (1000 * SEC) /* the fake clock does not start at zero */

/* What a check carries; zero means the usual browser check. */
enum {
    CHK_USE = 1 << 0,        /* USE-CANDIDATE */
    CHK_CONTROLLED = 1 << 1, /* ICE-CONTROLLED instead of ICE-CONTROLLING */
    CHK_SHA256 = 1 << 2,     /* MESSAGE-INTEGRITY-SHA256 instead of MESSAGE-INTEGRITY */
    CHK_BOTH_MI = 1 << 3,    /* both integrity attributes */
    CHK_NO_MI = 1 << 4,
    CHK_NO_USER = 1 << 5,
    CHK_NO_FP = 1 << 6,
    CHK_INDICATION = 1 << 7,
};

typedef struct fixture {
    tf_ice_t *ice;
    tf_stun_key_t *srv_key; /* the server's password: clients sign checks with it */
    tf_stun_key_t *wrong_key;
    uint64_t now;
    uint32_t tid_seq;
    uint8_t last_tid[12];
} fixture_t;

static tf_addr_t v4(uint8_t d, uint16_t port)
{
    return tf_addr_v4(198, 51, 100, d, port);
}

static tf_addr_t v6(uint16_t port)
{
    tf_addr_t a = {TF_ADDR_V6, port, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}};
    return a;
}

static int make_fixture(void **state, uint32_t rebind_quiet_ms)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tf_ice_config_t cfg = {
        .local_ufrag = SRV_UFRAG,
        .local_pwd = SRV_PWD,
        .remote_ufrag = CLI_UFRAG,
        .remote_pwd = CLI_PWD,
        .rebind_quiet_ms = rebind_quiet_ms,
    };
    f->now = T0;
    assert_int_equal(tf_ice_create(&f->ice, &cfg, f->now), 0);
    assert_int_equal(tf_stun_key_create(&f->srv_key, SRV_PWD, strlen(SRV_PWD)), 0);
    assert_int_equal(tf_stun_key_create(&f->wrong_key, CLI_PWD, strlen(CLI_PWD)), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return make_fixture(state, 0);
}

static int setup_quiet(void **state)
{
    return make_fixture(state, 2500);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tf_ice_destroy(&f->ice);
    assert_null(f->ice);
    tf_ice_destroy(&f->ice); /* twice is harmless */
    tf_stun_key_destroy(&f->srv_key);
    tf_stun_key_destroy(&f->wrong_key);
    free(f);
    return 0;
}

/* Builds a check as a browser would (fresh transaction id each time) into out. */
static size_t build_check(fixture_t *f, uint8_t *out, size_t cap, unsigned flags,
                          const char *username, tf_stun_key_t *key)
{
    uint8_t tid[12];
    uint32_t seq = ++f->tid_seq;
    for (int i = 0; i < 12; i++)
        tid[i] = (uint8_t)(seq * 2654435761u >> (i % 4 * 8)) ^ (uint8_t)i;
    memcpy(f->last_tid, tid, 12);

    tf_stun_msg_t m;
    tf_stun_msg_init(&m, flags & CHK_INDICATION ? TF_STUN_INDICATION : TF_STUN_REQUEST,
                     TF_STUN_METHOD_BINDING, tid);
    if (!(flags & CHK_INDICATION)) {
        m.has = TF_STUN_HAS_PRIORITY | TF_STUN_HAS_USERNAME;
        m.priority = 1853824767;
        m.username = username ? username : SRV_UFRAG ":" CLI_UFRAG;
        m.username_len = strlen(m.username);
        if (flags & CHK_NO_USER)
            m.has &= ~TF_STUN_HAS_USERNAME;
        if (flags & CHK_CONTROLLED) {
            m.has |= TF_STUN_HAS_ICE_CONTROLLED;
            m.ice_controlled = 42;
        } else {
            m.has |= TF_STUN_HAS_ICE_CONTROLLING;
            m.ice_controlling = 0x1122334455667788ull;
        }
        if (flags & CHK_USE)
            m.has |= TF_STUN_HAS_USE_CANDIDATE;
        if (flags & CHK_BOTH_MI)
            m.has |= TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256;
        else if (flags & CHK_SHA256)
            m.has |= TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256;
        else if (!(flags & CHK_NO_MI))
            m.has |= TF_STUN_HAS_MESSAGE_INTEGRITY;
    }
    if (!(flags & CHK_NO_FP))
        m.has |= TF_STUN_HAS_FINGERPRINT;
    size_t n = 0;
    assert_int_equal(tf_stun_marshal_to(&m, key ? key : f->srv_key, out, cap, &n), 0);
    return n;
}

/* Signs a hand-assembled request the long way, independently of stun.c: buf holds the header
 * and `off` bytes of attributes; appends MESSAGE-INTEGRITY (OpenSSL's one-shot HMAC) and
 * FINGERPRINT (zlib), fixing the length field each time. Returns the total length. */
static size_t sign_by_hand(uint8_t *buf, size_t off, const char *pwd)
{
    unsigned int maclen = 0;
    buf[2] = (uint8_t)((off + 24 - 20) >> 8);
    buf[3] = (uint8_t)(off + 24 - 20);
    memcpy(buf + off, "\x00\x08\x00\x14", 4);
    assert_non_null(HMAC(EVP_sha1(), pwd, (int)strlen(pwd), buf, off, buf + off + 4, &maclen));
    assert_int_equal(maclen, 20);
    off += 24;
    buf[2] = (uint8_t)((off + 8 - 20) >> 8);
    buf[3] = (uint8_t)(off + 8 - 20);
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)off) ^ 0x5354554eu;
    memcpy(buf + off, "\x80\x28\x00\x04", 4);
    buf[off + 4] = (uint8_t)(crc >> 24);
    buf[off + 5] = (uint8_t)(crc >> 16);
    buf[off + 6] = (uint8_t)(crc >> 8);
    buf[off + 7] = (uint8_t)crc;
    return off + 8;
}

/* A Binding request with the given tid whose attributes are USERNAME then `extra` (whole
 * TLVs), signed by hand. */
static size_t hand_request(uint8_t *buf, const uint8_t *tid, const char *user, const void *extra,
                           size_t extra_len, const char *pwd)
{
    size_t ul = strlen(user), off = 20;
    memcpy(buf, "\x00\x01\x00\x00\x21\x12\xa4\x42", 8);
    memcpy(buf + 8, tid, 12);
    buf[off] = 0x00;
    buf[off + 1] = 0x06;
    buf[off + 2] = 0;
    buf[off + 3] = (uint8_t)ul;
    memcpy(buf + off + 4, user, ul);
    memset(buf + off + 4 + ul, 0, (4 - ul % 4) % 4);
    off += 4 + (ul + 3) / 4 * 4;
    memcpy(buf + off, extra, extra_len);
    return sign_by_hand(buf, off + extra_len, pwd);
}

static int send_to_ice(fixture_t *f, const tf_addr_t *from, unsigned flags)
{
    uint8_t buf[512];
    size_t n = build_check(f, buf, sizeof(buf), flags, NULL, NULL);
    return tf_ice_handle_input(f->ice, f->now, from, buf, n);
}

/* Pops one answer and checks it is for the last check, to `to`, of class cls (and code). */
static void expect_answer(fixture_t *f, const tf_addr_t *to, int cls, int code, uint32_t signed_as)
{
    tf_ice_transmit_t t;
    assert_int_equal(tf_ice_poll_transmit(f->ice, &t), 0);
    assert_true(tf_addr_equal(&t.dest, to));
    tf_stun_msg_t m;
    char err[96];
    if (tf_stun_parse(&m, t.data, t.len, err, sizeof(err)) != 0)
        fail_msg("answer does not parse: %s", err);
    assert_int_equal(m.method, TF_STUN_METHOD_BINDING);
    assert_int_equal(m.cls, cls);
    assert_memory_equal(m.tid, f->last_tid, 12);
    assert_true(m.has & TF_STUN_HAS_FINGERPRINT);
    assert_false(m.has & TF_STUN_HAS_USERNAME); /* RFC 8489 §9.1.3 */
    uint32_t mi = m.has & (TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256);
    assert_int_equal(mi, signed_as);
    if (mi) {
        assert_int_equal(tf_stun_check_integrity(&m, f->srv_key), 0);
        assert_int_equal(tf_stun_check_integrity(&m, f->wrong_key), -EACCES);
    }
    if (cls == TF_STUN_SUCCESS) {
        assert_true(m.has & TF_STUN_HAS_XOR_MAPPED_ADDRESS);
        assert_true(tf_addr_equal(&m.xor_mapped, to));
    } else {
        assert_true(m.has & TF_STUN_HAS_ERROR_CODE);
        assert_int_equal(m.error_code, code);
        assert_int_equal(m.reason_len, strlen(tf_stun_reason(code)));
    }
}

static void expect_no_transmit(fixture_t *f)
{
    tf_ice_transmit_t t;
    assert_int_equal(tf_ice_poll_transmit(f->ice, &t), -EAGAIN);
}

static void expect_event(fixture_t *f, tf_ice_event_kind_t kind, const tf_addr_t *addr,
                         const tf_addr_t *prev)
{
    tf_ice_event_t e;
    assert_int_equal(tf_ice_poll_event(f->ice, &e), 0);
    assert_int_equal(e.kind, kind);
    if (addr)
        assert_true(tf_addr_equal(&e.addr, addr));
    if (prev)
        assert_true(tf_addr_equal(&e.prev, prev));
}

static void expect_no_event(fixture_t *f)
{
    tf_ice_event_t e;
    assert_int_equal(tf_ice_poll_event(f->ice, &e), -EAGAIN);
}

static void test_answers_valid_check(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_NEW);
    assert_int_equal(send_to_ice(f, &a, 0), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_no_transmit(f);
    expect_no_event(f); /* answered, not nominated */
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_CHECKING);
    tf_addr_t sel;
    assert_int_equal(tf_ice_selected(f->ice, &sel), -ENOTCONN);

    tf_addr_t b = v6(443);
    assert_int_equal(send_to_ice(f, &b, CHK_NO_FP), 0); /* FINGERPRINT is optional on input */
    expect_answer(f, &b, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);

    /* RFC 8489 §9.1.3: a request with MESSAGE-INTEGRITY-SHA256 is answered with it alone. */
    assert_int_equal(send_to_ice(f, &a, CHK_SHA256), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256);
    assert_int_equal(send_to_ice(f, &a, CHK_BOTH_MI), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256);

    tf_ice_stats_t st;
    tf_ice_get_stats(f->ice, &st);
    assert_int_equal(st.checks, 4);
    assert_int_equal(st.auth_failures, 0);
}

static void test_authentication_failures(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000);
    uint8_t buf[512];
    size_t n;
    /* Wrong password: 401 without integrity (the server cannot know the key the sender used). */
    n = build_check(f, buf, sizeof(buf), CHK_USE, NULL, f->wrong_key);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -EACCES);
    expect_answer(f, &a, TF_STUN_ERROR, 401, 0);
    /* Wrong ufrag on either side of the colon, or no colon: 401. */
    static const char *bad_users[] = {"Tf8y:" CLI_UFRAG,
                                      SRV_UFRAG ":cLi8",
                                      SRV_UFRAG CLI_UFRAG,
                                      SRV_UFRAG ":",
                                      SRV_UFRAG ":" CLI_UFRAG "x",
                                      "Tf8",
                                      ""};
    for (size_t i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]); i++) {
        n = build_check(f, buf, sizeof(buf), CHK_USE, bad_users[i], NULL);
        assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -EACCES);
        expect_answer(f, &a, TF_STUN_ERROR, 401, 0);
    }
    /* No USERNAME, or no integrity: 400. */
    assert_int_equal(send_to_ice(f, &a, CHK_NO_USER | CHK_USE), -EACCES);
    expect_answer(f, &a, TF_STUN_ERROR, 400, 0);
    assert_int_equal(send_to_ice(f, &a, CHK_NO_MI | CHK_USE), -EACCES);
    expect_answer(f, &a, TF_STUN_ERROR, 400, 0);
    /* A bit flipped inside the HMAC (no FINGERPRINT to catch it first): 401. */
    n = build_check(f, buf, sizeof(buf), CHK_USE | CHK_NO_FP, NULL, NULL);
    buf[n - 1] ^= 1;
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -EACCES);
    expect_answer(f, &a, TF_STUN_ERROR, 401, 0);
    /* With FINGERPRINT, the same corruption is not STUN at all: dropped silently. */
    n = build_check(f, buf, sizeof(buf), CHK_USE, NULL, NULL);
    buf[n - 10] ^= 1;
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -EPROTO);
    expect_no_transmit(f);

    /* None of this nominated anything or refreshed consent. */
    expect_no_event(f);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_NEW);
    assert_true(tf_ice_poll_timeout(f->ice) == T0 + 30 * SEC);
    tf_ice_stats_t st;
    tf_ice_get_stats(f->ice, &st);
    assert_int_equal(st.auth_failures, 11);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(st.checks, 0);
}

static void test_use_candidate_nominates(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000), b = v4(8, 50001), sel;
    assert_int_equal(send_to_ice(f, &b, 0), 0); /* an ordinary check first */
    expect_answer(f, &b, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    f->now += SEC / 10;
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_SELECTED, &a, NULL);
    expect_no_event(f);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_CONNECTED);
    assert_int_equal(tf_ice_selected(f->ice, &sel), 0);
    assert_true(tf_addr_equal(&sel, &a));
    /* Repeated nominations of the same address: no new event. */
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_no_event(f);
    assert_true(tf_ice_poll_timeout(f->ice) == f->now + 30 * SEC);
}

static void test_rebinding_follows_new_address(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000), moved = v4(7, 61234), sel;
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_SELECTED, &a, NULL);

    /* The NAT rebinds: the next check (no USE-CANDIDATE) arrives from a new port. */
    f->now += 5 * SEC;
    assert_int_equal(send_to_ice(f, &moved, 0), 0);
    expect_answer(f, &moved, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_ADDRESS_CHANGED, &moved, &a);
    assert_int_equal(tf_ice_selected(f->ice, &sel), 0);
    assert_true(tf_addr_equal(&sel, &moved));
    assert_true(tf_ice_poll_timeout(f->ice) == f->now + 30 * SEC);

    /* A replay of that check from the old address is answered (it authenticates) but does
     * not move the path back, nor refresh consent. */
    uint8_t buf[512];
    size_t n = build_check(f, buf, sizeof(buf), 0, NULL, NULL);
    f->now += SEC;
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &moved, buf, n), 0);
    expect_answer(f, &moved, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    uint64_t deadline = tf_ice_poll_timeout(f->ice);
    f->now += SEC;
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_no_event(f);
    assert_int_equal(tf_ice_selected(f->ice, &sel), 0);
    assert_true(tf_addr_equal(&sel, &moved));
    assert_true(tf_ice_poll_timeout(f->ice) == deadline);
    /* A retransmission from the current address does not refresh consent either. */
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &moved, buf, n), 0);
    expect_answer(f, &moved, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    assert_true(tf_ice_poll_timeout(f->ice) == deadline);

    /* To IPv6 and back, by renomination. */
    tf_addr_t six = v6(3478);
    assert_int_equal(send_to_ice(f, &six, CHK_USE), 0);
    expect_answer(f, &six, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_ADDRESS_CHANGED, &six, &moved);
    expect_no_event(f);
}

static void test_rebind_quiet_damps_backup_pings(void **state)
{
    fixture_t *f = *state; /* rebind_quiet_ms = 2500 */
    tf_addr_t a = v4(7, 50000), backup = v4(9, 40000), sel;
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_SELECTED, &a, NULL);
    /* A ping on a backup pair while the selected one is alive: answered, path stays. */
    f->now += 2 * SEC;
    assert_int_equal(send_to_ice(f, &backup, 0), 0);
    expect_answer(f, &backup, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_no_event(f);
    assert_int_equal(tf_ice_selected(f->ice, &sel), 0);
    assert_true(tf_addr_equal(&sel, &a));
    /* ...and it does not refresh the selected path's consent. */
    assert_true(tf_ice_poll_timeout(f->ice) == T0 + 30 * SEC);
    /* Once the selected address has been quiet for 2.5 s, a check elsewhere moves it. */
    f->now = T0 + 2500 * 1000;
    assert_int_equal(send_to_ice(f, &backup, 0), 0);
    expect_answer(f, &backup, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_ADDRESS_CHANGED, &backup, &a);
    /* USE-CANDIDATE moves it at once, however fresh the current address. */
    f->now += SEC / 100;
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_ADDRESS_CHANGED, &a, &backup);
}

static void test_role_conflict_and_unknown_attributes(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000);
    /* The peer thinks it is controlled too: 487, signed, and no nomination. */
    assert_int_equal(send_to_ice(f, &a, CHK_CONTROLLED | CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_ERROR, 487, TF_STUN_HAS_MESSAGE_INTEGRITY);
    assert_int_equal(send_to_ice(f, &a, CHK_CONTROLLED | CHK_SHA256), 0);
    expect_answer(f, &a, TF_STUN_ERROR, 487, TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256);
    expect_no_event(f);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_NEW);

    /* A hand-signed request (an independent HMAC) is accepted like a library-built one... */
    uint8_t buf[512];
    static const uint8_t controlling[] = {0x80, 0x2a, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
    memset(f->last_tid, 0x5a, 12);
    size_t n = hand_request(buf, f->last_tid, SRV_UFRAG ":" CLI_UFRAG, controlling,
                            sizeof(controlling), SRV_PWD);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);

    /* ...and with unknown comprehension-required attributes it gets a signed 420 listing them
     * (RFC 8489 §14.8); unknown comprehension-optional ones are ignored. */
    static const uint8_t unknown[] = {0x77, 0x77, 0x00, 0x00, 0x80, 0x99, 0x00, 0x00,
                                      0x00, 0x03, 0x00, 0x04, 0,    0,    0,    0};
    memset(f->last_tid, 0x5b, 12);
    n = hand_request(buf, f->last_tid, SRV_UFRAG ":" CLI_UFRAG, unknown, sizeof(unknown), SRV_PWD);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -ENOTSUP);
    tf_ice_transmit_t t;
    assert_int_equal(tf_ice_poll_transmit(f->ice, &t), 0);
    tf_stun_msg_t m;
    assert_int_equal(tf_stun_parse(&m, t.data, t.len, NULL, 0), 0);
    assert_int_equal(m.cls, TF_STUN_ERROR);
    assert_int_equal(m.error_code, 420);
    assert_int_equal(m.n_unknown, 2);
    assert_int_equal(m.unknown[0], 0x7777);
    assert_int_equal(m.unknown[1], 0x0003);
    assert_int_equal(tf_stun_check_integrity(&m, f->srv_key), 0);
    /* The same with a wrong password is a 401 first: authentication comes before 420. */
    memset(f->last_tid, 0x5c, 12);
    n = hand_request(buf, f->last_tid, SRV_UFRAG ":" CLI_UFRAG, unknown, sizeof(unknown), CLI_PWD);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -EACCES);
    expect_answer(f, &a, TF_STUN_ERROR, 401, 0);
    expect_no_event(f);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_CHECKING);
    tf_ice_stats_t st;
    tf_ice_get_stats(f->ice, &st);
    assert_int_equal(st.role_conflicts, 2);
    assert_int_equal(st.unknown_attrs, 1);
}

static void test_indications_and_other_methods(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000);
    /* RFC 8445 §11 keepalive: accepted, no answer, no consent. */
    assert_int_equal(send_to_ice(f, &a, CHK_INDICATION), 0);
    expect_no_transmit(f);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_NEW);
    /* Responses and other methods are dropped silently. */
    uint8_t buf[64];
    size_t n;
    tf_stun_msg_t m;
    tf_stun_msg_init(&m, TF_STUN_SUCCESS, TF_STUN_METHOD_BINDING, NULL);
    assert_int_equal(tf_stun_marshal_to(&m, NULL, buf, sizeof(buf), &n), 0);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -ENOTSUP);
    tf_stun_msg_init(&m, TF_STUN_REQUEST, 0x003 /* Allocate */, NULL);
    assert_int_equal(tf_stun_marshal_to(&m, NULL, buf, sizeof(buf), &n), 0);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, buf, n), -ENOTSUP);
    expect_no_transmit(f);
    /* Not STUN at all: a DTLS record, an RTP header, nothing. */
    static const uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, dtls, sizeof(dtls)), -EPROTO);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, NULL, 0), -EPROTO);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &a, NULL, 5), -EINVAL);
    tf_addr_t unset;
    memset(&unset, 0, sizeof(unset));
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, &unset, dtls, sizeof(dtls)), -EINVAL);
    assert_int_equal(tf_ice_handle_input(f->ice, f->now, NULL, dtls, sizeof(dtls)), -EINVAL);
    expect_no_transmit(f);
    expect_no_event(f);
}

static void test_consent_lapses_after_30s_and_not_before(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000), sel;
    f->now += 3 * SEC;
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    expect_event(f, TF_ICE_EVENT_SELECTED, &a, NULL);
    uint64_t last = f->now;
    assert_true(tf_ice_poll_timeout(f->ice) == last + 30 * SEC);

    assert_int_equal(tf_ice_handle_timeout(f->ice, last + 30 * SEC - 1), 0);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_CONNECTED);
    expect_no_event(f);
    assert_int_equal(tf_ice_handle_timeout(f->ice, last + 30 * SEC), 0);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_FAILED);
    expect_event(f, TF_ICE_EVENT_CONSENT_LAPSED, &a, NULL);
    expect_no_event(f);
    assert_true(tf_ice_poll_timeout(f->ice) == UINT64_MAX);
    assert_int_equal(tf_ice_selected(f->ice, &sel), -ENOTCONN);

    /* RFC 7675 §5.1: the credentials are dead on this 5-tuple; nothing is answered. */
    f->now = last + 31 * SEC;
    assert_int_equal(send_to_ice(f, &a, CHK_USE), -EPIPE);
    expect_no_transmit(f);
    expect_no_event(f);
    assert_int_equal(tf_ice_handle_timeout(f->ice, f->now + 100 * SEC), 0);
    expect_no_event(f);
}

static void test_consent_late_check_does_not_revive(void **state)
{
    fixture_t *f = *state;
    tf_addr_t a = v4(7, 50000);
    assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    expect_answer(f, &a, TF_STUN_SUCCESS, 0, TF_STUN_HAS_MESSAGE_INTEGRITY);
    /* The shell's timer fired late; a check arriving after the deadline finds consent gone. */
    f->now = T0 + 30 * SEC;
    assert_int_equal(send_to_ice(f, &a, 0), -EPIPE);
    expect_no_transmit(f);
    expect_event(f, TF_ICE_EVENT_SELECTED, &a, NULL);
    expect_event(f, TF_ICE_EVENT_CONSENT_LAPSED, &a, NULL);
}

static void test_never_connected_lapses(void **state)
{
    fixture_t *f = *state;
    /* A check answered, but never nominated; the clock runs from creation. */
    tf_addr_t a = v4(7, 50000);
    f->now += 10 * SEC;
    assert_int_equal(send_to_ice(f, &a, 0), 0);
    assert_true(tf_ice_poll_timeout(f->ice) == T0 + 40 * SEC);
    /* An answer still queued when consent lapses is withdrawn. */
    assert_int_equal(tf_ice_handle_timeout(f->ice, T0 + 40 * SEC), 0);
    expect_no_transmit(f);
    expect_event(f, TF_ICE_EVENT_CONSENT_LAPSED, NULL, NULL);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_FAILED);
}

/* Deterministic randomness for the simulation and the credentials. */
static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* Two ends in memory: a browser-like client sends consent checks every 4..6 s (RFC 7675 §5.1)
 * over a link that loses 15 % of packets each way, its NAT rebinds once; ten simulated minutes
 * run in milliseconds. The client validates every answer it gets as a real one would. */
static void test_simulated_session_with_loss(void **state)
{
    fixture_t *f = *state;
    uint64_t seed = 0x7afe1u;
    tf_addr_t client = v4(20, 40000), sel;
    uint64_t next_check = f->now + SEC / 20, end = f->now + 600 * SEC;
    uint64_t rebind_at = f->now + 300 * SEC;
    int sent = 0, answered = 0, lost = 0, nominated = 0, moved = 0;

    while (f->now < end) {
        uint64_t deadline = tf_ice_poll_timeout(f->ice);
        assert_true(deadline > f->now); /* consent never runs out in this session */
        f->now = next_check < deadline ? next_check : deadline;
        if (f->now == deadline) {
            assert_int_equal(tf_ice_handle_timeout(f->ice, f->now), 0);
            continue;
        }
        if (f->now >= rebind_at && client.port == 40000)
            client.port = 40001;
        /* Regular nomination: USE-CANDIDATE from the first check on (as Chrome, which keeps
         * it on the selected pair). */
        unsigned flags = CHK_USE;
        uint8_t buf[512];
        size_t n = build_check(f, buf, sizeof(buf), flags, NULL, NULL);
        sent++;
        if (lcg(&seed) % 100 >= 15) {
            assert_int_equal(tf_ice_handle_input(f->ice, f->now, &client, buf, n), 0);
            tf_ice_transmit_t t;
            assert_int_equal(tf_ice_poll_transmit(f->ice, &t), 0);
            expect_no_transmit(f);
            if (lcg(&seed) % 100 >= 15) {
                tf_stun_msg_t m;
                assert_int_equal(tf_stun_parse(&m, t.data, t.len, NULL, 0), 0);
                assert_memory_equal(m.tid, f->last_tid, 12);
                assert_int_equal(m.cls, TF_STUN_SUCCESS);
                assert_int_equal(tf_stun_check_integrity(&m, f->srv_key), 0);
                assert_true(tf_addr_equal(&m.xor_mapped, &client));
                assert_true(tf_addr_equal(&t.dest, &client));
                answered++;
            }
        } else {
            lost++;
        }
        tf_ice_event_t e;
        while (tf_ice_poll_event(f->ice, &e) == 0) {
            if (e.kind == TF_ICE_EVENT_SELECTED)
                nominated++;
            else if (e.kind == TF_ICE_EVENT_ADDRESS_CHANGED)
                moved++;
            else
                fail_msg("unexpected event %d", e.kind);
        }
        next_check = f->now + 4 * SEC + lcg(&seed) % (2 * SEC);
    }
    assert_int_equal(nominated, 1);
    assert_int_equal(moved, 1);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_CONNECTED);
    assert_int_equal(tf_ice_selected(f->ice, &sel), 0);
    assert_true(tf_addr_equal(&sel, &client));
    assert_true(sent > 100 && lost > 10 && answered > 60);

    /* The client leaves: consent lapses 30 s after the last check that got through. */
    uint64_t deadline = tf_ice_poll_timeout(f->ice);
    assert_true(deadline <= f->now + 30 * SEC);
    assert_int_equal(tf_ice_handle_timeout(f->ice, deadline - 1), 0);
    assert_int_equal(tf_ice_state(f->ice), TF_ICE_STATE_CONNECTED);
    assert_int_equal(tf_ice_handle_timeout(f->ice, deadline), 0);
    expect_event(f, TF_ICE_EVENT_CONSENT_LAPSED, &client, NULL);
}

static void test_queue_limits(void **state)
{
    fixture_t *f = *state;
    /* Nobody drains: the transmit queue holds 8, the rest are counted as dropped. */
    for (int i = 0; i < 12; i++) {
        tf_addr_t a = v4(7, (uint16_t)(1000 + i));
        assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
    }
    tf_ice_stats_t st;
    tf_ice_get_stats(f->ice, &st);
    assert_int_equal(st.dropped_transmits, 4);
    int n = 0;
    tf_ice_transmit_t t;
    while (tf_ice_poll_transmit(f->ice, &t) == 0) {
        tf_addr_t want = v4(7, (uint16_t)(1000 + n));
        assert_true(tf_addr_equal(&t.dest, &want));
        n++;
    }
    assert_int_equal(n, 8);
    /* Events: SELECTED then 11 moves, all kept. */
    int events = 0;
    tf_ice_event_t e;
    while (tf_ice_poll_event(f->ice, &e) == 0)
        events++;
    assert_int_equal(events, 12);
    /* 20 more moves unread: the queue keeps the newest 16, the oldest are dropped. */
    for (int i = 0; i < 20; i++) {
        tf_addr_t a = v4(8, (uint16_t)(2000 + i));
        assert_int_equal(send_to_ice(f, &a, CHK_USE), 0);
        assert_int_equal(tf_ice_poll_transmit(f->ice, &t), 0);
    }
    for (int i = 4; i < 20; i++) {
        tf_addr_t want = v4(8, (uint16_t)(2000 + i));
        assert_int_equal(tf_ice_poll_event(f->ice, &e), 0);
        assert_int_equal(e.kind, TF_ICE_EVENT_ADDRESS_CHANGED);
        assert_true(tf_addr_equal(&e.addr, &want));
    }
    expect_no_event(f);
}

static int test_rand(void *opaque, uint8_t *buf, size_t len)
{
    uint64_t *s = opaque;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)lcg(s);
    return 0;
}

static int failing_rand(void *opaque, uint8_t *buf, size_t len)
{
    (void)opaque;
    (void)buf;
    (void)len;
    return -EIO;
}

static void test_random_credentials(void **state)
{
    (void)state;
    uint64_t seed = 1;
    char ufrag[9], pwd[33];
    assert_int_equal(
        tf_ice_random_credentials(test_rand, &seed, ufrag, sizeof(ufrag), pwd, sizeof(pwd)), 0);
    assert_int_equal(strlen(ufrag), 8);
    assert_int_equal(strlen(pwd), 32);
    assert_int_equal(
        strspn(ufrag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"), 8);
    assert_int_equal(
        strspn(pwd, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"), 32);
    /* They make a valid config. */
    tf_ice_config_t cfg = {.local_ufrag = ufrag, .local_pwd = pwd};
    tf_ice_t *ice = NULL;
    assert_int_equal(tf_ice_create(&ice, &cfg, 0), 0);
    tf_ice_destroy(&ice);
    /* The same seed gives the same strings; another seed others. */
    char u2[9], p2[33];
    seed = 1;
    assert_int_equal(tf_ice_random_credentials(test_rand, &seed, u2, sizeof(u2), p2, sizeof(p2)),
                     0);
    assert_string_equal(u2, ufrag);
    assert_string_equal(p2, pwd);
    assert_int_equal(tf_ice_random_credentials(test_rand, &seed, u2, sizeof(u2), p2, sizeof(p2)),
                     0);
    assert_string_not_equal(u2, ufrag);
    /* Minimums: 4 and 22 characters (RFC 8445 §5.3). */
    char u5[5], p23[23], u4[4], p22[22];
    assert_int_equal(tf_ice_random_credentials(test_rand, &seed, u5, 5, p23, 23), 0);
    assert_int_equal(tf_ice_random_credentials(test_rand, &seed, u4, 4, p23, 23), -EINVAL);
    assert_int_equal(tf_ice_random_credentials(test_rand, &seed, u5, 5, p22, 22), -EINVAL);
    assert_int_equal(tf_ice_random_credentials(NULL, &seed, u5, 5, p23, 23), -EINVAL);
    assert_int_equal(tf_ice_random_credentials(failing_rand, NULL, u5, 5, p23, 23), -EIO);
    assert_string_equal(u5, "");
}

static void test_config_validation(void **state)
{
    (void)state;
    static const struct {
        const char *lu, *lp, *ru, *rp;
        int rc;
    } cases[] = {
        {SRV_UFRAG, SRV_PWD, NULL, NULL, 0},
        {SRV_UFRAG, SRV_PWD, CLI_UFRAG, CLI_PWD, 0},
        {"abc", SRV_PWD, NULL, NULL, -EINVAL},                     /* ufrag too short */
        {"ab:c", SRV_PWD, NULL, NULL, -EINVAL},                    /* not an ice-char */
        {SRV_UFRAG, "abcdefghijklmnopqrstu", NULL, NULL, -EINVAL}, /* 21 chars */
        {SRV_UFRAG, "abcdefghijklmnopqrstu v", NULL, NULL, -EINVAL},
        {NULL, SRV_PWD, NULL, NULL, -EINVAL},
        {SRV_UFRAG, NULL, NULL, NULL, -EINVAL},
        {SRV_UFRAG, SRV_PWD, "c:d1", NULL, -EINVAL},
        {SRV_UFRAG, SRV_PWD, CLI_UFRAG, "short", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tf_ice_config_t cfg = {
            .local_ufrag = cases[i].lu,
            .local_pwd = cases[i].lp,
            .remote_ufrag = cases[i].ru,
            .remote_pwd = cases[i].rp,
        };
        tf_ice_t *ice = NULL;
        int rc = tf_ice_create(&ice, &cfg, 0);
        if (rc != cases[i].rc)
            fail_msg("case %zu: create gave %d", i, rc);
        assert_true((ice != NULL) == (rc == 0));
        tf_ice_destroy(&ice);
    }
    char longer[TF_ICE_CRED_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    tf_ice_config_t cfg = {.local_ufrag = longer, .local_pwd = SRV_PWD};
    tf_ice_t *ice = NULL;
    assert_int_equal(tf_ice_create(&ice, &cfg, 0), -EINVAL);
    longer[TF_ICE_CRED_MAX] = '\0'; /* exactly 256 */
    assert_int_equal(tf_ice_create(&ice, &cfg, 0), 0);
    tf_ice_destroy(&ice);
    char sw[TF_ICE_SOFTWARE_MAX + 2];
    memset(sw, 's', sizeof(sw) - 1);
    sw[sizeof(sw) - 1] = '\0';
    cfg.local_ufrag = SRV_UFRAG;
    cfg.software = sw;
    assert_int_equal(tf_ice_create(&ice, &cfg, 0), -EINVAL);
    assert_int_equal(tf_ice_create(NULL, &cfg, 0), -EINVAL);
    assert_int_equal(tf_ice_create(&ice, NULL, 0), -EINVAL);
}

static void test_software_and_any_remote_ufrag(void **state)
{
    (void)state;
    /* The largest SOFTWARE and an IPv6 peer still fit one answer; without remote_ufrag any
     * "local:<something>" is accepted (RFC 8445 §7.3). */
    char sw[TF_ICE_SOFTWARE_MAX + 1];
    memset(sw, 's', sizeof(sw) - 1);
    sw[sizeof(sw) - 1] = '\0';
    fixture_t f;
    memset(&f, 0, sizeof(f));
    tf_ice_config_t cfg = {.local_ufrag = SRV_UFRAG, .local_pwd = SRV_PWD, .software = sw};
    assert_int_equal(tf_ice_create(&f.ice, &cfg, 0), 0);
    assert_int_equal(tf_stun_key_create(&f.srv_key, SRV_PWD, strlen(SRV_PWD)), 0);
    tf_addr_t a = v6(9);
    uint8_t buf[512];
    size_t n = build_check(&f, buf, sizeof(buf), CHK_SHA256, SRV_UFRAG ":whoever", NULL);
    assert_int_equal(tf_ice_handle_input(f.ice, 0, &a, buf, n), 0);
    tf_ice_transmit_t t;
    assert_int_equal(tf_ice_poll_transmit(f.ice, &t), 0);
    tf_stun_msg_t m;
    assert_int_equal(tf_stun_parse(&m, t.data, t.len, NULL, 0), 0);
    assert_int_equal(m.software_len, TF_ICE_SOFTWARE_MAX);
    assert_int_equal(tf_stun_check_integrity(&m, f.srv_key), 0);
    /* So do a 401 and a 420 listing 8 unknown attributes. */
    n = build_check(&f, buf, sizeof(buf), CHK_SHA256, SRV_UFRAG ":", NULL);
    assert_int_equal(tf_ice_handle_input(f.ice, 0, &a, buf, n), -EACCES);
    assert_int_equal(tf_ice_poll_transmit(f.ice, &t), 0);
    uint8_t unknown[40];
    for (int i = 0; i < 10; i++) {
        unknown[4 * i] = 0x70;
        unknown[4 * i + 1] = (uint8_t)i;
        unknown[4 * i + 2] = unknown[4 * i + 3] = 0;
    }
    n = hand_request(buf, f.last_tid, SRV_UFRAG ":x1y2", unknown, sizeof(unknown), SRV_PWD);
    assert_int_equal(tf_ice_handle_input(f.ice, 0, &a, buf, n), -ENOTSUP);
    assert_int_equal(tf_ice_poll_transmit(f.ice, &t), 0);
    assert_int_equal(tf_stun_parse(&m, t.data, t.len, NULL, 0), 0);
    assert_int_equal(m.n_unknown, TF_STUN_MAX_UNKNOWN);
    assert_int_equal(m.software_len, TF_ICE_SOFTWARE_MAX);
    tf_ice_stats_t st;
    tf_ice_get_stats(f.ice, &st);
    assert_int_equal(st.dropped_transmits, 0);
    tf_ice_destroy(&f.ice);
    tf_stun_key_destroy(&f.srv_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answers_valid_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authentication_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_use_candidate_nominates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebinding_follows_new_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebind_quiet_damps_backup_pings, setup_quiet,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_role_conflict_and_unknown_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indications_and_other_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent_lapses_after_30s_and_not_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_consent_late_check_does_not_revive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_connected_lapses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulated_session_with_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_limits, setup, teardown),
        cmocka_unit_test(test_random_credentials),
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_software_and_any_remote_ufrag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
