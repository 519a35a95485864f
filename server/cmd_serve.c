/* cmd_serve.c — `tafel serve`: reads the config file and command-line settings, then runs the
 * server. Every setting of server/config.c is both a config-file key and a --long-option. */
#include <stdio.h>
#include <string.h>

#include "server/commands.h"
#include "server/config.h"
#include "server/server.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: tafel serve [--config FILE] [--SETTING VALUE | --SETTING=VALUE]...\n"
                "\n"
                "Runs the Tafel server: HTTP(S) for the web client and WHIP, one UDP port for\n"
                "media. Without a config file it listens on 127.0.0.1 only, with a self-signed\n"
                "certificate, in development mode (no authentication).\n"
                "\n"
                "  --config FILE         read settings from FILE ('key = value' lines; see\n"
                "                        docs/config.md); later options override it\n");
    tf_config_print_help();
}

int tf_cmd_serve(int argc, char **argv)
{
    tf_config_t cfg;
    tf_config_defaults(&cfg);
    char err[512];
    /* The config file first, whatever its position, so options override it. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            file = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
        if (file && tf_config_load(&cfg, file, err, sizeof(err)) < 0) {
            fprintf(stderr, "tafel serve: %s\n", err);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "tafel serve: unexpected argument '%s'\n", a);
            return 2;
        }
        char key[64];
        const char *eq = strchr(a, '='), *value;
        if (eq) {
            snprintf(key, sizeof(key), "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(key, sizeof(key), "%s", a + 2);
            if (i + 1 >= argc) {
                fprintf(stderr, "tafel serve: --%s needs a value\n", key);
                return 2;
            }
            value = argv[++i];
        }
        if (!strcmp(key, "config"))
            continue;
        if (tf_config_set(&cfg, key, value, err, sizeof(err)) < 0) {
            fprintf(stderr, "tafel serve: %s (see tafel serve --help)\n", err);
            return 2;
        }
    }
    if (tf_config_check(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "tafel serve: %s\n", err);
        return 2;
    }
    return tf_server_run(&cfg);
}
