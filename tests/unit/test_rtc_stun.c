/* test_rtc_stun.c — server/rtc/stun.c against the RFC 5769 vectors, build→parse round trips of
 * every attribute, and truncated/garbled input; no ICE logic here (test_rtc_ice.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "server/rtc/stun.h"

static const char vec_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t vec_tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* RFC 5769 §2.1: Sample Request. */
static const uint8_t vec_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2: Sample IPv4 Response. */
static const uint8_t vec_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3: Sample IPv6 Response. */
static const uint8_t vec_response_v6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t v6_addr[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

typedef struct fixture {
    tf_stun_key_t *key;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(tf_stun_key_create(&f->key, vec_password, strlen(vec_password)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tf_stun_key_destroy(&f->key);
    assert_null(f->key);
    free(f);
    return 0;
}

/* A heap copy of exactly len bytes, so ASan flags any read past the end. */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    if (len)
        memcpy(p, src, len);
    return p;
}

/* Parses an exact-size heap copy. A parsed message points into its buffer, so the copy is
 * handed back in *keep (the caller frees it), or freed here when keep is NULL. */
static int parse_copy(tf_stun_msg_t *m, const uint8_t *src, size_t len, uint8_t **keep)
{
    uint8_t *p = exact_copy(src, len);
    char err[128];
    int rc = tf_stun_parse(m, p, len, err, sizeof(err));
    if (rc < 0)
        assert_true(err[0] != '\0'); /* a failure explains itself */
    if (keep)
        *keep = p;
    else
        free(p);
    return rc;
}

static int parse_exact(tf_stun_msg_t *m, const uint8_t *src, size_t len)
{
    return parse_copy(m, src, len, NULL);
}

static void assert_text(const char *s, size_t n, const char *want)
{
    assert_int_equal(n, strlen(want));
    assert_memory_equal(s, want, n);
}

static void test_rfc5769_request(void **state)
{
    fixture_t *f = *state;
    tf_stun_msg_t m;
    assert_int_equal(tf_stun_parse(&m, vec_request, sizeof(vec_request), NULL, 0), 0);
    assert_int_equal(m.cls, TF_STUN_REQUEST);
    assert_int_equal(m.method, TF_STUN_METHOD_BINDING);
    assert_memory_equal(m.tid, vec_tid, 12);
    assert_int_equal(m.has, TF_STUN_HAS_SOFTWARE | TF_STUN_HAS_PRIORITY |
                                TF_STUN_HAS_ICE_CONTROLLED | TF_STUN_HAS_USERNAME |
                                TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT);
    assert_text(m.software, m.software_len, "STUN test client");
    assert_text(m.username, m.username_len, "evtj:h6vY");
    assert_int_equal(m.priority, 0x6e0001ff);
    assert_true(m.ice_controlled == 0x932ff9b151263b36ull);
    assert_int_equal(m.fingerprint, 0xe57a3bcf);
    assert_int_equal(m.n_unhandled, 0);
    assert_int_equal(tf_stun_check_integrity(&m, f->key), 0);
    assert_int_equal(tf_stun_is_stun(vec_request, sizeof(vec_request)), 1);

    tf_stun_key_t *wrong = NULL;
    assert_int_equal(tf_stun_key_create(&wrong, "VOkJxbRl1RmTxUk/WvJxBT", 22), 0);
    assert_int_equal(tf_stun_check_integrity(&m, wrong), -EACCES);
    tf_stun_key_destroy(&wrong);

    /* Building the same message reproduces the vector byte for byte (the vector pads with
     * spaces, so the padding byte is 0x20 here). */
    tf_stun_msg_t b;
    tf_stun_msg_init(&b, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, vec_tid);
    b.has = m.has;
    b.software = "STUN test client";
    b.software_len = 16;
    b.priority = 0x6e0001ff;
    b.ice_controlled = 0x932ff9b151263b36ull;
    b.username = "evtj:h6vY";
    b.username_len = 9;
    b.padding = 0x20;
    uint8_t out[256];
    size_t n = 0;
    assert_int_equal(tf_stun_marshal_size(&b), sizeof(vec_request));
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), 0);
    assert_int_equal(n, sizeof(vec_request));
    assert_memory_equal(out, vec_request, n);
}

static void check_response(fixture_t *f, const uint8_t *vec, size_t len, const tf_addr_t *want)
{
    tf_stun_msg_t m;
    assert_int_equal(tf_stun_parse(&m, vec, len, NULL, 0), 0);
    assert_int_equal(m.cls, TF_STUN_SUCCESS);
    assert_int_equal(m.method, TF_STUN_METHOD_BINDING);
    assert_memory_equal(m.tid, vec_tid, 12);
    assert_int_equal(m.has, TF_STUN_HAS_SOFTWARE | TF_STUN_HAS_XOR_MAPPED_ADDRESS |
                                TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT);
    assert_text(m.software, m.software_len, "test vector");
    assert_true(tf_addr_equal(&m.xor_mapped, want));
    assert_int_equal(m.xor_mapped.port, 32853);
    assert_int_equal(tf_stun_check_integrity(&m, f->key), 0);

    tf_stun_msg_t b;
    tf_stun_msg_init(&b, TF_STUN_SUCCESS, TF_STUN_METHOD_BINDING, vec_tid);
    b.has = m.has;
    b.software = "test vector";
    b.software_len = 11;
    b.xor_mapped = *want;
    b.padding = 0x20;
    uint8_t out[256];
    size_t n = 0;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), 0);
    assert_int_equal(n, len);
    assert_memory_equal(out, vec, len);
}

static void test_rfc5769_response_v4(void **state)
{
    tf_addr_t want = tf_addr_v4(192, 0, 2, 1, 32853);
    check_response(*state, vec_response_v4, sizeof(vec_response_v4), &want);
}

static void test_rfc5769_response_v6(void **state)
{
    tf_addr_t want = {TF_ADDR_V6, 32853, {0}};
    memcpy(want.ip, v6_addr, 16);
    check_response(*state, vec_response_v6, sizeof(vec_response_v6), &want);
}

static void test_padding_is_ignored(void **state)
{
    /* RFC 8489 §14: padding "MUST be ignored by the receiver": the default zero padding gives
     * a different message (other MAC and CRC) that parses to the same content. */
    fixture_t *f = *state;
    tf_stun_msg_t m, again;
    assert_int_equal(tf_stun_parse(&m, vec_request, sizeof(vec_request), NULL, 0), 0);
    uint8_t out[256];
    size_t n = 0;
    assert_int_equal(tf_stun_marshal_to(&m, f->key, out, sizeof(out), &n), 0);
    assert_int_equal(n, sizeof(vec_request));
    assert_memory_equal(out + 72, "\x59\0\0\0", 4); /* "Y" of the username, then zeroes */
    assert_int_equal(tf_stun_parse(&again, out, n, NULL, 0), 0);
    assert_text(again.username, again.username_len, "evtj:h6vY");
    assert_int_equal(tf_stun_check_integrity(&again, f->key), 0);
}

/* Every field a marshal writes must come back from a parse. */
static void assert_same_content(const tf_stun_msg_t *a, const tf_stun_msg_t *b)
{
    assert_int_equal(a->cls, b->cls);
    assert_int_equal(a->method, b->method);
    assert_memory_equal(a->tid, b->tid, 12);
    assert_int_equal(a->has, b->has);
    uint32_t has = a->has;
    if (has & TF_STUN_HAS_USERNAME) {
        assert_int_equal(a->username_len, b->username_len);
        assert_memory_equal(a->username, b->username, a->username_len);
    }
    if (has & TF_STUN_HAS_SOFTWARE) {
        assert_int_equal(a->software_len, b->software_len);
        assert_memory_equal(a->software, b->software, a->software_len);
    }
    if (has & TF_STUN_HAS_ERROR_CODE) {
        assert_int_equal(a->error_code, b->error_code);
        assert_int_equal(a->reason_len, b->reason_len);
        assert_memory_equal(a->reason, b->reason, a->reason_len);
    }
    if (has & TF_STUN_HAS_UNKNOWN_ATTRIBUTES) {
        assert_int_equal(a->n_unknown, b->n_unknown);
        for (int i = 0; i < a->n_unknown; i++)
            assert_int_equal(a->unknown[i], b->unknown[i]);
    }
    if (has & TF_STUN_HAS_XOR_MAPPED_ADDRESS)
        assert_true(tf_addr_equal(&a->xor_mapped, &b->xor_mapped));
    if (has & TF_STUN_HAS_PRIORITY)
        assert_int_equal(a->priority, b->priority);
    if (has & TF_STUN_HAS_ICE_CONTROLLED)
        assert_true(a->ice_controlled == b->ice_controlled);
    if (has & TF_STUN_HAS_ICE_CONTROLLING)
        assert_true(a->ice_controlling == b->ice_controlling);
}

static void round_trip(fixture_t *f, const tf_stun_msg_t *b)
{
    uint8_t out[4096];
    size_t n = 0;
    assert_int_equal(tf_stun_marshal_to(b, f->key, out, sizeof(out), &n), 0);
    assert_int_equal(n, tf_stun_marshal_size(b));
    assert_int_equal(n % 4, 0);
    /* RFC 7983's first-byte rule holds for methods below 0x100 (0x3E.. for 0xFFF is not). */
    assert_int_equal(tf_stun_is_stun(out, n), b->method < 0x100);
    tf_stun_msg_t p;
    uint8_t *copy = NULL;
    assert_int_equal(parse_copy(&p, out, n, &copy), 0);
    assert_same_content(b, &p);
    if (b->has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256)
        assert_int_equal(p.integrity_sha256_len,
                         b->integrity_sha256_len ? b->integrity_sha256_len : 32);
    if (b->has & (TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256))
        assert_int_equal(tf_stun_check_integrity(&p, f->key), 0);
    else
        assert_int_equal(tf_stun_check_integrity(&p, f->key), -ENOENT);
    free(copy);
    /* A short buffer is refused, never overrun. */
    assert_int_equal(tf_stun_marshal_to(b, f->key, out, n - 1, &n), -ENOBUFS);
}

static void test_round_trip_each_attribute(void **state)
{
    fixture_t *f = *state;
    static const uint32_t bits[] = {
        TF_STUN_HAS_USERNAME,
        TF_STUN_HAS_MESSAGE_INTEGRITY,
        TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256,
        TF_STUN_HAS_FINGERPRINT,
        TF_STUN_HAS_XOR_MAPPED_ADDRESS,
        TF_STUN_HAS_ERROR_CODE,
        TF_STUN_HAS_UNKNOWN_ATTRIBUTES,
        TF_STUN_HAS_PRIORITY,
        TF_STUN_HAS_USE_CANDIDATE,
        TF_STUN_HAS_ICE_CONTROLLED,
        TF_STUN_HAS_ICE_CONTROLLING,
        TF_STUN_HAS_SOFTWARE,
    };
    uint8_t tid[12];
    for (int i = 0; i < 12; i++)
        tid[i] = (uint8_t)(0x11 * i + 3);
    for (size_t k = 0; k <= sizeof(bits) / sizeof(bits[0]); k++) {
        for (int cls = 0; cls < 4; cls++) {
            for (int fam = 0; fam < 2; fam++) {
                tf_stun_msg_t b;
                tf_stun_msg_init(&b, cls, (uint16_t)(cls == 3 ? 0xFFF : 0x001), tid);
                /* k == count: everything at once. */
                b.has = k < sizeof(bits) / sizeof(bits[0]) ? bits[k] : 0xFFF;
                b.username = "abcd:efghi";
                b.username_len = 10;
                b.software = "tafel 0.1";
                b.software_len = 9;
                b.error_code = 487;
                b.reason = "Role Conflict";
                b.reason_len = 13;
                b.n_unknown = 3;
                b.unknown[0] = 0x0001;
                b.unknown[1] = 0x7fff;
                b.unknown[2] = 0x1234;
                if (fam) {
                    b.xor_mapped.family = TF_ADDR_V6;
                    b.xor_mapped.port = 65535;
                    memcpy(b.xor_mapped.ip, v6_addr, 16);
                } else {
                    b.xor_mapped = tf_addr_v4(10, 1, 2, 3, 1);
                }
                b.priority = 0xffffffffu;
                b.ice_controlled = 0x0123456789abcdefull;
                b.ice_controlling = 0xfedcba9876543210ull;
                round_trip(f, &b);
            }
        }
    }
}

static void test_round_trip_edges(void **state)
{
    fixture_t *f = *state;
    static char big[TF_STUN_MAX_TEXT];
    memset(big, 'x', sizeof(big));
    tf_stun_msg_t b;
    tf_stun_msg_init(&b, TF_STUN_ERROR, TF_STUN_METHOD_BINDING, NULL);
    b.has = TF_STUN_HAS_USERNAME | TF_STUN_HAS_SOFTWARE | TF_STUN_HAS_ERROR_CODE |
            TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT;
    b.username = big;
    b.username_len = sizeof(big);
    b.software = big;
    b.software_len = sizeof(big);
    b.error_code = 699;
    b.reason = big;
    b.reason_len = sizeof(big);
    round_trip(f, &b);

    /* Empty texts and every error code boundary. */
    b.username_len = b.software_len = b.reason_len = 0;
    b.username = b.software = b.reason = NULL;
    for (int code = 300; code <= 699; code += 33) {
        b.error_code = (uint16_t)code;
        round_trip(f, &b);
    }
    /* Truncated HMAC-SHA256 lengths 16..32, with and without SHA1 before it. */
    for (int mi = 0; mi < 2; mi++) {
        for (uint8_t l = 16; l <= 32; l += 4) {
            tf_stun_msg_init(&b, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, vec_tid);
            b.has = TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256 | TF_STUN_HAS_FINGERPRINT |
                    (mi ? TF_STUN_HAS_MESSAGE_INTEGRITY : 0);
            b.integrity_sha256_len = l;
            round_trip(f, &b);
        }
    }
    /* A full UNKNOWN-ATTRIBUTES and an empty one. */
    tf_stun_msg_init(&b, TF_STUN_ERROR, TF_STUN_METHOD_BINDING, vec_tid);
    b.has = TF_STUN_HAS_UNKNOWN_ATTRIBUTES | TF_STUN_HAS_ERROR_CODE;
    b.error_code = 420;
    b.n_unknown = TF_STUN_MAX_UNKNOWN;
    for (int i = 0; i < TF_STUN_MAX_UNKNOWN; i++)
        b.unknown[i] = (uint16_t)(0x7000 + i);
    round_trip(f, &b);
    b.n_unknown = 0;
    round_trip(f, &b);
}

static void test_marshal_rejects_bad_fields(void **state)
{
    fixture_t *f = *state;
    uint8_t out[2048];
    size_t n;
    tf_stun_msg_t b;
    tf_stun_msg_init(&b, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, vec_tid);
    b.has = TF_STUN_HAS_MESSAGE_INTEGRITY;
    assert_int_equal(tf_stun_marshal_to(&b, NULL, out, sizeof(out), &n), -EINVAL);
    b.has = TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256;
    b.integrity_sha256_len = 12;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.integrity_sha256_len = 18;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.has = TF_STUN_HAS_ERROR_CODE;
    b.error_code = 299;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.error_code = 700;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.has = TF_STUN_HAS_USERNAME;
    b.username = "x";
    b.username_len = TF_STUN_MAX_TEXT + 1;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.username = NULL;
    b.username_len = 1;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.has = TF_STUN_HAS_XOR_MAPPED_ADDRESS; /* family unset */
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    b.has = TF_STUN_HAS_UNKNOWN_ATTRIBUTES;
    b.n_unknown = TF_STUN_MAX_UNKNOWN + 1;
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    tf_stun_msg_init(&b, 4, TF_STUN_METHOD_BINDING, vec_tid);
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    tf_stun_msg_init(&b, TF_STUN_REQUEST, 0x1000, vec_tid);
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), -EINVAL);
    tf_stun_msg_init(&b, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, vec_tid);
    assert_int_equal(tf_stun_marshal_to(&b, f->key, out, 19, &n), -ENOBUFS);
    assert_int_equal(tf_stun_marshal_to(NULL, f->key, out, sizeof(out), &n), -EINVAL);
    assert_int_equal(tf_stun_marshal_to(&b, f->key, NULL, sizeof(out), &n), -EINVAL);
}

static void test_every_truncation_rejected(void **state)
{
    (void)state;
    const struct {
        const uint8_t *p;
        size_t n;
    } vecs[] = {{vec_request, sizeof(vec_request)},
                {vec_response_v4, sizeof(vec_response_v4)},
                {vec_response_v6, sizeof(vec_response_v6)}};
    for (size_t v = 0; v < 3; v++) {
        for (size_t len = 0; len < vecs[v].n; len++) {
            tf_stun_msg_t m;
            assert_int_equal(parse_exact(&m, vecs[v].p, len), -EPROTO);
            /* Also with the length field rewritten to agree, so the attribute walk itself
             * meets the cut (where the cut is 4-aligned). */
            if (len >= 20 && len % 4 == 0) {
                uint8_t *p = exact_copy(vecs[v].p, len);
                p[2] = (uint8_t)((len - 20) >> 8);
                p[3] = (uint8_t)(len - 20);
                int rc = tf_stun_parse(&m, p, len, NULL, 0);
                /* Cut on an attribute boundary before FINGERPRINT, it is a shorter valid
                 * message; anywhere else it is broken. */
                if (rc == 0)
                    assert_false(m.has & TF_STUN_HAS_FINGERPRINT);
                else
                    assert_int_equal(rc, -EPROTO);
                free(p);
            }
        }
    }
}

static void test_every_bit_flip_rejected(void **state)
{
    (void)state;
    /* FINGERPRINT covers every byte before it, so no flipped bit passes it. A flip can still
     * make the FINGERPRINT attribute itself disappear (its type becomes an ignored attribute,
     * or USERNAME's length grows to swallow the rest); such a message parses, without
     * FINGERPRINT, and is then refused for want of integrity. */
    uint8_t *p = exact_copy(vec_request, sizeof(vec_request));
    for (size_t i = 0; i < sizeof(vec_request); i++) {
        for (int bit = 0; bit < 8; bit++) {
            p[i] ^= (uint8_t)(1 << bit);
            tf_stun_msg_t m;
            int rc = tf_stun_parse(&m, p, sizeof(vec_request), NULL, 0);
            if (rc == 0 && (m.has & TF_STUN_HAS_FINGERPRINT))
                fail_msg("flip of byte %zu bit %d passed the fingerprint", i, bit);
            if (rc != 0 && rc != -EPROTO)
                fail_msg("flip of byte %zu bit %d: parse gave %d", i, bit, rc);
            p[i] ^= (uint8_t)(1 << bit);
        }
    }
    free(p);
}

static void test_integrity_detects_tampering(void **state)
{
    fixture_t *f = *state;
    /* Without FINGERPRINT a change behind MESSAGE-INTEGRITY is caught by the HMAC. */
    uint8_t p[sizeof(vec_request)];
    memcpy(p, vec_request, sizeof(p));
    p[3] = 0x50; /* length without FINGERPRINT */
    tf_stun_msg_t m;
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p) - 8, NULL, 0), 0);
    assert_int_equal(tf_stun_check_integrity(&m, f->key), 0);
    p[24] ^= 1; /* SOFTWARE's first byte */
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p) - 8, NULL, 0), 0);
    assert_int_equal(tf_stun_check_integrity(&m, f->key), -EACCES);
    p[24] ^= 1;
    p[86] ^= 0x80; /* inside the HMAC */
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p) - 8, NULL, 0), 0);
    assert_int_equal(tf_stun_check_integrity(&m, f->key), -EACCES);
}

/* A message of header + the given attribute bytes (no FINGERPRINT). */
static int parse_attrs(tf_stun_msg_t *m, const uint8_t *attrs, size_t n)
{
    uint8_t buf[256];
    assert_true(n + 20 <= sizeof(buf));
    memcpy(buf, vec_request, 20);
    buf[2] = (uint8_t)(n >> 8);
    buf[3] = (uint8_t)n;
    memcpy(buf + 20, attrs, n);
    return parse_exact(m, buf, 20 + n);
}

static void test_bad_attributes_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t bytes[24];
        size_t n;
    } bad[] = {
        {"PRIORITY of 3", {0x00, 0x24, 0x00, 0x03, 1, 2, 3, 0}, 8},
        {"PRIORITY of 8", {0x00, 0x24, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}, 12},
        {"USE-CANDIDATE of 4", {0x00, 0x25, 0x00, 0x04, 0, 0, 0, 0}, 8},
        {"ICE-CONTROLLING of 4", {0x80, 0x2a, 0x00, 0x04, 0, 0, 0, 0}, 8},
        {"ICE-CONTROLLED of 12", {0x80, 0x29, 0x00, 0x0c, 0}, 16},
        {"XOR family 3", {0x00, 0x20, 0x00, 0x08, 0, 3, 0, 0, 1, 2, 3, 4}, 12},
        {"XOR v4 of 20", {0x00, 0x20, 0x00, 0x14, 0, 1}, 24},
        {"XOR v6 of 8", {0x00, 0x20, 0x00, 0x08, 0, 2, 0, 0, 1, 2, 3, 4}, 12},
        {"XOR of 2", {0x00, 0x20, 0x00, 0x02, 0, 1, 0, 0}, 8},
        {"MI of 16", {0x00, 0x08, 0x00, 0x10, 0}, 20},
        {"MI-SHA256 of 12", {0x00, 0x1c, 0x00, 0x0c, 0}, 16},
        {"MI-SHA256 of 18", {0x00, 0x1c, 0x00, 0x12, 0}, 24},
        {"ERROR-CODE class 2", {0x00, 0x09, 0x00, 0x04, 0, 0, 2, 0}, 8},
        {"ERROR-CODE class 7", {0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0}, 8},
        {"ERROR-CODE number 100", {0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100}, 8},
        {"ERROR-CODE of 3", {0x00, 0x09, 0x00, 0x03, 0, 0, 4, 0}, 8},
        {"UNKNOWN-ATTRIBUTES odd", {0x00, 0x0a, 0x00, 0x03, 0, 1, 0, 0}, 8},
        {"FINGERPRINT of 8", {0x80, 0x28, 0x00, 0x08, 0}, 12},
        {"FINGERPRINT wrong", {0x80, 0x28, 0x00, 0x04, 1, 2, 3, 4}, 8},
        {"value overruns", {0x80, 0x22, 0x00, 0x09, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}, 12},
        {"huge length", {0x80, 0x22, 0xff, 0xff, 0}, 8},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tf_stun_msg_t m;
        int rc = parse_attrs(&m, bad[i].bytes, bad[i].n);
        if (rc != -EPROTO)
            fail_msg("%s: parse gave %d", bad[i].what, rc);
    }
}

static void test_text_limits(void **state)
{
    (void)state;
    /* RFC 8489 §14.3: 763 bytes must parse; more is refused rather than truncated. */
    size_t cap = 800;
    uint8_t *p = calloc(1, cap);
    assert_non_null(p);
    memcpy(p, vec_request, 20);
    static const uint16_t types[] = {TF_STUN_ATTR_USERNAME, TF_STUN_ATTR_SOFTWARE,
                                     TF_STUN_ATTR_ERROR_CODE};
    for (size_t i = 0; i < 3; i++) {
        for (size_t n = 763; n <= 764; n++) {
            size_t vlen = types[i] == TF_STUN_ATTR_ERROR_CODE ? n + 4 : n;
            size_t total = 20 + 4 + (vlen + 3) / 4 * 4;
            memset(p + 20, 0, cap - 20);
            p[2] = (uint8_t)((total - 20) >> 8);
            p[3] = (uint8_t)(total - 20);
            p[20] = (uint8_t)(types[i] >> 8);
            p[21] = (uint8_t)types[i];
            p[22] = (uint8_t)(vlen >> 8);
            p[23] = (uint8_t)vlen;
            p[26] = 4; /* ERROR-CODE class 4 */
            assert_true(total <= cap);
            tf_stun_msg_t m;
            assert_int_equal(parse_exact(&m, p, total), n == 763 ? 0 : -EPROTO);
        }
    }
    free(p);
}

static void test_header_rules(void **state)
{
    (void)state;
    uint8_t p[sizeof(vec_response_v4)];
    tf_stun_msg_t m;
    char err[64];
    memcpy(p, vec_response_v4, sizeof(p));
    p[0] |= 0x40; /* top bits */
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p), err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "two bits"));
    memcpy(p, vec_response_v4, sizeof(p));
    p[7] = 0x43; /* cookie */
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p), err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "cookie"));
    memcpy(p, vec_response_v4, sizeof(p));
    p[3] = 0x3d; /* not a multiple of 4 */
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p), err, sizeof(err)), -EPROTO);
    /* A parse with a tiny err buffer still NUL-terminates it. */
    assert_int_equal(tf_stun_parse(&m, p, sizeof(p), err, 4), -EPROTO);
    assert_int_equal(strlen(err), 3);
    assert_int_equal(tf_stun_parse(NULL, p, sizeof(p), NULL, 0), -EINVAL);
    assert_int_equal(tf_stun_parse(&m, NULL, 20, NULL, 0), -EINVAL);
    assert_int_equal(tf_stun_parse(&m, NULL, 0, NULL, 0), -EPROTO);
}

static void test_unknown_and_ignored_attributes(void **state)
{
    (void)state;
    tf_stun_msg_t m;
    /* Comprehension-optional unknown: ignored. Comprehension-required unknown: listed once. */
    static const uint8_t a[] = {
        0x8f, 0xff, 0x00, 0x01, 9, 0, 0, 0,              /* optional, ignored */
        0x7f, 0xff, 0x00, 0x00,                          /* required, unknown */
        0x00, 0x01, 0x00, 0x08, 0, 1, 0, 1, 10, 0, 0, 1, /* MAPPED-ADDRESS */
        0x7f, 0xff, 0x00, 0x00,                          /* again: listed once */
        0x00, 0x24, 0x00, 0x04, 0, 0, 0, 7,              /* PRIORITY 7 */
        0x00, 0x24, 0x00, 0x04, 0, 0, 0, 9,              /* duplicate: first wins */
    };
    assert_int_equal(parse_attrs(&m, a, sizeof(a)), 0);
    assert_int_equal(m.n_unhandled, 2);
    assert_int_equal(m.unhandled[0], 0x7fff);
    assert_int_equal(m.unhandled[1], 0x0001);
    assert_int_equal(m.has, TF_STUN_HAS_PRIORITY);
    assert_int_equal(m.priority, 7);

    /* RFC 8489 §9: attributes after MESSAGE-INTEGRITY are ignored (except SHA256 and
     * FINGERPRINT); after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT counts. */
    uint8_t b[80];
    memset(b, 0, sizeof(b));
    memcpy(b, "\x00\x08\x00\x14", 4);          /* MI */
    memcpy(b + 24, "\x00\x06\x00\x04user", 8); /* USERNAME: ignored */
    memcpy(b + 32, "\x00\x1c\x00\x10", 4);     /* MI-SHA256 (16) */
    memcpy(b + 52, "\x00\x08\x00\x14", 4);     /* MI again: ignored */
    assert_int_equal(parse_attrs(&m, b, 76), 0);
    assert_int_equal(m.has, TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256);
    assert_int_equal(m.integrity_off, 20);
    assert_int_equal(m.integrity_sha256_off, 52);
    assert_int_equal(m.integrity_sha256_len, 16);

    /* Nothing may follow FINGERPRINT, even with a fingerprint that is right for the longer
     * message. */
    uint8_t c[20 + 8 + 8];
    memcpy(c, vec_request, 20);
    c[2] = 0;
    c[3] = 16;
    memcpy(c + 20, "\x80\x28\x00\x04", 4);
    memcpy(c + 28, "\x80\x22\x00\x04test", 8);
    uint32_t crc = (uint32_t)crc32(0L, c, 20) ^ TF_STUN_FINGERPRINT_XOR;
    c[24] = (uint8_t)(crc >> 24);
    c[25] = (uint8_t)(crc >> 16);
    c[26] = (uint8_t)(crc >> 8);
    c[27] = (uint8_t)crc;
    char err[64];
    assert_int_equal(tf_stun_parse(&m, c, sizeof(c), err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "after FINGERPRINT"));
    c[3] = 8; /* the same FINGERPRINT as the last attribute is fine */
    crc = (uint32_t)crc32(0L, c, 20) ^ TF_STUN_FINGERPRINT_XOR;
    c[24] = (uint8_t)(crc >> 24);
    c[25] = (uint8_t)(crc >> 16);
    c[26] = (uint8_t)(crc >> 8);
    c[27] = (uint8_t)crc;
    assert_int_equal(parse_exact(&m, c, 28), 0);
    assert_int_equal(m.has, TF_STUN_HAS_FINGERPRINT);
}

static void test_is_stun_demux(void **state)
{
    (void)state;
    assert_int_equal(tf_stun_is_stun(vec_response_v6, sizeof(vec_response_v6)), 1);
    uint8_t p[sizeof(vec_request)];
    memcpy(p, vec_request, sizeof(p));
    assert_int_equal(tf_stun_is_stun(p, sizeof(p) - 1), 0);
    assert_int_equal(tf_stun_is_stun(p, 19), 0);
    assert_int_equal(tf_stun_is_stun(NULL, 0), 0);
    for (int b0 = 4; b0 < 256; b0++) { /* DTLS 20..63, RTP/RTCP 128..191 and the rest */
        p[0] = (uint8_t)b0;
        assert_int_equal(tf_stun_is_stun(p, sizeof(p)), 0);
    }
    p[0] = 3;
    assert_int_equal(tf_stun_is_stun(p, sizeof(p)), 1);
    p[5] = 0;
    assert_int_equal(tf_stun_is_stun(p, sizeof(p)), 0);
}

static void test_type_encoding(void **state)
{
    fixture_t *f = *state;
    /* RFC 8489 §5: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011;
     * and every method/class survives the bit interleaving. */
    static const struct {
        int cls;
        uint16_t type;
    } t[] = {{TF_STUN_REQUEST, 0x0001},
             {TF_STUN_INDICATION, 0x0011},
             {TF_STUN_SUCCESS, 0x0101},
             {TF_STUN_ERROR, 0x0111}};
    uint8_t out[64];
    size_t n;
    tf_stun_msg_t b, p;
    for (int i = 0; i < 4; i++) {
        tf_stun_msg_init(&b, t[i].cls, TF_STUN_METHOD_BINDING, vec_tid);
        assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), 0);
        assert_int_equal(out[0] << 8 | out[1], t[i].type);
    }
    for (unsigned method = 0; method <= 0xFFF; method++) {
        for (int cls = 0; cls < 4; cls++) {
            tf_stun_msg_init(&b, cls, (uint16_t)method, vec_tid);
            assert_int_equal(tf_stun_marshal_to(&b, f->key, out, sizeof(out), &n), 0);
            assert_int_equal(tf_stun_parse(&p, out, n, NULL, 0), 0);
            assert_int_equal(p.method, method);
            assert_int_equal(p.cls, cls);
        }
    }
}

static void test_reasons_and_keys(void **state)
{
    (void)state;
    assert_string_equal(tf_stun_reason(401), "Unauthenticated");
    assert_string_equal(tf_stun_reason(487), "Role Conflict");
    assert_string_equal(tf_stun_reason(999), "");
    tf_stun_key_t *k = NULL;
    assert_int_equal(tf_stun_key_create(&k, NULL, 3), -EINVAL);
    assert_null(k);
    assert_int_equal(tf_stun_key_create(NULL, "x", 1), -EINVAL);
    assert_int_equal(tf_stun_key_create(&k, NULL, 0), 0); /* an empty key is legal HMAC */
    tf_stun_key_destroy(&k);
    assert_null(k);
    tf_stun_key_destroy(&k);
    tf_stun_key_destroy(NULL);
    tf_stun_msg_t m;
    memset(&m, 0, sizeof(m));
    assert_int_equal(tf_stun_check_integrity(&m, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rfc5769_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc5769_response_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc5769_response_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_padding_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_each_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marshal_rejects_bad_fields, setup, teardown),
        cmocka_unit_test(test_every_truncation_rejected),
        cmocka_unit_test(test_every_bit_flip_rejected),
        cmocka_unit_test_setup_teardown(test_integrity_detects_tampering, setup, teardown),
        cmocka_unit_test(test_bad_attributes_rejected),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_unknown_and_ignored_attributes),
        cmocka_unit_test(test_is_stun_demux),
        cmocka_unit_test_setup_teardown(test_type_encoding, setup, teardown),
        cmocka_unit_test(test_reasons_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
