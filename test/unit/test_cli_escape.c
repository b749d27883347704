/* The CLI's output escaping (examples/common/text_escape.c) and option parsers
 * (examples/common/pp_options.c, examples/common/cli_args.c), linked in as the example programs link
 * them (the Makefile names their objects). Expected strings are derived by hand from RFC 8259,
 * the UTF-8 definition (RFC 3629) and Python's surrogateescape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_args.h"
#include "pp_options.h"
#include "text_escape.h"
#include "torchvision_presets.h"

static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, s);
    fclose(f);
    return buf;
}

static void check_json(const char *in, const char *want)
{
    char *got = capture(json_write_string, in);
    assert_string_equal(got, want);
    free(got);
}

static void check_tsv(const char *in, const char *want)
{
    char *got = capture(tsv_write_escaped, in);
    assert_string_equal(got, want);
    free(got);
}

static void json_escapes_specials(void **state)
{
    (void)state;
    check_json("plain.jpg", "\"plain.jpg\"");
    check_json("a\"b\\c", "\"a\\\"b\\\\c\"");
    check_json("t\tn\nr\rb\bf\f", "\"t\\tn\\nr\\rb\\bf\\f\"");
    check_json("\x01\x1f", "\"\\u0001\\u001f\"");
    check_json("\x7f/", "\"\x7f/\""); /* DEL and '/' need no escape */
}

static void json_passes_valid_utf8(void **state)
{
    (void)state;
    check_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");                     /* U+00E9 */
    check_json("\xe2\x82\xac", "\"\xe2\x82\xac\"");                   /* U+20AC */
    check_json("\xf0\x9f\x90\xb1", "\"\xf0\x9f\x90\xb1\"");           /* U+1F431 */
    check_json("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");           /* U+10FFFF */
}

static void json_surrogate_escapes_invalid_bytes(void **state)
{
    (void)state;
    check_json("bad\xff", "\"bad\\udcff\"");
    check_json("\x80", "\"\\udc80\"");                       /* lone continuation */
    check_json("\xc3", "\"\\udcc3\"");                       /* truncated sequence */
    check_json("\xc3(", "\"\\udcc3(\"");                     /* bad continuation */
    check_json("\xc0\xaf", "\"\\udcc0\\udcaf\"");            /* overlong '/' */
    check_json("\xe0\x80\xaf", "\"\\udce0\\udc80\\udcaf\""); /* overlong, 3 bytes */
    check_json("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\""); /* encoded surrogate */
    check_json("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""); /* > U+10FFFF */
    check_json("\xf5", "\"\\udcf5\"");
}

static void tsv_escapes_four_bytes(void **state)
{
    (void)state;
    check_tsv("a\tb\nc\rd\\e", "a\\tb\\nc\\rd\\\\e");
    check_tsv("quo\"te \xff", "quo\"te \xff");
}

static void utf8_lengths(void **state)
{
    (void)state;
    assert_int_equal(utf8_sequence_length((const unsigned char *)"A", 1), 1);
    assert_int_equal(utf8_sequence_length((const unsigned char *)"\xc2\x80", 2), 2);
    assert_int_equal(utf8_sequence_length((const unsigned char *)"\xc2\x80", 1), 0);
    assert_int_equal(utf8_sequence_length((const unsigned char *)"\xef\xbf\xbf", 3), 3);
    assert_int_equal(utf8_sequence_length((const unsigned char *)"\xc1\xbf", 2), 0);
}

static void option_parsers(void **state)
{
    (void)state;
    int w, h, wh, v;
    float t[3];
    assert_int_equal(pp_parse_dims("224", &w, &h, &wh), 0);
    assert_int_equal(w, 224);
    assert_int_equal(h, 224);
    assert_int_equal(wh, 0);
    assert_int_equal(pp_parse_dims("320x200", &w, &h, &wh), 0);
    assert_int_equal(w, 320);
    assert_int_equal(h, 200);
    assert_int_equal(wh, 1);
    assert_int_equal(pp_parse_dims("x2", &w, &h, &wh), -1);
    assert_int_equal(pp_parse_dims("0", &w, &h, &wh), -1);
    assert_int_equal(pp_parse_dims("3x", &w, &h, &wh), -1);
    assert_int_equal(pp_parse_triple("0.5,1,-2e-1", t), 0);
    assert_true(t[0] == 0.5f && t[1] == 1.0f && t[2] == -0.2f);
    assert_int_equal(pp_parse_triple("1,2", t), -1);
    assert_int_equal(pp_parse_triple("1,2,3,", t), -1);
    assert_int_equal(cli_parse_int("12", 1, 20, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(cli_parse_int("21", 1, 20, &v), -1);
    assert_int_equal(cli_parse_int("1x", 1, 20, &v), -1);
}

/* Parses argv as a program whose options are the preprocessing ones does
 * (PP_ARGS_LONG_OPTIONS, cli_getopt, pp_args_option), operands collected
 * in order into `operands` (may be NULL). Returns the operand count, or
 * -1 at the first usage error or bad value. */
static int parse_pp(int argc, char **argv, pp_args *a, char **operands)
{
    static const struct option options[] = {PP_ARGS_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    int n = 0, c;
    *a = pp_args_init();
    cli_getopt_begin();
    while ((c = cli_getopt(argc, argv, CLI_SHORT_PREFIX, options, "test")) != CLI_END) {
        if (c == CLI_ERROR)
            return -1;
        if (c == CLI_OPERAND) {
            if (operands)
                operands[n] = optarg;
            n++;
        } else if (pp_args_option(a, c, optarg, "test") != 1) {
            return -1;
        }
    }
    for (; optind < argc; optind++, n++)
        if (operands)
            operands[n] = argv[optind];
    return n;
}

static void preset_then_overrides(void **state)
{
    (void)state;
    char *argv[] = {"x", "--crop", "200", "--preset=djl", "--mean", "0,0,0", "--bogus"};
    pp_args a;
    assert_int_equal(parse_pp(7, argv, &a, NULL), -1); /* --bogus is not an option */
    assert_int_equal(parse_pp(6, argv, &a, NULL), 0);  /* a second parse starts over */
    imgclass_preprocess_options o;
    assert_int_equal(pp_args_finish(&a, &o, "test"), 0);
    imgclass_preprocess_options djl = imgclass_preprocess_options_djl();
    assert_int_equal(o.resize_mode, djl.resize_mode); /* the preset, though given later */
    assert_int_equal(o.resize_width, djl.resize_width);
    assert_int_equal(o.crop_width, 200);
    assert_int_equal(o.crop_height, 200);
    assert_true(o.mean[0] == 0.0f && o.std[0] == djl.std[0]);
}

static void resize_mode_names(void **state)
{
    (void)state;
    const char *names[] = {"short", "shorter", "exact", "none", "longer"};
    const int expect[] = {IMGCLASS_RESIZE_SHORTER, IMGCLASS_RESIZE_SHORTER, IMGCLASS_RESIZE_EXACT,
                          IMGCLASS_RESIZE_NONE, -1};
    for (int n = 0; n < 5; n++) {
        char *argv[] = {"x", "--resize-mode", (char *)names[n]};
        pp_args a;
        int r = parse_pp(3, argv, &a, NULL);
        if (expect[n] < 0) {
            assert_int_equal(r, -1); /* an unknown mode is a usage error */
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(a.mode, expect[n]);
        }
    }
}

/* --preset torchvision:NAME from the generated table; --interpolation;
 * and without --preset the model's recipe is the base. */
static void torchvision_presets_and_recipe_base(void **state)
{
    (void)state;
    char *argv[] = {"x", "--preset", "torchvision:EfficientNet_B4_Weights.IMAGENET1K_V1",
                    "--mean", "0.5,0.5,0.5"};
    pp_args a;
    assert_int_equal(parse_pp(5, argv, &a, NULL), 0);
    imgclass_preprocess_options o, base = imgclass_preprocess_options_djl();
    /* an explicit preset wins over the model's recipe */
    assert_int_equal(pp_args_finish_base(&a, &base, &o, "test"), 0);
    assert_int_equal(o.resize_mode, IMGCLASS_RESIZE_SHORTER);
    assert_int_equal(o.resize_size, 384); /* torchvision 0.14: Resize(384), CenterCrop(380) */
    assert_int_equal(o.crop_width, 380);
    assert_int_equal(o.interpolation, IMGCLASS_INTERP_BICUBIC);
    assert_true(o.mean[0] == 0.5f && o.std[0] == 0.229f);
    int h, w;
    assert_int_equal(pp_args_known_size(&a, &h, &w), 1);
    assert_int_equal(h, 380);
    /* 0.5 mean/std weights, and an unknown name is a usage error */
    const tv_preset *p = tv_preset_find("EfficientNet_V2_L_Weights.IMAGENET1K_V1");
    assert_non_null(p);
    assert_true(p->mean[1] == 0.5f && p->std[2] == 0.5f && p->crop == 480);
    assert_null(tv_preset_find("EfficientNet_B0_Weights.NOPE"));
    char *bad[] = {"x", "--preset", "torchvision:Nope_Weights.V1"};
    assert_int_equal(parse_pp(3, bad, &a, NULL), -1);
    size_t n = 0;
    while (tv_preset_at(n))
        n++;
    assert_int_equal(n, 115);

    /* no preset: the base (the model's recipe) with the overrides on top */
    char *argv2[] = {"x", "--interpolation", "bilinear", "--crop", "300"};
    assert_int_equal(parse_pp(5, argv2, &a, NULL), 0);
    base = imgclass_preprocess_options_default();
    base.resize_size = 320;
    base.interpolation = IMGCLASS_INTERP_BICUBIC;
    assert_int_equal(pp_args_finish_base(&a, &base, &o, "test"), 0);
    assert_int_equal(o.resize_size, 320);
    assert_int_equal(o.crop_width, 300);
    assert_int_equal(o.interpolation, IMGCLASS_INTERP_BILINEAR);
    assert_int_equal(pp_args_known_size(&a, &h, &w), 1); /* the crop fixes it */
    assert_int_equal(w, 300);
    char *argv3[] = {"x", "--interpolation", "lanczos"};
    assert_int_equal(parse_pp(3, argv3, &a, NULL), -1);
    assert_int_equal(pp_args_known_size(&a, &h, &w), 0); /* only the model can tell */
}

/* The argument forms every program gets from cli_getopt: --opt=VALUE as
 * --opt VALUE, operands before and after options in their order, "-" an
 * operand, "--" ending the options, no abbreviations, missing values. */
static void getopt_forms(void **state)
{
    (void)state;
    char *ops[8];
    pp_args a, b;
    char *eq[] = {"x", "in1", "--size=320x200", "--crop=100", "-", "--fast", "in2"};
    char *sp[] = {"x", "--size", "320x200", "in1", "--crop", "100", "--fast", "-", "in2"};
    assert_int_equal(parse_pp(7, eq, &a, ops), 3);
    assert_string_equal(ops[0], "in1");
    assert_string_equal(ops[1], "-");
    assert_string_equal(ops[2], "in2");
    assert_int_equal(parse_pp(9, sp, &b, ops), 3);
    assert_string_equal(ops[0], "in1");
    assert_string_equal(ops[1], "-");
    assert_int_equal(a.size_w, 320);
    assert_int_equal(a.size_h, 200);
    assert_int_equal(a.crop_w, 100);
    assert_int_equal(a.fast, 1);
    assert_memory_equal(&a, &b, sizeof a);
    /* after "--" everything is an operand, even what looks like an option */
    char *dd[] = {"x", "--fast", "--", "-x", "--size", "-"};
    assert_int_equal(parse_pp(6, dd, &a, ops), 3);
    assert_string_equal(ops[0], "-x");
    assert_string_equal(ops[1], "--size");
    assert_string_equal(ops[2], "-");
    /* a prefix is not the option; a flag takes no value; a value can be missing */
    char *abbrev[] = {"x", "--siz", "8"};
    assert_int_equal(parse_pp(3, abbrev, &a, NULL), -1);
    char *flagval[] = {"x", "--fast=1"};
    assert_int_equal(parse_pp(2, flagval, &a, NULL), -1);
    char *missing[] = {"x", "--crop"};
    assert_int_equal(parse_pp(2, missing, &a, NULL), -1);
    char *shortopt[] = {"x", "-z"};
    assert_int_equal(parse_pp(2, shortopt, &a, NULL), -1);
    /* an empty value is a value ("--crop=" is bad, not missing) */
    char *empty[] = {"x", "--mean=", "in"};
    assert_int_equal(parse_pp(3, empty, &a, NULL), -1);
    char *ok[] = {"x", "--mean=1,2,3", "in"};
    assert_int_equal(parse_pp(3, ok, &a, NULL), 1);
    assert_true(a.mean[2] == 3.0f);
    assert_string_equal(cli_option_name((const struct option[]){PP_ARGS_LONG_OPTIONS, {0}},
                                        PP_OPT_CROP), "crop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_escapes_specials),
        cmocka_unit_test(json_passes_valid_utf8),
        cmocka_unit_test(json_surrogate_escapes_invalid_bytes),
        cmocka_unit_test(tsv_escapes_four_bytes),
        cmocka_unit_test(utf8_lengths),
        cmocka_unit_test(option_parsers),
        cmocka_unit_test(preset_then_overrides),
        cmocka_unit_test(resize_mode_names),
        cmocka_unit_test(torchvision_presets_and_recipe_base),
        cmocka_unit_test(getopt_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
