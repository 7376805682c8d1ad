#!/usr/bin/env python3
"""Writes the seed corpora corpus/fuzz_<name>/ (run from anywhere; rewrites
only the files it names). Inputs follow each target's layout: fuzz_cmd,
fuzz_sasl, fuzz_status, fuzz_greeting, fuzz_capa start with 2 flag bytes
(little-endian P3_LENIENT_* bits); fuzz_simd with 1 flag byte and 1 SIMD-path byte; fuzz_roundtrip
with 1 seed byte; fuzz_ml_split with [mode][cap][nsplit][piece lengths];
fuzz_ml_entry with [2 flag bytes][mode][nsplit][piece lengths]."""
import os

ROOT = os.path.dirname(os.path.abspath(__file__))
STRICT = b"\x00\x00"
ALL = b"\xff\x07"
BARE_LF = b"\x01\x00"


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def crlf(*lines):
    return b"".join(l + b"\r\n" for l in lines)


GREETINGS = {
    "rfc1939": b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
    "dovecot": b"+OK Dovecot (Debian) ready.",
    "dovecot_apop": b"+OK Dovecot ready. <2a4.1.6601c7a1.abcdEFgh==@mail.example.org>",
    "courier": b"+OK Hello there.",
    "cyrus": b"+OK mail.example.com Cyrus POP3 v3.6.1 server ready <2345678901.1@mail.example.com>",
    "qpopper": b"+OK Qpopper (version 4.1.0) at mail.example.com starting.  <1234.5678@mail.example.com>",
    "gmail": b"+OK Gimap ready for requests from 192.0.2.1 a1mb12345678abc",
    "exchange": b"+OK The Microsoft Exchange POP3 service is ready. [QQBNAFMAUABSAA==]",
    "rfc5034": b"+OK pop.example.com BlurdyBlurp POP3 server ready",
    "err_in_use": b"-ERR [IN-USE] Do you have another POP session running?",
    "err_sys_temp": b"-ERR [SYS/TEMP] try again later",
    "ts_no_at": b"+OK ready <1896.697170952>",
    "ts_unclosed": b"+OK ready <1896.697170952@dbc.mtview.ca.us",
    "ts_two": b"+OK ready <a@b> <c@d>",
    "ts_empty": b"+OK ready <>",
    "lower_ok": b"+ok ready",
}

SESSION_C = [b"APOP mrose c4c9334bac560ecc979e58001b3e22fb", b"STAT", b"LIST", b"RETR 1",
             b"DELE 1", b"RETR 2", b"DELE 2", b"QUIT"]
SESSION_S = crlf(
    GREETINGS["rfc1939"], b"+OK mrose's maildrop has 2 messages (320 octets)", b"+OK 2 320",
    b"+OK 2 messages (320 octets)", b"1 120", b"2 200", b".", b"+OK 120 octets", b"Hello",
    b".", b"+OK message 1 deleted", b"+OK 200 octets", b"..dot stuffed", b".",
    b"+OK message 2 deleted", b"+OK dewey POP3 server signing off (maildrop empty)")
CAPA_2449 = crlf(b"+OK Capability list follows", b"TOP", b"USER", b"SASL CRAM-MD5 KERBEROS_V4",
                 b"RESP-CODES", b"LOGIN-DELAY 900", b"PIPELINING", b"EXPIRE 60", b"UIDL",
                 b"IMPLEMENTATION Shlemazle-Plotz-v302", b".")
CAPA_5034 = crlf(b"+OK List of capabilities follows", b"SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS",
                 b"STLS", b"IMPLEMENTATION BlurdyBlurp POP3 server", b".")
CAPA_DOVECOT = crlf(b"+OK", b"CAPA", b"TOP", b"UIDL", b"RESP-CODES", b"PIPELINING",
                    b"AUTH-RESP-CODE", b"STLS", b"USER", b"SASL PLAIN LOGIN", b".")
CAPA_6856 = crlf(b"+OK", b"UTF8 USER", b"LANG", b"EXPIRE NEVER", b"LOGIN-DELAY 0 USER", b".")
LIST = crlf(b"+OK 2 messages (320 octets)", b"1 120", b"2 200", b".")
UIDL = crlf(b"+OK", b"1 whqtswO00WBw418f9t5JxYwZ", b"2 QhdPYR:00WBw1Ph7x7", b".")
BODY = crlf(b"Subject: hi", b"", b"..leading dot", b"line", b".")


def cmd():
    t = "fuzz_cmd"
    put(t, "rfc1939_session", STRICT + crlf(*SESSION_C))
    put(t, "user_pass", STRICT + crlf(b"USER mrose", b"PASS secret with spaces", b"QUIT"))
    put(t, "all_keywords", STRICT + crlf(
        b"USER u", b"PASS p", b"APOP u c4c9334bac560ecc979e58001b3e22fb", b"QUIT", b"STAT",
        b"LIST", b"LIST 1", b"RETR 1", b"DELE 1", b"NOOP", b"RSET", b"TOP 1 10", b"UIDL",
        b"UIDL 2", b"CAPA", b"STLS", b"AUTH PLAIN", b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=",
        b"AUTH PLAIN =", b"UTF8", b"LANG", b"LANG en"))
    put(t, "lower_case", STRICT + crlf(b"user mrose", b"retr 1", b"Quit"))
    put(t, "unknown_cmd", STRICT + crlf(b"XTND XMIT", b"FOO a b c d e f g h", b"ABC"))
    put(t, "too_many_args", STRICT + crlf(b"FOO 1 2 3 4 5 6 7 8 9"))
    put(t, "arg_40", STRICT + crlf(b"USER " + b"a" * 40))
    put(t, "arg_41", STRICT + crlf(b"USER " + b"a" * 41))
    put(t, "line_255", STRICT + crlf(b"PASS " + b"p" * 248))
    put(t, "line_256", STRICT + crlf(b"PASS " + b"p" * 249))
    put(t, "no_crlf_256", STRICT + b"PASS " + b"p" * 251)
    put(t, "numbers", STRICT + crlf(b"RETR 0", b"RETR 4294967295", b"RETR 4294967296",
                                    b"RETR -1", b"RETR +1", b"RETR 01", b"TOP 1 x"))
    put(t, "spacing", STRICT + crlf(b"RETR  1", b" RETR 1", b"RETR 1 ", b"TOP 1  2"))
    put(t, "spacing_lenient", b"\x00\x01" + crlf(b"RETR  1", b" RETR 1", b"RETR 1 "))
    put(t, "bare_lf", STRICT + b"STAT\nLIST\r\nQUIT\n")
    put(t, "bare_lf_lenient", BARE_LF + b"STAT\nLIST\r\nQUIT\n")
    put(t, "bare_cr", STRICT + b"ST\rAT\r\nQUIT\r\n")
    put(t, "empty_lines", STRICT + b"\r\n\r\nNOOP\r\n")
    put(t, "keyword_len", STRICT + crlf(b"AB", b"ABCDE 1", b"X"))
    put(t, "ctl_8bit", STRICT + b"USER a\tb\r\nUSER \xc3\xa9\r\nUSER a\x00b\r\n")
    put(t, "all_lenient", ALL + b"user  a\tb \nPASS \xff\xfe\rx\r\nretr   00001\n")
    put(t, "pipelined_partial", STRICT + b"STAT\r\nLIST\r\nRETR 1\r\nDE")


def sasl():
    t = "fuzz_sasl"
    put(t, "plain", STRICT + crlf(b"dGVzdAB0ZXN0AHRlc3Q="))
    put(t, "cancel", STRICT + crlf(b"*"))
    put(t, "empty", STRICT + crlf(b""))
    put(t, "digest_md5", STRICT + crlf(
        b"Y2hhcnNldD11dGYtOCx1c2VybmFtZT0iY2hyaXMiLHJlYWxtPSJlbHdvb2QuaW5ub3NvZnQuY29tIixu",
        b""))
    put(t, "bad_padding", STRICT + crlf(b"dGVzdA=", b"dG=VzdA==", b"dGVzd", b"====", b"*x"))
    put(t, "bad_chars", STRICT + crlf(b"dGVz dA==", b"dGVz\tdA==", b"dGVz_A=="))
    put(t, "bare_lf", STRICT + b"dGVzdA==\n*\n")
    put(t, "bare_lf_lenient", BARE_LF + b"dGVzdA==\n*\n")
    put(t, "long_8190", STRICT + crlf(b"QUFB" * 2047 + b"QQ=="))
    put(t, "long_8192", STRICT + crlf(b"QUFB" * 2048))
    put(t, "no_crlf", STRICT + b"QUFB" * 100)


def status():
    t = "fuzz_status"
    put(t, "rfc1939_server_side", STRICT + SESSION_S)
    for k in ("rfc1939", "dovecot", "cyrus", "exchange", "err_in_use"):
        put(t, "greeting_" + k, STRICT + crlf(GREETINGS[k]))
    put(t, "resp_codes", STRICT + crlf(
        b"-ERR [IN-USE] busy", b"-ERR [LOGIN-DELAY] wait", b"-ERR [SYS/TEMP] later",
        b"-ERR [SYS/PERM] never", b"-ERR [SYS] x", b"-ERR [AUTH] bad", b"-ERR [UTF8] no",
        b"-ERR [X-FOO/BAR] unknown", b"-ERR [in-use] lower", b"-ERR [] empty",
        b"-ERR [IN-USE", b"+OK [SYS/TEMP]"))
    put(t, "stat_list_uidl", STRICT + crlf(
        b"+OK 2 320", b"+OK 0 0", b"+OK 4294967295 18446744073709551615", b"+OK 2 320 extra",
        b"+OK 1 whqtswO00WBw418f9t5JxYwZ", b"+OK 1 " + b"u" * 70, b"+OK 1 " + b"u" * 71,
        b"+OK 2", b"+OK x 1", b"+OK 4294967296 1"))
    put(t, "continuation", STRICT + crlf(
        b"+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0", b"+ ", b"+", b"+ ===="))
    put(t, "status_errors", STRICT + crlf(b"OK", b"+OKAY", b"-ERROR", b"+ok", b"-Err x", b""))
    put(t, "status_lenient", b"\x0c\x00" + crlf(b"+ok", b"-err", b"+OKAY", b"-ERRx"))
    put(t, "line_512", STRICT + crlf(b"+OK " + b"x" * 506))
    put(t, "line_513", STRICT + crlf(b"+OK " + b"x" * 507))
    put(t, "no_crlf_long", STRICT + b"+OK " + b"x" * 520)
    put(t, "bare_lf", STRICT + b"+OK a\n-ERR b\r\n")
    put(t, "all_lenient", ALL + b"+ok\t\xe9t\xe9\n-ERRno space\r\n+OK 1 \x01uid\r\n")


def greeting():
    t = "fuzz_greeting"
    for k, v in GREETINGS.items():
        put(t, k, STRICT + crlf(v))
    put(t, "lenient_lower", b"\x04\x00" + crlf(GREETINGS["lower_ok"]))
    put(t, "ts_line_512", STRICT + crlf(b"+OK <" + b"a" * 250 + b"@" + b"b" * 253 + b">"))
    put(t, "ts_nested", STRICT + crlf(b"+OK <a<b@c>d>"))
    put(t, "ts_at_end", STRICT + crlf(b"+OK x <@>"))


def capa():
    t = "fuzz_capa"
    put(t, "rfc2449", STRICT + CAPA_2449)
    put(t, "rfc5034", STRICT + CAPA_5034)
    put(t, "dovecot", STRICT + CAPA_DOVECOT)
    put(t, "rfc6856", STRICT + CAPA_6856)
    put(t, "no_status", STRICT + crlf(b"TOP", b"USER", b"."))
    put(t, "empty_list", STRICT + crlf(b"+OK", b"."))
    put(t, "dot_stuffed_tag", STRICT + crlf(b"+OK", b"..X-DOT", b".x", b"."))
    put(t, "params_17", STRICT + crlf(b"+OK", b"SASL" + b" M" * 17, b"."))
    put(t, "spacing", STRICT + crlf(b"+OK", b"SASL  PLAIN", b" TOP", b"TOP ", b""))
    put(t, "line_512", STRICT + crlf(b"+OK", b"IMPLEMENTATION " + b"x" * 495, b"."))
    put(t, "line_513", STRICT + crlf(b"+OK", b"IMPLEMENTATION " + b"x" * 496, b"."))
    put(t, "truncated", STRICT + b"+OK\r\nTOP\r\nUSER\r\n")
    put(t, "bare_lf", STRICT + b"+OK\nTOP\nUSER\n.\n")
    put(t, "bare_lf_lenient", BARE_LF + b"+OK\nTOP\nUSER\n.\n")
    put(t, "ctl_8bit", STRICT + crlf(b"+OK", b"IMPLEMENTATION \xc3\xa9\tx", b"."))


def ml_split():
    t = "fuzz_ml_split"

    def ms(mode, cap, splits, data):
        return bytes([mode, cap, len(splits)]) + bytes(splits) + data

    put(t, "rfc1939_list", ms(0, 0, [3, 5], crlf(b"1 120", b"2 200", b".")))
    put(t, "body_one_piece", ms(0, 7, [], BODY))
    put(t, "body_split_each_byte", ms(0, 0, [1] * 15, BODY))
    put(t, "split_in_terminator", ms(0, 3, [12, 1, 1, 1, 1], b"Hello world\r\n.\r\n"))
    put(t, "split_after_cr_dot", ms(0, 0, [7, 2, 1], b"abc\r\n.\rx\r\n.\r\n"))
    put(t, "dot_lines", ms(0, 1, [2, 2, 2, 2],
                           crlf(b"..", b"...", b".x", b"x.", b"") + b".\r\n"))
    put(t, "empty_body", ms(0, 0, [1, 1], b".\r\n"))
    put(t, "after_terminator", ms(0, 2, [4], b"a\r\n.\r\nextra\r\n"))
    put(t, "truncated", ms(0, 0, [4], b"abc\r\ndef\r\n."))
    put(t, "bare_lf", ms(0, 0, [3], b"abc\ndef\r\n.\r\n"))
    put(t, "bare_lf_lenient", ms(1, 0, [3, 1], b"abc\ndef\n.\n"))
    put(t, "bare_cr", ms(0, 0, [2], b"a\rb\r\n.\r\n"))
    put(t, "bare_cr_lenient", ms(2, 4, [2, 1], b"a\rb\r\n.\r\n"))
    put(t, "long_lines_max8", ms(8, 0, [5, 5], crlf(b"1234567", b"123456789", b".")))
    put(t, "long_line_lenient", ms(4 | 8, 0, [5], crlf(b"x" * 20, b".")))
    put(t, "line_512", ms(0, 3, [200, 200, 112],
                          crlf(b"x" * 510, b"y" * 511, b".")))
    put(t, "capa", ms(0, 5, [10, 20, 30], CAPA_2449[len(b"+OK Capability list follows\r\n"):]))
    put(t, "uidl", ms(0, 5, [9, 9], UIDL[len(b"+OK\r\n"):]))
    put(t, "zero_pieces", ms(0, 0, [0, 0, 3, 0], BODY))
    put(t, "nul_8bit", ms(0, 2, [3], b"a\x00b\xff\r\n.\r\n"))


def simd():
    t = "fuzz_simd"
    seeds = {
        "session_server": SESSION_S,
        "session_client": crlf(*SESSION_C),
        "body": BODY,
        "long_printable_70": b"A" * 70 + b"\r\n.\r\n",
        "long_printable_300": b"+OK " + b"z" * 300 + b"\r\n",
        "special_at_31_32_63_64": b"a" * 31 + b"\x01" + b"b" * 31 + b"\x7f" + b"c" * 63
        + b"\x80" + b"\r\n",
        "lf_at_block_edges": b"x" * 15 + b"\n" + b"y" * 16 + b"\r" + b"z" * 31 + b"\r\n."
        + b"w" * 60 + b"\n.",
        "dot_at_block_edges": (b"a" * 14 + b"\r\n.") * 8 + b".\r\n",
        "all_bytes": bytes(range(256)) * 2,
    }
    # Every seed once per SIMD path (second byte: 0 SSE2, 1 AVX2, 2 AVX-512).
    for name, data in seeds.items():
        for sel, path in ((0, "sse2"), (1, "avx2"), (2, "avx512")):
            put(t, name + "_" + path, b"\x00" + bytes([sel]) + data)
    put(t, "bare_lf_lenient_avx2", b"\x01\x01" + b"a\nb\n.\n")
    put(t, "lenient_all_avx512", b"\xff\x02" + b"+ok\tx\ry\n-errz\n.\n")


def ml_entry():
    t = "fuzz_ml_entry"
    # mode: bit 0 UIDL (else LIST), bits 1-2 max_line 0/10/24/80, bits 3-4
    # the SIMD path (best, SSE2, AVX2, AVX-512).
    L, U = 0, 1
    ML10, ML24, ML80 = 2, 4, 6
    SSE2, AVX2, AVX512 = 8, 16, 24
    SPACING, UIDB = b"\x00\x01", b"\x00\x04"
    BARE_CR, LONG = b"\x02\x00", b"\x10\x00"

    def me(flags, mode, splits, data):
        return flags + bytes([mode, len(splits)]) + bytes(splits) + data

    lst = LIST[len(b"+OK 2 messages (320 octets)\r\n"):]
    uid = UIDL[len(b"+OK\r\n"):]
    put(t, "rfc1939_list", me(STRICT, L, [3, 5], lst))
    put(t, "rfc1939_uidl", me(STRICT, U, [9, 9], uid))
    put(t, "rfc1939_uidl_avx512", me(STRICT, U | AVX512, [], uid))
    put(t, "rfc1939_list_each_byte", me(STRICT, L, [1] * 15, lst))
    # every digit count around the LIST fast path (1..7 and 8, 1..8 and 9)
    shapes = [b"4294967295"[:a] + b" " + b"18446744073709551615"[:b]
              for a in range(1, 11) for b in (1, 7, 8, 9, 19, 20)]
    put(t, "list_digit_counts", me(STRICT, L, [24, 1], crlf(*shapes, b".")))
    put(t, "list_digit_counts_sse2", me(STRICT, L | SSE2, [], crlf(*shapes, b".")))
    put(t, "list_number_range", me(STRICT, L, [], crlf(
        b"4294967295 18446744073709551615", b"4294967296 1", b"1 18446744073709551616",
        b"99999999999x 1", b".")))
    put(t, "list_trailing_text", me(STRICT, L, [10], crlf(
        b"1 120 From: someone", b"1 120 ", b"1 120x", b"1 12o", b"+1 120", b"1 -120", b"1",
        b"", b".")))
    put(t, "list_short", me(STRICT, L, [2, 2], b"1 2\r\n.\r\n"))
    put(t, "list_max10", me(STRICT, L | ML10, [4], crlf(b"1 120", b"12 1234", b"1 1")))
    put(t, "list_max24", me(STRICT, L | ML24, [], crlf(b"1234567 12345678", b"1 " + b"9" * 21,
                                                    b".")))
    # unique-ids of 1, 69, 70, 71, 72, 128 and 130 octets
    put(t, "uidl_lengths", me(STRICT, U, [30, 40], crlf(
        *[b"%d " % k + bytes(0x21 + (i * 7 + k) % 94 for i in range(k))
          for k in (1, 69, 70, 71, 72, 128, 130)], b".")))
    put(t, "uidl_lengths_avx2", me(UIDB, U | AVX2, [70], crlf(
        *[b"1234567 " + b"u" * k for k in (0, 1, 70, 71, 127, 128)], b".")))
    put(t, "uidl_bad_octets", me(STRICT, U, [], crlf(
        b"1 ab\x01c", b"2 \x7f", b"3 a\x80", b"4 \xff", b"5 a\x00b", b"6 a b", b"7 abc ",
        b"8  abc", b" 9 abc", b"10 ", b".")))
    put(t, "uidl_bad_octets_uid", me(UIDB, U | SSE2, [5], crlf(
        b"1 ab\x01c", b"2 \x7f", b"3 a\x80", b"4 \xff", b"5 a\x00b", b"6 a b", b".")))
    put(t, "uidl_spacing", me(SPACING, U, [3], crlf(
        b"1 abc ", b"1   abc", b"  1 abc   ", b"1   ", b"   ", b"1 a b", b".")))
    put(t, "list_spacing", me(SPACING, L, [], crlf(
        b"1  120", b"   1   120", b"   ", b"1    ", b"1 120", b".")))
    put(t, "both_lenient", me(b"\x00\x05", U, [], crlf(b"  7 a\x01 ", b"7 abc", b".")))
    put(t, "bare_lf", me(STRICT, U, [4], b"1 abc\n2 def\r\n.\r\n"))
    put(t, "bare_lf_lenient", me(BARE_LF, L, [4], b"1 120\n2 200\n.\n"))
    put(t, "bare_cr", me(STRICT, L, [], b"1 1\r20\r\n2 2\r\n.\r\n"))
    put(t, "bare_cr_lenient", me(BARE_CR, U, [3], b"1 ab\rc\r\n2 \r\r\n.\r\n"))
    put(t, "dot_stuffed", me(STRICT, L, [], crlf(b".1 120", b"..2 x", b".3 abc", b"..", b".")))
    put(t, "dot_stuffed_uidl", me(STRICT, U, [2], crlf(b".1 a.b", b". 1 a", b"..", b".")))
    put(t, "entry_errors_then_more", me(STRICT, L, [2, 2, 2],
                                        b"x\r\n1 5\r\n2 abc\r\n\r\n3 7\r\n.\r\n"))
    put(t, "framing_after_entry_error", me(STRICT, U, [],
                                           b"1 a b\r\n2 ok\r\n3 x\ny\r\n4 z\r\n.\r\n"))
    put(t, "terminator_then_more", me(ALL, L, [1, 1], b".\r\n1 1\r\n"))
    put(t, "truncated", me(STRICT, U, [7], crlf(b"1 abc", b"2 def") + b"3 gh\r"))
    put(t, "long_line", me(STRICT, L | ML80, [], crlf(b"1 " + b"1" * 100, b".")))
    put(t, "long_line_lenient", me(LONG, U, [200, 200], crlf(b"1 " + b"u" * 600, b".")))
    put(t, "line_513", me(STRICT, U, [], crlf(b"1 " + b"x" * 509, b".")))
    put(t, "all_lenient", me(ALL, U, [5, 5], b"  1 \x80x \n2 y\r\n.\n"))


def roundtrip():
    t = "fuzz_roundtrip"
    put(t, "body", b"\x00" + BODY[:-3])
    put(t, "dots", b"\x01" + crlf(b".", b"..", b".x", b"x.", b". "))
    put(t, "terminator_inside", b"\x02" + b"a\r\n.\r\nb")
    put(t, "no_final_crlf", b"\x03" + b"abc")
    put(t, "empty", b"\x04")
    put(t, "bare_lf_cr", b"\x05" + b"a\nb\rc\n.\n.\r.")
    put(t, "dot_only", b"\x06" + b".")
    put(t, "long", b"\x07" + (b"." * 30 + b"\r\n") * 20)
    put(t, "binary", b"\x08" + bytes(range(256)))
    put(t, "message", b"\x09" + crlf(b"From: a@example.org", b"To: b@example.org",
                                      b"Subject: test", b"", b"Hi.", b".", b"..", b"bye"))


for f in (cmd, sasl, status, greeting, capa, ml_split, simd, roundtrip, ml_entry):
    f()
