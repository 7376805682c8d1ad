#include "p3_util.h"

#include <string.h>

static p3_errno dec(const char *p, size_t n, uint64_t max, uint64_t *out, size_t *bad)
{
    *bad = 0;
    if (n == 0)
        return P3_E_NUMBER;
    if (p[0] == '+' || p[0] == '-')
        return P3_E_NUMBER_SIGN;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) {
            *bad = i;
            return P3_E_NUMBER;
        }
        if (v > (max - d) / 10) {
            /* Keep scanning: a later non-digit is the more useful report. */
            for (size_t j = i + 1; j < n; j++)
                if ((unsigned)((unsigned char)p[j] - '0') > 9u) {
                    *bad = j;
                    return P3_E_NUMBER;
                }
            *bad = i;
            return P3_E_NUMBER_RANGE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return P3_E_OK;
}

p3_errno p3_dec_u32(const char *p, size_t n, uint32_t *out, size_t *bad)
{
    uint64_t v = 0;
    p3_errno e = dec(p, n, UINT32_MAX, &v, bad);
    if (e == P3_E_OK)
        *out = (uint32_t)v;
    return e;
}

p3_errno p3_dec_u64(const char *p, size_t n, uint64_t *out, size_t *bad)
{
    return dec(p, n, UINT64_MAX, out, bad);
}

int p3_slice_ieq(p3_slice s, const char *z)
{
    size_t n = strlen(z);
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p3_lower((unsigned char)s.p[i]) != p3_lower((unsigned char)z[i]))
            return 0;
    return 1;
}

static int b64char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int p3_base64_valid(const char *p, size_t n)
{
    if (n % 4 != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (b64char(c))
            continue;
        /* RFC 5034 base64-terminal: "=" only in the last one or two places,
         * and "==" only as a pair at the very end. */
        if (c == '=' && (i == n - 1 || (i == n - 2 && p[n - 1] == '=')))
            continue;
        return 0;
    }
    return 1;
}
