/* tls_cert.c — generates the development HTTPS certificate with OpenSSL. Nothing here serves
 * TLS; libwebsockets does that with the files written here. */
#include "server/tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(x, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

int tf_tls_cert_ensure(const char *cert_path, const char *key_path, const char *host, char *err,
                       size_t errlen)
{
    if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
        return 0;
    int rc = -EIO;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *kf = NULL, *cf = NULL;
    if (!pkey || !x)
        goto out;
    X509_set_version(x, 2);
    unsigned char serial[16];
    FILE *ur = fopen("/dev/urandom", "rb");
    if (!ur || fread(serial, 1, sizeof(serial), ur) != sizeof(serial)) {
        if (ur)
            fclose(ur);
        goto out;
    }
    fclose(ur);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (!bn)
        goto out;
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Tafel", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(x, name);
    char san[256];
    int is_ip = strspn(host, "0123456789.") == strlen(host) || strchr(host, ':');
    snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,%s:%s", is_ip ? "IP" : "DNS", host);
    if (add_ext(x, NID_subject_alt_name, san) < 0 ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        !X509_sign(x, pkey, EVP_sha256()))
        goto out;
    int kfd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (kfd < 0 || !(kf = fdopen(kfd, "w"))) {
        if (kfd >= 0)
            close(kfd);
        snprintf(err, errlen, "%s: %s", key_path, strerror(errno));
        rc = -errno;
        goto out;
    }
    if (!(cf = fopen(cert_path, "w"))) {
        snprintf(err, errlen, "%s: %s", cert_path, strerror(errno));
        rc = -errno;
        goto out;
    }
    if (!PEM_write_PrivateKey(kf, pkey, NULL, NULL, 0, NULL, NULL) || !PEM_write_X509(cf, x))
        goto out;
    rc = 0;
out:
    if (rc == -EIO)
        snprintf(err, errlen, "cannot create a self-signed certificate in %s", cert_path);
    if (kf)
        fclose(kf);
    if (cf)
        fclose(cf);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}
