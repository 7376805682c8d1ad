/* Names and messages of diagnostics, leniencies and commands, all generated
 * from the X-macro tables of pop3parse.h. */
#include "pop3parse.h"

static const char *const errno_names[] = {
#define P3_XX(num, name, msg) [num] = "P3_E_" #name,
    P3_ERRNO_MAP(P3_XX)
#undef P3_XX
};

static const char *const errno_msgs[] = {
#define P3_XX(num, name, msg) [num] = msg,
    P3_ERRNO_MAP(P3_XX)
#undef P3_XX
};

const char *p3_errno_name(p3_errno e)
{
    if ((unsigned)e >= P3_E__COUNT || !errno_names[e])
        return "unknown";
    return errno_names[e];
}

const char *p3_errno_msg(p3_errno e)
{
    if ((unsigned)e >= P3_E__COUNT || !errno_msgs[e])
        return "unknown";
    return errno_msgs[e];
}

static const struct {
    unsigned bit;
    const char *name;
    const char *desc;
} leniencies[] = {
#define P3_XX(bit, name, desc) {1u << (bit), #name, desc},
    P3_LENIENCY_MAP(P3_XX)
#undef P3_XX
};

const char *p3_leniency_name(unsigned bit_value)
{
    for (size_t i = 0; i < sizeof leniencies / sizeof leniencies[0]; i++)
        if (leniencies[i].bit == bit_value)
            return leniencies[i].name;
    return NULL;
}

const char *p3_leniency_desc(unsigned bit_value)
{
    for (size_t i = 0; i < sizeof leniencies / sizeof leniencies[0]; i++)
        if (leniencies[i].bit == bit_value)
            return leniencies[i].desc;
    return NULL;
}

static const char *const cmd_keywords[] = {
#define P3_XX(num, name, kw, mina, maxa, t1, t2) [num] = kw,
    P3_CMD_MAP(P3_XX)
#undef P3_XX
};

const char *p3_cmd_keyword(p3_cmd_kind k)
{
    if ((unsigned)k >= P3_CMD__COUNT)
        return NULL;
    return cmd_keywords[k];
}
