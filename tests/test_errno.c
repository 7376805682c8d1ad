/* The X-macro tables: every diagnostic, leniency and command has a distinct
 * name and a message, and out-of-range values are safe. */
#include <check.h>
#include <string.h>

#include "p3t.h"
#include "pop3parse.h"

START_TEST(errno_names)
{
    ck_assert_str_eq(p3_errno_name(P3_E_OK), "P3_E_OK");
    ck_assert_str_eq(p3_errno_name(P3_E_BARE_LF), "P3_E_BARE_LF");
    ck_assert_int_eq(P3_E_LINE_TOO_LONG, 1); /* numbers never change */
    ck_assert_int_eq(P3_E_TRUNCATED, 29);
    for (int i = 0; i < P3_E__COUNT; i++) {
        ck_assert(strncmp(p3_errno_name((p3_errno)i), "P3_E_", 5) == 0);
        ck_assert(strlen(p3_errno_msg((p3_errno)i)) > 5);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(p3_errno_name((p3_errno)i), p3_errno_name((p3_errno)j));
    }
    ck_assert_str_eq(p3_errno_name(P3_E__COUNT), "unknown");
    ck_assert_str_eq(p3_errno_msg((p3_errno)-1), "unknown");
}
END_TEST

START_TEST(leniency_names)
{
    ck_assert_str_eq(p3_leniency_name(P3_LENIENT_BARE_LF), "BARE_LF");
    ck_assert_str_eq(p3_leniency_name(P3_LENIENT_UID), "UID");
    ck_assert_ptr_nonnull(strstr(p3_leniency_desc(P3_LENIENT_STATUS_CASE), "+ok"));
    ck_assert_ptr_null(p3_leniency_name(0));
    ck_assert_ptr_null(p3_leniency_name(P3_LENIENT_BARE_LF | P3_LENIENT_BARE_CR));
    ck_assert_ptr_null(p3_leniency_desc(1u << 30));
}
END_TEST

START_TEST(command_keywords)
{
    ck_assert_str_eq(p3_cmd_keyword(P3_CMD_UNKNOWN), "");
    ck_assert_str_eq(p3_cmd_keyword(P3_CMD_TOP), "TOP");
    ck_assert_str_eq(p3_cmd_keyword(P3_CMD_LANG), "LANG");
    ck_assert_ptr_null(p3_cmd_keyword(P3_CMD__COUNT));
    for (int i = 1; i < P3_CMD__COUNT; i++) {
        size_t n = strlen(p3_cmd_keyword((p3_cmd_kind)i));
        ck_assert(n == 3 || n == 4);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("errno");
    TCase *t = tcase_create("tables");
    tcase_add_test(t, errno_names);
    tcase_add_test(t, leniency_names);
    tcase_add_test(t, command_keywords);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return p3t_run(suite()); }
