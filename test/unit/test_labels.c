/* Label files: synset text, plain text, TorchServe JSON, gzip, errors; and
 * attaching them to a model (count check, accessors, replacement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imgclass.h"
#include "labels.h"
#include "model_fixtures.h"

static ic_labels *parse_ok(const char *text)
{
    ic_labels *l = NULL;
    imgclass_status st = ic_labels_parse(text, strlen(text), "t", &l);
    if (st != IMGCLASS_OK)
        fail_msg("parse failed: %s", imgclass_last_error());
    return l;
}

static void parse_fails(const char *text, imgclass_status expect, const char *needle)
{
    ic_labels *l = NULL;
    assert_int_equal(ic_labels_parse(text, strlen(text), "lab.txt", &l), expect);
    assert_null(l);
    if (!strstr(imgclass_last_error(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", imgclass_last_error(), needle);
}

static void test_synset_lines(void **state)
{
    (void)state;
    ic_labels *l = parse_ok("n01440764 tench, Tinca tinca\nn01443537 goldfish\n");
    assert_int_equal(l->count, 2);
    assert_string_equal(l->id[0], "n01440764");
    assert_string_equal(l->label[0], "tench, Tinca tinca");
    assert_string_equal(l->id[1], "n01443537");
    assert_string_equal(l->label[1], "goldfish");
    ic_labels_free(l);
}

static void test_plain_lines(void **state)
{
    (void)state;
    /* Not ids: 7 digits, a letter, no space after, a tab. */
    ic_labels *l = parse_ok("n0144076 a\r\nn0144076x b\nn01440764\nn01440764\tc\ntabby cat");
    assert_int_equal(l->count, 5);
    assert_string_equal(l->label[0], "n0144076 a");
    assert_string_equal(l->label[1], "n0144076x b");
    assert_string_equal(l->label[2], "n01440764");
    assert_string_equal(l->label[3], "n01440764\tc");
    assert_string_equal(l->label[4], "tabby cat"); /* no final newline */
    for (int i = 0; i < 5; i++)
        assert_null(l->id[i]);
    ic_labels_free(l);
}

static void test_empty_lines(void **state)
{
    (void)state;
    /* Trailing empty lines are dropped; an inner one is an (empty) label. */
    ic_labels *l = parse_ok("a\r\n\r\nb\n\n\n\r\n");
    assert_int_equal(l->count, 3);
    assert_string_equal(l->label[0], "a");
    assert_string_equal(l->label[1], "");
    assert_string_equal(l->label[2], "b");
    ic_labels_free(l);
    parse_fails("", IMGCLASS_ERR_LABELS, "lab.txt: invalid labels: no labels");
    parse_fails("\n\r\n", IMGCLASS_ERR_LABELS, "no labels");
    ic_labels *out = NULL;
    assert_int_equal(ic_labels_parse("a\0b\n", 4, "nul.txt", &out), IMGCLASS_ERR_LABELS);
    assert_non_null(strstr(imgclass_last_error(), "NUL"));
}

static void test_json_forms(void **state)
{
    (void)state;
    ic_labels *l = parse_ok(" {\"1\": [\"n01443537\", \"goldfish\"], \"0\": [\"n01440764\", "
                            "\"tench\"]}\n");
    assert_int_equal(l->count, 2);
    assert_string_equal(l->id[0], "n01440764");
    assert_string_equal(l->label[0], "tench");
    assert_string_equal(l->label[1], "goldfish");
    ic_labels_free(l);
    l = parse_ok("{\"0\": \"cat\", \"1\": \"dog\", \"2\": \"caf\xc3\xa9\"}");
    assert_int_equal(l->count, 3);
    assert_string_equal(l->label[2], "caf\xc3\xa9");
    assert_null(l->id[2]);
    ic_labels_free(l);
}

static void test_json_errors(void **state)
{
    (void)state;
    parse_fails("{\"0\": \"a\", \"2\": \"c\"}", IMGCLASS_ERR_LABELS, "key \"2\"");
    parse_fails("{\"1\": \"a\"}", IMGCLASS_ERR_LABELS, "key \"1\"");
    parse_fails("{\"0\": \"a\", \"01\": \"b\"}", IMGCLASS_ERR_LABELS, "\"01\"");
    parse_fails("{\"0\": \"a\", \"-1\": \"b\"}", IMGCLASS_ERR_LABELS, "\"-1\"");
    parse_fails("{\"0\": \"a\", \"x\": \"b\"}", IMGCLASS_ERR_LABELS, "\"x\"");
    parse_fails("{\"0\": 5}", IMGCLASS_ERR_LABELS, "string or [id, label]");
    parse_fails("{\"0\": [\"a\"]}", IMGCLASS_ERR_LABELS, "string or [id, label]");
    parse_fails("{\"0\": [\"a\", 3]}", IMGCLASS_ERR_LABELS, "string or [id, label]");
    parse_fails("{\"0\": \"a\"", IMGCLASS_ERR_LABELS, "bad JSON");
    parse_fails("{\"0\": \"a\",,}", IMGCLASS_ERR_LABELS, "bad JSON");
    parse_fails("{\"0\": \"a\"} trailing", IMGCLASS_ERR_LABELS, "after the JSON");
    parse_fails("{}", IMGCLASS_ERR_LABELS, "no labels");
}

static void test_files_and_gzip(void **state)
{
    (void)state;
    const char *files[] = {"labels_synset.txt", "labels_synset.txt.gz",
                           "labels_index_to_name.json"};
    for (int f = 0; f < 3; f++) {
        size_t size;
        unsigned char *data = fx_model_read(files[f], &size);
        ic_labels *l = NULL;
        assert_int_equal(ic_labels_parse(data, size, files[f], &l), IMGCLASS_OK);
        assert_int_equal(l->count, 5);
        assert_string_equal(l->id[4], "n01494475");
        assert_string_equal(l->label[4], "hammerhead");
        assert_string_equal(l->label[1], "goldfish, Carassius auratus");
        ic_labels_free(l);
        free(data);
    }
    /* A truncated gzip is corrupt data. */
    size_t size;
    unsigned char *data = fx_model_read("labels_synset.txt.gz", &size);
    ic_labels *l = NULL;
    assert_int_equal(ic_labels_parse(data, size - 10, "cut.gz", &l), IMGCLASS_ERR_CORRUPT);
    free(data);
    ic_labels_free(NULL);
}

static void test_attach_to_model(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", 0, 8, 8);
    assert_null(imgclass_model_label(m, 0));
    assert_null(imgclass_model_label_id(m, 0));

    assert_int_equal(imgclass_model_load_labels(m, fx_model_path("labels_plain_crlf.txt")),
                     IMGCLASS_OK);
    assert_string_equal(imgclass_model_label(m, 0), "cat");
    assert_string_equal(imgclass_model_label(m, 2), "");
    assert_string_equal(imgclass_model_label(m, 3), "n0123 not an id");
    assert_null(imgclass_model_label_id(m, 3));
    assert_null(imgclass_model_label(m, 5));
    assert_null(imgclass_model_label(m, -1));

    /* Replacing works; a failed load keeps the previous labels. */
    assert_int_equal(imgclass_model_load_labels(m, fx_model_path("labels_strings.json")),
                     IMGCLASS_OK);
    assert_string_equal(imgclass_model_label(m, 4), "e");
    const char *wrong = fx_model_path("labels_wrong_count.txt");
    assert_int_equal(imgclass_model_load_labels(m, wrong), IMGCLASS_ERR_LABELS);
    assert_non_null(strstr(imgclass_last_error(), "labels_wrong_count.txt: invalid labels"));
    assert_non_null(strstr(imgclass_last_error(), "4 labels"));
    assert_non_null(strstr(imgclass_last_error(), "5 classes"));
    assert_int_equal(imgclass_model_load_labels(m, fx_model_path("labels_missing_key.json")),
                     IMGCLASS_ERR_LABELS);
    assert_string_equal(imgclass_model_label(m, 4), "e");

    size_t size;
    unsigned char *data = fx_model_read("labels_synset.txt.gz", &size);
    assert_int_equal(imgclass_model_load_labels_memory(m, data, size), IMGCLASS_OK);
    assert_string_equal(imgclass_model_label_id(m, 0), "n01440764");
    assert_int_equal(imgclass_model_load_labels_memory(m, data, 3), IMGCLASS_ERR_CORRUPT);
    assert_non_null(strstr(imgclass_last_error(), "memory buffer"));
    free(data);

    assert_int_equal(imgclass_model_load_labels(m, "/nonexistent/labels.txt"), IMGCLASS_ERR_IO);
    assert_int_equal(imgclass_model_load_labels(NULL, "x"), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_model_load_labels(m, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_model_load_labels_memory(m, NULL, 0),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    imgclass_model_free(m);
}

/* Hostile label data: more lines than the model has classes is refused
 * before anything is built; JSON arrays, duplicate keys and \u0000 are
 * refused with their reason. */
static void test_hostile_labels(void **state)
{
    (void)state;
    ic_labels *l = NULL;
    assert_int_equal(ic_labels_parse_expect("a\nb\nc\n", 6, "three.txt", 2, &l),
                     IMGCLASS_ERR_LABELS);
    assert_null(l);
    assert_non_null(strstr(imgclass_last_error(), "3 labels but the model has 2 classes"));
    assert_int_equal(ic_labels_parse_expect("a\nb\n", 4, "two.txt", 2, &l), IMGCLASS_OK);
    ic_labels_free(l);
    l = NULL;
    const char *json = "{\"0\": \"a\", \"1\": \"b\", \"2\": \"c\"}";
    assert_int_equal(ic_labels_parse_expect(json, strlen(json), "j.json", 2, &l),
                     IMGCLASS_ERR_LABELS);
    assert_non_null(strstr(imgclass_last_error(), "3 labels but the model has 2 classes"));
    const char *array = "[\"a\", \"b\"]";
    assert_int_equal(ic_labels_parse(array, strlen(array), "arr.json", &l), IMGCLASS_ERR_LABELS);
    assert_non_null(strstr(imgclass_last_error(), "must be an object"));
    const char *dup = "{\"0\": \"a\", \"1\": \"b\", \"1\": \"c\"}";
    assert_int_equal(ic_labels_parse(dup, strlen(dup), "dup.json", &l), IMGCLASS_ERR_LABELS);
    assert_non_null(strstr(imgclass_last_error(), "appears twice"));
    const char *nul = "{\"0\": \"a\\u0000b\", \"1\": \"c\"}";
    assert_int_equal(ic_labels_parse(nul, strlen(nul), "nul.json", &l), IMGCLASS_ERR_LABELS);
    assert_non_null(strstr(imgclass_last_error(), "NUL"));
    const char *nul_id = "{\"0\": [\"n1\\u0000\", \"a\"], \"1\": \"c\"}";
    assert_int_equal(ic_labels_parse(nul_id, strlen(nul_id), "nul.json", &l), IMGCLASS_ERR_LABELS);
    /* Braces and commas inside strings do not count as members. */
    const char *tricky = "{\"0\": \"a, {b}\", \"1\": [\"n1\", \"c,\\\"d\"]}";
    assert_int_equal(ic_labels_parse_expect(tricky, strlen(tricky), "t.json", 2, &l), IMGCLASS_OK);
    assert_string_equal(l->label[0], "a, {b}");
    assert_string_equal(l->label[1], "c,\"d");
    ic_labels_free(l);
    assert_null(l = NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synset_lines),   cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_empty_lines),    cmocka_unit_test(test_json_forms),
        cmocka_unit_test(test_json_errors),    cmocka_unit_test(test_files_and_gzip),
        cmocka_unit_test(test_attach_to_model),
        cmocka_unit_test(test_hostile_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
