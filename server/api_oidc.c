/* api_oidc.c — teacher login through the school's OpenID Connect provider (implicit flow,
 * response_mode=form_post): /auth/oidc/start sends the browser to the provider with a fresh
 * state and nonce; the provider posts the ID token to /auth/oidc/callback, which verifies it
 * (auth_oidc.h: signature against the configured JWKS, issuer, audience, expiry, nonce) and
 * starts a cookie session. Not here: token cryptography (auth_oidc.c), cookies (websession.c).
 *
 * The callback is the one cross-site request of the login and needs no cookie: the single-use
 * state (256 random bits, 10 minutes) is its CSRF protection, so the Origin check does not apply
 * to it. It answers with a page that moves on to /home.html by a same-origin navigation, on
 * which the SameSite=Strict session cookie is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_internal.h"
#include "server/form.h"
#include "server/log.h"

#define OIDC_STATE_TTL_S 600
#define NONCE_BYTES 16

int tf__api_oidc_start(tf_api_t *api)
{
    const tf_config_t *c = &api->srv->cfg;
    if (!c->oidc_issuer[0])
        return 0;
    if (!c->oidc_client_id[0] || !c->oidc_jwks_file[0] || !c->oidc_authorize_url[0]) {
        tf_log(TF_LOG_ERROR, "oidc-issuer needs oidc-client-id, oidc-jwks-file and "
                             "oidc-authorize-url");
        return -EINVAL;
    }
    FILE *f = fopen(c->oidc_jwks_file, "rb");
    if (!f) {
        tf_log(TF_LOG_ERROR, "cannot read oidc-jwks-file %s: %s", c->oidc_jwks_file,
               strerror(errno));
        return -errno;
    }
    char *jwks = malloc(1 << 20);
    size_t n = jwks ? fread(jwks, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!jwks)
        return -ENOMEM;
    jwks[n] = '\0';
    char err[256] = "";
    int rc = tf_oidc_create(&api->oidc, c->oidc_issuer, c->oidc_client_id, jwks, err, sizeof(err));
    free(jwks);
    if (rc < 0) {
        tf_log(TF_LOG_ERROR, "oidc-jwks-file %s: %s", c->oidc_jwks_file, err);
        return rc;
    }
    const tf_lobby_config_t lc = {.capacity = 1024,
                                  .wait_s = OIDC_STATE_TTL_S,
                                  .token_ttl_s = OIDC_STATE_TTL_S,
                                  .random = tf_server_random};
    if ((rc = tf_lobby_create(&api->oidc_states, &lc)) < 0)
        return rc;
    tf_log(TF_LOG_INFO, "accounts: OpenID Connect login via %s", c->oidc_issuer);
    return 0;
}

int tf__api_teacher_for(tf_api_t *api, const char *email, const char *name, tf_store_teacher_t *t,
                        tf_store_room_t *room)
{
    int rc = tf_store_teacher_find(api->store, email, t);
    if (rc == -ENOENT) {
        char err[256];
        rc = tf_store_teacher_add(api->store, email, name && name[0] ? name : email, tf__api_now(),
                                  t, NULL, err, sizeof(err));
        if (rc == 0)
            tf_log(TF_LOG_INFO, "accounts: first login of a new teacher: room created");
    }
    if (rc < 0)
        return -EIO;
    if (t->disabled)
        return -EACCES;
    return tf_store_room_find_teacher(api->store, t->email, room) < 0 ? -EIO : 0;
}

/* Appends key=percent-encoded(value) to a URL. */
static void add_param(char *url, size_t cap, const char *key, const char *value)
{
    size_t n = strlen(url);
    n += (size_t)snprintf(url + n, n < cap ? cap - n : 0, "%s%s=", strchr(url, '?') ? "&" : "?",
                          key);
    for (const unsigned char *p = (const unsigned char *)value; *p && n + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            url[n++] = (char)*p;
        else
            n += (size_t)snprintf(url + n, cap - n, "%%%02X", *p);
    }
    url[n < cap ? n : cap - 1] = '\0';
}

static int start(tf_api_t *api, const tf_http_request_t *req, tf_http_reply_t *out)
{
    char nonce[2 * NONCE_BYTES + 1], state[TF_JOIN_TOKEN_LEN + 1], redirect[600];
    if (tf_random_hex(tf_server_random, nonce, sizeof(nonce), NONCE_BYTES) < 0 ||
        tf_join_token_issue(api->oidc_states, "oidc", nonce, 0, tf__api_now(), state,
                            sizeof(state)) < 0) {
        tf_http_json_error(out, 503, "busy", "too many logins at once: try again");
        return 1;
    }
    snprintf(redirect, sizeof(redirect), "%s://%s/auth/oidc/callback", req->tls ? "https" : "http",
             req->host);
    const tf_config_t *c = &api->srv->cfg;
    char *url = out->location;
    size_t cap = sizeof(out->location);
    snprintf(url, cap, "%s", c->oidc_authorize_url);
    add_param(url, cap, "response_type", "id_token");
    add_param(url, cap, "response_mode", "form_post");
    add_param(url, cap, "scope", "openid email profile");
    add_param(url, cap, "client_id", c->oidc_client_id);
    add_param(url, cap, "redirect_uri", redirect);
    add_param(url, cap, "state", state);
    add_param(url, cap, "nonce", nonce);
    out->status = 302;
    return 1;
}

static void page(tf_http_reply_t *out, int status, const char *refresh, const char *text)
{
    char meta[128] = "";
    if (refresh)
        snprintf(meta, sizeof(meta), "<meta http-equiv=\"refresh\" content=\"0; url=%s\">",
                 refresh);
    tf__api_json(out, status,
                 "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">%s"
                 "<title>Tafel</title><link rel=\"stylesheet\" href=\"/style.css\"></head>"
                 "<body><main class=\"card\"><p>%s</p><p><a class=\"button\" href=\"%s\">"
                 "Weiter / Continue</a></p></main></body></html>\n",
                 meta, text, refresh ? refresh : "/login.html");
    out->content_type = "text/html; charset=utf-8";
}

static int callback(tf_api_t *api, const tf_http_request_t *req, tf_http_reply_t *out)
{
    char state[TF_JOIN_TOKEN_LEN + 8], nonce[80], err[256] = "";
    int role;
    if (tf_form_get(req->body, req->len, "state", state, sizeof(state)) < 0 ||
        tf_join_token_consume(api->oidc_states, "oidc", state, tf__api_now(), nonce, sizeof(nonce),
                              &role) < 0) {
        page(out, 400, NULL,
             "Die Anmeldung ist abgelaufen oder ungültig. / The login expired "
             "or is not valid.");
        return 1;
    }
    size_t cap = 16384; /* ID tokens are a few KiB */
    char *token = malloc(cap);
    if (!token || tf_form_get(req->body, req->len, "id_token", token, cap) < 0) {
        free(token);
        page(out, 401, NULL,
             "Der Anmeldedienst hat keine Anmeldung geschickt. / The identity "
             "provider sent no login.");
        return 1;
    }
    tf_identity_t id;
    int rc = tf_oidc_verify(api->oidc, token, nonce, tf__api_now(), &id, err, sizeof(err));
    free(token);
    if (rc < 0) {
        tf_log(TF_LOG_WARN, "oidc login refused: %s", err);
        page(out, 401, NULL, "Die Anmeldung wurde abgelehnt. / The login was refused.");
        return 1;
    }
    tf_store_teacher_t t;
    tf_store_room_t room;
    tf_websession_t *s = NULL;
    rc = tf__api_teacher_for(api, id.email, id.name, &t, &room);
    if (rc == -EACCES) {
        page(out, 403, NULL, "Dieses Konto ist gesperrt. / This account is disabled.");
        return 1;
    }
    if (rc < 0 || tf_websession_create(api->sessions, tf__api_now(), t.id, t.email, &s) < 0) {
        page(out, 503, NULL,
             "Die Anmeldung ist gerade nicht möglich. / Login is not possible "
             "right now.");
        return 1;
    }
    page(out, 200, "/home.html", "Angemeldet. / Logged in.");
    tf_cookie_format(out->set_cookie, sizeof(out->set_cookie), TF_WEBSESSION_COOKIE, s->id, -1,
                     req->tls);
    return 1;
}

int tf__api_oidc_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    if (strncmp(req->path, "/auth/oidc/", 11) != 0)
        return 0;
    if (!srv->cfg.auth || !api->oidc) {
        tf_http_json_error(out, 404, "oidc-off", "OpenID Connect login is not configured");
        return 1;
    }
    if (!strcmp(req->path, "/auth/oidc/start") && !strcmp(req->method, "GET"))
        return start(api, req, out);
    if (!strcmp(req->path, "/auth/oidc/callback") && !strcmp(req->method, "POST"))
        return callback(api, req, out);
    tf_http_json_error(out, 405, "method-not-allowed", "GET start, POST callback");
    return 1;
}
