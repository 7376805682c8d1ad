/*
 * pop3spec - command-line entry: one subcommand per role.
 *
 * Exit codes (README.md "Exit codes"):
 *   0  success (for test runs: no MUST failed, no harness error)
 *   1  at least one FAIL (a MUST broken)
 *   2  usage error, bad scenario file, bad profile
 *   3  harness or network trouble (ERROR verdicts, no FAIL)
 *   4  internal error
 *   130 interrupted (Ctrl-C); the reports hold what ran
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cl.h"
#include "nt.h"
#include "ref.h"
#include "run.h"

static void usage(FILE *f)
{
    fputs("usage: pop3spec <command> [options]\n"
          "\n"
          "commands:\n"
          "  server     test a POP3 server: run the server scenarios against it\n"
          "  client     test a POP3 client program: play the server side of the client scenarios\n"
          "  serve      run the built-in reference POP3 server\n"
          "  certs DIR  write a test CA and test certificates into DIR\n"
          "  version    print the version\n"
          "\n"
          "`pop3spec <command> --help` describes each command's options.\n",
          f);
}

static int certs_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fputs("usage: pop3spec certs DIR\n"
              "  writes ca.pem, server.pem/.key (localhost, 127.0.0.1, ::1),\n"
              "  wrong-host.pem/.key (wrong.example) and unknown-ca.pem/.key\n",
              argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout
                                                                                  : stderr);
        return argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
    }
    char err[512];
    mkdir(argv[1], 0755);
    if (nt_cert_make_dir(argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "pop3spec certs: %s\n", err);
        return 4;
    }
    printf("pop3spec certs: wrote test certificates to %s\n", argv[1]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "server"))
        return run_server_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "client"))
        return cl_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return ref_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "certs"))
        return certs_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("pop3spec %s\n", P3S_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "pop3spec: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
