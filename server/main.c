/* main.c — the `tafel` binary: dispatches to sub-commands (serve, admin, mix, sample). */
#include <stdio.h>
#include <string.h>

#include "server/commands.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: tafel <command> [options]\n"
                "\n"
                "Tafel is a video-conference MCU for schools.\n"
                "\n"
                "commands:\n"
                "  serve    run the server (web client, WHIP, media) on its embedded defaults\n"
                "  admin    manage teachers and rooms (CSV import, PINs, accounts)\n"
                "  mix      mix media files into one composite H.264 + Opus file\n"
                "  sample   generate sample clips (moving pattern, tone, name) to mix\n"
                "  version  print the version\n"
                "\n"
                "Run 'tafel <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return tf_cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "admin") == 0)
        return tf_cmd_admin(argc - 1, argv + 1);
    if (strcmp(cmd, "mix") == 0)
        return tf_cmd_mix(argc - 1, argv + 1);
    if (strcmp(cmd, "sample") == 0)
        return tf_cmd_sample(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("tafel %s\n", TAFEL_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tafel: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
