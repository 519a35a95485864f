/* stun_fuzzer.c — libFuzzer target for server/rtc/stun.c and the ICE agent behind it: whatever
 * parses must re-marshal, re-parse to the same content and re-marshal to the same bytes; every
 * datagram the agent emits must parse. It checks properties, not ICE policy (test_rtc_ice.c).
 *
 * The seeds in tests/fuzz/corpus/stun/ come from this file's seed writer:
 *   cc -std=c11 -I. -DSTUN_FUZZER_WRITE_SEEDS tests/fuzz/stun_fuzzer.c server/rtc/stun.c \
 *      server/rtc/ice.c -lssl -lcrypto -lz -o /tmp/stun_seeds && /tmp/stun_seeds DIR */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/ice.h"
#include "server/rtc/stun.h"

/* The RFC 5769 credentials: the ICE agent is "evtj" with that password and expects "h6vY",
 * so the RFC's sample request, and any re-signed input, is a check it must authenticate. */
#define PWD "VOkJxbRl1RmTxUk/WvJxBt"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "stun_fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_text(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Equal content as far as a marshal writes it. */
static int same_content(const tf_stun_msg_t *a, const tf_stun_msg_t *b)
{
    uint32_t h = a->has;
    if (a->cls != b->cls || a->method != b->method || memcmp(a->tid, b->tid, 12) || h != b->has)
        return 0;
    if ((h & TF_STUN_HAS_USERNAME) &&
        !same_text(a->username, a->username_len, b->username, b->username_len))
        return 0;
    if ((h & TF_STUN_HAS_SOFTWARE) &&
        !same_text(a->software, a->software_len, b->software, b->software_len))
        return 0;
    if ((h & TF_STUN_HAS_ERROR_CODE) &&
        (a->error_code != b->error_code ||
         !same_text(a->reason, a->reason_len, b->reason, b->reason_len)))
        return 0;
    if ((h & TF_STUN_HAS_UNKNOWN_ATTRIBUTES) &&
        (a->n_unknown != b->n_unknown ||
         memcmp(a->unknown, b->unknown, a->n_unknown * sizeof(a->unknown[0]))))
        return 0;
    if ((h & TF_STUN_HAS_XOR_MAPPED_ADDRESS) && !tf_addr_equal(&a->xor_mapped, &b->xor_mapped))
        return 0;
    if ((h & TF_STUN_HAS_PRIORITY) && a->priority != b->priority)
        return 0;
    if ((h & TF_STUN_HAS_ICE_CONTROLLED) && a->ice_controlled != b->ice_controlled)
        return 0;
    if ((h & TF_STUN_HAS_ICE_CONTROLLING) && a->ice_controlling != b->ice_controlling)
        return 0;
    if ((h & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256) &&
        a->integrity_sha256_len != b->integrity_sha256_len)
        return 0;
    return 1;
}

/* Feeds one datagram to the agent from `from` and checks everything it sends back. */
static void feed_ice(tf_ice_t *ice, tf_stun_key_t *key, uint64_t now, const tf_addr_t *from,
                     const uint8_t *buf, size_t len)
{
    tf_ice_handle_input(ice, now, from, buf, len);
    tf_ice_transmit_t t;
    while (tf_ice_poll_transmit(ice, &t) == 0) {
        tf_stun_msg_t m;
        CHECK(t.len <= TF_ICE_MAX_PACKET);
        CHECK(tf_addr_equal(&t.dest, from));
        CHECK(tf_stun_parse(&m, t.data, t.len, NULL, 0) == 0);
        CHECK(m.has & TF_STUN_HAS_FINGERPRINT);
        CHECK(m.cls == TF_STUN_SUCCESS || m.cls == TF_STUN_ERROR);
        if (m.cls == TF_STUN_SUCCESS) {
            CHECK(tf_stun_check_integrity(&m, key) == 0);
            CHECK(tf_addr_equal(&m.xor_mapped, from));
        }
    }
    tf_ice_event_t e;
    while (tf_ice_poll_event(ice, &e) == 0)
        CHECK(e.kind >= TF_ICE_EVENT_SELECTED && e.kind <= TF_ICE_EVENT_CONSENT_LAPSED);
}

static void run_ice(tf_stun_key_t *key, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    const tf_ice_config_t cfg = {.local_ufrag = "evtj", .local_pwd = PWD, .remote_ufrag = "h6vY"};
    tf_ice_t *ice = NULL;
    CHECK(tf_ice_create(&ice, &cfg, 0) == 0);
    tf_addr_t from4 = tf_addr_v4(192, 0, 2, 1, 32853);
    tf_addr_t from6 = {TF_ADDR_V6, 9, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    feed_ice(ice, key, 1000000, &from4, a, an);
    if (b)
        feed_ice(ice, key, 2000000, &from6, b, bn);
    feed_ice(ice, key, 3000000, &from4, a, an);
    uint64_t deadline = tf_ice_poll_timeout(ice);
    CHECK(deadline >= 3000000 && deadline <= 33000000);
    CHECK(tf_ice_handle_timeout(ice, deadline) == 0);
    CHECK(tf_ice_state(ice) == TF_ICE_STATE_FAILED);
    CHECK(tf_ice_poll_timeout(ice) == UINT64_MAX);
    tf_ice_destroy(&ice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_stun_key_t *key = NULL;
    CHECK(tf_stun_key_create(&key, PWD, strlen(PWD)) == 0);

    int demux = tf_stun_is_stun(data, size);
    tf_stun_msg_t m;
    char err[128];
    int rc = tf_stun_parse(&m, data, size, err, sizeof(err));
    CHECK(rc == 0 || rc == -EPROTO);
    uint8_t *out = NULL, *again = NULL;
    size_t n = 0, n2 = 0;
    if (rc == 0) {
        /* RFC 7983's first-byte rule is exact for methods below 0x100. */
        CHECK(demux == (m.method < 0x100));
        if (m.has & (TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256))
            CHECK(tf_stun_check_integrity(&m, key) != -EINVAL);

        /* Re-marshal (zero padding, integrity re-signed with the key), exact-size buffers so
         * an overrun is caught. Dropped: ignored attributes, unknown ones, the padding. */
        tf_stun_msg_t b = m;
        b.padding = 0;
        n = tf_stun_marshal_size(&b);
        CHECK(n <= size);
        out = malloc(n);
        CHECK(out);
        CHECK(tf_stun_marshal_to(&b, key, out, n, &n2) == 0 && n2 == n);

        tf_stun_msg_t p;
        CHECK(tf_stun_parse(&p, out, n, err, sizeof(err)) == 0);
        CHECK(same_content(&m, &p));
        CHECK(p.n_unhandled == 0);
        if (p.has & (TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256))
            CHECK(tf_stun_check_integrity(&p, key) == 0);

        /* A second round changes nothing: byte for byte. */
        again = malloc(n);
        CHECK(again);
        CHECK(tf_stun_marshal_to(&p, key, again, n, &n2) == 0 && n2 == n);
        CHECK(memcmp(out, again, n) == 0);
    }
    /* The raw input, then (if it parsed) its re-signed twin, which now authenticates. */
    run_ice(key, data, size, out, n);
    free(out);
    free(again);
    tf_stun_key_destroy(&key);
    return 0;
}

#ifdef STUN_FUZZER_WRITE_SEEDS
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

/* Writes the seed corpus: the RFC 5769 vectors and a few variants covering every attribute,
 * both integrity types, each class and the ICE agent's answers. */
static const uint8_t rfc_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
static const uint8_t rfc_tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

static void write_seed(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(p, 1, n, f) == n && fclose(f) == 0);
}

static void build_seed(const char *dir, const char *name, tf_stun_msg_t *m, tf_stun_key_t *key)
{
    uint8_t buf[512];
    size_t n = 0;
    CHECK(tf_stun_marshal_to(m, key, buf, sizeof(buf), &n) == 0);
    write_seed(dir, name, buf, n);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *dir = argv[1];
    tf_stun_key_t *key = NULL;
    CHECK(tf_stun_key_create(&key, PWD, strlen(PWD)) == 0);
    tf_stun_msg_t m;

    /* RFC 5769 §2.1 as published, §2.2 and §2.3 rebuilt (the builder reproduces them). */
    write_seed(dir, "rfc5769-request", rfc_request, sizeof(rfc_request));
    tf_stun_msg_init(&m, TF_STUN_SUCCESS, TF_STUN_METHOD_BINDING, rfc_tid);
    m.has = TF_STUN_HAS_SOFTWARE | TF_STUN_HAS_XOR_MAPPED_ADDRESS | TF_STUN_HAS_MESSAGE_INTEGRITY |
            TF_STUN_HAS_FINGERPRINT;
    m.software = "test vector";
    m.software_len = 11;
    m.padding = 0x20;
    m.xor_mapped = tf_addr_v4(192, 0, 2, 1, 32853);
    build_seed(dir, "rfc5769-response-ipv4", &m, key);
    m.xor_mapped.family = TF_ADDR_V6;
    memcpy(m.xor_mapped.ip, "\x20\x01\x0d\xb8\x12\x34\x56\x78\x00\x11\x22\x33\x44\x55\x66\x77", 16);
    build_seed(dir, "rfc5769-response-ipv6", &m, key);

    /* A browser's nominating check: the agent answers and selects. */
    tf_stun_msg_init(&m, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, rfc_tid);
    m.has = TF_STUN_HAS_PRIORITY | TF_STUN_HAS_USE_CANDIDATE | TF_STUN_HAS_ICE_CONTROLLING |
            TF_STUN_HAS_USERNAME | TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT;
    m.priority = 1853824767;
    m.ice_controlling = 0x1122334455667788ull;
    m.username = "evtj:h6vY";
    m.username_len = 9;
    build_seed(dir, "check-use-candidate", &m, key);
    /* The same with HMAC-SHA256, truncated to 16 bytes, and with both integrity attributes. */
    m.has ^= TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256;
    m.integrity_sha256_len = 16;
    build_seed(dir, "check-sha256-16", &m, key);
    m.has |= TF_STUN_HAS_MESSAGE_INTEGRITY;
    m.integrity_sha256_len = 0;
    build_seed(dir, "check-both-integrity", &m, key);

    /* An error response carrying ERROR-CODE and UNKNOWN-ATTRIBUTES. */
    tf_stun_msg_init(&m, TF_STUN_ERROR, TF_STUN_METHOD_BINDING, rfc_tid);
    m.has = TF_STUN_HAS_ERROR_CODE | TF_STUN_HAS_UNKNOWN_ATTRIBUTES | TF_STUN_HAS_FINGERPRINT;
    m.error_code = 420;
    m.reason = "Unknown Attribute";
    m.reason_len = 17;
    m.n_unknown = 3;
    m.unknown[0] = 0x7777;
    m.unknown[1] = 0x0003;
    m.unknown[2] = 0x0001;
    build_seed(dir, "error-420", &m, key);

    /* A keepalive indication, and a request whose unknown attributes want a 420. */
    tf_stun_msg_init(&m, TF_STUN_INDICATION, TF_STUN_METHOD_BINDING, rfc_tid);
    m.has = TF_STUN_HAS_FINGERPRINT;
    build_seed(dir, "indication", &m, key);
    /* Signed by hand (the builder writes no unknown attributes): USERNAME, ICE-CONTROLLING,
     * USE-CANDIDATE, two unknown attributes (one comprehension-required), then
     * MESSAGE-INTEGRITY and FINGERPRINT. */
    static const uint8_t head[] = {
        0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc,
        0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x00, 0x06, 0x00, 0x09, 'e',  'v',
        't',  'j',  ':',  'h',  '6',  'v',  'Y',  0x00, 0x00, 0x00, 0x80, 0x2a, 0x00,
        0x08, 1,    2,    3,    4,    5,    6,    7,    8,    0x00, 0x25, 0x00, 0x00,
        0x77, 0x77, 0x00, 0x00, 0x80, 0x99, 0x00, 0x02, 0x01, 0x02, 0x00, 0x00,
    };
    uint8_t buf[sizeof(head) + 32];
    size_t off = sizeof(head);
    unsigned int maclen = 0;
    memcpy(buf, head, off);
    buf[3] = (uint8_t)(off + 24 - 20);
    memcpy(buf + off, "\x00\x08\x00\x14", 4);
    CHECK(HMAC(EVP_sha1(), PWD, (int)strlen(PWD), buf, off, buf + off + 4, &maclen) &&
          maclen == 20);
    off += 24;
    buf[3] = (uint8_t)(off + 8 - 20);
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)off) ^ TF_STUN_FINGERPRINT_XOR;
    memcpy(buf + off, "\x80\x28\x00\x04", 4);
    for (int i = 0; i < 4; i++)
        buf[off + 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
    write_seed(dir, "check-unknown-attributes", buf, off + 8);
    tf_stun_key_destroy(&key);
    return 0;
}
#endif
