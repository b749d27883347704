/* imgclass-serve: an HTTP inference server over libimgclass that speaks
 * TorchServe's inference API (see README.md next to this file). This file
 * parses the command line, starts the server, and waits for SIGTERM or
 * SIGINT to stop it gracefully. */
#include "serve_config.h"
#include "server.h"
#include "service_notify.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Waits for SIGTERM or SIGINT; under a systemd watchdog, pings it at half
 * its interval meanwhile. */
static int wait_for_stop(const sigset_t *stop)
{
    uint64_t watchdog = service_watchdog_usec();
    for (;;) {
        int sig;
        if (!watchdog) {
            if (sigwait(stop, &sig) == 0)
                return sig;
            continue;
        }
        struct timespec half = {.tv_sec = (time_t)(watchdog / 2000000),
                                .tv_nsec = (long)(watchdog / 2 % 1000000) * 1000};
        sig = sigtimedwait(stop, NULL, &half);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            service_notify("WATCHDOG=1");
    }
}

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
    /* Listening; now load and warm the models. Until they are, readiness
     * answers 503 (server.h). A SIGTERM meanwhile is handled once they are
     * loaded: the load cannot be cut short. */
    if (server_load_models(&s)) {
        server_stop(&s, 0);
        serve_config_free(&cfg);
        return 1;
    }
    /* Every model is loaded and warm: ready for traffic. */
    char status[160];
    snprintf(status, sizeof status, "READY=1\nSTATUS=serving %d model%s on %s", cfg.num_models,
             cfg.num_models == 1 ? "" : "s", cfg.listen);
    if (service_notify(status) != 0)
        fprintf(stderr, "imgclass-serve: NOTIFY_SOCKET: %s\n", strerror(errno));
    int sig = wait_for_stop(&stop);
    service_notify("STOPPING=1\nSTATUS=answering the requests in flight");
    fprintf(stderr, "imgclass-serve: %s: answering the requests in flight, then exiting\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_stop(&s, cfg.timeout_s);
    serve_config_free(&cfg);
    fprintf(stderr, "imgclass-serve: stopped\n");
    return 0;
}
