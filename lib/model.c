/* Loading models (plain or gzipped TorchScript archives), their options,
 * labels and queries; the engine's thread pool and version. */
#include "model_internal.h"

#include "cpu_features.h"
#include "error.h"
#include "file_io.h"
#include "gzip.h"
#include "model_cache.h"
#include "struct_size.h"

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

IMGCLASS_API imgclass_status imgclass_model_options_init(imgclass_model_options *opts, size_t size)
{
    imgclass_model_options o;
    memset(&o, 0, sizeof o);
    o.device = "cpu";
    o.input_channels = 3;
    o.input_height = 0; /* 0 x 0: from the recipe, else 224 x 224 */
    o.input_width = 0;
    o.softmax = 1;
    o.optimize = IMGCLASS_OPTIMIZE_DEFAULT;
    o.warmup_runs = 1;
    o.max_model_bytes = IMGCLASS_DEFAULT_MAX_MODEL_BYTES;
    o.max_gzip_ratio = IMGCLASS_DEFAULT_MAX_GZIP_RATIO;
    o.precision = IMGCLASS_PRECISION_FLOAT32;
    return ic_struct_init(&ic_layout_model_options, opts, size, &o);
}

/* "cpu", "cuda" (device 0) or "cuda:N" with N a plain decimal number. */
static imgclass_status parse_device(const char *device, const char *source,
                                    ic_engine_config *config, char *name, size_t name_size)
{
    if (strcmp(device, "cpu") == 0) {
        snprintf(name, name_size, "cpu");
        return IMGCLASS_OK;
    }
    if (strcmp(device, "cuda") == 0) {
        config->device_is_cuda = 1;
        snprintf(name, name_size, "cuda:0");
        return IMGCLASS_OK;
    }
    if (strncmp(device, "cuda:", 5) == 0) {
        const char *digits = device + 5;
        size_t n = strspn(digits, "0123456789");
        if (n > 0 && n <= 4 && digits[n] == '\0') {
            config->device_is_cuda = 1;
            config->device_index = atoi(digits);
            snprintf(name, name_size, "cuda:%d", config->device_index);
            return IMGCLASS_OK;
        }
    }
    return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                   "device \"%.64s\" is not \"cpu\", \"cuda\" or \"cuda:N\"", device);
}

static imgclass_status check_options(const imgclass_model_options *o, const char *source)
{
    const unsigned known = IMGCLASS_OPTIMIZE_FREEZE | IMGCLASS_OPTIMIZE_FOR_INFERENCE |
                           IMGCLASS_OPTIMIZE_CHANNELS_LAST | IMGCLASS_OPTIMIZE_BFLOAT16 |
                           IMGCLASS_OPTIMIZE_QUANTIZE_INPUT;
    const int auto_size = o->input_height == 0 && o->input_width == 0;
    if (o->input_channels < 1 || (!auto_size && (o->input_height < 1 || o->input_width < 1)) ||
        o->input_channels > 64 || o->input_height > 16384 || o->input_width > 16384)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                       "input size %d x %d x %d (each dimension must be positive, or height and "
                       "width both 0 for the model's own; at most 64 channels and 16384 pixels "
                       "a side)",
                       o->input_channels, o->input_height, o->input_width);
    if (o->optimize & ~known)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "unknown optimisation flags 0x%x",
                       o->optimize & ~known);
    if (o->qengine && strcmp(o->qengine, "onednn") != 0 && strcmp(o->qengine, "qnnpack") != 0 &&
        strcmp(o->qengine, "fbgemm") != 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                       "quantized engine \"%.32s\" is not \"onednn\", \"qnnpack\" or \"fbgemm\"",
                       o->qengine);
    /* Read as an int: a caller may have stored any value in the enum. */
    const int precision = (int)o->precision;
    if (precision != IMGCLASS_PRECISION_FLOAT32 && precision != IMGCLASS_PRECISION_BF16)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                       "precision %d is not IMGCLASS_PRECISION_FLOAT32 (0) or "
                       "IMGCLASS_PRECISION_BF16 (1)",
                       precision);
    if (o->warmup_runs < 0 || o->warmup_runs > 1000)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "warmup_runs %d not in 0..1000",
                       o->warmup_runs);
    return IMGCLASS_OK;
}

/* What the engine's extra-file callback needs and finds. */
typedef struct recipe_ctx {
    const char *source;
    int auto_size;     /* the caller left the input size to the model */
    ic_recipe *recipe; /* parsed, or NULL */
    int height, width; /* the input size the engine runs at */
} recipe_ctx;

/* Parses the archive's imgclass.json (when present) before the shape
 * check, so the check already runs at the size the recipe produces. */
static imgclass_status on_recipe(void *vctx, const char *data, size_t size, int *height,
                                 int *width)
{
    recipe_ctx *ctx = vctx;
    if (data) {
        imgclass_status st = ic_recipe_parse(data, size, ctx->source, &ctx->recipe);
        if (st != IMGCLASS_OK)
            return st;
    }
    if (ctx->auto_size && ctx->recipe) { /* else the 224 x 224 already set */
        int h, w;
        if (!ic_recipe_input_size(ctx->recipe, &h, &w))
            return ic_fail(IMGCLASS_ERR_MODEL, ctx->source,
                           "recipe " IC_RECIPE_FILE " gives no fixed input size (no crop, "
                           "no exact resize); give the input size in the model options");
        if (h > 16384 || w > 16384)
            return ic_fail(IMGCLASS_ERR_MODEL, ctx->source,
                           "recipe " IC_RECIPE_FILE " gives an input of %d x %d (at most "
                           "16384 a side)",
                           h, w);
        *height = h;
        *width = w;
    }
    ctx->height = *height;
    ctx->width = *width;
    return IMGCLASS_OK;
}

/* A model file starts with the gzip or the zip magic: anything else (a
 * photo, /dev/zero) is refused after its first bytes, before megabytes
 * of it are read. Shorter files are left to load_model's own check. */
static imgclass_status model_head(const unsigned char *head, size_t n, const char *path)
{
    if (n < 4 || ic_is_gzip(head, n) || memcmp(head, "PK\003\004", 4) == 0)
        return IMGCLASS_OK;
    return ic_fail(IMGCLASS_ERR_MODEL, path, "not a TorchScript archive (no zip or gzip header)");
}

static size_t max_model_size(const imgclass_model_options *o)
{
    return o->max_model_bytes > SIZE_MAX ? SIZE_MAX : (size_t)o->max_model_bytes;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* The options that shape the frozen module, as one line of the model
 * cache's key (lib/model_cache.h). */
static void cache_options(const imgclass_model_options *o, char *out, size_t size)
{
    char isa[64];
    /* The input size too, though the frozen module does not depend on it:
     * a hit skips the shape check that the entry's load ran at its size
     * (0 x 0 is the recipe's, which the model bytes fix). */
    snprintf(out, size, "optimize 0x%x; precision %d; device %.32s; cpu %s; input %dx%dx%d",
             o->optimize, (int)o->precision, o->device ? o->device : "cpu",
             ic_cpu_vector_isa(isa, sizeof isa), o->input_channels, o->input_height,
             o->input_width);
}

/* imgclass_model_cache_state() of a load: what the cache lookup and the
 * engine did. */
static void describe_cache(const ic_model_cache *c, const ic_engine_description *d, char *out,
                           size_t size)
{
    const char *engine_note = d->cache_note ? d->cache_note : "no entry was made";
    if (!c->dir)
        snprintf(out, size, "off");
    else if (d->cache == IC_ENGINE_CACHE_HIT)
        snprintf(out, size, "hit");
    else if (c->stored && c->refused[0])
        snprintf(out, size, "replaced: the entry %s", c->refused);
    else if (c->stored && d->cache_refused)
        snprintf(out, size, "replaced: %s", engine_note);
    else if (c->stored)
        snprintf(out, size, "stored");
    else if (d->cache == IC_ENGINE_CACHE_MADE)
        snprintf(out, size, "uncached: %s", c->write_error[0] ? c->write_error : "not written");
    else
        snprintf(out, size, "uncached: %s", c->write_error[0] ? c->write_error : engine_note);
}

static imgclass_status load_model(const void *data, size_t size, const char *source,
                                  const imgclass_model_options *options, ic_model_cache *cache,
                                  imgclass_model **out)
{
    imgclass_model_options defaults = imgclass_model_options_default();
    const imgclass_model_options *o = options ? options : &defaults;
    imgclass_status st = check_options(o, source);
    if (st != IMGCLASS_OK)
        return st;
    ic_engine_config config;
    memset(&config, 0, sizeof config);
    char device[24];
    st = parse_device(o->device ? o->device : "cpu", source, &config, device, sizeof device);
    if (st != IMGCLASS_OK)
        return st;
    config.input_channels = o->input_channels;
    /* 0 x 0: the recipe's size, which on_recipe() sets; 224 x 224 for a
     * model without one (or an engine that reads no extra files). */
    const int auto_size = o->input_height == 0 && o->input_width == 0;
    config.input_height = auto_size ? 224 : o->input_height;
    config.input_width = auto_size ? 224 : o->input_width;
    config.softmax = o->softmax;
    config.optimize = o->optimize;
    config.warmup_runs = o->warmup_runs;
    recipe_ctx rctx = {source, auto_size, NULL, config.input_height, config.input_width};
    config.extra_file = IC_RECIPE_FILE;
    config.on_extra_file = on_recipe;
    config.extra_ctx = &rctx;
    config.qengine = o->qengine;
    config.precision = (int)o->precision;
    /* Only the CPU's arithmetic is ours to judge; the engine refuses a float
     * model with this phrase (an int8 one ignores the precision). */
    if (o->precision == IMGCLASS_PRECISION_BF16 && !config.device_is_cuda)
        config.bf16_missing = ic_cpu_bf16_missing();

    /* Recognised by content: gzip magic, then a TorchScript archive is a zip
     * whose first local header starts "PK\3\4". */
    unsigned char *plain = NULL;
    const double gunzip_started = now_ms();
    if (ic_is_gzip(data, size)) {
        st = ic_gunzip(data, size, max_model_size(o), o->max_gzip_ratio, source, &plain, &size);
        if (st != IMGCLASS_OK)
            return st;
        data = plain;
    }
    if (size < 4 || memcmp(data, "PK\003\004", 4) != 0) {
        free(plain);
        return ic_fail(IMGCLASS_ERR_MODEL, source,
                       "not a TorchScript archive (no zip or gzip header)");
    }
    imgclass_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(plain);
        return ic_error_oom(source, "model");
    }
    m->load_ms[IMGCLASS_LOAD_READ] = now_ms() - gunzip_started; /* the file read adds to it */
    int num_classes = 0;
    /* The engine's start, timed on its own (ic_engine_load() would start
     * it too): the first load of a process pays it, later ones do not. */
    const double started = now_ms();
    st = ic_engine_start(source);
    m->load_ms[IMGCLASS_LOAD_ENGINE_START] = now_ms() - started;
    if (st == IMGCLASS_OK && cache->dir) {
        ic_model_cache_engine(cache, ic_engine_version());
        config.cached = cache->payload;
        config.cached_size = cache->payload_size;
        config.on_cache_entry = ic_model_cache_store;
        config.cache_ctx = cache;
    }
    if (st == IMGCLASS_OK)
        st = ic_engine_load(data, size, source, &config, &m->engine, &num_classes);
    free(plain);
    if (st == IMGCLASS_OK && rctx.recipe && rctx.recipe->labels &&
        rctx.recipe->labels->count != num_classes)
        st = ic_fail(IMGCLASS_ERR_MODEL, source,
                     "recipe " IC_RECIPE_FILE ": field \"labels\": %d labels but the model "
                     "has %d classes",
                     rctx.recipe->labels->count, num_classes);
    if (st != IMGCLASS_OK) {
        ic_engine_free(m->engine);
        ic_recipe_free(rctx.recipe);
        free(m);
        return st;
    }
    m->recipe = rctx.recipe;
    if (m->recipe) { /* its labels become the model's; load_labels replaces them */
        m->labels = m->recipe->labels;
        m->recipe->labels = NULL;
    }
    m->channels = o->input_channels;
    m->height = rctx.height; /* as resolved by on_recipe() */
    m->width = rctx.width;
    m->num_classes = num_classes;
    m->softmax = o->softmax;
    ic_engine_describe(m->engine, &m->described);
    m->load_ms[IMGCLASS_LOAD_DESERIALIZE] = m->described.deserialize_ms;
    m->load_ms[IMGCLASS_LOAD_OPTIMIZE] = m->described.optimize_ms;
    m->load_ms[IMGCLASS_LOAD_CHECK] = m->described.check_ms;
    m->load_ms[IMGCLASS_LOAD_WARMUP] = m->described.warmup_ms;
    m->load_ms[IMGCLASS_LOAD_CACHE] = cache->ms + m->described.cache_entry_ms;
    m->load_ms[IMGCLASS_LOAD_FREEZE] = m->described.freeze_ms;
    describe_cache(cache, &m->described, m->cache_state, sizeof m->cache_state);
    memcpy(m->device, device, sizeof m->device);
    *out = m;
    return IMGCLASS_OK;
}

/* The engine's start (loading the module, libtorch's initialisers: most of
 * a first load) needs nothing from the file, so it runs on a thread while
 * the caller's thread reads the file. A failure is not reported from here:
 * load_model() asks again on the caller's thread, which searches again and
 * reports it there, naming the model. */
static void *start_engine(void *unused)
{
    (void)unused;
    ic_engine_start("imgclass");
    return NULL;
}

IMGCLASS_API imgclass_status imgclass_model_load(const char *path,
                                                 const imgclass_model_options *options,
                                                 imgclass_model **out)
{
    if (!path || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_model_load", "NULL %s",
                       path ? "out" : "path");
    *out = NULL;
    imgclass_model_options local = imgclass_model_options_default();
    imgclass_status st = ic_read_model_options(&options, &local, "imgclass_model_options");
    if (st != IMGCLASS_OK)
        return st;
    unsigned char *data;
    size_t size, mapped;
    imgclass_model_options defaults = imgclass_model_options_default();
    const double started = now_ms();
    pthread_t starter;
    const int starting = !ic_engine_started() &&
                         pthread_create(&starter, NULL, start_engine, NULL) == 0;
    const imgclass_model_options *o = options ? options : &defaults;
    st = ic_read_file_huge(path, max_model_size(o), model_head, &data, &size, &mapped);
    const double read = now_ms() - started;
    /* The cache's hashing and reading need no engine either: done while
     * it starts. */
    ic_model_cache cache;
    char key[256];
    cache_options(o, key, sizeof key);
    ic_model_cache_open(&cache, st == IMGCLASS_OK ? o->cache_dir : NULL, data, size, key);
    const double before_join = now_ms();
    if (starting)
        pthread_join(starter, NULL);
    const double waited = now_ms() - before_join; /* the engine start left after those */
    if (st != IMGCLASS_OK)
        return st;
    st = load_model(data, size, path, options, &cache, out);
    ic_model_cache_close(&cache);
    ic_file_data_free(data, mapped);
    if (st == IMGCLASS_OK) {
        (*out)->load_ms[IMGCLASS_LOAD_READ] += read;
        (*out)->load_ms[IMGCLASS_LOAD_ENGINE_START] += waited;
        (*out)->load_ms[IMGCLASS_LOAD_TOTAL] = now_ms() - started;
    }
    return st;
}

IMGCLASS_API imgclass_status imgclass_model_load_memory(const void *data, size_t size,
                                                        const imgclass_model_options *options,
                                                        imgclass_model **out)
{
    if (!data || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer", "NULL %s",
                       data ? "out" : "data");
    *out = NULL;
    imgclass_model_options local = imgclass_model_options_default();
    imgclass_status st = ic_read_model_options(&options, &local, "imgclass_model_options");
    if (st != IMGCLASS_OK)
        return st;
    const double started = now_ms();
    imgclass_model_options defaults = imgclass_model_options_default();
    const imgclass_model_options *o = options ? options : &defaults;
    ic_model_cache cache;
    char key[256];
    cache_options(o, key, sizeof key);
    ic_model_cache_open(&cache, o->cache_dir, data, size, key);
    st = load_model(data, size, "memory buffer", options, &cache, out);
    ic_model_cache_close(&cache);
    if (st == IMGCLASS_OK)
        (*out)->load_ms[IMGCLASS_LOAD_TOTAL] = now_ms() - started;
    return st;
}

static imgclass_status attach_labels(imgclass_model *model, const void *data, size_t size,
                                     const char *source)
{
    ic_labels *labels;
    imgclass_status st = ic_labels_parse_expect(data, size, source, model->num_classes, &labels);
    if (st != IMGCLASS_OK)
        return st;
    if (labels->count != model->num_classes) {
        int n = labels->count;
        ic_labels_free(labels);
        return ic_fail(IMGCLASS_ERR_LABELS, source, "%d labels but the model has %d classes", n,
                       model->num_classes);
    }
    ic_labels_free(model->labels);
    model->labels = labels;
    return IMGCLASS_OK;
}

IMGCLASS_API imgclass_status imgclass_model_load_labels(imgclass_model *model, const char *path)
{
    if (!model || !path)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_model_load_labels", "NULL %s",
                       model ? "path" : "model");
    unsigned char *data;
    size_t size;
    imgclass_status st = ic_read_file(path, IC_LABELS_MAX_BYTES, &data, &size);
    if (st != IMGCLASS_OK)
        return st;
    st = attach_labels(model, data, size, path);
    free(data);
    return st;
}

IMGCLASS_API imgclass_status imgclass_model_load_labels_memory(imgclass_model *model,
                                                               const void *data, size_t size)
{
    if (!model || !data)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer", "NULL %s",
                       model ? "data" : "model");
    return attach_labels(model, data, size, "memory buffer");
}

IMGCLASS_API int imgclass_model_num_classes(const imgclass_model *model)
{
    return model ? model->num_classes : 0;
}

IMGCLASS_API void imgclass_model_input_size(const imgclass_model *model, int *channels,
                                            int *height, int *width)
{
    if (channels)
        *channels = model ? model->channels : 0;
    if (height)
        *height = model ? model->height : 0;
    if (width)
        *width = model ? model->width : 0;
}

IMGCLASS_API const char *imgclass_model_device(const imgclass_model *model)
{
    return model ? model->device : NULL;
}

IMGCLASS_API int imgclass_model_is_quantized(const imgclass_model *model)
{
    return model ? model->described.quantized : 0;
}

IMGCLASS_API const char *imgclass_model_qengine(const imgclass_model *model)
{
    return model ? model->described.qengine : NULL;
}

IMGCLASS_API const char *imgclass_model_precision(const imgclass_model *model)
{
    if (!model)
        return NULL;
    if (model->described.quantized)
        return "int8";
    return model->described.bfloat16 ? "bf16" : "float32";
}

IMGCLASS_API unsigned imgclass_model_optimize(const imgclass_model *model)
{
    return model ? model->described.optimize : 0u;
}

IMGCLASS_API double imgclass_model_load_ms(const imgclass_model *model, imgclass_load_step step)
{
    if (!model || (int)step < 0 || (int)step > IMGCLASS_LOAD_FREEZE)
        return -1;
    return model->load_ms[step];
}

IMGCLASS_API const char *imgclass_model_cache_state(const imgclass_model *model)
{
    return model ? model->cache_state : NULL;
}

IMGCLASS_API const char *imgclass_model_label(const imgclass_model *model, int index)
{
    if (!model || !model->labels || index < 0 || index >= model->labels->count)
        return NULL;
    return model->labels->label[index];
}

IMGCLASS_API const char *imgclass_model_label_id(const imgclass_model *model, int index)
{
    if (!model || !model->labels || index < 0 || index >= model->labels->count)
        return NULL;
    return model->labels->id[index];
}

IMGCLASS_API int imgclass_model_has_recipe(const imgclass_model *model)
{
    return model && model->recipe ? 1 : 0;
}

IMGCLASS_API const char *imgclass_model_recipe_json(const imgclass_model *model)
{
    return model && model->recipe ? model->recipe->json : NULL;
}

IMGCLASS_API imgclass_status imgclass_model_preprocess_options(const imgclass_model *model,
                                                               imgclass_preprocess_options *out)
{
    if (!model || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_model_preprocess_options",
                       "NULL %s", model ? "out" : "model");
    /* Only the caller's struct_size bytes are written. */
    imgclass_status st = ic_struct_check_out(&ic_layout_preprocess_options, out,
                                             "imgclass_model_preprocess_options: out");
    if (st != IMGCLASS_OK)
        return st;
    imgclass_preprocess_options o =
        model->recipe ? model->recipe->options : imgclass_preprocess_options_default();
    ic_struct_write(&ic_layout_preprocess_options, &o, out);
    return IMGCLASS_OK;
}

IMGCLASS_API void imgclass_model_free(imgclass_model *model)
{
    if (!model)
        return;
    ic_engine_free(model->engine);
    ic_labels_free(model->labels);
    ic_recipe_free(model->recipe);
    free(model);
}

IMGCLASS_API imgclass_status imgclass_set_num_threads(int n)
{
    if (n < 1)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_set_num_threads",
                       "%d threads (must be >= 1)", n);
    return ic_engine_set_num_threads(n);
}

IMGCLASS_API int imgclass_get_num_threads(void)
{
    return ic_engine_get_num_threads();
}

IMGCLASS_API const char *imgclass_engine_version(void)
{
    return ic_engine_version();
}
