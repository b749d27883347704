/* Internal: the binary interface between the core library and an engine
 * module, the shared object that implements lib/engine.h with libtorch
 * (build/libimgclass-torch.so, installed as $(libdir)/imgclass/...).
 *
 * The core never links an engine: lib/engine_loader.c dlopen()s the module
 * on the first model load, calls its one exported function, checks the ABI
 * number and from then on reaches the engine only through the table. The
 * module in turn reports errors through the host table, so the message ends
 * up in the core's thread-local imgclass_last_error().
 *
 * Any change to either struct, to ic_engine_config or to the meaning of a
 * function bumps IC_ENGINE_ABI_VERSION: a module built for another ABI is
 * refused with a message naming both numbers, never called. */
#ifndef IMGCLASS_ENGINE_ABI_H
#define IMGCLASS_ENGINE_ABI_H

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IC_ENGINE_ABI_VERSION 9u /* 2: qengine in the config, describe();
                                    * 3: the extra-file (recipe) callback;
                                    * 4: precision and bf16_missing in the
                                    *    config, bfloat16 in the description;
                                    * 5: the load's step times in the
                                    *    description;
                                    * 6: alloc_stats();
                                    * 7: the model cache in the config and
                                    *    the description;
                                    * 8: parallel();
                                    * 9: set_thread_team() */

/* The symbol every engine module exports (and the only one it exports). */
#define IC_ENGINE_ENTRY_SYMBOL "imgclass_engine_module"

/* The file name of the libtorch engine module. */
#define IC_ENGINE_MODULE_NAME "libimgclass-torch.so"

/* What the core lends the module. */
typedef struct ic_engine_host {
    unsigned abi_version;
    /* Sets the calling thread's imgclass_last_error() message. */
    void (*set_error)(const char *message);
    const char *(*status_str)(imgclass_status status);
} ic_engine_host;

/* What the module gives back: its identity and the functions of engine.h. */
typedef struct ic_engine_module {
    unsigned abi_version;      /* IC_ENGINE_ABI_VERSION the module was built with */
    const char *built_for;     /* IMGCLASS_VERSION of its build, for messages */
    imgclass_status (*load)(const void *data, size_t size, const char *source,
                            const ic_engine_config *config, ic_engine **out, int *num_classes);
    imgclass_status (*forward)(const ic_engine *engine, const float *input, size_t count,
                               float *out);
    void (*free)(ic_engine *engine);
    imgclass_status (*set_num_threads)(int n);
    int (*get_num_threads)(void);
    const char *(*version)(void);
    void (*describe)(const ic_engine *engine, ic_engine_description *out);
    void (*alloc_stats)(ic_engine_alloc_stats *out);
    void (*parallel)(size_t n, ic_engine_task_fn fn, void *ctx);
    void (*set_thread_team)(int n);
} ic_engine_module;

/* The exported entry point. `host` outlives the module. Returns the
 * module's static table; it never returns NULL. The core checks
 * abi_version before it reads anything else, so a module may fill the rest
 * for its own ABI. */
typedef const ic_engine_module *(*ic_engine_entry_fn)(const ic_engine_host *host);

#ifdef __cplusplus
}
#endif

#endif
