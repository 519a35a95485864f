/* auth_oidc_internal.h — internals of auth_oidc.c exposed for unit tests and the fuzzer only. */
#ifndef TF_AUTH_OIDC_INTERNAL_H
#define TF_AUTH_OIDC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "server/auth_oidc.h"

/* Checks the (already signature-verified) claims JSON: iss, aud/azp, exp/iat/nbf, nonce, email.
 * 0 with *out filled, or -EACCES with err filled. */
int tf__oidc_check_claims(const tf_oidc_t *o, const char *payload, size_t len, const char *nonce,
                          int64_t now, tf_identity_t *out, char *err, size_t errlen);

#endif
