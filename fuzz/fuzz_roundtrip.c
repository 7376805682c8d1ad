/* fuzz_roundtrip: p3_stuff (in fuzzer-chosen pieces and output capacities)
 * + p3_stuff_end, then p3_ml_body must give back the original data, plus
 * the CRLF that p3_stuff_end adds when the data did not end with a line end.
 * Input: 1 seed byte for the pieces, then the data; bare CR and bare LF are
 * turned into CRLF first so that the data is valid. */
#include "fz.h"

/* CR LF stays, a lone CR or LF becomes CR LF. out needs 2 * n. */
static size_t normalise(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
            if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
                i++;
        } else {
            out[o++] = (char)in[i];
        }
    }
    return o;
}

static size_t encode(const char *in, size_t n, uint32_t seed, char *out, size_t cap)
{
    p3_stuffer s;
    size_t o = 0, i = 0;
    p3_stuff_init(&s);
    while (i < n) {
        size_t piece = 1 + fz_rand(&seed) % 64, room = fz_rand(&seed) % 8 == 0 ? 1 : 256;
        if (piece > n - i)
            piece = n - i;
        if (room > cap - o)
            room = cap - o;
        size_t used = 0, w = p3_stuff(&s, in + i, piece, out + o, room, &used);
        FZ_CHECK(used <= piece && w <= room && w <= 2 * used + 1);
        FZ_CHECK(used > 0 || room < 2);
        if (used < piece)
            FZ_CHECK(room < 2 * piece);
        i += used;
        o += w;
    }
    FZ_CHECK(p3_stuff_end(&s, out + o, 4) == 0);
    size_t w = p3_stuff_end(&s, out + o, cap - o);
    /* ".\r\n", "\r\n.\r\n", or ".\r\n.\r\n" when the last data octet was a
     * line-start dot whose second dot did not fit in out yet. */
    FZ_CHECK(w == 3 || w == 5 || w == 6);
    return o + w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t seed = 0x9e3779b9u ^ data[0];
    char *plain = malloc(2 * size + 2);
    size_t n = normalise(data + 1, size - 1, plain);
    size_t cap = 2 * n + 16;
    char *wire = malloc(cap);
    size_t wn = encode(plain, n, seed, wire, cap);
    int ends = n == 0 || plain[n - 1] == '\n';
    FZ_CHECK(wn - (ends ? 3 : 5) >= n);
    if (!ends) {
        plain[n++] = '\r';
        plain[n++] = '\n';
    }

    char *exact = fz_dup(wire, wn);
    p3_slice *out = malloc((wn + 1) * sizeof *out);
    char *got = malloc(wn + 1);
    size_t nout = 0, gn = 0;
    p3_ml d;
    p3_ml_init(&d, 0, 0);
    ssize_t r = p3_ml_body(&d, exact, wn, out, wn + 1, &nout);
    FZ_CHECK(r == (ssize_t)wn && p3_ml_done(&d) && d.err == P3_E_OK);
    for (size_t i = 0; i < nout; i++) {
        FZ_CHECK(gn + out[i].n <= wn);
        memcpy(got + gn, out[i].p, out[i].n);
        gn += out[i].n;
    }
    FZ_CHECK(gn == n && memcmp(got, plain, n) == 0);
    FZ_CHECK(d.octets == n && d.consumed == wn);
    free(got);
    free(out);
    free(exact);
    free(wire);
    free(plain);
    return 0;
}
