/*
 * cl.h - `pop3spec client`: testing a POP3 *client* program from the
 * outside. pop3spec listens on a loopback port, launches the client from a
 * profile's command template, plays the scripted server side of a role
 * client scenario (scenarios/FORMAT.md "Role client"), answers everything
 * the script does not cover with a built-in default responder, and judges
 * the commands the client sent, how it ended, and what it stored.
 *
 * Contract for everything here:
 *  - Every wait is bounded: the client gets the profile's timeout (default
 *    20 s) from launch; then its whole process group is sent SIGTERM and,
 *    after a short grace, SIGKILL, and it is reaped. Nothing a client does
 *    (hang, flood, exit early, fork children that stay in its group) can
 *    hang the runner or leave a process of that group behind.
 *  - Everything received from the client is bounded (command lines, the
 *    client's stdout/stderr, what it stored).
 *  - The password given to clients is generated per run, written only to a
 *    0600 file in the client's work directory, registered as a report
 *    secret, and never put on a command line.
 */
#ifndef CL_H
#define CL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rp.h"
#include "sc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Client profiles (cl_profile.c), profiles/clients/README.md.
 */
typedef enum cl_mode {
    CL_MODE_PLAIN = 0,    /* plain POP3, the client must not need TLS */
    CL_MODE_STLS = 1,     /* the client requires STLS (RFC 2595) */
    CL_MODE_STLS_OPT = 2, /* the client uses STLS if it is offered */
    CL_MODE_IMPLICIT = 3, /* TLS from the first octet (RFC 8314) */
    CL_MODE__COUNT
} cl_mode;

/* "plain", "stls", "stls-opt", "implicit"; and back (-1 when unknown). */
const char *cl_mode_name(cl_mode m);
int cl_mode_parse(const char *s, cl_mode *out);

typedef enum cl_store_kind {
    CL_STORE_FILES = 0,  /* one file per message in store-path (a folder) */
    CL_STORE_MAILDIR = 1, /* store-path is a maildir: new/ and cur/ */
    CL_STORE_MBOX = 2    /* store-path is one mbox file ("From " lines) */
} cl_store_kind;

#define CL_MAX_STRIP 16
#define CL_MAX_ACTIONS 8
#define CL_MAX_PROPS 32

typedef struct cl_profile {
    char *path;
    char *name;
    char *cmd[CL_MODE__COUNT];  /* command templates, NULL: mode unsupported */
    char *action_flags[CL_MAX_ACTIONS]; /* "action-NAME = flags" values */
    char *action_names[CL_MAX_ACTIONS]; /* their NAME ("fetch", ...) */
    size_t nactions;
    cl_store_kind store;
    char *store_path;           /* template, usually {outdir}/... */
    int lf;                     /* stores LF line ends (line-ends = lf) */
    int mbox_rd;                /* mbox quoting: ">From " unquoted (default 1) */
    char *strip[CL_MAX_STRIP];  /* header field names the client adds */
    size_t nstrip;
    int exit_ok;                /* the exit status meaning success (0) */
    uint32_t timeout_ms;        /* per client run; 0: 20 s */
    char *supports[CL_MAX_PROPS]; /* capabilities it can use: "APOP", ... */
    size_t nsupports;
    char *props[CL_MAX_PROPS];  /* properties for lower-case requires: */
    size_t nprops;
} cl_profile;

void cl_profile_init(cl_profile *p);
void cl_profile_free(cl_profile *p);
/* Parse profile text; 0, or -1 with "path:line: message" in err. Unknown
 * keys are errors. */
int cl_profile_parse(cl_profile *p, const char *path, const char *buf, size_t len, char *err,
                     size_t errlen);
int cl_profile_load(cl_profile *p, const char *path, char *err, size_t errlen);
/* The flags of action name, or NULL when the profile does not list it
 * ("fetch" is always supported, with "" flags unless listed). */
const char *cl_profile_action(const cl_profile *p, const char *name);

/* ---------------------------------------------------------------------------
 * The client process (cl_proc.c).
 */
#define CL_OUT_CAP (64u << 10) /* octets of stdout / stderr kept, each */

typedef struct cl_proc {
    pid_t pid;           /* also the process group id (setsid) */
    int64_t t_start;     /* nt_now_ms() at launch */
    int64_t t_end;       /* when it was reaped */
    int exited;          /* reaped */
    int status;          /* waitpid status when exited */
    int killed;          /* we had to kill it (timeout) */
    char *out, *err;     /* captured stdout / stderr (at most CL_OUT_CAP) */
    size_t nout, nerr;
    size_t lost_out, lost_err; /* octets dropped beyond the cap */
    void *priv;          /* capture thread state */
} cl_proc;

/* Launch `/bin/sh -c cmd` in its own session (setsid: own process group),
 * stdin /dev/null, stdout/stderr captured (bounded) by a thread, cwd dir,
 * environment exactly env (NULL-terminated "K=V"). 0, or -1 with err. */
int cl_proc_start(cl_proc *p, const char *cmd, char *const *env, const char *dir, char *err,
                  size_t errlen);
/* Reap without blocking: 1 when it has exited (now or before), else 0. */
int cl_proc_poll(cl_proc *p);
/* Wait until it exits or the deadline passes: 1 exited, 0 still running. */
int cl_proc_wait(cl_proc *p, int64_t deadline);
/* End it: when still running, SIGTERM to the group, up to grace_ms, then
 * SIGKILL and reap (p->killed = 1). Always SIGKILLs what is left of the
 * group afterwards (children left behind), stops the capture thread. Safe
 * to call twice. */
void cl_proc_finish(cl_proc *p, unsigned grace_ms);
/* "exit 0", "exit 3", "killed by signal 9", "running". */
void cl_proc_describe(const cl_proc *p, char *out, size_t cap);
void cl_proc_free(cl_proc *p);
/* Remove dir and everything below it (links themselves, not what they
 * point to); what cannot be removed is left. */
void cl_rm_tree(const char *dir);

/* ---------------------------------------------------------------------------
 * What the client stored (cl_store.c).
 */
typedef struct cl_stored {
    char *name;   /* file name, or "mbox #N" */
    char *data;   /* as stored, after the profile's transformations
                     (mbox separator removed and ">From" unquoted,
                     strip-headers removed) */
    size_t len;
    size_t raw_len; /* octets on disk */
} cl_stored;

#define CL_MAX_STORED 256
#define CL_MAX_STORED_OCTETS (64u << 20)

/* Collect the messages under path as the profile says. A missing path is
 * no message (0 with *n = 0). -1 with err on a read error or over the
 * bounds above. */
int cl_store_collect(const cl_profile *p, const char *path, cl_stored **out, size_t *n, char *err,
                     size_t errlen);
void cl_store_free(cl_stored *s, size_t n);
/* The form a served message (CRLF, un-stuffed) must have when stored by
 * this profile: LF line ends when line-ends = lf. malloc'd; NULL on OOM. */
char *cl_store_expect(const cl_profile *p, const char *msg, size_t n, size_t *outn);

/* ---------------------------------------------------------------------------
 * One scenario against one client (cl_exec.c).
 */
typedef struct cl_fixture {
    char *name;
    char *data; /* normalised: CRLF line ends, last line ended */
    size_t len;
} cl_fixture;

typedef struct cl_env {
    const cl_profile *prof;
    cl_mode mode;             /* transport of this run */
    const char *user;         /* what the client is configured with */
    const char *pass;         /* secret */
    const char *certdir;      /* nt_cert_make_dir output */
    const char *workroot;     /* per-scenario folders are made in here */
    struct nt_tls_ctx *tls_good, *tls_unknown, *tls_wrong;
    const cl_fixture *fix;
    size_t nfix;
    uint32_t timeout_ms;      /* per client run (profile or --timeout) */
    int keep;                 /* keep per-scenario folders */
} cl_env;

/* 1 with a reason when the scenario cannot run with this profile/mode. */
int cl_requires_unmet(const sc_scenario *s, const cl_env *e, char *reason, size_t len);

/* Run s: launch the client, play the server, judge; fills c. Never fails:
 * harness trouble is an ERROR verdict. */
void cl_run_scenario(const sc_scenario *s, const cl_env *e, rp_run *r, rp_case *c,
                     volatile int *stop);

/* Load every NAME.eml of dir as fixture NAME (normalised). -1 with err. */
int cl_fixtures_load(const char *dir, cl_fixture **out, size_t *n, char *err, size_t errlen);
void cl_fixtures_free(cl_fixture *f, size_t n);

/* CLI: `pop3spec client [options]`; argv[0] is "client". Exit status as
 * `pop3spec server`. */
int cl_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
