/* bench_srtp.c — SRTP protect and unprotect packets/s on one core through server/rtc/srtp.c
 * (libsrtp2), both profiles, audio- and video-sized packets, beside raw OpenSSL doing the same
 * cipher work as a baseline. It measures, it does not assert (test_rtc_srtp does that).
 *
 * Usage: bench_srtp [--quick]. A packet size is the whole RTP packet (12-byte header included)
 * before protection. Each round protects a batch of fresh packets (new sequence numbers, so the
 * replay window never refuses one), then unprotects the batch; the median round is reported,
 * because this machine is shared. Needs tafel_rtc linked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "server/rtc/srtp.h"

enum { BATCH = 2048, MAX_ROUNDS = 31, MAX_PKT = 1200 + TF_SRTP_MAX_RTP_OVERHEAD };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void make_rtp(uint8_t *p, size_t len, uint32_t seq_ext)
{
    uint16_t seq = (uint16_t)seq_ext;
    p[0] = 0x80, p[1] = 96, p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    uint32_t ts = seq_ext * 960u;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
    for (size_t i = 12; i < len; i++)
        p[i] = (uint8_t)(i * 31 + seq);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_srtp: %s\n", what);
    exit(1);
}

typedef struct result {
    double protect_pps, unprotect_pps;
} result_t;

static result_t bench_libsrtp(tf_srtp_profile_t profile, size_t size, int rounds, uint8_t *bufs)
{
    uint8_t material[TF_SRTP_MAX_KEYING_MATERIAL];
    size_t kl, sl;
    tf_srtp_keys_t sk, ck;
    tf_srtp_t *tx = NULL, *rx = NULL;
    for (size_t i = 0; i < sizeof(material); i++)
        material[i] = (uint8_t)(i * 7 + 1);
    if (tf_srtp_key_lengths(profile, &kl, &sl) < 0 ||
        tf_srtp_keys_from_material(&sk, profile, material, 2 * (kl + sl), 1) < 0 ||
        tf_srtp_keys_from_material(&ck, profile, material, 2 * (kl + sl), 0) < 0 ||
        tf_srtp_create(&tx, &sk, NULL) < 0 || tf_srtp_create(&rx, &ck, NULL) < 0)
        die("cannot create sessions");
    double p_rate[MAX_ROUNDS], u_rate[MAX_ROUNDS];
    size_t lens[BATCH];
    uint32_t seq = 1;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < BATCH; i++)
            make_rtp(bufs + (size_t)i * MAX_PKT, size, seq++);
        double t0 = now_s();
        for (int i = 0; i < BATCH; i++) {
            lens[i] = size;
            if (tf_srtp_protect_rtp(tx, bufs + (size_t)i * MAX_PKT, &lens[i], MAX_PKT) < 0)
                die("protect failed");
        }
        double t1 = now_s();
        for (int i = 0; i < BATCH; i++)
            if (tf_srtp_unprotect_rtp(rx, bufs + (size_t)i * MAX_PKT, &lens[i]) < 0 ||
                lens[i] != size)
                die("unprotect failed");
        double t2 = now_s();
        p_rate[r] = BATCH / (t1 - t0);
        u_rate[r] = BATCH / (t2 - t1);
    }
    tf_srtp_destroy(&tx);
    tf_srtp_destroy(&rx);
    result_t res = {median(p_rate, rounds), median(u_rate, rounds)};
    return res;
}

/* The same cipher work with OpenSSL EVP and no SRTP bookkeeping: AES-128-GCM over the payload
 * with the header as AAD, or AES-128-CTR plus HMAC-SHA1 over the packet. Protect direction. */
static double bench_openssl(tf_srtp_profile_t profile, size_t size, int rounds, uint8_t *bufs)
{
    static const uint8_t key[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    uint8_t iv[16] = {0}, tag[EVP_MAX_MD_SIZE];
    int outl = 0;
    size_t taglen = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
                           OSSL_PARAM_construct_end()};
    int gcm = profile == TF_SRTP_AEAD_AES_128_GCM;
    if (!c || !m || !EVP_MAC_init(m, key, 20, params) ||
        !EVP_EncryptInit_ex(c, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL, key, iv))
        die("cannot set up OpenSSL");
    double rate[MAX_ROUNDS];
    uint32_t seq = 1;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < BATCH; i++)
            make_rtp(bufs + (size_t)i * MAX_PKT, size, seq++);
        double t0 = now_s();
        for (int i = 0; i < BATCH; i++) {
            uint8_t *p = bufs + (size_t)i * MAX_PKT;
            memcpy(iv + 2, p + 2, 10); /* something packet-dependent, as SRTP's IV is */
            int ok = EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv);
            if (gcm) {
                ok = ok && EVP_EncryptUpdate(c, NULL, &outl, p, 12) &&
                     EVP_EncryptUpdate(c, p + 12, &outl, p + 12, (int)size - 12) &&
                     EVP_EncryptFinal_ex(c, p + size, &outl) &&
                     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, p + size);
            } else {
                ok = ok && EVP_EncryptUpdate(c, p + 12, &outl, p + 12, (int)size - 12) &&
                     EVP_MAC_init(m, NULL, 0, NULL) && EVP_MAC_update(m, p, size) &&
                     EVP_MAC_final(m, tag, &taglen, sizeof(tag));
                memcpy(p + size, tag, 10);
            }
            if (!ok)
                die("OpenSSL failed");
        }
        rate[r] = BATCH / (now_s() - t0);
    }
    EVP_CIPHER_CTX_free(c);
    EVP_MAC_CTX_free(m);
    EVP_MAC_free(mac);
    return median(rate, rounds);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
        return 2;
    }
    int rounds = quick ? 3 : MAX_ROUNDS;
    uint8_t *bufs = malloc((size_t)BATCH * MAX_PKT);
    if (!bufs)
        die("out of memory");
    static const struct {
        tf_srtp_profile_t profile;
        const char *name;
    } profiles[] = {{TF_SRTP_AES128_CM_SHA1_80, "AES_CM_128_HMAC_SHA1_80"},
                    {TF_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM"}};
    static const size_t sizes[] = {160, 1200};

    printf("| profile | packet | protect (pkt/s) | unprotect (pkt/s) | OpenSSL EVP, same cipher "
           "work (pkt/s) | protect / EVP |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (size_t p = 0; p < 2; p++) {
        for (size_t s = 0; s < 2; s++) {
            result_t r = bench_libsrtp(profiles[p].profile, sizes[s], rounds, bufs);
            double base = bench_openssl(profiles[p].profile, sizes[s], rounds, bufs);
            printf("| %s | %zu B | %.0f | %.0f | %.0f | %.2f |\n", profiles[p].name, sizes[s],
                   r.protect_pps, r.unprotect_pps, base, r.protect_pps / base);
        }
    }
    printf("\nOne core, median of %d rounds of %d packets; libsrtp2 %s.\n", rounds, BATCH,
           "as packaged (Debian's build uses NSS for AES and HMAC)");
    free(bufs);
    return 0;
}
