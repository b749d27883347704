/* JSON bodies of the inference API; see responses.h. */
#include "responses.h"

#include "json_buf.h"

#include <stdio.h>

int resp_http_status(imgclass_status status)
{
    switch (status) {
    case IMGCLASS_OK:
        return 200;
    case IMGCLASS_ERR_CORRUPT:
    case IMGCLASS_ERR_UNSUPPORTED:
    case IMGCLASS_ERR_TOO_LARGE:
    case IMGCLASS_ERR_INVALID_ARGUMENT:
    case IMGCLASS_ERR_IO:
        return 400;
    case IMGCLASS_ERR_CLOSED:
    case IMGCLASS_ERR_BUSY:
        return 503;
    default:
        return 500;
    }
}

char *resp_error(int code, const char *type, const char *message, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fprintf(b.f, "{\n  \"code\": %d,\n  \"type\": ", code);
    json_buf_string(&b, type);
    fputs(",\n  \"message\": ", b.f);
    json_buf_string(&b, message);
    fputs("\n}\n", b.f);
    return json_buf_finish(&b, len);
}

char *resp_predictions_torchserve(const imgclass_class *top, int k, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{", b.f);
    for (int i = 0; i < k; i++) {
        fputs(i ? ",\n  " : "\n  ", b.f);
        if (top[i].label)
            json_buf_string(&b, top[i].label);
        else
            fprintf(b.f, "\"%d\"", top[i].index);
        fputs(": ", b.f);
        json_buf_float(&b, top[i].score);
    }
    fputs(k ? "\n}\n" : "}\n", b.f);
    return json_buf_finish(&b, len);
}

char *resp_predictions_imgclass(const char *model, const imgclass_class *top, int k,
                                const resp_timing *t, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\"model\": ", b.f);
    json_buf_string(&b, model);
    fputs(", \"top\": [", b.f);
    for (int i = 0; i < k; i++) {
        fprintf(b.f, "%s{\"index\": %d, \"label\": ", i ? ", " : "", top[i].index);
        json_buf_string(&b, top[i].label);
        fputs(", \"probability\": ", b.f);
        json_buf_float(&b, top[i].score);
        fputs("}", b.f);
    }
    fprintf(b.f, "], \"batch_size\": %d, \"queued_us\": %.0f, \"preprocess_us\": %.0f, "
                 "\"forward_us\": %.0f, \"latency_us\": %.0f}\n",
            t->batch_size, t->queued_us, t->preprocess_us, t->forward_us, t->total_us);
    return json_buf_finish(&b, len);
}

char *resp_ping(size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\n  \"status\": \"Healthy\"\n}\n", b.f);
    return json_buf_finish(&b, len);
}

char *resp_models(served_model *const *ms, int n, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("{\n  \"models\": [", b.f);
    for (int i = 0; i < n; i++) {
        fputs(i ? ",\n    {\"modelName\": " : "\n    {\"modelName\": ", b.f);
        json_buf_string(&b, ms[i]->name);
        fputs(", \"modelUrl\": ", b.f);
        json_buf_string(&b, ms[i]->path);
        fputs("}", b.f);
    }
    fputs(n ? "\n  ]\n}\n" : "]\n}\n", b.f);
    return json_buf_finish(&b, len);
}

char *resp_model(const served_model *m, size_t *len)
{
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    if (!m->pipeline || imgclass_pipeline_stats_get(m->pipeline, &s) != IMGCLASS_OK)
        s.queue_depth = 0;
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fputs("[\n  {\n    \"modelName\": ", b.f);
    json_buf_string(&b, m->name);
    fputs(",\n    \"modelVersion\": ", b.f);
    json_buf_string(&b, m->version);
    fputs(",\n    \"modelUrl\": ", b.f);
    json_buf_string(&b, m->path);
    fprintf(b.f, ",\n    \"runtime\": \"imgclass %s (%s)\",\n", imgclass_version(),
            imgclass_engine_version());
    fprintf(b.f, "    \"device\": ");
    json_buf_string(&b, imgclass_model_device(m->model));
    fprintf(b.f, ",\n    \"precision\": ");
    json_buf_string(&b, imgclass_model_precision(m->model));
    fprintf(b.f, ",\n    \"batchSize\": %d,\n    \"maxBatchDelay\": %d,\n"
                 "    \"loadedAtStartup\": %s,\n"
                 "    \"input\": {\"channels\": %d, \"height\": %d, \"width\": %d},\n"
                 "    \"classes\": %d,\n    \"labels\": ",
            m->batch, m->max_batch_delay_ms, m->loaded_at_startup ? "true" : "false", m->channels, m->height, m->width, m->num_classes);
    json_buf_string(&b, m->labels);
    fprintf(b.f, ",\n    \"queueCapacity\": %d,\n    \"queueDepth\": %llu\n  }\n]\n", m->queue,
            (unsigned long long)s.queue_depth);
    return json_buf_finish(&b, len);
}

char *resp_api_description(served_model *const *ms, int n, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    fprintf(b.f,
            "{\n  \"openapi\": \"3.0.1\",\n"
            "  \"info\": {\"title\": \"imgclass-serve inference API (TorchServe-compatible)\", "
            "\"version\": \"%s\"},\n  \"paths\": {\n"
            "    \"/\": {\"get\": {\"description\": \"A web page to classify an image.\"}, "
            "\"options\": {\"description\": \"This description.\"}},\n"
            "    \"/ping\": {\"get\": {\"description\": \"Health: {\\\"status\\\": "
            "\\\"Healthy\\\"}.\"}},\n"
            "    \"/models\": {\"get\": {\"description\": \"The models served.\"}},\n"
            "    \"/models/{model_name}\": {\"get\": {\"description\": \"Describes a model: "
            "input size, classes, batch settings, queue depth.\"}},\n"
            "    \"/predictions/{model_name}\": {\"post\": {\"description\": \"Classifies the "
            "image in the body (raw, or multipart/form-data field data or file). Query: "
            "topk (default 5), format=imgclass for the detailed answer.\"}},\n"
            "    \"/predictions/{model_name}/{model_version}\": {\"post\": {\"description\": "
            "\"As above; only the version served now (" SERVE_MODEL_VERSION " for a start-up model; see GET /models/{model_name}).\"}}\n  },\n"
            "  \"x-models\": [",
            imgclass_version());
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", b.f);
        json_buf_string(&b, ms[i]->name);
    }
    fputs("]\n}\n", b.f);
    return json_buf_finish(&b, len);
}
