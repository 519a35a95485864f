/* srtp.c — SRTP/SRTCP for one DTLS-SRTP session on libsrtp2: policies, in-place protect and
 * unprotect with capacity checks, errors as negative errno; no sockets, no clock, no MKI. */
#include "server/rtc/srtp.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

/* libsrtp2 rejects windows outside [64, 0x8000). */
#define REPLAY_WINDOW_MIN 64
#define REPLAY_WINDOW_MAX 0x7fff

#define RTP_HEADER_MIN 12
#define RTCP_HEADER_MIN 8
#define SRTCP_INDEX_LEN 4

struct tf_srtp {
    srtp_t out; /* any outbound SSRC, our key and salt */
    srtp_t in;  /* any inbound SSRC, the peer's key and salt */
    tf_srtp_profile_t profile;
    size_t rtp_overhead, rtcp_overhead;
    tf_srtp_stats_t stats;
};

/* The one process-wide state: libsrtp2's crypto kernel is global and srtp_init() must run once
 * before any srtp_create(). It is never shut down, so sessions may be created at any time. */
static pthread_once_t libsrtp_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t libsrtp_init_status = srtp_err_status_init_fail;

static void libsrtp_init(void)
{
    libsrtp_init_status = srtp_init();
}

int tf_srtp_key_lengths(tf_srtp_profile_t profile, size_t *key_len, size_t *salt_len)
{
    size_t k, s;
    switch (profile) {
    case TF_SRTP_AES128_CM_SHA1_80:
        k = 16, s = 14; /* RFC 5764 §4.1.2 */
        break;
    case TF_SRTP_AEAD_AES_128_GCM:
        k = 16, s = 12; /* RFC 7714 §12 */
        break;
    default:
        return -ENOTSUP;
    }
    if (key_len)
        *key_len = k;
    if (salt_len)
        *salt_len = s;
    return 0;
}

int tf_srtp_keys_from_material(tf_srtp_keys_t *keys, tf_srtp_profile_t profile,
                               const uint8_t *material, size_t len, int is_server)
{
    size_t kl, sl;
    if (!keys || !material)
        return -EINVAL;
    int rc = tf_srtp_key_lengths(profile, &kl, &sl);
    if (rc < 0)
        return rc;
    if (len != 2 * (kl + sl))
        return -EINVAL;
    /* RFC 5764 §4.2: client_write_SRTP_master_key[kl], server_write_SRTP_master_key[kl],
     * client_write_SRTP_master_salt[sl], server_write_SRTP_master_salt[sl]. */
    const uint8_t *client_key = material;
    const uint8_t *server_key = material + kl;
    const uint8_t *client_salt = material + 2 * kl;
    const uint8_t *server_salt = material + 2 * kl + sl;

    memset(keys, 0, sizeof(*keys));
    keys->profile = profile;
    keys->key_len = (uint8_t)kl;
    keys->salt_len = (uint8_t)sl;
    memcpy(keys->local_key, is_server ? server_key : client_key, kl);
    memcpy(keys->local_salt, is_server ? server_salt : client_salt, sl);
    memcpy(keys->remote_key, is_server ? client_key : server_key, kl);
    memcpy(keys->remote_salt, is_server ? client_salt : server_salt, sl);
    return 0;
}

static int make_context(srtp_t *ctx, tf_srtp_profile_t profile, srtp_ssrc_type_t direction,
                        const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
                        unsigned long window)
{
    /* libsrtp2 takes the master key and salt as one buffer and derives the session keys in
     * srtp_create(); it keeps no pointer to it. */
    uint8_t master[TF_SRTP_MAX_KEY_LEN + TF_SRTP_MAX_SALT_LEN];
    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    if (profile == TF_SRTP_AES128_CM_SHA1_80) {
        /* AES_CM_128_HMAC_SHA1_80 for both; the _80 setter is a macro for these. */
        srtp_crypto_policy_set_rtp_default(&policy.rtp);
        srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    }
    memcpy(master, key, key_len);
    memcpy(master + key_len, salt, salt_len);
    policy.ssrc.type = direction;
    policy.key = master;
    policy.window_size = window;
    policy.allow_repeat_tx = 1;
    policy.next = NULL;

    srtp_err_status_t st = srtp_create(ctx, &policy);
    OPENSSL_cleanse(master, sizeof(master));
    if (st == srtp_err_status_ok)
        return 0;
    *ctx = NULL;
    return st == srtp_err_status_alloc_fail  ? -ENOMEM
           : st == srtp_err_status_bad_param ? -EINVAL
                                             : -EIO;
}

int tf_srtp_create(tf_srtp_t **out, const tf_srtp_keys_t *keys, const tf_srtp_config_t *cfg)
{
    size_t kl, sl;
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!keys)
        return -EINVAL;
    int rc = tf_srtp_key_lengths(keys->profile, &kl, &sl);
    if (rc < 0)
        return rc;
    if (keys->key_len != kl || keys->salt_len != sl)
        return -EINVAL;
    uint32_t window =
        cfg && cfg->replay_window ? cfg->replay_window : TF_SRTP_DEFAULT_REPLAY_WINDOW;
    if (window < REPLAY_WINDOW_MIN || window > REPLAY_WINDOW_MAX)
        return -EINVAL;

    pthread_once(&libsrtp_once, libsrtp_init);
    if (libsrtp_init_status != srtp_err_status_ok)
        return -EIO;

    tf_srtp_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->profile = keys->profile;
    size_t tag = keys->profile == TF_SRTP_AEAD_AES_128_GCM ? 16 : 10;
    s->rtp_overhead = tag;
    s->rtcp_overhead = SRTCP_INDEX_LEN + tag;

    rc = make_context(&s->out, keys->profile, ssrc_any_outbound, keys->local_key, kl,
                      keys->local_salt, sl, window);
    if (rc < 0)
        goto err;
    rc = make_context(&s->in, keys->profile, ssrc_any_inbound, keys->remote_key, kl,
                      keys->remote_salt, sl, window);
    if (rc < 0)
        goto err;
    *out = s;
    return 0;
err:
    tf_srtp_destroy(&s);
    return rc;
}

void tf_srtp_destroy(tf_srtp_t **s)
{
    if (!s || !*s)
        return;
    /* srtp_dealloc() zeroes the derived keys before freeing them. */
    if ((*s)->out)
        srtp_dealloc((*s)->out);
    if ((*s)->in)
        srtp_dealloc((*s)->in);
    free(*s);
    *s = NULL;
}

size_t tf_srtp_rtp_overhead(const tf_srtp_t *s)
{
    return s ? s->rtp_overhead : 0;
}

size_t tf_srtp_rtcp_overhead(const tf_srtp_t *s)
{
    return s ? s->rtcp_overhead : 0;
}

/* RFC 3550 §5.1: V=2, 12 fixed bytes, CC CSRCs, then an optional extension whose length in
 * 32-bit words follows its 16-bit profile id. `trailer` bytes must follow the header. */
static int rtp_header_ok(const uint8_t *buf, size_t len, size_t trailer)
{
    if (len < RTP_HEADER_MIN + trailer || (buf[0] >> 6) != 2)
        return 0;
    size_t hdr = RTP_HEADER_MIN + 4u * (buf[0] & 0x0f);
    if (buf[0] & 0x10) {
        if (hdr + 4 > len)
            return 0;
        hdr += 4 + 4u * (((size_t)buf[hdr + 2] << 8) | buf[hdr + 3]);
    }
    return hdr + trailer <= len;
}

static int rtcp_header_ok(const uint8_t *buf, size_t len, size_t trailer)
{
    return len >= RTCP_HEADER_MIN + trailer && (buf[0] >> 6) == 2;
}

static int map_status(tf_srtp_t *s, srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
    case srtp_err_status_pkt_idx_old:
        s->stats.replayed++;
        return -EALREADY;
    case srtp_err_status_auth_fail:
        s->stats.auth_failed++;
        return -EBADMSG;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        s->stats.malformed++;
        return -EPROTO;
    case srtp_err_status_key_expired:
        s->stats.other++;
        return -EKEYEXPIRED;
    case srtp_err_status_alloc_fail:
        s->stats.other++;
        return -ENOMEM;
    default:
        s->stats.other++;
        return -EIO;
    }
}

typedef srtp_err_status_t (*srtp_op_fn)(srtp_t ctx, void *buf, int *len);

static int protect(tf_srtp_t *s, srtp_t ctx, srtp_op_fn op, int rtcp, uint8_t *buf, size_t *len,
                   size_t cap)
{
    if (!s || !buf || !len || *len > cap)
        return -EINVAL;
    size_t n = *len;
    if (rtcp ? !rtcp_header_ok(buf, n, 0) : !rtp_header_ok(buf, n, 0)) {
        s->stats.malformed++;
        return -EPROTO;
    }
    size_t overhead = rtcp ? s->rtcp_overhead : s->rtp_overhead;
    if (cap - n < overhead) {
        s->stats.no_room++;
        return -ENOBUFS;
    }
    if (n > (size_t)INT_MAX - overhead)
        return -EINVAL;
    int ilen = (int)n;
    int rc = map_status(s, op(ctx, buf, &ilen));
    if (rc < 0)
        return rc;
    *len = (size_t)ilen;
    if (rtcp)
        s->stats.rtcp_protected++;
    else
        s->stats.rtp_protected++;
    return 0;
}

static int unprotect(tf_srtp_t *s, srtp_t ctx, srtp_op_fn op, int rtcp, uint8_t *buf, size_t *len)
{
    if (!s || !buf || !len)
        return -EINVAL;
    size_t n = *len;
    size_t overhead = rtcp ? s->rtcp_overhead : s->rtp_overhead;
    if (n > INT_MAX ||
        (rtcp ? !rtcp_header_ok(buf, n, overhead) : !rtp_header_ok(buf, n, overhead))) {
        s->stats.malformed++;
        return -EPROTO;
    }
    int ilen = (int)n;
    int rc = map_status(s, op(ctx, buf, &ilen));
    if (rc < 0)
        return rc;
    *len = (size_t)ilen;
    if (rtcp)
        s->stats.rtcp_unprotected++;
    else
        s->stats.rtp_unprotected++;
    return 0;
}

int tf_srtp_protect_rtp(tf_srtp_t *s, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, s ? s->out : NULL, srtp_protect, 0, buf, len, cap);
}

int tf_srtp_unprotect_rtp(tf_srtp_t *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, s ? s->in : NULL, srtp_unprotect, 0, buf, len);
}

int tf_srtp_protect_rtcp(tf_srtp_t *s, uint8_t *buf, size_t *len, size_t cap)
{
    return protect(s, s ? s->out : NULL, srtp_protect_rtcp, 1, buf, len, cap);
}

int tf_srtp_unprotect_rtcp(tf_srtp_t *s, uint8_t *buf, size_t *len)
{
    return unprotect(s, s ? s->in : NULL, srtp_unprotect_rtcp, 1, buf, len);
}

void tf_srtp_get_stats(const tf_srtp_t *s, tf_srtp_stats_t *out)
{
    if (!out)
        return;
    if (s)
        *out = s->stats;
    else
        memset(out, 0, sizeof(*out));
}
