/* SPDX-License-Identifier: MIT */
/* test_ctl_protocol.c: the control-socket request line ringcastctl sends and the
 * supervisor parses: every command, --json anywhere, partial lines, and a table of bad
 * lines, each refused with its reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/control.h"

static int parse(const char *line, struct control_cmd *cmd, char *err, size_t errlen)
{
    return control_parse((const uint8_t *)line, strlen(line), cmd, err, errlen);
}

static void test_commands(void **state)
{
    (void)state;
    struct control_cmd c;
    char err[128];
    assert_int_equal(parse("status\n", &c, err, sizeof(err)), 7);
    assert_int_equal(c.verb, CONTROL_STATUS);
    assert_false(c.json);
    assert_int_equal(parse("--json paths\r\n", &c, err, sizeof(err)), 14);
    assert_int_equal(c.verb, CONTROL_PATHS);
    assert_true(c.json);
    assert_int_equal(parse("workers --json\n", &c, err, sizeof(err)), 15);
    assert_int_equal(c.verb, CONTROL_WORKERS);
    assert_true(parse("restart  worker 12\n", &c, err, sizeof(err)) > 0);
    assert_int_equal(c.verb, CONTROL_RESTART_WORKER);
    assert_int_equal(c.worker, 12);
    assert_true(parse("restart path cam-1\n", &c, err, sizeof(err)) > 0);
    assert_int_equal(c.verb, CONTROL_RESTART_PATH);
    assert_string_equal(c.path, "cam-1");
    assert_true(parse("reload\n", &c, err, sizeof(err)) > 0);
    assert_int_equal(c.verb, CONTROL_RELOAD);
    assert_true(parse("stop\nstatus\n", &c, err, sizeof(err)) == 5); /* one line at a time */
    assert_int_equal(c.verb, CONTROL_STOP);
    assert_true(parse("drain\n", &c, err, sizeof(err)) > 0);
    assert_int_equal(c.verb, CONTROL_DRAIN);
    assert_true(parse("undrain --json\n", &c, err, sizeof(err)) > 0);
    assert_int_equal(c.verb, CONTROL_UNDRAIN);
    assert_true(parse("drain now\n", &c, err, sizeof(err)) < 0);
    assert_true(parse("upgrade\n", &c, err, sizeof(err)) > 0);
    assert_int_equal(c.verb, CONTROL_UPGRADE);
    assert_true(parse("upgrade worker 1\n", &c, err, sizeof(err)) < 0);
}

static void test_partial(void **state)
{
    (void)state;
    struct control_cmd c;
    char err[128];
    assert_int_equal(parse("", &c, err, sizeof(err)), 0);
    assert_int_equal(parse("stat", &c, err, sizeof(err)), 0);
    char big[CONTROL_LINE_MAX + 8];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(parse(big, &c, err, sizeof(err)), -E2BIG);
    /* A newline past the limit does not count either. */
    big[sizeof(big) - 2] = '\n';
    assert_int_equal(parse(big, &c, err, sizeof(err)), -E2BIG);
}

static const struct {
    const char *line;
    const char *reason;
} bad[] = {
    {"\n", "empty command"},
    {"--json\n", "empty command"},
    {"statu\n", "unknown command \"statu\""},
    {"status now\n", "status takes no arguments"},
    {"restart\n", "usage: restart worker N"},
    {"restart worker\n", "usage: restart worker N"},
    {"restart worker -1\n", "bad worker index \"-1\""},
    {"restart worker 1x\n", "bad worker index \"1x\""},
    {"restart worker 99999\n", "bad worker index \"99999\""},
    {"restart path a/b\n", "bad path name \"a/b\""},
    {"restart ingest demo\n", "restart what? \"ingest\""},
    {"a b c d e\n", "too many words"},
    {"stop\0x\n", "NUL byte in request"},
};

static void test_bad_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct control_cmd c;
        char err[128] = "";
        size_t len = strlen(bad[i].line);
        if (strcmp(bad[i].line, "stop") == 0)
            len = 7; /* the embedded NUL case */
        int rc = control_parse((const uint8_t *)bad[i].line, len, &c, err, sizeof(err));
        if (rc != -EINVAL || strstr(err, bad[i].reason) == NULL)
            fail_msg("line %zu: rc %d, err \"%s\", want \"%s\"", i, rc, err, bad[i].reason);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
