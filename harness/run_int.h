/*
 * run_int.h - runner internals shared by run_main.c and run_exec.c.
 */
#ifndef RUN_INT_H
#define RUN_INT_H

#include "run.h"

/* Fill t from the profile: TLS context (verification per profile), user
 * and password (copied), timeouts. 0, or -1 with err. */
int run_target_init(run_target *t, const run_profile *p, const char *user, const char *pass,
                    char *err, size_t errlen);
void run_target_free(run_target *t);

/* Connect once, read the greeting, CAPA (after STLS when the profile says
 * stls), log in (not with no_login), STAT, QUIT: fills t->capa and
 * t->messages. Everything it sees goes into the run's notes only when
 * something fails. 0; -1 with err when the server answered wrongly or not
 * at all; RUN_UNREACHABLE with err when no TCP connection could be made. */
#define RUN_UNREACHABLE (-2)
int run_discover(run_target *t, rp_run *r, char *err, size_t errlen);
/* Copy the discovered capabilities and count from src. */
void run_target_copy_discovery(run_target *dst, const run_target *src);

/* Built-in target: re-seed job's demo mailbox (run_main.c). */
int run_builtin_seed(void *bctx, unsigned job);

#endif
