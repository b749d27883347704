/* Internal: the core's side of the engine module (lib/engine_loader.c).
 * The rest of the core calls the functions of lib/engine.h; these are for
 * code that needs to know about the module itself (tests, diagnostics). */
#ifndef IMGCLASS_ENGINE_LOADER_H
#define IMGCLASS_ENGINE_LOADER_H

#include "engine_abi.h"

/* The environment variable that names the module (a file, or a folder that
 * holds IC_ENGINE_MODULE_NAME). When set and not empty it is the only place
 * looked at. */
#define IC_ENGINE_PATH_ENV "IMGCLASS_ENGINE_PATH"

/* Loads the engine module unless it is loaded already; thread-safe. On
 * failure the message starts with `source` and names what is missing and
 * every place looked at; nothing is cached, so a later call searches again. */
imgclass_status ic_engine_loader_require(const char *source);

/* The file the module was loaded from, or NULL before it is loaded. */
const char *ic_engine_loader_path(void);

/* Tests only: forgets (dlcloses) the loaded module and replaces the
 * compiled-in install and build-tree locations (NULL restores each). Must
 * not race with any other engine call, and no engine object may be alive. */
void ic_engine_loader_reset_for_tests(const char *install_path, const char *build_path);

#endif
