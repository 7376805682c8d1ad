#include "p3t.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct region {
    char *base;
    size_t size;
};

static const char *guard_copy(struct region *r, const void *data, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (n + page - 1) / page + 1;
    if (r->base)
        munmap(r->base, r->size);
    r->size = pages * page;
    r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->base == MAP_FAILED) {
        perror("mmap");
        abort();
    }
    char *guard = r->base + (pages - 1) * page;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        perror("mprotect");
        abort();
    }
    char *p = guard - n;
    if (n)
        memcpy(p, data, n);
    return p;
}

const char *p3t_guard(const void *data, size_t n)
{
    static struct region r;
    return guard_copy(&r, data, n);
}

const char *p3t_guard2(const void *data, size_t n)
{
    static struct region r;
    return guard_copy(&r, data, n);
}

int p3t_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void p3t_poison(void *p, size_t n) { memset(p, 0xa5, n); }

int p3t_is_poison(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != 0xa5)
            return 0;
    return 1;
}

int p3t_slice_is(p3_slice s, const char *z)
{
    size_t n = strlen(z);
    return s.n == n && (n == 0 || memcmp(s.p, z, n) == 0);
}
