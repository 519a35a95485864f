/* auth_ldap.h — teacher login against the school's LDAP directory (OpenLDAP's libldap).
 * Blocking network calls: run tf_ldap_login() on a worker thread (uv_queue_work), never on the
 * loop.
 *
 * Configuration (server/config.h, docs/config.md): ldap-uri (ldaps://... or ldap://... with
 * ldap-starttls = on; plain ldap:// only with ldap-insecure = on, for tests), ldap-base-dn,
 * either ldap-bind-dn-template ("uid=%s,ou=people,dc=school,dc=de": %s is the local part of the
 * e-mail) or search-then-bind (ldap-search-dn + ldap-search-password-file; anonymous search when
 * ldap-search-dn is empty), ldap-filter (default "(mail=%s)", %s is the escaped e-mail; add
 * conditions to exclude disabled accounts), ldap-mail-attr (default mail), ldap-name-attr
 * (default cn), ldap-ca-file, ldap-timeout-ms. */
#ifndef TF_AUTH_LDAP_H
#define TF_AUTH_LDAP_H

#include <stddef.h>

#include "server/auth.h"
#include "server/config.h"

/* Checks email + password against the directory: binds as the user (simple bind, over LDAPS or
 * StartTLS), then looks the user up by ldap-filter under ldap-base-dn while bound as the user.
 * Returns 0 with *out filled (email from ldap-mail-attr, name from ldap-name-attr);
 * -EACCES: wrong password, no such user, or the account does not match ldap-filter (disabled);
 * -EHOSTUNREACH: the directory cannot be reached; -EIO: TLS or protocol failure;
 * -EINVAL: LDAP not configured / bad arguments. err (may be NULL) gets a reason for the log that
 * never contains the password. Thread-safe: every call opens its own connection. */
int tf_ldap_login(const tf_config_t *cfg, const char *email, const char *password,
                  tf_identity_t *out, char *err, size_t errlen);

#endif
