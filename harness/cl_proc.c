/* The client under test as a child process: its own session and process
 * group (so that a timeout kills everything it started), bounded capture
 * of its output, and a reaping that never blocks past a deadline. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cl.h"
#include "nt.h"

typedef struct capture {
    int fd[2];      /* stdout, stderr read ends; -1 when closed */
    int stop[2];    /* the finish side writes one octet to stop[1] */
    pthread_t th;
    int running;
    cl_proc *p;
} capture;

static void keep(cl_proc *p, int which, const char *b, size_t n)
{
    char **buf = which ? &p->err : &p->out;
    size_t *len = which ? &p->nerr : &p->nout;
    size_t *lost = which ? &p->lost_err : &p->lost_out;
    size_t room = *len < CL_OUT_CAP ? CL_OUT_CAP - *len : 0;
    size_t k = n < room ? n : room;
    if (k) {
        if (!*buf)
            *buf = malloc(CL_OUT_CAP + 1);
        if (*buf) {
            memcpy(*buf + *len, b, k);
            *len += k;
            (*buf)[*len] = 0;
        }
    }
    *lost += n - k;
}

/* Drains both pipes, keeping at most CL_OUT_CAP octets of each: a client
 * that writes gigabytes to stdout neither blocks on a full pipe nor fills
 * the disk or the memory. */
static void *capture_main(void *arg)
{
    capture *c = arg;
    char buf[8192];
    int stopping = 0;
    unsigned after_stop = 0;
    for (;;) {
        /* Bounded even when a process outside the group keeps writing. */
        if (stopping && ++after_stop > 64)
            break;
        struct pollfd pf[3];
        int n = 0, idx[3];
        for (int i = 0; i < 2; i++)
            if (c->fd[i] >= 0) {
                pf[n].fd = c->fd[i];
                pf[n].events = POLLIN;
                idx[n++] = i;
            }
        if (n == 0)
            break;
        pf[n].fd = c->stop[0];
        pf[n].events = POLLIN;
        idx[n] = 2;
        int r = poll(pf, (nfds_t)n + (stopping ? 0 : 1), stopping ? 0 : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* stopping and nothing more is readable right now */
        for (int i = 0; i <= n; i++) {
            if (i == n && stopping)
                break;
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (idx[i] == 2) {
                stopping = 1;
                continue;
            }
            ssize_t k = read(pf[i].fd, buf, sizeof buf);
            if (k > 0) {
                keep(c->p, idx[i], buf, (size_t)k);
            } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(c->fd[idx[i]]);
                c->fd[idx[i]] = -1;
            }
        }
    }
    return NULL;
}

int cl_proc_start(cl_proc *p, const char *cmd, char *const *env, const char *dir, char *err,
                  size_t errlen)
{
    memset(p, 0, sizeof *p);
    capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Orphans of the client (a background child whose shell was killed)
     * are re-parented to us, not to an init that may never reap them, so
     * that cl_proc_finish can reap the whole group. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    c->stop[0] = c->stop[1] = -1;
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(c->stop, O_CLOEXEC)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        snprintf(err, errlen, "/dev/null: %s", strerror(errno));
        goto fail;
    }
    /* Everything the child needs is prepared before fork: between fork and
     * exec only async-signal-safe calls are allowed (we have threads). */
    char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (dir && chdir(dir) != 0)
            _exit(126);
        /* Default dispositions for the client, whatever ours are. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        for (int s = 1; s < 32; s++)
            if (s != SIGKILL && s != SIGSTOP)
                sigaction(s, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int fork_errno = errno;
    close(devnull);
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(fork_errno));
        goto fail;
    }
    p->pid = pid;
    p->t_start = nt_now_ms();
    c->fd[0] = po[0];
    c->fd[1] = pe[0];
    c->p = p;
    p->priv = c;
    if (pthread_create(&c->th, NULL, capture_main, c) == 0) {
        c->running = 1;
    } else {
        /* Without the thread nobody drains the pipes: close them, the
         * client then gets EPIPE on output instead of blocking. */
        close(c->fd[0]);
        close(c->fd[1]);
        c->fd[0] = c->fd[1] = -1;
    }
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
        if (c->stop[i] >= 0)
            close(c->stop[i]);
    }
    free(c);
    return -1;
}

int cl_proc_poll(cl_proc *p)
{
    if (p->exited)
        return 1;
    if (p->pid <= 0)
        return 1;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->exited = 1;
        p->status = st;
        p->t_end = nt_now_ms();
        return 1;
    }
    if (r < 0 && errno == ECHILD) {
        p->exited = 1;
        p->status = 0xff00;
        p->t_end = nt_now_ms();
        return 1;
    }
    return 0;
}

int cl_proc_wait(cl_proc *p, int64_t deadline)
{
    for (;;) {
        if (cl_proc_poll(p))
            return 1;
        int64_t now = nt_now_ms();
        if (now >= deadline)
            return 0;
        int64_t ms = deadline - now < 20 ? deadline - now : 20;
        struct timespec ts = {0, (long)ms * 1000000};
        nanosleep(&ts, NULL);
    }
}

void cl_proc_finish(cl_proc *p, unsigned grace_ms)
{
    if (p->pid <= 0)
        return;
    if (!cl_proc_poll(p)) {
        kill(-p->pid, SIGTERM);
        if (!cl_proc_wait(p, nt_deadline(grace_ms))) {
            kill(-p->pid, SIGKILL);
            /* SIGKILL cannot be ignored: the wait ends promptly. */
            cl_proc_wait(p, nt_deadline(5000));
        }
        p->killed = 1;
    }
    /* Children the client left in its group (a background `sleep`, a
     * daemonised helper that did not setsid) must not outlive the run. */
    kill(-p->pid, SIGKILL);
    /* Reap them (we are their subreaper): no zombie of the group stays. */
    int64_t dl = nt_deadline(2000);
    for (;;) {
        int st;
        pid_t r = waitpid(-p->pid, &st, WNOHANG);
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || nt_now_ms() >= dl)
            break;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    capture *c = p->priv;
    if (c && c->running) {
        /* Let the thread drain what is still buffered in the pipes, then
         * stop it, even when some process outside the group holds them. */
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        char one = 1;
        ssize_t w = write(c->stop[1], &one, 1);
        (void)w;
        pthread_join(c->th, NULL);
        c->running = 0;
        for (int i = 0; i < 2; i++)
            if (c->fd[i] >= 0) {
                close(c->fd[i]);
                c->fd[i] = -1;
            }
    }
}

void cl_proc_describe(const cl_proc *p, char *out, size_t cap)
{
    if (!p->exited)
        snprintf(out, cap, "running");
    else if (WIFEXITED(p->status))
        snprintf(out, cap, "exit %d", WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(p->status),
                 strsignal(WTERMSIG(p->status)));
    else
        snprintf(out, cap, "status 0x%x", (unsigned)p->status);
}

void cl_proc_free(cl_proc *p)
{
    capture *c = p->priv;
    if (c) {
        if (c->running)
            cl_proc_finish(p, 0);
        for (int i = 0; i < 2; i++) {
            if (c->fd[i] >= 0)
                close(c->fd[i]);
            if (c->stop[i] >= 0)
                close(c->stop[i]);
        }
        free(c);
    }
    free(p->out);
    free(p->err);
    memset(p, 0, sizeof *p);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: a file the client locked must not stop the rest */
    return 0;
}

void cl_rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
