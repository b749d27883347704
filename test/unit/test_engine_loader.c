/* The engine module loader (lib/engine_loader.c): the search order
 * (IMGCLASS_ENGINE_PATH, install location, build tree), the ABI check, a
 * missing or broken module as a clear error that names what is missing and
 * where it looked, and dispatch through the module's table. Uses the fake
 * modules of test/unit/fake_engine/ (pure C, next to this binary); the last
 * test loads the real libtorch module the way an unconfigured program does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine_abi.h"
#include "engine_loader.h"
#include "imgclass.h"

static char bin_dir[4096];
static char fake_good[4200], fake_abi999[4200], fake_no_entry[4200];

/* A "model" the core accepts as a zip archive; the fake engine takes any. */
static const char archive[] = "PK\003\004 fake model";
static const char refused_archive[] = "PK\003\004 FAIL";

static const char *nowhere_install = "/nonexistent/imgclass-install/libimgclass-torch.so";
static const char *nowhere_build = "/nonexistent/imgclass-build/libimgclass-torch.so";

static int setup(void **state)
{
    (void)state;
    ssize_t n = readlink("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
    if (n <= 0)
        return -1;
    bin_dir[n] = '\0';
    char *slash = strrchr(bin_dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    snprintf(fake_good, sizeof fake_good, "%s/fake_engine.so", bin_dir);
    snprintf(fake_abi999, sizeof fake_abi999, "%s/fake_engine_abi999.so", bin_dir);
    snprintf(fake_no_entry, sizeof fake_no_entry, "%s/fake_engine_no_entry.so", bin_dir);
    if (access(fake_good, R_OK) != 0 || access(fake_abi999, R_OK) != 0 ||
        access(fake_no_entry, R_OK) != 0) {
        fprintf(stderr, "fake engine modules missing beside the test (make tests builds them)\n");
        return -1;
    }
    return 0;
}

/* Each test starts from an unloaded module and no override. */
static int fresh(void **state)
{
    (void)state;
    unsetenv(IC_ENGINE_PATH_ENV);
    ic_engine_loader_reset_for_tests(nowhere_install, nowhere_build);
    return 0;
}

static void load_fails(const char *needle1, const char *needle2, const char *needle3)
{
    imgclass_model *m = (imgclass_model *)0x1;
    imgclass_status st = imgclass_model_load_memory(archive, sizeof archive, NULL, &m);
    if (st != IMGCLASS_ERR_ENGINE)
        fail_msg("status %d, expected IMGCLASS_ERR_ENGINE (%s)", st, imgclass_last_error());
    assert_null(m);
    const char *needles[] = {needle1, needle2, needle3};
    for (int i = 0; i < 3; i++)
        if (needles[i] && !strstr(imgclass_last_error(), needles[i]))
            fail_msg("message \"%s\" lacks \"%s\"", imgclass_last_error(), needles[i]);
    assert_null(ic_engine_loader_path());
}

static void test_not_installed_names_every_place(void **state)
{
    (void)state;
    load_fails(nowhere_install, nowhere_build, "IMGCLASS_ENGINE_PATH");
    assert_non_null(strstr(imgclass_last_error(), "libimgclass-torch.so is not installed"));
    assert_non_null(strstr(imgclass_last_error(), "memory buffer: engine error: "));
    assert_string_equal(imgclass_engine_version(), "no engine module");
    assert_non_null(strstr(imgclass_last_error(), "imgclass_engine_version: engine error"));
}

static void test_not_installed_rest_works(void **state)
{
    (void)state;
    /* Preprocessing needs no engine. */
    uint8_t pixels[32 * 32 * 3];
    memset(pixels, 128, sizeof pixels);
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_wrap(pixels, 32, 32, 96, IMGCLASS_PIXEL_RGB, 0, &img),
                     IMGCLASS_OK);
    imgclass_preprocess_options po = imgclass_preprocess_options_default();
    po.resize_size = 16;
    po.crop_width = 16;
    po.crop_height = 16;
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_create(1, 16, 16, &b), IMGCLASS_OK);
    if (imgclass_preprocess(img, &po, b, 0) != IMGCLASS_OK)
        fail_msg("%s", imgclass_last_error());
    /* 128 / 255 normalised with the red channel's ImageNet mean and std. */
    assert_float_equal(imgclass_batch_data(b)[0], (128.0f / 255.0f - 0.485f) / 0.229f, 1e-5);
    imgclass_batch_free(b);
    imgclass_image_free(img);
    /* A thread count before the module exists is kept, not an error. */
    assert_int_equal(imgclass_get_num_threads(), 1);
    assert_int_equal(imgclass_set_num_threads(3), IMGCLASS_OK);
    assert_int_equal(imgclass_get_num_threads(), 3);
    assert_null(ic_engine_loader_path());
}

static void test_env_missing_file(void **state)
{
    (void)state;
    setenv(IC_ENGINE_PATH_ENV, "/nonexistent/override/engine.so", 1);
    load_fails("/nonexistent/override/engine.so", "named by IMGCLASS_ENGINE_PATH",
               "No such file");
}

/* The override is the only place looked at: with it wrong, a good module in
 * the install location is not used. */
static void test_env_wrong_does_not_fall_back(void **state)
{
    (void)state;
    ic_engine_loader_reset_for_tests(fake_good, fake_good);
    setenv(IC_ENGINE_PATH_ENV, "/nonexistent/override/engine.so", 1);
    load_fails("/nonexistent/override/engine.so", NULL, NULL);
}

static void test_env_override_loads_and_dispatches(void **state)
{
    (void)state;
    setenv(IC_ENGINE_PATH_ENV, fake_good, 1);
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = 2;
    o.input_width = 2;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load_memory(archive, sizeof archive, &o, &m), IMGCLASS_OK);
    assert_string_equal(ic_engine_loader_path(), fake_good);
    assert_string_equal(imgclass_engine_version(), "fake engine 1");
    assert_int_equal(imgclass_model_num_classes(m), 5);

    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_create(2, 2, 2, &b), IMGCLASS_OK);
    imgclass_batch_data(b)[0] = 1.0f;     /* image 0, first value */
    imgclass_batch_data(b)[12] = 2.0f;    /* image 1, first value */
    float scores[10];
    assert_int_equal(imgclass_predict(m, b, scores, 10), IMGCLASS_OK);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 5; k++)
            assert_float_equal(scores[i * 5 + k], (float)(k + 1) / 15.0f + (float)(i + 1),
                               1e-6);
    imgclass_batch_free(b);
    imgclass_model_free(m);
}

/* An error the module reports reaches imgclass_last_error() of the caller. */
static void test_module_error_reaches_caller(void **state)
{
    (void)state;
    setenv(IC_ENGINE_PATH_ENV, fake_good, 1);
    imgclass_model *m = (imgclass_model *)0x1;
    assert_int_equal(imgclass_model_load_memory(refused_archive, sizeof refused_archive, NULL, &m),
                     IMGCLASS_ERR_MODEL);
    assert_null(m);
    assert_string_equal(imgclass_last_error(),
                        "memory buffer: invalid model: the fake engine refuses this archive");
}

static void test_env_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/imgclass-engine-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char link[sizeof dir + 32];
    snprintf(link, sizeof link, "%s/libimgclass-torch.so", dir);
    assert_int_equal(symlink(fake_good, link), 0);
    setenv(IC_ENGINE_PATH_ENV, dir, 1);
    assert_int_equal(ic_engine_loader_require("test"), IMGCLASS_OK);
    assert_string_equal(ic_engine_loader_path(), link);
    unlink(link);
    rmdir(dir);
}

static void test_wrong_abi_refused(void **state)
{
    (void)state;
    setenv(IC_ENGINE_PATH_ENV, fake_abi999, 1);
    char needs[64]; /* the number this build's core needs, whatever it is now */
    snprintf(needs, sizeof needs, "needs ABI version %u", IC_ENGINE_ABI_VERSION);
    load_fails(fake_abi999, "has ABI version 999", needs);
    assert_non_null(strstr(imgclass_last_error(), "imgclass " IMGCLASS_VERSION));
}

static void test_not_a_module_refused(void **state)
{
    (void)state;
    setenv(IC_ENGINE_PATH_ENV, fake_no_entry, 1);
    load_fails(fake_no_entry, "is not an imgclass engine module", "imgclass_engine_module");
}

static void test_unloadable_file_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/imgclass-notelf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a shared object\n", 20), 20);
    close(fd);
    setenv(IC_ENGINE_PATH_ENV, path, 1);
    load_fails(path, "cannot load the engine module", "named by IMGCLASS_ENGINE_PATH");
    unlink(path);
}

/* Install location first, then the build tree; a broken file found first
 * stops the search (a broken install is reported, not hidden). */
static void test_search_order(void **state)
{
    (void)state;
    ic_engine_loader_reset_for_tests(fake_good, fake_abi999);
    assert_int_equal(ic_engine_loader_require("test"), IMGCLASS_OK);
    assert_string_equal(ic_engine_loader_path(), fake_good);

    ic_engine_loader_reset_for_tests(nowhere_install, fake_good);
    assert_int_equal(ic_engine_loader_require("test"), IMGCLASS_OK);
    assert_string_equal(ic_engine_loader_path(), fake_good);

    ic_engine_loader_reset_for_tests(fake_abi999, fake_good);
    assert_int_equal(ic_engine_loader_require("test"), IMGCLASS_ERR_ENGINE);
    assert_non_null(strstr(imgclass_last_error(), "(the install location) has ABI version 999"));
}

static void test_pending_threads_applied_at_load(void **state)
{
    (void)state;
    ic_engine_loader_reset_for_tests(nowhere_install, fake_good);
    assert_int_equal(imgclass_set_num_threads(4), IMGCLASS_OK);
    assert_int_equal(ic_engine_loader_require("test"), IMGCLASS_OK);
    assert_int_equal(imgclass_get_num_threads(), 4); /* now the module's answer */
    assert_int_equal(imgclass_set_num_threads(2), IMGCLASS_OK);
    assert_int_equal(imgclass_get_num_threads(), 2);
}

/* With the compiled-in locations, a program run from the build tree finds
 * the real libtorch module (make tests builds it). Last: libtorch stays. */
static void test_default_locations_find_libtorch_module(void **state)
{
    (void)state;
    unsetenv(IC_ENGINE_PATH_ENV);
    ic_engine_loader_reset_for_tests(NULL, NULL);
    if (ic_engine_loader_require("test") != IMGCLASS_OK)
        fail_msg("%s", imgclass_last_error());
    const char *path = ic_engine_loader_path();
    assert_non_null(path);
    size_t n = strlen(path), suffix = strlen("/libimgclass-torch.so");
    assert_true(n > suffix);
    assert_string_equal(path + n - suffix, "/libimgclass-torch.so");
    assert_non_null(strstr(imgclass_engine_version(), "libtorch "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_not_installed_names_every_place, fresh),
        cmocka_unit_test_setup(test_not_installed_rest_works, fresh),
        cmocka_unit_test_setup(test_env_missing_file, fresh),
        cmocka_unit_test_setup(test_env_wrong_does_not_fall_back, fresh),
        cmocka_unit_test_setup(test_env_override_loads_and_dispatches, fresh),
        cmocka_unit_test_setup(test_module_error_reaches_caller, fresh),
        cmocka_unit_test_setup(test_env_folder, fresh),
        cmocka_unit_test_setup(test_wrong_abi_refused, fresh),
        cmocka_unit_test_setup(test_not_a_module_refused, fresh),
        cmocka_unit_test_setup(test_unloadable_file_refused, fresh),
        cmocka_unit_test_setup(test_search_order, fresh),
        cmocka_unit_test_setup(test_pending_threads_applied_at_load, fresh),
        cmocka_unit_test_setup(test_default_locations_find_libtorch_module, fresh),
    };
    int failed = cmocka_run_group_tests(tests, setup, NULL);
    unsetenv(IC_ENGINE_PATH_ENV);
    return failed;
}
