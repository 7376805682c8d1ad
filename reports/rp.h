/*
 * rp.h - the result model of a pop3spec run and its three report writers:
 * JUnit XML (CI), JSON (machines, schema in reports/report.schema.json) and
 * one self-contained HTML page (people).
 *
 * Secrets: every transcript entry passes through the run's redactor when it
 * is added (rp_case_add_io), so nothing that reaches a report, the terminal
 * or a log can hold a password, an APOP digest or an AUTH payload. The
 * writers never see unredacted text.
 */
#ifndef RP_H
#define RP_H

#include <stddef.h>
#include <stdio.h>

typedef enum rp_verdict {
    RP_PASS = 0,  /* the requirement holds */
    RP_FAIL = 1,  /* a MUST is broken */
    RP_WARN = 2,  /* a SHOULD is not met */
    RP_INFO = 3,  /* behaviour the RFCs leave open, worth knowing */
    RP_SKIP = 4,  /* capability absent or not allowed on this target */
    RP_ERROR = 5, /* harness or network trouble: no verdict on the peer */
    RP__COUNT
} rp_verdict;

const char *rp_verdict_name(rp_verdict v); /* "PASS", "FAIL", ... */

/* One line of a transcript. dir: 'C' client to server, 'S' server to
 * client, '#' a note of the harness (TLS started, connection closed, ...). */
typedef struct rp_io {
    char dir;
    int session;     /* 1 for the first connection of a scenario, 2, ... */
    double t_ms;     /* since the scenario started */
    char *text;      /* redacted; CR LF removed; other control octets and
                        8-bit octets escaped as \xNN */
    int redacted;    /* 1 when something was hidden in this line */
} rp_io;

typedef struct rp_case {
    char *id, *title, *file, *rfc, *section, *level, *quote, *role;
    char **tags;
    size_t ntags;
    rp_verdict verdict;
    char *reason;     /* one line: why this verdict */
    char *expected;   /* what the scenario expected (may be NULL) */
    char *got;        /* what came (may be NULL) */
    int line;         /* scenario line that decided the verdict, 0 if none */
    double duration_ms;
    rp_io *io;
    size_t nio, capio;
    int truncated;    /* transcript stopped at RP_MAX_IO entries */
    /* redactor state: inside an AUTH exchange of this session */
    int in_auth;
} rp_case;

/* Bounds that keep a report readable whatever a peer sends. */
#define RP_MAX_IO 2000        /* transcript entries per case */
#define RP_MAX_IO_TEXT 600    /* octets of one transcript line, after escaping */
#define RP_MAX_SECRETS 16

typedef struct rp_run {
    char *tool;        /* "pop3spec 0.1.0" */
    char *role;        /* "server" or "client" */
    char *target;      /* profile name or host:port */
    char *tls_mode;    /* "none", "stls", "implicit" */
    int insecure;      /* TLS verification turned off by --insecure */
    char *started;     /* ISO 8601 UTC */
    double duration_ms;
    int interrupted;   /* the run was stopped (Ctrl-C) before the end */
    rp_case *cases;
    size_t ncases, capcases;
    char **notes;      /* free-form lines shown in every report */
    size_t nnotes;
    char *secrets[RP_MAX_SECRETS]; /* values never to show */
    size_t nsecrets;
} rp_run;

/* Lifetime. rp_run_init zeroes and sets tool/role/target/tls_mode/started. */
void rp_run_init(rp_run *r, const char *role, const char *target, const char *tls_mode);
void rp_run_free(rp_run *r);
void rp_run_note(rp_run *r, const char *note);
/* Register a secret value (password, ...): every later transcript line has
 * each occurrence of it, and of its base64 form, replaced. Values shorter
 * than 3 octets are refused (-1): hiding "a" would hide everything. */
int rp_run_secret(rp_run *r, const char *value);

/* Drop every case from index n on (an interrupted run keeps what ran). */
void rp_run_truncate(rp_run *r, size_t n);
/* Add a case; the returned pointer stays valid until the next rp_run_add. */
rp_case *rp_run_add(rp_run *r);
/* Set a string field of a case (copies; NULL allowed). */
void rp_set(char **field, const char *value);
void rp_case_tag(rp_case *c, const char *tag);
/* Record the verdict. reason, expected and got pass through the secret
 * filter too (a server may echo a password in its -ERR text). */
void rp_case_verdict(rp_run *r, rp_case *c, rp_verdict v, int line, const char *reason,
                     const char *expected, const char *got);
/* The secret filter alone, for text the caller prints itself (the terminal).
 * Returns a malloc'd copy; NULL only when out of memory. */
char *rp_filter(const rp_run *r, const char *text);

/* Append a transcript line (bytes as sent or received, CRLF optional).
 * Applies redaction: client "PASS x" -> "PASS <redacted>", "APOP u d" ->
 * "APOP u <redacted>", "AUTH m resp" -> "AUTH m <redacted>", every line of
 * an AUTH exchange in either direction until the final +OK / -ERR, and every
 * occurrence of a registered secret. */
void rp_case_add_io(rp_run *r, rp_case *c, char dir, int session, double t_ms, const char *bytes,
                    size_t n);

/* Counts per verdict over the whole run. */
void rp_run_counts(const rp_run *r, size_t counts[RP__COUNT]);

/* Writers: each writes to path atomically (a temporary file renamed into
 * place). Return 0, or -1 with err set. */
int rp_write_junit(const rp_run *r, const char *path, char *err, size_t errlen);
int rp_write_json(const rp_run *r, const char *path, char *err, size_t errlen);
int rp_write_html(const rp_run *r, const char *path, char *err, size_t errlen);
/* All three into dir (created if missing) as junit.xml, report.json,
 * report.html. */
int rp_write_all(const rp_run *r, const char *dir, char *err, size_t errlen);

/* The terminal summary: one row per RFC and section with counts per
 * verdict, then totals, then every FAIL/WARN/ERROR with id and reason. */
void rp_print_summary(const rp_run *r, FILE *out, int color);

#endif
