#include <pop3parse.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    p3_cmd c; p3_diag d;
    const char *l = "RETR 7\r\n";
    ssize_t n = p3_cmd_parse(l, strlen(l), 0, &c, &d);
    printf("%zd %s %u\n", n, p3_cmd_keyword(c.kind), c.num[0]);
    return !(n == 8 && c.kind == P3_CMD_RETR && c.num[0] == 7);
}
