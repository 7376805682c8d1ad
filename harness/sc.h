/*
 * sc.h - the scenario language of pop3spec: the parsed scenario (AST), the
 * parser, the text pattern matcher and the variable expansion helper.
 *
 * The format itself is specified in scenarios/FORMAT.md; this header is the
 * C view of it. Names of line kinds and directives below refer to that file.
 *
 * Contract:
 *  - sc_parse never reads buf[len] or beyond, never crashes on any input,
 *    and on failure fills *err with the first error (file:line:column and
 *    what was expected). Everything it allocates is owned by *out and freed
 *    by sc_free (also after a failed parse, which leaves *out empty).
 *  - Every size is bounded by the SC_MAX_* limits below; the parser and the
 *    matcher use no unbounded recursion.
 *  - Lines and columns are 1-based; a column counts octets (a tab is one).
 *  - The steps of a scenario form one flat array. Blocks (multi-line
 *    responses, @foreach ... @end) are marked by index links, so a runner
 *    walks them with a program counter, without recursion.
 */
#ifndef SC_H
#define SC_H

#include <stddef.h>
#include <stdint.h>

#include "pop3parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Limits (FORMAT.md "Limits"). Exceeding one is a parse error.
 */
#define SC_MAX_FILE        (1u << 20) /* octets in one .scn file */
#define SC_MAX_LINE        4096       /* octets in one source line */
#define SC_MAX_STEPS       4096       /* steps (C:, S:, directives) */
#define SC_MAX_NESTING     8          /* nested @foreach */
#define SC_MAX_REQUIRES    32         /* items of "requires:" */
#define SC_MAX_TAGS        32         /* items of "tags:" and "mailbox:" */
#define SC_MAX_RFCS        4          /* numbers in "rfc:" */
#define SC_MAX_SPLITS      16         /* chunk sizes of one @split */
#define SC_MAX_PTOKENS     64         /* tokens of one compiled pattern */
#define SC_MAX_ALTS        16         /* alternatives of one (a|b|c) */
#define SC_MAX_CAPTURES    16         /* named captures of one pattern */
#define SC_MAX_VAR_DEPTH   4          /* ${a.${b}} nesting */
#define SC_MAX_NAME        64         /* octets of an id, variable or capture name */
#define SC_MAX_DURATION_MS 600000u    /* longest @delay / timeout: 10 minutes */
#define SC_MAX_LOOP        100000u    /* iterations of one @foreach (runner) */
#define SC_MATCH_BUDGET    200000u    /* backtracking steps of one sc_match */

/* ---------------------------------------------------------------------------
 * Errors.
 */
typedef struct sc_error {
    unsigned line;   /* 1-based; 0 when the error is not tied to a place */
    unsigned col;    /* 1-based octet column */
    char msg[256];   /* what was expected, e.g. expected a status (+OK, -ERR
                        or *) after "S:" */
    char text[640];  /* "path:line:col: msg" (or "path: msg" when line is 0) */
} sc_error;

/* ---------------------------------------------------------------------------
 * Header values.
 */
typedef enum sc_role {
    SC_ROLE_NONE = 0,
    SC_ROLE_SERVER = 1, /* the target is a server: pop3spec is the client */
    SC_ROLE_CLIENT = 2  /* the target is a client: pop3spec plays the server */
} sc_role;

typedef enum sc_level {
    SC_LEVEL_DEFAULT = 0, /* in a step: use the scenario's level */
    SC_LEVEL_MUST = 1,    /* MUST, MUST NOT, REQUIRED, SHALL, SHALL NOT */
    SC_LEVEL_SHOULD = 2,  /* SHOULD, SHOULD NOT, RECOMMENDED */
    SC_LEVEL_MAY = 3      /* MAY, OPTIONAL */
} sc_level;

typedef enum sc_verdict {
    SC_V_PASS = 0,
    SC_V_INFO = 1, /* a MAY (or @info) step did not hold */
    SC_V_WARN = 2, /* a SHOULD step did not hold */
    SC_V_FAIL = 3, /* a MUST step did not hold */
    SC_V_SKIP = 4, /* "requires:" not met by the target */
    SC_V_ERROR = 5 /* the run itself broke (scenario or harness problem) */
} sc_verdict;

/* Comparison operators of requires (messages>=2), @entries and @assert. */
typedef enum sc_op {
    SC_OP_NONE = 0,
    SC_OP_EQ, SC_OP_NE, SC_OP_LT, SC_OP_LE, SC_OP_GT, SC_OP_GE,
    SC_OP_DEFINED,   /* @assert defined ${x} */
    SC_OP_UNDEFINED  /* @assert undefined ${x} */
} sc_op;

typedef enum sc_req_kind {
    SC_REQ_CAPA = 1, /* a capability (upper case): "STLS", "SASL PLAIN" */
    SC_REQ_PROP = 2  /* a target property (lower case): "disposable-mailbox",
                        or with a number: "messages>=2" */
} sc_req_kind;

typedef struct sc_loc {
    unsigned line, col;
} sc_loc;

typedef struct sc_require {
    sc_req_kind kind;
    char *name;     /* "SASL PLAIN", "messages" (NUL-terminated) */
    sc_op op;       /* SC_OP_NONE, or the comparison of "name OP value" */
    uint64_t value;
    sc_loc loc;
} sc_require;

/* ---------------------------------------------------------------------------
 * Patterns (FORMAT.md "Patterns"): literal octets, * (any run), ? (any one
 * octet), {name:type} captures, ${var} (the variable's value, literally, at
 * match time), (a|b|c) literal alternatives, \ escapes.
 */
typedef enum sc_cap_type {
    SC_CAP_NUM = 1,  /* 1*DIGIT, value fits 64 bits */
    SC_CAP_WORD = 2, /* 1* octets other than space */
    SC_CAP_TEXT = 3, /* 0* any octets (like *) */
    SC_CAP_UID = 4,  /* 1*70 octets 0x21-0x7E (RFC 1939 UIDL) */
    SC_CAP_TS = 5,   /* "<" 1*(not ">") ">" holding an "@" (APOP timestamp) */
    SC_CAP_B64 = 6   /* 0* base64 octets, valid as RFC 5034 requires */
} sc_cap_type;

typedef enum sc_ptok_kind {
    SC_PT_LIT = 1,  /* s[0..n): octets, escapes already decoded */
    SC_PT_STAR = 2, /* any run of octets, possibly empty */
    SC_PT_ONE = 3,  /* exactly one octet */
    SC_PT_CAP = 4,  /* s[0..n): capture name ("" = match only); type */
    SC_PT_VAR = 5,  /* s[0..n): variable name template (may hold ${...}) */
    SC_PT_ALT = 6   /* nalt alternatives, each NUL-terminated, back to back
                       in s[0..n) */
} sc_ptok_kind;

typedef struct sc_ptok {
    sc_ptok_kind kind;
    sc_cap_type type; /* SC_PT_CAP */
    unsigned nalt;    /* SC_PT_ALT */
    char *s;
    size_t n;
} sc_ptok;

typedef struct sc_pattern {
    sc_ptok *tok;
    unsigned ntok;
    char *src;     /* the source text (NUL-terminated), for messages */
    size_t srclen;
} sc_pattern;

/* Compile pattern source src[0..n). 0, or -1 with err->msg set and err->col
 * the 1-based offset in src of the problem (err->line 0). */
int sc_pattern_compile(const char *src, size_t n, sc_pattern *out, sc_error *err);
void sc_pattern_free(sc_pattern *p);

/* Variable lookup supplied by the runner. name[0..n) is fully expanded
 * ("list.3.size"). Returns 1 and sets *value (and *secret to 1 for values
 * that must be redacted, e.g. ${pass}; *secret is preset to 0), or 0 when
 * the variable is undefined. */
typedef int (*sc_lookup_fn)(void *ctx, const char *name, size_t n, p3_slice *value, int *secret);

/* One capture: name points into the pattern, value into the matched text. */
typedef struct sc_capture {
    const char *name;
    size_t name_len;
    p3_slice value;
} sc_capture;

/* sc_match flags */
#define SC_M_NOCASE         1u /* literals and alternatives ignore ASCII case */
#define SC_M_KEYWORD_NOCASE 2u /* ignore case up to the text's first space
                                  (command keywords, RFC 1939 section 3) */

/* Match the whole of text[0..n) against p. Returns 1 on a match with
 * caps[0..*ncaps) set (captures in pattern order, anonymous ones left out;
 * a capture inside a failed branch is never reported), 0 when it does not
 * match, -1 on an error with err->msg set: undefined variable, pattern too
 * complex (more than SC_MATCH_BUDGET steps) or more captures than capmax.
 * lookup may be NULL when p has no ${var}. */
int sc_match(const sc_pattern *p, const char *text, size_t n, unsigned flags,
             sc_lookup_fn lookup, void *ctx, sc_capture *caps, size_t capmax, size_t *ncaps,
             sc_error *err);

/* Convenience for tests and one-off uses: compile pat (NUL-terminated),
 * match, free. Same return values; compile errors are -1. */
int sc_match_str(const char *pat, const char *text, size_t n, unsigned flags,
                 sc_lookup_fn lookup, void *ctx, sc_capture *caps, size_t capmax,
                 size_t *ncaps, sc_error *err);

/* ---------------------------------------------------------------------------
 * Templates (FORMAT.md "Text and variables"): the text of a line we send,
 * and the operands of @assert / @foreach. Escapes \r \n \t \\ \$ \xHH, and
 * ${name} with name made of [A-Za-z0-9_.-] and nested ${...}.
 */

/* sc_expand result flags */
#define SC_X_SECRET 1u /* a secret variable was expanded: redact the output */

/* Expand template t[0..n) into out (capacity cap). Returns 0 with *outlen
 * and *xflags set, or -1 with err->msg set and err->col the 1-based offset
 * in t: bad escape, unterminated ${, undefined variable, nesting deeper
 * than SC_MAX_VAR_DEPTH, or output longer than cap. out is not
 * NUL-terminated. lookup may be NULL when t has no ${var}. */
int sc_expand(const char *t, size_t n, sc_lookup_fn lookup, void *ctx, char *out, size_t cap,
              size_t *outlen, unsigned *xflags, sc_error *err);

/* Check a template's syntax without expanding it (what sc_parse does for
 * every template). 0, or -1 as sc_expand. */
int sc_template_check(const char *t, size_t n, sc_error *err);

/* ---------------------------------------------------------------------------
 * Steps.
 *
 * Role server (we are the client): C: = SC_STEP_SEND, S: = SC_STEP_STATUS,
 * S* = SC_STEP_LINE, "S: ." = SC_STEP_DOT.
 * Role client (we are the server): S: and S* = SC_STEP_SEND (S* with
 * SC_F_STUFF), C: = SC_STEP_COMMAND.
 */
typedef enum sc_step_kind {
    SC_STEP_SEND = 1,       /* text: template; the bytes we write */
    SC_STEP_STATUS,         /* expect a status line: status, code, pat;
                               SC_F_MULTILINE with link = the SC_STEP_DOT */
    SC_STEP_LINE,           /* S* pat: the next data line of the block */
    SC_STEP_EACH,           /* @each name pat: every remaining data line */
    SC_STEP_ENTRIES,        /* @entries op operand: number of data lines */
    SC_STEP_BODY,           /* @body [equals=fixture] [as=name] */
    SC_STEP_CAPA,           /* @capa name: lines are capabilities */
    SC_STEP_DOT,            /* "S: .": the end of the block; link = STATUS */
    SC_STEP_COMMAND,        /* expect a command line: pat */
    SC_STEP_FIXTURE,        /* @fixture name [stuff=no] [end=no] [lines=N] */
    SC_STEP_DELAY,          /* @delay: ms */
    SC_STEP_SESSION,        /* @session name: later steps use that session */
    SC_STEP_CONNECT,        /* @connect: (re)connect / accept the next client */
    SC_STEP_DROP,           /* @drop: close the TCP connection abruptly */
    SC_STEP_CLOSE,          /* @close: orderly close of our side */
    SC_STEP_EXPECT_CLOSE,   /* @expect-close [within T]: peer closes; ms */
    SC_STEP_EXPECT_SILENCE, /* @expect-silence T: nothing arrives; ms */
    SC_STEP_STARTTLS,       /* @starttls [fails]: TLS handshake on this
                               session (SC_F_FAILS: it must fail) */
    SC_STEP_TLS,            /* @tls cert=good|unknown-ca|wrong-host: name */
    SC_STEP_ASSERT,         /* @assert lhs op rhs / defined lhs */
    SC_STEP_FOREACH,        /* @foreach name in lhs..rhs; link = the END */
    SC_STEP_END,            /* @end; link = the FOREACH */
    SC_STEP_EXPECT_EXIT,    /* @expect-exit 0|nonzero|N: op EQ/NE, num */
    SC_STEP_EXPECT_STORED,  /* @expect-stored f1 f2 ...: args */
    SC_STEP_EXPECT_NO_COMMAND, /* @expect-no-command pattern: pat */
    SC_STEP_EXPECT_QUIT     /* @expect-quit */
} sc_step_kind;

/* "SEND", "STATUS", ... for logs; "?" out of range. */
const char *sc_step_kind_name(sc_step_kind k);

/* Expected status of SC_STEP_STATUS. */
typedef enum sc_want {
    SC_WANT_OK = 1,   /* +OK */
    SC_WANT_ERR = 2,  /* -ERR */
    SC_WANT_ANY = 3,  /* *: +OK or -ERR */
    SC_WANT_CONT = 4  /* +: SASL continuation "+ base64" (RFC 5034) */
} sc_want;

/* Code constraint of SC_STEP_STATUS. */
typedef enum sc_code_want {
    SC_CODE_ANY = 0,     /* no [..] written: any code or none */
    SC_CODE_NONE = 1,    /* []: no response code */
    SC_CODE_MATCH = 2    /* [pattern]: a code matching `code` */
} sc_code_want;

/* Step flags. */
#define SC_F_RAW       1u  /* @raw: send exactly the text, no CRLF, no stuffing */
#define SC_F_SECRET    2u  /* redact in logs (@secret, PASS, ${pass}) */
#define SC_F_MULTILINE 4u  /* STATUS: a block of data lines follows */
#define SC_F_STUFF     8u  /* SEND from S*: dot-stuff the line */
#define SC_F_BYTEWISE  16u /* @split bytewise: one octet per write */
#define SC_F_NOSTUFF   32u /* FIXTURE stuff=no */
#define SC_F_NOEND     64u /* FIXTURE end=no: no terminating "." */
#define SC_F_FAILS     128u /* STARTTLS fails: the handshake must not complete */
#define SC_F_ORCLOSE   256u /* STARTTLS or-close: closing the connection instead
                               of the handshake is also right; the scenario then
                               ends there */

typedef struct sc_step {
    sc_step_kind kind;
    sc_loc loc;          /* the line's first octet (the C/S/@) */
    unsigned flags;      /* SC_F_* */
    sc_level level;      /* @must/@should/@may/@info override, or DEFAULT */
    uint32_t timeout_ms; /* @timeout override for this step, 0 = default */
    uint32_t delay_ms;   /* DELAY; @split delay=; EXPECT_SILENCE/CLOSE: T */
    int session;         /* index into sc_scenario.sessions (0 = "main") */

    /* SEND: the template (text after "C: "/"S: "/"S* ", trailing blanks
     * removed). ASSERT/FOREACH/ENTRIES: lhs and rhs templates. */
    char *text;
    size_t text_len;
    char *lhs, *rhs;
    size_t lhs_len, rhs_len;
    sc_op op;            /* ASSERT, ENTRIES, EXPECT_EXIT */
    uint64_t num;        /* EXPECT_EXIT code; FIXTURE lines= (with has_num) */
    int has_num;

    /* SEND and FIXTURE split: write the first split[0] octets, then split[1], ..., then
     * the rest, pausing delay_ms between writes. */
    uint32_t split[SC_MAX_SPLITS];
    unsigned nsplit;

    /* STATUS */
    sc_want want;
    sc_code_want code_want;
    sc_pattern code;     /* SC_CODE_MATCH: pattern for the text in [ ] */
    sc_pattern pat;      /* STATUS text; LINE/EACH/COMMAND/EXPECT_NO_COMMAND */
    int has_pat;         /* STATUS: 0 when no text pattern was written */

    /* EACH/CAPA/BODY as=/SESSION/TLS/FOREACH variable/FIXTURE: a name */
    char *name;
    char *fixture;       /* BODY equals= */

    /* EXPECT_STORED: fixture names */
    char **args;
    size_t nargs;

    /* Block links (indices into steps): STATUS<->DOT, FOREACH<->END;
     * LINE/EACH/ENTRIES/BODY/CAPA: the STATUS they belong to. -1: none. */
    long link;
} sc_step;

typedef struct sc_scenario {
    char *path;          /* as given to sc_parse */
    char *id;            /* [a-z0-9][a-z0-9._-]* */
    char *title;
    char *section;       /* free text, e.g. "7" or "3, 5" (may be NULL) */
    char *quote;         /* continuation lines joined with one space (NULL) */
    char *action;        /* role client: what the client is asked to do
                            (default "fetch") */
    unsigned rfc[SC_MAX_RFCS];
    unsigned nrfc;
    sc_level level;
    char *level_text;    /* as written: "MUST NOT" */
    sc_role role;
    sc_require *requires;
    size_t nrequires;
    char **tags;
    size_t ntags;
    char **mailbox;      /* role client: fixtures the mailbox holds */
    size_t nmailbox;
    char **sessions;     /* session names; sessions[0] = "main" */
    size_t nsessions;
    sc_step *steps;
    size_t nsteps;
} sc_scenario;

/* Parse one scenario. path is used in messages only (may be NULL: "-").
 * Returns 0, or -1 with *err filled and *out emptied (safe to sc_free). */
int sc_parse(const char *path, const char *buf, size_t len, sc_scenario *out, sc_error *err);

/* Read path (at most SC_MAX_FILE octets) and sc_parse it. */
int sc_parse_file(const char *path, sc_scenario *out, sc_error *err);

/* Free everything a scenario holds and zero it. NULL and zeroed are fine. */
void sc_free(sc_scenario *s);

/* Every *.scn file under dir (recursively, at most 8 levels, sorted by
 * path). Returns the count, or -1 with err set; *paths (each a malloc'd
 * string, and the array) is freed with sc_paths_free. */
long sc_list_dir(const char *dir, char ***paths, sc_error *err);
void sc_paths_free(char **paths, size_t n);

/* ---------------------------------------------------------------------------
 * Runner-facing helpers.
 */

/* The verdict a failed step yields: its level override, else the
 * scenario's level (MUST -> FAIL, SHOULD -> WARN, MAY -> INFO). */
sc_verdict sc_step_verdict(const sc_scenario *s, const sc_step *st);
const char *sc_verdict_name(sc_verdict v); /* "PASS", "FAIL", ... */
const char *sc_level_name(sc_level l);     /* "MUST", "SHOULD", "MAY" */

/* Results of sc_expect_status. */
typedef enum sc_status_result {
    SC_SR_MATCH = 0,
    SC_SR_MALFORMED = 1, /* not a status line per pop3parse (diag set) */
    SC_SR_STATUS = 2,    /* +OK where -ERR was expected, or the reverse */
    SC_SR_CODE = 3,      /* response code missing, present, or different */
    SC_SR_TEXT = 4,      /* the text does not match the pattern */
    SC_SR_ERROR = 5      /* sc_match error (err set), e.g. undefined ${var} */
} sc_status_result;

/* Judge one response line (line[0..n) with its CRLF) against a
 * SC_STEP_STATUS step: parse it with p3_status_parse(p3flags), compare the
 * status, the code and the text. *parsed (may be NULL) receives the parsed
 * line; diag (may be NULL) the parser's diagnostic for SC_SR_MALFORMED.
 * Captures of the text pattern go to caps as in sc_match. */
sc_status_result sc_expect_status(const sc_step *st, const char *line, size_t n,
                                  unsigned p3flags, sc_lookup_fn lookup, void *ctx,
                                  sc_capture *caps, size_t capmax, size_t *ncaps,
                                  p3_status *parsed, p3_diag *diag, sc_error *err);

/* Judge one command line the client sent (line[0..n), CRLF optional and
 * ignored) against a SC_STEP_COMMAND or SC_STEP_EXPECT_NO_COMMAND pattern,
 * keyword case-insensitively. Returns as sc_match. */
int sc_expect_command(const sc_step *st, const char *line, size_t n, sc_lookup_fn lookup,
                      void *ctx, sc_capture *caps, size_t capmax, size_t *ncaps, sc_error *err);

/* Evaluate "a op b" of @assert / @entries / requires: numeric when both are
 * plain decimals (up to 64 bits), else octet-wise (EQ/NE only; ordering
 * operators on non-numbers return -1). Returns 1 true, 0 false, -1 error. */
int sc_compare(p3_slice a, sc_op op, p3_slice b);
const char *sc_op_text(sc_op op); /* "==", ">=", "defined", ... */

/* Parse a duration "250ms" / "2s" / "1m" into ms (<= SC_MAX_DURATION_MS).
 * 0 or -1. */
int sc_duration(const char *p, size_t n, uint32_t *ms);

#ifdef __cplusplus
}
#endif

#endif
