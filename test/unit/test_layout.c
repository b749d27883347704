/* The layout of every public struct against a pinned table
 * (test/unit/abi_layout.txt, checked in): each field's offset and size,
 * each struct's size. A layout may change only by appending: a pinned
 * field that moves or changes size, a struct that shrinks, or a frozen
 * struct (imgclass_class, indexed by callers) that changes at all fails.
 * A field added at the end is not in the table and passes; add it there
 * when it ships. `test_layout --print` writes today's table.
 * The grown-library test (test/integration/abi_grow.sh) also builds this
 * against the grown header, where every growable struct has a field more:
 * it must pass there too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imgclass.h"

#define TABLE "test/unit/abi_layout.txt"

typedef struct row {
    const char *type, *field; /* field NULL: the struct's own size */
    size_t offset, size;
} row;

#define F(type, field) {#type, #field, offsetof(type, field), sizeof(((type *)0)->field)}
#define S(type) {#type, NULL, 0, sizeof(type)}

static const row rows[] = {
    S(imgclass_decode_options),
    F(imgclass_decode_options, struct_size), F(imgclass_decode_options, max_pixels),
    F(imgclass_decode_options, max_file_bytes), F(imgclass_decode_options, max_decode_memory),
    F(imgclass_decode_options, max_jpeg_scans), F(imgclass_decode_options, exif_transpose),
    S(imgclass_image_info),
    F(imgclass_image_info, struct_size), F(imgclass_image_info, format),
    F(imgclass_image_info, width), F(imgclass_image_info, height),
    F(imgclass_image_info, orientation),
    S(imgclass_yuv_frame),
    F(imgclass_yuv_frame, struct_size), F(imgclass_yuv_frame, layout),
    F(imgclass_yuv_frame, width), F(imgclass_yuv_frame, height), F(imgclass_yuv_frame, planes),
    F(imgclass_yuv_frame, strides), F(imgclass_yuv_frame, matrix), F(imgclass_yuv_frame, range),
    S(imgclass_preprocess_options),
    F(imgclass_preprocess_options, struct_size), F(imgclass_preprocess_options, resize_mode),
    F(imgclass_preprocess_options, resize_size), F(imgclass_preprocess_options, resize_width),
    F(imgclass_preprocess_options, resize_height), F(imgclass_preprocess_options, crop_width),
    F(imgclass_preprocess_options, crop_height), F(imgclass_preprocess_options, mean),
    F(imgclass_preprocess_options, std), F(imgclass_preprocess_options, fast),
    F(imgclass_preprocess_options, interpolation),
    S(imgclass_model_options),
    F(imgclass_model_options, struct_size), F(imgclass_model_options, device),
    F(imgclass_model_options, input_channels), F(imgclass_model_options, input_height),
    F(imgclass_model_options, input_width), F(imgclass_model_options, softmax),
    F(imgclass_model_options, optimize), F(imgclass_model_options, warmup_runs),
    F(imgclass_model_options, qengine), F(imgclass_model_options, max_model_bytes),
    F(imgclass_model_options, max_gzip_ratio), F(imgclass_model_options, precision),
    F(imgclass_model_options, cache_dir),
    S(imgclass_class),
    F(imgclass_class, index), F(imgclass_class, score), F(imgclass_class, label),
    F(imgclass_class, id),
    S(imgclass_input),
    F(imgclass_input, struct_size), F(imgclass_input, kind), F(imgclass_input, path),
    F(imgclass_input, data), F(imgclass_input, size), F(imgclass_input, image),
    S(imgclass_filter),
    F(imgclass_filter, struct_size), F(imgclass_filter, score_threshold),
    F(imgclass_filter, allow_indices), F(imgclass_filter, allow_index_count),
    F(imgclass_filter, allow_labels), F(imgclass_filter, allow_label_count),
    F(imgclass_filter, deny_indices), F(imgclass_filter, deny_index_count),
    F(imgclass_filter, deny_labels), F(imgclass_filter, deny_label_count),
    S(imgclass_classify_options),
    F(imgclass_classify_options, struct_size), F(imgclass_classify_options, topk),
    F(imgclass_classify_options, decode), F(imgclass_classify_options, preprocess),
    F(imgclass_classify_options, preprocess_threads), F(imgclass_classify_options, filter),
    S(imgclass_pipeline_result),
    F(imgclass_pipeline_result, struct_size), F(imgclass_pipeline_result, user),
    F(imgclass_pipeline_result, seq), F(imgclass_pipeline_result, status),
    F(imgclass_pipeline_result, error), F(imgclass_pipeline_result, top),
    F(imgclass_pipeline_result, k), F(imgclass_pipeline_result, scores),
    F(imgclass_pipeline_result, num_classes), F(imgclass_pipeline_result, queued_us),
    F(imgclass_pipeline_result, preprocess_us), F(imgclass_pipeline_result, forward_us),
    F(imgclass_pipeline_result, batch_size), F(imgclass_pipeline_result, cut),
    F(imgclass_pipeline_result, batch_id), F(imgclass_pipeline_result, batch_inputs),
    S(imgclass_pipeline_options),
    F(imgclass_pipeline_options, struct_size), F(imgclass_pipeline_options, max_batch),
    F(imgclass_pipeline_options, max_delay_us), F(imgclass_pipeline_options, preprocess_threads),
    F(imgclass_pipeline_options, queue_capacity), F(imgclass_pipeline_options, topk),
    F(imgclass_pipeline_options, decode), F(imgclass_pipeline_options, preprocess),
    F(imgclass_pipeline_options, on_result), F(imgclass_pipeline_options, on_result_ctx),
    F(imgclass_pipeline_options, ordered), F(imgclass_pipeline_options, preprocess_nice),
    F(imgclass_pipeline_options, filter), F(imgclass_pipeline_options, engine_lanes),
    F(imgclass_pipeline_options, engine_lane_threads),
    S(imgclass_pipeline_stats),
    F(imgclass_pipeline_stats, struct_size), F(imgclass_pipeline_stats, submitted),
    F(imgclass_pipeline_stats, delivered), F(imgclass_pipeline_stats, failed),
    F(imgclass_pipeline_stats, batches), F(imgclass_pipeline_stats, batches_full),
    F(imgclass_pipeline_stats, batches_deadline), F(imgclass_pipeline_stats, batches_flush),
    F(imgclass_pipeline_stats, batched_images), F(imgclass_pipeline_stats, queue_depth),
    F(imgclass_pipeline_stats, queue_capacity), F(imgclass_pipeline_stats, latency_p50_us),
    F(imgclass_pipeline_stats, latency_p90_us), F(imgclass_pipeline_stats, latency_p99_us),
    F(imgclass_pipeline_stats, latency_buckets), F(imgclass_pipeline_stats, latency_sum_us),
    F(imgclass_pipeline_stats, queued_sum_us), F(imgclass_pipeline_stats, preprocess_sum_us),
    F(imgclass_pipeline_stats, forward_sum_us), F(imgclass_pipeline_stats, engine_prepared),
};
#define NROWS (sizeof rows / sizeof rows[0])

/* The structs the library reads (their bytes past its fields must be 0, so
 * they may not end in padding, which struct assignment does not keep). */
static const char *const read_structs[] = {
    "imgclass_decode_options", "imgclass_yuv_frame", "imgclass_preprocess_options",
    "imgclass_model_options", "imgclass_input", "imgclass_filter", "imgclass_classify_options",
    "imgclass_pipeline_options"};

static void read_structs_end_at_their_last_field(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof read_structs / sizeof *read_structs; t++) {
        size_t end = 0, size = 0;
        for (size_t i = 0; i < NROWS; i++) {
            if (strcmp(rows[i].type, read_structs[t]))
                continue;
            if (!rows[i].field)
                size = rows[i].size;
            else if (rows[i].offset + rows[i].size > end)
                end = rows[i].offset + rows[i].size;
        }
        if (end != size)
            fail_msg("%s: sizeof is %zu, its last field ends at %zu: trailing padding",
                     read_structs[t], size, end);
    }
}

/* The one struct that may never grow (see imgclass.h). */
static int frozen(const char *type)
{
    return strcmp(type, "imgclass_class") == 0;
}

static const row *find(const char *type, const char *field)
{
    for (size_t i = 0; i < NROWS; i++)
        if (!strcmp(rows[i].type, type) &&
            (field ? rows[i].field && !strcmp(rows[i].field, field) : !rows[i].field))
            return &rows[i];
    return NULL;
}

/* Every pinned line against today's layout; every struct of today pinned. */
static void layout_matches_the_pinned_table(void **state)
{
    (void)state;
    FILE *f = fopen(TABLE, "r");
    if (!f)
        fail_msg("%s: cannot open (run from the repository root)", TABLE);
    char line[256];
    int lineno = 0, checked = 0, errors = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char type[96], field[96];
        unsigned long offset, size;
        if (sscanf(line, "%95s %95s %lu %lu", type, field, &offset, &size) != 4) {
            print_error("%s:%d: not \"struct field offset size\"\n", TABLE, lineno);
            errors++;
            continue;
        }
        int whole = !strcmp(field, "-");
        const row *r = find(type, whole ? NULL : field);
        checked++;
        if (!r) {
            print_error("%s:%d: %s%s%s is pinned but gone (removing breaks the ABI)\n", TABLE,
                        lineno, type, whole ? "" : ".", whole ? "" : field);
            errors++;
        } else if (whole && (frozen(type) ? r->size != size : r->size < size)) {
            print_error("%s:%d: sizeof(%s) is %zu, pinned %lu (%s)\n", TABLE, lineno, type,
                        r->size, size, frozen(type) ? "a frozen struct never changes"
                                                    : "a struct may only grow");
            errors++;
        } else if (!whole && (r->offset != offset || r->size != size)) {
            print_error("%s:%d: %s.%s is at %zu, %zu bytes; pinned at %lu, %lu bytes (fields "
                        "may only be appended)\n",
                        TABLE, lineno, type, field, r->offset, r->size, offset, size);
            errors++;
        }
    }
    fclose(f);
    assert_int_equal(checked, NROWS); /* every row of today is pinned */
    assert_int_equal(errors, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--print")) {
        printf("# struct field offset size (field \"-\": sizeof the struct); written by\n"
               "# build/test/test_layout --print, checked by test/unit/test_layout.c\n");
        for (size_t i = 0; i < NROWS; i++)
            printf("%s %s %zu %zu\n", rows[i].type, rows[i].field ? rows[i].field : "-",
                   rows[i].offset, rows[i].size);
        return 0;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(layout_matches_the_pinned_table),
                                       cmocka_unit_test(read_structs_end_at_their_last_field)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
