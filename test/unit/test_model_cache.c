/* The model cache (imgclass_model_options.cache_dir, lib/model_cache.h):
 * one model, one answer whatever the cache does (no cache, a miss that
 * writes the entry, a hit), and an entry that is damaged, truncated, made
 * for another engine or holds what the engine cannot use is rebuilt, never
 * a crash or another answer; a folder that cannot be written leaves the
 * load uncached; another model or other options get another entry.
 * (Processes racing for one entry: test/integration/model_cache.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "imgclass.h"
#include "model_fixtures.h"
#include "skip_note.h"

#define N 4 /* tiny_input.f32: 4 x 3 x 8 x 8 */

/* A fresh folder under $TMPDIR, for one test. */
static char *make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = malloc(4096);
    assert_non_null(dir);
    snprintf(dir, 4096, "%s/imgclass-cache-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[8192];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Files in `dir`: all of them, and the path of the one *.entry (there must
 * be exactly one when `entry` is not NULL). */
static int count_files(const char *dir, char *entry, size_t entry_size)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0, entries = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        files++;
        size_t n = strlen(e->d_name);
        if (n > 6 && !strcmp(e->d_name + n - 6, ".entry")) {
            entries++;
            if (entry)
                snprintf(entry, entry_size, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (entry && entries != 1)
        fail_msg("%d entries in %s, expected 1", entries, dir);
    return files;
}

typedef struct load_args {
    const char *model;      /* file in the test-model folder */
    unsigned optimize;
    imgclass_precision precision;
    int from_memory;
} load_args;

/* Loads `a` with the cache in `dir` (NULL: none), checks its cache state
 * starts with `state` (NULL: any), and returns the scores of the 4 fixed
 * inputs (N x 5 floats, malloc'd). */
static float *scores(const load_args *a, const char *dir, const char *state)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.optimize = a->optimize;
    o.precision = a->precision;
    o.input_height = o.input_width = 8; /* the size of the fixed inputs */
    o.cache_dir = dir;
    imgclass_model *m = NULL;
    imgclass_status st;
    if (a->from_memory) {
        size_t size;
        unsigned char *data = fx_model_read(a->model, &size);
        st = imgclass_model_load_memory(data, size, &o, &m);
        free(data);
    } else {
        st = imgclass_model_load(fx_model_path(a->model), &o, &m);
    }
    if (st != IMGCLASS_OK)
        fail_msg("loading %s: %s", a->model, imgclass_last_error());
    const char *got = imgclass_model_cache_state(m);
    if (state && strncmp(got, state, strlen(state)) != 0)
        fail_msg("%s: cache state \"%s\", expected \"%s...\"", a->model, got, state);
    /* The cache's step is timed exactly when there is a cache. */
    double ms = imgclass_model_load_ms(m, IMGCLASS_LOAD_CACHE);
    if (dir ? !(ms > 0) : ms != 0)
        fail_msg("%s: cache step %f ms with cache_dir %s", a->model, ms, dir ? dir : "NULL");
    int k = imgclass_model_num_classes(m);
    assert_int_equal(k, 5);
    float *input = fx_model_floats("tiny_input.f32", (size_t)N * 3 * 8 * 8);
    float *out = malloc(sizeof(float) * N * 5);
    assert_non_null(out);
    imgclass_batch *b = NULL;
    if (imgclass_batch_wrap(input, N, 8, 8, &b) != IMGCLASS_OK ||
        imgclass_predict(m, b, out, N * 5) != IMGCLASS_OK)
        fail_msg("%s: %s", a->model, imgclass_last_error());
    imgclass_batch_free(b);
    free(input);
    imgclass_model_free(m);
    return out;
}

static void assert_same_bits(const float *a, const float *b, const char *what)
{
    if (memcmp(a, b, sizeof(float) * N * 5) != 0)
        for (int i = 0; i < N * 5; i++)
            if (memcmp(&a[i], &b[i], sizeof(float)))
                fail_msg("%s: score %d is %.9g, without the cache %.9g", what, i, b[i], a[i]);
}

/* No cache, then a miss (the entry written), then a hit: the same bits. */
static void same_answer(const load_args *a)
{
    char *dir = make_dir();
    float *none = scores(a, NULL, "off");
    float *miss = scores(a, dir, "stored");
    float *hit = scores(a, dir, "hit");
    float *again = scores(a, dir, "hit");
    assert_same_bits(none, miss, "cache miss");
    assert_same_bits(none, hit, "cache hit");
    assert_same_bits(none, again, "second hit");
    /* one entry, no temporary file left */
    assert_int_equal(count_files(dir, NULL, 0), 1);
    free(none);
    free(miss);
    free(hit);
    free(again);
    remove_dir(dir);
}

static void test_same_bits_default_options(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_PRECISION_FLOAT32, 0};
    same_answer(&a);
    a.model = "tiny_recipe.pt"; /* its recipe comes back from the entry */
    same_answer(&a);
    a.model = "tiny.pt.gz";
    same_answer(&a);
    a.model = "tiny.pt";
    a.from_memory = 1;
    same_answer(&a);
}

static void test_same_bits_other_options(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT | IMGCLASS_OPTIMIZE_CHANNELS_LAST,
                   IMGCLASS_PRECISION_FLOAT32, 0};
    same_answer(&a);
    a.optimize = IMGCLASS_OPTIMIZE_DEFAULT | IMGCLASS_OPTIMIZE_BFLOAT16;
    same_answer(&a);
}

static void test_same_bits_bf16(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_PRECISION_BF16, 0};
    imgclass_model_options o = imgclass_model_options_default();
    o.precision = IMGCLASS_PRECISION_BF16;
    imgclass_model *m = NULL;
    if (imgclass_model_load(fx_model_path("tiny.pt"), &o, &m) == IMGCLASS_ERR_UNSUPPORTED)
        fx_skip("this CPU has no native bf16 (precision bf16 is refused)");
    imgclass_model_free(m);
    same_answer(&a);
}

/* Frozen but not optimised, tiny.pt's module saved and loaded back is not
 * the same graph (its recompiled code builds lists the frozen graph holds
 * as constants): no entry is written, so a hit cannot run another graph,
 * and the answer is the same. */
static void test_round_trip_that_changes_the_graph(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_FREEZE, IMGCLASS_PRECISION_FLOAT32, 0};
    char *dir = make_dir();
    float *none = scores(&a, NULL, "off");
    float *first = scores(&a, dir, "uncached: not cached: the saved frozen module, loaded back, "
                                   "optimises to another graph");
    float *second = scores(&a, dir, "uncached: not cached: the saved frozen module");
    assert_same_bits(none, first, "first load");
    assert_same_bits(none, second, "second load");
    assert_int_equal(count_files(dir, NULL, 0), 0);
    free(none);
    free(first);
    free(second);
    remove_dir(dir);
}

/* The recipe and the input size it sets are the same from the entry. */
static void test_recipe_from_the_entry(void **state)
{
    (void)state;
    char *dir = make_dir();
    imgclass_model_options o = imgclass_model_options_default();
    o.cache_dir = dir;
    const char *expect[] = {"stored", "hit"};
    char *json = NULL;
    for (int i = 0; i < 2; i++) {
        imgclass_model *m = NULL;
        assert_int_equal(imgclass_model_load(fx_model_path("tiny_recipe.pt"), &o, &m),
                         IMGCLASS_OK);
        assert_string_equal(imgclass_model_cache_state(m), expect[i]);
        int c, h, w;
        imgclass_model_input_size(m, &c, &h, &w);
        assert_int_equal(h, 12);
        assert_int_equal(w, 10);
        assert_string_equal(imgclass_model_label(m, 4), "e");
        assert_non_null(imgclass_model_recipe_json(m));
        if (!json)
            json = strdup(imgclass_model_recipe_json(m));
        else
            assert_string_equal(json, imgclass_model_recipe_json(m));
        imgclass_model_free(m);
    }
    free(json);
    remove_dir(dir);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *data = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void write_all(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* The end of an entry's header (just past its blank line). */
static size_t header_end(const unsigned char *entry, size_t size)
{
    for (size_t i = 0; i + 1 < size; i++)
        if (entry[i] == '\n' && entry[i + 1] == '\n')
            return i + 2;
    fail_msg("no header in the entry");
    return 0;
}

static size_t le16(const unsigned char *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8;
}

static size_t le32(const unsigned char *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* The offset, in a zip archive, of the data of its largest tensor (a
 * member .../data/N, or .../constants/N in a frozen module's archive,
 * which TorchScript stores uncompressed): a byte there is a weight. Read from the central directory (the local
 * headers of libtorch's archives leave the sizes to a data descriptor). */
static size_t largest_member(const unsigned char *zip, size_t size, size_t *len)
{
    size_t best = 0, best_len = 0;
    for (size_t p = 0; p + 46 <= size; p++) {
        if (memcmp(zip + p, "PK\001\002", 4) != 0)
            continue;
        size_t n = le32(zip + p + 20), local = le32(zip + p + 42), name_len = le16(zip + p + 28);
        char name[256];
        if (name_len >= sizeof name || p + 46 + name_len > size)
            continue;
        memcpy(name, zip + p + 46, name_len);
        name[name_len] = '\0';
        if ((!strstr(name, "/data/") && !strstr(name, "/constants/")) || n <= best_len || local + 30 > size ||
            memcmp(zip + local, "PK\003\004", 4) != 0)
            continue;
        size_t data = local + 30 + le16(zip + local + 26) + le16(zip + local + 28);
        if (data + n <= size) {
            best = data;
            best_len = n;
        }
    }
    assert_true(best_len > 0);
    *len = best_len;
    return best;
}

/* Rewrites the entry at `path` with `payload` as its archive and `engine`
 * as its engine line (NULL: keep it), with a valid size and CRC-32: an
 * entry the core accepts, for the engine to judge. */
static void forge_entry(const char *path, const void *payload, size_t size, const char *engine)
{
    size_t old_size;
    unsigned char *old = read_all(path, &old_size);
    char header[2048], key[1024], old_engine[256];
    assert_int_equal(sscanf((const char *)old, "imgclass-model-cache 1\nkey %1023[^\n]\nengine %255[^\n]\n",
                            key, old_engine),
                     2);
    unsigned long crc = crc32(crc32(0L, Z_NULL, 0), payload, (uInt)size);
    int n = snprintf(header, sizeof header,
                     "imgclass-model-cache 1\nkey %s\nengine %s\npayload %zu crc32 %08lx\n\n", key,
                     engine ? engine : old_engine, size, crc);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(header, 1, (size_t)n, f), (size_t)n);
    assert_int_equal(fwrite(payload, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    free(old);
}

/* Damages the entry with `damage`, then checks that the next load refuses
 * it with the reason `why`, answers as without a cache and writes a good
 * entry that the load after uses. */
typedef void (*damage_fn)(const char *entry, const unsigned char *good, size_t size);

static void rebuilt_after(damage_fn damage, const char *why)
{
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_PRECISION_FLOAT32, 0};
    char *dir = make_dir();
    char entry[8192];
    float *none = scores(&a, NULL, "off");
    free(scores(&a, dir, "stored"));
    count_files(dir, entry, sizeof entry);
    size_t size;
    unsigned char *good = read_all(entry, &size);
    damage(entry, good, size);
    char expect[512];
    snprintf(expect, sizeof expect, "replaced: %s", why);
    float *after = scores(&a, dir, expect);
    assert_same_bits(none, after, why);
    float *hit = scores(&a, dir, "hit");
    assert_same_bits(none, hit, "the hit after the rebuild");
    assert_int_equal(count_files(dir, NULL, 0), 1);
    free(good);
    free(none);
    free(after);
    free(hit);
    remove_dir(dir);
}

static void flip_a_weight(const char *entry, const unsigned char *good, size_t size)
{
    unsigned char *bad = malloc(size);
    assert_non_null(bad);
    memcpy(bad, good, size);
    size_t start = header_end(bad, size), len;
    size_t at = start + largest_member(bad + start, size - start, &len);
    bad[at + len / 2] ^= 0x40; /* in a weight: a load would give other scores */
    write_all(entry, bad, size);
    free(bad);
}

static void truncate_half(const char *entry, const unsigned char *good, size_t size)
{
    write_all(entry, good, size / 2);
}

static void truncate_in_header(const char *entry, const unsigned char *good, size_t size)
{
    (void)size;
    write_all(entry, good, 30);
}

static void empty(const char *entry, const unsigned char *good, size_t size)
{
    (void)good;
    (void)size;
    write_all(entry, "", 0);
}

static void another_key(const char *entry, const unsigned char *good, size_t size)
{
    unsigned char *bad = malloc(size);
    assert_non_null(bad);
    memcpy(bad, good, size);
    unsigned char *digit = (unsigned char *)strstr((char *)bad, "sha256:") + 7;
    *digit = *digit == '0' ? '1' : '0';
    write_all(entry, bad, size);
    free(bad);
}

static void another_engine(const char *entry, const unsigned char *good, size_t size)
{
    size_t start = header_end(good, size);
    forge_entry(entry, good + start, size - start, "libtorch 0.0.1");
}

/* Valid header and CRC-32, but the payload is the model's own archive, not
 * frozen: the engine must refuse it. */
static void not_frozen(const char *entry, const unsigned char *good, size_t size)
{
    (void)good;
    (void)size;
    size_t n;
    unsigned char *archive = fx_model_read("tiny.pt", &n);
    forge_entry(entry, archive, n, NULL);
    free(archive);
}

/* Valid header and CRC-32 around bytes that are no archive. */
static void not_an_archive(const char *entry, const unsigned char *good, size_t size)
{
    (void)good;
    (void)size;
    static const char not_zip[] = "PK\003\004 but nothing more";
    forge_entry(entry, not_zip, sizeof not_zip - 1, NULL);
}

static void test_damaged_entries_rebuilt(void **state)
{
    (void)state;
    rebuilt_after(flip_a_weight, "the entry its payload does not match its CRC-32");
    rebuilt_after(truncate_half, "the entry ");
    rebuilt_after(truncate_in_header, "the entry ");
    rebuilt_after(empty, "the entry not a cache entry");
    rebuilt_after(another_key, "the entry its key is not this load's");
    rebuilt_after(another_engine, "the entry made by libtorch 0.0.1");
    rebuilt_after(not_frozen, "the cache entry does not hold a frozen float module");
    rebuilt_after(not_an_archive, "libtorch could not load the cache entry");
}

/* A hit trusts its entry's shape check: an entry is made only by a load
 * whose batch-2 check passed, so a hit checks at batch 1, which is also its
 * first warm-up pass. Shown with an entry no load would make (forged): a
 * module that answers one row whatever the batch size. Its load is a hit;
 * the check at batch 2 would have refused it, as it does without a cache.
 * Its first batch of 4 then gets a named error, not a crash. */
static void test_hit_checks_at_batch_one(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_PRECISION_FLOAT32, 0};
    char *dir = make_dir();
    char entry[8192];
    free(scores(&a, dir, "stored"));
    count_files(dir, entry, sizeof entry);
    size_t n;
    unsigned char *one_row = fx_model_read("fixed_batch_frozen.pt", &n);
    forge_entry(entry, one_row, n, NULL);
    free(one_row);
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = o.input_width = 8;
    imgclass_model *m = NULL;
    o.cache_dir = dir;
    /* Its load fails the batch-2 check, and so makes no entry. */
    assert_int_equal(imgclass_model_load(fx_model_path("fixed_batch.pt"), &o, &m),
                     IMGCLASS_ERR_MODEL);
    assert_non_null(strstr(imgclass_last_error(), "expected [2, K]"));
    assert_int_equal(count_files(dir, NULL, 0), 1);
    if (imgclass_model_load(fx_model_path("tiny.pt"), &o, &m) != IMGCLASS_OK)
        fail_msg("a hit ran a check the entry had passed: %s", imgclass_last_error());
    assert_string_equal(imgclass_model_cache_state(m), "hit");
    float *input = fx_model_floats("tiny_input.f32", (size_t)N * 3 * 8 * 8);
    float out[N * 5];
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap(input, N, 8, 8, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, out, N * 5), IMGCLASS_ERR_ENGINE);
    assert_non_null(strstr(imgclass_last_error(), "expected [4, K]"));
    imgclass_batch_free(b);
    free(input);
    imgclass_model_free(m);
    remove_dir(dir);
}

/* Removes the files of `dir` and the folder itself (not freed). */
static void empty_and_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[8400];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* A folder that cannot be made or written: the load works, uncached. */
static void test_unwritable_folder(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_PRECISION_FLOAT32, 0};
    char *dir = make_dir();
    char file[8192], under[8300];
    snprintf(file, sizeof file, "%s/a-file", dir);
    write_all(file, "x", 1);
    snprintf(under, sizeof under, "%s/sub", file);
    float *none = scores(&a, NULL, "off");
    float *at_file = scores(&a, file, "uncached: ");
    float *under_file = scores(&a, under, "uncached: cannot create ");
    assert_same_bits(none, at_file, "cache_dir a file");
    assert_same_bits(none, under_file, "cache_dir under a file");
    /* Without write permission (root writes anyway: then it is stored). */
    char ro[8300];
    snprintf(ro, sizeof ro, "%s/read-only", dir);
    assert_int_equal(mkdir(ro, 0500), 0);
    float *read_only = scores(&a, ro, geteuid() == 0 ? "stored" : "uncached: cannot create ");
    assert_same_bits(none, read_only, "cache_dir read-only");
    chmod(ro, 0700);
    empty_and_remove(ro);
    free(none);
    free(at_file);
    free(under_file);
    free(read_only);
    remove_dir(dir);
}

/* A folder that does not exist yet is made, parents included. */
static void test_folder_created(void **state)
{
    (void)state;
    load_args a = {"tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_PRECISION_FLOAT32, 0};
    char *dir = make_dir();
    char deep[8192], mid[8192];
    snprintf(mid, sizeof mid, "%s/a", dir);
    snprintf(deep, sizeof deep, "%s/a/b", dir);
    free(scores(&a, deep, "stored"));
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    free(scores(&a, deep, "hit"));
    char entry[8192];
    count_files(deep, entry, sizeof entry);
    assert_int_equal(stat(entry, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(entry);
    rmdir(deep);
    rmdir(mid);
    remove_dir(dir);
}

/* Other bytes or other options: another key, another entry. */
static void test_changed_model_or_options(void **state)
{
    (void)state;
    char *dir = make_dir();
    char copy[8192], cache[8192];
    snprintf(copy, sizeof copy, "%s/model.pt", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    size_t size;
    unsigned char *tiny = fx_model_read("tiny.pt", &size);
    write_all(copy, tiny, size);
    imgclass_model_options o = imgclass_model_options_default();
    o.cache_dir = cache;
    o.input_height = o.input_width = 8;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(copy, &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "stored");
    imgclass_model_free(m);
    /* The same file with one byte of a weight changed: another model, with
     * an entry of its own and its own answers. */
    size_t len;
    size_t at = largest_member(tiny, size, &len);
    tiny[at + len / 2] ^= 0x01;
    write_all(copy, tiny, size);
    assert_int_equal(imgclass_model_load(copy, &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "stored");
    float *input = fx_model_floats("tiny_input.f32", (size_t)N * 3 * 8 * 8);
    float cached[N * 5], uncached[N * 5];
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap(input, N, 8, 8, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, cached, N * 5), IMGCLASS_OK);
    imgclass_model_free(m);
    o.cache_dir = NULL;
    assert_int_equal(imgclass_model_load(copy, &o, &m), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, uncached, N * 5), IMGCLASS_OK);
    imgclass_model_free(m);
    assert_memory_equal(cached, uncached, sizeof cached);
    assert_int_equal(count_files(cache, NULL, 0), 2);
    /* Options that shape the frozen module: another entry. */
    o.cache_dir = cache;
    o.optimize = IMGCLASS_OPTIMIZE_DEFAULT | IMGCLASS_OPTIMIZE_BFLOAT16;
    assert_int_equal(imgclass_model_load(copy, &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "stored");
    imgclass_model_free(m);
    assert_int_equal(count_files(cache, NULL, 0), 3);
    /* Another input size: another entry, since a hit skips the batch-2
     * shape check that its entry's load ran at its own size. */
    o.input_height = 16;
    o.input_width = 16;
    assert_int_equal(imgclass_model_load(copy, &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "stored");
    imgclass_model_free(m);
    assert_int_equal(imgclass_model_load(copy, &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "hit");
    imgclass_model_free(m);
    assert_int_equal(count_files(cache, NULL, 0), 4);
    imgclass_batch_free(b);
    free(input);
    free(tiny);
    empty_and_remove(cache);
    remove_dir(dir);
}

/* What is not cached says why, and still loads. */
static void test_uncached_models(void **state)
{
    (void)state;
    char *dir = make_dir();
    load_args a = {"tiny.pt", 0, IMGCLASS_PRECISION_FLOAT32, 0};
    free(scores(&a, dir, "uncached: nothing to cache"));
    assert_int_equal(count_files(dir, NULL, 0), 0);
    fx_model_require_int8(__func__);
    imgclass_model_options o = imgclass_model_options_default();
    o.cache_dir = dir;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny_int8.pt"), &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "uncached: a quantized model is not cached");
    imgclass_model_free(m);
    assert_int_equal(count_files(dir, NULL, 0), 0);
    remove_dir(dir);
}

/* A caller built before cache_dir (its struct ends at precision) has no
 * cache, whatever lies past its struct_size. */
static void test_older_caller_uncached(void **state)
{
    (void)state;
    char *dir = make_dir();
    imgclass_model_options o = imgclass_model_options_default();
    o.struct_size = offsetof(imgclass_model_options, cache_dir);
    o.cache_dir = dir; /* past its struct: never read */
    o.input_height = o.input_width = 8;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_cache_state(m), "off");
    imgclass_model_free(m);
    assert_int_equal(count_files(dir, NULL, 0), 0);
    remove_dir(dir);
}

static void test_state_of_null(void **state)
{
    (void)state;
    assert_null(imgclass_model_cache_state(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bits_default_options),
        cmocka_unit_test(test_same_bits_other_options),
        cmocka_unit_test(test_same_bits_bf16),
        cmocka_unit_test(test_round_trip_that_changes_the_graph),
        cmocka_unit_test(test_recipe_from_the_entry),
        cmocka_unit_test(test_damaged_entries_rebuilt),
        cmocka_unit_test(test_hit_checks_at_batch_one),
        cmocka_unit_test(test_unwritable_folder),
        cmocka_unit_test(test_folder_created),
        cmocka_unit_test(test_changed_model_or_options),
        cmocka_unit_test(test_uncached_models),
        cmocka_unit_test(test_older_caller_uncached),
        cmocka_unit_test(test_state_of_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
