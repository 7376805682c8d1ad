/* nt_cert.c - test certificates made with the OpenSSL API (no shell, no CLI). */
#include "nt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A certificate for key, issued by (issuer, issuer_key), or self-signed when
 * issuer is NULL. san may be NULL (a CA). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, int is_ca, const char *san, X509 *issuer,
                       EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    /* Random 64-bit positive serials: two runs must not produce the same
     * issuer+serial with different keys (clients may cache). */
    unsigned char sr[8];
    BIGNUM *bn = NULL;
    if (RAND_bytes(sr, sizeof sr) != 1)
        goto fail;
    sr[0] &= 0x7f;
    sr[0] |= 0x01;
    bn = BN_bin2bn(sr, sizeof sr, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        goto fail;
    BN_free(bn);
    bn = NULL;
    if (!X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600) || !X509_set_pubkey(x, key))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pop3spec test",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0))
        goto fail;
    X509 *iss = issuer ? issuer : x;
    if (!X509_set_issuer_name(x, X509_get_subject_name(iss)))
        goto fail;
    if (add_ext(x, iss, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        add_ext(x, iss, NID_key_usage,
                is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") ||
        add_ext(x, iss, NID_subject_key_identifier, "hash"))
        goto fail;
    if (issuer && add_ext(x, iss, NID_authority_key_identifier, "keyid:always"))
        goto fail;
    if (!is_ca && add_ext(x, iss, NID_ext_key_usage, "serverAuth,clientAuth"))
        goto fail;
    if (san && add_ext(x, iss, NID_subject_alt_name, san))
        goto fail;
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
        goto fail;
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

static int write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key, char *err,
                     size_t errlen)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof path) {
        nt__errbuf(err, errlen, "path too long: %s/%s", dir, file);
        return NT_ERR;
    }
    /* Keys are created 0600 from the start, not chmod-ed after writing. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key ? 0600 : 0644);
    if (fd < 0) {
        nt__errbuf(err, errlen, "%s: %s", path, strerror(errno));
        return NT_ERR;
    }
    if (key)
        fchmod(fd, 0600);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        nt__errbuf(err, errlen, "%s: %s", path, strerror(errno));
        return NT_ERR;
    }
    int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_X509(f, cert);
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        nt__errbuf(err, errlen, "%s: write failed", path);
        return NT_ERR;
    }
    return 0;
}

int nt_cert_make_dir(const char *dir, char *err, size_t errlen)
{
    EVP_PKEY *ca_key = NULL, *srv_key = NULL, *wrong_key = NULL, *unk_key = NULL;
    X509 *ca = NULL, *srv = NULL, *wrong = NULL, *unk = NULL;
    int rc = NT_ERR;
    ERR_clear_error();
    ca_key = new_key();
    srv_key = new_key();
    wrong_key = new_key();
    unk_key = new_key();
    if (!ca_key || !srv_key || !wrong_key || !unk_key) {
        nt__errbuf(err, errlen, "EC P-256 key generation failed");
        goto out;
    }
    ca = make_cert(ca_key, "pop3spec test CA", 1, NULL, NULL, NULL);
    srv = make_cert(srv_key, "localhost", 0, "DNS:localhost,IP:127.0.0.1,IP:::1", ca, ca_key);
    wrong = make_cert(wrong_key, "wrong.example", 0, "DNS:wrong.example", ca, ca_key);
    unk = make_cert(unk_key, "localhost", 0, "DNS:localhost,IP:127.0.0.1,IP:::1", NULL, NULL);
    if (!ca || !srv || !wrong || !unk) {
        char t[200];
        unsigned long e = ERR_peek_last_error();
        ERR_error_string_n(e, t, sizeof t);
        nt__errbuf(err, errlen, "certificate creation failed: %s", e ? t : "unknown error");
        goto out;
    }
    if (write_pem(dir, "ca.pem", ca, NULL, err, errlen) ||
        write_pem(dir, "server.pem", srv, NULL, err, errlen) ||
        write_pem(dir, "server.key", NULL, srv_key, err, errlen) ||
        write_pem(dir, "wrong-host.pem", wrong, NULL, err, errlen) ||
        write_pem(dir, "wrong-host.key", NULL, wrong_key, err, errlen) ||
        write_pem(dir, "unknown-ca.pem", unk, NULL, err, errlen) ||
        write_pem(dir, "unknown-ca.key", NULL, unk_key, err, errlen))
        goto out;
    rc = 0;
out:
    X509_free(ca);
    X509_free(srv);
    X509_free(wrong);
    X509_free(unk);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(wrong_key);
    EVP_PKEY_free(unk_key);
    ERR_clear_error();
    return rc;
}
