/* auth_oidc.c — OpenID Connect ID-token verification: JWKS import and JWS signature checks with
 * cjose, claim checks (OpenID Connect Core 1.0 section 3.2.2.11 / 3.1.3.7) with jansson.
 * No clock, no network, no key fetching: the caller passes the time and the JWKS text. */
#include "server/auth_oidc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "server/auth_oidc_internal.h"

#define TF_OIDC_MAX_KEYS 32
#define TF_OIDC_MAX_TOKEN 16384

typedef struct oidc_key {
    cjose_jwk_t *jwk;
    char kid[128]; /* "" when the JWK has none */
    int es256;     /* 1: P-256 EC key (ES256), 0: RSA (RS256) */
} oidc_key_t;

struct tf_oidc {
    char issuer[512];
    char audience[256];
    oidc_key_t keys[TF_OIDC_MAX_KEYS];
    int nkeys;
};

/* base64url without padding (RFC 7515 section 2): only the URL-safe alphabet, and a length a
 * decoder can end on. cjose's decoder assert()s on other input (Debian builds it with
 * assertions), so nothing unchecked from the network or a file may reach it. */
static int b64url_ok(const char *s, size_t n)
{
    if (n % 4 == 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -EACCES;
}

/* Imports one JWK object from the JWKS; skips (returns 0 without adding) keys that are not
 * signature keys we accept: "use" other than "sig", "alg" other than RS256/ES256, RSA below
 * 2048 bits, EC curves other than P-256, symmetric keys. */
static int add_key(tf_oidc_t *o, json_t *k, char *err, size_t errlen)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const char *alg = json_string_value(json_object_get(k, "alg"));
    const char *kid = json_string_value(json_object_get(k, "kid"));
    if (!kty || (use && strcmp(use, "sig") != 0))
        return 0;
    int es256;
    if (!strcmp(kty, "RSA"))
        es256 = 0;
    else if (!strcmp(kty, "EC"))
        es256 = 1;
    else
        return 0; /* "oct" and anything else: never a key for ID tokens here */
    if (alg && strcmp(alg, es256 ? "ES256" : "RS256") != 0)
        return 0;
    static const char *const b64_members[] = {"n", "e", "x", "y", "d", "p", "q", "dp", "dq", "qi"};
    for (size_t i = 0; i < sizeof(b64_members) / sizeof(b64_members[0]); i++) {
        json_t *v = json_object_get(k, b64_members[i]);
        if (v && (!json_is_string(v) || !b64url_ok(json_string_value(v), json_string_length(v)))) {
            snprintf(err, errlen, "JWKS: key %s: \"%s\" is not base64url", kid ? kid : "(no kid)",
                     b64_members[i]);
            return -EINVAL;
        }
    }
    if (o->nkeys == TF_OIDC_MAX_KEYS) {
        snprintf(err, errlen, "JWKS: more than %d signing keys", TF_OIDC_MAX_KEYS);
        return -EINVAL;
    }
    if (kid && strlen(kid) >= sizeof(o->keys[0].kid)) {
        snprintf(err, errlen, "JWKS: key id too long");
        return -EINVAL;
    }
    char *text = json_dumps(k, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    cjose_err cerr;
    cjose_jwk_t *jwk = cjose_jwk_import(text, strlen(text), &cerr);
    free(text);
    if (!jwk) {
        snprintf(err, errlen, "JWKS: key %s: %s", kid ? kid : "(no kid)", cerr.message);
        return -EINVAL;
    }
    int ok = 1;
    if (es256)
        ok = cjose_jwk_EC_get_curve(jwk, &cerr) == CJOSE_JWK_EC_P_256;
    else
        ok = cjose_jwk_get_keysize(jwk, &cerr) >= 2048;
    if (!ok) {
        cjose_jwk_release(jwk);
        return 0;
    }
    oidc_key_t *key = &o->keys[o->nkeys++];
    key->jwk = jwk;
    key->es256 = es256;
    snprintf(key->kid, sizeof(key->kid), "%s", kid ? kid : "");
    return 0;
}

int tf_oidc_create(tf_oidc_t **out, const char *issuer, const char *audience, const char *jwks_json,
                   char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    *out = NULL;
    if (!issuer || !*issuer || !audience || !*audience || !jwks_json) {
        snprintf(err, errlen, "OIDC: issuer, client id and JWKS are required");
        return -EINVAL;
    }
    tf_oidc_t *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    int rc = -EINVAL;
    if (strlen(issuer) >= sizeof(o->issuer) || strlen(audience) >= sizeof(o->audience)) {
        snprintf(err, errlen, "OIDC: issuer or client id too long");
        goto err;
    }
    snprintf(o->issuer, sizeof(o->issuer), "%s", issuer);
    snprintf(o->audience, sizeof(o->audience), "%s", audience);

    json_error_t jerr;
    json_t *root = json_loads(jwks_json, JSON_REJECT_DUPLICATES, &jerr);
    json_t *keys = root ? json_object_get(root, "keys") : NULL;
    if (!json_is_array(keys)) {
        snprintf(err, errlen, "JWKS: %s", root ? "no \"keys\" array" : jerr.text);
        json_decref(root);
        goto err;
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (json_is_object(k) && (rc = add_key(o, k, err, errlen)) < 0) {
            json_decref(root);
            goto err;
        }
    }
    json_decref(root);
    if (o->nkeys == 0) {
        snprintf(err, errlen, "JWKS: no RS256 (RSA >= 2048 bit) or ES256 (P-256) signing key");
        rc = -EINVAL;
        goto err;
    }
    *out = o;
    return 0;
err:
    tf_oidc_destroy(&o);
    return rc;
}

void tf_oidc_destroy(tf_oidc_t **po)
{
    tf_oidc_t *o = po ? *po : NULL;
    if (!o)
        return;
    for (int i = 0; i < o->nkeys; i++)
        cjose_jwk_release(o->keys[i].jwk);
    free(o);
    *po = NULL;
}

/* "aud" is a string or an array of strings (OIDC Core 3.1.3.7 items 3-5): it MUST contain the
 * client id, and with several audiences "azp" MUST be present and equal the client id. */
static int check_audience(const tf_oidc_t *o, json_t *claims)
{
    json_t *aud = json_object_get(claims, "aud");
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), o->audience) == 0;
    if (!json_is_array(aud) || json_array_size(aud) == 0)
        return 0;
    int found = 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a)
    {
        if (!json_is_string(a))
            return 0;
        if (!strcmp(json_string_value(a), o->audience))
            found = 1;
    }
    if (!found)
        return 0;
    if (json_array_size(aud) > 1) {
        const char *azp = json_string_value(json_object_get(claims, "azp"));
        return azp && !strcmp(azp, o->audience);
    }
    return 1;
}

/* A NumericDate claim: seconds since the epoch, integer or real. 0 and *v set, or -1. */
static int numeric_date(json_t *claims, const char *name, int64_t *v)
{
    json_t *j = json_object_get(claims, name);
    if (json_is_integer(j)) {
        *v = (int64_t)json_integer_value(j);
        return 0;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (!(d > -9e15 && d < 9e15))
            return -1;
        *v = (int64_t)d;
        return 0;
    }
    return -1;
}

/* One '@' with something on both sides, no spaces or control characters (the address ends up
 * in the store, in HTTP replies and possibly in logs), and short enough for tf_identity_t. */
static int usable_email(const char *email, size_t cap)
{
    if (!email || strlen(email) >= cap)
        return 0;
    const char *at = strchr(email, '@');
    if (!at || at == email || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)email; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int tf__oidc_check_claims(const tf_oidc_t *o, const char *payload, size_t len, const char *nonce,
                          int64_t now, tf_identity_t *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *c = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -EACCES;
    if (!json_is_object(c)) {
        rc = fail(err, errlen, "claims are not a JSON object");
        goto out;
    }
    const char *iss = json_string_value(json_object_get(c, "iss"));
    if (!iss || strcmp(iss, o->issuer) != 0) {
        rc = fail(err, errlen, "wrong issuer");
        goto out;
    }
    if (!check_audience(o, c)) {
        rc = fail(err, errlen, "wrong audience");
        goto out;
    }
    int64_t exp, iat, nbf;
    if (numeric_date(c, "exp", &exp) < 0 || numeric_date(c, "iat", &iat) < 0) {
        rc = fail(err, errlen, "exp or iat missing");
        goto out;
    }
    if (now > exp + TF_OIDC_LEEWAY_S) {
        rc = fail(err, errlen, "token expired");
        goto out;
    }
    if (iat > now + TF_OIDC_LEEWAY_S) {
        rc = fail(err, errlen, "token issued in the future");
        goto out;
    }
    if (json_object_get(c, "nbf") &&
        (numeric_date(c, "nbf", &nbf) < 0 || nbf > now + TF_OIDC_LEEWAY_S)) {
        rc = fail(err, errlen, "token not yet valid");
        goto out;
    }
    const char *tn = json_string_value(json_object_get(c, "nonce"));
    if (!nonce || !*nonce || !tn || strcmp(tn, nonce) != 0) {
        rc = fail(err, errlen, "wrong nonce");
        goto out;
    }
    const char *email = json_string_value(json_object_get(c, "email"));
    json_t *verified = json_object_get(c, "email_verified");
    if (!usable_email(email, sizeof(out->email))) {
        rc = fail(err, errlen, "no usable email claim");
        goto out;
    }
    if (verified && !json_is_true(verified)) {
        rc = fail(err, errlen, "email not verified by the provider");
        goto out;
    }
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; email[i]; i++)
        out->email[i] = (char)tolower((unsigned char)email[i]);
    const char *name = json_string_value(json_object_get(c, "name"));
    if (name)
        snprintf(out->name, sizeof(out->name), "%s", name);
    rc = 0;
out:
    json_decref(c);
    return rc;
}

int tf_oidc_verify(const tf_oidc_t *o, const char *id_token, const char *nonce, int64_t now,
                   tf_identity_t *out, char *err, size_t errlen)
{
    if (!o || !id_token || !out)
        return fail(err, errlen, "bad arguments");
    size_t len = strnlen(id_token, TF_OIDC_MAX_TOKEN + 1);
    if (len > TF_OIDC_MAX_TOKEN)
        return fail(err, errlen, "token too long");
    /* A compact JWS has exactly three parts; a compact JWE (five) or anything else is refused. */
    const char *d1 = strchr(id_token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return fail(err, errlen, "not a compact JWS");
    if (d1 == id_token || d2 == d1 + 1 || !d2[1] || !b64url_ok(id_token, (size_t)(d1 - id_token)) ||
        !b64url_ok(d1 + 1, (size_t)(d2 - d1 - 1)) ||
        !b64url_ok(d2 + 1, len - (size_t)(d2 + 1 - id_token)))
        return fail(err, errlen, "malformed token");

    cjose_err cerr;
    cjose_jws_t *jws = cjose_jws_import(id_token, len, &cerr);
    if (!jws)
        return fail(err, errlen, "malformed token");
    int rc = -EACCES;
    cjose_header_t *hdr = cjose_jws_get_protected(jws);
    const char *alg = hdr ? cjose_header_get(hdr, "alg", &cerr) : NULL;
    const char *kid = hdr ? cjose_header_get(hdr, "kid", &cerr) : NULL;
    int es256;
    /* Only the two asymmetric algorithms: "none", HS256 (a public key used as an HMAC secret)
     * and everything else are refused before any key is touched. */
    if (alg && !strcmp(alg, "RS256"))
        es256 = 0;
    else if (alg && !strcmp(alg, "ES256"))
        es256 = 1;
    else {
        rc = fail(err, errlen, "algorithm not allowed (want RS256 or ES256)");
        goto out;
    }
    char *crit = cjose_header_get_raw(hdr, "crit", &cerr);
    if (crit) {
        free(crit);
        rc = fail(err, errlen, "critical header extensions are not supported");
        goto out;
    }
    int verified = 0, candidates = 0;
    for (int i = 0; i < o->nkeys && !verified; i++) {
        const oidc_key_t *k = &o->keys[i];
        if (k->es256 != es256 || (kid && strcmp(kid, k->kid) != 0))
            continue;
        candidates++;
        verified = cjose_jws_verify(jws, k->jwk, &cerr);
    }
    if (!candidates) {
        rc = fail(err, errlen, "no key in the JWKS matches the token's kid and alg");
        goto out;
    }
    if (!verified) {
        rc = fail(err, errlen, "bad signature");
        goto out;
    }
    uint8_t *payload = NULL;
    size_t plen = 0;
    if (!cjose_jws_get_plaintext(jws, &payload, &plen, &cerr)) {
        rc = fail(err, errlen, "no payload");
        goto out;
    }
    rc = tf__oidc_check_claims(o, (const char *)payload, plen, nonce, now, out, err, errlen);
out:
    cjose_jws_release(jws);
    return rc;
}
