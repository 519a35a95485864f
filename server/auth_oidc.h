/* auth_oidc.h — OpenID Connect ID-token verification (implicit flow, response_mode=form_post):
 * compact JWS signed RS256 or ES256, checked against a JWKS, issuer, audience (client id),
 * exp/iat/nbf with TF_OIDC_LEEWAY_S of clock skew, and the nonce the server put into the
 * authorization request. Sans-IO: no clock (now is passed in), no HTTP (the JWKS is text the
 * caller read from oidc-jwks-file). Uses cjose for JWK/JWS. */
#ifndef TF_AUTH_OIDC_H
#define TF_AUTH_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "server/auth.h"

#define TF_OIDC_LEEWAY_S 60

typedef struct tf_oidc tf_oidc_t;

/* Parses the JWKS (JSON text: {"keys":[...]}); keeps its RSA and P-256 signing keys.
 * 0, or -EINVAL (bad JSON, no usable key) / -ENOMEM with err filled. *out is owned by the caller
 * (tf_oidc_destroy). Thread-safe to verify with one tf_oidc_t from several threads. */
int tf_oidc_create(tf_oidc_t **out, const char *issuer, const char *audience, const char *jwks_json,
                   char *err, size_t errlen);

/* Verifies id_token (compact JWS). now is Unix time in seconds. nonce must equal the token's
 * "nonce" claim (NULL or "" refuses every token). 0 with *out filled from the "email" claim
 * (refused when absent, or when "email_verified" is present and false) and "name";
 * -EACCES with err filled otherwise. */
int tf_oidc_verify(const tf_oidc_t *o, const char *id_token, const char *nonce, int64_t now,
                   tf_identity_t *out, char *err, size_t errlen);

void tf_oidc_destroy(tf_oidc_t **o);

#endif
