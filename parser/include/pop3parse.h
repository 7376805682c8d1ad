/*
 * pop3parse.h - the POP3 parser of pop3spec: commands, responses, multi-line
 * data and the encoders for the other direction.
 *
 * Contract, for every function here:
 *  - The caller owns the buffer. Nothing is copied, nothing is allocated, no
 *    I/O is done. Outputs are (pointer, length) slices into the caller's
 *    buffer (the only exception is documented at p3_ml_body).
 *  - The parser never reads buf[len] or beyond.
 *  - Line-at-a-time calls return the octets consumed (> 0), P3_NEED_MORE when
 *    the buffer holds no complete line yet (present the same bytes again with
 *    more appended), or P3_ERROR with a p3_diag filled in.
 *  - Strict by default. Each leniency is a named flag (P3_LENIENT_*), off by
 *    default; a result accepted only thanks to a leniency has its bit set in
 *    the result's `lenient` field.
 *  - Error codes are numbered once and never renumbered.
 */
#ifndef POP3PARSE_H
#define POP3PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pop3parse_limits.h"

#ifdef __cplusplus
extern "C" {
#endif

#define P3_VERSION_MAJOR 0
#define P3_VERSION_MINOR 1
#define P3_VERSION_PATCH 0

/* Return values of the line-at-a-time calls (bytes consumed are > 0). */
#define P3_ERROR     (-1)
#define P3_NEED_MORE (-2)

typedef struct p3_slice {
    const char *p;
    size_t n;
} p3_slice;

/* ---------------------------------------------------------------------------
 * Diagnostics: XX(number, NAME, message). Numbers are stable forever: add new
 * codes at the end, never renumber or reuse.
 */
#define P3_ERRNO_MAP(XX)                                                               \
    XX(0, OK, "no error")                                                              \
    XX(1, LINE_TOO_LONG, "line longer than the limit (RFC 2449 section 4)")            \
    XX(2, BARE_LF, "LF not preceded by CR (lines end in CRLF, RFC 1939 section 3)")    \
    XX(3, BARE_CR, "CR not followed by LF")                                            \
    XX(4, NUL, "NUL octet")                                                            \
    XX(5, EIGHT_BIT, "octet above 0x7E where printable ASCII is required")             \
    XX(6, CTL, "control character where printable ASCII is required")                  \
    XX(7, EMPTY_LINE, "empty command line")                                            \
    XX(8, KEYWORD_LENGTH, "keyword not 3 or 4 octets long (RFC 1939 section 3)")       \
    XX(9, SPACING, "keyword and arguments not separated by single spaces")            \
    XX(10, ARG_TOO_LONG, "argument longer than 40 octets (RFC 1939 section 3)")        \
    XX(11, TOO_FEW_ARGS, "missing argument")                                           \
    XX(12, TOO_MANY_ARGS, "too many arguments")                                        \
    XX(13, NUMBER, "not a decimal number")                                             \
    XX(14, NUMBER_SIGN, "sign before a number")                                        \
    XX(15, NUMBER_RANGE, "number too large (32 bits; 64 for sizes in octets)")          \
    XX(16, STATUS, "status indicator is not +OK or -ERR (RFC 1939 section 3)")         \
    XX(17, STATUS_CASE, "status indicator not in upper case (RFC 1939 section 3)")     \
    XX(18, STATUS_SPACE, "status indicator not followed by a space or CRLF")           \
    XX(19, RESP_CODE, "malformed response code (RFC 2449 section 8)")                  \
    XX(20, TIMESTAMP, "malformed APOP timestamp (RFC 1939 section 7)")                 \
    XX(21, CONT, "malformed SASL continuation, expected \"+\" SP base64 (RFC 5034)")   \
    XX(22, BASE64, "invalid base64 (RFC 5034 section 4)")                              \
    XX(23, LIST_ENTRY, "malformed scan listing, expected \"n octets\" (RFC 1939)")     \
    XX(24, UIDL_ENTRY, "malformed unique-id listing, expected \"n uid\" (RFC 1939)")   \
    XX(25, UID_LENGTH, "unique-id not 1 to 70 octets (RFC 1939 section 7)")            \
    XX(26, UID_CHAR, "unique-id octet outside 0x21-0x7E (RFC 1939 section 7)")         \
    XX(27, CAPA_LINE, "malformed capability line (RFC 2449 section 3)")                \
    XX(28, STAT_TEXT, "malformed STAT answer, expected \"nn mm\" (RFC 1939)")          \
    XX(29, TRUNCATED, "data ended before the CRLF.CRLF terminator")                    \
    XX(30, BUFFER, "output buffer too small")                                          \
    XX(31, ARGUMENT, "invalid argument to an encoder")

typedef enum p3_errno {
#define P3_XX(num, name, msg) P3_E_##name = num,
    P3_ERRNO_MAP(P3_XX)
#undef P3_XX
    P3_E__COUNT
} p3_errno;

/* "P3_E_BARE_LF" style name, and the message; "unknown" for bad codes. */
const char *p3_errno_name(p3_errno e);
const char *p3_errno_msg(p3_errno e);

typedef struct p3_diag {
    p3_errno code;
    size_t offset; /* offset of the failing octet from the start of buf */
    size_t skip;   /* octets to discard to get past the bad line (its CRLF
                      included); 0 when the line end has not been seen yet:
                      discard input through the next LF */
} p3_diag;

/* ---------------------------------------------------------------------------
 * Leniencies: XX(bit, NAME, description). Off by default; bits are stable.
 */
#define P3_LENIENCY_MAP(XX)                                                          \
    XX(0, BARE_LF, "accept a bare LF as a line end")                                 \
    XX(1, BARE_CR, "accept a CR not followed by LF inside a line")                   \
    XX(2, STATUS_CASE, "accept +ok / -err in any case")                              \
    XX(3, STATUS_SPACE, "accept text right after +OK / -ERR with no space")          \
    XX(4, LONG_LINE, "accept lines over the RFC limit, up to the caller's buffer")   \
    XX(5, LONG_ARG, "accept arguments over 40 octets (still within the line limit)") \
    XX(6, EIGHT_BIT, "accept octets above 0x7E in commands and response lines")      \
    XX(7, CTL, "accept control characters (TAB, ...) in commands and responses")     \
    XX(8, SPACING, "accept runs of spaces, and leading or trailing spaces")          \
    XX(9, KEYWORD_LENGTH, "accept keywords shorter than 3 or longer than 4 octets")  \
    XX(10, UID, "accept unique-ids outside 1-70 octets of 0x21-0x7E")

enum {
#define P3_XX(bit, name, desc) P3_LENIENT_##name = 1u << (bit),
    P3_LENIENCY_MAP(P3_XX)
#undef P3_XX
};

/* "BARE_LF" style name of one leniency bit, NULL for an unknown bit. */
const char *p3_leniency_name(unsigned bit_value);
const char *p3_leniency_desc(unsigned bit_value);

/* ---------------------------------------------------------------------------
 * Commands (what a server reads).
 * XX(number, NAME, keyword, min args, max args, arg1 type, arg2 type)
 * Arg types: S = string (printable ASCII), N = message number or count
 * (plain decimal, fits 32 bits), R = the rest of the line as one argument
 * (PASS: RFC 1939 section 7, "a POP3 server may treat spaces in the argument
 * as part of the password"), B = base64 or "=" (AUTH initial response),
 * '-' = none.
 */
#define P3_CMD_MAP(XX)                       \
    XX(0, UNKNOWN, "", 0, P3_MAX_ARGS, S, S) \
    XX(1, USER, "USER", 1, 1, S, -)          \
    XX(2, PASS, "PASS", 1, 1, R, -)          \
    XX(3, APOP, "APOP", 2, 2, S, S)          \
    XX(4, QUIT, "QUIT", 0, 0, -, -)          \
    XX(5, STAT, "STAT", 0, 0, -, -)          \
    XX(6, LIST, "LIST", 0, 1, N, -)          \
    XX(7, RETR, "RETR", 1, 1, N, -)          \
    XX(8, DELE, "DELE", 1, 1, N, -)          \
    XX(9, NOOP, "NOOP", 0, 0, -, -)          \
    XX(10, RSET, "RSET", 0, 0, -, -)         \
    XX(11, TOP, "TOP", 2, 2, N, N)           \
    XX(12, UIDL, "UIDL", 0, 1, N, -)         \
    XX(13, CAPA, "CAPA", 0, 0, -, -)         \
    XX(14, STLS, "STLS", 0, 0, -, -)         \
    XX(15, AUTH, "AUTH", 1, 2, S, B)         \
    XX(16, UTF8, "UTF8", 0, 0, -, -)         \
    XX(17, LANG, "LANG", 0, 1, S, -)

typedef enum p3_cmd_kind {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) P3_CMD_##name = num,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
    P3_CMD__COUNT
} p3_cmd_kind;

/* Upper-case keyword of a kind ("" for UNKNOWN, NULL out of range). */
const char *p3_cmd_keyword(p3_cmd_kind k);

typedef struct p3_cmd {
    p3_cmd_kind kind;
    p3_slice keyword;             /* as sent, any case */
    unsigned nargs;
    p3_slice args[P3_MAX_ARGS];   /* as sent */
    uint32_t num[2];              /* values of N arguments 1 and 2, else 0 */
    p3_slice rest;                /* everything after the keyword's space */
    unsigned lenient;             /* P3_LENIENT_* bits this line needed */
} p3_cmd;

/* Parse one command line from buf. Returns the line's length including its
 * CRLF, P3_NEED_MORE when no line end is in buf and len is still within the
 * limit (P3_MAX_CMD_LINE, unless P3_LENIENT_LONG_LINE), or P3_ERROR with
 * *diag set (diag->skip tells how much to discard). An unknown keyword is
 * not an error: kind = P3_CMD_UNKNOWN, args split on spaces. */
ssize_t p3_cmd_parse(const char *buf, size_t len, unsigned flags, p3_cmd *out, p3_diag *diag);

/* Batch form of p3_cmd_parse: the command lines at the start of buf[0..len),
 * up to cap of them, into out[0..*n). Every out[i] and the octets consumed
 * are exactly what calls of p3_cmd_parse, one per line, each starting where
 * the last one ended, would give (same flags). Stops before the first line
 * p3_cmd_parse would not accept: an incomplete line (P3_NEED_MORE) or an
 * error (P3_ERROR); such a line is not consumed and leaves no trace.
 * Returns:
 *  - *n >= 1: the octets of the *n lines parsed (> 0). Call again at
 *    buf + returned; a line that stopped the batch is then the first line;
 *  - *n == 0: exactly what p3_cmd_parse(buf, len, flags, out, diag) returns
 *    (P3_NEED_MORE, or P3_ERROR with *diag set, or with cap == 0: 0).
 * So *diag is written only when P3_ERROR is returned, and the diagnostic
 * (code, offset, skip, relative to buf) is the one p3_cmd_parse gives for
 * that line. out[*n..cap) is unspecified afterwards. Lines are parsed in
 * one pass with the same fast paths as p3_cmd_parse, without a call and
 * its register saves per line; a cap of 64 or more amortises the call. */
ssize_t p3_cmd_parse_many(const char *buf, size_t len, unsigned flags, p3_cmd *out, size_t cap,
                          size_t *n, p3_diag *diag);

/* The client's lines inside an AUTH exchange (RFC 5034 section 4): base64,
 * empty, or "*" to cancel. The line limit is P3_MAX_SASL_LINE. */
typedef struct p3_sasl_line {
    int cancel;      /* the line was "*" */
    p3_slice data;   /* the base64 text (validated), empty for an empty line */
    unsigned lenient;
} p3_sasl_line;

ssize_t p3_sasl_line_parse(const char *buf, size_t len, unsigned flags, p3_sasl_line *out,
                           p3_diag *diag);

/* ---------------------------------------------------------------------------
 * Responses (what a client reads).
 */
#define P3_RESP_CODE_MAP(XX)                    \
    XX(0, NONE, "")                             \
    XX(1, UNKNOWN, "")                          \
    XX(2, IN_USE, "IN-USE")                     \
    XX(3, LOGIN_DELAY, "LOGIN-DELAY")           \
    XX(4, SYS_TEMP, "SYS/TEMP")                 \
    XX(5, SYS_PERM, "SYS/PERM")                 \
    XX(6, SYS, "SYS")                           \
    XX(7, AUTH, "AUTH")                         \
    XX(8, UTF8, "UTF8")

typedef enum p3_resp_code {
#define P3_XX(num, name, text) P3_RC_##name = num,
    P3_RESP_CODE_MAP(P3_XX)
#undef P3_XX
    P3_RC__COUNT
} p3_resp_code;

typedef enum p3_status_kind {
    P3_ST_OK = 1,   /* "+OK" */
    P3_ST_ERR = 2,  /* "-ERR" */
    P3_ST_CONT = 3  /* "+ " SASL continuation (RFC 5034 continue-req) */
} p3_status_kind;

typedef struct p3_status {
    p3_status_kind kind;
    p3_resp_code code_kind;  /* P3_RC_NONE when there is no "[...]" */
    p3_slice code;           /* inside the brackets, e.g. "SYS/TEMP" */
    p3_slice text;           /* after the status and the response code (and
                                the space after them); for P3_ST_CONT, the
                                base64 text (validated) */
    p3_slice line;           /* the whole line without its CRLF */
    unsigned lenient;
} p3_status;

/* Parse one status line: "+OK", "-ERR" or a "+ " continuation. Limit
 * P3_MAX_RESP_LINE unless P3_LENIENT_LONG_LINE. The response code is
 * recognised case-insensitively; unknown codes give P3_RC_UNKNOWN with the
 * text kept. */
ssize_t p3_status_parse(const char *buf, size_t len, unsigned flags, p3_status *out,
                        p3_diag *diag);

/* The APOP timestamp of a parsed greeting (RFC 1939 section 7: "<" ... ">",
 * an RFC 822 msg-id, so it holds an "@"). Returns 1 and sets *ts (brackets
 * included) when there is one, 0 when there is none, P3_ERROR with *diag
 * (offset relative to st->line.p) when a "<" starts a malformed one. */
int p3_greeting_timestamp(const p3_status *st, p3_slice *ts, p3_diag *diag);

/* "nn mm" of a STAT answer (RFC 1939 section 5 "drop listing"), from
 * p3_status.text. Anything may follow mm after a space. 0 or P3_ERROR. */
int p3_stat_text(p3_slice text, unsigned flags, uint32_t *count, uint64_t *octets, p3_diag *diag);

/* One "n octets" scan listing (LIST, RFC 1939 section 5): a line from
 * p3_ml_line, or the text of a single-line "+OK n octets" answer. Anything
 * may follow the size after a space. Returns 0 or P3_ERROR. */
int p3_list_entry(p3_slice line, unsigned flags, uint32_t *msg, uint64_t *octets, p3_diag *diag);

/* One "n unique-id" listing (UIDL, RFC 1939 section 7). Nothing may follow
 * the unique-id. Returns 0 or P3_ERROR. */
int p3_uidl_entry(p3_slice line, unsigned flags, uint32_t *msg, p3_slice *uid, p3_diag *diag);

/* One capability line (RFC 2449 section 3: capa-tag *(SP param)). */
typedef struct p3_capa {
    p3_slice tag;
    unsigned nparams;
    p3_slice params[P3_MAX_CAPA_PARAMS];
    unsigned lenient;
} p3_capa;

int p3_capa_line(p3_slice line, unsigned flags, p3_capa *out, p3_diag *diag);

/* Case-insensitive compare of a slice with a NUL-terminated string. */
int p3_slice_ieq(p3_slice s, const char *z);

/* Base64 as RFC 5034 section 4 requires it (RFC 4648 alphabet, padding only
 * at the end, length a multiple of 4). Returns 1 when valid. Empty is valid. */
int p3_base64_valid(const char *p, size_t n);

/* ---------------------------------------------------------------------------
 * Multi-line data (RFC 1939 section 3): after the status line, lines that
 * start with "." are dot-stuffed; the data ends with a line of ".".
 * One p3_ml per response; use either p3_ml_body or p3_ml_line on it.
 */
typedef struct p3_ml {
    /* read-only for the caller */
    uint64_t consumed;  /* input octets consumed so far */
    uint64_t octets;    /* data octets produced (after unstuffing) */
    uint64_t lines;     /* data lines completed (the terminator excluded) */
    uint64_t stuffed;   /* lines whose leading dot was removed */
    uint64_t err_off;   /* absolute input offset of the failing octet */
    unsigned lenient;   /* leniencies needed so far */
    p3_errno err;       /* sticky: once set, every call returns P3_ERROR */
    /* private */
    unsigned flags;
    unsigned state;
    unsigned scan_hint; /* what the body scan learnt about this response */
    size_t max_line;
} p3_ml;

/* max_line applies to p3_ml_line only (0: P3_MAX_RESP_LINE). */
void p3_ml_init(p3_ml *d, unsigned flags, size_t max_line);

/* 1 once the terminating "." CRLF has been consumed. */
int p3_ml_done(const p3_ml *d);

/* Streaming body decoder (RETR, TOP). Consumes from buf, appending up to
 * cap slices of unstuffed data (CRLFs kept, the terminator removed) to out;
 * *nout is how many. Returns the octets consumed: all of len, or fewer when
 * out[] filled up or the terminator was reached (the octets after it are
 * not consumed). P3_ERROR (sticky) on a protocol error. Slices point into
 * buf, except the one case where a CR consumed in an earlier call turns out
 * to be data (".\r" then not LF): that slice points at a static "\r". */
ssize_t p3_ml_body(p3_ml *d, const char *buf, size_t len, p3_slice *out, size_t cap,
                   size_t *nout);

/* Line decoder (LIST, UIDL, CAPA, ...). Returns the octets of one complete
 * line (CRLF included) with *line set to its unstuffed text (no CRLF), or
 * the terminator's octets with p3_ml_done() true and *line empty, or
 * P3_NEED_MORE (nothing consumed; call again with the same line start and
 * more data), or P3_ERROR (sticky). A line whose CRLF does not come within
 * max_line octets (CRLF included) fails with P3_E_LINE_TOO_LONG at the
 * offset of the last octet the limit allows, where its LF had to be at the
 * latest; this is reported as soon as that octet is in buf. */
ssize_t p3_ml_line(p3_ml *d, const char *buf, size_t len, p3_slice *line);

/* Batch form of p3_ml_line: the lines at the start of buf[0..len), up to
 * cap of them, into lines[0..*n) (unstuffed text, no CRLF), with the
 * same rules, counters and leniencies as calls of p3_ml_line, one per line,
 * each starting where the last one ended. The terminator is consumed and
 * ends the batch but gives no entry in lines[] (p3_ml_done() is then 1).
 * Stops before a line p3_ml_line would not accept (incomplete: P3_NEED_MORE;
 * malformed: P3_ERROR): such a line is not consumed and leaves d unchanged
 * (no sticky error is set for it yet). Returns:
 *  - the octets consumed (> 0) when at least one line or the terminator
 *    was consumed; call again at buf + returned (with the same bytes and
 *    more appended when the batch stopped at an incomplete line);
 *  - else exactly what p3_ml_line(d, buf, len, &line) returns: 0 when d is
 *    already done, P3_NEED_MORE, or P3_ERROR (sticky, d->err set); with
 *    cap == 0 nothing is parsed and 0 is returned.
 * Line ends are found for windows of up to 4 KiB at once
 * by one SIMD pass (stage 1), then the lines are split off from its bits. */
ssize_t p3_ml_lines(p3_ml *d, const char *buf, size_t len, p3_slice *lines, size_t cap,
                    size_t *n);

/* One entry of a multi-line LIST or UIDL answer in one call: the line as
 * p3_ml_line takes it (same counters, leniencies and sticky errors), then
 * its entry as p3_list_entry / p3_uidl_entry parse it, with the flags given
 * to p3_ml_init. The common line is parsed in one pass over its octets.
 * Returns:
 *  - the octets of the line (> 0): with p3_ml_done() 0, *msg and *octets
 *    (or *uid, a slice of buf) are set; with p3_ml_done() 1 the line was
 *    the terminator and the outputs are untouched;
 *  - 0 when d is already done; P3_NEED_MORE (nothing consumed);
 *  - P3_ERROR for a framing error: d->err is set (sticky, as p3_ml_line)
 *    and, when diag is not NULL, *diag = {d->err, offset of the failing
 *    octet from buf, skip 0};
 *  - P3_ERROR for a malformed entry: the line itself was well framed and
 *    is consumed by d (d->err stays P3_E_OK), *diag has the entry's code,
 *    the offset from buf and skip = the line's octets: go on at
 *    buf + diag->skip.
 * Leniencies an entry needed (P3_LENIENT_SPACING, P3_LENIENT_UID) are
 * added to d->lenient. */
ssize_t p3_ml_list(p3_ml *d, const char *buf, size_t len, uint32_t *msg, uint64_t *octets,
                   p3_diag *diag);
ssize_t p3_ml_uidl(p3_ml *d, const char *buf, size_t len, uint32_t *msg, p3_slice *uid,
                   p3_diag *diag);

/* Call at end of input: P3_ERROR with d->err = P3_E_TRUNCATED unless done. */
int p3_ml_finish(p3_ml *d);

/* ---------------------------------------------------------------------------
 * Encoders (reference server, scripted server, runner).
 */
typedef struct p3_stuffer {
    unsigned state; /* private: 0 = at the start of a line */
} p3_stuffer;

void p3_stuff_init(p3_stuffer *s);

/* Dot-stuff in[0..n) into out (capacity cap). Returns octets written;
 * *used tells how much of in was taken (less than n only when out is full).
 * out needs at most 2*n octets for n octets of input. Line ends are passed
 * through as they are (the caller supplies CRLF). */
size_t p3_stuff(p3_stuffer *s, const char *in, size_t n, char *out, size_t cap, size_t *used);

/* The end of a multi-line body: ".\r\n" when the data ended with a line
 * end, "\r\n.\r\n" when it did not, and ".\r\n.\r\n" when the last p3_stuff
 * call ran out of room right after a stuffing dot (the data's own dot is
 * still owed; the data then ends as a line "."). Returns the octets
 * written (3, 5 or 6), or 0, writing nothing, when cap is less than 5 or
 * than that length: a cap of 6 always suffices. */
size_t p3_stuff_end(p3_stuffer *s, char *out, size_t cap);

/* Format a command line: keyword (kind, or `unknown` when kind is
 * P3_CMD_UNKNOWN) and nargs arguments, CRLF-terminated. Checks what the
 * parser checks (printable ASCII, no CR/LF, line limit 255 octets). Returns
 * the length written, or P3_ERROR with diag (code P3_E_BUFFER when it does not
 * fit in cap). */
ssize_t p3_cmd_format(char *out, size_t cap, p3_cmd_kind kind, const char *unknown,
                      const p3_slice *args, unsigned nargs, p3_diag *diag);

/* Format a status line: "+OK" / "-ERR" / "+ ", then " [code]" when code.n,
 * then " text" when text.n, then CRLF. 512-octet limit; no CR/LF inside. */
ssize_t p3_status_format(char *out, size_t cap, p3_status_kind kind, p3_slice code,
                         p3_slice text, p3_diag *diag);

/* ---------------------------------------------------------------------------
 * Implementations. A scalar reference and SIMD paths with identical output;
 * the best one the CPU has is chosen on first use. Tests, fuzzers and the
 * benchmark may force one (process-wide; not for use while other threads
 * parse).
 */
typedef enum p3_impl {
    P3_IMPL_AUTO = 0,
    P3_IMPL_SCALAR = 1,
    P3_IMPL_SSE2 = 2,
    P3_IMPL_AVX2 = 3,
    P3_IMPL_AVX512 = 4
} p3_impl;

/* Force an implementation. Returns the one now in use (AUTO picks the best;
 * asking for one the CPU lacks leaves the current one and returns it). */
p3_impl p3_impl_set(p3_impl want);
p3_impl p3_impl_get(void);
const char *p3_impl_name(p3_impl i);
/* 1 when this CPU and build can run impl i. */
int p3_impl_available(p3_impl i);

#ifdef __cplusplus
}
#endif

#endif
