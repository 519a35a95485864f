/* test_rtc_srtp.c — server/rtc/srtp.c against an independent SRTP built here from OpenSSL
 * primitives (RFC 3711 key derivation, AES-CM, HMAC-SHA1-80; RFC 7714 AES-GCM), byte for byte,
 * plus round trips, tampering, replay and buffer limits. No DTLS here: see test_rtc_dtls.c. */
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

#include "server/rtc/srtp.h"

/* RFC 3711 Appendix B.3. */
#define B3_MASTER_KEY "E1F97A0D3E018BE0D64FA32C06DE4139"
#define B3_MASTER_SALT "0EC675AD498AFEEBB6960B3AABE6"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_hex(const uint8_t *got, const char *want_hex)
{
    uint8_t want[256];
    size_t n = unhex(want_hex, want, sizeof(want));
    assert_memory_equal(got, want, n);
}

/* ---- the independent reference ------------------------------------------------------- */

static void aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL), 1);
    EVP_CIPHER_CTX_set_padding(c, 0);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, 16), 1);
    assert_int_equal(n, 16);
    EVP_CIPHER_CTX_free(c);
}

/* AES in counter mode, RFC 3711 §4.1.1: block j of the keystream is AES(key, iv + j), the
 * counter being the low 16 bits (packets here are far shorter than 2^16 blocks). */
static void aes_cm_xor(const uint8_t key[16], const uint8_t iv[16], uint8_t *buf, size_t n)
{
    uint8_t ctr[16], ks[16];
    for (size_t off = 0, j = 0; off < n; off += 16, j++) {
        memcpy(ctr, iv, 16);
        unsigned low = ((unsigned)ctr[14] << 8 | ctr[15]) + (unsigned)j;
        ctr[14] = (uint8_t)(low >> 8);
        ctr[15] = (uint8_t)low;
        aes_block(key, ctr, ks);
        for (size_t i = 0; i < 16 && off + i < n; i++)
            buf[off + i] ^= ks[i];
    }
}

/* RFC 3711 §4.3.1 with key_derivation_rate 0 (r = 0): x = (label || r) XOR master_salt, the
 * 56-bit key_id right-aligned in the 112-bit salt, and the output is AES-CM keystream from
 * IV = x * 2^16. A 96-bit GCM master salt takes the high 96 bits (RFC 7714 §11, libsrtp). */
static void ref_kdf(const uint8_t *mkey, const uint8_t *msalt, size_t salt_len, uint8_t label,
                    uint8_t *out, size_t n)
{
    uint8_t iv[16] = {0};
    memcpy(iv, msalt, salt_len);
    iv[7] ^= label;
    memset(out, 0, n);
    aes_cm_xor(mkey, iv, out, n);
}

static void hmac_sha1_80(const uint8_t key[20], const uint8_t *a, size_t alen, const uint8_t *b,
                         size_t blen, uint8_t tag[10])
{
    uint8_t md[20];
    unsigned mdlen = 0;
    uint8_t *msg = malloc(alen + blen);
    assert_non_null(msg);
    memcpy(msg, a, alen);
    if (blen)
        memcpy(msg + alen, b, blen);
    assert_non_null(HMAC(EVP_sha1(), key, 20, msg, alen + blen, md, &mdlen));
    assert_int_equal(mdlen, 20);
    memcpy(tag, md, 10);
    free(msg);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t rtp_header_len(const uint8_t *p)
{
    size_t h = 12 + 4u * (p[0] & 15);
    if (p[0] & 0x10)
        h += 4 + 4u * ((size_t)p[h + 2] << 8 | p[h + 3]);
    return h;
}

/* RFC 3711 §3.1, §4.1.1, §4.2: AES_CM_128_HMAC_SHA1_80 SRTP. Returns the new length. */
static size_t ref_srtp_cm(const uint8_t *mkey, const uint8_t *msalt, uint32_t roc, uint8_t *pkt,
                          size_t len)
{
    uint8_t ke[16], ks[14], ka[20], iv[16] = {0}, r[4];
    ref_kdf(mkey, msalt, 14, 0x00, ke, 16);
    ref_kdf(mkey, msalt, 14, 0x01, ka, 20);
    ref_kdf(mkey, msalt, 14, 0x02, ks, 14);
    size_t h = rtp_header_len(pkt);
    uint64_t index = (uint64_t)roc << 16 | ((uint64_t)pkt[2] << 8 | pkt[3]);
    memcpy(iv, ks, 14); /* k_s * 2^16 */
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= pkt[8 + i]; /* SSRC * 2^64 */
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i)); /* i * 2^16 */
    aes_cm_xor(ke, iv, pkt + h, len - h);
    put32(r, roc); /* the tag covers the packet || ROC */
    hmac_sha1_80(ka, pkt, len, r, 4, pkt + len);
    return len + 10;
}

/* RFC 3711 §3.4: SRTCP with the E flag, labels 3, 4, 5. */
static size_t ref_srtcp_cm(const uint8_t *mkey, const uint8_t *msalt, uint32_t index, uint8_t *pkt,
                           size_t len)
{
    uint8_t ke[16], ks[14], ka[20], iv[16] = {0};
    ref_kdf(mkey, msalt, 14, 0x03, ke, 16);
    ref_kdf(mkey, msalt, 14, 0x04, ka, 20);
    ref_kdf(mkey, msalt, 14, 0x05, ks, 14);
    memcpy(iv, ks, 14);
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= pkt[4 + i];
    for (int i = 0; i < 4; i++)
        iv[10 + i] ^= (uint8_t)(index >> (24 - 8 * i));
    aes_cm_xor(ke, iv, pkt + 8, len - 8);
    put32(pkt + len, 0x80000000u | index);
    hmac_sha1_80(ka, pkt, len + 4, NULL, 0, pkt + len + 4);
    return len + 14;
}

static void gcm_seal(const uint8_t key[16], const uint8_t iv[12], const uint8_t *aad,
                     size_t aad_len, uint8_t *buf, size_t n, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int outl = 0;
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(c, NULL, NULL, key, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(c, NULL, &outl, aad, (int)aad_len), 1);
    assert_int_equal(EVP_EncryptUpdate(c, buf, &outl, buf, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, buf + outl, &outl), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(c);
}

/* RFC 7714 §8: AEAD_AES_128_GCM SRTP; IV = (00 00 || SSRC || ROC || SEQ) XOR salt, AAD = the
 * header, tag after the ciphertext. */
static size_t ref_srtp_gcm(const uint8_t *mkey, const uint8_t *msalt, uint32_t roc, uint8_t *pkt,
                           size_t len)
{
    uint8_t ke[16], ks[12], iv[12] = {0};
    ref_kdf(mkey, msalt, 12, 0x00, ke, 16);
    ref_kdf(mkey, msalt, 12, 0x02, ks, 12);
    memcpy(iv + 2, pkt + 8, 4);
    put32(iv + 6, roc);
    iv[10] = pkt[2], iv[11] = pkt[3];
    for (int i = 0; i < 12; i++)
        iv[i] ^= ks[i];
    size_t h = rtp_header_len(pkt);
    gcm_seal(ke, iv, pkt, h, pkt + h, len - h, pkt + len);
    return len + 16;
}

/* RFC 7714 §9: SRTCP; IV = (00 00 || SSRC || 00 00 || 0 || index) XOR salt, AAD = the first 8
 * bytes || E || index; the layout is header || ciphertext || tag || E || index. */
static size_t ref_srtcp_gcm(const uint8_t *mkey, const uint8_t *msalt, uint32_t index, uint8_t *pkt,
                            size_t len)
{
    uint8_t ke[16], ks[12], iv[12] = {0}, aad[12];
    ref_kdf(mkey, msalt, 12, 0x03, ke, 16);
    ref_kdf(mkey, msalt, 12, 0x05, ks, 12);
    memcpy(iv + 2, pkt + 4, 4);
    put32(iv + 8, index);
    for (int i = 0; i < 12; i++)
        iv[i] ^= ks[i];
    memcpy(aad, pkt, 8);
    put32(aad + 8, 0x80000000u | index);
    gcm_seal(ke, iv, aad, 12, pkt + 8, len - 8, pkt + len);
    put32(pkt + len + 16, 0x80000000u | index);
    return len + 20;
}

/* ---- packets -------------------------------------------------------------------------- */

/* An RTP packet with one CSRC and an RFC 8285 one-byte extension, so the header is 24 bytes. */
static size_t make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload)
{
    uint8_t *q = p;
    *q++ = 0x80 | 0x10 | 1; /* V=2, X, CC=1 */
    *q++ = 96;
    *q++ = (uint8_t)(seq >> 8), *q++ = (uint8_t)seq;
    put32(q, 0x11223344u + seq * 3000u), q += 4;
    put32(q, ssrc), q += 4;
    put32(q, 0xC5C5C5C5u), q += 4;
    *q++ = 0xBE, *q++ = 0xDE, *q++ = 0, *q++ = 1;
    *q++ = 0x10, *q++ = 0x42, *q++ = 0, *q++ = 0; /* id 1, len 1, value 0x42, padding */
    for (size_t i = 0; i < payload; i++)
        *q++ = (uint8_t)(i * 7 + seq);
    return (size_t)(q - p);
}

/* A compound RTCP packet: SR (28 bytes) + SDES CNAME "tafel" (16 bytes). */
static size_t make_rtcp(uint8_t *p, uint32_t ssrc)
{
    static const uint8_t sr[28] = {0x80, 200, 0, 6};
    static const uint8_t sdes[16] = {0x81, 202, 0, 3, 0, 0, 0, 0, 1, 5, 't', 'a', 'f', 'e', 'l'};
    memcpy(p, sr, sizeof(sr));
    put32(p + 4, ssrc);
    for (int i = 8; i < 28; i++)
        p[i] = (uint8_t)(i * 13);
    memcpy(p + 28, sdes, sizeof(sdes));
    put32(p + 32, ssrc);
    return sizeof(sr) + sizeof(sdes);
}

static tf_srtp_keys_t keys_local_only(tf_srtp_profile_t profile, const char *key_hex,
                                      const char *salt_hex)
{
    tf_srtp_keys_t k;
    memset(&k, 0, sizeof(k));
    k.profile = profile;
    k.key_len = (uint8_t)unhex(key_hex, k.local_key, sizeof(k.local_key));
    k.salt_len = (uint8_t)unhex(salt_hex, k.local_salt, sizeof(k.local_salt));
    memcpy(k.remote_key, k.local_key, k.key_len); /* unused here */
    memcpy(k.remote_salt, k.local_salt, k.salt_len);
    return k;
}

/* ---- RFC vectors for the reference itself --------------------------------------------- */

static void test_rfc3711_b2_aes_cm_keystream(void **state)
{
    (void)state;
    uint8_t key[16], iv[16], ks[16];
    unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, 16);
    static const struct {
        unsigned block;
        const char *keystream;
    } v[] = {
        {0x0000, "E03EAD0935C95E80E166B16DD92B4EB4"}, {0x0001, "D23513162B02D0F72A43A2FE4A5F97AB"},
        {0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0"}, {0xFEFF, "EC8CDF7398607CB0F2D21675EA9EA1E4"},
        {0xFF00, "362B7C3C6773516318A077D7FC5073AE"}, {0xFF01, "6A2CC3787889374FBEB4C81B17BA6C44"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        /* Session salt F0F1...FCFD, SSRC 0, index 0: the counter block is salt * 2^16 + j. */
        unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv, 16);
        memset(ks, 0, 16);
        iv[14] = (uint8_t)(v[i].block >> 8);
        iv[15] = (uint8_t)v[i].block;
        aes_cm_xor(key, iv, ks, 16);
        assert_hex(ks, v[i].keystream);
    }
}

static void test_rfc3711_b3_key_derivation(void **state)
{
    (void)state;
    uint8_t mk[16], ms[14], out[20];
    unhex(B3_MASTER_KEY, mk, 16);
    unhex(B3_MASTER_SALT, ms, 14);
    ref_kdf(mk, ms, 14, 0x00, out, 16);
    assert_hex(out, "C61E7A93744F39EE10734AFE3FF7A087"); /* cipher key */
    ref_kdf(mk, ms, 14, 0x02, out, 14);
    assert_hex(out, "30CBBC08863D8C85D49DB34A9AE1"); /* cipher salt */
    ref_kdf(mk, ms, 14, 0x01, out, 20);
    assert_hex(out, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"); /* auth key (160 bits) */
}

/* ---- libsrtp2 (through srtp.c) against the reference, byte for byte ------------------- */

static void known_answer_rtp(tf_srtp_profile_t profile, const char *salt_hex)
{
    tf_srtp_keys_t k = keys_local_only(profile, B3_MASTER_KEY, salt_hex);
    tf_srtp_t *s = NULL;
    assert_int_equal(tf_srtp_create(&s, &k, NULL), 0);
    /* 65534, 65535, then 0 and 1 with ROC 1: the roll-over counter enters IV and tag. */
    static const uint16_t seqs[] = {65534, 65535, 0, 1};
    for (size_t i = 0; i < 4; i++) {
        uint8_t got[256], want[256];
        size_t len = make_rtp(got, seqs[i], 0xDECAFBAD, 50 + i * 37);
        memcpy(want, got, len);
        size_t n = len;
        assert_int_equal(tf_srtp_protect_rtp(s, got, &n, sizeof(got)), 0);
        uint32_t roc = i < 2 ? 0 : 1;
        size_t wn = profile == TF_SRTP_AEAD_AES_128_GCM
                        ? ref_srtp_gcm(k.local_key, k.local_salt, roc, want, len)
                        : ref_srtp_cm(k.local_key, k.local_salt, roc, want, len);
        assert_int_equal(n, wn);
        assert_int_equal(n - len, tf_srtp_rtp_overhead(s));
        assert_memory_equal(got, want, n);
    }
    tf_srtp_destroy(&s);
    assert_null(s);
}

static void known_answer_rtcp(tf_srtp_profile_t profile, const char *salt_hex)
{
    tf_srtp_keys_t k = keys_local_only(profile, B3_MASTER_KEY, salt_hex);
    tf_srtp_t *s = NULL;
    assert_int_equal(tf_srtp_create(&s, &k, NULL), 0);
    /* Three reports from one SSRC, then one from another. */
    static const uint32_t ssrcs[] = {0x01020304, 0x01020304, 0x01020304, 0x0A0B0C0D};
    static const uint32_t index[] = {1, 2, 3, 1};
    for (uint32_t i = 0; i < 4; i++) {
        uint8_t got[128], want[128];
        size_t len = make_rtcp(got, ssrcs[i]);
        memcpy(want, got, len);
        size_t n = len;
        assert_int_equal(tf_srtp_protect_rtcp(s, got, &n, sizeof(got)), 0);
        assert_int_equal(n - len, tf_srtp_rtcp_overhead(s));
        /* libsrtp2 numbers SRTCP packets from 1 per SSRC (the index travels in clear). */
        uint32_t e_index = get32(profile == TF_SRTP_AEAD_AES_128_GCM ? got + len + 16 : got + len);
        assert_int_equal(e_index, 0x80000000u | index[i]);
        size_t wn = profile == TF_SRTP_AEAD_AES_128_GCM
                        ? ref_srtcp_gcm(k.local_key, k.local_salt, index[i], want, len)
                        : ref_srtcp_cm(k.local_key, k.local_salt, index[i], want, len);
        assert_int_equal(n, wn);
        assert_memory_equal(got, want, n);
    }
    tf_srtp_destroy(&s);
}

static void test_known_answer_cm_rtp(void **state)
{
    (void)state;
    known_answer_rtp(TF_SRTP_AES128_CM_SHA1_80, B3_MASTER_SALT);
}

static void test_known_answer_cm_rtcp(void **state)
{
    (void)state;
    known_answer_rtcp(TF_SRTP_AES128_CM_SHA1_80, B3_MASTER_SALT);
}

static void test_known_answer_gcm_rtp(void **state)
{
    (void)state;
    known_answer_rtp(TF_SRTP_AEAD_AES_128_GCM, "0EC675AD498AFEEBB6960B3A");
}

static void test_known_answer_gcm_rtcp(void **state)
{
    (void)state;
    known_answer_rtcp(TF_SRTP_AEAD_AES_128_GCM, "0EC675AD498AFEEBB6960B3A");
}

/* ---- the DTLS-SRTP key split and a session pair --------------------------------------- */

static void material_pattern(uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m[i] = (uint8_t)(0xA0 + i);
}

static void test_keys_from_material(void **state)
{
    (void)state;
    uint8_t m[60];
    material_pattern(m, sizeof(m));
    tf_srtp_keys_t srv, cli;
    /* AES-CM: key 16, salt 14; client key | server key | client salt | server salt. */
    assert_int_equal(tf_srtp_keys_from_material(&srv, TF_SRTP_AES128_CM_SHA1_80, m, 60, 1), 0);
    assert_int_equal(tf_srtp_keys_from_material(&cli, TF_SRTP_AES128_CM_SHA1_80, m, 60, 0), 0);
    assert_int_equal(srv.key_len, 16);
    assert_int_equal(srv.salt_len, 14);
    assert_memory_equal(srv.remote_key, m + 0, 16);
    assert_memory_equal(srv.local_key, m + 16, 16);
    assert_memory_equal(srv.remote_salt, m + 32, 14);
    assert_memory_equal(srv.local_salt, m + 46, 14);
    assert_memory_equal(cli.local_key, srv.remote_key, 16);
    assert_memory_equal(cli.local_salt, srv.remote_salt, 14);
    assert_memory_equal(cli.remote_key, srv.local_key, 16);
    assert_memory_equal(cli.remote_salt, srv.local_salt, 14);
    /* AES-GCM: key 16, salt 12, 56 bytes. */
    assert_int_equal(tf_srtp_keys_from_material(&srv, TF_SRTP_AEAD_AES_128_GCM, m, 56, 1), 0);
    assert_int_equal(srv.salt_len, 12);
    assert_memory_equal(srv.remote_key, m + 0, 16);
    assert_memory_equal(srv.local_key, m + 16, 16);
    assert_memory_equal(srv.remote_salt, m + 32, 12);
    assert_memory_equal(srv.local_salt, m + 44, 12);
    assert_int_equal(tf_srtp_keys_from_material(&srv, TF_SRTP_AEAD_AES_128_GCM, m, 60, 1), -EINVAL);
    assert_int_equal(tf_srtp_keys_from_material(&srv, (tf_srtp_profile_t)2, m, 60, 1), -ENOTSUP);
}

typedef struct pair {
    tf_srtp_t *server, *client;
} pair_t;

static void make_pair(pair_t *p, tf_srtp_profile_t profile, const tf_srtp_config_t *cfg)
{
    uint8_t m[60];
    size_t kl, sl;
    material_pattern(m, sizeof(m));
    assert_int_equal(tf_srtp_key_lengths(profile, &kl, &sl), 0);
    tf_srtp_keys_t srv, cli;
    assert_int_equal(tf_srtp_keys_from_material(&srv, profile, m, 2 * (kl + sl), 1), 0);
    /* The client's view, split by hand from RFC 5764 §4.2 rather than by the code under test. */
    memset(&cli, 0, sizeof(cli));
    cli.profile = profile;
    cli.key_len = (uint8_t)kl;
    cli.salt_len = (uint8_t)sl;
    memcpy(cli.local_key, m, kl);
    memcpy(cli.remote_key, m + kl, kl);
    memcpy(cli.local_salt, m + 2 * kl, sl);
    memcpy(cli.remote_salt, m + 2 * kl + sl, sl);
    assert_int_equal(tf_srtp_create(&p->server, &srv, cfg), 0);
    assert_int_equal(tf_srtp_create(&p->client, &cli, cfg), 0);
}

static void free_pair(pair_t *p)
{
    tf_srtp_destroy(&p->server);
    tf_srtp_destroy(&p->client);
}

static void round_trip(tf_srtp_profile_t profile)
{
    pair_t p;
    make_pair(&p, profile, NULL);
    for (int dir = 0; dir < 2; dir++) {
        tf_srtp_t *tx = dir ? p.server : p.client, *rx = dir ? p.client : p.server;
        for (uint32_t ssrc = 1000; ssrc < 1003; ssrc++) {
            for (uint16_t seq = 65530; seq != 10; seq++) {
                uint8_t buf[1300], plain[1300];
                size_t len = make_rtp(buf, seq, ssrc, seq % 2 ? 160 : 1176);
                memcpy(plain, buf, len);
                size_t n = len;
                assert_int_equal(tf_srtp_protect_rtp(tx, buf, &n, sizeof(buf)), 0);
                assert_int_equal(n, len + tf_srtp_rtp_overhead(tx));
                assert_memory_not_equal(buf + 24, plain + 24, len - 24); /* encrypted */
                assert_int_equal(tf_srtp_unprotect_rtp(rx, buf, &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(buf, plain, len);
            }
            uint8_t buf[128], plain[128];
            size_t len = make_rtcp(buf, ssrc), n = len;
            memcpy(plain, buf, len);
            assert_int_equal(tf_srtp_protect_rtcp(tx, buf, &n, sizeof(buf)), 0);
            assert_int_equal(n, len + tf_srtp_rtcp_overhead(tx));
            assert_int_equal(tf_srtp_unprotect_rtcp(rx, buf, &n), 0);
            assert_int_equal(n, len);
            assert_memory_equal(buf, plain, len);
        }
    }
    /* A side cannot read its own packets: the two directions have different keys. */
    uint8_t buf[256];
    size_t n = make_rtp(buf, 7, 55, 100);
    assert_int_equal(tf_srtp_protect_rtp(p.server, buf, &n, sizeof(buf)), 0);
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, buf, &n), -EBADMSG);

    tf_srtp_stats_t st;
    tf_srtp_get_stats(p.client, &st);
    assert_int_equal(st.rtp_protected, 3 * 16);
    assert_int_equal(st.rtp_unprotected, 3 * 16);
    assert_int_equal(st.rtcp_protected, 3);
    assert_int_equal(st.rtcp_unprotected, 3);
    free_pair(&p);
}

static void test_round_trip_cm(void **state)
{
    (void)state;
    round_trip(TF_SRTP_AES128_CM_SHA1_80);
}

static void test_round_trip_gcm(void **state)
{
    (void)state;
    round_trip(TF_SRTP_AEAD_AES_128_GCM);
}

static void tamper(tf_srtp_profile_t profile)
{
    pair_t p;
    make_pair(&p, profile, NULL);
    /* Flip one bit in the header, the payload, then the tag: all must fail authentication. */
    size_t where[] = {1, 40, 0 /* tag: set below */};
    for (int i = 0; i < 3; i++) {
        uint8_t buf[256];
        size_t n = make_rtp(buf, (uint16_t)(100 + i), 77, 100);
        assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), 0);
        buf[i == 2 ? n - 1 : where[i]] ^= 0x04;
        assert_int_equal(tf_srtp_unprotect_rtp(p.server, buf, &n), -EBADMSG);
    }
    uint8_t buf[128];
    size_t n = make_rtcp(buf, 77);
    assert_int_equal(tf_srtp_protect_rtcp(p.client, buf, &n, sizeof(buf)), 0);
    buf[12] ^= 0x80;
    assert_int_equal(tf_srtp_unprotect_rtcp(p.server, buf, &n), -EBADMSG);

    /* The genuine packet still goes through after the forgeries. */
    n = make_rtp(buf, 100, 77, 60);
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), 0);
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, buf, &n), 0);

    tf_srtp_stats_t st;
    tf_srtp_get_stats(p.server, &st);
    assert_int_equal(st.auth_failed, 4);
    assert_int_equal(st.rtp_unprotected, 1);
    free_pair(&p);
}

static void test_tampered_cm(void **state)
{
    (void)state;
    tamper(TF_SRTP_AES128_CM_SHA1_80);
}

static void test_tampered_gcm(void **state)
{
    (void)state;
    tamper(TF_SRTP_AEAD_AES_128_GCM);
}

static void replay(tf_srtp_profile_t profile)
{
    pair_t p;
    make_pair(&p, profile, NULL);
    uint8_t pkt[256], copy[256];
    size_t n = make_rtp(pkt, 500, 9, 80);
    assert_int_equal(tf_srtp_protect_rtp(p.client, pkt, &n, sizeof(pkt)), 0);
    memcpy(copy, pkt, n);
    size_t n2 = n;
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, pkt, &n), 0);
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, copy, &n2), -EALREADY);

    uint8_t rtcp[128], rtcp_copy[128];
    n = make_rtcp(rtcp, 9);
    assert_int_equal(tf_srtp_protect_rtcp(p.client, rtcp, &n, sizeof(rtcp)), 0);
    memcpy(rtcp_copy, rtcp, n);
    n2 = n;
    assert_int_equal(tf_srtp_unprotect_rtcp(p.server, rtcp, &n), 0);
    assert_int_equal(tf_srtp_unprotect_rtcp(p.server, rtcp_copy, &n2), -EALREADY);

    tf_srtp_stats_t st;
    tf_srtp_get_stats(p.server, &st);
    assert_int_equal(st.replayed, 2);
    assert_int_equal(st.auth_failed, 0);
    free_pair(&p);
}

static void test_replay_cm(void **state)
{
    (void)state;
    replay(TF_SRTP_AES128_CM_SHA1_80);
}

static void test_replay_gcm(void **state)
{
    (void)state;
    replay(TF_SRTP_AEAD_AES_128_GCM);
}

/* Out of order inside the 1024-packet window is fine; older than it is refused. */
static void test_replay_window(void **state)
{
    (void)state;
    pair_t p;
    make_pair(&p, TF_SRTP_AEAD_AES_128_GCM, NULL);
    uint8_t late_in[256], late_out[256], buf[256];
    size_t n_in = 0, n_out = 0;
    for (uint16_t seq = 1; seq <= 2000; seq++) {
        size_t n = make_rtp(buf, seq, 4242, 20);
        assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), 0);
        if (seq == 900)
            memcpy(late_out, buf, n_out = n);
        else if (seq == 1000)
            memcpy(late_in, buf, n_in = n);
        else if (seq == 1 || seq == 2000)
            assert_int_equal(tf_srtp_unprotect_rtp(p.server, buf, &n), 0);
    }
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, late_in, &n_in), 0);           /* 1000 back */
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, late_out, &n_out), -EALREADY); /* 1100 */
    free_pair(&p);

    tf_srtp_config_t small = {.replay_window = 64};
    make_pair(&p, TF_SRTP_AEAD_AES_128_GCM, &small);
    for (uint16_t seq = 1; seq <= 100; seq++) {
        size_t n = make_rtp(buf, seq, 4242, 20);
        assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), 0);
        if (seq == 30)
            memcpy(late_out, buf, n_out = n);
        else if (seq == 100)
            assert_int_equal(tf_srtp_unprotect_rtp(p.server, buf, &n), 0);
    }
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, late_out, &n_out), -EALREADY);
    free_pair(&p);
}

/* A NACKed packet resent on the same SSRC and sequence number: allowed to go out again (and
 * identical), while the receiver, having seen it, counts it as a replay. */
static void test_repeat_tx(void **state)
{
    (void)state;
    pair_t p;
    make_pair(&p, TF_SRTP_AES128_CM_SHA1_80, NULL);
    uint8_t a[256], b[256];
    size_t na = make_rtp(a, 321, 12, 90), nb = make_rtp(b, 321, 12, 90);
    assert_int_equal(tf_srtp_protect_rtp(p.server, a, &na, sizeof(a)), 0);
    assert_int_equal(tf_srtp_protect_rtp(p.server, b, &nb, sizeof(b)), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    assert_int_equal(tf_srtp_unprotect_rtp(p.client, a, &na), 0);
    assert_int_equal(tf_srtp_unprotect_rtp(p.client, b, &nb), -EALREADY);
    free_pair(&p);
}

static void no_room(tf_srtp_profile_t profile)
{
    pair_t p;
    make_pair(&p, profile, NULL);
    uint8_t buf[400], copy[400];
    size_t len = make_rtp(buf, 1, 3, 100);
    size_t over = tf_srtp_rtp_overhead(p.client);
    memcpy(copy, buf, sizeof(buf));
    size_t n = len;
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, len + over - 1), -ENOBUFS);
    assert_int_equal(n, len);
    assert_memory_equal(buf, copy, sizeof(buf));
    /* Exactly enough room, and the bytes past the capacity stay untouched. */
    memset(buf + len, 0xEE, sizeof(buf) - len);
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, len + over), 0);
    assert_int_equal(n, len + over);
    for (size_t i = len + over; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xEE);

    len = make_rtcp(buf, 3);
    over = tf_srtp_rtcp_overhead(p.client);
    n = len;
    assert_int_equal(tf_srtp_protect_rtcp(p.client, buf, &n, len + over - 1), -ENOBUFS);
    memset(buf + len, 0xEE, sizeof(buf) - len);
    assert_int_equal(tf_srtp_protect_rtcp(p.client, buf, &n, len + over), 0);
    for (size_t i = len + over; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xEE);
    assert_int_equal(tf_srtp_unprotect_rtcp(p.server, buf, &n), 0);

    tf_srtp_stats_t st;
    tf_srtp_get_stats(p.client, &st);
    assert_int_equal(st.no_room, 2);
    free_pair(&p);
}

static void test_no_room_cm(void **state)
{
    (void)state;
    no_room(TF_SRTP_AES128_CM_SHA1_80);
}

static void test_no_room_gcm(void **state)
{
    (void)state;
    no_room(TF_SRTP_AEAD_AES_128_GCM);
}

static void test_malformed(void **state)
{
    (void)state;
    pair_t p;
    make_pair(&p, TF_SRTP_AES128_CM_SHA1_80, NULL);
    uint8_t buf[256];
    size_t n = 11;
    memset(buf, 0, sizeof(buf));
    buf[0] = 0x80;
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), -EPROTO);
    n = 40;
    buf[0] = 0x40; /* version 1 */
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), -EPROTO);
    buf[0] = 0x8F; /* 15 CSRCs do not fit in 40 bytes */
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), -EPROTO);
    buf[0] = 0x90; /* an extension claiming 255 words */
    buf[14] = 0, buf[15] = 255;
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, sizeof(buf)), -EPROTO);
    n = 7;
    buf[0] = 0x80;
    assert_int_equal(tf_srtp_protect_rtcp(p.client, buf, &n, sizeof(buf)), -EPROTO);
    /* Too short to carry a tag. */
    n = 12 + 9;
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, buf, &n), -EPROTO);
    n = 8 + 13;
    assert_int_equal(tf_srtp_unprotect_rtcp(p.server, buf, &n), -EPROTO);
    n = 20;
    assert_int_equal(tf_srtp_protect_rtp(p.client, buf, &n, 10), -EINVAL); /* len > cap */
    assert_int_equal(tf_srtp_protect_rtp(NULL, buf, &n, sizeof(buf)), -EINVAL);
    assert_int_equal(tf_srtp_unprotect_rtp(p.server, NULL, &n), -EINVAL);

    tf_srtp_stats_t st;
    tf_srtp_get_stats(p.client, &st);
    assert_int_equal(st.malformed, 5);
    tf_srtp_get_stats(p.server, &st);
    assert_int_equal(st.malformed, 2);
    free_pair(&p);
}

static void test_create_errors(void **state)
{
    (void)state;
    tf_srtp_t *s = (tf_srtp_t *)&s;
    tf_srtp_keys_t k = keys_local_only(TF_SRTP_AES128_CM_SHA1_80, B3_MASTER_KEY, B3_MASTER_SALT);
    assert_int_equal(tf_srtp_create(&s, NULL, NULL), -EINVAL);
    assert_null(s);
    assert_int_equal(tf_srtp_create(NULL, &k, NULL), -EINVAL);
    k.salt_len = 12;
    assert_int_equal(tf_srtp_create(&s, &k, NULL), -EINVAL);
    k.salt_len = 14;
    k.profile = (tf_srtp_profile_t)0x0008; /* AES-256-GCM: not offered */
    assert_int_equal(tf_srtp_create(&s, &k, NULL), -ENOTSUP);
    k.profile = TF_SRTP_AES128_CM_SHA1_80;
    tf_srtp_config_t cfg = {.replay_window = 63};
    assert_int_equal(tf_srtp_create(&s, &k, &cfg), -EINVAL);
    cfg.replay_window = 32768;
    assert_int_equal(tf_srtp_create(&s, &k, &cfg), -EINVAL);
    cfg.replay_window = 32767;
    assert_int_equal(tf_srtp_create(&s, &k, &cfg), 0);
    tf_srtp_destroy(&s);
    tf_srtp_destroy(&s);
    tf_srtp_destroy(NULL);
    assert_int_equal(tf_srtp_rtp_overhead(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3711_b2_aes_cm_keystream),
        cmocka_unit_test(test_rfc3711_b3_key_derivation),
        cmocka_unit_test(test_known_answer_cm_rtp),
        cmocka_unit_test(test_known_answer_cm_rtcp),
        cmocka_unit_test(test_known_answer_gcm_rtp),
        cmocka_unit_test(test_known_answer_gcm_rtcp),
        cmocka_unit_test(test_keys_from_material),
        cmocka_unit_test(test_round_trip_cm),
        cmocka_unit_test(test_round_trip_gcm),
        cmocka_unit_test(test_tampered_cm),
        cmocka_unit_test(test_tampered_gcm),
        cmocka_unit_test(test_replay_cm),
        cmocka_unit_test(test_replay_gcm),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_repeat_tx),
        cmocka_unit_test(test_no_room_cm),
        cmocka_unit_test(test_no_room_gcm),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_create_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
