/* Where the management API may load a model from: the url= of
 * POST /models, and the model name a v2 repository load asks for. No
 * downloads (an http(s) URL is refused, saying so); with --model-store a
 * path is looked up under that directory and must stay inside it once
 * links and ".." are resolved; without it, a local file path. No I/O
 * beyond realpath() and stat(), so it is unit-testable on a temporary
 * directory. */
#ifndef IMGCLASS_SERVE_MODEL_STORE_H
#define IMGCLASS_SERVE_MODEL_STORE_H

#include <stddef.h>

/* Resolves url (store: the --model-store directory, or NULL) to the file
 * to load, written to out (n bytes, PATH_MAX is enough). 0, or -1 with the
 * reason, naming the url, in msg. */
int model_store_resolve(const char *store, const char *url, char *out, size_t n, char *msg,
                        size_t msg_n);

/* The name a model gets when POST /models has no model_name: the file's
 * base name without its extension ("/m/resnet18.pt" -> "resnet18"). 0, or
 * -1 when that is not a valid name. */
int model_store_default_name(const char *url, char *out, size_t n);

/* 1 when name is a valid model name: 1-64 of [A-Za-z0-9_.-], as --model. */
int model_name_valid(const char *name, size_t len);

/* Finds the file of model `name` in the store for a v2 repository load:
 * name.pt, name.ts, name.torchscript or name.pth, in that order. 0 with
 * the path in out, or -1. */
int model_store_find(const char *store, const char *name, char *out, size_t n);

#endif
