/* oidc_fuzzer.c — libFuzzer target for server/auth_oidc.c: the ID-token parser (compact JWS,
 * protected header, JWKS key choice) and the claims checker. Properties, not policy (that is
 * test_auth_oidc.c): nothing crashes or leaks; a token no key here signed is never accepted;
 * signing the input as claims with the fuzzer's own key and verifying the token gives exactly the
 * verdict of checking the claims directly; an accepted identity is a lower-case e-mail.
 *
 * The first input byte picks the mode: even = the rest is an ID token, odd = the rest is a claims
 * object that gets signed (ES256, key "fuzz-ec" below, a test key generated for this file).
 * Seeds in tests/fuzz/corpus/oidc/: token-* (mode 0; token-valid-es256 and token-no-kid are
 * signed with "fuzz-ec" and valid at NOW) and claims-* (mode 1). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "server/auth_oidc.h"
#include "server/auth_oidc_internal.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "oidc_fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NOW 1700000000
#define ISS "https://idp.example"
#define AUD "tafel"
#define NONCE "nonce-1"

static const char ec_private[] =
    "{\"kty\":\"EC\",\"kid\":\"fuzz-ec\",\"crv\":\"P-256\",\"x\":\"v2NSB1N9TPCbn33aDaeMNwCxpB2C"
    "eogr_4YQgifKQsg\",\"y\":\"uS-WF8PBbiZ4dxQSsWLPnR3lynqUHpbagfwH2P8giew\",\"d\":\"Ck0XULMUsN"
    "1ijYKs6GtnF-lYPAA8m5t1tdyVrk7F4Mg\"}";
static const char jwks[] =
    "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"fuzz-ec\",\"crv\":\"P-256\",\"x\":\"v2NSB1N9TPCbn33aD"
    "aeMNwCxpB2Ceogr_4YQgifKQsg\",\"y\":\"uS-WF8PBbiZ4dxQSsWLPnR3lynqUHpbagfwH2P8giew\"},"
    "{\"kty\":\"RSA\",\"kid\":\"fuzz-rsa\",\"e\":\"AQAB\",\"n\":\"6vzCCInPvX0VP4mqfziy2YbiIIabn"
    "oYGDCrlwban0ubAzBnZ21s5zGi9x8PndQhEpddSMZ5vIu2SnASpbPOKlXhyZjzp2oFejFIgODdb8-1dGT4hoSYNeyj"
    "Xx9VUYlcrjNTl9es0-ebWKJLZUvVB4xF9UONfAGwA6tL0mzwZH4y37nYX7ZzohCOVOfPttBEi8-85yb07jaLmRurDY"
    "UfluWomZfm_Ols3UaZ8UT6gJmb098tZKMU2K4DmP0KvU0nVnfeYsVQ73sWlKQZu1LxGoNBTFkgvGSszL9wDkwvPO7_"
    "Ka3TwjbTd5bfOn4FkqtfnvA2G4IM9CU75uqM4he5n0w\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tf_oidc_t *oidc;
static cjose_jwk_t *signer;

static void init(void)
{
    if (oidc)
        return;
    char err[256];
    CHECK(tf_oidc_create(&oidc, ISS, AUD, jwks, err, sizeof(err)) == 0);
    cjose_err e;
    signer = cjose_jwk_import(ec_private, strlen(ec_private), &e);
    CHECK(signer != NULL);
}

static void check_identity(const tf_identity_t *id)
{
    CHECK(id->email[0] && strchr(id->email, '@'));
    for (const unsigned char *p = (const unsigned char *)id->email; *p; p++)
        CHECK(*p == tolower(*p) && *p > 0x20 && *p != 0x7f);
    const char *at = strchr(id->email, '@');
    CHECK(at && at != id->email && at[1] && !strchr(at + 1, '@'));
}

static void sign_and_verify(const uint8_t *claims, size_t len)
{
    tf_identity_t direct, via_token;
    memset(&direct, 0, sizeof(direct));
    memset(&via_token, 0, sizeof(via_token));
    int rc_direct =
        tf__oidc_check_claims(oidc, (const char *)claims, len, NONCE, NOW, &direct, NULL, 0);
    cjose_err e;
    cjose_header_t *h = cjose_header_new(&e);
    CHECK(h && cjose_header_set(h, CJOSE_HDR_ALG, "ES256", &e));
    CHECK(cjose_header_set(h, CJOSE_HDR_KID, "fuzz-ec", &e));
    cjose_jws_t *jws = cjose_jws_sign(signer, h, claims, len, &e);
    CHECK(jws != NULL);
    const char *token = NULL;
    CHECK(cjose_jws_export(jws, &token, &e));
    int rc_token = tf_oidc_verify(oidc, token, NONCE, NOW, &via_token, NULL, 0);
    if (strlen(token) <= 16384) {
        CHECK(rc_token == rc_direct);
        if (rc_direct == 0) {
            check_identity(&direct);
            CHECK(memcmp(&direct, &via_token, sizeof(direct)) == 0);
        }
    } else {
        CHECK(rc_token == -EACCES); /* over the size limit: refused before parsing */
    }
    cjose_jws_release(jws);
    cjose_header_release(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1)
        return 0;
    const uint8_t *rest = data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        if (len <= 4096)
            sign_and_verify(rest, len);
        return 0;
    }
    char *token = malloc(len + 1);
    CHECK(token != NULL);
    memcpy(token, rest, len);
    token[len] = '\0';
    tf_identity_t id;
    memset(&id, 0, sizeof(id));
    char err[256] = "";
    int rc = tf_oidc_verify(oidc, token, NONCE, NOW, &id, err, sizeof(err));
    /* Nobody but this file holds a private key of the JWKS, and this path signs nothing: only
     * a seed minted with "fuzz-ec" (see the corpus) may pass. */
    CHECK(rc == 0 || rc == -EACCES);
    CHECK(rc != 0 || err[0] == '\0');
    if (rc == 0)
        check_identity(&id);
    free(token);
    return 0;
}
