/*
 * ref.h - the reference POP3 server of pop3spec ("pop3spec serve").
 *
 * This server defines what "PASS" means for every server scenario: each one
 * must pass against it. It follows RFC 1939 (POP3), RFC 2449 (CAPA, response
 * codes, PIPELINING), RFC 2595 (STLS), RFC 5034 + RFC 4616 (AUTH PLAIN),
 * RFC 3206 (AUTH, SYS response codes) and RFC 8314 (implicit TLS).
 *
 * Threads: ref_server_start() runs the accept loop in its own thread and one
 * thread per connection; every function here is safe to call from the thread
 * that started the server. Nothing here writes to stdout; diagnostics go to
 * ref_config.log when it is set.
 */
#ifndef REF_H
#define REF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Mailbox (ref_mailbox.c).
 *
 * A mailbox is a directory. Either a maildir (it has cur/ or new/: every
 * regular file in both, the unique-id is the maildir unique name, i.e. the
 * file name up to its ":" info part), or a plain directory with one file per
 * message (the unique-id is the file name). Files whose name starts with "."
 * are ignored. Messages are numbered 1..n in the byte order of their
 * unique-ids (for a plain directory: sorted by file name). A unique-id that is
 * not 1-70 octets of 0x21-0x7E is replaced by the MD5 hex of the name, so that
 * unique-ids persist across sessions (RFC 1939 section 7, UIDL).
 *
 * Messages are normalised when loaded: LF and bare CR become CRLF, and a
 * last line without a line end gets CRLF. Sizes are those of the normalised
 * form before dot-stuffing (RFC 1939 section 11).
 */
typedef struct ref_msg {
    char *path;    /* file to unlink in the UPDATE state */
    char uid[71];  /* NUL-terminated, 1-70 octets of 0x21-0x7E */
    char *data;    /* normalised content (CRLF line ends) */
    size_t size;   /* octets of data */
    int deleted;   /* marked by DELE, cleared by RSET */
} ref_msg;

typedef struct ref_mailbox {
    ref_msg *msgs;
    size_t count;
    int lock_fd; /* flock()ed directory, -1 when not locked */
} ref_mailbox;

/* A mailbox with nothing loaded and no lock. */
#define REF_MAILBOX_INIT {NULL, 0, -1}

/* Normalise in[0..n) to CRLF line ends into a new malloc()ed buffer (NUL
 * terminated, not counted in *out_len). Returns 0, or -1 on out of memory. */
int ref_normalise(const char *in, size_t n, char **out, size_t *out_len);

/* Take the exclusive lock of mailbox directory dir (flock on the directory,
 * so it also excludes other processes). Returns 0 and sets mb->lock_fd, 1 when
 * another session holds it, -1 on error (errno set). */
int ref_mailbox_lock(ref_mailbox *mb, const char *dir);

/* Load every message of dir into mb, which holds no messages (lock_fd is
 * kept). 0 or -1 (errno; EFBIG over 512 MiB in all). */
int ref_mailbox_load(ref_mailbox *mb, const char *dir);

/* Count and octets of the messages not marked deleted. */
void ref_mailbox_stat(const ref_mailbox *mb, size_t *count, uint64_t *octets);

/* The UPDATE state: unlink every message marked deleted. Returns how many
 * could not be removed. */
size_t ref_mailbox_update(ref_mailbox *mb);

/* Free the messages and release the lock. mb may be reused after. */
void ref_mailbox_free(ref_mailbox *mb);

/* Write the deterministic demo mailbox into dir (created if missing; the
 * files it writes are overwritten, others are left alone): 5 messages named
 * 0001.eml .. 0005.eml, with LF line ends on disk:
 *   1: plain text; 2: lines starting with "." (dot-stuffing, and a lone ".");
 *   3: headers only, empty body; 4: 8-bit (UTF-8 and Latin-1) text;
 *   5: about 100 KiB of text.
 * Returns 0 or -1 (errno). */
int ref_mailbox_seed(const char *dir);

/* Write the demo layout under root: root/mail (ref_mailbox_seed) and
 * root/users with the one line "mrose:tanstaaf" (the RFC 1939 section 7
 * example). Returns 0 or -1 (errno). */
int ref_seed_demo(const char *root);

/* ---------------------------------------------------------------------------
 * Server (ref_server.c, ref_session.c).
 */
typedef struct ref_config {
    const char *listen;      /* "HOST:PORT", plain POP3 (+ STLS with a cert); NULL: none */
    const char *listen_tls;  /* "HOST:PORT", implicit TLS (RFC 8314); NULL: none */
    const char *mailbox;     /* mailbox directory; a sub-directory named like
                                the user, when it exists, is that user's */
    const char *users;       /* file of "user:password" lines ('#' comments) */
    const char *cert;        /* PEM certificate (chain) for STLS / implicit TLS */
    const char *key;         /* PEM private key */
    const char *port_file;   /* written after binding: "pop3 PORT\n" and/or
                                "pop3s PORT\n", atomically (rename) */
    int once;                /* serve one connection, then stop */
    unsigned timeout;        /* inactivity autologout in seconds; 0: 600 */
    unsigned max_sessions;   /* concurrent sessions; 0: 64. Over it the
                                greeting is "-ERR [SYS/TEMP] ..." */
    FILE *log;               /* one line per event; NULL: silent */
} ref_config;

typedef struct ref_stats {
    uint64_t sessions;        /* connections accepted */
    uint64_t logins;          /* successful authentications */
    uint64_t lenient_long_arg;/* PASS / AUTH lines accepted only thanks to
                                 P3_LENIENT_LONG_ARG */
    uint64_t syntax_errors;   /* command lines the parser rejected */
} ref_stats;

typedef struct ref_server ref_server;

/* Load the users file, read the certificate, bind the listeners and start
 * the accept thread. On failure returns -1 with a message in err. */
int ref_server_start(const ref_config *cfg, ref_server **out, char *err, size_t errlen);

/* The bound port of the plain (tls = 0) or implicit-TLS (tls = 1) listener,
 * 0 when there is none. */
unsigned ref_server_port(const ref_server *srv, int tls);

/* Block until the server stops by itself (--once) or ref_server_stop() is
 * called from elsewhere (e.g. a signal handler through ref_server_kick). */
void ref_server_wait(ref_server *srv);

/* Ask the server to stop; async-signal-safe (writes to a pipe). */
void ref_server_kick(ref_server *srv);

/* Stop accepting, close every session (no UPDATE: like a dropped
 * connection), join all threads and free srv. */
void ref_server_stop(ref_server *srv);

/* Counters so far (a consistent copy). */
void ref_server_stats(ref_server *srv, ref_stats *out);

/* ---------------------------------------------------------------------------
 * CLI (ref_main.c): pop3spec serve [options]; argv[0] is "serve".
 * Returns the process exit status.
 */
int ref_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
