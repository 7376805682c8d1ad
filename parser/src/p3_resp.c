/* Response lines as a client reads them: the status line (with its RFC 2449
 * response code, or an RFC 5034 continuation), the APOP timestamp of a
 * greeting and the STAT drop listing. */
#include <stdint.h>
#include <string.h>

#include "p3_scan.h"
#include "p3_util.h"
#include "pop3parse.h"

static int fail(p3_diag *diag, p3_errno code, size_t offset, size_t skip)
{
    if (diag) {
        diag->code = code;
        diag->offset = offset;
        diag->skip = skip;
    }
    return P3_ERROR;
}

/* Octets through the next LF in buf[from..n), or 0 when it is not there:
 * the caller then discards through the next LF itself. */
static size_t skip_to_lf(const char *buf, size_t from, size_t n)
{
    const char *lf = from < n ? memchr(buf + from, '\n', n - from) : NULL;
    return lf ? (size_t)(lf - buf) + 1 : 0;
}

/* Error and leniency bit for an octet outside 0x20..0x7E that is neither CR
 * nor LF. NUL has no leniency (bit 0 never matches the flags). 8-bit octets
 * are errors by default although RFC 6856 section 3.2 says that after LANG
 * "This, and subsequent protocol-level human-readable text, is encoded in
 * the UTF-8 charset" (and section 2 lets a session switch to UTF-8 mode):
 * only the caller knows the session state, so it passes
 * P3_LENIENT_EIGHT_BIT once UTF8 or LANG has succeeded. */
static p3_errno special_code(unsigned char c, unsigned *bit)
{
    if (c == 0) {
        *bit = 0;
        return P3_E_NUL;
    }
    if (c >= 0x80) {
        *bit = P3_LENIENT_EIGHT_BIT;
        return P3_E_EIGHT_BIT;
    }
    *bit = P3_LENIENT_CTL;
    return P3_E_CTL;
}

/* Offset of the first octet that keeps p[0..n) from being base64 in the
 * sense of p3_base64_valid(), or n when the octets are fine but the length
 * is not a multiple of 4. Only called once p3_base64_valid() said no. */
static size_t base64_bad(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '+' || c == '/')
            continue;
        if (c == '=' && (i == n - 1 || (i == n - 2 && p[n - 1] == '=')))
            continue;
        return i;
    }
    return n;
}

/* RFC 2449 section 8: "Clients MUST ignore unknown hierarchical detail about
 * the response code." So only the levels we know count: "SYS/FOO" is SYS
 * (RFC 3206 defines only TEMP and PERM below it), "SYS/TEMP/X" is SYS/TEMP,
 * "IN-USE/X" is IN-USE; an unknown first level is P3_RC_UNKNOWN. */
static p3_resp_code classify_code(p3_slice code)
{
    const char *slash = memchr(code.p, '/', code.n);
    p3_slice top = {code.p, slash ? (size_t)(slash - code.p) : code.n};
    if (p3_slice_ieq(top, "IN-USE"))
        return P3_RC_IN_USE;
    if (p3_slice_ieq(top, "LOGIN-DELAY"))
        return P3_RC_LOGIN_DELAY;
    if (p3_slice_ieq(top, "AUTH"))
        return P3_RC_AUTH;
    if (p3_slice_ieq(top, "UTF8"))
        return P3_RC_UTF8;
    if (!p3_slice_ieq(top, "SYS"))
        return P3_RC_UNKNOWN;
    if (!slash)
        return P3_RC_SYS;
    const char *sub = slash + 1;
    size_t rest = code.n - top.n - 1;
    const char *slash2 = memchr(sub, '/', rest);
    p3_slice second = {sub, slash2 ? (size_t)(slash2 - sub) : rest};
    if (p3_slice_ieq(second, "TEMP"))
        return P3_RC_SYS_TEMP;
    if (p3_slice_ieq(second, "PERM"))
        return P3_RC_SYS_PERM;
    return P3_RC_SYS;
}

/* The line is found before anything is judged, so a proper prefix of any
 * line (valid or not) is P3_NEED_MORE and the full line's verdict does not
 * depend on how it was split. Octets outside 0x20..0x7E are judged while
 * looking for the end because p3_scan_special() stops on them anyway. */
ssize_t p3_status_parse(const char *buf, size_t len, unsigned flags, p3_status *out,
                        p3_diag *diag)
{
    size_t lim = (flags & P3_LENIENT_LONG_LINE) ? SIZE_MAX : P3_MAX_RESP_LINE;
    size_t n = len < lim ? len : lim;
    unsigned lenient = 0;
    size_t i = 0, end, eol;

    for (;;) {
        i += p3_scan_special(buf + i, n - i);
        if (i == n)
            break;
        unsigned char c = (unsigned char)buf[i];
        if (c == '\r') {
            if (i + 1 == n)
                break;
            if (buf[i + 1] == '\n') {
                end = i;
                eol = 2;
                goto found;
            }
            if (!(flags & P3_LENIENT_BARE_CR))
                return fail(diag, P3_E_BARE_CR, i, skip_to_lf(buf, i + 1, n));
            lenient |= P3_LENIENT_BARE_CR;
        } else if (c == '\n') {
            if (!(flags & P3_LENIENT_BARE_LF))
                return fail(diag, P3_E_BARE_LF, i, i + 1);
            lenient |= P3_LENIENT_BARE_LF;
            end = i;
            eol = 1;
            goto found;
        } else {
            unsigned bit;
            p3_errno e = special_code(c, &bit);
            if (!(flags & bit))
                return fail(diag, e, i, skip_to_lf(buf, i + 1, n));
            lenient |= bit;
        }
        i++;
    }
    /* No line end within the first n octets. When n is the limit the line
     * cannot end in time: the octet at offset lim (the first one past the
     * 512 allowed) is where it goes wrong, whether or not it has arrived. */
    if (n == lim)
        return fail(diag, P3_E_LINE_TOO_LONG, lim, 0);
    return P3_NEED_MORE;

found:;
    const char *l = buf;
    size_t used = end + eol;
    if (used > P3_MAX_RESP_LINE)
        lenient |= P3_LENIENT_LONG_LINE;

    p3_status st;
    st.line = (p3_slice){buf, end};
    st.code_kind = P3_RC_NONE;
    st.code = (p3_slice){NULL, 0};

    if (end == 0 || (l[0] != '+' && l[0] != '-'))
        return fail(diag, P3_E_STATUS, 0, used);
    if (l[0] == '+' && end == 1)
        /* RFC 5034 section 4: "an empty server challenge is defined as a
         * line with only a "+", followed by a single space." */
        return fail(diag, P3_E_CONT, 1, used);
    if (l[0] == '+' && l[1] == ' ') {
        /* RFC 5034 section 5: continue-req = "+" SP [base64] CRLF, and
         * section 4: "This line MUST NOT contain any text other than the
         * BASE64-encoded challenge." */
        if (!p3_base64_valid(l + 2, end - 2))
            return fail(diag, P3_E_BASE64, 2 + base64_bad(l + 2, end - 2), used);
        st.kind = P3_ST_CONT;
        st.text = (p3_slice){l + 2, end - 2};
        st.lenient = lenient;
        *out = st;
        return (ssize_t)used;
    }

    const char *kw = l[0] == '+' ? "+OK" : "-ERR";
    size_t kn = l[0] == '+' ? 3 : 4;
    size_t case_off = 0;
    for (size_t k = 1; k < kn; k++) {
        if (k == end || p3_lower((unsigned char)l[k]) != p3_lower((unsigned char)kw[k]))
            return fail(diag, P3_E_STATUS, k, used);
        if (l[k] != kw[k] && case_off == 0)
            case_off = k;
    }
    /* RFC 1939 section 3: "Servers MUST send the "+OK" and "-ERR" in upper
     * case." */
    if (case_off) {
        if (!(flags & P3_LENIENT_STATUS_CASE))
            return fail(diag, P3_E_STATUS_CASE, case_off, used);
        lenient |= P3_LENIENT_STATUS_CASE;
    }
    st.kind = l[0] == '+' ? P3_ST_OK : P3_ST_ERR;

    /* RFC 2449 section 3: single-line = status [SP text] CRLF */
    size_t p = kn;
    if (p < end) {
        if (l[p] == ' ')
            p++;
        else if (!(flags & P3_LENIENT_STATUS_SPACE))
            return fail(diag, P3_E_STATUS_SPACE, p, used);
        else
            lenient |= P3_LENIENT_STATUS_SPACE;
    }

    /* RFC 2449 section 3: text = *schar / resp-code *CHAR, and schar
     * excludes "[", so a "[" opening the text must open a response code:
     *   resp-code  = "[" resp-level *("/" resp-level) "]"
     *   resp-level = 1*rchar
     *   rchar      = %x21-2E / %x30-5C / %x5E-7F
     * A "[" later in the text is left alone: servers without RESP-CODES
     * put brackets in free text and nothing is gained by failing them. */
    if (p < end && l[p] == '[') {
        size_t q = p + 1, level = q;
        for (;; q++) {
            if (q == end)
                return fail(diag, P3_E_RESP_CODE, q, used);
            unsigned char c = (unsigned char)l[q];
            if (c == ']' || c == '/') {
                if (q == level)
                    return fail(diag, P3_E_RESP_CODE, q, used);
                if (c == ']')
                    break;
                level = q + 1;
            } else if (c < 0x21 || c > 0x7f) {
                return fail(diag, P3_E_RESP_CODE, q, used);
            }
        }
        st.code = (p3_slice){l + p + 1, q - p - 1};
        st.code_kind = classify_code(st.code);
        p = q + 1;
        if (p < end && l[p] == ' ')
            p++;
    }
    st.text = (p3_slice){l + p, end - p};
    st.lenient = lenient;
    *out = st;
    return (ssize_t)used;
}

int p3_greeting_timestamp(const p3_status *st, p3_slice *ts, p3_diag *diag)
{
    const char *l = st->line.p;
    size_t n = st->line.n;
    /* Start after the response code: rchar allows "<", gchar does not. */
    size_t from = 0;
    uintptr_t lp = (uintptr_t)l, tp = (uintptr_t)st->text.p;
    if (st->text.p && tp >= lp && tp - lp <= n)
        from = (size_t)(tp - lp);
    const char *lt = from < n ? memchr(l + from, '<', n - from) : NULL;
    if (!lt)
        return 0;
    /* RFC 2449 section 3: timestamp = "<" *VCHAR ">" ;MUST conform to
     * RFC-822 msg-id, and RFC 822 msg-id = "<" addr-spec ">" with addr-spec
     * = local-part "@" domain. Quoted local parts and domain literals are
     * not told apart: one "@" with something on each side is required. */
    size_t open = (size_t)(lt - l), at = 0, i;
    for (i = open + 1; i < n && l[i] != '>'; i++) {
        unsigned char c = (unsigned char)l[i];
        if (c < 0x21 || c > 0x7e || c == '<')
            return fail(diag, P3_E_TIMESTAMP, i, 0);
        if (c == '@')
            at = i;
    }
    if (i == n)
        return fail(diag, P3_E_TIMESTAMP, n, 0);
    if (at == 0)
        return fail(diag, P3_E_TIMESTAMP, i, 0);
    if (at == open + 1)
        return fail(diag, P3_E_TIMESTAMP, at, 0);
    if (at + 1 == i)
        return fail(diag, P3_E_TIMESTAMP, i, 0);
    *ts = (p3_slice){lt, i + 1 - open};
    return 1;
}

/* The drop listing has exactly the grammar of a scan listing (RFC 1939
 * section 5: "+OK" followed by a single space, the number of messages, a
 * single space, and the size "... This memo makes no requirement on what
 * follows the maildrop size"), so the scan listing parser does the work and
 * only the structural error code differs. */
int p3_stat_text(p3_slice text, unsigned flags, uint32_t *count, uint64_t *octets, p3_diag *diag)
{
    p3_diag d;
    if (p3_list_entry(text, flags, count, octets, &d) == 0)
        return 0;
    return fail(diag, d.code == P3_E_LIST_ENTRY ? P3_E_STAT_TEXT : d.code, d.offset, d.skip);
}
