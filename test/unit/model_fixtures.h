/* Test helpers for the engine tests: locating the tiny models that
 * test/models/make_test_models.py builds (directory from the environment
 * variable IMGCLASS_TEST_MODELS) and reading their raw float32 files. */
#ifndef IMGCLASS_TEST_MODEL_FIXTURES_H
#define IMGCLASS_TEST_MODEL_FIXTURES_H

#include <stddef.h>

#include "imgclass.h"

/* Path of `name` in the test-model folder, in a static buffer that the
 * next call overwrites. Fails the test when IMGCLASS_TEST_MODELS is unset. */
const char *fx_model_path(const char *name);

/* Reads a whole file (fails the test on error); free() the result. */
unsigned char *fx_model_read(const char *name, size_t *size);

/* Reads exactly `count` float32 values from a raw file; free() it. */
float *fx_model_floats(const char *name, size_t count);

/* Loads a model with the given optimisation flags and input size
 * (channels 3); fails the test on error. */
imgclass_model *fx_model_load(const char *name, unsigned optimize, int height, int width);

/* The defaults, resized to side x side exactly and cropped to it: the
 * input of the tiny models (tiny.pt: 8). */
imgclass_preprocess_options fx_preprocess_exact(int side);

/* Asserts |a[i] - b[i]| <= tol * max(1, |b[i]|) for every i. */
void fx_model_assert_close(const float *a, const float *b, size_t n, float tol);

/* Returns when tiny_int8.pt is there. make_test_models.py leaves it out
 * only when this torch has no onednn engine, and then writes why in
 * tiny_int8.none: the test (named `test`) is skipped with that reason (see
 * skip_note.h). A model missing for any other reason (its making failed,
 * the marker is absent) fails the test. */
void fx_model_require_int8(const char *test);

#endif
