/* auth.h — what every identity provider (LDAP, OpenID Connect, local accounts) hands back after a
 * successful login. No I/O, no policy: the session layer decides what a login is allowed to do. */
#ifndef TF_AUTH_H
#define TF_AUTH_H

/* A verified identity. email is lower-cased and always set on success; name may be empty. */
typedef struct tf_identity {
    char email[256];
    char name[256];
} tf_identity_t;

#endif
