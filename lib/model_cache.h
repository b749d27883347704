/* Internal: the core's half of the model cache (docs/engine.md, "Cold
 * start"). A load with imgclass_model_options.cache_dir looks for an entry
 * made by an earlier load of the same model bytes with the same options,
 * imgclass and libtorch: the model as torch::jit::freeze left it, which
 * spares that load the archive's compilation and the freeze. The engine
 * makes the entries and decides what it may use (lib/engine_cache.cpp);
 * this file names, checks, reads and writes them.
 *
 * An entry is one file, <dir>/<sha256 of its key>.entry:
 *     imgclass-model-cache 1\n
 *     key <key>\n          what it was made from: imgclass version, the
 *                          model's SHA-256 and size, the options that shape
 *                          the frozen module and the input size (a hit
 *                          skips the shape check), the CPU's vector ISA
 *     engine <version>\n   the engine that made it ("libtorch 1.13.0")
 *     payload <size> crc32 <8 hex digits>\n
 *     \n
 *     <payload: the frozen module's TorchScript archive>
 * It is used only when every line matches and the payload has its size and
 * CRC-32 (libtorch itself checks no checksum: a flipped bit in a weight
 * would load). Anything else, a missing file included, is a miss and never
 * an error; the load then writes a new entry. Writes go to a temporary
 * file in the same folder, renamed over the entry: a reader sees a whole
 * old entry or a whole new one, and two processes writing the same entry
 * at once each rename a whole file. A cache that cannot be written leaves
 * the load uncached, never failed. */
#ifndef IMGCLASS_MODEL_CACHE_H
#define IMGCLASS_MODEL_CACHE_H

#include <stddef.h>

typedef struct ic_model_cache {
    const char *dir;          /* NULL: no cache (everything below unused) */
    char key[512];            /* the key line */
    char engine[128];         /* the running engine's version, once known */
    char path[4096];          /* the entry's file */
    unsigned char *file;      /* the entry as read, NULL when none */
    size_t file_size, file_mapped;
    const unsigned char *payload; /* its archive, set once it checks out */
    size_t payload_size;
    char refused[160];        /* why an entry file that exists was not used */
    char write_error[200];    /* why writing the new entry failed */
    int stored;               /* a new entry was written */
    double ms;                /* time spent here (hashing, reading, checking,
                               * writing) */
} ic_model_cache;

/* Starts a lookup for the model bytes `model` (as given: the file, gzip or
 * not) loaded with options summed up in `options` (one line): hashes them
 * and reads and checks the entry, except its engine line. dir NULL: no
 * cache. Never fails. */
void ic_model_cache_open(ic_model_cache *c, const char *dir, const void *model, size_t size,
                         const char *options);

/* Once the engine runs: `engine` is its version. An entry made by another
 * engine is dropped (refused). */
void ic_model_cache_engine(ic_model_cache *c, const char *engine);

/* ic_engine_config.on_cache_entry: writes `payload` as the entry. */
void ic_model_cache_store(void *c, const void *payload, size_t size);

/* Frees what the lookup holds. */
void ic_model_cache_close(ic_model_cache *c);

#endif
