/*
 * run.h - the scenario runner: target profiles, the interpreter of one
 * scenario against a server, and `pop3spec server` (the CLI).
 */
#ifndef RUN_H
#define RUN_H

#include <stddef.h>
#include <stdint.h>

#include "rp.h"
#include "sc.h"

/* ---------------------------------------------------------------------------
 * Target profiles (run_profile.c). One small "key = value" file per target;
 * the keys are documented in profiles/README.md. Credentials are never in a
 * profile: it names the environment variables (or files) that hold them.
 */
typedef enum run_tls {
    RUN_TLS_NONE = 0,
    RUN_TLS_STLS = 1,     /* RFC 2595: plain connection upgraded by STLS */
    RUN_TLS_IMPLICIT = 2  /* RFC 8314: TLS from the first octet (port 995) */
} run_tls;

#define RUN_MAX_PROPS 32

typedef struct run_profile {
    char *path;           /* the file it came from ("-" for flags only) */
    char *name;
    char *host;
    unsigned port;        /* 0: 110 (none, stls) or 995 (implicit) */
    run_tls tls;
    char *ca_file;        /* NULL: the system store */
    char *tls_name;       /* name to verify and send as SNI; NULL: host */
    int insecure;         /* verification off (profile "verify = no" or
                             --insecure); stated in every report */
    char *user_env, *pass_env;   /* environment variable names */
    char *user_file, *pass_file; /* or files holding the values */
    char *seed_command;   /* run (sh -c) before each scenario that changes
                             the mailbox; NULL: none */
    int disposable;       /* DELE + QUIT allowed (tag destructive) */
    int builtin;          /* start the reference server in-process */
    int apop;             /* APOP secret is the password (1) or not (0) */
    int no_login;         /* no credentials ("login = no" or --no-login):
                             discovery stops before USER, and every scenario
                             that logs in is skipped */
    long messages;        /* messages the mailbox holds; -1 unknown */
    char *props[RUN_MAX_PROPS]; /* extra properties for "requires:" */
    size_t nprops;
    uint32_t timeout_ms;  /* per read; 0: 10 s */
} run_profile;

/* Defaults for every field. */
void run_profile_init(run_profile *p);
void run_profile_free(run_profile *p);

/* Parse profile text. Returns 0, or -1 with "path:line: message" in err.
 * Unknown keys are errors (a typo must not silently weaken a run). */
int run_profile_parse(run_profile *p, const char *path, const char *buf, size_t len, char *err,
                      size_t errlen);
int run_profile_load(run_profile *p, const char *path, char *err, size_t errlen);

/* 1 when the profile has property name ("disposable-mailbox", ...). */
int run_profile_has(const run_profile *p, const char *name);

const char *run_tls_name(run_tls t); /* "none", "stls", "implicit" */

/* ---------------------------------------------------------------------------
 * Executing one server scenario (run_exec.c).
 */
typedef struct run_target {
    const run_profile *prof;
    const char *host;     /* resolved host (builtin: 127.0.0.1) */
    unsigned port;
    const char *user;     /* credentials (never printed) */
    const char *pass;
    struct nt_tls_ctx *tls; /* client TLS context, NULL when tls is none
                               and the scenario never starts TLS */
    char **capa;          /* capabilities the server announced (upper case
                             tag + params), discovered before the run */
    size_t ncapa;
    long messages;        /* STAT count at discovery, -1 unknown */
    uint32_t timeout_ms;
    unsigned flags;       /* RUN_F_* */
} run_target;

#define RUN_F_SLOW 1u     /* run scenarios tagged slow */

/* Run scenario s against t, filling c (verdict, transcript). Never fails:
 * harness trouble is an ERROR verdict. *stop is polled between steps (set
 * by SIGINT); when set, the case ends as ERROR "interrupted". */
void run_scenario(const sc_scenario *s, const run_target *t, rp_run *r, rp_case *c,
                  volatile int *stop);

/* 1 with reason set when the scenario cannot run on this target (SKIP). */
int run_requires_unmet(const sc_scenario *s, const run_target *t, char *reason, size_t len);

/* ---------------------------------------------------------------------------
 * CLI (run_main.c): `pop3spec server [options]`; argv[0] is "server".
 * Returns the process exit status (see harness/main.c).
 */
int run_server_main(int argc, char **argv);

#endif
