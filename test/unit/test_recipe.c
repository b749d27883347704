/* The recipe a model carries (lib/recipe.c): a valid imgclass.json becomes
 * preprocessing options and labels; every malformed field is refused with
 * IMGCLASS_ERR_MODEL and a message that names it. Loading models that
 * carry recipes (default options, labels, input size, overrides) is tested
 * in test_model.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_fixtures.h"
#include "recipe.h"

static ic_recipe *parse_ok(const char *json)
{
    ic_recipe *r = NULL;
    imgclass_status st = ic_recipe_parse(json, strlen(json), "m.pt", &r);
    if (st != IMGCLASS_OK)
        fail_msg("recipe refused: %s", imgclass_last_error());
    assert_non_null(r);
    return r;
}

static void parse_fails(const char *json, const char *field)
{
    ic_recipe *r = (ic_recipe *)(uintptr_t)1; /* must stay untouched */
    assert_int_equal(ic_recipe_parse(json, strlen(json), "m.pt", &r), IMGCLASS_ERR_MODEL);
    assert_ptr_equal(r, (ic_recipe *)(uintptr_t)1);
    const char *msg = imgclass_last_error();
    if (!strstr(msg, "m.pt: invalid model: recipe imgclass.json") || !strstr(msg, field))
        fail_msg("message \"%s\" lacks the source or \"%s\"", msg, field);
}

static void test_full_recipe(void **state)
{
    (void)state;
    ic_recipe *r = parse_ok(
        "{\"version\": 1, \"resize_mode\": \"shorter\", \"resize_size\": 384,\n"
        " \"crop\": [380, 380], \"interpolation\": \"bicubic\",\n"
        " \"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225],\n"
        " \"labels\": [\"tench\", \"n01443537 goldfish\"], \"source\": \"test\",\n"
        " \"future_field\": {\"ignored\": true}}\n");
    const imgclass_preprocess_options *o = &r->options;
    assert_int_equal(o->resize_mode, IMGCLASS_RESIZE_SHORTER);
    assert_int_equal(o->resize_size, 384);
    assert_int_equal(o->crop_height, 380);
    assert_int_equal(o->crop_width, 380);
    assert_int_equal(o->interpolation, IMGCLASS_INTERP_BICUBIC);
    assert_true(o->mean[1] == 0.456f);
    assert_true(o->std[2] == 0.225f);
    assert_int_equal(o->fast, 0);
    assert_non_null(r->labels);
    assert_int_equal(r->labels->count, 2);
    assert_string_equal(r->labels->label[0], "tench");
    assert_null(r->labels->id[0]);
    /* synset lines split as in a labels file */
    assert_string_equal(r->labels->id[1], "n01443537");
    assert_string_equal(r->labels->label[1], "goldfish");
    assert_non_null(strstr(r->json, "future_field"));
    int h, w;
    assert_int_equal(ic_recipe_input_size(r, &h, &w), 1);
    assert_int_equal(h, 380);
    assert_int_equal(w, 380);
    ic_recipe_free(r);
}

static void test_exact_and_none(void **state)
{
    (void)state;
    ic_recipe *r = parse_ok("{\"version\":1,\"resize_mode\":\"exact\",\"resize_size\":[200,300],"
                            "\"crop\":null,\"interpolation\":\"bilinear\","
                            "\"mean\":[0,0,0],\"std\":[1,1,1]}");
    assert_int_equal(r->options.resize_mode, IMGCLASS_RESIZE_EXACT);
    assert_int_equal(r->options.resize_height, 200);
    assert_int_equal(r->options.resize_width, 300);
    assert_int_equal(r->options.crop_width, 0);
    assert_null(r->labels);
    int h, w;
    assert_int_equal(ic_recipe_input_size(r, &h, &w), 1);
    assert_int_equal(h, 200);
    assert_int_equal(w, 300);
    ic_recipe_free(r);
    r = parse_ok("{\"version\":1,\"resize_mode\":\"none\",\"crop\":null,"
                 "\"interpolation\":\"bilinear\",\"mean\":[0.5,0.5,0.5],\"std\":[0.5,0.5,0.5]}");
    assert_int_equal(ic_recipe_input_size(r, &h, &w), 0); /* each image's own size */
    ic_recipe_free(r);
}

#define BASE_TAIL "\"interpolation\":\"bilinear\",\"mean\":[0.5,0.5,0.5],\"std\":[0.5,0.5,0.5]"
#define SHORTER "\"version\":1,\"resize_mode\":\"shorter\",\"resize_size\":256,"

static void test_malformed_fields_are_named(void **state)
{
    (void)state;
    static const struct {
        const char *json, *field;
    } cases[] = {
        {"{\"resize_mode\":\"shorter\",\"resize_size\":256,\"crop\":[224,224]," BASE_TAIL "}",
         "\"version\""},
        {"{\"version\":2,\"resize_mode\":\"shorter\",\"resize_size\":256,\"crop\":[224,224],"
         BASE_TAIL "}", "version 2"},
        {"{\"version\":1,\"resize_mode\":\"shortest\",\"resize_size\":256,\"crop\":[224,224],"
         BASE_TAIL "}", "\"resize_mode\""},
        {"{\"version\":1,\"resize_mode\":\"shorter\",\"resize_size\":-1,\"crop\":[224,224],"
         BASE_TAIL "}", "\"resize_size\""},
        {"{\"version\":1,\"resize_mode\":\"shorter\",\"resize_size\":\"256\",\"crop\":[224,224],"
         BASE_TAIL "}", "\"resize_size\""},
        {"{\"version\":1,\"resize_mode\":\"exact\",\"resize_size\":256,\"crop\":[224,224],"
         BASE_TAIL "}", "\"resize_size\""},
        {"{" SHORTER "\"crop\":[224,224.5]," BASE_TAIL "}", "\"crop\""},
        {"{" SHORTER BASE_TAIL "}", "\"crop\""},
        {"{" SHORTER "\"crop\":null," BASE_TAIL "}", "\"crop\""},
        {"{" SHORTER "\"crop\":[0,224]," BASE_TAIL "}", "\"crop\""},
        {"{" SHORTER "\"crop\":[224,224],\"interpolation\":\"lanczos\","
         "\"mean\":[0.5,0.5,0.5],\"std\":[0.5,0.5,0.5]}", "\"interpolation\""},
        {"{" SHORTER "\"crop\":[224,224],\"interpolation\":\"bilinear\","
         "\"mean\":[0.5,0.5],\"std\":[0.5,0.5,0.5]}", "\"mean\""},
        {"{" SHORTER "\"crop\":[224,224],\"interpolation\":\"bilinear\","
         "\"mean\":[0.5,0.5,\"x\"],\"std\":[0.5,0.5,0.5]}", "\"mean\""},
        {"{" SHORTER "\"crop\":[224,224],\"interpolation\":\"bilinear\","
         "\"mean\":[0.5,0.5,0.5],\"std\":[0.5,0,0.5]}", "\"std\""},
        {"{" SHORTER "\"crop\":[224,224],\"interpolation\":\"bilinear\","
         "\"mean\":[0.5,0.5,0.5],\"std\":[0.5,0.5,1e999]}", "\"std\""},
        {"{" SHORTER "\"crop\":[224,224]," BASE_TAIL ",\"labels\":[]}", "\"labels\""},
        {"{" SHORTER "\"crop\":[224,224]," BASE_TAIL ",\"labels\":[\"a\",3]}", "entry 1"},
        {"{" SHORTER "\"crop\":[224,224]," BASE_TAIL ",\"labels\":[\"a\\nb\"]}", "\"labels\""},
        {"{" SHORTER "\"crop\":[224,224]," BASE_TAIL ",\"source\":7}", "\"source\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_fails(cases[i].json, cases[i].field);
}

static void test_not_json(void **state)
{
    (void)state;
    parse_fails("", "not valid JSON");
    parse_fails("{\"version\": 1", "unexpected end of data");
    parse_fails("[1, 2]", "not a JSON object");
    parse_fails("{\"version\":1} trailing", "not valid JSON");
    /* bytes after a NUL are still data */
    static const char nul[] = "{\"version\":1}\0{";
    ic_recipe *r = NULL;
    assert_int_equal(ic_recipe_parse(nul, sizeof nul - 1, "m.pt", &r), IMGCLASS_ERR_MODEL);
    assert_null(r);
}

/* tiny_recipe.pt (test/models/make_test_models.py): shorter 14, crop
 * 12 x 10 (h x w), bicubic, mean 0.5, std 0.25, labels a..e. */
static imgclass_preprocess_options tiny_recipe(void)
{
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    o.resize_size = 14;
    o.crop_height = 12;
    o.crop_width = 10;
    o.interpolation = IMGCLASS_INTERP_BICUBIC;
    for (int c = 0; c < 3; c++) {
        o.mean[c] = 0.5f;
        o.std[c] = 0.25f;
    }
    return o;
}

static void test_model_with_recipe(void **state)
{
    (void)state;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny_recipe.pt"), NULL, &m),
                     IMGCLASS_OK);
    assert_int_equal(imgclass_model_has_recipe(m), 1);
    assert_non_null(strstr(imgclass_model_recipe_json(m), "\"bicubic\""));
    /* the input size is the recipe's crop */
    int c, h, w;
    imgclass_model_input_size(m, &c, &h, &w);
    assert_int_equal(h, 12);
    assert_int_equal(w, 10);
    imgclass_preprocess_options got = imgclass_preprocess_options_default(), want = tiny_recipe();
    assert_int_equal(imgclass_model_preprocess_options(m, &got), IMGCLASS_OK);
    assert_memory_equal(&got, &want, sizeof got);
    /* the options' default preprocess, NULL, means the recipe (below) */
    assert_null(imgclass_classify_options_default().preprocess);
    assert_null(imgclass_pipeline_options_default().preprocess);
    /* its labels are the model's */
    assert_string_equal(imgclass_model_label(m, 0), "a");
    assert_string_equal(imgclass_model_label(m, 4), "e");

    /* classify with no options uses the recipe: the same scores as the
     * recipe given explicitly, and as preprocess + predict with it */
    uint8_t px[40 * 30 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7 + i / 97);
    imgclass_image *im = NULL;
    assert_int_equal(imgclass_image_wrap(px, 40, 30, 0, IMGCLASS_PIXEL_RGB, 1, &im), IMGCLASS_OK);
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = im};
    imgclass_results *r1 = NULL, *r2 = NULL;
    assert_int_equal(imgclass_classify(m, &in, 1, NULL, &r1), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r1, 0), IMGCLASS_OK);
    imgclass_classify_options explicit_opts = imgclass_classify_options_default();
    /* the defaults (preprocess NULL) are the recipe too */
    assert_int_equal(imgclass_classify(m, &in, 1, &explicit_opts, &r2), IMGCLASS_OK);
    assert_memory_equal(imgclass_results_scores(r1, 0), imgclass_results_scores(r2, 0),
                        5 * sizeof(float));
    imgclass_results_free(r2);
    explicit_opts.preprocess = &want;
    assert_int_equal(imgclass_classify(m, &in, 1, &explicit_opts, &r2), IMGCLASS_OK);
    assert_memory_equal(imgclass_results_scores(r1, 0), imgclass_results_scores(r2, 0),
                        5 * sizeof(float));
    imgclass_batch *b = NULL;
    float scores[5];
    assert_int_equal(imgclass_batch_create(1, 12, 10, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_preprocess(im, &want, b, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, scores, 5), IMGCLASS_OK);
    assert_memory_equal(imgclass_results_scores(r1, 0), scores, sizeof scores);
    int k;
    const imgclass_class *top = imgclass_results_top(r1, 0, &k);
    assert_true(k >= 1);
    assert_non_null(top[0].label);

    /* explicit options override the recipe: bilinear gives other pixels */
    imgclass_preprocess_options bilinear = want;
    bilinear.interpolation = IMGCLASS_INTERP_BILINEAR;
    explicit_opts.preprocess = &bilinear;
    imgclass_results_free(r2);
    assert_int_equal(imgclass_classify(m, &in, 1, &explicit_opts, &r2), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r2, 0), IMGCLASS_OK);
    assert_memory_not_equal(imgclass_results_scores(r1, 0), imgclass_results_scores(r2, 0),
                            5 * sizeof(float));
    /* and a labels file replaces the recipe's labels */
    assert_int_equal(imgclass_model_load_labels(m, fx_model_path("labels_synset.txt")),
                     IMGCLASS_OK);
    assert_string_equal(imgclass_model_label(m, 0), "tench, Tinca tinca");
    imgclass_results_free(r1);
    imgclass_results_free(r2);
    imgclass_batch_free(b);
    imgclass_image_free(im);
    imgclass_model_free(m);

    /* an explicit input size wins over the recipe's */
    imgclass_model_options mo = imgclass_model_options_default();
    mo.input_height = mo.input_width = 8;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny_recipe.pt"), &mo, &m), IMGCLASS_OK);
    imgclass_model_input_size(m, NULL, &h, &w);
    assert_int_equal(h, 8);
    assert_int_equal(w, 8);
    imgclass_model_free(m);
}

/* A model without a recipe behaves as before: defaults, 224 x 224. */
static void test_model_without_recipe(void **state)
{
    (void)state;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), NULL, &m), IMGCLASS_OK);
    assert_int_equal(imgclass_model_has_recipe(m), 0);
    assert_null(imgclass_model_recipe_json(m));
    assert_null(imgclass_model_label(m, 0));
    int h, w;
    imgclass_model_input_size(m, NULL, &h, &w);
    assert_int_equal(h, 224);
    assert_int_equal(w, 224);
    imgclass_preprocess_options got = {.struct_size = sizeof got},
                                want = imgclass_preprocess_options_default();
    assert_int_equal(imgclass_model_preprocess_options(m, &got), IMGCLASS_OK);
    assert_memory_equal(&got, &want, sizeof got);
    imgclass_model_free(m);
    /* the queries on NULL */
    assert_int_equal(imgclass_model_has_recipe(NULL), 0);
    assert_null(imgclass_model_recipe_json(NULL));
    assert_int_equal(imgclass_model_preprocess_options(NULL, &got),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
}

static void model_fails(const char *name, const char *what)
{
    imgclass_model *m = (imgclass_model *)(uintptr_t)1;
    assert_int_equal(imgclass_model_load(fx_model_path(name), NULL, &m), IMGCLASS_ERR_MODEL);
    assert_null(m);
    const char *msg = imgclass_last_error();
    if (!strstr(msg, name) || !strstr(msg, what))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", msg, name, what);
}

static void test_model_with_bad_recipe(void **state)
{
    (void)state;
    model_fails("tiny_recipe_bad_interp.pt", "field \"interpolation\"");
    model_fails("tiny_recipe_not_json.pt", "not valid JSON");
    model_fails("tiny_recipe_labels6.pt", "6 labels but the model has 5 classes");
    model_fails("tiny_recipe_no_size.pt", "no fixed input size");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_recipe),
        cmocka_unit_test(test_exact_and_none),
        cmocka_unit_test(test_malformed_fields_are_named),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_model_with_recipe),
        cmocka_unit_test(test_model_without_recipe),
        cmocka_unit_test(test_model_with_bad_recipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
