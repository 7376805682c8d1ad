/*
 * pop3parse_limits.h - every limit of the POP3 parser, in one place, each with
 * the RFC text that sets it. The parser never reads more than these bounds
 * (or the length the caller passes, whichever is smaller) before it decides.
 */
#ifndef POP3PARSE_LIMITS_H
#define POP3PARSE_LIMITS_H

/* RFC 2449 section 4: "The maximum length of a command is increased from 47
 * characters (4 character command, single space, 40 character argument, CRLF)
 * to 255 octets, including the terminating CRLF." */
#define P3_MAX_CMD_LINE 255

/* RFC 1939 section 3: "Each argument may be up to 40 characters long." */
#define P3_MAX_ARG 40

/* RFC 1939 section 3: "Keywords are three or four characters long."
 * RFC 2449 section 3: keyword = 3*4VCHAR */
#define P3_MIN_KEYWORD 3
#define P3_MAX_KEYWORD 4

/* RFC 2449 section 4: "The maximum length of the first line of a command
 * response (including the initial greeting) is unchanged at 512 octets
 * (including the terminating CRLF)." RFC 1939 section 3: "Responses may be
 * up to 512 characters long, including the terminating CRLF." */
#define P3_MAX_RESP_LINE 512

/* RFC 2449 section 5: "Each capability line is limited to 512 octets
 * (including the CRLF)." */
#define P3_MAX_CAPA_LINE 512

/* RFC 1939 section 7 (UIDL): "The unique-id of a message is an arbitrary
 * server-determined string, consisting of one to 70 characters in the range
 * 0x21 to 0x7E" */
#define P3_MIN_UID 1
#define P3_MAX_UID 70

/* Not an RFC limit: the most arguments a parsed command keeps. No RFC command
 * takes more than two (APOP name digest, TOP msg n, AUTH mech initial); an
 * unknown command keeps up to this many and reports P3_E_TOO_MANY_ARGS past it.
 * 255 octets hold at most 126 single-octet arguments. */
#define P3_MAX_ARGS 8

/* Not an RFC limit: the most parameters kept from one CAPA line
 * (RFC 2449 section 3: capability = capa-tag *(SP param) CRLF). */
#define P3_MAX_CAPA_PARAMS 16

/* RFC 5034 section 4 sets no limit on a client's SASL continuation line
 * ("A client response consists of a line containing a string encoded as
 * Base64"). Bounded memory needs one: 8 KiB carries a 6 KiB SASL token,
 * more than PLAIN, LOGIN, CRAM-MD5 or SCRAM ever send. */
#define P3_MAX_SASL_LINE 8192

#endif
