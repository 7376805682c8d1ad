#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

static ref_server *g_srv;

static void on_signal(int sig)
{
    (void)sig;
    if (g_srv)
        ref_server_kick(g_srv);
}

static void usage(FILE *f)
{
    fputs("usage: pop3spec serve [options]\n"
          "  --listen HOST:PORT      plain POP3, STLS when a certificate is set\n"
          "                          (default 127.0.0.1:1110 when no listener is given)\n"
          "  --listen-tls HOST:PORT  implicit TLS (RFC 8314, usually port 995)\n"
          "  --mailbox DIR           message files (one per message) or a maildir\n"
          "  --users FILE            lines \"user:password\" (never on the command line)\n"
          "  --cert FILE --key FILE  PEM certificate and key for STLS / implicit TLS\n"
          "  --port-file FILE        write \"pop3 PORT\" / \"pop3s PORT\" after binding\n"
          "  --once                  serve one connection, then exit\n"
          "  --timeout SECONDS       inactivity autologout (default 600; RFC 1939 section 3:\n"
          "                          at least 10 minutes, shorter only for tests)\n"
          "  --max-sessions N        concurrent sessions (default 64)\n"
          "  --seed-demo DIR         write the demo mailbox DIR/mail and DIR/users\n"
          "                          (user mrose, password tanstaaf) and serve them\n"
          "  --seed-only             with --seed-demo: write, do not serve\n"
          "  --quiet                 no log on stderr\n",
          f);
}

/* Plain decimal, no sign, no overflow: the house rules ban atoi. */
static int parse_uint(const char *s, unsigned *out)
{
    unsigned long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 0xFFFFFFul)
            return -1;
    }
    *out = (unsigned)v;
    return 0;
}

int ref_main(int argc, char **argv)
{
    ref_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = stderr;
    const char *seed = NULL;
    int seed_only = 0;
    char mail_path[4096], users_path[4096];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--once")) {
            cfg.once = 1;
            continue;
        } else if (!strcmp(a, "--quiet")) {
            cfg.log = NULL;
            continue;
        } else if (!strcmp(a, "--seed-only")) {
            seed_only = 1;
            continue;
        } else if (!strcmp(a, "--listen")) {
            dst = &cfg.listen;
        } else if (!strcmp(a, "--listen-tls")) {
            dst = &cfg.listen_tls;
        } else if (!strcmp(a, "--mailbox")) {
            dst = &cfg.mailbox;
        } else if (!strcmp(a, "--users")) {
            dst = &cfg.users;
        } else if (!strcmp(a, "--cert")) {
            dst = &cfg.cert;
        } else if (!strcmp(a, "--key")) {
            dst = &cfg.key;
        } else if (!strcmp(a, "--port-file")) {
            dst = &cfg.port_file;
        } else if (!strcmp(a, "--seed-demo")) {
            dst = &seed;
        } else if (!strcmp(a, "--timeout") || !strcmp(a, "--max-sessions")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "pop3spec serve: %s needs a value\n", a);
                return 2;
            }
            unsigned v;
            if (parse_uint(argv[i + 1], &v) != 0 || v == 0) {
                fprintf(stderr, "pop3spec serve: %s: not a positive number: %s\n", a, argv[i + 1]);
                return 2;
            }
            if (a[2] == 't')
                cfg.timeout = v;
            else
                cfg.max_sessions = v;
            i++;
            continue;
        } else {
            fprintf(stderr, "pop3spec serve: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "pop3spec serve: %s needs a value\n", a);
            return 2;
        }
        *dst = argv[++i];
    }

    if (seed) {
        if (ref_seed_demo(seed) != 0) {
            fprintf(stderr, "pop3spec serve: cannot write the demo mailbox in %s: ", seed);
            perror(NULL);
            return 1;
        }
        int n1 = snprintf(mail_path, sizeof mail_path, "%s/mail", seed);
        int n2 = snprintf(users_path, sizeof users_path, "%s/users", seed);
        if (n1 < 0 || (size_t)n1 >= sizeof mail_path || n2 < 0 || (size_t)n2 >= sizeof users_path) {
            fprintf(stderr, "pop3spec serve: path too long: %s\n", seed);
            return 2;
        }
        if (!cfg.mailbox)
            cfg.mailbox = mail_path;
        if (!cfg.users)
            cfg.users = users_path;
        if (cfg.log)
            fprintf(cfg.log, "pop3spec serve: demo mailbox in %s (user mrose, password in %s)\n",
                    mail_path, users_path);
        if (seed_only)
            return 0;
    } else if (seed_only) {
        fprintf(stderr, "pop3spec serve: --seed-only needs --seed-demo DIR\n");
        return 2;
    }
    if (!cfg.mailbox || !cfg.users) {
        fprintf(stderr, "pop3spec serve: --mailbox and --users are required (or --seed-demo)\n");
        usage(stderr);
        return 2;
    }
    if ((cfg.cert == NULL) != (cfg.key == NULL)) {
        fprintf(stderr, "pop3spec serve: --cert and --key go together\n");
        return 2;
    }
    if (cfg.listen_tls && !cfg.cert) {
        fprintf(stderr, "pop3spec serve: --listen-tls needs --cert and --key\n");
        return 2;
    }
    if (!cfg.listen && !cfg.listen_tls)
        cfg.listen = "127.0.0.1:1110";
    /* Short timers are handy in tests, but RFC 1939 section 3 says the timer
     * "MUST be of at least 10 minutes' duration". */
    if (cfg.timeout && cfg.timeout < 600 && cfg.log)
        fprintf(cfg.log, "pop3spec serve: warning: --timeout %u is below the 600 s RFC 1939 "
                         "section 3 requires\n", cfg.timeout);

    char err[512];
    ref_server *srv;
    if (ref_server_start(&cfg, &srv, err, sizeof err) != 0) {
        fprintf(stderr, "pop3spec serve: %s\n", err);
        return 1;
    }
    g_srv = srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (cfg.log) {
        if (ref_server_port(srv, 0))
            fprintf(cfg.log, "pop3spec serve: pop3 on port %u%s\n", ref_server_port(srv, 0),
                    cfg.cert ? " (STLS offered)" : "");
        if (ref_server_port(srv, 1))
            fprintf(cfg.log, "pop3spec serve: pop3s (implicit TLS) on port %u\n",
                    ref_server_port(srv, 1));
    }
    ref_server_wait(srv);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    g_srv = NULL;
    ref_server_stop(srv);
    return 0;
}
