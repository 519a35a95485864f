/* test_auth_oidc.c — auth_oidc.c against ID tokens minted here with keys generated per run
 * (RSA 2048 and P-256): valid tokens pass, every forgery and every wrong claim is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/auth_oidc.h"
#include "server/auth_oidc_internal.h"

#define NOW 1700000000LL
#define ISS "https://idp.schule.example"
#define AUD "tafel-client"
#define NONCE "n-0S6_WzA2Mj"

typedef struct keys {
    cjose_jwk_t *rsa, *ec, *rsa_other;
    char *jwks;
    tf_oidc_t *oidc;
} keys_t;

static keys_t K;

static char *public_jwk(cjose_jwk_t *k)
{
    cjose_err e;
    char *s = cjose_jwk_to_json(k, false, &e);
    assert_non_null(s);
    return s;
}

static int setup_all(void **state)
{
    cjose_err e;
    static const uint8_t e65537[] = {1, 0, 1};
    K.rsa = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &e);
    K.rsa_other = cjose_jwk_create_RSA_random(2048, e65537, sizeof(e65537), &e);
    K.ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
    if (!K.rsa || !K.rsa_other || !K.ec)
        return -1;
    cjose_jwk_set_kid(K.rsa, "rsa1", 4, &e);
    cjose_jwk_set_kid(K.rsa_other, "rsa1", 4, &e); /* same kid, different key: a forger */
    cjose_jwk_set_kid(K.ec, "ec1", 3, &e);
    char *r = public_jwk(K.rsa), *c = public_jwk(K.ec);
    /* An HMAC key in the JWKS must be ignored, never used to verify anything. */
    size_t n = strlen(r) + strlen(c) + 200;
    K.jwks = malloc(n);
    snprintf(K.jwks, n,
             "{\"keys\":[%s,%s,{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0"
             "c2VjcmV0c2VjcmV0\"}]}",
             r, c);
    free(r);
    free(c);
    char err[256] = "";
    if (tf_oidc_create(&K.oidc, ISS, AUD, K.jwks, err, sizeof(err)) < 0) {
        fprintf(stderr, "create: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown_all(void **state)
{
    tf_oidc_destroy(&K.oidc);
    assert_null(K.oidc);
    cjose_jwk_release(K.rsa);
    cjose_jwk_release(K.rsa_other);
    cjose_jwk_release(K.ec);
    free(K.jwks);
    return 0;
}

static char *claims(const char *iss, const char *aud, long long iat, long long exp,
                    const char *nonce, const char *extra)
{
    char *s = malloc(1024);
    snprintf(s, 1024,
             "{\"iss\":\"%s\",\"sub\":\"248289761001\",\"aud\":%s,\"iat\":%lld,\"exp\":%lld,"
             "\"nonce\":\"%s\",\"email\":\"Anna.Lehrerin@Schule.example\",\"email_verified\":true,"
             "\"name\":\"Anna Lehrerin\"%s}",
             iss, aud, iat, exp, nonce, extra ? extra : "");
    return s;
}

static char *std_claims(void)
{
    return claims(ISS, "\"" AUD "\"", NOW - 10, NOW + 300, NONCE, NULL);
}

/* Signs payload with cjose: alg RS256 or ES256, kid as given. Returns a malloc'd compact JWS. */
static char *mint(cjose_jwk_t *key, const char *alg, const char *kid, char *payload)
{
    cjose_err e;
    cjose_header_t *h = cjose_header_new(&e);
    assert_true(cjose_header_set(h, CJOSE_HDR_ALG, alg, &e));
    if (kid)
        assert_true(cjose_header_set(h, CJOSE_HDR_KID, kid, &e));
    cjose_jws_t *jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &e);
    assert_non_null(jws);
    const char *ser = NULL;
    assert_true(cjose_jws_export(jws, &ser, &e));
    char *out = strdup(ser);
    cjose_jws_release(jws);
    cjose_header_release(h);
    free(payload);
    return out;
}

static char *b64u(const void *p, size_t n)
{
    cjose_err e;
    char *s = NULL;
    size_t len = 0;
    assert_true(cjose_base64url_encode(p, n, &s, &len, &e));
    return s;
}

/* Builds header.payload.signature by hand (for alg=none and HS256). */
static char *hand_made(const char *header, const char *payload, const uint8_t *sig, size_t siglen)
{
    char *h = b64u(header, strlen(header)), *p = b64u(payload, strlen(payload));
    char *s = siglen ? b64u(sig, siglen) : strdup("");
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *t = malloc(n);
    snprintf(t, n, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    return t;
}

static int verify(const char *token, const char *nonce, char *err, size_t errlen, tf_identity_t *id)
{
    return tf_oidc_verify(K.oidc, token, nonce, NOW, id, err, errlen);
}

static void expect_refused(char *token, const char *why)
{
    char err[256] = "";
    tf_identity_t id;
    memset(&id, 0, sizeof(id));
    assert_int_equal(verify(token, NONCE, err, sizeof(err), &id), -EACCES);
    if (!strstr(err, why)) {
        fprintf(stderr, "expected '%s', got '%s'\n", why, err);
        fail();
    }
    assert_string_equal(id.email, "");
    free(token);
}

static void test_valid_rs256_and_es256(void **state)
{
    const char *algs[2] = {"RS256", "ES256"};
    cjose_jwk_t *keys[2] = {K.rsa, K.ec};
    const char *kids[2] = {"rsa1", "ec1"};
    for (int i = 0; i < 2; i++) {
        for (int with_kid = 0; with_kid < 2; with_kid++) {
            char *t = mint(keys[i], algs[i], with_kid ? kids[i] : NULL, std_claims());
            char err[256] = "";
            tf_identity_t id;
            assert_int_equal(verify(t, NONCE, err, sizeof(err), &id), 0);
            assert_string_equal(id.email, "anna.lehrerin@schule.example");
            assert_string_equal(id.name, "Anna Lehrerin");
            free(t);
        }
    }
    /* The leeway: expired 30 s ago and issued 30 s in the future are both still fine. */
    char *t =
        mint(K.rsa, "RS256", "rsa1", claims(ISS, "\"" AUD "\"", NOW + 30, NOW - 30, NONCE, NULL));
    tf_identity_t id;
    assert_int_equal(verify(t, NONCE, NULL, 0, &id), 0);
    free(t);
    /* Several audiences with azp naming us. */
    t = mint(K.ec, "ES256", "ec1",
             claims(ISS, "[\"other\",\"" AUD "\"]", NOW, NOW + 60, NONCE, ",\"azp\":\"" AUD "\""));
    assert_int_equal(verify(t, NONCE, NULL, 0, &id), 0);
    free(t);
}

static void test_forged_signatures(void **state)
{
    /* One signature byte changed. */
    char *t = mint(K.rsa, "RS256", "rsa1", std_claims());
    char *sig = strrchr(t, '.') + 1;
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    expect_refused(t, "bad signature");
    t = mint(K.ec, "ES256", "ec1", std_claims());
    sig = strrchr(t, '.') + 1;
    sig[5] = sig[5] == 'A' ? 'B' : 'A';
    expect_refused(t, "bad signature");

    /* Claims changed after signing: the payload of one token with the signature of another. */
    char *a = mint(K.rsa, "RS256", "rsa1", std_claims());
    char *b = mint(K.rsa, "RS256", "rsa1",
                   claims(ISS, "\"" AUD "\"", NOW, NOW + 99999, NONCE, ",\"x\":1"));
    char *a_sig = strrchr(a, '.');
    char *b_sig = strrchr(b, '.');
    size_t head = (size_t)(b_sig - b);
    char *mixed = malloc(head + strlen(a_sig) + 1);
    memcpy(mixed, b, head);
    strcpy(mixed + head, a_sig);
    free(a);
    free(b);
    expect_refused(mixed, "bad signature");

    /* Signed by another key that claims the same kid. */
    expect_refused(mint(K.rsa_other, "RS256", "rsa1", std_claims()), "bad signature");
    /* Signed by an unknown key without kid. */
    expect_refused(mint(K.rsa_other, "RS256", NULL, std_claims()), "bad signature");
}

static void test_wrong_kid(void **state)
{
    expect_refused(mint(K.rsa, "RS256", "rsa2", std_claims()), "kid");
    /* The EC key's kid on an RS256 token: no key of that type carries that kid. */
    expect_refused(mint(K.rsa, "RS256", "ec1", std_claims()), "kid");
}

static void test_alg_none_and_hs256(void **state)
{
    char *p = std_claims();
    expect_refused(hand_made("{\"alg\":\"none\"}", p, NULL, 0), "");
    expect_refused(hand_made("{\"alg\":\"none\",\"kid\":\"rsa1\"}", p, (const uint8_t *)"x", 1),
                   "");

    /* HS256 keyed with the public key's JWK text (the classic key-confusion attack), and with
     * the HMAC key that sits in the JWKS: both refused for the algorithm. */
    char *pub = public_jwk(K.rsa);
    const char *secrets[2] = {pub, "secretsecretsecretsecretsecret"};
    const char *kids[2] = {"rsa1", "hs"};
    for (int i = 0; i < 2; i++) {
        char header[64];
        snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kids[i]);
        char *unsigned_tok = hand_made(header, p, (const uint8_t *)"", 0);
        unsigned_tok[strlen(unsigned_tok) - 1] = '\0'; /* drop the trailing '.' */
        uint8_t mac[32];
        unsigned int maclen = 0;
        HMAC(EVP_sha256(), secrets[i], (int)strlen(secrets[i]), (const uint8_t *)unsigned_tok,
             strlen(unsigned_tok), mac, &maclen);
        free(unsigned_tok);
        expect_refused(hand_made(header, p, mac, maclen), "algorithm");
    }
    free(pub);
    free(p);
}

static void test_time_claims(void **state)
{
    expect_refused(
        mint(K.rsa, "RS256", "rsa1", claims(ISS, "\"" AUD "\"", NOW - 3600, NOW - 61, NONCE, NULL)),
        "expired");
    expect_refused(
        mint(K.ec, "ES256", "ec1",
             claims(ISS, "\"" AUD "\"", NOW - 10, NOW + 300, NONCE, ",\"nbf\":1700000300")),
        "not yet valid");
    expect_refused(
        mint(K.ec, "ES256", "ec1", claims(ISS, "\"" AUD "\"", NOW + 600, NOW + 900, NONCE, NULL)),
        "future");
    /* exp missing altogether. */
    char *p = malloc(256);
    snprintf(p, 256,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"nonce\":\"%s\","
             "\"email\":\"a@b.example\"}",
             ISS, AUD, NOW, NONCE);
    expect_refused(mint(K.rsa, "RS256", "rsa1", p), "exp");
}

static void test_wrong_issuer_audience_nonce(void **state)
{
    expect_refused(mint(K.rsa, "RS256", "rsa1",
                        claims("https://evil.example", "\"" AUD "\"", NOW, NOW + 60, NONCE, NULL)),
                   "issuer");
    expect_refused(
        mint(K.rsa, "RS256", "rsa1", claims(ISS "/", "\"" AUD "\"", NOW, NOW + 60, NONCE, NULL)),
        "issuer");
    expect_refused(
        mint(K.rsa, "RS256", "rsa1", claims(ISS, "\"other-client\"", NOW, NOW + 60, NONCE, NULL)),
        "audience");
    expect_refused(mint(K.rsa, "RS256", "rsa1",
                        claims(ISS, "[\"other\",\"" AUD "\"]", NOW, NOW + 60, NONCE, NULL)),
                   "audience"); /* several audiences but no azp */
    expect_refused(mint(K.ec, "ES256", "ec1",
                        claims(ISS, "\"" AUD "\"", NOW, NOW + 60, "another-nonce", NULL)),
                   "nonce");
    /* A valid token checked without the session's nonce is refused too. */
    char *t = mint(K.ec, "ES256", "ec1", std_claims());
    tf_identity_t id;
    char err[128];
    assert_int_equal(tf_oidc_verify(K.oidc, t, NULL, NOW, &id, err, sizeof(err)), -EACCES);
    assert_int_equal(tf_oidc_verify(K.oidc, t, "", NOW, &id, err, sizeof(err)), -EACCES);
    free(t);
    /* The provider says the e-mail is not verified. */
    char buf[320];
    int n = snprintf(buf, sizeof(buf),
                     "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"nonce\":\"%s\","
                     "\"email\":\"a@b.example\",\"email_verified\":false}",
                     ISS, AUD, NOW, NOW + 10, NONCE);
    assert_int_equal(
        tf__oidc_check_claims(K.oidc, buf, (size_t)n, NONCE, NOW, &id, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "not verified"));
    /* Duplicate claims are refused as malformed rather than resolved either way. */
    n = snprintf(buf, sizeof(buf),
                 "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"nonce\":\"%s\","
                 "\"email\":\"a@b.example\",\"email\":\"c@d.example\"}",
                 ISS, AUD, NOW, NOW + 10, NONCE);
    assert_int_equal(tf__oidc_check_claims(K.oidc, buf, (size_t)n, NONCE, NOW, &id, NULL, 0),
                     -EACCES);
    /* The same without the duplicate passes: the checks above fail for their stated reason. */
    n = snprintf(buf, sizeof(buf),
                 "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"nonce\":\"%s\","
                 "\"email\":\"a@b.example\"}",
                 ISS, AUD, NOW, NOW + 10, NONCE);
    assert_int_equal(tf__oidc_check_claims(K.oidc, buf, (size_t)n, NONCE, NOW, &id, NULL, 0), 0);
    assert_string_equal(id.email, "a@b.example");
}

static void test_malformed(void **state)
{
    /* Among them inputs that made cjose's base64 decoder assert() (found by oidc_fuzzer): they
     * must be refused before they reach it. */
    const char *bad[] = {"",
                         "abc",
                         "a.b",
                         "a.b.c",
                         "a.b.c.d.e",
                         "...",
                         "eyJhbGciOiJSUzI1NiJ9..",
                         "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
                         "e=bhyGJiO5blJui2In0.eyGFtcGxlIn0.",
                         "eyJhbGciOiJSUzI1NiJ9.e30.AAAAA",
                         "eyJhbGciOiJSUzI1NiJ9.e3+/.AAAA",
                         "eyJhbGciOiJSUzI1NiJ9=.e30.AAAA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tf_identity_t id;
        char err[128];
        assert_int_equal(tf_oidc_verify(K.oidc, bad[i], NONCE, NOW, &id, err, sizeof(err)),
                         -EACCES);
    }
    /* Claims that are not an object, or carry no e-mail. */
    tf_identity_t id;
    assert_int_equal(tf__oidc_check_claims(K.oidc, "[1]", 3, NONCE, NOW, &id, NULL, 0), -EACCES);
    char buf[256];
    int n = snprintf(buf, sizeof(buf),
                     "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld,"
                     "\"nonce\":\"%s\"}",
                     ISS, AUD, NOW, NOW + 10, NONCE);
    assert_int_equal(tf__oidc_check_claims(K.oidc, buf, (size_t)n, NONCE, NOW, &id, NULL, 0),
                     -EACCES);
    /* E-mail claims that are not one usable address. */
    const char *emails[] = {"no-at.example",      "@schule.example", "a@", "a@b@c", "a b@c.example",
                            "a\\u0001@c.example", "a\\n@c.example"};
    for (size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
        n = snprintf(buf, sizeof(buf),
                     "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%lld,"
                     "\"exp\":%lld,\"nonce\":\"%s\",\"email\":\"%s\"}",
                     ISS, AUD, NOW, NOW + 10, NONCE, emails[i]);
        assert_int_equal(tf__oidc_check_claims(K.oidc, buf, (size_t)n, NONCE, NOW, &id, NULL, 0),
                         -EACCES);
    }
}

static void test_create_refuses_bad_jwks(void **state)
{
    tf_oidc_t *o = NULL;
    char err[256];
    assert_int_equal(tf_oidc_create(&o, ISS, AUD, "not json", err, sizeof(err)), -EINVAL);
    assert_int_equal(tf_oidc_create(&o, ISS, AUD, "{\"keys\":[]}", err, sizeof(err)), -EINVAL);
    assert_int_equal(tf_oidc_create(&o, ISS, AUD,
                                    "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", err,
                                    sizeof(err)),
                     -EINVAL);
    assert_int_equal(tf_oidc_create(&o, "", AUD, K.jwks, err, sizeof(err)), -EINVAL);
    /* A damaged key in the file is an error at start-up, not an assert() inside cjose. */
    assert_int_equal(tf_oidc_create(&o, ISS, AUD,
                                    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"A\","
                                    "\"y\":\"AAAA\"}]}",
                                    err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "base64url"));
    assert_null(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_rs256_and_es256),
        cmocka_unit_test(test_forged_signatures),
        cmocka_unit_test(test_wrong_kid),
        cmocka_unit_test(test_alg_none_and_hs256),
        cmocka_unit_test(test_time_claims),
        cmocka_unit_test(test_wrong_issuer_audience_nonce),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_create_refuses_bad_jwks),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
