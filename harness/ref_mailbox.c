#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ref.h"

/* Mailboxes larger than this are refused at login: the reference server keeps
 * a session's messages in memory so that LIST sizes and RETR octets can never
 * disagree, even if a file changes on disk during the session. */
#define REF_MAX_MAILBOX ((size_t)512 << 20)

int ref_normalise(const char *in, size_t n, char **out, size_t *out_len)
{
    /* Worst case every octet is a line end that doubles, plus a final CRLF. */
    if (n > (SIZE_MAX - 3) / 2)
        return -1;
    char *o = malloc(2 * n + 3);
    if (!o)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '\r') {
            o[k++] = '\r';
            o[k++] = '\n';
            if (i + 1 < n && in[i + 1] == '\n')
                i++;
        } else if (c == '\n') {
            o[k++] = '\r';
            o[k++] = '\n';
        } else {
            o[k++] = c;
        }
    }
    /* RFC 1939 section 3 ends a multi-line response with CRLF "." CRLF, the
     * first CRLF being the last data line's own: a message must end in one. */
    if (k > 0 && o[k - 1] != '\n') {
        o[k++] = '\r';
        o[k++] = '\n';
    }
    o[k] = '\0';
    *out = o;
    *out_len = k;
    return 0;
}

static int read_file(const char *path, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > REF_MAX_MAILBOX) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = malloc(cap);
    if (!b) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap > REF_MAX_MAILBOX) {
                free(b);
                close(fd);
                errno = EFBIG;
                return -1;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                close(fd);
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            free(b);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return 0;
}

/* RFC 1939 section 7: "The unique-id of a message is an arbitrary
 * server-determined string, consisting of one to 70 characters in the range
 * 0x21 to 0x7E, which uniquely identifies a message within a maildrop and
 * which persists across sessions." A name that does not qualify is hashed,
 * which is just as persistent. */
static void make_uid(const char *name, size_t n, char uid[71])
{
    int ok = n >= 1 && n <= 70;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)name[i] >= 0x21 && (unsigned char)name[i] <= 0x7E;
    if (ok) {
        memcpy(uid, name, n);
        uid[n] = '\0';
        return;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (EVP_Digest(name, n, md, &mdlen, EVP_md5(), NULL) != 1)
        mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < mdlen; i++) {
        uid[2 * i] = hex[md[i] >> 4];
        uid[2 * i + 1] = hex[md[i] & 15];
    }
    uid[2 * mdlen] = '\0';
    if (mdlen == 0) {
        uid[0] = '0';
        uid[1] = '\0';
    }
}

static int msg_cmp(const void *a, const void *b)
{
    return strcmp(((const ref_msg *)a)->uid, ((const ref_msg *)b)->uid);
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *p = malloc(na + nb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + 1, b, nb + 1);
    return p;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Add every regular, non-hidden file of dir. maildir: the unique-id stops at
 * the ":" that starts the maildir info ("unique:2,S"), which changes when a
 * message is read, so the unique-id stays the same. */
static int scan_dir(ref_mailbox *mb, size_t *cap, const char *dir, int maildir, size_t *total)
{
    DIR *d = opendir(dir);
    if (!d)
        return maildir && errno == ENOENT ? 0 : -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = join(dir, e->d_name);
        if (!path) {
            rc = -1;
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        char *raw;
        size_t rawlen;
        if (read_file(path, &raw, &rawlen) != 0) {
            free(path);
            rc = -1;
            break;
        }
        ref_msg m;
        memset(&m, 0, sizeof m);
        m.path = path;
        int nr = ref_normalise(raw, rawlen, &m.data, &m.size);
        free(raw);
        if (nr != 0 || m.size > REF_MAX_MAILBOX - *total) {
            free(m.data);
            free(path);
            errno = nr != 0 ? ENOMEM : EFBIG;
            rc = -1;
            break;
        }
        *total += m.size;
        size_t nlen = strlen(e->d_name);
        if (maildir) {
            const char *colon = strchr(e->d_name, ':');
            if (colon)
                nlen = (size_t)(colon - e->d_name);
        }
        make_uid(e->d_name, nlen, m.uid);
        if (mb->count == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            ref_msg *nm = realloc(mb->msgs, ncap * sizeof *nm);
            if (!nm) {
                free(m.data);
                free(path);
                rc = -1;
                break;
            }
            mb->msgs = nm;
            *cap = ncap;
        }
        mb->msgs[mb->count++] = m;
    }
    int saved = errno;
    closedir(d);
    errno = saved;
    return rc;
}

int ref_mailbox_lock(ref_mailbox *mb, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* flock locks belong to the open file description, so a second open in
     * this same process conflicts too: that is what makes [IN-USE] work
     * between the threads of one server as well as between processes. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        int saved = errno;
        close(fd);
        errno = saved;
        return busy ? 1 : -1;
    }
    mb->lock_fd = fd;
    return 0;
}

int ref_mailbox_load(ref_mailbox *mb, const char *dir)
{
    mb->msgs = NULL;
    mb->count = 0;
    size_t cap = 0, total = 0;
    char *cur = join(dir, "cur"), *nw = join(dir, "new");
    if (!cur || !nw) {
        free(cur);
        free(nw);
        return -1;
    }
    int rc;
    if (is_dir(cur) || is_dir(nw)) {
        rc = scan_dir(mb, &cap, cur, 1, &total);
        if (rc == 0)
            rc = scan_dir(mb, &cap, nw, 1, &total);
    } else {
        rc = scan_dir(mb, &cap, dir, 0, &total);
    }
    free(cur);
    free(nw);
    if (rc != 0) {
        int saved = errno;
        for (size_t i = 0; i < mb->count; i++) {
            free(mb->msgs[i].data);
            free(mb->msgs[i].path);
        }
        free(mb->msgs);
        mb->msgs = NULL;
        mb->count = 0;
        errno = saved;
        return -1;
    }
    if (mb->count > 1)
        qsort(mb->msgs, mb->count, sizeof *mb->msgs, msg_cmp);
    return 0;
}

void ref_mailbox_stat(const ref_mailbox *mb, size_t *count, uint64_t *octets)
{
    size_t c = 0;
    uint64_t o = 0;
    for (size_t i = 0; i < mb->count; i++) {
        if (!mb->msgs[i].deleted) {
            c++;
            o += mb->msgs[i].size;
        }
    }
    *count = c;
    *octets = o;
}

size_t ref_mailbox_update(ref_mailbox *mb)
{
    size_t failed = 0;
    for (size_t i = 0; i < mb->count; i++)
        if (mb->msgs[i].deleted && unlink(mb->msgs[i].path) != 0 && errno != ENOENT)
            failed++;
    return failed;
}

void ref_mailbox_free(ref_mailbox *mb)
{
    for (size_t i = 0; i < mb->count; i++) {
        free(mb->msgs[i].data);
        free(mb->msgs[i].path);
    }
    free(mb->msgs);
    mb->msgs = NULL;
    mb->count = 0;
    if (mb->lock_fd >= 0)
        close(mb->lock_fd);
    mb->lock_fd = -1;
}

/* ---------------------------------------------------------------------------
 * Demo mailbox.
 */

static int write_file(const char *dir, const char *name, const char *data, size_t n, mode_t mode)
{
    char *path = join(dir, name);
    if (!path)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    free(path);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

static int mkdir_p(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || (errno == EEXIST && is_dir(dir)))
        return 0;
    return -1;
}

static const char demo1[] =
    "From: Marshall Rose <mrose@dbc.mtview.ca.us>\n"
    "To: mrose@dbc.mtview.ca.us\n"
    "Subject: demo 1: plain text\n"
    "Date: Thu, 01 Jan 2026 00:00:01 +0000\n"
    "Message-ID: <demo1@pop3spec.invalid>\n"
    "\n"
    "Hello from the pop3spec reference server.\n"
    "This message has three body lines.\n"
    "The third line.\n";

static const char demo2[] =
    "From: Marshall Rose <mrose@dbc.mtview.ca.us>\n"
    "To: mrose@dbc.mtview.ca.us\n"
    "Subject: demo 2: lines starting with a dot\n"
    "Date: Thu, 01 Jan 2026 00:00:02 +0000\n"
    "Message-ID: <demo2@pop3spec.invalid>\n"
    "\n"
    ".this line starts with a dot\n"
    "..and this one with two\n"
    ".\n"
    "the line above is a lone dot, which must be sent as \"..\"\n"
    ". \n"
    "last line\n";

static const char demo3[] =
    "From: Marshall Rose <mrose@dbc.mtview.ca.us>\n"
    "To: mrose@dbc.mtview.ca.us\n"
    "Subject: demo 3: empty body\n"
    "Date: Thu, 01 Jan 2026 00:00:03 +0000\n"
    "Message-ID: <demo3@pop3spec.invalid>\n"
    "\n";

static const char demo4[] =
    "From: Marshall Rose <mrose@dbc.mtview.ca.us>\n"
    "To: mrose@dbc.mtview.ca.us\n"
    "Subject: demo 4: 8-bit text\n"
    "Date: Thu, 01 Jan 2026 00:00:04 +0000\n"
    "Message-ID: <demo4@pop3spec.invalid>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "UTF-8: gr\xc3\xbc\xc3\x9f Gott, \xe2\x82\xac 5, \xe6\x97\xa5\xe6\x9c\xac\n"
    "Latin-1 octets: \xe9\xe8\xff\n"
    "\x80\x81 high octets at the start of a line\n";

int ref_mailbox_seed(const char *dir)
{
    if (mkdir_p(dir) != 0)
        return -1;
    if (write_file(dir, "0001.eml", demo1, sizeof demo1 - 1, 0600) != 0 ||
        write_file(dir, "0002.eml", demo2, sizeof demo2 - 1, 0600) != 0 ||
        write_file(dir, "0003.eml", demo3, sizeof demo3 - 1, 0600) != 0 ||
        write_file(dir, "0004.eml", demo4, sizeof demo4 - 1, 0600) != 0)
        return -1;

    static const char head[] = "From: Marshall Rose <mrose@dbc.mtview.ca.us>\n"
                               "To: mrose@dbc.mtview.ca.us\n"
                               "Subject: demo 5: about 100 KiB\n"
                               "Date: Thu, 01 Jan 2026 00:00:05 +0000\n"
                               "Message-ID: <demo5@pop3spec.invalid>\n"
                               "\n";
    /* 1600 lines of 64 octets (with LF): 102400 octets of body, every tenth
     * line starting with "." so that stuffing happens deep in a long body. */
    size_t cap = sizeof head + 1600 * 64;
    char *big = malloc(cap);
    if (!big)
        return -1;
    memcpy(big, head, sizeof head - 1);
    size_t k = sizeof head - 1;
    for (unsigned line = 1; line <= 1600; line++) {
        char *l = big + k;
        memset(l, 'a' + (char)(line % 26), 63);
        l[63] = '\n';
        if (line % 10 == 0)
            l[0] = '.';
        /* line number in decimal at offset 1, for humans reading a dump */
        unsigned v = line;
        for (int d = 5; d >= 1; d--) {
            l[d] = (char)('0' + v % 10);
            v /= 10;
        }
        l[6] = ' ';
        k += 64;
    }
    int rc = write_file(dir, "0005.eml", big, k, 0600);
    free(big);
    return rc;
}

int ref_seed_demo(const char *root)
{
    if (mkdir_p(root) != 0)
        return -1;
    char *mail = join(root, "mail");
    if (!mail)
        return -1;
    int rc = ref_mailbox_seed(mail);
    free(mail);
    if (rc != 0)
        return -1;
    static const char users[] = "# pop3spec demo user (RFC 1939 section 7 example)\n"
                                "mrose:tanstaaf\n";
    return write_file(root, "users", users, sizeof users - 1, 0600);
}
