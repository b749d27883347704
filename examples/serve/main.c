/* imgclass-serve: an HTTP inference server over libimgclass that speaks
 * TorchServe's inference API (see README.md next to this file). This file
 * parses the command line, starts the server, and waits for SIGTERM or
 * SIGINT to stop it gracefully. */
#include "serve_config.h"
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    serve_config cfg;
    int r = serve_config_parse(&cfg, argc, argv);
    if (r != 0) {
        serve_config_free(&cfg);
        return r > 0 ? 0 : 1;
    }
    /* Block the stop signals before any thread exists, so every thread
     * inherits the mask and only sigwait() below sees them. A client that
     * hangs up must not kill the process. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    server s;
    if (server_start(&s, &cfg)) {
        serve_config_free(&cfg);
        return 1;
    }
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "imgclass-serve: %s: answering the requests in flight, then exiting\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_stop(&s, cfg.timeout_s);
    serve_config_free(&cfg);
    fprintf(stderr, "imgclass-serve: stopped\n");
    return 0;
}
